//! One-time codes through the bank's messaging gateway (`[otp_gateway."<bank>"]`), end to end on a
//! production node: the gateway is a real HTTPS receiver that requires stetgate's client
//! certificate and checks nothing itself; the test reads the code from what it received, checks
//! the HMAC signature, and signs the PSU in through the bank's pages. Retries, the limit on codes sent to one PSU, and the
//! page a PSU gets when delivery fails; and the fallback's online banking signing in the same way.

use crate::harness::{CALLBACK, CertSpec, TestDb, issue_with, logs, serve_https, spawn_app, spawn_node_with};
use axum::http::HeaderMap;
use eidas::issue::{TestCa, TppCertKind};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use stet_tpp::pages::first_form;
use stetgate::config::OtpGatewayConfig;

const ORG: &str = "PSDFR-ACPR-12345";
const HMAC_KEY: &str = "test-gateway-hmac-key-0123456789";

/// What the gateway received, and the statuses it answers first (then 200).
#[derive(Clone, Default)]
struct Received {
    calls: Arc<Mutex<Vec<(HeaderMap, String)>>>,
    answers: Arc<Mutex<VecDeque<u16>>>,
}

impl Received {
    fn calls(&self) -> Vec<(HeaderMap, String)> {
        self.calls.lock().unwrap().clone()
    }
}

/// Starts a gateway over mutual TLS; its configuration for stetgate, files in `dir`.
async fn start_gateway(dir: &std::path::Path, answers: &[u16]) -> (Received, OtpGatewayConfig) {
    let ca = TestCa::generate("gateway test CA", "Bank", 1).unwrap();
    let server = ca.issue_server("gateway", &["localhost".to_owned()], 30).unwrap();
    let client = issue_with(&ca, ORG, TppCertKind::Qwac, &CertSpec::default());
    let received = Received::default();
    received.answers.lock().unwrap().extend(answers);
    let seen = received.clone();
    let app = axum::Router::new().route(
        "/send",
        axum::routing::post(move |headers: HeaderMap, body: String| {
            let seen = seen.clone();
            async move {
                seen.calls.lock().unwrap().push((headers, body));
                let status = seen.answers.lock().unwrap().pop_front().unwrap_or(200);
                axum::http::StatusCode::from_u16(status).unwrap()
            }
        }),
    );
    let addr = serve_https(app, &server, Some(&ca.root().cert_pem)).await;
    let file = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        Some(path)
    };
    let config = OtpGatewayConfig {
        ca: file("gateway-ca.pem", &ca.root().cert_pem),
        client_cert: file("client.pem", &client.cert_pem),
        client_key: file("client.key", &client.key_pem),
        hmac_key_file: file("hmac.key", HMAC_KEY),
        timeout_secs: 2,
        ..OtpGatewayConfig::example(&format!("https://localhost:{}/send", addr.port()))
    };
    (received, config)
}

/// The `X-Stetgate-Signature` of a call is the HMAC of `<t>.<body>` with the shared key.
fn signed_by_the_bank(headers: &HeaderMap, body: &str) -> bool {
    let header = headers["x-stetgate-signature"].to_str().unwrap();
    let (t, mac) = header.split_once(",hmac-sha256=").unwrap();
    let t = t.strip_prefix("t=").unwrap();
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, HMAC_KEY.as_bytes());
    eidas::psd2::hex(aws_lc_rs::hmac::sign(&key, format!("{t}.{body}").as_bytes()).as_ref()) == mac
}

/// The digits of the code in a gateway message.
fn code_in(message: &str) -> String {
    message.split(|c: char| !c.is_ascii_digit()).rfind(|w| w.len() == 8).unwrap().to_owned()
}

/// Opens the authorization, identifies `psu`; the cookie and the page that follows.
async fn identify(client: &stet_tpp::TppClient, psu: &str) -> (String, u16, String) {
    let request = stet_tpp::AuthorizationRequest {
        client_id: ORG.into(),
        redirect_uri: CALLBACK.into(),
        scope: "aisp".into(),
        state: None,
        code_challenge: None,
    };
    let first = client.browse(&format!("{}{}", client.base_url(), request.path())).await.unwrap();
    let cookie = first.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    let form = first_form(&first.text().await.unwrap()).expect("the identification form");
    let mut fields = form.fields.clone();
    fields.extend([("action".into(), "continue".into()), ("psu_id".into(), psu.into())]);
    let page = client.post_form(&form.action, &cookie, &fields).await.unwrap();
    (cookie, page.status().as_u16(), page.text().await.unwrap())
}

async fn answer_code(client: &stet_tpp::TppClient, cookie: &str, page: &str, code: &str) -> reqwest::Response {
    let form = first_form(page).expect("the code form");
    let mut fields = form.fields.clone();
    fields.extend([("action".into(), "continue".into()), ("otp".into(), code.into())]);
    client.post_form(&form.action, cookie, &fields).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_psu_signs_in_with_the_code_the_banks_gateway_delivered() {
    let logs = logs();
    let dir = tempfile::tempdir().unwrap();
    let (good, good_config) = start_gateway(dir.path(), &[503]).await;
    let broken_dir = tempfile::tempdir().unwrap();
    let (broken, broken_config) = start_gateway(broken_dir.path(), &[400]).await;
    let sandbox = spawn_app(TestDb::sqlite()).await;
    let node = spawn_node_with(
        &sandbox,
        crate::harness::AppOptions {
            default_bank: "13807",
            production_banks: vec!["13807", "17515"],
            otp_gateway: [("13807", good_config), ("17515", broken_config)]
                .into_iter()
                .map(|(b, c)| (stet::BankCode::parse(b).unwrap(), c))
                .collect(),
            ..Default::default()
        },
    )
    .await;
    let tpp = node.tpp(ORG, CertSpec::default());
    node.register(&tpp).await;

    // Marc (bank 13807): the gateway's first answer is a 503, the retry delivers.
    let client = node.tpp_client("www.13807.sandbox.localhost", &tpp);
    let (cookie, status, page) = identify(&client, "D0999990I0").await;
    assert_eq!(status, 200, "{page}");
    let calls = good.calls();
    assert_eq!(calls.len(), 2, "one retry after the 503");
    assert_eq!(calls[0].0["idempotency-key"], calls[1].0["idempotency-key"], "the retry is the same message");
    let (headers, body) = &calls[1];
    assert!(signed_by_the_bank(headers, body), "HMAC over the body");
    let message: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(message["bank"], "13807");
    assert_eq!(message["psu"], "D0999990I0");
    assert_eq!(message["channel"], "sms");
    assert!(message["destination"].as_str().unwrap().starts_with("+33"), "{message}");
    let code = code_in(message["message"].as_str().unwrap());
    assert!(!page.contains(&code), "the code only travels through the gateway");

    // A wrong code is refused on the page; the delivered one signs Marc in.
    let wrong = if code == "00000000" { "11111111" } else { "00000000" };
    let again = answer_code(&client, &cookie, &page, wrong).await;
    assert_eq!(again.status(), 200);
    let again = again.text().await.unwrap();
    let done = answer_code(&client, &cookie, &again, &code).await;
    assert_eq!(done.status(), 302, "{}", done.text().await.unwrap());
    let location = done.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with(CALLBACK) && location.contains("code="), "{location}");
    let code_param =
        url::Url::parse(&location).unwrap().query_pairs().find(|(k, _)| k == "code").unwrap().1.into_owned();
    let tokens = client.exchange_code(ORG, &code_param, CALLBACK).await.unwrap();
    assert_eq!(tokens.status(), 200, "a production token from a gateway-delivered code");

    // An online-banking id alone cannot make the bank send message after message: five codes a
    // quarter hour, then the same page and no message.
    for _ in 0..5 {
        let (_, status, _) = identify(&client, "D0999990I0").await;
        assert_eq!(status, 200);
    }
    assert_eq!(good.calls().len(), 2 + 4, "four more codes sent, the sixth withheld");
    assert!(!logs.lines_with(&["no one-time code sent: too many for this PSU"]).is_empty());

    // Bank 17515's gateway refuses (400, not retried): the PSU gets the bank's page saying so.
    let client = node.tpp_client("www.17515.sandbox.localhost", &tpp);
    let (_, status, page) = identify(&client, "9999999901").await;
    assert_eq!(status, 503, "{page}");
    assert!(page.contains("<html"), "a page for the PSU, not JSON: {page}");
    assert!(page.contains("<h1>Service momentanément indisponible</h1>"), "{page}");
    assert_eq!(broken.calls().len(), 1, "a 400 is not retried");
    assert!(
        !logs.lines_with(&["one-time code not delivered", "the gateway answered 400"]).is_empty(),
        "the failure is logged"
    );
    assert!(logs.lines_with(&[&code]).is_empty(), "the code is never logged");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fallbacks_online_banking_signs_in_with_a_delivered_code() {
    let dir = tempfile::tempdir().unwrap();
    let (gateway, config) = start_gateway(dir.path(), &[]).await;
    let sandbox = spawn_app(TestDb::sqlite()).await;
    let node = spawn_node_with(
        &sandbox,
        crate::harness::AppOptions {
            default_bank: "13807",
            production_banks: vec!["13807"],
            otp_gateway: [(stet::BankCode::parse("13807").unwrap(), config)].into_iter().collect(),
            ..Default::default()
        },
    )
    .await;
    let tpp = node.tpp(ORG, CertSpec::default());
    node.register(&tpp).await;
    const HOST: &str = "www.13807.sandbox.localhost";
    let fallback = node
        .tpp_client(HOST, &tpp)
        .request(reqwest::Method::POST, "/stet/psd2/oauth/token")
        .header("fallback", "1")
        .header("PSU-IP-Address", "192.0.2.10")
        .form(&[("client_id", ORG), ("grant_type", "client_credentials"), ("scope", "aisp")])
        .send()
        .await
        .unwrap();
    assert_eq!(fallback.status(), 302);
    let location = url::Url::parse(fallback.headers()["location"].to_str().unwrap()).unwrap();
    let browser = node.client(HOST);
    let login = browser
        .request_without_id(reqwest::Method::GET, &format!("{}?{}", location.path(), location.query().unwrap()))
        .send()
        .await
        .unwrap();
    let cookie = login.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    let page = login.text().await.unwrap();
    let form = first_form(&page).expect("the login form");
    let mut fields = form.fields.clone();
    fields.extend([("action".into(), "continue".into()), ("psu_id".into(), "D0999990I0".into())]);
    let code_page = browser.post_form(&form.action, &cookie, &fields).await.unwrap().text().await.unwrap();
    let calls = gateway.calls();
    assert_eq!(calls.len(), 1, "the code went through the bank's gateway");
    let message: serde_json::Value = serde_json::from_str(&calls[0].1).unwrap();
    let signed_in = answer_code(&browser, &cookie, &code_page, &code_in(message["message"].as_str().unwrap())).await;
    assert_eq!(signed_in.status(), 303);
    assert_eq!(signed_in.headers()["location"], "/online-banking/accounts");
    let accounts = browser
        .request_without_id(reqwest::Method::GET, "/online-banking/accounts")
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(accounts.status(), 200);
    assert!(accounts.text().await.unwrap().contains("FR7613807008043001965405158"), "Marc's accounts");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bank_whose_gateway_sends_e_mails_sends_the_code_to_the_psus_address() {
    let logs = logs();
    let dir = tempfile::tempdir().unwrap();
    let (gateway, config) = start_gateway(dir.path(), &[]).await;
    let config = OtpGatewayConfig { channel: stetgate::config::OtpChannel::Email, ..config };
    let sandbox = spawn_app(TestDb::sqlite()).await;
    // The bank's address for Marc, as the holders file or the adapter gives it; Lea has none.
    let mut connection = <sqlx::AnyConnection as sqlx::Connection>::connect(sandbox.db.url()).await.unwrap();
    sqlx::query("UPDATE psus SET email = $1 WHERE bank_code = '13807' AND psu_id = 'D0999990I0'")
        .bind("marc.sandboxb@example.fr")
        .execute(&mut connection)
        .await
        .unwrap();
    let node = spawn_node_with(
        &sandbox,
        crate::harness::AppOptions {
            default_bank: "13807",
            production_banks: vec!["13807"],
            otp_gateway: [(stet::BankCode::parse("13807").unwrap(), config)].into_iter().collect(),
            ..Default::default()
        },
    )
    .await;
    let tpp = node.tpp(ORG, CertSpec::default());
    node.register(&tpp).await;
    let client = node.tpp_client("www.13807.sandbox.localhost", &tpp);

    let (cookie, status, page) = identify(&client, "D0999990I0").await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("vous a été envoyé par e-mail"), "the page names e-mail: {page}");
    assert!(page.contains("Code reçu par e-mail") && !page.contains("SMS"), "{page}");
    let calls = gateway.calls();
    assert_eq!(calls.len(), 1);
    let message: serde_json::Value = serde_json::from_str(&calls[0].1).unwrap();
    assert_eq!(message["channel"], "email");
    assert_eq!(message["destination"], "marc.sandboxb@example.fr", "the ledger's address, not the phone");
    let code = code_in(message["message"].as_str().unwrap());
    let done = answer_code(&client, &cookie, &page, &code).await;
    assert_eq!(done.status(), 302, "the e-mailed code signs Marc in: {}", done.text().await.unwrap());

    // A PSU the bank has no address for: the page says the service is unavailable, the log why.
    let (_, status, page) = identify(&client, "D0999991I0").await;
    assert_eq!(status, 503, "{page}");
    assert!(page.contains("<h1>Service momentanément indisponible</h1>"), "{page}");
    assert_eq!(gateway.calls().len(), 1, "nothing sent without an address");
    assert!(!logs.lines_with(&["the ledger has no e-mail address for this PSU"]).is_empty(), "logged");
}
