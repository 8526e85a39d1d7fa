//! `[oidc."<bank code>"]`: a bank whose PSUs authenticate at the bank's own OpenID provider
//! (`psu::oidc`), stetgate being its relying party (OpenID Connect Core 1.0 section 3.1, RFC 7636
//! PKCE, RFC 7523 `private_key_jwt`, RFC 9396 `authorization_details` for payments).
//!
//! ```toml
//! [oidc."13807"]
//! issuer = "https://idp.bank.example"            # its /.well-known/openid-configuration is read
//! client_id = "stetgate"
//! client_auth = "private_key_jwt"                # or client_secret_basic (default), client_secret_post
//! private_key_file = "/etc/stetgate/idp-client.key"   # PKCS#8 PEM, P-256 (ES256) or RSA (RS256)
//! private_key_id = "stetgate-2026"               # the `kid` the provider knows the key by
//! # client_secret_file = "/etc/stetgate/idp-client-secret"   # for the client_secret_* methods
//! sca_acr_values = ["urn:bank:loa:sca"]          # the acr values that are a strong authentication
//! psu_id_claim = "online_banking_id"             # the ID-token claim naming the PSU in the ledger
//! scopes = ["openid", "psu"]                     # openid is required
//! authorization_details_type = "payment_initiation"   # RFC 9396 type for payments (none: no payments)
//! redirect_uri = "https://www.13807.api.bank.example/psu/oidc/callback"   # default: from the Host
//! ca = "/etc/stetgate/idp-ca.pem"                # roots for the provider's certificate (else the system's)
//! timeout_secs = 5
//! clock_skew_secs = 60                           # leeway on exp, iat and auth_time
//! ```

use super::{ConfigError, readable_files};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// How stetgate authenticates to the provider's token endpoint (OpenID Connect Core section 9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OidcClientAuth {
    /// HTTP Basic with the client secret (RFC 6749 section 2.3.1).
    #[default]
    ClientSecretBasic,
    /// The client secret in the form body.
    ClientSecretPost,
    /// A JWT signed with stetgate's private key (RFC 7523 section 2.2).
    PrivateKeyJwt,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcConfig {
    pub issuer: String,
    pub client_id: String,
    #[serde(default)]
    pub client_auth: OidcClientAuth,
    #[serde(default)]
    pub client_secret_file: Option<PathBuf>,
    #[serde(default)]
    pub private_key_file: Option<PathBuf>,
    #[serde(default)]
    pub private_key_id: Option<String>,
    pub sca_acr_values: Vec<String>,
    pub psu_id_claim: String,
    #[serde(default = "openid")]
    pub scopes: Vec<String>,
    #[serde(default)]
    pub authorization_details_type: Option<String>,
    #[serde(default)]
    pub redirect_uri: Option<String>,
    #[serde(default)]
    pub ca: Option<PathBuf>,
    #[serde(default = "five")]
    pub timeout_secs: u64,
    #[serde(default = "sixty")]
    pub clock_skew_secs: u64,
}

fn openid() -> Vec<String> {
    vec!["openid".to_owned()]
}
fn five() -> u64 {
    5
}
fn sixty() -> u64 {
    60
}

/// The callback every provider sends the PSU back to, on the bank's host.
pub const OIDC_CALLBACK_PATH: &str = "/psu/oidc/callback";

impl OidcConfig {
    /// A client of `issuer` authenticated by the secret in `secret_file`, the defaults elsewhere
    /// (tests).
    pub fn example(issuer: &str, secret_file: PathBuf) -> OidcConfig {
        OidcConfig {
            issuer: issuer.to_owned(),
            client_id: "stetgate".to_owned(),
            client_auth: OidcClientAuth::ClientSecretBasic,
            client_secret_file: Some(secret_file),
            private_key_file: None,
            private_key_id: None,
            sca_acr_values: vec!["urn:bank:loa:sca".to_owned()],
            psu_id_claim: "online_banking_id".to_owned(),
            scopes: openid(),
            authorization_details_type: None,
            redirect_uri: None,
            ca: None,
            timeout_secs: five(),
            clock_skew_secs: sixty(),
        }
    }

    /// What start-up refuses: an issuer or redirect URI that is not https, no strong-authentication
    /// acr, no claim for the PSU, no `openid` scope, a client authentication without its secret or
    /// key (or with both), values out of range, unreadable files.
    pub(super) fn check(&self, file: Option<&Path>, key: &str) -> Result<(), ConfigError> {
        let at = |name: &str| format!("{key}.{name}");
        let refuse = |name: &str, problem: &str| Err(ConfigError::key(file, &at(name), problem));
        let url = url::Url::parse(&self.issuer).ok();
        if !url.as_ref().is_some_and(|u| u.scheme() == "https" && u.query().is_none() && u.fragment().is_none()) {
            return refuse(
                "issuer",
                "must be an https:// URL without query or fragment (OpenID Connect Discovery 1.0 section 2)",
            );
        }
        if self.client_id.trim().is_empty() {
            return refuse("client_id", "must name stetgate's client at the provider");
        }
        if self.sca_acr_values.is_empty() || self.sca_acr_values.iter().any(|v| v.trim().is_empty()) {
            // A blank entry would let an ID token without a real acr pass as strong.
            return refuse(
                "sca_acr_values",
                "must list the acr values the bank accepts as strong customer authentication, none blank",
            );
        }
        if self.psu_id_claim.trim().is_empty() {
            return refuse("psu_id_claim", "must name the ID-token claim that carries the PSU's online-banking id");
        }
        if !self.scopes.iter().any(|s| s == "openid") {
            return refuse("scopes", "must include openid");
        }
        if self.redirect_uri.as_ref().is_some_and(|u| !u.starts_with("https://")) {
            return refuse("redirect_uri", "must be an https:// URL (the bank's host, path /psu/oidc/callback)");
        }
        if !(1..=60).contains(&self.timeout_secs) {
            return refuse("timeout_secs", "must be 1 to 60 seconds");
        }
        if self.clock_skew_secs > 300 {
            return refuse("clock_skew_secs", "must be at most 300 seconds");
        }
        self.check_client_auth(file, key)?;
        let files = [
            ("ca", &self.ca),
            ("client_secret_file", &self.client_secret_file),
            ("private_key_file", &self.private_key_file),
        ];
        readable_files(file, key, &files)
    }

    fn check_client_auth(&self, file: Option<&Path>, key: &str) -> Result<(), ConfigError> {
        let at = |name: &str| format!("{key}.{name}");
        match self.client_auth {
            OidcClientAuth::ClientSecretBasic | OidcClientAuth::ClientSecretPost => {
                if self.client_secret_file.is_none() {
                    return Err(ConfigError::key(
                        file,
                        &at("client_secret_file"),
                        "is required by client_auth client_secret_basic or client_secret_post",
                    ));
                }
                if self.private_key_file.is_some() {
                    return Err(ConfigError::key(
                        file,
                        &at("private_key_file"),
                        "is used only with client_auth = \"private_key_jwt\"",
                    ));
                }
            }
            OidcClientAuth::PrivateKeyJwt => {
                if self.private_key_file.is_none() {
                    return Err(ConfigError::key(
                        file,
                        &at("private_key_file"),
                        "is required by client_auth private_key_jwt (a PKCS#8 PEM key)",
                    ));
                }
                if self.client_secret_file.is_some() {
                    return Err(ConfigError::key(
                        file,
                        &at("client_secret_file"),
                        "is not used with client_auth = \"private_key_jwt\"",
                    ));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(config: &OidcConfig) -> String {
        let error = config.check(None, "oidc.\"13807\"").unwrap_err();
        format!("{} {}", error.key.unwrap_or_default(), error.problem)
    }

    #[test]
    fn start_up_refuses_an_incomplete_provider() {
        let dir = tempfile::tempdir().unwrap();
        let secret = dir.path().join("secret");
        std::fs::write(&secret, "s3cret").unwrap();
        let base = OidcConfig::example("https://idp.bank.example", secret.clone());
        assert!(base.check(None, "k").is_ok(), "{:?}", base.check(None, "k"));
        let plain = OidcConfig { issuer: "http://idp.bank.example".into(), ..base.clone() };
        assert!(refused(&plain).contains("issuer must be an https"));
        let no_acr = OidcConfig { sca_acr_values: vec![], ..base.clone() };
        assert!(refused(&no_acr).contains("sca_acr_values"));
        let blank_acr = OidcConfig { sca_acr_values: vec![String::new(), "urn:bank:loa:sca".into()], ..base.clone() };
        assert!(refused(&blank_acr).contains("none blank"));
        let no_claim = OidcConfig { psu_id_claim: " ".into(), ..base.clone() };
        assert!(refused(&no_claim).contains("psu_id_claim"));
        let no_openid = OidcConfig { scopes: vec!["psu".into()], ..base.clone() };
        assert!(refused(&no_openid).contains("scopes must include openid"));
        let no_secret = OidcConfig { client_secret_file: None, ..base.clone() };
        assert!(refused(&no_secret).contains("client_secret_file is required"));
        let no_key = OidcConfig { client_auth: OidcClientAuth::PrivateKeyJwt, ..base.clone() };
        assert!(refused(&no_key).contains("private_key_file is required"), "{}", refused(&no_key));
        let both = OidcConfig {
            client_auth: OidcClientAuth::PrivateKeyJwt,
            private_key_file: Some(secret.clone()),
            ..base.clone()
        };
        assert!(refused(&both).contains("client_secret_file is not used"));
        let missing = OidcConfig { client_secret_file: Some(dir.path().join("nope")), ..base.clone() };
        assert!(refused(&missing).contains("client_secret_file"));
        let slow = OidcConfig { timeout_secs: 0, ..base.clone() };
        assert!(refused(&slow).contains("timeout_secs"));
        let redirect =
            OidcConfig { redirect_uri: Some("http://www.13807.bank.example/psu/oidc/callback".into()), ..base };
        assert!(refused(&redirect).contains("redirect_uri"));
    }
}
