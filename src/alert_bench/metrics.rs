//! What the sink measures: exact accounting by candidate id, latency
//! histogram, routed-alerts timeline, per-topic counts, peak memory.

use std::collections::HashMap;

use hdrhistogram::Histogram;

use super::generator::CANDID_BASE;

/// Exact once-only accounting of candidate ids in bounded memory: generated
/// ids (`CANDID_BASE + i`) go to a bitset (10 M alerts = 1.2 MB), any other id
/// (real archives) to a map.
#[derive(Debug, Default)]
pub(crate) struct Ledger {
    bits: Vec<u64>,
    other: HashMap<i64, ()>,
    pub(crate) distinct: u64,
    pub(crate) duplicated: u64,
}

/// Largest dense index the bitset takes (2^34 alerts, far beyond any run).
const DENSE_MAX: i64 = 1 << 34;

impl Ledger {
    /// Record one arrival of `candid`; false when it was already seen.
    pub(crate) fn record(&mut self, candid: i64) -> bool {
        let first = match candid.checked_sub(CANDID_BASE) {
            Some(i) if (0..DENSE_MAX).contains(&i) => {
                let (word, bit) = ((i / 64) as usize, i % 64);
                if word >= self.bits.len() {
                    self.bits.resize((word + 1).next_power_of_two(), 0);
                }
                let seen = self.bits[word] & (1 << bit) != 0;
                self.bits[word] |= 1 << bit;
                !seen
            }
            _ => self.other.insert(candid, ()).is_none(),
        };
        if first {
            self.distinct += 1;
        } else {
            self.duplicated += 1;
        }
        first
    }

    /// The ids recorded, in the compact form reports carry.
    pub(crate) fn ids(&self) -> super::group::IdSet {
        super::group::IdSet::from_parts(&self.bits, self.other.keys().copied())
    }
}

/// Latency and timeline of routed alerts.
#[derive(Debug)]
pub(crate) struct Stats {
    /// End-to-end latency in microseconds (`None` only if the histogram
    /// library refused our constant bounds).
    pub(crate) latency_us: Option<Histogram<u64>>,
    /// Alerts routed per [`BUCKET_NS`] since the start of the run.
    pub(crate) timeline: Vec<u64>,
    /// Alerts per output topic, by index.
    pub(crate) topics: Vec<u64>,
    pub(crate) bytes: u64,
}

/// Width of a timeline bucket: 100 ms.
pub(crate) const BUCKET_NS: u64 = 100_000_000;

impl Default for Stats {
    fn default() -> Self {
        Self {
            // 1 µs to 1 h at 3 significant digits.
            latency_us: Histogram::new_with_bounds(1, 3_600_000_000, 3).ok(),
            timeline: Vec::new(),
            topics: Vec::new(),
            bytes: 0,
        }
    }
}

impl Stats {
    /// One routed alert: produced at `produced_ns`, routed at `now_ns`
    /// (both since the start of the run, on one clock).
    pub(crate) fn record(&mut self, topic: usize, bytes: usize, produced_ns: u64, now_ns: u64) {
        let us = now_ns.saturating_sub(produced_ns) / 1_000;
        if let Some(h) = &mut self.latency_us {
            h.saturating_record(us.max(1));
        }
        let bucket = (now_ns / BUCKET_NS) as usize;
        if bucket >= self.timeline.len() {
            self.timeline.resize(bucket + 1, 0);
        }
        self.timeline[bucket] += 1;
        if topic >= self.topics.len() {
            self.topics.resize(topic + 1, 0);
        }
        self.topics[topic] += 1;
        self.bytes += bytes as u64;
    }
}

/// Peak resident memory of this process in bytes (Linux `VmHWM`), if known.
pub(crate) fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ledger_counts_distinct_and_duplicates_on_both_paths() {
        let mut l = Ledger::default();
        for id in [
            CANDID_BASE,
            CANDID_BASE + 1_000_000,
            CANDID_BASE,
            7,
            7,
            8,
            -1,
        ] {
            l.record(id);
        }
        assert_eq!((l.distinct, l.duplicated), (5, 2));
        let ids = l.ids();
        assert_eq!(ids.len(), Ok(5));
        assert_eq!(ids.other, [-1, 7, 8]);
        assert!(
            l.bits.len() < 100_000,
            "the bitset grows with the highest index only"
        );
    }

    #[test]
    fn stats_bucket_latency_and_topics() {
        let mut s = Stats::default();
        s.record(3, 100, 0, 2_000_000);
        s.record(3, 100, 150_000_000, 250_000_000);
        assert_eq!(s.timeline, [1, 0, 1]);
        assert_eq!(s.topics[3], 2);
        let h = s.latency_us.as_ref().unwrap();
        assert_eq!(h.max(), h.highest_equivalent(100_000));
        assert!(peak_rss().is_some_and(|b| b > 0));
    }
}
