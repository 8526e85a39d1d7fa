//! `GET /stet/psd2/oauth/authorize` and the PSU's pages (RFC 6749 section 4.1.1 and 4.1.2).
//!
//! The request is checked in two tiers (RFC 6749 4.1.2.1): a `client_id` that is not a registered,
//! active TPP, or a `redirect_uri` that is not exactly one of its registered URIs, gets an error
//! page and never a redirect; any other problem redirects back with `error` and the `state`.
//!
//! The PSU then goes through the bank's pages as a journey of [`crate::psu`] (identification,
//! strong authentication, attempt limits, expiry, cookie and CSRF), which keeps the request in its
//! context; for card issuers (cbpii/piisp) the PSU also chooses accounts, recorded as the consent
//! funds confirmation checks. Cancel on every page, too many failed attempts, or more than 10
//! minutes: back to the TPP with `error=access_denied`. Approved: a code, back to the TPP.
//!
//! At a bank whose PSUs authenticate at its OpenID provider, the PSU goes there instead of the
//! identification page, and comes back through `/psu/oidc/callback` to [`returned`]; the provider
//! unreachable is `temporarily_unavailable` for the TPP, its refusal `access_denied`.

use super::{CodeGrant, Scopes};
use crate::edge::bank::Bank;
use crate::edge::error::ApiError;
use crate::edge::facts::RequestFacts;
use crate::edge::form::Params;
use crate::edge::tls::ConnectionInfo;
use crate::psu::pages::{self, AccountChoice, BankLook, PageContext, Texts, TppShown};
use crate::psu::{self, ChallengeContext, Ending, NotAStep, Purpose, Session, Stage, Step};
use crate::registry::model::Registration;
use crate::secret::Secret;
use crate::state::AppState;
use axum::Extension;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use stet::OrgId;

/// Where the pages' forms post to.
const AUTHORIZE_PATH: &str = "/stet/psd2/oauth/authorize";

/// What the authorization request asked, kept in the PSU's journey until the code is issued.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Requested {
    redirect_uri: String,
    scope: String,
    state: Option<String>,
    code_challenge: Option<String>,
}

impl Requested {
    fn scopes(&self) -> Result<Scopes, ApiError> {
        Scopes::parse(&self.scope).ok_or_else(|| ApiError::Internal("stored scope unreadable".into()))
    }

    /// An authorization error sent back to the TPP, with its `state`.
    fn back(&self, error: &str, description: &str) -> Response {
        redirect_error(&self.redirect_uri, self.state.as_deref(), error, description)
    }
}

/// A redirect to the TPP (302) with the given parameters added to its redirect URI.
fn redirect(redirect_uri: &str, params: &[(&str, &str)]) -> Response {
    let mut url = match url::Url::parse(redirect_uri) {
        Ok(u) => u,
        Err(e) => return ApiError::Internal(format!("registered redirect URI unparsable: {e}")).into_response(),
    };
    {
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
        Err(_) => ApiError::Internal("redirect URI is not a valid header".into()).into_response(),
    }
}

/// An authorization error sent back to the TPP (RFC 6749 4.1.2.1).
fn redirect_error(redirect_uri: &str, state: Option<&str>, error: &str, description: &str) -> Response {
    let mut params = vec![("error", error), ("error_description", description)];
    if let Some(state) = state {
        params.push(("state", state));
    }
    redirect(redirect_uri, &params)
}

/// The PSD2 roles of a registered TPP, from its registered QSealC.
fn registered_roles(registration: &Registration) -> Vec<eidas::psd2::Role> {
    eidas::psd2::parse_pem(&registration.qsealc_pem)
        .ok()
        .and_then(|c| c.psd2)
        .map(|p| p.roles.iter().filter_map(|r| r.role).collect())
        .unwrap_or_default()
}

/// `GET /stet/psd2/oauth/authorize`.
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
    let page = |message: String| pages::error(t, &look, StatusCode::BAD_REQUEST, &message);
    let (registration, redirect_uri) = match client_and_redirect(&state, &params).await {
        Ok(found) => found,
        Err(Untrusted::Page(message)) => return page(message),
        Err(Untrusted::Unavailable(e)) => return ApiError::store("registry", e).into_response(),
    };
    // A registered TPP's authorization: counted in the statistics (anonymous requests are not).
    if let Some(Extension(facts)) = &facts {
        facts.identified(&registration.org_id);
    }
    let (requested, scopes) = match read_request(&params, &registration, redirect_uri.clone()) {
        Ok(read) => read,
        Err(no) => return redirect_error(&redirect_uri, no.state.as_deref(), no.error, &no.description),
    };
    if scopes.contains(super::Scope::Pisp) {
        return to_payment_approval(&params, &requested, &registration, &scopes);
    }
    if !state.authenticator.available(bank.code()) {
        // The bank's strong customer authentication is not connected (production, until it is).
        return requested
            .back("temporarily_unavailable", "strong customer authentication is not configured on this server");
    }
    let Ok(context) = serde_json::to_string(&requested) else {
        return ApiError::Internal("authorization request not serialisable".into()).into_response();
    };
    let lifetime = state.config.oauth.flow_lifetime();
    let mut session =
        match psu::begin(&state, Purpose::Authorize, bank.code(), registration.org_id.clone(), context, lifetime).await
        {
            Ok(s) => s,
            Err(e) => return e.into_response(),
        };
    if state.authenticator.redirects(bank.code()) {
        let authority = crate::edge::bank::request_authority(&headers, &uri);
        let context = ChallengeContext::default();
        return match psu::oidc_journey::to_provider(&state, &mut session, authority.as_deref(), &context).await {
            Ok(response) => response,
            Err(ApiError::Unavailable(cause)) => {
                tracing::error!(bank = %bank.code(), ?cause, "the PSU could not be sent to the bank's identity provider");
                requested.back("temporarily_unavailable", "the bank's identity provider is unavailable; retry later")
            }
            Err(e) => e.into_response(),
        };
    }
    let csrf = session.csrf();
    let ctx = PageContext { t, bank: &look, csrf: &csrf, action: AUTHORIZE_PATH };
    let mut response = pages::identify(&ctx, &TppShown::of(&registration), scope_text(t, &scopes), None);
    session.set_cookie(&mut response, state.clock.now());
    response
}

/// Scope `pisp` is the authorization of one payment request (STET 1.4.2 o-confirmation): the PSU
/// approves it on the payment pages, which send the code back.
fn to_payment_approval(
    params: &Params,
    requested: &Requested,
    registration: &Registration,
    scopes: &Scopes,
) -> Response {
    if scopes.iter().count() > 1 {
        return requested.back("invalid_scope", "scope pisp is asked alone: it authorizes one payment request");
    }
    let Some(payment) = params.one("paymentRequestResourceId").ok().flatten() else {
        return requested
            .back("invalid_request", "scope pisp needs paymentRequestResourceId: the payment request to approve");
    };
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query
        .append_pair("paymentRequestResourceId", payment)
        .append_pair("response_type", "code")
        .append_pair("client_id", registration.org_id.as_str())
        .append_pair("redirect_uri", &requested.redirect_uri);
    if let Some(state) = &requested.state {
        query.append_pair("state", state);
    }
    if let Some(challenge) = &requested.code_challenge {
        query.append_pair("code_challenge", challenge).append_pair("code_challenge_method", "S256");
    }
    let mut response = StatusCode::FOUND.into_response();
    match HeaderValue::from_str(&format!("{}?{}", crate::pis::APPROVAL_PATH, query.finish())) {
        Ok(location) => {
            response.headers_mut().insert(header::LOCATION, location);
            response
        }
        Err(_) => requested.back("invalid_request", "paymentRequestResourceId is not usable"),
    }
}

/// Why an authorization request cannot be answered on a redirect URI.
enum Untrusted {
    /// The bank's error page, with this message.
    Page(String),
    Unavailable(crate::store::StoreError),
}

/// Tier 1: a registered, usable TPP and exactly one of its redirect URIs; otherwise never redirect.
async fn client_and_redirect(state: &AppState, params: &Params) -> Result<(Registration, String), Untrusted> {
    let client_id = match params.one("client_id") {
        Ok(Some(c)) => c,
        Ok(None) => return Err(Untrusted::Page("client_id is missing.".into())),
        Err(e) => return Err(Untrusted::Page(e)),
    };
    let unknown = || Untrusted::Page(format!("client_id {client_id} is not a registered TPP of this bank."));
    let org = OrgId::parse(client_id).map_err(|_| unknown())?;
    let registration = match crate::registry::usable(&state.store, &org).await {
        Ok(Ok(r)) => r,
        Ok(Err(_)) => return Err(unknown()),
        Err(e) => return Err(Untrusted::Unavailable(e)),
    };
    match params.one("redirect_uri") {
        Ok(Some(uri)) if registration.redirect_uris.iter().any(|r| r == uri) => {
            let uri = uri.to_owned();
            Ok((registration, uri))
        }
        Ok(Some(_)) => {
            Err(Untrusted::Page(format!("redirect_uri is not one of the redirect URIs {client_id} registered.")))
        }
        Ok(None) => Err(Untrusted::Page("redirect_uri is missing.".into())),
        Err(e) => Err(Untrusted::Page(e)),
    }
}

/// A request refused on the TPP's redirect URI (RFC 6749 4.1.2.1), with its `state` if readable.
struct Refused {
    state: Option<String>,
    error: &'static str,
    description: String,
}

/// Tier 2: the rest of the request; a problem goes back to the TPP on its redirect URI.
fn read_request(
    params: &Params,
    registration: &Registration,
    redirect_uri: String,
) -> Result<(Requested, Scopes), Refused> {
    let state = match params.one("state") {
        Ok(s) => s.map(str::to_owned),
        Err(description) => return Err(Refused { state: None, error: "invalid_request", description }),
    };
    let mut requested = Requested { redirect_uri, scope: String::new(), state, code_challenge: None };
    let back = |error: &'static str, description: &str| {
        Err(Refused { state: requested.state.clone(), error, description: description.to_owned() })
    };
    if requested.state.as_ref().is_some_and(|s| s.len() > 500) {
        return back("invalid_request", "state is longer than 500 characters");
    }
    for name in [
        "response_type",
        "scope",
        "client_id",
        "redirect_uri",
        "code_challenge",
        "code_challenge_method",
        "paymentRequestResourceId",
    ] {
        if let Err(e) = params.one(name) {
            return back("invalid_request", &e);
        }
    }
    match params.one("response_type") {
        Ok(Some("code")) => {}
        Ok(Some(other)) => {
            return back("unsupported_response_type", &format!("response_type {other} is not supported: use code"));
        }
        _ => return back("invalid_request", "response_type is missing: use code"),
    }
    let requested_scope = params.one("scope").ok().flatten().unwrap_or("");
    if requested_scope.split_ascii_whitespace().any(|s| s == "extended_transaction_history") {
        return back("invalid_scope", "extended_transaction_history is not supported by this bank");
    }
    let Some(scopes) = Scopes::parse(requested_scope) else {
        return back("invalid_scope", "scope must be aisp, cbpii, piisp or pisp (space-separated)");
    };
    let roles = registered_roles(registration);
    if let Some(missing) = scopes.iter().find(|s| !roles.contains(&s.role())) {
        return back(
            "invalid_scope",
            &format!("scope {} needs the {} role, which the TPP's certificate lacks", missing.as_str(), missing.role()),
        );
    }
    // PKCE (RFC 7636): S256 only (`plain` protects nothing against a leaked authorization request).
    let code_challenge = match (params.one("code_challenge"), params.one("code_challenge_method")) {
        (Ok(None), Ok(None)) => None,
        (Ok(Some(challenge)), Ok(Some("S256"))) if is_s256_challenge(challenge) => Some(challenge.to_owned()),
        (Ok(Some(_)), Ok(Some("S256"))) => {
            return back(
                "invalid_request",
                "code_challenge must be the 43-character base64url SHA-256 of the verifier",
            );
        }
        (Ok(Some(_)), _) => return back("invalid_request", "code_challenge_method must be S256"),
        _ => return back("invalid_request", "code_challenge_method without code_challenge"),
    };
    requested.scope = scopes.to_string();
    requested.code_challenge = code_challenge;
    Ok((requested, scopes))
}

/// The text describing what the TPP asks for.
pub fn scope_text(t: &Texts, scopes: &Scopes) -> String {
    let mut parts = Vec::new();
    if scopes.contains(super::Scope::Aisp) {
        parts.push(t.scope_aisp);
    }
    if scopes.includes_funds() {
        parts.push(t.scope_funds);
    }
    parts.join(", ")
}

/// An S256 challenge: the base64url (no padding) of a SHA-256, 43 characters.
fn is_s256_challenge(text: &str) -> bool {
    text.len() == 43 && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// `POST /stet/psd2/oauth/authorize`: the next step of the PSU's journey.
pub async fn step(
    State(state): State<AppState>,
    Extension(bank): Extension<Bank>,
    facts: Option<Extension<RequestFacts>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let t = pages::texts_for(&headers);
    let look = pages::look(&state, &bank);
    let form = Params::parse(&body);
    let facts = facts.map(|Extension(f)| f);
    let (mut session, requested, registration) =
        match journey_of(&state, &bank, &headers, &form, facts.as_ref(), (t, &look)).await {
            Ok(found) => found,
            Err(refused) => return refused,
        };
    let scopes = match requested.scopes() {
        Ok(s) => s,
        Err(e) => return e.into_response(),
    };
    match psu::expired(&state, &mut session).await {
        Ok(true) => return requested.back("access_denied", "the authorization took too long"),
        Ok(false) => {}
        Err(e) => return e.into_response(),
    }
    if form.one("action").ok().flatten() == Some("cancel") {
        return match psu::end(&state, &mut session, Ending::Cancelled).await {
            Ok(_) => requested.back("access_denied", "the PSU cancelled the authorization"),
            Err(e) => e.into_response(),
        };
    }
    let csrf = session.csrf();
    let ctx = PageContext { t, bank: &look, csrf: &csrf, action: AUTHORIZE_PATH };
    if session.journey.stage == Stage::Choose {
        return choose(&state, &ctx, &mut session, &registration, &requested, &form).await;
    }
    let psu_id = form.one("psu_id").ok().flatten();
    let code = form.one("otp").ok().flatten();
    let needs_choice = scopes.includes_funds();
    let step = match psu::advance(&state, &mut session, psu_id, code, needs_choice, &ChallengeContext::default()).await
    {
        Ok(step) => step,
        Err(e) => return e.into_response(),
    };
    answer(&state, &ctx, &session, step, (&registration, &requested, &scopes)).await
}

/// What the journey's step leads to: the next page, the code, or the TPP told why not.
async fn answer(
    state: &AppState,
    ctx: &PageContext<'_>,
    session: &Session,
    step: Step,
    (registration, requested, scopes): (&Registration, &Requested, &Scopes),
) -> Response {
    let t = ctx.t;
    let tpp = TppShown::of(registration);
    let sandbox = state.mode == crate::config::Mode::Sandbox;
    let redirects = state.authenticator.redirects(session.journey.bank);
    match step {
        Step::Authenticate { attempts_left } => {
            let error = attempts_left.map(|n| format!("{} {} {n}", t.wrong_code, t.attempts_left));
            pages::authenticate(ctx, sandbox, error)
        }
        Step::Choose => match account_choices(state, session).await {
            Ok(accounts) => pages::choose(ctx, &tpp, t.consent_intro, &accounts, None),
            Err(response) => response,
        },
        Step::Approved => issue_code(state, session, requested, scopes).await,
        Step::Ended(Ending::TooManyFailures) => requested.back("access_denied", "too many failed attempts"),
        Step::Ended(Ending::Expired) => requested.back("access_denied", "the authorization took too long"),
        Step::Ended(Ending::Cancelled) => requested.back("access_denied", "the PSU cancelled the authorization"),
        Step::Ended(Ending::NotAuthenticated) => {
            requested.back("access_denied", "the PSU's strong authentication at the bank's identity provider failed")
        }
        Step::Ended(Ending::UnknownPsu) => pages::error(t, ctx.bank, StatusCode::FORBIDDEN, t.provider_unknown_psu),
        // Another post moved the journey: show where it stands now.
        Step::Stale => match session.journey.stage {
            Stage::Identify if !redirects => pages::identify(ctx, &tpp, scope_text(t, scopes), None),
            Stage::Authenticate if !redirects => pages::authenticate(ctx, sandbox, None),
            _ => pages::error(
                t,
                ctx.bank,
                StatusCode::CONFLICT,
                "This page is out of date: go back to the application that sent you here.",
            ),
        },
    }
}

/// The PSU back from the bank's identity provider (`/psu/oidc/callback`, routed here by the
/// purpose its `state` names): the strong authentication completed, then as after a right code.
pub async fn returned(state: &AppState, bank: &Bank, headers: &HeaderMap, params: &Params) -> Response {
    let t = pages::texts_for(headers);
    let look = pages::look(state, bank);
    let page = |status: StatusCode, message: &str| pages::error(t, &look, status, message);
    let session = match psu::oidc_journey::returned(state, Purpose::Authorize, bank.code(), headers, params).await {
        Ok(Ok(session)) => session,
        Ok(Err(NotAStep::NoJourney)) => {
            return page(
                StatusCode::BAD_REQUEST,
                "This authorization session is unknown or expired (are cookies enabled?).",
            );
        }
        Ok(Err(NotAStep::ForeignForm)) => return page(StatusCode::FORBIDDEN, t.provider_foreign),
        Err(e) => return e.into_response(),
    };
    let (mut session, requested, registration) = match open_journey(state, session, None, (t, &look)).await {
        Ok(found) => found,
        Err(refused) => return refused,
    };
    let scopes = match requested.scopes() {
        Ok(s) => s,
        Err(e) => return e.into_response(),
    };
    match psu::expired(state, &mut session).await {
        Ok(true) => return requested.back("access_denied", "the authorization took too long"),
        Ok(false) => {}
        Err(e) => return e.into_response(),
    }
    let context = ChallengeContext::default();
    let step = match psu::oidc_journey::complete(state, &mut session, params, scopes.includes_funds(), &context).await {
        Ok(step) => step,
        Err(e) => return e.into_response(),
    };
    let csrf = session.csrf();
    let ctx = PageContext { t, bank: &look, csrf: &csrf, action: AUTHORIZE_PATH };
    answer(state, &ctx, &session, step, (&registration, &requested, &scopes)).await
}

/// The journey a posted form belongs to (its cookie and CSRF token), still open, with the request
/// it keeps and the TPP, still registered; otherwise the bank's error page.
async fn journey_of(
    state: &AppState,
    bank: &Bank,
    headers: &HeaderMap,
    form: &Params,
    facts: Option<&RequestFacts>,
    (t, look): (&'static Texts, &BankLook),
) -> Result<(Session, Requested, Registration), Response> {
    let page = |status: StatusCode, message: &str| pages::error(t, look, status, message);
    let csrf = form.one("csrf").ok().flatten().unwrap_or("");
    let session = match psu::posted(state, Purpose::Authorize, bank.code(), headers, csrf).await {
        Ok(Ok(session)) => session,
        Ok(Err(NotAStep::NoJourney)) => {
            return Err(page(
                StatusCode::BAD_REQUEST,
                "This authorization session is unknown or expired (are cookies enabled?).",
            ));
        }
        Ok(Err(NotAStep::ForeignForm)) => {
            return Err(page(StatusCode::FORBIDDEN, "This form does not belong to your authorization session."));
        }
        Err(e) => return Err(e.into_response()),
    };
    open_journey(state, session, facts, (t, look)).await
}

/// A journey of this browser that is still open, with the request it keeps and the TPP, still
/// registered; otherwise the bank's error page.
async fn open_journey(
    state: &AppState,
    session: Session,
    facts: Option<&RequestFacts>,
    (t, look): (&'static Texts, &BankLook),
) -> Result<(Session, Requested, Registration), Response> {
    let page = |status: StatusCode, message: &str| pages::error(t, look, status, message);
    // A registered TPP's authorization: counted in the statistics (anonymous requests are not).
    if let Some(facts) = facts {
        facts.identified(&session.journey.client_id);
    }
    let Ok(requested) = serde_json::from_str::<Requested>(&session.journey.context) else {
        return Err(ApiError::Internal("stored authorization request unreadable".into()).into_response());
    };
    if session.journey.stage.is_final() || session.journey.stage == Stage::Approved {
        return Err(page(StatusCode::BAD_REQUEST, "This authorization is already complete."));
    }
    match crate::registry::usable(&state.store, &session.journey.client_id).await {
        Ok(Ok(registration)) => Ok((session, requested, registration)),
        Ok(Err(_)) => Err(page(StatusCode::BAD_REQUEST, "The TPP is no longer registered with this bank.")),
        Err(e) => Err(ApiError::store("registry", e).into_response()),
    }
}

async fn account_choices(state: &AppState, session: &Session) -> Result<Vec<AccountChoice>, Response> {
    let Some(psu) = &session.journey.psu else {
        return Err(ApiError::Internal("journey in choice without PSU".into()).into_response());
    };
    let held =
        state.ledger.psu_accounts(session.journey.bank, psu).await.map_err(|e| ApiError::from(e).into_response())?;
    Ok(held
        .into_iter()
        .filter(crate::ledger::HeldAccount::is_eligible)
        .map(|h| AccountChoice {
            resource_id: h.account.resource_id.to_string(),
            iban: h.account.iban.to_string(),
            name: h.account.name,
        })
        .collect())
}

/// A card issuer's authorization: the PSU chooses the accounts funds confirmation may query,
/// recorded as the consent before the code is issued.
async fn choose(
    state: &AppState,
    ctx: &PageContext<'_>,
    session: &mut Session,
    registration: &Registration,
    requested: &Requested,
    form: &Params,
) -> Response {
    let accounts = match account_choices(state, session).await {
        Ok(a) => a,
        Err(response) => return response,
    };
    let chosen: Vec<&str> = form.all("account");
    let valid: Vec<stet::ResourceId> = accounts
        .iter()
        .filter(|a| chosen.contains(&a.resource_id.as_str()))
        .filter_map(|a| stet::ResourceId::parse(&a.resource_id).ok())
        .collect();
    let tpp = TppShown::of(registration);
    if valid.is_empty() || valid.len() != chosen.len() {
        return pages::choose(ctx, &tpp, ctx.t.consent_intro, &accounts, Some(ctx.t.choose_account.to_owned()));
    }
    let (journey, now) = (&session.journey, state.clock.now());
    let Some(psu) = &journey.psu else {
        return ApiError::Internal("journey in choice without PSU".into()).into_response();
    };
    if let Err(e) = state.store.record_funds_consent(journey.bank, psu, &journey.client_id, &valid, now).await {
        return ApiError::store("funds consent", e).into_response();
    }
    match psu::approve(state, session).await {
        Ok(true) => {}
        Ok(false) => {
            return pages::error(ctx.t, ctx.bank, StatusCode::CONFLICT, "This authorization changed meanwhile.");
        }
        Err(e) => return e.into_response(),
    }
    let scopes = match requested.scopes() {
        Ok(s) => s,
        Err(e) => return e.into_response(),
    };
    issue_code(state, session, requested, &scopes).await
}

/// Ends an approved journey: a single-use code, bound to the client, redirect URI, PSU, bank and
/// scope, sent to the TPP with its state.
async fn issue_code(state: &AppState, session: &Session, requested: &Requested, scopes: &Scopes) -> Response {
    let journey = &session.journey;
    let (Some(psu), Some(sca_at)) = (journey.psu.clone(), journey.sca_at) else {
        return ApiError::Internal("code issued before authentication".into()).into_response();
    };
    let Ok(code) = Secret::generate() else {
        return ApiError::Internal("no randomness for the code".into()).into_response();
    };
    let now = state.clock.now();
    let grant = CodeGrant {
        bank: journey.bank,
        client_id: journey.client_id.clone(),
        redirect_uri: requested.redirect_uri.clone(),
        psu,
        scopes: scopes.clone(),
        sca_at,
        expires_at: now.saturating_add(state.config.oauth.code_lifetime()).unwrap_or(now),
        pair_id: None,
        code_challenge: requested.code_challenge.clone(),
        payment: None,
    };
    if let Err(e) = state.store.insert_code(&code.hash(), &grant).await {
        return ApiError::store("authorization code", e).into_response();
    }
    let mut params = vec![("code", code.expose())];
    if let Some(s) = &requested.state {
        params.push(("state", s.as_str()));
    }
    redirect(&requested.redirect_uri, &params)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirects_keep_the_registered_query_and_encode() {
        let r = redirect("https://tpp.example/cb?x=1", &[("code", "a b"), ("state", "s&t")]);
        assert_eq!(r.status(), StatusCode::FOUND);
        assert_eq!(r.headers()[header::LOCATION], "https://tpp.example/cb?x=1&code=a+b&state=s%26t");
    }
}
