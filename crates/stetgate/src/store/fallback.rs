//! The fallback's tables (RTS art. 33): the JWTs issued to TPPs, each usable once, and the record
//! of every use.

use super::{Store, StoreError, ms, parse_column, timestamp};
use crate::fallback::model::FallbackEvent;
use jiff::Timestamp;
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

impl Store {
    pub async fn insert_fallback_grant(
        &self,
        jti: &str,
        bank: BankCode,
        client: &OrgId,
        scope: &str,
        issued_at: Timestamp,
        expires_at: Timestamp,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO fallback_grants (jti, bank_code, client_id, scope, issued_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(jti)
        .bind(bank.as_str())
        .bind(client.as_str())
        .bind(scope)
        .bind(ms(issued_at))
        .bind(ms(expires_at))
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Spends a fallback JWT's id, atomically: of two nodes presented the same JWT, one wins.
    pub async fn consume_fallback_grant(
        &self,
        jti: &str,
        bank: BankCode,
        now: Timestamp,
    ) -> Result<Consumed, StoreError> {
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
        if timestamp(row.try_get("expires_at")?)? <= now {
            return Ok(Consumed::Expired);
        }
        let client = parse_column(row.try_get("client_id")?, "client_id", |t| OrgId::parse(t).ok())?;
        let spent = sqlx::query("UPDATE fallback_grants SET used_at = $2 WHERE jti = $1 AND used_at IS NULL")
            .bind(jti)
            .bind(ms(now))
            .execute(self.pool())
            .await?;
        Ok(if spent.rows_affected() == 1 { Consumed::Fresh(client) } else { Consumed::Used })
    }

    pub async fn record_fallback_event(&self, e: &FallbackEvent) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO fallback_events (id, at, bank_code, client_id, jti, event, outcome, detail)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(uuid::Uuid::now_v7().to_string())
        .bind(ms(e.at))
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

    /// The fallback's record from `since` on, oldest first; every bank when `bank` is `None`.
    pub async fn fallback_events(
        &self,
        bank: Option<BankCode>,
        since: Timestamp,
    ) -> Result<Vec<FallbackEvent>, StoreError> {
        let rows = sqlx::query(
            "SELECT at, bank_code, client_id, jti, event, outcome, detail FROM fallback_events
             WHERE at >= $1 AND ($2 = '' OR bank_code = $2) ORDER BY at, id",
        )
        .bind(ms(since))
        .bind(bank.map(|b| b.as_str().to_owned()).unwrap_or_default())
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(FallbackEvent {
                    at: timestamp(r.try_get("at")?)?,
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
}
