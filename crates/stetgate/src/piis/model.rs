//! Funds confirmation's vocabulary: the bank's refusals, each with the reason code the bank
//! publishes. A leaf module (`edge/error.rs` maps each refusal to its status and code).

use stet::Currency;

/// Why the bank does not answer a funds confirmation with a result.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FundsRefusal {
    /// `FF01`: the body is not the STET `PaymentCoverageRequestResource`.
    #[error("{0}")]
    Format(String),
    /// `AC01`: the account reference is malformed or names no account of this PSU at this bank.
    #[error("{0}")]
    UnknownAccount(String),
    /// `AC04`.
    #[error("the account is closed")]
    Closed,
    /// `AC06`.
    #[error("the account is blocked")]
    Blocked,
    /// `NGAC`: an account the PSU did not choose for this TPP during authorization.
    #[error("the PSU did not choose this account for you during authorization")]
    NotChosen,
    /// `FF01`: the amount's currency is not the account's.
    #[error("instructedAmount.currency {asked} is not the account's currency ({held})")]
    Currency { asked: Currency, held: Currency },
    /// `TMRQ`: above the bank's per-TPP limit (`[[funds_rate_limits]]`).
    #[error("more than {per_minute} funds confirmations this minute")]
    OverLimit { per_minute: i64 },
}

impl FundsRefusal {
    /// The bank's reason code, sent in the `ErrorModel`'s `message`.
    pub fn code(&self) -> &'static str {
        match self {
            FundsRefusal::Format(_) | FundsRefusal::Currency { .. } => "FF01",
            FundsRefusal::UnknownAccount(_) => "AC01",
            FundsRefusal::Closed => "AC04",
            FundsRefusal::Blocked => "AC06",
            FundsRefusal::NotChosen => "NGAC",
            FundsRefusal::OverLimit { .. } => "TMRQ",
        }
    }
}
