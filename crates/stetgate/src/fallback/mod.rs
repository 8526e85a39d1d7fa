//! Fallback (contingency access, RTS art. 33), as the bank publishes it.
//!
//! 1. [`token`]: `POST /stet/psd2/oauth/token` with `fallback: 1`, over the TPP's QWAC, form
//!    `client_id=<org id>&grant_type=client_credentials&scope=aisp` (as the bank publishes it,
//!    without `PSU-IP-Address`: the PSU authenticates on the login page anyway), answers
//!    `302 Found` to the bank's online-banking login carrying
//!    `fallback=<JWT>`: signed by the bank ([`jwt`]), naming the TPP, the bank, the scope, an id and
//!    a short expiry. No API token is ever issued or reused.
//! 2. [`online`]: the online-banking login page accepts only a valid, unexpired, unused JWT, then the
//!    PSU signs in with the usual identification and one-time code and sees their accounts,
//!    balances and transactions, in a session of its own (cookie), not an API token.
//! 3. Every use, accepted or refused, is recorded (TPP, time, outcome): `stetgate fallback report`.
//!    A use is a TPP's request (over its QWAC) or a JWT the bank signed; a login page opened with
//!    no JWT or a forged one is only counted in the metrics, and every address may open the login
//!    page a limited number of times a minute, so anonymous traffic writes nothing.
//!
//! Per bank, the fallback is offered always (the bank's choice), only while the dedicated interface
//! is declared unavailable (`stetgate outage start`) or in planned maintenance, or never.

pub mod jwt;
pub mod model;
pub mod online;
pub mod token;

use crate::config::FallbackAvailability;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use stet::{BankCode, OrgId};

pub use model::FallbackEvent;

/// Records a fallback event; a refusal whose record cannot be written is logged (the refusal
/// stands), an acceptance whose record cannot be written is refused by the caller.
pub async fn record(
    state: &AppState,
    bank: BankCode,
    client_id: Option<&OrgId>,
    jti: Option<&str>,
    event: &str,
    accepted: bool,
    detail: &str,
) -> Result<(), crate::store::StoreError> {
    let e = FallbackEvent {
        at: state.clock.now(),
        bank,
        client_id: client_id.cloned(),
        jti: jti.map(str::to_owned),
        event: event.to_owned(),
        outcome: if accepted { "accepted" } else { "refused" }.to_owned(),
        detail: detail.to_owned(),
    };
    tracing::info!(
        target: "stetgate::fallback",
        bank = %bank,
        client_id = client_id.map(|c| c.as_str()).unwrap_or(""),
        event,
        outcome = e.outcome,
        detail,
        "fallback"
    );
    let result = state.store.record_fallback_event(&e).await;
    if let Err(err) = &result {
        tracing::error!(error = %err, "fallback event not recorded");
    }
    result
}

/// Whether `bank` offers the fallback now: always, never, or while its dedicated interface is
/// declared unavailable or in a planned maintenance window.
pub async fn offered(state: &AppState, bank: BankCode) -> Result<bool, crate::store::StoreError> {
    Ok(match state.config.fallback.availability_for(bank) {
        FallbackAvailability::Always => true,
        FallbackAvailability::Off => false,
        FallbackAvailability::WhenUnavailable => {
            let now = state.clock.now();
            crate::edge::maintenance::ends_at(state, bank, now).is_some()
                || state.store.open_outage(bank, now).await?.is_some()
        }
    })
}

/// `GET /stet/psd2/fallback/jwks`: the key the bank signs fallback JWTs with (RFC 7517), for an
/// online banking outside stetgate that verifies them itself.
pub async fn jwks(State(state): State<AppState>) -> Response {
    match &state.fallback_keys {
        Some(keys) => Json(keys.jwks()).into_response(),
        None => crate::edge::error::ApiError::NotFound.into_response(),
    }
}
