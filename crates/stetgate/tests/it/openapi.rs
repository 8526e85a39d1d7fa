//! The OpenAPI 3.1 documents at `/stet/psd2/{version}/openapi.json`: accepted by an independent
//! validator (openapi-spec-validator, from PyPI), every operation they list is routed, the
//! sandbox's real answers (funds confirmation included) match their schemas, the signature headers
//! and the bank's reason codes are declared, and the rendered reference lists every operation.
//! (The comparison with STET's official definitions is `crates/stet/tests/openapi.rs`.)

use crate::harness::{CertSpec, TestDb, spawn_app};
use eidas::psd2::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::process::{Command, Stdio};
use stet::ApiVersion;

const CE: &str = "www.17515.sandbox.localhost";
const ORG: &str = "PSDFR-ACPR-12345";
const GEORGES_IBAN: &str = "FR7617515000920400085945890";
const BP: &str = "www.13807.sandbox.localhost";
const MARC_1: &str = "FR7613807008043001965405158";
const LEA_IBAN: &str = "FR7617515000920400430518020";

/// Checks `body` against the schema `name` of the version's served document (JSON Schema 2020-12,
/// as OpenAPI 3.1 uses).
pub fn assert_matches_document(version: ApiVersion, name: &str, body: &Value) {
    let doc = stet::openapi::document(version, "https://bank.example");
    let schema = json!({"components": doc["components"], "$ref": format!("#/components/schemas/{name}")});
    let validator = jsonschema::options().with_draft(jsonschema::Draft::Draft202012).build(&schema).unwrap();
    let errors: Vec<String> = validator.iter_errors(body).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    assert!(errors.is_empty(), "{name} does not match the {version} OpenAPI document: {errors:#?}\n{body:#}");
}

/// Whether python3 has openapi-spec-validator; under CI=true it must.
pub fn validator_available() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import openapi_spec_validator"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(
            std::env::var("CI").map(|v| v != "true").unwrap_or(true),
            "CI=true but python3 cannot import openapi_spec_validator (scripts/test.sh installs it)"
        );
        eprintln!("note: openapi-spec-validator is not installed; skipping the independent validation");
    }
    ok
}

fn concrete(path: &str) -> String {
    path.split('/').map(|s| if s.starts_with('{') { "X1" } else { s }).collect::<Vec<_>>().join("/")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_version_serves_a_valid_document_whose_operations_are_routed() {
    let app = spawn_app(TestDb::sqlite()).await;
    let roles = vec![Role::AccountInformation, Role::CardIssuing, Role::PaymentInitiation];
    let tpp = app.tpp(ORG, CertSpec { roles, ..CertSpec::default() });
    let anonymous = app.tpp_client_with(CE, None, None);
    let dir = tempfile::tempdir().unwrap();
    for version in ApiVersion::ALL {
        let response =
            anonymous.request(Method::GET, &format!("{}/openapi.json", version.base_path())).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "no certificate is needed to read the document");
        let doc: Value = response.json().await.unwrap();
        assert_eq!(doc["openapi"], "3.1.0");
        let server = doc["servers"][0]["url"].as_str().unwrap();
        assert!(server.starts_with(&format!("https://{CE}:")) && server.ends_with(&version.base_path()), "{server}");
        assert_eq!(doc["components"]["securitySchemes"]["mtls"]["type"], "mutualTLS");
        assert!(
            doc["components"]["securitySchemes"]["oauth2"]["flows"]["authorizationCode"]["authorizationUrl"]
                .as_str()
                .unwrap()
                .ends_with("/stet/psd2/oauth/authorize")
        );

        let file = dir.path().join(format!("{version}.json"));
        std::fs::write(&file, doc.to_string()).unwrap();
        if validator_available() {
            let out = Command::new("python3").arg("-m").arg("openapi_spec_validator").arg(&file).output().unwrap();
            assert!(
                out.status.success(),
                "{version}: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }

        // Every documented operation is served: without a token it is refused as unauthenticated,
        // never 404 or 405; a method the document does not list is 405.
        let client = app.tpp_client(CE, &tpp);
        for (path, item) in doc["paths"].as_object().unwrap() {
            for method in item.as_object().unwrap().keys() {
                let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
                let url = format!("{}{}", version.base_path(), concrete(path));
                let status = client.signed(m.clone(), &url).body(b"{}".to_vec()).send().await.unwrap().status();
                assert_eq!(status, StatusCode::UNAUTHORIZED, "{version} {method} {path}");
            }
            let status = client
                .signed(Method::DELETE, &format!("{}{}", version.base_path(), concrete(path)))
                .send()
                .await
                .unwrap()
                .status();
            assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{version} DELETE {path}");
        }

        let page =
            anonymous.request(Method::GET, &format!("{}/openapi.html", version.base_path())).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        assert!(page.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
        let html = page.text().await.unwrap();
        for item in doc["paths"].as_object().unwrap().values() {
            for op in item.as_object().unwrap().values() {
                let id = op["operationId"].as_str().unwrap();
                assert!(html.contains(&format!("id=\"{id}\"")), "{version}: the reference lacks {id}");
            }
        }
        assert!(!html.contains("<script"), "no script in the reference");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sandboxs_answers_match_the_documents() {
    let app = spawn_app(TestDb::sqlite()).await;
    let tpp = app.tpp(ORG, CertSpec::default());
    app.register(&tpp).await;
    let token = app.access_token(&tpp, CE, "9999999903", "aisp", None).await;
    let client = app.tpp_client(CE, &tpp);
    for version in ApiVersion::ALL {
        let base = version.base_path();
        let call = |method: Method, path: String, body: Option<Value>| {
            let mut request = client.signed(method, &path).bearer(&token).header("psu-ip-address", "192.0.2.10");
            if let Some(body) = body {
                request = request.json(&body);
            }
            async move {
                let response = request.send().await.unwrap();
                let status = response.status();
                (status, response.json::<Value>().await.unwrap_or(Value::Null))
            }
        };
        let consent = json!({"balances": [{"iban": GEORGES_IBAN}], "transactions": [{"iban": GEORGES_IBAN}],
            "trustedBeneficiaries": false, "psuIdentity": true});
        let (status, refused) = call(Method::PUT, format!("{base}/consents"), Some(consent)).await;
        assert_eq!(status, StatusCode::CREATED, "{refused}");
        let (status, accounts) = call(Method::GET, format!("{base}/accounts"), None).await;
        assert_eq!(status, StatusCode::OK);
        assert_matches_document(version, "HalAccounts", &accounts);
        let id = accounts["accounts"][0]["resourceId"].as_str().unwrap().to_owned();
        let (_, balances) = call(Method::GET, format!("{base}/accounts/{id}/balances"), None).await;
        assert_matches_document(version, "HalBalances", &balances);
        let (_, transactions) = call(Method::GET, format!("{base}/accounts/{id}/transactions"), None).await;
        assert_matches_document(version, "HalTransactions", &transactions);
        if version >= ApiVersion::V1_4_2 {
            let (_, identity) = call(Method::GET, format!("{base}/end-user-identity"), None).await;
            assert_matches_document(version, "HalEndUserIdentity", &identity);
        }
        let (status, error) = call(Method::GET, format!("{base}/accounts/nope/balances"), None).await;
        assert!(status.is_client_error());
        assert_matches_document(version, "ErrorModel", &error);
    }
}

/// The served documents say what the bank checks on every call and what its refusals mean: each
/// operation declares the `X-Request-ID` and `Signature` headers (and `Digest` when it takes a
/// body), required, in the header; `x-reason-codes` explains the reason codes the bank answers in
/// `message`, and each operation's refusals name the codes they may carry.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_documents_declare_the_signature_headers_and_the_banks_reason_codes() {
    let app = spawn_app(TestDb::sqlite()).await;
    let anonymous = app.tpp_client_with(CE, None, None);
    for version in ApiVersion::ALL {
        let doc: Value = anonymous
            .request(Method::GET, &format!("{}/openapi.json", version.base_path()))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        for name in ["X-Request-ID", "Signature", "Digest"] {
            let parameter = &doc["components"]["parameters"][name];
            assert_eq!(
                (&parameter["name"], &parameter["in"], &parameter["required"]),
                (&json!(name), &json!("header"), &json!(true)),
                "{version} {name}: {parameter}"
            );
        }
        let mut with_body = 0;
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let declared: Vec<&str> =
                    op["parameters"].as_array().unwrap().iter().filter_map(|p| p["$ref"].as_str()).collect();
                for name in ["X-Request-ID", "Signature"] {
                    let reference = format!("#/components/parameters/{name}");
                    assert!(declared.contains(&reference.as_str()), "{version} {method} {path} lacks {name}");
                }
                let digest = declared.contains(&"#/components/parameters/Digest");
                assert_eq!(digest, op.get("requestBody").is_some(), "{version} {method} {path}: Digest with a body");
                with_body += usize::from(digest);
            }
        }
        assert!(with_body >= 3, "{version}: consents, funds confirmation and payment requests take bodies");

        let explained: Vec<&str> =
            doc["x-reason-codes"].as_array().unwrap().iter().map(|c| c["code"].as_str().unwrap()).collect();
        for code in ["FF01", "AC01", "AC04", "AC06", "NGAC", "BADS", "RR01", "RR03", "CH03", "AM18", "invalid_token"] {
            assert!(explained.contains(&code), "{version}: {code} in x-reason-codes {explained:?}");
        }
        assert!(doc["x-reason-codes"].as_array().unwrap().iter().all(|c| !c["meaning"].as_str().unwrap().is_empty()));
        let funds = &doc["paths"]["/funds-confirmations"]["post"]["responses"];
        let refused = funds["400"]["description"].as_str().unwrap();
        for code in ["FF01", "AC01", "AC04", "AC06"] {
            assert!(refused.contains(code), "{version}: the funds confirmation's 400 names {code}: {refused}");
        }
        assert!(funds["403"]["description"].as_str().unwrap().contains("NGAC"), "{version}");
        let payment = doc["paths"]["/payment-requests"]["post"]["responses"]["400"]["description"].as_str().unwrap();
        for code in ["RR01", "CH03", "AM18"] {
            assert!(payment.contains(code), "{version}: the payment request's 400 names {code}: {payment}");
        }
    }
}

/// The sandbox's funds-confirmation answers (covered, not covered, refused) match the served
/// document of each version, and the refusal's reason code is one the operation documents.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_funds_confirmation_answers_match_the_documents() {
    let app = spawn_app(TestDb::sqlite()).await;
    let tpp = app.tpp(ORG, CertSpec::default());
    app.register(&tpp).await;
    let client = app.tpp_client(BP, &tpp);
    for version in ApiVersion::ALL {
        // v1 takes a piisp token, later versions a cbpii one (each authorization replaces the other).
        let scope = if version == ApiVersion::V1 { "piisp" } else { "cbpii" };
        let token = app.access_token(&tpp, BP, "D0999990I0", scope, None).await;
        let ask = async |iban: &str, amount: &str| {
            let body = json!({"paymentCoverageRequestId": "Coverage1", "payee": "Boulangerie Paul",
                "instructedAmount": {"currency": "EUR", "amount": amount}, "accountId": {"iban": iban}});
            let path = format!("{}/funds-confirmations", version.base_path());
            let response = client.signed(Method::POST, &path).bearer(&token).json(&body).send().await.unwrap();
            let status = response.status();
            (status, response.json::<Value>().await.unwrap())
        };
        for (amount, covered) in [("1.00", true), ("99999999.00", false)] {
            let (status, report) = ask(MARC_1, amount).await;
            assert_eq!(status, StatusCode::OK, "{version}: {report}");
            assert_eq!(report["result"], covered, "{version} {amount}: {report}");
            assert_matches_document(version, "HalPaymentCoverageReport", &report);
        }
        // Lea's account, at the other bank: AC01.
        let (status, error) = ask(LEA_IBAN, "1.00").await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{version}: {error}");
        assert_matches_document(version, "ErrorModel", &error);
        let doc = stet::openapi::document(version, "https://bank.example");
        let documented =
            doc["paths"]["/funds-confirmations"]["post"]["responses"]["400"]["description"].as_str().unwrap();
        assert!(documented.contains(error["message"].as_str().unwrap()), "{version}: {error} not in {documented}");
    }
}
