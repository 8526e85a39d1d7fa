//! Authorization codes, token pairs and card-issuer consents. Only hashes of secrets are
//! stored.

use super::{Param, ReadRow, Store, StoreError, col, ms, parse_column, timestamp};
use crate::ledger::PsuId;
use crate::oauth::model::{CodeGrant, Scopes, Subject, TokenPair};
use crate::secret::SecretHash;
use jiff::Timestamp;
use sqlx::Row;
use stet::{BankCode, OrgId, ResourceId};

/// What redeeming a code found.
#[derive(Debug, Clone)]
pub enum Redeemed {
    /// First use by its client, at its bank, with its redirect URI, before its expiry, with the
    /// verifier of its PKCE challenge: the code is now spent.
    Fresh(CodeGrant),
    /// Already used, presented again by its own client: whatever it issued must be revoked.
    Reused(CodeGrant),
    /// Presented by another client, at another bank, with another redirect URI, after its expiry
    /// or without the right PKCE verifier: refused, and left as it was (nobody else can burn it).
    Refused(CodeGrant),
    Unknown,
}

/// Who presents a code, and with what: the conditions of its redemption.
#[derive(Debug, Clone)]
pub struct Presented<'a> {
    pub client: &'a OrgId,
    pub bank: BankCode,
    pub redirect_uri: &'a str,
    /// The S256 of the `code_verifier` sent, if any.
    pub challenge: Option<&'a str>,
}

impl Store {
    pub async fn insert_code(&self, code_hash: &SecretHash, grant: &CodeGrant) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO authorization_codes (code_hash, bank_code, client_id, redirect_uri, psu_id, scope, sca_at, expires_at,
                                              code_challenge, payment_request_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(code_hash.as_str())
        .bind(grant.bank.as_str())
        .bind(grant.client_id.as_str())
        .bind(&grant.redirect_uri)
        .bind(grant.psu.as_str())
        .bind(grant.scopes.to_string())
        .bind(ms(grant.sca_at))
        .bind(ms(grant.expires_at))
        .bind(grant.code_challenge.clone())
        .bind(grant.payment.as_ref().map(|p| p.as_str().to_owned()))
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Spends a code atomically, and only if it is presented as it was issued (its client, bank,
    /// redirect URI, unexpired, with the verifier of its PKCE challenge): of two concurrent
    /// redemptions exactly one is `Fresh`, and a redemption that does not match leaves it unspent.
    pub async fn redeem_authorization_code(
        &self,
        code_hash: &SecretHash,
        presented: &Presented<'_>,
        now: Timestamp,
    ) -> Result<Redeemed, StoreError> {
        let spent = sqlx::query(
            "UPDATE authorization_codes SET used_at = $2
             WHERE code_hash = $1 AND used_at IS NULL AND client_id = $3 AND bank_code = $4 AND redirect_uri = $5
               AND expires_at >= $2 AND COALESCE(code_challenge, '') = $6",
        )
        .bind(code_hash.as_str())
        .bind(ms(now))
        .bind(presented.client.as_str())
        .bind(presented.bank.as_str())
        .bind(presented.redirect_uri)
        .bind(presented.challenge.unwrap_or(""))
        .execute(self.pool())
        .await?
        .rows_affected();
        let row = sqlx::query(
            "SELECT bank_code, client_id, redirect_uri, psu_id, scope, sca_at, expires_at, pair_id, code_challenge, used_at,
                    payment_request_id
             FROM authorization_codes WHERE code_hash = $1",
        )
        .bind(code_hash.as_str())
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else { return Ok(Redeemed::Unknown) };
        let grant = CodeGrant {
            bank: parse_column(row.try_get("bank_code")?, "bank_code", |t| BankCode::parse(t).ok())?,
            client_id: parse_column(row.try_get("client_id")?, "client_id", |t| OrgId::parse(t).ok())?,
            redirect_uri: row.try_get("redirect_uri")?,
            psu: parse_column(row.try_get("psu_id")?, "psu_id", PsuId::parse)?,
            scopes: parse_column(row.try_get("scope")?, "scope", Scopes::parse)?,
            sca_at: timestamp(row.try_get("sca_at")?)?,
            expires_at: timestamp(row.try_get("expires_at")?)?,
            pair_id: row.try_get("pair_id")?,
            code_challenge: row.try_get("code_challenge")?,
            payment: payment_column(&row)?,
        };
        let used = row.try_get::<Option<i64>, _>("used_at")?.is_some();
        Ok(match spent {
            1 => Redeemed::Fresh(grant),
            _ if used && &grant.client_id == presented.client => Redeemed::Reused(grant),
            _ => Redeemed::Refused(grant),
        })
    }

    /// Issues a token pair: revokes the valid pairs of the same bank, subject (PSU, or the TPP
    /// itself) and TPP that concern a common role (at most one valid pair per role), stores the new
    /// one, and links the code to it.
    pub async fn issue_token_pair(
        &self,
        pair: &TokenPair,
        access_hash: &SecretHash,
        refresh_hash: &SecretHash,
        from_code: Option<&SecretHash>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let existing = sqlx::query(
            "SELECT pair_id, scope FROM token_pairs
             WHERE bank_code = $1 AND COALESCE(psu_id, '') = $2 AND client_id = $3 AND revoked_at IS NULL",
        )
        .bind(pair.bank.as_str())
        .bind(pair.subject.psu().map(|p| p.as_str()).unwrap_or(""))
        .bind(pair.client_id.as_str())
        .fetch_all(&mut *tx)
        .await?;
        for row in existing {
            let scopes = parse_column(row.try_get("scope")?, "scope", Scopes::parse)?;
            if scopes.shares_role_with(&pair.scopes) {
                let id: String = row.try_get("pair_id")?;
                sqlx::query("UPDATE token_pairs SET revoked_at = $2 WHERE pair_id = $1")
                    .bind(id)
                    .bind(ms(now))
                    .execute(&mut *tx)
                    .await?;
            }
        }
        sqlx::query(
            "INSERT INTO token_pairs (pair_id, bank_code, client_id, psu_id, scope, access_hash, access_expires_at, refresh_hash,
                                      refresh_expires_at, sca_at, created_at, payment_request_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(&pair.pair_id)
        .bind(pair.bank.as_str())
        .bind(pair.client_id.as_str())
        .bind(pair.subject.psu().map(|p| p.as_str().to_owned()))
        .bind(pair.scopes.to_string())
        .bind(access_hash.as_str())
        .bind(ms(pair.access_expires_at))
        .bind(refresh_hash.as_str())
        .bind(ms(pair.refresh_expires_at))
        .bind(ms(pair.sca_at))
        .bind(ms(now))
        .bind(pair.payment.as_ref().map(|p| p.as_str().to_owned()))
        .execute(&mut *tx)
        .await?;
        if let Some(code_hash) = from_code {
            sqlx::query("UPDATE authorization_codes SET pair_id = $2 WHERE code_hash = $1")
                .bind(code_hash.as_str())
                .bind(&pair.pair_id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn pair_by_access_token(&self, access_hash: &SecretHash) -> Result<Option<TokenPair>, StoreError> {
        self.pair_where("access_hash", access_hash).await
    }

    pub async fn pair_by_refresh_token(&self, refresh_hash: &SecretHash) -> Result<Option<TokenPair>, StoreError> {
        self.pair_where("refresh_hash", refresh_hash).await
    }

    async fn pair_where(&self, column: &str, hash: &SecretHash) -> Result<Option<TokenPair>, StoreError> {
        let sql = match column {
            "access_hash" => concat!(pair_select!(), " WHERE access_hash = $1"),
            _ => concat!(pair_select!(), " WHERE refresh_hash = $1"),
        };
        Ok(self.read_rows(sql, &[Param::Text(hash.as_str())], pair_row).await?.pop())
    }

    /// Replaces the access token of a valid pair (refresh); false if the pair is revoked or gone.
    pub async fn rotate_access_token(
        &self,
        pair_id: &str,
        access_hash: &SecretHash,
        expires_at: Timestamp,
    ) -> Result<bool, StoreError> {
        let _turn = self.write_turn().await?;
        let updated = sqlx::query(
            "UPDATE token_pairs SET access_hash = $2, access_expires_at = $3 WHERE pair_id = $1 AND revoked_at IS NULL",
        )
        .bind(pair_id)
        .bind(access_hash.as_str())
        .bind(ms(expires_at))
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(updated == 1)
    }

    /// Revokes both tokens of a pair.
    pub async fn revoke_token_pair(&self, pair_id: &str, now: Timestamp) -> Result<(), StoreError> {
        let _turn = self.write_turn().await?;
        sqlx::query("UPDATE token_pairs SET revoked_at = $2 WHERE pair_id = $1 AND revoked_at IS NULL")
            .bind(pair_id)
            .bind(ms(now))
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Replaces the accounts a PSU allows a card issuer to query.
    pub async fn record_funds_consent(
        &self,
        bank: BankCode,
        psu: &PsuId,
        client: &OrgId,
        accounts: &[ResourceId],
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM funds_consents WHERE bank_code = $1 AND psu_id = $2 AND client_id = $3")
            .bind(bank.as_str())
            .bind(psu.as_str())
            .bind(client.as_str())
            .execute(&mut *tx)
            .await?;
        for account in accounts {
            sqlx::query("INSERT INTO funds_consents (bank_code, psu_id, client_id, resource_id, created_at) VALUES ($1, $2, $3, $4, $5)")
                .bind(bank.as_str())
                .bind(psu.as_str())
                .bind(client.as_str())
                .bind(account.as_str())
                .bind(ms(now))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The accounts a PSU allowed a card issuer to query.
    pub async fn funds_consent(
        &self,
        bank: BankCode,
        psu: &PsuId,
        client: &OrgId,
    ) -> Result<Vec<ResourceId>, StoreError> {
        self.read_rows(
            "SELECT resource_id FROM funds_consents WHERE bank_code = $1 AND psu_id = $2 AND client_id = $3 ORDER BY resource_id",
            &[Param::Text(bank.as_str()), Param::Text(psu.as_str()), Param::Text(client.as_str())],
            |row| parse_column(col(row, "resource_id")?, "resource_id", |t| ResourceId::parse(t).ok()),
        )
        .await
    }
}

macro_rules! pair_select {
    () => {
        "SELECT pair_id, bank_code, client_id, psu_id, scope, access_expires_at, refresh_expires_at, sca_at, revoked_at,
                payment_request_id, last_used_at FROM token_pairs"
    };
}
use pair_select;

pub(super) fn pair_row(row: &dyn ReadRow) -> Result<TokenPair, StoreError> {
    Ok(TokenPair {
        pair_id: col(row, "pair_id")?,
        bank: parse_column(col(row, "bank_code")?, "bank_code", |t| BankCode::parse(t).ok())?,
        client_id: parse_column(col(row, "client_id")?, "client_id", |t| OrgId::parse(t).ok())?,
        subject: match col::<Option<String>>(row, "psu_id")? {
            Some(psu) => Subject::Psu(parse_column(psu, "psu_id", PsuId::parse)?),
            None => Subject::Tpp,
        },
        scopes: parse_column(col(row, "scope")?, "scope", Scopes::parse)?,
        access_expires_at: timestamp(col(row, "access_expires_at")?)?,
        refresh_expires_at: timestamp(col(row, "refresh_expires_at")?)?,
        sca_at: timestamp(col(row, "sca_at")?)?,
        revoked_at: col::<Option<i64>>(row, "revoked_at")?.map(timestamp).transpose()?,
        payment: payment_column(row)?,
        last_used_at: col::<Option<i64>>(row, "last_used_at")?.map(timestamp).transpose()?,
    })
}

fn payment_column(row: &dyn ReadRow) -> Result<Option<ResourceId>, StoreError> {
    col::<Option<String>>(row, "payment_request_id")?
        .map(|p| parse_column(p, "payment_request_id", |t| ResourceId::parse(t).ok()))
        .transpose()
}
