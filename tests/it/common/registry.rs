//! A real OCI distribution registry (Debian's `docker-registry`) on a free
//! 127.0.0.1 port, and test images pushed to it with `skopeo copy` from a tiny
//! OCI layout the test writes. Killed on drop.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

const SETUP: &str = ".ci/setup/10-registry.sh";

pub struct Registry {
    child: Option<Child>,
    /// `127.0.0.1:PORT`.
    pub addr: String,
    pub dir: tempfile::TempDir,
    log: PathBuf,
    creds: Option<(String, String)>,
    tls: bool,
}

/// A CA and a server certificate for 127.0.0.1 it signed, made with `openssl`.
pub struct Certs {
    pub dir: tempfile::TempDir,
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl Certs {
    pub fn make() -> Self {
        require("openssl");
        let dir = tempfile::tempdir().unwrap();
        let p = |name: &str| dir.path().join(name);
        let run = |args: &[&str]| {
            let out = Command::new("openssl")
                .args(args)
                .current_dir(dir.path())
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "openssl {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        let ec = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
        ];
        let mut ca = vec!["req", "-x509", "-days", "2", "-subj", "/CN=ciux test CA"];
        ca.extend(ec);
        ca.extend([
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ]);
        run(&ca);
        let mut csr = vec!["req", "-subj", "/CN=127.0.0.1"];
        csr.extend(ec);
        csr.extend(["-keyout", "server.key", "-out", "server.csr"]);
        run(&csr);
        std::fs::write(
            p("ext.cnf"),
            "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n",
        )
        .unwrap();
        run(&[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-out",
            "server.pem",
            "-extfile",
            "ext.cnf",
        ]);
        Self {
            ca: p("ca.pem"),
            cert: p("server.pem"),
            key: p("server.key"),
            dir,
        }
    }
}

fn require(binary: &str) {
    let found = std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(binary).is_file()));
    assert!(
        found,
        "`{binary}` is not installed: run `bash {SETUP}` (the registry tests need it)"
    );
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Registry {
    /// An open registry.
    pub fn start() -> Self {
        Self::launch(None, None)
    }

    /// An open registry serving TLS only, with `certs`' server certificate.
    pub fn start_tls(certs: &Certs) -> Self {
        Self::launch(None, Some(certs))
    }

    /// A registry that wants `user`/`password` (htpasswd, bcrypt).
    pub fn start_htpasswd(user: &str, password: &str) -> Self {
        Self::launch(Some((user.to_owned(), password.to_owned())), None)
    }

    fn launch(creds: Option<(String, String)>, certs: Option<&Certs>) -> Self {
        require("docker-registry");
        require("skopeo");
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let addr = format!("127.0.0.1:{port}");
        let mut auth = String::new();
        if let Some((user, password)) = &creds {
            require("htpasswd");
            let out = Command::new("htpasswd")
                .args(["-Bbn", user, password])
                .output()
                .unwrap();
            assert!(out.status.success());
            std::fs::write(dir.path().join("htpasswd"), &out.stdout).unwrap();
            auth = format!(
                "auth:\n  htpasswd:\n    realm: test\n    path: {}\n",
                dir.path().join("htpasswd").display()
            );
        }
        let tls = certs.map_or(String::new(), |c| {
            format!(
                "  tls:\n    certificate: {}\n    key: {}\n",
                c.cert.display(),
                c.key.display()
            )
        });
        let config = format!(
            "version: 0.1\nlog:\n  level: info\n  formatter: text\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: {addr}\n{tls}{auth}",
            dir.path().join("data").display()
        );
        let config_path = dir.path().join("config.yml");
        std::fs::write(&config_path, config).unwrap();
        let log = dir.path().join("registry.log");
        let mut registry = Self {
            child: None,
            addr,
            dir,
            log,
            creds,
            tls: certs.is_some(),
        };
        registry.spawn();
        registry
    }

    fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let child = Command::new("docker-registry")
            .args([
                "serve",
                self.dir.path().join("config.yml").to_str().unwrap(),
            ])
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Some(status) = http_status(&self.addr, "/v2/") {
                // A TLS server answers a plain request with 400.
                if status == 200 || status == 401 || (self.tls && status == 400) {
                    return;
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "docker-registry did not answer on {} within 20 s: {}",
            self.addr,
            self.log_text()
        );
    }

    /// Kill the server (the port then refuses connections).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Requests the registry served whose URI contains `fragment` (from its access log).
    /// The registry logs a request after answering it, so the count is read
    /// until it holds still for 100 ms (at most 2 s).
    pub fn requests(&self, fragment: &str) -> usize {
        let count = || {
            self.log_text()
                .lines()
                .filter(|l| l.contains("response completed") && l.contains(fragment))
                .count()
        };
        let mut last = count();
        for _ in 0..20 {
            std::thread::sleep(Duration::from_millis(100));
            let now = count();
            if now == last {
                return now;
            }
            last = now;
        }
        last
    }

    /// Push a one-layer image as `repository:tag`; `label` sets `io.ciux.inputs`.
    /// Returns the manifest digest in the registry.
    pub fn push(&self, repository: &str, tag: &str, label: Option<&str>) -> String {
        self.push_layout(repository, tag, label, false)
    }

    /// Push a one-platform OCI image index (what multi-platform builds push).
    pub fn push_index(&self, repository: &str, tag: &str, label: Option<&str>) -> String {
        self.push_layout(repository, tag, label, true)
    }

    fn push_layout(&self, repository: &str, tag: &str, label: Option<&str>, index: bool) -> String {
        let layout = self.dir.path().join(format!(
            "layout-{}",
            self.dir.path().read_dir().unwrap().count()
        ));
        write_layout(&layout, tag, label);
        if index {
            wrap_in_index(&layout, tag);
        }
        // skopeo compresses the layer on the way, so the registry's digest is not
        // the layout's: ask skopeo for the one it pushed.
        let digest_file = layout.join("pushed-digest");
        let mut cmd = Command::new("skopeo");
        cmd.args([
            "copy",
            "-q",
            "--all",
            "--dest-tls-verify=false",
            "--digestfile",
        ])
        .arg(&digest_file);
        if let Some((user, password)) = &self.creds {
            cmd.arg(format!("--dest-creds={user}:{password}"));
        }
        cmd.arg(format!("oci:{}:{tag}", layout.display()))
            .arg(format!("docker://{}/{repository}:{tag}", self.addr));
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "skopeo copy failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::read_to_string(digest_file)
            .unwrap()
            .trim()
            .to_owned()
    }

    /// Add `tag` to an existing manifest (a manifest GET and PUT, open registry only).
    pub fn retag(&self, repository: &str, from: &str, tag: &str) {
        let client = ciux::registry::Client::new(ciux::registry::Settings::default());
        let source =
            ciux::registry::Reference::parse(&format!("{}/{repository}:{from}", self.addr))
                .unwrap();
        client
            .copy(&source, &source.with_tag(tag))
            .unwrap()
            .expect("source exists");
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        self.stop();
    }
}

fn sha(bytes: &[u8]) -> String {
    format!("sha256:{:x}", Sha256::digest(bytes))
}

/// Write an OCI image layout holding one tiny image tagged `tag`; returns the manifest digest.
pub fn write_layout(dir: &Path, tag: &str, label: Option<&str>) -> String {
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    let put = |bytes: &[u8]| {
        let digest = sha(bytes);
        std::fs::write(blobs.join(&digest["sha256:".len()..]), bytes).unwrap();
        digest
    };
    let layer = vec![0u8; 1024]; // an empty tar archive
    let layer_digest = put(&layer);
    let labels = label.map_or(String::new(), |l| {
        format!(r#""Labels":{{"io.ciux.inputs":"{l}"}}"#)
    });
    let config = format!(
        r#"{{"architecture":"amd64","os":"linux","config":{{{labels}}},"rootfs":{{"type":"layers","diff_ids":["{layer_digest}"]}}}}"#
    );
    let config_digest = put(config.as_bytes());
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{config_digest}","size":{}}},"layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"{layer_digest}","size":{}}}]}}"#,
        config.len(),
        layer.len()
    );
    let manifest_digest = put(manifest.as_bytes());
    std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    let index = format!(
        r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{manifest_digest}","size":{},"annotations":{{"org.opencontainers.image.ref.name":"{tag}"}}}}]}}"#,
        manifest.len()
    );
    std::fs::write(dir.join("index.json"), index).unwrap();
    manifest_digest
}

/// Make the layout's tag point at an image index holding its one manifest.
fn wrap_in_index(dir: &Path, tag: &str) {
    let index: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("index.json")).unwrap()).unwrap();
    let mut manifest = index["manifests"][0].clone();
    manifest.as_object_mut().unwrap().remove("annotations");
    manifest["platform"] = serde_json::json!({"architecture": "amd64", "os": "linux"});
    let inner = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [manifest],
    })
    .to_string();
    let digest = sha(inner.as_bytes());
    std::fs::write(
        dir.join("blobs/sha256").join(&digest["sha256:".len()..]),
        &inner,
    )
    .unwrap();
    let outer = serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "digest": digest,
            "size": inner.len(),
            "annotations": {"org.opencontainers.image.ref.name": tag},
        }],
    });
    std::fs::write(dir.join("index.json"), outer.to_string()).unwrap();
}

/// The status of `GET path` on `addr`, or `None` when nothing answers.
fn http_status(addr: &str, path: &str) -> Option<u16> {
    let mut stream =
        TcpStream::connect_timeout(&addr.parse().ok()?, Duration::from_millis(500)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).ok()?;
    std::str::from_utf8(&head[9..12]).ok()?.parse().ok()
}
