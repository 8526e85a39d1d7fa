//! The STET resource route table, per API version, as Groupe BPCE serves it.
//!
//! Every path a TPP may call is registered here with its method, so that an unknown path is a 404
//! and a known path with the wrong method a 405 with `Allow`, from the first release on. Each
//! resource needs a registered TPP with the route's PSD2 role, a valid signature, and an access token
//! obtained through the OAuth2 authorization server; until a route's capability is wired in, its
//! handler is [`access_token_required`], which applies every check and then answers 401 exactly as
//! it will for a request without a valid token.

use crate::ais;
use crate::app::AppState;
use crate::edge::error::ApiError;
use crate::edge::tpp::RequiredRole;
use crate::oauth::Scope;
use crate::oauth::bearer::{Authorized, RequiredScope};
use axum::routing::{get, post, put};
use axum::{Extension, Router};
use eidas::psd2::Role;
use stet::ApiVersion;

/// The resource routes of every version, mounted under `/stet/psd2`.
pub fn routes() -> Router<AppState> {
    ApiVersion::ALL
        .into_iter()
        .fold(Router::new(), |router, version| router.nest(&format!("/{}", version.segment()), version_routes(version)))
}

fn version_routes(version: ApiVersion) -> Router<AppState> {
    // Account information: PSP_AI and scope aisp (ais/).
    let mut ais = Router::new()
        .route("/accounts", get(ais::accounts))
        .route("/accounts/{accountResourceId}/balances", get(ais::balances))
        .route("/accounts/{accountResourceId}/transactions", get(ais::transactions))
        .route("/consents", put(ais::put_consents))
        .route("/trusted-beneficiaries", get(ais::trusted_beneficiaries));
    if version >= ApiVersion::V1_4_2 {
        ais = ais.route("/end-user-identity", get(ais::end_user_identity));
    }
    if version >= ApiVersion::V1_6_2 {
        ais = ais.route("/accounts/{accountResourceId}/overdrafts", get(ais::overdrafts)).route(
            "/accounts/{accountResourceId}/transactions/{transactionResourceId}/details",
            get(ais::transaction_details),
        );
    }
    // Funds confirmation: PSP_IC, and the scope piisp in v1, cbpii from 1.4.2 on.
    let piis = Router::new().route("/funds-confirmations", post(not_served_yet));
    let funds_scope = if version == ApiVersion::V1 { Scope::Piisp } else { Scope::Cbpii };
    ais.route_layer(Extension(RequiredScope(Scope::Aisp)))
        .route_layer(Extension(RequiredRole(Role::AccountInformation)))
        .merge(
            piis.route_layer(Extension(RequiredScope(funds_scope)))
                .route_layer(Extension(RequiredRole(Role::CardIssuing))),
        )
        .layer(Extension(version))
}

/// Every check passed (conventions, QWAC, registration, signature, access token and scope), but
/// the resource itself is not served yet: 501, as STET allows for an endpoint not implemented.
async fn not_served_yet(_request: Authorized) -> ApiError {
    ApiError::NotServedYet
}
