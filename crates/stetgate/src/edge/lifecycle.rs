//! API version lifecycle (RFC 8594 `Sunset`, RFC 9745 `Deprecation`): a version the bank marked
//! deprecated answers as usual with `Deprecation: @<epoch>`, `Sunset: <HTTP-date>` and a `Link` to
//! its successor; from its sunset it answers 410 for every path, naming the replacement.

use super::error::ApiError;
use crate::state::AppState;
use axum::extract::{OriginalUri, Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use stet::ApiVersion;

/// Middleware on `/stet/psd2/`: applies the configured lifecycle of the version in the path.
pub async fn version_lifecycle(State(state): State<AppState>, request: Request, next: Next) -> Response {
    // Under `nest`, the request's URI has lost its `/stet/psd2` prefix; the original one has it.
    let path = request
        .extensions()
        .get::<OriginalUri>()
        .map(|u| u.0.path().to_owned())
        .unwrap_or_else(|| request.uri().path().to_owned());
    let version =
        path.strip_prefix("/stet/psd2/").and_then(|rest| rest.split('/').next()).and_then(ApiVersion::from_segment);
    let Some(lifecycle) = version.and_then(|v| state.config.api_versions.get(&v)) else {
        return next.run(request).await;
    };
    let now = state.clock.now();
    let successor = lifecycle.successor.map(ApiVersion::segment);
    if let Some(sunset) = lifecycle.sunset
        && now >= sunset
    {
        let replacement = successor.map(|s| format!(": use /stet/psd2/{s}")).unwrap_or_default();
        let explanation = format!("this API version was retired on {}{replacement}", sunset.strftime("%Y-%m-%d"));
        let mut response = ApiError::Retired(explanation).into_response();
        add_successor_link(&mut response, successor);
        return response;
    }
    let mut response = next.run(request).await;
    if let Some(deprecated) = lifecycle.deprecated
        && now >= deprecated
    {
        if let Ok(value) = HeaderValue::from_str(&format!("@{}", deprecated.as_second())) {
            response.headers_mut().insert("deprecation", value);
        }
        if let Some(sunset) = lifecycle.sunset
            && let Ok(value) = HeaderValue::from_str(&sunset.strftime("%a, %d %b %Y %H:%M:%S GMT").to_string())
        {
            response.headers_mut().insert("sunset", value);
        }
        add_successor_link(&mut response, successor);
    }
    response
}

fn add_successor_link(response: &mut Response, successor: Option<&str>) {
    if let Some(successor) = successor
        && let Ok(value) = HeaderValue::from_str(&format!("</stet/psd2/{successor}>; rel=\"successor-version\""))
    {
        response.headers_mut().append(axum::http::header::LINK, value);
    }
}
