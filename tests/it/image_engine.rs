//! `ciux image load` and `ciux image cleanup` against real image archives
//! (written by skopeo) and the stand-in engine of `common::engine`: no
//! container engine can run on the test machines, so the stand-in records and
//! checks the engine's command lines and keeps an image list as the engine would.

use predicates::prelude::*;

use crate::common::ciux;
use crate::common::engine::{StandIn, archive};

const URL: &str = "127.0.0.1:5000/astrolabsoftware/fink-broker-noscience:v3.1.0-rc1-3-gabcdef0";
/// `ciux image load` on a hosted runner for an image this workflow built.
const LOAD_BUILT: [&str; 8] = [
    "image",
    "load",
    "-r",
    "ubuntu-latest",
    "-i",
    URL,
    "-b",
    "true",
];

fn load_cmd(dir: &std::path::Path, engine: &StandIn) -> assert_cmd::Command {
    let mut cmd = ciux(dir);
    cmd.env("CIUX_CONTAINER_ENGINE", engine.program());
    cmd.env(
        "PATH",
        format!("{}:/usr/bin:/bin", engine.dir.path().display()),
    );
    cmd
}

#[test]
fn remote_image_is_used_without_an_engine() {
    let dir = tempfile::tempdir().unwrap();
    let empty = tempfile::tempdir().unwrap();
    ciux(dir.path())
        .env("PATH", empty.path())
        .env_remove("CIUX_CONTAINER_ENGINE")
        // LOAD_BUILT, but for an image this workflow did not build.
        .args(&LOAD_BUILT[..7])
        .arg("false")
        .assert()
        .success()
        .stdout(predicate::str::contains(format!(
            "using the remote image {URL}"
        )));
}

#[test]
fn hosted_runner_loads_a_docker_archive() {
    let dir = tempfile::tempdir().unwrap();
    let engine = StandIn::new("docker");
    let tar = archive(dir.path(), "docker-archive", URL);
    std::fs::create_dir_all(dir.path().join("artifacts")).unwrap();
    std::fs::rename(&tar, dir.path().join("artifacts/image.tar")).unwrap();
    load_cmd(dir.path(), &engine)
        .args([
            "image",
            "load",
            "--runner",
            "ubuntu-latest",
            "--image-url",
            URL,
        ])
        .args(["--build-status", "true"])
        .assert()
        .success()
        .stdout(predicate::str::contains("(docker-archive) into docker"))
        .stdout(predicate::str::contains(URL))
        .stdout(predicate::str::contains("tagged").not());
    let calls = engine.calls();
    assert_eq!(calls[0], "load --input artifacts/image.tar", "{calls:?}");
    assert!(calls.iter().all(|c| !c.starts_with("tag")), "{calls:?}");
    assert!(
        engine
            .images()
            .iter()
            .any(|r| r.contains("fink-broker-noscience\tv3.1.0-rc1-3-gabcdef0"))
    );
}

#[test]
fn oci_archive_without_the_name_is_loaded_and_tagged() {
    let dir = tempfile::tempdir().unwrap();
    let engine = StandIn::new("docker");
    // skopeo writes `org.opencontainers.image.ref.name: v1`: no full name to load as.
    let tar = archive(dir.path(), "oci-archive", "v1");
    load_cmd(dir.path(), &engine)
        .args([
            "image",
            "load",
            "-r",
            "ubuntu-22.04",
            "-i",
            URL,
            "-b",
            "TRUE",
            "-a",
        ])
        .arg(&tar)
        .assert()
        .success()
        .stdout(predicate::str::contains("(oci-archive)"))
        .stdout(predicate::str::contains(format!("as {URL}")));
    let calls = engine.calls();
    assert!(calls[0].starts_with("load --input "), "{calls:?}");
    let tag = calls
        .iter()
        .find(|c| c.starts_with("tag "))
        .expect("tagged");
    assert!(
        tag.starts_with("tag sha256:") && tag.ends_with(URL),
        "{tag}"
    );
    let rows = engine.images();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert!(rows[0].contains("\tv3.1.0-rc1-3-gabcdef0\t"), "{rows:?}");
}

#[test]
fn missing_or_bad_archive_and_failing_engine_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let engine = StandIn::new("docker");
    load_cmd(dir.path(), &engine)
        .args(LOAD_BUILT)
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "artifact file artifacts/image.tar not found",
        ));
    assert!(engine.calls().is_empty(), "the engine is not called");
    let junk = dir.path().join("junk.tar");
    std::fs::write(&junk, "this is not an archive".repeat(50)).unwrap();
    load_cmd(dir.path(), &engine)
        .args(LOAD_BUILT)
        .args(["-a"])
        .arg(&junk)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("not an image archive"));
    let tar = archive(dir.path(), "docker-archive", URL);
    load_cmd(dir.path(), &engine)
        .env("STANDIN_FAIL", "1")
        .args(LOAD_BUILT)
        .args(["-a"])
        .arg(&tar)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("`docker load --input"))
        .stderr(predicate::str::contains(
            "Cannot connect to the engine daemon",
        ));
}

#[test]
fn self_hosted_runner_checks_the_local_engine() {
    let dir = tempfile::tempdir().unwrap();
    let engine = StandIn::new("docker");
    let run = |engine: &StandIn| {
        let mut cmd = load_cmd(dir.path(), engine);
        cmd.args([
            "image",
            "load",
            "--runner",
            "['self-hosted', 'linux']",
            "-i",
            URL,
            "-b",
            "true",
        ]);
        cmd
    };
    run(&engine)
        .assert()
        .code(1)
        .stderr(predicate::str::contains(format!(
            "image {URL} is not in the local docker engine"
        )));
    let (repo, tag) = URL.rsplit_once(':').unwrap();
    engine.add_image("0123456789ab", repo, tag, 60);
    run(&engine)
        .arg("--kind-cluster")
        .arg("ci-main-abc")
        .assert()
        .success()
        .stdout(predicate::str::contains("is in the local docker engine"))
        .stdout(predicate::str::contains("into kind cluster ci-main-abc"));
    assert!(engine.calls().iter().all(|c| !c.starts_with("load")));
    assert_eq!(
        engine.kind_calls(),
        [format!(
            "load docker-image {URL} --name ci-main-abc provider="
        )]
    );
}

#[test]
fn podman_is_found_on_path_and_kind_loads_the_archive() {
    let dir = tempfile::tempdir().unwrap();
    let engine = StandIn::new("podman");
    let tar = archive(dir.path(), "docker-archive", URL);
    let mut cmd = ciux(dir.path());
    // Only the stand-ins on PATH: podman is detected without CIUX_CONTAINER_ENGINE.
    cmd.env("PATH", engine.dir.path())
        .env_remove("CIUX_CONTAINER_ENGINE")
        .env_remove("KIND_EXPERIMENTAL_PROVIDER")
        .args(LOAD_BUILT)
        .args(["-a"])
        .arg(&tar)
        .args(["--kind-cluster", "e2e"])
        .assert()
        .success()
        .stdout(predicate::str::contains("into podman"))
        .stdout(predicate::str::contains("into kind cluster e2e"));
    assert!(engine.calls()[0].starts_with("load --input "));
    assert_eq!(
        engine.kind_calls(),
        [format!(
            "load image-archive {} --name e2e provider=podman",
            tar.display()
        )]
    );
    // No engine at all: a clear error.
    let empty = tempfile::tempdir().unwrap();
    ciux(dir.path())
        .env("PATH", empty.path())
        .env_remove("CIUX_CONTAINER_ENGINE")
        .args(LOAD_BUILT)
        .args(["-a"])
        .arg(&tar)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("no container engine found"));
}

fn seeded_engine() -> StandIn {
    let engine = StandIn::new("docker");
    let day = 86_400;
    engine.add_image("aaaaaaaaaaaa", "127.0.0.1:9/fink-broker", "old", 6 * day);
    engine.add_image(
        "bbbbbbbbbbbb",
        "127.0.0.1:9/fink-broker-noscience",
        "older",
        20 * day,
    );
    engine.add_image("cccccccccccc", "127.0.0.1:9/fink-broker", "fresh", 3600);
    engine.add_image("dddddddddddd", "127.0.0.1:9/other", "ancient", 90 * day);
    engine.add_image("eeeeeeeeeeee", "<none>", "<none>", 10 * day);
    engine
}

#[test]
fn cleanup_removes_old_matching_images_then_dangling_ones() {
    let dir = tempfile::tempdir().unwrap();
    let engine = seeded_engine();
    load_cmd(dir.path(), &engine)
        .args([
            "image",
            "cleanup",
            "--max-age",
            "5d",
            "--pattern",
            "fink-broker",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "removed 127.0.0.1:9/fink-broker:old (6d old)",
        ))
        .stdout(predicate::str::contains(
            "removed 127.0.0.1:9/fink-broker-noscience:older (20d old)",
        ))
        .stdout(predicate::str::contains(
            "removed dangling eeeeeeeeeeee (10d old)",
        ))
        .stdout(predicate::str::contains(
            "kept 127.0.0.1:9/fink-broker:fresh (1h old",
        ))
        .stdout(predicate::str::contains("other").not());
    let calls = engine.calls();
    assert_eq!(
        calls,
        [
            "images --format {{.ID}}\t{{.Repository}}\t{{.Tag}}\t{{.CreatedAt}}",
            "rmi 127.0.0.1:9/fink-broker:old",
            "rmi 127.0.0.1:9/fink-broker-noscience:older",
            "image prune -f",
        ]
    );
    let left: Vec<String> = engine.images().iter().map(|r| r[..12].to_owned()).collect();
    assert_eq!(left, ["cccccccccccc", "dddddddddddd"]);
}

#[test]
fn cleanup_dry_run_removes_nothing_and_units_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let engine = seeded_engine();
    load_cmd(dir.path(), &engine)
        .args([
            "image",
            "cleanup",
            "-m",
            "2w",
            "-p",
            "fink-broker",
            "--dry-run",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "would remove 127.0.0.1:9/fink-broker-noscience:older (20d old)",
        ))
        .stdout(predicate::str::contains(
            "kept 127.0.0.1:9/fink-broker:old (6d old",
        ));
    assert_eq!(
        engine.calls().len(),
        1,
        "only the listing: {:?}",
        engine.calls()
    );
    assert_eq!(engine.images().len(), 5);
    load_cmd(dir.path(), &engine)
        .args([
            "image",
            "cleanup",
            "-m",
            "30m",
            "-p",
            "fink-broker",
            "--dry-run",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "would remove 127.0.0.1:9/fink-broker:fresh (1h old)",
        ));
    load_cmd(dir.path(), &engine)
        .args(["image", "cleanup", "-m", "5y", "-p", "fink-broker"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("invalid --max-age \"5y\""));
}
