//! The OpenAPI 3.1 document of one served version, made from [`crate::catalog`] (what is routed)
//! and the wire types' own schemas (what is sent), so it cannot drift from either.
//!
//! Security is described as the bank applies it: mutual TLS with a QWAC carrying the PSD2 role,
//! an OAuth2 token of the operation's scope (authorization code for AISPs and CBPIIs, client
//! credentials for a PISP's own token), and the STET HTTP signature with the QSealC (the
//! `Signature`, `Digest` and `X-Request-ID` header parameters).

use crate::catalog::{self, Endpoint, NamedSchema, REASON_CODES, Service, endpoints, schema_of};
use crate::{ApiVersion, ErrorModel};
use serde_json::{Map, Value, json};

/// The STET release a served version follows.
pub fn stet_release(version: ApiVersion) -> &'static str {
    match version {
        ApiVersion::V1 => "1.4.0.47",
        ApiVersion::V1_4_2 => "1.4.2",
        ApiVersion::V1_6_2 => "1.6.2",
    }
}

/// The document for `version` served at `origin` (`https://www.17515.sandbox.localhost:8443`).
pub fn document(version: ApiVersion, origin: &str) -> Value {
    let mut schemas = Map::new();
    let mut paths = Map::new();
    add_schema(&mut schemas, schema_of::<ErrorModel>());
    for endpoint in endpoints(version) {
        let item = paths.entry(endpoint.path).or_insert_with(|| json!({}));
        if let Value::Object(item) = item {
            item.insert(endpoint.method.as_str().to_ascii_lowercase(), operation(&endpoint, version, &mut schemas));
        }
    }
    version_shapes(version, &mut schemas);
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": format!("STET PSD2 API {} (stetgate)", stet_release(version)),
            "version": stet_release(version),
            "description": DESCRIPTION,
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
        },
        "servers": [{"url": format!("{origin}{}", version.base_path())}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "parameters": parameters(),
            "securitySchemes": security_schemes(version, origin),
            "responses": common_responses(),
        },
        "x-reason-codes": REASON_CODES.iter().map(|(code, meaning)| json!({"code": code, "meaning": meaning})).collect::<Vec<_>>(),
    })
}

/// Where one wire type serves several versions, what a version does not accept: before 1.6.2
/// the consent has neither `overdrafts` nor `owners` (the server refuses them with a 400), and no
/// other field either (every version's `Access` is closed).
fn version_shapes(version: ApiVersion, schemas: &mut Map<String, Value>) {
    if let Some(Value::Object(access)) = schemas.get_mut("Access") {
        if version < ApiVersion::V1_6_2
            && let Some(Value::Object(properties)) = access.get_mut("properties")
        {
            properties.remove("overdrafts");
            properties.remove("owners");
        }
        access.insert("additionalProperties".into(), Value::Bool(false));
    }
    // 1.4.0.47 has no relatedParties: the bank sends them from 1.4.2 on.
    if version == ApiVersion::V1
        && let Some(Value::Object(properties)) =
            schemas.get_mut("TransactionResource").and_then(|t| t.get_mut("properties"))
    {
        properties.remove("relatedParties");
    }
}

const DESCRIPTION: &str = "Every call is made over mutual TLS with the TPP's QWAC, carries an access token of the \
operation's scope, an X-Request-ID and the STET HTTP signature made with the TPP's QSealC (keyId: the QSealC's URL \
ending in _<SHA-256 fingerprint>, or SN=<serial>,CA=<issuer>; signed headers at least (request-target), \
x-request-id and digest when there is a body). Errors answer the STET ErrorModel; the reason code, when the bank \
has one, is in `message` (see x-reason-codes). PSU-IP-Address marks a call the PSU is connected to; without it an \
AIS call counts in the 4-a-day batch limit.";

/// Schema names the derive cannot choose: `Links` is an alias of a `BTreeMap`, named after it.
const RENAMED: &[(&str, &str)] = &[("BTreeMap", "Links")];

fn schema_name(name: String) -> String {
    RENAMED.iter().find(|(from, _)| *from == name).map_or(name, |(_, to)| (*to).to_owned())
}

/// The schema as JSON, its references following [`RENAMED`].
fn schema_json(schema: impl serde::Serialize) -> Value {
    let mut value = serde_json::to_value(schema).unwrap_or(Value::Null);
    rename_references(&mut value);
    value
}

fn rename_references(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map.iter_mut() {
                match (key.as_str(), inner) {
                    ("$ref", Value::String(reference)) => {
                        if let Some(name) = reference.strip_prefix("#/components/schemas/") {
                            *reference = format!("#/components/schemas/{}", schema_name(name.to_owned()));
                        }
                    }
                    (_, inner) => rename_references(inner),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(rename_references),
        _ => {}
    }
}

/// Adds a body's schema and those it refers to; answers the reference to it.
fn add_schema(schemas: &mut Map<String, Value>, named: NamedSchema) -> String {
    for (name, schema) in named.dependencies {
        schemas.entry(schema_name(name)).or_insert_with(|| schema_json(schema));
    }
    let name = schema_name(named.name);
    let reference = format!("#/components/schemas/{name}");
    schemas.entry(name).or_insert_with(|| schema_json(named.schema));
    reference
}

fn operation(endpoint: &Endpoint, version: ApiVersion, schemas: &mut Map<String, Value>) -> Value {
    let mut parameters: Vec<Value> = ["X-Request-ID", "Signature", "PSU-IP-Address"]
        .iter()
        .map(|name| json!({"$ref": format!("#/components/parameters/{name}")}))
        .collect();
    if endpoint.request.is_some() {
        parameters.push(json!({"$ref": "#/components/parameters/Digest"}));
    }
    for name in path_parameters(endpoint.path) {
        parameters
            .push(json!({"name": name, "in": "path", "required": true, "schema": {"type": "string", "maxLength": 70}}));
    }
    for (name, description) in endpoint.query {
        parameters.push(json!({"name": name, "in": "query", "required": false, "description": description, "schema": {"type": "string"}}));
    }
    let mut responses = Map::new();
    let (status, body) = endpoint.success;
    responses.insert(
        status.to_string(),
        match body {
            Some(body) => json!({"description": "Success", "content": hal(add_schema(schemas, body()))}),
            None => json!({"description": "Success, no body"}),
        },
    );
    if endpoint.may_be_empty {
        responses.insert("204".into(), json!({"description": "Nothing to list"}));
    }
    for (status, codes) in endpoint.errors {
        responses.insert(status.to_string(), error_response(*status, codes));
    }
    for status in ["400", "401", "403", "405", "406", "408", "413", "429", "500", "503"] {
        if !responses.contains_key(status) {
            responses.insert(status.into(), json!({"$ref": format!("#/components/responses/{status}")}));
        }
    }
    let scope = endpoint.service.scope(version);
    let mut operation = json!({
        "operationId": endpoint.operation_id,
        "summary": endpoint.summary,
        "tags": [tag(endpoint.service)],
        "parameters": parameters,
        "responses": responses,
        "security": [{"mtls": [], "oauth2": [scope]}],
        "x-psd2-role": endpoint.service.role(),
    });
    if let (Some(request), Value::Object(op)) = (endpoint.request, &mut operation) {
        // An empty consent body is the bank's "PUT /consents with no data" (every account listed).
        let required = endpoint.operation != crate::catalog::Operation::Consents;
        let content = json!({"application/json": {"schema": {"$ref": add_schema(schemas, request())}}});
        op.insert("requestBody".into(), json!({"required": required, "content": content}));
    }
    operation
}

fn tag(service: Service) -> &'static str {
    match service {
        Service::AccountInformation => "AISP",
        Service::FundsConfirmation => "CBPII",
        Service::PaymentInitiation => "PISP",
    }
}

fn hal(reference: String) -> Value {
    json!({"application/hal+json": {"schema": {"$ref": reference}}})
}

fn path_parameters(path: &str) -> Vec<&str> {
    path.split('/').filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}')).collect()
}

fn error_response(status: u16, codes: &[&str]) -> Value {
    let mut description = http_reason(status).to_owned();
    if !codes.is_empty() {
        let listed: Vec<String> =
            codes.iter().map(|code| format!("{code} ({})", catalog::reason_meaning(code).unwrap_or(""))).collect();
        description = format!("{description}; message carries one of: {}", listed.join("; "));
    }
    json!({"description": description, "content": {"application/hal+json": {"schema": {"$ref": "#/components/schemas/ErrorModel"}}}})
}

fn common_responses() -> Value {
    let mut responses = Map::new();
    for status in [400u16, 401, 403, 405, 406, 408, 413, 429, 500, 503] {
        let mut response = error_response(status, if status == 401 { &["invalid_token"] } else { &[] });
        if let (true, Value::Object(r)) = (matches!(status, 429 | 503), &mut response) {
            r.insert(
                "headers".into(),
                json!({"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}}),
            );
        }
        responses.insert(status.to_string(), response);
    }
    Value::Object(responses)
}

fn http_reason(status: u16) -> &'static str {
    match status {
        400 => "Bad request: a header, the signature or the body is wrong (error says which)",
        401 => "Unauthenticated: no token, an unusable token, or the TPP is not registered or active",
        403 => "Forbidden: the QWAC lacks the role, the token the scope, or the consent the account",
        404 => "No such resource",
        405 => "Method not allowed on this path (or not offered on this version)",
        406 => "The Accept header allows neither application/hal+json nor application/json",
        408 => "The request took too long",
        409 => "Conflict: the payment request is not in a state that allows this",
        413 => "The body is larger than the bank accepts",
        429 => "Too many requests: the batch limit (4 a day without PSU-IP-Address) or the rate limit",
        500 => "Internal error: retry later and quote the X-Request-ID",
        _ => "Unavailable: maintenance or an outage; retry after Retry-After",
    }
}

fn parameters() -> Value {
    json!({
        "X-Request-ID": {"name": "X-Request-ID", "in": "header", "required": true, "description": "Echoed in the answer", "schema": {"type": "string", "minLength": 1, "maxLength": 70}},
        "Signature": {"name": "Signature", "in": "header", "required": true, "description": "STET HTTP signature (draft-cavage) with the QSealC: keyId, algorithm rsa-sha256, headers, signature", "schema": {"type": "string"}},
        "Digest": {"name": "Digest", "in": "header", "required": true, "description": "SHA-256=<base64 of the body's SHA-256>, signed", "schema": {"type": "string"}},
        "PSU-IP-Address": {"name": "PSU-IP-Address", "in": "header", "required": false, "description": "The connected PSU's IP address; absent on batch calls", "schema": {"type": "string"}},
    })
}

fn security_schemes(version: ApiVersion, origin: &str) -> Value {
    let mut scopes = Map::new();
    for service in [Service::AccountInformation, Service::FundsConfirmation, Service::PaymentInitiation] {
        scopes.insert(service.scope(version).into(), json!(format!("{:?} (QWAC role {})", service, service.role())));
    }
    json!({
        "mtls": {"type": "mutualTLS", "description": "The TPP's QWAC (eIDAS, ETSI TS 119 495) carrying the operation's PSD2 role; its organisation identifier is the OAuth2 client_id"},
        "oauth2": {"type": "oauth2", "flows": {
            "authorizationCode": {
                "authorizationUrl": format!("{origin}/stet/psd2/oauth/authorize"),
                "tokenUrl": format!("{origin}/stet/psd2/oauth/token"),
                "refreshUrl": format!("{origin}/stet/psd2/oauth/token"),
                "scopes": scopes,
            },
            "clientCredentials": {
                "tokenUrl": format!("{origin}/stet/psd2/oauth/token"),
                "scopes": {"pisp": "A PISP's own token, to create and follow payment requests"},
            },
        }},
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Method;

    #[test]
    fn every_reference_resolves() {
        for version in ApiVersion::ALL {
            let doc = document(version, "https://www.17515.sandbox.localhost:8443");
            let text = doc.to_string();
            for reference in text.split("\"$ref\":\"").skip(1).map(|s| &s[..s.find('"').unwrap_or(0)]) {
                let pointer = reference.trim_start_matches('#');
                assert!(doc.pointer(pointer).is_some(), "{version}: {reference} resolves to nothing");
            }
        }
    }

    #[test]
    fn the_consent_has_overdrafts_from_1_6_2_on() {
        let fields = |v| document(v, "https://h")["components"]["schemas"]["Access"]["properties"].clone();
        assert!(fields(ApiVersion::V1_4_2).get("overdrafts").is_none());
        assert!(fields(ApiVersion::V1_6_2).get("overdrafts").is_some());
    }

    #[test]
    fn funds_amounts_may_be_numbers_from_1_4_2_on() {
        let request = |v| {
            let doc = document(v, "https://h");
            doc["paths"]["/funds-confirmations"]["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
                .clone()
        };
        assert_eq!(request(ApiVersion::V1), "#/components/schemas/PaymentCoverageRequest");
        assert_eq!(request(ApiVersion::V1_4_2), "#/components/schemas/PaymentCoverageRequestResource");
    }

    #[test]
    fn methods_are_lowercase_keys_with_the_catalogue_ids() {
        let doc = document(ApiVersion::V1_6_2, "https://h");
        let op = &doc["paths"]["/accounts/{accountResourceId}/overdrafts"]["get"];
        assert_eq!(op["operationId"], "accountsOverdraftsGet");
        assert_eq!(op["security"][0]["oauth2"][0], "aisp");
        assert_eq!(Method::Get.as_str(), "GET");
    }
}
