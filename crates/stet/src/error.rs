//! The STET `ErrorModel` (1.4.0.47 definitions): the body of every 4xx/5xx on resource routes.
//!
//! Where the bank uses a short reason code (AC01, FF01, NGAC ...), it travels in `message`, as the
//! bank's live API does; `error` always explains in plain words what was wrong and how to fix it.

use serde::{Deserialize, Serialize};

/// `{timestamp, status, error, message, path}`; `status` and `message` are required by STET.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ErrorModel {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    /// The HTTP status, repeated in the body.
    pub status: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// 1.5 `Error400Model`: the approaches the bank offers, when none the PISP offered is one.
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "acceptedAuthenticationApproach")]
    pub accepted_authentication_approach: Option<Vec<String>>,
}

impl ErrorModel {
    /// STET limits `error`, `message` and `path` to 140 characters; longer text is cut on a
    /// character boundary so a long path or explanation never makes the body invalid.
    pub const MAX_TEXT: usize = 140;

    pub fn new(status: u16, message: &str, error: &str, path: &str, timestamp: String) -> Self {
        ErrorModel {
            timestamp: Some(timestamp),
            status,
            error: Some(truncate(error)),
            message: truncate(message),
            path: Some(truncate(path)),
            accepted_authentication_approach: None,
        }
    }
}

fn truncate(text: &str) -> String {
    text.chars().take(ErrorModel::MAX_TEXT).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_texts_are_cut_to_the_stet_limit() {
        let long = "é".repeat(300);
        let e = ErrorModel::new(400, &long, &long, &long, "t".into());
        assert_eq!(e.message.chars().count(), 140);
        assert_eq!(e.error.as_deref().map(|s| s.chars().count()), Some(140));
    }

    #[test]
    fn optional_fields_are_omitted_when_absent() {
        let e = ErrorModel {
            timestamp: None,
            status: 404,
            error: None,
            message: "NAAC".into(),
            path: None,
            accepted_authentication_approach: None,
        };
        assert_eq!(serde_json::to_string(&e).unwrap_or_default(), r#"{"status":404,"message":"NAAC"}"#);
    }
}
