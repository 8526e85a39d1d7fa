//! What the inner layers learn about a request, for the outermost one (metrics, access log,
//! statistics): the bank it was routed to, the route that matched and its statistics family, and
//! the TPP its QWAC identified. It travels as a shared slot in the request's extensions, so it is
//! known whoever ends up answering: a handler, an extractor's refusal, the timeout layer (408) or
//! the panic catcher (500), which build their responses without the request's extensions.

use crate::statistics::model::Family;
use axum::extract::{MatchedPath, Request};
use axum::http::Extensions;
use axum::middleware::Next;
use axum::response::Response;
use std::sync::{Arc, Mutex};
use stet::{BankCode, OrgId};

/// The slot (cheap to clone: one reference count).
#[derive(Debug, Clone, Default)]
pub struct RequestFacts(Arc<Mutex<Known>>);

/// What is known so far.
#[derive(Debug, Clone, Default)]
pub struct Known {
    pub bank: Option<BankCode>,
    /// The route template that matched (`/stet/psd2/v1.4.2/accounts/{accountResourceId}/balances`).
    pub route: Option<String>,
    pub family: Option<Family>,
    /// The TPP identified by its QWAC (or, on the PSU's pages, by a registered `client_id`).
    pub tpp: Option<OrgId>,
}

impl RequestFacts {
    /// The slot of a request, if the outer layer set one (it always does in the server).
    pub fn of(extensions: &Extensions) -> Option<&RequestFacts> {
        extensions.get::<RequestFacts>()
    }

    fn update(&self, change: impl FnOnce(&mut Known)) {
        change(&mut self.0.lock().unwrap_or_else(|p| p.into_inner()));
    }

    pub fn snapshot(&self) -> Known {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn set_bank(&self, bank: BankCode) {
        self.update(|k| k.bank = Some(bank));
    }

    pub fn set_family(&self, family: Option<Family>) {
        self.update(|k| k.family = family);
    }

    pub fn identified(&self, tpp: &OrgId) {
        self.update(|k| k.tpp = Some(tpp.clone()));
    }
}

/// Route layer: records the route template that matched, before the handler runs.
pub async fn note_route(request: Request, next: Next) -> Response {
    if let (Some(facts), Some(route)) =
        (RequestFacts::of(request.extensions()), request.extensions().get::<MatchedPath>())
    {
        let route = route.as_str().to_owned();
        facts.update(|k| k.route = Some(route));
    }
    next.run(request).await
}
