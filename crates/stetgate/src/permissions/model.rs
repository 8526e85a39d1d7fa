//! The permission dashboard's vocabulary: the access a TPP holds for a PSU, by role, and the
//! record of withdrawals. A leaf module (the store keeps withdrawals in these terms).

use crate::oauth::model::{Scope, Scopes};
use jiff::Timestamp;
use stet::OrgId;

/// What a TPP may do for the PSU, as the PSU withdraws it: one of its PSD2 roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum AccessRole {
    /// Account information (scope `aisp`).
    Aisp,
    /// Funds confirmation (scopes `cbpii` and `piisp`).
    Cbpii,
    /// Payment initiation (scope `pisp`: the PSU's approvals).
    Pisp,
}

impl AccessRole {
    pub const ALL: [AccessRole; 3] = [AccessRole::Aisp, AccessRole::Cbpii, AccessRole::Pisp];

    pub fn as_str(self) -> &'static str {
        match self {
            AccessRole::Aisp => "aisp",
            AccessRole::Cbpii => "cbpii",
            AccessRole::Pisp => "pisp",
        }
    }

    pub fn parse(text: &str) -> Option<AccessRole> {
        AccessRole::ALL.into_iter().find(|r| r.as_str() == text)
    }

    /// Whether a token of `scopes` gives this access.
    pub fn covers(self, scopes: &Scopes) -> bool {
        scopes.iter().any(|s| AccessRole::of(s) == self)
    }

    pub fn of(scope: Scope) -> AccessRole {
        match scope {
            Scope::Aisp => AccessRole::Aisp,
            Scope::Cbpii | Scope::Piisp => AccessRole::Cbpii,
            Scope::Pisp => AccessRole::Pisp,
        }
    }
}

/// Who withdrew an access.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WithdrawnBy {
    /// The PSU, on the dashboard.
    Psu,
    /// The bank's support staff, with `stetgate psu access revoke`.
    Support,
}

impl WithdrawnBy {
    pub fn as_str(self) -> &'static str {
        match self {
            WithdrawnBy::Psu => "psu",
            WithdrawnBy::Support => "support",
        }
    }

    pub fn parse(text: &str) -> Option<WithdrawnBy> {
        match text {
            "psu" => Some(WithdrawnBy::Psu),
            "support" => Some(WithdrawnBy::Support),
            _ => None,
        }
    }
}

/// One withdrawal, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Withdrawal {
    pub client_id: OrgId,
    pub role: AccessRole,
    pub by: WithdrawnBy,
    pub at: Timestamp,
    /// Token pairs revoked by it.
    pub pairs_revoked: i64,
}

/// What one withdrawal took away: the roles (the one asked for, and any other a revoked token
/// pair also served) and the token pairs revoked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Withdrawn {
    pub roles: Vec<AccessRole>,
    pub pairs_revoked: i64,
}

/// A live token pair of the PSU, with when it was issued and last used.
#[derive(Debug, Clone)]
pub struct LivePair {
    pub pair: crate::oauth::model::TokenPair,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
}
