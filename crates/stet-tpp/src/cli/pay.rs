//! `stet-tpp pay`: the whole payment initiation walk against a sandbox: the PISP's token, the
//! payment request, the PSU's approval on the bank's pages (followed over HTTP), the confirmation
//! (not on v1, where the approval executes), and the status, printed as the bank answers it.

use super::{PayArgs, client, org_id};
use anyhow::{Context, bail};
use std::process::ExitCode;
use stet::ais::AccountIdentification;
use stet::pis::{
    Beneficiary, ConfirmationResource, CreditTransferTransaction, PartyIdentification, PaymentRequestResource,
    PaymentTypeInformation, Remittance, SupplementaryData,
};
use stet::{Amount, ApiVersion, Currency};
use stet_tpp::{FlowEnd, PsuAnswers, Tokens};

/// Where the PSU comes back to; stet-tpp reads the redirect instead of serving it.
const REPORT_URL: &str = "https://localhost/stet-tpp/payment";

fn request(args: &PayArgs) -> anyhow::Result<PaymentRequestResource> {
    let id = format!("stet-tpp-{}", &stet_tpp::new_request_id()[..8]);
    let mut transaction =
        CreditTransferTransaction::new(format!("{id}-1"), Amount::parse(&args.amount, Currency::EUR)?);
    transaction.payment_id.end_to_end_id = Some(format!("{id}-e2e"));
    transaction.remittance_information = Some(Remittance::Lines(vec![args.remittance.clone()]));
    transaction.requested_execution_date = args.date.as_ref().map(|d| format!("{d}T00:00:00.000+01:00"));
    let account = |iban: &str| AccountIdentification { iban: Some(iban.to_owned()), ..Default::default() };
    Ok(PaymentRequestResource {
        resource_id: None,
        payment_information_id: id,
        creation_date_time: jiff::Timestamp::now().to_string(),
        number_of_transactions: 1,
        initiating_party: PartyIdentification::named("stet-tpp"),
        payment_type_information: PaymentTypeInformation {
            service_level: Some("SEPA".into()),
            local_instrument: args.instant.then(|| "INST".to_owned()),
            ..Default::default()
        },
        debtor: None,
        debtor_account: args.debtor.as_deref().map(account),
        debtor_agent: None,
        beneficiary: Some(Beneficiary {
            id: None,
            is_trusted: None,
            creditor_agent: None,
            creditor: PartyIdentification::named(&args.payee),
            creditor_account: Some(account(&args.payee_iban)),
        }),
        ultimate_creditor: None,
        purpose: None,
        charge_bearer: Some("SLEV".into()),
        payment_information_status: None,
        status_reason_information: None,
        funds_availability: None,
        booking: None,
        requested_execution_date: None,
        batch_booking: None,
        accept_debtor_account_change: None,
        accept_charge_handling_change: None,
        accept_instant_payment_downgrade: None,
        credit_transfer_transaction: vec![transaction],
        supplementary_data: SupplementaryData {
            accepted_authentication_approach: vec!["REDIRECT".into()],
            successful_report_url: Some(REPORT_URL.into()),
            unsuccessful_report_url: Some(format!("{REPORT_URL}/refused")),
            ..Default::default()
        },
    })
}

pub async fn run(args: &PayArgs, out: super::Output) -> anyhow::Result<ExitCode> {
    let version = ApiVersion::from_segment(&args.version).context("--version: v1, v1.4.2 or v1.6.2")?;
    let client = client(&args.bank, Some(&args.certs))?;
    let client_id = org_id(&args.certs)?;
    let response = client.pisp_token(&client_id).await?;
    if !response.status().is_success() {
        bail!("token: HTTP {}: {}", response.status(), response.text().await?);
    }
    let token = response.json::<Tokens>().await?.access_token;
    let created = client.post_payment_request(version, &token, &request(args)?).await?;
    let location = created.headers().get("location").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let status = created.status();
    let body: serde_json::Value = serde_json::from_str(&created.text().await?).unwrap_or_default();
    if !status.is_success() {
        bail!("POST payment-requests: HTTP {status}: {body}");
    }
    let id = location.as_deref().and_then(|l| l.rsplit('/').next()).context("no Location")?.to_owned();
    let created: stet::pis::PaymentRequestCreated = serde_json::from_value(body)?;
    let approval = created.links.get("consentApproval").context("no consentApproval link")?.href.clone();
    eprintln!("stet-tpp pay: payment request {id} created; the PSU approves it at {approval}");
    let answers =
        PsuAnswers { psu_id: args.psu.clone(), otp: args.otp.clone(), accounts: args.account.clone().map(|a| vec![a]) };
    let back = match client.drive_approval(&approval, &answers).await? {
        FlowEnd::Redirected(back) => back,
        FlowEnd::Page(status, _) => bail!("the approval pages stopped with HTTP {status}"),
    };
    match back.get("psuAuthenticationFactor") {
        Some(factor) if version != ApiVersion::V1 => {
            eprintln!("stet-tpp pay: approved; confirming");
            let confirmation = ConfirmationResource {
                nonce: created.nonce.clone(),
                psu_authentication_factor: Some(factor.to_owned()),
            };
            let confirmed = client.confirm_payment_request(version, &token, &id, "confirmation", &confirmation).await?;
            if !confirmed.status().is_success() {
                bail!("confirmation: HTTP {}: {}", confirmed.status(), confirmed.text().await?);
            }
        }
        Some(_) => eprintln!("stet-tpp pay: approved (v1 executes without a confirmation)"),
        None => eprintln!("stet-tpp pay: not approved: back at {}", back.location),
    }
    out.print(client.payment_request(version, &token, &id).await?).await
}
