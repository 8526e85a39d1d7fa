//! `[otp_gateway."<bank code>"]`: a bank whose PSUs authenticate with one-time codes that
//! stetgate draws and the bank's messaging gateway delivers (`psu::gateway`).
//!
//! ```toml
//! [otp_gateway."13807"]
//! url = "https://sms.bank.example/v1/messages"   # POST, JSON body (docs/operator-guide.md)
//! channel = "sms"                                # to the PSU's phone in the ledger ("email": address)
//! code_length = 8                                # 6 to 10 digits
//! code_lifetime_secs = 300                       # 60 to 900
//! timeout_secs = 5                               # per attempt
//! retries = 2                                    # after a timeout, 408, 429 or 5xx
//! ca = "/etc/stetgate/sms-gateway-ca.pem"        # roots for the gateway's certificate (else the system's)
//! hmac_key_file = "/etc/stetgate/sms-hmac.key"   # and/or mutual TLS:
//! client_cert = "/etc/stetgate/sms-client.pem"
//! client_key = "/etc/stetgate/sms-client.key"
//! ```

use super::{ConfigError, readable_files};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// How the code travels: by SMS to the PSU's phone in the ledger, or by e-mail to the PSU's
/// address in the ledger; the pages name the channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OtpChannel {
    Sms,
    Email,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OtpGatewayConfig {
    pub url: String,
    #[serde(default = "sms")]
    pub channel: OtpChannel,
    #[serde(default = "eight")]
    pub code_length: u32,
    #[serde(default = "five_minutes")]
    pub code_lifetime_secs: u64,
    #[serde(default = "five")]
    pub timeout_secs: u64,
    #[serde(default = "two")]
    pub retries: u32,
    #[serde(default)]
    pub ca: Option<PathBuf>,
    #[serde(default)]
    pub hmac_key_file: Option<PathBuf>,
    #[serde(default)]
    pub client_cert: Option<PathBuf>,
    #[serde(default)]
    pub client_key: Option<PathBuf>,
}

fn sms() -> OtpChannel {
    OtpChannel::Sms
}
fn eight() -> u32 {
    8
}
fn five_minutes() -> u64 {
    300
}
fn five() -> u64 {
    5
}
fn two() -> u32 {
    2
}

impl OtpGatewayConfig {
    /// The defaults around `url`, no authentication configured (tests).
    pub fn example(url: &str) -> OtpGatewayConfig {
        OtpGatewayConfig {
            url: url.to_owned(),
            channel: sms(),
            code_length: eight(),
            code_lifetime_secs: five_minutes(),
            timeout_secs: five(),
            retries: two(),
            ca: None,
            hmac_key_file: None,
            client_cert: None,
            client_key: None,
        }
    }

    /// What start-up refuses: no https URL, values out of range, no way to authenticate to the
    /// gateway, a half-configured client certificate, unreadable files.
    pub(super) fn check(&self, file: Option<&Path>, key: &str) -> Result<(), ConfigError> {
        let at = |name: &str| format!("{key}.{name}");
        if !self.url.starts_with("https://") {
            return Err(ConfigError::key(file, &at("url"), "must be an https:// URL"));
        }
        if !(6..=10).contains(&self.code_length) {
            return Err(ConfigError::key(file, &at("code_length"), "must be 6 to 10 digits"));
        }
        if !(60..=900).contains(&self.code_lifetime_secs) {
            return Err(ConfigError::key(file, &at("code_lifetime_secs"), "must be 60 to 900 seconds"));
        }
        if !(1..=60).contains(&self.timeout_secs) || self.retries > 5 {
            return Err(ConfigError::key(file, &at("timeout_secs"), "must be 1 to 60 seconds, with at most 5 retries"));
        }
        if self.client_cert.is_some() != self.client_key.is_some() {
            return Err(ConfigError::key(file, &at("client_cert"), "and client_key go together (mutual TLS)"));
        }
        if self.hmac_key_file.is_none() && self.client_cert.is_none() {
            return Err(ConfigError::key(
                file,
                key,
                "needs hmac_key_file or client_cert and client_key: the gateway must know the call is the bank's",
            ));
        }
        let files = [
            ("ca", &self.ca),
            ("hmac_key_file", &self.hmac_key_file),
            ("client_cert", &self.client_cert),
            ("client_key", &self.client_key),
        ];
        readable_files(file, key, &files)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(config: &OtpGatewayConfig) -> String {
        let error = config.check(None, "otp_gateway.\"13807\"").unwrap_err();
        format!("{} {}", error.key.unwrap_or_default(), error.problem)
    }

    #[test]
    fn start_up_refuses_an_incomplete_gateway() {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("hmac.key");
        std::fs::write(&key, "k").unwrap();
        let base =
            OtpGatewayConfig { hmac_key_file: Some(key), ..OtpGatewayConfig::example("https://gw.example/send") };
        assert!(base.check(None, "k").is_ok());
        let unauthenticated = OtpGatewayConfig { hmac_key_file: None, ..base.clone() };
        assert!(refused(&unauthenticated).contains("needs hmac_key_file or client_cert"));
        let plain = OtpGatewayConfig { url: "http://gw.example/send".into(), ..base.clone() };
        assert!(refused(&plain).contains("url must be an https"));
        let half = OtpGatewayConfig { client_cert: Some(dir.path().join("c.pem")), ..base.clone() };
        assert!(refused(&half).contains("client_key go together"));
        let short = OtpGatewayConfig { code_length: 4, ..base.clone() };
        assert!(refused(&short).contains("code_length"));
        let missing = OtpGatewayConfig { ca: Some(dir.path().join("nope.pem")), ..base };
        assert!(refused(&missing).contains("ca"));
    }
}
