//! A test certificate authority: the sandbox's stand-in for a qualified trust service provider.
//!
//! It issues, with real X.509 and real keys, the server certificate the sandbox listens with. Keys
//! are ECDSA P-256 and written as PKCS#8 PEM. Nothing here is for production trust: a bank in
//! production configures the anchors of real QTSPs.

use crate::psd2::{OID_ORGANIZATION_IDENTIFIER, OID_QC_STATEMENTS, QcType, Role, encode_qc_statements};
use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, RsaKeySize, SanType, SerialNumber,
};
use std::net::IpAddr;
use stet::OrgId;
use time::{Duration, OffsetDateTime};

#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    #[error("certificate generation failed: {0}")]
    Rcgen(#[from] rcgen::Error),
    #[error("{0:?} is neither a DNS name nor an IP address usable in a certificate")]
    SubjectAltName(String),
    #[error("the certificate PEM could not be read: {0}")]
    Pem(String),
}

/// A certificate with its private key, both PEM.
#[derive(Clone)]
pub struct Issued {
    pub cert_pem: String,
    /// PKCS#8 PEM.
    pub key_pem: String,
}

impl std::fmt::Debug for Issued {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Issued").field("cert_pem", &self.cert_pem).field("key_pem", &"<redacted>").finish()
    }
}

/// A root certificate authority whose key is at hand, able to sign certificates.
pub struct TestCa {
    issued: Issued,
    issuer: Issuer<'static, KeyPair>,
    /// Where the CA publishes its CRL and answers OCSP; put in every TPP certificate it issues.
    published: Option<Published>,
}

/// Where a [`TestCa`] publishes the revocation status of what it issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    /// CRL distribution point (http URL of the DER CRL).
    pub crl_url: String,
    /// OCSP responder (Authority Information Access, id-ad-ocsp).
    pub ocsp_url: String,
}

/// One revoked certificate of a CRL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevokedEntry {
    /// The serial as its DER INTEGER content (leading zeros allowed).
    pub serial: Vec<u8>,
    /// Unix time.
    pub revoked_at: i64,
}

/// Never shows the key.
impl std::fmt::Debug for TestCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestCa").finish_non_exhaustive()
    }
}

impl TestCa {
    /// Creates a new self-signed root, valid from yesterday for `years` years.
    pub fn generate(common_name: &str, organization: &str, years: i64) -> Result<TestCa, IssueError> {
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CountryName, "FR");
        dn.push(DnType::OrganizationName, organization);
        dn.push(DnType::CommonName, common_name);
        params.distinguished_name = dn;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages =
            vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
        let now = OffsetDateTime::now_utc();
        params.not_before = now - Duration::days(1);
        params.not_after = now + Duration::days(365 * years);
        let cert = params.self_signed(&key)?;
        let issued = Issued { cert_pem: cert.pem(), key_pem: key.serialize_pem() };
        TestCa::from_pem(&issued.cert_pem, &issued.key_pem)
    }

    /// Loads a root from its certificate and key PEM (as written by [`TestCa::generate`]).
    pub fn from_pem(cert_pem: &str, key_pem: &str) -> Result<TestCa, IssueError> {
        let key = KeyPair::from_pem(key_pem)?;
        let issuer = Issuer::from_ca_cert_pem(cert_pem, key)?;
        let issued = Issued { cert_pem: cert_pem.to_owned(), key_pem: key_pem.to_owned() };
        Ok(TestCa { issued, issuer, published: None })
    }

    /// The same CA, naming `published` in the TPP certificates it issues from now on.
    pub fn publishing(mut self, published: Published) -> TestCa {
        self.published = Some(published);
        self
    }

    /// A CRL (DER) revoking `revoked`, current from `this_update` to `next_update` (Unix times).
    pub fn revocation_list(
        &self,
        revoked: &[RevokedEntry],
        number: u64,
        this_update: i64,
        next_update: i64,
    ) -> Result<Vec<u8>, IssueError> {
        let revoked_certs = revoked
            .iter()
            .map(|entry| {
                Ok(rcgen::RevokedCertParams {
                    serial_number: SerialNumber::from_slice(&entry.serial),
                    revocation_time: timestamp(entry.revoked_at)?,
                    reason_code: None,
                    invalidity_date: None,
                })
            })
            .collect::<Result<Vec<_>, IssueError>>()?;
        let params = rcgen::CertificateRevocationListParams {
            this_update: timestamp(this_update)?,
            next_update: timestamp(next_update)?,
            crl_number: SerialNumber::from(number),
            issuing_distribution_point: None,
            revoked_certs,
            key_identifier_method: rcgen::KeyIdMethod::Sha256,
        };
        Ok(params.signed_by(&self.issuer)?.der().to_vec())
    }

    /// The CA's certificate, DER.
    pub fn cert_der(&self) -> Result<Vec<u8>, IssueError> {
        let (_, pem) = x509_parser::pem::parse_x509_pem(self.issued.cert_pem.as_bytes())
            .map_err(|e| IssueError::Pem(e.to_string()))?;
        Ok(pem.contents)
    }

    /// Signs `message` with the CA's key: (AlgorithmIdentifier DER, signature).
    pub(crate) fn sign(&self, message: &[u8]) -> Result<(Vec<u8>, Vec<u8>), IssueError> {
        use crate::der;
        let key = self.issuer.key();
        let algorithm = key.algorithm();
        let identifier = if algorithm == &rcgen::PKCS_ECDSA_P256_SHA256 {
            der::sequence(&[der::oid(&[1, 2, 840, 10045, 4, 3, 2])])
        } else if algorithm == &rcgen::PKCS_ECDSA_P384_SHA384 {
            der::sequence(&[der::oid(&[1, 2, 840, 10045, 4, 3, 3])])
        } else if algorithm == &rcgen::PKCS_RSA_SHA256 {
            der::sequence(&[der::oid(&[1, 2, 840, 113_549, 1, 1, 11]), der::NULL.to_vec()])
        } else {
            return Err(IssueError::Pem("the CA's key cannot sign OCSP responses (ECDSA or RSA-SHA256 only)".into()));
        };
        Ok((identifier, rcgen::SigningKey::sign(key, message)?))
    }

    /// The root's own certificate and key.
    pub fn root(&self) -> &Issued {
        &self.issued
    }

    /// Issues a TLS server certificate for the given names (DNS names or IP addresses), valid from
    /// yesterday for `days` days.
    pub fn issue_server(&self, common_name: &str, names: &[String], days: i64) -> Result<Issued, IssueError> {
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CountryName, "FR");
        dn.push(DnType::CommonName, common_name);
        params.distinguished_name = dn;
        params.subject_alt_names = names.iter().map(|n| san(n)).collect::<Result<_, _>>()?;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        let now = OffsetDateTime::now_utc();
        params.not_before = now - Duration::days(1);
        params.not_after = now + Duration::days(days);
        let cert = params.signed_by(&key, &self.issuer)?;
        Ok(Issued { cert_pem: cert.pem(), key_pem: key.serialize_pem() })
    }
}

/// Which eIDAS certificate a TPP gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TppCertKind {
    /// Qualified website authentication certificate: TLS client authentication (QcType web).
    Qwac,
    /// Qualified electronic seal certificate: HTTP signatures (QcType eseal).
    Qsealc,
}

/// What to put in a TPP's test QWAC or QSealC.
#[derive(Debug, Clone)]
pub struct TppCertRequest {
    pub kind: TppCertKind,
    pub org_id: OrgId,
    /// The TPP's name (subject O and CN).
    pub name: String,
    pub roles: Vec<Role>,
    /// e.g. "Autorité de Contrôle Prudentiel et de Résolution".
    pub nca_name: String,
    /// e.g. "FR-ACPR".
    pub nca_id: String,
    /// Validity, in seconds since the Unix epoch; past or future dates are allowed (for tests of
    /// expired and not-yet-valid certificates).
    pub not_before: i64,
    pub not_after: i64,
    /// `false` leaves the PSD2 QCStatement out (QcCompliance and QcType stay), for negative tests.
    pub psd2_statement: bool,
}

impl TestCa {
    /// Issues a TPP's QWAC or QSealC: RSA 2048 (STET signs with rsa-sha256), the PSD2
    /// organizationIdentifier and QCStatements, a random serial.
    pub fn issue_tpp(&self, request: &TppCertRequest) -> Result<Issued, IssueError> {
        self.issue_tpp_with(request, KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, RsaKeySize::_2048)?)
    }

    /// The same with an ECDSA P-256 key, which STET's rsa-sha256 signatures cannot use: for the
    /// tests of a bank's refusal.
    pub fn issue_tpp_ecdsa(&self, request: &TppCertRequest) -> Result<Issued, IssueError> {
        self.issue_tpp_with(request, KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?)
    }

    fn issue_tpp_with(&self, request: &TppCertRequest, key: KeyPair) -> Result<Issued, IssueError> {
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CountryName, request.org_id.nca().0);
        dn.push(DnType::OrganizationName, request.name.as_str());
        dn.push(DnType::CommonName, request.name.as_str());
        dn.push(DnType::CustomDnType(OID_ORGANIZATION_IDENTIFIER.to_vec()), request.org_id.as_str());
        params.distinguished_name = dn;
        let qc_type = match request.kind {
            TppCertKind::Qwac => {
                params.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
                params.extended_key_usages =
                    vec![ExtendedKeyUsagePurpose::ClientAuth, ExtendedKeyUsagePurpose::ServerAuth];
                QcType::Web
            }
            TppCertKind::Qsealc => {
                params.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::ContentCommitment];
                QcType::Eseal
            }
        };
        let statements = if request.psd2_statement {
            encode_qc_statements(&qc_type, &request.roles, &request.nca_name, &request.nca_id)
        } else {
            crate::psd2::encode_qc_statements_without_psd2(&qc_type)
        };
        params.custom_extensions = vec![CustomExtension::from_oid_content(OID_QC_STATEMENTS, statements)];
        if let Some(published) = &self.published {
            params.crl_distribution_points =
                vec![rcgen::CrlDistributionPoint { uris: vec![published.crl_url.clone()] }];
            params
                .custom_extensions
                .push(CustomExtension::from_oid_content(OID_AUTHORITY_INFO_ACCESS, ocsp_access(&published.ocsp_url)));
        }
        params.use_authority_key_identifier_extension = true;
        params.serial_number = Some(SerialNumber::from_slice(&random_serial()?));
        params.not_before = timestamp(request.not_before)?;
        params.not_after = timestamp(request.not_after)?;
        let cert = params.signed_by(&key, &self.issuer)?;
        Ok(Issued { cert_pem: cert.pem(), key_pem: key.serialize_pem() })
    }
}

const OID_AUTHORITY_INFO_ACCESS: &[u64] = &[1, 3, 6, 1, 5, 5, 7, 1, 1];

/// The Authority Information Access value naming one OCSP responder (RFC 5280 4.2.2.1).
fn ocsp_access(url: &str) -> Vec<u8> {
    use crate::der;
    // accessLocation is a GeneralName: uniformResourceIdentifier is [6] IMPLICIT IA5String.
    der::sequence(&[der::sequence(&[der::oid(&[1, 3, 6, 1, 5, 5, 7, 48, 1]), der::tlv(0x86, url.as_bytes())])])
}

/// A new RSA 2048 private key, PKCS#8 PEM (e.g. a bank's JWT signing key).
pub fn generate_rsa_key_pem() -> Result<String, IssueError> {
    Ok(KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, RsaKeySize::_2048)?.serialize_pem())
}

fn timestamp(unix: i64) -> Result<OffsetDateTime, IssueError> {
    OffsetDateTime::from_unix_timestamp(unix).map_err(|e| IssueError::Pem(format!("validity date {unix}: {e}")))
}

/// 16 random bytes, positive (high bit clear) as DER INTEGER serials must be.
fn random_serial() -> Result<[u8; 16], IssueError> {
    let mut serial = [0u8; 16];
    aws_lc_rs::rand::fill(&mut serial).map_err(|_| IssueError::Pem("no randomness for the serial".into()))?;
    serial[0] = (serial[0] & 0x7f) | 0x01;
    Ok(serial)
}

fn san(name: &str) -> Result<SanType, IssueError> {
    if let Ok(ip) = name.parse::<IpAddr>() {
        return Ok(SanType::IpAddress(ip));
    }
    // rcgen accepts any IA5 string; a TLS client only matches proper host names.
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    let host = name.strip_prefix("*.").unwrap_or(name);
    if name.len() > 253 || !host.split('.').all(label_ok) {
        return Err(IssueError::SubjectAltName(name.to_owned()));
    }
    name.try_into().map(SanType::DnsName).map_err(|_| IssueError::SubjectAltName(name.to_owned()))
}

/// What [`inspect`] reads back from a certificate PEM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertSummary {
    pub subject: String,
    pub issuer: String,
    /// Seconds since the Unix epoch.
    pub not_after: i64,
    pub dns_names: Vec<String>,
    pub ip_addresses: Vec<IpAddr>,
}

/// Reads the subject, issuer, expiry and subject alternative names of the first certificate of a PEM.
pub fn inspect(cert_pem: &str) -> Result<CertSummary, IssueError> {
    let (_, pem) = x509_parser::pem::parse_x509_pem(cert_pem.as_bytes()).map_err(|e| IssueError::Pem(e.to_string()))?;
    inspect_der(&pem.contents)
}

/// [`inspect`] for a DER certificate (as TLS hands it over).
pub fn inspect_der(der: &[u8]) -> Result<CertSummary, IssueError> {
    use x509_parser::extensions::GeneralName;
    let (_, cert) = x509_parser::parse_x509_certificate(der).map_err(|e| IssueError::Pem(e.to_string()))?;
    let mut dns_names = Vec::new();
    let mut ip_addresses = Vec::new();
    if let Ok(Some(sans)) = cert.subject_alternative_name() {
        for name in &sans.value.general_names {
            match name {
                GeneralName::DNSName(d) => dns_names.push((*d).to_owned()),
                GeneralName::IPAddress(bytes) => {
                    if let Ok(v4) = <[u8; 4]>::try_from(*bytes) {
                        ip_addresses.push(IpAddr::from(v4));
                    } else if let Ok(v6) = <[u8; 16]>::try_from(*bytes) {
                        ip_addresses.push(IpAddr::from(v6));
                    }
                }
                _ => {}
            }
        }
    }
    Ok(CertSummary {
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        not_after: cert.validity().not_after.timestamp(),
        dns_names,
        ip_addresses,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_certificate_is_signed_by_the_root_and_carries_every_name() {
        let ca = TestCa::generate("stetgate sandbox QTSP", "stetgate sandbox", 10).unwrap();
        let names = vec![
            "localhost".to_owned(),
            "127.0.0.1".to_owned(),
            "::1".to_owned(),
            "www.17515.sandbox.localhost".to_owned(),
        ];
        let server = ca.issue_server("stetgate sandbox", &names, 30).unwrap();
        let summary = inspect(&server.cert_pem).unwrap();
        let root = inspect(&ca.root().cert_pem).unwrap();
        assert_eq!(summary.issuer, root.subject, "the server certificate must name the root as issuer");
        assert!(summary.dns_names.contains(&"www.17515.sandbox.localhost".to_owned()));
        assert!(summary.ip_addresses.contains(&"::1".parse().unwrap()));
        assert!(summary.key_pem_is_pkcs8(&server.key_pem));
    }

    #[test]
    fn a_reloaded_root_issues_under_the_same_name() {
        let ca = TestCa::generate("root", "org", 1).unwrap();
        let again = TestCa::from_pem(&ca.root().cert_pem, &ca.root().key_pem).unwrap();
        let leaf = again.issue_server("x", &["localhost".into()], 1).unwrap();
        assert_eq!(inspect(&leaf.cert_pem).unwrap().issuer, inspect(&ca.root().cert_pem).unwrap().subject);
    }

    #[test]
    fn tpp_certificates_carry_org_id_roles_nca_and_qc_type() {
        let ca = TestCa::generate("QTSP", "tests", 1).unwrap();
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let request = TppCertRequest {
            kind: TppCertKind::Qwac,
            org_id: OrgId::parse("PSDFR-ACPR-12345").unwrap(),
            name: "Agrégateur Test".into(),
            roles: vec![Role::AccountInformation, Role::CardIssuing],
            nca_name: "Autorité de Contrôle Prudentiel et de Résolution".into(),
            nca_id: "FR-ACPR".into(),
            not_before: now - 86_400,
            not_after: now + 86_400,
            psd2_statement: true,
        };
        let qwac = crate::psd2::parse_pem(&ca.issue_tpp(&request).unwrap().cert_pem).unwrap();
        assert_eq!(qwac.org_id().unwrap().as_str(), "PSDFR-ACPR-12345");
        assert_eq!(qwac.qc_types, vec![QcType::Web]);
        assert!(qwac.qc_compliance);
        let psd2 = qwac.psd2.as_ref().unwrap();
        assert!(psd2.has_role(Role::AccountInformation) && psd2.has_role(Role::CardIssuing));
        assert_eq!(psd2.nca_id, "FR-ACPR");
        assert_eq!(psd2.nca_name, "Autorité de Contrôle Prudentiel et de Résolution");
        assert_eq!(qwac.issuer, inspect(&ca.root().cert_pem).unwrap().subject);
        assert_eq!((qwac.not_before, qwac.not_after), (now - 86_400, now + 86_400));

        let seal = ca.issue_tpp(&TppCertRequest { kind: TppCertKind::Qsealc, ..request.clone() }).unwrap();
        let parsed = crate::psd2::parse_pem(&seal.cert_pem).unwrap();
        assert_eq!(parsed.qc_types, vec![QcType::Eseal]);
        assert_ne!(parsed.serial_hex, qwac.serial_hex, "serials are random");
        assert!(seal.key_pem.starts_with("-----BEGIN PRIVATE KEY-----"), "PKCS#8 PEM");
    }

    #[test]
    fn bad_names_are_refused() {
        let ca = TestCa::generate("root", "org", 1).unwrap();
        assert!(matches!(
            ca.issue_server("x", &["bad name with spaces".into()], 1),
            Err(IssueError::SubjectAltName(_))
        ));
    }

    impl CertSummary {
        fn key_pem_is_pkcs8(&self, key_pem: &str) -> bool {
            key_pem.starts_with("-----BEGIN PRIVATE KEY-----")
        }
    }
}
