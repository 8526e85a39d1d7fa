//! The SQL ledger's payment hub: a transfer debits the account and books the operation in one
//! database transaction, so account information shows both at once.

use super::ledger::insert_transactions;
use super::{Origin, Store, StoreError};
use crate::ledger::hub::{Executed, PaymentHub, Rejection, Transfer};
use crate::ledger::{BankTransactionCode, CreditDebit, LedgerError, Transaction, TransactionStatus};
use async_trait::async_trait;
use sqlx::Row;

/// The operation's id in the account: derived from the transfer's key, so a retry finds it, and
/// within STET's resource-id pattern (35 characters).
fn transaction_id(key: &str) -> String {
    let hash = crate::secret::hash_secret(key);
    format!("PIS{}", &hash[..32])
}

#[async_trait]
impl PaymentHub for Store {
    async fn execute(&self, transfer: &Transfer) -> Result<Executed, LedgerError> {
        Ok(self.book_transfer(transfer).await?)
    }
}

impl Store {
    async fn book_transfer(&self, transfer: &Transfer) -> Result<Executed, StoreError> {
        let id = transaction_id(&transfer.key);
        let minor = transfer.amount.to_minor().map_err(|e| StoreError::Corrupt(format!("transfer amount: {e}")))?;
        let mut lines = vec![format!("VIR SEPA {}", transfer.creditor_name)];
        lines.extend(transfer.remittance.iter().cloned());
        let operation = Transaction {
            id: id.clone(),
            entry_reference: Some(id.clone()),
            amount: transfer.amount,
            credit_debit: CreditDebit::Debit,
            status: TransactionStatus::Book,
            transaction_date: transfer.date,
            booking_date: Some(transfer.date),
            value_date: Some(transfer.date),
            remittance: lines,
            bank_transaction_code: Some(BankTransactionCode {
                domain: "PMNT".into(),
                family: "ICDT".into(),
                sub_family: if transfer.instant { "ISCT".into() } else { "ESCT".into() },
                code: None,
                issuer: None,
            }),
            // The payee of a single credit; a batch booking's debit pays several, and has none.
            creditor_name: (transfer.credits.len() == 1).then(|| transfer.creditor_name.clone()),
            debtor_name: None,
        };
        let mut tx = self.begin_write().await?;
        let booked = [(transfer.bank, transfer.debtor.clone(), vec![operation])];
        let inserted = insert_transactions(&mut tx, &booked, Origin::Ledger, "ON CONFLICT DO NOTHING").await?;
        if inserted == 0 {
            // Executed by an earlier call with the same key.
            tx.rollback().await?;
            return Ok(Executed::Booked { transaction_id: id });
        }
        // Debit only an open account of that currency whose balance, less the pending debits,
        // plus the authorised overdraft covers the amount: one statement, so two transfers racing
        // cannot both spend the same money.
        let debited = sqlx::query(
            "UPDATE accounts SET booked_balance_minor = booked_balance_minor - $3
             WHERE bank_code = $1 AND resource_id = $2 AND status = 'open' AND currency = $4
               AND booked_balance_minor + overdraft_minor
                   - (SELECT COALESCE(SUM(t.amount_minor), 0) FROM transactions t
                       WHERE t.bank_code = $1 AND t.account_resource_id = $2
                         AND t.status = 'OTHR' AND t.credit_debit = 'DBIT') >= $3",
        )
        .bind(transfer.bank.as_str())
        .bind(transfer.debtor.as_str())
        .bind(minor)
        .bind(transfer.amount.currency.as_str())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if debited == 1 {
            tx.commit().await?;
            return Ok(Executed::Booked { transaction_id: id });
        }
        tx.rollback().await?;
        let status = sqlx::query("SELECT status FROM accounts WHERE bank_code = $1 AND resource_id = $2")
            .bind(transfer.bank.as_str())
            .bind(transfer.debtor.as_str())
            .fetch_optional(self.pool())
            .await?;
        let rejection = match status {
            None => Rejection::UnknownAccount,
            Some(row) => match row.try_get::<String, _>("status")?.as_str() {
                "closed" => Rejection::Closed,
                "blocked" => Rejection::Blocked,
                _ => Rejection::InsufficientFunds,
            },
        };
        Ok(Executed::Rejected(rejection))
    }
}
