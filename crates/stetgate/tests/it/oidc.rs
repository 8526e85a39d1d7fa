//! OpenID Connect delegation of the PSU's strong authentication (`[oidc."<bank>"]`), end to end on a
//! production node against a real OpenID provider: the certified `oidc-provider` package on Node.js
//! (`tests/oidc-provider/provider.mjs`, installed by `scripts/test.sh` with `npm ci`), over HTTPS
//! with a certificate of the sandbox CA. The test plays the PSU's browser (cookies, redirects, the
//! provider's sign-in form). Bank 13807 is configured as docs/operator-guide.md shows it
//! (`private_key_jwt`, ID tokens ES256), bank 17515 with `client_secret_basic` (ID tokens RS256).
//!
//! Outside CI, the tests are skipped when node or the package is missing; with `CI=true` they fail.

use crate::harness::{
    AppOptions, CALLBACK, CertSpec, TestApp, TestDb, TestTpp, db_tests, logs, spawn_app_with, spawn_node_with,
};
use eidas::psd2::Role;
use jiff::{SignedDuration, Timestamp};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use stetgate::clock::Clock;
use stetgate::config::{OidcClientAuth, OidcConfig};
use tokio::io::AsyncBufReadExt;

const ORG: &str = "PSDFR-ACPR-12345";
const BP: &str = "www.13807.sandbox.localhost";
const CE: &str = "www.17515.sandbox.localhost";
const MARC: &str = "D0999990I0";
const MARC_1: &str = "FR7613807008043001965405158";
const CE_PSU: &str = "9999999901";
const SCA: &str = "urn:bank:loa:sca";
const PASSWORD_ONLY: &str = "urn:bank:loa:password";
const SECRET: &str = "a-client-secret-of-bank-17515-for-stetgate";

/// The provider's directory, or `None` (skip) when node or its packages are missing outside CI.
fn provider_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("STETGATE_OIDC_PROVIDER_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oidc-provider"));
    let node = std::process::Command::new("node").arg("--version").output().is_ok_and(|o| o.status.success());
    if node && dir.join("node_modules/oidc-provider").is_dir() {
        return Some(dir);
    }
    assert!(
        std::env::var("CI").map(|v| v != "true").unwrap_or(true),
        "CI=true but the OpenID provider cannot run: node, or `npm ci` in {} (scripts/test.sh does it)",
        dir.display()
    );
    eprintln!("note: node or {}/node_modules is missing; skipping the OpenID Connect test", dir.display());
    None
}

/// How the provider runs: which keys it signs with, what it publishes, its ID tokens' lifetime.
#[derive(Clone)]
struct Run {
    /// Suffix of the keys' kids: a new generation is a rotation.
    generation: u32,
    published: &'static str,
    id_token_ttl_secs: u64,
}

impl Default for Run {
    fn default() -> Run {
        Run { generation: 1, published: "honest", id_token_ttl_secs: 600 }
    }
}

/// A running provider process.
struct Provider {
    child: tokio::process::Child,
    issuer: String,
    events: Arc<Mutex<Vec<Value>>>,
}

impl Provider {
    async fn start(dir: &Path, config: &Value, work: &Path) -> Provider {
        let file = work.join(format!("provider-{}.json", uuid::Uuid::new_v4()));
        std::fs::write(&file, config.to_string()).unwrap();
        let mut child = tokio::process::Command::new("node")
            .arg(dir.join("provider.mjs"))
            .arg(&file)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("node starts");
        let events = Arc::new(Mutex::new(Vec::new()));
        let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
        let seen = events.clone();
        let (ready, started) = tokio::sync::oneshot::channel();
        tokio::spawn(async move {
            let mut ready = Some(ready);
            while let Ok(Some(line)) = lines.next_line().await {
                let event: Value = serde_json::from_str(&line).unwrap_or(json!({"raw": line}));
                if event["event"] == "ready"
                    && let Some(ready) = ready.take()
                {
                    let _ = ready.send(event["issuer"].as_str().unwrap_or_default().to_owned());
                }
                seen.lock().unwrap().push(event);
            }
        });
        let issuer = tokio::time::timeout(std::time::Duration::from_secs(30), started)
            .await
            .expect("the provider is ready within 30 s")
            .expect("the provider said where it listens");
        Provider { child, issuer, events }
    }

    fn events(&self, name: &str) -> Vec<Value> {
        self.events.lock().unwrap().iter().filter(|e| e["event"] == name).cloned().collect()
    }

    async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

/// A production node whose banks 13807 and 17515 authenticate at the provider, the provider, and
/// a registered TPP.
struct World {
    _sandbox: TestApp,
    node: TestApp,
    tpp: TestTpp,
    dir: PathBuf,
    work: tempfile::TempDir,
    port: u16,
    provider: Option<Provider>,
    /// The sandbox CA's certificate (PEM): the roots of the node's and the provider's.
    ca: String,
    /// Bank 13807's public key, registered at the provider for `private_key_jwt`.
    client_jwk: Value,
}

/// A port nobody listens on now (the provider's, known before it starts: the issuer names it).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A P-256 key as PKCS#8 PEM, and its public JWK.
fn client_key(kid: &str) -> (String, Value) {
    use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
    use base64::Engine;
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let doc = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, doc.as_ref()).unwrap();
    let point = key.public_key().as_ref().to_vec();
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let pem = format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        base64::engine::general_purpose::STANDARD.encode(doc.as_ref())
    );
    let jwk = json!({"kty": "EC", "crv": "P-256", "kid": kid, "use": "sig",
        "x": b64.encode(&point[1..33]), "y": b64.encode(&point[33..])});
    (pem, jwk)
}

/// Bank 13807's `[oidc]`: the operator guide's block, its issuer and files replaced.
fn guide_configuration(issuer: &str, key_file: &Path, ca: &Path) -> OidcConfig {
    let guide = include_str!("../../../../docs/operator-guide.md");
    let section = guide.split("## Connecting your identity provider (OpenID Connect)").nth(1).expect("the section");
    let toml = section.split("```toml").nth(1).and_then(|b| b.split("```").next()).expect("its configuration");
    let toml = toml
        .replace("https://idp.bank.example", issuer)
        .replace("/etc/stetgate/idp-client.key", &key_file.display().to_string())
        .replace("/etc/stetgate/idp-ca.pem", &ca.display().to_string());
    #[derive(serde::Deserialize)]
    struct Documented {
        oidc: BTreeMap<String, OidcConfig>,
    }
    let documented: Documented =
        figment::Figment::from(<figment::providers::Toml as figment::providers::Format>::string(&toml))
            .extract()
            .expect("the guide's TOML");
    documented.oidc["13807"].clone()
}

impl World {
    /// `clock`: the node's clock relative to the real time (the provider's).
    async fn new(db: TestDb, clock: SignedDuration) -> Option<World> {
        let dir = provider_dir()?;
        let now = Timestamp::now().checked_add(clock).unwrap();
        let sandbox = spawn_app_with(db, AppOptions { now: Some(now), ..AppOptions::default() }).await;
        let work = tempfile::tempdir().unwrap();
        let port = free_port();
        let issuer = format!("https://localhost:{port}");
        let ca_file = sandbox.data_dir.path().join("pki/ca.pem");
        let (pem, jwk) = client_key("stetgate-2026");
        let key_file = work.path().join("idp-client.key");
        std::fs::write(&key_file, pem).unwrap();
        let secret_file = work.path().join("client-secret");
        std::fs::write(&secret_file, format!("{SECRET}\n")).unwrap();
        let bp = guide_configuration(&issuer, &key_file, &ca_file);
        assert_eq!(bp.client_auth, OidcClientAuth::PrivateKeyJwt, "the guide shows private_key_jwt");
        let ce = OidcConfig {
            client_id: "stetgate-17515".into(),
            sca_acr_values: vec![SCA.into()],
            scopes: vec!["openid".into(), "psu".into()],
            authorization_details_type: Some("payment_initiation".into()),
            ca: Some(ca_file.clone()),
            ..OidcConfig::example(&issuer, secret_file)
        };
        let oidc =
            [("13807", bp), ("17515", ce)].into_iter().map(|(b, c)| (stet::BankCode::parse(b).unwrap(), c)).collect();
        let options = AppOptions {
            default_bank: "13807",
            production_banks: vec!["13807", "17515"],
            oidc,
            now: Some(now),
            ..AppOptions::default()
        };
        let node = spawn_node_with(&sandbox, options).await;
        // Certificates valid around the real time, whatever day the tests run.
        let offset = now.as_second() - crate::harness::test_now();
        let spec = CertSpec {
            roles: vec![Role::AccountInformation, Role::PaymentInitiation],
            valid_from: offset - 86_400,
            valid_until: offset + 400 * 86_400,
            psd2_statement: true,
        };
        let tpp = node.tpp(ORG, spec);
        node.register(&tpp).await;
        let server = sandbox.sandbox_ca().issue_server("idp", &["localhost".to_owned()], 30).unwrap();
        std::fs::write(work.path().join("idp.pem"), &server.cert_pem).unwrap();
        std::fs::write(work.path().join("idp.key"), &server.key_pem).unwrap();
        let ca = std::fs::read_to_string(&ca_file).unwrap();
        let mut world = World { _sandbox: sandbox, node, tpp, dir, work, port, provider: None, ca, client_jwk: jwk };
        world.start(Run::default()).await;
        Some(world)
    }

    /// The provider's configuration: stetgate's two clients, its keys, its sign-in levels.
    fn provider_config(&self, run: &Run) -> Value {
        let node = self.node.addr.port();
        let callback = |host: &str| format!("https://{host}:{node}/psu/oidc/callback");
        let g = run.generation;
        json!({
            "port": self.port,
            "host": "localhost",
            "tls": {"cert": self.work.path().join("idp.pem"), "key": self.work.path().join("idp.key")},
            "acr": {"sca": SCA, "password": PASSWORD_ONLY},
            "claim": "online_banking_id",
            "authorization_details_type": "payment_initiation",
            "id_token_ttl_secs": run.id_token_ttl_secs,
            "keys": [{"kid": format!("rsa-{g}"), "kty": "RSA"}, {"kid": format!("ec-{g}"), "kty": "EC"}],
            "published": run.published,
            "clients": [
                {
                    "client_id": "stetgate",
                    "token_endpoint_auth_method": "private_key_jwt",
                    "jwks": {"keys": [self.client_jwk]},
                    "redirect_uris": [callback(BP)],
                    "id_token_signed_response_alg": "ES256",
                    "authorization_details_types": ["payment_initiation"],
                },
                {
                    "client_id": "stetgate-17515",
                    "client_secret": SECRET,
                    "token_endpoint_auth_method": "client_secret_basic",
                    "redirect_uris": [callback(CE)],
                    "authorization_details_types": ["payment_initiation"],
                },
            ],
        })
    }

    /// (Re)starts the provider on its port, as `run` says.
    async fn start(&mut self, run: Run) {
        if let Some(old) = self.provider.take() {
            old.stop().await;
        }
        let provider = Provider::start(&self.dir, &self.provider_config(&run), self.work.path()).await;
        assert_eq!(provider.issuer, format!("https://localhost:{}", self.port));
        self.provider = Some(provider);
    }

    fn provider(&self) -> &Provider {
        self.provider.as_ref().unwrap()
    }

    /// The PSU's browser on `host`.
    fn browser(&self, host: &str) -> Browser {
        let root = reqwest::Certificate::from_pem(self.ca.as_bytes()).unwrap();
        let http = reqwest::Client::builder()
            .tls_certs_only([root])
            .resolve(host, self.node.addr)
            .resolve("localhost", std::net::SocketAddr::from(([127, 0, 0, 1], self.port)))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Browser { http, base: format!("https://{host}:{}", self.node.addr.port()), jar: Mutex::new(Vec::new()) }
    }

    fn client(&self, host: &str) -> stet_tpp::TppClient {
        self.node.tpp_client(host, &self.tpp)
    }
}

/// A cookie: (host, path, name, value).
type Cookie = (String, String, String, String);

/// The PSU's browser: cookies per host and path, redirects followed by the test.
struct Browser {
    http: reqwest::Client,
    base: String,
    jar: Mutex<Vec<Cookie>>,
}

/// Where a walk through redirects stopped.
struct Stop {
    status: StatusCode,
    /// The last URL asked.
    url: String,
    /// Its `Location`, when it redirected outside the bank and the provider (the TPP).
    location: Option<String>,
    body: String,
}

impl Browser {
    fn absolute(&self, url: &str, from: &str) -> String {
        url::Url::parse(from).unwrap().join(url).unwrap().to_string()
    }

    async fn send(&self, method: Method, url: &str, form: Option<&[(String, String)]>) -> reqwest::Response {
        let parsed = url::Url::parse(url).unwrap();
        let (host, path) = (parsed.host_str().unwrap().to_owned(), parsed.path().to_owned());
        let cookies: Vec<String> = self
            .jar
            .lock()
            .unwrap()
            .iter()
            .filter(|(h, p, _, _)| *h == host && path.starts_with(p.as_str()))
            .map(|(_, _, n, v)| format!("{n}={v}"))
            .collect();
        let mut request = self.http.request(method, url).header("accept-language", "en");
        if !cookies.is_empty() {
            request = request.header("cookie", cookies.join("; "));
        }
        if let Some(form) = form {
            request = request.form(form);
        }
        let response = request.send().await.unwrap();
        for value in response.headers().get_all("set-cookie") {
            let text = value.to_str().unwrap();
            let mut parts = text.split(';').map(str::trim);
            let (name, value) = parts.next().unwrap().split_once('=').unwrap();
            let mut cookie_path = "/".to_owned();
            let mut gone = false;
            for attribute in parts {
                let lower = attribute.to_ascii_lowercase();
                if let Some(p) = lower.strip_prefix("path=") {
                    cookie_path = attribute[5..5 + p.len()].to_owned();
                }
                gone |= lower == "max-age=0";
            }
            let mut jar = self.jar.lock().unwrap();
            jar.retain(|(h, p, n, _)| !(*h == host && *p == cookie_path && n == name));
            if !gone {
                jar.push((host.clone(), cookie_path, name.to_owned(), value.to_owned()));
            }
        }
        response
    }

    /// Asks `url` and follows redirects on the bank and the provider, until a page or a redirect
    /// elsewhere (the TPP, the PISP), or until `stop_before` says so of the next URL.
    async fn walk(
        &self,
        method: Method,
        url: &str,
        form: Option<&[(String, String)]>,
        stop_before: &dyn Fn(&str) -> bool,
    ) -> Stop {
        let mut url = if url.starts_with("https://") { url.to_owned() } else { format!("{}{url}", self.base) };
        let mut response = self.send(method, &url, form).await;
        loop {
            let status = response.status();
            let location = response.headers().get("location").map(|l| self.absolute(l.to_str().unwrap(), &url));
            match location {
                Some(next) if status.is_redirection() => {
                    let ours = next.starts_with(&self.base) || next.starts_with("https://localhost:");
                    if !ours || stop_before(&next) {
                        return Stop { status, url, location: Some(next), body: String::new() };
                    }
                    url = next;
                    response = self.send(Method::GET, &url, None).await;
                }
                _ => {
                    let body = response.text().await.unwrap();
                    return Stop { status, url, location: None, body };
                }
            }
        }
    }

    async fn get(&self, url: &str) -> Stop {
        self.walk(Method::GET, url, None, &|_| false).await
    }

    /// Signs in on the provider's page `at` (`otp` for a strong authentication), up to the callback
    /// (not asked); the callback's URL.
    async fn sign_in_until_callback(&self, at: &Stop, login: &str, otp: Option<&str>) -> String {
        let form =
            stet_tpp::pages::first_form(&at.body).unwrap_or_else(|| panic!("the provider's sign-in form: {}", at.body));
        let action = self.absolute(&form.action, &at.url);
        let fields = [("login", login), ("password", "secret"), ("otp", otp.unwrap_or(""))]
            .map(|(k, v)| (k.to_owned(), v.to_owned()));
        let stop = self.walk(Method::POST, &action, Some(&fields), &|next| next.contains("/psu/oidc/callback")).await;
        stop.location.unwrap_or_else(|| panic!("no way back to the bank ({}): {}", stop.status, stop.body))
    }

    /// Signs in on the provider's page `at` and follows the way back.
    async fn sign_in(&self, at: &Stop, login: &str, otp: Option<&str>) -> Stop {
        let callback = self.sign_in_until_callback(at, login, otp).await;
        self.get(&callback).await
    }
}

/// The authorization request of the TPP, as a URL on `host`'s pages.
fn authorize_path(scope: &str, state: &str) -> String {
    stet_tpp::AuthorizationRequest {
        client_id: ORG.into(),
        redirect_uri: CALLBACK.into(),
        scope: scope.into(),
        state: Some(state.into()),
        code_challenge: None,
    }
    .path()
}

/// A query parameter of `url`.
fn param(url: &str, name: &str) -> Option<String> {
    url::Url::parse(url).unwrap().query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

db_tests!(an_ais_authorization_goes_through_the_banks_identity_provider);

/// Marc authorizes an AISP at bank 13807 (the guide's configuration: `private_key_jwt`, ES256):
/// the provider signs him in, the TPP gets a code, a token, and his accounts; the SCA time is the
/// provider's `auth_time`; the same answer brought back again is refused.
async fn an_ais_authorization_goes_through_the_banks_identity_provider(db: TestDb) {
    // The node's clock a little behind the provider's: the SCA time must be the provider's.
    let Some(world) = World::new(db, SignedDuration::from_secs(-10)).await else { return };
    let browser = world.browser(BP);
    let sent = browser.walk(Method::GET, &authorize_path("aisp", "s-1"), None, &|n| n.contains("localhost:")).await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "to the provider, not stetgate's pages: {}", sent.body);
    let request = sent.location.clone().unwrap();
    assert!(request.starts_with(&format!("{}/auth?", world.provider().issuer)), "{request}");
    for (name, value) in [
        ("client_id", "stetgate"),
        ("response_type", "code"),
        ("code_challenge_method", "S256"),
        ("prompt", "login"),
        ("max_age", "0"),
        ("acr_values", SCA),
        ("scope", "openid psu"),
    ] {
        assert_eq!(param(&request, name).as_deref(), Some(value), "{name} in {request}");
    }
    assert!(param(&request, "nonce").is_some_and(|n| n.len() == 64) && param(&request, "code_challenge").is_some());
    assert!(param(&request, "authorization_details").is_none(), "no payment, no details");
    let page = browser.get(&request).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let before = Timestamp::now().as_second();
    let callback = browser.sign_in_until_callback(&page, MARC, Some("123456")).await;
    let kept: Vec<_> = browser.jar.lock().unwrap().clone();
    let back = browser.get(&callback).await;
    let after = Timestamp::now().as_second();
    let oidc_cookie = |jar: &[Cookie]| jar.iter().any(|(_, _, n, _)| n.starts_with("stetgate_oidc_"));
    assert!(oidc_cookie(&kept), "the journey's cookie for the callback was set");
    assert!(!oidc_cookie(&browser.jar.lock().unwrap()), "and is removed once the answer is in");
    let location = back.location.unwrap_or_else(|| panic!("back to the TPP ({}): {}", back.status, back.body));
    assert!(location.starts_with(CALLBACK), "{location}");
    assert_eq!(param(&location, "state").as_deref(), Some("s-1"));
    let code = param(&location, "code").expect("a code");
    let client = world.client(BP);
    let tokens = client.exchange_code(ORG, &code, CALLBACK).await.unwrap();
    assert_eq!(tokens.status(), StatusCode::OK);
    let tokens: stet_tpp::Tokens = tokens.json().await.unwrap();
    let accounts = client
        .signed(Method::GET, "/stet/psd2/v1.4.2/accounts")
        .bearer(&tokens.access_token)
        .header("psu-ip-address", "192.0.2.10")
        .send()
        .await
        .unwrap();
    assert_eq!(accounts.status(), StatusCode::OK);
    assert!(accounts.text().await.unwrap().contains(MARC_1), "Marc's accounts");

    // The 180-day rule counts from the provider's auth_time, not from the node's clock.
    let marc = stetgate::ledger::PsuId::parse(MARC).unwrap();
    let bank = stet::BankCode::parse("13807").unwrap();
    let pairs = world.node.store.live_pairs(bank, &marc, world.node.clock.now()).await.unwrap();
    let sca_at = pairs[0].pair.sca_at.as_second();
    assert!((before..=after).contains(&sca_at), "auth_time {sca_at} within the sign-in [{before}, {after}]");
    assert!(sca_at > world.node.clock.now().as_second(), "not the node's clock");

    // The same answer again, by someone who kept the cookie (a replay of the callback): refused,
    // no second code.
    *browser.jar.lock().unwrap() = kept;
    let replay = browser.get(&callback).await;
    assert_eq!(replay.status, StatusCode::BAD_REQUEST, "{}", replay.body);
    assert!(replay.body.contains("already complete") && replay.location.is_none(), "{}", replay.body);
    world.provider.unwrap().stop().await;
}

/// The fallback's online banking of bank 17515 (`client_secret_basic`, RS256): the sign-in at the
/// provider opens the accounts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fallbacks_online_banking_signs_in_at_the_identity_provider() {
    let Some(world) = World::new(TestDb::sqlite(), SignedDuration::ZERO).await else { return };
    let fallback = world
        .client(CE)
        .request(Method::POST, "/stet/psd2/oauth/token")
        .header("fallback", "1")
        .header("PSU-IP-Address", "192.0.2.10")
        .form(&[("client_id", ORG), ("grant_type", "client_credentials"), ("scope", "aisp")])
        .send()
        .await
        .unwrap();
    assert_eq!(fallback.status(), StatusCode::FOUND);
    let login = fallback.headers()["location"].to_str().unwrap().to_owned();
    let login = url::Url::parse(&login).unwrap();
    let browser = world.browser(CE);
    let page = browser.get(&format!("{}?{}", login.path(), login.query().unwrap())).await;
    assert_eq!(page.status, StatusCode::OK, "the provider's sign-in page: {}", page.body);
    assert!(page.url.starts_with(&world.provider().issuer), "{}", page.url);
    let signed_in = browser.sign_in(&page, CE_PSU, Some("123456")).await;
    assert_eq!(signed_in.status, StatusCode::OK, "{}", signed_in.body);
    assert!(signed_in.url.ends_with("/online-banking/accounts"), "{}", signed_in.url);
    assert!(signed_in.body.contains("FR76"), "the PSU's accounts: {}", signed_in.body);
    world.provider.unwrap().stop().await;
}

/// A payment approval at bank 13807: the amount and payee reach the provider as RFC 9396
/// `authorization_details` (it shows them, and grants them back), and the PSU returns to the PISP.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payment_approval_links_the_providers_authentication_to_amount_and_payee() {
    let Some(world) = World::new(TestDb::sqlite(), SignedDuration::ZERO).await else { return };
    let client = world.client(BP);
    let token: stet_tpp::Tokens = client.pisp_token(ORG).await.unwrap().json().await.unwrap();
    let body = crate::pis::single("oidc-1", "42.50", Some(MARC_1));
    let created =
        client.signed(Method::POST, "/stet/psd2/v1.4.2/payment-requests").bearer(&token.access_token).json(&body);
    let created = created.send().await.unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let created: Value = created.json().await.unwrap();
    let approval = created["_links"]["consentApproval"]["href"].as_str().unwrap().to_owned();
    let browser = world.browser(BP);
    let page = browser.get(&approval).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("42.50 EUR to Boulangerie Paul"), "the provider shows what is approved: {}", page.body);
    let details = world.provider().events("authorization_details");
    assert_eq!(
        details[0]["details"][0],
        json!({"type": "payment_initiation", "instructedAmount": {"currency": "EUR", "amount": "42.50"}, "creditorName": "Boulangerie Paul"})
    );
    let back = browser.sign_in(&page, MARC, Some("123456")).await;
    let location = back.location.unwrap_or_else(|| panic!("back to the PISP ({}): {}", back.status, back.body));
    assert!(location.starts_with("https://pisp.example/payment/ok"), "{location}");
    assert!(param(&location, "psuAuthenticationFactor").is_some(), "{location}");
    world.provider.unwrap().stop().await;
}

/// The refusals a PSU can meet: a sign-in without the bank's strong level (`acr`), an identity the
/// ledger does not know, and an answer brought to another journey than its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weak_unknown_and_foreign_answers_are_refused() {
    let logs = logs();
    let Some(world) = World::new(TestDb::sqlite(), SignedDuration::ZERO).await else { return };
    // One browser per person (the provider keeps a session per browser).
    let to_provider = async |browser: &Browser, state: &str| browser.get(&authorize_path("aisp", state)).await;

    // The password alone: the provider says so in acr, stetgate refuses and tells the TPP.
    let browser = world.browser(BP);
    let page = to_provider(&browser, "weak").await;
    let back = browser.sign_in(&page, MARC, None).await;
    let location = back.location.unwrap_or_else(|| panic!("{}: {}", back.status, back.body));
    assert_eq!(param(&location, "error").as_deref(), Some("access_denied"), "{location}");
    assert_eq!(param(&location, "state").as_deref(), Some("weak"));
    assert!(!logs.lines_with(&["not a strong customer authentication", "acr is not one the bank accepts"]).is_empty());

    // Someone the provider knows and the ledger does not: the bank's page, no 500.
    let stranger = world.browser(BP);
    let page = to_provider(&stranger, "unknown").await;
    let back = stranger.sign_in(&page, "NOBODY0000", Some("123456")).await;
    assert_eq!(back.status, StatusCode::FORBIDDEN, "{}", back.body);
    assert!(back.body.contains("<html") && back.body.contains("matches no online-banking customer"), "{}", back.body);

    // The answer of a first journey, brought back after a second one began in this browser: its
    // state is not the second journey's.
    let first = to_provider(&browser, "first").await;
    let first_callback = browser.sign_in_until_callback(&first, MARC, Some("123456")).await;
    let _second = to_provider(&browser, "second").await;
    let foreign = browser.get(&first_callback).await;
    assert_eq!(foreign.status, StatusCode::FORBIDDEN, "{}", foreign.body);
    assert!(foreign.body.contains("does not belong to your session"), "{}", foreign.body);
    assert!(logs.lines_with(&[MARC]).is_empty(), "the PSU's id is never logged");
    world.provider.unwrap().stop().await;
}

/// A replayed nonce: the PSU's authorization request reaches the provider carrying another
/// journey's nonce (its `state` and PKCE challenge untouched), so the provider's ID token names
/// that nonce; stetgate refuses it and tells the TPP, with no code.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_id_token_for_another_journeys_nonce_is_refused() {
    let logs = logs();
    let Some(world) = World::new(TestDb::sqlite(), SignedDuration::ZERO).await else { return };
    let issuer = world.provider().issuer.clone();
    let to_provider = async |browser: &Browser, state: &str| {
        let sent = browser.walk(Method::GET, &authorize_path("aisp", state), None, &|n| n.starts_with(&issuer)).await;
        sent.location.unwrap_or_else(|| panic!("to the provider ({}): {}", sent.status, sent.body))
    };
    let other = to_provider(&world.browser(CE), "other").await;
    let browser = world.browser(CE);
    let request = to_provider(&browser, "replay").await;
    let (own, replayed) = (param(&request, "nonce").unwrap(), param(&other, "nonce").unwrap());
    assert_ne!(own, replayed, "each journey has its own nonce");
    let tampered = request.replace(&format!("nonce={own}"), &format!("nonce={replayed}"));
    assert_eq!(param(&tampered, "nonce").as_deref(), Some(replayed.as_str()));
    let page = browser.get(&tampered).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let back = browser.sign_in(&page, CE_PSU, Some("123456")).await;
    let location = back.location.unwrap_or_else(|| panic!("{}: {}", back.status, back.body));
    assert!(location.starts_with(CALLBACK), "{location}");
    assert_eq!(param(&location, "error").as_deref(), Some("access_denied"), "{location}");
    assert_eq!(param(&location, "state").as_deref(), Some("replay"));
    assert!(param(&location, "code").is_none(), "no code for a token of another journey: {location}");
    assert!(!logs.lines_with(&["not a strong customer authentication", "nonce is not this journey"]).is_empty());
    world.provider.unwrap().stop().await;
}

/// An ID token that expired before stetgate read it (the node's clock moved past its `exp`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_id_token_is_refused() {
    let logs = logs();
    let Some(mut world) = World::new(TestDb::sqlite(), SignedDuration::ZERO).await else { return };
    world.start(Run { id_token_ttl_secs: 60, ..Run::default() }).await;
    let browser = world.browser(CE);
    let page = browser.get(&authorize_path("aisp", "late")).await;
    let callback = browser.sign_in_until_callback(&page, CE_PSU, Some("123456")).await;
    world.node.clock.advance(SignedDuration::from_mins(3));
    let back = browser.get(&callback).await;
    let location = back.location.unwrap_or_else(|| panic!("{}: {}", back.status, back.body));
    assert_eq!(param(&location, "error").as_deref(), Some("access_denied"), "{location}");
    assert!(!logs.lines_with(&["not a strong customer authentication", "the ID token expired"]).is_empty());
    world.provider.unwrap().stop().await;
}

/// Signing keys: a rotation (new kids) makes stetgate fetch the key set again and the sign-in
/// works; a token signed by a key the set no longer publishes, or whose published key under its kid
/// is another, is refused; an unknown key fetches the set at most once a minute.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotated_keys_are_fetched_again_and_unpublished_or_forged_keys_refused() {
    let logs = logs();
    let Some(mut world) = World::new(TestDb::sqlite(), SignedDuration::ZERO).await else { return };
    let attempt = async |world: &World, state: &str| {
        let browser = world.browser(CE);
        let page = browser.get(&authorize_path("aisp", state)).await;
        let back = browser.sign_in(&page, CE_PSU, Some("123456")).await;
        back.location.unwrap_or_else(|| panic!("{}: {}", back.status, back.body))
    };
    let first = attempt(&world, "k1").await;
    assert!(param(&first, "code").is_some(), "{first}");
    assert_eq!(world.provider().events("jwks").len(), 1, "fetched once");

    world.start(Run { generation: 2, ..Run::default() }).await;
    let rotated = attempt(&world, "k2").await;
    assert!(param(&rotated, "code").is_some(), "the new key is fetched and accepted: {rotated}");
    assert_eq!(world.provider().events("jwks").len(), 1, "the rotated set fetched again");

    // Signed by a key the set does not publish: not fetched again within the minute, refused.
    world.start(Run { generation: 3, published: "retired", ..Run::default() }).await;
    let retired = attempt(&world, "k3").await;
    assert_eq!(param(&retired, "error").as_deref(), Some("access_denied"), "{retired}");
    assert_eq!(world.provider().events("jwks").len(), 0, "at most one forced fetch a minute");
    assert!(!logs.lines_with(&["signing key is not in the provider's key set"]).is_empty());

    // Another key published under the token's kid: the signature does not verify.
    world.start(Run { generation: 4, published: "forged", ..Run::default() }).await;
    world.node.clock.advance(SignedDuration::from_secs(61));
    let forged = attempt(&world, "k4").await;
    assert_eq!(param(&forged, "error").as_deref(), Some("access_denied"), "{forged}");
    assert_eq!(world.provider().events("jwks").len(), 1, "fetched again after the minute");
    assert!(!logs.lines_with(&["signature does not verify"]).is_empty());
    world.provider.unwrap().stop().await;
}

/// Start-up refuses the guide's configuration with a piece missing, and a bank with both an
/// identity provider and an SMS gateway.
#[test]
fn an_incomplete_identity_provider_is_refused_at_start_up() {
    let dir = tempfile::tempdir().unwrap();
    let file = |name: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, "x").unwrap();
        path.display().to_string()
    };
    let guide = include_str!("../../../../docs/operator-guide.md");
    let section = guide.split("## Connecting your identity provider (OpenID Connect)").nth(1).unwrap();
    let block = section.split("```toml").nth(1).and_then(|b| b.split("```").next()).unwrap();
    let block = block
        .replace("/etc/stetgate/idp-client.key", &file("idp-client.key"))
        .replace("/etc/stetgate/idp-ca.pem", &file("idp-ca.pem"));
    let load = |toml: String| crate::harness::load_production_config(dir.path(), &toml);
    assert!(load(block.clone()).is_ok(), "{:?}", load(block.clone()).err());
    for (line, key) in [
        ("psu_id_claim = \"online_banking_id\"", "psu_id_claim"),
        ("sca_acr_values = [\"urn:bank:loa:sca\"]", "sca_acr_values"),
        ("private_key_file = ", "private_key_file"),
    ] {
        let without: String = block.lines().filter(|l| !l.starts_with(line)).collect::<Vec<_>>().join("\n");
        let error = load(without).unwrap_err().to_string();
        assert!(error.contains(key), "{key}: {error}");
    }
    let plain = block.replace("https://idp.bank.example", "http://idp.bank.example");
    assert!(load(plain).unwrap_err().to_string().contains("issuer"));
    let both = format!(
        "{block}\n[otp_gateway.\"13807\"]\nurl = \"https://sms.bank.example/v1/messages\"\nhmac_key_file = \"{}\"\n",
        file("hmac.key")
    );
    assert!(load(both).unwrap_err().to_string().contains("also has an [otp_gateway]"));
}
