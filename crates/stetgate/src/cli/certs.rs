//! `stetgate certs issue`: test QWAC and QSealC for TPP developers, from the sandbox CA;
//! `stetgate certs revoke`: revoke one, so the developer sees what a revoked certificate gets.

use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Subcommand)]
pub(crate) enum CertsCommand {
    /// Issue a QWAC (TLS) and a QSealC (signatures) for a TPP: writes qwac.pem qwac.key qseal.pem
    /// qseal.key (keys PKCS#8 PEM) and prints the keyId to sign with.
    Issue(CertsIssueArgs),
    /// Revoke a test certificate of the sandbox CA (by serial or certificate file): the sandbox's
    /// CRL and OCSP responder list it from now on, and the sandbox refuses it within a minute.
    Revoke(CertsRevokeArgs),
}

#[derive(Args)]
pub(crate) struct CertsRevokeArgs {
    /// The certificate's serial number, hexadecimal (as `openssl x509 -serial` prints it).
    #[arg(long, conflicts_with = "cert", required_unless_present = "cert")]
    pub(crate) serial: Option<String>,
    /// The certificate (PEM), e.g. qwac.pem or qseal.pem.
    #[arg(long)]
    pub(crate) cert: Option<PathBuf>,
    /// The sandbox data directory holding the CA.
    #[arg(long, default_value = "stetgate-data")]
    pub(crate) data_dir: PathBuf,
}

pub(crate) fn revoke(args: &CertsRevokeArgs) -> ExitCode {
    let serial = match (&args.serial, &args.cert) {
        (Some(serial), _) => Ok(serial.clone()),
        (None, Some(file)) => std::fs::read_to_string(file)
            .map_err(|e| format!("{}: {e}", file.display()))
            .and_then(|pem| eidas::psd2::parse_pem(&pem).map_err(|e| format!("{}: {e}", file.display())))
            .map(|cert| cert.serial_hex),
        (None, None) => Err("--serial or --cert is required".to_owned()),
    };
    let revoked = serial.and_then(|serial| {
        stetgate::sandbox::revocation::revoke(&args.data_dir, &serial, jiff::Timestamp::now().as_second())
            .map(|fresh| (serial, fresh))
    });
    match revoked {
        Ok((serial, true)) => {
            say!("revoked {serial}: the sandbox's CRL and OCSP responder list it now");
            ExitCode::SUCCESS
        }
        Ok((serial, false)) => {
            say!("{serial} was already revoked");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("stetgate certs revoke: {e}");
            ExitCode::from(2)
        }
    }
}

#[derive(Args)]
pub(crate) struct CertsIssueArgs {
    /// The TPP's authorization number, e.g. PSDFR-ACPR-12345 (its client_id).
    #[arg(long)]
    pub(crate) org_id: String,
    /// PSD2 roles, comma-separated: PSP_AI (account information), PSP_IC (funds confirmation),
    /// PSP_PI (payment initiation), PSP_AS.
    #[arg(long)]
    pub(crate) roles: String,
    /// Organization name in the certificates [default: Test TPP <org id>].
    #[arg(long)]
    pub(crate) name: Option<String>,
    /// The NCA, e.g. FR-ACPR [default: from the org id].
    #[arg(long)]
    pub(crate) nca_id: Option<String>,
    /// Validity in days.
    #[arg(long, default_value_t = 365)]
    pub(crate) days: i64,
    /// Directory to write the four files to.
    #[arg(long)]
    pub(crate) out: PathBuf,
    /// The sandbox data directory holding the CA (pki/ca.pem, pki/ca.key).
    #[arg(long, default_value = "stetgate-data")]
    pub(crate) data_dir: PathBuf,
}

pub(crate) fn issue(args: &CertsIssueArgs) -> ExitCode {
    use stetgate::sandbox::certs::{CertsRequest, issue};
    let result =
        CertsRequest::parse(&args.org_id, &args.roles, args.name.as_deref(), args.nca_id.as_deref(), args.days)
            .and_then(|request| issue(&args.data_dir, &args.out, &request, jiff::Timestamp::now().as_second()));
    match result {
        Ok(files) => {
            let dir = files.dir.display();
            say!("wrote {dir}/qwac.pem {dir}/qwac.key {dir}/qseal.pem {dir}/qseal.key");
            say!("keyId (URL form):    {}", files.key_id_url);
            say!("keyId (serial form): {}", files.key_id_serial);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("stetgate certs issue: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
