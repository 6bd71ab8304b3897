//! Several `ciux bench` processes as one run: the member spec (`--member
//! K/M`), the set of candidate ids a member consumed (carried in its report
//! so that merging is exact), and `ciux bench merge`. Pure: plain data in,
//! plain data out.
//!
//! Why ids and not counts: two members that both count an alert (a
//! rebalance handed a partition over before its offsets were committed)
//! would each report it once; only the union of their id sets tells a
//! duplicate from two distinct alerts.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use base64::Engine;
use serde::{Deserialize, Serialize};

use super::generator::CANDID_BASE;
use super::report::{self, AlertCounts, Report};

/// One member of a group run: member `index` of `members`. Member K
/// produces alert indices `i < N` with `i % M == K`, so the members' alerts
/// are disjoint and together are the N alerts of the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Member {
    pub(crate) index: u64,
    pub(crate) members: u64,
}

impl Member {
    /// Parse `K/M` (0 ≤ K < M).
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        let bad = || format!("--member {text:?}: expected K/M with 0 <= K < M, e.g. 0/2");
        let (k, m) = text.split_once('/').ok_or_else(bad)?;
        let (index, members) = (
            k.trim().parse::<u64>().map_err(|_| bad())?,
            m.trim().parse::<u64>().map_err(|_| bad())?,
        );
        if members == 0 || index >= members {
            return Err(bad());
        }
        Ok(Self { index, members })
    }
}

/// What a member report says about its group (`group` in the report).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(crate) struct GroupInfo {
    /// The consumer group, which also names the run: members of one run
    /// share it, and a new run takes a new name.
    pub(crate) name: String,
    /// The input topic the group shares.
    pub(crate) topic: String,
    pub(crate) member: u64,
    pub(crate) members: u64,
    /// Alerts of the whole run (every member's share together).
    pub(crate) alerts: Option<u64>,
    /// Wall-clock start and end of this member's run, Unix milliseconds.
    pub(crate) started_unix_ms: u64,
    pub(crate) ended_unix_ms: u64,
    /// Members whose reports were merged into this one (merged reports only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) merged: Vec<u64>,
}

/// A set of candidate ids, compact: ids `CANDID_BASE + i` as a bitset
/// (little-endian 64-bit words, base64: 100,000 alerts take 17 KB of JSON),
/// any other id listed.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub(crate) struct IdSet {
    pub(crate) base: i64,
    pub(crate) dense: String,
    #[serde(default)]
    pub(crate) other: Vec<i64>,
}

impl IdSet {
    pub(crate) fn from_parts(words: &[u64], other: impl IntoIterator<Item = i64>) -> Self {
        let used = words.iter().rposition(|w| *w != 0).map_or(0, |i| i + 1);
        let bytes: Vec<u8> = words[..used].iter().flat_map(|w| w.to_le_bytes()).collect();
        let mut other: Vec<i64> = other.into_iter().collect();
        other.sort_unstable();
        Self {
            base: CANDID_BASE,
            dense: base64::engine::general_purpose::STANDARD.encode(bytes),
            other,
        }
    }

    fn words(&self) -> Result<Vec<u64>, String> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(&self.dense)
            .map_err(|e| format!("ids.dense is not base64: {e}"))?;
        if bytes.len() % 8 != 0 {
            return Err("ids.dense is not a whole number of 64-bit words".into());
        }
        Ok(bytes
            .chunks_exact(8)
            .map(|c| u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
            .collect())
    }

    /// Number of ids in the set.
    pub(crate) fn len(&self) -> Result<u64, String> {
        let dense: u64 = self
            .words()?
            .iter()
            .map(|w| u64::from(w.count_ones()))
            .sum();
        Ok(dense + self.other.len() as u64)
    }
}

/// Why reports cannot be merged. Every variant names the report at fault.
#[derive(Debug, thiserror::Error, PartialEq)]
pub(crate) enum MergeError {
    #[error("give at least one report to merge")]
    Empty,
    #[error("{path}: not a member report of a group run (run it with --group NAME --member K/M)")]
    NotGrouped { path: PathBuf },
    #[error("{path}: {what} is {theirs:?}, but {first} has {ours:?}: reports of different runs")]
    Mismatch {
        path: PathBuf,
        first: PathBuf,
        what: &'static str,
        theirs: String,
        ours: String,
    },
    #[error("{path}: member {member} already given by {other}")]
    SameMember {
        path: PathBuf,
        other: PathBuf,
        member: u64,
    },
    #[error("missing the report of member(s) {missing:?} of {members}")]
    Missing { missing: Vec<u64>, members: u64 },
    #[error("{path}: bad consumed ids: {message}")]
    BadIds { path: PathBuf, message: String },
}

/// Merge the member reports of one group run: exact accounting by candidate
/// id (an id consumed by two members is a duplicate, not two alerts),
/// produced and per-topic counts summed, throughput over the union of the
/// members' wall-clock windows. Latency percentiles are the worst member's
/// (an upper bound: the reports carry percentiles, not histograms).
pub(crate) fn merge(reports: &[(PathBuf, Report)]) -> Result<Report, MergeError> {
    let (first_path, first) = reports.first().ok_or(MergeError::Empty)?;
    let first_group = group_of(first_path, first)?;
    let mut seen: BTreeMap<u64, &PathBuf> = BTreeMap::new();
    for (path, r) in reports {
        let g = group_of(path, r)?;
        let same = |what: &'static str, theirs: String, ours: String| {
            if theirs == ours {
                Ok(())
            } else {
                Err(MergeError::Mismatch {
                    path: path.clone(),
                    first: first_path.clone(),
                    what,
                    theirs,
                    ours,
                })
            }
        };
        same("group", g.name.clone(), first_group.name.clone())?;
        same("topic", g.topic.clone(), first_group.topic.clone())?;
        same(
            "members",
            g.members.to_string(),
            first_group.members.to_string(),
        )?;
        same(
            "alerts",
            format!("{:?}", g.alerts),
            format!("{:?}", first_group.alerts),
        )?;
        same("source", r.run.source.clone(), first.run.source.clone())?;
        same(
            "seed",
            format!("{:?}", r.run.seed),
            format!("{:?}", first.run.seed),
        )?;
        same("load", r.run.load.clone(), first.run.load.clone())?;
        same("mode", r.run.mode.clone(), first.run.mode.clone())?;
        same(
            "report version",
            r.version.to_string(),
            first.version.to_string(),
        )?;
        if let Some(other) = seen.insert(g.member, path) {
            return Err(MergeError::SameMember {
                path: path.clone(),
                other: other.clone(),
                member: g.member,
            });
        }
    }
    let missing: Vec<u64> = (0..first_group.members)
        .filter(|m| !seen.contains_key(m))
        .collect();
    if !missing.is_empty() {
        return Err(MergeError::Missing {
            missing,
            members: first_group.members,
        });
    }

    let mut words: Vec<u64> = Vec::new();
    let mut other: BTreeSet<i64> = BTreeSet::new();
    let mut counts = AlertCounts::default();
    let mut cross = 0u64;
    let mut topics: BTreeMap<String, u64> = BTreeMap::new();
    let (mut start, mut end) = (u64::MAX, 0u64);
    let mut merged = report::Latency::default();
    let (mut bytes_per_sec, mut produce_rate) = (0.0, 0.0);
    for (path, r) in reports {
        let ids = r.ids.as_ref().ok_or_else(|| MergeError::BadIds {
            path: path.clone(),
            message: "the report carries no consumed ids".into(),
        })?;
        let bad = |message: String| MergeError::BadIds {
            path: path.clone(),
            message,
        };
        if ids.base != CANDID_BASE {
            return Err(bad(format!("base {} is not {CANDID_BASE}", ids.base)));
        }
        let theirs = ids.words().map_err(bad)?;
        let n = ids.len().map_err(bad)?;
        if n != r.alerts.consumed {
            return Err(bad(format!(
                "{n} ids for {} consumed alerts",
                r.alerts.consumed
            )));
        }
        if theirs.len() > words.len() {
            words.resize(theirs.len(), 0);
        }
        for (w, t) in words.iter_mut().zip(&theirs) {
            cross += u64::from((*w & t).count_ones());
            *w |= t;
        }
        for id in &ids.other {
            if !other.insert(*id) {
                cross += 1;
            }
        }
        counts.produced += r.alerts.produced;
        counts.duplicated += r.alerts.duplicated;
        counts.undecodable += r.alerts.undecodable;
        for (t, n) in &r.topics {
            *topics.entry(t.clone()).or_default() += n;
        }
        let g = group_of(path, r)?;
        start = start.min(g.started_unix_ms);
        end = end.max(g.ended_unix_ms);
        let l = &r.latency_ms;
        merged.p50 = merged.p50.max(l.p50);
        merged.p90 = merged.p90.max(l.p90);
        merged.p99 = merged.p99.max(l.p99);
        merged.max = merged.max.max(l.max);
        merged.mean = merged.mean.max(l.mean);
        bytes_per_sec += r.throughput.mb_per_sec * r.throughput.duration_sec;
        produce_rate += r.throughput.produce_alerts_per_sec;
    }
    counts.consumed =
        words.iter().map(|w| u64::from(w.count_ones())).sum::<u64>() + other.len() as u64;
    counts.duplicated += cross;
    counts.lost = if first.run.mode == "produce-only" {
        0
    } else {
        counts.produced.saturating_sub(counts.consumed)
    };
    let secs = (end.saturating_sub(start) as f64 / 1000.0).max(1e-9);
    let mut group = first_group.clone();
    group.member = 0;
    group.started_unix_ms = start;
    group.ended_unix_ms = end;
    group.merged = seen.keys().copied().collect();
    Ok(Report {
        version: first.version,
        run: report::RunInfo {
            transport: first.run.transport.clone(),
            mode: first.run.mode.clone(),
            source: first.run.source.clone(),
            seed: first.run.seed,
            load: first.run.load.clone(),
            workers: reports.iter().map(|(_, r)| r.run.workers).sum(),
        },
        alerts: counts,
        throughput: report::Throughput {
            alerts_per_sec: counts.consumed as f64 / secs,
            mb_per_sec: bytes_per_sec / secs,
            produce_alerts_per_sec: produce_rate,
            duration_sec: secs,
            interval_sec: 0.0,
            timeline: Vec::new(),
        },
        latency_ms: merged,
        stages_us: BTreeMap::new(),
        peak_memory_mb: reports
            .iter()
            .filter_map(|(_, r)| r.peak_memory_mb)
            .reduce(f64::max),
        topics,
        gates: Vec::new(),
        group: Some(group),
        ids: Some(IdSet::from_parts(&words, other)),
    })
}

fn group_of<'a>(path: &Path, r: &'a Report) -> Result<&'a GroupInfo, MergeError> {
    r.group
        .as_ref()
        .filter(|g| g.merged.is_empty())
        .ok_or_else(|| MergeError::NotGrouped {
            path: path.to_path_buf(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert_bench::report::tests::sample;

    fn member(index: u64, ids: &[i64], produced: u64) -> (PathBuf, Report) {
        let mut r = sample();
        let mut words = vec![0u64; 4];
        let mut other = Vec::new();
        for &id in ids {
            match id.checked_sub(CANDID_BASE) {
                Some(i) if (0..256).contains(&i) => words[i as usize / 64] |= 1 << (i % 64),
                _ => other.push(id),
            }
        }
        r.alerts = AlertCounts {
            produced,
            consumed: ids.len() as u64,
            ..AlertCounts::default()
        };
        r.topics = [("a.x".to_string(), ids.len() as u64)].into();
        r.ids = Some(IdSet::from_parts(&words, other));
        r.group = Some(GroupInfo {
            name: "g".into(),
            topic: "a".into(),
            member: index,
            members: 2,
            alerts: Some(6),
            started_unix_ms: 1000 + index * 500,
            ended_unix_ms: 3000 + index * 500,
            merged: vec![],
        });
        (PathBuf::from(format!("m{index}.json")), r)
    }

    #[test]
    fn member_spec_parses_and_refuses() {
        assert_eq!(
            Member::parse("1/3"),
            Ok(Member {
                index: 1,
                members: 3
            })
        );
        for bad in ["3/3", "0/0", "1", "a/2", "-1/2", ""] {
            assert!(Member::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn merge_counts_each_id_once_across_members() {
        let b = CANDID_BASE;
        let m = merge(&[
            member(0, &[b, b + 2, b + 4, 7], 3),
            member(1, &[b + 1, b + 3, b + 5], 3),
        ])
        .unwrap();
        assert_eq!(
            (m.alerts.produced, m.alerts.consumed, m.alerts.lost),
            (6, 7, 0)
        );
        assert_eq!(m.alerts.duplicated, 0);
        assert_eq!(m.topics["a.x"], 7);
        assert_eq!(m.ids.as_ref().unwrap().len(), Ok(7));
        assert_eq!(m.group.as_ref().unwrap().merged, [0, 1]);
        // The window is the union of the members': 1.0 s to 3.5 s.
        assert!((m.throughput.duration_sec - 2.5).abs() < 1e-9);
    }

    #[test]
    fn an_id_in_two_members_is_a_duplicate_and_a_missing_one_is_lost() {
        let b = CANDID_BASE;
        let m = merge(&[
            member(0, &[b, b + 2, b + 3], 3),
            member(1, &[b + 3, b + 1, 9], 3),
        ])
        .unwrap();
        assert_eq!(
            (m.alerts.consumed, m.alerts.duplicated, m.alerts.lost),
            (5, 1, 1)
        );
        let m = merge(&[member(0, &[9], 1), member(1, &[9], 1)]).unwrap();
        assert_eq!((m.alerts.consumed, m.alerts.duplicated), (1, 1));
    }

    #[test]
    fn merge_refuses_other_runs_repeats_gaps_and_plain_reports() {
        let (p0, r0) = member(0, &[CANDID_BASE], 1);
        let (p1, mut r1) = member(1, &[CANDID_BASE + 1], 1);
        let err = |rs: &[(PathBuf, Report)]| merge(rs).unwrap_err().to_string();
        assert!(err(&[]).contains("at least one"));
        assert!(err(&[(p0.clone(), r0.clone())]).contains("missing the report of member(s) [1]"));
        assert!(
            err(&[(p0.clone(), r0.clone()), (p0.clone(), r0.clone())])
                .contains("member 0 already given by m0.json")
        );
        let mut other_run = r1.clone();
        other_run.group.as_mut().unwrap().name = "h".into();
        assert!(
            err(&[(p0.clone(), r0.clone()), (p1.clone(), other_run)])
                .contains("m1.json: group is \"h\", but m0.json has \"g\"")
        );
        let mut other_seed = r1.clone();
        other_seed.run.seed = Some(2);
        assert!(err(&[(p0.clone(), r0.clone()), (p1.clone(), other_seed)]).contains("seed"));
        let mut plain = r1.clone();
        plain.group = None;
        assert!(
            err(&[(p0.clone(), r0.clone()), (p1.clone(), plain)])
                .contains("m1.json: not a member report")
        );
        r1.alerts.consumed = 5;
        assert!(err(&[(p0, r0), (p1, r1)]).contains("m1.json: bad consumed ids: 1 ids for 5"));
    }
}
