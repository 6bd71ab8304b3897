//! Generated alerts written to an Avro object container file (`ciux bench
//! --write FILE`): the same alerts a run would produce, for another program
//! (fastavro, a broker's own reader) or a later `--from` run to read. The
//! file is written beside its target and renamed once complete.

use std::io::{BufWriter, Write};
use std::path::Path;

use super::avro::{SYNC, Writer, container_header};
use super::{BenchError, Mix, Survey, generated};

/// Alerts per container block (real archives write blocks of a few MB).
const BLOCK_ALERTS: u64 = 500;

/// Write alerts `0..alerts` of `seed` and `mix` in `survey`'s schema (the
/// synthetic one by default) to `path`; returns the bytes written.
pub(crate) fn write_archive(
    seed: u64,
    mix: Mix,
    survey: Option<Survey>,
    alerts: u64,
    path: &Path,
) -> Result<u64, BenchError> {
    let (feed, _, schema) = generated(seed, mix, survey)?;
    let io = |source| BenchError::Io {
        path: path.to_path_buf(),
        source,
    };
    let tmp = crate::fsutil::temp_beside(path).map_err(io)?;
    let mut out = BufWriter::with_capacity(1 << 20, tmp);
    let header = container_header(schema);
    out.write_all(&header).map_err(io)?;
    let mut written = header.len() as u64;
    let mut i = 0;
    while i < alerts {
        let n = BLOCK_ALERTS.min(alerts - i);
        let mut block = Vec::with_capacity(n as usize * 40_000);
        for k in i..i + n {
            if let Some((_, datum)) = feed.payload(k)? {
                block.extend_from_slice(&datum);
            }
        }
        let mut w = Writer::default();
        w.long(n as i64);
        w.long(block.len() as i64);
        out.write_all(&w.buf).map_err(io)?;
        out.write_all(&block).map_err(io)?;
        out.write_all(&SYNC).map_err(io)?;
        written += (w.buf.len() + block.len() + SYNC.len()) as u64;
        i += n;
    }
    let tmp = out.into_inner().map_err(|e| io(e.into_error()))?;
    tmp.as_file().sync_all().map_err(io)?;
    tmp.persist(path).map_err(|e| io(e.error))?;
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::super::archive::Archive;
    use super::*;

    #[test]
    fn a_written_archive_replays_the_same_alerts() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lsst.avro");
        write_archive(5, Mix::default(), Some(Survey::Lsst), 1_203, &path).unwrap();
        let a = Archive::open(&path, None, false).unwrap();
        assert_eq!(a.survey, Survey::Lsst, "detected from the schema name");
        let (feed, _, _) = generated(5, Mix::default(), Some(Survey::Lsst)).unwrap();
        let mut i = 0;
        while let Some((id, datum)) = a.next(i).unwrap() {
            let (want_id, want) = feed.payload(i).unwrap().unwrap();
            assert_eq!((id, &datum[..]), (want_id, &want[..]), "alert {i}");
            i += 1;
        }
        assert_eq!(i, 1_203);
        let again = dir.path().join("again.avro");
        write_archive(5, Mix::default(), Some(Survey::Lsst), 1_203, &again).unwrap();
        assert_eq!(
            std::fs::read(&path).unwrap(),
            std::fs::read(&again).unwrap()
        );
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 2, "no temporary file left behind");
    }
}
