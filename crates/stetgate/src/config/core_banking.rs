//! `[core_banking."<bank code>"]`: a bank whose accounts stetgate reads from the bank's own
//! core-banking adapter over HTTPS (`core_banking::client`), instead of the built-in SQL ledger.
//!
//! ```toml
//! [core_banking."13807"]
//! url = "https://core.bank.example/stetgate"   # the contract's base (docs/core-banking.md)
//! ca = "/etc/stetgate/core-ca.pem"             # roots for the adapter's certificate (else the system's)
//! client_cert = "/etc/stetgate/core-client.pem" # mutual TLS, and/or:
//! client_key = "/etc/stetgate/core-client.key"
//! bearer_token_file = "/etc/stetgate/core.token"
//! timeout_secs = 3                              # per call, connection included
//! max_concurrent = 32                           # calls in flight to this adapter from one node
//! breaker_failures = 5                          # consecutive failures that open the circuit
//! breaker_open_secs = 30                        # how long calls fail fast before one is tried again
//! cache_secs = 0                                # 0: no cache; up to 30: PSUs, accounts, balances
//!
//! [core_banking."13807".payments]               # optional: the adapter is the bank's payment hub too
//! format = "json"                               # or "pain.001" (pain.001.001.09 XML)
//! callback_hmac_key_file = "/etc/stetgate/hub-callback.key"  # the hub signs its status callbacks
//! ```

use super::{ConfigError, readable, readable_files};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CoreBankingConfig {
    pub url: String,
    #[serde(default)]
    pub ca: Option<PathBuf>,
    #[serde(default)]
    pub client_cert: Option<PathBuf>,
    #[serde(default)]
    pub client_key: Option<PathBuf>,
    #[serde(default)]
    pub bearer_token_file: Option<PathBuf>,
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: u64,
    #[serde(default = "default_max_concurrent")]
    pub max_concurrent: usize,
    #[serde(default = "default_breaker_failures")]
    pub breaker_failures: u32,
    #[serde(default = "default_breaker_open_secs")]
    pub breaker_open_secs: u64,
    #[serde(default)]
    pub cache_secs: u64,
    /// The adapter executes approved payments too (else the built-in SQL ledger's hub does).
    #[serde(default)]
    pub payments: Option<PaymentHubConfig>,
}

/// `[core_banking."<bank>".payments]`: payment execution through the adapter.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentHubConfig {
    #[serde(default)]
    pub format: HubFormat,
    /// The key the hub signs its status callbacks with (HMAC-SHA256); the file's bytes, a final
    /// line break left out.
    pub callback_hmac_key_file: PathBuf,
}

/// What a transfer is submitted as.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum HubFormat {
    /// The contract's `PaymentOrder` (pain.001's fields as JSON).
    #[default]
    #[serde(rename = "json")]
    Json,
    /// An ISO 20022 pain.001.001.09 `CstmrCdtTrfInitn` document.
    #[serde(rename = "pain.001")]
    Pain001,
}

fn default_timeout_secs() -> u64 {
    3
}
fn default_max_concurrent() -> usize {
    32
}
fn default_breaker_failures() -> u32 {
    5
}
fn default_breaker_open_secs() -> u64 {
    30
}

/// The longest a cached answer may be served: what the operator guide promises as the bound.
pub const MAX_CACHE_SECS: u64 = 30;

impl CoreBankingConfig {
    /// The defaults around `url`, no authentication configured (tests).
    pub fn example(url: &str) -> CoreBankingConfig {
        CoreBankingConfig {
            url: url.to_owned(),
            ca: None,
            client_cert: None,
            client_key: None,
            bearer_token_file: None,
            timeout_secs: default_timeout_secs(),
            max_concurrent: default_max_concurrent(),
            breaker_failures: default_breaker_failures(),
            breaker_open_secs: default_breaker_open_secs(),
            cache_secs: 0,
            payments: None,
        }
    }

    /// What start-up refuses: no https URL, values out of range, no way to authenticate to the
    /// adapter, a half-configured client certificate, unreadable files.
    pub(super) fn check(&self, file: Option<&Path>, key: &str) -> Result<(), ConfigError> {
        let at = |name: &str| format!("{key}.{name}");
        if !self.url.starts_with("https://") || url::Url::parse(&self.url).is_err() {
            return Err(ConfigError::key(file, &at("url"), "must be an https:// URL"));
        }
        if !(1..=60).contains(&self.timeout_secs) {
            return Err(ConfigError::key(file, &at("timeout_secs"), "must be 1 to 60 seconds"));
        }
        if !(1..=1024).contains(&self.max_concurrent) {
            return Err(ConfigError::key(file, &at("max_concurrent"), "must be 1 to 1024 calls"));
        }
        if !(1..=100).contains(&self.breaker_failures) || !(1..=600).contains(&self.breaker_open_secs) {
            return Err(ConfigError::key(
                file,
                &at("breaker_failures"),
                "must be 1 to 100 failures, with breaker_open_secs 1 to 600 seconds",
            ));
        }
        if self.cache_secs > MAX_CACHE_SECS {
            return Err(ConfigError::key(
                file,
                &at("cache_secs"),
                format!("must be 0 (no cache) to {MAX_CACHE_SECS} seconds: a PSU must see their money as it is"),
            ));
        }
        if self.client_cert.is_some() != self.client_key.is_some() {
            return Err(ConfigError::key(file, &at("client_cert"), "and client_key go together (mutual TLS)"));
        }
        if self.bearer_token_file.is_none() && self.client_cert.is_none() {
            return Err(ConfigError::key(
                file,
                key,
                "needs client_cert and client_key, or bearer_token_file: the adapter must know the call is stetgate's",
            ));
        }
        if let Some(payments) = &self.payments {
            readable(file, &at("payments.callback_hmac_key_file"), &payments.callback_hmac_key_file)?;
        }
        let files = [
            ("ca", &self.ca),
            ("client_cert", &self.client_cert),
            ("client_key", &self.client_key),
            ("bearer_token_file", &self.bearer_token_file),
        ];
        readable_files(file, key, &files)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(config: &CoreBankingConfig) -> String {
        let error = config.check(None, "core_banking.\"13807\"").unwrap_err();
        format!("{} {}", error.key.unwrap_or_default(), error.problem)
    }

    #[test]
    fn start_up_refuses_an_incomplete_connector() {
        let dir = tempfile::tempdir().unwrap();
        let token = dir.path().join("token");
        std::fs::write(&token, "t").unwrap();
        let base = CoreBankingConfig {
            bearer_token_file: Some(token),
            ..CoreBankingConfig::example("https://core.example/stetgate")
        };
        assert!(base.check(None, "k").is_ok());
        let anonymous = CoreBankingConfig { bearer_token_file: None, ..base.clone() };
        assert!(refused(&anonymous).contains("needs client_cert and client_key, or bearer_token_file"));
        let plain = CoreBankingConfig { url: "http://core.example".into(), ..base.clone() };
        assert!(refused(&plain).contains("url must be an https"));
        let half = CoreBankingConfig { client_key: Some(dir.path().join("k.pem")), ..base.clone() };
        assert!(refused(&half).contains("client_key go together"));
        let stale = CoreBankingConfig { cache_secs: 300, ..base.clone() };
        assert!(refused(&stale).contains("cache_secs"));
        let unbounded = CoreBankingConfig { max_concurrent: 0, ..base.clone() };
        assert!(refused(&unbounded).contains("max_concurrent"));
        let missing = CoreBankingConfig { ca: Some(dir.path().join("nope.pem")), ..base };
        assert!(refused(&missing).contains("ca"));
    }
}
