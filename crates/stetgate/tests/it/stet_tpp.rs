//! `stet-tpp` as a TPP developer scripts it against the sandbox (the binary beside `stetgate`,
//! built by scripts/test.sh before the tests): bodies alone on stdout, tokens remembered by `login`
//! and used, and refreshed, by the later commands, without a token copied by hand.

use crate::harness::{CertSpec, TestApp, TestDb, spawn_app};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Output;

const CE: &str = "www.17515.sandbox.localhost";
const ORG: &str = "PSDFR-ACPR-12345";
const LEA: &str = "9999999901";
const LEA_1: &str = "FR7617515000920400430518020";
const LEA_1_ID: &str = "175150009204004305180";
const LEA_2_ID: &str = "175150009204008518115";
const LEA_2: &str = "FR7617515000920400851811524";

struct Developer {
    binary: PathBuf,
    url: String,
    /// The TPP's certificates and the sandbox CA.
    certs: tempfile::TempDir,
    /// STET_TPP_CONFIG_DIR: where `login` remembers the tokens.
    config: tempfile::TempDir,
}

impl Developer {
    async fn run(&self, args: &[&str]) -> Output {
        let ca = self.certs.path().join("ca.pem");
        let mut command = tokio::process::Command::new(&self.binary);
        command.args(args).args(["--url", &self.url, "--cacert", ca.to_str().unwrap()]);
        command.args(["--certs", self.certs.path().to_str().unwrap()]).env("STET_TPP_CONFIG_DIR", self.config.path());
        command.output().await.unwrap()
    }

    /// Runs a command that must succeed; its stdout as JSON.
    async fn json(&self, args: &[&str]) -> Value {
        let output = self.run(args).await;
        let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
        assert!(output.status.success(), "{args:?}: {stdout}\n{stderr}");
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{args:?}: stdout is not JSON alone ({e}): {stdout}"))
    }

    fn tokens_file(&self) -> PathBuf {
        self.config.path().join("tokens.json")
    }
}

async fn developer(app: &TestApp) -> Option<Developer> {
    let binary = Path::new(env!("CARGO_BIN_EXE_stetgate")).with_file_name("stet-tpp");
    if !binary.exists() {
        assert_ne!(std::env::var("CI").as_deref(), Ok("true"), "CI=true: build stet-tpp before the tests");
        eprintln!("note: {} is not built; skipping the stet-tpp walk", binary.display());
        return None;
    }
    let tpp = app.tpp(ORG, CertSpec::default());
    app.register(&tpp).await;
    let certs = tempfile::tempdir().unwrap();
    for (name, text) in [
        ("qwac.pem", tpp.qwac.cert_pem.as_bytes()),
        ("qwac.key", tpp.qwac.key_pem.as_bytes()),
        ("qseal.pem", tpp.qseal.cert_pem.as_bytes()),
        ("qseal.key", tpp.qseal.key_pem.as_bytes()),
        ("ca.pem", &app.ca_pem[..]),
    ] {
        std::fs::write(certs.path().join(name), text).unwrap();
    }
    let url = format!("https://{CE}:{}", app.addr.port());
    Some(Developer { binary, url, certs, config: tempfile::tempdir().unwrap() })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_developer_scripts_the_ais_walk_without_copying_a_token() {
    let app = spawn_app(TestDb::sqlite()).await;
    let Some(dev) = developer(&app).await else { return };

    let tokens = dev.json(&["login", "--psu", LEA, "--scope", "aisp"]).await;
    assert!(tokens["access_token"].is_string() && tokens["refresh_token"].is_string(), "{tokens}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(dev.tokens_file()).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "the tokens file is the user's only: {mode:o}");
    }

    let accounts = dev.json(&["accounts", "--psu", LEA]).await;
    assert!(accounts["accounts"].to_string().contains(LEA_1), "{accounts}");
    let consent = dev.run(&["consent", "--psu", LEA, "--balances", LEA_1, "--transactions", LEA_1, "--identity"]).await;
    assert!(consent.status.success(), "{}", String::from_utf8_lossy(&consent.stderr));
    let balances = dev.json(&["balances", "--psu", LEA, "--account", LEA_1_ID]).await;
    assert!(balances["balances"].as_array().is_some_and(|b| !b.is_empty()), "{balances}");
    let transactions = dev.json(&["transactions", "--psu", LEA, "--account", LEA_1_ID]).await;
    assert!(transactions["transactions"].is_array(), "{transactions}");
    let identity = dev.json(&["identity", "--psu", LEA]).await;
    assert!(identity["connectedPsu"].is_string(), "{identity}");
    let called = dev.json(&["call", "GET", "/stet/psd2/v1/accounts", "--psu", LEA]).await;
    assert!(called["accounts"].is_array(), "{called}");

    // -i: the status line and headers first, as curl -i.
    let with_head = dev.run(&["-i", "accounts", "--psu", LEA]).await;
    assert!(String::from_utf8_lossy(&with_head.stdout).starts_with("HTTP/"), "-i prints the status line");

    // An access token the bank no longer knows is refreshed and the call sent again.
    let mut remembered: Value = serde_json::from_str(&std::fs::read_to_string(dev.tokens_file()).unwrap()).unwrap();
    let entry = remembered.as_object_mut().unwrap().values_mut().next().unwrap();
    entry["access_token"] = "not-a-token-the-bank-issued".into();
    std::fs::write(dev.tokens_file(), remembered.to_string()).unwrap();
    let again = dev.run(&["accounts", "--psu", LEA]).await;
    assert!(again.status.success(), "{}", String::from_utf8_lossy(&again.stderr));
    assert!(String::from_utf8_lossy(&again.stderr).contains("refreshing"));
    assert!(!std::fs::read_to_string(dev.tokens_file()).unwrap().contains("not-a-token-the-bank-issued"));

    // A refusal: exit code 3, the ErrorModel on stdout, the fix on stderr.
    let refused = dev.run(&["balances", "--psu", LEA, "--account", LEA_2_ID]).await;
    assert_eq!(refused.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("HTTP 403") && stderr.contains("stet-tpp consent"), "{stderr}");

    // No token remembered for another PSU: a message saying what to run.
    let none = dev.run(&["accounts", "--psu", "9999999902"]).await;
    assert_eq!(none.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&none.stderr).contains("stet-tpp login --psu 9999999902"));

    let completions = std::process::Command::new(&dev.binary).args(["completions", "bash"]).output().unwrap();
    assert!(completions.status.success() && String::from_utf8_lossy(&completions.stdout).contains("stet-tpp"));
}

/// `stet-tpp funds`, the card issuer's shortcut: with the cbpii token `login` remembered (one account
/// ticked), it asks the bank whether that account covers an amount and prints the bank's answer,
/// the IBAN and amount it was given in the request; an account the PSU did not tick is refused
/// (exit code 3, the bank's NGAC on stdout).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_card_issuer_asks_for_funds_with_the_shortcut() {
    let app = spawn_app(TestDb::sqlite()).await;
    let Some(dev) = developer(&app).await else { return };
    let tokens = dev.json(&["login", "--psu", LEA, "--scope", "cbpii", "--accounts", LEA_2_ID]).await;
    assert_eq!(tokens["scope"], "cbpii", "{tokens}");

    // LEA's second account holds 245.10 EUR, with no overdraft.
    for (amount, covered) in [("1.00", true), ("245.11", false)] {
        let answer = dev.json(&["funds", "--psu", LEA, "--iban", LEA_2, "--amount", amount]).await;
        assert_eq!(answer["result"], covered, "{amount}: {answer}");
        assert_eq!(answer["request"]["accountId"]["iban"], LEA_2, "{answer}");
        assert_eq!(answer["request"]["instructedAmount"]["amount"], amount, "{answer}");
    }
    let on_v1_6_2 =
        dev.json(&["funds", "--psu", LEA, "--iban", LEA_2, "--amount", "2.00", "--version", "v1.6.2"]).await;
    assert_eq!(on_v1_6_2["result"], true, "{on_v1_6_2}");

    let refused = dev.run(&["funds", "--psu", LEA, "--iban", LEA_1, "--amount", "1.00"]).await;
    let stdout = String::from_utf8_lossy(&refused.stdout);
    assert_eq!(refused.status.code(), Some(3), "{stdout}");
    let error: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(error["message"], "NGAC", "an account not ticked at login: {error}");
}
