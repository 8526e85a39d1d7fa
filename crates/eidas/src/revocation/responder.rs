//! The sandbox CA's OCSP responder (RFC 6960 4.2): a basic response signed by the CA itself
//! (responderID by key hash), one SingleResponse per certificate asked about, the request's nonce
//! echoed (RFC 8954). Certificates of another issuer are "unknown".

use super::{NONCE_ARCS, SHA1_ARCS, Status, extension, key_bits, sha1};
use crate::der;
use crate::issue::TestCa;

/// `OCSPResponse` with only a status (malformedRequest 1, internalError 2).
fn failure(status: u8) -> Vec<u8> {
    der::sequence(&[der::tlv(der::ENUMERATED, &[status])])
}

fn time(unix: i64) -> Vec<u8> {
    let text: String = super::utc(unix).chars().filter(char::is_ascii_digit).chain(['Z']).collect();
    der::tlv(der::GENERALIZED_TIME, text.as_bytes())
}

/// Answers `request_der` for the certificates `ca` issued: `status_of` gives the status of a
/// serial (DER INTEGER content); answers are current from `now` for `valid_secs`.
pub fn ocsp_respond(
    request_der: &[u8],
    ca: &TestCa,
    status_of: impl Fn(&[u8]) -> Status,
    now: i64,
    valid_secs: i64,
) -> Vec<u8> {
    let Ok(ca_der) = ca.cert_der() else { return failure(2) };
    let Ok(ca_cert) = super::certificate(&ca_der) else { return failure(2) };
    let name_hash = sha1(ca_cert.subject().as_raw());
    let key_hash = sha1(key_bits(&ca_cert));
    let Some((cert_ids, nonce)) = read_request(request_der) else { return failure(1) };
    let mut singles = Vec::new();
    for cert_id in cert_ids {
        let Some(fields) = der::items(cert_id.content) else { return failure(1) };
        let [algorithm, names, keys, serial] = fields.as_slice() else { return failure(1) };
        let ours = der::items(algorithm.content).and_then(|a| a.first().map(|o| o.raw == der::oid(&SHA1_ARCS)))
            == Some(true)
            && names.content == name_hash
            && keys.content == key_hash;
        let status = if ours { status_of(serial.content) } else { Status::Unknown };
        let status = match status {
            Status::Good => vec![0x80, 0x00],
            Status::Revoked { at, .. } => der::tlv(0xA1, &time(at)),
            Status::Unknown => vec![0x82, 0x00],
        };
        singles.push(der::sequence(&[
            cert_id.raw.to_vec(),
            status,
            time(now),
            der::tlv(der::explicit(0), &time(now + valid_secs)),
        ]));
    }
    let mut data = vec![der::tlv(der::explicit(2), &der::octets(&key_hash)), time(now), der::sequence(&singles)];
    if let Some(nonce) = nonce {
        let nonce_ext = der::sequence(&[der::oid(&NONCE_ARCS), der::octets(&nonce)]);
        data.push(der::tlv(der::explicit(1), &der::sequence(&[nonce_ext])));
    }
    let tbs = der::sequence(&data);
    let Ok((algorithm, signature)) = ca.sign(&tbs) else { return failure(2) };
    let signature = der::tlv(der::BIT_STRING, &[&[0u8][..], &signature].concat());
    let basic = der::sequence(&[tbs, algorithm, signature]);
    let bytes = der::sequence(&[der::oid(&super::BASIC_ARCS), der::octets(&basic)]);
    der::sequence(&[der::tlv(der::ENUMERATED, &[0]), der::tlv(der::explicit(0), &bytes)])
}

/// The CertIDs a request asks about, and its nonce extension's value.
fn read_request(request_der: &[u8]) -> Option<(Vec<der::Tlv<'_>>, Option<Vec<u8>>)> {
    let request = der::read_only(request_der, der::SEQUENCE)?;
    let tbs = der::items(request.content)?.into_iter().next().filter(|t| t.tag == der::SEQUENCE)?;
    let fields = der::items(tbs.content)?;
    let list = fields.iter().find(|t| t.tag == der::SEQUENCE)?;
    let nonce = fields
        .iter()
        .find(|t| t.tag == der::explicit(2))
        .and_then(|e| extension(e.content, &NONCE_ARCS))
        .map(<[u8]>::to_vec);
    let mut cert_ids = Vec::new();
    for one in der::items(list.content)? {
        let parts = der::items(one.content)?;
        cert_ids.push(*parts.first().filter(|t| t.tag == der::SEQUENCE)?);
    }
    if cert_ids.is_empty() || cert_ids.len() > 16 {
        return None;
    }
    Some((cert_ids, nonce))
}
