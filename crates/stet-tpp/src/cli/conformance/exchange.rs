//! One request of a conformance case and what the bank answered, kept as evidence: the
//! `X-Request-ID` sent, the status, the headers that matter, the body (secrets redacted in every
//! excerpt), or the transport error when there was no answer.

use serde_json::Value;

/// The headers worth keeping as evidence.
const KEPT: &[&str] = &["location", "www-authenticate", "retry-after", "x-request-id", "content-type"];

/// The JSON keys whose values never appear in a report.
const SECRETS: &[&str] = &["access_token", "refresh_token", "id_token"];

/// The query parameters whose values never appear in a report.
const SECRET_PARAMS: &[&str] = &["code", "psuAuthenticationFactor"];

/// How long a body excerpt is, in characters.
const EXCERPT: usize = 200;

static NULL: Value = Value::Null;

/// One request and its answer.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// `GET /stet/psd2/v1.4.2/accounts`, or what the PSU did on the bank's pages.
    pub label: String,
    pub request_id: Option<String>,
    pub status: Option<u16>,
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub json: Option<Value>,
    /// No answer: why.
    pub error: Option<String>,
}

impl Exchange {
    /// Reads an answer (or the failure to get one).
    pub async fn read(
        label: String,
        request_id: Option<String>,
        answer: Result<reqwest::Response, impl std::error::Error>,
    ) -> Exchange {
        let mut exchange = Exchange::note(label, String::new());
        exchange.request_id = request_id;
        match answer {
            Ok(response) => {
                exchange.status = Some(response.status().as_u16());
                exchange.headers = KEPT
                    .iter()
                    .filter_map(|name| {
                        let value = response.headers().get(*name)?.to_str().ok()?;
                        Some(((*name).to_owned(), value.to_owned()))
                    })
                    .collect();
                match response.text().await {
                    Ok(text) => {
                        exchange.json = serde_json::from_str(&text).ok();
                        exchange.body = text;
                    }
                    Err(e) => exchange.error = Some(format!("the body could not be read: {e}")),
                }
            }
            Err(e) => exchange.error = Some(causes(&e)),
        }
        exchange
    }

    /// A step without an HTTP answer of its own (the PSU's pages): what happened.
    pub fn note(label: String, body: String) -> Exchange {
        Exchange { label, request_id: None, status: None, headers: Vec::new(), body, json: None, error: None }
    }

    /// The status, 0 when there was no answer.
    pub fn status(&self) -> u16 {
        self.status.unwrap_or(0)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// The JSON body (`null` when the body is not JSON).
    pub fn json(&self) -> &Value {
        self.json.as_ref().unwrap_or(&NULL)
    }

    /// A string field of the JSON body.
    pub fn text(&self, key: &str) -> Option<&str> {
        self.json().get(key).and_then(Value::as_str)
    }

    /// The refusal's code: the ErrorModel's `message` (where the bank puts AC01, FF01, BADS...) or
    /// the OAuth error.
    pub fn code(&self) -> &str {
        self.text("message").or_else(|| self.text("error")).unwrap_or("")
    }

    /// Whether `code` is the refusal's code (`message` or OAuth `error`), or the `error` of the
    /// WWW-Authenticate challenge (RFC 6750).
    pub fn carries(&self, code: &str) -> bool {
        self.code() == code || self.header("www-authenticate").is_some_and(|h| h.contains(&format!("error=\"{code}\"")))
    }

    /// "HTTP 403: {excerpt}" (or the transport error): what was got, for a failure's report.
    pub fn got(&self) -> String {
        match (&self.error, self.status) {
            (Some(error), _) => format!("no answer: {error}"),
            (None, Some(status)) => format!("HTTP {status}: {}", self.excerpt()),
            (None, None) => self.body.clone(),
        }
    }

    /// The evidence line: `GET /path -> 200 [X-Request-ID ...] {excerpt}`.
    pub fn evidence(&self) -> String {
        let id = self.request_id.as_deref().map(|id| format!(" [X-Request-ID {id}]")).unwrap_or_default();
        match (&self.error, self.status) {
            (Some(error), _) => format!("{}{id} -> no answer: {error}", self.label),
            (None, Some(status)) => {
                let excerpt = self.excerpt();
                let sep = if excerpt.is_empty() { "" } else { " " };
                format!("{} -> {status}{id}{sep}{excerpt}", self.label)
            }
            (None, None) => format!("{} -> {}", self.label, self.body),
        }
    }

    /// The body, compact, secrets redacted, cut to [`EXCERPT`] characters.
    pub fn excerpt(&self) -> String {
        let text = match &self.json {
            Some(json) => serde_json::to_string(&redacted(json.clone())).unwrap_or_default(),
            None => self.body.split_whitespace().collect::<Vec<_>>().join(" "),
        };
        // A bank's text reaches a terminal: no escape sequences or other control characters.
        let text: String = text.chars().map(|c| if c.is_control() { '?' } else { c }).collect();
        cut(&text, EXCERPT)
    }
}

/// An error with its causes: `error sending request: connection refused`.
pub fn causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text = format!("{text}: {cause_text}");
        }
        source = cause.source();
    }
    text
}

/// `text` cut to `max` characters, with an ellipsis when cut.
pub fn cut(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

fn redacted(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let v =
                        if SECRETS.contains(&k.as_str()) { Value::String("<redacted>".into()) } else { redacted(v) };
                    (k, v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(redacted).collect()),
        other => other,
    }
}

/// A URL with the values of its secret query parameters redacted.
pub fn redacted_url(location: &str) -> String {
    let Ok(mut url) = url::Url::parse(location) else { return cut(location, EXCERPT) };
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| {
            let v = if SECRET_PARAMS.contains(&k.as_ref()) { "redacted".to_owned() } else { v.into_owned() };
            (k.into_owned(), v)
        })
        .collect();
    if !pairs.is_empty() {
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
    url.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_reach_the_evidence() {
        let mut e = Exchange::note("POST /stet/psd2/oauth/token".into(), String::new());
        e.status = Some(200);
        e.json = Some(serde_json::json!({"access_token": "A-SECRET", "refresh_token": "R-SECRET", "scope": "aisp"}));
        let line = e.evidence();
        assert!(!line.contains("SECRET") && line.contains("aisp"), "{line}");
        let url = redacted_url("https://tpp.example/cb?code=C-SECRET&state=s1");
        assert!(!url.contains("C-SECRET") && url.contains("state=s1"), "{url}");
        assert_eq!(cut("abcdef", 3), "abc…");
        assert_eq!(cut("abc", 3), "abc");
    }
}
