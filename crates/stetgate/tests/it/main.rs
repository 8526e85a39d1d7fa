//! stetgate's integration tests: the real server, real TLS, a fresh database per test (SQLite, and
//! PostgreSQL when TEST_PG_URL is set), `stet-tpp` as the client.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod duties;
mod harness;
mod interop;
mod ledger_import;
mod migrations;
mod oauth;
mod oidc;
mod openapi;
mod otp_gateway;
mod permissions;
mod piis;
mod pis;
mod portal;
mod resilience;
mod revocation;
mod scale;
mod schemas;
mod statistics;
mod stet_tpp;

mod ais;
mod architecture;
mod browser;
mod cli;
mod conformance;
mod connections;
mod core_banking;
mod edge;
mod operator;
mod ops;
mod proxy;
mod psu;
mod store_ledger;
mod tpp;
