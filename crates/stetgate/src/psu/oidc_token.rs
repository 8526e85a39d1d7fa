//! The JSON Web Tokens of the OpenID Connect delegation, as plain functions: the provider's key set
//! (RFC 7517; RSA and P-256 keys), the signature of an ID token (RFC 7515, with RS256, PS256 or
//! ES256 of RFC 7518 section 3, verified with aws-lc-rs), the ID-token checks of OpenID Connect
//! Core 1.0 section 3.1.3.7 (issuer, audience and `azp`, expiry and issue time with a leeway,
//! nonce, the `acr` the bank requires for strong authentication, `auth_time`, the PSU's claim), and
//! stetgate's own client assertion for `private_key_jwt` (RFC 7523 section 2.2 and 3).

use aws_lc_rs::signature::{self, KeyPair as _};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jiff::{SignedDuration, Timestamp};
use serde_json::Value;

/// The signature algorithms accepted on ID tokens; `none` and the HMAC ones never are.
const ALGORITHMS: [&str; 3] = ["RS256", "PS256", "ES256"];

/// An ID token issued longer ago than this is not the answer to a sign-in that just happened.
pub const MAX_TOKEN_AGE: SignedDuration = SignedDuration::from_mins(10);

/// One public key of the provider's key set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Jwk {
    pub kid: Option<String>,
    /// The key's `alg`, when the set names one.
    pub alg: Option<String>,
    key: PublicKey,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum PublicKey {
    Rsa {
        n: Vec<u8>,
        e: Vec<u8>,
    },
    /// An uncompressed P-256 point (`04 || x || y`).
    P256(Vec<u8>),
}

/// The provider's signing keys (`jwks_uri`); keys of other types or uses are left out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JwkSet {
    pub keys: Vec<Jwk>,
}

impl JwkSet {
    pub fn parse(set: &Value) -> Result<JwkSet, String> {
        let keys = set.get("keys").and_then(Value::as_array).ok_or("the key set has no `keys` array")?;
        Ok(JwkSet { keys: keys.iter().filter_map(Jwk::parse).collect() })
    }
}

impl Jwk {
    fn parse(key: &Value) -> Option<Jwk> {
        let text = |name: &str| key.get(name).and_then(Value::as_str);
        let bytes = |name: &str| text(name).and_then(|t| URL_SAFE_NO_PAD.decode(t).ok());
        if text("use").is_some_and(|u| u != "sig") {
            return None;
        }
        let unsigned = |b: Vec<u8>| b.into_iter().skip_while(|x| *x == 0).collect::<Vec<u8>>();
        let public = match (text("kty")?, text("crv")) {
            ("RSA", _) => PublicKey::Rsa { n: unsigned(bytes("n")?), e: unsigned(bytes("e")?) },
            ("EC", Some("P-256")) => {
                let (x, y) = (bytes("x")?, bytes("y")?);
                if x.len() != 32 || y.len() != 32 {
                    return None;
                }
                PublicKey::P256([&[4u8][..], &x, &y].concat())
            }
            _ => return None,
        };
        Some(Jwk { kid: text("kid").map(str::to_owned), alg: text("alg").map(str::to_owned), key: public })
    }

    fn fits(&self, alg: &str) -> bool {
        let family = match &self.key {
            PublicKey::Rsa { .. } => alg == "RS256" || alg == "PS256",
            PublicKey::P256(_) => alg == "ES256",
        };
        family && self.alg.as_deref().is_none_or(|a| a == alg)
    }

    fn verify(&self, alg: &str, message: &[u8], signature: &[u8]) -> bool {
        match (&self.key, alg) {
            (PublicKey::Rsa { n, e }, "RS256") => signature::RsaPublicKeyComponents { n, e }
                .verify(&signature::RSA_PKCS1_2048_8192_SHA256, message, signature)
                .is_ok(),
            (PublicKey::Rsa { n, e }, "PS256") => signature::RsaPublicKeyComponents { n, e }
                .verify(&signature::RSA_PSS_2048_8192_SHA256, message, signature)
                .is_ok(),
            (PublicKey::P256(point), "ES256") => {
                signature::UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point)
                    .verify(message, signature)
                    .is_ok()
            }
            _ => false,
        }
    }
}

/// Why an ID token's signature was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureRefusal {
    #[error("the ID token is not a compact JWS")]
    Malformed,
    #[error("the ID token's algorithm is not RS256, PS256 or ES256")]
    Algorithm,
    /// No key of the set fits the token's `kid` and algorithm: the set may have rotated.
    #[error("the ID token's signing key is not in the provider's key set")]
    UnknownKey,
    #[error("the ID token's signature does not verify")]
    BadSignature,
}

/// The claims of `jwt` once its signature verifies with a key of `keys`.
pub fn verify_signature(jwt: &str, keys: &JwkSet) -> Result<Value, SignatureRefusal> {
    let mut parts = jwt.split('.');
    let (Some(h), Some(p), Some(s), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(SignatureRefusal::Malformed);
    };
    let decode = |part: &str| URL_SAFE_NO_PAD.decode(part).map_err(|_| SignatureRefusal::Malformed);
    let header: Value = serde_json::from_slice(&decode(h)?).map_err(|_| SignatureRefusal::Malformed)?;
    let alg = header.get("alg").and_then(Value::as_str).unwrap_or("");
    // An extension the token says must be understood, and that we do not (RFC 7515 4.1.11).
    if !ALGORITHMS.contains(&alg) || header.get("crit").is_some() {
        return Err(SignatureRefusal::Algorithm);
    }
    let kid = header.get("kid").and_then(Value::as_str);
    let candidates: Vec<&Jwk> =
        keys.keys.iter().filter(|k| k.fits(alg) && (kid.is_none() || k.kid.as_deref() == kid)).collect();
    if candidates.is_empty() {
        return Err(SignatureRefusal::UnknownKey);
    }
    let (message, signature) = (format!("{h}.{p}"), decode(s)?);
    if !candidates.iter().any(|k| k.verify(alg, message.as_bytes(), &signature)) {
        return Err(SignatureRefusal::BadSignature);
    }
    serde_json::from_slice(&decode(p)?).map_err(|_| SignatureRefusal::Malformed)
}

/// What the ID token must say (OpenID Connect Core 3.1.3.7).
#[derive(Debug, Clone, Copy)]
pub struct Expected<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub nonce: &'a str,
    /// The `acr` values the bank accepts as strong customer authentication.
    pub acr_values: &'a [String],
    /// The claim carrying the PSU's online-banking id.
    pub psu_claim: &'a str,
    pub now: Timestamp,
    pub skew: SignedDuration,
    /// When the journey began: the authentication must not be older.
    pub asked_at: Timestamp,
}

/// Why an ID token does not prove a strong authentication for this journey. The texts name the
/// rule, never a claim's value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClaimRefusal {
    #[error("the ID token's issuer is not the configured provider")]
    Issuer,
    #[error("the ID token is not for this client (aud)")]
    Audience,
    #[error("the ID token's authorized party (azp) is not this client")]
    AuthorizedParty,
    #[error("the ID token expired")]
    Expired,
    #[error("the ID token's issue time (iat) is missing, in the future or too old")]
    IssuedAt,
    #[error("the ID token's nonce is not this journey's")]
    Nonce,
    #[error("the authentication's acr is not one the bank accepts as strong customer authentication")]
    Acr,
    #[error("the ID token's auth_time is missing, in the future, or before this journey")]
    AuthTime,
    #[error("the ID token has no subject (sub)")]
    Subject,
    #[error("the ID token lacks the claim naming the PSU")]
    PsuClaim,
}

/// What a valid ID token proves: the PSU's online-banking id and the instant of their strong
/// authentication (`auth_time`, which the 180-day rule counts from).
#[derive(Clone, PartialEq, Eq)]
pub struct Proven {
    pub online_banking_id: String,
    pub sca_at: Timestamp,
}

impl std::fmt::Debug for Proven {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Proven").field("sca_at", &self.sca_at).finish_non_exhaustive()
    }
}

/// The checks of OpenID Connect Core 3.1.3.7 on verified claims.
pub fn check_claims(claims: &Value, expected: &Expected<'_>) -> Result<Proven, ClaimRefusal> {
    let text = |name: &str| claims.get(name).and_then(Value::as_str);
    let instant = |name: &str| claims.get(name).and_then(Value::as_i64).and_then(|s| Timestamp::from_second(s).ok());
    if text("iss") != Some(expected.issuer) {
        return Err(ClaimRefusal::Issuer);
    }
    let audiences: Vec<&str> = match claims.get("aud") {
        Some(Value::String(one)) => vec![one.as_str()],
        Some(Value::Array(many)) => many.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if !audiences.contains(&expected.client_id) {
        return Err(ClaimRefusal::Audience);
    }
    // Several audiences: the party it was issued to must be named, and be us.
    match text("azp") {
        Some(azp) if azp != expected.client_id => return Err(ClaimRefusal::AuthorizedParty),
        None if audiences.len() > 1 => return Err(ClaimRefusal::AuthorizedParty),
        _ => {}
    }
    let (now, skew) = (expected.now, expected.skew);
    let late = |t: Timestamp| t.saturating_add(skew).unwrap_or(t);
    match instant("exp") {
        Some(exp) if now < late(exp) => {}
        _ => return Err(ClaimRefusal::Expired),
    }
    match instant("iat") {
        Some(iat) if iat <= late(now) && now.duration_since(iat) <= MAX_TOKEN_AGE + skew => {}
        _ => return Err(ClaimRefusal::IssuedAt),
    }
    if !text("nonce").is_some_and(|n| crate::secret::same_secret(n, expected.nonce)) {
        return Err(ClaimRefusal::Nonce);
    }
    if !text("acr").is_some_and(|acr| expected.acr_values.iter().any(|v| v == acr)) {
        return Err(ClaimRefusal::Acr);
    }
    let sca_at = match instant("auth_time") {
        Some(at) if at <= late(now) && late(at) >= expected.asked_at => at,
        _ => return Err(ClaimRefusal::AuthTime),
    };
    if text("sub").is_none_or(str::is_empty) {
        return Err(ClaimRefusal::Subject);
    }
    let online_banking_id = match text(expected.psu_claim) {
        Some(id) if !id.trim().is_empty() => id.trim().to_owned(),
        _ => return Err(ClaimRefusal::PsuClaim),
    };
    Ok(Proven { online_banking_id, sca_at })
}

/// stetgate's private key for `private_key_jwt`: P-256 (ES256) or RSA (RS256), PKCS#8 PEM.
pub enum ClientKey {
    P256(signature::EcdsaKeyPair),
    Rsa(aws_lc_rs::rsa::KeyPair),
}

impl std::fmt::Debug for ClientKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ClientKey::P256(_) => "ClientKey(ES256)",
            ClientKey::Rsa(_) => "ClientKey(RS256)",
        })
    }
}

impl ClientKey {
    pub fn from_pkcs8_pem(pem: &[u8]) -> Result<ClientKey, String> {
        use rustls_pki_types::PrivatePkcs8KeyDer;
        use rustls_pki_types::pem::PemObject;
        let der = PrivatePkcs8KeyDer::from_pem_slice(pem).map_err(|e| format!("not a PKCS#8 PEM private key: {e}"))?;
        let der = der.secret_pkcs8_der();
        if let Ok(key) = signature::EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, der) {
            return Ok(ClientKey::P256(key));
        }
        aws_lc_rs::rsa::KeyPair::from_pkcs8(der)
            .map(ClientKey::Rsa)
            .map_err(|_| "neither a P-256 nor an RSA key".to_owned())
    }

    fn alg(&self) -> &'static str {
        match self {
            ClientKey::P256(_) => "ES256",
            ClientKey::Rsa(_) => "RS256",
        }
    }

    fn sign(&self, input: &[u8]) -> Result<Vec<u8>, String> {
        let rng = aws_lc_rs::rand::SystemRandom::new();
        match self {
            ClientKey::P256(key) => {
                key.sign(&rng, input).map(|s| s.as_ref().to_vec()).map_err(|_| "signing failed".to_owned())
            }
            ClientKey::Rsa(key) => {
                let mut out = vec![0u8; key.public_modulus_len()];
                key.sign(&signature::RSA_PKCS1_SHA256, &rng, input, &mut out).map_err(|_| "signing failed")?;
                Ok(out)
            }
        }
    }

    /// The uncompressed public point of a P-256 key (tests publish it as a JWK).
    pub fn p256_public_point(&self) -> Option<Vec<u8>> {
        match self {
            ClientKey::P256(key) => Some(key.public_key().as_ref().to_vec()),
            ClientKey::Rsa(_) => None,
        }
    }
}

/// The client assertion (RFC 7523 2.2 and 3): issuer and subject the client, audience the provider's
/// issuer identifier, a fresh `jti`, valid one minute.
pub fn client_assertion(
    key: &ClientKey,
    kid: Option<&str>,
    client_id: &str,
    audience: &str,
    now: Timestamp,
) -> Result<String, String> {
    let jti = crate::secret::Secret::generate().map_err(|e| e.to_string())?;
    let mut header = serde_json::json!({"alg": key.alg(), "typ": "JWT"});
    if let Some(kid) = kid {
        header["kid"] = Value::from(kid);
    }
    let iat = now.as_second();
    let claims = serde_json::json!({
        "iss": client_id, "sub": client_id, "aud": audience, "jti": jti.expose(), "iat": iat, "exp": iat + 60,
    });
    let input =
        format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(claims.to_string()));
    let signature = key.sign(input.as_bytes())?;
    Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ISSUER: &str = "https://idp.bank.example";

    /// A compact JWS of `claims` signed by `sign` (which receives the signing input).
    fn jws(alg: &str, kid: &str, claims: &Value, sign: impl Fn(&[u8]) -> Vec<u8>) -> String {
        let header = json!({"alg": alg, "kid": kid});
        let input =
            format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(claims.to_string()));
        let signature = sign(input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
    }

    struct Rsa {
        key: aws_lc_rs::rsa::KeyPair,
        jwk: Value,
    }

    fn rsa(kid: &str) -> Rsa {
        let pem = eidas::issue::generate_rsa_key_pem().unwrap();
        let key = aws_lc_rs::rsa::KeyPair::from_pkcs8(
            rustls_pki_types::pem::PemObject::from_pem_slice(pem.as_bytes())
                .map(|d: rustls_pki_types::PrivatePkcs8KeyDer<'_>| d.secret_pkcs8_der().to_vec())
                .unwrap()
                .as_slice(),
        )
        .unwrap();
        let published =
            crate::fallback::jwt::JwtKeys::from_pkcs8_pem(&pem, crate::config::JwtAlgorithm::RS256).unwrap().jwks();
        let mut jwk = published["keys"][0].clone();
        jwk["kid"] = json!(kid);
        jwk.as_object_mut().unwrap().remove("alg");
        Rsa { key, jwk }
    }

    impl Rsa {
        fn sign(&self, padding: &'static dyn signature::RsaEncoding, input: &[u8]) -> Vec<u8> {
            let mut out = vec![0u8; self.key.public_modulus_len()];
            self.key.sign(padding, &aws_lc_rs::rand::SystemRandom::new(), input, &mut out).unwrap();
            out
        }
    }

    fn p256(kid: &str) -> (ClientKey, Value) {
        let doc = signature::EcdsaKeyPair::generate_pkcs8(
            &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            &aws_lc_rs::rand::SystemRandom::new(),
        )
        .unwrap();
        let text = format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
            base64::engine::general_purpose::STANDARD.encode(doc.as_ref())
        );
        let key = ClientKey::from_pkcs8_pem(text.as_bytes()).unwrap();
        let point = key.p256_public_point().unwrap();
        let jwk = json!({"kty": "EC", "crv": "P-256", "kid": kid, "use": "sig",
            "x": URL_SAFE_NO_PAD.encode(&point[1..33]), "y": URL_SAFE_NO_PAD.encode(&point[33..])});
        (key, jwk)
    }

    fn set(keys: &[&Value]) -> JwkSet {
        JwkSet::parse(&json!({ "keys": keys })).unwrap()
    }

    #[test]
    fn rs256_ps256_and_es256_signatures_verify_and_tampering_does_not() {
        let claims = json!({"iss": ISSUER, "sub": "s"});
        let r = rsa("r1");
        let (ec, ec_jwk) = p256("e1");
        let keys = set(&[&r.jwk, &ec_jwk]);
        let tokens = [
            jws("RS256", "r1", &claims, |i| r.sign(&signature::RSA_PKCS1_SHA256, i)),
            jws("PS256", "r1", &claims, |i| r.sign(&signature::RSA_PSS_SHA256, i)),
            jws("ES256", "e1", &claims, |i| ec.sign(i).unwrap()),
        ];
        for token in &tokens {
            assert_eq!(verify_signature(token, &keys).unwrap(), claims, "{token}");
            let (input, sig) = token.rsplit_once('.').unwrap();
            let mut bytes = URL_SAFE_NO_PAD.decode(sig).unwrap();
            bytes[5] ^= 1;
            let tampered = format!("{input}.{}", URL_SAFE_NO_PAD.encode(bytes));
            assert_eq!(verify_signature(&tampered, &keys), Err(SignatureRefusal::BadSignature));
            let other = json!({"iss": ISSUER, "sub": "mallory"});
            let (h, _) = input.split_once('.').unwrap();
            let swapped = format!("{h}.{}.{sig}", URL_SAFE_NO_PAD.encode(other.to_string()));
            assert_eq!(verify_signature(&swapped, &keys), Err(SignatureRefusal::BadSignature), "claims swapped");
        }
    }

    #[test]
    fn unknown_keys_weak_algorithms_and_other_keys_are_refused() {
        let claims = json!({"iss": ISSUER});
        let r = rsa("r1");
        let token = jws("RS256", "r1", &claims, |i| r.sign(&signature::RSA_PKCS1_SHA256, i));
        let rotated = rsa("r2");
        assert_eq!(verify_signature(&token, &set(&[&rotated.jwk])), Err(SignatureRefusal::UnknownKey), "kid gone");
        let mut impostor = rsa("r1").jwk;
        impostor["kid"] = json!("r1");
        assert_eq!(
            verify_signature(&token, &set(&[&impostor])),
            Err(SignatureRefusal::BadSignature),
            "another key published under the same kid"
        );
        let none = format!("{}.{}.", URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#), URL_SAFE_NO_PAD.encode("{}"));
        assert_eq!(verify_signature(&none, &set(&[&r.jwk])), Err(SignatureRefusal::Algorithm));
        let hs = jws("HS256", "r1", &claims, |_| vec![1, 2, 3]);
        assert_eq!(verify_signature(&hs, &set(&[&r.jwk])), Err(SignatureRefusal::Algorithm));
        let mut encryption = r.jwk.clone();
        encryption["use"] = json!("enc");
        assert_eq!(verify_signature(&token, &set(&[&encryption])), Err(SignatureRefusal::UnknownKey), "enc key");
        let mut es_only = r.jwk.clone();
        es_only["alg"] = json!("PS256");
        assert_eq!(verify_signature(&token, &set(&[&es_only])), Err(SignatureRefusal::UnknownKey), "alg pinned");
        assert_eq!(verify_signature("a.b", &set(&[&r.jwk])), Err(SignatureRefusal::Malformed));
    }

    const NOW: i64 = 1_800_000_000;

    fn good() -> Value {
        json!({
            "iss": ISSUER, "aud": "stetgate", "sub": "psu-1", "nonce": "n0nce",
            "iat": NOW - 5, "exp": NOW + 600, "auth_time": NOW - 10,
            "acr": "urn:bank:loa:sca", "online_banking_id": "D0999990I0",
        })
    }

    fn check(claims: &Value) -> Result<Proven, ClaimRefusal> {
        let acr = ["urn:bank:loa:sca".to_owned()];
        check_claims(
            claims,
            &Expected {
                issuer: ISSUER,
                client_id: "stetgate",
                nonce: "n0nce",
                acr_values: &acr,
                psu_claim: "online_banking_id",
                now: Timestamp::from_second(NOW).unwrap(),
                skew: SignedDuration::from_secs(60),
                asked_at: Timestamp::from_second(NOW - 120).unwrap(),
            },
        )
    }

    fn with(change: &[(&str, Value)]) -> Value {
        let mut claims = good();
        for (k, v) in change {
            if v.is_null() {
                claims.as_object_mut().unwrap().remove(*k);
            } else {
                claims[*k] = v.clone();
            }
        }
        claims
    }

    #[test]
    fn a_valid_id_token_gives_the_psu_and_auth_time_as_the_sca_time() {
        let proven = check(&good()).unwrap();
        assert_eq!(proven.online_banking_id, "D0999990I0");
        assert_eq!(proven.sca_at, Timestamp::from_second(NOW - 10).unwrap(), "auth_time, not the check's time");
        let many = with(&[("aud", json!(["stetgate", "api"])), ("azp", json!("stetgate"))]);
        assert!(check(&many).is_ok(), "several audiences with azp naming us");
        let skewed = with(&[("iat", json!(NOW + 30)), ("exp", json!(NOW - 30))]);
        assert!(check(&skewed).is_ok(), "within the leeway");
    }

    #[test]
    fn each_rule_of_section_3_1_3_7_refuses() {
        use ClaimRefusal::*;
        let cases: Vec<(Vec<(&str, Value)>, ClaimRefusal)> = vec![
            (vec![("iss", json!("https://evil.example"))], Issuer),
            (vec![("aud", json!("another-client"))], Audience),
            (vec![("aud", json!(["stetgate", "api"]))], AuthorizedParty),
            (vec![("azp", json!("another-client"))], AuthorizedParty),
            (vec![("exp", json!(NOW - 61))], Expired),
            (vec![("exp", Value::Null)], Expired),
            (vec![("iat", json!(NOW + 61))], IssuedAt),
            (vec![("iat", json!(NOW - 661))], IssuedAt),
            (vec![("nonce", json!("another journey's"))], Nonce),
            (vec![("nonce", Value::Null)], Nonce),
            (vec![("acr", json!("urn:bank:loa:password"))], Acr),
            (vec![("acr", Value::Null)], Acr),
            (vec![("auth_time", Value::Null)], AuthTime),
            (vec![("auth_time", json!(NOW - 181))], AuthTime),
            (vec![("auth_time", json!(NOW + 61))], AuthTime),
            (vec![("sub", Value::Null)], Subject),
            (vec![("online_banking_id", json!(" "))], PsuClaim),
            (vec![("online_banking_id", json!(42))], PsuClaim),
        ];
        for (change, refusal) in cases {
            assert_eq!(check(&with(&change)), Err(refusal.clone()), "{change:?}");
            assert!(!refusal.to_string().contains("D0999990I0"), "no personal data in the reason");
        }
    }

    #[test]
    fn the_client_assertion_follows_rfc_7523() {
        let (key, jwk) = p256("stetgate-1");
        let now = Timestamp::from_second(NOW).unwrap();
        let assertion = client_assertion(&key, Some("stetgate-1"), "stetgate", ISSUER, now).unwrap();
        let claims = verify_signature(&assertion, &set(&[&jwk])).unwrap();
        assert_eq!(claims["iss"], "stetgate");
        assert_eq!(claims["sub"], "stetgate");
        assert_eq!(claims["aud"], ISSUER);
        assert_eq!(claims["exp"], NOW + 60);
        assert!(claims["jti"].as_str().is_some_and(|j| j.len() >= 43));
        let again = client_assertion(&key, None, "stetgate", ISSUER, now).unwrap();
        assert_ne!(verify_signature(&again, &set(&[&jwk])).unwrap()["jti"], claims["jti"], "a fresh jti each time");
        let pem = eidas::issue::generate_rsa_key_pem().unwrap();
        assert!(matches!(ClientKey::from_pkcs8_pem(pem.as_bytes()), Ok(ClientKey::Rsa(_))));
        assert!(ClientKey::from_pkcs8_pem(b"not a key").is_err());
    }
}
