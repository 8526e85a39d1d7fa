//! The STET resource route table, per API version, as Groupe BPCE serves it.
//!
//! Every path a TPP may call is registered here with its method, the PSD2 role and the OAuth scope
//! it needs, so that an unknown path is a 404, a known path with the wrong method a 405 with
//! `Allow`, and every request meets the same checks (see `oauth::bearer::Authorized`) before its
//! handler in `ais/` or `piis/`.

use crate::app::AppState;
use crate::edge::facts::note_family;
use crate::edge::tpp::RequiredRole;
use crate::oauth::Scope;
use crate::oauth::bearer::RequiredScope;
use crate::statistics::Family;
use crate::{ais, piis};
use axum::middleware::from_fn_with_state;
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
    let piis = Router::new().route("/funds-confirmations", post(piis::funds_confirmation));
    let funds_scope = if version == ApiVersion::V1 { Scope::Piisp } else { Scope::Cbpii };
    ais.route_layer(from_fn_with_state(Family::Ais, note_family))
        .route_layer(Extension(RequiredScope(Scope::Aisp)))
        .route_layer(Extension(RequiredRole(Role::AccountInformation)))
        .merge(
            piis.route_layer(from_fn_with_state(Family::Funds, note_family))
                .route_layer(Extension(RequiredScope(funds_scope)))
                .route_layer(Extension(RequiredRole(Role::CardIssuing))),
        )
        .layer(Extension(version))
}
