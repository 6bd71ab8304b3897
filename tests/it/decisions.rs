//! One image decision per workspace, shown the same by every command: `ignite`,
//! `plan`, `explain` and `get image` run on one workspace against a real
//! registry, and what each says of the project image and of the images the
//! dependencies must have is compared.

use std::collections::BTreeSet;
use std::path::Path;

use crate::common::git::{Repo, git};
use crate::common::registry::Registry;
use crate::image::{check_env, project, run};

/// A bare remote `remotes/<name>.git` holding one commit tagged `tag`.
fn remote(tmp: &Path, name: &str, tag: &str) -> String {
    let mut src = Repo::init(&tmp.join(format!("src-{name}")));
    src.commit(name, &[("a", name)]);
    src.tag(tag);
    let bare = tmp.join(format!("remotes/{name}.git"));
    git(
        tmp,
        &[
            "clone",
            "-q",
            "--bare",
            src.dir.to_str().unwrap(),
            bare.to_str().unwrap(),
        ],
    );
    format!("file://{}", bare.display())
}

fn json(out: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// The images a failing command lists as missing (the indented lines after
/// "required image(s) missing").
fn missing_in(stderr: &[u8]) -> BTreeSet<String> {
    let text = String::from_utf8_lossy(stderr);
    let Some((_, list)) = text.split_once("required image(s) missing from the registry:") else {
        return BTreeSet::new();
    };
    list.lines()
        .filter_map(|l| l.strip_prefix("  "))
        .map(|l| l.trim().to_owned())
        .collect()
}

#[test]
fn every_command_shows_the_same_decisions() {
    let registry = Registry::start();
    let addr = registry.addr.clone();
    let tmp = tempfile::tempdir().unwrap();
    let found = remote(tmp.path(), "found", "v0.3.0");
    let absent = remote(tmp.path(), "absent", "v0.4.0");
    let extra = format!(
        "\n[[dependencies]]\nurl = \"{found}\"\nclone = true\npull = true\n\
         \n[[dependencies]]\nurl = \"{absent}\"\nclone = true\npull = true\n\
         \n[[dependencies]]\nimage = \"{addr}/astro/base:1.0\"\n\
         \n[[dependencies]]\nimage = \"{addr}/astro/gone:2.0\"\n"
    );
    let repo = project(tmp.path(), &format!("{addr}/astro"), &extra);
    let project_digest = registry.push("astro/demo", "v1.0.0", None);
    let found_digest = registry.push("astro/found", "v0.3.0", None);
    let base_digest = registry.push("astro/base", "1.0", None);
    let missing: BTreeSet<String> = [
        format!("{addr}/astro/absent:v0.4.0"),
        format!("{addr}/astro/gone:2.0"),
    ]
    .into();

    // ignite: fails on exactly the two missing images.
    let ignite = run(&repo.dir, &["ignite", "--format", "json"]);
    assert_eq!(ignite.status.code(), Some(1));
    assert_eq!(missing_in(&ignite.stderr), missing);

    // plan: the same failure, after showing each decision.
    let plan = run(&repo.dir, &["plan", "--format", "json"]);
    assert_eq!(plan.status.code(), Some(1), "plan fails where ignite fails");
    assert_eq!(missing_in(&plan.stderr), missing);
    let plan = json(&plan);
    let component = |name: &str| {
        plan["components"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("no component {name} in {plan}"))
            .clone()
    };
    let shown_missing: BTreeSet<String> = plan["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["missing"] == true)
        .map(|c| c["image_url"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(shown_missing, missing);
    let dep = component("found");
    assert_eq!(
        (&dep["pull"], &dep["missing"], &dep["digest"]),
        (
            &serde_json::json!(true),
            &serde_json::json!(false),
            &serde_json::json!(found_digest)
        )
    );
    assert_eq!(dep["image_url"], format!("{addr}/astro/found:v0.3.0"));
    let base = component(&format!("{addr}/astro/base:1.0"));
    assert_eq!(base["digest"], base_digest);
    assert_eq!(base["pull"], true);
    let proj = component("demo");
    assert_eq!(proj["digest"], project_digest);
    assert_eq!(proj["build"], false);
    assert_eq!(proj["image_url"], format!("{addr}/astro/demo:v1.0.0"));

    // explain and get image: the same project decision.
    let explain = run(&repo.dir, &["explain", "--format", "json"]);
    assert!(explain.status.success());
    let explain = json(&explain);
    assert_eq!(explain["decision"]["digest"], project_digest);
    assert_eq!(explain["decision"]["url"], proj["image_url"]);
    assert_eq!(explain["decision"]["build"], false);
    let env = check_env(&repo.dir, &[]);
    assert_eq!(env["CIUX_IMAGE_DIGEST"], project_digest);
    assert_eq!(env["CIUX_BUILD"], "false");
    assert_eq!(env["CIUX_IMAGE_URL"], proj["image_url"].as_str().unwrap());

    // Once the missing images exist, ignite and plan succeed and still agree.
    registry.push("astro/absent", "v0.4.0", None);
    registry.push("astro/gone", "2.0", None);
    let ignite = run(&repo.dir, &["ignite", "--format", "json"]);
    assert!(
        ignite.status.success(),
        "{}",
        String::from_utf8_lossy(&ignite.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(repo.dir.join(".ciux.d/ciux.json")).unwrap())
            .unwrap();
    assert_eq!(report["image"]["digest"], project_digest);
    let plan = run(&repo.dir, &["plan", "--format", "json"]);
    assert!(plan.status.success());
    let plan = json(&plan);
    for c in plan["components"].as_array().unwrap() {
        assert_eq!(c["missing"], false, "{c}");
        if c["name"] == "demo" {
            assert_eq!(c["digest"], report["image"]["digest"]);
            assert_eq!(c["image_url"], report["image"]["url"]);
        }
    }
}
