//! The `git` command for unit tests: the oracle, and the way their
//! repositories are built. Config is isolated from the machine's; commits get
//! fixed names and, with [`git_at`], a fixed date.

use std::path::Path;
use std::process::Command;

/// Run `git args` in `dir`; panics unless it succeeds; its standard output.
pub(crate) fn git(dir: &Path, args: &[&str]) -> String {
    run(Command::new("git").current_dir(dir).args(args))
}

/// [`git`] with author and committer dates `minutes` after 2024-01-01.
pub(crate) fn git_at(dir: &Path, args: &[&str], minutes: i64) -> String {
    let stamp = format!("{} +0000", 1_704_067_200 + minutes * 60);
    run(Command::new("git")
        .current_dir(dir)
        .args(args)
        .env("GIT_AUTHOR_DATE", &stamp)
        .env("GIT_COMMITTER_DATE", &stamp))
}

fn run(command: &mut Command) -> String {
    let out = command
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "A")
        .env("GIT_AUTHOR_EMAIL", "a@example.org")
        .env("GIT_COMMITTER_NAME", "C")
        .env("GIT_COMMITTER_EMAIL", "c@example.org")
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {:?}: {}",
        command.get_args().collect::<Vec<_>>(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}
