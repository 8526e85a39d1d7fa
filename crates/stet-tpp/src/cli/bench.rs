//! `stet-tpp bench`: sets up what a scenario needs (tokens, consent, an account), signs a pool of
//! requests, then runs the load (see `stet_tpp::bench`).

use super::{BenchArgs, client, login, org_id};
use anyhow::{Context, bail};
use reqwest::Method;
use serde_json::{Value, json};
use std::process::ExitCode;
use std::time::Duration;
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

async fn json_of(response: reqwest::Response, what: &str) -> anyhow::Result<Value> {
    let status = response.status();
    let text = response.text().await?;
    if !status.is_success() {
        bail!("{what}: HTTP {status}: {text}");
    }
    Ok(if text.is_empty() { Value::Null } else { serde_json::from_str(&text)? })
}

pub async fn run(args: &BenchArgs) -> anyhow::Result<ExitCode> {
    let setup = client(&args.bank, Some(&args.certs))?;
    let client_id = org_id(&args.certs)?;
    let aisp = tokens(&setup, &client_id, &args.psu, "aisp").await?;
    let accounts_path = "/stet/psd2/v1.4.2/accounts";
    let psu_signed = |method: Method, path: &str, token: &str| {
        let request = setup.signed(method, path).bearer(token);
        if args.batch { request } else { request.header("psu-ip-address", PSU_IP) }
    };
    let list =
        json_of(psu_signed(Method::GET, accounts_path, &aisp.access_token).send().await?, "GET accounts").await?;
    let ibans: Vec<String> = list["accounts"]
        .as_array()
        .context("no accounts")?
        .iter()
        .filter_map(|a| a["accountId"]["iban"].as_str().map(str::to_owned))
        .collect();
    let first_iban = ibans.first().context("the PSU has no account")?.clone();
    let consent = json!({
        "balances": ibans.iter().map(|i| json!({"iban": i})).collect::<Vec<_>>(),
        "transactions": ibans.iter().map(|i| json!({"iban": i})).collect::<Vec<_>>(),
        "trustedBeneficiaries": false,
        "psuIdentity": false,
    });

    let (method, path, token, body): (Method, String, String, Option<Value>) = match args.scenario.as_str() {
        "accounts" => (Method::GET, accounts_path.to_owned(), aisp.access_token.clone(), None),
        "consents" => {
            (Method::PUT, "/stet/psd2/v1.4.2/consents".to_owned(), aisp.access_token.clone(), Some(consent.clone()))
        }
        "balances" | "transactions" => {
            json_of(
                setup
                    .signed(Method::PUT, "/stet/psd2/v1.4.2/consents")
                    .bearer(&aisp.access_token)
                    .header("psu-ip-address", PSU_IP)
                    .json(&consent)
                    .send()
                    .await?,
                "PUT consents",
            )
            .await?;
            let listed = json_of(
                setup
                    .signed(Method::GET, accounts_path)
                    .bearer(&aisp.access_token)
                    .header("psu-ip-address", PSU_IP)
                    .send()
                    .await?,
                "GET accounts",
            )
            .await?;
            let id = listed["accounts"]
                .as_array()
                .and_then(|a| a.iter().find_map(|a| a["resourceId"].as_str()))
                .context("no account with a resourceId after the consent")?
                .to_owned();
            let path = format!("{accounts_path}/{id}/{}", args.scenario);
            if args.scenario == "transactions" {
                let page = json_of(
                    setup
                        .signed(Method::GET, &path)
                        .bearer(&aisp.access_token)
                        .header("psu-ip-address", PSU_IP)
                        .send()
                        .await?,
                    "GET transactions",
                )
                .await?;
                let n = page["transactions"].as_array().map(Vec::len).unwrap_or(0);
                eprintln!("stet-tpp bench: account {id} answers {n} operations per transactions request");
            }
            (Method::GET, path, aisp.access_token.clone(), None)
        }
        "funds" => {
            let cbpii = tokens(&setup, &client_id, &args.psu, "cbpii").await?;
            let body = json!({
                "paymentCoverageRequestId": "bench",
                "instructedAmount": {"currency": "EUR", "amount": "10.00"},
                "accountId": {"iban": first_iban},
            });
            (Method::POST, "/stet/psd2/v1.4.2/funds-confirmations".to_owned(), cbpii.access_token, Some(body))
        }
        "refresh" => (Method::POST, "/stet/psd2/oauth/token".to_owned(), aisp.refresh_token.clone(), None),
        other => bail!("--scenario {other}: use accounts, balances, transactions, consents, funds or refresh"),
    };

    eprintln!("stet-tpp bench: signing {} requests before the run", args.pool);
    let mut pool: Vec<Prepared> = Vec::with_capacity(args.pool);
    for _ in 0..args.pool.max(1) {
        if args.scenario == "refresh" {
            let form = format!("grant_type=refresh_token&client_id={client_id}&refresh_token={token}");
            pool.push(Prepared {
                method: method.clone(),
                path: path.clone(),
                headers: vec![
                    ("x-request-id".into(), stet_tpp::new_request_id()),
                    ("content-type".into(), "application/x-www-form-urlencoded".into()),
                ],
                body: form.into_bytes(),
            });
            continue;
        }
        let mut request = psu_signed(method.clone(), &path, &token);
        if let Some(body) = &body {
            request = request.json(body);
        }
        pool.push(request.prepare()?);
    }

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
