//! The `stetgate` binary as an operator runs it: `serve` refuses a broken configuration with exit
//! code 2 and a message naming the problem; `sandbox` restarts on the same data and CA; SIGTERM lets
//! an in-flight request finish before exiting 0.

use crate::harness::TestDb;
use reqwest::{Method, StatusCode};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};
use stet_tpp::{ClientConfig, TppClient};

const BIN: &str = env!("CARGO_BIN_EXE_stetgate");

/// Runs `stetgate` to completion (it must not start serving) and returns its exit code and stderr.
fn run_to_exit(args: &[&str]) -> (Option<i32>, String) {
    let mut child = Command::new(BIN).args(args).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut stderr = String::new();
            std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
            return (status.code(), stderr);
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("stetgate {args:?} kept running with a broken configuration");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn serve_with_a_broken_config_exits_2_naming_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| -> PathBuf {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    let not_pem = write("not-a-cert.pem", "hello\n");
    let complete_but = |tls: &str| {
        format!(
            "listen = \"127.0.0.1:0\"\ndatabase_url = \"sqlite://{}/db.sqlite\"\ntrust_anchors = [\"{}\"]\n[[banks]]\ncode = \"17515\"\nname = \"CEIDF\"\n{tls}",
            dir.path().display(),
            not_pem.display()
        )
    };
    let cases: Vec<(PathBuf, &[&str])> = vec![
        (dir.path().join("missing.toml"), &["missing.toml"]),
        (write("no-tls.toml", &complete_but("")), &["no-tls.toml", "`tls`"]),
        (write("bad-listen.toml", "listen = \"somewhere\"\n"), &["bad-listen.toml", "listen"]),
        (write("typo.toml", "databse_url = \"postgres://x\"\n"), &["typo.toml", "databse_url"]),
        (write("bad-url.toml", "database_url = \"mysql://x\"\n"), &["bad-url.toml", "database_url"]),
        (write("not-toml.toml", "this is [ not toml"), &["not-toml.toml"]),
        (
            write(
                "cert-not-pem.toml",
                &complete_but(&format!("[tls]\ncert = \"{0}\"\nkey = \"{0}\"\n", not_pem.display())),
            ),
            &["cert-not-pem.toml", "tls.cert", "no PEM certificate"],
        ),
        (
            write(
                "no-cert-file.toml",
                &complete_but("[tls]\ncert = \"/nonexistent/server.pem\"\nkey = \"/nonexistent/server.key\"\n"),
            ),
            &["no-cert-file.toml", "tls.cert", "/nonexistent/server.pem"],
        ),
    ];
    for (file, expected) in cases {
        let (code, stderr) = run_to_exit(&["serve", "--config", file.to_str().unwrap()]);
        assert_eq!(code, Some(2), "{}: {stderr}", file.display());
        for needle in expected {
            assert!(stderr.contains(needle), "{}: the message should name {needle}: {stderr}", file.display());
        }
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    assert!(!dir.path().join("db.sqlite").exists(), "nothing half-started: no database was created");
}

#[test]
fn serve_with_a_bad_key_or_anchor_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let ca = eidas::issue::TestCa::generate("ops CA", "bank", 1).unwrap();
    let server = ca.issue_server("bank", &["localhost".to_owned()], 30).unwrap();
    let other = ca.issue_server("other", &["localhost".to_owned()], 30).unwrap();
    std::fs::write(dir.path().join("ca.pem"), &ca.root().cert_pem).unwrap();
    std::fs::write(dir.path().join("server.pem"), &server.cert_pem).unwrap();
    std::fs::write(dir.path().join("server.key"), &server.key_pem).unwrap();
    std::fs::write(dir.path().join("other.key"), &other.key_pem).unwrap();
    std::fs::write(dir.path().join("garbage"), "not a key or certificate\n").unwrap();
    for (key, anchor, expected) in [
        ("garbage", "ca.pem", "tls.key"),
        ("other.key", "ca.pem", "tls.key"),
        ("server.key", "garbage", "trust_anchors"),
    ] {
        let config = format!(
            "listen = \"127.0.0.1:0\"\ndatabase_url = \"sqlite://{0}/db.sqlite\"\ntrust_anchors = [\"{0}/{anchor}\"]\n\
             [tls]\ncert = \"{0}/server.pem\"\nkey = \"{0}/{key}\"\n[[banks]]\ncode = \"17515\"\nname = \"CEIDF\"\n",
            dir.path().display()
        );
        std::fs::write(dir.path().join("stetgate.toml"), config).unwrap();
        let (code, stderr) = run_to_exit(&["serve", "--config", dir.path().join("stetgate.toml").to_str().unwrap()]);
        assert_eq!(code, Some(2), "{key} {anchor}: {stderr}");
        assert!(stderr.contains(expected) && stderr.contains("stetgate.toml"), "{key} {anchor}: {stderr}");
    }
    assert!(!dir.path().join("db.sqlite").exists(), "nothing half-started");
}

/// A `stetgate sandbox` process, killed if the test ends early.
pub(crate) struct Sandbox {
    pub(crate) child: Child,
    pub(crate) port: u16,
    first_start: bool,
}

impl Sandbox {
    pub(crate) fn start(data_dir: &Path, extra_env: &[(&str, &str)]) -> Sandbox {
        let mut command = Command::new(BIN);
        command
            .args(["sandbox", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir)
            .env("STETGATE_LOG_FORMAT", "json")
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        for (k, v) in extra_env {
            command.env(k, v);
        }
        let mut child = command.spawn().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut first_start = false;
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                first_start |= line.contains("first start");
                if let Some(rest) = line.trim().strip_prefix("URL") {
                    let port = rest
                        .trim()
                        .trim_start_matches("https://localhost:")
                        .split('/')
                        .next()
                        .unwrap_or("")
                        .parse::<u16>();
                    let _ = tx.send((port.ok(), first_start));
                }
            }
        });
        let (port, first_start) = rx.recv_timeout(Duration::from_secs(60)).expect("the sandbox prints its URL");
        Sandbox { child, port: port.expect("a port in the URL line"), first_start }
    }

    pub(crate) fn client(&self, data_dir: &Path, host: &str) -> TppClient {
        let ca = std::fs::read(data_dir.join("pki/ca.pem")).unwrap();
        let mut config = ClientConfig::new(format!("https://{host}:{}", self.port), ca);
        config.resolve = Some((host.to_owned(), ([127, 0, 0, 1], self.port).into()));
        TppClient::new(config).unwrap()
    }

    fn terminate(&mut self) {
        let status = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap();
        assert!(status.success());
    }

    fn wait(&mut self, within: Duration) -> ExitStatus {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "stetgate did not exit in {within:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandbox_restart_keeps_data_and_ca_and_reads_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("stetgate-data");

    let mut first = Sandbox::start(&data, &[]);
    assert!(first.first_start, "the first start says it created everything");
    let response =
        first.client(&data, "www.13807.sandbox.localhost").request(Method::GET, "/healthz").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let ca = std::fs::read(data.join("pki/ca.pem")).unwrap();
    let ca_key = std::fs::read(data.join("pki/ca.key")).unwrap();
    assert!(
        data.join("stetgate.db").exists()
            && data.join("pki/server.pem").exists()
            && data.join("pki/server.key").exists()
    );
    first.terminate();
    assert!(first.wait(Duration::from_secs(30)).success(), "SIGTERM on an idle server exits 0");

    let mut second = Sandbox::start(&data, &[("STETGATE_DEFAULT_BANK", "13807")]);
    assert!(!second.first_start, "a restart reuses everything");
    assert_eq!(std::fs::read(data.join("pki/ca.pem")).unwrap(), ca, "same CA");
    assert_eq!(std::fs::read(data.join("pki/ca.key")).unwrap(), ca_key);
    let body: serde_json::Value = second
        .client(&data, "localhost")
        .request(Method::GET, "/stet/psd2/aspsp")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["aspsp"]["bankCode"], "13807", "STETGATE_DEFAULT_BANK is read");
    second.terminate();
    assert!(second.wait(Duration::from_secs(30)).success());

    // The data is there once: the seed did not run twice.
    let db = TestDb::Sqlite {
        _dir: tempfile::tempdir().unwrap(),
        url: format!("sqlite://{}", data.join("stetgate.db").display()),
        file: data.join("stetgate.db"),
    };
    let store = db.store().await;
    use stetgate::ledger::Ledger;
    let lea = store
        .psu_accounts(stet::BankCode::parse("17515").unwrap(), &stetgate::ledger::PsuId::parse("9999999901").unwrap())
        .await
        .unwrap();
    assert_eq!(lea.len(), 2);
    assert_eq!(store.sandbox_state("seed").await.unwrap().as_deref(), Some(stetgate::sandbox::SEED_VERSION));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_a_slow_request_lets_it_finish() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut sandbox = Sandbox::start(&data, &[]);

    let mut roots = rustls::RootCertStore::empty();
    for cert in eidas_certs(&data.join("pki/ca.pem")) {
        roots.add(cert).unwrap();
    }
    let config =
        rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", sandbox.port)).await.unwrap();
    let mut tls = connector.connect("localhost".try_into().unwrap(), tcp).await.unwrap();

    // Headers and half of the body now; the rest after SIGTERM. (A request whose answer needs its
    // body: the PSU's form post, read before its handler runs.)
    let body = b"csrf=nothing-to-see-here&psu_id=9999999901&action=continue";
    let head = format!(
        "POST /stet/psd2/oauth/authorize HTTP/1.1\r\nHost: www.17515.sandbox.localhost\r\nX-Request-ID: slow-1\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    tls.write_all(head.as_bytes()).await.unwrap();
    tls.write_all(&body[..20]).await.unwrap();
    tls.flush().await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;

    sandbox.terminate();
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(sandbox.child.try_wait().unwrap().is_none(), "stetgate waits for the in-flight request");
    assert!(
        tokio::net::TcpStream::connect(("127.0.0.1", sandbox.port)).await.is_err(),
        "no new connection is accepted once shutdown began"
    );

    tls.write_all(&body[20..]).await.unwrap();
    tls.flush().await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), tls.read_to_end(&mut answer)).await;
    let answer = String::from_utf8_lossy(&answer).to_lowercase();
    assert!(answer.starts_with("http/1.1 400"), "the request was answered (no session cookie): {answer}");
    assert!(answer.contains("x-request-id: slow-1"), "{answer}");
    let status = sandbox.wait(Duration::from_secs(15));
    assert!(status.success(), "exit code 0 after draining: {status:?}");
}

fn eidas_certs(path: &Path) -> Vec<rustls::pki_types::CertificateDer<'static>> {
    use rustls::pki_types::pem::PemObject;
    rustls::pki_types::CertificateDer::pem_file_iter(path).unwrap().map(|c| c.unwrap()).collect()
}

/// Runs `stetgate` to completion and returns exit code, stdout and stderr.
pub(crate) fn run_owned(args: &[String]) -> (Option<i32>, String, String) {
    run(&args.iter().map(String::as_str).collect::<Vec<_>>())
}

fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let output = Command::new(BIN).args(args).output().unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn certs_issue_writes_a_qwac_and_a_qsealc() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = dir.path().join("tpp");
    let (code, stdout, stderr) = run(&[
        "certs",
        "issue",
        "--org-id",
        "PSDFR-ACPR-12345",
        "--roles",
        "PSP_AI,PSP_IC",
        "--name",
        "My AISP",
        "--days",
        "30",
        "--data-dir",
        data.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    for name in ["qwac.pem", "qwac.key", "qseal.pem", "qseal.key"] {
        assert!(out.join(name).exists(), "{name}");
    }
    for key in ["qwac.key", "qseal.key"] {
        assert!(
            std::fs::read_to_string(out.join(key)).unwrap().starts_with("-----BEGIN PRIVATE KEY-----"),
            "PKCS#8 PEM"
        );
    }
    let qwac = eidas::psd2::parse_pem(&std::fs::read_to_string(out.join("qwac.pem")).unwrap()).unwrap();
    assert_eq!(qwac.org_id().unwrap().as_str(), "PSDFR-ACPR-12345");
    assert!(qwac.subject.contains("My AISP"));
    let roles = &qwac.psd2.as_ref().unwrap().roles;
    assert_eq!(roles.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(), ["PSP_AI", "PSP_IC"]);
    assert_eq!(qwac.psd2.as_ref().unwrap().nca_id, "FR-ACPR");
    assert!(qwac.not_after - qwac.not_before <= 31 * 86_400);
    let seal = eidas::psd2::parse_pem(&std::fs::read_to_string(out.join("qseal.pem")).unwrap()).unwrap();
    assert_eq!(seal.qc_types, vec![eidas::psd2::QcType::Eseal]);
    let ca = std::fs::read_to_string(data.join("pki/ca.pem")).unwrap();
    assert_eq!(seal.issuer, eidas::issue::inspect(&ca).unwrap().subject, "issued by the sandbox CA of the data dir");
    let url = stdout.lines().find(|l| l.contains("URL form")).unwrap().split_whitespace().last().unwrap().to_owned();
    assert!(url.starts_with("https://") && url.ends_with(&format!("_{}", seal.sha256_hex())), "{url}");
    assert!(stdout.contains(&format!("SN={}", seal.serial_hex.to_uppercase())), "{stdout}");

    for (args, needle) in [
        (vec!["--org-id", "PSD-12345", "--roles", "PSP_AI"], "--org-id"),
        (vec!["--org-id", "PSDFR-ACPR-1", "--roles", "PSP_AI,AISP"], "AISP"),
    ] {
        let bad = dir.path().join("bad");
        let mut full = vec!["certs", "issue", "--data-dir", data.to_str().unwrap(), "--out", bad.to_str().unwrap()];
        full.extend(args);
        let (code, _, stderr) = run(&full);
        assert_eq!(code, Some(2), "{stderr}");
        assert!(stderr.contains(needle), "{stderr}");
        assert!(!bad.exists(), "nothing written");
    }
}

#[test]
fn tpp_register_and_list() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = dir.path().join("tpp");
    let data_dir = data.to_str().unwrap();
    let (code, _, stderr) = run(&[
        "certs",
        "issue",
        "--org-id",
        "PSDFR-ACPR-4242",
        "--roles",
        "PSP_AI",
        "--data-dir",
        data_dir,
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    let file = |name: &str| out.join(name).to_str().unwrap().to_owned();
    let register = |qwac: &str, uri: &str| {
        run(&[
            "tpp",
            "register",
            "--qwac",
            qwac,
            "--qseal",
            &file("qseal.pem"),
            "--redirect-uri",
            uri,
            "--name",
            "Forty Two",
            "--data-dir",
            data_dir,
        ])
    };
    let (code, stdout, stderr) = register(&file("qwac.pem"), "https://tpp.example/cb");
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("registered Forty Two (client_id PSDFR-ACPR-4242"), "{stdout}");
    let (code, stdout, _) = run(&["tpp", "list", "--data-dir", data_dir]);
    assert_eq!(code, Some(0));
    let line = stdout.lines().find(|l| l.starts_with("PSDFR-ACPR-4242")).expect("listed");
    assert!(line.contains("active") && line.contains("https://tpp.example/cb"), "{line}");
    // Registering again replaces.
    let (code, stdout, _) = register(&file("qwac.pem"), "https://tpp.example/v2");
    assert_eq!(code, Some(0));
    assert!(stdout.starts_with("replaced"), "{stdout}");
    // A seal is no QWAC; an http redirect outside loopback is refused.
    for (qwac, uri, needle) in [
        (file("qseal.pem"), "https://tpp.example/cb", "QcType eseal"),
        (file("qwac.pem"), "http://tpp.example/cb", "http"),
    ] {
        let (code, _, stderr) = register(&qwac, uri);
        assert_eq!(code, Some(2), "{stderr}");
        assert!(stderr.contains(needle), "{stderr}");
    }
}

/// `stetgate stats export --quarter 2026Q4` on a deployment's database, and the outage commands
/// whose declarations the statistics count.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stats_export_and_outages() {
    use crate::harness::{AppOptions, CertSpec, spawn_app_with};
    let options = AppOptions { now: Some("2026-11-16T00:00:00Z".parse().unwrap()), ..AppOptions::default() };
    let mut app = spawn_app_with(TestDb::sqlite(), options).await;
    let tpp = app.tpp("PSDFR-ACPR-12345", CertSpec { valid_from: -30 * 86_400, ..CertSpec::default() });
    app.register(&tpp).await;
    app.clock.set("2026-11-16T10:00:00Z".parse().unwrap());
    let client = app.tpp_client("www.17515.sandbox.localhost", &tpp);
    for _ in 0..3 {
        client.signed(Method::GET, "/stet/psd2/v1.4.2/accounts").send().await.unwrap();
    }
    // A node writes its last records when it stops.
    app.stop().await;
    let target = ["--data-dir", app.data_dir.path().to_str().unwrap(), "--database-url", app.db.url()];
    let with = |args: &[&str]| -> Vec<String> { args.iter().chain(&target).map(|s| (*s).to_owned()).collect() };

    let (code, csv, stderr) = run_owned(&with(&["stats", "export", "--quarter", "2026Q4", "--bank", "17515"]));
    assert_eq!(code, Some(0), "{stderr}");
    assert!(csv.starts_with("bank,period,scope,date,family,requests"), "{csv}");
    let row = csv.lines().find(|l| l.starts_with("17515,2026Q4,day,2026-11-16,ais,")).expect("Monday's AIS row");
    assert_eq!(row.split(',').nth(5), Some("3"), "{row}");
    assert!(csv.contains("17515,2026Q4,period,2026Q4,ais,3,"), "{csv}");

    let out = app.data_dir.path().join("q4.json");
    let (code, _, stderr) = run_owned(&with(&[
        "stats",
        "export",
        "--quarter",
        "2026Q4",
        "--format",
        "json",
        "--output",
        out.to_str().unwrap(),
    ]));
    assert_eq!(code, Some(0), "{stderr}");
    let reports: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    let banks: Vec<&str> = reports.as_array().unwrap().iter().map(|r| r["bank"].as_str().unwrap()).collect();
    assert!(banks.contains(&"17515") && banks.contains(&"13807"), "every bank without --bank: {banks:?}");

    let (code, _, stderr) = run_owned(&with(&["stats", "export", "--quarter", "2026Q5"]));
    assert_eq!(code, Some(2));
    assert!(stderr.contains("2026Q5"), "{stderr}");

    let (code, stdout, stderr) =
        run_owned(&with(&["outage", "start", "--bank", "17515", "--reason", "core banking down"]));
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("unavailable since"), "{stdout}");
    let (_, stdout, _) = run_owned(&with(&["outage", "list", "--bank", "17515"]));
    assert!(stdout.contains("open") && stdout.contains("core banking down"), "{stdout}");
    let (code, _, _) = run_owned(&with(&["outage", "end", "--bank", "17515"]));
    assert_eq!(code, Some(0));
    let (code, _, stderr) = run_owned(&with(&["outage", "end", "--bank", "17515"]));
    assert_eq!(code, Some(1), "nothing left to end: {stderr}");
    let (_, stdout, _) = run_owned(&with(&["outage", "list", "--bank", "17515"]));
    assert!(!stdout.contains("\topen\t"), "{stdout}");

    let (code, stdout, _) = run_owned(&with(&["fallback", "report", "--since", "2026-01-01"]));
    assert_eq!(code, Some(0));
    assert!(stdout.starts_with("time\tbank\tclient_id\tevent\toutcome\tdetail"), "{stdout}");
}

#[tokio::test]
async fn fill_grows_the_same_synthetic_ledger_and_its_psus_are_usable() {
    use stetgate::ledger::{DateWindow, Ledger, PsuId};
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let fill = |accounts: &str| run(&["fill", "--accounts", accounts, "--data-dir", data]);
    let (code, stdout, stderr) = fill("5");
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("5 synthetic accounts"), "{stdout}");
    // Growing keeps what is there and adds the rest; the same size again changes nothing.
    for size in ["7", "7"] {
        let (code, _, stderr) = fill(size);
        assert_eq!(code, Some(0), "{stderr}");
    }
    let (code, _, stderr) = run(&["fill", "--accounts", "3", "--bank", "99999", "--data-dir", data]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("99999"), "{stderr}");

    let store = stetgate::store::Store::open(&format!("sqlite://{data}/stetgate.db")).await.unwrap();
    let bank = stet::BankCode::parse("17515").unwrap();
    let first = store.psu_accounts(bank, &PsuId::parse("F0000000000").unwrap()).await.unwrap();
    assert_eq!(first.len(), 2, "accounts 0 and 1");
    let last = store.psu_accounts(bank, &PsuId::parse("F0000000003").unwrap()).await.unwrap();
    assert_eq!(last.len(), 1, "account 6 only");
    assert!(store.psu_accounts(bank, &PsuId::parse("F0000000004").unwrap()).await.unwrap().is_empty());
    assert_eq!(last[0].account.iban, stetgate::ledger::fill::iban(bank, 6).unwrap());
    // The persona data is there too (the sandbox's seed), untouched.
    assert!(store.psu(bank, &PsuId::parse("9999999901").unwrap()).await.unwrap().is_some());

    // The fill dates operations by the Paris calendar, as the sandbox does (not the system's zone).
    let today = stetgate::clock::Calendar::paris().unwrap().date_of(jiff::Timestamp::now());
    let window =
        DateWindow { from: today.checked_sub(jiff::Span::new().days(62)).unwrap(), to: today.tomorrow().unwrap() };
    let zero = store.transactions(bank, &first[0].account.resource_id, window).await.unwrap();
    assert_eq!(zero.len(), 500, "account 0 carries the transactions benchmark's 500 operations");
    let one = store.transactions(bank, &first[1].account.resource_id, window).await.unwrap();
    assert_eq!(one.len(), 2);
    assert!(zero.windows(2).all(|w| w[0].transaction_date >= w[1].transaction_date), "newest first");
}

/// `stetgate certs issue ... | head -1`: the reader goes away after one line; the command still
/// writes its files and exits cleanly, without a panic.
#[test]
fn output_into_a_closed_pipe_is_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    let (code, _, stderr) = run(&["tpp", "list", "--data-dir", data]);
    assert_eq!(code, Some(0), "creates the sandbox CA: {stderr}");
    let out = dir.path().join("tpp");
    let mut child = Command::new(BIN)
        .args(["certs", "issue", "--org-id", "PSDFR-ACPR-12345", "--roles", "PSP_AI", "--data-dir", data, "--out"])
        .arg(&out)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // the reader is gone before the first line
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(out.join("qseal.key").exists(), "the work is done all the same");
}

/// A `STETGATE_` variable a deployment tool sets for itself is named in a warning, not a reason
/// to refuse to start; a bad value of a real setting still is.
#[test]
fn environment_variables_that_are_not_settings_are_named_not_fatal() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let output = Command::new(BIN)
        .args(["tpp", "list", "--data-dir", data.to_str().unwrap()])
        .env("STETGATE_BIN", "/opt/stetgate/bin/stetgate")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("STETGATE_BIN") && stderr.contains("not a setting"), "{stderr}");
    let output = Command::new(BIN)
        .args(["tpp", "list", "--data-dir", data.to_str().unwrap()])
        .env("STETGATE_LISTEN", "not-an-address")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("STETGATE_LISTEN"), "{stderr}");
}
