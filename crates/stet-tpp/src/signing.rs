//! Signing requests the STET way (Part I section 3.5): draft-cavage `Signature` with rsa-sha256 and
//! the TPP's QSealC, `Digest: SHA-256=...` of the body, a fresh `X-Request-ID`.

use crate::{ClientError, TppClient};
use eidas::signature::{RsaSigner, digest_header, format_signature_header, signing_string};
use std::sync::Arc;

/// A QSealC private key and the keyId that names its certificate.
#[derive(Clone, Debug)]
pub struct Signer {
    key: Arc<RsaSigner>,
    key_id: String,
}

impl Signer {
    /// `key_pem`: the QSealC's PKCS#8 private key; `key_id`: e.g. `https://tpp.example/qseal_<sha256>`
    /// or `SN=<serial>,CA=<issuer DN>`.
    pub fn new(key_pem: &str, key_id: impl Into<String>) -> Result<Signer, ClientError> {
        Ok(Signer { key: Arc::new(RsaSigner::from_pkcs8_pem(key_pem)?), key_id: key_id.into() })
    }

    /// The keyId in its URL form for a QSealC certificate PEM.
    pub fn key_id_url_for(qsealc_pem: &str, base: &str) -> Option<String> {
        eidas::psd2::parse_pem(qsealc_pem).ok().map(|c| format!("{}_{}", base.trim_end_matches('/'), c.sha256_hex()))
    }

    /// Signs `signing_string` and formats the `Signature` header value.
    pub fn signature_header(&self, headers: &[&str], signing_string: &str) -> Result<String, ClientError> {
        let signature = self.key.sign(signing_string)?;
        Ok(format_signature_header(&self.key_id, headers, &signature))
    }
}

/// A request being built; it is signed when sent.
pub struct SignedRequest {
    client: TppClient,
    pub(crate) method: reqwest::Method,
    pub(crate) path: String,
    headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
    signed_headers: Option<Vec<String>>,
}

/// The path and query of `base` + `path` as the HTTP client will send them.
fn on_the_wire(base: &str, path: &str) -> String {
    match url::Url::parse(&format!("{base}{path}")) {
        Ok(url) => match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        },
        Err(_) => path.to_owned(),
    }
}

impl SignedRequest {
    pub(crate) fn new(client: TppClient, method: reqwest::Method, path: &str) -> Self {
        // Sign the target as it goes on the wire: the URL parser removes `.` and `..` segments and
        // encodes what needs encoding, and a signature over the path as typed would not verify.
        let path = on_the_wire(client.base_url(), path);
        SignedRequest {
            client,
            method,
            path,
            headers: vec![("x-request-id".to_owned(), crate::new_request_id())],
            body: Vec::new(),
            signed_headers: None,
        }
    }

    /// Adds a header (replacing one of the same name, `X-Request-ID` included).
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        let name = name.to_ascii_lowercase();
        self.headers.retain(|(n, _)| *n != name);
        self.headers.push((name, value.into()));
        self
    }

    pub fn bearer(self, token: &str) -> Self {
        self.header("authorization", format!("Bearer {token}"))
    }

    /// A JSON body (`Content-Type: application/json`).
    pub fn json<T: serde::Serialize + ?Sized>(mut self, value: &T) -> Self {
        self.body = serde_json::to_vec(value).unwrap_or_default();
        self.header("content-type", "application/json")
    }

    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// Signs exactly these headers, in this order, instead of the STET default.
    pub fn signed_headers(mut self, headers: &[&str]) -> Self {
        self.signed_headers = Some(headers.iter().map(|h| h.to_ascii_lowercase()).collect());
        self
    }

    /// The headers to send, `Digest` and `Signature` included.
    pub fn prepared_headers(&self) -> Result<Vec<(String, String)>, ClientError> {
        let mut headers = self.headers.clone();
        if !self.body.is_empty() && !headers.iter().any(|(n, _)| n == "digest") {
            headers.push(("digest".to_owned(), digest_header(&self.body)));
        }
        let Some(signer) = self.client.signer() else { return Ok(headers) };
        let names: Vec<String> = self.signed_headers.clone().unwrap_or_else(|| {
            let mut names = vec!["(request-target)".to_owned(), "x-request-id".to_owned()];
            if headers.iter().any(|(n, _)| n == "digest") {
                names.push("digest".to_owned());
            }
            names.extend(headers.iter().map(|(n, _)| n.clone()).filter(|n| n.starts_with("psu-")));
            names
        });
        let text = signing_string(&names, self.method.as_str(), &self.path, |name| {
            headers.iter().filter(|(n, _)| n == name).map(|(_, v)| v.clone()).collect()
        })?;
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        headers.push(("signature".to_owned(), signer.signature_header(&refs, &text)?));
        Ok(headers)
    }

    pub async fn send(self) -> Result<reqwest::Response, ClientError> {
        let headers = self.prepared_headers()?;
        let url = format!("{}{}", self.client.base_url(), self.path);
        let mut request = self.client.http().request(self.method.clone(), url);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        if !self.body.is_empty() {
            request = request.body(self.body);
        }
        Ok(request.send().await?)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_signed_target_is_the_one_sent() {
        let base = "https://www.17515.sandbox.localhost:8443";
        assert_eq!(super::on_the_wire(base, "/stet/psd2/./v1.4.2/x/../accounts"), "/stet/psd2/v1.4.2/accounts");
        assert_eq!(
            super::on_the_wire(base, "/stet/psd2/v1.4.2/accounts/1/transactions?dateFrom=2026-11-01"),
            "/stet/psd2/v1.4.2/accounts/1/transactions?dateFrom=2026-11-01"
        );
        assert_eq!(super::on_the_wire(base, "/a b"), "/a%20b");
    }
}
