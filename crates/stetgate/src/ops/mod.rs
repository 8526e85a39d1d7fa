//! Operations endpoints: liveness (`/healthz`), readiness (`/readyz`: the store answers) and
//! Prometheus metrics (`/metrics`). None of them needs a certificate or a bank.

pub mod logging;
pub mod metrics;
pub mod openapi;

use crate::edge::error::ApiError;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::time::Duration;

/// How long readiness waits for the database before calling it unreachable.
const READINESS_TIMEOUT: Duration = Duration::from_secs(3);

/// Alive: the process answers HTTP.
pub async fn healthz() -> Response {
    Json(json!({"status": "alive"})).into_response()
}

/// Ready: the node can write to the store (its heartbeat, a write every node does anyway); 503
/// (with the STET ErrorModel) when it cannot. A database that answers reads but refuses writes (a
/// full disk, a read-only replica, a lock held forever) is not ready.
pub async fn readyz(State(state): State<AppState>) -> Response {
    let node = &state.node;
    let probe = async {
        state.store.ping().await?;
        state.store.node_heartbeat(&node.id, node.started_at, state.clock.now()).await
    };
    match tokio::time::timeout(READINESS_TIMEOUT, probe).await {
        Ok(Ok(())) => Json(json!({"status": "ready"})).into_response(),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness: store unreachable");
            ApiError::unavailable(format!("readiness: {e}")).into_response()
        }
        Err(_) => ApiError::unavailable("readiness: the database did not answer in time").into_response(),
    }
}

/// Prometheus text exposition of this node's metrics.
pub async fn metrics(State(state): State<AppState>) -> Response {
    let mut response = state.metrics.render().into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"));
    response
}
