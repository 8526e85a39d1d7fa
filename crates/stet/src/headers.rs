//! Header names of the STET PSD2 API (1.4.0.47 "parameters" section), lower-case as HTTP/2 sends them.

/// Correlation id chosen by the TPP, echoed by the ASPSP on every response (required on resources).
pub const X_REQUEST_ID: &str = "x-request-id";
/// draft-cavage HTTP signature of the request.
pub const SIGNATURE: &str = "signature";
/// RFC 3230 digest of the body.
pub const DIGEST: &str = "digest";
/// Present when the PSU is connected; its absence marks a batch call (4 per day).
pub const PSU_IP_ADDRESS: &str = "psu-ip-address";

/// The longest `X-Request-ID` STET allows (string, max 70 characters).
pub const X_REQUEST_ID_MAX_LEN: usize = 70;
