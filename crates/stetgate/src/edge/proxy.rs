//! Behind the bank's API gateway (`[trusted_proxy]`): the gateway terminates the TPP's mutual TLS
//! and forwards the client certificate in a header (RFC 9440 `Client-Cert`, or a URL-encoded PEM).
//!
//! On a connection from one of the gateway's addresses, that header, and only it, is the TPP's
//! certificate: it replaces whatever the connection presented (the gateway's own certificate),
//! and its absence means no certificate. From any other address the header is refused (400) and
//! logged: a TPP cannot name a certificate it does not hold. Without `[trusted_proxy]`, the header
//! means nothing and is never read.

use super::error::ApiError;
use super::tls::ConnectionInfo;
use crate::config::{ForwardedFormat, TrustedProxyConfig};
use crate::state::AppState;
use axum::extract::Request;
use axum::http::HeaderValue;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use std::sync::Arc;

/// Puts the forwarded certificate in the request's [`ConnectionInfo`], or refuses the header.
pub fn adopt_forwarded_certificate(request: &mut Request, state: &AppState) -> Result<(), ApiError> {
    let Some(proxy) = state.config.trusted_proxy.as_ref() else { return Ok(()) };
    let Some(info) = request.extensions().get::<ConnectionInfo>().cloned() else { return Ok(()) };
    let names: Vec<&str> = std::iter::once(proxy.header.as_str()).chain(proxy.chain_header.as_deref()).collect();
    let carried = names.iter().any(|n| request.headers().contains_key(*n));
    let immediate = info.via.unwrap_or(info.peer);
    if !proxy.blocks().iter().any(|block| block.contains(immediate.ip())) {
        if carried {
            tracing::warn!(peer = %info.peer, header = proxy.header, "a forwarded client certificate from outside the gateway, refused");
            return Err(ApiError::BadRequest(format!(
                "the {} header is only accepted from the bank's gateway: present your QWAC in the TLS handshake",
                proxy.header
            )));
        }
        return Ok(());
    }
    // One certificate: a second value means the gateway added its header beside one the client
    // sent (the gateway must remove the client's), and the first one could be the client's.
    if request.headers().get_all(proxy.header.as_str()).iter().count() > 1 {
        tracing::warn!(peer = %info.peer, header = proxy.header, "several forwarded client certificates, refused");
        return Err(ApiError::BadRequest(format!("the {} header came more than once", proxy.header)));
    }
    let intermediates: Vec<HeaderValue> = proxy
        .chain_header
        .as_deref()
        .map(|name| request.headers().get_all(name).iter().cloned().collect())
        .unwrap_or_default();
    let chain = match request.headers().get(proxy.header.as_str()) {
        None => None,
        Some(value) => Some(forwarded_chain(proxy, value, intermediates.iter()).map_err(|why| {
            tracing::warn!(peer = %info.peer, header = proxy.header, why, "the gateway forwarded an unreadable certificate");
            ApiError::BadRequest(format!("the forwarded client certificate is not readable: {why}"))
        })?),
    };
    for name in names {
        request.headers_mut().remove(name);
    }
    request.extensions_mut().insert(ConnectionInfo { client_chain: chain.map(Arc::new), ..info });
    Ok(())
}

/// The end-entity certificate, then the intermediates the chain header lists.
fn forwarded_chain<'a>(
    proxy: &TrustedProxyConfig,
    value: &HeaderValue,
    chain: impl Iterator<Item = &'a HeaderValue>,
) -> Result<Vec<CertificateDer<'static>>, &'static str> {
    let text = value.to_str().map_err(|_| "not ASCII")?;
    let mut certificates = match proxy.format {
        ForwardedFormat::Rfc9440 => vec![byte_sequence(text)?],
        ForwardedFormat::PemUrlencoded => {
            let pem = percent_decoded(text)?;
            let found: Result<Vec<_>, _> = CertificateDer::pem_slice_iter(&pem).collect();
            found.map_err(|_| "not a PEM certificate")?
        }
    };
    if certificates.is_empty() {
        return Err("no certificate");
    }
    for value in chain {
        for item in value.to_str().map_err(|_| "not ASCII")?.split(',') {
            certificates.push(byte_sequence(item)?);
        }
    }
    Ok(certificates)
}

/// An RFC 8941 byte sequence, `:<base64>:`, as DER.
fn byte_sequence(text: &str) -> Result<CertificateDer<'static>, &'static str> {
    let inner =
        text.trim().strip_prefix(':').and_then(|t| t.strip_suffix(':')).ok_or("not a :base64: byte sequence")?;
    let der = STANDARD.decode(inner).map_err(|_| "not base64")?;
    Ok(CertificateDer::from(der))
}

/// `%2B` -> `+`, every other byte as it is.
fn percent_decoded(text: &str) -> Result<Vec<u8>, &'static str> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3).ok_or("a truncated %-escape")?;
            let hex = std::str::from_utf8(hex).map_err(|_| "a bad %-escape")?;
            out.push(u8::from_str_radix(hex, 16).map_err(|_| "a bad %-escape")?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_sequences_and_escaped_pem_are_read() {
        assert_eq!(byte_sequence(":AQID:").unwrap().as_ref(), &[1, 2, 3]);
        assert!(byte_sequence("AQID").is_err());
        assert!(byte_sequence(":not base64!:").is_err());
        assert_eq!(percent_decoded("a%2Bb%0Ac").unwrap(), b"a+b\nc");
        assert!(percent_decoded("a%2").is_err());
    }
}
