//! One-time codes through the bank's messaging gateway (`[otp_gateway."<bank>"]`), end to end on a
//! production node: the gateway is a real HTTPS receiver that requires stetgate's client
//! certificate and checks nothing itself; the test reads the code from what it received, checks
//! the HMAC signature, and signs the PSU in through the bank's pages. Retries, the limit on codes sent to one PSU, and the
//! page a PSU gets when delivery fails or the gateway never answers; a code's lifetime, its absence
//! from the database, a payment's amount and payee in the message; and the fallback's online
//! banking signing in the same way. Every gateway is configured from docs/operator-guide.md's block.

use crate::harness::{
    AppOptions, CALLBACK, CertSpec, TestApp, TestDb, TestTpp, issue_with, logs, serve_https, spawn_app, spawn_node_with,
};
use axum::http::HeaderMap;
use eidas::issue::{TestCa, TppCertKind};
use eidas::psd2::Role;
use jiff::SignedDuration;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use stet_tpp::pages::first_form;
use stetgate::config::OtpGatewayConfig;

const ORG: &str = "PSDFR-ACPR-12345";
const HMAC_KEY: &str = "test-gateway-hmac-key-0123456789";

/// A gateway's "answer" that never comes.
const NEVER: u16 = 0;

/// What the gateway received, and the statuses it answers first (then 200; [`NEVER`]: no answer).
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
                if status == NEVER {
                    std::future::pending::<()>().await;
                }
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
    let files = [
        ("sms-gateway-ca.pem", file("gateway-ca.pem", &ca.root().cert_pem)),
        ("sms-client.pem", file("client.pem", &client.cert_pem)),
        ("sms-client.key", file("client.key", &client.key_pem)),
        ("sms-hmac.key", file("hmac.key", HMAC_KEY)),
    ];
    let mut toml = guide_block();
    toml = toml.replace("https://sms.bank.example/v1/messages", &format!("https://localhost:{}/send", addr.port()));
    for (name, path) in files {
        toml = toml.replace(&format!("/etc/stetgate/{name}"), &path.unwrap().display().to_string());
    }
    #[derive(serde::Deserialize)]
    struct Documented {
        otp_gateway: std::collections::BTreeMap<String, OtpGatewayConfig>,
    }
    let documented: Documented =
        figment::Figment::from(<figment::providers::Toml as figment::providers::Format>::string(&toml))
            .extract()
            .expect("the guide's TOML");
    let config = documented.otp_gateway["13807"].clone();
    assert!(config.ca.is_some() && config.client_cert.is_some() && config.hmac_key_file.is_some(), "{config:?}");
    (received, config)
}

/// The configuration block of docs/operator-guide.md's "Connect your SMS or e-mail gateway":
/// every gateway of these tests is configured from it (its URL and file paths replaced).
fn guide_block() -> String {
    let guide = include_str!("../../../../docs/operator-guide.md");
    let section = guide.split("## Connect your SMS or e-mail gateway").nth(1).expect("the section");
    section.split("```toml").nth(1).and_then(|b| b.split("```").next()).expect("its configuration").to_owned()
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
    let tokens: stet_tpp::Tokens = tokens.json().await.unwrap();
    let accounts = client
        .signed(reqwest::Method::GET, "/stet/psd2/v1.4.2/accounts")
        .bearer(&tokens.access_token)
        .header("psu-ip-address", "192.0.2.10")
        .send()
        .await
        .unwrap();
    assert_eq!(accounts.status(), 200, "and Marc's accounts with it");
    let accounts: serde_json::Value = accounts.json().await.unwrap();
    assert!(!accounts["accounts"].as_array().unwrap().is_empty(), "{accounts}");

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
    let (_sandbox, node, tpp) = bank_13807_with(config).await;
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
    let (sandbox, node, tpp) = bank_13807_with(config).await;
    // The bank's address for Marc, as the holders file or the adapter gives it; Marie has none.
    let mut connection = <sqlx::AnyConnection as sqlx::Connection>::connect(sandbox.db.url()).await.unwrap();
    sqlx::query("UPDATE psus SET email = $1 WHERE bank_code = '13807' AND psu_id = 'D0999990I0'")
        .bind("marc.sandboxb@example.fr")
        .execute(&mut connection)
        .await
        .unwrap();
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

    // A PSU the bank has no address for gets the page an unknown id gets (nothing tells them
    // apart); nothing is sent, and the log tells the bank's operators why.
    let (_, status, page) = identify(&client, "D0999991I0").await;
    let (_, unknown_status, unknown_page) = identify(&client, "Z9999999Z9").await;
    assert_eq!((status, unknown_status), (200, 200), "{page}");
    let body = |page: &str| -> Vec<String> {
        page.lines().filter(|l| !l.contains("csrf") && !l.contains("action=")).map(str::to_owned).collect()
    };
    assert_eq!(body(&page), body(&unknown_page), "the same page for a known id without address and an unknown id");
    assert!(page.contains("vous a été envoyé par e-mail"), "{page}");
    assert_eq!(gateway.calls().len(), 1, "nothing sent without an address");
    assert!(!logs.lines_with(&["no one-time code sent", "the ledger has no e-mail address for this PSU"]).is_empty());
}

/// A production node whose bank 13807 sends codes through `config` (beside the sandbox whose
/// personas it uses, returned first), and a registered TPP that is an AISP and a PISP.
async fn bank_13807_with(config: OtpGatewayConfig) -> (TestApp, TestApp, TestTpp) {
    let sandbox = spawn_app(TestDb::sqlite()).await;
    let node = spawn_node_with(
        &sandbox,
        AppOptions {
            default_bank: "13807",
            production_banks: vec!["13807"],
            otp_gateway: [(stet::BankCode::parse("13807").unwrap(), config)].into_iter().collect(),
            ..Default::default()
        },
    )
    .await;
    let roles = vec![Role::AccountInformation, Role::PaymentInitiation];
    let tpp = node.tpp(ORG, CertSpec { roles, ..CertSpec::default() });
    node.register(&tpp).await;
    (sandbox, node, tpp)
}

const BP: &str = "www.13807.sandbox.localhost";
const MARC: &str = "D0999990I0";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_that_never_answers_gives_the_psu_the_unavailable_page_in_time() {
    let logs = logs();
    let dir = tempfile::tempdir().unwrap();
    let (gateway, config) = start_gateway(dir.path(), &[NEVER, NEVER, NEVER]).await;
    let url = config.url.clone();
    let (_sandbox, node, tpp) = bank_13807_with(OtpGatewayConfig { timeout_secs: 1, retries: 1, ..config }).await;
    let client = node.tpp_client(BP, &tpp);
    let started = Instant::now();
    let (_, status, page) = tokio::time::timeout(Duration::from_secs(20), identify(&client, MARC))
        .await
        .expect("the PSU is answered although the gateway never does");
    let took = started.elapsed();
    assert_eq!(status, 503, "{page}");
    assert!(page.contains("<h1>Service momentanément indisponible</h1>"), "the bank's page: {page}");
    assert_eq!(gateway.calls().len(), 2, "the first attempt and one retry, each given up after its timeout");
    // timeout × (retries + 1) = 2 s, plus the 250 ms pause before the retry.
    assert!(took >= Duration::from_secs(2), "each attempt waited its 1 s timeout: {took:?}");
    assert!(took < Duration::from_secs(6), "the PSU waited about timeout × (retries + 1), not more: {took:?}");
    let logged = logs.lines_with(&["one-time code not delivered", "did not answer within 1 s", &url]);
    assert_eq!(logged.len(), 1, "the failure is logged once, naming the gateway and the timeout");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_code_past_its_lifetime_is_refused_and_never_stored_in_clear() {
    let dir = tempfile::tempdir().unwrap();
    let (gateway, config) = start_gateway(dir.path(), &[]).await;
    // A minute for the code; the journey itself lives ten.
    let (_sandbox, node, tpp) = bank_13807_with(OtpGatewayConfig { code_lifetime_secs: 60, ..config }).await;
    let client = node.tpp_client(BP, &tpp);
    let delivered = |n: usize| {
        let message: serde_json::Value = serde_json::from_str(&gateway.calls()[n].1).unwrap();
        code_in(message["message"].as_str().unwrap())
    };

    // What the bank keeps of a code it sent: nothing the code can be read from.
    let (cookie, status, page) = identify(&client, MARC).await;
    assert_eq!(status, 200, "{page}");
    let code = delivered(0);
    let mut db = <sqlx::AnyConnection as sqlx::Connection>::connect(node.db.url()).await.unwrap();
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT challenge_reference, COALESCE(challenge_destination, ''), context FROM psu_journeys
         WHERE challenge_reference IS NOT NULL",
    )
    .fetch_all(&mut db)
    .await
    .unwrap();
    assert_eq!(rows.len(), 1, "the journey holds its challenge");
    for (reference, destination, context) in &rows {
        assert!(!reference.is_empty() && reference.contains(':'), "salt:hash, {reference}");
        for stored in [reference, destination, context] {
            assert!(!stored.contains(&code), "the code {code} is stored in clear: {stored}");
        }
    }

    // Answered within its minute, the code signs Marc in.
    node.clock.advance(SignedDuration::from_secs(59));
    let in_time = answer_code(&client, &cookie, &page, &code).await;
    assert_eq!(in_time.status(), 302, "a code 59 s old: {}", in_time.text().await.unwrap());

    // Answered after its minute, the right code is refused: the code page again, no redirect.
    let (cookie, status, page) = identify(&client, MARC).await;
    assert_eq!(status, 200, "{page}");
    let code = delivered(1);
    node.clock.advance(SignedDuration::from_secs(61));
    let late = answer_code(&client, &cookie, &page, &code).await;
    assert_eq!(late.status(), 200, "a code 61 s old (code_lifetime_secs = 60) is refused");
    let late = late.text().await.unwrap();
    assert!(first_form(&late).is_some_and(|f| f.fields.iter().any(|(k, _)| k == "csrf")), "the code form: {late}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payments_code_message_names_its_amount_and_payee() {
    let dir = tempfile::tempdir().unwrap();
    let (gateway, config) = start_gateway(dir.path(), &[]).await;
    let (_sandbox, node, tpp) = bank_13807_with(config).await;
    let client = node.tpp_client(BP, &tpp);
    let token: stet_tpp::Tokens = client.pisp_token(ORG).await.unwrap().json().await.unwrap();
    let body = crate::pis::single("sms-1", "42.50", Some("FR7613807008043001965405158"));
    let created = client
        .signed(reqwest::Method::POST, "/stet/psd2/v1.4.2/payment-requests")
        .bearer(&token.access_token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let created: serde_json::Value = created.json().await.unwrap();
    let approval = created["_links"]["consentApproval"]["href"].as_str().unwrap();
    let approval =
        if approval.starts_with("https://") { approval.to_owned() } else { format!("{}{approval}", client.base_url()) };
    let first = client.browse(&approval).await.unwrap();
    assert_eq!(first.status(), 200);
    let cookie = first.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    let form = first_form(&first.text().await.unwrap()).expect("the identification form");
    let mut fields = form.fields.clone();
    fields.extend([("action".into(), "continue".into()), ("psu_id".into(), MARC.into())]);
    let page = client.post_form(&form.action, &cookie, &fields).await.unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();

    let calls = gateway.calls();
    assert_eq!(calls.len(), 1, "the payment's code went through the bank's gateway");
    let message: serde_json::Value = serde_json::from_str(&calls[0].1).unwrap();
    let text = message["message"].as_str().unwrap();
    assert!(text.contains("42.50 EUR"), "the amount the PSU approves is in the message (RTS art. 5): {text}");
    assert!(text.contains("Boulangerie Paul"), "and the payee: {text}");
    let done = answer_code(&client, &cookie, &page, &code_in(text)).await;
    assert_eq!(done.status(), 302, "the code approves this payment: {}", done.text().await.unwrap());
    let location = done.headers()["location"].to_str().unwrap();
    assert!(location.starts_with("https://pisp.example/payment/ok"), "back to the PISP: {location}");
}

#[test]
fn the_guides_gateway_configuration_passes_the_start_up_checks() {
    let dir = tempfile::tempdir().unwrap();
    let file = |name: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, HMAC_KEY).unwrap();
        path.display().to_string()
    };
    let mut block = guide_block();
    for name in ["sms-gateway-ca.pem", "sms-hmac.key", "sms-client.pem", "sms-client.key"] {
        block = block.replace(&format!("/etc/stetgate/{name}"), &file(name));
    }
    let config = crate::harness::load_production_config(dir.path(), &block)
        .unwrap_or_else(|e| panic!("the guide's configuration: {e}"));
    let gateway = &config.otp_gateway[&stet::BankCode::parse("13807").unwrap()];
    assert_eq!((gateway.code_length, gateway.code_lifetime_secs, gateway.retries), (8, 300, 2));
    assert_eq!(gateway.url, "https://sms.bank.example/v1/messages");
}
