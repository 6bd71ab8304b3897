//! The command line itself: help, exit statuses, errors printed once.

use crate::common::{TestContext, ciux};

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
    let ctx = TestContext::builder()
        .message("init")
        .config("registry = \"r.example/x\"\nsource_paths = [\"../up\"]\n")
        .build();
    for args in [&["ignite"][..], &["plan"], &["get", "deps"]] {
        let out = ctx.run(args).code(2);
        assert!(out.stdout.is_empty(), "{args:?}");
        assert!(
            out.error_line().ends_with(".ciux.toml:2:17: source_paths[0]: `../up` is not clean (no `..`, `.`, empty segment or trailing slash)"),
            "{args:?}: {}", out.stderr
        );
    }
    // The pre-push check reports it as one of its findings, and exits 2 as well.
    let out = ctx.run(&["check"]).code(2);
    assert!(
        out.stdout.contains(".ciux.toml:2:17: source_paths[0]"),
        "{}",
        out.stdout
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
