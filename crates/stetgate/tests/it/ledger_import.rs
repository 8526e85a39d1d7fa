//! `stetgate ledger import` as an operator runs it, on SQLite and PostgreSQL: the camt.052
//! intraday report and the camt.053 end-of-day statement of tests/data/camt/ reach the PSU through
//! the real HTTPS API (accounts, CLBD/ITBD balance, BOOK and OTHR operations with entryReference
//! and remittance); a pending entry is booked by the later file; a repeated import adds nothing;
//! the malformed file fails naming its element and leaves the database as it was.

use crate::harness::{CertSpec, TestDb, db_tests, spawn_app};
use jiff::civil::Date;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::Command;
use stet::{BankCode, ResourceId};
use stetgate::ledger::{DateWindow, Ledger, PsuId, TransactionStatus};
use stetgate::store::Store;

const BIN: &str = env!("CARGO_BIN_EXE_stetgate");
const CE: &str = "www.17515.sandbox.localhost";
const DURAND: &str = "IMPORT01";
const DEPOT: &str = "FR7617515900001000000000145";
const DEPOT_ID: &str = "175159000010000000001";
const ATELIER: &str = "FR7617515900001000000000242";
const ATELIER_ID: &str = "175159000010000000002";
const CARD_REF: &str = "CB-20261120-0001";

fn data(name: &str) -> String {
    let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "tests", "data", "camt", name].iter().collect();
    path.display().to_string()
}

/// What `stetgate ledger import` did: exit code, stdout, stderr.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs the real binary on the test's database (the sandbox banks seeded by the command).
fn import(db: &TestDb, files: &[&str]) -> Run {
    import_with(db, &data("holders.csv"), files)
}

fn import_with(db: &TestDb, holders: &str, files: &[&str]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let mut args = vec!["ledger", "import", "--bank", "17515", "--holders", holders];
    let data_dir = dir.path().display().to_string();
    args.extend(["--data-dir", data_dir.as_str(), "--database-url", db.url()]);
    let files: Vec<String> =
        files.iter().map(|f| if std::path::Path::new(f).is_absolute() { (*f).to_owned() } else { data(f) }).collect();
    args.extend(files.iter().map(String::as_str));
    let output = Command::new(BIN).args(&args).output().unwrap();
    Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn bank() -> BankCode {
    BankCode::parse("17515").unwrap()
}

const ALL_TIME: DateWindow = DateWindow { from: Date::constant(2026, 1, 1), to: Date::constant(2027, 1, 1) };

/// The operations of an account as the store's ledger serves them: (id, status, entry reference).
async fn operations(store: &Store, account: &str) -> Vec<(String, TransactionStatus, Option<String>)> {
    let id = ResourceId::parse(account).unwrap();
    let ts = store.transactions(bank(), &id, ALL_TIME).await.unwrap();
    ts.into_iter().map(|t| (t.id, t.status, t.entry_reference)).collect()
}

async fn booked_minor(store: &Store, account: &str) -> Option<i64> {
    let id = ResourceId::parse(account).unwrap();
    let today = Date::constant(2026, 11, 21);
    store.balances_of(bank(), &id, today).await.unwrap().map(|b| b.booked.to_minor().unwrap())
}

async fn imported_statements_reach_the_psu_over_https(db: TestDb) {
    let app = spawn_app(db).await;
    let intraday = import(&app.db, &["camt052_intraday.xml"]);
    assert_eq!(intraday.code, Some(0), "{}", intraday.stderr);
    assert!(intraday.stdout.contains("1 statements, 2 entries, 2 new or booked"), "{}", intraday.stdout);
    assert!(intraday.stderr.contains("camt052_intraday.xml: 2 entries"), "progress on stderr: {}", intraday.stderr);

    let tpp = app.tpp("PSDFR-ACPR-12345", CertSpec::default());
    app.register(&tpp).await;
    let token = app.access_token(&tpp, CE, DURAND, "aisp", None).await;
    let call = async |method: Method, path: &str, body: Option<Value>| -> (StatusCode, Value) {
        let mut request = app.tpp_client(CE, &tpp).signed(method, path).bearer(&token);
        request = request.header("psu-ip-address", "192.0.2.10");
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        (status, serde_json::from_str(&response.text().await.unwrap()).unwrap_or(Value::Null))
    };
    let (status, listed) = call(Method::GET, "/stet/psd2/v1.6.2/accounts", None).await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    let ibans: Vec<&str> =
        listed["accounts"].as_array().unwrap().iter().map(|a| a["accountId"]["iban"].as_str().unwrap()).collect();
    assert_eq!(ibans, [DEPOT], "before the end-of-day file, only the report's account exists");

    let consent = json!({"balances": [{"iban": DEPOT}], "transactions": [{"iban": DEPOT}], "psuIdentity": false, "trustedBeneficiaries": false});
    assert_eq!(call(Method::PUT, "/stet/psd2/v1.6.2/consents", Some(consent)).await.0, StatusCode::CREATED);
    let balances = format!("/stet/psd2/v1.6.2/accounts/{DEPOT_ID}/balances");
    let transactions = format!("/stet/psd2/v1.6.2/accounts/{DEPOT_ID}/transactions");
    let (_, body) = call(Method::GET, &balances, None).await;
    assert_eq!(body["balances"][0]["balanceAmount"]["amount"], "1150.00", "the ITBD of camt.052 is the booked balance");
    let (_, body) = call(Method::GET, &transactions, None).await;
    let card = body["transactions"].as_array().unwrap().iter().find(|t| t["entryReference"] == CARD_REF).unwrap();
    assert_eq!(card["status"], "OTHR", "PDNG is the ledger's OTHR: {card}");
    assert!(card.get("bookingDate").is_none(), "not booked yet");
    assert_eq!(card["remittanceInformation"], json!(["CB BOULANGERIE DU MARCHE 20/11"]));
    assert_eq!(card["relatedParties"], json!({"creditor": {"name": "BOULANGERIE DU MARCHE"}}), "RltdPties/Cdtr/Pty/Nm");

    let eod = import(&app.db, &["camt053_end_of_day.xml", "camt053_end_of_day.xml"]);
    assert_eq!(eod.code, Some(0), "{}", eod.stderr);
    assert!(eod.stdout.contains("2 statements, 4 entries, 3 new or booked"), "booked + 2 new: {}", eod.stdout);
    assert!(eod.stdout.contains("2 statements, 4 entries, 0 new or booked"), "the repeat adds nothing: {}", eod.stdout);
    let (_, body) = call(Method::GET, &balances, None).await;
    assert_eq!(body["balances"][0]["balanceAmount"]["amount"], "3107.70", "the CLBD of camt.053");
    let (_, body) = call(Method::GET, &transactions, None).await;
    let all = body["transactions"].as_array().unwrap();
    assert_eq!(all.len(), 3, "no duplicate: {body}");
    assert!(all.iter().all(|t| t["status"] == "BOOK"), "the pending card payment is booked: {body}");
    let salary = all.iter().find(|t| t["entryReference"] == "SVC-SAL-1120").unwrap();
    assert_eq!(salary["remittanceInformation"], json!(["SALAIRE NOVEMBRE 2026", "MATRICULE 4521"]));
    assert_eq!(salary["creditDebitIndicator"], "CRDT");
    assert_eq!(salary["relatedParties"], json!({"debtor": {"name": "EMPLOYEUR SA"}}), "RltdPties/Dbtr/Nm");
    let (_, v1) = call(Method::GET, &format!("/stet/psd2/v1/accounts/{DEPOT_ID}/transactions"), None).await;
    let v1_salary =
        v1["transactions"].as_array().unwrap().iter().find(|t| t["entryReference"] == "SVC-SAL-1120").unwrap();
    assert!(v1_salary.get("relatedParties").is_none(), "1.4.0.47 has no relatedParties: {v1_salary}");
    assert_eq!(booked_minor(&app.store, ATELIER_ID).await, Some(-31025), "a DBIT CLBD is negative");
    let held = app.store.psu_accounts(bank(), &PsuId::parse(DURAND).unwrap()).await.unwrap();
    let statuses: Vec<(&str, &str)> = held.iter().map(|h| (h.account.iban.as_str(), h.psu_status.as_str())).collect();
    assert_eq!(statuses, [(DEPOT, "Account Holder"), (ATELIER, "Co-account Holder")], "the holders file's order");
}

async fn a_malformed_file_changes_nothing(db: TestDb) {
    let first = import(&db, &["camt052_intraday.xml"]);
    assert_eq!(first.code, Some(0), "{}", first.stderr);
    let store = db.store().await;
    let before = (operations(&store, DEPOT_ID).await, booked_minor(&store, DEPOT_ID).await);

    let bad = import(&db, &["camt053_malformed.xml"]);
    assert_ne!(bad.code, Some(0), "a malformed file fails");
    for needle in ["camt053_malformed.xml", "Document/BkToCstmrStmt/Stmt[1]/Ntry[3]/Amt", "line 66", "12,50"] {
        assert!(bad.stderr.contains(needle), "the error names {needle}: {}", bad.stderr);
    }
    let after = (operations(&store, DEPOT_ID).await, booked_minor(&store, DEPOT_ID).await);
    assert_eq!(before, after, "the entries before the bad one and the CLBD were not kept");
    assert!(after.0.iter().any(|(id, s, _)| id == CARD_REF && *s == TransactionStatus::Othr), "still pending");
    assert_eq!(booked_minor(&store, ATELIER_ID).await, None, "the file's second account was not created");
    assert!(store.psu(bank(), &PsuId::parse("IMPORT02").unwrap()).await.unwrap().is_none(), "nor its holder");

    // A counterparty's name longer than ISO 20022's Max140Text: refused, naming the element.
    let dir = tempfile::tempdir().unwrap();
    let long_name = dir.path().join("long-name.xml");
    let text = std::fs::read_to_string(data("camt053_end_of_day.xml")).unwrap();
    std::fs::write(&long_name, text.replace("EMPLOYEUR SA", &"E".repeat(141))).unwrap();
    let bad = import(&db, &[long_name.to_str().unwrap()]);
    assert_ne!(bad.code, Some(0), "a name of 141 characters fails the file");
    for needle in ["Stmt[1]/Ntry[3]/NtryDtls/TxDtls/RltdPties/Dbtr", "longer than 140 characters"] {
        assert!(bad.stderr.contains(needle), "the error names {needle}: {}", bad.stderr);
    }
    assert_eq!(before, (operations(&store, DEPOT_ID).await, booked_minor(&store, DEPOT_ID).await), "nothing kept");

    let unknown = import(&db, &["camt053_end_of_day.xml"]);
    assert_eq!(unknown.code, Some(0), "the good file still imports after the failure: {}", unknown.stderr);
    assert!(operations(&store, DEPOT_ID).await.iter().all(|(_, s, _)| *s == TransactionStatus::Book));
}

async fn an_account_nobody_holds_is_refused(db: TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let holders = dir.path().join("holders.csv");
    let text = std::fs::read_to_string(data("holders.csv")).unwrap();
    let without: Vec<&str> = text.lines().filter(|l| !l.contains(ATELIER)).collect();
    std::fs::write(&holders, without.join("\n")).unwrap();
    let run = import_with(&db, holders.to_str().unwrap(), &["camt053_end_of_day.xml"]);
    assert_ne!(run.code, Some(0));
    assert!(run.stderr.contains(ATELIER) && run.stderr.contains("Stmt[2]"), "names the IBAN: {}", run.stderr);
    let store = db.store().await;
    assert!(operations(&store, DEPOT_ID).await.is_empty(), "the first statement of the file was not kept either");
}

/// A statement for the deposit account on `day`: its CLBD and two identical card payments that
/// carry no reference, and (when given) the card payment of the 20th, booked for `card` euros.
fn statement(dir: &std::path::Path, day: &str, clbd: &str, card: Option<&str>) -> String {
    let cafe = format!(
        "<Ntry><Amt Ccy=\"EUR\">5.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts>BOOK</Sts>\
         <BookgDt><Dt>{day}</Dt></BookgDt><ValDt><Dt>{day}</Dt></ValDt>\
         <NtryDtls><TxDtls><RmtInf><Ustrd>CAFE DE LA GARE</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>"
    );
    let booked = card.map_or(String::new(), |amount| {
        format!(
            "<Ntry><NtryRef>{CARD_REF}</NtryRef><Amt Ccy=\"EUR\">{amount}</Amt><CdtDbtInd>DBIT</CdtDbtInd>\
             <Sts>BOOK</Sts><BookgDt><Dt>{day}</Dt></BookgDt><ValDt><Dt>2026-11-20</Dt></ValDt>\
             <NtryDtls><TxDtls><RmtInf><Ustrd>CB BOULANGERIE BOOKED</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>"
        )
    });
    let xml = format!(
        "<?xml version=\"1.0\"?><Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.02\"><BkToCstmrStmt>\
         <GrpHdr><MsgId>T-{day}</MsgId><CreDtTm>{day}T23:30:00</CreDtTm></GrpHdr>\
         <Stmt><Id>S-{day}</Id><CreDtTm>{day}T23:30:00</CreDtTm>\
         <Acct><Id><IBAN>{DEPOT}</IBAN></Id><Ccy>EUR</Ccy></Acct>\
         <Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy=\"EUR\">{clbd}</Amt><CdtDbtInd>CRDT</CdtDbtInd>\
         <Dt><Dt>{day}</Dt></Dt></Bal>{cafe}{cafe}{booked}</Stmt></BkToCstmrStmt></Document>"
    );
    let path = dir.join(format!("statement-{day}.xml"));
    std::fs::write(&path, xml).unwrap();
    path.display().to_string()
}

async fn late_files_never_rewind_and_identical_payments_stay_two(db: TestDb) {
    let app = spawn_app(db).await;
    let dir = tempfile::tempdir().unwrap();
    let run = import(&app.db, &["camt052_intraday.xml"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    // The card payment, pending at 42.30 in the report, books for 43.10 on the 21st.
    let the_21st = statement(dir.path(), "2026-11-21", "3000.00", Some("43.10"));
    let run = import(&app.db, &[&the_21st]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let store = app.store.clone();
    let ops = operations(&store, DEPOT_ID).await;
    let cafes = ops.iter().filter(|(id, _, reference)| id.starts_with("sha256-") && reference.is_none()).count();
    assert_eq!(cafes, 2, "two identical payments without reference are two operations: {ops:?}");
    let id = ResourceId::parse(DEPOT_ID).unwrap();
    let all = store.transactions(bank(), &id, ALL_TIME).await.unwrap();
    let card = all.iter().find(|t| t.entry_reference.as_deref() == Some(CARD_REF)).unwrap();
    assert_eq!(
        (card.status, card.amount.amount_text()),
        (TransactionStatus::Book, "43.10".to_owned()),
        "booked as the bank booked it"
    );
    assert_eq!(card.remittance, ["CB BOULANGERIE BOOKED"]);
    assert_eq!(booked_minor(&store, DEPOT_ID).await, Some(300_000));
    // The 20th's end-of-day statement, imported late, and the same day's report again: neither
    // rewinds the balance of the 21st; the 21st's file again adds nothing.
    for late in ["camt053_end_of_day.xml", "camt052_intraday.xml"] {
        let run = import(&app.db, &[late]);
        assert_eq!(run.code, Some(0), "{}", run.stderr);
        assert_eq!(booked_minor(&store, DEPOT_ID).await, Some(300_000), "after {late}");
    }
    let before = operations(&store, DEPOT_ID).await;
    let run = import(&app.db, &[&the_21st]);
    assert!(run.stdout.contains("0 new or booked"), "{}", run.stdout);
    assert_eq!(operations(&store, DEPOT_ID).await, before, "the same file again changes nothing");
}

db_tests!(
    imported_statements_reach_the_psu_over_https,
    a_malformed_file_changes_nothing,
    an_account_nobody_holds_is_refused,
    late_files_never_rewind_and_identical_payments_stay_two
);
