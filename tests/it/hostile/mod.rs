//! Hostile input and faults: values from strangers (branch names, tags, paths,
//! URLs) run through every output format and every command that prints, with
//! nothing executed, no workflow command on stderr, exact values back; remotes
//! that never answer, configuration files that never end, interrupted clones,
//! two runs at once.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::common::ciux_offline as ciux;
use crate::common::git::Repo;
use crate::common::stack::Stack;

mod config;
mod corpus;
mod faults;

pub(super) use crate::common::shell_load::{LOADS, Load, load};

/// Load `file` every way: `want` come back exactly; with `set -a` nothing else
/// is set (`exported`: nothing else either way); `watch` holds only `expected`
/// entries afterwards (nothing ran that made a file).
pub(super) fn assert_file_loads(
    file: &Path,
    want: &BTreeMap<String, String>,
    exported_all: Option<&BTreeMap<String, String>>,
    watch: &Path,
) {
    let names: Vec<&str> = want.keys().map(String::as_str).collect();
    let before = entries(watch);
    for (shell, how) in LOADS {
        let (changed, values) = load(shell, how, file, &names, watch);
        let got: BTreeMap<String, String> = names
            .iter()
            .zip(values)
            .map(|(n, v)| (n.to_string(), String::from_utf8(v).unwrap()))
            .collect();
        assert_eq!(&got, want, "{shell} {how:?} {}", file.display());
        if let Some(all) = exported_all
            && (how == Load::AllExport || file.extension().is_some_and(|e| e == "sh"))
        {
            let all: BTreeMap<String, Vec<u8>> = all
                .iter()
                .map(|(k, v)| (k.clone(), v.clone().into_bytes()))
                .collect();
            assert_eq!(changed, all, "{shell} {how:?}: exactly these variables");
        }
        assert_eq!(entries(watch), before, "{shell} {how:?}: something ran");
    }
}

pub(super) fn entries(dir: &Path) -> Vec<std::ffi::OsString> {
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    names
}

/// No stderr line is a workflow command (other than the groups ciux opens,
/// whose titles are escaped) and no control character but the line breaks.
pub(super) fn assert_stderr_inert(stderr: &str) {
    for line in stderr.lines() {
        let start = line.trim_start();
        assert!(
            !start.starts_with("::")
                || start == "::endgroup::"
                || start.starts_with("::group::ciux "),
            "workflow command on stderr: {line:?}\n{stderr}"
        );
        assert!(
            !line.chars().any(|c| c.is_control() && c != '\t'),
            "control character on stderr: {line:?}"
        );
    }
}

/// Run `cmd` with a bound; (exit code, stdout, stderr, time taken).
pub(super) fn run(
    cmd: &mut assert_cmd::Command,
    limit: Duration,
) -> (Option<i32>, String, String, Duration) {
    let started = Instant::now();
    let out = cmd.timeout(limit).output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        started.elapsed(),
    )
}

/// A project in `stack` with `config`, committed on `main` and tagged.
pub(super) fn project(stack: &Stack, config: &str) -> Repo {
    let mut repo = stack.project("main", config);
    repo.tag("v1.0.0");
    repo
}

pub(super) fn ciux_cmd(dir: &Path) -> assert_cmd::Command {
    ciux(dir)
}
