//! The PSU's journey in the bank's pages, once for the authorization and the fallback: one attempt
//! limit counted atomically (simultaneous wrong codes all count), a lock per PSU across journeys
//! and purposes, the same page for a known and an unknown id.

use crate::harness::{CertSpec, TestApp, TestDb, TestTpp, db_tests, spawn_app};
use reqwest::{Method, StatusCode};
use stet_tpp::TppClient;
use stet_tpp::pages::first_form;

const HOST: &str = "www.17515.sandbox.localhost";
const ORG: &str = "PSDFR-ACPR-12345";
const LEA: &str = "9999999901";
const CALLBACK: &str = crate::harness::CALLBACK;

/// A browser on the bank's pages: its cookie and the last page.
struct Browser {
    client: TppClient,
    cookie: String,
    page: String,
}

impl Browser {
    async fn open(app: &TestApp, path: &str) -> Browser {
        let client = app.client(HOST);
        let response = client.request_without_id(Method::GET, path).send().await.unwrap();
        let cookie = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok()?.split(';').next().map(str::to_owned))
            .collect::<Vec<_>>()
            .join("; ");
        let page = response.text().await.unwrap();
        Browser { client, cookie, page }
    }

    /// Posts the current page's form with `fields`: the status and the answer.
    async fn post(&self, fields: &[(&str, &str)]) -> (StatusCode, String) {
        let form = first_form(&self.page).expect("a form on the page");
        let mut all: Vec<(String, String)> = form.fields.clone();
        all.push(("action".into(), "continue".into()));
        all.extend(fields.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
        let response = self.client.post_form(&form.action, &self.cookie, &all).await.unwrap();
        let status = response.status();
        let text = match response.headers().get("location") {
            Some(location) => location.to_str().unwrap().to_owned(),
            None => response.text().await.unwrap(),
        };
        (status, text)
    }

    async fn step(&mut self, fields: &[(&str, &str)]) -> StatusCode {
        let (status, page) = self.post(fields).await;
        self.page = page;
        status
    }
}

fn authorize_path() -> String {
    stet_tpp::AuthorizationRequest {
        client_id: ORG.into(),
        redirect_uri: CALLBACK.into(),
        scope: "aisp".into(),
        state: None,
        code_challenge: None,
    }
    .path()
}

/// A fallback login page (a fresh JWT from the token endpoint).
async fn fallback_login(app: &TestApp, tpp: &TestTpp) -> String {
    let response = app
        .tpp_client(HOST, tpp)
        .request(Method::POST, "/stet/psd2/oauth/token")
        .header("fallback", "1")
        .form(&[("client_id", ORG), ("grant_type", "client_credentials"), ("scope", "aisp")])
        .send()
        .await
        .unwrap();
    let location = url::Url::parse(response.headers()["location"].to_str().unwrap()).unwrap();
    format!("{}?{}", location.path(), location.query().unwrap())
}

async fn setup(db: TestDb) -> (TestApp, TestTpp) {
    let app = spawn_app(db).await;
    let tpp = app.tpp(ORG, CertSpec::default());
    app.register(&tpp).await;
    (app, tpp)
}

/// Two wrong codes on the authorization and three on the fallback's online banking: five failed
/// authentications of one PSU lock it, whatever the journey, and the right code then fails too.
async fn the_authorization_and_the_fallback_share_one_counter(db: TestDb) {
    let (app, tpp) = setup(db).await;
    let mut authorization = Browser::open(&app, &authorize_path()).await;
    authorization.step(&[("psu_id", LEA)]).await;
    for wrong in ["00000000", "11111111"] {
        assert_eq!(authorization.step(&[("otp", wrong)]).await, StatusCode::OK);
    }
    let mut online = Browser::open(&app, &fallback_login(&app, &tpp).await).await;
    online.step(&[("psu_id", LEA)]).await;
    for wrong in ["22222222", "33333333", "44444444"] {
        online.step(&[("otp", wrong)]).await;
    }
    // A new authorization: the right code no longer passes while the PSU is locked.
    let mut locked = Browser::open(&app, &authorize_path()).await;
    locked.step(&[("psu_id", LEA)]).await;
    assert_eq!(locked.step(&[("otp", "12345678")]).await, StatusCode::OK, "refused, on the page");
    assert!(locked.page.contains("Identifiant ou code incorrect"), "{}", locked.page);
    // The lock lapses.
    app.clock.advance(jiff::SignedDuration::from_mins(16));
    let mut later = Browser::open(&app, &authorize_path()).await;
    later.step(&[("psu_id", LEA)]).await;
    assert_eq!(later.step(&[("otp", "12345678")]).await, StatusCode::FOUND, "back to the TPP with a code");
    assert!(later.page.contains("code="), "{}", later.page);
}

/// Wrong codes sent at the same moment all count: with three allowed, the journey is refused, and
/// the right code sent afterwards does not pass.
async fn simultaneous_wrong_codes_all_count(db: TestDb) {
    let (app, _) = setup(db).await;
    let mut browser = Browser::open(&app, &authorize_path()).await;
    browser.step(&[("psu_id", LEA)]).await;
    let browser = std::sync::Arc::new(browser);
    let mut posts = Vec::new();
    for i in 0..2 {
        let browser = browser.clone();
        posts.push(tokio::spawn(async move { browser.post(&[("otp", &format!("0000000{i}"))]).await }));
    }
    for post in posts {
        let (status, _) = post.await.unwrap();
        assert_eq!(status, StatusCode::OK);
    }
    // Two failures counted: one attempt left, whichever page the browser shows.
    let (status, page) = browser.post(&[("otp", "99999999")]).await;
    assert_eq!(status, StatusCode::FOUND, "the third failure ends the journey: {page}");
    assert!(page.contains("error=access_denied"), "{page}");
    let (status, page) = browser.post(&[("otp", "12345678")]).await;
    assert_ne!(status, StatusCode::FOUND, "the right code after the limit does not pass: {page}");
}

db_tests!(the_authorization_and_the_fallback_share_one_counter, simultaneous_wrong_codes_all_count);
