//! The ledger: what a core banking system must answer for the dedicated interface.
//!
//! [`Ledger`] is the seam between stetgate and a bank's own systems. stetgate ships one
//! implementation, the SQL ledger of the `store` (the sandbox personas live there, and a bank may
//! load its data there too); a bank can plug its core banking system instead by implementing the
//! trait. Everything here is read-only: the dedicated interface never moves money.

pub mod camt;
pub mod fill;
pub mod generator;
pub mod holders;
pub mod hub;
pub mod personas;

use async_trait::async_trait;
use jiff::civil::Date;
use std::fmt;
use stet::{Amount, BankCode, Currency, Iban, ResourceId};

/// An account to load into the built-in SQL ledger (the sandbox seed, `stetgate fill`, a bank's
/// extract), with its money and holders.
#[derive(Debug, Clone)]
pub struct LoadAccount {
    pub account: Account,
    pub booked_minor: i64,
    pub overdraft_minor: i64,
    /// Online-banking ids with their STET `psuStatus`, in the order the PSU sees the account.
    pub holders: Vec<(PsuId, String)>,
}

/// A PSU's online-banking identifier (what they type on the bank's login page).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PsuId(String);

impl PsuId {
    /// 1 to 35 letters and digits.
    pub fn parse(text: &str) -> Option<PsuId> {
        let ok = (1..=35).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_alphanumeric());
        ok.then(|| PsuId(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

// An online-banking id is personal data: keep it out of Debug output (and so out of logs).
impl fmt::Debug for PsuId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PsuId(<redacted>)")
    }
}

/// The customer segment, which sets the transaction history depth the bank publishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Segment {
    Retail,
    /// Small professionals (sole traders).
    Professional,
    LargeProfessional,
    Corporate,
}

impl Segment {
    pub fn as_str(self) -> &'static str {
        match self {
            Segment::Retail => "retail",
            Segment::Professional => "professional",
            Segment::LargeProfessional => "large-professional",
            Segment::Corporate => "corporate",
        }
    }

    pub fn parse(text: &str) -> Option<Segment> {
        [Segment::Retail, Segment::Professional, Segment::LargeProfessional, Segment::Corporate]
            .into_iter()
            .find(|s| s.as_str() == text)
    }

    /// Days of history served: 62 for retail and small professionals, 90 for large professionals
    /// and corporates (as the bank publishes).
    pub fn history_days(self) -> i32 {
        match self {
            Segment::Retail | Segment::Professional => 62,
            Segment::LargeProfessional | Segment::Corporate => 90,
        }
    }

    /// Professional and corporate customers get ISO 20022 bank transaction codes.
    pub fn has_bank_transaction_codes(self) -> bool {
        !matches!(self, Segment::Retail)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountStatus {
    Open,
    Closed,
    Blocked,
}

impl AccountStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountStatus::Open => "open",
            AccountStatus::Closed => "closed",
            AccountStatus::Blocked => "blocked",
        }
    }

    pub fn parse(text: &str) -> Option<AccountStatus> {
        [AccountStatus::Open, AccountStatus::Closed, AccountStatus::Blocked].into_iter().find(|s| s.as_str() == text)
    }
}

/// STET `usage`: private or professional account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Usage {
    Priv,
    Orga,
}

impl Usage {
    pub fn as_str(self) -> &'static str {
        match self {
            Usage::Priv => "PRIV",
            Usage::Orga => "ORGA",
        }
    }

    pub fn parse(text: &str) -> Option<Usage> {
        match text {
            "PRIV" => Some(Usage::Priv),
            "ORGA" => Some(Usage::Orga),
            _ => None,
        }
    }
}

/// A PSU as the bank knows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Psu {
    pub bank: BankCode,
    pub id: PsuId,
    pub identity: PsuIdentity,
    pub segment: Segment,
    /// Where one-time codes are sent by SMS (E.164); shown masked.
    pub phone: Option<String>,
    /// Where one-time codes are sent by e-mail, for a bank whose gateway sends them so.
    pub email: Option<String>,
}

/// Whether `text` can be an e-mail address to send codes to: a local part of at most 64
/// characters without spaces, controls or the characters a gateway may read as a list or a name
/// (`,;<>()[]\"@`), then `@` and a domain of two labels or more, each of letters, digits and
/// inner hyphens; at most 254 characters (RFC 5321's path limit).
pub fn is_email_address(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else { return false };
    let label_ok = |label: &str| {
        !label.is_empty()
            && label.len() <= 63
            && label.chars().all(|c| c.is_alphanumeric() || c == '-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    };
    text.len() <= 254
        && !local.is_empty()
        && local.len() <= 64
        && local.chars().all(|c| !c.is_whitespace() && !c.is_control() && !",;<>()[]\\\"@".contains(c))
        && domain.split('.').count() >= 2
        && domain.split('.').all(label_ok)
}

/// A counterparty's name as the ledger keeps it: ISO 20022's `Max140Text` (STET's
/// `PartyIdentification.name`, SEPA's creditor name being shorter still).
pub const PARTY_NAME_MAX: usize = 140;

/// A counterparty's name as given by a statement or the bank's adapter: blank is no name, longer
/// than [`PARTY_NAME_MAX`] characters an error (the caller names where).
pub fn party_name(name: Option<String>) -> Result<Option<String>, String> {
    match name.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty()) {
        Some(n) if n.chars().count() > PARTY_NAME_MAX => Err(format!("a name longer than {PARTY_NAME_MAX} characters")),
        other => Ok(other),
    }
}

/// What `GET /end-user-identity` may reveal (STET 1.4.2 HalEndUserIdentity).
#[derive(Clone, PartialEq, Eq)]
pub struct PsuIdentity {
    /// The full name, e.g. "LEA SANDBOXA".
    pub connected_psu: String,
    pub name_prefix: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
}

impl fmt::Debug for PsuIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PsuIdentity(<redacted>)")
    }
}

/// A payment account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub bank: BankCode,
    pub resource_id: ResourceId,
    pub iban: Iban,
    pub name: String,
    pub currency: Currency,
    pub usage: Usage,
    /// STET `cashAccountType`: CACC for current accounts.
    pub cash_account_type: String,
    pub segment: Segment,
    pub status: AccountStatus,
    /// The account number as the bank prints it (e.g. `038-CPT30019654051`), when it has one.
    pub local_number: Option<String>,
}

/// An account as one of its holders sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldAccount {
    pub account: Account,
    /// STET `psuStatus`: "Account Holder", "Co-account Holder".
    pub psu_status: String,
}

impl HeldAccount {
    /// What the dedicated interface offers: open accounts (the bank lists active, online-accessible
    /// payment accounts only).
    pub fn is_eligible(&self) -> bool {
        self.account.status == AccountStatus::Open
    }
}

/// What the bank knows of an account's money at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Balances {
    /// The accounting balance (STET `CLBD`).
    pub booked: Amount,
    /// Card debits and other operations announced but not booked yet (status OTHR).
    pub pending_debits: Amount,
    /// The day these figures describe.
    pub reference_date: Date,
}

impl Balances {
    /// The instant balance ("solde minute") funds confirmation answers on: booked minus pending
    /// debits.
    pub fn instant(&self) -> Amount {
        Amount { value: self.booked.value - self.pending_debits.value, currency: self.booked.currency }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreditDebit {
    Credit,
    Debit,
}

impl CreditDebit {
    pub fn as_str(self) -> &'static str {
        match self {
            CreditDebit::Credit => "CRDT",
            CreditDebit::Debit => "DBIT",
        }
    }
    pub fn parse(text: &str) -> Option<CreditDebit> {
        match text {
            "CRDT" => Some(CreditDebit::Credit),
            "DBIT" => Some(CreditDebit::Debit),
            _ => None,
        }
    }
}

/// STET transaction status; the bank uses BOOK and OTHR (not booked yet), never PDNG.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransactionStatus {
    Book,
    Othr,
}

impl TransactionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TransactionStatus::Book => "BOOK",
            TransactionStatus::Othr => "OTHR",
        }
    }
    pub fn parse(text: &str) -> Option<TransactionStatus> {
        match text {
            "BOOK" => Some(TransactionStatus::Book),
            "OTHR" => Some(TransactionStatus::Othr),
            _ => None,
        }
    }
}

/// ISO 20022 bank transaction code (STET 1.4.2 `bankTransactionCode`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BankTransactionCode {
    pub domain: String,
    pub family: String,
    pub sub_family: String,
    pub code: Option<String>,
    pub issuer: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transaction {
    /// Stable and unique within the account.
    pub id: String,
    /// The bank's reference, stable from OTHR to BOOK; absent on some operations.
    pub entry_reference: Option<String>,
    /// Always positive; the direction is `credit_debit`.
    pub amount: Amount,
    pub credit_debit: CreditDebit,
    pub status: TransactionStatus,
    pub transaction_date: Date,
    /// None while not booked (OTHR).
    pub booking_date: Option<Date>,
    pub value_date: Option<Date>,
    pub remittance: Vec<String>,
    pub bank_transaction_code: Option<BankTransactionCode>,
    /// The name of the party credited (the payee of a debit), when the bank knows it.
    pub creditor_name: Option<String>,
    /// The name of the party debited (the payer of a credit), when the bank knows it.
    pub debtor_name: Option<String>,
}

/// A half-open range of civil days `[from, to)`, on the transaction date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateWindow {
    pub from: Date,
    pub to: Date,
}

#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("the ledger is unavailable: {0}")]
    Unavailable(String),
    #[error("the ledger holds a value stetgate cannot read: {0}")]
    Corrupt(String),
}

/// What a core banking system must answer. Every call is scoped to one bank: one bank never sees
/// another's customers.
#[async_trait]
pub trait Ledger: Send + Sync + 'static {
    /// The PSU with this online-banking id, with their identity.
    async fn psu(&self, bank: BankCode, psu: &PsuId) -> Result<Option<Psu>, LedgerError>;

    /// The PSU's payment accounts at this bank, in the bank's order.
    async fn psu_accounts(&self, bank: BankCode, psu: &PsuId) -> Result<Vec<HeldAccount>, LedgerError>;

    /// Booked balance and pending debits of several accounts, as of `today`, in one call (GET
    /// /accounts shows the balance of every consented account): the accounts of `bank` among
    /// `ids` that exist, with theirs.
    async fn balances(
        &self,
        bank: BankCode,
        ids: &[ResourceId],
        today: Date,
    ) -> Result<Vec<(ResourceId, Balances)>, LedgerError>;

    /// The PSU's payment accounts, each with its balances as of `today` (GET /accounts, balances
    /// and funds confirmation need both; a ledger may answer them in one round trip). An account
    /// that is not open may come without.
    async fn psu_accounts_with_balances(
        &self,
        bank: BankCode,
        psu: &PsuId,
        today: Date,
    ) -> Result<Vec<(HeldAccount, Option<Balances>)>, LedgerError> {
        let held = self.psu_accounts(bank, psu).await?;
        // Only the accounts the interface may show (open ones) are worth a balance.
        let ids: Vec<ResourceId> =
            held.iter().filter(|h| h.is_eligible()).map(|h| h.account.resource_id.clone()).collect();
        let mut balances: std::collections::HashMap<ResourceId, Balances> =
            self.balances(bank, &ids, today).await?.into_iter().collect();
        Ok(held
            .into_iter()
            .map(|h| {
                let b = balances.remove(&h.account.resource_id);
                (h, b)
            })
            .collect())
    }

    /// The balances of one account.
    async fn balances_of(&self, bank: BankCode, id: &ResourceId, today: Date) -> Result<Option<Balances>, LedgerError> {
        Ok(self.balances(bank, std::slice::from_ref(id), today).await?.into_iter().next().map(|(_, b)| b))
    }

    /// Transactions whose transaction date is in the window, newest first.
    async fn transactions(
        &self,
        bank: BankCode,
        id: &ResourceId,
        window: DateWindow,
    ) -> Result<Vec<Transaction>, LedgerError>;

    /// The authorised overdraft (a positive amount; zero when none).
    async fn overdraft(&self, bank: BankCode, id: &ResourceId) -> Result<Option<Amount>, LedgerError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e_mail_addresses_a_gateway_can_send_to() {
        for good in ["marie.durand@example.fr", "m+psd2@mail.banque-populaire.fr", "élise@exemple.fr"] {
            assert!(is_email_address(good), "{good}");
        }
        for bad in [
            "",
            "marie",
            "@example.fr",
            "marie@",
            "marie@fr",
            "a@b..fr",
            "a@-b.fr",
            "a b@c.fr",
            "x@a.fr;y@b.fr",
            "x,y@a.fr",
            "<x>@a.fr",
        ] {
            assert!(!is_email_address(bad), "{bad}");
        }
    }

    #[test]
    fn party_names_are_trimmed_blank_is_none_and_long_is_refused() {
        assert_eq!(party_name(Some("  BOULANGERIE  ".into())), Ok(Some("BOULANGERIE".into())));
        assert_eq!(party_name(Some("   ".into())), Ok(None));
        assert_eq!(party_name(None), Ok(None));
        assert!(party_name(Some("É".repeat(141))).unwrap_err().contains("140"));
        assert_eq!(party_name(Some("É".repeat(140))).map(|n| n.map(|n| n.chars().count())), Ok(Some(140)));
    }
}
