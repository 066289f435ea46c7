//! Interventions with their uncertain parameters drawn for one Monte Carlo run, and what
//! they do to a neighbourhood-year: enrolment, effects on care used, substituted activity,
//! costs and the funding moved between sectors.
//!
//! With random enrolment, an enrolled share `c` with relative effect `e` changes the expected
//! use of a targeted cell by the factor `1 + c e`. With case finding the enrolled hold a
//! larger share `S(c)` of the cell's expected use ([`crate::engine::case_finding`]), and the
//! factor is `1 + S(c) e`. With several interventions on the same cell the factors multiply. Targets are unions of whole
//! exposure cells (segment, five-year age band, sex, quintile), which is why target ages
//! follow band edges: the effect on activity then needs no work per person. Effects on
//! mortality and deterioration do act per person, through [`DemographicLevers`].

use crate::config::capacity::CostBasis;
use crate::config::resolve::{Resolved, ResolvedTarget};
use crate::config::scenario::{Enrolment, Intervention, Scenario};
use crate::config::uncertainty::{draw, Dist, MAX_YEARS};
use crate::core::care::{Sector, Setting, N_SETTINGS};
use crate::core::dims::{n_exposure_cells, Cell, N_BANDS, N_IMD, N_SEX};
use crate::engine::case_finding::CaseFinding;
use crate::model::activity::{group, ActivityModel};
use crate::model::variation::AreaFactors;
use crate::model::Model;

/// Who an intervention reaches, as masks over the model's dimensions.
#[derive(Debug, Clone, PartialEq)]
pub struct Reach {
    segments: Vec<bool>,
    bands: (usize, usize),
    quintiles: [bool; N_IMD],
    /// By position in the simulated geography.
    neighbourhoods: Vec<bool>,
}

impl Reach {
    fn new(t: &ResolvedTarget) -> Self {
        Reach {
            segments: t.segments.clone(),
            bands: t.bands,
            quintiles: t.quintiles,
            neighbourhoods: t.neighbourhoods.clone(),
        }
    }

    /// The people of a census (census cells, [`Cell::census`]) whom the target reaches.
    fn people_in(&self, census: &[u32], ns: usize) -> f64 {
        let mut n = 0u64;
        for (g, _) in self.segments.iter().enumerate().filter(|(_, on)| **on) {
            for b in self.bands.0..=self.bands.1 {
                for x in 0..N_SEX {
                    for q in (0..N_IMD).filter(|q| self.quintiles[*q]) {
                        let cell = Cell {
                            band: b,
                            sex: x,
                            imd: q,
                            segment: g,
                        };
                        n += u64::from(census[cell.census(ns)]);
                    }
                }
            }
        }
        n as f64
    }

    /// Calls `f(segment, cell)` for every exposure cell reached.
    #[inline]
    fn for_each_cell(&self, mut f: impl FnMut(usize, usize)) {
        for (g, _) in self.segments.iter().enumerate().filter(|(_, on)| **on) {
            for b in self.bands.0..=self.bands.1 {
                for x in 0..N_SEX {
                    for q in (0..N_IMD).filter(|q| self.quintiles[*q]) {
                        f(
                            g,
                            Cell {
                                band: b,
                                sex: x,
                                imd: q,
                                segment: g,
                            }
                            .exposure(),
                        );
                    }
                }
            }
        }
    }

    #[inline]
    fn reaches(&self, segment: usize, band: usize, imd: usize) -> bool {
        self.segments[segment]
            && (self.bands.0..=self.bands.1).contains(&band)
            && self.quintiles[imd]
    }
}

/// An intervention with every parameter drawn for one run.
#[derive(Debug, Clone, PartialEq)]
pub struct Drawn {
    pub name: String,
    pub reach: Reach,
    /// Coverage by year, index 0 = year 1.
    pub coverage: Vec<f64>,
    /// Share of the target under the full effect by year: coverage, with each year's
    /// enrolments reaching full effect only after the time to effect
    /// ([`effective_coverage`]). Equal to `coverage` when there is no delay or ramp.
    pub effective: Vec<f64>,
    /// Share of the target's expected care used by people enrolled and under full effect,
    /// by year: `effective` with random enrolment; more with case finding, where the
    /// enrolled are those at highest risk.
    pub use_share: Vec<f64>,
    pub enrolment: Enrolment,
    /// Relative change by setting (emergency bed days: length of stay per admission).
    pub activity: [f64; N_SETTINGS],
    pub deterioration: f64,
    pub mortality: f64,
    pub cost_per_enrolled: f64,
    pub setup_cost: f64,
    /// (setting, per enrolled person-year, per avoided emergency admission).
    pub substitution: Vec<(Setting, f64, f64)>,
    pub funding_shift: Option<(Sector, Sector, f64)>,
    /// Places or staff that cap enrolment; `None`: enrolment is the coverage.
    pub capacity: Option<DrawnCapacity>,
    /// With case finding, the score: capping enrolment moves down its ranking.
    pub score: Option<CaseFinding>,
}

/// An intervention's capacity in a run: what it can hold and where.
#[derive(Debug, Clone, PartialEq)]
pub struct DrawnCapacity {
    /// Enrolled person-years it can hold, by year (index 0 = year 1).
    pub person_years: Vec<f64>,
    /// Each neighbourhood's share of it (`ResolvedTarget::capacity_shares`).
    pub shares: Vec<f64>,
    /// Whether the running cost follows enrolment or the capacity provided.
    pub cost: CostBasis,
}

impl Drawn {
    /// The share of the wanted enrolment capacity lets in, in a neighbourhood-year where
    /// `wanted` person-years would be enrolled without it, and the person-years the
    /// neighbourhood's share of the capacity holds (`None` without capacity). The cap is
    /// applied neighbourhood by neighbourhood, so enrolment never exceeds the capacity.
    pub fn admitted(&self, neighbourhood: usize, y: usize, wanted: f64) -> (f64, Option<f64>) {
        match &self.capacity {
            None => (1.0, None),
            Some(c) => {
                let held = c.person_years[y] * c.shares[neighbourhood];
                let ratio = if wanted > held { held / wanted } else { 1.0 };
                (ratio, Some(held))
            }
        }
    }

    /// The share of the target's use held by the enrolled under full effect in year `y`
    /// when only `ratio` of the wanted enrolment is let in: random enrolment scales it; with
    /// case finding those let in are the highest ranked, so it falls by S(ratio c) / S(c).
    pub fn use_share_admitted(&self, y: usize, ratio: f64) -> f64 {
        let u = self.use_share[y];
        if ratio >= 1.0 {
            return u;
        }
        match &self.score {
            Some(score) => {
                let c = self.coverage[y];
                let full = score.share(c);
                if full > 0.0 {
                    u * score.share(ratio * c) / full
                } else {
                    0.0
                }
            }
            None => u * ratio,
        }
    }
}

/// Where the values of a scenario's uncertain parameters come from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Draws<'a> {
    /// Monte Carlo run `run`: each parameter drawn from its own stream.
    Random { run: u64 },
    /// The one-way sensitivity analysis: every parameter at its base case, its median,
    /// except the one named by `vary`, at the given centile (e.g. 0.1). `None` is the base
    /// case itself.
    OneWay { vary: Option<(&'a str, f64)> },
}

impl Draws<'_> {
    /// The value of parameter `name` (before clamping), distributed as `dist`.
    fn value(&self, dist: &Dist, name: &str, seed: u64) -> f64 {
        match *self {
            Draws::Random { run } => draw(dist, name, seed, run),
            Draws::OneWay {
                vary: Some((varied, p)),
            } if varied == name => dist.quantile(p),
            Draws::OneWay { .. } => dist.median(),
        }
    }
}

/// A scenario's interventions drawn for one run, and the draws themselves (for the
/// sensitivity analysis).
#[derive(Debug, Clone, PartialEq)]
pub struct Levers {
    pub interventions: Vec<Drawn>,
    /// (parameter name, drawn value) of every uncertain parameter, in file order.
    pub draws: Vec<(String, f64)>,
    /// QALYs an emergency admission and a bed day cost, drawn for the run (`[evaluation]`):
    /// the same in the scenario and its counterfactual.
    pub qaly_loss: QalyLoss,
}

/// QALYs lost per emergency admission (beyond its stay) and per emergency bed day.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct QalyLoss {
    pub per_admission: f64,
    pub per_bed_day: f64,
}

impl Levers {
    /// No interventions: the counterfactual's levers.
    pub fn none() -> Self {
        Levers {
            interventions: Vec::new(),
            draws: Vec::new(),
            qaly_loss: QalyLoss::default(),
        }
    }

    /// Draws every parameter of `scenario` for run `run`, its targets `resolved` against
    /// the datasets and the simulated geography ([`Scenario::resolve`]). Parameters are
    /// named "INTERVENTION/field", and streams are keyed by that name. `model` gives the
    /// risk distribution and admission rates that case finding is calibrated on.
    pub fn draw(scenario: &Scenario, resolved: &Resolved, model: &Model, run: u64) -> Self {
        Self::with(scenario, resolved, model, Draws::Random { run })
    }

    /// The levers of `scenario` with each parameter's value taken as `values` says: drawn
    /// for a Monte Carlo run, or set for the one-way sensitivity analysis. Values are
    /// clamped alike either way (an effect at -1, an amount at 0...).
    pub fn with(scenario: &Scenario, resolved: &Resolved, model: &Model, values: Draws) -> Self {
        assert_eq!(
            scenario.interventions.len(),
            resolved.targets.len(),
            "targets resolved for another scenario"
        );
        let mut draws = Vec::new();
        let mut take = |name: String, dist: &Dist, lo: f64| -> f64 {
            let v = values.value(dist, &name, scenario.seed).max(lo);
            if !dist.is_fixed() {
                draws.push((name, v));
            }
            v
        };
        let interventions = scenario
            .interventions
            .iter()
            .zip(&resolved.targets)
            .map(|(i, t)| Self::draw_one(i, t, model, scenario.years, &mut take))
            .collect();
        // The health an admission costs is valued only against a counterfactual, so a
        // scenario without interventions draws no loss (and lists none as a parameter).
        let e = &scenario.evaluation;
        let qaly_loss = if scenario.interventions.is_empty() {
            QalyLoss::default()
        } else {
            QalyLoss {
                per_admission: take(
                    "evaluation/qaly_loss_per_admission".into(),
                    &e.qaly_loss_per_admission.0,
                    0.0,
                ),
                per_bed_day: take(
                    "evaluation/qaly_loss_per_bed_day".into(),
                    &e.qaly_loss_per_bed_day.0,
                    0.0,
                ),
            }
        };
        Levers {
            interventions,
            draws,
            qaly_loss,
        }
    }

    fn draw_one(
        i: &Intervention,
        target: &ResolvedTarget,
        model: &Model,
        years: u32,
        take: &mut impl FnMut(String, &Dist, f64) -> f64,
    ) -> Drawn {
        let n = |field: &str| format!("{}/{}", i.name, field);
        let mut activity = [0.0; N_SETTINGS];
        for (s, e) in i.effects.activity() {
            activity[s.index()] = take(n(&format!("effects.{}", s.id())), &e.0, -1.0);
        }
        let mut effect = |field: &str, e: &Option<crate::config::uncertainty::Effect>| {
            e.as_ref()
                .map_or(0.0, |e| take(n(&format!("effects.{field}")), &e.0, -1.0))
        };
        let deterioration = effect("deterioration", &i.effects.deterioration);
        let mortality = effect("mortality", &i.effects.mortality);
        let cost_per_enrolled = take(n("cost_per_enrolled"), &i.cost_per_enrolled.0, 0.0);
        let setup_cost = take(n("setup_cost"), &i.setup_cost.0, 0.0);
        let delay = take(n("effect_delay_years"), &i.effect_delay_years.0, 0.0).min(MAX_YEARS);
        let ramp = take(n("effect_ramp_years"), &i.effect_ramp_years.0, 0.0).min(MAX_YEARS);
        let coverage: Vec<f64> = (1..=years).map(|y| i.coverage.in_year(y)).collect();
        let effective = effective_coverage(&coverage, delay, ramp);
        let reach = Reach::new(target);
        let mut kept_score = None;
        let use_share = match i.enrolment {
            Enrolment::Random => effective.clone(),
            Enrolment::HighestRisk => {
                let auc = take(n("case_finding_auc"), &i.case_finding_auc.0, 0.5).min(1.0);
                let rate = target_admission_rate(model, &reach);
                let score = CaseFinding::with_auc(model.risk_shape, rate, auc);
                kept_score = Some(score.clone());
                coverage
                    .iter()
                    .zip(&effective)
                    .map(|(&c, &ce)| {
                        if c > 0.0 {
                            score.share(c) * ce / c
                        } else {
                            0.0
                        }
                    })
                    .collect()
            }
        };
        let substitution = i
            .substitution
            .iter()
            .map(|(s, sub)| {
                (
                    *s,
                    take(
                        n(&format!("substitution.{}.per_enrolled", s.id())),
                        &sub.per_enrolled.0,
                        0.0,
                    ),
                    take(
                        n(&format!("substitution.{}.per_avoided_admission", s.id())),
                        &sub.per_avoided_admission.0,
                        0.0,
                    ),
                )
            })
            .collect();
        Drawn {
            name: i.name.clone(),
            reach,
            coverage,
            effective,
            use_share,
            enrolment: i.enrolment,
            activity,
            deterioration,
            mortality,
            cost_per_enrolled,
            setup_cost,
            substitution,
            funding_shift: i
                .funding_shift
                .as_ref()
                .map(|f| (f.from, f.to, f.share_of_savings.0)),
            capacity: i.capacity.as_ref().map(|c| DrawnCapacity {
                person_years: (1..=years).map(|y| c.person_years(y)).collect(),
                shares: target.capacity_shares.clone(),
                cost: c.cost,
            }),
            score: kept_score,
        }
    }

    /// The part of the levers that changes the population: two scenarios with equal
    /// demographic levers share one simulated population path.
    pub fn demographic(&self) -> DemographicLevers {
        DemographicLevers(
            self.interventions
                .iter()
                .filter(|i| i.deterioration != 0.0 || i.mortality != 0.0)
                .map(|i| DemographicLever {
                    reach: i.reach.clone(),
                    effective: i.effective.clone(),
                    coverage: i.coverage.clone(),
                    deterioration: i.deterioration,
                    mortality: i.mortality,
                    capacity: i.capacity.clone(),
                })
                .collect(),
        )
    }
}

/// The mean emergency admission rate per person-year in an intervention's target, over its
/// cells weighted by England's age-sex structure, starting segment prevalence and equal
/// quintiles: the rate a case-finding score's AUC is calibrated at. Fixed by the model and
/// the target, so a run's score does not depend on which areas are simulated.
fn target_admission_rate(model: &Model, reach: &Reach) -> f64 {
    let adm = Setting::EmergencyAdmissions;
    let (mut rate, mut weight) = (0.0, 0.0);
    for g in 0..model.segments.len() {
        for b in 0..N_BANDS {
            for q in (0..N_IMD).filter(|q| reach.reaches(g, b, *q)) {
                for x in 0..N_SEX {
                    let w = model.population_share[b][x]
                        * model.segments.initial_share(b, q as u8, g as u8);
                    let cell = Cell {
                        band: b,
                        sex: x,
                        imd: q,
                        segment: g,
                    }
                    .exposure();
                    rate += w * model.activity.rate(adm, cell);
                    weight += w;
                }
            }
        }
    }
    if weight > 0.0 {
        rate / weight
    } else {
        0.0
    }
}

/// An intervention that changes mortality or deterioration.
#[derive(Debug, Clone, PartialEq)]
pub struct DemographicLever {
    pub reach: Reach,
    /// Effective coverage by year: the share under full effect.
    pub effective: Vec<f64>,
    /// Coverage by year: the share the scenario wants enrolled.
    pub coverage: Vec<f64>,
    pub deterioration: f64,
    pub mortality: f64,
    /// Places or staff that cap enrolment, as they cap its care ([`Drawn::admitted`]).
    pub capacity: Option<DrawnCapacity>,
}

impl DemographicLever {
    /// The share of the wanted enrolment capacity lets in, in a neighbourhood-year whose
    /// target holds `target` people at the start of the year: as [`Drawn::admitted`] with
    /// the year's starting people in place of its person-years, since deaths and
    /// deterioration are drawn before the year's exposure is known.
    fn admitted(&self, neighbourhood: usize, y: usize, target: f64) -> f64 {
        match &self.capacity {
            None => 1.0,
            Some(c) => {
                let held = c.person_years[y] * c.shares[neighbourhood];
                let wanted = self.coverage[y] * target;
                if wanted > held {
                    held / wanted
                } else {
                    1.0
                }
            }
        }
    }
}

/// Interventions that change mortality or deterioration.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DemographicLevers(Vec<DemographicLever>);

impl DemographicLevers {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether [`Self::factors`] needs the year's starting census: some lever has a
    /// capacity, which lets in a share of the target that depends on its size.
    pub fn needs_census(&self) -> bool {
        self.0.iter().any(|l| l.capacity.is_some())
    }

    /// Factors on death and deterioration probabilities by (segment, band, quintile) for a
    /// neighbourhood-year, into `mortality` and `deterioration` (each `ns * N_BANDS * N_IMD`).
    /// `census` (census cells, [`Cell::census`]) holds the year's starting people when
    /// [`Self::needs_census`]; a lever with a capacity then acts on the share of its
    /// coverage the capacity lets in.
    pub fn factors(
        &self,
        neighbourhood: usize,
        year: u32,
        ns: usize,
        census: &[u32],
        mortality: &mut Vec<f64>,
        deterioration: &mut Vec<f64>,
    ) {
        mortality.clear();
        mortality.resize(ns * N_BANDS * N_IMD, 1.0);
        deterioration.clear();
        deterioration.resize(ns * N_BANDS * N_IMD, 1.0);
        let y = year as usize - 1;
        for lever in &self.0 {
            let reach = &lever.reach;
            if !reach.neighbourhoods[neighbourhood] {
                continue;
            }
            let ratio = if lever.capacity.is_some() {
                lever.admitted(neighbourhood, y, reach.people_in(census, ns))
            } else {
                1.0
            };
            let c = lever.effective[y] * ratio;
            for g in 0..ns {
                for b in 0..N_BANDS {
                    for q in 0..N_IMD {
                        if reach.reaches(g, b, q) {
                            let i = Cell {
                                band: b,
                                sex: 0,
                                imd: q,
                                segment: g,
                            }
                            .demographic();
                            mortality[i] *= 1.0 + c * lever.mortality;
                            deterioration[i] *= 1.0 + c * lever.deterioration;
                        }
                    }
                }
            }
        }
    }
}

/// What the interventions of a scenario did in one neighbourhood-year, per intervention
/// and deprivation quintile.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InterventionYear {
    /// Enrolled person-years.
    pub enrolled: Vec<[f64; N_IMD]>,
    /// Person-years in the target (apportions set-up costs).
    pub target: Vec<[f64; N_IMD]>,
    /// Running cost in pence (set-up costs are added at system level).
    pub cost_pence: Vec<[i64; N_IMD]>,
    /// Funding moved in pence.
    pub shift_pence: Vec<[i64; N_IMD]>,
    /// Person-years the coverage would enrol, before any capacity caps it.
    pub wanted: Vec<[f64; N_IMD]>,
    /// Person-years the neighbourhood's share of each intervention's capacity holds
    /// (`None` without capacity).
    pub capacity: Vec<Option<f64>>,
}

impl InterventionYear {
    /// Person-years in intervention `k`'s target, over quintiles.
    pub fn target_total(&self, k: usize) -> f64 {
        self.target[k].iter().sum()
    }

    /// Funding moved by intervention `k`, over quintiles, in pence.
    pub fn shift_total(&self, k: usize) -> i64 {
        self.shift_pence[k].iter().sum()
    }
}

/// Buffers reused from year to year.
#[derive(Debug, Default)]
pub struct EffectScratch {
    mult: Vec<f64>,
    los_mult: Vec<f64>,
}

impl EffectScratch {
    /// The multipliers on rates `[setting][exposure cell]` and on length of stay
    /// `[exposure cell]` of the last call of [`scenario_means`] (all 1 when no
    /// intervention was active), so that the extra care of the last year of life is
    /// changed as ordinary care is.
    pub fn multipliers(&self) -> (&[f64], &[f64]) {
        (&self.mult, &self.los_mult)
    }
}

/// Multiplies expected counts `[setting][group]` by the area's activity multipliers.
fn apply_area(means: &mut [f64], ng: usize, area: &AreaFactors) {
    for s in Setting::ALL {
        let m = area.activity[s.index()];
        for v in &mut means[s.index() * ng..(s.index() + 1) * ng] {
            *v *= m;
        }
    }
}

/// The share of each intervention's wanted enrolment its capacity lets in this
/// neighbourhood-year (1 without capacity, or outside its reach), recording in `capacity`
/// the person-years each capacity holds here.
fn admitted_shares(
    levers: &Levers,
    neighbourhood: usize,
    y: usize,
    presence: &[f64],
    capacity: &mut [Option<f64>],
) -> Vec<f64> {
    levers
        .interventions
        .iter()
        .enumerate()
        .map(|(k, d)| {
            if !d.reach.neighbourhoods[neighbourhood] {
                return 1.0;
            }
            let mut target = 0.0;
            d.reach.for_each_cell(|_, c| target += presence[c]);
            let (ratio, held) = d.admitted(neighbourhood, y, d.coverage[y] * target);
            capacity[k] = held;
            ratio
        })
        .collect()
}

/// The active interventions' multipliers on each setting's rate and on length of stay,
/// by exposure cell, into `scratch`: effects act on the enrolled under full effect (costs,
/// elsewhere, on everyone enrolled).
fn effect_multipliers(
    levers: &Levers,
    neighbourhood: usize,
    y: usize,
    admitted: &[f64],
    cells: usize,
    scratch: &mut EffectScratch,
) {
    let EffectScratch { mult, los_mult } = scratch;
    mult.clear();
    mult.resize(N_SETTINGS * cells, 1.0);
    los_mult.clear();
    los_mult.resize(cells, 1.0);
    for (k, d) in levers.interventions.iter().enumerate() {
        if !(d.reach.neighbourhoods[neighbourhood] && d.coverage[y] > 0.0) {
            continue;
        }
        let u = d.use_share_admitted(y, admitted[k]);
        d.reach.for_each_cell(|_, cell| {
            for s in Setting::ALL {
                let e = d.activity[s.index()];
                if e != 0.0 {
                    if s == Setting::EmergencyBedDays {
                        los_mult[cell] *= 1.0 + u * e;
                    } else {
                        mult[s.index() * cells + cell] *= 1.0 + u * e;
                    }
                }
            }
        });
    }
}

/// Expected counts `[setting][group]` of a neighbourhood-year under a scenario's levers,
/// from the exposure (risk-weighted person-years) and presence (person-years) tables and
/// the neighbourhood-year's `area` multipliers (the same for every scenario of a run);
/// and the interventions' enrolment, costs and funding shifts. Activity substituted by
/// interventions is added as configured, not multiplied; activity they avoid is valued at
/// the area's rates and local unit costs.
#[allow(clippy::too_many_arguments)]
pub fn scenario_means(
    model: &ActivityModel,
    levers: &Levers,
    area: &AreaFactors,
    neighbourhood: usize,
    year: u32,
    exposure: &[f64],
    presence: &[f64],
    scratch: &mut EffectScratch,
    means: &mut [f64],
) -> InterventionYear {
    let ns = model.n_segments();
    let ng = model.n_groups();
    let cells = n_exposure_cells(ns);
    let y = year as usize - 1;
    let active: Vec<&Drawn> = levers
        .interventions
        .iter()
        .filter(|d| d.reach.neighbourhoods[neighbourhood] && d.coverage[y] > 0.0)
        .collect();
    let n = levers.interventions.len();
    let mut out = InterventionYear {
        enrolled: vec![[0.0; N_IMD]; n],
        target: vec![[0.0; N_IMD]; n],
        cost_pence: vec![[0; N_IMD]; n],
        shift_pence: vec![[0; N_IMD]; n],
        wanted: vec![[0.0; N_IMD]; n],
        capacity: vec![None; n],
    };
    let admitted = admitted_shares(levers, neighbourhood, y, presence, &mut out.capacity);
    if active.is_empty() {
        scratch.mult.clear();
        scratch.mult.resize(N_SETTINGS * cells, 1.0);
        scratch.los_mult.clear();
        scratch.los_mult.resize(cells, 1.0);
        model.expected_into(exposure, None, means);
        apply_area(means, ng, area);
        for (k, d) in levers.interventions.iter().enumerate() {
            if d.reach.neighbourhoods[neighbourhood] {
                d.reach
                    .for_each_cell(|_, c| out.target[k][c % N_IMD] += presence[c]);
            }
        }
        return out;
    }
    effect_multipliers(levers, neighbourhood, y, &admitted, cells, scratch);
    let EffectScratch { mult, los_mult } = scratch;
    model.expected_into(exposure, Some((mult, los_mult)), means);
    apply_area(means, ng, area);

    let adm = Setting::EmergencyAdmissions;
    let inflation = model.cost_factor(year);
    for (k, d) in levers.interventions.iter().enumerate() {
        if !d.reach.neighbourhoods[neighbourhood] {
            continue;
        }
        let (c, u) = (
            d.coverage[y] * admitted[k],
            d.use_share_admitted(y, admitted[k]),
        );
        // Per group (segment, quintile): enrolled person-years and admissions this
        // intervention avoids alone; per quintile and setting, all it avoids.
        let mut enrolled = vec![0.0; ng];
        let mut avoided_adm = vec![0.0; ng];
        let mut avoided = [[0.0; N_SETTINGS]; N_IMD];
        d.reach.for_each_cell(|g, cell| {
            let q = cell % N_IMD;
            let j = group(g, q);
            out.target[k][q] += presence[cell];
            out.wanted[k][q] += d.coverage[y] * presence[cell];
            enrolled[j] += c * presence[cell];
            for s in Setting::ALL {
                let e = d.activity[s.index()];
                if s.derived_from().is_none() && e != 0.0 {
                    let a =
                        -model.rate(s, cell) * area.activity[s.index()] * exposure[cell] * u * e;
                    avoided[q][s.index()] += a;
                    if s == adm {
                        avoided_adm[j] += a;
                    }
                }
            }
            let (ea, el) = (
                d.activity[adm.index()],
                d.activity[Setting::EmergencyBedDays.index()],
            );
            avoided[q][Setting::EmergencyBedDays.index()] += model.rate(adm, cell)
                * area.activity[adm.index()]
                * exposure[cell]
                * model.los_of_cell(cell)
                * (1.0 - (1.0 + u * ea) * (1.0 + u * el));
        });
        for &(s, per_enrolled, per_avoided) in &d.substitution {
            for j in 0..ng {
                means[s.index() * ng + j] +=
                    per_enrolled * enrolled[j] + per_avoided * avoided_adm[j].max(0.0);
            }
        }
        for q in 0..N_IMD {
            let e: f64 = (0..ns).map(|g| enrolled[group(g, q)]).sum();
            out.enrolled[k][q] = e;
            // Paid for as provided: the neighbourhood's capacity, spread over quintiles as
            // the target is.
            let paid = match (&d.capacity, out.capacity[k]) {
                (Some(cap), Some(held)) if cap.cost == CostBasis::Provided => {
                    let t: f64 = out.target[k].iter().sum();
                    if t > 0.0 {
                        held * out.target[k][q] / t
                    } else {
                        0.0
                    }
                }
                _ => e,
            };
            out.cost_pence[k][q] = (paid * d.cost_per_enrolled * 100.0 * inflation).round() as i64;
            if let Some((from, _, share)) = d.funding_shift {
                let saved: f64 = Setting::ALL
                    .iter()
                    .filter(|s| model.sector(**s) == from)
                    .map(|s| {
                        avoided[q][s.index()]
                            * model.local_unit_cost_pence(*s, year, area.cost[s.index()]) as f64
                            * model.cashable(*s)
                    })
                    .sum();
                out.shift_pence[k][q] = (share * saved.max(0.0)).round() as i64;
            }
        }
    }
    out
}

/// The share of a target under an intervention's full effect, year by year, when each
/// person's effect begins `delay` years after enrolment (0: in the year of enrolment) and
/// then rises linearly to full over `ramp` years (0: at once). Each year's new enrolments
/// are the rise in coverage; a fall in coverage removes people from every cohort in
/// proportion. With no delay and no ramp it is the coverage itself, exactly.
pub fn effective_coverage(coverage: &[f64], delay: f64, ramp: f64) -> Vec<f64> {
    if delay <= 0.0 && ramp <= 0.0 {
        return coverage.to_vec();
    }
    // Effect of a cohort in its year tau after enrolment (tau = 0: the enrolment year).
    let f = |tau: f64| {
        if tau < delay {
            0.0
        } else if ramp <= 0.0 {
            1.0
        } else {
            ((tau - delay + 1.0) / ramp).min(1.0)
        }
    };
    let mut cohorts: Vec<f64> = Vec::with_capacity(coverage.len());
    coverage
        .iter()
        .enumerate()
        .map(|(t, &c)| {
            let enrolled: f64 = cohorts.iter().sum();
            if c >= enrolled {
                cohorts.push(c - enrolled);
            } else {
                let keep = if enrolled > 0.0 { c / enrolled } else { 0.0 };
                cohorts.iter_mut().for_each(|n| *n *= keep);
                cohorts.push(0.0);
            }
            cohorts
                .iter()
                .enumerate()
                .map(|(s, n)| n * f((t - s) as f64))
                .sum()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::effective_coverage;

    /// Capacity lets in held / wanted of the enrolment, and the use share falls with it:
    /// in proportion with random enrolment, by S(r c) / S(c) with case finding, whose
    /// highest-ranked people are the ones let in (so the share falls by less).
    #[test]
    fn capacity_admits_a_share_and_case_finding_keeps_the_riskiest() {
        use super::{Drawn, DrawnCapacity, Reach};
        use crate::config::capacity::CostBasis;
        use crate::engine::case_finding::CaseFinding;
        let mut d = Drawn {
            name: "W".into(),
            reach: Reach {
                segments: vec![true],
                bands: (0, 0),
                quintiles: [true; crate::core::dims::N_IMD],
                neighbourhoods: vec![true, true],
            },
            coverage: vec![0.4],
            effective: vec![0.4],
            use_share: vec![0.4],
            enrolment: crate::config::scenario::Enrolment::Random,
            activity: [0.0; crate::core::care::N_SETTINGS],
            deterioration: 0.0,
            mortality: 0.0,
            cost_per_enrolled: 0.0,
            setup_cost: 0.0,
            substitution: Vec::new(),
            funding_shift: None,
            capacity: Some(DrawnCapacity {
                person_years: vec![100.0],
                shares: vec![0.25, 0.75],
                cost: CostBasis::Used,
            }),
            score: None,
        };
        // Neighbourhood 0 holds 25 person-years: 100 wanted, a quarter let in.
        assert_eq!(d.admitted(0, 0, 100.0), (0.25, Some(25.0)));
        assert_eq!(d.admitted(1, 0, 50.0), (1.0, Some(75.0)));
        assert!((d.use_share_admitted(0, 0.25) - 0.1).abs() < 1e-12);
        assert_eq!(d.use_share_admitted(0, 1.0), 0.4);
        let score = CaseFinding::with_rho(0.15, 0.6);
        d.use_share = vec![score.share(0.4)];
        d.score = Some(score.clone());
        let capped = d.use_share_admitted(0, 0.25);
        assert!((capped - score.share(0.1)).abs() < 1e-12, "{capped}");
        assert!(
            capped > 0.25 * d.use_share[0],
            "the riskiest are let in first"
        );
        d.capacity = None;
        assert_eq!(d.admitted(0, 0, 1e9), (1.0, None));
    }

    /// A capacity caps mortality and deterioration effects as it caps care: with 40 of the
    /// target's people at the start of the year, coverage 0.5 wants 20 enrolled; 25
    /// person-years of which this neighbourhood holds a fifth let in 5, a quarter, so a
    /// mortality effect of -0.2 at effective coverage 0.4 becomes 1 - 0.4 x 0.25 x 0.2.
    #[test]
    fn capacity_caps_mortality_and_deterioration_effects() {
        use super::{DemographicLever, DemographicLevers, DrawnCapacity, Reach};
        use crate::config::capacity::CostBasis;
        use crate::core::dims::{n_cells, Cell, N_IMD};
        let ns = 2;
        let lever = |capacity: Option<DrawnCapacity>| DemographicLever {
            reach: Reach {
                segments: vec![false, true],
                bands: (3, 3),
                quintiles: [true; N_IMD],
                neighbourhoods: vec![true],
            },
            effective: vec![0.4],
            coverage: vec![0.5],
            deterioration: 0.1,
            mortality: -0.2,
            capacity,
        };
        let mut census = vec![0u32; n_cells(ns)];
        // 40 people in the target (segment 1, band 3), 1,000 outside it.
        census[Cell {
            band: 3,
            sex: 0,
            imd: 2,
            segment: 1,
        }
        .census(ns)] = 40;
        census[Cell {
            band: 3,
            sex: 0,
            imd: 2,
            segment: 0,
        }
        .census(ns)] = 1000;
        let at = Cell {
            band: 3,
            sex: 0,
            imd: 2,
            segment: 1,
        }
        .demographic();
        let (mut m, mut d) = (Vec::new(), Vec::new());
        let capped = DemographicLevers(vec![lever(Some(DrawnCapacity {
            person_years: vec![25.0],
            shares: vec![0.2],
            cost: CostBasis::Used,
        }))]);
        assert!(capped.needs_census());
        capped.factors(0, 1, ns, &census, &mut m, &mut d);
        assert!(
            (m[at] - (1.0 - 0.4 * 0.25 * 0.2)).abs() < 1e-12,
            "{}",
            m[at]
        );
        assert!(
            (d[at] - (1.0 + 0.4 * 0.25 * 0.1)).abs() < 1e-12,
            "{}",
            d[at]
        );
        // Room for all: the uncapped factors.
        let roomy = DemographicLevers(vec![lever(Some(DrawnCapacity {
            person_years: vec![1000.0],
            shares: vec![1.0],
            cost: CostBasis::Used,
        }))]);
        roomy.factors(0, 1, ns, &census, &mut m, &mut d);
        let (rm, rd) = (m[at], d[at]);
        let free = DemographicLevers(vec![lever(None)]);
        assert!(!free.needs_census());
        free.factors(0, 1, ns, &[], &mut m, &mut d);
        assert_eq!((rm, rd), (m[at], d[at]));
        assert!((m[at] - (1.0 - 0.4 * 0.2)).abs() < 1e-12);
    }

    /// Hand-worked: coverage 0.2, 0.4, 0.4, 0.4 enrols cohorts of 0.2 in years 1 and 2.
    #[test]
    fn time_to_effect_by_cohort() {
        let cov = [0.2, 0.4, 0.4, 0.4];
        assert_eq!(effective_coverage(&cov, 0.0, 0.0), cov.to_vec());
        // A year's delay: each cohort's effect starts the year after it enrols.
        let d = effective_coverage(&cov, 1.0, 0.0);
        for (a, b) in d.iter().zip([0.0, 0.2, 0.4, 0.4]) {
            assert!((a - b).abs() < 1e-12, "{d:?}");
        }
        // No delay, two-year ramp: half in the enrolment year, full the year after.
        let r = effective_coverage(&cov, 0.0, 2.0);
        for (a, b) in r.iter().zip([0.1, 0.2 + 0.1, 0.4, 0.4]) {
            assert!((a - b).abs() < 1e-12, "{r:?}");
        }
        // Delay 1 and ramp 2: 0, then half of cohort 1, then cohort 1 full + half of 2.
        let both = effective_coverage(&cov, 1.0, 2.0);
        for (a, b) in both.iter().zip([0.0, 0.1, 0.2 + 0.1, 0.4]) {
            assert!((a - b).abs() < 1e-12, "{both:?}");
        }
        // Coverage falling by half halves every cohort.
        let fall = effective_coverage(&[0.4, 0.2], 0.0, 2.0);
        assert!((fall[1] - (0.2 * 1.0 + 0.0)).abs() < 1e-12, "{fall:?}");
    }

    #[test]
    fn coverage_ramps_linearly() {
        let c = crate::config::scenario::Coverage {
            start: crate::config::uncertainty::Share(0.1),
            target: crate::config::uncertainty::Share(0.5),
            ramp_years: 4,
        };
        let v: Vec<f64> = (1..=6).map(|y| c.in_year(y)).collect();
        let want = [0.1, 0.2, 0.3, 0.4, 0.5, 0.5];
        for (a, b) in v.iter().zip(want) {
            assert!((a - b).abs() < 1e-12, "{v:?}");
        }
    }
}
