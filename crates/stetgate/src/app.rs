//! Assembly: the application state, the router, and start-up of a server in either mode.
//!
//! Start-up does everything that can fail before it listens (configuration, TLS material,
//! database, migrations, sandbox seed, binding the port), so a broken deployment stops with a clear
//! message and nothing half-started.

use crate::clock::{Calendar, Clock};
use crate::config::{Config, ConfigError, Mode};
use crate::edge::bank::BankDirectory;
use crate::edge::finish::finish;
use crate::edge::listener::{self, Listener};
use crate::edge::tls::{self, TlsSetupError};
use crate::ops::metrics::Metrics;
use crate::sandbox::pki::{self, PkiError, SandboxPki};
use crate::store::{BankRecord, SqliteDurability, Store, StoreError};
use crate::{ops, sandbox, statistics};
use axum::Router;
use axum::middleware::from_fn_with_state;
use axum::routing::get;
use rustls::ServerConfig;
use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

pub use crate::routes::build_router;
pub use crate::state::{AppContext, AppState};

/// What a connection over the listener's caps is answered (see `edge::listener`): 503 with
/// Retry-After in the ErrorModel, and the connection closed.
pub fn refusal_router(state: AppState) -> Router {
    Router::new()
        .fallback(crate::edge::error::over_capacity)
        .layer(from_fn_with_state(state.clone(), finish))
        .with_state(state)
}

/// Each bank's strong customer authentication: its `[otp_gateway]` or its `[oidc]` provider when it
/// has one, else the sandbox's published code (sandbox) or none (production).
fn authenticators(mode: Mode, config: &Config) -> Result<Arc<dyn crate::psu::PsuAuthenticator>, StartupError> {
    use crate::psu::authenticator::{PerBank, SandboxAuthenticator, Unconfigured};
    let mut banks: std::collections::BTreeMap<stet::BankCode, Arc<dyn crate::psu::PsuAuthenticator>> =
        Default::default();
    for (bank, gateway) in &config.otp_gateway {
        let name = config.banks.iter().find(|b| b.code == *bank).map_or_else(|| bank.to_string(), |b| b.name.clone());
        let gateway = crate::psu::gateway::OtpGateway::new(*bank, &name, gateway)
            .map_err(|e| StartupError::Other(e.to_string()))?;
        banks.insert(*bank, Arc::new(gateway));
    }
    for (bank, provider) in &config.oidc {
        let provider =
            crate::psu::oidc::OidcProvider::new(*bank, provider).map_err(|e| StartupError::Other(e.to_string()))?;
        banks.insert(*bank, Arc::new(provider));
    }
    let otherwise: Arc<dyn crate::psu::PsuAuthenticator> = match mode {
        Mode::Sandbox => Arc::new(SandboxAuthenticator),
        Mode::Production => Arc::new(Unconfigured),
    };
    Ok(Arc::new(PerBank::new(banks, otherwise)))
}

type LedgerAndHub = (Arc<dyn crate::ledger::Ledger>, Arc<dyn crate::ledger::hub::PaymentHub>);

/// The deployment's ledger and payment hub: each bank of `[core_banking."<bank>"]` through its
/// adapter (its payments too with `.payments`), the others on the built-in SQL ledger.
fn ledgers(
    config: &Config,
    store: &Store,
    metrics: &Arc<Metrics>,
    clock: &Arc<dyn Clock>,
) -> Result<LedgerAndHub, StartupError> {
    use crate::core_banking::{Routed, client::HttpLedger, connector::Connector, hub::HttpHub};
    let mut ledgers: std::collections::BTreeMap<stet::BankCode, Arc<dyn crate::ledger::Ledger>> = Default::default();
    let mut hubs: std::collections::BTreeMap<stet::BankCode, Arc<dyn crate::ledger::hub::PaymentHub>> =
        Default::default();
    for (bank, settings) in &config.core_banking {
        let connect =
            || Connector::new(*bank, settings, metrics.clone()).map_err(|e| StartupError::Other(e.to_string()));
        ledgers.insert(*bank, Arc::new(HttpLedger::new(Arc::new(connect()?), settings.cache_secs)));
        if let Some(payments) = &settings.payments {
            // Its own places and breaker: a payment the hub keeps failing never closes the accounts.
            let connector = Arc::new(connect()?);
            let key = crate::secret::read_key_file(&payments.callback_hmac_key_file).map_err(|e| {
                StartupError::Other(format!("core_banking.\"{bank}\".payments.callback_hmac_key_file: {e}"))
            })?;
            hubs.insert(*bank, Arc::new(HttpHub::new(connector, payments.format, key, clock.clone())));
        }
    }
    let (own_ledger, own_hub): (Arc<dyn crate::ledger::Ledger>, Arc<dyn crate::ledger::hub::PaymentHub>) =
        (Arc::new(store.clone()), Arc::new(store.clone()));
    let ledger: Arc<dyn crate::ledger::Ledger> = Arc::new(Routed::new(own_ledger, ledgers));
    let hub: Arc<dyn crate::ledger::hub::PaymentHub> = Arc::new(Routed::new(own_hub, hubs));
    Ok((ledger, hub))
}

/// The internal operations listener (`metrics_listen`): `/metrics`, `/healthz`, `/readyz`, plain HTTP.
fn operations_router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(ops::metrics))
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .with_state(state)
}

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("database: {0}")]
    Store(#[from] StoreError),
    #[error("sandbox: {0}")]
    Sandbox(#[from] sandbox::SandboxError),
    #[error("sandbox PKI: {0}")]
    Pki(#[from] PkiError),
    #[error("TLS: {0}")]
    Tls(#[from] TlsSetupError),
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("{0}")]
    Other(String),
}

impl StartupError {
    /// 2 for configuration problems an operator must fix, 1 for anything else.
    pub fn exit_code(&self) -> u8 {
        match self {
            StartupError::Config(_) => 2,
            _ => 1,
        }
    }
}

/// What a newcomer needs to know about a running sandbox.
#[derive(Debug, Clone)]
pub struct SandboxInfo {
    pub data_dir: PathBuf,
    pub pki: SandboxPki,
    /// The CA that issues TPPs' test certificates (the portal's form).
    pub ca: Arc<eidas::issue::TestCa>,
    pub first_start: bool,
}

/// A server ready to accept connections.
pub struct Server {
    state: AppState,
    tls: Arc<ServerConfig>,
    listener: TcpListener,
    /// The internal operations listener, when `metrics_listen` is set.
    operations: Option<TcpListener>,
    pub local_addr: SocketAddr,
    pub operations_addr: Option<SocketAddr>,
    pub sandbox: Option<SandboxInfo>,
}

impl Server {
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` resolves, then drains in-flight requests (see `edge::tls::serve`).
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        let refresh = (self.state.mode == Mode::Sandbox).then(|| {
            sandbox::spawn_daily_refresh(
                self.state.store.clone(),
                self.state.clock.clone(),
                self.state.calendar.clone(),
            )
        });
        let housekeeping = statistics::spawn_housekeeping(
            self.state.recorder.clone(),
            self.state.store.clone(),
            self.state.clock.clone(),
            self.state.node.clone(),
            Duration::from_secs(self.state.config.statistics.flush_interval_secs),
        );
        let purge = spawn_purge(self.state.clone());
        let payments = crate::pis::execute::spawn_scheduler(self.state.clone());
        let grace = Duration::from_secs(self.state.config.shutdown_grace_secs);
        let operations = self.operations.map(|listener| {
            let router = operations_router(self.state.clone());
            tokio::spawn(async move {
                if let Err(e) = axum::serve(listener, router).await {
                    tracing::error!(error = %e, "the operations listener stopped");
                }
            })
        });
        let listener = Listener {
            tcp: self.listener,
            tls: self.tls,
            router: build_router(self.state.clone()),
            refusal: refusal_router(self.state.clone()),
            limits: self.state.config.connections.clone(),
            proxy_protocol_from: match &self.state.config.trusted_proxy {
                Some(proxy) if proxy.proxy_protocol => proxy.blocks(),
                _ => Vec::new(),
            },
        };
        listener::serve(listener, shutdown, grace).await;
        if let Some(task) = operations {
            task.abort();
        }
        if let Some(task) = refresh {
            task.abort();
        }
        housekeeping.stop().await;
        purge.abort();
        payments.abort();
        // What this node answered last must reach the statistics too, and its life ends now.
        if let Err(e) = self.state.recorder.flush(&self.state.store).await {
            tracing::error!(error = %e, "request records of the last seconds not written");
        }
        let node = &self.state.node;
        if let Err(e) = self.state.store.node_heartbeat(&node.id, node.started_at, self.state.clock.now()).await {
            tracing::error!(error = %e, "last heartbeat not written");
        }
        self.state.store.close().await;
    }
}

/// Deletes expired rows every `purge_interval_secs` (each node does; deleting is idempotent).
fn spawn_purge(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(state.config.purge_interval_secs));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let today = state.calendar.today(state.clock.as_ref());
            match state.store.purge_expired(state.clock.now(), today).await {
                Ok(purged) if purged.total() > 0 => tracing::info!(?purged, "expired rows purged"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "purge of expired rows failed; retried at the next interval"),
            }
        }
    })
}

/// Prepares a server: configuration checked, TLS material loaded, database migrated (and, in the
/// sandbox, seeded), port bound.
pub async fn start(
    mode: Mode,
    config: Config,
    config_file: Option<&Path>,
    clock: Arc<dyn Clock>,
) -> Result<Server, StartupError> {
    tls::install_crypto_provider();
    let calendar = Calendar::paris().map_err(|e| StartupError::Other(format!("time zone database: {e}")))?;
    let now = clock.now();
    let sandbox_info = match mode {
        Mode::Sandbox => Some(sandbox_files(&config, config_file, now)?),
        Mode::Production => None,
    };
    let pki = sandbox_info.as_ref().map(|info| &info.pki);
    let identity = server_identity(&config, config_file, pki)?;
    let anchors = trust_anchors(&config, config_file, pki)?;
    let revocation = crate::revocation::from_config(&config, config_file, pki.map(|p| p.ca_cert.as_path()))?;
    let tls_config = tls::server_config(identity, &anchors)?;
    let fallback_keys = fallback_keys(&config, config_file, pki)?;

    let store = open_store(mode, &database_url(mode, &config, config_file)?, config_file).await?;
    store.migrate().await?;
    let sandbox_info = match sandbox_info {
        Some(mut info) => {
            info.first_start = sandbox::seed(&store, now).await? == sandbox::Seeded::Now;
            sandbox::refresh_transactions(&store, calendar.today(clock.as_ref())).await?;
            Some(info)
        }
        None => {
            for bank in &config.banks {
                let brand = crate::ledger::personas::brand_of(bank.code.as_str()).to_owned();
                store.upsert_bank(&BankRecord { code: bank.code, name: bank.name.clone(), brand }, now).await?;
            }
            None
        }
    };

    let listener = bind(config.listen).await?;
    let local_addr = listener.local_addr().map_err(|source| StartupError::Bind { addr: config.listen, source })?;
    let operations = match config.metrics_listen {
        Some(addr) => Some(bind(addr).await?),
        None => None,
    };
    let operations_addr = operations.as_ref().and_then(|l| l.local_addr().ok());
    // The node's first heartbeat: from here on, the statistics count its life.
    let node = statistics::Node::new(clock.now());
    store.node_heartbeat(&node.id, node.started_at, node.started_at).await?;
    let metrics = Arc::new(Metrics::new().map_err(|e| StartupError::Other(format!("metrics: {e}")))?);
    let (ledger, hub) = ledgers(&config, &store, &metrics, &clock)?;
    let definitions = stet::spec::Definitions::load().map_err(|e| StartupError::Other(e.to_string()))?;
    let state = AppState::new(AppContext {
        ledger,
        hub,
        store,
        clock,
        calendar,
        mode,
        metrics,
        banks: Arc::new(BankDirectory::default()),
        trust: eidas::trust::TrustMemo::new(anchors.roots),
        revocation,
        fallback_keys,
        recorder: Arc::new(statistics::Recorder::default()),
        node,
        reports: statistics::http::Reports::new(Duration::from_secs(config.statistics.report_cache_secs)),
        page_limiter: crate::edge::rate::PerAddress::new(config.connections.pages_per_address_per_minute),
        authenticator: authenticators(mode, &config)?,
        definitions: Arc::new(definitions),
        sandbox_ca: sandbox_info.as_ref().map(|info| publishing_ca(info, local_addr.port(), now)),
        recent: (mode == Mode::Sandbox).then(|| Arc::new(crate::edge::recent::RecentRequests::default())),
        config: Arc::new(config),
    });
    Ok(Server {
        state,
        tls: Arc::new(tls_config),
        listener,
        operations,
        local_addr,
        operations_addr,
        sandbox: sandbox_info,
    })
}

/// The sandbox CA, naming in what it issues the CRL and OCSP responder this sandbox serves (the
/// CA as loaded, and a warning, if the data directory cannot say so).
fn publishing_ca(info: &SandboxInfo, port: u16, now: jiff::Timestamp) -> Arc<eidas::issue::TestCa> {
    match sandbox::revocation::publishing_ca(&info.data_dir, port, now.as_second()) {
        Ok(ca) => Arc::new(ca),
        Err(e) => {
            tracing::warn!(error = %e, "the sandbox CA's certificates will name no CRL or OCSP responder");
            info.ca.clone()
        }
    }
}

/// The sandbox's data directory, created if missing, and its PKI (CA, server certificate,
/// fallback key), issued on first start or when due.
fn sandbox_files(
    config: &Config,
    config_file: Option<&Path>,
    now: jiff::Timestamp,
) -> Result<SandboxInfo, StartupError> {
    std::fs::create_dir_all(&config.data_dir).map_err(|e| {
        ConfigError::key(config_file, "data_dir", format!("{} cannot be created: {e}", config.data_dir.display()))
    })?;
    let data_dir = std::path::absolute(&config.data_dir).unwrap_or_else(|_| config.data_dir.clone());
    let pki = pki::ensure(&data_dir.join("pki"), &sandbox::bank_codes(), now.as_second())?;
    let ca = sandbox::certs::load_ca(&data_dir, now.as_second())
        .map_err(|e| StartupError::Other(format!("sandbox CA: {e}")))?;
    Ok(SandboxInfo { data_dir, pki, ca: Arc::new(ca), first_start: false })
}

/// The configured database, or in the sandbox the SQLite file of the data directory.
fn database_url(mode: Mode, config: &Config, config_file: Option<&Path>) -> Result<String, StartupError> {
    match (&config.database_url, mode) {
        (Some(url), _) => Ok(url.0.clone()),
        (None, Mode::Sandbox) => {
            let data_dir = std::path::absolute(&config.data_dir).unwrap_or_else(|_| config.data_dir.clone());
            Ok(format!("sqlite://{}", data_dir.join("stetgate.db").display()))
        }
        (None, Mode::Production) => Err(ConfigError::key(config_file, "database_url", "is required").into()),
    }
}

async fn open_store(mode: Mode, url: &str, config_file: Option<&Path>) -> Result<Store, StartupError> {
    let durability = match mode {
        Mode::Sandbox => SqliteDurability::ProcessCrash,
        Mode::Production => SqliteDurability::PowerLoss,
    };
    Store::open_with(url, durability).await.map_err(|e| match e {
        StoreError::Database(sqlx::Error::Configuration(c)) => {
            StartupError::Config(ConfigError::key(config_file, "database_url", format!("invalid: {c}")))
        }
        other => StartupError::Store(other),
    })
}

/// The server's certificate: the configured files win; the sandbox falls back to its own PKI,
/// which also issues on demand a certificate for any www.<bankcode>.sandbox.localhost.
fn server_identity(
    config: &Config,
    config_file: Option<&Path>,
    pki: Option<&SandboxPki>,
) -> Result<Arc<dyn rustls::server::ResolvesServerCert>, StartupError> {
    Ok(match (&config.tls, pki) {
        (Some(files), _) => {
            let chain =
                tls::read_certificates(&files.cert).map_err(|e| tls_config_error(e, config_file, "tls.cert"))?;
            let key = tls::certified_key(chain, &files.key).map_err(|e| tls_config_error(e, config_file, "tls.key"))?;
            Arc::new(tls::FixedCertificate(key))
        }
        (None, Some(pki)) => Arc::new(pki::BankHostCertificates::load(pki)?),
        (None, None) => return Err(ConfigError::key(config_file, "tls", "is required").into()),
    })
}

/// The QTSP roots TPP certificates must chain to, with the sandbox CA first in the sandbox.
fn trust_anchors(
    config: &Config,
    config_file: Option<&Path>,
    pki: Option<&SandboxPki>,
) -> Result<rustls::RootCertStore, StartupError> {
    let mut anchor_files: Vec<&Path> = config.trust_anchors.iter().map(PathBuf::as_path).collect();
    if let Some(pki) = pki {
        anchor_files.insert(0, &pki.ca_cert);
    }
    tls::trust_anchor_store(&anchor_files).map_err(|e| tls_config_error(e, config_file, "trust_anchors"))
}

/// The key signing fallback JWTs: the configured one, or the sandbox's; none is a warning (the
/// fallback then answers `temporarily_unavailable`).
fn fallback_keys(
    config: &Config,
    config_file: Option<&Path>,
    pki: Option<&SandboxPki>,
) -> Result<Option<Arc<crate::fallback::jwt::JwtKeys>>, StartupError> {
    let Some(path) = config.fallback.signing_key.clone().or(pki.map(|p| p.fallback_key.clone())) else {
        tracing::warn!("no fallback.signing_key: the fallback (RTS art. 33) answers temporarily_unavailable");
        return Ok(None);
    };
    let key_error = |e: &dyn std::fmt::Display| {
        ConfigError::key(config_file, "fallback.signing_key", format!("{}: {e}", path.display()))
    };
    let pem = std::fs::read_to_string(&path).map_err(|e| key_error(&e))?;
    let keys =
        crate::fallback::jwt::JwtKeys::from_pkcs8_pem(&pem, config.fallback.algorithm).map_err(|e| key_error(&e))?;
    Ok(Some(Arc::new(keys)))
}

async fn bind(addr: SocketAddr) -> Result<TcpListener, StartupError> {
    TcpListener::bind(addr).await.map_err(|source| StartupError::Bind { addr, source })
}

/// What the administration commands (`stetgate tpp ...`) work on: the migrated store and the trust
/// anchors of the deployment (with the sandbox CA in the sandbox).
pub struct Admin {
    pub store: Store,
    pub anchors: Vec<rustls_pki_types::TrustAnchor<'static>>,
    pub mode: Mode,
}

pub async fn admin(
    mode: Mode,
    config: &Config,
    config_file: Option<&Path>,
    now: jiff::Timestamp,
) -> Result<Admin, StartupError> {
    let info = match mode {
        Mode::Sandbox => Some(sandbox_files(config, config_file, now)?),
        Mode::Production => None,
    };
    let anchors = trust_anchors(config, config_file, info.as_ref().map(|i| &i.pki))?;
    let store = open_store(mode, &database_url(mode, config, config_file)?, config_file).await?;
    store.migrate().await?;
    Ok(Admin { store, anchors: anchors.roots, mode })
}

fn tls_config_error(e: TlsSetupError, file: Option<&Path>, key: &str) -> StartupError {
    StartupError::Config(ConfigError::key(file, key, e.to_string()))
}
