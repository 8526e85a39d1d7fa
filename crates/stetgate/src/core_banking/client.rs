//! `HttpLedger`: the [`Ledger`] of a bank whose accounts live in its core banking system, read
//! through the bank's adapter ([`super::connector`]). A failure becomes
//! `LedgerError::Unavailable`, so the TPP gets 503 with Retry-After and the statistics count it
//! (RTS art. 32). An optional cache (`cache_secs`, at most 30) keeps PSUs, account lists and
//! balances for the hot path; transactions and overdrafts are always asked.

use super::cache::Ttl;
use super::connector::{Connector, NotFound};
use super::contract::{
    AccountList, BalanceList, BalancesQuery, MAX_BALANCE_ACCOUNTS, OverdraftBody, PsuBody, TransactionList,
};
use crate::ledger::{Balances, DateWindow, HeldAccount, Ledger, LedgerError, Psu, PsuId, Transaction};
use async_trait::async_trait;
use jiff::civil::Date;
use std::sync::Arc;
use stet::{Amount, BankCode, ResourceId};

/// A bank's ledger read through its adapter, with the optional cache.
pub struct HttpLedger {
    connector: Arc<Connector>,
    psus: Option<Ttl<PsuId, Option<Psu>>>,
    accounts: Option<Ttl<PsuId, Vec<HeldAccount>>>,
    balances: Option<Ttl<(ResourceId, Date), Balances>>,
}

impl std::fmt::Debug for HttpLedger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpLedger").field("connector", &self.connector).finish_non_exhaustive()
    }
}

impl HttpLedger {
    pub fn new(connector: Arc<Connector>, cache_secs: u64) -> HttpLedger {
        let cache = (cache_secs > 0).then_some(std::time::Duration::from_secs(cache_secs));
        HttpLedger {
            connector,
            psus: cache.map(Ttl::bounded),
            accounts: cache.map(Ttl::bounded),
            balances: cache.map(Ttl::bounded),
        }
    }

    async fn fetch_balances(
        &self,
        ids: &[ResourceId],
        today: Date,
    ) -> Result<Vec<(ResourceId, Balances)>, LedgerError> {
        let mut found = Vec::with_capacity(ids.len());
        for batch in ids.chunks(MAX_BALANCE_ACCOUNTS) {
            let query = BalancesQuery { accounts: batch.to_vec(), date: today };
            let request = self.connector.http.post(self.connector.url(&["balances"])).json(&query);
            let list: BalanceList = self
                .connector
                .call("balances", request, NotFound::IsAFailure)
                .await?
                .unwrap_or(BalanceList { balances: Vec::new() });
            for body in list.balances {
                let (id, balances) = body.into_balances().map_err(|why| self.connector.malformed("balances", &why))?;
                if !batch.contains(&id) {
                    return Err(self.connector.malformed("balances", "an account that was not asked for"));
                }
                found.push((id, balances));
            }
        }
        Ok(found)
    }
}

#[async_trait]
impl Ledger for HttpLedger {
    async fn psu(&self, bank: BankCode, psu: &PsuId) -> Result<Option<Psu>, LedgerError> {
        self.connector.check_bank(bank)?;
        if let Some(hit) = self.psus.as_ref().and_then(|c| c.get(psu)) {
            return Ok(hit);
        }
        let request = self.connector.http.get(self.connector.url(&["psus", psu.as_str()]));
        let found = match self.connector.call::<PsuBody>("psu", request, NotFound::MeansNone).await? {
            Some(body) => Some(body.into_psu(bank, psu).map_err(|why| self.connector.malformed("psu", &why))?),
            None => None,
        };
        if let Some(cache) = &self.psus {
            cache.put(psu.clone(), found.clone());
        }
        Ok(found)
    }

    async fn psu_accounts(&self, bank: BankCode, psu: &PsuId) -> Result<Vec<HeldAccount>, LedgerError> {
        self.connector.check_bank(bank)?;
        if let Some(hit) = self.accounts.as_ref().and_then(|c| c.get(psu)) {
            return Ok(hit);
        }
        let request = self.connector.http.get(self.connector.url(&["psus", psu.as_str(), "accounts"]));
        let list: AccountList = self
            .connector
            .call("accounts", request, NotFound::IsAFailure)
            .await?
            .unwrap_or(AccountList { accounts: Vec::new() });
        let held: Vec<HeldAccount> = list.accounts.into_iter().map(|a| a.into_held(bank)).collect();
        if let Some(cache) = &self.accounts {
            cache.put(psu.clone(), held.clone());
        }
        Ok(held)
    }

    async fn balances(
        &self,
        bank: BankCode,
        ids: &[ResourceId],
        today: Date,
    ) -> Result<Vec<(ResourceId, Balances)>, LedgerError> {
        self.connector.check_bank(bank)?;
        let Some(cache) = &self.balances else { return self.fetch_balances(ids, today).await };
        let mut found = Vec::with_capacity(ids.len());
        let mut missing = Vec::new();
        for id in ids {
            match cache.get(&(id.clone(), today)) {
                Some(b) => found.push((id.clone(), b)),
                None => missing.push(id.clone()),
            }
        }
        if !missing.is_empty() {
            for (id, b) in self.fetch_balances(&missing, today).await? {
                cache.put((id.clone(), today), b);
                found.push((id, b));
            }
        }
        // In the order asked, as the SQL ledger answers.
        found.sort_by_key(|(id, _)| ids.iter().position(|asked| asked == id));
        Ok(found)
    }

    async fn transactions(
        &self,
        bank: BankCode,
        id: &ResourceId,
        window: DateWindow,
    ) -> Result<Vec<Transaction>, LedgerError> {
        self.connector.check_bank(bank)?;
        let mut url = self.connector.url(&["accounts", id.as_str(), "transactions"]);
        url.query_pairs_mut().append_pair("from", &window.from.to_string()).append_pair("to", &window.to.to_string());
        let list: TransactionList = self
            .connector
            .call("transactions", self.connector.http.get(url), NotFound::IsAFailure)
            .await?
            .unwrap_or(TransactionList { transactions: Vec::new() });
        let mut transactions = Vec::with_capacity(list.transactions.len());
        for body in list.transactions {
            let t = body.into_transaction().map_err(|why| self.connector.malformed("transactions", &why))?;
            if t.transaction_date < window.from || t.transaction_date >= window.to {
                return Err(self.connector.malformed("transactions", "an operation outside the asked window"));
            }
            transactions.push(t);
        }
        Ok(transactions)
    }

    async fn overdraft(&self, bank: BankCode, id: &ResourceId) -> Result<Option<Amount>, LedgerError> {
        self.connector.check_bank(bank)?;
        let request = self.connector.http.get(self.connector.url(&["accounts", id.as_str(), "overdraft"]));
        let answer: Option<OverdraftBody> = self.connector.call("overdraft", request, NotFound::MeansNone).await?;
        match answer {
            Some(body) if body.overdraft.value.is_sign_negative() && !body.overdraft.value.is_zero() => {
                Err(self.connector.malformed("overdraft", "a negative overdraft"))
            }
            Some(body) => Ok(Some(body.overdraft)),
            None => Ok(None),
        }
    }
}
