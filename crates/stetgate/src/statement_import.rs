//! `stetgate ledger import`: camt.053 / camt.052 statement files into the built-in SQL ledger.
//!
//! One database transaction per file, so a file is imported whole or not at all; entries are
//! written in batches inside it as the file streams through ([`crate::ledger::camt`]), so memory stays
//! bounded whatever the file's size. An entry is keyed by (bank, account, transaction id), the id
//! being `NtryRef`, else `AcctSvcrRef`, else a SHA-256 of the entry's content: importing a file
//! again adds nothing, and a pending entry (OTHR) that a later file books becomes BOOK.

use crate::ledger::camt::{CamtError, CamtReader, Entry, Item, StatementHead};
use crate::ledger::holders::Holder;
use crate::ledger::{Account, AccountStatus, Segment, Transaction, TransactionStatus, Usage};
use crate::store::{LedgerImport, Store, StoreError};
use jiff::civil::Date;
use std::fmt;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use stet::{BankCode, Currency, ResourceId};

/// Entries written per INSERT round inside a file's transaction.
const BATCH: usize = 1000;
/// Entries between two progress reports.
const PROGRESS_EVERY: u64 = 10_000;

/// Why a file was not imported (nothing of it was).
#[derive(Debug, thiserror::Error)]
#[error("{}: {reason}", file.display())]
pub struct ImportError {
    pub file: PathBuf,
    pub reason: Failure,
}

#[derive(Debug, thiserror::Error)]
pub enum Failure {
    #[error("cannot read the file: {0}")]
    Read(#[from] std::io::Error),
    #[error("{0}")]
    Content(#[from] CamtError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What one file brought.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FileSummary {
    pub statements: u64,
    pub entries: u64,
    /// Entries added, or pending ones booked; the rest were already there.
    pub written: u64,
}

/// The account a statement's entries go to.
struct Current {
    id: ResourceId,
    currency: Currency,
    created: Option<Date>,
}

/// One file's import, while its transaction is open.
struct FileImport<'a> {
    bank: BankCode,
    holders: &'a [Holder],
    write: LedgerImport,
    current: Option<Current>,
    batch: Vec<Transaction>,
    summary: FileSummary,
}

/// Imports one file in one database transaction; `progress` hears the entries read so far.
pub async fn import_file(
    store: &Store,
    bank: BankCode,
    holders: &[Holder],
    file: &Path,
    mut progress: impl FnMut(u64),
) -> Result<FileSummary, ImportError> {
    let fail = |reason: Failure| ImportError { file: file.to_owned(), reason };
    let opened = std::fs::File::open(file).map_err(|e| fail(e.into()))?;
    let mut reader = CamtReader::new(BufReader::with_capacity(64 * 1024, opened));
    let write = store.begin_ledger_import().await.map_err(|e| fail(e.into()))?;
    let mut import = FileImport {
        bank,
        holders,
        write,
        current: None,
        batch: Vec::with_capacity(BATCH),
        summary: FileSummary::default(),
    };
    let mut reported = 0;
    loop {
        match reader.next_item() {
            Ok(Some(item)) => import.take(item).await.map_err(fail)?,
            Ok(None) => break,
            Err(e) => return Err(fail(e.into())),
        }
        if import.summary.entries >= reported + PROGRESS_EVERY {
            reported = import.summary.entries;
            progress(reported);
        }
    }
    import.flush().await.map_err(fail)?;
    let summary = import.summary;
    import.write.commit().await.map_err(|e| fail(e.into()))?;
    Ok(summary)
}

impl FileImport<'_> {
    async fn take(&mut self, item: Item) -> Result<(), Failure> {
        match item {
            Item::Statement(head) => {
                self.flush().await?;
                self.summary.statements += 1;
                self.current = Some(self.open_account(&head).await?);
            }
            Item::Entry(entry) => {
                let current = self.current.as_ref().ok_or_else(|| error(&entry.path, entry.line, "no account"))?;
                self.batch.push(transaction(entry, current)?);
                self.summary.entries += 1;
                if self.batch.len() >= BATCH {
                    self.flush().await?;
                }
            }
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<(), Failure> {
        if let Some(current) = &self.current
            && !self.batch.is_empty()
        {
            let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH));
            self.summary.written += self.write.upsert_transactions(self.bank, &current.id, batch).await?;
        }
        Ok(())
    }

    /// The statement's account: its holders (from the holders file) linked, created when unknown,
    /// its booked balance set from the statement.
    async fn open_account(&mut self, head: &StatementHead) -> Result<Current, Failure> {
        let at = |message: String| error(&head.path, head.line, &message);
        let holders: Vec<&Holder> = self.holders.iter().filter(|h| h.iban == head.iban).collect();
        let Some(first) = holders.first() else {
            return Err(at(format!("account {} has no row in the holders file", head.iban)).into());
        };
        let id = head.iban.french_resource_id().ok_or_else(|| {
            at(format!("account {}: only French IBANs (FR, 27 characters) have a STET resource id", head.iban))
        })?;
        match self.write.account_currency(self.bank, &id).await? {
            Some(known) if known != head.currency.as_str() => {
                return Err(
                    at(format!("account {} is in {known}, the statement in {}", head.iban, head.currency)).into()
                );
            }
            Some(_) => {}
            None => {
                let name = head.account_name.clone().unwrap_or_else(|| first.psu.identity.connected_psu.clone());
                self.write.create_account(&new_account(self.bank, head, id.clone(), name, first.psu.segment)).await?;
            }
        }
        for holder in &holders {
            self.write.upsert_psu(&holder.psu).await?;
            self.write.link_holder(self.bank, &holder.psu.id, &id, &holder.psu_status, holder.position).await?;
        }
        if let Some(booked) = &head.booked {
            let minor = booked.amount.to_minor().map_err(|e| at(e.to_string()))?;
            if booked.amount.currency != head.currency {
                return Err(at(format!("the {} balance is not in the account's {}", booked.code, head.currency)).into());
            }
            // A closing balance outranks an interim one of the same day; an older one changes nothing.
            let rank = if booked.code == "CLBD" { 2 } else { 1 };
            let as_of = format!("{}.{rank}", booked.date);
            self.write.set_booked_balance(self.bank, &id, minor, &as_of).await?;
        }
        Ok(Current { id, currency: head.currency, created: head.created })
    }
}

fn error(path: &str, line: u64, message: &str) -> CamtError {
    CamtError { path: path.to_owned(), line, message: message.to_owned() }
}

fn new_account(bank: BankCode, head: &StatementHead, id: ResourceId, name: String, segment: Segment) -> Account {
    Account {
        bank,
        resource_id: id,
        iban: head.iban.clone(),
        name,
        currency: head.currency,
        usage: if segment == Segment::Retail { Usage::Priv } else { Usage::Orga },
        cash_account_type: "CACC".into(),
        segment,
        status: AccountStatus::Open,
        local_number: None,
    }
}

/// The ledger's operation for an entry of the current account.
fn transaction(entry: Entry, current: &Current) -> Result<Transaction, CamtError> {
    if entry.amount.currency != current.currency {
        let message = format!("an entry in {} on an account in {}", entry.amount.currency, current.currency);
        return Err(error(&format!("{}/Amt", entry.path), entry.line, &message));
    }
    let transaction_date =
        entry.booking_date.or(entry.value_date).or(current.created).ok_or_else(|| {
            error(&entry.path, entry.line, "BookgDt and ValDt are missing (and the statement's CreDtTm)")
        })?;
    // NtryRef is STET's entryReference: unique for the account and the same before and after
    // booking (the bank's rule). Without one, the bank's reference; without either, the entry's
    // place in its statement and its content name it.
    let id = entry
        .entry_reference
        .clone()
        .or_else(|| entry.servicer_reference.clone())
        .unwrap_or_else(|| content_id(&entry, current.created));
    Ok(Transaction {
        id,
        entry_reference: entry.entry_reference.or(entry.servicer_reference),
        amount: entry.amount,
        credit_debit: entry.credit_debit,
        status: entry.status,
        transaction_date,
        booking_date: if entry.status == TransactionStatus::Book {
            entry.booking_date.or(Some(transaction_date))
        } else {
            None
        },
        value_date: entry.value_date,
        remittance: entry.remittance,
        bank_transaction_code: entry.bank_transaction_code,
        creditor_name: party_name(entry.creditor, &entry.path, "Cdtr", entry.line)?,
        debtor_name: party_name(entry.debtor, &entry.path, "Dbtr", entry.line)?,
    })
}

/// A counterparty's name as the ledger keeps it ([`crate::ledger::party_name`]).
fn party_name(name: Option<String>, path: &str, role: &str, line: u64) -> Result<Option<String>, CamtError> {
    crate::ledger::party_name(name).map_err(|e| error(&format!("{path}/NtryDtls/TxDtls/RltdPties/{role}"), line, &e))
}

/// The id of an entry without reference: a SHA-256 of what it says and where it sits (its
/// statement's creation day and its place in the file), so that two identical payments of one day
/// stay two operations and importing the same file again finds the same ids. The same entry in
/// another file is another operation, and an unreferenced pending entry cannot be matched once
/// booked: banks that send pending entries give them a reference.
fn content_id(entry: &Entry, created: Option<Date>) -> String {
    let text = format!(
        "{}|{:?}|{}|{}|{}|{:?}|{:?}|{:?}|{:?}|{}",
        entry.path,
        created,
        entry.amount.amount_text(),
        entry.amount.currency,
        entry.credit_debit.as_str(),
        entry.booking_date,
        entry.value_date,
        entry.creditor,
        entry.debtor,
        entry.remittance.join("\n"),
    );
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, text.as_bytes());
    let hex: String = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256-{}", &hex[..32])
}

impl fmt::Display for FileSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} statements, {} entries, {} new or booked", self.statements, self.entries, self.written)
    }
}
