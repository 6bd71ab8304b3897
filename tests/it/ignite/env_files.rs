//! Env files: quoting proven through bash, selectors and file names, GitHub
//! and JSON formats, packages, cluster names.

use std::process::Command;

use proptest::prelude::*;

use super::{Stack, git_dep, run_ok, source};
use crate::common::ciux_offline as ciux;
use crate::common::git::Repo;

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
fn selectors_choose_dependencies_and_name_the_file() {
    let stack = Stack::new();
    let a = stack.remote("a", "main", &[], None);
    let b = stack.remote("b", "main", &[], None);
    let config = [
        git_dep(&a, false, "itest = \"true\", ci = \"true\""),
        git_dep(&b, false, "build = \"science\""),
        "[[dependencies]]\nimage = \"127.0.0.1:9/astro/spark-py:k8s-3.4.1\"\nlabels = { build = \"science\" }\n".into(),
        "[[dependencies]]\npackage = \"127.0.0.1:9/tool@v1.1.1\"\nlabels = { itest = \"optional\" }\n".into(),
    ]
    .concat();
    let repo = stack.project("main", &config);
    let (stdout, _) =
        run_ok(ciux(&repo.dir).args(["get", "deps", "-l", "build in (science, noscience)"]));
    assert_eq!(
        stdout,
        "git\tb\tmain\t-\nimage\t127.0.0.1:9/astro/spark-py:k8s-3.4.1\t-\t-\n"
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
    assert_eq!(values, ["127.0.0.1:9/astro/spark-py:k8s-3.4.1"]);

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
    let branch = "evil\nPATH=/tmp\n::add-path::/tmp";
    // git refuses newlines in branch names: inject through --branch instead.
    repo.commit("initial", &[("f", "1")]);
    let (env_file, output_file) = (stack.ws.join("github_env"), stack.ws.join("github_output"));
    std::fs::write(&env_file, "EARLIER=1\n").unwrap();
    let (_, stderr) = run_ok(
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
                "127.0.0.1:9",
            ])
            .env("GITHUB_ENV", &env_file)
            .env("GITHUB_OUTPUT", &output_file),
    );
    assert!(!stderr.lines().any(|l| l.starts_with("::")), "{stderr}");
    assert!(
        stderr.contains(r"branch evil\nPATH=/tmp\n::add-path::/tmp (from --branch)"),
        "{stderr}"
    );
    for file in [&env_file, &output_file] {
        let pairs =
            ciux::github::parse_github_file(&std::fs::read_to_string(file).unwrap()).unwrap();
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
            get("CIUX_TEMPORARY_IMAGE_URL").map(|u| u.starts_with("127.0.0.1:9/proj-suffix:")),
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
    // Single quotes hold the newlines literally, for shells and dotenv
    // readers alike: the value is one variable, exact, and sets no PATH.
    assert!(
        dotenv.contains("PROJ_WORKBRANCH='evil\nPATH=/tmp\n::add-path::/tmp'\n"),
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

/// `go` here is a stand-in that records its arguments and working directory
/// and answers `go env`: a real Go toolchain and module proxy would add a large
/// download to every CI machine for what is, on our side, one command line.
#[test]
fn packages_and_go_module_siblings_are_installed_by_default_and_failures_are_named() {
    let stack = Stack::new();
    let url = stack.remote("tool-src", "main", &[], None);
    let config = format!(
        "[[dependencies]]\npackage = \"127.0.0.1:9/tool@v1.1.1\"\n\
         [[dependencies]]\npackage = \"127.0.0.1:9/broken@v0.1.0\"\n\
         [[dependencies]]\nurl = \"{url}\"\nclone = true\n"
    );
    let repo = stack.project("main", &config);
    let bin = stack.ws.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let log = stack.ws.join("go.log");
    let gobin = stack.ws.join("gopath/bin");
    let script = format!(
        "#!/bin/sh\ncase \"$1\" in env) [ \"$2\" = GOPATH ] && echo '{}'; exit 0;; esac\n\
         echo \"$* in $(pwd)\" >> '{}'\ncase \"$2\" in *broken*) echo 'module not found' >&2; exit 3;; esac\n",
        stack.ws.join("gopath").display(),
        log.display()
    );
    std::fs::write(bin.join("go"), script).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(bin.join("go"), std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());

    let (_, stderr) = run_ok(
        ciux(&repo.dir)
            .args(["ignite", "--no-install-packages"])
            .env("PATH", &path),
    );
    assert!(
        !log.exists(),
        "nothing installed with --no-install-packages"
    );
    assert!(
        stderr.contains("package 127.0.0.1:9/tool@v1.1.1 (not installed: --no-install-packages)"),
        "{stderr}"
    );
    // The sibling is a Go module: it is installed from its checkout.
    let sibling = stack.ws.join("tool-src");
    std::fs::write(sibling.join("go.mod"), "module 127.0.0.1:9/toolsrc\n").unwrap();
    std::fs::write(sibling.join("go.sum"), "").unwrap();

    let github_path = stack.ws.join("github_path");
    let out = ciux(&repo.dir)
        .arg("ignite")
        .env("PATH", &path)
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_PATH", &github_path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "installed 127.0.0.1:9/tool@v1.1.1 into {}",
            gobin.display()
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("installed tool-src into {}", gobin.display())),
        "{stderr}"
    );
    assert!(
        stderr.contains("error: cannot install 1 package(s): 127.0.0.1:9/broken@v0.1.0 (go install 127.0.0.1:9/broken@v0.1.0 exited with exit status: 3: module not found)"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(&log).unwrap(),
        format!(
            "install 127.0.0.1:9/tool@v1.1.1 in {ws}/proj\ninstall 127.0.0.1:9/broken@v0.1.0 in {ws}/proj\ninstall in {ws}/tool-src\n",
            ws = stack.ws.display()
        )
    );
    assert_eq!(
        std::fs::read_to_string(&github_path).unwrap(),
        format!("{}\n", gobin.display())
    );
    assert!(
        repo.dir.join(".ciux.d/ciux.sh").exists(),
        "the env file is written before installing"
    );
    // Without go on PATH, the fix is named.
    let out = ciux(&repo.dir)
        .arg("ignite")
        .env("PATH", "/usr/bin:/bin")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("go is not on PATH: install Go, or pass --no-install-packages"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
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
        "project = \"Fink-Broker\"\nregistry = \"127.0.0.1:9/astro\"\n\
         {}{}\
         [[dependencies]]\nimage = \"127.0.0.1:9/astro/spark-py:k8s-3.4.1\"\nbuild_input = true\n\
         [[dependencies]]\npackage = \"127.0.0.1:9/ktbx@v1.1.1-rc7\"\n\
         [deploy]\ncommand = \"./deploy.sh\"\n",
        git_dep(&alpha, true, "itest = \"true\""),
        git_dep(&beta, false, "itest = \"true\""),
    );
    let mut repo = stack.project("main", &config);
    repo.tag("v2.0.0");
    run_ok(ciux(&repo.dir).args([
        "ignite",
        "--no-install-packages",
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
    // The fingerprint hashes trees that hold the temporary paths of the test;
    // the registry here does not exist, and the resolver's words for that vary.
    settings.add_filter(
        r#"(CIUX_IMAGE_INPUTS\W+|"inputs": ")[0-9a-f]{40}"#,
        "$1[FINGERPRINT]",
    );
    settings.add_filter(r"registry failed: [^\n]*", "registry failed: [CAUSE]\",");
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
