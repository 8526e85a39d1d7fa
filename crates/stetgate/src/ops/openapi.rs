//! The OpenAPI 3.1 document of each served version at `/stet/psd2/{version}/openapi.json`, and the
//! same document rendered as a reference page (`openapi.html`: no script, no external resource).
//!
//! Both come from `stet::openapi::document`, itself made from the catalogue the routes are made
//! from; the server named in them is the bank host the request reached.

use crate::edge::bank::request_authority;
use askama::Template;
use axum::Extension;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Response};
use serde_json::Value;
use stet::ApiVersion;

/// `GET /stet/psd2/{version}/openapi.json`.
pub async fn document(Extension(version): Extension<ApiVersion>, headers: HeaderMap, uri: Uri) -> Response {
    let doc = stet::openapi::document(version, &origin(&headers, &uri));
    let mut response = axum::Json(doc).into_response();
    // Its URLs name the host asked for: not for a shared cache.
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=300"));
    response
}

/// `GET /stet/psd2/{version}/openapi.html`: the reference a developer reads.
pub async fn reference(Extension(version): Extension<ApiVersion>, headers: HeaderMap, uri: Uri) -> Response {
    let doc = stet::openapi::document(version, &origin(&headers, &uri));
    match Reference::of(&doc, version).render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "rendering the API reference");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

fn origin(headers: &HeaderMap, uri: &Uri) -> String {
    format!("https://{}", request_authority(headers, uri).unwrap_or_else(|| "localhost".into()))
}

#[derive(Template)]
#[template(path = "openapi_reference.html")]
struct Reference {
    title: String,
    server: String,
    description: String,
    other_versions: Vec<&'static str>,
    operations: Vec<OperationRow>,
    schemas: Vec<SchemaRow>,
    reasons: Vec<(String, String)>,
}

struct OperationRow {
    anchor: String,
    method: String,
    path: String,
    summary: String,
    scope: String,
    role: String,
    parameters: Vec<(String, String, String)>,
    request: String,
    responses: Vec<(String, String)>,
}

struct SchemaRow {
    name: String,
    description: String,
    properties: Vec<(String, String, bool)>,
}

fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_owned()
}

/// `#/components/schemas/X` -> `X`; an inline schema by its type.
fn type_of(schema: &Value) -> String {
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        return reference.rsplit('/').next().unwrap_or_default().to_owned();
    }
    if let Some(items) = schema.get("items") {
        return format!("{}[]", type_of(items));
    }
    for combinator in ["oneOf", "anyOf"] {
        if let Some(parts) = schema.get(combinator).and_then(Value::as_array) {
            return parts.iter().map(type_of).collect::<Vec<_>>().join(" | ");
        }
    }
    match schema.get("type") {
        Some(Value::Array(types)) => types.iter().map(text).collect::<Vec<_>>().join(" | "),
        Some(t) => text(t),
        None if schema.get("additionalProperties").is_some() => "map".to_owned(),
        None => "any".to_owned(),
    }
}

impl Reference {
    fn of(doc: &Value, version: ApiVersion) -> Reference {
        let mut operations = Vec::new();
        for (path, item) in doc["paths"].as_object().into_iter().flatten() {
            for (method, op) in item.as_object().into_iter().flatten() {
                operations.push(operation_row(doc, path, method, op));
            }
        }
        let schemas = doc["components"]["schemas"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(name, schema)| schema_row(name, schema))
            .collect();
        let reasons = doc["x-reason-codes"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| (text(&r["code"]), text(&r["meaning"])))
            .collect();
        Reference {
            title: text(&doc["info"]["title"]),
            server: text(&doc["servers"][0]["url"]),
            description: text(&doc["info"]["description"]),
            other_versions: ApiVersion::ALL.iter().filter(|v| **v != version).map(|v| v.segment()).collect(),
            operations,
            schemas,
            reasons,
        }
    }
}

fn operation_row(doc: &Value, path: &str, method: &str, op: &Value) -> OperationRow {
    let parameters = op["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            let p = match p.get("$ref").and_then(Value::as_str) {
                Some(reference) => doc.pointer(reference.trim_start_matches('#')).unwrap_or(p),
                None => p,
            };
            let required = if p["required"] == Value::Bool(true) { "required" } else { "optional" };
            (text(&p["name"]), format!("{}, {required}", text(&p["in"])), text(&p["description"]))
        })
        .collect();
    let responses = op["responses"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(status, r)| {
            let r = match r.get("$ref").and_then(Value::as_str) {
                Some(reference) => doc.pointer(reference.trim_start_matches('#')).unwrap_or(r),
                None => r,
            };
            let body = r["content"].as_object().and_then(|c| c.values().next()).map(|m| type_of(&m["schema"]));
            let description = text(&r["description"]);
            (status.clone(), body.map_or(description.clone(), |b| format!("{b}: {description}")))
        })
        .collect();
    OperationRow {
        anchor: text(&op["operationId"]),
        method: method.to_ascii_uppercase(),
        path: path.to_owned(),
        summary: text(&op["summary"]),
        scope: text(&op["security"][0]["oauth2"][0]),
        role: text(&op["x-psd2-role"]),
        parameters,
        request: op["requestBody"]["content"]
            .as_object()
            .and_then(|c| c.values().next())
            .map_or(String::new(), |m| type_of(&m["schema"])),
        responses,
    }
}

fn schema_row(name: &str, schema: &Value) -> SchemaRow {
    let required: Vec<&str> = schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
    let properties = schema["properties"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(p, s)| (p.clone(), type_of(s), required.contains(&p.as_str())))
        .collect();
    let description = text(&schema["description"]);
    SchemaRow { name: name.to_owned(), description: description.trim_matches('`').to_owned(), properties }
}
