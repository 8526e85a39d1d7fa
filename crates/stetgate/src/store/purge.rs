//! The purge of what can no longer be used, run by every node (deleting is idempotent).

use super::{Store, StoreError, ms};
use jiff::{SignedDuration, Timestamp};

/// What [`Store::purge_expired`] removed, per table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Purged {
    pub psu_journeys: u64,
    pub psu_lockouts: u64,
    pub authorization_codes: u64,
    pub token_pairs: u64,
    pub batch_quota: u64,
    pub rate_counters: u64,
    pub fallback_grants: u64,
}

impl Purged {
    pub fn total(&self) -> u64 {
        self.psu_journeys
            + self.psu_lockouts
            + self.authorization_codes
            + self.token_pairs
            + self.batch_quota
            + self.rate_counters
            + self.fallback_grants
    }
}

/// Rows are kept this long after they stop mattering, so that a late request still gets the
/// precise refusal ("revoked", "already used") rather than "unknown".
pub const PURGE_GRACE: SignedDuration = SignedDuration::from_hours(24);

impl Store {
    /// Deletes what can no longer be used: PSU journeys, codes and fallback grants a day after their
    /// end, PSU locks a day after they lapsed, token pairs a day after their refresh token expired or was revoked, batch-quota
    /// counters of days before yesterday (`today`, Paris), rate counters older than an hour. The
    /// fallback record and the request records are kept: they are the regulatory evidence.
    pub async fn purge_expired(&self, now: Timestamp, today: jiff::civil::Date) -> Result<Purged, StoreError> {
        let cutoff = ms(now.saturating_sub(PURGE_GRACE).unwrap_or(now));
        let run = async |sql: &'static str, value: Value| -> Result<u64, StoreError> {
            let query = sqlx::query(sql);
            let query = match value {
                Value::Int(v) => query.bind(v),
                Value::Text(v) => query.bind(v),
            };
            Ok(query.execute(self.pool()).await?.rows_affected())
        };
        let oldest_day = today.checked_sub(jiff::Span::new().days(1)).unwrap_or(today).to_string();
        let minute = now
            .saturating_sub(SignedDuration::from_hours(1))
            .map(|t| t.strftime("%Y-%m-%dT%H:%M").to_string())
            .unwrap_or_default();
        Ok(Purged {
            psu_journeys: run("DELETE FROM psu_journeys WHERE expires_at < $1", Value::Int(cutoff)).await?,
            psu_lockouts: run(
                "DELETE FROM psu_lockouts WHERE window_start < $1 AND (locked_until IS NULL OR locked_until < $1)",
                Value::Int(cutoff),
            )
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
        })
    }
}

enum Value {
    Int(i64),
    Text(String),
}
