//! `ciux bench --survey lsst` without an archive: generated `lsst.v11_0.alert`
//! packets, checked against the reference schema and read back by Python's
//! fastavro (the oracle), classified by the LSST rules.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::bench::{bench_ok, reference, topics};
use crate::common::ciux;

/// `ciux bench --survey lsst --write FILE` with extra arguments.
fn write(dir: &Path, name: &str, args: &[&str]) -> PathBuf {
    let path = dir.join(name);
    let out = ciux(dir)
        .args(["bench", "--survey", "lsst", "--write"])
        .arg(&path)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty(), "--write prints nothing on stdout");
    path
}

fn python(script: &str, args: &[&Path]) -> Value {
    let out = Command::new("python3")
        .args(["-c", script])
        .args(args)
        .output()
        .expect("python3 with fastavro (.ci/setup/40-kafka.sh)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The schema ciux generates with has the Avro canonical form (and the
/// CRC-64-AVRO fingerprint) of the reference schema, assembled by fastavro
/// from the reference `.avsc` files.
#[test]
fn generated_lsst_alerts_use_the_reference_schema() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "one.avro", &["--alerts", "1"]);
    let avsc = reference("lsst-v11_0/lsst.v11_0.alert.avsc");
    let got = python(
        r#"
import fastavro, fastavro.schema as fs, json, sys
ours = json.loads(fastavro.reader(open(sys.argv[1], "rb")).metadata["avro.schema"])
ref = fs.load_schema(sys.argv[2])
canon = lambda s: fs.to_parsing_canonical_form(fastavro.parse_schema(s))
print(json.dumps({"name": ours["name"], "same": canon(ours) == canon(ref),
                  "ours": fs.fingerprint(canon(ours), "CRC-64-AVRO"),
                  "ref": fs.fingerprint(canon(ref), "CRC-64-AVRO")}))
"#,
        &[&file, &avsc],
    );
    assert_eq!(got["name"], "lsst.v11_0.alert");
    assert_eq!(got["ours"], got["ref"], "{got}");
    assert_eq!(got["same"], true);
}

/// fastavro reads every generated packet, with the reference schema as its
/// reader schema; the shape of the alerts (histories, diaObject/ssSource,
/// cutouts) is what docs/bench.md says; the LSST rules applied in Python to
/// fastavro's values give the counts ciux routes, both from the file and
/// generated in the run; the mix of classes is the one asked for.
#[test]
fn generated_lsst_alerts_decode_with_fastavro_and_classify_by_the_rules() {
    let dir = tempfile::tempdir().unwrap();
    let n = 2_000u64;
    let ns = n.to_string();
    let file = write(dir.path(), "lsst.avro", &["--alerts", &ns, "--seed", "11"]);
    let avsc = reference("lsst-v11_0/lsst.v11_0.alert.avsc");
    let got = python(
        r#"
import fastavro, fastavro.schema as fs, json, math, sys
reader = fastavro.reader(open(sys.argv[1], "rb"), reader_schema=fs.load_schema(sys.argv[2]))
ids, prv, forced, cut, both, classes = [], [], [], [], 0, {}
def rules(a):
    s, o = a["diaSource"], a["diaObject"] or {}
    if ((s["reliability"] is not None and s["reliability"] < 0.5) or (s["snr"] is not None and s["snr"] < 5)
            or s["pixelFlags"] or s["isDipole"]):
        return "bogus"
    if a["ssSource"] is not None or s["ssObjectId"]:
        return "solar_system"
    ext = s["extendedness"]
    for b in "gr":
        m, sg, nd = o.get(b + "_psfFluxMean"), o.get(b + "_psfFluxSigma"), o.get(b + "_psfFluxNdata")
        if (ext is None or ext <= 0.5) and None not in (m, sg, nd) and nd >= 3 and abs(m) > 0 and sg / abs(m) > 0.2:
            return "variable_star"
    h = [(p["midpointMjdTai"], p["psfFlux"]) for p in a["prvDiaSources"] or [] if p["psfFlux"] is not None and p["psfFlux"] > 0]
    if len(h) >= 2 and s["psfFlux"] and s["psfFlux"] > 0 and 2.5 * math.log10(s["psfFlux"] / min(h)[1]) >= 0.5:
        return "transient"
    return "unknown"
for a in reader:
    ids.append(a["diaSourceId"])
    assert a["diaSource"]["diaSourceId"] == a["diaSourceId"]
    prv.append(None if a["prvDiaSources"] is None else len(a["prvDiaSources"]))
    forced.append(None if a["prvDiaForcedSources"] is None else len(a["prvDiaForcedSources"]))
    both += (a["diaObject"] is None) == (a["ssSource"] is None)
    cut.extend(len(a[k]) for k in ["cutoutScience", "cutoutTemplate", "cutoutDifference"])
    c = rules(a)
    classes[c] = classes.get(c, 0) + 1
print(json.dumps(dict(ids=ids, prv=prv, forced=forced, cut=cut, both=both, classes=classes)))
"#,
        &[&file, &avsc],
    );
    let ids: Vec<i64> = serde_json::from_value(got["ids"].clone()).unwrap();
    let base = ciux::alert_bench::CANDID_BASE;
    assert_eq!(ids, (0..n as i64).map(|i| base + i).collect::<Vec<_>>());
    // Each alert has either a diaObject or an ssSource, never both or none.
    assert_eq!(got["both"], 0);
    let prv: Vec<Option<u64>> = serde_json::from_value(got["prv"].clone()).unwrap();
    let lengths: Vec<u64> = prv.iter().flatten().copied().collect();
    assert!(
        lengths.iter().all(|&l| l <= 30),
        "at most 30 earlier sources"
    );
    assert!(
        lengths.contains(&2),
        "the v11 sample's 2 earlier sources occur"
    );
    let mean = lengths.iter().sum::<u64>() as f64 / lengths.len() as f64;
    assert!((10.0..20.0).contains(&mean), "mean history {mean}");
    let forced: Vec<Option<u64>> = serde_json::from_value(got["forced"].clone()).unwrap();
    let with_forced = forced.iter().flatten().count() as f64 / n as f64;
    assert!(
        (0.3..0.6).contains(&with_forced),
        "forced photometry in {with_forced}"
    );
    assert!(forced.iter().flatten().all(|&l| l <= 12));
    let cut: Vec<u64> = serde_json::from_value(got["cut"].clone()).unwrap();
    assert_eq!(cut.len() as u64, 3 * n, "three cutouts per alert");
    assert!(cut.iter().all(|&c| (2_000..20_000).contains(&c)), "{cut:?}");

    let python_classes: BTreeMap<String, u64> =
        serde_json::from_value(got["classes"].clone()).unwrap();
    let python_topics: BTreeMap<String, u64> = python_classes
        .iter()
        .map(|(c, v)| (format!("alerts.{c}"), *v))
        .collect();
    let from_file = bench_ok(dir.path(), &["--from", file.to_str().unwrap()]);
    let generated = bench_ok(
        dir.path(),
        &["--survey", "lsst", "--alerts", &ns, "--seed", "11"],
    );
    for r in [&from_file, &generated] {
        assert_eq!(r["alerts"]["consumed"], n);
        assert_eq!(r["alerts"]["undecodable"], 0);
        let t: BTreeMap<String, u64> = topics(r).into_iter().filter(|(_, v)| *v > 0).collect();
        assert_eq!(
            t, python_topics,
            "ciux's routing is the rules on fastavro's values"
        );
    }
    // The default mix: bogus 0.3, solar_system 0.1, variable_star 0.25,
    // transient 0.05, the rest unknown.
    for (class, share) in [
        ("bogus", 0.30),
        ("solar_system", 0.10),
        ("variable_star", 0.25),
        ("transient", 0.05),
        ("unknown", 0.30),
    ] {
        let got = python_classes.get(class).copied().unwrap_or(0) as f64 / n as f64;
        assert!(
            (got - share).abs() < 0.04,
            "{class}: {got} of the alerts, want {share}"
        );
    }
}

/// The same seed gives the same alerts (byte for byte, whatever the number
/// of producer threads); another seed other alerts; `--mix` is honoured.
#[test]
fn same_seed_same_lsst_alerts() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(dir.path(), "a.avro", &["--alerts", "600", "--seed", "3"]);
    let b = write(dir.path(), "b.avro", &["--alerts", "600", "--seed", "3"]);
    let c = write(dir.path(), "c.avro", &["--alerts", "600", "--seed", "4"]);
    let (a, b, c) = (
        std::fs::read(a).unwrap(),
        std::fs::read(b).unwrap(),
        std::fs::read(c).unwrap(),
    );
    assert_eq!(a, b);
    assert_ne!(a, c);
    let one = bench_ok(
        dir.path(),
        &["--survey", "lsst", "--alerts", "3000", "--producers", "1"],
    );
    let two = bench_ok(
        dir.path(),
        &["--survey", "lsst", "--alerts", "3000", "--producers", "2"],
    );
    assert_eq!(topics(&one), topics(&two));
    let mixed = bench_ok(
        dir.path(),
        &[
            "--survey",
            "lsst",
            "--alerts",
            "500",
            "--mix",
            "bogus=0,solar_system=1,variable_star=0,transient=0",
        ],
    );
    assert_eq!(topics(&mixed)["alerts.solar_system"], 500);
}

/// `--survey ztf` still needs an archive (generated alerts follow the
/// synthetic or the LSST schema); `--write` takes no archive.
#[test]
fn lsst_generation_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let out = ciux(dir.path())
        .args(["bench", "--survey", "ztf", "--alerts", "10"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--survey ztf needs --from"));
    let out = ciux(dir.path())
        .args(["bench", "--write", "x.avro", "--from", "y.avro"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(!dir.path().join("x.avro").exists());
}
