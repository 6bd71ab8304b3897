//! What a user of the reference tool needs to switch: its commands, aliases and
//! flags exist here, and the real workflow's command lines run unchanged
//! against real repositories and a real registry.

use clap::CommandFactory;
use predicates::prelude::*;

use crate::common::engine::StandIn;
use crate::common::git::{Repo, git};
use crate::common::registry::Registry;
use crate::common::stack::Stack;
use crate::common::{TestContext, TestContextBuilder, ciux};

/// The reference tool's command tree (its cobra definitions): command paths,
/// aliases, and the flags each takes (short, long).
/// A command path and the (short, long) flags it takes.
type Entry = (&'static [&'static str], &'static [(char, &'static str)]);

const REFERENCE: &[Entry] = &[
    (&["completion"], &[]),
    (&["get"], &[]),
    (&["get", "clustername"], &[]),
    (&["get", "cn"], &[]),
    (&["get", "configpath"], &[('l', "selector")]),
    (&["get", "dependencies"], &[('l', "selector")]),
    (&["get", "deps"], &[('l', "selector")]),
    (
        &["get", "image"],
        &[
            ('c', "check"),
            ('p', "suffix"),
            ('t', "tmp-registry"),
            ('e', "env"),
        ],
    ),
    (&["get", "img"], &[('c', "check"), ('e', "env")]),
    (&["get", "revision"], &[('r', "isrelease")]),
    (&["get", "rev"], &[('r', "isrelease")]),
    (
        &["ignite"],
        &[
            ('m', "main"),
            ('b', "branch"),
            ('p', "suffix"),
            ('t', "tmp-registry"),
            ('l', "selector"),
        ],
    ),
    (&["ig"], &[]),
    (&["ign"], &[]),
    (&["ignite", "env"], &[('b', "branch")]),
    (&["image"], &[]),
    (
        &["image", "load"],
        &[
            ('r', "runner"),
            ('i', "image-url"),
            ('b', "build-status"),
            ('a', "artifact-path"),
        ],
    ),
    (&["image", "cleanup"], &[('m', "max-age"), ('p', "pattern")]),
    (&["tag"], &[]),
    (&["rel"], &[]),
];

fn find<'a>(cmd: &'a clap::Command, path: &[&str]) -> Option<&'a clap::Command> {
    let mut here = cmd;
    for name in path {
        here = here
            .get_subcommands()
            .find(|s| s.get_name() == *name || s.get_all_aliases().any(|a| a == *name))?;
    }
    Some(here)
}

#[test]
fn the_reference_command_tree_is_a_subset_of_ours() {
    let ours = ciux::cli::Cli::command();
    let mut missing = Vec::new();
    for (path, flags) in REFERENCE {
        let Some(cmd) = find(&ours, path) else {
            missing.push(path.join(" "));
            continue;
        };
        for (short, long) in *flags {
            let found = cmd
                .get_arguments()
                .any(|a| a.get_short() == Some(*short) && a.get_long() == Some(*long));
            if !found {
                missing.push(format!("{} -{short}/--{long}", path.join(" ")));
            }
        }
    }
    // The reference's global `-v N`.
    let globals = ours
        .get_arguments()
        .any(|a| a.get_long() == Some("verbosity"));
    assert!(globals && missing.is_empty(), "missing: {missing:?}");
}

/// A project `proj` whose first commit, `one`, holds `a`.
fn proj() -> TestContextBuilder {
    TestContext::builder()
        .dir("proj")
        .message("one")
        .file("a", "1")
}

#[test]
fn reference_spellings_run() {
    let ctx = proj().tag("v1.0.0").build();
    let dir = ctx.dir();
    let cn = ciux(dir)
        .args(["get", "cn", "."])
        .env("USER", "u")
        .output()
        .unwrap();
    let clustername = ciux(dir)
        .args(["get", "clustername"])
        .env("USER", "u")
        .output()
        .unwrap();
    assert!(cn.status.success());
    assert_eq!(cn.stdout, clustername.stdout);
    for v in [&["-v2"][..], &["-v", "2"], &["--verbosity", "0"], &["-vv"]] {
        ciux(dir)
            .args(v)
            .args(["get", "rev"])
            .assert()
            .success()
            .stdout("v1.0.0\n");
    }
    ciux(dir)
        .args(["completion", "bash"])
        .assert()
        .success()
        .stdout(predicate::str::contains("_ciux"));
}

#[test]
fn revision_isrelease_prints_only_an_exact_clean_release_on_main() {
    let mut ctx = proj().build();
    let repo = &mut ctx.repo;
    let isrelease = |repo: &Repo| {
        let out = ciux(&repo.dir)
            .args(["get", "revision", "-r", "."])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    assert_eq!(isrelease(repo), "", "no tag");
    repo.tag("v1.2.0");
    assert_eq!(isrelease(repo), "v1.2.0\n");
    repo.write("a", "dirty");
    assert_eq!(isrelease(repo), "", "dirty");
    repo.git(&["checkout", "-q", "--", "a"]);
    repo.git(&["checkout", "-q", "-b", "topic"]);
    assert_eq!(isrelease(repo), "", "not on main");
    repo.git(&["checkout", "-q", "main"]);
    repo.commit("two", &[("a", "2")]);
    assert_eq!(isrelease(repo), "", "past the tag");
}

#[test]
fn man_pages_for_every_command() {
    let tmp = tempfile::tempdir().unwrap();
    let out_dir = tmp.path().join("man");
    ciux(tmp.path())
        .args(["man", "--out-dir"])
        .arg(&out_dir)
        .assert()
        .success();
    for page in [
        "ciux.1",
        "ciux-image-load.1",
        "ciux-get-revision.1",
        "ciux-tag.1",
        "ciux-ignite-env.1",
    ] {
        let text = std::fs::read_to_string(out_dir.join(page)).unwrap_or_else(|_| panic!("{page}"));
        assert!(
            text.starts_with(".ie \\n(.g .ds Aq") || text.contains(".TH"),
            "{page}"
        );
    }
    let load = std::fs::read_to_string(out_dir.join("ciux-image-load.1")).unwrap();
    assert!(load.contains("artifact\\-path"), "{load}");
    ciux(tmp.path())
        .arg("man")
        .assert()
        .success()
        .stdout(predicate::str::contains(".TH ciux 1"));
}

#[test]
fn get_deps_says_when_the_checkout_is_on_another_branch() {
    let stack = Stack::new();
    let url = stack.remote("alpha", "main", &["feature"], None);
    let repo = stack.project(
        "feature",
        &format!("[[dependencies]]\nurl = \"{url}\"\nclone = true\n"),
    );
    ciux(&repo.dir).args(["ignite", "-q"]).assert().success();
    let sibling = stack.ws.join("alpha");
    assert_eq!(git(&sibling, &["branch", "--show-current"]), "feature");
    git(&sibling, &["checkout", "-q", "main"]);
    let out = ciux(&repo.dir).args(["get", "deps"]).output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.contains("git\talpha\tfeature\tv1.0.0 (checked out on main)\n"),
        "{stdout}"
    );
}

#[test]
fn ignite_env_rewrites_the_env_file_offline() {
    let stack = Stack::new();
    let url = stack.remote("alpha", "main", &[], None);
    let repo = stack.project(
        "main",
        &format!("[[dependencies]]\nurl = \"{url}\"\nclone = true\n"),
    );
    ciux(&repo.dir).args(["ignite", "-q"]).assert().success();
    let env_file = repo.dir.join(".ciux.d/ciux.sh");
    std::fs::remove_file(&env_file).unwrap();
    // The remote is gone: `ignite` would fail, `ignite env` does not ask it.
    std::fs::remove_dir_all(stack.remotes.join("alpha.git")).unwrap();
    ciux(&repo.dir).arg("ignite").assert().failure();
    ciux(&repo.dir)
        .args(["ignite", "env", "."])
        .assert()
        .success();
    let text = std::fs::read_to_string(&env_file).unwrap();
    assert!(text.contains("export ALPHA_DIR="), "{text}");
    assert!(
        text.contains("export ALPHA_VERSION='v1.0.0'")
            || text.contains("export ALPHA_VERSION=v1.0.0"),
        "{text}"
    );
}

/// The real workflow's command lines (the alert broker's e2e workflow),
/// run by bash with `ciux` on PATH against a stack of real repositories and
/// the real registry; the container engine is the stand-in of
/// `common::engine` (no engine can run here) and the archive is a real one
/// written by skopeo, as the build job's `docker save` would.
#[test]
fn the_real_workflow_command_lines_run_unchanged() {
    let registry = Registry::start();
    let stack = Stack::new();
    let dep = stack.remote("fink-alert-simulator", "master", &[], None);
    let config = format!(
        "project = \"fink-broker\"\nregistry = \"{}/astrolabsoftware\"\nsource_paths = [\"src\"]\n\
         [[dependencies]]\nurl = \"{dep}\"\nclone = true\nlabels = {{ itest = \"true\" }}\n",
        registry.addr
    );
    let mut repo = stack.project("main", &config);
    repo.tag("v3.1.0");
    repo.commit("sources", &[("src/main.py", "print(1)\n")]);
    let version = repo.git_describe();
    assert!(version.starts_with("v3.1.0-1-g"), "{version}");
    let engine = StandIn::new("docker");
    let layout = stack.ws.join("layout");
    crate::common::registry::write_layout(&layout, "v1", None);
    let ciux_bin = assert_cmd::cargo::cargo_bin("ciux");
    let script = format!(
        r#"set -euo pipefail
BRANCH=main
$(ciux get image --check $PWD --suffix "noscience" --env)
echo "built=$CIUX_BUILD url=$CIUX_IMAGE_URL"
if [ "$CIUX_BUILD" = true ]; then
  mkdir -p artifacts
  skopeo copy -q oci:{layout}:v1 "docker-archive:artifacts/image.tar:$CIUX_IMAGE_URL"
fi
ciux ignite --selector itest --branch="$BRANCH" $PWD --suffix "noscience"
. .ciux.d/ciux_itest.sh
cluster_name=$(ciux get clustername $PWD)
echo "cluster=$cluster_name"
ciux image load --runner "ubuntu-latest" --image-url "$CIUX_IMAGE_URL" --build-status "$CIUX_BUILD"
ciux image cleanup --max-age 5d --pattern fink-broker
ciux tag .
echo "dep_dir=$FINK_ALERT_SIMULATOR_DIR"
"#,
        layout = layout.display()
    );
    let run = |script: &str| {
        let cmd = ciux(&repo.dir);
        let out = std::process::Command::new("bash")
            .arg("-c")
            .arg(script)
            .current_dir(&repo.dir)
            .envs(
                cmd.get_envs()
                    .filter_map(|(k, v)| v.map(|v| (k.to_owned(), v.to_owned()))),
            )
            .env(
                "PATH",
                format!(
                    "{}:{}:{}",
                    ciux_bin.parent().unwrap().display(),
                    engine.dir.path().display(),
                    std::env::var("PATH").unwrap()
                ),
            )
            .env("CIUX_CONTAINER_ENGINE", engine.program())
            .env("USER", "runner")
            .env("DOCKER_CONFIG", repo.dir.join("no-docker-config"))
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, stdout, stderr) = run(&script);
    assert!(ok, "{stdout}\n{stderr}");
    let url = format!(
        "{}/astrolabsoftware/fink-broker-noscience:v3.1.0",
        registry.addr
    );
    assert!(
        stdout.contains(&format!("built=true url={url}")),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "loaded artifacts/image.tar (docker-archive) into docker: {url}"
        )),
        "{stdout}"
    );
    assert!(stdout.contains("cluster=runner-main-"), "{stdout}");
    assert!(
        stdout.contains("removed 0 matching fink-broker"),
        "{stdout}"
    );
    assert!(
        stdout.contains("git tag -m 'Release v3.1.1-rc0' v3.1.1-rc0\ngit push --tag\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "dep_dir={}",
            stack.ws.join("fink-alert-simulator").display()
        )),
        "{stdout}"
    );
    assert!(
        git(&repo.dir, &["tag", "-l", "v3.1.1-rc0"]).is_empty(),
        "ciux tag . creates nothing"
    );
    // Once the image is in the registry, the same lines use it and load nothing.
    registry.push("astrolabsoftware/fink-broker-noscience", &version, None);
    let (ok, stdout, stderr) = run(&script);
    assert!(ok, "{stdout}\n{stderr}");
    assert!(stdout.contains("built=false"), "{stdout}");
    assert!(
        stdout.contains(&format!("using the remote image {url}")),
        "{stdout}"
    );
    let loads = engine
        .calls()
        .iter()
        .filter(|c| c.starts_with("load"))
        .count();
    assert_eq!(loads, 1, "{:?}", engine.calls());
}
