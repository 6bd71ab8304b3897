//! The action, the examples and the job graphs that use them, run by a real
//! GitHub Actions engine (nektos/act in host mode, `.ci/setup/45-act.sh`) on a
//! stack of real repositories (three waves: `base`; `mid` and `tool`; `proj`)
//! and a real registry on 127.0.0.1. What downstream jobs read through
//! `needs.<job>.outputs` is compared with what `ciux` prints locally on the
//! same repositories; summaries and `::group::` folding are read from what
//! act parsed as workflow commands.

mod harness;

use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};

use crate::common::git::{Repo, git_describe_semver};
use harness::{Act, Run};

/// The stack: `base` (wave 0); `mid` (has a `feature-x` branch) and `tool`,
/// both needing `base` (wave 1); the project `proj` needing both (wave 2).
/// Every repository deploys with `sh deploy.sh`, which records where it ran.
fn stack(act: &Act) -> Repo {
    let deploy = |name: &str| {
        format!("echo \"{name} $(basename \"$PWD\") $VERSION\" >> \"$CIUX_TEST_OUT/deploys\"\n")
    };
    let labels = r#"labels = { ci = "true", itest = "true", deploy = "true" }"#;
    let base = act.remote(
        "base",
        &[
            (".ciux.toml", "[deploy]\ncommand = \"sh deploy.sh\"\n"),
            ("deploy.sh", &deploy("base")),
        ],
        &[],
    );
    let on_base = format!(
        "[deploy]\ncommand = \"sh deploy.sh\"\n\n[[dependencies]]\nurl = \"{base}\"\nclone = true\n{labels}\n"
    );
    let mid = act.remote(
        "mid",
        &[(".ciux.toml", &on_base), ("deploy.sh", &deploy("mid"))],
        &["feature-x"],
    );
    let tool = act.remote(
        "tool",
        &[(".ciux.toml", &on_base), ("deploy.sh", &deploy("tool"))],
        &[],
    );
    let config = format!(
        r#"project = "proj" # act's checkout directory is `hostexecutor`
registry = "{}/stack"
source_paths = ["src", "Dockerfile"]

[deploy]
command = "sh deploy.sh"

[[dependencies]]
url = "{mid}"
clone = true
{labels}

[[dependencies]]
url = "{tool}"
clone = true
{labels}
"#,
        act.registry.addr
    );
    let mut proj = Repo::init(&act.ws.join("proj"));
    for (path, text) in [
        (".ciux.toml", config.as_str()),
        (".gitignore", ".ciux.d/\nartifacts/\nbench.*\n"),
        ("src/main.txt", "one\n"),
        ("Dockerfile", "FROM scratch\nCOPY src /src\n"),
        ("docs/README", "docs\n"),
        ("deploy.sh", &deploy("proj")),
        (
            "e2e/run.sh",
            "#!/bin/sh\necho \"e2e $CIUX_IMAGE_URL\" >> \"$CIUX_TEST_OUT/e2e\"\n",
        ),
    ] {
        proj.write(path, text);
    }
    let run_sh = proj.dir.join("e2e/run.sh");
    std::fs::set_permissions(&run_sh, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    proj.commit("initial", &[]);
    proj.tag("v0.1.0");
    proj
}

/// The test's own workflow: the action in `ignite`, its outputs read by a
/// downstream job, and a matrix of wave 1 that installs ciux only (from the cache).
const CI: &str = r#"name: ci
on: [push, pull_request]
jobs:
  ignite:
    runs-on: ubuntu-24.04
    outputs:
      ciux_build: ${{ steps.ciux.outputs.ciux_build }}
      ciux_image_url: ${{ steps.ciux.outputs.ciux_image_url }}
      ciux_promoted_image_url: ${{ steps.ciux.outputs.ciux_promoted_image_url }}
      ciux_image_inputs: ${{ steps.ciux.outputs.ciux_image_inputs }}
      ciux_image_digest: ${{ steps.ciux.outputs.ciux_image_digest }}
      env_file: ${{ steps.ciux.outputs.env_file }}
      plan: ${{ steps.ciux.outputs.plan }}
      waves: ${{ steps.ciux.outputs.waves }}
      wave_0: ${{ steps.ciux.outputs.wave_0 }}
      wave_1: ${{ steps.ciux.outputs.wave_1 }}
      wave_2: ${{ steps.ciux.outputs.wave_2 }}
      wave_3: ${{ steps.ciux.outputs.wave_3 }}
    steps:
      - uses: actions/checkout@v4
        with:
          fetch-depth: 0
      - id: ciux
        uses: OWNER/ciux@main
        with:
          selector: ci=true
  read:
    needs: ignite
    runs-on: ubuntu-24.04
    steps:
      - env:
          OUTPUTS: ${{ toJSON(needs.ignite.outputs) }}
        run: printf '%s' "$OUTPUTS" > "$CIUX_TEST_OUT/outputs.json"
  wave-1:
    needs: ignite
    runs-on: ubuntu-24.04
    strategy:
      matrix: ${{ fromJSON(needs.ignite.outputs.wave_1) }}
    steps:
      - uses: OWNER/ciux@main
        with:
          install-only: true
      - env:
          NAME: ${{ matrix.name }}
          COMPONENT_PATH: ${{ matrix.path }}
        run: echo "$NAME $COMPONENT_PATH $(ciux --version)" >> "$CIUX_TEST_OUT/wave-1"
"#;

/// `ciux` as the tests run it, with `env` set.
fn ciux_local(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> String {
    let mut cmd = crate::common::ciux(dir);
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "ciux {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The plan without `dir`, which names each job's own workspace.
fn without_dirs(mut plan: Value) -> Value {
    for c in plan["components"].as_array_mut().unwrap() {
        c.as_object_mut().unwrap().remove("dir");
    }
    plan
}

fn matrix_without_dirs(text: &str) -> Value {
    let mut m: Value = serde_json::from_str(text).unwrap();
    for c in m["include"].as_array_mut().unwrap() {
        c.as_object_mut().unwrap().remove("dir");
    }
    m
}

/// What the downstream job read equals what ciux prints locally on the same
/// project (plan, waves, image decision); returns the outputs.
fn assert_outputs_match_local(act: &Act, proj: &Repo, env: &[(&str, &str)]) -> Value {
    let outputs = act.out_json("outputs.json");
    let _ = std::fs::remove_file(act.out.join("outputs.json"));
    let local_plan: Value = serde_json::from_str(&ciux_local(
        &proj.dir,
        &["plan", "--format", "json", "--selector", "ci=true"],
        env,
    ))
    .unwrap();
    let plan: Value = serde_json::from_str(outputs["plan"].as_str().unwrap()).unwrap();
    assert_eq!(without_dirs(plan), without_dirs(local_plan.clone()));
    let waves = local_plan["waves"].as_array().unwrap().len();
    assert_eq!(waves, 3);
    assert_eq!(outputs["waves"], waves.to_string());
    let matrices = ciux_local(
        &proj.dir,
        &["plan", "--format", "github-matrix", "--selector", "ci=true"],
        env,
    );
    for (i, line) in matrices.lines().enumerate() {
        assert_eq!(
            matrix_without_dirs(outputs[format!("wave_{i}")].as_str().unwrap()),
            matrix_without_dirs(line),
            "wave_{i}"
        );
    }
    assert_eq!(outputs["wave_3"], "", "no fourth wave");
    // The image decision, from `ignite --format json` run locally.
    ciux_local(
        &proj.dir,
        &[
            "ignite",
            "--selector",
            "ci=true",
            "--format",
            "json",
            "--format",
            "sh",
        ],
        env,
    );
    let report: Value = serde_json::from_str(
        &std::fs::read_to_string(proj.dir.join(".ciux.d/ciux_ci_true.json")).unwrap(),
    )
    .unwrap();
    let image = &report["image"];
    assert_eq!(outputs["ciux_build"], image["build"].to_string());
    assert_eq!(outputs["ciux_image_url"], image["url"]);
    assert_eq!(outputs["ciux_promoted_image_url"], image["promoted_url"]);
    assert_eq!(
        outputs["ciux_image_digest"],
        image["digest"].as_str().unwrap_or_default()
    );
    assert_eq!(
        outputs["ciux_image_inputs"],
        image["inputs"].as_str().unwrap_or_default()
    );
    assert!(
        outputs["env_file"]
            .as_str()
            .unwrap()
            .ends_with("/hostexecutor/.ciux.d/ciux_ci_true.sh"),
        "{outputs}"
    );
    outputs
}

fn assert_ok(run: &Run) {
    assert!(run.success, "act failed:\n{}", run.digest());
    run.assert_groups_balanced();
}

fn push_event(branch_or_tag_ref: &str) -> Value {
    json!({ "ref": branch_or_tag_ref })
}

/// Push on main: build, skip on rerun once the image exists, skip after a
/// change outside the source paths, build after one inside. ciux is
/// installed once (cache miss, one `cargo install`) and then always comes
/// from the cache, in the matrix jobs too.
#[test]
fn push_on_main_builds_then_skips_and_installs_once() {
    let act = Act::new();
    let mut proj = stack(&act);
    let workflow = act.workflow("ci.yml", CI);

    let run = act.run(&proj.dir, "push", &push_event("refs/heads/main"), &workflow);
    assert_ok(&run);
    let outputs = assert_outputs_match_local(&act, &proj, &[]);
    assert_eq!(outputs["ciux_build"], "true");
    let summary = &run.summary["ignite"];
    assert!(summary.contains("### ciux ignite: proj"), "{summary}");
    assert!(
        summary.contains("4 component(s) in 3 wave(s); 1 image(s) to build."),
        "{summary}"
    );
    assert!(summary.contains("| 2 | proj | git | v0.1.0 |"), "{summary}");
    assert!(summary.contains("```mermaid"), "{summary}");
    let cargo = act.take_state("cargo-calls");
    assert_eq!(cargo.len(), 1, "one build for the whole run: {cargo:?}");
    assert!(
        cargo[0].contains("--locked") && cargo[0].contains("--path"),
        "{cargo:?}"
    );
    assert_eq!(run.succeeded("wave-1"), 2, "{:?}", run.results);
    let mut wave1 = act.state_lines("../out/wave-1");
    wave1.sort();
    assert_eq!(wave1.len(), 2);
    assert!(wave1[0].starts_with("mid ../mid ciux "), "{wave1:?}");
    assert!(wave1[1].starts_with("tool ../tool ciux "), "{wave1:?}");

    // CI built and pushed the image: the rerun skips the build.
    let digest = act.registry.push("stack/proj", "v0.1.0", None);
    let run = act.run(&proj.dir, "push", &push_event("refs/heads/main"), &workflow);
    assert_ok(&run);
    let outputs = assert_outputs_match_local(&act, &proj, &[]);
    assert_eq!(outputs["ciux_build"], "false");
    assert_eq!(outputs["ciux_image_digest"], digest);
    assert!(run.summary["ignite"].contains("0 image(s) to build."));
    assert!(
        act.take_state("cargo-calls").is_empty(),
        "ciux came from the cache"
    );

    // A change outside the source paths reuses the image.
    proj.commit("docs", &[("docs/README", "more docs\n")]);
    let run = act.run(&proj.dir, "push", &push_event("refs/heads/main"), &workflow);
    assert_ok(&run);
    let outputs = assert_outputs_match_local(&act, &proj, &[]);
    assert_eq!(outputs["ciux_build"], "false");
    assert_eq!(
        outputs["ciux_image_url"],
        format!("{}/stack/proj:v0.1.0", act.registry.addr)
    );

    // A change inside builds, under HEAD's version.
    proj.commit("source", &[("src/main.txt", "two\n")]);
    let run = act.run(&proj.dir, "push", &push_event("refs/heads/main"), &workflow);
    assert_ok(&run);
    let outputs = assert_outputs_match_local(&act, &proj, &[]);
    assert_eq!(outputs["ciux_build"], "true");
    assert_eq!(
        outputs["ciux_image_url"],
        format!("{}/stack/proj:{}", act.registry.addr, proj.git_describe())
    );
    assert!(act.take_state("cargo-calls").is_empty());
}

/// A pull request: the checkout is a detached HEAD, the branch comes from
/// the event (`GITHUB_HEAD_REF`); `mid` has the branch, `base` and `tool` do not.
#[test]
fn pull_request_on_a_detached_head_uses_the_head_branch_where_it_exists() {
    let act = Act::new();
    let mut proj = stack(&act);
    proj.git(&["checkout", "-q", "-b", "feature-x"]);
    proj.commit("feature", &[("src/main.txt", "feature\n")]);
    proj.git(&["checkout", "-q", "--detach"]);
    let workflow = act.workflow("ci.yml", CI);
    let event = json!({
        "number": 7,
        "pull_request": {"number": 7, "head": {"ref": "feature-x"}, "base": {"ref": "main"}},
    });
    let run = act.run(&proj.dir, "pull_request", &event, &workflow);
    assert_ok(&run);
    let outputs = assert_outputs_match_local(&act, &proj, &[("GITHUB_HEAD_REF", "feature-x")]);
    let plan: Value = serde_json::from_str(outputs["plan"].as_str().unwrap()).unwrap();
    let component = |name: &str| {
        plan["components"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap()
            .clone()
    };
    assert_eq!(component("proj")["branch"], "feature-x");
    assert_eq!(component("proj")["reason"], "from GITHUB_HEAD_REF");
    assert_eq!(component("mid")["branch"], "feature-x");
    assert_eq!(component("mid")["reason"], "same branch");
    for name in ["base", "tool"] {
        assert_eq!(component(name)["branch"], "main", "{name}");
        assert_eq!(component(name)["reason"], "fallback to main", "{name}");
    }
    assert_eq!(outputs["ciux_build"], "true");
}

/// A tag push: the version is the tag, the image is named with it.
#[test]
fn tag_push_names_the_image_with_the_tag() {
    let act = Act::new();
    let mut proj = stack(&act);
    proj.commit("release", &[("src/main.txt", "release\n")]);
    proj.tag("v1.1.0");
    proj.git(&["checkout", "-q", "--detach", "v1.1.0"]);
    // This run hands the action a binary (`binary:`): nothing built or cached.
    let ci = CI.replacen(
        "      - id: ciux\n        uses: OWNER/ciux@main\n        with:\n          selector: ci=true\n",
        "      - run: echo \"CIUX_BIN=$CIUX_TEST_BINARY\" >> \"$GITHUB_ENV\"\n      - id: ciux\n        uses: OWNER/ciux@main\n        with:\n          selector: ci=true\n          binary: ${{ env.CIUX_BIN }}\n",
        1,
    );
    assert_ne!(ci, CI);
    let workflow = act.workflow("ci.yml", &ci);
    let run = act.run(
        &proj.dir,
        "push",
        &push_event("refs/tags/v1.1.0"),
        &workflow,
    );
    assert_ok(&run);
    // The ignite job used the binary and left the cache alone; the two
    // matrix jobs, started together, both missed it and installed.
    assert_eq!(act.take_state("cargo-calls").len(), 2);
    let cache = act.take_state("cache-calls");
    assert_eq!(
        cache.len(),
        4,
        "a restore and a save per matrix job: {cache:?}"
    );
    let outputs = assert_outputs_match_local(&act, &proj, &[("GITHUB_REF_NAME", "v1.1.0")]);
    let plan: Value = serde_json::from_str(outputs["plan"].as_str().unwrap()).unwrap();
    assert_eq!(plan["components"][3]["name"], "proj");
    assert_eq!(plan["components"][3]["version"], "v1.1.0");
    assert_eq!(
        outputs["ciux_image_url"],
        format!("{}/stack/proj:v1.1.0", act.registry.addr)
    );
}

/// A merge commit on main: the version is `git describe`'s.
#[test]
fn merge_commit_version_is_git_describe() {
    let act = Act::new();
    let mut proj = stack(&act);
    proj.git(&["checkout", "-q", "-b", "side"]);
    proj.commit("side 1", &[("src/side.txt", "1\n")]);
    proj.commit("side 2", &[("src/side.txt", "2\n")]);
    proj.git(&["checkout", "-q", "main"]);
    proj.commit("main 1", &[("docs/README", "main\n")]);
    proj.git(&["merge", "-q", "--no-ff", "-m", "merge side", "side"]);
    let describe = git_describe_semver(&proj.dir, "HEAD", true);
    assert!(describe.starts_with("v0.1.0-4-g"), "{describe}");
    let workflow = act.workflow("ci.yml", CI);
    let run = act.run(&proj.dir, "push", &push_event("refs/heads/main"), &workflow);
    assert_ok(&run);
    let outputs = assert_outputs_match_local(&act, &proj, &[]);
    let plan: Value = serde_json::from_str(outputs["plan"].as_str().unwrap()).unwrap();
    assert_eq!(plan["components"][3]["version"], describe.as_str());
    assert_eq!(
        outputs["ciux_image_url"],
        format!("{}/stack/proj:{describe}", act.registry.addr)
    );
}

/// Bug: with a pseudo-terminal (act gives steps one), spinners left the last
/// line open and `::endgroup::` landed mid-line, so the error stayed folded.
#[test]
fn failing_ignite_closes_its_group_before_the_error() {
    let act = Act::new();
    let mut proj = stack(&act);
    let config = std::fs::read_to_string(proj.dir.join(".ciux.toml")).unwrap();
    // A registry that refuses connections: ignite fails after the clones.
    let config = config.replace(&act.registry.addr, "127.0.0.1:1");
    proj.commit("unreachable registry", &[(".ciux.toml", &config)]);
    let workflow = act.workflow("ci.yml", CI);
    let run = act.run(&proj.dir, "push", &push_event("refs/heads/main"), &workflow);
    assert!(!run.success, "{}", run.digest());
    assert_eq!(run.results["ignite"], "failure");
    run.assert_groups_balanced();
    let commands: Vec<&str> = run.commands["ignite"]
        .iter()
        .map(|(c, _)| c.as_str())
        .filter(|c| c.ends_with("group"))
        .collect();
    assert_eq!(commands, ["group", "endgroup"]);
    let lines = &run.lines["ignite"];
    let error = lines
        .iter()
        .position(|l| l.starts_with("error: cannot check image"))
        .unwrap_or_else(|| panic!("the error starts a line: {lines:#?}"));
    assert!(
        lines[..error].iter().any(|l| l == "mid: cloned"),
        "{lines:#?}"
    );
    assert!(
        !lines
            .iter()
            .any(|l| l.contains('\u{2801}') || l.contains("\x1b[2K")),
        "no spinner: {lines:#?}"
    );
}

/// The same bug without the engine: ignite under a pseudo-terminal
/// (`script`) with `GITHUB_ACTIONS=true` writes whole lines only.
#[test]
fn no_progress_bars_on_a_terminal_in_ci() {
    let act = Act::new();
    let mut proj = stack(&act);
    let config = std::fs::read_to_string(proj.dir.join(".ciux.toml")).unwrap();
    let config = config.replace(&act.registry.addr, "127.0.0.1:1");
    proj.commit("unreachable registry", &[(".ciux.toml", &config)]);
    for (var, value) in [("GITHUB_ACTIONS", "true"), ("CI", "true")] {
        let _ = std::fs::remove_dir_all(act.ws.join("mid"));
        let mut cmd = Command::new("script");
        cmd.current_dir(&proj.dir)
            .args([
                "-qec",
                &format!("{} ignite", env!("CARGO_BIN_EXE_ciux")),
                "/dev/null",
            ])
            .env_remove("GITHUB_ACTIONS")
            .env_remove("CI")
            .env(var, value);
        crate::common::git::isolate_env(&mut cmd);
        let out = cmd.output().expect("script (util-linux) runs");
        let text = String::from_utf8_lossy(&out.stdout).replace('\r', "");
        assert!(
            !text.contains("\x1b[2K"),
            "{var}: a spinner was drawn: {text:?}"
        );
        assert!(text.lines().any(|l| l == "mid: cloned"), "{var}: {text:?}");
        assert!(
            text.lines()
                .any(|l| l.starts_with("error: cannot check image")),
            "{var}: {text:?}"
        );
        if var == "GITHUB_ACTIONS" {
            assert!(text.lines().any(|l| l == "::endgroup::"), "{text:?}");
        }
    }
}

/// A line `NAME DIRECTORY [VERSION]` of a deploy script: a sibling deploys
/// in its own checkout, the project in the job's workspace (act names it
/// `hostexecutor`).
fn assert_in_own_dir(line: &str) {
    let words: Vec<&str> = line.split(' ').collect();
    let expected = if words[0] == "proj" {
        "hostexecutor"
    } else {
        words[0]
    };
    assert_eq!(words[1], expected, "deployed in its own directory: {line}");
}

/// docs/examples/e2e.yml, twice: the first run builds and pushes the image
/// and promotes it; the second finds it, skips `build`, and still promotes
/// (the `if:` of `promote` once implied `success()`, false after a skipped job).
#[test]
fn e2e_example_promotes_a_built_then_a_reused_image() {
    let act = Act::new();
    let proj = stack(&act);
    let broker = Tansu::start();
    let workflow = act.example(
        "e2e.yml",
        &[
            ("localhost:9092", &broker.addr),
            ("--alerts 50000", "--alerts 500"),
            (
                "--min-throughput 2000 --max-p99-ms 500",
                "--min-throughput 1",
            ),
        ],
    );
    let image = format!("{}/stack/proj:v0.1.0", act.registry.addr);
    let run = act.run(&proj.dir, "push", &push_event("refs/heads/main"), &workflow);
    assert_ok(&run);
    for job in ["ignite", "build", "e2e", "bench", "promote"] {
        assert_eq!(run.succeeded(job), 1, "{job}: {:?}", run.results);
    }
    let docker = act.take_state("docker-calls");
    assert!(
        docker.iter().any(|c| c == &format!("push {image}")),
        "{docker:?}"
    );
    assert!(
        docker
            .iter()
            .any(|c| c == &format!("buildx imagetools create --tag {image} {image}")),
        "{docker:?}"
    );
    // Waves in order, each component in its own directory.
    let deploys = act.state_lines("../out/deploys");
    let order: Vec<&str> = deploys
        .iter()
        .map(|l| l.split(' ').next().unwrap())
        .collect();
    assert_eq!(order.len(), 4, "{deploys:?}");
    assert_eq!(order[0], "base");
    assert_eq!(order[3], "proj");
    for line in &deploys {
        assert_in_own_dir(line);
    }
    assert_eq!(act.state_lines("../out/e2e"), [format!("e2e {image}")]);

    let run = act.run(&proj.dir, "push", &push_event("refs/heads/main"), &workflow);
    assert_ok(&run);
    assert!(
        !run.ran("build") || run.succeeded("build") == 0,
        "{:?}",
        run.results
    );
    for job in ["ignite", "e2e", "bench", "promote"] {
        assert_eq!(run.succeeded(job), 1, "{job}: {:?}", run.results);
    }
    let docker = act.take_state("docker-calls");
    assert!(
        !docker.iter().any(|c| c.starts_with("build ")),
        "{docker:?}"
    );
    assert!(
        docker
            .iter()
            .any(|c| c.starts_with("buildx imagetools create")),
        "the reused image is promoted: {docker:?}"
    );
}

/// docs/examples/deploy-waves.yml: a job per wave, a matrix per wave, each
/// component deployed in its own directory of the deploy job's workspace
/// (the plan job's absolute directories do not exist there).
#[test]
fn deploy_waves_example_deploys_each_component_in_its_directory() {
    let act = Act::new();
    let proj = stack(&act);
    let workflow = act.example("deploy-waves.yml", &[]);
    let event = json!({"inputs": {"selector": "deploy=true"}});
    let run = act.run(&proj.dir, "workflow_dispatch", &event, &workflow);
    assert_ok(&run);
    assert_eq!(run.succeeded("wave-0"), 1, "{:?}", run.results);
    assert_eq!(run.succeeded("wave-1"), 2, "{:?}", run.results);
    assert_eq!(run.succeeded("wave-2"), 1, "{:?}", run.results);
    let deploys = act.state_lines("../out/deploys");
    let names: Vec<&str> = deploys
        .iter()
        .map(|l| l.split(' ').next().unwrap())
        .collect();
    assert_eq!(names.len(), 4, "{deploys:?}");
    assert_eq!(names[0], "base");
    assert_eq!(names[3], "proj");
    for line in &deploys {
        assert_in_own_dir(line);
        let version = line.split(' ').nth(2).unwrap_or_default();
        assert!(
            version.starts_with('v'),
            "matrix.version reached the step: {line}"
        );
    }
}

/// docs/examples/fink-style.yml: build only when needed, the image handed to
/// e2e as an artifact and loaded with `ciux image load` into the kind cluster
/// named by `ciux get clustername`, promoted on main, cleanup on self-hosted.
#[test]
fn fink_style_example_hands_the_image_over_and_promotes_it() {
    let act = Act::new();
    let proj = stack(&act);
    let workflow = act.example("fink-style.yml", &[]);
    let image = format!("{}/stack/proj-noscience:v0.1.0", act.registry.addr);
    let run = act.run(&proj.dir, "push", &push_event("refs/heads/main"), &workflow);
    assert_ok(&run);
    for job in ["ignite", "build", "e2e", "promote", "cleanup"] {
        assert_eq!(run.succeeded(job), 1, "{job}: {:?}", run.results);
    }
    let cluster = ciux_local(&proj.dir, &["get", "clustername", "."], &[]);
    assert_eq!(act.state_lines("clusters"), [cluster.trim().to_owned()]);
    let kind = act.engine.kind_calls();
    assert!(
        kind.iter()
            .any(|c| c.starts_with("load image-archive") && c.contains(cluster.trim())),
        "{kind:?}"
    );
    assert_eq!(act.state_lines("../out/e2e"), [format!("e2e {image}")]);
    // The promoted image is in the registry now: a new run reuses it.
    let again = ciux_local(
        &proj.dir,
        &["get", "image", "--check", "--env", "--suffix", "noscience"],
        &[],
    );
    assert!(again.contains("CIUX_BUILD=false"), "{again}");

    let run = act.run(&proj.dir, "push", &push_event("refs/heads/main"), &workflow);
    assert_ok(&run);
    assert_eq!(run.succeeded("build"), 0, "{:?}", run.results);
    for job in ["ignite", "e2e", "promote", "cleanup"] {
        assert_eq!(run.succeeded(job), 1, "{job}: {:?}", run.results);
    }
}

/// A tansu broker on a free port of 127.0.0.1 for the bench job, killed on drop.
struct Tansu {
    child: std::process::Child,
    addr: String,
}

impl Tansu {
    fn start() -> Self {
        let binary = std::env::var_os("CIUX_TANSU")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| "/opt/ciux-test/bin/tansu".into());
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let addr = format!("127.0.0.1:{port}");
        let url = format!("tcp://{addr}");
        let child = Command::new(&binary)
            .args([
                "broker",
                "--listener-url",
                &url,
                "--advertised-listener-url",
                &url,
            ])
            .args(["--storage-engine", "memory://tansu/"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("tansu at {}: {e} (.ci/setup/40-kafka.sh)", binary.display())
            });
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while std::net::TcpStream::connect(&addr).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "tansu did not listen on {addr}"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        Self { child, addr }
    }
}

impl Drop for Tansu {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
