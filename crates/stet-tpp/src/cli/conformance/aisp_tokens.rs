//! The account-information cases about who may see what, and for how long (Portal: "Authorization",
//! "End-user identity", "Batch limit"): identity shared or not, the four batch calls a day, the
//! refresh that keeps its refresh token, the tokens the bank no longer honours, and a token used
//! outside its scope (which also costs the refresh token, so these cases run last).

use super::aisp::{access_token, profile, resource_id};
use super::cases::{Checked, Verdict, expect};
use super::context::{Context, Presence};
use super::exchange::Exchange;
use reqwest::Method;
use serde_json::json;
use stet::ApiVersion;

/// How many batch calls a day the bank allows per account and method.
const BATCH_CALLS: usize = 4;

fn identity_exists(ctx: &Context) -> Result<(), Verdict> {
    if ctx.version == ApiVersion::V1 {
        return Err(Verdict::skip("STET 1.4.0.47 (v1) has no end-user identity resource"));
    }
    Ok(())
}

pub async fn identity_shared(ctx: &mut Context) -> Checked {
    let (p, token) = (profile(ctx)?, access_token(ctx)?);
    identity_exists(ctx)?;
    if !p.share_identity {
        return Err(Verdict::skip("the profile's consent does not share the identity"));
    }
    let answer = ctx.call(Method::GET, &ctx.path("/end-user-identity"), &token, None, Presence::Connected).await;
    expect(answer.status() == 200, "200 with the connected PSU", || answer.got())?;
    let who = answer.text("connectedPsu").unwrap_or("").to_owned();
    expect(!who.is_empty(), "connectedPsu", || answer.got())?;
    Ok(format!("connectedPsu {who}"))
}

pub async fn identity_refused(ctx: &mut Context) -> Checked {
    let p = profile(ctx)?;
    identity_exists(ctx)?;
    let psu = p.identity_refused_psu.ok_or_else(|| Verdict::skip("the profile names no PSU refusing its identity"))?;
    let pair = ctx.login(&psu, "aisp", None).await?;
    let answer = ctx.call(Method::GET, &ctx.path("/end-user-identity"), &pair.access, None, Presence::Connected).await;
    expect(answer.status() == 403, &format!("403 for {psu}"), || answer.got())?;
    Ok(String::new())
}

pub async fn batch_limit(ctx: &mut Context) -> Checked {
    let (p, token) = (profile(ctx)?, access_token(ctx)?);
    let first = p.accounts.first().ok_or_else(|| Verdict::skip("the profile lists no account"))?;
    let path = ctx.path(&format!("/accounts/{}/balances", resource_id(ctx, &first.iban)?));
    let mut allowed = 0;
    let refused = loop {
        let answer = ctx.call(Method::GET, &path, &token, None, Presence::Batch).await;
        match answer.status() {
            200 if allowed < BATCH_CALLS => allowed += 1,
            429 => break answer,
            _ => {
                let wanted = format!("200 for the first {BATCH_CALLS} batch calls of the day, then 429");
                return Err(Verdict::fail(wanted, format!("call {}: {}", allowed + 1, answer.got())));
            }
        }
    };
    let connected = ctx.call(Method::GET, &path, &token, None, Presence::Connected).await;
    expect(connected.status() == 200, "200 with PSU-IP-Address (no limit)", || connected.got())?;
    let retry = refused.header("retry-after").map(|r| format!(", Retry-After {r}")).unwrap_or_default();
    let earlier = if allowed < BATCH_CALLS { " (earlier calls today, e.g. an earlier run, count too)" } else { "" };
    Ok(format!("{allowed} batch calls answered 200, the next 429{retry}{earlier}"))
}

/// The token refusal the bank publishes: 401 with `invalid_token`.
fn invalid_token(answer: &Exchange) -> Result<(), Verdict> {
    expect(answer.status() == 401 && answer.carries("invalid_token"), "401 invalid_token", || answer.got())
}

pub async fn refresh(ctx: &mut Context) -> Checked {
    let pair = ctx.obtained.aisp.clone().ok_or_else(|| Verdict::skip("AIS-01 obtained no token"))?;
    let sent = pair.refresh.clone().ok_or_else(|| Verdict::fail("a refresh token from AIS-01", "none"))?;
    let client_id = ctx.client_id.clone();
    let answer =
        ctx.token(&[("client_id", &client_id), ("grant_type", "refresh_token"), ("refresh_token", &sent)]).await;
    expect(answer.status() == 200, "200 with new tokens", || answer.got())?;
    let access = answer.text("access_token").unwrap_or("").to_owned();
    expect(!access.is_empty() && access != pair.access, "a new access token", || answer.got())?;
    ctx.obtained.aisp = Some(super::context::Pair { access: access.clone(), refresh: Some(sent.clone()) });
    ctx.obtained.aisp_replaced = Some(pair.access);
    let same = answer.text("refresh_token") == Some(sent.as_str());
    expect(same, "the refresh_token sent, unchanged", || "another refresh_token value (or none)".to_owned())?;
    let works = ctx.call(Method::GET, &ctx.path("/accounts"), &access, None, Presence::Connected).await;
    expect(works.status() == 200, "the new access token works: 200", || works.got())?;
    Ok(format!("scope {}", answer.text("scope").unwrap_or("")))
}

pub async fn replaced_token(ctx: &mut Context) -> Checked {
    let old = ctx.obtained.aisp_replaced.clone().ok_or_else(|| Verdict::skip("AIS-13 replaced no token"))?;
    let answer = ctx.call(Method::GET, &ctx.path("/accounts"), &old, None, Presence::Connected).await;
    invalid_token(&answer)?;
    Ok(String::new())
}

pub async fn unknown_token(ctx: &mut Context) -> Checked {
    profile(ctx)?;
    let made_up = format!("stet-tpp-conformance-{}", stet_tpp::new_request_id());
    let answer = ctx.call(Method::GET, &ctx.path("/accounts"), &made_up, None, Presence::Connected).await;
    invalid_token(&answer)?;
    Ok(String::new())
}

/// A well-formed funds confirmation on `iban`.
pub fn coverage_request(iban: &str, amount: &str) -> serde_json::Value {
    let id = format!("conformance-{}", &stet_tpp::new_request_id()[..8]);
    json!({"paymentCoverageRequestId": id, "instructedAmount": {"currency": "EUR", "amount": amount}, "accountId": {"iban": iban}})
}

pub async fn wrong_scope(ctx: &mut Context) -> Checked {
    let (p, token) = (profile(ctx)?, access_token(ctx)?);
    if !ctx.roles.contains(&eidas::psd2::Role::CardIssuing) {
        return Err(Verdict::skip("the QWAC has no PSP_IC: the bank would refuse the role, not the token's scope"));
    }
    ctx.obtained.scope_refusal_sent = true;
    let iban = p.accounts.first().map(|a| a.iban.clone()).unwrap_or_default();
    let body = coverage_request(&iban, "1.00");
    let answer =
        ctx.call(Method::POST, &ctx.path("/funds-confirmations"), &token, Some(&body), Presence::Connected).await;
    expect(answer.status() == 403 && answer.carries("BADS"), "403 with reason BADS", || answer.got())?;
    Ok(String::new())
}

pub async fn refresh_revoked(ctx: &mut Context) -> Checked {
    if !ctx.obtained.scope_refusal_sent {
        return Err(Verdict::skip("AIS-16 did not run"));
    }
    let pair = ctx.obtained.aisp.clone().ok_or_else(|| Verdict::skip("AIS-01 obtained no token"))?;
    let sent = pair.refresh.ok_or_else(|| Verdict::skip("AIS-01 obtained no refresh token"))?;
    let client_id = ctx.client_id.clone();
    let answer =
        ctx.token(&[("client_id", &client_id), ("grant_type", "refresh_token"), ("refresh_token", &sent)]).await;
    expect(answer.status() == 400 && answer.carries("invalid_grant"), "400 invalid_grant", || answer.got())?;
    Ok(String::new())
}
