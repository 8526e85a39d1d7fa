//! The bank's core banking over HTTPS (`[core_banking."<bank>"]`): stetgate reading a bank's
//! accounts through the reference adapter over mutual TLS, the adapter being another database
//! (what AIS and funds confirmation show is the adapter's, not stetgate's own ledger); an adapter
//! that is down, slow or answering garbage (503 + Retry-After, counted in the statistics, the
//! circuit opens, other banks untouched); a bearer token instead of a client certificate; an
//! account blocked or closed at the adapter; `max_concurrent`; no PSU id or IBAN in the logs;
//! `stetgate core-banking serve` and the published contract, and stetgate configured by the
//! operator guide's block walking through that command's process; payments through the adapter's
//! hub (callbacks, a lost callback recovered by polling, a transfer the hub failed submitted again).

use crate::harness::{
    AppOptions, CertSpec, TestApp, TestDb, TestTpp, db_tests, issue_with, serve_https, spawn_app_with,
};
use eidas::issue::{TestCa, TppCertKind};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use stetgate::clock::Clock;
use stetgate::config::CoreBankingConfig;
use stetgate::core_banking::{adapter, contract};
use stetgate::ledger::hub::{Executed, PaymentHub, Transfer};
use stetgate::ledger::{Ledger, LedgerError, PsuId};
use stetgate::store::Store;

const BP: &str = "www.13807.sandbox.localhost";
const CE: &str = "www.17515.sandbox.localhost";
const ORG: &str = "PSDFR-ACPR-12345";
const MARC: &str = "D0999990I0";
const MARC_1: &str = "FR7613807008043001965405158";
const MARC_1_ID: &str = "138070080430019654051";
const LEA: &str = "9999999901";
const BIN: &str = env!("CARGO_BIN_EXE_stetgate");

fn bp() -> stet::BankCode {
    stet::BankCode::parse("13807").unwrap()
}

/// The bank's core banking: the published personas in a database of its own, where Marc's first
/// account holds 1,000,000.00 EUR (stetgate's own ledger says otherwise).
async fn core_banking_db(db: &TestDb) -> Store {
    let store = db.store().await;
    stetgate::sandbox::seed(&store, crate::harness::TEST_NOW.parse().unwrap()).await.unwrap();
    stetgate::sandbox::refresh_transactions(&store, "2026-11-21".parse().unwrap()).await.unwrap();
    make_marc_rich(db.url()).await;
    store
}

/// Marc's first account in the core banking database of `url` holds 1,000,000.00 EUR.
async fn make_marc_rich(url: &str) {
    sqlx::any::install_default_drivers();
    let mut connection = <sqlx::AnyConnection as sqlx::Connection>::connect(url).await.unwrap();
    sqlx::query("UPDATE accounts SET booked_balance_minor = 100000000 WHERE iban = $1")
        .bind(MARC_1)
        .execute(&mut connection)
        .await
        .unwrap();
}

/// The adapter's certificates and stetgate's client certificate, from one test CA, as files.
struct Pki {
    dir: tempfile::TempDir,
    ca: TestCa,
    server: eidas::issue::Issued,
}

impl Pki {
    fn new() -> Pki {
        let ca = TestCa::generate("core banking test CA", "Bank", 1).unwrap();
        let server = ca.issue_server("core", &["localhost".to_owned()], 30).unwrap();
        Pki { dir: tempfile::tempdir().unwrap(), ca, server }
    }

    fn file(&self, name: &str, text: &str) -> std::path::PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    /// stetgate's side: trust the adapter, present the client certificate.
    fn connector(&self, addr: SocketAddr) -> CoreBankingConfig {
        let client = issue_with(&self.ca, ORG, TppCertKind::Qwac, &CertSpec::default());
        CoreBankingConfig {
            ca: Some(self.file("core-ca.pem", &self.ca.root().cert_pem)),
            client_cert: Some(self.file("client.pem", &client.cert_pem)),
            client_key: Some(self.file("client.key", &client.key_pem)),
            timeout_secs: 1,
            breaker_failures: 3,
            breaker_open_secs: 1,
            ..CoreBankingConfig::example(&format!("https://localhost:{}/core", addr.port()))
        }
    }

    /// The reference adapter on `store`, requiring a client certificate of this CA.
    async fn serve(&self, router: axum::Router) -> (SocketAddr, tokio::sync::oneshot::Sender<()>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        (addr, self.serve_on(listener, router))
    }

    /// The same on a listener bound beforehand (stetgate's configuration names its port).
    fn serve_on(&self, listener: tokio::net::TcpListener, router: axum::Router) -> tokio::sync::oneshot::Sender<()> {
        let tls = adapter::tls_config(
            &self.file("server.pem", &self.server.cert_pem),
            &self.file("server.key", &self.server.key_pem),
            Some(&self.file("clients.pem", &self.ca.root().cert_pem)),
        )
        .unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let app = axum::Router::new().nest("/core", router);
        tokio::spawn(adapter::serve(listener, Arc::new(tls), app, async {
            let _ = stopped.await;
        }));
        stop
    }
}

async fn stetgate_with(db: TestDb, connector: CoreBankingConfig) -> (TestApp, TestTpp) {
    let options = AppOptions { core_banking: BTreeMap::from([(bp(), connector)]), ..AppOptions::default() };
    let app = spawn_app_with(db, options).await;
    let roles = vec![eidas::psd2::Role::AccountInformation, eidas::psd2::Role::CardIssuing];
    let tpp = app.tpp(ORG, CertSpec { roles, ..CertSpec::default() });
    app.register(&tpp).await;
    (app, tpp)
}

async fn call(
    app: &TestApp,
    tpp: &TestTpp,
    host: &str,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value, reqwest::header::HeaderMap) {
    let mut request =
        app.tpp_client(host, tpp).signed(method, path).bearer(token).header("psu-ip-address", "192.0.2.10");
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    (status, serde_json::from_str(&response.text().await.unwrap()).unwrap_or(Value::Null), headers)
}

async fn ais_and_funds_confirmation_through_the_adapter(db: TestDb) {
    let core_db = db.sibling().await;
    let core = core_banking_db(&core_db).await;
    let pki = Pki::new();
    let (addr, stop) = pki.serve(adapter::router(Arc::new(core.clone()), adapter::AdapterOptions::default())).await;
    let (app, tpp) = stetgate_with(db, pki.connector(addr)).await;

    // The PSU signs in and the consent page lists the accounts the adapter gave.
    let token = app.access_token(&tpp, BP, MARC, "aisp", None).await;
    let consent = json!({"balances": [{"iban": MARC_1}], "transactions": [{"iban": MARC_1}], "psuIdentity": true, "trustedBeneficiaries": false});
    let (status, body, _) =
        call(&app, &tpp, BP, &token, Method::PUT, "/stet/psd2/v1.4.2/consents", Some(consent)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body, _) = call(&app, &tpp, BP, &token, Method::GET, "/stet/psd2/v1.4.2/accounts", None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let first = &body["accounts"][0];
    assert_eq!(first["resourceId"], MARC_1_ID);
    assert_eq!(
        first["balances"][0]["balanceAmount"],
        json!({"currency": "EUR", "amount": "1000000.00"}),
        "the adapter's balance, not stetgate's own ledger's"
    );

    // Transactions: the adapter's operations (stetgate's own ledger has other ids: its daily
    // operations are drawn for its own database).
    let (status, body, _) = call(
        &app,
        &tpp,
        BP,
        &token,
        Method::GET,
        &format!("/stet/psd2/v1.4.2/accounts/{MARC_1_ID}/transactions"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let served: Vec<&str> =
        body["transactions"].as_array().unwrap().iter().map(|t| t["resourceId"].as_str().unwrap()).collect();
    let today: jiff::civil::Date = "2026-11-21".parse().unwrap();
    let window = stetgate::ledger::DateWindow {
        from: today.checked_sub(jiff::Span::new().days(62)).unwrap(),
        to: today.tomorrow().unwrap(),
    };
    let id = stet::ResourceId::parse(MARC_1_ID).unwrap();
    let held = core.transactions(bp(), &id, window).await.unwrap();
    assert!(!held.is_empty() && served.len() == held.len(), "served {} of the adapter's {}", served.len(), held.len());
    let (status, body, _) =
        call(&app, &tpp, BP, &token, Method::GET, "/stet/psd2/v1.4.2/end-user-identity", None).await;
    assert_eq!(status, StatusCode::OK);
    let marc = core.psu(bp(), &PsuId::parse(MARC).unwrap()).await.unwrap().unwrap();
    assert_eq!(body["connectedPsu"].as_str(), Some(marc.identity.connected_psu.as_str()));

    // Funds confirmation answers on the adapter's instant balance.
    let cbpii = app.access_token(&tpp, BP, MARC, "cbpii", Some(&[MARC_1_ID])).await;
    let ask = json!({"paymentCoverageRequestId": "Coverage1", "payee": "Boulangerie Paul", "instructedAmount": {"currency": "EUR", "amount": "900000.00"}, "accountId": {"iban": MARC_1}});
    let (status, body, _) =
        call(&app, &tpp, BP, &cbpii, Method::POST, "/stet/psd2/v1.4.2/funds-confirmations", Some(ask)).await;
    assert_eq!((status, &body["result"]), (StatusCode::OK, &json!(true)), "{body}");

    // The adapter stops: the bank's calls get 503 with Retry-After; the other bank is untouched.
    stop.send(()).unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let (status, body, headers) = call(&app, &tpp, BP, &token, Method::GET, "/stet/psd2/v1.4.2/accounts", None).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(headers.contains_key("retry-after"));
    assert!(!body.to_string().contains("localhost"), "no cause reaches the TPP: {body}");
    let lea = app.access_token(&tpp, CE, LEA, "aisp", None).await;
    assert_eq!(call(&app, &tpp, CE, &lea, Method::GET, "/stet/psd2/v1.4.2/accounts", None).await.0, StatusCode::OK);
    core_db.destroy().await;
}

/// What the failing adapter does with each call.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Behaviour {
    Healthy,
    NotJson,
    WrongShape,
    Slow,
    ServerError,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_adapter_costs_its_bank_a_503_and_nothing_else() {
    // The adapter's database lives as long as the test (its folder is removed with it).
    let core_db = TestDb::sqlite();
    let core = core_banking_db(&core_db).await;
    let behaviour = Arc::new(Mutex::new(Behaviour::Healthy));
    let calls = Arc::new(AtomicUsize::new(0));
    let (b, c) = (behaviour.clone(), calls.clone());
    let router = adapter::router(Arc::new(core), adapter::AdapterOptions::default()).layer(axum::middleware::from_fn(
        move |request: axum::extract::Request, next: axum::middleware::Next| {
            let (b, c) = (b.clone(), c.clone());
            async move {
                use axum::response::IntoResponse;
                c.fetch_add(1, Ordering::SeqCst);
                let now = *b.lock().unwrap();
                match now {
                    Behaviour::Healthy => next.run(request).await,
                    Behaviour::NotJson => (StatusCode::OK, "<html>maintenance</html>").into_response(),
                    Behaviour::WrongShape => {
                        axum::Json(json!({"accounts": [{"iban": "nope"}], "balances": [{"resourceId": 1}]}))
                            .into_response()
                    }
                    Behaviour::Slow => {
                        tokio::time::sleep(std::time::Duration::from_secs(3)).await;
                        next.run(request).await
                    }
                    Behaviour::ServerError => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
                }
            }
        },
    ));
    let pki = Pki::new();
    let server = pki.server.clone();
    let addr = serve_https(axum::Router::new().nest("/core", router), &server, Some(&pki.ca.root().cert_pem)).await;
    let (app, tpp) = stetgate_with(TestDb::sqlite(), pki.connector(addr)).await;
    let token = app.access_token(&tpp, BP, MARC, "aisp", None).await;
    let lea = app.access_token(&tpp, CE, LEA, "aisp", None).await;
    let accounts = async |token: &str, host: &str| {
        call(&app, &tpp, host, token, Method::GET, "/stet/psd2/v1.4.2/accounts", None).await
    };

    for failure in [Behaviour::NotJson, Behaviour::WrongShape, Behaviour::Slow] {
        *behaviour.lock().unwrap() = failure;
        let (status, body, headers) = accounts(&token, BP).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{failure:?}: {body}");
        assert!(headers.contains_key("retry-after"), "{failure:?}");
        assert_eq!(accounts(&lea, CE).await.0, StatusCode::OK, "the built-in ledger's bank is untouched");
    }
    // Three consecutive failures opened the circuit: the adapter is not called until the pause ends.
    *behaviour.lock().unwrap() = Behaviour::Healthy;
    let before = calls.load(Ordering::SeqCst);
    assert_eq!(accounts(&token, BP).await.0, StatusCode::SERVICE_UNAVAILABLE, "circuit open");
    assert_eq!(calls.load(Ordering::SeqCst), before, "a call with the circuit open never reaches the adapter");
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    assert_eq!(accounts(&token, BP).await.0, StatusCode::OK, "after the pause, a trial call closes it");
    *behaviour.lock().unwrap() = Behaviour::ServerError;
    assert_eq!(accounts(&token, BP).await.0, StatusCode::SERVICE_UNAVAILABLE);

    // The failures count in the bank's availability statistics, and in the metrics.
    app.state.recorder.flush(&app.store).await.unwrap();
    let records = app
        .store
        .statistics_records(bp(), "2026-11-21T00:00:00Z".parse().unwrap(), "2026-11-22T00:00:00Z".parse().unwrap())
        .await
        .unwrap();
    let server_errors: i64 = records.minutes.iter().map(|r| r.server_errors).sum();
    assert_eq!(server_errors, 5, "five 503s of bank 13807: {records:?}");
    let metrics = app.client(BP).request(Method::GET, "/metrics").send().await.unwrap().text().await.unwrap();
    for outcome in ["ok", "failed", "circuit_open"] {
        assert!(
            metrics.contains(&format!(
                "stetgate_core_banking_calls_total{{bank=\"13807\",operation=\"accounts\",outcome=\"{outcome}\"}}"
            )),
            "{outcome}: {metrics}"
        );
    }
    assert!(!metrics.contains(MARC), "no PSU in the metrics");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cached_balance_is_served_no_longer_than_cache_secs() {
    let core_db = TestDb::sqlite();
    let core = core_banking_db(&core_db).await;
    let balance_calls = Arc::new(AtomicUsize::new(0));
    let seen = balance_calls.clone();
    let router = adapter::router(Arc::new(core), adapter::AdapterOptions::default()).layer(axum::middleware::from_fn(
        move |request: axum::extract::Request, next: axum::middleware::Next| {
            let seen = seen.clone();
            async move {
                if request.uri().path().ends_with("/balances") {
                    seen.fetch_add(1, Ordering::SeqCst);
                }
                next.run(request).await
            }
        },
    ));
    let pki = Pki::new();
    let (addr, _stop) = pki.serve(router).await;
    let (app, tpp) = stetgate_with(TestDb::sqlite(), CoreBankingConfig { cache_secs: 2, ..pki.connector(addr) }).await;
    let token = app.access_token(&tpp, BP, MARC, "aisp", None).await;
    let consent = json!({"balances": [{"iban": MARC_1}], "transactions": [], "psuIdentity": false, "trustedBeneficiaries": false});
    assert_eq!(
        call(&app, &tpp, BP, &token, Method::PUT, "/stet/psd2/v1.4.2/consents", Some(consent)).await.0,
        StatusCode::CREATED
    );
    let balance = async || {
        let (status, body, _) = call(&app, &tpp, BP, &token, Method::GET, "/stet/psd2/v1.4.2/accounts", None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["accounts"][0]["balances"][0]["balanceAmount"]["amount"].as_str().unwrap().to_owned()
    };
    assert_eq!(balance().await, "1000000.00");
    let mut connection = <sqlx::AnyConnection as sqlx::Connection>::connect(core_db.url()).await.unwrap();
    sqlx::query("UPDATE accounts SET booked_balance_minor = 500 WHERE iban = $1")
        .bind(MARC_1)
        .execute(&mut connection)
        .await
        .unwrap();
    assert_eq!(balance().await, "1000000.00", "within cache_secs, the cached figure");
    assert_eq!(balance_calls.load(Ordering::SeqCst), 1, "one call to the adapter for both");
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    assert_eq!(balance().await, "5.00", "after cache_secs, the bank's figure");
}

/// Sets an account's status in the bank's core banking (`open`, `closed`, `blocked`).
async fn set_status(core_db: &TestDb, iban: &str, status: &str) {
    let mut connection = <sqlx::AnyConnection as sqlx::Connection>::connect(core_db.url()).await.unwrap();
    sqlx::query("UPDATE accounts SET status = $1 WHERE iban = $2")
        .bind(status)
        .bind(iban)
        .execute(&mut connection)
        .await
        .unwrap();
}

/// An adapter that requires a bearer token (and no client certificate): stetgate sends the token
/// of `bearer_token_file` and is served; a node with another token, or with none (its client
/// certificate only), is refused by the adapter and its TPP gets 503 with Retry-After.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_connector_authenticates_with_its_bearer_token() {
    let core_db = TestDb::sqlite();
    let core = core_banking_db(&core_db).await;
    let pki = Pki::new();
    let options = adapter::AdapterOptions { bearer: Some("core-token-0123456789".into()), ..Default::default() };
    let router = axum::Router::new().nest("/core", adapter::router(Arc::new(core), options));
    let addr = serve_https(router, &pki.server, None).await;
    let with_token = |token: &str| CoreBankingConfig {
        client_cert: None,
        client_key: None,
        bearer_token_file: Some(pki.file(&format!("{token}.token"), &format!("{token}\n"))),
        ..pki.connector(addr)
    };
    let (app, tpp) = stetgate_with(TestDb::sqlite(), with_token("core-token-0123456789")).await;
    let token = app.access_token(&tpp, BP, MARC, "aisp", None).await;
    let consent = json!({"balances": [{"iban": MARC_1}], "transactions": [], "psuIdentity": false, "trustedBeneficiaries": false});
    let (status, body, _) =
        call(&app, &tpp, BP, &token, Method::PUT, "/stet/psd2/v1.4.2/consents", Some(consent)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body, _) = call(&app, &tpp, BP, &token, Method::GET, "/stet/psd2/v1.4.2/accounts", None).await;
    assert_eq!(status, StatusCode::OK, "the token of bearer_token_file is accepted: {body}");
    assert_eq!(body["accounts"][0]["balances"][0]["balanceAmount"]["amount"], "1000000.00", "the adapter's: {body}");

    let node = |connector| {
        crate::harness::spawn_node_with(
            &app,
            AppOptions { core_banking: BTreeMap::from([(bp(), connector)]), ..AppOptions::default() },
        )
    };
    let wrong = node(with_token("another-token-987654321")).await;
    let certificate_only = node(pki.connector(addr)).await;
    for (what, other) in [("a wrong token", &wrong), ("no token", &certificate_only)] {
        let (status, body, headers) =
            call(other, &tpp, BP, &token, Method::GET, "/stet/psd2/v1.4.2/accounts", None).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{what}: {body}");
        assert!(headers.contains_key("retry-after"), "{what}");
        assert!(!body.to_string().contains("token"), "{what}: nothing of the cause reaches the TPP: {body}");
    }
}

/// The adapter's word on an account's status is the one that counts: Marc's first account, open
/// in stetgate's own ledger, blocked then closed in the core banking, is refused AC06 then AC04
/// by funds confirmation and no longer offered by AIS.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_blocked_or_closed_at_the_adapter_is_seen_so() {
    let core_db = TestDb::sqlite();
    let core = core_banking_db(&core_db).await;
    let pki = Pki::new();
    let (addr, _stop) = pki.serve(adapter::router(Arc::new(core), adapter::AdapterOptions::default())).await;
    let (app, tpp) = stetgate_with(TestDb::sqlite(), pki.connector(addr)).await;
    let aisp = app.access_token(&tpp, BP, MARC, "aisp", None).await;
    let consent = json!({"balances": [{"iban": MARC_1}], "transactions": [], "psuIdentity": false, "trustedBeneficiaries": false});
    let (status, body, _) = call(&app, &tpp, BP, &aisp, Method::PUT, "/stet/psd2/v1.4.2/consents", Some(consent)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let cbpii = app.access_token(&tpp, BP, MARC, "cbpii", Some(&[MARC_1_ID])).await;
    let funds = async || {
        let ask = json!({"paymentCoverageRequestId": "Coverage1", "payee": "Boulangerie Paul", "instructedAmount": {"currency": "EUR", "amount": "100.00"}, "accountId": {"iban": MARC_1}});
        let (status, body, _) =
            call(&app, &tpp, BP, &cbpii, Method::POST, "/stet/psd2/v1.4.2/funds-confirmations", Some(ask)).await;
        (status, body)
    };
    let listed = async || {
        let (status, body, _) = call(&app, &tpp, BP, &aisp, Method::GET, "/stet/psd2/v1.4.2/accounts", None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["accounts"].as_array().unwrap().iter().any(|a| a["resourceId"] == MARC_1_ID)
    };
    let (status, body) = funds().await;
    assert_eq!((status, &body["result"]), (StatusCode::OK, &json!(true)), "open: {body}");
    assert!(listed().await, "open: listed");
    for (adapter_says, code) in [("blocked", "AC06"), ("closed", "AC04")] {
        set_status(&core_db, MARC_1, adapter_says).await;
        let (status, body) = funds().await;
        assert_eq!((status, body["message"].as_str()), (StatusCode::BAD_REQUEST, Some(code)), "{adapter_says}: {body}");
        assert!(!listed().await, "{adapter_says}: not offered to the TPP");
    }
}

/// With `max_concurrent = 1`, two TPP requests arriving together reach a slow adapter one after
/// the other: the adapter never has two calls in flight. The same two requests on a node allowed
/// more do overlap there (what shows the bound, not chance, kept them apart).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_concurrent_bounds_the_calls_in_flight_to_the_adapter() {
    let core_db = TestDb::sqlite();
    let core = core_banking_db(&core_db).await;
    let in_flight = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let (now, seen) = (in_flight.clone(), most.clone());
    let router = adapter::router(Arc::new(core), adapter::AdapterOptions::default()).layer(axum::middleware::from_fn(
        move |request: axum::extract::Request, next: axum::middleware::Next| {
            let (now, seen) = (now.clone(), seen.clone());
            async move {
                let current = now.fetch_add(1, Ordering::SeqCst) + 1;
                seen.fetch_max(current, Ordering::SeqCst);
                tokio::time::sleep(std::time::Duration::from_millis(300)).await;
                let response = next.run(request).await;
                now.fetch_sub(1, Ordering::SeqCst);
                response
            }
        },
    ));
    let pki = Pki::new();
    let (addr, _stop) = pki.serve(router).await;
    let bounded = CoreBankingConfig { max_concurrent: 1, timeout_secs: 5, ..pki.connector(addr) };
    let (app, tpp) = stetgate_with(TestDb::sqlite(), bounded).await;
    let token = app.access_token(&tpp, BP, MARC, "aisp", None).await;
    let consent = json!({"balances": [{"iban": MARC_1}], "transactions": [], "psuIdentity": false, "trustedBeneficiaries": false});
    let (status, _, _) = call(&app, &tpp, BP, &token, Method::PUT, "/stet/psd2/v1.4.2/consents", Some(consent)).await;
    assert_eq!(status, StatusCode::CREATED);
    let both = async |node: &TestApp| {
        most.store(0, Ordering::SeqCst);
        let accounts = || call(node, &tpp, BP, &token, Method::GET, "/stet/psd2/v1.4.2/accounts", None);
        let (a, b) = tokio::join!(accounts(), accounts());
        assert_eq!((a.0, b.0), (StatusCode::OK, StatusCode::OK), "both served: {} {}", a.1, b.1);
        most.load(Ordering::SeqCst)
    };
    assert_eq!(both(&app).await, 1, "max_concurrent = 1: one call in flight at a time");
    let roomy = CoreBankingConfig { max_concurrent: 8, timeout_secs: 5, ..pki.connector(addr) };
    let options = AppOptions { core_banking: BTreeMap::from([(bp(), roomy)]), ..AppOptions::default() };
    let other = crate::harness::spawn_node_with(&app, options).await;
    assert_eq!(both(&other).await, 2, "without the bound the same two calls overlap");
}

/// Nothing the connector logs names a PSU or an IBAN, through a whole AIS walk and the failures
/// that log the most: an answer that breaks the contract on a field holding the IBAN, and an
/// adapter that cannot be reached (whose error would otherwise carry the call's URL, PSU id in it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_connectors_logs_carry_no_psu_or_iban() {
    let logs = crate::harness::logs();
    let core_db = TestDb::sqlite();
    let core = core_banking_db(&core_db).await;
    let garbage = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let g = garbage.clone();
    let router = adapter::router(Arc::new(core), adapter::AdapterOptions::default()).layer(axum::middleware::from_fn(
        move |request: axum::extract::Request, next: axum::middleware::Next| {
            let g = g.clone();
            async move {
                use axum::response::IntoResponse;
                if g.load(Ordering::SeqCst) {
                    // serde would quote the unknown status, here the IBAN.
                    let account = json!({"resourceId": MARC_1_ID, "iban": MARC_1, "status": MARC_1});
                    return axum::Json(json!({"accounts": [account]})).into_response();
                }
                next.run(request).await
            }
        },
    ));
    let pki = Pki::new();
    let (addr, stop) = pki.serve(router).await;
    let (app, tpp) = stetgate_with(TestDb::sqlite(), pki.connector(addr)).await;
    let token = app.access_token(&tpp, BP, MARC, "aisp", None).await;
    let consent = json!({"balances": [{"iban": MARC_1}], "transactions": [{"iban": MARC_1}], "psuIdentity": true, "trustedBeneficiaries": false});
    let (status, _, _) = call(&app, &tpp, BP, &token, Method::PUT, "/stet/psd2/v1.4.2/consents", Some(consent)).await;
    assert_eq!(status, StatusCode::CREATED);
    for path in [
        "/stet/psd2/v1.4.2/accounts".to_owned(),
        format!("/stet/psd2/v1.4.2/accounts/{MARC_1_ID}/balances"),
        format!("/stet/psd2/v1.4.2/accounts/{MARC_1_ID}/transactions"),
        "/stet/psd2/v1.4.2/end-user-identity".to_owned(),
    ] {
        let (status, body, _) = call(&app, &tpp, BP, &token, Method::GET, &path, None).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
    }
    garbage.store(true, Ordering::SeqCst);
    let (status, _, _) = call(&app, &tpp, BP, &token, Method::GET, "/stet/psd2/v1.4.2/accounts", None).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "an answer breaking the contract");
    stop.send(()).unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let (status, _, _) = call(&app, &tpp, BP, &token, Method::GET, "/stet/psd2/v1.4.2/accounts", None).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "the adapter gone");

    let mut lines = logs.lines_with(&["core-banking"]);
    lines.extend(logs.lines_with(&["core_banking"]));
    assert!(
        lines.iter().any(|l| l.contains("does not follow the contract")),
        "the broken answer is logged: {lines:#?}"
    );
    assert!(lines.iter().any(|l| l.contains("not reached")), "the unreachable adapter is logged: {lines:#?}");
    for line in &lines {
        for personal in [MARC, MARC_1] {
            assert!(!line.contains(personal), "{personal} logged: {line}");
        }
    }
}

/// Checks `body` against the schema `name` of the published contract.
fn assert_follows_contract(name: &str, body: &Value) {
    let doc = contract::openapi();
    let schema = json!({"components": doc["components"], "$ref": format!("#/components/schemas/{name}")});
    let validator = jsonschema::options().with_draft(jsonschema::Draft::Draft202012).build(&schema).unwrap();
    let errors: Vec<String> = validator.iter_errors(body).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    assert!(errors.is_empty(), "{name}: {errors:#?}\n{body:#}");
}

/// A `stetgate core-banking serve` process, killed when dropped (a failing test leaves none).
struct AdapterProcess(std::process::Child);

impl Drop for AdapterProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `stetgate core-banking serve --listen 127.0.0.1:0` with `args`, serving: the process and the
/// port it printed.
fn adapter_process(args: &[&std::ffi::OsStr]) -> (AdapterProcess, u16) {
    use std::io::{BufRead, BufReader};
    let mut child = std::process::Command::new(BIN)
        .args(["core-banking", "serve", "--listen", "127.0.0.1:0"])
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let url = line.split_whitespace().find(|w| w.starts_with("https://")).unwrap_or_else(|| panic!("{line}"));
    let port = url.trim_end_matches("/v1/").rsplit(':').next().and_then(|p| p.parse().ok());
    (AdapterProcess(child), port.unwrap_or_else(|| panic!("{line}")))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reference_adapter_command_serves_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("core.token");
    std::fs::write(&token_file, "s3cret-token\n").unwrap();
    let (_adapter, port) = adapter_process(&[
        "--bearer-token-file".as_ref(),
        token_file.as_ref(),
        "--data-dir".as_ref(),
        dir.path().as_ref(),
    ]);
    let base = format!("https://localhost:{port}");
    let ca = std::fs::read(dir.path().join("pki/ca.pem")).unwrap();
    let http = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(&ca).unwrap()])
        .no_proxy()
        .build()
        .unwrap();
    let get = async |path: &str, token: Option<&str>| {
        let mut request = http.get(format!("{base}{path}"));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        (status, response.json::<Value>().await.unwrap_or(Value::Null))
    };
    let token = Some("s3cret-token");
    assert_eq!(get("/v1/banks/13807/psus/D0999990I0", None).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(get("/v1/banks/13807/psus/D0999990I0", Some("wrong")).await.0, StatusCode::UNAUTHORIZED);
    let (status, psu) = get("/v1/banks/13807/psus/D0999990I0", token).await;
    assert_eq!(status, StatusCode::OK);
    assert_follows_contract("PsuBody", &psu);
    assert_eq!(get("/v1/banks/13807/psus/NOBODY", token).await.0, StatusCode::NOT_FOUND);
    let (status, problem) = get("/v1/banks/1380/psus/D0999990I0", token).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_follows_contract("ProblemBody", &problem);
    let (status, accounts) = get("/v1/banks/13807/psus/D0999990I0/accounts", token).await;
    assert_eq!(status, StatusCode::OK);
    assert_follows_contract("AccountList", &accounts);
    assert_eq!(accounts["accounts"][0]["iban"], MARC_1);
    let (status, transactions) =
        get(&format!("/v1/banks/13807/accounts/{MARC_1_ID}/transactions?from=2020-01-01&to=2100-01-01"), token).await;
    assert_eq!(status, StatusCode::OK);
    assert_follows_contract("TransactionList", &transactions);
    assert!(!transactions["transactions"].as_array().unwrap().is_empty());
    let (status, overdraft) = get(&format!("/v1/banks/13807/accounts/{MARC_1_ID}/overdraft"), token).await;
    assert_eq!(status, StatusCode::OK);
    assert_follows_contract("OverdraftBody", &overdraft);
    let query = json!({"accounts": [MARC_1_ID, "UNKNOWN1"], "date": "2026-11-21"});
    let response = http
        .post(format!("{base}/v1/banks/13807/balances"))
        .bearer_auth("s3cret-token")
        .json(&query)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let balances: Value = response.json().await.unwrap();
    assert_follows_contract("BalanceList", &balances);
    assert_eq!(balances["balances"].as_array().unwrap().len(), 1, "an unknown account is left out");
    let bad = http
        .post(format!("{base}/v1/banks/13807/balances"))
        .bearer_auth("s3cret-token")
        .body("{")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);

    // A payment: pending at once, booked on the SQL ledger just after, answered the same on a
    // second submission; a key is asked about as a query parameter (it holds `/`).
    let key = "13807/PR-cli/0/2026-11-21";
    let order = json!({"key": key, "debtorAccount": MARC_1_ID, "instructedAmount": {"currency": "EUR", "amount": "1.00"}, "creditTransfers": [{"creditor": {"name": "Boulangerie Paul"}, "amount": {"currency": "EUR", "amount": "1.00"}}], "requestedExecutionDate": "2026-11-21", "instant": false});
    assert_follows_contract("PaymentOrder", &order);
    let submit = async |with_key: bool| {
        let mut request = http.post(format!("{base}/v1/banks/13807/payments")).bearer_auth("s3cret-token");
        if with_key {
            request = request.header("idempotency-key", key);
        }
        let response = request.json(&order).send().await.unwrap();
        (response.status(), response.json::<Value>().await.unwrap_or(Value::Null))
    };
    let (status, pending) = submit(true).await;
    assert_eq!((status, &pending["status"]), (StatusCode::ACCEPTED, &json!("pending")), "{pending}");
    assert_follows_contract("PaymentStatusBody", &pending);
    let mut polled = Value::Null;
    for _ in 0..50 {
        polled = get("/v1/banks/13807/payments/status?key=13807%2FPR-cli%2F0%2F2026-11-21", token).await.1;
        if polled["status"] == "booked" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(polled["status"], "booked", "{polled}");
    assert_follows_contract("PaymentStatusBody", &polled);
    assert_eq!(submit(true).await, (StatusCode::OK, polled), "a second submission executes nothing");
    assert_eq!(submit(false).await.0, StatusCode::BAD_REQUEST, "the key travels as Idempotency-Key");
}

/// stetgate configured by docs/operator-guide.md's `[core_banking."13807"]` block (its URL and file
/// paths replaced) against `stetgate core-banking serve` in a process of its own, as a bank's
/// developers run the pair: mutual TLS and a bearer token, AIS and funds confirmation on the
/// adapter's database, a payment executed by its hub and found booked by the scheduler's poll.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stetgate_walks_through_the_reference_adapter_process_configured_as_the_guide_shows() {
    let pki = Pki::new();
    let core_db = TestDb::sqlite();
    let client = issue_with(&pki.ca, ORG, TppCertKind::Qwac, &CertSpec::default());
    let token_file = pki.file("core.token", "core-token-0123456789\n");
    let adapter_dir = tempfile::tempdir().unwrap();
    let (server_pem, server_key) =
        (pki.file("server.pem", &pki.server.cert_pem), pki.file("server.key", &pki.server.key_pem));
    let clients = pki.file("clients.pem", &pki.ca.root().cert_pem);
    let (_adapter, port) = adapter_process(&[
        "--tls-cert".as_ref(),
        server_pem.as_ref(),
        "--tls-key".as_ref(),
        server_key.as_ref(),
        "--client-ca".as_ref(),
        clients.as_ref(),
        "--bearer-token-file".as_ref(),
        token_file.as_ref(),
        "--data-dir".as_ref(),
        adapter_dir.path().as_ref(),
        "--database-url".as_ref(),
        core_db.url().as_ref(),
    ]);
    // The adapter seeded the personas before it listened: its Marc is richer than stetgate's.
    make_marc_rich(core_db.url()).await;

    let guide = include_str!("../../../../docs/operator-guide.md");
    let section = guide.split("## Connecting your core banking system").nth(1).expect("the section");
    let mut block = section.split("```toml").nth(1).and_then(|b| b.split("```").next()).expect("its block").to_owned();
    let files = [
        ("https://core.bank.example/stetgate", format!("https://localhost:{port}")),
        ("/etc/stetgate/core-ca.pem", pki.file("core-ca.pem", &pki.ca.root().cert_pem).display().to_string()),
        ("/etc/stetgate/core-client.pem", pki.file("client.pem", &client.cert_pem).display().to_string()),
        ("/etc/stetgate/core-client.key", pki.file("client.key", &client.key_pem).display().to_string()),
        ("/etc/stetgate/core.token", token_file.display().to_string()),
        ("/etc/stetgate/hub-callback.key", pki.file("hub.key", HUB_KEY).display().to_string()),
    ];
    for (placeholder, real) in &files {
        assert!(block.contains(placeholder), "the guide's block names {placeholder}");
        block = block.replace(placeholder, real);
    }
    let bank = "[[banks]]\ncode = \"13807\"\nname = \"Banque Populaire Grand Ouest\"\n";
    let config = crate::harness::load_production_config(pki.dir.path(), &format!("{bank}{block}"))
        .expect("the guide's block loads");
    let connector = config.core_banking[&bp()].clone();
    let options = AppOptions { core_banking: BTreeMap::from([(bp(), connector)]), ..AppOptions::default() };
    let p = crate::pis::pisp_with(TestDb::sqlite(), options).await;

    let (booked, _) = p.marc_sees(MARC_1, MARC_1_ID).await;
    assert_eq!(booked, "1000000.00", "the adapter's balance, not stetgate's own ledger's");
    let card_issuer =
        p.app.tpp("PSDFR-ACPR-77777", CertSpec { roles: vec![eidas::psd2::Role::CardIssuing], ..CertSpec::default() });
    p.app.register(&card_issuer).await;
    let cbpii = p.app.access_token(&card_issuer, BP, MARC, "cbpii", Some(&[MARC_1_ID])).await;
    let ask = json!({"paymentCoverageRequestId": "Coverage1", "instructedAmount": {"currency": "EUR", "amount": "900000.00"}, "accountId": {"iban": MARC_1}});
    let (status, body, _) =
        call(&p.app, &card_issuer, BP, &cbpii, Method::POST, "/stet/psd2/v1.4.2/funds-confirmations", Some(ask)).await;
    assert_eq!((status, &body["result"]), (StatusCode::OK, &json!(true)), "on the adapter's balance: {body}");

    let token = p.token().await;
    let (id, _) = pay(&p, &token, "process-1", "42.50").await;
    // The adapter answers pending, books it just after and calls nobody back (no --callback-url):
    // once it is booked there, the scheduler's poll finds it.
    let core = core_db.store().await;
    for _ in 0..50 {
        if marc_1_booked(&core).await == "999957.50" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(marc_1_booked(&core).await, "999957.50", "the adapter's hub executed it");
    p.app.clock.advance(jiff::SignedDuration::from_mins(4));
    p.tick().await;
    let token = p.token().await;
    let done = p.get(stet::ApiVersion::V1_6_2, &token, &id).await;
    assert_eq!(done["paymentRequest"]["paymentInformationStatus"], "ACSC", "{done}");
    let (booked, _) = p.marc_sees(MARC_1, MARC_1_ID).await;
    assert_eq!(booked, "999957.50", "debited in the adapter's database, seen so through AIS");
}

#[test]
fn the_published_contract_is_the_implemented_one() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/core-banking-v1.openapi.json");
    let generated = format!("{:#}\n", contract::openapi());
    if std::env::var_os("STET_BLESS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let published = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        published == generated,
        "docs/core-banking-v1.openapi.json differs from the contract the code implements: run \
         STET_BLESS=1 cargo test --test it core_banking, and explain the change in docs/core-banking.md"
    );
    if crate::openapi::validator_available() {
        let out =
            std::process::Command::new("python3").args(["-m", "openapi_spec_validator"]).arg(&path).output().unwrap();
        assert!(
            out.status.success(),
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

const HUB_KEY: &str = "hub-callback-key-0123456789abcdef0123456789";

/// A PISP on a stetgate whose bank 13807 reads its accounts from, and executes its payments
/// through, the reference adapter on `core` (format `format`); the adapter reports outcomes to
/// stetgate's callback when `callback` is true, else to nobody (a lost callback).
async fn pisp_through_the_adapter(
    db: TestDb,
    core: Store,
    format: stetgate::config::HubFormat,
    callback: bool,
) -> (crate::pis::Pisp, tokio::sync::oneshot::Sender<()>) {
    let hub: Arc<dyn PaymentHub> = Arc::new(core.clone());
    pisp_through_the_adapter_with(db, core, hub, format, callback).await
}

/// The same, the adapter executing payments on `hub` (its accounts still those of `core`).
async fn pisp_through_the_adapter_with(
    db: TestDb,
    core: Store,
    hub: Arc<dyn PaymentHub>,
    format: stetgate::config::HubFormat,
    callback: bool,
) -> (crate::pis::Pisp, tokio::sync::oneshot::Sender<()>) {
    let pki = Pki::new();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let payments = stetgate::config::PaymentHubConfig { format, callback_hmac_key_file: pki.file("hub.key", HUB_KEY) };
    let connector = CoreBankingConfig { payments: Some(payments), ..pki.connector(listener.local_addr().unwrap()) };
    let options = AppOptions { core_banking: BTreeMap::from([(bp(), connector)]), ..AppOptions::default() };
    let p = crate::pis::pisp_with(db, options).await;
    let url = format!("https://{BP}:{}/core-banking/v1/payment-status", if callback { p.app.addr.port() } else { 1 });
    let http = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(&p.app.ca_pem).unwrap()])
        .resolve(BP, p.app.addr)
        .no_proxy()
        .build()
        .unwrap();
    let clock = Arc::new(p.app.clock.clone());
    let callback = adapter::Callback { url: url.parse().unwrap(), key: HUB_KEY.as_bytes().to_vec(), http, clock };
    let options = adapter::AdapterOptions { bearer: None, hub: Some(hub), callback: Some(callback) };
    let stop = pki.serve_on(listener, adapter::router(Arc::new(core), options));
    (p, stop)
}

/// Approves and confirms a single payment of `amount` from Marc's first account; the request id.
async fn pay(p: &crate::pis::Pisp, token: &str, id: &str, amount: &str) -> (String, Value) {
    pay_with(p, token, &crate::pis::single(id, amount, None)).await
}

/// The same for any payment request `body`.
async fn pay_with(p: &crate::pis::Pisp, token: &str, body: &Value) -> (String, Value) {
    use stet::ApiVersion::V1_6_2;
    let (request, approval) = p.create(V1_6_2, token, body).await;
    let factor = crate::pis::factor(&p.approve(&approval, MARC, Some(MARC_1_ID)).await);
    let nonce = p.post(V1_6_2, token, body).await.1["nonce"].as_str().unwrap().to_owned();
    let (status, confirmed) =
        p.confirm(V1_6_2, token, &request, &json!({"nonce": nonce, "psuAuthenticationFactor": factor})).await;
    assert_eq!(status, StatusCode::OK, "{confirmed}");
    (request, confirmed)
}

/// The request's status once it is no longer ACSP (waiting at most 5 s for the hub's callback).
async fn settled_status(p: &crate::pis::Pisp, token: &str, id: &str) -> Value {
    for _ in 0..50 {
        let request = p.get(stet::ApiVersion::V1_6_2, token, id).await["paymentRequest"].clone();
        if request["paymentInformationStatus"] != "ACSP" {
            return request;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("payment request {id} still ACSP after 5 s")
}

async fn marc_1_booked(core: &Store) -> String {
    let id = stet::ResourceId::parse(MARC_1_ID).unwrap();
    core.balances_of(bp(), &id, "2026-11-21".parse().unwrap()).await.unwrap().unwrap().booked.amount_text()
}

async fn payments_execute_through_the_adapter_and_its_callbacks(db: TestDb) {
    let core_db = db.sibling().await;
    let core = core_banking_db(&core_db).await;
    let (p, _stop) = pisp_through_the_adapter(db, core.clone(), stetgate::config::HubFormat::Json, true).await;
    let token = p.token().await;

    let (id, confirmed) = pay(&p, &token, "hub-1", "42.50").await;
    // The hub answered pending; its callback may already have come back.
    let at_confirmation = confirmed["paymentRequest"]["paymentInformationStatus"].as_str().unwrap_or_default();
    assert!(["ACSP", "ACSC"].contains(&at_confirmation), "{confirmed}");
    let done = settled_status(&p, &token, &id).await;
    assert_eq!(done["paymentInformationStatus"], "ACSC", "the callback booked it: {done}");
    assert_eq!(marc_1_booked(&core).await, "999957.50", "debited in the bank's core banking");
    let (booked, transactions) = p.marc_sees(MARC_1, MARC_1_ID).await;
    assert_eq!(booked, "999957.50", "and seen so through AIS");
    assert!(transactions.iter().any(|t| t["remittanceInformation"].to_string().contains("Boulangerie Paul")));

    // More than the account holds: rejected by the hub, with the reason.
    let (id, _) = pay(&p, &token, "hub-2", "2000000.00").await;
    let done = settled_status(&p, &token, &id).await;
    assert_eq!(done["paymentInformationStatus"], "RJCT", "{done}");
    assert_eq!(done["statusReasonInformation"], "CUST", "{done}");
    assert_eq!(marc_1_booked(&core).await, "999957.50");

    // The callback endpoint: a signature is required, the first outcome wins, keys are checked.
    let http = p.app.client(BP);
    let report = |key: &str, status: &str| json!({"key": key, "status": status, "transactionId": "X1"}).to_string();
    let signed = |body: &str| {
        let t = p.app.clock.now().as_second();
        format!("t={t},hmac-sha256={}", contract::callback_signature(HUB_KEY.as_bytes(), t, body.as_bytes()))
    };
    let send = async |body: String, signature: Option<String>| {
        let mut request =
            http.request(Method::POST, "/core-banking/v1/payment-status").header("content-type", "application/json");
        if let Some(signature) = signature {
            request = request.header("x-stetgate-signature", signature);
        }
        request.body(body).send().await.unwrap().status()
    };
    let key = format!("13807/{id}/0/2026-11-21");
    assert_eq!(send(report(&key, "booked"), None).await, StatusCode::UNAUTHORIZED);
    let forged = format!(
        "t={},hmac-sha256={}",
        p.app.clock.now().as_second(),
        contract::callback_signature(b"guess", p.app.clock.now().as_second(), report(&key, "booked").as_bytes())
    );
    assert_eq!(send(report(&key, "booked"), Some(forged)).await, StatusCode::UNAUTHORIZED);
    let late = report(&key, "booked");
    assert_eq!(send(late.clone(), Some(signed(&late))).await, StatusCode::NO_CONTENT, "known, and changes nothing");
    assert_eq!(settled_status(&p, &token, &id).await["paymentInformationStatus"], "RJCT", "the first outcome stands");
    let unknown = report("13807/PR-unknown/0/2026-11-21", "booked");
    assert_eq!(send(unknown.clone(), Some(signed(&unknown))).await, StatusCode::BAD_REQUEST);
    let other_bank = p.app.client(CE);
    let status = other_bank
        .request(Method::POST, "/core-banking/v1/payment-status")
        .header("x-stetgate-signature", signed(&late))
        .body(late.clone())
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, StatusCode::NOT_FOUND, "bank 17515 has no hub");
    core_db.destroy().await;
}

async fn a_lost_callback_is_recovered_by_polling(db: TestDb) {
    let core_db = db.sibling().await;
    let core = core_banking_db(&core_db).await;
    let (p, _stop) = pisp_through_the_adapter(db, core.clone(), stetgate::config::HubFormat::Pain001, false).await;
    let token = p.token().await;
    let (id, _) = pay(&p, &token, "hub-3", "10.00").await;
    // The adapter executed the pain.001 order at once, but its callback went nowhere.
    for _ in 0..50 {
        if marc_1_booked(&core).await == "999990.00" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(marc_1_booked(&core).await, "999990.00");
    // A batch booking: one debit of 7.50, two credit transfers in one pain.001 PmtInf.
    let mut batch = crate::pis::single("hub-4", "5.00", None);
    batch["batchBooking"] = json!(true);
    batch["numberOfTransactions"] = json!(2);
    let mut second = batch["creditTransferTransaction"][0].clone();
    second["paymentId"] = json!({"instructionId": "hub-4-2", "endToEndId": "hub-4-e2e-2"});
    second["instructedAmount"]["amount"] = json!("2.50");
    batch["creditTransferTransaction"].as_array_mut().unwrap().push(second);
    let (batch_id, _) = pay_with(&p, &token, &batch).await;
    for _ in 0..50 {
        if marc_1_booked(&core).await == "999982.50" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(marc_1_booked(&core).await, "999982.50", "one debit of the batch's total");
    p.tick().await;
    let waiting = p.get(stet::ApiVersion::V1_6_2, &token, &id).await;
    assert_eq!(waiting["paymentRequest"]["paymentInformationStatus"], "ACSP", "not polled before three minutes");
    p.app.clock.advance(jiff::SignedDuration::from_mins(4));
    p.tick().await;
    let done = p.get(stet::ApiVersion::V1_6_2, &token, &id).await;
    assert_eq!(done["paymentRequest"]["paymentInformationStatus"], "ACSC", "the poll found it booked: {done}");
    let batch_done = p.get(stet::ApiVersion::V1_6_2, &token, &batch_id).await;
    assert_eq!(batch_done["paymentRequest"]["paymentInformationStatus"], "ACSC", "{batch_done}");
    assert_eq!(marc_1_booked(&core).await, "999982.50", "each executed once");
    core_db.destroy().await;
}

/// The SQL ledger's hub, failing while `down` (the bank's payment system out of service).
struct FailingHub {
    inner: Store,
    down: std::sync::atomic::AtomicBool,
    failures: AtomicUsize,
}

#[async_trait::async_trait]
impl PaymentHub for FailingHub {
    async fn execute(&self, transfer: &Transfer) -> Result<Executed, LedgerError> {
        if self.down.load(Ordering::SeqCst) {
            self.failures.fetch_add(1, Ordering::SeqCst);
            return Err(LedgerError::Unavailable("the payment system is out of service".into()));
        }
        self.inner.execute(transfer).await
    }
}

/// The bank's payment system fails after the adapter took a transfer (answered pending): the
/// adapter forgets it, and stetgate's poll, three minutes later, hears of no such transfer and
/// submits it again by the same key; it executes once.
async fn a_transfer_the_hub_failed_is_submitted_again_and_executed_once(db: TestDb) {
    let core_db = db.sibling().await;
    let core = core_banking_db(&core_db).await;
    let hub = Arc::new(FailingHub {
        inner: core.clone(),
        down: std::sync::atomic::AtomicBool::new(true),
        failures: AtomicUsize::new(0),
    });
    let (p, _stop) =
        pisp_through_the_adapter_with(db, core.clone(), hub.clone(), stetgate::config::HubFormat::Json, true).await;
    let token = p.token().await;
    let (id, confirmed) = pay(&p, &token, "hub-down-1", "42.50").await;
    assert_eq!(confirmed["paymentRequest"]["paymentInformationStatus"], "ACSP", "{confirmed}");
    for _ in 0..50 {
        if hub.failures.load(Ordering::SeqCst) > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(hub.failures.load(Ordering::SeqCst), 1, "the hub failed the transfer");
    assert_eq!(marc_1_booked(&core).await, "1000000.00", "nothing debited");
    hub.down.store(false, Ordering::SeqCst);
    p.app.clock.advance(jiff::SignedDuration::from_mins(4));
    p.tick().await;
    let done = settled_status(&p, &token, &id).await;
    assert_eq!(done["paymentInformationStatus"], "ACSC", "submitted again and booked: {done}");
    assert_eq!(marc_1_booked(&core).await, "999957.50");
    p.app.clock.advance(jiff::SignedDuration::from_mins(4));
    p.tick().await;
    assert_eq!(marc_1_booked(&core).await, "999957.50", "executed once");
    core_db.destroy().await;
}

db_tests!(
    ais_and_funds_confirmation_through_the_adapter,
    payments_execute_through_the_adapter_and_its_callbacks,
    a_lost_callback_is_recovered_by_polling,
    a_transfer_the_hub_failed_is_submitted_again_and_executed_once
);
