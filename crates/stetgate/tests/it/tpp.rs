//! TPP trust over real TLS: QWAC checks (401/403 naming the failed check), registration (create,
//! read, replace, deactivate, refusals), and HTTP signature and Digest verification.

use crate::harness::{CertSpec, TestApp, TestDb, TestTpp, db_tests, issue_with, spawn_app};
use eidas::issue::{TestCa, TppCertKind};
use eidas::psd2::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use stet_tpp::Signer;

const HOST: &str = "www.17515.sandbox.localhost";
const ORG: &str = "PSDFR-ACPR-12345";
const ACCOUNTS: &str = "/stet/psd2/v1.4.2/accounts";
const CONSENTS: &str = "/stet/psd2/v1.4.2/consents";
const FUNDS: &str = "/stet/psd2/v1.4.2/funds-confirmations";

/// Asserts an ErrorModel answer with `status` whose `error` contains `needle`.
async fn refused(response: reqwest::Response, status: StatusCode, needle: &str) {
    let got = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    assert_eq!(got, status, "{body}");
    let error = body["error"].as_str().unwrap_or("");
    assert!(error.contains(needle), "expected {needle:?} in {body}");
}

/// A request that passed every TPP check reaches the token check: 401 asking for a Bearer token.
async fn accepted(response: reqwest::Response) {
    let status = response.status();
    let www = response.headers().get("www-authenticate").map(|v| v.to_str().unwrap().to_owned());
    let body: Value = response.json().await.unwrap_or(Value::Null);
    assert_eq!((status, www.as_deref()), (StatusCode::UNAUTHORIZED, Some("Bearer")), "{body}");
    assert!(body["error"].as_str().unwrap().contains("access token"), "{body}");
}

async fn registered(app: &TestApp, org: &str, spec: CertSpec) -> TestTpp {
    let tpp = app.tpp(org, spec);
    app.register(&tpp).await;
    tpp
}

async fn qwac_checks_name_what_failed(db: TestDb) {
    let app = spawn_app(db).await;
    let ca = app.sandbox_ca();
    let good = registered(&app, ORG, CertSpec::default()).await;
    let signer = || Some(Signer::new(&good.qseal.key_pem, good.key_id_url()).unwrap());

    accepted(app.tpp_client(HOST, &good).signed(Method::GET, ACCOUNTS).send().await.unwrap()).await;

    let no_cert = app.tpp_client_with(HOST, None, signer());
    refused(
        no_cert.signed(Method::GET, ACCOUNTS).send().await.unwrap(),
        StatusCode::UNAUTHORIZED,
        "client certificate (QWAC) is required",
    )
    .await;

    let untrusted_ca = TestCa::generate("Unknown QTSP", "nobody", 1).unwrap();
    let cases: Vec<(&str, eidas::issue::Issued, &str)> = vec![
        (
            "untrusted",
            issue_with(&untrusted_ca, ORG, TppCertKind::Qwac, &CertSpec::default()),
            "does not chain to a trusted QTSP",
        ),
        (
            "expired",
            issue_with(
                &ca,
                ORG,
                TppCertKind::Qwac,
                &CertSpec { valid_from: -10 * 86_400, valid_until: -86_400, ..CertSpec::default() },
            ),
            "expired",
        ),
        (
            "not yet valid",
            issue_with(
                &ca,
                ORG,
                TppCertKind::Qwac,
                &CertSpec { valid_from: 86_400, valid_until: 10 * 86_400, ..CertSpec::default() },
            ),
            "not valid before",
        ),
        (
            "no PSD2 statement",
            issue_with(&ca, ORG, TppCertKind::Qwac, &CertSpec { psd2_statement: false, ..CertSpec::default() }),
            "lacks the PSD2 QCStatement",
        ),
        ("a seal", good.qseal.clone(), "QcType eseal"),
    ];
    for (name, qwac, needle) in cases {
        let client = app.tpp_client_with(HOST, Some(&qwac), signer());
        let response = client.signed(Method::GET, ACCOUNTS).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{name}");
        refused(response, StatusCode::UNAUTHORIZED, needle).await;
    }

    // Valid, but without the route's role: 403.
    let card_only =
        registered(&app, "PSDFR-ACPR-20001", CertSpec { roles: vec![Role::CardIssuing], ..CertSpec::default() }).await;
    let client = app.tpp_client(HOST, &card_only);
    refused(client.signed(Method::GET, ACCOUNTS).send().await.unwrap(), StatusCode::FORBIDDEN, "do not include PSP_AI")
        .await;
    let body = json!({"paymentCoverageRequestId": "x", "instructedAmount": {"currency": "EUR", "amount": "1.00"}, "accountId": {"iban": "FR7613807008043001965405158"}});
    accepted(client.signed(Method::POST, FUNDS).json(&body).send().await.unwrap()).await;
    let aisp_only =
        registered(&app, "PSDFR-ACPR-20002", CertSpec { roles: vec![Role::AccountInformation], ..CertSpec::default() })
            .await;
    let client = app.tpp_client(HOST, &aisp_only);
    refused(
        client.signed(Method::POST, FUNDS).json(&body).send().await.unwrap(),
        StatusCode::FORBIDDEN,
        "do not include PSP_IC",
    )
    .await;
    accepted(client.signed(Method::GET, ACCOUNTS).send().await.unwrap()).await;

    // A valid QWAC of a TPP that never registered.
    let stranger = app.tpp("PSDFR-ACPR-30000", CertSpec::default());
    refused(
        app.tpp_client(HOST, &stranger).signed(Method::GET, ACCOUNTS).send().await.unwrap(),
        StatusCode::UNAUTHORIZED,
        "not registered",
    )
    .await;

    // The PSU's browser has no certificate: public pages stay reachable.
    let anonymous = app.client(HOST);
    assert_eq!(anonymous.request(Method::GET, "/stet/psd2/aspsp").send().await.unwrap().status(), StatusCode::OK);
    let authorize = anonymous.request(Method::GET, "/stet/psd2/oauth/authorize").send().await.unwrap();
    assert_ne!(authorize.status(), StatusCode::UNAUTHORIZED, "the authorize path is not behind the QWAC check");
}

async fn registration_lifecycle(db: TestDb) {
    let app = spawn_app(db).await;
    let tpp = app.tpp(ORG, CertSpec::default());
    let client = app.tpp_client("www.13807.sandbox.localhost", &tpp);

    let response = client
        .request(Method::POST, "/stet/psd2/oauth/register")
        .json(&tpp.registration("https://tpp.example/cb"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let created: Value = response.json().await.unwrap();
    assert_eq!(created["client_id"], ORG);
    assert_eq!(created["redirect_uris"], json!(["https://tpp.example/cb"]));
    let fingerprint = eidas::psd2::parse_pem(&tpp.qseal.cert_pem).unwrap().sha256_hex();
    assert_eq!(created["qsealc_sha256"], fingerprint.as_str());
    assert_eq!(
        created["client_id_issued_at"],
        stetgate::clock::Clock::now(&app.clock).as_second(),
        "RFC 7591: Unix seconds"
    );

    // Group-wide: registered through 13807, it works at 17515.
    accepted(app.tpp_client(HOST, &tpp).signed(Method::GET, ACCOUNTS).send().await.unwrap()).await;

    let again = client
        .request(Method::POST, "/stet/psd2/oauth/register")
        .json(&tpp.registration("https://tpp.example/cb"))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::CONFLICT);
    assert_eq!(again.json::<Value>().await.unwrap()["error"], "invalid_client_metadata");

    let path = format!("/stet/psd2/oauth/register/{ORG}");
    let read: Value = client.request(Method::GET, &path).send().await.unwrap().json().await.unwrap();
    assert_eq!(read["client_name"], format!("TPP {ORG}"));
    assert_eq!(read["status"], "active");

    // Another organization cannot touch it.
    let other = app.tpp("PSDFR-ACPR-99999", CertSpec::default());
    let intruder = app.tpp_client(HOST, &other);
    for method in [Method::GET, Method::PUT, Method::DELETE] {
        let mut request = intruder.request(method.clone(), &path);
        if method == Method::PUT {
            request = request.json(&other.registration("https://evil.example/cb"));
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{method}");
        assert_eq!(response.json::<Value>().await.unwrap()["error"], "access_denied");
    }

    // Replace: new redirect URIs (http://localhost is accepted in the sandbox).
    let mut body = tpp.registration("https://tpp.example/new");
    body["redirect_uris"] = json!(["https://tpp.example/new", "http://localhost:3000/cb"]);
    let replaced = client.request(Method::PUT, &path).json(&body).send().await.unwrap();
    assert_eq!(replaced.status(), StatusCode::OK);
    let read: Value = client.request(Method::GET, &path).send().await.unwrap().json().await.unwrap();
    assert_eq!(read["redirect_uris"], json!(["https://tpp.example/new", "http://localhost:3000/cb"]));
    assert_eq!(read["client_id_issued_at"], created["client_id_issued_at"]);

    // Deactivate: the TPP is refused until it registers again.
    assert_eq!(client.request(Method::DELETE, &path).send().await.unwrap().status(), StatusCode::NO_CONTENT);
    let read: Value = client.request(Method::GET, &path).send().await.unwrap().json().await.unwrap();
    assert_eq!(read["status"], "inactive");
    refused(
        app.tpp_client(HOST, &tpp).signed(Method::GET, ACCOUNTS).send().await.unwrap(),
        StatusCode::UNAUTHORIZED,
        "deactivated",
    )
    .await;
    assert_eq!(client.request(Method::PUT, &path).json(&body).send().await.unwrap().status(), StatusCode::OK);
    accepted(app.tpp_client(HOST, &tpp).signed(Method::GET, ACCOUNTS).send().await.unwrap()).await;

    let unknown = intruder.request(Method::GET, "/stet/psd2/oauth/register/PSDFR-ACPR-99999").send().await.unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
}

async fn registration_refusals(db: TestDb) {
    let app = spawn_app(db).await;
    let tpp = app.tpp(ORG, CertSpec::default());
    let other = app.tpp("PSDFR-ACPR-55555", CertSpec::default());
    let foreign_ca = TestCa::generate("Unknown QTSP", "nobody", 1).unwrap();
    let client = app.tpp_client(HOST, &tpp);
    let post = |body: Value| client.request(Method::POST, "/stet/psd2/oauth/register").json(&body).send();

    let with_seal = |pem: &str| {
        let mut b = tpp.registration("https://tpp.example/cb");
        b["qsealc"] = json!(pem);
        b
    };
    let expired = issue_with(
        &app.sandbox_ca(),
        ORG,
        TppCertKind::Qsealc,
        &CertSpec { valid_from: -9 * 86_400, valid_until: -86_400, ..CertSpec::default() },
    );
    let untrusted = issue_with(&foreign_ca, ORG, TppCertKind::Qsealc, &CertSpec::default());
    // A seal whose key cannot make the rsa-sha256 signatures STET requires.
    let spec = CertSpec::default();
    let ecdsa = app
        .sandbox_ca()
        .issue_tpp_ecdsa(&eidas::issue::TppCertRequest {
            kind: TppCertKind::Qsealc,
            org_id: stet::OrgId::parse(ORG).unwrap(),
            name: format!("TPP {ORG}"),
            roles: spec.roles.clone(),
            nca_name: "Autorité de Contrôle Prudentiel et de Résolution".into(),
            nca_id: "FR-ACPR".into(),
            not_before: crate::harness::test_now() + spec.valid_from,
            not_after: crate::harness::test_now() + spec.valid_until,
            psd2_statement: true,
        })
        .unwrap();
    let cases: Vec<(Value, &str, &str)> = vec![
        (with_seal(&ecdsa.cert_pem), "invalid_client_metadata", "key is not RSA"),
        (with_seal(&other.qseal.cert_pem), "invalid_client_metadata", "belongs to PSDFR-ACPR-55555"),
        (with_seal(&tpp.qwac.cert_pem), "invalid_client_metadata", "QcType eseal"),
        (with_seal(&untrusted.cert_pem), "invalid_client_metadata", "does not chain"),
        (with_seal(&expired.cert_pem), "invalid_client_metadata", "expired"),
        (with_seal("not a certificate"), "invalid_client_metadata", "not a PEM certificate"),
        (
            json!({"client_name": "x", "redirect_uris": ["http://tpp.example/cb"], "qsealc": tpp.qseal.cert_pem}),
            "invalid_redirect_uri",
            "http",
        ),
        (
            json!({"client_name": "x", "redirect_uris": ["https://tpp.example/cb#x"], "qsealc": tpp.qseal.cert_pem}),
            "invalid_redirect_uri",
            "fragment",
        ),
        (
            json!({"client_name": "x", "redirect_uris": [], "qsealc": tpp.qseal.cert_pem}),
            "invalid_redirect_uri",
            "at least one",
        ),
        (
            json!({"client_name": " ", "redirect_uris": ["https://a.example/"], "qsealc": tpp.qseal.cert_pem}),
            "invalid_client_metadata",
            "client_name",
        ),
        (json!({"redirect_uris": ["https://a.example/"]}), "invalid_client_metadata", "client_name"),
    ];
    for (body, code, needle) in cases {
        let response = post(body.clone()).await.unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(response.headers()["content-type"], "application/json");
        let answer: Value = response.json().await.unwrap();
        assert_eq!(answer["error"], code, "{answer}");
        assert!(answer["error_description"].as_str().unwrap().contains(needle), "{needle}: {answer}");
    }
    let not_json = client.request(Method::POST, "/stet/psd2/oauth/register").body("{").send().await.unwrap();
    assert_eq!(not_json.status(), StatusCode::BAD_REQUEST);

    let anonymous = app.client(HOST);
    let response = anonymous
        .request(Method::POST, "/stet/psd2/oauth/register")
        .json(&tpp.registration("https://a.example/"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(response.json::<Value>().await.unwrap()["error"], "invalid_client");
    // Nothing was registered by the refused attempts.
    let read = client.request(Method::GET, &format!("/stet/psd2/oauth/register/{ORG}")).send().await.unwrap();
    assert_eq!(read.status(), StatusCode::NOT_FOUND);
}

async fn signatures_are_verified(db: TestDb) {
    let app = spawn_app(db).await;
    let tpp = registered(&app, ORG, CertSpec::default()).await;
    let other = registered(&app, "PSDFR-ACPR-77777", CertSpec::default()).await;
    let client = app.tpp_client(HOST, &tpp);

    // Accepted: keyId URL form, with a body and PSU headers.
    let consent = json!({"balances": [], "transactions": [], "psuIdentity": false, "trustedBeneficiaries": false});
    accepted(
        client
            .signed(Method::PUT, CONSENTS)
            .json(&consent)
            .header("psu-ip-address", "192.0.2.10")
            .send()
            .await
            .unwrap(),
    )
    .await;
    // Accepted: keyId serial form.
    let serial =
        app.tpp_client_with(HOST, Some(&tpp.qwac), Some(Signer::new(&tpp.qseal.key_pem, tpp.key_id_serial()).unwrap()));
    accepted(serial.signed(Method::GET, ACCOUNTS).send().await.unwrap()).await;
    // Accepted over HTTP/1.1 with a query string.
    accepted(
        client
            .signed(Method::GET, "/stet/psd2/v1.4.2/accounts/175150009204004305180/transactions?dateFrom=2026-11-01")
            .send()
            .await
            .unwrap(),
    )
    .await;

    // Accepted: parameters in another order, mixed-case names in the header list.
    let request = client.signed(Method::GET, ACCOUNTS).signed_headers(&["X-Request-ID", "(Request-Target)"]);
    let headers = request.prepared_headers().unwrap();
    let signature = headers.iter().find(|(n, _)| n == "signature").unwrap().1.clone();
    let mut params: Vec<&str> = signature.split("\",").collect();
    params.reverse();
    let reordered = params
        .iter()
        .map(|p| if p.ends_with('"') { p.to_string() } else { format!("{p}\"") })
        .collect::<Vec<_>>()
        .join(",");
    let response = send_raw(&app, &tpp, Method::GET, ACCOUNTS, &headers, Some(("signature", &reordered)), b"").await;
    accepted(response).await;

    // Refused: each with what to fix.
    let tampered_body = client.signed(Method::PUT, CONSENTS).json(&consent);
    let headers = tampered_body.prepared_headers().unwrap();
    let response = send_raw(
        &app,
        &tpp,
        Method::PUT,
        CONSENTS,
        &headers,
        None,
        br#"{"balances":[{"iban":"FR7617515000920400430518020"}]}"#,
    )
    .await;
    refused(response, StatusCode::BAD_REQUEST, "Digest header does not match the body").await;

    let headers = client.signed(Method::GET, ACCOUNTS).prepared_headers().unwrap();
    let response =
        send_raw(&app, &tpp, Method::GET, ACCOUNTS, &headers, Some(("x-request-id", "changed-after-signing")), b"")
            .await;
    refused(response, StatusCode::BAD_REQUEST, "does not verify").await;

    let headers = client.signed(Method::GET, ACCOUNTS).prepared_headers().unwrap();
    let response =
        send_raw(&app, &tpp, Method::GET, ACCOUNTS, &headers, Some(("psu-ip-address", "192.0.2.1")), b"").await;
    refused(response, StatusCode::BAD_REQUEST, "psu-ip-address").await;

    let theirs = app.tpp_client_with(
        HOST,
        Some(&tpp.qwac),
        Some(Signer::new(&other.qseal.key_pem, other.key_id_url()).unwrap()),
    );
    refused(
        theirs.signed(Method::GET, ACCOUNTS).send().await.unwrap(),
        StatusCode::BAD_REQUEST,
        "not the registered QSealC of PSDFR-ACPR-12345",
    )
    .await;

    let unknown = app.tpp_client_with(
        HOST,
        Some(&tpp.qwac),
        Some(Signer::new(&tpp.qseal.key_pem, format!("https://x/q_{}", "ab".repeat(32))).unwrap()),
    );
    refused(
        unknown.signed(Method::GET, ACCOUNTS).send().await.unwrap(),
        StatusCode::BAD_REQUEST,
        "keyId is not the registered QSealC",
    )
    .await;

    let bad_key_id =
        app.tpp_client_with(HOST, Some(&tpp.qwac), Some(Signer::new(&tpp.qseal.key_pem, "my-key").unwrap()));
    refused(bad_key_id.signed(Method::GET, ACCOUNTS).send().await.unwrap(), StatusCode::BAD_REQUEST, "keyId must be")
        .await;

    let unsigned = app.tpp_client_with(HOST, Some(&tpp.qwac), None);
    refused(
        unsigned.signed(Method::GET, ACCOUNTS).send().await.unwrap(),
        StatusCode::BAD_REQUEST,
        "Signature header is missing",
    )
    .await;

    let no_digest_signed =
        client.signed(Method::PUT, CONSENTS).json(&consent).signed_headers(&["(request-target)", "x-request-id"]);
    refused(no_digest_signed.send().await.unwrap(), StatusCode::BAD_REQUEST, "must be signed and are not: digest")
        .await;

    let no_request_target = client.signed(Method::GET, ACCOUNTS).signed_headers(&["x-request-id"]);
    refused(no_request_target.send().await.unwrap(), StatusCode::BAD_REQUEST, "(request-target)").await;

    let headers = client.signed(Method::GET, ACCOUNTS).prepared_headers().unwrap();
    let signature = headers.iter().find(|(n, _)| n == "signature").unwrap().1.replace("rsa-sha256", "hmac-sha256");
    let response = send_raw(&app, &tpp, Method::GET, ACCOUNTS, &headers, Some(("signature", &signature)), b"").await;
    refused(response, StatusCode::BAD_REQUEST, "hmac-sha256").await;
}

/// Sends prepared headers, optionally overriding one, with `body` (the TPP's QWAC, no signing).
pub async fn send_raw(
    app: &TestApp,
    tpp: &TestTpp,
    method: Method,
    path: &str,
    headers: &[(String, String)],
    replace: Option<(&str, &str)>,
    body: &[u8],
) -> reqwest::Response {
    let client = app.tpp_client_with(HOST, Some(&tpp.qwac), None);
    let mut request = client.request_without_id(method, path);
    for (name, value) in headers {
        let value = match replace {
            Some((n, v)) if n == name => v.to_owned(),
            _ => value.clone(),
        };
        request = request.header(name, value);
    }
    if let Some((n, v)) = replace
        && !headers.iter().any(|(name, _)| name == n)
    {
        request = request.header(n, v);
    }
    if !body.is_empty() {
        request = request.body(body.to_vec());
    }
    request.send().await.unwrap()
}

/// A request that signs its `Date` must be fresh: a captured request cannot be replayed later.
async fn a_signed_date_must_be_near_the_bank_s_clock(db: TestDb) {
    let app = spawn_app(db).await;
    let tpp = registered(&app, ORG, CertSpec::default()).await;
    let client = app.tpp_client(HOST, &tpp);
    let http_date = |t: jiff::Timestamp| t.strftime("%a, %d %b %Y %H:%M:%S GMT").to_string();
    let now: jiff::Timestamp = crate::harness::TEST_NOW.parse().unwrap();
    let signed = |date: String| {
        client.signed(Method::GET, ACCOUNTS).header("Date", date).signed_headers(&[
            "(request-target)",
            "x-request-id",
            "date",
        ])
    };
    accepted(signed(http_date(now.checked_sub(jiff::SignedDuration::from_secs(60)).unwrap())).send().await.unwrap())
        .await;
    let stale = http_date(now.checked_sub(jiff::SignedDuration::from_mins(10)).unwrap());
    refused(signed(stale).send().await.unwrap(), StatusCode::BAD_REQUEST, "away from the bank's clock").await;
    accepted(signed(http_date(now.checked_add(jiff::SignedDuration::from_secs(60)).unwrap())).send().await.unwrap())
        .await;
    let ahead = http_date(now.checked_add(jiff::SignedDuration::from_mins(10)).unwrap());
    refused(signed(ahead).send().await.unwrap(), StatusCode::BAD_REQUEST, "away from the bank's clock").await;
    refused(signed("yesterday".into()).send().await.unwrap(), StatusCode::BAD_REQUEST, "not an HTTP date").await;
}

/// Migration 0011: the registrations an earlier version wrote in Unix seconds read back as the same
/// instants once the registry keeps milliseconds like every other table.
async fn registrations_written_in_seconds_keep_their_instants(db: TestDb) {
    let backend = if db.url().starts_with("sqlite") { "sqlite" } else { "postgres" };
    let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/store/migrations").join(backend);
    let mut before = sqlx::migrate::Migrator::new(folder).await.unwrap();
    before.migrations = before.migrations.iter().filter(|m| m.version < 11).cloned().collect::<Vec<_>>().into();
    sqlx::any::install_default_drivers();
    let url = if backend == "sqlite" { format!("{}?mode=rwc", db.url()) } else { db.url().to_owned() };
    let pool = sqlx::AnyPool::connect(&url).await.unwrap();
    before.run(&pool).await.unwrap();
    let (registered, updated) = (1_780_000_000_i64, 1_780_000_600_i64);
    sqlx::query(
        "INSERT INTO tpps (org_id, client_name, active, qsealc_pem, qsealc_sha256, qsealc_serial, qsealc_issuer, contacts,
                           created_at, updated_at)
         VALUES ($1, 'Old TPP', 1, '', '', '', '', '', $2, $3)",
    )
    .bind(ORG)
    .bind(registered)
    .bind(updated)
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;

    let store = db.store().await;
    let org = stet::OrgId::parse(ORG).unwrap();
    let registration = store.registration(&org).await.unwrap().expect("kept by the migration");
    assert_eq!(registration.created_at, jiff::Timestamp::from_second(registered).unwrap());
    let pool = sqlx::AnyPool::connect(db.url()).await.unwrap();
    let row: (i64, i64) = sqlx::query_as("SELECT created_at, updated_at FROM tpps").fetch_one(&pool).await.unwrap();
    assert_eq!(row, (registered * 1000, updated * 1000), "both columns in milliseconds");
    pool.close().await;
}

db_tests!(
    qwac_checks_name_what_failed,
    registration_lifecycle,
    registrations_written_in_seconds_keep_their_instants,
    registration_refusals,
    signatures_are_verified,
    a_signed_date_must_be_near_the_bank_s_clock,
);

/// Header names travel in any case over HTTP/1.1; the signing string uses them in lower case.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mixed_case_header_names_on_the_wire() {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let app = spawn_app(TestDb::sqlite()).await;
    let tpp = registered(&app, ORG, CertSpec::default()).await;
    let prepared = app
        .tpp_client(HOST, &tpp)
        .signed(Method::GET, ACCOUNTS)
        .header("psu-ip-address", "192.0.2.33")
        .prepared_headers()
        .unwrap();

    let mut roots = rustls::RootCertStore::empty();
    roots.add(CertificateDer::from_pem_slice(&app.ca_pem).unwrap()).unwrap();
    let chain = vec![CertificateDer::from_pem_slice(tpp.qwac.cert_pem.as_bytes()).unwrap()];
    let key = PrivateKeyDer::from_pem_slice(tpp.qwac.key_pem.as_bytes()).unwrap();
    let config =
        rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_client_auth_cert(chain, key)
            .unwrap();
    let tcp = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let mut tls = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config))
        .connect(HOST.try_into().unwrap(), tcp)
        .await
        .unwrap();

    let shout = |name: &str| match name {
        "x-request-id" => "X-REQUEST-ID".to_owned(),
        "psu-ip-address" => "Psu-Ip-Address".to_owned(),
        "signature" => "SIGNATURE".to_owned(),
        other => other.to_owned(),
    };
    let mut head = format!("GET {ACCOUNTS} HTTP/1.1\r\nHost: {HOST}\r\nConnection: close\r\n");
    for (name, value) in &prepared {
        head.push_str(&format!("{}: {value}\r\n", shout(name)));
    }
    head.push_str("\r\n");
    tls.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let _ = tls.read_to_end(&mut answer).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    assert!(answer.contains("an access token is required"), "accepted up to the token check: {answer}");
}
