//! `ciux ignite`, `get configpath`, `get deps`: real repositories, bare
//! "remotes" reached by `file://` URL, env files read back by bash.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::git::{Repo, git};

mod env_files;
mod resolution;

/// A temporary tree: `remotes/` holds bare repositories, `ws/` the project and its siblings.
pub(super) struct Stack {
    _tmp: tempfile::TempDir,
    pub(super) remotes: PathBuf,
    pub(super) ws: PathBuf,
}

impl Stack {
    pub(super) fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().canonicalize().unwrap();
        let (remotes, ws) = (root.join("remotes"), root.join("ws"));
        std::fs::create_dir_all(&remotes).unwrap();
        std::fs::create_dir_all(&ws).unwrap();
        Self {
            _tmp: tmp,
            remotes,
            ws,
        }
    }

    /// A bare remote `name.git` whose default branch is `first` (tagged v1.0.0),
    /// with one more commit on each of `others`; returns its `file://` URL.
    pub(super) fn remote(
        &self,
        name: &str,
        first: &str,
        others: &[&str],
        config: Option<&str>,
    ) -> String {
        let src = self.remotes.join(format!("{name}-src"));
        let mut repo = Repo::init(&src);
        repo.git(&["checkout", "-q", "-b", first]);
        let mut files = vec![("README", name)];
        if let Some(config) = config {
            files.push((".ciux.toml", config));
        }
        repo.commit("initial", &files);
        repo.tag("v1.0.0");
        for branch in others {
            repo.git(&["checkout", "-q", "-b", branch, first]);
            repo.commit(&format!("on {branch}"), &[("branch", branch)]);
        }
        repo.git(&["checkout", "-q", first]);
        let bare = self.remotes.join(format!("{name}.git"));
        git(
            &self.remotes,
            &[
                "clone",
                "-q",
                "--bare",
                src.to_str().unwrap(),
                bare.to_str().unwrap(),
            ],
        );
        format!("file://{}", bare.display())
    }

    /// Push one more commit to `branch` of remote `name`.
    pub(super) fn advance(&self, name: &str, branch: &str) {
        let src = self.remotes.join(format!("{name}-src"));
        let mut repo = Repo {
            dir: src,
            clock: 1_800_000_000,
        };
        repo.git(&["checkout", "-q", branch]);
        repo.commit("more", &[("more", "more")]);
        let bare = self.remotes.join(format!("{name}.git"));
        repo.git(&["push", "-q", bare.to_str().unwrap(), branch]);
    }

    /// The project `proj` in `ws/`, on `branch`, with `config` as `.ciux.toml`.
    pub(super) fn project(&self, branch: &str, config: &str) -> Repo {
        let mut repo = Repo::init(&self.ws.join("proj"));
        repo.git(&["checkout", "-q", "-b", branch]);
        repo.commit(
            "initial",
            &[(".ciux.toml", config), (".gitignore", ".ciux.d/\n")],
        );
        repo
    }
}

pub(super) fn git_dep(url: &str, clone: bool, labels: &str) -> String {
    format!("[[dependencies]]\nurl = \"{url}\"\nclone = {clone}\nlabels = {{ {labels} }}\n")
}

/// Source `file` in bash and return the values of `names`, NUL-separated on the wire.
pub(super) fn source(file: &Path, names: &[&str], cwd: &Path) -> Vec<String> {
    let mut script = String::from("set -eu; source \"$1\"");
    for name in names {
        script.push_str(&format!("; printf '%s\\0' \"${{{name}}}\""));
    }
    let out = Command::new("bash")
        .current_dir(cwd)
        .args(["--noprofile", "--norc", "-c", &script, "bash"])
        .arg(file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "bash: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut values: Vec<String> = out
        .stdout
        .split(|b| *b == 0)
        .map(|v| String::from_utf8(v.to_vec()).unwrap())
        .collect();
    values.pop();
    values
}

pub(super) fn run_ok(cmd: &mut assert_cmd::Command) -> (String, String) {
    let out = cmd.output().unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    assert!(
        out.status.success(),
        "exit {:?}\n{stderr}",
        out.status.code()
    );
    (stdout, stderr)
}

/// A `git daemon` on 127.0.0.1 serving `dir`; killed on drop.
pub(super) struct Daemon {
    child: std::process::Child,
    pub(super) port: u16,
}

impl Daemon {
    pub(super) fn start(dir: &Path) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        // The daemon binary itself: killing `git daemon` would leave its
        // `git-daemon` child running as an orphan.
        let exec_path = git(dir, &["--exec-path"]);
        let child = Command::new(Path::new(&exec_path).join("git-daemon"))
            .args(["--reuseaddr", "--export-all", "--listen=127.0.0.1"])
            .arg(format!("--port={port}"))
            .arg(format!("--base-path={}", dir.display()))
            .arg(dir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        Self { child, port }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
