//! Planned maintenance (the bank's Monday 00:00-06:00, Paris time): during a configured window,
//! TPP routes answer 503 with `Retry-After` (seconds to the end of the window) and the STET
//! ErrorModel, and the PSU's pages show a maintenance page. Windows are weekly, in Paris time, so
//! they follow daylight-saving changes.

use super::bank::Bank;
use super::error::ApiError;
use crate::app::AppState;
use crate::oauth::pages;
use crate::statistics::PlannedMaintenance;
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
    // What stays open: the fallback (meant for exactly this), its keys, and the statistics.
    let fallback = path == "/stet/psd2/oauth/token" && request.headers().contains_key("fallback");
    if fallback || path == "/stet/psd2/statistics" || path == "/stet/psd2/fallback/jwks" {
        return next.run(request).await;
    }
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
        response.extensions_mut().insert(PlannedMaintenance);
        return response;
    }
    let mut response = ApiError::Maintenance { retry_after_secs: retry_after }.into_response();
    response.extensions_mut().insert(PlannedMaintenance);
    response
}

/// The planned maintenance intervals of `bank` overlapping `[from, to)`, as Unix ms, clipped to it.
pub fn windows_between(
    windows: &[crate::config::MaintenanceWindow],
    tz: &jiff::tz::TimeZone,
    bank: stet::BankCode,
    from_ms: i64,
    to_ms: i64,
) -> Vec<(i64, i64)> {
    let (Ok(from), Ok(to)) = (Timestamp::from_millisecond(from_ms), Timestamp::from_millisecond(to_ms)) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    // One day earlier than `from`, in case a window began the local day before.
    let mut day = from.to_zoned(tz.clone()).date().yesterday().unwrap_or(from.to_zoned(tz.clone()).date());
    let last = to.to_zoned(tz.clone()).date();
    while day <= last {
        for w in windows.iter().filter(|w| w.bank.is_none_or(|b| b == bank)) {
            let (Some(weekday), Some((start, end))) = (w.weekday(), w.times()) else { continue };
            if day.weekday() != weekday {
                continue;
            }
            let at = |t: jiff::civil::Time| {
                day.to_datetime(t).to_zoned(tz.clone()).ok().map(|z| z.timestamp().as_millisecond())
            };
            if let (Some(s), Some(e)) = (at(start), at(end)) {
                let (s, e) = (s.max(from_ms), e.min(to_ms));
                if s < e {
                    out.push((s, e));
                }
            }
        }
        match day.tomorrow() {
            Ok(next) => day = next,
            Err(_) => break,
        }
    }
    out
}
