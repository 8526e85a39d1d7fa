//! Response bodies against the official STET 1.4.0.47 definitions (crates/stet/spec/): the `/v1`
//! resources the bank serves in that version, and the ErrorModel of every version. Snapshots
//! (insta, with ids, tokens and dates redacted) keep the exact shape of the main answers.

use crate::harness::{CertSpec, TestApp, TestDb, TestTpp, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const CE: &str = "www.17515.sandbox.localhost";
const ORG: &str = "PSDFR-ACPR-12345";

fn spec() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../stet/spec/stet-psd2-v1.4.0.47.swagger.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Validates `body` against the spec's definition `name` (JSON Schema draft 4, as swagger 2.0 uses).
fn assert_valid(spec: &Value, name: &str, body: &Value) {
    let schema = json!({"definitions": spec["definitions"], "allOf": [{"$ref": format!("#/definitions/{name}")}]});
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft4)
        .should_validate_formats(true)
        .build(&schema)
        .unwrap();
    let errors: Vec<String> = validator.iter_errors(body).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    assert!(errors.is_empty(), "{name} does not match STET 1.4.0.47: {errors:#?}\n{body:#}");
}

async fn token(app: &TestApp, tpp: &TestTpp, psu: &str) -> String {
    app.access_token(tpp, CE, psu, "aisp", None).await
}

async fn call(
    app: &TestApp,
    tpp: &TestTpp,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = app.tpp_client(CE, tpp).signed(method, path).bearer(token).header("psu-ip-address", "192.0.2.10");
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    (status, serde_json::from_str(&response.text().await.unwrap()).unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v1_bodies_match_stet_1_4_0_47_and_keep_their_shape() {
    let spec = spec();
    let app = spawn_app(TestDb::sqlite()).await;
    let tpp = app.tpp(ORG, CertSpec::default());
    app.register(&tpp).await;
    let georges = token(&app, &tpp, "9999999903").await;

    let (status, before) = call(&app, &tpp, &georges, Method::GET, "/stet/psd2/v1/accounts", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_valid(&spec, "HalAccounts", &before);
    insta::assert_json_snapshot!("v1_accounts_before_consent", before);

    let consent = json!({"balances": [{"iban": "FR7617515000920400085945890"}], "transactions": [{"iban": "FR7617515000920400085945890"}], "psuIdentity": false, "trustedBeneficiaries": false});
    assert_valid(&spec, "Access", &consent);
    assert_eq!(
        call(&app, &tpp, &georges, Method::PUT, "/stet/psd2/v1/consents", Some(consent)).await.0,
        StatusCode::CREATED
    );

    let (_, after) = call(&app, &tpp, &georges, Method::GET, "/stet/psd2/v1/accounts", None).await;
    assert_valid(&spec, "HalAccounts", &after);
    insta::assert_json_snapshot!("v1_accounts_after_consent", after, {".accounts[].balances[].name" => "[name with date]", ".accounts[].balances[].referenceDate" => "[date]"});

    let (_, balances) =
        call(&app, &tpp, &georges, Method::GET, "/stet/psd2/v1/accounts/175150009204000859458/balances", None).await;
    assert_valid(&spec, "HalBalances", &balances);
    insta::assert_json_snapshot!("v1_balances", balances, {".balances[].name" => "[name with date]", ".balances[].referenceDate" => "[date]"});

    let (_, transactions) =
        call(&app, &tpp, &georges, Method::GET, "/stet/psd2/v1/accounts/175150009204000859458/transactions", None)
            .await;
    assert_valid(&spec, "HalTransactions", &transactions);
    assert!(
        transactions["transactions"].as_array().unwrap().iter().any(|t| t["status"] == "OTHR"),
        "OTHR operations validate too"
    );
    let first_three = json!({"transactions": transactions["transactions"].as_array().unwrap()[..3], "_links": transactions["_links"]});
    insta::assert_json_snapshot!("v1_transactions_first_three", first_three, {
        ".transactions[].resourceId" => "[id]",
        ".transactions[].entryReference" => "[entry reference]",
        ".transactions[].bookingDate" => "[date]",
        ".transactions[].valueDate" => "[date]",
        ".transactions[].transactionDate" => "[date]",
        ".transactions[].transactionAmount.amount" => "[amount]",
        ".transactions[].remittanceInformation" => "[remittance]",
        ".transactions[].creditDebitIndicator" => "[CRDT|DBIT]",
        ".transactions[].status" => "[BOOK|OTHR]",
    });

    // The ErrorModel, in every version.
    for path in [
        "/stet/psd2/v1/accounts/nope/balances",
        "/stet/psd2/v1.4.2/accounts/nope/balances",
        "/stet/psd2/v1.6.2/nothing",
    ] {
        let (status, error) = call(&app, &tpp, &georges, Method::GET, path, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_valid(&spec, "ErrorModel", &error);
    }
    let (_, error) = call(&app, &tpp, &georges, Method::GET, "/stet/psd2/v1.4.2/accounts/nope/balances", None).await;
    insta::assert_json_snapshot!("error_unknown_account", error, {".timestamp" => "[timestamp]"});
}

/// The 1.4.2 account list, before and after consent, as the bank's portal shows it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v1_4_2_accounts_keep_the_bank_s_shape() {
    let app = spawn_app(TestDb::sqlite()).await;
    let tpp = app.tpp(ORG, CertSpec::default());
    app.register(&tpp).await;
    let lea = token(&app, &tpp, "9999999901").await;
    let (_, before) = call(&app, &tpp, &lea, Method::GET, "/stet/psd2/v1.4.2/accounts", None).await;
    insta::assert_json_snapshot!("v1_4_2_accounts_before_consent", before);
    let consent = json!({"balances": [{"iban": "FR7617515000920400430518020"}, {"iban": "FR7617515000920400851811524"}],
                         "transactions": [{"iban": "FR7617515000920400430518020"}, {"iban": "FR7617515000920400851811524"}],
                         "trustedBeneficiaries": false, "psuIdentity": false});
    assert_eq!(
        call(&app, &tpp, &lea, Method::PUT, "/stet/psd2/v1.4.2/consents", Some(consent)).await.0,
        StatusCode::CREATED
    );
    let (_, after) = call(&app, &tpp, &lea, Method::GET, "/stet/psd2/v1.4.2/accounts", None).await;
    insta::assert_json_snapshot!("v1_4_2_accounts_after_consent", after, {".accounts[].balances[].name" => "[name with date]", ".accounts[].balances[].referenceDate" => "[date]"});
}

/// STET 1.5.0.43 (OpenAPI 3.0.1), the closest official file to the bank's 1.6.2.
fn spec_1_5() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../stet/spec/stet-psd2-v1.5.0.43-oas3.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Validates a v1.6.2 `body` against 1.5.0.43's schema `name`, after the one difference the bank
/// makes on purpose (docs/pisp.md): amounts are strings ("12.25"), where 1.5 declares numbers.
fn assert_valid_1_5(spec: &Value, name: &str, body: &Value) {
    fn numbers(v: &mut Value) {
        match v {
            Value::Object(map) => {
                if let (Some(Value::String(text)), true) = (map.get("amount").cloned(), map.contains_key("currency")) {
                    map.insert("amount".into(), json!(text.parse::<f64>().unwrap()));
                }
                map.values_mut().for_each(numbers);
            }
            Value::Array(items) => items.iter_mut().for_each(numbers),
            _ => {}
        }
    }
    let mut body = body.clone();
    numbers(&mut body);
    let schema = json!({"components": spec["components"], "allOf": [{"$ref": format!("#/components/schemas/{name}")}]});
    let validator = jsonschema::options().with_draft(jsonschema::Draft::Draft4).build(&schema).unwrap();
    let errors: Vec<String> = validator.iter_errors(&body).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    assert!(errors.is_empty(), "{name} does not match STET 1.5.0.43: {errors:#?}\n{body:#}");
}

fn payment(id: &str, extra: Value) -> Value {
    let mut body = json!({
        "paymentInformationId": id,
        "creationDateTime": "2026-11-21T11:00:00.000+01:00",
        "numberOfTransactions": 1,
        "initiatingParty": {"name": "My PISP"},
        "paymentTypeInformation": {"serviceLevel": "SEPA"},
        "beneficiary": {"creditor": {"name": "Boulangerie Paul"}, "creditorAccount": {"iban": "FR7630004000031234567890143"}},
        "debtorAccount": {"iban": "FR7613807008043001965405158"},
        "creditTransferTransaction": [{
            "paymentId": {"instructionId": format!("{id}-1"), "endToEndId": format!("{id}-e2e")},
            "instructedAmount": {"currency": "EUR", "amount": "12.25"},
            "remittanceInformation": ["Commande 42"]
        }],
        "supplementaryData": {"acceptedAuthenticationApproach": ["REDIRECT"], "successfulReportUrl": "https://pisp.example/ok"}
    });
    if let (Value::Object(body), Value::Object(extra)) = (&mut body, extra) {
        body.extend(extra);
    }
    body
}

/// The links of `body` are named as the official `schema` declares its `_links` (neither
/// official file closes its objects, so a link under another name would pass the validators).
fn assert_links_named(spec: &Value, schema: &str, body: &Value) {
    let schemas = if spec.get("definitions").is_some() { &spec["definitions"] } else { &spec["components"]["schemas"] };
    let reference = schemas[schema]["properties"]["_links"]["$ref"].as_str().unwrap();
    let links = reference.rsplit('/').next().unwrap();
    let declared = schemas[links]["properties"].as_object().unwrap();
    let sent = body["_links"].as_object().unwrap();
    assert!(!sent.is_empty(), "{schema} without links: {body}");
    for name in sent.keys() {
        assert!(
            declared.contains_key(name),
            "_links.{name} is not one of {links}'s {:?}: {body}",
            declared.keys().collect::<Vec<_>>()
        );
    }
}

/// Approves a payment request as Marc and returns the factor he brings back.
async fn approved(client: &stet_tpp::TppClient, created: &Value) -> String {
    let answers = stet_tpp::PsuAnswers { psu_id: "D0999990I0".into(), otp: "12345678".into(), accounts: None };
    let link = created["_links"]["consentApproval"]["href"].as_str().unwrap();
    let stet_tpp::FlowEnd::Redirected(back) = client.drive_approval(link, &answers).await.unwrap() else {
        panic!("no redirect")
    };
    back.get("psuAuthenticationFactor").unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payment_bodies_match_stet_1_4_0_47_on_v1_and_1_5_0_43_on_v1_6_2() {
    let (v1, v15) = (spec(), spec_1_5());
    // A Monday, so that a standing order starting today executes today.
    let options =
        crate::harness::AppOptions { now: Some("2026-11-23T10:00:00Z".parse().unwrap()), ..Default::default() };
    let app = crate::harness::spawn_app_with(TestDb::sqlite(), options).await;
    let spec_roles = CertSpec { roles: vec![eidas::psd2::Role::PaymentInitiation], ..CertSpec::default() };
    let tpp = app.tpp(ORG, spec_roles);
    app.register(&tpp).await;
    let client = app.tpp_client("www.13807.sandbox.localhost", &tpp);
    let token = client.pisp_token(ORG).await.unwrap().json::<stet_tpp::Tokens>().await.unwrap().access_token;
    let send = async |method: Method, path: &str, body: Option<&Value>| {
        let mut request = client.signed(method, path).bearer(&token);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        (status, serde_json::from_str::<Value>(&response.text().await.unwrap()).unwrap_or(Value::Null))
    };

    // v1: STET 1.4.0.47.
    let body = payment("schema-v1", json!({}));
    assert_valid(&v1, "PaymentRequestResource", &body);
    let (status, created) = send(Method::POST, "/stet/psd2/v1/payment-requests", Some(&body)).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_valid(&v1, "HalPaymentRequestCreation", &created);
    assert_links_named(&v1, "HalPaymentRequestCreation", &created);
    approved(&client, &created).await;
    let id = created["_links"]["consentApproval"]["href"]
        .as_str()
        .unwrap()
        .split("paymentRequestResourceId=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_owned();
    let (_, report) = send(Method::GET, &format!("/stet/psd2/v1/payment-requests/{id}"), None).await;
    assert_valid(&v1, "HalPaymentRequest", &report);
    assert_links_named(&v1, "HalPaymentRequest", &report);
    let (status, error) =
        send(Method::POST, "/stet/psd2/v1/payment-requests", Some(&payment("bad", json!({"numberOfTransactions": 2}))))
            .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_valid(&v1, "ErrorModel", &error);

    // v1.6.2: STET 1.5.0.43, amounts as strings apart.
    let standing = json!({"creditTransferTransaction": [{
        "paymentId": {"instructionId": "so-1"},
        "instructedAmount": {"currency": "EUR", "amount": "2.00"},
        "remittanceInformation": {"unstructured": ["Loyer"]},
        "standingOrderCharacteristics": {"startDate": "2026-11-23T00:00:00.000+01:00", "frequency": "MNTH", "executionRule": "FWNG"}
    }]});
    let body = payment("schema-v162", standing);
    let (status, created) = send(Method::POST, "/stet/psd2/v1.6.2/payment-requests", Some(&body)).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_valid_1_5(&v15, "HalAuthenticationRequest", &created);
    assert_links_named(&v15, "HalAuthenticationRequest", &created);
    let factor = approved(&client, &created).await;
    let id = created["_links"]["consentApproval"]["href"]
        .as_str()
        .unwrap()
        .split("paymentRequestResourceId=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_owned();
    let (_, waiting) = send(Method::GET, &format!("/stet/psd2/v1.6.2/payment-requests/{id}"), None).await;
    assert_valid_1_5(&v15, "HalPaymentRequest", &waiting);
    assert_links_named(&v15, "HalPaymentRequest", &waiting);
    assert!(waiting["_links"].get("confirmation").is_some(), "awaiting its confirmation: {waiting}");
    let confirmation = json!({"nonce": created["nonce"], "psuAuthenticationFactor": factor});
    assert_valid_1_5(&v15, "ConfirmationResource", &confirmation);
    let (status, confirmed) =
        send(Method::POST, &format!("/stet/psd2/v1.6.2/payment-requests/{id}/confirmation"), Some(&confirmation)).await;
    assert_eq!(status, StatusCode::OK, "{confirmed}");
    assert_valid_1_5(&v15, "HalPaymentRequest", &confirmed);
    assert_links_named(&v15, "HalPaymentRequest", &confirmed);
    let (_, executions) =
        send(Method::GET, &format!("/stet/psd2/v1.6.2/payment-requests/{id}/transactions"), None).await;
    assert_valid_1_5(&v15, "HalCreditTransfertTransactions", &executions);
    assert_links_named(&v15, "HalCreditTransfertTransactions", &executions);
    assert_eq!(executions["creditTransferTransaction"].as_array().unwrap().len(), 1, "today's execution");
    let (status, error) = send(Method::POST, "/stet/psd2/v1.6.2/payment-requests", Some(&payment("bad-2", json!({"supplementaryData": {"acceptedAuthenticationApproach": ["DECOUPLED"], "successfulReportUrl": "https://pisp.example/ok"}})))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_valid_1_5(&v15, "Error400Model", &error);
}
