//! One resolution per run: each repository's `.ciux.toml` is read once by
//! `ignite` (with `--lock`, `--locked`, and in GitHub Actions, where it also
//! publishes the plan), `plan`, `get deps` and `check`, counted by the loader itself
//! (`CIUX_DEBUG_CONFIG_READS`).

use std::collections::BTreeMap;
use std::path::Path;

use crate::common::ciux_offline as ciux;
use crate::common::git::Repo;
use crate::plan::{Stack, git_dep};

/// proj -> lib -> base and proj -> base: `base` is reached twice.
fn diamond(stack: &Stack) -> Repo {
    let base = stack.remote("base", "main", &[], Some(""));
    let lib = stack.remote("lib", "main", &[], Some(&git_dep(&base, "")));
    let mut repo = Repo::init(&stack.ws.join("proj"));
    let config = format!("{}{}", git_dep(&lib, ""), git_dep(&base, ""));
    repo.commit(
        "initial",
        &[(".ciux.toml", &config), (".gitignore", ".ciux.d/\n")],
    );
    repo.tag("v2.0.0");
    repo
}

/// Run `args` in `dir` with the reads recorded; how many times each
/// directory's configuration was read.
fn reads_of(dir: &Path, args: &[&str], actions: Option<&Path>) -> BTreeMap<String, usize> {
    let record = tempfile::NamedTempFile::new().unwrap();
    let mut cmd = ciux(dir);
    cmd.env("CIUX_DEBUG_CONFIG_READS", record.path()).args(args);
    if let Some(runner) = actions {
        cmd.env("GITHUB_ACTIONS", "true")
            .env("GITHUB_OUTPUT", runner.join("output"))
            .env("GITHUB_STEP_SUMMARY", runner.join("summary"));
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut reads = BTreeMap::new();
    for line in std::fs::read_to_string(record.path()).unwrap().lines() {
        let name = Path::new(line).file_name().unwrap().to_string_lossy();
        *reads.entry(name.into_owned()).or_insert(0) += 1;
    }
    reads
}

#[test]
fn each_configuration_is_read_once_per_run() {
    let stack = Stack::new();
    let repo = diamond(&stack);
    let runner = tempfile::tempdir().unwrap();
    let once: BTreeMap<String, usize> = ["base", "lib", "proj"]
        .map(|n| (n.to_owned(), 1))
        .into_iter()
        .collect();
    for (args, actions) in [
        (&["ignite", "--lock"][..], None),
        (&["ignite", "--locked"], None),
        (&["ignite", "--format", "json"], Some(runner.path())),
        (&["plan", "--format", "json"], Some(runner.path())),
        (&["get", "deps"], None),
        (&["check"], None),
    ] {
        assert_eq!(reads_of(&repo.dir, args, actions), once, "{args:?}");
    }
    // The project alone: its own configuration, once.
    let project: BTreeMap<String, usize> = [("proj".to_owned(), 1)].into();
    assert_eq!(reads_of(&repo.dir, &["ignite", "-m"], None), project);
}
