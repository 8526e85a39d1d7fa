//! Funds confirmation (STET `POST /funds-confirmations`, `PaymentCoverageRequestResource` and
//! `HalPaymentCoverageReport`): the request as the bank echoes it back, and its answer.

use crate::ais::AccountIdentification;
use crate::{Amount, Links};
use serde::{Deserialize, Serialize};

/// The request, as validated by the bank and echoed in its answer (amounts as strings, as the
/// bank emits them; nothing the request carried beyond these fields).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaymentCoverageRequest {
    pub payment_coverage_request_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payee: Option<String>,
    pub instructed_amount: Amount,
    pub account_id: AccountIdentification,
}

/// The request as a CBPII sends it from 1.4.2 on, where the amount may also be a JSON number (the
/// bank reads both; 1.4.0.47 takes [`PaymentCoverageRequest`]'s string form only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaymentCoverageRequestResource {
    pub payment_coverage_request_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payee: Option<String>,
    pub instructed_amount: crate::pis::PaymentAmount,
    pub account_id: AccountIdentification,
}

/// The answer: whether the account covers the amount now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct HalPaymentCoverageReport {
    pub request: PaymentCoverageRequest,
    pub result: bool,
    #[serde(rename = "_links")]
    pub links: Links,
}
