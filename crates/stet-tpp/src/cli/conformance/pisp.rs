//! The payment-initiation cases (STET Part II, REDIRECT approach, as docs/pisp.md digests it): the
//! PISP's own token, a single SEPA payment request, the PSU's approval on the bank's pages, the
//! confirmation (not on v1, which executes on approval), the status read back, and two refusals
//! with their reason codes. The payment is real money in the bank's sandbox ledger: the profile's
//! paying persona should be one no other case reads balances of.

use super::cases::{Checked, Verdict, expect};
use super::context::{Context, Payment, Presence};
use super::exchange::redacted_url;
use super::profile::Pisp;
use reqwest::Method;
use serde_json::{Value, json};
use stet::ApiVersion;

/// Statuses of a payment accepted for execution or settled.
const EXECUTED: &[&str] = &["ACSP", "ACSC"];

/// What is wrong with a request the bank must refuse.
#[derive(Debug, Clone, Copy)]
pub enum Defect {
    /// An amount with three decimals: FF01.
    Amount,
    /// A debtor IBAN whose check digits do not match: AC01.
    Debtor,
}

fn profile(ctx: &Context) -> Result<Pisp, Verdict> {
    ctx.profile.pisp.clone().ok_or_else(|| Verdict::skip("the profile has no pisp section"))
}

fn access_token(ctx: &Context) -> Result<String, Verdict> {
    ctx.obtained.pisp.clone().ok_or_else(|| Verdict::skip("PI-01 obtained no token"))
}

fn payment(ctx: &Context) -> Result<Payment, Verdict> {
    ctx.obtained.payment.clone().ok_or_else(|| Verdict::skip("PI-02 created no payment request"))
}

/// Where the PSU is sent back after a refusal: the redirect URI with a marker.
fn refused_url(ctx: &Context) -> String {
    let sep = if ctx.redirect_uri.contains('?') { '&' } else { '?' };
    format!("{}{sep}conformance=refused", ctx.redirect_uri)
}

/// A single SEPA credit transfer from the profile's persona.
fn body(ctx: &Context, p: &Pisp, amount: &str, debtor: Option<&str>) -> Value {
    let id = format!("conformance-{}", &stet_tpp::new_request_id()[..8]);
    let now = jiff::Zoned::now().with_time_zone(ctx_zone());
    let mut body = json!({
        "paymentInformationId": id,
        "creationDateTime": now.strftime("%Y-%m-%dT%H:%M:%S%.3f%:z").to_string(),
        "numberOfTransactions": 1,
        "initiatingParty": {"name": "stet-tpp conformance"},
        "paymentTypeInformation": {"serviceLevel": "SEPA"},
        "beneficiary": {"creditor": {"name": p.creditor_name}, "creditorAccount": {"iban": p.creditor_iban}},
        "chargeBearer": "SLEV",
        "creditTransferTransaction": [{
            "paymentId": {"instructionId": format!("{id}-1"), "endToEndId": format!("{id}-e2e")},
            "instructedAmount": {"currency": "EUR", "amount": amount},
            "remittanceInformation": ["stet-tpp conformance"]
        }],
        "supplementaryData": {
            "acceptedAuthenticationApproach": ["REDIRECT"],
            "successfulReportUrl": ctx.redirect_uri,
            "unsuccessfulReportUrl": refused_url(ctx)
        }
    });
    if let Some(iban) = debtor {
        body["debtorAccount"] = json!({"iban": iban});
    }
    body
}

fn ctx_zone() -> jiff::tz::TimeZone {
    jiff::tz::TimeZone::get("Europe/Paris").unwrap_or(jiff::tz::TimeZone::UTC)
}

pub async fn token(ctx: &mut Context) -> Checked {
    profile(ctx)?;
    let client_id = ctx.client_id.clone();
    let answer = ctx.token(&[("client_id", &client_id), ("grant_type", "client_credentials"), ("scope", "pisp")]).await;
    let access = answer.text("access_token").map(str::to_owned);
    expect(answer.status() == 200 && access.is_some(), "200 with an access_token", || answer.got())?;
    ctx.obtained.pisp = access;
    let scope = answer.text("scope").unwrap_or("");
    expect(scope.split_whitespace().any(|s| s == "pisp"), "scope pisp", || answer.got())?;
    Ok(format!("scope {scope}"))
}

pub async fn request(ctx: &mut Context) -> Checked {
    let (p, token) = (profile(ctx)?, access_token(ctx)?);
    let body = body(ctx, &p, &p.amount, p.debtor_iban.as_deref());
    let answer = ctx.call(Method::POST, &ctx.path("/payment-requests"), &token, Some(&body), Presence::Connected).await;
    expect(answer.status() == 201, "201 Created", || answer.got())?;
    let id = answer.header("location").and_then(|l| l.rsplit('/').next()).map(str::to_owned);
    let id = id.filter(|id| !id.is_empty()).ok_or_else(|| Verdict::fail("a Location header", answer.got()))?;
    let approval = answer.json()["_links"]["consentApproval"]["href"].as_str().map(str::to_owned);
    let approval = approval.ok_or_else(|| Verdict::fail("_links.consentApproval", answer.got()))?;
    let nonce = answer.text("nonce").map(str::to_owned);
    ctx.obtained.payment = Some(Payment { id: id.clone(), approval, nonce: nonce.clone(), factor: None });
    let approach = answer.text("appliedAuthenticationApproach").unwrap_or("");
    expect(approach == "REDIRECT", "appliedAuthenticationApproach REDIRECT", || answer.got())?;
    let wants_nonce = ctx.version != ApiVersion::V1;
    expect(nonce.is_some() || !wants_nonce, "a nonce for the confirmation (STET 1.4.2+)", || answer.got())?;
    Ok(format!("payment request {id}"))
}

/// GET /payment-requests/{id}: the answer and its paymentInformationStatus.
async fn read_back(ctx: &mut Context, token: &str, id: &str) -> Result<(super::exchange::Exchange, String), Verdict> {
    let answer =
        ctx.call(Method::GET, &ctx.path(&format!("/payment-requests/{id}")), token, None, Presence::Connected).await;
    expect(answer.status() == 200, "200 with the payment request", || answer.got())?;
    let status = answer.json()["paymentRequest"]["paymentInformationStatus"].as_str().unwrap_or("").to_owned();
    Ok((answer, status))
}

pub async fn received(ctx: &mut Context) -> Checked {
    let (token, payment) = (access_token(ctx)?, payment(ctx)?);
    let (answer, status) = read_back(ctx, &token, &payment.id).await?;
    expect(["RCVD", "PDNG"].contains(&status.as_str()), "paymentInformationStatus RCVD (or PDNG)", || answer.got())?;
    Ok(status)
}

pub async fn approval(ctx: &mut Context) -> Checked {
    let (p, mut payment) = (profile(ctx)?, payment(ctx)?);
    let back = ctx.pages("payment approval", &payment.approval.clone(), &p.psu, None).await?;
    let location = redacted_url(&back.location);
    let home = back.location.starts_with(&ctx.redirect_uri) && !back.location.contains("conformance=refused");
    expect(home, "back at successfulReportUrl", || location.clone())?;
    payment.factor = back.get("psuAuthenticationFactor").map(str::to_owned);
    let has_factor = payment.factor.is_some();
    ctx.obtained.payment = Some(payment);
    expect(has_factor, "a psuAuthenticationFactor", || location.clone())?;
    Ok(String::new())
}

pub async fn confirmation(ctx: &mut Context) -> Checked {
    if ctx.version == ApiVersion::V1 {
        return Err(Verdict::skip("v1 (STET 1.4.0.47) executes on approval, without a confirmation"));
    }
    let (token, payment) = (access_token(ctx)?, payment(ctx)?);
    let factor = payment.factor.clone().ok_or_else(|| Verdict::skip("PI-04 obtained no psuAuthenticationFactor"))?;
    let body = json!({"nonce": payment.nonce, "psuAuthenticationFactor": factor});
    let path = ctx.path(&format!("/payment-requests/{}/confirmation", payment.id));
    let answer = ctx.call(Method::POST, &path, &token, Some(&body), Presence::Connected).await;
    expect(answer.status() == 200, "200 with the payment request", || answer.got())?;
    let status = answer.json()["paymentRequest"]["paymentInformationStatus"].as_str().unwrap_or("").to_owned();
    expect(EXECUTED.contains(&status.as_str()), "paymentInformationStatus ACSP or ACSC", || answer.got())?;
    Ok(status)
}

pub async fn status(ctx: &mut Context) -> Checked {
    let (token, payment) = (access_token(ctx)?, payment(ctx)?);
    let (answer, status) = read_back(ctx, &token, &payment.id).await?;
    expect(EXECUTED.contains(&status.as_str()), "paymentInformationStatus ACSP or ACSC", || answer.got())?;
    let link = answer.json()["_links"].get("confirmation").is_some();
    expect(!link, "no confirmation link once confirmed", || answer.got())?;
    Ok(status)
}

/// `iban` with its last digit changed: its check digits no longer match.
fn broken_iban(iban: &str) -> String {
    let mut chars: Vec<char> = iban.chars().collect();
    if let Some(last) = chars.last_mut().and_then(|c| c.to_digit(10).map(|d| (c, d))) {
        *last.0 = char::from_digit((last.1 + 1) % 10, 10).unwrap_or('0');
    }
    chars.into_iter().collect()
}

pub async fn refused(ctx: &mut Context, defect: Defect) -> Checked {
    let (p, token) = (profile(ctx)?, access_token(ctx)?);
    let debtor = p.debtor_iban.clone().unwrap_or_else(|| p.creditor_iban.clone());
    let (body, status, code) = match defect {
        Defect::Amount => (body(ctx, &p, "1.001", p.debtor_iban.as_deref()), 400, "FF01"),
        Defect::Debtor => (body(ctx, &p, &p.amount, Some(&broken_iban(&debtor))), 400, "AC01"),
    };
    let answer = ctx.call(Method::POST, &ctx.path("/payment-requests"), &token, Some(&body), Presence::Connected).await;
    let wanted = format!("{status} with reason {code}");
    expect(answer.status() == status && answer.carries(code), &wanted, || answer.got())?;
    Ok(String::new())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_broken_iban_differs_in_its_last_digit() {
        assert_eq!(super::broken_iban("FR7613807008043001965405158"), "FR7613807008043001965405159");
        assert_eq!(super::broken_iban("FR7630004000031234567890149"), "FR7630004000031234567890140");
    }
}
