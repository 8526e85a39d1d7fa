//! The strong-authentication stage of a journey when the bank's authenticator *redirects* (its
//! OpenID provider, `psu::oidc`): instead of the identification and code pages, the PSU's browser
//! goes to the provider, and comes back to `GET /psu/oidc/callback` on the bank's host (OpenID
//! Connect Core 1.0 sections 3.1.2.1 and 3.1.2.5).
//!
//! - **Bound to the browser**: `state`, `nonce` and the PKCE verifier (RFC 7636) are derived from
//!   the journey's cookie secret and a fresh salt kept in the journey's challenge, like the CSRF
//!   token: nothing secret is stored, and only the browser holding the cookie can complete the
//!   stage. The secret also travels in a second cookie scoped to `/psu/oidc` (one per purpose),
//!   since the purposes' own cookies are scoped to their pages; `state` starts with the purpose, so
//!   the callback knows which cookie to read.
//! - **Single use**: the callback completes the stage by the same compare-and-set as a right code
//!   (from `Authenticate`, at the version read): a replayed answer (the same `state`, `code` and
//!   `nonce`) finds the journey moved on, and an answer brought to another journey fails its
//!   `state` (and its `nonce`).
//! - **What it proves**: the provider's `auth_time` is the journey's SCA time (the 180-day rule
//!   counts from it) and the configured claim names the PSU, who must be one of the bank's in the
//!   ledger; otherwise the journey ends (`Ending::UnknownPsu`, `Ending::NotAuthenticated`) and
//!   the purpose shows its page. A provider that is down is a 503 page, logged.
//!
//! The purposes call [`to_provider`] where they would show the identification page, and route the
//! callback of their journeys to their own handler, which calls [`returned`] then [`complete`].

use super::authenticator::{ChallengeContext, Redeemed, RedirectAnswer, RedirectRequest, linked_reference};
use super::model::{Challenge, ScaMethod};
use super::{Ending, MAX_ATTEMPTS, NotAStep, Purpose, Session, Stage, Step, end};
use crate::edge::error::ApiError;
use crate::edge::form::Params;
use crate::ledger::PsuId;
use crate::secret::{self, Secret, hash_secret, same_secret};
use crate::state::AppState;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use stet::BankCode;

/// Where the provider's answers come back to, on every bank's host.
pub use crate::config::OIDC_CALLBACK_PATH as CALLBACK_PATH;
/// The path the second cookie is scoped to.
const COOKIE_PATH: &str = "/psu/oidc";

fn cookie_name(purpose: Purpose) -> String {
    format!("stetgate_oidc_{}", purpose.as_str())
}

/// What the authorization request carries, derived from the cookie's secret and the salt.
struct Derived {
    state: String,
    nonce: String,
    verifier: String,
}

fn derive(secret: &Secret, purpose: Purpose, salt: &str) -> Derived {
    let of = |label: &str| hash_secret(&format!("oidc-{label}:{}:{salt}", secret.expose()));
    Derived { state: format!("{}.{}", purpose.as_str(), of("state")), nonce: of("nonce"), verifier: of("pkce") }
}

/// The challenge's reference: `<salt>|<what it is linked to>|<redirect URI>`.
fn reference(salt: &str, linked: &str, redirect_uri: &str) -> String {
    format!("{salt}|{linked}|{redirect_uri}")
}

fn parse_reference(reference: &str) -> Option<(&str, &str, &str)> {
    let mut parts = reference.splitn(3, '|');
    Some((parts.next()?, parts.next()?, parts.next()?))
}

/// The redirect challenge of a journey, if it has one.
fn redirect_challenge(session: &Session) -> Option<&Challenge> {
    session.journey.challenge.as_ref().filter(|c| c.method == ScaMethod::Redirect)
}

/// Sends the PSU of a journey that has just begun (`Identify`) to the bank's identity provider:
/// the 303 to its authorization endpoint, with the journey's cookies. `authority` is the bank host
/// the request came to (`host[:port]`), the callback's host unless `redirect_uri` is configured.
pub async fn to_provider(
    state: &AppState,
    session: &mut Session,
    authority: Option<&str>,
    context: &ChallengeContext,
) -> Result<Response, ApiError> {
    let (bank, now) = (session.journey.bank, state.clock.now());
    if session.journey.stage != Stage::Identify {
        return Err(ApiError::Internal("a journey sent to the identity provider twice".into()));
    }
    let configured = state.config.oidc.get(&bank).and_then(|c| c.redirect_uri.clone());
    let redirect_uri = match (configured, authority) {
        (Some(uri), _) => uri,
        (None, Some(authority)) => format!("https://{authority}{CALLBACK_PATH}"),
        (None, None) => return Err(ApiError::BadRequest("the request names no host".into())),
    };
    let salt = Secret::generate().map_err(|e| ApiError::Internal(e.to_string()))?.expose().to_owned();
    let derived = derive(&session.secret, session.journey.purpose, &salt);
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, derived.verifier.as_bytes());
    let code_challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest.as_ref());
    let request = RedirectRequest {
        redirect_uri: &redirect_uri,
        state: &derived.state,
        nonce: &derived.nonce,
        code_challenge: &code_challenge,
        context,
    };
    let url = state
        .authenticator
        .authorization_url(bank, &request, now)
        .await
        .map_err(|e| ApiError::unavailable(format!("strong authentication: {e}")))?;
    let mut next = session.journey.clone();
    next.stage = Stage::Authenticate;
    next.challenge = Some(Challenge {
        method: ScaMethod::Redirect,
        masked_destination: None,
        expires_at: session.journey.expires_at,
        reference: reference(&salt, &linked_reference(context), &redirect_uri),
    });
    if !state.store.advance_journey(&session.journey, &next).await? {
        return Err(ApiError::Internal("a journey changed as it began".into()));
    }
    next.version += 1;
    session.journey = next;
    let location = HeaderValue::from_str(&url).map_err(|_| ApiError::Internal("an unusable provider URL".into()))?;
    let mut response = StatusCode::SEE_OTHER.into_response();
    response.headers_mut().insert(header::LOCATION, location);
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    session.set_cookie(&mut response, now);
    let max_age = session.journey.expires_at.duration_since(now).as_secs().max(0);
    let cookie = format!(
        "{}={}; Path={COOKIE_PATH}; HttpOnly; Secure; SameSite=Lax; Max-Age={max_age}",
        cookie_name(session.journey.purpose),
        session.secret.expose()
    );
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    Ok(response)
}

/// Removes the cookie [`to_provider`] set for the callback (its journey keeps its own cookie).
pub fn forget_cookie(response: &mut Response, purpose: Purpose) {
    let cookie = format!("{}=; Path={COOKIE_PATH}; HttpOnly; Secure; SameSite=Lax; Max-Age=0", cookie_name(purpose));
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}

/// The purpose an answer from the provider belongs to (the prefix of its `state`).
pub fn purpose_of(params: &Params) -> Option<Purpose> {
    let state = params.one("state").ok().flatten()?;
    Purpose::parse(state.split_once('.')?.0)
}

/// The journey of this browser an answer belongs to: its cookie for `purpose` at `bank`, and the
/// `state` the journey sent.
pub async fn returned(
    state: &AppState,
    purpose: Purpose,
    bank: BankCode,
    headers: &HeaderMap,
    params: &Params,
) -> Result<Result<Session, NotAStep>, ApiError> {
    let Some(cookie) = secret::cookie_secret(headers, &cookie_name(purpose)) else {
        return Ok(Err(NotAStep::NoJourney));
    };
    let journey = state.store.journey(&cookie.hash()).await?.filter(|j| j.purpose == purpose && j.bank == bank);
    let Some(journey) = journey else { return Ok(Err(NotAStep::NoJourney)) };
    let session = Session { journey, secret: cookie };
    let Some((salt, _, _)) = redirect_challenge(&session).and_then(|c| parse_reference(&c.reference)) else {
        return Ok(Err(NotAStep::NoJourney));
    };
    let expected = derive(&session.secret, purpose, salt).state;
    if !params.one("state").ok().flatten().is_some_and(|s| same_secret(s, &expected)) {
        return Ok(Err(NotAStep::ForeignForm));
    }
    Ok(Ok(session))
}

/// Completes the strong-authentication stage with the provider's answer in `params`, on a live
/// journey of this browser ([`returned`]): `Choose` or `Approved` when it proves a strong
/// authentication of one of the bank's PSUs, `Ended` when it does not, `Stale` when the journey
/// is not waiting for it (a replayed answer).
pub async fn complete(
    state: &AppState,
    session: &mut Session,
    params: &Params,
    needs_choice: bool,
    context: &ChallengeContext,
) -> Result<Step, ApiError> {
    let Some(challenge) = redirect_challenge(session).cloned() else { return Ok(Step::Stale) };
    if session.journey.stage != Stage::Authenticate {
        return Ok(Step::Stale);
    }
    let Some((salt, linked, redirect_uri)) = parse_reference(&challenge.reference) else {
        return Err(ApiError::Internal("a redirect challenge without its reference".into()));
    };
    let bank = session.journey.bank;
    if let Some(error) = params.one("error").ok().flatten() {
        return provider_error(state, session, error).await;
    }
    let code = params.one("code").ok().flatten().unwrap_or("");
    // Dynamic linking (RTS art. 5): the payment must still be the one the provider was shown.
    if code.is_empty() || linked != linked_reference(context) {
        return not_authenticated(state, session, "the answer has no code, or the payment changed meanwhile").await;
    }
    let derived = derive(&session.secret, session.journey.purpose, salt);
    let answer = RedirectAnswer {
        code,
        issuer: params.one("iss").ok().flatten(),
        redirect_uri,
        code_verifier: &derived.verifier,
        nonce: &derived.nonce,
        asked_at: session.journey.created_at,
        context,
    };
    let redeemed = state
        .authenticator
        .redeem(bank, &answer, state.clock.now())
        .await
        .map_err(|e| ApiError::unavailable(format!("strong authentication: {e}")))?;
    match redeemed {
        Redeemed::Refused(why) => not_authenticated(state, session, &why).await,
        Redeemed::Verified { online_banking_id, sca_at } => {
            let id = PsuId::parse(&online_banking_id);
            let psu = match &id {
                Some(id) => state.ledger.psu(bank, id).await?,
                None => None,
            };
            let Some(psu) = psu else {
                tracing::warn!(%bank, "the identity provider authenticated someone who is not a PSU of the bank");
                return end(state, session, Ending::UnknownPsu).await;
            };
            let mut next = session.journey.clone();
            next.stage = if needs_choice { Stage::Choose } else { Stage::Approved };
            next.psu = Some(psu.id);
            next.psu_known = true;
            next.sca_at = Some(sca_at);
            if !state.store.pass_authentication(&session.journey, &next, MAX_ATTEMPTS).await? {
                return Ok(Step::Stale);
            }
            next.version += 1;
            session.journey = next;
            Ok(if needs_choice { Step::Choose } else { Step::Approved })
        }
    }
}

/// Ends the journey: the provider's answer is no strong authentication (logged, without data).
async fn not_authenticated(state: &AppState, session: &mut Session, why: &str) -> Result<Step, ApiError> {
    tracing::warn!(bank = %session.journey.bank, reason = why, "the identity provider's answer is not a strong customer authentication");
    end(state, session, Ending::NotAuthenticated).await
}

/// An error answer (OpenID Connect Core 3.1.2.6): the PSU cancelled, could not authenticate as the
/// bank requires, or the provider could not serve (503, logged).
async fn provider_error(state: &AppState, session: &mut Session, error: &str) -> Result<Step, ApiError> {
    // A code of the protocol, or nothing the log should carry.
    let error = if error.len() <= 40 && error.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
        error
    } else {
        "unrecognised"
    };
    match error {
        "access_denied" => end(state, session, Ending::Cancelled).await,
        "login_required"
        | "interaction_required"
        | "account_selection_required"
        | "consent_required"
        | "unmet_authentication_requirements" => {
            not_authenticated(state, session, &format!("the provider answered {error}")).await
        }
        _ => Err(ApiError::unavailable(format!(
            "the identity provider of bank {} answered the authorization request with {error}",
            session.journey.bank
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_the_request_carries_is_bound_to_the_cookie_and_the_salt() {
        let (a, b) = (Secret::from_client("cookie-a"), Secret::from_client("cookie-b"));
        let first = derive(&a, Purpose::Authorize, "salt-1");
        assert!(first.state.starts_with("authorize."));
        assert_eq!(derive(&a, Purpose::Authorize, "salt-1").nonce, first.nonce, "derived again at the callback");
        for other in [derive(&b, Purpose::Authorize, "salt-1"), derive(&a, Purpose::Authorize, "salt-2")] {
            assert_ne!(other.state, first.state);
            assert_ne!(other.nonce, first.nonce);
            assert_ne!(other.verifier, first.verifier);
        }
        assert!(!first.state.contains("cookie-a") && !first.verifier.contains("cookie-a"));
        assert!((43..=128).contains(&first.verifier.len()), "an RFC 7636 verifier");
        let params = Params::parse(format!("state={}&code=c", first.state).as_bytes());
        assert_eq!(purpose_of(&params), Some(Purpose::Authorize));
        assert_eq!(purpose_of(&Params::parse(b"state=nonsense")), None);
    }

    #[test]
    fn the_reference_keeps_the_redirect_uri_whole() {
        let r = reference("s", "", "https://www.13807.bank.example:8443/psu/oidc/callback?x=a|b");
        assert_eq!(parse_reference(&r), Some(("s", "", "https://www.13807.bank.example:8443/psu/oidc/callback?x=a|b")));
    }
}
