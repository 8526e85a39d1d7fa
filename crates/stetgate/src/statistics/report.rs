//! From request records to the published figures, per Paris day and over a period.
//!
//! - **Uptime** of a day = time the interface was available / (time observed - planned maintenance).
//!   Unavailable (unplanned downtime) is the union of the outages the operator declared and the
//!   minutes in which the interface answered at least five requests and all of them with a server
//!   error (the EBA's "five consecutive requests not replied to" at minute resolution), minus the
//!   planned maintenance windows, which are counted apart as planned downtime. A day is observed
//!   up to now.
//! - **Requests** are those answered outside planned maintenance; the **error rate** is the share of
//!   them answered with a server error (5xx); client errors (4xx) are counted apart.
//! - **Response times** are stetgate's (first byte of the request to the response), mean exact,
//!   percentiles from the merged histograms (within 5%).

use super::model::Outage;
use super::{Family, Histogram, MinuteRecord};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use std::collections::BTreeMap;
use stet::BankCode;

/// A publication period: a quarter (`2026Q4`), a month (`2026-11`) or a day (`2026-11-21`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Period {
    pub label: String,
    /// First day.
    pub from: Date,
    /// Last day (inclusive).
    pub to: Date,
}

impl Period {
    pub fn parse(text: &str) -> Option<Period> {
        let text = text.trim();
        if let Some((year, quarter)) = text.split_once(['Q', 'q']) {
            let (year, quarter) = (year.parse::<i16>().ok()?, quarter.parse::<i8>().ok()?);
            if !(1..=4).contains(&quarter) {
                return None;
            }
            let from = Date::new(year, (quarter - 1) * 3 + 1, 1).ok()?;
            let to = from.checked_add(jiff::Span::new().months(3)).ok()?.yesterday().ok()?;
            return Some(Period { label: format!("{year}Q{quarter}"), from, to });
        }
        if text.len() == 7 {
            let from: Date = format!("{text}-01").parse().ok()?;
            let to = from.last_of_month();
            return Some(Period { label: text.to_owned(), from, to });
        }
        let day: Date = text.parse().ok()?;
        Some(Period { label: day.to_string(), from: day, to: day })
    }

    pub fn quarter_of(date: Date) -> Period {
        let quarter = (date.month() - 1) / 3 + 1;
        Period::parse(&format!("{}Q{quarter}", date.year())).unwrap_or(Period {
            label: date.to_string(),
            from: date,
            to: date,
        })
    }

    pub fn days(&self) -> impl Iterator<Item = Date> + '_ {
        self.from.series(jiff::Span::new().days(1)).take_while(|d| *d <= self.to)
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ResponseTimes {
    pub mean: Option<f64>,
    pub p50: Option<f64>,
    pub p95: Option<f64>,
    pub p99: Option<f64>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct FamilyStats {
    pub requests: i64,
    pub server_errors: i64,
    pub client_errors: i64,
    pub error_rate_percent: f64,
    pub response_time_ms: ResponseTimes,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub observed_seconds: i64,
    pub planned_downtime_seconds: i64,
    pub unplanned_downtime_seconds: i64,
    pub uptime_percent: f64,
    pub planned_maintenance_requests: i64,
    pub families: BTreeMap<&'static str, FamilyStats>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct DayStats {
    pub date: Date,
    #[serde(flatten)]
    pub summary: Summary,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub bank: BankCode,
    pub bank_name: String,
    pub period: Period,
    pub generated_at: Timestamp,
    pub time_zone: &'static str,
    pub total: Summary,
    pub days: Vec<DayStats>,
}

/// `[start, end)`.
pub type Interval = (Timestamp, Timestamp);

const MINUTE: SignedDuration = SignedDuration::from_mins(1);

/// What a report is computed from.
pub struct Inputs<'a> {
    /// Per-minute records not rolled up yet.
    pub records: &'a [MinuteRecord],
    /// Hourly roll-ups of older records (their `minute` is the hour's start; a Paris day is made
    /// of whole UTC hours, so each falls in one day).
    pub hourly: &'a [MinuteRecord],
    /// Minutes in which the interface failed, found by earlier roll-ups (each minute's start).
    pub failed_minutes: &'a [Timestamp],
    pub outages: &'a [Outage],
    /// Planned maintenance intervals.
    pub planned: &'a [Interval],
    /// When some node of the deployment was alive: outside, nothing answered.
    pub alive: &'a [Interval],
    /// The first heartbeat of the deployment: the statistics start there.
    pub first_heartbeat: Option<Timestamp>,
}

/// The span of a Paris day.
pub fn day_span(tz: &TimeZone, day: Date) -> Option<Interval> {
    let start = day.to_zoned(tz.clone()).ok()?.timestamp();
    let end = day.tomorrow().ok()?.to_zoned(tz.clone()).ok()?.timestamp();
    Some((start, end))
}

pub fn compute(
    bank: BankCode,
    bank_name: &str,
    period: &Period,
    inputs: &Inputs<'_>,
    tz: &TimeZone,
    now: Timestamp,
) -> Report {
    let down = unplanned_candidates(inputs);
    // Nothing is observed before the deployment's first heartbeat, or after now.
    let first = inputs.first_heartbeat.unwrap_or(now);
    let mut days = Vec::new();
    let (mut observed, mut whole) = (Vec::new(), Vec::new());
    for day in period.days() {
        let Some((start, end)) = day_span(tz, day) else { continue };
        if start >= now {
            break;
        }
        if end <= first {
            continue;
        }
        let seen = (start.max(first), end.min(now));
        observed.push(seen);
        whole.push((start, end));
        days.push(DayStats { date: day, summary: summarize(bank, &[seen], &[(start, end)], inputs, &down) });
    }
    let total = summarize(bank, &observed, &whole, inputs, &down);
    Report {
        bank,
        bank_name: bank_name.to_owned(),
        period: period.clone(),
        generated_at: now,
        time_zone: "Europe/Paris",
        total,
        days,
    }
}

/// Declared outages, failed minutes and the time no node was alive, merged; the caller clips them
/// to what was observed and takes the planned maintenance out.
fn unplanned_candidates(inputs: &Inputs<'_>) -> Vec<Interval> {
    let mut intervals: Vec<Interval> = failed_minutes(inputs.records)
        .into_iter()
        .chain(inputs.failed_minutes.iter().copied())
        .map(|minute| (minute, minute.saturating_add(MINUTE).unwrap_or(Timestamp::MAX)))
        .collect();
    intervals.extend(inputs.outages.iter().map(|o| (o.started_at, o.ended_at.unwrap_or(Timestamp::MAX))));
    intervals.extend(subtract(&[(Timestamp::MIN, Timestamp::MAX)], &union(inputs.alive.to_vec())));
    union(intervals)
}

/// The minutes of per-minute records (all nodes and families together) in which the interface
/// failed (hourly roll-ups are not minutes: theirs were found by the roll-up).
pub fn failed_minutes(records: &[MinuteRecord]) -> Vec<Timestamp> {
    let mut per_minute: BTreeMap<Timestamp, (i64, i64)> = BTreeMap::new();
    for r in records {
        let entry = per_minute.entry(r.minute).or_default();
        entry.0 += r.requests;
        entry.1 += r.server_errors;
    }
    per_minute
        .into_iter()
        .filter(|(_, (requests, errors))| super::minute_failed(*requests, *errors))
        .map(|(m, _)| m)
        .collect()
}

/// `spans`: the time observed (up to now); `days`: the whole days, whose records all count.
fn summarize(bank: BankCode, spans: &[Interval], days: &[Interval], inputs: &Inputs<'_>, down: &[Interval]) -> Summary {
    let spans = union(spans.to_vec());
    let planned = intersect(&union(inputs.planned.to_vec()), &spans);
    let unplanned = subtract(&intersect(down, &spans), &planned);
    let observed = length(&spans);
    let planned_time = length(&planned);
    let unplanned_time = length(&unplanned);
    let expected = observed - planned_time;
    let uptime =
        if expected.is_positive() { 100.0 * (expected - unplanned_time).div_duration_f64(expected) } else { 100.0 };

    let inside = |minute: Timestamp| days.iter().any(|(s, e)| minute >= *s && minute < *e);
    // One accumulator per family (its minute does not matter).
    let mut totals: BTreeMap<Family, MinuteRecord> =
        Family::ALL.into_iter().map(|f| (f, MinuteRecord::empty(bank, Timestamp::UNIX_EPOCH, f))).collect();
    for r in inputs.records.iter().chain(inputs.hourly).filter(|r| inside(r.minute)) {
        if let Some(total) = totals.get_mut(&r.family) {
            total.merge(r);
        }
    }
    let planned_requests = totals.values().map(|t| t.planned).sum();
    let families = totals
        .iter()
        .map(|(f, r)| {
            (f.as_str(), family_stats(r.requests, r.server_errors, r.client_errors, r.latency_sum_us, &r.histogram))
        })
        .collect();
    Summary {
        observed_seconds: observed.as_secs(),
        planned_downtime_seconds: planned_time.as_secs(),
        unplanned_downtime_seconds: unplanned_time.as_secs(),
        uptime_percent: round3(uptime),
        planned_maintenance_requests: planned_requests,
        families,
    }
}

fn family_stats(requests: i64, server_errors: i64, client_errors: i64, sum_us: i64, h: &Histogram) -> FamilyStats {
    let rate = if requests > 0 { 100.0 * server_errors as f64 / requests as f64 } else { 0.0 };
    FamilyStats {
        requests,
        server_errors,
        client_errors,
        error_rate_percent: round3(rate),
        response_time_ms: ResponseTimes {
            mean: (requests > 0).then(|| round3(sum_us as f64 / requests as f64 / 1000.0)),
            p50: h.quantile_ms(0.50).map(round3),
            p95: h.quantile_ms(0.95).map(round3),
            p99: h.quantile_ms(0.99).map(round3),
        },
    }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

// Half-open intervals `[start, end)` of any ordered points (instants here, plain numbers in the
// tests).

/// Sorted, disjoint intervals covering the same points.
fn union<T: Ord + Copy>(mut intervals: Vec<(T, T)>) -> Vec<(T, T)> {
    intervals.retain(|(s, e)| s < e);
    intervals.sort_unstable();
    let mut out: Vec<(T, T)> = Vec::with_capacity(intervals.len());
    for (s, e) in intervals {
        match out.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => out.push((s, e)),
        }
    }
    out
}

fn intersect<T: Ord + Copy>(a: &[(T, T)], b: &[(T, T)]) -> Vec<(T, T)> {
    let mut out = Vec::new();
    for (s1, e1) in a {
        for (s2, e2) in b {
            let (s, e) = (*s1.max(s2), *e1.min(e2));
            if s < e {
                out.push((s, e));
            }
        }
    }
    union(out)
}

fn subtract<T: Ord + Copy>(a: &[(T, T)], b: &[(T, T)]) -> Vec<(T, T)> {
    let mut out = Vec::new();
    for (s, e) in a {
        let mut pieces = vec![(*s, *e)];
        for (bs, be) in b {
            pieces = pieces
                .into_iter()
                .flat_map(|(ps, pe)| [(ps, pe.min(*bs)), (ps.max(*be), pe)])
                .filter(|(ps, pe)| ps < pe)
                .collect();
        }
        out.extend(pieces);
    }
    union(out)
}

/// How long disjoint intervals last together.
fn length(intervals: &[Interval]) -> SignedDuration {
    intervals.iter().map(|(s, e)| e.duration_since(*s)).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bank() -> BankCode {
        BankCode::parse("17515").unwrap()
    }

    /// A deployment with some node alive at every instant.
    const ALWAYS: &[Interval] = &[(Timestamp::MIN, Timestamp::MAX)];

    fn hours(n: i64) -> SignedDuration {
        SignedDuration::from_hours(n)
    }

    fn minutes(n: i64) -> SignedDuration {
        SignedDuration::from_mins(n)
    }

    fn record(
        minute: Timestamp,
        family: Family,
        requests: i64,
        server_errors: i64,
        latencies_ms: &[u64],
    ) -> MinuteRecord {
        let mut histogram = Histogram::default();
        for ms in latencies_ms {
            histogram.add(ms * 1000);
        }
        MinuteRecord {
            bank: bank(),
            minute,
            family,
            requests,
            server_errors,
            client_errors: 0,
            planned: 0,
            latency_sum_us: latencies_ms.iter().map(|ms| *ms as i64 * 1000).sum(),
            histogram,
        }
    }

    #[test]
    fn periods_parse() {
        let q = Period::parse("2026Q4").unwrap();
        assert_eq!((q.from.to_string(), q.to.to_string()), ("2026-10-01".into(), "2026-12-31".into()));
        assert_eq!(q.days().count(), 92);
        assert_eq!(Period::parse("2026q1").unwrap().to.to_string(), "2026-03-31");
        assert_eq!(Period::parse("2026-02").unwrap().to.to_string(), "2026-02-28");
        assert_eq!(Period::parse("2026-11-21").unwrap().days().count(), 1);
        for bad in ["2026Q5", "2026Q0", "Q4", "2026-13", "yesterday", ""] {
            assert!(Period::parse(bad).is_none(), "{bad}");
        }
        assert_eq!(Period::quarter_of("2026-11-21".parse().unwrap()).label, "2026Q4");
    }

    #[test]
    fn intervals() {
        assert_eq!(union(vec![(5, 7), (1, 3), (2, 4), (7, 8)]), vec![(1, 4), (5, 8)]);
        assert_eq!(subtract(&[(0, 10)], &[(2, 3), (5, 6)]), vec![(0, 2), (3, 5), (6, 10)]);
        assert_eq!(intersect(&[(0, 10)], &[(5, 20)]), vec![(5, 10)]);
    }

    #[test]
    fn uptime_counts_failed_minutes_and_outages_but_not_planned_windows() {
        let tz = TimeZone::get("Europe/Paris").unwrap();
        let day: Date = "2026-11-16".parse().unwrap(); // a Monday
        let (start, end) = day_span(&tz, day).unwrap();
        assert_eq!(end.duration_since(start), hours(24));
        let planned = [(start, start + hours(6))]; // 00:00-06:00
        let noon = start + hours(12);
        let records = vec![
            // Ten minutes at noon answered only with server errors: down.
            record(noon, Family::Ais, 5, 5, &[1, 1, 1, 1, 1]),
            record(noon + minutes(1), Family::Ais, 6, 6, &[1; 6]),
            // Four errors only: not enough evidence.
            record(noon + minutes(2), Family::Ais, 4, 4, &[1; 4]),
            // Errors with a success in the same minute (another family): up.
            record(noon + minutes(3), Family::Ais, 5, 5, &[1; 5]),
            record(noon + minutes(3), Family::Funds, 1, 0, &[2]),
            // A failed minute inside the planned window counts as planned.
            record(start + minutes(1), Family::Ais, 9, 9, &[1; 9]),
        ];
        let outages = [Outage {
            id: "o".into(),
            bank: bank(),
            started_at: start + hours(20),
            ended_at: Some(start + hours(20) + minutes(30)),
            reason: "core banking down".into(),
        }];
        let inputs = Inputs {
            records: &records,
            hourly: &[],
            failed_minutes: &[],
            outages: &outages,
            planned: &planned,
            alive: ALWAYS,
            first_heartbeat: Some(Timestamp::MIN),
        };
        let now = end + SignedDuration::from_millis(1);
        let report = compute(bank(), "Caisse d'Epargne", &Period::parse("2026-11-16").unwrap(), &inputs, &tz, now);
        let s = &report.days[0].summary;
        assert_eq!(s.planned_downtime_seconds, 6 * 3600);
        assert_eq!(s.unplanned_downtime_seconds, 2 * 60 + 30 * 60);
        let expected = 100.0 * (18.0 * 3600.0 - 32.0 * 60.0) / (18.0 * 3600.0);
        assert!((s.uptime_percent - expected).abs() < 0.001, "{}", s.uptime_percent);
        let ais = &s.families["ais"];
        assert_eq!((ais.requests, ais.server_errors), (29, 29));
        assert_eq!(ais.error_rate_percent, 100.0);
        let funds = &s.families["funds"];
        assert_eq!(funds.requests, 1);
        assert_eq!(funds.response_time_ms.mean, Some(2.0));
        assert_eq!(s.families["authorization"].response_time_ms.p99, None);
        assert_eq!(report.total, report.days[0].summary);
    }

    #[test]
    fn days_after_now_are_not_reported_and_today_is_observed_until_now() {
        let tz = TimeZone::get("Europe/Paris").unwrap();
        let now: Timestamp = "2026-11-21T11:00:00Z".parse().unwrap(); // 12:00 in Paris
        let report = compute(
            bank(),
            "x",
            &Period::parse("2026Q4").unwrap(),
            &Inputs {
                records: &[],
                hourly: &[],
                failed_minutes: &[],
                outages: &[],
                planned: &[],
                alive: ALWAYS,
                first_heartbeat: Some(Timestamp::MIN),
            },
            &tz,
            now,
        );
        assert_eq!(report.days.len(), 52, "October 1st to November 21st");
        assert_eq!(report.days.last().unwrap().summary.observed_seconds, 12 * 3600);
        // 2026-10-25 is the autumn DST change: a 25-hour day.
        let dst = report.days.iter().find(|d| d.date.to_string() == "2026-10-25").unwrap();
        assert_eq!(dst.summary.observed_seconds, 25 * 3600);
        assert_eq!(report.total.uptime_percent, 100.0);
    }

    #[test]
    fn time_without_a_live_node_is_downtime_and_nothing_counts_before_the_first_heartbeat() {
        let tz = TimeZone::get("Europe/Paris").unwrap();
        let day: Date = "2026-11-17".parse().unwrap(); // a Tuesday
        let (start, end) = day_span(&tz, day).unwrap();
        // First heartbeat at 06:00; a node alive 06:00-12:00, none 12:00-13:00, one again 13:00 on.
        let alive = [(start + hours(6), start + hours(12)), (start + hours(13), end)];
        let inputs = Inputs {
            records: &[],
            hourly: &[],
            failed_minutes: &[],
            outages: &[],
            planned: &[],
            alive: &alive,
            first_heartbeat: Some(start + hours(6)),
        };
        let now = end;
        let period = Period::parse("2026-11").unwrap();
        let report = compute(bank(), "x", &period, &inputs, &tz, now);
        assert_eq!(report.days.len(), 1, "days before the first heartbeat are not reported");
        let s = &report.days[0].summary;
        assert_eq!(s.observed_seconds, 18 * 3600, "observed from the first heartbeat");
        assert_eq!(s.unplanned_downtime_seconds, 3600, "the hour no node was alive");
        assert!((s.uptime_percent - 100.0 * 17.0 / 18.0).abs() < 0.001, "{}", s.uptime_percent);
    }

    #[test]
    fn hourly_roll_ups_count_like_the_minutes_they_replace() {
        let tz = TimeZone::get("Europe/Paris").unwrap();
        let day: Date = "2026-11-17".parse().unwrap();
        let (start, end) = day_span(&tz, day).unwrap();
        let noon = start + hours(12);
        let per_minute =
            vec![record(noon, Family::Ais, 5, 5, &[1; 5]), record(noon + minutes(1), Family::Ais, 3, 0, &[4; 3])];
        let mut hourly = MinuteRecord::empty(bank(), noon, Family::Ais);
        for m in &per_minute {
            hourly.merge(m);
        }
        let now = end;
        let period = Period::parse("2026-11-17").unwrap();
        let raw = Inputs {
            records: &per_minute,
            hourly: &[],
            failed_minutes: &[],
            outages: &[],
            planned: &[],
            alive: ALWAYS,
            first_heartbeat: Some(start),
        };
        let rolled = Inputs { records: &[], hourly: std::slice::from_ref(&hourly), failed_minutes: &[noon], ..raw };
        let (a, b) = (compute(bank(), "x", &period, &raw, &tz, now), compute(bank(), "x", &period, &rolled, &tz, now));
        assert_eq!(a.total, b.total, "the same figures from minutes and from their roll-up");
        assert_eq!(a.total.unplanned_downtime_seconds, 60);
        assert_eq!(b.total.families["ais"].requests, 8);
    }
}
