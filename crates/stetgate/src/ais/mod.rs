//! Account information for AISPs (STET 1.4.0.47 `/v1`, 1.4.2 and 1.6.2 as the bank serves them):
//! accounts with the mixed-consent model, consents, balances, transactions (+ details in 1.6.2),
//! overdrafts (1.6.2), end-user identity (1.4.2+) and trusted beneficiaries (not offered: 204).
//!
//! Every handler receives an [`Authorized`] request (conventions, QWAC with PSP_AI, registration,
//! signature, token with scope `aisp` already checked), applies the consent and the batch quota,
//! asks the ledger, and renders the version's HAL+JSON.

pub mod consent;
pub mod model;
pub mod window;

use crate::edge::Hal;
use crate::edge::authorized::{Authorized, psu_of};
use crate::edge::error::ApiError;
use crate::ledger::{Account, Balances, HeldAccount, Transaction};
use crate::oauth::model::Grant;
use crate::quota;
use crate::state::AppState;
use axum::Extension;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use consent::{AccessKind, AisConsent};
use model::AisRefusal;
use stet::ais::{
    AccountIdentification, AccountResource, BalanceResource, BankTransactionCode, HalAccounts, HalBalances,
    HalEndUserIdentity, HalOverdrafts, HalTransactionDetails, HalTransactions, Overdrafts, RelatedParties,
    RelatedParty, TransactionResource,
};
use stet::{ApiVersion, Link, Links, ResourceId};

/// The bank answers at most this many operations, newest first, without pagination.
pub const MAX_TRANSACTIONS: usize = 500;

async fn consent_of(state: &AppState, grant: &Grant) -> Result<Option<AisConsent>, ApiError> {
    Ok(state.store.ais_consent_at(grant.bank, psu_of(grant)?, &grant.client_id, &grant.ais_consent).await?)
}

/// The PSU's eligible accounts (open ones).
async fn held_accounts(state: &AppState, grant: &Grant) -> Result<Vec<HeldAccount>, ApiError> {
    let held = state.ledger.psu_accounts(grant.bank, psu_of(grant)?).await?;
    Ok(held.into_iter().filter(HeldAccount::is_eligible).collect())
}

/// The PSU's eligible accounts (open ones), each with its balances, in one call to the ledger.
async fn held_accounts_with_balances(
    state: &AppState,
    grant: &Grant,
) -> Result<Vec<(HeldAccount, Option<Balances>)>, ApiError> {
    let today = state.calendar.today(state.clock.as_ref());
    let held = state.ledger.psu_accounts_with_balances(grant.bank, psu_of(grant)?, today).await?;
    Ok(held.into_iter().filter(|(h, _)| h.is_eligible()).collect())
}

/// The PSU's account with this resource id (404 otherwise), and the consent, which must grant `kind`
/// on it (403 otherwise).
async fn granted_account(
    state: &AppState,
    grant: &Grant,
    id: &str,
    kind: AccessKind,
) -> Result<(Account, AisConsent), ApiError> {
    let held = held_accounts(state, grant).await?.into_iter().map(|h| (h, ()));
    let (account, consent, ()) = granted_among(state, grant, held, id, kind).await?;
    Ok((account, consent))
}

/// [`granted_account`] among `held`, with what the ledger gave with each account.
async fn granted_among<T>(
    state: &AppState,
    grant: &Grant,
    held: impl IntoIterator<Item = (HeldAccount, T)>,
    id: &str,
    kind: AccessKind,
) -> Result<(Account, AisConsent, T), ApiError> {
    let unknown = || ApiError::from(AisRefusal::UnknownAccount(id.to_owned()));
    let id = ResourceId::parse(id).map_err(|_| unknown())?;
    let (held, with) = held.into_iter().find(|(h, _)| h.account.resource_id == id).ok_or_else(unknown)?;
    let consent = consent_of(state, grant).await?.unwrap_or_default();
    if !consent.allows(kind, &held.account.resource_id) {
        return Err(AisRefusal::NotGranted(kind.as_str()).into());
    }
    Ok((held.account, consent, with))
}

fn link(href: String) -> Link {
    Link::plain(href)
}

fn account_path(version: ApiVersion, id: &ResourceId) -> String {
    format!("{}/accounts/{id}", version.base_path())
}

/// `GET /accounts`.
pub async fn accounts(
    State(state): State<AppState>,
    Extension(version): Extension<ApiVersion>,
    headers: HeaderMap,
    request: Authorized,
) -> Result<Response, ApiError> {
    let grant = &request.grant;
    quota::consume(&state, &headers, grant, None, "accounts").await?;
    // The accounts and their balances in one call to the ledger; a balance is shown where the
    // consent grants it.
    let held = held_accounts_with_balances(&state, grant).await?;
    let consent = consent_of(&state, grant).await?.unwrap_or_default();
    let mut accounts = Vec::with_capacity(held.len());
    for (h, balances) in held {
        let a = &h.account;
        let mut resource = AccountResource {
            resource_id: None,
            account_id: AccountIdentification {
                iban: Some(a.iban.to_string()),
                other: None,
                currency: (version != ApiVersion::V1).then(|| a.currency.to_string()),
            },
            name: a.name.clone(),
            usage: a.usage.as_str().to_owned(),
            cash_account_type: a.cash_account_type.clone(),
            currency: (version == ApiVersion::V1).then(|| a.currency.to_string()),
            balances: None,
            psu_status: h.psu_status.clone(),
            // 1.4.0.47 requires `_links` on every account; the bank's 1.4.2 omits them before consent.
            links: (version == ApiVersion::V1).then(Links::new),
        };
        if consent.touches(&a.resource_id) {
            let path = account_path(version, &a.resource_id);
            let mut links = Links::new();
            if consent.allows(AccessKind::Balances, &a.resource_id) {
                links.insert("balances".into(), link(format!("{path}/balances")));
                resource.balances = balances.as_ref().map(|b| vec![booked_balance(b)]);
            }
            if consent.allows(AccessKind::Transactions, &a.resource_id) {
                links.insert("transactions".into(), Link::templated(format!("{path}/transactions")));
            }
            if version >= ApiVersion::V1_6_2 && consent.allows(AccessKind::Overdrafts, &a.resource_id) {
                links.insert("overdrafts".into(), link(format!("{path}/overdrafts")));
            }
            resource.resource_id = Some(a.resource_id.to_string());
            resource.links = Some(links);
        }
        accounts.push(resource);
    }
    let mut links = Links::new();
    links.insert("self".into(), link(format!("{}/accounts", version.base_path())));
    if version >= ApiVersion::V1_4_2 && consent.psu_identity {
        links.insert("endUserIdentity".into(), link(format!("{}/end-user-identity", version.base_path())));
    }
    if accounts.is_empty() {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    Ok(Hal(HalAccounts { accounts, links }).into_response())
}

fn booked_balance(b: &crate::ledger::Balances) -> BalanceResource {
    BalanceResource {
        name: format!("Solde comptable au {}", b.reference_date.strftime("%d/%m/%Y")),
        balance_amount: b.booked,
        balance_type: "CLBD".into(),
        reference_date: Some(b.reference_date.to_string()),
    }
}

/// `PUT /consents`: replaces the TPP's consent for the PSU; 201 with no body.
pub async fn put_consents(
    State(state): State<AppState>,
    Extension(version): Extension<ApiVersion>,
    request: Authorized,
) -> Result<Response, ApiError> {
    let with_overdrafts = version >= ApiVersion::V1_6_2;
    let access = consent::parse_access(&request.request.body, with_overdrafts)
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let grant = &request.grant;
    let held = held_accounts(&state, grant).await?;
    let consent =
        consent::from_access(&access, &held, with_overdrafts).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let now = state.clock.now();
    state.store.replace_ais_consent(grant.bank, psu_of(grant)?, &grant.client_id, &consent, now).await?;
    Ok(StatusCode::CREATED.into_response())
}

/// `GET /accounts/{id}/balances`: the accounting balance (CLBD).
pub async fn balances(
    State(state): State<AppState>,
    Extension(version): Extension<ApiVersion>,
    Path(id): Path<String>,
    headers: HeaderMap,
    request: Authorized,
) -> Result<Response, ApiError> {
    let held = held_accounts_with_balances(&state, &request.grant).await?;
    let (account, consent, balances) = granted_among(&state, &request.grant, held, &id, AccessKind::Balances).await?;
    quota::consume(&state, &headers, &request.grant, Some(account.resource_id.as_str()), "balances").await?;
    let balances = balances.ok_or(ApiError::NotFound)?;
    let path = account_path(version, &account.resource_id);
    let mut links = Links::new();
    links.insert("self".into(), link(format!("{path}/balances")));
    links.insert("parent-list".into(), link(format!("{}/accounts", version.base_path())));
    if consent.allows(AccessKind::Transactions, &account.resource_id) {
        links.insert("transactions".into(), Link::templated(format!("{path}/transactions")));
    }
    Ok(Hal(HalBalances { balances: vec![booked_balance(&balances)], links }).into_response())
}

fn query_param(query: Option<&str>, name: &str) -> Option<String> {
    url::form_urlencoded::parse(query.unwrap_or("").as_bytes()).find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

/// The counterparties the ledger names, from 1.4.2 on (1.4.0.47 has no `relatedParties`).
fn related_parties(t: &Transaction, version: ApiVersion) -> Option<RelatedParties> {
    let party = |name: &Option<String>| name.as_ref().map(|name| RelatedParty { name: name.clone() });
    let parties = RelatedParties { creditor: party(&t.creditor_name), debtor: party(&t.debtor_name) };
    (version > ApiVersion::V1 && (parties.creditor.is_some() || parties.debtor.is_some())).then_some(parties)
}

fn render_transaction(t: &Transaction, version: ApiVersion, path: &str) -> TransactionResource {
    let with_details = version >= ApiVersion::V1_6_2;
    TransactionResource {
        resource_id: Some(t.id.clone()),
        entry_reference: t.entry_reference.clone(),
        transaction_amount: t.amount,
        credit_debit_indicator: t.credit_debit.as_str().into(),
        status: t.status.as_str().into(),
        // 1.4.0.47 requires a booking date; for an operation not booked yet it carries the
        // operation's date. From 1.4.2 on, OTHR operations have none, as the bank sends them.
        booking_date: t
            .booking_date
            .or((version == ApiVersion::V1).then_some(t.transaction_date))
            .map(|d| d.to_string()),
        value_date: t.value_date.map(|d| d.to_string()),
        transaction_date: Some(t.transaction_date.to_string()),
        remittance_information: t.remittance.clone(),
        bank_transaction_code: t.bank_transaction_code.as_ref().map(|c| BankTransactionCode {
            domain: c.domain.clone(),
            family: c.family.clone(),
            sub_family: c.sub_family.clone(),
            code: c.code.clone(),
            issuer: c.issuer.clone(),
        }),
        related_parties: related_parties(t, version),
        links: with_details.then(|| {
            let mut links = Links::new();
            links.insert("details".into(), link(format!("{path}/transactions/{}/details", t.id)));
            links
        }),
    }
}

/// `GET /accounts/{id}/transactions?dateFrom&dateTo`.
pub async fn transactions(
    State(state): State<AppState>,
    Extension(version): Extension<ApiVersion>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    request: Authorized,
) -> Result<Response, ApiError> {
    let (account, consent) = granted_account(&state, &request.grant, &id, AccessKind::Transactions).await?;
    // Not used by the bank (it answers by date), but bounded as the definition bounds them.
    for name in ["afterEntryReference", "entryReferenceFrom", "entryReferenceTo"] {
        if query_param(query.as_deref(), name).is_some_and(|v| v.chars().count() > 40) {
            return Err(ApiError::BadRequest(format!("{name} is longer than 40 characters")));
        }
    }
    let today = state.calendar.today(state.clock.as_ref());
    let window = window::window(
        query_param(query.as_deref(), "dateFrom").as_deref(),
        query_param(query.as_deref(), "dateTo").as_deref(),
        account.segment.history_days(),
        today,
        &state.calendar,
    )
    .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    quota::consume(&state, &headers, &request.grant, Some(account.resource_id.as_str()), "transactions").await?;
    let mut found = state.ledger.transactions(account.bank, &account.resource_id, window).await?;
    if found.is_empty() {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    found.truncate(MAX_TRANSACTIONS);
    let balances_granted = consent.allows(AccessKind::Balances, &account.resource_id);
    Ok(Hal(transactions_document(&found, version, &account.resource_id, balances_granted)).into_response())
}

/// The body of a transactions answer: the operations and the links (to the balances only when
/// the consent grants them).
pub fn transactions_document(
    found: &[Transaction],
    version: ApiVersion,
    account: &ResourceId,
    balances_granted: bool,
) -> HalTransactions {
    let path = account_path(version, account);
    let transactions = found.iter().map(|t| render_transaction(t, version, &path)).collect();
    let mut links = Links::new();
    links.insert("self".into(), Link::templated(format!("{path}/transactions")));
    links.insert("parent-list".into(), link(format!("{}/accounts", version.base_path())));
    if balances_granted {
        links.insert("balances".into(), link(format!("{path}/balances")));
    }
    HalTransactions { transactions, links }
}

/// `GET /accounts/{id}/transactions/{transactionResourceId}/details` (1.6.2).
pub async fn transaction_details(
    State(state): State<AppState>,
    Extension(version): Extension<ApiVersion>,
    Path((id, transaction)): Path<(String, String)>,
    headers: HeaderMap,
    request: Authorized,
) -> Result<Response, ApiError> {
    let (account, _) = granted_account(&state, &request.grant, &id, AccessKind::Transactions).await?;
    quota::consume(&state, &headers, &request.grant, Some(account.resource_id.as_str()), "transaction-details").await?;
    let today = state.calendar.today(state.clock.as_ref());
    let whole = window::window(None, None, account.segment.history_days(), today, &state.calendar)
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let found = state.ledger.transactions(account.bank, &account.resource_id, whole).await?;
    let t = found.iter().find(|t| t.id == transaction).ok_or(ApiError::NotFound)?;
    let path = account_path(version, &account.resource_id);
    let mut details = render_transaction(t, version, &path);
    details.links = None;
    let mut links = Links::new();
    links.insert("self".into(), link(format!("{path}/transactions/{}/details", t.id)));
    links.insert("parent-list".into(), Link::templated(format!("{path}/transactions")));
    Ok(Hal(HalTransactionDetails { transaction_details: details, links }).into_response())
}

/// `GET /accounts/{id}/overdrafts` (1.6.2): the authorised overdraft.
pub async fn overdrafts(
    State(state): State<AppState>,
    Extension(version): Extension<ApiVersion>,
    Path(id): Path<String>,
    headers: HeaderMap,
    request: Authorized,
) -> Result<Response, ApiError> {
    let (account, consent) = granted_account(&state, &request.grant, &id, AccessKind::Overdrafts).await?;
    quota::consume(&state, &headers, &request.grant, Some(account.resource_id.as_str()), "overdrafts").await?;
    let allowed = state.ledger.overdraft(account.bank, &account.resource_id).await?.ok_or(ApiError::NotFound)?;
    let path = account_path(version, &account.resource_id);
    let mut links = Links::new();
    links.insert("self".into(), link(format!("{path}/overdrafts")));
    links.insert("parent-list".into(), link(format!("{}/accounts", version.base_path())));
    if consent.allows(AccessKind::Balances, &account.resource_id) {
        links.insert("balances".into(), link(format!("{path}/balances")));
    }
    if consent.allows(AccessKind::Transactions, &account.resource_id) {
        links.insert("transactions".into(), Link::templated(format!("{path}/transactions")));
    }
    Ok(Hal(HalOverdrafts { overdrafts: Overdrafts { allowed_amount: allowed }, links }).into_response())
}

/// `GET /end-user-identity` (1.4.2+): the connected PSU, when the consent allows it.
pub async fn end_user_identity(
    State(state): State<AppState>,
    Extension(version): Extension<ApiVersion>,
    headers: HeaderMap,
    request: Authorized,
) -> Result<Response, ApiError> {
    let grant = &request.grant;
    if !consent_of(&state, grant).await?.is_some_and(|c| c.psu_identity) {
        return Err(AisRefusal::NotGranted("psuIdentity").into());
    }
    quota::consume(&state, &headers, grant, None, "identity").await?;
    let psu = state.ledger.psu(grant.bank, psu_of(grant)?).await?.ok_or(ApiError::NotFound)?;
    let mut links = Links::new();
    links.insert("self".into(), link(format!("{}/end-user-identity", version.base_path())));
    links.insert("parent-list".into(), link(format!("{}/accounts", version.base_path())));
    Ok(Hal(HalEndUserIdentity {
        connected_psu: psu.identity.connected_psu.clone(),
        connected_psu_first_name: psu.identity.first_name.clone(),
        connected_psu_last_name: psu.identity.last_name.clone(),
        links,
    })
    .into_response())
}

/// `GET /trusted-beneficiaries`: not offered by the bank; 204 as its live API answers.
pub async fn trusted_beneficiaries(_request: Authorized) -> Response {
    StatusCode::NO_CONTENT.into_response()
}
