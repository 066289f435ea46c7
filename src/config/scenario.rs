//! Scenario files: what to simulate and which shift-left interventions to fund.
//!
//! A scenario is a TOML file, read into typed structs that refuse unknown fields. It may
//! `extends` another file (a path relative to itself): its settings override the base's,
//! and its interventions are added to the base's (one with the same name replaces the
//! base's). Errors name the file, the line where known, the field, and what is allowed.
//! Checks that need the datasets or the geography (does this segment exist?) run in
//! [`Scenario::check`], before anything is simulated.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::config::uncertainty::{Amount, Effect, Share};
use crate::core::care::{Sector, Setting};
use crate::core::dims::{N_BANDS, N_IMD};
use crate::core::error::{CapsimError, Result};
use crate::data::datasets::Datasets;
use crate::data::geography::{Geography, Preset};

/// The example scenarios shipped in `scenarios/`, written by `capsim init`.
pub const EXAMPLES: [(&str, &str); 6] = [
    (
        "baseline.toml",
        include_str!("../../scenarios/baseline.toml"),
    ),
    (
        "frailty-virtual-wards.toml",
        include_str!("../../scenarios/frailty-virtual-wards.toml"),
    ),
    (
        "proactive-complex-care.toml",
        include_str!("../../scenarios/proactive-complex-care.toml"),
    ),
    (
        "prevention-stable-ltc.toml",
        include_str!("../../scenarios/prevention-stable-ltc.toml"),
    ),
    (
        "all-of-the-above.toml",
        include_str!("../../scenarios/all-of-the-above.toml"),
    ),
    ("batch.toml", include_str!("../../scenarios/batch.toml")),
];

/// Which people a run simulates.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Population {
    #[serde(default = "default_preset")]
    pub preset: Preset,
    /// Only these neighbourhoods (by name); empty means all.
    #[serde(default)]
    pub neighbourhoods: Vec<String>,
    /// Only the neighbourhoods of these places (by name); empty means all.
    #[serde(default)]
    pub places: Vec<String>,
}

fn default_preset() -> Preset {
    Preset::Default
}

impl Default for Population {
    fn default() -> Self {
        Population {
            preset: Preset::Default,
            neighbourhoods: Vec::new(),
            places: Vec::new(),
        }
    }
}

/// The money available: a system envelope per year.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Envelope {
    /// Year-one envelope in pounds per resident. When absent, each system's envelope starts
    /// at its own simulated year-one spend without interventions, so that positions show
    /// what the scenario changes.
    #[serde(default)]
    pub per_head: Option<f64>,
    /// Growth of the envelope per year (0.03 = 3%).
    #[serde(default)]
    pub growth: f64,
    /// Split of the envelope between sectors, summing to 1. When absent, the system's
    /// year-one spend by sector without interventions.
    #[serde(default)]
    pub sector_shares: Option<BTreeMap<Sector, f64>>,
    /// Share of the social care envelope pooled with health (as in the Better Care Fund):
    /// reported as the `pooled` fund, health sectors plus this share of social care.
    #[serde(default)]
    pub pooled_social_care: Option<Share>,
}

impl Default for Envelope {
    fn default() -> Self {
        Envelope {
            per_head: None,
            growth: 0.0,
            sector_shares: None,
            pooled_social_care: None,
        }
    }
}

/// What a capitation formula weights people by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// Residents at the start of the year.
    Headcount,
    /// An age-sex cost curve: expected cost per head by age band and sex, per sector,
    /// from the datasets' activity rates and unit costs.
    AgeSex,
    /// Person-based need: expected cost per head by age band, sex, deprivation quintile and
    /// segment, per sector, from the same tables.
    Need,
    /// Each neighbourhood's simulated spend in the previous year (year 1: its spend without
    /// interventions).
    Historic,
}

impl Basis {
    pub fn id(self) -> &'static str {
        match self {
            Basis::Headcount => "headcount",
            Basis::AgeSex => "age_sex",
            Basis::Need => "need",
            Basis::Historic => "historic",
        }
    }
}

/// A capitation formula: a basis and the adjustments applied to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Formula {
    /// Name in outputs; defaults to the basis.
    #[serde(default)]
    pub name: Option<String>,
    pub basis: Basis,
    /// Multiply by the place's market forces factor (`datasets/capitation_places.csv`).
    #[serde(default)]
    pub market_forces: bool,
    /// Multiply by 1 + the quintile's unmet-need uplift (`capitation_deprivation.csv`).
    #[serde(default)]
    pub inequalities: bool,
    /// Multiply by the place's rurality index.
    #[serde(default)]
    pub rurality: bool,
}

impl Formula {
    pub fn name(&self) -> String {
        self.name.clone().unwrap_or_else(|| self.basis.id().into())
    }
}

/// A formula written as a bare basis name (`"need"`) or as a table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
enum FormulaEntry {
    Basis(Basis),
    Table(Formula),
}

/// One formula or a list of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
enum Formulas {
    // Many first: a table can also be read from a sequence, which would swallow a list.
    Many(Vec<FormulaEntry>),
    One(FormulaEntry),
}

fn formulas<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Vec<Formula>, D::Error> {
    let to = |e: FormulaEntry| match e {
        FormulaEntry::Basis(basis) => Formula {
            name: None,
            basis,
            market_forces: false,
            inequalities: false,
            rurality: false,
        },
        FormulaEntry::Table(f) => f,
    };
    Ok(match Formulas::deserialize(d)? {
        Formulas::One(e) => vec![to(e)],
        Formulas::Many(v) => v.into_iter().map(to).collect(),
    })
}

/// Moving each neighbourhood from its current share (its spend share before any change)
/// toward the formula's target, by at most `max_step` of the envelope a year, and never
/// letting a neighbourhood's cash grow by less than `cash_floor` where the envelope allows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaceOfChange {
    pub max_step: Share,
    #[serde(default)]
    pub cash_floor: f64,
}

/// Where a risk pool sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PoolLevel {
    Place,
    System,
}

/// How a neighbourhood's surplus or deficit is shared. Applied in order: the pool absorbs
/// any deficit beyond `pool_threshold` of the budget; providers keep `provider_share` of
/// what is left (the commissioner the rest); their gain is capped at `cap` and their loss
/// at `collar`, each a share of the budget.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RiskSharing {
    #[serde(default)]
    pub pool: Option<PoolLevel>,
    #[serde(default)]
    pub pool_threshold: Option<Share>,
    #[serde(default = "full_share")]
    pub provider_share: Share,
    #[serde(default)]
    pub cap: Option<Share>,
    #[serde(default)]
    pub collar: Option<Share>,
}

fn full_share() -> Share {
    Share(1.0)
}

impl Default for RiskSharing {
    fn default() -> Self {
        RiskSharing {
            pool: None,
            pool_threshold: None,
            provider_share: Share(1.0),
            cap: None,
            collar: None,
        }
    }
}

/// How the envelope is shared out between places and neighbourhoods.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Capitation {
    /// One formula, or several compared side by side; the first is the one headline
    /// positions use.
    #[serde(default = "default_formulas", deserialize_with = "formulas")]
    pub formula: Vec<Formula>,
    #[serde(default)]
    pub pace_of_change: Option<PaceOfChange>,
    #[serde(default)]
    pub risk_sharing: RiskSharing,
}

fn default_formulas() -> Vec<Formula> {
    vec![Formula {
        name: None,
        basis: Basis::Headcount,
        market_forces: false,
        inequalities: false,
        rurality: false,
    }]
}

impl Default for Capitation {
    fn default() -> Self {
        Capitation {
            formula: default_formulas(),
            pace_of_change: None,
            risk_sharing: RiskSharing::default(),
        }
    }
}

/// Who an intervention is for. Every list left empty means "everyone".
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Target {
    #[serde(default)]
    pub segments: Vec<String>,
    /// Youngest age targeted; a multiple of 5, because age bands are five-year.
    #[serde(default)]
    pub age_min: Option<u8>,
    /// Oldest age targeted; one below a multiple of 5 (e.g. 74), or 100 for no limit.
    #[serde(default)]
    pub age_max: Option<u8>,
    /// Deprivation quintiles, 1 (most deprived) to 5.
    #[serde(default)]
    pub imd_quintiles: Vec<u8>,
    #[serde(default)]
    pub neighbourhoods: Vec<String>,
    #[serde(default)]
    pub places: Vec<String>,
}

/// Share of the target enrolled each year: `start` in year 1, rising linearly to `target`
/// in year `1 + ramp_years`, then level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Coverage {
    pub start: Share,
    pub target: Share,
    #[serde(default)]
    pub ramp_years: u32,
}

impl Coverage {
    /// Coverage in simulation year `year` (1-based).
    pub fn in_year(&self, year: u32) -> f64 {
        let (a, b) = (self.start.0, self.target.0);
        if self.ramp_years == 0 {
            return b;
        }
        let t = ((year.max(1) - 1) as f64 / self.ramp_years as f64).min(1.0);
        a + (b - a) * t
    }
}

/// Relative changes in the use of care, transitions and mortality of enrolled people.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Effects {
    #[serde(default)]
    pub emergency_admissions: Option<Effect>,
    /// Length of stay per emergency admission (fewer admissions already mean fewer bed days).
    #[serde(default)]
    pub emergency_bed_days: Option<Effect>,
    #[serde(default)]
    pub ae_attendances: Option<Effect>,
    #[serde(default)]
    pub elective_admissions: Option<Effect>,
    #[serde(default)]
    pub outpatient_attendances: Option<Effect>,
    /// Probability of moving to a more severe segment in a year.
    #[serde(default)]
    pub deterioration: Option<Effect>,
    /// Probability of dying in a year.
    #[serde(default)]
    pub mortality: Option<Effect>,
}

impl Effects {
    /// The activity effects by setting, with their parameter names.
    pub fn activity(&self) -> [(Setting, &Option<Effect>); 5] {
        [
            (Setting::EmergencyAdmissions, &self.emergency_admissions),
            (Setting::EmergencyBedDays, &self.emergency_bed_days),
            (Setting::AeAttendances, &self.ae_attendances),
            (Setting::ElectiveAdmissions, &self.elective_admissions),
            (Setting::OutpatientAttendances, &self.outpatient_attendances),
        ]
    }
}

/// Activity an intervention adds in another setting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Substitution {
    #[serde(default = "Amount::zero")]
    pub per_enrolled: Amount,
    #[serde(default = "Amount::zero")]
    pub per_avoided_admission: Amount,
}

/// Money moved between sector budgets: a share of the gross saving the intervention makes
/// in `from`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FundingShift {
    pub from: Sector,
    pub to: Sector,
    pub share_of_savings: Share,
}

/// One shift-left intervention.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Intervention {
    pub name: String,
    /// Where the effect sizes come from, or that they are assumptions.
    #[serde(default)]
    pub evidence: Option<String>,
    #[serde(default)]
    pub target: Target,
    pub coverage: Coverage,
    /// Pounds per enrolled person per year, at the datasets' price year.
    #[serde(default = "Amount::zero")]
    pub cost_per_enrolled: Amount,
    /// Pounds, once, in year 1.
    #[serde(default = "Amount::zero")]
    pub setup_cost: Amount,
    #[serde(default)]
    pub effects: Effects,
    #[serde(default)]
    pub substitution: BTreeMap<Setting, Substitution>,
    #[serde(default)]
    pub funding_shift: Option<FundingShift>,
    /// The file that defined it, for error messages.
    #[serde(skip)]
    pub file: PathBuf,
}

/// A scenario file as written: everything optional, so that `extends` can fill gaps.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScenarioFile {
    name: Option<String>,
    description: Option<String>,
    extends: Option<String>,
    population: Option<Population>,
    years: Option<u32>,
    seed: Option<u64>,
    runs: Option<u32>,
    envelope: Option<Envelope>,
    capitation: Option<Capitation>,
    #[serde(default)]
    intervention: Vec<Intervention>,
}

/// A scenario with its base files applied and defaults filled in.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scenario {
    pub name: String,
    pub description: String,
    pub file: PathBuf,
    pub population: Population,
    pub years: u32,
    pub seed: u64,
    pub runs: u32,
    pub envelope: Envelope,
    pub capitation: Capitation,
    pub interventions: Vec<Intervention>,
}

/// Settings given on the command line that override every scenario.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    pub years: Option<u32>,
    pub runs: Option<u32>,
    pub population: Option<Preset>,
    pub seed: Option<u64>,
}

impl Overrides {
    /// Range checks, reported against the command-line flag.
    pub fn check(&self) -> Result<()> {
        let bad = |flag: &str, v: u32, allowed: &str| CapsimError::InvalidSetting {
            setting: flag.into(),
            problem: format!("{v} is not allowed; use {allowed}"),
        };
        match (self.years, self.runs) {
            (Some(y), _) if !(1..=100).contains(&y) => Err(bad("--years", y, "1 to 100")),
            (_, Some(r)) if !(1..=100_000).contains(&r) => Err(bad("--runs", r, "1 to 100000")),
            _ => Ok(()),
        }
    }
}

/// Deepest chain of `extends` followed before assuming a mistake.
const MAX_EXTENDS: usize = 16;

pub(crate) fn scenario_error(
    file: &Path,
    line: Option<usize>,
    field: &str,
    problem: impl Into<String>,
) -> CapsimError {
    CapsimError::Scenario {
        file: file.display().to_string(),
        line,
        field: field.to_string(),
        problem: problem.into(),
    }
}

/// The 1-based line of a byte offset.
pub(crate) fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// The first line on which `needle` appears, if any: used to point at a value that is
/// wrong only in the light of the datasets (an unknown segment, say).
fn line_containing(text: &str, needle: &str) -> Option<usize> {
    text.find(needle).map(|o| line_of(text, o))
}

/// Deserialises a TOML document, turning errors into ones naming file, line and field.
pub(crate) fn parse_toml<T: serde::de::DeserializeOwned>(file: &Path, text: &str) -> Result<T> {
    let de = toml::Deserializer::parse(text).map_err(|e| {
        let line = e.span().map(|s| line_of(text, s.start));
        scenario_error(file, line, "(syntax)", e.message().trim().to_string())
    })?;
    serde_path_to_error::deserialize(de).map_err(|e| {
        let field = e.path().to_string();
        let inner = e.into_inner();
        let line = inner.span().map(|s| line_of(text, s.start));
        scenario_error(file, line, &field, inner.message().trim().to_string())
    })
}

fn read(file: &Path) -> Result<String> {
    std::fs::read_to_string(file)
        .map_err(|e| scenario_error(file, None, "(file)", format!("cannot read: {e}")))
}

impl Scenario {
    /// Reads a scenario file and the files it extends.
    pub fn load(file: &Path) -> Result<Self> {
        Self::load_from(file, None)
    }

    /// The bundled baseline scenario (`scenarios/baseline.toml`), what `capsim run` runs
    /// when given no file.
    pub fn bundled_baseline() -> Result<Self> {
        Self::load_from(
            Path::new("scenarios/baseline.toml (bundled)"),
            Some(EXAMPLES[0].1),
        )
    }

    fn load_from(file: &Path, text: Option<&str>) -> Result<Self> {
        let mut chain = Vec::new();
        let mut next = Some(file.to_path_buf());
        let mut given = text;
        while let Some(path) = next {
            if chain
                .iter()
                .any(|(p, _): &(PathBuf, ScenarioFile)| *p == path)
            {
                return Err(scenario_error(
                    &path,
                    None,
                    "extends",
                    "the chain of `extends` loops back to this file",
                ));
            }
            if chain.len() == MAX_EXTENDS {
                return Err(scenario_error(
                    &path,
                    None,
                    "extends",
                    format!("more than {MAX_EXTENDS} files deep"),
                ));
            }
            let text = match given.take() {
                Some(t) => t.to_string(),
                None => read(&path)?,
            };
            let mut parsed: ScenarioFile = parse_toml(&path, &text)?;
            for i in &mut parsed.intervention {
                i.file = path.clone();
            }
            next = parsed
                .extends
                .as_ref()
                .map(|e| path.parent().unwrap_or_else(|| Path::new(".")).join(e));
            chain.push((path, parsed));
        }
        // Apply from the deepest base to the file itself.
        let mut s = Scenario {
            name: String::new(),
            description: String::new(),
            file: file.to_path_buf(),
            population: Population::default(),
            years: 10,
            seed: 42,
            runs: 1,
            envelope: Envelope::default(),
            capitation: Capitation::default(),
            interventions: Vec::new(),
        };
        for (_, f) in chain.into_iter().rev() {
            if let Some(v) = f.name {
                s.name = v;
            }
            if let Some(v) = f.description {
                s.description = v;
            }
            if let Some(v) = f.population {
                s.population = v;
            }
            if let Some(v) = f.years {
                s.years = v;
            }
            if let Some(v) = f.seed {
                s.seed = v;
            }
            if let Some(v) = f.runs {
                s.runs = v;
            }
            if let Some(v) = f.envelope {
                s.envelope = v;
            }
            if let Some(v) = f.capitation {
                s.capitation = v;
            }
            for i in f.intervention {
                match s.interventions.iter_mut().find(|x| x.name == i.name) {
                    Some(old) => *old = i,
                    None => s.interventions.push(i),
                }
            }
        }
        if s.name.is_empty() {
            s.name = file
                .file_stem()
                .map_or("scenario".into(), |n| n.to_string_lossy().into_owned());
        }
        s.check_settings()?;
        Ok(s)
    }

    /// Applies command-line overrides, then re-checks.
    pub fn apply(&mut self, o: &Overrides) -> Result<()> {
        o.check()?;
        if let Some(v) = o.years {
            self.years = v;
        }
        if let Some(v) = o.runs {
            self.runs = v;
        }
        if let Some(v) = o.population {
            self.population.preset = v;
        }
        if let Some(v) = o.seed {
            self.seed = v;
        }
        self.check_settings()
    }

    fn field_error(&self, field: &str, problem: impl Into<String>) -> CapsimError {
        let text = std::fs::read_to_string(&self.file).unwrap_or_default();
        let key = field.rsplit('.').next().unwrap_or(field);
        let line = text
            .lines()
            .position(|l| l.trim_start().starts_with(key))
            .map(|i| i + 1);
        scenario_error(&self.file, line, field, problem)
    }

    /// Checks that need nothing but the scenario itself.
    fn check_settings(&self) -> Result<()> {
        let name_ok = |n: &str| {
            !n.is_empty()
                && n.len() <= 100
                && n.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
                && !n.starts_with('.')
        };
        if !name_ok(&self.name) {
            return Err(self.field_error(
                "name",
                format!(
                    "`{}` is not allowed; use letters, digits, '-', '_' or '.' (it names output folders)",
                    self.name
                ),
            ));
        }
        if !(1..=100).contains(&self.years) {
            return Err(self.field_error(
                "years",
                format!("{} is not allowed; use 1 to 100", self.years),
            ));
        }
        if !(1..=100_000).contains(&self.runs) {
            return Err(self.field_error(
                "runs",
                format!("{} is not allowed; use 1 to 100000", self.runs),
            ));
        }
        if !self.envelope.growth.is_finite() || !(-0.5..=1.0).contains(&self.envelope.growth) {
            return Err(self.field_error(
                "envelope.growth",
                format!("{} is not allowed; use -0.5 to 1", self.envelope.growth),
            ));
        }
        if let Some(p) = self.envelope.per_head {
            if !p.is_finite() || p <= 0.0 {
                return Err(self.field_error(
                    "envelope.per_head",
                    format!("{p} is not allowed; use a positive amount in pounds"),
                ));
            }
        }
        if let Some(shares) = &self.envelope.sector_shares {
            if let Some((s, v)) = shares.iter().find(|(_, v)| !v.is_finite() || **v < 0.0) {
                return Err(self.field_error(
                    "envelope.sector_shares",
                    format!("{} = {v} is not allowed; use a share from 0 to 1", s.id()),
                ));
            }
            let total: f64 = shares.values().sum();
            if (total - 1.0).abs() > 1e-9 {
                return Err(self.field_error(
                    "envelope.sector_shares",
                    format!(
                        "the shares sum to {total}; they must sum to 1 (sectors not listed get 0)"
                    ),
                ));
            }
        }
        let cap = &self.capitation;
        if cap.formula.is_empty() {
            return Err(self.field_error("capitation.formula", "give at least one formula"));
        }
        for (i, f) in cap.formula.iter().enumerate() {
            if cap.formula[..i].iter().any(|g| g.name() == f.name()) {
                return Err(self.field_error(
                    "capitation.formula",
                    format!("two formulas are named `{}`; give one a `name`", f.name()),
                ));
            }
        }
        if let Some(p) = &cap.pace_of_change {
            if !p.cash_floor.is_finite() || !(-0.5..=0.5).contains(&p.cash_floor) {
                return Err(self.field_error(
                    "capitation.pace_of_change.cash_floor",
                    format!("{} is not allowed; use -0.5 to 0.5", p.cash_floor),
                ));
            }
        }
        let rs = &cap.risk_sharing;
        if rs.pool.is_some() != rs.pool_threshold.is_some() {
            return Err(self.field_error(
                "capitation.risk_sharing.pool",
                "a risk pool needs both `pool` (place or system) and `pool_threshold`",
            ));
        }
        for (k, i) in self.interventions.iter().enumerate() {
            let at = |field: &str| format!("intervention[{k}].{field}");
            let err = |field: &str, problem: String| {
                let text = std::fs::read_to_string(&i.file).unwrap_or_default();
                let line = line_containing(&text, &format!("\"{}\"", i.name));
                scenario_error(&i.file, line, &at(field), problem)
            };
            if i.name.trim().is_empty() || i.name.contains('/') {
                return Err(err(
                    "name",
                    "an intervention needs a name without '/'".into(),
                ));
            }
            if self.interventions[..k].iter().any(|x| x.name == i.name) {
                return Err(err("name", format!("`{}` is named twice", i.name)));
            }
            if let Some(a) = i.target.age_min {
                if a % 5 != 0 || a > 90 {
                    return Err(err(
                        "target.age_min",
                        format!(
                            "{a} is not allowed; age bands are five-year, so use 0, 5, ..., 90"
                        ),
                    ));
                }
            }
            if let Some(a) = i.target.age_max {
                if !(a % 5 == 4 && a < 90 || a == 100) {
                    return Err(err(
                        "target.age_max",
                        format!("{a} is not allowed; age bands are five-year, so use 4, 9, ..., 89, or 100 for no limit"),
                    ));
                }
            }
            if let (Some(lo), Some(hi)) = (i.target.age_min, i.target.age_max) {
                if lo > hi {
                    return Err(err(
                        "target.age_min",
                        format!("age_min {lo} is above age_max {hi}"),
                    ));
                }
            }
            if let Some(q) = i
                .target
                .imd_quintiles
                .iter()
                .find(|q| !(1..=5).contains(*q))
            {
                return Err(err(
                    "target.imd_quintiles",
                    format!("{q} is not a quintile; use 1 (most deprived) to 5"),
                ));
            }
            if i.coverage.ramp_years > 100 {
                return Err(err(
                    "coverage.ramp_years",
                    format!("{} is not allowed; use 0 to 100", i.coverage.ramp_years),
                ));
            }
            if let Some(f) = &i.funding_shift {
                if f.from == f.to {
                    return Err(err(
                        "funding_shift",
                        "`from` and `to` are the same sector".into(),
                    ));
                }
            }
            if let Some(s) = i.substitution.keys().find(|s| s.derived_from().is_some()) {
                return Err(err(
                    "substitution",
                    format!(
                        "`{}` is derived from admissions and cannot be added directly",
                        s.id()
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Checks names against the datasets and the geography.
    pub fn check(&self, datasets: &Datasets, geography: &Geography) -> Result<()> {
        let unknown = |file: &Path, field: &str, value: &str, allowed: Vec<&str>| {
            let text = std::fs::read_to_string(file).unwrap_or_default();
            let line = line_containing(&text, &format!("\"{value}\""));
            scenario_error(
                file,
                line,
                field,
                format!("`{value}` does not exist; allowed: {}", allowed.join(", ")),
            )
        };
        let places: Vec<&str> = geography.places.iter().map(|p| p.name.as_str()).collect();
        let nbhds: Vec<&str> = geography
            .neighbourhoods
            .iter()
            .map(|n| n.name.as_str())
            .collect();
        let short = |v: &[&str]| -> Vec<String> {
            if v.len() > 12 {
                let mut s: Vec<String> = v[..12].iter().map(|x| x.to_string()).collect();
                s.push(format!("... ({} in all)", v.len()));
                s
            } else {
                v.iter().map(|x| x.to_string()).collect()
            }
        };
        let check_list = |file: &Path, field: &str, values: &[String], allowed: &[&str]| {
            for v in values {
                if !allowed.contains(&v.as_str()) {
                    let a = short(allowed);
                    return Err(unknown(
                        file,
                        field,
                        v,
                        a.iter().map(String::as_str).collect(),
                    ));
                }
            }
            Ok(())
        };
        check_list(
            &self.file,
            "population.places",
            &self.population.places,
            &places,
        )?;
        check_list(
            &self.file,
            "population.neighbourhoods",
            &self.population.neighbourhoods,
            &nbhds,
        )?;
        let segments: Vec<&str> = datasets.segments.iter().map(|s| s.id.as_str()).collect();
        for (k, i) in self.interventions.iter().enumerate() {
            let at = |f: &str| format!("intervention[{k}].target.{f}");
            check_list(&i.file, &at("segments"), &i.target.segments, &segments)?;
            check_list(&i.file, &at("places"), &i.target.places, &places)?;
            check_list(
                &i.file,
                &at("neighbourhoods"),
                &i.target.neighbourhoods,
                &nbhds,
            )?;
        }
        Ok(())
    }

    /// The geography this scenario simulates: the preset, narrowed to the listed places
    /// and neighbourhoods.
    pub fn geography(&self, datasets: &Datasets) -> Result<Geography> {
        let g = Geography::preset(datasets, self.population.preset)?;
        self.check(datasets, &g)?;
        let p = &self.population;
        if p.places.is_empty() && p.neighbourhoods.is_empty() {
            return Ok(g);
        }
        Ok(g.restricted(|nb, place| {
            (p.places.is_empty() || p.places.iter().any(|x| *x == place))
                && (p.neighbourhoods.is_empty() || p.neighbourhoods.iter().any(|x| *x == nb))
        }))
    }
}

/// Bands covered by a target's age limits, as an inclusive range.
pub fn target_bands(t: &Target) -> (usize, usize) {
    let lo = t.age_min.map_or(0, |a| a as usize / 5);
    let hi = t
        .age_max
        .map_or(N_BANDS - 1, |a| (a as usize / 5).min(N_BANDS - 1));
    (lo, hi)
}

/// Quintile mask of a target (all when none listed).
pub fn target_quintiles(t: &Target) -> [bool; N_IMD] {
    let mut m = [t.imd_quintiles.is_empty(); N_IMD];
    for q in &t.imd_quintiles {
        m[*q as usize - 1] = true;
    }
    m
}
