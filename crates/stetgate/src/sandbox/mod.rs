//! Sandbox mode: the published test banks and personas in the store, the deterministic
//! transactions dated relative to today (rewritten when the Paris day changes), and the sandbox PKI.

pub mod certs;
pub mod pki;
pub mod revocation;

use crate::clock::{Calendar, Clock};
use crate::ledger::LoadAccount;
use crate::ledger::generator::generate;
use crate::ledger::personas::{ACCOUNTS, BANKS, PSUS, SeedAccount};
use crate::ledger::{Account, Psu, PsuId, PsuIdentity, Usage};
use crate::store::{BankRecord, Store, StoreError};
use jiff::civil::Date;
use std::sync::Arc;
use std::time::Duration;
use stet::{BankCode, Currency, Iban};

/// Bumped when the persona data changes in a way an existing sandbox database must pick up.
pub const SEED_VERSION: &str = "personas-3";
const SEED_KEY: &str = "seed";
const TRANSACTIONS_KEY: &str = "transactions_generated_for";

#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("sandbox seed data is invalid: {0}")]
    Seed(String),
}

/// Every bank code of the published sandbox.
pub fn bank_codes() -> Vec<BankCode> {
    BANKS.iter().filter_map(|b| BankCode::parse(b.code).ok()).collect()
}

/// What [`seed`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seeded {
    /// The personas were written now (first start).
    Now,
    /// They were already there.
    Already,
}

/// Registers every sandbox bank and, once, the personas and their accounts.
pub async fn seed(store: &Store, now: jiff::Timestamp) -> Result<Seeded, SandboxError> {
    for bank in BANKS {
        let code = BankCode::parse(bank.code).map_err(|e| SandboxError::Seed(e.to_string()))?;
        store.upsert_bank(&BankRecord { code, name: bank.name.to_owned(), brand: bank.brand.to_owned() }, now).await?;
    }
    if store.sandbox_state(SEED_KEY).await?.as_deref() == Some(SEED_VERSION) {
        return Ok(Seeded::Already);
    }
    let psus = PSUS.iter().map(persona).collect::<Result<Vec<_>, _>>()?;
    let accounts = ACCOUNTS.iter().map(seed_account).collect::<Result<Vec<_>, _>>()?;
    store.load_ledger(&psus, &accounts).await?;
    store.set_sandbox_state(SEED_KEY, SEED_VERSION).await?;
    Ok(Seeded::Now)
}

/// Writes the generated transactions for `today` unless they are already written for that day.
/// Returns whether it wrote.
pub async fn refresh_transactions(store: &Store, today: Date) -> Result<bool, SandboxError> {
    let day = today.to_string();
    if store.sandbox_state(TRANSACTIONS_KEY).await?.as_deref() == Some(day.as_str()) {
        return Ok(false);
    }
    let mut all = Vec::with_capacity(ACCOUNTS.len());
    for seed in ACCOUNTS {
        let (bank, iban) = ids(seed)?;
        let id = iban.french_resource_id().ok_or_else(|| SandboxError::Seed(format!("{iban} has no resource id")))?;
        all.push((bank, id, generate(seed, today)));
    }
    store.replace_generated_transactions(&all).await?;
    store.set_sandbox_state(TRANSACTIONS_KEY, &day).await?;
    Ok(true)
}

/// Keeps the generated transactions dated relative to today: checks every minute whether the
/// Paris day changed.
pub fn spawn_daily_refresh(store: Store, clock: Arc<dyn Clock>, calendar: Calendar) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(Duration::from_secs(60));
        loop {
            interval.tick().await;
            let today = calendar.today(clock.as_ref());
            match refresh_transactions(&store, today).await {
                Ok(true) => {
                    tracing::info!(%today, "sandbox transactions rewritten for the new day")
                }
                Ok(false) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "sandbox transactions could not be rewritten; retrying in a minute")
                }
            }
        }
    })
}

fn ids(seed: &SeedAccount) -> Result<(BankCode, Iban), SandboxError> {
    let bank = BankCode::parse(seed.bank).map_err(|e| SandboxError::Seed(e.to_string()))?;
    let iban = Iban::parse(seed.iban).map_err(|e| SandboxError::Seed(e.to_string()))?;
    Ok((bank, iban))
}

fn persona(seed: &crate::ledger::personas::SeedPsu) -> Result<Psu, SandboxError> {
    Ok(Psu {
        bank: BankCode::parse(seed.bank).map_err(|e| SandboxError::Seed(e.to_string()))?,
        id: PsuId::parse(seed.psu_id).ok_or_else(|| SandboxError::Seed(format!("PSU id {:?}", seed.psu_id)))?,
        identity: PsuIdentity {
            connected_psu: seed.display_name.to_owned(),
            name_prefix: None,
            first_name: seed.first_name.map(str::to_owned),
            last_name: seed.last_name.map(str::to_owned),
        },
        segment: seed.segment,
        phone: Some(seed.phone.to_owned()),
        email: None,
    })
}

fn seed_account(seed: &SeedAccount) -> Result<LoadAccount, SandboxError> {
    let (bank, iban) = ids(seed)?;
    let resource_id =
        iban.french_resource_id().ok_or_else(|| SandboxError::Seed(format!("{iban} has no resource id")))?;
    let holders = seed
        .holders
        .iter()
        .map(|(psu, status)| {
            PsuId::parse(psu)
                .map(|id| (id, (*status).to_owned()))
                .ok_or_else(|| SandboxError::Seed(format!("holder {psu:?}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(LoadAccount {
        account: Account {
            bank,
            resource_id,
            iban,
            name: seed.name.to_owned(),
            currency: Currency::EUR,
            usage: if seed.segment.has_bank_transaction_codes() { Usage::Orga } else { Usage::Priv },
            cash_account_type: "CACC".to_owned(),
            segment: seed.segment,
            status: seed.status,
            local_number: seed.local_number.map(str::to_owned),
        },
        booked_minor: seed.balance_minor,
        overdraft_minor: seed.overdraft_minor,
        holders,
    })
}
