//! The TPP side of a STET PSD2 exchange: an HTTPS client for AISPs and CBPIIs.
//!
//! It holds what every call needs: the bank's CA to trust, the TPP's QWAC for mutual TLS, the
//! per-bank host (`www.<bankcode>....`; names under `.localhost` go to loopback, as curl and browsers
//! do), HTTP/1.1 or HTTP/2, TLS 1.2 or 1.3, a fresh `X-Request-ID` on every request, and the STET
//! HTTP signature with the QSealC ([`TppClient::signed`]). The OAuth2 redirect flow and typed
//! resource calls build on it.
#![forbid(unsafe_code)]
// Rooms stay small: a function past `too-many-lines-threshold` (clippy.toml) is split.
#![warn(clippy::too_many_lines)]

use std::net::SocketAddr;
use std::time::Duration;

pub use oauth::{AuthorizationRequest, FlowEnd, Pkce, PsuAnswers, Redirected, Tokens};
pub use signing::{SignedRequest, Signer};

pub mod bench;
mod oauth;
pub mod pages;
mod pis;
mod signing;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("signing: {0}")]
    Signing(#[from] eidas::signature::SignatureError),
    #[error("certificate or key PEM is not usable: {0}")]
    Pem(String),
    #[error("HTTP client: {0}")]
    Http(#[from] reqwest::Error),
    #[error("base URL {0:?} is not an https:// URL")]
    BaseUrl(String),
    #[error("authorization flow: {0}")]
    Flow(String),
}

/// Which HTTP version to speak.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum HttpVersion {
    /// HTTP/2 when the server offers it (ALPN), HTTP/1.1 otherwise.
    #[default]
    Negotiate,
    Http1Only,
}

/// Which TLS versions to offer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TlsVersions {
    #[default]
    Any,
    Only12,
    Only13,
}

/// How to reach one bank.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// `https://www.17515.sandbox.localhost:8443` (no trailing slash needed).
    pub base_url: String,
    /// PEM of the CA(s) the bank's server certificate chains to; the system roots are not used.
    pub ca_pem: Vec<u8>,
    /// The QWAC for mutual TLS: certificate chain PEM and PKCS#8 key PEM.
    pub qwac: Option<(Vec<u8>, Vec<u8>)>,
    /// Send requests for this host name to this address instead of resolving it. Without it, a
    /// host under `.localhost` goes to 127.0.0.1.
    pub resolve: Option<(String, SocketAddr)>,
    /// The QSealC signer for [`TppClient::signed`].
    pub signer: Option<Signer>,
    pub http: HttpVersion,
    pub tls: TlsVersions,
    pub timeout: Duration,
    /// Never reuse a connection: every request makes a new TLS handshake (to measure handshakes).
    pub new_connection_per_request: bool,
}

impl ClientConfig {
    pub fn new(base_url: impl Into<String>, ca_pem: impl Into<Vec<u8>>) -> Self {
        ClientConfig {
            base_url: base_url.into(),
            ca_pem: ca_pem.into(),
            qwac: None,
            resolve: None,
            signer: None,
            http: HttpVersion::default(),
            tls: TlsVersions::default(),
            timeout: Duration::from_secs(30),
            new_connection_per_request: false,
        }
    }
}

/// A client bound to one bank's base URL.
#[derive(Debug, Clone)]
pub struct TppClient {
    http: reqwest::Client,
    base_url: String,
    signer: Option<Signer>,
}

impl TppClient {
    pub fn new(config: ClientConfig) -> Result<TppClient, ClientError> {
        if !config.base_url.starts_with("https://") {
            return Err(ClientError::BaseUrl(config.base_url));
        }
        let mut builder = reqwest::Client::builder().tls_certs_only(
            reqwest::Certificate::from_pem_bundle(&config.ca_pem).map_err(|e| ClientError::Pem(e.to_string()))?,
        );
        // Redirects are answers to read (the authorization flow ends in one), never to follow.
        builder = builder.timeout(config.timeout).no_proxy().redirect(reqwest::redirect::Policy::none());
        if let Some((cert, key)) = &config.qwac {
            let mut pem = cert.clone();
            pem.push(b'\n');
            pem.extend_from_slice(key);
            builder = builder.identity(reqwest::Identity::from_pem(&pem).map_err(|e| ClientError::Pem(e.to_string()))?);
        }
        if let Some((host, addr)) = &config.resolve {
            builder = builder.resolve(host, *addr);
        } else if let Some(host) = localhost_name(&config.base_url) {
            // RFC 6761: .localhost names are loopback; not every system resolver knows it.
            builder = builder.resolve(&host, SocketAddr::from(([127, 0, 0, 1], 0)));
        }
        if config.new_connection_per_request {
            builder = builder.pool_max_idle_per_host(0);
        }
        if config.http == HttpVersion::Http1Only {
            builder = builder.http1_only();
        }
        builder = match config.tls {
            TlsVersions::Any => builder,
            TlsVersions::Only12 => builder.tls_version_max(reqwest::tls::Version::TLS_1_2),
            TlsVersions::Only13 => builder.tls_version_min(reqwest::tls::Version::TLS_1_3),
        };
        Ok(TppClient {
            http: builder.build()?,
            base_url: config.base_url.trim_end_matches('/').to_owned(),
            signer: config.signer,
        })
    }

    /// A request signed the STET way on `send()`: X-Request-ID, Digest when there is a body, and the
    /// Signature over `(request-target)`, `x-request-id`, `digest` and every `psu-*` header.
    pub fn signed(&self, method: reqwest::Method, path: &str) -> SignedRequest {
        SignedRequest::new(self.clone(), method, path)
    }

    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.http
    }

    pub(crate) fn signer(&self) -> Option<&Signer> {
        self.signer.as_ref()
    }

    /// A request to `path` (e.g. `/stet/psd2/v1.4.2/accounts`) carrying a fresh `X-Request-ID`.
    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.request_without_id(method, path).header(stet::headers::X_REQUEST_ID, new_request_id())
    }

    /// A request without `X-Request-ID` (to see how a bank treats its absence).
    pub fn request_without_id(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http.request(method, format!("{}{}", self.base_url, path))
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }
}

/// The host of an `https://name.localhost[:port]` base URL.
fn localhost_name(base_url: &str) -> Option<String> {
    let rest = base_url.strip_prefix("https://")?;
    let authority = rest.split('/').next()?;
    let host = authority.rsplit_once(':').map(|(h, _)| h).unwrap_or(authority).to_ascii_lowercase();
    (host == "localhost" || host.ends_with(".localhost")).then_some(host)
}

/// A new correlation id (a UUID: 36 characters, within STET's 70).
pub fn new_request_id() -> String {
    uuid::Uuid::new_v4().to_string()
}
