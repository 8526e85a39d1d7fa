//! The OAuth2 authorization server over real TLS: the PSU's pages driven over HTTP, codes, tokens,
//! refresh, revocation and bearer checks on resources, with the server's clock moved for expiries.

use crate::harness::{AppOptions, CertSpec, TestApp, TestDb, TestTpp, db_tests, spawn_app, spawn_node_with};
use eidas::psd2::Role;
use jiff::SignedDuration;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use stet_tpp::pages::first_form;
use stet_tpp::{AuthorizationRequest, FlowEnd, PsuAnswers, Redirected, Tokens, TppClient};

const CE: &str = "www.17515.sandbox.localhost";
const BP: &str = "www.13807.sandbox.localhost";
const ORG: &str = "PSDFR-ACPR-12345";
const CALLBACK: &str = "https://tpp.example/callback";
const LEA: &str = "9999999901";
const MARC: &str = "D0999990I0";

fn request(scope: &str) -> AuthorizationRequest {
    AuthorizationRequest {
        client_id: ORG.into(),
        redirect_uri: CALLBACK.into(),
        scope: scope.into(),
        state: Some("xyz-42".into()),
        code_challenge: None,
    }
}

fn psu(id: &str) -> PsuAnswers {
    PsuAnswers { psu_id: id.into(), otp: "12345678".into(), accounts: None }
}

async fn setup(db: TestDb) -> (TestApp, TestTpp) {
    let app = spawn_app(db).await;
    let tpp = app.tpp(ORG, CertSpec::default());
    app.register(&tpp).await;
    (app, tpp)
}

async fn redirected(client: &TppClient, request: &AuthorizationRequest, answers: &PsuAnswers) -> Redirected {
    match client.drive_authorization(request, answers).await.unwrap() {
        FlowEnd::Redirected(r) => r,
        FlowEnd::Page(status, html) => panic!("ended on a page ({status}): {html}"),
    }
}

/// Logs in as `psu_id` and exchanges the code: the tokens.
async fn login(app: &TestApp, tpp: &TestTpp, host: &str, scope: &str, psu_id: &str) -> Tokens {
    let client = app.tpp_client(host, tpp);
    let back = redirected(&client, &request(scope), &psu(psu_id)).await;
    assert_eq!(back.get("state"), Some("xyz-42"), "{back:?}");
    let code = back.get("code").unwrap_or_else(|| panic!("no code: {back:?}"));
    let response = client.exchange_code(ORG, code, CALLBACK).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

/// A signed resource call with a token: its status and ErrorModel body.
async fn call(
    app: &TestApp,
    tpp: &TestTpp,
    host: &str,
    method: Method,
    path: &str,
    token: &str,
) -> (StatusCode, Value) {
    let mut request = app.tpp_client(host, tpp).signed(method.clone(), path).bearer(token);
    if method == Method::POST {
        request = request.json(&serde_json::json!({"paymentCoverageRequestId": "r1", "instructedAmount": {"currency": "EUR", "amount": "10.00"}, "accountId": {"iban": "FR7613807008043001965405158"}}));
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Every check passed (certificate, signature, token, scope): the resource answered, with data
/// (account information) or 501 (funds confirmation, not served yet).
fn reached(result: &(StatusCode, Value)) {
    assert!(
        [StatusCode::OK, StatusCode::NO_CONTENT, StatusCode::NOT_IMPLEMENTED].contains(&result.0),
        "{} {}",
        result.0,
        result.1
    );
}

fn invalid_token(result: &(StatusCode, Value)) {
    assert_eq!(result.0, StatusCode::UNAUTHORIZED, "{}", result.1);
    assert_eq!(result.1["message"], "invalid_token", "{}", result.1);
}

async fn oauth_error(response: reqwest::Response, status: StatusCode, error: &str) -> Value {
    assert_eq!(response.status(), status);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], error, "{body}");
    body
}

async fn aisp_happy_path_and_secrets_at_rest(db: TestDb) {
    let (app, tpp) = setup(db).await;
    let client = app.tpp_client(CE, &tpp);
    let back = redirected(&client, &request("aisp"), &psu(LEA)).await;
    assert!(back.location.starts_with("https://tpp.example/callback?"), "{back:?}");
    let code = back.get("code").unwrap().to_owned();
    let response = client.exchange_code(ORG, &code, CALLBACK).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let tokens: Tokens = response.json().await.unwrap();
    assert_eq!((tokens.token_type.as_str(), tokens.expires_in, tokens.scope.as_str()), ("Bearer", 3600, "aisp"));
    assert_ne!(tokens.access_token, tokens.refresh());
    reached(&call(&app, &tpp, CE, Method::GET, "/stet/psd2/v1.4.2/accounts", &tokens.access_token).await);
    let balances = "/stet/psd2/v1.6.2/accounts/175150009204004305180/balances";
    let no_consent_yet = call(&app, &tpp, CE, Method::GET, balances, &tokens.access_token).await;
    assert_eq!(no_consent_yet.0, StatusCode::FORBIDDEN, "balances need a consent: {}", no_consent_yet.1);

    // Nothing secret is stored in clear.
    use sqlx::{Connection, Row};
    sqlx::any::install_default_drivers();
    let mut db = sqlx::AnyConnection::connect(app.db.url()).await.unwrap();
    for table in ["token_pairs", "authorization_codes", "psu_journeys"] {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT * FROM {table}"))).fetch_all(&mut db).await.unwrap();
        assert!(!rows.is_empty(), "{table}");
        for row in rows {
            for i in 0..row.len() {
                let text: Option<String> = row.try_get(i).unwrap_or(None);
                let text = text.unwrap_or_default();
                for secret in [tokens.access_token.as_str(), tokens.refresh(), code.as_str()] {
                    assert!(!text.contains(secret), "{table} holds a secret in clear");
                }
            }
        }
    }
}

async fn cbpii_happy_path_records_the_chosen_accounts(db: TestDb) {
    let (app, tpp) = setup(db).await;
    let client = app.tpp_client(BP, &tpp);
    let chosen = vec!["138070080430019654051".to_owned(), "138070080430019654053".to_owned()];
    let answers = PsuAnswers { accounts: Some(chosen.clone()), ..psu(MARC) };
    let back = redirected(&client, &request("cbpii"), &answers).await;
    let response = client.exchange_code(ORG, back.get("code").unwrap(), CALLBACK).await.unwrap();
    let tokens: Tokens = response.json().await.unwrap();
    assert_eq!(tokens.scope, "cbpii");
    let consent = app
        .db
        .store()
        .await
        .funds_consent(
            stet::BankCode::parse("13807").unwrap(),
            &stetgate::ledger::PsuId::parse(MARC).unwrap(),
            &stet::OrgId::parse(ORG).unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(consent.iter().map(|r| r.to_string()).collect::<Vec<_>>(), chosen, "the accounts the PSU ticked");
    reached(&call(&app, &tpp, BP, Method::POST, "/stet/psd2/v1.4.2/funds-confirmations", &tokens.access_token).await);

    // Choosing no account is refused on the page.
    let start = client.http_get_page(&request("piisp").path()).await;
    let (cookie, html) = (start.0, start.1);
    let html = step(&client, &cookie, &html, &[("psu_id", MARC)]).await.1;
    let html = step(&client, &cookie, &html, &[("otp", "12345678")]).await.1;
    assert!(html.contains("type=\"checkbox\""), "the consent page lists accounts");
    let (status, html) = step(&client, &cookie, &html, &[]).await;
    assert_eq!(status, 200);
    assert!(html.contains("Choisissez au moins un compte"), "{html}");
}

/// Posts the page's form with `extra` fields; returns the status and the next page (or Location).
async fn step(client: &TppClient, cookie: &str, html: &str, extra: &[(&str, &str)]) -> (u16, String) {
    let form = first_form(html).unwrap_or_else(|| panic!("no form in {html}"));
    let mut fields = form.fields.clone();
    fields.push(("action".into(), "continue".into()));
    for (k, v) in extra {
        fields.push(((*k).into(), (*v).into()));
    }
    let response = client.post_form(&form.action, cookie, &fields).await.unwrap();
    let status = response.status().as_u16();
    if let Some(location) = response.headers().get("location") {
        return (status, location.to_str().unwrap().to_owned());
    }
    (status, response.text().await.unwrap())
}

async fn cancel(client: &TppClient, cookie: &str, html: &str) -> String {
    let form = first_form(html).unwrap();
    let mut fields = form.fields.clone();
    fields.push(("action".into(), "cancel".into()));
    let response = client.post_form(&form.action, cookie, &fields).await.unwrap();
    assert_eq!(response.status(), StatusCode::FOUND);
    response.headers()["location"].to_str().unwrap().to_owned()
}

trait PageGet {
    async fn http_get_page(&self, path: &str) -> (String, String);
}

impl PageGet for TppClient {
    /// GETs a page: the flow cookie and the HTML.
    async fn http_get_page(&self, path: &str) -> (String, String) {
        let response = self.request_without_id(Method::GET, path).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let cookie = response.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
        (cookie, response.text().await.unwrap())
    }
}

fn location_params(location: &str) -> Vec<(String, String)> {
    url::Url::parse(location).unwrap().query_pairs().into_owned().collect()
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

async fn authorize_errors(db: TestDb) {
    let (app, _tpp) = setup(db).await;
    let card_only = app.tpp("PSDFR-ACPR-20001", CertSpec { roles: vec![Role::CardIssuing], ..CertSpec::default() });
    app.register(&card_only).await;
    let browser = app.client(CE);
    let base = "/stet/psd2/oauth/authorize?response_type=code&scope=aisp&state=s1";

    // Never redirected: unknown client, unregistered or missing redirect URI.
    for path in [
        format!("{base}&client_id=PSDFR-ACPR-99999&redirect_uri={CALLBACK}"),
        format!("{base}&client_id=nonsense&redirect_uri={CALLBACK}"),
        format!("{base}&client_id={ORG}&redirect_uri=https://evil.example/cb"),
        format!("{base}&client_id={ORG}&redirect_uri={CALLBACK}x"),
        format!("{base}&client_id={ORG}"),
    ] {
        let response = browser.request_without_id(Method::GET, &path).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{path}");
        assert!(response.headers().get("location").is_none(), "no redirect for {path}");
        assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
        let html = response.text().await.unwrap();
        assert!(html.contains("Ile-de-France") && html.contains("17515"), "the bank's own page: {html}");
    }

    // Redirected with an error and the state.
    let cb = format!("client_id={ORG}&redirect_uri={CALLBACK}&state=s1");
    for (query, error) in [
        (format!("{cb}&scope=aisp"), "invalid_request"),
        (format!("{cb}&scope=aisp&response_type=token"), "unsupported_response_type"),
        (format!("{cb}&response_type=code"), "invalid_scope"),
        (format!("{cb}&response_type=code&scope=pisp"), "invalid_scope"),
        (format!("{cb}&response_type=code&scope=aisp%20extended_transaction_history"), "invalid_scope"),
        (format!("{cb}&response_type=code&scope=aisp&scope=cbpii"), "invalid_request"),
    ] {
        let response = browser
            .request_without_id(Method::GET, &format!("/stet/psd2/oauth/authorize?{query}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::FOUND, "{query}");
        let params = location_params(response.headers()["location"].to_str().unwrap());
        assert_eq!(param(&params, "error"), Some(error), "{query}");
        assert_eq!(param(&params, "state"), Some("s1"));
        assert!(param(&params, "error_description").is_some());
    }
    // A scope the TPP's roles do not allow.
    let query =
        "client_id=PSDFR-ACPR-20001&redirect_uri=https://tpp.example/callback&response_type=code&scope=aisp&state=s2";
    let response =
        browser.request_without_id(Method::GET, &format!("/stet/psd2/oauth/authorize?{query}")).send().await.unwrap();
    let params = location_params(response.headers()["location"].to_str().unwrap());
    assert_eq!(param(&params, "error"), Some("invalid_scope"));
    assert!(param(&params, "error_description").unwrap().contains("PSP_AI"));
}

async fn cancel_wrong_codes_unknown_ids_and_expiry(db: TestDb) {
    let (app, tpp) = setup(db).await;
    let client = app.tpp_client(CE, &tpp);
    let path = request("aisp").path();

    // Cancel, on the first page and on the code page.
    let (cookie, html) = client.http_get_page(&path).await;
    let params = location_params(&cancel(&client, &cookie, &html).await);
    assert_eq!((param(&params, "error"), param(&params, "state")), (Some("access_denied"), Some("xyz-42")));
    let (cookie, html) = client.http_get_page(&path).await;
    let (_, html) = step(&client, &cookie, &html, &[("psu_id", LEA)]).await;
    assert!(!html.contains("•• 01"), "no masked phone: an unknown id gets the same page: {html}");
    assert!(html.contains("12345678"), "the sandbox says its code");
    let params = location_params(&cancel(&client, &cookie, &html).await);
    assert_eq!(param(&params, "error"), Some("access_denied"));

    // Three wrong codes.
    let (cookie, html) = client.http_get_page(&path).await;
    let (_, html) = step(&client, &cookie, &html, &[("psu_id", LEA)]).await;
    let (status, html) = step(&client, &cookie, &html, &[("otp", "00000000")]).await;
    assert_eq!(status, 200);
    assert!(html.contains("Identifiant ou code incorrect") && html.contains("Essais restants : 2"), "{html}");
    let (_, html) = step(&client, &cookie, &html, &[("otp", "11111111")]).await;
    assert!(html.contains("Essais restants : 1"));
    let (status, location) = step(&client, &cookie, &html, &[("otp", "22222222")]).await;
    assert_eq!(status, 302);
    assert_eq!(param(&location_params(&location), "error"), Some("access_denied"));

    // An unknown id: the same page as a known one, then no code passes, with the same message.
    let (cookie, first) = client.http_get_page(&path).await;
    let (_, known) = step(&client, &cookie, &first, &[("psu_id", LEA)]).await;
    let (cookie, first) = client.http_get_page(&path).await;
    let (status, mut html) = step(&client, &cookie, &first, &[("psu_id", "0000000000")]).await;
    assert_eq!(status, 200);
    let strip = |page: &str| page.split("name=\"csrf\"").next().unwrap_or("").to_owned();
    assert_eq!(strip(&html), strip(&known), "a known and an unknown id get the same page");
    for attempt in 1..=3 {
        let (status, next) = step(&client, &cookie, &html, &[("otp", "12345678")]).await;
        if attempt < 3 {
            assert!(next.contains("Identifiant ou code incorrect"), "{next}");
            assert!(!next.contains("inconnu"), "the message does not say the id is unknown");
        } else {
            assert_eq!(status, 302);
            assert_eq!(param(&location_params(&next), "error"), Some("access_denied"));
        }
        html = next;
    }

    // English when the browser prefers it.
    let english = client
        .request_without_id(Method::GET, &path)
        .header("accept-language", "en-GB,en;q=0.9,fr;q=0.5")
        .send()
        .await
        .unwrap();
    assert!(english.text().await.unwrap().contains("Customer ID"));

    // A flow older than ten minutes.
    let (cookie, html) = client.http_get_page(&path).await;
    app.clock.advance(SignedDuration::from_mins(11));
    let (status, location) = step(&client, &cookie, &html, &[("psu_id", LEA)]).await;
    assert_eq!(status, 302);
    assert_eq!(param(&location_params(&location), "error"), Some("access_denied"));

    // A form without the session's cookie or CSRF token is refused with a page.
    let (_, html) = client.http_get_page(&path).await;
    let (status, _) = step(&client, "stetgate_journey=forged", &html, &[("psu_id", LEA)]).await;
    assert_eq!(status, 400);
    let (cookie, _) = client.http_get_page(&path).await;
    let forged = r#"<form method="post" action="/stet/psd2/oauth/authorize"><input type="hidden" name="csrf" value="forged"></form>"#;
    let (status, _) = step(&client, &cookie, forged, &[("psu_id", LEA)]).await;
    assert_eq!(status, 403);
}

async fn code_rules(db: TestDb) {
    let (app, tpp) = setup(db).await;
    let client = app.tpp_client(CE, &tpp);
    let code = |back: Redirected| back.get("code").unwrap().to_owned();

    // Reuse: refused, and what the code issued is revoked.
    let first = code(redirected(&client, &request("aisp"), &psu(LEA)).await);
    let tokens: Tokens = client.exchange_code(ORG, &first, CALLBACK).await.unwrap().json().await.unwrap();
    oauth_error(client.exchange_code(ORG, &first, CALLBACK).await.unwrap(), StatusCode::BAD_REQUEST, "invalid_grant")
        .await;
    invalid_token(&call(&app, &tpp, CE, Method::GET, "/stet/psd2/v1.4.2/accounts", &tokens.access_token).await);

    // redirect_uri must be identical.
    let c = code(redirected(&client, &request("aisp"), &psu(LEA)).await);
    oauth_error(
        client.exchange_code(ORG, &c, "https://tpp.example/callback/").await.unwrap(),
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    )
    .await;

    // The client_id must be the QWAC's organization.
    let c = code(redirected(&client, &request("aisp"), &psu(LEA)).await);
    oauth_error(
        client.exchange_code("PSDFR-ACPR-99999", &c, CALLBACK).await.unwrap(),
        StatusCode::UNAUTHORIZED,
        "invalid_client",
    )
    .await;
    // ...and a code of another client is useless to it.
    let other = app.tpp("PSDFR-ACPR-99999", CertSpec::default());
    app.register(&other).await;
    let thief = app.tpp_client(CE, &other);
    oauth_error(
        thief.exchange_code("PSDFR-ACPR-99999", &c, CALLBACK).await.unwrap(),
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    )
    .await;

    // A code lives one hour.
    let c = code(redirected(&client, &request("aisp"), &psu(LEA)).await);
    app.clock.advance(SignedDuration::from_mins(61));
    oauth_error(client.exchange_code(ORG, &c, CALLBACK).await.unwrap(), StatusCode::BAD_REQUEST, "invalid_grant").await;

    // Grant types and parameters: client credentials give payment initiation tokens only.
    oauth_error(
        client
            .token_request(&[("client_id", ORG), ("grant_type", "client_credentials"), ("scope", "aisp")])
            .await
            .unwrap(),
        StatusCode::BAD_REQUEST,
        "invalid_scope",
    )
    .await;
    oauth_error(
        client.token_request(&[("client_id", ORG), ("grant_type", "password")]).await.unwrap(),
        StatusCode::BAD_REQUEST,
        "unsupported_grant_type",
    )
    .await;
    oauth_error(client.token_request(&[("client_id", ORG)]).await.unwrap(), StatusCode::BAD_REQUEST, "invalid_request")
        .await;
    oauth_error(
        client
            .token_request(&[
                ("client_id", ORG),
                ("grant_type", "authorization_code"),
                ("code", "nope"),
                ("redirect_uri", CALLBACK),
            ])
            .await
            .unwrap(),
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    )
    .await;
    let anonymous = app.client(CE);
    let response = anonymous
        .request_without_id(Method::POST, "/stet/psd2/oauth/token")
        .body("client_id=x&grant_type=refresh_token")
        .header("content-type", "application/x-www-form-urlencoded")
        .send()
        .await
        .unwrap();
    oauth_error(response, StatusCode::UNAUTHORIZED, "invalid_client").await;
}

async fn refresh_sca_age_one_pair_and_revocation(db: TestDb) {
    let (app, tpp) = setup(db).await;
    let client = app.tpp_client(CE, &tpp);
    let tokens = login(&app, &tpp, CE, "aisp", LEA).await;

    // 179 days after the SCA: refreshed; the old access token no longer works.
    app.clock.advance(SignedDuration::from_hours(179 * 24));
    let response = client.refresh(ORG, tokens.refresh()).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let refreshed: Tokens = response.json().await.unwrap();
    assert_eq!(refreshed.refresh_token, tokens.refresh_token, "the same refresh token");
    assert_ne!(refreshed.access_token, tokens.access_token);
    assert_eq!(refreshed.scope, "aisp offline_access", "as the bank publishes");
    invalid_token(&call(&app, &tpp, CE, Method::GET, "/stet/psd2/v1.4.2/accounts", &tokens.access_token).await);
    reached(&call(&app, &tpp, CE, Method::GET, "/stet/psd2/v1.4.2/accounts", &refreshed.access_token).await);
    // An access token lives one hour.
    app.clock.advance(SignedDuration::from_mins(61));
    invalid_token(&call(&app, &tpp, CE, Method::GET, "/stet/psd2/v1.4.2/accounts", &refreshed.access_token).await);
    // 181 days: the PSU must authenticate again.
    app.clock.advance(SignedDuration::from_hours(2 * 24));
    let body =
        oauth_error(client.refresh(ORG, tokens.refresh()).await.unwrap(), StatusCode::BAD_REQUEST, "invalid_grant")
            .await;
    assert!(body["error_description"].as_str().unwrap().contains("180 days"));

    // One valid pair per PSU, TPP and role: a new login revokes the previous pair.
    let first = login(&app, &tpp, CE, "aisp", LEA).await;
    let second = login(&app, &tpp, CE, "aisp", LEA).await;
    invalid_token(&call(&app, &tpp, CE, Method::GET, "/stet/psd2/v1.4.2/accounts", &first.access_token).await);
    oauth_error(client.refresh(ORG, first.refresh()).await.unwrap(), StatusCode::BAD_REQUEST, "invalid_grant").await;
    reached(&call(&app, &tpp, CE, Method::GET, "/stet/psd2/v1.4.2/accounts", &second.access_token).await);
    // Another role is another pair.
    let card = login(&app, &tpp, CE, "cbpii", LEA).await;
    reached(&call(&app, &tpp, CE, Method::GET, "/stet/psd2/v1.4.2/accounts", &second.access_token).await);

    // Revoking either token revokes both.
    assert_eq!(client.revoke(ORG, &second.access_token).await.unwrap().status(), StatusCode::OK);
    oauth_error(client.refresh(ORG, second.refresh()).await.unwrap(), StatusCode::BAD_REQUEST, "invalid_grant").await;
    assert_eq!(client.revoke(ORG, card.refresh()).await.unwrap().status(), StatusCode::OK);
    invalid_token(
        &call(&app, &tpp, CE, Method::POST, "/stet/psd2/v1.4.2/funds-confirmations", &card.access_token).await,
    );
    assert_eq!(client.revoke(ORG, "unknown-token").await.unwrap().status(), StatusCode::OK, "unknown tokens: 200");
}

async fn tokens_are_bound_to_tpp_bank_and_scope(db: TestDb) {
    let (app, tpp) = setup(db).await;
    let tokens = login(&app, &tpp, CE, "aisp", LEA).await;

    // With another TPP's certificate (and signature): useless.
    let other = app.tpp("PSDFR-ACPR-77777", CertSpec::default());
    app.register(&other).await;
    invalid_token(&call(&app, &other, CE, Method::GET, "/stet/psd2/v1.4.2/accounts", &tokens.access_token).await);
    // At another bank: unknown there.
    invalid_token(&call(&app, &tpp, BP, Method::GET, "/stet/psd2/v1.4.2/accounts", &tokens.access_token).await);
    // Still fine where it belongs.
    reached(&call(&app, &tpp, CE, Method::GET, "/stet/psd2/v1.4.2/accounts", &tokens.access_token).await);

    // Wrong scope: 403, and the refresh token no longer works.
    let result =
        call(&app, &tpp, CE, Method::POST, "/stet/psd2/v1.4.2/funds-confirmations", &tokens.access_token).await;
    assert_eq!(result.0, StatusCode::FORBIDDEN, "{}", result.1);
    assert_eq!(result.1["message"], "BADS");
    let client = app.tpp_client(CE, &tpp);
    oauth_error(client.refresh(ORG, tokens.refresh()).await.unwrap(), StatusCode::BAD_REQUEST, "invalid_grant").await;

    let card = login(&app, &tpp, BP, "cbpii", MARC).await;
    let result = call(&app, &tpp, BP, Method::GET, "/stet/psd2/v1.4.2/accounts", &card.access_token).await;
    assert_eq!(result.0, StatusCode::FORBIDDEN);
    assert_eq!(result.1["message"], "insufficient_scope");
    // piisp is the v1 scope; cbpii the 1.4.2 one.
    let v1 = login(&app, &tpp, BP, "piisp", MARC).await;
    reached(&call(&app, &tpp, BP, Method::POST, "/stet/psd2/v1/funds-confirmations", &v1.access_token).await);
    let result = call(&app, &tpp, BP, Method::POST, "/stet/psd2/v1.6.2/funds-confirmations", &v1.access_token).await;
    assert_eq!(result.0, StatusCode::FORBIDDEN);
}

/// A code presented wrongly (another TPP, another redirect URI, the wrong PKCE verifier) is refused
/// without being spent: whoever holds a stolen code cannot burn the real TPP's one.
async fn a_code_presented_wrongly_is_not_spent(db: TestDb) {
    let (app, tpp) = setup(db).await;
    let client = app.tpp_client(CE, &tpp);
    let other = app.tpp("PSDFR-ACPR-99999", CertSpec::default());
    app.register(&other).await;
    let thief = app.tpp_client(CE, &other);
    let back = redirected(&client, &request("aisp"), &psu(LEA)).await;
    let code = back.get("code").unwrap();
    let refused = oauth_error(
        thief.exchange_code("PSDFR-ACPR-99999", code, CALLBACK).await.unwrap(),
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    )
    .await;
    assert!(refused["error_description"].as_str().unwrap().contains("another client"), "{refused}");
    oauth_error(
        client.exchange_code(ORG, code, "https://tpp.example/elsewhere").await.unwrap(),
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    )
    .await;
    let response = client.exchange_code(ORG, code, CALLBACK).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "the TPP's code still works after both attempts");
}

/// PKCE (RFC 7636, S256): verified when the TPP uses it.
async fn pkce_is_verified_when_used(db: TestDb) {
    let (app, tpp) = setup(db).await;
    let client = app.tpp_client(CE, &tpp);
    let pkce = stet_tpp::Pkce::generate();
    let with_pkce = AuthorizationRequest { code_challenge: Some(pkce.challenge.clone()), ..request("aisp") };
    let back = redirected(&client, &with_pkce, &psu(LEA)).await;
    let code = back.get("code").unwrap();
    let missing =
        oauth_error(client.exchange_code(ORG, code, CALLBACK).await.unwrap(), StatusCode::BAD_REQUEST, "invalid_grant")
            .await;
    assert!(missing["error_description"].as_str().unwrap().contains("code_verifier is missing"), "{missing}");
    let wrong = stet_tpp::Pkce::generate().verifier;
    oauth_error(
        client.exchange_code_with_verifier(ORG, code, CALLBACK, &wrong).await.unwrap(),
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    )
    .await;
    oauth_error(
        client.exchange_code_with_verifier(ORG, code, CALLBACK, "short").await.unwrap(),
        StatusCode::BAD_REQUEST,
        "invalid_request",
    )
    .await;
    let response = client.exchange_code_with_verifier(ORG, code, CALLBACK, &pkce.verifier).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "the right verifier redeems the code, unspent until then");

    // A verifier for a code that had no challenge is refused too (no downgrade).
    let back = redirected(&client, &request("aisp"), &psu(LEA)).await;
    oauth_error(
        client.exchange_code_with_verifier(ORG, back.get("code").unwrap(), CALLBACK, &pkce.verifier).await.unwrap(),
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    )
    .await;
    // Only S256.
    let plain = format!("{}&code_challenge={}&code_challenge_method=plain", request("aisp").path(), pkce.verifier);
    let response = client.request(Method::GET, &plain).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::FOUND);
    let location = response.headers()["location"].to_str().unwrap();
    assert!(location.contains("error=invalid_request") && location.contains("S256"), "{location}");
}

/// A token of the TPP itself (client credentials, no PSU) cannot reach account information or funds
/// confirmation: they act for a PSU.
async fn a_tpp_only_grant_is_refused_on_psu_resources(db: TestDb) {
    use stetgate::clock::Clock;
    use stetgate::oauth::{Scopes, Subject, TokenPair};
    use stetgate::secret::Secret;
    let (app, tpp) = setup(db).await;
    let now = app.clock.now();
    let mut tokens = Vec::new();
    for scope in ["aisp", "cbpii"] {
        let access = Secret::generate().unwrap();
        let pair = TokenPair {
            pair_id: uuid::Uuid::new_v4().to_string(),
            bank: stet::BankCode::parse("17515").unwrap(),
            client_id: stet::OrgId::parse(ORG).unwrap(),
            subject: Subject::Tpp,
            scopes: Scopes::parse(scope).unwrap(),
            access_expires_at: now + jiff::SignedDuration::from_hours(1),
            refresh_expires_at: now + jiff::SignedDuration::from_hours(1),
            sca_at: now,
            revoked_at: None,
            payment: None,
            last_used_at: None,
        };
        app.store
            .issue_token_pair(&pair, &access.hash(), &Secret::generate().unwrap().hash(), None, now)
            .await
            .unwrap();
        tokens.push(access.expose().to_owned());
    }
    let (status, body) = call(&app, &tpp, CE, Method::GET, "/stet/psd2/v1.4.2/accounts", &tokens[0]).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body["error"].as_str().unwrap().contains("PSU"), "{body}");
    let (status, body) = call(&app, &tpp, CE, Method::POST, "/stet/psd2/v1.4.2/funds-confirmations", &tokens[1]).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
}

/// A production bank whose strong customer authentication is not connected yet (no `[otp_gateway]`,
/// no `[oidc]`) sends the TPP back at once with RFC 6749 4.1.2.1's `temporarily_unavailable` and its
/// state, instead of showing the PSU a login nobody can pass; the sandbox beside it, with its
/// published code, shows the login page for the same request.
async fn a_production_bank_without_psu_authentication_is_temporarily_unavailable(db: TestDb) {
    let sandbox = spawn_app(db).await;
    let options =
        AppOptions { default_bank: "13807", production_banks: vec!["13807", "17515"], ..AppOptions::default() };
    let node = spawn_node_with(&sandbox, options).await;
    let tpp = node.tpp(ORG, CertSpec::default());
    node.register(&tpp).await;
    let path = format!(
        "/stet/psd2/oauth/authorize?response_type=code&client_id={ORG}&redirect_uri={CALLBACK}&scope=aisp&state=s1"
    );
    for host in [BP, CE] {
        let response = node.client(host).request_without_id(Method::GET, &path).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::FOUND, "{host}");
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        assert!(location.starts_with(&format!("{CALLBACK}?")), "back to the TPP: {location}");
        let params = location_params(&location);
        assert_eq!(param(&params, "error"), Some("temporarily_unavailable"), "{location}");
        assert_eq!(param(&params, "state"), Some("s1"));
        assert!(param(&params, "code").is_none());
        assert!(param(&params, "error_description").unwrap().contains("not configured"), "{location}");
    }
    let page = sandbox.client(BP).request_without_id(Method::GET, &path).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK, "the sandbox's login page");
    assert!(first_form(&page.text().await.unwrap()).is_some());
}

db_tests!(
    a_tpp_only_grant_is_refused_on_psu_resources,
    a_production_bank_without_psu_authentication_is_temporarily_unavailable,
    a_code_presented_wrongly_is_not_spent,
    pkce_is_verified_when_used,
    aisp_happy_path_and_secrets_at_rest,
    cbpii_happy_path_records_the_chosen_accounts,
    authorize_errors,
    cancel_wrong_codes_unknown_ids_and_expiry,
    code_rules,
    refresh_sca_age_one_pair_and_revocation,
    tokens_are_bound_to_tpp_bank_and_scope,
);

/// A value the store holds that stetgate cannot read is a defect, not an outage: the OAuth
/// endpoints answer 500 `server_error` without Retry-After (a TPP told to retry would retry for
/// ever), like the resources, and the cause is logged, never sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreadable_token_row_is_an_internal_error_not_an_outage() {
    let logs = crate::harness::logs();
    let app = spawn_app(TestDb::sqlite()).await;
    let tpp = app.tpp(ORG, CertSpec::default());
    app.register(&tpp).await;
    let token = app.access_token(&tpp, CE, LEA, "aisp", None).await;
    let mut connection = <sqlx::AnyConnection as sqlx::Connection>::connect(app.db.url()).await.unwrap();
    sqlx::query("UPDATE token_pairs SET scope = 42").execute(&mut connection).await.unwrap();
    let client = app.tpp_client(CE, &tpp);
    let revoked = client
        .request(Method::POST, "/stet/psd2/oauth/revoke")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("client_id={ORG}&token={token}"))
        .send()
        .await
        .unwrap();
    let request_id = revoked.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(revoked.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(!revoked.headers().contains_key("retry-after"), "not an outage to wait out");
    let body: Value = revoked.json().await.unwrap();
    assert_eq!(body["error"], "server_error", "{body}");
    assert!(!body.to_string().contains("scope"), "no cause reaches the TPP: {body}");
    let causes = logs.lines_with(&[&request_id]);
    assert!(causes.iter().any(|l| l.contains("corrupt value")), "the cause is logged: {causes:#?}");
    let accounts = client.signed(Method::GET, "/stet/psd2/v1.4.2/accounts").bearer(&token).send().await.unwrap();
    assert_eq!(accounts.status(), StatusCode::INTERNAL_SERVER_ERROR, "the resources say the same");
}
