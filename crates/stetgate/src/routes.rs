//! The route table: every path stetgate serves, its handler, and its facts (the statistics family
//! it counts in, the PSD2 role and OAuth scope it needs, whether planned maintenance closes it, and
//! whether it answers a TPP or a PSU's browser), as Groupe BPCE serves the STET API.
//!
//! An unknown path is a 404 and a known path with the wrong method a 405 with `Allow`; every
//! resource request meets the same checks (`edge::authorized::Authorized`) before its handler.
//! Nothing downstream guesses a route's facts from its path: [`edge::route::apply`] carries them.

use crate::edge::bank::route_bank;
use crate::edge::error::ApiError;
use crate::edge::facts::note_route;
use crate::edge::finish::finish;
use crate::edge::lifecycle::version_lifecycle;
use crate::edge::request::limit_body;
use crate::edge::route::{self, Audience, Maintenance, RouteFacts};
use crate::oauth::model::Scope;
use crate::state::AppState;
use crate::statistics::model::Family;
use crate::{ais, app2app, discovery, fallback, oauth, ops, permissions, piis, pis, portal, psu, registry, statistics};
use axum::middleware::{from_fn, from_fn_with_state};
use axum::routing::{MethodRouter, get, post, put};
use axum::{Extension, Router};
use eidas::psd2::Role;
use std::collections::BTreeMap;
use std::time::Duration;
use stet::ApiVersion;
use stet::catalog::{self, Operation, Service};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::TimeoutLayer;

/// Account information: PSP_AI, scope `aisp`.
const AIS: RouteFacts = RouteFacts::tpp().family(Family::Ais).needs(Role::AccountInformation, Scope::Aisp).for_psu();
/// The authorization server's endpoints a TPP calls.
const TOKEN: RouteFacts = RouteFacts::tpp().family(Family::Authorization).maintenance(Maintenance::OpenForFallback);
const REVOKE: RouteFacts = RouteFacts::tpp().family(Family::Authorization);
/// The PSU's pages of an authorization.
const AUTHORIZE: RouteFacts = RouteFacts::tpp().family(Family::Authorization).audience(Audience::Psu);
/// Registration: a TPP's software, outside the published statistics.
const REGISTER: RouteFacts = RouteFacts::tpp();
/// What anyone may read, also during planned maintenance.
const PUBLIC_OPEN: RouteFacts = RouteFacts::tpp().audience(Audience::Public).maintenance(Maintenance::StaysOpen);
/// Discovery: anyone, closed with the interface.
const PUBLIC: RouteFacts = RouteFacts::tpp().audience(Audience::Public);
/// The fallback's online banking: a PSU's browser, open when the interface is not.
const ONLINE_BANKING: RouteFacts = RouteFacts::tpp().audience(Audience::Psu).maintenance(Maintenance::StaysOpen);

/// Payment initiation: PSP_PI, scope `pisp` (the PISP's own token, or a PSU's bound to one request).
const PIS: RouteFacts = RouteFacts::tpp().family(Family::Pis).needs(Role::PaymentInitiation, Scope::Pisp);
/// The payment hub's callback: the bank's own system, which signs its calls.
const HUB_CALLBACK: RouteFacts = RouteFacts::tpp().audience(Audience::Public).maintenance(Maintenance::StaysOpen);
/// The PSU's permission dashboard: a PSU's browser, no TPP.
const DASHBOARD: RouteFacts = RouteFacts::tpp().audience(Audience::Psu);
/// The PSU's pages of a payment approval.
const PAYMENT_APPROVAL: RouteFacts = RouteFacts::tpp().family(Family::Pis).audience(Audience::Psu);
/// The PSU back from the bank's identity provider: the middle of a journey that already began on
/// its purpose's pages (which the planned maintenance closes, or not), so it stays open.
const PROVIDER_CALLBACK: RouteFacts = RouteFacts::tpp().audience(Audience::Psu).maintenance(Maintenance::StaysOpen);

/// Funds confirmation: PSP_IC, scope `piisp` in v1 and `cbpii` from 1.4.2 on.
fn funds(version: ApiVersion) -> RouteFacts {
    let scope = if version == ApiVersion::V1 { Scope::Piisp } else { Scope::Cbpii };
    RouteFacts::tpp().family(Family::Funds).needs(Role::CardIssuing, scope).for_psu()
}

/// A route with its facts; a PSU's page also turns every error into the bank's HTML page.
fn with(state: &AppState, facts: RouteFacts, route: MethodRouter<AppState>) -> MethodRouter<AppState> {
    let route = route.route_layer(from_fn_with_state((state.clone(), facts), route::apply));
    match facts.audience {
        Audience::Psu => route.route_layer(from_fn_with_state(state.clone(), psu::pages::html_errors)),
        Audience::Tpp | Audience::Public => route,
    }
}

/// The whole HTTP application. Pure: no socket, so it can be exercised without TLS too.
pub fn build_router(state: AppState) -> Router {
    let on = |facts: RouteFacts, route: MethodRouter<AppState>| with(&state, facts, route);
    let mut stet = Router::new()
        .route("/aspsp", on(PUBLIC, get(discovery::aspsp)))
        .route("/statistics", on(PUBLIC_OPEN, get(statistics::http::statistics)))
        .route("/fallback/jwks", on(PUBLIC_OPEN, get(fallback::jwks)))
        .route("/oauth/authorize", on(AUTHORIZE, get(oauth::authorize::start).post(oauth::authorize::step)))
        .route("/pisp/approve", on(PAYMENT_APPROVAL, get(pis::approval::start).post(pis::approval::step)))
        .route("/oauth/token", on(TOKEN, post(oauth::token::token)))
        .route("/oauth/revoke", on(REVOKE, post(oauth::token::revoke)))
        .route("/oauth/register", on(REGISTER, post(registry::http::register)))
        .route(
            "/oauth/register/{client_id}",
            on(REGISTER, get(registry::http::read).put(registry::http::replace).delete(registry::http::deactivate)),
        );
    for version in ApiVersion::ALL {
        stet = stet.nest(&format!("/{}", version.segment()), resources(&state, version));
    }
    let stet = stet
        .route_layer(from_fn(note_route))
        .fallback(not_found)
        .layer(from_fn_with_state(state.clone(), limit_body))
        // Our own limit applies (`limit_body`), not axum's default one.
        .layer(axum::extract::DefaultBodyLimit::disable())
        .layer(from_fn_with_state(state.clone(), version_lifecycle))
        .layer(from_fn_with_state(state.clone(), route_bank));
    // The bank's online banking, reached through the fallback.
    let online = Router::new()
        .route("/login", on(ONLINE_BANKING, get(fallback::online::login).post(fallback::online::login_step)))
        .route("/accounts", on(ONLINE_BANKING, get(fallback::online::accounts)))
        .route("/accounts/{id}", on(ONLINE_BANKING, get(fallback::online::account)))
        .route("/logout", on(ONLINE_BANKING, post(fallback::online::logout)))
        .route_layer(from_fn(note_route))
        .fallback(not_found)
        .layer(from_fn_with_state(state.clone(), route_bank));
    // The PSU's permission dashboard.
    let dashboard = Router::new()
        .route("/access", on(DASHBOARD, get(permissions::pages::show).post(permissions::pages::sign_in)))
        .route("/access/withdraw", on(DASHBOARD, post(permissions::pages::withdraw_access)))
        .route("/access/logout", on(DASHBOARD, post(permissions::pages::logout)))
        .route("/oidc/callback", on(PROVIDER_CALLBACK, get(provider_callback)))
        .route_layer(from_fn(note_route))
        .fallback(not_found)
        .layer(from_fn_with_state(state.clone(), route_bank));
    // The bank's payment hub reporting what became of a transfer (its own signature, no TPP).
    let hub = Router::new()
        .route("/v1/payment-status", on(HUB_CALLBACK, post(pis::hub_callback::status)))
        .route_layer(from_fn(note_route))
        .fallback(not_found)
        .layer(from_fn_with_state(state.clone(), route_bank));
    let mut top = Router::new().route("/healthz", get(ops::healthz)).route("/readyz", get(ops::readyz));
    // The sandbox's portal for TPP developers; a bank's production has none.
    if state.mode == crate::config::Mode::Sandbox {
        top = top
            .route("/", get(portal::home))
            .route("/certificates", axum::routing::post(portal::certificates::issue))
            .route("/guides/{name}", get(portal::guides::guide))
            .route("/pki/ca.crl", get(crate::sandbox::revocation::crl))
            .route("/pki/ocsp", axum::routing::post(crate::sandbox::revocation::ocsp));
    }
    // With an internal metrics listener, the public one does not show them.
    if state.config.metrics_listen.is_none() {
        top = top.route("/metrics", get(ops::metrics));
    }
    top.route("/.well-known/apple-app-site-association", get(app2app::apple_app_site_association))
        .route("/.well-known/assetlinks.json", get(app2app::asset_links))
        .route_layer(from_fn(note_route))
        .nest("/stet/psd2", stet)
        .nest("/online-banking", online)
        .nest("/psu", dashboard)
        .nest("/core-banking", hub)
        .fallback(not_found)
        .layer(CatchPanicLayer::new())
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(state.config.request_timeout_secs),
        ))
        .layer(from_fn_with_state(state.clone(), finish))
        .with_state(state)
}

/// The STET resources of one version, as the bank serves them: the operations of
/// [`stet::catalog`] (which also makes the version's OpenAPI document) and that document.
fn resources(state: &AppState, version: ApiVersion) -> Router<AppState> {
    let mut paths: BTreeMap<&str, MethodRouter<AppState>> = BTreeMap::new();
    let mut add = |path: &'static str, route: MethodRouter<AppState>| {
        let merged = match paths.remove(path) {
            Some(existing) => existing.merge(route),
            None => route,
        };
        paths.insert(path, merged);
    };
    for endpoint in catalog::endpoints(version) {
        let facts = service_facts(endpoint.service, version);
        add(endpoint.path, with(state, facts, handler(endpoint.operation)));
    }
    if version == ApiVersion::V1 {
        // The bank's v1 offers neither modification nor confirmation: a 405 that says so.
        add("/payment-requests/{paymentRequestResourceId}", with(state, PIS, put(pis::not_on_v1)));
        add("/payment-requests/{paymentRequestResourceId}/confirmation", with(state, PIS, post(pis::not_on_v1)));
    }
    let mut router = Router::new()
        .route("/openapi.json", with(state, PUBLIC_OPEN, get(ops::openapi::document)))
        .route("/openapi.html", with(state, PUBLIC_OPEN, get(ops::openapi::reference)));
    for (path, route) in paths {
        router = router.route(path, route);
    }
    router.layer(Extension(version))
}

/// The facts of a catalogued operation's service: its role and scope are the ones the OpenAPI
/// document states, since both come from `stet::catalog`.
fn service_facts(service: Service, version: ApiVersion) -> RouteFacts {
    match service {
        Service::AccountInformation => AIS,
        Service::FundsConfirmation => funds(version),
        Service::PaymentInitiation => PIS,
    }
}

/// The handler of each catalogued operation. The match is exhaustive: a new operation in the
/// catalogue does not build until it is routed here.
fn handler(operation: Operation) -> MethodRouter<AppState> {
    match operation {
        Operation::Accounts => get(ais::accounts),
        Operation::Balances => get(ais::balances),
        Operation::Transactions => get(ais::transactions),
        Operation::TransactionDetails => get(ais::transaction_details),
        Operation::Overdrafts => get(ais::overdrafts),
        Operation::Consents => put(ais::put_consents),
        Operation::TrustedBeneficiaries => get(ais::trusted_beneficiaries),
        Operation::EndUserIdentity => get(ais::end_user_identity),
        Operation::FundsConfirmation => post(piis::funds_confirmation),
        Operation::CreatePaymentRequest => post(pis::create),
        Operation::ReadPaymentRequest => get(pis::read),
        Operation::ModifyPaymentRequest => put(pis::cancel),
        Operation::ConfirmPaymentRequest => post(pis::confirm),
        Operation::OConfirmPaymentRequest => post(pis::o_confirm),
        Operation::PaymentRequestTransactions => get(pis::transactions),
    }
}

async fn not_found() -> ApiError {
    ApiError::NotFound
}

/// `GET /psu/oidc/callback`: the bank's identity provider sends every journey's PSU back to this
/// one address (the one redirect URI registered with it); the purpose its `state` names completes
/// the journey on its own handler.
async fn provider_callback(
    axum::extract::State(state): axum::extract::State<AppState>,
    Extension(bank): Extension<crate::edge::bank::Bank>,
    headers: axum::http::HeaderMap,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    use psu::Purpose;
    let params = crate::edge::form::Params::parse(query.as_deref().unwrap_or("").as_bytes());
    let Some(purpose) = psu::oidc_journey::purpose_of(&params) else {
        return ApiError::BadRequest("this is not an answer of the bank's identity provider to a journey".into())
            .into_response();
    };
    let mut response = match purpose {
        Purpose::Authorize => oauth::authorize::returned(&state, &bank, &headers, &params).await,
        Purpose::Fallback => fallback::online::returned(&state, &bank, &headers, &params).await,
        Purpose::Payment => pis::approval::returned(&state, &bank, &headers, &params).await,
        Purpose::Dashboard => {
            permissions::pages::returned(&state, &bank, &headers, &params).await.unwrap_or_else(|e| e.into_response())
        }
    };
    // The answer is in: the browser no longer needs the journey's cookie for this address.
    psu::oidc_journey::forget_cookie(&mut response, purpose);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_role_and_scope_are_the_enforced_ones() {
        for version in ApiVersion::ALL {
            for endpoint in catalog::endpoints(version) {
                let facts = service_facts(endpoint.service, version);
                assert_eq!(facts.scope.map(Scope::as_str), Some(endpoint.service.scope(version)), "{}", endpoint.path);
                assert_eq!(facts.role.map(Role::name), Some(endpoint.service.role()), "{}", endpoint.path);
            }
        }
    }
}
