//! `GET /stet/psd2/oauth/authorize` and the PSU's pages (RFC 6749 section 4.1.1 and 4.1.2).
//!
//! The request is checked in two tiers (RFC 6749 4.1.2.1): a `client_id` that is not a registered,
//! active TPP, or a `redirect_uri` that is not exactly one of its registered URIs, gets an error
//! page and never a redirect; any other problem redirects back with `error` and the `state`.
//!
//! The flow is then bound to the PSU's browser by an HttpOnly cookie holding a random secret, and
//! every form carries a CSRF token; both are stored hashed with the flow's progress, so any node
//! can serve the next page. Pages: identification (online-banking id), authentication (one-time
//! code "sent by SMS"; `12345678` in the sandbox), and for card issuers (cbpii/piisp) the choice of
//! accounts, recorded as the consent funds confirmation checks. Cancel on every page, three failed
//! attempts, or more than 10 minutes: back to the TPP with `error=access_denied`.

use super::pages::{self, AccountChoice, BankLook, PageContext, Texts, TppShown};
use super::{CodeGrant, Flow, Scopes, Stage};
use crate::app::AppState;
use crate::config::Mode;
use crate::edge::bank::Bank;
use crate::edge::error::ApiError;
use crate::edge::facts::RequestFacts;
use crate::edge::tls::ConnectionInfo;
use crate::ledger::PsuId;
use crate::registry::Registration;
use crate::secret::{self, Secret};
use axum::Extension;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use stet::OrgId;

const FLOW_COOKIE: &str = "stetgate_flow";
/// Where the pages' forms post to.
const AUTHORIZE_PATH: &str = "/stet/psd2/oauth/authorize";
/// Failed identifications and codes allowed before the authorization is refused.
const MAX_FAILURES: i64 = 3;
/// The one-time code every sandbox persona receives.
const SANDBOX_OTP: &str = "12345678";

/// Query or form parameters, with RFC 6749 3.1's rule that none is repeated.
struct Params(Vec<(String, String)>);

impl Params {
    fn parse(text: &str) -> Params {
        Params(url::form_urlencoded::parse(text.as_bytes()).into_owned().collect())
    }

    /// The single value of `name`; `Err` names a repeated parameter.
    fn one(&self, name: &str) -> Result<Option<&str>, String> {
        let mut values = self.0.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str());
        let first = values.next();
        if values.next().is_some() {
            return Err(format!("{name} is repeated"));
        }
        Ok(first.filter(|v| !v.is_empty()))
    }

    fn all(&self, name: &str) -> Vec<&str> {
        self.0.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str()).collect()
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

fn look(bank: &Bank) -> BankLook {
    BankLook::new(&bank.0.name, bank.0.code.as_str(), &bank.0.brand)
}

fn now_ms(state: &AppState) -> i64 {
    state.clock.now().as_millisecond()
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
    RawQuery(query): RawQuery,
) -> Response {
    let t = pages::texts_for(&headers);
    let look = look(&bank);
    if let Some(refused) = pages::over_page_limit(&state, connection.map(|c| c.0.peer.ip()), t, &look) {
        return refused;
    }
    let params = Params::parse(query.as_deref().unwrap_or(""));
    let page = |message: String| pages::error(t, &look, StatusCode::BAD_REQUEST, &message);

    // Tier 1: never redirect to a URI we cannot trust.
    let client_id = match params.one("client_id") {
        Ok(Some(c)) => c,
        Ok(None) => return page("client_id is missing.".into()),
        Err(e) => return page(e),
    };
    let registration = match OrgId::parse(client_id) {
        Ok(org) => match crate::registry::usable(&state.store, &org).await {
            Ok(Ok(r)) => r,
            Ok(Err(_)) => return page(format!("client_id {client_id} is not a registered TPP of this bank.")),
            Err(e) => return ApiError::unavailable(format!("registry: {e}")).into_response(),
        },
        Err(_) => return page(format!("client_id {client_id} is not a registered TPP of this bank.")),
    };
    // A registered TPP's authorization: counted in the statistics (anonymous requests are not).
    if let Some(Extension(facts)) = &facts {
        facts.identified(&registration.org_id);
    }
    let redirect_uri = match params.one("redirect_uri") {
        Ok(Some(uri)) if registration.redirect_uris.iter().any(|r| r == uri) => uri.to_owned(),
        Ok(Some(_)) => return page(format!("redirect_uri is not one of the redirect URIs {client_id} registered.")),
        Ok(None) => return page("redirect_uri is missing.".into()),
        Err(e) => return page(e),
    };

    // Tier 2: tell the TPP, on its redirect URI.
    let state_param = match params.one("state") {
        Ok(s) => s.map(str::to_owned),
        Err(e) => return redirect_error(&redirect_uri, None, "invalid_request", &e),
    };
    let back =
        |error: &str, description: &str| redirect_error(&redirect_uri, state_param.as_deref(), error, description);
    if let Some(s) = &state_param
        && s.len() > 500
    {
        return back("invalid_request", "state is longer than 500 characters");
    }
    for name in ["response_type", "scope", "client_id", "redirect_uri", "code_challenge", "code_challenge_method"] {
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
    let scope_text = params.one("scope").ok().flatten().unwrap_or("");
    if scope_text.split_ascii_whitespace().any(|s| s == "extended_transaction_history") {
        return back("invalid_scope", "extended_transaction_history is not supported by this bank");
    }
    let Some(scopes) = Scopes::parse(scope_text) else {
        return back("invalid_scope", "scope must be aisp, cbpii or piisp (space-separated)");
    };
    let roles = registered_roles(&registration);
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
    if state.mode == Mode::Production {
        // stetgate authenticates PSUs with the sandbox's code only; a bank plugs its own SCA here.
        return back("temporarily_unavailable", "strong customer authentication is not configured on this server");
    }

    let (flow_secret, csrf) = match (Secret::generate(), Secret::generate()) {
        (Ok(f), Ok(c)) => (f, c),
        _ => return ApiError::Internal("no randomness for the flow".into()).into_response(),
    };
    let flow = Flow {
        flow_hash: flow_secret.hash(),
        csrf_hash: csrf.hash(),
        bank: bank.code(),
        client_id: registration.org_id.clone(),
        redirect_uri,
        scopes: scopes.clone(),
        state: state_param,
        stage: Stage::Identify,
        psu: None,
        failures: 0,
        sca_at: None,
        created_at: now_ms(&state),
        code_challenge,
    };
    if let Err(e) = state.store.insert_flow(&flow).await {
        return ApiError::unavailable(format!("flow store: {e}")).into_response();
    }
    let ctx = PageContext { t, bank: &look, csrf: csrf.expose(), action: AUTHORIZE_PATH };
    let mut response = pages::identify(&ctx, &TppShown::of(&registration), pages::scope_text(t, &scopes), None);
    secret::set_secret_cookie(
        &mut response,
        FLOW_COOKIE,
        &flow_secret,
        "/stet/psd2/oauth",
        state.config.oauth.flow_lifetime_secs,
    );
    response
}

/// An S256 challenge: the base64url (no padding) of a SHA-256, 43 characters.
fn is_s256_challenge(text: &str) -> bool {
    text.len() == 43 && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn flow_cookie(headers: &HeaderMap) -> Option<Secret> {
    secret::cookie_secret(headers, FLOW_COOKIE)
}

use crate::secret::same_secret as same;

/// `POST /stet/psd2/oauth/authorize`: the next step of the PSU's flow.
pub async fn step(
    State(state): State<AppState>,
    Extension(bank): Extension<Bank>,
    facts: Option<Extension<RequestFacts>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let t = pages::texts_for(&headers);
    let look = look(&bank);
    let page = |status: StatusCode, message: &str| pages::error(t, &look, status, message);
    let form = Params::parse(&String::from_utf8_lossy(&body));

    let Some(secret) = flow_cookie(&headers) else {
        return page(
            StatusCode::BAD_REQUEST,
            "This authorization session is unknown or expired (are cookies enabled?).",
        );
    };
    let mut flow = match state.store.flow(&secret.hash()).await {
        Ok(Some(flow)) => flow,
        Ok(None) => return page(StatusCode::BAD_REQUEST, "This authorization session is unknown or expired."),
        Err(e) => return ApiError::unavailable(format!("flow store: {e}")).into_response(),
    };
    if let Some(Extension(facts)) = &facts {
        facts.identified(&flow.client_id);
    }
    let csrf = form.one("csrf").ok().flatten().unwrap_or("");
    if flow.bank != bank.code() || !same(&Secret::from_client(csrf).hash(), &flow.csrf_hash) {
        return page(StatusCode::FORBIDDEN, "This form does not belong to your authorization session.");
    }
    if flow.stage == Stage::Done {
        return page(StatusCode::BAD_REQUEST, "This authorization is already complete.");
    }
    let registration = match crate::registry::usable(&state.store, &flow.client_id).await {
        Ok(Ok(r)) => r,
        Ok(Err(_)) => return page(StatusCode::BAD_REQUEST, "The TPP is no longer registered with this bank."),
        Err(e) => return ApiError::unavailable(format!("registry: {e}")).into_response(),
    };
    let now = now_ms(&state);
    if now - flow.created_at > state.config.oauth.flow_lifetime_secs * 1000 {
        return finish_with_error(&state, &mut flow, "access_denied", "the authorization took too long").await;
    }
    if form.one("action").ok().flatten() == Some("cancel") {
        return finish_with_error(&state, &mut flow, "access_denied", "the PSU cancelled the authorization").await;
    }
    let ctx = PageContext { t, bank: &look, csrf, action: AUTHORIZE_PATH };
    match flow.stage {
        Stage::Identify => identify(&state, &ctx, &mut flow, &registration, &form).await,
        Stage::Authenticate => authenticate(&state, &ctx, &mut flow, &registration, &form, now).await,
        Stage::Consent => consent(&state, &ctx, &mut flow, &registration, &form, now).await,
        Stage::Done => page(StatusCode::BAD_REQUEST, "This authorization is already complete."),
    }
}

/// Counts a failed attempt; the third one ends the flow.
async fn failed(state: &AppState, flow: &mut Flow, t: &Texts) -> Result<String, Response> {
    flow.failures += 1;
    if flow.failures >= MAX_FAILURES {
        return Err(finish_with_error(state, flow, "access_denied", "too many failed attempts").await);
    }
    if let Err(e) = state.store.update_flow(flow).await {
        return Err(ApiError::unavailable(format!("flow store: {e}")).into_response());
    }
    Ok(format!("{} {} {}", t.wrong_id, t.attempts_left, MAX_FAILURES - flow.failures))
}

async fn identify(
    state: &AppState,
    ctx: &PageContext<'_>,
    flow: &mut Flow,
    registration: &Registration,
    form: &Params,
) -> Response {
    let typed = form.one("psu_id").ok().flatten().unwrap_or("").trim().to_owned();
    let psu = match PsuId::parse(&typed) {
        Some(id) => state.ledger.psu(flow.bank, &id).await,
        None => Ok(None),
    };
    match psu {
        Ok(Some(psu)) => {
            flow.stage = Stage::Authenticate;
            flow.psu = Some(psu.id.clone());
            if let Err(e) = state.store.update_flow(flow).await {
                return ApiError::unavailable(format!("flow store: {e}")).into_response();
            }
            pages::authenticate(ctx, &pages::mask_phone(psu.phone.as_deref()), state.mode == Mode::Sandbox, None)
        }
        Ok(None) => match failed(state, flow, ctx.t).await {
            Ok(message) => {
                let scope = pages::scope_text(ctx.t, &flow.scopes);
                pages::identify(ctx, &TppShown::of(registration), scope, Some(message))
            }
            Err(response) => response,
        },
        Err(e) => ApiError::unavailable(format!("ledger: {e}")).into_response(),
    }
}

async fn authenticate(
    state: &AppState,
    ctx: &PageContext<'_>,
    flow: &mut Flow,
    registration: &Registration,
    form: &Params,
    now: i64,
) -> Response {
    let Some(psu_id) = flow.psu.clone() else {
        return ApiError::Internal("flow authenticated without PSU".into()).into_response();
    };
    let code = form.one("otp").ok().flatten().unwrap_or("").trim();
    let valid = state.mode == Mode::Sandbox && same(code, SANDBOX_OTP);
    if !valid {
        return match failed(state, flow, ctx.t).await {
            Ok(message) => {
                let phone = match state.ledger.psu(flow.bank, &psu_id).await {
                    Ok(Some(p)) => p.phone,
                    _ => None,
                };
                pages::authenticate(
                    ctx,
                    &pages::mask_phone(phone.as_deref()),
                    state.mode == Mode::Sandbox,
                    Some(message),
                )
            }
            Err(response) => response,
        };
    }
    flow.sca_at = Some(now);
    if flow.scopes.includes_funds() {
        flow.stage = Stage::Consent;
        if let Err(e) = state.store.update_flow(flow).await {
            return ApiError::unavailable(format!("flow store: {e}")).into_response();
        }
        return match account_choices(state, flow, &psu_id).await {
            Ok(accounts) => pages::consent(ctx, &TppShown::of(registration), &accounts, None),
            Err(response) => response,
        };
    }
    issue_code(state, flow, now).await
}

async fn account_choices(state: &AppState, flow: &Flow, psu: &PsuId) -> Result<Vec<AccountChoice>, Response> {
    let held = state
        .ledger
        .psu_accounts(flow.bank, psu)
        .await
        .map_err(|e| ApiError::unavailable(format!("ledger: {e}")).into_response())?;
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

async fn consent(
    state: &AppState,
    ctx: &PageContext<'_>,
    flow: &mut Flow,
    registration: &Registration,
    form: &Params,
    now: i64,
) -> Response {
    let Some(psu_id) = flow.psu.clone() else {
        return ApiError::Internal("flow in consent without PSU".into()).into_response();
    };
    let accounts = match account_choices(state, flow, &psu_id).await {
        Ok(a) => a,
        Err(response) => return response,
    };
    let chosen: Vec<&str> = form.all("account");
    let valid: Vec<stet::ResourceId> = accounts
        .iter()
        .filter(|a| chosen.contains(&a.resource_id.as_str()))
        .filter_map(|a| stet::ResourceId::parse(&a.resource_id).ok())
        .collect();
    if valid.is_empty() || valid.len() != chosen.len() {
        let message = ctx.t.choose_account.to_owned();
        return pages::consent(ctx, &TppShown::of(registration), &accounts, Some(message));
    }
    if let Err(e) = state.store.record_funds_consent(flow.bank, &psu_id, &flow.client_id, &valid, now).await {
        return ApiError::unavailable(format!("consent store: {e}")).into_response();
    }
    issue_code(state, flow, now).await
}

/// Ends a successful flow: a single-use code, bound to the client, redirect URI, PSU, bank and
/// scope, sent to the TPP with its state.
async fn issue_code(state: &AppState, flow: &mut Flow, now: i64) -> Response {
    let (Some(psu), Some(sca_at)) = (flow.psu.clone(), flow.sca_at) else {
        return ApiError::Internal("code issued before authentication".into()).into_response();
    };
    let Ok(code) = Secret::generate() else {
        return ApiError::Internal("no randomness for the code".into()).into_response();
    };
    let grant = CodeGrant {
        bank: flow.bank,
        client_id: flow.client_id.clone(),
        redirect_uri: flow.redirect_uri.clone(),
        psu,
        scopes: flow.scopes.clone(),
        sca_at,
        expires_at: now + state.config.oauth.code_lifetime_secs * 1000,
        pair_id: None,
        code_challenge: flow.code_challenge.clone(),
    };
    flow.stage = Stage::Done;
    let stored = async {
        state.store.insert_code(&code.hash(), &grant).await?;
        state.store.update_flow(flow).await
    };
    if let Err(e) = stored.await {
        return ApiError::unavailable(format!("code store: {e}")).into_response();
    }
    let mut params = vec![("code", code.expose())];
    if let Some(s) = &flow.state {
        params.push(("state", s.as_str()));
    }
    redirect(&flow.redirect_uri, &params)
}

async fn finish_with_error(state: &AppState, flow: &mut Flow, error: &str, description: &str) -> Response {
    flow.stage = Stage::Done;
    if let Err(e) = state.store.update_flow(flow).await {
        return ApiError::unavailable(format!("flow store: {e}")).into_response();
    }
    redirect_error(&flow.redirect_uri, flow.state.as_deref(), error, description)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_parameters_are_detected() {
        let p = Params::parse("a=1&b=2&a=3&c=");
        assert!(p.one("a").is_err());
        assert_eq!(p.one("b"), Ok(Some("2")));
        assert_eq!(p.one("c"), Ok(None), "empty is absent");
        assert_eq!(p.all("a"), vec!["1", "3"]);
    }

    #[test]
    fn redirects_keep_the_registered_query_and_encode() {
        let r = redirect("https://tpp.example/cb?x=1", &[("code", "a b"), ("state", "s&t")]);
        assert_eq!(r.status(), StatusCode::FOUND);
        assert_eq!(r.headers()[header::LOCATION], "https://tpp.example/cb?x=1&code=a+b&state=s%26t");
    }

    #[test]
    fn the_flow_cookie_is_found_among_others() {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, HeaderValue::from_static("a=1; stetgate_flow=abc; b=2"));
        assert_eq!(flow_cookie(&h).unwrap().expose(), "abc");
    }
}
