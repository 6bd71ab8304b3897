//! The stages every transport shares: producers driving the load shape, the
//! decode → cut → classify → route workers, and the sink that counts. Stages
//! are connected by bounded channels, so a slow stage blocks the one before it
//! (back-pressure) and memory stays bounded whatever the alert count.

use std::borrow::Cow;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crossbeam_channel::{Receiver, Sender};
use indicatif::ProgressBar;

use super::archive::Archive;
use super::classify::Class;
use super::generator::CANDID_BASE;
use super::generator::Generator;
use super::lsst::LsstGenerator;
use super::metrics::{Ledger, Stats};
use super::plan::Plan;
use super::survey::Survey;
use super::{BenchError, Load, Shape};

/// One clock for the run: monotonic, expressed as Unix nanoseconds so that
/// timestamps carried in Kafka headers compare across processes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clock {
    start: Instant,
    pub(crate) start_unix_ns: u64,
}

impl Clock {
    pub(crate) fn new() -> Self {
        let unix = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        Self {
            start: Instant::now(),
            start_unix_ns: unix,
        }
    }

    /// Now, in Unix nanoseconds.
    pub(crate) fn now(&self) -> u64 {
        self.start_unix_ns + self.start.elapsed().as_nanos() as u64
    }

    pub(crate) fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }
}

/// Where produced alerts come from.
#[derive(Debug)]
pub(crate) enum Feed {
    Generated(Generator),
    /// Generated `lsst.v11_0.alert` packets.
    Lsst(LsstGenerator),
    Archive(Archive),
    /// Pre-encoded alerts sent in turn under fresh candidate ids: measures the
    /// raw transport, with no encoding cost (`--raw`).
    Pool(Vec<Vec<u8>>),
    /// Another feed's alerts, each wrapped in a container file (`--container`):
    /// the header (with the writer schema) is computed once.
    Container(Box<Feed>, Vec<u8>),
    /// Another feed's datums in the Confluent wire format (schema id 1).
    Confluent(Box<Feed>),
}

impl Feed {
    /// Candidate id and encoded datum of alert `i`; `None` once an archive
    /// that does not cycle is exhausted.
    #[allow(clippy::type_complexity)]
    pub(crate) fn payload(&self, i: u64) -> Result<Option<(i64, Cow<'_, [u8]>)>, BenchError> {
        Ok(Some(match self {
            Feed::Generated(g) => {
                let (alert, _) = g.alert(i);
                (alert.candid, Cow::Owned(alert.encode()))
            }
            Feed::Lsst(g) => {
                let (candid, datum, _) = g.alert(i);
                (candid, Cow::Owned(datum))
            }
            Feed::Archive(a) => match a.next(i)? {
                Some((candid, bytes)) => (candid, Cow::Owned(bytes)),
                None => return Ok(None),
            },
            Feed::Pool(pool) => {
                let bytes = &pool[i as usize % pool.len().max(1)];
                (CANDID_BASE + i as i64, Cow::Borrowed(bytes))
            }
            Feed::Container(inner, header) => match inner.payload(i)? {
                Some((candid, datum)) => {
                    (candid, Cow::Owned(super::avro::container(header, &datum)))
                }
                None => return Ok(None),
            },
            Feed::Confluent(inner) => match inner.payload(i)? {
                Some((candid, datum)) => {
                    let mut framed = Vec::with_capacity(datum.len() + 5);
                    framed.extend_from_slice(&[0, 0, 0, 0, 1]);
                    framed.extend_from_slice(&datum);
                    (candid, Cow::Owned(framed))
                }
                None => return Ok(None),
            },
        }))
    }
}

/// How consumers decode messages: a plan compiled once from the writer
/// schema, for the survey whose rules classify.
#[derive(Debug)]
pub(crate) enum Decoder {
    Plan(Box<Plan>, Survey),
    /// Do not decode: take the candidate id the transport carried (`--raw`).
    Skip,
    /// Messages are one-alert container files (`--container`).
    Container(Box<Decoder>),
    /// Messages are in the Confluent wire format: magic byte 0, a 4-byte
    /// schema id, then the datum (`--schema-file`).
    Confluent(Box<Decoder>),
}

impl Decoder {
    /// Candidate id and class of a message.
    fn classify(&self, payload: &[u8], candid: Option<i64>) -> Result<(i64, Class), BenchError> {
        match self {
            Decoder::Plan(plan, survey) => {
                let e = plan.decode(payload)?;
                let id =
                    e.id.ok_or_else(|| BenchError::Decode("no candidate id in the alert".into()))?;
                Ok((id, survey.classify(&e)))
            }
            Decoder::Container(inner) => {
                inner.classify(super::avro::single_datum(payload)?, candid)
            }
            Decoder::Confluent(inner) => match payload {
                [0, _, _, _, _, datum @ ..] => inner.classify(datum, candid),
                _ => Err(BenchError::Decode(
                    "not in the Confluent wire format (no magic byte 0)".into(),
                )),
            },
            Decoder::Skip => {
                let candid =
                    candid.ok_or_else(|| BenchError::Decode("no candidate id header".into()))?;
                let class = Class::ALL[candid.rem_euclid(5) as usize];
                Ok((candid, class))
            }
        }
    }
}

/// A message between stages.
#[derive(Debug)]
pub(crate) struct Msg {
    pub(crate) payload: Vec<u8>,
    /// Produce time, Unix ns.
    pub(crate) produced_ns: u64,
    /// Candidate id, when the transport carries it beside the payload.
    pub(crate) candid: Option<i64>,
    /// Output topic index when the message comes from an output topic.
    pub(crate) topic: Option<usize>,
}

/// An alert that reached its output topic.
#[derive(Debug)]
pub(crate) struct Routed {
    pub(crate) candid: i64,
    /// Index of the output topic: the class's, or the topic it was read from.
    pub(crate) topic: usize,
    pub(crate) bytes: usize,
    pub(crate) produced_ns: u64,
}

/// Hands one alert to the transport: `(candid, payload, produced_ns)`.
pub(crate) type SendFn<'a> =
    dyn for<'p> Fn(i64, Cow<'p, [u8]>, u64) -> Result<(), BenchError> + Sync + 'a;

/// What the producers did.
#[derive(Debug, Default)]
pub(crate) struct Produced {
    pub(crate) alerts: u64,
    pub(crate) bytes: u64,
    pub(crate) busy_ns: u64,
    pub(crate) elapsed: Duration,
}

/// Produce alerts with `threads` threads following `load`, handing each to
/// `send(candid, payload, produced_ns)`. Alert `i` is due at the time its load
/// shape gives; threads take indices from one counter, so the set of alerts
/// sent does not depend on the number of threads.
pub(crate) fn produce(
    feed: &Feed,
    load: &Load,
    threads: usize,
    clock: &Clock,
    send: &SendFn<'_>,
) -> Result<Produced, BenchError> {
    let limit = load.alerts;
    let next = AtomicU64::new(0);
    let (sent, bytes, busy) = (AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0));
    let start = Instant::now();
    std::thread::scope(|s| -> Result<(), BenchError> {
        let handles: Vec<_> = (0..threads.max(1))
            .map(|_| {
                s.spawn(|| -> Result<(), BenchError> {
                    loop {
                        // `j`: this process's sequence; `i`: the alert index
                        // in the run (a group member takes every M-th).
                        let j = next.fetch_add(1, Ordering::Relaxed);
                        let i = load.share.map_or(j, |m| j * m.members + m.index);
                        if limit.is_some_and(|n| i >= n) {
                            return Ok(());
                        }
                        let due = match load.shape {
                            Shape::Max => Duration::ZERO,
                            Shape::Rate(rate) => Duration::from_secs_f64(j as f64 / rate),
                            Shape::Visits { size, interval } => interval * (j / size.max(1)) as u32,
                        };
                        if load
                            .duration
                            .is_some_and(|d| due > d || start.elapsed() > d)
                        {
                            return Ok(());
                        }
                        if let Some(wait) = due.checked_sub(start.elapsed()) {
                            std::thread::sleep(wait);
                        }
                        let t = Instant::now();
                        let Some((candid, payload)) = feed.payload(i)? else {
                            return Ok(());
                        };
                        bytes.fetch_add(payload.len() as u64, Ordering::Relaxed);
                        busy.fetch_add(t.elapsed().as_nanos() as u64, Ordering::Relaxed);
                        send(candid, payload, clock.now())?;
                        sent.fetch_add(1, Ordering::Relaxed);
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().map_err(|_| BenchError::Panic("producer"))??;
        }
        Ok(())
    })?;
    Ok(Produced {
        alerts: sent.load(Ordering::Relaxed),
        bytes: bytes.load(Ordering::Relaxed),
        busy_ns: busy.load(Ordering::Relaxed),
        elapsed: start.elapsed(),
    })
}

/// Busy time of the workers, summed over threads.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct WorkerTimes {
    /// Decoding, quality cuts and classification.
    pub(crate) decode_ns: u64,
    pub(crate) route_ns: u64,
    pub(crate) undecodable: u64,
}

/// One worker: decode → quality cuts and classification → `route`, until the
/// input channel closes.
pub(crate) fn work(
    rx: &Receiver<Msg>,
    decoder: &Decoder,
    route: &(dyn Fn(Routed, Msg) -> Result<(), BenchError> + Sync),
) -> Result<WorkerTimes, BenchError> {
    let mut times = WorkerTimes::default();
    for msg in rx {
        let t0 = Instant::now();
        let (candid, class) = match decoder.classify(&msg.payload, msg.candid) {
            Ok(v) => v,
            Err(err) => {
                tracing::debug!("undecodable message: {err}");
                times.undecodable += 1;
                continue;
            }
        };
        let t2 = Instant::now();
        let routed = Routed {
            candid,
            topic: msg.topic.unwrap_or(class.index()),
            bytes: msg.payload.len(),
            produced_ns: msg.produced_ns,
        };
        route(routed, msg)?;
        times.decode_ns += (t2 - t0).as_nanos() as u64;
        times.route_ns += t2.elapsed().as_nanos() as u64;
    }
    Ok(times)
}

/// The sink: the consumer of every output topic. Counts until the channel closes.
pub(crate) fn sink(
    rx: impl IntoIterator<Item = Routed>,
    clock: &Clock,
    bar: &ProgressBar,
) -> (Ledger, Stats) {
    let mut ledger = Ledger::default();
    let mut stats = Stats::default();
    for r in rx {
        let now = clock.now();
        if ledger.record(r.candid) {
            stats.record(
                r.topic,
                r.bytes,
                r.produced_ns.saturating_sub(clock.start_unix_ns),
                now - clock.start_unix_ns,
            );
            bar.inc(1);
        }
    }
    (ledger, stats)
}

/// Sum worker times.
pub(crate) fn total(times: impl IntoIterator<Item = WorkerTimes>) -> WorkerTimes {
    times
        .into_iter()
        .fold(WorkerTimes::default(), |a, b| WorkerTimes {
            decode_ns: a.decode_ns + b.decode_ns,
            route_ns: a.route_ns + b.route_ns,
            undecodable: a.undecodable + b.undecodable,
        })
}

/// Send on a bounded channel; a closed channel means the other side failed.
pub(crate) fn send<T>(tx: &Sender<T>, v: T) -> Result<(), BenchError> {
    tx.send(v).map_err(|_| BenchError::Panic("pipeline stage"))
}
