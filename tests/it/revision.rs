//! `ciux get revision` and the describe library, checked against
//! `git describe --always --abbrev=7 --dirty` on recipes and random histories.

use std::collections::HashSet;
use std::path::Path;

use ciux::git::{Describer, Repo as GitRepo, describe_commit};

use crate::common::git::{Repo, git, git_describe_semver};
use crate::common::{Run, TestContext, TestContextBuilder, ciux, recipe};

/// A repository whose first commit, `one`, holds `a`.
fn one_commit() -> TestContextBuilder {
    TestContext::builder().message("one").file("a", "1")
}

fn ciux_revision(dir: &Path) -> String {
    let out = ciux(dir).args(["get", "revision"]).output().unwrap();
    assert!(
        out.status.success(),
        "ciux get revision failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "nothing on stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn revision_matches_git_describe_on_recipes() {
    for name in ["merge-heavy", "no-tags"] {
        let tmp = tempfile::tempdir().unwrap();
        let repo = recipe::build(name, &tmp.path().join(name));
        assert_eq!(
            ciux_revision(&repo.dir),
            format!("{}\n", repo.git_describe()),
            "{name}"
        );
    }
}

#[test]
fn merge_heavy_recipe_has_the_expected_version() {
    // Pinned dates make the hash stable: a change here means describe changed.
    let tmp = tempfile::tempdir().unwrap();
    let repo = recipe::build("merge-heavy", tmp.path());
    let version = ciux_revision(&repo.dir);
    assert!(version.starts_with("v1.1.0-rc0-5-g"), "{version}");
}

#[test]
fn dirty_detached_and_subdirectory() {
    let mut ctx = TestContext::builder()
        .message("one")
        .file("src/a.txt", "1")
        .tag("v0.1.0")
        .build();
    let repo = &mut ctx.repo;
    let second = repo.commit("two", &[("src/a.txt", "2")]);

    // An untracked file does not make the tree dirty.
    repo.write("untracked.txt", "x");
    assert_eq!(
        ciux_revision(&repo.dir),
        format!("{}\n", repo.git_describe())
    );
    assert!(!repo.git_describe().ends_with("-dirty"));

    // A modified tracked file does; so does a staged one; any directory works.
    repo.write("src/a.txt", "3");
    let expected = repo.git_describe();
    assert!(expected.ends_with("-dirty"), "{expected}");
    assert_eq!(
        ciux_revision(&repo.dir.join("src")),
        format!("{expected}\n")
    );
    repo.git(&["add", "src/a.txt"]);
    assert_eq!(
        ciux_revision(&repo.dir),
        format!("{}\n", repo.git_describe())
    );
    repo.git(&["reset", "-q", "--hard"]);

    // Detached HEAD on the tag, then on the second commit.
    repo.git(&["checkout", "-q", "v0.1.0"]);
    assert_eq!(ciux_revision(&repo.dir), "v0.1.0\n");
    repo.git(&["checkout", "-q", &second]);
    assert_eq!(
        ciux_revision(&repo.dir),
        format!("{}\n", repo.git_describe())
    );
}

#[test]
fn lightweight_and_non_semver_tags_are_ignored() {
    let mut ctx = one_commit().tag("v1.0.0").build();
    let repo = &mut ctx.repo;
    repo.commit("two", &[("a", "2")]);
    repo.lightweight_tag("v2.0.0");
    repo.tag("nightly");
    repo.tag("v3");
    let version = ciux_revision(&repo.dir);
    assert!(version.starts_with("v1.0.0-1-g"), "{version}");
}

#[test]
fn newest_tagger_date_wins_on_one_commit() {
    let mut ctx = one_commit().build();
    let repo = &mut ctx.repo;
    // The clock advances: v1.0.0-rc1 is tagged after v1.0.0 and wins, as in git.
    repo.tag("v1.0.0");
    repo.tag("v1.0.0-rc1");
    assert_eq!(
        ciux_revision(&repo.dir),
        format!("{}\n", repo.git_describe())
    );
    assert_eq!(repo.git_describe(), "v1.0.0-rc1");
}

#[test]
fn outside_a_repository_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let out: Run = ciux(tmp.path())
        .args(["get", "revision"])
        .output()
        .unwrap()
        .into();
    let out = out.code(1);
    assert!(out.stderr.starts_with("error: "), "{}", out.stderr);
    assert!(
        out.stderr.contains("is not inside a git repository"),
        "{}",
        out.stderr
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn shallow_clone_fails_with_the_fix_unless_head_is_tagged() {
    let tmp = tempfile::tempdir().unwrap();
    let mut origin = Repo::init(&tmp.path().join("origin"));
    origin.commit("one", &[("a", "1")]);
    origin.tag("v1.0.0");
    origin.commit("two", &[("a", "2")]);
    let url = format!("file://{}", origin.dir.display());

    let shallow = tmp.path().join("shallow");
    git(
        tmp.path(),
        &[
            "clone",
            "-q",
            "--depth",
            "1",
            &url,
            shallow.to_str().unwrap(),
        ],
    );
    let out = ciux(&shallow).args(["get", "revision"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "no wrong version on stdout");
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("shallow clone"), "{stderr}");
    assert!(stderr.contains("fetch-depth: 0"), "{stderr}");
    assert!(stderr.contains("git fetch --unshallow --tags"), "{stderr}");

    // Once deepened, the version is exact.
    git(&shallow, &["fetch", "-q", "--unshallow", "--tags"]);
    assert_eq!(
        ciux_revision(&shallow),
        format!("{}\n", origin.git_describe())
    );

    // A shallow clone of a tagged commit is exact: the tag itself.
    let tagged = tmp.path().join("tagged");
    git(
        tmp.path(),
        &[
            "clone",
            "-q",
            "--depth",
            "1",
            "--branch",
            "v1.0.0",
            &url,
            tagged.to_str().unwrap(),
        ],
    );
    assert_eq!(ciux_revision(&tagged), "v1.0.0\n");
}

/// The abbreviation grows past 7 digits when another object shares the prefix,
/// as git's does. A commit whose id collides with one of 2,000 blobs on 7 hex
/// digits is found by hashing candidate commits without writing them.
#[test]
fn abbreviation_is_unique_beyond_seven_digits() {
    let ctx = TestContext::builder()
        .message("base")
        .file("a", "1")
        .tag("v1.0.0")
        .build();
    let repo = &ctx.repo;
    let g = git2::Repository::open(&repo.dir).unwrap();
    let mut prefixes = HashSet::new();
    for i in 0..2000 {
        let blob = g.blob(format!("blob {i}\n").as_bytes()).unwrap();
        prefixes.insert(blob.to_string()[..7].to_owned());
    }
    let head = g.head().unwrap().peel_to_commit().unwrap();
    let tree = head.tree_id();
    let mut found = None;
    for n in 0u64..10_000_000 {
        let body = format!(
            "tree {tree}\nparent {}\nauthor A <a@example.org> 1704067200 +0000\ncommitter A <a@example.org> 1704067200 +0000\n\ncollide {n}\n",
            head.id()
        );
        let id = git2::Oid::hash_object(git2::ObjectType::Commit, body.as_bytes()).unwrap();
        if prefixes.contains(&id.to_string()[..7]) {
            let written = g
                .odb()
                .unwrap()
                .write(git2::ObjectType::Commit, body.as_bytes())
                .unwrap();
            assert_eq!(written, id);
            found = Some(id);
            break;
        }
    }
    let id = found.expect("a colliding commit within the search bound");
    git(
        &repo.dir,
        &["update-ref", "refs/heads/main", &id.to_string()],
    );
    let expected = repo.git_describe();
    assert!(expected.len() > "v1.0.0-1-g".len() + 7, "{expected}");
    assert_eq!(ciux_revision(&repo.dir), format!("{expected}\n"));
}

/// A tiny deterministic generator (SplitMix64), so failures replay by seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// Build a random history: branches, merges (no conflicts: each commit writes
/// its own file), committer dates that go backwards or repeat, annotated semver
/// tags (sometimes two on one commit), lightweight and non-semver noise tags.
fn random_history(dir: &Path, seed: u64, steps: usize) -> Repo {
    let mut rng = Rng(seed);
    let mut repo = Repo::init(dir);
    let mut branches = vec!["main".to_owned()];
    let mut current = 0;
    let mut date = crate::common::git::EPOCH;
    let mut tags = 0;
    repo.git_dated(date, &["commit", "-q", "--allow-empty", "-m", "root"]);
    for step in 0..steps {
        // Dates mostly advance, sometimes repeat (ties), sometimes go back.
        date = match rng.below(10) {
            0 => date,
            1 => date - rng.below(5000) as i64,
            _ => date + 1 + rng.below(600) as i64,
        };
        match rng.below(100) {
            0..=44 => {
                repo.write(&format!("f{step}.txt"), &step.to_string());
                repo.git_dated(date, &["add", "-A"]);
                repo.git_dated(date, &["commit", "-q", "-m", &format!("c{step}")]);
            }
            45..=54 => {
                let name = format!("b{step}");
                repo.git_dated(date, &["checkout", "-q", "-b", &name]);
                branches.push(name);
                current = branches.len() - 1;
            }
            55..=66 => {
                current = rng.below(branches.len() as u64) as usize;
                repo.git_dated(date, &["checkout", "-q", &branches[current]]);
            }
            67..=69 if branches.len() > 2 => {
                // An octopus merge (three or more parents); abandoned if git refuses.
                let a = rng.below(branches.len() as u64) as usize;
                let b = rng.below(branches.len() as u64) as usize;
                if a != current && b != current && a != b {
                    let merged = repo.try_git_dated(
                        date,
                        &[
                            "merge",
                            "-q",
                            "--no-ff",
                            "--no-edit",
                            &branches[a],
                            &branches[b],
                        ],
                    );
                    if !merged {
                        repo.try_git_dated(date, &["merge", "--abort"]);
                    }
                }
            }
            67..=79 => {
                let other = rng.below(branches.len() as u64) as usize;
                if other != current {
                    let ff = if rng.chance(20) { "--ff" } else { "--no-ff" };
                    repo.git_dated(date, &["merge", "-q", ff, "--no-edit", &branches[other]]);
                }
            }
            80..=91 => {
                tags += 1;
                let prefix = ["v", "", "release"][rng.below(3) as usize];
                let pre = if rng.chance(40) {
                    format!("-rc{}", rng.below(5))
                } else {
                    String::new()
                };
                let name = format!("{prefix}{}.{}.{tags}{pre}", rng.below(3), rng.below(10));
                repo.git_dated(
                    date + rng.below(100) as i64,
                    &["tag", "-a", &name, "-m", &name],
                );
            }
            92..=95 => {
                repo.git_dated(date, &["tag", &format!("lw{step}")]);
            }
            _ => {
                repo.git_dated(
                    date,
                    &["tag", "-a", &format!("build-{step}"), "-m", "noise"],
                );
            }
        }
    }
    repo
}

#[test]
fn describe_matches_git_on_random_histories() {
    let mut compared = 0;
    for seed in 1..=10u64 {
        let tmp = tempfile::tempdir().unwrap();
        let repo = random_history(tmp.path(), seed, 60 + 15 * seed as usize);
        // Half the histories carry a commit-graph file (as after `git gc`),
        // some as a split chain, so both ways of reading commits are compared.
        match seed % 4 {
            1 => {
                git(&repo.dir, &["commit-graph", "write", "--reachable"]);
            }
            3 => {
                git(
                    &repo.dir,
                    &["commit-graph", "write", "--reachable", "--split"],
                );
                repo.write("late.txt", "after the graph");
                git(&repo.dir, &["add", "late.txt"]);
                git(&repo.dir, &["commit", "-q", "-m", "not in the graph yet"]);
                git(
                    &repo.dir,
                    &["commit-graph", "write", "--reachable", "--split=no-merge"],
                );
            }
            2 => {
                // A graph, then commits it does not hold (their parents it does).
                git(&repo.dir, &["commit-graph", "write", "--reachable"]);
                for n in 0..3 {
                    repo.write(&format!("after{n}.txt"), "after the graph");
                    git(&repo.dir, &["add", "-A"]);
                    git(&repo.dir, &["commit", "-q", "-m", "after the graph"]);
                }
            }
            _ => {}
        }
        // Packed objects (some commits as deltas) are read from the packs,
        // loose ones through libgit2: both without a graph at seeds 4 and 8.
        match seed % 4 {
            0 => {
                git(
                    &repo.dir,
                    &["repack", "-q", "-a", "-d", "-f", "--window=250"],
                );
            }
            2 => {
                git(&repo.dir, &["repack", "-q", "-d"]);
            }
            _ => {}
        }
        // Packed tags carry their peeled commit; loose ones are read as objects.
        if seed % 3 == 0 {
            git(&repo.dir, &["pack-refs", "--all"]);
        }
        let ours = GitRepo::discover(&repo.dir).unwrap();
        let commits = git(&repo.dir, &["rev-list", "--all"]);
        let commits: Vec<&str> = commits.lines().collect();
        let expected = git_describe_semver(&repo.dir, &commits.join(" "), false);
        for (commit, expected) in commits.iter().zip(expected.lines()) {
            let id = git2::Oid::from_str(commit).unwrap();
            let actual = describe_commit(&ours, id).unwrap().to_string();
            assert_eq!(actual, expected, "seed {seed}, commit {commit}");
            compared += 1;
        }
        // One describer for every commit of the run, oldest first (ids are
        // assigned as commits are met, so the order matters): the same answers.
        let mut describer = Describer::new(&ours).unwrap();
        let expected: Vec<&str> = expected.lines().collect();
        for (commit, expected) in commits.iter().zip(expected).rev() {
            let id = git2::Oid::from_str(commit).unwrap();
            let actual = describer.describe(id).unwrap().to_string();
            assert_eq!(
                actual, expected,
                "one describer, seed {seed}, commit {commit}"
            );
        }
        // And through the CLI on HEAD, clean then dirty.
        assert_eq!(
            ciux_revision(&repo.dir),
            format!("{}\n", repo.git_describe()),
            "seed {seed}"
        );
        repo.write("root-file.txt", "tracked now");
        git(&repo.dir, &["add", "root-file.txt"]);
        assert_eq!(
            ciux_revision(&repo.dir),
            format!("{}\n", repo.git_describe()),
            "seed {seed}"
        );
    }
    assert!(compared > 500, "compared {compared} commits");
}
