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
            .args(["tag", "--all", "--create"])
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
fn a_dependency_without_a_sibling_is_cloned_bare_tagged_and_pushed() {
    let d = Diamond::new();
    std::fs::rename(d.tmp.path().join("ws/base"), d.tmp.path().join("elsewhere")).unwrap();
    let out = d.tag_all(&["--push"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(
            "# base v1.0.1-rc0 (after v1.0.0, branch main, not cloned: bare clone of file://"
        ),
        "{stderr}"
    );
    assert_eq!(
        text(&out.stdout),
        "base v1.0.1-rc0\nleft v1.0.1-rc0\nright v1.0.1-rc0\nproj v1.0.1-rc0\n"
    );
    // The tag is on the remote, at the commit the remote's main points at.
    assert_eq!(
        git(&d.remote("base"), &["rev-parse", "v1.0.1-rc0^{commit}"]),
        git(&d.remote("base"), &["rev-parse", "main"])
    );
    assert!(
        !d.tmp.path().join("ws/base").exists(),
        "no sibling is left behind"
    );
}

#[test]
fn plain_tag_all_prints_the_plan_and_commands_and_creates_nothing() {
    let mut d = Diamond::new();
    // `left` is already released at its HEAD: reported and skipped, not refused.
    d.repos[1].git(&["tag", "-a", "v1.0.1", "-m", "Release v1.0.1"]);
    let before = d.all_refs();
    let out = ciux(d.proj()).args(["tag", "--all"]).output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("# left already released at v1.0.1: skipped\n"),
        "{stdout}"
    );
    for name in ["base", "right", "proj"] {
        assert!(
            stdout.contains(&format!("# {name} v1.0.1-rc0 (after v1.0.0, branch main, ")),
            "{stdout}"
        );
    }
    assert_eq!(d.all_refs(), before, "plain tag --all creates nothing");
    // The printed output is a script: running it creates the tags.
    let run = std::process::Command::new("sh")
        .arg("-c")
        .arg(&stdout)
        .current_dir(d.proj())
        .env("GIT_COMMITTER_NAME", "T")
        .env("GIT_COMMITTER_EMAIL", "t@example.org")
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", text(&run.stderr));
    for (repo, name) in d.repos.iter().zip(["base", "left", "right", "proj"]) {
        let want = if name == "left" {
            "v1.0.1"
        } else {
            "v1.0.1-rc0"
        };
        assert_eq!(repo.git_describe(), want, "{name}");
        if name != "left" {
            assert_eq!(
                git(&d.remote(name), &["tag", "-l", want]),
                want,
                "{name} pushed"
            );
        }
    }
}

#[test]
fn only_limits_the_stack() {
    let d = Diamond::new();
    let out = d.tag_all(&["--only", "base,proj"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "base v1.0.1-rc0\nproj v1.0.1-rc0\n");
    assert!(git(&d.repos[1].dir, &["tag", "-l", "v1.0.1-rc0"]).is_empty());
    let out = d.tag_all(&["--only", "base,nope"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains(
            "--only names nope not in the stack (its repositories: base, left, right, proj)"
        ),
        "{}",
        text(&out.stderr)
    );
}

// ---- --wait-images against a real registry ----

/// `proj -> base` with `pull = true`: proj requires `127.0.0.1:PORT/astro/base:<version>`,
/// which base's CI publishes.
fn chain_with_registry(tmp: &Path, registry: &str) -> Repo {
    let mut base = pushed_repo(tmp, "base", &[("src/x", "b")]);
    base.commit("work", &[("src/x", "more")]);
    base.git(&["push", "-q"]);
    let config = format!(
        "registry = \"{registry}/astro\"\n{}",
        config_with(tmp, &["base"]).replace("clone = true", "clone = true\npull = true")
    );
    let mut proj = pushed_repo(tmp, "proj", &[(".ciux.toml", &config), ("src/x", "p")]);
    proj.commit("work", &[("src/x", "more")]);
    proj.git(&["push", "-q"]);
    proj
}

#[test]
fn wait_images_tags_dependents_once_the_image_exists() {
    let registry = crate::common::registry::Registry::start();
    let tmp = tempfile::tempdir().unwrap();
    let proj = chain_with_registry(tmp.path(), &registry.addr);
    let image = format!("{}/astro/base:v1.0.1-rc0", registry.addr);

    let out = ciux(&proj.dir)
        .args(["tag", "--all", "--push", "--wait-images", "--dry-run"])
        .output()
        .unwrap();
    assert!(
        text(&out.stdout).contains(&format!("would wait for {image}")),
        "{}",
        text(&out.stdout)
    );

    let started = std::time::Instant::now();
    let out = std::thread::scope(|scope| {
        // base's "CI": publishes the image 1.5 s after the tag appears on its remote
        scope.spawn(|| {
            let remote = tmp.path().join("remotes/base.git");
            while git(&remote, &["tag", "-l", "v1.0.1-rc0"]).is_empty() {
                assert!(
                    started.elapsed().as_secs() < 60,
                    "the tag never reached the remote"
                );
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            std::thread::sleep(std::time::Duration::from_millis(1500));
            registry.push("astro/base", "v1.0.1-rc0", None);
        });
        ciux(&proj.dir)
            .args([
                "tag",
                "--all",
                "--push",
                "--wait-images",
                "--wait-timeout",
                "60",
            ])
            .output()
            .unwrap()
    });
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(started.elapsed().as_millis() >= 1500, "it did wait");
    let lines: Vec<&str> = stderr.lines().collect();
    let at = |prefix: &str| {
        lines
            .iter()
            .position(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("{prefix}: {stderr}"))
    };
    assert!(at("tagged base") < at(&format!("waiting for {image}")));
    assert!(
        at(&format!("found {image} (sha256:")) < at("tagged proj"),
        "{stderr}"
    );
    assert_eq!(
        git(
            &tmp.path().join("remotes/proj.git"),
            &["tag", "-l", "v1.0.1-rc0"]
        ),
        "v1.0.1-rc0"
    );
}

#[test]
fn wait_images_gives_up_after_the_timeout_and_tags_no_dependent() {
    let registry = crate::common::registry::Registry::start();
    let tmp = tempfile::tempdir().unwrap();
    let proj = chain_with_registry(tmp.path(), &registry.addr);
    let out = ciux(&proj.dir)
        .args([
            "tag",
            "--all",
            "--push",
            "--wait-images",
            "--wait-timeout",
            "1",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "{}/astro/base:v1.0.1-rc0 did not appear within",
            registry.addr
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains("base v1.0.1-rc0: tagged and pushed"),
        "{stderr}"
    );
    assert!(stderr.contains("proj v1.0.1-rc0: not tagged"), "{stderr}");
    assert!(git(&proj.dir, &["tag", "-l", "v1.0.1-rc0"]).is_empty());
    assert!(
        registry.requests("/v2/astro/base/manifests/v1.0.1-rc0") >= 2,
        "it polled"
    );

    let out = ciux(&proj.dir)
        .args(["tag", "--all", "--wait-images"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "--wait-images without --push is bad usage"
    );
}
