//! The account-information cases of the bank's published sequence (Portal: "Account information —
//! the sequence"): the token, GET /accounts before and after PUT /consents, balances (CLBD only),
//! transactions within and beyond the history depth, the persona with many operations.

use super::cases::{Checked, Verdict, expect};
use super::context::{Context, Presence};
use super::profile::Aisp;
use reqwest::Method;
use serde_json::{Value, json};

/// The profile's AISP section, or a skip.
pub fn profile(ctx: &Context) -> Result<Aisp, Verdict> {
    ctx.profile.aisp.clone().ok_or_else(|| Verdict::skip("the profile has no aisp section"))
}

/// The main persona's access token (AIS-01), or a skip.
pub fn access_token(ctx: &Context) -> Result<String, Verdict> {
    ctx.obtained.aisp.as_ref().map(|p| p.access.clone()).ok_or_else(|| Verdict::skip("AIS-01 obtained no token"))
}

/// The resourceId of `iban` (AIS-04), or a skip.
pub fn resource_id(ctx: &Context, iban: &str) -> Result<String, Verdict> {
    ctx.obtained
        .resource_ids
        .get(iban)
        .cloned()
        .ok_or_else(|| Verdict::skip(format!("AIS-04 found no resourceId for {iban}")))
}

/// The accounts of a GET /accounts answer.
fn accounts(answer: &Value) -> &[Value] {
    answer["accounts"].as_array().map(Vec::as_slice).unwrap_or_default()
}

fn iban_of(account: &Value) -> &str {
    account["accountId"]["iban"].as_str().unwrap_or("")
}

/// A consent body: balances and transactions on `ibans`.
pub fn access(ibans: &[&str], identity: bool) -> Value {
    let list: Vec<Value> = ibans.iter().map(|iban| json!({"iban": iban})).collect();
    json!({"balances": list, "transactions": list, "trustedBeneficiaries": false, "psuIdentity": identity})
}

pub async fn token(ctx: &mut Context) -> Checked {
    let p = profile(ctx)?;
    let pair = ctx.login(&p.psu, "aisp", None).await?;
    let has_refresh = pair.refresh.is_some();
    ctx.obtained.aisp = Some(pair);
    let answer = ctx.log.last().cloned().ok_or_else(|| Verdict::fail("a token answer", "none"))?;
    let kind = answer.text("token_type").unwrap_or("");
    let scope = answer.text("scope").unwrap_or("").to_owned();
    expect(kind.eq_ignore_ascii_case("bearer"), "token_type Bearer", || answer.got())?;
    expect(scope.split_whitespace().any(|s| s == "aisp"), "scope aisp", || answer.got())?;
    expect(has_refresh, "a refresh_token", || answer.got())?;
    expect(answer.json()["expires_in"].is_number(), "expires_in, in seconds", || answer.got())?;
    Ok(format!("scope {scope}, expires_in {}", answer.json()["expires_in"]))
}

pub async fn accounts_before_consent(ctx: &mut Context) -> Checked {
    let (p, token) = (profile(ctx)?, access_token(ctx)?);
    let reset =
        ctx.call(Method::PUT, &ctx.path("/consents"), &token, Some(&access(&[], false)), Presence::Connected).await;
    expect(reset.status() == 201, "PUT /consents with no data: 201", || reset.got())?;
    let answer = ctx.call(Method::GET, &ctx.path("/accounts"), &token, None, Presence::Connected).await;
    expect(answer.status() == 200, "200 with the PSU's accounts", || answer.got())?;
    let listed = accounts(answer.json());
    for wanted in &p.accounts {
        expect(listed.iter().any(|a| iban_of(a) == wanted.iban), &format!("{} listed", wanted.iban), || answer.got())?;
    }
    for account in listed {
        let links = &account["_links"];
        let bare = account.get("resourceId").is_none_or(Value::is_null)
            && account.get("balances").is_none()
            && links.get("balances").is_none()
            && links.get("transactions").is_none();
        expect(bare, "accounts without resourceId, balances or links", || {
            format!("{}: {}", iban_of(account), super::exchange::cut(&account.to_string(), 200))
        })?;
    }
    Ok(format!("{} accounts, none with links", listed.len()))
}

pub async fn consent(ctx: &mut Context) -> Checked {
    let (p, token) = (profile(ctx)?, access_token(ctx)?);
    let ibans: Vec<&str> = p.accounts.iter().map(|a| a.iban.as_str()).collect();
    let body = access(&ibans, p.share_identity);
    let answer = ctx.call(Method::PUT, &ctx.path("/consents"), &token, Some(&body), Presence::Connected).await;
    expect(answer.status() == 201, "201 Created", || answer.got())?;
    expect(answer.body.trim().is_empty(), "no body", || answer.got())?;
    Ok(format!("balances and transactions on {} accounts, psuIdentity {}", ibans.len(), p.share_identity))
}

pub async fn accounts_after_consent(ctx: &mut Context) -> Checked {
    let (p, token) = (profile(ctx)?, access_token(ctx)?);
    let answer = ctx.call(Method::GET, &ctx.path("/accounts"), &token, None, Presence::Connected).await;
    expect(answer.status() == 200, "200 with the PSU's accounts", || answer.got())?;
    for wanted in &p.accounts {
        let account = accounts(answer.json()).iter().find(|a| iban_of(a) == wanted.iban);
        let Some(account) = account else { return Err(Verdict::fail(format!("{} listed", wanted.iban), answer.got())) };
        let id = account["resourceId"].as_str().filter(|id| !id.is_empty());
        let linked = ["balances", "transactions"].iter().all(|l| account["_links"][l]["href"].is_string());
        let shown = || format!("{}: {}", wanted.iban, super::exchange::cut(&account.to_string(), 240));
        expect(id.is_some() && linked, "a resourceId and balances and transactions links", shown)?;
        if let Some(id) = id {
            ctx.obtained.resource_ids.insert(wanted.iban.clone(), id.to_owned());
        }
    }
    Ok(format!("resourceIds: {}", ctx.obtained.resource_ids.values().cloned().collect::<Vec<_>>().join(", ")))
}

pub async fn balances(ctx: &mut Context) -> Checked {
    let (p, token) = (profile(ctx)?, access_token(ctx)?);
    let mut seen = Vec::new();
    for wanted in p.accounts.iter().filter(|a| a.balance.is_some()) {
        let id = resource_id(ctx, &wanted.iban)?;
        let path = ctx.path(&format!("/accounts/{id}/balances"));
        let answer = ctx.call(Method::GET, &path, &token, None, Presence::Connected).await;
        expect(answer.status() == 200, "200 with the balances", || answer.got())?;
        let list = answer.json()["balances"].as_array().cloned().unwrap_or_default();
        let expected = wanted.balance.clone().unwrap_or_default();
        let what = format!("one CLBD balance of {expected} EUR on {}", wanted.iban);
        expect(!list.is_empty() && list.iter().all(|b| b["balanceType"] == "CLBD"), &what, || answer.got())?;
        let amount = &list[0]["balanceAmount"]["amount"];
        let amount = amount.as_str().map(str::to_owned).unwrap_or_else(|| amount.to_string());
        expect(cents(&amount).is_some() && cents(&amount) == cents(&expected), &what, || answer.got())?;
        seen.push(format!("{} CLBD {amount}", wanted.iban));
    }
    if seen.is_empty() {
        return Err(Verdict::skip("the profile gives no expected balance"));
    }
    Ok(seen.join(", "))
}

/// An amount in cents: `-150.00`, `4348.95`, `12.5`, `0`.
pub fn cents(amount: &str) -> Option<i64> {
    let (negative, digits) = amount.trim().strip_prefix('-').map(|d| (true, d)).unwrap_or((false, amount.trim()));
    let (units, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    if units.is_empty() || fraction.len() > 2 || !(units.bytes().chain(fraction.bytes()).all(|b| b.is_ascii_digit())) {
        return None;
    }
    let value = units.parse::<i64>().ok()?.checked_mul(100)? + format!("{fraction:0<2}").parse::<i64>().ok()?;
    Some(if negative { -value } else { value })
}

/// `YYYY-MM-DDT00:00:00.000`, `days` before today (the bank's published form).
fn days_back(ctx: &Context, days: i64) -> String {
    let day = ctx.today.saturating_sub(jiff::Span::new().days(days));
    format!("{day}T00:00:00.000")
}

/// The first account's transactions path, `?dateFrom=` `days` back.
fn transactions_since(ctx: &Context, p: &Aisp, days: i64) -> Result<(String, String), Verdict> {
    let first = p.accounts.first().ok_or_else(|| Verdict::skip("the profile lists no account"))?;
    let id = resource_id(ctx, &first.iban)?;
    let from = days_back(ctx, days);
    Ok((ctx.path(&format!("/accounts/{id}/transactions?dateFrom={from}")), from))
}

pub async fn transactions_window(ctx: &mut Context) -> Checked {
    let (p, token) = (profile(ctx)?, access_token(ctx)?);
    // A day inside the depth, so that the bank's "today" and ours may differ by one.
    let (path, from) = transactions_since(ctx, &p, p.history_days - 1)?;
    let answer = ctx.call(Method::GET, &path, &token, None, Presence::Connected).await;
    if answer.status() == 204 {
        return Ok("204: no operation in the window".into());
    }
    expect(answer.status() == 200, "200 (or 204 when there is none)", || answer.got())?;
    let list = answer.json()["transactions"].as_array().cloned().unwrap_or_default();
    let day = &from[..10];
    for t in &list {
        let date = t["transactionDate"].as_str().or_else(|| t["bookingDate"].as_str()).unwrap_or("");
        let status = t["status"].as_str().unwrap_or("");
        expect(date.get(..10).is_some_and(|d| d >= day), &format!("operations dated from {day}"), || t.to_string())?;
        expect(["BOOK", "OTHR"].contains(&status), "status BOOK or OTHR", || t.to_string())?;
    }
    Ok(format!("{} operations since {day}", list.len()))
}

pub async fn beyond_depth(ctx: &mut Context) -> Checked {
    let (p, token) = (profile(ctx)?, access_token(ctx)?);
    let (path, _) = transactions_since(ctx, &p, p.history_days + 2)?;
    let answer = ctx.call(Method::GET, &path, &token, None, Presence::Connected).await;
    expect(answer.status() == 400, &format!("400: more than {} days back", p.history_days), || answer.got())?;
    Ok(String::new())
}

pub async fn many_transactions(ctx: &mut Context) -> Checked {
    let p = profile(ctx)?;
    let many = p.many_transactions.ok_or_else(|| Verdict::skip("the profile names no persona with many operations"))?;
    let pair = ctx.login(&many.psu, "aisp", None).await?;
    let body = json!({"balances": [], "transactions": [{"iban": many.iban}], "trustedBeneficiaries": false, "psuIdentity": false});
    let put = ctx.call(Method::PUT, &ctx.path("/consents"), &pair.access, Some(&body), Presence::Connected).await;
    expect(put.status() == 201, "PUT /consents: 201", || put.got())?;
    let listed = ctx.call(Method::GET, &ctx.path("/accounts"), &pair.access, None, Presence::Connected).await;
    let id = accounts(listed.json()).iter().find(|a| iban_of(a) == many.iban).and_then(|a| a["resourceId"].as_str());
    let id =
        id.map(str::to_owned).ok_or_else(|| Verdict::fail(format!("{} with a resourceId", many.iban), listed.got()))?;
    let path = ctx.path(&format!("/accounts/{id}/transactions"));
    let answer = ctx.call(Method::GET, &path, &pair.access, None, Presence::Connected).await;
    ctx.obtained.many = Some(answer.clone());
    expect(answer.status() == 200, "200 with the operations", || answer.got())?;
    let count = answer.json()["transactions"].as_array().map_or(0, Vec::len);
    let wanted = format!("more than {} operations, at most 500", many.more_than);
    expect(count > many.more_than && count <= 500, &wanted, || format!("{count} operations"))?;
    Ok(format!("{count} operations"))
}

pub fn no_entry_reference(ctx: &mut Context) -> Checked {
    let answer = ctx.obtained.many.clone().ok_or_else(|| Verdict::skip("AIS-08 did not run"))?;
    ctx.log.push(answer.clone());
    let list = answer.json()["transactions"].as_array().cloned().unwrap_or_default();
    let without = list.iter().filter(|t| t["entryReference"].as_str().is_none_or(str::is_empty)).count();
    expect(without > 0, "at least one operation without entryReference", || {
        format!("all {} operations carry one", list.len())
    })?;
    Ok(format!("{without} of {} operations without entryReference", list.len()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn amounts_compare_in_cents() {
        use super::cents;
        assert_eq!(cents("-150.00"), Some(-15_000));
        assert_eq!(cents("4348.95"), Some(434_895));
        assert_eq!(cents("12.5"), Some(1_250));
        assert_eq!(cents("0"), Some(0));
        assert_eq!((cents("1.001"), cents("abc"), cents(""), cents("-")), (None, None, None, None));
    }
}
