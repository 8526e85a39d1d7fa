//! eIDAS certificates for PSD2 (ETSI TS 119 495): what a QWAC or QSealC says about its holder.
//!
//! - subject `organizationIdentifier` (2.5.4.97): the authorization number, `PSDFR-ACPR-12345`;
//! - the QCStatements extension (1.3.6.1.5.5.7.1.3, RFC 3739) with `QcCompliance`
//!   (0.4.0.1862.1.1), `QcType` (0.4.0.1862.1.6: web 6.3 for a QWAC, eseal 6.2 for a QSealC) and the
//!   PSD2 statement 0.4.0.19495.2:
//!   `PSD2QcType ::= SEQUENCE { rolesOfPSP SEQUENCE OF SEQUENCE { roleOfPspOid OID, roleOfPspName
//!   UTF8String }, nCAName UTF8String, nCAId UTF8String }`.
//!
//! Parsing never judges: it reports what is there (unknown role OIDs are kept). Whether a
//! certificate is acceptable for a route is the server's decision.

use crate::der;
use std::fmt;
use stet::OrgId;
use x509_parser::der_parser::ber::BerObject;

pub const OID_ORGANIZATION_IDENTIFIER: &[u64] = &[2, 5, 4, 97];
pub const OID_QC_STATEMENTS: &[u64] = &[1, 3, 6, 1, 5, 5, 7, 1, 3];
const OID_QC_COMPLIANCE: &str = "0.4.0.1862.1.1";
const OID_QC_TYPE: &str = "0.4.0.1862.1.6";
const OID_PSD2: &str = "0.4.0.19495.2";

/// A PSD2 role (ETSI TS 119 495 5.1, `id-psd2-role` 0.4.0.19495.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// PSP_AS: account servicing (a bank).
    AccountServicing,
    /// PSP_PI: payment initiation.
    PaymentInitiation,
    /// PSP_AI: account information.
    AccountInformation,
    /// PSP_IC: issuing of card-based payment instruments (CBPII).
    CardIssuing,
}

impl Role {
    pub const ALL: [Role; 4] =
        [Role::AccountServicing, Role::PaymentInitiation, Role::AccountInformation, Role::CardIssuing];

    /// `PSP_AS`, `PSP_PI`, `PSP_AI`, `PSP_IC`.
    pub fn name(self) -> &'static str {
        match self {
            Role::AccountServicing => "PSP_AS",
            Role::PaymentInitiation => "PSP_PI",
            Role::AccountInformation => "PSP_AI",
            Role::CardIssuing => "PSP_IC",
        }
    }

    fn last_arc(self) -> u64 {
        match self {
            Role::AccountServicing => 1,
            Role::PaymentInitiation => 2,
            Role::AccountInformation => 3,
            Role::CardIssuing => 4,
        }
    }

    pub fn oid(self) -> String {
        format!("0.4.0.19495.1.{}", self.last_arc())
    }

    pub fn from_name(name: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.name() == name)
    }

    fn from_oid(oid: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.oid() == oid)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One `RoleOfPSP` entry as written in the certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleEntry {
    /// `None` for a role OID this version does not know (kept, not fatal).
    pub role: Option<Role>,
    pub oid: String,
    pub name: String,
}

/// The QcType statement: what the certificate is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QcType {
    /// 0.4.0.1862.1.6.1
    Esign,
    /// 0.4.0.1862.1.6.2: an electronic seal (QSealC), for HTTP signatures.
    Eseal,
    /// 0.4.0.1862.1.6.3: website authentication (QWAC), for TLS.
    Web,
    Other(String),
}

impl QcType {
    fn from_oid(oid: &str) -> QcType {
        match oid {
            "0.4.0.1862.1.6.1" => QcType::Esign,
            "0.4.0.1862.1.6.2" => QcType::Eseal,
            "0.4.0.1862.1.6.3" => QcType::Web,
            other => QcType::Other(other.to_owned()),
        }
    }

    fn arcs(&self) -> Option<Vec<u64>> {
        let last = match self {
            QcType::Esign => 1,
            QcType::Eseal => 2,
            QcType::Web => 3,
            QcType::Other(_) => return None,
        };
        Some(vec![0, 4, 0, 1862, 1, 6, last])
    }
}

/// The PSD2 QCStatement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Psd2Statement {
    pub roles: Vec<RoleEntry>,
    /// e.g. "Autorité de Contrôle Prudentiel et de Résolution".
    pub nca_name: String,
    /// e.g. "FR-ACPR".
    pub nca_id: String,
}

impl Psd2Statement {
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.iter().any(|r| r.role == Some(role))
    }
}

/// What a QWAC or QSealC says.
#[derive(Clone, PartialEq, Eq)]
pub struct Psd2Certificate {
    pub der: Vec<u8>,
    pub subject: String,
    pub issuer: String,
    /// The raw organizationIdentifier, when present.
    pub organization_identifier: Option<String>,
    /// The subject's organizationName (O), when present: the legal name the QTSP vetted.
    pub organization_name: Option<String>,
    /// Whether the subject key is RSA (rsaEncryption), the only key the STET signature scheme
    /// (rsa-sha256) can verify with.
    pub rsa_key: bool,
    /// Lower-case hex, without leading zeros (as `SN=` keyIds are compared).
    pub serial_hex: String,
    /// SHA-256 of the DER.
    pub sha256: [u8; 32],
    /// Seconds since the Unix epoch.
    pub not_before: i64,
    pub not_after: i64,
    pub qc_compliance: bool,
    pub qc_types: Vec<QcType>,
    pub psd2: Option<Psd2Statement>,
}

impl fmt::Debug for Psd2Certificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Psd2Certificate")
            .field("subject", &self.subject)
            .field("organization_identifier", &self.organization_identifier)
            .field("sha256", &self.sha256_hex())
            .finish_non_exhaustive()
    }
}

impl Psd2Certificate {
    /// The organizationIdentifier, if it has the PSD2 form.
    pub fn org_id(&self) -> Option<OrgId> {
        self.organization_identifier.as_deref().and_then(|o| OrgId::parse(o).ok())
    }

    /// Lower-case hex SHA-256 fingerprint, as STET keyId URLs end with.
    pub fn sha256_hex(&self) -> String {
        hex(&self.sha256)
    }

    pub fn is_qc_type(&self, t: &QcType) -> bool {
        self.qc_types.contains(t)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertError {
    #[error("not an X.509 certificate: {0}")]
    X509(String),
    #[error("no certificate in the PEM text")]
    NoPem,
    #[error("the QCStatements extension is malformed: {0}")]
    QcStatements(String),
}

/// Parses the first certificate of a PEM text.
pub fn parse_pem(pem: &str) -> Result<Psd2Certificate, CertError> {
    let (_, block) = x509_parser::pem::parse_x509_pem(pem.as_bytes()).map_err(|_| CertError::NoPem)?;
    parse_der(&block.contents)
}

/// Parses a DER certificate.
pub fn parse_der(der_bytes: &[u8]) -> Result<Psd2Certificate, CertError> {
    let (rest, cert) = x509_parser::parse_x509_certificate(der_bytes).map_err(|e| CertError::X509(e.to_string()))?;
    if !rest.is_empty() {
        return Err(CertError::X509("trailing bytes after the certificate".into()));
    }
    let org_oid = oid_string(OID_ORGANIZATION_IDENTIFIER);
    let organization_identifier = cert
        .subject()
        .iter_attributes()
        .find(|a| a.attr_type().to_id_string() == org_oid)
        .and_then(|a| a.as_str().ok())
        .map(str::to_owned);
    let organization_name = cert.subject().iter_organization().next().and_then(|a| a.as_str().ok()).map(str::to_owned);
    let rsa_key = cert.public_key().algorithm.algorithm.to_id_string() == "1.2.840.113549.1.1.1";
    let qc_oid = oid_string(OID_QC_STATEMENTS);
    let mut statements = Statements::default();
    for ext in cert.extensions() {
        if ext.oid.to_id_string() == qc_oid {
            statements = parse_qc_statements(ext.value)?;
        }
    }
    let serial = hex(cert.raw_serial());
    let serial = serial.trim_start_matches('0');
    Ok(Psd2Certificate {
        der: der_bytes.to_vec(),
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        organization_identifier,
        organization_name,
        rsa_key,
        serial_hex: if serial.is_empty() { "0".into() } else { serial.to_owned() },
        sha256: sha256(der_bytes),
        not_before: cert.validity().not_before.timestamp(),
        not_after: cert.validity().not_after.timestamp(),
        qc_compliance: statements.compliance,
        qc_types: statements.types,
        psd2: statements.psd2,
    })
}

#[derive(Default)]
struct Statements {
    compliance: bool,
    types: Vec<QcType>,
    psd2: Option<Psd2Statement>,
}

fn parse_qc_statements(bytes: &[u8]) -> Result<Statements, CertError> {
    let bad = |what: &str| CertError::QcStatements(what.to_owned());
    let (_, top) = x509_parser::der_parser::parse_der(bytes).map_err(|e| CertError::QcStatements(e.to_string()))?;
    let mut out = Statements::default();
    for statement in top.as_sequence().map_err(|_| bad("not a SEQUENCE OF QCStatement"))? {
        let parts = statement.as_sequence().map_err(|_| bad("a QCStatement is not a SEQUENCE"))?;
        let id = parts.first().and_then(|o| o.as_oid().ok()).ok_or_else(|| bad("a QCStatement has no statementId"))?;
        let info = parts.get(1);
        match id.to_id_string().as_str() {
            OID_QC_COMPLIANCE => out.compliance = true,
            OID_QC_TYPE => {
                let types =
                    info.and_then(|i| i.as_sequence().ok()).ok_or_else(|| bad("QcType without a SEQUENCE of types"))?;
                for t in types {
                    let oid = t.as_oid().map_err(|_| bad("QcType entry is not an OID"))?;
                    out.types.push(QcType::from_oid(&oid.to_id_string()));
                }
            }
            OID_PSD2 => out.psd2 = Some(parse_psd2(info.ok_or_else(|| bad("PSD2 statement without content"))?)?),
            _ => {}
        }
    }
    Ok(out)
}

fn parse_psd2(info: &BerObject<'_>) -> Result<Psd2Statement, CertError> {
    let bad = |what: &str| CertError::QcStatements(format!("PSD2 statement: {what}"));
    let fields = info.as_sequence().map_err(|_| bad("not a SEQUENCE"))?;
    let roles_seq = fields.first().and_then(|r| r.as_sequence().ok()).ok_or_else(|| bad("rolesOfPSP missing"))?;
    let mut roles = Vec::new();
    for role in roles_seq {
        let pair = role.as_sequence().map_err(|_| bad("RoleOfPSP is not a SEQUENCE"))?;
        let oid = pair.first().and_then(|o| o.as_oid().ok()).ok_or_else(|| bad("roleOfPspOid missing"))?.to_id_string();
        let name = pair.get(1).and_then(|n| n.as_str().ok()).ok_or_else(|| bad("roleOfPspName missing"))?.to_owned();
        roles.push(RoleEntry { role: Role::from_oid(&oid), oid, name });
    }
    let text =
        |i: usize, what: &str| fields.get(i).and_then(|f| f.as_str().ok()).map(str::to_owned).ok_or_else(|| bad(what));
    Ok(Psd2Statement { roles, nca_name: text(1, "nCAName missing")?, nca_id: text(2, "nCAId missing")? })
}

/// The DER of a QCStatements extension value: QcCompliance, QcType and the PSD2 statement.
pub fn encode_qc_statements(qc_type: &QcType, roles: &[Role], nca_name: &str, nca_id: &str) -> Vec<u8> {
    let mut statements = qualified_statements(qc_type);
    let roles: Vec<Vec<u8>> = roles
        .iter()
        .map(|r| der::sequence(&[der::oid(&[0, 4, 0, 19495, 1, r.last_arc()]), der::utf8(r.name())]))
        .collect();
    let psd2 = der::sequence(&[der::sequence(&roles), der::utf8(nca_name), der::utf8(nca_id)]);
    statements.push(der::sequence(&[der::oid(&[0, 4, 0, 19495, 2]), psd2]));
    der::sequence(&statements)
}

/// QcCompliance and QcType only: a qualified certificate that is not a PSD2 one.
pub fn encode_qc_statements_without_psd2(qc_type: &QcType) -> Vec<u8> {
    der::sequence(&qualified_statements(qc_type))
}

/// QcCompliance and, when it has an OID, QcType.
fn qualified_statements(qc_type: &QcType) -> Vec<Vec<u8>> {
    let mut statements = vec![der::sequence(&[der::oid(&[0, 4, 0, 1862, 1, 1])])];
    if let Some(arcs) = qc_type.arcs() {
        statements.push(der::sequence(&[der::oid(&[0, 4, 0, 1862, 1, 6]), der::sequence(&[der::oid(&arcs)])]));
    }
    statements
}

fn oid_string(arcs: &[u64]) -> String {
    arcs.iter().map(u64::to_string).collect::<Vec<_>>().join(".")
}

pub(crate) fn sha256(bytes: &[u8]) -> [u8; 32] {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes);
    let mut out = [0u8; 32];
    out.copy_from_slice(digest.as_ref());
    out
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn statements_round_trip() {
        let der = encode_qc_statements(&QcType::Web, &[Role::AccountInformation, Role::CardIssuing], "ACPR", "FR-ACPR");
        let s = parse_qc_statements(&der).unwrap();
        assert!(s.compliance);
        assert_eq!(s.types, vec![QcType::Web]);
        let psd2 = s.psd2.unwrap();
        assert!(psd2.has_role(Role::AccountInformation) && psd2.has_role(Role::CardIssuing));
        assert!(!psd2.has_role(Role::PaymentInitiation));
        assert_eq!(psd2.roles[0].name, "PSP_AI");
        assert_eq!(psd2.roles[1].oid, "0.4.0.19495.1.4");
        assert_eq!((psd2.nca_name.as_str(), psd2.nca_id.as_str()), ("ACPR", "FR-ACPR"));
    }

    #[test]
    fn unknown_roles_are_kept() {
        let unknown = der::sequence(&[der::oid(&[0, 4, 0, 19495, 1, 9]), der::utf8("PSP_XX")]);
        let known = der::sequence(&[der::oid(&[0, 4, 0, 19495, 1, 3]), der::utf8("PSP_AI")]);
        let psd2 = der::sequence(&[der::sequence(&[unknown, known]), der::utf8("NCA"), der::utf8("BE-NBB")]);
        let der = der::sequence(&[der::sequence(&[der::oid(&[0, 4, 0, 19495, 2]), psd2])]);
        let s = parse_qc_statements(&der).unwrap().psd2.unwrap();
        assert_eq!(s.roles.len(), 2);
        assert_eq!(
            (s.roles[0].role, s.roles[0].oid.as_str(), s.roles[0].name.as_str()),
            (None, "0.4.0.19495.1.9", "PSP_XX")
        );
        assert!(s.has_role(Role::AccountInformation));
    }

    #[test]
    fn malformed_statements_are_errors() {
        for bad in
            [vec![0x30, 0x03, 0x02, 0x01, 0x05], vec![0x04, 0x00], vec![0x30, 0x05, 0x30, 0x03, 0x0c, 0x01, 0x41]]
        {
            assert!(parse_qc_statements(&bad).is_err(), "{bad:02x?}");
        }
    }

    proptest! {
        #[test]
        fn parsing_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = parse_qc_statements(&bytes);
            let _ = parse_der(&bytes);
        }

        #[test]
        fn statements_round_trip_for_any_roles(mask in 0u8..16, nca in "[A-Za-z ]{1,40}", id in "[A-Z]{2}-[A-Z]{2,8}") {
            let roles: Vec<Role> = Role::ALL.into_iter().enumerate().filter(|(i, _)| mask & (1 << i) != 0).map(|(_, r)| r).collect();
            let der = encode_qc_statements(&QcType::Eseal, &roles, &nca, &id);
            let s = parse_qc_statements(&der).unwrap();
            let psd2 = s.psd2.unwrap();
            prop_assert_eq!(psd2.roles.iter().filter_map(|r| r.role).collect::<Vec<_>>(), roles);
            prop_assert_eq!(psd2.nca_name, nca);
            prop_assert_eq!(s.types, vec![QcType::Eseal]);
        }
    }
}
