//! `POST /stet/psd2/oauth/token` with `fallback: 1`: the redirect to online banking.

use super::jwt::{AUDIENCE, FallbackClaims};
use crate::edge::bank::{Bank, request_authority};
use crate::edge::error::OAuthError;
use crate::edge::form::Params;
use crate::edge::tpp::TppIdentity;
use crate::state::AppState;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use eidas::psd2::Role;

/// The online-banking login of stetgate's own pages.
pub const LOGIN_PATH: &str = "/online-banking/login";

/// Answers the TPP's fallback request: a redirect to the login page with a signed, single-use JWT,
/// or an RFC 6749 error; both recorded (RTS art. 33 abuse reports).
pub async fn fallback_token(
    state: &AppState,
    bank: &Bank,
    tpp: &TppIdentity,
    headers: &HeaderMap,
    uri: &Uri,
    pairs: &Params,
) -> Result<Response, OAuthError> {
    let code = bank.code();
    let keys = match refusal(state, code, tpp, pairs).await.map_err(store_failure)? {
        Ok(keys) => keys,
        Err(Refusal(status, error, description)) => {
            let _ = super::record(state, code, Some(&tpp.org_id), None, "token", false, &description).await;
            return Err(OAuthError::new(status, error, description));
        }
    };
    let jwt = issue(state, code, tpp, &keys).await?;
    login_redirect(state, code, headers, uri, &jwt)
}

/// Why a fallback request is refused: the status, the RFC 6749 error and the description.
struct Refusal(StatusCode, &'static str, String);

/// The signing keys when the TPP may have a fallback JWT now, or why it may not.
async fn refusal(
    state: &AppState,
    code: stet::BankCode,
    tpp: &TppIdentity,
    pairs: &Params,
) -> Result<Result<std::sync::Arc<super::jwt::JwtKeys>, Refusal>, crate::store::StoreError> {
    let refuse = |status, error, description: String| Ok(Err(Refusal(status, error, description)));
    let client_id = pairs.get("client_id").unwrap_or("");
    if client_id != tpp.org_id.as_str() {
        let why = format!("client_id {client_id:?} is not the organization of the QWAC presented ({})", tpp.org_id);
        return refuse(StatusCode::UNAUTHORIZED, "invalid_client", why);
    }
    if let Err(why) = crate::registry::usable(&state.store, &tpp.org_id).await? {
        return refuse(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            crate::edge::error::unusable_text(&tpp.org_id, &why),
        );
    }
    match pairs.get("grant_type") {
        Some("client_credentials") => {}
        other => {
            let why = format!("the fallback uses grant_type client_credentials, not {}", other.unwrap_or("nothing"));
            return refuse(StatusCode::BAD_REQUEST, "unsupported_grant_type", why);
        }
    }
    if pairs.get("scope") != Some("aisp") {
        let why = "the fallback gives access to account information only: scope aisp".to_owned();
        return refuse(StatusCode::BAD_REQUEST, "invalid_scope", why);
    }
    if !tpp.roles.contains(&Role::AccountInformation) {
        return refuse(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            "the QWAC lacks the PSP_AI role the fallback needs".into(),
        );
    }
    // The bank publishes this request without PSU-IP-Address; the PSU is present all the same:
    // the JWT only opens the login page, where the PSU authenticates.
    if !super::offered(state, code).await? {
        let why = "the dedicated interface is available: this bank offers the fallback only while it is not".to_owned();
        return refuse(StatusCode::BAD_REQUEST, "unauthorized_client", why);
    }
    match &state.fallback_keys {
        Some(keys) => Ok(Ok(keys.clone())),
        None => {
            let why = "the fallback is not configured on this server (fallback.signing_key)".to_owned();
            refuse(StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable", why)
        }
    }
}

/// Signs the JWT and records it as a single-use grant.
async fn issue(
    state: &AppState,
    code: stet::BankCode,
    tpp: &TppIdentity,
    keys: &super::jwt::JwtKeys,
) -> Result<String, OAuthError> {
    let now = state.clock.now();
    let expires = now.saturating_add(state.config.fallback.jwt_lifetime()).unwrap_or(now);
    let claims = FallbackClaims {
        iss: format!("stetgate:{code}"),
        sub: tpp.org_id.to_string(),
        aud: AUDIENCE.to_owned(),
        bank: code.to_string(),
        scope: "aisp".to_owned(),
        jti: uuid::Uuid::new_v4().to_string(),
        // JWT claims are whole seconds (RFC 7519 NumericDate).
        iat: now.as_second(),
        exp: expires.as_second(),
    };
    let jwt = keys.sign(&claims).map_err(|e| {
        tracing::error!(error = e, "fallback JWT not signed");
        OAuthError::new(StatusCode::INTERNAL_SERVER_ERROR, "server_error", "the fallback JWT could not be signed")
    })?;
    state
        .store
        .insert_fallback_grant(&claims.jti, code, &tpp.org_id, &claims.scope, now, expires)
        .await
        .map_err(store_failure)?;
    super::record(state, code, Some(&tpp.org_id), Some(&claims.jti), "token", true, "redirected to online banking")
        .await
        .map_err(store_failure)?;
    Ok(jwt)
}

/// 302 to the bank's login page (its own, or stetgate's on the bank's host) carrying the JWT.
fn login_redirect(
    state: &AppState,
    code: stet::BankCode,
    headers: &HeaderMap,
    uri: &Uri,
    jwt: &str,
) -> Result<Response, OAuthError> {
    let base = match &state.config.fallback.login_url {
        Some(url) => url.clone(),
        None => {
            let authority = request_authority(headers, uri).unwrap_or_else(|| "localhost".to_owned());
            format!("https://{authority}{LOGIN_PATH}")
        }
    };
    let mut location = url::Url::parse(&base).map_err(|e| {
        OAuthError::new(StatusCode::INTERNAL_SERVER_ERROR, "server_error", format!("login URL unusable: {e}"))
    })?;
    location
        .query_pairs_mut()
        .append_pair("service", "dei")
        .append_pair("cdetab", code.as_str())
        .append_pair("fallback", jwt);
    let mut response = StatusCode::FOUND.into_response();
    let value = HeaderValue::from_str(location.as_str())
        .map_err(|_| OAuthError::new(StatusCode::INTERNAL_SERVER_ERROR, "server_error", "login URL unusable"))?;
    response.headers_mut().insert(header::LOCATION, value);
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

fn store_failure(e: crate::store::StoreError) -> OAuthError {
    OAuthError::store("fallback", e)
}
