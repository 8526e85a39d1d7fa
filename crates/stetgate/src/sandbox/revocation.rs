//! The sandbox CA's revocation service, so a TPP developer can see what a revoked certificate
//! gets: `stetgate certs revoke` lists a serial in `<data_dir>/pki/revoked.txt`; the sandbox
//! serves the CA's CRL (`GET /pki/ca.crl`, RFC 5280, current for 10 minutes) and answers OCSP
//! (`POST /pki/ocsp`, RFC 6960, answers current for 60 s) from that list, and the certificates
//! the sandbox CA issues name both (CRL distribution point, Authority Information Access). The
//! URLs are the running sandbox's (`https://localhost:<port>`), written to
//! `<data_dir>/pki/published.txt` at start so that `stetgate certs issue` names them too.

use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use eidas::issue::{Published, RevokedEntry, TestCa};
use eidas::revocation::Status;
use std::path::{Path, PathBuf};

/// How long the sandbox's CRL is current.
const CRL_SECS: i64 = 600;
/// How long the sandbox's OCSP answers are current (a revocation shows within a minute).
const OCSP_SECS: i64 = 60;

fn revoked_file(data_dir: &Path) -> PathBuf {
    data_dir.join("pki").join("revoked.txt")
}

fn published_file(data_dir: &Path) -> PathBuf {
    data_dir.join("pki").join("published.txt")
}

/// Where a sandbox listening on `port` publishes.
pub fn published_at(port: u16) -> Published {
    Published {
        crl_url: format!("https://localhost:{port}/pki/ca.crl"),
        ocsp_url: format!("https://localhost:{port}/pki/ocsp"),
    }
}

/// Notes where the running sandbox publishes (read by `stetgate certs issue`).
pub fn write_published(data_dir: &Path, published: &Published) -> std::io::Result<()> {
    std::fs::write(published_file(data_dir), format!("{}\n{}\n", published.crl_url, published.ocsp_url))
}

/// Where the sandbox of `data_dir` last published, if it ever ran.
pub fn read_published(data_dir: &Path) -> Option<Published> {
    let text = std::fs::read_to_string(published_file(data_dir)).ok()?;
    let mut lines = text.lines();
    let crl_url = lines.next()?.trim().to_owned();
    let ocsp_url = lines.next()?.trim().to_owned();
    Some(Published { crl_url, ocsp_url })
}

/// The certificates revoked so far: one `<serial hex> <unix time>` per line.
pub fn revoked(data_dir: &Path) -> Vec<RevokedEntry> {
    let text = std::fs::read_to_string(revoked_file(data_dir)).unwrap_or_default();
    text.lines()
        .filter_map(|line| {
            let (serial, at) = line.split_once(' ')?;
            Some(RevokedEntry { serial: from_hex(serial)?, revoked_at: at.trim().parse().ok()? })
        })
        .collect()
}

/// Revokes the serial `serial_hex` (any case, leading zeros ignored) at `now`; `false` when it
/// was already.
pub fn revoke(data_dir: &Path, serial_hex: &str, now: i64) -> Result<bool, String> {
    let serial = from_hex(serial_hex).ok_or_else(|| format!("{serial_hex:?} is not a hexadecimal serial number"))?;
    if revoked(data_dir).iter().any(|e| same_serial(&e.serial, &serial)) {
        return Ok(false);
    }
    let file = revoked_file(data_dir);
    let mut text = std::fs::read_to_string(&file).unwrap_or_default();
    text.push_str(&format!("{} {now}\n", eidas::psd2::hex(&serial)));
    std::fs::write(&file, text).map_err(|e| format!("{}: {e}", file.display()))?;
    Ok(true)
}

fn from_hex(text: &str) -> Option<Vec<u8>> {
    let text = text.trim().trim_start_matches("0x").replace(':', "");
    let padded = if text.len() % 2 == 1 { format!("0{text}") } else { text };
    if padded.is_empty() {
        return None;
    }
    (0..padded.len()).step_by(2).map(|i| u8::from_str_radix(padded.get(i..i + 2)?, 16).ok()).collect()
}

fn same_serial(a: &[u8], b: &[u8]) -> bool {
    let strip = |s: &[u8]| s.iter().skip_while(|b| **b == 0).copied().collect::<Vec<u8>>();
    strip(a) == strip(b)
}

/// The sandbox CA, naming where the sandbox listening on `port` publishes.
pub fn publishing_ca(data_dir: &Path, port: u16, now_unix: i64) -> Result<TestCa, String> {
    let published = published_at(port);
    write_published(data_dir, &published).map_err(|e| format!("{}: {e}", published_file(data_dir).display()))?;
    let ca = super::certs::load_ca(data_dir, now_unix).map_err(|e| e.to_string())?;
    Ok(ca.publishing(published))
}

fn data_dir(state: &AppState) -> &Path {
    &state.config.data_dir
}

/// `GET /pki/ca.crl`: the sandbox CA's CRL (DER).
pub async fn crl(State(state): State<AppState>) -> Response {
    let Some(ca) = state.sandbox_ca.clone() else { return StatusCode::NOT_FOUND.into_response() };
    let now = state.clock.now().as_second();
    let revoked = revoked(data_dir(&state));
    match ca.revocation_list(&revoked, u64::try_from(now).unwrap_or(0), now - 60, now + CRL_SECS) {
        Ok(der) => with_type(der, "application/pkix-crl"),
        Err(e) => {
            tracing::error!(error = %e, "the sandbox CRL could not be made");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// `POST /pki/ocsp`: the sandbox CA's OCSP responder.
pub async fn ocsp(State(state): State<AppState>, body: Bytes) -> Response {
    let Some(ca) = state.sandbox_ca.clone() else { return StatusCode::NOT_FOUND.into_response() };
    let now = state.clock.now().as_second();
    let revoked = revoked(data_dir(&state));
    let status_of = |serial: &[u8]| match revoked.iter().find(|e| same_serial(&e.serial, serial)) {
        Some(entry) => Status::Revoked { at: entry.revoked_at, reason: None },
        None => Status::Good,
    };
    with_type(eidas::revocation::ocsp_respond(&body, &ca, status_of, now, OCSP_SECS), "application/ocsp-response")
}

fn with_type(body: Vec<u8>, content_type: &'static str) -> Response {
    let mut response = body.into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revocations_are_listed_once_and_published_urls_read_back() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("pki")).unwrap();
        assert_eq!(revoke(dir.path(), "0A:1b", 100), Ok(true));
        assert_eq!(revoke(dir.path(), "000a1B", 200), Ok(false), "the same serial, written otherwise");
        assert!(revoke(dir.path(), "xyz", 200).is_err());
        assert_eq!(revoked(dir.path()), vec![RevokedEntry { serial: vec![0x0a, 0x1b], revoked_at: 100 }]);
        assert_eq!(read_published(dir.path()), None);
        write_published(dir.path(), &published_at(8443)).unwrap();
        assert_eq!(read_published(dir.path()), Some(published_at(8443)));
    }
}
