//! The core-banking contract, version 1: the JSON bodies stetgate and a bank's adapter exchange,
//! and the OpenAPI document made from them (published as docs/core-banking-v1.openapi.json; a test
//! keeps the file equal to what this module makes).
//!
//! The operations, relative to the adapter's base URL:
//!
//! | call | answer |
//! |---|---|
//! | `GET /v1/banks/{bank}/psus/{psuId}` | [`PsuBody`], or 404: no such PSU |
//! | `GET /v1/banks/{bank}/psus/{psuId}/accounts` | [`AccountList`] (empty for an unknown PSU) |
//! | `POST /v1/banks/{bank}/balances` with [`BalancesQuery`] | [`BalanceList`]: the accounts that exist |
//! | `GET /v1/banks/{bank}/accounts/{resourceId}/transactions?from=&to=` | [`TransactionList`], newest first |
//! | `GET /v1/banks/{bank}/accounts/{resourceId}/overdraft` | [`OverdraftBody`], or 404: no such account |
//! | `POST /v1/banks/{bank}/payments` with [`PaymentOrder`] (or a pain.001 document) | [`PaymentStatusBody`] |
//! | `GET /v1/banks/{bank}/payments/status?key={key}` | [`PaymentStatusBody`], or 404: never submitted |
//!
//! and the other way, the payment hub's status callback to stetgate:
//! `POST <stetgate>/core-banking/v1/payment-status` with a [`PaymentStatusBody`], signed
//! `X-Stetgate-Signature: t=<unix seconds>,hmac-sha256=<hex of HMAC(key, "<t>.<body>")>`.
//!
//! Any other status is a failure of the adapter ([`ProblemBody`] optional). Path segments are
//! percent-encoded (a STET resource id may hold `/`, spaces, `?`).

use crate::ledger::hub::{Credit, Executed, Rejection, Transfer};
use crate::ledger::{
    Account, AccountStatus, Balances, BankTransactionCode, CreditDebit, HeldAccount, Psu, PsuId, PsuIdentity, Segment,
    Transaction, TransactionStatus, Usage, party_name,
};
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use stet::{Amount, BankCode, Currency, Iban, ResourceId};
use utoipa::ToSchema;

/// The contract's version, the first segment of every path.
pub const VERSION: &str = "v1";

/// The most accounts one balances call may name.
pub const MAX_BALANCE_ACCOUNTS: usize = 500;

/// A PSU as the bank knows them.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PsuBody {
    /// The online-banking identifier (1 to 35 letters and digits).
    #[schema(example = "D0999990I0")]
    pub psu_id: String,
    pub segment: SegmentBody,
    /// Where one-time codes are sent (E.164), when the bank has a number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "+33612345678")]
    pub phone: Option<String>,
    /// Where one-time codes are sent when the bank's gateway sends them by e-mail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "marc.sandboxb@example.fr")]
    pub email: Option<String>,
    pub identity: IdentityBody,
}

/// What `GET /end-user-identity` may reveal.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IdentityBody {
    #[schema(example = "MARC SANDBOXB")]
    pub connected_psu: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_prefix: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
}

/// The customer segment: it sets the history depth served (62 or 90 days) and whether bank
/// transaction codes are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum SegmentBody {
    Retail,
    Professional,
    LargeProfessional,
    Corporate,
}

/// The PSU's payment accounts, in the order the PSU sees them.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountList {
    pub accounts: Vec<HeldAccountBody>,
}

/// One account as one of its holders sees it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HeldAccountBody {
    /// Stable; the STET `resourceId` (up to 35 characters of `[a-zA-Z0-9 /-?:().,']`).
    #[schema(value_type = String, example = "CE-000000001")]
    pub resource_id: ResourceId,
    #[schema(value_type = String, example = "FR7613807000010000000000178")]
    pub iban: Iban,
    #[schema(example = "Compte de Marc")]
    pub name: String,
    #[schema(value_type = String, example = "EUR")]
    pub currency: Currency,
    pub usage: UsageBody,
    /// CACC for current accounts.
    #[schema(example = "CACC")]
    pub cash_account_type: String,
    pub segment: SegmentBody,
    pub status: StatusBody,
    /// The account number as the bank prints it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_number: Option<String>,
    /// "Account Holder", "Co-account Holder" ...
    #[schema(example = "Account Holder")]
    pub psu_status: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum UsageBody {
    #[serde(rename = "PRIV")]
    Priv,
    #[serde(rename = "ORGA")]
    Orga,
}

/// Only open accounts are offered to TPPs; closed and blocked ones are kept out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum StatusBody {
    Open,
    Closed,
    Blocked,
}

/// The accounts whose balances stetgate needs (the consented accounts of one request).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BalancesQuery {
    /// 1 to 500 resource ids of the bank's accounts.
    #[schema(value_type = Vec<String>, example = json!(["CE-000000001"]))]
    pub accounts: Vec<ResourceId>,
    /// The bank's business day the figures are asked for (Paris).
    #[schema(value_type = String, format = Date, example = "2026-12-01")]
    pub date: Date,
}

/// The balances of the asked accounts that exist (an unknown one is left out).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BalanceList {
    pub balances: Vec<BalanceBody>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BalanceBody {
    #[schema(value_type = String, example = "CE-000000001")]
    pub resource_id: ResourceId,
    /// The accounting balance (STET CLBD), negative when overdrawn.
    pub booked: Amount,
    /// Operations announced but not booked (card payments ...), a positive sum: the instant
    /// balance funds confirmation answers on is `booked - pendingDebits`.
    pub pending_debits: Amount,
    #[schema(value_type = String, format = Date, example = "2026-12-01")]
    pub reference_date: Date,
}

/// Operations whose transaction date is in `[from, to)`, newest first.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransactionList {
    pub transactions: Vec<TransactionBody>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TransactionBody {
    /// Stable and unique within the account.
    #[schema(example = "T000123")]
    pub id: String,
    /// The bank's reference, the same from OTHR to BOOK.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry_reference: Option<String>,
    /// Always positive; the direction is `creditDebit`.
    pub amount: Amount,
    pub credit_debit: CreditDebitBody,
    pub status: TransactionStatusBody,
    #[schema(value_type = String, format = Date)]
    pub transaction_date: Date,
    /// Absent while not booked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = Date)]
    pub booking_date: Option<Date>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = Date)]
    pub value_date: Option<Date>,
    #[serde(default)]
    pub remittance: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bank_transaction_code: Option<BankTransactionCodeBody>,
    /// The name of the party credited (the payee of a debit), at most 140 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creditor_name: Option<String>,
    /// The name of the party debited (the payer of a credit), at most 140 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub debtor_name: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum CreditDebitBody {
    #[serde(rename = "CRDT")]
    Credit,
    #[serde(rename = "DBIT")]
    Debit,
}

/// BOOK: booked; OTHR: announced, not booked yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum TransactionStatusBody {
    #[serde(rename = "BOOK")]
    Book,
    #[serde(rename = "OTHR")]
    Othr,
}

/// ISO 20022 bank transaction code.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BankTransactionCodeBody {
    pub domain: String,
    pub family: String,
    pub sub_family: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
}

/// The authorised overdraft, a positive amount (zero when none).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OverdraftBody {
    pub overdraft: Amount,
}

/// A refusal or failure, in either direction (stetgate's adapter answers it; stetgate only logs
/// the status, never a body, which could hold personal data).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ProblemBody {
    #[schema(example = "not_found")]
    pub error: String,
    pub message: String,
}

/// A credit transfer the PSU approved and the PISP confirmed, for the bank's payment hub to
/// execute (the pain.001 fields it needs, as JSON). Submitting the same `key` again must not
/// execute it twice: the hub answers the transfer's status.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PaymentOrder {
    /// The idempotency key (also sent as `Idempotency-Key`): the payment request, the instruction
    /// and the execution day (at most 140 characters).
    #[schema(example = "13807/PR-7f3a9c/0/2026-11-21")]
    pub key: String,
    /// The debtor account's resource id.
    #[schema(value_type = String, example = "138070080430019654051")]
    pub debtor_account: ResourceId,
    /// The debit: the total of `creditTransfers`.
    pub instructed_amount: Amount,
    /// What the debit pays: one credit transfer, or (a batch booking) one per instruction of
    /// the day, each to be credited to its creditor.
    pub credit_transfers: Vec<CreditTransferBody>,
    /// The Paris day to execute on.
    #[schema(value_type = String, format = Date)]
    pub requested_execution_date: Date,
    /// SEPA instant credit transfer (SCT Inst) rather than SCT.
    pub instant: bool,
}

/// One credit transfer of a `PaymentOrder`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreditTransferBody {
    pub creditor: CreditorBody,
    pub amount: Amount,
    #[serde(default)]
    pub remittance: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreditorBody {
    #[schema(example = "Boulangerie Paul")]
    pub name: String,
    /// Absent when the PISP named the creditor without an account (the bank's rules decide).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "FR7630004000031234567890143")]
    pub iban: Option<Iban>,
}

/// What the hub did with a transfer.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PaymentStatusBody {
    pub key: String,
    pub status: HubStatus,
    /// The debit's id in the account's transactions, once booked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_id: Option<String>,
    /// Why it was rejected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<HubRejection>,
}

/// `pending`: accepted, not executed yet (a callback or a later poll tells the outcome);
/// `booked`: the debtor account is debited (STET ACSC); `rejected` (STET RJCT with a reason).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum HubStatus {
    Pending,
    Booked,
    Rejected,
}

/// Why a hub rejects: STET reason CUST (funds), AC04 (closed), AC06 (blocked), AC01 (unknown).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HubRejection {
    InsufficientFunds,
    Closed,
    Blocked,
    UnknownAccount,
}

impl PaymentOrder {
    pub fn of(transfer: &Transfer) -> PaymentOrder {
        PaymentOrder {
            key: transfer.key.clone(),
            debtor_account: transfer.debtor.clone(),
            instructed_amount: transfer.amount,
            credit_transfers: transfer
                .credits
                .iter()
                .map(|c| CreditTransferBody {
                    creditor: CreditorBody { name: c.creditor_name.clone(), iban: c.creditor_iban.clone() },
                    amount: c.amount,
                    remittance: c.remittance.clone(),
                })
                .collect(),
            requested_execution_date: transfer.date,
            instant: transfer.instant,
        }
    }

    /// The transfer, when the order is consistent: at least one credit, all in the currency of
    /// the debit, which is their total.
    pub fn into_transfer(self, bank: BankCode) -> Result<Transfer, String> {
        let credits: Vec<Credit> = self
            .credit_transfers
            .into_iter()
            .map(|c| Credit {
                creditor_name: c.creditor.name,
                creditor_iban: c.creditor.iban,
                amount: c.amount,
                remittance: c.remittance,
            })
            .collect();
        let reference = self.key.clone();
        let transfer = Transfer::of_credits(
            self.key,
            bank,
            self.debtor_account,
            self.requested_execution_date,
            self.instant,
            credits,
            &reference,
        );
        check_total(&transfer, self.instructed_amount)?;
        Ok(transfer)
    }
}

impl PaymentStatusBody {
    pub fn of(key: &str, outcome: &Executed) -> PaymentStatusBody {
        let (status, transaction_id, reason) = match outcome {
            Executed::Pending => (HubStatus::Pending, None, None),
            Executed::Booked { transaction_id } => (HubStatus::Booked, Some(transaction_id.clone()), None),
            Executed::Rejected(why) => (
                HubStatus::Rejected,
                None,
                Some(match why {
                    Rejection::InsufficientFunds => HubRejection::InsufficientFunds,
                    Rejection::Closed => HubRejection::Closed,
                    Rejection::Blocked => HubRejection::Blocked,
                    Rejection::UnknownAccount => HubRejection::UnknownAccount,
                }),
            ),
        };
        PaymentStatusBody { key: key.to_owned(), status, transaction_id, reason }
    }

    /// The outcome, when the body is consistent (a booked transfer names its transaction, a
    /// rejected one its reason).
    pub fn outcome(&self) -> Result<Executed, String> {
        match (self.status, &self.transaction_id, self.reason) {
            (HubStatus::Pending, None, None) => Ok(Executed::Pending),
            (HubStatus::Booked, Some(id), None) if !id.is_empty() && id.len() <= ResourceId::MAX_LEN => {
                Ok(Executed::Booked { transaction_id: id.clone() })
            }
            (HubStatus::Rejected, None, Some(why)) => Ok(Executed::Rejected(match why {
                HubRejection::InsufficientFunds => Rejection::InsufficientFunds,
                HubRejection::Closed => Rejection::Closed,
                HubRejection::Blocked => Rejection::Blocked,
                HubRejection::UnknownAccount => Rejection::UnknownAccount,
            })),
            _ => Err("a status whose transactionId or reason does not fit it".into()),
        }
    }
}

/// That `transfer` pays at least one credit, all in one currency, `total` in all.
pub fn check_total(transfer: &Transfer, total: Amount) -> Result<(), String> {
    if transfer.credits.is_empty() {
        return Err("no credit transfer".into());
    }
    if transfer.credits.iter().any(|c| c.amount.currency != total.currency) {
        return Err("a credit transfer in another currency than the debit".into());
    }
    if transfer.amount != total {
        return Err("the debit is not the total of its credit transfers".into());
    }
    Ok(())
}

/// The hex HMAC-SHA256 of `<t>.<body>` with the bank's callback key: what a hub puts in
/// `X-Stetgate-Signature: t=<t>,hmac-sha256=<this>` when it reports a status.
pub fn callback_signature(key: &[u8], t: i64, body: &[u8]) -> String {
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, key);
    let mut context = aws_lc_rs::hmac::Context::with_key(&key);
    context.update(format!("{t}.").as_bytes());
    context.update(body);
    eidas::psd2::hex(context.sign().as_ref())
}

// From the ledger's types (what an adapter answers) ...

impl From<Segment> for SegmentBody {
    fn from(s: Segment) -> Self {
        match s {
            Segment::Retail => SegmentBody::Retail,
            Segment::Professional => SegmentBody::Professional,
            Segment::LargeProfessional => SegmentBody::LargeProfessional,
            Segment::Corporate => SegmentBody::Corporate,
        }
    }
}

impl From<SegmentBody> for Segment {
    fn from(s: SegmentBody) -> Self {
        match s {
            SegmentBody::Retail => Segment::Retail,
            SegmentBody::Professional => Segment::Professional,
            SegmentBody::LargeProfessional => Segment::LargeProfessional,
            SegmentBody::Corporate => Segment::Corporate,
        }
    }
}

impl From<&Psu> for PsuBody {
    fn from(p: &Psu) -> Self {
        PsuBody {
            psu_id: p.id.as_str().to_owned(),
            segment: p.segment.into(),
            phone: p.phone.clone(),
            email: p.email.clone(),
            identity: IdentityBody {
                connected_psu: p.identity.connected_psu.clone(),
                name_prefix: p.identity.name_prefix.clone(),
                first_name: p.identity.first_name.clone(),
                last_name: p.identity.last_name.clone(),
            },
        }
    }
}

impl PsuBody {
    /// The PSU, when the answer is about the one asked for.
    pub fn into_psu(self, bank: BankCode, asked: &PsuId) -> Result<Psu, String> {
        if self.psu_id != asked.as_str() {
            return Err("the adapter answered about another PSU".into());
        }
        if self.email.as_deref().is_some_and(|e| !crate::ledger::is_email_address(e)) {
            return Err("the PSU's email is not an e-mail address".into());
        }
        Ok(Psu {
            bank,
            id: asked.clone(),
            identity: PsuIdentity {
                connected_psu: self.identity.connected_psu,
                name_prefix: self.identity.name_prefix,
                first_name: self.identity.first_name,
                last_name: self.identity.last_name,
            },
            segment: self.segment.into(),
            phone: self.phone,
            email: self.email,
        })
    }
}

impl From<&HeldAccount> for HeldAccountBody {
    fn from(h: &HeldAccount) -> Self {
        let a = &h.account;
        HeldAccountBody {
            resource_id: a.resource_id.clone(),
            iban: a.iban.clone(),
            name: a.name.clone(),
            currency: a.currency,
            usage: match a.usage {
                Usage::Priv => UsageBody::Priv,
                Usage::Orga => UsageBody::Orga,
            },
            cash_account_type: a.cash_account_type.clone(),
            segment: a.segment.into(),
            status: match a.status {
                AccountStatus::Open => StatusBody::Open,
                AccountStatus::Closed => StatusBody::Closed,
                AccountStatus::Blocked => StatusBody::Blocked,
            },
            local_number: a.local_number.clone(),
            psu_status: h.psu_status.clone(),
        }
    }
}

impl HeldAccountBody {
    pub fn into_held(self, bank: BankCode) -> HeldAccount {
        HeldAccount {
            account: Account {
                bank,
                resource_id: self.resource_id,
                iban: self.iban,
                name: self.name,
                currency: self.currency,
                usage: match self.usage {
                    UsageBody::Priv => Usage::Priv,
                    UsageBody::Orga => Usage::Orga,
                },
                cash_account_type: self.cash_account_type,
                segment: self.segment.into(),
                status: match self.status {
                    StatusBody::Open => AccountStatus::Open,
                    StatusBody::Closed => AccountStatus::Closed,
                    StatusBody::Blocked => AccountStatus::Blocked,
                },
                local_number: self.local_number,
            },
            psu_status: self.psu_status,
        }
    }
}

impl BalanceBody {
    pub fn new(id: ResourceId, b: &Balances) -> Self {
        BalanceBody {
            resource_id: id,
            booked: b.booked,
            pending_debits: b.pending_debits,
            reference_date: b.reference_date,
        }
    }

    /// The balances, when both amounts are in one currency and the pending sum is not negative.
    pub fn into_balances(self) -> Result<(ResourceId, Balances), String> {
        if self.booked.currency != self.pending_debits.currency {
            return Err("booked and pendingDebits are in different currencies".into());
        }
        if self.pending_debits.value.is_sign_negative() && !self.pending_debits.value.is_zero() {
            return Err("pendingDebits is negative".into());
        }
        let balances =
            Balances { booked: self.booked, pending_debits: self.pending_debits, reference_date: self.reference_date };
        Ok((self.resource_id, balances))
    }
}

impl From<&Transaction> for TransactionBody {
    fn from(t: &Transaction) -> Self {
        TransactionBody {
            id: t.id.clone(),
            entry_reference: t.entry_reference.clone(),
            amount: t.amount,
            credit_debit: match t.credit_debit {
                CreditDebit::Credit => CreditDebitBody::Credit,
                CreditDebit::Debit => CreditDebitBody::Debit,
            },
            status: match t.status {
                TransactionStatus::Book => TransactionStatusBody::Book,
                TransactionStatus::Othr => TransactionStatusBody::Othr,
            },
            transaction_date: t.transaction_date,
            booking_date: t.booking_date,
            value_date: t.value_date,
            remittance: t.remittance.clone(),
            bank_transaction_code: t.bank_transaction_code.as_ref().map(|c| BankTransactionCodeBody {
                domain: c.domain.clone(),
                family: c.family.clone(),
                sub_family: c.sub_family.clone(),
                code: c.code.clone(),
                issuer: c.issuer.clone(),
            }),
            creditor_name: t.creditor_name.clone(),
            debtor_name: t.debtor_name.clone(),
        }
    }
}

impl TransactionBody {
    /// The operation, when its amount is positive and its id usable.
    pub fn into_transaction(self) -> Result<Transaction, String> {
        if self.amount.value.is_sign_negative() && !self.amount.value.is_zero() {
            return Err("a transaction amount is negative (the direction is creditDebit)".into());
        }
        if self.id.is_empty() || self.id.len() > ResourceId::MAX_LEN {
            return Err("a transaction id is empty or longer than 35 characters".into());
        }
        let creditor_name = party_name(self.creditor_name).map_err(|e| format!("a transaction's creditorName: {e}"))?;
        let debtor_name = party_name(self.debtor_name).map_err(|e| format!("a transaction's debtorName: {e}"))?;
        Ok(Transaction {
            id: self.id,
            entry_reference: self.entry_reference,
            amount: self.amount,
            credit_debit: match self.credit_debit {
                CreditDebitBody::Credit => CreditDebit::Credit,
                CreditDebitBody::Debit => CreditDebit::Debit,
            },
            status: match self.status {
                TransactionStatusBody::Book => TransactionStatus::Book,
                TransactionStatusBody::Othr => TransactionStatus::Othr,
            },
            transaction_date: self.transaction_date,
            booking_date: self.booking_date,
            value_date: self.value_date,
            remittance: self.remittance,
            bank_transaction_code: self.bank_transaction_code.map(|c| BankTransactionCode {
                domain: c.domain,
                family: c.family,
                sub_family: c.sub_family,
                code: c.code,
                issuer: c.issuer,
            }),
            creditor_name,
            debtor_name,
        })
    }
}

/// The contract as an OpenAPI 3.1 document (docs/core-banking-v1.openapi.json).
pub fn openapi() -> Value {
    let mut schemas = serde_json::Map::new();
    for named in [
        stet::catalog::schema_of::<PsuBody>(),
        stet::catalog::schema_of::<AccountList>(),
        stet::catalog::schema_of::<BalancesQuery>(),
        stet::catalog::schema_of::<BalanceList>(),
        stet::catalog::schema_of::<TransactionList>(),
        stet::catalog::schema_of::<OverdraftBody>(),
        stet::catalog::schema_of::<ProblemBody>(),
        stet::catalog::schema_of::<PaymentOrder>(),
        stet::catalog::schema_of::<PaymentStatusBody>(),
    ] {
        for (name, schema) in named.dependencies {
            schemas.entry(name).or_insert_with(|| serde_json::to_value(schema).unwrap_or(Value::Null));
        }
        schemas.entry(named.name).or_insert_with(|| serde_json::to_value(named.schema).unwrap_or(Value::Null));
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "stetgate core-banking contract",
            "version": "1.0.0",
            "description": DESCRIPTION,
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
        },
        "servers": [{"url": "https://core.bank.example/stetgate", "description": "the adapter's base URL (`url` of [core_banking.\"<bank>\"])"}],
        "security": [{"mutualTls": []}, {"bearer": []}],
        "paths": paths(),
        "webhooks": {"paymentStatus": {"post": {
            "operationId": "paymentStatusCallback",
            "summary": "The hub tells stetgate what became of a transfer (POST <stetgate's bank host>/core-banking/v1/payment-status)",
            "description": "Signed with the bank's callback key: X-Stetgate-Signature: t=<unix seconds>,hmac-sha256=<hex of HMAC-SHA256(key, \"<t>.<body>\")>, t within 300 s of stetgate's clock. The first final status (booked, rejected) of a key wins; later ones change nothing. A lost callback is recovered: stetgate polls GET /v1/banks/{bank}/payments/status?key= for transfers still pending after three minutes. The hex is lower case.",
            "parameters": [{"name": "X-Stetgate-Signature", "in": "header", "required": true, "schema": {"type": "string"}}],
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PaymentStatusBody"}}}},
            "responses": {"204": {"description": "Recorded (or already known)."}, "400": {"description": "Not a PaymentStatusBody, or a key stetgate never sent."}, "401": {"description": "Missing, stale or wrong signature."}},
        }}},
        "components": {
            "schemas": schemas,
            "parameters": {
                "bank": {"name": "bank", "in": "path", "required": true, "description": "The bank code (5 digits).", "schema": {"type": "string", "pattern": "^[0-9]{5}$"}, "example": "13807"},
                "psuId": {"name": "psuId", "in": "path", "required": true, "description": "The PSU's online-banking id.", "schema": {"type": "string", "pattern": "^[A-Za-z0-9]{1,35}$"}, "example": "D0999990I0"},
                "resourceId": {"name": "resourceId", "in": "path", "required": true, "description": "The account's resource id, percent-encoded.", "schema": {"type": "string", "maxLength": 35}, "example": "CE-000000001"},
            },
            "responses": {
                "Failure": {"description": "The adapter cannot answer now: stetgate answers the TPP 503 with Retry-After and counts the failure towards opening the circuit.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ProblemBody"}}}},
                "Unauthorized": {"description": "The call is not stetgate's (no client certificate, wrong bearer token).", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ProblemBody"}}}},
            },
            "securitySchemes": {
                "mutualTls": {"type": "mutualTLS", "description": "stetgate's client certificate (client_cert of [core_banking.\"<bank>\"])."},
                "bearer": {"type": "http", "scheme": "bearer", "description": "The token of bearer_token_file."},
            },
        },
    })
}

const DESCRIPTION: &str = "What stetgate asks a bank's core-banking adapter for each account-information, \
funds-confirmation and payment-approval call, when the bank's accounts are not in stetgate's SQL ledger, and how \
it has the bank's payment hub execute approved payments. Every call is scoped to one bank code; only the payment \
calls change anything. An answer is expected within `timeout_secs`; a timeout, a \
connection failure, a 5xx (or 408, 429) or an answer that does not follow this document is a failure; a 4xx is a \
refusal of that one call (logged, answered 503 to the TPP, without counting towards the circuit): the TPP gets 503 with \
Retry-After, the failure counts in the availability statistics, and after `breaker_failures` consecutive \
failures stetgate stops calling for `breaker_open_secs`. `stetgate core-banking serve` is a working \
implementation on the built-in SQL ledger.";

fn paths() -> Value {
    let ok = |schema: &str, text: &str| json!({"description": text, "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}});
    let failures = |mut responses: serde_json::Map<String, Value>| {
        responses.insert("401".into(), json!({"$ref": "#/components/responses/Unauthorized"}));
        responses.insert("5XX".into(), json!({"$ref": "#/components/responses/Failure"}));
        Value::Object(responses)
    };
    let param = |name: &str| json!({"$ref": format!("#/components/parameters/{name}")});
    let date = |name: &str, text: &str| json!({"name": name, "in": "query", "required": true, "description": text, "schema": {"type": "string", "format": "date"}});
    json!({
        "/v1/banks/{bank}/psus/{psuId}": {"get": {
            "operationId": "getPsu", "summary": "A PSU and their identity",
            "parameters": [param("bank"), param("psuId")],
            "responses": failures(serde_json::Map::from_iter([
                ("200".into(), ok("PsuBody", "The PSU.")),
                ("404".into(), json!({"description": "No such PSU at this bank."})),
            ])),
        }},
        "/v1/banks/{bank}/psus/{psuId}/accounts": {"get": {
            "operationId": "getPsuAccounts", "summary": "The PSU's payment accounts, in the order the PSU sees them (empty for an unknown PSU)",
            "parameters": [param("bank"), param("psuId")],
            "responses": failures(serde_json::Map::from_iter([("200".into(), ok("AccountList", "The accounts."))])),
        }},
        "/v1/banks/{bank}/balances": {"post": {
            "operationId": "getBalances", "summary": "Balances of several accounts at once (a query: nothing changes)",
            "parameters": [param("bank")],
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/BalancesQuery"}}}},
            "responses": failures(serde_json::Map::from_iter([("200".into(), ok("BalanceList", "The balances of the accounts that exist."))])),
        }},
        "/v1/banks/{bank}/accounts/{resourceId}/transactions": {"get": {
            "operationId": "getTransactions", "summary": "Operations of a date window, newest first",
            "parameters": [param("bank"), param("resourceId"), date("from", "First transaction date, included."), date("to", "Last transaction date, excluded.")],
            "responses": failures(serde_json::Map::from_iter([("200".into(), ok("TransactionList", "The operations (empty for an unknown account)."))])),
        }},
        "/v1/banks/{bank}/payments": {"post": {
            "operationId": "submitPayment", "summary": "Execute a credit transfer (idempotent on its key)",
            "description": "The body is a PaymentOrder (application/json) or, for a hub configured with format = \"pain.001\", a pain.001.001.09 CstmrCdtTrfInitn document (application/xml) whose MsgId and PmtInfId are a 35-character hash of the key (the key itself is the Idempotency-Key), with one CdtTrfTxInf per credit transfer (EndToEndId: a hash of \"<key>#<n>\"), BtchBookg true when there are several and CtrlSum their total. Submitting a key again, even while its first submission is in flight, executes nothing and answers the transfer's status. A 4xx answer is a refusal: logged, not retried at once, and the transfer is asked about again three minutes later.",
            "parameters": [param("bank"), {"name": "Idempotency-Key", "in": "header", "required": true, "description": "The transfer's key.", "schema": {"type": "string", "maxLength": 140}}],
            "requestBody": {"required": true, "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/PaymentOrder"}},
                "application/xml": {"schema": {"type": "string", "description": "pain.001.001.09"}},
            }},
            "responses": failures(serde_json::Map::from_iter([
                ("200".into(), ok("PaymentStatusBody", "Executed or rejected at once.")),
                ("202".into(), ok("PaymentStatusBody", "Accepted, pending: the outcome comes by callback (or poll).")),
                ("400".into(), json!({"description": "A malformed order.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ProblemBody"}}}})),
            ])),
        }},
        "/v1/banks/{bank}/payments/status": {"get": {
            "operationId": "getPayment", "summary": "The status of a submitted transfer (stetgate polls when a callback is late)",
            "parameters": [param("bank"), {"name": "key", "in": "query", "required": true, "description": "The transfer's key (a query parameter: it holds `/`).", "schema": {"type": "string", "maxLength": 140}}],
            "responses": failures(serde_json::Map::from_iter([
                ("200".into(), ok("PaymentStatusBody", "The status.")),
                ("404".into(), json!({"description": "Never submitted: stetgate submits it."})),
            ])),
        }},
        "/v1/banks/{bank}/accounts/{resourceId}/overdraft": {"get": {
            "operationId": "getOverdraft", "summary": "The authorised overdraft",
            "parameters": [param("bank"), param("resourceId")],
            "responses": failures(serde_json::Map::from_iter([
                ("200".into(), ok("OverdraftBody", "The overdraft (zero when none).")),
                ("404".into(), json!({"description": "No such account at this bank."})),
            ])),
        }},
    })
}
