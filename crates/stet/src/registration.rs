//! TPP registration (`/stet/psd2/oauth/register`, in the style of RFC 7591): what a TPP sends and
//! what the bank answers.

use serde::{Deserialize, Serialize};

/// The registration request: `{client_name, redirect_uris[], qsealc (PEM), contacts[]?}`. The
/// `client_id` is not sent: it is the organizationIdentifier of the QWAC the request comes with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistrationRequest {
    pub client_name: String,
    pub redirect_uris: Vec<String>,
    /// The QSealC whose key signs the TPP's requests, PEM.
    pub qsealc: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contacts: Vec<String>,
}

/// The answer (RFC 7591 section 3.2.1, plus the fingerprint of the registered QSealC and the
/// registration's status).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistrationResponse {
    pub client_id: String,
    pub client_name: String,
    pub redirect_uris: Vec<String>,
    /// SHA-256 of the QSealC's DER, lower-case hex: the end of the `keyId` URL.
    pub qsealc_sha256: String,
    /// Unix seconds (RFC 7591).
    pub client_id_issued_at: i64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contacts: Vec<String>,
    /// `active`, `inactive` (deactivated by the TPP) or `suspended` (by the bank).
    pub status: String,
}
