//! `ciux check` on a real workspace (project + sibling dependencies, each with a
//! bare remote), every finding provoked; and the pre-push hook in real pushes.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::common::context::ROOT;
use crate::common::git::{Repo, git, isolate_env};
use crate::common::{TestContext, ciux};
use crate::tag::{bare_remote, file_url, refs};

/// A workspace: the project `ws/proj` (the context's repository) and its
/// siblings `ws/<dep>`, remotes in `remotes/`.
pub(crate) struct Workspace {
    pub ctx: TestContext,
    pub deps: Vec<Repo>,
    pub remotes: PathBuf,
}

impl Workspace {
    pub(crate) fn remote(&self, name: &str) -> PathBuf {
        self.remotes.join(format!("{name}.git"))
    }
}

/// A repository `ws/<name>` with one tagged commit, pushed to `remotes/<name>.git`.
pub(crate) fn pushed_repo(tmp: &Path, name: &str, files: &[(&str, &str)]) -> Repo {
    let mut repo = Repo::init(&tmp.join("ws").join(name));
    repo.commit("initial", files);
    repo.tag("v1.0.0");
    push_to_remote(tmp, name, &mut repo);
    repo
}

/// Push `repo` (branch `main` and the tags) to a new `remotes/<name>.git`.
fn push_to_remote(tmp: &Path, name: &str, repo: &mut Repo) {
    let bare = bare_remote(&tmp.join("remotes").join(format!("{name}.git")));
    repo.git(&["remote", "add", "origin", &file_url(&bare)]);
    repo.git(&["push", "-q", "-u", "origin", "main", "--tags"]);
}

/// `.ciux.toml` with `source_paths = ["src"]` and clone = true git dependencies.
pub(crate) fn config_with(tmp: &Path, deps: &[&str]) -> String {
    let mut text = "source_paths = [\"src\"]\n".to_owned();
    for dep in deps {
        let url = file_url(&tmp.join("remotes").join(format!("{dep}.git")));
        text.push_str(&format!(
            "\n[[dependencies]]\nurl = \"{url}\"\nclone = true\n"
        ));
    }
    text
}

/// The [`Workspace`] with siblings `deps`, each tagged v1.0.0 and pushed, as
/// the project is.
pub(crate) fn workspace(deps: &[&str]) -> Workspace {
    let mut ctx = TestContext::builder()
        .dir("ws/proj")
        .file("src/main.c", "int main;\n")
        .file("README", "proj\n")
        .config(&config_with(Path::new(ROOT), deps))
        .tag("v1.0.0")
        .build();
    let root = ctx.root.clone();
    push_to_remote(&root, "proj", &mut ctx.repo);
    Workspace {
        deps: deps
            .iter()
            .map(|d| pushed_repo(&root, d, &[("README", d)]))
            .collect(),
        remotes: root.join("remotes"),
        ctx,
    }
}

fn check(dir: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let out = ciux(dir).arg("check").args(args).output().unwrap();
    (
        out.status.code(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// The `(severity, code, repository)` of each finding, from the JSON report.
fn findings(dir: &Path, args: &[&str]) -> (Option<i32>, Vec<(String, String, String)>) {
    let mut all = vec!["--format", "json"];
    all.extend_from_slice(args);
    let (code, stdout, stderr) = check(dir, &all);
    let report: serde_json::Value =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout} {stderr}"));
    assert_eq!(report["remotes_contacted"], false);
    let list = report["findings"].as_array().unwrap();
    for f in list {
        assert!(
            f["fix"].is_string() || f["hint"].is_string(),
            "every finding says what to do: {f}"
        );
        if let Some(fix) = f["fix"].as_str() {
            assert_pasteable(fix);
        }
        assert!(
            !f["message"].as_str().unwrap().contains('\n'),
            "one line: {f}"
        );
    }
    let list = list
        .iter()
        .map(|f| {
            let s = |k: &str| f[k].as_str().unwrap().to_owned();
            (s("severity"), s("code"), s("repository"))
        })
        .collect();
    (code, list)
}

/// A fix line is a command to paste into a shell: git or ciux commands joined
/// by `&&`, every word a plain or quoted word; no backticks (which a shell
/// runs), no `<placeholder>` (which a shell reads as a redirection), no prose.
pub(crate) fn assert_pasteable(fix: &str) {
    let words = shlex::split(fix).unwrap_or_else(|| panic!("not shell words: {fix}"));
    let mut command_start = true;
    for word in &words {
        if command_start {
            assert!(
                word == "git" || word == "ciux",
                "{fix:?}: `{word}` is not a command"
            );
        }
        command_start = word == "&&";
    }
    for bad in ['`', '<', '>', '|', ';'] {
        let unquoted: String = fix.split('\'').step_by(2).collect();
        assert!(
            !unquoted.contains(bad),
            "{fix:?} holds `{bad}` outside quotes"
        );
    }
    assert!(!fix.contains(", or "), "{fix:?} is prose");
}

fn f(severity: &str, code: &str, repo: &str) -> (String, String, String) {
    (severity.into(), code.into(), repo.into())
}

#[test]
fn clean_workspace_passes_and_says_remotes_were_not_contacted() {
    let ws = workspace(&["alpha", "beta"]);
    let (code, stdout, stderr) = check(&ws.ctx.repo.dir, &[]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(
        stdout.contains("checked 3 repositories: 0 errors, 0 warnings"),
        "{stdout}"
    );
    assert!(stdout.contains("no remote was contacted"), "{stdout}");
}

#[test]
fn dirty_source_tree_is_an_error_other_changes_are_not() {
    let ws = workspace(&[]);
    ws.ctx.repo.write("README", "changed\n");
    assert_eq!(findings(&ws.ctx.repo.dir, &[]), (Some(0), vec![]));
    ws.ctx.repo.write("src/main.c", "int main(void);\n");
    let (code, stdout, _) = check(&ws.ctx.repo.dir, &[]);
    assert_eq!(code, Some(1));
    assert!(
        stdout
            .contains("error[dirty-source] proj: uncommitted changes under the source paths (src)"),
        "{stdout}"
    );
    assert!(stdout.contains("  fix: git status\n"), "{stdout}");
    assert!(stdout.contains("  hint: commit or stash them"), "{stdout}");
}

#[test]
fn invalid_config_is_an_error() {
    let mut ws = workspace(&[]);
    ws.ctx.repo.commit(
        "bad config",
        &[(".ciux.toml", "source_paths = [\"src\"]\nbogus = 1\n")],
    );
    let (code, list) = findings(&ws.ctx.repo.dir, &[]);
    assert_eq!(
        code,
        Some(2),
        "bad configuration exits 2, as for every command"
    );
    assert_eq!(list, vec![f("error", "config", "proj")]);
    let (_, stdout, _) = check(&ws.ctx.repo.dir, &[]);
    assert!(stdout.contains(".ciux.toml:2:1: bogus"), "{stdout}");
}

#[test]
fn shallow_clone_and_missing_tags() {
    let mut ws = workspace(&[]);
    ws.ctx.repo.commit("two", &[("src/b.c", "b")]);
    ws.ctx.repo.git(&["push", "-q", "origin", "main"]);
    let shallow = ws.ctx.root.join("elsewhere/proj");
    git(
        &ws.ctx.root,
        &[
            "clone",
            "-q",
            "--depth",
            "1",
            &file_url(&ws.remote("proj")),
            shallow.to_str().unwrap(),
        ],
    );
    assert_eq!(
        findings(&shallow, &[]),
        (Some(1), vec![f("error", "shallow", "proj")])
    );

    let mut untagged = Repo::init(&ws.ctx.root.join("untagged"));
    untagged.commit("one", &[("a", "a")]);
    let (code, list) = findings(&untagged.dir, &[]);
    assert_eq!(code, Some(0), "a warning alone passes");
    assert!(
        list.contains(&f("warning", "no-tags", "untagged")),
        "{list:?}"
    );
}

#[test]
fn project_branch_not_upstream_unless_being_pushed() {
    let mut ws = workspace(&[]);
    ws.ctx.repo.git(&["checkout", "-q", "-b", "feat"]);
    assert_eq!(
        findings(&ws.ctx.repo.dir, &[]),
        (Some(0), vec![f("warning", "branch-not-upstream", "proj")])
    );
    let line = format!(
        "refs/heads/feat {} refs/heads/feat {}\n",
        ws.ctx.repo.head(),
        "0".repeat(40)
    );
    let out = ciux(&ws.ctx.repo.dir)
        .args(["check", "--pre-push", "--format", "json"])
        .write_stdin(line)
        .output()
        .unwrap();
    assert!(out.status.success());
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["findings"], serde_json::json!([]));
    assert_eq!(report["branch"], "feat");
}

#[test]
fn siblings_on_the_branch_ci_would_use() {
    let mut ws = workspace(&["alpha", "beta", "gamma", "delta"]);
    let [alpha, beta, gamma, _delta] = &mut ws.deps[..] else {
        unreachable!()
    };
    // the project works on `feat`, pushed
    ws.ctx.repo.git(&["checkout", "-q", "-b", "feat"]);
    ws.ctx.repo.git(&["push", "-q", "-u", "origin", "feat"]);
    // alpha: on `feat` too, but never pushed: CI falls back to main
    alpha.git(&["checkout", "-q", "-b", "feat"]);
    // beta: on an unrelated branch
    beta.git(&["checkout", "-q", "-b", "dev"]);
    // gamma: on main (what CI uses) with a commit not pushed, and a dirty tree
    gamma.commit("local work", &[("g", "1")]);
    gamma.write("README", "edited");
    // delta: fine (main, as CI falls back to it)
    // epsilon would be a dependency that is not cloned
    let missing = ws.ctx.root.join("ws/epsilon");
    let mut config = config_with(&ws.ctx.root, &["alpha", "beta", "gamma", "delta"]);
    config.push_str(
        "\n[[dependencies]]\nurl = \"https://127.0.0.1:9/org/epsilon.git\"\nclone = true\n",
    );
    ws.ctx.repo.commit("epsilon", &[(".ciux.toml", &config)]);
    ws.ctx.repo.git(&["push", "-q"]);
    assert!(!missing.exists());

    let (code, mut list) = findings(&ws.ctx.repo.dir, &[]);
    list.sort();
    assert_eq!(code, Some(1));
    assert_eq!(
        list,
        vec![
            f("error", "sibling-branch", "beta"),
            f("error", "sibling-branch-not-pushed", "alpha"),
            f("error", "sibling-unpushed", "gamma"),
            f("warning", "sibling-dirty", "gamma"),
            f("warning", "sibling-missing", "epsilon"),
        ]
    );
    let (_, stdout, _) = check(&ws.ctx.repo.dir, &[]);
    assert!(
        stdout.contains(
            "alpha: on branch `feat`, which `origin` does not have: CI falls back to `main`"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("beta: on branch `dev`, but CI uses `main` (`origin` has no branch `feat`, so CI falls back to it)"), "{stdout}");
    assert!(
        stdout.contains("gamma: 1 commit on `main` not pushed to `origin`"),
        "{stdout}"
    );
    assert!(
        stdout.contains("checked 5 repositories: 3 errors, 2 warnings"),
        "{stdout}"
    );

    // pushing alpha's branch makes `feat` what CI uses for it: fixed
    alpha.git(&["push", "-q", "-u", "origin", "feat"]);
    let (_, list) = findings(&ws.ctx.repo.dir, &[]);
    assert!(!list.iter().any(|(_, _, repo)| repo == "alpha"), "{list:?}");
}

/// The siblings checked are those of the resolved graph, a sibling's own
/// `clone = true` dependencies included; a sibling whose configuration is
/// invalid is a configuration finding naming its file, and the project and
/// its direct siblings are still checked.
#[test]
fn siblings_of_siblings_are_checked_and_their_configuration_too() {
    let mut ws = workspace(&["alpha"]);
    let root = ws.ctx.root.clone();
    let mut inner = pushed_repo(&root, "inner", &[("README", "inner")]);
    let alpha = &mut ws.deps[0];
    alpha.commit(
        "depends on inner",
        &[(".ciux.toml", &config_with(&root, &["inner"]))],
    );
    alpha.git(&["push", "-q"]);
    inner.git(&["checkout", "-q", "-b", "dev"]);
    let (code, list) = findings(&ws.ctx.repo.dir, &[]);
    assert_eq!(code, Some(1));
    assert_eq!(list, vec![f("error", "sibling-branch", "inner")]);
    let (_, stdout, _) = check(&ws.ctx.repo.dir, &[]);
    assert!(stdout.contains("checked 3 repositories"), "{stdout}");

    alpha.write(".ciux.toml", "bogus = 1\n");
    ws.ctx.repo.write("src/main.c", "int main(void);\n");
    let (code, mut list) = findings(&ws.ctx.repo.dir, &[]);
    list.sort();
    assert_eq!(code, Some(2), "an invalid configuration exits 2");
    assert_eq!(
        list,
        vec![
            f("error", "config", "proj"),
            f("error", "dirty-source", "proj"),
            f("warning", "sibling-dirty", "alpha"),
        ]
    );
    let (_, stdout, _) = check(&ws.ctx.repo.dir, &[]);
    assert!(stdout.contains("alpha/.ciux.toml:1:1: bogus"), "{stdout}");
}

// ---- the hook ----

fn hook_path(repo: &Repo) -> PathBuf {
    repo.dir.join(".git/hooks/pre-push")
}

fn push(dir: &Path, args: &[&str]) -> Output {
    let mut cmd = Command::new("git");
    cmd.current_dir(dir)
        .arg("push")
        .args(args)
        .stdin(Stdio::null());
    isolate_env(&mut cmd);
    cmd.output().unwrap()
}

fn hook(dir: &Path, action: &str) -> Output {
    ciux(dir).args(["hook", action]).output().unwrap()
}

#[test]
fn hook_blocks_a_push_with_a_dirty_source_tree() {
    let mut ws = workspace(&[]);
    let out = hook(&ws.ctx.repo.dir, "install");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("installed"));
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(hook_path(&ws.ctx.repo))
            .unwrap()
            .permissions(),
    );
    assert_eq!(mode & 0o111, 0o111);

    ws.ctx.repo.commit("two", &[("src/b.c", "b")]);
    ws.ctx.repo.write("src/main.c", "uncommitted");
    let remote = ws.remote("proj");
    let before = refs(&remote);
    let out = push(&ws.ctx.repo.dir, &["origin", "main"]);
    assert!(!out.status.success(), "the push went through");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stdout.contains("error[dirty-source]") || stderr.contains("error[dirty-source]"),
        "{stdout}{stderr}"
    );
    assert_eq!(refs(&remote), before, "the remote did not move");

    git(&ws.ctx.repo.dir, &["checkout", "--", "src/main.c"]);
    let out = push(&ws.ctx.repo.dir, &["origin", "main"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(git(&remote, &["rev-parse", "main"]), ws.ctx.repo.head());
}

#[test]
fn hook_chains_an_existing_hook_and_uninstall_restores_it() {
    let mut ws = workspace(&[]);
    let record = ws.ctx.root.join("record");
    let original = format!(
        "#!/bin/sh\necho \"args: $*\" >{0}\ncat >>{0}\nexit ${{HOOK_EXIT:-0}}\n",
        record.display()
    );
    let path = hook_path(&ws.ctx.repo);
    std::fs::write(&path, &original).unwrap();
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();

    let out = hook(&ws.ctx.repo.dir, "install");
    assert!(out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("pre-push.ciux-chained and runs after the check")
    );
    ws.ctx.repo.commit("two", &[("src/b.c", "b")]);
    let out = push(&ws.ctx.repo.dir, &["origin", "main"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let recorded = std::fs::read_to_string(&record).unwrap();
    let url = file_url(&ws.remote("proj"));
    assert!(
        recorded.starts_with(&format!("args: origin {url}\n")),
        "{recorded}"
    );
    assert!(
        recorded.contains(&format!(
            "refs/heads/main {} refs/heads/main",
            ws.ctx.repo.head()
        )),
        "the chained hook got git's input: {recorded}"
    );

    // the chained hook's verdict counts
    ws.ctx.repo.commit("three", &[("src/c.c", "c")]);
    let mut cmd = Command::new("git");
    cmd.current_dir(&ws.ctx.repo.dir)
        .args(["push", "origin", "main"])
        .env("HOOK_EXIT", "3");
    isolate_env(&mut cmd);
    assert!(!cmd.output().unwrap().status.success());

    // installing again updates ours and keeps the chained one
    let out = hook(&ws.ctx.repo.dir, "install");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("updated"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = hook(&ws.ctx.repo.dir, "uninstall");
    assert!(out.status.success());
    assert_eq!(std::fs::read_to_string(&path).unwrap(), original);
    assert!(!path.with_file_name("pre-push.ciux-chained").exists());
}

#[test]
fn hook_refuses_to_overwrite_or_remove_what_is_not_its_own() {
    let ws = workspace(&[]);
    let path = hook_path(&ws.ctx.repo);
    let chained = path.with_file_name("pre-push.ciux-chained");
    std::fs::write(&path, "#!/bin/sh\necho mine\n").unwrap();
    std::fs::write(&chained, "#!/bin/sh\necho older\n").unwrap();
    let out = hook(&ws.ctx.repo.dir, "install");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("refusing to overwrite"));
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "#!/bin/sh\necho mine\n"
    );
    assert_eq!(
        std::fs::read_to_string(&chained).unwrap(),
        "#!/bin/sh\necho older\n"
    );

    let out = hook(&ws.ctx.repo.dir, "uninstall");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("was not written by ciux"));
    assert!(path.exists());

    std::fs::remove_file(&path).unwrap();
    let out = hook(&ws.ctx.repo.dir, "uninstall");
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no ciux hook"));
}

/// Branch names are chosen by whoever pushes: the hook must never execute one.
#[test]
fn hook_never_executes_a_branch_name() {
    let mut ws = workspace(&[]);
    assert!(hook(&ws.ctx.repo.dir, "install").status.success());
    let evil = "x$(touch${IFS}pwned)`touch${IFS}pwned2`";
    ws.ctx.repo.git(&["checkout", "-q", "-b", evil]);
    ws.ctx.repo.commit("two", &[("src/b.c", "b")]);
    let out = push(&ws.ctx.repo.dir, &["origin", evil]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for dir in [
        &ws.ctx.repo.dir,
        &ws.ctx.repo.dir.join(".git"),
        &ws.ctx.repo.dir.join(".git/hooks"),
    ] {
        assert!(!dir.join("pwned").exists() && !dir.join("pwned2").exists());
    }
}
