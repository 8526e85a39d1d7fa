//! The PSU's journey through the bank's pages, as the store keeps it. A leaf module.

use crate::ledger::PsuId;
use jiff::Timestamp;
use stet::{BankCode, OrgId};

/// What a journey is for; each purpose keeps its own data in the journey's `context`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// An OAuth authorization (`/stet/psd2/oauth/authorize`).
    Authorize,
    /// The fallback's online banking (`/online-banking/`).
    Fallback,
    /// A payment request's approval (`/stet/psd2/pisp/approve`).
    Payment,
    /// The PSU's permission dashboard (`/psu/access`).
    Dashboard,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Authorize => "authorize",
            Purpose::Fallback => "fallback",
            Purpose::Payment => "payment",
            Purpose::Dashboard => "dashboard",
        }
    }

    pub fn parse(text: &str) -> Option<Purpose> {
        [Purpose::Authorize, Purpose::Fallback, Purpose::Payment, Purpose::Dashboard]
            .into_iter()
            .find(|p| p.as_str() == text)
    }
}

/// The client of a journey no TPP asked for (the PSU's permission dashboard): the bank itself,
/// under an organization identifier no NCA issues.
pub fn bank_itself() -> OrgId {
    OrgId::parse("PSDXX-BANK-0").unwrap_or_else(|_| unreachable!("a literal organization identifier"))
}

/// Where a journey stands. `Identify -> Authenticate -> [Choose] -> Approved`; `Refused` and
/// `Expired` end it without approval; `Closed` ends an approved one (the PSU signed out).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Identify,
    Authenticate,
    Choose,
    Approved,
    Refused,
    Expired,
    Closed,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Identify => "identify",
            Stage::Authenticate => "authenticate",
            Stage::Choose => "choose",
            Stage::Approved => "approved",
            Stage::Refused => "refused",
            Stage::Expired => "expired",
            Stage::Closed => "closed",
        }
    }

    pub fn parse(text: &str) -> Option<Stage> {
        [
            Stage::Identify,
            Stage::Authenticate,
            Stage::Choose,
            Stage::Approved,
            Stage::Refused,
            Stage::Expired,
            Stage::Closed,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }

    /// Whether nothing more can happen to the journey.
    pub fn is_final(self) -> bool {
        matches!(self, Stage::Refused | Stage::Expired | Stage::Closed)
    }
}

/// How the PSU proves it is them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScaMethod {
    /// A one-time code sent by SMS.
    Sms,
    /// A one-time code sent by e-mail.
    Email,
    /// The bank's identity provider, on its own pages (the PSU's browser was sent there).
    Redirect,
}

impl ScaMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            ScaMethod::Sms => "sms",
            ScaMethod::Email => "email",
            ScaMethod::Redirect => "redirect",
        }
    }

    pub fn parse(text: &str) -> Option<ScaMethod> {
        [ScaMethod::Sms, ScaMethod::Email, ScaMethod::Redirect].into_iter().find(|m| m.as_str() == text)
    }
}

/// A strong-authentication challenge in progress.
#[derive(Clone, PartialEq, Eq)]
pub struct Challenge {
    pub method: ScaMethod,
    /// Where the challenge went, masked (`+33 6 •• •• •• 01`); kept for the record, not shown, so
    /// that a known and an unknown id get the same page.
    pub masked_destination: Option<String>,
    pub expires_at: Timestamp,
    /// What the authenticator needs to verify the answer (e.g. the hash of a code it drew);
    /// opaque to everyone else.
    pub reference: String,
}

impl std::fmt::Debug for Challenge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Challenge")
            .field("method", &self.method)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// A PSU's journey through the bank's pages, bound to their browser by a cookie whose secret's
/// hash is `key`.
#[derive(Debug, Clone)]
pub struct Journey {
    pub key: crate::secret::SecretHash,
    pub purpose: Purpose,
    pub bank: BankCode,
    /// The TPP the journey is for.
    pub client_id: OrgId,
    pub stage: Stage,
    /// The online-banking id the PSU typed, and whether the bank knows it.
    pub psu: Option<PsuId>,
    pub psu_known: bool,
    pub failures: i64,
    pub challenge: Option<Challenge>,
    /// When the PSU's strong authentication succeeded.
    pub sca_at: Option<Timestamp>,
    pub created_at: Timestamp,
    /// After this instant, nothing but `Expired`.
    pub expires_at: Timestamp,
    /// The purpose's own data (e.g. the authorization request), serialized by the purpose.
    pub context: String,
    /// Bumped at every change: a change is made only on the version it was decided on.
    pub version: i64,
}
