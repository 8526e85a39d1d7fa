//! Planned maintenance (the bank's Monday 00:00-06:00, Paris time): during a configured window,
//! TPP routes answer 503 with `Retry-After` (seconds to the end of the window) and the STET
//! ErrorModel, and the PSU's pages show a maintenance page. Windows are weekly, in Paris time, so
//! they follow daylight-saving changes.

use super::bank::Bank;
use super::error::ApiError;
use crate::app::AppState;
use crate::oauth::pages;
use axum::extract::{OriginalUri, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;

/// The end of the maintenance window `bank` is in at `now`, if any.
pub fn ends_at(state: &AppState, bank: stet::BankCode, now: Timestamp) -> Option<Timestamp> {
    let local = now.to_zoned(state.calendar.time_zone().clone());
    state.config.maintenance.iter().filter(|w| w.bank.is_none_or(|b| b == bank)).find_map(|w| {
        let (start, end) = w.times()?;
        let inside = w.weekday()? == local.weekday() && local.time() >= start && local.time() < end;
        inside.then(|| {
            local.date().to_datetime(end).to_zoned(state.calendar.time_zone().clone()).ok().map(|z| z.timestamp())
        })?
    })
}

/// Middleware on `/stet/psd2/` (after bank routing).
pub async fn planned_maintenance(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let Some(bank) = request.extensions().get::<Bank>().cloned() else { return next.run(request).await };
    let now = state.clock.now();
    let Some(end) = ends_at(&state, bank.code(), now) else { return next.run(request).await };
    let retry_after = (end.as_second() - now.as_second()).max(1);
    let path = request.extensions().get::<OriginalUri>().map(|u| u.0.path().to_owned()).unwrap_or_default();
    if path.starts_with("/stet/psd2/oauth/authorize") {
        let t = pages::texts_for(request.headers());
        let look = pages::BankLook::new(&bank.0.name, bank.code().as_str(), &bank.0.brand);
        let message = format!(
            "{} {} (Europe/Paris).",
            t.maintenance,
            end.to_zoned(state.calendar.time_zone().clone()).strftime("%H:%M")
        );
        let mut response = pages::error(t, &look, StatusCode::SERVICE_UNAVAILABLE, &message);
        if let Ok(value) = retry_after.to_string().parse() {
            response.headers_mut().insert(axum::http::header::RETRY_AFTER, value);
        }
        return response;
    }
    ApiError::Maintenance { retry_after_secs: retry_after }.into_response()
}
