//! The statistics as RTS art. 32 evidence: what identified TPPs asked for (timeouts included),
//! not anonymous traffic; time without a live node is downtime; the period starts with the first
//! heartbeat and a node's life never shrinks; rolled-up records give the same figures; a read
//! writes nothing and is served from a short cache; and the public endpoint stays usable over a
//! quarter of a busy deployment's records while signed calls keep succeeding.

use crate::harness::{AppOptions, CertSpec, TestApp, TestDb, TestTpp, db_tests, spawn_app_with, spawn_node_with};
use jiff::Timestamp;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::sync::Arc;
use stet::BankCode;
use stetgate::statistics::{Family, Histogram, MinuteRecord};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const HOST: &str = "www.17515.sandbox.localhost";
const ORG: &str = "PSDFR-ACPR-12345";

fn bank() -> BankCode {
    BankCode::parse("17515").unwrap()
}

fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

async fn report(app: &TestApp, period: &str) -> Value {
    let response =
        app.client(HOST).request(Method::GET, &format!("/stet/psd2/statistics?period={period}")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

/// Sends a signed-looking POST whose body never arrives, over the TPP's QWAC, and returns the
/// status line the server answers.
async fn stalled_body(app: &TestApp, tpp: &TestTpp) -> String {
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_pki_types::CertificateDer::pem_slice_iter(&app.ca_pem) {
        roots.add(cert.unwrap()).unwrap();
    }
    let chain = rustls_pki_types::CertificateDer::pem_slice_iter(tpp.qwac.cert_pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = rustls_pki_types::PrivateKeyDer::from_pem_slice(tpp.qwac.key_pem.as_bytes()).unwrap();
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_client_auth_cert(chain, key)
        .unwrap();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let tcp = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let mut stream = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(rustls_pki_types::ServerName::try_from(HOST).unwrap(), tcp)
        .await
        .unwrap();
    let head = format!(
        "POST /stet/psd2/v1.4.2/funds-confirmations HTTP/1.1\r\nHost: {HOST}\r\nX-Request-ID: slow\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = vec![0u8; 64];
    let n = tokio::time::timeout(std::time::Duration::from_secs(20), stream.read(&mut answer)).await.unwrap().unwrap();
    String::from_utf8_lossy(&answer[..n]).lines().next().unwrap_or("").to_owned()
}

use rustls_pki_types::pem::PemObject;

async fn anonymous_requests_are_not_counted_but_a_tpps_timeouts_are(db: TestDb) {
    let mut app = spawn_app_with(db, AppOptions { request_timeout_secs: 1, ..AppOptions::default() }).await;
    let tpp = app.tpp(ORG, CertSpec::default());
    app.register(&tpp).await;
    let anonymous = app.client(HOST);
    for _ in 0..5 {
        anonymous.request(Method::GET, "/stet/psd2/v1.4.2/accounts").send().await.unwrap();
        anonymous.request(Method::POST, "/stet/psd2/v1.4.2/funds-confirmations").send().await.unwrap();
        let authorize = "/stet/psd2/oauth/authorize?response_type=code&client_id=PSDFR-ACPR-00000&scope=aisp";
        anonymous.request(Method::GET, authorize).send().await.unwrap();
    }
    let client = app.tpp_client(HOST, &tpp);
    for _ in 0..2 {
        let response = client.signed(Method::GET, "/stet/psd2/v1.4.2/accounts").send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(stalled_body(&app, &tpp).await, "HTTP/1.1 408 Request Timeout");
    // The records reach the database when the node stops; a second node reads them.
    let second = spawn_node_with(&app, AppOptions::default()).await;
    app.stop().await;
    let report = report(&second, "2026-11-21").await;
    let families = &report["total"]["families"];
    assert_eq!(families["ais"]["requests"], 2, "only the identified TPP's calls: {report}");
    assert_eq!(families["ais"]["clientErrors"], 2);
    assert_eq!(families["funds"]["requests"], 1, "the TPP's request that timed out counts: {report}");
    assert_eq!(families["funds"]["clientErrors"], 1);
    assert_eq!(families["authorization"]["requests"], 0, "authorize with an unknown client_id is anonymous");
}

async fn time_without_a_live_node_is_downtime(db: TestDb) {
    let options = |now: &str| AppOptions { now: Some(at(now)), ..AppOptions::default() };
    let mut first = spawn_app_with(db, options("2026-11-17T08:00:00Z")).await;
    first.clock.set(at("2026-11-17T09:00:00Z"));
    first.stop().await;
    // Nothing runs for an hour; then another node starts.
    let second = spawn_node_with(&first, options("2026-11-17T10:00:00Z")).await;
    second.clock.set(at("2026-11-17T11:00:00Z"));
    let report = report(&second, "2026Q4").await;
    let days = report["days"].as_array().unwrap();
    assert_eq!(days.len(), 1, "nothing before the first heartbeat: {report}");
    let day = &days[0];
    assert_eq!(day["observedSeconds"], 3 * 3600, "from 08:00 to now");
    // The first node counts as alive two heartbeats (20 s) after its last one.
    assert_eq!(day["unplannedDowntimeSeconds"], 3600 - 20, "{day}");
    assert_eq!(day["uptimePercent"], 66.852);
}

/// A heartbeat that arrives after a later one (a round of the housekeeping crossing the node's
/// last heartbeat at shutdown) does not shorten the node's life, which would turn uptime into
/// downtime.
async fn a_late_heartbeat_never_shortens_a_life(db: TestDb) {
    let store = db.store().await;
    let started = at("2026-11-17T08:00:00Z");
    store.node_heartbeat("node-a", started, at("2026-11-17T09:00:00Z")).await.unwrap();
    store.node_heartbeat("node-a", started, at("2026-11-17T08:30:00Z")).await.unwrap();
    let (lives, first) = store.node_lives(started, at("2026-11-17T12:00:00Z")).await.unwrap();
    assert_eq!(lives, vec![(started, at("2026-11-17T09:00:00Z"))]);
    assert_eq!(first, Some(started));
    store.node_heartbeat("node-a", started, at("2026-11-17T09:10:00Z")).await.unwrap();
    let (lives, _) = store.node_lives(started, at("2026-11-17T12:00:00Z")).await.unwrap();
    assert_eq!(lives, vec![(started, at("2026-11-17T09:10:00Z"))], "a later heartbeat extends it");
}

/// Minute records of three nodes over three hours, a failed minute among them: the figures are
/// the same before and after they are rolled up into hours.
async fn rolled_up_records_give_the_same_figures(db: TestDb) {
    use stetgate::statistics::http::{Deployment, report_for};
    use stetgate::statistics::report::Period;
    let store = db.store().await;
    let tz = jiff::tz::TimeZone::get("Europe/Paris").unwrap();
    let start = at("2026-11-17T09:00:00Z");
    let now = at("2026-11-18T12:00:00Z");
    store.node_heartbeat("node-a", start - jiff::SignedDuration::from_hours(1), now).await.unwrap();
    let mut records = Vec::new();
    for node in 0..3 {
        for minute in 0..180 {
            let mut histogram = Histogram::default();
            histogram.add(1_000 + minute * 10 + node * 7);
            let failed = minute == 42;
            records.push(MinuteRecord {
                bank: bank(),
                minute: start + jiff::SignedDuration::from_mins(minute as i64),
                family: if minute % 3 == 0 { Family::Funds } else { Family::Ais },
                requests: 2,
                server_errors: if failed { 2 } else { i64::from(minute % 50 == 0) },
                client_errors: i64::from(minute % 7 == 0),
                planned: 0,
                latency_sum_us: 2_000 + minute as i64,
                histogram,
            });
        }
    }
    store.append_request_records(&records).await.unwrap();
    let bank_record = stetgate::store::BankRecord { code: bank(), name: "CE".into(), brand: "caisse-epargne".into() };
    let deployment = Deployment {
        store: &store,
        maintenance: &[],
        tz: &tz,
        liveness_tolerance: jiff::SignedDuration::from_secs(20),
    };
    let period = Period::parse("2026-11").unwrap();
    let before = report_for(&deployment, now, &bank_record, &period, &[], None).await.unwrap();
    assert_eq!(before.total.unplanned_downtime_seconds, 60, "three nodes' errors in minute 42: down");
    let done = store.roll_up_request_records(now, 64).await.unwrap();
    assert_eq!(done.minute_rows, 3 * 180);
    assert_eq!(done.failed_minutes, 1);
    let after = report_for(&deployment, now, &bank_record, &period, &[], None).await.unwrap();
    assert_eq!(before.total, after.total, "rolled up, the figures are the same");
    assert_eq!(before.days, after.days);
    // Rolling up again finds nothing left.
    assert_eq!(store.roll_up_request_records(now, 64).await.unwrap().minute_rows, 0);
}

/// A quarter of a busy three-node deployment (its hours rolled up, its last two hours still per
/// minute): anonymous callers hammer the statistics while a TPP's signed calls keep succeeding.
async fn the_statistics_endpoint_cannot_starve_the_interface(db: TestDb) {
    let app = spawn_app_with(db, AppOptions { now: Some(at("2026-12-20T12:00:00Z")), ..AppOptions::default() }).await;
    let url = app.db.url().to_owned();
    fill_a_quarter(&url).await;
    let tpp = app.tpp(ORG, CertSpec { valid_from: -86_400 * 60, ..CertSpec::default() });
    app.register(&tpp).await;
    let token = app.access_token(&tpp, HOST, "9999999901", "aisp", None).await;
    let app = Arc::new(app);
    let mut anonymous = Vec::new();
    for i in 0..24 {
        let app = app.clone();
        anonymous.push(tokio::spawn(async move {
            // Five periods: more reports than the endpoint computes at a time (two), the cache
            // answering the calls for a period already computed.
            let period = ["2026Q4", "2026-12", "2026-11", "2026-10", "2026Q3"][i % 5];
            let response = app
                .client(HOST)
                .request(Method::GET, &format!("/stet/psd2/statistics?period={period}"))
                .send()
                .await
                .unwrap();
            let status = response.status();
            if status == StatusCode::SERVICE_UNAVAILABLE {
                assert!(response.headers().contains_key("retry-after"), "told when to come back");
            }
            status
        }));
    }
    let client = app.tpp_client(HOST, &tpp);
    for _ in 0..20 {
        let response = client
            .signed(Method::GET, "/stet/psd2/v1.4.2/accounts")
            .header("PSU-IP-Address", "192.0.2.10")
            .bearer(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "signed calls keep succeeding");
    }
    let mut statuses = Vec::new();
    for task in anonymous {
        statuses.push(task.await.unwrap());
    }
    assert!(statuses.iter().all(|s| *s == StatusCode::OK || *s == StatusCode::SERVICE_UNAVAILABLE), "{statuses:?}");
    assert!(statuses.contains(&StatusCode::OK), "{statuses:?}");
    let report = report(&app, "2026Q4").await;
    let ais = &report["total"]["families"]["ais"];
    assert!(ais["requests"].as_i64().unwrap() > 1_000_000, "the quarter's records are all counted: {ais}");
    let ready = app.client(HOST).request(Method::GET, "/readyz").send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
}

/// Reading the statistics writes nothing (a read that flushed this node's records would let
/// anonymous callers make the database write), yet counts the records still in memory; a second
/// read within `report_cache_secs` is the cached report.
async fn a_read_writes_nothing_and_is_served_from_the_cache(db: TestDb) {
    let app = spawn_app_with(db, AppOptions::default()).await;
    let tpp = app.tpp(ORG, CertSpec::default());
    app.register(&tpp).await;
    let client = app.tpp_client(HOST, &tpp);
    let call = async || {
        let response = client.signed(Method::GET, "/stet/psd2/v1.4.2/accounts").send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "an identified TPP's call, counted under ais");
    };
    // Wait for the housekeeping's flush (every 10 s) to take a first call: the next one is ~10 s
    // away, so what follows cannot meet it.
    call().await;
    let flushed = async {
        while !app.state.recorder.pending_of(bank()).is_empty() {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(15), flushed).await.expect("the housekeeping flushes");
    call().await;
    assert_eq!(app.state.recorder.pending_of(bank()).len(), 1, "the second call is only in memory");
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(app.db.url()).await.unwrap();
    let rows = async |conn: &mut sqlx::AnyConnection| -> i64 {
        sqlx::query_scalar("SELECT COUNT(*) FROM request_stats").fetch_one(conn).await.unwrap()
    };
    let before = rows(&mut conn).await;
    assert!(before >= 1, "the first call was written by the housekeeping");

    let first = report(&app, "2026-11-21").await;
    assert_eq!(first["total"]["families"]["ais"]["requests"], 2, "the record in memory is counted: {first}");
    assert_eq!(rows(&mut conn).await, before, "a read writes no record");
    assert_eq!(app.state.recorder.pending_of(bank()).len(), 1, "nor flushes this node's records");

    // Another node's records arrive; within the cache's lifetime the same report is served.
    sqlx::query(
        "INSERT INTO request_stats (id, bank_code, minute, family, requests, server_errors, client_errors, planned,
                                    latency_sum_us, histogram)
         VALUES ($1, '17515', $2, 'ais', 1000, 0, 0, 0, 0, $3)",
    )
    .bind(uuid::Uuid::new_v4().to_string())
    .bind(at(crate::harness::TEST_NOW).as_millisecond() - 60_000)
    .bind(Histogram::default().encode())
    .execute(&mut conn)
    .await
    .unwrap();
    let second = report(&app, "2026-11-21").await;
    assert_eq!(second, first, "served from the cache, not computed again");
    assert_eq!(rows(&mut conn).await, before + 1, "and still nothing written by reading");
}

/// Q4 up to 2026-12-20 12:00 UTC for bank 17515: hourly roll-ups of three families (about 6,300
/// rows), and the last two hours per minute from three nodes, with their heartbeats.
async fn fill_a_quarter(url: &str) {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(url).await.unwrap();
    let from = at("2026-10-01T00:00:00Z").as_millisecond();
    let to = at("2026-12-20T10:00:00Z").as_millisecond();
    let mut histogram = Histogram::default();
    for us in [800u64, 1_200, 2_500, 9_000] {
        histogram.add(us);
    }
    let histogram = histogram.encode();
    let mut hour = from;
    let mut tx = conn.begin().await.unwrap();
    while hour < to {
        for (family, requests) in [("ais", 600_i64), ("funds", 300), ("authorization", 60)] {
            sqlx::query(
                "INSERT INTO request_stats_hourly (bank_code, hour, family, requests, server_errors, client_errors, planned,
                                                   latency_sum_us, histogram)
                 VALUES ('17515', $1, $2, $3, 1, 5, 0, $4, $5)",
            )
            .bind(hour)
            .bind(family)
            .bind(requests)
            .bind(requests * 2_000)
            .bind(&histogram)
            .execute(&mut *tx)
            .await
            .unwrap();
        }
        hour += 3_600_000;
    }
    for node in 0..3 {
        for minute in 0..120 {
            for family in ["ais", "funds", "authorization"] {
                sqlx::query(
                    "INSERT INTO request_stats (id, bank_code, minute, family, requests, server_errors, client_errors, planned,
                                                latency_sum_us, histogram)
                     VALUES ($1, '17515', $2, $3, 10, 0, 1, 0, 20000, $4)",
                )
                .bind(uuid::Uuid::new_v4().to_string())
                .bind(to + minute * 60_000)
                .bind(family)
                .bind(&histogram)
                .execute(&mut *tx)
                .await
                .unwrap();
            }
        }
        sqlx::query("INSERT INTO node_heartbeats (node_id, started_at, last_seen) VALUES ($1, $2, $3)")
            .bind(format!("busy-node-{node}"))
            .bind(from)
            .bind(to + 2 * 3_600_000)
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    conn.close().await.unwrap();
}

db_tests!(
    anonymous_requests_are_not_counted_but_a_tpps_timeouts_are,
    time_without_a_live_node_is_downtime,
    a_late_heartbeat_never_shortens_a_life,
    rolled_up_records_give_the_same_figures,
    the_statistics_endpoint_cannot_starve_the_interface,
    a_read_writes_nothing_and_is_served_from_the_cache,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_deployment_reports_from_its_first_heartbeat() {
    let app = spawn_app_with(TestDb::sqlite(), AppOptions::default()).await;
    app.clock.advance(jiff::SignedDuration::from_hours(1));
    let report = report(&app, "2026Q4").await;
    let days = report["days"].as_array().unwrap();
    assert_eq!(days.len(), 1, "not the whole quarter: {report}");
    assert_eq!(report["total"]["observedSeconds"], 3600);
    assert_eq!(report["total"]["uptimePercent"], 100.0);
}
