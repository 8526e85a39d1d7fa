//! Revocation of TPP certificates (QWAC on every TPP route, QSealC at registration and on every
//! signed call): the OCSP responder of the certificate's Authority Information Access is asked
//! first (RFC 6960, with a nonce), then its CRL distribution points (RFC 5280); the pure checks of
//! what comes back are `eidas::revocation`'s, the downloads and the cache are here.
//!
//! - OCSP answers are kept per certificate until their `nextUpdate`, at most `max_age_secs`;
//! - CRLs are kept per URL and fetched again `refresh_before_secs` before their `nextUpdate` (at
//!   most `max_age_secs` after the last download); when that fails, the CRL in hand is used
//!   until its `nextUpdate`;
//! - a source that failed is not asked again for [`RETRY_AFTER_FAILURE_SECS`], so a responder
//!   that is down costs one timeout, not one per request;
//! - when no source answers, the trust anchor's mode decides (`[revocation]`): hard-fail refuses
//!   (503, retry later: the TPP's certificate is not known bad), soft-fail accepts.
//!
//! Every decision is counted (`stetgate_revocation_checks_total{certificate, anchor, outcome,
//! source}`) with the age of the status it rests on (`stetgate_revocation_status_age_seconds`);
//! downloads, refusals and soft-fails are logged with that age. Nothing is fetched while a lock
//! is held; URLs come only from certificates that already chain to a trust anchor.

mod fetch;

use crate::config::{Config, ConfigError, RevocationConfig, RevocationMode};
use crate::ops::metrics::Metrics;
use eidas::revocation::{Crl, Status};
use eidas::trust::TrustError;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// Why a certificate's status could not be established when it names no source. Soft-fail logs
/// it at `debug` only (the sandbox's older test certificates, a QTSP that publishes nothing: every
/// request would warn); it is counted like any soft-fail.
const NO_SOURCE: &str = "the certificate names no OCSP responder and no CRL distribution point";

/// How long a CRL URL or OCSP responder that failed is left alone.
pub const RETRY_AFTER_FAILURE_SECS: i64 = 30;
/// Remembered answers at most; beyond, the cache starts afresh (only certificates that chain to
/// a trust anchor get here).
const CACHE_CAPACITY: usize = 10_000;

/// Which certificate is checked (a metric label).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Certificate {
    Qwac,
    Qsealc,
}

impl Certificate {
    fn label(self) -> &'static str {
        match self {
            Certificate::Qwac => "qwac",
            Certificate::Qsealc => "qsealc",
        }
    }
}

/// A trust anchor, its revocation mode and its name in logs and metrics.
#[derive(Debug, Clone)]
pub struct Anchor {
    pub name: String,
    pub der: Vec<u8>,
    pub mode: RevocationMode,
    subject: Vec<u8>,
}

impl Anchor {
    pub fn new(name: String, der: &CertificateDer<'_>, mode: RevocationMode) -> Result<Anchor, String> {
        let (_, subject) = eidas::revocation::names(der).map_err(|e| format!("{name}: {e}"))?;
        Ok(Anchor { name, der: der.to_vec(), mode, subject })
    }
}

/// What a source said, and how old it is.
#[derive(Debug, Clone)]
struct Found {
    status: Status,
    /// "OCSP <url>" / "CRL <url>".
    by: String,
    source: &'static str,
    this_update: i64,
}

#[derive(Debug, Clone)]
struct CachedAnswer {
    found: Found,
    until: i64,
    /// The anchor's name and mode, so that a request answered from the cache parses nothing.
    anchor: Arc<str>,
    mode: RevocationMode,
}

#[derive(Debug)]
struct CachedCrl {
    crl: Crl,
    fetched_at: i64,
}

/// The checker for `config`: every trust anchor file (and, in the sandbox, its CA first, named
/// `sandbox-ca`) with its mode; the sandbox CA is also trusted for HTTPS downloads (its server
/// publishes its CRL and OCSP).
pub fn from_config(
    config: &Config,
    config_file: Option<&Path>,
    sandbox_ca: Option<&Path>,
) -> Result<Revocation, ConfigError> {
    let settings = config.revocation.clone();
    let mut anchors = Vec::new();
    let mut files: Vec<(String, &Path, RevocationMode, &str)> = config
        .trust_anchors
        .iter()
        .map(|file| (anchor_name(file), file.as_path(), settings.mode_of(file), "trust_anchors"))
        .collect();
    if let Some(ca) = sandbox_ca {
        files.insert(0, ("sandbox-ca".to_owned(), ca, settings.default, "data_dir"));
    }
    for (name, file, mode, key) in &files {
        let problem =
            |e: &dyn std::fmt::Display| ConfigError::key(config_file, key, format!("{}: {e}", file.display()));
        let certificates = CertificateDer::pem_file_iter(file).map_err(|e| problem(&e))?;
        for certificate in certificates {
            let certificate = certificate.map_err(|e| problem(&e))?;
            anchors.push(Anchor::new(name.clone(), &certificate, *mode).map_err(|e| problem(&e))?);
        }
    }
    let roots = match sandbox_ca {
        Some(ca) => Some(
            std::fs::read(ca)
                .map_err(|e| ConfigError::key(config_file, "data_dir", format!("{}: {e}", ca.display())))?,
        ),
        None => None,
    };
    Revocation::new(settings, anchors, roots.as_deref()).map_err(|e| ConfigError::key(config_file, "revocation", e))
}

/// An anchor's name in logs and metrics: its file, as configured (the configuration bounds the
/// set).
fn anchor_name(file: &Path) -> String {
    file.display().to_string()
}

/// The revocation checker of a server.
pub struct Revocation {
    settings: RevocationConfig,
    anchors: Vec<Anchor>,
    http: reqwest::Client,
    answers: Mutex<HashMap<[u8; 32], CachedAnswer>>,
    crls: Mutex<HashMap<String, Arc<CachedCrl>>>,
    failed: Mutex<HashMap<String, i64>>,
}

impl std::fmt::Debug for Revocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Revocation").field("anchors", &self.anchors.len()).finish_non_exhaustive()
    }
}

impl Revocation {
    /// `extra_roots`: PEM of roots the HTTPS downloads may also trust (the sandbox CA, whose
    /// server publishes its own CRL and OCSP over HTTPS).
    pub fn new(
        settings: RevocationConfig,
        anchors: Vec<Anchor>,
        extra_roots: Option<&[u8]>,
    ) -> Result<Revocation, String> {
        let http = fetch::client(settings.timeout_secs, extra_roots)?;
        Ok(Revocation {
            settings,
            anchors,
            http,
            answers: Mutex::default(),
            crls: Mutex::default(),
            failed: Mutex::default(),
        })
    }

    /// Checks the end entity of `chain` (end entity first, then intermediates), which already
    /// chains to a trust anchor, at `now` (Unix time).
    /// The decision is counted in `metrics`.
    pub async fn check(
        &self,
        metrics: &Metrics,
        what: Certificate,
        chain: &[CertificateDer<'_>],
        now: i64,
    ) -> Result<(), TrustError> {
        let Some(end_entity) = chain.first() else { return Ok(()) };
        // The hot path: one hash and one look-up (a QWAC's checks are remembered by the trust
        // memo; parsing the certificate again here would undo that).
        let key = sha256(end_entity);
        let cached = self.answers.lock().ok().and_then(|a| a.get(&key).filter(|c| now < c.until).cloned());
        if let Some(hit) = cached {
            return decide(metrics, what, &hit.anchor, hit.mode, Ok(hit.found), now);
        }
        let anchor = self.anchor_of(chain);
        let mode = anchor.map(|a| a.mode).unwrap_or(self.settings.default);
        if mode == RevocationMode::Off {
            return Ok(());
        }
        let issuer = match (chain.get(1), anchor) {
            (Some(intermediate), _) => Some(intermediate.to_vec()),
            (None, Some(anchor)) => Some(anchor.der.clone()),
            (None, None) => None,
        };
        let found = match issuer {
            Some(issuer) => self.status(end_entity, &issuer, now).await,
            None => Err("its issuer is not among the trust anchors".to_owned()),
        };
        let anchor_name = anchor.map(|a| a.name.as_str()).unwrap_or("unlisted");
        let found = found.map(|(found, until)| {
            if until > now {
                self.remember(key, CachedAnswer { found: found.clone(), until, anchor: anchor_name.into(), mode });
            }
            found
        });
        decide(metrics, what, anchor_name, mode, found, now)
    }

    /// The anchor the chain ends at: the one that issued its last certificate (or is it).
    fn anchor_of(&self, chain: &[CertificateDer<'_>]) -> Option<&Anchor> {
        let (issuer, subject) = eidas::revocation::names(chain.last()?).ok()?;
        self.anchors.iter().find(|a| a.subject == issuer).or_else(|| self.anchors.iter().find(|a| a.subject == subject))
    }

    /// The certificate's status from its OCSP responders, then its CRLs, with until when it may
    /// be reused; why none answered.
    async fn status(&self, cert: &[u8], issuer: &[u8], now: i64) -> Result<(Found, i64), String> {
        let sources = eidas::revocation::sources(cert).map_err(|e| e.to_string())?;
        if sources.is_empty() {
            return Err(NO_SOURCE.into());
        }
        let mut problems = Vec::new();
        for url in &sources.ocsp {
            match self.ask_ocsp(url, cert, issuer, now).await {
                Ok((found, _)) if found.status == Status::Unknown => {
                    problems.push(format!("the OCSP responder {url} does not know the certificate"));
                }
                Ok(answer) => return Ok(answer),
                Err(why) => problems.push(why),
            }
        }
        for url in &sources.crl {
            match self.crl(url, issuer, now).await.and_then(|c| {
                let status = c.crl.status_of(cert).map_err(|e| format!("the CRL {url}: {e}"))?;
                Ok((status, c.crl.this_update, self.refresh_due(&c)))
            }) {
                Ok((status, this_update, due)) => {
                    return Ok((Found { status, by: format!("CRL {url}"), source: "crl", this_update }, due));
                }
                Err(why) => problems.push(why),
            }
        }
        Err(problems.join("; "))
    }

    fn remember(&self, key: [u8; 32], answer: CachedAnswer) {
        if let Ok(mut answers) = self.answers.lock() {
            if answers.len() >= CACHE_CAPACITY {
                answers.clear();
            }
            answers.insert(key, answer);
        }
    }

    /// Whether `url` failed lately (then it is not asked again yet).
    fn failed_lately(&self, url: &str, now: i64) -> bool {
        self.failed.lock().ok().and_then(|f| f.get(url).copied()).is_some_and(|at| now < at + RETRY_AFTER_FAILURE_SECS)
    }

    fn note_failure(&self, url: &str, now: i64) {
        if let Ok(mut failed) = self.failed.lock() {
            if failed.len() >= CACHE_CAPACITY {
                failed.clear();
            }
            failed.insert(url.to_owned(), now);
        }
    }

    /// Asks the OCSP responder at `url`; the answer and until when it may be reused.
    async fn ask_ocsp(&self, url: &str, cert: &[u8], issuer: &[u8], now: i64) -> Result<(Found, i64), String> {
        let by = format!("OCSP {url}");
        if self.failed_lately(url, now) {
            return Err(format!("{by} failed less than {RETRY_AFTER_FAILURE_SECS} s ago"));
        }
        let mut nonce = [0u8; 16];
        aws_lc_rs::rand::fill(&mut nonce).map_err(|_| "no randomness for the OCSP nonce".to_owned())?;
        let request = eidas::revocation::ocsp_request(cert, issuer, &nonce).map_err(|e| e.to_string())?;
        let answer = match fetch::ocsp(&self.http, url, request.der.clone()).await {
            Ok(body) => eidas::revocation::ocsp_answer(&body, &request, issuer, now).map_err(|e| e.to_string()),
            Err(e) => Err(e),
        };
        let answer = answer.map_err(|why| {
            self.note_failure(url, now);
            format!("{by}: {why}")
        })?;
        let until = answer.next_update.unwrap_or(i64::MAX).min(now + self.settings.max_age_secs);
        tracing::info!(
            by,
            status = ?answer.status,
            age_secs = now - answer.this_update,
            nonce_echoed = answer.nonce_echoed,
            "OCSP answer received"
        );
        let found = Found { status: answer.status, by, source: "ocsp", this_update: answer.this_update };
        Ok((found, until))
    }

    /// The CRL at `url`, from the cache while it is current, else downloaded.
    async fn crl(&self, url: &str, issuer: &[u8], now: i64) -> Result<Arc<CachedCrl>, String> {
        let cached = self.crls.lock().ok().and_then(|c| c.get(url).cloned());
        let max_age = self.settings.max_age_secs;
        if let Some(c) = cached.as_ref().filter(|c| now < self.refresh_due(c)) {
            return Ok(c.clone());
        }
        let usable = |c: &Arc<CachedCrl>| c.crl.next_update.unwrap_or(c.fetched_at + max_age) > now;
        let downloaded = if self.failed_lately(url, now) {
            Err(format!("failed less than {RETRY_AFTER_FAILURE_SECS} s ago"))
        } else {
            self.download_crl(url, issuer, now).await
        };
        match downloaded {
            Ok(fresh) => {
                if let Ok(mut crls) = self.crls.lock() {
                    if crls.len() >= CACHE_CAPACITY {
                        crls.clear();
                    }
                    crls.insert(url.to_owned(), fresh.clone());
                }
                Ok(fresh)
            }
            Err(why) => match cached.filter(usable) {
                Some(previous) => {
                    tracing::warn!(
                        url,
                        why,
                        age_secs = now - previous.crl.this_update,
                        "CRL refresh failed; the current one is used until its nextUpdate"
                    );
                    Ok(previous)
                }
                None => Err(format!("the CRL {url}: {why}")),
            },
        }
    }

    /// When a CRL in hand is to be fetched again.
    fn refresh_due(&self, crl: &CachedCrl) -> i64 {
        let kept_until = crl.crl.next_update.unwrap_or(i64::MAX).min(crl.fetched_at + self.settings.max_age_secs);
        kept_until - self.settings.refresh_before_secs
    }

    async fn download_crl(&self, url: &str, issuer: &[u8], now: i64) -> Result<Arc<CachedCrl>, String> {
        let crl = match fetch::crl(&self.http, url).await {
            Ok(body) => Crl::parse(&body, issuer).map_err(|e| e.to_string()),
            Err(e) => Err(e),
        }
        .and_then(|crl| match crl.next_update {
            Some(next) if next <= now => Err(format!("out of date: its nextUpdate {next} has passed")),
            _ if crl.this_update > now + 300 => Err(format!("its thisUpdate {} is in the future", crl.this_update)),
            _ => Ok(crl),
        });
        let crl = crl.inspect_err(|_| self.note_failure(url, now))?;
        tracing::info!(
            url,
            revoked = crl.len(),
            age_secs = now - crl.this_update,
            next_update = crl.next_update,
            "CRL downloaded"
        );
        Ok(Arc::new(CachedCrl { crl, fetched_at: now }))
    }
}

/// Counts, logs and applies the anchor's mode to what the sources said.
fn decide(
    metrics: &Metrics,
    what: Certificate,
    anchor: &str,
    mode: RevocationMode,
    found: Result<Found, String>,
    now: i64,
) -> Result<(), TrustError> {
    let certificate = what.label();
    match found {
        Ok(found) => {
            let age = now - found.this_update;
            let outcome = if matches!(found.status, Status::Revoked { .. }) { "revoked" } else { "good" };
            metrics.revocation_check(certificate, anchor, outcome, found.source, Some(age));
            match found.status {
                Status::Revoked { at, reason } => {
                    tracing::warn!(
                        certificate,
                        anchor,
                        by = found.by,
                        age_secs = age,
                        revoked_at = at,
                        "revoked certificate refused"
                    );
                    Err(TrustError::Revoked { at, reason, by: found.by })
                }
                _ => {
                    tracing::debug!(certificate, anchor, by = found.by, age_secs = age, "revocation status good");
                    Ok(())
                }
            }
        }
        Err(why) if mode == RevocationMode::Hard => {
            metrics.revocation_check(certificate, anchor, "hard_fail", "none", None);
            tracing::warn!(
                certificate,
                anchor,
                mode = mode.as_str(),
                why,
                "revocation status unknown: certificate refused (hard-fail)"
            );
            Err(TrustError::RevocationUnknown(why))
        }
        Err(why) => {
            metrics.revocation_check(certificate, anchor, "soft_fail", "none", None);
            if why == NO_SOURCE {
                tracing::debug!(
                    certificate,
                    anchor,
                    why,
                    "revocation status unknown: certificate accepted (soft-fail)"
                );
            } else {
                tracing::warn!(
                    certificate,
                    anchor,
                    mode = mode.as_str(),
                    why,
                    "revocation status unknown: certificate accepted (soft-fail)"
                );
            }
            Ok(())
        }
    }
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes).as_ref());
    out
}
