//! What the permission dashboard reads and writes: the PSU's live token pairs, and withdrawals,
//! each one database transaction (tokens revoked and consent removed together, and recorded).

use super::{Store, StoreError, ms, parse_column, timestamp};
use crate::ledger::PsuId;
use crate::oauth::model::{Scopes, Subject, TokenPair};
use crate::permissions::model::{AccessRole, LivePair, Withdrawal, Withdrawn, WithdrawnBy};
use jiff::{SignedDuration, Timestamp};
use sqlx::Row;
use stet::{BankCode, OrgId, ResourceId};

impl Store {
    /// The PSU's token pairs at `bank` that are neither revoked nor past their refresh expiry.
    pub async fn live_pairs(&self, bank: BankCode, psu: &PsuId, now: Timestamp) -> Result<Vec<LivePair>, StoreError> {
        let rows = sqlx::query(
            "SELECT pair_id, client_id, scope, access_expires_at, refresh_expires_at, sca_at, created_at, last_used_at,
                    payment_request_id
             FROM token_pairs
             WHERE bank_code = $1 AND psu_id = $2 AND revoked_at IS NULL AND refresh_expires_at > $3
             ORDER BY client_id, created_at",
        )
        .bind(bank.as_str())
        .bind(psu.as_str())
        .bind(ms(now))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(LivePair {
                    pair: TokenPair {
                        pair_id: row.try_get("pair_id")?,
                        bank,
                        client_id: parse_column(row.try_get("client_id")?, "client_id", |t| OrgId::parse(t).ok())?,
                        subject: Subject::Psu(psu.clone()),
                        scopes: parse_column(row.try_get("scope")?, "scope", Scopes::parse)?,
                        access_expires_at: timestamp(row.try_get("access_expires_at")?)?,
                        refresh_expires_at: timestamp(row.try_get("refresh_expires_at")?)?,
                        sca_at: timestamp(row.try_get("sca_at")?)?,
                        revoked_at: None,
                        payment: row
                            .try_get::<Option<String>, _>("payment_request_id")?
                            .map(|p| parse_column(p, "payment_request_id", |t| ResourceId::parse(t).ok()))
                            .transpose()?,
                        last_used_at: None,
                    },
                    created_at: timestamp(row.try_get("created_at")?)?,
                    last_used_at: row.try_get::<Option<i64>, _>("last_used_at")?.map(timestamp).transpose()?,
                })
            })
            .collect()
    }

    /// Notes that a token pair was used at `now`, unless this node noted it less than `every`
    /// ago (the caller skips it when the stored note is that recent; this covers the calls made
    /// at the same time, which all read the same old note: one write between them, not one each,
    /// queued behind SQLite's one writer).
    pub async fn note_pair_use(&self, pair_id: &str, now: Timestamp, every: SignedDuration) -> Result<(), StoreError> {
        if !self.remembered.claim_use_note(pair_id, now, every) {
            return Ok(());
        }
        let _turn = self.write_turn().await?;
        sqlx::query("UPDATE token_pairs SET last_used_at = $2 WHERE pair_id = $1")
            .bind(pair_id)
            .bind(ms(now))
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Withdraws the access `withdrawal` names (its TPP and role) for the PSU at once, in one
    /// transaction: the token pairs giving it are revoked (and with a pair that also serves
    /// another role, that role is withdrawn too: a token cannot be half revoked), the TPP's
    /// authorization codes not yet exchanged for those roles are spent, the consents that go with
    /// them removed (AIS: the whole consent; funds confirmation: the accounts chosen), and one
    /// withdrawal per role recorded. `None`, with nothing recorded, when there was nothing to
    /// withdraw (no pair, code or consent, and none of the `payments_to_stop` the caller found).
    pub async fn withdraw_access(
        &self,
        bank: BankCode,
        psu: &PsuId,
        withdrawal: &Withdrawal,
        payments_to_stop: usize,
    ) -> Result<Option<Withdrawn>, StoreError> {
        let now = withdrawal.at;
        let whose = Whose { bank, psu, client: &withdrawal.client_id };
        let mut tx = self.begin_write().await?;
        let pairs = scoped_rows(&mut tx, "token_pairs", "pair_id", "revoked_at IS NULL", &whose).await?;
        let mut roles = vec![withdrawal.role];
        for (_, scopes) in pairs.iter().filter(|(_, scopes)| withdrawal.role.covers(scopes)) {
            roles.extend(scopes.iter().map(AccessRole::of).filter(|r| !roles.contains(r)).collect::<Vec<_>>());
        }
        let serves = |scopes: &Scopes| roles.iter().any(|r| r.covers(scopes));
        let mut revoked = 0;
        for (pair_id, _) in pairs.iter().filter(|(_, scopes)| serves(scopes)) {
            sqlx::query("UPDATE token_pairs SET revoked_at = $2 WHERE pair_id = $1 AND revoked_at IS NULL")
                .bind(pair_id)
                .bind(ms(now))
                .execute(&mut *tx)
                .await?;
            revoked += 1;
        }
        let codes = scoped_rows(&mut tx, "authorization_codes", "code_hash", "used_at IS NULL", &whose).await?;
        let mut spent = 0;
        for (code_hash, _) in codes.iter().filter(|(_, scopes)| serves(scopes)) {
            spent +=
                sqlx::query("UPDATE authorization_codes SET used_at = $2 WHERE code_hash = $1 AND used_at IS NULL")
                    .bind(code_hash)
                    .bind(ms(now))
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
        }
        let mut removed = 0;
        for role in &roles {
            removed += remove_consent(&mut tx, *role, &whose).await?;
        }
        if revoked == 0 && spent == 0 && removed == 0 && payments_to_stop == 0 {
            // Nothing to withdraw (already withdrawn, or never given): nothing recorded.
            return Ok(None);
        }
        for role in &roles {
            sqlx::query(
                "INSERT INTO access_withdrawals (bank_code, psu_id, client_id, role, withdrawn_by, withdrawn_at, pairs_revoked)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(bank.as_str())
            .bind(psu.as_str())
            .bind(whose.client.as_str())
            .bind(role.as_str())
            .bind(withdrawal.by.as_str())
            .bind(ms(now))
            .bind(revoked)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(Some(Withdrawn { roles, pairs_revoked: revoked }))
    }

    /// The PSU's withdrawals at `bank`, newest first.
    pub async fn withdrawals(&self, bank: BankCode, psu: &PsuId) -> Result<Vec<Withdrawal>, StoreError> {
        let rows = sqlx::query(
            "SELECT client_id, role, withdrawn_by, withdrawn_at, pairs_revoked FROM access_withdrawals
             WHERE bank_code = $1 AND psu_id = $2 ORDER BY withdrawn_at DESC",
        )
        .bind(bank.as_str())
        .bind(psu.as_str())
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(Withdrawal {
                    client_id: parse_column(row.try_get("client_id")?, "client_id", |t| OrgId::parse(t).ok())?,
                    role: parse_column(row.try_get("role")?, "role", AccessRole::parse)?,
                    by: parse_column(row.try_get("withdrawn_by")?, "withdrawn_by", WithdrawnBy::parse)?,
                    at: timestamp(row.try_get("withdrawn_at")?)?,
                    pairs_revoked: row.try_get("pairs_revoked")?,
                })
            })
            .collect()
    }

    /// The PSU's payment requests that still reach their account: approved and waiting for the
    /// PISP's confirmation, or accepted and not executed yet (future-dated, standing orders).
    pub async fn open_payment_requests(
        &self,
        bank: BankCode,
        psu: &PsuId,
    ) -> Result<Vec<crate::pis::model::PaymentRequest>, StoreError> {
        let rows = sqlx::query(
            "SELECT resource_id FROM payment_requests
             WHERE bank_code = $1 AND psu_id = $2 AND status IN ('ACTC', 'ACSP') ORDER BY created_at",
        )
        .bind(bank.as_str())
        .bind(psu.as_str())
        .fetch_all(self.pool())
        .await?;
        let mut found = Vec::new();
        for row in rows {
            let id = parse_column(row.try_get("resource_id")?, "resource_id", |t| ResourceId::parse(t).ok())?;
            if let Some(p) = self.payment_request(bank, &id).await? {
                found.push(p);
            }
        }
        Ok(found)
    }
}

/// The PSU and TPP a withdrawal is about.
struct Whose<'a> {
    bank: BankCode,
    psu: &'a PsuId,
    client: &'a OrgId,
}

/// The rows (key, scopes) of `table` for the PSU and TPP that are still `open`: the live token
/// pairs, the authorization codes not exchanged yet.
async fn scoped_rows(
    tx: &mut super::WriteTx,
    table: &str,
    key: &str,
    open: &str,
    whose: &Whose<'_>,
) -> Result<Vec<(String, Scopes)>, StoreError> {
    let statement = format!(
        "SELECT {key} AS key, scope FROM {table} WHERE bank_code = $1 AND psu_id = $2 AND client_id = $3 AND {open}"
    );
    // Audited: table, key and condition are the fixed names of withdraw_access; every value is bound.
    let rows = sqlx::query(sqlx::AssertSqlSafe(statement))
        .bind(whose.bank.as_str())
        .bind(whose.psu.as_str())
        .bind(whose.client.as_str())
        .fetch_all(&mut **tx)
        .await?;
    rows.iter()
        .map(|row| Ok((row.try_get("key")?, parse_column(row.try_get("scope")?, "scope", Scopes::parse)?)))
        .collect()
}

/// Removes the consent that goes with `role`; the rows removed.
async fn remove_consent(tx: &mut super::WriteTx, role: AccessRole, whose: &Whose<'_>) -> Result<u64, StoreError> {
    let statements: &[&str] = match role {
        AccessRole::Aisp => &[
            "DELETE FROM ais_consent_accounts WHERE bank_code = $1 AND psu_id = $2 AND client_id = $3",
            "DELETE FROM ais_consents WHERE bank_code = $1 AND psu_id = $2 AND client_id = $3",
        ],
        AccessRole::Cbpii => &["DELETE FROM funds_consents WHERE bank_code = $1 AND psu_id = $2 AND client_id = $3"],
        AccessRole::Pisp => &[],
    };
    let mut removed = 0;
    for statement in statements {
        // Audited: one of the fixed statements above; every value is bound.
        removed += sqlx::query(sqlx::AssertSqlSafe(*statement))
            .bind(whose.bank.as_str())
            .bind(whose.psu.as_str())
            .bind(whose.client.as_str())
            .execute(&mut **tx)
            .await?
            .rows_affected();
    }
    Ok(removed)
}
