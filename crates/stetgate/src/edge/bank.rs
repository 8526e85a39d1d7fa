//! Bank routing: which ASPSP a request is for, from its Host.
//!
//! BPCE publishes one host per bank code (`www.17515.sandbox.api.89c3.com`,
//! `www.13807.oba-bad-me-live.api.89c3.com`); the label after `www.` selects the bank. A host that
//! carries no such label (an IP address, `localhost`, a brand domain without code) goes to the
//! configured default bank. A well-formed code that this deployment does not serve is a 404.

use super::error::ApiError;
use crate::state::AppState;
use crate::store::BankRecord;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::sync::RwLock;
use stet::BankCode;

/// The bank a request was routed to; available to handlers as an extension.
#[derive(Debug, Clone)]
pub struct Bank(pub BankRecord);

impl Bank {
    pub fn code(&self) -> BankCode {
        self.0.code
    }
}

/// The bank code a host names, if any: `www.<5 digits>.<anything>`.
pub fn bank_code_in_host(host: &str) -> Option<BankCode> {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let rest = host.strip_prefix("www.")?;
    let (label, _) = rest.split_once('.')?;
    BankCode::parse(label).ok()
}

/// `host[:port]` a request was sent to: the `Host` header (HTTP/1.1) or the URI authority (HTTP/2).
pub fn request_authority(headers: &HeaderMap, uri: &Uri) -> Option<String> {
    headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned)
        .or_else(|| uri.authority().map(|a| a.as_str().to_owned()))
}

/// The host of a request, without port.
fn request_host(headers: &HeaderMap, uri: &Uri) -> Option<String> {
    let raw = request_authority(headers, uri)?;
    // Strip the port; keep IPv6 literals whole.
    let host = if raw.starts_with('[') {
        raw.split(']').next().map(|h| format!("{h}]")).unwrap_or(raw)
    } else {
        raw.rsplit_once(':').map(|(h, _)| h.to_owned()).unwrap_or(raw)
    };
    Some(host)
}

/// The bank code a request names in its host, or the default bank.
pub fn bank_code_of(headers: &HeaderMap, uri: &Uri, default_bank: BankCode) -> BankCode {
    request_host(headers, uri).as_deref().and_then(bank_code_in_host).unwrap_or(default_bank)
}

/// The banks this node knows, remembered after the first lookup. A bank added by another node is
/// found in the store on its first request here.
#[derive(Debug, Default)]
pub struct BankDirectory {
    known: RwLock<HashMap<BankCode, BankRecord>>,
}

impl BankDirectory {
    fn cached(&self, code: BankCode) -> Option<BankRecord> {
        self.known.read().unwrap_or_else(|p| p.into_inner()).get(&code).cloned()
    }

    fn remember(&self, bank: BankRecord) {
        self.known.write().unwrap_or_else(|p| p.into_inner()).insert(bank.code, bank);
    }
}

/// Middleware: resolves the bank for every request under `/stet/psd2/`.
pub async fn route_bank(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let code = bank_code_of(request.headers(), request.uri(), state.config.default_bank);
    let bank = match state.banks.cached(code) {
        Some(bank) => bank,
        None => match state.store.bank(code).await {
            Ok(Some(bank)) => {
                state.banks.remember(bank.clone());
                bank
            }
            Ok(None) => return ApiError::UnknownBank(code).into_response(),
            Err(e) => return ApiError::from(e).into_response(),
        },
    };
    if let Some(facts) = super::facts::RequestFacts::of(request.extensions()) {
        facts.set_bank(bank.code);
    }
    let bank = Bank(bank);
    request.extensions_mut().insert(bank.clone());
    let mut response = next.run(request).await;
    response.extensions_mut().insert(bank);
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_label_after_www_is_the_bank_code() {
        assert_eq!(bank_code_in_host("www.17515.sandbox.localhost").unwrap().as_str(), "17515");
        assert_eq!(bank_code_in_host("WWW.13807.oba-bad-me-live.api.89c3.com.").unwrap().as_str(), "13807");
        assert_eq!(bank_code_in_host("www.99999.sandbox.localhost").unwrap().as_str(), "99999");
    }

    #[test]
    fn hosts_without_a_code_go_to_the_default_bank() {
        for host in
            ["localhost", "127.0.0.1", "[::1]", "www.caisse-epargne.fr", "www.1751.x", "www.17515", "api.17515.example"]
        {
            assert_eq!(bank_code_in_host(host), None, "{host}");
        }
    }

    proptest! {
        #[test]
        fn never_panics(host in "\\PC{0,60}") {
            let _ = bank_code_in_host(&host);
        }
    }
}
