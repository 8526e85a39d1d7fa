//! A payment request as the bank answers it on each version: the request as posted, with the
//! bank's statuses, in that version's forms (amounts always as strings, as the bank writes them).
//!
//! | | v1 (1.4.0.47) | v1.4.2 | v1.6.2 (1.5 shape) |
//! |---|---|---|---|
//! | remittance | lines | `{unstructured}` | `{unstructured}` |
//! | standing order | flat on the instruction | flat | `standingOrderCharacteristics` |
//! | cancelled | RJCT + DS02 | CANC + DS02 | CANC + DS02 |
//! | instruction extras | – | – | `resourceId`, `cancellableTill`, `appliedExecutionDate` |

use super::model::{Execution, InstructionStatus, PaymentRequest, PaymentStatus};
use jiff::tz::TimeZone;
use stet::pis::{
    CreditTransferTransaction, HalPaymentRequest, PaymentRequestResource, Remittance, RemittanceInformation,
    StandingOrderCharacteristics,
};
use stet::{ApiVersion, Link, Links};

/// The path of a request on `version`.
pub fn path(version: ApiVersion, id: &str) -> String {
    format!("{}/payment-requests/{id}", version.base_path())
}

/// `HalPaymentRequest` for `p` on `version`; `None` if the stored request cannot be read back.
pub fn hal(
    p: &PaymentRequest,
    version: ApiVersion,
    debtor_iban: Option<&str>,
    executions: &[Execution],
    tz: &TimeZone,
) -> Result<HalPaymentRequest, serde_json::Error> {
    let mut resource: PaymentRequestResource = serde_json::from_str(&p.request)?;
    resource.resource_id = Some(p.id.to_string());
    let (status, reason) = match (p.status, version) {
        // 1.4.0.47 has no CANC: a cancellation is RJCT with DS02.
        (PaymentStatus::Canc, ApiVersion::V1) => ("RJCT", p.reason.map(|r| r.as_str())),
        (status, _) => (status.as_str(), p.reason.map(|r| r.as_str())),
    };
    resource.payment_information_status = Some(status.to_owned());
    resource.status_reason_information = reason.map(str::to_owned);
    if let (Some(iban), None) = (debtor_iban, &resource.debtor_account) {
        resource.debtor_account =
            Some(stet::ais::AccountIdentification { iban: Some(iban.to_owned()), ..Default::default() });
    }
    resource.supplementary_data.applied_authentication_approach = Some("REDIRECT".into());
    if version >= ApiVersion::V1_6_2 && p.approved_at.is_some() {
        resource.supplementary_data.applied_authentication = Some("strongAuthentication".into());
    }
    for (t, i) in resource.credit_transfer_transaction.iter_mut().zip(&p.instructions) {
        let status = match (i.status, version) {
            (InstructionStatus::Canc, ApiVersion::V1) => InstructionStatus::Rjct,
            (status, _) => status,
        };
        t.transaction_status = Some(status.as_str().to_owned());
        t.status_reason_information = i.reason.map(|r| r.as_str().to_owned());
        shape_instruction(t, version);
        if version >= ApiVersion::V1_6_2 {
            // 1.5 (CR279) puts the beneficiary and the date on every instruction.
            if t.beneficiary.is_none() {
                t.beneficiary = resource.beneficiary.clone();
            }
            if t.requested_execution_date.is_none() {
                t.requested_execution_date = midnight(i.execution_date, tz);
            }
            t.resource_id = Some(format!("{}-{}", p.id, i.position));
            let last = executions.iter().rev().find(|e| e.booked && (e.position == i.position || e.position == -1));
            t.applied_execution_date = last.and_then(|e| midnight(e.due_date, tz));
            if i.status == InstructionStatus::Acsp && (i.schedule.is_some() || last.is_none()) {
                t.cancellable_till = midnight(i.execution_date, tz);
            }
        }
    }
    Ok(HalPaymentRequest { payment_request: resource, links: links(p, version) })
}

/// Remittance and standing-order schedule in `version`'s form.
fn shape_instruction(t: &mut CreditTransferTransaction, version: ApiVersion) {
    let lines = t.remittance_information.as_ref().map(|r| r.lines().to_vec());
    t.remittance_information = lines.map(|lines| match version {
        ApiVersion::V1 => Remittance::Lines(lines),
        _ => Remittance::Object(RemittanceInformation {
            unstructured: lines,
            structured: match &t.remittance_information {
                Some(Remittance::Object(o)) => o.structured.clone(),
                _ => Vec::new(),
            },
        }),
    });
    let grouped = t.standing_order_characteristics.take();
    let frequency = grouped.as_ref().map(|s| s.frequency.clone()).or(t.frequency.take());
    let Some(frequency) = frequency else { return };
    let start =
        grouped.as_ref().map(|s| s.start_date.clone()).or(t.requested_execution_date.clone()).unwrap_or_default();
    let rule = grouped.as_ref().map(|s| s.execution_rule.clone()).or(t.execution_rule.take()).unwrap_or("FWNG".into());
    let end = grouped.as_ref().and_then(|s| s.end_date.clone()).or(t.end_date.take());
    if version >= ApiVersion::V1_6_2 {
        t.requested_execution_date = Some(start.clone());
        t.standing_order_characteristics =
            Some(StandingOrderCharacteristics { start_date: start, end_date: end, execution_rule: rule, frequency });
    } else {
        t.requested_execution_date = Some(start);
        t.frequency = Some(frequency);
        t.execution_rule = Some(rule);
        t.end_date = end;
    }
}

/// The start of a Paris day, as STET writes date-times.
fn midnight(day: jiff::civil::Date, tz: &TimeZone) -> Option<String> {
    day.to_zoned(tz.clone()).ok().map(|z| z.strftime("%Y-%m-%dT%H:%M:%S%.3f%:z").to_string())
}

/// The request itself (`self` in 1.4.0.47's `PaymentRequestLinks`, `request` from 1.4.2 on, as
/// 1.5.0.43 names it), `confirmation` while the PISP's confirmation is awaited, `transactions` for
/// a standing order on v1.6.2.
fn links(p: &PaymentRequest, version: ApiVersion) -> Links {
    let here = path(version, p.id.as_str());
    let mut links = Links::new();
    if p.status == PaymentStatus::Actc && version != ApiVersion::V1 {
        links.insert("confirmation".into(), Link::plain(format!("{here}/confirmation")));
    }
    if version >= ApiVersion::V1_6_2 && p.is_standing_order() {
        links.insert("transactions".into(), Link::plain(format!("{here}/transactions")));
    }
    let name = if version == ApiVersion::V1 { "self" } else { "request" };
    links.insert(name.into(), Link::plain(here));
    links
}
