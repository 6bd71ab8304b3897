//! `ciux get image --check --env`, `ciux promote` and `ciux explain` against a
//! real registry on 127.0.0.1.

use std::collections::BTreeMap;
use std::path::Path;

use crate::common::git::Repo;
use crate::common::registry::Registry;
use crate::common::{TestContext, TestContextBuilder, ciux};

/// The configuration of the project `demo`: source path `src`, `registry`, then `extra`.
fn demo_config(registry: &str, extra: &str) -> String {
    format!("project = \"demo\"\nregistry = \"{registry}\"\nsource_paths = [\"src\"]\n{extra}")
}

/// The files of `demo` besides its configuration.
const DEMO_FILES: [(&str, &str); 2] = [("src/main.c", "int main;"), ("docs/a.md", "a")];

/// A project `demo` with source path `src`, tagged v1.0.0, using `registry`.
pub(crate) fn project(tmp: &Path, registry: &str, extra: &str) -> Repo {
    let mut repo = Repo::init(&tmp.join("demo"));
    let config = demo_config(registry, extra);
    let mut files = vec![(".ciux.toml", config.as_str())];
    files.extend(DEMO_FILES);
    repo.commit("initial", &files);
    repo.tag("v1.0.0");
    repo
}

/// [`project`] in a [`TestContext`] made from `builder`; `registry` and
/// `extra` may name the context's own registry as `{registry}` and its
/// directory as `{root}`.
fn demo(builder: TestContextBuilder, registry: &str, extra: &str) -> TestContext {
    DEMO_FILES
        .iter()
        .fold(builder.dir("demo"), |b, (path, text)| b.file(path, text))
        .config(&demo_config(registry, extra))
        .tag("v1.0.0")
        .build()
}

/// `ciux ARGS` with no registry credentials from the caller's environment.
pub(crate) fn run(dir: &Path, args: &[&str]) -> std::process::Output {
    let mut cmd = ciux(dir);
    cmd.env("DOCKER_CONFIG", dir.join("no-docker-config"))
        .env_remove("CIUX_REGISTRY_USER")
        .env_remove("CIUX_REGISTRY_PASSWORD")
        .args(args);
    cmd.output().unwrap()
}

/// Run `get image --check --env` (plus `extra`), insist on success, parse the lines.
pub(crate) fn check_env(dir: &Path, extra: &[&str]) -> BTreeMap<String, String> {
    let mut args = vec!["get", "image", "--check", "--env"];
    args.extend(extra);
    let out = run(dir, &args);
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    parse_env(&String::from_utf8(out.stdout).unwrap())
}

pub(crate) fn parse_env(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .map(|line| {
            let rest = line
                .strip_prefix("export ")
                .unwrap_or_else(|| panic!("not an export line: {line:?}"));
            let (name, value) = rest.split_once('=').unwrap();
            (name.to_owned(), value.to_owned())
        })
        .collect()
}

#[test]
fn found_not_found_and_request_count() {
    let ctx = demo(TestContext::builder().registry(), "{registry}/astro", "");
    let (registry, repo) = (ctx.registry(), &ctx.repo);
    let env = check_env(&repo.dir, &[]);
    assert_eq!(env["CIUX_BUILD"], "true");
    assert_eq!(
        env["CIUX_IMAGE_URL"],
        format!("{}/astro/demo:v1.0.0", registry.addr)
    );
    assert!(!env.contains_key("CIUX_IMAGE_DIGEST"));

    let digest = registry.push("astro/demo", "v1.0.0", None);
    let before = registry.requests("/v2/astro/demo");
    let env = check_env(&repo.dir, &[]);
    assert_eq!(env["CIUX_BUILD"], "false");
    assert_eq!(env["CIUX_IMAGE_DIGEST"], digest);
    assert_eq!(
        registry.requests("/v2/astro/demo") - before,
        2,
        "one tag listing and one manifest HEAD: {}",
        registry.log_text()
    );
}

#[test]
fn found_via_an_older_commit_of_the_window_and_not_across_a_source_change() {
    let mut ctx = demo(TestContext::builder().registry(), "{registry}/astro", "");
    let (repo, registry) = ctx.split_mut();
    repo.commit("change source", &[("src/main.c", "int main(void);")]);
    let built = repo.git_describe();
    assert!(built.starts_with("v1.0.0-1-g"), "{built}");
    registry.push("astro/demo", "v1.0.0", None); // older source: must not count
    registry.push("astro/demo", &built, None);
    repo.commit("docs only", &[("docs/a.md", "b")]);
    repo.commit("docs again", &[("docs/a.md", "c")]);
    let head = repo.git_describe();
    let env = check_env(&repo.dir, &[]);
    assert_eq!(env["CIUX_BUILD"], "false");
    assert_eq!(
        env["CIUX_IMAGE_URL"],
        format!("{}/astro/demo:{built}", registry.addr)
    );

    // The promoted URL is HEAD's version; promote copies the manifest there.
    let out = run(&repo.dir, &["promote", "--dry-run"]);
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        format!(
            "would promote {0}/astro/demo:{built} to {0}/astro/demo:{head}\n",
            registry.addr
        )
    );
    assert_eq!(
        registry.requests(&format!("manifests/{head}")),
        0,
        "--dry-run changes nothing"
    );
    let out = run(&repo.dir, &["promote"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let again = run(&repo.dir, &["promote"]);
    assert_eq!(again.stdout, out.stdout, "promoting twice changes nothing");
    let env_after = check_env(&repo.dir, &[]);
    assert_eq!(
        env_after["CIUX_IMAGE_URL"],
        format!("{}/astro/demo:{head}", registry.addr)
    );
    assert_eq!(env_after["CIUX_IMAGE_DIGEST"], env["CIUX_IMAGE_DIGEST"]);
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        format!(
            "{}/astro/demo:{head}@{}\n",
            registry.addr, env["CIUX_IMAGE_DIGEST"]
        )
    );

    // A new source change: the old images no longer match.
    repo.commit("change source again", &[("src/main.c", "int main(int);")]);
    let env = check_env(&repo.dir, &[]);
    assert_eq!(env["CIUX_BUILD"], "true");
    assert_eq!(
        env["CIUX_IMAGE_URL"],
        format!("{}/astro/demo:{}", registry.addr, repo.git_describe())
    );
}

#[test]
fn dirty_source_builds_without_asking() {
    let ctx = demo(TestContext::builder().registry(), "{registry}/astro", "");
    let (registry, repo) = (ctx.registry(), &ctx.repo);
    registry.push("astro/demo", "v1.0.0", None);
    repo.write("docs/a.md", "dirty outside the sources");
    assert_eq!(check_env(&repo.dir, &[])["CIUX_BUILD"], "false");
    repo.write("src/main.c", "dirty");
    let before = registry.requests("/v2/astro/demo");
    let env = check_env(&repo.dir, &[]);
    assert_eq!(env["CIUX_BUILD"], "true");
    assert_eq!(
        env["CIUX_IMAGE_URL"],
        format!("{}/astro/demo:v1.0.0-dirty", registry.addr)
    );
    assert_eq!(registry.requests("/v2/astro/demo"), before);
}

#[test]
fn stopped_registry_fails_unless_asked_to_build() {
    let mut ctx = demo(TestContext::builder().registry(), "{registry}/astro", "");
    ctx.registry_mut().stop();
    let (registry, repo) = (ctx.registry(), &ctx.repo);
    let out = run(&repo.dir, &["get", "image", "--check", "--env"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with(&format!(
            "error: cannot check image {}/astro/demo",
            registry.addr
        )),
        "{stderr}"
    );
    assert!(stderr.contains("cannot reach registry"), "{stderr}");

    let env = check_env(&repo.dir, &["--on-registry-error=build"]);
    assert_eq!(env["CIUX_BUILD"], "true");
}

#[test]
fn htpasswd_registry_with_config_json_and_env_credentials() {
    let registry = Registry::start_htpasswd("alice", "s3cret-pw");
    let ctx = demo(
        TestContext::builder().with_registry(registry),
        "{registry}/astro",
        "",
    );
    let (registry, repo) = (ctx.registry(), &ctx.repo);
    let digest = registry.push("astro/demo", "v1.0.0", None);

    let out = run(&repo.dir, &["get", "image", "--check", "--env"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("refused access"), "{stderr}");

    let docker = ctx.root.join("docker");
    std::fs::create_dir_all(&docker).unwrap();
    use base64::Engine;
    let auth = base64::engine::general_purpose::STANDARD.encode("alice:s3cret-pw");
    std::fs::write(
        docker.join("config.json"),
        format!(r#"{{"auths":{{"{}":{{"auth":"{auth}"}}}}}}"#, registry.addr),
    )
    .unwrap();
    let out = ciux(&repo.dir)
        .env("DOCKER_CONFIG", &docker)
        .env_remove("CIUX_REGISTRY_USER")
        .args(["get", "image", "--check", "--env"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let env = super::image::parse_env(&String::from_utf8(out.stdout).unwrap());
    assert_eq!(env["CIUX_IMAGE_DIGEST"], digest);

    // Wrong password from the environment: refused, and the secret is never printed.
    let out = ciux(&repo.dir)
        .env("DOCKER_CONFIG", &docker)
        .env("CIUX_REGISTRY_USER", "alice")
        .env("CIUX_REGISTRY_PASSWORD", "wrong-pw-XYZ")
        .env("CIUX_LOG", "trace")
        .args(["get", "image", "--check", "--env"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(all.contains("refused access"), "{all}");
    for secret in ["wrong-pw-XYZ", "s3cret-pw", &auth] {
        assert!(!all.contains(secret), "a secret leaked: {all}");
    }
}

#[test]
fn inputs_fingerprint_mismatch_counts_as_absent() {
    let extra = "[[dependencies]]\nimage = \"{registry}/astro/base:1.0\"\nbuild_input = true\n";
    let ctx = demo(TestContext::builder().registry(), "{registry}/astro", extra);
    let (registry, repo) = (ctx.registry(), &ctx.repo);
    registry.push("astro/base", "1.0", None);
    registry.push("astro/demo", "v1.0.0", Some("stale"));
    let out = run(&repo.dir, &["explain", "--format", "json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let explained: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(explained["decision"]["build"], true);
    assert_eq!(explained["decision"]["reason"]["kind"], "inputs_changed");
    let inputs = explained["decision"]["inputs"].as_str().unwrap().to_owned();

    registry.push("astro/demo", "v1.0.0", Some(&inputs));
    let env = check_env(&repo.dir, &[]);
    assert_eq!(env["CIUX_BUILD"], "false");
    assert_eq!(env["CIUX_IMAGE_INPUTS"], inputs);

    // A new base image changes the fingerprint: build again.
    registry.push("astro/base", "1.0", Some("new base"));
    assert_eq!(check_env(&repo.dir, &[])["CIUX_BUILD"], "true");
}

#[test]
fn no_registry_is_a_configuration_error() {
    let ctx = TestContext::builder()
        .dir("demo")
        .file("src/main.c", "x")
        .build();
    ctx.run(&["get", "image"]).code(2);
}

#[test]
fn env_values_are_quoted_for_the_shell() {
    let mut ctx = demo(TestContext::builder(), "127.0.0.1:9/astro", "");
    let repo = &mut ctx.repo;
    // A semver tag with build metadata: `+` is not allowed in image tags.
    repo.tag("v1.0.1+build.7");
    let out = run(&repo.dir, &["get", "image", "--env"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        text,
        "export CIUX_IMAGE_URL=127.0.0.1:9/astro/demo:v1.0.1_build.7\nexport CIUX_BUILD=true\n"
    );
}

#[test]
fn oci_layout_directory_works_offline() {
    let ctx = demo(TestContext::builder(), "oci:{root}/images", "");
    let (store, repo) = (ctx.root.join("images"), &ctx.repo);
    assert_eq!(check_env(&repo.dir, &[])["CIUX_BUILD"], "true");
    let digest = crate::common::registry::write_layout(&store.join("demo"), "v1.0.0", None);
    let env = check_env(&repo.dir, &[]);
    assert_eq!(env["CIUX_BUILD"], "false");
    assert_eq!(env["CIUX_IMAGE_DIGEST"], digest);
}

#[test]
fn window_ends_where_git_log_first_parent_says() {
    let mut ctx = demo(TestContext::builder(), "127.0.0.1:9/astro", "");
    let repo = &mut ctx.repo;
    repo.git(&["checkout", "-q", "-b", "side"]);
    repo.commit("side source", &[("src/side.c", "1")]);
    repo.commit("side docs", &[("docs/b.md", "1")]);
    repo.git(&["checkout", "-q", "main"]);
    repo.commit("main docs", &[("docs/a.md", "2")]);
    repo.git(&["merge", "-q", "--no-ff", "-m", "merge side", "side"]);
    repo.commit("after", &[("docs/a.md", "3")]);
    let expected = crate::common::git::git(
        &repo.dir,
        &["log", "-1", "--first-parent", "--format=%H", "--", "src"],
    );
    let out = run(
        &repo.dir,
        &["explain", "--format", "json", "--on-registry-error=build"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let explained: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(explained["trace"]["last_change"], expected.as_str());
    assert_eq!(explained["trace"]["window"], 2);
}

#[test]
fn shallow_clone_is_reported_with_the_fix() {
    let mut ctx = demo(TestContext::builder(), "127.0.0.1:9/astro", "");
    ctx.repo.commit("docs", &[("docs/a.md", "2")]);
    let url = format!("file://{}", ctx.dir().display());
    let clone = ctx.root.join("clone");
    crate::common::git::git(
        &ctx.root,
        &["clone", "-q", "--depth", "1", &url, clone.to_str().unwrap()],
    );
    let out = run(&clone, &["get", "image"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("shallow"));
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]
    /// Sourcing what ciux writes in bash gives back exactly the value, and runs nothing.
    #[test]
    fn export_lines_round_trip_through_bash(value in "[^\u{0}]{0,40}") {
        let text = ciux::image::export_lines(&[("CIUX_IMAGE_URL", value.clone())]);
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("env.sh");
        std::fs::write(&file, &text).unwrap();
        let out = std::process::Command::new("bash")
            .current_dir(tmp.path())
            .args(["-c", "source \"$1\" && printf %s \"$CIUX_IMAGE_URL\"", "bash"])
            .arg(&file)
            .output()
            .unwrap();
        proptest::prop_assert!(out.status.success(), "{text:?}");
        proptest::prop_assert_eq!(String::from_utf8(out.stdout).unwrap(), value);
        proptest::prop_assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 1);
    }
}

#[test]
fn stopped_registry_with_build_inputs_and_build_on_error() {
    let extra = "[[dependencies]]\nimage = \"{registry}/astro/base:1\"\nbuild_input = true\n";
    let mut ctx = demo(TestContext::builder().registry(), "{registry}/astro", extra);
    ctx.registry_mut().stop();
    let repo = &ctx.repo;
    let out = run(&repo.dir, &["get", "image", "--check"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot reach registry"));
    let out = run(
        &repo.dir,
        &["explain", "--format", "json", "--on-registry-error=build"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let explained: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(explained["decision"]["build"], true);
    assert_eq!(explained["decision"]["reason"]["kind"], "registry_failed");
}

#[test]
fn promote_from_the_temporary_registry_mounts_blobs() {
    let ctx = demo(TestContext::builder().registry(), "{registry}/astro", "");
    let (registry, repo) = (ctx.registry(), &ctx.repo);
    let tmp_registry = format!("{}/scratch", registry.addr);
    let env = check_env(&repo.dir, &["-t", &tmp_registry]);
    assert_eq!(env["CIUX_BUILD"], "true");
    assert_eq!(env["CIUX_IMAGE_URL"], format!("{tmp_registry}/demo:v1.0.0"));

    let out = run(&repo.dir, &["promote", "-t", &tmp_registry]);
    assert_eq!(out.status.code(), Some(1), "nothing was pushed yet");
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not have it"));

    let digest = registry.push("scratch/demo", "v1.0.0", None); // what CI built and tested
    let out = run(&repo.dir, &["promote", "-t", &tmp_registry]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        format!("{}/astro/demo:v1.0.0@{digest}\n", registry.addr)
    );
    let env = check_env(&repo.dir, &["-t", &tmp_registry]);
    assert_eq!(env["CIUX_BUILD"], "false");
    assert_eq!(env["CIUX_IMAGE_DIGEST"], digest);
    assert!(
        registry.requests("mount=") >= 2,
        "config and layer mounted, not uploaded"
    );

    let text = run(&repo.dir, &["explain"]);
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(
        text.contains("build:   false\nreason:  the registry has v1.0.0"),
        "{text}"
    );
}

#[test]
fn multi_platform_index_is_found_and_its_label_read() {
    let extra = "[[dependencies]]\nimage = \"{registry}/astro/base:1\"\nbuild_input = true\n";
    let ctx = demo(TestContext::builder().registry(), "{registry}/astro", extra);
    let (registry, repo) = (ctx.registry(), &ctx.repo);
    registry.push_index("astro/base", "1", None);
    registry.push_index("astro/demo", "v1.0.0", Some("stale"));
    let out = run(&repo.dir, &["explain", "--format", "json"]);
    let explained: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(explained["decision"]["reason"]["kind"], "inputs_changed");
    assert_eq!(explained["decision"]["reason"]["label"], "stale");
    let inputs = explained["decision"]["inputs"].as_str().unwrap().to_owned();
    let digest = registry.push_index("astro/demo", "v1.0.0", Some(&inputs));
    let env = check_env(&repo.dir, &[]);
    assert_eq!(env["CIUX_BUILD"], "false");
    assert_eq!(env["CIUX_IMAGE_DIGEST"], digest, "the index's digest");
}

#[test]
fn untagged_repository_matches_bare_hash_versions() {
    let mut ctx = TestContext::builder()
        .dir("demo")
        .registry()
        .config(&demo_config("{registry}/astro", ""))
        .file("src/main.c", "x")
        .build();
    let (repo, registry) = ctx.split_mut();
    let built = repo.git_describe();
    assert_eq!(built.len(), 7, "a bare abbreviated hash: {built}");
    registry.push("astro/demo", &built, None);
    repo.commit("docs", &[("docs/a.md", "a")]);
    let env = check_env(&repo.dir, &[]);
    assert_eq!(env["CIUX_BUILD"], "false");
    assert_eq!(
        env["CIUX_IMAGE_URL"],
        format!("{}/astro/demo:{built}", registry.addr)
    );
}

#[test]
fn build_input_pinned_by_digest_needs_no_request() {
    // Port 9 answers nothing: asking it would fail the check.
    let base = format!("127.0.0.1:9/astro/base@sha256:{}", "a".repeat(64));
    let extra = format!("[[dependencies]]\nimage = \"{base}\"\nbuild_input = true\n");
    let ctx = demo(
        TestContext::builder().registry(),
        "{registry}/astro",
        &extra,
    );
    let repo = &ctx.repo;
    let env = check_env(&repo.dir, &[]);
    assert_eq!(env["CIUX_BUILD"], "true");
    assert_eq!(env["CIUX_IMAGE_INPUTS"].len(), 40);
}

#[test]
fn promote_in_an_oci_layout_adds_a_tag() {
    let mut ctx = demo(TestContext::builder(), "oci:{root}/images", "");
    let store = ctx.root.join("images");
    let repo = &mut ctx.repo;
    let digest = crate::common::registry::write_layout(&store.join("demo"), "v1.0.0", None);
    repo.commit("docs", &[("docs/a.md", "b")]);
    let head = repo.git_describe();
    let out = run(&repo.dir, &["promote"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let promoted = format!("oci:{}/demo:{head}", store.display());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        format!("{promoted}@{digest}\n")
    );
    let env = check_env(&repo.dir, &[]);
    assert_eq!(env["CIUX_IMAGE_URL"], ciux::image::quote(&promoted));
    assert_eq!(env["CIUX_IMAGE_DIGEST"], digest);
}

/// `ciux ignite` asks the registry: the env file says whether to build and pins
/// the digest; `pull = true` dependencies and image dependencies must exist.
#[test]
fn ignite_checks_the_project_image_and_the_required_images() {
    let extra = "\n[[dependencies]]\nurl = \"file://{root}/remotes/dep.git\"\nclone = true\npull = true\n\n[[dependencies]]\nimage = \"{registry}/astro/base:1.0\"\n";
    let mut ctx = demo(TestContext::builder().registry(), "{registry}/astro", extra);
    let tmp = ctx.root.clone();
    let mut dep = Repo::init(&tmp.join("src-dep"));
    dep.commit("dep", &[("a", "1")]);
    dep.tag("v0.3.0");
    let remote = tmp.join("remotes/dep.git");
    crate::common::git::git(
        &tmp,
        &[
            "clone",
            "-q",
            "--bare",
            dep.dir.to_str().unwrap(),
            remote.to_str().unwrap(),
        ],
    );
    let addr = ctx.registry().addr.clone();
    ctx.registry().push("astro/base", "1.0", None);
    let dir = ctx.dir().to_path_buf();
    let env_of = |name: &str| -> String {
        let out = std::process::Command::new("bash")
            .arg("-c")
            .arg(format!("source .ciux.d/ciux.sh; printf %s \"${name}\""))
            .current_dir(&dir)
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    };

    let out = run(&dir, &["ignite"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("1 required image(s) missing"), "{stderr}");
    assert!(
        stderr.contains(&format!("{addr}/astro/dep:v0.3.0")),
        "{stderr}"
    );

    ctx.registry().push("astro/dep", "v0.3.0", None);
    let out = run(&dir, &["ignite"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(env_of("CIUX_BUILD"), "true");
    assert_eq!(
        env_of("CIUX_IMAGE_URL"),
        format!("{addr}/astro/demo:v1.0.0")
    );
    assert_eq!(env_of("DEP_VERSION"), "v0.3.0");
    assert_eq!(env_of("CIUX_IMAGE_DIGEST"), "");

    let digest = ctx.registry().push("astro/demo", "v1.0.0", None);
    assert!(run(&dir, &["ignite"]).status.success());
    assert_eq!(env_of("CIUX_BUILD"), "false");
    assert_eq!(env_of("CIUX_IMAGE_DIGEST"), digest);

    // A registry that cannot be reached is an error, or a build when asked.
    ctx.registry_mut().stop();
    let out = run(&dir, &["ignite"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        env_of("CIUX_BUILD"),
        "false",
        "the env file is left as it was"
    );
    let out = run(&dir, &["ignite", "--on-registry-error=build"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(env_of("CIUX_BUILD"), "true");
}
