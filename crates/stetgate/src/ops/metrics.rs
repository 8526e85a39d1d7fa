//! Prometheus metrics, held by the application state rather than a process-global recorder, so
//! that every server (and every test server) counts only its own requests.
//!
//! - `stetgate_http_requests_total{route, method, status}`: requests by route template;
//! - `stetgate_http_request_duration_seconds{route, method}`: latency histogram;
//! - `stetgate_fallback_unverified_logins_total{reason}`: fallback logins without a bank-signed JWT;
//! - `stetgate_core_banking_calls_total{bank, operation, outcome}` and
//!   `stetgate_core_banking_call_duration_seconds{bank, operation}`: calls to a bank's core-banking
//!   adapter (`outcome`: ok, not_found, failed, circuit_open, busy, cached).

use metrics::{Key, Label, Metadata, Recorder, Unit};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle, PrometheusRecorder};
use std::time::Duration;

/// `stetgate_revocation_checks_total{certificate, anchor, outcome, source}` and
/// `stetgate_revocation_status_age_seconds{certificate, anchor, source}` (crate::revocation).
const REVOCATION_CHECKS: &str = "stetgate_revocation_checks_total";
const REVOCATION_AGE: &str = "stetgate_revocation_status_age_seconds";

const REQUESTS: &str = "stetgate_http_requests_total";
const DURATION: &str = "stetgate_http_request_duration_seconds";
const FALLBACK_UNVERIFIED: &str = "stetgate_fallback_unverified_logins_total";
const CORE_CALLS: &str = "stetgate_core_banking_calls_total";
const CORE_DURATION: &str = "stetgate_core_banking_call_duration_seconds";

/// Buckets from 1 ms to 10 s: an API call at the bank should sit well under a second.
const BUCKETS: &[f64] = &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

pub struct Metrics {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

static METADATA: Metadata<'static> = Metadata::new(module_path!(), metrics::Level::INFO, Some(module_path!()));

impl Metrics {
    pub fn new() -> Result<Metrics, metrics_exporter_prometheus::BuildError> {
        let recorder = PrometheusBuilder::new().set_buckets(BUCKETS)?.build_recorder();
        recorder.describe_counter(
            REQUESTS.into(),
            None,
            "HTTP requests answered, by route template, method and status".into(),
        );
        recorder.describe_histogram(DURATION.into(), Some(Unit::Seconds), "Time to answer an HTTP request".into());
        recorder.describe_counter(
            FALLBACK_UNVERIFIED.into(),
            None,
            "Fallback login pages opened without a JWT the bank signed, by reason (not recorded as fallback uses)"
                .into(),
        );
        recorder.describe_counter(
            CORE_CALLS.into(),
            None,
            "Calls to a bank's core-banking adapter, by bank, operation and outcome".into(),
        );
        recorder.describe_histogram(
            CORE_DURATION.into(),
            Some(Unit::Seconds),
            "Time a bank's core-banking adapter took to answer".into(),
        );
        describe_revocation(&recorder);
        let handle = recorder.handle();
        Ok(Metrics { recorder, handle })
    }

    pub fn record_request(&self, route: &str, method: &str, status: u16, elapsed: Duration) {
        let route = Label::new("route", route.to_owned());
        let method = Label::new("method", method.to_owned());
        let counter =
            Key::from_parts(REQUESTS, vec![route.clone(), method.clone(), Label::new("status", status.to_string())]);
        self.recorder.register_counter(&counter, &METADATA).increment(1);
        let histogram = Key::from_parts(DURATION, vec![route, method]);
        self.recorder.register_histogram(&histogram, &METADATA).record(elapsed.as_secs_f64());
    }

    /// A fallback login without a verified JWT (`reason` is one of a closed set).
    pub fn fallback_login_unverified(&self, reason: &'static str) {
        let key = Key::from_parts(FALLBACK_UNVERIFIED, vec![Label::new("reason", reason)]);
        self.recorder.register_counter(&key, &METADATA).increment(1);
    }

    /// A call to a core-banking adapter (`operation` and `outcome` from closed sets); `elapsed` when
    /// the adapter was called.
    pub fn core_banking_call(
        &self,
        bank: &str,
        operation: &'static str,
        outcome: &'static str,
        elapsed: Option<Duration>,
    ) {
        let bank = Label::new("bank", bank.to_owned());
        let operation = Label::new("operation", operation);
        let counter =
            Key::from_parts(CORE_CALLS, vec![bank.clone(), operation.clone(), Label::new("outcome", outcome)]);
        self.recorder.register_counter(&counter, &METADATA).increment(1);
        if let Some(elapsed) = elapsed {
            let histogram = Key::from_parts(CORE_DURATION, vec![bank, operation]);
            self.recorder.register_histogram(&histogram, &METADATA).record(elapsed.as_secs_f64());
        }
    }

    /// A revocation decision (`outcome`: good, revoked, soft_fail, hard_fail; `source`: ocsp,
    /// crl, none) and the age of the status it rests on; `anchor` is a configured anchor's name.
    pub fn revocation_check(
        &self,
        certificate: &'static str,
        anchor: &str,
        outcome: &'static str,
        source: &'static str,
        age_secs: Option<i64>,
    ) {
        let anchor = Label::new("anchor", anchor.to_owned());
        let labels = vec![Label::new("certificate", certificate), anchor.clone(), Label::new("source", source)];
        let mut counted = labels.clone();
        counted.push(Label::new("outcome", outcome));
        self.recorder.register_counter(&Key::from_parts(REVOCATION_CHECKS, counted), &METADATA).increment(1);
        if let Some(age) = age_secs {
            self.recorder.register_gauge(&Key::from_parts(REVOCATION_AGE, labels), &METADATA).set(age as f64);
        }
    }

    pub fn render(&self) -> String {
        self.handle.run_upkeep();
        self.handle.render()
    }
}

fn describe_revocation(recorder: &PrometheusRecorder) {
    recorder.describe_counter(
        REVOCATION_CHECKS.into(),
        None,
        "Revocation checks of TPP certificates, by certificate, trust anchor, outcome and source".into(),
    );
    recorder.describe_gauge(
        REVOCATION_AGE.into(),
        Some(Unit::Seconds),
        "Age (now - thisUpdate) of the CRL or OCSP answer the last revocation decision rested on".into(),
    );
}
