//! The authorization server's answers (RFC 6749 as the bank publishes it): the token answer and
//! the error body of every `/stet/psd2/oauth/*` endpoint.

use serde::{Deserialize, Serialize};

/// The token answer (RFC 6749 section 5.1): an access token and the refresh token of its pair.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// The granted scopes, space-separated.
    pub scope: String,
    /// Absent from a client-credentials answer (a PISP's own token).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

impl TokenResponse {
    /// The refresh token, or "" when the answer has none (client credentials).
    pub fn refresh(&self) -> &str {
        self.refresh_token.as_deref().unwrap_or("")
    }
}

/// An OAuth 2.0 error (RFC 6749 section 5.2, RFC 7591 section 3.2.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OAuthErrorBody {
    /// `invalid_request`, `invalid_client`, `invalid_grant`, `access_denied` ...
    pub error: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
}
