//! The batch-access rule (RTS art. 36(5)(b) as the bank applies it): a call without
//! `PSU-IP-Address` is the AISP acting while the PSU is away, allowed 4 times per Paris calendar day
//! per TPP, bank, PSU, account and method (`/transactions` with or without dates is one method;
//! PSU-level calls such as `/accounts` count per PSU). The counter is in the store, shared by every
//! node. With the PSU connected (`PSU-IP-Address` present) there is no limit and nothing is counted.

use crate::ais::model::AisRefusal;
use crate::edge::authorized::psu_of;
use crate::edge::error::ApiError;
use crate::oauth::model::Grant;
use crate::state::AppState;
use axum::http::HeaderMap;
use jiff::Timestamp;
use stet::headers::PSU_IP_ADDRESS;

/// Calls a TPP may make per day, per account and method, without the PSU.
pub const BATCH_CALLS_PER_DAY: i64 = 4;

/// Who is behind a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// The PSU is using the TPP's service now.
    PsuConnected,
    /// The TPP acts on its own (batch).
    Batch,
}

pub fn access(headers: &HeaderMap) -> Access {
    if headers.get(PSU_IP_ADDRESS).is_some_and(|v| !v.is_empty()) { Access::PsuConnected } else { Access::Batch }
}

/// Counts a batch call; the fifth of the day is refused with 429 until the next Paris midnight.
pub async fn consume(
    state: &AppState,
    headers: &HeaderMap,
    grant: &Grant,
    target: Option<&str>,
    method: &str,
) -> Result<(), ApiError> {
    if access(headers) == Access::PsuConnected {
        return Ok(());
    }
    let now = state.clock.now();
    let today = state.calendar.date_of(now).to_string();
    let calls = state
        .store
        .count_batch_call(&grant.client_id, grant.bank, psu_of(grant)?, target.unwrap_or("*"), method, &today)
        .await?;
    if calls > BATCH_CALLS_PER_DAY {
        return Err(ApiError::from(AisRefusal::QuotaExceeded {
            retry_after_secs: seconds_to_next_midnight(state, now),
        }));
    }
    Ok(())
}

/// Seconds until the next midnight in Paris (23 or 25 hours on DST days are handled by the zone).
fn seconds_to_next_midnight(state: &AppState, now: Timestamp) -> i64 {
    let tz = state.calendar.time_zone().clone();
    let tomorrow = state.calendar.date_of(now).tomorrow().ok();
    let midnight = tomorrow.and_then(|d| d.to_zoned(tz).ok()).map(|z| z.timestamp());
    midnight.map(|m| (m.as_second() - now.as_second()).max(1)).unwrap_or(86_400)
}
