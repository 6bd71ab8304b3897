//! Group runs over Kafka (`--group NAME --member K/M`): several `ciux bench`
//! processes, on one machine or many, share one input topic through a real
//! Kafka consumer group (subscribe, rebalance, commit).
//!
//! How a member knows the run is over, exactly, without a coordinator:
//!
//! 1. every message of the run carries the run's name (`ciux-run`); members
//!    skip messages of other runs, so the input topic may be reused;
//! 2. once its alerts are all acknowledged, member K writes an *end marker*
//!    (`ciux-end` = K, empty payload) to every partition of the input topic.
//!    Kafka keeps a partition's order, so whoever reads K's marker on
//!    partition p has read (or a member before it, which committed) every
//!    alert K wrote to p;
//! 3. the member that reads a marker announces it on the control topic
//!    `TOPIC.ciux-group` (one partition, read by every member from its
//!    start, outside the group). The run is over for everyone when the
//!    control topic holds every (partition, member) pair.
//!
//! Offsets are stored as a message is handed to the workers and committed
//! every 200 ms and on revocation, so a partition that moves to another
//! member resumes where this one stopped reading. A member that died between
//! reading and committing makes the next owner read those alerts again:
//! duplicates, which the candidate ids in each report let `ciux bench merge`
//! tell apart from new alerts.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rdkafka::client::ClientContext;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance};
use rdkafka::message::{Header, Headers, Message, OwnedHeaders};
use rdkafka::producer::{BaseRecord, Producer};
use rdkafka::{Offset, TopicPartitionList};

use super::kafka::{
    AlertProducer, CANDID_HEADER, PRODUCED_HEADER, REQUEST_TIMEOUT, RUN_HEADER, base_config,
    header_u64, kafka_err, send_record,
};
use super::pipeline::{self, Clock, Msg};
use super::{BenchConfig, BenchError, Group};

/// Header of an end marker: the member index (8 bytes big-endian).
const END_HEADER: &str = "ciux-end";

/// Session timeout of group members. librdkafka's default (45 s) makes a
/// group join on tansu take ~23 s; 6 s brings it to ~3 s and still allows
/// a member a few missed heartbeats before the group gives its partitions
/// to the others.
pub(crate) const SESSION_TIMEOUT_MS: u32 = 6000;
/// Heartbeats: a sixth of the session timeout (Kafka's advice: at most a third).
pub(crate) const HEARTBEAT_MS: u32 = 1000;
/// Commit interval of the stored offsets.
pub(crate) const COMMIT_MS: u32 = 200;

/// The control topic of the group runs on `topic`.
pub(crate) fn control_topic(topic: &str) -> String {
    format!("{topic}.ciux-group")
}

/// Commits stored offsets before partitions move to another member.
struct Rebalancing;

impl ClientContext for Rebalancing {}

impl ConsumerContext for Rebalancing {
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Revoke(list) => {
                tracing::debug!("group: {} partition(s) revoked", list.count());
                if list.count() > 0
                    && let Err(e) = consumer.commit_consumer_state(CommitMode::Sync)
                {
                    tracing::debug!("group: commit before revocation: {e}");
                }
            }
            Rebalance::Assign(list) => {
                tracing::debug!("group: {} partition(s) assigned", list.count());
            }
            Rebalance::Error(e) => tracing::warn!("group rebalance: {e}"),
        }
    }
}

/// One member's consumers: the group's, on the input topic, and a plain one
/// reading the control topic from its start.
pub(crate) struct GroupReader {
    consumer: BaseConsumer<Rebalancing>,
    control: BaseConsumer,
    brokers: String,
    group: Group,
    partitions: i32,
}

fn partitions(
    c: &BaseConsumer<Rebalancing>,
    brokers: &str,
    topic: &str,
) -> Result<i32, BenchError> {
    let meta = c
        .fetch_metadata(Some(topic), REQUEST_TIMEOUT)
        .map_err(kafka_err(
            brokers,
            &format!("cannot read metadata of {topic}"),
        ))?;
    let n = meta
        .topics()
        .iter()
        .filter(|t| t.error().is_none())
        .map(|t| t.partitions().len())
        .sum::<usize>();
    if n == 0 {
        return Err(BenchError::Kafka {
            brokers: brokers.into(),
            message: format!("topic {topic} has no partition"),
        });
    }
    i32::try_from(n).map_err(|_| BenchError::Kafka {
        brokers: brokers.into(),
        message: format!("topic {topic} has {n} partitions"),
    })
}

impl GroupReader {
    /// Subscribe to the input topic in the group and start reading the
    /// control topic.
    pub(crate) fn join(brokers: &str, cfg: &BenchConfig) -> Result<Self, BenchError> {
        let group = cfg
            .group
            .clone()
            .ok_or_else(|| BenchError::Usage("not a group run".into()))?;
        let consumer: BaseConsumer<Rebalancing> = base_config(brokers)
            .set("group.id", &group.name)
            .set("session.timeout.ms", SESSION_TIMEOUT_MS.to_string())
            .set("heartbeat.interval.ms", HEARTBEAT_MS.to_string())
            .set("enable.auto.commit", "true")
            .set("auto.commit.interval.ms", COMMIT_MS.to_string())
            .set("enable.auto.offset.store", "false")
            .set("auto.offset.reset", "earliest")
            .set("fetch.max.bytes", "52428800")
            .set("max.partition.fetch.bytes", "10485760")
            .set("queued.max.messages.kbytes", "65536")
            .create_with_context(Rebalancing)
            .map_err(kafka_err(brokers, "cannot create group consumer"))?;
        let partitions = partitions(&consumer, brokers, &cfg.topic)?;
        consumer
            .subscribe(&[cfg.topic.as_str()])
            .map_err(kafka_err(
                brokers,
                &format!("cannot subscribe to {}", cfg.topic),
            ))?;
        let control: BaseConsumer = base_config(brokers)
            .set(
                "group.id",
                format!("ciux-bench-control-{}", std::process::id()),
            )
            .set("enable.auto.commit", "false")
            .create()
            .map_err(kafka_err(brokers, "cannot create control consumer"))?;
        let mut list = TopicPartitionList::new();
        list.add_partition_offset(&control_topic(&cfg.topic), 0, Offset::Beginning)
            .map_err(kafka_err(brokers, "bad offset"))?;
        control
            .assign(&list)
            .map_err(kafka_err(brokers, "cannot read the control topic"))?;
        Ok(Self {
            consumer,
            control,
            brokers: brokers.into(),
            group,
            partitions,
        })
    }

    fn of_run(&self, m: &impl Message) -> bool {
        m.headers()
            .and_then(|h| h.iter().find(|h| h.key == RUN_HEADER))
            .and_then(|h| h.value)
            == Some(self.group.name.as_bytes())
    }

    /// Feed the workers with this member's share of the input topic until
    /// the control topic shows every end marker, or nothing arrived for the
    /// drain timeout once this member's production ended.
    pub(crate) fn read(
        &self,
        tx: &crossbeam_channel::Sender<Msg>,
        clock: &Clock,
        cfg: &BenchConfig,
        producer: Option<&AlertProducer>,
        done: &AtomicBool,
    ) -> Result<(), BenchError> {
        let brokers = self.brokers.as_str();
        let producer =
            producer.ok_or_else(|| BenchError::Usage("a group member produces".into()))?;
        let members = self.group.member.members;
        let need = self.partitions as usize * members as usize;
        let control = control_topic(&cfg.topic);
        let mut ends: HashSet<(i32, u64)> = HashSet::new();
        let mut last = Instant::now();
        let consume_err = |e| kafka_err(brokers, "consume")(e);
        loop {
            while let Some(m) = self.control.poll(Duration::ZERO) {
                let m = m.map_err(consume_err)?;
                last = Instant::now();
                if let (true, Some([p0, p1, p2, p3, k @ ..])) = (self.of_run(&m), m.payload())
                    && let Ok(k) = <[u8; 8]>::try_from(k)
                {
                    ends.insert((
                        i32::from_be_bytes([*p0, *p1, *p2, *p3]),
                        u64::from_be_bytes(k),
                    ));
                }
            }
            if ends.len() >= need {
                break;
            }
            if done.load(Ordering::SeqCst) && last.elapsed() > cfg.drain_timeout {
                tracing::warn!(
                    "group {}: {} of {need} end markers seen before the drain timeout",
                    self.group.name,
                    ends.len()
                );
                break;
            }
            let Some(m) = self.consumer.poll(Duration::from_millis(50)) else {
                continue;
            };
            let m = m.map_err(consume_err)?;
            last = Instant::now();
            if self.of_run(&m) {
                if let Some(member) = header_u64(&m, END_HEADER) {
                    let mut payload = m.partition().to_be_bytes().to_vec();
                    payload.extend_from_slice(&member.to_be_bytes());
                    let headers = OwnedHeaders::new().insert(Header {
                        key: RUN_HEADER,
                        value: Some(self.group.name.as_bytes()),
                    });
                    let record = BaseRecord::to(&control)
                        .payload(&payload[..])
                        .key(&[][..])
                        .headers(headers);
                    send_record(producer, brokers, record)?;
                    ends.insert((m.partition(), member));
                } else {
                    let produced_ns =
                        header_u64(&m, PRODUCED_HEADER).unwrap_or_else(|| clock.now());
                    pipeline::send(
                        tx,
                        Msg {
                            payload: m.payload().unwrap_or_default().to_vec(),
                            produced_ns,
                            candid: header_u64(&m, CANDID_HEADER).map(|c| c as i64),
                            topic: None,
                        },
                    )?;
                }
            }
            self.consumer
                .store_offset_from_message(&m)
                .map_err(kafka_err(brokers, "cannot store offset"))?;
        }
        if let Err(e) = self.consumer.commit_consumer_state(CommitMode::Sync) {
            tracing::debug!("group: final commit: {e}");
        }
        self.consumer.unsubscribe();
        Ok(())
    }
}

/// Write member `group.member`'s end marker to every partition of `topic`
/// (called once its alerts are acknowledged).
pub(crate) fn end_markers(
    p: &AlertProducer,
    brokers: &str,
    topic: &str,
    group: &Group,
) -> Result<(), BenchError> {
    let meta = p
        .client()
        .fetch_metadata(Some(topic), REQUEST_TIMEOUT)
        .map_err(kafka_err(
            brokers,
            &format!("cannot read metadata of {topic}"),
        ))?;
    let ids: Vec<i32> = meta
        .topics()
        .iter()
        .flat_map(|t| t.partitions().iter().map(|p| p.id()))
        .collect();
    let member = group.member.index.to_be_bytes();
    for partition in ids {
        let headers = OwnedHeaders::new_with_capacity(2)
            .insert(Header {
                key: RUN_HEADER,
                value: Some(group.name.as_bytes()),
            })
            .insert(Header {
                key: END_HEADER,
                value: Some(&member[..]),
            });
        let record = BaseRecord::to(topic)
            .partition(partition)
            .payload(&[][..])
            .key(&[][..])
            .headers(headers);
        send_record(p, brokers, record)?;
    }
    Ok(())
}
