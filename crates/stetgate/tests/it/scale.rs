//! Scale: expired rows are purged so tables do not grow without bound, and several stetgate
//! processes share one PostgreSQL correctly (tokens, consents, the global batch quota, and nothing
//! acknowledged lost when a node is killed mid-load).

use crate::cli::Sandbox;
use crate::harness::{CALLBACK, CertSpec, TestDb, TestTpp, db_tests, issue_with, spawn_app};
use eidas::issue::{TestCa, TppCertKind};
use reqwest::{Method, StatusCode};
use serde_json::json;
use stet_tpp::{ClientConfig, Signer, TppClient};
use stetgate::clock::Clock;

const HOST: &str = "www.17515.sandbox.localhost";
const ORG: &str = "PSDFR-ACPR-12345";
const LEA_1: &str = "FR7617515000920400430518020";

async fn expired_rows_are_purged_and_live_ones_kept(db: TestDb) {
    let app = spawn_app(db).await;
    let tpp = app.tpp(ORG, CertSpec { valid_until: 400 * 86_400, ..CertSpec::default() });
    app.register(&tpp).await;
    let client = app.tpp_client(HOST, &tpp);
    let old = app.access_token(&tpp, HOST, "9999999901", "aisp", None).await;
    let batch = client.signed(Method::GET, "/stet/psd2/v1.4.2/accounts").bearer(&old).send().await.unwrap();
    assert_eq!(batch.status(), StatusCode::OK, "a batch call, counted for the day");
    let fallback = client
        .request(Method::POST, "/stet/psd2/oauth/token")
        .header("fallback", "1")
        .header("PSU-IP-Address", "192.0.2.1")
        .form(&[("client_id", ORG), ("grant_type", "client_credentials"), ("scope", "aisp")])
        .send()
        .await
        .unwrap();
    let location = url::Url::parse(fallback.headers()["location"].to_str().unwrap()).unwrap();
    let login = app
        .client(HOST)
        .request_without_id(Method::GET, &format!("{}?{}", location.path(), location.query().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::OK, "a fallback session");

    let store = app.db.store().await;
    let now = || app.clock.now();
    let today = || stetgate::clock::Calendar::paris().unwrap().date_of(app.clock.now());
    let nothing = store.purge_expired(now(), today()).await.unwrap();
    assert_eq!(nothing.total(), 0, "nothing is expired yet: {nothing:?}");

    // Half a year later, another PSU authorizes: the first pair's refresh token has expired.
    app.clock.advance(jiff::SignedDuration::from_hours(181 * 24));
    let fresh = app.access_token(&tpp, HOST, "9999999902", "aisp", None).await;
    app.clock.advance(jiff::SignedDuration::from_mins(1));
    let purged = store.purge_expired(now(), today()).await.unwrap();
    assert_eq!(purged.psu_journeys, 2, "the authorization's and the fallback's: {purged:?}");
    assert_eq!(purged.authorization_codes, 1, "{purged:?}");
    assert_eq!(purged.token_pairs, 1, "{purged:?}");
    assert_eq!(purged.batch_quota, 1, "{purged:?}");
    assert_eq!(purged.fallback_grants, 1, "{purged:?}");
    assert_eq!(store.purge_expired(now(), today()).await.unwrap().total(), 0, "idempotent");
    assert!(
        !store.fallback_events(None, jiff::Timestamp::UNIX_EPOCH).await.unwrap().is_empty(),
        "the fallback record is kept"
    );

    let live = client
        .signed(Method::GET, "/stet/psd2/v1.4.2/accounts")
        .bearer(&fresh)
        .header("PSU-IP-Address", "192.0.2.1")
        .send()
        .await
        .unwrap();
    assert_eq!(live.status(), StatusCode::OK, "the live pair is kept");
}

db_tests!(expired_rows_are_purged_and_live_ones_kept);

/// A TPP client of the node listening on `port`.
fn node_client(ca_pem: &[u8], port: u16, tpp: &TestTpp) -> TppClient {
    let mut config = ClientConfig::new(format!("https://{HOST}:{port}"), ca_pem.to_vec());
    config.resolve = Some((HOST.to_owned(), ([127, 0, 0, 1], port).into()));
    config.qwac = Some((tpp.qwac.cert_pem.clone().into_bytes(), tpp.qwac.key_pem.clone().into_bytes()));
    config.signer = Some(Signer::new(&tpp.qseal.key_pem, tpp.key_id_url()).unwrap());
    TppClient::new(config).unwrap()
}

/// Three `stetgate sandbox` processes on different loopback ports, one PostgreSQL database.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_processes_share_one_postgresql() {
    let Some(db) = TestDb::postgres().await else { return };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // Every login page of the load comes from this one address: lift the per-address page limit.
    let env = [("STETGATE_DATABASE_URL", db.url()), ("STETGATE_CONNECTIONS__PAGES_PER_ADDRESS_PER_MINUTE", "100000")];
    // The first node migrates and seeds; the others find it done.
    let first = Sandbox::start(&data, &env);
    let second = Sandbox::start(&data, &env);
    let mut third = Sandbox::start(&data, &env);
    let ports = [first.port, second.port, third.port];
    assert!(ports[0] != ports[1] && ports[1] != ports[2]);

    let ca_pem = std::fs::read(data.join("pki/ca.pem")).unwrap();
    let ca = TestCa::from_pem(
        &String::from_utf8(ca_pem.clone()).unwrap(),
        &std::fs::read_to_string(data.join("pki/ca.key")).unwrap(),
    )
    .unwrap();
    let spec = CertSpec::default();
    let now = jiff::Timestamp::now().as_second() - crate::harness::test_now();
    let spec = CertSpec { valid_from: now - 86_400, valid_until: now + 86_400, ..spec };
    let tpp = TestTpp {
        org_id: ORG.into(),
        qwac: issue_with(&ca, ORG, TppCertKind::Qwac, &spec),
        qseal: issue_with(&ca, ORG, TppCertKind::Qsealc, &spec),
    };
    let nodes: Vec<TppClient> = ports.iter().map(|p| node_client(&ca_pem, *p, &tpp)).collect();

    // Registered on node 1, authorized on node 1 (its pages), the token works on nodes 2 and 3.
    let registered = nodes[0]
        .request(Method::POST, "/stet/psd2/oauth/register")
        .json(&tpp.registration(CALLBACK))
        .send()
        .await
        .unwrap();
    assert_eq!(registered.status(), StatusCode::CREATED);
    let request = stet_tpp::AuthorizationRequest {
        client_id: ORG.into(),
        redirect_uri: CALLBACK.into(),
        scope: "aisp".into(),
        state: None,
        code_challenge: None,
    };
    let answers = stet_tpp::PsuAnswers { psu_id: "9999999901".into(), otp: "12345678".into(), accounts: None };
    let stet_tpp::FlowEnd::Redirected(back) = nodes[0].drive_authorization(&request, &answers).await.unwrap() else {
        panic!("no redirect")
    };
    let tokens: stet_tpp::Tokens =
        nodes[0].exchange_code(ORG, back.get("code").unwrap(), CALLBACK).await.unwrap().json().await.unwrap();
    let token = tokens.access_token;
    for node in &nodes[1..] {
        let r = node
            .signed(Method::GET, "/stet/psd2/v1.4.2/accounts")
            .bearer(&token)
            .header("PSU-IP-Address", "192.0.2.1")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "a token issued on node 1 works on every node");
    }

    // A consent written on node 2 is seen on node 3.
    let consent = json!({"balances": [{"iban": LEA_1}], "transactions": [{"iban": LEA_1}], "trustedBeneficiaries": false, "psuIdentity": false});
    let put = nodes[1]
        .signed(Method::PUT, "/stet/psd2/v1.4.2/consents")
        .bearer(&token)
        .header("PSU-IP-Address", "192.0.2.1")
        .json(&consent)
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), StatusCode::CREATED);
    let accounts: serde_json::Value = nodes[2]
        .signed(Method::GET, "/stet/psd2/v1.4.2/accounts")
        .bearer(&token)
        .header("PSU-IP-Address", "192.0.2.1")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let granted = accounts["accounts"].as_array().unwrap().iter().find(|a| a["accountId"]["iban"] == LEA_1).unwrap();
    assert!(granted["resourceId"].is_string(), "node 3 sees node 2's consent: {granted}");
    let balances = format!("/stet/psd2/v1.4.2/accounts/{}/balances", granted["resourceId"].as_str().unwrap());

    // The 4-a-day batch quota is global: four calls spread over the nodes, the fifth refused anywhere.
    for (i, node) in nodes.iter().cycle().take(4).enumerate() {
        let r = node.signed(Method::GET, &balances).bearer(&token).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "batch call {}", i + 1);
    }
    for node in &nodes {
        let r = node.signed(Method::GET, &balances).bearer(&token).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS, "the fifth batch call, on any node");
    }

    // Kill node 3 (SIGKILL) while it is answering: every fallback grant it acknowledged (302) is in
    // the database, so each one opens the online banking on node 1.
    let load = {
        let node = nodes[2].clone();
        tokio::spawn(async move {
            let mut acknowledged = Vec::new();
            for _ in 0..2000 {
                let sent = node
                    .request(Method::POST, "/stet/psd2/oauth/token")
                    .header("fallback", "1")
                    .header("PSU-IP-Address", "192.0.2.1")
                    .form(&[("client_id", ORG), ("grant_type", "client_credentials"), ("scope", "aisp")])
                    .send()
                    .await;
                match sent {
                    Ok(r) if r.status() == StatusCode::FOUND => {
                        acknowledged.push(r.headers()["location"].to_str().unwrap().to_owned());
                    }
                    Ok(r) => panic!("unexpected {}", r.status()),
                    Err(_) => break, // the node is gone
                }
            }
            acknowledged
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    third.child.kill().unwrap();
    let acknowledged = tokio::time::timeout(std::time::Duration::from_secs(30), load).await.unwrap().unwrap();
    assert!(acknowledged.len() > 3, "the load ran before the kill: {}", acknowledged.len());
    assert!(acknowledged.len() < 2000, "the kill happened mid-load");
    let psu = {
        let mut config = ClientConfig::new(format!("https://{HOST}:{}", ports[0]), ca_pem.clone());
        config.resolve = Some((HOST.to_owned(), ([127, 0, 0, 1], ports[0]).into()));
        TppClient::new(config).unwrap()
    };
    for location in &acknowledged {
        let url = url::Url::parse(location).unwrap();
        let page = psu
            .request_without_id(Method::GET, &format!("{}?{}", url.path(), url.query().unwrap()))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), StatusCode::OK, "an acknowledged grant was lost");
    }
    // The survivors keep serving.
    for node in &nodes[..2] {
        let r = node.request(Method::GET, "/readyz").send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
    }
    drop((first, second));
}
