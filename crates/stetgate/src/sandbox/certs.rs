//! `stetgate certs issue`: test QWAC and QSealC for a TPP developer, from the sandbox CA.

use super::pki::{self, PkiError};
use eidas::issue::{IssueError, Issued, TestCa, TppCertKind, TppCertRequest};
use eidas::psd2::{Role, parse_pem};
use std::path::{Path, PathBuf};
use stet::OrgId;

#[derive(Debug, thiserror::Error)]
pub enum CertsError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Pki(#[from] PkiError),
    #[error("certificate issuance failed: {0}")]
    Issue(#[from] IssueError),
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
}

impl CertsError {
    /// 2 for bad arguments (nothing written), 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        if matches!(self, CertsError::Invalid(_)) { 2 } else { 1 }
    }
}

/// What the developer asked for, checked.
#[derive(Debug, Clone)]
pub struct CertsRequest {
    pub org_id: OrgId,
    pub roles: Vec<Role>,
    pub name: String,
    pub nca_id: String,
    pub nca_name: String,
    pub days: i64,
}

impl CertsRequest {
    /// Checks the command-line values; every problem is a clear message (exit code 2).
    pub fn parse(
        org_id: &str,
        roles: &str,
        name: Option<&str>,
        nca_id: Option<&str>,
        days: i64,
    ) -> Result<Self, CertsError> {
        let org_id = OrgId::parse(org_id).map_err(|e| CertsError::Invalid(format!("--org-id: {e}")))?;
        let mut parsed = Vec::new();
        for name in roles.split(',').map(str::trim).filter(|r| !r.is_empty()) {
            let role = Role::from_name(name).ok_or_else(|| {
                CertsError::Invalid(format!(
                    "--roles: unknown role {name:?} (expected PSP_AS, PSP_PI, PSP_AI or PSP_IC)"
                ))
            })?;
            if !parsed.contains(&role) {
                parsed.push(role);
            }
        }
        if parsed.is_empty() {
            return Err(CertsError::Invalid("--roles: at least one role is needed, e.g. PSP_AI,PSP_IC".into()));
        }
        if !(1..=3650).contains(&days) {
            return Err(CertsError::Invalid(format!("--days: {days} is not between 1 and 3650")));
        }
        let (country, nca) = org_id.nca();
        let nca_id = nca_id.map(str::to_owned).unwrap_or_else(|| format!("{country}-{nca}"));
        let ok = nca_id.split_once('-').is_some_and(|(c, n)| {
            c.len() == 2
                && c.bytes().all(|b| b.is_ascii_uppercase())
                && (2..=8).contains(&n.len())
                && n.bytes().all(|b| b.is_ascii_uppercase())
        });
        if !ok {
            return Err(CertsError::Invalid(format!("--nca-id: {nca_id:?} is not of the form FR-ACPR")));
        }
        let nca_name = match nca_id.as_str() {
            "FR-ACPR" => "Autorité de Contrôle Prudentiel et de Résolution".to_owned(),
            other => other.to_owned(),
        };
        let name = name.map(str::to_owned).unwrap_or_else(|| format!("Test TPP {}", org_id.as_str()));
        if name.trim().is_empty() || name.chars().count() > 64 {
            return Err(CertsError::Invalid("--name: 1 to 64 characters".into()));
        }
        Ok(CertsRequest { org_id, roles: parsed, name, nca_id, nca_name, days })
    }
}

/// Where the files went, and how to name the QSealC in a `Signature` keyId.
#[derive(Debug, Clone)]
pub struct IssuedFiles {
    pub dir: PathBuf,
    pub key_id_url: String,
    pub key_id_serial: String,
}

/// Issues `qwac.pem qwac.key qseal.pem qseal.key` into `out` with the sandbox CA of `data_dir`
/// (created if the sandbox never ran there).
pub fn issue(data_dir: &Path, out: &Path, request: &CertsRequest, now_unix: i64) -> Result<IssuedFiles, CertsError> {
    let mut ca = load_ca(data_dir, now_unix)?;
    // Where the sandbox last published its CRL and OCSP, if it ever ran.
    if let Some(published) = super::revocation::read_published(data_dir) {
        ca = ca.publishing(published);
    }
    let pair = issue_with(&ca, request, now_unix)?;
    std::fs::create_dir_all(out).map_err(|source| CertsError::Io { path: out.to_path_buf(), source })?;
    for (name, text, private) in pair.files() {
        let path = out.join(name);
        let written = if private { pki::write_private(&path, text) } else { std::fs::write(&path, text) };
        written.map_err(|source| CertsError::Io { path, source })?;
    }
    Ok(IssuedFiles { dir: out.to_path_buf(), key_id_url: pair.key_id_url, key_id_serial: pair.key_id_serial })
}

/// The sandbox CA of `data_dir` (created on first use).
pub fn load_ca(data_dir: &Path, now_unix: i64) -> Result<TestCa, CertsError> {
    let pki = pki::ensure(&data_dir.join("pki"), &super::bank_codes(), now_unix)?;
    let read = |path: &Path| {
        std::fs::read_to_string(path).map_err(|source| CertsError::Io { path: path.to_path_buf(), source })
    };
    Ok(TestCa::from_pem(&read(&pki.ca_cert)?, &read(&pki.ca_key)?)?)
}

/// A TPP's QWAC and QSealC, and the keyIds that name the QSealC.
pub struct IssuedPair {
    pub qwac: Issued,
    pub qseal: Issued,
    pub key_id_url: String,
    pub key_id_serial: String,
}

impl IssuedPair {
    /// The four files, as `stetgate certs issue` writes them: name, content, whether private.
    pub fn files(&self) -> [(&'static str, &str, bool); 4] {
        [
            ("qwac.pem", &self.qwac.cert_pem, false),
            ("qwac.key", &self.qwac.key_pem, true),
            ("qseal.pem", &self.qseal.cert_pem, false),
            ("qseal.key", &self.qseal.key_pem, true),
        ]
    }
}

/// Issues the QWAC and QSealC `request` asks for from `ca`.
pub fn issue_with(ca: &TestCa, request: &CertsRequest, now_unix: i64) -> Result<IssuedPair, CertsError> {
    let make = |kind| TppCertRequest {
        kind,
        org_id: request.org_id.clone(),
        name: request.name.clone(),
        roles: request.roles.clone(),
        nca_name: request.nca_name.clone(),
        nca_id: request.nca_id.clone(),
        not_before: now_unix - 3600,
        not_after: now_unix + request.days * 86_400,
        psd2_statement: true,
    };
    let qwac = ca.issue_tpp(&make(TppCertKind::Qwac))?;
    let qseal = ca.issue_tpp(&make(TppCertKind::Qsealc))?;
    let seal = parse_pem(&qseal.cert_pem).map_err(|e| CertsError::Invalid(e.to_string()))?;
    Ok(IssuedPair {
        key_id_url: key_id_url(&request.org_id, &seal.sha256_hex()),
        key_id_serial: format!("SN={},CA={}", seal.serial_hex.to_ascii_uppercase(), seal.issuer),
        qwac,
        qseal,
    })
}

/// The STET keyId URL form: `https://<host>/<path>_<sha256 hex>`. stetgate matches the
/// fingerprint against the registered QSealC and never fetches the URL.
pub fn key_id_url(org_id: &OrgId, sha256_hex: &str) -> String {
    format!("https://tpp.sandbox.localhost/certificates/{}/qseal_{sha256_hex}", org_id.as_str().to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_are_checked() {
        assert!(CertsRequest::parse("PSDFR-ACPR-12345", "PSP_AI,PSP_IC", None, None, 365).is_ok());
        for (org, roles, nca, days, needle) in [
            ("PSDFR-12345", "PSP_AI", None, 365, "--org-id"),
            ("PSDFR-ACPR-12345", "PSP_XX", None, 365, "--roles"),
            ("PSDFR-ACPR-12345", "", None, 365, "--roles"),
            ("PSDFR-ACPR-12345", "PSP_AI", Some("ACPR"), 365, "--nca-id"),
            ("PSDFR-ACPR-12345", "PSP_AI", None, 0, "--days"),
        ] {
            let e = CertsRequest::parse(org, roles, None, nca, days).unwrap_err();
            assert!(e.to_string().contains(needle), "{e}");
            assert_eq!(e.exit_code(), 2);
        }
        let r = CertsRequest::parse("PSDBE-NBB-0123", "PSP_IC", Some("Card Co"), None, 30).unwrap();
        assert_eq!(r.nca_id, "BE-NBB");
    }
}
