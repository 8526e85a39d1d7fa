//! The mixed-consent model, as the bank publishes it: a TPP first sees every eligible account of
//! the PSU without resource id, links or balances; once it sends `PUT /consents`, each account it
//! was granted something on gains its resource id and the links of what was granted. Each consent
//! replaces the previous one; a consent granting nothing revokes everything.

use crate::ledger::HeldAccount;
use std::collections::BTreeSet;
use stet::ais::{Access, AccountIdentification};
use stet::{Iban, ResourceId};

/// What a consent grants on an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum AccessKind {
    Balances,
    Transactions,
    Overdrafts,
}

impl AccessKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AccessKind::Balances => "balances",
            AccessKind::Transactions => "transactions",
            AccessKind::Overdrafts => "overdrafts",
        }
    }

    pub fn parse(text: &str) -> Option<AccessKind> {
        [AccessKind::Balances, AccessKind::Transactions, AccessKind::Overdrafts]
            .into_iter()
            .find(|k| k.as_str() == text)
    }
}

/// A TPP's consent for one PSU at one bank.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AisConsent {
    pub balances: BTreeSet<ResourceId>,
    pub transactions: BTreeSet<ResourceId>,
    pub overdrafts: BTreeSet<ResourceId>,
    pub psu_identity: bool,
}

impl AisConsent {
    pub fn is_empty(&self) -> bool {
        self.balances.is_empty() && self.transactions.is_empty() && self.overdrafts.is_empty() && !self.psu_identity
    }

    pub fn grants(&self) -> [(AccessKind, &BTreeSet<ResourceId>); 3] {
        [
            (AccessKind::Balances, &self.balances),
            (AccessKind::Transactions, &self.transactions),
            (AccessKind::Overdrafts, &self.overdrafts),
        ]
    }

    pub fn set_mut(&mut self, kind: AccessKind) -> &mut BTreeSet<ResourceId> {
        match kind {
            AccessKind::Balances => &mut self.balances,
            AccessKind::Transactions => &mut self.transactions,
            AccessKind::Overdrafts => &mut self.overdrafts,
        }
    }

    pub fn allows(&self, kind: AccessKind, account: &ResourceId) -> bool {
        self.grants().iter().any(|(k, set)| *k == kind && set.contains(account))
    }

    /// Whether the account was granted anything (it then shows its resource id and links).
    pub fn touches(&self, account: &ResourceId) -> bool {
        self.grants().iter().any(|(_, set)| set.contains(account))
    }
}

/// Why a consent body is refused (400, naming the culprit; the previous consent stays).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConsentError {
    #[error("{field}: {value:?} is not a valid IBAN")]
    MalformedIban { field: &'static str, value: String },
    #[error("{field}: {value} is not an account of this PSU at this bank")]
    NotThePsus { field: &'static str, value: String },
    #[error("{field}: an account is referenced by neither iban nor other {{identification, schemeName: BANK}}")]
    NoReference { field: &'static str },
}

/// Turns the body of `PUT /consents` into a consent on the PSU's accounts. `overdrafts` counts in
/// v1.6.2 only; `trustedBeneficiaries` and `owners` are accepted and ignored (not offered by the bank).
pub fn from_access(
    access: &Access,
    accounts: &[HeldAccount],
    with_overdrafts: bool,
) -> Result<AisConsent, ConsentError> {
    let resolve = |field: &'static str, reference: &AccountIdentification| -> Result<ResourceId, ConsentError> {
        if let Some(iban) = &reference.iban {
            let iban = Iban::parse(iban).map_err(|_| ConsentError::MalformedIban { field, value: iban.clone() })?;
            return accounts
                .iter()
                .find(|h| h.account.iban == iban)
                .map(|h| h.account.resource_id.clone())
                .ok_or_else(|| ConsentError::NotThePsus { field, value: iban.to_string() });
        }
        if let Some(other) = &reference.other {
            return accounts
                .iter()
                .find(|h| {
                    h.account.resource_id.as_str() == other.identification
                        && other.scheme_name.eq_ignore_ascii_case("BANK")
                })
                .map(|h| h.account.resource_id.clone())
                .ok_or_else(|| ConsentError::NotThePsus { field, value: other.identification.clone() });
        }
        Err(ConsentError::NoReference { field })
    };
    let mut consent = AisConsent { psu_identity: access.psu_identity, ..AisConsent::default() };
    for reference in &access.balances {
        consent.balances.insert(resolve("balances", reference)?);
    }
    for reference in &access.transactions {
        consent.transactions.insert(resolve("transactions", reference)?);
    }
    if with_overdrafts {
        for reference in &access.overdrafts {
            consent.overdrafts.insert(resolve("overdrafts", reference)?);
        }
    }
    Ok(consent)
}
