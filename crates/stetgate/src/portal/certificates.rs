//! `POST /certificates` on the sandbox: the portal's form that issues a TPP's test QWAC and QSealC
//! from the sandbox CA and registers the TPP (as `stetgate certs issue` then `stetgate tpp
//! register` would), answered as a zip: the four files, the CA to trust, and a README with the
//! keyIds and the next commands.

use super::texts::Texts;
use crate::edge::error::ApiError;
use crate::edge::form::Params;
use crate::edge::tls::ConnectionInfo;
use crate::registry::{RegistrationRequest, validate};
use crate::sandbox::certs::{CertsRequest, IssuedPair, issue_with};
use crate::state::AppState;
use crate::store::Inserted;
use axum::body::Bytes;
use axum::extract::{Extension, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::io::Write as _;

/// What the form asked for, checked.
struct Asked {
    certs: CertsRequest,
    name: String,
    redirect_uri: String,
}

fn asked(form: &Params) -> Result<Asked, String> {
    let field = |name: &str| form.one(name).ok().flatten().map(str::trim).unwrap_or("").to_owned();
    let roles = form.all("roles").join(",");
    let name = field("name");
    let certs = CertsRequest::parse(
        &field("org_id"),
        &roles,
        Some(&name).filter(|n| !n.is_empty()).map(|n| n.as_str()),
        None,
        365,
    )
    .map_err(|e| e.to_string().replace("--org-id", "organization id").replace("--roles", "roles"))?;
    let name = if name.is_empty() { format!("Test TPP {}", certs.org_id) } else { name };
    Ok(Asked { certs, name, redirect_uri: field("redirect_uri") })
}

/// Issues, registers, and answers the zip; a refusal is the portal's page with the reason.
pub async fn issue(
    State(state): State<AppState>,
    connection: Option<Extension<ConnectionInfo>>,
    headers: HeaderMap,
    uri: axum::http::Uri,
    body: Bytes,
) -> Result<Response, ApiError> {
    let t = super::texts_of(&headers);
    let Some(ca) = state.sandbox_ca.clone() else { return Ok(StatusCode::NOT_FOUND.into_response()) };
    if cross_site(&headers, &uri) {
        return Ok(refused(t, StatusCode::FORBIDDEN, t.cross_site));
    }
    let now = state.clock.now();
    if let Some(Extension(c)) = &connection
        && !state.page_limiter.allow(c.peer.ip(), now.as_millisecond())
    {
        return Ok(refused(t, StatusCode::TOO_MANY_REQUESTS, t.too_many));
    }
    let asked = match asked(&Params::parse(&body)) {
        Ok(asked) => asked,
        Err(why) => return Ok(refused(t, StatusCode::BAD_REQUEST, &why)),
    };
    // Two RSA keys: seconds of CPU, kept off the request threads.
    let certs = asked.certs.clone();
    let pair = tokio::task::spawn_blocking(move || issue_with(&ca, &certs, now.as_second()))
        .await
        .map_err(|e| ApiError::Internal(format!("issuing: {e}")))?
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let request = RegistrationRequest {
        client_name: asked.name.clone(),
        redirect_uris: vec![asked.redirect_uri.clone()],
        qsealc: pair.qseal.cert_pem.clone(),
        contacts: Vec::new(),
    };
    let qwac = eidas::psd2::parse_pem(&pair.qwac.cert_pem).map_err(|e| ApiError::Internal(e.to_string()))?;
    let registration = match validate(&request, &qwac, state.trust.anchors(), now, true) {
        Ok(registration) => registration,
        Err(e) => return Ok(refused(t, StatusCode::BAD_REQUEST, &e.to_string())),
    };
    // A new TPP, or new certificates for one registered before (the sandbox's own CA issued both).
    if !state.store.replace_registration(&registration, now).await?
        && state.store.insert_registration(&registration, now).await? == Inserted::AlreadyRegistered
    {
        // Registered in between by a simultaneous post: these certificates replace those.
        state.store.replace_registration(&registration, now).await?;
    }
    tracing::info!(client = %registration.org_id, "portal: test certificates issued and TPP registered");
    let ca_pem = state.sandbox_ca.as_ref().map(|ca| ca.root().cert_pem.clone()).unwrap_or_default();
    let archive = zip(&pair, &ca_pem, &readme(&asked, &pair)).map_err(|e| ApiError::Internal(format!("zip: {e}")))?;
    let mut response = archive.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/zip"));
    let file = format!("attachment; filename=\"{}-sandbox.zip\"", asked.certs.org_id);
    if let Ok(value) = HeaderValue::from_str(&file) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

/// A form posted from another site (a page the developer visits posting to the sandbox): the
/// browser says so in `Sec-Fetch-Site`, or an `Origin` that is not the sandbox's host.
fn cross_site(headers: &HeaderMap, uri: &axum::http::Uri) -> bool {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = text("sec-fetch-site") {
        return !matches!(site, "same-origin" | "none");
    }
    match (text("origin"), crate::edge::bank::request_authority(headers, uri)) {
        (Some(origin), Some(authority)) => origin.split_once("://").map(|(_, h)| h) != Some(authority.as_str()),
        _ => false,
    }
}

fn refused(t: &'static Texts, status: StatusCode, why: &str) -> Response {
    let page = super::ErrorPage { t, why };
    crate::psu::pages::html(status, askama::Template::render(&page))
}

fn readme(asked: &Asked, pair: &IssuedPair) -> String {
    format!(
        "Sandbox certificates of {org} ({name}), registered with the redirect URI {uri}.\n\n\
         keyId (URL form):    {url}\nkeyId (serial form): {serial}\n\n\
         Unzip into a directory `tpp` beside the sandbox's stetgate-data, then:\n\
         stet-tpp login --bank 17515 --psu 9999999901 --scope aisp --certs tpp --cacert tpp/ca.pem\n\
         stet-tpp accounts --bank 17515 --psu 9999999901 --certs tpp --cacert tpp/ca.pem\n",
        org = asked.certs.org_id,
        name = asked.name,
        uri = asked.redirect_uri,
        url = pair.key_id_url,
        serial = pair.key_id_serial,
    )
}

/// The files as a zip archive (stored, not compressed: a few kilobytes of PEM).
fn zip(pair: &IssuedPair, ca_pem: &str, readme: &str) -> Result<Vec<u8>, zip::result::ZipError> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let stored = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let mut files: Vec<(&str, &str, bool)> = pair.files().to_vec();
    files.extend([("ca.pem", ca_pem, false), ("README.txt", readme, false)]);
    for (name, text, private) in files {
        writer.start_file(name, stored.unix_permissions(if private { 0o600 } else { 0o644 }))?;
        writer.write_all(text.as_bytes())?;
    }
    Ok(writer.finish()?.into_inner())
}
