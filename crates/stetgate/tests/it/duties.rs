//! The regulatory duties over real HTTPS: the fallback (RTS art. 33) from the TPP's token request
//! to the PSU's online banking, and the statistics (RTS art. 32) over a known request history.

use crate::harness::{AppOptions, CertSpec, TestApp, TestDb, TestTpp, db_tests, spawn_app_with};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jiff::Timestamp;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use stetgate::clock::Clock;
use stetgate::config::{ClockTime, Day, FallbackAvailability, FallbackConfig, MaintenanceWindow};

const HOST: &str = "www.17515.sandbox.localhost";
const ORG: &str = "PSDFR-ACPR-12345";

/// `POST /stet/psd2/oauth/token` with `fallback: 1`, as the bank documents it.
async fn fallback_request(
    app: &TestApp,
    tpp: &TestTpp,
    host: &str,
    form: &[(&str, &str)],
    psu_present: bool,
) -> reqwest::Response {
    let mut request =
        app.tpp_client(host, tpp).request(Method::POST, "/stet/psd2/oauth/token").header("fallback", "1").form(form);
    if psu_present {
        request = request.header("PSU-IP-Address", "192.0.2.10");
    }
    request.send().await.unwrap()
}

fn aisp_form(org: &str) -> Vec<(&str, &str)> {
    vec![("client_id", org), ("grant_type", "client_credentials"), ("scope", "aisp")]
}

fn decode_part(part: &str) -> Value {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

/// The PSU's browser, cookies by hand: a client without certificate.
struct Psu {
    client: stet_tpp::TppClient,
    cookie: Option<String>,
}

impl Psu {
    fn new(app: &TestApp, host: &str) -> Psu {
        Psu { client: app.client(host), cookie: None }
    }

    async fn send(
        &mut self,
        method: Method,
        path: &str,
        form: Option<&[(String, String)]>,
    ) -> (StatusCode, reqwest::header::HeaderMap, String) {
        let mut request = self.client.request_without_id(method, path);
        if let Some(cookie) = &self.cookie {
            request = request.header("Cookie", cookie);
        }
        if let Some(form) = form {
            request = request.form(form);
        }
        let response = request.send().await.unwrap();
        if let Some(set) = response.headers().get("set-cookie") {
            self.cookie = Some(set.to_str().unwrap().split(';').next().unwrap().to_owned());
        }
        (response.status(), response.headers().clone(), response.text().await.unwrap())
    }

    /// Submits the page's form with `values` (the CSRF token and other hidden fields kept).
    async fn submit(
        &mut self,
        page: &str,
        values: &[(&str, &str)],
    ) -> (StatusCode, reqwest::header::HeaderMap, String) {
        let form = stet_tpp::pages::first_form(page).unwrap_or_else(|| panic!("no form in {page}"));
        let mut fields = form.fields.clone();
        fields.extend(values.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
        self.send(Method::POST, &form.action, Some(&fields)).await
    }
}

fn path_of(location: &str) -> String {
    let url = url::Url::parse(location).unwrap();
    format!("{}?{}", url.path(), url.query().unwrap_or(""))
}

async fn registered(app: &TestApp, org: &str, spec: CertSpec) -> TestTpp {
    let tpp = app.tpp(org, spec);
    app.register(&tpp).await;
    tpp
}

async fn fallback_from_token_to_online_banking(db: TestDb) {
    let app = spawn_app_with(db, AppOptions::default()).await;
    let tpp = registered(&app, ORG, CertSpec::default()).await;

    // 302 to the bank's online-banking login, carrying the JWT, and nothing else.
    let response = fallback_request(&app, &tpp, HOST, &aisp_form(ORG), true).await;
    assert_eq!(response.status(), StatusCode::FOUND);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(response.text().await.unwrap(), "", "no token in the body");
    let url = url::Url::parse(&location).unwrap();
    assert_eq!(url.host_str(), Some(HOST));
    assert_eq!(url.path(), "/online-banking/login");
    let query: std::collections::HashMap<String, String> = url.query_pairs().into_owned().collect();
    assert_eq!(query["service"], "dei");
    assert_eq!(query["cdetab"], "17515");
    let jwt = query["fallback"].clone();

    // The JWT: RS256 with the bank's kid, naming TPP, bank, scope, an id and a short expiry, and
    // verifying with the published key (checked here with the raw RSA numbers of the JWK set).
    let parts: Vec<&str> = jwt.split('.').collect();
    assert_eq!(parts.len(), 3);
    let (header, claims) = (decode_part(parts[0]), decode_part(parts[1]));
    assert_eq!(header["alg"], "RS256");
    assert_eq!(
        (claims["sub"].as_str(), claims["bank"].as_str(), claims["scope"].as_str()),
        (Some(ORG), Some("17515"), Some("aisp"))
    );
    assert!(!claims["jti"].as_str().unwrap().is_empty());
    let lifetime = claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap();
    assert!((1..=600).contains(&lifetime), "short expiry: {lifetime}s");
    let jwks: Value =
        app.client(HOST).request(Method::GET, "/stet/psd2/fallback/jwks").send().await.unwrap().json().await.unwrap();
    let key = &jwks["keys"][0];
    assert_eq!(key["kid"], header["kid"]);
    let n = URL_SAFE_NO_PAD.decode(key["n"].as_str().unwrap()).unwrap();
    let e = URL_SAFE_NO_PAD.decode(key["e"].as_str().unwrap()).unwrap();
    aws_lc_rs::signature::RsaPublicKeyComponents { n: &n, e: &e }
        .verify(
            &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256,
            format!("{}.{}", parts[0], parts[1]).as_bytes(),
            &URL_SAFE_NO_PAD.decode(parts[2]).unwrap(),
        )
        .expect("signed by the published key");

    // The JWT is no API token.
    let api = app
        .tpp_client(HOST, &tpp)
        .signed(Method::GET, "/stet/psd2/v1.4.2/accounts")
        .bearer(&jwt)
        .header("PSU-IP-Address", "192.0.2.10")
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), StatusCode::UNAUTHORIZED);

    // The PSU: login page, identification, one-time code, accounts, transactions.
    let mut psu = Psu::new(&app, HOST);
    let (status, _, page) = psu.send(Method::GET, &path_of(&location), None).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("psu_id") && page.contains(ORG), "{page}");
    let (status, _, page) = psu.submit(&page, &[("psu_id", "9999999901"), ("action", "continue")]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("otp"), "{page}");
    let (status, headers, _) = psu.submit(&page, &[("otp", "12345678"), ("action", "continue")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers["location"], "/online-banking/accounts");
    let (status, _, accounts) = psu.send(Method::GET, "/online-banking/accounts", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(accounts.contains("FR7617515000920400851811524") && accounts.contains("EUR"), "{accounts}");
    let link = accounts.split("href=\"/online-banking/accounts/").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let (status, _, account) = psu.send(Method::GET, &format!("/online-banking/accounts/{link}"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(account.contains("<td class=\"amount\">"), "transactions listed: {account}");
    // Another browser without the session sees nothing.
    let (status, _, _) = Psu::new(&app, HOST).send(Method::GET, "/online-banking/accounts", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // Signing out ends the session.
    let (status, _, _) = psu.submit(&account, &[("action", "logout")]).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = psu.send(Method::GET, "/online-banking/accounts", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Single use.
    let (status, _, page) = Psu::new(&app, HOST).send(Method::GET, &path_of(&location), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{page}");

    // Expired: the TPP waited too long.
    let response = fallback_request(&app, &tpp, HOST, &aisp_form(ORG), true).await;
    let late = response.headers()["location"].to_str().unwrap().to_owned();
    app.clock.advance(jiff::SignedDuration::from_secs(121));
    let (status, _, _) = Psu::new(&app, HOST).send(Method::GET, &path_of(&late), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Forged: a JWT whose claims were changed does not verify; one of another bank is refused.
    let response = fallback_request(&app, &tpp, HOST, &aisp_form(ORG), true).await;
    let fresh = response.headers()["location"].to_str().unwrap().to_owned();
    let fresh_jwt =
        url::Url::parse(&fresh).unwrap().query_pairs().find(|(k, _)| k == "fallback").unwrap().1.into_owned();
    let p: Vec<&str> = fresh_jwt.split('.').collect();
    let mut forged_claims = decode_part(p[1]);
    forged_claims["sub"] = "PSDFR-ACPR-99999".into();
    let forged = format!("{}.{}.{}", p[0], URL_SAFE_NO_PAD.encode(forged_claims.to_string()), p[2]);
    let (status, _, _) =
        Psu::new(&app, HOST).send(Method::GET, &format!("/online-banking/login?fallback={forged}"), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _, _) = Psu::new(&app, "www.13807.sandbox.localhost")
        .send(Method::GET, &format!("/online-banking/login?fallback={fresh_jwt}"), None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a JWT of 17515 does not open 13807's online banking");

    // The bank's own published request carries no PSU-IP-Address: accepted as published.
    let response = fallback_request(&app, &tpp, HOST, &aisp_form(ORG), false).await;
    assert_eq!(response.status(), StatusCode::FOUND, "{}", response.text().await.unwrap_or_default());

    // Wrong TPP, wrong grant or scope: RFC 6749 errors, no redirect.
    let response = fallback_request(&app, &tpp, HOST, &aisp_form("PSDFR-ACPR-99999"), true).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(response.json::<Value>().await.unwrap()["error"], "invalid_client");
    let form = [("client_id", ORG), ("grant_type", "client_credentials"), ("scope", "cbpii")];
    let response = fallback_request(&app, &tpp, HOST, &form, true).await;
    assert_eq!(response.json::<Value>().await.unwrap()["error"], "invalid_scope");
    let unregistered = app.tpp("PSDFR-ACPR-55555", CertSpec::default());
    let response = fallback_request(&app, &unregistered, HOST, &aisp_form("PSDFR-ACPR-55555"), true).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let no_ai = registered(
        &app,
        "PSDFR-ACPR-66666",
        CertSpec { roles: vec![eidas::psd2::Role::CardIssuing], ..CertSpec::default() },
    )
    .await;
    let response = fallback_request(&app, &no_ai, HOST, &aisp_form("PSDFR-ACPR-66666"), true).await;
    assert_eq!(response.json::<Value>().await.unwrap()["error"], "unauthorized_client");

    // Every use is on record: TPP, time, outcome.
    let events = app.db.store().await.fallback_events(None, jiff::Timestamp::UNIX_EPOCH).await.unwrap();
    let count = |event: &str, outcome: &str| events.iter().filter(|e| e.event == event && e.outcome == outcome).count();
    assert_eq!(count("token", "accepted"), 4);
    assert_eq!(count("token", "refused"), 4, "wrong client, scope, unregistered, no PSP_AI: {events:#?}");
    assert_eq!(count("login", "accepted"), 1);
    // The forged JWT did not verify: counted in the metrics, not recorded as a use.
    assert_eq!(count("login", "refused"), 3, "reused, expired, other bank: {events:#?}");
    assert_eq!(count("sign-in", "accepted"), 1);
    let scope = events.iter().find(|e| e.detail.contains("scope aisp")).expect("the wrong scope is recorded");
    assert_eq!(scope.client_id.as_ref().map(|c| c.as_str()), Some(ORG));
    assert!(scope.at > jiff::Timestamp::UNIX_EPOCH);
    let metrics = app.client(HOST).request(Method::GET, "/metrics").send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("stetgate_fallback_unverified_logins_total{reason=\"bad_signature\"} 1"), "{metrics}");
}

async fn fallback_availability_per_bank(db: TestDb) {
    let mut fallback = FallbackConfig::default();
    fallback.banks.insert(stet::BankCode::parse("17515").unwrap(), FallbackAvailability::WhenUnavailable);
    fallback.banks.insert(stet::BankCode::parse("13807").unwrap(), FallbackAvailability::Off);
    fallback.banks.insert(stet::BankCode::parse("13825").unwrap(), FallbackAvailability::WhenUnavailable);
    // 2026-11-21 is a Saturday; TEST_NOW is 11:00 in Paris: 13825 is in planned maintenance.
    let maintenance = vec![MaintenanceWindow {
        bank: Some(stet::BankCode::parse("13825").unwrap()),
        weekday: Day(jiff::civil::Weekday::Saturday),
        start: ClockTime(jiff::civil::time(10, 0, 0, 0)),
        end: ClockTime(jiff::civil::time(12, 0, 0, 0)),
    }];
    let app = spawn_app_with(db, AppOptions { fallback, maintenance, ..AppOptions::default() }).await;
    let tpp = registered(&app, ORG, CertSpec::default()).await;
    let status = async |host: &str| fallback_request(&app, &tpp, host, &aisp_form(ORG), true).await.status();

    assert_eq!(status(HOST).await, StatusCode::BAD_REQUEST, "available interface: no fallback");
    let store = app.db.store().await;
    let bank = stet::BankCode::parse("17515").unwrap();
    store.start_outage(bank, "core banking unreachable", app.clock.now()).await.unwrap();
    assert_eq!(status(HOST).await, StatusCode::FOUND, "declared unavailable: fallback open");
    app.clock.advance(jiff::SignedDuration::from_mins(30));
    assert!(store.end_outage(bank, app.clock.now()).await.unwrap());
    assert_eq!(status(HOST).await, StatusCode::BAD_REQUEST, "available again");

    assert_eq!(status("www.13807.sandbox.localhost").await, StatusCode::BAD_REQUEST, "never offered");
    app.clock.set("2026-11-21T10:00:00Z".parse().unwrap());
    assert_eq!(status("www.13825.sandbox.localhost").await, StatusCode::FOUND, "planned maintenance: fallback open");
    // ...while the dedicated interface itself is closed.
    let api = app
        .tpp_client("www.13825.sandbox.localhost", &tpp)
        .signed(Method::GET, "/stet/psd2/v1.4.2/accounts")
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), StatusCode::SERVICE_UNAVAILABLE);
}

/// Requests with a known outcome: AIS and funds calls without a token (401), a token request with
/// a wrong grant (400).
async fn history(app: &TestApp, tpp: &TestTpp, at: &str, ais: usize, funds: usize, token: usize) {
    app.clock.set(at.parse::<Timestamp>().unwrap());
    let client = app.tpp_client(HOST, tpp);
    for _ in 0..ais {
        client.signed(Method::GET, "/stet/psd2/v1.4.2/accounts").send().await.unwrap();
    }
    for _ in 0..funds {
        client
            .signed(Method::POST, "/stet/psd2/v1.4.2/funds-confirmations")
            .json(&serde_json::json!({}))
            .send()
            .await
            .unwrap();
    }
    for _ in 0..token {
        client.token_request(&[("client_id", ORG), ("grant_type", "password")]).await.unwrap();
    }
}

fn monday_maintenance() -> Vec<MaintenanceWindow> {
    vec![MaintenanceWindow {
        bank: None,
        weekday: Day(jiff::civil::Weekday::Monday),
        start: ClockTime(jiff::civil::time(0, 0, 0, 0)),
        end: ClockTime(jiff::civil::time(6, 0, 0, 0)),
    }]
}

async fn statistics_over_a_known_history(db: TestDb) {
    // The node runs from the Sunday before: the statistics count from its first heartbeat.
    let options = AppOptions {
        maintenance: monday_maintenance(),
        now: Some("2026-11-15T00:00:00Z".parse().unwrap()),
        ..AppOptions::default()
    };
    let app = spawn_app_with(db, options).await;
    let tpp = registered(&app, ORG, CertSpec { valid_from: -30 * 86_400, ..CertSpec::default() }).await;
    // Monday 2026-11-16: 03:00 Paris is planned maintenance; 11:00 Paris is open.
    history(&app, &tpp, "2026-11-16T02:00:00Z", 2, 0, 0).await;
    history(&app, &tpp, "2026-11-16T10:00:00Z", 3, 2, 1).await;
    // Tuesday: two AIS calls, and an outage declared 14:00-14:30 Paris.
    history(&app, &tpp, "2026-11-17T11:00:00Z", 2, 0, 0).await;
    let store = app.db.store().await;
    let bank = stet::BankCode::parse("17515").unwrap();
    store.start_outage(bank, "ledger down", "2026-11-17T13:00:00Z".parse::<Timestamp>().unwrap()).await.unwrap();
    store.end_outage(bank, "2026-11-17T13:30:00Z".parse::<Timestamp>().unwrap()).await.unwrap();
    app.clock.set("2026-11-18T11:00:00Z".parse().unwrap());

    let public = app.client(HOST);
    let response = public.request(Method::GET, "/stet/psd2/statistics?period=2026Q4").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "public: no certificate");
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
    let report: Value = response.json().await.unwrap();
    assert_eq!(report["bank"], "17515");
    assert_eq!(report["period"]["label"], "2026Q4");
    let day = |date: &str| report["days"].as_array().unwrap().iter().find(|d| d["date"] == date).unwrap().clone();
    let monday = day("2026-11-16");
    assert_eq!(monday["plannedDowntimeSeconds"], 6 * 3600);
    assert_eq!(monday["unplannedDowntimeSeconds"], 0);
    assert_eq!(monday["uptimePercent"], 100.0);
    assert_eq!(monday["plannedMaintenanceRequests"], 2, "refused in the window: planned, not errors");
    assert_eq!(monday["families"]["ais"]["requests"], 3);
    assert_eq!(monday["families"]["ais"]["clientErrors"], 3);
    assert_eq!(monday["families"]["ais"]["serverErrors"], 0);
    assert_eq!(monday["families"]["funds"]["requests"], 2);
    assert_eq!(monday["families"]["authorization"]["requests"], 1);
    for q in ["mean", "p50", "p95", "p99"] {
        assert!(monday["families"]["ais"]["responseTimeMs"][q].as_f64().unwrap() > 0.0, "{q}");
    }
    let p = &monday["families"]["ais"]["responseTimeMs"];
    assert!(p["p50"].as_f64() <= p["p95"].as_f64() && p["p95"].as_f64() <= p["p99"].as_f64());
    let tuesday = day("2026-11-17");
    assert_eq!(tuesday["unplannedDowntimeSeconds"], 1800);
    assert_eq!(tuesday["uptimePercent"], 97.917);
    assert_eq!(tuesday["families"]["ais"]["requests"], 2);
    assert_eq!(report["days"].as_array().unwrap().last().unwrap()["date"], "2026-11-18", "nothing after today");
    assert_eq!(report["total"]["families"]["ais"]["requests"], 5);
    assert_eq!(report["total"]["unplannedDowntimeSeconds"], 1800);
    // Other banks have their own figures.
    let other: Value = app
        .client("www.13807.sandbox.localhost")
        .request(Method::GET, "/stet/psd2/statistics")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(other["total"]["families"]["ais"]["requests"], 0);

    let csv = public.request(Method::GET, "/stet/psd2/statistics?period=2026Q4&format=csv").send().await.unwrap();
    assert!(csv.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let csv = csv.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(
        lines[0].starts_with("bank,period,scope,date,family,requests,server_errors,client_errors,error_rate_percent")
    );
    let row = lines.iter().find(|l| l.starts_with("17515,2026Q4,day,2026-11-16,ais,")).unwrap();
    let cells: Vec<&str> = row.split(',').collect();
    assert_eq!(&cells[5..9], &["3", "0", "3", "0"]);
    assert_eq!(cells[13], "100");
    assert!(lines.iter().any(|l| l.starts_with("17515,2026Q4,period,2026Q4,funds,2,")));

    let html = public
        .request(Method::GET, "/stet/psd2/statistics?period=2026Q4")
        .header("Accept", "text/html")
        .send()
        .await
        .unwrap();
    assert!(html.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let html = html.text().await.unwrap();
    assert_eq!(html.matches("<svg").count(), 3);
    assert!(!html.contains("<script") && !html.contains("src=\"http"), "no script, no external asset");

    let bad = public.request(Method::GET, "/stet/psd2/statistics?period=2026Q5").send().await.unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    assert!(bad.json::<Value>().await.unwrap()["error"].as_str().unwrap().contains("quarter"));
}

async fn statistics_survive_restarts_and_are_shared_by_nodes(db: TestDb) {
    let first = spawn_app_with(db, AppOptions::default()).await;
    let tpp = registered(&first, ORG, CertSpec::default()).await;
    history(&first, &tpp, "2026-11-21T10:00:00Z", 4, 0, 0).await;
    let second = crate::harness::spawn_second_node(&first).await;
    drop(first); // shuts down, writing its records
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let report: Value = second
            .client(HOST)
            .request(Method::GET, "/stet/psd2/statistics")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if report["total"]["families"]["ais"]["requests"] == 4 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the first node's records never arrived: {report}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Anyone can open the fallback's login page: without a JWT the bank signed it writes nothing, and
/// each address may open it a limited number of times a minute (the authorization's first page too).
async fn anonymous_fallback_logins_write_nothing_and_are_limited(db: TestDb) {
    let connections = stetgate::config::ConnectionLimits { pages_per_address_per_minute: 20, ..Default::default() };
    let app = spawn_app_with(db, AppOptions { connections, ..AppOptions::default() }).await;
    let mut psu = Psu::new(&app, HOST);
    for i in 0..20 {
        let path = if i % 2 == 0 {
            "/online-banking/login".to_owned()
        } else {
            format!("/online-banking/login?fallback=x.{i}.y")
        };
        let (status, _, _) = psu.send(Method::GET, &path, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let (status, headers, page) = psu.send(Method::GET, "/online-banking/login?fallback=more", None).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{page}");
    assert!(headers.contains_key("retry-after") && page.contains("<html"), "an HTML page saying when to retry");
    let authorize = "/stet/psd2/oauth/authorize?response_type=code&client_id=PSDFR-ACPR-12345&scope=aisp";
    let (status, _, _) = psu.send(Method::GET, authorize, None).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "the same budget covers the authorization's first page");
    app.clock.advance(jiff::SignedDuration::from_secs(60));
    let (status, _, _) = psu.send(Method::GET, "/online-banking/login", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a new minute, a new budget");
    let events = app.db.store().await.fallback_events(None, jiff::Timestamp::UNIX_EPOCH).await.unwrap();
    assert!(events.is_empty(), "no row for anonymous noise: {events:#?}");
}

db_tests!(
    anonymous_fallback_logins_write_nothing_and_are_limited,
    fallback_from_token_to_online_banking,
    fallback_availability_per_bank,
    statistics_over_a_known_history,
    statistics_survive_restarts_and_are_shared_by_nodes
);
