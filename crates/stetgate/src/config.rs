//! Typed configuration: defaults, then a TOML file (`--config`), then `STETGATE_*` environment
//! variables (nested keys with `__`, e.g. `STETGATE_TLS__CERT`), then command-line flags.
//!
//! Every problem is reported as a [`ConfigError`] naming the key and where it came from, so an
//! operator never has to guess which line of which file to fix. `main` turns it into exit code 2.

mod core_banking;
mod oidc;
mod otp_gateway;
mod revocation;
mod trusted_proxy;
pub use core_banking::{CoreBankingConfig, HubFormat, MAX_CACHE_SECS, PaymentHubConfig};
pub use oidc::{OIDC_CALLBACK_PATH, OidcClientAuth, OidcConfig};
pub use otp_gateway::{OtpChannel, OtpGatewayConfig};
pub use revocation::{AnchorRevocation, RevocationConfig, RevocationMode};
pub use trusted_proxy::{Cidr, ForwardedFormat, TrustedProxyConfig};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use jiff::SignedDuration;
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use stet::{ApiVersion, BankCode};

/// How stetgate runs: the self-contained sandbox, or production on the bank's own data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Sandbox,
    Production,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Address of the HTTPS listener.
    pub listen: SocketAddr,
    /// Sandbox: where the SQLite database and the sandbox PKI live.
    pub data_dir: PathBuf,
    /// `sqlite://...` or `postgres://...`; in the sandbox, defaults to a SQLite file in `data_dir`.
    pub database_url: Option<DatabaseUrl>,
    /// The bank answering on hosts that carry no `www.<bankcode>.` label.
    #[serde(deserialize_with = "bank_code_text_or_number")]
    pub default_bank: BankCode,
    /// The TLS server certificate (chain) and key; in the sandbox, defaults to the sandbox PKI's.
    pub tls: Option<TlsFiles>,
    /// PEM bundles of the QTSP roots TPP certificates must chain to (the sandbox CA is added in
    /// sandbox mode).
    pub trust_anchors: Vec<PathBuf>,
    /// Production: the banks (ASPSPs) this deployment serves. The sandbox serves every bank code
    /// of the published sandbox.
    pub banks: Vec<BankEntry>,
    /// Who may register through `POST /stet/psd2/oauth/register`.
    pub registration: RegistrationConfig,
    /// Lifetimes of the authorization server.
    pub oauth: OAuthConfig,
    /// Per-bank limits on funds-confirmation requests per TPP (none by default).
    pub funds_rate_limits: Vec<FundsRateLimit>,
    /// `[[maintenance]]`: planned maintenance windows (Paris time).
    pub maintenance: Vec<MaintenanceWindow>,
    /// `[app2app."17515"]`...: the bank's mobile apps that may claim the authorize URL.
    pub app2app: BTreeMap<BankCode, App2AppConfig>,
    /// `[otp_gateway."13807"]`...: banks whose PSUs get one-time codes through the bank's messaging
    /// gateway. In production a bank without one cannot authenticate PSUs; in the sandbox it
    /// replaces the published code `12345678` for that bank.
    pub otp_gateway: BTreeMap<BankCode, OtpGatewayConfig>,
    /// `[oidc."13807"]`...: banks whose PSUs authenticate at the bank's own OpenID provider, stetgate
    /// being its relying party. A bank has this or `[otp_gateway]`, not both.
    pub oidc: BTreeMap<BankCode, OidcConfig>,
    /// `[trusted_proxy]`: the client certificate comes in a header from the bank's gateway, and
    /// only from its addresses.
    pub trusted_proxy: Option<TrustedProxyConfig>,
    /// `[revocation]`: CRL and OCSP checks of TPP certificates, hard- or soft-fail per anchor.
    pub revocation: RevocationConfig,
    /// `[core_banking."13807"]`...: banks whose accounts come from the bank's core-banking adapter
    /// over HTTPS instead of the built-in SQL ledger.
    pub core_banking: BTreeMap<BankCode, CoreBankingConfig>,
    /// `[api_versions."v1"]`...: deprecation and sunset of API versions (RFC 8594).
    pub api_versions: BTreeMap<ApiVersion, VersionLifecycle>,
    /// `[fallback]`: contingency access through online banking (RTS art. 33).
    pub fallback: FallbackConfig,
    /// `[statistics]`: the request records behind the RTS art. 32 statistics.
    pub statistics: StatisticsConfig,
    pub log_format: LogFormat,
    /// A `tracing` filter, e.g. `info` or `stetgate=debug,info`.
    pub log_level: String,
    /// How long in-flight requests may run after SIGTERM/SIGINT before the process exits anyway.
    pub shutdown_grace_secs: u64,
    /// A request (headers and body) that takes longer than this is answered 408.
    pub request_timeout_secs: u64,
    /// Largest request body accepted (413 above it).
    pub max_body_bytes: usize,
    /// When a request signs its `Date` header, how far it may be from the bank's clock.
    pub signature_max_date_skew_secs: i64,
    /// How often a node deletes expired flows, codes, token pairs and counters.
    pub purge_interval_secs: u64,
    /// `[connections]`: caps and timeouts of the HTTPS listener's connections.
    pub connections: ConnectionLimits,
    /// `[payments]`: payment initiation.
    pub payments: PaymentsConfig,
    /// Serve `/metrics` on this address (plain HTTP, for an internal network) instead of on the
    /// public HTTPS listener.
    pub metrics_listen: Option<SocketAddr>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8443)),
            data_dir: PathBuf::from("stetgate-data"),
            database_url: None,
            default_bank: BankCode::parse("17515").unwrap_or_else(|_| unreachable!("literal bank code")),
            tls: None,
            trust_anchors: Vec::new(),
            banks: Vec::new(),
            registration: RegistrationConfig::default(),
            oauth: OAuthConfig::default(),
            funds_rate_limits: Vec::new(),
            api_versions: BTreeMap::new(),
            app2app: BTreeMap::new(),
            otp_gateway: BTreeMap::new(),
            oidc: BTreeMap::new(),
            trusted_proxy: None,
            revocation: RevocationConfig::default(),
            core_banking: BTreeMap::new(),
            maintenance: Vec::new(),
            fallback: FallbackConfig::default(),
            statistics: StatisticsConfig::default(),
            log_format: LogFormat::Auto,
            log_level: "info".to_owned(),
            shutdown_grace_secs: 30,
            request_timeout_secs: 30,
            max_body_bytes: 1024 * 1024,
            signature_max_date_skew_secs: 300,
            purge_interval_secs: 3600,
            connections: ConnectionLimits::default(),
            payments: PaymentsConfig::default(),
            metrics_listen: None,
        }
    }
}

/// `[payments]`: payment initiation.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PaymentsConfig {
    /// How long a payment request waits for the PSU's decision before it is rejected (NOAS).
    pub approval_lifetime_secs: i64,
    /// How often each node executes due payments and rejects unanswered ones.
    pub scheduler_interval_secs: u64,
}

impl Default for PaymentsConfig {
    fn default() -> Self {
        PaymentsConfig { approval_lifetime_secs: 900, scheduler_interval_secs: 30 }
    }
}

impl PaymentsConfig {
    pub fn approval_lifetime(&self) -> jiff::SignedDuration {
        jiff::SignedDuration::from_secs(self.approval_lifetime_secs)
    }
}

/// `[connections]`: what one client may hold of the listener (docs/security.md#limits).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConnectionLimits {
    /// Connections open at once; over it, a new connection is answered 503 and closed.
    pub max: usize,
    /// Connections open at once from one source address.
    pub max_per_address: usize,
    /// Time to complete the TLS handshake.
    pub tls_handshake_timeout_secs: u64,
    /// Time to receive a request's headers (the first request's from the end of the handshake).
    pub header_read_timeout_secs: u64,
    /// A connection with no request in flight for this long is closed.
    pub idle_timeout_secs: u64,
    /// Requests one source address may make per minute to the pages anyone can open without
    /// credentials (the first page of an authorization, the fallback's login page).
    pub pages_per_address_per_minute: u32,
    /// HTTP/2: how often the server pings a connection ...
    pub http2_keep_alive_interval_secs: u64,
    /// ... and how long it waits for the answer before closing it.
    pub http2_keep_alive_timeout_secs: u64,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            max: 4096,
            max_per_address: 512,
            tls_handshake_timeout_secs: 10,
            header_read_timeout_secs: 30,
            idle_timeout_secs: 60,
            pages_per_address_per_minute: 120,
            http2_keep_alive_interval_secs: 30,
            http2_keep_alive_timeout_secs: 20,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsFiles {
    /// PEM: the server certificate followed by its intermediates.
    pub cert: PathBuf,
    /// PEM: the private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BankEntry {
    #[serde(deserialize_with = "bank_code_text_or_number")]
    pub code: BankCode,
    pub name: String,
}

/// `[[funds_rate_limits]]`: at most `requests_per_minute` funds confirmations per TPP at `bank`
/// (429 `TMRQ` above).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FundsRateLimit {
    #[serde(deserialize_with = "bank_code_text_or_number")]
    pub bank: BankCode,
    pub requests_per_minute: i64,
}

/// A weekly planned maintenance window, in Paris time: e.g. the bank's Monday 00:00-06:00.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaintenanceWindow {
    /// The bank it applies to; every bank when absent.
    #[serde(default, deserialize_with = "optional_bank_code")]
    pub bank: Option<BankCode>,
    /// monday, tuesday, ... sunday.
    pub weekday: Day,
    /// "HH:MM", Paris time.
    pub start: ClockTime,
    /// "HH:MM", Paris time, after `start`.
    pub end: ClockTime,
}

fn optional_bank_code<'de, D: Deserializer<'de>>(d: D) -> Result<Option<BankCode>, D::Error> {
    bank_code_text_or_number(d).map(Some)
}

/// A day of the week, written `monday` ... `sunday` (any case).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Day(pub jiff::civil::Weekday);

const DAY_NAMES: [(&str, jiff::civil::Weekday); 7] = {
    use jiff::civil::Weekday::*;
    [
        ("monday", Monday),
        ("tuesday", Tuesday),
        ("wednesday", Wednesday),
        ("thursday", Thursday),
        ("friday", Friday),
        ("saturday", Saturday),
        ("sunday", Sunday),
    ]
};

impl TryFrom<String> for Day {
    type Error = String;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        DAY_NAMES
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(&text))
            .map(|(_, day)| Day(*day))
            .ok_or_else(|| format!("{text:?} is not a weekday (monday ... sunday)"))
    }
}

impl From<Day> for String {
    fn from(day: Day) -> String {
        DAY_NAMES.iter().find(|(_, d)| *d == day.0).map(|(name, _)| (*name).to_owned()).unwrap_or_default()
    }
}

/// A time of day written `HH:MM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ClockTime(pub jiff::civil::Time);

impl TryFrom<String> for ClockTime {
    type Error = String;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        let well_formed = text.len() == 5 && text.as_bytes()[2] == b':';
        well_formed
            .then(|| format!("{text}:00").parse::<jiff::civil::Time>().ok())
            .flatten()
            .map(ClockTime)
            .ok_or_else(|| format!("{text:?} is not a time of day HH:MM"))
    }
}

impl From<ClockTime> for String {
    fn from(time: ClockTime) -> String {
        time.0.strftime("%H:%M").to_string()
    }
}

/// A bank's mobile apps, for App2App redirection: iOS universal links and Android app links that
/// claim `/stet/psd2/oauth/authorize` on the bank's hosts.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct App2AppConfig {
    /// iOS app ids, `<team id>.<bundle id>`.
    pub apple_app_ids: Vec<String>,
    /// Android package name.
    pub android_package: Option<String>,
    /// SHA-256 fingerprints of the Android app's signing certificate (`AA:BB:...`).
    pub android_sha256_fingerprints: Vec<String>,
}

/// The lifecycle of one API version: deprecated since a date, retired (410) from its sunset,
/// replaced by a successor version.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VersionLifecycle {
    /// When the version was (or will be) deprecated, RFC 3339 (e.g. "2026-06-01T00:00:00Z").
    pub deprecated: Option<jiff::Timestamp>,
    /// From this instant the version answers 410.
    pub sunset: Option<jiff::Timestamp>,
    /// The version to use instead, e.g. "v1.6.2".
    pub successor: Option<ApiVersion>,
}

/// When a bank offers the fallback.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FallbackAvailability {
    /// Always, as the bank publishes it (its choice; RTS art. 33 only requires it during outages).
    #[default]
    Always,
    /// Only while the dedicated interface is declared unavailable (`stetgate outage start`) or in a
    /// planned maintenance window.
    WhenUnavailable,
    /// Never (a bank exempted by its competent authority).
    Off,
}

/// The JWS algorithm of fallback JWTs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum JwtAlgorithm {
    #[default]
    RS256,
    PS256,
}

impl JwtAlgorithm {
    pub fn as_str(self) -> &'static str {
        match self {
            JwtAlgorithm::RS256 => "RS256",
            JwtAlgorithm::PS256 => "PS256",
        }
    }
}

/// `[fallback]`: contingency access (RTS art. 33). `POST /stet/psd2/oauth/token` with `fallback: 1`
/// answers a redirect to the bank's online-banking login carrying a signed, single-use JWT.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FallbackConfig {
    /// For every bank, unless `banks` says otherwise.
    pub availability: FallbackAvailability,
    /// `[fallback.banks]` `"17515" = "when-unavailable"`: per-bank availability.
    pub banks: BTreeMap<BankCode, FallbackAvailability>,
    /// RSA private key (PKCS#8 PEM) signing the JWTs; the sandbox generates `pki/fallback.key`.
    pub signing_key: Option<PathBuf>,
    pub algorithm: JwtAlgorithm,
    /// How long the TPP has to send the PSU to the login page.
    pub jwt_lifetime_secs: i64,
    /// How long an online-banking session opened by a fallback JWT lasts.
    pub session_lifetime_secs: i64,
    /// The bank's own online-banking login URL, when it verifies the JWTs itself (with the keys of
    /// `/stet/psd2/fallback/jwks`); by default stetgate's own pages on the bank's host.
    pub login_url: Option<String>,
}

impl Default for FallbackConfig {
    fn default() -> Self {
        FallbackConfig {
            availability: FallbackAvailability::Always,
            banks: BTreeMap::new(),
            signing_key: None,
            algorithm: JwtAlgorithm::RS256,
            jwt_lifetime_secs: 120,
            session_lifetime_secs: 900,
            login_url: None,
        }
    }
}

impl FallbackConfig {
    pub fn availability_for(&self, bank: BankCode) -> FallbackAvailability {
        self.banks.get(&bank).copied().unwrap_or(self.availability)
    }

    pub fn jwt_lifetime(&self) -> SignedDuration {
        SignedDuration::from_secs(self.jwt_lifetime_secs)
    }

    pub fn session_lifetime(&self) -> SignedDuration {
        SignedDuration::from_secs(self.session_lifetime_secs)
    }
}

/// `[statistics]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StatisticsConfig {
    /// How often a node writes its request records and its heartbeat to the database (and on
    /// shutdown).
    pub flush_interval_secs: u64,
    /// How long a computed report is served to every caller of the public endpoint.
    pub report_cache_secs: u64,
}

impl Default for StatisticsConfig {
    fn default() -> Self {
        StatisticsConfig { flush_interval_secs: 10, report_cache_secs: 10 }
    }
}

/// `[oauth]`: lifetimes, with the bank's published values as defaults.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OAuthConfig {
    /// Authorization code: one hour.
    pub code_lifetime_secs: i64,
    /// Access token: one hour.
    pub access_token_lifetime_secs: i64,
    /// Refresh token: 180 days.
    pub refresh_token_lifetime_days: i64,
    /// A refresh is refused once the PSU's last strong authentication is older than this: 180 days.
    pub sca_validity_days: i64,
    /// The PSU has this long to go through the bank's pages: 10 minutes.
    pub flow_lifetime_secs: i64,
}

impl Default for OAuthConfig {
    fn default() -> Self {
        OAuthConfig {
            code_lifetime_secs: 3600,
            access_token_lifetime_secs: 3600,
            refresh_token_lifetime_days: 180,
            sca_validity_days: 180,
            flow_lifetime_secs: 600,
        }
    }
}

// The lifetimes as durations. The keys stay `*_secs` and `*_days`: they are what operators write.

/// A configured number of days (of 24 hours: a lifetime, not a calendar step).
fn days(days: i64) -> SignedDuration {
    SignedDuration::from_secs(days.saturating_mul(86_400))
}

impl OAuthConfig {
    pub fn code_lifetime(&self) -> SignedDuration {
        SignedDuration::from_secs(self.code_lifetime_secs)
    }

    pub fn access_token_lifetime(&self) -> SignedDuration {
        SignedDuration::from_secs(self.access_token_lifetime_secs)
    }

    pub fn refresh_token_lifetime(&self) -> SignedDuration {
        days(self.refresh_token_lifetime_days)
    }

    pub fn sca_validity(&self) -> SignedDuration {
        days(self.sca_validity_days)
    }

    pub fn flow_lifetime(&self) -> SignedDuration {
        SignedDuration::from_secs(self.flow_lifetime_secs)
    }
}

/// `[registration]`: `mode = "open" | "allow-list" | "closed"`, and `allow = ["PSDFR-ACPR-12345"]`
/// for the allow-list. Default: open in the sandbox, closed in production (the CLI always works).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistrationConfig {
    pub mode: Option<RegistrationMode>,
    #[serde(default)]
    pub allow: Vec<stet::OrgId>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RegistrationMode {
    Open,
    AllowList,
    Closed,
}

impl RegistrationConfig {
    pub fn mode_for(&self, mode: Mode) -> RegistrationMode {
        self.mode.unwrap_or(match mode {
            Mode::Sandbox => RegistrationMode::Open,
            Mode::Production => RegistrationMode::Closed,
        })
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// JSON when standard error is not a terminal, human-readable text when it is.
    #[default]
    Auto,
    Json,
    Text,
}

/// A database URL; its `Debug` hides the password.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct DatabaseUrl(pub String);

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact_url(&self.0))
    }
}

/// `postgres://user:secret@host/db` -> `postgres://user:***@host/db`.
pub fn redact_url(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://")
        && let Some((userinfo, host)) = rest.split_once('@')
        && let Some((user, _password)) = userinfo.split_once(':')
    {
        return format!("{scheme}://{user}:***@{host}");
    }
    url.to_owned()
}

fn bank_code_text_or_number<'de, D: Deserializer<'de>>(d: D) -> Result<BankCode, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Text(String),
        Number(u64),
    }
    let text = match Raw::deserialize(d)? {
        Raw::Text(t) => t,
        Raw::Number(n) => format!("{n:05}"),
    };
    BankCode::parse(&text).map_err(serde::de::Error::custom)
}

/// A configuration problem: which key, from where, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("configuration error{}: {problem}", origin(.file, .key))]
pub struct ConfigError {
    pub file: Option<PathBuf>,
    pub key: Option<String>,
    pub problem: String,
}

fn origin(file: &Option<PathBuf>, key: &Option<String>) -> String {
    match (file, key) {
        (Some(f), Some(k)) => format!(" in {}, key `{k}`", f.display()),
        (Some(f), None) => format!(" in {}", f.display()),
        (None, Some(k)) => format!(", key `{k}`"),
        (None, None) => String::new(),
    }
}

impl ConfigError {
    pub fn key(file: Option<&Path>, key: &str, problem: impl Into<String>) -> Self {
        ConfigError { file: file.map(Path::to_path_buf), key: Some(key.to_owned()), problem: problem.into() }
    }
}

/// Values given on the command line; `None` leaves the lower layers in charge.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<SocketAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_bank: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trust_anchors: Option<Vec<PathBuf>>,
}

/// Loads the configuration for `mode` from its layers and checks what that mode requires.
pub fn load(mode: Mode, file: Option<&Path>, overrides: &Overrides) -> Result<Config, ConfigError> {
    let mut figment = Figment::from(Serialized::defaults(Config::default()));
    if let Some(path) = file {
        match std::fs::metadata(path) {
            Ok(meta) if meta.is_file() => {}
            Ok(_) => {
                return Err(ConfigError { file: Some(path.into()), key: None, problem: "is not a file".into() });
            }
            Err(e) => {
                return Err(ConfigError {
                    file: Some(path.into()),
                    key: None,
                    problem: format!("cannot be read: {e}"),
                });
            }
        }
        figment = figment.merge(Toml::file_exact(path));
    }
    // Only variables that name a setting are settings: a deployment tool's own `STETGATE_BIN` or
    // `STETGATE_VERSION` is not a typo to stop on. It is named in a warning; a bad value of a real
    // setting still stops start-up.
    let settings = std::sync::Arc::new(setting_names());
    for (name, _) in std::env::vars() {
        if let Some(key) = name.strip_prefix("STETGATE_")
            && key != "CONFIG"
            && !names_a_setting(&settings, key)
        {
            eprintln!("stetgate: warning: the environment variable {name} is not a setting; ignored");
        }
    }
    figment = figment
        .merge(
            Env::prefixed("STETGATE_")
                .ignore(&["config"])
                .filter(move |key| names_a_setting(&settings, key.as_str()))
                .split("__"),
        )
        .merge(Serialized::defaults(overrides));
    let config: Config = figment.extract().map_err(|e| from_figment(e, file))?;
    config.check(mode, file)?;
    Ok(config)
}

/// Whether `key` (after `STETGATE_`, nested keys joined by `__`) starts with a top-level setting.
fn names_a_setting(settings: &[String], key: &str) -> bool {
    let top = key.split("__").next().unwrap_or("");
    settings.iter().any(|s| s.eq_ignore_ascii_case(top))
}

/// The top-level settings (`listen`, `tls`, `connections` ...), as the environment may name them.
fn setting_names() -> Vec<String> {
    match serde_json::to_value(Config::default()) {
        Ok(serde_json::Value::Object(map)) => map.keys().cloned().collect(),
        _ => Vec::new(),
    }
}

fn from_figment(error: figment::Error, file: Option<&Path>) -> ConfigError {
    // figment reports one error per problem; the first one is the one to fix first.
    let error = error.into_iter().next().unwrap_or_else(|| figment::Error::from("unknown error".to_owned()));
    let key = if error.path.is_empty() { None } else { Some(error.path.join(".")) };
    let source = error.metadata.as_ref().and_then(|m| m.source.as_ref()).map(|s| s.to_string());
    let from_env = error.metadata.as_ref().is_some_and(|m| m.name.contains("environment"));
    let problem = error.kind.to_string();
    let problem = match (from_env, key.as_deref()) {
        (true, Some(k)) => {
            format!("{problem} (from environment variable STETGATE_{})", k.to_uppercase().replace('.', "__"))
        }
        _ => problem,
    };
    let file = match source {
        Some(s) if !from_env => Some(PathBuf::from(s)),
        _ if from_env => None,
        _ => file.map(Path::to_path_buf),
    };
    ConfigError { file, key, problem }
}

impl Config {
    fn check(&self, mode: Mode, file: Option<&Path>) -> Result<(), ConfigError> {
        if let Some(url) = &self.database_url
            && !(url.0.starts_with("sqlite:") || url.0.starts_with("postgres://") || url.0.starts_with("postgresql://"))
        {
            return Err(ConfigError::key(file, "database_url", "must start with sqlite: or postgres://"));
        }
        if self.request_timeout_secs == 0 {
            return Err(ConfigError::key(file, "request_timeout_secs", "must be at least 1"));
        }
        if mode == Mode::Production {
            self.check_production(file)?;
        }
        self.check_schedules(file)?;
        self.check_fallback(file)?;
        self.check_limits(file)?;
        if let Some(proxy) = &self.trusted_proxy {
            proxy.check(file)?;
        }
        for (bank, gateway) in &self.otp_gateway {
            gateway.check(file, &format!("otp_gateway.\"{bank}\""))?;
            if mode == Mode::Production && !self.banks.iter().any(|b| b.code == *bank) {
                return Err(ConfigError::key(
                    file,
                    &format!("otp_gateway.\"{bank}\""),
                    "names a bank that is not one of the [[banks]]",
                ));
            }
        }
        self.check_oidc(mode, file)?;
        for (bank, connector) in &self.core_banking {
            connector.check(file, &format!("core_banking.\"{bank}\""))?;
            if mode == Mode::Production && !self.banks.iter().any(|b| b.code == *bank) {
                return Err(ConfigError::key(
                    file,
                    &format!("core_banking.\"{bank}\""),
                    "names a bank that is not one of the [[banks]]",
                ));
            }
        }
        for (i, anchor) in self.trust_anchors.iter().enumerate() {
            readable(file, &format!("trust_anchors[{i}]"), anchor)?;
        }
        self.revocation.check(file, &self.trust_anchors)?;
        Ok(())
    }

    /// What production cannot run without: its database, TLS files, trust anchors and banks.
    fn check_production(&self, file: Option<&Path>) -> Result<(), ConfigError> {
        if self.database_url.is_none() {
            return Err(ConfigError::key(
                file,
                "database_url",
                "is required in production (postgres://user:password@host/db)",
            ));
        }
        match &self.tls {
            None => {
                return Err(ConfigError::key(
                    file,
                    "tls",
                    "is required in production: a [tls] table with `cert` and `key` PEM files",
                ));
            }
            Some(tls) => {
                readable(file, "tls.cert", &tls.cert)?;
                readable(file, "tls.key", &tls.key)?;
            }
        }
        if self.trust_anchors.is_empty() {
            return Err(ConfigError::key(
                file,
                "trust_anchors",
                "is required in production: the PEM bundles of the QTSPs whose TPP certificates are accepted",
            ));
        }
        if self.banks.is_empty() {
            return Err(ConfigError::key(
                file,
                "banks",
                "is required in production: at least one [[banks]] entry with `code` and `name`",
            ));
        }
        if !self.banks.iter().any(|b| b.code == self.default_bank) {
            return Err(ConfigError::key(
                file,
                "default_bank",
                format!("{} is not one of the configured [[banks]]", self.default_bank),
            ));
        }
        Ok(())
    }

    /// `[oidc."<bank>"]`: complete, for a configured bank, and not beside an `[otp_gateway]`.
    fn check_oidc(&self, mode: Mode, file: Option<&Path>) -> Result<(), ConfigError> {
        for (bank, provider) in &self.oidc {
            let key = format!("oidc.\"{bank}\"");
            provider.check(file, &key)?;
            if mode == Mode::Production && !self.banks.iter().any(|b| b.code == *bank) {
                return Err(ConfigError::key(file, &key, "names a bank that is not one of the [[banks]]"));
            }
            if self.otp_gateway.contains_key(bank) {
                return Err(ConfigError::key(
                    file,
                    &key,
                    format!("bank {bank} also has an [otp_gateway]: choose one strong authentication per bank"),
                ));
            }
        }
        Ok(())
    }

    /// Maintenance windows and version lifecycles.
    fn check_schedules(&self, file: Option<&Path>) -> Result<(), ConfigError> {
        for (i, window) in self.maintenance.iter().enumerate() {
            if window.start >= window.end {
                return Err(ConfigError::key(file, &format!("maintenance[{i}]"), "start must be before end"));
            }
        }
        for (version, lifecycle) in &self.api_versions {
            if lifecycle.successor == Some(*version) {
                return Err(ConfigError::key(
                    file,
                    &format!("api_versions.{version}.successor"),
                    "names the version itself",
                ));
            }
        }
        Ok(())
    }

    /// `[fallback]`.
    fn check_fallback(&self, file: Option<&Path>) -> Result<(), ConfigError> {
        if self.fallback.jwt_lifetime_secs < 1 || self.fallback.jwt_lifetime_secs > 600 {
            return Err(ConfigError::key(
                file,
                "fallback.jwt_lifetime_secs",
                "must be between 1 and 600 (a short expiry)",
            ));
        }
        if self.fallback.session_lifetime_secs < 60 {
            return Err(ConfigError::key(file, "fallback.session_lifetime_secs", "must be at least 60"));
        }
        if let Some(key) = &self.fallback.signing_key {
            readable(file, "fallback.signing_key", key)?;
        }
        if let Some(url) = &self.fallback.login_url
            && !url.starts_with("https://")
        {
            return Err(ConfigError::key(file, "fallback.login_url", "must be an https:// URL"));
        }
        Ok(())
    }

    /// `[connections]` and the intervals that must not be zero.
    fn check_limits(&self, file: Option<&Path>) -> Result<(), ConfigError> {
        let c = &self.connections;
        for (key, value) in [
            ("connections.max", c.max as u64),
            ("connections.max_per_address", c.max_per_address as u64),
            ("connections.tls_handshake_timeout_secs", c.tls_handshake_timeout_secs),
            ("connections.header_read_timeout_secs", c.header_read_timeout_secs),
            ("connections.idle_timeout_secs", c.idle_timeout_secs),
            ("connections.pages_per_address_per_minute", u64::from(c.pages_per_address_per_minute)),
            ("connections.http2_keep_alive_interval_secs", c.http2_keep_alive_interval_secs),
            ("connections.http2_keep_alive_timeout_secs", c.http2_keep_alive_timeout_secs),
        ] {
            if value == 0 {
                return Err(ConfigError::key(file, key, "must be at least 1"));
            }
        }
        if self.payments.approval_lifetime_secs < 60 {
            return Err(ConfigError::key(file, "payments.approval_lifetime_secs", "must be at least 60"));
        }
        if self.payments.scheduler_interval_secs == 0 {
            return Err(ConfigError::key(file, "payments.scheduler_interval_secs", "must be at least 1"));
        }
        if self.purge_interval_secs == 0 {
            return Err(ConfigError::key(file, "purge_interval_secs", "must be at least 1"));
        }
        if self.statistics.flush_interval_secs == 0 {
            return Err(ConfigError::key(file, "statistics.flush_interval_secs", "must be at least 1"));
        }
        Ok(())
    }
}

fn readable(file: Option<&Path>, key: &str, path: &Path) -> Result<(), ConfigError> {
    match std::fs::metadata(path) {
        Ok(m) if m.is_file() => Ok(()),
        Ok(_) => Err(ConfigError::key(file, key, format!("{} is not a file", path.display()))),
        Err(e) => Err(ConfigError::key(file, key, format!("{} cannot be read: {e}", path.display()))),
    }
}

/// Each configured file of the table `table` (`(key, path)`, unset ones skipped) can be read.
fn readable_files(file: Option<&Path>, table: &str, files: &[(&str, &Option<PathBuf>)]) -> Result<(), ConfigError> {
    for (name, path) in files {
        if let Some(path) = path {
            readable(file, &format!("{table}.{name}"), path)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn sandbox_defaults_need_no_file() {
        let c = load(Mode::Sandbox, None, &Overrides::default()).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:8443");
        assert_eq!(c.default_bank.as_str(), "17515");
        assert_eq!(c.data_dir, PathBuf::from("stetgate-data"));
    }

    #[test]
    fn flags_override_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let f = write(dir.path(), "c.toml", "listen = \"127.0.0.1:9000\"\ndefault_bank = \"13807\"\n");
        let o = Overrides { listen: Some("127.0.0.1:9001".parse().unwrap()), ..Default::default() };
        let c = load(Mode::Sandbox, Some(&f), &o).unwrap();
        assert_eq!(c.listen.port(), 9001, "the flag wins over the file");
        assert_eq!(c.default_bank.as_str(), "13807", "the file wins over the default");
    }

    #[test]
    fn errors_name_the_key_and_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let f = write(dir.path(), "bad.toml", "listen = \"not an address\"\n");
        let e = load(Mode::Sandbox, Some(&f), &Overrides::default()).unwrap_err();
        let text = e.to_string();
        assert!(text.contains("listen"), "{text}");
        assert!(text.contains("bad.toml"), "{text}");

        let f = write(dir.path(), "unknown.toml", "lissen = \"127.0.0.1:1\"\n");
        let text = load(Mode::Sandbox, Some(&f), &Overrides::default()).unwrap_err().to_string();
        assert!(text.contains("lissen") && text.contains("unknown.toml"), "{text}");
    }

    #[test]
    fn production_requires_tls_database_anchors_and_banks() {
        let dir = tempfile::tempdir().unwrap();
        let f = write(dir.path(), "prod.toml", "database_url = \"postgres://u:p@h/db\"\n");
        let e = load(Mode::Production, Some(&f), &Overrides::default()).unwrap_err();
        assert_eq!(e.key.as_deref(), Some("tls"));
        assert_eq!(e.file.as_deref(), Some(f.as_path()));

        let f = write(
            dir.path(),
            "prod2.toml",
            "database_url = \"postgres://u:p@h/db\"\n[tls]\ncert = \"/nonexistent.pem\"\nkey = \"/nonexistent.key\"\n",
        );
        let e = load(Mode::Production, Some(&f), &Overrides::default()).unwrap_err();
        assert_eq!(e.key.as_deref(), Some("tls.cert"));
        assert!(e.problem.contains("/nonexistent.pem"));
    }

    #[test]
    fn missing_file_is_an_error_not_a_silent_default() {
        let e = load(Mode::Production, Some(Path::new("/no/such/stetgate.toml")), &Overrides::default()).unwrap_err();
        assert!(e.to_string().contains("/no/such/stetgate.toml"));
    }

    #[test]
    fn registration_is_open_in_the_sandbox_and_closed_in_production_unless_configured() {
        let dir = tempfile::tempdir().unwrap();
        let c = load(Mode::Sandbox, None, &Overrides::default()).unwrap();
        assert_eq!(c.registration.mode_for(Mode::Sandbox), RegistrationMode::Open);
        assert_eq!(c.registration.mode_for(Mode::Production), RegistrationMode::Closed);
        let f = write(dir.path(), "r.toml", "[registration]\nmode = \"allow-list\"\nallow = [\"PSDFR-ACPR-12345\"]\n");
        let c = load(Mode::Sandbox, Some(&f), &Overrides::default()).unwrap();
        assert_eq!(c.registration.mode_for(Mode::Production), RegistrationMode::AllowList);
        assert_eq!(c.registration.allow[0].as_str(), "PSDFR-ACPR-12345");
        let f = write(dir.path(), "bad.toml", "[registration]\nallow = [\"ACPR-1\"]\n");
        let e = load(Mode::Sandbox, Some(&f), &Overrides::default()).unwrap_err();
        assert!(e.to_string().contains("registration.allow"), "{e}");
    }

    #[test]
    fn api_version_lifecycles_name_served_versions() {
        let dir = tempfile::tempdir().unwrap();
        let f = write(
            dir.path(),
            "v.toml",
            "[api_versions.\"v1\"]\ndeprecated = \"2026-06-01T00:00:00Z\"\nsunset = \"2027-06-30T00:00:00Z\"\nsuccessor = \"v1.6.2\"\n",
        );
        let c = load(Mode::Sandbox, Some(&f), &Overrides::default()).unwrap();
        assert_eq!(c.api_versions[&ApiVersion::V1].successor, Some(ApiVersion::V1_6_2));
        let f = write(dir.path(), "bad.toml", "[api_versions.\"v2\"]\nsuccessor = \"v1.6.2\"\n");
        let e = load(Mode::Sandbox, Some(&f), &Overrides::default()).unwrap_err();
        assert_eq!(e.key.as_deref(), Some("api_versions.v2"), "the key names the table and the bad version");
        assert!(e.problem.contains("\"v2\" is not a served version"), "{e}");
        let f = write(dir.path(), "bad2.toml", "[api_versions.\"v1\"]\nsuccessor = \"v3\"\n");
        let e = load(Mode::Sandbox, Some(&f), &Overrides::default()).unwrap_err();
        assert_eq!(e.key.as_deref(), Some("api_versions.v1.successor"));
        assert!(e.problem.contains("\"v3\" is not a served version"), "{e}");
    }

    #[test]
    fn maintenance_windows_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let ok = write(
            dir.path(),
            "m.toml",
            "[[maintenance]]\nbank = \"17515\"\nweekday = \"monday\"\nstart = \"00:00\"\nend = \"06:00\"\n",
        );
        assert_eq!(load(Mode::Sandbox, Some(&ok), &Overrides::default()).unwrap().maintenance.len(), 1);
        let bad_day =
            write(dir.path(), "d.toml", "[[maintenance]]\nweekday = \"lundi\"\nstart = \"00:00\"\nend = \"06:00\"\n");
        let e = load(Mode::Sandbox, Some(&bad_day), &Overrides::default()).unwrap_err();
        assert_eq!(e.key.as_deref(), Some("maintenance.0.weekday"), "figment's path: the first window's weekday");
        assert!(e.problem.contains("\"lundi\" is not a weekday"), "{e}");
        let backwards =
            write(dir.path(), "b.toml", "[[maintenance]]\nweekday = \"monday\"\nstart = \"06:00\"\nend = \"00:00\"\n");
        assert_eq!(
            load(Mode::Sandbox, Some(&backwards), &Overrides::default()).unwrap_err().key.as_deref(),
            Some("maintenance[0]")
        );
    }

    #[test]
    fn database_url_debug_hides_the_password() {
        let url = DatabaseUrl("postgres://bank:s3cret@db:5432/stetgate".into());
        assert_eq!(format!("{url:?}"), "postgres://bank:***@db:5432/stetgate");
    }
}
