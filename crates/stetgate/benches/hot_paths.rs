//! Micro-benchmarks of the pieces every AIS or funds request goes through (docs/performance.md):
//!
//! ```sh
//! cargo bench -p stetgate --bench hot_paths
//! ```
//!
//! Test certificates come from `eidas::issue`; the store is a SQLite file in a temporary
//! directory, filled with `stetgate fill`'s data (1,000 accounts, account 0 with 500 operations).
// A benchmark whose set-up fails has nothing to measure: stopping there is the right answer.
#![allow(clippy::expect_used)]

use axum::http::Request;
use criterion::{Criterion, criterion_group, criterion_main};
use eidas::issue::{TestCa, TppCertKind, TppCertRequest};
use eidas::psd2::Role;
use eidas::signature::{RsaSigner, digest_header, signing_string};
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use std::hint::black_box;
use stet::{ApiVersion, BankCode, OrgId};
use stetgate::ais::consent::from_access;
use stetgate::edge::tpp::TppIdentity;
use stetgate::ledger::fill::FillPlan;
use stetgate::ledger::{DateWindow, HeldAccount, Ledger};
use stetgate::oauth::{Scopes, TokenPair};
use stetgate::registry::{Registration, RegistrationRequest};
use stetgate::secret::Secret;
use stetgate::store::Store;

struct Certificates {
    anchors: Vec<rustls_pki_types::TrustAnchor<'static>>,
    qwac_chain: Vec<CertificateDer<'static>>,
    qseal_key_pem: String,
    registration: Registration,
    now: i64,
}

fn certificates() -> Certificates {
    let now = jiff::Timestamp::now().as_second();
    let ca = TestCa::generate("Bench QTSP", "Bench", 1).expect("test CA");
    let org = OrgId::parse("PSDFR-ACPR-12345").expect("org id");
    let request = |kind| TppCertRequest {
        kind,
        org_id: org.clone(),
        name: "Bench TPP".into(),
        roles: vec![Role::AccountInformation, Role::CardIssuing],
        nca_name: "Autorité de Contrôle Prudentiel et de Résolution".into(),
        nca_id: "FR-ACPR".into(),
        not_before: now - 3600,
        not_after: now + 86_400,
        psd2_statement: true,
    };
    let qwac = ca.issue_tpp(&request(TppCertKind::Qwac)).expect("QWAC");
    let qseal = ca.issue_tpp(&request(TppCertKind::Qsealc)).expect("QSealC");
    let root = CertificateDer::from_pem_slice(ca.root().cert_pem.as_bytes()).expect("root");
    let anchors = eidas::trust::anchors(&[root]).expect("anchors");
    let registration = stetgate::registry::validate_from_files(
        &qwac.cert_pem,
        &RegistrationRequest {
            client_name: "Bench TPP".into(),
            redirect_uris: vec!["https://tpp.example/cb".into()],
            qsealc: qseal.cert_pem.clone(),
            contacts: Vec::new(),
        },
        &anchors,
        jiff::Timestamp::from_second(now).expect("now"),
        false,
    )
    .expect("registration");
    let qwac_chain = vec![CertificateDer::from_pem_slice(qwac.cert_pem.as_bytes()).expect("QWAC DER")];
    Certificates { anchors, qwac_chain, qseal_key_pem: qseal.key_pem, registration, now }
}

fn eidas_checks(c: &mut Criterion) {
    let certs = certificates();
    c.bench_function("QWAC parse (PSD2 QCStatements)", |b| {
        b.iter(|| eidas::psd2::parse_der(black_box(&certs.qwac_chain[0])).expect("parse"))
    });
    c.bench_function("QWAC check (parse, chain to the anchor, roles)", |b| {
        b.iter(|| eidas::trust::check_qwac(black_box(&certs.qwac_chain), &certs.anchors, certs.now).expect("check"))
    });
    let memo = eidas::trust::TrustMemo::new(certs.anchors.clone());
    c.bench_function("QWAC check remembered (TrustMemo hit)", |b| {
        b.iter(|| memo.check_qwac(black_box(&certs.qwac_chain), certs.now).expect("check"))
    });

    let qwac = eidas::trust::check_qwac(&certs.qwac_chain, &certs.anchors, certs.now).expect("QWAC");
    let tpp = TppIdentity { org_id: qwac.org_id, roles: Vec::new(), qwac: qwac.certificate };
    let key_id = format!("https://tpp.example/qseal_{}", certs.registration.qsealc_sha256);
    let body = br#"{"paymentCoverageRequestId":"bench","instructedAmount":{"currency":"EUR","amount":"10.00"},"accountId":{"iban":"FR7617515000920400430518020"}}"#;
    let path = "/stet/psd2/v1.4.2/funds-confirmations";
    let digest = digest_header(body);
    let headers = ["(request-target)", "x-request-id", "digest", "psu-ip-address"];
    let covered: Vec<String> = headers.iter().map(|h| (*h).to_owned()).collect();
    let text = signing_string(&covered, "POST", path, |name| match name {
        "x-request-id" => vec!["0b7b8a1e-2f5c-4a7e-9a47-3f1f0f6e8b10".to_owned()],
        "digest" => vec![digest.clone()],
        "psu-ip-address" => vec!["192.0.2.10".to_owned()],
        _ => Vec::new(),
    })
    .expect("signing string");
    let rsa = RsaSigner::from_pkcs8_pem(&certs.qseal_key_pem).expect("key");
    let signature = eidas::signature::format_signature_header(&key_id, &headers, &rsa.sign(&text).expect("sign"));
    let (parts, ()) = Request::post(path)
        .header("x-request-id", "0b7b8a1e-2f5c-4a7e-9a47-3f1f0f6e8b10")
        .header("digest", &digest)
        .header("psu-ip-address", "192.0.2.10")
        .header("signature", &signature)
        .body(())
        .expect("request")
        .into_parts();
    // A fresh memo per iteration would measure the QSealC chain check every time; stetgate's is
    // warm after a TPP's first request, so this is the steady state. The chain check alone is
    // the "QWAC check" figure above.
    let memo = eidas::trust::TrustMemo::new(certs.anchors.clone());
    c.bench_function("signature parse + verify (Digest, remembered QSealC check, rsa-sha256)", |b| {
        b.iter(|| {
            stetgate::edge::signature::verify(
                black_box(&parts),
                path,
                body,
                &tpp,
                &certs.registration,
                &memo,
                certs.now,
                300,
            )
            .expect("verifies")
        })
    });
}

struct Filled {
    _dir: tempfile::TempDir,
    store: Store,
    plan: FillPlan,
}

async fn filled_store() -> Filled {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = Store::open(&format!("sqlite://{}", dir.path().join("bench.db").display())).await.expect("store");
    store.migrate().await.expect("migrate");
    let now = jiff::Timestamp::now();
    stetgate::sandbox::seed(&store, now).await.expect("seed");
    let plan = FillPlan {
        bank: BankCode::parse("17515").expect("bank"),
        accounts: 1000,
        transactions_per_account: 2,
        large_account_operations: 500,
        today: jiff::civil::date(2026, 11, 21),
    };
    let chunk = plan.chunk(0..plan.accounts).expect("fill");
    store.load_ledger(&chunk.psus, &chunk.accounts).await.expect("load");
    store.load_transactions(&chunk.transactions).await.expect("transactions");
    Filled { _dir: dir, store, plan }
}

fn store_queries(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let filled = runtime.block_on(filled_store());
    let store = &filled.store;

    // 1,000 token pairs, one looked up by its hashed access token as the bearer check does.
    let tokens: Vec<Secret> = (0..1000).map(|_| Secret::generate().expect("random")).collect();
    runtime.block_on(async {
        for (i, token) in tokens.iter().enumerate() {
            let pair = TokenPair {
                pair_id: format!("pair-{i}"),
                bank: filled.plan.bank,
                client_id: OrgId::parse("PSDFR-ACPR-12345").expect("org"),
                subject: stetgate::oauth::Subject::Psu(stetgate::ledger::fill::psu_id(2 * i as u64)),
                scopes: Scopes::parse("aisp").expect("scope"),
                access_expires_at: jiff::Timestamp::MAX,
                refresh_expires_at: jiff::Timestamp::MAX,
                sca_at: jiff::Timestamp::UNIX_EPOCH,
                revoked_at: None,
                payment: None,
                last_used_at: None,
            };
            let refresh = Secret::generate().expect("random");
            store
                .issue_token_pair(&pair, &token.hash(), &refresh.hash(), None, jiff::Timestamp::UNIX_EPOCH)
                .await
                .expect("token pair");
        }
    });
    let presented = tokens[500].expose().to_owned();
    c.bench_function("token lookup (hash the bearer token, read its pair; SQLite, 1,000 pairs)", |b| {
        b.to_async(&runtime).iter(|| async {
            let hash = Secret::from_client(black_box(&presented)).hash();
            store.pair_by_access_token(&hash).await.expect("lookup").expect("found")
        })
    });

    let bank = filled.plan.bank;
    let account = stetgate::ledger::fill::iban(bank, 0).expect("iban").french_resource_id().expect("resource id");
    let window = DateWindow { from: jiff::civil::date(2026, 9, 20), to: jiff::civil::date(2026, 11, 22) };
    c.bench_function("transaction window query (500 operations; SQLite, 1,000 accounts)", |b| {
        b.to_async(&runtime).iter(|| async {
            let found = store.transactions(bank, black_box(&account), window).await.expect("query");
            assert_eq!(found.len(), 500);
            found
        })
    });

    let found = runtime.block_on(store.transactions(bank, &account, window)).expect("query");
    c.bench_function("JSON of 500 transactions (HAL document + serialisation)", |b| {
        b.iter(|| {
            let document = stetgate::ais::transactions_document(black_box(&found), ApiVersion::V1_4_2, &account, true);
            serde_json::to_vec(&document).expect("json")
        })
    });

    // PUT /consents evaluation: a PSU with 20 accounts, every one granted for balances and
    // transactions, then the per-request check of one account.
    let psu = stetgate::ledger::fill::psu_id(0);
    let mut held: Vec<HeldAccount> = runtime.block_on(store.psu_accounts(bank, &psu)).expect("accounts");
    let template = held[0].clone();
    for i in 2..20 {
        let mut extra = template.clone();
        extra.account.iban = stetgate::ledger::fill::iban(bank, i).expect("iban");
        extra.account.resource_id = extra.account.iban.french_resource_id().expect("resource id");
        held.push(extra);
    }
    let reference = |h: &HeldAccount| serde_json::json!({"iban": h.account.iban.as_str()});
    let access: stet::ais::Access = serde_json::from_value(serde_json::json!({
        "balances": held.iter().map(reference).collect::<Vec<_>>(),
        "transactions": held.iter().map(reference).collect::<Vec<_>>(),
        "trustedBeneficiaries": false,
        "psuIdentity": false,
    }))
    .expect("access");
    c.bench_function("consent evaluation (PUT /consents of 20 accounts, then one access check)", |b| {
        b.iter(|| {
            let consent = from_access(black_box(&access), &held, false).expect("consent");
            assert!(consent.allows(stetgate::ais::consent::AccessKind::Transactions, &held[7].account.resource_id));
            consent
        })
    });
}

criterion_group!(benches, eidas_checks, store_queries);
criterion_main!(benches);
