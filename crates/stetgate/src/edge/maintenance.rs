//! Planned maintenance (the bank's Monday 00:00-06:00, Paris time): the configured weekly windows,
//! in Paris time, so they follow daylight-saving changes. During one, the routes the route table
//! closes answer 503 with `Retry-After` (seconds to the end of the window): the ErrorModel to a
//! TPP, the bank's maintenance page to a PSU ([`super::route`]).

use crate::state::AppState;
use jiff::Timestamp;

/// The end of the maintenance window `bank` is in at `now`, if any.
pub fn ends_at(state: &AppState, bank: stet::BankCode, now: Timestamp) -> Option<Timestamp> {
    let local = now.to_zoned(state.calendar.time_zone().clone());
    state.config.maintenance.iter().filter(|w| w.bank.is_none_or(|b| b == bank)).find_map(|w| {
        let (start, end) = (w.start.0, w.end.0);
        let inside = w.weekday.0 == local.weekday() && local.time() >= start && local.time() < end;
        inside.then(|| {
            local.date().to_datetime(end).to_zoned(state.calendar.time_zone().clone()).ok().map(|z| z.timestamp())
        })?
    })
}

/// The planned maintenance intervals of `bank` overlapping `[from, to)`, clipped to it.
pub fn windows_between(
    windows: &[crate::config::MaintenanceWindow],
    tz: &jiff::tz::TimeZone,
    bank: stet::BankCode,
    from: Timestamp,
    to: Timestamp,
) -> Vec<(Timestamp, Timestamp)> {
    let mut out = Vec::new();
    // One day earlier than `from`, in case a window began the local day before.
    let mut day = from.to_zoned(tz.clone()).date().yesterday().unwrap_or(from.to_zoned(tz.clone()).date());
    let last = to.to_zoned(tz.clone()).date();
    while day <= last {
        for w in windows.iter().filter(|w| w.bank.is_none_or(|b| b == bank)) {
            let (start, end) = (w.start.0, w.end.0);
            if day.weekday() != w.weekday.0 {
                continue;
            }
            let at = |t: jiff::civil::Time| day.to_datetime(t).to_zoned(tz.clone()).ok().map(|z| z.timestamp());
            if let (Some(s), Some(e)) = (at(start), at(end)) {
                let (s, e) = (s.max(from), e.min(to));
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
