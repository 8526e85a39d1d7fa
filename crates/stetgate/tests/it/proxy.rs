//! Behind the bank's API gateway (`[trusted_proxy]`): the TPP's certificate forwarded in the RFC 9440
//! `Client-Cert` header is the TPP's only on connections from the gateway's addresses; from anyone
//! else the header is refused and logged, and a certificate presented in the handshake is unchanged.
//! With `proxy_protocol`, the gateway's PROXY v2 header names the client, whose address the
//! per-address limits then count. The configuration is docs/operator-guide.md's "Behind a gateway".

use crate::harness::{AppOptions, CALLBACK, CertSpec, TestDb, logs, spawn_app_with};
use base64::Engine;
use reqwest::{Method, StatusCode};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use stetgate::config::{ForwardedFormat, TrustedProxyConfig};

const CE: &str = "www.17515.sandbox.localhost";
const ORG: &str = "PSDFR-ACPR-12345";

/// `[trusted_proxy]` as docs/operator-guide.md's "Behind a gateway" shows it, the gateway's
/// `addresses` replaced.
fn behind(addresses: &[&str]) -> AppOptions {
    let guide = include_str!("../../../../docs/operator-guide.md");
    let section = guide.split("## Behind a gateway").nth(1).expect("the section");
    let toml = section.split("```toml").nth(1).and_then(|b| b.split("```").next()).expect("its configuration");
    let listed: Vec<String> = addresses.iter().map(|a| format!("{a:?}")).collect();
    let toml = toml.replace("\"10.20.0.0/16\"", &listed.join(", "));
    #[derive(serde::Deserialize)]
    struct Documented {
        trusted_proxy: TrustedProxyConfig,
    }
    let documented: Documented =
        figment::Figment::from(<figment::providers::Toml as figment::providers::Format>::string(&toml))
            .extract()
            .expect("the guide's TOML");
    let proxy = documented.trusted_proxy;
    assert_eq!(proxy.addresses, addresses, "the guide's addresses replaced: {toml}");
    // What these tests send: the RFC 9440 header and its chain header, no PROXY header.
    assert_eq!((proxy.header.as_str(), proxy.format), ("client-cert", ForwardedFormat::Rfc9440));
    assert_eq!(proxy.chain_header.as_deref(), Some("client-cert-chain"));
    assert!(!proxy.proxy_protocol);
    AppOptions { trusted_proxy: Some(proxy), ..AppOptions::default() }
}

/// The RFC 9440 header value of a PEM certificate.
fn client_cert(pem: &str) -> String {
    let der = CertificateDer::from_pem_slice(pem.as_bytes()).unwrap();
    format!(":{}:", base64::engine::general_purpose::STANDARD.encode(der.as_ref()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateways_header_is_the_tpps_certificate() {
    // The test client connects from 127.0.0.1: here, the gateway's address.
    let app = spawn_app_with(TestDb::sqlite(), behind(&["127.0.0.1/32", "::1/128"])).await;
    let tpp = app.tpp(ORG, CertSpec::default());
    let gateway = app.tpp_client_with(CE, None, None);
    let header = client_cert(&tpp.qwac.cert_pem);
    let registered = gateway
        .request(Method::POST, "/stet/psd2/oauth/register")
        .header("client-cert", &header)
        .json(&tpp.registration(CALLBACK))
        .send()
        .await
        .unwrap();
    assert_eq!(registered.status(), StatusCode::CREATED, "{}", registered.text().await.unwrap());
    let read = |header: Option<&str>, client: &stet_tpp::TppClient| {
        let mut request = client.request(Method::GET, &format!("/stet/psd2/oauth/register/{ORG}"));
        if let Some(header) = header {
            request = request.header("client-cert", header);
        }
        async move { request.send().await.unwrap().status() }
    };
    assert_eq!(read(Some(&header), &gateway).await, StatusCode::OK, "the forwarded QWAC identifies the TPP");
    // From the gateway, no header means no certificate: the connection's own certificate is the
    // gateway's, never the TPP's.
    let with_own_certificate = app.tpp_client(CE, &tpp);
    assert_eq!(read(None, &with_own_certificate).await, StatusCode::UNAUTHORIZED);
    let other = app.tpp("PSDFR-ACPR-99999", CertSpec::default());
    let status = read(Some(&client_cert(&other.qwac.cert_pem)), &gateway).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "another TPP's QWAC reads no one else's registration");
    assert_eq!(read(Some(":garbage:"), &gateway).await, StatusCode::BAD_REQUEST, "an unreadable header");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_header_from_anyone_else_is_refused_and_logged() {
    let logs = logs();
    let app = spawn_app_with(TestDb::sqlite(), behind(&["10.0.0.0/8"])).await;
    let tpp = app.tpp(ORG, CertSpec::default());
    app.register(&tpp).await;
    let client = app.tpp_client(CE, &tpp);
    let path = format!("/stet/psd2/oauth/register/{ORG}");
    let ok = client.request(Method::GET, &path).send().await.unwrap();
    assert_eq!(ok.status(), StatusCode::OK, "mutual TLS as usual");
    let forged =
        client.request(Method::GET, &path).header("client-cert", client_cert(&tpp.qwac.cert_pem)).send().await.unwrap();
    assert_eq!(forged.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = forged.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("only accepted from the bank's gateway"), "{body}");
    assert!(!logs.lines_with(&["a forwarded client certificate from outside the gateway"]).is_empty());
}

/// One request through "the gateway": a TCP connection that starts with a PROXY v2 header naming
/// `client` (none when `None`), then TLS; the answer's status (`None`: the server closed).
async fn through_gateway(
    app: &crate::harness::TestApp,
    client: Option<std::net::SocketAddr>,
    path: &str,
) -> Option<u16> {
    send_through_gateway(app, client, "GET", path, &[], "").await
}

/// As [`through_gateway`], any request.
async fn send_through_gateway(
    app: &crate::harness::TestApp,
    client: Option<std::net::SocketAddr>,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Option<u16> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tcp = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    if let Some(client) = client {
        tcp.write_all(&stetgate::edge::proxy_protocol::header_for(client, app.addr)).await.unwrap();
    }
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&app.ca_pem) {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config));
    let name = rustls::pki_types::ServerName::try_from(CE).unwrap();
    let mut tls = connector.connect(name, tcp).await.ok()?;
    let extra: String = headers.iter().map(|(k, v)| format!("{k}: {v}\r\n")).collect();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {CE}\r\nConnection: close\r\n{extra}Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    tls.write_all(request.as_bytes()).await.ok()?;
    let mut answer = Vec::new();
    let _ = tls.read_to_end(&mut answer).await;
    let text = String::from_utf8_lossy(&answer);
    text.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proxy_protocol_header_names_the_client_the_limits_count() {
    let mut options = behind(&["127.0.0.1/32", "::1/128"]);
    if let Some(proxy) = options.trusted_proxy.as_mut() {
        proxy.proxy_protocol = true;
    }
    options.connections.pages_per_address_per_minute = 2;
    let app = spawn_app_with(TestDb::sqlite(), options).await;
    let page = "/stet/psd2/oauth/authorize?response_type=code";
    let alice = Some("203.0.113.7:50000".parse().unwrap());
    let bob = Some("198.51.100.9:50001".parse().unwrap());
    let first = through_gateway(&app, alice, page).await.unwrap();
    assert_ne!(first, 429);
    assert_ne!(through_gateway(&app, alice, page).await.unwrap(), 429);
    assert_eq!(through_gateway(&app, alice, page).await, Some(429), "the third page of one client in a minute");
    assert_eq!(through_gateway(&app, bob, page).await, Some(first), "another client behind the same gateway");
    assert_eq!(through_gateway(&app, None, page).await, None, "from the gateway, the header is required");

    // The client named in the PROXY header is not a gateway, but the connection still came
    // through one: the gateway's Client-Cert header is the TPP's certificate.
    let tpp = app.tpp(ORG, CertSpec::default());
    let cert = client_cert(&tpp.qwac.cert_pem);
    let registration = tpp.registration(CALLBACK).to_string();
    let json = [("client-cert", cert.as_str()), ("content-type", "application/json")];
    let status = send_through_gateway(&app, bob, "POST", "/stet/psd2/oauth/register", &json, &registration).await;
    assert_eq!(status, Some(201));
    let read = format!("/stet/psd2/oauth/register/{ORG}");
    let one = [("client-cert", cert.as_str())];
    assert_eq!(send_through_gateway(&app, bob, "GET", &read, &one, "").await, Some(200));
    // A client's own Client-Cert left beside the gateway's: refused.
    let other = client_cert(&app.tpp("PSDFR-ACPR-99999", CertSpec::default()).qwac.cert_pem);
    let two = [("client-cert", other.as_str()), ("client-cert", cert.as_str())];
    assert_eq!(send_through_gateway(&app, bob, "GET", &read, &two, "").await, Some(400));
}
