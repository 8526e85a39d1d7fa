//! The funds-confirmation cases (Portal: "Funds confirmation"; Personas: Banque Populaire's
//! instant balances): the card issuer's token, covered and not covered around the instant balance,
//! and the reason codes AC01, NGAC, FF01 and a token of the wrong scope.

use super::aisp_tokens::coverage_request;
use super::cases::{Checked, Verdict, expect};
use super::context::{Context, Pair, Presence};
use super::profile::Cbpii;
use reqwest::Method;
use serde_json::{Value, json};
use stet::ApiVersion;

/// The answer a list of requests expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coverage {
    /// `result: true`.
    Covered,
    /// `result: false`.
    NotCovered,
}

fn profile(ctx: &Context) -> Result<Cbpii, Verdict> {
    ctx.profile.cbpii.clone().ok_or_else(|| Verdict::skip("the profile has no cbpii section"))
}

fn access_token(ctx: &Context) -> Result<String, Verdict> {
    ctx.obtained.cbpii.as_ref().map(|p| p.access.clone()).ok_or_else(|| Verdict::skip("CB-01 obtained no token"))
}

/// The funds scope of the version: `piisp` on v1 (STET 1.4.0.47), `cbpii` after.
fn scope(ctx: &Context) -> &'static str {
    if ctx.version == ApiVersion::V1 { "piisp" } else { "cbpii" }
}

async fn ask(ctx: &mut Context, token: &str, body: &Value) -> super::exchange::Exchange {
    ctx.call(Method::POST, &ctx.path("/funds-confirmations"), token, Some(body), Presence::Connected).await
}

pub async fn token(ctx: &mut Context) -> Checked {
    let p = profile(ctx)?;
    let scope = scope(ctx);
    let pair: Pair = ctx.login(&p.psu, scope, p.accounts.clone()).await?;
    ctx.obtained.cbpii = Some(pair);
    let answer = ctx.log.last().map(|e| e.text("scope").unwrap_or("").to_owned()).unwrap_or_default();
    expect(answer.split_whitespace().any(|s| s == scope), &format!("scope {scope}"), || format!("scope {answer:?}"))?;
    Ok(format!("scope {answer}"))
}

/// Each request of the profile's `covered` (or `not_covered`) list answers `result: covered`.
pub async fn coverage(ctx: &mut Context, expected: Coverage) -> Checked {
    let p = profile(ctx)?;
    let token = access_token(ctx)?;
    let covered = expected == Coverage::Covered;
    let list = if covered { &p.covered } else { &p.not_covered };
    if list.is_empty() {
        return Err(Verdict::skip("the profile lists no such amount"));
    }
    for request in list {
        let answer = ask(ctx, &token, &coverage_request(&request.iban, &request.amount)).await;
        let wanted = format!("200 with result {covered} for {} EUR on {}", request.amount, request.iban);
        expect(answer.status() == 200 && answer.json()["result"] == json!(covered), &wanted, || answer.got())?;
        let echoed = answer.json()["request"]["accountId"]["iban"] == json!(request.iban);
        expect(echoed, "the request echoed (accountId)", || answer.got())?;
    }
    Ok(format!("{} requests, result {covered}", list.len()))
}

/// A refusal with `status` and the reason `code`.
fn refused(answer: &super::exchange::Exchange, status: u16, code: &str) -> Checked {
    expect(answer.status() == status && answer.carries(code), &format!("{status} with reason {code}"), || {
        answer.got()
    })?;
    Ok(String::new())
}

pub async fn unknown_account(ctx: &mut Context) -> Checked {
    let p = profile(ctx)?;
    let token = access_token(ctx)?;
    let iban = p.unknown_iban.ok_or_else(|| Verdict::skip("the profile names no unknown IBAN"))?;
    let answer = ask(ctx, &token, &coverage_request(&iban, "10.00")).await;
    refused(&answer, 400, "AC01")
}

pub async fn not_granted(ctx: &mut Context) -> Checked {
    let p = profile(ctx)?;
    let token = access_token(ctx)?;
    let iban = p.not_granted_iban.ok_or_else(|| Verdict::skip("the profile names no account left unticked"))?;
    if p.accounts.is_none() {
        return Err(Verdict::skip("the profile ticks every account at authorization (cbpii.accounts)"));
    }
    let answer = ask(ctx, &token, &coverage_request(&iban, "10.00")).await;
    refused(&answer, 403, "NGAC")
}

pub async fn bad_body(ctx: &mut Context) -> Checked {
    let p = profile(ctx)?;
    let token = access_token(ctx)?;
    let iban = p.covered.first().map(|c| c.iban.clone()).unwrap_or_default();
    let body = json!({"instructedAmount": {"currency": "EUR", "amount": "1.00"}, "accountId": {"iban": iban}});
    let answer = ask(ctx, &token, &body).await;
    refused(&answer, 400, "FF01")
}

pub async fn wrong_scope(ctx: &mut Context) -> Checked {
    profile(ctx)?;
    let token = access_token(ctx)?;
    let answer = ctx.call(Method::GET, &ctx.path("/accounts"), &token, None, Presence::Connected).await;
    expect(answer.status() == 403, "403 (insufficient scope)", || answer.got())?;
    Ok(answer.code().to_owned())
}
