//! `GET /stet/psd2/statistics`: public (no certificate), for the bank the host names.
//!
//! `?period=2026Q4` (default: the current quarter), `2026-11` or `2026-11-21`; `?format=json|csv|html`
//! (default: from `Accept`, JSON when it says nothing). The HTML page draws its charts as inline SVG
//! rendered here, with no script and no external asset.

use super::MinuteRecord;
use super::report::{self, Inputs, Interval, Period, Report};
use crate::edge::bank::Bank;
use crate::edge::error::ApiError;
use crate::state::AppState;
use askama::Template;
use axum::Extension;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use jiff::{SignedDuration, Timestamp};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use stet::BankCode;
use tokio::sync::Semaphore;

/// Reports computed lately, and a bound on how many are computed at once: the endpoint is public,
/// and a quarter's report reads thousands of rows, so callers share what was computed in the last
/// `statistics.report_cache_secs`, and wait (or get 503) while the computing slots are busy.
pub struct Reports {
    cache: Mutex<HashMap<ReportKey, (Instant, Arc<Report>)>>,
    computing: Semaphore,
    ttl: Duration,
}

/// A bank and a period label.
type ReportKey = (BankCode, String);

/// Reports kept at most (a period is a quarter, a month or a day: anyone may ask for any of them).
const CACHED_REPORTS: usize = 256;
/// Reports computed at once by one node.
const COMPUTING_AT_ONCE: usize = 2;
/// How long a caller waits for a computing slot before being told to come back.
const WAIT_FOR_SLOT: Duration = Duration::from_secs(10);

impl Reports {
    pub fn new(ttl: Duration) -> Reports {
        Reports { cache: Mutex::new(HashMap::new()), computing: Semaphore::new(COMPUTING_AT_ONCE), ttl }
    }

    fn cached(&self, key: &ReportKey) -> Option<Arc<Report>> {
        let cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        cache.get(key).filter(|(at, _)| at.elapsed() < self.ttl).map(|(_, r)| r.clone())
    }

    fn remember(&self, key: ReportKey, report: Arc<Report>) {
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if cache.len() >= CACHED_REPORTS {
            cache.retain(|_, (at, _)| at.elapsed() < self.ttl);
            if cache.len() >= CACHED_REPORTS {
                cache.clear();
            }
        }
        cache.insert(key, (Instant::now(), report));
    }
}

/// The statistics of `bank` over `period`: every node's records in the database plus this node's
/// records of the last seconds, still in memory. Reading never writes.
pub async fn build(
    state: &AppState,
    bank: &crate::store::BankRecord,
    period: &Period,
) -> Result<Arc<Report>, ApiError> {
    let reports = &state.reports;
    let key = (bank.code, period.label.clone());
    if let Some(report) = reports.cached(&key) {
        return Ok(report);
    }
    let _slot = tokio::time::timeout(WAIT_FOR_SLOT, reports.computing.acquire())
        .await
        .map_err(|_| ApiError::Busy { retry_after_secs: 10 })?
        .map_err(|_| ApiError::Busy { retry_after_secs: 10 })?;
    // Another caller may have computed it while this one waited.
    if let Some(report) = reports.cached(&key) {
        return Ok(report);
    }
    let now = state.clock.now();
    let deployment = Deployment {
        store: &state.store,
        maintenance: &state.config.maintenance,
        tz: state.calendar.time_zone(),
        liveness_tolerance: super::liveness_tolerance(Duration::from_secs(state.config.statistics.flush_interval_secs)),
    };
    // This node answers now: it has been alive since it started, heartbeat written or not.
    let this_node = Some((state.node.started_at, now));
    let pending = state.recorder.pending_of(bank.code);
    let report = report_for(&deployment, now, bank, period, &pending, this_node).await?;
    let report = Arc::new(report);
    reports.remember(key, report.clone());
    Ok(report)
}

/// Where a report's inputs come from.
pub struct Deployment<'a> {
    pub store: &'a crate::store::Store,
    pub maintenance: &'a [crate::config::MaintenanceWindow],
    pub tz: &'a jiff::tz::TimeZone,
    /// How long after its last heartbeat a node counts as alive.
    pub liveness_tolerance: SignedDuration,
}

/// The statistics of `bank` over `period` from the database (also `stetgate stats export`), with
/// records not yet written (`pending`) and the life of the node asking (`this_node`), if any.
pub async fn report_for(
    deployment: &Deployment<'_>,
    now: Timestamp,
    bank: &crate::store::BankRecord,
    period: &Period,
    pending: &[MinuteRecord],
    this_node: Option<Interval>,
) -> Result<Report, crate::store::StoreError> {
    let tz = deployment.tz;
    let bounds =
        |d: jiff::civil::Date| report::day_span(tz, d).unwrap_or((Timestamp::UNIX_EPOCH, Timestamp::UNIX_EPOCH));
    let (from, to) = (bounds(period.from).0, bounds(period.to).1);
    let mut stored = deployment.store.statistics_records(bank.code, from, to).await?;
    stored.minutes.extend(pending.iter().filter(|r| r.minute >= from && r.minute < to).cloned());
    let outages = deployment.store.outages(bank.code, from, to).await?;
    let planned = crate::edge::maintenance::windows_between(deployment.maintenance, tz, bank.code, from, to);
    let tolerance = deployment.liveness_tolerance;
    let (lives, first) = deployment.store.node_lives(from.saturating_sub(tolerance).unwrap_or(from), to).await?;
    let mut alive: Vec<Interval> = lives
        .into_iter()
        .map(|(start, last)| (start, last.saturating_add(tolerance).unwrap_or(Timestamp::MAX)))
        .collect();
    alive.extend(this_node);
    let first_heartbeat = match (first, this_node) {
        (Some(f), Some((s, _))) => Some(f.min(s)),
        (f, n) => f.or(n.map(|(s, _)| s)),
    };
    let inputs = Inputs {
        records: &stored.minutes,
        hourly: &stored.hourly,
        failed_minutes: &stored.failed_minutes,
        outages: &outages,
        planned: &planned,
        alive: &alive,
        first_heartbeat,
    };
    Ok(report::compute(bank.code, &bank.name, period, &inputs, tz, now))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Csv,
    Html,
}

fn format_of(query: &[(String, String)], headers: &HeaderMap) -> Result<Format, ApiError> {
    if let Some((_, f)) = query.iter().find(|(k, _)| k == "format") {
        return match f.as_str() {
            "json" => Ok(Format::Json),
            "csv" => Ok(Format::Csv),
            "html" => Ok(Format::Html),
            other => Err(ApiError::BadRequest(format!("format {other} is not offered: use json, csv or html"))),
        };
    }
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
    Ok(if accept.contains("text/html") {
        Format::Html
    } else if accept.contains("text/csv") {
        Format::Csv
    } else {
        Format::Json
    })
}

pub async fn statistics(
    State(state): State<AppState>,
    Extension(bank): Extension<Bank>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let query: Vec<(String, String)> =
        url::form_urlencoded::parse(query.as_deref().unwrap_or("").as_bytes()).into_owned().collect();
    let format = format_of(&query, &headers)?;
    let period = match query.iter().find(|(k, _)| k == "period") {
        Some((_, p)) => Period::parse(p).ok_or_else(|| {
            ApiError::BadRequest(format!(
                "period {p} is not a quarter (2026Q4), a month (2026-11) or a day (2026-11-21)"
            ))
        })?,
        None => Period::quarter_of(state.calendar.today(state.clock.as_ref())),
    };
    let report = build(&state, &bank.0, &period).await?;
    let (content_type, body) = match format {
        Format::Json => ("application/json", serde_json::to_string_pretty(&report).unwrap_or_default()),
        Format::Csv => ("text/csv; charset=utf-8", csv(std::slice::from_ref(report.as_ref()))),
        Format::Html => ("text/html; charset=utf-8", html(&report)?),
    };
    let mut response = body.into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if format == Format::Html {
        response.headers_mut().insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"),
        );
    }
    Ok(response)
}

const CSV_HEADER: &str = "bank,period,scope,date,family,requests,server_errors,client_errors,error_rate_percent,\
mean_ms,p50_ms,p95_ms,p99_ms,uptime_percent,planned_downtime_seconds,unplanned_downtime_seconds,\
planned_maintenance_requests";

/// One row per family, for the whole period (`scope` = period) and then for each day.
pub fn csv(reports: &[Report]) -> String {
    let mut out = String::from(CSV_HEADER);
    out.push('\n');
    let opt = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
    for report in reports {
        let rows = std::iter::once(("period", report.period.label.clone(), &report.total))
            .chain(report.days.iter().map(|d| ("day", d.date.to_string(), &d.summary)));
        for (scope, date, summary) in rows {
            for (family, f) in &summary.families {
                let t = &f.response_time_ms;
                out.push_str(&format!(
                    "{},{},{scope},{date},{family},{},{},{},{},{},{},{},{},{},{},{},{}\n",
                    report.bank,
                    report.period.label,
                    f.requests,
                    f.server_errors,
                    f.client_errors,
                    f.error_rate_percent,
                    opt(t.mean),
                    opt(t.p50),
                    opt(t.p95),
                    opt(t.p99),
                    summary.uptime_percent,
                    summary.planned_downtime_seconds,
                    summary.unplanned_downtime_seconds,
                    summary.planned_maintenance_requests,
                ));
            }
        }
    }
    out
}

#[derive(Template)]
#[template(path = "statistics.html")]
struct StatisticsPage<'a> {
    report: &'a Report,
    families: Vec<(&'static str, &'a report::FamilyStats)>,
    uptime_chart: String,
    requests_chart: String,
    latency_chart: String,
}

impl StatisticsPage<'_> {
    fn ms(&self, v: &Option<f64>) -> String {
        v.map(|x| format!("{x:.1}")).unwrap_or_else(|| "–".to_owned())
    }
}

fn html(report: &Report) -> Result<String, ApiError> {
    let labels: Vec<String> = report.days.iter().map(|d| d.date.strftime("%d/%m").to_string()).collect();
    let uptime: Vec<f64> = report.days.iter().map(|d| d.summary.uptime_percent).collect();
    let series = |f: &dyn Fn(&report::FamilyStats) -> Option<f64>| -> Vec<(&'static str, &'static str, Vec<f64>)> {
        super::Family::ALL
            .iter()
            .map(|family| {
                let values = report
                    .days
                    .iter()
                    .map(|d| d.summary.families.get(family.as_str()).and_then(f).unwrap_or(0.0))
                    .collect();
                (family.as_str(), color(*family), values)
            })
            .collect()
    };
    let page = StatisticsPage {
        report,
        families: report.total.families.iter().map(|(k, v)| (*k, v)).collect(),
        uptime_chart: bar_chart("Disponibilité / uptime (%)", &labels, &uptime, 100.0),
        requests_chart: line_chart(
            "Requêtes par jour / requests per day",
            &labels,
            &series(&|f| Some(f.requests as f64)),
        ),
        latency_chart: line_chart(
            "Temps de réponse p95 (ms) / p95 response time (ms)",
            &labels,
            &series(&|f| f.response_time_ms.p95),
        ),
    };
    page.render().map_err(|e| ApiError::Internal(format!("statistics page: {e}")))
}

fn color(family: super::Family) -> &'static str {
    match family {
        super::Family::Authorization => "#7b1fa2",
        super::Family::Ais => "#1565c0",
        super::Family::Funds => "#2e7d32",
        super::Family::Pis => "#ef6c00",
    }
}

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 220.0;
const LEFT: f64 = 48.0;
const BOTTOM: f64 = 28.0;
const TOP: f64 = 28.0;

/// The frame of a chart: title, y axis from 0 to `max` with three grid lines, a few x labels.
fn frame(title: &str, labels: &[String], max: f64) -> String {
    let mut svg = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" aria-label="{}"><title>{}</title><text x="{LEFT}" y="16" font-size="13" font-weight="600">{}</text>"##,
        escape(title),
        escape(title),
        escape(title)
    );
    let plot_h = HEIGHT - TOP - BOTTOM;
    for i in 0..=2 {
        let v = max * f64::from(i) / 2.0;
        let y = TOP + plot_h - plot_h * f64::from(i) / 2.0;
        svg.push_str(&format!(
            r##"<line x1="{LEFT}" x2="{WIDTH}" y1="{y:.1}" y2="{y:.1}" stroke="#ddd"/><text x="{:.1}" y="{:.1}" font-size="10" text-anchor="end">{}</text>"##,
            LEFT - 4.0,
            y + 3.0,
            if v >= 100.0 { format!("{v:.0}") } else { format!("{v:.1}") }
        ));
    }
    let step = (labels.len() / 8).max(1);
    for (i, label) in labels.iter().enumerate().step_by(step) {
        svg.push_str(&format!(
            r##"<text x="{:.1}" y="{:.1}" font-size="10" text-anchor="middle">{}</text>"##,
            x_of(i, labels.len()),
            HEIGHT - 8.0,
            escape(label)
        ));
    }
    svg
}

fn x_of(i: usize, n: usize) -> f64 {
    let slot = (WIDTH - LEFT) / n.max(1) as f64;
    LEFT + slot * (i as f64 + 0.5)
}

fn y_of(v: f64, max: f64) -> f64 {
    let plot_h = HEIGHT - TOP - BOTTOM;
    TOP + plot_h - plot_h * (v / max).clamp(0.0, 1.0)
}

fn bar_chart(title: &str, labels: &[String], values: &[f64], max: f64) -> String {
    let mut svg = frame(title, labels, max);
    let slot = (WIDTH - LEFT) / values.len().max(1) as f64;
    for (i, v) in values.iter().enumerate() {
        let y = y_of(*v, max);
        let fill = if *v >= 99.5 { "#2e7d32" } else { "#c62828" };
        svg.push_str(&format!(
            r##"<rect class="bar" x="{:.1}" y="{y:.1}" width="{:.1}" height="{:.1}" fill="{fill}"><title>{} {v:.3} %</title></rect>"##,
            x_of(i, values.len()) - slot * 0.4,
            slot * 0.8,
            HEIGHT - BOTTOM - y,
            escape(&labels[i])
        ));
    }
    svg.push_str("</svg>");
    svg
}

fn line_chart(title: &str, labels: &[String], series: &[(&str, &str, Vec<f64>)]) -> String {
    let max = series.iter().flat_map(|(_, _, v)| v.iter().copied()).fold(0.0f64, f64::max);
    let max = if max <= 0.0 { 1.0 } else { max * 1.1 };
    let mut svg = frame(title, labels, max);
    for (n, (name, color, values)) in series.iter().enumerate() {
        let points: Vec<String> = values
            .iter()
            .enumerate()
            .map(|(i, v)| format!("{:.1},{:.1}", x_of(i, values.len()), y_of(*v, max)))
            .collect();
        svg.push_str(&format!(
            r##"<polyline class="series" fill="none" stroke="{color}" stroke-width="2" points="{}"/><rect x="{:.1}" y="18" width="10" height="4" fill="{color}"/><text x="{:.1}" y="23" font-size="10">{}</text>"##,
            points.join(" "),
            WIDTH - 260.0 + n as f64 * 90.0,
            WIDTH - 246.0 + n as f64 * 90.0,
            escape(name)
        ));
    }
    svg.push_str("</svg>");
    svg
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_escape_labels_and_stay_within_the_frame() {
        let svg = bar_chart("a<b", &["x\"y".to_owned()], &[150.0], 100.0);
        assert!(svg.contains("a&lt;b") && svg.contains("x&quot;y"), "{svg}");
        assert!(!svg.contains("y=\"-"), "clamped: {svg}");
        let svg = line_chart("t", &[], &[("ais", "#000", vec![])]);
        assert!(svg.ends_with("</svg>"));
    }
}
