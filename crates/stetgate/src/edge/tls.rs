//! The server's TLS: rustls (TLS 1.2 and 1.3), ALPN for HTTP/2 and HTTP/1.1, and *optional* client
//! authentication. The accept loop that uses it is [`super::listener`].
//!
//! Client authentication is optional because the PSU's browser reaches `/stet/psd2/oauth/authorize`
//! with no certificate, while every TPP route needs a QWAC. The handshake accepts any client
//! certificate whose holder proves possession of its key; whether that certificate is acceptable
//! (chains to a QTSP anchor, is valid now, carries the PSD2 roles a route needs) is decided per
//! route by the application, which can then answer 401/403 with a STET error saying which check
//! failed, instead of a bare TLS alert the TPP cannot diagnose. The chain is handed to every
//! request of the connection as a [`ConnectionInfo`] extension.

use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, UnixTime, pem::PemObject};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls::{DigitallySignedStruct, DistinguishedName, RootCertStore, ServerConfig, SignatureScheme};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

/// What the TLS layer knows about the connection a request arrived on.
#[derive(Debug, Clone)]
pub struct ConnectionInfo {
    /// The client's address: the connection's, or the one a trusted gateway's PROXY header names.
    pub peer: SocketAddr,
    /// The gateway's address, when the client's came in a PROXY header.
    pub via: Option<SocketAddr>,
    /// The client's certificate chain, end-entity first; `None` when it sent none.
    pub client_chain: Option<Arc<Vec<CertificateDer<'static>>>>,
}

#[derive(Debug, thiserror::Error)]
pub enum TlsSetupError {
    #[error("{path}: {problem}")]
    File { path: String, problem: String },
    #[error("TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
}

fn file_error(path: &Path, problem: impl ToString) -> TlsSetupError {
    TlsSetupError::File { path: path.display().to_string(), problem: problem.to_string() }
}

/// Reads every certificate of a PEM file; an empty or unreadable file is an error.
pub fn read_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsSetupError> {
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| file_error(path, e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| file_error(path, e))?;
    if certs.is_empty() {
        return Err(file_error(path, "contains no PEM certificate"));
    }
    Ok(certs)
}

/// The trust anchors as a root store (used for client-certificate hints today, for QWAC chain
/// checks by the application).
pub fn trust_anchor_store(bundles: &[&Path]) -> Result<RootCertStore, TlsSetupError> {
    let mut roots = RootCertStore::empty();
    for path in bundles {
        for cert in read_certificates(path)? {
            roots.add(cert).map_err(|e| file_error(path, format!("not a usable trust anchor: {e}")))?;
        }
    }
    Ok(roots)
}

/// Pairs a certificate chain with its private key (from a PEM file) as rustls serves them.
pub fn certified_key(chain: Vec<CertificateDer<'static>>, key: &Path) -> Result<Arc<CertifiedKey>, TlsSetupError> {
    let key_der = PrivateKeyDer::from_pem_file(key).map_err(|e| file_error(key, e))?;
    let provider = rustls::crypto::aws_lc_rs::default_provider();
    CertifiedKey::from_der(chain, key_der, &provider)
        .map(Arc::new)
        .map_err(|e| file_error(key, format!("{e} (does the key match the certificate?)")))
}

/// Serves one certificate whatever the client asks for.
#[derive(Debug)]
pub struct FixedCertificate(pub Arc<CertifiedKey>);

impl ResolvesServerCert for FixedCertificate {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.clone())
    }
}

/// Builds the server's TLS configuration: its certificate(s), and the trust anchors offered as
/// client-certificate hints.
pub fn server_config(
    identity: Arc<dyn ResolvesServerCert>,
    anchors: &RootCertStore,
) -> Result<ServerConfig, TlsSetupError> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let verifier = Arc::new(OptionalClientCertificate {
        hints: anchors.subjects(),
        algorithms: provider.signature_verification_algorithms,
    });
    let mut config = ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
        .with_client_cert_verifier(verifier)
        .with_cert_resolver(identity);
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// Asks for a client certificate, accepts a connection without one, and checks only that a client
/// presenting one holds its private key (the handshake signature). Trust is the application's call.
#[derive(Debug)]
struct OptionalClientCertificate {
    hints: Vec<DistinguishedName>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ClientCertVerifier for OptionalClientCertificate {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        false
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &self.hints
    }

    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// Makes sure the process-wide rustls provider is the one stetgate is built with, for components
/// (such as database TLS) that ask rustls for its default.
pub fn install_crypto_provider() {
    let _ = CryptoProvider::install_default(rustls::crypto::aws_lc_rs::default_provider());
}
