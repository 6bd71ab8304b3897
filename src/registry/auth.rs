//! Registry credentials and the `WWW-Authenticate` challenge.
//!
//! Credentials come, first match wins, from `CIUX_REGISTRY_USER` and
//! `CIUX_REGISTRY_PASSWORD`, then from Docker's `config.json`
//! (`$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`): an `auths`
//! entry for the host (`auth` = base64 of `user:password`, or `username` and
//! `password`, or a `registrytoken` used as a bearer token), or a credential
//! helper (`credHelpers`, `credsStore`). Secrets never leave this module in a
//! `Debug` or `Display` form.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;

/// Environment variables holding a user and password for every registry.
pub const USER_VAR: &str = "CIUX_REGISTRY_USER";
pub const PASSWORD_VAR: &str = "CIUX_REGISTRY_PASSWORD";

/// A secret for one registry. `Debug` hides it.
#[derive(Clone, PartialEq, Eq)]
pub enum Credential {
    Basic {
        user: String,
        password: String,
    },
    /// A bearer token to send as is.
    Token(String),
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Basic { user, .. } => write!(f, "Basic({user}, ***)"),
            Self::Token(_) => write!(f, "Token(***)"),
        }
    }
}

impl Credential {
    /// The `Authorization` header value.
    pub(crate) fn header(&self) -> String {
        match self {
            Self::Basic { user, password } => {
                format!("Basic {}", STANDARD.encode(format!("{user}:{password}")))
            }
            Self::Token(token) => format!("Bearer {token}"),
        }
    }
}

/// Where to look for credentials; built from the environment by [`Credentials::from_env`].
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    env: Option<Credential>,
    config: Option<PathBuf>,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DockerConfig {
    #[serde(default)]
    auths: BTreeMap<String, AuthEntry>,
    #[serde(default)]
    cred_helpers: BTreeMap<String, String>,
    creds_store: Option<String>,
}

#[derive(Default, Deserialize)]
struct AuthEntry {
    auth: Option<String>,
    username: Option<String>,
    password: Option<String>,
    registrytoken: Option<String>,
}

impl Credentials {
    /// Read the variables that say where credentials are.
    pub fn from_env() -> Self {
        let env = match (std::env::var(USER_VAR), std::env::var(PASSWORD_VAR)) {
            (Ok(user), Ok(password)) if !user.is_empty() => {
                Some(Credential::Basic { user, password })
            }
            _ => None,
        };
        let config = std::env::var_os("DOCKER_CONFIG")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".docker")))
            .map(|dir| dir.join("config.json"));
        Self { env, config }
    }

    /// No credentials at all (anonymous access only).
    pub fn none() -> Self {
        Self::default()
    }

    /// The credential for `host` (`host[:port]` as written in image references).
    /// An unreadable `config.json` is ignored with a warning: anonymous access may
    /// still work, and a refusal will then say so.
    pub fn lookup(&self, host: &str) -> Option<Credential> {
        if let Some(env) = &self.env {
            return Some(env.clone());
        }
        let path = self.config.as_ref()?;
        let text = std::fs::read_to_string(path).ok()?;
        let config: DockerConfig = match serde_json::from_str(&text) {
            Ok(config) => config,
            Err(e) => {
                tracing::warn!("ignoring {}: {e}", path.display());
                return None;
            }
        };
        let keys = config_keys(host);
        for (key, entry) in &config.auths {
            if keys.iter().any(|k| normalize_key(key) == *k) {
                if let Some(credential) = entry.credential() {
                    return Some(credential);
                }
            }
        }
        let helper = keys
            .iter()
            .find_map(|k| config.cred_helpers.get(k))
            .or(config.creds_store.as_ref())?;
        run_helper(helper, &keys[0])
    }
}

impl AuthEntry {
    fn credential(&self) -> Option<Credential> {
        if let Some(token) = self.registrytoken.as_ref().filter(|t| !t.is_empty()) {
            return Some(Credential::Token(token.clone()));
        }
        if let Some(auth) = self.auth.as_ref().filter(|a| !a.is_empty()) {
            let decoded = STANDARD.decode(auth.trim()).ok()?;
            let decoded = String::from_utf8(decoded).ok()?;
            let (user, password) = decoded.split_once(':')?;
            return Some(Credential::Basic {
                user: user.to_owned(),
                password: password.to_owned(),
            });
        }
        match (&self.username, &self.password) {
            (Some(user), Some(password)) => Some(Credential::Basic {
                user: user.clone(),
                password: password.clone(),
            }),
            _ => None,
        }
    }
}

/// The `auths` keys that may name `host`; Docker Hub is stored under its legacy URL.
fn config_keys(host: &str) -> Vec<String> {
    if host == super::reference::DOCKER_HUB
        || host == "registry-1.docker.io"
        || host == "index.docker.io"
    {
        vec![
            "index.docker.io".into(),
            "docker.io".into(),
            "registry-1.docker.io".into(),
        ]
    } else {
        vec![host.to_owned()]
    }
}

/// `https://host/v1/` → `host`, as Docker matches `auths` keys.
fn normalize_key(key: &str) -> String {
    let key = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    key.split('/').next().unwrap_or(key).to_owned()
}

/// Ask `docker-credential-<helper> get` for `host`'s credential.
fn run_helper(helper: &str, host: &str) -> Option<Credential> {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new(format!("docker-credential-{helper}"))
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    child.stdin.take()?.write_all(host.as_bytes()).ok()?;
    let out = child.wait_with_output().ok()?;
    if !out.status.success() {
        return None;
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Answer {
        username: String,
        secret: String,
    }
    let answer: Answer = serde_json::from_slice(&out.stdout).ok()?;
    Some(if answer.username == "<token>" {
        Credential::Token(answer.secret)
    } else {
        Credential::Basic {
            user: answer.username,
            password: answer.secret,
        }
    })
}

/// A parsed `WWW-Authenticate` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Challenge {
    Basic,
    Bearer {
        realm: String,
        service: Option<String>,
        scope: Option<String>,
    },
}

impl Challenge {
    /// Parse `Bearer realm="...",service="...",scope="..."` or `Basic realm="..."`.
    pub(crate) fn parse(header: &str) -> Option<Self> {
        let (scheme, params) = header.trim().split_once(' ').unwrap_or((header.trim(), ""));
        if scheme.eq_ignore_ascii_case("basic") {
            return Some(Self::Basic);
        }
        if !scheme.eq_ignore_ascii_case("bearer") {
            return None;
        }
        let params = parse_params(params);
        Some(Self::Bearer {
            realm: params.get("realm")?.clone(),
            service: params.get("service").cloned(),
            scope: params.get("scope").cloned(),
        })
    }
}

/// `a="x,y",b=z` → {a: "x,y", b: "z"} (quoted values may hold commas).
fn parse_params(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut rest = text.trim();
    while let Some((key, after)) = rest.split_once('=') {
        let key = key
            .trim()
            .trim_start_matches(',')
            .trim()
            .to_ascii_lowercase();
        let (value, next) = if let Some(quoted) = after.strip_prefix('"') {
            match quoted.find('"') {
                Some(end) => (&quoted[..end], &quoted[end + 1..]),
                None => (quoted, ""),
            }
        } else {
            match after.find(',') {
                Some(end) => (&after[..end], &after[end..]),
                None => (after, ""),
            }
        };
        out.insert(key, value.to_owned());
        rest = next.trim_start_matches([',', ' ']);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges() {
        assert_eq!(
            Challenge::parse(
                r#"Bearer realm="https://auth.example.org/token",service="reg",scope="repository:a/b:pull,push""#
            ),
            Some(Challenge::Bearer {
                realm: "https://auth.example.org/token".into(),
                service: Some("reg".into()),
                scope: Some("repository:a/b:pull,push".into()),
            })
        );
        assert_eq!(
            Challenge::parse(r#"Basic realm="Registry""#),
            Some(Challenge::Basic)
        );
        assert_eq!(Challenge::parse("Negotiate"), None);
    }

    #[test]
    fn config_json_entries_and_hidden_secrets() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("config.json");
        let auth = STANDARD.encode("alice:s3cret");
        std::fs::write(
            &path,
            format!(r#"{{"auths":{{"https://127.0.0.1:5000/v1/":{{"auth":"{auth}"}},"other:1":{{"registrytoken":"tok"}}}}}}"#),
        )
        .unwrap();
        let creds = Credentials {
            env: None,
            config: Some(path),
        };
        let found = creds.lookup("127.0.0.1:5000").unwrap();
        assert_eq!(
            found,
            Credential::Basic {
                user: "alice".into(),
                password: "s3cret".into()
            }
        );
        assert!(!format!("{found:?}").contains("s3cret"));
        assert_eq!(
            creds.lookup("other:1"),
            Some(Credential::Token("tok".into()))
        );
        assert_eq!(creds.lookup("missing:1"), None);
    }
}
