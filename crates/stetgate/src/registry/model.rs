//! A registered TPP, as the store keeps it, and the one rule of whether it may act. A leaf module.

use jiff::Timestamp;
use stet::OrgId;

/// A registered TPP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    pub org_id: OrgId,
    pub client_name: String,
    pub redirect_uris: Vec<String>,
    pub contacts: Vec<String>,
    pub qsealc_pem: String,
    /// The same certificate's DER, decoded once when the registration is read: every signed
    /// request is checked against it. None if the stored PEM cannot be read (refused then).
    pub qsealc_der: Option<rustls_pki_types::CertificateDer<'static>>,
    /// Lower-case hex SHA-256 of the QSealC's DER.
    pub qsealc_sha256: String,
    /// Lower-case hex serial, without leading zeros.
    pub qsealc_serial: String,
    pub qsealc_issuer: String,
    /// Deactivated by the TPP itself (`DELETE /register/{id}`); it may register again.
    pub active: bool,
    /// Suspended by the bank (`stetgate tpp suspend`): only the bank lifts it.
    pub suspended_at: Option<Timestamp>,
    pub suspension_reason: Option<String>,
    /// The organisation name of the QWAC the TPP registered with (what its QTSP vetted), shown to
    /// the PSU beside `client_name`, which the TPP chose.
    pub qwac_organization: Option<String>,
    /// When the TPP first registered.
    pub created_at: Timestamp,
}

/// Why a TPP may not act now, whatever it presents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unusable {
    NotRegistered,
    /// The TPP deactivated its registration.
    Deactivated,
    /// The bank suspended it.
    Suspended,
}

impl Registration {
    /// The one rule for "registered and usable": not deactivated by the TPP, not suspended by
    /// the bank.
    pub fn usable(self) -> Result<Registration, Unusable> {
        if self.suspended_at.is_some() {
            Err(Unusable::Suspended)
        } else if !self.active {
            Err(Unusable::Deactivated)
        } else {
            Ok(self)
        }
    }

    /// `active`, `inactive` (deactivated by the TPP) or `suspended` (by the bank).
    pub fn status(&self) -> &'static str {
        if self.suspended_at.is_some() {
            "suspended"
        } else if self.active {
            "active"
        } else {
            "inactive"
        }
    }
}
