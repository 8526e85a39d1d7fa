//! `stetgate psu access list|revoke`: the permission dashboard for the bank's support staff (the
//! same effect as the PSU's own withdrawal, recorded as done by the bank).

use super::{AdminTarget, admin_command, bank_code, store_error};
use clap::Subcommand;
use std::process::ExitCode;
use stetgate::app::Admin;
use stetgate::config::Config;
use stetgate::ledger::PsuId;
use stetgate::permissions::model::{AccessRole, WithdrawnBy};

#[derive(Subcommand)]
pub(crate) enum PsuCommand {
    /// The TPPs that can reach a PSU's accounts, and withdrawing their access.
    #[command(subcommand)]
    Access(AccessCommand),
}

#[derive(Subcommand)]
pub(crate) enum AccessCommand {
    /// Every TPP with live access to the PSU's accounts (tab-separated), then the withdrawals.
    List {
        #[arg(long)]
        bank: String,
        /// The PSU's online-banking id.
        #[arg(long)]
        psu: String,
        #[command(flatten)]
        target: AdminTarget,
    },
    /// Withdraw a TPP's access for the PSU: its tokens revoked and its consent removed at once.
    Revoke {
        #[arg(long)]
        bank: String,
        #[arg(long)]
        psu: String,
        /// The TPP's organization identifier, e.g. PSDFR-ACPR-12345.
        #[arg(long)]
        tpp: String,
        /// aisp, cbpii or pisp [default: every role of the TPP].
        #[arg(long)]
        role: Option<String>,
        #[command(flatten)]
        target: AdminTarget,
    },
}

fn psu_arg(text: &str) -> Result<PsuId, (u8, String)> {
    PsuId::parse(text).ok_or((2, format!("{text} is not an online-banking id (1 to 35 letters and digits)")))
}

pub(crate) fn run(command: &PsuCommand) -> ExitCode {
    let PsuCommand::Access(command) = command;
    let target = match command {
        AccessCommand::List { target, .. } | AccessCommand::Revoke { target, .. } => target,
    };
    admin_command(target, async |admin, config| match command {
        AccessCommand::List { bank, psu, .. } => list(admin, config, bank, psu).await,
        AccessCommand::Revoke { bank, psu, tpp, role, .. } => revoke(admin, bank, psu, tpp, role.as_deref()).await,
    })
}

/// One line per TPP and role (tab-separated), then one per withdrawal.
async fn list(admin: &Admin, config: &Config, bank: &str, psu: &str) -> Result<(), (u8, String)> {
    let (bank, psu) = (bank_code(bank)?, psu_arg(psu)?);
    let validity = config.oauth.sca_validity();
    let overview =
        stetgate::permissions::overview(&admin.store, &admin.store, bank, &psu, validity, jiff::Timestamp::now())
            .await
            .map_err(|e| (1, e.to_string()))?;
    say!("tpp\tname\trole\tsince\tuntil\tlast_used\taccounts");
    let instant = |t: Option<jiff::Timestamp>| t.map(super::instant).unwrap_or_else(|| "-".to_owned());
    for tpp in &overview.tpps {
        for access in &tpp.roles {
            let accounts: Vec<String> = access
                .accounts
                .iter()
                .map(|(a, what)| format!("{}:{}", a.iban, what.join("+")))
                .chain(access.payments.iter().map(|p| format!("{}:{}:{}", p.id, p.amount, p.status)))
                .collect();
            say!(
                "{}\t{}\t{}\t{}\t{}\t{}\t{}",
                tpp.client_id,
                tpp.name,
                access.role.as_str(),
                instant(access.since),
                instant(access.until),
                instant(access.last_used),
                accounts.join(" ")
            );
        }
    }
    for w in &overview.withdrawals {
        say!("withdrawn\t{}\t{}\t{}\tby {}", super::instant(w.at), w.client_id, w.role.as_str(), w.by.as_str());
    }
    Ok(())
}

/// Withdraws the TPP's access (one role, or every role it holds); 1 when there was none.
async fn revoke(admin: &Admin, bank: &str, psu: &str, tpp: &str, role: Option<&str>) -> Result<(), (u8, String)> {
    let (bank, psu) = (bank_code(bank)?, psu_arg(psu)?);
    let tpp = super::org_id_arg(tpp)?;
    let roles = match role {
        Some(r) => vec![AccessRole::parse(r).ok_or((2, format!("--role {r}: use aisp, cbpii or pisp")))?],
        None => AccessRole::ALL.to_vec(),
    };
    let mut withdrawn = false;
    for role in roles {
        let now = jiff::Timestamp::now();
        let done = stetgate::permissions::withdraw(&admin.store, bank, &psu, &tpp, role, WithdrawnBy::Support, now)
            .await
            .map_err(store_error)?;
        if let Some(w) = done {
            let roles: Vec<&str> = w.roles.iter().map(|r| r.as_str()).collect();
            say!("{tpp} {}: access withdrawn ({} token pair(s) revoked)", roles.join("+"), w.pairs_revoked);
            withdrawn = true;
        }
    }
    if !withdrawn {
        return Err((1, format!("{tpp} has no such access to the accounts of {} at bank {bank}", psu.as_str())));
    }
    Ok(())
}
