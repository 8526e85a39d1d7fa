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
