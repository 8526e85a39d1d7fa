//! The records behind the statistics (RTS art. 32): every node's per-minute request records,
//! their roll-up per hour, the minutes the interface failed, the nodes' heartbeats, the declared
//! outages, and the leases that let one node at a time do shared work.

use super::{Store, StoreError, ms, parse_column, timestamp};
use crate::statistics::model::{Family, Histogram, MinuteRecord, Outage, minute_failed};
use jiff::Timestamp;
use sqlx::Row;
use std::collections::BTreeMap;
use stet::BankCode;

/// How much of the minute records one roll-up transaction takes at most (6 hours), so that a
/// backlog (a first run over months of records) is worked through in bounded transactions.
const ROLL_UP_WINDOW_MS: i64 = 6 * 3_600_000;
const HOUR_MS: i64 = 3_600_000;

/// What the statistics of a bank over a span are computed from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatisticsRecords {
    /// Minute records not rolled up yet.
    pub minutes: Vec<MinuteRecord>,
    /// Hourly roll-ups (their `minute` is the hour's start).
    pub hourly: Vec<MinuteRecord>,
    /// Rolled-up minutes in which the interface failed (each minute's start).
    pub failed_minutes: Vec<Timestamp>,
}

/// What a roll-up did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RolledUp {
    pub minute_rows: u64,
    pub failed_minutes: u64,
}

impl Store {
    /// Appends one flush of a node's request records.
    pub async fn append_request_records(&self, records: &[MinuteRecord]) -> Result<(), StoreError> {
        if records.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin_write().await?;
        for r in records {
            sqlx::query(
                "INSERT INTO request_stats (id, bank_code, minute, family, requests, server_errors, client_errors, planned,
                                            latency_sum_us, histogram)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(uuid::Uuid::now_v7().to_string())
            .bind(r.bank.as_str())
            .bind(ms(r.minute))
            .bind(r.family.as_str())
            .bind(r.requests)
            .bind(r.server_errors)
            .bind(r.client_errors)
            .bind(r.planned)
            .bind(r.latency_sum_us)
            .bind(r.histogram.encode())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The records of `bank` in `[from, to)`: minute rows, hourly roll-ups and failed
    /// minutes, read by one statement so that a roll-up committing meanwhile can neither hide
    /// records nor count them twice.
    pub async fn statistics_records(
        &self,
        bank: BankCode,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<StatisticsRecords, StoreError> {
        let rows = sqlx::query(
            "SELECT 'minute' AS kind, minute AS at, family, requests, server_errors, client_errors, planned,
                    latency_sum_us, histogram
               FROM request_stats WHERE bank_code = $1 AND minute >= $2 AND minute < $3
             UNION ALL
             SELECT 'hour' AS kind, hour AS at, family, requests, server_errors, client_errors, planned,
                    latency_sum_us, histogram
               FROM request_stats_hourly WHERE bank_code = $1 AND hour >= $2 AND hour < $3
             UNION ALL
             SELECT 'failed' AS kind, minute AS at, '' AS family, 0 AS requests, 0 AS server_errors, 0 AS client_errors,
                    0 AS planned, 0 AS latency_sum_us, '' AS histogram
               FROM failed_minutes WHERE bank_code = $1 AND minute >= $2 AND minute < $3",
        )
        .bind(bank.as_str())
        .bind(ms(from))
        .bind(ms(to))
        .fetch_all(self.pool())
        .await?;
        let mut out = StatisticsRecords::default();
        for r in &rows {
            let kind: String = r.try_get("kind")?;
            let at: i64 = r.try_get("at")?;
            match kind.as_str() {
                "failed" => out.failed_minutes.push(timestamp(at)?),
                "hour" => out.hourly.push(record_row(r, bank, at)?),
                _ => out.minutes.push(record_row(r, bank, at)?),
            }
        }
        Ok(out)
    }

    /// Rolls the minute records older than `before` up into hourly rows, and the minutes in
    /// which the interface failed into `failed_minutes`, at most `max_windows` windows of six hours
    /// per call. Call it under the `statistics-roll-up` lease: two nodes rolling up at once would
    /// count the same hour twice.
    pub async fn roll_up_request_records(&self, before: Timestamp, max_windows: usize) -> Result<RolledUp, StoreError> {
        let before_ms = ms(before);
        let mut done = RolledUp::default();
        for _ in 0..max_windows {
            let oldest: Option<i64> = sqlx::query("SELECT MIN(minute) AS oldest FROM request_stats WHERE minute < $1")
                .bind(before_ms)
                .fetch_one(self.pool())
                .await?
                .try_get("oldest")?;
            let Some(oldest) = oldest else { break };
            // Whole hours only, so that an hour's rows are merged in one transaction.
            let window_end = (oldest - oldest.rem_euclid(HOUR_MS) + ROLL_UP_WINDOW_MS)
                .min(before_ms - before_ms.rem_euclid(HOUR_MS));
            if window_end <= oldest {
                break;
            }
            let step = self.roll_up_window(window_end).await?;
            done.minute_rows += step.minute_rows;
            done.failed_minutes += step.failed_minutes;
        }
        Ok(done)
    }

    async fn roll_up_window(&self, window_end: i64) -> Result<RolledUp, StoreError> {
        let mut tx = self.begin_write().await?;
        // Deleting first claims the rows: whatever is deleted here is rolled up here.
        let rows = sqlx::query(
            "DELETE FROM request_stats WHERE minute < $1
             RETURNING bank_code, minute AS at, family, requests, server_errors, client_errors, planned, latency_sum_us,
                       histogram",
        )
        .bind(window_end)
        .fetch_all(&mut *tx)
        .await?;
        let mut per_minute: BTreeMap<(BankCode, i64), (i64, i64)> = BTreeMap::new();
        let mut per_hour: BTreeMap<(BankCode, i64, Family), MinuteRecord> = BTreeMap::new();
        for r in &rows {
            let bank = parse_column(r.try_get("bank_code")?, "bank_code", |t| BankCode::parse(t).ok())?;
            let at: i64 = r.try_get("at")?;
            let record = record_row(r, bank, at)?;
            let minute = per_minute.entry((bank, at)).or_default();
            minute.0 += record.requests;
            minute.1 += record.server_errors;
            let hour = at - at.rem_euclid(HOUR_MS);
            let hour_start = timestamp(hour)?;
            per_hour
                .entry((bank, hour, record.family))
                .or_insert_with(|| MinuteRecord::empty(bank, hour_start, record.family))
                .merge(&record);
        }
        let mut failed = 0;
        for ((bank, minute), (requests, errors)) in per_minute {
            if minute_failed(requests, errors) {
                sqlx::query("INSERT INTO failed_minutes (bank_code, minute) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                    .bind(bank.as_str())
                    .bind(minute)
                    .execute(&mut *tx)
                    .await?;
                failed += 1;
            }
        }
        for ((bank, hour, family), mut total) in per_hour {
            // Records that arrive late (a node that could not flush for hours) join their hour.
            let existing = sqlx::query(
                "SELECT hour AS at, family, requests, server_errors, client_errors, planned, latency_sum_us, histogram
                 FROM request_stats_hourly WHERE bank_code = $1 AND hour = $2 AND family = $3",
            )
            .bind(bank.as_str())
            .bind(hour)
            .bind(family.as_str())
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(row) = existing {
                total.merge(&record_row(&row, bank, hour)?);
            }
            sqlx::query(
                "INSERT INTO request_stats_hourly (bank_code, hour, family, requests, server_errors, client_errors, planned,
                                                   latency_sum_us, histogram)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                 ON CONFLICT (bank_code, hour, family) DO UPDATE SET requests = excluded.requests,
                     server_errors = excluded.server_errors, client_errors = excluded.client_errors,
                     planned = excluded.planned, latency_sum_us = excluded.latency_sum_us, histogram = excluded.histogram",
            )
            .bind(bank.as_str())
            .bind(hour)
            .bind(family.as_str())
            .bind(total.requests)
            .bind(total.server_errors)
            .bind(total.client_errors)
            .bind(total.planned)
            .bind(total.latency_sum_us)
            .bind(total.histogram.encode())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(RolledUp { minute_rows: rows.len() as u64, failed_minutes: failed })
    }

    /// Takes (or renews) the lease `name` for `holder` until `until`; `false` while another
    /// holder's lease runs.
    pub async fn take_lease(
        &self,
        name: &str,
        holder: &str,
        now: Timestamp,
        until: Timestamp,
    ) -> Result<bool, StoreError> {
        let taken = sqlx::query(
            "INSERT INTO leases (name, holder, until) VALUES ($1, $2, $3)
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until = excluded.until
             WHERE leases.until < $4 OR leases.holder = excluded.holder",
        )
        .bind(name)
        .bind(holder)
        .bind(ms(until))
        .bind(ms(now))
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(taken == 1)
    }

    /// Records that node `node_id` is alive at `now` (its first heartbeat starts its life).
    /// This is also the write that readiness proves, so a heartbeat at the recorded instant still
    /// writes. A node's life never shrinks: a heartbeat older than the one recorded (two writes of
    /// the same node crossing) changes nothing.
    pub async fn node_heartbeat(&self, node_id: &str, started: Timestamp, now: Timestamp) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO node_heartbeats (node_id, started_at, last_seen) VALUES ($1, $2, $3)
             ON CONFLICT (node_id) DO UPDATE SET last_seen = excluded.last_seen
             WHERE excluded.last_seen >= node_heartbeats.last_seen",
        )
        .bind(node_id)
        .bind(ms(started))
        .bind(ms(now))
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The nodes' lives `[started_at, last_seen]` that overlap `[from, to)`, and the start of the
    /// first life ever recorded.
    pub async fn node_lives(
        &self,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<(Vec<(Timestamp, Timestamp)>, Option<Timestamp>), StoreError> {
        let rows = sqlx::query(
            "SELECT started_at, last_seen FROM node_heartbeats WHERE started_at < $2 AND last_seen >= $1 ORDER BY started_at",
        )
        .bind(ms(from))
        .bind(ms(to))
        .fetch_all(self.pool())
        .await?;
        let lives = rows
            .iter()
            .map(|r| Ok((timestamp(r.try_get("started_at")?)?, timestamp(r.try_get("last_seen")?)?)))
            .collect::<Result<Vec<_>, StoreError>>()?;
        let first: Option<i64> = sqlx::query("SELECT MIN(started_at) AS first FROM node_heartbeats")
            .fetch_one(self.pool())
            .await?
            .try_get("first")?;
        Ok((lives, first.map(timestamp).transpose()?))
    }
}

impl Store {
    /// Declares the dedicated interface of `bank` unavailable from `now`; an outage already open
    /// is kept (and returned).
    pub async fn start_outage(&self, bank: BankCode, reason: &str, now: Timestamp) -> Result<Outage, StoreError> {
        if let Some(open) = self.open_outage(bank, now).await? {
            return Ok(open);
        }
        let outage = Outage {
            id: uuid::Uuid::now_v7().to_string(),
            bank,
            started_at: now,
            ended_at: None,
            reason: reason.to_owned(),
        };
        sqlx::query("INSERT INTO interface_outages (id, bank_code, started_at, reason) VALUES ($1, $2, $3, $4)")
            .bind(&outage.id)
            .bind(bank.as_str())
            .bind(ms(now))
            .bind(reason)
            .execute(self.pool())
            .await?;
        Ok(outage)
    }

    /// Ends the open outage of `bank`; `false` when none was open.
    pub async fn end_outage(&self, bank: BankCode, now: Timestamp) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE interface_outages SET ended_at = $2 WHERE bank_code = $1 AND ended_at IS NULL AND started_at <= $2",
        )
        .bind(bank.as_str())
        .bind(ms(now))
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() > 0)
    }

    pub async fn open_outage(&self, bank: BankCode, now: Timestamp) -> Result<Option<Outage>, StoreError> {
        let just_after = now.saturating_add(jiff::SignedDuration::from_millis(1)).unwrap_or(now);
        Ok(self.outages(bank, now, just_after).await?.into_iter().find(|o| o.ended_at.is_none()))
    }

    /// The outages of `bank` overlapping `[from, to)`.
    pub async fn outages(&self, bank: BankCode, from: Timestamp, to: Timestamp) -> Result<Vec<Outage>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, started_at, ended_at, reason FROM interface_outages
             WHERE bank_code = $1 AND started_at < $3 AND (ended_at IS NULL OR ended_at > $2) ORDER BY started_at",
        )
        .bind(bank.as_str())
        .bind(ms(from))
        .bind(ms(to))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Outage {
                    id: r.try_get("id")?,
                    bank,
                    started_at: timestamp(r.try_get("started_at")?)?,
                    ended_at: r.try_get::<Option<i64>, _>("ended_at")?.map(timestamp).transpose()?,
                    reason: r.try_get("reason")?,
                })
            })
            .collect()
    }
}

fn record_row(r: &sqlx::any::AnyRow, bank: BankCode, at: i64) -> Result<MinuteRecord, StoreError> {
    Ok(MinuteRecord {
        bank,
        minute: timestamp(at)?,
        family: parse_column(r.try_get("family")?, "family", Family::parse)?,
        requests: r.try_get("requests")?,
        server_errors: r.try_get("server_errors")?,
        client_errors: r.try_get("client_errors")?,
        planned: r.try_get("planned")?,
        latency_sum_us: r.try_get("latency_sum_us")?,
        histogram: parse_column(r.try_get("histogram")?, "histogram", Histogram::decode)?,
    })
}
