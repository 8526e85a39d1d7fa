//! Account information resources (STET 1.4.0.47 definitions, with the 1.4.2/1.6.2 changes the bank
//! publishes: the currency moves into `accountId`, `/end-user-identity`, `/overdrafts`).

use crate::{Amount, Links};
use serde::{Deserialize, Serialize};

/// `AccountIdentification`: an IBAN, or another identification (a resource id with scheme `BANK`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default, utoipa::ToSchema)]
pub struct AccountIdentification {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iban: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other: Option<GenericIdentification>,
    /// 1.4.2 and later.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
}

/// `GenericIdentification {identification, schemeName, issuer}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GenericIdentification {
    pub identification: String,
    pub scheme_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
}

/// `AccountResource`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountResource {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_id: Option<String>,
    pub account_id: AccountIdentification,
    pub name: String,
    pub usage: String,
    pub cash_account_type: String,
    /// 1.4.0.47 only (later versions carry it in `accountId`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub balances: Option<Vec<BalanceResource>>,
    pub psu_status: String,
    #[serde(rename = "_links", default, skip_serializing_if = "Option::is_none")]
    pub links: Option<Links>,
}

/// `HalAccounts`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct HalAccounts {
    pub accounts: Vec<AccountResource>,
    #[serde(rename = "_links")]
    pub links: Links,
}

/// `BalanceResource`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BalanceResource {
    pub name: String,
    pub balance_amount: Amount,
    pub balance_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference_date: Option<String>,
}

/// `HalBalances`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct HalBalances {
    pub balances: Vec<BalanceResource>,
    #[serde(rename = "_links")]
    pub links: Links,
}

/// ISO 20022 bank transaction code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BankTransactionCode {
    pub domain: String,
    pub family: String,
    pub sub_family: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
}

/// `Transaction` (TransactionResource).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TransactionResource {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry_reference: Option<String>,
    pub transaction_amount: Amount,
    pub credit_debit_indicator: String,
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub booking_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_date: Option<String>,
    pub remittance_information: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bank_transaction_code: Option<BankTransactionCode>,
    /// From 1.4.2 on: the counterparties the bank knows by name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub related_parties: Option<RelatedParties>,
    #[serde(rename = "_links", default, skip_serializing_if = "Option::is_none")]
    pub links: Option<Links>,
}

/// `RelatedParties` of a transaction (1.4.2 on): the creditor and the debtor, by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RelatedParties {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creditor: Option<RelatedParty>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub debtor: Option<RelatedParty>,
}

/// A counterparty of a transaction (`PartyIdentification`, of which the bank sends the name).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RelatedParty {
    pub name: String,
}

/// `HalTransactions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct HalTransactions {
    pub transactions: Vec<TransactionResource>,
    #[serde(rename = "_links")]
    pub links: Links,
}

/// 1.6.2 transaction details.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct HalTransactionDetails {
    #[serde(rename = "transactionDetails")]
    pub transaction_details: TransactionResource,
    #[serde(rename = "_links")]
    pub links: Links,
}

/// The consent body (`Access`), 1.6.2 adding `overdrafts` and `owners`. The bank requires the four
/// other fields (the server checks them before reading; the document says so); reading is lenient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Access {
    #[serde(default)]
    #[schema(required = true)]
    pub balances: Vec<AccountIdentification>,
    #[serde(default)]
    #[schema(required = true)]
    pub transactions: Vec<AccountIdentification>,
    /// 1.6.2 only: not sent when empty, so the body also suits earlier versions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub overdrafts: Vec<AccountIdentification>,
    /// 1.6.2 only, like `overdrafts`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub owners: Vec<AccountIdentification>,
    #[serde(default)]
    #[schema(required = true)]
    pub trusted_beneficiaries: bool,
    #[serde(default)]
    #[schema(required = true)]
    pub psu_identity: bool,
}

/// 1.4.2 `HalEndUserIdentity`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HalEndUserIdentity {
    pub connected_psu: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connected_psu_first_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connected_psu_last_name: Option<String>,
    #[serde(rename = "_links")]
    pub links: Links,
}

/// 1.6.2 overdrafts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Overdrafts {
    pub allowed_amount: Amount,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct HalOverdrafts {
    pub overdrafts: Overdrafts,
    #[serde(rename = "_links")]
    pub links: Links,
}
