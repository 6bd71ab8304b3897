//! `ciux ignite --lock` then `--locked` after the remotes moved on.

use crate::common::ciux_offline as ciux;
use crate::common::git::{Repo, git};
use crate::plan::{Stack, git_dep, stdout_of};

/// proj -> lib -> base, all on `main`.
fn chain(stack: &Stack) -> Repo {
    let base = stack.remote("base", "main", &[], Some(""));
    let lib = stack.remote("lib", "main", &[], Some(&git_dep(&base, "")));
    let mut repo = Repo::init(&stack.ws.join("proj"));
    repo.commit(
        "initial",
        &[
            (".ciux.toml", &git_dep(&lib, "")),
            (".gitignore", ".ciux.d/\n"),
        ],
    );
    repo.tag("v2.0.0");
    repo
}

fn head(dir: &std::path::Path) -> String {
    git(dir, &["rev-parse", "HEAD"])
}

fn env_value(repo: &Repo, name: &str) -> String {
    let text = std::fs::read_to_string(repo.dir.join(".ciux.d/ciux.sh")).unwrap();
    let line = text
        .lines()
        .find(|l| l.starts_with(&format!("export {name}=")))
        .unwrap_or_else(|| panic!("{name} in {text}"));
    line.split_once('=')
        .unwrap()
        .1
        .trim_matches('\'')
        .to_owned()
}

#[test]
fn locked_reproduces_the_locked_commits_after_remotes_moved_on() {
    let stack = Stack::new();
    let mut repo = chain(&stack);
    stdout_of(ciux(&repo.dir).args(["ignite", "--lock"]));
    let (lib_dir, base_dir) = (stack.ws.join("lib"), stack.ws.join("base"));
    let (lib_locked, base_locked) = (head(&lib_dir), head(&base_dir));
    let text = std::fs::read_to_string(repo.dir.join(".ciux.d/ciux.lock")).unwrap();
    let lock = ciux::lock::Lock::parse(&text, std::path::Path::new("ciux.lock")).unwrap();
    let names: Vec<&str> = lock.repositories.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["proj", "lib", "base"]);
    assert_eq!(lock.commit_of("lib"), Some(lib_locked.as_str()));
    assert_eq!(lock.commit_of("base"), Some(base_locked.as_str()));
    assert_eq!(lock.commit_of("proj"), Some(head(&repo.dir).as_str()));
    assert_eq!(lock.repositories[1].branch.as_deref(), Some("main"));
    assert!(
        lock.repositories[1]
            .url
            .as_deref()
            .unwrap()
            .ends_with("/lib.git")
    );

    // The remotes move on; a plain ignite follows them.
    let lib_new = stack.advance("lib", "main");
    stack.advance("base", "main");
    stdout_of(ciux(&repo.dir).arg("ignite"));
    assert_eq!(head(&lib_dir), lib_new);
    assert_ne!(env_value(&repo, "LIB_VERSION"), "v1.0.0");

    // --locked puts the siblings back, and the env file says so.
    stdout_of(ciux(&repo.dir).args(["ignite", "--locked"]));
    assert_eq!(head(&lib_dir), lib_locked);
    assert_eq!(head(&base_dir), base_locked);
    assert_eq!(env_value(&repo, "LIB_VERSION"), "v1.0.0");
    assert_eq!(env_value(&repo, "BASE_VERSION"), "v1.0.0");

    // A dirty sibling is never overwritten.
    stdout_of(ciux(&repo.dir).arg("ignite"));
    std::fs::write(lib_dir.join("README"), "local change").unwrap();
    let out = ciux(&repo.dir)
        .args(["ignite", "--locked"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("error: `lib` has uncommitted changes in"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(lib_dir.join("README")).unwrap(),
        "local change"
    );
    git(&lib_dir, &["checkout", "--", "README"]);

    // The project itself is never moved: a new commit fails clearly.
    let locked_proj = head(&repo.dir);
    let moved = repo.commit("more", &[("file", "x")]);
    let out = ciux(&repo.dir)
        .args(["ignite", "--locked"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "error: `proj` is at {moved}, the lock says {locked_proj}: check the project out at the locked commit"
        )),
        "{stderr}"
    );
}

#[test]
fn locked_without_a_lock_says_how_to_make_one() {
    let stack = Stack::new();
    let repo = chain(&stack);
    let out = ciux(&repo.dir)
        .args(["ignite", "--locked"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr.contains("ciux.lock: run `ciux ignite --lock` first"),
        "{stderr}"
    );
    assert!(
        !repo.dir.join(".ciux.d/ciux.sh").exists(),
        "nothing written on failure"
    );
}
