//! The PSU's permission dashboard (`/psu/access`) and its support command: the page lists exactly
//! the TPPs with live access, how the PSU recognises them, what they may reach (a PISP's open
//! payments included) and until when; a withdrawal cuts a TPP's access and refresh
//! at once, on another node too, and leaves other TPPs alone; the command line does the same; the
//! CSRF token and the attempt limits hold.

use crate::harness::{CertSpec, TestApp, TestDb, TestTpp, db_tests, spawn_app, spawn_second_node};
use eidas::psd2::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use stet::ApiVersion;
use stet_tpp::TppClient;

const BP: &str = "www.13807.sandbox.localhost";
const MARC: &str = "D0999990I0";
const MARC_1: &str = "FR7613807008043001965405158";
const MARC_2: &str = "FR7613807008043001965405255";
const MARC_2_ID: &str = "138070080430019654052";
const AGGREGATOR: &str = "PSDFR-ACPR-11111";
const CARD_ISSUER: &str = "PSDFR-ACPR-22222";
const FORMER: &str = "PSDFR-ACPR-33333";
const BOTH: &str = "PSDFR-ACPR-44444";
const PISP: &str = "PSDFR-ACPR-55555";
/// The name the PISP registers under, unlike the organisation its certificates name.
const PISP_NAME: &str = "Paie Facile";

/// The PSU's browser on the dashboard: a client without certificate, holding the journey's cookie.
struct Browser {
    client: TppClient,
    cookie: String,
}

/// The `value` of the hidden input `name` in `html`.
fn hidden(html: &str, name: &str) -> String {
    let form = stet_tpp::pages::first_form(html).unwrap_or_else(|| panic!("no form in {html}"));
    form.fields.into_iter().find(|(n, _)| n == name).map(|(_, v)| v).unwrap_or_else(|| panic!("no {name} in {html}"))
}

impl Browser {
    async fn get(&self) -> (StatusCode, String) {
        let response = self
            .client
            .request(Method::GET, "/psu/access")
            .header("cookie", &self.cookie)
            .header("accept-language", "en")
            .send()
            .await
            .unwrap();
        (response.status(), response.text().await.unwrap())
    }

    async fn post(&self, path: &str, fields: &[(&str, &str)]) -> (StatusCode, String) {
        let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish();
        let response = self
            .client
            .request(Method::POST, path)
            .header("cookie", &self.cookie)
            .header("accept-language", "en")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        (response.status(), response.text().await.unwrap())
    }

    /// Signs in as `psu` with `code`; the dashboard's HTML (or the page the sign-in ended on).
    async fn sign_in(app: &TestApp, psu: &str, code: &str) -> (Browser, StatusCode, String) {
        let client = app.client(BP);
        let first = client.request(Method::GET, "/psu/access").header("accept-language", "en").send().await.unwrap();
        let cookie = first.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
        let html = first.text().await.unwrap();
        let browser = Browser { client, cookie };
        let csrf = hidden(&html, "csrf");
        let (_, html) = browser.post("/psu/access", &[("csrf", &csrf), ("psu_id", psu), ("action", "continue")]).await;
        let csrf = hidden(&html, "csrf");
        let (status, html) =
            browser.post("/psu/access", &[("csrf", &csrf), ("otp", code), ("action", "continue")]).await;
        if status == StatusCode::SEE_OTHER {
            let (status, html) = browser.get().await;
            return (browser, status, html);
        }
        (browser, status, html)
    }

    /// Withdraws `tpp`'s `role` access: the confirmation page, then the confirmation.
    async fn withdraw(&self, dashboard: &str, tpp: &str, role: &str) -> String {
        let csrf = hidden(dashboard, "csrf");
        let (status, confirm) = self
            .post("/psu/access/withdraw", &[("csrf", &csrf), ("tpp", tpp), ("role", role), ("action", "ask")])
            .await;
        assert_eq!(status, StatusCode::OK);
        assert!(confirm.contains("Withdraw access") && confirm.contains(tpp), "{confirm}");
        let (status, _) = self
            .post("/psu/access/withdraw", &[("csrf", &csrf), ("tpp", tpp), ("role", role), ("action", "confirm")])
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        self.get().await.1
    }
}

/// Three TPPs: an aggregator with a consent on Marc's first account, a card issuer with his second
/// chosen, and a former aggregator whose token was revoked.
struct Scene {
    app: TestApp,
    aggregator: (TestTpp, String, String),
    card_issuer: (TestTpp, String),
    /// The card issuer's refresh token.
    card_refresh: String,
}

async fn login_tokens(app: &TestApp, tpp: &TestTpp, scope: &str, accounts: Option<&[&str]>) -> stet_tpp::Tokens {
    let code = authorization_code(app, tpp, scope, accounts).await;
    app.tpp_client(BP, tpp)
        .exchange_code(&tpp.org_id, &code, crate::harness::CALLBACK)
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Marc's authorization for `tpp` (through the bank's pages); the code, not exchanged yet.
async fn authorization_code(app: &TestApp, tpp: &TestTpp, scope: &str, accounts: Option<&[&str]>) -> String {
    let client = app.tpp_client(BP, tpp);
    let request = stet_tpp::AuthorizationRequest {
        client_id: tpp.org_id.clone(),
        redirect_uri: crate::harness::CALLBACK.into(),
        scope: scope.into(),
        state: None,
        code_challenge: None,
    };
    let answers = stet_tpp::PsuAnswers {
        psu_id: MARC.into(),
        otp: "12345678".into(),
        accounts: accounts.map(|a| a.iter().map(|s| (*s).to_owned()).collect()),
    };
    let stet_tpp::FlowEnd::Redirected(back) = client.drive_authorization(&request, &answers).await.unwrap() else {
        panic!("no redirect")
    };
    back.get("code").unwrap().to_owned()
}

async fn scene(db: TestDb) -> Scene {
    let app = spawn_app(db).await;
    let tpp = |org: &str, roles: Vec<Role>| app.tpp(org, CertSpec { roles, ..CertSpec::default() });
    let aggregator = tpp(AGGREGATOR, vec![Role::AccountInformation]);
    let card_issuer = tpp(CARD_ISSUER, vec![Role::CardIssuing]);
    let former = tpp(FORMER, vec![Role::AccountInformation]);
    for t in [&aggregator, &card_issuer, &former] {
        app.register(t).await;
    }
    let tokens = login_tokens(&app, &aggregator, "aisp", None).await;
    let consent = json!({"balances": [{"iban": MARC_1}], "transactions": [{"iban": MARC_1}], "trustedBeneficiaries": false, "psuIdentity": true});
    let put = app
        .tpp_client(BP, &aggregator)
        .signed(Method::PUT, "/stet/psd2/v1.4.2/consents")
        .bearer(&tokens.access_token)
        .header("psu-ip-address", "192.0.2.10")
        .json(&consent)
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), StatusCode::CREATED);
    let card = login_tokens(&app, &card_issuer, "cbpii", Some(&[MARC_2_ID])).await;
    let gone = login_tokens(&app, &former, "aisp", None).await;
    let revoked = app.tpp_client(BP, &former).revoke(FORMER, &gone.access_token).await.unwrap();
    assert_eq!(revoked.status(), StatusCode::OK);
    let refresh = tokens.refresh().to_owned();
    let card_refresh = card.refresh().to_owned();
    Scene {
        app,
        aggregator: (aggregator, tokens.access_token, refresh),
        card_issuer: (card_issuer, card.access_token),
        card_refresh,
    }
}

/// The aggregator reads Marc's accounts; the card issuer asks about his second account.
async fn calls(app: &TestApp, scene: &Scene) -> (StatusCode, StatusCode) {
    let (aggregator, token, _) = &scene.aggregator;
    let accounts = app
        .tpp_client(BP, aggregator)
        .signed(Method::GET, "/stet/psd2/v1.4.2/accounts")
        .bearer(token)
        .header("psu-ip-address", "192.0.2.10")
        .send()
        .await
        .unwrap()
        .status();
    let (card_issuer, card) = &scene.card_issuer;
    let body = json!({"paymentCoverageRequestId": "r", "instructedAmount": {"currency": "EUR", "amount": "1.00"}, "accountId": {"iban": MARC_2}});
    let funds = app
        .tpp_client(BP, card_issuer)
        .signed(Method::POST, "/stet/psd2/v1.4.2/funds-confirmations")
        .bearer(card)
        .json(&body)
        .send()
        .await
        .unwrap()
        .status();
    (accounts, funds)
}

async fn the_page_lists_exactly_the_tpps_with_live_access(db: TestDb) {
    let s = scene(db).await;
    let (_, status, page) = Browser::sign_in(&s.app, MARC, "12345678").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains(AGGREGATOR) && page.contains(CARD_ISSUER), "{page}");
    assert!(!page.contains(FORMER), "a revoked token is no access");
    let aggregator = &page[page.find(&format!("id=\"tpp-{AGGREGATOR}\"")).unwrap()..];
    let aggregator = &aggregator[..aggregator.find("</section>").unwrap()];
    assert!(aggregator.contains(MARC_1) && aggregator.contains("balances, transactions"), "{aggregator}");
    assert!(!aggregator.contains(MARC_2), "only the consented account");
    assert!(aggregator.contains("Your identity"), "the identity is shared");
    assert!(
        aggregator.contains("Last used:") && !aggregator.contains("Last used: never"),
        "its calls count: {aggregator}"
    );
    let card = &page[page.find(&format!("id=\"tpp-{CARD_ISSUER}\"")).unwrap()..];
    assert!(card.contains(MARC_2) && card.contains("available funds") && !card.contains(MARC_1), "{card}");
    // For a screen reader: each table says what its columns hold, and each withdraw button which
    // access it withdraws (they all read "Withdraw this access" on screen).
    assert!(aggregator.contains("<th scope=\"col\">Account</th><th scope=\"col\">Shared</th>"), "{aggregator}");
    let labels: Vec<&str> = page.split("aria-label=\"").skip(1).filter_map(|rest| rest.split('"').next()).collect();
    assert!(labels.len() >= 2, "{page}");
    assert!(labels.iter().all(|l| l.starts_with("Withdraw this access: ")), "{labels:?}");
    let distinct: std::collections::BTreeSet<&&str> = labels.iter().collect();
    assert_eq!(distinct.len(), labels.len(), "each button names its own access: {labels:?}");
}

async fn a_withdrawal_cuts_access_at_once_on_another_node_and_spares_the_others(db: TestDb) {
    let s = scene(db).await;
    let second = spawn_second_node(&s.app).await;
    assert_eq!(calls(&second, &s).await, (StatusCode::OK, StatusCode::OK));
    let (browser, _, page) = Browser::sign_in(&s.app, MARC, "12345678").await;
    let after = browser.withdraw(&page, AGGREGATOR, "aisp").await;
    assert!(!after.contains(&format!("id=\"tpp-{AGGREGATOR}\"")), "no longer listed");
    assert!(after.contains("Withdrawn access") && after.contains(AGGREGATOR), "the withdrawal is recorded: {after}");
    let (accounts, funds) = calls(&second, &s).await;
    assert_eq!(accounts, StatusCode::UNAUTHORIZED, "the aggregator's token is revoked, on the other node too");
    assert_eq!(funds, StatusCode::OK, "the card issuer is untouched");
    let (aggregator, _, refresh) = &s.aggregator;
    let refreshed = second.tpp_client(BP, aggregator).refresh(AGGREGATOR, refresh).await.unwrap();
    assert_eq!(refreshed.status(), StatusCode::BAD_REQUEST, "and its refresh refused");
    // The consent went with it: a new authorization starts with none.
    let fresh = login_tokens(&s.app, aggregator, "aisp", None).await;
    let balances = s
        .app
        .tpp_client(BP, aggregator)
        .signed(Method::GET, "/stet/psd2/v1.4.2/accounts/138070080430019654051/balances")
        .bearer(&fresh.access_token)
        .header("psu-ip-address", "192.0.2.10")
        .send()
        .await
        .unwrap();
    assert_eq!(balances.status(), StatusCode::FORBIDDEN, "no consent left");
    // Then the card issuer's: its funds confirmations stop on the other node too, refresh included.
    browser.withdraw(&after, CARD_ISSUER, "cbpii").await;
    let (_, funds) = calls(&second, &s).await;
    assert_eq!(funds, StatusCode::UNAUTHORIZED, "the card issuer's token is revoked, on the other node too");
    let refreshed = second.tpp_client(BP, &s.card_issuer.0).refresh(CARD_ISSUER, &s.card_refresh).await.unwrap();
    assert_eq!(refreshed.status(), StatusCode::BAD_REQUEST, "and its refresh refused");
}

async fn csrf_and_attempt_limits_hold(db: TestDb) {
    let s = scene(db).await;
    let (browser, _, _) = Browser::sign_in(&s.app, MARC, "12345678").await;
    let (status, _) = browser
        .post(
            "/psu/access/withdraw",
            &[("csrf", "forged"), ("tpp", AGGREGATOR), ("role", "aisp"), ("action", "confirm")],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(calls(&s.app, &s).await.0, StatusCode::OK, "nothing withdrawn by a forged form");
    // Three wrong codes end the sign-in.
    let (_, status, page) = Browser::sign_in(&s.app, MARC, "00000000").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Attempts left: 2"), "{page}");
    let client = s.app.client(BP);
    let first = client.request(Method::GET, "/psu/access").send().await.unwrap();
    let cookie = first.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    let browser = Browser { client, cookie };
    let mut html = first.text().await.unwrap();
    let csrf = hidden(&html, "csrf");
    browser.post("/psu/access", &[("csrf", &csrf), ("psu_id", MARC), ("action", "continue")]).await;
    let mut last = StatusCode::OK;
    for _ in 0..3 {
        (last, html) =
            browser.post("/psu/access", &[("csrf", &csrf), ("otp", "00000000"), ("action", "continue")]).await;
    }
    assert_eq!(last, StatusCode::FORBIDDEN, "{html}");
    let (status, _) =
        browser.post("/psu/access", &[("csrf", &csrf), ("otp", "12345678"), ("action", "continue")]).await;
    assert_ne!(status, StatusCode::SEE_OTHER, "the right code after the third failure does not sign in");
}

async fn support_staff_do_the_same_from_the_command_line(db: TestDb) {
    let s = scene(db).await;
    let run_raw = |args: &[&str]| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_stetgate"));
        command.args(["psu", "access"]).args(args).args(["--bank", "13807", "--psu", MARC]);
        command.args(["--data-dir", s.app.data_dir.path().to_str().unwrap(), "--database-url", s.app.db.url()]);
        command.output().unwrap()
    };
    let run = |args: &[&str]| {
        let output = run_raw(args);
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8(output.stdout).unwrap()
    };
    let listed = run(&["list"]);
    assert!(listed.contains(&format!("{AGGREGATOR}\t")) && listed.contains(&format!("{CARD_ISSUER}\t")), "{listed}");
    assert!(!listed.contains(FORMER), "{listed}");
    let aggregator_line = listed.lines().find(|l| l.starts_with(AGGREGATOR)).unwrap();
    assert!(aggregator_line.contains(&format!("{MARC_1}:balances+transactions")), "{aggregator_line}");
    let revoked = run(&["revoke", "--tpp", CARD_ISSUER, "--role", "cbpii"]);
    assert!(revoked.contains("withdrawn"), "{revoked}");
    assert_eq!(calls(&s.app, &s).await, (StatusCode::OK, StatusCode::UNAUTHORIZED), "the card issuer only");
    let listed = run(&["list"]);
    assert!(!listed.lines().any(|l| l.starts_with(CARD_ISSUER)), "{listed}");
    assert!(listed.contains(&format!("{CARD_ISSUER}\tcbpii\tby support")), "recorded: {listed}");
    let again = run_raw(&["revoke", "--tpp", CARD_ISSUER]);
    assert_eq!(again.status.code(), Some(1), "no access left to withdraw");
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(stderr.contains("no such access"), "{stderr}");
    let listed_again = run(&["list"]);
    assert_eq!(
        listed_again.matches("\tby support").count(),
        1,
        "nothing recorded for nothing withdrawn: {listed_again}"
    );
}

async fn a_token_of_two_roles_goes_whole_and_unexchanged_codes_die_with_it(db: TestDb) {
    let s = scene(db).await;
    let both =
        s.app.tpp(BOTH, CertSpec { roles: vec![Role::AccountInformation, Role::CardIssuing], ..CertSpec::default() });
    s.app.register(&both).await;
    let tokens = login_tokens(&s.app, &both, "aisp cbpii", Some(&[MARC_2_ID])).await;
    // The aggregator was asked again by the PSU, and has not exchanged the code yet.
    let (aggregator, _, _) = &s.aggregator;
    let code = authorization_code(&s.app, aggregator, "aisp", None).await;

    let (browser, _, dashboard) = Browser::sign_in(&s.app, MARC, "12345678").await;
    let csrf = hidden(&dashboard, "csrf");
    let ask = [("csrf", csrf.as_str()), ("tpp", BOTH), ("role", "cbpii"), ("action", "ask")];
    let (_, confirm) = browser.post("/psu/access/withdraw", &ask).await;
    assert!(confirm.contains("id=\"withdraw-also\"") && confirm.contains("Account information"), "{confirm}");
    let after = browser.withdraw(&dashboard, BOTH, "cbpii").await;
    assert!(!after.contains(&format!("id=\"tpp-{BOTH}\"")), "neither role is left: {after}");
    let accounts = s
        .app
        .tpp_client(BP, &both)
        .signed(Method::GET, "/stet/psd2/v1.4.2/accounts")
        .bearer(&tokens.access_token)
        .header("psu-ip-address", "192.0.2.10")
        .send()
        .await
        .unwrap();
    assert_eq!(accounts.status(), StatusCode::UNAUTHORIZED, "the one token is revoked for both roles");

    let after = browser.withdraw(&after, AGGREGATOR, "aisp").await;
    assert!(after.contains("Withdrawn access"), "{after}");
    let exchanged =
        s.app.tpp_client(BP, aggregator).exchange_code(AGGREGATOR, &code, crate::harness::CALLBACK).await.unwrap();
    assert_eq!(exchanged.status(), StatusCode::BAD_REQUEST, "a code given before the withdrawal is spent");
    let error: serde_json::Value = exchanged.json().await.unwrap();
    assert_eq!(error["error"], "invalid_grant");
}

/// A PISP registered under its trading name; Marc approves one payment it does not confirm
/// (ACTC) and one dated 25 November that it confirms (ACSP).
async fn pisp_with_open_payments(app: &TestApp) {
    let pisp = app.tpp(PISP, CertSpec { roles: vec![Role::PaymentInitiation], ..CertSpec::default() });
    let mut registration = pisp.registration(crate::harness::CALLBACK);
    registration["client_name"] = json!(PISP_NAME);
    let registered = app
        .tpp_client("www.17515.sandbox.localhost", &pisp)
        .request(Method::POST, "/stet/psd2/oauth/register")
        .json(&registration)
        .send()
        .await
        .unwrap();
    assert_eq!(registered.status(), StatusCode::CREATED);
    let client = app.tpp_client(BP, &pisp);
    let token: stet_tpp::Tokens = client.pisp_token(PISP).await.unwrap().json().await.unwrap();
    let approved = async |body: &Value| {
        let path = "/stet/psd2/v1.6.2/payment-requests";
        let response = client.signed(Method::POST, path).bearer(&token.access_token).json(body).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        let created: Value = response.json().await.unwrap();
        let answers = stet_tpp::PsuAnswers { psu_id: MARC.into(), otp: "12345678".into(), accounts: None };
        let approval = created["_links"]["consentApproval"]["href"].as_str().unwrap();
        let stet_tpp::FlowEnd::Redirected(back) = client.drive_approval(approval, &answers).await.unwrap() else {
            panic!("the approval did not redirect back")
        };
        (location, created["nonce"].clone(), crate::pis::factor(&back))
    };
    approved(&crate::pis::single("dash-1", "12.34", Some(MARC_1))).await;
    let mut future = crate::pis::single("dash-2", "56.78", Some(MARC_1));
    future["creditTransferTransaction"][0]["requestedExecutionDate"] = json!("2026-11-25T00:00:00.000+01:00");
    let (location, nonce, factor) = approved(&future).await;
    let confirmed = client
        .signed(Method::POST, &format!("{location}/confirmation"))
        .bearer(&token.access_token)
        .json(&json!({"nonce": nonce, "psuAuthenticationFactor": factor}))
        .send()
        .await
        .unwrap();
    assert_eq!(confirmed.status(), StatusCode::OK);
    let status: Value = client
        .payment_request(ApiVersion::V1_6_2, &token.access_token, location.rsplit('/').next().unwrap())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(status["paymentRequest"]["paymentInformationStatus"], "ACSP", "waits for its day: {status}");
}

/// The section of the page about `tpp`.
fn section<'a>(page: &'a str, tpp: &str) -> &'a str {
    let start = page.find(&format!("id=\"tpp-{tpp}\"")).unwrap_or_else(|| panic!("{tpp} is not listed: {page}"));
    let rest = &page[start..];
    &rest[..rest.find("</section>").unwrap()]
}

/// The page names each TPP as the PSU may recognise it (the name it registered, the organisation
/// its certificate names, its PSD2 roles), lists a PISP's payments that still reach the account,
/// and says until when each access lasts by itself: 180 days from the PSU's authentication, not
/// from today. Withdrawing the card issuer's access there ends its refresh token (invalid_grant)
/// while the aggregator's still refreshes.
async fn the_page_names_each_tpp_its_payments_and_when_access_ends(db: TestDb) {
    let s = scene(db).await;
    pisp_with_open_payments(&s.app).await;
    // Two days on: when an access ends does not move with the day the page is read.
    s.app.clock.advance(jiff::SignedDuration::from_hours(48));
    let (browser, status, page) = Browser::sign_in(&s.app, MARC, "12345678").await;
    assert_eq!(status, StatusCode::OK, "{page}");

    let pisp = section(&page, PISP);
    assert!(pisp.contains(&format!("<h2>{PISP_NAME}</h2>")), "the registered name: {pisp}");
    assert!(
        pisp.contains(&format!(
            "certificate issued to <strong class=\"certified\">TPP {PISP}</strong>, {PISP} · PSP_PI"
        )),
        "the certificate's organisation, the organisation id and the PSD2 role: {pisp}"
    );
    assert!(pisp.contains("Payments in progress"), "{pisp}");
    assert!(
        pisp.contains(
            "<tr><td>Boulangerie Paul · 2026-11-21</td><td class=\"amount\">12.34 EUR</td><td>ACTC</td></tr>"
        ),
        "the approved payment waiting for the PISP's confirmation: {pisp}"
    );
    assert!(
        pisp.contains(
            "<tr><td>Boulangerie Paul · 2026-11-25</td><td class=\"amount\">56.78 EUR</td><td>ACSP</td></tr>"
        ),
        "the future-dated payment: {pisp}"
    );
    let aggregator = section(&page, AGGREGATOR);
    assert!(aggregator.contains(&format!("<h2>TPP {AGGREGATOR}</h2>")), "{aggregator}");
    assert!(aggregator.contains(&format!("{AGGREGATOR} · PSP_AI</p>")), "its one role: {aggregator}");
    let card = section(&page, CARD_ISSUER);
    assert!(card.contains(&format!("{CARD_ISSUER} · PSP_IC</p>")), "{card}");
    // Authorized on 21/11/2026 at 11:00 in Paris: 180 days on is 20/05/2027, 12:00 in summer time.
    for access in [aggregator, card] {
        assert!(access.contains("Since 21/11/2026 11:00 · Until 20/05/2027 12:00 · "), "{access}");
    }

    let after = browser.withdraw(&page, CARD_ISSUER, "cbpii").await;
    assert!(!after.contains(&format!("id=\"tpp-{CARD_ISSUER}\"")), "no longer listed: {after}");
    let (card_issuer, _) = &s.card_issuer;
    let refused = s.app.tpp_client(BP, card_issuer).refresh(CARD_ISSUER, &s.card_refresh).await.unwrap();
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert_eq!(refused.json::<Value>().await.unwrap()["error"], "invalid_grant", "the card issuer's refresh is over");
    let (aggregator, _, refresh) = &s.aggregator;
    let refreshed = s.app.tpp_client(BP, aggregator).refresh(AGGREGATOR, refresh).await.unwrap();
    assert_eq!(refreshed.status(), StatusCode::OK, "the aggregator keeps its access");
    let tokens: stet_tpp::Tokens = refreshed.json().await.unwrap();
    assert!(tokens.scope.contains("aisp"), "{}", tokens.scope);
}

/// `stetgate psu access revoke|list` run by the bank's support with the deployment's `--config`
/// (a production configuration naming the database) and `args`; its output.
fn support_with_config(app: &TestApp, args: &[&str]) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("stetgate.toml");
    let toml = format!(
        "database_url = \"{}\"\n[[banks]]\ncode = \"13807\"\nname = \"Banque Populaire Grand Ouest\"\n",
        app.db.url()
    );
    std::fs::write(&file, toml).unwrap();
    std::process::Command::new(env!("CARGO_BIN_EXE_stetgate"))
        .args(["psu", "access"])
        .args(args)
        .args(["--bank", "13807", "--psu", MARC, "--config", file.to_str().unwrap()])
        .output()
        .unwrap()
}

/// The support command with `--config` instead of `--data-dir`: the withdrawal cuts the TPP's
/// token at once and its refresh token is refused; the other TPP keeps its access.
async fn support_revokes_with_the_config_file_and_the_refresh_dies_too(db: TestDb) {
    let s = scene(db).await;
    let output = support_with_config(&s.app, &["revoke", "--tpp", AGGREGATOR, "--role", "aisp"]);
    let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "{stdout}{stderr}");
    assert!(stdout.contains("withdrawn"), "{stdout}");
    assert_eq!(calls(&s.app, &s).await, (StatusCode::UNAUTHORIZED, StatusCode::OK), "the aggregator only");
    let (aggregator, _, refresh) = &s.aggregator;
    let refreshed = s.app.tpp_client(BP, aggregator).refresh(AGGREGATOR, refresh).await.unwrap();
    assert_eq!(refreshed.status(), StatusCode::BAD_REQUEST, "the refresh token went with the access token");
    let error: Value = refreshed.json().await.unwrap();
    assert_eq!(error["error"], "invalid_grant", "{error}");
    let card = s.app.tpp_client(BP, &s.card_issuer.0).refresh(CARD_ISSUER, &s.card_refresh).await.unwrap();
    assert_eq!(card.status(), StatusCode::OK, "the card issuer still refreshes");
    let listed = support_with_config(&s.app, &["list"]);
    let listed = String::from_utf8_lossy(&listed.stdout);
    assert!(listed.contains(&format!("{AGGREGATOR}\taisp\tby support")), "recorded: {listed}");
}

/// The dashboard lists every withdrawal with when it happened and who did it: the PSU on the page
/// (at the bank's clock) or the bank's support with the command line.
async fn the_page_lists_each_withdrawal_with_when_and_by_whom(db: TestDb) {
    let s = scene(db).await;
    let (browser, _, page) = Browser::sign_in(&s.app, MARC, "12345678").await;
    browser.withdraw(&page, CARD_ISSUER, "cbpii").await;
    let paris = |t: jiff::Timestamp| t.in_tz("Europe/Paris").unwrap().strftime("%d/%m/%Y %H:%M").to_string();
    let before = paris(jiff::Timestamp::now());
    let output = support_with_config(&s.app, &["revoke", "--tpp", AGGREGATOR]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let after = paris(jiff::Timestamp::now());
    let (_, page) = browser.get().await;
    let table = &page[page.find("class=\"withdrawals\"").expect("the withdrawals' table")..];
    let table = &table[..table.find("</table>").unwrap()];
    let row = |tpp: &str| {
        table.split("<tr>").find(|r| r.contains(tpp)).unwrap_or_else(|| panic!("{tpp} in {table}")).to_owned()
    };
    let by_page = row(CARD_ISSUER);
    assert!(
        by_page.contains(&paris(stetgate::clock::Clock::now(&s.app.clock))),
        "when, at the bank's clock: {by_page}"
    );
    assert!(by_page.contains("Confirmation of available funds"), "what was withdrawn: {by_page}");
    assert!(by_page.contains("<td>by you</td>"), "by the PSU: {by_page}");
    let by_support = row(AGGREGATOR);
    assert!(by_support.contains(&before) || by_support.contains(&after), "when ({before}): {by_support}");
    assert!(by_support.contains("Account information"), "what was withdrawn: {by_support}");
    assert!(by_support.contains("<td>by your bank, at your request</td>"), "by the bank's support: {by_support}");
}

db_tests!(
    the_page_lists_exactly_the_tpps_with_live_access,
    the_page_names_each_tpp_its_payments_and_when_access_ends,
    a_token_of_two_roles_goes_whole_and_unexchanged_codes_die_with_it,
    a_withdrawal_cuts_access_at_once_on_another_node_and_spares_the_others,
    support_revokes_with_the_config_file_and_the_refresh_dies_too,
    the_page_lists_each_withdrawal_with_when_and_by_whom,
    csrf_and_attempt_limits_hold,
    support_staff_do_the_same_from_the_command_line,
);
