//! The PSU's approval of a payment request on the bank's pages (`/stet/psd2/pisp/approve`), a
//! journey of [`crate::psu`] whose every page shows the amount and the payee.
//!
//! The PISP sends the PSU to `_links.consentApproval`:
//! `/stet/psd2/pisp/approve?paymentRequestResourceId=<id>&nonce=<nonce>`. The PSU identifies,
//! authenticates with a code bound to the amount and the payee (RTS art. 5), chooses the debtor
//! account when the request names none (open euro accounts the PSU holds), and approves or refuses.
//! Approved: back to `successfulReportUrl` with `psuAuthenticationFactor=<single use, 5 minutes>`.
//! Refused, failed or too late: RJCT (CUST, MS03, NOAS ...) and back to `unsuccessfulReportUrl`
//! (`successfulReportUrl` when the PISP gave none).
//!
//! The authorization-code variant (STET 1.4.2 o-confirmation): the same URL with
//! `response_type=code&client_id=<org id>&redirect_uri=<a registered URI>[&state=...]` instead of
//! the nonce (or `/stet/psd2/oauth/authorize` with `scope=pisp` and `paymentRequestResourceId`,
//! which leads here). Approved: back to `redirect_uri` with `code` and `state`; the code gives a
//! token of scope `pisp` bound to this payment request, which confirms it at `/o-confirmation`.
//!
//! At a bank whose PSUs authenticate at its OpenID provider, the PSU goes there instead of the
//! identification page, the amount and payee sent as RFC 9396 `authorization_details` so that its
//! authentication is linked to them; the answer comes back through `/psu/oidc/callback` to
//! [`returned`]. Its refusal rejects the request (MS03).

use super::model::{PaymentRequest, PaymentStatus, StatusReason};
use super::{awaiting_approval, execute, reject};
use crate::edge::bank::Bank;
use crate::edge::error::ApiError;
use crate::edge::facts::RequestFacts;
use crate::edge::form::Params;
use crate::edge::tls::ConnectionInfo;
use crate::ledger::{AccountStatus, HeldAccount, PsuId};
use crate::oauth::model::{CodeGrant, Scope, Scopes};
use crate::psu::authenticator::TransactionContext;
use crate::psu::pages::{self, AccountChoice, BankLook, Texts, TppShown};
use crate::psu::{self, ChallengeContext, Ending, NotAStep, Purpose, Session, Stage, Step};
use crate::registry::model::Registration;
use crate::secret::Secret;
use crate::state::AppState;
use askama::Template;
use axum::Extension;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use stet::{Currency, ResourceId};

/// How long the PISP has to confirm with the factor the PSU brought back.
const FACTOR_LIFETIME: jiff::SignedDuration = jiff::SignedDuration::from_mins(5);

/// Where the PSU goes back, kept in the journey.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Approving {
    payment: String,
    /// The authorization-code variant: the PISP's redirect URI and state.
    code: Option<CodeReturn>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct CodeReturn {
    redirect_uri: String,
    state: Option<String>,
    /// PKCE (S256), when the authorization request carried one.
    code_challenge: Option<String>,
}

/// What every payment page shows.
pub struct Summary {
    pub amount: String,
    pub payee: String,
    pub payee_iban: Option<String>,
    pub date: String,
    pub schedule: Option<String>,
    pub debtor: Option<String>,
}

#[derive(Template)]
#[template(path = "payment.html")]
struct PaymentPage<'a> {
    frame: pages::Frame<'a>,
    heading: &'a str,
    tpp: &'a TppShown<'a>,
    summary: &'a Summary,
    stage: &'a str,
    sandbox: bool,
    accounts: &'a [AccountChoice],
    csrf: &'a str,
    action: &'a str,
    error: Option<String>,
}

/// What a page of the journey needs.
struct Page<'a> {
    t: &'static Texts,
    look: &'a BankLook,
    tpp: TppShown<'a>,
    summary: Summary,
    csrf: String,
    sandbox: bool,
}

impl<'a> Page<'a> {
    /// The approval page of payment `p` in this PSU's session.
    fn of(
        state: &AppState,
        t: &'static Texts,
        look: &'a BankLook,
        registration: &'a Registration,
        p: &PaymentRequest,
        session: &Session,
    ) -> Page<'a> {
        Page {
            t,
            look,
            tpp: TppShown::of(registration),
            summary: summary(p, t, None),
            csrf: session.csrf(),
            sandbox: state.mode == crate::config::Mode::Sandbox,
        }
    }

    fn render(&self, stage: &str, accounts: &[AccountChoice], error: Option<String>) -> Response {
        let heading = match stage {
            "identify" => self.t.payment_title,
            "authenticate" => self.t.authenticate_title,
            _ => self.t.debtor_title,
        };
        let page = PaymentPage {
            frame: pages::frame(self.t, self.look),
            heading,
            tpp: &self.tpp,
            summary: &self.summary,
            stage,
            sandbox: self.sandbox,
            accounts,
            csrf: &self.csrf,
            action: super::APPROVAL_PATH,
            error,
        };
        pages::html(StatusCode::OK, page.render())
    }
}

/// The amount and payee the PSU approves (and the authentication is bound to).
fn transaction(p: &PaymentRequest, t: &Texts) -> TransactionContext {
    let amount = p.total().unwrap_or(stet::Amount::from_minor(0, Currency::EUR));
    let payee = match p.instructions.as_slice() {
        [one] => one.creditor_name.clone(),
        many => format!("{} {}", many.len(), t.beneficiaries),
    };
    TransactionContext { amount, payee }
}

fn summary(p: &PaymentRequest, t: &Texts, debtor: Option<String>) -> Summary {
    let linked = transaction(p, t);
    let first = p.instructions.first();
    Summary {
        amount: format!("{} {}", linked.amount.amount_text(), linked.amount.currency),
        payee: linked.payee,
        payee_iban: match p.instructions.as_slice() {
            [one] => one.creditor_iban.as_ref().map(|i| i.to_string()),
            _ => None,
        },
        date: first.map(|i| i.execution_date.to_string()).unwrap_or_default(),
        schedule: first.and_then(|i| i.schedule).map(|s| s.frequency.as_str().to_owned()),
        debtor,
    }
}

/// `GET /stet/psd2/pisp/approve`.
pub async fn start(
    State(state): State<AppState>,
    Extension(bank): Extension<Bank>,
    facts: Option<Extension<RequestFacts>>,
    connection: Option<Extension<ConnectionInfo>>,
    headers: HeaderMap,
    uri: axum::http::Uri,
    RawQuery(query): RawQuery,
) -> Response {
    let t = pages::texts_for(&headers);
    let look = pages::look(&state, &bank);
    if let Some(refused) = pages::over_page_limit(&state, connection.map(|c| c.0.peer.ip()), t, &look) {
        return refused;
    }
    let params = Params::parse(query.as_deref().unwrap_or("").as_bytes());
    let unknown = || pages::error(t, &look, StatusCode::NOT_FOUND, t.payment_unknown);
    let Some(id) = params.one("paymentRequestResourceId").ok().flatten().and_then(|id| ResourceId::parse(id).ok())
    else {
        return unknown();
    };
    let p = match awaiting_approval(&state, bank.code(), &id).await {
        Ok(Some(p)) => p,
        Ok(None) => return unknown(),
        Err(e) => return e.into_response(),
    };
    let registration = match crate::registry::usable(&state.store, &p.client_id).await {
        Ok(Ok(r)) => r,
        Ok(Err(_)) => return unknown(),
        Err(e) => return ApiError::from(e).into_response(),
    };
    if let Some(Extension(facts)) = &facts {
        facts.identified(&p.client_id);
    }
    let code = match how_back(&params, &p, &registration) {
        Ok(code) => code,
        Err(message) => return pages::error(t, &look, StatusCode::BAD_REQUEST, &message),
    };
    if !state.authenticator.available(bank.code()) {
        return pages::error(t, &look, StatusCode::SERVICE_UNAVAILABLE, t.unavailable);
    }
    let context = Approving { payment: p.id.to_string(), code };
    let Ok(context) = serde_json::to_string(&context) else {
        return ApiError::Internal("approval context not serialisable".into()).into_response();
    };
    let now = state.clock.now();
    let left = p.approval_expires_at.duration_since(now);
    let lifetime = state.config.oauth.flow_lifetime().min(left);
    let mut session =
        match psu::begin(&state, Purpose::Payment, bank.code(), p.client_id.clone(), context, lifetime).await {
            Ok(s) => s,
            Err(e) => return e.into_response(),
        };
    if state.authenticator.redirects(bank.code()) {
        let authority = crate::edge::bank::request_authority(&headers, &uri);
        let linked = ChallengeContext { transaction: Some(transaction(&p, t)) };
        return psu::oidc_journey::to_provider(&state, &mut session, authority.as_deref(), &linked)
            .await
            .unwrap_or_else(IntoResponse::into_response);
    }
    let page = Page::of(&state, t, &look, &registration, &p, &session);
    let mut response = page.render("identify", &[], None);
    session.set_cookie(&mut response, now);
    response
}

/// The nonce (back to the report URL) or, for the authorization-code variant, the PISP's
/// `client_id` and one of its registered redirect URIs.
fn how_back(params: &Params, p: &PaymentRequest, registration: &Registration) -> Result<Option<CodeReturn>, String> {
    if params.one("response_type").ok().flatten() == Some("code") {
        let client_id = params.one("client_id").ok().flatten().unwrap_or("");
        if client_id != p.client_id.as_str() {
            return Err("client_id is not the PISP that created this payment request.".into());
        }
        let redirect_uri = params.one("redirect_uri").ok().flatten().unwrap_or("");
        if !registration.redirect_uris.iter().any(|r| r == redirect_uri) {
            return Err(format!("redirect_uri is not one of the redirect URIs {client_id} registered."));
        }
        let state = params.one("state").ok().flatten().map(str::to_owned);
        let code_challenge = params.one("code_challenge").ok().flatten().map(str::to_owned);
        if code_challenge.is_some() && params.one("code_challenge_method").ok().flatten() != Some("S256") {
            return Err("code_challenge_method must be S256.".into());
        }
        return Ok(Some(CodeReturn { redirect_uri: redirect_uri.to_owned(), state, code_challenge }));
    }
    match params.one("nonce").ok().flatten() {
        Some(nonce) if crate::secret::same_secret(nonce, &p.nonce) => Ok(None),
        _ => Err("This approval link is incomplete: nonce is missing or wrong.".into()),
    }
}

/// `POST /stet/psd2/pisp/approve`: the next step.
pub async fn step(
    State(state): State<AppState>,
    Extension(bank): Extension<Bank>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let t = pages::texts_for(&headers);
    let look = pages::look(&state, &bank);
    let form = Params::parse(&body);
    let csrf = form.one("csrf").ok().flatten().unwrap_or("");
    let mut session = match psu::posted(&state, Purpose::Payment, bank.code(), &headers, csrf).await {
        Ok(Ok(session)) => session,
        Ok(Err(NotAStep::NoJourney)) => return pages::error(t, &look, StatusCode::BAD_REQUEST, t.session_expired),
        Ok(Err(NotAStep::ForeignForm)) => {
            return pages::error(t, &look, StatusCode::FORBIDDEN, "This form does not belong to your session.");
        }
        Err(e) => return e.into_response(),
    };
    let (approving, p, registration) = match payment_of(&state, &bank, &session, (t, &look)).await {
        Ok(found) => found,
        Err(refused) => return refused,
    };
    match psu::expired(&state, &mut session).await {
        Ok(true) => return refuse(&state, p, StatusReason::Noas, &approving).await,
        Ok(false) => {}
        Err(e) => return e.into_response(),
    }
    if form.one("action").ok().flatten() == Some("cancel") {
        return match psu::end(&state, &mut session, Ending::Cancelled).await {
            Ok(_) => refuse(&state, p, StatusReason::Cust, &approving).await,
            Err(e) => e.into_response(),
        };
    }
    let page = Page::of(&state, t, &look, &registration, &p, &session);
    if session.journey.stage == Stage::Choose {
        return chosen(&state, &mut session, p, &form, &page, &approving).await;
    }
    let linked = ChallengeContext { transaction: Some(transaction(&p, t)) };
    let needs_choice = p.debtor_iban.is_none();
    let (psu_id, code) = (form.one("psu_id").ok().flatten(), form.one("otp").ok().flatten());
    let step = match psu::advance(&state, &mut session, psu_id, code, needs_choice, &linked).await {
        Ok(step) => step,
        Err(e) => return e.into_response(),
    };
    after_step(&state, &session, p, &page, &approving, step).await
}

/// The approval context of a journey, its payment request (still awaiting approval, the journey
/// still open) and the PISP (still registered); otherwise the bank's page.
async fn payment_of(
    state: &AppState,
    bank: &Bank,
    session: &Session,
    (t, look): (&'static Texts, &BankLook),
) -> Result<(Approving, PaymentRequest, Registration), Response> {
    let Ok(approving) = serde_json::from_str::<Approving>(&session.journey.context) else {
        return Err(ApiError::Internal("stored approval context unreadable".into()).into_response());
    };
    let p = match ResourceId::parse(&approving.payment) {
        Ok(id) => awaiting_approval(state, bank.code(), &id).await,
        Err(_) => Ok(None),
    };
    let p = match p {
        Ok(Some(p)) if !session.journey.stage.is_final() && session.journey.stage != Stage::Approved => p,
        Ok(_) => return Err(pages::error(t, look, StatusCode::CONFLICT, t.payment_unknown)),
        Err(e) => return Err(e.into_response()),
    };
    match crate::registry::usable(&state.store, &p.client_id).await {
        Ok(Ok(registration)) => Ok((approving, p, registration)),
        Ok(Err(_)) => Err(pages::error(t, look, StatusCode::BAD_REQUEST, t.payment_unknown)),
        Err(e) => Err(ApiError::from(e).into_response()),
    }
}

/// What a step of the approval leads to: the next page, the approval, or the rejection.
async fn after_step(
    state: &AppState,
    session: &Session,
    p: PaymentRequest,
    page: &Page<'_>,
    approving: &Approving,
    step: Step,
) -> Response {
    let t = page.t;
    let redirects = state.authenticator.redirects(p.bank);
    match step {
        Step::Authenticate { attempts_left } => {
            let error = attempts_left.map(|n| format!("{} {} {n}", t.wrong_code, t.attempts_left));
            page.render("authenticate", &[], error)
        }
        Step::Choose => match debtor_choices(state, session).await {
            Ok(accounts) if accounts.is_empty() => refuse(state, p, StatusReason::Ac01, approving).await,
            Ok(accounts) => page.render("choose", &to_choices(&accounts), None),
            Err(e) => e.into_response(),
        },
        Step::Approved => approved_with_named_account(state, session, p, approving).await,
        Step::Ended(Ending::TooManyFailures | Ending::NotAuthenticated) => {
            refuse(state, p, StatusReason::Ms03, approving).await
        }
        Step::Ended(Ending::Expired) => refuse(state, p, StatusReason::Noas, approving).await,
        Step::Ended(Ending::Cancelled) => refuse(state, p, StatusReason::Cust, approving).await,
        Step::Ended(Ending::UnknownPsu) => pages::error(t, page.look, StatusCode::FORBIDDEN, t.provider_unknown_psu),
        Step::Stale => match session.journey.stage {
            Stage::Identify if !redirects => page.render("identify", &[], None),
            Stage::Authenticate if !redirects => page.render("authenticate", &[], None),
            _ => pages::error(t, page.look, StatusCode::CONFLICT, t.payment_unknown),
        },
    }
}

/// The PSU back from the bank's identity provider (`/psu/oidc/callback`, routed here by the
/// purpose its `state` names): the authentication linked to the amount and payee completed, then
/// as after a right code.
pub async fn returned(state: &AppState, bank: &Bank, headers: &HeaderMap, params: &Params) -> Response {
    let t = pages::texts_for(headers);
    let look = pages::look(state, bank);
    let mut session = match psu::oidc_journey::returned(state, Purpose::Payment, bank.code(), headers, params).await {
        Ok(Ok(session)) => session,
        Ok(Err(NotAStep::NoJourney)) => return pages::error(t, &look, StatusCode::BAD_REQUEST, t.session_expired),
        Ok(Err(NotAStep::ForeignForm)) => return pages::error(t, &look, StatusCode::FORBIDDEN, t.provider_foreign),
        Err(e) => return e.into_response(),
    };
    let (approving, p, registration) = match payment_of(state, bank, &session, (t, &look)).await {
        Ok(found) => found,
        Err(refused) => return refused,
    };
    match psu::expired(state, &mut session).await {
        Ok(true) => return refuse(state, p, StatusReason::Noas, &approving).await,
        Ok(false) => {}
        Err(e) => return e.into_response(),
    }
    let page = Page::of(state, t, &look, &registration, &p, &session);
    let linked = ChallengeContext { transaction: Some(transaction(&p, t)) };
    let needs_choice = p.debtor_iban.is_none();
    match psu::oidc_journey::complete(state, &mut session, params, needs_choice, &linked).await {
        Ok(step) => after_step(state, &session, p, &page, &approving, step).await,
        Err(e) => e.into_response(),
    }
}

/// The accounts the PSU may pay from: open euro accounts they hold.
async fn debtor_choices(state: &AppState, session: &Session) -> Result<Vec<HeldAccount>, ApiError> {
    let Some(psu) = &session.journey.psu else { return Ok(Vec::new()) };
    let held = state.ledger.psu_accounts(session.journey.bank, psu).await?;
    Ok(held
        .into_iter()
        .filter(|h| h.account.status == AccountStatus::Open && h.account.currency == Currency::EUR)
        .collect())
}

fn to_choices(accounts: &[HeldAccount]) -> Vec<AccountChoice> {
    accounts
        .iter()
        .map(|h| AccountChoice {
            resource_id: h.account.resource_id.to_string(),
            iban: h.account.iban.to_string(),
            name: h.account.name.clone(),
        })
        .collect()
}

/// The PSU chose the account to debit and approved.
async fn chosen(
    state: &AppState,
    session: &mut Session,
    p: PaymentRequest,
    form: &Params,
    page: &Page<'_>,
    approving: &Approving,
) -> Response {
    let accounts = match debtor_choices(state, session).await {
        Ok(accounts) => accounts,
        Err(e) => return e.into_response(),
    };
    let picked = form.one("account").ok().flatten();
    let Some(account) = accounts.iter().find(|h| Some(h.account.resource_id.as_str()) == picked) else {
        return page.render("choose", &to_choices(&accounts), Some(page.t.choose_account.to_owned()));
    };
    match psu::approve(state, session).await {
        Ok(true) => {}
        Ok(false) => return page.render("choose", &to_choices(&accounts), None),
        Err(e) => return e.into_response(),
    }
    let account = account.account.clone();
    approve(state, session, p, &account, approving).await
}

/// Authenticated on a request that names its debtor account: it must be an open euro account of
/// this PSU (RJCT AC01 when the PSU holds no such account, AC04 when it is closed, AC06 when blocked).
async fn approved_with_named_account(
    state: &AppState,
    session: &Session,
    p: PaymentRequest,
    approving: &Approving,
) -> Response {
    let held = match &session.journey.psu {
        Some(psu) => state.ledger.psu_accounts(p.bank, psu).await,
        None => Ok(Vec::new()),
    };
    let held = match held {
        Ok(held) => held,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let named = held.into_iter().map(|h| h.account).find(|a| Some(&a.iban) == p.debtor_iban.as_ref());
    match named {
        Some(account) if account.status == AccountStatus::Open => approve(state, session, p, &account, approving).await,
        Some(account) if account.status == AccountStatus::Closed => {
            refuse(state, p, StatusReason::Ac04, approving).await
        }
        Some(_) => refuse(state, p, StatusReason::Ac06, approving).await,
        None => refuse(state, p, StatusReason::Ac01, approving).await,
    }
}

/// Records the approval and sends the PSU back to the PISP.
async fn approve(
    state: &AppState,
    session: &Session,
    p: PaymentRequest,
    account: &crate::ledger::Account,
    approving: &Approving,
) -> Response {
    let (Some(psu), Some(sca_at)) = (session.journey.psu.clone(), session.journey.sca_at) else {
        return ApiError::Internal("an approved journey without its PSU".into()).into_response();
    };
    let Ok(factor) = Secret::generate() else {
        return ApiError::Internal("no randomness for the factor".into()).into_response();
    };
    let now = state.clock.now();
    let mut after = p.clone();
    after.psu = Some(psu.clone());
    after.debtor = Some(account.resource_id.clone());
    after.debtor_iban = Some(account.iban.clone());
    after.approved_at = Some(now);
    after.updated_at = now;
    // v1 (1.4.0.47) needs no confirmation: the approval accepts the request.
    if p.api_version == stet::ApiVersion::V1 {
        after.status = PaymentStatus::Acsp;
        for i in &mut after.instructions {
            i.status = super::model::InstructionStatus::Acsp;
        }
    } else {
        after.status = PaymentStatus::Actc;
        if approving.code.is_none() {
            after.factor_hash = Some(factor.hash());
            after.factor_expires_at = now.saturating_add(FACTOR_LIFETIME).ok();
        }
    }
    match state.store.update_payment_request(&p, &after).await {
        Ok(true) => {}
        Ok(false) => {
            return ApiError::from(super::model::PaymentRefusal::Conflict("the payment request changed".into()))
                .into_response();
        }
        Err(e) => return ApiError::from(e).into_response(),
    }
    if after.status == PaymentStatus::Acsp
        && let Err(e) = execute::execute(state, p.bank, &p.id).await
    {
        tracing::warn!(error = %e, "payment approved on v1, execution left to the scheduler");
    }
    match &approving.code {
        None => to_url(&after.success_url, &[("psuAuthenticationFactor", factor.expose())]),
        Some(back) => issue_code(state, &after, psu, sca_at, back).await,
    }
}

/// The authorization code of the o-confirmation variant: scope `pisp`, bound to the request.
async fn issue_code(
    state: &AppState,
    p: &PaymentRequest,
    psu: PsuId,
    sca_at: jiff::Timestamp,
    back: &CodeReturn,
) -> Response {
    let Ok(code) = Secret::generate() else {
        return ApiError::Internal("no randomness for the code".into()).into_response();
    };
    let now = state.clock.now();
    let grant = CodeGrant {
        bank: p.bank,
        client_id: p.client_id.clone(),
        redirect_uri: back.redirect_uri.clone(),
        psu,
        scopes: Scopes::new(vec![Scope::Pisp]),
        sca_at,
        expires_at: now.saturating_add(state.config.oauth.code_lifetime()).unwrap_or(now),
        pair_id: None,
        code_challenge: back.code_challenge.clone(),
        payment: Some(p.id.clone()),
    };
    if let Err(e) = state.store.insert_code(&code.hash(), &grant).await {
        return ApiError::from(e).into_response();
    }
    let mut params = vec![("code", code.expose())];
    if let Some(s) = &back.state {
        params.push(("state", s.as_str()));
    }
    to_url(&back.redirect_uri, &params)
}

/// RJCT with `reason`, and the PSU back to the PISP's failure URL (or its redirect URI with
/// `error=access_denied` in the authorization-code variant).
async fn refuse(state: &AppState, p: PaymentRequest, reason: StatusReason, approving: &Approving) -> Response {
    let mut after = p.clone();
    reject(&mut after, reason, state.clock.now());
    if let Err(e) = state.store.update_payment_request(&p, &after).await {
        return ApiError::from(e).into_response();
    }
    match &approving.code {
        Some(back) => {
            let description = format!("the payment request was rejected ({})", reason.as_str());
            let mut params = vec![("error", "access_denied"), ("error_description", description.as_str())];
            if let Some(s) = &back.state {
                params.push(("state", s.as_str()));
            }
            to_url(&back.redirect_uri, &params)
        }
        None => to_url(p.failure_url.as_deref().unwrap_or(&p.success_url), &[]),
    }
}

/// 302 to `base` with `params` added to its query (the PISP's own parameters kept).
fn to_url(base: &str, params: &[(&str, &str)]) -> Response {
    let Ok(mut url) = url::Url::parse(base) else {
        return ApiError::Internal("a stored report URL is unparsable".into()).into_response();
    };
    if !params.is_empty() {
        let mut query = url.query_pairs_mut();
        for (k, v) in params {
            query.append_pair(k, v);
        }
    }
    let mut response = StatusCode::FOUND.into_response();
    match HeaderValue::from_str(url.as_str()) {
        Ok(location) => {
            response.headers_mut().insert(header::LOCATION, location);
            response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(_) => ApiError::Internal("report URL is not a valid header".into()).into_response(),
    }
}
