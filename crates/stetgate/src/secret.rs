//! Secrets handed to clients (flow cookies, CSRF tokens, authorization codes, access and refresh
//! tokens): 256 random bits, base64url; only their SHA-256 is stored, and compared in constant
//! time. Never logged: `Debug` redacts.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use std::fmt;

/// A secret handed to a client (flow cookie, CSRF token, code, token): 256 random bits, base64url.
/// Only its SHA-256 is stored; `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// From the system's CSPRNG.
    pub fn generate() -> Result<Secret, NoRandomness> {
        let mut bytes = [0u8; 32];
        aws_lc_rs::rand::fill(&mut bytes).map_err(|_| NoRandomness)?;
        Ok(Secret(URL_SAFE_NO_PAD.encode(bytes)))
    }

    /// Wraps a value received from a client.
    pub fn from_client(value: &str) -> Secret {
        Secret(value.to_owned())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// What the store keeps: lower-case hex SHA-256.
    pub fn hash(&self) -> SecretHash {
        SecretHash(hash_secret(&self.0))
    }
}

/// The SHA-256 of a [`Secret`] (lower-case hex): what the store keeps and looks secrets up by.
/// Made only by [`Secret::hash`] (and by the store, reading back what it kept), so a store lookup
/// cannot be handed the secret itself by mistake. Not secret, but `Debug` shows only a prefix:
/// enough to tell two apart in a log line.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct SecretHash(String);

impl SecretHash {
    /// A hash the store kept (its own column, read back).
    pub(crate) fn from_stored(hex: String) -> SecretHash {
        SecretHash(hex)
    }

    /// The hex text, for the store's binds.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretHash({}..)", self.0.get(..8).unwrap_or(&self.0))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// The system's random number generator failed.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("the system random number generator failed")]
pub struct NoRandomness;

/// The secret a browser holds in cookie `name`, if it sent a non-empty one.
pub fn cookie_secret(headers: &axum::http::HeaderMap, name: &str) -> Option<Secret> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (n, value) = pair.trim().split_once('=')?;
            (n == name && !value.is_empty()).then(|| Secret::from_client(value))
        })
}

/// Hands the browser `secret` in an HttpOnly, Secure, SameSite=Lax cookie scoped to `path`.
pub fn set_secret_cookie(
    response: &mut axum::response::Response,
    name: &str,
    secret: &Secret,
    path: &str,
    max_age_secs: i64,
) {
    let cookie =
        format!("{name}={}; Path={path}; HttpOnly; Secure; SameSite=Lax; Max-Age={max_age_secs}", secret.expose());
    if let Ok(value) = axum::http::HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(axum::http::header::SET_COOKIE, value);
    }
}

/// Compares two secrets (or their hashes) in time independent of where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Lower-case hex SHA-256 of `value`: the text of a [`SecretHash`], and the derivation of tokens
/// that are never stored (a journey's CSRF token).
pub(crate) fn hash_secret(value: &str) -> String {
    eidas::psd2::hex(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, value.as_bytes()).as_ref())
}

/// A shared key from a file (an HMAC key the bank's system signs or checks with): the file's
/// bytes, a final line break (an editor's) left out, at least 32 bytes (256 bits).
pub fn read_key_file(path: &std::path::Path) -> Result<Vec<u8>, String> {
    let mut key = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    while key.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
        key.pop();
    }
    if key.len() < 32 {
        return Err(format!("{}: the key must be at least 32 bytes (256 bits)", path.display()));
    }
    Ok(key)
}

/// A bearer token from a file: its text, trimmed; printable ASCII, not empty.
pub fn read_token_file(path: &std::path::Path) -> Result<String, String> {
    let text = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let token = String::from_utf8(text).map_err(|_| format!("{}: the token is not UTF-8", path.display()))?;
    let token = token.trim().to_owned();
    if token.is_empty() || !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(format!("{}: the token is empty or not printable ASCII", path.display()));
    }
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_random_and_only_hashes_are_kept() {
        let a = Secret::generate().unwrap();
        let b = Secret::generate().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.expose().len(), 43, "256 bits in base64url");
        assert_eq!(a.hash().as_str().len(), 64);
        assert_ne!(a.hash().as_str(), a.expose());
        assert_eq!(format!("{a:?}"), "Secret(<redacted>)");
        assert_eq!(Secret::from_client(a.expose()).hash(), a.hash());
    }

    #[test]
    fn a_hash_is_the_sha256_and_its_debug_a_prefix() {
        let hash = Secret::from_client("abc").hash();
        assert_eq!(hash.as_str(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "SHA-256, hex");
        assert_eq!(format!("{hash:?}"), "SecretHash(ba7816bf..)", "logs show a prefix only");
    }

    #[test]
    fn key_and_token_files_are_read_strictly() {
        let dir = tempfile::tempdir().unwrap();
        let file = |name: &str, text: &str| {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            path
        };
        let key = "k".repeat(32);
        assert_eq!(
            read_key_file(&file("good", &format!("{key}\r\n"))).unwrap(),
            key.as_bytes(),
            "the editor's line break is not the key's"
        );
        assert!(read_key_file(&file("short", "hub-key\n")).unwrap_err().contains("at least 32 bytes"));
        assert!(read_key_file(&dir.path().join("missing")).is_err());
        assert_eq!(read_token_file(&file("token", "  s3cret\n")).unwrap(), "s3cret");
        assert!(read_token_file(&file("blank", " \n")).is_err());
        assert!(read_token_file(&file("spaced", "two words")).is_err());
    }
}
