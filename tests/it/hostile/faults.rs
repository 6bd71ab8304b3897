//! Faults: a stalled remote, a decoded newline in a message, an interrupted
//! clone, two runs at once, library internals in messages.

use std::io::Write;
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use super::{assert_stderr_inert, ciux_cmd, project, run};
use crate::common::git::git;
use crate::common::stack::Stack;

/// A TCP server on 127.0.0.1 that accepts every connection and never answers,
/// for about `seconds`; returns its port.
fn silent_server(seconds: u64) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for _ in 0..seconds * 20 {
            while let Ok((stream, _)) = listener.accept() {
                held.push(stream);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    });
    port
}

/// git:// and http:// remotes that accept and never answer: `get deps` and
/// `ignite` stop at the timeout and name the remote and the bound.
#[test]
fn a_remote_that_never_answers_does_not_hang() {
    let port = silent_server(120);
    for url in [
        format!("git://127.0.0.1:{port}/silent.git"),
        format!("http://127.0.0.1:{port}/silent.git"),
    ] {
        let stack = Stack::new();
        let config = format!("[[dependencies]]\nurl = \"{url}\"\nclone = true\n");
        let repo = project(&stack, &config);
        for command in [&["get", "deps"][..], &["ignite"][..]] {
            let (code, _, stderr, took) = run(
                ciux_cmd(&repo.dir)
                    .args(command)
                    .env("CIUX_GIT_TIMEOUT", "2")
                    .env("CIUX_GIT_LOW_SPEED_TIME", "600"),
                Duration::from_secs(60),
            );
            assert_eq!(code, Some(1), "{command:?} {url}: {stderr}");
            assert!(
                took < Duration::from_secs(30),
                "{command:?} {url} took {took:?}"
            );
            assert!(
                stderr.contains(&url),
                "{command:?}: names the remote: {stderr}"
            );
            assert!(
                stderr.contains("within 2 s") && stderr.contains("CIUX_GIT_TIMEOUT"),
                "{command:?}: names the timeout: {stderr}"
            );
        }
    }
}

/// A `%0A` in a dependency URL is decoded by the git library into its error
/// message: under GitHub Actions no stderr line may become a workflow command.
#[test]
fn a_newline_in_a_url_cannot_start_a_workflow_command() {
    for url in [
        "file:///nonexistent/x%0A::error%20title=pwned::y%0D%0A::add-mask::z/dep.git".to_owned(),
        "http://127.0.0.1:1/x%0A::error%20title=pwned::y/dep.git".to_owned(),
    ] {
        let stack = Stack::new();
        let config = format!("[[dependencies]]\nurl = \"{url}\"\nclone = true\n");
        let repo = project(&stack, &config);
        let summary = stack.ws.join("summary.md");
        std::fs::write(&summary, "").unwrap();
        for command in [&["get", "deps"][..], &["ignite"][..], &["plan"][..]] {
            let (code, _, stderr, _) = run(
                ciux_cmd(&repo.dir)
                    .args(command)
                    .env("GITHUB_ACTIONS", "true")
                    .env("GITHUB_STEP_SUMMARY", &summary)
                    .env("GITHUB_OUTPUT", stack.ws.join("out"))
                    .env("GITHUB_ENV", stack.ws.join("env")),
                Duration::from_secs(60),
            );
            assert_eq!(code, Some(1), "{command:?}: {stderr}");
            assert!(stderr.contains("cannot list the branches"), "{stderr}");
            assert_stderr_inert(&stderr);
        }
    }
}

/// No libgit2 class/code and no serde enum names reach a message.
#[test]
fn messages_hold_no_library_internals() {
    let tmp = tempfile::tempdir().unwrap();
    let (code, _, stderr, _) = run(
        ciux_cmd(tmp.path()).args(["get", "revision"]),
        Duration::from_secs(30),
    );
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("is not inside a git repository"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("class=") && !stderr.contains("code="),
        "{stderr}"
    );

    let stack = Stack::new();
    let mut repo = stack.project("main", "");
    std::fs::remove_file(repo.dir.join(".ciux.toml")).unwrap();
    repo.commit(
        "legacy",
        &[(
            ".ciux",
            "dependencies:\n  - url: https://example.org/a\n    labels:\n      ci: [1]\n",
        )],
    );
    let (code, _, stderr, _) = run(
        ciux_cmd(&repo.dir).args(["get", "deps"]),
        Duration::from_secs(30),
    );
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains(".ciux:4:"), "{stderr}");
    assert!(
        !stderr.contains("untagged") && !stderr.contains("LabelValue"),
        "{stderr}"
    );
}

/// `check`'s fix lines, on a detached HEAD without tags, are commands to
/// paste; prose goes on hint lines.
#[test]
fn check_fix_lines_are_commands() {
    let stack = Stack::new();
    let repo = stack.project("main", "");
    git(&repo.dir, &["checkout", "-q", "--detach"]);
    let (_, stdout, stderr, _) = run(
        ciux_cmd(&repo.dir).args(["check", "--format", "json"]),
        Duration::from_secs(30),
    );
    let report: serde_json::Value =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stderr}"));
    let findings = report["findings"].as_array().unwrap();
    let codes: Vec<&str> = findings
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert!(
        codes.contains(&"no-tags") && codes.contains(&"detached"),
        "{codes:?}"
    );
    for f in findings {
        if let Some(fix) = f["fix"].as_str() {
            crate::check::assert_pasteable(fix);
        }
    }
    let (_, text, _, _) = run(ciux_cmd(&repo.dir).arg("check"), Duration::from_secs(30));
    assert!(text.contains("  fix: git fetch --tags\n"), "{text}");
    assert!(text.contains("  hint: "), "{text}");
}

/// A `git` configuration whose post-checkout hook signals `marker` and then
/// stalls: the clone is caught after checkout, before it is complete.
fn stalling_git_config(dir: &Path, marker: &Path) -> std::path::PathBuf {
    let hooks = dir.join("hooks");
    std::fs::create_dir_all(&hooks).unwrap();
    let hook = hooks.join("post-checkout");
    std::fs::write(
        &hook,
        format!("#!/bin/sh\ntouch '{}'\nsleep 60\n", marker.display()),
    )
    .unwrap();
    std::fs::set_permissions(&hook, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let config = dir.join("gitconfig");
    std::fs::write(
        &config,
        format!("[core]\n\thooksPath = {}\n", hooks.display()),
    )
    .unwrap();
    config
}

/// Ctrl-C while a sibling is being cloned: nothing is left where the sibling
/// goes, and the next run removes the leftover and clones it whole.
#[test]
fn an_interrupted_clone_leaves_no_sibling_behind() {
    let stack = Stack::new();
    let url = stack.remote("dep", "main", &[], None);
    let repo = project(
        &stack,
        &format!("[[dependencies]]\nurl = \"{url}\"\nclone = true\n"),
    );
    let marker = stack.ws.join("cloning");
    let config = stalling_git_config(&stack.remotes, &marker);
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("ciux"));
    cmd.current_dir(&repo.dir).arg("ignite");
    crate::common::git::isolate_env(&mut cmd);
    for var in [
        "GITHUB_ACTIONS",
        "GITHUB_HEAD_REF",
        "GITHUB_REF_NAME",
        "CIUXCONFIG",
    ] {
        cmd.env_remove(var);
    }
    let mut child = cmd
        .env("GIT_CONFIG_GLOBAL", &config)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .process_group(0)
        .spawn()
        .unwrap();
    for _ in 0..600 {
        if marker.exists() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(marker.exists(), "the clone reached its checkout");
    // Ctrl-C reaches the whole foreground process group.
    let group = format!("-{}", child.id());
    Command::new("kill")
        .args(["-INT", "--", &group])
        .status()
        .unwrap();
    child.wait().unwrap();
    let sibling = stack.ws.join("dep");
    assert!(!sibling.exists(), "an interrupted clone is not a sibling");
    let (code, _, stderr, _) = run(ciux_cmd(&repo.dir).arg("ignite"), Duration::from_secs(60));
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("cloned"), "{stderr}");
    assert_eq!(
        git(&sibling, &["describe", "--always", "--dirty"]),
        "v1.0.0"
    );
    let names: Vec<String> = super::entries(&stack.ws)
        .into_iter()
        .map(|n| n.to_string_lossy().into_owned())
        .collect();
    assert!(
        !names.iter().any(|n| n.contains("ciux-clone")),
        "leftover removed: {names:?}"
    );
    let env = std::fs::read_to_string(repo.dir.join(".ciux.d/ciux.sh")).unwrap();
    assert!(env.contains("export DEP_VERSION='v1.0.0'"), "{env}");
}

/// Two `ignite` at once on one workspace both succeed, one after the other;
/// a held lock makes the second wait, then fail naming the holder.
#[test]
fn two_ignites_at_once_take_turns() {
    let stack = Stack::new();
    let urls: Vec<String> = ["a", "b", "c"]
        .iter()
        .map(|n| stack.remote(n, "main", &[], None))
        .collect();
    let config: String = urls
        .iter()
        .map(|u| format!("[[dependencies]]\nurl = \"{u}\"\nclone = true\n"))
        .collect();
    let repo = project(&stack, &config);
    let children: Vec<_> = (0..2)
        .map(|_| {
            let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("ciux"));
            cmd.current_dir(&repo.dir).arg("ignite");
            crate::common::git::isolate_env(&mut cmd);
            cmd.env_remove("GITHUB_ACTIONS")
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let env = std::fs::read_to_string(repo.dir.join(".ciux.d/ciux.sh")).unwrap();
    for name in ["A", "B", "C"] {
        assert!(
            env.contains(&format!("export {name}_VERSION='v1.0.0'")),
            "{env}"
        );
    }

    let lock_path = repo.dir.join(".ciux.d/ignite.lock");
    let mut held = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&lock_path)
        .unwrap();
    held.lock().unwrap();
    writeln!(held, "pid 4242 on buildhost (ciux ignite -l ci)").unwrap();
    let (code, _, stderr, took) = run(
        ciux_cmd(&repo.dir)
            .arg("ignite")
            .env("CIUX_LOCK_TIMEOUT", "1"),
        Duration::from_secs(30),
    );
    assert_eq!(code, Some(1), "{stderr}");
    assert!(took >= Duration::from_secs(1), "{took:?}");
    assert!(stderr.contains("waiting up to 1 s"), "{stderr}");
    assert!(
        stderr.contains("held by pid 4242 on buildhost (ciux ignite -l ci)"),
        "{stderr}"
    );
    drop(held);
    let (code, _, stderr, _) = run(ciux_cmd(&repo.dir).arg("ignite"), Duration::from_secs(60));
    assert_eq!(code, Some(0), "{stderr}");
}
