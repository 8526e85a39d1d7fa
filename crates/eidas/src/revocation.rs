//! Whether a QWAC or QSealC was revoked by its QTSP: where the certificate says its status is
//! published (CRL distribution points, RFC 5280 4.2.1.13; the OCSP responder of its Authority
//! Information Access, 4.2.2.1), and the checks of what comes back, without any I/O:
//!
//! - a CRL (RFC 5280 section 5) must be signed by the certificate's issuer and name it;
//! - an OCSP request (RFC 6960 4.1) names the certificate by SHA-1 hashes of its issuer's name and
//!   key and its serial, and carries a random nonce (RFC 8954); the response (4.2) must be
//!   "successful", basic, signed by the issuer or by a responder the issuer certified for OCSP
//!   signing (4.2.2.2), answer for that certificate, echo the nonce when it carries one, and be
//!   current (`thisUpdate` not in the future, `nextUpdate` not past).
//!
//! Fetching, caching and the hard/soft-fail policy are the server's (`stetgate::revocation`).

use crate::der::{self, Tlv};
use std::collections::HashMap;
use x509_parser::prelude::{FromDer, GeneralName, ParsedExtension, X509Certificate};

/// How far in the future a `thisUpdate` may be (clocks differ).
const CLOCK_SKEW_SECS: i64 = 300;
/// At most this many URLs of each kind are taken from a certificate.
const MAX_URLS: usize = 4;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RevocationError {
    #[error("the certificate cannot be read: {0}")]
    Certificate(String),
    #[error("the CRL is not usable: {0}")]
    Crl(String),
    #[error("the OCSP response is not usable: {0}")]
    Ocsp(String),
}

/// Where a certificate's revocation status is published (http and https URLs only).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sources {
    pub crl: Vec<String>,
    pub ocsp: Vec<String>,
}

impl Sources {
    pub fn is_empty(&self) -> bool {
        self.crl.is_empty() && self.ocsp.is_empty()
    }
}

/// What the QTSP says of a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Good,
    /// Revoked at this Unix time, for this RFC 5280 reason (when given).
    Revoked {
        at: i64,
        reason: Option<&'static str>,
    },
    /// The OCSP responder does not know the certificate.
    Unknown,
}

fn certificate(der_bytes: &[u8]) -> Result<X509Certificate<'_>, RevocationError> {
    X509Certificate::from_der(der_bytes).map(|(_, c)| c).map_err(|e| RevocationError::Certificate(e.to_string()))
}

/// The DER of a certificate's issuer and subject names (to find its issuer among trust anchors).
pub fn names(cert_der: &[u8]) -> Result<(Vec<u8>, Vec<u8>), RevocationError> {
    let cert = certificate(cert_der)?;
    Ok((cert.issuer().as_raw().to_vec(), cert.subject().as_raw().to_vec()))
}

/// The CRL distribution points and OCSP responders a certificate names.
pub fn sources(cert_der: &[u8]) -> Result<Sources, RevocationError> {
    let cert = certificate(cert_der)?;
    let mut found = Sources::default();
    let web = |uri: &str| uri.starts_with("http://") || uri.starts_with("https://");
    for extension in cert.extensions() {
        match extension.parsed_extension() {
            ParsedExtension::CRLDistributionPoints(points) => {
                for point in points.iter() {
                    if let Some(x509_parser::extensions::DistributionPointName::FullName(names)) =
                        &point.distribution_point
                    {
                        for name in names {
                            if let GeneralName::URI(uri) = name
                                && web(uri)
                            {
                                found.crl.push((*uri).to_owned());
                            }
                        }
                    }
                }
            }
            ParsedExtension::AuthorityInfoAccess(access) => {
                for description in &access.accessdescs {
                    if description.access_method.to_id_string() == "1.3.6.1.5.5.7.48.1"
                        && let GeneralName::URI(uri) = &description.access_location
                        && web(uri)
                    {
                        found.ocsp.push((*uri).to_owned());
                    }
                }
            }
            _ => {}
        }
    }
    found.crl.truncate(MAX_URLS);
    found.ocsp.truncate(MAX_URLS);
    Ok(found)
}

/// A Unix time as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn utc(unix: i64) -> String {
    let at = time::OffsetDateTime::from_unix_timestamp(unix).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

/// A serial number without the leading zero bytes of its DER INTEGER, so encodings compare.
fn serial_key(raw: &[u8]) -> Vec<u8> {
    let start = raw.iter().position(|b| *b != 0).unwrap_or(raw.len());
    raw[start..].to_vec()
}

/// The RFC 5280 5.3.1 name of a CRLReason.
pub fn reason_name(code: u8) -> Option<&'static str> {
    Some(match code {
        0 => "unspecified",
        1 => "keyCompromise",
        2 => "cACompromise",
        3 => "affiliationChanged",
        4 => "superseded",
        5 => "cessationOfOperation",
        6 => "certificateHold",
        8 => "removeFromCRL",
        9 => "privilegeWithdrawn",
        10 => "aACompromise",
        _ => return None,
    })
}

/// A verified certificate revocation list: the serials its issuer revoked.
#[derive(Debug, Clone)]
pub struct Crl {
    issuer: Vec<u8>,
    /// Unix times.
    pub this_update: i64,
    pub next_update: Option<i64>,
    revoked: HashMap<Vec<u8>, (i64, Option<&'static str>)>,
}

impl Crl {
    /// Parses a CRL (DER) and checks that `issuer_der`, the certificate's issuer, signed it.
    pub fn parse(crl_der: &[u8], issuer_der: &[u8]) -> Result<Crl, RevocationError> {
        let bad = |why: String| RevocationError::Crl(why);
        let issuer = certificate(issuer_der)?;
        verify_signed(crl_der, issuer.public_key().raw).map_err(bad)?;
        let (_, crl) = x509_parser::parse_x509_crl(crl_der).map_err(|e| bad(format!("not a CRL: {e}")))?;
        if crl.issuer().as_raw() != issuer.subject().as_raw() {
            return Err(bad(format!("issued by {}, not by {}", crl.issuer(), issuer.subject())));
        }
        let revoked = crl
            .iter_revoked_certificates()
            .map(|entry| {
                let reason = entry.reason_code().and_then(|(_, code)| reason_name(code.0));
                (serial_key(entry.raw_serial()), (entry.revocation_date.timestamp(), reason))
            })
            .collect();
        Ok(Crl {
            issuer: issuer.subject().as_raw().to_vec(),
            this_update: crl.last_update().timestamp(),
            next_update: crl.next_update().map(|t| t.timestamp()),
            revoked,
        })
    }

    /// The status of `cert_der` by this list (Good or Revoked); an error when another issuer's.
    pub fn status_of(&self, cert_der: &[u8]) -> Result<Status, RevocationError> {
        let cert = certificate(cert_der)?;
        if cert.issuer().as_raw() != self.issuer.as_slice() {
            return Err(RevocationError::Crl("the list is not of the certificate's issuer".into()));
        }
        Ok(match self.revoked.get(&serial_key(cert.raw_serial())) {
            Some((at, reason)) => Status::Revoked { at: *at, reason: *reason },
            None => Status::Good,
        })
    }

    /// How many certificates the list revokes.
    pub fn len(&self) -> usize {
        self.revoked.len()
    }

    pub fn is_empty(&self) -> bool {
        self.revoked.is_empty()
    }
}

/// Checks that the signed object `signed` (a SEQUENCE of the signed data, its AlgorithmIdentifier
/// and a BIT STRING: a certificate, a CRL) was signed by the key of `signer_spki`.
fn verify_signed(signed: &[u8], signer_spki: &[u8]) -> Result<(), String> {
    let outer = der::read_only(signed, der::SEQUENCE).ok_or("not DER")?;
    match der::items(outer.content).as_deref() {
        Some([data, algorithm, signature, ..]) => verify(signer_spki, algorithm, data.raw, signature),
        _ => Err("not a signed object".into()),
    }
}

/// Verifies `signature` (BIT STRING) over `message` with the key of `signer_spki` under
/// `algorithm` (AlgorithmIdentifier), with the algorithms webpki accepts for certificates.
fn verify(signer_spki: &[u8], algorithm: &Tlv<'_>, message: &[u8], signature: &Tlv<'_>) -> Result<(), String> {
    let spki = der::read_only(signer_spki, der::SEQUENCE).ok_or("unreadable signer key")?;
    let (key_algorithm, key) = match der::items(spki.content).as_deref() {
        Some([a, k]) if k.tag == der::BIT_STRING => (*a, *k),
        _ => return Err("unreadable signer key".into()),
    };
    let bits = |t: &Tlv<'_>| match t.content.split_first() {
        Some((0, rest)) if t.tag == der::BIT_STRING => Some(rest.to_vec()),
        _ => None,
    };
    let (Some(key), Some(signature)) = (bits(&key), bits(signature)) else {
        return Err("malformed key or signature".into());
    };
    let chosen = webpki::ALL_VERIFICATION_ALGS.iter().find(|candidate| {
        candidate.public_key_alg_id().as_ref() == key_algorithm.content
            && candidate.signature_alg_id().as_ref() == algorithm.content
    });
    match chosen {
        Some(chosen) => {
            chosen.verify_signature(&key, message, &signature).map_err(|_| "the signature does not verify".to_owned())
        }
        None => Err("unsupported signature algorithm".into()),
    }
}

const SHA1_ARCS: [u64; 6] = [1, 3, 14, 3, 2, 26];
const NONCE_ARCS: [u64; 10] = [1, 3, 6, 1, 5, 5, 7, 48, 1, 2];
const BASIC_ARCS: [u64; 10] = [1, 3, 6, 1, 5, 5, 7, 48, 1, 1];

/// An OCSP request for one certificate, and what its response must match.
#[derive(Debug, Clone)]
pub struct OcspRequest {
    /// The DER to POST (`application/ocsp-request`).
    pub der: Vec<u8>,
    name_hash: Vec<u8>,
    key_hash: Vec<u8>,
    serial: Vec<u8>,
    /// The nonce extension's value as sent (an OCTET STRING holding the nonce).
    nonce_value: Vec<u8>,
}

fn sha1(bytes: &[u8]) -> Vec<u8> {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, bytes).as_ref().to_vec()
}

/// The subjectPublicKey bits of a certificate (what an OCSP key hash covers).
fn key_bits<'a>(cert: &'a X509Certificate<'_>) -> &'a [u8] {
    cert.public_key().subject_public_key.data.as_ref()
}

/// Builds the OCSP request for `cert_der`, issued by `issuer_der`, with `nonce` (16 random bytes
/// or more, RFC 8954 allows 1 to 32).
pub fn ocsp_request(cert_der: &[u8], issuer_der: &[u8], nonce: &[u8]) -> Result<OcspRequest, RevocationError> {
    let cert = certificate(cert_der)?;
    let issuer = certificate(issuer_der)?;
    let name_hash = sha1(issuer.subject().as_raw());
    let key_hash = sha1(key_bits(&issuer));
    let cert_id = der::sequence(&[
        der::sequence(&[der::oid(&SHA1_ARCS), der::NULL.to_vec()]),
        der::octets(&name_hash),
        der::octets(&key_hash),
        der::tlv(der::INTEGER, cert.raw_serial()),
    ]);
    let nonce_value = der::octets(nonce);
    let extensions = der::sequence(&[der::sequence(&[der::oid(&NONCE_ARCS), der::octets(&nonce_value)])]);
    let tbs = der::sequence(&[der::sequence(&[der::sequence(&[cert_id])]), der::tlv(der::explicit(2), &extensions)]);
    Ok(OcspRequest {
        der: der::sequence(&[tbs]),
        name_hash,
        key_hash,
        serial: serial_key(cert.raw_serial()),
        nonce_value,
    })
}

/// A verified OCSP answer for one certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OcspAnswer {
    pub status: Status,
    /// Unix times.
    pub this_update: i64,
    pub next_update: Option<i64>,
    /// Whether the response echoed the request's nonce (it may carry none: pre-produced answers).
    pub nonce_echoed: bool,
}

fn ocsp_error(why: impl Into<String>) -> RevocationError {
    RevocationError::Ocsp(why.into())
}

/// Checks an OCSP response to `request` against the certificate's issuer, at `now` (Unix time).
pub fn ocsp_answer(
    response: &[u8],
    request: &OcspRequest,
    issuer_der: &[u8],
    now: i64,
) -> Result<OcspAnswer, RevocationError> {
    let issuer = certificate(issuer_der)?;
    let basic = basic_response(response)?;
    let parts = der::items(basic.content).ok_or_else(|| ocsp_error("malformed BasicOCSPResponse"))?;
    let [tbs, algorithm, signature, rest @ ..] = parts.as_slice() else {
        return Err(ocsp_error("malformed BasicOCSPResponse"));
    };
    let certs = rest.iter().find(|t| t.tag == der::explicit(0));
    let signer_spki = responder_key(&issuer, certs, now)?;
    let by_issuer = verify(issuer.public_key().raw, algorithm, tbs.raw, signature);
    let by_responder = || match &signer_spki {
        Some(spki) => verify(spki, algorithm, tbs.raw, signature),
        None => Err("no delegated responder certificate".into()),
    };
    if by_issuer.is_err() && by_responder().is_err() {
        return Err(ocsp_error("not signed by the issuer or a responder it certified for OCSP signing"));
    }
    let answer = response_data(tbs, request)?;
    if answer.this_update > now + CLOCK_SKEW_SECS {
        return Err(ocsp_error(format!("thisUpdate {} is in the future", answer.this_update)));
    }
    if let Some(next) = answer.next_update
        && next < now
    {
        return Err(ocsp_error(format!("out of date: nextUpdate {next} has passed")));
    }
    Ok(answer)
}

/// The BasicOCSPResponse of a successful OCSPResponse.
fn basic_response(response: &[u8]) -> Result<Tlv<'_>, RevocationError> {
    let outer = der::read_only(response, der::SEQUENCE).ok_or_else(|| ocsp_error("not DER"))?;
    let items = der::items(outer.content).ok_or_else(|| ocsp_error("malformed OCSPResponse"))?;
    match items.as_slice() {
        [status, ..] if status.tag == der::ENUMERATED && status.content != [0] => {
            let name = match status.content {
                [1] => "malformedRequest",
                [2] => "internalError",
                [3] => "tryLater",
                [5] => "sigRequired",
                [6] => "unauthorized",
                _ => "an unknown status",
            };
            Err(ocsp_error(format!("the responder answered {name}")))
        }
        [_, bytes] if bytes.tag == der::explicit(0) => {
            let response_bytes = der::read_only(bytes.content, der::SEQUENCE)
                .and_then(|s| der::items(s.content))
                .ok_or_else(|| ocsp_error("malformed responseBytes"))?;
            match response_bytes.as_slice() {
                [kind, body] if kind.raw == der::oid(&BASIC_ARCS) && body.tag == der::OCTET_STRING => {
                    der::read_only(body.content, der::SEQUENCE).ok_or_else(|| ocsp_error("malformed basic response"))
                }
                _ => Err(ocsp_error("not a basic OCSP response")),
            }
        }
        _ => Err(ocsp_error("malformed OCSPResponse")),
    }
}

/// The key of a delegated responder among `certs`: certified by the issuer for OCSP signing
/// (id-kp-OCSPSigning) and valid at `now`.
fn responder_key(
    issuer: &X509Certificate<'_>,
    certs: Option<&Tlv<'_>>,
    now: i64,
) -> Result<Option<Vec<u8>>, RevocationError> {
    let Some(certs) = certs else { return Ok(None) };
    let list = der::read_only(certs.content, der::SEQUENCE)
        .and_then(|s| der::items(s.content))
        .ok_or_else(|| ocsp_error("malformed certs"))?;
    for candidate in list {
        let Ok(cert) = certificate(candidate.raw) else { continue };
        let for_ocsp = matches!(cert.extended_key_usage(), Ok(Some(eku)) if eku.value.ocsp_signing);
        let validity = cert.validity();
        let current = validity.not_before.timestamp() <= now && now <= validity.not_after.timestamp();
        if for_ocsp
            && current
            && cert.issuer().as_raw() == issuer.subject().as_raw()
            && verify_signed(candidate.raw, issuer.public_key().raw).is_ok()
        {
            return Ok(Some(cert.public_key().raw.to_vec()));
        }
    }
    Ok(None)
}

/// The single response for the request's certificate, and the nonce check.
fn response_data(tbs: &Tlv<'_>, request: &OcspRequest) -> Result<OcspAnswer, RevocationError> {
    let items = der::items(tbs.content).ok_or_else(|| ocsp_error("malformed ResponseData"))?;
    let mut fields = items.iter().filter(|t| t.tag != der::explicit(0)).skip(1); // version, responderID
    let _produced_at = fields.next().filter(|t| t.tag == der::GENERALIZED_TIME);
    let responses = fields.next().filter(|t| t.tag == der::SEQUENCE).ok_or_else(|| ocsp_error("no responses"))?;
    let extensions = fields.next().filter(|t| t.tag == der::explicit(1));
    let nonce = extensions.and_then(|e| extension(e.content, &NONCE_ARCS));
    if let Some(value) = nonce
        && value != request.nonce_value.as_slice()
    {
        return Err(ocsp_error("the nonce is not the request's (a replayed response?)"));
    }
    let singles = der::items(responses.content).ok_or_else(|| ocsp_error("malformed responses"))?;
    for single in singles {
        if let Some(mut answer) = single_response(&single, request)? {
            answer.nonce_echoed = nonce.is_some();
            return Ok(answer);
        }
    }
    Err(ocsp_error("no answer for the certificate asked about"))
}

/// The value of the extension `arcs` in an EXPLICIT-tagged Extensions.
fn extension<'a>(tagged: &'a [u8], arcs: &[u64]) -> Option<&'a [u8]> {
    let list = der::read_only(tagged, der::SEQUENCE)?;
    let wanted = der::oid(arcs);
    der::items(list.content)?.into_iter().find_map(|ext| {
        let parts = der::items(ext.content)?;
        match (parts.first(), parts.last()) {
            (Some(id), Some(value)) if id.raw == wanted.as_slice() && value.tag == der::OCTET_STRING => {
                Some(value.content)
            }
            _ => None,
        }
    })
}

/// One SingleResponse: `None` when it is about another certificate.
fn single_response(single: &Tlv<'_>, request: &OcspRequest) -> Result<Option<OcspAnswer>, RevocationError> {
    let bad = || ocsp_error("malformed SingleResponse");
    let parts = der::items(single.content).ok_or_else(bad)?;
    let [cert_id, status, this_update, rest @ ..] = parts.as_slice() else { return Err(bad()) };
    let id = der::items(cert_id.content).ok_or_else(bad)?;
    let [algorithm, name_hash, key_hash, serial] = id.as_slice() else { return Err(bad()) };
    let same = der::items(algorithm.content).and_then(|a| a.first().map(|o| o.raw == der::oid(&SHA1_ARCS)))
        == Some(true)
        && name_hash.content == request.name_hash
        && key_hash.content == request.key_hash
        && serial_key(serial.content) == request.serial;
    if !same {
        return Ok(None);
    }
    let status = match status.tag {
        0x80 => Status::Good,
        0xA1 => {
            let revoked = der::items(status.content).ok_or_else(bad)?;
            let at = revoked.first().map(|t| generalized_time(t.content)).transpose()?.ok_or_else(bad)?;
            let reason = revoked
                .get(1)
                .and_then(|r| der::read_only(r.content, der::ENUMERATED))
                .and_then(|e| e.content.first().copied())
                .and_then(reason_name);
            Status::Revoked { at, reason }
        }
        0x82 => Status::Unknown,
        _ => return Err(bad()),
    };
    let next_update = rest
        .iter()
        .find(|t| t.tag == der::explicit(0))
        .map(|t| {
            der::read_only(t.content, der::GENERALIZED_TIME).ok_or_else(bad).and_then(|g| generalized_time(g.content))
        })
        .transpose()?;
    Ok(Some(OcspAnswer {
        status,
        this_update: generalized_time(this_update.content)?,
        next_update,
        nonce_echoed: false,
    }))
}

/// A GeneralizedTime `YYYYMMDDHHMMSS[.f*]Z` as Unix seconds.
fn generalized_time(text: &[u8]) -> Result<i64, RevocationError> {
    let bad = || ocsp_error("malformed GeneralizedTime");
    let text = std::str::from_utf8(text).map_err(|_| bad())?;
    let digits = text.strip_suffix('Z').ok_or_else(bad)?;
    let whole = digits.split('.').next().unwrap_or("");
    if whole.len() != 14 || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let n = |range: std::ops::Range<usize>| whole[range].parse::<u16>().map_err(|_| bad());
    let month = time::Month::try_from(u8::try_from(n(4..6)?).map_err(|_| bad())?).map_err(|_| bad())?;
    let day = u8::try_from(n(6..8)?).map_err(|_| bad())?;
    let date = time::Date::from_calendar_date(i32::from(n(0..4)?), month, day).map_err(|_| bad())?;
    let hms = |r| n(r).and_then(|v| u8::try_from(v).map_err(|_| bad()));
    let at = time::Time::from_hms(hms(8..10)?, hms(10..12)?, hms(12..14)?).map_err(|_| bad())?;
    Ok(time::PrimitiveDateTime::new(date, at).assume_utc().unix_timestamp())
}

mod responder;
pub use responder::ocsp_respond;

#[cfg(test)]
mod tests;
