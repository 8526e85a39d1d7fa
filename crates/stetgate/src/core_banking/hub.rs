//! `HttpHub`: the [`PaymentHub`] of a bank whose adapter executes payments
//! (`[core_banking."<bank>".payments]`). A transfer is submitted once per key (`Idempotency-Key`),
//! as the contract's JSON `PaymentOrder` or as a pain.001 document; the hub answers booked,
//! rejected, or pending. A pending transfer's outcome comes by the hub's signed callback
//! (`pis::hub_callback`), and when that is late or lost, by [`PaymentHub::poll`]: `GET` of the
//! key's status (the scheduler polls claims older than a minute).

use super::connector::Connector;
use super::contract::{PaymentOrder, PaymentStatusBody};
use crate::clock::Clock;
use crate::config::HubFormat;
use crate::ledger::LedgerError;
use crate::ledger::hub::{Executed, PaymentHub, Transfer};
use async_trait::async_trait;
use std::sync::Arc;
use stet::BankCode;

pub struct HttpHub {
    connector: Arc<Connector>,
    format: HubFormat,
    clock: Arc<dyn Clock>,
    callback_key: Vec<u8>,
}

impl std::fmt::Debug for HttpHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpHub").field("connector", &self.connector).field("format", &self.format).finish()
    }
}

impl HttpHub {
    /// The hub of `connector`'s adapter; its callbacks are signed with `callback_key`.
    pub fn new(connector: Arc<Connector>, format: HubFormat, callback_key: Vec<u8>, clock: Arc<dyn Clock>) -> HttpHub {
        HttpHub { connector, format, clock, callback_key }
    }

    /// The outcome a status answer gives, when it is about `transfer`.
    fn outcome(
        &self,
        operation: &'static str,
        transfer: &Transfer,
        body: PaymentStatusBody,
    ) -> Result<Executed, LedgerError> {
        if body.key != transfer.key {
            return Err(self.connector.malformed(operation, "a status about another transfer"));
        }
        body.outcome().map_err(|why| self.connector.malformed(operation, &why))
    }
}

#[async_trait]
impl PaymentHub for HttpHub {
    async fn execute(&self, transfer: &Transfer) -> Result<Executed, LedgerError> {
        self.connector.check_bank(transfer.bank)?;
        let request =
            self.connector.http.post(self.connector.url(&["payments"])).header("idempotency-key", &transfer.key);
        let request = match self.format {
            HubFormat::Json => request.json(&PaymentOrder::of(transfer)),
            HubFormat::Pain001 => request
                .header("content-type", "application/xml")
                .body(super::pain001::write(transfer, self.clock.now())),
        };
        let answer: Option<PaymentStatusBody> = self.connector.call("submit_payment", request, false).await?;
        let body = answer.ok_or_else(|| self.connector.malformed("submit_payment", "no status"))?;
        self.outcome("submit_payment", transfer, body)
    }

    fn callback_key(&self, bank: BankCode) -> Option<&[u8]> {
        (bank == self.connector.bank).then_some(self.callback_key.as_slice())
    }

    async fn poll(&self, transfer: &Transfer) -> Result<Executed, LedgerError> {
        self.connector.check_bank(transfer.bank)?;
        let mut url = self.connector.url(&["payments", "status"]);
        url.query_pairs_mut().append_pair("key", &transfer.key);
        let request = self.connector.http.get(url);
        match self.connector.call::<PaymentStatusBody>("poll_payment", request, true).await? {
            Some(body) => self.outcome("poll_payment", transfer, body),
            // Never reached the hub (the node stopped first): submit it now.
            None => self.execute(transfer).await,
        }
    }
}
