//! The sandbox's portal as a TPP developer's browser uses it, driven as plain HTTP: the form that
//! issues test certificates and registers the TPP answers a zip whose certificates work at once;
//! bad input is a page saying what is wrong. (The page itself is drawn in Chromium in browser.rs.)

use crate::harness::{CertSpec, TestApp, TestDb, TestTpp, spawn_app};
use reqwest::{Method, StatusCode};
use std::io::Read as _;

const CE: &str = "www.17515.sandbox.localhost";

async fn post_form(app: &TestApp, fields: &[(&str, &str)]) -> reqwest::Response {
    let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish();
    app.client("localhost")
        .request(Method::POST, "/certificates")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept-language", "en")
        .body(body)
        .send()
        .await
        .unwrap()
}

fn unzip(bytes: &[u8]) -> std::collections::BTreeMap<String, String> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    (0..archive.len())
        .map(|i| {
            let mut file = archive.by_index(i).unwrap();
            let mut text = String::new();
            file.read_to_string(&mut text).unwrap();
            (file.name().unwrap().to_string(), text)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_portal_issues_certificates_that_work_at_once() {
    let app = spawn_app(TestDb::sqlite()).await;
    let fields = [
        ("org_id", "PSDFR-ACPR-24680"),
        ("name", "Portal TPP"),
        ("roles", "PSP_AI"),
        ("roles", "PSP_IC"),
        ("redirect_uri", "https://tpp.example/callback"),
    ];
    let response = post_form(&app, &fields).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/zip");
    let disposition = response.headers()["content-disposition"].to_str().unwrap().to_owned();
    assert!(disposition.contains("PSDFR-ACPR-24680-sandbox.zip"), "{disposition}");
    let files = unzip(&response.bytes().await.unwrap());
    for name in ["qwac.pem", "qwac.key", "qseal.pem", "qseal.key", "ca.pem", "README.txt"] {
        assert!(files.contains_key(name), "{name} in {:?}", files.keys());
    }
    assert!(files["README.txt"].contains("keyId (URL form):"), "{}", files["README.txt"]);
    assert_eq!(files["ca.pem"].as_bytes(), &app.ca_pem[..], "the CA to trust is the sandbox's");

    // Registered: the TPP's signed call passes the QWAC, registration and signature checks and
    // meets the token check.
    let issued =
        |cert: &str, key: &str| eidas::issue::Issued { cert_pem: files[cert].clone(), key_pem: files[key].clone() };
    let tpp = TestTpp {
        org_id: "PSDFR-ACPR-24680".into(),
        qwac: issued("qwac.pem", "qwac.key"),
        qseal: issued("qseal.pem", "qseal.key"),
    };
    let answer = app.tpp_client(CE, &tpp).signed(Method::GET, "/stet/psd2/v1.4.2/accounts").send().await.unwrap();
    assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);
    let error: serde_json::Value = answer.json().await.unwrap();
    assert!(error["error"].as_str().unwrap().contains("access token"), "{error}");
    let registration = app.store.registration(&stet::OrgId::parse("PSDFR-ACPR-24680").unwrap()).await.unwrap().unwrap();
    assert_eq!((registration.client_name.as_str(), registration.redirect_uris.len()), ("Portal TPP", 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_on_the_portal_form_is_a_page_saying_what_is_wrong() {
    let app = spawn_app(TestDb::sqlite()).await;
    for (fields, needle) in [
        (
            vec![("org_id", "not-an-id"), ("roles", "PSP_AI"), ("redirect_uri", "https://tpp.example/cb")],
            "organization id",
        ),
        (vec![("org_id", "PSDFR-ACPR-24680"), ("redirect_uri", "https://tpp.example/cb")], "role"),
        (
            vec![("org_id", "PSDFR-ACPR-24680"), ("roles", "PSP_AI"), ("redirect_uri", "ftp://tpp.example/cb")],
            "redirect",
        ),
    ] {
        let response = post_form(&app, &fields).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{fields:?}");
        assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
        let page = response.text().await.unwrap();
        assert!(page.to_lowercase().contains(needle), "{needle}: {page}");
    }
    assert!(app.store.registration(&stet::OrgId::parse("PSDFR-ACPR-24680").unwrap()).await.unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_form_posted_from_another_site_issues_nothing() {
    let app = spawn_app(TestDb::sqlite()).await;
    let body = "org_id=PSDFR-ACPR-24680&roles=PSP_AI&redirect_uri=https%3A%2F%2Ftpp.example%2Fcb";
    for (name, value) in [("sec-fetch-site", "cross-site"), ("origin", "https://evil.example")] {
        let response = app
            .client("localhost")
            .request(Method::POST, "/certificates")
            .header("content-type", "application/x-www-form-urlencoded")
            .header(name, value)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{name}");
    }
    assert!(app.store.registration(&stet::OrgId::parse("PSDFR-ACPR-24680").unwrap()).await.unwrap().is_none());
}

/// The page's links name the port the browser used (HTTP/2 sends no Host header); a request whose
/// certificate the bank refused is listed under the organization the certificate names.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_portal_links_its_own_port_and_lists_refused_certificates() {
    let app = spawn_app(TestDb::sqlite()).await;
    let expired = app
        .tpp("PSDFR-ACPR-13579", CertSpec { valid_from: -400 * 86_400, valid_until: -86_400, ..CertSpec::default() });
    let refused = app.tpp_client(CE, &expired).signed(Method::GET, "/stet/psd2/v1.4.2/accounts").send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let page = app
        .client("localhost")
        .request(Method::GET, "/?org=PSDFR-ACPR-13579")
        .header("accept-language", "en")
        .send()
        .await
        .unwrap();
    assert_eq!(page.version(), reqwest::Version::HTTP_2);
    let page = page.text().await.unwrap();
    let port = app.addr.port();
    assert!(page.contains(&format!("https://www.13807.sandbox.localhost:{port}/psu/access")), "{page}");
    assert!(page.contains("GET /stet/psd2/v1.4.2/accounts") && page.contains("401"), "{page}");
    assert!(page.to_lowercase().contains("expired") || page.to_lowercase().contains("valid"), "why: {page}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_portal_links_the_guides_and_each_versions_api_reference() {
    let app = spawn_app(TestDb::sqlite()).await;
    let page = app.client("localhost").request(Method::GET, "/").send().await.unwrap().text().await.unwrap();
    let guide = app.client("localhost").request(Method::GET, "/guides/tpp-guide").send().await.unwrap();
    assert_eq!(guide.status(), StatusCode::OK);
    assert_eq!(guide.headers()["content-type"], "text/plain; charset=utf-8");
    assert!(guide.text().await.unwrap().contains("QSealC"), "the TPP guide's own text");
    assert!(page.contains("href=\"/guides/tpp-guide\""), "{page}");
    let missing = app.client("localhost").request(Method::GET, "/guides/..%2FCargo.toml").send().await.unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    for version in stet::ApiVersion::ALL {
        let link = format!(".sandbox.localhost:{}{}/openapi.html", app.addr.port(), version.base_path());
        assert!(page.contains(&link), "{link} in the portal");
        let reference =
            app.client(CE).request(Method::GET, &format!("{}/openapi.html", version.base_path())).send().await.unwrap();
        assert_eq!(reference.status(), StatusCode::OK);
        assert!(reference.text().await.unwrap().contains("accountsGet"));
    }
}
