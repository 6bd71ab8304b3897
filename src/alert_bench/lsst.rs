//! Generated alerts of the LSST alert schema v11 (`lsst.v11_0.alert`).
//!
//! The writer schema is carried in the source ([`LSST_SCHEMA_JSON`], the
//! public schema without its doc strings: the same Avro canonical form, tested
//! against the reference schema) because a run must not depend on files
//! outside the binary. The encoder is compiled once from that schema as
//! apache-avro parses it: each field gets a value source from its path (the fields the
//! LSST rules read, identifiers, times, the light curve) or a generic value of
//! its Avro type. Packets are therefore valid for the schema by construction,
//! and alert `i` of seed `s` is a pure function of `(s, i)`, as for the
//! synthetic generator. Each alert is drawn as one class of the `--mix`, with
//! values the LSST rules of [`super::classify`] classify as drawn.

use std::collections::HashMap;

use apache_avro::Schema;

use super::BenchError;
use super::avro::Writer;
use super::classify::Class;
use super::generator::{CANDID_BASE, Mix, stamp};
use super::rng::Rng;

/// The LSST alert schema v11.0 as one JSON document (names, types and
/// defaults of the public schema; the doc strings are left out).
pub(crate) const LSST_SCHEMA_JSON: &str = include_str!("lsst_v11_0.avsc");

/// First observation of the stream: MJD 61041 (2026-01-01).
const MJD0: f64 = 61_041.0;
/// Stamps per cutout kind in the pre-generated pool.
const POOL: usize = 8;
/// LSST's filters, in the order of the diaObject's per-band fields.
const BANDS: [&str; 6] = ["u", "g", "r", "i", "z", "y"];
/// Share of generic nullable fields that carry a value.
const FILL: f64 = 0.9;
/// Longest light-curve history generated (prvDiaSources).
pub(crate) const MAX_HISTORY: usize = 30;
/// Longest forced-photometry history generated (prvDiaForcedSources).
pub(crate) const MAX_FORCED: usize = 12;

/// Where a field's value comes from.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Src {
    /// A value of the field's type, unrelated to the rules.
    Generic,
    Null,
    Id,
    DiaObjectId,
    SsObjectId,
    Mjd,
    ProcessedMjd,
    Ra,
    Dec,
    Band,
    Flux,
    FluxErr,
    Snr,
    Reliability,
    Extendedness,
    PixelFlags,
    IsDipole,
    Visit,
    /// diaObject per-band statistics: band index, then which.
    BandMean(usize),
    BandSigma(usize),
    BandNdata(usize),
    NDiaSources,
    FirstMjd,
    LastMjd,
    /// History rows (inside `prvDiaSources[]` / `prvDiaForcedSources[]`).
    RowId,
    RowMjd,
    RowFlux,
    RowFluxErr,
    RowBand,
    /// Optional records and arrays: present or not.
    DiaObject,
    SsSource,
    Mpc,
    Prv,
    Forced,
    Cutout(usize),
    /// A `timestamp-micros` long: a date of the stream's year.
    TimestampMicros,
}

/// Avro primitive types.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Prim {
    Null,
    Bool,
    Int,
    Long,
    Float,
    Double,
    Str,
    Bytes,
}

#[derive(Debug, Clone)]
enum Enc {
    Leaf(Prim, Src),
    /// A union with a null branch: `null` is the index of that branch, `value`
    /// the index of the other one.
    Nullable {
        null: i64,
        value: i64,
        inner: Box<Enc>,
        src: Src,
    },
    Record(Vec<Enc>),
    Array(Box<Enc>, Src),
}

fn bad(msg: impl Into<String>) -> BenchError {
    BenchError::Decode(format!("LSST schema: {}", msg.into()))
}

fn src_of(path: &str) -> Src {
    let (row, leaf) = match path.split_once("[].") {
        Some((_, leaf)) => (true, leaf),
        None => (false, path),
    };
    if row {
        return match leaf {
            "diaSourceId" | "diaForcedSourceId" => Src::RowId,
            "midpointMjdTai" => Src::RowMjd,
            "psfFlux" => Src::RowFlux,
            "psfFluxErr" => Src::RowFluxErr,
            "band" => Src::RowBand,
            "ra" => Src::Ra,
            "dec" => Src::Dec,
            "diaObjectId" => Src::DiaObjectId,
            "ssObjectId" | "parentDiaSourceId" | "timeWithdrawnMjdTai" => Src::Null,
            "pixelFlags" | "isDipole" => Src::Generic,
            "reliability" => Src::Reliability,
            _ => Src::Generic,
        };
    }
    if let Some(f) = path.strip_prefix("diaObject.") {
        if let Some((b, stat)) = f.split_once('_')
            && let Some(bi) = BANDS.iter().position(|x| *x == b)
        {
            match stat {
                "psfFluxMean" => return Src::BandMean(bi),
                "psfFluxSigma" => return Src::BandSigma(bi),
                "psfFluxNdata" => return Src::BandNdata(bi),
                _ => {}
            }
        }
        return match f {
            "diaObjectId" => Src::DiaObjectId,
            "ra" => Src::Ra,
            "dec" => Src::Dec,
            "validityStartMjdTai" => Src::Mjd,
            "nDiaSources" => Src::NDiaSources,
            "firstDiaSourceMjdTai" => Src::FirstMjd,
            "lastDiaSourceMjdTai" => Src::LastMjd,
            _ => Src::Generic,
        };
    }
    match path {
        "diaSourceId" | "diaSource.diaSourceId" | "ssSource.diaSourceId" => Src::Id,
        "diaSource.diaObjectId" => Src::DiaObjectId,
        "diaSource.ssObjectId" | "ssSource.ssObjectId" => Src::SsObjectId,
        "diaSource.parentDiaSourceId" | "diaSource.timeWithdrawnMjdTai" => Src::Null,
        "diaSource.midpointMjdTai" => Src::Mjd,
        "diaSource.timeProcessedMjdTai" => Src::ProcessedMjd,
        "diaSource.ra" => Src::Ra,
        "diaSource.dec" => Src::Dec,
        "diaSource.band" => Src::Band,
        "diaSource.psfFlux" => Src::Flux,
        "diaSource.psfFluxErr" => Src::FluxErr,
        "diaSource.snr" => Src::Snr,
        "diaSource.reliability" => Src::Reliability,
        "diaSource.extendedness" => Src::Extendedness,
        "diaSource.pixelFlags" => Src::PixelFlags,
        "diaSource.isDipole" => Src::IsDipole,
        "diaSource.visit" => Src::Visit,
        "diaObject" => Src::DiaObject,
        "ssSource" => Src::SsSource,
        "mpc_orbits" => Src::Mpc,
        "prvDiaSources" => Src::Prv,
        "prvDiaForcedSources" => Src::Forced,
        "cutoutScience" => Src::Cutout(0),
        "cutoutTemplate" => Src::Cutout(1),
        "cutoutDifference" => Src::Cutout(2),
        _ => Src::Generic,
    }
}

/// Compiles the schema, as apache-avro parses it, into an encoder tree.
#[derive(Default)]
struct Compiler {
    /// Named types met so far, by full name (for references to them).
    named: HashMap<String, Schema>,
}

impl Compiler {
    fn node(&mut self, s: &Schema, path: &str, depth: usize) -> Result<Enc, BenchError> {
        if depth > 32 {
            return Err(bad("nested deeper than 32 levels"));
        }
        let leaf = |prim| Ok(Enc::Leaf(prim, src_of(path)));
        match s {
            Schema::Null => leaf(Prim::Null),
            Schema::Boolean => leaf(Prim::Bool),
            Schema::Int => leaf(Prim::Int),
            Schema::Long => leaf(Prim::Long),
            Schema::Float => leaf(Prim::Float),
            Schema::Double => leaf(Prim::Double),
            Schema::String => leaf(Prim::Str),
            Schema::Bytes => leaf(Prim::Bytes),
            Schema::TimestampMicros => Ok(Enc::Leaf(Prim::Long, Src::TimestampMicros)),
            Schema::Union(union) => {
                let branches = union.variants();
                let null = branches.iter().position(|b| *b == Schema::Null);
                match (null, branches.len()) {
                    (Some(null), 2) => {
                        let value = 1 - null;
                        let inner = self.node(&branches[value], path, depth + 1)?;
                        Ok(Enc::Nullable {
                            null: null as i64,
                            value: value as i64,
                            inner: Box::new(inner),
                            src: src_of(path),
                        })
                    }
                    _ => Err(bad(format!("union at {path:?} is not [null, T]"))),
                }
            }
            Schema::Record(record) => {
                self.named.insert(record.name.fullname(None), s.clone());
                let fields = record
                    .fields
                    .iter()
                    .map(|f| {
                        let fpath = if path.is_empty() {
                            f.name.clone()
                        } else {
                            format!("{path}.{}", f.name)
                        };
                        self.node(&f.schema, &fpath, depth + 1)
                    })
                    .collect::<Result<_, _>>()?;
                Ok(Enc::Record(fields))
            }
            Schema::Array(array) => {
                let item = self.node(&array.items, &format!("{path}[]"), depth + 1)?;
                Ok(Enc::Array(Box::new(item), src_of(path)))
            }
            Schema::Ref { name } => {
                let full = name.fullname(None);
                let def = self
                    .named
                    .get(&full)
                    .cloned()
                    .ok_or_else(|| bad(format!("unknown type {full:?} at {path:?}")))?;
                self.node(&def, path, depth + 1)
            }
            other => Err(bad(format!("unexpected schema at {path:?}: {other:?}"))),
        }
    }
}

/// One point of a light curve.
#[derive(Debug, Clone, Copy)]
struct Row {
    id: i64,
    mjd: f64,
    flux: f64,
    flux_err: f64,
}

/// What one alert is made of: the values its fields take.
#[derive(Debug)]
struct Scene {
    id: i64,
    dia_object_id: Option<i64>,
    ss_object_id: Option<i64>,
    mjd: f64,
    ra: f64,
    dec: f64,
    band: usize,
    flux: f64,
    snr: f64,
    reliability: f64,
    extendedness: f64,
    pixel_flags: bool,
    is_dipole: bool,
    visit: i64,
    /// `(mean, sigma, ndata)` of the diaObject's PSF flux per band.
    stats: [(f64, f64, i64); 6],
    prv: Option<Vec<Row>>,
    forced: Option<Vec<Row>>,
    dia_object: bool,
    ss_source: bool,
    mpc: bool,
    cutouts: [usize; 3],
}

/// A value for one field.
enum Val<'a> {
    Null,
    Bool(bool),
    Long(i64),
    Num(f64),
    Str(&'a str),
    Bytes(&'a [u8]),
}

/// Generic strings (designations, scheduler notes): short, as real ones.
const WORDS: [&str; 4] = ["2026 AB12", "wfd", "ddf_cosmos", "K26A12B"];

/// Generates `lsst.v11_0.alert` packets of one seed.
#[derive(Debug)]
pub(crate) struct LsstGenerator {
    seed: u64,
    mix: Mix,
    root: Enc,
    /// `pool[kind][k]`: kind 0 science, 1 template, 2 difference.
    pool: [Vec<Vec<u8>>; 3],
}

impl LsstGenerator {
    pub(crate) fn new(seed: u64, mix: Mix) -> Result<Self, BenchError> {
        let schema = Schema::parse_str(LSST_SCHEMA_JSON).map_err(|e| bad(e.to_string()))?;
        let root = Compiler::default().node(&schema, "", 0)?;
        let mut rng = Rng::new(seed, u64::MAX - 1);
        // Rubin's cutouts are at least 30×30 pixels, larger for large sources.
        let pool = [0, 1, 2].map(|kind| {
            (0..POOL)
                .map(|_| {
                    let side = rng.int(30, 60) as usize;
                    stamp(&mut rng, kind, side)
                })
                .collect()
        });
        Ok(Self {
            seed,
            mix,
            root,
            pool,
        })
    }

    /// The encoded datum of alert `i` and the class it was drawn as.
    pub(crate) fn alert(&self, i: u64) -> (i64, Vec<u8>, Class) {
        let mut r = Rng::new(self.seed, i);
        let (scene, class) = self.scene(&mut r, i);
        let rows =
            scene.prv.as_ref().map_or(0, Vec::len) + scene.forced.as_ref().map_or(0, Vec::len);
        let mut w = Writer::with_capacity(2_000 + 700 * rows + 30_000);
        self.encode(&self.root, &scene, &mut r, &mut w, None);
        (scene.id, w.buf, class)
    }

    fn scene(&self, r: &mut Rng, i: u64) -> (Scene, Class) {
        let class = self.mix.draw(r.unit());
        let id = CANDID_BASE + i as i64;
        let mag = match class {
            Class::VariableStar => r.range(16.0, 22.0),
            _ => r.range(18.0, 24.0),
        };
        // AB magnitude to nJy.
        let flux = 10f64.powf((31.4 - mag) / 2.5);
        let band = [1, 2, 2, 3, 3, 4, 0, 5][r.int(0, 7) as usize];
        let mjd = MJD0 + i as f64 * 1.2e-6;
        let mut s = Scene {
            id,
            dia_object_id: Some(id / 16 + 1_000_000_000_000_000),
            ss_object_id: None,
            mjd,
            ra: r.range(0.0, 360.0),
            dec: r.range(-1.0, 0.5).asin().to_degrees(),
            band,
            flux,
            snr: r.range(5.5, 300.0),
            reliability: 1.0 - 0.45 * r.unit().powi(2),
            extendedness: r.unit(),
            pixel_flags: false,
            is_dipole: false,
            visit: 2_026_010_100_000 + (i / 10_000) as i64,
            stats: [(0.0, 0.0, 0); 6],
            prv: None,
            forced: None,
            dia_object: true,
            ss_source: false,
            mpc: false,
            cutouts: [0, 1, 2].map(|_| r.int(0, POOL as i64 - 1) as usize),
        };
        let history = |r: &mut Rng, n: usize, shape: &dyn Fn(f64) -> f64| -> Vec<Row> {
            (0..n)
                .map(|k| {
                    let days = (n - k) as f64 * 3.0;
                    let f = flux * shape(days) * (1.0 + r.gauss(0.0, 0.02));
                    Row {
                        id: id - 1 - (n - k) as i64 * 7,
                        mjd: mjd - days + r.range(-0.2, 0.2),
                        flux: f,
                        flux_err: f.abs() / r.range(5.5, 100.0),
                    }
                })
                .collect()
        };
        let flat = |_: f64| 1.0;
        match class {
            Class::Bogus => {
                match r.int(0, 3) {
                    0 => s.reliability = r.range(0.0, 0.5),
                    1 => s.snr = r.range(3.0, 5.0),
                    2 => s.pixel_flags = true,
                    _ => s.is_dipole = true,
                }
                let n = r.int(0, MAX_HISTORY as i64) as usize;
                s.prv = Some(history(r, n, &flat));
            }
            Class::SolarSystem => {
                // A solar-system source is associated with an ssObject, not a
                // diaObject: no diaObject, no light-curve history.
                s.ss_object_id = Some(r.int(1, 1 << 40));
                s.dia_object_id = None;
                s.dia_object = false;
                s.ss_source = true;
                s.mpc = r.unit() < 0.5;
            }
            Class::VariableStar => {
                s.extendedness = r.range(0.0, 0.5);
                let (amp, period, phase) = (r.range(0.3, 0.9), r.range(0.3, 30.0), r.unit());
                let n = r.int(3, MAX_HISTORY as i64) as usize;
                s.prv = Some(history(r, n, &|t| {
                    1.0 + amp * (std::f64::consts::TAU * (t / period + phase)).sin()
                }));
            }
            Class::Transient => {
                // In a galaxy: extended, so never a variable star.
                s.extendedness = r.range(0.6, 1.0);
                let rise = r.range(0.8, 3.0);
                let n = r.int(2, MAX_HISTORY as i64) as usize;
                let span = n as f64 * 3.0;
                let mut h = history(r, n, &|t| 10f64.powf(-0.4 * rise * t / span));
                if let Some(first) = h.first_mut() {
                    first.flux = flux * 10f64.powf(-0.4 * rise);
                }
                s.prv = Some(h);
            }
            Class::Unknown => {
                let n = r.int(0, MAX_HISTORY as i64) as usize;
                s.prv = Some(history(r, n, &flat));
            }
        }
        if s.dia_object {
            let n_forced = r.int(0, MAX_FORCED as i64) as usize;
            s.forced = (r.unit() < 0.5).then(|| history(r, n_forced, &flat));
        }
        let n_prv = s.prv.as_ref().map_or(0, Vec::len) as i64;
        for (b, stat) in s.stats.iter_mut().enumerate() {
            let ndata = if b == s.band { n_prv + 1 } else { r.int(0, 20) };
            let mean = flux * r.range(0.5, 1.5);
            // Variable stars vary by more than 20% in g or r; others less.
            let ratio = if class == Class::VariableStar && (b == 1 || b == 2) {
                r.range(0.3, 1.0)
            } else {
                r.range(0.01, 0.15)
            };
            *stat = (
                mean,
                mean * ratio,
                ndata.max(if b == 1 || b == 2 { 3 } else { 0 }),
            );
        }
        (s, class)
    }

    fn val<'a>(
        &'a self,
        src: Src,
        prim: Prim,
        s: &Scene,
        r: &mut Rng,
        row: Option<&Row>,
    ) -> Val<'a> {
        let num = Val::Num;
        match src {
            Src::Generic => match prim {
                Prim::Null => Val::Null,
                Prim::Bool => Val::Bool(false),
                Prim::Int => Val::Long(r.int(0, 60)),
                Prim::Long => Val::Long((r.next_u64() >> 6) as i64),
                Prim::Float => num(r.range(0.0, 100.0)),
                Prim::Double => num(r.range(0.0, 360.0)),
                Prim::Str => Val::Str(WORDS[r.int(0, 3) as usize]),
                Prim::Bytes => Val::Bytes(&[]),
            },
            Src::Null => Val::Null,
            Src::Id => Val::Long(s.id),
            Src::DiaObjectId => s.dia_object_id.map_or(Val::Null, Val::Long),
            Src::SsObjectId => s.ss_object_id.map_or(Val::Null, Val::Long),
            Src::Mjd => num(s.mjd),
            Src::ProcessedMjd => num(s.mjd + 0.0015),
            Src::Ra => num(s.ra),
            Src::Dec => num(s.dec),
            Src::Band => Val::Str(BANDS[s.band]),
            Src::Flux => num(s.flux),
            Src::FluxErr => num(s.flux / s.snr),
            Src::Snr => num(s.snr),
            Src::Reliability => match row {
                Some(_) => num(r.range(0.5, 1.0)),
                None => num(s.reliability),
            },
            Src::Extendedness => num(s.extendedness),
            Src::PixelFlags => Val::Bool(s.pixel_flags),
            Src::IsDipole => Val::Bool(s.is_dipole),
            Src::Visit => Val::Long(s.visit),
            Src::BandMean(b) => num(s.stats[b].0),
            Src::BandSigma(b) => num(s.stats[b].1),
            Src::BandNdata(b) => Val::Long(s.stats[b].2),
            Src::NDiaSources => Val::Long(s.prv.as_ref().map_or(0, Vec::len) as i64 + 1),
            Src::FirstMjd => num(s
                .prv
                .as_ref()
                .and_then(|p| p.first())
                .map_or(s.mjd, |p| p.mjd)),
            Src::LastMjd => num(s.mjd),
            Src::RowId => Val::Long(row.map_or(0, |p| p.id)),
            Src::RowMjd => num(row.map_or(s.mjd, |p| p.mjd)),
            Src::RowFlux => num(row.map_or(s.flux, |p| p.flux)),
            Src::RowFluxErr => num(row.map_or(0.0, |p| p.flux_err)),
            Src::RowBand => Val::Str(BANDS[s.band]),
            Src::Cutout(k) => Val::Bytes(&self.pool[k][s.cutouts[k]]),
            // 2026-01-01T00:00:00Z plus up to a year.
            Src::TimestampMicros => Val::Long(1_767_225_600_000_000 + r.int(0, 31_536_000_000_000)),
            Src::DiaObject | Src::SsSource | Src::Mpc | Src::Prv | Src::Forced => Val::Null,
        }
    }

    /// Is the optional value at `src` present?
    fn present(src: Src, prim: Option<Prim>, s: &Scene, r: &mut Rng) -> bool {
        match src {
            Src::DiaObject => s.dia_object,
            Src::SsSource => s.ss_source,
            Src::Mpc => s.mpc,
            Src::Prv => s.prv.is_some(),
            Src::Forced => s.forced.is_some(),
            Src::Null => false,
            Src::DiaObjectId => s.dia_object_id.is_some(),
            Src::SsObjectId => s.ss_object_id.is_some(),
            Src::Cutout(_) => true,
            Src::Generic | Src::TimestampMicros => prim != Some(Prim::Null) && r.unit() < FILL,
            _ => true,
        }
    }

    fn encode(&self, node: &Enc, s: &Scene, r: &mut Rng, w: &mut Writer, row: Option<&Row>) {
        match node {
            Enc::Leaf(prim, src) => {
                let v = self.val(*src, *prim, s, r, row);
                write_prim(w, *prim, v);
            }
            Enc::Nullable {
                null,
                value,
                inner,
                src,
            } => {
                let prim = match inner.as_ref() {
                    Enc::Leaf(p, _) => Some(*p),
                    _ => None,
                };
                if Self::present(*src, prim, s, r) {
                    w.long(*value);
                    self.encode(inner, s, r, w, row);
                } else {
                    w.long(*null);
                }
            }
            Enc::Record(fields) => {
                for f in fields {
                    self.encode(f, s, r, w, row);
                }
            }
            Enc::Array(item, src) => {
                let rows: &[Row] = match src {
                    Src::Prv => s.prv.as_deref().unwrap_or(&[]),
                    Src::Forced => s.forced.as_deref().unwrap_or(&[]),
                    _ => &[],
                };
                if !rows.is_empty() {
                    w.long(rows.len() as i64);
                    for p in rows {
                        self.encode(item, s, r, w, Some(p));
                    }
                }
                w.long(0);
            }
        }
    }
}

/// Write `v` as Avro type `prim` (numbers converted to the field's type).
fn write_prim(w: &mut Writer, prim: Prim, v: Val<'_>) {
    let as_f64 = |v: &Val<'_>| match v {
        Val::Num(x) => *x,
        Val::Long(x) => *x as f64,
        Val::Bool(b) => f64::from(u8::from(*b)),
        _ => 0.0,
    };
    match prim {
        Prim::Null => {}
        Prim::Bool => w.buf.push(u8::from(matches!(v, Val::Bool(true)))),
        Prim::Int | Prim::Long => w.long(match v {
            Val::Long(x) => x,
            ref other => as_f64(other) as i64,
        }),
        Prim::Float => w.float(as_f64(&v) as f32),
        Prim::Double => w.double(as_f64(&v)),
        Prim::Str => w.string(match v {
            Val::Str(t) => t,
            _ => "",
        }),
        Prim::Bytes => w.bytes(match v {
            Val::Bytes(b) => b,
            _ => &[],
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::super::survey::Survey;
    use super::*;

    #[test]
    fn every_alert_decodes_and_is_classified_as_it_was_drawn() {
        let g = LsstGenerator::new(7, Mix::default()).unwrap();
        let plan = Survey::Lsst.plan(LSST_SCHEMA_JSON).unwrap();
        let mut counts = [0u32; 5];
        for i in 0..3_000 {
            let (id, datum, drawn) = g.alert(i);
            let e = plan.decode(&datum).unwrap();
            assert_eq!(e.id, Some(id));
            assert_eq!(Survey::Lsst.classify(&e), drawn, "alert {i}");
            assert_eq!(e.n_cutouts, 3);
            counts[drawn.index()] += 1;
        }
        assert!(counts.iter().all(|&n| n > 80), "every class: {counts:?}");
    }

    #[test]
    fn same_seed_same_bytes_other_seed_other_bytes() {
        let (a, b) = (
            LsstGenerator::new(3, Mix::default()).unwrap(),
            LsstGenerator::new(3, Mix::default()).unwrap(),
        );
        let c = LsstGenerator::new(4, Mix::default()).unwrap();
        for i in [0, 1, 999, 123_456] {
            assert_eq!(a.alert(i).1, b.alert(i).1, "alert {i}");
            assert_ne!(a.alert(i).1, c.alert(i).1, "alert {i}");
        }
    }

    /// The schema we carry and the one written in the v11 sample's header
    /// have the same canonical form (apache-avro's reading; fastavro's is
    /// compared in tests/it/bench_lsst.rs).
    #[test]
    fn carried_schema_is_the_sample_header_schema() {
        let base = std::env::var_os("CIUX_REFERENCE").map_or_else(
            || std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/reference"),
            std::path::PathBuf::from,
        );
        let Ok(file) = std::fs::read(base.join("lsst-v11_0/fakeAlert.avro")) else {
            eprintln!("reference inputs not present; covered by tests/it/bench_lsst.rs");
            return;
        };
        let sample = apache_avro::Reader::new(&file[..]).unwrap();
        let theirs = sample.writer_schema().canonical_form();
        let ours = apache_avro::Schema::parse_str(LSST_SCHEMA_JSON)
            .unwrap()
            .canonical_form();
        assert_eq!(ours, theirs);
    }
}
