//! The bank's control over TPPs: a suspension (`stetgate tpp suspend`) the registration API cannot
//! lift, seen at once by every node on every path; the registration policy applied to updates;
//! and the PSU shown the organisation name the TPP's QWAC certifies.

use crate::harness::{AppOptions, CALLBACK, CertSpec, TestApp, TestDb, db_tests, spawn_app_with, spawn_second_node};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const HOST: &str = "www.17515.sandbox.localhost";
const ORG: &str = "PSDFR-ACPR-12345";
const ACCOUNTS: &str = "/stet/psd2/v1.4.2/accounts";

fn cli(app: &TestApp, args: &[&str]) -> (Option<i32>, String, String) {
    let target = ["--data-dir", app.data_dir.path().to_str().unwrap(), "--database-url", app.db.url()];
    crate::cli::run_owned(&args.iter().chain(&target).map(|s| (*s).to_owned()).collect::<Vec<_>>())
}

async fn the_bank_suspends_a_tpp_on_every_node(db: TestDb) {
    let first = spawn_app_with(db, AppOptions::default()).await;
    let second = spawn_second_node(&first).await;
    let tpp = first.tpp(ORG, CertSpec::default());
    first.register(&tpp).await;
    // A token pair, through the bank's pages.
    let client = first.tpp_client(HOST, &tpp);
    let request = stet_tpp::AuthorizationRequest {
        client_id: ORG.into(),
        redirect_uri: CALLBACK.into(),
        scope: "aisp".into(),
        state: None,
        code_challenge: None,
    };
    let answers = stet_tpp::PsuAnswers { psu_id: "9999999901".into(), otp: "12345678".into(), accounts: None };
    let stet_tpp::FlowEnd::Redirected(back) = client.drive_authorization(&request, &answers).await.unwrap() else {
        panic!("no redirect")
    };
    let tokens: stet_tpp::Tokens =
        client.exchange_code(ORG, back.get("code").unwrap(), CALLBACK).await.unwrap().json().await.unwrap();
    let call = |app: &TestApp| {
        app.tpp_client(HOST, &tpp)
            .signed(Method::GET, ACCOUNTS)
            .header("PSU-IP-Address", "192.0.2.10")
            .bearer(&tokens.access_token)
            .send()
    };
    assert_eq!(call(&second).await.unwrap().status(), StatusCode::OK);

    let (code, out, err) = cli(&first, &["tpp", "suspend", ORG, "--reason", "licence withdrawn"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("suspended"), "{out}");

    // At once, on the other node too: resource calls, refreshes, registration updates, authorizations.
    let refused = call(&second).await.unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let body: Value = refused.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("suspended"), "{body}");
    let refresh = second.tpp_client(HOST, &tpp).refresh(ORG, tokens.refresh()).await.unwrap();
    assert_eq!(refresh.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(refresh.json::<Value>().await.unwrap()["error"], "invalid_client");
    let path = format!("/stet/psd2/oauth/register/{ORG}");
    let update = second.tpp_client(HOST, &tpp).request(Method::PUT, &path).json(&tpp.registration(CALLBACK)).send();
    let update = update.await.unwrap();
    assert_eq!(update.status(), StatusCode::FORBIDDEN, "the API cannot lift a suspension");
    let read: Value = client.request(Method::GET, &path).send().await.unwrap().json().await.unwrap();
    assert_eq!(read["status"], "suspended");
    let authorize =
        format!("/stet/psd2/oauth/authorize?response_type=code&client_id={ORG}&redirect_uri={CALLBACK}&scope=aisp");
    let page = second.client(HOST).request(Method::GET, &authorize).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::BAD_REQUEST, "no authorization for a suspended TPP");
    let (_, list, _) = cli(&first, &["tpp", "list"]);
    assert!(list.contains("suspended (licence withdrawn)"), "{list}");

    let (code, _, err) = cli(&first, &["tpp", "reactivate", ORG]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(call(&second).await.unwrap().status(), StatusCode::OK, "the same tokens work again");
    let (code, _, err) = cli(&first, &["tpp", "suspend", "PSDFR-ACPR-99999"]);
    assert_eq!(code, Some(1), "an unknown TPP: {err}");
}

async fn the_registration_policy_applies_to_updates(db: TestDb) {
    use stetgate::config::{RegistrationConfig, RegistrationMode};
    // Registered by the operator, then registration through the API closed.
    let app = spawn_app_with(
        db,
        AppOptions {
            registration: RegistrationConfig { mode: Some(RegistrationMode::Closed), allow: Vec::new() },
            ..AppOptions::default()
        },
    )
    .await;
    let tpp = app.tpp(ORG, CertSpec::default());
    let dir = app.data_dir.path().join("tpp");
    std::fs::create_dir_all(&dir).unwrap();
    for (name, text) in [("qwac.pem", &tpp.qwac.cert_pem), ("qseal.pem", &tpp.qseal.cert_pem)] {
        std::fs::write(dir.join(name), text).unwrap();
    }
    let (qwac, qseal) = (dir.join("qwac.pem"), dir.join("qseal.pem"));
    let (code, _, err) = cli(
        &app,
        &[
            "tpp",
            "register",
            "--qwac",
            qwac.to_str().unwrap(),
            "--qseal",
            qseal.to_str().unwrap(),
            "--redirect-uri",
            CALLBACK,
            "--name",
            "Honest TPP",
        ],
    );
    assert_eq!(code, Some(0), "{err}");
    let client = app.tpp_client(HOST, &tpp);
    let path = format!("/stet/psd2/oauth/register/{ORG}");
    let mut body = tpp.registration("https://evil.example/cb");
    body["client_name"] = json!("Caisse d'Epargne officielle");
    let update = client.request(Method::PUT, &path).json(&body).send().await.unwrap();
    assert_eq!(update.status(), StatusCode::FORBIDDEN);
    assert_eq!(update.json::<Value>().await.unwrap()["error"], "access_denied");
    // Deactivated by itself, it cannot come back through the API while registration is closed.
    assert_eq!(client.request(Method::DELETE, &path).send().await.unwrap().status(), StatusCode::NO_CONTENT);
    let again = client.request(Method::PUT, &path).json(&tpp.registration(CALLBACK)).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::FORBIDDEN);
    let read: Value = client.request(Method::GET, &path).send().await.unwrap().json().await.unwrap();
    assert_eq!((read["status"].as_str(), read["client_name"].as_str()), (Some("inactive"), Some("Honest TPP")));
}

async fn the_psu_sees_the_organisation_the_qwac_certifies(db: TestDb) {
    let app = spawn_app_with(db, AppOptions::default()).await;
    let tpp = app.tpp(ORG, CertSpec::default());
    let mut body = tpp.registration(CALLBACK);
    body["client_name"] = json!("Caisse d'Epargne officielle");
    let response =
        app.tpp_client(HOST, &tpp).request(Method::POST, "/stet/psd2/oauth/register").json(&body).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let authorize =
        format!("/stet/psd2/oauth/authorize?response_type=code&client_id={ORG}&redirect_uri={CALLBACK}&scope=aisp");
    let page = app.client(HOST).request(Method::GET, &authorize).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Caisse d&#39;Epargne officielle"), "the name the TPP chose: {page}");
    assert!(
        page.contains(&format!("certificat au nom de <strong class=\"certified\">TPP {ORG}</strong>")),
        "beside it, the organisation its QWAC certifies: {page}"
    );
}

db_tests!(
    the_bank_suspends_a_tpp_on_every_node,
    the_registration_policy_applies_to_updates,
    the_psu_sees_the_organisation_the_qwac_certifies,
);
