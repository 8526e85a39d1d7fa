//! Account information consents and the batch-access counters.

use super::{Store, StoreError, parse_column};
use crate::ais::model::{AccessKind, AisConsent};
use crate::ledger::PsuId;
use sqlx::Row;
use std::collections::BTreeSet;
use stet::{BankCode, OrgId, ResourceId};

impl Store {
    /// Replaces the TPP's consent for the PSU as a whole. A consent granting nothing removes it.
    ///
    /// The first statement upserts the consent's row, which locks it: concurrent replacements of
    /// one PSU's consent by one TPP queue there, and the last committed is the consent. (Deleting
    /// first let two transactions both find nothing to delete and then collide on the insert:
    /// 503s under load on PostgreSQL.)
    pub async fn replace_ais_consent(
        &self,
        bank: BankCode,
        psu: &PsuId,
        client: &OrgId,
        consent: &AisConsent,
        now: jiff::Timestamp,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO ais_consents (bank_code, psu_id, client_id, psu_identity, granted_at, revision)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (bank_code, psu_id, client_id)
             DO UPDATE SET psu_identity = excluded.psu_identity, granted_at = excluded.granted_at,
                           revision = excluded.revision",
        )
        .bind(bank.as_str())
        .bind(psu.as_str())
        .bind(client.as_str())
        .bind(i64::from(consent.psu_identity))
        .bind(super::ms(now))
        .bind(super::decisions::new_revision())
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM ais_consent_accounts WHERE bank_code = $1 AND psu_id = $2 AND client_id = $3")
            .bind(bank.as_str())
            .bind(psu.as_str())
            .bind(client.as_str())
            .execute(&mut *tx)
            .await?;
        if consent.is_empty() {
            sqlx::query("DELETE FROM ais_consents WHERE bank_code = $1 AND psu_id = $2 AND client_id = $3")
                .bind(bank.as_str())
                .bind(psu.as_str())
                .bind(client.as_str())
                .execute(&mut *tx)
                .await?;
        }
        let rows: Vec<(AccessKind, &ResourceId)> = consent
            .grants()
            .into_iter()
            .flat_map(|(kind, accounts)| accounts.iter().map(move |account| (kind, account)))
            .collect();
        for batch in rows.chunks(super::ledger::bulk_rows(5)) {
            let sql = super::ledger::multi_row_insert(
                "INSERT INTO ais_consent_accounts (bank_code, psu_id, client_id, resource_id, access)",
                5,
                batch.len(),
                "",
            );
            // Audited: fixed column names and numbered placeholders only; every value is bound.
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (kind, account) in batch {
                query = query
                    .bind(bank.as_str())
                    .bind(psu.as_str())
                    .bind(client.as_str())
                    .bind(account.as_str())
                    .bind(kind.as_str());
            }
            query.execute(&mut *tx).await?;
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
        Ok(self.ais_consent_with_revision(bank, psu, client).await?.map(|(_, consent)| consent))
    }

    /// The TPP's consent for the PSU and the revision of its row, if it has one.
    pub(super) async fn ais_consent_with_revision(
        &self,
        bank: BankCode,
        psu: &PsuId,
        client: &OrgId,
    ) -> Result<Option<(String, AisConsent)>, StoreError> {
        let row = sqlx::query(
            "SELECT psu_identity, revision FROM ais_consents WHERE bank_code = $1 AND psu_id = $2 AND client_id = $3",
        )
        .bind(bank.as_str())
        .bind(psu.as_str())
        .bind(client.as_str())
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let revision: String = row.try_get("revision")?;
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
        Ok(Some((revision, consent)))
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
        let query = sqlx::query(
            "INSERT INTO batch_quota (client_id, bank_code, psu_id, target, method, day, calls) VALUES ($1, $2, $3, $4, $5, $6, 1)
             ON CONFLICT (client_id, bank_code, psu_id, target, method, day) DO UPDATE SET calls = batch_quota.calls + 1
             RETURNING calls",
        )
        .bind(client.as_str())
        .bind(bank.as_str())
        .bind(psu.as_str())
        .bind(target)
        .bind(method)
        .bind(day);
        Ok(self.write_returning_one(query).await?.try_get("calls")?)
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
        let query = sqlx::query(
            "INSERT INTO rate_counters (client_id, bank_code, resource, minute, calls) VALUES ($1, $2, $3, $4, 1)
             ON CONFLICT (client_id, bank_code, resource, minute) DO UPDATE SET calls = rate_counters.calls + 1
             RETURNING calls",
        )
        .bind(client.as_str())
        .bind(bank.as_str())
        .bind(resource)
        .bind(window);
        Ok(self.write_returning_one(query).await?.try_get("calls")?)
    }
}
