//! A load generator of real STET requests: N keep-alive mutual-TLS connections (HTTP/1.1 or
//! HTTP/2), each request carrying a valid token, `X-Request-ID`, `Digest` and the QSealC signature.
//!
//! RSA signing costs the client far more than verifying costs the server, so the requests are
//! signed before the timed run, in a pool of distinct requests (distinct `X-Request-ID`s) that the
//! connections cycle through. With `new_connection_per_request`, every request opens a new TLS
//! connection (handshake included in its latency).

use crate::{ClientError, SignedRequest, TppClient};
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// A request ready to send: method, path, headers (signature included) and body.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub method: reqwest::Method,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl SignedRequest {
    /// Signs now; the request can be sent later, any number of times, by [`TppClient::send_prepared`].
    pub fn prepare(&self) -> Result<Prepared, ClientError> {
        Ok(Prepared {
            method: self.method.clone(),
            path: self.path.clone(),
            headers: self.prepared_headers()?,
            body: self.body.clone(),
        })
    }
}

impl TppClient {
    pub async fn send_prepared(&self, prepared: &Prepared) -> Result<reqwest::Response, ClientError> {
        let mut request = self.http().request(prepared.method.clone(), format!("{}{}", self.base_url(), prepared.path));
        for (name, value) in &prepared.headers {
            request = request.header(name, value);
        }
        if !prepared.body.is_empty() {
            request = request.body(prepared.body.clone());
        }
        Ok(request.send().await?)
    }
}

/// Latency figures, in milliseconds.
#[derive(Debug, Clone, Serialize)]
pub struct Latency {
    pub mean: f64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

/// What a run measured.
#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    pub scenario: String,
    pub http: String,
    pub connections: usize,
    pub new_connection_per_request: bool,
    /// Distinct pre-signed requests cycled through.
    pub presigned_pool: usize,
    pub duration_secs: f64,
    pub requests: u64,
    pub throughput_rps: f64,
    pub latency_ms: Latency,
    /// Answers by HTTP status.
    pub statuses: BTreeMap<u16, u64>,
    /// Requests that got no answer (connection refused or reset, timeout).
    pub transport_errors: u64,
    /// The same requests against the bare-TLS baseline, run right after (`--baseline-url`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<Box<BenchReport>>,
    /// This run's throughput divided by the baseline's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub throughput_ratio_to_baseline: Option<f64>,
}

impl BenchReport {
    /// Attaches the baseline's run and the throughput ratio to it.
    pub fn compare_with(&mut self, baseline: BenchReport) {
        self.throughput_ratio_to_baseline =
            (baseline.throughput_rps > 0.0).then(|| self.throughput_rps / baseline.throughput_rps);
        self.baseline = Some(Box::new(baseline));
    }

    pub fn text(&self) -> String {
        let mut text = self.text_of_run();
        if let Some(baseline) = &self.baseline {
            text.push_str(&baseline.text_of_run());
        }
        if let Some(ratio) = self.throughput_ratio_to_baseline {
            text.push_str(&format!("throughput / baseline's: {:.0}%\n", ratio * 100.0));
        }
        text
    }

    fn text_of_run(&self) -> String {
        let statuses: Vec<String> = self.statuses.iter().map(|(s, n)| format!("{s}: {n}")).collect();
        format!(
            "scenario {} ({}, {} connections{})\n  requests    {} in {:.1} s, {:.0} req/s\n  latency ms  mean {:.2}  p50 {:.2}  p90 {:.2}  p99 {:.2}  max {:.2}\n  statuses    {}\n  no answer   {}\n  requests pre-signed before the run: a pool of {} cycled through\n",
            self.scenario,
            self.http,
            self.connections,
            if self.new_connection_per_request { ", a new TLS connection per request" } else { ", keep-alive" },
            self.requests,
            self.duration_secs,
            self.throughput_rps,
            self.latency_ms.mean,
            self.latency_ms.p50,
            self.latency_ms.p90,
            self.latency_ms.p99,
            self.latency_ms.max,
            statuses.join(", "),
            self.transport_errors,
            self.presigned_pool,
        )
    }
}

/// What one connection's loop saw.
#[derive(Default)]
struct Tally {
    /// Microseconds per answered request.
    latencies: Vec<u64>,
    statuses: BTreeMap<u16, u64>,
    failures: u64,
}

impl Tally {
    fn merge(&mut self, other: Tally) {
        self.latencies.extend(other.latencies);
        for (status, n) in other.statuses {
            *self.statuses.entry(status).or_default() += n;
        }
        self.failures += other.failures;
    }

    /// Mean and percentiles in milliseconds (sorts the latencies).
    fn latency(&mut self) -> Latency {
        let latencies = &mut self.latencies;
        latencies.sort_unstable();
        let at = |q: f64| -> f64 {
            if latencies.is_empty() {
                return 0.0;
            }
            let i = ((q * latencies.len() as f64).ceil() as usize).clamp(1, latencies.len()) - 1;
            latencies[i] as f64 / 1000.0
        };
        let mean = if latencies.is_empty() {
            0.0
        } else {
            latencies.iter().sum::<u64>() as f64 / latencies.len() as f64 / 1000.0
        };
        Latency { mean, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: at(1.0) }
    }
}

/// One connection: sends the pool's requests in turn (shared cursor) until `deadline`.
async fn drive(client: TppClient, pool: Arc<Vec<Prepared>>, next: Arc<AtomicUsize>, deadline: Instant) -> Tally {
    let mut tally = Tally::default();
    while Instant::now() < deadline {
        let prepared = &pool[next.fetch_add(1, Ordering::Relaxed) % pool.len()];
        let sent = Instant::now();
        match client.send_prepared(prepared).await {
            Ok(response) => {
                let status = response.status().as_u16();
                let _ = response.bytes().await;
                tally.latencies.push(sent.elapsed().as_micros() as u64);
                *tally.statuses.entry(status).or_default() += 1;
            }
            Err(_) => tally.failures += 1,
        }
    }
    tally
}

/// Runs `pool` over `clients` (one connection each) for `duration`, after one untimed request per
/// client to open its connection.
pub async fn run(
    scenario: &str,
    http: &str,
    clients: Vec<TppClient>,
    pool: Vec<Prepared>,
    duration: Duration,
    new_connection_per_request: bool,
) -> BenchReport {
    let pool = Arc::new(pool);
    let next = Arc::new(AtomicUsize::new(0));
    if !new_connection_per_request {
        for client in &clients {
            let _ = client.send_prepared(&pool[0]).await.map(|r| r.bytes());
        }
    }
    let connections = clients.len();
    let started = Instant::now();
    let deadline = started + duration;
    let tasks: Vec<_> =
        clients.into_iter().map(|c| tokio::spawn(drive(c, pool.clone(), next.clone(), deadline))).collect();
    let mut tally = Tally::default();
    for task in tasks {
        if let Ok(one) = task.await {
            tally.merge(one);
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let requests = tally.latencies.len() as u64;
    BenchReport {
        scenario: scenario.to_owned(),
        http: http.to_owned(),
        connections,
        new_connection_per_request,
        presigned_pool: pool.len(),
        duration_secs: elapsed,
        requests,
        throughput_rps: requests as f64 / elapsed.max(f64::EPSILON),
        latency_ms: tally.latency(),
        statuses: tally.statuses,
        transport_errors: tally.failures,
        baseline: None,
        throughput_ratio_to_baseline: None,
    }
}
