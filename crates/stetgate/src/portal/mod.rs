//! The sandbox's portal, `https://localhost:8443/` (sandbox only): the banks and their hosts, the
//! personas with their accounts and balances read live from the ledger, a link that tries the
//! authorization as a registered TPP, the last requests of a TPP with the check that refused
//! each and why (from [`crate::edge::recent`]), a form that issues test certificates and registers
//! the TPP ([`certificates`]), and where the guides are. Server-rendered,
//! French or English after `Accept-Language`, no script and no external resource.

pub mod certificates;
pub mod guides;
mod texts;

use crate::edge::error::ApiError;
use crate::ledger::PsuId;
use crate::ledger::personas::{BANKS, PSUS};
use crate::psu::pages;
use crate::state::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use stet::ApiVersion;
use stet::{BankCode, OrgId};
use texts::{ENGLISH, FRENCH, Texts};

/// Requests listed for a TPP.
const LISTED: usize = 50;

#[derive(Debug, serde::Deserialize)]
pub struct PortalQuery {
    /// The TPP whose last requests to show (its organization identifier).
    org: Option<String>,
}

struct BankRow {
    code: &'static str,
    name: &'static str,
    host: String,
}

struct AccountRow {
    name: String,
    iban: String,
    resource_id: String,
    booked: String,
    instant: String,
    open: bool,
}

struct PersonaRow {
    bank: &'static str,
    psu_id: &'static str,
    name: &'static str,
    accounts: Vec<AccountRow>,
}

struct RequestRow {
    at: String,
    method: &'static str,
    path: String,
    status: u16,
    code: String,
    why: String,
    ms: String,
}

#[derive(Template)]
#[template(path = "portal.html")]
struct PortalPage<'a> {
    t: &'static Texts,
    banks: Vec<BankRow>,
    personas: Vec<PersonaRow>,
    /// The organization id asked for, as typed.
    org: &'a str,
    org_valid: bool,
    registered: bool,
    requests: Vec<RequestRow>,
    authorize: Option<String>,
    /// (name, file) of each guide served at `/guides/{name}`.
    guides: Vec<(&'static str, &'static str)>,
    /// (version, its base URL on a bank host, where `openapi.html` and `openapi.json` are).
    references: Vec<(&'static str, String)>,
}

/// `GET /` on the sandbox's default host.
pub async fn home(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: axum::http::Uri,
    Query(query): Query<PortalQuery>,
) -> Result<Response, ApiError> {
    let t = texts_of(&headers);
    // The port the browser reached the sandbox on, for the bank hosts' links.
    // HTTP/2 browsers send no Host header: the URI's authority names it then.
    let authority = crate::edge::bank::request_authority(&headers, &uri).unwrap_or_else(|| "localhost:8443".into());
    let port = authority
        .rsplit_once(':')
        .filter(|(_, p)| p.chars().all(|c| c.is_ascii_digit()))
        .map_or("443", |(_, p)| p)
        .to_owned();
    let banks = BANKS.iter().map(|b| BankRow { code: b.code, name: b.name, host: bank_host(b.code, &port) }).collect();
    let personas = personas(&state).await?;
    let org = query.org.as_deref().map(str::trim).unwrap_or("");
    let org_id = OrgId::parse(org).ok();
    let registration = match &org_id {
        Some(id) => state.store.registration(id).await?,
        None => None,
    };
    let requests = match (&org_id, &state.recent) {
        (Some(id), Some(recent)) => recent.of(id, LISTED).into_iter().map(|r| request_row(&state, r)).collect(),
        _ => Vec::new(),
    };
    let authorize = registration.as_ref().and_then(|r| {
        let redirect = r.redirect_uris.first()?;
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("response_type", "code")
            .append_pair("client_id", org)
            .append_pair("redirect_uri", redirect)
            .append_pair("scope", "aisp")
            .append_pair("state", "portal")
            .finish();
        Some(format!("{}/stet/psd2/oauth/authorize?{query}", bank_host("17515", &port)))
    });
    let page = PortalPage {
        t,
        banks,
        personas,
        org,
        org_valid: org.is_empty() || org_id.is_some(),
        registered: registration.is_some(),
        requests,
        authorize,
        guides: guides::GUIDES.iter().map(|(name, file, _)| (*name, *file)).collect(),
        references: ApiVersion::ALL
            .iter()
            .map(|v| (v.segment(), format!("{}{}", bank_host("17515", &port), v.base_path())))
            .collect(),
    };
    Ok(pages::html(StatusCode::OK, page.render()))
}

/// The portal's words in the browser's language (French unless English is preferred).
fn texts_of(headers: &HeaderMap) -> &'static Texts {
    if pages::texts_for(headers).lang == "en" { &ENGLISH } else { &FRENCH }
}

/// A refused form, with the reason.
#[derive(Template)]
#[template(path = "portal_error.html")]
struct ErrorPage<'a> {
    t: &'static Texts,
    why: &'a str,
}

fn bank_host(code: &str, port: &str) -> String {
    format!("https://www.{code}.sandbox.localhost:{port}")
}

/// Every persona with its accounts and balances as the ledger holds them now.
async fn personas(state: &AppState) -> Result<Vec<PersonaRow>, ApiError> {
    let today = state.calendar.today(state.clock.as_ref());
    let mut rows = Vec::new();
    for seed in PSUS {
        let (Ok(bank), Some(psu)) = (BankCode::parse(seed.bank), PsuId::parse(seed.psu_id)) else { continue };
        let held = state.ledger.psu_accounts(bank, &psu).await?;
        let ids: Vec<_> = held.iter().map(|h| h.account.resource_id.clone()).collect();
        let balances = state.ledger.balances(bank, &ids, today).await?;
        let accounts = held
            .into_iter()
            .map(|h| {
                let b = balances.iter().find(|(id, _)| id == &h.account.resource_id).map(|(_, b)| *b);
                AccountRow {
                    open: h.is_eligible(),
                    name: h.account.name,
                    iban: h.account.iban.to_string(),
                    resource_id: h.account.resource_id.to_string(),
                    booked: b.map(|b| b.booked.to_string()).unwrap_or_default(),
                    instant: b.map(|b| b.instant().to_string()).unwrap_or_default(),
                }
            })
            .collect();
        rows.push(PersonaRow { bank: seed.bank, psu_id: seed.psu_id, name: seed.display_name, accounts });
    }
    Ok(rows)
}

fn request_row(state: &AppState, r: crate::edge::recent::RecentRequest) -> RequestRow {
    let (code, why) = r.refusal.unwrap_or_default();
    RequestRow {
        at: r.at.to_zoned(state.calendar.time_zone().clone()).strftime("%H:%M:%S").to_string(),
        method: r.method,
        path: r.path,
        status: r.status,
        code,
        why,
        ms: format!("{:.1}", r.took.as_secs_f64() * 1000.0),
    }
}
