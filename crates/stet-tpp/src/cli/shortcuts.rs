//! The calls a TPP developer makes most, with the tokens `stet-tpp login` remembered:
//! `accounts`, `consent`, `balances`, `transactions`, `identity` (AISP) and `funds` (CBPII).

use super::output::Output;
use super::session::Session;
use super::{Bank, Certs, client, org_id};
use anyhow::Context;
use clap::{Args, Subcommand};
use serde_json::Value;
use std::process::ExitCode;
use stet::ais::{Access, AccountIdentification};
use stet::funds::PaymentCoverageRequest;
use stet::{Amount, ApiVersion, Currency};

/// Who the call is for, and how.
#[derive(Args)]
pub struct OnBehalf {
    #[command(flatten)]
    bank: Bank,
    #[command(flatten)]
    certs: Certs,
    /// The PSU whose remembered tokens to use (as given to stet-tpp login --psu).
    #[arg(long)]
    psu: String,
    /// v1, v1.4.2 or v1.6.2.
    #[arg(long, default_value = "v1.4.2")]
    version: String,
    /// The PSU's IP address, sent as PSU-IP-Address (the PSU is present).
    #[arg(long, default_value = "127.0.0.1")]
    psu_ip_address: String,
    /// A batch call without the PSU: no PSU-IP-Address (the bank allows 4 a day per account).
    #[arg(long)]
    batch: bool,
}

#[derive(Subcommand)]
pub enum Shortcut {
    /// The PSU's accounts: GET /accounts.
    Accounts(OnBehalf),
    /// Share accounts with this AISP: PUT /consents (IBANs, comma-separated).
    Consent {
        #[command(flatten)]
        on: OnBehalf,
        #[arg(long, value_delimiter = ',')]
        balances: Vec<String>,
        #[arg(long, value_delimiter = ',')]
        transactions: Vec<String>,
        /// Share the PSU's identity too.
        #[arg(long)]
        identity: bool,
    },
    /// An account's balances (its resourceId, from `accounts`).
    Balances {
        #[command(flatten)]
        on: OnBehalf,
        #[arg(long)]
        account: String,
    },
    /// An account's transactions, optionally between two RFC 3339 date-times.
    Transactions {
        #[command(flatten)]
        on: OnBehalf,
        #[arg(long)]
        account: String,
        #[arg(long)]
        from: Option<String>,
        #[arg(long)]
        to: Option<String>,
    },
    /// The PSU's identity: GET /end-user-identity.
    Identity(OnBehalf),
    /// Card issuers: whether an account covers an amount (POST /funds-confirmations).
    Funds {
        #[command(flatten)]
        on: OnBehalf,
        #[arg(long)]
        iban: String,
        /// Euros, e.g. 12.50.
        #[arg(long)]
        amount: String,
    },
}

const AIS: &[&str] = &["aisp"];
/// Funds confirmation from v1.4.2 on; [`FUNDS_V1`] is the scope v1 asks for.
const FUNDS: &[&str] = &["cbpii"];
const FUNDS_V1: &[&str] = &["piisp"];

/// One shortcut as a request: method, path under the version, body, the scopes that serve it.
type Call = (reqwest::Method, String, Option<Value>, &'static [&'static str]);

fn request(shortcut: &Shortcut) -> anyhow::Result<(&OnBehalf, Call)> {
    use reqwest::Method;
    let iban = |i: &String| AccountIdentification { iban: Some(i.clone()), ..Default::default() };
    Ok(match shortcut {
        Shortcut::Accounts(on) => (on, (Method::GET, "/accounts".into(), None, AIS)),
        Shortcut::Identity(on) => (on, (Method::GET, "/end-user-identity".into(), None, AIS)),
        Shortcut::Balances { on, account } => (on, (Method::GET, format!("/accounts/{account}/balances"), None, AIS)),
        Shortcut::Transactions { on, account, from, to } => {
            let mut query = url::form_urlencoded::Serializer::new(String::new());
            if let Some(from) = from {
                query.append_pair("dateFrom", from);
            }
            if let Some(to) = to {
                query.append_pair("dateTo", to);
            }
            let query = query.finish();
            let path = format!("/accounts/{account}/transactions{}{query}", if query.is_empty() { "" } else { "?" });
            (on, (Method::GET, path, None, AIS))
        }
        Shortcut::Consent { on, balances, transactions, identity } => {
            let access = Access {
                balances: balances.iter().map(iban).collect(),
                transactions: transactions.iter().map(iban).collect(),
                psu_identity: *identity,
                ..Default::default()
            };
            (on, (Method::PUT, "/consents".into(), Some(serde_json::to_value(access)?), AIS))
        }
        Shortcut::Funds { on, iban: account, amount } => {
            let body = PaymentCoverageRequest {
                payment_coverage_request_id: format!("stet-tpp-{}", &stet_tpp::new_request_id()[..8]),
                payee: None,
                instructed_amount: Amount::parse(amount, Currency::EUR).context("--amount")?,
                account_id: iban(account),
            };
            (on, (Method::POST, "/funds-confirmations".into(), Some(serde_json::to_value(body)?), FUNDS))
        }
    })
}

pub async fn run(shortcut: &Shortcut, out: Output) -> anyhow::Result<ExitCode> {
    let (on, (method, path, body, scopes)) = request(shortcut)?;
    let version = ApiVersion::from_segment(&on.version).context("--version: v1, v1.4.2 or v1.6.2")?;
    let scopes = if scopes == FUNDS && version == ApiVersion::V1 { FUNDS_V1 } else { scopes };
    let path = format!("/stet/psd2/{}{path}", version.segment());
    let client = client(&on.bank, Some(&on.certs))?;
    let session = Session { client: &client, client_id: org_id(&on.certs)?, psu: on.psu.clone(), scopes };
    let response = session
        .send(|| {
            let mut request = client.signed(method.clone(), &path);
            if !on.batch {
                request = request.header("PSU-IP-Address", on.psu_ip_address.clone());
            }
            if let Some(body) = &body {
                request = request.json(body);
            }
            request
        })
        .await?;
    out.print(response).await
}
