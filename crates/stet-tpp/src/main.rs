//! `stet-tpp`: the TPP developer's command line for a STET PSD2 bank.
//!
//! ```text
//! stet-tpp aspsp    --url https://www.17515.sandbox.localhost:8443 --cacert stetgate-data/pki/ca.pem
//! stet-tpp register --url ... --cacert ... --certs tpp --name "My AISP" --redirect-uri https://tpp.example/cb
//! stet-tpp call GET /stet/psd2/v1.4.2/accounts --url ... --cacert ... --certs tpp [--header K:V] [--data JSON]
//! ```
//! `--certs DIR` holds `qwac.pem qwac.key qseal.pem qseal.key`, as `stetgate certs issue` writes them.

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use stet_tpp::{ClientConfig, Signer, TppClient};

#[derive(Parser)]
#[command(name = "stet-tpp", version, about = "A TPP client for STET PSD2 banks (AISP, CBPII)")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone)]
struct Bank {
    /// The bank's base URL, e.g. https://www.17515.sandbox.localhost:8443
    #[arg(long)]
    url: String,
    /// PEM of the CA the bank's certificate chains to (the sandbox's pki/ca.pem).
    #[arg(long)]
    cacert: PathBuf,
}

#[derive(Args, Clone)]
struct Certs {
    /// Directory with qwac.pem qwac.key qseal.pem qseal.key.
    #[arg(long)]
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
    Call {
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
        /// An access token.
        #[arg(long)]
        token: Option<String>,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Cli::parse().command).await {
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
    let mut config = ClientConfig::new(&bank.url, read(&bank.cacert)?.into_bytes());
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
    Ok(TppClient::new(config)?)
}

async fn print(response: reqwest::Response) -> anyhow::Result<ExitCode> {
    let status = response.status();
    println!("{:?} {}", response.version(), status);
    for (name, value) in response.headers() {
        println!("{name}: {}", value.to_str().unwrap_or("<binary>"));
    }
    let text = response.text().await?;
    println!();
    match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(json) => println!("{}", serde_json::to_string_pretty(&json)?),
        Err(_) => println!("{text}"),
    }
    Ok(if status.is_success() { ExitCode::SUCCESS } else { ExitCode::from(3) })
}

async fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Aspsp { bank } => {
            print(client(&bank, None)?.request(reqwest::Method::GET, "/stet/psd2/aspsp").send().await?).await
        }
        Command::Register { bank, certs, name, redirect_uris } => {
            let body = serde_json::json!({
                "client_name": name,
                "redirect_uris": redirect_uris,
                "qsealc": read(&certs.certs.join("qseal.pem"))?,
            });
            let response = client(&bank, Some(&certs))?
                .request(reqwest::Method::POST, "/stet/psd2/oauth/register")
                .json(&body)
                .send()
                .await?;
            print(response).await
        }
        Command::Call { method, path, bank, certs, headers, data, token } => {
            let method = reqwest::Method::from_bytes(method.to_ascii_uppercase().as_bytes()).context("method")?;
            let mut request = client(&bank, Some(&certs))?.signed(method, &path);
            for header in headers {
                let Some((name, value)) = header.split_once(':') else {
                    bail!("--header {header:?}: expected Name: value")
                };
                request = request.header(name.trim(), value.trim());
            }
            if let Some(data) = data {
                let json: serde_json::Value = serde_json::from_str(&data).context("--data is not JSON")?;
                request = request.json(&json);
            }
            if let Some(token) = token {
                request = request.bearer(&token);
            }
            print(request.send().await?).await
        }
    }
}
