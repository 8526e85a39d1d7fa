//! Revocation of QWACs and QSealCs on a production node, against an independent QTSP: a CA made by
//! the openssl CLI (`openssl ca`, `-revoke`, `-gencrl`), its CRL served over HTTP, and `openssl
//! ocsp` as its OCSP responder (signing as a responder the CA certified for OCSP signing), each
//! revoking a QSealC after its registration too. The configuration is docs/operator-guide.md's
//! "Revocation" one.

use crate::harness::{AppOptions, TestApp, TestDb, TestTpp, logs, spawn_app, spawn_node_with};
use eidas::issue::Issued;
use eidas::psd2::{QcType, Role, encode_qc_statements, hex};
use reqwest::{Method, StatusCode};
use rustls::pki_types::pem::PemObject;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use stetgate::config::RevocationConfig;

const HOST: &str = "www.17515.sandbox.localhost";
const ACCOUNTS: &str = "/stet/psd2/v1.4.2/accounts";

fn openssl(dir: &Path, args: &[&str]) {
    let output = Command::new("openssl").args(args).current_dir(dir).output().expect("the openssl CLI");
    assert!(output.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&output.stderr));
}

/// A QTSP made with `openssl ca`: its certificates name `crl_url` and `ocsp_url` when given.
struct OpensslCa {
    dir: tempfile::TempDir,
}

impl OpensslCa {
    fn new(name: &str, crl_url: Option<&str>, ocsp_url: Option<&str>) -> OpensslCa {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path();
        std::fs::write(path.join("req.cnf"), format!(
            "[req]\ndistinguished_name = dn\nx509_extensions = v3_ca\nprompt = no\n[dn]\nC = FR\nO = {name}\nCN = {name} Root\n\
             [v3_ca]\nbasicConstraints = critical, CA:TRUE\nkeyUsage = critical, keyCertSign, cRLSign\nsubjectKeyIdentifier = hash\n"
        ))
        .unwrap();
        openssl(
            path,
            &[
                "req", "-x509", "-config", "req.cnf", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out",
                "ca.pem", "-days", "3650",
            ],
        );
        std::fs::create_dir(path.join("issued")).unwrap();
        std::fs::write(path.join("index.txt"), "").unwrap();
        std::fs::write(path.join("serial"), "1000\n").unwrap();
        std::fs::write(path.join("crlnumber"), "1000\n").unwrap();
        let roles = [Role::AccountInformation, Role::CardIssuing, Role::PaymentInitiation];
        let statements = |kind: &QcType| hex(&encode_qc_statements(kind, &roles, "ACPR", "FR-ACPR"));
        let mut published = String::new();
        if let Some(url) = crl_url {
            published += &format!("crlDistributionPoints = URI:{url}\n");
        }
        if let Some(url) = ocsp_url {
            published += &format!("authorityInfoAccess = OCSP;URI:{url}\n");
        }
        std::fs::write(path.join("ca.cnf"), format!(
            "[ca]\ndefault_ca = qtsp\n[qtsp]\ndir = .\ndatabase = index.txt\nnew_certs_dir = issued\nserial = serial\n\
             crlnumber = crlnumber\ncertificate = ca.pem\nprivate_key = ca.key\ndefault_md = sha256\ndefault_days = 30\n\
             default_crl_hours = 1\npolicy = any\nunique_subject = no\ncopy_extensions = none\n[any]\ncommonName = supplied\n\
             [qwac]\nbasicConstraints = CA:FALSE\nkeyUsage = critical, digitalSignature, keyEncipherment\n\
             extendedKeyUsage = clientAuth\n1.3.6.1.5.5.7.1.3 = DER:{}\n{published}\
             [qseal]\nbasicConstraints = CA:FALSE\nkeyUsage = critical, digitalSignature, nonRepudiation\n\
             1.3.6.1.5.5.7.1.3 = DER:{}\n{published}\
             [ocsp_signer]\nbasicConstraints = CA:FALSE\nkeyUsage = critical, digitalSignature\nextendedKeyUsage = OCSPSigning\n",
            statements(&QcType::Web),
            statements(&QcType::Eseal),
        ))
        .unwrap();
        OpensslCa { dir }
    }

    fn path(&self, file: &str) -> PathBuf {
        self.dir.path().join(file)
    }

    /// Issues a QWAC (`qwac`) or QSealC (`qseal`) for `org`, valid since yesterday.
    fn issue(&self, org: &str, extensions: &str) -> Issued {
        let name = format!("{org}-{extensions}");
        let (key, csr, cert) = (format!("{name}.key"), format!("{name}.csr"), format!("{name}.pem"));
        let subject = format!("/C=FR/O=TPP {org}/CN=TPP {org}/organizationIdentifier={org}");
        openssl(
            self.dir.path(),
            &["req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", &key, "-out", &csr, "-subj", &subject],
        );
        let since =
            (jiff::Timestamp::now() - jiff::SignedDuration::from_hours(24)).strftime("%Y%m%d%H%M%SZ").to_string();
        openssl(
            self.dir.path(),
            &[
                "ca",
                "-batch",
                "-config",
                "ca.cnf",
                "-extensions",
                extensions,
                "-preserveDN",
                "-notext",
                "-startdate",
                &since,
                "-in",
                &csr,
                "-out",
                &cert,
            ],
        );
        Issued {
            cert_pem: std::fs::read_to_string(self.path(&cert)).unwrap(),
            key_pem: std::fs::read_to_string(self.path(&key)).unwrap(),
        }
    }

    fn tpp(&self, org: &str) -> TestTpp {
        TestTpp { org_id: org.to_owned(), qwac: self.issue(org, "qwac"), qseal: self.issue(org, "qseal") }
    }

    fn revoke(&self, certificate: &Issued) {
        let file = self.path("to-revoke.pem");
        std::fs::write(&file, &certificate.cert_pem).unwrap();
        openssl(
            self.dir.path(),
            &["ca", "-config", "ca.cnf", "-revoke", "to-revoke.pem", "-crl_reason", "keyCompromise"],
        );
    }

    /// Writes the CA's current CRL as `ca.crl` (DER), where the CRL server reads it.
    fn publish_crl(&self) {
        openssl(self.dir.path(), &["ca", "-config", "ca.cnf", "-gencrl", "-crlhours", "3", "-out", "crl.pem"]);
        openssl(self.dir.path(), &["crl", "-in", "crl.pem", "-outform", "DER", "-out", "ca.crl"]);
    }

    /// `openssl ocsp` answering for this CA on `port`, signing with the key of a responder the CA
    /// certified for OCSP signing (RFC 6960 4.2.2.2; its certificate travels in each answer).
    fn ocsp_responder(&self, port: u16) -> Responder {
        let signer = self.issue("OCSP", "ocsp_signer");
        std::fs::write(self.path("responder.pem"), &signer.cert_pem).unwrap();
        std::fs::write(self.path("responder.key"), &signer.key_pem).unwrap();
        let mut child = Command::new("openssl")
            .args(["ocsp", "-index", "index.txt", "-port", &port.to_string()])
            .args(["-rsigner", "responder.pem", "-rkey", "responder.key"])
            .args(["-CA", "ca.pem", "-ndays", "1"])
            .current_dir(self.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("openssl ocsp");
        // The responder serves one connection at a time: a probing connection would block it,
        // so wait for it to say it listens (and keep reading what it says).
        let stderr = child.stderr.take().expect("stderr");
        let (listening, ready) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(stderr).lines().map_while(Result::ok) {
                if line.contains("waiting for OCSP client connections") {
                    let _ = listening.send(());
                }
            }
        });
        ready.recv_timeout(std::time::Duration::from_secs(10)).expect("openssl ocsp listens");
        Responder(child)
    }
}

/// The `openssl ocsp` process, stopped when dropped.
struct Responder(Child);

impl Drop for Responder {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A port nothing listens on (bound, then released).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Serves `<dir>/ca.crl` at `http://127.0.0.1:<port>/ca.crl`, read afresh at each request.
async fn serve_crl(listener: tokio::net::TcpListener, dir: PathBuf) {
    let app = axum::Router::new().route(
        "/ca.crl",
        axum::routing::get(move || {
            let file = dir.join("ca.crl");
            async move { std::fs::read(file).map_err(|_| StatusCode::NOT_FOUND) }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
}

/// `trust_anchors` and `[revocation]` of the operator guide's "Revocation" section, its three
/// anchors (`qtsp-crl.pem` and `qtsp-ocsp.pem` hard-fail, `qtsp-soft.pem` soft-fail) being these
/// CAs (`None`: a CA of no use to the test).
fn guide_configuration(crl: Option<&OpensslCa>, ocsp: Option<&OpensslCa>, soft: Option<&OpensslCa>) -> Configuration {
    #[derive(serde::Deserialize)]
    struct Documented {
        trust_anchors: Vec<PathBuf>,
        revocation: RevocationConfig,
    }
    let guide = include_str!("../../../../docs/operator-guide.md");
    let section = guide.split("## Revocation").nth(1).expect("a Revocation section");
    let mut toml =
        section.split("```toml").nth(1).and_then(|b| b.split("```").next()).expect("its configuration").to_owned();
    let unused = OpensslCa::new("Unused QTSP", None, None);
    for (name, ca) in [("qtsp-crl.pem", crl), ("qtsp-ocsp.pem", ocsp), ("qtsp-soft.pem", soft)] {
        let file = match ca {
            Some(ca) => ca.path("ca.pem"),
            None => {
                let copy = unused.path(name);
                std::fs::copy(unused.path("ca.pem"), &copy).unwrap();
                copy
            }
        };
        toml = toml.replace(&format!("/etc/stetgate/{name}"), &file.display().to_string());
    }
    let documented: Documented =
        figment::Figment::from(<figment::providers::Toml as figment::providers::Format>::string(&toml))
            .extract()
            .expect("the guide's TOML");
    Configuration { trust_anchors: documented.trust_anchors, revocation: documented.revocation, _unused: unused }
}

/// What the guide configures, with the CA standing in for the anchors a test does not use.
struct Configuration {
    trust_anchors: Vec<PathBuf>,
    revocation: RevocationConfig,
    _unused: OpensslCa,
}

/// A production node configured as the guide shows, at the real time (the openssl CA's
/// certificates and CRLs are dated now).
async fn production(configuration: &Configuration) -> (TestApp, TestApp) {
    let sandbox = spawn_app(TestDb::sqlite()).await;
    let options = AppOptions {
        production_banks: vec!["17515"],
        trust_anchors: configuration.trust_anchors.clone(),
        revocation: configuration.revocation.clone(),
        now: Some(jiff::Timestamp::now()),
        ..AppOptions::default()
    };
    let node = spawn_node_with(&sandbox, options).await;
    (sandbox, node)
}

/// Registers `tpp` through the API: the status and the RFC 7591 body.
async fn register(node: &TestApp, tpp: &TestTpp) -> (StatusCode, Value) {
    let response = node
        .tpp_client(HOST, tpp)
        .request(Method::POST, "/stet/psd2/oauth/register")
        .json(&tpp.registration(crate::harness::CALLBACK))
        .send()
        .await
        .unwrap();
    (response.status(), response.json().await.unwrap_or(Value::Null))
}

/// A signed call without a token: past the QWAC, registration and signature checks it is a 401
/// asking for the access token; otherwise (status, error text).
async fn signed_call(node: &TestApp, tpp: &TestTpp) -> (StatusCode, String) {
    let response = node.tpp_client(HOST, tpp).signed(Method::GET, ACCOUNTS).send().await.unwrap();
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    (status, body["error"].as_str().unwrap_or_default().to_owned())
}

fn passed_every_tpp_check(answer: &(StatusCode, String)) -> bool {
    answer.0 == StatusCode::UNAUTHORIZED && answer.1.contains("access token")
}

/// Every TPP route of every version, and the OAuth endpoints, refuse `tpp`'s QWAC naming its
/// revocation.
async fn refused_everywhere(node: &TestApp, tpp: &TestTpp) {
    let client = node.tpp_client(HOST, tpp);
    for version in stet::ApiVersion::ALL {
        for endpoint in stet::catalog::endpoints(version) {
            let path: String = endpoint
                .path
                .split('/')
                .map(|segment| if segment.starts_with('{') { "x" } else { segment })
                .collect::<Vec<_>>()
                .join("/");
            let path = format!("{}{path}", version.base_path());
            let method = Method::from_bytes(endpoint.method.as_str().as_bytes()).unwrap();
            let response = client.signed(method.clone(), &path).json(&serde_json::json!({})).send().await.unwrap();
            let status = response.status();
            let body: Value = response.json().await.unwrap_or(Value::Null);
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path}: {body}");
            let error = body["error"].as_str().unwrap_or_default();
            assert!(error.contains("QWAC refused") && error.contains("revoked"), "{method} {path}: {body}");
        }
    }
    let (status, body) = register(node, tpp).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(body["error_description"].as_str().unwrap_or_default().contains("revoked"), "{body}");
    let token = client
        .request(Method::POST, "/stet/psd2/oauth/token")
        .form(&[("grant_type", "client_credentials"), ("client_id", tpp.org_id.as_str()), ("scope", "pisp")])
        .send()
        .await
        .unwrap();
    assert_eq!(token.status(), StatusCode::UNAUTHORIZED);
    let body: Value = token.json().await.unwrap();
    assert!(body["error_description"].as_str().unwrap_or_default().contains("revoked"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificates_revoked_in_the_qtsp_s_crl_are_refused() {
    logs();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let crl_url = format!("http://127.0.0.1:{}/ca.crl", listener.local_addr().unwrap().port());
    let ca = OpensslCa::new("CRL QTSP", Some(&crl_url), None);
    serve_crl(listener, ca.dir.path().to_path_buf()).await;
    let (good, revoked_qwac, revoked_seal, later) = (
        ca.tpp("PSDFR-ACPR-10001"),
        ca.tpp("PSDFR-ACPR-10002"),
        ca.tpp("PSDFR-ACPR-10003"),
        ca.tpp("PSDFR-ACPR-10004"),
    );
    ca.revoke(&revoked_qwac.qwac);
    ca.revoke(&revoked_seal.qseal);
    ca.publish_crl();
    let configuration = guide_configuration(Some(&ca), None, None);
    let (_sandbox, node) = production(&configuration).await;

    let (status, body) = register(&node, &good).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert!(passed_every_tpp_check(&signed_call(&node, &good).await), "a certificate the CRL does not list");
    refused_everywhere(&node, &revoked_qwac).await;
    let (status, body) = register(&node, &revoked_seal).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let text = body["error_description"].as_str().unwrap_or_default();
    assert!(text.contains("QSealC was revoked") && text.contains("keyCompromise") && text.contains(&crl_url), "{body}");

    // Remembered checks respect revocation: `later` is accepted (its QWAC and QSealC checks are
    // remembered), then its QTSP revokes both; once the node fetches the next CRL (before the
    // current one's nextUpdate), its signed calls are refused.
    assert_eq!(register(&node, &later).await.0, StatusCode::CREATED);
    assert!(passed_every_tpp_check(&signed_call(&node, &later).await));
    ca.revoke(&later.qseal);
    ca.publish_crl();
    assert!(passed_every_tpp_check(&signed_call(&node, &later).await), "the current CRL is still in use");
    node.clock.advance(jiff::SignedDuration::from_mins(56));
    let (status, error) = signed_call(&node, &later).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
    assert!(error.starts_with("signature: the registered QSealC was revoked by its QTSP"), "{error}");
    ca.revoke(&later.qwac);
    ca.publish_crl();
    node.clock.advance(jiff::SignedDuration::from_mins(56));
    let (status, error) = signed_call(&node, &later).await;
    assert_eq!((status, error.contains("QWAC refused")), (StatusCode::UNAUTHORIZED, true), "{error}");
    let metrics = node.state.metrics.render();
    assert!(metrics.contains("outcome=\"revoked\""), "{metrics}");
    assert!(!logs().lines_with(&["CRL downloaded", &crl_url]).is_empty(), "downloads are logged");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificates_the_ocsp_responder_says_are_revoked_are_refused() {
    logs();
    let port = free_port();
    let ocsp_url = format!("http://127.0.0.1:{port}");
    let ca = OpensslCa::new("OCSP QTSP", None, Some(&ocsp_url));
    let (good, revoked_qwac, revoked_seal, later) = (
        ca.tpp("PSDFR-ACPR-20001"),
        ca.tpp("PSDFR-ACPR-20002"),
        ca.tpp("PSDFR-ACPR-20003"),
        ca.tpp("PSDFR-ACPR-20004"),
    );
    ca.revoke(&revoked_qwac.qwac);
    ca.revoke(&revoked_seal.qseal);
    let _responder = ca.ocsp_responder(port);
    let configuration = guide_configuration(None, Some(&ca), None);
    let (_sandbox, node) = production(&configuration).await;

    let (status, body) = register(&node, &good).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert!(passed_every_tpp_check(&signed_call(&node, &good).await), "a certificate the responder says is good");
    refused_everywhere(&node, &revoked_qwac).await;
    let (status, body) = register(&node, &revoked_seal).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let text = body["error_description"].as_str().unwrap_or_default();
    assert!(text.contains("QSealC was revoked") && text.contains(&format!("says OCSP {ocsp_url}")), "{body}");
    let answers = logs().lines_with(&["OCSP answer received", &ocsp_url]);
    assert!(answers.iter().any(|l| l.contains("\"nonce_echoed\":true")), "openssl echoes the nonce: {answers:?}");
    assert!(answers.iter().all(|l| l.contains("age_secs")), "{answers:?}");
    let metrics = node.state.metrics.render();
    assert!(metrics.contains("source=\"ocsp\"") && metrics.contains("outcome=\"good\""), "{metrics}");
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("stetgate_revocation_status_age_seconds") && l.contains("source=\"ocsp\"")),
        "the age of the status each decision rests on: {metrics}"
    );

    // A QSealC revoked after its registration: once the responder's "good" is no longer current
    // (max_age_secs = 3600), the responder is asked again and the signed calls are refused.
    assert_eq!(register(&node, &later).await.0, StatusCode::CREATED);
    assert!(passed_every_tpp_check(&signed_call(&node, &later).await));
    ca.revoke(&later.qseal);
    assert!(passed_every_tpp_check(&signed_call(&node, &later).await), "the current answer is still in use");
    node.clock.advance(jiff::SignedDuration::from_mins(61));
    let (status, error) = signed_call(&node, &later).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
    assert!(error.starts_with("signature: the registered QSealC was revoked by its QTSP"), "{error}");
    assert!(error.contains(&format!("says OCSP {ocsp_url}")), "through OCSP, the only source it names: {error}");
    assert!(passed_every_tpp_check(&signed_call(&node, &good).await), "the QTSP's other TPPs are unaffected");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_the_responder_is_down_soft_fail_accepts_and_hard_fail_refuses() {
    logs();
    let down = format!("http://127.0.0.1:{}", free_port());
    let soft_ca = OpensslCa::new("Soft QTSP", Some(&format!("{down}/ca.crl")), Some(&down));
    let hard_ca = OpensslCa::new("Hard QTSP", Some(&format!("{down}/ca.crl")), Some(&down));
    let (soft, hard) = (soft_ca.tpp("PSDFR-ACPR-30001"), hard_ca.tpp("PSDFR-ACPR-30002"));
    let configuration = guide_configuration(None, Some(&hard_ca), Some(&soft_ca));
    let (_sandbox, node) = production(&configuration).await;

    let (status, body) = register(&node, &soft).await;
    assert_eq!(status, StatusCode::CREATED, "soft-fail accepts: {body}");
    assert!(passed_every_tpp_check(&signed_call(&node, &soft).await));
    let anchor = soft_ca.path("ca.pem").display().to_string();
    let warned = logs().lines_with(&["soft-fail", &anchor, &down]);
    assert!(!warned.is_empty(), "the soft-fail is logged with its anchor and why");
    let metrics = node.state.metrics.render();
    assert!(metrics.contains("outcome=\"soft_fail\""), "the soft-fail is counted: {metrics}");

    let response = node.tpp_client(HOST, &hard).signed(Method::GET, ACCOUNTS).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(response.headers().contains_key("retry-after"));
    let body: Value = response.json().await.unwrap();
    let error = body["error"].as_str().unwrap_or_default();
    assert!(error.contains("revocation status of the QWAC could not be established"), "{body}");
    assert!(node.state.metrics.render().contains("outcome=\"hard_fail\""));

    // A QSealC of the hard-fail anchor (its QWAC of the soft-fail one) is not registered either.
    let org = "PSDFR-ACPR-30003";
    let mixed = TestTpp { org_id: org.into(), qwac: soft_ca.issue(org, "qwac"), qseal: hard_ca.issue(org, "qseal") };
    let (status, body) = register(&node, &mixed).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    let text = body["error_description"].as_str().unwrap_or_default();
    assert!(text.contains("revocation status of the QSealC could not be established"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sandbox_refuses_a_certificate_certs_revoke_revoked() {
    let app = spawn_app(TestDb::sqlite()).await;
    let ca = app.state.sandbox_ca.clone().expect("the sandbox CA");
    let request = stetgate::sandbox::certs::CertsRequest::parse("PSDFR-ACPR-40001", "PSP_AI", None, None, 30).unwrap();
    let pair = stetgate::sandbox::certs::issue_with(&ca, &request, crate::harness::test_now()).unwrap();
    let tpp = TestTpp { org_id: "PSDFR-ACPR-40001".into(), qwac: pair.qwac, qseal: pair.qseal };
    let der = rustls::pki_types::CertificateDer::from_pem_slice(tpp.qwac.cert_pem.as_bytes()).unwrap();
    let ocsp_url = format!("https://localhost:{}/pki/ocsp", app.addr.port());
    let sources = eidas::revocation::sources(&der).unwrap();
    assert_eq!(sources.ocsp, vec![ocsp_url.clone()], "the sandbox names its own responder");
    assert_eq!(sources.crl, vec![format!("https://localhost:{}/pki/ca.crl", app.addr.port())]);
    app.register(&tpp).await;
    assert!(passed_every_tpp_check(&signed_call(&app, &tpp).await));

    let bad = Command::new(env!("CARGO_BIN_EXE_stetgate"))
        .args(["certs", "revoke", "--serial", "not-hex", "--data-dir"])
        .arg(app.data_dir.path())
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2), "a serial that is not hexadecimal");
    assert!(String::from_utf8_lossy(&bad.stderr).contains("is not a hexadecimal serial number"));
    let file = app.data_dir.path().join("qwac-to-revoke.pem");
    std::fs::write(&file, &tpp.qwac.cert_pem).unwrap();
    let revoke = Command::new(env!("CARGO_BIN_EXE_stetgate"))
        .args(["certs", "revoke", "--cert"])
        .arg(&file)
        .arg("--data-dir")
        .arg(app.data_dir.path())
        .output()
        .unwrap();
    assert!(revoke.status.success(), "{}", String::from_utf8_lossy(&revoke.stderr));
    assert!(String::from_utf8_lossy(&revoke.stdout).contains("revoked"));
    // The good answer given before is current for a minute.
    app.clock.advance(jiff::SignedDuration::from_secs(61));
    let (status, error) = signed_call(&app, &tpp).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{error}");
    assert!(error.contains("revoked") && error.contains(&ocsp_url), "{error}");
    // The CRL lists it too.
    let crl = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&app.ca_pem).unwrap())
        .build()
        .unwrap()
        .get(format!("https://localhost:{}/pki/ca.crl", app.addr.port()))
        .send()
        .await
        .unwrap();
    assert_eq!(crl.status(), StatusCode::OK);
    let crl = eidas::revocation::Crl::parse(&crl.bytes().await.unwrap(), &ca.cert_der().unwrap()).unwrap();
    assert!(matches!(crl.status_of(&der).unwrap(), eidas::revocation::Status::Revoked { .. }));
}
