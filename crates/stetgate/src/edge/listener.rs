//! The HTTPS accept loop: TLS handshake, HTTP/1.1 or HTTP/2 by ALPN, and every bound a connection
//! lives under, so that nobody can hold the server's sockets (RFC 9110 section 9.7 leaves it to the
//! server; these are stetgate's).
//!
//! - **Caps**: at most `connections.max` connections at once, and `connections.max_per_address`
//!   from one source address. A connection over a cap is answered politely (the TLS handshake, then
//!   `503` with `Retry-After` and the STET ErrorModel, then close) while a small refusal budget
//!   lasts, and closed at once beyond it; either way a warning is logged (at most once a second).
//! - **Timeouts**: the TLS handshake; the first request's headers (`header_read_timeout_secs`, also
//!   every later request's headers on HTTP/1.1 through hyper's own timer); an idle connection
//!   (`idle_timeout_secs` with no request in flight, HTTP/1.1 and HTTP/2 alike); HTTP/2 keep-alive
//!   pings whose answer must come in time. The HTTP version comes from ALPN, so no read waits to
//!   sniff it; a client without ALPN is sniffed, under the same first-request deadline.
//! - **Shutdown**: stop accepting, close at once every connection with no request in flight
//!   (including a client half-way through sending its headers), let in-flight requests finish
//!   within the grace period.

use super::tls::ConnectionInfo;
use crate::config::{Cidr, ConnectionLimits};
use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use rustls::ServerConfig;
use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, Semaphore, watch};
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

/// How many over-cap connections may be answered 503 at once; beyond, they are closed unanswered.
const REFUSAL_BUDGET: usize = 32;
/// How long an over-cap connection may take to receive its 503.
const REFUSAL_DEADLINE: Duration = Duration::from_secs(5);

/// What [`serve`] needs: the listener, the TLS configuration, the application, the answer given to
/// connections over a cap, and the limits.
pub struct Listener {
    pub tcp: TcpListener,
    pub tls: Arc<ServerConfig>,
    pub router: Router,
    /// Answers every request of a refused connection (503 with Retry-After).
    pub refusal: Router,
    pub limits: ConnectionLimits,
    /// Connections from these addresses start with a PROXY protocol v2 header (`[trusted_proxy]`).
    pub proxy_protocol_from: Vec<Cidr>,
}

/// The three ways a connection is served, configured alike: chosen by ALPN, or sniffed.
#[derive(Clone)]
struct Builders {
    sniff: auto::Builder<TokioExecutor>,
    http1: auto::Builder<TokioExecutor>,
    http2: auto::Builder<TokioExecutor>,
}

impl Builders {
    fn new(limits: &ConnectionLimits) -> Builders {
        let configure = |mut builder: auto::Builder<TokioExecutor>| {
            builder
                .http1()
                .timer(TokioTimer::new())
                .header_read_timeout(Duration::from_secs(limits.header_read_timeout_secs));
            builder
                .http2()
                .timer(TokioTimer::new())
                .keep_alive_interval(Some(Duration::from_secs(limits.http2_keep_alive_interval_secs)))
                .keep_alive_timeout(Duration::from_secs(limits.http2_keep_alive_timeout_secs));
            builder
        };
        let base = || auto::Builder::new(TokioExecutor::new());
        Builders {
            sniff: configure(base()),
            http1: configure(base().http1_only()),
            http2: configure(base().http2_only()),
        }
    }

    fn for_alpn(&self, alpn: Option<&[u8]>) -> &auto::Builder<TokioExecutor> {
        match alpn {
            Some(b"h2") => &self.http2,
            Some(b"http/1.1") => &self.http1,
            _ => &self.sniff,
        }
    }
}

/// The connections open now, in total and per source address.
#[derive(Default)]
struct Census {
    total: AtomicUsize,
    per_address: Mutex<HashMap<IpAddr, usize>>,
}

/// A connection counted in the [`Census`] until dropped.
struct Counted {
    census: Arc<Census>,
    address: IpAddr,
}

impl Census {
    /// Counts a new connection from `address`, unless a cap is reached.
    fn admit(self: &Arc<Self>, address: IpAddr, limits: &ConnectionLimits) -> Result<Counted, &'static str> {
        let mut per_address = self.per_address.lock().unwrap_or_else(|p| p.into_inner());
        if self.total.load(Ordering::Relaxed) >= limits.max {
            return Err("the server's connection cap");
        }
        let from_address = per_address.entry(address).or_insert(0);
        if *from_address >= limits.max_per_address {
            return Err("the per-address connection cap");
        }
        *from_address += 1;
        self.total.fetch_add(1, Ordering::Relaxed);
        Ok(Counted { census: self.clone(), address })
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        let mut per_address = self.census.per_address.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = per_address.get_mut(&self.address) {
            *n -= 1;
            if *n == 0 {
                per_address.remove(&self.address);
            }
        }
        self.census.total.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Logs refusals at most once a second, with how many were refused meanwhile.
#[derive(Default)]
struct RefusalLog {
    last: Mutex<Option<Instant>>,
    unlogged: AtomicUsize,
}

impl RefusalLog {
    fn refused(&self, peer: SocketAddr, why: &str, answered: bool) {
        let count = self.unlogged.fetch_add(1, Ordering::Relaxed) + 1;
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        if last.is_none_or(|t| t.elapsed() >= Duration::from_secs(1)) {
            *last = Some(Instant::now());
            self.unlogged.store(0, Ordering::Relaxed);
            tracing::warn!(%peer, cap = why, answered, refused_since_last_log = count, "connection refused");
        }
    }
}

/// Whether a connection has requests in flight, and since when it has none.
struct Activity {
    started: Instant,
    in_flight: AtomicUsize,
    /// Milliseconds after `started` of the last request's end; -1 before the first request.
    last_end_ms: AtomicI64,
    /// Woken when the last request in flight ends.
    became_idle: Notify,
}

impl Activity {
    fn new() -> Arc<Activity> {
        Arc::new(Activity {
            started: Instant::now(),
            in_flight: AtomicUsize::new(0),
            last_end_ms: AtomicI64::new(-1),
            became_idle: Notify::new(),
        })
    }

    fn begin(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        InFlight(self.clone())
    }

    fn idle(&self) -> bool {
        self.in_flight.load(Ordering::SeqCst) == 0
    }

    /// When the connection must be closed if it stays without a request in flight: the first
    /// request's headers must arrive within the header timeout, later ones within the idle timeout.
    fn deadline(&self, limits: &ConnectionLimits) -> Instant {
        match self.last_end_ms.load(Ordering::SeqCst) {
            ms if ms < 0 => self.started + Duration::from_secs(limits.header_read_timeout_secs),
            ms => {
                self.started + Duration::from_millis(ms.unsigned_abs()) + Duration::from_secs(limits.idle_timeout_secs)
            }
        }
    }
}

/// A request being served; its end is recorded when dropped (finished or abandoned).
struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        let ms = i64::try_from(self.0.started.elapsed().as_millis()).unwrap_or(i64::MAX);
        self.0.last_end_ms.store(ms, Ordering::SeqCst);
        if self.0.in_flight.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.became_idle.notify_waiters();
        }
    }
}

/// Accepts TLS connections and serves the router on each until `shutdown` resolves; then stops
/// accepting, closes the connections without a request in flight, and returns once the others are
/// done or `grace` has passed.
pub async fn serve(listener: Listener, shutdown: impl Future<Output = ()>, grace: Duration) {
    let Listener { tcp, tls, router, refusal, limits, proxy_protocol_from } = listener;
    let proxy_protocol_from = Arc::new(proxy_protocol_from);
    let acceptor = TlsAcceptor::from(tls);
    let builders = Builders::new(&limits);
    let census = Arc::new(Census::default());
    let refusals = Arc::new(Semaphore::new(REFUSAL_BUDGET));
    let refusal_log = Arc::new(RefusalLog::default());
    let (stop_tx, stop_rx) = watch::channel(false);
    // Every connection task holds a clone; when all are gone, `recv` answers `None`.
    let (alive_tx, mut alive_rx) = tokio::sync::mpsc::channel::<()>(1);
    tokio::pin!(shutdown);
    loop {
        let (tcp_stream, peer) = tokio::select! {
            accepted = tcp.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Running out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let counted = match census.admit(peer.ip(), &limits) {
            Ok(counted) => counted,
            Err(why) => {
                let permit = refusals.clone().try_acquire_owned().ok();
                refusal_log.refused(peer, why, permit.is_some());
                if let Some(permit) = permit {
                    let (acceptor, builders, refusal) = (acceptor.clone(), builders.clone(), refusal.clone());
                    tokio::spawn(async move {
                        let _ = tokio::time::timeout(
                            REFUSAL_DEADLINE,
                            answer_refusal(acceptor, builders, refusal, tcp_stream, peer),
                        )
                        .await;
                        drop(permit);
                    });
                }
                continue;
            }
        };
        let connection = Connection {
            acceptor: acceptor.clone(),
            builders: builders.clone(),
            router: router.clone(),
            limits: limits.clone(),
            proxy_protocol_from: proxy_protocol_from.clone(),
            stop: stop_rx.clone(),
            grace,
        };
        let alive = alive_tx.clone();
        tokio::spawn(async move {
            connection.run(tcp_stream, peer).await;
            drop(counted);
            drop(alive);
        });
    }
    drop(tcp);
    drop(alive_tx);
    let _ = stop_tx.send(true);
    tokio::select! {
        _ = alive_rx.recv() => tracing::info!("every connection finished"),
        () = tokio::time::sleep(grace) => tracing::warn!(grace_secs = grace.as_secs(), "shutdown grace period over; closing remaining connections"),
    }
}

/// One accepted connection and what it needs.
struct Connection {
    acceptor: TlsAcceptor,
    builders: Builders,
    router: Router,
    limits: ConnectionLimits,
    proxy_protocol_from: Arc<Vec<Cidr>>,
    stop: watch::Receiver<bool>,
    grace: Duration,
}

impl Connection {
    /// The client's address, and the gateway's when a trusted one names the client in a PROXY
    /// header before TLS (read within the handshake's time); `None`: close the connection.
    async fn client_of(
        &self,
        tcp: &mut TcpStream,
        peer: SocketAddr,
        within: Duration,
    ) -> Option<(SocketAddr, Option<SocketAddr>)> {
        if !self.proxy_protocol_from.iter().any(|block| block.contains(peer.ip())) {
            return Some((peer, None));
        }
        match tokio::time::timeout(within, super::proxy_protocol::read_header(tcp)).await {
            Ok(Ok(client)) => Some((client.unwrap_or(peer), Some(peer))),
            Ok(Err(e)) => {
                tracing::warn!(%peer, error = %e, "connection from the gateway closed");
                None
            }
            Err(_) => {
                tracing::warn!(%peer, "connection from the gateway closed: no PROXY header in time");
                None
            }
        }
    }

    async fn run(mut self, mut tcp: TcpStream, peer: SocketAddr) {
        let handshake = Duration::from_secs(self.limits.tls_handshake_timeout_secs);
        let Some((peer, via)) = self.client_of(&mut tcp, peer, handshake).await else { return };
        let stream = tokio::select! {
            done = tokio::time::timeout(handshake, self.acceptor.accept(tcp)) => match done {
                Ok(Ok(stream)) => stream,
                Ok(Err(e)) => {
                    tracing::debug!(%peer, error = %e, "TLS handshake failed");
                    return;
                }
                Err(_) => {
                    tracing::debug!(%peer, "TLS handshake timed out");
                    return;
                }
            },
            () = stopped(&mut self.stop) => return,
        };
        let session = stream.get_ref().1;
        let client_chain =
            session.peer_certificates().map(|c| Arc::new(c.iter().map(|d| d.clone().into_owned()).collect()));
        let builder = self.builders.for_alpn(session.alpn_protocol()).clone();
        let info = ConnectionInfo { peer, via, client_chain };
        let activity = Activity::new();
        let router = self.router.clone();
        let tracked = activity.clone();
        let service = hyper::service::service_fn(move |mut request: hyper::Request<hyper::body::Incoming>| {
            let in_flight = tracked.begin();
            request.extensions_mut().insert(info.clone());
            let response = router.clone().oneshot(request.map(axum::body::Body::new));
            async move {
                let answered = response.await;
                drop(in_flight);
                answered
            }
        });
        let connection = builder.serve_connection(TokioIo::new(stream), service);
        tokio::pin!(connection);
        loop {
            let became_idle = activity.became_idle.notified();
            tokio::pin!(became_idle);
            became_idle.as_mut().enable();
            let idle = activity.idle();
            let deadline = tokio::time::Instant::from_std(activity.deadline(&self.limits));
            tokio::select! {
                result = connection.as_mut() => {
                    if let Err(e) = result {
                        tracing::debug!(%peer, error = %e, "connection ended with an error");
                    }
                    return;
                }
                // The deadline moves while requests come and go: only a connection still without
                // a request in flight at its deadline is closed.
                () = tokio::time::sleep_until(deadline), if idle => {
                    if activity.idle() && Instant::now() >= activity.deadline(&self.limits) {
                        tracing::debug!(%peer, "connection closed: no request within the timeout");
                        return;
                    }
                }
                // Also while idle: a request that began and ended during the sleep moves the
                // deadline (to its end plus the idle timeout), which may come before the one slept to.
                () = &mut became_idle => {}
                () = stopped(&mut self.stop) => {
                    if activity.idle() {
                        return;
                    }
                    connection.as_mut().graceful_shutdown();
                    let _ = tokio::time::timeout(self.grace, connection.as_mut()).await;
                    return;
                }
            }
        }
    }
}

/// Resolves once the server is shutting down.
async fn stopped(stop: &mut watch::Receiver<bool>) {
    // The guard `wait_for` returns must not live across an await (it is not `Send`).
    let _ = stop.wait_for(|stop| *stop).await.map(|_| ());
}

/// Completes the handshake of an over-cap connection and answers its requests with the refusal
/// router (503), then closes it.
async fn answer_refusal(acceptor: TlsAcceptor, builders: Builders, refusal: Router, tcp: TcpStream, peer: SocketAddr) {
    let Ok(stream) = acceptor.accept(tcp).await else { return };
    let builder = builders.for_alpn(stream.get_ref().1.alpn_protocol()).clone();
    let info = ConnectionInfo { peer, via: None, client_chain: None };
    let service = hyper::service::service_fn(move |mut request: hyper::Request<hyper::body::Incoming>| {
        request.extensions_mut().insert(info.clone());
        refusal.clone().oneshot(request.map(axum::body::Body::new))
    });
    let connection = builder.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(connection);
    // One answer, then close: the refusal router sets `Connection: close` on HTTP/1.1; HTTP/2 gets
    // a GOAWAY once the first stream is answered.
    tokio::select! {
        _ = connection.as_mut() => {}
        () = tokio::time::sleep(Duration::from_millis(500)) => {
            connection.as_mut().graceful_shutdown();
            let _ = connection.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(max: usize, per_address: usize) -> ConnectionLimits {
        ConnectionLimits { max, max_per_address: per_address, ..ConnectionLimits::default() }
    }

    #[test]
    fn the_census_enforces_both_caps_and_forgets_closed_connections() {
        let census = Arc::new(Census::default());
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        let l = limits(3, 2);
        let first = census.admit(a, &l).unwrap();
        let _second = census.admit(a, &l).unwrap();
        assert!(census.admit(a, &l).is_err(), "a third from the same address");
        let _third = census.admit(b, &l).unwrap();
        assert!(census.admit(b, &l).is_err(), "a fourth in all");
        drop(first);
        assert!(census.admit(b, &l).is_ok(), "room again once one closed");
        assert_eq!(census.per_address.lock().unwrap().get(&a), Some(&1));
    }

    #[test]
    fn the_first_request_has_the_header_timeout_later_ones_the_idle_timeout() {
        let l = ConnectionLimits { header_read_timeout_secs: 5, idle_timeout_secs: 60, ..ConnectionLimits::default() };
        let activity = Activity::new();
        assert_eq!(activity.deadline(&l), activity.started + Duration::from_secs(5));
        drop(activity.begin());
        assert!(activity.idle());
        assert!(activity.deadline(&l) >= activity.started + Duration::from_secs(60));
    }
}
