//! Operations endpoints: liveness, readiness (and 503 when the database is gone), metrics.

use crate::harness::{TestDb, db_tests, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::Value;

async fn health_and_readiness(db: TestDb) {
    let app = spawn_app(db).await;
    let client = app.client("www.13807.sandbox.localhost");
    let response = client.request(Method::GET, "/healthz").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.json::<Value>().await.unwrap()["status"], "alive");
    let response = client.request(Method::GET, "/readyz").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.json::<Value>().await.unwrap()["status"], "ready");

    app.db.destroy().await;

    let response =
        client.request_without_id(Method::GET, "/readyz").header("x-request-id", "ready-check").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE, "the database is gone");
    assert_eq!(response.headers()["x-request-id"], "ready-check");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], 503);
    assert_eq!(body["path"], "/readyz");
    let response = client.request(Method::GET, "/healthz").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "still alive: the process answers");
}

async fn metrics_count_the_requests_just_made(db: TestDb) {
    let app = spawn_app(db).await;
    let client = app.client("www.17515.sandbox.localhost");
    for _ in 0..3 {
        client.request(Method::GET, "/stet/psd2/aspsp").send().await.unwrap();
    }
    client.request(Method::GET, "/stet/psd2/v1.4.2/accounts").send().await.unwrap();
    client.request(Method::DELETE, "/stet/psd2/v1.4.2/accounts").send().await.unwrap();
    client.request(Method::GET, "/stet/psd2/v1.4.2/accounts/175150009204004305180/balances").send().await.unwrap();
    client.request(Method::GET, "/not/a/route/12345").send().await.unwrap();

    let text = client.request(Method::GET, "/metrics").send().await.unwrap().text().await.unwrap();
    let has = |line: &str| text.lines().any(|l| l == line);
    assert!(has(r#"stetgate_http_requests_total{route="/stet/psd2/aspsp",method="GET",status="200"} 3"#), "{text}");
    assert!(
        has(r#"stetgate_http_requests_total{route="/stet/psd2/v1.4.2/accounts",method="GET",status="401"} 1"#),
        "{text}"
    );
    assert!(
        has(r#"stetgate_http_requests_total{route="/stet/psd2/v1.4.2/accounts",method="DELETE",status="405"} 1"#),
        "{text}"
    );
    assert!(
        has(
            r#"stetgate_http_requests_total{route="/stet/psd2/v1.4.2/accounts/{accountResourceId}/balances",method="GET",status="401"} 1"#
        ),
        "requests are counted by route template, not by raw path: {text}"
    );
    assert!(has(r#"stetgate_http_requests_total{route="unmatched",method="GET",status="404"} 1"#), "{text}");
    assert!(!text.contains("175150009204004305180") && !text.contains("12345"), "no ids in metric labels");
    assert!(
        has(r#"stetgate_http_request_duration_seconds_count{route="/stet/psd2/aspsp",method="GET"} 3"#),
        "latency histogram: {text}"
    );
    assert!(text.contains(
        r#"stetgate_http_request_duration_seconds_bucket{route="/stet/psd2/aspsp",method="GET",le="0.005"}"#
    ));
}

db_tests!(health_and_readiness, metrics_count_the_requests_just_made);
