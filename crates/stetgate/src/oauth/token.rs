//! `POST /stet/psd2/oauth/token` (RFC 6749 4.1.3 and 6, over mutual TLS: the QWAC's organization
//! must be the `client_id`) and `POST /stet/psd2/oauth/revoke` (RFC 7009). Errors are RFC 6749 5.2
//! JSON; answers carry `Cache-Control: no-store`.

use super::{Subject, TokenPair};
use crate::edge::bank::Bank;
use crate::edge::error::OAuthError;
use crate::edge::form::Params;
use crate::edge::tpp::OAuthTpp;
use crate::secret::Secret;
use crate::state::AppState;
use crate::store::{Presented, Redeemed};
use axum::Extension;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use jiff::{SignedDuration, Timestamp};
use stet::oauth::TokenResponse;

fn invalid_grant(description: impl Into<String>) -> OAuthError {
    OAuthError::new(StatusCode::BAD_REQUEST, "invalid_grant", description)
}

fn invalid_request(description: impl Into<String>) -> OAuthError {
    OAuthError::new(StatusCode::BAD_REQUEST, "invalid_request", description)
}

fn store_error(e: crate::store::StoreError) -> OAuthError {
    OAuthError::store("token store", e)
}

fn no_store(mut response: Response) -> Response {
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response.headers_mut().insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

pub async fn token(
    State(state): State<AppState>,
    Extension(bank): Extension<Bank>,
    OAuthTpp(tpp): OAuthTpp,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Result<Response, OAuthError> {
    let pairs = Params::unique(&body).map_err(invalid_request)?;
    // The bank's fallback (RTS art. 33): same endpoint, header `fallback: 1`.
    if let Some(value) = headers.get("fallback") {
        if value.as_bytes() != b"1" {
            return Err(invalid_request("the fallback header, when sent, must be 1"));
        }
        return crate::fallback::token::fallback_token(&state, &bank, &tpp, &headers, &uri, &pairs).await;
    }
    let client_id = pairs.get("client_id").ok_or_else(|| invalid_request("client_id is missing"))?;
    if client_id != tpp.org_id.as_str() {
        return Err(OAuthError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            format!("client_id {client_id} is not the organization of the QWAC presented ({})", tpp.org_id),
        ));
    }
    if let Err(why) = crate::registry::usable(&state.store, &tpp.org_id).await.map_err(store_error)? {
        return Err(OAuthError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            crate::edge::error::unusable_text(&tpp.org_id, &why),
        ));
    }
    let now = state.clock.now();
    let tokens = match pairs.get("grant_type") {
        Some("authorization_code") => authorization_code(&state, &bank, &tpp.org_id, &pairs, now).await?,
        Some("refresh_token") => refresh(&state, &bank, &tpp.org_id, &pairs, now).await?,
        Some("client_credentials") => client_credentials(&state, &bank, &tpp, &pairs, now).await?,
        Some(other) => {
            return Err(OAuthError::new(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                format!("grant_type {other} is not supported"),
            ));
        }
        None => return Err(invalid_request("grant_type is missing")),
    };
    Ok(no_store(Json(tokens).into_response()))
}

async fn authorization_code(
    state: &AppState,
    bank: &Bank,
    client: &stet::OrgId,
    pairs: &Params,
    now: Timestamp,
) -> Result<TokenResponse, OAuthError> {
    let code = pairs.get("code").ok_or_else(|| invalid_request("code is missing"))?;
    let redirect_uri = pairs.get("redirect_uri").ok_or_else(|| invalid_request("redirect_uri is missing"))?;
    let code_hash = Secret::from_client(code).hash();
    let challenge = match pairs.get("code_verifier") {
        Some(verifier) if super::valid_code_verifier(verifier) => Some(super::s256_challenge(verifier)),
        Some(_) => return Err(invalid_request("code_verifier must be 43 to 128 unreserved characters (RFC 7636)")),
        None => None,
    };
    let presented = Presented { client, bank: bank.code(), redirect_uri, challenge: challenge.as_deref() };
    // Every condition is checked inside the atomic redemption: a code presented wrongly (by another
    // TPP, say) is refused without being spent.
    let grant = match state.store.redeem_authorization_code(&code_hash, &presented, now).await.map_err(store_error)? {
        Redeemed::Fresh(grant) => grant,
        Redeemed::Reused(grant) => {
            // RFC 6749 4.1.2: a code used twice revokes what it issued.
            if let Some(pair) = &grant.pair_id {
                state.store.revoke_token_pair(pair, now).await.map_err(store_error)?;
            }
            return Err(invalid_grant("the code was already used; the tokens it issued are revoked"));
        }
        Redeemed::Refused(grant) => return Err(invalid_grant(refusal(&grant, &presented, now))),
        Redeemed::Unknown => return Err(invalid_grant("unknown code")),
    };
    let (access, refresh) = secrets()?;
    let oauth = &state.config.oauth;
    let pair = TokenPair {
        pair_id: uuid::Uuid::new_v4().to_string(),
        bank: grant.bank,
        client_id: grant.client_id,
        subject: Subject::Psu(grant.psu),
        scopes: grant.scopes.clone(),
        access_expires_at: now.saturating_add(oauth.access_token_lifetime()).unwrap_or(now),
        refresh_expires_at: now.saturating_add(oauth.refresh_token_lifetime()).unwrap_or(now),
        sca_at: grant.sca_at,
        revoked_at: None,
        payment: grant.payment.clone(),
        last_used_at: None,
    };
    state
        .store
        .issue_token_pair(&pair, &access.hash(), &refresh.hash(), Some(&code_hash), now)
        .await
        .map_err(store_error)?;
    Ok(answer(&access, refresh.expose(), grant.scopes.to_string(), oauth.access_token_lifetime()))
}

/// A PISP's own token (RFC 6749 4.4): scope `pisp`, over mutual TLS with a QWAC carrying PSP_PI;
/// its subject is the TPP, and it has no refresh token (the PISP asks for a new one). Other scopes
/// by client credentials stay refused: the fallback has its own branch (`fallback: 1`).
async fn client_credentials(
    state: &AppState,
    bank: &Bank,
    tpp: &crate::edge::tpp::TppIdentity,
    pairs: &Params,
    now: Timestamp,
) -> Result<TokenResponse, OAuthError> {
    match pairs.get("scope") {
        Some("pisp") => {}
        Some(other) => {
            return Err(OAuthError::new(
                StatusCode::BAD_REQUEST,
                "invalid_scope",
                format!("client_credentials grants scope pisp only (payment initiation), not {other}"),
            ));
        }
        None => return Err(invalid_request("scope is missing: client_credentials grants scope pisp")),
    }
    if !tpp.roles.contains(&eidas::psd2::Role::PaymentInitiation) {
        return Err(OAuthError::new(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            "scope pisp needs the PSP_PI role, which the QWAC presented lacks",
        ));
    }
    let (access, unused_refresh) = secrets()?;
    let lifetime = state.config.oauth.access_token_lifetime();
    let expires = now.saturating_add(lifetime).unwrap_or(now);
    let pair = TokenPair {
        pair_id: uuid::Uuid::new_v4().to_string(),
        bank: bank.code(),
        client_id: tpp.org_id.clone(),
        subject: Subject::Tpp,
        scopes: super::Scopes::new(vec![super::Scope::Pisp]),
        access_expires_at: expires,
        // No refresh token is handed out: its hash is of a secret nobody holds.
        refresh_expires_at: expires,
        sca_at: now,
        revoked_at: None,
        payment: None,
        last_used_at: None,
    };
    state
        .store
        .issue_token_pair(&pair, &access.hash(), &unused_refresh.hash(), None, now)
        .await
        .map_err(store_error)?;
    Ok(TokenResponse {
        access_token: access.expose().to_owned(),
        token_type: "Bearer".into(),
        expires_in: lifetime.as_secs(),
        scope: "pisp".into(),
        refresh_token: None,
    })
}

/// Why a code was not redeemed, in the order a TPP should check.
fn refusal(grant: &super::CodeGrant, presented: &Presented<'_>, now: Timestamp) -> &'static str {
    if &grant.client_id != presented.client {
        "the code was issued to another client"
    } else if grant.bank != presented.bank {
        "the code was issued by another bank"
    } else if grant.redirect_uri != presented.redirect_uri {
        "redirect_uri differs from the one of the authorization request"
    } else if now > grant.expires_at {
        "the code expired"
    } else if grant.code_challenge.is_some() && presented.challenge.is_none() {
        "code_verifier is missing: the authorization request carried a code_challenge (PKCE)"
    } else if grant.code_challenge.is_none() {
        "code_verifier was sent, but the authorization request carried no code_challenge"
    } else {
        "code_verifier does not match the code_challenge of the authorization request (S256)"
    }
}

fn answer(access: &Secret, refresh_token: &str, scope: String, lifetime: SignedDuration) -> TokenResponse {
    TokenResponse {
        access_token: access.expose().to_owned(),
        token_type: "Bearer".into(),
        // RFC 6749 section 5.1: whole seconds on the wire.
        expires_in: lifetime.as_secs(),
        scope,
        refresh_token: Some(refresh_token.to_owned()),
    }
}

fn secrets() -> Result<(Secret, Secret), OAuthError> {
    match (Secret::generate(), Secret::generate()) {
        (Ok(a), Ok(r)) => Ok((a, r)),
        _ => Err(OAuthError::new(StatusCode::INTERNAL_SERVER_ERROR, "server_error", "no randomness")),
    }
}

async fn refresh(
    state: &AppState,
    bank: &Bank,
    client: &stet::OrgId,
    pairs: &Params,
    now: Timestamp,
) -> Result<TokenResponse, OAuthError> {
    let refresh_token = pairs.get("refresh_token").ok_or_else(|| invalid_request("refresh_token is missing"))?;
    let pair = state
        .store
        .pair_by_refresh_token(&Secret::from_client(refresh_token).hash())
        .await
        .map_err(store_error)?
        .filter(|p| &p.client_id == client && p.bank == bank.code())
        .ok_or_else(|| invalid_grant("unknown refresh token"))?;
    if pair.revoked_at.is_some() {
        return Err(invalid_grant("the refresh token is revoked"));
    }
    // The regulatory rule first: it tells the TPP what to do (ask the PSU again).
    let oauth = &state.config.oauth;
    if now.duration_since(pair.sca_at) > oauth.sca_validity() {
        state.store.revoke_token_pair(&pair.pair_id, now).await.map_err(store_error)?;
        return Err(invalid_grant(format!(
            "the PSU's last strong authentication is older than {} days: ask the PSU to authorize again",
            oauth.sca_validity_days
        )));
    }
    if now > pair.refresh_expires_at {
        return Err(invalid_grant("the refresh token expired"));
    }
    let (access, _) = secrets()?;
    let rotated = state
        .store
        .rotate_access_token(
            &pair.pair_id,
            &access.hash(),
            now.saturating_add(oauth.access_token_lifetime()).unwrap_or(now),
        )
        .await
        .map_err(store_error)?;
    if !rotated {
        return Err(invalid_grant("the refresh token is revoked"));
    }
    // As the bank publishes its refresh answer: the same refresh token, "offline_access" added.
    Ok(answer(&access, refresh_token, format!("{} offline_access", pair.scopes), oauth.access_token_lifetime()))
}

/// `POST /stet/psd2/oauth/revoke` (RFC 7009): either token revokes the pair; an unknown token is
/// answered 200, as the RFC says.
pub async fn revoke(
    State(state): State<AppState>,
    Extension(bank): Extension<Bank>,
    OAuthTpp(tpp): OAuthTpp,
    body: Bytes,
) -> Result<Response, OAuthError> {
    let pairs = Params::unique(&body).map_err(invalid_request)?;
    if let Some(client_id) = pairs.get("client_id")
        && client_id != tpp.org_id.as_str()
    {
        return Err(OAuthError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "client_id is not the organization of the QWAC presented",
        ));
    }
    let token = pairs.get("token").ok_or_else(|| invalid_request("token is missing"))?;
    let hash = Secret::from_client(token).hash();
    let refresh_first = pairs.get("token_type_hint") == Some("refresh_token");
    let (first, second) = if refresh_first {
        (state.store.pair_by_refresh_token(&hash).await, state.store.pair_by_access_token(&hash).await)
    } else {
        (state.store.pair_by_access_token(&hash).await, state.store.pair_by_refresh_token(&hash).await)
    };
    let pair = first.map_err(store_error)?.or(second.map_err(store_error)?).filter(|p| p.bank == bank.code());
    if let Some(pair) = pair {
        if pair.client_id != tpp.org_id {
            return Err(OAuthError::new(
                StatusCode::BAD_REQUEST,
                "unauthorized_client",
                "this token was not issued to you",
            ));
        }
        state.store.revoke_token_pair(&pair.pair_id, state.clock.now()).await.map_err(store_error)?;
    }
    Ok(no_store(StatusCode::OK.into_response()))
}
