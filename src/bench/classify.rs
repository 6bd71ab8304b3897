//! Quality cuts and classification rules (the "science" stage). Pure functions
//! of a decoded alert; the rules are documented in docs/bench.md.

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

/// The quality cuts (those of the Fink broker): true when the alert is kept.
pub fn passes_quality_cuts(a: &Alert<'_>) -> bool {
    let c = &a.candidate;
    matches!(c.isdiffpos.as_str(), "t" | "1")
        && c.rb >= 0.55
        && c.nbad == 0
        && c.fwhm <= 5.0
        && c.elong <= 1.2
        && c.magdiff.abs() <= 0.1
}

/// The class of an alert; rules are tried in order, first match wins.
pub fn classify(a: &Alert<'_>) -> Class {
    let c = &a.candidate;
    if !passes_quality_cuts(a) {
        return Class::Bogus;
    }
    if c.ssdistnr.is_some_and(|d| (0.0..5.0).contains(&d)) && c.ssmagnr.is_some_and(|m| m > 0.0) {
        return Class::SolarSystem;
    }
    if (0.0..1.5).contains(&c.distpsnr1) && c.sgscore1 > 0.5 {
        return Class::VariableStar;
    }
    if rise(a).is_some_and(|r| r >= 0.5) {
        return Class::Transient;
    }
    Class::Unknown
}

/// Brightening in magnitudes from the earliest previous detection to now
/// (positive = brighter now), or `None` with fewer than two previous detections.
fn rise(a: &Alert<'_>) -> Option<f32> {
    let mut detections = a
        .prv_candidates
        .iter()
        .filter_map(|p| p.magpsf.map(|m| (p.jd, m)));
    let first = detections.next()?;
    detections.next()?;
    let earliest = a
        .prv_candidates
        .iter()
        .filter_map(|p| p.magpsf.map(|m| (p.jd, m)))
        .fold(first, |e, d| if d.0 < e.0 { d } else { e });
    Some(earliest.1 - a.candidate.magpsf)
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
