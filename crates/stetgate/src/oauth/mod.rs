//! The OAuth2 authorization server of a STET bank (STET Part I section 3.4; RFC 6749 4.1, RFC 7009),
//! with redirect strong customer authentication on the bank's own pages.
//!
//! - [`authorize`]: `GET/POST /stet/psd2/oauth/authorize`, the PSU's pages (identification, one-time
//!   code, and for card issuers the choice of accounts), then the redirect to the TPP with a code;
//! - [`token`]: `POST /stet/psd2/oauth/token` (authorization_code, refresh_token) and
//!   `POST /stet/psd2/oauth/revoke`;
//!
//! Rules as the bank publishes them: codes are single use and live one hour; access tokens one hour,
//! refresh tokens 180 days, refused once the PSU's last SCA is older than 180 days; one valid pair per
//! (bank, PSU, TPP, role); revoking either token revokes both; a reused code revokes what it issued.

pub mod authorize;
pub mod model;
pub mod token;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

pub use model::{CodeGrant, Grant, Scope, Scopes, Subject, TokenPair};

/// A PKCE code verifier (RFC 7636 section 4.1): 43 to 128 unreserved characters.
pub fn valid_code_verifier(text: &str) -> bool {
    (43..=128).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
}

/// The S256 challenge of a verifier: BASE64URL(SHA256(verifier)) (RFC 7636 section 4.2).
pub fn s256_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes()).as_ref())
}
