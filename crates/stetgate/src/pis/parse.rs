//! Reading a `POST /payment-requests` body: the STET schema first (any version's form, unknown
//! fields refused: `FF01` with serde's words), then the bank's rules, each refusal with its STET
//! reason code (`AC01` account, `RR01` debtor, `RR03` creditor, `CH03` date too far, `AM18` too
//! many instructions, `FF01` anything else).

use super::model::{ExecutionRule, Frequency, Instruction, InstructionStatus, PaymentRefusal, Schedule};
use crate::ledger::PARTY_NAME_MAX;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use stet::ais::AccountIdentification;
use stet::pis::{Beneficiary, CreditTransferTransaction, PaymentRequestResource};
use stet::spec::Definitions;
use stet::{ApiVersion, Currency, Iban};

/// Instructions a bulk payment may carry (v1 takes single payments only).
pub const MAX_INSTRUCTIONS: usize = 100;
/// How far ahead a payment may be dated: 30 days on v1 (the bank's published rule), a year after.
pub fn horizon_days(version: ApiVersion) -> i32 {
    if version == ApiVersion::V1 { 30 } else { 365 }
}
/// The SEPA instant scheme's maximum amount (EPC, since July 2020), in cents.
const INSTANT_MAX_MINOR: i64 = 10_000_000;

/// A request that passed every check.
#[derive(Debug, Clone)]
pub struct Checked {
    pub resource: PaymentRequestResource,
    pub instructions: Vec<Instruction>,
    pub debtor_iban: Option<Iban>,
    pub instant: bool,
    pub batch_booking: bool,
    pub success_url: String,
    pub failure_url: Option<String>,
}

fn format(why: impl Into<String>) -> PaymentRefusal {
    PaymentRefusal::Format(why.into())
}

/// Reads and checks a payment request posted on `version`, `today` being the bank's (Paris) day.
pub fn read(
    body: &[u8],
    version: ApiVersion,
    today: Date,
    tz: &TimeZone,
    definitions: &Definitions,
) -> Result<Checked, PaymentRefusal> {
    let resource: PaymentRequestResource = serde_json::from_slice(body)
        .map_err(|e| format(format!("the body is not a STET PaymentRequestResource: {e}")))?;
    identifier("paymentInformationId", &resource.payment_information_id, version)?;
    parse_instant("creationDateTime", &resource.creation_date_time)?;
    if resource.payment_information_status.is_some() || resource.status_reason_information.is_some() {
        return Err(format("paymentInformationStatus and statusReasonInformation are set by the bank, not in a POST"));
    }
    let count = resource.credit_transfer_transaction.len();
    if count == 0 {
        return Err(format("creditTransferTransaction needs at least one instruction"));
    }
    if usize::try_from(resource.number_of_transactions).ok() != Some(count) {
        return Err(format(format!(
            "numberOfTransactions is {} but creditTransferTransaction holds {count}",
            resource.number_of_transactions
        )));
    }
    let max = if version == ApiVersion::V1 { 1 } else { MAX_INSTRUCTIONS };
    if count > max {
        return Err(PaymentRefusal::TooMany(format!(
            "the bank takes at most {max} instruction(s) per request on {version}"
        )));
    }
    let instant = payment_type(&resource, version)?;
    let (success_url, failure_url) = approach(&resource)?;
    if let Some(bearer) = &resource.charge_bearer
        && bearer != "SLEV"
    {
        return Err(format(format!("chargeBearer {bearer} is not offered: SEPA transfers are SLEV")));
    }
    let debtor_iban = resource.debtor_account.as_ref().map(debtor_account).transpose()?;
    let payment_date =
        resource.requested_execution_date.as_deref().map(|d| paris_day("requestedExecutionDate", d, tz)).transpose()?;
    let mut instructions = Vec::with_capacity(count);
    for (position, transaction) in resource.credit_transfer_transaction.iter().enumerate() {
        let context = Context { version, today, tz, instant, payment_date, beneficiary: resource.beneficiary.as_ref() };
        instructions.push(instruction(position, transaction, &context)?);
    }
    if instructions.iter().any(|i| i.schedule.is_some()) && count > 1 {
        return Err(format("a standing order has exactly one instruction"));
    }
    // Last, so the checks above keep their own reason codes: what the official definition
    // constrains beyond them (lengths, patterns, closed lists, required parts).
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|e| format(e.to_string()))?;
    definitions.check_payment_request(version, &value).map_err(|v| format(v.to_string()))?;
    let batch_booking = resource.batch_booking.unwrap_or(false);
    Ok(Checked { resource, instructions, debtor_iban, instant, batch_booking, success_url, failure_url })
}

/// STET identifiers: 1 to 35 characters (36 from 1.5 on) of letters, digits and ` /-?:().,'`.
fn identifier(field: &str, value: &str, version: ApiVersion) -> Result<(), PaymentRefusal> {
    let max = if version >= ApiVersion::V1_6_2 { 36 } else { 35 };
    let allowed = |c: char| c.is_ascii_alphanumeric() || " /-?:().,'".contains(c);
    if value.is_empty() || value.chars().count() > max || !value.chars().all(allowed) {
        return Err(format(format!("{field} must be 1 to {max} of letters, digits and /-?:().,' (and space)")));
    }
    Ok(())
}

fn parse_instant(field: &str, value: &str) -> Result<jiff::Timestamp, PaymentRefusal> {
    value.parse().map_err(|_| format(format!("{field} {value:?} is not an RFC 3339 date-time with an offset")))
}

/// The Paris day a date-time falls on (STET dates are date-times; the bank executes on days).
fn paris_day(field: &str, value: &str, tz: &TimeZone) -> Result<Date, PaymentRefusal> {
    Ok(parse_instant(field, value)?.to_zoned(tz.clone()).date())
}

/// `paymentTypeInformation`: SEPA only; whether the payment is instant (`INST`).
fn payment_type(resource: &PaymentRequestResource, version: ApiVersion) -> Result<bool, PaymentRefusal> {
    let info = &resource.payment_type_information;
    match info.service_level.as_deref() {
        Some("SEPA") => {}
        None if version != ApiVersion::V1 => {}
        None => return Err(format("paymentTypeInformation.serviceLevel is required on v1: SEPA")),
        Some(other) => {
            return Err(format(format!("serviceLevel {other} is not offered: the bank initiates SEPA transfers")));
        }
    }
    if let Some(priority) = &info.instruction_priority
        && !["HIGH", "NORM"].contains(&priority.as_str())
    {
        return Err(format(format!("instructionPriority {priority} is not HIGH or NORM")));
    }
    if let Some(category) = &info.category_purpose
        && !["CASH", "DVPM", "CORT", "INTC", "TREA"].contains(&category.as_str())
    {
        return Err(format(format!("categoryPurpose {category} is not CASH, DVPM, CORT, INTC or TREA")));
    }
    match info.local_instrument.as_deref() {
        None => Ok(false),
        Some("INST") => Ok(true),
        Some(other) => Err(format(format!("localInstrument {other} is not offered: INST (SEPA instant) or none"))),
    }
}

/// The authentication approach: REDIRECT, with the PISP's report URLs.
fn approach(resource: &PaymentRequestResource) -> Result<(String, Option<String>), PaymentRefusal> {
    let data = &resource.supplementary_data;
    if data.applied_authentication_approach.is_some() {
        return Err(format("supplementaryData.appliedAuthenticationApproach is set by the bank"));
    }
    if !data.accepted_authentication_approach.iter().any(|a| a == "REDIRECT") {
        return Err(PaymentRefusal::NoApproach);
    }
    let success = data
        .successful_report_url
        .as_deref()
        .ok_or_else(|| format("supplementaryData.successfulReportUrl is required: the PSU comes back there"))?;
    report_url("successfulReportUrl", success)?;
    if let Some(failure) = &data.unsuccessful_report_url {
        report_url("unsuccessfulReportUrl", failure)?;
    }
    Ok((success.to_owned(), data.unsuccessful_report_url.clone()))
}

/// A report URL: https, or http on the PISP developer's own machine.
fn report_url(field: &str, value: &str) -> Result<(), PaymentRefusal> {
    let url = url::Url::parse(value).map_err(|_| format(format!("supplementaryData.{field} is not a URL")))?;
    let local = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    if url.scheme() == "https" || (url.scheme() == "http" && local) {
        Ok(())
    } else {
        Err(format(format!("supplementaryData.{field} must be an https URL")))
    }
}

fn debtor_account(account: &AccountIdentification) -> Result<Iban, PaymentRefusal> {
    if let Some(currency) = &account.currency
        && currency != "EUR"
    {
        return Err(format(format!("debtorAccount.currency {currency}: the bank initiates euro payments only")));
    }
    match (&account.iban, &account.other) {
        (Some(iban), None) => Iban::parse_wire(iban).map_err(|_| {
            PaymentRefusal::Account(format!("debtorAccount.iban {iban:?} is not a valid IBAN in the electronic form"))
        }),
        _ => Err(PaymentRefusal::Debtor(
            "debtorAccount must be given by its iban (or left out for the PSU to choose)".into(),
        )),
    }
}

/// What checking one instruction needs of the request.
struct Context<'a> {
    version: ApiVersion,
    today: Date,
    tz: &'a TimeZone,
    instant: bool,
    payment_date: Option<Date>,
    beneficiary: Option<&'a Beneficiary>,
}

fn instruction(position: usize, t: &CreditTransferTransaction, c: &Context<'_>) -> Result<Instruction, PaymentRefusal> {
    let at = |field: &str| format!("creditTransferTransaction[{position}].{field}");
    identifier(&at("paymentId.instructionId"), &t.payment_id.instruction_id, c.version)?;
    match &t.payment_id.end_to_end_id {
        Some(id) => identifier(&at("paymentId.endToEndId"), id, c.version)?,
        None if c.version == ApiVersion::V1 => {
            return Err(format(format!("{} is required on v1", at("paymentId.endToEndId"))));
        }
        None => {}
    }
    if t.transaction_status.is_some() || t.status_reason_information.is_some() {
        return Err(format(format!("{} and statusReasonInformation are set by the bank", at("transactionStatus"))));
    }
    let amount = t.instructed_amount.0;
    if amount.currency != Currency::EUR {
        return Err(format(format!("{}: the bank initiates euro payments only", at("instructedAmount.currency"))));
    }
    let minor = amount.to_minor().ok().filter(|m| *m > 0 && amount.value.scale() <= 2).ok_or_else(|| {
        format(format!("{} must be positive, with at most 2 decimals", at("instructedAmount.amount")))
    })?;
    if c.instant && minor > INSTANT_MAX_MINOR {
        return Err(format(format!("{}: an instant payment is at most 100000.00 EUR", at("instructedAmount.amount"))));
    }
    let beneficiary = t.beneficiary.as_ref().or(c.beneficiary).ok_or_else(|| {
        PaymentRefusal::Creditor(format!("{}: no beneficiary, here or on the payment", at("beneficiary")))
    })?;
    let creditor_name = beneficiary.creditor.name.trim();
    if creditor_name.is_empty() || creditor_name.chars().count() > PARTY_NAME_MAX {
        return Err(PaymentRefusal::Creditor(format!(
            "{} is missing or longer than {PARTY_NAME_MAX}",
            at("beneficiary.creditor.name")
        )));
    }
    let creditor_iban = match &beneficiary.creditor_account {
        Some(AccountIdentification { iban: Some(iban), .. }) => Some(Iban::parse_wire(iban).map_err(|_| {
            PaymentRefusal::Account(format!("{} {iban:?} is not a valid IBAN", at("beneficiary.creditorAccount.iban")))
        })?),
        _ => {
            return Err(PaymentRefusal::Account(format!(
                "{} is required for a SEPA transfer",
                at("beneficiary.creditorAccount.iban")
            )));
        }
    };
    let remittance = remittance(t, c.version, &at)?;
    let (execution_date, schedule) = dates(t, c, &at)?;
    Ok(Instruction {
        position: i64::try_from(position).unwrap_or(i64::MAX),
        instruction_id: t.payment_id.instruction_id.clone(),
        end_to_end_id: t.payment_id.end_to_end_id.clone(),
        amount,
        creditor_name: creditor_name.to_owned(),
        creditor_iban,
        remittance,
        execution_date,
        schedule,
        status: InstructionStatus::Pdng,
        reason: None,
    })
}

fn remittance(
    t: &CreditTransferTransaction,
    version: ApiVersion,
    at: &dyn Fn(&str) -> String,
) -> Result<Vec<String>, PaymentRefusal> {
    let lines = t.remittance_information.as_ref().map(|r| r.lines().to_vec()).unwrap_or_default();
    if version == ApiVersion::V1 && lines.is_empty() {
        return Err(format(format!("{} is required on v1 (one line)", at("remittanceInformation"))));
    }
    if lines.len() > 1 || lines.iter().any(|l| l.chars().count() > 140) {
        return Err(format(format!(
            "{}: one unstructured line of at most 140 characters",
            at("remittanceInformation")
        )));
    }
    Ok(lines)
}

/// The execution day (a standing order's first) and a standing order's schedule.
fn dates(
    t: &CreditTransferTransaction,
    c: &Context<'_>,
    at: &dyn Fn(&str) -> String,
) -> Result<(Date, Option<Schedule>), PaymentRefusal> {
    let own =
        t.requested_execution_date.as_deref().map(|d| paris_day(&at("requestedExecutionDate"), d, c.tz)).transpose()?;
    let characteristics = t.standing_order_characteristics.as_ref();
    let frequency = characteristics.map(|s| s.frequency.as_str()).or(t.frequency.as_deref());
    let schedule = match frequency {
        None => {
            if t.execution_rule.is_some() || t.end_date.is_some() {
                return Err(format(format!(
                    "{}: executionRule and endDate belong to standing orders (with a frequency)",
                    at("frequency")
                )));
            }
            None
        }
        Some(code) => {
            let frequency = Frequency::parse(code).ok_or_else(|| {
                format(format!("{} {code} is not DAIL, WEEK, TOWK, MNTH, TOMN, QUTR, SEMI or YEAR", at("frequency")))
            })?;
            let rule_text =
                characteristics.map(|s| s.execution_rule.as_str()).or(t.execution_rule.as_deref()).unwrap_or("FWNG");
            let rule = ExecutionRule::parse(rule_text)
                .ok_or_else(|| format(format!("{} {rule_text} is not FWNG or PREC", at("executionRule"))))?;
            let end_text = characteristics.and_then(|s| s.end_date.as_deref()).or(t.end_date.as_deref());
            let end = end_text.map(|d| paris_day(&at("endDate"), d, c.tz)).transpose()?;
            Some(Schedule { frequency, rule, end })
        }
    };
    let start = match characteristics {
        Some(s) => Some(paris_day(&at("standingOrderCharacteristics.startDate"), &s.start_date, c.tz)?),
        None => own.or(c.payment_date),
    };
    let day = match (&schedule, start) {
        (Some(_), None) => {
            return Err(format(format!("{}: a standing order needs its first day", at("requestedExecutionDate"))));
        }
        (_, Some(day)) => day,
        (None, None) => c.today,
    };
    if day < c.today {
        return Err(format(format!("{}: {day} is in the past", at("requestedExecutionDate"))));
    }
    let horizon = c.today.checked_add(jiff::Span::new().days(horizon_days(c.version))).unwrap_or(c.today);
    if day > horizon {
        return Err(PaymentRefusal::TooFar(format!(
            "{}: {day} is beyond the bank's horizon ({} days, {horizon})",
            at("requestedExecutionDate"),
            horizon_days(c.version)
        )));
    }
    if let Some(Schedule { end: Some(end), .. }) = &schedule
        && *end < day
    {
        return Err(format(format!("{}: the standing order ends before it starts", at("endDate"))));
    }
    if c.instant && (schedule.is_some() || day > c.today) {
        return Err(format(format!("{}: an instant payment executes at once, today", at("requestedExecutionDate"))));
    }
    Ok((day, schedule))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn paris() -> TimeZone {
        TimeZone::get("Europe/Paris").unwrap()
    }

    fn definitions() -> Definitions {
        Definitions::load().unwrap()
    }

    fn today() -> Date {
        "2026-12-01".parse().unwrap()
    }

    fn body() -> Value {
        json!({
            "paymentInformationId": "MyPmtInfId",
            "creationDateTime": "2026-12-01T10:00:00.000+01:00",
            "numberOfTransactions": 1,
            "initiatingParty": {"name": "MyPisp"},
            "paymentTypeInformation": {"serviceLevel": "SEPA"},
            "beneficiary": {"creditor": {"name": "Bakery"}, "creditorAccount": {"iban": "FR7613807008043001965405158"}},
            "creditTransferTransaction": [{
                "paymentId": {"instructionId": "MyInstrId", "endToEndId": "MyEndToEndId"},
                "instructedAmount": {"currency": "EUR", "amount": "12.25"},
                "remittanceInformation": ["invoice 12"]
            }],
            "supplementaryData": {"acceptedAuthenticationApproach": ["REDIRECT"], "successfulReportUrl": "https://pisp.example/ok"}
        })
    }

    fn code(v: Value, version: ApiVersion) -> Option<&'static str> {
        read(&serde_json::to_vec(&v).unwrap(), version, today(), &paris(), &definitions()).err().and_then(|e| e.code())
    }

    #[test]
    fn a_single_payment_is_read() {
        let checked =
            read(&serde_json::to_vec(&body()).unwrap(), ApiVersion::V1, today(), &paris(), &definitions()).unwrap();
        assert_eq!(checked.instructions.len(), 1);
        assert_eq!(checked.instructions[0].execution_date, today(), "no date: today");
        assert_eq!(checked.instructions[0].creditor_name, "Bakery");
        assert!(!checked.instant);
    }

    #[test]
    fn refusals_carry_the_stet_code() {
        let mut b = body();
        b["supplementaryData"]["acceptedAuthenticationApproach"] = json!(["EMBEDDED"]);
        assert_eq!(code(b, ApiVersion::V1_6_2), Some("FF01"));
        let mut b = body();
        b["numberOfTransactions"] = json!(2);
        assert_eq!(code(b, ApiVersion::V1), Some("FF01"), "the count must match");
        let mut b = body();
        let t = b["creditTransferTransaction"][0].clone();
        b["creditTransferTransaction"] = json!([t.clone(), t]);
        b["numberOfTransactions"] = json!(2);
        assert_eq!(code(b.clone(), ApiVersion::V1), Some("AM18"), "v1 takes single payments");
        assert_eq!(code(b, ApiVersion::V1_4_2), None, "a bulk payment from 1.4.2 on");
        let mut b = body();
        b["requestedExecutionDate"] = json!("2027-02-01T00:00:00+01:00");
        assert_eq!(code(b.clone(), ApiVersion::V1), Some("CH03"), "beyond 30 days");
        assert_eq!(code(b, ApiVersion::V1_6_2), None);
        let mut b = body();
        b["debtorAccount"] = json!({"iban": "FR7613807008043001965405159"});
        assert_eq!(code(b, ApiVersion::V1), Some("AC01"));
        let mut b = body();
        b["beneficiary"]["creditor"]["name"] = json!(" ");
        assert_eq!(code(b, ApiVersion::V1), Some("RR03"));
        let mut b = body();
        b["creditTransferTransaction"][0]["instructedAmount"]["amount"] = json!(12.25);
        assert_eq!(code(b, ApiVersion::V1_6_2), None, "a number from 1.4.2 on, and read on every version");
        let mut b = body();
        b["creditTransferTransaction"][0]["instructedAmount"]["currency"] = json!("USD");
        assert_eq!(code(b, ApiVersion::V1), Some("FF01"));
        let mut b = body();
        b["paymentTypeInformation"]["localInstrument"] = json!("INST");
        b["requestedExecutionDate"] = json!("2026-12-05T00:00:00+01:00");
        assert_eq!(code(b, ApiVersion::V1_4_2), Some("FF01"), "an instant payment is not future-dated");
        let mut b = body();
        b["requestedExecutionDate"] = json!("2026-11-30T12:00:00+01:00");
        assert_eq!(code(b, ApiVersion::V1_4_2), Some("FF01"), "in the past");
        let mut b = body();
        b["supplementaryData"]["successfulReportUrl"] = json!("http://pisp.example/ok");
        assert_eq!(code(b, ApiVersion::V1), Some("FF01"), "not https");
    }

    #[test]
    fn standing_orders_in_either_form() {
        let mut flat = body();
        flat["creditTransferTransaction"][0]["requestedExecutionDate"] = json!("2026-12-05T00:00:00+01:00");
        flat["creditTransferTransaction"][0]["frequency"] = json!("MNTH");
        flat["creditTransferTransaction"][0]["executionRule"] = json!("PREC");
        flat["creditTransferTransaction"][0]["endDate"] = json!("2027-06-05T00:00:00+02:00");
        let mut grouped = body();
        grouped["creditTransferTransaction"][0]["standingOrderCharacteristics"] = json!({
            "startDate": "2026-12-05T00:00:00+01:00", "frequency": "MNTH", "executionRule": "PREC",
            "endDate": "2027-06-05T00:00:00+02:00"
        });
        for b in [flat, grouped] {
            let c =
                read(&serde_json::to_vec(&b).unwrap(), ApiVersion::V1_6_2, today(), &paris(), &definitions()).unwrap();
            let i = &c.instructions[0];
            assert_eq!(i.execution_date.to_string(), "2026-12-05");
            let s = i.schedule.unwrap();
            assert_eq!((s.frequency, s.rule), (Frequency::Monthly, ExecutionRule::Preceding));
            assert_eq!(s.end.unwrap().to_string(), "2027-06-05");
        }
    }
}
