//! Banks (ASPSPs): one row per bank code served by this deployment.

use super::{Store, StoreError, ms};
use sqlx::Row;
use stet::BankCode;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BankRecord {
    pub code: BankCode,
    pub name: String,
    pub brand: String,
}

impl Store {
    /// Adds a bank, or renames it; its customers and data are untouched.
    pub async fn upsert_bank(&self, bank: &BankRecord, now: jiff::Timestamp) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO banks (code, name, brand, created_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (code) DO UPDATE SET name = excluded.name, brand = excluded.brand",
        )
        .bind(bank.code.as_str())
        .bind(&bank.name)
        .bind(&bank.brand)
        .bind(ms(now))
        .execute(self.pool())
        .await?;
        Ok(())
    }

    pub async fn bank(&self, code: BankCode) -> Result<Option<BankRecord>, StoreError> {
        let row = sqlx::query("SELECT code, name, brand FROM banks WHERE code = $1")
            .bind(code.as_str())
            .fetch_optional(self.pool())
            .await?;
        row.map(|r| bank_record(&r)).transpose()
    }

    pub async fn banks(&self) -> Result<Vec<BankRecord>, StoreError> {
        let rows = sqlx::query("SELECT code, name, brand FROM banks ORDER BY code").fetch_all(self.pool()).await?;
        rows.iter().map(bank_record).collect()
    }
}

fn bank_record(row: &sqlx::any::AnyRow) -> Result<BankRecord, StoreError> {
    let code: String = row.try_get("code")?;
    Ok(BankRecord {
        code: super::parse_column(code, "banks.code", |c| BankCode::parse(c).ok())?,
        name: row.try_get("name")?,
        brand: row.try_get("brand")?,
    })
}
