//! The reference adapter: any [`Ledger`] served through the core-banking contract
//! ([`super::contract`]) over HTTPS, so a bank's developers have a working counterpart to test
//! their own against, and a sandbox can keep its ledger in another process. `stetgate core-banking
//! serve` runs it on the built-in SQL ledger.
//!
//! Who may call: a client certificate chaining to `--client-ca` (mutual TLS, checked in the
//! handshake) and/or `Authorization: Bearer <token>` equal to the configured token. Bad input is
//! a 400 with a [`ProblemBody`]; a ledger failure a 503 (its cause logged, never sent).
//!
//! Payments (with a [`PaymentHub`]): a submitted transfer is answered `pending` (202) and executed
//! on the hub just after; its outcome is then answered to a poll and, with a callback configured,
//! sent to stetgate signed with the bank's callback key (three tries). Outcomes are kept in
//! memory: after a restart, a poll answers 404 and stetgate submits again, which the hub executes
//! at most once by its key.

use super::contract::{
    AccountList, BalanceBody, BalanceList, BalancesQuery, HeldAccountBody, MAX_BALANCE_ACCOUNTS, OverdraftBody,
    PaymentOrder, PaymentStatusBody, ProblemBody, PsuBody, TransactionBody, TransactionList,
};
use crate::edge::tls::{self, TlsSetupError};
use crate::ledger::hub::{Executed, PaymentHub, Transfer};
use crate::ledger::{DateWindow, Ledger, LedgerError, PsuId};
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use jiff::civil::Date;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use stet::{BankCode, ResourceId};

#[derive(Clone)]
struct Adapter {
    ledger: Arc<dyn Ledger>,
    bearer: Option<Arc<str>>,
    hub: Option<Arc<dyn PaymentHub>>,
    callback: Option<Arc<Callback>>,
    outcomes: Arc<Mutex<HashMap<String, Executed>>>,
}

/// What the adapter serves beside the ledger.
#[derive(Default)]
pub struct AdapterOptions {
    /// Callers must send `Authorization: Bearer <this>`.
    pub bearer: Option<String>,
    /// Transfers are executed on this hub.
    pub hub: Option<Arc<dyn PaymentHub>>,
    /// Outcomes are reported to stetgate there.
    pub callback: Option<Callback>,
}

/// stetgate's callback endpoint and the bank's key to sign with.
pub struct Callback {
    /// `https://<stetgate's bank host>/core-banking/v1/payment-status`.
    pub url: url::Url,
    pub key: Vec<u8>,
    pub http: reqwest::Client,
    /// What the signature's `t` is read from.
    pub clock: Arc<dyn crate::clock::Clock>,
}

/// A refusal or failure as the contract writes it.
struct Problem(StatusCode, &'static str, String);

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        (self.0, Json(ProblemBody { error: self.1.to_owned(), message: self.2 })).into_response()
    }
}

impl From<LedgerError> for Problem {
    fn from(e: LedgerError) -> Self {
        tracing::error!(error = %e, "core-banking adapter: the ledger failed");
        Problem(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "the ledger is unavailable; retry later".into())
    }
}

fn bad(message: impl Into<String>) -> Problem {
    Problem(StatusCode::BAD_REQUEST, "bad_request", message.into())
}

fn bank(text: &str) -> Result<BankCode, Problem> {
    BankCode::parse(text).map_err(|_| bad("the bank code is 5 digits"))
}

fn psu(text: &str) -> Result<PsuId, Problem> {
    PsuId::parse(text).ok_or_else(|| bad("the PSU id is 1 to 35 letters and digits"))
}

fn account(text: &str) -> Result<ResourceId, Problem> {
    ResourceId::parse(text).map_err(|_| bad("the account's resource id is not a STET resource id"))
}

/// The contract's routes over `ledger` (and the options' hub), callers checked against the bearer
/// token when one is set.
pub fn router(ledger: Arc<dyn Ledger>, options: AdapterOptions) -> Router {
    let adapter = Adapter {
        ledger,
        bearer: options.bearer.map(Arc::from),
        hub: options.hub,
        callback: options.callback.map(Arc::new),
        outcomes: Arc::default(),
    };
    Router::new()
        .route("/v1/banks/{bank}/payments", post(post_payment))
        .route("/v1/banks/{bank}/payments/status", get(get_payment))
        .route("/v1/banks/{bank}/psus/{psu}", get(get_psu))
        .route("/v1/banks/{bank}/psus/{psu}/accounts", get(get_accounts))
        .route("/v1/banks/{bank}/balances", post(post_balances))
        .route("/v1/banks/{bank}/accounts/{id}/transactions", get(get_transactions))
        .route("/v1/banks/{bank}/accounts/{id}/overdraft", get(get_overdraft))
        .fallback(async || Problem(StatusCode::NOT_FOUND, "not_found", "no such operation in the contract".into()))
        .layer(axum::middleware::from_fn_with_state(adapter.clone(), authenticate))
        .with_state(adapter)
}

async fn authenticate(State(adapter): State<Adapter>, request: Request, next: Next) -> Response {
    if let Some(expected) = &adapter.bearer {
        let given = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        if !crate::secret::same_secret(given, expected) {
            let mut response =
                Problem(StatusCode::UNAUTHORIZED, "unauthorized", "a valid bearer token is required".into())
                    .into_response();
            response.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
            return response;
        }
    }
    next.run(request).await
}

async fn get_psu(State(a): State<Adapter>, Path((b, p)): Path<(String, String)>) -> Result<Response, Problem> {
    let (bank, id) = (bank(&b)?, psu(&p)?);
    match a.ledger.psu(bank, &id).await? {
        Some(found) => Ok(Json(PsuBody::from(&found)).into_response()),
        None => Err(Problem(StatusCode::NOT_FOUND, "not_found", "no such PSU at this bank".into())),
    }
}

async fn get_accounts(
    State(a): State<Adapter>,
    Path((b, p)): Path<(String, String)>,
) -> Result<Json<AccountList>, Problem> {
    let (bank, id) = (bank(&b)?, psu(&p)?);
    let held = a.ledger.psu_accounts(bank, &id).await?;
    Ok(Json(AccountList { accounts: held.iter().map(HeldAccountBody::from).collect() }))
}

async fn post_balances(
    State(a): State<Adapter>,
    Path(b): Path<String>,
    query: Result<Json<BalancesQuery>, JsonRejection>,
) -> Result<Json<BalanceList>, Problem> {
    let bank = bank(&b)?;
    let Json(query) = query.map_err(|e| bad(format!("the body is not a BalancesQuery: {}", e.body_text())))?;
    if query.accounts.is_empty() || query.accounts.len() > MAX_BALANCE_ACCOUNTS {
        return Err(bad(format!("name 1 to {MAX_BALANCE_ACCOUNTS} accounts")));
    }
    let found = a.ledger.balances(bank, &query.accounts, query.date).await?;
    Ok(Json(BalanceList { balances: found.into_iter().map(|(id, b)| BalanceBody::new(id, &b)).collect() }))
}

async fn get_transactions(
    State(a): State<Adapter>,
    Path((b, i)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<TransactionList>, Problem> {
    let (bank, id) = (bank(&b)?, account(&i)?);
    let date = |name: &str| -> Result<Date, Problem> {
        let text = query.get(name).ok_or_else(|| bad(format!("`{name}` (a date) is required")))?;
        text.parse::<Date>().map_err(|_| bad(format!("`{name}` is not a date (YYYY-MM-DD)")))
    };
    let window = DateWindow { from: date("from")?, to: date("to")? };
    if window.from > window.to {
        return Err(bad("`from` is after `to`"));
    }
    let found = a.ledger.transactions(bank, &id, window).await?;
    Ok(Json(TransactionList { transactions: found.iter().map(TransactionBody::from).collect() }))
}

async fn get_overdraft(State(a): State<Adapter>, Path((b, i)): Path<(String, String)>) -> Result<Response, Problem> {
    let (bank, id) = (bank(&b)?, account(&i)?);
    match a.ledger.overdraft(bank, &id).await? {
        Some(overdraft) => Ok(Json(OverdraftBody { overdraft }).into_response()),
        None => Err(Problem(StatusCode::NOT_FOUND, "not_found", "no such account at this bank".into())),
    }
}

/// The longest transfer key accepted.
const MAX_KEY: usize = 140;

fn status_answer(key: &str, outcome: &Executed) -> Response {
    let code = if *outcome == Executed::Pending { StatusCode::ACCEPTED } else { StatusCode::OK };
    (code, Json(PaymentStatusBody::of(key, outcome))).into_response()
}

async fn post_payment(
    State(a): State<Adapter>,
    Path(b): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, Problem> {
    let bank = bank(&b)?;
    let Some(hub) = a.hub.clone() else {
        return Err(Problem(StatusCode::NOT_FOUND, "not_found", "this adapter executes no payments".into()));
    };
    let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    if key.is_empty() || key.len() > MAX_KEY {
        return Err(bad(format!("Idempotency-Key (the transfer's key, 1 to {MAX_KEY} characters) is required")));
    }
    let xml = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|t| t.contains("xml"));
    let transfer = if xml {
        let text = std::str::from_utf8(&body).map_err(|_| bad("the pain.001 document is not UTF-8"))?;
        super::pain001::read(text, &key, bank).map_err(|why| bad(format!("the pain.001 document: {why}")))?
    } else {
        let order: PaymentOrder =
            serde_json::from_slice(&body).map_err(|e| bad(format!("the body is not a PaymentOrder: {e}")))?;
        if order.key != key {
            return Err(bad("the order's key is not its Idempotency-Key"));
        }
        order.into_transfer(bank).map_err(|why| bad(format!("the order: {why}")))?
    };
    // Looked up and claimed under one lock: two submissions of a key at once execute it once.
    let known = match a.outcomes().entry(key.clone()) {
        std::collections::hash_map::Entry::Occupied(known) => Some(known.get().clone()),
        std::collections::hash_map::Entry::Vacant(new) => {
            new.insert(Executed::Pending);
            None
        }
    };
    if let Some(outcome) = known {
        return Ok(status_answer(&key, &outcome));
    }
    tokio::spawn(execute_later(a, hub, transfer));
    Ok(status_answer(&key, &Executed::Pending))
}

/// Executes a submitted transfer, keeps its outcome and reports it.
async fn execute_later(a: Adapter, hub: Arc<dyn PaymentHub>, transfer: Transfer) {
    let outcome = match hub.execute(&transfer).await {
        Ok(outcome) => outcome,
        Err(e) => {
            // Left pending: stetgate's poll submits it again.
            tracing::error!(error = %e, "core-banking adapter: the hub failed");
            a.outcomes().remove(&transfer.key);
            return;
        }
    };
    a.outcomes().insert(transfer.key.clone(), outcome.clone());
    if let Some(callback) = &a.callback {
        let body = serde_json::to_vec(&PaymentStatusBody::of(&transfer.key, &outcome)).unwrap_or_default();
        for attempt in 0..3u32 {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(500 * u64::from(attempt))).await;
            }
            let t = callback.clock.now().as_second();
            let signature =
                format!("t={t},hmac-sha256={}", super::contract::callback_signature(&callback.key, t, &body));
            let sent = callback
                .http
                .post(callback.url.clone())
                .header(header::CONTENT_TYPE, "application/json")
                .header("x-stetgate-signature", signature)
                .body(body.clone())
                .send()
                .await;
            match sent {
                Ok(response) if response.status().is_success() => return,
                Ok(response) => tracing::warn!(status = %response.status(), "core-banking adapter: callback refused"),
                Err(e) => tracing::warn!(error = %e.without_url(), "core-banking adapter: callback not delivered"),
            }
        }
    }
}

async fn get_payment(
    State(a): State<Adapter>,
    Path(b): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, Problem> {
    bank(&b)?;
    let key = query.get("key").ok_or_else(|| bad("`key` (the transfer's key) is required"))?;
    let known = a.outcomes().get(key).cloned();
    match known {
        Some(outcome) => Ok(status_answer(key, &outcome)),
        None => Err(Problem(StatusCode::NOT_FOUND, "not_found", "no transfer of this key".into())),
    }
}

impl Adapter {
    fn outcomes(&self) -> std::sync::MutexGuard<'_, HashMap<String, Executed>> {
        // Whole values only: a panic elsewhere cannot leave one half-written.
        self.outcomes.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The adapter's TLS: its certificate, and when `client_ca` is given, a client certificate
/// chaining to it is required in the handshake.
pub fn tls_config(
    cert: &std::path::Path,
    key: &std::path::Path,
    client_ca: Option<&std::path::Path>,
) -> Result<rustls::ServerConfig, TlsSetupError> {
    let identity = tls::certified_key(tls::read_certificates(cert)?, key)?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?;
    let builder = match client_ca {
        Some(path) => {
            let roots = tls::trust_anchor_store(&[path])?;
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|e| TlsSetupError::File { path: path.display().to_string(), problem: e.to_string() })?;
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let mut config = builder.with_cert_resolver(Arc::new(tls::FixedCertificate(identity)));
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// Serves `router` over TLS on `listener` until `shutdown` completes; then each open connection
/// finishes its request in flight and closes (at most 5 s). A connection has 10 s for its
/// handshake and 30 s for a request's headers (HTTP/1).
pub async fn serve(
    listener: tokio::net::TcpListener,
    tls: Arc<rustls::ServerConfig>,
    router: Router,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    tracing::warn!(error = %e, "core-banking adapter: accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let (acceptor, router, watcher) = (acceptor.clone(), router.clone(), graceful.watcher());
        tokio::spawn(async move {
            let Ok(Ok(stream)) = tokio::time::timeout(Duration::from_secs(10), acceptor.accept(tcp)).await else {
                tracing::debug!(%peer, "core-banking adapter: TLS handshake failed or timed out");
                return;
            };
            let service = hyper_util::service::TowerToHyperService::new(router);
            let mut builder = hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new());
            builder.http1().timer(hyper_util::rt::TokioTimer::new()).header_read_timeout(Duration::from_secs(30));
            let connection = builder.serve_connection(hyper_util::rt::TokioIo::new(stream), service).into_owned();
            let _ = watcher.watch(connection).await;
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(Duration::from_secs(5), graceful.shutdown()).await;
}
