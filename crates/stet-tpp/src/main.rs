//! `stet-tpp`: the TPP developer's command line for a STET PSD2 bank.

use clap::{Parser, Subcommand};
use std::process::ExitCode;
use stet_tpp::{ClientConfig, TppClient};

#[derive(Parser)]
#[command(name = "stet-tpp", version, about = "A TPP client for STET PSD2 banks (AISP, CBPII)")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Show which bank (ASPSP) a base URL reaches: GET /stet/psd2/aspsp.
    Aspsp {
        /// e.g. https://www.17515.sandbox.localhost:8443
        #[arg(long)]
        url: String,
        /// PEM of the CA the bank's certificate chains to (the sandbox's pki/ca.pem).
        #[arg(long)]
        cacert: std::path::PathBuf,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Aspsp { url, cacert } => match aspsp(&url, &cacert).await {
            Ok(text) => {
                println!("{text}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("stet-tpp: {e:#}");
                ExitCode::from(1)
            }
        },
    }
}

async fn aspsp(url: &str, cacert: &std::path::Path) -> anyhow::Result<String> {
    let ca = std::fs::read(cacert).map_err(|e| anyhow::anyhow!("{}: {e}", cacert.display()))?;
    let client = TppClient::new(ClientConfig::new(url, ca))?;
    let response = client.request(reqwest::Method::GET, "/stet/psd2/aspsp").send().await?;
    let status = response.status();
    let body: serde_json::Value = response.json().await?;
    if !status.is_success() {
        anyhow::bail!("{status}: {body}");
    }
    Ok(serde_json::to_string_pretty(&body)?)
}
