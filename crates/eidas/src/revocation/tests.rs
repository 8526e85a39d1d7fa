//! CRLs made by rcgen and OCSP answers made by the sandbox's responder, read back by the checks
//! (the integration tests use openssl's CA and responder as the independent side).

use super::*;
use crate::issue::{Published, RevokedEntry, TestCa, TppCertKind, TppCertRequest};
use crate::psd2::Role;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use stet::OrgId;

const NOW: i64 = 1_795_000_000;

fn published(ca: TestCa) -> TestCa {
    ca.publishing(Published { crl_url: "http://qtsp.test/ca.crl".into(), ocsp_url: "http://qtsp.test/ocsp".into() })
}

fn issue(ca: &TestCa) -> Vec<u8> {
    let issued = ca
        .issue_tpp(&TppCertRequest {
            kind: TppCertKind::Qwac,
            org_id: OrgId::parse("PSDFR-ACPR-12345").unwrap(),
            name: "TPP".into(),
            roles: vec![Role::AccountInformation],
            nca_name: "ACPR".into(),
            nca_id: "FR-ACPR".into(),
            not_before: NOW - 86_400,
            not_after: NOW + 86_400,
            psd2_statement: true,
        })
        .unwrap();
    CertificateDer::from_pem_slice(issued.cert_pem.as_bytes()).unwrap().to_vec()
}

fn serial(der_bytes: &[u8]) -> Vec<u8> {
    certificate(der_bytes).unwrap().raw_serial().to_vec()
}

#[test]
fn a_certificate_names_where_its_status_is_published() {
    let ca = published(TestCa::generate("QTSP", "tests", 10).unwrap());
    let found = sources(&issue(&ca)).unwrap();
    assert_eq!(found.crl, vec!["http://qtsp.test/ca.crl"]);
    assert_eq!(found.ocsp, vec!["http://qtsp.test/ocsp"]);
    let plain = TestCa::generate("QTSP", "tests", 10).unwrap();
    assert!(sources(&issue(&plain)).unwrap().is_empty(), "a CA that publishes nothing");
}

#[test]
fn a_crl_revokes_what_it_lists_and_only_its_issuer_s() {
    let ca = published(TestCa::generate("QTSP", "tests", 10).unwrap());
    let (revoked, kept) = (issue(&ca), issue(&ca));
    let entry = RevokedEntry { serial: serial(&revoked), revoked_at: NOW - 60 };
    let der_crl = ca.revocation_list(&[entry], 1, NOW - 100, NOW + 3600).unwrap();
    let crl = Crl::parse(&der_crl, &ca.cert_der().unwrap()).unwrap();
    assert_eq!((crl.this_update, crl.next_update, crl.len()), (NOW - 100, Some(NOW + 3600), 1));
    assert_eq!(crl.status_of(&revoked).unwrap(), Status::Revoked { at: NOW - 60, reason: None });
    assert_eq!(crl.status_of(&kept).unwrap(), Status::Good);

    let other = TestCa::generate("Other QTSP", "elsewhere", 10).unwrap();
    let forged = other.revocation_list(&[], 1, NOW - 100, NOW + 3600).unwrap();
    assert!(matches!(Crl::parse(&forged, &ca.cert_der().unwrap()), Err(RevocationError::Crl(_))), "another key");
    assert!(crl.status_of(&issue(&other)).is_err(), "a certificate of another issuer");
    let mut tampered = der_crl.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    assert!(Crl::parse(&tampered, &ca.cert_der().unwrap()).is_err(), "a broken signature");
}

#[test]
fn ocsp_answers_are_checked_for_certificate_nonce_signer_and_time() {
    let ca = published(TestCa::generate("QTSP", "tests", 10).unwrap());
    let issuer = ca.cert_der().unwrap();
    let (revoked, kept) = (issue(&ca), issue(&ca));
    let revoked_serial = serial(&revoked);
    let status_of = |s: &[u8]| {
        if s == revoked_serial.as_slice() { Status::Revoked { at: NOW - 60, reason: None } } else { Status::Good }
    };
    let ask = |cert: &[u8], nonce: &[u8]| ocsp_request(cert, &issuer, nonce).unwrap();

    let request = ask(&kept, b"0123456789abcdef");
    let answer = ocsp_answer(&ocsp_respond(&request.der, &ca, status_of, NOW, 600), &request, &issuer, NOW).unwrap();
    assert_eq!(
        answer,
        OcspAnswer { status: Status::Good, this_update: NOW, next_update: Some(NOW + 600), nonce_echoed: true }
    );
    let request = ask(&revoked, b"fedcba9876543210");
    let answer = ocsp_answer(&ocsp_respond(&request.der, &ca, status_of, NOW, 600), &request, &issuer, NOW).unwrap();
    assert_eq!(answer.status, Status::Revoked { at: NOW - 60, reason: None });

    // A response to another request (its nonce) is a replay.
    let earlier = ask(&kept, b"another nonce 16");
    let replayed = ocsp_respond(&earlier.der, &ca, status_of, NOW, 600);
    let request = ask(&kept, b"0123456789abcdef");
    assert!(ocsp_answer(&replayed, &request, &issuer, NOW).unwrap_err().to_string().contains("nonce"));
    // Out of date, and signed by someone else.
    let fresh = ocsp_respond(&request.der, &ca, status_of, NOW, 600);
    assert!(ocsp_answer(&fresh, &request, &issuer, NOW + 601).unwrap_err().to_string().contains("nextUpdate"));
    let other = TestCa::generate("Other QTSP", "elsewhere", 10).unwrap();
    let forged = ocsp_respond(&request.der, &other, status_of, NOW, 600);
    assert!(ocsp_answer(&forged, &request, &issuer, NOW).is_err(), "signed by another CA");
    // The responder does not know another CA's certificates.
    let stranger = issue(&other);
    let request = ocsp_request(&stranger, &other.cert_der().unwrap(), b"0123456789abcdef").unwrap();
    let answer =
        ocsp_answer(&ocsp_respond(&request.der, &ca, status_of, NOW, 600), &request, &other.cert_der().unwrap(), NOW);
    assert!(answer.is_err(), "signed by a CA that is not the certificate's issuer: {answer:?}");
    assert!(
        ocsp_answer(&[0x30, 0x03, 0x0a, 0x01, 0x03], &request, &issuer, NOW)
            .unwrap_err()
            .to_string()
            .contains("tryLater")
    );
}

#[test]
fn generalized_times_read() {
    assert_eq!(generalized_time(b"20261201153000Z").unwrap(), 1_796_139_000);
    assert_eq!(generalized_time(b"20261201153000.123Z").unwrap(), 1_796_139_000);
    assert!(generalized_time(b"2026120115300Z").is_err());
    assert_eq!(utc(1_796_139_000), "2026-12-01T15:30:00Z");
    assert!(generalized_time(b"20261301153000Z").is_err());
}

proptest::proptest! {
    #[test]
    fn no_response_bytes_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200)) {
        let ca = TestCa::generate("QTSP", "tests", 1).unwrap();
        let issuer = ca.cert_der().unwrap();
        let request = ocsp_request(&issuer, &issuer, b"n").unwrap();
        let _ = ocsp_answer(&bytes, &request, &issuer, NOW);
        let _ = Crl::parse(&bytes, &issuer);
        let _ = ocsp_respond(&bytes, &ca, |_| Status::Good, NOW, 60);
    }
}
