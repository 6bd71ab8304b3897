//! Shared test fixtures: real git repositories with pinned dates (stable hashes)
//! and a builder for `ciux` invocations.

#![allow(dead_code)]

pub mod context;
pub mod engine;
pub mod fake;
pub mod git;
pub mod recipe;
pub mod registry;
pub mod shell_load;
pub mod stack;

use std::path::Path;

use assert_cmd::Command;

pub use context::{Run, TestContext, TestContextBuilder};

/// A `ciux` command run in `dir`, isolated from the caller's git and CI settings.
pub fn ciux(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("ciux").expect("the ciux binary is built");
    cmd.current_dir(dir);
    for var in [
        "CIUXCONFIG",
        "GITHUB_ACTIONS",
        "GITHUB_ENV",
        "GITHUB_OUTPUT",
        "GITHUB_STEP_SUMMARY",
        "GITHUB_HEAD_REF",
        "GITHUB_REF_NAME",
        "CIUX_LOG",
        "CIUX_ON_REGISTRY_ERROR",
    ] {
        cmd.env_remove(var);
    }
    git::isolate_env(&mut cmd);
    no_network_names(&mut cmd);
    cmd
}

/// Tests never resolve a name outside 127.0.0.1: every HTTP(S) request to
/// another host goes to a proxy on 127.0.0.1:9, where nothing listens, so a
/// configuration naming `127.0.0.1:9` fails at once, with no DNS
/// lookup (through a proxy, the client does not resolve the target). Loopback
/// stays direct.
pub fn no_network_names(cmd: &mut Command) {
    for (name, value) in [
        ("HTTP_PROXY", "http://127.0.0.1:9"),
        ("HTTPS_PROXY", "http://127.0.0.1:9"),
        ("ALL_PROXY", "http://127.0.0.1:9"),
        ("NO_PROXY", "127.0.0.1,localhost"),
    ] {
        cmd.env(name, value);
        cmd.env(name.to_lowercase(), value);
    }
}

/// [`ciux`] for workspaces whose configurations name registries that do not
/// exist (`127.0.0.1:9`): registry failures mean "build", as with
/// `--on-registry-error=build`, so those tests exercise everything but the registry.
pub fn ciux_offline(dir: &Path) -> Command {
    let mut cmd = ciux(dir);
    cmd.env("CIUX_ON_REGISTRY_ERROR", "build");
    cmd
}
