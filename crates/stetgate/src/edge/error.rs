//! The one mapping from errors to HTTP: [`ApiError`] -> status, headers and an [`ErrorBody`].
//!
//! Handlers and extractors return `ApiError`; the `finish` layer turns every `ErrorBody` (and every
//! error response axum or tower produced on its own) into the STET `ErrorModel`, adding the path and
//! the timestamp. Reason codes the bank uses (AC01, FF01, NGAC ...) go in `message`; otherwise
//! `message` is the HTTP reason phrase. `error` always explains, in plain words, what was wrong and
//! how to fix it. 5xx causes are logged, never sent.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use eidas::psd2::Role;
use stet::{BankCode, OrgId};

use crate::ais::model::AisRefusal;
use crate::piis::model::FundsRefusal;
use crate::pis::model::PaymentRefusal;

/// What a TPP that may not act is told, and how to fix it.
pub fn unusable_text(org: &OrgId, why: &crate::registry::model::Unusable) -> String {
    use crate::registry::model::Unusable;
    match why {
        Unusable::NotRegistered => {
            format!("{org} is not registered with this bank: register at POST /stet/psd2/oauth/register")
        }
        Unusable::Deactivated => {
            format!("the registration of {org} is deactivated: register again with PUT /stet/psd2/oauth/register/{org}")
        }
        Unusable::Suspended => format!("{org} is suspended by the bank: contact the bank"),
    }
}

fn roles_text(roles: &[Role]) -> String {
    if roles.is_empty() { "none".to_owned() } else { roles.iter().map(|r| r.name()).collect::<Vec<_>>().join(", ") }
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("bank code {0} is not served by this ASPSP")]
    UnknownBank(BankCode),
    #[error("no resource at this path")]
    NotFound,
    #[error("the X-Request-ID header is required on STET resources")]
    MissingRequestId,
    #[error("the X-Request-ID header must be sent once, with 1 to 70 visible ASCII characters")]
    InvalidRequestId,
    #[error("the Accept header allows neither application/hal+json nor application/json")]
    NotAcceptable,
    #[error("the request body is larger than {0} bytes")]
    PayloadTooLarge(usize),
    #[error("the request body could not be read: {0}")]
    UnreadableBody(String),
    #[error("a client certificate (QWAC) is required on this route: connect with mutual TLS")]
    NoClientCertificate,
    #[error("QWAC refused: {0}")]
    UntrustedCertificate(eidas::trust::TrustError),
    /// The certificate's revocation status could not be established and its trust anchor is
    /// hard-fail (`[revocation]`): 503, since the TPP can only retry.
    #[error("the revocation status of the {certificate} could not be established: {why}")]
    RevocationUnknown { certificate: &'static str, why: String },
    #[error("the QWAC's PSD2 roles ({}) do not include {needed}, which this route needs", roles_text(.held))]
    MissingRole { needed: Role, held: Vec<Role> },
    #[error("{}", unusable_text(.0, .1))]
    Unusable(OrgId, crate::registry::model::Unusable),
    #[error("signature: {0}")]
    Signature(String),
    #[error("an access token is required: send Authorization: Bearer <access token>")]
    MissingAccessToken,
    #[error("the access token is unknown, expired or revoked: refresh it or ask the PSU again")]
    InvalidAccessToken,
    #[error("the access token's scope ({granted}) does not include {}; its refresh token is revoked", .needed.as_str())]
    InsufficientScope { needed: crate::oauth::model::Scope, granted: String },
    #[error(
        "this access token stands for the TPP itself (client credentials): this resource needs a PSU's authorization"
    )]
    NoPsu,
    #[error("{0}")]
    BadRequest(String),
    /// Account information's refusals.
    #[error(transparent)]
    Ais(#[from] AisRefusal),
    /// Funds confirmation's refusals, with the bank's reason code (AC01, FF01, NGAC ...) in `message`.
    #[error(transparent)]
    Funds(#[from] FundsRefusal),
    /// Payment initiation's refusals, with the bank's reason code (FF01, AC01, RR01 ...) for a 400.
    #[error(transparent)]
    Payment(#[from] PaymentRefusal),
    /// 410: the API version in the path is past its sunset.
    #[error("{0}")]
    Retired(String),
    #[error("planned maintenance of the bank's interface; retry after {retry_after_secs} s")]
    Maintenance { retry_after_secs: i64 },
    /// An infrastructure failure (database, ledger): 503 with Retry-After and a generic text; the
    /// cause is logged once, with the request id, by the `finish` layer, and never sent.
    #[error("the service is temporarily unavailable; retry in a few seconds")]
    Unavailable(Cause),
    #[error("too many such requests are being answered; retry after {retry_after_secs} s")]
    Busy { retry_after_secs: i64 },
    #[error("too many connections are open (from your address, or in all); retry in a few seconds")]
    OverCapacity,
    /// The cause is logged with the request id; the client gets a generic message.
    #[error("internal error")]
    Internal(String),
}

/// The cause of a 5xx, for the log line the `finish` layer writes with the request id; never sent.
#[derive(Debug, Clone)]
pub struct InternalCause(pub String);

/// What made the service unavailable (a database error, a ledger error ...), for the log only.
#[derive(Debug, Clone)]
pub struct Cause(String);

impl ApiError {
    /// An infrastructure failure with this cause (logged, never sent).
    pub fn unavailable(cause: impl std::fmt::Display) -> ApiError {
        ApiError::Unavailable(Cause(cause.to_string()))
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        ApiError::store("store", e)
    }
}

impl ApiError {
    /// A store failure met while `doing` something (named in the logged cause, never sent): an
    /// outage is 503, a value the database holds that stetgate cannot read is a defect (500).
    pub fn store(doing: &str, e: crate::store::StoreError) -> ApiError {
        match e {
            crate::store::StoreError::Corrupt(what) => ApiError::Internal(format!("{doing}: corrupt value: {what}")),
            other => ApiError::unavailable(format!("{doing}: {other}")),
        }
    }
}

impl From<crate::ledger::LedgerError> for ApiError {
    fn from(e: crate::ledger::LedgerError) -> Self {
        match e {
            crate::ledger::LedgerError::Corrupt(what) => {
                ApiError::Internal(format!("corrupt value in the ledger: {what}"))
            }
            other => ApiError::unavailable(other),
        }
    }
}

/// What an error response carries until the `finish` layer renders it as an `ErrorModel`.
#[derive(Debug, Clone)]
pub struct ErrorBody {
    /// The bank's reason code, or the HTTP reason phrase.
    pub message: String,
    /// Plain words: what was wrong, how to fix it.
    pub error: String,
    /// The authentication approaches the bank offers, when a payment request offered none of them.
    pub approaches: Option<Vec<String>>,
}

impl ApiError {
    /// The one place a capability's refusal becomes an HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::UnknownBank(_) | ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::NoPsu => StatusCode::FORBIDDEN,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Ais(refusal) => match refusal {
                AisRefusal::UnknownAccount(_) => StatusCode::NOT_FOUND,
                AisRefusal::NotGranted(_) => StatusCode::FORBIDDEN,
                AisRefusal::QuotaExceeded { .. } => StatusCode::TOO_MANY_REQUESTS,
            },
            ApiError::Funds(refusal) => match refusal {
                FundsRefusal::Format(_)
                | FundsRefusal::Currency { .. }
                | FundsRefusal::UnknownAccount(_)
                | FundsRefusal::Closed
                | FundsRefusal::Blocked => StatusCode::BAD_REQUEST,
                FundsRefusal::NotChosen => StatusCode::FORBIDDEN,
                FundsRefusal::OverLimit { .. } => StatusCode::TOO_MANY_REQUESTS,
            },
            ApiError::Payment(refusal) => match refusal {
                PaymentRefusal::Format(_)
                | PaymentRefusal::Account(_)
                | PaymentRefusal::Debtor(_)
                | PaymentRefusal::Creditor(_)
                | PaymentRefusal::TooFar(_)
                | PaymentRefusal::TooMany(_)
                | PaymentRefusal::NoApproach
                | PaymentRefusal::BadConfirmation(_) => StatusCode::BAD_REQUEST,
                PaymentRefusal::Unknown(_) => StatusCode::NOT_FOUND,
                PaymentRefusal::Conflict(_) => StatusCode::CONFLICT,
                PaymentRefusal::Forbidden(_) => StatusCode::FORBIDDEN,
                PaymentRefusal::NotOnThisVersion(_) => StatusCode::METHOD_NOT_ALLOWED,
            },
            ApiError::Retired(_) => StatusCode::GONE,
            ApiError::MissingRequestId | ApiError::InvalidRequestId | ApiError::UnreadableBody(_) => {
                StatusCode::BAD_REQUEST
            }
            ApiError::NotAcceptable => StatusCode::NOT_ACCEPTABLE,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::MissingAccessToken
            | ApiError::InvalidAccessToken
            | ApiError::NoClientCertificate
            | ApiError::UntrustedCertificate(_)
            | ApiError::Unusable(..) => StatusCode::UNAUTHORIZED,
            ApiError::MissingRole { .. } | ApiError::InsufficientScope { .. } => StatusCode::FORBIDDEN,
            ApiError::Signature(_) => StatusCode::BAD_REQUEST,
            ApiError::Unavailable(_)
            | ApiError::Maintenance { .. }
            | ApiError::OverCapacity
            | ApiError::Busy { .. }
            | ApiError::RevocationUnknown { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The short code TPP software can match on, where the bank or RFC 6750 defines one.
    fn reason_code(&self) -> Option<&'static str> {
        match self {
            ApiError::InvalidAccessToken => Some("invalid_token"),
            // The bank's code for a token of another scope on funds confirmation; RFC 6750's elsewhere.
            ApiError::InsufficientScope { needed, .. } if needed.is_funds() => Some("BADS"),
            ApiError::InsufficientScope { .. } => Some("insufficient_scope"),
            ApiError::Funds(refusal) => Some(refusal.code()),
            ApiError::Payment(refusal) => refusal.code(),
            ApiError::Retired(_) => Some("Gone"),
            _ => None,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let (error, cause) = match &self {
            ApiError::Internal(cause) => (
                "an internal error occurred; retry later, and quote the X-Request-ID if it persists".to_owned(),
                Some(cause.clone()),
            ),
            ApiError::Unavailable(Cause(cause)) => (self.to_string(), Some(cause.clone())),
            other => (other.to_string(), None),
        };
        let message = self.reason_code().map(str::to_owned).unwrap_or_else(|| reason_phrase(status));
        let approaches = match &self {
            ApiError::Payment(PaymentRefusal::NoApproach) => Some(vec!["REDIRECT".to_owned()]),
            _ => None,
        };
        let mut response = (status, ErrorBody { message, error, approaches }).into_response();
        if let Some(cause) = cause {
            response.extensions_mut().insert(InternalCause(cause));
        }
        match self {
            ApiError::Ais(AisRefusal::QuotaExceeded { retry_after_secs })
            | ApiError::Maintenance { retry_after_secs }
            | ApiError::Busy { retry_after_secs } => {
                if let Ok(value) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                    response.headers_mut().insert(header::RETRY_AFTER, value);
                }
            }
            ApiError::MissingAccessToken => {
                response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            ApiError::InvalidAccessToken => {
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer error=\"invalid_token\""));
            }
            ApiError::InsufficientScope { .. } => {
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer error=\"insufficient_scope\""));
            }
            ApiError::Unavailable(_) | ApiError::RevocationUnknown { .. } => {
                response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER_UNAVAILABLE));
            }
            ApiError::OverCapacity => {
                response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
                response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            _ => {}
        }
        response
    }
}

impl IntoResponse for ErrorBody {
    fn into_response(self) -> Response {
        let mut response = Response::new(axum::body::Body::empty());
        response.extensions_mut().insert(self);
        response
    }
}

/// When a client may retry after an infrastructure failure (seconds).
pub const RETRY_AFTER_UNAVAILABLE: &str = "10";

/// The answer to every request of a connection over the listener's caps.
pub async fn over_capacity() -> ApiError {
    ApiError::OverCapacity
}

/// "Not Found", "Method Not Allowed" ...
pub fn reason_phrase(status: StatusCode) -> String {
    status.canonical_reason().unwrap_or("Error").to_owned()
}

/// An OAuth 2.0 error (RFC 6749 section 5.2, RFC 7591 section 3.2.2): the format of every error on
/// `/stet/psd2/oauth/*` endpoints the TPP's software calls.
#[derive(Debug, Clone)]
pub struct OAuthError {
    pub status: StatusCode,
    pub error: &'static str,
    pub description: String,
    /// For a 5xx: what failed, logged with the request id by the `finish` layer, never sent.
    cause: Option<String>,
}

impl OAuthError {
    pub fn new(status: StatusCode, error: &'static str, description: impl Into<String>) -> Self {
        OAuthError { status, error, description: description.into(), cause: None }
    }

    /// An infrastructure failure: 503 `temporarily_unavailable` with Retry-After, the cause logged.
    pub fn unavailable(cause: impl std::fmt::Display) -> Self {
        OAuthError {
            status: StatusCode::SERVICE_UNAVAILABLE,
            error: "temporarily_unavailable",
            description: "the service is temporarily unavailable; retry in a few seconds".to_owned(),
            cause: Some(cause.to_string()),
        }
    }
}

impl From<crate::store::StoreError> for OAuthError {
    fn from(e: crate::store::StoreError) -> Self {
        OAuthError::store("store", e)
    }
}

impl OAuthError {
    /// [`ApiError::store`] in the OAuth format: 503 `temporarily_unavailable` for an outage, 500
    /// `server_error` for a value stetgate cannot read; the cause logged, never sent.
    pub fn store(doing: &str, e: crate::store::StoreError) -> OAuthError {
        OAuthError::from(ApiError::store(doing, e))
    }
}

impl From<ApiError> for OAuthError {
    /// Edge refusals (certificate, bank, conventions) in the OAuth format.
    fn from(e: ApiError) -> Self {
        let status = e.status();
        let error = match status {
            StatusCode::UNAUTHORIZED => "invalid_client",
            StatusCode::FORBIDDEN => "access_denied",
            StatusCode::INTERNAL_SERVER_ERROR | StatusCode::SERVICE_UNAVAILABLE => "server_error",
            _ => "invalid_request",
        };
        match e {
            ApiError::Internal(cause) => OAuthError {
                status,
                error,
                description: "an internal error occurred; retry later".to_owned(),
                cause: Some(cause),
            },
            ApiError::Unavailable(Cause(cause)) => OAuthError::unavailable(cause),
            refused @ ApiError::RevocationUnknown { .. } => {
                OAuthError::new(status, "temporarily_unavailable", refused.to_string())
            }
            other => OAuthError::new(status, error, other.to_string()),
        }
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let body =
            stet::oauth::OAuthErrorBody { error: self.error.to_owned(), error_description: Some(self.description) };
        let mut response = (self.status, axum::Json(body)).into_response();
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER_UNAVAILABLE));
        }
        if let Some(cause) = self.cause {
            response.extensions_mut().insert(InternalCause(cause));
        }
        response
    }
}
