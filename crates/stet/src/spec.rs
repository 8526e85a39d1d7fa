//! STET's official definitions (`spec/`, CC BY 3.0 FR, STET), to hold a posted body to the
//! constraints the types here do not carry: lengths, patterns, closed lists, required parts of
//! optional structures (a `postalAddress` without its `country`, a 36-character `issuer` ...).
//!
//! A body is checked against the file closest to the version it was posted on: 1.4.0.47 for `/v1`
//! and `/v1.4.2` (no official 1.4.2 file exists), 1.5.0.43 for `/v1.6.2`. The bank's deliberate
//! differences are undone on a copy before the check, so the check judges only what the bank
//! does not decide otherwise: amounts are read as strings or numbers and remittance as lines or
//! `{unstructured, structured}` in every version (docs/pisp.md).

use crate::ApiVersion;
use jsonschema::{Draft, Validator};
use serde_json::{Value, json};

const STET_1_4_0_47: &str = include_str!("../spec/stet-psd2-v1.4.0.47.swagger.json");
const STET_1_5_0_43: &str = include_str!("../spec/stet-psd2-v1.5.0.43-oas3.json");

/// What a body breaks in the official definition: where, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The file it was checked against, e.g. `STET 1.4.0.47`.
    pub definition: &'static str,
    /// A JSON pointer into the body (`/creditTransferTransaction/0/beneficiary/creditor/name`).
    pub path: String,
    /// The rule broken, in the validator's words, the offending value shortened.
    pub rule: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let path = if self.path.is_empty() { "/" } else { &self.path };
        write!(f, "{}, {path}: {}", self.definition, self.rule)
    }
}

/// A definition that could not be made into a validator (the embedded files are fixed, so this
/// is a defect of the build, refused at start-up).
#[derive(Debug, thiserror::Error)]
#[error("STET's definition {name} ({schema}) is unusable: {why}")]
pub struct DefinitionError {
    name: &'static str,
    schema: &'static str,
    why: String,
}

/// The compiled schema of one definition.
struct Compiled {
    name: &'static str,
    validator: Validator,
}

impl Compiled {
    fn swagger_2(name: &'static str, text: &str, definition: &'static str) -> Result<Compiled, DefinitionError> {
        let fail = |why: String| DefinitionError { name, schema: definition, why };
        let spec: Value = serde_json::from_str(text).map_err(|e| fail(e.to_string()))?;
        let schema =
            json!({"definitions": spec["definitions"], "allOf": [{"$ref": format!("#/definitions/{definition}")}]});
        let validator = jsonschema::options()
            .with_draft(Draft::Draft4)
            .should_validate_formats(true)
            .build(&schema)
            .map_err(|e| fail(e.to_string()))?;
        Ok(Compiled { name, validator })
    }

    fn openapi_3(name: &'static str, text: &str, schema_name: &'static str) -> Result<Compiled, DefinitionError> {
        let fail = |why: String| DefinitionError { name, schema: schema_name, why };
        let spec: Value = serde_json::from_str(text).map_err(|e| fail(e.to_string()))?;
        let schema = json!({"components": spec["components"], "allOf": [{"$ref": format!("#/components/schemas/{schema_name}")}]});
        // OpenAPI's formats (`float`, `int32` ...) are not JSON Schema's: types and patterns only.
        let validator =
            jsonschema::options().with_draft(Draft::Draft4).build(&schema).map_err(|e| fail(e.to_string()))?;
        Ok(Compiled { name, validator })
    }

    fn first_violation(&self, body: &Value) -> Option<Violation> {
        let error = self.validator.iter_errors(body).next()?;
        Some(Violation {
            definition: self.name,
            path: error.instance_path().to_string(),
            rule: shortened(&error.to_string()),
        })
    }
}

/// The validator's message with each long quoted value cut to its first characters (a fuzzed
/// 10,000-character name is not echoed back whole; STET's ErrorModel holds 140 characters).
fn shortened(message: &str) -> String {
    const KEEP: usize = 20;
    let mut out = String::with_capacity(message.len().min(200));
    let mut parts = message.split('"');
    if let Some(first) = parts.next() {
        out.push_str(first);
    }
    for (i, part) in parts.enumerate() {
        out.push('"');
        // Odd pieces (the 1st, 3rd ... after a quote) are inside quotes.
        if i % 2 == 0 && part.chars().count() > KEEP {
            out.extend(part.chars().take(KEEP));
            out.push('…');
        } else {
            out.push_str(part);
        }
    }
    out
}

/// The definitions bodies are checked against, compiled once (at the server's start: about a
/// megabyte of JSON made into validators) and shared.
pub struct Definitions {
    payment_request_1_4: Compiled,
    payment_request_1_5: Compiled,
}

impl Definitions {
    pub fn load() -> Result<Definitions, DefinitionError> {
        Ok(Definitions {
            payment_request_1_4: Compiled::swagger_2("STET 1.4.0.47", STET_1_4_0_47, "PaymentRequestResource")?,
            payment_request_1_5: Compiled::openapi_3("STET 1.5.0.43", STET_1_5_0_43, "PaymentRequestResource")?,
        })
    }

    /// Checks a `POST /payment-requests` body posted on `version` against the official
    /// definition closest to it; the first rule it breaks.
    pub fn check_payment_request(&self, version: ApiVersion, body: &Value) -> Result<(), Violation> {
        let mut copy = body.clone();
        let compiled = if version >= ApiVersion::V1_6_2 {
            as_1_5(&mut copy);
            &self.payment_request_1_5
        } else {
            as_1_4(&mut copy);
            &self.payment_request_1_4
        };
        compiled.first_violation(&copy).map_or(Ok(()), Err)
    }
}

/// 1.4.0.47's forms: amounts as strings, remittance as lines.
fn as_1_4(body: &mut Value) {
    each_instruction(body, |instruction| {
        if let Some(Value::Number(n)) = instruction.pointer("/instructedAmount/amount").cloned() {
            instruction["instructedAmount"]["amount"] = Value::String(n.to_string());
        }
        if let Some(unstructured) = instruction.pointer("/remittanceInformation/unstructured").cloned() {
            instruction["remittanceInformation"] = unstructured;
        } else if instruction.pointer("/remittanceInformation/structured").is_some() {
            instruction["remittanceInformation"] = json!([]);
        }
    });
}

/// 1.5.0.43's forms: amounts as numbers, remittance as `{unstructured}`, and a payment-level
/// beneficiary or date (the 1.4.x place, which the bank still reads) moved onto each instruction;
/// no date at all is today for the bank, so the request's creation time stands in for it.
fn as_1_5(body: &mut Value) {
    let mut shared: Vec<(&str, Value)> = ["beneficiary", "requestedExecutionDate"]
        .into_iter()
        .filter_map(|field| Some((field, body.as_object_mut()?.remove(field)?)))
        .collect();
    if !shared.iter().any(|(field, _)| *field == "requestedExecutionDate")
        && let Some(created) = body.get("creationDateTime").cloned()
    {
        shared.push(("requestedExecutionDate", created));
    }
    each_instruction(body, |instruction| {
        for (field, value) in &shared {
            if instruction.get(*field).is_none() {
                instruction[*field] = value.clone();
            }
        }
        if let Some(n) =
            instruction.pointer("/instructedAmount/amount").and_then(Value::as_str).and_then(|s| s.parse::<f64>().ok())
        {
            instruction["instructedAmount"]["amount"] = json!(n);
        }
        if let Some(lines @ Value::Array(_)) = instruction.get("remittanceInformation").cloned() {
            instruction["remittanceInformation"] = json!({"unstructured": lines});
        }
    });
}

fn each_instruction(body: &mut Value, mut change: impl FnMut(&mut Value)) {
    if let Some(Value::Array(instructions)) = body.get_mut("creditTransferTransaction") {
        instructions.iter_mut().filter(|i| i.is_object()).for_each(&mut change);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body() -> Value {
        json!({
            "paymentInformationId": "PI-1",
            "creationDateTime": "2026-11-21T11:00:00.000+01:00",
            "numberOfTransactions": 1,
            "initiatingParty": {"name": "My PISP"},
            "paymentTypeInformation": {"serviceLevel": "SEPA"},
            "beneficiary": {"creditor": {"name": "Boulangerie Paul"}, "creditorAccount": {"iban": "FR7630004000031234567890143"}},
            "creditTransferTransaction": [{
                "paymentId": {"instructionId": "I-1", "endToEndId": "E-1"},
                "instructedAmount": {"currency": "EUR", "amount": "12.25"},
                "remittanceInformation": ["Commande 42"]
            }],
            "supplementaryData": {"acceptedAuthenticationApproach": ["REDIRECT"], "successfulReportUrl": "https://pisp.example/ok"}
        })
    }

    fn check_payment_request(version: ApiVersion, body: &Value) -> Result<(), Violation> {
        Definitions::load().unwrap().check_payment_request(version, body)
    }

    #[test]
    fn a_valid_body_passes_in_every_form_the_bank_reads() {
        for version in [ApiVersion::V1, ApiVersion::V1_4_2, ApiVersion::V1_6_2] {
            assert_eq!(check_payment_request(version, &body()), Ok(()), "{version}");
            let mut numbers = body();
            numbers["creditTransferTransaction"][0]["instructedAmount"]["amount"] = json!(12.25);
            numbers["creditTransferTransaction"][0]["remittanceInformation"] = json!({"unstructured": ["Commande 42"]});
            assert_eq!(check_payment_request(version, &numbers), Ok(()), "{version}");
        }
    }

    #[test]
    fn a_broken_constraint_is_named_with_its_place() {
        let mut long = body();
        long["beneficiary"]["creditor"]["name"] = json!("N".repeat(5000));
        let violation = check_payment_request(ApiVersion::V1, &long).unwrap_err();
        assert_eq!(violation.path, "/beneficiary/creditor/name");
        assert!(violation.rule.contains("longer than 140"), "{violation}");
        assert!(violation.to_string().chars().count() < 100, "the value is shortened: {violation}");

        let mut address = body();
        address["debtor"] = json!({"name": "Lea", "postalAddress": {"addressLine": ["1 rue X"]}});
        let violation = check_payment_request(ApiVersion::V1_6_2, &address).unwrap_err();
        assert_eq!(violation.path, "/debtor/postalAddress");
        assert!(violation.rule.contains("country"), "{violation}");
        assert!(violation.to_string().starts_with("STET 1.5.0.43, /debtor/postalAddress: "), "{violation}");
    }
}
