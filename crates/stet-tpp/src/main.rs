//! `stet-tpp`: the TPP developer's command line for a STET PSD2 bank.
//!
//! ```text
//! stet-tpp aspsp    --bank 17515
//! stet-tpp register --bank 17515 --certs tpp --name "My AISP" --redirect-uri https://tpp.example/cb
//! stet-tpp login    --bank 17515 --psu 9999999901 --scope aisp     (sandbox: prints and remembers the tokens)
//! stet-tpp accounts --bank 17515 --psu 9999999901                  (uses them, refreshing when needed)
//! stet-tpp consent  --bank 17515 --psu 9999999901 --balances FR76... --transactions FR76... --identity
//! stet-tpp balances | transactions --account ID | identity | funds --iban FR76... --amount 12.50
//! stet-tpp call GET /stet/psd2/v1.4.2/accounts --bank 17515 --psu 9999999901 (or --token <access token>)
//! stet-tpp refresh  --bank 17515 --refresh-token <refresh token>
//! stet-tpp revoke   --bank 17515 --token <access or refresh token>
//! stet-tpp pay      --bank 13807 --psu D0999990I0 --amount 12.50 --payee "Boulangerie Paul" \
//!                   --payee-iban FR7630004000031234567890143      (sandbox: the whole PISP walk)
//! stet-tpp bench    --bank 17515 --scenario accounts --connections 64 --duration 10
//! stet-tpp conformance --bank 13807 --report-junit conformance.xml  (the bank's acceptance tests)
//! stet-tpp completions bash > /etc/bash_completion.d/stet-tpp
//! ```
//! `--bank CODE` means `--url https://www.CODE.sandbox.localhost:8443`; `--cacert` defaults to the
//! sandbox's `stetgate-data/pki/ca.pem`; `--certs DIR` (default `tpp`) holds `qwac.pem qwac.key
//! qseal.pem qseal.key`, as `stetgate certs issue` writes them. Answers print their body only
//! (JSON, for `jq`); `-i` adds the status line and headers. Exit codes: 0 a 2xx answer, 3 another
//! answer (with the fix on stderr when it is a set-up mistake), 1 stet-tpp could not do it.

// Rooms stay small: a function past `too-many-lines-threshold` (clippy.toml) is split.
#![warn(clippy::too_many_lines)]

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
#[path = "cli/bench.rs"]
mod bench;
#[path = "cli/conformance.rs"]
mod conformance;
#[path = "cli/output.rs"]
mod output;
#[path = "cli/pay.rs"]
mod pay;
#[path = "cli/session.rs"]
mod session;
#[path = "cli/shortcuts.rs"]
mod shortcuts;

use output::Output;
use session::{Session, TokenStore};

use stet_tpp::{
    AuthorizationRequest, ClientConfig, FlowEnd, HttpVersion, PsuAnswers, Signer, TppClient, new_request_id,
};

#[derive(Parser)]
#[command(name = "stet-tpp", version, about = "A TPP client for STET PSD2 banks (AISP, CBPII, PISP)")]
struct Cli {
    /// Print the status line and the headers before the body.
    #[arg(short = 'i', long = "include", global = true)]
    include: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone)]
struct Bank {
    /// The bank's base URL, e.g. https://www.17515.sandbox.localhost:8443
    #[arg(long, conflicts_with = "bank")]
    url: Option<String>,
    /// A sandbox bank code: the URL is https://www.<code>.sandbox.localhost:8443
    #[arg(long)]
    bank: Option<String>,
    /// PEM of the CA the bank's certificate chains to.
    #[arg(long, default_value = "stetgate-data/pki/ca.pem")]
    cacert: PathBuf,
}

impl Bank {
    fn url(&self) -> anyhow::Result<String> {
        match (&self.url, &self.bank) {
            (Some(url), _) => Ok(url.clone()),
            (None, Some(code)) => Ok(format!("https://www.{code}.sandbox.localhost:8443")),
            (None, None) => bail!("say which bank: --bank 17515 (sandbox) or --url https://..."),
        }
    }
}

#[derive(Args, Clone)]
struct Certs {
    /// Directory with qwac.pem qwac.key qseal.pem qseal.key.
    #[arg(long, default_value = "tpp")]
    certs: PathBuf,
    /// keyId to sign with [default: https://tpp.sandbox.localhost/qseal_<SHA-256 of qseal.pem>].
    #[arg(long)]
    key_id: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Show which bank (ASPSP) a base URL reaches: GET /stet/psd2/aspsp.
    Aspsp {
        #[command(flatten)]
        bank: Bank,
    },
    /// Register this TPP (its QSealC and redirect URIs) with the bank, over mutual TLS.
    Register {
        #[command(flatten)]
        bank: Bank,
        #[command(flatten)]
        certs: Certs,
        #[arg(long)]
        name: String,
        /// Repeatable.
        #[arg(long = "redirect-uri", required = true)]
        redirect_uris: Vec<String>,
    },
    /// Send one signed STET request and print the answer.
    Call(CallArgs),
    /// Sandbox: authorize as a test PSU through the bank's pages (followed over HTTP, no browser),
    /// exchange the code, print the tokens and remember them for the PSU's later calls.
    Login {
        #[command(flatten)]
        bank: Bank,
        #[command(flatten)]
        certs: Certs,
        /// The persona's online-banking id, e.g. 9999999901.
        #[arg(long)]
        psu: String,
        /// aisp, cbpii or piisp (space-separated to combine).
        #[arg(long)]
        scope: String,
        /// The one-time code (the sandbox's is 12345678).
        #[arg(long, default_value = "12345678")]
        otp: String,
        /// Card issuers: the accounts (resource ids, comma-separated) to tick [default: all].
        #[arg(long, value_delimiter = ',')]
        accounts: Option<Vec<String>>,
        /// The redirect URI [default: the first one registered].
        #[arg(long)]
        redirect_uri: Option<String>,
    },
    /// Sandbox: initiate a payment and walk it through: the PISP's token, the request, the PSU's
    /// approval on the bank's pages (followed over HTTP), the confirmation, and the status.
    Pay(PayArgs),
    /// A new access token for a refresh token.
    Refresh {
        #[command(flatten)]
        bank: Bank,
        #[command(flatten)]
        certs: Certs,
        #[arg(long)]
        refresh_token: String,
    },
    /// Load test: pre-signed STET requests over N keep-alive mTLS connections; prints throughput,
    /// latency percentiles and answers by status (text or JSON). Logs in as --psu first (sandbox).
    Bench(BenchArgs),
    /// Run the bank's published acceptance tests (AISP, CBPII, PISP) and report each case with its
    /// evidence: text, --report-junit, --report-html. Exit 0 all passed, 1 a case failed, 2 not run.
    Conformance(Box<conformance::ConformanceArgs>),
    /// Revoke an access or refresh token (and the other one of its pair).
    Revoke {
        #[command(flatten)]
        bank: Bank,
        #[command(flatten)]
        certs: Certs,
        #[arg(long)]
        token: String,
    },
    #[command(flatten)]
    Shortcut(shortcuts::Shortcut),
    /// Print a shell completion script: bash, zsh, fish, elvish or powershell.
    Completions { shell: clap_complete::Shell },
}

#[derive(Args)]
struct CallArgs {
    /// GET, POST, PUT...
    method: String,
    /// e.g. /stet/psd2/v1.4.2/accounts
    path: String,
    #[command(flatten)]
    bank: Bank,
    #[command(flatten)]
    certs: Certs,
    /// An extra header, `Name: value` (repeatable; psu-* headers are signed too).
    #[arg(long = "header")]
    headers: Vec<String>,
    /// A JSON body.
    #[arg(long)]
    data: Option<String>,
    /// An access token [default: the one remembered for --psu].
    #[arg(long, conflicts_with = "psu")]
    token: Option<String>,
    /// Use the tokens `stet-tpp login` remembered for this PSU (refreshed when needed).
    #[arg(long)]
    psu: Option<String>,
    /// With --psu: the remembered token's scope (aisp, cbpii, piisp or pisp) [default: the
    /// path's: funds-confirmations cbpii (piisp on v1), payment-requests pisp, else aisp].
    #[arg(long, requires = "psu")]
    scope: Option<String>,
}

#[derive(Args)]
struct PayArgs {
    #[command(flatten)]
    bank: Bank,
    #[command(flatten)]
    certs: Certs,
    /// The paying persona's online-banking id, e.g. D0999990I0.
    #[arg(long)]
    psu: String,
    /// The one-time code (the sandbox's is 12345678).
    #[arg(long, default_value = "12345678")]
    otp: String,
    /// Euros, e.g. 12.50.
    #[arg(long)]
    amount: String,
    /// The creditor's name.
    #[arg(long)]
    payee: String,
    /// The creditor's IBAN.
    #[arg(long)]
    payee_iban: String,
    /// The remittance line.
    #[arg(long, default_value = "stet-tpp payment")]
    remittance: String,
    /// The debtor IBAN [default: the PSU chooses on the bank's page].
    #[arg(long)]
    debtor: Option<String>,
    /// When the PSU chooses: the account (resource id) to pick [default: the first offered].
    #[arg(long)]
    account: Option<String>,
    /// SEPA instant (localInstrument INST).
    #[arg(long)]
    instant: bool,
    /// The execution day, YYYY-MM-DD [default: today].
    #[arg(long)]
    date: Option<String>,
    /// v1, v1.4.2 or v1.6.2.
    #[arg(long, default_value = "v1.6.2")]
    version: String,
}

#[derive(Args)]
struct BenchArgs {
    #[command(flatten)]
    bank: Bank,
    #[command(flatten)]
    certs: Certs,
    /// accounts, balances, transactions, consents (PUT), funds (POST funds-confirmations) or refresh.
    #[arg(long, default_value = "accounts")]
    scenario: String,
    /// The persona to log in as.
    #[arg(long, default_value = "9999999901")]
    psu: String,
    /// Batch variant: no PSU-IP-Address (the bank allows 4 such calls a day per account).
    #[arg(long)]
    batch: bool,
    /// Concurrent connections.
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// Seconds of timed load.
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// 1 (HTTP/1.1) or 2 (HTTP/2, one connection per client).
    #[arg(long, default_value = "1")]
    http: String,
    /// Open a new TLS connection for every request (measures handshakes).
    #[arg(long)]
    new_connection_per_request: bool,
    /// How many distinct requests to sign before the run.
    #[arg(long, default_value_t = 1000)]
    pool: usize,
    /// text or json.
    #[arg(long, default_value = "text")]
    format: String,
    /// Also write the JSON report to this file.
    #[arg(long)]
    json: Option<PathBuf>,
    /// After the run, send the same pre-signed requests to this bare-TLS baseline (the
    /// `baseline` example of the stetgate crate) for as long, and report stetgate's throughput
    /// as a fraction of the baseline's.
    #[arg(long)]
    baseline_url: Option<String>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command, Output { include: cli.include }).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("stet-tpp: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn read(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| path.display().to_string())
}

fn client(bank: &Bank, certs: Option<&Certs>) -> anyhow::Result<TppClient> {
    Ok(TppClient::new(client_config(bank, certs)?)?)
}

/// A client speaking `http`, reusing its connection or not, sending to `url` instead of the bank's
/// URL when given (the bench's baseline).
fn client_with(
    bank: &Bank,
    certs: &Certs,
    http: HttpVersion,
    new_connection: bool,
    url: Option<&str>,
) -> anyhow::Result<TppClient> {
    let mut config = client_config(bank, Some(certs))?;
    if let Some(url) = url {
        config.base_url = url.to_owned();
    }
    config.http = http;
    config.new_connection_per_request = new_connection;
    Ok(TppClient::new(config)?)
}

fn client_config(bank: &Bank, certs: Option<&Certs>) -> anyhow::Result<ClientConfig> {
    let mut config = ClientConfig::new(bank.url()?, read(&bank.cacert)?.into_bytes());
    if let Some(certs) = certs {
        let dir = &certs.certs;
        config.qwac = Some((read(&dir.join("qwac.pem"))?.into_bytes(), read(&dir.join("qwac.key"))?.into_bytes()));
        let seal = read(&dir.join("qseal.pem"))?;
        let key_id = match &certs.key_id {
            Some(k) => k.clone(),
            None => Signer::key_id_url_for(&seal, "https://tpp.sandbox.localhost/qseal")
                .context("qseal.pem is not a certificate")?,
        };
        config.signer = Some(Signer::new(&read(&dir.join("qseal.key"))?, key_id)?);
    }
    Ok(config)
}

async fn run(command: Command, out: Output) -> anyhow::Result<ExitCode> {
    match command {
        Command::Aspsp { bank } => {
            out.print(client(&bank, None)?.request(reqwest::Method::GET, "/stet/psd2/aspsp").send().await?).await
        }
        Command::Register { bank, certs, name, redirect_uris } => {
            let body = stet::registration::RegistrationRequest {
                client_name: name,
                redirect_uris,
                qsealc: read(&certs.certs.join("qseal.pem"))?,
                contacts: Vec::new(),
            };
            let response = client(&bank, Some(&certs))?
                .request(reqwest::Method::POST, "/stet/psd2/oauth/register")
                .json(&body)
                .send()
                .await?;
            out.print(response).await
        }
        Command::Call(args) => call(args, out).await,
        Command::Login { bank, certs, psu, scope, otp, accounts, redirect_uri } => {
            let client = client(&bank, Some(&certs))?;
            let client_id = org_id(&certs)?;
            let answer =
                out.read(login(&client, &client_id, redirect_uri, &psu, &scope, &otp, accounts).await?).await?;
            if answer.status.is_success() {
                let tokens: stet_tpp::Tokens = serde_json::from_str(&answer.text).context("the token answer")?;
                TokenStore::open()?.remember(client.base_url(), &client_id, &psu, &tokens, None)?;
            }
            Ok(out.show(&answer))
        }
        Command::Bench(args) => bench::run(&args).await,
        Command::Conformance(args) => conformance::run(&args).await,
        Command::Pay(args) => pay::run(&args, out).await,
        Command::Refresh { bank, certs, refresh_token } => {
            let client = client(&bank, Some(&certs))?;
            out.print(client.refresh(&org_id(&certs)?, &refresh_token).await?).await
        }
        Command::Revoke { bank, certs, token } => {
            let client = client(&bank, Some(&certs))?;
            out.print(client.revoke(&org_id(&certs)?, &token).await?).await
        }
        Command::Shortcut(shortcut) => shortcuts::run(&shortcut, out).await,
        Command::Completions { shell } => {
            use clap::CommandFactory as _;
            clap_complete::generate(shell, &mut Cli::command(), "stet-tpp", &mut std::io::stdout());
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `call`: one signed request, with a token given or remembered for a PSU.
async fn call(args: CallArgs, out: Output) -> anyhow::Result<ExitCode> {
    let CallArgs { method, path, bank, certs, headers, data, token, psu, scope } = args;
    let method = reqwest::Method::from_bytes(method.to_ascii_uppercase().as_bytes()).context("method")?;
    let client = client(&bank, Some(&certs))?;
    let mut extra = Vec::new();
    for header in headers {
        let Some((name, value)) = header.split_once(':') else { bail!("--header {header:?}: expected Name: value") };
        extra.push((name.trim().to_owned(), value.trim().to_owned()));
    }
    let body = data.map(|d| serde_json::from_str::<serde_json::Value>(&d).context("--data is not JSON")).transpose()?;
    let build = || {
        let mut request = client.signed(method.clone(), &path);
        for (name, value) in &extra {
            request = request.header(name, value.clone());
        }
        if let Some(body) = &body {
            request = request.json(body);
        }
        request
    };
    let response = match (token, psu) {
        (Some(token), _) => build().bearer(&token).send().await?,
        (None, Some(psu)) => {
            let scopes = scopes_for(scope.as_deref().unwrap_or_else(|| scope_of_path(&path)))?;
            Session { client: &client, client_id: org_id(&certs)?, psu, scopes }.send(build).await?
        }
        (None, None) => build().send().await?,
    };
    out.print(response).await
}

/// The scopes a remembered token may have to serve `scope`.
fn scopes_for(scope: &str) -> anyhow::Result<&'static [&'static str]> {
    Ok(match scope {
        "aisp" => &["aisp"],
        "cbpii" => &["cbpii"],
        "piisp" => &["piisp"],
        "pisp" => &["pisp"],
        other => bail!("--scope {other}: aisp, cbpii, piisp or pisp"),
    })
}

/// The scope a path's resource serves: funds confirmation `cbpii` (`piisp` on v1), payment
/// initiation `pisp`, account information `aisp`.
fn scope_of_path(path: &str) -> &'static str {
    if path.contains("/funds-confirmations") {
        if path.starts_with("/stet/psd2/v1/") { "piisp" } else { "cbpii" }
    } else if path.contains("/payment-requests") {
        "pisp"
    } else {
        "aisp"
    }
}

/// Authorizes as `psu` through the bank's pages and exchanges the code: the token response.
async fn login(
    client: &TppClient,
    client_id: &str,
    redirect_uri: Option<String>,
    psu: &str,
    scope: &str,
    otp: &str,
    accounts: Option<Vec<String>>,
) -> anyhow::Result<reqwest::Response> {
    let redirect_uri = match redirect_uri {
        Some(uri) => uri,
        None => registered_redirect_uri(client, client_id).await?,
    };
    let request = AuthorizationRequest {
        client_id: client_id.to_owned(),
        redirect_uri: redirect_uri.clone(),
        scope: scope.to_owned(),
        state: Some(new_request_id()),
        code_challenge: None,
    };
    let answers = PsuAnswers { psu_id: psu.to_owned(), otp: otp.to_owned(), accounts };
    let code = match client.drive_authorization(&request, &answers).await? {
        FlowEnd::Redirected(back) => match (back.get("code"), back.get("error")) {
            (Some(code), _) => code.to_owned(),
            (None, Some(error)) => {
                bail!("the bank answered {error}: {}", back.get("error_description").unwrap_or(""))
            }
            _ => bail!("unexpected redirect: {}", back.location),
        },
        FlowEnd::Page(status, _) => bail!("the bank's pages stopped with HTTP {status}"),
    };
    Ok(client.exchange_code(client_id, &code, &redirect_uri).await?)
}

/// The client_id: the organizationIdentifier of the QWAC.
fn org_id(certs: &Certs) -> anyhow::Result<String> {
    let qwac = eidas::psd2::parse_pem(&read(&certs.certs.join("qwac.pem"))?).context("qwac.pem")?;
    Ok(qwac.org_id().context("qwac.pem has no PSD2 organizationIdentifier")?.to_string())
}

async fn registered_redirect_uri(client: &TppClient, client_id: &str) -> anyhow::Result<String> {
    let response =
        client.request(reqwest::Method::GET, &format!("/stet/psd2/oauth/register/{client_id}")).send().await?;
    if !response.status().is_success() {
        bail!("{client_id} is not registered at this bank (stet-tpp register ...)");
    }
    let registration: stet::registration::RegistrationResponse = response.json().await?;
    registration.redirect_uris.into_iter().next().context("no registered redirect URI")
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_path_names_its_scope() {
        assert_eq!(super::scope_of_path("/stet/psd2/v1/funds-confirmations"), "piisp");
        assert_eq!(super::scope_of_path("/stet/psd2/v1.4.2/funds-confirmations"), "cbpii");
        assert_eq!(super::scope_of_path("/stet/psd2/v1.6.2/payment-requests/PR1"), "pisp");
        assert_eq!(super::scope_of_path("/stet/psd2/v1.4.2/accounts"), "aisp");
    }
}
