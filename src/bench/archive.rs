//! Real alert archives (`--from DIR`): Avro object container files, plain or
//! gzipped, each with its embedded writer schema. Alerts are loaded once and
//! replayed as schemaless datums of that schema; consumers decode them
//! generically and map the ZTF field names onto [`Alert`].

use std::io::Read;
use std::path::{Path, PathBuf};

use apache_avro::Schema;
use apache_avro::reader::datum::GenericDatumReader;
use apache_avro::types::Value;
use apache_avro::writer::datum::GenericDatumWriter;

use super::BenchError;
use super::alert::{Alert, Candidate, PrvCandidate};

/// Every alert of a directory of container files, re-encoded as datums.
#[derive(Debug)]
pub(crate) struct Archive {
    pub(crate) schema: Schema,
    /// (candid, datum) in file-name order, then file order.
    pub(crate) alerts: Vec<(i64, Vec<u8>)>,
}

impl Archive {
    /// Load `*.avro` and `*.avro.gz` files of `dir` (sorted by name). All files
    /// must share one writer schema: a Kafka message carries no schema.
    pub(crate) fn load(dir: &Path) -> Result<Self, BenchError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| BenchError::Io { path, source }
        };
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(io(dir))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                let name = p
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                name.ends_with(".avro") || name.ends_with(".avro.gz")
            })
            .collect();
        files.sort();
        if files.is_empty() {
            return Err(BenchError::Archive {
                path: dir.to_path_buf(),
                message: "no .avro or .avro.gz file".into(),
            });
        }
        let mut schema: Option<Schema> = None;
        let mut alerts = Vec::new();
        for path in &files {
            let bad = |message: String| BenchError::Archive {
                path: path.clone(),
                message,
            };
            let raw = std::fs::read(path).map_err(io(path))?;
            let data = if raw.starts_with(&[0x1f, 0x8b]) {
                let mut out = Vec::new();
                flate2::read::MultiGzDecoder::new(&raw[..])
                    .read_to_end(&mut out)
                    .map_err(io(path))?;
                out
            } else {
                raw
            };
            let reader = apache_avro::Reader::new(&data[..]).map_err(|e| bad(e.to_string()))?;
            let writer_schema = reader.writer_schema().clone();
            match &schema {
                Some(s) if s.canonical_form() != writer_schema.canonical_form() => {
                    return Err(bad("its schema differs from the first file's".into()));
                }
                Some(_) => {}
                None => schema = Some(writer_schema.clone()),
            }
            let writer = GenericDatumWriter::builder(&writer_schema)
                .build()
                .map_err(|e| bad(e.to_string()))?;
            for value in reader {
                let value = value.map_err(|e| bad(e.to_string()))?;
                let candid = to_alert(&value).map_err(|e| bad(e.to_string()))?.candid;
                let mut buf = Vec::new();
                writer
                    .write_value_ref(&mut buf, &value)
                    .map_err(|e| bad(e.to_string()))?;
                alerts.push((candid, buf));
            }
        }
        let schema = schema.ok_or_else(|| BenchError::Archive {
            path: dir.to_path_buf(),
            message: "no schema".into(),
        })?;
        Ok(Self { schema, alerts })
    }
}

/// Decode one datum of `schema` and map it onto [`Alert`] (stamps left empty:
/// classification does not read them).
pub(crate) fn decode_generic(
    schema: &Schema,
    payload: &[u8],
) -> Result<Alert<'static>, BenchError> {
    let reader = GenericDatumReader::builder(schema)
        .build()
        .map_err(|e| BenchError::Decode(e.to_string()))?;
    let value = reader
        .read_value(&mut &payload[..])
        .map_err(|e| BenchError::Decode(e.to_string()))?;
    to_alert(&value)
}

fn field<'v>(v: &'v Value, name: &str) -> Option<&'v Value> {
    let v = match v {
        Value::Union(_, inner) => inner,
        v => v,
    };
    match v {
        Value::Record(fields) => fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| match v {
                Value::Union(_, inner) => &**inner,
                v => v,
            }),
        _ => None,
    }
}

fn num(v: &Value, name: &str) -> Option<f64> {
    match field(v, name)? {
        Value::Int(i) => Some(f64::from(*i)),
        Value::Long(i) => Some(*i as f64),
        Value::Float(f) => Some(f64::from(*f)),
        Value::Double(f) => Some(*f),
        _ => None,
    }
}

fn text(v: &Value, name: &str) -> Option<String> {
    match field(v, name)? {
        Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

/// Map a ZTF-style record onto [`Alert`]; missing optional fields take values
/// that fail no rule by accident (ZTF writes -999 for "none").
fn to_alert(v: &Value) -> Result<Alert<'static>, BenchError> {
    let c =
        field(v, "candidate").ok_or_else(|| BenchError::Decode("no `candidate` record".into()))?;
    let candid = match field(v, "candid").or_else(|| field(c, "candid")) {
        Some(Value::Long(i)) => *i,
        Some(Value::Int(i)) => i64::from(*i),
        _ => return Err(BenchError::Decode("no `candid` long".into())),
    };
    let f = |name: &str, default: f64| num(c, name).unwrap_or(default) as f32;
    let positive = |name: &str| num(c, name).filter(|x| *x >= 0.0).map(|x| x as f32);
    let candidate = Candidate {
        jd: num(c, "jd").unwrap_or(0.0),
        fid: num(c, "fid").unwrap_or(0.0) as i32,
        pid: num(c, "pid").unwrap_or(0.0) as i64,
        isdiffpos: text(c, "isdiffpos").unwrap_or_default(),
        ra: num(c, "ra").unwrap_or(0.0),
        dec: num(c, "dec").unwrap_or(0.0),
        magpsf: f("magpsf", 99.0),
        sigmapsf: f("sigmapsf", 0.0),
        diffmaglim: f("diffmaglim", 0.0),
        magdiff: f("magdiff", 0.0),
        fwhm: f("fwhm", 0.0),
        elong: f("elong", 1.0),
        nbad: num(c, "nbad").unwrap_or(0.0) as i32,
        rb: f("rb", 0.0),
        drb: f("drb", 0.0),
        ssdistnr: positive("ssdistnr"),
        ssmagnr: positive("ssmagnr"),
        ssnamenr: text(c, "ssnamenr").filter(|s| s != "null"),
        distpsnr1: f("distpsnr1", -999.0),
        sgscore1: f("sgscore1", 0.0),
        ndethist: num(c, "ndethist").unwrap_or(0.0) as i32,
    };
    let prv_candidates = match field(v, "prv_candidates") {
        Some(Value::Array(items)) => items
            .iter()
            .map(|p| PrvCandidate {
                jd: num(p, "jd").unwrap_or(0.0),
                fid: num(p, "fid").unwrap_or(0.0) as i32,
                magpsf: num(p, "magpsf").map(|m| m as f32),
                sigmapsf: num(p, "sigmapsf").map(|m| m as f32),
                diffmaglim: num(p, "diffmaglim").unwrap_or(0.0) as f32,
            })
            .collect(),
        _ => Vec::new(),
    };
    Ok(Alert {
        object_id: text(v, "objectId").unwrap_or_default(),
        candid,
        candidate,
        prv_candidates,
        cutouts: Default::default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::classify::{Class, classify};

    /// The real ZTF alert of the shared reference inputs, when present.
    fn ztf_sample() -> Option<PathBuf> {
        let p = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../shared/reference/ztf_alert_schema_3p3_sample.avro");
        p.exists().then_some(p)
    }

    #[test]
    fn reads_a_real_ztf_alert_in_plain_and_gzipped_form() {
        let Some(sample) = ztf_sample() else {
            eprintln!(
                "reference ZTF alert not present beside the repository; covered by tests/it/bench.rs"
            );
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        std::fs::copy(&sample, dir.path().join("a.avro")).unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, &std::fs::read(&sample).unwrap()).unwrap();
        std::fs::write(dir.path().join("b.avro.gz"), gz.finish().unwrap()).unwrap();
        let archive = Archive::load(dir.path()).unwrap();
        assert_eq!(archive.alerts.len(), 2);
        let (candid, datum) = &archive.alerts[0];
        assert!(
            (40_000..60_000).contains(&datum.len()),
            "schemaless ZTF alert: {}",
            datum.len()
        );
        let alert = decode_generic(&archive.schema, datum).unwrap();
        assert_eq!(alert.candid, *candid);
        assert_eq!(alert.prv_candidates.len(), 20);
        assert_eq!(
            alert.candidate.ssdistnr, None,
            "-999 means no solar-system object"
        );
        // rb 0.91, nbad 0, fwhm 2.27, elong 1.11, magdiff -0.095; 4.2" from a galaxy-like source.
        assert_eq!(classify(&alert), Class::Unknown);
    }

    #[test]
    fn an_empty_directory_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let err = Archive::load(dir.path()).unwrap_err().to_string();
        assert!(err.contains(&dir.path().display().to_string()), "{err}");
    }
}
