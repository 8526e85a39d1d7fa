//! Payment initiation (PISP; STET `/payment-requests`), REDIRECT only, as Groupe BPCE offers it.
//!
//! 1. The PISP takes its own token (client credentials, scope `pisp`) and posts the request: it is
//!    checked ([`parse`]), stored RCVD, and answered 201 with the PSU's approval link (and, from
//!    1.4.2, a nonce).
//! 2. The PSU approves it on the bank's pages ([`approval`], through `psu`): identification, the
//!    debtor account when the request names none, a strong authentication bound to the amount and
//!    the payee. The PSU goes back to the PISP with a single-use `psuAuthenticationFactor` (or, for
//!    the 1.4.2 o-confirmation, with an authorization code). No decision in time: RJCT NOAS.
//! 3. The PISP confirms (`/confirmation` with nonce and factor; `/o-confirmation` with the PSU's
//!    token): ACTC -> ACSP, once. On v1 (1.4.0.47, where confirmation is optional in REDIRECT and
//!    the bank answers it 405) the approval itself accepts the request.
//! 4. Execution ([`execute`]): through the payment hub on the Paris day, at once for today's and
//!    instant payments; status up to ACSC, or RJCT with the hub's reason.
//!
//! GET reads a request (the PISP's own only), PUT cancels one while it can be (a future-dated
//! payment, a standing order), GET .../transactions lists a standing order's executions (v1.6.2).

pub mod approval;
pub mod execute;
pub mod hub_callback;
pub mod model;
pub mod parse;
pub mod render;

use crate::edge::Hal;
use crate::edge::authorized::Authorized;
use crate::edge::bank::request_authority;
use crate::edge::error::ApiError;
use crate::oauth::model::{Grant, Subject};
use crate::secret::Secret;
use crate::state::AppState;
use axum::Extension;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use model::{InstructionStatus, PaymentRefusal, PaymentRequest, PaymentStatus, StatusReason};
use stet::pis::{
    ConfirmationResource, CreditTransferTransaction, HalCreditTransferTransactions, PaymentRequestCreated,
};
use stet::{ApiVersion, BankCode, Link, Links, ResourceId};

/// Where the PSU approves a request (`_links.consentApproval`).
pub const APPROVAL_PATH: &str = "/stet/psd2/pisp/approve";

/// `POST /payment-requests`.
pub async fn create(
    State(state): State<AppState>,
    Extension(version): Extension<ApiVersion>,
    headers: HeaderMap,
    uri: Uri,
    request: Authorized,
) -> Result<Response, ApiError> {
    pisp_own_token(&request.grant)?;
    let today = state.calendar.today(state.clock.as_ref());
    let checked = parse::read(&request.request.body, version, today, state.calendar.time_zone(), &state.definitions)?;
    let body_hash = crate::secret::hash_secret(&String::from_utf8_lossy(&request.request.body));
    let p = new_request(&state, &request, version, checked, body_hash)?;
    let p = match state.store.insert_payment_request(&p).await? {
        crate::store::Posted::Created => p,
        // The same request again (a retry): the same answer. Another one under the same id: refused.
        crate::store::Posted::Existing(existing) if existing.body_hash == p.body_hash => *existing,
        crate::store::Posted::Existing(existing) => {
            return Err(PaymentRefusal::Format(format!(
                "paymentInformationId {} already names your payment request {}: use a new id",
                existing.payment_information_id, existing.id
            ))
            .into());
        }
    };
    let authority = request_authority(&headers, &uri).unwrap_or_else(|| "localhost".to_owned());
    let approval = format!("https://{authority}{APPROVAL_PATH}?paymentRequestResourceId={}&nonce={}", p.id, p.nonce);
    let mut links = Links::new();
    links.insert("consentApproval".into(), Link::plain(approval));
    let created = PaymentRequestCreated {
        applied_authentication_approach: Some("REDIRECT".into()),
        nonce: (version != ApiVersion::V1).then(|| p.nonce.clone()),
        links,
    };
    let mut response = (StatusCode::CREATED, Hal(created)).into_response();
    if let Ok(location) = HeaderValue::from_str(&render::path(version, p.id.as_str())) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

/// Creation and cancellation take the PISP's own token: a PSU's `pisp` token is for confirming.
fn pisp_own_token(grant: &Grant) -> Result<(), ApiError> {
    match grant.subject {
        Subject::Tpp => Ok(()),
        Subject::Psu(_) => Err(PaymentRefusal::Forbidden(
            "use your own token (client credentials, scope pisp): a PSU's token only confirms its payment".into(),
        )
        .into()),
    }
}

fn random(length: usize) -> Result<String, ApiError> {
    let secret = Secret::generate().map_err(|e| ApiError::Internal(e.to_string()))?;
    // A secret is 256 random bits in base64url: its letters and digits are plenty for an id.
    Ok(secret
        .expose()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(length)
        .collect::<String>()
        .to_ascii_uppercase())
}

fn new_request(
    state: &AppState,
    request: &Authorized,
    version: ApiVersion,
    checked: parse::Checked,
    body_hash: String,
) -> Result<PaymentRequest, ApiError> {
    let now = state.clock.now();
    let id = ResourceId::parse(&format!("PR{}", random(16)?)).map_err(|e| ApiError::Internal(e.to_string()))?;
    let stored = serde_json::to_string(&checked.resource).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(PaymentRequest {
        id,
        bank: request.request.stet.bank.code(),
        client_id: request.grant.client_id.clone(),
        payment_information_id: checked.resource.payment_information_id.clone(),
        api_version: version,
        body_hash,
        request: stored,
        status: PaymentStatus::Rcvd,
        reason: None,
        nonce: random(16)?,
        instant: checked.instant,
        batch_booking: checked.batch_booking,
        psu: None,
        debtor: None,
        debtor_iban: checked.debtor_iban,
        success_url: checked.success_url,
        failure_url: checked.failure_url,
        factor_hash: None,
        factor_expires_at: None,
        created_at: now,
        approval_expires_at: now.saturating_add(state.config.payments.approval_lifetime()).unwrap_or(now),
        approved_at: None,
        confirmed_at: None,
        updated_at: now,
        version: 0,
        instructions: checked.instructions,
    })
}

/// The PISP's request `id` at this bank, brought up to date (a request nobody approved in time is
/// rejected NOAS on sight).
async fn own_request(state: &AppState, grant: &Grant, id: &str) -> Result<PaymentRequest, ApiError> {
    let unknown = || ApiError::from(PaymentRefusal::Unknown(id.to_owned()));
    let id = ResourceId::parse(id).map_err(|_| unknown())?;
    let p = state.store.payment_request(grant.bank, &id).await?.filter(|p| p.client_id == grant.client_id);
    let p = p.ok_or_else(unknown)?;
    if let Some(bound) = &grant.payment
        && bound != &p.id
    {
        return Err(PaymentRefusal::Forbidden("this token is bound to another payment request".into()).into());
    }
    Ok(expire_if_unanswered(state, p.clone()).await.map_err(store_error)?.unwrap_or(p))
}

fn store_error(e: execute::ExecutionError) -> ApiError {
    match e {
        execute::ExecutionError::Store(e) => e.into(),
        execute::ExecutionError::Hub(e) => e.into(),
    }
}

/// Rejects a request still waiting for its PSU past its deadline (RJCT NOAS): `Some(updated)` if
/// this call did it.
pub async fn expire_if_unanswered(
    state: &AppState,
    p: PaymentRequest,
) -> Result<Option<PaymentRequest>, execute::ExecutionError> {
    let now = state.clock.now();
    if p.status != PaymentStatus::Rcvd || now <= p.approval_expires_at {
        return Ok(None);
    }
    let mut after = p.clone();
    reject(&mut after, StatusReason::Noas, now);
    Ok(state.store.update_payment_request(&p, &after).await?.then_some(after))
}

/// RJCT with `reason`, for the request and each of its instructions.
pub fn reject(p: &mut PaymentRequest, reason: StatusReason, now: jiff::Timestamp) {
    p.status = PaymentStatus::Rjct;
    p.reason = Some(reason);
    for i in &mut p.instructions {
        i.status = InstructionStatus::Rjct;
        i.reason = Some(reason);
    }
    p.updated_at = now;
}

async fn report(state: &AppState, p: &PaymentRequest, version: ApiVersion) -> Result<Response, ApiError> {
    let executions = state.store.payment_executions(p.bank, &p.id).await?;
    let debtor_iban = p.debtor_iban.as_ref().map(|i| i.as_str().to_owned());
    let hal = render::hal(p, version, debtor_iban.as_deref(), &executions, state.calendar.time_zone())
        .map_err(|e| ApiError::Internal(format!("stored payment request unreadable: {e}")))?;
    Ok(Hal(hal).into_response())
}

/// `GET /payment-requests/{id}`.
pub async fn read(
    State(state): State<AppState>,
    Extension(version): Extension<ApiVersion>,
    Path(id): Path<String>,
    request: Authorized,
) -> Result<Response, ApiError> {
    let p = own_request(&state, &request.grant, &id).await?;
    report(&state, &p, version).await
}

/// `PUT /payment-requests/{id}`: cancellation only (`paymentInformationStatus` CANC, or RJCT as in
/// 1.4.0.47, with DS02), and only while something is left to cancel: a payment dated after today,
/// or a standing order. Answered at once, without the PSU (STET 1.5, CR423).
pub async fn cancel(
    State(state): State<AppState>,
    Extension(version): Extension<ApiVersion>,
    Path(id): Path<String>,
    request: Authorized,
) -> Result<Response, ApiError> {
    pisp_own_token(&request.grant)?;
    let asked: stet::pis::PaymentRequestResource = serde_json::from_slice(&request.request.body)
        .map_err(|e| PaymentRefusal::Format(format!("the body is not a STET PaymentRequestResource: {e}")))?;
    let cancelling = matches!(asked.payment_information_status.as_deref(), Some("CANC" | "RJCT"))
        && matches!(asked.status_reason_information.as_deref(), None | Some("DS02"));
    if !cancelling {
        return Err(PaymentRefusal::Forbidden(
            "a payment request can only be cancelled: paymentInformationStatus CANC with statusReasonInformation DS02"
                .into(),
        )
        .into());
    }
    let p = own_request(&state, &request.grant, &id).await?;
    let today = state.calendar.today(state.clock.as_ref());
    let cancellable = p.status == PaymentStatus::Acsp
        && p.instructions
            .iter()
            .any(|i| i.status == InstructionStatus::Acsp && (i.schedule.is_some() || i.execution_date > today));
    if !cancellable {
        return Err(PaymentRefusal::Conflict(format!(
            "payment request {} is {}: only a payment dated after today or a standing order can be cancelled",
            p.id,
            p.status.as_str()
        ))
        .into());
    }
    let now = state.clock.now();
    let mut after = p.clone();
    after.status = PaymentStatus::Canc;
    after.reason = Some(StatusReason::Ds02);
    for i in
        after.instructions.iter_mut().filter(|i| matches!(i.status, InstructionStatus::Acsp | InstructionStatus::Pdng))
    {
        i.status = InstructionStatus::Canc;
        i.reason = Some(StatusReason::Ds02);
    }
    after.updated_at = now;
    if !state.store.update_payment_request(&p, &after).await? {
        return Err(PaymentRefusal::Conflict("the payment request changed meanwhile: read it again".into()).into());
    }
    let mut links = Links::new();
    links.insert("self".into(), Link::plain(render::path(version, p.id.as_str())));
    let answer = PaymentRequestCreated {
        // 1.5 names the approach of a cancellation that needs no PSU: NONE; 1.4.2 has no word for it.
        applied_authentication_approach: (version >= ApiVersion::V1_6_2).then(|| "NONE".to_owned()),
        nonce: None,
        links,
    };
    Ok(Hal(answer).into_response())
}

/// How a confirmation is presented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Confirming {
    /// `/confirmation`: the PISP's own token with nonce and factor, or (v1.6.2) the PSU's token.
    Confirmation,
    /// `/o-confirmation` (v1.4.2): the PSU's token of this payment.
    OConfirmation,
}

/// `POST /payment-requests/{id}/confirmation`.
pub async fn confirm(
    State(state): State<AppState>,
    Extension(version): Extension<ApiVersion>,
    Path(id): Path<String>,
    request: Authorized,
) -> Result<Response, ApiError> {
    confirmed(&state, version, &id, &request, Confirming::Confirmation).await
}

/// `POST /payment-requests/{id}/o-confirmation` (v1.4.2).
pub async fn o_confirm(
    State(state): State<AppState>,
    Extension(version): Extension<ApiVersion>,
    Path(id): Path<String>,
    request: Authorized,
) -> Result<Response, ApiError> {
    confirmed(&state, version, &id, &request, Confirming::OConfirmation).await
}

/// `POST .../confirmation` on v1: the bank's 1.4.0.47 interface does not offer it.
pub async fn not_on_v1() -> ApiError {
    PaymentRefusal::NotOnThisVersion(
        "v1 (STET 1.4.0.47) executes a payment once the PSU approves it: no confirmation, no modification".into(),
    )
    .into()
}

async fn confirmed(
    state: &AppState,
    version: ApiVersion,
    id: &str,
    request: &Authorized,
    how: Confirming,
) -> Result<Response, ApiError> {
    let body: ConfirmationResource = serde_json::from_slice(&request.request.body).map_err(|e| {
        PaymentRefusal::Format(format!(
            "the body must be a ConfirmationResource {{nonce, psuAuthenticationFactor}} ({e})"
        ))
    })?;
    let p = own_request(state, &request.grant, id).await?;
    check_confirmation(&p, &request.grant, &body, how, version, state.clock.now())?;
    let now = state.clock.now();
    let mut after = p.clone();
    after.status = PaymentStatus::Acsp;
    after.confirmed_at = Some(now);
    after.factor_hash = None;
    after.factor_expires_at = None;
    for i in &mut after.instructions {
        i.status = InstructionStatus::Acsp;
    }
    after.updated_at = now;
    if !state.store.update_payment_request(&p, &after).await? {
        return Err(PaymentRefusal::Conflict(format!("payment request {} is already confirmed", p.id)).into());
    }
    // Confirmed either way: what the hub cannot take now, the scheduler hands it later.
    if let Err(e) = execute::execute(state, p.bank, &p.id).await {
        tracing::warn!(error = %e, "payment confirmed, execution left to the scheduler");
    }
    let p = own_request(state, &request.grant, id).await?;
    report(state, &p, version).await
}

fn check_confirmation(
    p: &PaymentRequest,
    grant: &Grant,
    body: &ConfirmationResource,
    how: Confirming,
    version: ApiVersion,
    now: jiff::Timestamp,
) -> Result<(), PaymentRefusal> {
    if p.status != PaymentStatus::Actc || p.confirmed_at.is_some() {
        let why = match p.status {
            PaymentStatus::Rcvd => "is waiting for the PSU's approval".to_owned(),
            status if p.confirmed_at.is_some() => format!("is already confirmed ({})", status.as_str()),
            status => format!("cannot be confirmed ({})", status.as_str()),
        };
        return Err(PaymentRefusal::Conflict(format!("payment request {} {why}", p.id)));
    }
    if body.nonce.as_deref().is_some_and(|n| !crate::secret::same_secret(n, &p.nonce)) {
        return Err(PaymentRefusal::BadConfirmation("nonce is not the one of this payment request".into()));
    }
    let psu_token = grant.payment.as_ref() == Some(&p.id) && matches!(grant.subject, Subject::Psu(_));
    match (how, psu_token) {
        (Confirming::OConfirmation, true) => Ok(()),
        (Confirming::OConfirmation, false) => Err(PaymentRefusal::Forbidden(
            "o-confirmation takes the token of the PSU's authorization of this payment (authorization code, scope pisp)"
                .into(),
        )),
        (Confirming::Confirmation, true) if version >= ApiVersion::V1_6_2 => Ok(()),
        (Confirming::Confirmation, true) => Err(PaymentRefusal::Forbidden(
            "on v1.4.2 a PSU's token confirms through /o-confirmation".into(),
        )),
        (Confirming::Confirmation, false) => {
            if body.nonce.is_none() {
                return Err(PaymentRefusal::BadConfirmation("nonce is missing".into()));
            }
            let factor = body
                .psu_authentication_factor
                .as_deref()
                .ok_or_else(|| PaymentRefusal::BadConfirmation("psuAuthenticationFactor is missing".into()))?;
            let matches = p.factor_hash.as_ref() == Some(&Secret::from_client(factor).hash());
            let fresh = p.factor_expires_at.is_some_and(|until| now <= until);
            if !(matches && fresh) {
                return Err(PaymentRefusal::BadConfirmation(
                    "psuAuthenticationFactor is not the one the PSU brought back, or it expired".into(),
                ));
            }
            Ok(())
        }
    }
}

/// `GET /payment-requests/{id}/transactions` (v1.6.2): a standing order's executions.
pub async fn transactions(
    State(state): State<AppState>,
    Extension(version): Extension<ApiVersion>,
    Path(id): Path<String>,
    request: Authorized,
) -> Result<Response, ApiError> {
    let p = own_request(&state, &request.grant, &id).await?;
    let executions = state.store.payment_executions(p.bank, &p.id).await?;
    let hal = render::hal(&p, version, None, &[], state.calendar.time_zone())
        .map_err(|e| ApiError::Internal(format!("stored payment request unreadable: {e}")))?;
    let template: Vec<CreditTransferTransaction> = hal.payment_request.credit_transfer_transaction;
    let mut listed = Vec::new();
    for e in executions.iter().filter(|e| e.done_at.is_some()) {
        let Some(mut t) = template.get(usize::try_from(e.position.max(0)).unwrap_or(0)).cloned() else { continue };
        t.resource_id = e.transaction_id.clone();
        t.transaction_status = Some(if e.booked { "ACSC" } else { "RJCT" }.to_owned());
        t.status_reason_information = e.reason.map(|r| r.as_str().to_owned());
        t.applied_execution_date = e
            .due_date
            .to_zoned(state.calendar.time_zone().clone())
            .ok()
            .map(|z| z.strftime("%Y-%m-%dT%H:%M:%S%.3f%:z").to_string());
        t.cancellable_till = None;
        listed.push(t);
    }
    let mut links = Links::new();
    links.insert("self".into(), Link::plain(format!("{}/transactions", render::path(version, p.id.as_str()))));
    // 1.5.0.43's `CreditTransferTransactionLinks`: the list's request is its `parent`.
    links.insert("parent".into(), Link::plain(render::path(version, p.id.as_str())));
    Ok(Hal(HalCreditTransferTransactions { credit_transfer_transaction: listed, links }).into_response())
}

/// A request a PSU may approve: the bank's, waiting (RCVD) and not past its deadline.
pub async fn awaiting_approval(
    state: &AppState,
    bank: BankCode,
    id: &ResourceId,
) -> Result<Option<PaymentRequest>, ApiError> {
    let Some(p) = state.store.payment_request(bank, id).await? else { return Ok(None) };
    let p = expire_if_unanswered(state, p.clone()).await.map_err(store_error)?.unwrap_or(p);
    Ok((p.status == PaymentStatus::Rcvd).then_some(p))
}
