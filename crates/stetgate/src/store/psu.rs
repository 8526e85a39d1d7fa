//! The PSUs' journeys through the bank's pages, and the per-PSU lock after repeated failed
//! authentications. Every change of a journey is a compare-and-set on its version, and its failure
//! counter an atomic increment, so that simultaneous posts cannot both pass.

use super::{Store, StoreError, ms, parse_column, timestamp};
use crate::ledger::PsuId;
use crate::psu::model::{Challenge, Journey, Purpose, ScaMethod, Stage};
use crate::secret::SecretHash;
use jiff::Timestamp;
use sqlx::Row;
use sqlx::any::AnyRow;
use stet::{BankCode, OrgId};

macro_rules! journey_columns {
    () => {
        "journey_key, purpose, bank_code, client_id, stage, psu_id, psu_known, failures, challenge_method,
         challenge_destination, challenge_expires_at, challenge_reference, sca_at, created_at, expires_at, context, version"
    };
}

impl Store {
    pub async fn insert_journey(&self, j: &Journey) -> Result<(), StoreError> {
        let query = sqlx::query(concat!(
            "INSERT INTO psu_journeys (",
            journey_columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)"
        ));
        let challenge = j.challenge.as_ref();
        query
            .bind(j.key.as_str())
            .bind(j.purpose.as_str())
            .bind(j.bank.as_str())
            .bind(j.client_id.as_str())
            .bind(j.stage.as_str())
            .bind(j.psu.as_ref().map(|p| p.as_str().to_owned()))
            .bind(i64::from(j.psu_known))
            .bind(j.failures)
            .bind(challenge.map(|c| c.method.as_str()))
            .bind(challenge.and_then(|c| c.masked_destination.clone()))
            .bind(challenge.map(|c| ms(c.expires_at)))
            .bind(challenge.map(|c| c.reference.clone()))
            .bind(j.sca_at.map(ms))
            .bind(ms(j.created_at))
            .bind(ms(j.expires_at))
            .bind(&j.context)
            .bind(j.version)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    pub async fn journey(&self, key: &SecretHash) -> Result<Option<Journey>, StoreError> {
        let row = sqlx::query(concat!("SELECT ", journey_columns!(), " FROM psu_journeys WHERE journey_key = $1"))
            .bind(key.as_str())
            .fetch_optional(self.pool())
            .await?;
        row.map(|r| journey_row(&r)).transpose()
    }

    /// Moves a journey from `from` (as read, at its version) to `to`; false if it changed meanwhile.
    pub async fn advance_journey(&self, from: &Journey, to: &Journey) -> Result<bool, StoreError> {
        self.update_journey(from, to, "", 0).await
    }

    /// The move of a successful authentication: from `from`'s version, still in `Authenticate`,
    /// and only while its failures are under `max_attempts` (failures counted by simultaneous posts
    /// win over a right code that arrives after them).
    pub async fn pass_authentication(
        &self,
        from: &Journey,
        to: &Journey,
        max_attempts: i64,
    ) -> Result<bool, StoreError> {
        self.update_journey(from, to, "authenticate", max_attempts).await
    }

    async fn update_journey(
        &self,
        from: &Journey,
        to: &Journey,
        required_stage: &str,
        max_attempts: i64,
    ) -> Result<bool, StoreError> {
        let challenge = to.challenge.as_ref();
        let updated = sqlx::query(
            "UPDATE psu_journeys SET stage = $3, psu_id = $4, psu_known = $5, challenge_method = $6,
                    challenge_destination = $7, challenge_expires_at = $8, challenge_reference = $9, sca_at = $10,
                    version = version + 1
             WHERE journey_key = $1 AND version = $2 AND ($11 = '' OR (stage = $11 AND failures < $12))",
        )
        .bind(from.key.as_str())
        .bind(from.version)
        .bind(to.stage.as_str())
        .bind(to.psu.as_ref().map(|p| p.as_str().to_owned()))
        .bind(i64::from(to.psu_known))
        .bind(challenge.map(|c| c.method.as_str()))
        .bind(challenge.and_then(|c| c.masked_destination.clone()))
        .bind(challenge.map(|c| ms(c.expires_at)))
        .bind(challenge.map(|c| c.reference.clone()))
        .bind(to.sca_at.map(ms))
        .bind(required_stage)
        .bind(max_attempts)
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(updated == 1)
    }

    /// Counts a failed attempt, atomically; the new count, or `None` if the journey is no longer
    /// identifying or authenticating.
    pub async fn count_journey_failure(&self, key: &SecretHash) -> Result<Option<i64>, StoreError> {
        let rows = sqlx::query(
            "UPDATE psu_journeys SET failures = failures + 1, version = version + 1
             WHERE journey_key = $1 AND stage IN ('identify', 'authenticate') RETURNING failures",
        )
        .bind(key.as_str())
        .fetch_all(self.pool())
        .await?;
        rows.first().map(|r| r.try_get("failures")).transpose().map_err(StoreError::from)
    }

    /// Ends a journey (refused, expired, closed) unless it already ended.
    pub async fn end_journey(&self, key: &SecretHash, stage: Stage) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE psu_journeys SET stage = $2, version = version + 1
             WHERE journey_key = $1 AND stage NOT IN ('refused', 'expired', 'closed')",
        )
        .bind(key.as_str())
        .bind(stage.as_str())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Counts one message (a one-time code) sent to `psu` of `bank` in `window` and returns the
    /// window's count so far (in `rate_counters`, purged with them after an hour).
    pub async fn count_code_sent(&self, bank: BankCode, psu: &PsuId, window: &str) -> Result<i64, StoreError> {
        let query = sqlx::query(
            "INSERT INTO rate_counters (client_id, bank_code, resource, minute, calls) VALUES ($1, $2, 'one-time-code', $3, 1)
             ON CONFLICT (client_id, bank_code, resource, minute) DO UPDATE SET calls = rate_counters.calls + 1
             RETURNING calls",
        )
        .bind(format!("psu:{}", psu.as_str()))
        .bind(bank.as_str())
        .bind(window);
        Ok(self.write_returning_one(query).await?.try_get("calls")?)
    }

    /// Whether `psu` is locked at `bank` at `now`.
    pub async fn psu_locked(&self, bank: BankCode, psu: &PsuId, now: Timestamp) -> Result<bool, StoreError> {
        let row = sqlx::query("SELECT locked_until FROM psu_lockouts WHERE bank_code = $1 AND psu_id = $2")
            .bind(bank.as_str())
            .bind(psu.as_str())
            .fetch_optional(self.pool())
            .await?;
        let until: Option<i64> = match row {
            Some(r) => r.try_get("locked_until")?,
            None => None,
        };
        Ok(until.is_some_and(|u| u > ms(now)))
    }

    /// Counts a failed authentication of `psu` (a new window when the last began before
    /// `window_start`); at `threshold` failures it is locked until `lock_until`. Whether it is
    /// locked now.
    pub async fn record_psu_failure(
        &self,
        bank: BankCode,
        psu: &PsuId,
        now: Timestamp,
        window_start: Timestamp,
        threshold: i64,
        lock_until: Timestamp,
    ) -> Result<bool, StoreError> {
        let query = sqlx::query(
            "INSERT INTO psu_lockouts (bank_code, psu_id, failures, window_start, locked_until)
             VALUES ($1, $2, 1, $3, CASE WHEN 1 >= $5 THEN $6 ELSE NULL END)
             ON CONFLICT (bank_code, psu_id) DO UPDATE SET
               failures = CASE WHEN psu_lockouts.window_start < $4 THEN 1 ELSE psu_lockouts.failures + 1 END,
               window_start = CASE WHEN psu_lockouts.window_start < $4 THEN $3 ELSE psu_lockouts.window_start END,
               locked_until = CASE
                 WHEN (CASE WHEN psu_lockouts.window_start < $4 THEN 1 ELSE psu_lockouts.failures + 1 END) >= $5 THEN $6
                 ELSE psu_lockouts.locked_until END
             RETURNING locked_until",
        )
        .bind(bank.as_str())
        .bind(psu.as_str())
        .bind(ms(now))
        .bind(ms(window_start))
        .bind(threshold)
        .bind(ms(lock_until));
        let until: Option<i64> = self.write_returning_one(query).await?.try_get("locked_until")?;
        Ok(until.is_some_and(|u| u > ms(now)))
    }

    /// A successful authentication forgets the PSU's failures.
    pub async fn clear_psu_failures(&self, bank: BankCode, psu: &PsuId) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM psu_lockouts WHERE bank_code = $1 AND psu_id = $2")
            .bind(bank.as_str())
            .bind(psu.as_str())
            .execute(self.pool())
            .await?;
        Ok(())
    }
}

fn journey_row(r: &AnyRow) -> Result<Journey, StoreError> {
    let psu: Option<String> = r.try_get("psu_id")?;
    let method: Option<String> = r.try_get("challenge_method")?;
    let challenge = match method {
        Some(method) => Some(Challenge {
            method: parse_column(method, "challenge_method", ScaMethod::parse)?,
            masked_destination: r.try_get("challenge_destination")?,
            expires_at: timestamp(r.try_get::<Option<i64>, _>("challenge_expires_at")?.unwrap_or(0))?,
            reference: r.try_get::<Option<String>, _>("challenge_reference")?.unwrap_or_default(),
        }),
        None => None,
    };
    Ok(Journey {
        key: SecretHash::from_stored(r.try_get("journey_key")?),
        purpose: parse_column(r.try_get("purpose")?, "purpose", Purpose::parse)?,
        bank: parse_column(r.try_get("bank_code")?, "bank_code", |t| BankCode::parse(t).ok())?,
        client_id: parse_column(r.try_get("client_id")?, "client_id", |t| OrgId::parse(t).ok())?,
        stage: parse_column(r.try_get("stage")?, "stage", Stage::parse)?,
        psu: psu.map(|p| parse_column(p, "psu_id", PsuId::parse)).transpose()?,
        psu_known: r.try_get::<i64, _>("psu_known")? == 1,
        failures: r.try_get("failures")?,
        challenge,
        sca_at: r.try_get::<Option<i64>, _>("sca_at")?.map(timestamp).transpose()?,
        created_at: timestamp(r.try_get("created_at")?)?,
        expires_at: timestamp(r.try_get("expires_at")?)?,
        context: r.try_get("context")?,
        version: r.try_get("version")?,
    })
}
