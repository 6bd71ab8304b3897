//! Resolution: branch choice, sibling clones and in-place updates, the
//! transitive graph, network remotes.

use super::{Daemon, Stack, git_dep, run_ok, source};
use crate::common::ciux_offline as ciux;
use crate::common::git::{Repo, git};

#[test]
fn dependencies_use_the_same_branch_else_main_else_master() {
    let stack = Stack::new();
    let same = stack.remote("same", "main", &["feature"], None);
    let on_main = stack.remote("on-main", "main", &["master"], None);
    let on_master = stack.remote("on.master", "master", &[], None);
    let config = [
        git_dep(&same, false, ""),
        git_dep(&on_main, false, ""),
        git_dep(&on_master, false, ""),
    ]
    .concat();
    let repo = stack.project("feature", &config);
    let (_, stderr) =
        run_ok(ciux(&repo.dir).args(["ignite", "--format", "sh", "--format", "json"]));
    assert!(
        stderr.contains("branch main (fallback to main)"),
        "{stderr}"
    );
    let values = source(
        &repo.dir.join(".ciux.d/ciux.sh"),
        &[
            "SAME_WORKBRANCH",
            "ON_MAIN_WORKBRANCH",
            "ON_MASTER_WORKBRANCH",
        ],
        &stack.ws,
    );
    assert_eq!(values, ["feature", "main", "master"]);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(repo.dir.join(".ciux.d/ciux.json")).unwrap())
            .unwrap();
    let reasons: Vec<&str> = json["workspace"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["branch_reason"].as_str().unwrap())
        .collect();
    assert_eq!(
        reasons,
        [
            "checked_out",
            "same_branch",
            "fallback_main",
            "fallback_master"
        ]
    );
    // Not cloned: remote only, no _DIR or _VERSION.
    assert!(!stack.ws.join("same").exists());
    assert_eq!(json["env"].get("SAME_DIR"), None);

    // `--branch` overrides the checked-out branch.
    run_ok(ciux(&repo.dir).args(["ignite", "-b", "main"]));
    let values = source(
        &repo.dir.join(".ciux.d/ciux.sh"),
        &["PROJ_WORKBRANCH", "SAME_WORKBRANCH"],
        &stack.ws,
    );
    assert_eq!(values, ["main", "main"]);
}

#[test]
fn a_dependency_without_any_usable_branch_is_named() {
    let stack = Stack::new();
    let url = stack.remote("lonely", "dev", &[], None);
    let repo = stack.project("feature", &git_dep(&url, true, ""));
    let out = ciux(&repo.dir).arg("ignite").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("dependency lonely") && stderr.contains("feature, main, master"),
        "{stderr}"
    );
}

#[test]
fn detached_head_uses_github_variables() {
    let stack = Stack::new();
    let url = stack.remote("dep", "main", &["pr-branch"], None);
    let mut repo = stack.project("main", &git_dep(&url, false, ""));
    repo.git(&["checkout", "-q", "--detach"]);
    run_ok(
        ciux(&repo.dir)
            .arg("ignite")
            .env("GITHUB_HEAD_REF", "pr-branch")
            .env("GITHUB_REF_NAME", "12/merge"),
    );
    let values = source(
        &repo.dir.join(".ciux.d/ciux.sh"),
        &["PROJ_WORKBRANCH", "DEP_WORKBRANCH"],
        &stack.ws,
    );
    assert_eq!(values, ["pr-branch", "pr-branch"]);
    run_ok(
        ciux(&repo.dir)
            .arg("ignite")
            .env("GITHUB_HEAD_REF", "")
            .env("GITHUB_REF_NAME", "main"),
    );
    let values = source(
        &repo.dir.join(".ciux.d/ciux.sh"),
        &["PROJ_WORKBRANCH", "DEP_WORKBRANCH"],
        &stack.ws,
    );
    assert_eq!(values, ["main", "main"]);
}

#[test]
fn siblings_are_cloned_then_used_in_place() {
    let stack = Stack::new();
    let a = stack.remote("a", "main", &["feature"], None);
    let b = stack.remote("b", "main", &[], None);
    let repo = stack.project(
        "feature",
        &[git_dep(&a, true, ""), git_dep(&b, true, "")].concat(),
    );
    let (_, stderr) = run_ok(ciux(&repo.dir).arg("ignite"));
    assert!(
        stderr.contains("a: cloned") && stderr.contains("b: cloned"),
        "{stderr}"
    );
    assert_eq!(
        git(&stack.ws.join("a"), &["rev-parse", "--abbrev-ref", "HEAD"]),
        "feature"
    );
    assert_eq!(
        git(&stack.ws.join("b"), &["rev-parse", "--abbrev-ref", "HEAD"]),
        "main"
    );
    let file = repo.dir.join(".ciux.d/ciux.sh");
    let values = source(&file, &["A_DIR", "B_VERSION"], &stack.ws);
    assert_eq!(values, [stack.ws.join("a").to_str().unwrap(), "v1.0.0"]);

    // Re-run: opened in place, not re-cloned (an untracked file survives).
    std::fs::write(stack.ws.join("a/marker"), "x").unwrap();
    let (_, stderr) = run_ok(ciux(&repo.dir).arg("ignite"));
    assert!(!stderr.contains("cloning"), "{stderr}");
    assert!(
        stderr.contains("a  v1.0.0-1-g") && stderr.contains("in place"),
        "{stderr}"
    );
    assert!(stack.ws.join("a/marker").exists());

    // The remote moved: a clean in-place sibling is fetched and fast-forwarded.
    stack.advance("b", "main");
    let (_, stderr) = run_ok(ciux(&repo.dir).arg("ignite"));
    assert!(stderr.contains("in place, updated"), "{stderr}");
    assert_eq!(
        source(&file, &["B_VERSION"], &stack.ws)[0]
            .split('-')
            .nth(1),
        Some("1")
    );

    // A dirty in-place sibling is left alone, with a warning.
    stack.advance("b", "main");
    std::fs::write(stack.ws.join("b/README"), "local change").unwrap();
    let before = git(&stack.ws.join("b"), &["rev-parse", "HEAD"]);
    let (_, stderr) = run_ok(ciux(&repo.dir).arg("ignite"));
    assert!(
        stderr.contains("uncommitted changes") && stderr.contains("dirty: left alone"),
        "{stderr}"
    );
    assert_eq!(git(&stack.ws.join("b"), &["rev-parse", "HEAD"]), before);
    assert!(source(&file, &["B_VERSION"], &stack.ws)[0].ends_with("-dirty"));
}

#[test]
fn transitive_dependencies_join_and_cycles_are_errors() {
    let stack = Stack::new();
    let leaf = stack.remote("leaf", "main", &[], None);
    let mid = stack.remote(
        "mid",
        "main",
        &[],
        Some(&git_dep(&leaf, true, "itest = \"true\"")),
    );
    let repo = stack.project("main", &git_dep(&mid, true, "itest = \"true\""));
    run_ok(ciux(&repo.dir).args(["ignite", "-l", "itest", "--format", "json"]));
    assert!(
        stack.ws.join("leaf/.git").exists(),
        "the transitive dependency is cloned as a sibling"
    );
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo.dir.join(".ciux.d/ciux_itest.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        json["workspace"]["edges"],
        serde_json::json!([{"from": "proj", "to": "mid"}, {"from": "mid", "to": "leaf"}])
    );
    assert_eq!(json["env"]["LEAF_VERSION"], "v1.0.0");

    // The selector applies at every level.
    let (stdout, _) = run_ok(ciux(&repo.dir).args(["get", "deps", "-l", "itest!=true"]));
    assert_eq!(stdout, "");

    // leaf -> proj closes a cycle.
    let cyclic = stack.remote(
        "c1",
        "main",
        &[],
        Some(&git_dep(
            &format!("file://{}/proj", stack.ws.display()),
            false,
            "",
        )),
    );
    let repo2 = {
        let mut r = Repo::init(&stack.ws.join("proj2"));
        r.commit("initial", &[(".ciux.toml", &git_dep(&cyclic, true, ""))]);
        r
    };
    std::fs::rename(&repo.dir, stack.ws.join("proj-old")).unwrap();
    std::fs::rename(&repo2.dir, &repo.dir).unwrap();
    let out = ciux(&repo.dir).arg("ignite").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("error: dependency cycle: proj -> c1 -> proj"),
        "{stderr}"
    );
}

#[test]
fn network_remotes_go_through_the_git_cli() {
    let stack = Stack::new();
    stack.remote("netdep", "main", &["feature"], None);
    let daemon = Daemon::start(&stack.remotes);
    let url = format!("git://127.0.0.1:{}/netdep.git", daemon.port);
    let repo = stack.project("feature", &git_dep(&url, true, ""));
    run_ok(ciux(&repo.dir).arg("ignite"));
    let values = source(
        &repo.dir.join(".ciux.d/ciux.sh"),
        &["NETDEP_WORKBRANCH", "NETDEP_VERSION"],
        &stack.ws,
    );
    assert_eq!(values[0], "feature");
    assert!(values[1].starts_with("v1.0.0-1-g"), "{values:?}");
}

#[test]
fn credentials_in_urls_never_reach_the_output() {
    let stack = Stack::new();
    // Nothing listens on this port: listing fails, and the message names the URL.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://user:s3cr3t-token@127.0.0.1:{port}/team/dep.git");
    let repo = stack.project("main", &git_dep(&url, true, ""));
    let out = ciux(&repo.dir).args(["-vv", "ignite"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(
        stderr.contains(&format!("http://127.0.0.1:{port}/team/dep.git")),
        "{stderr}"
    );
    assert!(
        !stderr.contains("s3cr3t") && !stdout.contains("s3cr3t"),
        "{stderr}"
    );
}

#[test]
fn in_place_siblings_follow_the_branch_and_diverged_ones_are_left_alone() {
    let stack = Stack::new();
    let a = stack.remote("a", "main", &["feature"], None);
    let repo = stack.project("feature", &git_dep(&a, true, ""));
    run_ok(ciux(&repo.dir).arg("ignite"));
    let sibling = stack.ws.join("a");
    assert_eq!(
        git(&sibling, &["rev-parse", "--abbrev-ref", "HEAD"]),
        "feature"
    );

    // The project moves to main: the clean sibling follows.
    let (_, stderr) = run_ok(ciux(&repo.dir).args(["ignite", "-b", "main"]));
    assert!(stderr.contains("in place, updated"), "{stderr}");
    assert_eq!(
        git(&sibling, &["rev-parse", "--abbrev-ref", "HEAD"]),
        "main"
    );
    assert_eq!(
        git(&sibling, &["rev-parse", "HEAD"]),
        git(&stack.remotes.join("a.git"), &["rev-parse", "main"])
    );

    // A local commit and a new remote commit: no fast-forward, left alone.
    let mut local = Repo {
        dir: sibling.clone(),
        clock: 1_900_000_000,
    };
    local.commit("local work", &[("local", "1")]);
    let mine = local.head();
    stack.advance("a", "main");
    let (_, stderr) = run_ok(ciux(&repo.dir).args(["ignite", "-b", "main"]));
    assert!(
        stderr.contains("local commits") && stderr.contains("diverged: left alone"),
        "{stderr}"
    );
    assert_eq!(local.head(), mine);
}
#[test]
fn a_sibling_depending_on_the_project_by_directory_is_a_cycle() {
    let stack = Stack::new();
    let back = format!("file://{}/proj", stack.ws.display());
    let c1 = stack.remote("c1", "main", &[], Some(&git_dep(&back, true, "")));
    // The `project` key differs from the directory name: the project is still one node.
    let config = format!("project = \"Renamed\"\n{}", git_dep(&c1, true, ""));
    let mut repo = stack.project("main", &config);
    repo.git(&["checkout", "-q", "-b", "other"]);
    let out = ciux(&repo.dir).arg("ignite").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("error: dependency cycle: Renamed -> c1 -> Renamed"),
        "{stderr}"
    );
    assert_eq!(
        git(&repo.dir, &["rev-parse", "--abbrev-ref", "HEAD"]),
        "other",
        "the project is never checked out"
    );
}
