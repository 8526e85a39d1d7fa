//! stetgate: a STET PSD2 dedicated interface for banks (ASPSPs), as Groupe BPCE's banks publish it.
//!
//! A request's path through the crate: [`edge`] (TLS, bank routing, STET conventions, errors) ->
//! a capability (the handlers of [`routes`]: [`ais`], [`piis`], [`oauth`] ...) -> [`ledger`] / [`store`] -> back through
//! [`edge::finish`]. [`app`] assembles it; [`config`] and [`clock`] are its inputs.
#![forbid(unsafe_code)]
// Rooms stay small: a function past `too-many-lines-threshold` (clippy.toml) is split.
#![warn(clippy::too_many_lines)]

pub mod ais;
pub mod app;
pub mod app2app;
pub mod clock;
pub mod config;
pub mod core_banking;
pub mod discovery;
pub mod edge;
pub mod fallback;
pub mod ledger;
pub mod oauth;
pub mod ops;
pub mod outbound;
pub mod permissions;
pub mod piis;
pub mod pis;
pub mod portal;
pub mod psu;
pub mod quota;
pub mod registry;
pub mod revocation;
pub mod routes;
pub mod sandbox;
pub mod secret;
pub mod state;
pub mod statement_import;
pub mod statistics;
pub mod store;
