//! `ciux bench --group`: two processes share one input topic of a real
//! Kafka-protocol broker (tansu on 127.0.0.1) through one consumer group,
//! and `ciux bench merge` of their reports accounts for every alert once.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine;
use serde_json::Value;

use crate::bench::{Tansu, expected_topics, reference};
use crate::common::ciux;

/// Bound on each member process (a group join on tansu takes ~3 s).
const MEMBER_TIMEOUT: Duration = Duration::from_secs(120);

/// Run `members` processes of one group run at once, each writing its report
/// into `dir`; return the report paths.
fn group_run(dir: &Path, broker: &str, group: &str, members: u64, args: &[&str]) -> Vec<PathBuf> {
    let handles: Vec<_> = (0..members)
        .map(|k| {
            let (dir, broker, group) = (dir.to_path_buf(), broker.to_string(), group.to_string());
            let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
            std::thread::spawn(move || {
                let report = dir.join(format!("{group}-{k}.json"));
                let out = ciux(&dir)
                    .arg("bench")
                    .args(["--brokers", &broker, "--group", &group])
                    .args(["--member", &format!("{k}/{members}")])
                    .args(["--drain-timeout", "8", "--workers", "1", "--producers", "1"])
                    .args(&args)
                    .arg("--report")
                    .arg(&report)
                    .timeout(MEMBER_TIMEOUT)
                    .output()
                    .unwrap();
                assert!(
                    out.status.success(),
                    "member {k} failed: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
                report
            })
        })
        .collect();
    handles.into_iter().map(|h| h.join().unwrap()).collect()
}

fn read(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn merge(dir: &Path, reports: &[PathBuf]) -> std::process::Output {
    ciux(dir)
        .args(["bench", "merge"])
        .args(reports)
        .args(["--report", "-"])
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap()
}

fn merge_ok(dir: &Path, reports: &[PathBuf]) -> Value {
    let out = merge(dir, reports);
    assert!(
        out.status.success(),
        "merge failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The merge fails with exit 2 and a message containing `want`.
fn merge_refused(dir: &Path, reports: &[PathBuf], want: &str) {
    let out = merge(dir, reports);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{reports:?}: {err}");
    assert!(err.contains(want), "{reports:?}: wanted {want:?} in {err}");
    assert!(out.stdout.is_empty());
}

/// Indices `i` of the ids `CANDID_BASE + i` a report's id set holds.
fn dense_ids(report: &Value) -> Vec<u64> {
    let ids = &report["ids"];
    assert_eq!(ids["base"], ::ciux::alert_bench::CANDID_BASE);
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(ids["dense"].as_str().unwrap())
        .unwrap();
    let mut out = Vec::new();
    for (w, chunk) in bytes.chunks(8).enumerate() {
        let word = u64::from_le_bytes(chunk.try_into().unwrap());
        out.extend(
            (0..64)
                .filter(|b| word & (1 << b) != 0)
                .map(|b| w as u64 * 64 + b),
        );
    }
    out
}

fn topics(report: &Value) -> BTreeMap<String, u64> {
    serde_json::from_value(report["topics"].clone()).unwrap()
}

#[test]
fn two_processes_share_one_topic_and_merge_exactly() {
    let broker = Tansu::start();
    let dir = tempfile::tempdir().unwrap();
    // 1,500 alerts each at 600/s: both members are in the group while
    // alerts still flow, so each gets partitions to read.
    let paths = group_run(
        dir.path(),
        &broker.addr,
        "grp",
        2,
        &[
            "--topic",
            "grp",
            "--partitions",
            "2",
            "--alerts",
            "3000",
            "--rate",
            "600",
            "--seed",
            "5",
        ],
    );
    let members: Vec<Value> = paths.iter().map(|p| read(p)).collect();
    let mut all = Vec::new();
    for (k, r) in members.iter().enumerate() {
        assert_eq!(r["group"]["member"], k as u64);
        assert_eq!(r["group"]["members"], 2);
        assert_eq!(
            r["alerts"]["produced"], 1500,
            "member {k} produces its share"
        );
        assert_eq!(r["alerts"]["duplicated"], 0);
        assert_eq!(
            r["alerts"]["lost"], 0,
            "a member's loss is the merge's to count"
        );
        let consumed = r["alerts"]["consumed"].as_u64().unwrap();
        assert!(
            consumed > 0,
            "member {k} consumed nothing: the group did not share the partitions"
        );
        let ids = dense_ids(r);
        assert_eq!(ids.len() as u64, consumed);
        all.extend(ids);
    }
    // Each member counts only what it read: together, every alert once.
    all.sort_unstable();
    assert_eq!(all, (0..3000).collect::<Vec<u64>>());

    let m = merge_ok(dir.path(), &paths);
    assert_eq!(m["alerts"]["produced"], 3000);
    assert_eq!(m["alerts"]["consumed"], 3000);
    assert_eq!(m["alerts"]["lost"], 0);
    assert_eq!(m["alerts"]["duplicated"], 0);
    assert_eq!(topics(&m), expected_topics("grp", 5, 3000));
    assert_eq!(dense_ids(&m), (0..3000).collect::<Vec<u64>>());
    assert_eq!(m["group"]["merged"], serde_json::json!([0, 1]));
    assert!(m["gates"][0]["passed"] == true);

    // Bad merge input: each refused with exit 2, naming the report at fault.
    let (a, b) = (&paths[0], &paths[1]);
    merge_refused(
        dir.path(),
        std::slice::from_ref(a),
        "missing the report of member(s) [1] of 2",
    );
    merge_refused(
        dir.path(),
        &[a.clone(), a.clone()],
        "member 0 already given by",
    );
    let mut other = read(b);
    other["group"]["name"] = "another-run".into();
    let other_path = dir.path().join("other.json");
    std::fs::write(&other_path, other.to_string()).unwrap();
    merge_refused(
        dir.path(),
        &[a.clone(), other_path.clone()],
        "other.json: group is \"another-run\"",
    );
    let mut other = read(b);
    other["run"]["seed"] = 6.into();
    std::fs::write(&other_path, other.to_string()).unwrap();
    merge_refused(dir.path(), &[a.clone(), other_path.clone()], "seed");
    let mut other = read(b);
    other["alerts"]["consumed"] = 1.into();
    std::fs::write(&other_path, other.to_string()).unwrap();
    merge_refused(dir.path(), &[a.clone(), other_path], "bad consumed ids");
    let merged_path = dir.path().join("merged.json");
    std::fs::write(&merged_path, m.to_string()).unwrap();
    merge_refused(
        dir.path(),
        &[a.clone(), merged_path],
        "not a member report of a group run",
    );
}

#[test]
fn real_alerts_replayed_by_two_members_are_counted_once() {
    let broker = Tansu::start();
    let dir = tempfile::tempdir().unwrap();
    let sample = reference("ztf_alert_schema_3p3_sample.avro");
    let paths = group_run(
        dir.path(),
        &broker.addr,
        "real",
        2,
        &[
            "--topic",
            "real",
            "--partitions",
            "3",
            "--alerts",
            "600",
            "--rate",
            "150",
            "--from",
            sample.to_str().unwrap(),
        ],
    );
    let m = merge_ok(dir.path(), &paths);
    assert_eq!(m["alerts"]["produced"], 600);
    assert_eq!(m["alerts"]["consumed"], 600);
    assert_eq!(
        (
            m["alerts"]["lost"].clone(),
            m["alerts"]["duplicated"].clone()
        ),
        (0.into(), 0.into())
    );
    // The sample is `unknown` (docs/bench.md): every replayed copy too.
    assert_eq!(topics(&m)["real.unknown"], 600);
    assert_eq!(dense_ids(&m), (0..600).collect::<Vec<u64>>());
}

#[test]
fn bad_group_usage_and_merge_input_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    for (args, want) in [
        (&["--group", "g"][..], "--brokers"),
        (
            &[
                "--brokers",
                "127.0.0.1:1",
                "--group",
                "g",
                "--member",
                "2/2",
            ],
            "K/M",
        ),
        (&["--brokers", "127.0.0.1:1", "--member", "0/2"], "--group"),
        (&["--brokers", "127.0.0.1:1", "--group", ""], "non-empty"),
    ] {
        let out = ciux(dir.path()).arg("bench").args(args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: wanted {want:?} in {err}");
    }
    let not_json = dir.path().join("notes.txt");
    std::fs::write(&not_json, "not a report").unwrap();
    merge_refused(
        dir.path(),
        &[not_json],
        "notes.txt is not a ciux bench report",
    );
    merge_refused(
        dir.path(),
        &[dir.path().join("absent.json")],
        "cannot read report",
    );
    let plain = dir.path().join("plain.json");
    let out = ciux(dir.path())
        .args(["bench", "--alerts", "20", "--report"])
        .arg(&plain)
        .output()
        .unwrap();
    assert!(out.status.success());
    merge_refused(dir.path(), &[plain], "plain.json: not a member report");
    let out = ciux(dir.path()).args(["bench", "merge"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}
