//! The STET PSD2 wire contract, shared by the bank side (`stetgate`) and the TPP side (`stet-tpp`).
//!
//! Types here follow STET PSD2 API 1.4.0.47 (the official OpenAPI copied in `shared/stet/`) and the
//! later 1.4.2 / 1.6.2 versions as Groupe BPCE publishes them. Nothing here does I/O or cryptography:
//! it is the vocabulary both sides agree on. Invalid values never become values: every identifier
//! and amount is built through a `parse`/`TryFrom` that says what is wrong.
#![forbid(unsafe_code)]
// Rooms stay small: a function past `too-many-lines-threshold` (clippy.toml) is split.
#![warn(clippy::too_many_lines)]

pub mod ais;
mod amount;
pub mod catalog;
mod error;
pub mod funds;
mod hal;
pub mod headers;
mod ids;
pub mod oauth;
pub mod openapi;
pub mod pis;
pub mod registration;
pub mod spec;
mod version;

pub use amount::{Amount, AmountError, Currency};
pub use error::ErrorModel;
pub use hal::{Link, Links};
pub use ids::{BankCode, Iban, IdError, OrgId, ResourceId};
pub use version::ApiVersion;

/// The media type of every STET response body.
pub const HAL_JSON: &str = "application/hal+json; charset=utf-8";
