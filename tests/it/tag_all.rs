//! `ciux tag --all` on a diamond: proj -> left, right; left, right -> base.
//! Every repository has its own bare remote.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::check::{config_with, pushed_repo};
use crate::common::ciux;
use crate::common::git::{Repo, git};
use crate::tag::refs;

struct Diamond {
    tmp: tempfile::TempDir,
    repos: Vec<Repo>,
}

impl Diamond {
    fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let t = tmp.path();
        let mut repos = Vec::new();
        for (name, deps) in [
            ("base", &[][..]),
            ("left", &["base"][..]),
            ("right", &["base"][..]),
            ("proj", &["left", "right"][..]),
        ] {
            let config = config_with(t, deps);
            let mut repo = pushed_repo(t, name, &[(".ciux.toml", &config), ("src/x", name)]);
            repo.commit("work", &[("src/x", "more")]);
            repo.git(&["push", "-q"]);
            repos.push(repo);
        }
        Self { tmp, repos }
    }

    fn proj(&self) -> &Path {
        &self.repos[3].dir
    }

    fn remote(&self, name: &str) -> PathBuf {
        self.tmp.path().join("remotes").join(format!("{name}.git"))
    }

    /// Refs of every repository and remote.
    fn all_refs(&self) -> Vec<String> {
        ["base", "left", "right", "proj"]
            .iter()
            .flat_map(|n| {
                [
                    refs(&self.tmp.path().join("ws").join(n)),
                    refs(&self.remote(n)),
                ]
            })
            .collect()
    }

    fn tag_all(&self, args: &[&str]) -> Output {
        ciux(self.proj())
            .args(["tag", "--all"])
            .args(args)
            .output()
            .unwrap()
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn tags_the_diamond_dependencies_first_and_pushes_each() {
    let d = Diamond::new();
    let out = d.tag_all(&["--push"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "base v1.0.1-rc0\nleft v1.0.1-rc0\nright v1.0.1-rc0\nproj v1.0.1-rc0\n"
    );
    let progress: Vec<String> = text(&out.stderr)
        .lines()
        .filter(|l| l.starts_with("tagged "))
        .map(str::to_owned)
        .collect();
    assert_eq!(
        progress,
        [
            "tagged base as v1.0.1-rc0",
            "tagged left as v1.0.1-rc0",
            "tagged right as v1.0.1-rc0",
            "tagged proj as v1.0.1-rc0"
        ]
    );
    for (repo, name) in d.repos.iter().zip(["base", "left", "right", "proj"]) {
        assert_eq!(
            git(&repo.dir, &["rev-parse", "v1.0.1-rc0^{commit}"]),
            repo.head(),
            "{name}"
        );
        assert_eq!(
            git(&d.remote(name), &["rev-parse", "v1.0.1-rc0"]),
            git(&repo.dir, &["rev-parse", "v1.0.1-rc0"]),
            "{name}"
        );
    }
}

#[test]
fn dry_run_prints_the_ordered_plan_and_changes_nothing() {
    let d = Diamond::new();
    let before = d.all_refs();
    let out = d.tag_all(&["--dry-run", "--push", "--minor"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let numbered: Vec<&str> = stdout
        .lines()
        .filter(|l| l.chars().next().is_some_and(|c| c.is_ascii_digit()))
        .collect();
    assert_eq!(numbered.len(), 4, "{stdout}");
    for (line, (i, name)) in
        numbered
            .iter()
            .zip([(1, "base"), (2, "left"), (3, "right"), (4, "proj")])
    {
        assert!(
            line.starts_with(&format!("{i}. {name}: would tag ")),
            "{line}"
        );
        assert!(line.contains("tag v1.1.0 (after v1.0.0)"), "{line}");
    }
    assert_eq!(
        stdout.matches("would push v1.1.0 to origin").count(),
        4,
        "{stdout}"
    );
    assert_eq!(d.all_refs(), before);
}

#[test]
fn one_refusal_anywhere_and_nothing_is_tagged() {
    let d = Diamond::new();
    d.repos[2].write("src/x", "dirty");
    git(&d.repos[0].dir, &["checkout", "-q", "-b", "topic"]);
    let before = d.all_refs();
    let out = d.tag_all(&["--push"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("nothing was tagged: 2 repositories cannot be tagged"),
        "{stderr}"
    );
    assert!(
        stderr.contains("base: ") && stderr.contains("on branch `topic`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("right: ") && stderr.contains("uncommitted changes"),
        "{stderr}"
    );
    assert_eq!(d.all_refs(), before);
}

#[test]
fn failure_midway_reports_and_the_undo_commands_work() {
    let d = Diamond::new();
    // the remote of `right` refuses every push
    let hook = d.remote("right").join("hooks/pre-receive");
    std::fs::write(&hook, "#!/bin/sh\necho 'rejected by policy' >&2\nexit 1\n").unwrap();
    std::fs::set_permissions(&hook, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let before = d.all_refs();

    let out = d.tag_all(&["--push", "--report", "versions.json"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("error: tagging stopped at right:"),
        "{stderr}"
    );
    for line in [
        "base v1.0.1-rc0: tagged and pushed",
        "left v1.0.1-rc0: tagged and pushed",
        "right v1.0.1-rc0: tagged, not pushed",
        "proj v1.0.1-rc0: not tagged",
    ] {
        assert!(stderr.contains(line), "{line}\n{stderr}");
    }
    let dir = |n: &str| d.tmp.path().join("ws").join(n).display().to_string();
    assert!(
        stderr.contains(&format!(
            "git -C {} push origin refs/tags/v1.0.1-rc0",
            dir("right")
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("ciux tag --rc --push {}", dir("proj"))),
        "{stderr}"
    );
    assert!(git(&d.remote("proj"), &["tag", "-l", "v1.0.1-rc0"]).is_empty());

    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.proj().join("versions.json")).unwrap())
            .unwrap();
    assert_eq!(report["failed"], "right");
    let states: Vec<&str> = report["repositories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["pushed", "pushed", "tagged", "not_tagged"]);

    // run the printed undo commands: everything is back as it was
    let undo: Vec<&str> = stderr
        .split("to undo instead:")
        .nth(1)
        .unwrap()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(undo.len(), 5, "{undo:?}");
    for command in undo {
        let status = std::process::Command::new("sh")
            .arg("-c")
            .arg(command)
            .output()
            .unwrap();
        assert!(
            status.status.success(),
            "{command}: {}",
            text(&status.stderr)
        );
    }
    assert_eq!(d.all_refs(), before);
}

#[test]
fn env_report_sources_to_the_new_versions() {
    let d = Diamond::new();
    let out = d.tag_all(&["--report", "versions.sh", "--patch"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let script = d.proj().join("versions.sh");
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!(
            "source '{}' && echo \"$BASE_VERSION $LEFT_VERSION $RIGHT_VERSION $PROJ_VERSION\"",
            script.display()
        ))
        .output()
        .unwrap();
    assert_eq!(text(&out.stdout), "v1.0.1 v1.0.1 v1.0.1 v1.0.1\n");
}

#[test]
fn missing_sibling_and_wait_images() {
    let d = Diamond::new();
    std::fs::rename(d.tmp.path().join("ws/base"), d.tmp.path().join("elsewhere")).unwrap();
    let out = d.tag_all(&[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("dependency base is not cloned at"),
        "{}",
        text(&out.stderr)
    );

    let out = d.tag_all(&["--wait-images"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("--wait-images is not available yet"),
        "{}",
        text(&out.stderr)
    );
}
