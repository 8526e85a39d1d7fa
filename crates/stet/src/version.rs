//! The API versions a BPCE-style ASPSP serves side by side under `/stet/psd2/`.

use std::fmt;

/// `v1` is STET 1.4.0.47 (funds confirmation scope `piisp`), `v1.4.2` is STET 1.4.2 (scope `cbpii`,
/// end-user identity), `v1.6.2` is STET 1.6.2 (overdrafts, transaction details).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum ApiVersion {
    V1,
    V1_4_2,
    V1_6_2,
}

impl ApiVersion {
    pub const ALL: [ApiVersion; 3] = [ApiVersion::V1, ApiVersion::V1_4_2, ApiVersion::V1_6_2];

    /// The path segment: `v1`, `v1.4.2`, `v1.6.2`.
    pub fn segment(self) -> &'static str {
        match self {
            ApiVersion::V1 => "v1",
            ApiVersion::V1_4_2 => "v1.4.2",
            ApiVersion::V1_6_2 => "v1.6.2",
        }
    }

    /// The base path of this version's resources, e.g. `/stet/psd2/v1.4.2`.
    pub fn base_path(self) -> String {
        format!("/stet/psd2/{}", self.segment())
    }

    pub fn from_segment(segment: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.segment() == segment)
    }
}

impl fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.segment())
    }
}

/// A path segment that names no served version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a served version (v1, v1.4.2, v1.6.2)")]
pub struct UnknownVersion(pub String);

impl TryFrom<String> for ApiVersion {
    type Error = UnknownVersion;
    fn try_from(segment: String) -> Result<Self, Self::Error> {
        ApiVersion::from_segment(&segment).ok_or(UnknownVersion(segment))
    }
}

impl From<ApiVersion> for String {
    fn from(version: ApiVersion) -> String {
        version.segment().to_owned()
    }
}
