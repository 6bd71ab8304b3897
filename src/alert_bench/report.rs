//! The run report (`--report FILE.json`, schema in docs/bench.md), the CI gates
//! evaluated on it, and its human and markdown renderings. Pure: plain data in,
//! plain data out.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

/// Version of the report layout; bumped when a field changes meaning.
pub(crate) const REPORT_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(crate) struct Report {
    pub(crate) version: u32,
    /// What ran: transport, source, load shape, mode.
    pub(crate) run: RunInfo,
    pub(crate) alerts: AlertCounts,
    pub(crate) throughput: Throughput,
    pub(crate) latency_ms: Latency,
    /// Mean time per alert in each stage, microseconds (busy time, all threads).
    pub(crate) stages_us: BTreeMap<String, f64>,
    /// Peak resident memory of the process, MB.
    pub(crate) peak_memory_mb: Option<f64>,
    /// Output topic name → alerts routed to it.
    pub(crate) topics: BTreeMap<String, u64>,
    /// Gates evaluated on this run (empty when none was asked).
    #[serde(default)]
    pub(crate) gates: Vec<Gate>,
    /// The group run this report is a member of (`--group`), or the merge of.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) group: Option<super::group::GroupInfo>,
    /// The candidate ids this run consumed (group runs: what makes
    /// `ciux bench merge` exact).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) ids: Option<super::group::IdSet>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(crate) struct RunInfo {
    pub(crate) transport: String,
    pub(crate) mode: String,
    pub(crate) source: String,
    pub(crate) seed: Option<u64>,
    pub(crate) load: String,
    pub(crate) workers: usize,
}

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq)]
pub(crate) struct AlertCounts {
    /// Alerts sent (in consume-only mode: the number expected).
    pub(crate) produced: u64,
    /// Distinct produced alerts that reached an output topic.
    pub(crate) consumed: u64,
    pub(crate) lost: u64,
    /// Extra arrivals of an alert already consumed.
    pub(crate) duplicated: u64,
    /// Alerts that could not be decoded (counted, not routed).
    pub(crate) undecodable: u64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub(crate) struct Throughput {
    /// Consumed alerts per second, end to end, over the whole run.
    pub(crate) alerts_per_sec: f64,
    pub(crate) mb_per_sec: f64,
    pub(crate) produce_alerts_per_sec: f64,
    pub(crate) duration_sec: f64,
    /// Routed alerts per second, one point per `interval_sec`.
    pub(crate) interval_sec: f64,
    pub(crate) timeline: Vec<f64>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub(crate) struct Latency {
    pub(crate) p50: f64,
    pub(crate) p90: f64,
    pub(crate) p99: f64,
    pub(crate) max: f64,
    pub(crate) mean: f64,
    /// The latency distribution: `[percentile, ms]` points.
    #[serde(default)]
    pub(crate) curve: Vec<[f64; 2]>,
}

/// One threshold and how this run fared against it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(crate) struct Gate {
    pub(crate) name: String,
    pub(crate) limit: f64,
    pub(crate) value: f64,
    pub(crate) passed: bool,
}

/// The thresholds a CI job asks for.
#[derive(Debug, Clone, Default)]
pub(crate) struct Gates {
    pub(crate) min_throughput: Option<f64>,
    pub(crate) max_p99_ms: Option<f64>,
    pub(crate) max_loss: u64,
    pub(crate) expect_topics: Option<usize>,
    /// Earlier report and the regression allowed against it, percent.
    pub(crate) baseline: Option<(Report, f64)>,
}

impl Gates {
    /// Evaluate every gate; loss is always checked (default: none allowed).
    pub(crate) fn evaluate(&self, r: &Report) -> Vec<Gate> {
        let gate = |name: &str, limit: f64, value: f64, passed: bool| Gate {
            name: name.into(),
            limit,
            value,
            passed,
        };
        let mut out = vec![gate(
            "max-loss",
            self.max_loss as f64,
            r.alerts.lost as f64,
            r.alerts.lost <= self.max_loss,
        )];
        if let Some(min) = self.min_throughput {
            let v = r.throughput.alerts_per_sec;
            out.push(gate("min-throughput", min, v, v >= min));
        }
        if let Some(max) = self.max_p99_ms {
            let v = r.latency_ms.p99;
            out.push(gate("max-p99-ms", max, v, v <= max));
        }
        if let Some(n) = self.expect_topics {
            let v = r.topics.values().filter(|&&c| c > 0).count();
            out.push(gate("expect-topics", n as f64, v as f64, v == n));
        }
        if let Some((base, pct)) = &self.baseline {
            let keep = 1.0 - pct / 100.0;
            let floor = base.throughput.alerts_per_sec * keep;
            let v = r.throughput.alerts_per_sec;
            out.push(gate("regression-throughput", floor, v, v >= floor));
            let ceiling = base.latency_ms.p99 / keep.max(f64::MIN_POSITIVE);
            let v = r.latency_ms.p99;
            out.push(gate("regression-p99-ms", ceiling, v, v <= ceiling));
        }
        out
    }
}

impl Report {
    pub(crate) fn failed_gates(&self) -> Vec<&Gate> {
        self.gates.iter().filter(|g| !g.passed).collect()
    }

    /// The human summary printed on stderr.
    pub(crate) fn human(&self) -> String {
        let mut s = String::new();
        let a = &self.alerts;
        let t = &self.throughput;
        let l = &self.latency_ms;
        let _ = writeln!(
            s,
            "bench: {} {} of {} ({}, {} workers)",
            self.run.transport, self.run.mode, self.run.source, self.run.load, self.run.workers
        );
        match &self.group {
            Some(g) if g.merged.is_empty() => {
                let _ = writeln!(
                    s,
                    "  group      {}: member {} of {} (loss is counted by `ciux bench merge`)",
                    g.name, g.member, g.members
                );
            }
            Some(g) => {
                let _ = writeln!(
                    s,
                    "  group      {}: merged members {:?} of {}",
                    g.name, g.merged, g.members
                );
            }
            None => {}
        }
        let _ = writeln!(
            s,
            "  alerts     produced {}  consumed {}  lost {}  duplicated {}  undecodable {}",
            a.produced, a.consumed, a.lost, a.duplicated, a.undecodable
        );
        let _ = writeln!(
            s,
            "  throughput {:.0} alerts/s end to end, {:.1} MB/s ({:.0} alerts/s produced) in {:.2} s",
            t.alerts_per_sec, t.mb_per_sec, t.produce_alerts_per_sec, t.duration_sec
        );
        let _ = writeln!(
            s,
            "  latency    p50 {:.2} ms  p90 {:.2} ms  p99 {:.2} ms  max {:.2} ms",
            l.p50, l.p90, l.p99, l.max
        );
        let stages: Vec<String> = self
            .stages_us
            .iter()
            .map(|(k, v)| format!("{k} {v:.1} µs"))
            .collect();
        let _ = writeln!(s, "  per alert  {}", stages.join("  "));
        if let Some(mb) = self.peak_memory_mb {
            let _ = writeln!(s, "  memory     peak {mb:.0} MB");
        }
        let topics: Vec<String> = self
            .topics
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        let _ = writeln!(s, "  topics     {}", topics.join("  "));
        for g in &self.gates {
            let _ = writeln!(
                s,
                "  gate       {:<22} {} (value {}, limit {})",
                g.name,
                if g.passed { "ok" } else { "FAILED" },
                num(g.value),
                num(g.limit)
            );
        }
        s
    }

    /// Markdown for `$GITHUB_STEP_SUMMARY`.
    pub(crate) fn markdown(&self) -> String {
        let mut s = String::from("### ciux bench\n\n| measure | value |\n| --- | --- |\n");
        let a = &self.alerts;
        let rows = [
            (
                "run",
                format!(
                    "{} {} of {}",
                    self.run.transport, self.run.mode, self.run.source
                ),
            ),
            (
                "alerts produced / consumed",
                format!("{} / {}", a.produced, a.consumed),
            ),
            (
                "lost / duplicated",
                format!("{} / {}", a.lost, a.duplicated),
            ),
            (
                "throughput",
                format!(
                    "{:.0} alerts/s, {:.1} MB/s",
                    self.throughput.alerts_per_sec, self.throughput.mb_per_sec
                ),
            ),
            (
                "latency p50 / p99 / max",
                format!(
                    "{:.2} / {:.2} / {:.2} ms",
                    self.latency_ms.p50, self.latency_ms.p99, self.latency_ms.max
                ),
            ),
        ];
        for (k, v) in rows {
            let _ = writeln!(s, "| {k} | {v} |");
        }
        if !self.topics.is_empty() {
            s.push_str("\n| topic | alerts |\n| --- | --- |\n");
            for (k, v) in &self.topics {
                let _ = writeln!(s, "| `{k}` | {v} |");
            }
        }
        if !self.gates.is_empty() {
            s.push_str("\n| gate | value | limit | result |\n| --- | --- | --- | --- |\n");
            for g in &self.gates {
                let mark = if g.passed { "✅ pass" } else { "❌ fail" };
                let _ = writeln!(
                    s,
                    "| {} | {} | {} | {mark} |",
                    g.name,
                    num(g.value),
                    num(g.limit)
                );
            }
        }
        s
    }
}

fn num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn sample() -> Report {
        Report {
            version: REPORT_VERSION,
            run: RunInfo {
                transport: "embedded".into(),
                mode: "produce+consume".into(),
                source: "generated".into(),
                seed: Some(1),
                load: "max".into(),
                workers: 2,
            },
            alerts: AlertCounts {
                produced: 100,
                consumed: 98,
                lost: 2,
                duplicated: 0,
                undecodable: 0,
            },
            throughput: Throughput {
                alerts_per_sec: 1000.0,
                ..Throughput::default()
            },
            latency_ms: Latency {
                p99: 10.0,
                ..Latency::default()
            },
            stages_us: BTreeMap::new(),
            peak_memory_mb: None,
            topics: [("a.x".to_string(), 98), ("a.y".to_string(), 0)].into(),
            gates: vec![],
            group: None,
            ids: None,
        }
    }

    fn verdict(gates: &Gates, r: &Report) -> Vec<(String, bool)> {
        gates
            .evaluate(r)
            .into_iter()
            .map(|g| (g.name, g.passed))
            .collect()
    }

    #[test]
    fn each_gate_fails_when_it_should() {
        let r = sample();
        let strict = Gates {
            min_throughput: Some(1000.1),
            max_p99_ms: Some(9.9),
            max_loss: 1,
            expect_topics: Some(2),
            baseline: None,
        };
        assert!(
            verdict(&strict, &r).iter().all(|(_, ok)| !ok),
            "{:?}",
            verdict(&strict, &r)
        );
        let lenient = Gates {
            min_throughput: Some(1000.0),
            max_p99_ms: Some(10.0),
            max_loss: 2,
            expect_topics: Some(1),
            baseline: None,
        };
        assert!(verdict(&lenient, &r).iter().all(|(_, ok)| *ok));
    }

    #[test]
    fn baseline_regression_is_relative() {
        let mut old = sample();
        old.throughput.alerts_per_sec = 1100.0;
        old.latency_ms.p99 = 9.0;
        let r = sample();
        let gates = |pct| Gates {
            baseline: Some((old.clone(), pct)),
            ..Gates::default()
        };
        // 1000 vs 1100 is a 9.1% drop; p99 10 vs 9 is 11% up.
        assert_eq!(
            verdict(&gates(5.0), &r),
            [
                ("max-loss".into(), false),
                ("regression-throughput".into(), false),
                ("regression-p99-ms".into(), false)
            ]
        );
        assert!(verdict(&gates(15.0), &r)[1..].iter().all(|(_, ok)| *ok));
    }

    #[test]
    fn renderings_name_failed_gates() {
        let mut r = sample();
        r.gates = Gates::default().evaluate(&r);
        assert!(
            r.human()
                .contains("max-loss               FAILED (value 2, limit 0)"),
            "{}",
            r.human()
        );
        assert!(r.markdown().contains("| max-loss | 2 | 0 | ❌ fail |"));
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(serde_json::from_str::<Report>(&json).unwrap(), r);
    }
}
