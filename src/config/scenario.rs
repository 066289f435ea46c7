//! Scenario files: what to simulate and which shift-left interventions to fund.
//!
//! A scenario is a TOML file, read into typed structs that refuse unknown fields. It may
//! `extends` another file (a path relative to itself): its settings override the base's,
//! and its interventions are added to the base's (one with the same name replaces the
//! base's). Errors name the file, the line, the field, and what is allowed.
//!
//! Every file of the chain must be valid by itself: values are checked while each file is
//! parsed (ranges, and checks across the fields of one table such as sector shares summing
//! to 1), so that the TOML parser's own error carries the line, in the file that wrote the
//! value. Checks that need the datasets or the geography (does this segment exist?) run in
//! [`Scenario::resolve`](crate::config::resolve), before anything is simulated, and name
//! the file and line through [`Located`] values.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};

use crate::config::capacity::{intervention_capacity, Capacity, InterventionCapacity};
use crate::config::located::{checked, is_span_wrapper, line_of, spanned_vec, Located};
use crate::config::uncertainty::{
    default_auc, no_years, Amount, Auc, Dist, Effect, EffectYears, Share,
};
use crate::core::care::{Sector, Setting};
use crate::core::error::{CapsimError, Result};
use crate::data::geography::{Preset, RealSource};
use crate::data::published::Component;
use crate::data::published_geography::PlaceBy;

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
    /// A geography folder (`capsim import gp-lists` writes one) simulated instead of the
    /// preset; a scenario file names it relative to itself.
    #[serde(default)]
    pub geography: Option<PathBuf>,
    /// Only these neighbourhoods (by name); empty means all.
    #[serde(default)]
    pub neighbourhoods: Vec<Located<String>>,
    /// Only the neighbourhoods of these places (by name); empty means all.
    #[serde(default)]
    pub places: Vec<Located<String>>,
    /// Real England's practice file instead of the bundled one (NHS England's published
    /// columns; a scenario file names it relative to itself).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub practices: Option<PathBuf>,
    /// Real England's places: sub-ICB locations (default) or local authorities.
    #[serde(default)]
    pub place_by: PlaceBy,
}

fn default_preset() -> Preset {
    Preset::default_icb()
}

/// [`Population`] as read from a scenario file, recording where each name was written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PopulationFile {
    #[serde(default)]
    preset: Option<Preset>,
    #[serde(default)]
    geography: Option<PathBuf>,
    #[serde(default, deserialize_with = "spanned_vec")]
    neighbourhoods: Vec<Located<String>>,
    #[serde(default, deserialize_with = "spanned_vec")]
    places: Vec<Located<String>>,
    #[serde(default)]
    practices: Option<PathBuf>,
    #[serde(default)]
    place_by: PlaceBy,
}

impl PopulationFile {
    /// The population, with a geography folder named relative to `dir` (the folder of
    /// the file that names it).
    fn into_population(self, file: &Path) -> Result<Population> {
        if self.preset.is_some() && self.geography.is_some() {
            return Err(scenario_error(
                file,
                None,
                "population.geography",
                "give `preset` or `geography`, not both",
            ));
        }
        let dir = file.parent().unwrap_or_else(|| Path::new("."));
        Ok(Population {
            preset: self.preset.unwrap_or_else(default_preset),
            geography: self.geography.map(|g| dir.join(g)),
            neighbourhoods: self.neighbourhoods,
            places: self.places,
            practices: self.practices.map(|p| dir.join(p)),
            place_by: self.place_by,
        })
    }
}

impl Population {
    /// Where real England comes from, for a real preset.
    pub fn real_source(&self) -> RealSource {
        RealSource {
            practices: self.practices.clone(),
            place_by: self.place_by,
        }
    }

    /// What is simulated, for messages: the preset's id or the geography folder.
    pub fn label(&self) -> String {
        match &self.geography {
            Some(dir) => format!("geography {}", dir.display()),
            None => format!("{} population", self.preset.id()),
        }
    }
}

impl Default for Population {
    fn default() -> Self {
        Population {
            preset: Preset::default_icb(),
            geography: None,
            neighbourhoods: Vec::new(),
            places: Vec::new(),
            practices: None,
            place_by: PlaceBy::SubIcb,
        }
    }
}

/// The money available: a system envelope per year.
#[derive(Default, Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Envelope {
    /// Year-one envelope in pounds per resident. When absent, each system's envelope starts
    /// at its expected year-one cost: each neighbourhood's expected population structure
    /// (age, sex, deprivation, and segment prevalence by age) priced at the model's
    /// expected cost per head, with no random draw. It is set before the year starts, so it
    /// is the same in every Monte Carlo run.
    #[serde(default, deserialize_with = "per_head")]
    pub per_head: Option<f64>,
    /// Growth of the envelope per year (0.03 = 3%), real like the prices. Left out: the
    /// datasets' `envelope_real_growth` (published ICB allocation growth,
    /// `datasets/parameters.csv`).
    #[serde(
        default,
        deserialize_with = "growth",
        skip_serializing_if = "Option::is_none"
    )]
    pub growth: Option<f64>,
    /// Split of the envelope between sectors, summing to 1. When absent, the system's
    /// expected year-one cost by sector.
    #[serde(default, deserialize_with = "sector_shares")]
    pub sector_shares: Option<BTreeMap<Sector, f64>>,
    /// Share of the social care envelope pooled with health (as in the Better Care Fund):
    /// reported as the `pooled` fund, health sectors plus this share of social care.
    #[serde(default)]
    pub pooled_social_care: Option<Share>,
}

/// A number within `lo..=hi`, refused with the allowed range otherwise.
fn within(v: f64, lo: f64, hi: f64) -> std::result::Result<(), String> {
    if v.is_finite() && (lo..=hi).contains(&v) {
        Ok(())
    } else {
        Err(format!("{v} is not allowed; use {lo} to {hi}"))
    }
}

fn per_head<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<f64>, D::Error> {
    checked(d, |p: &f64| {
        if p.is_finite() && *p > 0.0 {
            Ok(())
        } else {
            Err(format!(
                "{p} is not allowed; use a positive amount in pounds"
            ))
        }
    })
    .map(Some)
}

fn growth<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<f64>, D::Error> {
    checked(d, |g: &f64| within(*g, -0.5, 1.0)).map(Some)
}

fn sector_shares<'de, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<BTreeMap<Sector, f64>>, D::Error> {
    let shares = BTreeMap::<Sector, f64>::deserialize(d)?;
    if let Some((s, v)) = shares.iter().find(|(_, v)| !v.is_finite() || **v < 0.0) {
        return Err(D::Error::custom(format!(
            "{} = {v} is not allowed; use a share from 0 to 1",
            s.id()
        )));
    }
    let total: f64 = shares.values().sum();
    if (total - 1.0).abs() > 1e-9 {
        return Err(D::Error::custom(format!(
            "the shares sum to {total}; they must sum to 1 (sectors not listed get 0)"
        )));
    }
    Ok(Some(shares))
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
    /// Person-based need as commissioners can estimate it (PBRA-style): a regression of
    /// each person's cost, per sector, on what commissioners see (age band, sex,
    /// deprivation quintile and the segment as recorded: incomplete, a year late), fitted
    /// on a separate simulated estimation year (`accounts::need_formula`).
    Need,
    /// The simulator's own expected cost per head by age band, sex, deprivation quintile
    /// and true current segment, per sector: a benchmark no commissioner could have.
    TrueExpectedCost,
    /// Weights per head from a CSV file (`weights = "file.csv"`): age band, sex,
    /// deprivation quintile and recorded segment, e.g. published national weights.
    Table,
    /// Each neighbourhood's simulated spend in the previous year (year 1: its spend without
    /// interventions).
    Historic,
    /// NHS England's published weighted populations (`data::published`): each
    /// neighbourhood's practices' `Final WP`, or the formula's `component`, summed. Only a
    /// real geography (`--icb CODE`, `preset = "england"` or an ICB code) has them.
    Published,
}

impl Basis {
    pub fn id(self) -> &'static str {
        match self {
            Basis::Headcount => "headcount",
            Basis::AgeSex => "age_sex",
            Basis::Need => "need",
            Basis::TrueExpectedCost => "true_expected_cost",
            Basis::Table => "table",
            Basis::Historic => "historic",
            Basis::Published => "published",
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
    /// Multiply by the place's rurality index: with `[variation] place_costs` (the
    /// default) only in the sectors of care delivered at home (community, social care; the
    /// total row in proportion), where unit costs follow it; otherwise in every sector.
    #[serde(default)]
    pub rurality: bool,
    /// The weight table of `basis = "table"`, relative to the scenario file that names it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weights: Option<PathBuf>,
    /// The weighted population of `basis = "published"` (default `final`, the `Final WP`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub component: Option<Component>,
}

impl Formula {
    /// A formula of `basis` alone: no adjustment, no table, named by its basis.
    pub fn of(basis: Basis) -> Formula {
        Formula {
            name: None,
            basis,
            market_forces: false,
            inequalities: false,
            rurality: false,
            weights: None,
            component: None,
        }
    }

    pub fn name(&self) -> String {
        self.name.clone().unwrap_or_else(|| self.basis.id().into())
    }

    /// The published weighted population a `published` formula shares by.
    pub fn component(&self) -> Component {
        self.component.unwrap_or(Component::Final)
    }
}

/// The most capitation formulas a scenario may compare.
pub const MAX_FORMULAS: usize = 254;

/// One formula or a list of them, each a bare basis name (`"need"`) or a table. Read
/// through a TOML value, entry by entry, so that a bad basis or component is reported as
/// what it is (with the names allowed), not as matching no form.
fn formulas<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Vec<Formula>, D::Error> {
    let entry = |v: toml::Value| -> std::result::Result<Formula, D::Error> {
        let read = match v {
            toml::Value::String(_) => Basis::deserialize(v).map(Formula::of),
            toml::Value::Table(_) => Formula::deserialize(v),
            other => {
                return Err(D::Error::custom(format!(
                    "a formula is a basis name or a table, not `{other}`"
                )))
            }
        };
        read.map_err(|e| D::Error::custom(e.message().trim_end()))
    };
    let formulas: Vec<Formula> = match toml::Value::deserialize(d)? {
        toml::Value::Array(v) => v
            .into_iter()
            .map(entry)
            .collect::<std::result::Result<_, _>>()?,
        one => vec![entry(one)?],
    };
    if formulas.is_empty() {
        return Err(D::Error::custom("give at least one formula"));
    }
    // Budget rows name their formula by a byte (`accounts::capitation::Budgets`), and the
    // published one may be added.
    if formulas.len() > MAX_FORMULAS {
        return Err(D::Error::custom(format!(
            "{} formulas: give at most {MAX_FORMULAS}",
            formulas.len()
        )));
    }
    for (i, f) in formulas.iter().enumerate() {
        match (f.basis, &f.weights) {
            (Basis::Table, None) => {
                return Err(D::Error::custom(format!(
                    "formula `{}` has basis \"table\" but no `weights` file",
                    f.name()
                )))
            }
            (b, Some(_)) if b != Basis::Table => {
                return Err(D::Error::custom(format!(
                    "formula `{}`: `weights` goes with basis \"table\" only",
                    f.name()
                )))
            }
            _ => {}
        }
        if f.component.is_some() && f.basis != Basis::Published {
            return Err(D::Error::custom(format!(
                "formula `{}`: `component` goes with basis \"published\" only",
                f.name()
            )));
        }
        if formulas[..i].iter().any(|g| g.name() == f.name()) {
            return Err(D::Error::custom(format!(
                "two formulas are named `{}`; give one a `name`",
                f.name()
            )));
        }
    }
    Ok(formulas)
}

/// Pace of change, as NHS England runs it for ICB allocations (NHS England, "Allocation
/// of resources 2023/24 to 2024/25", convergence with a cash floor): each year an area
/// starts where its share of the previous year's allocation leaves it (year 1: its share
/// of the expected year-one cost), and moves toward the formula's target by at most
/// `max_step` of that own allocation, up or down; and, where the envelope allows, no
/// area's cash falls below `(1 + cash_floor)` times its cash the year before.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaceOfChange {
    /// Largest move a year as a share of the area's own allocation (0.02 = 2%).
    pub max_step: Share,
    #[serde(default, deserialize_with = "cash_floor")]
    pub cash_floor: f64,
}

fn cash_floor<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<f64, D::Error> {
    checked(d, |f: &f64| within(*f, -0.5, 0.5))
}

/// Where a risk pool sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PoolLevel {
    Place,
    System,
}

fn icb_funds() -> BTreeMap<String, f64> {
    BTreeMap::from([("ICB".to_string(), 1.0)])
}

fn funders<'de, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<BTreeMap<String, f64>, D::Error> {
    checked(d, |m: &BTreeMap<String, f64>| {
        if m.is_empty() {
            return Err("name at least one funder, e.g. { icb = 1.0 }".into());
        }
        for (name, v) in m {
            within(*v, 0.0, 1.0).map_err(|e| format!("{name}: {e} (a share)"))?;
        }
        let total: f64 = m.values().sum();
        if (total - 1.0).abs() > 1e-9 {
            return Err(format!("the shares sum to {total}; they must sum to 1"));
        }
        Ok(())
    })
}

fn system_pool() -> PoolLevel {
    PoolLevel::System
}

/// A setting of an earlier version, refused with what replaces it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Replaced;

fn replaced<'de, D: Deserializer<'de>>(
    d: D,
    instead: &str,
) -> std::result::Result<Replaced, D::Error> {
    serde::de::IgnoredAny::deserialize(d)?;
    Err(D::Error::custom(instead))
}

fn provider_share_replaced<'de, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<Replaced, D::Error> {
    replaced(
        d,
        "`provider_share` is replaced by `gain_share` and `loss_share`, the shares the pool \
         takes of a surplus and covers of a deficit (provider_share = 0.6 is \
         gain_share = 0.4, loss_share = 0.4)",
    )
}

fn pool_threshold_replaced<'de, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<Replaced, D::Error> {
    replaced(
        d,
        "`pool_threshold` is replaced by `collar`: the largest deficit a neighbourhood \
         bears, as a share of its budget; the pool covers the rest",
    )
}

/// Risk sharing through a pool, at place or system level, that neighbourhoods pay into
/// and draw on. Of each neighbourhood's position (budget minus spend), the pool takes
/// `gain_share` of a surplus and covers `loss_share` of a deficit; what the neighbourhood
/// keeps is then capped at `cap` of its budget (a larger surplus goes to the pool) and its
/// loss collared at `collar` of its budget (the pool covers a larger deficit). Money is
/// conserved: each year, the neighbourhoods' positions after sharing plus the pools'
/// balances equal their positions before, to the penny.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RiskSharing {
    #[serde(default = "system_pool")]
    pub pool: PoolLevel,
    #[serde(default = "Share::zero")]
    pub gain_share: Share,
    #[serde(default = "Share::zero")]
    pub loss_share: Share,
    #[serde(default)]
    pub cap: Option<Share>,
    #[serde(default)]
    pub collar: Option<Share>,
    /// Who funds what a pool cannot cover (a negative balance), in shares summing to 1,
    /// e.g. `{ icb = 0.6, acute_trust = 0.3, council = 0.1 }`. Default: the ICB alone,
    /// which holds the system's statutory financial duty (Health and Care Act 2022);
    /// partners' shares are whatever their risk-share agreement says.
    #[serde(default = "icb_funds", deserialize_with = "funders")]
    pub funders: BTreeMap<String, f64>,
    #[doc(hidden)]
    #[serde(
        default,
        skip_serializing,
        deserialize_with = "provider_share_replaced"
    )]
    pub provider_share: Replaced,
    #[doc(hidden)]
    #[serde(
        default,
        skip_serializing,
        deserialize_with = "pool_threshold_replaced"
    )]
    pub pool_threshold: Replaced,
}

impl Default for RiskSharing {
    /// A pool that does nothing: every position stands.
    fn default() -> Self {
        RiskSharing {
            pool: PoolLevel::System,
            gain_share: Share(0.0),
            loss_share: Share(0.0),
            cap: None,
            collar: None,
            funders: icb_funds(),
            provider_share: Replaced,
            pool_threshold: Replaced,
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
    /// A risk pool; absent, every position stands and no pool is reported.
    #[serde(default, deserialize_with = "risk_sharing")]
    pub risk_sharing: Option<RiskSharing>,
    /// Market forces factors and rurality indices of places the bundled
    /// `capitation_places.csv` does not list (imported or generated places): a CSV with
    /// its columns, path relative to the scenario. Its rows replace the bundled ones for
    /// the places they name, in budgets and in local unit costs alike.
    #[serde(default)]
    pub places: Option<PathBuf>,
}

fn risk_sharing<'de, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<RiskSharing>, D::Error> {
    checked(d, |rs: &RiskSharing| {
        let nothing = rs.gain_share.0 == 0.0
            && rs.loss_share.0 == 0.0
            && rs.cap.is_none()
            && rs.collar.is_none();
        if nothing {
            Err(
                "this pool shares nothing; set `gain_share`, `loss_share`, `cap` or `collar`"
                    .into(),
            )
        } else {
            Ok(())
        }
    })
    .map(Some)
}

impl Capitation {
    /// Adds a formula named `published` (NHS England's final weighted populations) unless
    /// one shares by them already or the name is taken: a real population's budgets then
    /// always show the allocation NHS England's own formula gives, beside the scenario's.
    pub fn add_published(&mut self) {
        let taken = self
            .formula
            .iter()
            .any(|f| f.basis == Basis::Published || f.name() == Basis::Published.id());
        if !taken {
            self.formula.push(Formula::of(Basis::Published));
        }
    }
}

fn default_formulas() -> Vec<Formula> {
    vec![Formula::of(Basis::Headcount)]
}

impl Default for Capitation {
    fn default() -> Self {
        Capitation {
            formula: default_formulas(),
            pace_of_change: None,
            risk_sharing: None,
            places: None,
        }
    }
}

/// What differs between areas besides their people: unexplained variation of activity
/// rates (practice style, supply, unrecorded need) and local costs. Both default to on;
/// switching them off gives every neighbourhood the national rates and unit costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Variation {
    /// Persistent multipliers on each neighbourhood's activity rates by setting (the same
    /// in every Monte Carlo run), and a smaller year-to-year wobble drawn per run.
    #[serde(default = "on")]
    pub between_areas: bool,
    /// Unit costs scaled by the place's market forces factor, and for care delivered at
    /// home by its rurality index (`datasets/capitation_places.csv`).
    #[serde(default = "on")]
    pub place_costs: bool,
}

fn on() -> bool {
    true
}

/// A calibration to observed activity (`[calibration]` in a scenario): the
/// `calibration.toml` that `capsim calibrate --observed` wrote, named relative to the
/// scenario file. Its multipliers replace the random persistent ones between areas for
/// the neighbourhoods and settings it covers.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalibrationRef {
    pub file: PathBuf,
}

/// How mortality changes over the horizon (`[mortality]` in a scenario).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mortality {
    /// Death probabilities fall each year by the ONS long-term rate of improvement by age
    /// (`model::demography`); off, every year dies at the base life table's rates.
    #[serde(default = "on")]
    pub improvement: bool,
}

impl Default for Mortality {
    fn default() -> Self {
        Mortality { improvement: true }
    }
}

impl Mortality {
    /// No improvement: capsim before the feature.
    pub const OFF: Mortality = Mortality { improvement: false };
}

impl Variation {
    /// Neither: national rates and unit costs everywhere (capsim before these existed).
    pub const OFF: Variation = Variation {
        between_areas: false,
        place_costs: false,
    };
}

impl Default for Variation {
    fn default() -> Self {
        Variation {
            between_areas: true,
            place_costs: true,
        }
    }
}

/// Growth of each setting's age-specific rates beyond demography (`[trends]`). On by
/// default at the datasets' yearly rates (`activity_trends.csv`); `[trends.growth]`
/// overrides a setting's rate; `enabled = false` leaves rates to change with demography
/// only (capsim before this existed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Trends {
    #[serde(default = "on")]
    pub enabled: bool,
    /// Yearly growth by setting, e.g. `emergency_admissions = 0.02`.
    #[serde(default, deserialize_with = "growth_rates")]
    pub growth: BTreeMap<Setting, f64>,
}

impl Default for Trends {
    fn default() -> Self {
        Trends {
            enabled: true,
            growth: BTreeMap::new(),
        }
    }
}

impl Trends {
    /// Yearly growth of every setting, by [`Setting::index`], given the datasets'
    /// defaults.
    pub fn growth(
        &self,
        defaults: &[f64; crate::core::care::N_SETTINGS],
    ) -> [f64; crate::core::care::N_SETTINGS] {
        if !self.enabled {
            return [0.0; crate::core::care::N_SETTINGS];
        }
        let mut g = *defaults;
        for (s, v) in &self.growth {
            g[s.index()] = *v;
        }
        g
    }
}

fn growth_rates<'de, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<BTreeMap<Setting, f64>, D::Error> {
    checked(d, |m: &BTreeMap<Setting, f64>| {
        for (s, v) in m {
            if let Some(parent) = s.derived_from() {
                return Err(format!(
                    "{} follows {}; set the growth of {} instead",
                    s.id(),
                    parent.id(),
                    parent.id()
                ));
            }
            within(*v, -0.05, 0.1).map_err(|e| format!("{}: {e} (a yearly rate)", s.id()))?;
        }
        Ok(())
    })
}

/// How results are valued over time, and what an emergency admission costs in health.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Evaluation {
    /// Discount rate a year for costs and savings: year 1 is undiscounted, year t weighs
    /// 1 / (1 + rate)^(t - 1). Default 3.5% (HM Treasury, The Green Book, 2022; NICE
    /// health technology evaluations manual, 2022).
    #[serde(default = "green_book", deserialize_with = "discount_rate")]
    pub discount_rate: f64,
    /// Discount rate a year for health effects (QALYs). Left out, the costs' rate: NICE's
    /// reference case discounts both at 3.5% (NICE 2022); the Green Book discounts health
    /// at 1.5% (set 0.015).
    #[serde(
        default,
        deserialize_with = "health_discount_rate",
        skip_serializing_if = "Option::is_none"
    )]
    pub health_discount_rate: Option<f64>,
    /// Pounds a QALY is worth, for net monetary benefit. Default £20,000, the lower end of
    /// NICE's £20,000-£30,000 range (NICE health technology evaluations manual, 2022).
    #[serde(default = "nice_threshold", deserialize_with = "qaly_threshold")]
    pub qaly_threshold: f64,
    /// QALYs lost by each emergency admission beyond its days in hospital (deconditioning
    /// and its lasting loss of function after discharge), drawn per run. Default: an
    /// assumption, triangular from 0 to 0.016 with mode 0.002 (mean 0.006): 0 as trials
    /// of hospital at home against admission found no difference in QALYs (Singh et al.,
    /// Age Ageing 2022; the TEAM trial, PLoS One 2015), 0.016 the lower end of the
    /// lasting utility fall after any hospitalisation (Karampampa et al., BMJ Open 2016,
    /// men -0.016, women -0.031, over about four years, an association with the illness as
    /// much as the stay), for one year.
    #[serde(default = "qaly_loss_per_admission")]
    pub qaly_loss_per_admission: Amount,
    /// QALYs lost per emergency bed day: a day in hospital at a lower utility than at
    /// home, drawn per run. Default: an assumption, triangular from 0 to 0.00057 with mode
    /// 0.00027 (a utility decrement of 0.1 a day, 0 to 0.21, over 365): EQ-5D of older
    /// people on an acute geriatric ward rose from 0.44 at admission to 0.65 at discharge
    /// (Lin et al., IJERPH 2020), the decrement's upper end.
    #[serde(default = "qaly_loss_per_bed_day")]
    pub qaly_loss_per_bed_day: Amount,
    /// Whether a batch runs the one-way sensitivity analysis of this scenario (the
    /// tornado: `crate::accounts::one_way`), 1 + 2 simulations per uncertain parameter.
    /// Default on; off is for a large population where each simulation is long.
    #[serde(default = "on", skip_serializing_if = "is_on")]
    pub one_way: bool,
}

/// For `skip_serializing_if`: the default (on) is not written, so manifests of batches
/// that leave it alone are as before.
fn is_on(b: &bool) -> bool {
    *b
}

fn nice_threshold() -> f64 {
    20_000.0
}

fn qaly_loss_per_admission() -> Amount {
    Amount(Dist::Triangular {
        min: 0.0,
        mode: 0.002,
        max: 0.016,
    })
}

fn qaly_loss_per_bed_day() -> Amount {
    Amount(Dist::Triangular {
        min: 0.0,
        mode: 0.00027,
        max: 0.00057,
    })
}

fn qaly_threshold<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<f64, D::Error> {
    checked(d, |v: &f64| {
        if v.is_finite() && (0.0..=1_000_000.0).contains(v) {
            Ok(())
        } else {
            Err(format!(
                "{v} is not allowed; use pounds per QALY from 0 to 1000000"
            ))
        }
    })
}

fn green_book() -> f64 {
    0.035
}

fn rate_allowed(r: &f64) -> std::result::Result<(), String> {
    if r.is_finite() && (0.0..=0.2).contains(r) {
        Ok(())
    } else {
        Err(format!(
            "{r} is not allowed; use a rate from 0 to 0.2 (0.035 is 3.5%)"
        ))
    }
}

fn discount_rate<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<f64, D::Error> {
    checked(d, rate_allowed)
}

fn health_discount_rate<'de, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<f64>, D::Error> {
    checked(d, rate_allowed).map(Some)
}

impl Evaluation {
    /// The discount rate of health effects.
    pub fn health_rate(&self) -> f64 {
        self.health_discount_rate.unwrap_or(self.discount_rate)
    }

    /// Which convention the two rates follow, for labels: "NICE reference case" (3.5% and
    /// 3.5%), "HM Treasury Green Book" (3.5% and 1.5%), or the rates themselves.
    pub fn discounting_label(&self) -> String {
        let (c, h) = (self.discount_rate, self.health_rate());
        let pct = |r: f64| format!("{}%", (r * 1000.0).round() / 10.0);
        let rates = format!("costs {} a year, health {} a year", pct(c), pct(h));
        if c == 0.035 && h == 0.035 {
            format!("{rates}: the NICE reference case")
        } else if c == 0.035 && h == 0.015 {
            format!("{rates}: HM Treasury Green Book")
        } else {
            rates
        }
    }
}

impl Default for Evaluation {
    fn default() -> Self {
        Evaluation {
            discount_rate: green_book(),
            health_discount_rate: None,
            qaly_threshold: nice_threshold(),
            qaly_loss_per_admission: qaly_loss_per_admission(),
            qaly_loss_per_bed_day: qaly_loss_per_bed_day(),
            one_way: true,
        }
    }
}

/// Who an intervention is for. Every list left empty means "everyone".
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Target {
    #[serde(default, deserialize_with = "spanned_vec")]
    pub segments: Vec<Located<String>>,
    /// Youngest age targeted; a multiple of 5, because age bands are five-year.
    #[serde(default, deserialize_with = "age_min")]
    pub age_min: Option<u8>,
    /// Oldest age targeted; one below a multiple of 5 (e.g. 74), or 100 for no limit.
    #[serde(default, deserialize_with = "age_max")]
    pub age_max: Option<u8>,
    /// Deprivation quintiles, 1 (most deprived) to 5.
    #[serde(default, deserialize_with = "quintiles")]
    pub imd_quintiles: Vec<u8>,
    #[serde(default, deserialize_with = "spanned_vec")]
    pub neighbourhoods: Vec<Located<String>>,
    #[serde(default, deserialize_with = "spanned_vec")]
    pub places: Vec<Located<String>>,
}

fn age_min<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<u8>, D::Error> {
    checked(d, |a: &u8| {
        if a.is_multiple_of(5) && *a <= 90 {
            Ok(())
        } else {
            Err(format!(
                "{a} is not allowed; age bands are five-year, so use 0, 5, ..., 90"
            ))
        }
    })
    .map(Some)
}

fn age_max<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<u8>, D::Error> {
    checked(d, |a: &u8| {
        if a % 5 == 4 && *a < 90 || *a == 100 {
            Ok(())
        } else {
            Err(format!(
                "{a} is not allowed; age bands are five-year, so use 4, 9, ..., 89, or 100 for no limit"
            ))
        }
    })
    .map(Some)
}

fn quintiles<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Vec<u8>, D::Error> {
    checked(d, |qs: &Vec<u8>| {
        match qs.iter().find(|q| !(1..=5).contains(*q)) {
            Some(q) => Err(format!("{q} is not a quintile; use 1 (most deprived) to 5")),
            None => Ok(()),
        }
    })
}

/// A target whose age limits are in order.
fn target<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Target, D::Error> {
    checked(d, |t: &Target| match (t.age_min, t.age_max) {
        (Some(lo), Some(hi)) if lo > hi => Err(format!("age_min {lo} is above age_max {hi}")),
        _ => Ok(()),
    })
}

/// Share of the target enrolled each year: `start` in year 1, rising linearly to `target`
/// in year `1 + ramp_years`, then level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Coverage {
    pub start: Share,
    pub target: Share,
    #[serde(default, deserialize_with = "ramp_years")]
    pub ramp_years: u32,
}

fn ramp_years<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<u32, D::Error> {
    checked(d, |r: &u32| {
        if *r <= 100 {
            Ok(())
        } else {
            Err(format!("{r} is not allowed; use 0 to 100"))
        }
    })
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
///
/// `effects.SETTING` may name any care setting (issue 24, item 5(b)): the hospital ones, and
/// GP appointments, community nursing, home care hours, care-home weeks and the rest. A
/// derived setting keeps its meaning: `emergency_bed_days` is the length of stay per
/// remaining emergency admission (fewer admissions already mean fewer bed days). Any other
/// key is refused with the list of those allowed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Effects {
    /// Relative change in each setting's use, by setting.
    pub activity: BTreeMap<Setting, Effect>,
    /// Probability of moving to a more severe segment in a year.
    pub deterioration: Option<Effect>,
    /// Probability of dying in a year.
    pub mortality: Option<Effect>,
}

impl Effects {
    /// The keys an `effects` table accepts: every setting's id, then `deterioration` and
    /// `mortality`.
    pub fn allowed() -> Vec<&'static str> {
        Setting::ALL
            .iter()
            .map(|s| s.id())
            .chain(["deterioration", "mortality"])
            .collect()
    }

    /// The activity effects, in setting order.
    pub fn activity(&self) -> impl Iterator<Item = (Setting, &Effect)> {
        self.activity.iter().map(|(s, e)| (*s, e))
    }

    /// The effect on one setting, if any.
    pub fn on(&self, setting: Setting) -> Option<&Effect> {
        self.activity.get(&setting)
    }

    /// Every effect, mutably (to scale them all).
    pub fn all_mut(&mut self) -> impl Iterator<Item = &mut Effect> {
        self.activity
            .values_mut()
            .chain(self.deterioration.iter_mut())
            .chain(self.mortality.iter_mut())
    }
}

impl Serialize for Effects {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(None)?;
        for (k, v) in &self.activity {
            m.serialize_entry(k.id(), v)?;
        }
        if let Some(v) = &self.deterioration {
            m.serialize_entry("deterioration", v)?;
        }
        if let Some(v) = &self.mortality {
            m.serialize_entry("mortality", v)?;
        }
        m.end()
    }
}

impl<'de> Deserialize<'de> for Effects {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Table;
        impl<'de> serde::de::Visitor<'de> for Table {
            type Value = Effects;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                write!(f, "a table of effects by setting")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<Effects, A::Error> {
                let mut out = Effects::default();
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "deterioration" => out.deterioration = Some(map.next_value()?),
                        "mortality" => out.mortality = Some(map.next_value()?),
                        k => match Setting::parse(k) {
                            Some(s) => {
                                out.activity.insert(s, map.next_value()?);
                            }
                            None => {
                                return Err(A::Error::custom(format!(
                                    "unknown effect `{k}`; allowed: {}",
                                    Effects::allowed().join(", ")
                                )))
                            }
                        },
                    }
                }
                Ok(out)
            }
        }
        d.deserialize_map(Table)
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

/// Money moved between sector budgets: a share of the cashable saving the intervention makes
/// in `from`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FundingShift {
    pub from: Sector,
    pub to: Sector,
    pub share_of_savings: Share,
}

/// How people in an intervention's target are chosen for enrolment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Enrolment {
    /// A random share of the target: the enrolled use care like everyone else in it.
    #[default]
    Random,
    /// The share of the target whom a risk score ranks highest (case finding).
    HighestRisk,
}

impl Enrolment {
    fn is_random(&self) -> bool {
        *self == Enrolment::Random
    }
}

/// One shift-left intervention.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Intervention {
    #[serde(deserialize_with = "intervention_name")]
    pub name: String,
    /// Where the effect sizes come from, or that they are assumptions.
    #[serde(default)]
    pub evidence: Option<String>,
    #[serde(default, deserialize_with = "target")]
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
    /// Years after enrolment before the effects begin (0: in the year of enrolment).
    #[serde(default = "EffectYears::zero", skip_serializing_if = "no_years")]
    pub effect_delay_years: EffectYears,
    /// Years over which the effects then rise linearly to full (0: at once).
    #[serde(default = "EffectYears::zero", skip_serializing_if = "no_years")]
    pub effect_ramp_years: EffectYears,
    /// Who in the target is enrolled: a random share (the default) or those a risk score
    /// ranks highest ([`crate::engine::case_finding`]).
    #[serde(default, skip_serializing_if = "Enrolment::is_random")]
    pub enrolment: Enrolment,
    /// With `enrolment = "highest_risk"`: the score's AUC for an emergency admission within
    /// the year, possibly uncertain.
    #[serde(default = "Auc::published", skip_serializing_if = "default_auc")]
    pub case_finding_auc: Auc,
    #[serde(default, deserialize_with = "substitution")]
    pub substitution: BTreeMap<Setting, Substitution>,
    #[serde(default, deserialize_with = "funding_shift")]
    pub funding_shift: Option<FundingShift>,
    /// Places or staff that cap enrolment (`config::capacity`); absent, enrolment is the
    /// coverage.
    #[serde(
        default,
        deserialize_with = "intervention_capacity",
        skip_serializing_if = "Option::is_none"
    )]
    pub capacity: Option<InterventionCapacity>,
    /// The file that defined it, for error messages.
    #[serde(skip)]
    pub file: PathBuf,
}

fn intervention_name<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<String, D::Error> {
    checked(d, |n: &String| {
        if n.trim().is_empty() || n.contains('/') {
            Err("an intervention needs a name without '/'".into())
        } else {
            Ok(())
        }
    })
}

fn substitution<'de, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<BTreeMap<Setting, Substitution>, D::Error> {
    checked(d, |m: &BTreeMap<Setting, Substitution>| {
        match m.keys().find(|s| s.derived_from().is_some()) {
            Some(s) => Err(format!(
                "`{}` is derived from admissions and cannot be added directly",
                s.id()
            )),
            None => Ok(()),
        }
    })
}

fn funding_shift<'de, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<FundingShift>, D::Error> {
    checked(d, |f: &FundingShift| {
        if f.from == f.to {
            Err("`from` and `to` are the same sector".into())
        } else {
            Ok(())
        }
    })
    .map(Some)
}

/// A scenario file as written: everything optional, so that `extends` can fill gaps.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScenarioFile {
    name: Option<ScenarioName>,
    description: Option<String>,
    extends: Option<String>,
    population: Option<PopulationFile>,
    years: Option<Years>,
    seed: Option<u64>,
    runs: Option<Runs>,
    envelope: Option<Envelope>,
    capitation: Option<Capitation>,
    variation: Option<Variation>,
    mortality: Option<Mortality>,
    trends: Option<Trends>,
    evaluation: Option<Evaluation>,
    capacity: Option<Capacity>,
    calibration: Option<CalibrationRef>,
    #[serde(default, deserialize_with = "spanned_vec")]
    intervention: Vec<Located<Intervention>>,
}

impl ScenarioFile {
    /// Records where each value checked after merging was written.
    fn locate(&mut self, file: &Path, text: &str) {
        if let Some(p) = &mut self.population {
            for v in p.places.iter_mut().chain(&mut p.neighbourhoods) {
                v.locate(file, text);
            }
        }
        for i in &mut self.intervention {
            i.locate(file, text);
            i.value.file = file.to_path_buf();
            let t = &mut i.value.target;
            for v in t
                .segments
                .iter_mut()
                .chain(&mut t.places)
                .chain(&mut t.neighbourhoods)
            {
                v.locate(file, text);
            }
        }
    }

    /// Checks across the interventions of one file: each name once; capacity for every
    /// year with enrolment.
    fn check(&self, file: &Path) -> Result<()> {
        for (k, i) in self.intervention.iter().enumerate() {
            if let Some(c) = &i.capacity {
                let line = i.origin().map(|o| o.line);
                crate::config::capacity::check_against_coverage(
                    c,
                    |y| i.coverage.in_year(y),
                    i.coverage.ramp_years,
                )
                .map_err(|problem| {
                    scenario_error(file, line, &format!("intervention[{k}].capacity"), problem)
                })?;
            }
            if self.intervention[..k].iter().any(|x| x.name == i.name) {
                return Err(scenario_error(
                    file,
                    i.origin().map(|o| o.line),
                    &format!("intervention[{k}].name"),
                    format!("`{}` is named twice", i.name),
                ));
            }
        }
        Ok(())
    }
}

/// A scenario's name: it names output folders. Empty means "the file's name".
#[derive(Debug, Deserialize)]
#[serde(try_from = "String")]
struct ScenarioName(String);

impl TryFrom<String> for ScenarioName {
    type Error = String;
    fn try_from(n: String) -> std::result::Result<Self, String> {
        if !n.is_empty() {
            check_name(&n)?;
        }
        Ok(ScenarioName(n))
    }
}

fn check_name(n: &str) -> std::result::Result<(), String> {
    let ok = !n.is_empty()
        && n.len() <= 100
        && n.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && !n.starts_with('.');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{n}` is not allowed; use letters, digits, '-', '_' or '.' (it names output folders)"
        ))
    }
}

/// A whole number of `T`'s unit within `T::MIN..=T::MAX`; the one place each range lives,
/// for the scenario files and the command line alike.
macro_rules! bounded {
    ($(#[$doc:meta])* $name:ident, $min:expr, $max:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(try_from = "u32", into = "u32")]
        pub struct $name(u32);

        impl $name {
            pub const MIN: u32 = $min;
            pub const MAX: u32 = $max;

            pub fn get(self) -> u32 {
                self.0
            }
        }

        impl TryFrom<u32> for $name {
            type Error = String;
            fn try_from(v: u32) -> std::result::Result<Self, String> {
                if (Self::MIN..=Self::MAX).contains(&v) {
                    Ok($name(v))
                } else {
                    Err(format!(
                        "{v} is not allowed; use {} to {}",
                        Self::MIN,
                        Self::MAX
                    ))
                }
            }
        }

        impl From<$name> for u32 {
            fn from(v: $name) -> u32 {
                v.0
            }
        }
    };
}

bounded!(
    /// Years simulated.
    Years,
    1,
    100
);
bounded!(
    /// Monte Carlo runs.
    Runs,
    1,
    100_000
);

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
    pub variation: Variation,
    pub mortality: Mortality,
    pub trends: Trends,
    pub evaluation: Evaluation,
    /// Beds from bed days (`[capacity]`); absent, no bed figures are reported.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capacity: Option<Capacity>,
    /// The calibration its runs use (`[calibration] file`), resolved against the file
    /// that names it; `None`: the random persistent multipliers between areas.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calibration: Option<PathBuf>,
}

/// Settings given on the command line that override every scenario.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    pub years: Option<u32>,
    pub runs: Option<u32>,
    pub population: Option<Preset>,
    /// A geography folder simulated instead of any preset.
    pub geography: Option<PathBuf>,
    pub seed: Option<u64>,
    /// Real England's practice file instead of the bundled one.
    pub practices: Option<PathBuf>,
}

impl Overrides {
    /// Range checks ([`Years`], [`Runs`]), reported against the command-line flag.
    pub fn check(&self) -> Result<()> {
        fn bad(flag: &'static str) -> impl Fn(String) -> CapsimError {
            move |problem| CapsimError::InvalidSetting {
                setting: flag.into(),
                problem,
            }
        }
        if let Some(y) = self.years {
            Years::try_from(y).map_err(bad("--years"))?;
        }
        if let Some(r) = self.runs {
            Runs::try_from(r).map_err(bad("--runs"))?;
        }
        if self.population.is_some() && self.geography.is_some() {
            return Err(bad("--geography")(
                "give --population or --geography, not both".into(),
            ));
        }
        Ok(())
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

/// Deserialises a TOML document, turning errors into ones naming file, line and field.
pub(crate) fn parse_toml<T: serde::de::DeserializeOwned>(file: &Path, text: &str) -> Result<T> {
    let de = toml::Deserializer::parse(text).map_err(|e| {
        let line = e.span().map(|s| line_of(text, s.start));
        scenario_error(file, line, "(syntax)", e.message().trim().to_string())
    })?;
    serde_path_to_error::deserialize(de).map_err(|e| {
        let field = field_name(e.path());
        let inner = e.into_inner();
        let line = inner.span().map(|s| line_of(text, s.start));
        scenario_error(file, line, &field, inner.message().trim().to_string())
    })
}

/// The field a deserialisation error points at, as written in the file (without the
/// segments span wrappers add).
fn field_name(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for seg in path.iter() {
        match seg {
            Segment::Seq { index } => out.push_str(&format!("[{index}]")),
            Segment::Map { key } if is_span_wrapper(key) => {}
            other => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(&other.to_string());
            }
        }
    }
    if out.is_empty() {
        ".".into()
    } else {
        out
    }
}

fn read(file: &Path) -> Result<String> {
    std::fs::read_to_string(file)
        .map_err(|e| scenario_error(file, None, "(file)", format!("cannot read: {e}")))
}

/// The text of a bundled example named by `scenarios/NAME (bundled)`.
pub(crate) fn bundled_text(path: &Path) -> Result<String> {
    let name = path
        .file_name()
        .map(|n| {
            n.to_string_lossy()
                .trim_end_matches(" (bundled)")
                .to_string()
        })
        .unwrap_or_default();
    EXAMPLES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, t)| t.to_string())
        .ok_or_else(|| scenario_error(path, None, "(file)", "not a bundled example"))
}

impl Scenario {
    /// Reads a scenario file and the files it extends.
    pub fn load(file: &Path) -> Result<Self> {
        Self::load_from(file, false)
    }

    /// The bundled baseline scenario (`scenarios/baseline.toml`), what `capsim run` runs
    /// when given no file.
    pub fn bundled_baseline() -> Result<Self> {
        Self::load_bundled("baseline.toml")
    }

    /// A bundled example scenario by file name, with the bundled files it extends: what
    /// the first command (`capsim run` with no file) runs without reading the disk.
    pub fn load_bundled(name: &str) -> Result<Self> {
        Self::load_from(
            &Path::new("scenarios").join(format!("{name} (bundled)")),
            true,
        )
    }

    fn load_from(file: &Path, bundled: bool) -> Result<Self> {
        let mut chain = Vec::new();
        let mut next = Some(file.to_path_buf());
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
            let text = if bundled {
                bundled_text(&path)?
            } else {
                read(&path)?
            };
            let mut parsed: ScenarioFile = parse_toml(&path, &text)?;
            parsed.locate(&path, &text);
            parsed.check(&path)?;
            next = parsed.extends.as_ref().map(|e| {
                let to = path.parent().unwrap_or_else(|| Path::new(".")).join(e);
                if bundled {
                    to.with_file_name(format!("{e} (bundled)"))
                } else {
                    to
                }
            });
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
            variation: Variation::default(),
            mortality: Mortality::default(),
            trends: Trends::default(),
            evaluation: Evaluation::default(),
            capacity: None,
            calibration: None,
        };
        for (path, f) in chain.into_iter().rev() {
            if let Some(v) = f.name {
                s.name = v.0;
            }
            if let Some(v) = f.description {
                s.description = v;
            }
            if let Some(v) = f.population {
                s.population = v.into_population(&path)?;
            }
            if let Some(v) = f.years {
                s.years = v.get();
            }
            if let Some(v) = f.seed {
                s.seed = v;
            }
            if let Some(v) = f.runs {
                s.runs = v.get();
            }
            if let Some(v) = f.envelope {
                s.envelope = v;
            }
            if let Some(mut v) = f.capitation {
                // A weight table is named relative to the file that names it.
                let dir = path.parent().unwrap_or_else(|| Path::new("."));
                for formula in &mut v.formula {
                    if let Some(w) = &formula.weights {
                        formula.weights = Some(dir.join(w));
                    }
                }
                if let Some(p) = &v.places {
                    v.places = Some(dir.join(p));
                }
                s.capitation = v;
            }
            if let Some(v) = f.variation {
                s.variation = v;
            }
            if let Some(v) = f.mortality {
                s.mortality = v;
            }
            if let Some(v) = f.trends {
                s.trends = v;
            }
            if let Some(v) = f.evaluation {
                s.evaluation = v;
            }
            if let Some(mut v) = f.capacity {
                // The bed base is named relative to the file that names it.
                if let Some(b) = &v.beds_file {
                    v.beds_file = Some(path.parent().unwrap_or_else(|| Path::new(".")).join(b));
                }
                s.capacity = Some(v);
            }
            if let Some(v) = f.calibration {
                let dir = path.parent().unwrap_or_else(|| Path::new("."));
                s.calibration = Some(dir.join(v.file));
            }
            for i in f.intervention.into_iter().map(|i| i.value) {
                match s.interventions.iter_mut().find(|x| x.name == i.name) {
                    Some(old) => *old = i,
                    None => s.interventions.push(i),
                }
            }
        }
        if s.name.is_empty() {
            let stem = file
                .file_stem()
                .map_or("scenario".into(), |n| n.to_string_lossy().into_owned());
            check_name(&stem).map_err(|problem| scenario_error(file, None, "name", problem))?;
            s.name = stem;
        }
        Ok(s)
    }

    /// Applies command-line overrides, after checking their ranges.
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
            self.population.geography = None;
        }
        if let Some(v) = &o.geography {
            self.population.geography = Some(v.clone());
        }
        if let Some(v) = o.seed {
            self.seed = v;
        }
        if let Some(v) = &o.practices {
            self.population.practices = Some(v.clone());
        }
        if self.population.geography.is_none() && self.population.preset.is_real() {
            self.capitation.add_published();
        }
        Ok(())
    }
}
