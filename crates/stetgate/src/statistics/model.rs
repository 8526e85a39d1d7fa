//! The statistics' persisted vocabulary: endpoint families, per-minute records and their latency
//! histograms, declared outages. A leaf module.

use jiff::Timestamp;
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
    /// Payment initiation.
    Pis,
}

impl Family {
    pub const ALL: [Family; 4] = [Family::Authorization, Family::Ais, Family::Funds, Family::Pis];

    pub fn as_str(self) -> &'static str {
        match self {
            Family::Authorization => "authorization",
            Family::Ais => "ais",
            Family::Funds => "funds",
            Family::Pis => "pis",
        }
    }

    pub fn parse(text: &str) -> Option<Family> {
        Family::ALL.into_iter().find(|f| f.as_str() == text)
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
    /// The minute's start (an hour's start in an hourly roll-up).
    pub minute: Timestamp,
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
    pub(crate) fn empty(bank: BankCode, minute: Timestamp, family: Family) -> MinuteRecord {
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

/// Marks a response refused because of planned maintenance (set by the route layer), with the end
/// of the window.
#[derive(Debug, Clone, Copy)]
pub struct PlannedMaintenance {
    pub until: Timestamp,
}

/// A declared outage: `[started_at, ended_at)`, open while `ended_at` is `None`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outage {
    pub id: String,
    pub bank: BankCode,
    pub started_at: Timestamp,
    pub ended_at: Option<Timestamp>,
    pub reason: String,
}
