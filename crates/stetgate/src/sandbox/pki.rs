//! The sandbox PKI under `<data-dir>/pki/`: a test QTSP root (`ca.pem`, `ca.key`) and the server
//! certificate it signs (`server.pem`, `server.key`), valid for localhost, 127.0.0.1, ::1 and
//! `www.<bankcode>.sandbox.localhost` for every bank code (names under `.localhost` resolve to
//! loopback in browsers and curl, so per-bank hosts work with no /etc/hosts edit).
//!
//! Created on first start, reused afterwards: the root never changes once a TPP developer trusts
//! it. The server certificate is reissued by the same root when it nears expiry or lacks a name.

use crate::edge::tls::{certified_key, read_certificates};
use eidas::issue::{IssueError, TestCa, inspect};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use stet::BankCode;

/// Root validity: ten years, so a developer's trust in it does not lapse.
const CA_YEARS: i64 = 10;
/// Server certificate validity, and how close to expiry it is reissued.
const SERVER_DAYS: i64 = 397;
const REISSUE_WITHIN_DAYS: i64 = 30;

#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: {source}")]
    Certificate { path: PathBuf, source: IssueError },
}

/// Where the sandbox PKI files are.
#[derive(Debug, Clone)]
pub struct SandboxPki {
    pub ca_cert: PathBuf,
    pub ca_key: PathBuf,
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
    /// The RSA key signing fallback JWTs (RTS art. 33).
    pub fallback_key: PathBuf,
}

/// The names the server certificate must carry.
pub fn server_names(banks: &[BankCode]) -> Vec<String> {
    let mut names = vec!["localhost".to_owned(), "127.0.0.1".to_owned(), "::1".to_owned()];
    names.extend(banks.iter().map(|b| format!("www.{b}.sandbox.localhost")));
    names
}

/// Creates what is missing of the sandbox PKI in `dir`, reuses the rest.
pub fn ensure(dir: &Path, banks: &[BankCode], now_unix: i64) -> Result<SandboxPki, PkiError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| PkiError::Io { path, source }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let pki = SandboxPki {
        ca_cert: dir.join("ca.pem"),
        ca_key: dir.join("ca.key"),
        server_cert: dir.join("server.pem"),
        server_key: dir.join("server.key"),
        fallback_key: dir.join("fallback.key"),
    };
    let cert_error = |path: &Path| {
        let path = path.to_path_buf();
        move |source| PkiError::Certificate { path, source }
    };

    let ca = if pki.ca_cert.exists() && pki.ca_key.exists() {
        let cert = std::fs::read_to_string(&pki.ca_cert).map_err(io(&pki.ca_cert))?;
        let key = std::fs::read_to_string(&pki.ca_key).map_err(io(&pki.ca_key))?;
        TestCa::from_pem(&cert, &key).map_err(cert_error(&pki.ca_cert))?
    } else {
        let ca = TestCa::generate("stetgate sandbox QTSP root", "stetgate sandbox", CA_YEARS)
            .map_err(cert_error(&pki.ca_cert))?;
        write_private(&pki.ca_key, &ca.root().key_pem).map_err(io(&pki.ca_key))?;
        std::fs::write(&pki.ca_cert, &ca.root().cert_pem).map_err(io(&pki.ca_cert))?;
        ca
    };

    let names = server_names(banks);
    if !server_certificate_usable(&pki, &ca, &names, now_unix) {
        let server = ca.issue_server("stetgate sandbox", &names, SERVER_DAYS).map_err(cert_error(&pki.server_cert))?;
        write_private(&pki.server_key, &server.key_pem).map_err(io(&pki.server_key))?;
        std::fs::write(&pki.server_cert, &server.cert_pem).map_err(io(&pki.server_cert))?;
    }
    if !pki.fallback_key.exists() {
        let key = eidas::issue::generate_rsa_key_pem().map_err(cert_error(&pki.fallback_key))?;
        write_private(&pki.fallback_key, &key).map_err(io(&pki.fallback_key))?;
    }
    Ok(pki)
}

/// Whether the existing server certificate was issued by this root, carries every name and is
/// not about to expire.
fn server_certificate_usable(pki: &SandboxPki, ca: &TestCa, names: &[String], now_unix: i64) -> bool {
    if !pki.server_key.exists() {
        return false;
    }
    let Ok(pem) = std::fs::read_to_string(&pki.server_cert) else {
        return false;
    };
    let (Ok(server), Ok(root)) = (inspect(&pem), inspect(&ca.root().cert_pem)) else {
        return false;
    };
    let has_name = |name: &String| match name.parse::<std::net::IpAddr>() {
        Ok(ip) => server.ip_addresses.contains(&ip),
        Err(_) => server.dns_names.contains(name),
    };
    server.issuer == root.subject
        && server.not_after > now_unix + REISSUE_WITHIN_DAYS * 86_400
        && names.iter().all(has_name)
}

/// The sandbox server's certificates: `server.pem` for every name it carries, and for a
/// `www.<bankcode>.sandbox.localhost` it does not carry (a bank code the sandbox does not serve), a
/// certificate issued on demand by the sandbox CA. So `curl --cacert ca.pem` reaches any bank host
/// and sees the bank's real answer (404 for an unknown code) instead of a name mismatch.
pub struct BankHostCertificates {
    default: Arc<CertifiedKey>,
    covered: Vec<String>,
    ca: TestCa,
    issued: Mutex<HashMap<String, Arc<CertifiedKey>>>,
}

/// Bounds the on-demand certificates kept in memory (there are 100,000 possible bank codes).
const MAX_ISSUED: usize = 256;

impl std::fmt::Debug for BankHostCertificates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BankHostCertificates").field("covered", &self.covered.len()).finish_non_exhaustive()
    }
}

impl BankHostCertificates {
    pub fn load(pki: &SandboxPki) -> Result<Self, PkiError> {
        let tls_error = |e: crate::edge::tls::TlsSetupError| PkiError::Io {
            path: pki.server_cert.clone(),
            source: std::io::Error::other(e.to_string()),
        };
        let chain = read_certificates(&pki.server_cert).map_err(tls_error)?;
        let default = certified_key(chain, &pki.server_key).map_err(tls_error)?;
        let read = |path: &Path| {
            std::fs::read_to_string(path).map_err(|source| PkiError::Io { path: path.to_path_buf(), source })
        };
        let server_pem = read(&pki.server_cert)?;
        let covered = inspect(&server_pem)
            .map_err(|source| PkiError::Certificate { path: pki.server_cert.clone(), source })?
            .dns_names;
        let ca = TestCa::from_pem(&read(&pki.ca_cert)?, &read(&pki.ca_key)?)
            .map_err(|source| PkiError::Certificate { path: pki.ca_cert.clone(), source })?;
        Ok(BankHostCertificates { default, covered, ca, issued: Mutex::new(HashMap::new()) })
    }

    fn for_bank_host(&self, name: &str) -> Option<Arc<CertifiedKey>> {
        let name = name.to_ascii_lowercase();
        let code = name.strip_prefix("www.")?.strip_suffix(".sandbox.localhost")?;
        if BankCode::parse(code).is_err() || self.covered.contains(&name) {
            return None;
        }
        let mut issued = self.issued.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(key) = issued.get(&name) {
            return Some(key.clone());
        }
        let cert = self.ca.issue_server("stetgate sandbox", std::slice::from_ref(&name), SERVER_DAYS).ok()?;
        let chain = vec![CertificateDer::from_pem_slice(cert.cert_pem.as_bytes()).ok()?];
        let key_der = PrivateKeyDer::from_pem_slice(cert.key_pem.as_bytes()).ok()?;
        let key =
            Arc::new(CertifiedKey::from_der(chain, key_der, &rustls::crypto::aws_lc_rs::default_provider()).ok()?);
        if issued.len() < MAX_ISSUED {
            issued.insert(name, key.clone());
        }
        Some(key)
    }
}

impl ResolvesServerCert for BankHostCertificates {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        hello.server_name().and_then(|name| self.for_bank_host(name)).or_else(|| Some(self.default.clone()))
    }
}

/// Writes a private key readable by its owner only.
pub(crate) fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn banks() -> Vec<BankCode> {
        vec![BankCode::parse("17515").unwrap(), BankCode::parse("13807").unwrap()]
    }

    #[test]
    fn first_start_creates_later_starts_reuse() {
        let dir = tempfile::tempdir().unwrap();
        let now = jiff::Timestamp::now().as_second();
        let pki = ensure(dir.path(), &banks(), now).unwrap();
        let ca_before = std::fs::read(&pki.ca_cert).unwrap();
        let server_before = std::fs::read(&pki.server_cert).unwrap();
        ensure(dir.path(), &banks(), now).unwrap();
        assert_eq!(std::fs::read(&pki.ca_cert).unwrap(), ca_before, "the root must never change");
        assert_eq!(std::fs::read(&pki.server_cert).unwrap(), server_before, "a good server certificate is reused");
        let names = inspect(&String::from_utf8(server_before).unwrap()).unwrap().dns_names;
        assert!(names.contains(&"www.13807.sandbox.localhost".to_owned()));
    }

    #[test]
    fn the_server_certificate_is_reissued_by_the_same_root_when_a_bank_is_added_or_it_expires() {
        let dir = tempfile::tempdir().unwrap();
        let now = jiff::Timestamp::now().as_second();
        let pki = ensure(dir.path(), &banks()[..1], now).unwrap();
        let ca = std::fs::read(&pki.ca_cert).unwrap();
        let first = std::fs::read(&pki.server_cert).unwrap();
        ensure(dir.path(), &banks(), now).unwrap();
        let second = std::fs::read(&pki.server_cert).unwrap();
        assert_ne!(first, second, "a new bank's host needs a new certificate");
        assert_eq!(std::fs::read(&pki.ca_cert).unwrap(), ca);
        ensure(dir.path(), &banks(), now + 380 * 86_400).unwrap();
        assert_ne!(std::fs::read(&pki.server_cert).unwrap(), second, "near expiry, the certificate is renewed");
    }

    #[cfg(unix)]
    #[test]
    fn private_keys_are_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let pki = ensure(dir.path(), &banks(), jiff::Timestamp::now().as_second()).unwrap();
        for key in [&pki.ca_key, &pki.server_key, &pki.fallback_key] {
            assert_eq!(std::fs::metadata(key).unwrap().permissions().mode() & 0o777, 0o600);
        }
    }
}
