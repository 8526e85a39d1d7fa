//! The regulatory duties' tables: fallback grants, sessions and their record (RTS art. 33),
//! declared outages of the dedicated interface, and the purge of what expired. The request
//! records behind the statistics (RTS art. 32) are in `statistics.rs`.

use super::{Store, StoreError, parse_column};
use crate::fallback::{FallbackEvent, OnlineSession, OnlineStage};
use crate::ledger::PsuId;
use sqlx::Row;
use stet::{BankCode, OrgId};

/// What presenting a fallback JWT's id found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Consumed {
    /// First use: now spent. The TPP it was issued to.
    Fresh(OrgId),
    Used,
    Expired,
    Unknown,
}

/// A declared outage: `[started_at, ended_at)`, open while `ended_at` is `None` (Unix ms).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outage {
    pub id: String,
    pub bank: BankCode,
    pub started_at: i64,
    pub ended_at: Option<i64>,
    pub reason: String,
}

impl Store {
    pub async fn insert_fallback_grant(
        &self,
        jti: &str,
        bank: BankCode,
        client: &OrgId,
        scope: &str,
        issued_at: i64,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO fallback_grants (jti, bank_code, client_id, scope, issued_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(jti)
        .bind(bank.as_str())
        .bind(client.as_str())
        .bind(scope)
        .bind(issued_at)
        .bind(expires_at)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Spends a fallback JWT's id, atomically: of two nodes presented the same JWT, one wins.
    pub async fn consume_fallback_grant(&self, jti: &str, bank: BankCode, now_ms: i64) -> Result<Consumed, StoreError> {
        let row =
            sqlx::query("SELECT client_id, expires_at, used_at FROM fallback_grants WHERE jti = $1 AND bank_code = $2")
                .bind(jti)
                .bind(bank.as_str())
                .fetch_optional(self.pool())
                .await?;
        let Some(row) = row else { return Ok(Consumed::Unknown) };
        if row.try_get::<Option<i64>, _>("used_at")?.is_some() {
            return Ok(Consumed::Used);
        }
        if row.try_get::<i64, _>("expires_at")? <= now_ms {
            return Ok(Consumed::Expired);
        }
        let client = parse_column(row.try_get("client_id")?, "client_id", |t| OrgId::parse(t).ok())?;
        let spent = sqlx::query("UPDATE fallback_grants SET used_at = $2 WHERE jti = $1 AND used_at IS NULL")
            .bind(jti)
            .bind(now_ms)
            .execute(self.pool())
            .await?;
        Ok(if spent.rows_affected() == 1 { Consumed::Fresh(client) } else { Consumed::Used })
    }

    pub async fn insert_online_session(&self, s: &OnlineSession) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO fallback_sessions (session_hash, jti, bank_code, client_id, stage, psu_id, failures, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&s.session_hash)
        .bind(&s.jti)
        .bind(s.bank.as_str())
        .bind(s.client_id.as_str())
        .bind(s.stage.as_str())
        .bind(s.psu.as_ref().map(|p| p.as_str().to_owned()))
        .bind(s.failures)
        .bind(s.created_at)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    pub async fn online_session(&self, session_hash: &str) -> Result<Option<OnlineSession>, StoreError> {
        let row = sqlx::query(
            "SELECT session_hash, jti, bank_code, client_id, stage, psu_id, failures, created_at
             FROM fallback_sessions WHERE session_hash = $1",
        )
        .bind(session_hash)
        .fetch_optional(self.pool())
        .await?;
        let Some(r) = row else { return Ok(None) };
        Ok(Some(OnlineSession {
            session_hash: r.try_get("session_hash")?,
            jti: r.try_get("jti")?,
            bank: parse_column(r.try_get("bank_code")?, "bank_code", |t| BankCode::parse(t).ok())?,
            client_id: parse_column(r.try_get("client_id")?, "client_id", |t| OrgId::parse(t).ok())?,
            stage: parse_column(r.try_get("stage")?, "stage", OnlineStage::parse)?,
            psu: r.try_get::<Option<String>, _>("psu_id")?.and_then(|p| PsuId::parse(&p)),
            failures: r.try_get("failures")?,
            created_at: r.try_get("created_at")?,
        }))
    }

    pub async fn update_online_session(&self, s: &OnlineSession) -> Result<(), StoreError> {
        sqlx::query("UPDATE fallback_sessions SET stage = $2, psu_id = $3, failures = $4 WHERE session_hash = $1")
            .bind(&s.session_hash)
            .bind(s.stage.as_str())
            .bind(s.psu.as_ref().map(|p| p.as_str().to_owned()))
            .bind(s.failures)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    pub async fn record_fallback_event(&self, e: &FallbackEvent) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO fallback_events (id, at, bank_code, client_id, jti, event, outcome, detail)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(uuid::Uuid::now_v7().to_string())
        .bind(e.at)
        .bind(e.bank.as_str())
        .bind(e.client_id.as_ref().map(|c| c.as_str().to_owned()))
        .bind(e.jti.clone())
        .bind(&e.event)
        .bind(&e.outcome)
        .bind(&e.detail)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The fallback's record from `since_ms` on, oldest first; every bank when `bank` is `None`.
    pub async fn fallback_events(
        &self,
        bank: Option<BankCode>,
        since_ms: i64,
    ) -> Result<Vec<FallbackEvent>, StoreError> {
        let rows = sqlx::query(
            "SELECT at, bank_code, client_id, jti, event, outcome, detail FROM fallback_events
             WHERE at >= $1 AND ($2 = '' OR bank_code = $2) ORDER BY at, id",
        )
        .bind(since_ms)
        .bind(bank.map(|b| b.as_str().to_owned()).unwrap_or_default())
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(FallbackEvent {
                    at: r.try_get("at")?,
                    bank: parse_column(r.try_get("bank_code")?, "bank_code", |t| BankCode::parse(t).ok())?,
                    client_id: r.try_get::<Option<String>, _>("client_id")?.and_then(|c| OrgId::parse(&c).ok()),
                    jti: r.try_get("jti")?,
                    event: r.try_get("event")?,
                    outcome: r.try_get("outcome")?,
                    detail: r.try_get("detail")?,
                })
            })
            .collect()
    }

    /// Declares the dedicated interface of `bank` unavailable from `now_ms`; an outage already open
    /// is kept (and returned).
    pub async fn start_outage(&self, bank: BankCode, reason: &str, now_ms: i64) -> Result<Outage, StoreError> {
        if let Some(open) = self.open_outage(bank, now_ms).await? {
            return Ok(open);
        }
        let outage = Outage {
            id: uuid::Uuid::now_v7().to_string(),
            bank,
            started_at: now_ms,
            ended_at: None,
            reason: reason.to_owned(),
        };
        sqlx::query("INSERT INTO interface_outages (id, bank_code, started_at, reason) VALUES ($1, $2, $3, $4)")
            .bind(&outage.id)
            .bind(bank.as_str())
            .bind(now_ms)
            .bind(reason)
            .execute(self.pool())
            .await?;
        Ok(outage)
    }

    /// Ends the open outage of `bank`; `false` when none was open.
    pub async fn end_outage(&self, bank: BankCode, now_ms: i64) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE interface_outages SET ended_at = $2 WHERE bank_code = $1 AND ended_at IS NULL AND started_at <= $2",
        )
        .bind(bank.as_str())
        .bind(now_ms)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() > 0)
    }

    pub async fn open_outage(&self, bank: BankCode, now_ms: i64) -> Result<Option<Outage>, StoreError> {
        Ok(self.outages(bank, now_ms, now_ms + 1).await?.into_iter().find(|o| o.ended_at.is_none()))
    }

    /// The outages of `bank` overlapping `[from_ms, to_ms)`.
    pub async fn outages(&self, bank: BankCode, from_ms: i64, to_ms: i64) -> Result<Vec<Outage>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, started_at, ended_at, reason FROM interface_outages
             WHERE bank_code = $1 AND started_at < $3 AND (ended_at IS NULL OR ended_at > $2) ORDER BY started_at",
        )
        .bind(bank.as_str())
        .bind(from_ms)
        .bind(to_ms)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Outage {
                    id: r.try_get("id")?,
                    bank,
                    started_at: r.try_get("started_at")?,
                    ended_at: r.try_get("ended_at")?,
                    reason: r.try_get("reason")?,
                })
            })
            .collect()
    }
}

/// What [`Store::purge_expired`] removed, per table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Purged {
    pub authorization_flows: u64,
    pub authorization_codes: u64,
    pub token_pairs: u64,
    pub batch_quota: u64,
    pub rate_counters: u64,
    pub fallback_grants: u64,
    pub fallback_sessions: u64,
}

impl Purged {
    pub fn total(&self) -> u64 {
        self.authorization_flows
            + self.authorization_codes
            + self.token_pairs
            + self.batch_quota
            + self.rate_counters
            + self.fallback_grants
            + self.fallback_sessions
    }
}

/// Rows are kept this long after they stop mattering, so that a late request still gets the
/// precise refusal ("revoked", "already used") rather than "unknown".
pub const PURGE_GRACE_MS: i64 = 86_400_000;

impl Store {
    /// Deletes what can no longer be used: flows, codes, fallback grants and sessions a day after
    /// their end, token pairs a day after their refresh token expired or was revoked, batch-quota
    /// counters of days before yesterday (`today`, Paris), rate counters older than an hour. The
    /// fallback record and the request records are kept: they are the regulatory evidence.
    pub async fn purge_expired(&self, now_ms: i64, today: jiff::civil::Date) -> Result<Purged, StoreError> {
        let cutoff = now_ms - PURGE_GRACE_MS;
        let run = async |sql: &'static str, value: Value| -> Result<u64, StoreError> {
            let query = sqlx::query(sql);
            let query = match value {
                Value::Int(v) => query.bind(v),
                Value::Text(v) => query.bind(v),
            };
            Ok(query.execute(self.pool()).await?.rows_affected())
        };
        let oldest_day = today.checked_sub(jiff::Span::new().days(1)).unwrap_or(today).to_string();
        let minute = jiff::Timestamp::from_millisecond(now_ms - 3_600_000)
            .map(|t| t.strftime("%Y-%m-%dT%H:%M").to_string())
            .unwrap_or_default();
        Ok(Purged {
            authorization_flows: run("DELETE FROM authorization_flows WHERE created_at < $1", Value::Int(cutoff))
                .await?,
            authorization_codes: run("DELETE FROM authorization_codes WHERE expires_at < $1", Value::Int(cutoff))
                .await?,
            token_pairs: run(
                "DELETE FROM token_pairs WHERE refresh_expires_at < $1 OR revoked_at < $1",
                Value::Int(cutoff),
            )
            .await?,
            batch_quota: run("DELETE FROM batch_quota WHERE day < $1", Value::Text(oldest_day)).await?,
            rate_counters: run("DELETE FROM rate_counters WHERE minute < $1", Value::Text(minute)).await?,
            fallback_grants: run("DELETE FROM fallback_grants WHERE expires_at < $1", Value::Int(cutoff)).await?,
            fallback_sessions: run("DELETE FROM fallback_sessions WHERE created_at < $1", Value::Int(cutoff)).await?,
        })
    }
}

enum Value {
    Int(i64),
    Text(String),
}
