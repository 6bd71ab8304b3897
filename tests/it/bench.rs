//! `ciux bench`: the embedded pipeline on fixed seeds (exact counts), the
//! gates, archives written by Python's fastavro, and the Kafka transport
//! against a real Kafka-protocol broker (tansu) on 127.0.0.1.

use std::collections::BTreeMap;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ciux::alert_bench::{Class, Generator, Mix};
use serde_json::Value;

use crate::common::ciux;

/// Output-topic counts of the first `n` alerts of `seed`, from the generator's
/// own draw (every alert is classified as drawn: see the generator's tests).
pub(crate) fn expected_topics(topic: &str, seed: u64, n: u64) -> BTreeMap<String, u64> {
    let g = Generator::new(seed, Mix::default());
    let mut counts: BTreeMap<String, u64> = Class::ALL
        .iter()
        .map(|c| (format!("{topic}.{}", c.name()), 0))
        .collect();
    for i in 0..n {
        *counts
            .get_mut(&format!("{topic}.{}", g.alert(i).1.name()))
            .unwrap() += 1;
    }
    counts
}

pub(crate) fn topics(report: &Value) -> BTreeMap<String, u64> {
    serde_json::from_value(report["topics"].clone()).unwrap()
}

/// Run `ciux bench ARGS --report -` and return the parsed report.
pub(crate) fn bench_ok(dir: &Path, args: &[&str]) -> Value {
    let out = ciux(dir)
        .arg("bench")
        .args(args)
        .args(["--report", "-"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "ciux bench {args:?} failed: {stderr}");
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("report is JSON ({e}): {stderr}"))
}

#[test]
fn embedded_run_counts_every_alert_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let r = bench_ok(dir.path(), &["--alerts", "3000", "--seed", "7"]);
    assert_eq!(r["alerts"]["produced"], 3000);
    assert_eq!(r["alerts"]["consumed"], 3000);
    assert_eq!(r["alerts"]["lost"], 0);
    assert_eq!(r["alerts"]["duplicated"], 0);
    assert_eq!(topics(&r), expected_topics("alerts", 7, 3000));
    // Pinned: a change of the generator or of the rules must be deliberate.
    let pinned: Vec<u64> = topics(&r).into_values().collect();
    assert_eq!(
        pinned,
        [883, 309, 158, 884, 766],
        "bogus, solar_system, transient, unknown, variable_star"
    );
    assert!(r["throughput"]["alerts_per_sec"].as_f64().unwrap() > 0.0);
    assert!(r["latency_ms"]["p99"].as_f64().unwrap() >= r["latency_ms"]["p50"].as_f64().unwrap());
    assert!(r["peak_memory_mb"].as_f64().unwrap() > 1.0);
    assert!(
        r["gates"]
            .as_array()
            .unwrap()
            .iter()
            .all(|g| g["passed"] == true)
    );
}

#[test]
fn container_framing_carries_the_same_alerts() {
    let dir = tempfile::tempdir().unwrap();
    let r = bench_ok(
        dir.path(),
        &["--alerts", "500", "--seed", "7", "--container"],
    );
    assert_eq!(r["alerts"]["consumed"], 500);
    assert_eq!(r["alerts"]["undecodable"], 0);
    assert_eq!(topics(&r), expected_topics("alerts", 7, 500));
}

#[test]
fn same_seed_same_counts_other_seed_other_counts() {
    let dir = tempfile::tempdir().unwrap();
    let args = |seed: &'static str| {
        [
            "--alerts",
            "500",
            "--seed",
            seed,
            "--workers",
            "3",
            "--rate",
            "100000",
        ]
    };
    let a = topics(&bench_ok(dir.path(), &args("11")));
    let b = topics(&bench_ok(dir.path(), &args("11")));
    let c = topics(&bench_ok(dir.path(), &args("12")));
    assert_eq!(a, b);
    assert_ne!(a, c);
}

#[test]
fn default_run_prints_a_human_summary_and_no_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let out = ciux(dir.path())
        .args(["bench", "--alerts", "200"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(out.stdout.is_empty(), "stdout carries only requested data");
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("produced 200  consumed 200  lost 0"), "{err}");
    assert!(
        err.contains("gate       max-loss               ok"),
        "{err}"
    );
}

#[test]
fn each_gate_fails_the_run_naming_itself() {
    let dir = tempfile::tempdir().unwrap();
    for (flag, value, name) in [
        ("--min-throughput", "1e12", "min-throughput"),
        ("--max-p99-ms", "0.0001", "max-p99-ms"),
        ("--expect-topics", "4", "expect-topics"),
    ] {
        let out = ciux(dir.path())
            .args(["bench", "--alerts", "300", flag, value])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{flag}: {err}");
        assert!(
            err.contains("error: 1 gate(s) failed: ") && err.contains(name),
            "{flag}: {err}"
        );
    }
    // The passing side of the same gates.
    bench_ok(
        dir.path(),
        &[
            "--alerts",
            "300",
            "--min-throughput",
            "1",
            "--max-p99-ms",
            "60000",
            "--expect-topics",
            "5",
        ],
    );
}

#[test]
fn baseline_regression_gate_and_step_summary() {
    let dir = tempfile::tempdir().unwrap();
    let mut old = bench_ok(dir.path(), &["--alerts", "300"]);
    old["throughput"]["alerts_per_sec"] = 1e12.into();
    let baseline = dir.path().join("old.json");
    std::fs::write(&baseline, old.to_string()).unwrap();
    let summary = dir.path().join("summary.md");
    let chart = dir.path().join("chart.svg");
    let out = ciux(dir.path())
        .args(["bench", "--alerts", "300", "--baseline"])
        .arg(&baseline)
        .arg("--chart")
        .arg(&chart)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("regression-throughput"), "{err}");
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(
        md.contains("| regression-throughput |") && md.contains("❌ fail"),
        "{md}"
    );
    assert!(md.contains("| `alerts.transient` |"), "{md}");
    let svg = std::fs::read_to_string(&chart).unwrap();
    assert!(
        svg.starts_with("<svg") && svg.contains("latency distribution"),
        "chart drawn"
    );
}

#[test]
fn bad_usage_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["--rate", "0"][..],
        &["--mix", "comet=0.1"],
        &["--produce-only"],
        &["--rate", "10", "--max"],
        &["--from", "no-such-dir"],
        &["--alerts", "0"],
        &["--workers", "0"],
        &["--producers", "0"],
        &["--survey", "hst"],
        // Generated alerts are synthetic or LSST: ZTF's own schemas need --from.
        &["--survey", "ztf"],
    ] {
        let out = ciux(dir.path()).arg("bench").args(args).output().unwrap();
        let code = out.status.code();
        // A missing archive directory is a failure to read (1), the rest usage (2).
        let want = if args[0] == "--from" { 1 } else { 2 };
        assert_eq!(
            code,
            Some(want),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// A report or chart in a directory that does not exist is a usage error
/// before the run, and no directory is created.
#[test]
fn report_in_a_missing_directory_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    for flag in ["--report", "--chart"] {
        let target = dir.path().join("missing/deeper/x.out");
        let out = ciux(dir.path())
            .args(["bench", "--alerts", "10", flag])
            .arg(&target)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flag}: {err}");
        assert!(err.contains("does not exist"), "{err}");
        assert!(
            !dir.path().join("missing").exists(),
            "{flag} created directories"
        );
    }
    let r = bench_ok(dir.path(), &["--alerts", "10"]);
    assert_eq!(r["alerts"]["consumed"], 10);
}

/// The shared reference inputs: `CIUX_REFERENCE`, else `../shared/reference`
/// beside the repository.
pub(crate) fn reference(rel: &str) -> PathBuf {
    let base = std::env::var_os("CIUX_REFERENCE").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/reference"),
        PathBuf::from,
    );
    let p = base.join(rel);
    assert!(
        p.exists(),
        "reference input {} missing (set CIUX_REFERENCE)",
        p.display()
    );
    p
}

/// Every real sample through the whole pipeline: routed to its documented class.
#[test]
fn real_samples_are_routed_by_their_fields() {
    let dir = tempfile::tempdir().unwrap();
    for (rel, class, survey) in [
        ("ztf_alert_schema_3p3_sample.avro", "unknown", "ztf"),
        ("ztf/1628364324215010017.avro", "bogus", "ztf"),
        ("ztf/template_schema_ZTF_3p1.avro", "bogus", "ztf"),
        ("ztf/ztf_public_20190903.schema.avro", "bogus", "ztf"),
        ("lsst-v11_0/fakeAlert.avro", "unknown", "lsst"),
        (
            "elasticc/alert_mjd60673.2244_obj1198_src2396011.avro",
            "unknown",
            "lsst",
        ),
    ] {
        let path = reference(rel);
        for args in [vec![], vec!["--survey", survey], vec!["--container"]] {
            let mut all = vec!["--from", path.to_str().unwrap()];
            all.extend(args.iter().copied());
            let r = bench_ok(dir.path(), &all);
            assert_eq!(r["alerts"]["consumed"], 1, "{rel} {args:?}");
            assert_eq!(r["alerts"]["undecodable"], 0, "{rel} {args:?}");
            assert_eq!(topics(&r)[&format!("alerts.{class}")], 1, "{rel} {args:?}");
        }
    }
}

/// `--alerts N` replays a one-alert archive N times under fresh candidate
/// ids: every alert counted once, none lost or duplicated; `--loop
/// --duration` likewise; the Confluent wire format with `--schema-file`.
#[test]
fn replays_an_archive_cyclically_with_fresh_ids() {
    let dir = tempfile::tempdir().unwrap();
    let ztf = reference("ztf/template_schema_ZTF_3p1.avro");
    let ztf = ztf.to_str().unwrap();
    let r = bench_ok(dir.path(), &["--from", ztf, "--alerts", "2000"]);
    assert_eq!(r["alerts"]["produced"], 2000);
    assert_eq!(r["alerts"]["consumed"], 2000);
    assert_eq!(r["alerts"]["duplicated"], 0);
    assert_eq!(topics(&r)["alerts.bogus"], 2000);
    let r = bench_ok(dir.path(), &["--from", ztf, "--loop", "--duration", "0.5"]);
    let n = r["alerts"]["consumed"].as_u64().unwrap();
    assert!(n > 10, "half a second of replay: {n}");
    assert_eq!(r["alerts"]["produced"].as_u64().unwrap(), n);
    assert_eq!(r["alerts"]["duplicated"], 0);
    // The writer schema as a file, for messages in the Confluent wire format.
    let schema = dir.path().join("schema.avsc");
    let status = Command::new(python_with_fastavro())
        .args([
            "-c",
            "import fastavro, sys; open(sys.argv[2], 'w').write(fastavro.reader(open(sys.argv[1], 'rb')).metadata['avro.schema'])",
            ztf,
        ])
        .arg(&schema)
        .status()
        .unwrap();
    assert!(status.success());
    let r = bench_ok(
        dir.path(),
        &[
            "--from",
            ztf,
            "--alerts",
            "300",
            "--schema-file",
            schema.to_str().unwrap(),
        ],
    );
    assert_eq!(r["alerts"]["consumed"], 300);
    assert_eq!(r["alerts"]["undecodable"], 0);
}

/// The zig-zag varint of an Avro long.
fn varint(v: i64) -> Vec<u8> {
    let mut z = ((v << 1) ^ (v >> 63)) as u64;
    let mut out = Vec::new();
    while z >= 0x80 {
        out.push((z as u8) | 0x80);
        z >>= 7;
    }
    out.push(z as u8);
    out
}

/// A 1 GB container file of the real ZTF alert, each copy under its own
/// candidate id (both `candid` fields patched in place), streamed in
/// bounded memory: peak resident memory of the run ≤ 512 MB.
#[test]
fn a_1gb_archive_streams_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let sample = reference("ztf_alert_schema_3p3_sample.avro");
    let mut reader = apache_avro::Reader::new(std::fs::File::open(&sample).unwrap()).unwrap();
    let schema = reader.writer_schema().clone();
    let value = reader.next().unwrap().unwrap();
    let mut datum = Vec::new();
    apache_avro::writer::datum::GenericDatumWriter::builder(&schema)
        .build()
        .unwrap()
        .write_value_ref(&mut datum, &value)
        .unwrap();
    let id: i64 = 1_048_197_683_315_015_009;
    let needle = varint(id);
    let spans: Vec<usize> = (0..datum.len() - needle.len())
        .filter(|&i| datum[i..i + needle.len()] == needle[..])
        .collect();
    assert_eq!(spans.len(), 2, "candid and candidate.candid");
    let per_block = 50;
    let blocks = (1usize << 30).div_ceil(datum.len() * per_block);
    let path = dir.path().join("night.avro");
    {
        use std::io::Write;
        let mut f =
            std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&path).unwrap());
        let sync = *b"0123456789abcdef";
        let json = schema.canonical_form();
        f.write_all(b"Obj\x01").unwrap();
        f.write_all(&varint(1)).unwrap();
        f.write_all(&varint(11)).unwrap();
        f.write_all(b"avro.schema").unwrap();
        f.write_all(&varint(json.len() as i64)).unwrap();
        f.write_all(json.as_bytes()).unwrap();
        f.write_all(&varint(0)).unwrap();
        f.write_all(&sync).unwrap();
        let mut copy = datum.clone();
        for b in 0..blocks {
            f.write_all(&varint(per_block as i64)).unwrap();
            f.write_all(&varint((datum.len() * per_block) as i64))
                .unwrap();
            for k in 0..per_block {
                let patched = varint(id + (b * per_block + k) as i64);
                assert_eq!(patched.len(), needle.len());
                for &at in &spans {
                    copy[at..at + needle.len()].copy_from_slice(&patched);
                }
                f.write_all(&copy).unwrap();
            }
            f.write_all(&sync).unwrap();
        }
    }
    let size = std::fs::metadata(&path).unwrap().len();
    assert!(size >= 1 << 30, "{size} bytes");
    let n = (blocks * per_block) as u64;
    let r = bench_ok(dir.path(), &["--from", path.to_str().unwrap()]);
    assert_eq!(r["alerts"]["produced"], n);
    assert_eq!(r["alerts"]["consumed"], n);
    assert_eq!(r["alerts"]["duplicated"], 0);
    assert_eq!(topics(&r)["alerts.unknown"], n);
    let peak = r["peak_memory_mb"].as_f64().unwrap();
    assert!(
        peak <= 512.0,
        "peak resident memory {peak} MB for a {size}-byte archive"
    );
}

/// `python3` with fastavro, installed by .ci/setup/40-kafka.sh.
fn python_with_fastavro() -> &'static str {
    let ok = Command::new("python3")
        .args(["-c", "import fastavro"])
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "python3 with fastavro is missing: run .ci/setup/40-kafka.sh"
    );
    "python3"
}

/// A ZTF-shaped container file written by fastavro (deflate codec), plus a
/// gzipped copy with other alerts: one alert per class, known by construction.
const FASTAVRO_WRITER: &str = r#"
import fastavro, gzip, io, sys
opt = lambda t: ["null", t]
schema = {"type": "record", "name": "alert", "namespace": "ztf", "fields": [
  {"name": "objectId", "type": "string"},
  {"name": "candid", "type": "long"},
  {"name": "candidate", "type": {"type": "record", "name": "candidate", "fields": [
    {"name": "jd", "type": "double"}, {"name": "fid", "type": "int"},
    {"name": "isdiffpos", "type": "string"}, {"name": "magpsf", "type": "float"},
    {"name": "rb", "type": opt("float")}, {"name": "nbad", "type": opt("int")},
    {"name": "fwhm", "type": opt("float")}, {"name": "elong", "type": opt("float")},
    {"name": "magdiff", "type": opt("float")}, {"name": "ssdistnr", "type": opt("float")},
    {"name": "ssmagnr", "type": opt("float")}, {"name": "distpsnr1", "type": opt("float")},
    {"name": "sgscore1", "type": opt("float")}]}},
  {"name": "prv_candidates", "type": opt({"type": "array", "items": {"type": "record", "name": "prv", "fields": [
    {"name": "jd", "type": "double"}, {"name": "magpsf", "type": opt("float")}]}})},
  {"name": "cutoutScience", "type": opt("bytes")}]}
def alert(i, **kw):
    c = dict(jd=2460000.5 + i, fid=1, isdiffpos="t", magpsf=18.0, rb=0.9, nbad=0, fwhm=2.0,
             elong=1.05, magdiff=0.01, ssdistnr=-999.0, ssmagnr=-999.0, distpsnr1=10.0, sgscore1=0.1)
    prv = kw.pop("prv", None)
    c.update(kw)
    return {"objectId": "ZTF24test%03d" % i, "candid": 2000 + i, "candidate": c,
            "prv_candidates": prv, "cutoutScience": b"\x1f\x8b" + bytes(13000)}
first = [alert(0, rb=0.2), alert(1, ssdistnr=1.0, ssmagnr=19.0), alert(2, distpsnr1=0.4, sgscore1=0.99)]
second = [alert(3, prv=[{"jd": 1.0, "magpsf": 19.5}, {"jd": 2.0, "magpsf": None}, {"jd": 3.0, "magpsf": 18.9}]),
          alert(4), alert(5, isdiffpos="f")]
out = sys.argv[1]
with open(out + "/night-1.avro", "wb") as f:
    fastavro.writer(f, schema, first, codec="deflate")
buf = io.BytesIO()
fastavro.writer(buf, schema, second)
with open(out + "/night-2.avro.gz", "wb") as f:
    f.write(gzip.compress(buf.getvalue()))
"#;

fn fastavro_archive(dir: &Path) -> PathBuf {
    let archive = dir.join("archive");
    std::fs::create_dir_all(&archive).unwrap();
    let status = Command::new(python_with_fastavro())
        .args(["-c", FASTAVRO_WRITER])
        .arg(&archive)
        .status()
        .unwrap();
    assert!(status.success(), "fastavro wrote the archive");
    archive
}

#[test]
fn replays_an_archive_written_by_fastavro() {
    let dir = tempfile::tempdir().unwrap();
    let archive = fastavro_archive(dir.path());
    let r = bench_ok(dir.path(), &["--from", archive.to_str().unwrap()]);
    assert_eq!(r["alerts"]["produced"], 6);
    assert_eq!(r["alerts"]["consumed"], 6);
    assert_eq!(r["alerts"]["undecodable"], 0);
    let want: BTreeMap<String, u64> = [
        ("alerts.bogus", 2),
        ("alerts.solar_system", 1),
        ("alerts.transient", 1),
        ("alerts.unknown", 1),
        ("alerts.variable_star", 1),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    assert_eq!(topics(&r), want);
    assert!(r["run"]["source"].as_str().unwrap().starts_with("archive "));
}

/// A tansu broker on a free port of 127.0.0.1, killed on drop.
pub(crate) struct Tansu {
    child: Child,
    pub(crate) addr: String,
}

impl Tansu {
    fn binary() -> PathBuf {
        let path = std::env::var_os("CIUX_TANSU")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("/opt/ciux-test/bin/tansu"));
        assert!(
            path.exists(),
            "tansu (Kafka-protocol broker) not found at {}: run .ci/setup/40-kafka.sh or set CIUX_TANSU",
            path.display()
        );
        path
    }

    pub(crate) fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = format!("tcp://127.0.0.1:{port}");
        let child = Command::new(Self::binary())
            .args([
                "broker",
                "--listener-url",
                &url,
                "--advertised-listener-url",
                &url,
            ])
            .args(["--storage-engine", "memory://tansu/"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("tansu starts");
        let addr = format!("127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(&addr).is_err() {
            assert!(
                Instant::now() < deadline,
                "tansu did not listen on {addr} within 10 s"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Self { child, addr }
    }
}

impl Drop for Tansu {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn kafka_end_to_end_10k_alerts_no_loss_exact_topics() {
    let broker = Tansu::start();
    let dir = tempfile::tempdir().unwrap();
    let r = bench_ok(
        dir.path(),
        &[
            "--brokers",
            &broker.addr,
            "--topic",
            "e2e",
            "--partitions",
            "2",
            "--alerts",
            "10000",
            "--seed",
            "3",
        ],
    );
    assert_eq!(r["alerts"]["produced"], 10000);
    assert_eq!(r["alerts"]["consumed"], 10000);
    assert_eq!(r["alerts"]["lost"], 0);
    assert_eq!(r["alerts"]["duplicated"], 0);
    assert_eq!(topics(&r), expected_topics("e2e", 3, 10000));
    assert!(
        r["run"]["transport"]
            .as_str()
            .unwrap()
            .starts_with("kafka ")
    );
}

#[test]
fn kafka_produce_forward_then_consume_only() {
    let broker = Tansu::start();
    let dir = tempfile::tempdir().unwrap();
    let b = broker.addr.as_str();
    // A pipeline run that forwards to the output topics, as a deployed broker would.
    let r = bench_ok(
        dir.path(),
        &[
            "--brokers",
            b,
            "--topic",
            "fwd",
            "--alerts",
            "400",
            "--forward",
        ],
    );
    assert_eq!(r["alerts"]["lost"], 0);
    // The checker of a deployment: reads the output topics.
    let r = bench_ok(
        dir.path(),
        &[
            "--brokers",
            b,
            "--topic",
            "fwd",
            "--consume-only",
            "--expect",
            "400",
            "--expect-topics",
            "5",
        ],
    );
    assert_eq!(r["alerts"]["consumed"], 400);
    assert_eq!(r["run"]["mode"], "consume-only");
    assert_eq!(topics(&r), expected_topics("fwd", 1, 400));
    // A deployed broker's own topic names: only those are read and reported.
    let want = expected_topics("fwd", 1, 400);
    let picked = ["fwd.transient", "fwd.bogus"];
    let n: u64 = picked.iter().map(|t| want[*t]).sum();
    let r = bench_ok(
        dir.path(),
        &[
            "--brokers",
            b,
            "--consume-only",
            "--output-topics",
            &picked.join(","),
            "--expect",
            &n.to_string(),
        ],
    );
    assert_eq!(r["alerts"]["consumed"].as_u64(), Some(n));
    let got = topics(&r);
    assert_eq!(got.len(), 2);
    assert!(picked.iter().all(|t| got[*t] == want[*t]), "{got:?}");
    // Expecting more than arrived: lost alerts fail the max-loss gate.
    let out = ciux(dir.path())
        .args([
            "bench",
            "--brokers",
            b,
            "--topic",
            "fwd",
            "--consume-only",
            "--expect",
            "410",
        ])
        .args(["--drain-timeout", "1"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("max-loss (value 10.00, limit 0.00)"), "{err}");
    // Produce-only injects into the input topic and reports what it sent.
    let r = bench_ok(
        dir.path(),
        &[
            "--brokers",
            b,
            "--topic",
            "inject",
            "--produce-only",
            "--alerts",
            "300",
        ],
    );
    assert_eq!(r["alerts"]["produced"], 300);
    assert_eq!(r["run"]["mode"], "produce-only");
}

#[test]
fn load_shapes_pace_the_producers() {
    let dir = tempfile::tempdir().unwrap();
    // 3 visits of 100 alerts, 0.3 s apart: the last visit starts at 0.6 s.
    let r = bench_ok(
        dir.path(),
        &[
            "--alerts",
            "300",
            "--visit-size",
            "100",
            "--visit-interval",
            "0.3",
        ],
    );
    assert_eq!(r["alerts"]["consumed"], 300);
    assert!(
        r["throughput"]["duration_sec"].as_f64().unwrap() >= 0.6,
        "{}",
        r["throughput"]
    );
    // 400 alerts/s for 0.5 s: about 200 alerts.
    let r = bench_ok(dir.path(), &["--rate", "400", "--duration", "0.5"]);
    let n = r["alerts"]["produced"].as_u64().unwrap();
    assert!((150..=205).contains(&n), "produced {n}");
    assert_eq!(r["alerts"]["lost"], 0);
}

#[test]
fn prints_the_alert_schema() {
    let dir = tempfile::tempdir().unwrap();
    let out = ciux(dir.path())
        .args(["bench", "--schema"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let schema: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(schema["name"], "Alert");
    assert_eq!(schema["namespace"], "ciux.bench");
}

#[test]
fn help_lists_every_option() {
    let dir = tempfile::tempdir().unwrap();
    let out = ciux(dir.path())
        .args(["bench", "--help"])
        .env("COLUMNS", "100")
        .output()
        .unwrap();
    assert!(out.status.success());
    insta::assert_snapshot!(String::from_utf8(out.stdout).unwrap());
}
