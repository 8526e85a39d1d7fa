//! The bank's fallback JWTs (RFC 7519), signed RS256 or PS256 (RFC 7518 3.3 and 3.5) with a `kid`
//! that is the key's JWK thumbprint (RFC 7638), and the JWK set (RFC 7517) publishing the key.

use crate::config::JwtAlgorithm;
use aws_lc_rs::rsa::KeyPair as RsaKeyPair;
use aws_lc_rs::signature::{self, KeyPair as _, UnparsedPublicKey};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

/// What a fallback JWT says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FallbackClaims {
    /// The bank (`stetgate:<bank code>`).
    pub iss: String,
    /// The TPP (its organization identifier).
    pub sub: String,
    /// Always `online-banking`.
    pub aud: String,
    /// The bank code (`cdetab`).
    pub bank: String,
    pub scope: String,
    pub jti: String,
    pub iat: i64,
    pub exp: i64,
}

pub const AUDIENCE: &str = "online-banking";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    #[error("not a compact JWS (header.payload.signature, base64url)")]
    Malformed,
    #[error("the algorithm is not the bank's ({0})")]
    WrongAlgorithm(&'static str),
    #[error("the kid is not the bank's key")]
    UnknownKey,
    #[error("the signature does not verify")]
    BadSignature,
    #[error("the claims are not a fallback grant")]
    BadClaims,
}

/// The bank's signing key.
pub struct JwtKeys {
    key: RsaKeyPair,
    algorithm: JwtAlgorithm,
    kid: String,
    modulus: Vec<u8>,
    exponent: Vec<u8>,
}

impl std::fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "JwtKeys({}, kid {})", self.algorithm.as_str(), self.kid)
    }
}

impl JwtKeys {
    /// From an RSA private key, PKCS#8 PEM.
    pub fn from_pkcs8_pem(pem: &str, algorithm: JwtAlgorithm) -> Result<JwtKeys, String> {
        use rustls_pki_types::PrivatePkcs8KeyDer;
        use rustls_pki_types::pem::PemObject;
        let der = PrivatePkcs8KeyDer::from_pem_slice(pem.as_bytes())
            .map_err(|e| format!("not a PKCS#8 PEM private key: {e}"))?;
        let key = RsaKeyPair::from_pkcs8(der.secret_pkcs8_der()).map_err(|e| format!("not an RSA key: {e}"))?;
        let (modulus, exponent) = rsa_public_numbers(key.public_key().as_ref()).ok_or("unreadable RSA public key")?;
        let thumbprint_input = format!(
            r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#,
            URL_SAFE_NO_PAD.encode(&exponent),
            URL_SAFE_NO_PAD.encode(&modulus)
        );
        let kid = URL_SAFE_NO_PAD
            .encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, thumbprint_input.as_bytes()).as_ref());
        Ok(JwtKeys { key, algorithm, kid, modulus, exponent })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn sign(&self, claims: &FallbackClaims) -> Result<String, String> {
        let header = serde_json::json!({"typ": "JWT", "alg": self.algorithm.as_str(), "kid": self.kid});
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).map_err(|e| e.to_string())?)
        );
        let padding: &'static dyn signature::RsaEncoding = match self.algorithm {
            JwtAlgorithm::RS256 => &signature::RSA_PKCS1_SHA256,
            JwtAlgorithm::PS256 => &signature::RSA_PSS_SHA256,
        };
        let mut out = vec![0u8; self.key.public_modulus_len()];
        self.key
            .sign(padding, &aws_lc_rs::rand::SystemRandom::new(), input.as_bytes(), &mut out)
            .map_err(|e| format!("signing failed: {e}"))?;
        Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(out)))
    }

    /// Checks the header (algorithm, kid) and the signature, and reads the claims. Expiry, audience
    /// and single use are the caller's: they need the clock and the store.
    pub fn verify(&self, token: &str) -> Result<FallbackClaims, JwtError> {
        let mut parts = token.split('.');
        let (Some(h), Some(p), Some(s), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
            return Err(JwtError::Malformed);
        };
        let decode = |part: &str| URL_SAFE_NO_PAD.decode(part).map_err(|_| JwtError::Malformed);
        let header: serde_json::Value = serde_json::from_slice(&decode(h)?).map_err(|_| JwtError::Malformed)?;
        if header.get("alg").and_then(|a| a.as_str()) != Some(self.algorithm.as_str()) {
            return Err(JwtError::WrongAlgorithm(self.algorithm.as_str()));
        }
        if header.get("kid").and_then(|k| k.as_str()) != Some(self.kid.as_str()) {
            return Err(JwtError::UnknownKey);
        }
        let algorithm: &'static dyn signature::VerificationAlgorithm = match self.algorithm {
            JwtAlgorithm::RS256 => &signature::RSA_PKCS1_2048_8192_SHA256,
            JwtAlgorithm::PS256 => &signature::RSA_PSS_2048_8192_SHA256,
        };
        UnparsedPublicKey::new(algorithm, self.key.public_key().as_ref())
            .verify(format!("{h}.{p}").as_bytes(), &decode(s)?)
            .map_err(|_| JwtError::BadSignature)?;
        let claims: FallbackClaims = serde_json::from_slice(&decode(p)?).map_err(|_| JwtError::BadClaims)?;
        if claims.aud != AUDIENCE {
            return Err(JwtError::BadClaims);
        }
        Ok(claims)
    }

    /// The JWK set publishing the public key.
    pub fn jwks(&self) -> serde_json::Value {
        serde_json::json!({"keys": [{
            "kty": "RSA",
            "use": "sig",
            "alg": self.algorithm.as_str(),
            "kid": self.kid,
            "n": URL_SAFE_NO_PAD.encode(&self.modulus),
            "e": URL_SAFE_NO_PAD.encode(&self.exponent),
        }]})
    }
}

/// `RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }` (RFC 8017 A.1.1), the
/// integers without their sign byte.
fn rsa_public_numbers(der: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    let (tag, body, _) = tlv(der)?;
    if tag != 0x30 {
        return None;
    }
    let (tag_n, n, rest) = tlv(body)?;
    let (tag_e, e, _) = tlv(rest)?;
    if tag_n != 0x02 || tag_e != 0x02 {
        return None;
    }
    let unsigned = |i: &[u8]| i.iter().skip_while(|b| **b == 0).copied().collect::<Vec<u8>>();
    Some((unsigned(n), unsigned(e)))
}

/// One DER tag-length-value: (tag, content, what follows).
fn tlv(bytes: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = bytes.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return None;
        }
        let len = rest[..count].iter().fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, &rest[count..])
    };
    if rest.len() < len {
        return None;
    }
    Some((tag, &rest[..len], &rest[len..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims() -> FallbackClaims {
        FallbackClaims {
            iss: "stetgate:17515".into(),
            sub: "PSDFR-ACPR-12345".into(),
            aud: AUDIENCE.into(),
            bank: "17515".into(),
            scope: "aisp".into(),
            jti: "j".into(),
            iat: 1,
            exp: 2,
        }
    }

    #[test]
    fn sign_verify_and_refuse_tampering_for_both_algorithms() {
        let pem = eidas::issue::generate_rsa_key_pem().unwrap();
        for alg in [JwtAlgorithm::RS256, JwtAlgorithm::PS256] {
            let keys = JwtKeys::from_pkcs8_pem(&pem, alg).unwrap();
            let token = keys.sign(&claims()).unwrap();
            assert_eq!(keys.verify(&token).unwrap(), claims());
            let header: serde_json::Value =
                serde_json::from_slice(&URL_SAFE_NO_PAD.decode(token.split('.').next().unwrap()).unwrap()).unwrap();
            assert_eq!(header["alg"], alg.as_str());
            assert_eq!(header["kid"], keys.kid());

            let parts: Vec<&str> = token.split('.').collect();
            let mut other = claims();
            other.sub = "PSDFR-ACPR-99999".into();
            let forged =
                format!("{}.{}.{}", parts[0], URL_SAFE_NO_PAD.encode(serde_json::to_vec(&other).unwrap()), parts[2]);
            assert_eq!(keys.verify(&forged), Err(JwtError::BadSignature));
            assert_eq!(keys.verify("a.b"), Err(JwtError::Malformed));
            let none = format!("{}.{}.", URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#), parts[1]);
            assert!(matches!(keys.verify(&none), Err(JwtError::WrongAlgorithm(_))));
        }
        let other_key =
            JwtKeys::from_pkcs8_pem(&eidas::issue::generate_rsa_key_pem().unwrap(), JwtAlgorithm::RS256).unwrap();
        let keys = JwtKeys::from_pkcs8_pem(&pem, JwtAlgorithm::RS256).unwrap();
        assert_eq!(keys.verify(&other_key.sign(&claims()).unwrap()), Err(JwtError::UnknownKey));
    }

    #[test]
    fn the_jwks_publishes_the_key_that_verifies() {
        let keys =
            JwtKeys::from_pkcs8_pem(&eidas::issue::generate_rsa_key_pem().unwrap(), JwtAlgorithm::RS256).unwrap();
        let jwks = keys.jwks();
        let n = URL_SAFE_NO_PAD.decode(jwks["keys"][0]["n"].as_str().unwrap()).unwrap();
        let e = URL_SAFE_NO_PAD.decode(jwks["keys"][0]["e"].as_str().unwrap()).unwrap();
        assert_eq!(n.len(), 256, "RSA 2048");
        assert_eq!(e, vec![1, 0, 1]);
        let token = keys.sign(&claims()).unwrap();
        let (input, sig) = token.rsplit_once('.').unwrap();
        let public = aws_lc_rs::signature::RsaPublicKeyComponents { n: &n, e: &e };
        public
            .verify(&signature::RSA_PKCS1_2048_8192_SHA256, input.as_bytes(), &URL_SAFE_NO_PAD.decode(sig).unwrap())
            .unwrap();
    }
}
