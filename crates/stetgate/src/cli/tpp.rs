//! `stetgate tpp register|list|suspend|reactivate`: the operator's side of the registry.

use super::{AdminTarget, admin_command, org_id_arg, store_error};
use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use stetgate::app;
use stetgate::config::Mode;

#[derive(Subcommand)]
pub(crate) enum TppCommand {
    /// Register a TPP (or replace its registration) from its QWAC and QSealC files.
    Register(TppRegisterArgs),
    /// List registered TPPs.
    List(AdminTarget),
    /// Suspend a TPP: its tokens, refreshes, registration updates and authorizations are refused at
    /// once on every node, until the bank reactivates it (the registration API cannot).
    Suspend {
        /// The TPP's organization identifier (its client_id), e.g. PSDFR-ACPR-12345.
        org_id: String,
        /// Why, for the record (shown by `tpp list`).
        #[arg(long, default_value = "suspended by the bank")]
        reason: String,
        #[command(flatten)]
        target: AdminTarget,
    },
    /// Lift a suspension.
    Reactivate {
        org_id: String,
        #[command(flatten)]
        target: AdminTarget,
    },
}

#[derive(Args)]
pub(crate) struct TppRegisterArgs {
    /// The TPP's QWAC (PEM); its organizationIdentifier becomes the client_id.
    #[arg(long)]
    pub(crate) qwac: PathBuf,
    /// The TPP's QSealC (PEM), whose key signs its requests.
    #[arg(long)]
    pub(crate) qseal: PathBuf,
    /// A redirect URI (repeatable).
    #[arg(long = "redirect-uri", required = true)]
    pub(crate) redirect_uris: Vec<String>,
    /// The TPP's name.
    #[arg(long)]
    pub(crate) name: String,
    /// A contact e-mail address (repeatable).
    #[arg(long = "contact")]
    pub(crate) contacts: Vec<String>,
    #[command(flatten)]
    pub(crate) target: AdminTarget,
}

pub(crate) fn run(command: TppCommand) -> ExitCode {
    let target = match &command {
        TppCommand::Register(a) => &a.target,
        TppCommand::List(t) => t,
        TppCommand::Suspend { target, .. } | TppCommand::Reactivate { target, .. } => target,
    };
    admin_command(target, async |admin, _| match &command {
        TppCommand::Register(args) => tpp_register(admin, args, jiff::Timestamp::now()).await,
        TppCommand::List(_) => tpp_list(admin).await,
        TppCommand::Suspend { org_id, reason, .. } => {
            let org = org_id_arg(org_id)?;
            let now = jiff::Timestamp::now();
            if !admin.store.suspend_registration(&org, reason, now).await.map_err(store_error)? {
                return Err((1, format!("{org} is not registered")));
            }
            say!("{org} suspended: its calls, tokens and refreshes are refused until `stetgate tpp reactivate {org}`");
            Ok(())
        }
        TppCommand::Reactivate { org_id, .. } => {
            let org = org_id_arg(org_id)?;
            if !admin.store.lift_suspension(&org).await.map_err(store_error)? {
                return Err((1, format!("{org} is not registered")));
            }
            say!("{org} reactivated");
            Ok(())
        }
    })
}

async fn tpp_register(admin: &app::Admin, args: &TppRegisterArgs, now: jiff::Timestamp) -> Result<(), (u8, String)> {
    use stetgate::registry::{RegistrationRequest, validate_from_files};
    let read = |path: &PathBuf| std::fs::read_to_string(path).map_err(|e| (2, format!("{}: {e}", path.display())));
    let request = RegistrationRequest {
        client_name: args.name.clone(),
        redirect_uris: args.redirect_uris.clone(),
        qsealc: read(&args.qseal)?,
        contacts: args.contacts.clone(),
    };
    let registration =
        validate_from_files(&read(&args.qwac)?, &request, &admin.anchors, now, admin.mode == Mode::Sandbox)
            .map_err(|e| (2, e.to_string()))?;
    let store_error = |e: stetgate::store::StoreError| (1, e.to_string());
    let replaced = admin.store.replace_registration(&registration, now).await.map_err(store_error)?;
    if !replaced {
        admin.store.insert_registration(&registration, now).await.map_err(store_error)?;
    }
    say!(
        "{} {} (client_id {}, QSealC SHA-256 {})",
        if replaced { "replaced" } else { "registered" },
        registration.client_name,
        registration.org_id,
        registration.qsealc_sha256
    );
    Ok(())
}

async fn tpp_list(admin: &app::Admin) -> Result<(), (u8, String)> {
    let registrations = admin.store.registrations().await.map_err(|e| (1, e.to_string()))?;
    if registrations.is_empty() {
        say!("no registered TPP");
    }
    for r in registrations {
        let status = match &r.suspension_reason {
            Some(reason) if r.suspended_at.is_some() => format!("suspended ({reason})"),
            _ => r.status().to_owned(),
        };
        say!("{}\t{status}\t{}\t{}\t{}", r.org_id, r.client_name, r.qsealc_sha256, r.redirect_uris.join(" "));
    }
    Ok(())
}
