//! The downloads of revocation status: `GET` a CRL, `POST` an OCSP request (RFC 6960 appendix
//! A.1, `application/ocsp-request`). Each has the configured timeout, at most three redirects and
//! a bound on the answer's size; the answer's text never reaches a client.

use std::time::Duration;

/// The largest CRL read (a QTSP's CRL with a hundred thousand entries is a few MB).
const MAX_CRL_BYTES: usize = 32 * 1024 * 1024;
/// The largest OCSP response read.
const MAX_OCSP_BYTES: usize = 64 * 1024;

pub(super) fn client(timeout_secs: u64, extra_roots: Option<&[u8]>) -> Result<reqwest::Client, String> {
    let mut builder = reqwest::Client::builder()
        .timeout(Duration::from_secs(timeout_secs))
        .connect_timeout(Duration::from_secs(timeout_secs))
        .redirect(reqwest::redirect::Policy::limited(3))
        // Downloads are rare (answers are cached), and many OCSP responders serve one connection
        // at a time: a kept-alive idle connection would block them.
        .pool_max_idle_per_host(0)
        .no_proxy();
    if let Some(pem) = extra_roots {
        for root in reqwest::Certificate::from_pem_bundle(pem).map_err(|e| format!("revocation roots: {e}"))? {
            builder = builder.add_root_certificate(root);
        }
    }
    builder.build().map_err(|e| format!("revocation HTTP client: {e}"))
}

pub(super) async fn crl(http: &reqwest::Client, url: &str) -> Result<Vec<u8>, String> {
    read(http.get(url).send().await, MAX_CRL_BYTES).await
}

pub(super) async fn ocsp(http: &reqwest::Client, url: &str, request: Vec<u8>) -> Result<Vec<u8>, String> {
    let sent = http
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/ocsp-request")
        .header(reqwest::header::ACCEPT, "application/ocsp-response")
        .body(request)
        .send()
        .await;
    read(sent, MAX_OCSP_BYTES).await
}

async fn read(sent: reqwest::Result<reqwest::Response>, limit: usize) -> Result<Vec<u8>, String> {
    let mut response = sent.map_err(|e| format!("unreachable ({})", without_url(&e)))?;
    if !response.status().is_success() {
        return Err(format!("answered HTTP {}", response.status().as_u16()));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| format!("answer cut short ({})", without_url(&e)))? {
        if body.len() + chunk.len() > limit {
            return Err(format!("answer larger than {limit} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// reqwest's error text, without the URL it already names (the caller names it once).
fn without_url(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else if e.is_redirect() {
        "too many redirects"
    } else {
        "request failed"
    };
    kind.to_owned()
}
