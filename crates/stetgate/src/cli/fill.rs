//! `stetgate fill`: a bank's ledger filled with deterministic synthetic PSUs, accounts and
//! operations, for performance measurements (docs/performance.md).

use super::{AdminTarget, admin_command, bank_code, store_error};
use clap::Args;
use std::process::ExitCode;
use stetgate::config::Mode;

#[derive(Args)]
pub(crate) struct FillArgs {
    /// How many accounts the bank should have from the fill (accounts 0..N; those already there
    /// are kept, so filling 10000 after 1000 adds 9000).
    #[arg(long)]
    pub(crate) accounts: u64,
    /// The bank (in the sandbox, a published bank code).
    #[arg(long, default_value = "17515")]
    pub(crate) bank: String,
    /// Operations of every account but the first.
    #[arg(long, default_value_t = 2)]
    pub(crate) transactions_per_account: u32,
    /// Operations of account 0 (PSU F0000000000), the account of the transactions benchmark.
    #[arg(long, default_value_t = 500)]
    pub(crate) large_account_operations: u32,
    #[command(flatten)]
    pub(crate) target: AdminTarget,
}

/// Accounts per database transaction of `stetgate fill` (bounded memory, visible progress).
const FILL_CHUNK: u64 = 20_000;

pub(crate) fn run(args: &FillArgs) -> ExitCode {
    admin_command(&args.target, async |admin, _| {
        let bank = bank_code(&args.bank)?;
        if args.accounts > 99_999_999_999 {
            return Err((2, "--accounts: at most 99999999999 (11-digit account numbers)".into()));
        }
        let now = jiff::Timestamp::now();
        if admin.mode == Mode::Sandbox {
            // A fresh data directory: the published banks and personas first, as `sandbox` would.
            stetgate::sandbox::seed(&admin.store, now).await.map_err(|e| (1, e.to_string()))?;
        }
        if admin.store.bank(bank).await.map_err(store_error)?.is_none() {
            return Err((2, format!("bank {bank} is not in this database: configure it and start stetgate once")));
        }
        let calendar = stetgate::clock::Calendar::paris().map_err(|e| (1, e.to_string()))?;
        let plan = stetgate::ledger::fill::FillPlan {
            bank,
            accounts: args.accounts,
            transactions_per_account: args.transactions_per_account,
            large_account_operations: args.large_account_operations,
            today: calendar.date_of(now),
        };
        let started = std::time::Instant::now();
        let mut start = 0;
        while start < plan.accounts {
            let end = (start + FILL_CHUNK).min(plan.accounts);
            let chunk = plan.chunk(start..end).map_err(|e| (1, e))?;
            admin.store.load_ledger(&chunk.psus, &chunk.accounts).await.map_err(store_error)?;
            admin.store.load_transactions(&chunk.transactions).await.map_err(store_error)?;
            start = end;
            eprintln!("stetgate fill: {end} / {} accounts ({:.0} s)", plan.accounts, started.elapsed().as_secs_f64());
        }
        say!(
            "bank {bank}: {} synthetic accounts (PSUs F0000000000 to F{:010}); account 0 has {} operations",
            plan.accounts,
            plan.accounts.saturating_sub(1) / 2,
            plan.large_account_operations
        );
        Ok(())
    })
}
