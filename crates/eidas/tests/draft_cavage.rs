//! The published test values of draft-cavage-http-signatures (appendix C, "Test" key, the request
//! `POST /foo?param=value&pet=dog` dated Thu, 05 Jan 2014 21:31:40 GMT): our parser and our signing
//! strings must reproduce what the draft's signatures were computed over.
//!
//! The draft's key is 1024-bit RSA, which stetgate refuses for QSealCs (2048 bits minimum), so the
//! final check uses aws-lc-rs's legacy 1024-bit verifier directly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use aws_lc_rs::signature::{RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY, UnparsedPublicKey};
use base64::Engine;
use eidas::signature::{check_digest, parse_signature_header, signing_string};

/// The draft's public key, as PKCS#1 RSAPublicKey (base64 DER).
const TEST_PUBLIC_KEY: &str = "MIGJAoGBAMIUQ0bDffIaKHL3akONlCGXQLfqs8mP4K99ILz6rbyHEDXrVAU1R3Xf\
C4JNRyrRB3aqwF7/aEXJzYMIkmDSHUvvz7pnhQxHsQ5yl91QT0d/eb+Gz4VRHjm4\
El4MrUdIUcPxscoPqS/wU8Z8lOi1z7bGMnChiL7WGqnV8h6RrGzJAgMBAAE=";

const BODY: &[u8] = br#"{"hello": "world"}"#;

fn header(name: &str) -> Vec<String> {
    let value = match name {
        "host" => "example.com",
        "date" => "Thu, 05 Jan 2014 21:31:40 GMT",
        "content-type" => "application/json",
        "digest" => "SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=",
        "content-length" => "18",
        _ => return vec![],
    };
    vec![value.to_owned()]
}

fn verify(signature_header: &str, expected_signing_string: &str) {
    let parsed = parse_signature_header(signature_header).unwrap();
    assert_eq!(parsed.key_id, "Test");
    let text = signing_string(&parsed.headers, "POST", "/foo?param=value&pet=dog", header).unwrap();
    assert_eq!(text, expected_signing_string);
    let key = base64::engine::general_purpose::STANDARD.decode(TEST_PUBLIC_KEY).unwrap();
    UnparsedPublicKey::new(&RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY, key)
        .verify(text.as_bytes(), &parsed.signature)
        .expect("the draft's signature verifies over our signing string");
}

#[test]
fn default_test() {
    verify(
        r#"keyId="Test",algorithm="rsa-sha256",signature="jKyvPcxB4JbmYY4mByyBY7cZfNl4OW9HpFQlG7N4YcJPteKTu4MWCLyk+gIr0wDgqtLWf9NLpMAMimdfsH7FSWGfbMFSrsVTHNTk0rK3usrfFnti1dxsM4jl0kYJCKTGI/UWkqiaxwNiKqGcdlEDrTcUhhsFsOIo8VhddmZTZ8w=""#,
        "date: Thu, 05 Jan 2014 21:31:40 GMT",
    );
}

#[test]
fn basic_test() {
    verify(
        r#"keyId="Test",algorithm="rsa-sha256",headers="(request-target) host date",signature="HUxc9BS3P/kPhSmJo+0pQ4IsCo007vkv6bUm4Qehrx+B1Eo4Mq5/6KylET72ZpMUS80XvjlOPjKzxfeTQj4DiKbAzwJAb4HX3qX6obQTa00/qPDXlMepD2JtTw33yNnm/0xV7fQuvILN/ys+378Ysi082+4xBQFwvhNvSoVsGv4=""#,
        "(request-target): post /foo?param=value&pet=dog\nhost: example.com\ndate: Thu, 05 Jan 2014 21:31:40 GMT",
    );
}

#[test]
fn all_headers_test() {
    verify(
        r#"keyId="Test",algorithm="rsa-sha256",headers="(request-target) host date content-type digest content-length",signature="Ef7MlxLXoBovhil3AlyjtBwAL9g4TN3tibLj7uuNB3CROat/9KaeQ4hW2NiJ+pZ6HQEOx9vYZAyi+7cmIkmJszJCut5kQLAwuX+Ms/mUFvpKlSo9StS2bMXDBNjOh4Auj774GFj4gwjS+3NhFeoqyr/MuN6HsEnkvn6zdgfE2i0=""#,
        "(request-target): post /foo?param=value&pet=dog\nhost: example.com\ndate: Thu, 05 Jan 2014 21:31:40 GMT\n\
         content-type: application/json\ndigest: SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=\ncontent-length: 18",
    );
    assert_eq!(check_digest("SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=", BODY), Ok(()));
}

#[test]
fn a_changed_header_breaks_the_signature() {
    let parsed = parse_signature_header(r#"keyId="Test",algorithm="rsa-sha256",headers="(request-target) host date",signature="HUxc9BS3P/kPhSmJo+0pQ4IsCo007vkv6bUm4Qehrx+B1Eo4Mq5/6KylET72ZpMUS80XvjlOPjKzxfeTQj4DiKbAzwJAb4HX3qX6obQTa00/qPDXlMepD2JtTw33yNnm/0xV7fQuvILN/ys+378Ysi082+4xBQFwvhNvSoVsGv4=""#).unwrap();
    let text = signing_string(&parsed.headers, "POST", "/foo?param=value&pet=cat", header).unwrap();
    let key = base64::engine::general_purpose::STANDARD.decode(TEST_PUBLIC_KEY).unwrap();
    assert!(
        UnparsedPublicKey::new(&RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY, key)
            .verify(text.as_bytes(), &parsed.signature)
            .is_err()
    );
}
