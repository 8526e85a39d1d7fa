//! The HTTP signature every STET resource request carries (STET Part I section 3.5;
//! draft-cavage-http-signatures with rsa-sha256), checked against the QSealC the TPP registered.
//!
//! - `keyId`: a URL ending in `_<SHA-256 of the QSealC, hex>`, or `SN=<hex serial>,CA=<issuer DN>`;
//!   it must designate the QSealC registered by the organization of the QWAC presented;
//! - signed headers must include `(request-target)`, `x-request-id`, `digest` when there is a body,
//!   and every `psu-*` header the request carries;
//! - `Digest` (SHA-256 or SHA-512) must match the body;
//! - the signature must verify with the QSealC's key, which must still be valid.
//!
//! Any failure is a 400 whose `error` tells the TPP developer what to fix.

use super::error::ApiError;
use super::tpp::TppIdentity;
use crate::registry::model::Registration;
use crate::revocation::Certificate;
use crate::state::AppState;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use eidas::psd2::hex;
use eidas::signature::{
    KeyId, check_digest, parse_signature_header, same_distinguished_name, signing_string, verify_rsa_sha256,
};
use eidas::trust::{TrustError, TrustMemo};
use stet::headers::{DIGEST, SIGNATURE};

fn refuse(why: impl Into<String>) -> ApiError {
    ApiError::Signature(why.into())
}

/// Checks the request's Digest and Signature against the TPP's registered QSealC, which must
/// still pass its checks against the trust anchors (remembered a while by the memo). A signed
/// `Date` must be within `max_date_skew_secs` of `now_unix` (a captured request cannot be replayed
/// days later).
#[allow(clippy::too_many_arguments)]
pub fn verify(
    parts: &Parts,
    path_and_query: &str,
    body: &[u8],
    tpp: &TppIdentity,
    registration: &Registration,
    trust: &TrustMemo,
    now_unix: i64,
    max_date_skew_secs: i64,
) -> Result<(), ApiError> {
    let headers = &parts.headers;
    let raw = one_header(headers, SIGNATURE)?
        .ok_or_else(|| refuse("the Signature header is missing: sign with your registered QSealC"))?;
    let signature = parse_signature_header(&raw).map_err(|e| refuse(e.to_string()))?;
    if let Some(algorithm) = &signature.algorithm
        && !algorithm.eq_ignore_ascii_case("rsa-sha256")
    {
        return Err(refuse(format!("algorithm {algorithm:?} is not supported: use rsa-sha256")));
    }

    let key_id = KeyId::parse(&signature.key_id).ok_or_else(|| {
        refuse("keyId must be a URL ending in _<QSealC SHA-256 hex> or SN=<hex serial>,CA=<issuer DN>")
    })?;
    let designates_registered = match &key_id {
        KeyId::Fingerprint(f) => hex(f) == registration.qsealc_sha256,
        KeyId::SerialAndIssuer { serial_hex, issuer } => {
            *serial_hex == registration.qsealc_serial && same_distinguished_name(issuer, &registration.qsealc_issuer)
        }
    };
    if !designates_registered {
        return Err(refuse(format!(
            "keyId is not the registered QSealC of {} (SHA-256 {}...)",
            tpp.org_id,
            &registration.qsealc_sha256[..16.min(registration.qsealc_sha256.len())]
        )));
    }

    let covered = |name: &str| signature.headers.iter().any(|h| h == name);
    let mut required = vec!["(request-target)".to_owned(), "x-request-id".to_owned()];
    if !body.is_empty() {
        required.push(DIGEST.to_owned());
    }
    let mut psu: Vec<String> =
        headers.keys().map(|k| k.as_str().to_owned()).filter(|k| k.starts_with("psu-")).collect();
    psu.sort();
    psu.dedup();
    required.extend(psu);
    let missing: Vec<&str> = required.iter().map(String::as_str).filter(|h| !covered(h)).collect();
    if !missing.is_empty() {
        return Err(refuse(format!("these headers must be signed and are not: {}", missing.join(" "))));
    }

    if covered("date") {
        let date =
            one_header(headers, "date")?.ok_or_else(|| refuse("date is signed but the Date header is missing"))?;
        let sent = jiff::fmt::rfc2822::DateTimeParser::new()
            .parse_timestamp(&date)
            .map_err(|_| refuse(format!("the Date header {date:?} is not an HTTP date (RFC 9110 5.6.7)")))?;
        let skew = (sent.as_second() - now_unix).abs();
        if skew > max_date_skew_secs {
            return Err(refuse(format!(
                "the signed Date is {skew} s away from the bank's clock (at most {max_date_skew_secs} s): sign a fresh request"
            )));
        }
    }

    match one_header(headers, DIGEST)? {
        Some(digest) => check_digest(&digest, body).map_err(|e| refuse(e.to_string()))?,
        None if !body.is_empty() => {
            return Err(refuse("the request has a body but no Digest header (SHA-256=<base64>)"));
        }
        None => {}
    }

    let seal = registration.qsealc_der.as_ref().ok_or_else(|| unreadable(registration))?;
    trust.check_qsealc(seal, now_unix).map_err(|e| {
        refuse(format!("the registered QSealC is no longer usable ({e}): PUT a new one to /stet/psd2/oauth/register"))
    })?;
    let text = signing_string(&signature.headers, parts.method.as_str(), path_and_query, |name| {
        headers.get_all(name).iter().filter_map(|v| v.to_str().ok()).map(str::to_owned).collect()
    })
    .map_err(|e| refuse(e.to_string()))?;
    verify_rsa_sha256(seal, &text, &signature.signature).map_err(|_| {
        refuse(format!("it does not verify with the registered QSealC over \"{}\"", signature.headers.join(" ")))
    })
}

/// Whether the QTSP revoked the registered QSealC (`crate::revocation`, after [`verify`], which
/// checked its chain): revoked is a 400 like any other reason the seal can no longer sign; an
/// unknown status under a hard-fail anchor is a 503.
pub async fn check_revocation(state: &AppState, registration: &Registration, now_unix: i64) -> Result<(), ApiError> {
    let seal = registration.qsealc_der.as_ref().ok_or_else(|| unreadable(registration))?;
    let checked =
        state.revocation.check(&state.metrics, Certificate::Qsealc, std::slice::from_ref(seal), now_unix).await;
    checked.map_err(|refused| match refused {
        TrustError::RevocationUnknown(why) => ApiError::RevocationUnknown { certificate: "QSealC", why },
        // Short: STET's ErrorModel holds 140 characters.
        other => refuse(other.to_string().replacen("the certificate", "the registered QSealC", 1)),
    })
}

fn unreadable(registration: &Registration) -> ApiError {
    ApiError::Internal(format!("registered QSealC of {} unreadable", registration.org_id))
}

/// A header that may appear at most once.
fn one_header(headers: &HeaderMap, name: &str) -> Result<Option<String>, ApiError> {
    let mut values = headers.get_all(name).iter();
    let Some(first) = values.next() else { return Ok(None) };
    if values.next().is_some() {
        return Err(refuse(format!("the {name} header is sent more than once")));
    }
    first.to_str().map(|v| Some(v.to_owned())).map_err(|_| refuse(format!("the {name} header is not visible ASCII")))
}
