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
pub mod model;
pub mod report;

use crate::store::Store;
use jiff::{SignedDuration, Timestamp};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;
use stet::BankCode;

pub use model::{Family, Histogram, MinuteRecord, Outage, PlannedMaintenance, minute_failed};

/// A node's request records not yet written to the database.
#[derive(Debug, Default)]
pub struct Recorder {
    pending: Mutex<HashMap<(BankCode, Timestamp, Family), MinuteRecord>>,
}

/// The start of the minute `at` is in.
fn minute_of(at: Timestamp) -> Timestamp {
    let floor = jiff::TimestampRound::new().smallest(jiff::Unit::Minute).mode(jiff::RoundMode::Floor);
    at.round(floor).unwrap_or(at)
}

impl Recorder {
    /// Counts one answered request.
    pub fn record(&self, bank: BankCode, family: Family, at: Timestamp, status: u16, planned: bool, elapsed: Duration) {
        let minute = minute_of(at);
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
    pub started_at: Timestamp,
}

impl Node {
    pub fn new(started_at: Timestamp) -> Node {
        Node { id: uuid::Uuid::now_v7().to_string(), started_at }
    }
}

/// How long after its last heartbeat a node is still counted alive: two missed heartbeats.
pub fn liveness_tolerance(flush_interval: Duration) -> SignedDuration {
    SignedDuration::try_from(flush_interval).unwrap_or(SignedDuration::MAX).saturating_mul(2)
}

/// How old minute records must be before they are rolled up into hours: every node has flushed
/// them long before.
pub const ROLL_UP_AFTER: SignedDuration = SignedDuration::from_hours(2);
/// How often a node tries to take the roll-up lease.
const ROLL_UP_EVERY: Duration = Duration::from_secs(300);
const ROLL_UP_LEASE: &str = "statistics-roll-up";

/// The statistics' housekeeping, running in the background until stopped.
pub struct Housekeeping {
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl Housekeeping {
    /// Ends the housekeeping after the round in progress, if any: a flush or a heartbeat already
    /// sent to the database is never cut in the middle (its records would be lost, or an older
    /// heartbeat could land after the node's last one).
    pub async fn stop(self) {
        let _ = self.stop.send(());
        if let Err(e) = self.task.await {
            tracing::error!(error = %e, "the statistics' housekeeping ended abnormally");
        }
    }
}

/// The statistics' housekeeping, every `interval` until stopped: flush this node's records, beat
/// its heart, and now and then (one node at a time, under a lease) roll old minute records up
/// into hours.
pub fn spawn_housekeeping(
    recorder: std::sync::Arc<Recorder>,
    store: Store,
    clock: std::sync::Arc<dyn crate::clock::Clock>,
    node: Node,
    interval: Duration,
) -> Housekeeping {
    let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let mut tick = tokio::time::interval(interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_roll_up: Option<std::time::Instant> = None;
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = &mut stopped => return,
            }
            if let Err(e) = recorder.flush(&store).await {
                tracing::warn!(error = %e, "request records not written yet; kept for the next flush");
            }
            let now = clock.now();
            if let Err(e) = store.node_heartbeat(&node.id, node.started_at, now).await {
                tracing::warn!(error = %e, "heartbeat not written");
            }
            if last_roll_up.is_none_or(|t| t.elapsed() >= ROLL_UP_EVERY) {
                last_roll_up = Some(std::time::Instant::now());
                roll_up(&store, &node, now).await;
            }
        }
    });
    Housekeeping { stop, task }
}

async fn roll_up(store: &Store, node: &Node, now: Timestamp) {
    let lease_until = now.saturating_add(ROLL_UP_EVERY).unwrap_or(now);
    let before = now.saturating_sub(ROLL_UP_AFTER).unwrap_or(now);
    match store.take_lease(ROLL_UP_LEASE, &node.id, now, lease_until).await {
        Ok(true) => match store.roll_up_request_records(before, 64).await {
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
        let at = |ms: i64| Timestamp::from_millisecond(ms).unwrap();
        r.record(bank, Family::Ais, at(60_000 * 10 + 5), 200, false, ms);
        r.record(bank, Family::Ais, at(60_000 * 10 + 59_999), 502, false, ms);
        r.record(bank, Family::Ais, at(60_000 * 10 + 30_000), 503, true, ms);
        r.record(bank, Family::Ais, at(60_000 * 11), 404, false, ms);
        let pending = r.pending.lock().unwrap();
        let first = &pending[&(bank, at(600_000), Family::Ais)];
        assert_eq!((first.requests, first.server_errors, first.client_errors, first.planned), (2, 1, 0, 1));
        assert_eq!(first.latency_sum_us, 6000);
        assert_eq!(pending[&(bank, at(660_000), Family::Ais)].client_errors, 1);
    }
}
