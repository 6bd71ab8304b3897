//! Real git repositories built with the `git` CLI, with pinned author and
//! committer identities and dates so that commit ids are stable.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Environment that makes `git` ignore the user's configuration.
pub fn isolate_env(cmd: &mut impl EnvSet) {
    cmd.env_set("GIT_CONFIG_NOSYSTEM", "1");
    cmd.env_set("GIT_CONFIG_GLOBAL", "/dev/null");
    cmd.env_set("GIT_AUTHOR_NAME", "Test Author");
    cmd.env_set("GIT_AUTHOR_EMAIL", "author@example.org");
    cmd.env_set("GIT_COMMITTER_NAME", "Test Committer");
    cmd.env_set("GIT_COMMITTER_EMAIL", "committer@example.org");
    cmd.env_set("GIT_TERMINAL_PROMPT", "0");
}

/// Both std and assert_cmd commands can take environment variables.
pub trait EnvSet {
    fn env_set(&mut self, key: &str, value: &str);
}
impl EnvSet for Command {
    fn env_set(&mut self, key: &str, value: &str) {
        self.env(key, value);
    }
}
impl EnvSet for assert_cmd::Command {
    fn env_set(&mut self, key: &str, value: &str) {
        self.env(key, value);
    }
}

/// Run `git args...` in `dir` and return its stdout (trimmed of the final newline).
/// Panics with git's stderr on failure: tests want to know at once.
pub fn git(dir: &Path, args: &[&str]) -> String {
    git_at(dir, args, None)
}

fn git_at(dir: &Path, args: &[&str], date: Option<i64>) -> String {
    let mut cmd = Command::new("git");
    cmd.current_dir(dir).args(args);
    isolate_env(&mut cmd);
    if let Some(date) = date {
        let stamp = format!("{date} +0000");
        cmd.env("GIT_AUTHOR_DATE", &stamp)
            .env("GIT_COMMITTER_DATE", &stamp);
    }
    let out = cmd.output().expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?} in {} failed: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let mut text = String::from_utf8(out.stdout).expect("git prints UTF-8");
    if text.ends_with('\n') {
        text.pop();
    }
    text
}

/// A work-tree repository whose commits get dates from a clock the test controls.
pub struct Repo {
    pub dir: PathBuf,
    /// Unix time used for the next commit or tag; advanced by each one.
    pub clock: i64,
}

/// Start of the pinned clock: 2024-01-01T00:00:00Z.
pub const EPOCH: i64 = 1_704_067_200;

impl Repo {
    /// `git init` a new repository at `dir` on branch `main`.
    pub fn init(dir: &Path) -> Self {
        std::fs::create_dir_all(dir).unwrap();
        git(dir, &["init", "-q", "-b", "main"]);
        Self {
            dir: dir.to_path_buf(),
            clock: EPOCH,
        }
    }

    /// Run git with the pinned clock, advancing it by one minute.
    pub fn git(&mut self, args: &[&str]) -> String {
        self.clock += 60;
        git_at(&self.dir, args, Some(self.clock))
    }

    /// Run git with an explicit date (for out-of-order committer dates).
    pub fn git_dated(&mut self, date: i64, args: &[&str]) -> String {
        git_at(&self.dir, args, Some(date))
    }

    /// Run git with an explicit date; `false` (and no panic) when it fails.
    pub fn try_git_dated(&mut self, date: i64, args: &[&str]) -> bool {
        let mut cmd = Command::new("git");
        cmd.current_dir(&self.dir).args(args);
        isolate_env(&mut cmd);
        let stamp = format!("{date} +0000");
        cmd.env("GIT_AUTHOR_DATE", &stamp)
            .env("GIT_COMMITTER_DATE", &stamp);
        cmd.output().expect("git runs").status.success()
    }

    /// Write `content` to `path` (creating directories).
    pub fn write(&self, path: &str, content: &str) {
        let full = self.dir.join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, content).unwrap();
    }

    /// Write files, stage everything and commit; returns the commit id.
    pub fn commit(&mut self, message: &str, files: &[(&str, &str)]) -> String {
        for (path, content) in files {
            self.write(path, content);
        }
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--allow-empty", "-m", message]);
        self.head()
    }

    /// An annotated tag on HEAD.
    pub fn tag(&mut self, name: &str) {
        self.git(&["tag", "-a", name, "-m", &format!("Release {name}")]);
    }

    /// A lightweight tag on HEAD.
    pub fn lightweight_tag(&mut self, name: &str) {
        self.git(&["tag", name]);
    }

    pub fn head(&self) -> String {
        git(&self.dir, &["rev-parse", "HEAD"])
    }

    /// The oracle: `git describe --always --abbrev=7 --dirty`, told to exclude
    /// annotated tags whose names are not semantic versions (ciux ignores them).
    pub fn git_describe(&self) -> String {
        git_describe_semver(&self.dir, "HEAD", true)
    }
}

/// `git describe --always --abbrev=7 [--dirty] [REVS]` with every non-semver tag
/// excluded by name; `revs` may hold several space-separated revisions (one
/// output line each).
pub fn git_describe_semver(dir: &Path, rev: &str, dirty: bool) -> String {
    let tags = git(dir, &["tag", "--list"]);
    let mut args: Vec<String> = vec!["describe".into(), "--always".into(), "--abbrev=7".into()];
    for tag in tags.lines() {
        if ciux::git::parse_semver_tag(tag).is_none() {
            args.push(format!("--exclude={}", glob_escape(tag)));
        }
    }
    if dirty {
        args.push("--dirty".into());
    } else {
        args.extend(rev.split(' ').map(str::to_owned));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    git(dir, &args)
}

fn glob_escape(name: &str) -> String {
    name.chars()
        .flat_map(|c| match c {
            '*' | '?' | '[' | '\\' => vec!['\\', c],
            _ => vec![c],
        })
        .collect()
}
