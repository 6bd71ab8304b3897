//! HTTP side of the distribution API: auth handshake, retries, the few calls ciux makes.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use ureq::http::{HeaderMap, Method};

use super::auth::{Challenge, Credential, Credentials};
use super::{Reference, RegistryError};

/// Every manifest and index media type a tag may point at (OCI and Docker).
pub const MANIFEST_TYPES: &str = "application/vnd.oci.image.manifest.v1+json, \
application/vnd.oci.image.index.v1+json, \
application/vnd.docker.distribution.manifest.v2+json, \
application/vnd.docker.distribution.manifest.list.v2+json, \
application/vnd.docker.distribution.manifest.v1+prettyjws";

/// Largest manifest or token answer read into memory.
const MAX_BODY: u64 = 16 << 20;

/// How often and how patiently to retry 429, 5xx and connection failures.
#[derive(Debug, Clone, Copy)]
pub struct Retry {
    /// Attempts in all (1 = no retry).
    pub attempts: u32,
    /// Wait before the first retry; doubled each time, capped by `max_delay`.
    pub delay: Duration,
    pub max_delay: Duration,
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

/// A manifest as stored: its media type, bytes and digest.
#[derive(Debug, Clone)]
pub struct Manifest {
    pub media_type: String,
    pub bytes: Vec<u8>,
    pub digest: String,
}

/// A distribution-API client. Cheap to share between threads (`&Client` is `Sync`).
pub struct Client {
    agent: ureq::Agent,
    credentials: Credentials,
    insecure: Vec<String>,
    retry: Retry,
    /// `Authorization` values by (host, scope), so a token is fetched once.
    auth: Mutex<HashMap<(String, String), String>>,
}

/// One HTTP answer, body read.
pub(super) struct Reply {
    pub(super) status: u16,
    pub(super) headers: HeaderMap,
    pub(super) body: Vec<u8>,
}

impl Reply {
    pub(super) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The registry's error message (`{"errors":[{"message":...}]}`), or the status.
    pub(super) fn message(&self) -> String {
        #[derive(serde::Deserialize)]
        struct Errors {
            errors: Vec<Item>,
        }
        #[derive(serde::Deserialize)]
        struct Item {
            code: Option<String>,
            message: Option<String>,
        }
        if let Ok(errors) = serde_json::from_slice::<Errors>(&self.body) {
            let parts: Vec<String> = errors
                .errors
                .into_iter()
                .map(|e| {
                    format!(
                        "{} {}",
                        e.code.unwrap_or_default(),
                        e.message.unwrap_or_default()
                    )
                    .trim()
                    .to_owned()
                })
                .collect();
            if !parts.is_empty() {
                return parts.join("; ");
            }
        }
        format!("HTTP {}", self.status)
    }
}

impl Client {
    /// A client with the given credentials and plain-HTTP registries
    /// (`localhost` and `127.0.0.1` always use plain HTTP).
    pub fn new(
        credentials: Credentials,
        insecure: &[String],
        timeout: Duration,
        retry: Retry,
    ) -> Self {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(timeout.min(Duration::from_secs(10))))
            .timeout_global(Some(timeout))
            .user_agent(concat!("ciux/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Self {
            agent,
            credentials,
            insecure: insecure.to_vec(),
            retry,
            auth: Mutex::new(HashMap::new()),
        }
    }

    /// The client of a command run: credentials from the environment, 30 s timeout.
    pub fn from_env(insecure: &[String]) -> Self {
        Self::new(
            Credentials::from_env(),
            insecure,
            Duration::from_secs(30),
            Retry::default(),
        )
    }

    pub(super) fn base(&self, reference: &Reference) -> String {
        let host = reference.api_host();
        let bare = host.split(':').next().unwrap_or(host);
        let plain = matches!(bare, "localhost" | "127.0.0.1" | "[::1]")
            || self.insecure.iter().any(|h| h == host || h == bare);
        let scheme = if plain { "http" } else { "https" };
        format!("{scheme}://{host}/v2/{}", reference.repository)
    }

    /// One request with the auth handshake and retries.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn send(
        &self,
        reference: &Reference,
        method: Method,
        url: &str,
        headers: &[(&str, &str)],
        body: Option<(&str, &[u8])>,
        actions: &str,
        what: &'static str,
    ) -> Result<Reply, RegistryError> {
        let key = (
            reference.api_host().to_owned(),
            format!("repository:{}:{actions}", reference.repository),
        );
        let mut authorization = self.auth.lock().ok().and_then(|m| m.get(&key).cloned());
        let mut reply = self.attempt(
            reference,
            &method,
            url,
            headers,
            body,
            authorization.as_deref(),
            what,
        )?;
        if reply.status == 401 {
            let challenge = reply.header("www-authenticate").and_then(Challenge::parse);
            authorization = self.authorize(reference, challenge, &key.1)?;
            if let Some(value) = &authorization {
                if let Ok(mut cache) = self.auth.lock() {
                    cache.insert(key, value.clone());
                }
                reply = self.attempt(reference, &method, url, headers, body, Some(value), what)?;
            }
        }
        if matches!(reply.status, 401 | 403) {
            return Err(RegistryError::Denied {
                registry: reference.registry.clone(),
                repository: reference.repository.clone(),
                status: reply.status,
                message: reply.message(),
            });
        }
        Ok(reply)
    }

    /// The `Authorization` value that answers `challenge`, if we can answer it.
    fn authorize(
        &self,
        reference: &Reference,
        challenge: Option<Challenge>,
        scope: &str,
    ) -> Result<Option<String>, RegistryError> {
        let credential = self.credentials.lookup(&reference.registry);
        match challenge {
            Some(Challenge::Basic) => Ok(credential.map(|c| c.header())),
            Some(Challenge::Bearer {
                realm,
                service,
                scope: asked,
            }) => {
                if let Some(Credential::Token(token)) = &credential {
                    return Ok(Some(format!("Bearer {token}")));
                }
                let mut url = realm.clone();
                let mut sep = if url.contains('?') { '&' } else { '?' };
                for (name, value) in [
                    ("service", service.as_deref()),
                    ("scope", Some(asked.as_deref().unwrap_or(scope))),
                ] {
                    if let Some(value) = value {
                        url.push(sep);
                        url.push_str(&format!("{name}={}", encode(value)));
                        sep = '&';
                    }
                }
                let auth = credential.map(|c| c.header());
                let reply = self.attempt(
                    reference,
                    &Method::GET,
                    &url,
                    &[],
                    None,
                    auth.as_deref(),
                    "token for",
                )?;
                if reply.status != 200 {
                    return Err(RegistryError::Denied {
                        registry: reference.registry.clone(),
                        repository: reference.repository.clone(),
                        status: reply.status,
                        message: format!("the token service refused: {}", reply.message()),
                    });
                }
                #[derive(serde::Deserialize)]
                struct Token {
                    token: Option<String>,
                    access_token: Option<String>,
                }
                let token: Token = serde_json::from_slice(&reply.body)
                    .map_err(|e| self.protocol(reference, "token for", &e.to_string()))?;
                let token = token.token.or(token.access_token).ok_or_else(|| {
                    self.protocol(reference, "token for", "no token in the answer")
                })?;
                Ok(Some(format!("Bearer {token}")))
            }
            None => Ok(None),
        }
    }

    /// Send once, retrying connection failures, 429 and 5xx with backoff.
    #[allow(clippy::too_many_arguments)]
    fn attempt(
        &self,
        reference: &Reference,
        method: &Method,
        url: &str,
        headers: &[(&str, &str)],
        body: Option<(&str, &[u8])>,
        authorization: Option<&str>,
        what: &'static str,
    ) -> Result<Reply, RegistryError> {
        let mut delay = self.retry.delay;
        let attempts = self.retry.attempts.max(1);
        for attempt in 1..=attempts {
            let outcome = self.once(method, url, headers, body, authorization);
            let last = attempt == attempts;
            let wait = match outcome {
                Ok(reply) if reply.status == 429 || reply.status >= 500 => {
                    if last {
                        return Err(RegistryError::Status {
                            registry: reference.registry.clone(),
                            repository: reference.repository.clone(),
                            what,
                            status: reply.status,
                            attempts,
                            message: reply.message(),
                        });
                    }
                    retry_after(&reply).unwrap_or(delay)
                }
                Ok(reply) => return Ok(reply),
                Err(source) => {
                    if last {
                        return Err(RegistryError::Unreachable {
                            registry: reference.registry.clone(),
                            attempts,
                            source: Box::new(source),
                        });
                    }
                    delay
                }
            };
            tracing::debug!(
                "registry {}: retrying {what} {} in {wait:?}",
                reference.registry,
                reference.repository
            );
            std::thread::sleep(wait.min(self.retry.max_delay));
            delay = (delay * 2).min(self.retry.max_delay);
        }
        unreachable!("the loop returns on its last attempt")
    }

    fn once(
        &self,
        method: &Method,
        url: &str,
        headers: &[(&str, &str)],
        body: Option<(&str, &[u8])>,
        authorization: Option<&str>,
    ) -> Result<Reply, ureq::Error> {
        let mut request = ureq::http::Request::builder()
            .method(method.clone())
            .uri(url);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(value) = authorization {
            request = request.header("Authorization", value);
        }
        let mut response = match body {
            Some((content_type, bytes)) => {
                let request = request
                    .header("Content-Type", content_type)
                    .body(bytes.to_vec())?;
                self.agent.run(request)?
            }
            None => self.agent.run(request.body(())?)?,
        };
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = if *method == Method::HEAD {
            Vec::new()
        } else {
            response
                .body_mut()
                .with_config()
                .limit(MAX_BODY)
                .read_to_vec()?
        };
        Ok(Reply {
            status,
            headers,
            body,
        })
    }

    pub(super) fn status_error(
        &self,
        reference: &Reference,
        what: &'static str,
        reply: &Reply,
    ) -> RegistryError {
        RegistryError::Status {
            registry: reference.registry.clone(),
            repository: reference.repository.clone(),
            what,
            status: reply.status,
            attempts: 1,
            message: reply.message(),
        }
    }

    pub(super) fn protocol(
        &self,
        reference: &Reference,
        what: &'static str,
        why: &str,
    ) -> RegistryError {
        RegistryError::Protocol {
            registry: reference.registry.clone(),
            what,
            why: why.to_owned(),
        }
    }
}

/// `Retry-After: <seconds>`.
fn retry_after(reply: &Reply) -> Option<Duration> {
    reply
        .header("retry-after")?
        .trim()
        .parse()
        .ok()
        .map(Duration::from_secs)
}

/// Percent-encode a query value.
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_encoding() {
        assert_eq!(
            encode("repository:a/b:pull,push"),
            "repository%3Aa%2Fb%3Apull%2Cpush"
        );
    }
}
