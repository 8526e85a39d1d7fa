//! Test harness: a fresh database per test, a real stetgate server on 127.0.0.1:0 with real TLS,
//! and `stet-tpp` clients for any bank host.
//!
//! Every test that touches the store runs twice, through [`db_tests!`]: on a fresh SQLite file and
//! on a fresh PostgreSQL database created from `TEST_PG_URL`. Without `TEST_PG_URL` the PostgreSQL
//! half is skipped with a note, except under `CI=true`, where it fails: CI must run it.

use eidas::issue::{Issued, TestCa, TppCertKind, TppCertRequest};
use eidas::psd2::Role;
use jiff::Timestamp;
use sqlx::Connection;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use stet_tpp::{ClientConfig, HttpVersion, Signer, TlsVersions, TppClient};
use stetgate::app;
use stetgate::clock::ManualClock;
use stetgate::config::{Config, DatabaseUrl, Mode};
use stetgate::store::Store;
use tokio::sync::oneshot;

/// The redirect URI [`TestApp::register`] registers.
pub const CALLBACK: &str = "https://tpp.example/callback";

/// The instant every test server believes it is (a Saturday in Paris), unless the test moves it.
pub const TEST_NOW: &str = "2026-11-21T10:00:00Z";

/// A database that exists for one test only.
pub enum TestDb {
    Sqlite { _dir: tempfile::TempDir, url: String, file: PathBuf },
    Postgres { url: String, admin_url: String, name: String },
}

impl TestDb {
    pub fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("test.db");
        TestDb::Sqlite { url: format!("sqlite://{}", file.display()), file, _dir: dir }
    }

    /// A new, empty PostgreSQL database; `None` (skip) when `TEST_PG_URL` is unset outside CI.
    pub async fn postgres() -> Option<TestDb> {
        let admin_url = match std::env::var("TEST_PG_URL") {
            Ok(url) if !url.is_empty() => url,
            _ => {
                assert!(
                    std::env::var("CI").map(|v| v != "true").unwrap_or(true),
                    "CI=true but TEST_PG_URL is not set: the PostgreSQL tests must run in CI"
                );
                eprintln!("note: TEST_PG_URL is not set; skipping the PostgreSQL run of this test");
                return None;
            }
        };
        Some(TestDb::postgres_on(&admin_url).await)
    }

    /// A new, empty database on the PostgreSQL server of `admin_url`.
    pub async fn postgres_on(admin_url: &str) -> TestDb {
        let admin_url = admin_url.to_owned();
        sqlx::any::install_default_drivers();
        let name = format!("stetgate_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = sqlx::AnyConnection::connect(&admin_url).await.expect("connect to TEST_PG_URL");
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .expect("create test database");
        admin.close().await.ok();
        let url = replace_database(&admin_url, &name);
        TestDb::Postgres { url, admin_url, name }
    }

    pub fn url(&self) -> &str {
        match self {
            TestDb::Sqlite { url, .. } | TestDb::Postgres { url, .. } => url,
        }
    }

    /// Makes the database disappear under a running server.
    pub async fn destroy(&self) {
        match self {
            TestDb::Sqlite { file, .. } => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
                }
            }
            TestDb::Postgres { admin_url, name, .. } => drop_database(admin_url, name).await,
        }
    }

    /// Another fresh database of the same kind (a second party's: a bank's core banking).
    pub async fn sibling(&self) -> TestDb {
        match self {
            TestDb::Sqlite { .. } => TestDb::sqlite(),
            TestDb::Postgres { admin_url, .. } => TestDb::postgres_on(admin_url).await,
        }
    }

    /// A migrated store on this database, without a server.
    pub async fn store(&self) -> Store {
        let store = Store::open(self.url()).await.expect("open store");
        store.migrate().await.expect("migrate");
        store
    }
}

async fn drop_database(admin_url: &str, name: &str) {
    sqlx::any::install_default_drivers();
    if let Ok(mut admin) = sqlx::AnyConnection::connect(admin_url).await {
        let _ = sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
            .execute(&mut admin)
            .await;
        let _ = admin.close().await;
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let TestDb::Postgres { admin_url, name, .. } = self {
            let (admin_url, name) = (admin_url.clone(), name.clone());
            // Drop runs inside the test's runtime: clean up on a thread with its own.
            let _ = std::thread::spawn(move || {
                if let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() {
                    rt.block_on(drop_database(&admin_url, &name));
                }
            })
            .join();
        }
    }
}

/// `postgres://u:p@h:5432/postgres?x=y` with its database name replaced.
fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = url.split_once('?').map(|(b, q)| (b, Some(q))).unwrap_or((url, None));
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let path_start = base[scheme_end..].find('/').map(|i| i + scheme_end).unwrap_or(base.len());
    let mut out = format!("{}/{name}", &base[..path_start]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// Runs each named async test function on SQLite and on PostgreSQL.
macro_rules! db_tests {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name($crate::harness::TestDb::sqlite()).await;
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    if let Some(db) = $crate::harness::TestDb::postgres().await {
                        super::$name(db).await;
                    }
                }
            }
        )*
    };
}
pub(crate) use db_tests;

/// The log lines every test server of this binary writes (JSON, one per line), kept in memory so
/// that a test can check what was logged; the first call installs the process's subscriber.
pub fn logs() -> &'static LogCapture {
    static CAPTURE: std::sync::OnceLock<LogCapture> = std::sync::OnceLock::new();
    CAPTURE.get_or_init(|| {
        let capture = LogCapture(Arc::new(std::sync::Mutex::new(Vec::new())));
        let writer = capture.clone();
        let _ = tracing_subscriber::fmt()
            .json()
            .flatten_event(true)
            .with_env_filter(tracing_subscriber::EnvFilter::new("info"))
            .with_writer(move || writer.clone())
            .try_init();
        capture
    })
}

#[derive(Clone)]
pub struct LogCapture(Arc<std::sync::Mutex<Vec<u8>>>);

impl LogCapture {
    /// The lines that contain every one of `needles`.
    pub fn lines_with(&self, needles: &[&str]) -> Vec<String> {
        let bytes = self.0.lock().unwrap().clone();
        String::from_utf8_lossy(&bytes)
            .lines()
            .filter(|line| needles.iter().all(|n| line.contains(n)))
            .map(str::to_owned)
            .collect()
    }
}

impl std::io::Write for LogCapture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A running sandbox server for one test.
pub struct TestApp {
    pub addr: SocketAddr,
    pub ca_pem: Vec<u8>,
    pub db: Arc<TestDb>,
    pub data_dir: Arc<tempfile::TempDir>,
    /// The server's clock: move it to cross expiries.
    pub clock: ManualClock,
    /// The internal operations listener, when `metrics_listen` was set.
    pub operations_addr: Option<SocketAddr>,
    /// The server's own store (its pool): close it to see the server lose its database.
    pub store: Store,
    /// The server's state: to run its scheduler's pass when a test decides (`pis::execute`).
    pub state: stetgate::app::AppState,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

/// Options for [`spawn_app_with`].
pub struct AppOptions {
    pub default_bank: &'static str,
    pub max_body_bytes: usize,
    /// Extra QTSP root bundles (`--trust-anchors`).
    pub trust_anchors: Vec<PathBuf>,
    /// What the server's clock says; [`TEST_NOW`] by default.
    pub now: Option<Timestamp>,
    /// `[[funds_rate_limits]]`: (bank code, requests per minute).
    pub funds_rate_limit: Option<(&'static str, i64)>,
    /// `[api_versions."..."]`.
    pub api_versions: std::collections::BTreeMap<stet::ApiVersion, stetgate::config::VersionLifecycle>,
    /// `[app2app."..."]`.
    pub app2app: std::collections::BTreeMap<stet::BankCode, stetgate::config::App2AppConfig>,
    /// `[[maintenance]]`.
    pub maintenance: Vec<stetgate::config::MaintenanceWindow>,
    /// `[fallback]`.
    pub fallback: stetgate::config::FallbackConfig,
    /// `[connections]`.
    pub connections: stetgate::config::ConnectionLimits,
    /// `metrics_listen`.
    pub metrics_listen: Option<SocketAddr>,
    pub shutdown_grace_secs: u64,
    pub request_timeout_secs: u64,
    /// `[registration]`.
    pub registration: stetgate::config::RegistrationConfig,
    /// `[trusted_proxy]`.
    pub trusted_proxy: Option<stetgate::config::TrustedProxyConfig>,
    /// `[otp_gateway."..."]`.
    pub otp_gateway: std::collections::BTreeMap<stet::BankCode, stetgate::config::OtpGatewayConfig>,
    /// `[oidc."..."]`.
    pub oidc: std::collections::BTreeMap<stet::BankCode, stetgate::config::OidcConfig>,
    /// `[core_banking."..."]`.
    pub core_banking: std::collections::BTreeMap<stet::BankCode, stetgate::config::CoreBankingConfig>,
    /// `[revocation]`.
    pub revocation: stetgate::config::RevocationConfig,
    /// Production mode with these `[[banks]]` (a node beside a sandbox one, whose PKI and personas
    /// it uses: `spawn_node_with`); sandbox mode when empty.
    pub production_banks: Vec<&'static str>,
}

impl Default for AppOptions {
    fn default() -> Self {
        AppOptions {
            default_bank: "17515",
            max_body_bytes: 1024 * 1024,
            trust_anchors: Vec::new(),
            now: None,
            funds_rate_limit: None,
            api_versions: std::collections::BTreeMap::new(),
            app2app: std::collections::BTreeMap::new(),
            maintenance: Vec::new(),
            fallback: stetgate::config::FallbackConfig::default(),
            connections: stetgate::config::ConnectionLimits::default(),
            metrics_listen: None,
            shutdown_grace_secs: 5,
            request_timeout_secs: 30,
            registration: stetgate::config::RegistrationConfig::default(),
            otp_gateway: std::collections::BTreeMap::new(),
            oidc: std::collections::BTreeMap::new(),
            core_banking: std::collections::BTreeMap::new(),
            trusted_proxy: None,
            revocation: stetgate::config::RevocationConfig::default(),
            production_banks: Vec::new(),
        }
    }
}

pub async fn spawn_app(db: TestDb) -> TestApp {
    spawn_app_with(db, AppOptions::default()).await
}

pub async fn spawn_app_with(db: TestDb, options: AppOptions) -> TestApp {
    spawn_on(Arc::new(db), Arc::new(tempfile::tempdir().expect("temp dir")), options).await
}

/// Another node of the same deployment: the same database and sandbox CA, its own port and clock.
pub async fn spawn_second_node(first: &TestApp) -> TestApp {
    spawn_node_with(first, AppOptions::default()).await
}

/// Another node of the same deployment, with its own options.
pub async fn spawn_node_with(first: &TestApp, options: AppOptions) -> TestApp {
    spawn_on(first.db.clone(), first.data_dir.clone(), options).await
}

async fn spawn_on(db: Arc<TestDb>, data_dir: Arc<tempfile::TempDir>, options: AppOptions) -> TestApp {
    let mut config = Config {
        listen: "127.0.0.1:0".parse().expect("address"),
        data_dir: data_dir.path().to_path_buf(),
        database_url: Some(DatabaseUrl(db.url().to_owned())),
        default_bank: stet::BankCode::parse(options.default_bank).expect("bank code"),
        max_body_bytes: options.max_body_bytes,
        trust_anchors: options.trust_anchors,
        api_versions: options.api_versions,
        app2app: options.app2app,
        maintenance: options.maintenance,
        fallback: options.fallback,
        funds_rate_limits: options
            .funds_rate_limit
            .map(|(bank, n)| {
                vec![stetgate::config::FundsRateLimit {
                    bank: stet::BankCode::parse(bank).expect("bank"),
                    requests_per_minute: n,
                }]
            })
            .unwrap_or_default(),
        shutdown_grace_secs: options.shutdown_grace_secs,
        request_timeout_secs: options.request_timeout_secs,
        registration: options.registration,
        connections: options.connections,
        metrics_listen: options.metrics_listen,
        // Tests run the payment scheduler's pass themselves (`TestApp::state`), when they mean to.
        payments: stetgate::config::PaymentsConfig { scheduler_interval_secs: 3600, ..Default::default() },
        otp_gateway: options.otp_gateway,
        oidc: options.oidc,
        core_banking: options.core_banking,
        trusted_proxy: options.trusted_proxy,
        revocation: options.revocation,
        ..Config::default()
    };
    let mode = if options.production_banks.is_empty() { Mode::Sandbox } else { Mode::Production };
    if mode == Mode::Production {
        let pki = data_dir.path().join("pki");
        config.tls = Some(stetgate::config::TlsFiles { cert: pki.join("server.pem"), key: pki.join("server.key") });
        config.trust_anchors.push(pki.join("ca.pem"));
        config.banks = options
            .production_banks
            .iter()
            .map(|code| stetgate::config::BankEntry {
                code: stet::BankCode::parse(code).expect("bank"),
                name: format!("Bank {code}"),
            })
            .collect();
        config.registration.mode.get_or_insert(stetgate::config::RegistrationMode::Open);
        config.fallback.signing_key.get_or_insert(pki.join("fallback.key"));
    }
    let clock = ManualClock::new(options.now.unwrap_or_else(|| TEST_NOW.parse::<Timestamp>().expect("timestamp")));
    let server = app::start(mode, config, None, Arc::new(clock.clone())).await.expect("server starts");
    let addr = server.local_addr;
    let operations_addr = server.operations_addr;
    let store = server.state().store.clone();
    let state = server.state().clone();
    let ca_pem = std::fs::read(data_dir.path().join("pki/ca.pem")).expect("sandbox CA written");
    let (tx, rx) = oneshot::channel();
    let task = tokio::spawn(server.run(async {
        let _ = rx.await;
    }));
    TestApp { addr, operations_addr, store, state, ca_pem, db, data_dir, clock, shutdown: Some(tx), task: Some(task) }
}

impl TestApp {
    /// A client for `https://<host>:<port>`, the host resolved to this server.
    pub fn client(&self, host: &str) -> TppClient {
        self.client_with(host, HttpVersion::Negotiate, TlsVersions::Any)
    }

    pub fn client_with(&self, host: &str, http: HttpVersion, tls: TlsVersions) -> TppClient {
        let mut config = ClientConfig::new(format!("https://{host}:{}", self.addr.port()), self.ca_pem.clone());
        config.resolve = Some((host.to_owned(), self.addr));
        config.http = http;
        config.tls = tls;
        TppClient::new(config).expect("client")
    }
}

/// A TPP's test certificates and keys.
#[derive(Clone)]
pub struct TestTpp {
    pub org_id: String,
    pub qwac: Issued,
    pub qseal: Issued,
}

impl TestTpp {
    /// The keyId URL form for this TPP's QSealC.
    pub fn key_id_url(&self) -> String {
        let seal = eidas::psd2::parse_pem(&self.qseal.cert_pem).unwrap();
        format!("https://tpp.example/certs/qseal_{}", seal.sha256_hex())
    }

    /// The keyId `SN=...,CA=...` form.
    pub fn key_id_serial(&self) -> String {
        let seal = eidas::psd2::parse_pem(&self.qseal.cert_pem).unwrap();
        format!("SN={},CA={}", seal.serial_hex.to_uppercase(), seal.issuer)
    }

    /// The registration request body.
    pub fn registration(&self, redirect_uri: &str) -> serde_json::Value {
        serde_json::json!({
            "client_name": format!("TPP {}", self.org_id),
            "redirect_uris": [redirect_uri],
            "qsealc": self.qseal.cert_pem,
            "contacts": ["ops@tpp.example"],
        })
    }
}

/// How to make a test certificate.
#[derive(Clone)]
pub struct CertSpec {
    pub roles: Vec<Role>,
    /// Seconds relative to [`TEST_NOW`].
    pub valid_from: i64,
    pub valid_until: i64,
    pub psd2_statement: bool,
}

impl Default for CertSpec {
    fn default() -> Self {
        CertSpec {
            roles: vec![Role::AccountInformation, Role::CardIssuing],
            valid_from: -86_400,
            valid_until: 365 * 86_400,
            psd2_statement: true,
        }
    }
}

pub fn test_now() -> i64 {
    TEST_NOW.parse::<Timestamp>().expect("timestamp").as_second()
}

/// Issues a certificate for `org_id` with `ca`.
pub fn issue_with(ca: &TestCa, org_id: &str, kind: TppCertKind, spec: &CertSpec) -> Issued {
    ca.issue_tpp(&TppCertRequest {
        kind,
        org_id: stet::OrgId::parse(org_id).expect("org id"),
        name: format!("TPP {org_id}"),
        roles: spec.roles.clone(),
        nca_name: "Autorité de Contrôle Prudentiel et de Résolution".into(),
        nca_id: "FR-ACPR".into(),
        not_before: test_now() + spec.valid_from,
        not_after: test_now() + spec.valid_until,
        psd2_statement: spec.psd2_statement,
    })
    .expect("issue")
}

impl TestApp {
    /// The sandbox CA of this server.
    pub fn sandbox_ca(&self) -> TestCa {
        let dir = self.data_dir.path().join("pki");
        let cert = std::fs::read_to_string(dir.join("ca.pem")).unwrap();
        let key = std::fs::read_to_string(dir.join("ca.key")).unwrap();
        TestCa::from_pem(&cert, &key).unwrap()
    }

    /// A TPP with certificates from the sandbox CA.
    pub fn tpp(&self, org_id: &str, spec: CertSpec) -> TestTpp {
        let ca = self.sandbox_ca();
        TestTpp {
            org_id: org_id.to_owned(),
            qwac: issue_with(&ca, org_id, TppCertKind::Qwac, &spec),
            qseal: issue_with(&ca, org_id, TppCertKind::Qsealc, &spec),
        }
    }

    /// A client presenting `qwac` (if any) and signing with `signer` (if any).
    pub fn tpp_client_with(&self, host: &str, qwac: Option<&Issued>, signer: Option<Signer>) -> TppClient {
        let mut config = ClientConfig::new(format!("https://{host}:{}", self.addr.port()), self.ca_pem.clone());
        config.resolve = Some((host.to_owned(), self.addr));
        config.qwac = qwac.map(|q| (q.cert_pem.clone().into_bytes(), q.key_pem.clone().into_bytes()));
        config.signer = signer;
        TppClient::new(config).expect("client")
    }

    /// The TPP's client: its QWAC, signing with its QSealC under the keyId URL form.
    pub fn tpp_client(&self, host: &str, tpp: &TestTpp) -> TppClient {
        let signer = Signer::new(&tpp.qseal.key_pem, tpp.key_id_url()).unwrap();
        self.tpp_client_with(host, Some(&tpp.qwac), Some(signer))
    }

    /// Authorizes `tpp` as `psu` through the bank's pages (over HTTP), ticking `accounts` (resource
    /// ids; all when `None`) on a card issuer's consent page, and returns the access token.
    pub async fn access_token(
        &self,
        tpp: &TestTpp,
        host: &str,
        psu: &str,
        scope: &str,
        accounts: Option<&[&str]>,
    ) -> String {
        let client = self.tpp_client(host, tpp);
        let request = stet_tpp::AuthorizationRequest {
            client_id: tpp.org_id.clone(),
            redirect_uri: CALLBACK.into(),
            scope: scope.into(),
            state: None,
            code_challenge: None,
        };
        let answers = stet_tpp::PsuAnswers {
            psu_id: psu.into(),
            otp: "12345678".into(),
            accounts: accounts.map(|a| a.iter().map(|s| (*s).to_owned()).collect()),
        };
        let stet_tpp::FlowEnd::Redirected(back) = client.drive_authorization(&request, &answers).await.unwrap() else {
            panic!("the bank's pages did not redirect back")
        };
        let code = back.get("code").unwrap_or_else(|| panic!("no code: {back:?}"));
        let tokens: stet_tpp::Tokens =
            client.exchange_code(&tpp.org_id, code, CALLBACK).await.unwrap().json().await.unwrap();
        tokens.access_token
    }

    /// Registers the TPP through the API and checks it worked.
    pub async fn register(&self, tpp: &TestTpp) {
        let client = self.tpp_client("www.17515.sandbox.localhost", tpp);
        let response = client
            .request(reqwest::Method::POST, "/stet/psd2/oauth/register")
            .json(&tpp.registration(CALLBACK))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), reqwest::StatusCode::CREATED, "{}", response.text().await.unwrap_or_default());
    }
}

impl TestApp {
    /// Asks the server to stop (as SIGTERM does) and waits until it has.
    pub async fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("server task");
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Serves `app` over TLS on 127.0.0.1 with `server`'s certificate (a test double of another
/// party: a bank's gateway, a broken bank), requiring a client certificate from `client_ca` when
/// given; its address.
pub async fn serve_https(app: axum::Router, server: &Issued, client_ca: Option<&str>) -> SocketAddr {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let chain: Vec<CertificateDer<'static>> =
        CertificateDer::pem_slice_iter(server.cert_pem.as_bytes()).map(|c| c.expect("certificate")).collect();
    let key = PrivateKeyDer::from_pem_slice(server.key_pem.as_bytes()).expect("key");
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .expect("protocol versions");
    let builder = match client_ca {
        Some(pem) => {
            let mut roots = rustls::RootCertStore::empty();
            for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
                roots.add(cert.expect("CA certificate")).expect("CA added");
            }
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .expect("client verifier");
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let mut config = builder.with_single_cert(chain, key).expect("server certificate");
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, app) = (acceptor.clone(), app.clone());
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else { return };
                let service = hyper_util::service::TowerToHyperService::new(app);
                let _ = hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new())
                    .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                    .await;
            });
        }
    });
    addr
}

/// Loads, as `stetgate serve --config` does, a production configuration written in `dir`: a
/// database URL, bank 13807 as default, placeholder trust-anchor and TLS files, then `block`
/// (a section of docs/operator-guide.md, say). Tests of the guide's examples and of start-up
/// refusals write only the part they are about.
pub fn load_production_config(dir: &std::path::Path, block: &str) -> Result<Config, stetgate::config::ConfigError> {
    let file = |name: &str| {
        let path = dir.join(name);
        std::fs::write(&path, "placeholder").unwrap();
        path.display().to_string()
    };
    let head = format!(
        "database_url = \"postgres://stetgate@db/stetgate\"\ndefault_bank = \"13807\"\ntrust_anchors = [\"{}\"]\n[tls]\ncert = \"{}\"\nkey = \"{}\"\n",
        file("qtsp.pem"),
        file("tls.pem"),
        file("tls.key")
    );
    let path = dir.join("stetgate.toml");
    std::fs::write(&path, format!("{head}{block}")).unwrap();
    stetgate::config::load(Mode::Production, Some(&path), &Default::default())
}
