//! The sandbox's portal as a TPP developer's browser uses it, driven as plain HTTP: the form that
//! issues test certificates and registers the TPP answers a zip whose certificates work at once;
//! bad input is a page saying what is wrong; the personas' balances are the ledger's of the moment;
//! French or English after Accept-Language; nothing loaded from another host. (The page itself is
//! drawn in Chromium in browser.rs.)

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

/// The portal's page as a browser asking for `language` gets it.
async fn portal_page(app: &TestApp, language: Option<&str>) -> String {
    let mut request = app.client("localhost").request(Method::GET, "/");
    if let Some(language) = language {
        request = request.header("accept-language", language);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.text().await.unwrap()
}

/// The row of the personas' table that shows account `resource_id`.
fn account_row<'a>(page: &'a str, resource_id: &str) -> &'a str {
    let at = page.find(resource_id).unwrap_or_else(|| panic!("{resource_id} on the portal: {page}"));
    let start = page[..at].rfind("<tr>").unwrap();
    let end = at + page[at..].find("</tr>").unwrap();
    &page[start..end]
}

/// The personas' balances are the ledger's at the moment the page is drawn: a balance the bank
/// changes shows on the next load.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_personas_balances_are_read_live_from_the_ledger() {
    let app = spawn_app(TestDb::sqlite()).await;
    let before = portal_page(&app, Some("en")).await;
    assert!(!account_row(&before, "138070080430019654051").contains("1234567.89"), "{before}");
    let mut connection = <sqlx::AnyConnection as sqlx::Connection>::connect(app.db.url()).await.unwrap();
    sqlx::query("UPDATE accounts SET booked_balance_minor = 123456789 WHERE iban = $1")
        .bind("FR7613807008043001965405158")
        .execute(&mut connection)
        .await
        .unwrap();
    let after = portal_page(&app, Some("en")).await;
    let row = account_row(&after, "138070080430019654051");
    assert!(row.contains("1234567.89 EUR"), "Marc's first account shows the new booked balance: {row}");
}

/// French or English after `Accept-Language` (French when nothing says otherwise, as the bank's
/// own pages): the page's language and its words.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_portal_speaks_french_or_english_after_accept_language() {
    let app = spawn_app(TestDb::sqlite()).await;
    for (language, lang, words) in [
        (Some("en-GB,en;q=0.9"), "en", ["stetgate sandbox", "Booked balance", "Test certificates"]),
        (Some("fr-FR,fr;q=0.9,en;q=0.8"), "fr", ["Bac à sable stetgate", "Solde comptable", "Certificats de test"]),
        (Some("de-DE,en;q=0.5,fr;q=0.7"), "fr", ["Bac à sable stetgate", "Solde comptable", "Certificats de test"]),
        (Some("de-DE,fr;q=0.5,en;q=0.7"), "en", ["stetgate sandbox", "Booked balance", "Test certificates"]),
        (None, "fr", ["Bac à sable stetgate", "Solde comptable", "Certificats de test"]),
    ] {
        let page = portal_page(&app, language).await;
        assert!(page.contains(&format!("<html lang=\"{lang}\">")), "{language:?}: {page}");
        for word in words {
            assert!(page.contains(word), "{language:?}: {word}");
        }
    }
}

/// What a page makes the browser load from another host: every `src`, `<link>`, CSS `url(...)`
/// and `@import` naming an absolute or protocol-relative URL.
fn external_resources(page: &str) -> Vec<String> {
    let mut found = Vec::new();
    let lower = page.to_ascii_lowercase();
    for marker in ["src=", "url(", "@import"] {
        for (at, _) in lower.match_indices(marker) {
            let end = at + lower[at..].find(['>', ')', ';']).unwrap_or(lower.len() - at);
            found.push(page[at..end].to_owned());
        }
    }
    for (at, _) in lower.match_indices("<link") {
        let end = at + lower[at..].find('>').unwrap_or(lower.len() - at);
        found.push(page[at..end].to_owned());
    }
    found.retain(|r| r.contains("//"));
    found
}

/// The portal, its error page and the API reference it links load nothing from another host: no
/// script, no image, stylesheet or font from another host (a developer's browser behind a
/// corporate proxy, or offline, sees the whole page). Its links stay on the sandbox's hosts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_portal_pages_load_no_external_resource() {
    let app = spawn_app(TestDb::sqlite()).await;
    let mut pages = vec![("portal".to_owned(), portal_page(&app, Some("en")).await)];
    pages.push(("portal in French".to_owned(), portal_page(&app, None).await));
    let refused = post_form(&app, &[("org_id", "not-an-id"), ("roles", "PSP_AI")]).await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    pages.push(("the form's error page".to_owned(), refused.text().await.unwrap()));
    for version in stet::ApiVersion::ALL {
        let path = format!("{}/openapi.html", version.base_path());
        let reference = app.client(CE).request(Method::GET, &path).send().await.unwrap();
        assert_eq!(reference.status(), StatusCode::OK);
        pages.push((path, reference.text().await.unwrap()));
    }
    for (name, page) in &pages {
        assert!(page.len() > 500, "{name}: a real page");
        assert!(!page.to_ascii_lowercase().contains("<script"), "{name}: no script");
        let loaded = external_resources(page);
        assert!(loaded.is_empty(), "{name} loads {loaded:#?}");
    }
    let portal = &pages[0].1;
    for (at, _) in portal.match_indices("href=\"http") {
        let url = &portal[at + 6..];
        let url = &url[..url.find('"').unwrap()];
        let host = url::Url::parse(url).unwrap().host_str().unwrap().to_owned();
        assert!(host == "localhost" || host.ends_with(".sandbox.localhost"), "a link off the sandbox: {url}");
    }
}
