//! Registry credentials: where they come from, and keeping them secret.
//!
//! First match wins, per registry host:
//! 1. `CIUX_REGISTRY_USER` and `CIUX_REGISTRY_PASSWORD`, for the project's
//!    registry only (a base image on another registry must never receive them);
//! 2. Docker's `config.json` (`$DOCKER_CONFIG/config.json`, else
//!    `~/.docker/config.json`), read by the `docker_credential` crate: a
//!    `credHelpers` entry for the host, an `auths` entry (`auth`, or
//!    `identitytoken`), then `credsStore`;
//! 3. podman/skopeo `auth.json` (`$REGISTRY_AUTH_FILE`, else
//!    `$XDG_RUNTIME_DIR/containers/auth.json`).
//!
//! Credential stores key Docker Hub as `https://index.docker.io/v1/` (what
//! `docker login` writes), every other registry by `host[:port]`.
//!
//! Secrets are [`SecretString`]s: `Debug` prints `[REDACTED]`, and they are
//! exposed only to hand them to the HTTP client.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use docker_credential::{CredentialRetrievalError, DockerCredential};
use secrecy::{ExposeSecret, SecretString};

use super::reference::DOCKER_HUB;

/// Environment variables holding a user and password for the project's registry.
pub(crate) const USER_VAR: &str = "CIUX_REGISTRY_USER";
pub(crate) const PASSWORD_VAR: &str = "CIUX_REGISTRY_PASSWORD";

/// The key credential stores use for Docker Hub.
pub(crate) const DOCKER_HUB_KEY: &str = "https://index.docker.io/v1/";

/// A secret for one registry. `Debug` hides it.
#[derive(Clone, Debug)]
pub(crate) enum Credential {
    Basic {
        user: String,
        password: SecretString,
    },
    /// A token sent as `Authorization: Bearer` (an `identitytoken`, or a
    /// helper's answer with user `<token>`).
    Token(SecretString),
}

impl Credential {
    /// The form oci-client takes. The only place a secret is exposed.
    pub(crate) fn to_oci(&self) -> oci_client::secrets::RegistryAuth {
        match self {
            Self::Basic { user, password } => oci_client::secrets::RegistryAuth::Basic(
                user.clone(),
                password.expose_secret().to_owned(),
            ),
            Self::Token(token) => {
                oci_client::secrets::RegistryAuth::Bearer(token.expose_secret().to_owned())
            }
        }
    }

    #[cfg(test)]
    fn exposed(&self) -> (String, String) {
        match self {
            Self::Basic { user, password } => (user.clone(), password.expose_secret().to_owned()),
            Self::Token(t) => ("<token>".into(), t.expose_secret().to_owned()),
        }
    }
}

/// Where a credential came from, to say which one a registry refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Origin {
    /// `CIUX_REGISTRY_USER` / `CIUX_REGISTRY_PASSWORD`.
    Environment,
    /// A `config.json` or `auth.json` file (entries or a helper it names).
    File(PathBuf),
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Environment => write!(f, "{USER_VAR} and {PASSWORD_VAR}"),
            Self::File(path) => write!(f, "{}", path.display()),
        }
    }
}

/// Where to look for credentials; built from the environment by [`Credentials::from_env`].
#[derive(Debug, Clone, Default)]
pub(crate) struct Credentials {
    /// The variables' credential and the one host it is for.
    env: Option<(String, Credential)>,
    docker_config: Option<PathBuf>,
    auth_file: Option<PathBuf>,
}

/// Files and helpers already warned about: a warning is printed once per run.
static WARNED: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());

fn warn_once(key: String, message: impl FnOnce() -> String) {
    let first = WARNED
        .lock()
        .map(|mut seen| seen.insert(key))
        .unwrap_or(true);
    if first {
        tracing::warn!("{}", message());
    }
}

impl Credentials {
    /// Read the variables that say where credentials are; `CIUX_REGISTRY_USER`
    /// and `CIUX_REGISTRY_PASSWORD` are for `registry_host` (the project's).
    pub(crate) fn from_env(registry_host: Option<&str>) -> Self {
        let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
        let env = match (
            registry_host,
            std::env::var(USER_VAR),
            std::env::var(PASSWORD_VAR),
        ) {
            (Some(host), Ok(user), Ok(password)) if !user.is_empty() => Some((
                host.to_owned(),
                Credential::Basic {
                    user,
                    password: password.into(),
                },
            )),
            _ => None,
        };
        let docker_config = var("DOCKER_CONFIG")
            .map(PathBuf::from)
            .or_else(|| var("HOME").map(|home| Path::new(&home).join(".docker")))
            .map(|dir| dir.join("config.json"));
        let auth_file = var("REGISTRY_AUTH_FILE").map(PathBuf::from).or_else(|| {
            var("XDG_RUNTIME_DIR").map(|dir| Path::new(&dir).join("containers/auth.json"))
        });
        Self {
            env,
            docker_config,
            auth_file,
        }
    }

    /// These files instead of the environment's (tests and tools).
    #[cfg(test)]
    pub(crate) fn with_files(docker_config: Option<PathBuf>, auth_file: Option<PathBuf>) -> Self {
        Self {
            env: None,
            docker_config,
            auth_file,
        }
    }

    /// The credential for `host` (`host[:port]` as written in image references)
    /// and where it came from. A malformed file, a failing or missing helper
    /// is warned about once and skipped: anonymous access may still work, and
    /// a refusal will then say so.
    pub(crate) fn lookup(&self, host: &str) -> Option<(Credential, Origin)> {
        if let Some((_, env)) = self.env.as_ref().filter(|(h, _)| h == host) {
            return Some((env.clone(), Origin::Environment));
        }
        let key = store_key(host);
        for path in [&self.docker_config, &self.auth_file].into_iter().flatten() {
            if let Some(credential) = from_file(path, &key) {
                return Some((credential, Origin::File(path.clone())));
            }
        }
        None
    }
}

/// The key a credential store holds `host` under.
pub(crate) fn store_key(host: &str) -> String {
    if matches!(
        host,
        DOCKER_HUB | "index.docker.io" | "registry-1.docker.io"
    ) {
        DOCKER_HUB_KEY.to_owned()
    } else {
        host.to_owned()
    }
}

fn from_file(path: &Path, key: &str) -> Option<Credential> {
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => {
            warn_once(path.display().to_string(), || {
                format!("ignoring {}: {e}", path.display())
            });
            return None;
        }
    };
    let answer = docker_credential::get_credential_from_reader(std::io::BufReader::new(file), key);
    match answer {
        Ok(DockerCredential::UsernamePassword(user, password)) => Some(Credential::Basic {
            user,
            password: password.into(),
        }),
        Ok(DockerCredential::IdentityToken(token)) => Some(Credential::Token(token.into())),
        Err(CredentialRetrievalError::NoCredentialConfigured) => None,
        Err(
            CredentialRetrievalError::ConfigReadError | CredentialRetrievalError::ConfigNotFound,
        ) => {
            warn_once(path.display().to_string(), || {
                format!(
                    "ignoring {}: not a valid credentials file (JSON with `auths`, `credHelpers`, `credsStore`)",
                    path.display()
                )
            });
            None
        }
        Err(CredentialRetrievalError::HelperFailure { helper, stdout, .. }) => {
            // The helper protocol answers "credentials not found" for a host
            // it has nothing for: that is no credential, not a failure.
            if !stdout
                .to_ascii_lowercase()
                .contains("credentials not found")
            {
                warn_once(format!("{helper} {key}"), || {
                    format!(
                        "credential helper {helper} (named in {}) failed for {key}; trying without its credential",
                        path.display()
                    )
                });
            }
            None
        }
        Err(CredentialRetrievalError::HelperCommunicationError) => {
            warn_once(format!("helper {} {key}", path.display()), || {
                format!(
                    "cannot run the credential helper named in {} for {key} (a `docker-credential-<name>` program not on PATH?); trying without credentials",
                    path.display()
                )
            });
            None
        }
        Err(e) => {
            warn_once(format!("{} {key}", path.display()), || {
                format!(
                    "ignoring the credential for {key} in {}: {e}",
                    path.display()
                )
            });
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_are_for_the_project_registry_only() {
        let creds = Credentials {
            env: Some((
                "reg.example.org".into(),
                Credential::Basic {
                    user: "ci".into(),
                    password: "pw".to_owned().into(),
                },
            )),
            ..Credentials::default()
        };
        let (found, origin) = creds.lookup("reg.example.org").unwrap();
        assert_eq!(found.exposed(), ("ci".into(), "pw".into()));
        assert_eq!(origin, Origin::Environment);
        assert!(creds.lookup("docker.io").is_none());
    }

    #[test]
    fn docker_hub_is_keyed_by_its_legacy_url() {
        assert_eq!(store_key("docker.io"), "https://index.docker.io/v1/");
        assert_eq!(store_key("index.docker.io"), "https://index.docker.io/v1/");
        assert_eq!(store_key("127.0.0.1:5000"), "127.0.0.1:5000");
    }

    #[test]
    fn config_json_entries_and_hidden_secrets() {
        use base64::Engine;
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("config.json");
        let auth = base64::engine::general_purpose::STANDARD.encode("alice:s3cret");
        std::fs::write(
            &path,
            format!(
                r#"{{"auths":{{"https://127.0.0.1:5000/v1/":{{"auth":"{auth}"}},"other:1":{{"identitytoken":"tok-1"}},"https://index.docker.io/v1/":{{"auth":"{auth}"}}}}}}"#
            ),
        )
        .unwrap();
        let creds = Credentials::with_files(Some(path.clone()), None);
        let (found, origin) = creds.lookup("127.0.0.1:5000").unwrap();
        assert_eq!(found.exposed(), ("alice".into(), "s3cret".into()));
        assert_eq!(origin, Origin::File(path));
        assert!(!format!("{found:?}").contains("s3cret"));
        let (token, _) = creds.lookup("other:1").unwrap();
        assert_eq!(token.exposed().1, "tok-1");
        assert!(!format!("{token:?}").contains("tok-1"));
        assert!(creds.lookup("docker.io").is_some());
        assert!(creds.lookup("missing:1").is_none());
    }

    #[test]
    fn podman_auth_file_after_docker_config() {
        use base64::Engine;
        let tmp = tempfile::tempdir().unwrap();
        let auth_file = tmp.path().join("auth.json");
        let auth = base64::engine::general_purpose::STANDARD.encode("bob:pw2");
        std::fs::write(
            &auth_file,
            format!(r#"{{"auths":{{"quay.example:8443":{{"auth":"{auth}"}}}}}}"#),
        )
        .unwrap();
        let malformed = tmp.path().join("config.json");
        std::fs::write(&malformed, "{not json").unwrap();
        let creds = Credentials::with_files(Some(malformed), Some(auth_file.clone()));
        let (found, origin) = creds.lookup("quay.example:8443").unwrap();
        assert_eq!(found.exposed(), ("bob".into(), "pw2".into()));
        assert_eq!(origin, Origin::File(auth_file));
    }
}
