//! The `stetgate` command: `sandbox` (a self-contained test bank) and `serve` (production), and the
//! operator's commands. Each command lives in its own file under `cli/`.

// Rooms stay small: a function past `too-many-lines-threshold` (clippy.toml) is split.
#![warn(clippy::too_many_lines)]

mod cli;

use clap::{Parser, Subcommand};
use cli::certs::CertsCommand;
use cli::fallback::FallbackCommand;
use cli::outage::OutageCommand;
use cli::stats::StatsCommand;
use cli::tpp::TppCommand;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "stetgate", version, about = "A STET PSD2 dedicated interface for banks (ASPSPs)")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the sandbox: the published test banks and personas on embedded SQLite, with a test
    /// certificate authority, over HTTPS.
    Sandbox(cli::serve::SandboxArgs),
    /// Run in production: PostgreSQL, the bank's own TLS certificate and QTSP trust anchors, all from
    /// the configuration file. Nothing is seeded.
    Serve(cli::serve::ServeArgs),
    /// Test certificates for TPP developers, issued by the sandbox CA.
    #[command(subcommand)]
    Certs(CertsCommand),
    /// Registered TPPs (the operator's side of the registration API).
    #[command(subcommand)]
    Tpp(TppCommand),
    /// Availability and performance statistics (RTS art. 32).
    #[command(subcommand)]
    Stats(StatsCommand),
    /// Declared unavailability of the dedicated interface (counted as downtime; opens the fallback
    /// of banks that offer it only then).
    #[command(subcommand)]
    Outage(OutageCommand),
    /// The record of fallback uses (RTS art. 33), for abuse reports.
    #[command(subcommand)]
    Fallback(FallbackCommand),
    /// The PSU's permissions: the TPPs that can reach a PSU's accounts (for the bank's support).
    #[command(subcommand)]
    Psu(cli::psu::PsuCommand),
    /// Fill a bank's ledger with deterministic synthetic PSUs, accounts and operations, for
    /// performance measurements (docs/performance.md). Never on a production database.
    Fill(cli::fill::FillArgs),
    /// The built-in SQL ledger fed from the bank's ISO 20022 statements (camt.053, camt.052).
    #[command(subcommand)]
    Ledger(cli::ledger::LedgerCommand),
    /// The core-banking contract's reference adapter (docs/core-banking.md).
    #[command(subcommand)]
    CoreBanking(cli::core_banking::CoreBankingCommand),
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Sandbox(args) => cli::serve::sandbox(args),
        Command::Serve(args) => cli::serve::serve(args),
        Command::Certs(CertsCommand::Issue(args)) => cli::certs::issue(&args),
        Command::Certs(CertsCommand::Revoke(args)) => cli::certs::revoke(&args),
        Command::Tpp(command) => cli::tpp::run(command),
        Command::Stats(StatsCommand::Export(args)) => cli::stats::export(&args),
        Command::Outage(command) => cli::outage::run(&command),
        Command::Fill(args) => cli::fill::run(&args),
        Command::Psu(command) => cli::psu::run(&command),
        Command::Ledger(command) => cli::ledger::run(&command),
        Command::CoreBanking(command) => cli::core_banking::run(&command),
        Command::Fallback(FallbackCommand::Report { bank, since, target }) => {
            cli::fallback::report(bank.as_deref(), since.as_deref(), &target)
        }
    }
}
