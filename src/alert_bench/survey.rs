//! Surveys: which fields of an alert schema the rules read (a [`Mapping`] for
//! the decoder plan) and which rules classify them. ZTF (schemas 3.x and 4.x,
//! and our generated `ciux.bench.Alert`, which keeps ZTF's field names) and
//! LSST (`lsst.v11_0.alert`, and ELAsTiCC's `elasticc.v0_9` under its older
//! field names). Fields and rules are documented in docs/bench.md.

use super::BenchError;
use super::classify::{Class, LsstView, ZtfView, classify_lsst, classify_ztf};
use super::plan::{Extract, Mapping, Plan, Slot};

/// The field mapping and rules to apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Survey {
    Ztf,
    Lsst,
    /// Our generated alerts (`ciux.bench.Alert`): ZTF's fields and rules.
    Synthetic,
}

impl Survey {
    pub(crate) fn parse(s: &str) -> Result<Self, BenchError> {
        match s {
            "ztf" => Ok(Self::Ztf),
            "lsst" => Ok(Self::Lsst),
            "synthetic" => Ok(Self::Synthetic),
            other => Err(BenchError::Usage(format!(
                "--survey: {other:?} is not one of ztf, lsst, synthetic"
            ))),
        }
    }

    /// The survey of a schema, from the full name of its top-level record.
    pub(crate) fn detect(schema_name: &str) -> Option<Self> {
        let ns = schema_name.split('.').next().unwrap_or("");
        match ns {
            "ztf" => Some(Self::Ztf),
            "lsst" | "elasticc" => Some(Self::Lsst),
            "ciux" => Some(Self::Synthetic),
            _ => None,
        }
    }

    fn mapping(self) -> Mapping {
        match self {
            Self::Ztf | Self::Synthetic => ZTF,
            Self::Lsst => LSST,
        }
    }

    /// Compile the decoder plan of `schema_json` for this survey.
    pub(crate) fn plan(self, schema_json: &str) -> Result<Plan, BenchError> {
        Plan::compile(schema_json, self.mapping())
    }

    /// A plan that reads only the candidate id (and can rewrite it).
    pub(crate) fn id_plan(self, schema_json: &str) -> Result<Plan, BenchError> {
        let ids: Vec<_> = self
            .mapping()
            .iter()
            .filter(|(_, s)| *s == Slot::Id)
            .copied()
            .collect();
        Plan::compile(schema_json, &ids)
    }

    /// The class of a decoded alert.
    pub(crate) fn classify(self, e: &Extract<'_>) -> Class {
        match self {
            Self::Ztf | Self::Synthetic => {
                let history = e
                    .hist
                    .iter()
                    .filter(|h| !h[0].is_nan() && !h[1].is_nan())
                    .map(|h| (h[0], h[1]));
                classify_ztf(&ztf_view(e), history)
            }
            Self::Lsst => {
                let history = e
                    .hist
                    .iter()
                    .filter(|h| !h[0].is_nan() && !h[1].is_nan())
                    .map(|h| (h[0], h[1]));
                classify_lsst(&lsst_view(e), history)
            }
        }
    }
}

// ZTF numeric slots.
const RB: usize = 0;
const DRB: usize = 1;
const NBAD: usize = 2;
const FWHM: usize = 3;
const ELONG: usize = 4;
const MAGDIFF: usize = 5;
const SSDISTNR: usize = 6;
const SSMAGNR: usize = 7;
const DISTPSNR1: usize = 8;
const SGSCORE1: usize = 9;
const MAGPSF: usize = 10;
const ISDIFFPOS: usize = 0;

/// ZTF alert schema 3.x/4.x field names (also those of `ciux.bench.Alert`).
const ZTF: Mapping = &[
    ("candid", Slot::Id),
    ("candidate.candid", Slot::Id),
    ("candidate.isdiffpos", Slot::Text(ISDIFFPOS)),
    ("candidate.rb", Slot::Num(RB)),
    ("candidate.drb", Slot::Num(DRB)),
    ("candidate.nbad", Slot::Num(NBAD)),
    ("candidate.fwhm", Slot::Num(FWHM)),
    ("candidate.elong", Slot::Num(ELONG)),
    ("candidate.magdiff", Slot::Num(MAGDIFF)),
    ("candidate.ssdistnr", Slot::Num(SSDISTNR)),
    ("candidate.ssmagnr", Slot::Num(SSMAGNR)),
    ("candidate.distpsnr1", Slot::Num(DISTPSNR1)),
    ("candidate.sgscore1", Slot::Num(SGSCORE1)),
    ("candidate.magpsf", Slot::Num(MAGPSF)),
    ("prv_candidates[].jd", Slot::HistTime),
    ("prv_candidates[].magpsf", Slot::HistValue),
    ("cutoutScience.stampData", Slot::Cutout),
    ("cutoutTemplate.stampData", Slot::Cutout),
    ("cutoutDifference.stampData", Slot::Cutout),
];

/// ZTF writes -999 for "none": any negative distance or magnitude is absent.
fn ztf_view(e: &Extract<'_>) -> ZtfView {
    let f = |n: usize, default: f32| e.get(n).map_or(default, |v| v as f32);
    let positive = |n: usize| e.get(n).filter(|v| *v >= 0.0).map(|v| v as f32);
    ZtfView {
        positive: matches!(e.text[ISDIFFPOS], Some("t" | "1")),
        rb: f(RB, 0.0),
        drb: e.get(DRB).map(|v| v as f32),
        nbad: f(NBAD, 0.0) as i32,
        fwhm: f(FWHM, 0.0),
        elong: f(ELONG, 1.0),
        magdiff: f(MAGDIFF, 0.0),
        ssdistnr: positive(SSDISTNR),
        ssmagnr: positive(SSMAGNR),
        distpsnr1: f(DISTPSNR1, -999.0),
        sgscore1: f(SGSCORE1, 0.0),
        magpsf: f(MAGPSF, 99.0),
    }
}

// LSST numeric slots.
const RELIABILITY: usize = 0;
const SNR: usize = 1;
const PSF_FLUX: usize = 2;
const SS_SOURCE: usize = 3;
const SS_OBJECT_ID: usize = 4;
const PIXEL_FLAGS: usize = 5;
const EXTENDEDNESS: usize = 6;
const IS_DIPOLE: usize = 7;
const BAND_STATS: usize = 8; // 8..14: g mean, sigma, ndata; r mean, sigma, ndata

/// `lsst.v11_0.alert` field names, and ELAsTiCC's (`psFlux`,
/// `midPointTai`, `filterName`) where they differ.
const LSST: Mapping = &[
    ("diaSourceId", Slot::Id),
    ("alertId", Slot::Id),
    ("diaSource.reliability", Slot::Num(RELIABILITY)),
    ("diaSource.snr", Slot::Num(SNR)),
    ("diaSource.psfFlux", Slot::Num(PSF_FLUX)),
    ("diaSource.psFlux", Slot::Num(PSF_FLUX)),
    ("diaSource.ssObjectId", Slot::Num(SS_OBJECT_ID)),
    ("diaSource.pixelFlags", Slot::Num(PIXEL_FLAGS)),
    ("diaSource.extendedness", Slot::Num(EXTENDEDNESS)),
    ("diaSource.isDipole", Slot::Num(IS_DIPOLE)),
    ("ssSource", Slot::Present(SS_SOURCE)),
    ("diaObject.g_psfFluxMean", Slot::Num(BAND_STATS)),
    ("diaObject.g_psfFluxSigma", Slot::Num(BAND_STATS + 1)),
    ("diaObject.g_psfFluxNdata", Slot::Num(BAND_STATS + 2)),
    ("diaObject.r_psfFluxMean", Slot::Num(BAND_STATS + 3)),
    ("diaObject.r_psfFluxSigma", Slot::Num(BAND_STATS + 4)),
    ("diaObject.r_psfFluxNdata", Slot::Num(BAND_STATS + 5)),
    ("prvDiaSources[].midpointMjdTai", Slot::HistTime),
    ("prvDiaSources[].midPointTai", Slot::HistTime),
    ("prvDiaSources[].psfFlux", Slot::HistValue),
    ("prvDiaSources[].psFlux", Slot::HistValue),
    ("prvDiaSources[].band", Slot::HistBand),
    ("prvDiaSources[].filterName", Slot::HistBand),
    ("cutoutScience", Slot::Cutout),
    ("cutoutTemplate", Slot::Cutout),
    ("cutoutDifference", Slot::Cutout),
];

fn lsst_view(e: &Extract<'_>) -> LsstView {
    let stats = |b: usize| {
        (
            e.get(BAND_STATS + 3 * b),
            e.get(BAND_STATS + 3 * b + 1),
            e.get(BAND_STATS + 3 * b + 2),
        )
    };
    LsstView {
        reliability: e.get(RELIABILITY),
        snr: e.get(SNR),
        pixel_flags: e.get(PIXEL_FLAGS).is_some_and(|v| v != 0.0),
        is_dipole: e.get(IS_DIPOLE).is_some_and(|v| v != 0.0),
        solar_system: e.get(SS_SOURCE).is_some() || e.get(SS_OBJECT_ID).is_some_and(|v| v != 0.0),
        extendedness: e.get(EXTENDEDNESS),
        flux: e.get(PSF_FLUX),
        bands: [stats(0), stats(1)],
    }
}
