//! The payment hub's status callback: `POST /core-banking/v1/payment-status` on the bank's host,
//! a `PaymentStatusBody` of the core-banking contract, signed by the hub with the bank's callback
//! key (`[core_banking."<bank>".payments] callback_hmac_key_file`):
//! `X-Stetgate-Signature: t=<unix seconds>,hmac-sha256=<hex of HMAC-SHA256(key, "<t>.<body>")>`,
//! `t` within five minutes of stetgate's clock. The outcome is recorded if the execution is still
//! open (the first outcome wins), and the payment request's status follows.
//!
//! Answers: 204 recorded or already known; 400 not a status, or a key stetgate never sent; 401 a
//! missing, stale or wrong signature; 404 a bank whose payments do not go through an adapter.

use super::execute;
use crate::core_banking::contract::{PaymentStatusBody, callback_signature};
use crate::edge::bank::Bank;
use crate::state::AppState;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

/// How far a callback's `t` may be from the bank's clock.
const MAX_SKEW_SECS: i64 = 300;

fn problem(status: StatusCode, error: &str, message: &str) -> Response {
    (status, Json(serde_json::json!({"error": error, "message": message}))).into_response()
}

pub async fn status(
    State(state): State<AppState>,
    Extension(bank): Extension<Bank>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(key) = state.hub.callback_key(bank.code()) else {
        return problem(StatusCode::NOT_FOUND, "not_found", "this bank's payments do not go through a hub");
    };
    let signature = headers.get("x-stetgate-signature").and_then(|v| v.to_str().ok()).unwrap_or_default();
    if !signed(key, signature, &body, state.clock.now().as_second()) {
        // Anyone can post here: a refusal is not worth a warning each time.
        tracing::debug!(bank = %bank.code(), "payment hub callback refused: missing, stale or wrong signature");
        return problem(StatusCode::UNAUTHORIZED, "unauthorized", "X-Stetgate-Signature is missing, stale or wrong");
    }
    let Ok(report) = serde_json::from_slice::<PaymentStatusBody>(&body) else {
        return problem(StatusCode::BAD_REQUEST, "bad_request", "the body is not a PaymentStatusBody");
    };
    let outcome = match report.outcome() {
        Ok(outcome) => outcome,
        Err(why) => return problem(StatusCode::BAD_REQUEST, "bad_request", &why),
    };
    if !report.key.starts_with(&format!("{}/", bank.code())) {
        return problem(StatusCode::BAD_REQUEST, "bad_request", "the key is another bank's");
    }
    match execute::record(&state, &report.key, outcome).await {
        Ok(Some(recorded)) => {
            tracing::info!(bank = %bank.code(), recorded, status = ?report.status, "payment hub callback");
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

/// A callback key file's bytes, a final line break left out (read at start-up).
pub fn read_key(path: &std::path::Path) -> Result<Vec<u8>, String> {
    let mut key = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    while key.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
        key.pop();
    }
    if key.len() < 32 {
        return Err(format!("{}: the key must be at least 32 bytes (256 bits)", path.display()));
    }
    Ok(key)
}

/// `t=<unix>,hmac-sha256=<hex>` over `<t>.<body>`, with `t` near `now`.
fn signed(key: &[u8], header: &str, body: &[u8], now: i64) -> bool {
    let Some((t, mac)) = header.split_once(",hmac-sha256=") else { return false };
    let Some(Ok(t)) = t.strip_prefix("t=").map(str::parse::<i64>) else { return false };
    if now.abs_diff(t) > MAX_SKEW_SECS.unsigned_abs() {
        return false;
    }
    crate::secret::same_secret(&callback_signature(key, t, body), mac)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_fresh_signature_with_the_key_over_this_body_passes() {
        let (key, body, now) = (b"hub-key".as_slice(), br#"{"key":"k"}"#.as_slice(), 1_800_000_000);
        let good = format!("t={now},hmac-sha256={}", callback_signature(key, now, body));
        assert!(signed(key, &good, body, now + 10));
        assert!(!signed(key, &good, b"{}", now), "another body");
        assert!(!signed(b"other", &good, body, now), "another key");
        assert!(!signed(key, &good, body, now + 301), "stale");
        assert!(!signed(key, "", body, now) && !signed(key, "t=x,hmac-sha256=00", body, now));
        let extreme = format!("t={},hmac-sha256=00", i64::MIN);
        assert!(!signed(key, &extreme, body, now), "no overflow on an absurd t");
    }
}
