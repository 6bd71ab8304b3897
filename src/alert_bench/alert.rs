//! The alert record: our Avro schema (modelled on ZTF's 3.3 schema, same field
//! names so real ZTF archives map onto it) and its encoder. Decoding goes
//! through the decoder plan compiled from [`SCHEMA_JSON`], as for any real
//! schema (`plan`, `survey`).

use super::avro::Writer;

/// Version string written in `schemavsn`.
pub(crate) const SCHEMA_VERSION: &str = "ciux-bench-1";

/// The Avro schema of generated alerts (documented in docs/bench.md).
pub(crate) const SCHEMA_JSON: &str = r#"{
  "type": "record", "name": "Alert", "namespace": "ciux.bench",
  "doc": "A synthetic astronomical alert, field names as in ZTF alert schema 3.3",
  "fields": [
    {"name": "schemavsn", "type": "string"},
    {"name": "publisher", "type": "string"},
    {"name": "objectId", "type": "string"},
    {"name": "candid", "type": "long"},
    {"name": "candidate", "type": {"type": "record", "name": "Candidate", "fields": [
      {"name": "jd", "type": "double", "doc": "Observation Julian date [days]"},
      {"name": "fid", "type": "int", "doc": "Filter: 1=g, 2=r, 3=i"},
      {"name": "pid", "type": "long"},
      {"name": "candid", "type": "long"},
      {"name": "isdiffpos", "type": "string", "doc": "t: positive subtraction, f: negative"},
      {"name": "ra", "type": "double"},
      {"name": "dec", "type": "double"},
      {"name": "magpsf", "type": "float"},
      {"name": "sigmapsf", "type": "float"},
      {"name": "diffmaglim", "type": "float"},
      {"name": "magdiff", "type": "float", "doc": "magap - magpsf"},
      {"name": "fwhm", "type": "float"},
      {"name": "elong", "type": "float"},
      {"name": "nbad", "type": "int"},
      {"name": "rb", "type": "float", "doc": "real/bogus score, 1 = real"},
      {"name": "drb", "type": "float"},
      {"name": "ssdistnr", "type": ["null", "float"], "default": null, "doc": "distance to nearest known solar-system object [arcsec]"},
      {"name": "ssmagnr", "type": ["null", "float"], "default": null},
      {"name": "ssnamenr", "type": ["null", "string"], "default": null},
      {"name": "distpsnr1", "type": "float", "doc": "distance to nearest catalogue source [arcsec]"},
      {"name": "sgscore1", "type": "float", "doc": "star/galaxy score of that source, 1 = star"},
      {"name": "ndethist", "type": "int"}
    ]}},
    {"name": "prv_candidates", "type": {"type": "array", "items": {"type": "record", "name": "PrvCandidate", "fields": [
      {"name": "jd", "type": "double"},
      {"name": "fid", "type": "int"},
      {"name": "magpsf", "type": ["null", "float"], "default": null, "doc": "null: non-detection"},
      {"name": "sigmapsf", "type": ["null", "float"], "default": null},
      {"name": "diffmaglim", "type": "float"}
    ]}}},
    {"name": "cutoutScience", "type": {"type": "record", "name": "Cutout", "fields": [
      {"name": "fileName", "type": "string"},
      {"name": "stampData", "type": "bytes", "doc": "gzipped FITS image"}
    ]}},
    {"name": "cutoutTemplate", "type": "Cutout"},
    {"name": "cutoutDifference", "type": "Cutout"}
  ]
}"#;

/// One alert. Cutout stamps are borrowed (from the generator's pool, or from
/// the encoded message when decoding) so that nothing copies ~40 KB per alert.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert<'a> {
    pub(crate) object_id: String,
    pub(crate) candid: i64,
    pub(crate) candidate: Candidate,
    pub(crate) prv_candidates: Vec<PrvCandidate>,
    /// Science, template and difference cutouts.
    pub(crate) cutouts: [Cutout<'a>; 3],
}

#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Candidate {
    pub(crate) jd: f64,
    pub(crate) fid: i32,
    pub(crate) pid: i64,
    pub(crate) isdiffpos: String,
    pub(crate) ra: f64,
    pub(crate) dec: f64,
    pub(crate) magpsf: f32,
    pub(crate) sigmapsf: f32,
    pub(crate) diffmaglim: f32,
    pub(crate) magdiff: f32,
    pub(crate) fwhm: f32,
    pub(crate) elong: f32,
    pub(crate) nbad: i32,
    pub(crate) rb: f32,
    pub(crate) drb: f32,
    pub(crate) ssdistnr: Option<f32>,
    pub(crate) ssmagnr: Option<f32>,
    pub(crate) ssnamenr: Option<String>,
    pub(crate) distpsnr1: f32,
    pub(crate) sgscore1: f32,
    pub(crate) ndethist: i32,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct PrvCandidate {
    pub(crate) jd: f64,
    pub(crate) fid: i32,
    pub(crate) magpsf: Option<f32>,
    pub(crate) sigmapsf: Option<f32>,
    pub(crate) diffmaglim: f32,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Cutout<'a> {
    pub(crate) file_name: String,
    pub(crate) stamp: &'a [u8],
}

impl Alert<'_> {
    /// The schemaless Avro datum of this alert (what a Kafka message carries).
    pub(crate) fn encode(&self) -> Vec<u8> {
        let stamps: usize = self.cutouts.iter().map(|c| c.stamp.len()).sum();
        let mut w = Writer::with_capacity(stamps + 512 + 40 * self.prv_candidates.len());
        w.string(SCHEMA_VERSION);
        w.string("ciux bench");
        w.string(&self.object_id);
        w.long(self.candid);
        let c = &self.candidate;
        w.double(c.jd);
        w.long(c.fid.into());
        w.long(c.pid);
        w.long(self.candid);
        w.string(&c.isdiffpos);
        w.double(c.ra);
        w.double(c.dec);
        for v in [
            c.magpsf,
            c.sigmapsf,
            c.diffmaglim,
            c.magdiff,
            c.fwhm,
            c.elong,
        ] {
            w.float(v);
        }
        w.long(c.nbad.into());
        w.float(c.rb);
        w.float(c.drb);
        w.optional(c.ssdistnr, Writer::float);
        w.optional(c.ssmagnr, Writer::float);
        w.optional(c.ssnamenr.as_deref(), Writer::string);
        w.float(c.distpsnr1);
        w.float(c.sgscore1);
        w.long(c.ndethist.into());
        if !self.prv_candidates.is_empty() {
            w.long(self.prv_candidates.len() as i64);
            for p in &self.prv_candidates {
                w.double(p.jd);
                w.long(p.fid.into());
                w.optional(p.magpsf, Writer::float);
                w.optional(p.sigmapsf, Writer::float);
                w.float(p.diffmaglim);
            }
        }
        w.long(0);
        for cut in &self.cutouts {
            w.string(&cut.file_name);
            w.bytes(cut.stamp);
        }
        w.buf
    }
}

#[cfg(test)]
mod tests {
    use apache_avro::Schema;
    use apache_avro::reader::datum::GenericDatumReader;
    use apache_avro::writer::datum::GenericDatumWriter;

    use super::super::classify::classify;
    use super::super::generator::{Generator, Mix};
    use super::super::survey::Survey;
    use super::*;

    /// Differential: our bytes decode with apache-avro under the published
    /// schema, and apache-avro re-encodes them to the very same bytes; our
    /// decoder gives back the alert we encoded.
    #[test]
    fn round_trip_against_apache_avro() {
        let schema = Schema::parse_str(SCHEMA_JSON).unwrap();
        let reader = GenericDatumReader::builder(&schema).build().unwrap();
        let writer = GenericDatumWriter::builder(&schema).build().unwrap();
        let plan = Survey::Synthetic.plan(SCHEMA_JSON).unwrap();
        let g = Generator::new(5, Mix::default());
        for i in 0..300 {
            let (alert, _) = g.alert(i);
            let ours = alert.encode();
            let value = reader.read_value(&mut &ours[..]).unwrap();
            let mut theirs = Vec::new();
            writer.write_value_ref(&mut theirs, &value).unwrap();
            assert!(
                theirs == ours,
                "alert {i}: apache-avro re-encodes differently"
            );
            let e = plan.decode(&ours).unwrap();
            assert_eq!(e.id, Some(alert.candid), "alert {i}");
            assert_eq!(e.text[0], Some(alert.candidate.isdiffpos.as_str()));
            assert_eq!(e.get(0), Some(f64::from(alert.candidate.rb)));
            assert_eq!(e.get(6), alert.candidate.ssdistnr.map(f64::from));
            assert_eq!(e.hist.len(), alert.prv_candidates.len());
            let stamps: Vec<&[u8]> = alert.cutouts.iter().map(|c| c.stamp).collect();
            assert_eq!(&e.cutouts[..e.n_cutouts], &stamps[..]);
            assert_eq!(
                Survey::Synthetic.classify(&e),
                classify(&alert),
                "alert {i}"
            );
        }
    }

    #[test]
    fn corrupt_or_foreign_datums_are_errors() {
        let plan = Survey::Synthetic.plan(SCHEMA_JSON).unwrap();
        let g = Generator::new(5, Mix::default());
        let bytes = g.alert(0).0.encode();
        assert!(plan.decode(&bytes[..bytes.len() - 1]).is_err());
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(plan.decode(&longer).is_err());
        assert!(plan.decode(b"\x08ztf!").is_err());
    }

    #[test]
    fn same_seed_same_bytes() {
        let (a, b) = (
            Generator::new(9, Mix::default()),
            Generator::new(9, Mix::default()),
        );
        for i in [0, 1, 999, 123_456] {
            assert!(a.alert(i).0.encode() == b.alert(i).0.encode(), "alert {i}");
        }
        assert!(a.alert(0).0.encode() != Generator::new(10, Mix::default()).alert(0).0.encode());
    }
}
