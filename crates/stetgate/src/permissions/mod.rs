//! The PSU's permission dashboard (PSR proposal, art. 43): every TPP that can reach the PSU's
//! accounts at this bank, what it may do, since and until when, when it last did, and a way to
//! withdraw it at once.
//!
//! What counts as access: a live token pair (not revoked, refresh token not expired, the PSU's
//! strong authentication less than `oauth.sca_validity_days` old) of the TPP for this PSU, with the
//! consent that goes with its role (AIS: the accounts for balances, transactions, overdrafts and
//! the identity; funds confirmation: the accounts chosen); and for payment initiation, the PSU's
//! payment requests that still reach the account (approved and waiting for the PISP's
//! confirmation, future-dated, standing orders).
//!
//! A withdrawal, per TPP and role, revokes the token pairs giving it and removes the consent in
//! one database transaction (so every node refuses the next call: 401 for the token, 403 for the
//! consent, and a refresh is refused), and is recorded. For payment initiation it also rejects the
//! approved payments waiting for confirmation (RJCT CUST) and cancels those not executed yet (CANC
//! DS02). The pages are in [`pages`]; `stetgate psu access` does the same for the bank's support.

pub mod model;
pub mod pages;

use crate::ais::model::AisConsent;
use crate::edge::error::ApiError;
use crate::ledger::{Ledger, LedgerError, PsuId};
use crate::pis::model::{InstructionStatus, PaymentRequest, PaymentStatus, StatusReason};
use crate::store::{Store, StoreError};
use jiff::{SignedDuration, Timestamp};
use model::{AccessRole, LivePair, Withdrawal, Withdrawn, WithdrawnBy};
use std::collections::BTreeMap;
use stet::{BankCode, OrgId, ResourceId};

/// What reading or changing the PSU's permissions may run into.
#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Ledger(#[from] LedgerError),
}

impl From<AccessError> for ApiError {
    fn from(e: AccessError) -> Self {
        match e {
            AccessError::Store(e) => e.into(),
            AccessError::Ledger(e) => e.into(),
        }
    }
}

/// An account as the dashboard names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountShown {
    pub name: String,
    pub iban: String,
}

/// One role of one TPP for the PSU.
#[derive(Debug, Clone)]
pub struct RoleAccess {
    pub role: AccessRole,
    /// The first live token pair's issue.
    pub since: Option<Timestamp>,
    /// When the access ends by itself: the refresh token's expiry or the 180-day SCA limit.
    pub until: Option<Timestamp>,
    pub last_used: Option<Timestamp>,
    /// AIS: what each account is shared for; funds confirmation: the accounts chosen.
    pub accounts: Vec<(AccountShown, Vec<&'static str>)>,
    /// AIS: the PSU's identity may be read.
    pub identity: bool,
    /// Payment initiation: the requests that still reach the account.
    pub payments: Vec<PaymentShown>,
}

/// A payment request on the dashboard.
#[derive(Debug, Clone)]
pub struct PaymentShown {
    pub id: ResourceId,
    pub amount: String,
    pub payee: String,
    pub status: &'static str,
    pub next_day: String,
    pub frequency: Option<&'static str>,
}

/// Everything one TPP may do for the PSU.
#[derive(Debug, Clone)]
pub struct TppAccess {
    pub client_id: OrgId,
    pub name: String,
    /// The organisation its QWAC certifies.
    pub organization: Option<String>,
    pub psd2_roles: Vec<&'static str>,
    pub roles: Vec<RoleAccess>,
}

/// The dashboard's content.
#[derive(Debug, Clone, Default)]
pub struct Overview {
    pub tpps: Vec<TppAccess>,
    pub withdrawals: Vec<Withdrawal>,
}

/// What the PSU has given, as of `now`.
pub async fn overview(
    store: &Store,
    ledger: &dyn Ledger,
    bank: BankCode,
    psu: &PsuId,
    sca_validity: SignedDuration,
    now: Timestamp,
) -> Result<Overview, AccessError> {
    let accounts: BTreeMap<ResourceId, AccountShown> = ledger
        .psu_accounts(bank, psu)
        .await?
        .into_iter()
        .map(|h| {
            (h.account.resource_id.clone(), AccountShown { name: h.account.name, iban: h.account.iban.to_string() })
        })
        .collect();
    let shown = |id: &ResourceId| {
        accounts.get(id).cloned().unwrap_or(AccountShown { name: String::new(), iban: id.to_string() })
    };
    let live: Vec<LivePair> = store
        .live_pairs(bank, psu, now)
        .await?
        .into_iter()
        .filter(|p| now.duration_since(p.pair.sca_at) <= sca_validity)
        .collect();
    let payments = store.open_payment_requests(bank, psu).await?;
    let mut by_tpp: BTreeMap<OrgId, Vec<RoleAccess>> = BTreeMap::new();
    for role in AccessRole::ALL {
        let mut clients: Vec<OrgId> =
            live.iter().filter(|p| role.covers(&p.pair.scopes)).map(|p| p.pair.client_id.clone()).collect();
        if role == AccessRole::Pisp {
            clients.extend(payments.iter().map(|p| p.client_id.clone()));
        }
        clients.sort();
        clients.dedup();
        for client in clients {
            let pairs: Vec<&LivePair> =
                live.iter().filter(|p| p.pair.client_id == client && role.covers(&p.pair.scopes)).collect();
            let mut access = RoleAccess::of_pairs(role, &pairs, sca_validity);
            match role {
                AccessRole::Aisp => {
                    if let Some(consent) = store.ais_consent(bank, psu, &client).await? {
                        access.identity = consent.psu_identity;
                        access.accounts =
                            ais_accounts(&consent).into_iter().map(|(id, what)| (shown(id), what)).collect();
                    }
                }
                AccessRole::Cbpii => {
                    let chosen = store.funds_consent(bank, psu, &client).await?;
                    access.accounts = chosen.iter().map(|id| (shown(id), vec!["funds"])).collect();
                }
                AccessRole::Pisp => {
                    access.payments = payments.iter().filter(|p| p.client_id == client).map(payment_shown).collect();
                }
            }
            by_tpp.entry(client).or_default().push(access);
        }
    }
    let mut tpps = Vec::new();
    for (client, roles) in by_tpp {
        tpps.push(describe_tpp(store, client, roles).await?);
    }
    Ok(Overview { tpps, withdrawals: store.withdrawals(bank, psu).await? })
}

impl RoleAccess {
    /// The access's window from its live token pairs: issued, ending by itself, last used.
    fn of_pairs(role: AccessRole, pairs: &[&LivePair], sca_validity: SignedDuration) -> RoleAccess {
        let ends = |p: &LivePair| {
            let sca_limit = p.pair.sca_at.saturating_add(sca_validity).unwrap_or(p.pair.sca_at);
            p.pair.refresh_expires_at.min(sca_limit)
        };
        RoleAccess {
            role,
            since: pairs.iter().map(|p| p.created_at).min(),
            until: pairs.iter().map(|p| ends(p)).max(),
            last_used: pairs.iter().filter_map(|p| p.last_used_at).max(),
            accounts: Vec::new(),
            identity: false,
            payments: Vec::new(),
        }
    }
}

/// Each account of an AIS consent with what it is shared for.
fn ais_accounts(consent: &AisConsent) -> Vec<(&ResourceId, Vec<&'static str>)> {
    let mut ids: Vec<&ResourceId> =
        consent.balances.iter().chain(&consent.transactions).chain(&consent.overdrafts).collect();
    ids.sort();
    ids.dedup();
    let sets =
        [(&consent.balances, "balances"), (&consent.transactions, "transactions"), (&consent.overdrafts, "overdrafts")];
    ids.into_iter()
        .map(|id| (id, sets.iter().filter(|(set, _)| set.contains(id)).map(|(_, name)| *name).collect()))
        .collect()
}

/// The TPP as the PSU should recognise it: its registered name, the organisation its QWAC
/// certifies, its PSD2 roles.
async fn describe_tpp(store: &Store, client: OrgId, roles: Vec<RoleAccess>) -> Result<TppAccess, AccessError> {
    let registration = store.registration(&client).await?;
    let psd2_roles = registration
        .as_ref()
        .and_then(|r| eidas::psd2::parse_pem(&r.qsealc_pem).ok())
        .and_then(|c| c.psd2)
        .map(|p| p.roles.iter().filter_map(|r| r.role).map(|r| r.name()).collect())
        .unwrap_or_default();
    Ok(TppAccess {
        name: registration.as_ref().map(|r| r.client_name.clone()).unwrap_or_else(|| client.to_string()),
        organization: registration.and_then(|r| r.qwac_organization),
        client_id: client,
        psd2_roles,
        roles,
    })
}

fn payment_shown(p: &PaymentRequest) -> PaymentShown {
    let first = p.instructions.first();
    PaymentShown {
        id: p.id.clone(),
        amount: p.total().map(|a| format!("{} {}", a.amount_text(), a.currency)).unwrap_or_default(),
        payee: first.map(|i| i.creditor_name.clone()).unwrap_or_default(),
        status: p.status.as_str(),
        next_day: first.map(|i| i.execution_date.to_string()).unwrap_or_default(),
        frequency: first.and_then(|i| i.schedule).map(|s| s.frequency.as_str()),
    }
}

/// Withdraws `client`'s `role` access for the PSU (see the module documentation): what was taken
/// away, or `None` when there was no such access (nothing is recorded then).
///
/// The tokens, codes and consents go in one transaction; the PISP's open payments are read
/// before it and stopped after it, each by a compare-and-set (a payment the scheduler executes
/// in between stays executed).
pub async fn withdraw(
    store: &Store,
    bank: BankCode,
    psu: &PsuId,
    client: &OrgId,
    role: AccessRole,
    by: WithdrawnBy,
    now: Timestamp,
) -> Result<Option<Withdrawn>, StoreError> {
    let payments: Vec<PaymentRequest> = match role {
        AccessRole::Pisp => {
            store.open_payment_requests(bank, psu).await?.into_iter().filter(|p| &p.client_id == client).collect()
        }
        AccessRole::Aisp | AccessRole::Cbpii => Vec::new(),
    };
    let record = Withdrawal { client_id: client.clone(), role, by, at: now, pairs_revoked: 0 };
    let Some(withdrawn) = store.withdraw_access(bank, psu, &record, payments.len()).await? else {
        return Ok(None);
    };
    for p in payments {
        stop_payment(store, p, now).await?;
    }
    let roles: Vec<&str> = withdrawn.roles.iter().map(|r| r.as_str()).collect();
    tracing::info!(bank = %bank, client = %client, roles = ?roles, by = by.as_str(), revoked = withdrawn.pairs_revoked, "a PSU's access withdrawn");
    Ok(Some(withdrawn))
}

/// An approved payment the PISP has not confirmed is rejected (the PSU no longer wants it); an
/// accepted one not executed yet is cancelled.
async fn stop_payment(store: &Store, p: PaymentRequest, now: Timestamp) -> Result<(), StoreError> {
    let mut after = p.clone();
    let (status, reason, instruction) = match p.status {
        PaymentStatus::Actc => (PaymentStatus::Rjct, StatusReason::Cust, InstructionStatus::Rjct),
        _ => (PaymentStatus::Canc, StatusReason::Ds02, InstructionStatus::Canc),
    };
    after.status = status;
    after.reason = Some(reason);
    for i in
        after.instructions.iter_mut().filter(|i| matches!(i.status, InstructionStatus::Acsp | InstructionStatus::Pdng))
    {
        i.status = instruction;
        i.reason = Some(reason);
    }
    after.updated_at = now;
    // A concurrent change (the scheduler executing it) wins: what was executed stays executed.
    store.update_payment_request(&p, &after).await?;
    Ok(())
}
