//! The bank's core banking system over HTTPS: stetgate's own contract between the dedicated
//! interface and a bank's adapter (`contract.rs`, published as docs/core-banking-v1.openapi.json),
//! the connection to an adapter (`connector.rs`, with its circuit breaker `breaker.rs`), the
//! ledger read through it (`client.rs`: `HttpLedger`, with its short cache `cache.rs`), the payment
//! hub executing through it (`hub.rs`: `HttpHub`, JSON or pain.001 `pain001.rs`), and the
//! reference adapter that serves any [`Ledger`] and [`PaymentHub`] through it (`adapter.rs`:
//! `stetgate core-banking serve` on the built-in SQL ledger).
//!
//! [`Routed`] is the deployment's ledger and hub: the banks configured under
//! `[core_banking."<bank>"]` are asked through their adapter, the others answer from the built-in
//! SQL ledger.

pub mod adapter;
pub mod breaker;
pub mod cache;
pub mod client;
pub mod connector;
pub mod contract;
pub mod hub;
pub mod pain001;

use crate::ledger::hub::{Executed, PaymentHub, Report, ReportError, Transfer};
use crate::ledger::{Balances, DateWindow, HeldAccount, Ledger, LedgerError, Psu, PsuId, Transaction};
use async_trait::async_trait;
use jiff::civil::Date;
use std::collections::BTreeMap;
use std::sync::Arc;
use stet::{Amount, BankCode, ResourceId};

/// Each bank's ledger (or payment hub): its adapter when it has one, else the built-in one.
pub struct Routed<T: ?Sized> {
    built_in: Arc<T>,
    adapters: BTreeMap<BankCode, Arc<T>>,
}

impl<T: ?Sized> Routed<T> {
    pub fn new(built_in: Arc<T>, adapters: BTreeMap<BankCode, Arc<T>>) -> Routed<T> {
        Routed { built_in, adapters }
    }

    fn of(&self, bank: BankCode) -> &T {
        self.adapters.get(&bank).map_or(self.built_in.as_ref(), Arc::as_ref)
    }
}

#[async_trait]
impl PaymentHub for Routed<dyn PaymentHub> {
    async fn execute(&self, transfer: &Transfer) -> Result<Executed, LedgerError> {
        self.of(transfer.bank).execute(transfer).await
    }

    async fn poll(&self, transfer: &Transfer) -> Result<Executed, LedgerError> {
        self.of(transfer.bank).poll(transfer).await
    }

    fn read_report(&self, bank: BankCode, signature: &str, body: &[u8], now: i64) -> Result<Report, ReportError> {
        self.of(bank).read_report(bank, signature, body, now)
    }
}

#[async_trait]
impl Ledger for Routed<dyn Ledger> {
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

    async fn psu_accounts_with_balances(
        &self,
        bank: BankCode,
        psu: &PsuId,
        today: Date,
    ) -> Result<Vec<(HeldAccount, Option<Balances>)>, LedgerError> {
        self.of(bank).psu_accounts_with_balances(bank, psu, today).await
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
