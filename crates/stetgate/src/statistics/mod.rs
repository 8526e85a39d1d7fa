//! Availability and performance statistics of the dedicated interface (RTS art. 32, and the bank's
//! quarterly "regulatory publications"), from stetgate's own request records.
//!
//! Every node counts the requests it answers per (bank, minute, endpoint family) in memory: number,
//! server and client errors, requests refused for planned maintenance, the sum of response times and
//! a latency histogram. It appends these counts to the shared database every
//! `statistics.flush_interval_secs` and on shutdown, so records survive restarts and the statistics
//! of a deployment add up every node's rows. [`report`] turns records, declared outages and the
//! planned maintenance windows into per-day and per-period figures; [`http`] serves them.

pub mod http;
pub mod report;

use crate::store::Store;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;
use stet::BankCode;

/// The endpoint families the statistics are published for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    /// The authorization server: authorize, token, revoke.
    Authorization,
    /// Account information.
    Ais,
    /// Funds confirmation.
    Funds,
}

impl Family {
    pub const ALL: [Family; 3] = [Family::Authorization, Family::Ais, Family::Funds];

    pub fn as_str(self) -> &'static str {
        match self {
            Family::Authorization => "authorization",
            Family::Ais => "ais",
            Family::Funds => "funds",
        }
    }

    pub fn parse(text: &str) -> Option<Family> {
        Family::ALL.into_iter().find(|f| f.as_str() == text)
    }

    /// The family of a path that no route matched (a request refused before routing, in planned
    /// maintenance); `None` for paths outside the dedicated interface's published scope
    /// (registration, discovery, the statistics themselves, health). Matched routes carry their
    /// family in the route table.
    pub fn of_unmatched_path(template: &str) -> Option<Family> {
        let rest = template.strip_prefix("/stet/psd2/")?;
        if matches!(rest, "oauth/authorize" | "oauth/token" | "oauth/revoke") {
            return Some(Family::Authorization);
        }
        let (version, resource) = rest.split_once('/')?;
        stet::ApiVersion::from_segment(version)?;
        Some(if resource.starts_with("funds-confirmations") { Family::Funds } else { Family::Ais })
    }
}

/// Whether a minute in which the interface answered `requests`, `server_errors` of them with a
/// server error, counts as down: at least five requests, all failed (the EBA's "five consecutive
/// requests not replied to", at minute resolution).
pub fn minute_failed(requests: i64, server_errors: i64) -> bool {
    server_errors >= 5 && server_errors == requests
}

/// Response times in log-spaced buckets (each 10% wider than the previous), so percentiles of
/// merged records are estimated within 5%.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Histogram {
    buckets: std::collections::BTreeMap<u16, i64>,
}

const GROWTH: f64 = 1.1;
const MAX_BUCKET: u16 = 250;

impl Histogram {
    pub fn bucket_of(micros: u64) -> u16 {
        let index = ((micros.max(1) as f64).ln() / GROWTH.ln()).floor();
        (index.max(0.0) as u16).min(MAX_BUCKET)
    }

    /// The middle (geometric) of a bucket, in microseconds.
    fn middle(bucket: u16) -> f64 {
        GROWTH.powf(f64::from(bucket) + 0.5)
    }

    pub fn add(&mut self, micros: u64) {
        *self.buckets.entry(Histogram::bucket_of(micros)).or_default() += 1;
    }

    pub fn merge(&mut self, other: &Histogram) {
        for (bucket, count) in &other.buckets {
            *self.buckets.entry(*bucket).or_default() += count;
        }
    }

    pub fn count(&self) -> i64 {
        self.buckets.values().sum()
    }

    /// The `q`-quantile (0 < q <= 1) in milliseconds; `None` when empty.
    pub fn quantile_ms(&self, q: f64) -> Option<f64> {
        let total = self.count();
        if total == 0 {
            return None;
        }
        let rank = ((q * total as f64).ceil() as i64).clamp(1, total);
        let mut seen = 0;
        for (bucket, count) in &self.buckets {
            seen += count;
            if seen >= rank {
                return Some(Histogram::middle(*bucket) / 1000.0);
            }
        }
        None
    }

    /// `bucket:count,bucket:count`.
    pub fn encode(&self) -> String {
        self.buckets.iter().map(|(b, c)| format!("{b}:{c}")).collect::<Vec<_>>().join(",")
    }

    pub fn decode(text: &str) -> Option<Histogram> {
        let mut histogram = Histogram::default();
        for item in text.split(',').filter(|i| !i.is_empty()) {
            let (bucket, count) = item.split_once(':')?;
            let (bucket, count) = (bucket.parse::<u16>().ok()?, count.parse::<i64>().ok()?);
            if bucket > MAX_BUCKET || count < 0 {
                return None;
            }
            *histogram.buckets.entry(bucket).or_default() += count;
        }
        Some(histogram)
    }
}

/// What one node saw of one family at one bank during one minute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MinuteRecord {
    pub bank: BankCode,
    /// Unix ms of the minute's start.
    pub minute: i64,
    pub family: Family,
    /// Requests answered outside planned maintenance.
    pub requests: i64,
    /// 5xx answers (planned maintenance excluded).
    pub server_errors: i64,
    pub client_errors: i64,
    /// Requests answered 503 because of a planned maintenance window.
    pub planned: i64,
    pub latency_sum_us: i64,
    pub histogram: Histogram,
}

impl MinuteRecord {
    pub(crate) fn empty(bank: BankCode, minute: i64, family: Family) -> MinuteRecord {
        MinuteRecord {
            bank,
            minute,
            family,
            requests: 0,
            server_errors: 0,
            client_errors: 0,
            planned: 0,
            latency_sum_us: 0,
            histogram: Histogram::default(),
        }
    }

    pub(crate) fn merge(&mut self, other: &MinuteRecord) {
        self.requests += other.requests;
        self.server_errors += other.server_errors;
        self.client_errors += other.client_errors;
        self.planned += other.planned;
        self.latency_sum_us += other.latency_sum_us;
        self.histogram.merge(&other.histogram);
    }
}

/// Marks a response refused because of planned maintenance (set by the maintenance layer).
#[derive(Debug, Clone, Copy)]
pub struct PlannedMaintenance;

/// A node's request records not yet written to the database.
#[derive(Debug, Default)]
pub struct Recorder {
    pending: Mutex<HashMap<(BankCode, i64, Family), MinuteRecord>>,
}

impl Recorder {
    /// Counts one answered request.
    pub fn record(&self, bank: BankCode, family: Family, at_ms: i64, status: u16, planned: bool, elapsed: Duration) {
        let minute = at_ms - at_ms.rem_euclid(60_000);
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        let record = pending.entry((bank, minute, family)).or_insert_with(|| MinuteRecord::empty(bank, minute, family));
        if planned {
            record.planned += 1;
            return;
        }
        let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        record.requests += 1;
        record.server_errors += i64::from(status >= 500);
        record.client_errors += i64::from((400..500).contains(&status));
        record.latency_sum_us += i64::try_from(micros).unwrap_or(i64::MAX);
        record.histogram.add(micros);
    }

    /// What is pending for `bank` (read-only: the statistics endpoint shows the latest seconds
    /// without writing anything).
    pub fn pending_of(&self, bank: BankCode) -> Vec<MinuteRecord> {
        let pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        pending.values().filter(|r| r.bank == bank).cloned().collect()
    }

    /// Writes what is pending to the database. On failure the records are kept for the next flush,
    /// so a database hiccup loses nothing.
    pub async fn flush(&self, store: &Store) -> Result<(), crate::store::StoreError> {
        let taken: Vec<MinuteRecord> = {
            let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
            pending.drain().map(|(_, r)| r).collect()
        };
        if let Err(e) = store.append_request_records(&taken).await {
            let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
            for record in taken {
                pending
                    .entry((record.bank, record.minute, record.family))
                    .or_insert_with(|| MinuteRecord::empty(record.bank, record.minute, record.family))
                    .merge(&record);
            }
            return Err(e);
        }
        Ok(())
    }
}

/// This node of the deployment: its heartbeats make its life visible to the statistics.
#[derive(Debug, Clone)]
pub struct Node {
    pub id: String,
    /// Unix ms.
    pub started_at: i64,
}

impl Node {
    pub fn new(started_at: i64) -> Node {
        Node { id: uuid::Uuid::now_v7().to_string(), started_at }
    }
}

/// How long after its last heartbeat a node is still counted alive: two missed heartbeats.
pub fn liveness_tolerance_ms(flush_interval: Duration) -> i64 {
    2 * i64::try_from(flush_interval.as_millis()).unwrap_or(i64::MAX / 4)
}

/// How old minute records must be before they are rolled up into hours: every node has flushed
/// them long before.
pub const ROLL_UP_AFTER_MS: i64 = 2 * 3_600_000;
/// How often a node tries to take the roll-up lease.
const ROLL_UP_EVERY: Duration = Duration::from_secs(300);
const ROLL_UP_LEASE: &str = "statistics-roll-up";

/// The statistics' housekeeping, every `interval` until aborted: flush this node's records, beat
/// its heart, and now and then (one node at a time, under a lease) roll old minute records up
/// into hours.
pub fn spawn_housekeeping(
    recorder: std::sync::Arc<Recorder>,
    store: Store,
    clock: std::sync::Arc<dyn crate::clock::Clock>,
    node: Node,
    interval: Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_roll_up: Option<std::time::Instant> = None;
        loop {
            tick.tick().await;
            if let Err(e) = recorder.flush(&store).await {
                tracing::warn!(error = %e, "request records not written yet; kept for the next flush");
            }
            let now = clock.now().as_millisecond();
            if let Err(e) = store.node_heartbeat(&node.id, node.started_at, now).await {
                tracing::warn!(error = %e, "heartbeat not written");
            }
            if last_roll_up.is_none_or(|t| t.elapsed() >= ROLL_UP_EVERY) {
                last_roll_up = Some(std::time::Instant::now());
                roll_up(&store, &node, now).await;
            }
        }
    })
}

async fn roll_up(store: &Store, node: &Node, now: i64) {
    let lease_until = now + i64::try_from(ROLL_UP_EVERY.as_millis()).unwrap_or(0);
    match store.take_lease(ROLL_UP_LEASE, &node.id, now, lease_until).await {
        Ok(true) => match store.roll_up_request_records(now - ROLL_UP_AFTER_MS, 64).await {
            Ok(done) if done.minute_rows > 0 => tracing::info!(?done, "request records rolled up"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "roll-up of request records failed; retried later"),
        },
        Ok(false) => {}
        Err(e) => tracing::warn!(error = %e, "roll-up lease not taken"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_map_to_families() {
        assert_eq!(Family::of_unmatched_path("/stet/psd2/oauth/token"), Some(Family::Authorization));
        assert_eq!(Family::of_unmatched_path("/stet/psd2/oauth/authorize"), Some(Family::Authorization));
        assert_eq!(
            Family::of_unmatched_path("/stet/psd2/v1.4.2/accounts/{accountResourceId}/balances"),
            Some(Family::Ais)
        );
        assert_eq!(Family::of_unmatched_path("/stet/psd2/v1/consents"), Some(Family::Ais));
        assert_eq!(Family::of_unmatched_path("/stet/psd2/v1.6.2/funds-confirmations"), Some(Family::Funds));
        assert_eq!(Family::of_unmatched_path("/stet/psd2/oauth/register"), None);
        assert_eq!(Family::of_unmatched_path("/stet/psd2/statistics"), None);
        assert_eq!(Family::of_unmatched_path("/stet/psd2/aspsp"), None);
        assert_eq!(Family::of_unmatched_path("/healthz"), None);
    }

    #[test]
    fn histogram_quantiles_are_within_five_percent() {
        let mut h = Histogram::default();
        for ms in 1..=1000u64 {
            h.add(ms * 1000);
        }
        for (q, expected) in [(0.5, 500.0), (0.95, 950.0), (0.99, 990.0)] {
            let got = h.quantile_ms(q).unwrap();
            assert!((got - expected).abs() / expected < 0.05, "q{q}: {got} vs {expected}");
        }
        let decoded = Histogram::decode(&h.encode()).unwrap();
        assert_eq!(decoded, h);
        assert_eq!(Histogram::default().quantile_ms(0.5), None);
        assert!(Histogram::decode("1:x").is_none() && Histogram::decode("999:1").is_none());
    }

    #[test]
    fn the_recorder_counts_per_minute_and_keeps_planned_apart() {
        let r = Recorder::default();
        let bank = BankCode::parse("17515").unwrap();
        let ms = Duration::from_millis(3);
        r.record(bank, Family::Ais, 60_000 * 10 + 5, 200, false, ms);
        r.record(bank, Family::Ais, 60_000 * 10 + 59_999, 502, false, ms);
        r.record(bank, Family::Ais, 60_000 * 10 + 30_000, 503, true, ms);
        r.record(bank, Family::Ais, 60_000 * 11, 404, false, ms);
        let pending = r.pending.lock().unwrap();
        let first = &pending[&(bank, 600_000, Family::Ais)];
        assert_eq!((first.requests, first.server_errors, first.client_errors, first.planned), (2, 1, 0, 1));
        assert_eq!(first.latency_sum_us, 6000);
        assert_eq!(pending[&(bank, 660_000, Family::Ais)].client_errors, 1);
    }
}
