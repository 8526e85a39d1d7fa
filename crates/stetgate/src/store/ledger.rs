//! The built-in SQL ledger: `impl Ledger for Store`, and the writes that load a ledger (the
//! sandbox seed, or a bank's own extract).

use super::{Backend, Param, ReadRow, Store, StoreError, col, parse_column};
use crate::ledger::{
    Account, AccountStatus, Balances, BankTransactionCode, CreditDebit, DateWindow, HeldAccount, Ledger, LedgerError,
    LoadAccount, Psu, PsuId, PsuIdentity, Segment, Transaction, TransactionStatus, Usage,
};
use async_trait::async_trait;
use jiff::civil::Date;
use sqlx::Row;
use stet::{Amount, BankCode, Currency, Iban, ResourceId};

/// Where a transaction row comes from: the bank's own data, or the sandbox generator (whose rows
/// are rewritten every day).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Ledger,
    Generated,
}

impl Origin {
    fn as_str(self) -> &'static str {
        match self {
            Origin::Ledger => "ledger",
            Origin::Generated => "generated",
        }
    }
}

/// The account columns every account query reads (a macro, so that queries stay literal SQL).
macro_rules! account_columns {
    () => {
        "a.bank_code, a.resource_id, a.iban, a.name, a.currency, a.usage, a.cash_account_type, a.segment, a.status, a.local_number"
    };
}

/// The pending debits of account `a` (operations not yet booked), as a scalar subquery.
/// PostgreSQL sums BIGINT into NUMERIC; the cast keeps one integer type on both.
macro_rules! pending_debits {
    () => {
        "(SELECT CAST(COALESCE(SUM(t.amount_minor), 0) AS BIGINT) FROM transactions t
          WHERE t.bank_code = a.bank_code AND t.account_resource_id = a.resource_id
            AND t.status = 'OTHR' AND t.credit_debit = 'DBIT')"
    };
}

macro_rules! transaction_columns {
    () => {
        "bank_code, account_resource_id, transaction_id, entry_reference, amount_minor, currency, credit_debit, status, \
         transaction_date, booking_date, value_date, remittance, btc_domain, btc_family, btc_sub_family, btc_code, btc_issuer, \
         creditor_name, debtor_name, origin"
    };
}

/// Columns of `transaction_columns!`.
const TRANSACTION_WIDTH: usize = 20;

impl Store {
    /// Loads PSUs and accounts in one database transaction. Rows already present are left as they
    /// are (a PSU without phone number gets the one loaded), so loading the same data
    /// twice changes nothing. Rows go in multi-row INSERTs, so that a bulk load (`stetgate fill`) is fast.
    pub async fn load_ledger(&self, psus: &[Psu], accounts: &[LoadAccount]) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        insert_psus(&mut tx, psus).await?;
        for batch in accounts.chunks(bulk_rows(12)) {
            let sql = multi_row_insert(
                "INSERT INTO accounts (bank_code, resource_id, iban, name, currency, usage, cash_account_type, segment,
                                       status, local_number, booked_balance_minor, overdraft_minor)",
                12,
                batch.len(),
                "ON CONFLICT (bank_code, resource_id) DO NOTHING",
            );
            // Audited: as above.
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for load in batch {
                let a = &load.account;
                query = query
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
                    .bind(load.booked_minor)
                    .bind(load.overdraft_minor);
            }
            query.execute(&mut *tx).await?;
        }
        let holders: Vec<(&Account, usize, &PsuId, &String)> = accounts
            .iter()
            .flat_map(|load| {
                load.holders
                    .iter()
                    .enumerate()
                    .map(move |(position, (psu, status))| (&load.account, position, psu, status))
            })
            .collect();
        for batch in holders.chunks(bulk_rows(5)) {
            let sql = multi_row_insert(
                "INSERT INTO account_holders (bank_code, psu_id, resource_id, psu_status, position)",
                5,
                batch.len(),
                "ON CONFLICT (bank_code, psu_id, resource_id) DO NOTHING",
            );
            // Audited: as above.
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (account, position, psu, status) in batch {
                query = query
                    .bind(account.bank.as_str())
                    .bind(psu.as_str())
                    .bind(account.resource_id.as_str())
                    .bind(*status)
                    .bind(*position as i64);
            }
            query.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Adds transactions of the bank's own data (origin `ledger`) in one database transaction;
    /// a transaction already present (same account and id) is left as it is.
    pub async fn load_transactions(
        &self,
        accounts: &[(BankCode, ResourceId, Vec<Transaction>)],
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        insert_transactions(&mut tx, accounts, Origin::Ledger, "ON CONFLICT DO NOTHING").await?;
        tx.commit().await?;
        Ok(())
    }

    /// Replaces, in one database transaction, the generated transactions of the given accounts.
    /// Rows of origin `ledger` are never touched.
    pub async fn replace_generated_transactions(
        &self,
        accounts: &[(BankCode, ResourceId, Vec<Transaction>)],
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        for (bank, account, _) in accounts {
            sqlx::query("DELETE FROM transactions WHERE bank_code = $1 AND account_resource_id = $2 AND origin = $3")
                .bind(bank.as_str())
                .bind(account.as_str())
                .bind(Origin::Generated.as_str())
                .execute(&mut *tx)
                .await?;
        }
        insert_transactions(&mut tx, accounts, Origin::Generated, "").await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Bound values per multi-row INSERT. sqlx's SQLite driver looks up every parameter's name when
/// binding, a cost that grows with the statement's parameter count: `stetgate fill --accounts
/// 100000` on SQLite took 135 s with statements of 18,000 values and 13 s with about 1,000. A
/// thousand is also far below both databases' parameter limits.
const BULK_VALUES: usize = 1000;

/// Rows per multi-row INSERT of `width` columns.
pub(super) const fn bulk_rows(width: usize) -> usize {
    BULK_VALUES / width
}

/// Inserts the operations; `tail` may be `ON CONFLICT DO NOTHING`. The number of rows inserted.
pub(super) async fn insert_transactions(
    tx: &mut super::WriteTx,
    accounts: &[(BankCode, ResourceId, Vec<Transaction>)],
    origin: Origin,
    tail: &str,
) -> Result<u64, StoreError> {
    let mut inserted = 0;
    let rows: Vec<(&BankCode, &ResourceId, &Transaction)> =
        accounts.iter().flat_map(|(bank, account, ts)| ts.iter().map(move |t| (bank, account, t))).collect();
    for batch in rows.chunks(bulk_rows(TRANSACTION_WIDTH)) {
        let head = concat!("INSERT INTO transactions (", transaction_columns!(), ")");
        let sql = multi_row_insert(head, TRANSACTION_WIDTH, batch.len(), tail);
        // Audited: the statement is built from fixed column names and numbered placeholders only;
        // every value is bound.
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (bank, account, t) in batch {
            let btc = t.bank_transaction_code.as_ref();
            query = query
                .bind(bank.as_str())
                .bind(account.as_str())
                .bind(t.id.clone())
                .bind(t.entry_reference.clone())
                .bind(t.amount.to_minor().map_err(|e| StoreError::Corrupt(e.to_string()))?)
                .bind(t.amount.currency.as_str())
                .bind(t.credit_debit.as_str())
                .bind(t.status.as_str())
                .bind(t.transaction_date.to_string())
                .bind(t.booking_date.map(|d| d.to_string()))
                .bind(t.value_date.map(|d| d.to_string()))
                .bind(t.remittance.join("\n"))
                .bind(btc.map(|b| b.domain.clone()))
                .bind(btc.map(|b| b.family.clone()))
                .bind(btc.map(|b| b.sub_family.clone()))
                .bind(btc.and_then(|b| b.code.clone()))
                .bind(btc.and_then(|b| b.issuer.clone()))
                .bind(t.creditor_name.clone())
                .bind(t.debtor_name.clone())
                .bind(origin.as_str());
        }
        inserted += query.execute(&mut **tx).await?.rows_affected();
    }
    Ok(inserted)
}

/// `head ($first, ..., $first+n-1)`: an `IN` list of `n` numbered placeholders.
pub(super) fn in_list(head: &str, first: usize, n: usize) -> String {
    let placeholders: Vec<String> = (first..first + n).map(|i| format!("${i}")).collect();
    format!("{head} ({})", placeholders.join(", "))
}

/// `head VALUES ($1, ..., $width), (...), ... tail` for `rows` rows.
pub(super) fn multi_row_insert(head: &str, width: usize, rows: usize, tail: &str) -> String {
    let mut sql = String::with_capacity(head.len() + tail.len() + rows * width * 7);
    sql.push_str(head);
    sql.push_str(" VALUES ");
    for r in 0..rows {
        sql.push_str(if r == 0 { "(" } else { ", (" });
        for c in 1..=width {
            if c > 1 {
                sql.push_str(", ");
            }
            sql.push('$');
            sql.push_str(&(r * width + c).to_string());
        }
        sql.push(')');
    }
    sql.push(' ');
    sql.push_str(tail);
    sql
}

fn date(text: &str, column: &str) -> Result<Date, StoreError> {
    text.parse().map_err(|_| StoreError::Corrupt(format!("{column} = {text:?}")))
}

/// The balances of a row with `booked_balance_minor` and `pending_minor`.
fn balances_row(row: &dyn ReadRow, currency: Currency, today: Date) -> Result<Balances, StoreError> {
    let booked: i64 = col(row, "booked_balance_minor")?;
    let pending: i64 = col(row, "pending_minor")?;
    Ok(Balances {
        booked: Amount::from_minor(booked, currency),
        pending_debits: Amount::from_minor(pending, currency),
        reference_date: today,
    })
}

fn account_row(row: &dyn ReadRow) -> Result<Account, StoreError> {
    Ok(Account {
        bank: parse_column(col(row, "bank_code")?, "bank_code", |t| BankCode::parse(t).ok())?,
        resource_id: parse_column(col(row, "resource_id")?, "resource_id", |t| ResourceId::parse(t).ok())?,
        iban: parse_column(col(row, "iban")?, "iban", |t| Iban::parse(t).ok())?,
        name: col(row, "name")?,
        currency: parse_column(col(row, "currency")?, "currency", |t| Currency::parse(t).ok())?,
        usage: parse_column(col(row, "usage")?, "usage", Usage::parse)?,
        cash_account_type: col(row, "cash_account_type")?,
        segment: parse_column(col(row, "segment")?, "segment", Segment::parse)?,
        status: parse_column(col(row, "status")?, "status", AccountStatus::parse)?,
        local_number: col(row, "local_number")?,
    })
}

/// The columns of an operation as the transactions reads return them, in [`TransactionRow`]'s
/// order.
macro_rules! transaction_read_columns {
    () => {
        "transaction_id, entry_reference, amount_minor, currency, credit_debit, status, transaction_date, \
         booking_date, value_date, remittance, btc_domain, btc_family, btc_sub_family, btc_code, btc_issuer, \
         creditor_name, debtor_name"
    };
}

/// One operation as the transactions reads return it: a row of `transaction_read_columns!`, or
/// (PostgreSQL) a JSON array of the same columns, in order.
#[derive(serde::Deserialize)]
struct TransactionRow {
    transaction_id: String,
    entry_reference: Option<String>,
    amount_minor: i64,
    currency: String,
    credit_debit: String,
    status: String,
    transaction_date: String,
    booking_date: Option<String>,
    value_date: Option<String>,
    remittance: String,
    btc_domain: Option<String>,
    btc_family: Option<String>,
    btc_sub_family: Option<String>,
    btc_code: Option<String>,
    btc_issuer: Option<String>,
    creditor_name: Option<String>,
    debtor_name: Option<String>,
}

impl TransactionRow {
    /// The row of `transaction_read_columns!`, by position.
    fn read(row: &dyn ReadRow) -> Result<TransactionRow, StoreError> {
        let text = |i: usize| row.text_at(i);
        let required = |i: usize, column: &str| {
            row.text_at(i)?.ok_or_else(|| StoreError::Corrupt(format!("transactions.{column} is NULL")))
        };
        Ok(TransactionRow {
            transaction_id: required(0, "transaction_id")?,
            entry_reference: text(1)?,
            amount_minor: row
                .int_at(2)?
                .ok_or_else(|| StoreError::Corrupt("transactions.amount_minor is NULL".into()))?,
            currency: required(3, "currency")?,
            credit_debit: required(4, "credit_debit")?,
            status: required(5, "status")?,
            transaction_date: required(6, "transaction_date")?,
            booking_date: text(7)?,
            value_date: text(8)?,
            remittance: required(9, "remittance")?,
            btc_domain: text(10)?,
            btc_family: text(11)?,
            btc_sub_family: text(12)?,
            btc_code: text(13)?,
            btc_issuer: text(14)?,
            creditor_name: text(15)?,
            debtor_name: text(16)?,
        })
    }

    fn into_transaction(self) -> Result<Transaction, StoreError> {
        let currency = parse_column(self.currency, "currency", |t| Currency::parse(t).ok())?;
        let bank_transaction_code = self.btc_domain.map(|domain| BankTransactionCode {
            domain,
            family: self.btc_family.unwrap_or_default(),
            sub_family: self.btc_sub_family.unwrap_or_default(),
            code: self.btc_code,
            issuer: self.btc_issuer,
        });
        Ok(Transaction {
            id: self.transaction_id,
            entry_reference: self.entry_reference,
            amount: Amount::from_minor(self.amount_minor, currency),
            credit_debit: parse_column(self.credit_debit, "credit_debit", CreditDebit::parse)?,
            status: parse_column(self.status, "status", TransactionStatus::parse)?,
            transaction_date: date(&self.transaction_date, "transaction_date")?,
            booking_date: self.booking_date.map(|d| date(&d, "booking_date")).transpose()?,
            value_date: self.value_date.map(|d| date(&d, "value_date")).transpose()?,
            remittance: self.remittance.split('\n').map(str::to_owned).collect(),
            bank_transaction_code,
            creditor_name: self.creditor_name,
            debtor_name: self.debtor_name,
        })
    }
}

/// The transactions of an account in a window, newest first.
///
/// On PostgreSQL as one JSON array of arrays: the database builds it, so that the 500 operations
/// of an account cross the driver as one value instead of 500 rows (with sqlx, each row costs a
/// conversion to the `Any` row type, most of the request's time at 500 operations by profile).
const POSTGRES_TRANSACTIONS: &str = concat!(
    "SELECT COALESCE(CAST(json_agg(json_build_array(",
    transaction_read_columns!(),
    ") ORDER BY transaction_date DESC, transaction_id) AS TEXT), '[]') AS operations
     FROM transactions WHERE bank_code = $1 AND account_resource_id = $2
       AND transaction_date >= $3 AND transaction_date < $4"
);

/// On SQLite as rows: the hot reads run on the calling thread (`sqlite_reads.rs`), where a row
/// costs no hand-off, and building then parsing the JSON text cost more than the rows themselves
/// (docs/performance.md).
const SQLITE_TRANSACTIONS: &str = concat!(
    "SELECT ",
    transaction_read_columns!(),
    " FROM transactions WHERE bank_code = $1 AND account_resource_id = $2
       AND transaction_date >= $3 AND transaction_date < $4
     ORDER BY transaction_date DESC, transaction_id"
);

impl From<StoreError> for LedgerError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Corrupt(what) => LedgerError::Corrupt(what),
            other => LedgerError::Unavailable(other.to_string()),
        }
    }
}

/// The PSUs of [`Store::load_ledger`], in multi-row INSERTs.
async fn insert_psus(tx: &mut super::WriteTx, psus: &[Psu]) -> Result<(), StoreError> {
    for batch in psus.chunks(bulk_rows(9)) {
        let sql = multi_row_insert(
            "INSERT INTO psus (bank_code, psu_id, display_name, name_prefix, first_name, last_name, segment, phone, email)",
            9,
            batch.len(),
            "ON CONFLICT (bank_code, psu_id) DO UPDATE SET phone = COALESCE(psus.phone, excluded.phone),
                 email = COALESCE(psus.email, excluded.email)",
        );
        // Audited: fixed column names and numbered placeholders only; every value is bound.
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for psu in batch {
            query = query
                .bind(psu.bank.as_str())
                .bind(psu.id.as_str())
                .bind(&psu.identity.connected_psu)
                .bind(psu.identity.name_prefix.clone())
                .bind(psu.identity.first_name.clone())
                .bind(psu.identity.last_name.clone())
                .bind(psu.segment.as_str())
                .bind(psu.phone.clone())
                .bind(psu.email.clone());
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

#[async_trait]
impl Ledger for Store {
    async fn psu(&self, bank: BankCode, psu: &PsuId) -> Result<Option<Psu>, LedgerError> {
        let row = sqlx::query(
            "SELECT display_name, name_prefix, first_name, last_name, segment, phone, email FROM psus WHERE bank_code = $1 AND psu_id = $2",
        )
        .bind(bank.as_str())
        .bind(psu.as_str())
        .fetch_optional(self.pool())
        .await
        .map_err(StoreError::from)?;
        let Some(row) = row else { return Ok(None) };
        let read = || -> Result<Psu, StoreError> {
            Ok(Psu {
                bank,
                id: psu.clone(),
                identity: PsuIdentity {
                    connected_psu: row.try_get("display_name")?,
                    name_prefix: row.try_get("name_prefix")?,
                    first_name: row.try_get("first_name")?,
                    last_name: row.try_get("last_name")?,
                },
                segment: parse_column(row.try_get("segment")?, "segment", Segment::parse)?,
                phone: row.try_get("phone")?,
                email: row.try_get("email")?,
            })
        };
        Ok(Some(read()?))
    }

    async fn psu_accounts(&self, bank: BankCode, psu: &PsuId) -> Result<Vec<HeldAccount>, LedgerError> {
        let sql = concat!(
            "SELECT ",
            account_columns!(),
            ", h.psu_status FROM account_holders h
             JOIN accounts a ON a.bank_code = h.bank_code AND a.resource_id = h.resource_id
             WHERE h.bank_code = $1 AND h.psu_id = $2 ORDER BY h.position, a.resource_id"
        );
        let held = self
            .read_rows(sql, &[Param::Text(bank.as_str()), Param::Text(psu.as_str())], |r| {
                Ok(HeldAccount { account: account_row(r)?, psu_status: col(r, "psu_status")? })
            })
            .await?;
        Ok(held)
    }

    /// One query: the PSU's accounts and their balances (the same pending debits as
    /// [`Ledger::balances`]).
    async fn psu_accounts_with_balances(
        &self,
        bank: BankCode,
        psu: &PsuId,
        today: Date,
    ) -> Result<Vec<(HeldAccount, Option<Balances>)>, LedgerError> {
        let sql = concat!(
            "SELECT ",
            account_columns!(),
            ", h.psu_status, a.booked_balance_minor, ",
            pending_debits!(),
            " AS pending_minor FROM account_holders h
             JOIN accounts a ON a.bank_code = h.bank_code AND a.resource_id = h.resource_id
             WHERE h.bank_code = $1 AND h.psu_id = $2 ORDER BY h.position, a.resource_id"
        );
        let held = self
            .read_rows(sql, &[Param::Text(bank.as_str()), Param::Text(psu.as_str())], |r| {
                let account = account_row(r)?;
                let balances = balances_row(r, account.currency, today)?;
                Ok((HeldAccount { account, psu_status: col(r, "psu_status")? }, Some(balances)))
            })
            .await?;
        Ok(held)
    }

    async fn balances(
        &self,
        bank: BankCode,
        ids: &[ResourceId],
        today: Date,
    ) -> Result<Vec<(ResourceId, Balances)>, LedgerError> {
        let mut found = Vec::with_capacity(ids.len());
        for batch in ids.chunks(BULK_VALUES - 1) {
            let sql = in_list(
                concat!(
                    "SELECT a.resource_id, a.currency, a.booked_balance_minor, ",
                    pending_debits!(),
                    " AS pending_minor FROM accounts a WHERE a.bank_code = $1 AND a.resource_id IN"
                ),
                2,
                batch.len(),
            );
            // Audited: a fixed statement and numbered placeholders only; every value is bound.
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(bank.as_str());
            for id in batch {
                query = query.bind(id.as_str());
            }
            let rows = query.fetch_all(self.pool()).await.map_err(StoreError::from)?;
            for row in rows {
                let read = || -> Result<(ResourceId, Balances), StoreError> {
                    let id = parse_column(row.try_get("resource_id")?, "resource_id", |t| ResourceId::parse(t).ok())?;
                    let currency = parse_column(row.try_get("currency")?, "currency", |t| Currency::parse(t).ok())?;
                    Ok((id, balances_row(&row, currency, today)?))
                };
                found.push(read()?);
            }
        }
        Ok(found)
    }

    async fn transactions(
        &self,
        bank: BankCode,
        id: &ResourceId,
        window: DateWindow,
    ) -> Result<Vec<Transaction>, LedgerError> {
        let (from, to) = (window.from.to_string(), window.to.to_string());
        let params = [Param::Text(bank.as_str()), Param::Text(id.as_str()), Param::Text(&from), Param::Text(&to)];
        let rows: Vec<TransactionRow> = match self.backend() {
            Backend::Sqlite => self.read_rows(SQLITE_TRANSACTIONS, &params, TransactionRow::read).await?,
            Backend::Postgres => {
                let json = self
                    .read_rows(POSTGRES_TRANSACTIONS, &params, |row| col::<String>(row, "operations"))
                    .await?
                    .pop()
                    .ok_or_else(|| StoreError::Corrupt("the transactions query returned no row".into()))?;
                serde_json::from_str(&json)
                    .map_err(|e| StoreError::Corrupt(format!("transactions of {}: {e}", id.as_str())))?
            }
        };
        Ok(rows.into_iter().map(TransactionRow::into_transaction).collect::<Result<Vec<_>, _>>()?)
    }

    async fn overdraft(&self, bank: BankCode, id: &ResourceId) -> Result<Option<Amount>, LedgerError> {
        let mut found = self
            .read_rows(
                "SELECT currency, overdraft_minor FROM accounts WHERE bank_code = $1 AND resource_id = $2",
                &[Param::Text(bank.as_str()), Param::Text(id.as_str())],
                |row| {
                    let currency = parse_column(col(row, "currency")?, "currency", |t| Currency::parse(t).ok())?;
                    Ok(Amount::from_minor(col(row, "overdraft_minor")?, currency))
                },
            )
            .await?;
        Ok(found.pop())
    }
}
