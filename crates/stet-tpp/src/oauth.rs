//! The TPP's side of the bank's OAuth2 authorization server: the authorize URL, the PSU's pages
//! driven over HTTP (for tests and developers, in the sandbox), and the token, refresh and revoke
//! calls (over mutual TLS with the QWAC).

use crate::pages::first_form;
use crate::{ClientError, TppClient};

/// The token answer (the shared wire type).
pub use stet::oauth::TokenResponse as Tokens;

/// What the TPP asks the PSU for.
#[derive(Debug, Clone)]
pub struct AuthorizationRequest {
    pub client_id: String,
    pub redirect_uri: String,
    /// `aisp`, `cbpii`, `piisp`, space-separated.
    pub scope: String,
    pub state: Option<String>,
    /// A PKCE challenge (RFC 7636, S256), from [`Pkce::generate`].
    pub code_challenge: Option<String>,
}

/// A PKCE verifier and its S256 challenge (RFC 7636): the challenge goes with the authorization
/// request, the verifier with the code.
#[derive(Debug, Clone)]
pub struct Pkce {
    pub verifier: String,
    pub challenge: String,
}

impl Pkce {
    /// A fresh verifier of 64 random hexadecimal characters, and its challenge.
    pub fn generate() -> Pkce {
        use base64::Engine;
        let verifier = format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple());
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes());
        let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest.as_ref());
        Pkce { verifier, challenge }
    }
}

/// How the simulated PSU answers the bank's pages.
#[derive(Debug, Clone)]
pub struct PsuAnswers {
    pub psu_id: String,
    pub otp: String,
    /// For card issuers: the resource ids to tick; `None` ticks every account offered.
    pub accounts: Option<Vec<String>>,
}

/// Where the bank sent the PSU back: the query of the TPP's redirect URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redirected {
    pub location: String,
    pub params: Vec<(String, String)>,
}

impl Redirected {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// The outcome of driving the pages.
#[derive(Debug, Clone)]
pub enum FlowEnd {
    /// Sent back to the TPP (with `code`, or with `error`).
    Redirected(Redirected),
    /// A page of the bank with no redirect: its status and HTML.
    Page(u16, String),
}

impl AuthorizationRequest {
    /// `/stet/psd2/oauth/authorize?response_type=code&...`
    pub fn path(&self) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        query.append_pair("response_type", "code");
        query.append_pair("client_id", &self.client_id);
        query.append_pair("redirect_uri", &self.redirect_uri);
        query.append_pair("scope", &self.scope);
        if let Some(state) = &self.state {
            query.append_pair("state", state);
        }
        if let Some(challenge) = &self.code_challenge {
            query.append_pair("code_challenge", challenge);
            query.append_pair("code_challenge_method", "S256");
        }
        format!("/stet/psd2/oauth/authorize?{}", query.finish())
    }
}

impl TppClient {
    /// Goes through the bank's pages as the PSU would in a browser, following the forms, and
    /// returns where the bank sends the PSU back.
    pub async fn drive_authorization(
        &self,
        request: &AuthorizationRequest,
        psu: &PsuAnswers,
    ) -> Result<FlowEnd, ClientError> {
        self.drive_pages(&format!("{}{}", self.base_url(), request.path()), psu).await
    }

    /// Opens `url` (a page of the bank) and answers its forms as `psu` until the bank redirects:
    /// the id and code fields, the accounts to tick (`psu.accounts`, or all), the account to
    /// choose among radio buttons (the first of `psu.accounts` offered, or the first offered).
    pub async fn drive_pages(&self, url: &str, psu: &PsuAnswers) -> Result<FlowEnd, ClientError> {
        let response = self.http().get(url).send().await?;
        let cookie = response
            .headers()
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(|v| v.split(';').next().map(str::to_owned))
            .collect::<Vec<_>>()
            .join("; ");
        let mut response = response;
        for _ in 0..8 {
            if let Some(end) = redirected(&response) {
                return Ok(FlowEnd::Redirected(end));
            }
            let status = response.status().as_u16();
            let html = response.text().await?;
            let Some(form) = first_form(&html) else { return Ok(FlowEnd::Page(status, html)) };
            let fields = answers(&form, psu);
            response = self.post_form(&form.action, &cookie, &fields).await?;
        }
        Err(ClientError::Flow("the bank's pages did not end in a redirect".into()))
    }

    /// Opens a page of the bank (a GET as a browser makes it), without following redirects.
    pub async fn browse(&self, url: &str) -> Result<reqwest::Response, ClientError> {
        Ok(self.http().get(url).send().await?)
    }

    /// Presses a page's cancel button: the first form, with `action=cancel`.
    pub async fn post_form(
        &self,
        action: &str,
        cookie: &str,
        fields: &[(String, String)],
    ) -> Result<reqwest::Response, ClientError> {
        let url = if action.starts_with("http") { action.to_owned() } else { format!("{}{}", self.base_url(), action) };
        let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish();
        Ok(self
            .http()
            .post(url)
            .header(reqwest::header::COOKIE, cookie)
            .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await?)
    }

    /// Exchanges a code for tokens (`grant_type=authorization_code`).
    pub async fn exchange_code(
        &self,
        client_id: &str,
        code: &str,
        redirect_uri: &str,
    ) -> Result<reqwest::Response, ClientError> {
        self.token_request(&[
            ("client_id", client_id),
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
        ])
        .await
    }

    /// Exchanges a code obtained with a PKCE challenge, sending its verifier.
    pub async fn exchange_code_with_verifier(
        &self,
        client_id: &str,
        code: &str,
        redirect_uri: &str,
        verifier: &str,
    ) -> Result<reqwest::Response, ClientError> {
        self.token_request(&[
            ("client_id", client_id),
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("code_verifier", verifier),
        ])
        .await
    }

    /// A new access token for a refresh token.
    pub async fn refresh(&self, client_id: &str, refresh_token: &str) -> Result<reqwest::Response, ClientError> {
        self.token_request(&[
            ("client_id", client_id),
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ])
        .await
    }

    /// Revokes a token (and its pair).
    pub async fn revoke(&self, client_id: &str, token: &str) -> Result<reqwest::Response, ClientError> {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs([("client_id", client_id), ("token", token)])
            .finish();
        Ok(self
            .http()
            .post(format!("{}/stet/psd2/oauth/revoke", self.base_url()))
            .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await?)
    }

    /// A form POST to the token endpoint.
    pub async fn token_request(&self, params: &[(&str, &str)]) -> Result<reqwest::Response, ClientError> {
        let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(params).finish();
        Ok(self
            .http()
            .post(format!("{}/stet/psd2/oauth/token", self.base_url()))
            .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await?)
    }
}

/// The fields `psu` posts on `form`.
fn answers(form: &crate::pages::Form, psu: &PsuAnswers) -> Vec<(String, String)> {
    let mut fields = form.fields.clone();
    fields.push(("action".into(), "continue".into()));
    for input in &form.inputs {
        match input.as_str() {
            "psu_id" => fields.push(("psu_id".into(), psu.psu_id.clone())),
            "otp" => fields.push(("otp".into(), psu.otp.clone())),
            _ => {}
        }
    }
    for (name, value) in &form.checkboxes {
        if psu.accounts.as_ref().is_none_or(|chosen| chosen.contains(value)) {
            fields.push((name.clone(), value.clone()));
        }
    }
    let chosen = form
        .radios
        .iter()
        .find(|(_, value)| psu.accounts.as_ref().is_some_and(|chosen| chosen.contains(value)))
        .or(form.radios.first());
    if let Some((name, value)) = chosen {
        fields.push((name.clone(), value.clone()));
    }
    fields
}

fn redirected(response: &reqwest::Response) -> Option<Redirected> {
    if !response.status().is_redirection() {
        return None;
    }
    let location = response.headers().get(reqwest::header::LOCATION)?.to_str().ok()?.to_owned();
    let params = url::Url::parse(&location).ok()?.query_pairs().into_owned().collect();
    Some(Redirected { location, params })
}
