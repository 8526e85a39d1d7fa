//! Certificates from an independent producer: a QTSP root, QWAC and QSealC made with the openssl
//! command line (tests/openssl/make-certs.sh, QCStatements written as ASN.1 in openssl's config
//! syntax) parse to the right organization, roles and NCA, and pass the trust checks.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use eidas::psd2::{QcType, Role, parse_pem};
use eidas::trust::{anchors, check_qsealc, check_qwac};
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use std::path::Path;
use std::process::Command;

fn make_certs(dir: &Path) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/openssl/make-certs.sh");
    let status = Command::new("bash")
        .arg(script)
        .arg(dir)
        .status()
        .expect("bash and openssl are installed (scripts/test.sh installs openssl)");
    assert!(status.success(), "make-certs.sh failed");
}

#[test]
fn openssl_made_certificates_parse_and_pass() {
    let dir = tempfile::tempdir().unwrap();
    make_certs(dir.path());
    let read = |name: &str| std::fs::read_to_string(dir.path().join(name)).unwrap();

    let qwac = parse_pem(&read("qwac.pem")).unwrap();
    assert_eq!(qwac.org_id().unwrap().as_str(), "PSDFR-ACPR-98765");
    assert_eq!(qwac.qc_types, vec![QcType::Web]);
    assert!(qwac.qc_compliance);
    let psd2 = qwac.psd2.as_ref().unwrap();
    assert_eq!(
        psd2.roles.iter().filter_map(|r| r.role).collect::<Vec<_>>(),
        vec![Role::AccountInformation, Role::CardIssuing]
    );
    assert_eq!(psd2.nca_id, "FR-ACPR");
    assert_eq!(psd2.nca_name, "Autorite de Controle Prudentiel et de Resolution");
    assert!(qwac.issuer.contains("Independent QTSP Root"));

    let seal = parse_pem(&read("qseal.pem")).unwrap();
    assert_eq!(seal.qc_types, vec![QcType::Eseal]);
    let roles = &seal.psd2.as_ref().unwrap().roles;
    assert_eq!(roles.len(), 3);
    assert_eq!(
        (roles[2].role, roles[2].oid.as_str(), roles[2].name.as_str()),
        (None, "0.4.0.19495.1.9", "PSP_XX"),
        "unknown roles are kept"
    );

    let roots = anchors(&[CertificateDer::from_pem_slice(read("ca.pem").as_bytes()).unwrap()]).unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let chain = vec![CertificateDer::from_pem_slice(read("qwac.pem").as_bytes()).unwrap()];
    assert_eq!(check_qwac(&chain, &roots, now).unwrap().org_id.as_str(), "PSDFR-ACPR-98765");
    let seal_der = CertificateDer::from_pem_slice(read("qseal.pem").as_bytes()).unwrap();
    assert!(check_qsealc(&seal_der, &roots, now).is_ok());
    assert!(check_qwac(&[seal_der], &roots, now).is_err(), "the seal is no TLS certificate");
}
