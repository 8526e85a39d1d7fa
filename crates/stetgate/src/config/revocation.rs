//! `[revocation]`: how stetgate learns that a QTSP revoked a QWAC or QSealC (`crate::revocation`),
//! and what it does when it cannot learn it, per trust anchor.
//!
//! ```toml
//! [revocation]
//! default = "soft"            # anchors not listed below: "hard", "soft" or "off"
//! timeout_secs = 5            # per CRL download or OCSP exchange
//! max_age_secs = 3600         # an answer is used at most this long (and when it has no nextUpdate)
//! refresh_before_secs = 300   # a CRL is fetched again this long before its nextUpdate
//!
//! [[revocation.anchor]]
//! file = "/etc/stetgate/qtsp-a.pem"   # one of trust_anchors
//! mode = "hard"
//! ```
//!
//! - `hard`: a certificate whose status cannot be established (responder down, CRL out of date,
//!   no CRL distribution point nor OCSP responder in the certificate) is refused;
//! - `soft`: it is accepted, with a warning in the log and `outcome="soft_fail"` in the metrics;
//! - `off`: no check.

use super::ConfigError;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// What happens when a certificate's revocation status cannot be established.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RevocationMode {
    /// Refuse the certificate.
    Hard,
    /// Accept it, logged and counted.
    Soft,
    /// Do not check revocation at all.
    Off,
}

impl RevocationMode {
    pub fn as_str(self) -> &'static str {
        match self {
            RevocationMode::Hard => "hard",
            RevocationMode::Soft => "soft",
            RevocationMode::Off => "off",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RevocationConfig {
    /// The mode of anchors without their own `[[revocation.anchor]]`.
    pub default: RevocationMode,
    pub timeout_secs: u64,
    pub max_age_secs: i64,
    pub refresh_before_secs: i64,
    /// `[[revocation.anchor]]`: per-anchor modes.
    pub anchor: Vec<AnchorRevocation>,
}

/// One trust anchor's revocation mode.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnchorRevocation {
    /// The PEM bundle, as listed in `trust_anchors`.
    pub file: PathBuf,
    pub mode: RevocationMode,
}

impl Default for RevocationConfig {
    fn default() -> Self {
        RevocationConfig {
            default: RevocationMode::Soft,
            timeout_secs: 5,
            max_age_secs: 3600,
            refresh_before_secs: 300,
            anchor: Vec::new(),
        }
    }
}

impl RevocationConfig {
    /// The mode for the anchor bundle `file`.
    pub fn mode_of(&self, file: &Path) -> RevocationMode {
        self.anchor.iter().find(|a| a.file == file).map(|a| a.mode).unwrap_or(self.default)
    }

    /// What start-up refuses: values out of range, an anchor that is not a trust anchor, an
    /// anchor listed twice.
    pub(super) fn check(&self, file: Option<&Path>, trust_anchors: &[PathBuf]) -> Result<(), ConfigError> {
        if !(1..=60).contains(&self.timeout_secs) {
            return Err(ConfigError::key(file, "revocation.timeout_secs", "must be 1 to 60 seconds"));
        }
        if !(60..=7 * 86_400).contains(&self.max_age_secs) {
            return Err(ConfigError::key(file, "revocation.max_age_secs", "must be 60 seconds to 7 days"));
        }
        if !(0..self.max_age_secs).contains(&self.refresh_before_secs) {
            return Err(ConfigError::key(
                file,
                "revocation.refresh_before_secs",
                "must be 0 or more and less than max_age_secs",
            ));
        }
        for (i, anchor) in self.anchor.iter().enumerate() {
            let key = format!("revocation.anchor[{i}].file");
            if !trust_anchors.contains(&anchor.file) {
                return Err(ConfigError::key(
                    file,
                    &key,
                    format!("{} is not one of trust_anchors (write it as it is written there)", anchor.file.display()),
                ));
            }
            if self.anchor[..i].iter().any(|a| a.file == anchor.file) {
                return Err(ConfigError::key(file, &key, format!("{} is listed twice", anchor.file.display())));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_up_refuses_what_cannot_work() {
        let anchors = vec![PathBuf::from("/etc/qtsp.pem")];
        let refused = |config: RevocationConfig| {
            let e = config.check(None, &anchors).unwrap_err();
            format!("{} {}", e.key.unwrap_or_default(), e.problem)
        };
        let hard = |file: &str| AnchorRevocation { file: file.into(), mode: RevocationMode::Hard };
        assert!(
            RevocationConfig { anchor: vec![hard("/etc/qtsp.pem")], ..Default::default() }
                .check(None, &anchors)
                .is_ok()
        );
        assert!(
            refused(RevocationConfig { anchor: vec![hard("/etc/other.pem")], ..Default::default() })
                .starts_with("revocation.anchor[0].file /etc/other.pem is not one of trust_anchors")
        );
        assert!(
            refused(RevocationConfig {
                anchor: vec![hard("/etc/qtsp.pem"), hard("/etc/qtsp.pem")],
                ..Default::default()
            })
            .contains("revocation.anchor[1].file")
        );
        assert!(
            refused(RevocationConfig { timeout_secs: 0, ..Default::default() }).starts_with("revocation.timeout_secs")
        );
        assert!(
            refused(RevocationConfig { refresh_before_secs: 3600, ..Default::default() })
                .starts_with("revocation.refresh_before_secs")
        );
        let config = RevocationConfig { anchor: vec![hard("/etc/qtsp.pem")], ..Default::default() };
        assert_eq!(config.mode_of(Path::new("/etc/qtsp.pem")), RevocationMode::Hard);
        assert_eq!(config.mode_of(Path::new("/etc/other.pem")), RevocationMode::Soft, "the default");
    }
}
