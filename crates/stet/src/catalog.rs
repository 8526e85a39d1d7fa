//! The catalogue of STET resource operations the bank serves, per version: method, path, scope,
//! bodies and the reason codes each answers with.
//!
//! It is the one list both the server's route table (`stetgate::routes`) and the OpenAPI documents
//! ([`crate::openapi`]) are made from, so what is described is what is routed. The reason codes
//! are the ones Groupe BPCE documents (`shared/bank/PORTAL.md`) and STET's status reasons
//! (`shared/stet/PISP.md`).

use crate::ApiVersion;
use crate::{ais, funds, pis};
use utoipa::ToSchema;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::Schema;

/// The HTTP methods STET resources use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Put,
    Post,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Put => "PUT",
            Method::Post => "POST",
        }
    }
}

/// Every STET resource operation stetgate implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    Accounts,
    Balances,
    Transactions,
    TransactionDetails,
    Overdrafts,
    Consents,
    TrustedBeneficiaries,
    EndUserIdentity,
    FundsConfirmation,
    CreatePaymentRequest,
    ReadPaymentRequest,
    ModifyPaymentRequest,
    ConfirmPaymentRequest,
    OConfirmPaymentRequest,
    PaymentRequestTransactions,
}

/// Which family of PSD2 service an operation belongs to (its role and scope follow).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    AccountInformation,
    FundsConfirmation,
    PaymentInitiation,
}

impl Service {
    /// The OAuth2 scope a token needs for this service on `version`.
    pub fn scope(self, version: ApiVersion) -> &'static str {
        match self {
            Service::AccountInformation => "aisp",
            Service::FundsConfirmation if version == ApiVersion::V1 => "piisp",
            Service::FundsConfirmation => "cbpii",
            Service::PaymentInitiation => "pisp",
        }
    }

    /// The PSD2 role the QWAC must carry (ETSI TS 119 495).
    pub fn role(self) -> &'static str {
        match self {
            Service::AccountInformation => "PSP_AI",
            Service::FundsConfirmation => "PSP_IC",
            Service::PaymentInitiation => "PSP_PI",
        }
    }
}

/// A schema by name, with the named schemas it refers to.
pub struct NamedSchema {
    pub name: String,
    pub schema: RefOr<Schema>,
    pub dependencies: Vec<(String, RefOr<Schema>)>,
}

/// The schema of a wire type, as `utoipa` derives it from the type itself.
pub fn schema_of<T: ToSchema>() -> NamedSchema {
    let mut dependencies = Vec::new();
    T::schemas(&mut dependencies);
    NamedSchema { name: T::name().into_owned(), schema: T::schema(), dependencies }
}

/// A body: a wire type's schema.
pub type Body = fn() -> NamedSchema;

/// One operation as served on one version.
pub struct Endpoint {
    pub operation: Operation,
    pub method: Method,
    /// Relative to the version's base path, with `{parameter}` templates.
    pub path: &'static str,
    /// STET's `operationId` (the bank's own for `o-confirmation`).
    pub operation_id: &'static str,
    pub summary: &'static str,
    pub service: Service,
    pub request: Option<Body>,
    /// The success status and its body (`None`: no body).
    pub success: (u16, Option<Body>),
    /// Also answers 204 No Content when there is nothing to list.
    pub may_be_empty: bool,
    /// Query parameters (name, description).
    pub query: &'static [(&'static str, &'static str)],
    /// Error statuses specific to this operation, with the reason codes sent in `message`.
    pub errors: &'static [(u16, &'static [&'static str])],
}

const PAYMENT_ERRORS: &[(u16, &[&str])] = &[(400, &["FF01", "AC01", "RR01", "RR03", "CH03", "AM18"]), (403, &[])];
/// Reading a payment request (or a standing order's executions).
const READ_ERRORS: &[(u16, &[&str])] = &[(403, &[]), (404, &[])];
/// Cancelling or confirming one: a body in the wrong form, or a state that does not allow it.
const CHANGE_ERRORS: &[(u16, &[&str])] = &[(400, &["FF01"]), (403, &[]), (404, &[]), (409, &[])];

/// The operations served on `version`, in the order the STET definitions list them.
pub fn endpoints(version: ApiVersion) -> Vec<Endpoint> {
    use ApiVersion::*;
    let all = [
        Operation::Accounts,
        Operation::Balances,
        Operation::Transactions,
        Operation::TransactionDetails,
        Operation::Overdrafts,
        Operation::Consents,
        Operation::EndUserIdentity,
        Operation::TrustedBeneficiaries,
        Operation::FundsConfirmation,
        Operation::CreatePaymentRequest,
        Operation::ReadPaymentRequest,
        Operation::ModifyPaymentRequest,
        Operation::ConfirmPaymentRequest,
        Operation::OConfirmPaymentRequest,
        Operation::PaymentRequestTransactions,
    ];
    all.into_iter()
        .filter(|op| match op {
            // The bank's v1 offers neither modification nor confirmation of a payment request.
            Operation::ModifyPaymentRequest | Operation::ConfirmPaymentRequest => version != V1,
            Operation::EndUserIdentity => version >= V1_4_2,
            // BPCE's own 1.4.2 confirmation by the PSU's one-time code.
            Operation::OConfirmPaymentRequest => version == V1_4_2,
            Operation::TransactionDetails | Operation::Overdrafts | Operation::PaymentRequestTransactions => {
                version >= V1_6_2
            }
            _ => true,
        })
        .map(|op| match op {
            // From 1.4.2 on the amount may also be a number.
            Operation::FundsConfirmation if version >= V1_4_2 => {
                Endpoint { request: Some(schema_of::<funds::PaymentCoverageRequestResource>), ..op.endpoint() }
            }
            _ => op.endpoint(),
        })
        .collect()
}

impl Operation {
    /// How this operation is served (the versions differ only in which operations they have).
    pub fn endpoint(self) -> Endpoint {
        match self {
            Operation::Accounts
            | Operation::Balances
            | Operation::Transactions
            | Operation::TransactionDetails
            | Operation::Overdrafts
            | Operation::Consents
            | Operation::TrustedBeneficiaries
            | Operation::EndUserIdentity => self.account_information(),
            Operation::FundsConfirmation => Endpoint {
                operation: self,
                method: Method::Post,
                path: "/funds-confirmations",
                operation_id: "fundsConfirmationsPost",
                summary: "Whether an account covers an amount now (instant balance; nothing is blocked)",
                service: Service::FundsConfirmation,
                request: Some(schema_of::<funds::PaymentCoverageRequest>),
                success: (200, Some(schema_of::<funds::HalPaymentCoverageReport>)),
                may_be_empty: false,
                query: &[],
                errors: &[(400, &["FF01", "AC01", "AC04", "AC06"]), (403, &["BADS", "NGAC"]), (429, &["TMRQ"])],
            },
            _ => self.payment_initiation(),
        }
    }

    fn account_information(self) -> Endpoint {
        let get = |path, operation_id, summary, body: Body| Endpoint {
            operation: self,
            method: Method::Get,
            path,
            operation_id,
            summary,
            service: Service::AccountInformation,
            request: None,
            success: (200, Some(body)),
            may_be_empty: false,
            query: &[],
            errors: &[(403, &["insufficient_scope"]), (404, &[]), (429, &[])],
        };
        match self {
            Operation::Accounts => Endpoint {
                may_be_empty: true,
                ..get(
                    "/accounts",
                    "accountsGet",
                    "The PSU's accounts (links once consented)",
                    schema_of::<ais::HalAccounts>,
                )
            },
            Operation::Balances => get(
                "/accounts/{accountResourceId}/balances",
                "accountsBalancesGet",
                "The accounting balance (CLBD) of a consented account",
                schema_of::<ais::HalBalances>,
            ),
            Operation::Transactions => Endpoint {
                may_be_empty: true,
                query: TRANSACTION_QUERY,
                errors: &[(400, &[]), (403, &["insufficient_scope"]), (404, &[]), (429, &[])],
                ..get(
                    "/accounts/{accountResourceId}/transactions",
                    "accountsTransactionsGet",
                    "Operations of a consented account (62 or 90 days, at most 500)",
                    schema_of::<ais::HalTransactions>,
                )
            },
            Operation::TransactionDetails => get(
                "/accounts/{accountResourceId}/transactions/{transactionResourceId}/details",
                "accountsTransactionDetailsGet",
                "One operation in detail",
                schema_of::<ais::HalTransactionDetails>,
            ),
            Operation::Overdrafts => get(
                "/accounts/{accountResourceId}/overdrafts",
                "accountsOverdraftsGet",
                "The authorised overdraft of a consented account",
                schema_of::<ais::HalOverdrafts>,
            ),
            Operation::EndUserIdentity => get(
                "/end-user-identity",
                "EndUserIdentityGet",
                "The connected PSU's identity (needs psuIdentity in the consent)",
                schema_of::<ais::HalEndUserIdentity>,
            ),
            Operation::Consents => Endpoint {
                method: Method::Put,
                request: Some(schema_of::<ais::Access>),
                success: (201, None),
                errors: &[(400, &[]), (403, &["insufficient_scope"]), (429, &[])],
                ..get(
                    "/consents",
                    "consentsPut",
                    "Record which accounts and data the PSU shares",
                    schema_of::<ais::Access>,
                )
            },
            _ => trusted_beneficiaries(),
        }
    }

    fn payment_initiation(self) -> Endpoint {
        let request = "/payment-requests/{paymentRequestResourceId}";
        let base = Endpoint {
            operation: self,
            method: Method::Post,
            path: "/payment-requests",
            operation_id: "paymentRequestsPost",
            summary: "Initiate a payment: the PSU approves it on the bank's pages (REDIRECT)",
            service: Service::PaymentInitiation,
            request: Some(schema_of::<pis::PaymentRequestResource>),
            success: (201, Some(schema_of::<pis::PaymentRequestCreated>)),
            may_be_empty: false,
            query: &[],
            errors: PAYMENT_ERRORS,
        };
        match self {
            Operation::ReadPaymentRequest => Endpoint {
                method: Method::Get,
                path: request,
                operation_id: "paymentRequestsGet",
                summary: "A payment request with its statuses",
                request: None,
                success: (200, Some(schema_of::<pis::HalPaymentRequest>)),
                errors: READ_ERRORS,
                ..base
            },
            Operation::ModifyPaymentRequest => Endpoint {
                method: Method::Put,
                path: request,
                operation_id: "paymentRequestPut",
                summary: "Cancel a payment request (the only change the bank allows)",
                success: (200, Some(schema_of::<pis::PaymentRequestCreated>)),
                errors: CHANGE_ERRORS,
                ..base
            },
            Operation::ConfirmPaymentRequest => Endpoint {
                path: "/payment-requests/{paymentRequestResourceId}/confirmation",
                operation_id: "paymentRequestConfirmationPost",
                summary: "Confirm an approved payment request with the PSU's authentication factor",
                request: Some(schema_of::<pis::ConfirmationResource>),
                success: (200, Some(schema_of::<pis::HalPaymentRequest>)),
                errors: CHANGE_ERRORS,
                ..base
            },
            Operation::OConfirmPaymentRequest => Endpoint {
                path: "/payment-requests/{paymentRequestResourceId}/o-confirmation",
                operation_id: "paymentRequestOConfirmationPost",
                summary: "The bank's 1.4.2 confirmation, same body and answer as /confirmation",
                request: Some(schema_of::<pis::ConfirmationResource>),
                success: (200, Some(schema_of::<pis::HalPaymentRequest>)),
                errors: CHANGE_ERRORS,
                ..base
            },
            Operation::PaymentRequestTransactions => Endpoint {
                method: Method::Get,
                path: "/payment-requests/{paymentRequestResourceId}/transactions",
                operation_id: "paymentRequestTransactionsGet",
                summary: "The executions of a standing order",
                request: None,
                success: (200, Some(schema_of::<pis::HalCreditTransferTransactions>)),
                errors: READ_ERRORS,
                ..base
            },
            _ => base,
        }
    }
}

/// Not supported by the bank: always 204.
fn trusted_beneficiaries() -> Endpoint {
    Endpoint {
        operation: Operation::TrustedBeneficiaries,
        method: Method::Get,
        path: "/trusted-beneficiaries",
        operation_id: "trustedBeneficiariesGet",
        summary: "Trusted beneficiaries: not supported by the bank, always empty",
        service: Service::AccountInformation,
        request: None,
        success: (204, None),
        may_be_empty: false,
        query: &[],
        errors: &[(403, &["insufficient_scope"])],
    }
}

const TRANSACTION_QUERY: &[(&str, &str)] = &[
    ("dateFrom", "Included; ISO 8601 (YYYY-MM-DD, or a date-time with or without offset). Beyond the depth: 400"),
    ("dateTo", "Excluded; ISO 8601 like dateFrom"),
    ("entryReferenceFrom", "Accepted (at most 40 characters) and not used: the bank answers by date"),
    ("entryReferenceTo", "Accepted (at most 40 characters) and not used"),
    ("afterEntryReference", "Accepted (at most 40 characters) and not used"),
];

/// The reason codes the bank sends in `ErrorModel.message`, with their ISO 20022 / STET names.
pub const REASON_CODES: &[(&str, &str)] = &[
    ("FF01", "InvalidFileFormat: the body does not follow the STET definition (the error names the field)"),
    ("AC01", "IncorrectAccountNumber: unknown account, or not one of the PSU's"),
    ("AC04", "ClosedAccountNumber"),
    ("AC06", "BlockedAccount"),
    ("NGAC", "NotGrantedAccount: the PSU did not choose this account for funds confirmation"),
    ("BADS", "BadScope: a token of another scope on funds confirmation"),
    ("TMRQ", "TooManyRequests"),
    ("RR01", "MissingDebtorAccountOrIdentification"),
    ("RR03", "MissingCreditorNameOrAddress"),
    ("CH03", "RequestedExecutionDateOrRequestedCollectionDateTooFarInFuture"),
    ("AM18", "InvalidNumberOfTransactions: more instructions than the bank accepts"),
    ("insufficient_scope", "RFC 6750: the token's scope does not cover this resource"),
    ("invalid_token", "RFC 6750: the access token is unknown, expired or revoked: refresh it"),
];

/// What a reason code means, for documentation.
pub fn reason_meaning(code: &str) -> Option<&'static str> {
    REASON_CODES.iter().find(|(c, _)| *c == code).map(|(_, meaning)| *meaning)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_differ_as_the_bank_publishes() {
        let paths = |v| endpoints(v).iter().map(|e| (e.method, e.path)).collect::<Vec<_>>();
        let v1 = paths(ApiVersion::V1);
        assert!(!v1.contains(&(Method::Put, "/payment-requests/{paymentRequestResourceId}")));
        assert!(!v1.iter().any(|(_, p)| *p == "/end-user-identity"));
        assert!(paths(ApiVersion::V1_4_2).iter().any(|(_, p)| p.ends_with("/o-confirmation")));
        assert!(!paths(ApiVersion::V1_6_2).iter().any(|(_, p)| p.ends_with("/o-confirmation")));
        assert!(paths(ApiVersion::V1_6_2).iter().any(|(_, p)| p.ends_with("/overdrafts")));
    }

    #[test]
    fn every_listed_reason_code_is_explained() {
        for version in ApiVersion::ALL {
            for endpoint in endpoints(version) {
                for (_, codes) in endpoint.errors {
                    for code in *codes {
                        assert!(reason_meaning(code).is_some(), "{code} of {}", endpoint.operation_id);
                    }
                }
            }
        }
    }
}
