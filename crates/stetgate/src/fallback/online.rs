//! The bank's online banking, reached through a fallback JWT.
//!
//! - `GET /online-banking/login?service=dei&cdetab=<bank>&fallback=<JWT>`: the JWT must verify with
//!   the bank's key, name this bank, be unexpired and never used (it is spent here, atomically);
//!   then the identification page.
//! - `POST /online-banking/login`: identification, then the one-time code (as on the authorization
//!   pages; three failures end the session), then the accounts.
//! - `GET /online-banking/accounts`, `GET /online-banking/accounts/{id}`: accounts with balances,
//!   an account's transactions of the last 90 days.
//! - `POST /online-banking/logout`.
//!
//! The session is a cookie holding a random secret (only its hash is stored), bound to the bank;
//! the forms' CSRF token is derived from that secret. Nothing here is an API token.

use super::{OnlineSession, OnlineStage};
use crate::app::AppState;
use crate::config::Mode;
use crate::edge::bank::Bank;
use crate::edge::error::ApiError;
use crate::ledger::PsuId;
use crate::oauth::pages::{self, BankLook, Frame, PageContext, Texts, TppShown, frame, html};
use crate::secret::{Secret, hash_secret};
use crate::store::Consumed;
use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use bytes::Bytes;

const SESSION_COOKIE: &str = "stetgate_online";
const LOGIN: &str = "/online-banking/login";
const MAX_FAILURES: i64 = 3;
const SANDBOX_OTP: &str = "12345678";
/// How far back the transactions page looks.
const HISTORY_DAYS: i64 = 90;

/// The online-banking routes, mounted at `/online-banking`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(login).post(login_step))
        .route("/accounts", get(accounts))
        .route("/accounts/{id}", get(account))
        .route("/logout", post(logout))
        .route_layer(axum::middleware::from_fn(pages::html_errors))
}

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

fn look(bank: &Bank) -> BankLook {
    BankLook::new(&bank.0.name, bank.0.code.as_str(), &bank.0.brand)
}

fn message(t: &'static Texts, bank: &Bank, status: StatusCode, text: &str, error: bool) -> Response {
    let look = look(bank);
    html(status, MessagePage { frame: frame(t, &look), message: text, error }.render())
}

fn unavailable(e: impl std::fmt::Display) -> Response {
    ApiError::unavailable(format!("online banking: {e}")).into_response()
}

/// The CSRF token of a session: derived from its cookie secret, so it need not be stored.
fn csrf_of(session_secret: &Secret) -> String {
    hash_secret(&format!("csrf:{}", session_secret.expose()))
}

fn session_cookie(headers: &HeaderMap) -> Option<Secret> {
    crate::secret::cookie_secret(headers, SESSION_COOKIE)
}

/// `GET /online-banking/login?fallback=<JWT>`.
async fn login(
    State(state): State<AppState>,
    Extension(bank): Extension<Bank>,
    connection: Option<Extension<crate::edge::tls::ConnectionInfo>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let t = pages::texts_for(&headers);
    let code = bank.code();
    if let Some(refused) = pages::over_page_limit(&state, connection.map(|c| c.0.peer.ip()), t, &look(&bank)) {
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
    let client = match state.store.consume_fallback_grant(&claims.jti, code, now.as_millisecond()).await {
        Ok(Consumed::Fresh(c)) if Some(&c) == client.as_ref() => c,
        Ok(Consumed::Fresh(_)) => {
            return refuse("JWT subject is not the TPP it was issued to".into(), client, jti).await;
        }
        Ok(Consumed::Used) => return refuse("JWT already used".into(), client, jti).await,
        Ok(Consumed::Expired) => return refuse("JWT expired".into(), client, jti).await,
        Ok(Consumed::Unknown) => return refuse("JWT not issued by this bank".into(), client, jti).await,
        Err(e) => return unavailable(e),
    };
    let Ok(secret) = Secret::generate() else {
        return ApiError::Internal("no randomness for the session".into()).into_response();
    };
    let csrf = csrf_of(&secret);
    let session = OnlineSession {
        session_hash: secret.hash(),
        jti: claims.jti.clone(),
        bank: code,
        client_id: client.clone(),
        stage: OnlineStage::Identify,
        psu: None,
        failures: 0,
        created_at: now.as_millisecond(),
    };
    if let Err(e) = state.store.insert_online_session(&session).await {
        return unavailable(e);
    }
    if let Err(e) = super::record(&state, code, Some(&client), Some(&claims.jti), "login", true, "JWT accepted").await {
        return unavailable(e);
    }
    let registration = state.store.registration(&client).await.ok().flatten();
    let tpp = match &registration {
        Some(r) => TppShown::of(r),
        None => TppShown { name: client.as_str(), organization: None, client_id: client.as_str() },
    };
    let look = look(&bank);
    let ctx = PageContext { t, bank: &look, csrf: &csrf, action: LOGIN };
    let mut response = pages::identify(&ctx, &tpp, t.scope_aisp.to_owned(), None);
    crate::secret::set_secret_cookie(
        &mut response,
        SESSION_COOKIE,
        &secret,
        "/online-banking",
        state.config.fallback.session_lifetime_secs,
    );
    response
}

/// The session of this browser at this bank, live (not ended, not expired).
async fn live_session(state: &AppState, bank: &Bank, headers: &HeaderMap) -> Result<(OnlineSession, Secret), Response> {
    let t = pages::texts_for(headers);
    let expired = || message(t, bank, StatusCode::UNAUTHORIZED, t.session_expired, true);
    let secret = session_cookie(headers).ok_or_else(expired)?;
    let session = match state.store.online_session(&secret.hash()).await {
        Ok(Some(s)) => s,
        Ok(None) => return Err(expired()),
        Err(e) => return Err(unavailable(e)),
    };
    let too_old =
        state.clock.now().as_millisecond() - session.created_at > state.config.fallback.session_lifetime_secs * 1000;
    if session.bank != bank.code() || session.stage == OnlineStage::Ended || too_old {
        return Err(expired());
    }
    Ok((session, secret))
}

use crate::secret::same_secret as same;

/// The live session of a form post whose CSRF token matches, with the form.
async fn posted_session(
    state: &AppState,
    bank: &Bank,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<(OnlineSession, Secret, Vec<(String, String)>), Response> {
    let t = pages::texts_for(headers);
    let (session, secret) = live_session(state, bank, headers).await?;
    let form: Vec<(String, String)> = url::form_urlencoded::parse(body).into_owned().collect();
    if !same(form_value(&form, "csrf").unwrap_or(""), &csrf_of(&secret)) {
        return Err(message(t, bank, StatusCode::FORBIDDEN, "This form does not belong to your session.", true));
    }
    Ok((session, secret, form))
}

fn form_value<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// `POST /online-banking/login`: identification, then the one-time code.
async fn login_step(
    State(state): State<AppState>,
    Extension(bank): Extension<Bank>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let t = pages::texts_for(&headers);
    let (mut session, secret, form) = match posted_session(&state, &bank, &headers, &body).await {
        Ok(s) => s,
        Err(response) => return response,
    };
    let csrf = csrf_of(&secret);
    if form_value(&form, "action") == Some("cancel") {
        return end(&state, &bank, t, &mut session).await;
    }
    let look = look(&bank);
    let ctx = PageContext { t, bank: &look, csrf: &csrf, action: LOGIN };
    match session.stage {
        OnlineStage::Identify => {
            let typed = form_value(&form, "psu_id").unwrap_or("").trim().to_owned();
            let psu = match PsuId::parse(&typed) {
                Some(id) => state.ledger.psu(bank.code(), &id).await,
                None => Ok(None),
            };
            match psu {
                Ok(Some(psu)) => {
                    session.stage = OnlineStage::Authenticate;
                    session.psu = Some(psu.id.clone());
                    if let Err(e) = state.store.update_online_session(&session).await {
                        return unavailable(e);
                    }
                    pages::authenticate(
                        &ctx,
                        &pages::mask_phone(psu.phone.as_deref()),
                        state.mode == Mode::Sandbox,
                        None,
                    )
                }
                Ok(None) => match failed(&state, &bank, t, &mut session).await {
                    Ok(text) => {
                        let tpp = TppShown { name: "", organization: None, client_id: session.client_id.as_str() };
                        pages::identify(&ctx, &tpp, t.scope_aisp.to_owned(), Some(text))
                    }
                    Err(response) => response,
                },
                Err(e) => unavailable(e),
            }
        }
        OnlineStage::Authenticate => {
            let code = form_value(&form, "otp").unwrap_or("").trim();
            if state.mode == Mode::Sandbox && same(code, SANDBOX_OTP) {
                session.stage = OnlineStage::SignedIn;
                if let Err(e) = state.store.update_online_session(&session).await {
                    return unavailable(e);
                }
                let _ = super::record(
                    &state,
                    bank.code(),
                    Some(&session.client_id),
                    Some(&session.jti),
                    "sign-in",
                    true,
                    "PSU authenticated",
                )
                .await;
                return see_other("/online-banking/accounts");
            }
            match failed(&state, &bank, t, &mut session).await {
                Ok(text) => pages::authenticate(&ctx, "•• •• •• •• ••", state.mode == Mode::Sandbox, Some(text)),
                Err(response) => response,
            }
        }
        OnlineStage::SignedIn => see_other("/online-banking/accounts"),
        OnlineStage::Ended => message(t, &bank, StatusCode::UNAUTHORIZED, t.session_expired, true),
    }
}

/// Counts a failed attempt; the third ends the session (and is recorded).
async fn failed(
    state: &AppState,
    bank: &Bank,
    t: &'static Texts,
    session: &mut OnlineSession,
) -> Result<String, Response> {
    session.failures += 1;
    if session.failures >= MAX_FAILURES {
        session.stage = OnlineStage::Ended;
        if let Err(e) = state.store.update_online_session(session).await {
            return Err(unavailable(e));
        }
        let _ = super::record(
            state,
            bank.code(),
            Some(&session.client_id),
            Some(&session.jti),
            "sign-in",
            false,
            "too many failed attempts",
        )
        .await;
        return Err(message(t, bank, StatusCode::UNAUTHORIZED, t.wrong_id, true));
    }
    if let Err(e) = state.store.update_online_session(session).await {
        return Err(unavailable(e));
    }
    Ok(format!("{} {} {}", t.wrong_id, t.attempts_left, MAX_FAILURES - session.failures))
}

async fn end(state: &AppState, bank: &Bank, t: &'static Texts, session: &mut OnlineSession) -> Response {
    session.stage = OnlineStage::Ended;
    if let Err(e) = state.store.update_online_session(session).await {
        return unavailable(e);
    }
    let mut response = message(t, bank, StatusCode::OK, t.signed_out, false);
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("stetgate_online=; Path=/online-banking; HttpOnly; Secure; SameSite=Lax; Max-Age=0"),
    );
    response
}

fn see_other(location: &'static str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    response.headers_mut().insert(header::LOCATION, HeaderValue::from_static(location));
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The signed-in PSU of a live session.
async fn signed_in(state: &AppState, bank: &Bank, headers: &HeaderMap) -> Result<(PsuId, String), Response> {
    let t = pages::texts_for(headers);
    let (session, secret) = live_session(state, bank, headers).await?;
    match (session.stage, session.psu) {
        (OnlineStage::SignedIn, Some(psu)) => Ok((psu, csrf_of(&secret))),
        _ => Err(message(t, bank, StatusCode::UNAUTHORIZED, t.session_expired, true)),
    }
}

/// `GET /online-banking/accounts`.
async fn accounts(State(state): State<AppState>, Extension(bank): Extension<Bank>, headers: HeaderMap) -> Response {
    let t = pages::texts_for(&headers);
    let (psu, csrf) = match signed_in(&state, &bank, &headers).await {
        Ok(p) => p,
        Err(response) => return response,
    };
    let held = match state.ledger.psu_accounts(bank.code(), &psu).await {
        Ok(h) => h,
        Err(e) => return unavailable(e),
    };
    let today = state.calendar.today(state.clock.as_ref());
    let mut lines = Vec::new();
    for h in held {
        let balances = match state.ledger.balances(bank.code(), &h.account.resource_id, today).await {
            Ok(b) => b,
            Err(e) => return unavailable(e),
        };
        lines.push(AccountLine {
            resource_id: h.account.resource_id.to_string(),
            name: h.account.name.clone(),
            iban: h.account.iban.to_string(),
            status: h.account.status.as_str(),
            booked: balances.map(|b| b.booked.to_string()).unwrap_or_default(),
            instant: balances.map(|b| b.instant().to_string()).unwrap_or_default(),
        });
    }
    let look = look(&bank);
    html(StatusCode::OK, AccountsPage { frame: frame(t, &look), accounts: lines, csrf: &csrf }.render())
}

/// `GET /online-banking/accounts/{id}`.
async fn account(
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
        Err(e) => return unavailable(e),
    };
    let Some(account) = held.into_iter().map(|h| h.account).find(|a| a.resource_id.as_str() == id) else {
        return message(t, &bank, StatusCode::NOT_FOUND, "No such account.", true);
    };
    let today = state.calendar.today(state.clock.as_ref());
    let from = today.checked_sub(jiff::Span::new().days(HISTORY_DAYS - 1)).unwrap_or(today);
    let to = today.tomorrow().unwrap_or(today);
    let window = crate::ledger::DateWindow { from, to };
    let (balances, transactions) = match (
        state.ledger.balances(bank.code(), &account.resource_id, today).await,
        state.ledger.transactions(bank.code(), &account.resource_id, window).await,
    ) {
        (Ok(b), Ok(t)) => (b, t),
        (Err(e), _) | (_, Err(e)) => return unavailable(e),
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
    let look = look(&bank);
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
async fn logout(
    State(state): State<AppState>,
    Extension(bank): Extension<Bank>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let t = pages::texts_for(&headers);
    match posted_session(&state, &bank, &headers, &body).await {
        Ok((mut session, _, _)) => end(&state, &bank, t, &mut session).await,
        Err(response) => response,
    }
}
