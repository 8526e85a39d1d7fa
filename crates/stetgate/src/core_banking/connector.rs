//! The connection to one bank's adapter over HTTPS ([`super::contract`], mutual TLS and/or a
//! bearer token), shared by its ledger (`client.rs`) and its payment hub (`hub.rs`).
//!
//! Each call has a timeout (connection included); at most `max_concurrent` calls are in flight
//! from one node (a call waits for a place as long as its timeout, then fails); a circuit breaker
//! stops calling a failing adapter for a while. A failure becomes `LedgerError::Unavailable`.
//! Logs and metrics name the bank and the operation, never a PSU, an account, a URL or a body.

use super::breaker::{Breaker, Permit};
use super::contract::VERSION;
use crate::config::CoreBankingConfig;
use crate::ledger::LedgerError;
use crate::ops::metrics::Metrics;
use serde::de::DeserializeOwned;
use std::sync::Arc;
use std::time::{Duration, Instant};
use stet::BankCode;

/// The largest answer read from an adapter (500 days of a busy account fit well within it).
const MAX_ANSWER_BYTES: usize = 32 * 1024 * 1024;

/// What a 404 means for a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotFound {
    /// The contract allows it: no such PSU, account or transfer.
    MeansNone,
    /// The contract does not: a failure of the adapter.
    IsAFailure,
}

/// Why a call gave no answer.
enum Failure {
    /// The adapter answered a 4xx (not 404 where the contract allows it, nor 408 / 429): it is up.
    Refused(reqwest::StatusCode),
    /// Not reached, timed out, a 5xx, or an answer that does not follow the contract.
    Failed(String),
}

/// One bank's adapter: where it is, how to reach it, how many calls may be in flight, and its
/// circuit breaker (shared by the ledger and the payment hub of that adapter).
pub struct Connector {
    pub(super) bank: BankCode,
    base: url::Url,
    pub(super) http: reqwest::Client,
    bearer: Option<String>,
    timeout: Duration,
    places: tokio::sync::Semaphore,
    breaker: Breaker,
    metrics: Arc<Metrics>,
}

impl std::fmt::Debug for Connector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connector").field("bank", &self.bank).field("base", &self.base.as_str()).finish_non_exhaustive()
    }
}

/// What made a connector unusable at start-up.
#[derive(Debug, thiserror::Error)]
#[error("core_banking.\"{bank}\": {problem}")]
pub struct ConnectorSetupError {
    pub bank: BankCode,
    pub problem: String,
}

impl Connector {
    /// Reads the configured files and builds the HTTPS client (start-up: a failure stops it).
    pub fn new(
        bank: BankCode,
        config: &CoreBankingConfig,
        metrics: Arc<Metrics>,
    ) -> Result<Connector, ConnectorSetupError> {
        let fail = |problem: String| ConnectorSetupError { bank, problem };
        let timeout = Duration::from_secs(config.timeout_secs);
        let client = config.client_cert.as_deref().zip(config.client_key.as_deref());
        let files = crate::outbound::TlsFiles { ca: config.ca.as_deref(), client };
        let http = crate::outbound::https_client(timeout, files).map_err(fail)?;
        let bearer =
            config.bearer_token_file.as_deref().map(crate::secret::read_token_file).transpose().map_err(fail)?;
        let mut base = url::Url::parse(&config.url).map_err(|e| fail(format!("url: {e}")))?;
        if !base.path().ends_with('/') {
            base.set_path(&format!("{}/", base.path()));
        }
        Ok(Connector {
            bank,
            base,
            http,
            bearer,
            timeout,
            places: tokio::sync::Semaphore::new(config.max_concurrent),
            breaker: Breaker::new(config.breaker_failures, Duration::from_secs(config.breaker_open_secs)),
            metrics,
        })
    }

    /// `<base>/v1/banks/<bank>/<segments...>`, each segment percent-encoded.
    pub(super) fn url(&self, segments: &[&str]) -> url::Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().push(VERSION).push("banks").push(self.bank.as_str()).extend(segments);
        }
        url
    }

    /// Sends one call and reads its answer (`Ok(None)`: a 404 that `not_found` allows).
    pub(super) async fn call<T: DeserializeOwned>(
        &self,
        operation: &'static str,
        request: reqwest::RequestBuilder,
        not_found: NotFound,
    ) -> Result<Option<T>, LedgerError> {
        let bank = self.bank.as_str();
        // A place first: waiting for one leaves the breaker as it is.
        let Ok(Ok(_place)) = tokio::time::timeout(self.timeout, self.places.acquire()).await else {
            self.metrics.core_banking_call(bank, operation, "busy", None);
            return Err(self.unavailable(operation, "every place is taken, not called"));
        };
        if let Permit::Refused(wait) = self.breaker.permit(Instant::now()) {
            self.metrics.core_banking_call(bank, operation, "circuit_open", None);
            return Err(
                self.unavailable(operation, format_args!("circuit open ({} s left), not called", wait.as_secs()))
            );
        }
        let request = match &self.bearer {
            Some(token) => request.bearer_auth(token),
            None => request,
        };
        let started = Instant::now();
        let outcome = self.exchange(request, not_found).await;
        let elapsed = Some(started.elapsed());
        match outcome {
            Ok(answer) => {
                self.breaker.succeeded();
                let outcome = if answer.is_some() { "ok" } else { "not_found" };
                self.metrics.core_banking_call(bank, operation, outcome, elapsed);
                Ok(answer)
            }
            Err(Failure::Refused(status)) => {
                // The adapter is up and refuses this one call (a defect to fix on one side or
                // the other): it does not open the circuit for every other call.
                self.breaker.succeeded();
                self.metrics.core_banking_call(bank, operation, "refused", elapsed);
                tracing::error!(bank, operation, %status, "core-banking adapter refused a call");
                Err(self.unavailable(operation, format_args!("answered {status}")))
            }
            Err(Failure::Failed(why)) => {
                self.metrics.core_banking_call(bank, operation, "failed", elapsed);
                if self.breaker.failed(Instant::now()) {
                    tracing::error!(
                        bank,
                        operation,
                        "core-banking adapter failing: circuit opened, calls refused for a while"
                    );
                }
                Err(self.unavailable(operation, why))
            }
        }
    }

    /// The call and its answer, or why there is none (no URL, no body, no personal data).
    async fn exchange<T: DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
        not_found: NotFound,
    ) -> Result<Option<T>, Failure> {
        let mut response = request
            .header("accept", "application/json")
            .send()
            .await
            .map_err(|e| Failure::Failed(format!("not reached: {}", e.without_url())))?;
        let status = response.status();
        if status == reqwest::StatusCode::NOT_FOUND && not_found == NotFound::MeansNone {
            return Ok(None);
        }
        if status.is_client_error() && !matches!(status.as_u16(), 408 | 429) {
            return Err(Failure::Refused(status));
        }
        if status != reqwest::StatusCode::OK && status != reqwest::StatusCode::ACCEPTED {
            return Err(Failure::Failed(format!("answered {status}")));
        }
        let mut body = Vec::new();
        let cut = |e: reqwest::Error| Failure::Failed(format!("answer cut: {}", e.without_url()));
        while let Some(chunk) = response.chunk().await.map_err(cut)? {
            if body.len() + chunk.len() > MAX_ANSWER_BYTES {
                return Err(Failure::Failed(format!("answer over {MAX_ANSWER_BYTES} bytes")));
            }
            body.extend_from_slice(&chunk);
        }
        // serde's message may quote a value (a name, an IBAN): only its place is kept.
        serde_json::from_slice(&body).map(Some).map_err(|e| {
            Failure::Failed(format!(
                "answer does not follow the contract ({:?} error at line {} column {})",
                e.classify(),
                e.line(),
                e.column()
            ))
        })
    }

    /// Why this adapter gave no answer to `operation`: the ledger's failure, whose text is logged
    /// with the request id and never sent to the TPP.
    fn unavailable(&self, operation: &str, why: impl std::fmt::Display) -> LedgerError {
        LedgerError::Unavailable(format!("core-banking adapter of {}, {operation}: {why}", self.bank))
    }

    /// An answer that passed the contract's shape but not its rules.
    pub(super) fn malformed(&self, operation: &'static str, why: &str) -> LedgerError {
        self.metrics.core_banking_call(self.bank.as_str(), operation, "failed", None);
        self.breaker.failed(Instant::now());
        self.unavailable(operation, why)
    }

    /// The bank of a call must be this connector's (`Routed` sends it only its own).
    pub(super) fn check_bank(&self, bank: BankCode) -> Result<(), LedgerError> {
        if bank == self.bank {
            Ok(())
        } else {
            Err(self.unavailable("routing", format_args!("asked about bank {bank}")))
        }
    }
}
