//! Funds confirmation for card issuers (CBPII; STET `POST /funds-confirmations`; scope `piisp` in
//! v1, `cbpii` from 1.4.2 on): at the moment of a card payment, can the PSU's account cover the
//! amount? The bank answers on the instant balance ("solde minute": booked balance minus pending
//! debits) plus the authorised overdraft, blocks nothing and records nothing.
//!
//! Refusals carry the bank's reason code in `message`, checked in this order: `FF01` (body not JSON
//! or not the STET schema), `AC01` (IBAN malformed, or not an account of this PSU at this bank; card
//! numbers are unknown to the bank), `AC04` closed, `AC06` blocked, `NGAC` (an account the PSU did
//! not choose for this TPP during authorization), `FF01` (a currency that is not the account's),
//! and, when the bank configures a limit, `TMRQ`.

use crate::edge::Hal;
use crate::edge::authorized::{Authorized, psu_of};
use crate::edge::error::ApiError;
use crate::ledger::{Account, AccountStatus};
use crate::state::AppState;
use axum::Extension;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use stet::ais::{AccountIdentification, GenericIdentification};
use stet::funds::{HalPaymentCoverageReport, PaymentCoverageRequest};
use stet::{Amount, ApiVersion, Currency, Iban, Link, Links, ResourceId};

pub mod model;

use model::FundsRefusal;

fn format_error(explanation: impl Into<String>) -> FundsRefusal {
    FundsRefusal::Format(explanation.into())
}

fn unknown_account(explanation: impl Into<String>) -> FundsRefusal {
    FundsRefusal::UnknownAccount(explanation.into())
}

/// A checked `PaymentCoverageRequestResource`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoverageRequest {
    pub id: String,
    pub payee: Option<String>,
    pub amount: Amount,
    pub account: AccountReference,
}

impl CoverageRequest {
    /// The request as the answer echoes it: the validated fields only, amounts as strings.
    pub fn echo(&self) -> PaymentCoverageRequest {
        let account_id = match &self.account {
            AccountReference::Iban(iban) => {
                AccountIdentification { iban: Some(iban.to_string()), ..Default::default() }
            }
            AccountReference::ResourceId(id) => AccountIdentification {
                other: Some(GenericIdentification {
                    identification: id.to_string(),
                    scheme_name: "BANK".into(),
                    issuer: None,
                }),
                ..Default::default()
            },
        };
        PaymentCoverageRequest {
            payment_coverage_request_id: self.id.clone(),
            payee: self.payee.clone(),
            instructed_amount: self.amount,
            account_id,
        }
    }
}

/// How the request names the account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountReference {
    Iban(Iban),
    ResourceId(ResourceId),
}

/// Reads the request body: FF01 for what is not the STET schema, AC01 for an account reference the
/// bank cannot know.
pub fn parse(body: &Value, numbers_allowed: bool) -> Result<CoverageRequest, FundsRefusal> {
    let object = body
        .as_object()
        .ok_or_else(|| format_error("the body must be a JSON object PaymentCoverageRequestResource"))?;
    let id = match object.get("paymentCoverageRequestId").and_then(Value::as_str) {
        Some(id) if !id.is_empty() && id.chars().count() <= 35 => id.to_owned(),
        Some(_) => return Err(format_error("paymentCoverageRequestId must be 1 to 35 characters")),
        None => return Err(format_error("paymentCoverageRequestId is missing")),
    };
    let payee = match object.get("payee") {
        None => None,
        Some(Value::String(p)) if p.chars().count() <= 70 => Some(p.clone()),
        Some(_) => return Err(format_error("payee must be a string of at most 70 characters")),
    };
    let instructed = object
        .get("instructedAmount")
        .and_then(Value::as_object)
        .ok_or_else(|| format_error("instructedAmount is missing"))?;
    let currency = instructed
        .get("currency")
        .and_then(Value::as_str)
        .and_then(|c| Currency::parse(c).ok())
        .ok_or_else(|| format_error("instructedAmount.currency is missing or not an ISO 4217 code"))?;
    let text = match instructed.get("amount") {
        Some(Value::String(s)) => s.clone(),
        // STET 1.4.2 and later declare numbers (their examples send them); 1.4.0.47 a string.
        Some(Value::Number(n)) if numbers_allowed => n.to_string(),
        Some(Value::Number(_)) => {
            return Err(format_error("instructedAmount.amount must be a string in this version (\"12.50\")"));
        }
        _ => return Err(format_error("instructedAmount.amount is missing")),
    };
    let amount = Amount::parse(&text, currency)
        .ok()
        .filter(|a| a.value > rust_decimal::Decimal::ZERO && a.value.scale() <= currency.minor_unit_digits())
        .ok_or_else(|| {
            format_error(format!(
                "instructedAmount.amount {text:?} is not a positive decimal with at most {} fraction digits",
                currency.minor_unit_digits()
            ))
        })?;
    let account_id =
        object.get("accountId").and_then(Value::as_object).ok_or_else(|| format_error("accountId is missing"))?;
    // `other`, when sent, must be the STET GenericIdentification even beside an iban.
    let other = match account_id.get("other") {
        None => None,
        Some(Value::Object(other))
            if other.get("identification").and_then(Value::as_str).is_some_and(|i| i.chars().count() <= 70)
                && other.get("schemeName").and_then(Value::as_str).is_some() =>
        {
            Some(other)
        }
        Some(_) => return Err(format_error("accountId.other must be {identification (up to 70), schemeName}")),
    };
    let account = if let Some(iban) = account_id.get("iban") {
        let text = iban.as_str().ok_or_else(|| format_error("accountId.iban must be a string"))?;
        AccountReference::Iban(
            Iban::parse_wire(text)
                .map_err(|_| unknown_account(format!("{text:?} is not a valid IBAN in the electronic form")))?,
        )
    } else if let Some(other) = other {
        let scheme = other.get("schemeName").and_then(Value::as_str).unwrap_or("");
        let identification = other.get("identification").and_then(Value::as_str).unwrap_or("");
        match scheme {
            "BANK" => AccountReference::ResourceId(
                ResourceId::parse(identification)
                    .map_err(|_| unknown_account(format!("{identification:?} is not an account of this bank")))?,
            ),
            "CPAN" => return Err(unknown_account("the bank does not know card numbers: name the account by its IBAN")),
            other => {
                return Err(unknown_account(format!(
                    "accounts identified by {other:?} are unknown to this bank: use the IBAN"
                )));
            }
        }
    } else {
        return Err(format_error("accountId needs an iban (or other {identification, schemeName})"));
    };
    Ok(CoverageRequest { id, payee, amount, account })
}

/// Whether `amount` is covered by the instant balance plus the authorised overdraft.
pub fn covered(amount: &Amount, instant: &Amount, overdraft: &Amount) -> bool {
    amount.value <= instant.value + overdraft.value
}

/// `POST /funds-confirmations`.
pub async fn funds_confirmation(
    State(state): State<AppState>,
    Extension(version): Extension<ApiVersion>,
    request: Authorized,
) -> Result<Response, ApiError> {
    let grant = &request.grant;
    rate_limit(&state, grant).await?;
    let body: Value =
        serde_json::from_slice(&request.request.body).map_err(|_| format_error("the body is not JSON"))?;
    let coverage = parse(&body, version >= ApiVersion::V1_4_2)?;

    let today = state.calendar.today(state.clock.as_ref());
    // The PSU's accounts and their balances in one call to the ledger.
    let held = state.ledger.psu_accounts_with_balances(grant.bank, psu_of(grant)?, today).await?;
    let (account, balances): (Account, _) = held
        .into_iter()
        .map(|(h, balances)| (h.account, balances))
        .find(|(a, _)| match &coverage.account {
            AccountReference::Iban(iban) => &a.iban == iban,
            AccountReference::ResourceId(id) => &a.resource_id == id,
        })
        .ok_or_else(|| unknown_account("this account is unknown at this bank for this PSU"))?;
    match account.status {
        AccountStatus::Closed => return Err(FundsRefusal::Closed.into()),
        AccountStatus::Blocked => return Err(FundsRefusal::Blocked.into()),
        AccountStatus::Open => {}
    }
    let chosen = state.store.funds_consent(grant.bank, psu_of(grant)?, &grant.client_id).await?;
    if !chosen.contains(&account.resource_id) {
        return Err(FundsRefusal::NotChosen.into());
    }
    if coverage.amount.currency != account.currency {
        return Err(FundsRefusal::Currency { asked: coverage.amount.currency, held: account.currency }.into());
    }
    let balances = balances.ok_or(ApiError::NotFound)?;
    let overdraft = state
        .ledger
        .overdraft(account.bank, &account.resource_id)
        .await?
        .unwrap_or(Amount::from_minor(0, account.currency));
    let result = covered(&coverage.amount, &balances.instant(), &overdraft);
    let mut links = Links::new();
    links.insert("self".into(), Link::plain(format!("{}/funds-confirmations", version.base_path())));
    Ok(Hal(HalPaymentCoverageReport { request: coverage.echo(), result, links }).into_response())
}

/// The bank's optional per-TPP limit (`[[funds_rate_limits]]`): 429 `TMRQ` above it.
async fn rate_limit(state: &AppState, grant: &crate::oauth::model::Grant) -> Result<(), ApiError> {
    let Some(limit) = state.config.funds_rate_limits.iter().find(|l| l.bank == grant.bank) else { return Ok(()) };
    let now = state.clock.now();
    let window = now.strftime("%Y-%m-%dT%H:%M").to_string();
    let calls =
        state.store.count_rate_limited_call(&grant.client_id, grant.bank, "funds-confirmations", &window).await?;
    if calls > limit.requests_per_minute {
        return Err(FundsRefusal::OverLimit { per_minute: limit.requests_per_minute }.into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn eur(text: &str) -> Amount {
        Amount::parse(text, Currency::EUR).unwrap()
    }

    #[test]
    fn covered_up_to_the_cent() {
        assert!(covered(&eur("4179.00"), &eur("4179.00"), &eur("0")));
        assert!(!covered(&eur("4179.01"), &eur("4179.00"), &eur("0")));
        assert!(covered(&eur("105.95"), &eur("-2894.05"), &eur("3000.00")), "the overdraft counts");
        assert!(!covered(&eur("105.96"), &eur("-2894.05"), &eur("3000.00")));
    }

    #[test]
    fn parsing_names_the_code() {
        let ok = json!({"paymentCoverageRequestId": "r", "instructedAmount": {"currency": "EUR", "amount": "1.50"}, "accountId": {"iban": "FR7613807008043001965405158"}});
        assert!(parse(&ok, true).is_ok());
        let code = |v: Value| match parse(&v, false) {
            Err(refusal) => refusal.code(),
            other => panic!("{other:?}"),
        };
        let mut bad = ok.clone();
        bad["instructedAmount"]["amount"] = json!(1.5);
        assert_eq!(code(bad), "FF01", "a number where 1.4.0.47 declares a string");
        let mut bad = ok.clone();
        bad["accountId"]["iban"] = json!("fr7613807008043001965405158");
        assert_eq!(code(bad), "AC01", "not the electronic form");
        let mut bad = ok.clone();
        bad["accountId"]["other"] = json!("AAA");
        assert_eq!(code(bad), "FF01", "other must be a GenericIdentification, even beside an iban");
        let mut bad = ok.clone();
        bad["instructedAmount"]["amount"] = json!("1.505");
        assert_eq!(code(bad), "FF01");
        let mut bad = ok.clone();
        bad["instructedAmount"]["amount"] = json!("-1");
        assert_eq!(code(bad), "FF01");
        let mut bad = ok.clone();
        bad["paymentCoverageRequestId"] = json!("x".repeat(36));
        assert_eq!(code(bad), "FF01");
        let mut bad = ok.clone();
        bad["accountId"] = json!({"iban": "FR7613807008043001965405159"});
        assert_eq!(code(bad), "AC01");
        let mut bad = ok;
        bad["accountId"] = json!({"other": {"identification": "4970100000000154", "schemeName": "CPAN"}});
        assert_eq!(code(bad), "AC01");
    }
}
