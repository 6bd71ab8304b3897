//! The client: oci-client does the protocol (HTTP, the token and Basic flows,
//! TLS, proxies); this module adds what it lacks and ciux needs: one
//! oci-client per registry (plain HTTP or TLS, its own CA), credentials
//! looked up once per registry, the `/v2/` probe made once per open
//! registry, retries with backoff and jitter, and errors that say what to do.
//!
//! Callers are synchronous: the client owns a small tokio runtime and blocks
//! on it, so the rest of ciux stays free of `async`.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use oci_client::RegistryOperation;
use oci_client::client::{Certificate, CertificateEncoding, ClientConfig, ClientProtocol};
use oci_client::errors::{OciDistributionError, OciErrorCode};
use oci_client::secrets::RegistryAuth;
use oci_client::token_cache::RegistryTokenType;

use super::credentials::{Credentials, Origin};
use super::{Reference, RegistryError};

/// Every manifest and index media type a tag may point at (OCI and Docker).
pub(crate) const MANIFEST_TYPES: &[&str] = &[
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
];

/// Variables that override the configured timeouts (seconds).
pub(crate) const CONNECT_TIMEOUT_VAR: &str = "CIUX_REGISTRY_CONNECT_TIMEOUT";
pub(crate) const READ_TIMEOUT_VAR: &str = "CIUX_REGISTRY_READ_TIMEOUT";

/// How often and how patiently to retry 429, 5xx and connection failures.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Retry {
    /// Attempts in all (1 = no retry).
    pub(crate) attempts: u32,
    /// Wait before the first retry; doubled each time, capped by `max_delay`,
    /// each wait drawn between half and all of it (jitter, so that CI jobs
    /// refused together do not come back together).
    pub(crate) delay: Duration,
    pub(crate) max_delay: Duration,
}

impl Default for Retry {
    fn default() -> Self {
        Self {
            attempts: 4,
            delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(5),
        }
    }
}

/// Bounds on every registry request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Timeouts {
    /// To open the connection (TCP and TLS handshake).
    pub(crate) connect: Duration,
    /// Between two reads of an answer: a registry that accepts and then says
    /// nothing fails after this long.
    pub(crate) read: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(10),
            read: Duration::from_secs(30),
        }
    }
}

impl Timeouts {
    /// The configured timeouts, overridden by `CIUX_REGISTRY_CONNECT_TIMEOUT`
    /// and `CIUX_REGISTRY_READ_TIMEOUT` (seconds) when set to a number.
    pub(crate) fn from_env(configured: Timeouts) -> Self {
        let var = |name: &str| {
            let text = std::env::var(name).ok()?;
            match text.trim().parse::<f64>() {
                Ok(secs) if secs > 0.0 && secs.is_finite() => Some(Duration::from_secs_f64(secs)),
                _ => {
                    tracing::warn!("ignoring {name}={text:?}: not a positive number of seconds");
                    None
                }
            }
        };
        Self {
            connect: var(CONNECT_TIMEOUT_VAR).unwrap_or(configured.connect),
            read: var(READ_TIMEOUT_VAR).unwrap_or(configured.read),
        }
    }
}

/// Everything a client needs to know besides the requests.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub(crate) credentials: Credentials,
    /// Hosts (`host` or `host:port`) spoken to over plain HTTP; loopback
    /// addresses are too, unless they have a CA in `ca`.
    pub(crate) insecure: Vec<String>,
    /// A CA certificate file (PEM) to trust for a registry, by `host[:port]`.
    pub(crate) ca: BTreeMap<String, PathBuf>,
    pub(crate) timeouts: Timeouts,
    pub(crate) retry: Retry,
}

/// A manifest as stored: its media type, bytes and digest.
#[derive(Debug, Clone)]
pub(crate) struct Manifest {
    pub(crate) media_type: String,
    pub(crate) bytes: Vec<u8>,
    pub(crate) digest: String,
}

/// A registry client. Cheap to share between threads (`&Client` is `Sync`).
pub struct Client {
    inner: Arc<Inner>,
    runtime: OnceLock<Result<tokio::runtime::Runtime, String>>,
}

pub(super) struct Inner {
    settings: Settings,
    registries: Mutex<HashMap<String, Arc<Registry>>>,
}

/// One registry host: its oci-client, its credential, what the probe said.
pub(super) struct Registry {
    host: String,
    plain: bool,
    pub(super) oci: oci_client::Client,
    pub(super) auth: RegistryAuth,
    origin: Option<Origin>,
    /// `Some(true)` once the `/v2/` probe said anonymous requests need no token.
    open: tokio::sync::OnceCell<bool>,
}

/// What one failed attempt means.
pub(super) enum Fault {
    /// The registry said it does not hold the thing asked for.
    Absent,
    /// Worth another attempt (429, 5xx, connection refused or reset).
    Transient(RegistryError),
    /// Another attempt would get the same answer.
    Fatal(RegistryError),
}

impl Client {
    pub fn new(settings: Settings) -> Self {
        Self {
            inner: Arc::new(Inner {
                settings,
                registries: Mutex::new(HashMap::new()),
            }),
            runtime: OnceLock::new(),
        }
    }

    /// The client of a command run: credentials from the environment (the
    /// `CIUX_REGISTRY_*` ones for the project's `registry`), the configured
    /// plain-HTTP hosts, CAs and timeouts (the timeout variables win).
    pub(crate) fn from_config(config: &crate::config::Config) -> Self {
        let host = config
            .registry
            .as_deref()
            .filter(|r| !r.starts_with("oci:"))
            .and_then(|r| Reference::parse(&format!("{}/x", r.trim_end_matches('/'))).ok())
            .map(|r| r.registry);
        Self::new(Settings {
            credentials: Credentials::from_env(host.as_deref()),
            insecure: config.insecure_registries.clone(),
            ca: config.registry_ca.clone(),
            timeouts: Timeouts::from_env(Timeouts {
                connect: config.registry_timeouts.connect,
                read: config.registry_timeouts.read,
            }),
            retry: Retry::default(),
        })
    }

    /// Run `future` to completion on the client's runtime.
    pub(super) fn block_on<T>(
        &self,
        future: impl Future<Output = Result<T, RegistryError>>,
    ) -> Result<T, RegistryError> {
        let runtime = self.runtime.get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .thread_name("ciux-registry")
                .enable_all()
                .build()
                .map_err(|e| e.to_string())
        });
        match runtime {
            Ok(runtime) => runtime.block_on(future),
            Err(why) => Err(RegistryError::Client {
                why: format!("cannot start its runtime: {why}"),
            }),
        }
    }

    pub(super) fn inner(&self) -> Arc<Inner> {
        self.inner.clone()
    }
}

impl Inner {
    /// Whether `host` is spoken to over plain HTTP.
    fn is_plain(&self, host: &str) -> bool {
        let bare = host.rsplit_once(':').map_or(host, |(h, _)| h);
        let listed = self
            .settings
            .insecure
            .iter()
            .any(|h| h == host || h == bare);
        let loopback = matches!(bare, "localhost" | "127.0.0.1" | "[::1]");
        listed || (loopback && !self.settings.ca.contains_key(host))
    }

    /// The registry `host`'s client, made on first use.
    pub(super) fn registry(&self, host: &str) -> Result<Arc<Registry>, RegistryError> {
        if let Some(found) = self
            .registries
            .lock()
            .ok()
            .and_then(|m| m.get(host).cloned())
        {
            return Ok(found);
        }
        let plain = self.is_plain(host);
        let mut config = ClientConfig {
            protocol: if plain {
                ClientProtocol::Http
            } else {
                ClientProtocol::Https
            },
            connect_timeout: Some(self.settings.timeouts.connect),
            read_timeout: Some(self.settings.timeouts.read),
            user_agent: concat!("ciux/", env!("CARGO_PKG_VERSION")),
            platform_resolver: None,
            ..ClientConfig::default()
        };
        if let Some(path) = self.settings.ca.get(host) {
            let data = std::fs::read(path).map_err(|source| RegistryError::Ca {
                registry: host.to_owned(),
                path: path.clone(),
                source,
            })?;
            config.extra_root_certificates.push(Certificate {
                encoding: CertificateEncoding::Pem,
                data,
            });
        }
        let oci = oci_client::Client::try_from(config).map_err(|e| RegistryError::Ca {
            registry: host.to_owned(),
            path: self.settings.ca.get(host).cloned().unwrap_or_default(),
            source: std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string()),
        })?;
        let (auth, origin) = match self.settings.credentials.lookup(host) {
            Some((credential, origin)) => (credential.to_oci(), Some(origin)),
            None => (RegistryAuth::Anonymous, None),
        };
        let registry = Arc::new(Registry {
            host: host.to_owned(),
            plain,
            oci,
            auth,
            origin,
            open: tokio::sync::OnceCell::new(),
        });
        if let Ok(mut map) = self.registries.lock() {
            return Ok(map.entry(host.to_owned()).or_insert(registry).clone());
        }
        Ok(registry)
    }

    /// Run `attempt` with retries; `Ok(None)` when the registry says the
    /// thing is absent.
    pub(super) async fn call<T, F, Fut>(
        &self,
        reference: &Reference,
        op: RegistryOperation,
        what: &'static str,
        attempt: F,
    ) -> Result<Option<T>, RegistryError>
    where
        F: Fn(Arc<Registry>, oci_client::Reference) -> Fut,
        Fut: Future<Output = Result<T, OciDistributionError>>,
    {
        let registry = self.registry(&reference.registry)?;
        let oci_ref = reference.to_oci();
        let retry = self.settings.retry;
        let attempts = retry.attempts.max(1);
        let mut delay = retry.delay;
        for n in 1..=attempts {
            let outcome = match self.prepare(&registry, &oci_ref, op).await {
                Ok(()) => attempt(registry.clone(), oci_ref.clone())
                    .await
                    .map_err(|e| self.classify(&registry, reference, what, e, n)),
                Err(e) => Err(self.classify(&registry, reference, "the /v2/ probe of", e, n)),
            };
            match outcome {
                Ok(value) => return Ok(Some(value)),
                Err(Fault::Absent) => return Ok(None),
                Err(Fault::Fatal(e)) => return Err(e),
                Err(Fault::Transient(e)) if n == attempts => return Err(e),
                Err(Fault::Transient(e)) => {
                    let wait = delay.mul_f64(0.5 + fastrand::f64() / 2.0);
                    tracing::debug!(
                        "registry {}: {e}; retrying {what} {} in {wait:?}",
                        registry.host,
                        reference.repository
                    );
                    tokio::time::sleep(wait).await;
                    delay = (delay * 2).min(retry.max_delay);
                }
            }
        }
        Err(RegistryError::Client {
            why: "no attempt was made".into(),
        })
    }

    /// Before a request: on an anonymous registry, probe `/v2/` once; when
    /// it asks for no token, tell oci-client's token cache so that it does
    /// not probe again before every request (it would: it caches tokens,
    /// not the absence of one).
    async fn prepare(
        &self,
        registry: &Registry,
        reference: &oci_client::Reference,
        op: RegistryOperation,
    ) -> Result<(), OciDistributionError> {
        if registry.auth != RegistryAuth::Anonymous {
            return Ok(());
        }
        let open = registry
            .open
            .get_or_try_init(|| async {
                let token = registry
                    .oci
                    .auth(reference, &RegistryAuth::Anonymous, op)
                    .await?;
                Ok::<bool, OciDistributionError>(token.is_none())
            })
            .await?;
        if *open {
            // An empty Basic pair: a registry without authentication ignores
            // it, and oci-client then finds a "token" and skips the probe.
            registry
                .oci
                .tokens
                .insert(
                    reference,
                    op,
                    RegistryTokenType::Basic(String::new(), String::new()),
                )
                .await;
        }
        Ok(())
    }

    /// Sort an oci-client error into absent, transient and fatal.
    fn classify(
        &self,
        registry: &Registry,
        reference: &Reference,
        what: &'static str,
        error: OciDistributionError,
        attempts: u32,
    ) -> Fault {
        let name = || reference.registry.clone();
        let status = |status: u16, message: String| RegistryError::Status {
            registry: name(),
            repository: reference.repository.clone(),
            what,
            status,
            attempts,
            message,
        };
        let denied = |status: u16, message: String| {
            Fault::Fatal(RegistryError::Denied {
                registry: name(),
                repository: reference.repository.clone(),
                status,
                message,
                hint: self.denied_hint(registry),
            })
        };
        match error {
            OciDistributionError::RegistryError { envelope, .. } => {
                let message = envelope
                    .errors
                    .iter()
                    .map(|e| format!("{:?} {}", e.code, e.message).trim().to_owned())
                    .collect::<Vec<_>>()
                    .join("; ");
                let codes: Vec<&OciErrorCode> = envelope.errors.iter().map(|e| &e.code).collect();
                if codes.iter().any(|c| {
                    matches!(
                        c,
                        OciErrorCode::ManifestUnknown
                            | OciErrorCode::NameUnknown
                            | OciErrorCode::BlobUnknown
                    )
                }) {
                    Fault::Absent
                } else if codes.contains(&&OciErrorCode::Toomanyrequests) {
                    Fault::Transient(status(429, message))
                } else if codes.contains(&&OciErrorCode::Unauthorized) {
                    denied(401, message)
                } else if codes.contains(&&OciErrorCode::Denied) {
                    denied(403, message)
                } else {
                    Fault::Fatal(status(400, message))
                }
            }
            OciDistributionError::ServerError { code, message, .. } => {
                let message = first_line(&message);
                match code {
                    404 => Fault::Absent,
                    401 | 403 => denied(code, message),
                    429 | 500.. => Fault::Transient(status(code, message)),
                    400 if registry.plain && message.contains("HTTPS") => {
                        Fault::Fatal(RegistryError::TlsMismatch {
                            registry: name(),
                            fix: format!(
                                "it answers HTTPS, but is asked over plain HTTP ({}): remove it from `insecure_registries`, and give its CA under `[registry_ca]` if its certificate is private",
                                if self.settings.insecure.is_empty() {
                                    "a loopback address"
                                } else {
                                    "a loopback address or listed in `insecure_registries`"
                                }
                            ),
                        })
                    }
                    _ => Fault::Fatal(status(code, message)),
                }
            }
            OciDistributionError::UnauthorizedError { .. } => {
                denied(401, "authentication required".into())
            }
            OciDistributionError::AuthenticationFailure(reason) => denied(
                401,
                format!("the token service refused: {}", first_line(&reason)),
            ),
            OciDistributionError::RequestError(e) => self.request_fault(registry, e, attempts),
            OciDistributionError::RegistryNoLocationError => {
                Fault::Fatal(RegistryError::Protocol {
                    registry: name(),
                    what,
                    why: "no Location header in the answer".into(),
                })
            }
            other => Fault::Fatal(RegistryError::Protocol {
                registry: name(),
                what,
                why: other.to_string(),
            }),
        }
    }

    /// A request that got no HTTP answer: a timeout, a TLS problem, or a
    /// connection failure.
    fn request_fault(&self, registry: &Registry, error: reqwest::Error, attempts: u32) -> Fault {
        let chain = error_chain(&error);
        let host = registry.host.clone();
        if error.is_timeout() {
            let (kind, timeout, var, key) = if error.is_connect() {
                (
                    "connect",
                    self.settings.timeouts.connect,
                    CONNECT_TIMEOUT_VAR,
                    "connect",
                )
            } else {
                (
                    "read",
                    self.settings.timeouts.read,
                    READ_TIMEOUT_VAR,
                    "read",
                )
            };
            return Fault::Fatal(RegistryError::Timeout {
                registry: host,
                kind,
                seconds: timeout.as_secs_f64(),
                var,
                key,
            });
        }
        let lower = chain.to_ascii_lowercase();
        if lower.contains("certificate") || lower.contains("unknownissuer") {
            return Fault::Fatal(RegistryError::Untrusted {
                registry: host,
                why: chain,
            });
        }
        if !registry.plain
            && (lower.contains("invalidcontenttype")
                || lower.contains("corrupt message")
                || lower.contains("wrong version number")
                || lower.contains("invalid message")
                || lower.contains("received fatal alert: decodeerror"))
        {
            return Fault::Fatal(RegistryError::TlsMismatch {
                registry: host.clone(),
                fix: format!(
                    "it answers plain HTTP, not HTTPS: if that is intended, add \"{host}\" to `insecure_registries` in .ciux.toml"
                ),
            });
        }
        Fault::Transient(RegistryError::Unreachable {
            registry: host,
            attempts,
            why: chain,
        })
    }

    /// What to tell a user whose registry refused access.
    fn denied_hint(&self, registry: &Registry) -> String {
        match &registry.origin {
            None => format!(
                "log in (docker login {}), or set {} and {}",
                registry.host,
                super::USER_VAR,
                super::PASSWORD_VAR
            ),
            Some(origin) => format!(
                "the registry refused the credential from {origin}: check it (user, password or token, and its rights on the repository)"
            ),
        }
    }
}

/// An error and its sources on one line: reqwest's own message says only
/// "error sending request".
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        let part = e.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = e.source();
    }
    text
}

/// The first line of a server's message, bounded (an HTML error page is no message).
fn first_line(text: &str) -> String {
    let line = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    line.chars().take(200).collect::<String>().trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inner(insecure: &[&str], ca: &[&str]) -> Inner {
        Inner {
            settings: Settings {
                insecure: insecure.iter().map(|s| s.to_string()).collect(),
                ca: ca
                    .iter()
                    .map(|h| (h.to_string(), PathBuf::from("ca.pem")))
                    .collect(),
                ..Settings::default()
            },
            registries: Mutex::new(HashMap::new()),
        }
    }

    #[test]
    fn plain_http_for_loopback_and_listed_hosts_only() {
        let i = inner(&["reg.internal:5000", "lab.local"], &["127.0.0.1:8443"]);
        assert!(i.is_plain("127.0.0.1:5000"));
        assert!(i.is_plain("localhost"));
        assert!(i.is_plain("reg.internal:5000"));
        assert!(i.is_plain("lab.local:8443"));
        assert!(!i.is_plain("reg.internal:6000"));
        assert!(!i.is_plain("ghcr.io"));
        assert!(!i.is_plain("127.0.0.1:8443"), "a CA means TLS");
    }

    #[test]
    fn timeouts_default_and_first_lines() {
        assert_eq!(Timeouts::default().read, Duration::from_secs(30));
        assert_eq!(first_line("\n<html>\nbody"), "<html>");
    }
}
