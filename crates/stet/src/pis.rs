//! Payment initiation (STET `/payment-requests`): the payment request a PISP sends and the bank
//! echoes, the creation answer, the confirmation body and the status report.
//!
//! One set of types covers 1.4.0.47, 1.4.2 and the 1.5/1.6 shape, because a PISP may send any of
//! them and the bank answers each version in its own form (`shared/stet/PISP.md`):
//! - an amount is a string in 1.4.0.47 and a number from 1.4.2 on: both are read, and written as
//!   strings, as the bank writes them;
//! - remittance is an array of lines in 1.4.0.47 and `{unstructured, structured}` from 1.4.2 on;
//! - the execution date may sit on the payment or on each instruction, and a standing order's
//!   schedule either flat on its instruction (1.4.x) or in `standingOrderCharacteristics` (1.5).
//!
//! Objects refuse unknown fields: a misspelt optional field (`debtorAcount`) must not silently
//! turn into a payment from another account. Rarely used ISO 20022 blocks the bank does not act on
//! (exchange rates, intermediary agents, structured remittance ...) are kept as JSON and echoed.

use crate::ais::{AccountIdentification, GenericIdentification};
use crate::amount::{AMOUNT_PATTERN, amount_object};
use crate::{Amount, Currency, Links};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::borrow::Cow;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, Type};

/// `PaymentRequestResource`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PaymentRequestResource {
    /// Set by the bank.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_id: Option<String>,
    pub payment_information_id: String,
    pub creation_date_time: String,
    pub number_of_transactions: i64,
    pub initiating_party: PartyIdentification,
    pub payment_type_information: PaymentTypeInformation,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub debtor: Option<PartyIdentification>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub debtor_account: Option<AccountIdentification>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub debtor_agent: Option<FinancialInstitution>,
    /// The creditor, when every instruction pays the same one (always for a standing order).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub beneficiary: Option<Beneficiary>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ultimate_creditor: Option<PartyIdentification>,
    /// 1.4.0.47 (instruction level from 1.4.2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charge_bearer: Option<String>,
    /// Set by the bank; in a cancellation request (PUT), `CANC` (1.4.2+) or `RJCT` (1.4.0.47).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_information_status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_reason_information: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub funds_availability: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub booking: Option<bool>,
    /// One date for every instruction (1.4.x; removed in 1.5, still sent by banks' PISPs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_execution_date: Option<String>,
    /// 1.4.2+: one debit for the whole payment (true) or one per instruction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_booking: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accept_debtor_account_change: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accept_charge_handling_change: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accept_instant_payment_downgrade: Option<bool>,
    pub credit_transfer_transaction: Vec<CreditTransferTransaction>,
    pub supplementary_data: SupplementaryData,
}

/// `PartyIdentification`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PartyIdentification {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_address: Option<PostalAddress>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organisation_id: Option<GenericIdentification>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_id: Option<GenericIdentification>,
    /// 1.5 (CR355/CR360): kept as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_and_place_of_birth: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_details: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lei: Option<String>,
}

impl PartyIdentification {
    pub fn named(name: impl Into<String>) -> Self {
        PartyIdentification {
            name: name.into(),
            postal_address: None,
            organisation_id: None,
            private_id: None,
            date_and_place_of_birth: None,
            contact_details: None,
            lei: None,
        }
    }
}

/// `PostalAddress {country, addressLine[]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PostalAddress {
    pub country: String,
    #[serde(default)]
    pub address_line: Vec<String>,
}

/// `FinancialInstitutionIdentification`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FinancialInstitution {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bic_fi: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clearing_system_member_id: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_address: Option<PostalAddress>,
}

/// `Beneficiary`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Beneficiary {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_trusted: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creditor_agent: Option<FinancialInstitution>,
    pub creditor: PartyIdentification,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creditor_account: Option<AccountIdentification>,
}

/// `PaymentTypeInformation`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PaymentTypeInformation {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instruction_priority: Option<String>,
    /// `SEPA` (required in 1.4.0.47).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_level: Option<String>,
    /// `INST`: SEPA instant credit transfer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_instrument: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category_purpose: Option<String>,
}

/// `PaymentIdentification`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PaymentIdentification {
    /// Set by the bank (1.4.0.47).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_id: Option<String>,
    pub instruction_id: String,
    /// Required in 1.4.0.47, optional from 1.4.2 on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_to_end_id: Option<String>,
    /// 1.5 (CR362).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uetr: Option<String>,
}

/// An instructed amount: read from a string (1.4.0.47, and the bank's own form) or a number
/// (1.4.2 and later), written as a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PaymentAmount(pub Amount);

impl Serialize for PaymentAmount {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<'de> Deserialize<'de> for PaymentAmount {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Wire {
            currency: String,
            amount: Value,
        }
        let wire = Wire::deserialize(d)?;
        let currency = Currency::parse(&wire.currency).map_err(serde::de::Error::custom)?;
        let text = match wire.amount {
            Value::String(text) => text,
            Value::Number(n) => n.to_string(),
            _ => return Err(serde::de::Error::custom("amount must be a decimal string (\"12.25\") or a number")),
        };
        Amount::parse(&text, currency).map(PaymentAmount).map_err(serde::de::Error::custom)
    }
}

/// `{currency, amount}` with the amount as a decimal string or a JSON number.
impl utoipa::PartialSchema for PaymentAmount {
    fn schema() -> RefOr<Schema> {
        let text = ObjectBuilder::new().schema_type(Type::String).pattern(Some(AMOUNT_PATTERN));
        let number = ObjectBuilder::new().schema_type(Type::Number);
        amount_object(OneOfBuilder::new().item(text).item(number).into())
    }
}

impl utoipa::ToSchema for PaymentAmount {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("InstructedAmount")
    }
}

/// Remittance information: lines (1.4.0.47) or `{unstructured, structured}` (1.4.2 and later).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum Remittance {
    Lines(Vec<String>),
    Object(RemittanceInformation),
}

impl Remittance {
    /// The unstructured lines, whichever the form.
    pub fn lines(&self) -> &[String] {
        match self {
            Remittance::Lines(lines) => lines,
            Remittance::Object(o) => &o.unstructured,
        }
    }
}

/// `RemittanceInformation` (1.4.2 and later).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RemittanceInformation {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unstructured: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub structured: Vec<Value>,
}

/// A standing order's schedule, as 1.5 groups it (1.4.x puts the same fields on the instruction).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StandingOrderCharacteristics {
    pub start_date: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_date: Option<String>,
    pub execution_rule: String,
    pub frequency: String,
}

/// `CreditTransferTransaction` (1.5: `CreditTransferTransactionResource`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreditTransferTransaction {
    pub payment_id: PaymentIdentification,
    /// Set by the bank (1.5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_execution_date: Option<String>,
    /// Standing orders, 1.4.x form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_rule: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frequency: Option<String>,
    /// Standing orders, 1.5 form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub standing_order_characteristics: Option<StandingOrderCharacteristics>,
    pub instructed_amount: PaymentAmount,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equivalent_amount: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exchange_rate_information: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub beneficiary: Option<Beneficiary>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ultimate_debtor: Option<PartyIdentification>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ultimate_creditor: Option<PartyIdentification>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intermediary_agent: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instruction_for_creditor_agent: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regulatory_reporting_codes: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remittance_information: Option<Remittance>,
    /// Set by the bank.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_reason_information: Option<String>,
    /// Set by the bank (1.5, CR217 and CR412).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancellable_till: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acceptance_date_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub debtor_decision_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applied_execution_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supplementary_data: Option<Value>,
}

impl CreditTransferTransaction {
    /// An instruction with its required fields only.
    pub fn new(instruction_id: impl Into<String>, amount: Amount) -> Self {
        CreditTransferTransaction {
            payment_id: PaymentIdentification {
                resource_id: None,
                instruction_id: instruction_id.into(),
                end_to_end_id: None,
                uetr: None,
            },
            resource_id: None,
            requested_execution_date: None,
            end_date: None,
            execution_rule: None,
            frequency: None,
            standing_order_characteristics: None,
            instructed_amount: PaymentAmount(amount),
            equivalent_amount: None,
            exchange_rate_information: None,
            beneficiary: None,
            ultimate_debtor: None,
            ultimate_creditor: None,
            intermediary_agent: None,
            instruction_for_creditor_agent: None,
            purpose: None,
            regulatory_reporting_codes: None,
            remittance_information: None,
            transaction_status: None,
            status_reason_information: None,
            cancellable_till: None,
            acceptance_date_time: None,
            debtor_decision_date: None,
            applied_execution_date: None,
            supplementary_data: None,
        }
    }
}

/// `SupplementaryData`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SupplementaryData {
    /// REDIRECT, DECOUPLED, EMBEDDED (EMBEDDED-1-FACTOR from 1.4.2), NONE (1.5).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accepted_authentication_approach: Vec<String>,
    /// Set by the bank.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applied_authentication_approach: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applied_authentication: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sca_hint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub successful_report_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unsuccessful_report_url: Option<String>,
}

/// The creation answer (`HalPaymentRequestCreation`, 1.5 `HalAuthenticationRequest`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaymentRequestCreated {
    /// `REDIRECT` (the bank offers no other); `NONE` answers a 1.6.2 cancellation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applied_authentication_approach: Option<String>,
    /// 1.4.2 and later.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    #[serde(rename = "_links", default)]
    pub links: Links,
}

/// `ConfirmationResource {nonce, psuAuthenticationFactor}` (1.4.0.47: the factor only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConfirmationResource {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub psu_authentication_factor: Option<String>,
}

/// `HalPaymentRequest`: the request with its statuses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HalPaymentRequest {
    pub payment_request: PaymentRequestResource,
    #[serde(rename = "_links")]
    pub links: Links,
}

/// `HalCreditTransfertTransactions` (sic, 1.5): a standing order's executions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HalCreditTransferTransactions {
    pub credit_transfer_transaction: Vec<CreditTransferTransaction>,
    #[serde(rename = "_links")]
    pub links: Links,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn amounts_are_read_from_strings_or_numbers_and_written_as_strings() {
        for wire in [json!({"currency": "EUR", "amount": "12.25"}), json!({"currency": "EUR", "amount": 12.25})] {
            let a: PaymentAmount = serde_json::from_value(wire).unwrap();
            assert_eq!(serde_json::to_value(a).unwrap(), json!({"currency": "EUR", "amount": "12.25"}));
        }
        assert!(serde_json::from_value::<PaymentAmount>(json!({"currency": "EUR", "amount": true})).is_err());
    }

    #[test]
    fn remittance_in_either_form() {
        let lines: Remittance = serde_json::from_value(json!(["invoice 12"])).unwrap();
        let object: Remittance = serde_json::from_value(json!({"unstructured": ["invoice 12"]})).unwrap();
        assert_eq!(lines.lines(), object.lines());
        assert!(serde_json::from_value::<Remittance>(json!({"unstructred": ["x"]})).is_err(), "a misspelt key");
    }

    #[test]
    fn a_misspelt_field_is_refused() {
        let mut body = json!({
            "paymentInformationId": "p", "creationDateTime": "2026-12-01T10:00:00+01:00", "numberOfTransactions": 1,
            "initiatingParty": {"name": "PISP"}, "paymentTypeInformation": {"serviceLevel": "SEPA"},
            "creditTransferTransaction": [{"paymentId": {"instructionId": "i"}, "instructedAmount": {"currency": "EUR", "amount": "1.00"}}],
            "supplementaryData": {"acceptedAuthenticationApproach": ["REDIRECT"]}
        });
        assert!(serde_json::from_value::<PaymentRequestResource>(body.clone()).is_ok());
        body["debtorAcount"] = json!({"iban": "FR7613807008043001965405158"});
        let e = serde_json::from_value::<PaymentRequestResource>(body).unwrap_err().to_string();
        assert!(e.contains("debtorAcount"), "{e}");
    }
}
