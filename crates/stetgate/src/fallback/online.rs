//! The bank's online banking, reached through a fallback JWT.
//!
//! - `GET /online-banking/login?service=dei&cdetab=<bank>&fallback=<JWT>`: the JWT must verify with
//!   the bank's key, name this bank, be unexpired and never used (it is spent here, atomically);
//!   then the identification page.
//! - `POST /online-banking/login`: identification, then strong authentication, as a journey of
//!   [`crate::psu`] (the same pages, attempt limit and per-PSU lock as the authorization), then the
//!   accounts.
//! - `GET /online-banking/accounts`, `GET /online-banking/accounts/{id}`: accounts with balances,
//!   an account's transactions of the last 90 days.
//! - `POST /online-banking/logout`.
//!
//! At a bank whose PSUs authenticate at its OpenID provider, the login sends the PSU there instead
//! of the identification page; the answer comes back through `/psu/oidc/callback` to [`returned`].
//!
//! The session is the approved journey, bound to the browser by its cookie and to the bank; it
//! ends at sign-out or after `fallback.session_lifetime_secs`. Nothing here is an API token.

use crate::config::Mode;
use crate::edge::bank::Bank;
use crate::edge::error::ApiError;
use crate::edge::form::Params;
use crate::ledger::PsuId;
use crate::psu::pages::{self, BankLook, Frame, PageContext, Texts, TppShown, frame, html};
use crate::psu::{self, Ending, NotAStep, Purpose, Session, Stage, Step};
use crate::state::AppState;
use crate::store::Consumed;
use askama::Template;
use axum::Extension;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;

const LOGIN: &str = "/online-banking/login";
/// How far back the transactions page looks.
const HISTORY_DAYS: i64 = 90;

#[derive(Template)]
#[template(path = "online_message.html")]
struct MessagePage<'a> {
    frame: Frame<'a>,
    message: &'a str,
    error: bool,
}

pub struct AccountLine {
    pub resource_id: String,
    pub name: String,
    pub iban: String,
    pub status: &'static str,
    pub booked: String,
    pub instant: String,
}

#[derive(Template)]
#[template(path = "online_accounts.html")]
struct AccountsPage<'a> {
    frame: Frame<'a>,
    accounts: Vec<AccountLine>,
    csrf: &'a str,
}

pub struct TransactionLine {
    pub date: String,
    pub label: String,
    pub amount: String,
    pub status: &'static str,
}

#[derive(Template)]
#[template(path = "online_account.html")]
struct AccountPage<'a> {
    frame: Frame<'a>,
    account_name: String,
    iban: String,
    booked: String,
    instant: String,
    transactions: Vec<TransactionLine>,
    csrf: &'a str,
}

/// A page with a message alone (it names no code channel).
fn message(t: &'static Texts, bank: &Bank, status: StatusCode, text: &str, error: bool) -> Response {
    let look = BankLook::new(&bank.0.name, bank.0.code.as_str(), &bank.0.brand);
    html(status, MessagePage { frame: frame(t, &look), message: text, error }.render())
}

/// A store or ledger failure: the one path of infrastructure failures (503, or 500 for a value
/// stetgate cannot read; the cause logged), as the bank's HTML error page.
fn failure(e: impl Into<ApiError>) -> Response {
    e.into().into_response()
}

/// `GET /online-banking/login?fallback=<JWT>`.
pub async fn login(
    State(state): State<AppState>,
    Extension(bank): Extension<Bank>,
    connection: Option<Extension<crate::edge::tls::ConnectionInfo>>,
    headers: HeaderMap,
    uri: axum::http::Uri,
    RawQuery(query): RawQuery,
) -> Response {
    let t = pages::texts_for(&headers);
    let code = bank.code();
    if let Some(refused) =
        pages::over_page_limit(&state, connection.map(|c| c.0.peer.ip()), t, &pages::look(&state, &bank))
    {
        return refused;
    }
    let query: Vec<(String, String)> =
        url::form_urlencoded::parse(query.as_deref().unwrap_or("").as_bytes()).into_owned().collect();
    let jwt = query.iter().find(|(k, _)| k == "fallback").map(|(_, v)| v.as_str()).unwrap_or("");
    // A JWT the bank signed is a use of the fallback, on record; anything else (none, a forgery,
    // noise) is only counted: anyone can send it, and it must not create lasting rows.
    let refuse = async |detail: String, client: Option<stet::OrgId>, jti: Option<String>| {
        let _ = super::record(&state, code, client.as_ref(), jti.as_deref(), "login", false, &detail).await;
        message(t, &bank, StatusCode::UNAUTHORIZED, t.fallback_refused, true)
    };
    let unverified = |reason: &'static str| {
        state.metrics.fallback_login_unverified(reason);
        message(t, &bank, StatusCode::UNAUTHORIZED, t.fallback_refused, true)
    };
    if jwt.is_empty() {
        return unverified("no_jwt");
    }
    let Some(keys) = &state.fallback_keys else {
        return unverified("not_configured");
    };
    let Ok(claims) = keys.verify(jwt) else {
        return unverified("bad_signature");
    };
    let client = stet::OrgId::parse(&claims.sub).ok();
    let jti = Some(claims.jti.clone());
    if claims.bank != code.as_str() {
        return refuse(format!("JWT of bank {} presented to bank {code}", claims.bank), client, jti).await;
    }
    let now = state.clock.now();
    if claims.exp <= now.as_second() {
        return refuse("JWT expired".into(), client, jti).await;
    }
    let client = match state.store.consume_fallback_grant(&claims.jti, code, now).await {
        Ok(Consumed::Fresh(c)) if Some(&c) == client.as_ref() => c,
        Ok(Consumed::Fresh(_)) => {
            return refuse("JWT subject is not the TPP it was issued to".into(), client, jti).await;
        }
        Ok(Consumed::Used) => return refuse("JWT already used".into(), client, jti).await,
        Ok(Consumed::Expired) => return refuse("JWT expired".into(), client, jti).await,
        Ok(Consumed::Unknown) => return refuse("JWT not issued by this bank".into(), client, jti).await,
        Err(e) => return failure(e),
    };
    let context = serde_json::json!({ "jti": claims.jti }).to_string();
    let lifetime = state.config.fallback.session_lifetime();
    let mut session = match psu::begin(&state, Purpose::Fallback, code, client.clone(), context, lifetime).await {
        Ok(s) => s,
        Err(e) => return e.into_response(),
    };
    if let Err(e) = super::record(&state, code, Some(&client), Some(&claims.jti), "login", true, "JWT accepted").await {
        return failure(e);
    }
    if state.authenticator.redirects(code) {
        let authority = crate::edge::bank::request_authority(&headers, &uri);
        let context = psu::ChallengeContext::default();
        return psu::oidc_journey::to_provider(&state, &mut session, authority.as_deref(), &context)
            .await
            .unwrap_or_else(IntoResponse::into_response);
    }
    let registration = state.store.registration(&client).await.ok().flatten();
    let tpp = match &registration {
        Some(r) => TppShown::of(r),
        None => TppShown { name: client.as_str(), organization: None, client_id: client.as_str() },
    };
    let look = pages::look(&state, &bank);
    let csrf = session.csrf();
    let ctx = PageContext { t, bank: &look, csrf: &csrf, action: LOGIN };
    let mut response = pages::identify(&ctx, &tpp, t.scope_aisp.to_owned(), None);
    session.set_cookie(&mut response, now);
    response
}

/// The jti of the fallback JWT that opened a journey.
fn jti_of(session: &Session) -> String {
    serde_json::from_str::<serde_json::Value>(&session.journey.context)
        .ok()
        .and_then(|c| c["jti"].as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// The journey of this browser at this bank, live (not ended, not expired).
async fn live_session(state: &AppState, bank: &Bank, headers: &HeaderMap) -> Result<Session, Response> {
    let t = pages::texts_for(headers);
    let expired = || message(t, bank, StatusCode::UNAUTHORIZED, t.session_expired, true);
    let mut session = match psu::current(state, Purpose::Fallback, bank.code(), headers).await {
        Ok(Some(s)) => s,
        Ok(None) => return Err(expired()),
        Err(e) => return Err(e.into_response()),
    };
    match psu::expired(state, &mut session).await {
        Ok(false) if !session.journey.stage.is_final() => Ok(session),
        Ok(_) => Err(expired()),
        Err(e) => Err(e.into_response()),
    }
}

/// The live journey of a form post whose CSRF token matches, with the form.
async fn posted_session(
    state: &AppState,
    bank: &Bank,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<(Session, Vec<(String, String)>), Response> {
    let t = pages::texts_for(headers);
    let form: Vec<(String, String)> = url::form_urlencoded::parse(body).into_owned().collect();
    let csrf = form_value(&form, "csrf").unwrap_or("");
    match psu::posted(state, Purpose::Fallback, bank.code(), headers, csrf).await {
        Ok(Ok(_)) => {}
        Ok(Err(NotAStep::NoJourney)) => {
            return Err(message(t, bank, StatusCode::UNAUTHORIZED, t.session_expired, true));
        }
        Ok(Err(NotAStep::ForeignForm)) => {
            return Err(message(t, bank, StatusCode::FORBIDDEN, "This form does not belong to your session.", true));
        }
        Err(e) => return Err(e.into_response()),
    }
    let session = live_session(state, bank, headers).await?;
    Ok((session, form))
}

fn form_value<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// `POST /online-banking/login`: identification, then the one-time code.
pub async fn login_step(
    State(state): State<AppState>,
    Extension(bank): Extension<Bank>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let t = pages::texts_for(&headers);
    let (mut session, form) = match posted_session(&state, &bank, &headers, &body).await {
        Ok(s) => s,
        Err(response) => return response,
    };
    if form_value(&form, "action") == Some("cancel") {
        return end(&state, &bank, t, &mut session).await;
    }
    if session.journey.stage == Stage::Approved {
        return see_other("/online-banking/accounts");
    }
    let step = psu::advance(
        &state,
        &mut session,
        form_value(&form, "psu_id"),
        form_value(&form, "otp"),
        false,
        &psu::ChallengeContext::default(),
    )
    .await;
    signed_in_or_not(&state, &bank, t, &session, step).await
}

/// What a step of the sign-in leads to: the next page, the accounts, or the refusal (on record).
async fn signed_in_or_not(
    state: &AppState,
    bank: &Bank,
    t: &'static Texts,
    session: &Session,
    step: Result<Step, ApiError>,
) -> Response {
    let jti = jti_of(session);
    let client = session.journey.client_id.clone();
    let look = pages::look(state, bank);
    let csrf = session.csrf();
    let ctx = PageContext { t, bank: &look, csrf: &csrf, action: LOGIN };
    let sandbox = state.mode == Mode::Sandbox;
    match step {
        Ok(Step::Authenticate { attempts_left }) => {
            let error = attempts_left.map(|n| format!("{} {} {n}", t.wrong_code, t.attempts_left));
            pages::authenticate(&ctx, sandbox, error)
        }
        Ok(Step::Approved | Step::Choose) => {
            let _ = super::record(state, bank.code(), Some(&client), Some(&jti), "sign-in", true, "PSU authenticated")
                .await;
            see_other("/online-banking/accounts")
        }
        Ok(Step::Ended(ending)) => {
            let (detail, status, shown) = match ending {
                Ending::TooManyFailures => ("too many failed attempts", StatusCode::UNAUTHORIZED, t.wrong_id),
                Ending::Expired => ("the session expired", StatusCode::UNAUTHORIZED, t.wrong_id),
                Ending::Cancelled => ("cancelled", StatusCode::UNAUTHORIZED, t.wrong_id),
                Ending::NotAuthenticated => (
                    "no strong authentication at the bank's identity provider",
                    StatusCode::UNAUTHORIZED,
                    t.provider_refused,
                ),
                Ending::UnknownPsu => {
                    ("the identity provider's PSU is not in the ledger", StatusCode::FORBIDDEN, t.provider_unknown_psu)
                }
            };
            let _ = super::record(state, bank.code(), Some(&client), Some(&jti), "sign-in", false, detail).await;
            message(t, bank, status, shown, true)
        }
        Ok(Step::Stale) => match session.journey.stage {
            Stage::Authenticate if !state.authenticator.redirects(bank.code()) => {
                pages::authenticate(&ctx, sandbox, None)
            }
            _ => message(t, bank, StatusCode::CONFLICT, t.session_expired, true),
        },
        Err(e) => e.into_response(),
    }
}

/// The PSU back from the bank's identity provider (`/psu/oidc/callback`, routed here by the
/// purpose its `state` names).
pub async fn returned(state: &AppState, bank: &Bank, headers: &HeaderMap, params: &Params) -> Response {
    let t = pages::texts_for(headers);
    let mut session = match psu::oidc_journey::returned(state, Purpose::Fallback, bank.code(), headers, params).await {
        Ok(Ok(session)) => session,
        Ok(Err(NotAStep::NoJourney)) => return message(t, bank, StatusCode::UNAUTHORIZED, t.session_expired, true),
        Ok(Err(NotAStep::ForeignForm)) => return message(t, bank, StatusCode::FORBIDDEN, t.provider_foreign, true),
        Err(e) => return e.into_response(),
    };
    match psu::expired(state, &mut session).await {
        Ok(false) if !session.journey.stage.is_final() => {}
        Ok(_) => return message(t, bank, StatusCode::UNAUTHORIZED, t.session_expired, true),
        Err(e) => return e.into_response(),
    }
    let context = psu::ChallengeContext::default();
    let step = psu::oidc_journey::complete(state, &mut session, params, false, &context).await;
    signed_in_or_not(state, bank, t, &session, step).await
}

async fn end(state: &AppState, bank: &Bank, t: &'static Texts, session: &mut Session) -> Response {
    let closed = if session.journey.stage == Stage::Approved {
        psu::close(state, session).await
    } else {
        psu::end(state, session, Ending::Cancelled).await.map(|_| ())
    };
    if let Err(e) = closed {
        return e.into_response();
    }
    let mut response = message(t, bank, StatusCode::OK, t.signed_out, false);
    session.clear_cookie(&mut response);
    response
}

fn see_other(location: &'static str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    response.headers_mut().insert(header::LOCATION, HeaderValue::from_static(location));
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The signed-in PSU of a live journey.
async fn signed_in(state: &AppState, bank: &Bank, headers: &HeaderMap) -> Result<(PsuId, String), Response> {
    let t = pages::texts_for(headers);
    let session = live_session(state, bank, headers).await?;
    match (session.journey.stage, &session.journey.psu) {
        (Stage::Approved, Some(psu)) => Ok((psu.clone(), session.csrf())),
        _ => Err(message(t, bank, StatusCode::UNAUTHORIZED, t.session_expired, true)),
    }
}

/// `GET /online-banking/accounts`.
pub async fn accounts(State(state): State<AppState>, Extension(bank): Extension<Bank>, headers: HeaderMap) -> Response {
    let t = pages::texts_for(&headers);
    let (psu, csrf) = match signed_in(&state, &bank, &headers).await {
        Ok(p) => p,
        Err(response) => return response,
    };
    let held = match state.ledger.psu_accounts(bank.code(), &psu).await {
        Ok(h) => h,
        Err(e) => return failure(e),
    };
    let today = state.calendar.today(state.clock.as_ref());
    let ids: Vec<stet::ResourceId> = held.iter().map(|h| h.account.resource_id.clone()).collect();
    let balances: std::collections::HashMap<stet::ResourceId, crate::ledger::Balances> =
        match state.ledger.balances(bank.code(), &ids, today).await {
            Ok(b) => b.into_iter().collect(),
            Err(e) => return failure(e),
        };
    let mut lines = Vec::new();
    for h in held {
        let balances = balances.get(&h.account.resource_id);
        lines.push(AccountLine {
            resource_id: h.account.resource_id.to_string(),
            name: h.account.name.clone(),
            iban: h.account.iban.to_string(),
            status: h.account.status.as_str(),
            booked: balances.map(|b| b.booked.to_string()).unwrap_or_default(),
            instant: balances.map(|b| b.instant().to_string()).unwrap_or_default(),
        });
    }
    let look = pages::look(&state, &bank);
    html(StatusCode::OK, AccountsPage { frame: frame(t, &look), accounts: lines, csrf: &csrf }.render())
}

/// `GET /online-banking/accounts/{id}`.
pub async fn account(
    State(state): State<AppState>,
    Extension(bank): Extension<Bank>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let t = pages::texts_for(&headers);
    let (psu, csrf) = match signed_in(&state, &bank, &headers).await {
        Ok(p) => p,
        Err(response) => return response,
    };
    let held = match state.ledger.psu_accounts(bank.code(), &psu).await {
        Ok(h) => h,
        Err(e) => return failure(e),
    };
    let Some(account) = held.into_iter().map(|h| h.account).find(|a| a.resource_id.as_str() == id) else {
        return message(t, &bank, StatusCode::NOT_FOUND, "No such account.", true);
    };
    let today = state.calendar.today(state.clock.as_ref());
    let from = today.checked_sub(jiff::Span::new().days(HISTORY_DAYS - 1)).unwrap_or(today);
    let to = today.tomorrow().unwrap_or(today);
    let window = crate::ledger::DateWindow { from, to };
    let (balances, transactions) = match (
        state.ledger.balances_of(bank.code(), &account.resource_id, today).await,
        state.ledger.transactions(bank.code(), &account.resource_id, window).await,
    ) {
        (Ok(b), Ok(t)) => (b, t),
        (Err(e), _) | (_, Err(e)) => return failure(e),
    };
    let lines = transactions
        .into_iter()
        .map(|tx| TransactionLine {
            date: tx.booking_date.unwrap_or(tx.transaction_date).to_string(),
            label: tx.remittance.join(" "),
            amount: match tx.credit_debit {
                crate::ledger::CreditDebit::Credit => format!("+{}", tx.amount),
                crate::ledger::CreditDebit::Debit => format!("-{}", tx.amount),
            },
            status: match tx.status {
                crate::ledger::TransactionStatus::Book => "",
                crate::ledger::TransactionStatus::Othr => t.pending,
            },
        })
        .collect();
    let look = pages::look(&state, &bank);
    html(
        StatusCode::OK,
        AccountPage {
            frame: frame(t, &look),
            account_name: account.name.clone(),
            iban: account.iban.to_string(),
            booked: balances.map(|b| b.booked.to_string()).unwrap_or_default(),
            instant: balances.map(|b| b.instant().to_string()).unwrap_or_default(),
            transactions: lines,
            csrf: &csrf,
        }
        .render(),
    )
}

/// `POST /online-banking/logout`.
pub async fn logout(
    State(state): State<AppState>,
    Extension(bank): Extension<Bank>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let t = pages::texts_for(&headers);
    match posted_session(&state, &bank, &headers, &body).await {
        Ok((mut session, _)) => end(&state, &bank, t, &mut session).await,
        Err(response) => response,
    }
}
