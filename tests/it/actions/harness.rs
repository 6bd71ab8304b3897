//! The engine and its surroundings: act in host mode, the ciux action mapped
//! from this repository, stand-ins for remote actions and for the container
//! engine, a stack of real repositories and a real registry.
//!
//! act cannot download actions, and no container engine runs on the test
//! machines, so the test maps each remote action an example uses to a local
//! composite action: `actions/checkout` is act's own (it copies the work tree),
//! `actions/cache` and `actions/{upload,download}-artifact` keep their data in
//! a directory of the test, `docker/login-action` records its inputs, and
//! `helm/kind-action` calls `kind create cluster`. `docker` and `kind` on PATH
//! are the stand-ins of `tests/it/common/engine.rs` (they record arguments and
//! read real archives), with `build`, `save`, `push`, `pull` and
//! `buildx imagetools` added here on top of skopeo and the real registry, so
//! an image "built" by a workflow really lands in the registry. `cargo` on
//! PATH records how the action installs ciux and puts the binary this test
//! suite built in place, so no job compiles anything.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use serde_json::Value;

use crate::common::engine::StandIn;
use crate::common::git::isolate_env;
use crate::common::registry::{Registry, write_layout};

const SETUP: &str = ".ci/setup/45-act.sh";

/// act from `$CIUX_ACT`, where the setup script installs it, or the PATH.
fn act_binary() -> PathBuf {
    let works = |p: &Path| {
        Command::new(p)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    };
    let mut candidates: Vec<PathBuf> = std::env::var_os("CIUX_ACT")
        .map(PathBuf::from)
        .into_iter()
        .collect();
    let dir = std::env::var_os("CIUX_ACT_DIR").unwrap_or_else(|| "/opt/ciux-test/bin".into());
    candidates.push(PathBuf::from(dir).join("act"));
    candidates.push("act".into());
    candidates
        .into_iter()
        .find(|p| works(p))
        .unwrap_or_else(|| panic!("act not found: run `bash {SETUP}` or set $CIUX_ACT"))
}

fn write_exe(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

const CARGO: &str = r#"#!/bin/sh
# Stand-in cargo: `cargo install ... --root DIR` puts the suite's ciux in DIR/bin.
printf '%s\n' "$*" >> "$CIUX_TEST_STATE/cargo-calls"
[ "$1" = install ] || { echo "stand-in cargo: only install" >&2; exit 101; }
root=""; prev=""
for a in "$@"; do [ "$prev" = --root ] && root="$a"; prev="$a"; done
[ -n "$root" ] || { echo "stand-in cargo: no --root" >&2; exit 101; }
mkdir -p "$root/bin" && cp "$CIUX_TEST_BINARY" "$root/bin/ciux"
"#;

const DOCKER: &str = r#"#!/bin/sh
# Stand-in docker: build/save/push/pull/buildx through skopeo and the test's
# registry; everything else goes to the engine stand-in.
state="$CIUX_TEST_STATE"
printf '%s\n' "$*" >> "$state/docker-calls"
mkdir -p "$state/images"
archive_of() { printf '%s/images/%s.tar' "$state" "$(printf %s "$1" | tr '/:@' '___')"; }
case "$1" in
build)
  tag=""; prev=""
  for a in "$@"; do
    if [ "$prev" = --tag ] || [ "$prev" = -t ]; then tag="$a"; fi
    prev="$a"
  done
  [ -n "$tag" ] || { echo "build: no --tag" >&2; exit 125; }
  f="$(archive_of "$tag")"; rm -f "$f"
  skopeo copy -q "oci:$CIUX_TEST_LAYOUT:v1" "docker-archive:$f:$tag" || exit 1
  exec "$CIUX_TEST_ENGINE/docker" load --input "$f" ;;
save)
  [ $# -eq 4 ] && { [ "$3" = --output ] || [ "$3" = -o ]; } || { echo "bad save: $*" >&2; exit 125; }
  cp "$(archive_of "$2")" "$4" ;;
push)
  f="$(archive_of "$2")"
  [ -f "$f" ] || { echo "An image does not exist locally with the tag: $2" >&2; exit 1; }
  skopeo copy -q --dest-tls-verify=false "docker-archive:$f" "docker://$2" ;;
pull)
  f="$(archive_of "$2")"; rm -f "$f"
  skopeo copy -q --src-tls-verify=false "docker://$2" "docker-archive:$f:$2" || exit 1
  exec "$CIUX_TEST_ENGINE/docker" load --input "$f" ;;
tag)
  "$CIUX_TEST_ENGINE/docker" "$@" || exit $?
  src="$(archive_of "$2")"
  [ -f "$src" ] || src="$(ls "$state"/images/*.tar | head -n 1)"
  dst="$(archive_of "$3")"
  [ "$src" = "$dst" ] || cp "$src" "$dst" ;;
buildx)
  [ "$2 $3 $4" = "imagetools create --tag" ] && [ $# -eq 6 ] || { echo "bad buildx: $*" >&2; exit 125; }
  skopeo copy -q --src-tls-verify=false --dest-tls-verify=false "docker://$6" "docker://$5" ;;
*) exec "$CIUX_TEST_ENGINE/docker" "$@" ;;
esac
"#;

const KIND: &str = r#"#!/bin/sh
# Stand-in kind: `create cluster --name N` is recorded; the rest goes to the engine's kind.
if [ "$1 $2 $3" = "create cluster --name" ] && [ $# -eq 4 ]; then
  printf '%s\n' "$4" >> "$CIUX_TEST_STATE/clusters"
  exit 0
fi
exec "$CIUX_TEST_ENGINE/kind" "$@"
"#;

/// Stand-in actions: (directory, action.yml).
const STANDINS: &[(&str, &str)] = &[
    (
        "cache/restore",
        r#"name: cache restore (stand-in)
inputs:
  path: {required: true}
  key: {required: true}
outputs:
  cache-hit:
    value: ${{ steps.restore.outputs.hit }}
runs:
  using: composite
  steps:
    - id: restore
      shell: bash
      env: {P: "${{ inputs.path }}", K: "${{ inputs.key }}"}
      run: |
        echo "restore $K" >> "$CIUX_TEST_STATE/cache-calls"
        if [ -d "$CIUX_TEST_STATE/cache/$K" ]; then
          mkdir -p "$P" && cp -an "$CIUX_TEST_STATE/cache/$K/." "$P/"
          echo "hit=true" >> "$GITHUB_OUTPUT"
        else
          echo "hit=false" >> "$GITHUB_OUTPUT"
        fi
"#,
    ),
    (
        "cache/save",
        r#"name: cache save (stand-in)
inputs:
  path: {required: true}
  key: {required: true}
runs:
  using: composite
  steps:
    - shell: bash
      env: {P: "${{ inputs.path }}", K: "${{ inputs.key }}"}
      run: |
        echo "save $K" >> "$CIUX_TEST_STATE/cache-calls"
        # Parallel jobs save the same key: the first complete copy wins, by rename.
        # Host-mode jobs share one directory, so a file another job is writing
        # may vanish during the copy: like actions/cache, a failed save warns
        # and the job goes on.
        mkdir -p "$CIUX_TEST_STATE/cache"
        t="$(mktemp -d "$CIUX_TEST_STATE/cache/.save.XXXXXX")"
        if cp -a "$P/." "$t/"; then
          mv -T "$t" "$CIUX_TEST_STATE/cache/$K" 2>/dev/null || rm -rf "$t"
        else
          echo "cache save of $K failed; the job goes on" >&2
          rm -rf "$t"
        fi
"#,
    ),
    (
        "upload-artifact",
        r#"name: upload-artifact (stand-in)
inputs:
  name: {required: true}
  path: {required: true}
  retention-days: {required: false}
runs:
  using: composite
  steps:
    - shell: bash
      env: {N: "${{ inputs.name }}", P: "${{ inputs.path }}"}
      run: |
        mkdir -p "$CIUX_TEST_STATE/artifacts/$N"
        for f in $P; do cp -a "$f" "$CIUX_TEST_STATE/artifacts/$N/"; done
"#,
    ),
    (
        "download-artifact",
        r#"name: download-artifact (stand-in)
inputs:
  name: {required: true}
  path: {required: false, default: "."}
runs:
  using: composite
  steps:
    - shell: bash
      env: {N: "${{ inputs.name }}", P: "${{ inputs.path }}"}
      run: mkdir -p "$P" && cp -a "$CIUX_TEST_STATE/artifacts/$N/." "$P/"
"#,
    ),
    (
        "login-action",
        r#"name: login (stand-in)
inputs:
  registry: {required: false}
  username: {required: false}
  password: {required: false}
runs:
  using: composite
  steps:
    - shell: bash
      env: {R: "${{ inputs.registry }}"}
      run: echo "$R" >> "$CIUX_TEST_STATE/logins"
"#,
    ),
    (
        "kind-action",
        r#"name: kind (stand-in)
inputs:
  cluster_name: {required: false, default: chart-testing}
runs:
  using: composite
  steps:
    - shell: bash
      env: {N: "${{ inputs.cluster_name }}"}
      run: kind create cluster --name "$N"
"#,
    ),
];

/// Where the remote actions of the examples are mapped.
const MAPPINGS: &[(&str, &str)] = &[
    ("actions/cache@v4", "cache"),
    ("actions/upload-artifact@v4", "upload-artifact"),
    ("actions/download-artifact@v4", "download-artifact"),
    ("docker/login-action@v3", "login-action"),
    ("helm/kind-action@v1", "kind-action"),
];

/// The crate's root, where action.yml and docs/examples live.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// One act run: per job (id, plus the matrix when there is one) its result,
/// the raw lines it printed, the workflow commands act read, the summary.
#[derive(Debug, Default)]
pub struct Run {
    pub success: bool,
    pub results: BTreeMap<String, String>,
    pub lines: BTreeMap<String, Vec<String>>,
    pub commands: BTreeMap<String, Vec<(String, String)>>,
    pub summary: BTreeMap<String, String>,
    pub log: String,
}

impl Run {
    /// The log, short: what steps printed, failed steps, errors.
    pub fn digest(&self) -> String {
        let mut text = String::new();
        for line in self.log.lines() {
            let Ok(entry) = serde_json::from_str::<Value>(line) else {
                text.push_str(line);
                text.push('\n');
                continue;
            };
            let keep = entry["raw_output"] == true
                || entry["stepResult"] == "failure"
                || entry["jobResult"].is_string()
                || entry["level"] == "error";
            if keep {
                let name = entry["matrix"]["name"].as_str().unwrap_or_default();
                text.push_str(&format!(
                    "[{} {name}] {}\n",
                    entry["jobID"].as_str().unwrap_or_default(),
                    entry["msg"].as_str().unwrap_or_default().trim_end()
                ));
            }
        }
        text
    }

    /// The jobs that ran and succeeded, by id (matrix jobs once per entry).
    pub fn succeeded(&self, job: &str) -> usize {
        self.results
            .iter()
            .filter(|(k, v)| {
                (k.as_str() == job || k.starts_with(&format!("{job} "))) && *v == "success"
            })
            .count()
    }

    pub fn ran(&self, job: &str) -> bool {
        self.results
            .keys()
            .any(|k| k.as_str() == job || k.starts_with(&format!("{job} ")))
    }

    /// Every `::group::` of every job is closed, in order, and no workflow
    /// command was printed mid-line (where the runner does not read it).
    pub fn assert_groups_balanced(&self) {
        for (job, commands) in &self.commands {
            let mut depth = 0i32;
            for (command, _) in commands {
                match command.as_str() {
                    "group" => depth += 1,
                    "endgroup" => depth -= 1,
                    _ => {}
                }
                assert!(
                    (0..=1).contains(&depth),
                    "{job}: groups out of order: {commands:?}"
                );
            }
            assert_eq!(depth, 0, "{job}: unclosed group: {commands:?}");
        }
        for (job, lines) in &self.lines {
            for line in lines {
                assert!(
                    !line.contains("::group::") && !line.contains("::endgroup::"),
                    "{job}: a workflow command the runner did not read (mid-line): {line:?}"
                );
            }
        }
    }
}

pub struct Act {
    pub tmp: tempfile::TempDir,
    pub registry: Registry,
    pub engine: StandIn,
    pub remotes: PathBuf,
    pub ws: PathBuf,
    pub out: PathBuf,
    pub state: PathBuf,
    action: PathBuf,
    standins: PathBuf,
    bin: PathBuf,
    layout: PathBuf,
    runs: std::cell::Cell<usize>,
}

impl Act {
    pub fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let base = tmp.path().canonicalize().unwrap();
        let dir = |name: &str| {
            let d = base.join(name);
            std::fs::create_dir_all(&d).unwrap();
            d
        };
        let (remotes, ws, out, state) = (dir("remotes"), dir("ws"), dir("out"), dir("state"));
        let (action, standins, bin) = (dir("action"), dir("standins"), dir("bin"));
        // Only action.yml: act copies a mapped repository whole into each job.
        std::fs::copy(root().join("action.yml"), action.join("action.yml")).unwrap();
        for (path, text) in STANDINS {
            write(&standins.join(path).join("action.yml"), text);
        }
        write_exe(&bin.join("cargo"), CARGO);
        write_exe(&bin.join("docker"), DOCKER);
        write_exe(&bin.join("kind"), KIND);
        let layout = base.join("layout");
        write_layout(&layout, "v1", None);
        Self {
            registry: Registry::start(),
            engine: StandIn::new("docker"),
            tmp,
            remotes,
            ws,
            out,
            state,
            action,
            standins,
            bin,
            layout,
            runs: std::cell::Cell::new(0),
        }
    }

    /// A bare remote `name.git` on `main` tagged v1.0.0, with `files`; extra
    /// branches get one commit each. Returns its `file://` URL.
    pub fn remote(&self, name: &str, files: &[(&str, &str)], branches: &[&str]) -> String {
        crate::common::stack::bare_remote(&self.remotes, name, "main", files, branches)
    }

    /// Run `workflow` (a file) for `event` with `payload` in `project`.
    pub fn run(&self, project: &Path, event: &str, payload: &Value, workflow: &Path) -> Run {
        let n = self.runs.get() + 1;
        self.runs.set(n);
        let event_file = self.tmp.path().join(format!("event-{n}.json"));
        std::fs::write(&event_file, payload.to_string()).unwrap();
        let cache = self.tmp.path().join(format!("act-{n}"));
        let home = self.tmp.path().join("home");
        std::fs::create_dir_all(&home).unwrap();
        let mut cmd = Command::new(act_binary());
        cmd.current_dir(project)
            .arg(event)
            .arg("-W")
            .arg(workflow)
            .arg("-e")
            .arg(&event_file)
            .args(["-P", "ubuntu-latest=-self-hosted"])
            .args(["-P", "ubuntu-24.04=-self-hosted"])
            .args(["-P", "self-hosted=-self-hosted"])
            .arg("--action-cache-path")
            .arg(&cache)
            .args(["--no-cache-server", "--json"])
            .arg("--local-repository")
            .arg(format!("OWNER/ciux@main={}", self.action.display()));
        for (repository, dir) in MAPPINGS {
            cmd.arg("--local-repository").arg(format!(
                "{repository}={}",
                self.standins.join(dir).display()
            ));
        }
        for var in [
            "GITHUB_ACTIONS",
            "GITHUB_ENV",
            "GITHUB_OUTPUT",
            "GITHUB_STEP_SUMMARY",
            "GITHUB_HEAD_REF",
            "GITHUB_REF_NAME",
            "GITHUB_PATH",
            "CI",
            "CIUXCONFIG",
            "CIUX_LOG",
            "CIUX_ON_REGISTRY_ERROR",
        ] {
            cmd.env_remove(var);
        }
        isolate_env(&mut cmd);
        let path = std::env::var("PATH").unwrap_or_default();
        cmd.env("PATH", format!("{}:{path}", self.bin.display()))
            .env("HOME", &home)
            .env("CIUX_TEST_OUT", &self.out)
            .env("CIUX_TEST_STATE", &self.state)
            .env("CIUX_TEST_ENGINE", self.engine.dir.path())
            .env("CIUX_TEST_LAYOUT", &self.layout)
            .env("CIUX_TEST_BINARY", env!("CARGO_BIN_EXE_ciux"))
            .env("CIUX_CONTAINER_ENGINE", "docker")
            .stdin(std::process::Stdio::null());
        let start = Instant::now();
        let output = cmd.output().expect("act runs");
        let wall = start.elapsed();
        let _ = std::fs::remove_dir_all(&cache);
        let mut run = Run {
            success: output.status.success(),
            log: format!(
                "{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ),
            ..Run::default()
        };
        for line in run.log.lines() {
            let Ok(entry) = serde_json::from_str::<Value>(line) else {
                continue;
            };
            let Some(job) = entry["jobID"].as_str() else {
                continue;
            };
            let job = match entry["matrix"].as_object() {
                Some(m) if !m.is_empty() => format!("{job} {}", entry["matrix"]),
                _ => job.to_owned(),
            };
            let msg = entry["msg"].as_str().unwrap_or_default();
            if let Some(result) = entry["jobResult"].as_str() {
                run.results.insert(job.clone(), result.to_owned());
            }
            if entry["raw_output"] == true {
                run.lines
                    .entry(job.clone())
                    .or_default()
                    .push(msg.trim_end_matches('\n').to_owned());
            }
            if let Some(command) = entry["command"].as_str() {
                if command == "summary" {
                    run.summary
                        .entry(job.clone())
                        .or_default()
                        .push_str(entry["content"].as_str().unwrap_or_default());
                }
                run.commands.entry(job.clone()).or_default().push((
                    command.to_owned(),
                    entry["arg"].as_str().unwrap_or_default().to_owned(),
                ));
            }
        }
        eprintln!(
            "act {event} {}: {:.1} s",
            workflow.display(),
            wall.as_secs_f64()
        );
        run
    }

    /// An example workflow from docs/examples, with `substitutions` applied
    /// (each must occur, so the test notices when the example changes).
    pub fn example(&self, name: &str, substitutions: &[(&str, &str)]) -> PathBuf {
        let mut text = std::fs::read_to_string(root().join("docs/examples").join(name)).unwrap();
        for (from, to) in substitutions {
            assert!(text.contains(from), "{name} no longer holds {from:?}");
            text = text.replace(from, to);
        }
        let path = self.tmp.path().join("workflows").join(name);
        write(&path, &text);
        path
    }

    /// A workflow of the test itself.
    pub fn workflow(&self, name: &str, text: &str) -> PathBuf {
        let path = self.tmp.path().join("workflows").join(name);
        write(&path, text);
        path
    }

    /// Lines of a file the stand-ins write in the state directory.
    pub fn state_lines(&self, name: &str) -> Vec<String> {
        std::fs::read_to_string(self.state.join(name))
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    pub fn take_state(&self, name: &str) -> Vec<String> {
        let lines = self.state_lines(name);
        let _ = std::fs::remove_file(self.state.join(name));
        lines
    }

    /// A JSON file a workflow step wrote in the out directory.
    pub fn out_json(&self, name: &str) -> Value {
        let text = std::fs::read_to_string(self.out.join(name))
            .unwrap_or_else(|e| panic!("{name} was not written by the workflow: {e}"));
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}: {text}"))
    }
}
