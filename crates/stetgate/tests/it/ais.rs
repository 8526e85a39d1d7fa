//! Account information over real TLS, on the personas of PERSONAS.md: the two faces of
//! GET /accounts, consents, balances, transactions (date forms, depth, cap, 204), details,
//! overdrafts, identity, trusted beneficiaries, and the batch quota (Paris days, DST, shared by
//! nodes).

use crate::harness::{CertSpec, TestApp, TestDb, TestTpp, db_tests, spawn_app, spawn_second_node};
use jiff::{SignedDuration, Timestamp};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const CE: &str = "www.17515.sandbox.localhost";
const BP: &str = "www.13807.sandbox.localhost";
const ORG: &str = "PSDFR-ACPR-12345";
const LEA: &str = "9999999901";
const LEA_1: &str = "FR7617515000920400430518020";
const LEA_1_ID: &str = "175150009204004305180";
const LEA_2: &str = "FR7617515000920400851811524";
const LEA_2_ID: &str = "175150009204008518115";

/// A logged-in AISP: the app, its TPP and an aisp access token for a PSU.
struct Aisp {
    app: TestApp,
    tpp: TestTpp,
    token: String,
    host: &'static str,
}

async fn aisp(db: TestDb, host: &'static str, psu: &str) -> Aisp {
    aisp_with(db, host, psu, CertSpec::default()).await
}

async fn aisp_with(db: TestDb, host: &'static str, psu: &str, spec: CertSpec) -> Aisp {
    let app = spawn_app(db).await;
    let tpp = app.tpp(ORG, spec);
    app.register(&tpp).await;
    let token = login(&app, &tpp, host, psu).await;
    Aisp { app, tpp, token, host }
}

async fn login(app: &TestApp, tpp: &TestTpp, host: &str, psu: &str) -> String {
    app.access_token(tpp, host, psu, "aisp", None).await
}

impl Aisp {
    /// A fresh token (after moving the clock past the last one's hour).
    async fn relogin(&mut self, psu: &str) {
        self.token = login(&self.app, &self.tpp, self.host, psu).await;
    }

    /// A signed call with the PSU connected (no quota).
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value, reqwest::header::HeaderMap) {
        self.call_as(method, path, body, true).await
    }

    async fn call_as(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        psu_connected: bool,
    ) -> (StatusCode, Value, reqwest::header::HeaderMap) {
        let mut request = self.app.tpp_client(self.host, &self.tpp).signed(method, path).bearer(&self.token);
        if psu_connected {
            request = request.header("psu-ip-address", "192.0.2.10");
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let (status, headers) = (response.status(), response.headers().clone());
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null), headers)
    }

    /// `PUT /consents`; the booleans every Access carries default to false when a test leaves
    /// them out.
    async fn consent(&self, version: &str, mut body: Value) -> (StatusCode, Value) {
        let has_balances = body.get("balances").is_some();
        if let (Some(object), true) = (body.as_object_mut(), has_balances) {
            for flag in ["psuIdentity", "trustedBeneficiaries"] {
                object.entry(flag).or_insert(json!(false));
            }
        }
        let (status, body, _) = self.call(Method::PUT, &format!("/stet/psd2/{version}/consents"), Some(body)).await;
        (status, body)
    }
}

fn ibans(list: &[&str]) -> Value {
    Value::Array(list.iter().map(|i| json!({"iban": i})).collect())
}

async fn accounts_before_and_after_consent(db: TestDb) {
    let a = aisp(db, CE, LEA).await;
    // Before any consent: every account, without resourceId, links or balances.
    let (status, body, headers) = a.call(Method::GET, "/stet/psd2/v1.4.2/accounts", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "application/hal+json; charset=utf-8");
    let accounts = body["accounts"].as_array().unwrap();
    assert_eq!(accounts.len(), 2);
    assert_eq!(
        accounts[0],
        json!({"accountId": {"iban": LEA_1, "currency": "EUR"}, "name": "LEA SANDBOXA", "usage": "PRIV", "cashAccountType": "CACC", "psuStatus": "Account Holder"})
    );
    assert_eq!(body["_links"], json!({"self": {"href": "/stet/psd2/v1.4.2/accounts", "templated": false}}));

    // Partial grants.
    let consent = json!({"balances": ibans(&[LEA_1]), "transactions": ibans(&[LEA_1, LEA_2]), "trustedBeneficiaries": false, "psuIdentity": true});
    let (status, body) = a.consent("v1.4.2", consent).await;
    assert_eq!((status, body), (StatusCode::CREATED, Value::Null), "201 with no body");
    let (_, body, _) = a.call(Method::GET, "/stet/psd2/v1.4.2/accounts", None).await;
    let first = &body["accounts"][0];
    assert_eq!(first["resourceId"], LEA_1_ID);
    assert_eq!(first["_links"]["balances"]["href"], format!("/stet/psd2/v1.4.2/accounts/{LEA_1_ID}/balances"));
    assert_eq!(first["_links"]["transactions"]["templated"], true);
    assert_eq!(first["balances"][0]["balanceType"], "CLBD");
    assert_eq!(first["balances"][0]["balanceAmount"], json!({"currency": "EUR", "amount": "-150.00"}));
    let second = &body["accounts"][1];
    assert_eq!(second["resourceId"], LEA_2_ID);
    assert!(
        second["_links"].get("balances").is_none() && second.get("balances").is_none(),
        "transactions only: {second}"
    );
    assert_eq!(body["_links"]["endUserIdentity"]["href"], "/stet/psd2/v1.4.2/end-user-identity");

    // v1.6.2 offers overdrafts; v1 carries the currency on the account and always _links.
    let (status, _) = a.consent("v1.6.2", json!({"balances": [], "transactions": [], "overdrafts": ibans(&[LEA_2]), "psuIdentity": false, "trustedBeneficiaries": false})).await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, body, _) = a.call(Method::GET, "/stet/psd2/v1.6.2/accounts", None).await;
    assert!(body["accounts"][0].get("resourceId").is_none(), "the previous consent was replaced entirely");
    assert_eq!(
        body["accounts"][1]["_links"]["overdrafts"]["href"],
        format!("/stet/psd2/v1.6.2/accounts/{LEA_2_ID}/overdrafts")
    );
    assert!(body["_links"].get("endUserIdentity").is_none());
    let (_, body, _) = a.call(Method::GET, "/stet/psd2/v1/accounts", None).await;
    assert_eq!(body["accounts"][0]["currency"], "EUR");
    assert_eq!(body["accounts"][0]["_links"], json!({}));
    assert!(body["accounts"][0]["accountId"].get("currency").is_none());

    // An empty consent revokes everything: back to the first face.
    let (status, _) = a
        .consent(
            "v1.4.2",
            json!({"balances": [], "transactions": [], "psuIdentity": false, "trustedBeneficiaries": false}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, body, _) = a.call(Method::GET, "/stet/psd2/v1.4.2/accounts", None).await;
    assert!(body["accounts"].as_array().unwrap().iter().all(|acc| acc.get("resourceId").is_none()));
    let (status, _, _) = a.call(Method::GET, &format!("/stet/psd2/v1.4.2/accounts/{LEA_1_ID}/balances"), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

async fn consent_refusals_keep_the_previous_consent(db: TestDb) {
    let a = aisp(db, CE, LEA).await;
    let good =
        json!({"balances": ibans(&[LEA_1]), "transactions": [], "psuIdentity": false, "trustedBeneficiaries": true});
    assert_eq!(a.consent("v1.4.2", good).await.0, StatusCode::CREATED, "trustedBeneficiaries is accepted and ignored");
    for (body, needle) in [
        (
            json!({"balances": ibans(&["FR7617515000920400430518021"]), "transactions": []}),
            "FR7617515000920400430518021",
        ),
        (
            json!({"balances": ibans(&["FR7617515000920400085945890"]), "transactions": []}),
            "FR7617515000920400085945890",
        ),
        (
            json!({"balances": [], "transactions": [{"other": {"identification": "175150009204000859458", "schemeName": "BANK"}}]}),
            "175150009204000859458",
        ),
        (json!({"balances": [{}], "transactions": []}), "neither iban"),
        // GenericIdentification's lengths (STET 1.4.0.47): an issuer of 36 characters.
        (
            json!({"balances": [], "transactions": [{"other": {"identification": LEA_2_ID, "schemeName": "BANK", "issuer": "I".repeat(36)}}]}),
            "transactions[0].other is not an account reference",
        ),
        (json!({"balances": "all"}), "not a STET Access object"),
        // A misspelled key is not "nothing granted".
        (json!({"balanses": ibans(&[LEA_1])}), "balanses is not a field of Access"),
        // Every field is required.
        (json!({"transactions": [], "psuIdentity": false, "trustedBeneficiaries": false}), "balances is missing"),
        // An array is not an object read field by field.
        (json!([[{"iban": LEA_1}]]), "must be a JSON object"),
        (json!({"balances": [["FR7617515000920400430518020"]], "transactions": []}), "balances[0] must be an object"),
        (json!({"balances": [], "transactions": [], "overdrafts": ibans(&[LEA_1])}), "from v1.6.2 on"),
    ] {
        let (status, answer) = a.consent("v1.4.2", body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(answer["error"].as_str().unwrap().contains(needle), "{needle}: {answer}");
    }
    // A body that is not declared JSON.
    let response = a
        .app
        .tpp_client(a.host, &a.tpp)
        .signed(Method::PUT, "/stet/psd2/v1.4.2/consents")
        .bearer(&a.token)
        .header("PSU-IP-Address", "192.0.2.10")
        .header("content-type", "text/plain")
        .body(serde_json::to_vec(&json!({"balances": [], "transactions": []})).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response.text().await.unwrap().contains("Content-Type"));
    let (status, body, _) = a.call(Method::GET, &format!("/stet/psd2/v1.4.2/accounts/{LEA_1_ID}/balances"), None).await;
    assert_eq!(status, StatusCode::OK, "the previous consent stays: {body}");
    // Accounts may also be referenced by resource id.
    let by_id =
        json!({"balances": [{"other": {"identification": LEA_2_ID, "schemeName": "BANK"}}], "transactions": []});
    assert_eq!(a.consent("v1.4.2", by_id).await.0, StatusCode::CREATED);
    let (status, _, _) = a.call(Method::GET, &format!("/stet/psd2/v1.4.2/accounts/{LEA_2_ID}/balances"), None).await;
    assert_eq!(status, StatusCode::OK);
    // Wrong methods.
    for (method, path) in [
        (Method::POST, "/stet/psd2/v1.4.2/consents"),
        (Method::POST, "/stet/psd2/v1.4.2/accounts"),
        (Method::DELETE, "/stet/psd2/v1.6.2/consents"),
    ] {
        let (status, _, headers) = a.call(method, path, None).await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
        assert!(headers.contains_key("allow"));
    }
}

async fn balances_overdrafts_identity_beneficiaries(db: TestDb) {
    let a = aisp(db, CE, LEA).await;
    let consent = json!({"balances": ibans(&[LEA_1]), "transactions": [], "overdrafts": ibans(&[LEA_1]), "psuIdentity": true, "trustedBeneficiaries": false});
    assert_eq!(a.consent("v1.6.2", consent).await.0, StatusCode::CREATED);

    let (status, body, _) = a.call(Method::GET, &format!("/stet/psd2/v1.4.2/accounts/{LEA_1_ID}/balances"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body["balances"],
        json!([{"name": "Solde comptable au 21/11/2026", "balanceAmount": {"currency": "EUR", "amount": "-150.00"}, "balanceType": "CLBD", "referenceDate": "2026-11-21"}])
    );
    assert_eq!(body["_links"]["self"]["href"], format!("/stet/psd2/v1.4.2/accounts/{LEA_1_ID}/balances"));
    assert_eq!(body["_links"]["parent-list"]["href"], "/stet/psd2/v1.4.2/accounts");
    for (path, status) in [
        (format!("/stet/psd2/v1.4.2/accounts/{LEA_2_ID}/balances"), StatusCode::FORBIDDEN),
        ("/stet/psd2/v1.4.2/accounts/175150009204000859458/balances".to_owned(), StatusCode::NOT_FOUND),
        ("/stet/psd2/v1.4.2/accounts/not-an-account/balances".to_owned(), StatusCode::NOT_FOUND),
        (format!("/stet/psd2/v1.6.2/accounts/{LEA_2_ID}/overdrafts"), StatusCode::FORBIDDEN),
    ] {
        assert_eq!(a.call(Method::GET, &path, None).await.0, status, "{path}");
    }
    let (status, body, _) =
        a.call(Method::GET, &format!("/stet/psd2/v1.6.2/accounts/{LEA_1_ID}/overdrafts"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["overdrafts"]["allowedAmount"], json!({"currency": "EUR", "amount": "500.00"}));
    assert_eq!(body["_links"]["balances"]["href"], format!("/stet/psd2/v1.6.2/accounts/{LEA_1_ID}/balances"));

    let (status, body, _) = a.call(Method::GET, "/stet/psd2/v1.4.2/end-user-identity", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (body["connectedPsu"].as_str(), body["connectedPsuFirstName"].as_str(), body["connectedPsuLastName"].as_str()),
        (Some("LEA SANDBOXA"), Some("LEA"), Some("SANDBOXA"))
    );
    assert_eq!(a.call(Method::GET, "/stet/psd2/v1.4.2/trusted-beneficiaries", None).await.0, StatusCode::NO_CONTENT);
    assert_eq!(
        a.call(Method::GET, "/stet/psd2/v1/end-user-identity", None).await.0,
        StatusCode::NOT_FOUND,
        "1.4.0.47 has no identity resource"
    );

    assert_eq!(
        a.consent("v1.4.2", json!({"balances": ibans(&[LEA_1]), "transactions": []})).await.0,
        StatusCode::CREATED
    );
    let (status, body, _) = a.call(Method::GET, "/stet/psd2/v1.4.2/end-user-identity", None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
}

async fn transactions_windows_and_statuses(db: TestDb) {
    let a = aisp(db, CE, "9999999903").await;
    const GEORGES: &str = "175150009204000859458";
    let consent = json!({"balances": [], "transactions": [{"iban": "FR7617515000920400085945890"}], "psuIdentity": false, "trustedBeneficiaries": false});
    assert_eq!(a.consent("v1.6.2", consent).await.0, StatusCode::CREATED);
    let base = format!("/stet/psd2/v1.6.2/accounts/{GEORGES}/transactions");
    let (status, body, _) = a.call(Method::GET, &base, None).await;
    assert_eq!(status, StatusCode::OK);
    let all = body["transactions"].as_array().unwrap();
    assert!(all.len() > 200 && all.len() <= 500, "{}", all.len());
    let dates: Vec<&str> = all.iter().map(|t| t["transactionDate"].as_str().unwrap()).collect();
    assert!(dates.windows(2).all(|w| w[0] >= w[1]), "newest first");
    assert!(all.iter().any(|t| t["status"] == "OTHR" && t.get("bookingDate").is_none()), "OTHR has no booking date");
    assert!(all.iter().all(|t| t["status"] == "BOOK" || t["status"] == "OTHR"));
    assert!(
        all.iter().any(|t| t.get("entryReference").is_none()) && all.iter().any(|t| t.get("entryReference").is_some())
    );
    assert!(all.iter().all(|t| t.get("bankTransactionCode").is_none()), "retail: no codes");
    let first_id = all[0]["resourceId"].as_str().unwrap().to_owned();
    assert_eq!(all[0]["_links"]["details"]["href"], format!("{base}/{first_id}/details"));

    for (query, expect) in [
        ("dateFrom=2026-11-14T00:00:00.000", StatusCode::OK),
        ("dateFrom=2026-11-14T00:00:00.000Z", StatusCode::OK),
        ("dateFrom=2026-11-14T00:00:00.000%2B0100", StatusCode::OK),
        ("dateFrom=2026-11-14T00:00:00.000%2B01:00", StatusCode::OK),
        ("dateFrom=2026-11-14&dateTo=2026-11-15", StatusCode::OK),
        ("dateFrom=2026-09-20", StatusCode::OK),
        ("dateFrom=2026-09-19", StatusCode::BAD_REQUEST),
        ("dateFrom=14/11/2026", StatusCode::BAD_REQUEST),
        ("dateTo=2026-11-14T25:00:00.000", StatusCode::BAD_REQUEST),
        ("dateFrom=2026-11-15&dateTo=2026-11-14", StatusCode::BAD_REQUEST),
        ("entryReferenceFrom=x&dateType=booking", StatusCode::OK),
    ] {
        let (status, body, _) = a.call(Method::GET, &format!("{base}?{query}"), None).await;
        assert_eq!(status, expect, "{query}: {body}");
    }
    let (_, body, _) = a.call(Method::GET, &format!("{base}?dateFrom=2026-11-14&dateTo=2026-11-15"), None).await;
    assert!(
        body["transactions"].as_array().unwrap().iter().all(|t| t["transactionDate"] == "2026-11-14"),
        "one day, dateTo exclusive"
    );
    let (_, body, _) = a.call(Method::GET, &format!("{base}?dateFrom=2026-09-19"), None).await;
    assert!(body["error"].as_str().unwrap().contains("period out of bound"), "{body}");

    // Details (1.6.2) and 404 for an unknown transaction.
    let (status, body, _) = a.call(Method::GET, &format!("{base}/{first_id}/details"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["transactionDetails"]["resourceId"], first_id.as_str());
    assert_eq!(a.call(Method::GET, &format!("{base}/nope/details"), None).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        a.call(Method::GET, &format!("/stet/psd2/v1.4.2/accounts/{GEORGES}/transactions/{first_id}/details"), None)
            .await
            .0,
        StatusCode::NOT_FOUND
    );

    // v1 (1.4.0.47) requires a bookingDate: operations not booked yet carry their date.
    let (_, body, _) = a.call(Method::GET, &format!("/stet/psd2/v1/accounts/{GEORGES}/transactions"), None).await;
    assert!(body["transactions"].as_array().unwrap().iter().all(|t| t.get("bookingDate").is_some()));
}

async fn transactions_204_cap_and_corporate_depth(db: TestDb) {
    // CLAIRE's retail account has no operation: 204.
    let claire = aisp(db, CE, "9999999902").await;
    let consent =
        json!({"balances": [], "transactions": ibans(&["FR7617515900000400358074026", "FR7617515900000800358074006"])});
    assert_eq!(claire.consent("v1.4.2", consent).await.0, StatusCode::CREATED);
    let (status, _, _) =
        claire.call(Method::GET, "/stet/psd2/v1.4.2/accounts/175159000004003580740/transactions", None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    // Her professional account carries bank transaction codes.
    let (_, body, _) =
        claire.call(Method::GET, "/stet/psd2/v1.4.2/accounts/175159000008003580740/transactions", None).await;
    assert!(body["transactions"].as_array().unwrap().iter().all(|t| t["bankTransactionCode"]["domain"] == "PMNT"));

    // At most 500 operations: give the professional account 700 more in the window.
    let store = claire.app.db.store().await;
    let today = jiff::civil::Date::constant(2026, 11, 21);
    let extra: Vec<stetgate::ledger::Transaction> = (0..700)
        .map(|i| stetgate::ledger::Transaction {
            id: format!("BULK-{i:04}"),
            entry_reference: None,
            amount: stet::Amount::from_minor(100, stet::Currency::EUR),
            credit_debit: stetgate::ledger::CreditDebit::Debit,
            status: stetgate::ledger::TransactionStatus::Book,
            transaction_date: today.saturating_sub(jiff::ToSpan::days(i64::from(i % 30))),
            booking_date: None,
            value_date: None,
            remittance: vec!["BULK".into()],
            bank_transaction_code: None,
            creditor_name: None,
            debtor_name: None,
        })
        .collect();
    store
        .replace_generated_transactions(&[(
            stet::BankCode::parse("17515").unwrap(),
            stet::ResourceId::parse("175159000008003580740").unwrap(),
            extra,
        )])
        .await
        .unwrap();
    let (_, body, _) =
        claire.call(Method::GET, "/stet/psd2/v1.4.2/accounts/175159000008003580740/transactions", None).await;
    assert_eq!(body["transactions"].as_array().unwrap().len(), 500);
}

async fn corporate_history_is_90_days(db: TestDb) {
    let a = aisp(db, BP, "D0999993I0").await;
    let consent = json!({"balances": [], "transactions": ibans(&["FR7613807008043001965409135"]), "psuIdentity": true});
    assert_eq!(a.consent("v1.4.2", consent).await.0, StatusCode::CREATED);
    let path = "/stet/psd2/v1.4.2/accounts/138070080430019654091/transactions";
    assert_eq!(
        a.call(Method::GET, &format!("{path}?dateFrom=2026-08-24"), None).await.0,
        StatusCode::OK,
        "80 days back"
    );
    assert_eq!(
        a.call(Method::GET, &format!("{path}?dateFrom=2026-08-22"), None).await.0,
        StatusCode::BAD_REQUEST,
        "92 days back"
    );
    let (_, body, _) = a.call(Method::GET, "/stet/psd2/v1.4.2/end-user-identity", None).await;
    assert_eq!(body["connectedPsu"], "Tech'n Co", "a company's name");
}

async fn batch_quota_per_paris_day(db: TestDb) {
    let mut a = aisp(db, CE, LEA).await;
    let consent = json!({"balances": ibans(&[LEA_1, LEA_2]), "transactions": ibans(&[LEA_1]), "psuIdentity": true});
    assert_eq!(a.consent("v1.4.2", consent).await.0, StatusCode::CREATED);
    let balances_1 = format!("/stet/psd2/v1.4.2/accounts/{LEA_1_ID}/balances");
    let balances_2 = format!("/stet/psd2/v1.4.2/accounts/{LEA_2_ID}/balances");
    for i in 1..=4 {
        assert_eq!(a.call_as(Method::GET, &balances_1, None, false).await.0, StatusCode::OK, "batch call {i}");
    }
    let (status, body, headers) = a.call_as(Method::GET, &balances_1, None, false).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    // 10:00 UTC is 11:00 in Paris: 13 hours to midnight.
    assert_eq!(headers["retry-after"], "46800");
    assert_eq!(
        a.call_as(Method::GET, &balances_2, None, false).await.0,
        StatusCode::OK,
        "another account has its own count"
    );
    assert_eq!(a.call_as(Method::GET, &balances_1, None, true).await.0, StatusCode::OK, "the PSU connected: no limit");
    // /transactions with or without dates is one method.
    let transactions = format!("/stet/psd2/v1.4.2/accounts/{LEA_1_ID}/transactions");
    for path in [
        transactions.clone(),
        format!("{transactions}?dateFrom=2026-11-01"),
        transactions.clone(),
        format!("{transactions}?dateTo=2026-11-20"),
    ] {
        assert_eq!(a.call_as(Method::GET, &path, None, false).await.0, StatusCode::OK);
    }
    assert_eq!(a.call_as(Method::GET, &transactions, None, false).await.0, StatusCode::TOO_MANY_REQUESTS);
    // /accounts and /end-user-identity count per PSU.
    for _ in 0..4 {
        assert_eq!(a.call_as(Method::GET, "/stet/psd2/v1.4.2/accounts", None, false).await.0, StatusCode::OK);
    }
    assert_eq!(
        a.call_as(Method::GET, "/stet/psd2/v1.6.2/accounts", None, false).await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
    // Paris midnight (23:00 UTC in November): a new day. 22:59 is still the old one.
    a.app.clock.set("2026-11-21T22:59:00Z".parse::<Timestamp>().unwrap());
    a.relogin(LEA).await;
    assert_eq!(a.call_as(Method::GET, &balances_1, None, false).await.0, StatusCode::TOO_MANY_REQUESTS);
    a.app.clock.advance(SignedDuration::from_mins(1));
    assert_eq!(a.call_as(Method::GET, &balances_1, None, false).await.0, StatusCode::OK, "a new Paris day");
}

async fn batch_quota_across_dst(db: TestDb) {
    let spec = CertSpec { valid_from: -60 * 86_400, ..CertSpec::default() };
    let mut a = aisp_with(db, CE, LEA, spec).await;
    assert_eq!(
        a.consent("v1.4.2", json!({"balances": ibans(&[LEA_1]), "transactions": []})).await.0,
        StatusCode::CREATED
    );
    let balances = format!("/stet/psd2/v1.4.2/accounts/{LEA_1_ID}/balances");
    // The autumn change: 25 October 2026 has 25 hours in Paris; its midnight is 23:00 UTC.
    a.app.clock.set("2026-10-25T22:30:00Z".parse::<Timestamp>().unwrap());
    a.relogin(LEA).await;
    for _ in 0..4 {
        assert_eq!(a.call_as(Method::GET, &balances, None, false).await.0, StatusCode::OK);
    }
    let (status, _, headers) = a.call_as(Method::GET, &balances, None, false).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(headers["retry-after"], "1800", "half an hour to Paris midnight, after the change");
    a.app.clock.set("2026-10-25T23:00:00Z".parse::<Timestamp>().unwrap());
    a.relogin(LEA).await;
    assert_eq!(a.call_as(Method::GET, &balances, None, false).await.0, StatusCode::OK);
    // The spring change: 28 March 2027 has 23 hours; 22:30 UTC on the 28th is 00:30 on the 29th.
    // The 28th starts at 23:00 UTC on the 27th (CET) and ends at 22:00 UTC on the 28th (CEST).
    a.app.clock.set("2027-03-27T23:00:00Z".parse::<Timestamp>().unwrap());
    a.relogin(LEA).await;
    assert_eq!(a.call_as(Method::GET, &balances, None, false).await.0, StatusCode::OK, "the 28th, CET");
    a.app.clock.set("2027-03-28T21:59:00Z".parse::<Timestamp>().unwrap());
    a.relogin(LEA).await;
    for _ in 0..3 {
        assert_eq!(a.call_as(Method::GET, &balances, None, false).await.0, StatusCode::OK, "the 28th, CEST");
    }
    let (status, _, headers) = a.call_as(Method::GET, &balances, None, false).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "the 28th is one Paris day across the change");
    assert_eq!(headers["retry-after"], "60", "midnight CEST is 22:00 UTC");
}

async fn quota_is_shared_by_nodes(db: TestDb) {
    let a = aisp(db, CE, LEA).await;
    assert_eq!(
        a.consent("v1.4.2", json!({"balances": ibans(&[LEA_1]), "transactions": []})).await.0,
        StatusCode::CREATED
    );
    let second = spawn_second_node(&a.app).await;
    let b = Aisp { app: second, tpp: a.tpp.clone(), token: a.token.clone(), host: CE };
    let balances = format!("/stet/psd2/v1.4.2/accounts/{LEA_1_ID}/balances");
    for node in [&a, &b, &a, &b] {
        assert_eq!(
            node.call_as(Method::GET, &balances, None, false).await.0,
            StatusCode::OK,
            "a token of one node works on the other"
        );
    }
    assert_eq!(
        b.call_as(Method::GET, &balances, None, false).await.0,
        StatusCode::TOO_MANY_REQUESTS,
        "the count is global"
    );
    assert_eq!(a.call_as(Method::GET, &balances, None, false).await.0, StatusCode::TOO_MANY_REQUESTS);
}

/// Found by the load generator: concurrent PUT /consents of one PSU and TPP failed with 503 on
/// PostgreSQL (each transaction deleted the old consent, then both inserted the new one). They
/// must all succeed, the last one committed being the consent.
async fn concurrent_consents_all_succeed(db: TestDb) {
    let a = aisp(db, CE, LEA).await;
    let client = a.app.tpp_client(a.host, &a.tpp);
    let calls: Vec<_> = (0..16)
        .map(|i| {
            let granted = if i % 2 == 0 { ibans(&[LEA_1]) } else { ibans(&[LEA_1, LEA_2]) };
            let body =
                json!({"balances": granted, "transactions": [], "psuIdentity": false, "trustedBeneficiaries": false});
            let request = client
                .signed(Method::PUT, "/stet/psd2/v1.4.2/consents")
                .bearer(&a.token)
                .header("psu-ip-address", "192.0.2.10")
                .json(&body);
            tokio::spawn(async move { request.send().await.unwrap().status() })
        })
        .collect();
    let mut statuses = Vec::new();
    for call in calls {
        statuses.push(call.await.unwrap());
    }
    assert!(statuses.iter().all(|s| *s == StatusCode::CREATED), "{statuses:?}");
    let (_, body, _) = a.call(Method::GET, "/stet/psd2/v1.4.2/accounts", None).await;
    let with_balances = body["accounts"].as_array().unwrap().iter().filter(|acc| acc.get("balances").is_some()).count();
    assert!(with_balances == 1 || with_balances == 2, "one whole consent, not a mixture: {body}");
}

/// What a node remembers (registrations and consents, store/decisions.rs) never delays a decision:
/// a consent change, a spent batch quota, a token revocation, a new QSealC, a suspension and a
/// deactivated TPP on one node are all seen by the other at its very next request.
async fn another_node_sees_every_change_at_its_next_request(db: TestDb) {
    let mut a = aisp(db, CE, LEA).await;
    let second = spawn_second_node(&a.app).await;
    let on_second = |a: &Aisp, path: &str, psu_connected: bool| {
        let mut request = second.tpp_client(CE, &a.tpp).signed(Method::GET, path).bearer(&a.token);
        if psu_connected {
            request = request.header("psu-ip-address", "192.0.2.10");
        }
        async move { request.send().await.unwrap().status() }
    };
    let balances = |id: &str| format!("/stet/psd2/v1.4.2/accounts/{id}/balances");
    let both = json!({"balances": ibans(&[LEA_1, LEA_2]), "transactions": [], "psuIdentity": false});
    assert_eq!(a.consent("v1.4.2", both).await.0, StatusCode::CREATED);
    // The second node reads (and remembers) the registration and the consent.
    assert_eq!(on_second(&a, "/stet/psd2/v1.4.2/accounts", true).await, StatusCode::OK);
    assert_eq!(on_second(&a, &balances(LEA_2_ID), true).await, StatusCode::OK);

    let one = json!({"balances": ibans(&[LEA_1]), "transactions": [], "psuIdentity": false});
    assert_eq!(a.consent("v1.4.2", one).await.0, StatusCode::CREATED);
    assert_eq!(on_second(&a, &balances(LEA_2_ID), true).await, StatusCode::FORBIDDEN, "the consent changed");
    assert_eq!(on_second(&a, &balances(LEA_1_ID), true).await, StatusCode::OK);

    for _ in 0..4 {
        assert_eq!(a.call_as(Method::GET, &balances(LEA_1_ID), None, false).await.0, StatusCode::OK);
    }
    assert_eq!(on_second(&a, &balances(LEA_1_ID), false).await, StatusCode::TOO_MANY_REQUESTS, "quota spent");

    let revoke = a
        .app
        .tpp_client(CE, &a.tpp)
        .request(Method::POST, "/stet/psd2/oauth/revoke")
        .form(&[("token", a.token.as_str()), ("client_id", ORG)])
        .send()
        .await
        .unwrap();
    assert_eq!(revoke.status(), StatusCode::OK);
    assert_eq!(on_second(&a, &balances(LEA_1_ID), true).await, StatusCode::UNAUTHORIZED, "the token is revoked");

    a.relogin(LEA).await;
    assert_eq!(on_second(&a, &balances(LEA_1_ID), true).await, StatusCode::OK, "a new token, the same consent");

    // A new QSealC registered through the first node: the second checks signatures against it at
    // its next request (the old seal refused, the new one accepted).
    let renewed = a.app.tpp(ORG, CertSpec::default());
    let path = format!("/stet/psd2/oauth/register/{ORG}");
    let mut body = a.tpp.registration(crate::harness::CALLBACK);
    body["qsealc"] = json!(renewed.qseal.cert_pem);
    let update = a.app.tpp_client(CE, &a.tpp).request(Method::PUT, &path).json(&body).send().await.unwrap();
    assert_eq!(update.status(), StatusCode::OK, "{}", update.text().await.unwrap_or_default());
    assert_eq!(on_second(&a, &balances(LEA_1_ID), true).await, StatusCode::BAD_REQUEST, "the old QSealC");
    let signer = stet_tpp::Signer::new(&renewed.qseal.key_pem, renewed.key_id_url()).unwrap();
    let new_seal = second.tpp_client_with(CE, Some(&a.tpp.qwac), Some(signer));
    let request = new_seal.signed(Method::GET, &balances(LEA_1_ID)).bearer(&a.token);
    let answer = request.header("psu-ip-address", "192.0.2.10").send().await.unwrap();
    assert_eq!(answer.status(), StatusCode::OK, "the new QSealC");
    a.tpp.qseal = renewed.qseal;

    // A write that sets no revision (a node of an older version during a rolling upgrade, an
    // operator's own SQL) is seen as well: the database's triggers give the row a new one.
    let sql = |statement: &'static str| {
        let url = a.app.db.url().to_owned();
        async move {
            use sqlx::Connection;
            sqlx::any::install_default_drivers();
            let mut conn = sqlx::AnyConnection::connect(&url).await.unwrap();
            sqlx::query(statement).bind(ORG).execute(&mut conn).await.unwrap();
            conn.close().await.unwrap();
        }
    };
    sql("UPDATE tpps SET suspended_at = 1, suspension_reason = 'by hand' WHERE org_id = $1").await;
    assert_eq!(on_second(&a, &balances(LEA_1_ID), true).await, StatusCode::UNAUTHORIZED, "suspended by hand");
    sql("UPDATE tpps SET suspended_at = NULL, suspension_reason = NULL WHERE org_id = $1").await;
    assert_eq!(on_second(&a, &balances(LEA_1_ID), true).await, StatusCode::OK, "and reinstated");
    // Rows that belong to a consent or a registration, written alone, count as a change of it.
    sql("DELETE FROM ais_consent_accounts WHERE client_id = $1").await;
    assert_eq!(on_second(&a, &balances(LEA_1_ID), true).await, StatusCode::FORBIDDEN, "a consent emptied by hand");
    let authorize = |redirect: &str| {
        let query = format!("response_type=code&scope=aisp&state=s1&client_id={ORG}&redirect_uri={redirect}");
        let request = second.client(CE).request_without_id(Method::GET, &format!("/stet/psd2/oauth/authorize?{query}"));
        async move { request.send().await.unwrap().status() }
    };
    assert_eq!(authorize(crate::harness::CALLBACK).await, StatusCode::OK, "the registered redirect URI");
    sql("UPDATE tpp_redirect_uris SET uri = 'https://tpp.example/moved' WHERE org_id = $1").await;
    assert_eq!(authorize(crate::harness::CALLBACK).await, StatusCode::BAD_REQUEST, "a redirect URI changed by hand");
    assert_eq!(authorize("https://tpp.example/moved").await, StatusCode::OK);
    let path = format!("/stet/psd2/oauth/register/{ORG}");
    let deleted = a.app.tpp_client(CE, &a.tpp).request(Method::DELETE, &path).send().await.unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    assert_eq!(on_second(&a, &balances(LEA_1_ID), true).await, StatusCode::UNAUTHORIZED, "the TPP deactivated itself");
}

db_tests!(
    concurrent_consents_all_succeed,
    another_node_sees_every_change_at_its_next_request,
    accounts_before_and_after_consent,
    consent_refusals_keep_the_previous_consent,
    balances_overdrafts_identity_beneficiaries,
    transactions_windows_and_statuses,
    transactions_204_cap_and_corporate_depth,
    corporate_history_is_90_days,
    batch_quota_per_paris_day,
    batch_quota_across_dst,
    quota_is_shared_by_nodes,
);
