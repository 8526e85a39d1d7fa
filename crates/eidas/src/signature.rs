//! HTTP message signatures as STET uses them (Part I section 3.5, "applicative authentication"):
//! draft-cavage-http-signatures with `rsa-sha256`, and the RFC 3230 `Digest` of the body.
//!
//! `Signature: keyId="...",algorithm="rsa-sha256",headers="(request-target) x-request-id digest",signature="<base64>"`
//!
//! - parameters in any order, values quoted (with `\"` escapes), names matched case-insensitively;
//! - `headers` lists lower-case names; absent, it means `date` (draft-cavage 2.1.6);
//! - the signing string has one line per listed header, `name: value`, joined by `\n`, where
//!   `(request-target)` is `<method in lower case> <path and query>` and a header sent several times
//!   contributes its values joined by `, `;
//! - a STET keyId is a URL ending in `_<SHA-256 of the QSealC, 64 hex>` or `SN=<hex serial>,CA=<issuer DN>`.

use aws_lc_rs::signature::{self, KeyPair, RsaKeyPair, UnparsedPublicKey};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the Signature header is malformed: {0}")]
    Malformed(String),
    #[error("the Signature header has no {0} parameter")]
    Missing(&'static str),
    #[error("the Signature header repeats the {0} parameter")]
    Repeated(String),
    #[error("the signature is not valid base64")]
    Base64,
    #[error("signed header {0:?} is not in the request")]
    AbsentHeader(String),
    #[error("the signature does not verify with the certificate's key")]
    Invalid,
    #[error("the certificate's public key is not usable: {0}")]
    PublicKey(String),
    #[error("the private key is not usable: {0}")]
    PrivateKey(String),
}

/// A parsed `Signature` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureHeader {
    pub key_id: String,
    /// As sent (`rsa-sha256`), when sent.
    pub algorithm: Option<String>,
    /// Lower-case header names, in signing order.
    pub headers: Vec<String>,
    pub signature: Vec<u8>,
}

/// Parses the value of a `Signature` header (or of `Authorization: Signature ...`, without the scheme).
pub fn parse_signature_header(value: &str) -> Result<SignatureHeader, SignatureError> {
    let mut key_id = None;
    let mut algorithm = None;
    let mut headers = None;
    let mut signature = None;
    for (name, value) in parameters(value)? {
        let slot = match name.to_ascii_lowercase().as_str() {
            "keyid" => &mut key_id,
            "algorithm" => &mut algorithm,
            "headers" => &mut headers,
            "signature" => &mut signature,
            _ => continue, // created, expires and extensions: not used by STET
        };
        if slot.replace(value).is_some() {
            return Err(SignatureError::Repeated(name));
        }
    }
    let key_id = key_id.filter(|k| !k.is_empty()).ok_or(SignatureError::Missing("keyId"))?;
    let signature = signature.ok_or(SignatureError::Missing("signature"))?;
    let signature = BASE64.decode(signature.trim()).map_err(|_| SignatureError::Base64)?;
    let headers = match headers {
        Some(list) => list.split_ascii_whitespace().map(str::to_ascii_lowercase).collect(),
        None => vec!["date".to_owned()],
    };
    if headers.is_empty() {
        return Err(SignatureError::Malformed("the headers parameter is empty".into()));
    }
    Ok(SignatureHeader { key_id, algorithm, headers, signature })
}

/// `name="value"` pairs separated by commas; quoted values may contain commas and `\"`.
fn parameters(text: &str) -> Result<Vec<(String, String)>, SignatureError> {
    let malformed = |what: &str| SignatureError::Malformed(what.to_owned());
    let mut out = Vec::new();
    let mut chars = text.trim().chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace() || *c == ',') {
            chars.next();
        }
        if chars.peek().is_none() {
            break;
        }
        let mut name = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c.is_whitespace() {
                break;
            }
            if !(c.is_ascii_alphanumeric() || c == '-' || c == '_') {
                return Err(malformed(&format!("unexpected {c:?} in a parameter name")));
            }
            name.push(c);
            chars.next();
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if name.is_empty() || chars.next() != Some('=') {
            return Err(malformed("expected name=\"value\""));
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            let mut closed = false;
            while let Some(c) = chars.next() {
                match c {
                    '\\' => value.push(chars.next().ok_or_else(|| malformed("a value ends with a backslash"))?),
                    '"' => {
                        closed = true;
                        break;
                    }
                    other => value.push(other),
                }
            }
            if !closed {
                return Err(malformed(&format!("the value of {name} is not closed by a quote")));
            }
        } else {
            // Tolerated: unquoted token (some clients send algorithm=rsa-sha256).
            while let Some(&c) = chars.peek() {
                if c == ',' {
                    break;
                }
                value.push(c);
                chars.next();
            }
            value = value.trim().to_owned();
            if value.contains('"') {
                return Err(malformed("a quote inside an unquoted value"));
            }
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        match chars.peek() {
            None | Some(',') => {}
            Some(c) => return Err(malformed(&format!("unexpected {c:?} after the value of {name}"))),
        }
        out.push((name, value));
    }
    Ok(out)
}

/// Formats a `Signature` header value.
pub fn format_signature_header(key_id: &str, headers: &[&str], signature: &[u8]) -> String {
    let escape = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
    format!(
        "keyId=\"{}\",algorithm=\"rsa-sha256\",headers=\"{}\",signature=\"{}\"",
        escape(key_id),
        headers.join(" ").to_ascii_lowercase(),
        BASE64.encode(signature)
    )
}

/// Builds the signing string. `header_values(name)` returns every value of a header (looked up
/// case-insensitively by the caller), empty when absent.
pub fn signing_string(
    headers: &[String],
    method: &str,
    path_and_query: &str,
    header_values: impl Fn(&str) -> Vec<String>,
) -> Result<String, SignatureError> {
    let mut lines = Vec::with_capacity(headers.len());
    for name in headers {
        let name = name.to_ascii_lowercase();
        if name == "(request-target)" {
            lines.push(format!("(request-target): {} {path_and_query}", method.to_ascii_lowercase()));
            continue;
        }
        let values = header_values(&name);
        if values.is_empty() {
            return Err(SignatureError::AbsentHeader(name));
        }
        let joined: Vec<&str> = values.iter().map(|v| v.trim()).collect();
        lines.push(format!("{name}: {}", joined.join(", ")));
    }
    Ok(lines.join("\n"))
}

/// Verifies an rsa-sha256 (RSASSA-PKCS1-v1_5 with SHA-256) signature with the public key of a DER
/// certificate. Keys of 2048 bits or more.
pub fn verify_rsa_sha256(certificate_der: &[u8], signing_string: &str, signature: &[u8]) -> Result<(), SignatureError> {
    let key = rsa_public_key(certificate_der)?;
    UnparsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA256, key)
        .verify(signing_string.as_bytes(), signature)
        .map_err(|_| SignatureError::Invalid)
}

/// The RSAPublicKey (PKCS#1 DER) inside a certificate.
pub fn rsa_public_key(certificate_der: &[u8]) -> Result<Vec<u8>, SignatureError> {
    let (_, cert) =
        x509_parser::parse_x509_certificate(certificate_der).map_err(|e| SignatureError::PublicKey(e.to_string()))?;
    let spki = cert.public_key();
    if spki.algorithm.algorithm.to_id_string() != "1.2.840.113549.1.1.1" {
        return Err(SignatureError::PublicKey("not an RSA key (rsa-sha256 needs one)".into()));
    }
    Ok(spki.subject_public_key.data.to_vec())
}

/// Signs signing strings with an RSA private key (a QSealC's).
pub struct RsaSigner {
    key: RsaKeyPair,
}

impl std::fmt::Debug for RsaSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RsaSigner(<private key>)")
    }
}

impl RsaSigner {
    /// From a PKCS#8 PEM private key (`-----BEGIN PRIVATE KEY-----`).
    pub fn from_pkcs8_pem(pem: &str) -> Result<RsaSigner, SignatureError> {
        use rustls_pki_types::PrivatePkcs8KeyDer;
        use rustls_pki_types::pem::PemObject;
        let der = PrivatePkcs8KeyDer::from_pem_slice(pem.as_bytes())
            .map_err(|e| SignatureError::PrivateKey(e.to_string()))?;
        let key =
            RsaKeyPair::from_pkcs8(der.secret_pkcs8_der()).map_err(|e| SignatureError::PrivateKey(e.to_string()))?;
        Ok(RsaSigner { key })
    }

    pub fn sign(&self, signing_string: &str) -> Result<Vec<u8>, SignatureError> {
        let mut out = vec![0u8; self.key.public_modulus_len()];
        self.key
            .sign(
                &signature::RSA_PKCS1_SHA256,
                &aws_lc_rs::rand::SystemRandom::new(),
                signing_string.as_bytes(),
                &mut out,
            )
            .map_err(|e| SignatureError::PrivateKey(e.to_string()))?;
        Ok(out)
    }

    /// The public key (PKCS#1 DER), to check a signer against a certificate.
    pub fn public_key(&self) -> Vec<u8> {
        self.key.public_key().as_ref().to_vec()
    }
}

/// What a STET keyId designates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyId {
    /// A URL ending in `_<sha256 hex>`: the SHA-256 of the QSealC's DER.
    Fingerprint([u8; 32]),
    /// `SN=<hex serial>,CA=<issuer DN>`; the serial in lower-case hex without leading zeros.
    SerialAndIssuer { serial_hex: String, issuer: String },
}

impl KeyId {
    pub fn parse(key_id: &str) -> Option<KeyId> {
        if let Some(rest) = key_id.strip_prefix("SN=").or_else(|| key_id.strip_prefix("sn=")) {
            let split = rest.find(",CA=").or_else(|| rest.find(",ca="))?;
            let serial = rest[..split].trim().trim_start_matches("0x").to_ascii_lowercase();
            let serial = serial.trim_start_matches('0');
            let serial = if serial.is_empty() { "0" } else { serial };
            if !serial.bytes().all(|b| b.is_ascii_hexdigit()) {
                return None;
            }
            return Some(KeyId::SerialAndIssuer {
                serial_hex: serial.to_owned(),
                issuer: rest[split + 4..].trim().to_owned(),
            });
        }
        let (_, hex) = key_id.rsplit_once('_')?;
        if hex.len() != 64 {
            return None;
        }
        let mut fingerprint = [0u8; 32];
        for (i, byte) in fingerprint.iter_mut().enumerate() {
            *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        Some(KeyId::Fingerprint(fingerprint))
    }
}

/// Compares two distinguished names as text, ignoring the order of attributes, spaces around
/// separators and letter case (`CN=QTSP, O=Org, C=FR` equals `C=FR,O=Org,CN=QTSP`).
pub fn same_distinguished_name(a: &str, b: &str) -> bool {
    let normalise = |dn: &str| {
        let mut parts: Vec<String> = dn
            .split([',', '+'])
            .filter_map(|p| p.split_once('='))
            .map(|(k, v)| format!("{}={}", k.trim().to_ascii_lowercase(), v.trim().to_lowercase()))
            .collect();
        parts.sort();
        parts
    };
    let (a, b) = (normalise(a), normalise(b));
    !a.is_empty() && a == b
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DigestError {
    #[error("the Digest header names no supported algorithm (SHA-256 or SHA-512)")]
    UnsupportedAlgorithm,
    #[error("the Digest header value is not valid base64")]
    Base64,
    #[error("the Digest header does not match the body")]
    Mismatch,
}

/// `SHA-256=<base64 of the SHA-256 of the body>` (RFC 3230).
pub fn digest_header(body: &[u8]) -> String {
    format!("SHA-256={}", BASE64.encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, body)))
}

/// Checks a `Digest` header against the body: every SHA-256 or SHA-512 value it carries must match,
/// and there must be at least one.
pub fn check_digest(header: &str, body: &[u8]) -> Result<(), DigestError> {
    let mut checked = 0;
    for item in header.split(',') {
        let Some((algorithm, value)) = item.trim().split_once('=') else { continue };
        let algorithm = match algorithm.trim().to_ascii_uppercase().as_str() {
            "SHA-256" => &aws_lc_rs::digest::SHA256,
            "SHA-512" => &aws_lc_rs::digest::SHA512,
            _ => continue,
        };
        let expected = BASE64.decode(value.trim()).map_err(|_| DigestError::Base64)?;
        if aws_lc_rs::digest::digest(algorithm, body).as_ref() != expected.as_slice() {
            return Err(DigestError::Mismatch);
        }
        checked += 1;
    }
    if checked == 0 { Err(DigestError::UnsupportedAlgorithm) } else { Ok(()) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parameters_in_any_order_with_quotes_and_escapes() {
        let a = parse_signature_header(
            r#"keyId="k",algorithm="rsa-sha256",headers="(request-target) Digest",signature="AAEC""#,
        )
        .unwrap();
        let b = parse_signature_header(
            r#" signature = "AAEC" , headers="(request-target) digest",KEYID="k", algorithm=rsa-sha256"#,
        )
        .unwrap();
        assert_eq!(a, b);
        assert_eq!(a.headers, vec!["(request-target)", "digest"]);
        assert_eq!(a.signature, vec![0, 1, 2]);
        let c = parse_signature_header(r#"keyId="SN=1A,CA=CN=Q\"T, O=x",signature="AA==""#).unwrap();
        assert_eq!(c.key_id, "SN=1A,CA=CN=Q\"T, O=x");
        assert_eq!(c.headers, vec!["date"], "no headers parameter means date");
    }

    #[test]
    fn malformed_headers_are_refused_with_a_reason() {
        for (text, expected) in [
            (r#"keyId="k",signature="AA==",keyId="j""#, SignatureError::Repeated("keyId".into())),
            (r#"keyId="k""#, SignatureError::Missing("signature")),
            (r#"signature="AA==""#, SignatureError::Missing("keyId")),
            (r#"keyId="k",signature="%%%""#, SignatureError::Base64),
        ] {
            assert_eq!(parse_signature_header(text), Err(expected), "{text}");
        }
        for text in [r#"keyId="k,signature="AA==""#, "keyId", r#"keyId="k" x,signature="AA==""#, r#"k@y="1""#] {
            assert!(matches!(parse_signature_header(text), Err(SignatureError::Malformed(_))), "{text}");
        }
    }

    #[test]
    fn key_id_forms() {
        let hex = "714f8154ec259ac40b8a9786c9908488b2582b68b17e865fede4636d726b709f";
        match KeyId::parse(&format!("https://path.to/myQsealCertificate_{hex}")) {
            Some(KeyId::Fingerprint(f)) => assert_eq!(crate::psd2::hex(&f), hex),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            KeyId::parse("SN=00A1B2,CA=CN=Test QTSP, O=QTSP, C=FR"),
            Some(KeyId::SerialAndIssuer { serial_hex: "a1b2".into(), issuer: "CN=Test QTSP, O=QTSP, C=FR".into() })
        );
        for bad in ["https://x/cert", "https://x/cert_abc", "SN=zz,CA=CN=x", "SN=12"] {
            assert_eq!(KeyId::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn distinguished_names_compare_loosely() {
        assert!(same_distinguished_name("CN=QTSP, O=Org, C=FR", "c=FR,o=org,cn=qtsp"));
        assert!(!same_distinguished_name("CN=QTSP, O=Org, C=FR", "CN=QTSP, O=Other, C=FR"));
        assert!(!same_distinguished_name("", ""));
    }

    #[test]
    fn digest_sha256_and_sha512() {
        let body = br#"{"hello": "world"}"#;
        // The draft-cavage example body's published digest.
        assert_eq!(digest_header(body), "SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=");
        assert_eq!(check_digest("SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=", body), Ok(()));
        let sha512 = BASE64.encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA512, body));
        assert_eq!(check_digest(&format!("sha-512={sha512}"), body), Ok(()));
        assert_eq!(
            check_digest("SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=", b"{}"),
            Err(DigestError::Mismatch)
        );
        assert_eq!(check_digest("MD5=abc", body), Err(DigestError::UnsupportedAlgorithm));
        assert_eq!(check_digest("SHA-256=***", body), Err(DigestError::Base64));
    }

    #[test]
    fn signing_string_joins_repeated_headers_and_needs_every_listed_one() {
        let headers = vec!["(request-target)".to_owned(), "x-request-id".to_owned(), "psu-accept".to_owned()];
        let text = signing_string(&headers, "GET", "/stet/psd2/v1.4.2/accounts?x=1", |name| match name {
            "x-request-id" => vec!["  abc ".into()],
            "psu-accept" => vec!["a".into(), "b".into()],
            _ => vec![],
        })
        .unwrap();
        assert_eq!(text, "(request-target): get /stet/psd2/v1.4.2/accounts?x=1\nx-request-id: abc\npsu-accept: a, b");
        let missing = signing_string(&["digest".to_owned()], "GET", "/", |_| vec![]);
        assert_eq!(missing, Err(SignatureError::AbsentHeader("digest".into())));
    }

    #[test]
    fn a_qsealc_key_signs_and_its_certificate_verifies() {
        use crate::issue::{TestCa, TppCertKind, TppCertRequest};
        let ca = TestCa::generate("QTSP", "tests", 1).unwrap();
        let now = unix_now();
        let seal = ca
            .issue_tpp(&TppCertRequest {
                kind: TppCertKind::Qsealc,
                org_id: stet::OrgId::parse("PSDFR-ACPR-12345").unwrap(),
                name: "TPP".into(),
                roles: vec![crate::psd2::Role::AccountInformation],
                nca_name: "ACPR".into(),
                nca_id: "FR-ACPR".into(),
                not_before: now - 60,
                not_after: now + 3600,
                psd2_statement: true,
            })
            .unwrap();
        let der = crate::psd2::parse_pem(&seal.cert_pem).unwrap().der;
        let signer = RsaSigner::from_pkcs8_pem(&seal.key_pem).unwrap();
        assert_eq!(signer.public_key(), rsa_public_key(&der).unwrap());
        let signature = signer.sign("x-request-id: 1").unwrap();
        assert_eq!(verify_rsa_sha256(&der, "x-request-id: 1", &signature), Ok(()));
        assert_eq!(verify_rsa_sha256(&der, "x-request-id: 2", &signature), Err(SignatureError::Invalid));
        // An ECDSA certificate cannot verify rsa-sha256.
        let ecdsa_root = crate::psd2::parse_pem(&ca.root().cert_pem).unwrap();
        assert!(matches!(verify_rsa_sha256(&ecdsa_root.der, "x", &signature), Err(SignatureError::PublicKey(_))));
    }

    fn unix_now() -> i64 {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
    }

    proptest! {
        #[test]
        fn parse_never_panics(text in "\\PC{0,200}") {
            let _ = parse_signature_header(&text);
            let _ = KeyId::parse(&text);
            let _ = check_digest(&text, b"body");
        }

        #[test]
        fn format_then_parse_round_trips(
            key_id in "[ -~]{1,80}",
            headers in proptest::collection::vec("[a-z][a-z0-9-]{0,20}", 1..6),
            signature in proptest::collection::vec(any::<u8>(), 1..64),
            rotate in 0usize..4,
        ) {
            let names: Vec<&str> = headers.iter().map(String::as_str).collect();
            let formatted = format_signature_header(&key_id, &names, &signature);
            // Reorder the parameters: order must not matter.
            let mut params: Vec<&str> = split_top_level(&formatted);
            let len = params.len();
            params.rotate_left(rotate % len);
            let parsed = parse_signature_header(&params.join(",")).unwrap();
            prop_assert_eq!(parsed.key_id, key_id);
            prop_assert_eq!(parsed.headers, headers);
            prop_assert_eq!(parsed.signature, signature);
            prop_assert_eq!(parsed.algorithm.as_deref(), Some("rsa-sha256"));
        }
    }

    /// Splits `a="x,y",b="z"` at the commas outside quotes (test helper).
    fn split_top_level(text: &str) -> Vec<&str> {
        let (mut out, mut start, mut quoted, mut escaped) = (Vec::new(), 0, false, false);
        for (i, c) in text.char_indices() {
            match c {
                _ if escaped => escaped = false,
                '\\' if quoted => escaped = true,
                '"' => quoted = !quoted,
                ',' if !quoted => {
                    out.push(&text[start..i]);
                    start = i + 1;
                }
                _ => {}
            }
        }
        out.push(&text[start..]);
        out
    }
}
