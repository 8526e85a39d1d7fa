//! Who is calling: the TPP authenticated by the QWAC it presented in the TLS handshake.
//!
//! The certificate must chain to a configured QTSP trust anchor (plus, in the sandbox, the sandbox
//! CA), be valid now (the application's clock), carry the PSD2 statement and an organizationIdentifier
//! of the PSD2 form, and not be a seal (QcType eseal): otherwise 401, saying which check failed. A
//! route declares the PSD2 role it needs in its [`RouteFacts`]; a valid QWAC without that role gets
//! 403. ETSI TS 119 495; STET Part I section 3.2.

use super::error::{ApiError, OAuthError};
use super::route::RouteFacts;
use super::tls::ConnectionInfo;
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

/// Checks the client certificate of the connection `extensions` belong to, if it presented one.
pub fn check_connection(extensions: &Extensions, state: &AppState) -> Option<QwacCheck> {
    let chain = extensions.get::<ConnectionInfo>()?.client_chain.as_ref()?;
    Some(QwacCheck(Arc::new(state.trust.check_qwac(chain, state.clock.now().as_second()))))
}

/// The QWAC of the connection a request came on, checked against the trust anchors.
fn qwac(extensions: &Extensions, state: &AppState) -> Result<Accepted, ApiError> {
    let check = match extensions.get::<QwacCheck>() {
        Some(check) => check.clone(),
        None => check_connection(extensions, state).ok_or(ApiError::NoClientCertificate)?,
    };
    check.0.as_ref().clone().map_err(ApiError::UntrustedCertificate)
}

/// Authenticates the TPP of a request, and checks the route's role when it declares one.
pub fn authenticate(parts: &Parts, state: &AppState) -> Result<TppIdentity, ApiError> {
    let accepted = qwac(&parts.extensions, state)?;
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

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        authenticate(parts, state).map(OAuthTpp).map_err(OAuthError::from)
    }
}
