//! The deterministic alert generator.
//!
//! Alert `i` of seed `s` is a pure function of `(s, i)`: the same seed gives the
//! same bytes whatever the number of producer threads, so routing counts on a
//! fixed seed are exact and CI can assert them. Each alert is drawn as one of
//! the classes of [`Class`] with configured shares, with values that put it in
//! that class under the rules of [`super::classify`]; the other fields follow
//! realistic ZTF-like distributions.

use std::io::Write;

use flate2::{Compression, write::GzEncoder};

use super::BenchError;
use super::alert::{Alert, Candidate, Cutout, PrvCandidate};
use super::classify::Class;
use super::rng::Rng;

/// Candidate ids of generated alerts are `CANDID_BASE + index`.
pub const CANDID_BASE: i64 = 3_000_000_000_000_000_000;

/// Stamps per cutout kind in the pre-generated pool.
const POOL: usize = 8;
/// Cutout side in pixels (ZTF: 63×63).
const SIDE: usize = 63;
/// First observation date of the stream (2026-01-01).
const JD0: f64 = 2_461_041.5;

/// Shares of each intended class (the rest are `unknown`).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Mix {
    pub(crate) bogus: f64,
    pub(crate) solar_system: f64,
    pub(crate) variable_star: f64,
    pub(crate) transient: f64,
}

impl Default for Mix {
    fn default() -> Self {
        Self {
            bogus: 0.30,
            solar_system: 0.10,
            variable_star: 0.25,
            transient: 0.05,
        }
    }
}

impl Mix {
    /// Parse `bogus=0.3,solar_system=0.1,...` (unnamed classes keep their default).
    pub(crate) fn parse(text: &str) -> Result<Self, BenchError> {
        let mut mix = Mix::default();
        for part in text.split(',').filter(|p| !p.trim().is_empty()) {
            let bad = || BenchError::Usage(format!("--mix: expected CLASS=SHARE, got {part:?}"));
            let (k, v) = part.split_once('=').ok_or_else(bad)?;
            let v: f64 = v.trim().parse().map_err(|_| bad())?;
            if !(0.0..=1.0).contains(&v) {
                return Err(bad());
            }
            match k.trim() {
                "bogus" => mix.bogus = v,
                "solar_system" => mix.solar_system = v,
                "variable_star" => mix.variable_star = v,
                "transient" => mix.transient = v,
                other => {
                    return Err(BenchError::Usage(format!(
                        "--mix: unknown class {other:?} (bogus, solar_system, variable_star, transient)"
                    )));
                }
            }
        }
        if mix.bogus + mix.solar_system + mix.variable_star + mix.transient > 1.0 + 1e-9 {
            return Err(BenchError::Usage(
                "--mix: shares add up to more than 1".into(),
            ));
        }
        Ok(mix)
    }

    pub(crate) fn draw(&self, u: f64) -> Class {
        let mut edge = 0.0;
        for (share, class) in [
            (self.bogus, Class::Bogus),
            (self.solar_system, Class::SolarSystem),
            (self.variable_star, Class::VariableStar),
            (self.transient, Class::Transient),
        ] {
            edge += share;
            if u < edge {
                return class;
            }
        }
        Class::Unknown
    }
}

/// Generates alerts of one seed; holds the pool of gzipped FITS cutouts.
#[derive(Debug)]
pub struct Generator {
    seed: u64,
    mix: Mix,
    /// `pool[kind][k]`: kind 0 science, 1 template, 2 difference.
    pool: [Vec<Vec<u8>>; 3],
}

impl Generator {
    pub fn new(seed: u64, mix: Mix) -> Self {
        let mut rng = Rng::new(seed, u64::MAX);
        let pool = [0, 1, 2].map(|kind| (0..POOL).map(|_| stamp(&mut rng, kind, SIDE)).collect());
        Self { seed, mix, pool }
    }

    /// Alert number `i` and the class it was drawn as.
    pub fn alert(&self, i: u64) -> (Alert<'_>, Class) {
        let mut r = Rng::new(self.seed, i);
        let class = self.mix.draw(r.unit());
        let candid = CANDID_BASE + i as i64;
        let mag = match class {
            Class::VariableStar => r.range(14.0, 19.0),
            Class::SolarSystem => r.range(17.0, 20.5),
            _ => r.range(16.5, 20.5),
        };
        let jd = JD0 + i as f64 * 3.5e-6;
        let mut c = Candidate {
            jd,
            fid: if r.unit() < 0.45 {
                1
            } else if r.unit() < 0.95 {
                2
            } else {
                3
            },
            pid: 3_000_000_000_000 + (i / 10_000) as i64,
            isdiffpos: "t".into(),
            ra: r.range(0.0, 360.0),
            dec: r.range(-0.5, 1.0).asin().to_degrees(),
            magpsf: mag as f32,
            sigmapsf: (0.02 + 0.15 * ((mag - 20.5) / 1.5).exp()).min(0.3) as f32,
            diffmaglim: r.gauss(20.3, 0.3) as f32,
            magdiff: r.range(-0.08, 0.08) as f32,
            fwhm: r.gauss(2.3, 0.4).clamp(1.2, 4.5) as f32,
            elong: r.range(1.0, 1.15) as f32,
            nbad: 0,
            rb: (1.0 - 0.4 * r.unit().powi(2)) as f32,
            drb: (1.0 - 0.3 * r.unit().powi(3)) as f32,
            ssdistnr: None,
            ssmagnr: None,
            ssnamenr: None,
            distpsnr1: r.range(3.0, 30.0) as f32,
            sgscore1: r.unit() as f32,
            ndethist: 0,
        };
        let history = match class {
            Class::Bogus => {
                spoil(&mut r, &mut c);
                {
                    let n = r.int(0, 30) as usize;
                    flat(&mut r, &c, n)
                }
            }
            Class::SolarSystem => {
                c.ssdistnr = Some(r.range(0.0, 4.0) as f32);
                c.ssmagnr = Some(r.range(17.0, 21.0) as f32);
                c.ssnamenr = Some(format!("{}", r.int(1, 700_000)));
                {
                    let n = r.int(0, 2) as usize;
                    flat(&mut r, &c, n)
                }
            }
            Class::VariableStar => {
                c.distpsnr1 = r.range(0.0, 1.2) as f32;
                c.sgscore1 = r.range(0.8, 1.0) as f32;
                let (amp, period, phase) = (r.range(0.3, 1.5), r.range(0.2, 20.0), r.unit());
                let n = r.int(10, 30) as usize;
                history(&mut r, &c, n, |t| {
                    amp * (std::f64::consts::TAU * (t / period + phase)).sin()
                })
            }
            Class::Transient => {
                let rise = r.range(0.8, 3.0);
                let n = r.int(2, 30) as usize;
                let mut h = history(&mut r, &c, n, |t| rise * t / (n as f64 * 2.0));
                // The earliest point is a detection: the rise is measurable.
                if let Some(first) = h.first_mut() {
                    first.magpsf = Some((mag + rise) as f32);
                    first.sigmapsf = Some(c.sigmapsf);
                }
                h
            }
            Class::Unknown => {
                let n = r.int(0, 30) as usize;
                flat(&mut r, &c, n)
            }
        };
        c.ndethist = history.iter().filter(|p| p.magpsf.is_some()).count() as i32 + 1;
        let cutouts = [0, 1, 2].map(|kind| Cutout {
            file_name: format!(
                "candid{candid}_pid{}_targ_{}.fits.gz",
                c.pid,
                ["sci", "ref", "diff"][kind]
            ),
            stamp: &self.pool[kind][r.int(0, POOL as i64 - 1) as usize],
        });
        let object_id = object_id(&mut r);
        let alert = Alert {
            object_id,
            candid,
            candidate: c,
            prv_candidates: history,
            cutouts,
        };
        (alert, class)
    }
}

/// Fail exactly one quality cut, chosen at random.
fn spoil(r: &mut Rng, c: &mut Candidate) {
    match r.int(0, 5) {
        0 => c.rb = r.range(0.0, 0.5) as f32,
        1 => c.nbad = r.int(1, 6) as i32,
        2 => c.fwhm = r.range(5.5, 12.0) as f32,
        3 => c.elong = r.range(1.3, 3.0) as f32,
        4 => c.magdiff = (r.range(0.15, 1.0) * if r.unit() < 0.5 { -1.0 } else { 1.0 }) as f32,
        _ => c.isdiffpos = "f".into(),
    }
}

/// A history with magnitude `current + offset(days before now)` plus noise,
/// about one point in five a non-detection, but never the first or last
/// (so a light curve has two ends to compare); oldest first.
fn history(r: &mut Rng, c: &Candidate, n: usize, offset: impl Fn(f64) -> f64) -> Vec<PrvCandidate> {
    (0..n)
        .map(|k| {
            let days = (n - k) as f64 * 2.0;
            let limit = r.gauss(20.3, 0.3) as f32;
            let detected = k == 0 || k + 1 == n || r.int(0, 4) != 0;
            let mag = f64::from(c.magpsf) + offset(days) + r.gauss(0.0, 0.03);
            PrvCandidate {
                jd: c.jd - days + r.range(-0.1, 0.1),
                fid: c.fid,
                magpsf: detected.then_some(mag as f32),
                sigmapsf: detected.then_some(c.sigmapsf),
                diffmaglim: limit,
            }
        })
        .collect()
}

/// A history without a trend: the noise of [`history`] stays within ±0.09 mag,
/// well below the 0.5 mag rise of a transient.
fn flat(r: &mut Rng, c: &Candidate, n: usize) -> Vec<PrvCandidate> {
    history(r, c, n, |_| 0.0)
}

/// ZTF-style object names: `ZTF26` then seven letters.
fn object_id(r: &mut Rng) -> String {
    let mut s = String::with_capacity(12);
    s.push_str("ZTF26");
    for _ in 0..7 {
        s.push((b'a' + r.int(0, 25) as u8) as char);
    }
    s
}

/// One gzipped FITS stamp: a `side`×`side` float32 image (sky + noise, a
/// point source in science and difference images); ZTF ships 63×63 (~13 KB
/// gzipped).
pub(crate) fn stamp(r: &mut Rng, kind: usize, side: usize) -> Vec<u8> {
    let mut fits = Vec::with_capacity(2880 * 7);
    for card in [
        "SIMPLE  =                    T".to_string(),
        "BITPIX  =                  -32".into(),
        "NAXIS   =                    2".into(),
        format!("NAXIS1  = {side:>20}"),
        format!("NAXIS2  = {side:>20}"),
        "END".into(),
    ] {
        fits.extend_from_slice(format!("{card:<80}").as_bytes());
    }
    fits.resize(2880, b' ');
    let (sky, noise) = if kind == 2 {
        (0.0, 12.0)
    } else {
        (150.0, 10.0)
    };
    let flux = if kind == 1 {
        0.0
    } else {
        r.range(500.0, 5000.0)
    };
    let center = side as f64 / 2.0;
    for y in 0..side {
        for x in 0..side {
            let d2 = (x as f64 - center).powi(2) + (y as f64 - center).powi(2);
            let v = sky + noise * r.normal() + flux * (-d2 / 4.5).exp() / 14.1;
            fits.extend_from_slice(&(v as f32).to_be_bytes());
        }
    }
    fits.resize(fits.len().div_ceil(2880) * 2880, 0);
    let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
    // Writing to a Vec cannot fail.
    let _ = gz.write_all(&fits);
    gz.finish().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::super::classify::classify;
    use super::*;

    #[test]
    fn every_alert_is_classified_as_it_was_drawn() {
        let g = Generator::new(42, Mix::default());
        let mut counts = [0u32; 5];
        for i in 0..5_000 {
            let (alert, drawn) = g.alert(i);
            assert_eq!(classify(&alert), drawn, "alert {i}: {alert:?}");
            counts[drawn.index()] += 1;
        }
        assert!(
            counts.iter().all(|&n| n > 100),
            "every class appears: {counts:?}"
        );
    }

    #[test]
    fn alerts_have_realistic_sizes() {
        let g = Generator::new(1, Mix::default());
        let sizes: Vec<usize> = (0..200).map(|i| g.alert(i).0.encode().len()).collect();
        let mean = sizes.iter().sum::<usize>() / sizes.len();
        assert!((30_000..80_000).contains(&mean), "mean alert size {mean}");
        for s in &g.pool {
            for stamp in s {
                assert!(
                    (8_000..20_000).contains(&stamp.len()),
                    "stamp {}",
                    stamp.len()
                );
            }
        }
    }

    #[test]
    fn mix_parses_and_rejects() {
        let m = Mix::parse("bogus=0.5, transient=0.1").unwrap();
        assert_eq!((m.bogus, m.transient, m.solar_system), (0.5, 0.1, 0.10));
        assert!(Mix::parse("bogus=2").is_err());
        assert!(Mix::parse("comet=0.1").is_err());
        assert!(Mix::parse("bogus=0.9,transient=0.9").is_err());
    }
}
