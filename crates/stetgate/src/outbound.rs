//! The HTTPS clients stetgate calls the bank's own systems with (its messaging gateway, its core
//! banking adapter): the roots the bank's server certificate must chain to, stetgate's client
//! certificate for mutual TLS, one timeout for the whole call, no redirects and no proxy from the
//! environment (a call carrying personal data goes where the configuration says, nowhere else).

use std::path::Path;
use std::time::Duration;

/// Where a client's TLS material is.
#[derive(Debug, Clone, Copy, Default)]
pub struct TlsFiles<'a> {
    /// PEM roots for the server's certificate; the system's roots when absent.
    pub ca: Option<&'a Path>,
    /// stetgate's certificate chain and key (PEM), for mutual TLS.
    pub client: Option<(&'a Path, &'a Path)>,
}

/// A client whose calls (connection included) end after `timeout`. The error names the file or
/// setting at fault (`ca: ...`, `client_cert: ...`).
pub fn https_client(timeout: Duration, files: TlsFiles<'_>) -> Result<reqwest::Client, String> {
    let read = |path: &Path| std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()));
    let mut builder = reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .pool_idle_timeout(Duration::from_secs(50))
        .no_proxy();
    if let Some(ca) = files.ca {
        let roots = reqwest::Certificate::from_pem_bundle(&read(ca)?).map_err(|e| format!("ca: {e}"))?;
        builder = builder.tls_certs_only(roots);
    }
    if let Some((cert, key)) = files.client {
        let mut pem = read(cert)?;
        pem.push(b'\n');
        pem.extend(read(key)?);
        builder = builder.identity(reqwest::Identity::from_pem(&pem).map_err(|e| format!("client_cert: {e}"))?);
    }
    builder.build().map_err(|e| format!("HTTPS client: {e}"))
}
