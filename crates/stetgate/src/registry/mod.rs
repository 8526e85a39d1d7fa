//! TPP registration (the bank's "PSD2 Registration API", in the style of RFC 7591): a TPP declares
//! its organization (from its QWAC), its QSealC for HTTP signatures and its redirect URIs.
//!
//! Registration is group-wide, as the bank's is: one registration serves every bank code of the
//! deployment, whichever bank host it was sent to. The rules are plain functions here; the HTTP
//! endpoints are in [`http`], the SQL in `store/tpps.rs`.

pub mod http;
pub mod model;

use crate::config::RegistrationMode;
use eidas::trust::{TrustError, check_qsealc};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, TrustAnchor};
use stet::OrgId;
pub use stet::registration::{RegistrationRequest, RegistrationResponse};

pub use model::{Registration, Unusable};

/// The registration of `org`, if it may act now: every path that serves a TPP (resources, token,
/// authorization, fallback) asks here, so a suspension holds everywhere at once.
pub async fn usable(
    store: &crate::store::Store,
    org: &OrgId,
) -> Result<Result<Registration, Unusable>, crate::store::StoreError> {
    Ok(match store.current_registration(org).await? {
        Some(r) => r.usable(),
        None => Err(Unusable::NotRegistered),
    })
}

/// The answer to a registration call.
pub fn response(r: &Registration) -> RegistrationResponse {
    RegistrationResponse {
        client_id: r.org_id.to_string(),
        client_name: r.client_name.clone(),
        redirect_uris: r.redirect_uris.clone(),
        qsealc_sha256: r.qsealc_sha256.clone(),
        // RFC 7591: seconds since the epoch.
        client_id_issued_at: r.created_at.as_second(),
        contacts: r.contacts.clone(),
        status: r.status().to_owned(),
    }
}

/// Why a registration is refused. `error` codes are RFC 7591's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistrationError {
    #[error("redirect_uris: {0}")]
    RedirectUri(String),
    #[error("{0}")]
    Metadata(String),
    #[error("qsealc: {0}")]
    Qsealc(String),
}

impl RegistrationError {
    pub fn code(&self) -> &'static str {
        match self {
            RegistrationError::RedirectUri(_) => "invalid_redirect_uri",
            RegistrationError::Metadata(_) | RegistrationError::Qsealc(_) => "invalid_client_metadata",
        }
    }
}

/// Whether `org` may register through the API under `mode` (the CLI always may).
pub fn may_register(mode: &RegistrationMode, allow: &[OrgId], org: &OrgId) -> Result<(), String> {
    match mode {
        RegistrationMode::Open => Ok(()),
        RegistrationMode::AllowList if allow.contains(org) => Ok(()),
        RegistrationMode::AllowList => {
            Err(format!("{org} is not on this bank's list of TPPs allowed to register; contact the bank"))
        }
        RegistrationMode::Closed => {
            Err("registration through the API is closed at this bank; contact the bank".to_owned())
        }
    }
}

/// Checks a registration request made with the QWAC of `org`: a non-empty name, well-formed
/// redirect URIs, and a QSealC that chains to an anchor, is valid now, is a seal (QcType eseal),
/// carries the PSD2 statement and belongs to the same organization.
pub fn validate(
    request: &RegistrationRequest,
    qwac: &eidas::psd2::Psd2Certificate,
    anchors: &[TrustAnchor<'_>],
    now: jiff::Timestamp,
    allow_http_loopback: bool,
) -> Result<Registration, RegistrationError> {
    let org = &qwac
        .org_id()
        .ok_or_else(|| RegistrationError::Metadata("the QWAC has no PSD2 organizationIdentifier".into()))?;
    let name = request.client_name.trim();
    if name.is_empty() || name.chars().count() > 140 {
        return Err(RegistrationError::Metadata("client_name must be 1 to 140 characters".into()));
    }
    if request.redirect_uris.is_empty() {
        return Err(RegistrationError::RedirectUri("at least one redirect URI is required".into()));
    }
    if request.redirect_uris.len() > 20 {
        return Err(RegistrationError::RedirectUri("at most 20 redirect URIs".into()));
    }
    for uri in &request.redirect_uris {
        check_redirect_uri(uri, allow_http_loopback)?;
    }
    for contact in &request.contacts {
        if contact.is_empty() || contact.len() > 254 {
            return Err(RegistrationError::Metadata("contacts must be e-mail addresses".into()));
        }
    }
    let der = CertificateDer::from_pem_slice(request.qsealc.as_bytes())
        .map_err(|_| RegistrationError::Qsealc("not a PEM certificate".into()))?;
    let seal = check_qsealc(&der, anchors, now.as_second()).map_err(|e| RegistrationError::Qsealc(seal_problem(&e)))?;
    if !seal.certificate.rsa_key {
        return Err(RegistrationError::Qsealc(
            "the QSealC's key is not RSA: STET signatures are rsa-sha256, which no other key can verify".into(),
        ));
    }
    if &seal.org_id != org {
        return Err(RegistrationError::Qsealc(format!(
            "the QSealC belongs to {}, not to {org} (the organization of the QWAC presented)",
            seal.org_id
        )));
    }
    Ok(Registration {
        org_id: org.clone(),
        client_name: name.to_owned(),
        redirect_uris: request.redirect_uris.clone(),
        contacts: request.contacts.clone(),
        qsealc_pem: request.qsealc.trim().to_owned() + "\n",
        qsealc_der: Some(der.clone().into_owned()),
        qsealc_sha256: seal.certificate.sha256_hex(),
        qsealc_serial: seal.certificate.serial_hex.clone(),
        qsealc_issuer: seal.certificate.issuer.clone(),
        active: true,
        suspended_at: None,
        suspension_reason: None,
        qwac_organization: qwac.organization_name.clone(),
        created_at: now,
    })
}

/// The operator's registration (`stetgate tpp register`): the organization comes from the QWAC
/// file, which must itself pass the QWAC checks; the API's registration policy does not apply.
pub fn validate_from_files(
    qwac_pem: &str,
    request: &RegistrationRequest,
    anchors: &[TrustAnchor<'_>],
    now: jiff::Timestamp,
    allow_http_loopback: bool,
) -> Result<Registration, RegistrationError> {
    let chain = CertificateDer::pem_slice_iter(qwac_pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| RegistrationError::Metadata("--qwac: not a PEM certificate".into()))?;
    let qwac = eidas::trust::check_qwac(&chain, anchors, now.as_second())
        .map_err(|e| RegistrationError::Metadata(format!("--qwac: {e}")))?;
    validate(request, &qwac.certificate, anchors, now, allow_http_loopback)
}

fn seal_problem(e: &TrustError) -> String {
    e.to_string().replacen("the certificate", "the QSealC", 1)
}

/// Absolute `https` URLs without fragment; `http://localhost` and `http://127.0.0.1` only when
/// `allow_http_loopback` (the sandbox).
pub fn check_redirect_uri(uri: &str, allow_http_loopback: bool) -> Result<(), RegistrationError> {
    let bad = |why: &str| RegistrationError::RedirectUri(format!("{uri:?} {why}"));
    let parsed = url::Url::parse(uri).map_err(|_| bad("is not an absolute URL"))?;
    if parsed.fragment().is_some() {
        return Err(bad("has a fragment (#...), which RFC 6749 3.1.2 forbids"));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(bad("has no host"));
    }
    if parsed.username() != "" || parsed.password().is_some() {
        return Err(bad("carries credentials"));
    }
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if allow_http_loopback && matches!(parsed.host_str(), Some("localhost" | "127.0.0.1")) => Ok(()),
        "http" if allow_http_loopback => {
            Err(bad("uses http: only http://localhost and http://127.0.0.1 are accepted in the sandbox"))
        }
        "http" => Err(bad("uses http: redirect URIs must be https")),
        _ => Err(bad("must be an https URL")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uris() {
        for ok in ["https://www.mycallback.com/", "https://tpp.example:8443/cb?x=1"] {
            assert!(check_redirect_uri(ok, false).is_ok(), "{ok}");
        }
        assert!(check_redirect_uri("http://localhost:3000/cb", true).is_ok());
        assert!(check_redirect_uri("http://127.0.0.1/cb", true).is_ok());
        for (bad, sandbox) in [
            ("http://localhost:3000/cb", false),
            ("http://tpp.example/cb", true),
            ("https://tpp.example/cb#frag", false),
            ("/relative/cb", false),
            ("ftp://tpp.example/", false),
            ("https://user:pw@tpp.example/", false),
            ("mycallback", false),
        ] {
            assert!(check_redirect_uri(bad, sandbox).is_err(), "{bad} (sandbox {sandbox})");
        }
    }

    #[test]
    fn registration_policy() {
        let org = OrgId::parse("PSDFR-ACPR-12345").unwrap();
        let other = OrgId::parse("PSDFR-ACPR-99999").unwrap();
        assert!(may_register(&RegistrationMode::Open, &[], &org).is_ok());
        assert!(may_register(&RegistrationMode::AllowList, std::slice::from_ref(&org), &org).is_ok());
        assert!(may_register(&RegistrationMode::AllowList, &[org], &other).is_err());
        assert!(may_register(&RegistrationMode::Closed, &[], &other).is_err());
    }
}
