//! The bank's core banking system over HTTPS: stetgate's own contract between the dedicated
//! interface and a bank's adapter (`contract.rs`, published as docs/core-banking-v1.openapi.json),
//! the connector that reads a bank's accounts through it (`client.rs`: `HttpLedger`, with its
//! circuit breaker `breaker.rs` and short cache `cache.rs`), and the reference adapter that serves
//! any [`Ledger`] through it (`adapter.rs`: `stetgate core-banking serve` on the built-in SQL
//! ledger).
//!
//! [`Routed`] is the deployment's ledger: the banks configured under `[core_banking."<bank>"]` are
//! asked through their adapter, the others answer from the built-in SQL ledger.

pub mod adapter;
pub mod breaker;
pub mod cache;
pub mod client;
pub mod contract;

use crate::ledger::{Balances, DateWindow, HeldAccount, Ledger, LedgerError, Psu, PsuId, Transaction};
use async_trait::async_trait;
use jiff::civil::Date;
use std::collections::BTreeMap;
use std::sync::Arc;
use stet::{Amount, BankCode, ResourceId};

/// Each bank's ledger: its adapter when it has one, else the built-in one.
pub struct Routed {
    built_in: Arc<dyn Ledger>,
    adapters: BTreeMap<BankCode, Arc<dyn Ledger>>,
}

impl Routed {
    pub fn new(built_in: Arc<dyn Ledger>, adapters: BTreeMap<BankCode, Arc<dyn Ledger>>) -> Routed {
        Routed { built_in, adapters }
    }

    fn of(&self, bank: BankCode) -> &dyn Ledger {
        self.adapters.get(&bank).map_or(self.built_in.as_ref(), Arc::as_ref)
    }
}

#[async_trait]
impl Ledger for Routed {
    async fn psu(&self, bank: BankCode, psu: &PsuId) -> Result<Option<Psu>, LedgerError> {
        self.of(bank).psu(bank, psu).await
    }

    async fn psu_accounts(&self, bank: BankCode, psu: &PsuId) -> Result<Vec<HeldAccount>, LedgerError> {
        self.of(bank).psu_accounts(bank, psu).await
    }

    async fn balances(
        &self,
        bank: BankCode,
        ids: &[ResourceId],
        today: Date,
    ) -> Result<Vec<(ResourceId, Balances)>, LedgerError> {
        self.of(bank).balances(bank, ids, today).await
    }

    async fn transactions(
        &self,
        bank: BankCode,
        id: &ResourceId,
        window: DateWindow,
    ) -> Result<Vec<Transaction>, LedgerError> {
        self.of(bank).transactions(bank, id, window).await
    }

    async fn overdraft(&self, bank: BankCode, id: &ResourceId) -> Result<Option<Amount>, LedgerError> {
        self.of(bank).overdraft(bank, id).await
    }
}
