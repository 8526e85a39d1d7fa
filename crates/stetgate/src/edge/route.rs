//! What the route table says about each route, in one place: the statistics family it counts in,
//! the PSD2 role and OAuth scope it needs, whether planned maintenance closes it, and who it
//! serves (a TPP's software, or a PSU's browser). The route table (`crate::routes`) puts a
//! [`RouteFacts`] on every route with [`facts`]; the layers and extractors read it there, so no
//! per-route fact is guessed from a path.

use super::bank::Bank;
use super::error::ApiError;
use super::facts::RequestFacts;
use crate::oauth::model::Scope;
use crate::state::AppState;
use crate::statistics::model::{Family, PlannedMaintenance};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use eidas::psd2::Role;

/// Whether planned maintenance closes a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Maintenance {
    /// 503 with `Retry-After` during a window (the TPP routes, the PSU's pages).
    Closes,
    /// Open during a window: what remains when the dedicated interface is down (the statistics,
    /// the fallback's keys, its online banking).
    StaysOpen,
    /// The token endpoint: closed, except for the fallback (`fallback: 1`), meant for exactly this.
    OpenForFallback,
}

/// Who a route answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// A TPP's software: the ErrorModel (or RFC 6749 errors on the OAuth endpoints).
    Tpp,
    /// A PSU's browser: the bank's HTML pages, errors included.
    Psu,
    /// Anyone (discovery, statistics).
    Public,
}

/// The facts of one route.
#[derive(Debug, Clone, Copy)]
pub struct RouteFacts {
    pub family: Option<Family>,
    pub role: Option<Role>,
    pub scope: Option<Scope>,
    /// Whether the route acts for a PSU (a token of the TPP itself is refused).
    pub needs_psu: bool,
    pub maintenance: Maintenance,
    pub audience: Audience,
}

impl RouteFacts {
    /// A route outside the statistics, needing no role or scope, closed during maintenance.
    pub const fn tpp() -> RouteFacts {
        RouteFacts {
            family: None,
            role: None,
            scope: None,
            needs_psu: false,
            maintenance: Maintenance::Closes,
            audience: Audience::Tpp,
        }
    }

    pub const fn family(self, family: Family) -> RouteFacts {
        RouteFacts { family: Some(family), ..self }
    }

    pub const fn needs(self, role: Role, scope: Scope) -> RouteFacts {
        RouteFacts { role: Some(role), scope: Some(scope), ..self }
    }

    /// The route acts for a PSU: a token of the TPP itself cannot reach it.
    pub const fn for_psu(self) -> RouteFacts {
        RouteFacts { needs_psu: true, ..self }
    }

    pub const fn maintenance(self, maintenance: Maintenance) -> RouteFacts {
        RouteFacts { maintenance, ..self }
    }

    pub const fn audience(self, audience: Audience) -> RouteFacts {
        RouteFacts { audience, ..self }
    }
}

/// The route layer carrying the facts (`from_fn_with_state((state, facts), route::apply)`, put on
/// every route by the route table): notes them for the statistics and the extractors, and closes
/// the route during the bank's planned maintenance.
pub async fn apply(State((state, facts)): State<(AppState, RouteFacts)>, mut request: Request, next: Next) -> Response {
    if let Some(slot) = RequestFacts::of(request.extensions()) {
        slot.set_family(facts.family);
    }
    request.extensions_mut().insert(facts);
    if let Some(refused) = maintenance(&state, &facts, &request) {
        return refused;
    }
    next.run(request).await
}

/// The answer of a route closed by planned maintenance now, if it is.
fn maintenance(state: &AppState, facts: &RouteFacts, request: &Request) -> Option<Response> {
    let open = match facts.maintenance {
        Maintenance::StaysOpen => true,
        Maintenance::OpenForFallback => request.headers().contains_key("fallback"),
        Maintenance::Closes => false,
    };
    if open {
        return None;
    }
    let bank = request.extensions().get::<Bank>()?;
    let now = state.clock.now();
    let until = super::maintenance::ends_at(state, bank.code(), now)?;
    let retry_after_secs = (until.as_second() - now.as_second()).max(1);
    let mut response = ApiError::Maintenance { retry_after_secs }.into_response();
    response.extensions_mut().insert(PlannedMaintenance { until });
    Some(response)
}
