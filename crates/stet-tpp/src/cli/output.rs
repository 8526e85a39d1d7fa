//! What `stet-tpp` prints: the answer's body alone on stdout (so it pipes into `jq`), the status
//! line and headers first with `-i`; and for a refusal, one line on stderr naming the fix.

use std::fmt::Write as _;
use std::process::ExitCode;

/// The exit code of an answer that is not 2xx (1 is stet-tpp's own failure).
pub const REFUSED: u8 = 3;

/// How answers are printed.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    /// `-i`: the status line and headers before the body, as `curl -i`.
    pub include: bool,
}

/// An answer read whole: what is printed of it.
pub struct Answer {
    pub status: reqwest::StatusCode,
    /// The status line and headers, when `-i` asked for them.
    head: Option<String>,
    pub text: String,
}

impl Output {
    /// Reads `response` (its head kept only with `-i`).
    pub async fn read(self, response: reqwest::Response) -> anyhow::Result<Answer> {
        let status = response.status();
        let head = self.include.then(|| {
            let mut head = format!("{:?} {}\n", response.version(), status);
            for (name, value) in response.headers() {
                let _ = writeln!(head, "{name}: {}", value.to_str().unwrap_or("<binary>"));
            }
            head
        });
        Ok(Answer { status, head, text: response.text().await? })
    }

    /// Prints `response`; its exit code (0 for 2xx, [`REFUSED`] otherwise).
    pub async fn print(self, response: reqwest::Response) -> anyhow::Result<ExitCode> {
        let answer = self.read(response).await?;
        Ok(self.show(&answer))
    }

    /// Prints an answer read before; its exit code.
    pub fn show(self, answer: &Answer) -> ExitCode {
        let mut out = answer.head.clone().map(|h| h + "\n").unwrap_or_default();
        let json = serde_json::from_str::<serde_json::Value>(&answer.text).ok();
        match &json {
            Some(json) => out.push_str(&serde_json::to_string_pretty(json).unwrap_or_else(|_| answer.text.clone())),
            None => out.push_str(&answer.text),
        }
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
        // A closed pipe (`stet-tpp ... | head`) is not an error worth a panic.
        let _ = std::io::Write::write_all(&mut std::io::stdout().lock(), out.as_bytes());
        if answer.status.is_success() {
            return ExitCode::SUCCESS;
        }
        let (code, why) = json.as_ref().map(refusal).unwrap_or_default();
        let fix = fix_for(answer.status.as_u16(), &code, &why).map(|f| format!(" -> {f}")).unwrap_or_default();
        let code = if code.is_empty() || Some(code.as_str()) == answer.status.canonical_reason() {
            String::new()
        } else {
            format!(" ({code})")
        };
        eprintln!("stet-tpp: HTTP {}{code}{fix}", answer.status);
        ExitCode::from(REFUSED)
    }
}

/// The code and the explanation of a refusal: the STET ErrorModel (`message`, `error`) or an
/// OAuth2 error (`error`, `error_description`).
fn refusal(body: &serde_json::Value) -> (String, String) {
    let text = |key: &str| body.get(key).and_then(|v| v.as_str()).unwrap_or("").to_owned();
    if body.get("error_description").is_some() || body.get("message").is_none() {
        (text("error"), text("error_description"))
    } else {
        (text("message"), text("error"))
    }
}

/// What to do about a refusal, when it is one a TPP developer meets while setting up.
pub fn fix_for(status: u16, code: &str, why: &str) -> Option<&'static str> {
    let says = |word: &str| why.to_ascii_lowercase().contains(word);
    Some(match (status, code) {
        (_, "invalid_token") => {
            "the token is unknown, expired or revoked: stet-tpp login again (call refreshes remembered tokens by itself)"
        }
        (_, "insufficient_scope" | "BADS") => {
            "a token of the route's scope: stet-tpp login --scope aisp (accounts) or cbpii (funds; piisp on v1)"
        }
        (_, "invalid_grant") => "the code or refresh token is spent, expired or not yours: stet-tpp login again",
        (_, "invalid_client") => "this TPP is not registered (or not active) at this bank: stet-tpp register",
        (_, "NGAC") => {
            "the PSU has not given access to this account: stet-tpp consent (AIS) or choose it at login (--accounts)"
        }
        (401, _) if says("certificate") || says("qwac") => {
            "the QWAC: --certs must hold a qwac.pem chaining to the bank's trust anchors, with the route's PSD2 role"
        }
        (400 | 401, _) if says("signature") || says("digest") || says("keyid") => {
            "signing: --certs qseal.key must match the QSealC registered with the bank (stet-tpp register), and --key-id name it"
        }
        (401, _) if says("regist") => "register this TPP first: stet-tpp register --redirect-uri ...",
        (403, _) if says("consent") => "ask the PSU for access first: stet-tpp consent --balances IBAN ...",
        (403, _) if says("role") => {
            "the QWAC lacks the route's PSD2 role (PSP_AI, PSP_IC or PSP_PI): stetgate certs issue --roles ..."
        }
        (404, _) => {
            "unknown here: list the PSU's accounts with stet-tpp accounts; check --bank and the version in the path"
        }
        (429, _) => {
            "batch calls (without PSU-IP-Address) are 4 a day per account: send --psu-ip-address when the PSU is present"
        }
        (503, _) => "the bank is unavailable or in maintenance: retry after the Retry-After seconds (-i shows it)",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_name_their_fix() {
        let stet = serde_json::json!({"status": 403, "message": "NGAC", "error": "account not in the consent"});
        assert_eq!(refusal(&stet), ("NGAC".to_owned(), "account not in the consent".to_owned()));
        let oauth = serde_json::json!({"error": "invalid_grant", "error_description": "spent"});
        assert_eq!(refusal(&oauth).0, "invalid_grant");
        assert!(fix_for(401, "invalid_token", "").unwrap().contains("login"));
        assert!(fix_for(400, "Bad Request", "the Signature does not verify").unwrap().contains("qseal.key"));
        assert!(fix_for(401, "Unauthorized", "no client certificate (QWAC)").unwrap().contains("qwac.pem"));
        assert_eq!(fix_for(400, "FF01", "amount has three decimals"), None, "the bank's own words suffice");
    }
}
