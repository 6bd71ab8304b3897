//! Configuration files that never end, nest without bound, or collide.

use std::time::Duration;

use super::{ciux_cmd, project, run};
use crate::common::stack::Stack;

/// Every command that reads the configuration, with a bound on its time.
const COMMANDS: [&[&str]; 5] = [
    &["get", "deps"],
    &["ignite"],
    &["plan"],
    &["check"],
    &["get", "image"],
];

fn assert_every_command_refuses(dir: &std::path::Path, wants: &[&str]) {
    for command in COMMANDS {
        let (code, stdout, stderr, took) =
            run(ciux_cmd(dir).args(command), Duration::from_secs(30));
        let text = format!("{stdout}{stderr}");
        assert_eq!(code, Some(2), "{command:?}: {text}");
        assert!(took < Duration::from_secs(10), "{command:?} took {took:?}");
        for want in wants {
            assert!(text.contains(want), "{command:?}: `{want}` in {text}");
        }
    }
}

/// 300 KB of nested brackets in a legacy `.ciux` fails fast, at its line.
#[test]
fn deeply_nested_yaml_fails_fast() {
    let stack = Stack::new();
    let mut repo = stack.project("main", "");
    std::fs::remove_file(repo.dir.join(".ciux.toml")).unwrap();
    let deep = format!(
        "apiVersion: v1alpha1\ndependencies: {}{}\n",
        "[".repeat(150_000),
        "]".repeat(150_000)
    );
    repo.commit("deep", &[(".ciux", &deep)]);
    assert_every_command_refuses(&repo.dir, &[".ciux:2:", "nested more than 32 levels deep"]);
    let toml = format!(
        "registry = \"r.example.org\"\nx = {}{}\n",
        "[".repeat(60),
        "]".repeat(60)
    );
    std::fs::remove_file(repo.dir.join(".ciux")).unwrap();
    repo.commit("deep toml", &[(".ciux.toml", &toml)]);
    assert_every_command_refuses(
        &repo.dir,
        &[".ciux.toml:2:", "nested more than 32 levels deep"],
    );
}

/// `.ciux.toml` that is not a regular file in the repository: a symbolic link
/// to `/dev/zero`, a FIFO, a dangling link, a directory, 2 MB.
#[test]
fn configuration_must_be_a_bounded_regular_file() {
    let stack = Stack::new();
    let repo = project(&stack, "");
    let path = repo.dir.join(".ciux.toml");
    let cases: [(&str, &dyn Fn()); 5] = [
        ("outside the repository", &|| {
            std::os::unix::fs::symlink("/dev/zero", &path).unwrap()
        }),
        ("a FIFO", &|| {
            assert!(
                Command::new("mkfifo")
                    .arg(&path)
                    .status()
                    .unwrap()
                    .success()
            )
        }),
        ("dangling", &|| {
            std::os::unix::fs::symlink(repo.dir.join("nowhere.toml"), &path).unwrap()
        }),
        ("a directory", &|| std::fs::create_dir(&path).unwrap()),
        ("bytes; a configuration is at most 1048576 bytes", &|| {
            std::fs::write(&path, format!("# {}\n", "x".repeat(2 << 20))).unwrap()
        }),
    ];
    for (want, make) in cases {
        let _ = std::fs::remove_file(&path);
        let _ = std::fs::remove_dir(&path);
        make();
        for command in [&["get", "deps"][..], &["ignite"][..], &["check"][..]] {
            let (code, stdout, stderr, took) =
                run(ciux_cmd(&repo.dir).args(command), Duration::from_secs(30));
            let text = format!("{stdout}{stderr}");
            assert_eq!(code, Some(2), "{want} {command:?}: {text}");
            assert!(took < Duration::from_secs(10), "{want}: {took:?}");
            assert!(
                text.contains(".ciux.toml") && text.contains(want),
                "{want}: {text}"
            );
        }
    }
    // A symbolic link to a regular file inside the repository is read.
    let _ = std::fs::remove_file(&path);
    std::fs::write(repo.dir.join("ciux-config.toml"), "project = \"linked\"\n").unwrap();
    std::os::unix::fs::symlink("ciux-config.toml", &path).unwrap();
    let (code, stdout, stderr, _) = run(
        ciux_cmd(&repo.dir).args(["get", "deps"]),
        Duration::from_secs(30),
    );
    assert_eq!(code, Some(0), "{stdout}{stderr}");
}

use std::process::Command;

/// Two dependencies with one name and two URLs, or two names with one
/// variable prefix: a configuration error naming both, before any network
/// call (the URLs lead nowhere), from every command.
#[test]
fn colliding_dependencies_are_configuration_errors() {
    let stack = Stack::new();
    let same_name = "[[dependencies]]\nurl = \"https://127.0.0.1:1/a/dep.git\"\n\n\
                     [[dependencies]]\nurl = \"https://127.0.0.1:1/b/dep.git\"\n";
    let repo = project(&stack, same_name);
    assert_every_command_refuses(
        &repo.dir,
        &[
            ".ciux.toml:5:",
            "dependencies[1].url",
            "dependencies[0].url",
            ".ciux.toml:2:",
        ],
    );
    let stack = Stack::new();
    let same_prefix = "[[dependencies]]\nurl = \"https://127.0.0.1:1/a/dep-a.git\"\n\n\
                       [[dependencies]]\nurl = \"https://127.0.0.1:1/a/dep.a.git\"\n";
    let repo = project(&stack, same_prefix);
    assert_every_command_refuses(
        &repo.dir,
        &[
            ".ciux.toml:5:",
            "DEP_A_*",
            "dep-a",
            "dep.a",
            ".ciux.toml:2:",
        ],
    );
}
