//! What a client may hold of the listener (docs/security.md#limits), over raw TLS sockets as an
//! attacker would use them: a connection that sends nothing, headers dribbled a line at a time, an
//! idle keep-alive connection, the connection caps, invented methods, and a shutdown that does not
//! wait for half-open clients.

use crate::harness::{AppOptions, TestApp, TestDb, spawn_app_with};
use rustls::pki_types::ServerName;
use std::sync::Arc;
use std::time::{Duration, Instant};
use stetgate::config::ConnectionLimits;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

/// Longest any of these tests waits for the server to act; the configured timeouts are 1-2 s, so
/// reaching it means the bound does not hold.
const PATIENCE: Duration = Duration::from_secs(15);

fn short_timeouts() -> ConnectionLimits {
    ConnectionLimits { header_read_timeout_secs: 1, idle_timeout_secs: 2, ..ConnectionLimits::default() }
}

async fn app_with(connections: ConnectionLimits) -> TestApp {
    spawn_app_with(TestDb::sqlite(), AppOptions { connections, ..AppOptions::default() }).await
}

/// A TLS connection to the server, offering `alpn` (none when empty).
async fn connect(app: &TestApp, alpn: &[u8]) -> TlsStream<tokio::net::TcpStream> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_pki_types::CertificateDer::pem_slice_iter(&app.ca_pem) {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    if !alpn.is_empty() {
        config.alpn_protocols = vec![alpn.to_vec()];
    }
    let tcp = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    TlsConnector::from(Arc::new(config))
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .expect("TLS handshake")
}

use rustls_pki_types::pem::PemObject;

/// Reads until the server closes the connection; what it sent, or `None` if it stayed open.
async fn read_until_closed(stream: &mut TlsStream<tokio::net::TcpStream>) -> Option<Vec<u8>> {
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    let outcome = tokio::time::timeout(PATIENCE, async {
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(n) => received.extend_from_slice(&buffer[..n]),
            }
        }
    })
    .await;
    outcome.ok().map(|()| received)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_that_sends_nothing_is_closed() {
    let app = app_with(short_timeouts()).await;
    // No ALPN at all: the version is sniffed, under the same deadline.
    for alpn in [&b"http/1.1"[..], b"h2", b""] {
        let mut stream = connect(&app, alpn).await;
        let started = Instant::now();
        assert!(
            read_until_closed(&mut stream).await.is_some(),
            "a silent connection ({}) must be closed",
            String::from_utf8_lossy(alpn)
        );
        assert!(started.elapsed() >= Duration::from_millis(900), "not before the header timeout");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headers_dribbled_a_line_at_a_time_are_cut_off() {
    let app = app_with(short_timeouts()).await;
    let mut stream = connect(&app, b"http/1.1").await;
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n").await.unwrap();
    let started = Instant::now();
    let mut closed = false;
    while started.elapsed() < PATIENCE {
        tokio::time::sleep(Duration::from_millis(300)).await;
        if stream.write_all(b"X-Slow: 1\r\n").await.is_err() || stream.flush().await.is_err() {
            closed = true;
            break;
        }
        // Whatever the server does (close, or an answer before closing), it acted.
        let mut byte = [0u8; 1];
        if tokio::time::timeout(Duration::from_millis(10), stream.read(&mut byte)).await.is_ok() {
            closed = true;
            break;
        }
    }
    assert!(closed, "a client sending one header line every 300 ms is still connected after {PATIENCE:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_keep_alive_connection_is_closed() {
    let app = app_with(short_timeouts()).await;
    let mut stream = connect(&app, b"http/1.1").await;
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n").await.unwrap();
    let received = read_until_closed(&mut stream).await.expect("the idle connection is closed");
    let text = String::from_utf8_lossy(&received);
    assert!(text.starts_with("HTTP/1.1 200"), "the request was answered first: {text}");
    assert_eq!(text.matches("HTTP/1.1").count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_over_a_cap_are_answered_503_and_closed() {
    for (max, max_per_address) in [(64, 2), (2, 64)] {
        let limits = ConnectionLimits { max, max_per_address, ..ConnectionLimits::default() };
        let app = app_with(limits).await;
        let _first = connect(&app, b"http/1.1").await;
        let _second = connect(&app, b"http/1.1").await;
        // The census counts a connection from its accept; let the server see both.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let mut third = connect(&app, b"http/1.1").await;
        third.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Request-ID: over\r\n\r\n").await.unwrap();
        let received = read_until_closed(&mut third).await.expect("the refused connection is closed");
        let text = String::from_utf8_lossy(&received).to_lowercase();
        assert!(text.starts_with("http/1.1 503"), "cap {max}/{max_per_address}: {text}");
        assert!(text.contains("retry-after: 5") && text.contains("x-request-id: over"), "{text}");
        assert!(text.contains("\"status\":503") && text.contains("too many connections"), "ErrorModel: {text}");
        drop(_first);
        tokio::time::sleep(Duration::from_millis(200)).await;
        let mut again = connect(&app, b"http/1.1").await;
        again.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").await.unwrap();
        let text = String::from_utf8_lossy(&read_until_closed(&mut again).await.unwrap()).into_owned();
        assert!(text.starts_with("HTTP/1.1 200"), "a place freed is usable again: {text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_does_not_wait_for_a_half_open_client() {
    let limits = ConnectionLimits { header_read_timeout_secs: 30, ..ConnectionLimits::default() };
    let mut app = spawn_app_with(
        TestDb::sqlite(),
        AppOptions { connections: limits, shutdown_grace_secs: 30, ..AppOptions::default() },
    )
    .await;
    let mut half_open = connect(&app, b"http/1.1").await;
    half_open.write_all(b"GET /healthz HTTP/1.1\r\nHost: local").await.unwrap();
    let mut silent_h2 = connect(&app, b"h2").await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    app.stop().await;
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "shutdown waited {:?} for clients with no request in flight (grace 30 s)",
        started.elapsed()
    );
    assert!(read_until_closed(&mut half_open).await.is_some());
    assert!(read_until_closed(&mut silent_h2).await.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invented_methods_are_refused_and_never_become_labels() {
    let app = app_with(ConnectionLimits::default()).await;
    let client = app.client("www.17515.sandbox.localhost");
    for i in 0..200 {
        let method = reqwest::Method::from_bytes(format!("INVENTED{i}").as_bytes()).unwrap();
        let response = client.request(method, "/stet/psd2/v1.4.2/accounts").send().await.unwrap();
        assert_eq!(response.status(), reqwest::StatusCode::METHOD_NOT_ALLOWED, "as STET documents a wrong method");
        assert_eq!(response.headers()["allow"], "GET,HEAD");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["status"], 405, "the ErrorModel: {body}");
    }
    let metrics = client.request(reqwest::Method::GET, "/metrics").send().await.unwrap().text().await.unwrap();
    assert!(!metrics.contains("INVENTED"), "an invented method became a label");
    assert!(metrics.contains("method=\"OTHER\""), "they are counted under OTHER");
    assert!(metrics.lines().count() < 200, "the exposition stays small: {} lines", metrics.lines().count());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_can_move_to_an_internal_listener() {
    let options = AppOptions { metrics_listen: Some("127.0.0.1:0".parse().unwrap()), ..AppOptions::default() };
    let app = spawn_app_with(TestDb::sqlite(), options).await;
    let public = app.client("localhost").request(reqwest::Method::GET, "/metrics").send().await.unwrap();
    assert_eq!(public.status(), reqwest::StatusCode::NOT_FOUND, "not on the public listener");
    let internal = app.operations_addr.expect("bound");
    let text = reqwest::get(format!("http://{internal}/metrics")).await.unwrap().text().await.unwrap();
    assert!(text.contains("stetgate_http_requests_total"), "{text}");
}
