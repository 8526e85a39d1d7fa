//! The application's shared state: everything a handler, an extractor or a layer may use, behind
//! one reference count. Built once by [`crate::app::start`].

use crate::clock::{Calendar, Clock};
use crate::config::{Config, Mode};
use crate::edge::bank::BankDirectory;
use crate::ledger::Ledger;
use crate::ops::metrics::Metrics;
use crate::store::Store;
use std::sync::Arc;

/// Everything a request handler may use: one shared [`AppContext`]. Cloning it (axum does, for
/// every middleware and extractor of every request) is one reference-count increment; cloning
/// the fields one by one was 5% of the server's time in the profile of GET /accounts.
#[derive(Clone)]
pub struct AppState(Arc<AppContext>);

impl std::ops::Deref for AppState {
    type Target = AppContext;

    fn deref(&self) -> &AppContext {
        &self.0
    }
}

impl AppState {
    pub fn new(context: AppContext) -> AppState {
        AppState(Arc::new(context))
    }
}

/// What [`AppState`] shares.
pub struct AppContext {
    pub store: Store,
    pub ledger: Arc<dyn Ledger>,
    /// What executes approved payments (the SQL ledger's hub, or the bank's).
    pub hub: Arc<dyn crate::ledger::hub::PaymentHub>,
    pub clock: Arc<dyn Clock>,
    pub calendar: Calendar,
    pub config: Arc<Config>,
    pub mode: Mode,
    pub metrics: Arc<Metrics>,
    pub banks: Arc<BankDirectory>,
    /// The QTSP roots TPP certificates must chain to (plus the sandbox CA in the sandbox), with
    /// the successful QWAC and QSealC checks against them, reused for a while.
    pub trust: eidas::trust::TrustMemo,
    /// Whether the QTSPs revoked a TPP's QWAC or QSealC (CRL and OCSP, cached), asked after
    /// every `trust` check.
    pub revocation: crate::revocation::Revocation,
    /// The key signing fallback JWTs; `None` when none is configured (production without
    /// `fallback.signing_key`).
    pub fallback_keys: Option<Arc<crate::fallback::jwt::JwtKeys>>,
    /// This node's request records not yet in the database.
    pub recorder: Arc<crate::statistics::Recorder>,
    /// This node, as its heartbeats name it.
    pub node: crate::statistics::Node,
    /// The statistics reports computed lately, and the bound on computing them.
    pub reports: crate::statistics::http::Reports,
    /// How often each address may open the pages anyone can open.
    pub page_limiter: crate::edge::rate::PerAddress,
    /// The bank's strong customer authentication (the sandbox's code, or production's own).
    pub authenticator: Arc<dyn crate::psu::PsuAuthenticator>,
    /// The sandbox's memory of each TPP's last requests, for the portal (`None` in production).
    pub recent: Option<Arc<crate::edge::recent::RecentRequests>>,
    /// The sandbox's CA, which issues test certificates from the portal (`None` in production).
    pub sandbox_ca: Option<Arc<eidas::issue::TestCa>>,
    /// STET's official definitions, compiled at start-up, that posted bodies are held to.
    pub definitions: Arc<stet::spec::Definitions>,
}
