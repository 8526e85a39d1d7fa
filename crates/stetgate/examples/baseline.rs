//! The bare-TLS baseline of the performance measurements (docs/performance.md): the listener
//! stetgate serves with (rustls with aws-lc-rs, HTTP/1.1 and HTTP/2, `edge::listener::serve`), the
//! same QWAC check (`eidas::trust::TrustMemo::check_qwac`, remembered as stetgate remembers it)
//! and the same Digest and QSealC signature verification (`edge::signature::verify`), and then a
//! fixed answer: no bank routing, no token, no store, no ledger, no statistics. A request for
//! transactions gets a pre-rendered document of 500 operations (about the size of stetgate's
//! answer), every other request a short fixed body. Not a route of the product: a bench-only
//! example.
//!
//! ```sh
//! cargo run --release -p stetgate --example baseline -- --listen 127.0.0.1:18444 \
//!   --server-cert data/pki/server.pem --server-key data/pki/server.key \
//!   --trust-anchors data/pki/ca.pem --tpp-certs tpp
//! ```
//!
//! `stet-tpp bench --baseline-url https://www.17515.sandbox.localhost:18444` sends the same
//! pre-signed requests to it after its run against stetgate and reports the ratio.

use anyhow::Context;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use clap::Parser;
use eidas::trust::TrustMemo;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use stetgate::edge::listener::{self, Listener};
use stetgate::edge::tls::{self, ConnectionInfo, FixedCertificate};
use stetgate::edge::tpp::TppIdentity;
use stetgate::registry::{Registration, RegistrationRequest};

#[derive(Debug, Parser)]
struct Args {
    #[arg(long, default_value = "127.0.0.1:18444")]
    listen: String,
    /// The server certificate chain (PEM), e.g. the sandbox's data/pki/server.pem.
    #[arg(long)]
    server_cert: PathBuf,
    #[arg(long)]
    server_key: PathBuf,
    /// QTSP roots the client's QWAC and QSealC must chain to.
    #[arg(long)]
    trust_anchors: PathBuf,
    /// A directory with the TPP's qwac.pem and qseal.pem (as `stetgate certs issue` writes them):
    /// the QSealC the requests are signed with, registered in memory.
    #[arg(long)]
    tpp_certs: PathBuf,
}

struct Baseline {
    trust: TrustMemo,
    registration: Registration,
    /// The answer to a request for transactions: rendered once, at start.
    transactions: axum::body::Bytes,
}

/// What the baseline answers to every other verified request.
const FIXED_BODY: &str = r#"{"baseline":"TLS, QWAC and signature checked; nothing else done"}"#;

/// How many operations the pre-rendered transactions answer holds: as many as stetgate's largest
/// answer, so that the transactions scenario compares bodies of about the same size
/// (about 160 kB; stetgate's is about 150 kB, docs/performance.md).
const TRANSACTIONS: usize = 500;

/// A HAL transactions document of [`TRANSACTIONS`] operations, shaped like stetgate's 1.4.2 answer.
fn transactions_body() -> axum::body::Bytes {
    let path = "/stet/psd2/v1.4.2/accounts/BENCH-ACCOUNT-0000/transactions";
    let operations: Vec<serde_json::Value> = (0..TRANSACTIONS)
        .map(|i| {
            serde_json::json!({
                "resourceId": format!("TX-BENCH-{i:08}"),
                "transactionAmount": {"amount": format!("{}.{:02}", 10 + i % 900, i % 100), "currency": "EUR"},
                "creditDebitIndicator": if i % 3 == 0 { "CRDT" } else { "DBIT" },
                "status": "BOOK",
                "bookingDate": "2026-11-20",
                "valueDate": "2026-11-20",
                "transactionDate": "2026-11-19",
                "remittanceInformation": {"unstructured": [format!("CARTE X1234 {i:04} COMMERCE BENCH PARIS")]},
            })
        })
        .collect();
    let document = serde_json::json!({
        "transactions": operations,
        "_links": {"self": {"href": path}, "parent-list": {"href": "/stet/psd2/v1.4.2/accounts"}},
    });
    axum::body::Bytes::from(document.to_string())
}

async fn answer(State(baseline): State<Arc<Baseline>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let Some(chain) = parts.extensions.get::<ConnectionInfo>().and_then(|c| c.client_chain.clone()) else {
        return (StatusCode::UNAUTHORIZED, "no client certificate").into_response();
    };
    let now = jiff::Timestamp::now().as_second();
    let qwac = match baseline.trust.check_qwac(&chain, now) {
        Ok(accepted) => accepted,
        Err(e) => return (StatusCode::UNAUTHORIZED, e.to_string()).into_response(),
    };
    let body = match axum::body::to_bytes(body, 1 << 20).await {
        Ok(bytes) => bytes,
        Err(e) => return (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    };
    let tpp = TppIdentity { org_id: qwac.org_id, roles: Vec::new(), qwac: qwac.certificate };
    let target = parts.uri.path_and_query().map(|p| p.as_str().to_owned()).unwrap_or_default();
    // As in stetgate, the OAuth endpoints authenticate the TPP by its QWAC alone (no signature).
    if !target.starts_with("/stet/psd2/oauth/")
        && let Err(e) = stetgate::edge::signature::verify(
            &parts,
            &target,
            &body,
            &tpp,
            &baseline.registration,
            &baseline.trust,
            now,
            300,
        )
    {
        return e.into_response();
    }
    if parts.uri.path().ends_with("/transactions") {
        return ([(header::CONTENT_TYPE, "application/hal+json")], baseline.transactions.clone()).into_response();
    }
    ([(header::CONTENT_TYPE, "application/hal+json")], FIXED_BODY).into_response()
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    tls::install_crypto_provider();
    let anchor_store = tls::trust_anchor_store(&[args.trust_anchors.as_path()])?;
    let anchors = anchor_store.roots.clone();
    let read = |name: &str| {
        let path = args.tpp_certs.join(name);
        std::fs::read_to_string(&path).with_context(|| path.display().to_string())
    };
    let request = RegistrationRequest {
        client_name: "baseline".into(),
        redirect_uris: vec!["https://tpp.example/cb".into()],
        qsealc: read("qseal.pem")?,
        contacts: Vec::new(),
    };
    let now = jiff::Timestamp::now();
    let registration = stetgate::registry::validate_from_files(&read("qwac.pem")?, &request, &anchors, now, false)
        .map_err(|e| anyhow::anyhow!("{e}"))?;

    let chain = tls::read_certificates(&args.server_cert)?;
    let identity = Arc::new(FixedCertificate(tls::certified_key(chain, &args.server_key)?));
    let config = Arc::new(tls::server_config(identity, &anchor_store)?);
    let router = Router::new().fallback(answer).with_state(Arc::new(Baseline {
        trust: TrustMemo::new(anchors),
        registration,
        transactions: transactions_body(),
    }));
    let listener = tokio::net::TcpListener::bind(&args.listen).await.with_context(|| args.listen.clone())?;
    eprintln!("baseline listening on {}", listener.local_addr()?);
    let stop = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let listener = Listener {
        tcp: listener,
        tls: config,
        refusal: Router::new().fallback(|| async { axum::http::StatusCode::SERVICE_UNAVAILABLE }),
        router,
        // Every bench client comes from 127.0.0.1: the per-address cap is lifted to the global one,
        // as scripts/bench-lib.sh does for stetgate (the 1,000-connection scenario).
        limits: stetgate::config::ConnectionLimits { max_per_address: 4096, ..Default::default() },
        proxy_protocol_from: Vec::new(),
    };
    listener::serve(listener, stop, Duration::from_secs(1)).await;
    Ok(())
}
