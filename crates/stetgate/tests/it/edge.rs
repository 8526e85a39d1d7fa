//! The STET edge conventions over real TLS: bank routing by Host, X-Request-ID, the ErrorModel on
//! every error, 404/405/406, HTTP/1.1 and HTTP/2, TLS 1.2 and 1.3, optional client certificates.

use crate::harness::{AppOptions, CertSpec, TestApp, TestDb, db_tests, spawn_app, spawn_app_with};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use stet_tpp::{HttpVersion, TlsVersions};

const X_REQUEST_ID: &str = "x-request-id";

/// Asserts a response is a STET ErrorModel for `status`, on `path`, and returns its body.
async fn assert_error_model(response: reqwest::Response, status: StatusCode, path: &str) -> Value {
    assert_eq!(response.status(), status);
    assert_eq!(
        response.headers().get("content-type").and_then(|v| v.to_str().ok()),
        Some("application/hal+json; charset=utf-8"),
        "errors are HAL+JSON"
    );
    let body: Value = response.json().await.expect("an ErrorModel JSON body");
    assert_eq!(body["status"], status.as_u16(), "status repeated in the body: {body}");
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "message is required: {body}");
    assert!(body["error"].as_str().is_some_and(|m| m.len() > 10), "error explains: {body}");
    assert_eq!(body["path"], path, "{body}");
    assert!(
        body["timestamp"].as_str().is_some_and(|t| t.starts_with("2026-11-21T10:00:00")),
        "timestamp from the clock: {body}"
    );
    body
}

async fn aspsp_bank(app: &TestApp, host: &str) -> String {
    let response = app.client(host).request(Method::GET, "/stet/psd2/aspsp").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    body["aspsp"]["bankCode"].as_str().unwrap().to_owned()
}

async fn bank_routing_by_host(db: TestDb) {
    let app = spawn_app(db).await;
    assert_eq!(aspsp_bank(&app, "www.17515.sandbox.localhost").await, "17515");
    assert_eq!(aspsp_bank(&app, "www.13807.sandbox.localhost").await, "13807", "the code in the host selects the bank");
    assert_eq!(aspsp_bank(&app, "localhost").await, "17515", "no code in the host: the default bank");

    // A bank code this deployment does not serve. The server certificate cannot name every code,
    // so the request goes to localhost with the unknown bank's Host header (HTTP/1.1).
    let client = app.client_with("localhost", HttpVersion::Http1Only, TlsVersions::Any);
    let response = client
        .request_without_id(Method::GET, "/stet/psd2/v1.4.2/accounts")
        .header("host", "www.99999.sandbox.localhost")
        .header(X_REQUEST_ID, "unknown-bank")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()[X_REQUEST_ID], "unknown-bank");
    let body = assert_error_model(response, StatusCode::NOT_FOUND, "/stet/psd2/v1.4.2/accounts").await;
    assert!(body["error"].as_str().unwrap().contains("99999"), "the error names the bank code: {body}");

    // The sandbox also answers the unknown bank's own host name, with a certificate its CA issues
    // on demand, so the 404 is what a TPP sees rather than a TLS name mismatch.
    for host in ["www.99999.sandbox.localhost", "www.12345.sandbox.localhost"] {
        let response = app.client(host).request(Method::GET, "/stet/psd2/v1.6.2/accounts").send().await.unwrap();
        assert_error_model(response, StatusCode::NOT_FOUND, "/stet/psd2/v1.6.2/accounts").await;
    }
}

async fn another_default_bank(db: TestDb) {
    let app = spawn_app_with(db, AppOptions { default_bank: "13807", ..AppOptions::default() }).await;
    assert_eq!(aspsp_bank(&app, "localhost").await, "13807");
    assert_eq!(aspsp_bank(&app, "www.17515.sandbox.localhost").await, "17515");
}

async fn request_id_is_echoed_on_success_and_every_error(db: TestDb) {
    let app = spawn_app_with(db, AppOptions { max_body_bytes: 64, ..AppOptions::default() }).await;
    let client = app.client("www.17515.sandbox.localhost");
    let cases: Vec<(&str, reqwest::RequestBuilder, StatusCode)> = vec![
        ("success", client.request_without_id(Method::GET, "/stet/psd2/aspsp"), StatusCode::OK),
        ("401", client.request_without_id(Method::GET, "/stet/psd2/v1.4.2/accounts"), StatusCode::UNAUTHORIZED),
        ("404 path", client.request_without_id(Method::GET, "/stet/psd2/v1.4.2/no-such-thing"), StatusCode::NOT_FOUND),
        ("404 outside", client.request_without_id(Method::GET, "/nothing-here"), StatusCode::NOT_FOUND),
        (
            "405",
            client.request_without_id(Method::DELETE, "/stet/psd2/v1.4.2/consents"),
            StatusCode::METHOD_NOT_ALLOWED,
        ),
        (
            "406",
            client.request_without_id(Method::GET, "/stet/psd2/v1.6.2/accounts").header("accept", "text/html"),
            StatusCode::NOT_ACCEPTABLE,
        ),
        (
            "413",
            client.request_without_id(Method::PUT, "/stet/psd2/v1.4.2/consents").body(vec![b'x'; 65]),
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
        (
            "400 invalid id",
            client.request_without_id(Method::GET, "/stet/psd2/v1.4.2/accounts"),
            StatusCode::BAD_REQUEST,
        ),
    ];
    for (name, request, status) in cases {
        let id = if name == "400 invalid id" { "x".repeat(71) } else { format!("req-{}", name.replace(' ', "-")) };
        let response = request.header(X_REQUEST_ID, &id).send().await.unwrap();
        assert_eq!(response.status(), status, "{name}");
        assert_eq!(
            response.headers().get(X_REQUEST_ID).map(|v| v.to_str().unwrap()),
            Some(id.as_str()),
            "{name}: echoed"
        );
    }
}

async fn missing_request_id_is_400(db: TestDb) {
    let app = spawn_app(db).await;
    for (method, path) in [
        (Method::GET, "/stet/psd2/v1/accounts"),
        (Method::GET, "/stet/psd2/v1.4.2/end-user-identity"),
        (Method::POST, "/stet/psd2/v1.6.2/funds-confirmations"),
    ] {
        let response = app.client("localhost").request_without_id(method, path).send().await.unwrap();
        assert!(response.headers().get(X_REQUEST_ID).is_none());
        let body = assert_error_model(response, StatusCode::BAD_REQUEST, path).await;
        assert!(body["error"].as_str().unwrap().contains("X-Request-ID"), "{body}");
    }
}

async fn not_found_method_not_allowed_not_acceptable(db: TestDb) {
    let app = spawn_app(db).await;
    let client = app.client("www.13807.sandbox.localhost");

    let response = client.request(Method::GET, "/stet/psd2/v1.4.2/payments").send().await.unwrap();
    assert_error_model(response, StatusCode::NOT_FOUND, "/stet/psd2/v1.4.2/payments").await;
    // A resource of a later version is unknown in an earlier one.
    let response = client.request(Method::GET, "/stet/psd2/v1.4.2/accounts/abc/overdrafts").send().await.unwrap();
    assert_error_model(response, StatusCode::NOT_FOUND, "/stet/psd2/v1.4.2/accounts/abc/overdrafts").await;
    let response = client.request(Method::GET, "/stet/psd2/v9/accounts").send().await.unwrap();
    assert_error_model(response, StatusCode::NOT_FOUND, "/stet/psd2/v9/accounts").await;

    let response = client.request(Method::POST, "/stet/psd2/v1.6.2/accounts").send().await.unwrap();
    let allow = response.headers().get("allow").map(|v| v.to_str().unwrap().to_owned()).expect("405 carries Allow");
    assert!(allow.contains("GET") && !allow.contains("POST"), "Allow: {allow}");
    assert_error_model(response, StatusCode::METHOD_NOT_ALLOWED, "/stet/psd2/v1.6.2/accounts").await;
    let response = client.request(Method::GET, "/stet/psd2/v1/funds-confirmations").send().await.unwrap();
    assert_eq!(response.headers()["allow"], "POST");
    assert_error_model(response, StatusCode::METHOD_NOT_ALLOWED, "/stet/psd2/v1/funds-confirmations").await;

    for accept in ["text/html", "application/xml, text/*", "application/json;q=0"] {
        let response =
            client.request(Method::GET, "/stet/psd2/v1.4.2/accounts").header("accept", accept).send().await.unwrap();
        assert_error_model(response, StatusCode::NOT_ACCEPTABLE, "/stet/psd2/v1.4.2/accounts").await;
    }
    for accept in ["application/hal+json", "application/json", "*/*", "text/html, application/*;q=0.1"] {
        let response =
            client.request(Method::GET, "/stet/psd2/v1.4.2/accounts").header("accept", accept).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{accept} is acceptable; the token is what is missing");
    }
}

async fn resources_need_an_access_token(db: TestDb) {
    let app = spawn_app(db).await;
    let tpp = app.tpp("PSDFR-ACPR-12345", CertSpec::default());
    app.register(&tpp).await;
    let client = app.tpp_client("www.17515.sandbox.localhost", &tpp);
    let response = client.signed(Method::GET, "/stet/psd2/v1.4.2/accounts").send().await.unwrap();
    assert_eq!(response.headers()["www-authenticate"], "Bearer");
    assert_error_model(response, StatusCode::UNAUTHORIZED, "/stet/psd2/v1.4.2/accounts").await;
    let response =
        client.signed(Method::GET, "/stet/psd2/v1.4.2/accounts").bearer("made-up-token").send().await.unwrap();
    assert_eq!(response.headers()["www-authenticate"], "Bearer error=\"invalid_token\"");
    let body = assert_error_model(response, StatusCode::UNAUTHORIZED, "/stet/psd2/v1.4.2/accounts").await;
    assert_eq!(body["message"], "invalid_token", "the bank's published code for a bad token");
}

/// Every answer (success, error, page) carries HSTS and nosniff; a huge invalid X-Request-ID is
/// refused without being echoed back.
async fn every_answer_is_hardened_and_a_huge_request_id_is_not_echoed(db: TestDb) {
    let app = spawn_app(db).await;
    let client = app.client("www.17515.sandbox.localhost");
    for path in ["/stet/psd2/aspsp", "/stet/psd2/v1.4.2/accounts", "/nowhere", "/stet/psd2/oauth/authorize"] {
        let response = client.request(Method::GET, path).send().await.unwrap();
        assert_eq!(response.headers()["strict-transport-security"], "max-age=31536000", "{path}");
        assert_eq!(response.headers()["x-content-type-options"], "nosniff", "{path}");
    }
    let huge = "x".repeat(8_000);
    let response = client
        .request_without_id(Method::GET, "/stet/psd2/v1.4.2/accounts")
        .header(X_REQUEST_ID, &huge)
        .send()
        .await
        .unwrap();
    assert!(response.headers().get(X_REQUEST_ID).is_none(), "an 8 KB id is not echoed");
    assert_error_model(response, StatusCode::BAD_REQUEST, "/stet/psd2/v1.4.2/accounts").await;
}

db_tests!(
    every_answer_is_hardened_and_a_huge_request_id_is_not_echoed,
    bank_routing_by_host,
    another_default_bank,
    request_id_is_echoed_on_success_and_every_error,
    missing_request_id_is_400,
    not_found_method_not_allowed_not_acceptable,
    resources_need_an_access_token,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http1_http2_tls12_tls13() {
    let app = spawn_app(TestDb::sqlite()).await;
    for (http, tls, version) in [
        (HttpVersion::Negotiate, TlsVersions::Only13, reqwest::Version::HTTP_2),
        (HttpVersion::Negotiate, TlsVersions::Only12, reqwest::Version::HTTP_2),
        (HttpVersion::Http1Only, TlsVersions::Only13, reqwest::Version::HTTP_11),
        (HttpVersion::Http1Only, TlsVersions::Only12, reqwest::Version::HTTP_11),
    ] {
        let client = app.client_with("www.17515.sandbox.localhost", http, tls);
        let response = client.request(Method::GET, "/stet/psd2/aspsp").send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{http:?} {tls:?}");
        assert_eq!(response.version(), version, "{http:?} {tls:?}");
    }
}

/// The client certificate reaches handlers through the real accept loop; a client without one is
/// served too (the PSU's browser has none).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_certificate_is_optional_and_reaches_handlers() {
    use axum::routing::get;
    use axum::{Extension, Router};
    use stetgate::edge::listener::{Listener, serve};
    use stetgate::edge::tls::{
        ConnectionInfo, FixedCertificate, certified_key, read_certificates, server_config, trust_anchor_store,
    };

    let dir = tempfile::tempdir().unwrap();
    let ca = eidas::issue::TestCa::generate("test QTSP", "tests", 1).unwrap();
    let server = ca.issue_server("server", &["localhost".to_owned()], 1).unwrap();
    // A client certificate from an unrelated CA: the handshake accepts it, the application judges.
    let other_ca = eidas::issue::TestCa::generate("another QTSP", "elsewhere", 1).unwrap();
    let client_cert = other_ca.issue_server("PSDFR-ACPR-12345", &["tpp.example".to_owned()], 1).unwrap();
    for (name, text) in
        [("ca.pem", &ca.root().cert_pem), ("server.pem", &server.cert_pem), ("server.key", &server.key_pem)]
    {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let anchors = trust_anchor_store(&[&dir.path().join("ca.pem")]).unwrap();
    let chain = read_certificates(&dir.path().join("server.pem")).unwrap();
    let identity = certified_key(chain, &dir.path().join("server.key")).unwrap();
    let tls = server_config(std::sync::Arc::new(FixedCertificate(identity)), &anchors).unwrap();

    let router = Router::new().route(
        "/who",
        get(|Extension(info): Extension<ConnectionInfo>| async move {
            match info.client_chain {
                Some(chain) => eidas::issue::inspect_der(&chain[0]).map(|s| s.subject).unwrap_or_default(),
                None => "no certificate".to_owned(),
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let listener = Listener {
        tcp: listener,
        tls: std::sync::Arc::new(tls),
        router,
        refusal: Router::new(),
        limits: stetgate::config::ConnectionLimits::default(),
        proxy_protocol_from: Vec::new(),
    };
    let task = tokio::spawn(serve(
        listener,
        async {
            let _ = rx.await;
        },
        std::time::Duration::from_secs(1),
    ));

    let mut config =
        stet_tpp::ClientConfig::new(format!("https://localhost:{}", addr.port()), ca.root().cert_pem.clone());
    config.resolve = Some(("localhost".into(), addr));
    let anonymous = stet_tpp::TppClient::new(config.clone()).unwrap();
    assert_eq!(anonymous.request(Method::GET, "/who").send().await.unwrap().text().await.unwrap(), "no certificate");
    config.qwac = Some((client_cert.cert_pem.into_bytes(), client_cert.key_pem.into_bytes()));
    let tpp = stet_tpp::TppClient::new(config).unwrap();
    let subject = tpp.request(Method::GET, "/who").send().await.unwrap().text().await.unwrap();
    assert!(subject.contains("PSDFR-ACPR-12345"), "the handler sees the client's certificate: {subject}");
    let _ = tx.send(());
    task.await.unwrap();
}

/// A deprecated version carries Deprecation, Sunset and a Link to its successor; after its sunset it
/// answers 410 naming the replacement; other versions are untouched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_version_deprecation_and_sunset() {
    use stetgate::config::VersionLifecycle;
    let now: jiff::Timestamp = crate::harness::TEST_NOW.parse().unwrap();
    let mut api_versions = std::collections::BTreeMap::new();
    api_versions.insert(
        stet::ApiVersion::V1_4_2,
        VersionLifecycle {
            deprecated: Some("2026-06-01T00:00:00Z".parse().unwrap()),
            sunset: Some(now.checked_add(jiff::SignedDuration::from_hours(24 * 30)).unwrap()),
            successor: Some(stet::ApiVersion::V1_6_2),
        },
    );
    let app = spawn_app_with(TestDb::sqlite(), AppOptions { api_versions, ..AppOptions::default() }).await;
    let client = app.client("www.17515.sandbox.localhost");

    let response = client.request(Method::GET, "/stet/psd2/v1.4.2/accounts").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "served as usual until the sunset");
    assert_eq!(
        response.headers()["deprecation"],
        format!("@{}", jiff::Timestamp::from_second(1_780_272_000).unwrap().as_second())
    );
    assert_eq!(response.headers()["sunset"], "Mon, 21 Dec 2026 10:00:00 GMT");
    assert_eq!(response.headers()["link"], "</stet/psd2/v1.6.2>; rel=\"successor-version\"");
    let other = client.request(Method::GET, "/stet/psd2/v1.6.2/accounts").send().await.unwrap();
    assert!(other.headers().get("deprecation").is_none() && other.headers().get("sunset").is_none());

    app.clock.advance(jiff::SignedDuration::from_hours(24 * 30));
    for path in ["/stet/psd2/v1.4.2/accounts", "/stet/psd2/v1.4.2/anything"] {
        let response = client.request(Method::GET, path).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::GONE, "{path}");
        assert_eq!(response.headers()["link"], "</stet/psd2/v1.6.2>; rel=\"successor-version\"");
        let body: Value = response.json().await.unwrap();
        assert_eq!((body["status"].as_u64(), body["path"].as_str()), (Some(410), Some(path)));
        assert!(body["error"].as_str().unwrap().contains("/stet/psd2/v1.6.2"), "names the replacement: {body}");
    }
    assert_eq!(
        client.request(Method::GET, "/stet/psd2/v1.6.2/accounts").send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
}

/// Brand hosts reach their bank, and each bank serves its own App2App files.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn app2app_files_per_brand_host() {
    use stetgate::config::App2AppConfig;
    let mut app2app = std::collections::BTreeMap::new();
    app2app.insert(
        stet::BankCode::parse("17515").unwrap(),
        App2AppConfig {
            apple_app_ids: vec!["ABCDE12345.fr.caisse-epargne.banque".into()],
            android_package: Some("fr.caisseepargne.android.mobilebanking".into()),
            android_sha256_fingerprints: vec!["AA:BB:CC".into()],
        },
    );
    app2app.insert(
        stet::BankCode::parse("13807").unwrap(),
        App2AppConfig {
            apple_app_ids: vec!["FGHIJ67890.fr.banquepopulaire.cyberplus".into()],
            ..App2AppConfig::default()
        },
    );
    let app = spawn_app_with(TestDb::sqlite(), AppOptions { app2app, ..AppOptions::default() }).await;
    // Brand hosts are not in the sandbox certificate: HTTP/1.1 to localhost with the brand's Host.
    let client = app.client_with("localhost", HttpVersion::Http1Only, TlsVersions::Any);
    let get = |host: &'static str, path: &'static str| client.request(Method::GET, path).header("host", host).send();

    let aasa: Value = get("www.17515.live.api.caisse-epargne.fr", "/.well-known/apple-app-site-association")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(aasa["applinks"]["details"][0]["appIDs"][0], "ABCDE12345.fr.caisse-epargne.banque");
    assert_eq!(aasa["applinks"]["details"][0]["paths"][0], "/stet/psd2/oauth/authorize*");
    let links: Value = get("www.17515.live.api.caisse-epargne.fr", "/.well-known/assetlinks.json")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(links[0]["target"]["package_name"], "fr.caisseepargne.android.mobilebanking");
    let bp: Value = get("www.13807.live.api.banquepopulaire.fr", "/.well-known/apple-app-site-association")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        bp["applinks"]["details"][0]["appIDs"][0], "FGHIJ67890.fr.banquepopulaire.cyberplus",
        "each bank its own apps"
    );
    assert_eq!(
        get("www.13807.live.api.banquepopulaire.fr", "/.well-known/assetlinks.json").await.unwrap().status(),
        StatusCode::NOT_FOUND,
        "no Android app configured"
    );
    assert_eq!(
        get("www.30258.live.api.btp-banque.fr", "/.well-known/apple-app-site-association").await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    // Over HTTP/2 the host travels as :authority, not Host: still the right bank.
    let h2 = app.client_with("www.13807.sandbox.localhost", HttpVersion::Negotiate, TlsVersions::Any);
    let response = h2.request(Method::GET, "/.well-known/apple-app-site-association").send().await.unwrap();
    assert_eq!(response.version(), reqwest::Version::HTTP_2);
    let over_h2: Value = response.json().await.unwrap();
    assert_eq!(over_h2["applinks"]["details"][0]["appIDs"][0], "FGHIJ67890.fr.banquepopulaire.cyberplus");
    // The brand host routes to its bank for the API too.
    let aspsp: Value =
        get("www.13807.live.api.banquepopulaire.fr", "/stet/psd2/aspsp").await.unwrap().json().await.unwrap();
    assert_eq!(aspsp["aspsp"]["bankCode"], "13807");
}

/// The bank's Monday 00:00-06:00 (Paris) maintenance: 503 with Retry-After on TPP routes, a page for
/// the PSU, the other banks untouched, and Paris time kept across daylight-saving changes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn planned_maintenance_windows() {
    use stetgate::config::{ClockTime, Day, MaintenanceWindow};
    let window = MaintenanceWindow {
        bank: Some(stet::BankCode::parse("17515").unwrap()),
        weekday: Day(jiff::civil::Weekday::Monday),
        start: ClockTime(jiff::civil::time(0, 0, 0, 0)),
        end: ClockTime(jiff::civil::time(6, 0, 0, 0)),
    };
    let app = spawn_app_with(TestDb::sqlite(), AppOptions { maintenance: vec![window], ..AppOptions::default() }).await;
    let ce = app.client("www.17515.sandbox.localhost");
    let bp = app.client("www.13807.sandbox.localhost");
    // (UTC instant, in the window?, seconds to its end): winter, summer, and the Mondays right after
    // each daylight-saving change.
    for (at, inside, retry_after) in [
        ("2026-11-22T23:30:00Z", true, 19_800), // Mon 23 Nov 00:30 CET
        ("2026-11-23T04:59:00Z", true, 60),     // 05:59 CET
        ("2026-11-23T05:00:00Z", false, 0),     // 06:00 CET: over
        ("2026-11-22T22:59:00Z", false, 0),     // Sunday 23:59 CET
        ("2027-06-06T22:30:00Z", true, 19_800), // Mon 7 Jun 00:30 CEST
        ("2027-03-28T22:30:00Z", true, 19_800), // Mon 29 Mar 00:30 CEST, the day after the spring change
        ("2026-10-25T23:30:00Z", true, 19_800), // Mon 26 Oct 00:30 CET, the day after the autumn change
    ] {
        app.clock.set(at.parse::<jiff::Timestamp>().unwrap());
        let response = ce.request(Method::GET, "/stet/psd2/v1.4.2/accounts").send().await.unwrap();
        if inside {
            assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE, "{at}");
            assert_eq!(response.headers()["retry-after"], retry_after.to_string().as_str(), "{at}");
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["status"], 503);
            assert!(body["error"].as_str().unwrap().contains("planned maintenance"), "{body}");
            let page =
                ce.request_without_id(Method::GET, "/stet/psd2/oauth/authorize?client_id=x").send().await.unwrap();
            assert_eq!(page.status(), StatusCode::SERVICE_UNAVAILABLE);
            assert!(page.text().await.unwrap().contains("maintenance programmée"), "the PSU sees a page");
        } else {
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{at}: served as usual");
        }
        assert_eq!(
            bp.request(Method::GET, "/stet/psd2/v1.4.2/accounts").send().await.unwrap().status(),
            StatusCode::UNAUTHORIZED,
            "{at}: another bank"
        );
        assert_eq!(
            ce.request(Method::GET, "/healthz").send().await.unwrap().status(),
            StatusCode::OK,
            "operations endpoints stay up"
        );
    }
}

/// A refusal given before the request body mattered (here 405 and 404) still reads the body, so
/// an HTTP/1.1 client finishes sending it and keeps its connection; a body over the limit cannot
/// be read, and the answer says the connection closes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusal_reads_the_unread_body_or_closes_the_connection() {
    let app = spawn_app(TestDb::sqlite()).await;
    let client = app.client_with("www.13807.sandbox.localhost", HttpVersion::Http1Only, TlsVersions::Any);
    let body = vec![b'x'; 200_000];
    for (method, path) in [(Method::PUT, "/stet/psd2/v1/payment-requests/PR1"), (Method::POST, "/nothing")] {
        let response = client.request(method, path).body(body.clone()).send().await.unwrap();
        assert!(response.status().is_client_error());
        assert!(response.headers().get("connection").is_none(), "{path}: the body was read, the connection stays");
    }
    let response = client.request(Method::GET, "/healthz").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers().get("connection").is_none(), "no body: nothing to read, the connection stays");
    // Over the limit the server stops reading: the client meets the closed connection either in
    // the answer's `Connection: close` or, still sending, as a broken pipe.
    let over = vec![b'x'; 3 * 1024 * 1024];
    match client.request(Method::POST, "/nothing").body(over).send().await {
        Ok(response) => {
            assert_eq!(response.status(), StatusCode::NOT_FOUND);
            assert_eq!(response.headers().get("connection").map(|v| v.to_str().unwrap()), Some("close"));
        }
        Err(e) => assert!(e.is_request(), "{e}"),
    }
}
