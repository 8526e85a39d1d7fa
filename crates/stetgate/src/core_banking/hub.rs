//! `HttpHub`: the [`PaymentHub`] of a bank whose adapter executes payments
//! (`[core_banking."<bank>".payments]`). A transfer is submitted once per key (`Idempotency-Key`),
//! as the contract's JSON `PaymentOrder` or as a pain.001 document; the hub answers booked,
//! rejected, or pending. A pending transfer's outcome comes by the hub's signed callback
//! (`pis::hub_callback`), and when that is late or lost, by [`PaymentHub::poll`]: `GET` of the
//! key's status (the scheduler polls claims older than three minutes). The callback is read here
//! ([`PaymentHub::read_report`]: its signature, `X-Stetgate-Signature: t=<unix seconds>,
//! hmac-sha256=<hex of HMAC-SHA256(key, "<t>.<body>")>`, `t` within five minutes, then its body).

use super::connector::{Connector, NotFound};
use super::contract::{PaymentOrder, PaymentStatusBody, callback_signature};
use crate::clock::Clock;
use crate::config::HubFormat;
use crate::ledger::LedgerError;
use crate::ledger::hub::{Executed, PaymentHub, Report, ReportError, Transfer};
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
        let answer: Option<PaymentStatusBody> =
            self.connector.call("submit_payment", request, NotFound::IsAFailure).await?;
        let body = answer.ok_or_else(|| self.connector.malformed("submit_payment", "no status"))?;
        self.outcome("submit_payment", transfer, body)
    }

    fn read_report(&self, bank: BankCode, signature: &str, body: &[u8], now: i64) -> Result<Report, ReportError> {
        if bank != self.connector.bank {
            return Err(ReportError::NoReports);
        }
        if !signed(&self.callback_key, signature, body, now) {
            return Err(ReportError::Unsigned);
        }
        let report: PaymentStatusBody = serde_json::from_slice(body)
            .map_err(|_| ReportError::Malformed("the body is not a PaymentStatusBody".into()))?;
        let outcome = report.outcome().map_err(ReportError::Malformed)?;
        if !report.key.starts_with(&format!("{bank}/")) {
            return Err(ReportError::Malformed("the key is another bank's".into()));
        }
        Ok(Report { key: report.key, outcome })
    }

    async fn poll(&self, transfer: &Transfer) -> Result<Executed, LedgerError> {
        self.connector.check_bank(transfer.bank)?;
        let mut url = self.connector.url(&["payments", "status"]);
        url.query_pairs_mut().append_pair("key", &transfer.key);
        let request = self.connector.http.get(url);
        match self.connector.call::<PaymentStatusBody>("poll_payment", request, NotFound::MeansNone).await? {
            Some(body) => self.outcome("poll_payment", transfer, body),
            // Never reached the hub (the node stopped first): submit it now.
            None => self.execute(transfer).await,
        }
    }
}

/// How far a callback's `t` may be from the bank's clock.
const MAX_SKEW_SECS: i64 = 300;

/// `t=<unix>,hmac-sha256=<hex>` over `<t>.<body>`, with `t` near `now`.
fn signed(key: &[u8], header: &str, body: &[u8], now: i64) -> bool {
    let Some((t, mac)) = header.split_once(",hmac-sha256=") else { return false };
    let Some(Ok(t)) = t.strip_prefix("t=").map(str::parse::<i64>) else { return false };
    if now.abs_diff(t) > MAX_SKEW_SECS.unsigned_abs() {
        return false;
    }
    crate::secret::same_secret(&callback_signature(key, t, body), mac)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_fresh_signature_with_the_key_over_this_body_passes() {
        let (key, body, now) = (b"hub-key".as_slice(), br#"{"key":"k"}"#.as_slice(), 1_800_000_000);
        let good = format!("t={now},hmac-sha256={}", callback_signature(key, now, body));
        assert!(signed(key, &good, body, now + 10));
        assert!(!signed(key, &good, b"{}", now), "another body");
        assert!(!signed(b"other", &good, body, now), "another key");
        assert!(!signed(key, &good, body, now + 301), "stale");
        assert!(!signed(key, "", body, now) && !signed(key, "t=x,hmac-sha256=00", body, now));
        let extreme = format!("t={},hmac-sha256=00", i64::MIN);
        assert!(!signed(key, &extreme, body, now), "no overflow on an absurd t");
    }
}
