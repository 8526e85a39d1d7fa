//! What `stet-tpp conformance` needs to know about one bank: its code and URL, the STET version, the
//! one-time code of its test personas, and the personas themselves (online-banking ids, IBANs,
//! expected balances, the amounts its funds confirmation covers). A JSON file per bank
//! (`--profile FILE`), or one of the built-in profiles of the stetgate sandbox's banks (17515,
//! 13807), chosen by the bank code; `--set path=value` changes one field of either.

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::path::Path;

/// The stetgate sandbox's banks, as PERSONAS.md and the bank's portal publish them.
const BUILT_IN: &[(&str, &str)] =
    &[("17515", include_str!("profiles/sandbox-17515.json")), ("13807", include_str!("profiles/sandbox-13807.json"))];

/// One bank's profile.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Shown in the reports.
    pub name: String,
    /// The bank code (the label after `www.` in the bank's host).
    pub bank: String,
    /// The base URL, used when neither --url nor --bank is given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// `v1`, `v1.4.2` or `v1.6.2`.
    pub version: String,
    /// The one-time code every test persona authenticates with.
    pub otp: String,
    /// The redirect URI to authorize with [default: the first one registered at the bank].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_uri: Option<String>,
    /// Sent as PSU-IP-Address on the calls made "with the PSU connected".
    #[serde(default = "default_psu_ip")]
    pub psu_ip_address: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aisp: Option<Aisp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cbpii: Option<Cbpii>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pisp: Option<Pisp>,
}

fn default_psu_ip() -> String {
    "192.0.2.10".to_owned()
}

/// The account-information personas.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Aisp {
    /// The main persona's online-banking id.
    pub psu: String,
    /// Its accounts (consented to, then read), with their expected accounting (CLBD) balance.
    pub accounts: Vec<ExpectedAccount>,
    /// How many days back the bank serves transactions for this persona (62 retail, 90 corporate).
    pub history_days: i64,
    /// Whether the consent shares the PSU's identity (GET /end-user-identity then answers 200).
    #[serde(default)]
    pub share_identity: bool,
    /// A persona who has not agreed to share its identity (GET /end-user-identity answers 403).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_refused_psu: Option<String>,
    /// A persona with many operations, some without entryReference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub many_transactions: Option<ManyTransactions>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectedAccount {
    pub iban: String,
    /// The CLBD amount, e.g. "-150.00"; not checked when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub balance: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManyTransactions {
    pub psu: String,
    pub iban: String,
    /// The answer must list more operations than this (and at most 500, the bank's cap).
    pub more_than: usize,
}

/// The card issuer's persona and the amounts its accounts cover.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cbpii {
    pub psu: String,
    /// The accounts (resource ids) to tick on the bank's consent page [default: all offered].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accounts: Option<Vec<String>>,
    /// Requests the instant balance covers (result true).
    pub covered: Vec<Coverage>,
    /// Requests it does not cover (result false).
    pub not_covered: Vec<Coverage>,
    /// An IBAN this bank does not hold (AC01).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unknown_iban: Option<String>,
    /// An account of the persona not ticked at authorization (NGAC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_granted_iban: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Coverage {
    pub iban: String,
    pub amount: String,
}

/// The paying persona (its account is debited: choose one no other case reads balances of).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pisp {
    pub psu: String,
    /// The account to debit [default: the PSU chooses on the bank's page].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub debtor_iban: Option<String>,
    pub creditor_name: String,
    pub creditor_iban: String,
    /// Euros, e.g. "1.00".
    pub amount: String,
}

/// The bank code of a base URL `https://www.<code>.<...>`.
pub fn bank_code_of(url: &str) -> Option<String> {
    let rest = url.strip_prefix("https://")?;
    let host = rest.split(['/', ':']).next()?;
    let code = host.strip_prefix("www.")?.split('.').next()?;
    (code.len() == 5 && code.bytes().all(|b| b.is_ascii_digit())).then(|| code.to_owned())
}

/// The profile: `file`, else the built-in one of `bank`; then each `path=value` of `sets` applied.
pub fn load(file: Option<&Path>, bank: Option<&str>, sets: &[String]) -> anyhow::Result<Profile> {
    let text = match (file, bank) {
        (Some(file), _) => std::fs::read_to_string(file).with_context(|| file.display().to_string())?,
        (None, Some(code)) => match BUILT_IN.iter().find(|(c, _)| *c == code) {
            Some((_, text)) => (*text).to_owned(),
            None => bail!(
                "no built-in profile for bank {code} (built in: {}): write one and pass --profile FILE (docs/conformance.md)",
                BUILT_IN.iter().map(|(c, _)| *c).collect::<Vec<_>>().join(", ")
            ),
        },
        (None, None) => bail!("say which bank: --bank 17515, --url https://www.<code>..., or --profile FILE"),
    };
    let mut value: Value = serde_json::from_str(&text).context("the profile is not JSON")?;
    for set in sets {
        let Some((path, raw)) = set.split_once('=') else { bail!("--set {set:?}: expected path=value") };
        set_path(&mut value, path, raw).with_context(|| format!("--set {path}"))?;
    }
    serde_json::from_value(value).context("the profile (docs/conformance.md describes its fields)")
}

/// The fields that hold numbers (every other one holds text, even `12345678`).
const NUMBERS: &[&str] = &["history_days", "more_than"];

/// What `--set key=raw` stores: a list, object or boolean when `raw` is one in JSON, a number in
/// a number's place, the text otherwise.
fn leaf(key: &str, existing: Option<&Value>, raw: &str) -> Value {
    let structured = raw.starts_with(['[', '{']) || raw == "true" || raw == "false";
    let numeric = existing.is_some_and(Value::is_number) || NUMBERS.contains(&key);
    match serde_json::from_str::<Value>(raw) {
        Ok(value) if structured || (numeric && value.is_number()) => value,
        _ => Value::String(raw.to_owned()),
    }
}

/// Sets `a.b.c` (list items by index: `aisp.accounts.0.balance`), creating objects on the way.
fn set_path(root: &mut Value, path: &str, raw: &str) -> anyhow::Result<()> {
    let mut here = root;
    let parts: Vec<&str> = path.split('.').collect();
    for (i, part) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        if here.is_null() {
            *here = Value::Object(serde_json::Map::new());
        }
        here = match here {
            Value::Object(map) if last => {
                let new = leaf(part, map.get(*part), raw);
                map.insert((*part).to_owned(), new);
                return Ok(());
            }
            Value::Object(map) => map.entry((*part).to_owned()).or_insert(Value::Null),
            Value::Array(items) => {
                let index: usize = part.parse().with_context(|| format!("{part} is not a list index"))?;
                let item = items.get_mut(index).with_context(|| format!("no item {index}"))?;
                if last {
                    *item = leaf(part, Some(item), raw);
                    return Ok(());
                }
                item
            }
            _ => bail!("{part}: not an object or a list"),
        };
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_profiles_parse_and_sets_apply() {
        for (code, _) in BUILT_IN {
            let profile = load(None, Some(code), &[]).unwrap();
            assert_eq!(profile.bank, *code);
        }
        let sets = ["version=v1".to_owned(), "aisp.accounts.0.balance=-1.00".to_owned(), "otp=00001111".to_owned()];
        let profile = load(None, Some("17515"), &sets).unwrap();
        assert_eq!((profile.version.as_str(), profile.otp.as_str()), ("v1", "00001111"));
        assert_eq!(profile.aisp.unwrap().accounts[0].balance.as_deref(), Some("-1.00"));
        assert!(load(None, Some("17515"), &["aisp.nope=1".to_owned()]).is_err(), "unknown fields are refused");
        let more =
            load(None, Some("13807"), &["aisp.history_days=90".to_owned(), "pisp.psu=12345".to_owned()]).unwrap();
        assert_eq!((more.aisp.unwrap().history_days, more.pisp.unwrap().psu.as_str()), (90, "12345"));
        assert!(load(None, Some("99999"), &[]).is_err());
    }

    #[test]
    fn the_bank_code_is_read_from_the_host() {
        assert_eq!(bank_code_of("https://www.13807.sandbox.localhost:8443").as_deref(), Some("13807"));
        assert_eq!(bank_code_of("https://www.17515.oba-bad-me-live.api.89c3.com/x").as_deref(), Some("17515"));
        assert_eq!(bank_code_of("https://localhost:8443"), None);
    }
}
