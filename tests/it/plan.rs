//! `ciux plan` end to end: bare "remotes" reached by `file://` URL, siblings
//! cloned as `ignite` does, every format, and the GitHub files read back the
//! way the runner reads them.

use crate::common::ciux_offline as ciux;
use crate::common::git::Repo;

pub(crate) use crate::common::stack::Stack;

pub(crate) fn git_dep(url: &str, extra: &str) -> String {
    format!(
        "[[dependencies]]\nurl = \"{url}\"\nclone = true\nlabels = {{ ci = \"true\" }}\n{extra}\n"
    )
}

/// A diamond: proj -> lib -> base, proj -> base, plus an image. The project is
/// on `feature-x`, which no dependency has.
fn diamond(stack: &Stack) -> Repo {
    let base = stack.remote(
        "base",
        "main",
        &[],
        Some("[deploy]\ncommand = \"./deploy-base.sh\"\n"),
    );
    let lib = stack.remote("lib", "main", &[], Some(&git_dep(&base, "")));
    let config = format!(
        "registry = \"127.0.0.1:9/astro\"\n\n[deploy]\ncommand = \"./e2e/deploy.sh\"\n\n{}{}\
         [[dependencies]]\nimage = \"127.0.0.1:9/astro/spark-py:k8s-3.4.1\"\nlabels = {{ ci = \"true\" }}\n",
        git_dep(&lib, "deploy = \"./deploy-lib.sh\""),
        git_dep(&base, ""),
    );
    let mut repo = Repo::init(&stack.ws.join("proj"));
    repo.git(&["checkout", "-q", "-b", "feature-x"]);
    repo.commit(
        "initial",
        &[(".ciux.toml", &config), (".gitignore", ".ciux.d/\n")],
    );
    repo.tag("v2.0.0");
    repo
}

pub(crate) fn stdout_of(cmd: &mut assert_cmd::Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "exit {:?}\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn names(value: &serde_json::Value) -> Vec<&str> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect()
}

#[test]
fn plan_resolves_like_ignite_and_publishes_github_files() {
    let stack = Stack::new();
    let repo = diamond(&stack);
    let gh = tempfile::tempdir().unwrap();
    let (output, summary) = (gh.path().join("output"), gh.path().join("summary"));
    std::fs::write(&output, "earlier<<X\nkept\nX\n").unwrap();
    let json = stdout_of(
        ciux(&repo.dir)
            .args(["plan", "-l", "ci=true", "--format", "json"])
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_OUTPUT", &output)
            .env("GITHUB_STEP_SUMMARY", &summary),
    );
    let plan: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(plan["schema"], 1);
    assert_eq!(plan["project"], "proj");
    let image = "127.0.0.1:9/astro/spark-py:k8s-3.4.1";
    assert_eq!(
        plan["waves"],
        serde_json::json!([[image, "base"], ["lib"], ["proj"]])
    );
    let component = |name: &str| {
        plan["components"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap()
            .clone()
    };
    let proj = component("proj");
    assert_eq!(proj["version"], "v2.0.0");
    assert_eq!(proj["branch"], "feature-x");
    assert_eq!(proj["build"], true);
    assert_eq!(proj["image_url"], "127.0.0.1:9/astro/proj:v2.0.0");
    assert_eq!(proj["deploy_command"], "./e2e/deploy.sh");
    assert_eq!(names(&proj["depends_on"]), [image, "base", "lib"]);
    let lib = component("lib");
    assert_eq!(
        (lib["wave"].as_u64(), lib["version"].as_str()),
        (Some(1), Some("v1.0.0"))
    );
    assert_eq!(lib["branch"], "main");
    assert_eq!(lib["reason"], "fallback to main");
    assert_eq!(lib["deploy_command"], "./deploy-lib.sh");
    assert_eq!(lib["dir"], stack.ws.join("lib").to_str().unwrap());
    assert_eq!(component("base")["deploy_command"], "./deploy-base.sh");
    assert_eq!(component(image)["kind"], "image");
    assert_eq!(component(image)["version"], "k8s-3.4.1");

    // Siblings are cloned as ignite clones them; no env file is written.
    assert!(stack.ws.join("lib/.git").exists() && stack.ws.join("base/.git").exists());
    assert!(!repo.dir.join(".ciux.d").exists());

    // $GITHUB_OUTPUT, read as the runner reads it: earlier content kept.
    let text = std::fs::read_to_string(&output).unwrap();
    let outputs: std::collections::BTreeMap<String, String> =
        ciux::github::parse_github_file(&text)
            .unwrap()
            .into_iter()
            .collect();
    assert_eq!(outputs["earlier"], "kept");
    assert_eq!(outputs["ciux_build"], "true");
    assert_eq!(outputs["ciux_image_url"], "127.0.0.1:9/astro/proj:v2.0.0");
    assert_eq!(
        outputs["ciux_promoted_image_url"],
        "127.0.0.1:9/astro/proj:v2.0.0"
    );
    assert_eq!(outputs["waves"], "3");
    let compact: serde_json::Value = serde_json::from_str(&outputs["plan"]).unwrap();
    assert_eq!(compact, plan);
    let wave0: serde_json::Value = serde_json::from_str(&outputs["wave_0"]).unwrap();
    let wave0_names: Vec<&str> = wave0["include"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(wave0_names, [image, "base"]);
    assert!(!outputs.contains_key("wave_3"));

    let summary = std::fs::read_to_string(&summary).unwrap();
    assert!(
        summary.contains("| 2 | proj | git | v2.0.0 | feature-x (checked out) |"),
        "{summary}"
    );
    assert!(summary.contains("```mermaid\nflowchart LR\n"), "{summary}");
}

#[test]
fn plan_prints_every_format_and_skips_an_unset_summary() {
    let stack = Stack::new();
    let repo = diamond(&stack);
    let text = stdout_of(ciux(&repo.dir).args(["plan", "-l", "ci"]));
    insta::assert_snapshot!("diamond_text", text);
    let matrix = stdout_of(ciux(&repo.dir).args(["plan", "-l", "ci", "--format", "github-matrix"]));
    assert_eq!(matrix.lines().count(), 3);
    let mermaid = stdout_of(ciux(&repo.dir).args(["plan", "-l", "ci", "--format", "mermaid"]));
    insta::assert_snapshot!("diamond_mermaid", mermaid);
    let dot = stdout_of(ciux(&repo.dir).args(["plan", "-l", "ci", "--format", "dot"]));
    assert!(
        dot.starts_with("digraph plan {") && dot.contains("rank=same;"),
        "{dot}"
    );
    // In Actions without a summary file: warned and skipped, outputs still written.
    let gh = tempfile::tempdir().unwrap();
    let out = ciux(&repo.dir)
        .args(["plan", "-l", "ci", "--format", "json"])
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_OUTPUT", gh.path().join("output"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("$GITHUB_STEP_SUMMARY is not set"),
        "{stderr}"
    );
    let text = std::fs::read_to_string(gh.path().join("output")).unwrap();
    assert!(text.starts_with("ciux_build<<"), "{text}");
    // The selector applies: without `ci`, nothing is selected but the project.
    let alone = stdout_of(ciux(&repo.dir).args(["plan", "-l", "ci!=true", "--format", "json"]));
    let alone: serde_json::Value = serde_json::from_str(&alone).unwrap();
    assert_eq!(alone["waves"], serde_json::json!([["proj"]]));
}

#[test]
fn plan_reports_a_cycle_with_its_path() {
    let stack = Stack::new();
    let proj_url = format!("file://{}", stack.ws.join("proj").display());
    let back = stack.remote("back", "main", &[], Some(&git_dep(&proj_url, "")));
    let mut repo = Repo::init(&stack.ws.join("proj"));
    repo.commit("initial", &[(".ciux.toml", &git_dep(&back, ""))]);
    let out = ciux(&repo.dir).arg("plan").output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("error: dependency cycle: proj -> back -> proj"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());
}

/// `ignite` then `plan` in one job, as the action and the examples run them:
/// every file the runner reads is parsed as the runner parses it.
#[test]
fn ignite_then_plan_in_actions_fill_env_outputs_and_summary() {
    let stack = Stack::new();
    let repo = diamond(&stack);
    let gh = tempfile::tempdir().unwrap();
    let file = |name: &str| gh.path().join(name);
    let in_actions = |cmd: &mut assert_cmd::Command| {
        cmd.env("GITHUB_ACTIONS", "true")
            .env("GITHUB_ENV", file("env"))
            .env("GITHUB_OUTPUT", file("output"))
            .env("GITHUB_STEP_SUMMARY", file("summary"));
    };
    let mut ignite = ciux(&repo.dir);
    ignite.args(["ignite", "-l", "ci", "--format", "sh", "--format", "github"]);
    in_actions(&mut ignite);
    let out = ignite.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.starts_with("::group::ciux ignite\n") && stderr.contains("::endgroup::\n"),
        "{stderr}"
    );

    let read = |name: &str| -> std::collections::BTreeMap<String, String> {
        let text = std::fs::read_to_string(file(name)).unwrap();
        ciux::github::parse_github_file(&text)
            .unwrap()
            .into_iter()
            .collect()
    };
    let env = read("env");
    assert_eq!(env["CIUX_BUILD"], "true");
    assert_eq!(env["LIB_VERSION"], "v1.0.0");
    let after_ignite = read("output");
    assert_eq!(after_ignite["ciux_build"], "true");
    assert_eq!(after_ignite["ciux_image_url"], env["CIUX_IMAGE_URL"]);
    assert_eq!(
        after_ignite["ciux_promoted_image_url"],
        env["CIUX_PROMOTED_IMAGE_URL"]
    );
    assert_eq!(after_ignite["waves"], "3");

    let mut plan = ciux(&repo.dir);
    plan.args(["plan", "-l", "ci", "--format", "json"]);
    in_actions(&mut plan);
    let json = stdout_of(&mut plan);
    // The runner keeps the last value of a name: plan's outputs equal ignite's.
    let after_plan = read("output");
    assert_eq!(after_plan, after_ignite);
    let printed: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&after_plan["plan"]).unwrap(),
        printed
    );

    let summary = std::fs::read_to_string(file("summary")).unwrap();
    assert!(summary.starts_with("### ciux ignite: proj\n"), "{summary}");
    assert!(summary.contains("### ciux plan: proj\n"), "{summary}");
    assert_eq!(summary.matches("```mermaid").count(), 2);
}
