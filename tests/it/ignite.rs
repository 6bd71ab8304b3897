//! `ciux ignite`, `get configpath`, `get deps`: real repositories, bare
//! "remotes" reached by `file://` URL, env files read back by bash.

use std::path::{Path, PathBuf};
use std::process::Command;

use proptest::prelude::*;

use crate::common::ciux;
use crate::common::git::{Repo, git};

/// A temporary tree: `remotes/` holds bare repositories, `ws/` the project and its siblings.
struct Stack {
    _tmp: tempfile::TempDir,
    remotes: PathBuf,
    ws: PathBuf,
}

impl Stack {
    fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().canonicalize().unwrap();
        let (remotes, ws) = (root.join("remotes"), root.join("ws"));
        std::fs::create_dir_all(&remotes).unwrap();
        std::fs::create_dir_all(&ws).unwrap();
        Self {
            _tmp: tmp,
            remotes,
            ws,
        }
    }

    /// A bare remote `name.git` whose default branch is `first` (tagged v1.0.0),
    /// with one more commit on each of `others`; returns its `file://` URL.
    fn remote(&self, name: &str, first: &str, others: &[&str], config: Option<&str>) -> String {
        let src = self.remotes.join(format!("{name}-src"));
        let mut repo = Repo::init(&src);
        repo.git(&["checkout", "-q", "-b", first]);
        let mut files = vec![("README", name)];
        if let Some(config) = config {
            files.push((".ciux.toml", config));
        }
        repo.commit("initial", &files);
        repo.tag("v1.0.0");
        for branch in others {
            repo.git(&["checkout", "-q", "-b", branch, first]);
            repo.commit(&format!("on {branch}"), &[("branch", branch)]);
        }
        repo.git(&["checkout", "-q", first]);
        let bare = self.remotes.join(format!("{name}.git"));
        git(
            &self.remotes,
            &[
                "clone",
                "-q",
                "--bare",
                src.to_str().unwrap(),
                bare.to_str().unwrap(),
            ],
        );
        format!("file://{}", bare.display())
    }

    /// Push one more commit to `branch` of remote `name`.
    fn advance(&self, name: &str, branch: &str) {
        let src = self.remotes.join(format!("{name}-src"));
        let mut repo = Repo {
            dir: src,
            clock: 1_800_000_000,
        };
        repo.git(&["checkout", "-q", branch]);
        repo.commit("more", &[("more", "more")]);
        let bare = self.remotes.join(format!("{name}.git"));
        repo.git(&["push", "-q", bare.to_str().unwrap(), branch]);
    }

    /// The project `proj` in `ws/`, on `branch`, with `config` as `.ciux.toml`.
    fn project(&self, branch: &str, config: &str) -> Repo {
        let mut repo = Repo::init(&self.ws.join("proj"));
        repo.git(&["checkout", "-q", "-b", branch]);
        repo.commit(
            "initial",
            &[(".ciux.toml", config), (".gitignore", ".ciux.d/\n")],
        );
        repo
    }
}

fn git_dep(url: &str, clone: bool, labels: &str) -> String {
    format!("[[dependencies]]\nurl = \"{url}\"\nclone = {clone}\nlabels = {{ {labels} }}\n")
}

/// Source `file` in bash and return the values of `names`, NUL-separated on the wire.
fn source(file: &Path, names: &[&str], cwd: &Path) -> Vec<String> {
    let mut script = String::from("set -eu; source \"$1\"");
    for name in names {
        script.push_str(&format!("; printf '%s\\0' \"${{{name}}}\""));
    }
    let out = Command::new("bash")
        .current_dir(cwd)
        .args(["--noprofile", "--norc", "-c", &script, "bash"])
        .arg(file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "bash: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut values: Vec<String> = out
        .stdout
        .split(|b| *b == 0)
        .map(|v| String::from_utf8(v.to_vec()).unwrap())
        .collect();
    values.pop();
    values
}

fn run_ok(cmd: &mut assert_cmd::Command) -> (String, String) {
    let out = cmd.output().unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    assert!(
        out.status.success(),
        "exit {:?}\n{stderr}",
        out.status.code()
    );
    (stdout, stderr)
}

#[test]
fn hostile_branch_and_path_round_trip_and_run_nothing() {
    let stack = Stack::new();
    let dir = stack.ws.join("it's a $(dir) `x`");
    let mut repo = Repo::init(&dir);
    let branch = "x$(touch${IFS}pwned)';touch${IFS}pwned2;'\"`touch${IFS}pwned3`";
    repo.git(&["checkout", "-q", "-b", branch]);
    repo.commit("initial", &[("f", "1")]);
    repo.tag("v1.2.3-rc1");
    let (stdout, _) = run_ok(ciux(&dir).arg("ignite"));
    assert_eq!(stdout, "", "ignite prints nothing on stdout");
    let file = dir.join(".ciux.d/ciux.sh");
    let prefix = "IT_S_A___DIR___X_";
    let names = [
        format!("{prefix}_DIR"),
        format!("{prefix}_VERSION"),
        format!("{prefix}_WORKBRANCH"),
    ];
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let values = source(&file, &names, &stack.ws);
    assert_eq!(values, [dir.to_str().unwrap(), "v1.2.3-rc1", branch]);
    let image = source(
        &file,
        &["CIUX_IMAGE_NAME", "CIUX_IMAGE_TAG", "CIUX_BUILD"],
        &stack.ws,
    );
    assert_eq!(image, ["it's a $(dir) `x`", "v1.2.3-rc1", "true"]);
    let leftovers: Vec<_> = std::fs::read_dir(&stack.ws)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers.len(), 1, "something ran: {leftovers:?}");
    assert!(
        std::fs::read_to_string(&file)
            .unwrap()
            .contains("# The registry was not asked")
    );
}

/// Branch names git accepts: printable characters and the shell's special ones.
fn branch_name() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9$`'\"();|&<>!#%={}, \\\\+-]{1,16}".prop_filter("git accepts it", |name| {
        Command::new("git")
            .args(["check-ref-format", "--branch", name])
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]
    /// Whatever branch git accepts, sourcing the env file gives it back exactly and runs nothing.
    #[test]
    fn any_branch_git_accepts_round_trips(branch in branch_name(), dep_branch_too in any::<bool>()) {
        prop_assume!(branch != "main" && branch != "master");
        let stack = Stack::new();
        let others: Vec<&str> = if dep_branch_too { vec![branch.as_str()] } else { Vec::new() };
        let url = stack.remote("dep", "main", &others, None);
        let repo = stack.project(&branch, &git_dep(&url, true, ""));
        run_ok(ciux(&repo.dir).arg("ignite"));
        let values = source(&repo.dir.join(".ciux.d/ciux.sh"), &["PROJ_WORKBRANCH", "DEP_WORKBRANCH"], &stack.ws);
        let dep_branch = if dep_branch_too { branch.as_str() } else { "main" };
        prop_assert_eq!(values, vec![branch.clone(), dep_branch.to_owned()]);
        let mut leftovers: Vec<_> = std::fs::read_dir(&stack.ws).unwrap().map(|e| e.unwrap().file_name()).collect();
        leftovers.sort();
        prop_assert_eq!(leftovers, vec!["dep", "proj"]);
    }
}

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
fn selectors_choose_dependencies_and_name_the_file() {
    let stack = Stack::new();
    let a = stack.remote("a", "main", &[], None);
    let b = stack.remote("b", "main", &[], None);
    let config = [
        git_dep(&a, false, "itest = \"true\", ci = \"true\""),
        git_dep(&b, false, "build = \"science\""),
        "[[dependencies]]\nimage = \"registry.example.org/astro/spark-py:k8s-3.4.1\"\nlabels = { build = \"science\" }\n".into(),
        "[[dependencies]]\npackage = \"example.org/tool@v1.1.1\"\nlabels = { itest = \"optional\" }\n".into(),
    ]
    .concat();
    let repo = stack.project("main", &config);
    let (stdout, _) =
        run_ok(ciux(&repo.dir).args(["get", "deps", "-l", "build in (science, noscience)"]));
    assert_eq!(
        stdout,
        "git\tb\tmain\t-\nimage\tregistry.example.org/astro/spark-py:k8s-3.4.1\t-\t-\n"
    );
    let (stdout, _) = run_ok(ciux(&repo.dir).args(["get", "deps"]));
    assert_eq!(stdout.lines().count(), 4, "{stdout}");

    let out = ciux(&repo.dir)
        .args(["get", "configpath", "-l", "itest=true"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    run_ok(ciux(&repo.dir).args(["ignite", "-l", "itest=true,ci"]));
    let (stdout, _) = run_ok(ciux(&repo.dir).args(["get", "configpath", "-l", "ci,itest=true"]));
    assert_eq!(
        stdout,
        format!(
            "{}\n",
            repo.dir.join(".ciux.d/ciux_ci-itest_true.sh").display()
        )
    );
    let text = std::fs::read_to_string(repo.dir.join(".ciux.d/ciux_ci-itest_true.sh")).unwrap();
    assert!(
        text.contains("A_WORKBRANCH")
            && !text.contains("B_WORKBRANCH")
            && !text.contains("_IMAGE="),
        "{text}"
    );

    run_ok(ciux(&repo.dir).args(["ignite", "-l", "build=science"]));
    let values = source(
        &repo.dir.join(".ciux.d/ciux_build_science.sh"),
        &["ASTRO_SPARK_PY_IMAGE"],
        &stack.ws,
    );
    assert_eq!(values, ["registry.example.org/astro/spark-py:k8s-3.4.1"]);

    // -m ignores dependencies; $CIUXCONFIG moves the file.
    let custom = stack.ws.join("custom.sh");
    run_ok(
        ciux(&repo.dir)
            .args(["ignite", "-m"])
            .env("CIUXCONFIG", &custom),
    );
    let text = std::fs::read_to_string(&custom).unwrap();
    assert!(
        text.contains("PROJ_VERSION") && !text.contains("A_WORKBRANCH"),
        "{text}"
    );

    let out = ciux(&repo.dir)
        .args(["ignite", "-l", "a in (x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("at position 7"));
}

#[test]
fn github_files_are_read_back_by_the_runner_format() {
    let stack = Stack::new();
    let mut repo = Repo::init(&stack.ws.join("proj"));
    let branch = "evil\nPATH=/tmp";
    // git refuses newlines in branch names: inject through --branch instead.
    repo.commit("initial", &[("f", "1")]);
    let (env_file, output_file) = (stack.ws.join("github_env"), stack.ws.join("github_output"));
    std::fs::write(&env_file, "EARLIER=1\n").unwrap();
    run_ok(
        ciux(&repo.dir)
            .args([
                "ignite",
                "--format",
                "github",
                "--format",
                "dotenv",
                "-b",
                branch,
                "-p",
                "Suffix",
                "-t",
                "tmp.example.org",
            ])
            .env("GITHUB_ENV", &env_file)
            .env("GITHUB_OUTPUT", &output_file),
    );
    for file in [&env_file, &output_file] {
        let pairs = ciux::emit::parse_github_file(&std::fs::read_to_string(file).unwrap()).unwrap();
        let get = |name: &str| {
            pairs
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(get("PROJ_WORKBRANCH"), Some(branch));
        assert_eq!(get("PATH"), None);
        assert_eq!(get("CIUX_IMAGE_NAME"), Some("proj-suffix"));
        assert_eq!(
            get("CIUX_TEMPORARY_IMAGE_URL").map(|u| u.starts_with("tmp.example.org/proj-suffix:")),
            Some(true)
        );
    }
    assert!(
        std::fs::read_to_string(&env_file)
            .unwrap()
            .starts_with("EARLIER=1\n"),
        "appended, not replaced"
    );
    let dotenv = std::fs::read_to_string(repo.dir.join(".ciux.d/ciux.env")).unwrap();
    assert!(
        dotenv.contains("PROJ_WORKBRANCH=\"evil\\nPATH=/tmp\"\n"),
        "{dotenv}"
    );

    let out = ciux(&repo.dir)
        .args(["ignite", "--format", "github"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "no $GITHUB_ENV outside GitHub Actions"
    );
}

#[test]
fn packages_are_installed_only_on_request_and_failures_are_named() {
    let stack = Stack::new();
    let config = "[[dependencies]]\npackage = \"example.org/tool@v1.1.1\"\n\
                  [[dependencies]]\npackage = \"example.org/broken@v0.1.0\"\n";
    let repo = stack.project("main", config);
    // A stand-in `go` that records its arguments and fails for the broken module.
    let bin = stack.ws.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let log = stack.ws.join("go.log");
    let script = format!(
        "#!/bin/sh\necho \"$*\" >> '{}'\ncase \"$2\" in *broken*) exit 3;; esac\n",
        log.display()
    );
    std::fs::write(bin.join("go"), script).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(bin.join("go"), std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());

    let (_, stderr) = run_ok(ciux(&repo.dir).arg("ignite").env("PATH", &path));
    assert!(
        !log.exists(),
        "nothing installed without --install-packages"
    );
    assert!(
        stderr.contains("package example.org/tool@v1.1.1 (not installed"),
        "{stderr}"
    );

    let out = ciux(&repo.dir)
        .args(["ignite", "--install-packages"])
        .env("PATH", &path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("installed example.org/tool@v1.1.1"),
        "{stderr}"
    );
    assert!(
        stderr.contains("error: cannot install 1 package(s): example.org/broken@v0.1.0"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(&log).unwrap(),
        "install example.org/tool@v1.1.1\ninstall example.org/broken@v0.1.0\n"
    );
    assert!(
        repo.dir.join(".ciux.d/ciux.sh").exists(),
        "the env file is written before installing"
    );
}

#[test]
fn cluster_name_from_user_branch_and_head() {
    let stack = Stack::new();
    let repo = stack.project("Feature/X_1", "");
    let head = repo.head();
    let (stdout, _) = run_ok(
        ciux(&repo.dir)
            .args(["get", "clustername"])
            .env("USER", "Alice"),
    );
    assert_eq!(stdout, format!("alice-feature-x-1-{}\n", &head[..6]));
    repo.write(".gitignore", "changed");
    let (stdout, _) = run_ok(
        ciux(&repo.dir)
            .args(["get", "clustername"])
            .env_remove("USER"),
    );
    assert_eq!(
        stdout,
        format!("unknown-feature-x-1-{}-dirty\n", &head[..6])
    );
}

/// The env file and the JSON report of a small stack, as users and `ciux plan` see them.
#[test]
fn env_file_and_json_snapshot() {
    let stack = Stack::new();
    let alpha = stack.remote("alpha", "main", &[], None);
    let beta = stack.remote("beta-svc", "master", &[], None);
    let config = format!(
        "project = \"Fink-Broker\"\nregistry = \"registry.example.org/astro\"\n\
         {}{}\
         [[dependencies]]\nimage = \"registry.example.org/astro/spark-py:k8s-3.4.1\"\nbuild_input = true\n\
         [[dependencies]]\npackage = \"example.org/ktbx@v1.1.1-rc7\"\n\
         [deploy]\ncommand = \"./deploy.sh\"\n",
        git_dep(&alpha, true, "itest = \"true\""),
        git_dep(&beta, false, "itest = \"true\""),
    );
    let mut repo = stack.project("main", &config);
    repo.tag("v2.0.0");
    run_ok(ciux(&repo.dir).args([
        "ignite",
        "-p",
        "noscience",
        "--format",
        "sh",
        "--format",
        "json",
    ]));
    let root = stack.ws.parent().unwrap().to_str().unwrap().to_owned();
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(&regex_escape(&root), "[TMP]");
    settings.bind(|| {
        insta::assert_snapshot!(
            "env_file",
            std::fs::read_to_string(repo.dir.join(".ciux.d/ciux.sh")).unwrap()
        );
        insta::assert_snapshot!(
            "json_report",
            std::fs::read_to_string(repo.dir.join(".ciux.d/ciux.json")).unwrap()
        );
    });
}

fn regex_escape(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            if c.is_ascii_alphanumeric() || c == '/' {
                vec![c]
            } else {
                vec!['\\', c]
            }
        })
        .collect()
}

/// A `git daemon` on 127.0.0.1 serving `dir`; killed on drop.
struct Daemon {
    child: std::process::Child,
    port: u16,
}

impl Daemon {
    fn start(dir: &Path) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        // The daemon binary itself: killing `git daemon` would leave its
        // `git-daemon` child running as an orphan.
        let exec_path = git(dir, &["--exec-path"]);
        let child = Command::new(Path::new(&exec_path).join("git-daemon"))
            .args(["--reuseaddr", "--export-all", "--listen=127.0.0.1"])
            .arg(format!("--port={port}"))
            .arg(format!("--base-path={}", dir.display()))
            .arg(dir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        Self { child, port }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
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
