//! The payment hub's status callback: `POST /core-banking/v1/payment-status` on the bank's host.
//! The bank's hub reads its own report ([`crate::ledger::hub::PaymentHub::read_report`]: signature
//! and body, docs/core-banking.md); the outcome is recorded if the execution is still open (the
//! first outcome wins), and the payment request's status follows.
//!
//! Answers: 204 recorded or already known; 400 not a status, or a key stetgate never sent; 401 a
//! missing, stale or wrong signature; 404 a bank whose payments do not go through an adapter.

use super::execute;
use crate::edge::bank::Bank;
use crate::ledger::hub::ReportError;
use crate::state::AppState;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

fn problem(status: StatusCode, error: &str, message: &str) -> Response {
    (status, Json(serde_json::json!({"error": error, "message": message}))).into_response()
}

pub async fn status(
    State(state): State<AppState>,
    Extension(bank): Extension<Bank>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let signature = headers.get("x-stetgate-signature").and_then(|v| v.to_str().ok()).unwrap_or_default();
    let report = match state.hub.read_report(bank.code(), signature, &body, state.clock.now().as_second()) {
        Ok(report) => report,
        Err(ReportError::NoReports) => {
            return problem(StatusCode::NOT_FOUND, "not_found", "this bank's payments do not go through a hub");
        }
        Err(ReportError::Unsigned) => {
            // Anyone can post here: a refusal is not worth a warning each time.
            tracing::debug!(bank = %bank.code(), "payment hub callback refused: missing, stale or wrong signature");
            return problem(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "X-Stetgate-Signature is missing, stale or wrong",
            );
        }
        Err(ReportError::Malformed(why)) => return problem(StatusCode::BAD_REQUEST, "bad_request", &why),
    };
    match execute::record(&state, &report.key, report.outcome.clone()).await {
        Ok(Some(recorded)) => {
            tracing::info!(bank = %bank.code(), recorded, outcome = ?report.outcome, "payment hub callback");
            StatusCode::NO_CONTENT.into_response()
        }
        Ok(None) => problem(StatusCode::BAD_REQUEST, "bad_request", "no transfer of this key was sent to the hub"),
        Err(e) => {
            tracing::error!(bank = %bank.code(), error = %e, "payment hub callback not recorded");
            let mut response = problem(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "retry later");
            response.headers_mut().insert(axum::http::header::RETRY_AFTER, axum::http::HeaderValue::from_static("5"));
            response
        }
    }
}
