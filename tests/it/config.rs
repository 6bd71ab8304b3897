//! Configuration files: every error names the file, line, column and key;
//! the legacy YAML `.ciux` reads into the same configuration and migrates.

use std::path::Path;

use ciux::config::{Config, DependencyKind, Source};

use crate::common::TestContext;

fn toml_error(text: &str) -> String {
    Config::from_toml_str(text, Path::new("/repo/.ciux.toml"))
        .expect_err("invalid configuration")
        .to_string()
}

fn yaml_error(text: &str) -> String {
    Config::from_legacy_str(text, Path::new("/repo/.ciux"))
        .expect_err("invalid configuration")
        .to_string()
}

#[test]
fn toml_errors_name_file_line_column_and_key() {
    let cases: &[(&str, &str)] = &[
        (
            "projet = \"x\"\n",
            "/repo/.ciux.toml:1:1: projet: unknown field `projet`, expected one of `project`, `registry`, `source_paths`, `insecure_registries`, `registry_ca`, `registry_timeouts`, `build`, `deploy`, `dependencies`",
        ),
        (
            "registry = \"r\"\n[[dependencies]]\nurl = \"https://x/y\"\nimage = \"r/i:1\"\n",
            "/repo/.ciux.toml:4:1: dependencies[0].image: a dependency has exactly one of `url`, `image` or `package`, not both `url` and `image`",
        ),
        (
            "source_paths = [\"ok\", \"../x\"]\n",
            "/repo/.ciux.toml:1:23: source_paths[1]: `../x` is not clean (no `..`, `.`, empty segment or trailing slash)",
        ),
        (
            "source_paths = [\"a//b\"]\n",
            "/repo/.ciux.toml:1:17: source_paths[0]: `a//b` is not clean (no `..`, `.`, empty segment or trailing slash)",
        ),
        (
            "source_paths = [\"/abs\"]\n",
            "/repo/.ciux.toml:1:17: source_paths[0]: `/abs` is absolute; source paths are relative to the repository root",
        ),
        (
            "registry = \"\"\n",
            "/repo/.ciux.toml:1:1: registry: must not be empty",
        ),
        (
            "registry = \"https://r.example/x\"\n",
            "/repo/.ciux.toml:1:1: registry: `https://r.example/x` has a scheme; write `host[:port]/path` without it",
        ),
        (
            "[[dependencies]]\nurl = \"https://x/y\"\npull = true\n",
            "/repo/.ciux.toml:3:1: dependencies[0].pull: `pull = true` needs a top-level `registry` to name the dependency's image",
        ),
        (
            "[[dependencies]]\nurl = \"ftp://x/y\"\n",
            "/repo/.ciux.toml:2:1: dependencies[0].url: unsupported scheme `ftp` (https, http, ssh, git, file)",
        ),
        (
            "[[dependencies]]\nurl = \"https://x/y\"\nclone = \"yes\"\n",
            "/repo/.ciux.toml:3:9: dependencies[0].clone: invalid type: string \"yes\", expected a boolean",
        ),
        (
            "[[dependencies]]\nurl = \"https://x/y\"\nlabels = { \"bad key\" = \"true\" }\n",
            "/repo/.ciux.toml:3:12: dependencies[0].labels.bad key: invalid label key `bad key`",
        ),
        (
            "[[dependencies]]\nclone = true\n",
            "/repo/.ciux.toml:1:1: dependencies[0]: a dependency needs one of `url`, `image` or `package`",
        ),
        (
            "[[dependencies]]\nimage = \"r/i:1\"\nclone = true\n",
            "/repo/.ciux.toml:3:1: dependencies[0].clone: `clone` applies to `url` dependencies only",
        ),
        (
            "[[dependencies]]\npackage = \"127.0.0.1:9/x/y\"\n",
            "/repo/.ciux.toml:2:1: dependencies[0].package: `127.0.0.1:9/x/y` is not of the form `module@version`",
        ),
        (
            "project = \"p\"\n[deploy]\ncommand = \"x\"\nother = 1\n",
            "/repo/.ciux.toml:4:1: deploy.other: unknown field `other`, expected `command`",
        ),
        (
            "project = \n",
            "/repo/.ciux.toml:1:11: project: string values must be quoted, expected literal string",
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(toml_error(text), *expected, "for {text:?}");
    }
}

#[test]
fn legacy_errors_use_the_legacy_names_and_lines() {
    assert_eq!(
        yaml_error("registry: r\nsourcePathes:\n  - ../x\n"),
        "/repo/.ciux:3:3: sourcePathes[0]: `../x` is not clean (no `..`, `.`, empty segment or trailing slash)"
    );
    assert_eq!(
        yaml_error(
            "registry: r\ndependencies:\n  - url: https://x/y\n    clone: true\n  - url: https://x/z\n    colne: true\n"
        ),
        "/repo/.ciux:6:5: dependencies[1].colne: unknown field `colne`, expected one of `url`, `image`, `package`, `clone`, `pull`, `labels`"
    );
    assert_eq!(
        yaml_error("dependencies:\n  - url: https://x/y\n    pull: true\n"),
        "/repo/.ciux:3:5: dependencies[0].pull: `pull = true` needs a top-level `registry` to name the dependency's image"
    );
}

/// A legacy file shaped like the ones alert brokers use: every kind of
/// dependency, boolean and string label values, comments.
const LEGACY: &str = "apiVersion: v1alpha1
registry: 127.0.0.1:9/astro/broker
sourcePathes:
  - Dockerfile
  - broker
  - bin
dependencies:
  - package: 127.0.0.1:9/example/ink@v0.0.1-rc5
    labels:
      itest: \"true\"
  - url: https://git.example.org/astro/alert-simulator
    # If true repository will be locally cloned
    clone: true
    pull: true
    labels:
      dev: true
      itest: \"true\"
  - url: https://git.example.org/astro/brokerctl
    clone: true
    labels:
      dev: \"true\"
  - image: 127.0.0.1:9/astro/broker/spark-py:k8s-3.4.1
    labels:
      build: \"noscience\"
";

#[test]
fn legacy_file_reads_into_the_same_configuration() {
    let config = Config::from_legacy_str(LEGACY, Path::new("/repo/.ciux")).unwrap();
    assert_eq!(config.source, Source::Legacy("/repo/.ciux".into()));
    assert_eq!(config.registry.as_deref(), Some("127.0.0.1:9/astro/broker"));
    assert_eq!(config.source_paths, ["Dockerfile", "broker", "bin"]);
    assert_eq!(config.dependencies.len(), 4);
    assert_eq!(
        config.dependencies[0].kind,
        DependencyKind::Package {
            module: "127.0.0.1:9/example/ink".into(),
            version: "v0.0.1-rc5".into()
        }
    );
    let sim = &config.dependencies[1];
    assert_eq!(sim.repo_name(), Some("alert-simulator"));
    assert!(sim.clone && sim.pull);
    assert_eq!(
        sim.labels["dev"], "true",
        "a YAML boolean label is the string `true`"
    );
    assert_eq!(config.dependencies[3].labels["build"], "noscience");
}

#[test]
fn migrate_writes_an_equivalent_toml_and_refuses_to_overwrite() {
    let ctx = legacy_project();
    ctx.run(&["migrate"]).success();
    let written = std::fs::read_to_string(ctx.dir().join(".ciux.toml")).unwrap();
    let migrated = Config::from_toml_str(&written, Path::new(".ciux.toml")).unwrap();
    let legacy = Config::from_legacy_str(LEGACY, Path::new(".ciux")).unwrap();
    assert_eq!(migrated.dependencies, legacy.dependencies);
    assert_eq!(migrated.source_paths, legacy.source_paths);
    assert_eq!(migrated.registry, legacy.registry);

    let out = ctx.run(&["migrate"]).code(2);
    assert!(
        out.stderr.contains(".ciux.toml already exists"),
        "{}",
        out.stderr
    );
    assert_eq!(
        std::fs::read_to_string(ctx.dir().join(".ciux.toml")).unwrap(),
        written
    );
}

/// A failure to write is a failure (exit 1), not a configuration error, and
/// names the file.
#[test]
fn migrate_that_cannot_write_names_the_file_and_exits_1() {
    let ctx = legacy_project();
    // A dangling link: not an existing configuration, yet nothing can be
    // created in its place without overwriting it.
    let target = ctx.dir().join(".ciux.toml");
    std::os::unix::fs::symlink(ctx.root.join("nowhere"), &target).unwrap();
    let out = ctx.run(&["migrate"]).code(1);
    assert_eq!(
        out.error_line(),
        format!("cannot write {}", target.display()),
        "{}",
        out.stderr
    );
    assert!(target.symlink_metadata().unwrap().is_symlink());
}

/// A repository whose first commit holds the legacy `.ciux`.
fn legacy_project() -> TestContext {
    TestContext::builder()
        .message("init")
        .file(".ciux", LEGACY)
        .build()
}

#[test]
fn migrate_without_a_legacy_file_is_an_error() {
    let ctx = TestContext::builder()
        .message("init")
        .file("a", "1")
        .build();
    let out = ctx.run(&["migrate"]).code(2);
    assert!(
        out.stderr.contains("no legacy .ciux file"),
        "{}",
        out.stderr
    );
}

#[test]
fn the_example_configuration_is_valid() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(".ciux.example.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let config = Config::from_toml_str(&text, &path).unwrap();
    let kinds: Vec<&str> = config
        .dependencies
        .iter()
        .map(|d| match d.kind {
            DependencyKind::Git { .. } => "git",
            DependencyKind::Image { .. } => "image",
            DependencyKind::Package { .. } => "package",
        })
        .collect();
    assert!(kinds.contains(&"git") && kinds.contains(&"image") && kinds.contains(&"package"));
}
