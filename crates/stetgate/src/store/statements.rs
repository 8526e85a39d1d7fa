//! The writes of `stetgate ledger import`: one database transaction per imported statement file,
//! held open while the file streams through, so that a file is imported whole or not at all.

use super::ledger::{Origin, insert_transactions};
use super::{Store, StoreError};
use crate::ledger::{Account, Psu, PsuId, Transaction, TransactionStatus};
use sqlx::Row;
use stet::{BankCode, ResourceId};

/// An open import: nothing it wrote is visible before [`LedgerImport::commit`], and dropping it
/// undoes everything.
pub struct LedgerImport {
    tx: super::WriteTx,
}

impl Store {
    /// Starts the database transaction of one imported file.
    pub async fn begin_ledger_import(&self) -> Result<LedgerImport, StoreError> {
        Ok(LedgerImport { tx: self.begin_write().await? })
    }
}

/// Upsert of an operation already known: a pending one (OTHR) that the bank has booked since
/// becomes BOOK with what the booking says (dates, amount, remittance: a card payment may book
/// for another amount); anything else stays as it is, so that importing
/// the same file twice changes nothing.
const BOOK_PENDING: &str = "ON CONFLICT (bank_code, account_resource_id, transaction_id) DO UPDATE
     SET status = excluded.status, booking_date = excluded.booking_date, value_date = excluded.value_date,
         amount_minor = excluded.amount_minor, credit_debit = excluded.credit_debit,
         transaction_date = excluded.transaction_date, remittance = excluded.remittance,
         creditor_name = COALESCE(excluded.creditor_name, transactions.creditor_name),
         debtor_name = COALESCE(excluded.debtor_name, transactions.debtor_name)
     WHERE transactions.status = 'OTHR' AND excluded.status = 'BOOK'";

impl LedgerImport {
    /// Creates the PSU, or updates the name, segment and (when given) phone and e-mail address
    /// the bank now gives.
    pub async fn upsert_psu(&mut self, psu: &Psu) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO psus (bank_code, psu_id, display_name, segment, phone, email) VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (bank_code, psu_id) DO UPDATE SET display_name = excluded.display_name,
                 segment = excluded.segment, phone = COALESCE(excluded.phone, psus.phone),
                 email = COALESCE(excluded.email, psus.email)",
        )
        .bind(psu.bank.as_str())
        .bind(psu.id.as_str())
        .bind(&psu.identity.connected_psu)
        .bind(psu.segment.as_str())
        .bind(psu.phone.clone())
        .bind(psu.email.clone())
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// The currency of the account, when the ledger has it.
    pub async fn account_currency(&mut self, bank: BankCode, id: &ResourceId) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT currency FROM accounts WHERE bank_code = $1 AND resource_id = $2")
            .bind(bank.as_str())
            .bind(id.as_str())
            .fetch_optional(&mut *self.tx)
            .await?;
        Ok(row.map(|r| r.try_get("currency")).transpose()?)
    }

    /// Creates the account with a zero balance and no overdraft, unless it exists.
    pub async fn create_account(&mut self, a: &Account) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO accounts (bank_code, resource_id, iban, name, currency, usage, cash_account_type, segment,
                                   status, local_number, booked_balance_minor, overdraft_minor)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 0, 0)
             ON CONFLICT (bank_code, resource_id) DO NOTHING",
        )
        .bind(a.bank.as_str())
        .bind(a.resource_id.as_str())
        .bind(a.iban.as_str())
        .bind(&a.name)
        .bind(a.currency.as_str())
        .bind(a.usage.as_str())
        .bind(&a.cash_account_type)
        .bind(a.segment.as_str())
        .bind(a.status.as_str())
        .bind(a.local_number.clone())
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// The account's booked balance (STET CLBD), as the statement gives it.
    pub async fn set_booked_balance(
        &mut self,
        bank: BankCode,
        id: &ResourceId,
        minor: i64,
        as_of: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE accounts SET booked_balance_minor = $1, balance_as_of = $4
             WHERE bank_code = $2 AND resource_id = $3 AND (balance_as_of IS NULL OR balance_as_of <= $4)",
        )
        .bind(minor)
        .bind(bank.as_str())
        .bind(id.as_str())
        .bind(as_of)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Links the PSU to the account (or updates the link's status and place).
    pub async fn link_holder(
        &mut self,
        bank: BankCode,
        psu: &PsuId,
        id: &ResourceId,
        psu_status: &str,
        position: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO account_holders (bank_code, psu_id, resource_id, psu_status, position)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (bank_code, psu_id, resource_id) DO UPDATE
                 SET psu_status = excluded.psu_status, position = excluded.position",
        )
        .bind(bank.as_str())
        .bind(psu.as_str())
        .bind(id.as_str())
        .bind(psu_status)
        .bind(position)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Adds the account's operations (origin `ledger`) and books those pending until now; the
    /// number of rows added or booked. An id repeated in `batch` keeps its last state, BOOK
    /// winning over OTHR (one statement cannot touch a row twice).
    pub async fn upsert_transactions(
        &mut self,
        bank: BankCode,
        id: &ResourceId,
        batch: Vec<Transaction>,
    ) -> Result<u64, StoreError> {
        let mut unique: Vec<Transaction> = Vec::with_capacity(batch.len());
        for t in batch {
            match unique.iter_mut().find(|u| u.id == t.id) {
                Some(u) if u.status == TransactionStatus::Othr => *u = t,
                Some(_) => {}
                None => unique.push(t),
            }
        }
        let rows = [(bank, id.clone(), unique)];
        insert_transactions(&mut self.tx, &rows, Origin::Ledger, BOOK_PENDING).await
    }

    /// Makes the whole file's writes visible at once.
    pub async fn commit(self) -> Result<(), StoreError> {
        self.tx.commit().await?;
        Ok(())
    }
}
