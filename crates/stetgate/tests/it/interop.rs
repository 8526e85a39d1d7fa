//! Independent producers: certificates made with the openssl command line under a QTSP root given as
//! a trust anchor, and request signatures made by the `httpsig` package from PyPI.

use crate::harness::{AppOptions, CertSpec, TestApp, TestDb, TestTpp, spawn_app, spawn_app_with};
use eidas::issue::Issued;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::path::Path;
use std::process::{Command, Stdio};
use stet_tpp::Signer;

const HOST: &str = "www.17515.sandbox.localhost";

/// A request that passed every TPP check reaches the token check.
async fn assert_accepted(response: reqwest::Response) {
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(body["error"].as_str().unwrap_or("").contains("access token"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_independent_qtsp_given_as_trust_anchor_is_accepted() {
    let certs = tempfile::tempdir().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../eidas/tests/openssl/make-certs.sh");
    assert!(Command::new("bash").arg(script).arg(certs.path()).status().unwrap().success(), "openssl script");
    let read = |name: &str| std::fs::read_to_string(certs.path().join(name)).unwrap();
    let tpp = TestTpp {
        org_id: "PSDFR-ACPR-98765".into(),
        qwac: Issued { cert_pem: read("qwac.pem"), key_pem: read("qwac.key") },
        qseal: Issued { cert_pem: read("qseal.pem"), key_pem: read("qseal.key") },
    };

    // openssl dates the certificates from the real time, so these servers' clocks follow it.
    let now = Some(jiff::Timestamp::now());
    // Without the anchor, the QWAC is refused.
    let app = spawn_app_with(TestDb::sqlite(), AppOptions { now, ..AppOptions::default() }).await;
    let response = app
        .tpp_client(HOST, &tpp)
        .request(Method::POST, "/stet/psd2/oauth/register")
        .json(&tpp.registration("https://tpp.example/cb"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);

    let options = AppOptions { trust_anchors: vec![certs.path().join("ca.pem")], now, ..AppOptions::default() };
    let app = spawn_app_with(TestDb::sqlite(), options).await;
    app.register(&tpp).await;
    let client = app.tpp_client(HOST, &tpp);
    assert_accepted(client.signed(Method::GET, "/stet/psd2/v1.6.2/accounts").send().await.unwrap()).await;
    let serial =
        app.tpp_client_with(HOST, Some(&tpp.qwac), Some(Signer::new(&tpp.qseal.key_pem, tpp.key_id_serial()).unwrap()));
    assert_accepted(serial.signed(Method::GET, "/stet/psd2/v1.6.2/accounts").send().await.unwrap()).await;
}

/// Whether `python3` can import httpsig; under CI=true it must.
fn httpsig_available() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import httpsig"])
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        assert!(
            std::env::var("CI").map(|v| v != "true").unwrap_or(true),
            "CI=true but python3 cannot import httpsig (scripts/test.sh installs it)"
        );
        eprintln!("note: python3 httpsig is not installed; skipping the interoperability test");
    }
    ok
}

/// The Signature header value the httpsig package computes.
fn httpsig_signature(
    key_pem: &str,
    key_id: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    signed: &[&str],
) -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/httpsig_sign.py");
    let input = json!({
        "key_pem": key_pem,
        "key_id": key_id,
        "method": method,
        "path": path,
        "headers": headers.iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<serde_json::Map<_, _>>(),
        "signed": signed,
    });
    let mut child = Command::new("python3").arg(script).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), input.to_string().as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

async fn send(
    app: &TestApp,
    tpp: &TestTpp,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    signature: &str,
    body: &[u8],
) -> reqwest::Response {
    let client = app.tpp_client_with(HOST, Some(&tpp.qwac), None);
    let mut request = client.request_without_id(method, path).header("signature", signature);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if !body.is_empty() {
        request = request.body(body.to_vec());
    }
    request.send().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_signed_by_python_httpsig_is_accepted() {
    if !httpsig_available() {
        return;
    }
    let app = spawn_app(TestDb::sqlite()).await;
    let tpp = app.tpp("PSDFR-ACPR-12345", CertSpec::default());
    app.register(&tpp).await;

    let path = "/stet/psd2/v1.4.2/accounts";
    let headers = [("X-Request-ID", "py-1"), ("PSU-IP-Address", "192.0.2.7")];
    let signature = httpsig_signature(
        &tpp.qseal.key_pem,
        &tpp.key_id_url(),
        "GET",
        path,
        &headers,
        &["(request-target)", "x-request-id", "psu-ip-address"],
    );
    assert_accepted(send(&app, &tpp, Method::GET, path, &headers, &signature, b"").await).await;

    // With a body and its Digest, and the serial form of keyId.
    let body = br#"{"balances":[],"transactions":[],"psuIdentity":false,"trustedBeneficiaries":false}"#;
    let digest = eidas::signature::digest_header(body);
    let headers = [("X-Request-ID", "py-2"), ("Digest", digest.as_str()), ("Content-Type", "application/json")];
    let path = "/stet/psd2/v1.4.2/consents";
    let signature = httpsig_signature(
        &tpp.qseal.key_pem,
        &tpp.key_id_serial(),
        "PUT",
        path,
        &headers,
        &["(request-target)", "digest", "x-request-id"],
    );
    assert_accepted(send(&app, &tpp, Method::PUT, path, &headers, &signature, body).await).await;

    // The same signature over a different body is refused.
    let response = send(&app, &tpp, Method::PUT, path, &headers, &signature, br#"{"balances":[]}"#).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

/// docs/examples/signed-request.sh (openssl signs, curl sends) is accepted as the guide says.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_guide_s_shell_example_is_accepted() {
    if Command::new("curl").arg("--version").stdout(Stdio::null()).status().map(|s| !s.success()).unwrap_or(true) {
        assert!(std::env::var("CI").map(|v| v != "true").unwrap_or(true), "CI=true but curl is missing");
        eprintln!("note: curl is not installed; skipping");
        return;
    }
    let app =
        spawn_app_with(TestDb::sqlite(), AppOptions { now: Some(jiff::Timestamp::now()), ..AppOptions::default() })
            .await;
    let now_spec = CertSpec {
        valid_from: jiff::Timestamp::now().as_second() - crate::harness::test_now() - 3600,
        ..CertSpec::default()
    };
    let tpp = app.tpp("PSDFR-ACPR-12345", now_spec);
    app.register(&tpp).await;
    let certs = tempfile::tempdir().unwrap();
    for (name, text) in [
        ("qwac.pem", &tpp.qwac.cert_pem),
        ("qwac.key", &tpp.qwac.key_pem),
        ("qseal.pem", &tpp.qseal.cert_pem),
        ("qseal.key", &tpp.qseal.key_pem),
    ] {
        std::fs::write(certs.path().join(name), text).unwrap();
    }
    std::fs::write(certs.path().join("ca.pem"), &app.ca_pem).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/examples/signed-request.sh");
    let output = Command::new("bash")
        .arg(script)
        .env("BANK", format!("https://{HOST}:{}", app.addr.port()))
        .env("CACERT", certs.path().join("ca.pem"))
        .env("CERTS", certs.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout} {}", String::from_utf8_lossy(&output.stderr));
    let answers: Vec<Value> =
        stdout.lines().filter(|l| !l.is_empty()).map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(answers.len(), 2, "{stdout}");
    for answer in answers {
        assert_eq!(answer["status"], 401, "signature accepted, the token is what is missing: {answer}");
        assert!(answer["error"].as_str().unwrap().contains("access token"), "{answer}");
    }
}
