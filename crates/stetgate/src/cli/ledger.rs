//! `stetgate ledger import`: a bank's ISO 20022 statements (camt.053 end of day, camt.052
//! intraday) into the built-in SQL ledger, with the PSUs and account holders of a small CSV
//! (docs/operator-guide.md, "Importing statements").

use super::{AdminTarget, admin_command, bank_code, store_error};
use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use stetgate::config::Mode;
use stetgate::ledger::holders;
use stetgate::statement_import as import;

#[derive(Subcommand)]
pub(crate) enum LedgerCommand {
    /// Import camt.053 / camt.052 statement files: accounts, booked balances, booked and pending
    /// entries. One database transaction per file; importing a file again adds nothing.
    Import(ImportArgs),
}

#[derive(Args)]
pub(crate) struct ImportArgs {
    /// The bank whose statements these are.
    #[arg(long)]
    pub(crate) bank: String,
    /// CSV of the accounts' holders: bank_code,psu_id,display_name,segment,phone,iban,psu_status.
    #[arg(long)]
    pub(crate) holders: PathBuf,
    /// The statement files, imported in this order (an intraday report before the end-of-day
    /// statement that books its pending entries).
    #[arg(required = true)]
    pub(crate) files: Vec<PathBuf>,
    #[command(flatten)]
    pub(crate) target: AdminTarget,
}

pub(crate) fn run(command: &LedgerCommand) -> ExitCode {
    let LedgerCommand::Import(args) = command;
    admin_command(&args.target, async |admin, _| {
        let bank = bank_code(&args.bank)?;
        let text = std::fs::read_to_string(&args.holders)
            .map_err(|e| (2, format!("{}: cannot read the holders file: {e}", args.holders.display())))?;
        let holders = holders::parse(&text, bank).map_err(|e| (2, format!("{}: {e}", args.holders.display())))?;
        if admin.mode == Mode::Sandbox {
            // A fresh data directory: the published banks first, as `sandbox` would.
            stetgate::sandbox::seed(&admin.store, jiff::Timestamp::now()).await.map_err(|e| (1, e.to_string()))?;
        }
        if admin.store.bank(bank).await.map_err(store_error)?.is_none() {
            return Err((2, format!("bank {bank} is not in this database: configure it and start stetgate once")));
        }
        let mut total = import::FileSummary::default();
        for (done, file) in args.files.iter().enumerate() {
            let name = file.display();
            let progress = |entries| eprintln!("stetgate ledger import: {name}: {entries} entries");
            let summary = import::import_file(&admin.store, bank, &holders, file, progress).await.map_err(|e| {
                (1, format!("{e}\nnothing of this file was imported ({done} file(s) before it were; none after it)"))
            })?;
            eprintln!("stetgate ledger import: {name}: {} entries, done", summary.entries);
            say!("{name}: {summary}");
            total.statements += summary.statements;
            total.entries += summary.entries;
            total.written += summary.written;
        }
        say!("bank {bank}: {} files imported: {total}", args.files.len());
        Ok(())
    })
}
