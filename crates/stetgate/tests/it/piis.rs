//! Funds confirmation over real TLS on the Banque Populaire personas: covered and not covered around
//! the instant balance (pending debits, overdraft), every reason code with its status, the three
//! versions with their scopes, an account not chosen during authorization, and a ledger left as it
//! was.

use crate::harness::{AppOptions, CertSpec, TestApp, TestDb, TestTpp, db_tests, spawn_app, spawn_app_with};
use jiff::ToSpan;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const BP: &str = "www.13807.sandbox.localhost";
const ORG: &str = "PSDFR-ACPR-12345";
const MARC: &str = "D0999990I0";
const MARC_1: &str = "FR7613807008043001965405158";
const MARC_2: &str = "FR7613807008043001965405255";
const MARC_3: &str = "FR7613807008043001965405352";

async fn setup(options: AppOptions) -> (TestApp, TestTpp) {
    let app = spawn_app_with(TestDb::sqlite(), options).await;
    let tpp = app.tpp(ORG, CertSpec::default());
    app.register(&tpp).await;
    (app, tpp)
}

async fn setup_on(db: TestDb) -> (TestApp, TestTpp) {
    let app = spawn_app(db).await;
    let tpp = app.tpp(ORG, CertSpec::default());
    app.register(&tpp).await;
    (app, tpp)
}

/// Logs in as `psu` with `scope`, ticking `accounts` (resource ids) on the consent page.
async fn token(app: &TestApp, tpp: &TestTpp, psu: &str, scope: &str, accounts: Option<Vec<&str>>) -> String {
    app.access_token(tpp, BP, psu, scope, accounts.as_deref()).await
}

fn request(iban: &str, amount: &str) -> Value {
    json!({"paymentCoverageRequestId": "MyCoverage123456", "payee": "Boulangerie Paul", "instructedAmount": {"currency": "EUR", "amount": amount}, "accountId": {"iban": iban}})
}

async fn confirm(app: &TestApp, tpp: &TestTpp, version: &str, token: &str, body: Option<&[u8]>) -> (StatusCode, Value) {
    let mut request = app
        .tpp_client(BP, tpp)
        .signed(Method::POST, &format!("/stet/psd2/{version}/funds-confirmations"))
        .bearer(token);
    if let Some(body) = body {
        request = request.body(body.to_vec()).header("content-type", "application/json");
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    (status, serde_json::from_str(&response.text().await.unwrap()).unwrap_or(Value::Null))
}

async fn ask(app: &TestApp, tpp: &TestTpp, version: &str, token: &str, body: &Value) -> (StatusCode, Value) {
    confirm(app, tpp, version, token, Some(body.to_string().as_bytes())).await
}

async fn covered_and_not_covered(db: TestDb) {
    let (app, tpp) = setup_on(db).await;
    let marc = token(&app, &tpp, MARC, "cbpii", Some(vec!["138070080430019654051", "138070080430019654052"])).await;
    let adam = token(&app, &tpp, "D0999994I0", "cbpii", Some(vec!["138070080630319665742"])).await;
    let cases: &[(&String, &str, &str, bool)] = &[
        // Booked 4,348.95 with 169.95 of card debits pending: instant 4,179.00.
        (&marc, MARC_1, "4179.00", true),
        (&marc, MARC_1, "4179.01", false),
        (&marc, MARC_1, "123.45", true),
        (&marc, MARC_1, "4348.95", false),
        // Nothing pending: the booked balance.
        (&marc, MARC_2, "459.56", true),
        (&marc, MARC_2, "459.57", false),
        (&marc, MARC_2, "459", true),
        // -2,894.05 with an authorised overdraft of 3,000.00: 105.95 available.
        (&adam, "FR7613807008063031966574219", "105.95", true),
        (&adam, "FR7613807008063031966574219", "105.96", false),
    ];
    for &(token, iban, amount, expected) in cases {
        let body = request(iban, amount);
        let (status, answer) = ask(&app, &tpp, "v1.4.2", token, &body).await;
        assert_eq!(status, StatusCode::OK, "{iban} {amount}: {answer}");
        assert_eq!(answer["result"], expected, "{iban} {amount}");
        // The validated request, amounts in the bank's form (two decimals, a string).
        let mut echoed = body.clone();
        echoed["instructedAmount"]["amount"] = json!(format!("{:.2}", amount.parse::<f64>().unwrap()));
        assert_eq!(answer["request"], echoed, "the validated request");
        assert_eq!(answer["_links"]["self"]["href"], "/stet/psd2/v1.4.2/funds-confirmations");
    }
    // The same request twice: the same answer (nothing is reserved).
    for _ in 0..2 {
        assert_eq!(ask(&app, &tpp, "v1.4.2", &marc, &request(MARC_1, "4179.00")).await.1["result"], true);
    }
    // Amounts as JSON numbers (STET 1.6 examples) are accepted.
    let mut numeric = request(MARC_2, "1");
    numeric["instructedAmount"]["amount"] = json!(12.5);
    assert_eq!(ask(&app, &tpp, "v1.6.2", &marc, &numeric).await.1["result"], true);
    // Echoed validated: what the request carried beyond the schema is not sent back, and a number
    // amount comes back as the string 1.4.0.47 requires.
    let mut extra = request(MARC_2, "1");
    extra["instructedAmount"]["amount"] = json!(12.5);
    extra["unknownField"] = json!("x".repeat(10_000));
    let (status, answer) = ask(&app, &tpp, "v1.4.2", &marc, &extra).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert!(answer["request"].get("unknownField").is_none(), "{answer}");
    assert_eq!(answer["request"]["instructedAmount"]["amount"], "12.50");
}

async fn reason_codes(db: TestDb) {
    let (app, tpp) = setup_on(db).await;
    let marc = token(&app, &tpp, MARC, "cbpii", Some(vec!["138070080430019654051", "138070080430019654052"])).await;
    let camille = token(&app, &tpp, "D0999995I0", "cbpii", Some(vec!["138070080430019654101"])).await;
    let mut cases: Vec<(&String, Value, StatusCode, &str)> = vec![
        (&marc, request(MARC_3, "10.00"), StatusCode::FORBIDDEN, "NGAC"),
        (&marc, request("FR76XYZ", "10.00"), StatusCode::BAD_REQUEST, "AC01"),
        (&marc, request("FR7613807008043001965405159", "10.00"), StatusCode::BAD_REQUEST, "AC01"),
        // A Caisse d'Epargne IBAN (Lea's) and another PSU's account are unknown here.
        (&marc, request("FR7617515000920400430518020", "10.00"), StatusCode::BAD_REQUEST, "AC01"),
        (&marc, request("FR7613807008043001965406128", "10.00"), StatusCode::BAD_REQUEST, "AC01"),
        (
            &marc,
            json!({"paymentCoverageRequestId": "x", "instructedAmount": {"currency": "EUR", "amount": "1.00"}, "accountId": {"other": {"identification": "4970101122334455", "schemeName": "CPAN"}}}),
            StatusCode::BAD_REQUEST,
            "AC01",
        ),
        (&camille, request("FR7613807008043001965410202", "10.00"), StatusCode::BAD_REQUEST, "AC04"),
        (&camille, request("FR7613807008043001965410396", "10.00"), StatusCode::BAD_REQUEST, "AC06"),
        (
            &marc,
            json!({"instructedAmount": {"currency": "EUR", "amount": "1.00"}, "accountId": {"iban": MARC_1}}),
            StatusCode::BAD_REQUEST,
            "FF01",
        ),
        (
            &marc,
            json!({"paymentCoverageRequestId": "x".repeat(36), "instructedAmount": {"currency": "EUR", "amount": "1.00"}, "accountId": {"iban": MARC_1}}),
            StatusCode::BAD_REQUEST,
            "FF01",
        ),
        (
            &marc,
            json!({"paymentCoverageRequestId": "x", "accountId": {"iban": MARC_1}}),
            StatusCode::BAD_REQUEST,
            "FF01",
        ),
        (
            &marc,
            json!({"paymentCoverageRequestId": "x", "instructedAmount": {"currency": "EUR", "amount": "1.00"}}),
            StatusCode::BAD_REQUEST,
            "FF01",
        ),
        (
            &marc,
            json!({"paymentCoverageRequestId": "x", "payee": "p".repeat(71), "instructedAmount": {"currency": "EUR", "amount": "1.00"}, "accountId": {"iban": MARC_1}}),
            StatusCode::BAD_REQUEST,
            "FF01",
        ),
        (&marc, json!([1, 2]), StatusCode::BAD_REQUEST, "FF01"),
    ];
    for amount in ["-1.00", "0", "0.00", "1.001", "abc", ""] {
        cases.push((&marc, request(MARC_1, amount), StatusCode::BAD_REQUEST, "FF01"));
    }
    for currency in ["eur", "EURO", "USD"] {
        let mut body = request(MARC_1, "1.00");
        body["instructedAmount"]["currency"] = json!(currency);
        cases.push((&marc, body, StatusCode::BAD_REQUEST, "FF01"));
    }
    for (token, body, status, code) in cases {
        let (got, answer) = ask(&app, &tpp, "v1.4.2", token, &body).await;
        assert_eq!((got, answer["message"].as_str()), (status, Some(code)), "{body}: {answer}");
        assert!(answer["error"].as_str().is_some_and(|e| e.len() > 10), "an explanation: {answer}");
    }
    let (status, answer) = confirm(&app, &tpp, "v1.4.2", &marc, Some(b"{not json")).await;
    assert_eq!((status, answer["message"].as_str()), (StatusCode::BAD_REQUEST, Some("FF01")));

    // Another method: 405.
    let response = app
        .tpp_client(BP, &tpp)
        .signed(Method::GET, "/stet/psd2/v1.4.2/funds-confirmations")
        .bearer(&marc)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(response.headers()["allow"], "POST");
}

async fn versions_scopes_and_bads(db: TestDb) {
    let (app, tpp) = setup_on(db).await;
    let body = request(MARC_2, "10.00");
    // piisp and cbpii are one PSD2 role: each authorization replaces the previous pair.
    let piisp = token(&app, &tpp, MARC, "piisp", None).await;
    assert_eq!(ask(&app, &tpp, "v1", &piisp, &body).await.1["result"], true, "v1 with piisp");
    let (status, answer) = ask(&app, &tpp, "v1.4.2", &piisp, &body).await;
    assert_eq!((status, answer["message"].as_str()), (StatusCode::FORBIDDEN, Some("BADS")), "a piisp token on v1.4.2");
    let cbpii = token(&app, &tpp, MARC, "cbpii", None).await;
    assert_eq!(ask(&app, &tpp, "v1.4.2", &cbpii, &body).await.1["result"], true, "v1.4.2 with cbpii");
    assert_eq!(ask(&app, &tpp, "v1.6.2", &cbpii, &body).await.1["result"], true, "v1.6.2 with cbpii");
    let (status, answer) = ask(&app, &tpp, "v1", &cbpii, &body).await;
    assert_eq!((status, answer["message"].as_str()), (StatusCode::FORBIDDEN, Some("BADS")), "a cbpii token on v1");
    let aisp = token(&app, &tpp, MARC, "aisp", None).await;
    let (status, answer) = ask(&app, &tpp, "v1.6.2", &aisp, &body).await;
    assert_eq!((status, answer["message"].as_str()), (StatusCode::FORBIDDEN, Some("BADS")), "an aisp token");
}

async fn the_ledger_is_left_as_it_was(db: TestDb) {
    let (app, tpp) = setup_on(db).await;
    let marc = token(&app, &tpp, MARC, "cbpii", None).await;
    let store = app.db.store().await;
    let bank = stet::BankCode::parse("13807").unwrap();
    let today = jiff::civil::Date::constant(2026, 11, 21);
    let window =
        stetgate::ledger::DateWindow { from: today.saturating_sub(120.days()), to: today.saturating_add(1.days()) };
    use stetgate::ledger::Ledger;
    let mut before = Vec::new();
    for id in ["138070080430019654051", "138070080430019654052", "138070080430019654053"] {
        let id = stet::ResourceId::parse(id).unwrap();
        before.push((
            store.balances_of(bank, &id, today).await.unwrap(),
            store.transactions(bank, &id, window).await.unwrap(),
        ));
    }
    for (iban, amount) in [(MARC_1, "4000.00"), (MARC_1, "5000.00"), (MARC_2, "100.00"), (MARC_3, "2165.50")] {
        assert_eq!(ask(&app, &tpp, "v1.4.2", &marc, &request(iban, amount)).await.0, StatusCode::OK);
    }
    let mut after = Vec::new();
    for id in ["138070080430019654051", "138070080430019654052", "138070080430019654053"] {
        let id = stet::ResourceId::parse(id).unwrap();
        after.push((
            store.balances_of(bank, &id, today).await.unwrap(),
            store.transactions(bank, &id, window).await.unwrap(),
        ));
    }
    assert_eq!(before, after, "no funds blocked, no operation recorded");
}

db_tests!(covered_and_not_covered, reason_codes, versions_scopes_and_bads, the_ledger_is_left_as_it_was);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bank_may_limit_the_rate() {
    let (app, tpp) = setup(AppOptions { funds_rate_limit: Some(("13807", 3)), ..AppOptions::default() }).await;
    let marc = token(&app, &tpp, MARC, "cbpii", None).await;
    for _ in 0..3 {
        assert_eq!(ask(&app, &tpp, "v1.4.2", &marc, &request(MARC_2, "1.00")).await.0, StatusCode::OK);
    }
    let (status, answer) = ask(&app, &tpp, "v1.4.2", &marc, &request(MARC_2, "1.00")).await;
    assert_eq!((status, answer["message"].as_str()), (StatusCode::TOO_MANY_REQUESTS, Some("TMRQ")));
    app.clock.advance(jiff::SignedDuration::from_secs(60));
    assert_eq!(ask(&app, &tpp, "v1.4.2", &marc, &request(MARC_2, "1.00")).await.0, StatusCode::OK, "a new minute");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_limit_by_default() {
    let (app, tpp) = setup(AppOptions::default()).await;
    let marc = token(&app, &tpp, MARC, "cbpii", None).await;
    for _ in 0..8 {
        assert_eq!(ask(&app, &tpp, "v1.4.2", &marc, &request(MARC_2, "1.00")).await.0, StatusCode::OK);
    }
}
