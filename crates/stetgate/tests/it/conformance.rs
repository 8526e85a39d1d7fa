//! `stet-tpp conformance` as CI runs it: the built binary against a real `stetgate sandbox` process
//! (both sandbox banks, every case passing, JUnit and HTML written), and against a deliberately
//! broken bank, a small HTTPS test double answering wrong codes and bodies, where it must exit 1
//! and name the failed cases in its text and its JUnit report; a bank described by a `--profile`
//! file.

use crate::cli::{Sandbox, run_owned};
use crate::harness::{CertSpec, issue_with, serve_https};
use eidas::issue::{TestCa, TppCertKind};
use eidas::psd2::Role;
use std::path::{Path, PathBuf};
use std::process::Output;

const ORG: &str = "PSDFR-ACPR-12345";
const CALLBACK: &str = "https://tpp.example/callback";
const BROKEN: &str = "www.13807.broken.localhost";

/// The `stet-tpp` binary beside `stetgate` (scripts/test.sh builds both before the tests).
fn stet_tpp() -> Option<PathBuf> {
    let binary = Path::new(env!("CARGO_BIN_EXE_stetgate")).with_file_name("stet-tpp");
    if !binary.exists() {
        assert_ne!(std::env::var("CI").as_deref(), Ok("true"), "CI=true: build stet-tpp before the tests");
        eprintln!("note: {} is not built; skipping the conformance runs", binary.display());
        return None;
    }
    Some(binary)
}

async fn run(binary: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let Output { status, stdout, stderr } = tokio::process::Command::new(binary).args(args).output().await.unwrap();
    (status.code(), String::from_utf8_lossy(&stdout).into_owned(), String::from_utf8_lossy(&stderr).into_owned())
}

/// Runs `conformance` on `url` with the reports in `dir`: exit code, stdout, JUnit, HTML.
async fn conformance(binary: &Path, url: &str, dir: &Path, extra: &[&str]) -> (Option<i32>, String, String, String) {
    let (junit, html) = (dir.join("conformance.xml"), dir.join("conformance.html"));
    let (ca, certs) = (dir.join("ca.pem"), dir.join("tpp"));
    let mut args =
        vec!["conformance", "--url", url, "--cacert", ca.to_str().unwrap(), "--certs", certs.to_str().unwrap()];
    args.extend(["--report-junit", junit.to_str().unwrap(), "--report-html", html.to_str().unwrap()]);
    args.extend(extra);
    let (code, stdout, stderr) = run(binary, &args).await;
    eprintln!("{stdout}{stderr}");
    let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}\n{stderr}", p.display()));
    (code, stdout, read(&junit), read(&html))
}

/// The ids of the cases of `suites`, from `stet-tpp conformance --list`.
async fn case_ids(binary: &Path, suites: &[&str]) -> Vec<String> {
    let (code, listed, _) = run(binary, &["conformance", "--list"]).await;
    assert_eq!(code, Some(0));
    listed
        .lines()
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            let (id, suite) = (words.next()?, words.next()?);
            suites.contains(&suite).then(|| id.to_owned())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_runner_passes_against_the_sandbox() {
    let Some(binary) = stet_tpp() else { return };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let sandbox = Sandbox::start(&data, &[]);
    // A TPP of the three roles with certificates from the sandbox CA, registered as a developer does.
    let certs = dir.path().join("tpp");
    let arg = |p: &Path| p.to_str().unwrap().to_owned();
    let issue = ["certs", "issue", "--org-id", ORG, "--roles", "PSP_AI,PSP_IC,PSP_PI", "--name", "CI", "--days", "30"];
    let mut issue: Vec<String> = issue.iter().map(|s| (*s).to_owned()).collect();
    issue.extend(["--data-dir".into(), arg(&data), "--out".into(), arg(&certs)]);
    let (code, _, stderr) = run_owned(&issue);
    assert_eq!(code, Some(0), "{stderr}");
    std::fs::copy(data.join("pki/ca.pem"), dir.path().join("ca.pem")).unwrap();
    let url = |bank: &str| format!("https://www.{bank}.sandbox.localhost:{}", sandbox.port);
    let register = ["register", "--url", &url("17515"), "--cacert", &arg(&dir.path().join("ca.pem"))];
    let (code, _, stderr) =
        run(&binary, &[&register[..], &["--certs", &arg(&certs), "--name", "CI", "--redirect-uri", CALLBACK]].concat())
            .await;
    assert_eq!(code, Some(0), "{stderr}");

    for (bank, suites, evidence) in [
        ("17515", &["aisp", "pisp"][..], &["CLBD -150.00", "CLBD 245.10", "connectedPsu LEA SANDBOXA", "ACSC"][..]),
        ("13807", &["aisp", "cbpii", "pisp"][..], &["CLBD 4348.95", "3 requests, result true", "ACSC"][..]),
    ] {
        let (code, stdout, junit, html) = conformance(&binary, &url(bank), dir.path(), &[]).await;
        assert_eq!(code, Some(0), "bank {bank}: every case passes");
        assert!(!stdout.contains("FAIL "), "{stdout}");
        for id in case_ids(&binary, suites).await {
            let reported = stdout
                .lines()
                .any(|l| (l.starts_with("PASS") || l.starts_with("SKIP")) && l.contains(&format!(" {id} ")));
            assert!(reported, "{bank}: {id} reported");
        }
        let passed = stdout.lines().filter(|l| l.starts_with("PASS")).count();
        assert!(passed >= 22, "{bank}: the cases ran ({passed} passed)");
        for needle in evidence.iter().chain(&["X-Request-ID", "-> 201", "-> 401", "-> 429"]) {
            assert!(stdout.contains(needle), "{bank}: the evidence shows {needle}");
        }
        let tokens = stdout.matches("\"access_token\":\"").count();
        assert!(tokens > 0 && stdout.matches("\"access_token\":\"<redacted>\"").count() == tokens, "tokens redacted");
        for suite in suites {
            assert!(junit.contains(&format!("<testsuite name=\"{suite}\"")), "{junit}");
        }
        assert_eq!(junit.matches(" failures=\"0\"").count(), suites.len() + 1, "{junit}");
        assert!(!junit.contains("<failure"));
        assert_eq!(junit.matches("<testcase ").count(), case_ids(&binary, suites).await.len());
        assert!(html.starts_with("<!DOCTYPE html>") && html.contains("PASS") && html.contains("AIS-05"));
        assert!(!html.contains("<script") && !html.contains("src=") && !html.contains("<link"), "self-contained");
    }
}

/// The broken bank: authorization and tokens work (so the runner reaches the resources), then
/// wrong answers: accounts with links before any consent, no balances, 500 on transactions and on
/// payment requests, an identity for everyone, every token accepted, a new refresh token on
/// refresh, and funds always available.
async fn broken_answer(method: http::Method, uri: http::Uri, body: bytes::Bytes) -> axum::response::Response {
    use axum::response::IntoResponse;
    use serde_json::json;
    let params = |text: &[u8]| -> std::collections::HashMap<String, String> {
        url::form_urlencoded::parse(text).into_owned().collect()
    };
    let answer = |status: u16, value: serde_json::Value| {
        let status = http::StatusCode::from_u16(status).unwrap();
        (status, [("content-type", "application/json")], value.to_string()).into_response()
    };
    let path = uri.path();
    match (method.as_str(), path) {
        ("GET", "/stet/psd2/oauth/authorize") => {
            let q = params(uri.query().unwrap_or("").as_bytes());
            let location = format!("{}?code=code-{}&state={}", q["redirect_uri"], q["scope"], q["state"]);
            (http::StatusCode::FOUND, [("location", location)]).into_response()
        }
        ("POST", "/stet/psd2/oauth/token") => {
            let form = params(&body);
            let scope = match form["grant_type"].as_str() {
                "authorization_code" => form["code"].trim_start_matches("code-").to_owned(),
                "client_credentials" => "pisp".to_owned(),
                _ => "aisp offline_access".to_owned(),
            };
            let fresh = || uuid::Uuid::new_v4().to_string();
            answer(
                200,
                json!({"access_token": fresh(), "token_type": "Bearer", "expires_in": 3600, "scope": scope, "refresh_token": fresh()}),
            )
        }
        (_, p) if p.ends_with("/consents") => http::StatusCode::CREATED.into_response(),
        (_, p) if p.ends_with("/accounts") => {
            let ids = [
                ("FR7613807008043001965405158", "1"),
                ("FR7613807008043001965405255", "2"),
                ("FR7613807008043001965405352", "3"),
            ];
            let accounts: Vec<_> = ids
                .iter()
                .map(|(iban, id)| json!({"accountId": {"iban": iban}, "resourceId": id, "name": "Marc", "cashAccountType": "CACC",
                    "_links": {"balances": {"href": format!("/x/{id}/balances")}, "transactions": {"href": format!("/x/{id}/transactions")}}}))
                .collect();
            answer(200, json!({"accounts": accounts}))
        }
        (_, p) if p.ends_with("/balances") => answer(200, json!({"balances": []})),
        (_, p) if p.ends_with("/end-user-identity") => answer(200, json!({"connectedPsu": "Anyone"})),
        (_, p) if p.ends_with("/funds-confirmations") => {
            let request: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
            answer(200, json!({"result": true, "request": request}))
        }
        _ => answer(500, json!({"status": 500, "error": "the broken bank fell over", "message": "INTS"})),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_bank_fails_naming_the_cases() {
    let Some(binary) = stet_tpp() else { return };
    let dir = tempfile::tempdir().unwrap();
    let (ca, addr, _certs) = broken_bank(BROKEN, "broken bank", dir.path()).await;
    std::fs::write(dir.path().join("ca.pem"), &ca.root().cert_pem).unwrap();

    let url = format!("https://{BROKEN}:{}", addr.port());
    let (code, stdout, junit, html) = conformance(&binary, &url, dir.path(), &["--redirect-uri", CALLBACK]).await;
    assert_eq!(code, Some(1), "a failed case exits 1");
    // What the double gets wrong, case by case.
    let failed = [
        "AIS-02", "AIS-05", "AIS-06", "AIS-07", "AIS-11", "AIS-12", "AIS-13", "AIS-14", "AIS-15", "AIS-16", "AIS-17",
        "CB-03", "CB-04", "CB-05", "CB-06", "CB-07", "PI-02", "PI-07", "PI-08",
    ];
    for id in failed {
        assert!(stdout.lines().any(|l| l.starts_with(&format!("FAIL  {id} "))), "{id} fails");
        assert!(stdout.contains(&format!("FAILED {id} ")), "the summary names {id}");
        let testcase = junit.split("<testcase ").find(|t| t.contains(&format!("name=\"{id} "))).unwrap();
        assert!(testcase.contains("<failure"), "JUnit: {id} is a failure: {testcase}");
    }
    // What it gets right passes: the runner judges each case, it does not fail everything.
    for id in ["AIS-01", "AIS-03", "AIS-04", "AIS-10", "CB-01", "CB-02", "PI-01"] {
        assert!(stdout.lines().any(|l| l.starts_with(&format!("PASS  {id} "))), "{id} passes");
    }
    // A failure says what was expected and what came, with the request's evidence.
    let balances = stdout.split("FAIL  AIS-05").nth(1).unwrap();
    assert!(balances.contains("expected:  one CLBD balance of 4348.95 EUR") && balances.contains("{\"balances\":[]}"));
    assert!(balances.contains("X-Request-ID"), "{balances}");
    assert!(!junit.contains("<testsuite name=\"aisp\" tests=\"17\" failures=\"0\""), "{junit}");
    assert!(html.contains("FAIL") && html.contains("the broken bank fell over"));
}

/// `--profile FILE` describes a bank stet-tpp has no built-in profile for: its URL (no `--url`),
/// its personas and expected balances, and the suites to run (those it has a section for). Without
/// the file the same bank is not run at all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_profile_file_describes_a_bank_without_a_built_in_profile() {
    let Some(binary) = stet_tpp() else { return };
    const HOST: &str = "www.12345.broken.localhost";
    let dir = tempfile::tempdir().unwrap();
    let (ca, addr, certs) = broken_bank(HOST, "profiled bank", dir.path()).await;
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, &ca.root().cert_pem).unwrap();
    let url = format!("https://{HOST}:{}", addr.port());
    let profile = serde_json::json!({
        "name": "Profiled test bank 12345",
        "bank": "12345",
        "url": url,
        "version": "v1.4.2",
        "otp": "12345678",
        "redirect_uri": CALLBACK,
        "aisp": {
            "psu": "PSU0001",
            "accounts": [{"iban": "FR7613807008043001965405158", "balance": "1234.56"}],
            "history_days": 62
        }
    });
    let file = dir.path().join("bank-12345.json");
    std::fs::write(&file, serde_json::to_string_pretty(&profile).unwrap()).unwrap();
    let (junit, html) = (dir.path().join("conformance.xml"), dir.path().join("conformance.html"));
    let arg = |p: &Path| p.to_str().unwrap().to_owned();
    let common = ["--cacert".to_owned(), arg(&ca_file), "--certs".to_owned(), arg(&certs)];

    let without: Vec<&str> =
        ["conformance", "--url", &url].into_iter().chain(common.iter().map(String::as_str)).collect();
    let (code, _, stderr) = run(&binary, &without).await;
    assert_ne!(code, Some(0), "no built-in profile for 12345: {stderr}");
    assert!(stderr.contains("--profile"), "says to write a profile: {stderr}");

    let mut with: Vec<String> = vec!["conformance".into(), "--profile".into(), arg(&file)];
    with.extend(common.iter().cloned());
    with.extend(["--report-junit".into(), arg(&junit), "--report-html".into(), arg(&html)]);
    let with: Vec<&str> = with.iter().map(String::as_str).collect();
    let (code, stdout, stderr) = run(&binary, &with).await;
    assert_eq!(code, Some(1), "ran, and the broken bank fails cases: {stdout}{stderr}");
    assert!(stdout.contains(&format!("bank     {url}")), "the profile's URL: {stdout}");
    assert!(stdout.contains("profile  Profiled test bank 12345"), "{stdout}");
    let balances = stdout.split("FAIL  AIS-05").nth(1).expect("AIS-05 ran and failed");
    assert!(balances.contains("one CLBD balance of 1234.56 EUR"), "the profile's expected balance: {balances}");
    assert!(
        !stdout.lines().any(|l| l.contains(" CB-") || l.contains(" PI-")),
        "no cbpii or pisp section, no such case: {stdout}"
    );
    let junit = std::fs::read_to_string(&junit).unwrap();
    assert!(junit.contains("<testsuite name=\"aisp\""), "{junit}");
    assert!(!junit.contains("<testsuite name=\"cbpii\"") && !junit.contains("<testsuite name=\"pisp\""), "{junit}");
    assert!(std::fs::read_to_string(&html).unwrap().contains("Profiled test bank 12345"));
}

/// The test double of a bank answering wrong codes (`broken_answer`) on `host` over TLS, its CA,
/// and a TPP's QWAC and QSealC (every role) from that CA in `dir`/tpp, as `--certs` reads them.
async fn broken_bank(
    host: &str,
    label: &str,
    dir: &std::path::Path,
) -> (TestCa, std::net::SocketAddr, std::path::PathBuf) {
    let ca = TestCa::generate(&format!("{label} CA"), label, 1).unwrap();
    let server = ca.issue_server(label, &[host.to_owned()], 30).unwrap();
    let addr = serve_https(axum::Router::new().fallback(broken_answer), &server, None).await;
    let spec = CertSpec {
        roles: vec![Role::AccountInformation, Role::CardIssuing, Role::PaymentInitiation],
        ..CertSpec::default()
    };
    let certs = dir.join("tpp");
    std::fs::create_dir_all(&certs).unwrap();
    for (kind, name) in [(TppCertKind::Qwac, "qwac"), (TppCertKind::Qsealc, "qseal")] {
        let issued = issue_with(&ca, ORG, kind, &spec);
        std::fs::write(certs.join(format!("{name}.pem")), &issued.cert_pem).unwrap();
        std::fs::write(certs.join(format!("{name}.key")), &issued.key_pem).unwrap();
    }
    (ca, addr, certs)
}
