//! A real browser through the bank's pages: headless Chromium, driven through WebDriver
//! (chromedriver, W3C protocol spoken directly), goes from the authorize URL through the
//! identification, one-time-code and (for a card issuer) account-choice pages to the TPP's redirect
//! URI, served by a listener in this test; the code it receives is then exchanged for tokens.
//! A screenshot of each page is kept in `target/tmp/browser-artifacts/`.

use crate::harness::{AppOptions, CertSpec, TestDb, spawn_app, spawn_app_with};
use base64::Engine;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A chromedriver process and one Chromium session.
struct Browser {
    driver: Child,
    http: reqwest::Client,
    base: String,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// `None` when Chromium or chromedriver is missing (a failure under CI=true).
    /// `language`: what the browser asks for in Accept-Language.
    async fn start(language: &str) -> Option<Browser> {
        let present = |bin: &str| {
            Command::new(bin)
                .arg("--version")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        };
        if !present("chromium") || !present("chromedriver") {
            assert!(
                std::env::var("CI").map(|v| v != "true").unwrap_or(true),
                "CI=true but chromium/chromedriver are missing"
            );
            eprintln!("note: chromium or chromedriver is not installed; skipping the browser test");
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let http = reqwest::Client::new();
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        while http.get(format!("{base}/status")).send().await.is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile = tempfile::tempdir().unwrap();
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            // The sandbox CA is not in Chromium's store; TLS itself is tested elsewhere.
            "acceptInsecureCerts": true,
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                         "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                         "--window-size=900,900", format!("--user-data-dir={}", profile.path().display())],
                "prefs": {"intl.accept_languages": language}
            }
        }}});
        let mut browser = Browser { driver, http, base, _profile: profile };
        let session = browser.call(reqwest::Method::POST, "/session", Some(capabilities)).await;
        let id = session["sessionId"].as_str().expect("a WebDriver session").to_owned();
        browser.base = format!("{}/session/{id}", browser.base);
        Some(browser)
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let answer: Value = request.send().await.unwrap().json().await.unwrap();
        assert!(answer["value"].get("error").is_none(), "WebDriver {path}: {answer}");
        answer["value"].clone()
    }

    async fn goto(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", Some(json!({"url": url}))).await;
    }

    async fn find(&self, css: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let answer: Value = self
                .http
                .post(format!("{}/element", self.base))
                .json(&json!({"using": "css selector", "value": css}))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if let Some(id) = answer["value"][ELEMENT].as_str() {
                return id.to_owned();
            }
            assert!(Instant::now() < deadline, "no element {css}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn type_into(&self, css: &str, text: &str) {
        let id = self.find(css).await;
        self.call(reqwest::Method::POST, &format!("/element/{id}/value"), Some(json!({"text": text}))).await;
    }

    async fn click(&self, css: &str) {
        let id = self.find(css).await;
        self.call(reqwest::Method::POST, &format!("/element/{id}/click"), Some(json!({}))).await;
    }

    async fn source(&self) -> String {
        self.call(reqwest::Method::GET, "/source", None).await.as_str().unwrap_or("").to_owned()
    }

    /// Saves a PNG of the page as a test artifact.
    async fn screenshot(&self, name: &str) {
        let png = self.call(reqwest::Method::GET, "/screenshot", None).await;
        let bytes = base64::engine::general_purpose::STANDARD.decode(png.as_str().unwrap()).unwrap();
        assert!(bytes.starts_with(b"\x89PNG"), "a PNG screenshot");
        std::fs::create_dir_all(artifacts()).unwrap();
        std::fs::write(artifacts().join(format!("{name}.png")), bytes).unwrap();
    }
}

impl Drop for Browser {
    /// Ends the WebDriver session first, so that chromedriver quits the Chromium it started
    /// (killing chromedriver alone leaves Chromium running, a few hundred MB per test); a plain
    /// blocking HTTP/1.1 DELETE, as a destructor cannot await.
    fn drop(&mut self) {
        if let Some((authority, path)) = self.base.strip_prefix("http://").and_then(|rest| rest.split_once('/')) {
            use std::io::{Read, Write};
            if let Ok(mut stream) = std::net::TcpStream::connect(authority) {
                let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
                let request = format!(
                    "DELETE /{path} HTTP/1.1\r\nHost: {authority}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                );
                if stream.write_all(request.as_bytes()).is_ok() {
                    let _ = stream.read_to_end(&mut Vec::new());
                }
            }
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn artifacts() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("browser-artifacts")
}

/// The TPP's redirect URI: a plain HTTP listener that answers one request and reports its query.
async fn tpp_callback() -> (String, tokio::sync::oneshot::Receiver<String>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let uri = format!("http://127.0.0.1:{}/callback", listener.local_addr().unwrap().port());
    let (tx, rx) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut buffer = vec![0u8; 8192];
        let n = socket.read(&mut buffer).await.unwrap();
        let request = String::from_utf8_lossy(&buffer[..n]).into_owned();
        let target = request.split_whitespace().nth(1).unwrap_or("").to_owned();
        let body = "<html><body><h1>TPP: authorization received</h1></body></html>";
        let answer = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = socket.write_all(answer.as_bytes()).await;
        let _ = tx.send(target);
    });
    (uri, rx)
}

async fn run_flow(scope: &str, host: &str, psu: &str, language: &str, expected_heading: &str) {
    let Some(browser) = Browser::start(language).await else { return };
    let prefix = scope;
    let app = spawn_app(TestDb::sqlite()).await;
    let tpp = app.tpp("PSDFR-ACPR-12345", CertSpec::default());
    let (callback, received) = tpp_callback().await;
    let client = app.tpp_client(host, &tpp);
    let registration = client
        .request(reqwest::Method::POST, "/stet/psd2/oauth/register")
        .json(&tpp.registration(&callback))
        .send()
        .await
        .unwrap();
    assert_eq!(registration.status(), StatusCode::CREATED);

    let request = stet_tpp::AuthorizationRequest {
        client_id: tpp.org_id.clone(),
        redirect_uri: callback.clone(),
        scope: scope.into(),
        state: Some("browser-state".into()),
        code_challenge: None,
    };
    browser.goto(&format!("https://{host}:{}{}", app.addr.port(), request.path())).await;
    browser.find("#psu_id").await;
    assert!(browser.source().await.contains(expected_heading), "the page speaks the browser's language");
    browser.screenshot(&format!("{prefix}-1-identification")).await;
    browser.type_into("#psu_id", psu).await;
    browser.click("button[value=continue]").await;
    browser.find("#otp").await;
    assert!(browser.source().await.contains("12345678"), "the sandbox shows its code");
    browser.screenshot(&format!("{prefix}-2-one-time-code")).await;
    browser.type_into("#otp", "12345678").await;
    browser.click("button[value=continue]").await;
    if scope != "aisp" {
        browser.find("#account-1").await;
        browser.screenshot(&format!("{prefix}-3-accounts")).await;
        browser.click("#account-1").await;
        browser.click("button[value=continue]").await;
    }
    let target =
        tokio::time::timeout(Duration::from_secs(20), received).await.expect("the browser reached the TPP").unwrap();
    browser.find("h1").await;
    browser.screenshot(&format!("{prefix}-4-back-at-the-tpp")).await;
    let params: Vec<(String, String)> =
        url::form_urlencoded::parse(target.split_once('?').map(|(_, q)| q).unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    let get = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    assert_eq!(get("state").as_deref(), Some("browser-state"));
    let code = get("code").unwrap_or_else(|| panic!("no code in {target}"));

    let response = client.exchange_code(&tpp.org_id, &code, &callback).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let tokens: stet_tpp::Tokens = response.json().await.unwrap();
    assert_eq!(tokens.scope, scope);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_goes_through_the_bank_s_pages_for_an_aisp() {
    run_flow("aisp", "www.17515.sandbox.localhost", "9999999901", "fr-FR,fr", "Identifiez-vous").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_chooses_accounts_for_a_card_issuer() {
    run_flow("cbpii", "www.13807.sandbox.localhost", "D0999990I0", "en-GB,en", "Sign in").await;
}

/// The statistics page (server-rendered SVG, no script, no external asset) as a browser draws it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_draws_the_statistics_page() {
    let Some(browser) = Browser::start("fr-FR,fr").await else { return };
    // The deployment runs from the start of the quarter: its statistics start with its first
    // heartbeat.
    let options = AppOptions { now: Some("2026-10-01T00:00:00Z".parse().unwrap()), ..AppOptions::default() };
    let app = spawn_app_with(TestDb::sqlite(), options).await;
    let host = "www.17515.sandbox.localhost";
    let tpp = app.tpp("PSDFR-ACPR-12345", CertSpec { valid_from: -60 * 86_400, ..CertSpec::default() });
    app.register(&tpp).await;
    let client = app.tpp_client(host, &tpp);
    // A few days of traffic, so the charts have something to draw.
    for (day, calls) in [("2026-11-17", 3), ("2026-11-18", 6), ("2026-11-19", 2), ("2026-11-20", 5)] {
        app.clock.set(format!("{day}T09:00:00Z").parse().unwrap());
        for _ in 0..calls {
            client.signed(reqwest::Method::GET, "/stet/psd2/v1.4.2/accounts").send().await.unwrap();
        }
        client.token_request(&[("client_id", "PSDFR-ACPR-12345"), ("grant_type", "password")]).await.unwrap();
    }
    app.clock.set("2026-11-21T10:00:00Z".parse().unwrap());
    browser.goto(&format!("https://{host}:{}/stet/psd2/statistics?format=html", app.addr.port())).await;
    browser.find("svg").await;
    let page = browser.source().await;
    assert!(page.contains("2026Q4") && page.contains("Caisse"), "the bank and the period are named");
    assert_eq!(page.matches("<svg").count(), 3, "uptime, requests and response-time charts");
    assert!(page.matches("class=\"bar\"").count() >= 52, "one uptime bar per day so far");
    assert_eq!(page.matches("class=\"series\"").count(), 8, "four families on two line charts");
    let rendered = browser
        .call(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({
                "script": "return document.querySelector('svg').getBoundingClientRect().height;",
                "args": []
            })),
        )
        .await;
    assert!(rendered.as_f64().unwrap() > 100.0, "the chart is laid out: {rendered}");
    browser.screenshot("statistics-2026Q4").await;
}

/// The fallback as the PSU lives it: from the TPP's redirect to the accounts, in a real browser.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_uses_the_fallback_online_banking() {
    let Some(browser) = Browser::start("fr-FR,fr").await else { return };
    let app = spawn_app(TestDb::sqlite()).await;
    let host = "www.17515.sandbox.localhost";
    let tpp = app.tpp("PSDFR-ACPR-12345", CertSpec::default());
    app.register(&tpp).await;
    let response = app
        .tpp_client(host, &tpp)
        .request(reqwest::Method::POST, "/stet/psd2/oauth/token")
        .header("fallback", "1")
        .header("PSU-IP-Address", "192.0.2.10")
        .form(&[("client_id", "PSDFR-ACPR-12345"), ("grant_type", "client_credentials"), ("scope", "aisp")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FOUND);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    browser.goto(&location).await;
    browser.find("#psu_id").await;
    browser.screenshot("fallback-1-login").await;
    browser.type_into("#psu_id", "9999999901").await;
    browser.click("button[value=continue]").await;
    browser.find("#otp").await;
    browser.type_into("#otp", "12345678").await;
    browser.click("button[value=continue]").await;
    browser.find("table.accounts").await;
    assert!(browser.source().await.contains("FR7617515000920400851811524"));
    browser.screenshot("fallback-2-accounts").await;
    browser.click("table.accounts a").await;
    browser.find("table.transactions").await;
    browser.screenshot("fallback-3-transactions").await;
}

/// A payment approval as the PSU lives it: the amount and payee on every page, the code, the
/// account to debit, then back at the PISP with the factor that confirms the payment.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_approves_a_payment() {
    let Some(browser) = Browser::start("fr-FR,fr").await else { return };
    let app = spawn_app(TestDb::sqlite()).await;
    let host = "www.13807.sandbox.localhost";
    let roles = vec![eidas::psd2::Role::PaymentInitiation];
    let tpp = app.tpp("PSDFR-ACPR-54321", CertSpec { roles, ..CertSpec::default() });
    app.register(&tpp).await;
    let client = app.tpp_client(host, &tpp);
    let token =
        client.pisp_token("PSDFR-ACPR-54321").await.unwrap().json::<stet_tpp::Tokens>().await.unwrap().access_token;
    let (report_url, received) = tpp_callback().await;
    let body = json!({
        "paymentInformationId": "browser-1", "creationDateTime": "2026-11-21T11:00:00+01:00", "numberOfTransactions": 1,
        "initiatingParty": {"name": "My PISP"}, "paymentTypeInformation": {"serviceLevel": "SEPA"},
        "beneficiary": {"creditor": {"name": "Boulangerie Paul"}, "creditorAccount": {"iban": "FR7630004000031234567890143"}},
        "creditTransferTransaction": [{"paymentId": {"instructionId": "browser-1"}, "instructedAmount": {"currency": "EUR", "amount": "42.50"}}],
        "supplementaryData": {"acceptedAuthenticationApproach": ["REDIRECT"], "successfulReportUrl": report_url}
    });
    let created = client
        .signed(reqwest::Method::POST, "/stet/psd2/v1.6.2/payment-requests")
        .bearer(&token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let id = created.headers()["location"].to_str().unwrap().rsplit('/').next().unwrap().to_owned();
    let created: Value = created.json().await.unwrap();
    browser.goto(created["_links"]["consentApproval"]["href"].as_str().unwrap()).await;
    browser.find("#psu_id").await;
    let page = browser.source().await;
    assert!(page.contains("42.50 EUR") && page.contains("Boulangerie Paul"), "the amount and the payee");
    browser.screenshot("payment-1-identification").await;
    browser.type_into("#psu_id", "D0999990I0").await;
    browser.click("button[value=continue]").await;
    browser.find("#otp").await;
    assert!(browser.source().await.contains("42.50 EUR"), "the code is asked for this amount");
    browser.screenshot("payment-2-one-time-code").await;
    browser.type_into("#otp", "12345678").await;
    browser.click("button[value=continue]").await;
    browser.find("#account-1").await;
    browser.screenshot("payment-3-account").await;
    browser.click("button[value=continue]").await;
    let target =
        tokio::time::timeout(Duration::from_secs(20), received).await.expect("the browser reached the PISP").unwrap();
    browser.find("h1").await;
    let factor = url::form_urlencoded::parse(target.split_once('?').map(|(_, q)| q).unwrap_or("").as_bytes())
        .find(|(k, _)| k == "psuAuthenticationFactor")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| panic!("no factor in {target}"));
    let confirmation = json!({"nonce": created["nonce"], "psuAuthenticationFactor": factor});
    let path = format!("/stet/psd2/v1.6.2/payment-requests/{id}/confirmation");
    let confirmed =
        client.signed(reqwest::Method::POST, &path).bearer(&token).json(&confirmation).send().await.unwrap();
    assert_eq!(confirmed.status(), StatusCode::OK);
    let confirmed: Value = confirmed.json().await.unwrap();
    assert_eq!(confirmed["paymentRequest"]["paymentInformationStatus"], "ACSC");
}

/// The permission dashboard as the PSU lives it: sign in, the list, a withdrawal and its
/// confirmation, the record.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_withdraws_a_tpp_s_access_on_the_dashboard() {
    let Some(browser) = Browser::start("fr-FR,fr").await else { return };
    let app = spawn_app(TestDb::sqlite()).await;
    let host = "www.13807.sandbox.localhost";
    let tpp = app.tpp("PSDFR-ACPR-12345", CertSpec::default());
    app.register(&tpp).await;
    let token = app.access_token(&tpp, host, "D0999990I0", "aisp", None).await;
    browser.goto(&format!("https://{host}:{}/psu/access", app.addr.port())).await;
    browser.find("#psu_id").await;
    browser.screenshot("access-1-sign-in").await;
    browser.type_into("#psu_id", "D0999990I0").await;
    browser.click("button[value=continue]").await;
    browser.find("#otp").await;
    browser.type_into("#otp", "12345678").await;
    browser.click("button[value=continue]").await;
    browser.find("section.tpp-access").await;
    assert!(browser.source().await.contains("PSDFR-ACPR-12345"), "the TPP is listed");
    browser.screenshot("access-2-list").await;
    browser.click("section.tpp-access button[value=ask]").await;
    browser.find("button[value=confirm]").await;
    browser.screenshot("access-3-confirm").await;
    browser.click("button[value=confirm]").await;
    browser.find("table.withdrawals").await;
    let page = browser.source().await;
    assert!(!page.contains("tpp-access"), "no TPP left");
    browser.screenshot("access-4-withdrawn").await;
    let status = app
        .tpp_client(host, &tpp)
        .signed(reqwest::Method::GET, "/stet/psd2/v1.4.2/accounts")
        .bearer(&token)
        .header("psu-ip-address", "192.0.2.10")
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the TPP's token is revoked");
}

/// The sandbox's portal in a browser: personas and balances from the ledger, the links to each
/// bank's dashboard, and the last requests of a TPP with the check that refused a bad signature.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_reads_the_portal_and_why_a_request_was_refused() {
    let Some(browser) = Browser::start("en-GB,en").await else { return };
    let app = spawn_app(TestDb::sqlite()).await;
    let tpp = app.tpp("PSDFR-ACPR-12345", CertSpec::default());
    app.register(&tpp).await;
    // Signed with a key that is not the registered QSealC's.
    let stranger = app.tpp("PSDFR-ACPR-77777", CertSpec::default());
    let signer = stet_tpp::Signer::new(&stranger.qseal.key_pem, tpp.key_id_serial()).unwrap();
    let wrong = app.tpp_client_with("www.17515.sandbox.localhost", Some(&tpp.qwac), Some(signer));
    let refused = wrong.signed(reqwest::Method::GET, "/stet/psd2/v1.4.2/accounts").send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);

    browser.goto(&format!("https://localhost:{}/", app.addr.port())).await;
    browser.find("#personas").await;
    let page = browser.source().await;
    assert!(page.contains("9999999901") && page.contains("FR7617515000920400430518020"), "the personas' accounts");
    assert!(page.contains("www.13807.sandbox.localhost") && page.contains("/psu/access"), "the banks and dashboards");
    browser.screenshot("portal-1-home").await;
    browser.type_into("#org", "PSDFR-ACPR-12345").await;
    browser.click("#requests button").await;
    browser.find("table.requests").await;
    let page = browser.source().await;
    assert!(page.contains("GET /stet/psd2/v1.4.2/accounts"), "{page}");
    assert!(page.contains("does not verify"), "the check that refused it and why: {page}");
    assert!(page.contains("id=\"try-authorization\""), "a registered TPP may try the authorization");
    browser.screenshot("portal-2-requests").await;
}
