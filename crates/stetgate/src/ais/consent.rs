//! The mixed-consent model, as the bank publishes it: a TPP first sees every eligible account of
//! the PSU without resource id, links or balances; once it sends `PUT /consents`, each account it
//! was granted something on gains its resource id and the links of what was granted. Each consent
//! replaces the previous one; a consent granting nothing revokes everything.

pub use super::model::{AccessKind, AisConsent};
use crate::ledger::HeldAccount;
use stet::ais::{Access, AccountIdentification};
use stet::{Iban, ResourceId};

/// Why a consent body is refused (400, naming the culprit; the previous consent stays).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConsentError {
    #[error("the consent body is not a STET Access object: {0}")]
    Shape(String),
    #[error("{field}: {value:?} is not a valid IBAN")]
    MalformedIban { field: &'static str, value: String },
    #[error("{field}: {value} is not an account of this PSU at this bank")]
    NotThePsus { field: &'static str, value: String },
    #[error("{field}: an account is referenced by neither iban nor other {{identification, schemeName: BANK}}")]
    NoReference { field: &'static str },
}

/// Reads the body of `PUT /consents` strictly, as the STET `Access` schema has it: a JSON object
/// (never an array read field by field) with `balances`, `transactions` (lists of account
/// references), `trustedBeneficiaries` and `psuIdentity` (booleans) all present, `overdrafts` from
/// v1.6.2 on, `owners` accepted and ignored there, and nothing else: a misspelled key is refused, not
/// read as "nothing granted". An empty body is the bank's "PUT /consents with no data", which
/// withdraws everything.
pub fn parse_access(body: &[u8], with_overdrafts: bool) -> Result<Access, ConsentError> {
    if body.is_empty() {
        return Ok(Access::default());
    }
    let shape = |why: String| ConsentError::Shape(why);
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| shape(format!("the body is not JSON ({e})")))?;
    let object = value.as_object().ok_or_else(|| shape("the body must be a JSON object".into()))?;
    let lists: &[&str] = if with_overdrafts {
        &["balances", "transactions", "overdrafts", "owners"]
    } else {
        &["balances", "transactions"]
    };
    for (key, field) in object {
        if lists.contains(&key.as_str()) {
            check_references(key, field)?;
        } else if ["trustedBeneficiaries", "psuIdentity"].contains(&key.as_str()) {
            if !field.is_boolean() {
                return Err(shape(format!("{key} must be true or false")));
            }
        } else if key == "overdrafts" || key == "owners" {
            return Err(shape(format!("{key} is part of the consent from v1.6.2 on, not in this version")));
        } else {
            return Err(shape(format!(
                "{key} is not a field of Access (balances, transactions, trustedBeneficiaries, psuIdentity)"
            )));
        }
    }
    for required in ["balances", "transactions", "trustedBeneficiaries", "psuIdentity"] {
        if !object.contains_key(required) {
            return Err(shape(format!("{required} is missing (every Access field is required; send [] or false)")));
        }
    }
    serde_json::from_value(value).map_err(|e| shape(e.to_string()))
}

/// A list of account references: objects `{iban}` or `{other: {identification, schemeName}}`.
fn check_references(field: &str, value: &serde_json::Value) -> Result<(), ConsentError> {
    let shape = |why: String| ConsentError::Shape(why);
    let items = value.as_array().ok_or_else(|| shape(format!("{field} must be a list of account references")))?;
    for (i, item) in items.iter().enumerate() {
        let reference =
            item.as_object().ok_or_else(|| shape(format!("{field}[{i}] must be an object {{\"iban\": ...}}")))?;
        for (key, v) in reference {
            let ok = match key.as_str() {
                "iban" | "currency" => v.is_string(),
                "other" => v.as_object().is_some_and(|o| {
                    // GenericIdentification's limits: identification and schemeName 70, issuer 35.
                    let text =
                        |k: &str, max: usize| o.get(k).and_then(|v| v.as_str()).map(|s| s.chars().count() <= max);
                    text("identification", 70) == Some(true)
                        && text("schemeName", 70) == Some(true)
                        && text("issuer", 35) != Some(false)
                        && o.get("issuer").is_none_or(serde_json::Value::is_string)
                        && o.keys().all(|k| ["identification", "schemeName", "issuer"].contains(&k.as_str()))
                }),
                _ => false,
            };
            if !ok {
                return Err(shape(format!(
                    "{field}[{i}].{key} is not an account reference (iban, or other {{identification ≤70, schemeName ≤70, issuer ≤35}})"
                )));
            }
        }
    }
    Ok(())
}

/// Turns the body of `PUT /consents` into a consent on the PSU's accounts. `overdrafts` counts in
/// v1.6.2 only; `trustedBeneficiaries` and `owners` are accepted and ignored (not offered by the bank).
pub fn from_access(
    access: &Access,
    accounts: &[HeldAccount],
    with_overdrafts: bool,
) -> Result<AisConsent, ConsentError> {
    let resolve = |field: &'static str, reference: &AccountIdentification| -> Result<ResourceId, ConsentError> {
        if let Some(iban) = &reference.iban {
            let iban =
                Iban::parse_wire(iban).map_err(|_| ConsentError::MalformedIban { field, value: iban.clone() })?;
            return accounts
                .iter()
                .find(|h| h.account.iban == iban)
                .map(|h| h.account.resource_id.clone())
                .ok_or_else(|| ConsentError::NotThePsus { field, value: iban.to_string() });
        }
        if let Some(other) = &reference.other {
            return accounts
                .iter()
                .find(|h| {
                    h.account.resource_id.as_str() == other.identification
                        && other.scheme_name.eq_ignore_ascii_case("BANK")
                })
                .map(|h| h.account.resource_id.clone())
                .ok_or_else(|| ConsentError::NotThePsus { field, value: other.identification.clone() });
        }
        Err(ConsentError::NoReference { field })
    };
    let mut consent = AisConsent { psu_identity: access.psu_identity, ..AisConsent::default() };
    for reference in &access.balances {
        consent.balances.insert(resolve("balances", reference)?);
    }
    for reference in &access.transactions {
        consent.transactions.insert(resolve("transactions", reference)?);
    }
    if with_overdrafts {
        for reference in &access.overdrafts {
            consent.overdrafts.insert(resolve("overdrafts", reference)?);
        }
    }
    Ok(consent)
}
