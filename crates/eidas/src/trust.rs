//! Whether a TPP's certificate is acceptable: it chains to a configured QTSP trust anchor, is valid
//! at the given time, and says what a PSD2 certificate of its kind must say.
//!
//! - a QWAC (TLS client): organizationIdentifier in the PSD2 form, the PSD2 QCStatement, and not
//!   QcType eseal (a seal is not a TLS certificate);
//! - a QSealC (HTTP signatures): the same, but QcType eseal.
//!
//! Each refusal says which check failed, so the TPP knows what to fix.

use crate::psd2::{Psd2Certificate, QcType, parse_der};
use rustls_pki_types::{CertificateDer, TrustAnchor, UnixTime};
use std::time::Duration;
use stet::OrgId;
use webpki::{EndEntityCert, ExtendedKeyUsageValidator, KeyPurposeIdIter, KeyUsage};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrustError {
    #[error("the certificate cannot be read: {0}")]
    Unreadable(String),
    #[error("the certificate does not chain to a trusted QTSP root ({0})")]
    Untrusted(String),
    #[error("the certificate expired at {0} (Unix time)")]
    Expired(i64),
    #[error("the certificate is not valid before {0} (Unix time)")]
    NotYetValid(i64),
    #[error("the certificate has no organizationIdentifier of the PSD2 form (PSDFR-ACPR-12345)")]
    NoOrgId,
    #[error("the certificate lacks the PSD2 QCStatement (0.4.0.19495.2)")]
    NoPsd2Statement,
    #[error("the certificate has QcType eseal: a seal certificate (QSealC) cannot authenticate TLS; present the QWAC")]
    SealUsedForTls,
    #[error("the certificate is not a seal: QcType eseal (0.4.0.1862.1.6.2) is required for a QSealC")]
    NotASeal,
    /// Its QTSP revoked it (`by`: "CRL <url>" or "OCSP <url>", which says so). Short: STET's
    /// ErrorModel holds 140 characters.
    #[error("the certificate was revoked by its QTSP{} on {}, says {by}", reason_text(*.reason), crate::revocation::utc(*.at))]
    Revoked { at: i64, reason: Option<&'static str>, by: String },
    /// Its revocation status could not be established, and its trust anchor's policy is hard-fail.
    #[error("the certificate's revocation status could not be established ({0}); retry later")]
    RevocationUnknown(String),
}

fn reason_text(reason: Option<&'static str>) -> String {
    reason.map(|r| format!(" ({r})")).unwrap_or_default()
}

/// A certificate that passed its checks, with the organization it belongs to.
#[derive(Debug, Clone)]
pub struct Accepted {
    pub org_id: OrgId,
    pub certificate: Psd2Certificate,
}

/// Checks a QWAC presented for TLS client authentication (end-entity first, then intermediates).
pub fn check_qwac(
    chain: &[CertificateDer<'_>],
    anchors: &[TrustAnchor<'_>],
    now_unix: i64,
) -> Result<Accepted, TrustError> {
    let (end_entity, intermediates) =
        chain.split_first().ok_or_else(|| TrustError::Unreadable("empty chain".into()))?;
    verify_chain(end_entity, intermediates, anchors, now_unix, KeyUsage::client_auth())?;
    let certificate = parse_der(end_entity).map_err(|e| TrustError::Unreadable(e.to_string()))?;
    if certificate.is_qc_type(&QcType::Eseal) {
        return Err(TrustError::SealUsedForTls);
    }
    accepted(certificate)
}

/// Checks a QSealC (DER), e.g. at registration.
pub fn check_qsealc(der: &[u8], anchors: &[TrustAnchor<'_>], now_unix: i64) -> Result<Accepted, TrustError> {
    verify_chain(&CertificateDer::from(der), &[], anchors, now_unix, AnyUsage)?;
    let certificate = parse_der(der).map_err(|e| TrustError::Unreadable(e.to_string()))?;
    if !certificate.is_qc_type(&QcType::Eseal) {
        return Err(TrustError::NotASeal);
    }
    accepted(certificate)
}

fn accepted(certificate: Psd2Certificate) -> Result<Accepted, TrustError> {
    let org_id = certificate.org_id().ok_or(TrustError::NoOrgId)?;
    if certificate.psd2.is_none() {
        return Err(TrustError::NoPsd2Statement);
    }
    Ok(Accepted { org_id, certificate })
}

/// A seal signs documents and HTTP messages, whatever extended key usages its QTSP put in it.
struct AnyUsage;

impl ExtendedKeyUsageValidator for AnyUsage {
    fn validate(&self, _iter: KeyPurposeIdIter<'_, '_>) -> Result<(), webpki::Error> {
        Ok(())
    }
}

fn verify_chain(
    end_entity: &CertificateDer<'_>,
    intermediates: &[CertificateDer<'_>],
    anchors: &[TrustAnchor<'_>],
    now_unix: i64,
    usage: impl ExtendedKeyUsageValidator,
) -> Result<(), TrustError> {
    let ee = EndEntityCert::try_from(end_entity).map_err(|e| TrustError::Unreadable(format!("{e:?}")))?;
    let time = UnixTime::since_unix_epoch(Duration::from_secs(u64::try_from(now_unix).unwrap_or(0)));
    match ee.verify_for_usage(webpki::ALL_VERIFICATION_ALGS, anchors, intermediates, time, usage, None, None) {
        Ok(_) => Ok(()),
        Err(webpki::Error::CertExpired { not_after, .. }) => Err(TrustError::Expired(unix(not_after))),
        Err(webpki::Error::CertNotValidYet { not_before, .. }) => Err(TrustError::NotYetValid(unix(not_before))),
        Err(webpki::Error::UnknownIssuer) => Err(TrustError::Untrusted("unknown issuer".into())),
        Err(other) => Err(TrustError::Untrusted(format!("{other:?}"))),
    }
}

fn unix(t: UnixTime) -> i64 {
    i64::try_from(t.as_secs()).unwrap_or(i64::MAX)
}

/// Trust anchors from certificates (DER).
pub fn anchors(certificates: &[CertificateDer<'_>]) -> Result<Vec<TrustAnchor<'static>>, TrustError> {
    certificates
        .iter()
        .map(|c| {
            webpki::anchor_from_trusted_cert(c)
                .map(|a| a.to_owned())
                .map_err(|e| TrustError::Unreadable(format!("{e:?}")))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::issue::{TestCa, TppCertKind, TppCertRequest};
    use crate::psd2::Role;
    use rustls_pki_types::pem::PemObject;

    const NOW: i64 = 1_795_000_000;

    fn request(kind: TppCertKind) -> TppCertRequest {
        TppCertRequest {
            kind,
            org_id: OrgId::parse("PSDFR-ACPR-12345").unwrap(),
            name: "TPP".into(),
            roles: vec![Role::AccountInformation],
            nca_name: "ACPR".into(),
            nca_id: "FR-ACPR".into(),
            not_before: NOW - 86_400,
            not_after: NOW + 86_400,
            psd2_statement: true,
        }
    }

    fn der(pem: &str) -> CertificateDer<'static> {
        CertificateDer::from_pem_slice(pem.as_bytes()).unwrap()
    }

    #[test]
    fn every_check_names_itself() {
        let ca = TestCa::generate("QTSP", "tests", 10).unwrap();
        let other = TestCa::generate("Other QTSP", "elsewhere", 10).unwrap();
        let anchors = anchors(&[der(&ca.root().cert_pem)]).unwrap();
        let qwac = der(&ca.issue_tpp(&request(TppCertKind::Qwac)).unwrap().cert_pem);
        let seal = der(&ca.issue_tpp(&request(TppCertKind::Qsealc)).unwrap().cert_pem);

        let ok = check_qwac(std::slice::from_ref(&qwac), &anchors, NOW).unwrap();
        assert_eq!(ok.org_id.as_str(), "PSDFR-ACPR-12345");
        assert!(check_qsealc(&seal, &anchors, NOW).is_ok());

        let expired = check_qwac(std::slice::from_ref(&qwac), &anchors, NOW + 2 * 86_400);
        assert!(matches!(expired, Err(TrustError::Expired(t)) if t == NOW + 86_400), "{expired:?}");
        assert!(matches!(
            check_qwac(std::slice::from_ref(&qwac), &anchors, NOW - 2 * 86_400),
            Err(TrustError::NotYetValid(_))
        ));
        let foreign = der(&other.issue_tpp(&request(TppCertKind::Qwac)).unwrap().cert_pem);
        assert!(matches!(check_qwac(&[foreign], &anchors, NOW), Err(TrustError::Untrusted(_))));
        assert!(matches!(check_qwac(std::slice::from_ref(&seal), &anchors, NOW), Err(TrustError::SealUsedForTls)));
        assert!(matches!(check_qsealc(&qwac, &anchors, NOW), Err(TrustError::NotASeal)));
        let no_psd2 = der(&ca
            .issue_tpp(&TppCertRequest { psd2_statement: false, ..request(TppCertKind::Qwac) })
            .unwrap()
            .cert_pem);
        assert_eq!(check_qwac(&[no_psd2], &anchors, NOW).unwrap_err(), TrustError::NoPsd2Statement);
        // A server-only TLS certificate is no client certificate.
        let server = der(&ca.issue_server("plain", &["tpp.example".into()], 3650).unwrap().cert_pem);
        assert!(matches!(check_qwac(&[server], &anchors, unix_now()), Err(TrustError::Untrusted(_))));
    }

    fn unix_now() -> i64 {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
    }
}

/// How long a successful check is reused before it is made again, whatever the certificate's
/// own validity (bounds how long a change of the chain's intermediates could go unnoticed).
pub const MEMO_RECHECK_SECS: i64 = 300;
/// Remembered checks at most; beyond, the memo starts afresh (the keys are certificates that
/// passed every check, so only genuine TPP certificates fill it).
const MEMO_CAPACITY: usize = 10_000;

/// Successful QWAC and QSealC checks, remembered so that the requests of a TPP do not each parse
/// its certificates and verify their chains again (about 80 µs apiece: the criterion benchmark
/// `hot_paths`). A check is reused while the end-entity certificate is within its validity at
/// the time given and for at most [`MEMO_RECHECK_SECS`]; failures are never remembered. The memo
/// owns the trust anchors it checks against, so a remembered success always means "against these".
///
/// The memo remembers the chain, never the revocation status: the server asks its revocation
/// cache (CRL and OCSP answers, each kept until its `nextUpdate`) after every check, remembered
/// or not, so a certificate revoked after it was remembered is refused as soon as the QTSP's
/// next CRL or OCSP answer says so.
#[derive(Debug)]
pub struct TrustMemo {
    anchors: Vec<TrustAnchor<'static>>,
    entries: std::sync::Mutex<std::collections::HashMap<MemoKey, (Accepted, i64)>>,
}

/// (is a seal check, SHA-256 of what was checked).
type MemoKey = (bool, [u8; 32]);

impl TrustMemo {
    pub fn new(anchors: Vec<TrustAnchor<'static>>) -> TrustMemo {
        TrustMemo { anchors, entries: std::sync::Mutex::default() }
    }

    /// The QTSP roots certificates must chain to.
    pub fn anchors(&self) -> &[TrustAnchor<'static>] {
        &self.anchors
    }

    /// [`check_qwac`], remembered by the SHA-256 of the whole chain.
    pub fn check_qwac(&self, chain: &[CertificateDer<'_>], now_unix: i64) -> Result<Accepted, TrustError> {
        let mut context = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
        for certificate in chain {
            context.update(&(certificate.len() as u64).to_be_bytes());
            context.update(certificate);
        }
        let mut key = [0u8; 32];
        key.copy_from_slice(context.finish().as_ref());
        self.remembered((false, key), now_unix, || check_qwac(chain, &self.anchors, now_unix))
    }

    /// [`check_qsealc`], remembered by the SHA-256 of the certificate.
    pub fn check_qsealc(&self, der: &[u8], now_unix: i64) -> Result<Accepted, TrustError> {
        let key = crate::psd2::sha256(der);
        self.remembered((true, key), now_unix, || check_qsealc(der, &self.anchors, now_unix))
    }

    fn remembered(
        &self,
        key: MemoKey,
        now: i64,
        check: impl FnOnce() -> Result<Accepted, TrustError>,
    ) -> Result<Accepted, TrustError> {
        let usable = |(accepted, checked_at): &(Accepted, i64)| {
            let c = &accepted.certificate;
            now >= c.not_before && now <= c.not_after && (*checked_at..checked_at + MEMO_RECHECK_SECS).contains(&now)
        };
        if let Ok(entries) = self.entries.lock()
            && let Some(entry) = entries.get(&key).filter(|e| usable(e))
        {
            return Ok(entry.0.clone());
        }
        let accepted = check()?;
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= MEMO_CAPACITY {
                entries.clear();
            }
            entries.insert(key, (accepted.clone(), now));
        }
        Ok(accepted)
    }
}

#[cfg(test)]
mod memo_tests {
    use super::*;
    use crate::issue::{TestCa, TppCertKind, TppCertRequest};
    use crate::psd2::Role;
    use rustls_pki_types::pem::PemObject;

    fn issue(ca: &TestCa, kind: TppCertKind, not_after: i64) -> CertificateDer<'static> {
        let issued = ca
            .issue_tpp(&TppCertRequest {
                kind,
                org_id: OrgId::parse("PSDFR-ACPR-12345").unwrap(),
                name: "Memo TPP".into(),
                roles: vec![Role::AccountInformation],
                nca_name: "ACPR".into(),
                nca_id: "FR-ACPR".into(),
                not_before: 1_000,
                not_after,
                psd2_statement: true,
            })
            .unwrap();
        CertificateDer::from_pem_slice(issued.cert_pem.as_bytes()).unwrap()
    }

    #[test]
    fn a_remembered_check_still_ends_with_the_certificate_and_failures_are_not_kept() {
        let ca = TestCa::generate("Memo QTSP", "Memo", 50).unwrap();
        let root = CertificateDer::from_pem_slice(ca.root().cert_pem.as_bytes()).unwrap();
        let anchors = anchors(&[root]).unwrap();
        let now = 2_000_000_000;
        let qwac = issue(&ca, TppCertKind::Qwac, now + 100);
        let memo = TrustMemo::new(anchors);
        assert!(memo.check_qwac(std::slice::from_ref(&qwac), now).is_ok());
        assert!(memo.check_qwac(std::slice::from_ref(&qwac), now + 50).is_ok(), "reused");
        assert_eq!(
            memo.check_qwac(std::slice::from_ref(&qwac), now + 101).unwrap_err(),
            TrustError::Expired(now + 100),
            "the remembered check ends with the certificate's validity"
        );
        // A seal presented for TLS is refused every time, and the seal check is a separate entry.
        let seal = issue(&ca, TppCertKind::Qsealc, now + 100);
        for _ in 0..2 {
            assert_eq!(memo.check_qwac(std::slice::from_ref(&seal), now).unwrap_err(), TrustError::SealUsedForTls);
        }
        assert!(memo.check_qsealc(&seal, now).is_ok());
        assert_eq!(memo.check_qsealc(&qwac, now).unwrap_err(), TrustError::NotASeal);
        // A certificate of another CA is refused, however many of this CA's were accepted.
        let other = TestCa::generate("Other QTSP", "Other", 50).unwrap();
        let stranger = issue(&other, TppCertKind::Qwac, now + 100);
        assert!(matches!(memo.check_qwac(std::slice::from_ref(&stranger), now), Err(TrustError::Untrusted(_))));
    }
}
