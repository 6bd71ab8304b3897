//! The registry client's network side against real servers on 127.0.0.1:
//! credential helpers and stores, TLS with a private CA, an HTTP proxy, a
//! registry that never answers, and logs that never print a secret.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::ciux;
use crate::common::registry::{Certs, Registry};
use crate::image::{parse_env, project};

/// `ciux get image --check --env` in `dir` with `DOCKER_CONFIG` at `docker`
/// and no other credential source.
fn check(dir: &Path, docker: &Path, envs: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = ciux(dir);
    cmd.env("DOCKER_CONFIG", docker)
        .env_remove("CIUX_REGISTRY_USER")
        .env_remove("CIUX_REGISTRY_PASSWORD")
        .env_remove("REGISTRY_AUTH_FILE")
        .env_remove("XDG_RUNTIME_DIR");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.args(["get", "image", "--check", "--env"]);
    cmd.output().unwrap()
}

fn text(out: &std::process::Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A `docker-credential-test` helper in a fresh directory: it records the
/// server it is asked for in `asked` and answers `user`/`secret`.
fn helper(dir: &Path, user: &str, secret: &str) -> (PathBuf, PathBuf) {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let asked = dir.join("asked");
    let script = bin.join("docker-credential-test");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\n[ \"$1\" = get ] || exit 3\ncat >> '{}'\necho >> '{}'\nprintf '{{\"ServerURL\":\"x\",\"Username\":\"{user}\",\"Secret\":\"{secret}\"}}'\n",
            asked.display(),
            asked.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    (bin, asked)
}

fn path_with(bin: &Path) -> String {
    format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

#[test]
fn credential_helpers_are_asked_for_the_registry_host() {
    let registry = Registry::start_htpasswd("alice", "helper-pw-1");
    let tmp = tempfile::tempdir().unwrap();
    let repo = project(tmp.path(), &format!("{}/astro", registry.addr), "");
    let digest = registry.push("astro/demo", "v1.0.0", None);
    let (bin, asked) = helper(tmp.path(), "alice", "helper-pw-1");
    let docker = tmp.path().join("docker");
    std::fs::create_dir_all(&docker).unwrap();
    let path = path_with(&bin);

    for config in [
        r#"{"credsStore":"test"}"#.to_owned(),
        format!(r#"{{"credHelpers":{{"{}":"test"}}}}"#, registry.addr),
    ] {
        std::fs::write(docker.join("config.json"), &config).unwrap();
        let _ = std::fs::remove_file(&asked);
        let out = check(&repo.dir, &docker, &[("PATH", &path)]);
        let (stdout, stderr) = text(&out);
        assert!(out.status.success(), "{config}: {stderr}");
        assert_eq!(parse_env(&stdout)["CIUX_IMAGE_DIGEST"], digest);
        assert_eq!(
            std::fs::read_to_string(&asked).unwrap(),
            format!("{}\n", registry.addr),
            "the helper is asked once, for host:port ({config})"
        );
    }

    // A helper that is not installed is reported, and the refusal then says
    // how to log in.
    std::fs::write(docker.join("config.json"), r#"{"credsStore":"absent"}"#).unwrap();
    let out = check(&repo.dir, &docker, &[("PATH", &path)]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("cannot run the credential helper"),
        "{stderr}"
    );
    assert!(stderr.contains("refused access"), "{stderr}");
    assert!(stderr.contains("docker login"), "{stderr}");

    // A malformed config.json is warned about once, not once per request.
    std::fs::write(docker.join("config.json"), "{ not json").unwrap();
    let out = check(&repo.dir, &docker, &[]);
    let (_, stderr) = text(&out);
    assert_eq!(
        stderr.matches("not a valid credentials file").count(),
        1,
        "{stderr}"
    );
}

#[test]
fn identity_token_and_podman_auth_file() {
    let registry = Registry::start_htpasswd("bob", "auth-file-pw");
    let tmp = tempfile::tempdir().unwrap();
    let repo = project(tmp.path(), &format!("{}/astro", registry.addr), "");
    registry.push("astro/demo", "v1.0.0", None);
    use base64::Engine;
    let auth = base64::engine::general_purpose::STANDARD.encode("bob:auth-file-pw");
    let auth_file = tmp.path().join("auth.json");
    std::fs::write(
        &auth_file,
        format!(r#"{{"auths":{{"{}":{{"auth":"{auth}"}}}}}}"#, registry.addr),
    )
    .unwrap();
    let none = tmp.path().join("no-docker");
    let out = check(
        &repo.dir,
        &none,
        &[("REGISTRY_AUTH_FILE", auth_file.to_str().unwrap())],
    );
    assert!(out.status.success(), "{}", text(&out).1);
    let runtime = tmp.path().join("run");
    std::fs::create_dir_all(runtime.join("containers")).unwrap();
    std::fs::copy(&auth_file, runtime.join("containers/auth.json")).unwrap();
    let out = check(
        &repo.dir,
        &none,
        &[("XDG_RUNTIME_DIR", runtime.to_str().unwrap())],
    );
    assert!(out.status.success(), "{}", text(&out).1);
}

#[test]
fn wrong_password_is_refused_without_the_login_hint_and_never_logged() {
    let registry = Registry::start_htpasswd("alice", "right-pw-77");
    let tmp = tempfile::tempdir().unwrap();
    let repo = project(tmp.path(), &format!("{}/astro", registry.addr), "");
    registry.push("astro/demo", "v1.0.0", None);
    let none = tmp.path().join("no-docker");
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    for (password, ok) in [("right-pw-77", true), ("wrong-pw-88", false)] {
        for level in [None, Some("-v"), Some("-vv"), Some("-vvv")] {
            let mut cmd = ciux(&repo.dir);
            cmd.env("DOCKER_CONFIG", &none)
                .env("CIUX_REGISTRY_USER", "alice")
                .env("CIUX_REGISTRY_PASSWORD", password);
            match level {
                Some(flag) => cmd.arg(flag),
                None => cmd.env("CIUX_LOG", "trace"),
            };
            let out = cmd
                .args(["get", "image", "--check", "--env"])
                .output()
                .unwrap();
            let (stdout, stderr) = text(&out);
            assert_eq!(out.status.success(), ok, "{password} {level:?}: {stderr}");
            if level == Some("-vvv") {
                assert!(
                    stderr.contains("TRACE") || stderr.contains("DEBUG"),
                    "{stderr}"
                );
            }
            let all = format!("{stdout}{stderr}");
            for secret in [
                password.to_owned(),
                b64(&format!("alice:{password}")),
                b64(password),
            ] {
                assert!(
                    !all.contains(&secret),
                    "{secret} leaked at {level:?}: {all}"
                );
            }
            if !ok {
                assert!(all.contains("refused access"), "{all}");
                assert!(
                    !all.contains("set CIUX_REGISTRY_USER"),
                    "the credential was given: {all}"
                );
                assert!(
                    all.contains("refused the credential from CIUX_REGISTRY_USER"),
                    "{all}"
                );
            }
        }
    }
}

#[test]
fn tls_registry_is_trusted_through_its_configured_ca_only() {
    let certs = Certs::make();
    let registry = Registry::start_tls(&certs);
    let digest = registry.push("astro/demo", "v1.0.0", None);
    let tmp = tempfile::tempdir().unwrap();
    let none = tmp.path().join("no-docker");
    let ca_line = |path: &Path| {
        format!(
            "\n[registry_ca]\n\"{}\" = \"{}\"\n",
            registry.addr,
            path.display()
        )
    };
    let repo = project(
        tmp.path(),
        &format!("{}/astro", registry.addr),
        &ca_line(&certs.ca),
    );
    let out = check(&repo.dir, &none, &[]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(parse_env(&stdout)["CIUX_IMAGE_DIGEST"], digest);

    // Another CA: the certificate is refused, and the message names the setting.
    let other = Certs::make();
    let other_dir = tmp.path().join("other");
    std::fs::create_dir_all(&other_dir).unwrap();
    let repo = project(
        &other_dir,
        &format!("{}/astro", registry.addr),
        &ca_line(&other.ca),
    );
    let out = check(&repo.dir, &none, &[]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("not trusted"), "{stderr}");
    assert!(stderr.contains("[registry_ca]"), "{stderr}");

    // No CA: a loopback registry is asked over plain HTTP, and the TLS
    // answer is reported with the settings that decide it.
    let plain_dir = tmp.path().join("plain");
    std::fs::create_dir_all(&plain_dir).unwrap();
    let repo = project(&plain_dir, &format!("{}/astro", registry.addr), "");
    let out = check(&repo.dir, &none, &[]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("answers HTTPS"), "{stderr}");
    assert!(stderr.contains("[registry_ca]"), "{stderr}");
}

#[test]
fn plain_registry_listed_as_tls_says_to_add_it_to_insecure_registries() {
    // A plain-HTTP registry reached over TLS: only a non-loopback name would
    // be, so a CA entry makes the loopback address use TLS here.
    let registry = Registry::start();
    let certs = Certs::make();
    let tmp = tempfile::tempdir().unwrap();
    let extra = format!(
        "\n[registry_ca]\n\"{}\" = \"{}\"\n",
        registry.addr,
        certs.ca.display()
    );
    let repo = project(tmp.path(), &format!("{}/astro", registry.addr), &extra);
    let out = check(&repo.dir, &tmp.path().join("none"), &[]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("insecure_registries"), "{stderr}");
}

/// A forward HTTP proxy on 127.0.0.1: it relays each connection to the host
/// named in its first request line and records that line.
struct Proxy {
    addr: String,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Proxy {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let seen = lines.clone();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { return };
                let seen = seen.clone();
                std::thread::spawn(move || relay(client, &seen));
            }
        });
        Self { addr, lines }
    }

    fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }
}

fn relay(client: TcpStream, seen: &Mutex<Vec<String>>) {
    let _ = client.set_read_timeout(Some(Duration::from_secs(10)));
    let mut reader = BufReader::new(client.try_clone().unwrap());
    let mut first = String::new();
    if reader.read_line(&mut first).is_err() {
        return;
    }
    seen.lock().unwrap().push(first.trim().to_owned());
    // `GET http://host:port/path HTTP/1.1`: the origin server accepts the
    // absolute form as is, so the bytes are relayed unchanged.
    let Some(host) = first
        .split_whitespace()
        .nth(1)
        .and_then(|u| u.strip_prefix("http://"))
        .and_then(|u| u.split('/').next())
    else {
        return;
    };
    let Ok(mut upstream) = TcpStream::connect(host) else {
        return;
    };
    let _ = upstream.write_all(first.as_bytes());
    let mut back = upstream.try_clone().unwrap();
    let mut client_w = client;
    let up = std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        loop {
            match reader.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if upstream.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            }
        }
        let _ = upstream.shutdown(std::net::Shutdown::Write);
    });
    let _ = std::io::copy(&mut back, &mut client_w);
    let _ = up.join();
}

#[test]
fn requests_go_through_the_http_proxy_unless_no_proxy_says_otherwise() {
    let registry = Registry::start();
    let digest = registry.push("astro/demo", "v1.0.0", None);
    let proxy = Proxy::start();
    let tmp = tempfile::tempdir().unwrap();
    let repo = project(tmp.path(), &format!("{}/astro", registry.addr), "");
    let url = format!("http://{}", proxy.addr);
    let none = tmp.path().join("none");
    let out = check(
        &repo.dir,
        &none,
        &[("HTTP_PROXY", &url), ("NO_PROXY", ""), ("no_proxy", "")],
    );
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(parse_env(&stdout)["CIUX_IMAGE_DIGEST"], digest);
    let lines = proxy.lines();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with(&format!("GET http://{}/v2/", registry.addr))),
        "{lines:?}"
    );

    let before = proxy.lines().len();
    let out = check(
        &repo.dir,
        &none,
        &[
            ("HTTP_PROXY", &url),
            ("NO_PROXY", "127.0.0.1"),
            ("no_proxy", "127.0.0.1"),
        ],
    );
    assert!(out.status.success(), "{}", text(&out).1);
    assert_eq!(proxy.lines().len(), before, "NO_PROXY bypasses the proxy");
}

#[test]
fn a_registry_that_never_answers_times_out_with_its_name() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let held = Arc::new(Mutex::new(Vec::new()));
    let keep = held.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            keep.lock().unwrap().push(stream); // accepted, never answered
        }
    });
    let tmp = tempfile::tempdir().unwrap();
    let none = tmp.path().join("none");

    let repo = project(tmp.path(), &format!("{addr}/astro"), "");
    let started = Instant::now();
    let out = check(&repo.dir, &none, &[("CIUX_REGISTRY_READ_TIMEOUT", "1")]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
    assert!(
        stderr.contains(&format!(
            "registry {addr} did not answer within 1 s (read timeout)"
        )),
        "{stderr}"
    );
    assert!(stderr.contains("CIUX_REGISTRY_READ_TIMEOUT"), "{stderr}");

    // The same bound from the configuration.
    let dir = tmp.path().join("configured");
    std::fs::create_dir_all(&dir).unwrap();
    let repo = project(
        &dir,
        &format!("{addr}/astro"),
        "\n[registry_timeouts]\nread = 2\n",
    );
    let started = Instant::now();
    let out = check(&repo.dir, &none, &[]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("within 2 s (read timeout)"), "{stderr}");
    assert!(started.elapsed() < Duration::from_secs(20));
}

#[test]
fn an_unreachable_registry_fails_without_a_name_lookup() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = project(tmp.path(), "127.0.0.1:9/astro", "");
    let started = Instant::now();
    let out = check(&repo.dir, &tmp.path().join("none"), &[]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("cannot reach registry 127.0.0.1:9"),
        "{stderr}"
    );
    let lower = stderr.to_lowercase();
    assert!(
        !lower.contains("dns") && !lower.contains("lookup") && !lower.contains("resolve"),
        "a name was looked up: {stderr}"
    );
    assert!(started.elapsed() < Duration::from_secs(15));
}
