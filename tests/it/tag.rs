//! `ciux tag` on real repositories with a bare remote: the next version, every
//! refusal, dry runs that change nothing, pushes that land.

use std::path::{Path, PathBuf};

use crate::common::git::{Repo, git};
use crate::common::{Run, TestContext, ciux};

/// A project on `main` with `v1.2.3-rc4` one commit back, pushed to a bare
/// remote; the [`TestContext`] it lives in is reached through it.
pub(crate) struct Project {
    pub ctx: TestContext,
    pub bare: PathBuf,
}

impl std::ops::Deref for Project {
    type Target = TestContext;
    fn deref(&self) -> &TestContext {
        &self.ctx
    }
}

impl std::ops::DerefMut for Project {
    fn deref_mut(&mut self) -> &mut TestContext {
        &mut self.ctx
    }
}

pub(crate) fn bare_remote(path: &Path) -> PathBuf {
    std::fs::create_dir_all(path).unwrap();
    git(path, &["init", "-q", "--bare", "-b", "main"]);
    path.to_path_buf()
}

pub(crate) fn file_url(path: &Path) -> String {
    format!("file://{}", path.display())
}

fn project() -> Project {
    let mut ctx = TestContext::builder()
        .dir("proj")
        .message("one")
        .file("src/a.txt", "1\n")
        .tag("v1.2.3-rc4")
        .build();
    let bare = bare_remote(&ctx.root.join("remote.git"));
    let repo = &mut ctx.repo;
    repo.commit("two", &[("src/a.txt", "2\n")]);
    repo.git(&["remote", "add", "origin", &file_url(&bare)]);
    repo.git(&["push", "-q", "-u", "origin", "main", "--tags"]);
    Project { ctx, bare }
}

/// Every ref of a repository with its target: what must not change on refusal.
pub(crate) fn refs(dir: &Path) -> String {
    git(dir, &["for-each-ref", "--format=%(refname) %(objectname)"])
}

/// `ciux tag --create ARGS` (plain `ciux tag` only prints the commands).
fn tag(dir: &Path, args: &[&str]) -> std::process::Output {
    ciux(dir)
        .args(["tag", "--create"])
        .args(args)
        .output()
        .unwrap()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn creates_the_next_candidate_as_an_annotated_tag() {
    let p = project();
    let before_remote = refs(&p.bare);
    let out = tag(&p.repo.dir, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "v1.2.3-rc5\n");
    let dir = &p.repo.dir;
    assert_eq!(git(dir, &["cat-file", "-t", "v1.2.3-rc5"]), "tag");
    assert_eq!(
        git(dir, &["rev-parse", "v1.2.3-rc5^{commit}"]),
        p.repo.head()
    );
    assert_eq!(
        git(dir, &["tag", "-l", "--format=%(contents)", "v1.2.3-rc5"]),
        "Release v1.2.3-rc5\n"
    );
    assert_eq!(
        git(
            dir,
            &[
                "tag",
                "-l",
                "--format=%(taggername) %(taggeremail)",
                "v1.2.3-rc5"
            ]
        ),
        "Test Committer <committer@example.org>"
    );
    assert_eq!(p.repo.git_describe(), "v1.2.3-rc5");
    assert_eq!(
        refs(&p.bare),
        before_remote,
        "nothing pushed without --push"
    );
}

#[test]
fn bumps_and_message() {
    for (args, want) in [
        (&["--release"][..], "v1.2.3"),
        (&["--patch"][..], "v1.2.4"),
        (&["--minor"][..], "v1.3.0"),
        (&["--major", "-m", "Big one"][..], "v2.0.0"),
        (&["--rc"][..], "v1.2.3-rc5"),
    ] {
        let p = project();
        let out = tag(&p.repo.dir, args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        assert_eq!(
            String::from_utf8(out.stdout).unwrap(),
            format!("{want}\n"),
            "{args:?}"
        );
        let message = git(
            &p.repo.dir,
            &["tag", "-l", "--format=%(contents:subject)", want],
        );
        let expected = if args.contains(&"-m") {
            "Big one".to_owned()
        } else {
            format!("Release {want}")
        };
        assert_eq!(message, expected);
    }
}

#[test]
fn latest_reachable_release_counts_not_the_nearest_or_unreachable_ones() {
    let mut ctx = TestContext::builder()
        .dir("proj")
        .message("one")
        .file("a", "1")
        .tag("v1.2.3-rc9")
        .build();
    let repo = &mut ctx.repo;
    repo.commit("two", &[("a", "2")]);
    repo.tag("v1.2.3-rc10");
    repo.git(&["checkout", "-q", "-b", "other"]);
    repo.commit("elsewhere", &[("b", "1")]);
    repo.tag("v9.0.0");
    repo.git(&["checkout", "-q", "main"]);
    repo.commit("three", &[("a", "3")]);
    repo.lightweight_tag("v5.0.0");
    repo.commit("four", &[("a", "4")]);
    let out = tag(&repo.dir, &["--dry-run"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("tag v1.2.3-rc11 (after v1.2.3-rc10)"),
        "{text}"
    );
}

#[test]
fn first_release_candidate_without_tags() {
    let ctx = TestContext::builder()
        .dir("proj")
        .message("one")
        .file("a", "1")
        .build();
    let repo = &ctx.repo;
    let out = tag(&repo.dir, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "v0.1.0-rc0\n");
    let out = tag(&repo.dir, &["--release"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("already tagged v0.1.0-rc0"),
        "{}",
        stderr(&out)
    );
}

/// Each refusal exits 1 with its reason and leaves the refs of both repositories alone.
#[test]
fn refusals() {
    type Setup = fn(&mut Project, &Path);
    let cases: &[(&str, Setup, &[&str], &str)] = &[
        (
            "dirty",
            |p, _| p.repo.write("src/a.txt", "changed\n"),
            &[],
            "uncommitted changes",
        ),
        (
            "staged",
            |p, _| {
                p.repo.write("new.txt", "x");
                p.repo.git(&["add", "new.txt"]);
            },
            &[],
            "uncommitted changes",
        ),
        (
            "already tagged",
            |p, _| p.repo.tag("v1.2.3-rc5"),
            &["--patch"],
            "already tagged v1.2.3-rc5",
        ),
        (
            "exists locally",
            |p, _| {
                p.repo.git(&["tag", "v1.2.3-rc5", "HEAD~1"]);
            },
            &[],
            "tag v1.2.3-rc5 already exists locally",
        ),
        (
            "exists on the remote",
            |p, tmp| {
                let other = tmp.join("other");
                git(
                    tmp,
                    &[
                        "clone",
                        "-q",
                        &super::tag::file_url(&p.bare),
                        other.to_str().unwrap(),
                    ],
                );
                git(
                    &other,
                    &[
                        "-c",
                        "user.name=x",
                        "-c",
                        "user.email=x@x",
                        "tag",
                        "-a",
                        "-m",
                        "x",
                        "v1.2.3-rc5",
                    ],
                );
                git(&other, &["push", "-q", "origin", "v1.2.3-rc5"]);
            },
            &[],
            "already exists on the remote `origin`",
        ),
        (
            "feature branch",
            |p, _| {
                p.repo.git(&["checkout", "-q", "-b", "feature"]);
            },
            &[],
            "on branch `feature`: releases are cut from main or master",
        ),
        (
            "detached",
            |p, _| {
                p.repo.git(&["checkout", "-q", "--detach"]);
            },
            &[],
            "on a detached HEAD",
        ),
        (
            "release of a final",
            |p, _| {
                p.repo.commit("three", &[("b", "b")]);
                p.repo.tag("v1.2.3");
                p.repo.commit("four", &[("b", "c")]);
            },
            &["--release"],
            "v1.2.3 is already a final release",
        ),
        (
            "push without remote",
            |p, _| {
                p.repo.git(&["remote", "remove", "origin"]);
            },
            &["--push"],
            "has no remote to push the tag to",
        ),
    ];
    for (name, setup, args, reason) in cases {
        let mut p = project();
        let root = p.root.clone();
        setup(&mut p, &root);
        let (local, remote) = (refs(&p.repo.dir), refs(&p.bare));
        let out = tag(&p.repo.dir, args);
        assert_eq!(out.status.code(), Some(1), "{name}: {}", stderr(&out));
        assert!(stderr(&out).contains(reason), "{name}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("fix:"),
            "{name}: every refusal says what to do: {}",
            stderr(&out)
        );
        assert!(out.stdout.is_empty(), "{name}");
        assert_eq!(refs(&p.repo.dir), local, "{name}: local refs changed");
        assert_eq!(refs(&p.bare), remote, "{name}: remote refs changed");
    }
}

#[test]
fn allow_branch_tags_a_feature_branch() {
    let mut p = project();
    p.repo.git(&["checkout", "-q", "-b", "feature"]);
    let out = tag(&p.repo.dir, &["--allow-branch"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "v1.2.3-rc5\n");
}

#[test]
fn dry_run_changes_nothing() {
    let p = project();
    let (local, remote) = (refs(&p.repo.dir), refs(&p.bare));
    let out = tag(&p.repo.dir, &["--dry-run", "--push", "--minor"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    let short = &p.repo.head()[..7];
    assert!(
        text.contains(&format!(
            "(branch main, commit {short}) with annotated tag v1.3.0 (after v1.2.3-rc4)"
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "would push v1.3.0 to origin (file://{})",
            p.bare.display()
        )),
        "{text}"
    );
    assert_eq!(refs(&p.repo.dir), local);
    assert_eq!(refs(&p.bare), remote);
}

#[test]
fn push_lands_on_the_remote() {
    let p = project();
    let out = tag(&p.repo.dir, &["--push"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let local = git(&p.repo.dir, &["rev-parse", "refs/tags/v1.2.3-rc5"]);
    assert_eq!(git(&p.bare, &["rev-parse", "refs/tags/v1.2.3-rc5"]), local);
    assert_eq!(git(&p.bare, &["cat-file", "-t", "v1.2.3-rc5"]), "tag");
}

/// Without `git` on `PATH` the push cannot run: the error names the repository.
#[test]
fn push_without_git_names_the_repository() {
    let p = project();
    let before = refs(&p.bare);
    let empty = p.root.join("empty-path");
    std::fs::create_dir_all(&empty).unwrap();
    let out: Run = p
        .ciux()
        .env("PATH", &empty)
        .args(["tag", "--create", "--push"])
        .output()
        .unwrap()
        .into();
    let out = out.code(1);
    assert_eq!(
        out.error_line(),
        format!(
            "cannot run git in {} (is it installed and on PATH?)",
            p.dir().display()
        ),
        "{}",
        out.stderr
    );
    assert_eq!(refs(&p.bare), before, "nothing pushed");
}

#[test]
fn credentials_in_a_remote_url_never_reach_the_output() {
    let p = project();
    git(
        &p.repo.dir,
        &[
            "remote",
            "set-url",
            "origin",
            "http://ci-user:s3cr3t-token@127.0.0.1:9/r.git",
        ],
    );
    let out = tag(&p.repo.dir, &["--push"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("ls-remote"), "{err}");
    assert!(!err.contains("s3cr3t"), "{err}");
    let out = tag(&p.repo.dir, &["--push", "--dry-run"]);
    assert!(
        !stderr(&out).contains("s3cr3t")
            && !String::from_utf8_lossy(&out.stdout).contains("s3cr3t")
    );
}

/// With `tag.gpgSign`, the tag is made by `git tag -s`, so the user's signing
/// program runs; here a stand-in that writes a fixed signature.
#[test]
fn gpg_sign_delegates_to_git_tag_s() {
    let p = project();
    let signer = p.root.join("fake-gpg");
    std::fs::write(
        &signer,
        "#!/bin/sh\ncat >/dev/null\necho '[GNUPG:] SIG_CREATED D 1 8 00 0 0' >&2\nprintf -- '-----BEGIN PGP SIGNATURE-----\\nfake\\n-----END PGP SIGNATURE-----\\n'\n",
    )
    .unwrap();
    std::fs::set_permissions(&signer, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    git(&p.repo.dir, &["config", "tag.gpgSign", "true"]);
    git(
        &p.repo.dir,
        &["config", "gpg.program", signer.to_str().unwrap()],
    );
    git(&p.repo.dir, &["config", "user.signingKey", "test"]);
    let out = tag(&p.repo.dir, &["--dry-run"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("with signed tag v1.2.3-rc5"));
    let out = tag(&p.repo.dir, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let object = git(&p.repo.dir, &["cat-file", "-p", "v1.2.3-rc5"]);
    assert!(
        object.contains("-----BEGIN PGP SIGNATURE-----\nfake"),
        "{object}"
    );
    assert!(object.contains("Release v1.2.3-rc5"), "{object}");
}

#[test]
fn wait_images_needs_all() {
    let p = project();
    let out = tag(&p.repo.dir, &["--wait-images"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

#[test]
fn plain_tag_prints_the_commands_and_running_them_tags() {
    let mut p = project();
    let before = (refs(&p.repo.dir), refs(&p.bare));
    let out = ciux(&p.repo.dir).arg("tag").arg(".").output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(
        lines[0].starts_with("# next release of ")
            && lines[0].contains(": v1.2.3-rc5 (after v1.2.3-rc4)"),
        "{stdout}"
    );
    assert_eq!(
        &lines[1..],
        [
            "git tag -m 'Release v1.2.3-rc5' v1.2.3-rc5",
            "git push --tag"
        ]
    );
    assert_eq!(
        (refs(&p.repo.dir), refs(&p.bare)),
        before,
        "nothing created"
    );
    // What it prints is what a release procedure runs.
    let run = std::process::Command::new("sh")
        .arg("-c")
        .arg(&stdout)
        .current_dir(&p.repo.dir)
        .env("GIT_COMMITTER_NAME", "T")
        .env("GIT_COMMITTER_EMAIL", "t@example.org")
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert_eq!(p.repo.git_describe(), "v1.2.3-rc5");
    assert_eq!(git(&p.bare, &["tag", "-l", "v1.2.3-rc5"]), "v1.2.3-rc5");
    // From elsewhere, the commands name the repository.
    p.repo.commit("three", &[("src/a.txt", "3\n")]);
    let out = ciux(&p.root)
        .args(["tag", "--patch", "proj"])
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.contains(&format!(
            "git -C {} tag -m",
            p.repo.dir.canonicalize().unwrap().display()
        )),
        "{stdout}"
    );
}

/// A shallow clone (`git clone --depth 1`, GitHub's default checkout) and a
/// clone without tags are refused by every command that reads history, with the fix.
#[test]
fn shallow_and_tagless_clones_are_refused_with_the_fix() {
    let tmp = tempfile::tempdir().unwrap();
    let bare = bare_remote(&tmp.path().join("remote.git"));
    let mut repo = Repo::init(&tmp.path().join("proj"));
    repo.commit("one", &[("src/a.txt", "1\n")]);
    repo.tag("v0.2.0");
    repo.commit("two", &[("src/a.txt", "2\n")]);
    repo.commit("three", &[("src/a.txt", "3\n")]);
    repo.git(&["remote", "add", "origin", &file_url(&bare)]);
    repo.git(&["push", "-q", "-u", "origin", "main", "--tags"]);
    let shallow = tmp.path().join("shallow");
    git(
        tmp.path(),
        &[
            "clone",
            "-q",
            "--depth",
            "1",
            &file_url(&bare),
            shallow.to_str().unwrap(),
        ],
    );
    assert_eq!(
        git(&shallow, &["rev-parse", "--is-shallow-repository"]),
        "true"
    );
    let before = refs(&bare);
    for args in [
        &["tag"][..],
        &["tag", "--create"],
        &["tag", "--push"],
        &["tag", "--all"],
        &["tag", "--all", "--push"],
        &["get", "revision"],
        &["get", "image"],
        &["explain"],
        &["promote", "--dry-run"],
        &["check"],
    ] {
        let out = ciux(&shallow).args(args).output().unwrap();
        let err = stderr(&out);
        assert!(!out.status.success(), "{args:?} accepted a shallow clone");
        assert!(
            err.contains("shallow") || String::from_utf8_lossy(&out.stdout).contains("shallow"),
            "{args:?}: {err}"
        );
        if args[0] != "check" {
            assert!(err.contains("fetch-depth: 0"), "{args:?}: {err}");
        }
    }
    assert_eq!(refs(&bare), before, "nothing pushed");
    // Whole history, no tags: the remote's v0.2.0 is missing here.
    let tagless = tmp.path().join("tagless");
    git(
        tmp.path(),
        &[
            "clone",
            "-q",
            "--no-tags",
            &file_url(&bare),
            tagless.to_str().unwrap(),
        ],
    );
    for args in [&["tag"][..], &["tag", "--push"]] {
        let out = ciux(&tagless).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = stderr(&out);
        assert!(
            err.contains("lacks 1 version tag that the remote `origin` has (v0.2.0)")
                && err.contains("git fetch --tags"),
            "{err}"
        );
    }
    assert_eq!(refs(&bare), before, "nothing pushed");
    git(&tagless, &["fetch", "-q", "--tags"]);
    let out = ciux(&tagless).arg("tag").output().unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("v0.2.1-rc0 (after v0.2.0)"),
        "{}",
        stderr(&out)
    );
}
