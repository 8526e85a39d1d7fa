//! The outermost layer: what every response gets on its way out, whatever produced it.
//!
//! - error responses become the STET `ErrorModel` (`{timestamp, status, error, message, path}`),
//!   including those axum or tower made on their own (405 with its `Allow`, 408, a panic's 500);
//! - `X-Request-ID` is echoed, on errors too;
//! - a request body nobody read (a refusal given before the body mattered: 404, 405, 401 ...) is
//!   read and discarded before the answer leaves, up to the body limit and 5 s, so the client can
//!   finish sending it and keep its connection; when that fails, an HTTP/1.1 answer says
//!   `Connection: close` (hyper closes such a connection) rather than let the client send its
//!   next request into a closing connection;
//! - the request is counted in the metrics and logged: request id, bank, route template, method,
//!   status, latency. Never the raw URI (query strings carry codes), headers, or bodies.

use super::error::{ErrorBody, InternalCause, reason_phrase};
use super::facts::RequestFacts;
use super::recent::RecentRequest;
use crate::state::AppState;
use crate::statistics::model::PlannedMaintenance;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use http_body_util::BodyExt;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Instant;
use stet::ErrorModel;
use stet::headers::X_REQUEST_ID;

/// The methods of RFC 9110 that this server knows; any other is counted and logged as `OTHER`, so
/// that invented methods cannot grow the metrics or the logs (routing answers them 405 with `Allow`
/// on a known path, as STET documents, or 404).
pub fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

pub async fn finish(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = method_label(request.method());
    let path = request.uri().path().to_owned();
    let request_id = request.headers().get(X_REQUEST_ID).cloned();
    let facts = RequestFacts::default();
    // Behind the bank's gateway, its header names the TPP's certificate (or is refused).
    let forwarded = super::proxy::adopt_forwarded_certificate(&mut request, &state);
    // The TPP is identified here, before anything can fail, so that every answer it gets counts.
    // For the sandbox's portal, a refused QWAC still names whose request it was.
    let mut claimed = None;
    if let Some(check) = super::tpp::check_connection(request.extensions(), &state).await {
        match check.0.as_ref() {
            Ok(accepted) => facts.identified(&accepted.org_id),
            Err(_) if state.recent.is_some() => claimed = claimed_org(request.extensions()),
            Err(_) => {}
        }
        request.extensions_mut().insert(check);
    }
    request.extensions_mut().insert(facts.clone());
    let http1 = request.version() <= axum::http::Version::HTTP_11;
    // A client waiting for `100 Continue` has not sent its body: reading it would ask for it.
    let may_drain = http1 && !request.headers().contains_key(header::EXPECT);
    let (request, body) = track_body(request);

    let mut response = match forwarded {
        Ok(()) => next.run(request).await,
        Err(refused) => axum::response::IntoResponse::into_response(refused),
    };

    let status = response.status();
    let mut refusal = None;
    if let Some(body) = response.extensions_mut().remove::<ErrorBody>() {
        refusal = Some((body.message.clone(), body.error.clone()));
        response = render_error(&state, response, body, &path);
    } else if (status.is_client_error() || status.is_server_error()) && !has_own_body_format(&response) {
        let explanation = plain_text(response.body_mut()).await;
        let body = ErrorBody { message: reason_phrase(status), error: explain(status, explanation), approaches: None };
        refusal = Some((body.message.clone(), body.error.clone()));
        response = render_error(&state, response, body, &path);
    } else if status.is_client_error() && state.recent.is_some() {
        refusal = oauth_refusal(&mut response).await;
    }
    if let Some(id) = request_id.filter(echoable) {
        response.headers_mut().insert(X_REQUEST_ID, id);
    }
    // Every answer, HTML pages and errors included: HTTPS only from now on (RFC 6797), and no
    // content sniffing.
    let headers = response.headers_mut();
    headers.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));

    let request_id = response.headers().get(X_REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    if let Some(InternalCause(cause)) = response.extensions_mut().remove::<InternalCause>() {
        let status = response.status().as_u16();
        tracing::error!(request_id, path, status, cause, "request failed on the server's side");
    }
    let known = facts.snapshot();
    let route = known.route.as_deref().unwrap_or("unmatched");
    let elapsed = started.elapsed();
    state.metrics.record_request(route, method, response.status().as_u16(), elapsed);
    // The RTS art. 32 records count what identified TPPs asked for (anonymous requests would pad
    // the counts and dilute the error rate). The route table gave the family, whoever answered.
    let planned = response.extensions().get::<PlannedMaintenance>().is_some();
    let family = known.family;
    if let (Some(family), Some(bank), Some(_)) = (family, known.bank, &known.tpp) {
        let at = state.clock.now();
        state.recorder.record(bank, family, at, response.status().as_u16(), planned, elapsed);
    }
    if let (Some(recent), Some(org_id)) = (&state.recent, known.tpp.as_ref().or(claimed.as_ref())) {
        let status = response.status().as_u16();
        recent.remember(RecentRequest::new(state.clock.now(), org_id.clone(), method, &path, status, refusal, elapsed));
    }
    tracing::info!(
        target: "stetgate::access",
        request_id,
        bank = known.bank.map(|b| b.to_string()).unwrap_or_default(),
        method,
        route,
        status = response.status().as_u16(),
        latency_ms = elapsed.as_secs_f64() * 1000.0,
        "request"
    );
    // Last, once the answer is measured: the rest of a body nobody read, so the client can finish
    // sending it and keep its connection; else the answer says the connection closes.
    let keep = may_drain && !closes(&response) && body.read_rest(state.config.max_body_bytes).await;
    if http1 && !keep && !body.was_read() {
        response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// Answers after which the connection closes anyway (over capacity, a body over the limit): no
/// point reading what remains.
fn closes(response: &Response) -> bool {
    matches!(response.status(), StatusCode::SERVICE_UNAVAILABLE | StatusCode::PAYLOAD_TOO_LARGE)
        || response.headers().get(header::CONNECTION).is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"close"))
}

/// The organization a client certificate names, read without trusting it (the sandbox's portal
/// shows a refused certificate's requests to the TPP it names).
fn claimed_org(extensions: &axum::http::Extensions) -> Option<stet::OrgId> {
    let chain = extensions.get::<super::tls::ConnectionInfo>()?.client_chain.as_ref()?;
    eidas::psd2::parse_der(chain.first()?.as_ref()).ok()?.org_id()
}

/// An OAuth error's code and description (RFC 6749 JSON), the body kept as it was.
async fn oauth_refusal(response: &mut Response) -> Option<(String, String)> {
    let json =
        response.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !json {
        return None;
    }
    let taken = std::mem::take(response.body_mut());
    let bytes = http_body_util::Limited::new(taken, 16 * 1024).collect().await.ok()?.to_bytes();
    let value: Option<serde_json::Value> = serde_json::from_slice(&bytes).ok();
    *response.body_mut() = Body::from(bytes);
    let value = value?;
    let text = |key: &str| value.get(key).and_then(|v| v.as_str()).map(str::to_owned);
    Some((text("error")?, text("error_description").unwrap_or_default()))
}

/// How long an answer waits for the rest of a request body nobody read.
const DRAIN_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// The request with a body that notes when it has been read to its end (at once for a request
/// without a body) and, dropped unread, leaves what remains of it behind; and the handle to both.
fn track_body(request: Request) -> (Request, BodyTrack) {
    let empty = http_body::Body::is_end_stream(request.body());
    let track = BodyTrack { read: Arc::new(AtomicBool::new(empty)), left: Arc::new(std::sync::Mutex::new(None)) };
    if empty {
        // Most requests (GET) carry no body: nothing to track on the hot path.
        return (request, track);
    }
    let tracked = |inner| Body::new(Tracked { inner: Some(inner), read: track.read.clone(), left: track.left.clone() });
    (request.map(tracked), track)
}

/// Whether the request body was read, and what was left of it.
struct BodyTrack {
    read: Arc<AtomicBool>,
    left: Arc<std::sync::Mutex<Option<Body>>>,
}

impl BodyTrack {
    fn was_read(&self) -> bool {
        self.read.load(Ordering::Acquire)
    }

    /// Reads and discards what nobody read of the request body (a refusal given before the body
    /// mattered), frame by frame, up to `limit` bytes and [`DRAIN_WAIT`], so the client can
    /// finish sending it and the connection can serve its next request. Whether the body is now
    /// read whole.
    async fn read_rest(&self, limit: usize) -> bool {
        if self.was_read() {
            return true;
        }
        let left = self.left.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
        let Some(mut rest) = left else { return false };
        let discard = async {
            let mut seen = 0usize;
            while let Some(frame) = rest.frame().await {
                let Ok(frame) = frame else { return false };
                seen += frame.data_ref().map_or(0, |d| d.len());
                if seen > limit {
                    return false;
                }
            }
            true
        };
        tokio::time::timeout(DRAIN_WAIT, discard).await.unwrap_or(false)
    }
}

/// A request body that sets `read` once its last frame has been taken, and that leaves its
/// unread rest in `left` when dropped.
struct Tracked {
    inner: Option<Body>,
    read: Arc<AtomicBool>,
    left: Arc<std::sync::Mutex<Option<Body>>>,
}

impl http_body::Body for Tracked {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        let Some(inner) = self.inner.as_mut() else { return Poll::Ready(None) };
        let polled = Pin::new(&mut *inner).poll_frame(cx);
        if matches!(polled, Poll::Ready(None)) || inner.is_end_stream() {
            self.read.store(true, Ordering::Release);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.as_ref().is_none_or(http_body::Body::is_end_stream)
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.as_ref().map(http_body::Body::size_hint).unwrap_or_default()
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        if !self.read.load(Ordering::Acquire)
            && let Some(rest) = self.inner.take()
        {
            *self.left.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(rest);
        }
    }
}

/// Longest `X-Request-ID` echoed back. A valid one has at most 70 characters; a longer, invalid one
/// is still echoed (so the client can match the 400 to its request) up to this length, never more.
const MAX_ECHOED_REQUEST_ID: usize = 128;

fn echoable(id: &HeaderValue) -> bool {
    id.len() <= MAX_ECHOED_REQUEST_ID
}

/// Responses that chose their format on purpose: OAuth errors (RFC 6749 JSON), PSU pages (HTML),
/// and ErrorModel bodies already rendered.
fn has_own_body_format(response: &Response) -> bool {
    let content_type = response.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    !(content_type.is_empty() || content_type.starts_with("text/plain"))
}

/// The first bytes of a plain-text error body, as produced by axum's own rejections.
async fn plain_text(body: &mut Body) -> Option<String> {
    let taken = std::mem::take(body);
    let bytes = http_body_util::Limited::new(taken, 4096).collect().await.ok()?.to_bytes();
    let text = String::from_utf8_lossy(&bytes).trim().to_owned();
    (!text.is_empty()).then_some(text)
}

fn explain(status: StatusCode, text: Option<String>) -> String {
    match status {
        StatusCode::METHOD_NOT_ALLOWED => {
            "this method is not allowed on this path; the Allow header lists the allowed ones".to_owned()
        }
        StatusCode::REQUEST_TIMEOUT => "the request took too long to arrive; send it again".to_owned(),
        StatusCode::INTERNAL_SERVER_ERROR => {
            "an internal error occurred; retry later, and quote the X-Request-ID if it persists".to_owned()
        }
        StatusCode::NOT_FOUND => "no resource at this path".to_owned(),
        _ => text.unwrap_or_else(|| reason_phrase(status)),
    }
}

fn render_error(state: &AppState, response: Response, body: ErrorBody, path: &str) -> Response {
    let (mut parts, _) = response.into_parts();
    let timestamp = state.clock.now().strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string();
    let mut model = ErrorModel::new(parts.status.as_u16(), &body.message, &body.error, path, timestamp);
    model.accepted_authentication_approach = body.approaches;
    let json = serde_json::to_vec(&model).unwrap_or_default();
    parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(stet::HAL_JSON));
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(json))
}
