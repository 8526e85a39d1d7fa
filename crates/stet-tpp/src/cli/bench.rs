//! `stet-tpp bench`: sets up what a scenario needs (tokens, consent, an account), signs a pool of
//! requests, then runs the load (see `stet_tpp::bench`).

use super::{BenchArgs, client, login, org_id};
use anyhow::{Context, bail};
use reqwest::Method;
use std::process::ExitCode;
use std::time::Duration;
use stet::ais::{Access, AccountIdentification, HalAccounts, HalTransactions};
use stet::funds::PaymentCoverageRequest;
use stet::{Amount, Currency};
use stet_tpp::bench::Prepared;
use stet_tpp::{HttpVersion, Tokens, TppClient};

const PSU_IP: &str = "192.0.2.10";

async fn tokens(client: &TppClient, client_id: &str, psu: &str, scope: &str) -> anyhow::Result<Tokens> {
    let response = login(client, client_id, None, psu, scope, "12345678", None).await?;
    if !response.status().is_success() {
        bail!("login as {psu} for {scope}: HTTP {}", response.status());
    }
    Ok(response.json().await?)
}

/// The answer's body as `T`, after a success.
async fn typed<T: serde::de::DeserializeOwned>(response: reqwest::Response, what: &str) -> anyhow::Result<T> {
    let status = response.status();
    let text = response.text().await?;
    if !status.is_success() {
        bail!("{what}: HTTP {status}: {text}");
    }
    serde_json::from_str(&text).with_context(|| format!("{what}: the answer is not the STET schema"))
}

/// One scenario's request, before signing.
struct Scenario {
    method: Method,
    path: String,
    token: String,
    /// Built from the STET types, kept as JSON to sign many times.
    body: Option<serde_json::Value>,
}

const ACCOUNTS: &str = "/stet/psd2/v1.4.2/accounts";
const CONSENTS: &str = "/stet/psd2/v1.4.2/consents";

/// Sets up what `args.scenario` needs (tokens, a consent, an account) and names its request.
async fn prepare(args: &BenchArgs, setup: &TppClient, client_id: &str) -> anyhow::Result<Scenario> {
    let aisp = tokens(setup, client_id, &args.psu, "aisp").await?;
    let connected = |method: Method, path: &str| {
        setup.signed(method, path).bearer(&aisp.access_token).header("psu-ip-address", PSU_IP)
    };
    let list: HalAccounts = typed(connected(Method::GET, ACCOUNTS).send().await?, "GET accounts").await?;
    let ibans: Vec<String> = list.accounts.iter().filter_map(|a| a.account_id.iban.clone()).collect();
    let first_iban = ibans.first().context("the PSU has no account")?.clone();
    let by_iban = |i: &String| AccountIdentification { iban: Some(i.clone()), ..Default::default() };
    let consent = Access {
        balances: ibans.iter().map(by_iban).collect(),
        transactions: ibans.iter().map(by_iban).collect(),
        ..Default::default()
    };
    let scenario = |method, path: &str, token: &str, body| Scenario {
        method,
        path: path.to_owned(),
        token: token.to_owned(),
        body,
    };
    Ok(match args.scenario.as_str() {
        "accounts" => scenario(Method::GET, ACCOUNTS, &aisp.access_token, None),
        "consents" => scenario(Method::PUT, CONSENTS, &aisp.access_token, Some(serde_json::to_value(&consent)?)),
        "balances" | "transactions" => {
            let put = connected(Method::PUT, CONSENTS).json(&consent).send().await?;
            if !put.status().is_success() {
                bail!("PUT consents: HTTP {}: {}", put.status(), put.text().await?);
            }
            let listed: HalAccounts = typed(connected(Method::GET, ACCOUNTS).send().await?, "GET accounts").await?;
            let id = listed
                .accounts
                .iter()
                .find_map(|a| a.resource_id.clone())
                .context("no account with a resourceId after the consent")?;
            let path = format!("{ACCOUNTS}/{id}/{}", args.scenario);
            if args.scenario == "transactions" {
                let page: HalTransactions =
                    typed(connected(Method::GET, &path).send().await?, "GET transactions").await?;
                let n = page.transactions.len();
                eprintln!("stet-tpp bench: account {id} answers {n} operations per transactions request");
            }
            scenario(Method::GET, &path, &aisp.access_token, None)
        }
        "funds" => {
            let cbpii = tokens(setup, client_id, &args.psu, "cbpii").await?;
            let body = PaymentCoverageRequest {
                payment_coverage_request_id: "bench".into(),
                payee: None,
                instructed_amount: Amount::parse("10.00", Currency::EUR)?,
                account_id: by_iban(&first_iban),
            };
            scenario(
                Method::POST,
                "/stet/psd2/v1.4.2/funds-confirmations",
                &cbpii.access_token,
                Some(serde_json::to_value(&body)?),
            )
        }
        "refresh" => {
            let refresh = aisp.refresh_token.as_deref().context("the token answer has no refresh token")?;
            scenario(Method::POST, "/stet/psd2/oauth/token", refresh, None)
        }
        other => bail!("--scenario {other}: use accounts, balances, transactions, consents, funds or refresh"),
    })
}

/// `args.pool` requests of the scenario, signed before the run.
fn sign_pool(
    args: &BenchArgs,
    setup: &TppClient,
    client_id: &str,
    scenario: &Scenario,
) -> anyhow::Result<Vec<Prepared>> {
    eprintln!("stet-tpp bench: signing {} requests before the run", args.pool);
    let mut pool: Vec<Prepared> = Vec::with_capacity(args.pool);
    for _ in 0..args.pool.max(1) {
        if args.scenario == "refresh" {
            let form = format!("grant_type=refresh_token&client_id={client_id}&refresh_token={}", scenario.token);
            pool.push(Prepared {
                method: scenario.method.clone(),
                path: scenario.path.clone(),
                headers: vec![
                    ("x-request-id".into(), stet_tpp::new_request_id()),
                    ("content-type".into(), "application/x-www-form-urlencoded".into()),
                ],
                body: form.into_bytes(),
            });
            continue;
        }
        let mut request = setup.signed(scenario.method.clone(), &scenario.path).bearer(&scenario.token);
        if !args.batch {
            request = request.header("psu-ip-address", PSU_IP);
        }
        if let Some(body) = &scenario.body {
            request = request.json(body);
        }
        pool.push(request.prepare()?);
    }
    Ok(pool)
}

pub async fn run(args: &BenchArgs) -> anyhow::Result<ExitCode> {
    let setup = client(&args.bank, Some(&args.certs))?;
    let client_id = org_id(&args.certs)?;
    let scenario = prepare(args, &setup, &client_id).await?;
    let pool = sign_pool(args, &setup, &client_id, &scenario)?;

    let http = match args.http.as_str() {
        "1" => HttpVersion::Http1Only,
        "2" => HttpVersion::Negotiate,
        other => bail!("--http {other}: use 1 or 2"),
    };
    let clients = |url: Option<&str>| -> anyhow::Result<Vec<TppClient>> {
        (0..args.connections.max(1))
            .map(|_| super::client_with(&args.bank, &args.certs, http, args.new_connection_per_request, url))
            .collect()
    };
    let label = if http == HttpVersion::Http1Only { "HTTP/1.1" } else { "HTTP/2" };
    let scenario = format!("{}{}", args.scenario, if args.batch { " (batch)" } else { " (PSU connected)" });
    let duration = Duration::from_secs_f64(args.duration);
    let baseline_pool = args.baseline_url.as_ref().map(|_| pool.clone());
    let mut report =
        stet_tpp::bench::run(&scenario, label, clients(None)?, pool, duration, args.new_connection_per_request).await;
    if let (Some(url), Some(pool)) = (&args.baseline_url, baseline_pool) {
        eprintln!("stet-tpp bench: the same requests against the baseline at {url}");
        let baseline = stet_tpp::bench::run(
            &format!("{scenario} on the bare-TLS baseline"),
            label,
            clients(Some(url))?,
            pool,
            duration,
            args.new_connection_per_request,
        )
        .await;
        report.compare_with(baseline);
    }
    let json = serde_json::to_string_pretty(&report)?;
    if let Some(path) = &args.json {
        std::fs::write(path, format!("{json}\n")).with_context(|| path.display().to_string())?;
    }
    let out = if args.format == "json" { format!("{json}\n") } else { report.text() };
    let _ = std::io::Write::write_all(&mut std::io::stdout().lock(), out.as_bytes());
    Ok(if report.requests > 0 { ExitCode::SUCCESS } else { ExitCode::from(3) })
}
