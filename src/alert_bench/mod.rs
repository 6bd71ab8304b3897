//! The streaming-alert benchmark harness (`ciux bench`).
//!
//! A deterministic generator (or a real alert archive) feeds Avro alerts
//! through a transport — in-process bounded channels, or a Kafka broker — into
//! the pipeline a broker runs: decode → quality cuts → classification → route
//! to one output topic per class → count. The run yields a [`Report`] that CI
//! gates on. Layout: pure parts (`alert`, `classify`, `generator`, `report`)
//! apart from the effectful ones (`embedded`, `kafka`, `archive`, `chart`).

mod alert;
mod archive;
mod avro;
mod chart;
mod classify;
mod embedded;
mod export;
mod generator;
mod group;
mod kafka;
mod kafka_group;
mod lsst;
mod metrics;
mod pipeline;
mod plan;
mod report;
mod rng;
mod survey;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

pub use alert::Alert;
pub(crate) use alert::SCHEMA_JSON;
pub(crate) use chart::write_chart;
pub use classify::Class;
pub(crate) use export::write_archive;
pub use generator::CANDID_BASE;
pub use generator::Generator;
pub use generator::Mix;
pub(crate) use group::{GroupInfo, Member, merge};
pub(crate) use lsst::{LSST_SCHEMA_JSON, LsstGenerator};
pub(crate) use report::{Gates, Report};
pub(crate) use survey::Survey;

use archive::Archive;
use metrics::{BUCKET_NS, Ledger, Stats};
use pipeline::{Decoder, Feed, Produced, WorkerTimes};

/// Errors of the harness. Usage errors exit 2; the others 1.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("{0}")]
    Usage(String),
    #[error("cannot decode alert: {0}")]
    Decode(String),
    #[error("cannot read alert archive {path}: {message}")]
    Archive { path: PathBuf, message: String },
    #[error("cannot read or write {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("Kafka broker {brokers}: {message}")]
    Kafka { brokers: String, message: String },
    #[error("cannot draw chart {path}: {message}")]
    Chart { path: PathBuf, message: String },
    #[error("a {0} thread stopped unexpectedly")]
    Panic(&'static str),
}

/// Where alerts come from.
#[derive(Debug, Clone)]
pub(crate) enum Source {
    Generated { seed: u64, mix: Mix },
    Archive(PathBuf),
}

/// How alerts travel from producers to the pipeline.
#[derive(Debug, Clone)]
pub(crate) enum Transport {
    /// In-process bounded channels: no broker needed.
    Embedded,
    Kafka {
        brokers: String,
        partitions: i32,
        /// Also write routed alerts to the output topics `TOPIC.CLASS`.
        forward: bool,
    },
}

/// Which side of the stream this run plays.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Mode {
    /// Produce, run the pipeline, count.
    Full,
    /// Only inject alerts into the input topic.
    ProduceOnly,
    /// Only read the output topics `TOPIC.CLASS` and expect this many alerts.
    ConsumeOnly { expect: u64 },
}

/// When alerts are due.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Shape {
    /// As fast as possible.
    Max,
    /// A steady rate, alerts per second.
    Rate(f64),
    /// Bursts of `size` alerts every `interval` (the alert simulator's visits).
    Visits { size: u64, interval: Duration },
}

#[derive(Debug, Clone)]
pub(crate) struct Load {
    /// Alerts of the whole run (with `share`: of every member together).
    pub(crate) alerts: Option<u64>,
    pub(crate) duration: Option<Duration>,
    /// The load shape of this process (with `share`: of this member's alerts).
    pub(crate) shape: Shape,
    /// This process produces the alert indices `i` with `i % M == K` only
    /// (`--member K/M` of a group run).
    pub(crate) share: Option<Member>,
}

/// A group run (`--group NAME --member K/M`): several processes, possibly on
/// several machines, share one input topic and one Kafka consumer group.
#[derive(Debug, Clone)]
pub(crate) struct Group {
    /// Consumer group id, also the run's name: messages carry it in a header
    /// and members skip those of other runs.
    pub(crate) name: String,
    pub(crate) member: Member,
}

/// A complete request.
#[derive(Debug, Clone)]
pub(crate) struct BenchConfig {
    pub(crate) source: Source,
    pub(crate) transport: Transport,
    pub(crate) mode: Mode,
    pub(crate) load: Load,
    /// Input topic; output topics are `TOPIC.CLASS`.
    pub(crate) topic: String,
    /// Output topics of a deployed broker to read in consume-only mode.
    pub(crate) outputs: Option<Vec<String>>,
    /// Pipeline worker threads.
    pub(crate) workers: usize,
    /// Producer threads.
    pub(crate) producers: usize,
    /// How long consumers wait for missing alerts once production is over.
    pub(crate) drain_timeout: Duration,
    /// Show a progress bar on stderr.
    pub(crate) progress: bool,
    /// Send pre-encoded alerts and skip decoding: the raw transport ceiling.
    pub(crate) raw: bool,
    /// Each message is a one-alert Avro container file (the reference alert
    /// simulator's format) instead of a schemaless datum.
    pub(crate) container: bool,
    /// Field mapping and rules; detected from the schema name when `None`.
    pub(crate) survey: Option<Survey>,
    /// Replay an archive from its start until `--alerts`/`--duration` (or
    /// forever): set by `--loop`, and implied by `--alerts`/`--duration`.
    pub(crate) replay: bool,
    /// Writer schema of messages in the Confluent wire format (`--schema-file`).
    pub(crate) wire_schema: Option<String>,
    /// Member of a group run (Kafka only).
    pub(crate) group: Option<Group>,
}

impl BenchConfig {
    /// Output topics: `--output-topics` when given (consume-only), else
    /// `TOPIC.CLASS` in the order of [`Class::ALL`].
    pub(crate) fn output_topics(&self) -> Vec<String> {
        self.outputs.clone().unwrap_or_else(|| {
            Class::ALL
                .iter()
                .map(|c| format!("{}.{}", self.topic, c.name()))
                .collect()
        })
    }
}

/// Run the benchmark and return its report (gates not yet evaluated).
pub(crate) fn run(cfg: &BenchConfig) -> Result<Report, BenchError> {
    if cfg.load.alerts.is_none()
        && cfg.load.duration.is_none()
        && matches!(cfg.source, Source::Generated { .. })
    {
        return Err(BenchError::Usage("give --alerts N or --duration S".into()));
    }
    let (feed, decoder, schema_json) = match &cfg.source {
        Source::Generated { seed, mix } => {
            let (feed, survey, schema) = generated(*seed, *mix, cfg.survey)?;
            if cfg.raw {
                let pool = (0..256)
                    .map(|i| {
                        Ok(feed
                            .payload(i)?
                            .map(|(_, p)| p.into_owned())
                            .unwrap_or_default())
                    })
                    .collect::<Result<_, BenchError>>()?;
                (Feed::Pool(pool), Decoder::Skip, schema.to_string())
            } else {
                let plan = survey.plan(schema)?;
                (
                    feed,
                    Decoder::Plan(Box::new(plan), survey),
                    schema.to_string(),
                )
            }
        }
        Source::Archive(path) => {
            let cycle = cfg.replay || cfg.load.alerts.is_some() || cfg.load.duration.is_some();
            let mut archive = Archive::open(path, cfg.survey, cycle)?;
            // Members of a group replay the same archive: only fresh ids
            // (from the alert index, disjoint across members) keep alerts apart.
            archive.fresh_ids = cfg.group.is_some();
            let survey = archive.survey;
            let plan = survey.plan(&archive.schema_json)?;
            let schema = archive.schema_json.clone();
            // `--raw --from`: the archive's very bytes, counted by the id the
            // transport carries, not decoded: the transport ceiling on real alerts.
            let decoder = if cfg.raw {
                Decoder::Skip
            } else {
                Decoder::Plan(Box::new(plan), survey)
            };
            (Feed::Archive(archive), decoder, schema)
        }
    };
    let (feed, decoder) = match &cfg.wire_schema {
        Some(wire) if !cfg.raw => {
            let survey = match (cfg.survey, &decoder) {
                (Some(s), _) => s,
                (None, Decoder::Plan(_, s)) => *s,
                (None, _) => Survey::Synthetic,
            };
            let plan = survey.plan(wire)?;
            (
                Feed::Confluent(Box::new(feed)),
                Decoder::Confluent(Box::new(Decoder::Plan(Box::new(plan), survey))),
            )
        }
        _ => (feed, decoder),
    };
    let (feed, decoder) = if cfg.container {
        let header = avro::container_header(&schema_json);
        (
            Feed::Container(Box::new(feed), header),
            Decoder::Container(Box::new(decoder)),
        )
    } else {
        (feed, decoder)
    };
    let outcome = match &cfg.transport {
        Transport::Embedded => {
            if cfg.mode != Mode::Full {
                return Err(BenchError::Usage(
                    "--produce-only and --consume-only need --brokers".into(),
                ));
            }
            embedded::run(cfg, &feed, &decoder)?
        }
        Transport::Kafka { .. } => {
            if cfg.group.is_some() && matches!(cfg.mode, Mode::ConsumeOnly { .. }) {
                return Err(BenchError::Usage(
                    "--group members produce their share: not with --consume-only".into(),
                ));
            }
            kafka::run(cfg, &feed, &decoder)?
        }
    };
    Ok(build_report(cfg, outcome))
}

/// The generator of `survey`'s schema: our synthetic `ciux.bench.Alert`
/// (the default), or `lsst.v11_0.alert`. ZTF's own schemas are only replayed
/// (`--from`): the synthetic schema keeps their field names and rules.
pub(crate) fn generated(
    seed: u64,
    mix: Mix,
    survey: Option<Survey>,
) -> Result<(Feed, Survey, &'static str), BenchError> {
    match survey {
        None | Some(Survey::Synthetic) => Ok((
            Feed::Generated(Generator::new(seed, mix)),
            Survey::Synthetic,
            SCHEMA_JSON,
        )),
        Some(Survey::Lsst) => Ok((
            Feed::Lsst(LsstGenerator::new(seed, mix)?),
            Survey::Lsst,
            LSST_SCHEMA_JSON,
        )),
        Some(Survey::Ztf) => Err(BenchError::Usage(
            "generated alerts follow the synthetic (ZTF field names) or the LSST v11 schema; \
             --survey ztf needs --from"
                .into(),
        )),
    }
}

/// What a transport measured, before it becomes a [`Report`].
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    pub(crate) produced: Produced,
    pub(crate) ledger: Ledger,
    pub(crate) stats: Stats,
    pub(crate) workers: WorkerTimes,
    /// Wall time of the whole run.
    pub(crate) elapsed: Duration,
}

fn build_report(cfg: &BenchConfig, o: Outcome) -> Report {
    let produced = match cfg.mode {
        Mode::ConsumeOnly { expect } => expect,
        _ => o.produced.alerts,
    };
    let consumed = o.ledger.distinct;
    // A group member reads a share of every member's alerts, not its own:
    // its loss is only known once the members' reports are merged.
    let lost = match cfg.mode {
        Mode::ProduceOnly => 0,
        _ if cfg.group.is_some() => 0,
        _ => produced.saturating_sub(consumed),
    };
    let secs = o.elapsed.as_secs_f64().max(1e-9);
    let ms = |us: u64| us as f64 / 1000.0;
    let latency_ms = match o.stats.latency_us.as_ref().filter(|h| !h.is_empty()) {
        None => report::Latency::default(),
        Some(h) => report::Latency {
            p50: ms(h.value_at_quantile(0.50)),
            p90: ms(h.value_at_quantile(0.90)),
            p99: ms(h.value_at_quantile(0.99)),
            max: ms(h.max()),
            mean: h.mean() / 1000.0,
            curve: [
                0.0, 10.0, 25.0, 50.0, 75.0, 90.0, 95.0, 99.0, 99.5, 99.9, 99.99, 100.0,
            ]
            .iter()
            .map(|&p| [p, ms(h.value_at_quantile(p / 100.0))])
            .collect(),
        },
    };
    // At most ~120 points: merge 100 ms buckets.
    let merge = o.stats.timeline.len().div_ceil(120).max(1);
    let interval = merge as f64 * BUCKET_NS as f64 / 1e9;
    let timeline = o
        .stats
        .timeline
        .chunks(merge)
        .map(|c| c.iter().sum::<u64>() as f64 / interval)
        .collect();
    let per = |ns: u64, n: u64| ns as f64 / 1000.0 / n.max(1) as f64;
    let mut stages_us = BTreeMap::new();
    if o.produced.alerts > 0 {
        stages_us.insert("produce".into(), per(o.produced.busy_ns, o.produced.alerts));
    }
    let handled = consumed + o.ledger.duplicated;
    if handled > 0 && o.workers.decode_ns > 0 {
        stages_us.insert("decode+classify".into(), per(o.workers.decode_ns, handled));
        stages_us.insert("route".into(), per(o.workers.route_ns, handled));
    }
    let topics = cfg
        .output_topics()
        .into_iter()
        .enumerate()
        .map(|(i, name)| (name, o.stats.topics.get(i).copied().unwrap_or(0)))
        .collect();
    let (transport, workers) = match &cfg.transport {
        Transport::Embedded => ("embedded".to_string(), cfg.workers),
        Transport::Kafka { brokers, .. } => (format!("kafka {brokers}"), cfg.workers),
    };
    let (source, seed) = match &cfg.source {
        Source::Generated { seed, .. } => ("generated alerts".to_string(), Some(*seed)),
        Source::Archive(dir) => (format!("archive {}", dir.display()), None),
    };
    let load = match cfg.load.shape {
        Shape::Max => "max rate".to_string(),
        Shape::Rate(r) => format!("{r} alerts/s"),
        Shape::Visits { size, interval } => format!("visits of {size} every {:?}", interval),
    };
    let mode = match cfg.mode {
        Mode::Full => "produce+consume",
        Mode::ProduceOnly => "produce-only",
        Mode::ConsumeOnly { .. } => "consume-only",
    };
    let mb = o.stats.bytes.max(if cfg.mode == Mode::ProduceOnly {
        o.produced.bytes
    } else {
        0
    });
    Report {
        version: report::REPORT_VERSION,
        run: report::RunInfo {
            transport,
            mode: mode.into(),
            source,
            seed,
            load,
            workers,
        },
        alerts: report::AlertCounts {
            produced,
            consumed,
            lost,
            duplicated: o.ledger.duplicated,
            undecodable: o.workers.undecodable,
        },
        throughput: report::Throughput {
            alerts_per_sec: consumed as f64 / secs,
            mb_per_sec: mb as f64 / 1e6 / secs,
            produce_alerts_per_sec: o.produced.alerts as f64
                / o.produced.elapsed.as_secs_f64().max(1e-9),
            duration_sec: secs,
            interval_sec: interval,
            timeline,
        },
        latency_ms,
        stages_us,
        peak_memory_mb: metrics::peak_rss().map(|b| b as f64 / 1e6),
        topics,
        gates: Vec::new(),
        group: cfg.group.as_ref().map(|g| {
            let ended = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64);
            GroupInfo {
                name: g.name.clone(),
                topic: cfg.topic.clone(),
                member: g.member.index,
                members: g.member.members,
                alerts: cfg.load.alerts,
                started_unix_ms: ended.saturating_sub(o.elapsed.as_millis() as u64),
                ended_unix_ms: ended,
                merged: Vec::new(),
            }
        }),
        ids: cfg.group.as_ref().map(|_| o.ledger.ids()),
    }
}

/// A progress bar of routed alerts on stderr, hidden unless asked for.
pub(crate) fn progress_bar(cfg: &BenchConfig) -> indicatif::ProgressBar {
    if !cfg.progress {
        return indicatif::ProgressBar::hidden();
    }
    let bar = match (cfg.load.alerts, &cfg.mode) {
        (_, Mode::ConsumeOnly { expect }) => indicatif::ProgressBar::new(*expect),
        (Some(n), _) => indicatif::ProgressBar::new(n),
        (None, _) => indicatif::ProgressBar::no_length(),
    };
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} alerts {per_sec} {elapsed}")
    {
        bar.set_style(style);
    }
    bar
}
