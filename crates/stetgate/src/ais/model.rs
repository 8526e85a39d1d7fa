//! Account information's persisted vocabulary: what a consent grants. A leaf module (the store
//! keeps consents in these terms).

use std::collections::BTreeSet;
use stet::ResourceId;

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

/// Why account information refuses a request the TPP was otherwise allowed to make. `edge/error.rs`
/// maps each to its status in one match.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AisRefusal {
    /// 404: the path names an account this PSU does not hold (or no account at all).
    #[error("{0} is not one of this PSU's accounts")]
    UnknownAccount(String),
    /// 403: the consent does not cover this data on this account (or the PSU's identity).
    #[error("the consent does not grant {0} on this account: PUT /consents with the PSU's agreement")]
    NotGranted(&'static str),
    /// 429: the regulatory four calls a day without the PSU connected are used up.
    #[error("more than 4 calls today without the PSU connected (no PSU-IP-Address); retry after {retry_after_secs} s")]
    QuotaExceeded { retry_after_secs: i64 },
}
