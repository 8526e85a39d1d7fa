//! App2App: the files that let a bank's mobile app claim the authorize URL of its hosts, so a PSU
//! on a phone authenticates in the bank's app instead of a web view (`/.well-known/
//! apple-app-site-association` for iOS universal links, `/.well-known/assetlinks.json` for Android
//! app links). Each bank configures its apps (`[app2app."<bankcode>"]`); the bank is the one the host
//! names (`www.<bankcode>.live.api.caisse-epargne.fr`), as for every route. A bank without apps: 404.

use crate::edge::bank::bank_code_of;
use crate::edge::error::ApiError;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// The path the apps claim.
const CLAIMED: &str = "/stet/psd2/oauth/authorize*";

fn apps<'a>(state: &'a AppState, headers: &HeaderMap, uri: &Uri) -> Option<&'a crate::config::App2AppConfig> {
    let bank = bank_code_of(headers, uri, state.config.default_bank);
    state.config.app2app.get(&bank)
}

/// `GET /.well-known/apple-app-site-association`.
pub async fn apple_app_site_association(State(state): State<AppState>, headers: HeaderMap, uri: Uri) -> Response {
    match apps(&state, &headers, &uri).filter(|a| !a.apple_app_ids.is_empty()) {
        Some(apps) => Json(json!({
            "applinks": {
                "apps": [],
                "details": [{"appIDs": apps.apple_app_ids, "components": [{"/": CLAIMED}], "paths": [CLAIMED]}]
            }
        }))
        .into_response(),
        None => ApiError::NotFound.into_response(),
    }
}

/// `GET /.well-known/assetlinks.json`.
pub async fn asset_links(State(state): State<AppState>, headers: HeaderMap, uri: Uri) -> Response {
    match apps(&state, &headers, &uri)
        .and_then(|a| a.android_package.as_ref().map(|p| (p, &a.android_sha256_fingerprints)))
    {
        Some((package, fingerprints)) => Json(json!([{
            "relation": ["delegate_permission/common.handle_all_urls"],
            "target": {"namespace": "android_app", "package_name": package, "sha256_cert_fingerprints": fingerprints}
        }]))
        .into_response(),
        None => ApiError::NotFound.into_response(),
    }
}
