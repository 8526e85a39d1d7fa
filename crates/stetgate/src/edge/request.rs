//! STET request conventions every resource route shares: the `X-Request-ID` correlation id, content
//! negotiation (responses are `application/hal+json`), and a bounded, fully read request body (the
//! Digest and signature checks need its exact bytes).

use super::bank::Bank;
use super::error::ApiError;
use super::tpp::{TppIdentity, authenticate};
use crate::oauth::model::RowRevision;
use crate::registry::model::{Registration, Unusable};
use crate::state::AppState;
use axum::extract::{FromRequest, FromRequestParts, OriginalUri, Request, State};
use axum::http::{HeaderMap, header, request::Parts};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use stet::headers::{X_REQUEST_ID, X_REQUEST_ID_MAX_LEN};

/// A request that follows the STET conventions: routed to a bank, with a valid `X-Request-ID`, and
/// accepting a HAL+JSON answer. Resource handlers take it first; it refuses the request otherwise.
#[derive(Debug, Clone)]
pub struct StetRequest {
    pub bank: Bank,
    pub request_id: String,
}

impl FromRequestParts<AppState> for StetRequest {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &AppState) -> Result<Self, Self::Rejection> {
        let request_id = request_id(&parts.headers)?;
        if !accepts_hal_json(&parts.headers) {
            return Err(ApiError::NotAcceptable);
        }
        let bank = parts
            .extensions
            .get::<Bank>()
            .cloned()
            .ok_or_else(|| ApiError::Internal("route without bank routing".into()))?;
        Ok(StetRequest { bank, request_id })
    }
}

/// A STET resource request from a registered TPP, signed with its registered QSealC. Checked in
/// this order: X-Request-ID (400), Accept (406), QWAC (401) and the route's role (403),
/// registration (401), Digest and signature (400). The body is available, verified.
#[derive(Debug, Clone)]
pub struct TppRequest {
    pub stet: StetRequest,
    pub tpp: TppIdentity,
    pub body: bytes::Bytes,
}

impl FromRequest<AppState> for TppRequest {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        TppRequest::check(request, state, &RowRevision::Unread).await
    }
}

impl TppRequest {
    /// Checks a request as [`TppRequest`]'s extractor does, the TPP's registration taken at
    /// `registration` (the revision the authorization query read, or `Unread`).
    pub async fn check(request: Request, state: &AppState, registration: &RowRevision) -> Result<Self, ApiError> {
        let (mut parts, body) = request.into_parts();
        let stet = StetRequest::from_request_parts(&mut parts, state).await?;
        let tpp = authenticate(&parts)?;
        let registration = match state.store.registration_at(&tpp.org_id, registration).await?.map(Registration::usable)
        {
            Some(Ok(r)) => r,
            Some(Err(why)) => return Err(ApiError::Unusable(tpp.org_id, why)),
            None => return Err(ApiError::Unusable(tpp.org_id, Unusable::NotRegistered)),
        };
        let body = read_body(body, state.config.max_body_bytes).await?;
        let target = parts
            .extensions
            .get::<OriginalUri>()
            .and_then(|u| u.0.path_and_query().map(|p| p.as_str().to_owned()))
            .or_else(|| parts.uri.path_and_query().map(|p| p.as_str().to_owned()))
            .unwrap_or_else(|| parts.uri.path().to_owned());
        let now = state.clock.now().as_second();
        let skew = state.config.signature_max_date_skew_secs;
        super::signature::verify(&parts, &target, &body, &tpp, &registration, &state.trust, now, skew)?;
        super::signature::check_revocation(state, &registration, now).await?;
        if !body.is_empty() && !is_json(&parts.headers) {
            return Err(ApiError::BadRequest(
                "Content-Type must be application/json (or application/hal+json) for a request body".into(),
            ));
        }
        Ok(TppRequest { stet, tpp, body })
    }
}

/// Whether the request declares a JSON body (`application/json`, `application/hal+json` or
/// another `application/*+json`, parameters allowed).
pub fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else { return false };
    let media = value.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    media == "application/json" || (media.starts_with("application/") && media.ends_with("+json"))
}

/// The `X-Request-ID` of a request: required, once, 1 to 70 visible ASCII characters.
pub fn request_id(headers: &HeaderMap) -> Result<String, ApiError> {
    let mut values = headers.get_all(X_REQUEST_ID).iter();
    let value = values.next().ok_or(ApiError::MissingRequestId)?;
    if values.next().is_some() {
        // Two correlation ids cannot both be echoed: refuse rather than pick one.
        return Err(ApiError::InvalidRequestId);
    }
    let text = value.to_str().map_err(|_| ApiError::InvalidRequestId)?;
    let ok = (1..=X_REQUEST_ID_MAX_LEN).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_graphic());
    if ok { Ok(text.to_owned()) } else { Err(ApiError::InvalidRequestId) }
}

/// Whether `Accept` lets us answer `application/hal+json` (or `application/json`). No `Accept`
/// header accepts anything (RFC 9110 12.5.1); a range with `q=0` is a refusal.
pub fn accepts_hal_json(headers: &HeaderMap) -> bool {
    let values: Vec<&str> = headers.get_all(header::ACCEPT).iter().filter_map(|v| v.to_str().ok()).collect();
    if values.is_empty() {
        return true;
    }
    values.iter().flat_map(|v| v.split(',')).any(|range| {
        let mut parts = range.split(';');
        let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let refused = parts.any(|p| {
            let p = p.trim().to_ascii_lowercase();
            p.strip_prefix("q=").is_some_and(|q| q.trim().parse::<f32>().map(|q| q <= 0.0).unwrap_or(false))
        });
        !refused && matches!(media.as_str(), "application/hal+json" | "application/json" | "application/*" | "*/*")
    })
}

/// Middleware: bounds the request body to the configured limit. A declared length over it is
/// refused at once; otherwise the body is read by whoever needs it (the resource extractor, a
/// handler), after the route has been matched and its facts noted, and reading past the limit is a
/// 413. Reading, like the rest of the request, is bounded by the request timeout.
pub async fn limit_body(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let limit = state.config.max_body_bytes;
    let (parts, body) = request.into_parts();
    let declared =
        parts.headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit as u64) {
        return ApiError::PayloadTooLarge(limit).into_response();
    }
    let body = axum::body::Body::new(http_body_util::Limited::new(body, limit));
    next.run(Request::from_parts(parts, body)).await
}

/// Reads a body bounded by [`limit_body`].
pub async fn read_body(body: axum::body::Body, limit: usize) -> Result<bytes::Bytes, ApiError> {
    axum::body::to_bytes(body, usize::MAX).await.map_err(|e| {
        let cause = e.into_inner();
        if cause.is::<http_body_util::LengthLimitError>() {
            ApiError::PayloadTooLarge(limit)
        } else {
            ApiError::UnreadableBody(cause.to_string())
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn accept(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT, HeaderValue::from_str(v).unwrap());
        h
    }

    #[test]
    fn content_negotiation() {
        assert!(accepts_hal_json(&HeaderMap::new()), "no Accept accepts anything");
        for ok in [
            "application/hal+json",
            "application/json",
            "*/*",
            "text/html, application/*;q=0.5",
            "application/hal+json; charset=utf-8",
        ] {
            assert!(accepts_hal_json(&accept(ok)), "{ok}");
        }
        for refused in ["text/html", "application/xml", "application/json;q=0", "text/*", "image/png, */*;q=0"] {
            assert!(!accepts_hal_json(&accept(refused)), "{refused}");
        }
    }

    #[test]
    fn request_id_rules() {
        let mut h = HeaderMap::new();
        assert!(matches!(request_id(&h), Err(ApiError::MissingRequestId)));
        h.insert(X_REQUEST_ID, HeaderValue::from_static("f7c5a6b2-1c39-4d7b-9e0a-6f4e3c2b1a00"));
        assert!(request_id(&h).is_ok());
        h.insert(X_REQUEST_ID, HeaderValue::from_str(&"x".repeat(71)).unwrap());
        assert!(matches!(request_id(&h), Err(ApiError::InvalidRequestId)));
        h.insert(X_REQUEST_ID, HeaderValue::from_static("has space"));
        assert!(matches!(request_id(&h), Err(ApiError::InvalidRequestId)));
        h.insert(X_REQUEST_ID, HeaderValue::from_static("one"));
        h.append(X_REQUEST_ID, HeaderValue::from_static("two"));
        assert!(matches!(request_id(&h), Err(ApiError::InvalidRequestId)), "two ids: refused");
    }
}
