//! The access token of a resource request (RFC 6750), turned into a [`Grant`]: which bank, PSU,
//! TPP and scopes it stands for. The last check of every resource request, after the TPP's
//! certificate, registration and signature.

use super::{Scope, Scopes};
use crate::app::AppState;
use crate::edge::error::ApiError;
use crate::edge::request::TppRequest;
use crate::ledger::PsuId;
use crate::secret::Secret;
use axum::extract::{FromRequest, Request};
use axum::http::header;
use stet::{BankCode, OrgId};

/// The scope a route needs (set with `route_layer(Extension(RequiredScope(...)))`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequiredScope(pub Scope);

/// What a valid access token grants.
#[derive(Debug, Clone)]
pub struct Grant {
    pub pair_id: String,
    pub bank: BankCode,
    pub psu: PsuId,
    pub client_id: OrgId,
    pub scopes: Scopes,
}

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
        let required = request.extensions().get::<RequiredScope>().copied();
        let tpp_request = TppRequest::from_request(request, state).await?;
        let grant = validate(state, &tpp_request, authorization.as_deref(), required).await?;
        Ok(Authorized { request: tpp_request, grant })
    }
}

async fn validate(
    state: &AppState,
    request: &TppRequest,
    authorization: Option<&str>,
    required: Option<RequiredScope>,
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
    let now = state.clock.now().as_millisecond();
    if pair.revoked_at.is_some() || now > pair.access_expires_at {
        return Err(ApiError::InvalidAccessToken);
    }
    // A token presented with another TPP's certificate is useless.
    if pair.client_id != request.tpp.org_id {
        return Err(ApiError::InvalidAccessToken);
    }
    if let Some(RequiredScope(needed)) = required
        && !pair.scopes.contains(needed)
    {
        // As published: refusing for insufficient scope revokes the refresh token (and so the pair),
        // so the TPP asks the PSU for a token with the right scope.
        state.store.revoke_token_pair(&pair.pair_id, now).await?;
        return Err(ApiError::InsufficientScope { needed, granted: pair.scopes.to_string() });
    }
    Ok(Grant { pair_id: pair.pair_id, bank: pair.bank, psu: pair.psu, client_id: pair.client_id, scopes: pair.scopes })
}
