//! A tiny HTTP/1.1 server speaking the distribution API, for what the real
//! registry cannot be made to do: paginate tag lists (Debian's distribution
//! 2.8 ignores `n`), answer 429/503. It serves tags in lexical order (as paging
//! registries do) in pages of `page` with a `Link` header, and `HEAD` and `GET`
//! of a listed tag's manifest. The first `failures` requests get
//! `failure_status` (429 with `Retry-After: 30`). With a bearer token, it also plays the token
//! service of the anonymous bearer flow (Debian ships no token server). Every
//! request line is recorded.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub struct FakeRegistry {
    pub addr: String,
    pub requests: Arc<Mutex<Vec<String>>>,
}

impl FakeRegistry {
    pub fn start(
        repository: &str,
        tags: Vec<String>,
        page: usize,
        failures: usize,
        failure_status: u16,
    ) -> Self {
        Self::spawn(repository, tags, page, failures, failure_status, None)
    }

    /// Requests under `/v2/` need `Authorization: Bearer <token>`, handed out
    /// anonymously by `GET /token`.
    pub fn start_bearer(repository: &str, tags: Vec<String>, token: &str) -> Self {
        Self::spawn(repository, tags, 1000, 0, 200, Some(token.to_owned()))
    }

    /// Tag listing is forbidden (403, as some registries answer for it), while
    /// manifests can be read: `page` 0 stands for that.
    pub fn start_unlisted(repository: &str, tags: Vec<String>) -> Self {
        Self::spawn(repository, tags, 0, 0, 200, None)
    }

    fn spawn(
        repository: &str,
        mut tags: Vec<String>,
        page: usize,
        failures: usize,
        failure_status: u16,
        token: Option<String>,
    ) -> Self {
        tags.sort();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        let prefix = format!("/v2/{repository}");
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                if reader.read_line(&mut line).is_err() {
                    continue;
                }
                let mut authorization = String::new();
                loop {
                    let mut header = String::new();
                    if reader.read_line(&mut header).is_err() || header.trim().is_empty() {
                        break;
                    }
                    if let Some((name, value)) = header.split_once(':')
                        && name.eq_ignore_ascii_case("authorization")
                    {
                        authorization = value.trim().to_owned();
                    }
                }
                let mut parts = line.split_whitespace();
                let (method, target) = (
                    parts.next().unwrap_or("").to_owned(),
                    parts.next().unwrap_or("").to_owned(),
                );
                let count = {
                    let mut seen = seen.lock().unwrap();
                    seen.push(format!("{method} {target}"));
                    seen.len()
                };
                let realm = format!("http://{}/token", listener.local_addr().unwrap());
                let (status, headers, body) = if let Some(token) =
                    token.as_ref().filter(|_| target.starts_with("/token"))
                {
                    (
                        200,
                        String::new(),
                        serde_json::json!({ "token": token }).to_string(),
                    )
                } else if token
                    .as_ref()
                    .is_some_and(|t| authorization != format!("Bearer {t}"))
                {
                    let challenge = format!(
                        "WWW-Authenticate: Bearer realm=\"{realm}\",service=\"fake\",scope=\"repository:{}:pull\"\r\n",
                        &prefix["/v2/".len()..]
                    );
                    (
                        401,
                        challenge,
                        r#"{"errors":[{"code":"UNAUTHORIZED","message":"token needed"}]}"#
                            .to_owned(),
                    )
                } else if page == 0 && target.contains("/tags/list") {
                    (
                        403,
                        String::new(),
                        r#"{"errors":[{"code":"DENIED","message":"no listing"}]}"#.to_owned(),
                    )
                } else if count <= failures {
                    // The codes the distribution registry sends with these statuses.
                    let code = if failure_status == 429 {
                        "TOOMANYREQUESTS"
                    } else {
                        "UNAVAILABLE"
                    };
                    let headers = if failure_status == 429 {
                        "Retry-After: 30\r\n".to_owned()
                    } else {
                        String::new()
                    };
                    (
                        failure_status,
                        headers,
                        format!(r#"{{"errors":[{{"code":"{code}","message":"try later"}}]}}"#),
                    )
                } else {
                    answer(&prefix, &method, &target, &tags, page)
                };
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n{headers}\r\n",
                    body.len()
                );
                if method != "HEAD" {
                    let _ = stream.write_all(body.as_bytes());
                }
            }
        });
        Self { addr, requests }
    }

    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

/// The manifest every listed tag names (no layer: nothing pulls it).
const MANIFEST: &str = r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]}"#;

fn answer(
    prefix: &str,
    method: &str,
    target: &str,
    tags: &[String],
    page: usize,
) -> (u16, String, String) {
    if let Some(query) = target.strip_prefix(&format!("{prefix}/tags/list")) {
        let last = query
            .trim_start_matches('?')
            .split('&')
            .find_map(|kv| kv.strip_prefix("last="))
            .unwrap_or("");
        let start = if last.is_empty() {
            0
        } else {
            tags.iter()
                .position(|t| t == last)
                .map_or(tags.len(), |i| i + 1)
        };
        let chunk: Vec<&String> = tags.iter().skip(start).take(page).collect();
        let mut headers = "Content-Type: application/json\r\n".to_owned();
        if start + page < tags.len() {
            let last = chunk.last().unwrap();
            headers +=
                &format!("Link: <{prefix}/tags/list?last={last}&n={page}>; rel=\"next\"\r\n");
        }
        let body = serde_json::json!({"name": prefix, "tags": chunk}).to_string();
        return (200, headers, body);
    }
    if let Some(tag) = target.strip_prefix(&format!("{prefix}/manifests/"))
        && (method == "HEAD" || method == "GET")
        && tags.iter().any(|t| t == tag)
    {
        use sha2::Digest;
        let body = MANIFEST.to_owned();
        let headers = format!(
            "Content-Type: application/vnd.oci.image.manifest.v1+json\r\nDocker-Content-Digest: sha256:{:x}\r\n",
            sha2::Sha256::digest(body.as_bytes())
        );
        return (200, headers, body);
    }
    (
        404,
        String::new(),
        r#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"unknown"}]}"#.to_owned(),
    )
}
