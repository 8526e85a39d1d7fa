//! The fallback's record of uses, as the store keeps it. A leaf module.

use jiff::Timestamp;
use stet::{BankCode, OrgId};

/// One use of the fallback, for the record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FallbackEvent {
    pub at: Timestamp,
    pub bank: BankCode,
    pub client_id: Option<OrgId>,
    pub jti: Option<String>,
    /// `token` (the TPP asked), `login` (the PSU arrived with a JWT), `sign-in` (the PSU
    /// authenticated).
    pub event: String,
    /// `accepted` or `refused`.
    pub outcome: String,
    pub detail: String,
}
