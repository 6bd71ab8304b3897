//! Real alert archives (`--from PATH`): Avro object container files, plain or
//! gzipped, one file or a directory of them, each with its embedded writer
//! schema. Read as a stream: one container block in memory at a time, so a
//! 1 GB archive or a directory of 100,000 files replays in bounded memory.
//! Datums are split out of blocks by the decoder plan of that schema.

use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Mutex;

use super::BenchError;
use super::generator::CANDID_BASE;
use super::plan::{IdSpans, Plan, splice_id};
use super::survey::Survey;

/// Largest container block accepted (real archives write blocks of a few MB).
const MAX_BLOCK: u64 = 256 << 20;
/// An archive whose alerts weigh at most this is kept in memory after its
/// first pass, so that cyclic replay of a small sample does not reopen and
/// re-split files for every alert; a larger one is streamed again.
const CACHE_BYTES: usize = 64 << 20;

/// An archive opened for streaming: its files, writer schema and plans.
#[derive(Debug)]
pub(crate) struct Archive {
    files: Vec<PathBuf>,
    /// The writer schema of the first file, as written in its header.
    pub(crate) schema_json: String,
    pub(crate) survey: Survey,
    /// Reads the candidate id only (splitting, id rewriting).
    ids: Plan,
    /// Replay from the start once the archive is exhausted.
    cycle: bool,
    /// Give every alert the fresh id of its index, the first pass too (the
    /// members of a group run replay one archive: their archive ids collide).
    pub(crate) fresh_ids: bool,
    cursor: Mutex<Cursor>,
}

#[derive(Debug, Default)]
struct Cursor {
    /// Index of the next file to open.
    file: usize,
    reader: Option<Blocks>,
    block: Vec<u8>,
    at: usize,
    left: u64,
    pass: u64,
    /// Datums read in the current pass.
    read: u64,
    /// The first pass's datums and their id fields, while they fit in
    /// [`CACHE_BYTES`]; `None` once they do not.
    cache: Option<Vec<(Vec<u8>, IdSpans)>>,
    cached_bytes: usize,
}

/// The blocks of one container file.
struct Blocks {
    path: PathBuf,
    input: Box<dyn Read + Send>,
    codec: apache_avro::Codec,
    sync: [u8; 16],
}

impl std::fmt::Debug for Blocks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Blocks").field("path", &self.path).finish()
    }
}

fn archive_err(path: &Path, message: impl Into<String>) -> BenchError {
    BenchError::Archive {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> BenchError + '_ {
    move |source| BenchError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// A zig-zag varint from a stream; `None` at a clean end of stream.
fn read_long(r: &mut dyn Read) -> std::io::Result<Option<i64>> {
    let mut z: u64 = 0;
    let mut shift = 0;
    let mut first = true;
    loop {
        let mut b = [0u8];
        match r.read(&mut b)? {
            0 if first => return Ok(None),
            0 => return Err(std::io::ErrorKind::UnexpectedEof.into()),
            _ => {}
        }
        first = false;
        z |= u64::from(b[0] & 0x7f) << shift;
        if b[0] & 0x80 == 0 {
            return Ok(Some(((z >> 1) as i64) ^ -((z & 1) as i64)));
        }
        shift += 7;
        if shift > 63 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "varint longer than 10 bytes",
            ));
        }
    }
}

fn read_bytes(r: &mut dyn Read, max: u64) -> std::io::Result<Vec<u8>> {
    let n = read_long(r)?.ok_or(std::io::ErrorKind::UnexpectedEof)?;
    let n = u64::try_from(n)
        .ok()
        .filter(|&n| n <= max)
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidData, "bad length"))?;
    let mut buf = vec![0; n as usize];
    r.read_exact(&mut buf)?;
    Ok(buf)
}

/// Open a container file (gzipped or not) and read its header.
fn open(path: &Path) -> Result<(Blocks, String), BenchError> {
    let file = std::fs::File::open(path).map_err(io_err(path))?;
    let mut file = BufReader::with_capacity(1 << 16, file);
    let gz = {
        use std::io::BufRead;
        file.fill_buf()
            .map_err(io_err(path))?
            .starts_with(&[0x1f, 0x8b])
    };
    let mut input: Box<dyn Read + Send> = if gz {
        Box::new(BufReader::with_capacity(
            1 << 16,
            flate2::read::MultiGzDecoder::new(file),
        ))
    } else {
        Box::new(file)
    };
    let bad = |m: &str| archive_err(path, m);
    let mut magic = [0u8; 4];
    input
        .read_exact(&mut magic)
        .map_err(|_| bad("not an Avro container file (too short)"))?;
    if &magic != b"Obj\x01" {
        return Err(bad("not an Avro container file (no Obj\\x01 magic)"));
    }
    let (mut schema, mut codec) = (None, "null".to_string());
    loop {
        let n = read_long(&mut input)
            .map_err(io_err(path))?
            .ok_or_else(|| bad("truncated header"))?;
        if n == 0 {
            break;
        }
        if n < 0 {
            read_long(&mut input).map_err(io_err(path))?;
        }
        for _ in 0..n.unsigned_abs() {
            let key = read_bytes(&mut input, 1 << 20).map_err(io_err(path))?;
            let value = read_bytes(&mut input, 64 << 20).map_err(io_err(path))?;
            match &key[..] {
                b"avro.schema" => {
                    schema =
                        Some(String::from_utf8(value).map_err(|_| bad("schema is not UTF-8"))?);
                }
                b"avro.codec" => codec = String::from_utf8_lossy(&value).into_owned(),
                _ => {}
            }
        }
    }
    let mut sync = [0u8; 16];
    input.read_exact(&mut sync).map_err(io_err(path))?;
    let schema = schema.ok_or_else(|| bad("no avro.schema in the header"))?;
    let codec = apache_avro::Codec::from_str(&codec)
        .map_err(|_| bad(&format!("unsupported codec {codec:?}")))?;
    Ok((
        Blocks {
            path: path.to_path_buf(),
            input,
            codec,
            sync,
        },
        schema,
    ))
}

/// Two writer schemas describe the same datums.
fn same_schema(a: &str, b: &str) -> bool {
    a == b
        || match (
            apache_avro::Schema::parse_str(a),
            apache_avro::Schema::parse_str(b),
        ) {
            (Ok(a), Ok(b)) => a.canonical_form() == b.canonical_form(),
            _ => false,
        }
}

impl Blocks {
    /// The next block: `(datum count, decompressed bytes)`, `None` at the end.
    fn next(&mut self) -> Result<Option<(u64, Vec<u8>)>, BenchError> {
        let path = self.path.clone();
        let Some(count) = read_long(&mut self.input).map_err(io_err(&path))? else {
            return Ok(None);
        };
        let count = u64::try_from(count).map_err(|_| archive_err(&path, "negative block count"))?;
        let mut data = read_bytes(&mut self.input, MAX_BLOCK).map_err(io_err(&path))?;
        let mut sync = [0u8; 16];
        self.input.read_exact(&mut sync).map_err(io_err(&path))?;
        if sync != self.sync {
            return Err(archive_err(&path, "sync marker mismatch (corrupt block)"));
        }
        self.codec
            .decompress(&mut data)
            .map_err(|e| archive_err(&path, format!("cannot decompress block: {e}")))?;
        Ok(Some((count, data)))
    }
}

impl Archive {
    /// Open `path`: one container file, or every `*.avro` / `*.avro.gz` of a
    /// directory (sorted by name). Files must share one writer schema (a
    /// Kafka message carries none). `survey` overrides the detected one.
    pub(crate) fn open(
        path: &Path,
        survey: Option<Survey>,
        cycle: bool,
    ) -> Result<Self, BenchError> {
        let meta = std::fs::metadata(path).map_err(io_err(path))?;
        let mut files: Vec<PathBuf> = if meta.is_dir() {
            std::fs::read_dir(path)
                .map_err(io_err(path))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    let name = p
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    name.ends_with(".avro") || name.ends_with(".avro.gz")
                })
                .collect()
        } else {
            vec![path.to_path_buf()]
        };
        files.sort();
        let first = files
            .first()
            .ok_or_else(|| archive_err(path, "no .avro or .avro.gz file"))?;
        let (_, schema_json) = open(first)?;
        let name = Plan::compile(&schema_json, &[])
            .map_err(|e| archive_err(first, e.to_string()))?
            .name;
        let survey = match survey.or_else(|| Survey::detect(&name)) {
            Some(s) => s,
            None => {
                return Err(archive_err(
                    first,
                    format!("schema {name:?} is neither ZTF nor LSST: give --survey ztf|lsst"),
                ));
            }
        };
        let ids = survey
            .id_plan(&schema_json)
            .map_err(|e| archive_err(first, e.to_string()))?;
        Ok(Self {
            files,
            schema_json,
            survey,
            ids,
            cycle,
            fresh_ids: false,
            cursor: Mutex::new(Cursor {
                cache: Some(Vec::new()),
                ..Cursor::default()
            }),
        })
    }

    /// The next alert of the stream as `(candid, datum)`, `None` once the
    /// archive is exhausted (never when cycling). Alert `i` of a replay pass
    /// after the first gets the fresh candidate id `CANDID_BASE + i`.
    pub(crate) fn next(&self, i: u64) -> Result<Option<(i64, Vec<u8>)>, BenchError> {
        let mut c = self
            .cursor
            .lock()
            .map_err(|_| BenchError::Panic("archive reader"))?;
        loop {
            if c.left > 0 {
                let at = c.at;
                let path = self.files[c.file.saturating_sub(1)].clone();
                let len = self
                    .ids
                    .skip(&c.block[at..])
                    .map_err(|e| archive_err(&path, e.to_string()))?;
                c.at += len;
                c.left -= 1;
                c.read += 1;
                let datum = c.block[at..at + len].to_vec();
                let bad = |e: BenchError| archive_err(&path, e.to_string());
                let (id, spans) = self.ids.id_spans(&datum).map_err(bad)?;
                if c.pass == 0 {
                    let id =
                        id.ok_or_else(|| archive_err(&path, "an alert has no candidate id"))?;
                    if self.cycle && c.cache.is_some() {
                        c.cached_bytes += datum.len();
                        if c.cached_bytes > CACHE_BYTES {
                            c.cache = None;
                        } else if let Some(cache) = c.cache.as_mut() {
                            cache.push((datum.clone(), spans));
                        }
                    }
                    if !self.fresh_ids {
                        return Ok(Some((id, datum)));
                    }
                }
                let id = CANDID_BASE + i as i64;
                return Ok(Some((id, splice_id(&datum, &spans, id))));
            }
            if c.pass > 0
                && let Some(cache) = c.cache.as_ref().filter(|c| !c.is_empty())
            {
                let (datum, spans) = &cache[(c.read % cache.len() as u64) as usize];
                let id = CANDID_BASE + i as i64;
                let fresh = splice_id(datum, spans, id);
                c.read += 1;
                return Ok(Some((id, fresh)));
            }
            if let Some(blocks) = c.reader.as_mut() {
                match blocks.next()? {
                    Some((count, data)) => {
                        c.block = data;
                        c.at = 0;
                        c.left = count;
                    }
                    None => c.reader = None,
                }
                continue;
            }
            if c.file < self.files.len() {
                let path = &self.files[c.file];
                let (blocks, schema) = open(path)?;
                if !same_schema(&schema, &self.schema_json) {
                    return Err(archive_err(
                        path,
                        "its schema differs from the first file's",
                    ));
                }
                c.reader = Some(blocks);
                c.file += 1;
                continue;
            }
            if !self.cycle || c.read == 0 {
                return Ok(None);
            }
            c.pass += 1;
            c.read = 0;
            c.file = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert_bench::classify::Class;

    /// The shared reference inputs, found beside the repository or through
    /// `CIUX_REFERENCE`.
    pub(crate) fn reference(rel: &str) -> Option<PathBuf> {
        let base = std::env::var_os("CIUX_REFERENCE").map_or_else(
            || Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/reference"),
            PathBuf::from,
        );
        let p = base.join(rel);
        p.exists().then_some(p)
    }

    fn classes(path: &Path) -> Vec<(i64, Class)> {
        let a = Archive::open(path, None, false).unwrap();
        let plan = a.survey.plan(&a.schema_json).unwrap();
        let mut out = Vec::new();
        let mut i = 0;
        while let Some((id, datum)) = a.next(i).unwrap() {
            let e = plan.decode(&datum).unwrap();
            assert_eq!(e.id, Some(id));
            out.push((id, a.survey.classify(&e)));
            i += 1;
        }
        out
    }

    #[test]
    fn reads_a_real_ztf_alert_in_plain_and_gzipped_form() {
        let Some(sample) = reference("ztf_alert_schema_3p3_sample.avro") else {
            eprintln!("reference inputs not present; covered by tests/it/bench.rs");
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        std::fs::copy(&sample, dir.path().join("a.avro")).unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, &std::fs::read(&sample).unwrap()).unwrap();
        std::fs::write(dir.path().join("b.avro.gz"), gz.finish().unwrap()).unwrap();
        let got = classes(dir.path());
        assert_eq!(got.len(), 2);
        assert_eq!(got[0], got[1]);
        assert_eq!(got[0].0, 1_048_197_683_315_015_009);
        // rb 0.91, drb 1.0, nbad 0, fwhm 2.27, elong 1.11, magdiff -0.095;
        // 4.2" from a galaxy-like source (sgscore1 0.02), flat light curve.
        assert_eq!(got[0].1, Class::Unknown);
    }

    /// Every real sample and what its values classify as (docs/bench.md says
    /// why each `unknown` is one).
    pub(crate) const SAMPLES: [(&str, Class); 6] = [
        ("ztf_alert_schema_3p3_sample.avro", Class::Unknown),
        ("ztf/1628364324215010017.avro", Class::Bogus),
        ("ztf/template_schema_ZTF_3p1.avro", Class::Bogus),
        ("ztf/ztf_public_20190903.schema.avro", Class::Bogus),
        ("lsst-v11_0/fakeAlert.avro", Class::Unknown),
        (
            "elasticc/alert_mjd60673.2244_obj1198_src2396011.avro",
            Class::Unknown,
        ),
    ];

    /// fastavro's reading of the fields the rules use, as JSON lines.
    const FASTAVRO_FIELDS: &str = r#"
import fastavro, json, struct, sys
def num(v):
    # The exact bits of the double, not a decimal rendering.
    return None if v is None else struct.pack(">d", float(v)).hex()
for path in sys.argv[1:]:
    for a in fastavro.reader(open(path, "rb")):
        if "candidate" in a:
            c = a["candidate"]
            keys = ["rb", "drb", "nbad", "fwhm", "elong", "magdiff", "ssdistnr", "ssmagnr",
                    "distpsnr1", "sgscore1", "magpsf"]
            nums = [num(c.get(k)) for k in keys]
            hist = [[num(p["jd"]), num(p.get("magpsf"))] for p in (a.get("prv_candidates") or [])]
            cut = [len(a[k]["stampData"]) for k in ["cutoutScience", "cutoutTemplate", "cutoutDifference"] if a.get(k)]
            out = dict(id=a["candid"], nums=nums, text=c["isdiffpos"], hist=hist, cut=cut)
        else:
            s, o = a["diaSource"], a.get("diaObject") or {}
            nums = [num(s.get("reliability")), num(s.get("snr")), num(s.get("psfFlux", s.get("psFlux"))),
                    1.0 if a.get("ssSource") else None, num(s.get("ssObjectId")), num(s.get("pixelFlags")),
                    num(s.get("extendedness")), num(s.get("isDipole"))]
            nums += [num(o.get(b + "_psfFlux" + k)) for b in "gr" for k in ["Mean", "Sigma", "Ndata"]]
            hist = [[num(p.get("midpointMjdTai", p.get("midPointTai"))), num(p.get("psfFlux", p.get("psFlux")))]
                    for p in (a.get("prvDiaSources") or [])]
            cut = [len(a[k]) for k in ["cutoutScience", "cutoutTemplate", "cutoutDifference"] if a.get(k) is not None]
            out = dict(id=a.get("diaSourceId", a.get("alertId")), nums=nums, text=None, hist=hist, cut=cut)
        print(json.dumps(out))
"#;

    /// Differential: each real sample (ZTF 3.1, 3.3, 4.x-era public, LSST
    /// v11, ELAsTiCC) decoded by the plan gives, field for field, what
    /// fastavro reads; and its class is the one documented.
    #[test]
    fn real_samples_decode_as_fastavro_reads_them() {
        let paths: Vec<PathBuf> = SAMPLES.iter().filter_map(|(p, _)| reference(p)).collect();
        if paths.len() != SAMPLES.len() {
            eprintln!("reference inputs not present; covered by tests/it/bench.rs");
            return;
        }
        let out = std::process::Command::new("python3")
            .args(["-c", FASTAVRO_FIELDS])
            .args(&paths)
            .output()
            .expect("python3 with fastavro (.ci/setup/40-kafka.sh)");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let theirs: Vec<serde_json::Value> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(theirs.len(), SAMPLES.len());
        for ((path, (name, class)), want) in paths.iter().zip(SAMPLES).zip(&theirs) {
            let a = Archive::open(path, None, false).unwrap();
            let plan = a.survey.plan(&a.schema_json).unwrap();
            let (id, datum) = a.next(0).unwrap().unwrap();
            assert!(a.next(1).unwrap().is_none(), "{name}: one alert");
            let e = plan.decode(&datum).unwrap();
            assert_eq!(Some(id), want["id"].as_i64(), "{name}");
            assert_eq!(e.id, Some(id), "{name}");
            let bits = |v: &serde_json::Value| {
                v.as_str()
                    .map(|h| f64::from_bits(u64::from_str_radix(h, 16).unwrap()))
            };
            let nums = want["nums"].as_array().unwrap();
            for (slot, v) in nums.iter().enumerate() {
                assert_eq!(e.get(slot), bits(v), "{name}: slot {slot}");
            }
            assert_eq!(e.text[0], want["text"].as_str(), "{name}");
            let hist: Vec<[Option<f64>; 2]> = e
                .hist
                .iter()
                .map(|h| [h[0], h[1]].map(|v| Some(v).filter(|v| !v.is_nan())))
                .collect();
            let want_hist: Vec<[Option<f64>; 2]> = want["hist"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| [bits(&h[0]), bits(&h[1])])
                .collect();
            assert_eq!(hist, want_hist, "{name}");
            let cut: Vec<u64> = e.cutouts[..e.n_cutouts]
                .iter()
                .map(|c| c.len() as u64)
                .collect();
            let want_cut: Vec<u64> = serde_json::from_value(want["cut"].clone()).unwrap();
            assert_eq!(cut, want_cut, "{name}");
            assert_eq!(a.survey.classify(&e), class, "{name}");
        }
    }

    #[test]
    fn cycles_with_fresh_ids() {
        let Some(sample) = reference("ztf_alert_schema_3p3_sample.avro") else {
            return;
        };
        let a = Archive::open(&sample, None, true).unwrap();
        let plan = a.survey.plan(&a.schema_json).unwrap();
        let (id0, d0) = a.next(0).unwrap().unwrap();
        let (id1, d1) = a.next(1).unwrap().unwrap();
        assert_eq!(id0, 1_048_197_683_315_015_009);
        assert_eq!(id1, CANDID_BASE + 1);
        let (e0, e1) = (plan.decode(&d0).unwrap(), plan.decode(&d1).unwrap());
        assert_eq!(e1.id, Some(id1));
        assert_eq!(
            e0.num.map(f64::to_bits),
            e1.num.map(f64::to_bits),
            "only the ids change"
        );
        assert_eq!(e0.cutouts, e1.cutouts);
    }

    #[test]
    fn an_empty_directory_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let err = Archive::open(dir.path(), None, false)
            .unwrap_err()
            .to_string();
        assert!(err.contains(&dir.path().display().to_string()), "{err}");
    }
}
