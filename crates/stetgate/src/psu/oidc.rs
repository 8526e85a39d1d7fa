//! The bank's OpenID provider as a [`PsuAuthenticator`] (`[oidc."<bank>"]`): stetgate is its
//! relying party, and the provider performs the PSU's strong customer authentication on its own
//! pages (OpenID Connect Core 1.0 section 3.1, the authorization code flow).
//!
//! - **Discovery** (OpenID Connect Discovery 1.0 section 4): `<issuer>/.well-known/openid-configuration`,
//!   whose `issuer` must be the configured one exactly; kept an hour.
//! - **The request** (Core 3.1.2.1): `response_type=code`, the configured scopes, `state`, `nonce`,
//!   PKCE S256 (RFC 7636) — all three derived by the journey from its cookie's secret —,
//!   `prompt=login` and `max_age=0` (a fresh authentication, whose `auth_time` is then required),
//!   `acr_values` (the bank's strong-authentication levels), and for a payment its amount and payee
//!   as RFC 9396 `authorization_details` of the configured type, so that the provider's
//!   authentication is dynamically linked to them (RTS art. 5).
//! - **The answer**: `iss` must be the issuer when present (RFC 9207); the code is exchanged at the
//!   token endpoint with the PKCE verifier, stetgate authenticated by `client_secret_basic`,
//!   `client_secret_post` or `private_key_jwt` (RFC 7523); a payment's `authorization_details` must
//!   come back as sent (RFC 9396 section 7); the ID token is checked (`oidc_token`) with the
//!   provider's key set, kept an hour and fetched again once when a token names a key it lacks (key
//!   rotation), at most once a minute.
//!
//! Failures of the provider (unreachable, 5xx, refusing stetgate's client) are
//! [`AuthenticatorError::Unavailable`]: logged, and the PSU sees the bank's "unavailable" page.
//! Neither tokens nor claims are ever logged.

use super::authenticator::{
    AuthenticatorError, ChallengeContext, PsuAuthenticator, Redeemed, RedirectAnswer, RedirectRequest, Verification,
};
use super::model::Challenge;
use super::oidc_token::{self, ClientKey, Expected, JwkSet, SignatureRefusal};
use crate::config::{OidcClientAuth, OidcConfig};
use crate::ledger::Psu;
use async_trait::async_trait;
use base64::Engine;
use jiff::{SignedDuration, Timestamp};
use serde_json::Value;
use std::time::Duration;
use stet::BankCode;
use tokio::sync::Mutex;

/// How long a discovery document and a key set are used before they are fetched again.
const CACHE_LIFETIME: SignedDuration = SignedDuration::from_hours(1);
/// The least time between two fetches of the key set forced by an unknown key: tokens naming
/// made-up keys cannot make stetgate hammer the provider.
const REFETCH_INTERVAL: SignedDuration = SignedDuration::from_mins(1);
/// The largest discovery document, key set or token response read.
const MAX_DOCUMENT: usize = 256 * 1024;

/// What discovery tells about the provider.
#[derive(Debug, Clone)]
struct Discovery {
    authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
}

/// The key set, when it was fetched, and when an unknown key last forced a fetch.
#[derive(Debug, Default)]
struct Keys {
    set: JwkSet,
    fetched_at: Option<Timestamp>,
    forced_at: Option<Timestamp>,
}

/// How stetgate proves itself at the token endpoint.
enum Credentials {
    Basic(String),
    Post(String),
    PrivateKey(ClientKey, Option<String>),
}

/// What made a provider unusable at start-up.
#[derive(Debug, thiserror::Error)]
#[error("oidc.\"{bank}\": {problem}")]
pub struct OidcSetupError {
    pub bank: BankCode,
    pub problem: String,
}

/// A bank's OpenID provider, ready to send PSUs to.
pub struct OidcProvider {
    bank: BankCode,
    config: OidcConfig,
    http: reqwest::Client,
    credentials: Credentials,
    discovery: Mutex<Option<(Discovery, Timestamp)>>,
    keys: Mutex<Keys>,
}

impl std::fmt::Debug for OidcProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcProvider").field("issuer", &self.config.issuer).finish_non_exhaustive()
    }
}

/// Why the token endpoint gave no ID token.
enum Exchange {
    /// The provider refused the code (used, expired, not ours): not a strong authentication.
    Refused(String),
    Unavailable(String),
}

impl OidcProvider {
    /// Reads the secret or key and builds the HTTPS client (start-up: a failure stops it).
    pub fn new(bank: BankCode, config: &OidcConfig) -> Result<OidcProvider, OidcSetupError> {
        let fail = |problem: String| OidcSetupError { bank, problem };
        let files = crate::outbound::TlsFiles { ca: config.ca.as_deref(), client: None };
        let http = crate::outbound::https_client(Duration::from_secs(config.timeout_secs), files).map_err(fail)?;
        let secret = || match &config.client_secret_file {
            Some(path) => crate::secret::read_token_file(path).map_err(fail),
            None => Err(fail("client_secret_file is missing".into())),
        };
        let credentials = match config.client_auth {
            OidcClientAuth::ClientSecretBasic => Credentials::Basic(secret()?),
            OidcClientAuth::ClientSecretPost => Credentials::Post(secret()?),
            OidcClientAuth::PrivateKeyJwt => {
                let path =
                    config.private_key_file.as_ref().ok_or_else(|| fail("private_key_file is missing".into()))?;
                let pem = std::fs::read(path).map_err(|e| fail(format!("{}: {e}", path.display())))?;
                let key = ClientKey::from_pkcs8_pem(&pem).map_err(|e| fail(format!("{}: {e}", path.display())))?;
                Credentials::PrivateKey(key, config.private_key_id.clone())
            }
        };
        Ok(OidcProvider {
            bank,
            config: config.clone(),
            http,
            credentials,
            discovery: Mutex::new(None),
            keys: Mutex::new(Keys::default()),
        })
    }

    fn unavailable(&self, what: impl std::fmt::Display) -> AuthenticatorError {
        AuthenticatorError::Unavailable(format!("the identity provider of bank {}: {what}", self.bank))
    }

    /// A JSON document of the provider, bounded in size.
    async fn fetch_json(&self, request: reqwest::RequestBuilder) -> Result<(u16, Value), String> {
        let mut response = request.send().await.map_err(|e| format!("unreachable: {e}"))?;
        let status = response.status().as_u16();
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| format!("reading its answer: {e}"))? {
            body.extend_from_slice(&chunk);
            if body.len() > MAX_DOCUMENT {
                return Err("its answer is too large".into());
            }
        }
        let json = serde_json::from_slice(&body).map_err(|_| format!("answered {status} without JSON"))?;
        Ok((status, json))
    }

    /// The discovery document, from the cache while it lasts.
    async fn discovery(&self, now: Timestamp) -> Result<Discovery, AuthenticatorError> {
        let mut cached = self.discovery.lock().await;
        if let Some((discovery, at)) = cached.as_ref()
            && now.duration_since(*at) < CACHE_LIFETIME
        {
            return Ok(discovery.clone());
        }
        let url = format!("{}/.well-known/openid-configuration", self.config.issuer.trim_end_matches('/'));
        let document = match self.fetch_json(self.http.get(&url)).await {
            Ok((200, document)) => document,
            Ok((status, _)) => return Err(self.unavailable(format!("discovery answered {status}"))),
            Err(e) => return Err(self.unavailable(format!("discovery: {e}"))),
        };
        let text = |name: &str| document.get(name).and_then(Value::as_str).map(str::to_owned);
        // Discovery 1.0 section 4.3: the document must be the configured issuer's.
        if text("issuer").as_deref() != Some(self.config.issuer.as_str()) {
            return Err(self.unavailable("discovery names another issuer than the configured one"));
        }
        let endpoint = |name: &str| {
            text(name)
                .filter(|u| u.starts_with("https://"))
                .ok_or_else(|| self.unavailable(format!("discovery has no https {name}")))
        };
        let discovery = Discovery {
            authorization_endpoint: endpoint("authorization_endpoint")?,
            token_endpoint: endpoint("token_endpoint")?,
            jwks_uri: endpoint("jwks_uri")?,
        };
        *cached = Some((discovery.clone(), now));
        Ok(discovery)
    }

    /// The key set: the cached one while it lasts, unless `refetch` (a token named a key it lacks)
    /// and the last forced fetch is over a minute old.
    async fn keys(&self, jwks_uri: &str, now: Timestamp, refetch: bool) -> Result<Option<JwkSet>, AuthenticatorError> {
        let mut keys = self.keys.lock().await;
        let fresh = keys.fetched_at.is_some_and(|at| now.duration_since(at) < CACHE_LIFETIME);
        if refetch {
            if keys.forced_at.is_some_and(|at| now.duration_since(at) < REFETCH_INTERVAL) {
                tracing::warn!(bank = %self.bank, "an ID token names a key the identity provider's key set lacks; not fetched again within a minute");
                return Ok(None);
            }
            tracing::info!(bank = %self.bank, "an ID token names a key the identity provider's key set lacks: the set is fetched again");
            keys.forced_at = Some(now);
        } else if fresh {
            return Ok(Some(keys.set.clone()));
        }
        let set = match self.fetch_json(self.http.get(jwks_uri)).await {
            Ok((200, set)) => JwkSet::parse(&set).map_err(|e| self.unavailable(e))?,
            Ok((status, _)) => return Err(self.unavailable(format!("its key set answered {status}"))),
            Err(e) => return Err(self.unavailable(format!("its key set: {e}"))),
        };
        keys.set = set.clone();
        keys.fetched_at = Some(now);
        Ok(Some(set))
    }

    /// The claims of `id_token` once its signature verifies, the key set fetched again once if it
    /// lacks the token's key.
    async fn verified_claims(
        &self,
        jwks_uri: &str,
        id_token: &str,
        now: Timestamp,
    ) -> Result<Result<Value, SignatureRefusal>, AuthenticatorError> {
        let Some(set) = self.keys(jwks_uri, now, false).await? else { return Ok(Err(SignatureRefusal::UnknownKey)) };
        match oidc_token::verify_signature(id_token, &set) {
            Err(SignatureRefusal::UnknownKey) => match self.keys(jwks_uri, now, true).await? {
                Some(set) => Ok(oidc_token::verify_signature(id_token, &set)),
                None => Ok(Err(SignatureRefusal::UnknownKey)),
            },
            other => Ok(other),
        }
    }

    /// RFC 9396 details of a payment: its amount and payee.
    fn authorization_details(&self, context: &ChallengeContext) -> Result<Option<Value>, AuthenticatorError> {
        let Some(transaction) = &context.transaction else { return Ok(None) };
        let Some(kind) = &self.config.authorization_details_type else {
            // Without details the provider's authentication would not be linked to the payment.
            return Err(self.unavailable("no authorization_details_type is configured: payments cannot be approved"));
        };
        Ok(Some(serde_json::json!([{
            "type": kind,
            "instructedAmount": {
                "currency": transaction.amount.currency.to_string(),
                "amount": transaction.amount.amount_text(),
            },
            "creditorName": transaction.payee,
        }])))
    }

    /// The code exchanged for the token response (Core 3.1.3.1), stetgate authenticated as configured.
    async fn exchange(
        &self,
        discovery: &Discovery,
        answer: &RedirectAnswer<'_>,
        now: Timestamp,
    ) -> Result<Value, Exchange> {
        let mut form = vec![
            ("grant_type", "authorization_code".to_owned()),
            ("code", answer.code.to_owned()),
            ("redirect_uri", answer.redirect_uri.to_owned()),
            ("code_verifier", answer.code_verifier.to_owned()),
        ];
        let mut request = self.http.post(&discovery.token_endpoint);
        match &self.credentials {
            Credentials::Basic(secret) => {
                // RFC 6749 2.3.1: both form-encoded before the Basic encoding.
                let encode = |v: &str| url::form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>();
                let pair = format!("{}:{}", encode(&self.config.client_id), encode(secret));
                let basic = base64::engine::general_purpose::STANDARD.encode(pair);
                request = request.header("authorization", format!("Basic {basic}"));
            }
            Credentials::Post(secret) => {
                form.push(("client_id", self.config.client_id.clone()));
                form.push(("client_secret", secret.clone()));
            }
            Credentials::PrivateKey(key, kid) => {
                let assertion =
                    oidc_token::client_assertion(key, kid.as_deref(), &self.config.client_id, &self.config.issuer, now)
                        .map_err(Exchange::Unavailable)?;
                form.push(("client_id", self.config.client_id.clone()));
                form.push((
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".to_owned(),
                ));
                form.push(("client_assertion", assertion));
            }
        }
        match self.fetch_json(request.form(&form)).await {
            Ok((200, tokens)) => Ok(tokens),
            Ok((status, error)) => {
                // Only an error code of the protocol's form reaches the log, never the provider's free text.
                let code = error
                    .get("error")
                    .and_then(Value::as_str)
                    .filter(|c| c.len() <= 40 && c.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'))
                    .unwrap_or("no recognised error code")
                    .to_owned();
                if code == "invalid_grant" {
                    Err(Exchange::Refused("the token endpoint refused the code (invalid_grant)".into()))
                } else {
                    Err(Exchange::Unavailable(format!("its token endpoint answered {status} ({code})")))
                }
            }
            Err(e) => Err(Exchange::Unavailable(format!("its token endpoint: {e}"))),
        }
    }
}

/// Whether the token response grants the details sent (RFC 9396 section 7): every detail sent
/// comes back with the same type, amount, currency and payee.
fn details_granted(sent: &Value, tokens: &Value) -> bool {
    let Some(granted) = tokens.get("authorization_details").and_then(Value::as_array) else { return false };
    let fields = |d: &Value| {
        (
            d.get("type").cloned(),
            d.pointer("/instructedAmount/amount").cloned(),
            d.pointer("/instructedAmount/currency").cloned(),
            d.get("creditorName").cloned(),
        )
    };
    sent.as_array().is_some_and(|sent| sent.iter().all(|s| granted.iter().any(|g| fields(g) == fields(s))))
}

#[async_trait]
impl PsuAuthenticator for OidcProvider {
    fn available(&self, _bank: BankCode) -> bool {
        true
    }

    fn redirects(&self, _bank: BankCode) -> bool {
        true
    }

    /// Never: the PSU identifies at the provider, not on stetgate's pages.
    async fn start(
        &self,
        bank: BankCode,
        _psu: &Psu,
        _context: &ChallengeContext,
        _now: Timestamp,
    ) -> Result<Challenge, AuthenticatorError> {
        Err(AuthenticatorError::NotConfigured(bank))
    }

    /// Never: no code is typed on stetgate's pages.
    async fn verify(
        &self,
        _bank: BankCode,
        _psu: &Psu,
        _challenge: &Challenge,
        _answer: &str,
        _context: &ChallengeContext,
        _now: Timestamp,
    ) -> Result<Verification, AuthenticatorError> {
        Ok(Verification::Failed)
    }

    async fn authorization_url(
        &self,
        _bank: BankCode,
        request: &RedirectRequest<'_>,
        now: Timestamp,
    ) -> Result<String, AuthenticatorError> {
        let discovery = self.discovery(now).await?;
        let mut url = url::Url::parse(&discovery.authorization_endpoint).map_err(|e| self.unavailable(e))?;
        {
            let mut query = url.query_pairs_mut();
            query
                .append_pair("response_type", "code")
                .append_pair("client_id", &self.config.client_id)
                .append_pair("redirect_uri", request.redirect_uri)
                .append_pair("scope", &self.config.scopes.join(" "))
                .append_pair("state", request.state)
                .append_pair("nonce", request.nonce)
                .append_pair("code_challenge", request.code_challenge)
                .append_pair("code_challenge_method", "S256")
                .append_pair("prompt", "login")
                .append_pair("max_age", "0")
                .append_pair("acr_values", &self.config.sca_acr_values.join(" "));
            if let Some(details) = self.authorization_details(request.context)? {
                query.append_pair("authorization_details", &details.to_string());
            }
        }
        Ok(url.into())
    }

    async fn redeem(
        &self,
        _bank: BankCode,
        answer: &RedirectAnswer<'_>,
        now: Timestamp,
    ) -> Result<Redeemed, AuthenticatorError> {
        if answer.issuer.is_some_and(|iss| iss != self.config.issuer) {
            return Ok(Redeemed::Refused("the answer's iss is another provider's (RFC 9207)".into()));
        }
        let discovery = self.discovery(now).await?;
        let tokens = match self.exchange(&discovery, answer, now).await {
            Ok(tokens) => tokens,
            Err(Exchange::Refused(why)) => return Ok(Redeemed::Refused(why)),
            Err(Exchange::Unavailable(why)) => return Err(self.unavailable(why)),
        };
        if let Some(sent) = self.authorization_details(answer.context)?
            && !details_granted(&sent, &tokens)
        {
            return Ok(Redeemed::Refused(
                "the provider did not grant the payment's authorization_details as sent (RFC 9396 section 7)".into(),
            ));
        }
        let Some(id_token) = tokens.get("id_token").and_then(Value::as_str) else {
            return Ok(Redeemed::Refused("the token response has no ID token".into()));
        };
        let claims = match self.verified_claims(&discovery.jwks_uri, id_token, now).await? {
            Ok(claims) => claims,
            Err(refusal) => return Ok(Redeemed::Refused(refusal.to_string())),
        };
        let skew = SignedDuration::from_secs(i64::try_from(self.config.clock_skew_secs).unwrap_or(60));
        let expected = Expected {
            issuer: &self.config.issuer,
            client_id: &self.config.client_id,
            nonce: answer.nonce,
            acr_values: &self.config.sca_acr_values,
            psu_claim: &self.config.psu_id_claim,
            now,
            skew,
            asked_at: answer.asked_at,
        };
        Ok(match oidc_token::check_claims(&claims, &expected) {
            Ok(proven) => Redeemed::Verified { online_banking_id: proven.online_banking_id, sca_at: proven.sca_at },
            Err(refusal) => Redeemed::Refused(refusal.to_string()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_payment_is_granted_only_as_sent() {
        let sent = json!([{"type": "payment_initiation", "instructedAmount": {"currency": "EUR", "amount": "42.00"}, "creditorName": "Bakery"}]);
        let tokens = |details: Value| json!({"id_token": "x", "authorization_details": details});
        assert!(details_granted(&sent, &tokens(sent.clone())));
        let mut other = sent.clone();
        other[0]["instructedAmount"]["amount"] = json!("4200.00");
        assert!(!details_granted(&sent, &tokens(other)), "another amount");
        let mut payee = sent.clone();
        payee[0]["creditorName"] = json!("Mallory");
        assert!(!details_granted(&sent, &tokens(payee)), "another payee");
        assert!(!details_granted(&sent, &json!({"id_token": "x"})), "not echoed");
    }
}
