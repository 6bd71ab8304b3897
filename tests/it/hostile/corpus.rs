//! The corpus: over a hundred hostile names, made real (branches and tags
//! that git accepts, directories, remote URLs), through every output format
//! (sh, dotenv, JSON, GitHub env/output files, plan formats) and every command
//! that prints. Nothing runs, no stderr line is a workflow command, and each
//! value comes back exactly.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use super::{assert_file_loads, assert_stderr_inert, ciux_cmd, entries, run};
use crate::common::git::{Repo, git};
use crate::common::stack::Stack;

/// Fragments a stranger would put in a name.
const PAYLOADS: [&str; 26] = [
    "$(touch${IFS}pwned)",
    "`touch${IFS}pwned`",
    "';touch${IFS}pwned;'",
    "\";touch${IFS}pwned;\"",
    "$IFS",
    "${PATH}",
    "$((1+1))",
    "a;b",
    "a|b",
    "a&b",
    "a>b",
    "a<b",
    "(x)",
    "{a,b}",
    "#x",
    "!x",
    "%0A::error::pwned",
    "%25%0D",
    "'",
    "\"",
    "é✓→漢字",
    "\u{202e}rtl",
    "=x=",
    "$'\\x41'",
    "x\"$(id)\"",
    "--upload-pack=touch",
];

/// Branch names git accepts, built from the payloads: at least 100.
fn branch_names() -> Vec<String> {
    let mut names = Vec::new();
    let prefixes = ["", "feat/", "x-", "v1.2.3-", "__"];
    for (i, payload) in PAYLOADS.iter().enumerate() {
        for prefix in prefixes {
            let name = format!("{prefix}{payload}{}", if i % 2 == 0 { "" } else { "-end" });
            if is_branch_name(&name) && !names.contains(&name) {
                names.push(name);
            }
        }
    }
    names
}

fn is_branch_name(name: &str) -> bool {
    Command::new("git")
        .args(["check-ref-format", "--branch", name])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Read the `$GITHUB_ENV`-style file the way the runner does.
fn github_pairs(path: &Path) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    ciux::github::parse_github_file(&text)
        .unwrap()
        .into_iter()
        .collect()
}

/// Each hostile branch, checked out for real, through `ignite` in every env
/// format and in GitHub Actions, and (one in five) through every plan format,
/// `get deps`, `get revision` and `check`.
#[test]
fn hostile_branches_through_every_format_and_command() {
    let names = branch_names();
    assert!(names.len() >= 100, "{} names", names.len());
    let stack = Stack::new();
    let url = stack.remote("dep-x", "main", &[], None);
    let mut repo = stack.project(
        "main",
        &format!("[[dependencies]]\nurl = \"{url}\"\nclone = true\nlabels = {{ ci = \"true\" }}\n"),
    );
    repo.tag("v2.0.0");
    let runner = stack.ws.join("runner");
    std::fs::create_dir_all(&runner).unwrap();
    for (n, branch) in names.iter().enumerate() {
        git(&repo.dir, &["checkout", "-q", "-B", branch]);
        let (gh_env, gh_out) = (runner.join("env"), runner.join("output"));
        std::fs::write(&gh_env, "").unwrap();
        std::fs::write(&gh_out, "").unwrap();
        let (code, stdout, stderr, _) = run(
            ciux_cmd(&repo.dir)
                .args(["ignite", "--format", "sh", "--format", "dotenv"])
                .args(["--format", "json", "--format", "github"])
                .env("GITHUB_ACTIONS", "true")
                .env("GITHUB_ENV", &gh_env)
                .env("GITHUB_OUTPUT", &gh_out)
                .env("GITHUB_STEP_SUMMARY", runner.join("summary")),
            Duration::from_secs(60),
        );
        assert_eq!(code, Some(0), "{branch}: {stderr}");
        assert_eq!(stdout, "", "{branch}");
        assert_stderr_inert(&stderr);
        let want: BTreeMap<String, String> = [
            ("PROJ_WORKBRANCH", branch.as_str()),
            ("PROJ_VERSION", "v2.0.0"),
            ("DEP_X_WORKBRANCH", "main"),
            ("DEP_X_VERSION", "v1.0.0"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let dir = repo.dir.join(".ciux.d");
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("ciux.json")).unwrap()).unwrap();
        let all: BTreeMap<String, String> = json["env"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
            .collect();
        for (name, value) in &want {
            assert_eq!(all.get(name), Some(value), "{branch}: json {name}");
        }
        assert_file_loads(&dir.join("ciux.sh"), &want, Some(&all), &stack.ws);
        assert_file_loads(&dir.join("ciux.env"), &want, Some(&all), &stack.ws);
        assert_eq!(github_pairs(&gh_env), all, "{branch}: $GITHUB_ENV");
        assert_eq!(
            github_pairs(&gh_out).get("PROJ_WORKBRANCH"),
            Some(&branch.clone())
        );
        if n % 5 == 0 {
            other_commands(&repo, branch, &runner);
        }
    }
    assert_eq!(
        entries(&stack.ws),
        ["dep-x", "proj", "runner"].map(std::ffi::OsString::from),
        "nothing ran"
    );
}

/// Plan formats, `get deps`, `get revision`, `check`, in and out of Actions.
fn other_commands(repo: &Repo, branch: &str, runner: &Path) {
    let mut commands: Vec<Vec<&str>> = ["text", "json", "github-matrix", "mermaid", "dot"]
        .iter()
        .map(|f| vec!["plan", "--format", f])
        .collect();
    commands.push(vec!["get", "deps"]);
    commands.push(vec!["get", "revision"]);
    commands.push(vec!["check"]);
    commands.push(vec!["explain"]);
    for command in &commands {
        for actions in [false, true] {
            let mut cmd = ciux_cmd(&repo.dir);
            cmd.args(command);
            if actions {
                cmd.env("GITHUB_ACTIONS", "true")
                    .env("GITHUB_OUTPUT", runner.join("output"))
                    .env("GITHUB_STEP_SUMMARY", runner.join("summary"));
            }
            let (code, stdout, stderr, _) = run(&mut cmd, Duration::from_secs(60));
            assert!(
                matches!(code, Some(0..=2)),
                "{branch} {command:?}: {stderr}"
            );
            assert!(!stderr.contains("panicked"), "{stderr}");
            assert_stderr_inert(&stderr);
            if actions {
                // stdout is shown in the log too: no workflow command there either.
                assert_stderr_inert(&stdout.replace("::group::", "").replace("::endgroup::", ""));
            }
            if command[0] == "plan" && command[2] == "json" {
                let plan: Result<serde_json::Value, _> = serde_json::from_str(&stdout);
                assert!(plan.is_ok(), "{branch}: plan JSON parses: {stdout}");
            }
        }
    }
}

/// Hostile annotated tags (not semantic versions, so not versions) and
/// hostile project directories and remote URLs.
#[test]
fn hostile_tags_paths_and_urls() {
    let stack = Stack::new();
    let mut count = 0;
    // URLs: remotes whose directory names hold the payloads.
    let mut deps = String::new();
    let mut remotes = Vec::new();
    for (i, payload) in PAYLOADS
        .iter()
        .enumerate()
        .filter(|(_, p)| !p.contains(['%', ' ']))
    {
        let name = format!("r{i}{payload}").replace('/', "_");
        if !is_branch_name(&name) {
            continue;
        }
        let url = stack.remote(&name, "main", &[], None);
        deps.push_str(&format!(
            "[[dependencies]]\nurl = {}\nclone = false\n",
            toml_string(&url)
        ));
        remotes.push(name);
        count += 1;
        if remotes.len() == 6 {
            break;
        }
    }
    // Paths: project directories named with the payloads.
    for (i, payload) in PAYLOADS.iter().enumerate().take(12) {
        let dir = stack.ws.join(format!("p{i} {payload}").replace('/', "_"));
        let mut repo = Repo::init(&dir);
        repo.commit("initial", &[(".ciux.toml", &deps), ("f", "1")]);
        // Tags: hostile names that git accepts, ignored as versions.
        for tag in [format!("t{i}{payload}"), format!("v1.0.0-{payload}")] {
            if is_branch_name(&tag) {
                repo.git(&["tag", "-a", &tag, "-m", &tag]);
                count += 1;
            }
        }
        count += 1;
        let (code, stdout, stderr, _) = run(
            ciux_cmd(&dir).args(["ignite", "--format", "sh", "--format", "dotenv"]),
            Duration::from_secs(60),
        );
        assert_eq!(code, Some(0), "{}: {stderr}", dir.display());
        assert_eq!(stdout, "");
        assert_stderr_inert(&stderr);
        let oracle = git(
            &dir,
            &[
                "describe",
                "--always",
                "--abbrev=7",
                "--dirty",
                "--match",
                "v[0-9]*.[0-9]*.[0-9]",
            ],
        );
        let (code, revision, stderr, _) = run(
            ciux_cmd(&dir).args(["get", "revision"]),
            Duration::from_secs(30),
        );
        assert_eq!(code, Some(0), "{stderr}");
        assert_eq!(revision.trim_end(), oracle, "{}", dir.display());
        let prefix = ciux::emit::names::repo_prefix(&dir.file_name().unwrap().to_string_lossy());
        let want: BTreeMap<String, String> = [
            (format!("{prefix}_DIR"), dir.to_str().unwrap().to_owned()),
            (format!("{prefix}_VERSION"), oracle),
        ]
        .into_iter()
        .collect();
        for file in ["ciux.sh", "ciux.env"] {
            assert_file_loads(&dir.join(".ciux.d").join(file), &want, None, &stack.ws);
        }
        let (code, _, stderr, _) = run(
            ciux_cmd(&dir).args(["get", "deps"]),
            Duration::from_secs(30),
        );
        assert_eq!(code, Some(0), "{stderr}");
        assert_stderr_inert(&stderr);
    }
    assert!(count >= 20, "{count}");
}

fn toml_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// On a detached HEAD (GitHub's checkout), the branch comes from
/// `GITHUB_HEAD_REF`, then `GITHUB_REF_NAME`: hostile values there are loaded
/// back exactly from the sh and dotenv files by bash and dash, running nothing.
#[test]
fn hostile_branches_from_github_variables_on_a_detached_head() {
    let stack = Stack::new();
    let mut repo = stack.project("main", "");
    repo.tag("v3.0.0");
    git(&repo.dir, &["checkout", "-q", "--detach"]);
    for (i, branch) in branch_names().iter().enumerate().step_by(4) {
        let var = if i % 8 == 0 {
            "GITHUB_HEAD_REF"
        } else {
            "GITHUB_REF_NAME"
        };
        let mut cmd = ciux_cmd(&repo.dir);
        cmd.args(["ignite", "--format", "sh", "--format", "dotenv"])
            .env(var, branch);
        if var == "GITHUB_REF_NAME" {
            cmd.env("GITHUB_HEAD_REF", "");
        }
        let (code, _, stderr, _) = run(&mut cmd, Duration::from_secs(60));
        assert_eq!(code, Some(0), "{var}={branch}: {stderr}");
        assert_stderr_inert(&stderr);
        let want: BTreeMap<String, String> = [
            ("PROJ_WORKBRANCH".to_owned(), branch.clone()),
            ("PROJ_VERSION".to_owned(), "v3.0.0".to_owned()),
        ]
        .into_iter()
        .collect();
        let dir = repo.dir.join(".ciux.d");
        assert_file_loads(&dir.join("ciux.sh"), &want, None, &stack.ws);
        assert_file_loads(&dir.join("ciux.env"), &want, None, &stack.ws);
    }
    assert_eq!(
        entries(&stack.ws),
        ["proj"].map(std::ffi::OsString::from),
        "nothing ran"
    );
}
