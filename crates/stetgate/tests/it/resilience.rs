//! Storage failures under load, as they happen in production: a full disk under SQLite, PostgreSQL
//! stopped and restarted, stetgate killed with SIGKILL. Whatever happens, a write stetgate
//! acknowledged is in the database afterwards, a write it could not make is answered 503 with
//! Retry-After (never 200, never a 500 or database text), readiness says so, and the node recovers
//! without a restart.

use crate::harness::{AppOptions, CertSpec, TestApp, TestDb, TestTpp, db_tests, spawn_app_with};
use reqwest::{Method, StatusCode};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};
use stet_tpp::{ClientConfig, Signer, TppClient};

const HOST: &str = "www.17515.sandbox.localhost";
const ORG: &str = "PSDFR-ACPR-12345";
const LEA: &str = "9999999901";

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

fn root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// A tmpfs of a few megabytes, so that the disk can really be filled.
struct SmallDisk {
    path: PathBuf,
    _dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(megabytes: u32) -> Option<SmallDisk> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().to_path_buf();
        let mounted = root()
            && Command::new("mount")
                .args(["-t", "tmpfs", "-o", &format!("size={megabytes}m"), "tmpfs"])
                .arg(&path)
                .status()
                .is_ok_and(|s| s.success());
        if !mounted {
            assert!(!in_ci(), "CI=true: the full-disk test needs to mount a tmpfs (run as root)");
            eprintln!("note: cannot mount a tmpfs (not root?); skipping the full-disk test");
            return None;
        }
        Some(SmallDisk { path, _dir: dir })
    }

    /// Writes a file until the disk refuses more.
    fn fill(&self) -> PathBuf {
        use std::io::Write;
        let filler = self.path.join("filler");
        let mut file = std::fs::File::create(&filler).unwrap();
        for chunk in [1 << 20, 4096, 64] {
            let block = vec![0u8; chunk];
            while file.write_all(&block).and_then(|()| file.flush()).is_ok() {}
        }
        let _ = file.sync_all();
        filler
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.path).status();
    }
}

/// A batch call (no PSU-IP-Address): counted in the store before it is answered.
async fn batch_accounts(client: &TppClient, token: &str) -> reqwest::Response {
    client.signed(Method::GET, "/stet/psd2/v1.4.2/accounts").bearer(token).send().await.unwrap()
}

async fn assert_unavailable(response: reqwest::Response, what: &str) {
    let status = response.status();
    let retry_after = response.headers().get("retry-after").cloned();
    let body = response.text().await.unwrap();
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{what}: {body}");
    assert!(retry_after.is_some(), "{what}: 503 says when to retry");
    for leak in ["database", "sqlite", "SQLITE", "disk", "full", "pool"] {
        assert!(!body.contains(leak), "{what}: no infrastructure detail reaches the client ({leak}): {body}");
    }
}

async fn ready(app: &TestApp) -> StatusCode {
    app.client("localhost").request(Method::GET, "/readyz").send().await.unwrap().status()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_is_never_acknowledged_and_the_node_recovers() {
    let Some(disk) = SmallDisk::mount(48) else { return };
    let dir = tempfile::tempdir_in(&disk.path).unwrap();
    let file = dir.path().join("stetgate.db");
    let db = TestDb::Sqlite { url: format!("sqlite://{}", file.display()), file: file.clone(), _dir: dir };
    let app = spawn_app_with(db, AppOptions::default()).await;
    let tpp = app.tpp(ORG, CertSpec::default());
    app.register(&tpp).await;
    let token = app.access_token(&tpp, HOST, LEA, "aisp", None).await;
    let client = app.tpp_client(HOST, &tpp);

    // Three episodes: a connection left inside a failed transaction would lock every later write.
    for episode in 0..3 {
        // An empty write-ahead log, so that the next write must grow a file on the full disk.
        let checkpoint = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)");
        let mut side = <sqlx::AnyConnection as sqlx::Connection>::connect(app.db.url()).await.unwrap();
        checkpoint.execute(&mut side).await.unwrap();
        sqlx::Connection::close(side).await.unwrap();
        let filler = disk.fill();

        for call in 0..8 {
            let what = format!("episode {episode}, batch call {call} on a full disk");
            assert_unavailable(batch_accounts(&client, &token).await, &what).await;
        }
        assert_eq!(ready(&app).await, StatusCode::SERVICE_UNAVAILABLE, "readiness proves a write");

        std::fs::remove_file(filler).unwrap();
        // No restart: the same node writes again, and counted nothing while the disk was full.
        for call in 1..=4 {
            let response = batch_accounts(&client, &token).await;
            if episode == 0 {
                assert_eq!(response.status(), StatusCode::OK, "call {call} of the day, counted once the disk has room");
            } else {
                // The day's four were spent in the first episode: the refusals prove the counter
                // kept working and counted nothing while the disk was full.
                assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS, "episode {episode}, call {call}");
            }
        }
        if episode == 0 {
            assert_eq!(batch_accounts(&client, &token).await.status(), StatusCode::TOO_MANY_REQUESTS, "the 5th");
        }
        assert_eq!(ready(&app).await, StatusCode::OK);
    }
}

/// The server's pool closed under it: 503 with Retry-After and a generic text, nothing of the
/// database in the answer, and the cause logged once with the request id.
async fn a_closed_pool_answers_503_and_logs_the_cause(db: TestDb) {
    let logs = crate::harness::logs();
    let app = spawn_app_with(db, AppOptions::default()).await;
    let tpp = app.tpp(ORG, CertSpec::default());
    app.register(&tpp).await;
    let token = app.access_token(&tpp, HOST, LEA, "aisp", None).await;
    app.store.close().await;
    let request_id = format!("closed-pool-{}", uuid::Uuid::new_v4().simple());
    let response = app
        .tpp_client(HOST, &tpp)
        .signed(Method::GET, "/stet/psd2/v1.4.2/accounts")
        .header("X-Request-ID", &request_id)
        .bearer(&token)
        .send()
        .await
        .unwrap();
    assert_unavailable(response, "a closed pool").await;
    let logged = logs.lines_with(&[&request_id, "\"status\":503"]);
    let causes: Vec<&String> = logged.iter().filter(|l| l.contains("cause")).collect();
    assert_eq!(causes.len(), 1, "the cause is logged once, with the request id: {logged:#?}");
    assert!(causes[0].to_lowercase().contains("closed"), "the cause names what failed: {}", causes[0]);
}

db_tests!(a_closed_pool_answers_503_and_logs_the_cause);

/// A PostgreSQL cluster of the test's own, which it may stop and start.
struct PrivateCluster {
    bin: PathBuf,
    data: PathBuf,
    port: u16,
    _dir: tempfile::TempDir,
}

impl PrivateCluster {
    fn start() -> Option<PrivateCluster> {
        let bin = std::env::var("TEST_PG_BIN").ok().map(PathBuf::from).or_else(|| {
            let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
                .ok()?
                .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
                .filter(|p| p.join("initdb").exists())
                .collect();
            found.sort();
            found.pop()
        });
        let Some(bin) = bin else {
            assert!(!in_ci(), "CI=true: the PostgreSQL restart test needs PostgreSQL's binaries (TEST_PG_BIN)");
            eprintln!("note: no PostgreSQL binaries; skipping the restart test");
            return None;
        };
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("pg");
        std::fs::create_dir(&data).unwrap();
        if root() {
            // PostgreSQL refuses to run as root.
            Command::new("chown").args(["-R", "postgres"]).arg(dir.path()).status().unwrap();
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let cluster = PrivateCluster { bin, data, port, _dir: dir };
        let initdb = cluster
            .run("initdb", &["-D", cluster.data.to_str().unwrap(), "-U", "stetgate", "-A", "trust", "--no-sync"]);
        assert!(initdb, "initdb");
        cluster.up();
        Some(cluster)
    }

    fn run(&self, tool: &str, args: &[&str]) -> bool {
        let program = self.bin.join(tool);
        let mut command = if root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(program);
            c
        } else {
            Command::new(program)
        };
        command.args(args).stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null());
        command.status().is_ok_and(|s| s.success())
    }

    fn up(&self) {
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -c unix_socket_directories={} -c fsync=off",
            self.port,
            self.data.display()
        );
        let log = self.data.join("log");
        assert!(
            self.run(
                "pg_ctl",
                &["-D", self.data.to_str().unwrap(), "-l", log.to_str().unwrap(), "-w", "-o", &options, "start"]
            ),
            "pg_ctl start"
        );
    }

    fn down(&self) {
        assert!(self.run("pg_ctl", &["-D", self.data.to_str().unwrap(), "-m", "fast", "-w", "stop"]), "pg_ctl stop");
    }

    fn admin_url(&self) -> String {
        format!("postgres://stetgate@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        let _ = self.run("pg_ctl", &["-D", self.data.to_str().unwrap(), "-m", "immediate", "stop"]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_restarted_under_load() {
    let Some(cluster) = PrivateCluster::start() else { return };
    let db = TestDb::postgres_on(&cluster.admin_url()).await;
    let url = db.url().to_owned();
    let app = Arc::new(spawn_app_with(db, AppOptions::default()).await);
    let tpp = app.tpp(ORG, CertSpec::default());
    app.register(&tpp).await;
    let token = app.access_token(&tpp, HOST, LEA, "aisp", None).await;

    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    // Writes through the restart: revocations, each answered 200 only once committed.
    let revocations = {
        let (queue, client, stop) = (issue_tokens(&url, ORG, 400).await, app.tpp_client(HOST, &tpp), stop.clone());
        tokio::spawn(async move {
            let (mut acknowledged, mut refused) = (Vec::new(), 0);
            for token in queue {
                if stop.load(std::sync::atomic::Ordering::Relaxed) {
                    break;
                }
                let response = client.revoke(ORG, &token).await.unwrap();
                match response.status() {
                    StatusCode::OK => acknowledged.push(token),
                    StatusCode::SERVICE_UNAVAILABLE => refused += 1,
                    other => {
                        panic!("a revocation under a database restart: {other} {}", response.text().await.unwrap())
                    }
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            (acknowledged, refused)
        })
    };
    let mut load = Vec::new();
    for _ in 0..4 {
        let (app, tpp, token, stop) = (app.clone(), tpp.clone(), token.clone(), stop.clone());
        load.push(tokio::spawn(async move {
            let client = app.tpp_client(HOST, &tpp);
            let mut seen = Vec::new();
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let response = client
                    .signed(Method::GET, "/stet/psd2/v1.4.2/accounts")
                    .header("PSU-IP-Address", "192.0.2.10")
                    .bearer(&token)
                    .send()
                    .await
                    .unwrap();
                let status = response.status();
                let retry = response.headers().contains_key("retry-after");
                seen.push((status, retry, response.text().await.unwrap()));
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            seen
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    cluster.down();
    // While the database is down: 503 with Retry-After, readiness too.
    let client = app.tpp_client(HOST, &tpp);
    let down = client.signed(Method::GET, "/stet/psd2/v1.4.2/accounts").bearer(&token).send().await.unwrap();
    assert_unavailable(down, "PostgreSQL stopped").await;
    assert_eq!(ready(&app).await, StatusCode::SERVICE_UNAVAILABLE);
    cluster.up();
    // Recovery, without restarting stetgate.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let response = client
            .signed(Method::GET, "/stet/psd2/v1.4.2/accounts")
            .header("PSU-IP-Address", "192.0.2.10")
            .bearer(&token)
            .send()
            .await
            .unwrap();
        if response.status() == StatusCode::OK {
            break;
        }
        assert!(Instant::now() < deadline, "stetgate did not recover: {}", response.status());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(ready(&app).await, StatusCode::OK);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut unavailable = 0;
    for task in load {
        for (status, retry, body) in task.await.unwrap() {
            match status {
                StatusCode::OK => {}
                StatusCode::SERVICE_UNAVAILABLE => {
                    unavailable += 1;
                    assert!(retry, "503 carries Retry-After");
                    assert!(!body.to_lowercase().contains("database") && !body.contains("pool"), "{body}");
                }
                other => panic!("under a database restart, only 200 or 503: {other} {body}"),
            }
        }
    }
    assert!(unavailable > 0, "the load saw the outage");
    let (acknowledged, refused) = revocations.await.unwrap();
    assert!(
        !acknowledged.is_empty() && refused > 0,
        "revocations before, during and after the outage: {} acknowledged, {refused} refused",
        acknowledged.len()
    );
    let store = stetgate::store::Store::open(&url).await.unwrap();
    for token in &acknowledged {
        let pair =
            store.pair_by_access_token(&stetgate::secret::Secret::from_client(token).hash()).await.unwrap().unwrap();
        assert!(pair.revoked_at.is_some(), "a revocation answered 200 across the restart was lost");
    }
    store.close().await;
    let last = acknowledged.last().unwrap();
    let refused_token = client.signed(Method::GET, "/stet/psd2/v1.4.2/accounts").bearer(last).send().await.unwrap();
    assert_eq!(refused_token.status(), StatusCode::UNAUTHORIZED, "a revoked token stays refused");
}

/// Token pairs issued straight into the store, each with its own PSU (one pair per PSU and TPP).
async fn issue_tokens(url: &str, org: &str, n: usize) -> Vec<String> {
    use stetgate::oauth::{Scopes, TokenPair};
    use stetgate::secret::Secret;
    let store = stetgate::store::Store::open(url).await.unwrap();
    let now = jiff::Timestamp::now();
    let mut tokens = Vec::new();
    for i in 0..n {
        let (access, refresh) = (Secret::generate().unwrap(), Secret::generate().unwrap());
        let pair = TokenPair {
            pair_id: uuid::Uuid::new_v4().to_string(),
            bank: stet::BankCode::parse("17515").unwrap(),
            client_id: stet::OrgId::parse(org).unwrap(),
            subject: stetgate::oauth::Subject::Psu(stetgate::ledger::PsuId::parse(&format!("K{i:08}")).unwrap()),
            scopes: Scopes::parse("aisp").unwrap(),
            access_expires_at: now + jiff::SignedDuration::from_hours(1),
            refresh_expires_at: now + jiff::SignedDuration::from_hours(24),
            sca_at: now,
            revoked_at: None,
            payment: None,
            last_used_at: None,
        };
        store.issue_token_pair(&pair, &access.hash(), &refresh.hash(), None, now).await.unwrap();
        tokens.push(access.expose().to_owned());
    }
    store.close().await;
    tokens
}

fn tpp_client(data: &Path, port: u16, tpp: &TestTpp) -> TppClient {
    let ca = std::fs::read(data.join("pki/ca.pem")).unwrap();
    let mut config = ClientConfig::new(format!("https://{HOST}:{port}"), ca);
    config.resolve = Some((HOST.to_owned(), ([127, 0, 0, 1], port).into()));
    config.qwac = Some((tpp.qwac.cert_pem.clone().into_bytes(), tpp.qwac.key_pem.clone().into_bytes()));
    config.signer = Some(Signer::new(&tpp.qseal.key_pem, tpp.key_id_url()).unwrap());
    TppClient::new(config).unwrap()
}

/// Revocations under load, stetgate killed with SIGKILL in the middle: every revocation it
/// answered 200 is in the database after the restart, and those tokens are refused.
async fn sigkill_under_load_loses_no_acknowledged_write(db: TestDb) {
    use crate::cli::Sandbox;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let env = [("STETGATE_DATABASE_URL", db.url())];
    let mut sandbox = Sandbox::start(&data, &env);
    let ca = {
        let pki = data.join("pki");
        eidas::issue::TestCa::from_pem(
            &std::fs::read_to_string(pki.join("ca.pem")).unwrap(),
            &std::fs::read_to_string(pki.join("ca.key")).unwrap(),
        )
        .unwrap()
    };
    let spec = CertSpec::default();
    let tpp = TestTpp {
        org_id: ORG.into(),
        qwac: crate::harness::issue_with(&ca, ORG, eidas::issue::TppCertKind::Qwac, &spec),
        qseal: crate::harness::issue_with(&ca, ORG, eidas::issue::TppCertKind::Qsealc, &spec),
    };
    let client = tpp_client(&data, sandbox.port, &tpp);
    let registered = client
        .request(Method::POST, "/stet/psd2/oauth/register")
        .json(&tpp.registration(crate::harness::CALLBACK))
        .send()
        .await
        .unwrap();
    assert_eq!(registered.status(), StatusCode::CREATED);
    let tokens = issue_tokens(db.url(), ORG, 400).await;

    let queue = Arc::new(std::sync::Mutex::new(tokens.clone()));
    let acknowledged = Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut workers = Vec::new();
    for _ in 0..6 {
        let (queue, acknowledged, client) =
            (queue.clone(), acknowledged.clone(), tpp_client(&data, sandbox.port, &tpp));
        workers.push(tokio::spawn(async move {
            loop {
                let Some(token) = queue.lock().unwrap().pop() else { return };
                let sent = client.revoke(ORG, &token).await;
                match sent {
                    Ok(response) if response.status() == StatusCode::OK => acknowledged.lock().unwrap().push(token),
                    Ok(_) => {}
                    Err(_) => return, // the server is gone
                }
            }
        }));
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while acknowledged.lock().unwrap().len() < 60 {
        assert!(Instant::now() < deadline, "revocations are answered");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    sandbox.child.kill().unwrap(); // SIGKILL, in the middle of the load
    let _ = sandbox.child.wait();
    for worker in workers {
        let _ = worker.await;
    }
    let acknowledged = acknowledged.lock().unwrap().clone();

    let restarted = Sandbox::start(&data, &env);
    let store = stetgate::store::Store::open(db.url()).await.unwrap();
    for token in &acknowledged {
        let pair =
            store.pair_by_access_token(&stetgate::secret::Secret::from_client(token).hash()).await.unwrap().unwrap();
        assert!(pair.revoked_at.is_some(), "a revocation answered 200 was lost");
    }
    store.close().await;
    let client = tpp_client(&data, restarted.port, &tpp);
    for token in acknowledged.iter().take(5) {
        let response = client.signed(Method::GET, "/stet/psd2/v1.4.2/accounts").bearer(token).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "a revoked token is refused after the restart");
    }
}

db_tests!(sigkill_under_load_loses_no_acknowledged_write);
