//! The access token of a resource request (RFC 6750), turned into a [`Grant`]: which bank, PSU,
//! TPP and scopes it stands for. The last check of every resource request, after the TPP's
//! certificate, registration and signature; the scope a route needs is in its [`RouteFacts`].

use super::error::ApiError;
use super::request::TppRequest;
use super::route::RouteFacts;
use super::tpp::QwacCheck;
use crate::oauth::model::{Grant, RowRevision, Scope, TokenPair};
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
        let token = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(|t| Secret::from_client(t).hash());
        let facts = request.extensions().get::<RouteFacts>().copied();
        let required = facts.and_then(|f| f.scope);
        let needs_psu = facts.is_some_and(|f| f.needs_psu);
        // One query reads the token's pair and the revisions of what the node may remember; the
        // checks then run in their documented order. Only for a TPP whose QWAC passed: a client
        // without one costs no query.
        let read = match (&token, qwac_org(&request)) {
            (Some(hash), Some(org)) => Some(state.store.authorization_read(&org, hash).await?),
            _ => None,
        };
        let registration = read.as_ref().map_or(RowRevision::Unread, |r| r.registration.clone());
        let tpp_request = TppRequest::check(request, state, &registration).await?;
        let token = token.ok_or(ApiError::MissingAccessToken)?;
        let (pair, ais_consent) = match read {
            Some(read) => (read.pair, read.ais_consent),
            None => (state.store.pair_by_access_token(&token).await?, RowRevision::Unread),
        };
        let grant = validate(state, &tpp_request, pair, ais_consent, required, needs_psu).await?;
        Ok(Authorized { request: tpp_request, grant })
    }
}

/// The organisation of the request's QWAC, when it passed its checks.
fn qwac_org(request: &Request) -> Option<stet::OrgId> {
    let check = request.extensions().get::<QwacCheck>()?;
    check.0.as_ref().as_ref().ok().map(|accepted| accepted.org_id.clone())
}

async fn validate(
    state: &AppState,
    request: &TppRequest,
    pair: Option<TokenPair>,
    ais_consent: RowRevision,
    required: Option<Scope>,
    needs_psu: bool,
) -> Result<Grant, ApiError> {
    let pair = pair
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
        && let Err(e) = state.store.note_pair_use(&pair.pair_id, now, NOTE_USE_EVERY).await
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
        ais_consent,
    })
}

/// The PSU a grant acts for (routes that need one refuse a TPP's own token before their handler).
pub fn psu_of(grant: &Grant) -> Result<&crate::ledger::PsuId, ApiError> {
    grant.subject.psu().ok_or(ApiError::NoPsu)
}
