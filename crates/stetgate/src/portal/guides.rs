//! The project's guides, served by the sandbox at `/guides/{name}` so the portal can link them
//! without a network: the Markdown text as written in `docs/`, shown as plain text.

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// (name in the URL, file in the repository, text).
pub const GUIDES: &[(&str, &str, &str)] = &[
    ("tpp-guide", "docs/tpp-guide.md", include_str!("../../../../docs/tpp-guide.md")),
    ("sandbox", "docs/sandbox.md", include_str!("../../../../docs/sandbox.md")),
    ("pisp", "docs/pisp.md", include_str!("../../../../docs/pisp.md")),
    ("openapi", "docs/openapi.md", include_str!("../../../../docs/openapi.md")),
    ("security", "docs/security.md", include_str!("../../../../docs/security.md")),
];

/// `GET /guides/{name}`.
pub async fn guide(Path(name): Path<String>) -> Response {
    match GUIDES.iter().find(|(n, _, _)| *n == name) {
        Some((_, _, text)) => {
            let mut response = (*text).into_response();
            let headers = response.headers_mut();
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
            headers.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
            response
        }
        None => (StatusCode::NOT_FOUND, "no such guide").into_response(),
    }
}
