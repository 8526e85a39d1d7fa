//! `GET /stet/psd2/aspsp`: which bank (ASPSP) a host reaches, and what it serves.
//!
//! Not a STET resource (no token, no `X-Request-ID` needed): a TPP developer's first call to check
//! that `www.<bankcode>....` reaches the bank they mean.

use crate::config::Mode;
use crate::edge::Hal;
use crate::edge::bank::Bank;
use crate::state::AppState;
use axum::Extension;
use axum::extract::State;
use serde::Serialize;
use stet::{ApiVersion, Link, Links};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AspspDescription {
    aspsp: AspspIdentity,
    api_versions: Vec<String>,
    #[serde(rename = "_links")]
    links: Links,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AspspIdentity {
    bank_code: String,
    name: String,
    brand: String,
    mode: &'static str,
}

pub async fn aspsp(State(state): State<AppState>, Extension(bank): Extension<Bank>) -> Hal<AspspDescription> {
    let mut links = Links::new();
    links.insert("self".into(), Link::plain("/stet/psd2/aspsp"));
    Hal(AspspDescription {
        aspsp: AspspIdentity {
            bank_code: bank.0.code.to_string(),
            name: bank.0.name,
            brand: bank.0.brand,
            mode: match state.mode {
                Mode::Sandbox => "sandbox",
                Mode::Production => "production",
            },
        },
        api_versions: ApiVersion::ALL.iter().map(|v| v.segment().to_owned()).collect(),
        links,
    })
}
