//! Loading and validating the parameter datasets (CSV).
//!
//! This is one of the two modules that know polars (the other is `output`). Files are read
//! with every column as text and each cell is parsed here, so that a bad cell is reported
//! with its file, line and column and what is allowed. What leaves this module is typed and
//! validated: `Datasets` holds plain numbers and ndarray tables, ready for the model.

use std::io::Cursor;
use std::path::{Path, PathBuf};

use ndarray::{Array2, Array3};
use polars::prelude::*;
use sha2::{Digest, Sha256};

use crate::core::care::{Sector, Setting, N_SETTINGS};
use crate::core::dims::{BAND_LABELS, N_AGES, N_BANDS, N_IMD, N_SEX, SEX_LABELS};
use crate::core::error::{CapsimError, Result};

/// The bundled default datasets, compiled into the binary so `capsim run` works anywhere.
pub const BUNDLED: &[(&str, &str)] = &[
    (
        "life_table.csv",
        include_str!("../../datasets/life_table.csv"),
    ),
    (
        "population_age_sex.csv",
        include_str!("../../datasets/population_age_sex.csv"),
    ),
    ("segments.csv", include_str!("../../datasets/segments.csv")),
    (
        "segment_prevalence.csv",
        include_str!("../../datasets/segment_prevalence.csv"),
    ),
    (
        "segment_transitions.csv",
        include_str!("../../datasets/segment_transitions.csv"),
    ),
    (
        "deprivation.csv",
        include_str!("../../datasets/deprivation.csv"),
    ),
    (
        "fertility.csv",
        include_str!("../../datasets/fertility.csv"),
    ),
    (
        "migration.csv",
        include_str!("../../datasets/migration.csv"),
    ),
    ("settings.csv", include_str!("../../datasets/settings.csv")),
    (
        "cashable_costs.csv",
        include_str!("../../datasets/cashable_costs.csv"),
    ),
    (
        "parameters.csv",
        include_str!("../../datasets/parameters.csv"),
    ),
    (
        "activity_trends.csv",
        include_str!("../../datasets/activity_trends.csv"),
    ),
    (
        "end_of_life.csv",
        include_str!("../../datasets/end_of_life.csv"),
    ),
    (
        "capitation_deprivation.csv",
        include_str!("../../datasets/capitation_deprivation.csv"),
    ),
    (
        "capitation_places.csv",
        include_str!("../../datasets/capitation_places.csv"),
    ),
    (
        "activity_rates.csv",
        include_str!("../../datasets/activity_rates.csv"),
    ),
    (
        "activity_segment_multipliers.csv",
        include_str!("../../datasets/activity_segment_multipliers.csv"),
    ),
    (
        "activity_deprivation_multipliers.csv",
        include_str!("../../datasets/activity_deprivation_multipliers.csv"),
    ),
    (
        "length_of_stay.csv",
        include_str!("../../datasets/length_of_stay.csv"),
    ),
    (
        "length_of_stay_segments.csv",
        include_str!("../../datasets/length_of_stay_segments.csv"),
    ),
    (
        "archetypes.csv",
        include_str!("../../datasets/archetypes.csv"),
    ),
    (
        "archetype_age_profile.csv",
        include_str!("../../datasets/archetype_age_profile.csv"),
    ),
    (
        "default_system.csv",
        include_str!("../../datasets/default_system.csv"),
    ),
    (
        "england_benchmarks.csv",
        include_str!("../../datasets/england_benchmarks.csv"),
    ),
];

/// The plausible range of a numeric dataset value. A value outside it is refused when the
/// datasets load (exit 2, naming file, line, column and this range), because everything
/// downstream (expected counts, integer pence) assumes finite values of a sensible size: a
/// GP rate of 999,999,999 or a unit cost of 1e300 once ran and wrote trillions of pounds.
/// The ranges are wide enough for any legitimate local data; `datasets/README.md` states
/// each one with its reason (a test keeps the two in step).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Range {
    pub min: f64,
    pub max: f64,
    /// What the value is, for the error message and the README.
    pub what: &'static str,
}

impl Range {
    const fn new(what: &'static str, min: f64, max: f64) -> Self {
        Range { min, max, what }
    }

    pub fn contains(&self, x: f64) -> bool {
        x.is_finite() && x >= self.min && x <= self.max
    }

    /// "a number from 0 to 1 (a probability)": what the error message says is allowed.
    pub fn allowed(&self) -> String {
        format!("a number from {} ({})", self.span(), self.what)
    }

    /// "0 to 100,000", as the README's table of ranges writes it.
    pub fn span(&self) -> String {
        format!("{} to {}", show(self.min), show(self.max))
    }
}

/// A bound for people to read: whole numbers of 10,000 and more with thousands separators.
fn show(x: f64) -> String {
    if x.fract() != 0.0 || x.abs() < 10_000.0 {
        return x.to_string();
    }
    let digits = (x.abs() as u64).to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if x < 0.0 {
        format!("-{out}")
    } else {
        out
    }
}

/// The start of each row of the table of ranges in `datasets/README.md`
/// (`| file | column | range |`), derived from [`COLUMN_RANGES`], [`rate_range`] and
/// [`PARAMETER_RANGES`] so that a test can check the README states every range as coded.
pub fn range_rows() -> Vec<String> {
    let mut rows = Vec::new();
    for (file, column, bound) in COLUMN_RANGES {
        match bound {
            Bound::Fixed(r) => rows.push(format!("| {file} | {column} | {} |", r.span())),
            Bound::BySetting => {
                for s in Setting::ALL.iter().filter(|s| s.derived_from().is_none()) {
                    let r = rate_range(*s);
                    rows.push(format!("| {file} | {column} ({}) | {} |", s.id(), r.span()));
                }
            }
            Bound::ByParameter => {
                for (name, r) in PARAMETER_RANGES {
                    rows.push(format!("| {file} | {column} ({name}) | {} |", r.span()));
                }
            }
        }
    }
    rows
}

/// A probability or a share of a whole.
const PROBABILITY: Range = Range::new("a probability", 0.0, 1.0);
const SHARE: Range = Range::new("a share", 0.0, 1.0);
/// Relative multipliers that the model divides by their mean (so only ratios matter) and
/// that must stay positive; 0.01 to 100 is a ratio of up to 10,000 between two groups.
const MULTIPLIER: Range = Range::new("a relative multiplier", 0.01, 100.0);
/// Relative multipliers or weights where 0 means "none" (a segment that never uses a
/// setting, an age band an archetype lacks).
const WEIGHT: Range = Range::new("a relative weight", 0.0, 100.0);
const AGE: Range = Range::new("an age in whole years", 0.0, (N_AGES - 1) as f64);
const QUINTILE: Range = Range::new("an IMD quintile", 1.0, N_IMD as f64);

/// How the range of a column is found: fixed, or by the row's setting or parameter name.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Bound {
    Fixed(Range),
    /// `activity_rates.csv`: by the setting's unit ([`rate_range`]).
    BySetting,
    /// `parameters.csv`: by the parameter's name ([`PARAMETER_RANGES`]).
    ByParameter,
}

/// The range of every numeric column of every bundled dataset: (file, column, bound).
pub const COLUMN_RANGES: &[(&str, &str, Bound)] = &[
    ("life_table.csv", "age", Bound::Fixed(AGE)),
    ("life_table.csv", "qx_male", Bound::Fixed(PROBABILITY)),
    ("life_table.csv", "qx_female", Bound::Fixed(PROBABILITY)),
    // England's largest five-year band is about 4 million people.
    (
        "population_age_sex.csv",
        "male",
        Bound::Fixed(Range::new("a number of people", 0.0, 1e8)),
    ),
    (
        "population_age_sex.csv",
        "female",
        Bound::Fixed(Range::new("a number of people", 0.0, 1e8)),
    ),
    (
        "segments.csv",
        "severity",
        Bound::Fixed(Range::new("a severity rank", 0.0, 255.0)),
    ),
    // Relative to the age band's mean, which the model divides by; 0 = never dies of it.
    ("segments.csv", "mortality_multiplier", Bound::Fixed(WEIGHT)),
    // EQ-5D runs from below 0 (states worse than death) to 1; a segment's mean over a
    // year is 0 to 1.
    (
        "segments.csv",
        "utility",
        Bound::Fixed(Range::new("a utility", 0.0, 1.0)),
    ),
    ("segment_prevalence.csv", "share", Bound::Fixed(SHARE)),
    ("segment_transitions.csv", "age_from", Bound::Fixed(AGE)),
    ("segment_transitions.csv", "age_to", Bound::Fixed(AGE)),
    (
        "segment_transitions.csv",
        "probability",
        Bound::Fixed(PROBABILITY),
    ),
    ("deprivation.csv", "imd_quintile", Bound::Fixed(QUINTILE)),
    (
        "deprivation.csv",
        "mortality_multiplier",
        Bound::Fixed(MULTIPLIER),
    ),
    (
        "deprivation.csv",
        "morbidity_multiplier",
        Bound::Fixed(MULTIPLIER),
    ),
    // The highest national age-specific fertility rates are about 0.25 (assumption).
    (
        "fertility.csv",
        "rate",
        Bound::Fixed(Range::new("births per woman per year", 0.0, 0.5)),
    ),
    (
        "migration.csv",
        "in_rate",
        Bound::Fixed(Range::new("moves per resident per year", 0.0, 1.0)),
    ),
    (
        "migration.csv",
        "out_rate",
        Bound::Fixed(Range::new("moves per resident per year", 0.0, 1.0)),
    ),
    // The dearest unit bundled is a care home week at £972; £100,000 covers any unit of
    // care bought once (a complex inpatient stay), not a programme.
    (
        "settings.csv",
        "unit_cost",
        Bound::Fixed(Range::new("a unit cost in pounds", 0.0, 100_000.0)),
    ),
    // A setting's price rising faster or slower than general inflation (the relative price
    // effect): a few per cent a year at most (assumption).
    (
        "settings.csv",
        "real_price_growth",
        Bound::Fixed(Range::new("a yearly rate", -0.05, 0.1)),
    ),
    ("cashable_costs.csv", "cashable_share", Bound::Fixed(SHARE)),
    // Growth of age-specific rates beyond demography: English emergency admissions grew
    // about 2% a year faster than demography for two decades (datasets/README.md); a
    // fall is allowed (assumption: -5% to +10% a year).
    (
        "activity_trends.csv",
        "yearly_growth",
        Bound::Fixed(Range::new("a yearly rate", -0.05, 0.1)),
    ),
    // Extra use in the last year of life per death, in the setting's units: a few
    // emergency admissions, tens of outpatient attendances at most (assumption).
    (
        "end_of_life.csv",
        "extra_per_death",
        Bound::Fixed(Range::new("a count per death", 0.0, 50.0)),
    ),
    ("parameters.csv", "value", Bound::ByParameter),
    (
        "capitation_deprivation.csv",
        "imd_quintile",
        Bound::Fixed(QUINTILE),
    ),
    (
        "capitation_deprivation.csv",
        "inequalities_uplift",
        Bound::Fixed(Range::new("an uplift", 0.0, 1.0)),
    ),
    // They scale unit costs as well as budgets. NHS market forces factors lie within about
    // 0.9-1.3 and Carr-Hill rurality indices within a few per cent of 1.
    (
        "capitation_places.csv",
        "market_forces_factor",
        Bound::Fixed(Range::new("a cost factor", 0.8, 1.5)),
    ),
    (
        "capitation_places.csv",
        "rurality_index",
        Bound::Fixed(Range::new("a cost factor", 0.8, 1.5)),
    ),
    ("activity_rates.csv", "rate", Bound::BySetting),
    (
        "activity_segment_multipliers.csv",
        "multiplier",
        Bound::Fixed(WEIGHT),
    ),
    (
        "activity_deprivation_multipliers.csv",
        "imd_quintile",
        Bound::Fixed(QUINTILE),
    ),
    (
        "activity_deprivation_multipliers.csv",
        "multiplier",
        Bound::Fixed(MULTIPLIER),
    ),
    // Mean bed days of an emergency admission in an age band: England's oldest bands
    // stay about 8-9 days on average (datasets/README.md); 60 allows long-stay local
    // services (assumption).
    (
        "length_of_stay.csv",
        "mean_days",
        Bound::Fixed(Range::new(
            "mean bed days per emergency admission",
            0.0,
            60.0,
        )),
    ),
    (
        "length_of_stay_segments.csv",
        "multiplier",
        Bound::Fixed(MULTIPLIER),
    ),
    ("archetypes.csv", "england_share", Bound::Fixed(SHARE)),
    ("archetypes.csv", "imd_1", Bound::Fixed(SHARE)),
    ("archetypes.csv", "imd_2", Bound::Fixed(SHARE)),
    ("archetypes.csv", "imd_3", Bound::Fixed(SHARE)),
    ("archetypes.csv", "imd_4", Bound::Fixed(SHARE)),
    ("archetypes.csv", "imd_5", Bound::Fixed(SHARE)),
    ("archetype_age_profile.csv", "weight", Bound::Fixed(WEIGHT)),
    // PCNs have about 30,000-50,000 patients; a million is a whole place.
    (
        "default_system.csv",
        "registered_population",
        Bound::Fixed(Range::new("a number of patients", 1.0, 1e6)),
    ),
    // England's largest annual total bundled is 353 million GP appointments.
    (
        "england_benchmarks.csv",
        "value",
        Bound::Fixed(Range::new(
            "a national figure (an annual total, a life expectancy or a share)",
            0.0,
            1e10,
        )),
    ),
];

/// The range of each parameter of `parameters.csv`, by name.
pub const PARAMETER_RANGES: &[(&str, Range)] = &[
    // A sustained yearly change; UK consumer price inflation peaked at about 25% in 1975
    // (assumption: remembered, not verified).
    ("cost_inflation", Range::new("a yearly rate", -0.05, 0.2)),
    (
        "emergency_los_shape",
        Range::new("a negative binomial shape", 0.01, 100.0),
    ),
    ("risk_shape", Range::new("a gamma shape", 0.01, 100.0)),
    ("male_birth_share", SHARE),
    ("england_systems", Range::new("a count", 1.0, 1_000.0)),
    (
        "england_neighbourhoods",
        Range::new("a count", 1.0, 100_000.0),
    ),
    (
        "england_places_per_system",
        Range::new("a count", 1.0, 1_000.0),
    ),
    (
        "neighbourhood_size_mean",
        Range::new("a number of people", 1.0, 1e6),
    ),
    (
        "neighbourhood_size_sd",
        Range::new("a number of people", 0.0, 1e6),
    ),
    (
        "neighbourhood_size_min",
        Range::new("a number of people", 1.0, 1e6),
    ),
    (
        "neighbourhood_size_max",
        Range::new("a number of people", 1.0, 1e6),
    ),
    (
        "condition_recording_sensitivity",
        Range::new("a share", 0.05, 1.0),
    ),
    ("ward_beds", Range::new("beds", 4.0, 100.0)),
    ("bed_occupancy", Range::new("a share", 0.5, 1.0)),
    (
        "envelope_real_growth",
        Range::new("a yearly real growth rate", -0.05, 0.1),
    ),
    // 0 (none) to 0.5 on the log scale, i.e. about a third of areas more than 40% off;
    // practice-level hospital cost residuals are about 10% (Dixon et al. BMJ 2011), so
    // larger values are typos rather than judgements.
    (
        "variation_hospital_shared_sd",
        Range::new("a log-scale sd", 0.0, 0.5),
    ),
    (
        "variation_hospital_setting_sd",
        Range::new("a log-scale sd", 0.0, 0.5),
    ),
    ("variation_other_sd", Range::new("a log-scale sd", 0.0, 0.5)),
    (
        "variation_yearly_sd",
        Range::new("a log-scale sd", 0.0, 0.5),
    ),
];

/// The plausible annual count per person (a band's population average) in a setting,
/// capped by what its unit allows: a daily contact, a weekly attendance, a monthly
/// admission, every hour or week of the year. The highest bundled band averages are well
/// below (e.g. care homes at 90+ about 8 weeks a year).
pub fn rate_range(setting: Setting) -> Range {
    let (what, max) = match setting {
        Setting::GpAppointments
        | Setting::OtherPrimaryCare
        | Setting::CommunityNursing
        | Setting::CommunityMentalHealth => ("contacts per person-year", 365.0),
        Setting::AeAttendances | Setting::OutpatientAttendances => {
            ("attendances per person-year", 52.0)
        }
        Setting::EmergencyAdmissions | Setting::ElectiveAdmissions => {
            ("admissions per person-year", 12.0)
        }
        Setting::EmergencyBedDays => ("bed days per person-year", 366.0),
        Setting::HomeCareHours => ("hours per person-year", 8_784.0),
        Setting::CareHomeWeeks => ("resident weeks per person-year", 53.0),
    };
    Range::new(what, 0.0, max)
}

/// The bound of a column of a bundled file; `None` for a column that is not a number.
pub fn column_bound(file: &str, column: &str) -> Option<Bound> {
    COLUMN_RANGES
        .iter()
        .find(|(f, c, _)| *f == file && *c == column)
        .map(|(_, _, b)| *b)
}

/// The range of a parameter of `parameters.csv`.
pub fn parameter_range(name: &str) -> Option<Range> {
    PARAMETER_RANGES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, r)| *r)
}

/// Where datasets come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatasetSource {
    /// The copy compiled into the binary.
    Bundled,
    /// A folder holding the same files.
    Dir(PathBuf),
}

/// A health segment as defined in `segments.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct SegmentDef {
    pub id: String,
    pub label: String,
    pub severity: i64,
    pub mortality_multiplier: f64,
    pub newborn: bool,
    /// Health-related quality of life (EQ-5D utility; 1 = full health) of a year in the
    /// segment, for QALYs.
    pub utility: f64,
}

/// Transition probabilities for one age group: `p[[from, to]]`.
#[derive(Debug, Clone, PartialEq)]
pub struct TransitionGroup {
    pub age_from: u8,
    pub age_to: u8,
    pub p: Array2<f64>,
}

/// A unit of activity and its cost, from `settings.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct SettingDef {
    pub setting: Setting,
    pub label: String,
    pub sector: Sector,
    pub unit: String,
    pub unit_cost: f64,
    pub price_year: String,
    /// Yearly rise of this setting's unit cost in real terms (above `cost_inflation`): 0
    /// keeps it at the price year's value.
    pub real_price_growth: f64,
}

/// Scalar parameters from `parameters.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct Parameters {
    pub cost_inflation: f64,
    pub emergency_los_shape: f64,
    pub risk_shape: f64,
    pub male_birth_share: f64,
    pub england_systems: usize,
    pub england_neighbourhoods: usize,
    pub england_places_per_system: usize,
    pub neighbourhood_size_mean: f64,
    pub neighbourhood_size_sd: f64,
    pub neighbourhood_size_min: f64,
    pub neighbourhood_size_max: f64,
    /// Share of people with a condition whose GP record shows it (the need formula sees
    /// only recorded conditions).
    pub condition_recording_sensitivity: f64,
    /// Beds in a ward, and the share occupied: a ward's fixed costs are released only when
    /// avoided bed days add up to a whole ward (`ward_beds` x 365 x `bed_occupancy`).
    pub ward_beds: f64,
    pub bed_occupancy: f64,
    /// Default real growth of a system's envelope a year, where a scenario sets none.
    pub envelope_real_growth: f64,
    /// Unexplained variation between areas (log-scale standard deviations of lognormal
    /// multipliers with mean 1): a hospital factor shared by the hospital settings...
    pub variation_hospital_shared_sd: f64,
    /// ... a part of each hospital setting's own ...
    pub variation_hospital_setting_sd: f64,
    /// ... each other setting's own (independent) factor ...
    pub variation_other_sd: f64,
    /// ... and a year-to-year wobble of every setting, drawn per run.
    pub variation_yearly_sd: f64,
}

/// A neighbourhood type with its deprivation mix and age-structure tilt.
#[derive(Debug, Clone, PartialEq)]
pub struct Archetype {
    pub id: String,
    pub label: String,
    pub england_share: f64,
    pub imd: [f64; N_IMD],
    pub age_weight: [f64; N_BANDS],
}

/// One neighbourhood of the bundled default system.
#[derive(Debug, Clone, PartialEq)]
pub struct NeighbourhoodRow {
    pub system: String,
    pub place: String,
    pub neighbourhood: String,
    pub archetype: usize,
    pub registered_population: u64,
}

/// A published England annual total used to check the England preset.
#[derive(Debug, Clone, PartialEq)]
pub struct Benchmark {
    pub measure: String,
    pub value: f64,
    pub year: String,
    pub source: String,
}

/// Deprivation multipliers for one IMD quintile.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Deprivation {
    pub mortality_multiplier: f64,
    pub morbidity_multiplier: f64,
}

/// All parameter datasets, validated.
#[derive(Debug, Clone)]
pub struct Datasets {
    pub source: DatasetSource,
    /// SHA-256 over the files' names and bytes, in a fixed order.
    pub checksum: String,
    /// Probability of dying within the year, `[sex, age]`.
    pub qx: Array2<f64>,
    /// England population, `[band, sex]`.
    pub population: Array2<f64>,
    pub segments: Vec<SegmentDef>,
    /// Share of each band in each segment, `[band, segment]`; rows sum to 1.
    pub prevalence: Array2<f64>,
    pub transitions: Vec<TransitionGroup>,
    pub deprivation: [Deprivation; N_IMD],
    /// Births per woman per year by band (zero outside 15-49).
    pub fertility: [f64; N_BANDS],
    /// Gross annual in- and out-migration rates per resident, `[band, sex, 0=in|1=out]`.
    pub migration: Array3<f64>,
    /// In `Setting::ALL` order.
    pub settings: Vec<SettingDef>,
    /// Share of each setting's unit cost that is variable: what avoiding one unit saves in
    /// cash within the year, by [`Setting::index`].
    pub cashable: [f64; N_SETTINGS],
    /// Yearly growth of each setting's age-specific rates beyond demography (the
    /// default of `[trends]`), by [`Setting::index`]; 0 for derived settings.
    pub trends: [f64; N_SETTINGS],
    /// Extra use in the last year of life per death, `[setting, band]` (zero for derived
    /// settings).
    pub end_of_life: Array2<f64>,
    pub parameters: Parameters,
    /// Population-average annual rate, `[setting, band, sex]` (zero for derived settings).
    pub activity_rates: Array3<f64>,
    /// Relative use by segment, `[setting, segment]`.
    pub activity_segment: Array2<f64>,
    /// Relative use by deprivation quintile, `[setting, imd]`.
    pub activity_deprivation: Array2<f64>,
    /// Mean length of stay (bed days) of an emergency admission by age band, over the
    /// band's segments (`length_of_stay.csv`).
    pub los_band: [f64; N_BANDS],
    /// Relative length of stay by segment (`length_of_stay_segments.csv`), divided by its
    /// admission-weighted mean within each band ([`crate::model::activity`]).
    pub los_segment: Vec<f64>,
    pub archetypes: Vec<Archetype>,
    pub default_system: Vec<NeighbourhoodRow>,
    /// Health-inequalities (unmet need) uplift of capitation weights by quintile.
    pub inequalities_uplift: [f64; N_IMD],
    /// Market forces factor and rurality index by place (places not listed: 1).
    pub place_factors: Vec<PlaceFactors>,
    pub benchmarks: Vec<Benchmark>,
}

impl Datasets {
    /// The bundled default datasets.
    pub fn bundled() -> Result<Self> {
        let files = BUNDLED
            .iter()
            .map(|(name, text)| (name.to_string(), text.as_bytes().to_vec()))
            .collect();
        Self::from_files(DatasetSource::Bundled, files)
    }

    /// The datasets in `dir`, which must hold every file the bundled copy has.
    pub fn from_dir(dir: &Path) -> Result<Self> {
        let mut files = Vec::new();
        for (name, _) in BUNDLED {
            let path = dir.join(name);
            let bytes = std::fs::read(&path).map_err(|e| CapsimError::InvalidTable {
                file: path.display().to_string(),
                column: "(file)".into(),
                problem: format!("cannot read: {e}"),
            })?;
            files.push((name.to_string(), bytes));
        }
        Self::from_files(DatasetSource::Dir(dir.to_path_buf()), files)
    }

    /// Loads from a source.
    pub fn load(source: &DatasetSource) -> Result<Self> {
        match source {
            DatasetSource::Bundled => Self::bundled(),
            DatasetSource::Dir(dir) => Self::from_dir(dir),
        }
    }

    fn from_files(source: DatasetSource, files: Vec<(String, Vec<u8>)>) -> Result<Self> {
        let mut hasher = Sha256::new();
        for (name, bytes) in &files {
            hasher.update(name.as_bytes());
            hasher.update([0]);
            hasher.update(bytes);
        }
        let checksum = hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let display = |name: &str| match &source {
            DatasetSource::Bundled => format!("datasets/{name} (bundled)"),
            DatasetSource::Dir(d) => d.join(name).display().to_string(),
        };
        let table = |name: &str| -> Result<Table> {
            let bytes = &files.iter().find(|(n, _)| n == name).expect("known file").1;
            Table::parse(name, display(name), bytes)
        };

        let qx = load_life_table(&table("life_table.csv")?)?;
        let population = load_population(&table("population_age_sex.csv")?)?;
        let segments = load_segments(&table("segments.csv")?)?;
        let prevalence = load_prevalence(&table("segment_prevalence.csv")?, &segments)?;
        let transitions = load_transitions(&table("segment_transitions.csv")?, &segments)?;
        let deprivation = load_deprivation(&table("deprivation.csv")?)?;
        let fertility = load_fertility(&table("fertility.csv")?)?;
        let migration = load_migration(&table("migration.csv")?)?;
        let settings = load_settings(&table("settings.csv")?)?;
        let cashable = load_cashable(&table("cashable_costs.csv")?)?;
        let trends = load_trends(&table("activity_trends.csv")?)?;
        let end_of_life = load_end_of_life(&table("end_of_life.csv")?)?;
        let parameters = load_parameters(&table("parameters.csv")?)?;
        let activity_rates = load_activity_rates(&table("activity_rates.csv")?)?;
        let activity_segment =
            load_activity_segment(&table("activity_segment_multipliers.csv")?, &segments)?;
        let activity_deprivation =
            load_activity_deprivation(&table("activity_deprivation_multipliers.csv")?)?;
        let los_band = load_los_band(&table("length_of_stay.csv")?)?;
        let los_segment = load_los_segment(&table("length_of_stay_segments.csv")?, &segments)?;
        let archetypes = load_archetypes(
            &table("archetypes.csv")?,
            &table("archetype_age_profile.csv")?,
        )?;
        let default_system = load_default_system(&table("default_system.csv")?, &archetypes)?;
        let benchmarks = load_benchmarks(&table("england_benchmarks.csv")?)?;
        let inequalities_uplift = load_inequalities_uplift(&table("capitation_deprivation.csv")?)?;
        let place_factors = load_place_factors(&table("capitation_places.csv")?, &default_system)?;

        Ok(Datasets {
            source,
            checksum,
            qx,
            population,
            segments,
            prevalence,
            transitions,
            deprivation,
            fertility,
            migration,
            settings,
            cashable,
            trends,
            end_of_life,
            parameters,
            activity_rates,
            activity_segment,
            activity_deprivation,
            los_band,
            los_segment,
            archetypes,
            default_system,
            inequalities_uplift,
            place_factors,
            benchmarks,
        })
    }

    /// Index of a segment by id.
    pub fn segment_index(&self, id: &str) -> Option<usize> {
        self.segments.iter().position(|s| s.id == id)
    }
}

/// A CSV file read as text columns, with helpers that parse and validate cells. Shared
/// with the other readers of this layer (imported geographies, GP lists), so every file
/// capsim reads reports a bad cell the same way.
pub(crate) struct Table {
    /// The file's name as bundled (`settings.csv`), which keys its column ranges.
    name: String,
    /// The file as shown in messages (with its folder).
    pub(crate) file: String,
    df: DataFrame,
}

/// A parsed column; row r of `values` is on line r + 2 of the file (the header is line 1).
pub(crate) struct Col<'a, T> {
    pub(crate) name: &'a str,
    pub(crate) values: Vec<T>,
}

impl Table {
    /// Reads a file from disk that is not a bundled dataset (its numbers are checked by
    /// [`Table::number_in`]); `file` is how errors name it.
    pub(crate) fn read(path: &Path) -> Result<Self> {
        let file = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|e| CapsimError::Unreadable {
            file: file.clone(),
            reason: e.to_string(),
        })?;
        Self::parse("(not bundled)", file, &bytes)
    }

    /// The header's column names, in file order.
    pub(crate) fn columns(&self) -> Vec<String> {
        self.df
            .get_column_names()
            .iter()
            .map(|c| c.to_string())
            .collect()
    }

    pub(crate) fn has(&self, column: &str) -> bool {
        self.df.column(column).is_ok()
    }

    /// The text cells of a column, trimmed; empty cells are allowed (as "").
    pub(crate) fn text_or_empty<'a>(
        &'a self,
        name: &'a str,
        expected: &[&str],
    ) -> Result<Col<'a, String>> {
        let ca = self.str_column(name, expected)?;
        let values = ca
            .iter()
            .map(|v| v.map_or(String::new(), |s| s.trim().to_string()))
            .collect();
        Ok(Col { name, values })
    }

    fn str_column(&self, name: &str, expected: &[&str]) -> Result<&StringChunked> {
        let column = self
            .df
            .column(name)
            .map_err(|_| CapsimError::MissingColumn {
                file: self.file.clone(),
                column: name.into(),
                expected: expected.join(", "),
            })?;
        column
            .str()
            .map_err(|e| self.whole(name, format!("not text: {e}")))
    }

    pub(crate) fn parse(name: &str, file: String, bytes: &[u8]) -> Result<Self> {
        let df = CsvReadOptions::default()
            .with_has_header(true)
            .with_infer_schema_length(Some(0))
            .into_reader_with_file_handle(Cursor::new(bytes.to_vec()))
            .finish()
            .map_err(|e| CapsimError::Unreadable {
                file: file.clone(),
                reason: e.to_string(),
            })?;
        Ok(Table {
            name: name.to_string(),
            file,
            df,
        })
    }

    pub(crate) fn height(&self) -> usize {
        self.df.height()
    }

    pub(crate) fn invalid(
        &self,
        column: &str,
        row: usize,
        value: &str,
        allowed: &str,
    ) -> CapsimError {
        CapsimError::InvalidValue {
            file: self.file.clone(),
            line: row + 2,
            column: column.into(),
            value: value.into(),
            allowed: allowed.into(),
        }
    }

    pub(crate) fn whole(&self, column: &str, problem: impl Into<String>) -> CapsimError {
        CapsimError::InvalidTable {
            file: self.file.clone(),
            column: column.into(),
            problem: problem.into(),
        }
    }

    /// The text cells of a column; an empty cell is an error.
    pub(crate) fn text<'a>(&'a self, name: &'a str, expected: &[&str]) -> Result<Col<'a, String>> {
        let ca = self.str_column(name, expected)?;
        let mut values = Vec::with_capacity(ca.len());
        for (row, v) in ca.iter().enumerate() {
            match v {
                Some(s) if !s.trim().is_empty() => values.push(s.trim().to_string()),
                _ => return Err(self.invalid(name, row, "", "a non-empty value")),
            }
        }
        Ok(Col { name, values })
    }

    /// Numeric cells of a column, each within the column's range in [`COLUMN_RANGES`]
    /// (columns whose range depends on the row use [`Table::number_by`]).
    fn number<'a>(&'a self, name: &'a str, expected: &[&str]) -> Result<Col<'a, f64>> {
        match column_bound(&self.name, name) {
            Some(Bound::Fixed(range)) => self.number_by(name, expected, |_| (range, "")),
            bound => panic!(
                "{}: column `{name}` needs a fixed range in COLUMN_RANGES, has {bound:?}",
                self.name
            ),
        }
    }

    /// Numeric cells of a column of a file that is not a bundled dataset, each within
    /// `[min, max]`, a range that `what` describes in messages.
    pub(crate) fn number_in<'a>(
        &'a self,
        name: &'a str,
        expected: &[&str],
        (what, min, max): (&'static str, f64, f64),
    ) -> Result<Col<'a, f64>> {
        self.number_by(name, expected, |_| (Range::new(what, min, max), ""))
    }

    /// Numeric cells of a column, row `r` within the range `range(r)` gives, with the key
    /// it depends on ("" for none) named in the message.
    pub(crate) fn number_by<'a, 'k>(
        &'a self,
        name: &'a str,
        expected: &[&str],
        range: impl Fn(usize) -> (Range, &'k str),
    ) -> Result<Col<'a, f64>> {
        let text = self.text(name, expected)?;
        let mut values = Vec::with_capacity(text.values.len());
        for (row, s) in text.values.iter().enumerate() {
            let (r, key) = range(row);
            match s.parse::<f64>() {
                Ok(x) if r.contains(x) => values.push(x),
                _ if key.is_empty() => return Err(self.invalid(name, row, s, &r.allowed())),
                _ => {
                    let allowed = format!("for {key}: {}", r.allowed());
                    return Err(self.invalid(name, row, s, &allowed));
                }
            }
        }
        Ok(Col { name, values })
    }

    /// Cells that must be one of `options`; returns the index of each.
    pub(crate) fn choice<'a, S: AsRef<str>>(
        &'a self,
        name: &'a str,
        expected: &[&str],
        options: &[S],
    ) -> Result<Col<'a, usize>> {
        let text = self.text(name, expected)?;
        let allowed = format!(
            "one of {}",
            options
                .iter()
                .map(|o| o.as_ref())
                .collect::<Vec<_>>()
                .join(", ")
        );
        let mut values = Vec::with_capacity(text.values.len());
        for (row, s) in text.values.iter().enumerate() {
            match options.iter().position(|o| o.as_ref() == s) {
                Some(i) => values.push(i),
                None => return Err(self.invalid(name, row, s, &allowed)),
            }
        }
        Ok(Col { name, values })
    }

    /// Requires each key (a tuple of indices) exactly once, over the full grid `sizes`.
    fn require_grid(&self, column: &str, keys: &[Vec<usize>], sizes: &[usize]) -> Result<()> {
        let total: usize = sizes.iter().product();
        let mut seen = vec![false; total];
        for (row, key) in keys.iter().enumerate() {
            let flat = key.iter().zip(sizes).fold(0, |acc, (k, n)| acc * n + k);
            if seen[flat] {
                return Err(self.invalid(column, row, "(duplicate row)", "each key once"));
            }
            seen[flat] = true;
        }
        if keys.len() != total {
            return Err(self.whole(
                column,
                format!(
                    "expected {total} rows (one for every combination), found {}",
                    keys.len()
                ),
            ));
        }
        Ok(())
    }
}

fn bands() -> Vec<&'static str> {
    BAND_LABELS.to_vec()
}

fn load_life_table(t: &Table) -> Result<Array2<f64>> {
    let cols = ["age", "qx_male", "qx_female"];
    let age = t.number("age", &cols)?;
    let m = t.number("qx_male", &cols)?;
    let f = t.number("qx_female", &cols)?;
    let keys: Vec<Vec<usize>> = age.values.iter().map(|a| vec![*a as usize]).collect();
    for (row, a) in age.values.iter().enumerate() {
        if a.fract() != 0.0 {
            return Err(t.invalid("age", row, &a.to_string(), "a whole number of years"));
        }
    }
    t.require_grid("age", &keys, &[N_AGES])?;
    let mut qx = Array2::zeros((N_SEX, N_AGES));
    for row in 0..t.height() {
        let a = age.values[row] as usize;
        qx[[0, a]] = m.values[row];
        qx[[1, a]] = f.values[row];
    }
    Ok(qx)
}

fn load_population(t: &Table) -> Result<Array2<f64>> {
    let cols = ["age_band", "male", "female"];
    let band = t.choice("age_band", &cols, &bands())?;
    let m = t.number("male", &cols)?;
    let f = t.number("female", &cols)?;
    let keys: Vec<Vec<usize>> = band.values.iter().map(|b| vec![*b]).collect();
    t.require_grid("age_band", &keys, &[N_BANDS])?;
    let mut pop = Array2::zeros((N_BANDS, N_SEX));
    for row in 0..t.height() {
        pop[[band.values[row], 0]] = m.values[row];
        pop[[band.values[row], 1]] = f.values[row];
    }
    Ok(pop)
}

fn parse_bool(t: &Table, col: &Col<String>, row: usize) -> Result<bool> {
    match col.values[row].as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        v => Err(t.invalid(col.name, row, v, "true or false")),
    }
}

fn load_segments(t: &Table) -> Result<Vec<SegmentDef>> {
    let cols = [
        "segment",
        "label",
        "severity",
        "mortality_multiplier",
        "newborn",
        "utility",
    ];
    let id = t.text("segment", &cols)?;
    let label = t.text("label", &cols)?;
    let severity = t.number("severity", &cols)?;
    let mort = t.number("mortality_multiplier", &cols)?;
    let newborn = t.text("newborn", &cols)?;
    // EQ-5D runs from below 0 (states worse than death, down to about -0.6 in the UK
    // tariff) to 1; a segment's mean is a year's average, so 0 to 1 here.
    let utility = t.number("utility", &cols)?;
    if t.height() == 0 || t.height() > 255 {
        return Err(t.whole("segment", "expected between 1 and 255 segments"));
    }
    let mut out: Vec<SegmentDef> = Vec::new();
    for row in 0..t.height() {
        let sid = &id.values[row];
        if !is_snake_case(sid) {
            return Err(t.invalid("segment", row, sid, "a snake_case id"));
        }
        if out.iter().any(|s| &s.id == sid) {
            return Err(t.invalid("segment", row, sid, "a segment id not used before"));
        }
        let sev = severity.values[row];
        if sev.fract() != 0.0 || out.iter().any(|s| s.severity == sev as i64) {
            return Err(t.invalid(
                "severity",
                row,
                &sev.to_string(),
                "a whole number, different for each segment",
            ));
        }
        out.push(SegmentDef {
            id: sid.clone(),
            label: label.values[row].clone(),
            severity: sev as i64,
            mortality_multiplier: mort.values[row],
            newborn: parse_bool(t, &newborn, row)?,
            utility: utility.values[row],
        });
    }
    if out.iter().filter(|s| s.newborn).count() != 1 {
        return Err(t.whole(
            "newborn",
            "exactly one segment must be marked newborn = true (where births enter)",
        ));
    }
    Ok(out)
}

fn is_snake_case(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn segment_ids(segments: &[SegmentDef]) -> Vec<&str> {
    segments.iter().map(|s| s.id.as_str()).collect()
}

/// Checks that each group of `rows` (a key per row) sums to 1 within rounding.
fn require_sums_to_one(
    t: &Table,
    column: &str,
    values: &[f64],
    group_of_row: &[usize],
    n_groups: usize,
    describe: impl Fn(usize) -> String,
) -> Result<()> {
    let mut sums = vec![0.0; n_groups];
    for (v, g) in values.iter().zip(group_of_row) {
        sums[*g] += v;
    }
    for (g, s) in sums.iter().enumerate() {
        if (s - 1.0).abs() > 1e-6 {
            return Err(t.whole(
                column,
                format!("{} sums to {s:.6}; it must sum to 1", describe(g)),
            ));
        }
    }
    Ok(())
}

fn load_prevalence(t: &Table, segments: &[SegmentDef]) -> Result<Array2<f64>> {
    let cols = ["age_band", "segment", "share"];
    let band = t.choice("age_band", &cols, &bands())?;
    let seg = t.choice("segment", &cols, &segment_ids(segments))?;
    let share = t.number("share", &cols)?;
    let ns = segments.len();
    let keys: Vec<Vec<usize>> = (0..t.height())
        .map(|r| vec![band.values[r], seg.values[r]])
        .collect();
    t.require_grid("segment", &keys, &[N_BANDS, ns])?;
    require_sums_to_one(t, "share", &share.values, &band.values, N_BANDS, |g| {
        format!("age band {}", BAND_LABELS[g])
    })?;
    let mut prev = Array2::zeros((N_BANDS, ns));
    for r in 0..t.height() {
        prev[[band.values[r], seg.values[r]]] = share.values[r];
    }
    Ok(prev)
}

fn load_transitions(t: &Table, segments: &[SegmentDef]) -> Result<Vec<TransitionGroup>> {
    let cols = ["age_from", "age_to", "from", "to", "probability"];
    let from_age = t.number("age_from", &cols)?;
    let to_age = t.number("age_to", &cols)?;
    let ids = segment_ids(segments);
    let from = t.choice("from", &cols, &ids)?;
    let to = t.choice("to", &cols, &ids)?;
    let p = t.number("probability", &cols)?;
    let ns = segments.len();
    // Groups in order of first appearance.
    let mut groups: Vec<(u8, u8)> = Vec::new();
    let mut group_of_row = Vec::with_capacity(t.height());
    for r in 0..t.height() {
        let key = (from_age.values[r] as u8, to_age.values[r] as u8);
        if key.0 > key.1 {
            return Err(t.invalid(
                "age_to",
                r,
                &to_age.values[r].to_string(),
                "an age at or above age_from",
            ));
        }
        let g = match groups.iter().position(|k| *k == key) {
            Some(g) => g,
            None => {
                groups.push(key);
                groups.len() - 1
            }
        };
        group_of_row.push(g);
    }
    groups.sort();
    let group_of_row: Vec<usize> = (0..t.height())
        .map(|r| {
            let key = (from_age.values[r] as u8, to_age.values[r] as u8);
            groups.iter().position(|k| *k == key).expect("group seen")
        })
        .collect();
    // Age groups must tile 0..=100 without gaps or overlaps.
    let mut next = 0u16;
    for (lo, hi) in &groups {
        if *lo as u16 != next {
            return Err(t.whole(
                "age_from",
                format!("age groups must cover ages 0-100 without gaps or overlaps; a group starts at {lo} where {next} was expected"),
            ));
        }
        next = *hi as u16 + 1;
    }
    if next != N_AGES as u16 {
        return Err(t.whole("age_to", "the last age group must end at 100"));
    }
    let keys: Vec<Vec<usize>> = (0..t.height())
        .map(|r| vec![group_of_row[r], from.values[r], to.values[r]])
        .collect();
    t.require_grid("to", &keys, &[groups.len(), ns, ns])?;
    let row_group: Vec<usize> = (0..t.height())
        .map(|r| group_of_row[r] * ns + from.values[r])
        .collect();
    require_sums_to_one(
        t,
        "probability",
        &p.values,
        &row_group,
        groups.len() * ns,
        |g| {
            let (lo, hi) = groups[g / ns];
            format!("the row from `{}` at ages {lo}-{hi}", ids[g % ns])
        },
    )?;
    let mut out: Vec<TransitionGroup> = groups
        .iter()
        .map(|(lo, hi)| TransitionGroup {
            age_from: *lo,
            age_to: *hi,
            p: Array2::zeros((ns, ns)),
        })
        .collect();
    for r in 0..t.height() {
        out[group_of_row[r]].p[[from.values[r], to.values[r]]] = p.values[r];
    }
    Ok(out)
}

fn imd_key(t: &Table, col: &Col<f64>) -> Result<Vec<usize>> {
    col.values
        .iter()
        .enumerate()
        .map(|(r, q)| {
            if q.fract() == 0.0 && (1.0..=N_IMD as f64).contains(q) {
                Ok(*q as usize - 1)
            } else {
                Err(t.invalid(col.name, r, &q.to_string(), "a whole number from 1 to 5"))
            }
        })
        .collect()
}

fn load_deprivation(t: &Table) -> Result<[Deprivation; N_IMD]> {
    let cols = [
        "imd_quintile",
        "mortality_multiplier",
        "morbidity_multiplier",
    ];
    let q = t.number("imd_quintile", &cols)?;
    let q = imd_key(t, &q)?;
    let m = t.number("mortality_multiplier", &cols)?;
    let b = t.number("morbidity_multiplier", &cols)?;
    let keys: Vec<Vec<usize>> = q.iter().map(|x| vec![*x]).collect();
    t.require_grid("imd_quintile", &keys, &[N_IMD])?;
    let mut out = [Deprivation {
        mortality_multiplier: 1.0,
        morbidity_multiplier: 1.0,
    }; N_IMD];
    for r in 0..t.height() {
        out[q[r]] = Deprivation {
            mortality_multiplier: m.values[r],
            morbidity_multiplier: b.values[r],
        };
    }
    Ok(out)
}

fn load_fertility(t: &Table) -> Result<[f64; N_BANDS]> {
    let cols = ["age_band", "rate"];
    let band = t.choice("age_band", &cols, &bands())?;
    let rate = t.number("rate", &cols)?;
    let mut out = [0.0; N_BANDS];
    let mut seen = [false; N_BANDS];
    for r in 0..t.height() {
        let b = band.values[r];
        if seen[b] {
            return Err(t.invalid("age_band", r, BAND_LABELS[b], "each age band once"));
        }
        seen[b] = true;
        out[b] = rate.values[r];
    }
    Ok(out)
}

fn load_migration(t: &Table) -> Result<Array3<f64>> {
    let cols = ["age_band", "sex", "in_rate", "out_rate"];
    let band = t.choice("age_band", &cols, &bands())?;
    let sex = t.choice("sex", &cols, &SEX_LABELS)?;
    let inr = t.number("in_rate", &cols)?;
    let outr = t.number("out_rate", &cols)?;
    let keys: Vec<Vec<usize>> = (0..t.height())
        .map(|r| vec![band.values[r], sex.values[r]])
        .collect();
    t.require_grid("sex", &keys, &[N_BANDS, N_SEX])?;
    let mut out = Array3::zeros((N_BANDS, N_SEX, 2));
    for r in 0..t.height() {
        out[[band.values[r], sex.values[r], 0]] = inr.values[r];
        out[[band.values[r], sex.values[r], 1]] = outr.values[r];
    }
    Ok(out)
}

fn load_cashable(t: &Table) -> Result<[f64; N_SETTINGS]> {
    let cols = ["setting", "cashable_share", "source"];
    let names: Vec<&str> = Setting::ALL.iter().map(|s| s.id()).collect();
    let setting = t.choice("setting", &cols, &names)?;
    let share = t.number("cashable_share", &cols)?;
    t.text("source", &cols)?;
    let keys: Vec<Vec<usize>> = setting.values.iter().map(|s| vec![*s]).collect();
    t.require_grid("setting", &keys, &[names.len()])?;
    let mut out = [0.0; N_SETTINGS];
    for r in 0..t.height() {
        out[setting.values[r]] = share.values[r];
    }
    Ok(out)
}

/// `activity_trends.csv`: one row per setting; a derived setting (bed days) follows its
/// parent and must be 0.
fn load_trends(t: &Table) -> Result<[f64; N_SETTINGS]> {
    let cols = ["setting", "yearly_growth", "source"];
    let names: Vec<&str> = Setting::ALL.iter().map(|s| s.id()).collect();
    let setting = t.choice("setting", &cols, &names)?;
    let growth = t.number("yearly_growth", &cols)?;
    t.text("source", &cols)?;
    let keys: Vec<Vec<usize>> = setting.values.iter().map(|s| vec![*s]).collect();
    t.require_grid("setting", &keys, &[names.len()])?;
    let mut out = [0.0; N_SETTINGS];
    for r in 0..t.height() {
        let s = Setting::ALL[setting.values[r]];
        if s.derived_from().is_some() && growth.values[r] != 0.0 {
            return Err(t.invalid(
                "yearly_growth",
                r,
                &growth.values[r].to_string(),
                "0 for a setting derived from another (it follows its parent)",
            ));
        }
        out[setting.values[r]] = growth.values[r];
    }
    Ok(out)
}

/// `end_of_life.csv`: a row per (setting, age band) for every setting not derived from
/// another.
fn load_end_of_life(t: &Table) -> Result<Array2<f64>> {
    let cols = ["setting", "age_band", "extra_per_death"];
    let direct: Vec<Setting> = Setting::ALL
        .iter()
        .copied()
        .filter(|s| s.derived_from().is_none())
        .collect();
    let names: Vec<&str> = direct.iter().map(|s| s.id()).collect();
    let setting = t.choice("setting", &cols, &names)?;
    let band = t.choice("age_band", &cols, &bands())?;
    let extra = t.number("extra_per_death", &cols)?;
    let keys: Vec<Vec<usize>> = (0..t.height())
        .map(|r| vec![setting.values[r], band.values[r]])
        .collect();
    t.require_grid("age_band", &keys, &[names.len(), N_BANDS])?;
    let mut out = Array2::zeros((N_SETTINGS, N_BANDS));
    for r in 0..t.height() {
        out[[direct[setting.values[r]].index(), band.values[r]]] = extra.values[r];
    }
    Ok(out)
}

fn load_settings(t: &Table) -> Result<Vec<SettingDef>> {
    let cols = [
        "setting",
        "label",
        "sector",
        "unit",
        "unit_cost",
        "price_year",
        "real_price_growth",
    ];
    let names: Vec<&str> = Setting::ALL.iter().map(|s| s.id()).collect();
    let setting = t.choice("setting", &cols, &names)?;
    let label = t.text("label", &cols)?;
    let sectors: Vec<&str> = Sector::ALL.iter().map(|s| s.id()).collect();
    let sector = t.choice("sector", &cols, &sectors)?;
    let unit = t.text("unit", &cols)?;
    let cost = t.number("unit_cost", &cols)?;
    let year = t.text("price_year", &cols)?;
    let growth = t.number("real_price_growth", &cols)?;
    let keys: Vec<Vec<usize>> = setting.values.iter().map(|s| vec![*s]).collect();
    t.require_grid("setting", &keys, &[names.len()])?;
    let mut out: Vec<Option<SettingDef>> = vec![None; names.len()];
    for r in 0..t.height() {
        out[setting.values[r]] = Some(SettingDef {
            setting: Setting::ALL[setting.values[r]],
            label: label.values[r].clone(),
            sector: Sector::ALL[sector.values[r]],
            unit: unit.values[r].clone(),
            unit_cost: cost.values[r],
            price_year: year.values[r].clone(),
            real_price_growth: growth.values[r],
        });
    }
    Ok(out.into_iter().map(|s| s.expect("grid checked")).collect())
}

fn load_parameters(t: &Table) -> Result<Parameters> {
    let cols = ["name", "value", "unit", "source"];
    let known: Vec<&str> = PARAMETER_RANGES.iter().map(|(n, _)| *n).collect();
    let name = t.choice("name", &cols, &known)?;
    let value = t.number_by("value", &cols, |r| {
        let (key, range) = PARAMETER_RANGES[name.values[r]];
        (range, key)
    })?;
    t.text("unit", &cols)?;
    t.text("source", &cols)?;
    // Each value is already within its range (`PARAMETER_RANGES`).
    let get = |key: &str| -> Result<f64> {
        let i = known.iter().position(|k| *k == key).expect("a known key");
        let rows: Vec<usize> = (0..t.height()).filter(|r| name.values[*r] == i).collect();
        match rows.as_slice() {
            [r] => Ok(value.values[*r]),
            [] => Err(t.whole("name", format!("no row names parameter `{key}`"))),
            _ => Err(t.whole("name", format!("parameter `{key}` is given more than once"))),
        }
    };
    let count = |key: &str| -> Result<usize> {
        let v = get(key)?;
        if v.fract() != 0.0 {
            return Err(t.whole("value", format!("{key} must be a whole number")));
        }
        Ok(v as usize)
    };
    let p = Parameters {
        cost_inflation: get("cost_inflation")?,
        emergency_los_shape: get("emergency_los_shape")?,
        risk_shape: get("risk_shape")?,
        male_birth_share: get("male_birth_share")?,
        england_systems: count("england_systems")?,
        england_neighbourhoods: count("england_neighbourhoods")?,
        england_places_per_system: count("england_places_per_system")?,
        neighbourhood_size_mean: get("neighbourhood_size_mean")?,
        neighbourhood_size_sd: get("neighbourhood_size_sd")?,
        neighbourhood_size_min: get("neighbourhood_size_min")?,
        neighbourhood_size_max: get("neighbourhood_size_max")?,
        condition_recording_sensitivity: get("condition_recording_sensitivity")?,
        ward_beds: get("ward_beds")?,
        bed_occupancy: get("bed_occupancy")?,
        envelope_real_growth: get("envelope_real_growth")?,
        variation_hospital_shared_sd: get("variation_hospital_shared_sd")?,
        variation_hospital_setting_sd: get("variation_hospital_setting_sd")?,
        variation_other_sd: get("variation_other_sd")?,
        variation_yearly_sd: get("variation_yearly_sd")?,
    };
    if p.england_neighbourhoods < p.england_systems * p.england_places_per_system {
        return Err(t.whole(
            "value",
            "england_neighbourhoods must be at least england_systems x england_places_per_system",
        ));
    }
    if p.neighbourhood_size_min > p.neighbourhood_size_max {
        return Err(t.whole(
            "value",
            "neighbourhood_size_min must not exceed neighbourhood_size_max",
        ));
    }
    Ok(p)
}

/// Settings that have their own rates (all but those derived from another setting).
fn rated_settings() -> Vec<&'static str> {
    Setting::ALL
        .iter()
        .filter(|s| s.derived_from().is_none())
        .map(|s| s.id())
        .collect()
}

fn setting_index(rated_index: usize) -> usize {
    let id = rated_settings()[rated_index];
    Setting::ALL
        .iter()
        .position(|s| s.id() == id)
        .expect("rated setting")
}

fn load_activity_rates(t: &Table) -> Result<Array3<f64>> {
    let cols = ["setting", "age_band", "sex", "rate"];
    let rated = rated_settings();
    let setting = t.choice("setting", &cols, &rated)?;
    let band = t.choice("age_band", &cols, &bands())?;
    let sex = t.choice("sex", &cols, &SEX_LABELS)?;
    let rate = t.number_by("rate", &cols, |r| {
        let s = Setting::ALL[setting_index(setting.values[r])];
        (rate_range(s), s.id())
    })?;
    let keys: Vec<Vec<usize>> = (0..t.height())
        .map(|r| vec![setting.values[r], band.values[r], sex.values[r]])
        .collect();
    t.require_grid("setting", &keys, &[rated.len(), N_BANDS, N_SEX])?;
    let mut out = Array3::zeros((Setting::ALL.len(), N_BANDS, N_SEX));
    for r in 0..t.height() {
        out[[
            setting_index(setting.values[r]),
            band.values[r],
            sex.values[r],
        ]] = rate.values[r];
    }
    Ok(out)
}

fn load_activity_segment(t: &Table, segments: &[SegmentDef]) -> Result<Array2<f64>> {
    let cols = ["setting", "segment", "multiplier"];
    let rated = rated_settings();
    let setting = t.choice("setting", &cols, &rated)?;
    let seg = t.choice("segment", &cols, &segment_ids(segments))?;
    let m = t.number("multiplier", &cols)?;
    let keys: Vec<Vec<usize>> = (0..t.height())
        .map(|r| vec![setting.values[r], seg.values[r]])
        .collect();
    t.require_grid("segment", &keys, &[rated.len(), segments.len()])?;
    let mut out = Array2::ones((Setting::ALL.len(), segments.len()));
    for r in 0..t.height() {
        out[[setting_index(setting.values[r]), seg.values[r]]] = m.values[r];
    }
    Ok(out)
}

/// `length_of_stay.csv`: one row per age band.
fn load_los_band(t: &Table) -> Result<[f64; N_BANDS]> {
    let cols = ["age_band", "mean_days", "source"];
    let band = t.choice("age_band", &cols, &bands())?;
    let days = t.number("mean_days", &cols)?;
    t.text("source", &cols)?;
    let keys: Vec<Vec<usize>> = band.values.iter().map(|b| vec![*b]).collect();
    t.require_grid("age_band", &keys, &[N_BANDS])?;
    let mut out = [0.0; N_BANDS];
    for r in 0..t.height() {
        out[band.values[r]] = days.values[r];
    }
    Ok(out)
}

/// `length_of_stay_segments.csv`: one row per segment.
fn load_los_segment(t: &Table, segments: &[SegmentDef]) -> Result<Vec<f64>> {
    let cols = ["segment", "multiplier", "source"];
    let seg = t.choice("segment", &cols, &segment_ids(segments))?;
    let m = t.number("multiplier", &cols)?;
    t.text("source", &cols)?;
    let keys: Vec<Vec<usize>> = seg.values.iter().map(|g| vec![*g]).collect();
    t.require_grid("segment", &keys, &[segments.len()])?;
    let mut out = vec![1.0; segments.len()];
    for r in 0..t.height() {
        out[seg.values[r]] = m.values[r];
    }
    Ok(out)
}

fn load_activity_deprivation(t: &Table) -> Result<Array2<f64>> {
    let cols = ["setting", "imd_quintile", "multiplier"];
    let rated = rated_settings();
    let setting = t.choice("setting", &cols, &rated)?;
    let q = t.number("imd_quintile", &cols)?;
    let q = imd_key(t, &q)?;
    let m = t.number("multiplier", &cols)?;
    let keys: Vec<Vec<usize>> = (0..t.height())
        .map(|r| vec![setting.values[r], q[r]])
        .collect();
    t.require_grid("imd_quintile", &keys, &[rated.len(), N_IMD])?;
    let mut out = Array2::ones((Setting::ALL.len(), N_IMD));
    for r in 0..t.height() {
        out[[setting_index(setting.values[r]), q[r]]] = m.values[r];
    }
    Ok(out)
}

fn load_archetypes(t: &Table, ages: &Table) -> Result<Vec<Archetype>> {
    let imd_cols = ["imd_1", "imd_2", "imd_3", "imd_4", "imd_5"];
    let mut cols = vec!["archetype", "label", "england_share"];
    cols.extend(imd_cols);
    let id = t.text("archetype", &cols)?;
    let label = t.text("label", &cols)?;
    let share = t.number("england_share", &cols)?;
    let imd: Vec<Col<f64>> = imd_cols
        .iter()
        .map(|c| t.number(c, &cols))
        .collect::<Result<_>>()?;
    let mut out: Vec<Archetype> = Vec::new();
    for r in 0..t.height() {
        if out.iter().any(|a| a.id == id.values[r]) {
            return Err(t.invalid("archetype", r, &id.values[r], "each archetype once"));
        }
        let mix: [f64; N_IMD] = std::array::from_fn(|q| imd[q].values[r]);
        if (mix.iter().sum::<f64>() - 1.0).abs() > 1e-6 {
            return Err(t.whole(
                "imd_1..imd_5",
                format!(
                    "the deprivation mix of `{}` sums to {:.6}; it must sum to 1",
                    id.values[r],
                    mix.iter().sum::<f64>()
                ),
            ));
        }
        out.push(Archetype {
            id: id.values[r].clone(),
            label: label.values[r].clone(),
            england_share: share.values[r],
            imd: mix,
            age_weight: [0.0; N_BANDS],
        });
    }
    if out.is_empty() {
        return Err(t.whole("archetype", "at least one archetype is needed"));
    }
    require_sums_to_one(
        t,
        "england_share",
        &share.values,
        &vec![0; t.height()],
        1,
        |_| "england_share over all archetypes".into(),
    )?;

    let acols = ["archetype", "age_band", "weight"];
    let ids: Vec<&str> = out.iter().map(|a| a.id.as_str()).collect();
    let arch = ages.choice("archetype", &acols, &ids)?;
    let band = ages.choice("age_band", &acols, &bands())?;
    let w = ages.number("weight", &acols)?;
    let keys: Vec<Vec<usize>> = (0..ages.height())
        .map(|r| vec![arch.values[r], band.values[r]])
        .collect();
    ages.require_grid("age_band", &keys, &[out.len(), N_BANDS])?;
    for r in 0..ages.height() {
        out[arch.values[r]].age_weight[band.values[r]] = w.values[r];
    }
    Ok(out)
}

fn load_default_system(t: &Table, archetypes: &[Archetype]) -> Result<Vec<NeighbourhoodRow>> {
    let cols = [
        "system",
        "place",
        "neighbourhood",
        "archetype",
        "registered_population",
    ];
    let system = t.text("system", &cols)?;
    let place = t.text("place", &cols)?;
    let nb = t.text("neighbourhood", &cols)?;
    let ids: Vec<&str> = archetypes.iter().map(|a| a.id.as_str()).collect();
    let arch = t.choice("archetype", &cols, &ids)?;
    let pop = t.number("registered_population", &cols)?;
    let mut out: Vec<NeighbourhoodRow> = Vec::new();
    for r in 0..t.height() {
        if out.iter().any(|n| n.neighbourhood == nb.values[r]) {
            return Err(t.invalid("neighbourhood", r, &nb.values[r], "a unique name"));
        }
        if pop.values[r].fract() != 0.0 {
            return Err(t.invalid(
                "registered_population",
                r,
                &pop.values[r].to_string(),
                "a whole number of people",
            ));
        }
        out.push(NeighbourhoodRow {
            system: system.values[r].clone(),
            place: place.values[r].clone(),
            neighbourhood: nb.values[r].clone(),
            archetype: arch.values[r],
            registered_population: pop.values[r] as u64,
        });
    }
    if out.is_empty() {
        return Err(t.whole("neighbourhood", "at least one neighbourhood is needed"));
    }
    Ok(out)
}

/// Capitation adjustments of one place.
#[derive(Debug, Clone, PartialEq)]
pub struct PlaceFactors {
    pub place: String,
    pub market_forces_factor: f64,
    pub rurality_index: f64,
}

fn load_inequalities_uplift(t: &Table) -> Result<[f64; N_IMD]> {
    let cols = ["imd_quintile", "inequalities_uplift"];
    let q = t.number("imd_quintile", &cols)?;
    let q = imd_key(t, &q)?;
    let u = t.number("inequalities_uplift", &cols)?;
    let keys: Vec<Vec<usize>> = q.iter().map(|x| vec![*x]).collect();
    t.require_grid("imd_quintile", &keys, &[N_IMD])?;
    let mut out = [0.0; N_IMD];
    for r in 0..t.height() {
        out[q[r]] = u.values[r];
    }
    Ok(out)
}

fn load_place_factors(t: &Table, system: &[NeighbourhoodRow]) -> Result<Vec<PlaceFactors>> {
    let mut places: Vec<&str> = Vec::new();
    for n in system {
        if !places.contains(&n.place.as_str()) {
            places.push(&n.place);
        }
    }
    place_factors(t, &places)
}

/// Reads a scenario's own places file (`[capitation] places`), in the columns of
/// `capitation_places.csv`, for the places of its geography (`places`): imported or
/// generated places have no row in the bundled file. Checked cell by cell like a dataset.
pub fn load_place_file(path: &Path, places: &[&str]) -> Result<Vec<PlaceFactors>> {
    place_factors(&Table::read(path)?, places)
}

fn place_factors(t: &Table, places: &[&str]) -> Result<Vec<PlaceFactors>> {
    let cols = ["place", "market_forces_factor", "rurality_index"];
    let text = t.text("place", &cols)?;
    // A geography of a thousand places is not listed in an error; its ends show the form.
    let allowed = match places {
        [] => "a place of the scenario's geography (it has none)".to_string(),
        p if p.len() <= 12 => format!("one of {}", p.join(", ")),
        p => format!(
            "a place of the scenario's geography ({} places, {} to {})",
            p.len(),
            p[0],
            p[p.len() - 1]
        ),
    };
    let mut values = Vec::with_capacity(text.values.len());
    for (row, name) in text.values.iter().enumerate() {
        match places.iter().position(|p| p == name) {
            Some(i) => values.push(i),
            None => return Err(t.invalid("place", row, name, &allowed)),
        }
    }
    let place = Col {
        name: "place",
        values,
    };
    // Plausible ranges: they scale unit costs as well as budgets. NHS market forces factors
    // lie within about 0.9-1.3 and Carr-Hill rurality indices within a few per cent of 1.
    let mff = t.number_in(
        "market_forces_factor",
        &cols,
        ("a market forces factor", 0.8, 1.5),
    )?;
    let rur = t.number_in("rurality_index", &cols, ("a rurality index", 0.8, 1.5))?;
    let mut out: Vec<PlaceFactors> = Vec::new();
    for r in 0..t.height() {
        let name = places[place.values[r]];
        if out.iter().any(|p| p.place == name) {
            return Err(t.invalid("place", r, name, "each place once"));
        }
        out.push(PlaceFactors {
            place: name.to_string(),
            market_forces_factor: mff.values[r],
            rurality_index: rur.values[r],
        });
    }
    Ok(out)
}

/// A bed base (`[capacity] beds_file`): rows of `area,beds`, each area a system, place or
/// neighbourhood of the scenario's geography (`areas`), once; beds from 0 to a million.
/// Unknown areas are errors naming the row and what is allowed.
pub fn load_bed_base(path: &Path, areas: &[&str]) -> Result<Vec<(String, f64)>> {
    let t = Table::read(path)?;
    let cols = ["area", "beds"];
    let text = t.text("area", &cols)?;
    let allowed = match areas {
        [] => "an area of the scenario's geography (it has none)".to_string(),
        a if a.len() <= 12 => format!("a system, place or neighbourhood: one of {}", a.join(", ")),
        a => format!(
            "a system, place or neighbourhood of the scenario's geography ({} areas, {} to {})",
            a.len(),
            a[0],
            a[a.len() - 1]
        ),
    };
    let beds = t.number_in("beds", &cols, ("a number of beds", 0.0, 1_000_000.0))?;
    let mut out: Vec<(String, f64)> = Vec::with_capacity(t.height());
    for (row, name) in text.values.iter().enumerate() {
        if !areas.contains(&name.as_str()) {
            return Err(t.invalid("area", row, name, &allowed));
        }
        if out.iter().any(|(a, _)| a == name) {
            return Err(t.invalid("area", row, name, "each area once"));
        }
        out.push((name.clone(), beds.values[row]));
    }
    Ok(out)
}

fn load_benchmarks(t: &Table) -> Result<Vec<Benchmark>> {
    let cols = ["measure", "value", "year", "source"];
    let measure = t.text("measure", &cols)?;
    let value = t.number("value", &cols)?;
    let year = t.text("year", &cols)?;
    let source = t.text("source", &cols)?;
    Ok((0..t.height())
        .map(|r| Benchmark {
            measure: measure.values[r].clone(),
            value: value.values[r],
            year: year.values[r].clone(),
            source: source.values[r].clone(),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every column of a bundled file whose cells are all numbers has a range: a new
    /// numeric column cannot be added without one.
    #[test]
    fn every_numeric_column_has_a_range() {
        for (file, text) in BUNDLED {
            let t = Table::parse(file, file.to_string(), text.as_bytes()).unwrap();
            for column in t.df.get_column_names() {
                let cells = t.text(column.as_str(), &[]).unwrap().values;
                let numeric = cells.iter().all(|v| v.parse::<f64>().is_ok());
                assert_eq!(
                    numeric,
                    column_bound(file, column).is_some(),
                    "{file}: column `{column}` (numeric: {numeric}) and COLUMN_RANGES disagree"
                );
            }
        }
    }

    /// `datasets/README.md` states every range as the code applies it.
    #[test]
    fn the_readme_states_every_range() {
        let readme = include_str!("../../datasets/README.md");
        for row in range_rows() {
            assert!(
                readme.contains(&row),
                "datasets/README.md lacks the row `{row}`"
            );
        }
    }

    #[test]
    fn bundled_datasets_load() {
        let d = Datasets::bundled().expect("bundled datasets are valid");
        assert_eq!(d.settings.len(), Setting::ALL.len());
        assert_eq!(d.checksum.len(), 64);
        assert!(d.default_system.len() >= 30);
    }
}

/// A user-supplied capitation weight table (`basis = "table"`): a weight per head for every
/// (age band, sex, deprivation quintile, recorded segment), for example published national
/// weights. Laid out by `core::dims::Cell::census`.
#[derive(Debug, Clone, PartialEq)]
pub struct WeightTable {
    pub weights: Vec<f64>,
}

/// Reads a weight table: columns `age_band`, `sex`, `imd_quintile`, `segment` and
/// `weight`, one row for every combination. A bad cell, a missing or duplicate row, or a
/// missing column is an error naming the file, line and column.
pub fn load_weight_table(path: &Path, segments: &[SegmentDef]) -> Result<WeightTable> {
    let t = Table::read(path)?;
    let cols = ["age_band", "sex", "imd_quintile", "segment", "weight"];
    let band = t.choice("age_band", &cols, &BAND_LABELS)?;
    let sex = t.choice("sex", &cols, &SEX_LABELS)?;
    let imd = t.number_by("imd_quintile", &cols, |_| (QUINTILE, ""))?;
    let imd = imd_key(&t, &imd)?;
    let seg = t.choice("segment", &cols, &segment_ids(segments))?;
    // A weight is a relative cost per head; 1e6 (a million times the cheapest plausible
    // person) is far beyond any published weight.
    let weight = t.number_by("weight", &cols, |_| {
        (Range::new("a relative weight", 0.0, 1e6), "")
    })?;
    let keys: Vec<Vec<usize>> = (0..t.height())
        .map(|r| vec![band.values[r], sex.values[r], imd[r], seg.values[r]])
        .collect();
    t.require_grid("segment", &keys, &[N_BANDS, N_SEX, N_IMD, segments.len()])?;
    let ns = segments.len();
    let mut weights = vec![0.0; crate::core::dims::n_cells(ns)];
    for (r, k) in keys.iter().enumerate() {
        let c = crate::core::dims::Cell {
            band: k[0],
            sex: k[1],
            imd: k[2],
            segment: k[3],
        };
        weights[c.census(ns)] = weight.values[r];
    }
    if weights.iter().all(|w| *w == 0.0) {
        return Err(t.whole(
            "weight",
            "every weight is zero; give relative costs per head",
        ));
    }
    Ok(WeightTable { weights })
}
