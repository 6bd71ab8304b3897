//! The Kafka transport (rdkafka, bundled librdkafka): producers write the
//! input topic, a consumer thread feeds the shared workers, and `--forward`
//! writes routed alerts to the output topics `TOPIC.CLASS`. Consume-only mode
//! reads those output topics from the start and counts what a deployed broker
//! wrote there.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crossbeam_channel::bounded;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::{ClientContext, DefaultClientContext};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, Headers, Message, OwnedHeaders};
use rdkafka::producer::{BaseRecord, DeliveryResult, Producer, ProducerContext, ThreadedProducer};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

use super::embedded::{INPUT_CAPACITY, OUTPUT_CAPACITY};
use super::kafka_group::{self, GroupReader};
use super::pipeline::{self, Clock, Decoder, Feed, Msg, Produced, Routed};
use super::{BenchConfig, BenchError, Mode, Outcome, Transport};

/// Header carrying the produce time (Unix ns, 8 bytes big-endian).
pub(super) const PRODUCED_HEADER: &str = "ciux-produced-ns";
/// Header carrying the candidate id (8 bytes big-endian), so that counting
/// needs no decoding when the payload is not ours.
pub(super) const CANDID_HEADER: &str = "ciux-candid";
/// Header naming the group run a message belongs to (`--group`).
pub(super) const RUN_HEADER: &str = "ciux-run";
/// Bound on every broker request the harness waits for.
pub(super) const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// Counts delivery reports of a producer.
#[derive(Default)]
pub(super) struct Deliveries {
    ok: AtomicU64,
    failed: AtomicU64,
    last_error: Mutex<Option<String>>,
}

impl ClientContext for Deliveries {}

impl ProducerContext for Deliveries {
    type DeliveryOpaque = ();
    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        match result {
            Ok(_) => self.ok.fetch_add(1, Ordering::Relaxed),
            Err((err, _)) => {
                if let Ok(mut last) = self.last_error.lock() {
                    *last = Some(err.to_string());
                }
                self.failed.fetch_add(1, Ordering::Relaxed)
            }
        };
    }
}

pub(super) type AlertProducer = ThreadedProducer<Deliveries>;

pub(super) fn kafka_err(brokers: &str, what: &str) -> impl Fn(KafkaError) -> BenchError {
    let (brokers, what) = (brokers.to_string(), what.to_string());
    move |e| BenchError::Kafka {
        brokers: brokers.clone(),
        message: format!("{what}: {e}"),
    }
}

pub(super) fn base_config(brokers: &str) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", brokers)
        .set("socket.timeout.ms", "10000")
        .set("message.max.bytes", "10000000");
    c
}

fn producer(brokers: &str) -> Result<AlertProducer, BenchError> {
    base_config(brokers)
        .set("linger.ms", "5")
        .set("batch.size", "4000000")
        // Bound the producer queue: back-pressure instead of memory growth.
        .set("queue.buffering.max.kbytes", "65536")
        .set("queue.buffering.max.messages", "20000")
        .set("message.timeout.ms", "30000")
        .set("acks", "all")
        .create_with_context(Deliveries::default())
        .map_err(kafka_err(brokers, "cannot create producer"))
}

fn consumer(brokers: &str) -> Result<BaseConsumer, BenchError> {
    base_config(brokers)
        .set("group.id", format!("ciux-bench-{}", std::process::id()))
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        .set("fetch.max.bytes", "52428800")
        .set("max.partition.fetch.bytes", "10485760")
        .set("queued.max.messages.kbytes", "65536")
        .create()
        .map_err(kafka_err(brokers, "cannot create consumer"))
}

/// Create the topics that are missing, with `partitions` partitions.
pub(super) fn ensure_topics(
    brokers: &str,
    names: &[String],
    partitions: i32,
) -> Result<(), BenchError> {
    let admin: AdminClient<DefaultClientContext> = base_config(brokers)
        .create()
        .map_err(kafka_err(brokers, "cannot create admin client"))?;
    let topics: Vec<NewTopic<'_>> = names
        .iter()
        .map(|n| NewTopic::new(n, partitions, TopicReplication::Fixed(1)))
        .collect();
    let opts = AdminOptions::new().operation_timeout(Some(REQUEST_TIMEOUT));
    let results = futures_executor::block_on(admin.create_topics(&topics, &opts))
        .map_err(kafka_err(brokers, "cannot create topics"))?;
    for r in results {
        if let Err((name, code)) = r
            && code != RDKafkaErrorCode::TopicAlreadyExists
        {
            return Err(BenchError::Kafka {
                brokers: brokers.into(),
                message: format!("cannot create topic {name}: {code}"),
            });
        }
    }
    Ok(())
}

/// Send one record, waiting while the producer queue is full. `run` names
/// the group run (`--group`) in a header.
#[allow(clippy::too_many_arguments)]
fn send(
    p: &AlertProducer,
    brokers: &str,
    topic: &str,
    payload: &[u8],
    candid: i64,
    produced_ns: u64,
    run: Option<&str>,
) -> Result<(), BenchError> {
    let mut headers = OwnedHeaders::new_with_capacity(3)
        .insert(Header {
            key: PRODUCED_HEADER,
            value: Some(&produced_ns.to_be_bytes()[..]),
        })
        .insert(Header {
            key: CANDID_HEADER,
            value: Some(&candid.to_be_bytes()[..]),
        });
    if let Some(run) = run {
        headers = headers.insert(Header {
            key: RUN_HEADER,
            value: Some(run.as_bytes()),
        });
    }
    let key = candid.to_be_bytes();
    let record = BaseRecord::to(topic)
        .payload(payload)
        .key(&key[..])
        .headers(headers);
    send_record(p, brokers, record)
}

/// Send a record, waiting while the producer queue is full.
pub(super) fn send_record(
    p: &AlertProducer,
    brokers: &str,
    mut record: BaseRecord<'_, [u8], [u8]>,
) -> Result<(), BenchError> {
    let topic = record.topic.to_string();
    loop {
        match p.send(record) {
            Ok(()) => return Ok(()),
            Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                record = back;
                std::thread::sleep(Duration::from_micros(500));
            }
            Err((e, _)) => {
                return Err(kafka_err(brokers, &format!("cannot produce to {topic}"))(e));
            }
        }
    }
}

pub(super) fn header_u64(m: &impl Message, key: &str) -> Option<u64> {
    let h = m.headers()?;
    let v = h.iter().find(|h| h.key == key)?.value?;
    Some(u64::from_be_bytes(v.try_into().ok()?))
}

/// Assign every partition of `topics` that exists, starting at `start(topic, p)`.
fn assign(
    c: &BaseConsumer,
    brokers: &str,
    topics: &[String],
    start: impl Fn(&str, i32) -> Result<Offset, BenchError>,
) -> Result<usize, BenchError> {
    let mut list = TopicPartitionList::new();
    for t in topics {
        let meta = c
            .fetch_metadata(Some(t), REQUEST_TIMEOUT)
            .map_err(kafka_err(brokers, &format!("cannot read metadata of {t}")))?;
        for topic in meta.topics().iter().filter(|m| m.error().is_none()) {
            for p in topic.partitions() {
                list.add_partition_offset(t, p.id(), start(t, p.id())?)
                    .map_err(kafka_err(brokers, "bad offset"))?;
            }
        }
    }
    c.assign(&list)
        .map_err(kafka_err(brokers, "cannot assign partitions"))?;
    Ok(list.count())
}

pub(crate) fn run(
    cfg: &BenchConfig,
    feed: &Feed,
    decoder: &Decoder,
) -> Result<Outcome, BenchError> {
    let Transport::Kafka {
        brokers,
        partitions,
        forward,
    } = &cfg.transport
    else {
        return Err(BenchError::Usage("not a Kafka run".into()));
    };
    let brokers = brokers.as_str();
    let outputs = cfg.output_topics();
    if !matches!(cfg.mode, Mode::ConsumeOnly { .. }) {
        let mut names = vec![cfg.topic.clone()];
        if *forward {
            names.extend(outputs.iter().cloned());
        }
        ensure_topics(brokers, &names, *partitions)?;
        if cfg.group.is_some() {
            ensure_topics(brokers, &[kafka_group::control_topic(&cfg.topic)], 1)?;
        }
    }
    let run_name = cfg.group.as_ref().map(|g| g.name.as_str());
    let clock = Clock::new();
    let bar = super::progress_bar(cfg);
    let producer = match cfg.mode {
        Mode::ConsumeOnly { .. } => None,
        _ => Some(producer(brokers)?),
    };
    // Consumer first, positioned at the current end of the input topic, so
    // that alerts of earlier runs are not read.
    let mut group_reader = None;
    let (consumer, expect) = match cfg.mode {
        Mode::ProduceOnly => (None, None),
        Mode::Full if cfg.group.is_some() => {
            group_reader = Some(GroupReader::join(brokers, cfg)?);
            (None, None)
        }
        Mode::Full => {
            let c = consumer(brokers)?;
            assign(&c, brokers, std::slice::from_ref(&cfg.topic), |t, p| {
                let (_, high) = c
                    .fetch_watermarks(t, p, REQUEST_TIMEOUT)
                    .map_err(kafka_err(brokers, "cannot read offsets"))?;
                Ok(Offset::Offset(high))
            })?;
            (Some(c), None)
        }
        Mode::ConsumeOnly { expect } => {
            let c = consumer(brokers)?;
            let n = assign(&c, brokers, &outputs, |_, _| Ok(Offset::Beginning))?;
            if n == 0 {
                return Err(BenchError::Kafka {
                    brokers: brokers.into(),
                    message: format!("none of the output topics {} exists", outputs.join(", ")),
                });
            }
            (Some(c), Some(expect))
        }
    };
    let produced_total = AtomicU64::new(0);
    let producing_done = AtomicBool::new(cfg.mode != Mode::Full);
    let (in_tx, in_rx) = bounded::<Msg>(INPUT_CAPACITY);
    let (out_tx, out_rx) = bounded::<Routed>(OUTPUT_CAPACITY);
    let result = std::thread::scope(|s| -> Result<_, BenchError> {
        let sink = s.spawn(|| pipeline::sink(&out_rx, &clock, &bar));
        let workers: Vec<_> = (0..cfg.workers.max(1))
            .map(|_| {
                let (rx, tx) = (in_rx.clone(), out_tx.clone());
                let producer = producer.as_ref().filter(|_| *forward);
                let outputs = &outputs;
                s.spawn(move || {
                    pipeline::work(&rx, decoder, &|routed, msg| {
                        if let Some(p) = producer {
                            let topic = &outputs[routed.topic];
                            send(
                                p,
                                brokers,
                                topic,
                                &msg.payload,
                                routed.candid,
                                msg.produced_ns,
                                run_name,
                            )?;
                        }
                        pipeline::send(&tx, routed)
                    })
                })
            })
            .collect();
        drop((in_rx, out_tx));
        let reader = consumer.as_ref().map(|c| {
            let (tx, done, total) = (in_tx.clone(), &producing_done, &produced_total);
            let outputs = &outputs;
            s.spawn(move || read(c, &tx, &clock, cfg, outputs, done, total, expect))
        });
        let group_thread = group_reader.as_ref().map(|g| {
            let (tx, done) = (in_tx.clone(), &producing_done);
            let producer = producer.as_ref();
            s.spawn(move || g.read(&tx, &clock, cfg, producer, done))
        });
        drop(in_tx);
        let produced = match &producer {
            Some(p) => {
                let r = pipeline::produce(
                    feed,
                    &cfg.load,
                    cfg.producers,
                    &clock,
                    &|candid, payload, ns| {
                        send(p, brokers, &cfg.topic, &payload, candid, ns, run_name)
                    },
                );
                let mut flushed = p.flush(REQUEST_TIMEOUT);
                // Members of a group mark the end of their alerts on every
                // partition, once those are acknowledged: see kafka_group.
                if let (Some(group), Ok(_), Ok(())) = (&cfg.group, &r, &flushed) {
                    kafka_group::end_markers(p, brokers, &cfg.topic, group)?;
                    flushed = p.flush(REQUEST_TIMEOUT);
                }
                produced_total.store(r.as_ref().map_or(0, |r| r.alerts), Ordering::SeqCst);
                producing_done.store(true, Ordering::SeqCst);
                let mut r = r?;
                flushed.map_err(kafka_err(brokers, "cannot flush produced alerts"))?;
                let failed = p.context().failed.load(Ordering::Relaxed);
                if failed > 0 {
                    let last = p.context().last_error.lock().ok().and_then(|l| l.clone());
                    tracing::warn!(
                        "{failed} alerts were not delivered: {}",
                        last.unwrap_or_default()
                    );
                    r.alerts -= failed.min(r.alerts);
                }
                r
            }
            _ => Produced::default(),
        };
        if let Some(r) = reader {
            r.join().map_err(|_| BenchError::Panic("consumer"))??;
        }
        if let Some(r) = group_thread {
            r.join()
                .map_err(|_| BenchError::Panic("group consumer"))??;
        }
        let mut times = Vec::new();
        for w in workers {
            times.push(w.join().map_err(|_| BenchError::Panic("worker"))??);
        }
        if let Some(p) = producer.as_ref().filter(|_| *forward) {
            p.flush(REQUEST_TIMEOUT)
                .map_err(kafka_err(brokers, "cannot flush routed alerts"))?;
        }
        let (ledger, stats) = sink.join().map_err(|_| BenchError::Panic("sink"))?;
        Ok((produced, pipeline::total(times), ledger, stats))
    });
    bar.finish_and_clear();
    let (produced, workers, ledger, stats) = result?;
    Ok(Outcome {
        produced,
        ledger,
        stats,
        workers,
        elapsed: clock.elapsed(),
    })
}

/// The consumer thread: poll, hand messages to the workers, stop when every
/// produced (or expected) alert arrived, or when nothing arrived for the drain
/// timeout after production ended.
#[allow(clippy::too_many_arguments)]
fn read(
    c: &BaseConsumer,
    tx: &crossbeam_channel::Sender<Msg>,
    clock: &Clock,
    cfg: &BenchConfig,
    outputs: &[String],
    done: &AtomicBool,
    total: &AtomicU64,
    expect: Option<u64>,
) -> Result<(), BenchError> {
    let mut received = 0u64;
    let mut last = Instant::now();
    loop {
        let target = expect.or_else(|| {
            done.load(Ordering::SeqCst)
                .then(|| total.load(Ordering::SeqCst))
        });
        let idle = last.elapsed();
        match target {
            Some(n) if received >= n && (expect.is_none() || idle > Duration::from_secs(1)) => {
                return Ok(());
            }
            Some(_) if idle > cfg.drain_timeout => return Ok(()),
            _ => {}
        }
        let Some(m) = c.poll(Duration::from_millis(100)) else {
            continue;
        };
        let m = m.map_err(|e| BenchError::Kafka {
            brokers: String::new(),
            message: format!("consume: {e}"),
        })?;
        last = Instant::now();
        let produced_ns = header_u64(&m, PRODUCED_HEADER)
            .or_else(|| m.timestamp().to_millis().map(|ms| ms as u64 * 1_000_000))
            .unwrap_or_else(|| clock.now());
        if expect.is_none() && produced_ns < clock.start_unix_ns {
            continue; // an alert of an earlier run
        }
        received += 1;
        let msg = Msg {
            payload: m.payload().unwrap_or_default().to_vec(),
            produced_ns,
            candid: header_u64(&m, CANDID_HEADER).map(|c| c as i64),
            topic: outputs
                .iter()
                .position(|t| t == m.topic())
                .filter(|_| expect.is_some()),
        };
        pipeline::send(tx, msg)?;
    }
}
