//! `ciux bench`: turn arguments into a [`BenchConfig`], run, write the report,
//! chart and GitHub step summary, print the human summary on stderr, and fail
//! naming each gate that did not pass.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use super::{BenchAction, BenchArgs, BenchMergeArgs, print_stdout};
use crate::alert_bench::{
    self, BenchConfig, BenchError, Gates, Group, Load, Member, Mix, Mode, Report, Shape, Source,
    Survey, Transport,
};

/// Alerts of a run with no `--alerts`, `--duration` or `--from`: a few seconds.
const DEFAULT_ALERTS: u64 = 200_000;

pub(crate) fn run(args: BenchArgs, quiet: bool) -> Result<()> {
    if let Some(BenchAction::Merge(merge_args)) = &args.action {
        return merge(merge_args, quiet);
    }
    if args.schema {
        print_stdout(&format!("{}\n", alert_bench::SCHEMA_JSON))?;
        return Ok(());
    }
    let cfg = config(&args, quiet)?;
    if let Some(path) = &args.write {
        writable_dir(path)?;
        let Source::Generated { seed, mix } = cfg.source else {
            bail!("--write writes generated alerts");
        };
        let n = cfg.load.alerts.unwrap_or(DEFAULT_ALERTS);
        let bytes = alert_bench::write_archive(seed, mix, cfg.survey, n, path)
            .with_context(|| format!("cannot write {}", path.display()))?;
        if !quiet {
            eprintln!("wrote {n} alerts ({bytes} bytes) to {}", path.display());
        }
        return Ok(());
    }
    let gates = gates(&args)?;
    for path in [&args.report, &args.chart].into_iter().flatten() {
        writable_dir(path)?;
    }
    let mut report = alert_bench::run(&cfg)?;
    report.gates = gates.evaluate(&report);
    finish(
        &report,
        args.report.as_deref(),
        args.chart.as_deref(),
        quiet,
    )
}

/// `ciux bench merge`: read every member report (a file that is not a
/// report is a usage error naming it), merge, then report as a run does.
fn merge(args: &BenchMergeArgs, quiet: bool) -> Result<()> {
    if let Some(path) = &args.report {
        writable_dir(path)?;
    }
    let mut reports = Vec::new();
    for path in &args.reports {
        let text = std::fs::read_to_string(path)
            .map_err(|e| usage(format!("cannot read report {}: {e}", path.display())))?;
        let report: Report = serde_json::from_str(&text).map_err(|e| {
            usage(format!(
                "{} is not a ciux bench report: {e}",
                path.display()
            ))
        })?;
        reports.push((path.clone(), report));
    }
    let mut merged = alert_bench::merge(&reports).map_err(|e| usage(e.to_string()))?;
    merged.gates = Gates {
        max_loss: args.max_loss,
        ..Gates::default()
    }
    .evaluate(&merged);
    finish(&merged, args.report.as_deref(), None, quiet)
}

/// Write the report, chart and step summary, print the summary, fail on gates.
fn finish(report: &Report, out: Option<&Path>, chart: Option<&Path>, quiet: bool) -> Result<()> {
    if let Some(path) = out {
        let json = serde_json::to_string_pretty(&report)? + "\n";
        if path == Path::new("-") {
            print_stdout(&json)?;
        } else {
            crate::fsutil::write_atomic(path, json.as_bytes())
                .with_context(|| format!("cannot write report {}", path.display()))?;
        }
    }
    if let Some(path) = chart {
        alert_bench::write_chart(report, path)?;
    }
    if let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) {
        append(Path::new(&path), &report.markdown()).with_context(|| {
            format!(
                "cannot append to GITHUB_STEP_SUMMARY {}",
                Path::new(&path).display()
            )
        })?;
    }
    if !quiet {
        eprint!("{}", report.human());
    }
    let failed = report.failed_gates();
    if !failed.is_empty() {
        let names: Vec<String> = failed
            .iter()
            .map(|g| format!("{} (value {:.2}, limit {:.2})", g.name, g.value, g.limit))
            .collect();
        bail!("{} gate(s) failed: {}", failed.len(), names.join(", "));
    }
    Ok(())
}

/// Output files go into directories that exist: a typo in `--report` must
/// not create directories the user did not name. Checked before the run.
fn writable_dir(path: &Path) -> Result<(), BenchError> {
    if path == Path::new("-") {
        return Ok(());
    }
    match path.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(dir) if !dir.is_dir() => Err(usage(format!(
            "cannot write {}: directory {} does not exist",
            path.display(),
            dir.display()
        ))),
        _ => Ok(()),
    }
}

fn usage(msg: impl Into<String>) -> BenchError {
    BenchError::Usage(msg.into())
}

fn secs(name: &str, v: f64) -> Result<Duration, BenchError> {
    Duration::try_from_secs_f64(v)
        .map_err(|_| usage(format!("{name}: {v} is not a duration in seconds")))
}

fn config(a: &BenchArgs, quiet: bool) -> Result<BenchConfig, BenchError> {
    let cores = std::thread::available_parallelism().map_or(2, usize::from);
    let shape = match (a.rate, a.visit_size) {
        (Some(r), _) if r > 0.0 && r.is_finite() => Shape::Rate(r),
        (Some(r), _) => return Err(usage(format!("--rate must be positive, got {r}"))),
        (None, Some(0)) => return Err(usage("--visit-size must be positive")),
        (None, Some(size)) => Shape::Visits {
            size,
            interval: secs("--visit-interval", a.visit_interval)?,
        },
        (None, None) => Shape::Max,
    };
    let source = match &a.from {
        Some(dir) => Source::Archive(dir.clone()),
        None => Source::Generated {
            seed: a.seed,
            mix: a
                .mix
                .as_deref()
                .map(Mix::parse)
                .transpose()?
                .unwrap_or_default(),
        },
    };
    let duration = a.duration.map(|d| secs("--duration", d)).transpose()?;
    if a.alerts == Some(0) {
        return Err(usage("--alerts 0: a run of no alert measures nothing"));
    }
    if duration.is_some_and(|d| d.is_zero()) {
        return Err(usage("--duration 0: a run of no time measures nothing"));
    }
    for (name, v) in [("--workers", a.workers), ("--producers", a.producers)] {
        if v == Some(0) {
            return Err(usage(format!("{name} must be at least 1")));
        }
    }
    if a.partitions < 1 {
        return Err(usage("--partitions must be at least 1"));
    }
    let survey = a.survey.as_deref().map(Survey::parse).transpose()?;
    let wire_schema = match &a.schema_file {
        Some(path) => Some(
            std::fs::read_to_string(path).map_err(|source| BenchError::Io {
                path: path.clone(),
                source,
            })?,
        ),
        None => None,
    };
    let alerts = match (a.alerts, duration, &a.from) {
        (Some(n), _, _) => Some(n),
        (None, None, None) => Some(DEFAULT_ALERTS),
        _ => None,
    };
    let mode = match (a.produce_only, a.consume_only, a.expect) {
        (true, _, _) => Mode::ProduceOnly,
        (_, true, Some(expect)) => Mode::ConsumeOnly { expect },
        _ => Mode::Full,
    };
    let group = match &a.group {
        Some(name) if name.is_empty() || name.chars().any(char::is_control) => {
            return Err(usage(format!(
                "--group {name:?}: give a non-empty name without control characters"
            )));
        }
        Some(name) => Some(Group {
            name: name.clone(),
            member: a
                .member
                .as_deref()
                .map(Member::parse)
                .transpose()
                .map_err(usage)?
                .unwrap_or(Member {
                    index: 0,
                    members: 1,
                }),
        }),
        None => None,
    };
    let transport = match &a.brokers {
        Some(brokers) => Transport::Kafka {
            brokers: brokers.clone(),
            partitions: a.partitions.max(1),
            forward: a.forward,
        },
        None => Transport::Embedded,
    };
    Ok(BenchConfig {
        source,
        transport,
        mode,
        load: Load {
            alerts,
            duration,
            shape,
            share: group.as_ref().map(|g| g.member),
        },
        topic: a.topic.clone(),
        outputs: a.output_topics.clone(),
        workers: a.workers.unwrap_or(cores).max(1),
        producers: a.producers.unwrap_or(cores / 2).max(1),
        drain_timeout: secs("--drain-timeout", a.drain_timeout)?,
        progress: super::progress::bars_allowed(quiet),
        raw: a.raw,
        container: a.container,
        survey,
        replay: a.replay,
        wire_schema,
        group,
    })
}

fn gates(a: &BenchArgs) -> Result<Gates> {
    let baseline = match &a.baseline {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read baseline report {}", path.display()))?;
            let old: Report = serde_json::from_str(&text).map_err(|e| {
                usage(format!(
                    "{} is not a ciux bench report: {e}",
                    path.display()
                ))
            })?;
            Some((old, a.max_regression))
        }
        None => None,
    };
    Ok(Gates {
        min_throughput: a.min_throughput,
        max_p99_ms: a.max_p99_ms,
        max_loss: a.max_loss,
        expect_topics: a.expect_topics,
        baseline,
    })
}

/// Append to a file others append to too (GitHub's step summary).
fn append(path: &Path, text: &str) -> std::io::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    f.write_all(text.as_bytes())
}
