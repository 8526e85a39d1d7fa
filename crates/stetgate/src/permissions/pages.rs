//! `/psu/access` on each bank's host: the PSU signs in (a journey of [`crate::psu`]: the same
//! cookie, CSRF token, attempt limits and strong authentication as an authorization), sees every
//! TPP with access, and withdraws one, after a confirmation step. At a bank whose PSUs
//! authenticate at its OpenID provider, the sign-in is there, and its answer comes back through
//! `/psu/oidc/callback` to [`returned`].

use super::model::{AccessRole, WithdrawnBy};
use super::{Overview, overview, withdraw};
use crate::edge::bank::Bank;
use crate::edge::error::ApiError;
use crate::edge::form::Params;
use crate::edge::tls::ConnectionInfo;
use crate::psu::pages::{self, BankLook, Texts};
use crate::psu::{self, ChallengeContext, Ending, NotAStep, Purpose, Session, Stage, Step};
use crate::state::AppState;
use askama::Template;
use axum::Extension;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use stet::OrgId;

const ACCESS_PATH: &str = "/psu/access";
const WITHDRAW_PATH: &str = "/psu/access/withdraw";
const LOGOUT_PATH: &str = "/psu/access/logout";
/// How long a dashboard session lasts.
const SESSION: jiff::SignedDuration = jiff::SignedDuration::from_mins(15);

#[derive(Template)]
#[template(path = "access_login.html")]
struct LoginPage<'a> {
    frame: pages::Frame<'a>,
    stage: &'a str,
    sandbox: bool,
    csrf: &'a str,
    action: &'a str,
    error: Option<String>,
}

/// One role of one TPP, as the page shows it.
struct RoleView {
    role: &'static str,
    title: &'static str,
    /// (name, IBAN, what is shared)
    accounts: Vec<(String, String, String)>,
    identity: bool,
    /// (payee and day, amount, status)
    payments: Vec<(String, String, String)>,
    since: Option<String>,
    until: Option<String>,
    last_used: String,
}

struct TppView {
    client_id: String,
    name: String,
    organization: Option<String>,
    psd2_roles: Vec<&'static str>,
    roles: Vec<RoleView>,
}

#[derive(Template)]
#[template(path = "access.html")]
struct AccessPage<'a> {
    frame: pages::Frame<'a>,
    tpps: Vec<TppView>,
    /// (when, TPP, role, by whom)
    withdrawals: Vec<(String, String, String, String)>,
    csrf: &'a str,
    withdraw_action: &'a str,
    logout_action: &'a str,
}

#[derive(Template)]
#[template(path = "access_message.html")]
struct MessagePage<'a> {
    frame: pages::Frame<'a>,
    message: &'a str,
}

fn message(t: &'static Texts, look: &BankLook, text: &str) -> Response {
    pages::html(StatusCode::OK, MessagePage { frame: pages::frame(t, look), message: text }.render())
}

#[derive(Template)]
#[template(path = "access_confirm.html")]
struct ConfirmPage<'a> {
    frame: pages::Frame<'a>,
    tpp_name: &'a str,
    client_id: &'a str,
    role: &'a str,
    role_title: &'a str,
    /// The other roles the same token pairs serve, withdrawn with it.
    also: Vec<&'a str>,
    csrf: &'a str,
    action: &'a str,
}

fn role_title(t: &Texts, role: AccessRole) -> &'static str {
    match role {
        AccessRole::Aisp => t.role_aisp,
        AccessRole::Cbpii => t.role_cbpii,
        AccessRole::Pisp => t.role_pisp,
    }
}

/// A Paris date and time, as the PSU reads it.
fn when(state: &AppState, t: jiff::Timestamp) -> String {
    t.to_zoned(state.calendar.time_zone().clone()).strftime("%d/%m/%Y %H:%M").to_string()
}

/// A withdrawal as listed: when, the TPP, the role, by whom.
type WithdrawalRow = (String, String, String, String);

fn view(state: &AppState, t: &'static Texts, overview: &Overview) -> (Vec<TppView>, Vec<WithdrawalRow>) {
    let shared = |what: &str| match what {
        "balances" => t.shared_balances,
        "transactions" => t.shared_transactions,
        "overdrafts" => t.shared_overdrafts,
        _ => t.shared_funds,
    };
    let tpps = overview
        .tpps
        .iter()
        .map(|tpp| TppView {
            client_id: tpp.client_id.to_string(),
            name: tpp.name.clone(),
            organization: tpp.organization.clone(),
            psd2_roles: tpp.psd2_roles.clone(),
            roles: tpp
                .roles
                .iter()
                .map(|r| RoleView {
                    role: r.role.as_str(),
                    title: role_title(t, r.role),
                    accounts: r
                        .accounts
                        .iter()
                        .map(|(a, what)| {
                            (
                                a.name.clone(),
                                a.iban.clone(),
                                what.iter().map(|w| shared(w)).collect::<Vec<_>>().join(", "),
                            )
                        })
                        .collect(),
                    identity: r.identity,
                    payments: r
                        .payments
                        .iter()
                        .map(|p| {
                            let day = match p.frequency {
                                Some(f) => format!("{} ({f})", p.next_day),
                                None => p.next_day.clone(),
                            };
                            (format!("{} · {day}", p.payee), p.amount.clone(), p.status.to_owned())
                        })
                        .collect(),
                    since: r.since.map(|s| when(state, s)),
                    until: r.until.map(|u| when(state, u)),
                    last_used: r.last_used.map(|l| when(state, l)).unwrap_or_else(|| t.never_used.to_owned()),
                })
                .collect(),
        })
        .collect();
    let withdrawals = overview
        .withdrawals
        .iter()
        .map(|w| {
            let by = match w.by {
                WithdrawnBy::Psu => t.withdrawn_by_psu,
                WithdrawnBy::Support => t.withdrawn_by_support,
            };
            (when(state, w.at), w.client_id.to_string(), role_title(t, w.role).to_owned(), by.to_owned())
        })
        .collect();
    (tpps, withdrawals)
}

/// The signed-in PSU's session, if this browser holds one that is approved and live.
async fn signed_in(state: &AppState, bank: &Bank, headers: &HeaderMap) -> Result<Option<Session>, ApiError> {
    let Some(mut session) = psu::current(state, Purpose::Dashboard, bank.code(), headers).await? else {
        return Ok(None);
    };
    if psu::expired(state, &mut session).await? || session.journey.stage != Stage::Approved {
        return Ok(None);
    }
    Ok(Some(session))
}

fn login_page(
    state: &AppState,
    t: &'static Texts,
    look: &BankLook,
    csrf: &str,
    stage: &str,
    error: Option<String>,
) -> Response {
    let sandbox = state.mode == crate::config::Mode::Sandbox;
    let page = LoginPage { frame: pages::frame(t, look), stage, sandbox, csrf, action: ACCESS_PATH, error };
    pages::html(StatusCode::OK, page.render())
}

/// `GET /psu/access`: the dashboard, or the sign-in.
pub async fn show(
    State(state): State<AppState>,
    Extension(bank): Extension<Bank>,
    connection: Option<Extension<ConnectionInfo>>,
    headers: HeaderMap,
    uri: axum::http::Uri,
) -> Result<Response, ApiError> {
    let t = pages::texts_for(&headers);
    let look = pages::look(&state, &bank);
    if let Some(refused) = pages::over_page_limit(&state, connection.map(|c| c.0.peer.ip()), t, &look) {
        return Ok(refused);
    }
    if let Some(session) = signed_in(&state, &bank, &headers).await? {
        return dashboard(&state, t, &look, &session).await;
    }
    if !state.authenticator.available(bank.code()) {
        return Ok(pages::error(t, &look, StatusCode::SERVICE_UNAVAILABLE, t.unavailable));
    }
    let mut session =
        psu::begin(&state, Purpose::Dashboard, bank.code(), psu::model::bank_itself(), String::new(), SESSION).await?;
    if state.authenticator.redirects(bank.code()) {
        let authority = crate::edge::bank::request_authority(&headers, &uri);
        let context = ChallengeContext::default();
        return psu::oidc_journey::to_provider(&state, &mut session, authority.as_deref(), &context).await;
    }
    let mut response = login_page(&state, t, &look, &session.csrf(), "identify", None);
    session.set_cookie(&mut response, state.clock.now());
    Ok(response)
}

async fn dashboard(
    state: &AppState,
    t: &'static Texts,
    look: &BankLook,
    session: &Session,
) -> Result<Response, ApiError> {
    let Some(psu) = &session.journey.psu else {
        return Err(ApiError::Internal("a signed-in journey without its PSU".into()));
    };
    let now = state.clock.now();
    let overview = overview(
        &state.store,
        state.ledger.as_ref(),
        session.journey.bank,
        psu,
        state.config.oauth.sca_validity(),
        now,
    )
    .await?;
    let (tpps, withdrawals) = view(state, t, &overview);
    let csrf = session.csrf();
    let page = AccessPage {
        frame: pages::frame(t, look),
        tpps,
        withdrawals,
        csrf: &csrf,
        withdraw_action: WITHDRAW_PATH,
        logout_action: LOGOUT_PATH,
    };
    Ok(pages::html(StatusCode::OK, page.render()))
}

/// 303 to the dashboard (after a sign-in or a withdrawal: a reload does not post again).
fn to_dashboard() -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    response.headers_mut().insert(header::LOCATION, HeaderValue::from_static(ACCESS_PATH));
    response
}

/// A posted form of the dashboard, with its journey (its cookie and CSRF token checked) and what
/// the answer's pages need.
struct Posted {
    t: &'static Texts,
    look: BankLook,
    form: Params,
    session: Session,
}

/// The posted form and its journey, or the page saying why not.
async fn posted(
    state: &AppState,
    bank: &Bank,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Result<Posted, Response>, ApiError> {
    let (t, look, form) = (pages::texts_for(headers), pages::look(state, bank), Params::parse(body));
    let csrf = form.one("csrf").ok().flatten().unwrap_or("");
    Ok(match psu::posted(state, Purpose::Dashboard, bank.code(), headers, csrf).await? {
        Ok(session) => Ok(Posted { t, look, form, session }),
        Err(NotAStep::NoJourney) => Err(pages::error(t, &look, StatusCode::BAD_REQUEST, t.session_expired)),
        Err(NotAStep::ForeignForm) => Err(pages::error(t, &look, StatusCode::FORBIDDEN, t.foreign_form)),
    })
}

/// `POST /psu/access`: the sign-in's steps.
pub async fn sign_in(
    State(state): State<AppState>,
    Extension(bank): Extension<Bank>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let Posted { t, look, form, mut session } = match posted(&state, &bank, &headers, &body).await? {
        Ok(posted) => posted,
        Err(page) => return Ok(page),
    };
    if psu::expired(&state, &mut session).await? || session.journey.stage.is_final() {
        return Ok(pages::error(t, &look, StatusCode::FORBIDDEN, t.session_expired));
    }
    if form.one("action").ok().flatten() == Some("cancel") {
        psu::end(&state, &mut session, Ending::Cancelled).await?;
        let mut page = message(t, &look, t.signed_out);
        session.clear_cookie(&mut page);
        return Ok(page);
    }
    let (psu_id, code) = (form.one("psu_id").ok().flatten(), form.one("otp").ok().flatten());
    let csrf = session.csrf();
    Ok(match psu::advance(&state, &mut session, psu_id, code, false, &ChallengeContext::default()).await? {
        Step::Authenticate { attempts_left } => {
            let error = attempts_left.map(|n| format!("{} {} {n}", t.wrong_code, t.attempts_left));
            login_page(&state, t, &look, &csrf, "authenticate", error)
        }
        Step::Approved => to_dashboard(),
        Step::Ended(_) => pages::error(t, &look, StatusCode::FORBIDDEN, t.session_expired),
        Step::Choose | Step::Stale => match session.journey.stage {
            _ if state.authenticator.redirects(bank.code()) => {
                pages::error(t, &look, StatusCode::FORBIDDEN, t.session_expired)
            }
            Stage::Identify => login_page(&state, t, &look, &csrf, "identify", None),
            Stage::Authenticate => login_page(&state, t, &look, &csrf, "authenticate", None),
            Stage::Approved => to_dashboard(),
            _ => pages::error(t, &look, StatusCode::FORBIDDEN, t.session_expired),
        },
    })
}

/// The PSU back from the bank's identity provider (`/psu/oidc/callback`, routed here by the
/// purpose its `state` names): signed in, then the dashboard.
pub async fn returned(
    state: &AppState,
    bank: &Bank,
    headers: &HeaderMap,
    params: &Params,
) -> Result<Response, ApiError> {
    let (t, look) = (pages::texts_for(headers), pages::look(state, bank));
    let mut session = match psu::oidc_journey::returned(state, Purpose::Dashboard, bank.code(), headers, params).await?
    {
        Ok(session) => session,
        Err(NotAStep::NoJourney) => return Ok(pages::error(t, &look, StatusCode::BAD_REQUEST, t.session_expired)),
        Err(NotAStep::ForeignForm) => return Ok(pages::error(t, &look, StatusCode::FORBIDDEN, t.provider_foreign)),
    };
    if psu::expired(state, &mut session).await? || session.journey.stage.is_final() {
        return Ok(pages::error(t, &look, StatusCode::FORBIDDEN, t.session_expired));
    }
    let context = ChallengeContext::default();
    Ok(match psu::oidc_journey::complete(state, &mut session, params, false, &context).await? {
        Step::Approved => to_dashboard(),
        Step::Ended(Ending::UnknownPsu) => pages::error(t, &look, StatusCode::FORBIDDEN, t.provider_unknown_psu),
        Step::Ended(Ending::NotAuthenticated) => pages::error(t, &look, StatusCode::UNAUTHORIZED, t.provider_refused),
        _ if session.journey.stage == Stage::Approved => to_dashboard(),
        _ => pages::error(t, &look, StatusCode::FORBIDDEN, t.session_expired),
    })
}

/// `POST /psu/access/withdraw`: first the confirmation page, then (`action=confirm`) the
/// withdrawal.
pub async fn withdraw_access(
    State(state): State<AppState>,
    Extension(bank): Extension<Bank>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let Posted { t, look, form, session } = match posted(&state, &bank, &headers, &body).await? {
        Ok(posted) => posted,
        Err(page) => return Ok(page),
    };
    let Some(session) = signed_in(&state, &bank, &headers).await?.filter(|s| s.journey.key == session.journey.key)
    else {
        return Ok(pages::error(t, &look, StatusCode::FORBIDDEN, t.session_expired));
    };
    let Some(psu) = session.journey.psu.clone() else { return Ok(to_dashboard()) };
    let client = form.one("tpp").ok().flatten().and_then(|c| OrgId::parse(c).ok());
    let role = form.one("role").ok().flatten().and_then(AccessRole::parse);
    let (Some(client), Some(role)) = (client, role) else {
        return Ok(pages::error(t, &look, StatusCode::BAD_REQUEST, t.withdraw_incomplete));
    };
    match form.one("action").ok().flatten() {
        Some("confirm") => {
            match withdraw(&state.store, bank.code(), &psu, &client, role, WithdrawnBy::Psu, state.clock.now()).await? {
                Some(_) => Ok(to_dashboard()),
                None => Ok(message(t, &look, t.nothing_to_withdraw)),
            }
        }
        Some("cancel") => Ok(to_dashboard()),
        _ => {
            let name =
                state.store.registration(&client).await?.map(|r| r.client_name).unwrap_or_else(|| client.to_string());
            let csrf = session.csrf();
            let live = state.store.live_pairs(bank.code(), &psu, state.clock.now()).await?;
            let mut also: Vec<&str> = Vec::new();
            for pair in live.iter().filter(|p| p.pair.client_id == client && role.covers(&p.pair.scopes)) {
                for other in pair.pair.scopes.iter().map(AccessRole::of).filter(|r| *r != role) {
                    if !also.contains(&role_title(t, other)) {
                        also.push(role_title(t, other));
                    }
                }
            }
            let page = ConfirmPage {
                frame: pages::frame(t, &look),
                tpp_name: &name,
                client_id: client.as_str(),
                role: role.as_str(),
                role_title: role_title(t, role),
                also,
                csrf: &csrf,
                action: WITHDRAW_PATH,
            };
            Ok(pages::html(StatusCode::OK, page.render()))
        }
    }
}

/// `POST /psu/access/logout`.
pub async fn logout(
    State(state): State<AppState>,
    Extension(bank): Extension<Bank>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let Posted { t, look, mut session, .. } = match posted(&state, &bank, &headers, &body).await? {
        Ok(posted) => posted,
        Err(page) => return Ok(page),
    };
    psu::close(&state, &mut session).await?;
    let mut page = message(t, &look, t.signed_out);
    session.clear_cookie(&mut page);
    Ok(page)
}
