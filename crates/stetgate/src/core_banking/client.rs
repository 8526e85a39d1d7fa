//! `HttpLedger`: the [`Ledger`] of a bank whose accounts live in its core banking system, read
//! through the bank's adapter over HTTPS ([`super::contract`], mutual TLS and/or a bearer token).
//!
//! Each call has a timeout (connection included); at most `max_concurrent` calls are in flight
//! from one node (a call waits for a place as long as its timeout, then fails); a circuit breaker
//! stops calling a failing adapter for a while. A failure becomes `LedgerError::Unavailable`, so
//! the TPP gets 503 with Retry-After and the statistics count it (RTS art. 32). An optional cache
//! (`cache_secs`, at most 30) keeps PSUs, account lists and balances for the hot path; transactions
//! and overdrafts are always asked. Logs and metrics name the bank and the operation, never a PSU,
//! an account, a URL or a body.

use super::breaker::{Breaker, Permit};
use super::cache::Ttl;
use super::contract::{
    AccountList, BalanceList, BalancesQuery, MAX_BALANCE_ACCOUNTS, OverdraftBody, PsuBody, TransactionList, VERSION,
};
use crate::config::CoreBankingConfig;
use crate::ledger::{Balances, DateWindow, HeldAccount, Ledger, LedgerError, Psu, PsuId, Transaction};
use crate::ops::metrics::Metrics;
use async_trait::async_trait;
use jiff::civil::Date;
use serde::de::DeserializeOwned;
use std::sync::Arc;
use std::time::{Duration, Instant};
use stet::{Amount, BankCode, ResourceId};

/// The largest answer read from an adapter (500 days of a busy account fit well within it).
const MAX_ANSWER_BYTES: usize = 32 * 1024 * 1024;

pub struct HttpLedger {
    bank: BankCode,
    base: url::Url,
    http: reqwest::Client,
    bearer: Option<String>,
    timeout: Duration,
    places: tokio::sync::Semaphore,
    breaker: Breaker,
    metrics: Arc<Metrics>,
    psus: Option<Ttl<PsuId, Option<Psu>>>,
    accounts: Option<Ttl<PsuId, Vec<HeldAccount>>>,
    balances: Option<Ttl<(ResourceId, Date), Balances>>,
}

impl std::fmt::Debug for HttpLedger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpLedger")
            .field("bank", &self.bank)
            .field("base", &self.base.as_str())
            .finish_non_exhaustive()
    }
}

/// What made a connector unusable at start-up.
#[derive(Debug, thiserror::Error)]
#[error("core_banking.\"{bank}\": {problem}")]
pub struct ConnectorSetupError {
    pub bank: BankCode,
    pub problem: String,
}

impl HttpLedger {
    /// Reads the configured files and builds the HTTPS client (start-up: a failure stops it).
    pub fn new(
        bank: BankCode,
        config: &CoreBankingConfig,
        metrics: Arc<Metrics>,
    ) -> Result<HttpLedger, ConnectorSetupError> {
        let fail = |problem: String| ConnectorSetupError { bank, problem };
        let read = |path: &std::path::Path| std::fs::read(path).map_err(|e| fail(format!("{}: {e}", path.display())));
        let timeout = Duration::from_secs(config.timeout_secs);
        let client = config.client_cert.as_deref().zip(config.client_key.as_deref());
        let files = crate::outbound::TlsFiles { ca: config.ca.as_deref(), client };
        let http = crate::outbound::https_client(timeout, files).map_err(fail)?;
        let bearer = match &config.bearer_token_file {
            Some(path) => {
                let token = String::from_utf8(read(path)?).map_err(|_| fail("the bearer token is not UTF-8".into()))?;
                let token = token.trim().to_owned();
                if token.is_empty() || !token.bytes().all(|b| b.is_ascii_graphic()) {
                    return Err(fail(format!("{}: the bearer token is empty or not printable", path.display())));
                }
                Some(token)
            }
            None => None,
        };
        let mut base = url::Url::parse(&config.url).map_err(|e| fail(format!("url: {e}")))?;
        if !base.path().ends_with('/') {
            base.set_path(&format!("{}/", base.path()));
        }
        let cache = (config.cache_secs > 0).then_some(Duration::from_secs(config.cache_secs));
        Ok(HttpLedger {
            bank,
            base,
            http,
            bearer,
            timeout,
            places: tokio::sync::Semaphore::new(config.max_concurrent),
            breaker: Breaker::new(config.breaker_failures, Duration::from_secs(config.breaker_open_secs)),
            metrics,
            psus: cache.map(Ttl::bounded),
            accounts: cache.map(Ttl::bounded),
            balances: cache.map(Ttl::bounded),
        })
    }

    /// `<base>/v1/banks/<bank>/<segments...>`, each segment percent-encoded.
    fn url(&self, segments: &[&str]) -> url::Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().push(VERSION).push("banks").push(self.bank.as_str()).extend(segments);
        }
        url
    }

    /// Sends one call and reads its answer: `Ok(None)` for a 404 when `absent` allows it.
    async fn call<T: DeserializeOwned>(
        &self,
        operation: &'static str,
        request: reqwest::RequestBuilder,
        absent: bool,
    ) -> Result<Option<T>, LedgerError> {
        let bank = self.bank.as_str();
        if let Permit::Refused(wait) = self.breaker.permit(Instant::now()) {
            self.metrics.core_banking_call(bank, operation, "circuit_open", None);
            return Err(LedgerError::Unavailable(format!(
                "core-banking adapter of {bank}: circuit open ({} s left), {operation} not called",
                wait.as_secs()
            )));
        }
        let Ok(Ok(_place)) = tokio::time::timeout(self.timeout, self.places.acquire()).await else {
            self.metrics.core_banking_call(bank, operation, "busy", None);
            return Err(LedgerError::Unavailable(format!(
                "core-banking adapter of {bank}: every place is taken, {operation} not called"
            )));
        };
        let request = match &self.bearer {
            Some(token) => request.bearer_auth(token),
            None => request,
        };
        let started = Instant::now();
        let outcome = self.exchange(request, absent).await;
        let elapsed = Some(started.elapsed());
        match outcome {
            Ok(answer) => {
                self.breaker.succeeded();
                let outcome = if answer.is_some() { "ok" } else { "not_found" };
                self.metrics.core_banking_call(bank, operation, outcome, elapsed);
                Ok(answer)
            }
            Err(why) => {
                self.metrics.core_banking_call(bank, operation, "failed", elapsed);
                if self.breaker.failed(Instant::now()) {
                    tracing::error!(
                        bank,
                        operation,
                        "core-banking adapter failing: circuit opened, calls refused for a while"
                    );
                }
                Err(LedgerError::Unavailable(format!("core-banking adapter of {bank}, {operation}: {why}")))
            }
        }
    }

    /// The call and its answer, or why there is none (no URL, no body, no personal data).
    async fn exchange<T: DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
        absent: bool,
    ) -> Result<Option<T>, String> {
        let mut response = request
            .header("accept", "application/json")
            .send()
            .await
            .map_err(|e| format!("not reached: {}", e.without_url()))?;
        let status = response.status();
        if status == reqwest::StatusCode::NOT_FOUND && absent {
            return Ok(None);
        }
        if status != reqwest::StatusCode::OK {
            return Err(format!("answered {status}"));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| format!("answer cut: {}", e.without_url()))? {
            if body.len() + chunk.len() > MAX_ANSWER_BYTES {
                return Err(format!("answer over {MAX_ANSWER_BYTES} bytes"));
            }
            body.extend_from_slice(&chunk);
        }
        // serde's message may quote a value (a name, an IBAN): only its place is kept.
        serde_json::from_slice(&body).map(Some).map_err(|e| {
            format!(
                "answer does not follow the contract ({:?} error at line {} column {})",
                e.classify(),
                e.line(),
                e.column()
            )
        })
    }

    /// An answer that passed the contract's shape but not its rules.
    fn malformed(&self, operation: &'static str, why: &str) -> LedgerError {
        self.metrics.core_banking_call(self.bank.as_str(), operation, "failed", None);
        self.breaker.failed(Instant::now());
        LedgerError::Unavailable(format!("core-banking adapter of {}, {operation}: {why}", self.bank))
    }

    /// The bank of a call must be this connector's (`Routed` sends it only its own).
    fn check_bank(&self, bank: BankCode) -> Result<(), LedgerError> {
        if bank == self.bank {
            Ok(())
        } else {
            Err(LedgerError::Unavailable(format!("core-banking adapter of {} asked about bank {bank}", self.bank)))
        }
    }

    async fn fetch_balances(
        &self,
        ids: &[ResourceId],
        today: Date,
    ) -> Result<Vec<(ResourceId, Balances)>, LedgerError> {
        let mut found = Vec::with_capacity(ids.len());
        for batch in ids.chunks(MAX_BALANCE_ACCOUNTS) {
            let query = BalancesQuery { accounts: batch.to_vec(), date: today };
            let request = self.http.post(self.url(&["balances"])).json(&query);
            let list: BalanceList =
                self.call("balances", request, false).await?.unwrap_or(BalanceList { balances: Vec::new() });
            for body in list.balances {
                let (id, balances) = body.into_balances().map_err(|why| self.malformed("balances", &why))?;
                if !batch.contains(&id) {
                    return Err(self.malformed("balances", "an account that was not asked for"));
                }
                found.push((id, balances));
            }
        }
        Ok(found)
    }
}

#[async_trait]
impl Ledger for HttpLedger {
    async fn psu(&self, bank: BankCode, psu: &PsuId) -> Result<Option<Psu>, LedgerError> {
        self.check_bank(bank)?;
        if let Some(hit) = self.psus.as_ref().and_then(|c| c.get(psu)) {
            return Ok(hit);
        }
        let request = self.http.get(self.url(&["psus", psu.as_str()]));
        let found = match self.call::<PsuBody>("psu", request, true).await? {
            Some(body) => Some(body.into_psu(bank, psu).map_err(|why| self.malformed("psu", &why))?),
            None => None,
        };
        if let Some(cache) = &self.psus {
            cache.put(psu.clone(), found.clone());
        }
        Ok(found)
    }

    async fn psu_accounts(&self, bank: BankCode, psu: &PsuId) -> Result<Vec<HeldAccount>, LedgerError> {
        self.check_bank(bank)?;
        if let Some(hit) = self.accounts.as_ref().and_then(|c| c.get(psu)) {
            return Ok(hit);
        }
        let request = self.http.get(self.url(&["psus", psu.as_str(), "accounts"]));
        let list: AccountList =
            self.call("accounts", request, false).await?.unwrap_or(AccountList { accounts: Vec::new() });
        let held: Vec<HeldAccount> = list.accounts.into_iter().map(|a| a.into_held(bank)).collect();
        if let Some(cache) = &self.accounts {
            cache.put(psu.clone(), held.clone());
        }
        Ok(held)
    }

    async fn balances(
        &self,
        bank: BankCode,
        ids: &[ResourceId],
        today: Date,
    ) -> Result<Vec<(ResourceId, Balances)>, LedgerError> {
        self.check_bank(bank)?;
        let Some(cache) = &self.balances else { return self.fetch_balances(ids, today).await };
        let mut found = Vec::with_capacity(ids.len());
        let mut missing = Vec::new();
        for id in ids {
            match cache.get(&(id.clone(), today)) {
                Some(b) => found.push((id.clone(), b)),
                None => missing.push(id.clone()),
            }
        }
        if !missing.is_empty() {
            for (id, b) in self.fetch_balances(&missing, today).await? {
                cache.put((id.clone(), today), b);
                found.push((id, b));
            }
        }
        // In the order asked, as the SQL ledger answers.
        found.sort_by_key(|(id, _)| ids.iter().position(|asked| asked == id));
        Ok(found)
    }

    async fn transactions(
        &self,
        bank: BankCode,
        id: &ResourceId,
        window: DateWindow,
    ) -> Result<Vec<Transaction>, LedgerError> {
        self.check_bank(bank)?;
        let mut url = self.url(&["accounts", id.as_str(), "transactions"]);
        url.query_pairs_mut().append_pair("from", &window.from.to_string()).append_pair("to", &window.to.to_string());
        let list: TransactionList = self
            .call("transactions", self.http.get(url), false)
            .await?
            .unwrap_or(TransactionList { transactions: Vec::new() });
        let mut transactions = Vec::with_capacity(list.transactions.len());
        for body in list.transactions {
            let t = body.into_transaction().map_err(|why| self.malformed("transactions", &why))?;
            if t.transaction_date < window.from || t.transaction_date >= window.to {
                return Err(self.malformed("transactions", "an operation outside the asked window"));
            }
            transactions.push(t);
        }
        Ok(transactions)
    }

    async fn overdraft(&self, bank: BankCode, id: &ResourceId) -> Result<Option<Amount>, LedgerError> {
        self.check_bank(bank)?;
        let request = self.http.get(self.url(&["accounts", id.as_str(), "overdraft"]));
        let answer: Option<OverdraftBody> = self.call("overdraft", request, true).await?;
        match answer {
            Some(body) if body.overdraft.value.is_sign_negative() && !body.overdraft.value.is_zero() => {
                Err(self.malformed("overdraft", "a negative overdraft"))
            }
            Some(body) => Ok(Some(body.overdraft)),
            None => Ok(None),
        }
    }
}
