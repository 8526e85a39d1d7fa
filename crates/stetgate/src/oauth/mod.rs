//! The OAuth2 authorization server of a STET bank (STET Part I section 3.4; RFC 6749 4.1, RFC 7009),
//! with redirect strong customer authentication on the bank's own pages.
//!
//! - [`authorize`]: `GET/POST /stet/psd2/oauth/authorize`, the PSU's pages (identification, one-time
//!   code, and for card issuers the choice of accounts), then the redirect to the TPP with a code;
//! - [`token`]: `POST /stet/psd2/oauth/token` (authorization_code, refresh_token) and
//!   `POST /stet/psd2/oauth/revoke`;
//! - [`bearer`]: the access token of every resource request, turned into a [`bearer::Grant`].
//!
//! Rules as the bank publishes them: codes are single use and live one hour; access tokens one hour,
//! refresh tokens 180 days, refused once the PSU's last SCA is older than 180 days; one valid pair per
//! (bank, PSU, TPP, role); revoking either token revokes both; a reused code revokes what it issued.

pub mod authorize;
pub mod bearer;
pub mod pages;
pub mod token;

use crate::app::AppState;
use crate::edge::facts::note_family;
use crate::statistics::Family;
use axum::Router;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use std::fmt;

/// The authorization server's routes, mounted under `/stet/psd2/oauth`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/authorize", get(authorize::start).post(authorize::step).route_layer(from_fn(pages::html_errors)))
        .route("/token", post(token::token))
        .route("/revoke", post(token::revoke))
        .route_layer(from_fn_with_state(Family::Authorization, note_family))
}

/// An OAuth scope the bank grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    /// Account information (PSP_AI).
    Aisp,
    /// Funds confirmation, STET 1.4.2 and later (PSP_IC).
    Cbpii,
    /// Funds confirmation, STET 1.4.0.47 ("v1") (PSP_IC).
    Piisp,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Aisp => "aisp",
            Scope::Cbpii => "cbpii",
            Scope::Piisp => "piisp",
        }
    }

    pub fn parse(text: &str) -> Option<Scope> {
        match text {
            "aisp" => Some(Scope::Aisp),
            "cbpii" => Some(Scope::Cbpii),
            "piisp" => Some(Scope::Piisp),
            _ => None,
        }
    }

    /// The PSD2 role a TPP needs for this scope.
    pub fn role(self) -> eidas::psd2::Role {
        match self {
            Scope::Aisp => eidas::psd2::Role::AccountInformation,
            Scope::Cbpii | Scope::Piisp => eidas::psd2::Role::CardIssuing,
        }
    }

    /// Whether the PSU chooses accounts for a card issuer in this authorization.
    pub fn is_funds(self) -> bool {
        matches!(self, Scope::Cbpii | Scope::Piisp)
    }
}

/// A set of scopes, in a stable order, written space-separated.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Scopes(Vec<Scope>);

impl Scopes {
    pub fn new(mut scopes: Vec<Scope>) -> Scopes {
        scopes.sort();
        scopes.dedup();
        Scopes(scopes)
    }

    /// Parses a stored or requested scope string; `None` on any unknown scope.
    pub fn parse(text: &str) -> Option<Scopes> {
        let scopes = text.split_ascii_whitespace().map(Scope::parse).collect::<Option<Vec<_>>>()?;
        (!scopes.is_empty()).then(|| Scopes::new(scopes))
    }

    pub fn contains(&self, scope: Scope) -> bool {
        self.0.contains(&scope)
    }

    pub fn iter(&self) -> impl Iterator<Item = Scope> + '_ {
        self.0.iter().copied()
    }

    /// Whether two grants concern a common PSD2 role (the one-pair rule applies to them).
    pub fn shares_role_with(&self, other: &Scopes) -> bool {
        self.iter().any(|a| other.iter().any(|b| a.role() == b.role()))
    }

    pub fn includes_funds(&self) -> bool {
        self.iter().any(Scope::is_funds)
    }
}

impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.0.iter().map(|s| s.as_str()).collect();
        f.write_str(&names.join(" "))
    }
}

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
    pub fn hash(&self) -> String {
        hash_secret(&self.0)
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

pub fn hash_secret(value: &str) -> String {
    eidas::psd2::hex(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, value.as_bytes()).as_ref())
}

/// Where a PSU's authorization stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Identify,
    Authenticate,
    Consent,
    Done,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Identify => "identify",
            Stage::Authenticate => "authenticate",
            Stage::Consent => "consent",
            Stage::Done => "done",
        }
    }

    pub fn parse(text: &str) -> Option<Stage> {
        [Stage::Identify, Stage::Authenticate, Stage::Consent, Stage::Done].into_iter().find(|s| s.as_str() == text)
    }
}

/// An authorization in progress.
#[derive(Debug, Clone)]
pub struct Flow {
    pub flow_hash: String,
    pub csrf_hash: String,
    pub bank: stet::BankCode,
    pub client_id: stet::OrgId,
    pub redirect_uri: String,
    pub scopes: Scopes,
    pub state: Option<String>,
    pub stage: Stage,
    pub psu: Option<crate::ledger::PsuId>,
    pub failures: i64,
    /// Unix ms of the successful one-time code.
    pub sca_at: Option<i64>,
    /// Unix ms.
    pub created_at: i64,
    /// The PKCE challenge (RFC 7636, S256) the TPP sent, if any.
    pub code_challenge: Option<String>,
}

/// What an authorization code stands for.
#[derive(Debug, Clone)]
pub struct CodeGrant {
    pub bank: stet::BankCode,
    pub client_id: stet::OrgId,
    pub redirect_uri: String,
    pub psu: crate::ledger::PsuId,
    pub scopes: Scopes,
    pub sca_at: i64,
    pub expires_at: i64,
    pub pair_id: Option<String>,
    /// The PKCE challenge (S256) of the authorization, if the TPP sent one.
    pub code_challenge: Option<String>,
}

/// A PKCE code verifier (RFC 7636 section 4.1): 43 to 128 unreserved characters.
pub fn valid_code_verifier(text: &str) -> bool {
    (43..=128).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
}

/// The S256 challenge of a verifier: BASE64URL(SHA256(verifier)) (RFC 7636 section 4.2).
pub fn s256_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes()).as_ref())
}

/// An issued access/refresh token pair (without the tokens, which are only hashed in the store).
#[derive(Debug, Clone)]
pub struct TokenPair {
    pub pair_id: String,
    pub bank: stet::BankCode,
    pub client_id: stet::OrgId,
    pub psu: crate::ledger::PsuId,
    pub scopes: Scopes,
    pub access_expires_at: i64,
    pub refresh_expires_at: i64,
    pub sca_at: i64,
    pub revoked_at: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_parse_order_and_roles() {
        let s = Scopes::parse("cbpii  aisp cbpii").unwrap();
        assert_eq!(s.to_string(), "aisp cbpii");
        assert!(Scopes::parse("aisp extended_transaction_history").is_none());
        assert!(Scopes::parse("").is_none());
        let aisp = Scopes::parse("aisp").unwrap();
        let card = Scopes::parse("piisp").unwrap();
        assert!(!aisp.shares_role_with(&card));
        assert!(card.shares_role_with(&Scopes::parse("cbpii").unwrap()), "piisp and cbpii are one role");
        assert!(s.shares_role_with(&card));
    }

    #[test]
    fn secrets_are_random_and_only_hashes_are_kept() {
        let a = Secret::generate().unwrap();
        let b = Secret::generate().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.expose().len(), 43, "256 bits in base64url");
        assert_eq!(a.hash().len(), 64);
        assert_ne!(a.hash(), a.expose());
        assert_eq!(format!("{a:?}"), "Secret(<redacted>)");
        assert_eq!(Secret::from_client(a.expose()).hash(), a.hash());
    }
}
