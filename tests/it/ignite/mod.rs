//! `ciux ignite`, `get configpath`, `get deps`: real repositories, bare
//! "remotes" reached by `file://` URL, env files read back by bash.

use std::path::Path;
use std::process::Command;

use crate::common::git::git;
pub(super) use crate::common::stack::Stack;

mod env_files;
mod resolution;

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
