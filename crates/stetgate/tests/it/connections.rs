//! What a client may hold of the listener (docs/security.md#limits), over raw TLS sockets as an
//! attacker would use them: a connection that sends nothing, headers dribbled a line at a time, an
//! idle keep-alive connection, an HTTP/2 client that stops answering pings, the connection caps
//! (and their warning), invented methods, and a shutdown that does not wait for half-open clients.

use crate::harness::{AppOptions, TestApp, TestDb, logs, spawn_app_with};
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
async fn an_idle_keep_alive_connection_is_closed_within_the_configured_idle_timeout() {
    // Idle timeout 2 s. (On HTTP/1.1 hyper's header timer also runs while waiting for the next
    // request, so the header timeout is set above the idle one: only the idle timeout closes it.)
    let limits = ConnectionLimits { header_read_timeout_secs: 6, idle_timeout_secs: 2, ..ConnectionLimits::default() };
    let app = app_with(limits).await;
    let mut stream = connect(&app, b"http/1.1").await;
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n").await.unwrap();
    let started = Instant::now();
    let received = read_until_closed(&mut stream).await.expect("the idle connection is closed");
    let closed_after = started.elapsed();
    let text = String::from_utf8_lossy(&received);
    assert!(text.starts_with("HTTP/1.1 200"), "the request was answered first: {text}");
    assert_eq!(text.matches("HTTP/1.1").count(), 1);
    assert!(
        closed_after >= Duration::from_millis(1_500),
        "still open a second after its answer (idle timeout 2 s): closed after {closed_after:?}"
    );
    assert!(
        closed_after < Duration::from_secs(5),
        "closed by the configured 2 s idle timeout, before the 6 s header timeout: closed after {closed_after:?}"
    );
}

/// An HTTP/2 frame: type, flags, stream, payload (RFC 9113 section 4.1).
fn h2_frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let mut frame = (payload.len() as u32).to_be_bytes()[1..].to_vec();
    frame.extend([kind, flags]);
    frame.extend(stream.to_be_bytes());
    frame.extend(payload);
    frame
}

const H2_SETTINGS: u8 = 0x4;
const H2_PING: u8 = 0x6;
const H2_ACK: u8 = 0x1;

const H2_HEADERS: u8 = 0x1;
const H2_END_STREAM_AND_HEADERS: u8 = 0x5;

/// What an HTTP/2 session saw: the PINGs the server sent, when the answer to its request came,
/// and when the server closed the connection (`None`: still open at the end of the patience).
struct H2Session {
    pings: usize,
    answered: Option<Instant>,
    closed: Option<Instant>,
}

/// Plays an HTTP/2 client that opens the connection, acknowledges the server's SETTINGS, sends
/// `GET /healthz` when `request`, answers the server's PINGs when `answer_pings`, and otherwise
/// sends nothing, for at most `patience`.
async fn h2_session(app: &TestApp, request: bool, answer_pings: bool, patience: Duration) -> H2Session {
    let mut stream = connect(app, b"h2").await;
    stream.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n").await.unwrap();
    stream.write_all(&h2_frame(H2_SETTINGS, 0, 0, &[])).await.unwrap();
    if request {
        // HPACK (RFC 7541): :method GET, :scheme https (static indexes 2, 7), :path and :authority
        // as literals with an indexed name (4, 1).
        let mut block = vec![0x82, 0x87, 0x04, 8];
        block.extend(b"/healthz");
        block.extend([0x01, 9]);
        block.extend(b"localhost");
        stream.write_all(&h2_frame(H2_HEADERS, H2_END_STREAM_AND_HEADERS, 1, &block)).await.unwrap();
    }
    let mut session = H2Session { pings: 0, answered: None, closed: None };
    let _ = tokio::time::timeout(patience, async {
        loop {
            let mut head = [0u8; 9];
            if stream.read_exact(&mut head).await.is_err() {
                break;
            }
            let length = u32::from_be_bytes([0, head[0], head[1], head[2]]) as usize;
            let mut payload = vec![0u8; length];
            if stream.read_exact(&mut payload).await.is_err() {
                break;
            }
            let (kind, flags) = (head[3], head[4]);
            let reply = match (kind, flags & H2_ACK) {
                (H2_SETTINGS, 0) => Some(h2_frame(H2_SETTINGS, H2_ACK, 0, &[])),
                (H2_PING, 0) => {
                    session.pings += 1;
                    answer_pings.then(|| h2_frame(H2_PING, H2_ACK, 0, &payload))
                }
                (H2_HEADERS, _) => {
                    session.answered.get_or_insert_with(Instant::now);
                    None
                }
                _ => None,
            };
            if let Some(reply) = reply
                && stream.write_all(&reply).await.is_err()
            {
                break;
            }
        }
        session.closed = Some(Instant::now());
    })
    .await;
    session
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_http2_connection_is_closed_within_the_configured_idle_timeout() {
    // HTTP/2 has no header timer of hyper's: the listener's idle timeout is the only bound.
    let limits = ConnectionLimits { header_read_timeout_secs: 6, idle_timeout_secs: 2, ..ConnectionLimits::default() };
    let app = app_with(limits).await;
    let session = h2_session(&app, true, true, PATIENCE).await;
    let answered = session.answered.expect("the request is answered");
    let closed_after = session.closed.expect("the idle connection is closed").duration_since(answered);
    assert!(
        closed_after >= Duration::from_millis(1_500),
        "open a second after its answer: closed after {closed_after:?}"
    );
    assert!(
        closed_after < Duration::from_secs(5),
        "closed by the configured 2 s idle timeout, before the 6 s header timeout: closed after {closed_after:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_http2_client_that_stops_answering_pings_is_closed() {
    // The header and idle timeouts are far away (30 s, 60 s): only the keep-alive pings (every
    // second, answered within a second) can close these connections early.
    let limits = ConnectionLimits {
        header_read_timeout_secs: 30,
        idle_timeout_secs: 60,
        http2_keep_alive_interval_secs: 1,
        http2_keep_alive_timeout_secs: 1,
        ..ConnectionLimits::default()
    };
    let app = app_with(limits).await;
    let patience = Duration::from_secs(8);
    let (deaf, alive) = tokio::join!(h2_session(&app, false, false, patience), h2_session(&app, false, true, patience));
    assert!(deaf.pings >= 1, "the server pings an HTTP/2 connection that sends nothing");
    assert!(deaf.closed.is_some(), "a client that does not answer the ping is still connected after {patience:?}");
    assert!(alive.closed.is_none(), "a client that answers every ping stays connected");
    assert!(alive.pings >= 3, "pinged every second: {} pings in {patience:?}", alive.pings);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_over_a_cap_are_answered_503_closed_and_logged() {
    let logs = logs();
    for (max, max_per_address, cap) in
        [(64, 2, "the per-address connection cap"), (2, 64, "the server's connection cap")]
    {
        let limits = ConnectionLimits { max, max_per_address, ..ConnectionLimits::default() };
        let app = app_with(limits).await;
        let _first = connect(&app, b"http/1.1").await;
        let _second = connect(&app, b"http/1.1").await;
        // The census counts a connection from its accept; let the server see both.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let mut third = connect(&app, b"http/1.1").await;
        let peer = third.get_ref().0.local_addr().unwrap().to_string();
        third.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Request-ID: over\r\n\r\n").await.unwrap();
        let received = read_until_closed(&mut third).await.expect("the refused connection is closed");
        let text = String::from_utf8_lossy(&received).to_lowercase();
        assert!(text.starts_with("http/1.1 503"), "cap {max}/{max_per_address}: {text}");
        assert!(text.contains("retry-after: 5") && text.contains("x-request-id: over"), "{text}");
        assert!(text.contains("\"status\":503") && text.contains("too many connections"), "ErrorModel: {text}");
        let warned = logs.lines_with(&["connection refused", "\"level\":\"WARN\"", &peer, cap]);
        assert_eq!(warned.len(), 1, "the refusal of {peer} is logged as a warning naming {cap}");
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
