//! The tokens `stet-tpp login` obtained, remembered per bank URL, PSU and role in `tokens.json` of
//! the user's configuration directory (`$STET_TPP_CONFIG_DIR`, else `$XDG_CONFIG_HOME/stet-tpp`,
//! else `~/.config/stet-tpp`), readable by the user only; and the calls that use them: an access
//! token that expired, or that the bank answers 401, is refreshed once and the call sent again.

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;
use stet_tpp::{SignedRequest, Tokens, TppClient};

/// One remembered token pair.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Saved {
    pub access_token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    pub scope: String,
    /// When the access token expires, Unix seconds.
    pub expires_at: i64,
}

/// The file of remembered tokens.
pub struct TokenStore {
    path: PathBuf,
}

impl TokenStore {
    pub fn open() -> anyhow::Result<TokenStore> {
        let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
        let dir = var("STET_TPP_CONFIG_DIR")
            .or_else(|| var("XDG_CONFIG_HOME").map(|d| d.join("stet-tpp")))
            .or_else(|| var("HOME").map(|d| d.join(".config").join("stet-tpp")))
            .context("no configuration directory: set STET_TPP_CONFIG_DIR or HOME")?;
        Ok(TokenStore { path: dir.join("tokens.json") })
    }

    fn load(&self) -> anyhow::Result<BTreeMap<String, Saved>> {
        match std::fs::read_to_string(&self.path) {
            Ok(text) => {
                serde_json::from_str(&text).with_context(|| format!("{} is not stet-tpp's", self.path.display()))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
            Err(e) => Err(e).with_context(|| self.path.display().to_string()),
        }
    }

    /// An exclusive lock on `tokens.json.lock` next to the file, held until dropped.
    fn lock(&self) -> anyhow::Result<std::fs::File> {
        let dir = self.path.parent().context("the tokens file has no directory")?;
        std::fs::create_dir_all(dir).with_context(|| dir.display().to_string())?;
        let path = self.path.with_extension("json.lock");
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(false);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options.open(&path).with_context(|| path.display().to_string())?;
        file.lock().with_context(|| format!("locking {}", path.display()))?;
        Ok(file)
    }

    /// Writes the whole file anew (a temporary file of this process renamed over it), readable by
    /// the user only.
    fn save(&self, all: &BTreeMap<String, Saved>) -> anyhow::Result<()> {
        let dir = self.path.parent().context("the tokens file has no directory")?;
        std::fs::create_dir_all(dir).with_context(|| dir.display().to_string())?;
        let nanos = jiff::Timestamp::now().as_nanosecond();
        let temporary = self.path.with_extension(format!("json.{}.{nanos}.new", std::process::id()));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&temporary).with_context(|| temporary.display().to_string())?;
        std::io::Write::write_all(&mut file, serde_json::to_string_pretty(all)?.as_bytes())?;
        std::fs::rename(&temporary, &self.path).with_context(|| self.path.display().to_string())?;
        Ok(())
    }

    /// Remembers `tokens` (a token answer) of TPP `org` for `psu` at `url`, under the role its
    /// scope names.
    pub fn remember(
        &self,
        url: &str,
        org: &str,
        psu: &str,
        tokens: &Tokens,
        previous_refresh: Option<&str>,
    ) -> anyhow::Result<Saved> {
        let saved = Saved {
            access_token: tokens.access_token.clone(),
            refresh_token: tokens.refresh_token.clone().or_else(|| previous_refresh.map(str::to_owned)),
            scope: tokens.scope.clone(),
            expires_at: jiff::Timestamp::now().as_second() + tokens.expires_in,
        };
        // Read, change and write under an exclusive lock, so two stet-tpp processes logging in at
        // once both keep their tokens (the lock is released when `_lock` is dropped).
        let _lock = self.lock()?;
        let mut all = self.load()?;
        all.insert(key(url, org, psu, &role(&tokens.scope)), saved.clone());
        self.save(&all)?;
        Ok(saved)
    }

    /// The remembered tokens of TPP `org` for `psu` at `url` whose scope includes the first of
    /// `scopes` that any has.
    pub fn find(&self, url: &str, org: &str, psu: &str, scopes: &[&str]) -> anyhow::Result<Option<Saved>> {
        let prefix = key(url, org, psu, "");
        let mine: Vec<Saved> =
            self.load()?.into_iter().filter(|(k, _)| k.starts_with(&prefix)).map(|(_, saved)| saved).collect();
        Ok(scopes
            .iter()
            .find_map(|wanted| mine.iter().find(|s| s.scope.split_whitespace().any(|x| x == *wanted)).cloned()))
    }
}

fn key(url: &str, org: &str, psu: &str, role: &str) -> String {
    format!("{} {org} {psu} {role}", url.trim_end_matches('/'))
}

/// A token's role: its scope without `offline_access`.
fn role(scope: &str) -> String {
    scope.split_whitespace().filter(|s| *s != "offline_access").collect::<Vec<_>>().join(" ")
}

/// Calls on behalf of one PSU with the remembered tokens of one role.
pub struct Session<'a> {
    pub client: &'a TppClient,
    pub client_id: String,
    pub psu: String,
    /// The scopes that serve the calls (`aisp`; `cbpii` or `piisp`).
    pub scopes: &'static [&'static str],
}

impl Session<'_> {
    /// Sends the request `build` makes with the PSU's access token; refreshes it first when it has
    /// expired, or after a 401, and then sends it once more.
    pub async fn send(&self, build: impl Fn() -> SignedRequest) -> anyhow::Result<reqwest::Response> {
        let store = TokenStore::open()?;
        let url = self.client.base_url().to_owned();
        let Some(mut saved) = store.find(&url, &self.client_id, &self.psu, self.scopes)? else {
            bail!(
                "no {} token remembered for PSU {} at {url}: stet-tpp login --psu {} --scope {} first",
                self.scopes[0],
                self.psu,
                self.psu,
                self.scopes[0]
            );
        };
        let mut refreshed = false;
        if saved.expires_at <= jiff::Timestamp::now().as_second() + 5 {
            saved = self.refresh(&store, &url, &saved).await?;
            refreshed = true;
        }
        let response = build().bearer(&saved.access_token).send().await?;
        // Only a token the bank no longer takes is worth a refresh (not a certificate refused).
        let stale = response
            .headers()
            .get(reqwest::header::WWW_AUTHENTICATE)
            .is_some_and(|v| v.to_str().unwrap_or("").contains("invalid_token"));
        if response.status() != reqwest::StatusCode::UNAUTHORIZED || !stale || refreshed {
            return Ok(response);
        }
        match self.refresh(&store, &url, &saved).await {
            Ok(saved) => Ok(build().bearer(&saved.access_token).send().await?),
            Err(e) => {
                eprintln!("stet-tpp: {e:#}");
                Ok(response)
            }
        }
    }

    async fn refresh(&self, store: &TokenStore, url: &str, saved: &Saved) -> anyhow::Result<Saved> {
        let Some(refresh_token) = saved.refresh_token.as_deref() else {
            bail!("the access token expired and there is no refresh token: stet-tpp login again");
        };
        eprintln!("stet-tpp: refreshing the access token");
        let response = self.client.refresh(&self.client_id, refresh_token).await?;
        let status = response.status();
        if !status.is_success() {
            let body = response.text().await.unwrap_or_default();
            bail!("the bank refused the refresh (HTTP {status}: {body}): stet-tpp login --psu {} again", self.psu);
        }
        let tokens: Tokens = response.json().await.context("the refresh answer is not a token response")?;
        store.remember(url, &self.client_id, &self.psu, &tokens, Some(refresh_token))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simultaneous_logins_keep_every_token() {
        let dir = std::env::temp_dir().join(format!("stet-tpp-lock-{}", std::process::id()));
        let path = dir.join("tokens.json");
        let threads: Vec<_> = (0..16)
            .map(|i| {
                let path = path.clone();
                std::thread::spawn(move || {
                    let tokens: Tokens = serde_json::from_value(serde_json::json!({
                        "access_token": format!("a{i}"), "token_type": "Bearer", "expires_in": 3600,
                        "scope": "aisp", "refresh_token": format!("r{i}")
                    }))
                    .unwrap();
                    TokenStore { path }.remember("https://bank", "ORG", &format!("psu{i}"), &tokens, None).unwrap();
                })
            })
            .collect();
        threads.into_iter().for_each(|t| t.join().unwrap());
        let all = TokenStore { path }.load().unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(all.len(), 16, "a login overwrote another's tokens: {:?}", all.keys());
    }
}
