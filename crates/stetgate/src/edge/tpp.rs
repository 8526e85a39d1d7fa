//! Who is calling: the TPP authenticated by the QWAC it presented in the TLS handshake.
//!
//! The certificate must chain to a configured QTSP trust anchor (plus, in the sandbox, the sandbox
//! CA), be valid now (the application's clock), carry the PSD2 statement and an organizationIdentifier
//! of the PSD2 form, not be a seal (QcType eseal) and not be revoked by its QTSP (`crate::revocation`):
//! otherwise 401, saying which check failed (503 when its revocation status cannot be established
//! and its anchor is hard-fail). A
//! route declares the PSD2 role it needs in its [`RouteFacts`]; a valid QWAC without that role gets
//! 403. ETSI TS 119 495; STET Part I section 3.2.

use super::error::{ApiError, OAuthError};
use super::route::RouteFacts;
use super::tls::ConnectionInfo;
use crate::revocation::Certificate;
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::Extensions;
use axum::http::request::Parts;
use eidas::psd2::{Psd2Certificate, Role};
use eidas::trust::{Accepted, TrustError};
use std::sync::Arc;
use stet::OrgId;

/// A TPP authenticated by its QWAC.
#[derive(Debug, Clone)]
pub struct TppIdentity {
    pub org_id: OrgId,
    pub roles: Vec<Role>,
    pub qwac: Psd2Certificate,
}

/// The QWAC check of a request's connection, made once, by the outermost layer: it identifies the
/// TPP for the statistics whatever answers the request, and the route's extractor reuses it.
#[derive(Debug, Clone)]
pub struct QwacCheck(pub Arc<Result<Accepted, TrustError>>);

/// Checks the client certificate of the connection `extensions` belong to, if it presented one:
/// its chain (remembered a while by the trust memo), then its revocation status (cached).
pub async fn check_connection(extensions: &Extensions, state: &AppState) -> Option<QwacCheck> {
    let chain = extensions.get::<ConnectionInfo>()?.client_chain.as_ref()?;
    let now = state.clock.now().as_second();
    let checked = match state.trust.check_qwac(chain, now) {
        Ok(accepted) => {
            let revocation = state.revocation.check(&state.metrics, Certificate::Qwac, chain, now).await;
            revocation.map(|()| accepted)
        }
        Err(refused) => Err(refused),
    };
    Some(QwacCheck(Arc::new(checked)))
}

/// The QWAC of the connection a request came on, as the outermost layer (`finish`) checked it;
/// none when the connection presented no certificate.
fn qwac(extensions: &Extensions) -> Result<Accepted, ApiError> {
    let check = extensions.get::<QwacCheck>().ok_or(ApiError::NoClientCertificate)?;
    check.0.as_ref().clone().map_err(|refused| match refused {
        TrustError::RevocationUnknown(why) => ApiError::RevocationUnknown { certificate: "QWAC", why },
        other => ApiError::UntrustedCertificate(other),
    })
}

/// Authenticates the TPP of a request, and checks the route's role when it declares one.
pub fn authenticate(parts: &Parts) -> Result<TppIdentity, ApiError> {
    let accepted = qwac(&parts.extensions)?;
    let roles: Vec<Role> =
        accepted.certificate.psd2.as_ref().map(|p| p.roles.iter().filter_map(|r| r.role).collect()).unwrap_or_default();
    if let Some(needed) = parts.extensions.get::<RouteFacts>().and_then(|f| f.role)
        && !roles.contains(&needed)
    {
        return Err(ApiError::MissingRole { needed, held: roles });
    }
    Ok(TppIdentity { org_id: accepted.org_id, roles, qwac: accepted.certificate })
}

/// A TPP authenticated by its QWAC (any PSD2 role), refused in the OAuth error format: the
/// authorization server's and the registration's endpoints.
pub struct OAuthTpp(pub TppIdentity);

impl FromRequestParts<AppState> for OAuthTpp {
    type Rejection = OAuthError;

    async fn from_request_parts(parts: &mut Parts, _state: &AppState) -> Result<Self, Self::Rejection> {
        authenticate(parts).map(OAuthTpp).map_err(OAuthError::from)
    }
}
