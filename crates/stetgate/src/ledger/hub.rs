//! The payment hub: what executes a credit transfer the PSU approved. Beside the read-only
//! [`super::Ledger`], this is the one seam that moves money. stetgate ships the SQL ledger's own
//! (`impl PaymentHub for Store`: the debtor account is debited and the operation booked, so AIS
//! shows it); a bank plugs its payment hub in by implementing the trait.
//!
//! The same transfer may be handed over more than once (a node stopped after claiming it and
//! another one retries): a hub executes a given [`Transfer::key`] at most once and answers the
//! same outcome again.

use super::LedgerError;
use async_trait::async_trait;
use jiff::civil::Date;
use stet::{Amount, BankCode, Iban, ResourceId};

/// A credit transfer to execute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transfer {
    /// Unique per payment request, instruction (or batch) and due day: the idempotency key.
    pub key: String,
    pub bank: BankCode,
    pub debtor: ResourceId,
    pub amount: Amount,
    pub creditor_name: String,
    pub creditor_iban: Option<Iban>,
    pub remittance: Vec<String>,
    /// The Paris day it is executed on.
    pub date: Date,
    /// SEPA instant (SCT Inst).
    pub instant: bool,
    /// What the debit pays: one credit for a single instruction, one per instruction of the day
    /// for a batch booking (the hub credits each; `amount` is their total).
    pub credits: Vec<Credit>,
}

/// One credit transfer of a [`Transfer`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credit {
    pub creditor_name: String,
    pub creditor_iban: Option<Iban>,
    pub amount: Amount,
    pub remittance: Vec<String>,
}

impl Transfer {
    /// The debit paying `credits` (all in one currency): their total, and what the debtor's
    /// statement shows, the creditor and remittance of a single credit, or "REMISE n VIREMENTS"
    /// and `batch_reference` for several.
    pub fn of_credits(
        key: String,
        bank: BankCode,
        debtor: ResourceId,
        date: Date,
        instant: bool,
        credits: Vec<Credit>,
        batch_reference: &str,
    ) -> Transfer {
        let currency = credits.first().map_or(stet::Currency::EUR, |c| c.amount.currency);
        let minor: i64 = credits.iter().filter_map(|c| c.amount.to_minor().ok()).sum();
        let (creditor_name, creditor_iban, remittance) = match credits.as_slice() {
            [one] => (one.creditor_name.clone(), one.creditor_iban.clone(), one.remittance.clone()),
            _ => (format!("REMISE {} VIREMENTS", credits.len()), None, vec![batch_reference.to_owned()]),
        };
        Transfer {
            key,
            bank,
            debtor,
            amount: Amount::from_minor(minor, currency),
            creditor_name,
            creditor_iban,
            remittance,
            date,
            instant,
            credits,
        }
    }
}

/// What the hub did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Executed {
    /// Accepted, not executed yet: the outcome comes later (the hub's callback, or [`PaymentHub::poll`]).
    Pending,
    /// The debtor account is debited; the operation's id in the account's transactions.
    Booked {
        transaction_id: String,
    },
    Rejected(Rejection),
}

/// Why the hub did not execute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// The balance and the authorised overdraft do not cover the amount.
    InsufficientFunds,
    Closed,
    Blocked,
    UnknownAccount,
}

/// A transfer's outcome as the hub reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub key: String,
    pub outcome: Executed,
}

/// Why a report is not taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReportError {
    #[error("this bank's payments do not go through a hub that reports")]
    NoReports,
    #[error("the signature is missing, stale or wrong")]
    Unsigned,
    #[error("{0}")]
    Malformed(String),
}

#[async_trait]
pub trait PaymentHub: Send + Sync + 'static {
    /// Executes `transfer` once (see the module documentation).
    async fn execute(&self, transfer: &Transfer) -> Result<Executed, LedgerError>;

    /// What became of a transfer handed over earlier (pending, or a node stopped before it
    /// learnt the outcome): a hub that answers at once simply executes it again, by its key.
    async fn poll(&self, transfer: &Transfer) -> Result<Executed, LedgerError> {
        self.execute(transfer).await
    }

    /// A status report the hub sent on its own (a callback): the transfer's key and outcome, when
    /// the report is authentic. `now` is the bank's clock (Unix seconds), for the report's age.
    fn read_report(&self, _bank: BankCode, _signature: &str, _body: &[u8], _now: i64) -> Result<Report, ReportError> {
        Err(ReportError::NoReports)
    }
}
