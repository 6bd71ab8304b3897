//! The command line itself: help, exit statuses, errors printed once.

use crate::common::ciux;
use crate::common::git::Repo;

#[test]
fn help_lists_every_command_of_the_contract() {
    let out = ciux(std::path::Path::new("."))
        .arg("--help")
        .env("COLUMNS", "100")
        .output()
        .unwrap();
    assert!(out.status.success());
    insta::assert_snapshot!("help", String::from_utf8(out.stdout).unwrap());
}

#[test]
fn a_configuration_error_exits_2_naming_file_line_and_key() {
    let tmp = tempfile::tempdir().unwrap();
    let mut repo = Repo::init(tmp.path());
    repo.commit(
        "init",
        &[(
            ".ciux.toml",
            "registry = \"r.example/x\"\nsource_paths = [\"../up\"]\n",
        )],
    );
    for args in [&["ignite"][..], &["plan"], &["get", "deps"]] {
        let out = ciux(&repo.dir).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
        let stderr = String::from_utf8(out.stderr).unwrap();
        let first = stderr
            .lines()
            .find(|l| l.starts_with("error: "))
            .unwrap_or_default();
        assert!(
            first.ends_with(".ciux.toml:2:17: source_paths[0]: `../up` is not clean (no `..`, `.`, empty segment or trailing slash)"),
            "{args:?}: {stderr}"
        );
    }
    // The pre-push check reports it as one of its findings, and exits 2 as well.
    let out = ciux(&repo.dir).arg("check").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let report = String::from_utf8(out.stdout).unwrap();
    assert!(
        report.contains(".ciux.toml:2:17: source_paths[0]"),
        "{report}"
    );
}

#[test]
fn bad_usage_exits_2() {
    let tmp = tempfile::tempdir().unwrap();
    let out = ciux(tmp.path())
        .args(["ignite", "--no-such-flag"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = ciux(tmp.path())
        .args(["ignite", "-l", "a in (x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("invalid selector `a in (x` at position 7"),
        "{stderr}"
    );
}
