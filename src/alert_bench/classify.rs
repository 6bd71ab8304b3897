//! Quality cuts and classification rules (the "science" stage). Pure functions
//! of a decoded alert; the rules are documented in docs/bench.md.

#[cfg(test)]
use super::alert::Alert;

/// The classes alerts are routed by: one output topic each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Class {
    /// Fails a quality cut.
    Bogus,
    /// Within 5" of a known solar-system object.
    SolarSystem,
    /// On a catalogued star: a variable star.
    VariableStar,
    /// Rising light curve away from any star: a transient candidate.
    Transient,
    /// Passes the cuts, matches no rule.
    Unknown,
}

impl Class {
    pub const ALL: [Class; 5] = [
        Class::Bogus,
        Class::SolarSystem,
        Class::VariableStar,
        Class::Transient,
        Class::Unknown,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Class::Bogus => "bogus",
            Class::SolarSystem => "solar_system",
            Class::VariableStar => "variable_star",
            Class::Transient => "transient",
            Class::Unknown => "unknown",
        }
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

/// The values the ZTF rules read, whatever schema they came from (our
/// generated alerts, or a real ZTF 3.x/4.x alert through the decoder plan).
#[derive(Debug, Clone, Default)]
pub(crate) struct ZtfView {
    pub(crate) positive: bool,
    pub(crate) rb: f32,
    /// Deep real-bogus score (ZTF ≥ 3.3), `None` in older schemas.
    pub(crate) drb: Option<f32>,
    pub(crate) nbad: i32,
    pub(crate) fwhm: f32,
    pub(crate) elong: f32,
    pub(crate) magdiff: f32,
    pub(crate) ssdistnr: Option<f32>,
    pub(crate) ssmagnr: Option<f32>,
    pub(crate) distpsnr1: f32,
    pub(crate) sgscore1: f32,
    pub(crate) magpsf: f32,
}

impl ZtfView {
    #[cfg(test)]
    fn of(a: &Alert<'_>) -> Self {
        let c = &a.candidate;
        Self {
            positive: matches!(c.isdiffpos.as_str(), "t" | "1"),
            rb: c.rb,
            drb: Some(c.drb),
            nbad: c.nbad,
            fwhm: c.fwhm,
            elong: c.elong,
            magdiff: c.magdiff,
            ssdistnr: c.ssdistnr,
            ssmagnr: c.ssmagnr,
            distpsnr1: c.distpsnr1,
            sgscore1: c.sgscore1,
            magpsf: c.magpsf,
        }
    }
}

/// The quality cuts (those of the Fink broker): true when the alert is kept.
pub(crate) fn ztf_cuts(c: &ZtfView) -> bool {
    c.positive
        && c.rb >= 0.55
        && c.drb.is_none_or(|d| d >= 0.5)
        && c.nbad == 0
        && c.fwhm <= 5.0
        && c.elong <= 1.2
        && c.magdiff.abs() <= 0.1
}

/// The class of an alert; rules are tried in order, first match wins.
#[cfg(test)]
pub(crate) fn classify(a: &Alert<'_>) -> Class {
    let history = a
        .prv_candidates
        .iter()
        .filter_map(|p| p.magpsf.map(|m| (p.jd, f64::from(m))));
    classify_ztf(&ZtfView::of(a), history)
}

/// The ZTF rules (docs/bench.md); `history` yields `(jd, magpsf)` of the
/// earlier detections (non-detections left out).
pub(crate) fn classify_ztf(c: &ZtfView, history: impl Iterator<Item = (f64, f64)>) -> Class {
    if !ztf_cuts(c) {
        return Class::Bogus;
    }
    if c.ssdistnr.is_some_and(|d| (0.0..5.0).contains(&d)) && c.ssmagnr.is_some_and(|m| m > 0.0) {
        return Class::SolarSystem;
    }
    if (0.0..1.5).contains(&c.distpsnr1) && c.sgscore1 > 0.5 {
        return Class::VariableStar;
    }
    if rise(history).is_some_and(|earliest| earliest - f64::from(c.magpsf) >= 0.5) {
        return Class::Transient;
    }
    Class::Unknown
}

/// Magnitude of the earliest of at least two earlier detections.
fn rise(history: impl Iterator<Item = (f64, f64)>) -> Option<f64> {
    let mut n = 0;
    let mut earliest: Option<(f64, f64)> = None;
    for (jd, mag) in history {
        n += 1;
        if earliest.is_none_or(|e| jd < e.0) {
            earliest = Some((jd, mag));
        }
    }
    earliest.filter(|_| n >= 2).map(|e| e.1)
}

/// The values the LSST rules read (`lsst.v11_0.alert`; ELAsTiCC's
/// `elasticc.v0_9` under its older names).
#[derive(Debug, Clone, Default)]
pub(crate) struct LsstView {
    pub(crate) reliability: Option<f64>,
    pub(crate) snr: Option<f64>,
    pub(crate) pixel_flags: bool,
    pub(crate) is_dipole: bool,
    /// `ssSource` present, or `diaSource.ssObjectId` set.
    pub(crate) solar_system: bool,
    pub(crate) extendedness: Option<f64>,
    pub(crate) flux: Option<f64>,
    /// `(mean, sigma, ndata)` of the diaObject's PSF flux in g and r.
    pub(crate) bands: [(Option<f64>, Option<f64>, Option<f64>); 2],
}

/// The LSST rules (docs/bench.md); `history` yields `(time, psfFlux)` of
/// the earlier diaSources.
pub(crate) fn classify_lsst(c: &LsstView, history: impl Iterator<Item = (f64, f64)>) -> Class {
    if c.reliability.is_some_and(|r| r < 0.5)
        || c.snr.is_some_and(|s| s < 5.0)
        || c.pixel_flags
        || c.is_dipole
    {
        return Class::Bogus;
    }
    if c.solar_system {
        return Class::SolarSystem;
    }
    let point_like = c.extendedness.is_none_or(|e| e <= 0.5);
    let variable = c
        .bands
        .iter()
        .any(|&(mean, sigma, n)| match (mean, sigma, n) {
            (Some(m), Some(s), Some(n)) => n >= 3.0 && m.abs() > 0.0 && s / m.abs() > 0.2,
            _ => false,
        });
    if point_like && variable {
        return Class::VariableStar;
    }
    let earliest = rise(history.filter(|&(_, f)| f > 0.0));
    if let (Some(then), Some(now)) = (earliest, c.flux.filter(|f| *f > 0.0)) {
        // Brightened by at least 0.5 mag: flux ratio 10^(0.5/2.5).
        if 2.5 * (now / then).log10() >= 0.5 {
            return Class::Transient;
        }
    }
    Class::Unknown
}

#[cfg(test)]
mod tests {
    use super::super::alert::{Candidate, PrvCandidate};
    use super::*;

    fn good() -> Alert<'static> {
        Alert {
            object_id: "ZTF26aaaaaaa".into(),
            candid: 1,
            candidate: Candidate {
                isdiffpos: "t".into(),
                rb: 0.9,
                drb: 0.9,
                fwhm: 2.0,
                elong: 1.05,
                magpsf: 18.0,
                distpsnr1: 10.0,
                ..Candidate::default()
            },
            prv_candidates: vec![],
            cutouts: Default::default(),
        }
    }

    fn prv(jd: f64, mag: Option<f32>) -> PrvCandidate {
        PrvCandidate {
            jd,
            magpsf: mag,
            ..PrvCandidate::default()
        }
    }

    #[test]
    fn each_quality_cut_rejects() {
        assert_eq!(classify(&good()), Class::Unknown);
        let cuts: [fn(&mut Candidate); 6] = [
            |c| c.isdiffpos = "f".into(),
            |c| c.rb = 0.5,
            |c| c.nbad = 1,
            |c| c.fwhm = 5.5,
            |c| c.elong = 1.3,
            |c| c.magdiff = -0.2,
        ];
        for cut in cuts {
            let mut a = good();
            cut(&mut a.candidate);
            assert_eq!(classify(&a), Class::Bogus, "{:?}", a.candidate);
        }
    }

    #[test]
    fn rules_in_order() {
        let mut a = good();
        a.candidate.ssdistnr = Some(2.0);
        a.candidate.ssmagnr = Some(19.0);
        a.candidate.distpsnr1 = 0.5;
        a.candidate.sgscore1 = 0.9;
        assert_eq!(classify(&a), Class::SolarSystem, "SSO wins over star");
        a.candidate.ssdistnr = Some(6.0);
        assert_eq!(classify(&a), Class::VariableStar);
        a.candidate.sgscore1 = 0.2;
        assert_eq!(classify(&a), Class::Unknown, "a galaxy is not a star");
    }

    #[test]
    fn rising_light_curve_is_a_transient() {
        let mut a = good();
        // Earliest detection (jd 1) at 18.6, now 18.0: rose by 0.6 mag.
        a.prv_candidates = vec![prv(3.0, Some(18.3)), prv(2.0, None), prv(1.0, Some(18.6))];
        assert_eq!(classify(&a), Class::Transient);
        a.prv_candidates[2].magpsf = Some(18.4);
        assert_eq!(classify(&a), Class::Unknown, "0.4 mag is not enough");
        a.prv_candidates = vec![prv(1.0, Some(25.0))];
        assert_eq!(
            classify(&a),
            Class::Unknown,
            "one detection is not a light curve"
        );
    }
}
