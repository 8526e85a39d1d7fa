//! The access token of a resource request (RFC 6750), turned into a [`Grant`]: which bank, PSU,
//! TPP and scopes it stands for. The last check of every resource request, after the TPP's
//! certificate, registration and signature; the scope a route needs is in its [`RouteFacts`].

use super::error::ApiError;
use super::request::TppRequest;
use super::route::RouteFacts;
use crate::oauth::model::{Grant, Scope};
use crate::secret::Secret;
use crate::state::AppState;
use axum::extract::{FromRequest, Request};
use axum::http::header;

/// How often a token pair's last use is written.
const NOTE_USE_EVERY: jiff::SignedDuration = jiff::SignedDuration::from_mins(1);

/// A resource request that passed every check, with its grant.
#[derive(Debug, Clone)]
pub struct Authorized {
    pub request: TppRequest,
    pub grant: Grant,
}

impl FromRequest<AppState> for Authorized {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let authorization =
            request.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let facts = request.extensions().get::<RouteFacts>().copied();
        let required = facts.and_then(|f| f.scope);
        let needs_psu = facts.is_some_and(|f| f.needs_psu);
        let tpp_request = TppRequest::from_request(request, state).await?;
        let grant = validate(state, &tpp_request, authorization.as_deref(), required, needs_psu).await?;
        Ok(Authorized { request: tpp_request, grant })
    }
}

async fn validate(
    state: &AppState,
    request: &TppRequest,
    authorization: Option<&str>,
    required: Option<Scope>,
    needs_psu: bool,
) -> Result<Grant, ApiError> {
    let token = authorization
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or(ApiError::MissingAccessToken)?;
    let pair = state
        .store
        .pair_by_access_token(&Secret::from_client(token).hash())
        .await?
        // A token of another bank is unknown here.
        .filter(|p| p.bank == request.stet.bank.code())
        .ok_or(ApiError::InvalidAccessToken)?;
    let now = state.clock.now();
    if pair.revoked_at.is_some() || now > pair.access_expires_at {
        return Err(ApiError::InvalidAccessToken);
    }
    // A token presented with another TPP's certificate is useless.
    if pair.client_id != request.tpp.org_id {
        return Err(ApiError::InvalidAccessToken);
    }
    if let Some(needed) = required
        && !pair.scopes.contains(needed)
    {
        // As published: refusing for insufficient scope revokes the refresh token (and so the pair),
        // so the TPP asks the PSU for a token with the right scope.
        state.store.revoke_token_pair(&pair.pair_id, now).await?;
        return Err(ApiError::InsufficientScope { needed, granted: pair.scopes.to_string() });
    }
    // Account information and funds confirmation act for a PSU: a token of the TPP itself
    // (client credentials) cannot reach them.
    if needs_psu && pair.subject.psu().is_none() {
        return Err(ApiError::NoPsu);
    }
    // When the TPP last used this access, for the PSU's permission dashboard: noted at most once a
    // minute, so a busy token costs one write a minute, not one per call. Best effort: a note that
    // cannot be written (a busy or failing database) never refuses the TPP's call.
    if pair.last_used_at.is_none_or(|last| now.duration_since(last) >= NOTE_USE_EVERY)
        && let Err(e) = state.store.note_pair_use(&pair.pair_id, now).await
    {
        tracing::warn!(error = %e, "could not note a token pair's use");
    }
    Ok(Grant {
        pair_id: pair.pair_id,
        bank: pair.bank,
        subject: pair.subject,
        client_id: pair.client_id,
        scopes: pair.scopes,
        payment: pair.payment,
    })
}

/// The PSU a grant acts for (routes that need one refuse a TPP's own token before their handler).
pub fn psu_of(grant: &Grant) -> Result<&crate::ledger::PsuId, ApiError> {
    grant.subject.psu().ok_or(ApiError::NoPsu)
}
