//! Account information consents and the batch-access counters.

use super::{Store, StoreError, parse_column};
use crate::ais::consent::{AccessKind, AisConsent};
use crate::ledger::PsuId;
use sqlx::Row;
use std::collections::BTreeSet;
use stet::{BankCode, OrgId, ResourceId};

impl Store {
    /// Replaces the TPP's consent for the PSU as a whole. A consent granting nothing removes it.
    pub async fn replace_ais_consent(
        &self,
        bank: BankCode,
        psu: &PsuId,
        client: &OrgId,
        consent: &AisConsent,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await?;
        for table in ["ais_consent_accounts", "ais_consents"] {
            let sql = match table {
                "ais_consent_accounts" => {
                    "DELETE FROM ais_consent_accounts WHERE bank_code = $1 AND psu_id = $2 AND client_id = $3"
                }
                _ => "DELETE FROM ais_consents WHERE bank_code = $1 AND psu_id = $2 AND client_id = $3",
            };
            sqlx::query(sql).bind(bank.as_str()).bind(psu.as_str()).bind(client.as_str()).execute(&mut *tx).await?;
        }
        if !consent.is_empty() {
            sqlx::query(
                "INSERT INTO ais_consents (bank_code, psu_id, client_id, psu_identity, granted_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(bank.as_str())
            .bind(psu.as_str())
            .bind(client.as_str())
            .bind(i64::from(consent.psu_identity))
            .bind(now_ms)
            .execute(&mut *tx)
            .await?;
            for (kind, accounts) in consent.grants() {
                for account in accounts {
                    sqlx::query(
                        "INSERT INTO ais_consent_accounts (bank_code, psu_id, client_id, resource_id, access) VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(bank.as_str())
                    .bind(psu.as_str())
                    .bind(client.as_str())
                    .bind(account.as_str())
                    .bind(kind.as_str())
                    .execute(&mut *tx)
                    .await?;
                }
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// The TPP's consent for the PSU, if it has one.
    pub async fn ais_consent(
        &self,
        bank: BankCode,
        psu: &PsuId,
        client: &OrgId,
    ) -> Result<Option<AisConsent>, StoreError> {
        let row = sqlx::query(
            "SELECT psu_identity FROM ais_consents WHERE bank_code = $1 AND psu_id = $2 AND client_id = $3",
        )
        .bind(bank.as_str())
        .bind(psu.as_str())
        .bind(client.as_str())
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let mut consent =
            AisConsent { psu_identity: row.try_get::<i64, _>("psu_identity")? == 1, ..AisConsent::default() };
        let rows = sqlx::query(
            "SELECT resource_id, access FROM ais_consent_accounts WHERE bank_code = $1 AND psu_id = $2 AND client_id = $3",
        )
        .bind(bank.as_str())
        .bind(psu.as_str())
        .bind(client.as_str())
        .fetch_all(self.pool())
        .await?;
        for row in rows {
            let id = parse_column(row.try_get("resource_id")?, "resource_id", |t| ResourceId::parse(t).ok())?;
            let kind = parse_column(row.try_get("access")?, "access", AccessKind::parse)?;
            let set: &mut BTreeSet<ResourceId> = consent.set_mut(kind);
            set.insert(id);
        }
        Ok(Some(consent))
    }

    /// Counts one batch call and returns the day's count so far, atomically (shared by all nodes).
    pub async fn count_batch_call(
        &self,
        client: &OrgId,
        bank: BankCode,
        psu: &PsuId,
        target: &str,
        method: &str,
        day: &str,
    ) -> Result<i64, StoreError> {
        let row = sqlx::query(
            "INSERT INTO batch_quota (client_id, bank_code, psu_id, target, method, day, calls) VALUES ($1, $2, $3, $4, $5, $6, 1)
             ON CONFLICT (client_id, bank_code, psu_id, target, method, day) DO UPDATE SET calls = batch_quota.calls + 1
             RETURNING calls",
        )
        .bind(client.as_str())
        .bind(bank.as_str())
        .bind(psu.as_str())
        .bind(target)
        .bind(method)
        .bind(day)
        .fetch_one(self.pool())
        .await?;
        Ok(row.try_get("calls")?)
    }
}

impl Store {
    /// Counts one request in a rate-limit window and returns the window's count so far.
    pub async fn count_rate_limited_call(
        &self,
        client: &OrgId,
        bank: BankCode,
        resource: &str,
        window: &str,
    ) -> Result<i64, StoreError> {
        let row = sqlx::query(
            "INSERT INTO rate_counters (client_id, bank_code, resource, minute, calls) VALUES ($1, $2, $3, $4, 1)
             ON CONFLICT (client_id, bank_code, resource, minute) DO UPDATE SET calls = rate_counters.calls + 1
             RETURNING calls",
        )
        .bind(client.as_str())
        .bind(bank.as_str())
        .bind(resource)
        .bind(window)
        .fetch_one(self.pool())
        .await?;
        Ok(row.try_get("calls")?)
    }
}
