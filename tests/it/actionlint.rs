//! Every workflow and action we ship passes `actionlint`, installed by
//! `.ci/setup/40-actionlint.sh`. A missing actionlint fails the test: a skipped
//! lint would let a broken example ship.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const SETUP: &str = ".ci/setup/40-actionlint.sh";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `actionlint` from `$ACTIONLINT`, the PATH, or Python's scripts directory.
fn actionlint() -> PathBuf {
    let works = |p: &Path| {
        Command::new(p)
            .arg("-version")
            .output()
            .is_ok_and(|o| o.status.success())
    };
    let mut candidates: Vec<PathBuf> = std::env::var_os("ACTIONLINT")
        .map(PathBuf::from)
        .into_iter()
        .collect();
    candidates.push("actionlint".into());
    if let Ok(out) = Command::new("python3")
        .args([
            "-c",
            "import sysconfig; print(sysconfig.get_path('scripts'))",
        ])
        .output()
    {
        candidates
            .push(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()).join("actionlint"));
    }
    candidates
        .into_iter()
        .find(|p| works(p))
        .unwrap_or_else(|| panic!("actionlint not found: run `bash {SETUP}` or set $ACTIONLINT"))
}

fn lint(dir: &Path, files: &[PathBuf]) -> Output {
    Command::new(actionlint())
        .current_dir(dir)
        .arg("-no-color")
        .args(files)
        .output()
        .expect("actionlint runs")
}

fn report(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn workflows_in(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| entries.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "yml" || e == "yaml"));
    files.sort();
    files
}

/// The examples, and this repository's own workflows.
#[test]
fn workflows_pass_actionlint() {
    let examples = workflows_in(&root().join("docs/examples"));
    assert!(examples.len() >= 2, "examples in docs/examples");
    let mut files = examples;
    files.extend(workflows_in(&root().join(".github/workflows")));
    let out = lint(&root(), &files);
    assert!(out.status.success(), "{}", report(&out));
}

/// actionlint checks an action's metadata when a workflow uses it as a local
/// action, so `action.yml` is copied into a scratch repository with a workflow
/// that passes every input and reads every output.
#[test]
fn action_yml_passes_actionlint_and_declares_the_contract() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(tmp.path().join(".git")).unwrap();
    std::fs::copy(root().join("action.yml"), tmp.path().join("action.yml")).unwrap();
    let workflows = tmp.path().join(".github/workflows");
    std::fs::create_dir_all(&workflows).unwrap();
    let workflow = |extra_input: &str| {
        format!(
            r#"on: push
jobs:
  t:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@v4
      - id: ciux
        uses: ./
        with:
          path: .
          selector: ci=true
          branch: main
          suffix: test
          tmp-registry: 127.0.0.1:9/ci
          on-registry-error: build
          format: sh,json
          install-packages: "false"
          working-directory: .
          version: 0.1.0
          features: bench
          binary: ""
          cache: "true"
          install-only: "false"{extra_input}
      - env:
          A: ${{{{ steps.ciux.outputs.ciux_build }}}}
          B: ${{{{ steps.ciux.outputs.ciux_image_url }}}}
          C: ${{{{ steps.ciux.outputs.ciux_promoted_image_url }}}}
          D: ${{{{ steps.ciux.outputs.plan }}}}
          E: ${{{{ steps.ciux.outputs.waves }}}}
          F: ${{{{ steps.ciux.outputs.wave_0 }}}}
          G: ${{{{ steps.ciux.outputs.ciux_image_inputs }}}}
          H: ${{{{ steps.ciux.outputs.ciux_image_digest }}}}
          I: ${{{{ steps.ciux.outputs.env_file }}}}
          J: ${{{{ steps.ciux.outputs.wave_7 }}}}
          K: ${{{{ steps.ciux.outputs.ciux }}}}
          L: ${{{{ steps.ciux.outputs.cache-hit }}}}
        run: echo "$A $B $C $D $E $F $G $H $I $J $K $L"
"#
        )
    };
    let file = workflows.join("use.yml");
    std::fs::write(&file, workflow("")).unwrap();
    let out = lint(tmp.path(), std::slice::from_ref(&file));
    assert!(out.status.success(), "{}", report(&out));

    // The check has teeth: an input action.yml does not declare is reported.
    std::fs::write(&file, workflow("\n          no-such-input: x")).unwrap();
    let out = lint(tmp.path(), &[file]);
    assert!(!out.status.success());
    assert!(report(&out).contains("no-such-input"), "{}", report(&out));
}

/// actionlint does not read the scripts of a composite action: check them here.
/// Inputs must reach them through `env:` (no `${{ }}` inside `run:`, where a
/// branch name could inject shell code), and shellcheck must pass.
#[test]
fn action_scripts_take_inputs_from_env_and_pass_shellcheck() {
    let text = std::fs::read_to_string(root().join("action.yml")).unwrap();
    let action: serde_json::Value = yaml_serde::from_str(&text).unwrap();
    assert_eq!(action["runs"]["using"], "composite");
    let inputs: Vec<&String> = action["inputs"].as_object().unwrap().keys().collect();
    assert_eq!(
        inputs,
        [
            "binary",
            "branch",
            "cache",
            "features",
            "format",
            "install-only",
            "install-packages",
            "on-registry-error",
            "path",
            "selector",
            "suffix",
            "tmp-registry",
            "version",
            "working-directory",
        ]
    );
    let outputs = action["outputs"].as_object().unwrap();
    for name in [
        "ciux_build",
        "ciux_image_url",
        "ciux_promoted_image_url",
        "plan",
        "waves",
        "wave_0",
        "wave_7",
        "ciux_image_inputs",
        "ciux_image_digest",
        "env_file",
        "ciux",
        "cache-hit",
    ] {
        assert!(outputs.contains_key(name), "output {name}");
    }
    let scripts: Vec<&str> = action["runs"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["run"].as_str())
        .collect();
    assert_eq!(scripts.len(), 3);
    let tmp = tempfile::tempdir().unwrap();
    for (i, script) in scripts.iter().enumerate() {
        assert!(!script.contains("${{"), "expression inside run: {script}");
        let file = tmp.path().join(format!("step{i}.sh"));
        std::fs::write(&file, script).unwrap();
        let out = Command::new("shellcheck")
            .args(["--shell=bash", "--severity=style"])
            .arg(&file)
            .output()
            .unwrap_or_else(|e| panic!("shellcheck not found ({e}): run `bash {SETUP}`"));
        assert!(out.status.success(), "step {i}: {}", report(&out));
    }
}
