//! Care used in each setting, and what it costs.
//!
//! Counts are Poisson given each person's expected use, and a sum of independent Poisson
//! counts is Poisson with the summed mean. So the yearly step does not draw per person: it
//! adds each person's expected use (their individual risk, weighted by time present) into
//! an exposure table by (segment, age band, sex, deprivation), then draws one exact Poisson
//! total per (setting, segment). Overdispersion between people comes from the persistent
//! gamma risk multiplier; emergency bed days are a gamma-Poisson (negative binomial) sum of
//! per-admission lengths of stay, drawn exactly from the admission count. The mean length
//! of stay depends on the admission's age band and segment (`length_of_stay.csv`,
//! `length_of_stay_segments.csv`), so each (segment, quintile) group's stays have the mean
//! of its own admissions: expected bed days over expected admissions, with the age mix,
//! the extra admissions of the last year of life and the interventions' effects on stays.

use rand::RngExt;
use rand_distr::{Distribution, Gamma, Poisson};

use crate::core::care::{Sector, Setting, N_SETTINGS};
use crate::core::dims::{n_exposure_cells, Cell, N_BANDS, N_IMD, N_SEX};
use crate::core::money;
use crate::core::rng::{StreamKey, StreamRng};
use crate::data::datasets::Datasets;

/// Expected use per unit of exposure, and unit costs, ready for the yearly loop.
#[derive(Debug, Clone)]
pub struct ActivityModel {
    n_segments: usize,
    /// Annual rate per person of mean risk, flat `[setting][exposure cell]`.
    rate: Vec<f64>,
    /// Unit cost in pence at the price year.
    unit_cost_pence: [f64; N_SETTINGS],
    sector: [Sector; N_SETTINGS],
    /// Variable share of each unit cost: what avoiding a unit releases in cash.
    cashable: [f64; N_SETTINGS],
    cost_inflation: f64,
    /// Real yearly price growth of each setting's unit cost, on top of `cost_inflation`.
    real_price_growth: [f64; N_SETTINGS],
    /// Mean length of stay of an emergency admission, `[segment * N_BANDS + band]`.
    los: Vec<f64>,
    /// Mean length of stay by age band over the band's admissions (`length_of_stay.csv`).
    los_band: [f64; N_BANDS],
    /// England's admission-weighted mean of `los` (the national mean stay).
    los_mean: f64,
    los_shape: f64,
    /// Extra use in the last year of life per death of mean risk, flat `[setting][band]`.
    end_of_life: Vec<f64>,
    /// Default yearly growth of each setting's rates beyond demography.
    trends: Trends,
}

/// Yearly growth of each setting's age-specific rates beyond demography (technology,
/// thresholds, expectations): rates in year `t` are `(1 + growth)^(t - 1)` times the
/// dataset's. A scenario takes the datasets' defaults (`activity_trends.csv`), its own
/// overrides, or none (`[trends] enabled = false`).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Trends {
    pub growth: [f64; N_SETTINGS],
}

impl Trends {
    /// No growth: rates change only with demography.
    pub const NONE: Trends = Trends {
        growth: [0.0; N_SETTINGS],
    };

    /// Multipliers on each setting's rates in a simulation year (1 in year 1), computed
    /// once per neighbourhood-year, never per person. A derived setting (bed days) grows
    /// with the setting it derives from, so that its expected count stays its parent's
    /// times the length of stay (the draw takes the stay as their ratio).
    pub fn factors(&self, year: u32) -> [f64; N_SETTINGS] {
        std::array::from_fn(|s| {
            let from = Setting::ALL[s].derived_from().map_or(s, |p| p.index());
            (1.0 + self.growth[from]).powi(year as i32 - 1)
        })
    }
}

/// Counts and costs of one year, `[setting][group]`, where a group is a (segment,
/// deprivation quintile) pair, `segment * N_IMD + quintile` ([`group`]). Drawing by
/// quintile as well as segment is what lets results be reported by deprivation without
/// apportioning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YearActivity {
    pub count: Vec<u64>,
    pub cost_pence: Vec<i64>,
}

/// The index of a (segment, quintile) group in a setting's slice of [`YearActivity`] and of
/// expected counts.
#[inline]
pub fn group(segment: usize, imd: usize) -> usize {
    segment * N_IMD + imd
}

impl YearActivity {
    /// Groups per setting.
    fn stride(&self) -> usize {
        self.count.len() / N_SETTINGS
    }

    /// Total count of a setting.
    pub fn count_of(&self, s: Setting) -> u64 {
        let n = self.stride();
        self.count[s.index() * n..(s.index() + 1) * n].iter().sum()
    }

    /// Total cost of a setting, in pence.
    pub fn pence_of(&self, s: Setting) -> i64 {
        let n = self.stride();
        self.cost_pence[s.index() * n..(s.index() + 1) * n]
            .iter()
            .sum()
    }

    /// The same year with its segments added up, `[setting][quintile]`: what the accounts
    /// read of a counterfactual or of a simulation that writes no activity table
    /// ([`Self::in_quintile`], [`Self::count_of`], [`Self::pence_of`] give the same,
    /// exactly, integer sums), in a seventh of the memory.
    pub fn by_quintile(&self) -> YearActivity {
        let mut count = Vec::with_capacity(N_SETTINGS * N_IMD);
        let mut cost_pence = Vec::with_capacity(N_SETTINGS * N_IMD);
        for s in Setting::ALL {
            for q in 0..N_IMD {
                let (c, p) = self.in_quintile(s, q);
                count.push(c);
                cost_pence.push(p);
            }
        }
        YearActivity { count, cost_pence }
    }

    /// Count of a setting in one segment, over quintiles.
    pub fn count_in_segment(&self, s: Setting, segment: usize) -> u64 {
        let at = s.index() * self.stride() + group(segment, 0);
        self.count[at..at + N_IMD].iter().sum()
    }

    /// Cost of a setting in one segment, over quintiles, in pence.
    pub fn pence_in_segment(&self, s: Setting, segment: usize) -> i64 {
        let at = s.index() * self.stride() + group(segment, 0);
        self.cost_pence[at..at + N_IMD].iter().sum()
    }

    /// Count and cost (pence) of a setting in one quintile, over segments.
    pub fn in_quintile(&self, s: Setting, imd: usize) -> (u64, i64) {
        let n = self.stride();
        (0..n / N_IMD)
            .map(|g| s.index() * n + group(g, imd))
            .fold((0, 0), |(c, p), i| {
                (c + self.count[i], p + self.cost_pence[i])
            })
    }
}

impl ActivityModel {
    /// Builds the rate table. The dataset's age-sex rates are population averages; segment
    /// and deprivation multipliers are relative, so each is divided by its population-
    /// weighted mean (segment prevalence within the age band; equal quintile shares) to keep
    /// the population average equal to the published rate.
    pub fn new(d: &Datasets) -> Self {
        let ns = d.segments.len();
        let cells = n_exposure_cells(ns);
        let mut rate = vec![0.0; N_SETTINGS * cells];
        for s in Setting::ALL {
            if s.derived_from().is_some() {
                continue;
            }
            let si = s.index();
            let dep_mean: f64 = (0..N_IMD)
                .map(|q| d.activity_deprivation[[si, q]])
                .sum::<f64>()
                / N_IMD as f64;
            for b in 0..N_BANDS {
                // The dataset's rates are population averages, the last year of life
                // included: the ordinary rate is what remains after the extra use of the
                // band's deaths (life-table deaths per person x extra per death), so that
                // rate x population still gives the national total. At least a tenth of
                // the published rate is kept (assumption; not reached with the bundled
                // data).
                let (lo, hi) = crate::core::dims::band_ages(b);
                let ordinary: [f64; N_SEX] = std::array::from_fn(|x| {
                    let q = (lo..=hi).map(|a| d.qx[[x, a as usize]]).sum::<f64>()
                        / (hi - lo + 1) as f64;
                    let r = d.activity_rates[[si, b, x]];
                    (r - q * d.end_of_life[[si, b]]).max(0.1 * r)
                });
                let seg_mean: f64 = (0..ns)
                    .map(|g| d.prevalence[[b, g]] * d.activity_segment[[si, g]])
                    .sum();
                for g in 0..ns {
                    let seg_rel = if seg_mean > 0.0 {
                        d.activity_segment[[si, g]] / seg_mean
                    } else {
                        1.0
                    };
                    for x in 0..N_SEX {
                        for q in 0..N_IMD {
                            let r =
                                ordinary[x] * seg_rel * d.activity_deprivation[[si, q]] / dep_mean;
                            rate[si * cells
                                + Cell {
                                    band: b,
                                    sex: x,
                                    imd: q,
                                    segment: g,
                                }
                                .exposure()] = r;
                        }
                    }
                }
            }
        }
        let unit_cost_pence = std::array::from_fn(|i| (d.settings[i].unit_cost * 100.0).round());
        let sector = std::array::from_fn(|i| d.settings[i].sector);
        ActivityModel {
            n_segments: ns,
            rate,
            unit_cost_pence,
            sector,
            cashable: d.cashable,
            cost_inflation: d.parameters.cost_inflation,
            real_price_growth: std::array::from_fn(|i| d.settings[i].real_price_growth),
            los: length_of_stay(d),
            los_band: d.los_band,
            los_mean: national_length_of_stay(d),
            los_shape: d.parameters.emergency_los_shape,
            end_of_life: d.end_of_life.iter().copied().collect(),
            trends: Trends { growth: d.trends },
        }
    }

    /// The default trends: the datasets' (`activity_trends.csv`), or a calibration's
    /// growth beyond demography where one was fitted ([`Self::set_trend`]).
    pub fn default_trends(&self) -> Trends {
        self.trends
    }

    /// Makes `growth` a setting's default trend beyond demography: a calibration's
    /// estimate from the analyst's own years replaces the national default (a scenario's
    /// `[trends.growth]` still overrides it).
    pub fn set_trend(&mut self, setting: Setting, growth: f64) {
        self.trends.growth[setting.index()] = growth;
    }

    /// Extra use in the last year of life of one death of mean risk, in a setting and band.
    pub fn end_of_life(&self, setting: Setting, band: usize) -> f64 {
        self.end_of_life[setting.index() * N_BANDS + band]
    }

    /// Adds to expected counts `means[setting][group]` the extra care of the last year of
    /// life of the people who die this year: `dying[exposure cell]` holds their risk, and
    /// each death of mean risk adds [`ActivityModel::end_of_life`] in each setting, times
    /// the area's (and year's) `activity` multiplier. Their ordinary use, half a year in
    /// their segment, is already in the exposure table; the published use of the last year
    /// of life is its sum with this (datasets/README.md). Bed days follow the extra
    /// admissions at the length of stay of each one's cell (age band and segment).
    /// Interventions change it as they change ordinary use: `effects` = (multiplier
    /// `[setting][exposure cell]`, length-of-stay multiplier `[cell]`) when given.
    pub fn add_end_of_life(
        &self,
        dying: &[f64],
        effects: Option<(&[f64], &[f64])>,
        activity: &[f64; N_SETTINGS],
        means: &mut [f64],
    ) {
        let cells = n_exposure_cells(self.n_segments);
        let ns = self.n_segments;
        let ng = self.n_groups();
        let per_seg = N_BANDS * N_SEX * N_IMD;
        let adm = Setting::EmergencyAdmissions;
        for s in Setting::ALL {
            if s.derived_from().is_some() {
                continue;
            }
            let si = s.index();
            let eol = &self.end_of_life[si * N_BANDS..(si + 1) * N_BANDS];
            if eol.iter().all(|x| *x == 0.0) {
                continue;
            }
            for g in 0..ns {
                let base = g * per_seg;
                let mut sums = [0.0; N_IMD];
                let mut days = [0.0; N_IMD];
                // Exposure layout within a segment: (band, sex, quintile), quintile inner.
                // Row by row of quintiles (one band and sex), adding the same terms in the
                // same order as cell by cell; the dying are few, so empty rows are skipped.
                for row in 0..per_seg / N_IMD {
                    let at = base + row * N_IMD;
                    let d = &dying[at..at + N_IMD];
                    if d.iter().all(|x| *x == 0.0) {
                        continue;
                    }
                    let e = eol[row / N_SEX];
                    for q in 0..N_IMD {
                        let c = at + q;
                        let (m, l) = match effects {
                            None => (1.0, 1.0),
                            Some((m, l)) => (m[si * cells + c], l[c]),
                        };
                        let x = d[q] * m * e;
                        sums[q] += x;
                        if s == adm {
                            days[q] += x * self.los_of_cell(c) * l;
                        }
                    }
                }
                for q in 0..N_IMD {
                    let j = group(g, q);
                    means[si * ng + j] += sums[q] * activity[si];
                    if s == adm {
                        for b in Setting::ALL
                            .iter()
                            .filter(|b| b.derived_from() == Some(adm))
                        {
                            means[b.index() * ng + j] += days[q] * activity[b.index()];
                        }
                    }
                }
            }
        }
    }

    pub fn n_segments(&self) -> usize {
        self.n_segments
    }

    /// Expected annual count of `setting` for one unit of exposure in a cell.
    #[inline]
    pub fn rate(&self, setting: Setting, cell: usize) -> f64 {
        self.rate[setting.index() * n_exposure_cells(self.n_segments) + cell]
    }

    /// England's mean length of stay of an emergency admission: the mean of
    /// [`ActivityModel::los_of_cell`] weighted by England's admissions (population x
    /// published rate by band and sex; datasets/README.md, length_of_stay.csv).
    pub fn los_mean(&self) -> f64 {
        self.los_mean
    }

    /// Mean length of stay of an emergency admission in an age band, over its segments.
    pub fn los_of_band(&self, band: usize) -> f64 {
        self.los_band[band]
    }

    /// Mean length of stay (bed days) of an emergency admission of an exposure cell: its
    /// age band's mean times its segment's relative stay.
    #[inline]
    pub fn los_of_cell(&self, cell: usize) -> f64 {
        // Exposure layout (segment, band, sex, quintile): segment * N_BANDS + band.
        self.los[cell / (N_SEX * N_IMD)]
    }

    /// The variable share of a setting's unit cost, which avoiding a unit saves in cash.
    pub fn cashable(&self, setting: Setting) -> f64 {
        self.cashable[setting.index()]
    }

    /// The sector a setting's spend falls in.
    pub fn sector(&self, setting: Setting) -> Sector {
        self.sector[setting.index()]
    }

    /// Price factor of a simulation year (1 = the price year; inflation compounds). With
    /// the bundled `cost_inflation` of 0, prices are real: every year is costed at the
    /// price year's prices, as the Green Book appraises.
    pub fn cost_factor(&self, year: u32) -> f64 {
        (1.0 + self.cost_inflation).powi(year as i32 - 1)
    }

    /// Price factor of a setting in a simulation year: general inflation times the
    /// setting's own real price growth (`settings.csv`, 0 by default).
    pub fn setting_cost_factor(&self, setting: Setting, year: u32) -> f64 {
        self.cost_factor(year)
            * (1.0 + self.real_price_growth[setting.index()]).powi(year as i32 - 1)
    }

    /// Unit cost in whole pence in a simulation year (1 = the price year; inflation
    /// compounds from there).
    pub fn unit_cost_pence(&self, setting: Setting, year: u32) -> i64 {
        self.local_unit_cost_pence(setting, year, 1.0)
    }

    /// Unit cost in whole pence in a simulation year where costs are `local` times the
    /// national ones (a place's market forces and rurality, [`crate::model::variation`]).
    /// A cost that does not fit in pence is [`money::OUT_OF_RANGE`], refused before costs
    /// are added up (see `core::money`).
    pub fn local_unit_cost_pence(&self, setting: Setting, year: u32, local: f64) -> i64 {
        money::to_pence(
            self.unit_cost_pence[setting.index()] * self.setting_cost_factor(setting, year) * local,
        )
    }

    /// Groups (segment, quintile) per setting in expected counts and drawn activity.
    pub fn n_groups(&self) -> usize {
        self.n_segments * N_IMD
    }

    /// Expected counts `[setting][group]` from an exposure table.
    pub fn expected(&self, exposure: &[f64]) -> Vec<f64> {
        let mut out = vec![0.0; N_SETTINGS * self.n_groups()];
        self.expected_into(exposure, None, &mut out);
        out
    }

    /// Expected counts `[setting][group]` into `out`, with rates multiplied cell by cell by
    /// `effects` = (multiplier `[setting][cell]`, length-of-stay multiplier `[cell]`) when
    /// given. Expected bed days of a group are the sum over its cells of expected
    /// admissions x the cell's length of stay ([`ActivityModel::los_of_cell`]) x the
    /// length-of-stay multiplier.
    pub fn expected_into(
        &self,
        exposure: &[f64],
        effects: Option<(&[f64], &[f64])>,
        out: &mut [f64],
    ) {
        let ns = self.n_segments;
        let ng = self.n_groups();
        let per_seg = N_BANDS * N_SEX * N_IMD;
        let cells = n_exposure_cells(ns);
        // In the exposure layout the quintile is the innermost index, so cell `c` of a
        // segment belongs to quintile `c % N_IMD`.
        for s in Setting::ALL {
            let si = s.index();
            for g in 0..ns {
                let base = si * cells + g * per_seg;
                let e = &exposure[g * per_seg..(g + 1) * per_seg];
                let r = &self.rate[base..base + per_seg];
                let mut sums = [0.0; N_IMD];
                // Whole rows of quintiles at a time: each quintile's sum adds the same
                // terms in the same order as cell by cell, without a remainder per cell.
                if s.derived_from().is_none() {
                    let (r, e) = (r.chunks_exact(N_IMD), e.chunks_exact(N_IMD));
                    match effects {
                        None => {
                            for (r, e) in r.zip(e) {
                                for q in 0..N_IMD {
                                    sums[q] += r[q] * e[q];
                                }
                            }
                        }
                        Some((m, _)) => {
                            let m = m[base..base + per_seg].chunks_exact(N_IMD);
                            for ((r, e), m) in r.zip(e).zip(m) {
                                for q in 0..N_IMD {
                                    sums[q] += r[q] * e[q] * m[q];
                                }
                            }
                        }
                    }
                }
                out[si * ng + group(g, 0)..si * ng + group(g, 0) + N_IMD].copy_from_slice(&sums);
            }
        }
        // Derived: bed days are admissions x their cell's length of stay.
        let adm = Setting::EmergencyAdmissions.index();
        let mut days = vec![[0.0; N_IMD]; ns];
        for (g, days) in days.iter_mut().enumerate() {
            let base = adm * cells + g * per_seg;
            for c in 0..per_seg {
                let e = g * per_seg + c;
                let (m, l) = effects.map_or((1.0, 1.0), |(m, l)| (m[base + c], l[e]));
                days[c % N_IMD] +=
                    self.rate[base + c] * exposure[e] * m * self.los[e / (N_SEX * N_IMD)] * l;
            }
        }
        for s in Setting::ALL.iter().filter(|s| s.derived_from().is_some()) {
            for (g, days) in days.iter().enumerate() {
                let at = s.index() * ng + group(g, 0);
                out[at..at + N_IMD].copy_from_slice(days);
            }
        }
    }

    /// Draws one year's counts and costs from an exposure table (no interventions, national
    /// rates and costs).
    pub fn draw(&self, exposure: &[f64], year: u32, key: &StreamKey) -> YearActivity {
        let mean = self.expected(exposure);
        self.draw_from(&mean, &[1.0; N_SETTINGS], year, key)
    }

    /// Draws one year's counts and costs from expected counts `[setting][group]`, with
    /// unit costs `local_cost[setting]` times the national ones. Each (setting, group)
    /// total has its own stream (a lane of `key`), so scenarios whose means differ still
    /// share their random numbers cell by cell. A derived setting (bed days) is drawn
    /// from its parent's count, each unit with the group's mean length of stay: its
    /// expected count over its parent's.
    pub fn draw_from(
        &self,
        mean: &[f64],
        local_cost: &[f64; N_SETTINGS],
        year: u32,
        key: &StreamKey,
    ) -> YearActivity {
        let ns = self.n_groups();
        let mut count = vec![0u64; N_SETTINGS * ns];
        let base = key.hash();
        let lane = |i: usize| StreamKey::lane_of(base, i as u64);
        for s in Setting::ALL {
            if s.derived_from().is_some() {
                continue;
            }
            for g in 0..ns {
                let i = s.index() * ns + g;
                // A lane with nothing expected draws nothing: it is not even made.
                if mean[i] > 0.0 {
                    count[i] = poisson(mean[i], &mut lane(i));
                }
            }
        }
        for s in Setting::ALL {
            if let Some(parent) = s.derived_from() {
                for g in 0..ns {
                    let i = s.index() * ns + g;
                    let p = parent.index() * ns + g;
                    let stay = if mean[p] > 0.0 {
                        mean[i] / mean[p]
                    } else {
                        0.0
                    };
                    if count[p] > 0 {
                        count[i] = self.total_length_of_stay(count[p], stay, &mut lane(i));
                    }
                }
            }
        }
        let cost_pence = count
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let s = Setting::ALL[i / ns];
                money::cost_pence(
                    *c,
                    self.local_unit_cost_pence(s, year, local_cost[s.index()]),
                )
            })
            .collect();
        YearActivity { count, cost_pence }
    }

    /// Total bed days of `admissions` stays, each negative binomial with mean `stay` and
    /// shape `los_shape`: the sum is negative binomial with shape `admissions x los_shape`,
    /// drawn as a gamma-Poisson mixture.
    pub fn total_length_of_stay(&self, admissions: u64, stay: f64, rng: &mut StreamRng) -> u64 {
        if admissions == 0 || stay.is_nan() || stay <= 0.0 {
            return 0;
        }
        let shape = admissions as f64 * self.los_shape;
        let lambda = Gamma::new(shape, stay / self.los_shape)
            .expect("shape and scale validated positive")
            .sample(rng);
        poisson(lambda, rng)
    }
}

/// Mean length of stay of an emergency admission by cell, `[segment * N_BANDS + band]`:
/// the band's mean (`length_of_stay.csv`) times the segment's relative stay
/// (`length_of_stay_segments.csv`) divided by its mean over the band's admissions
/// (segment prevalence x the segment's admission multiplier), so that each band's
/// admissions keep the band's published mean, as activity rates keep theirs.
fn length_of_stay(d: &Datasets) -> Vec<f64> {
    let ns = d.segments.len();
    let adm = Setting::EmergencyAdmissions.index();
    let mut los = vec![0.0; ns * N_BANDS];
    for b in 0..N_BANDS {
        let weight = |g: usize| d.prevalence[[b, g]] * d.activity_segment[[adm, g]];
        let total: f64 = (0..ns).map(weight).sum();
        let mean = if total > 0.0 {
            (0..ns).map(|g| weight(g) * d.los_segment[g]).sum::<f64>() / total
        } else {
            1.0
        };
        for g in 0..ns {
            los[g * N_BANDS + b] = d.los_band[b] * d.los_segment[g] / mean;
        }
    }
    los
}

/// England's admission-weighted mean length of stay: `length_of_stay.csv` weighted by
/// population x published emergency admission rate, by band and sex.
pub fn national_length_of_stay(d: &Datasets) -> f64 {
    let adm = Setting::EmergencyAdmissions.index();
    let (mut days, mut admissions) = (0.0, 0.0);
    for b in 0..N_BANDS {
        for x in 0..N_SEX {
            let a = d.population[[b, x]] * d.activity_rates[[adm, b, x]];
            admissions += a;
            days += a * d.los_band[b];
        }
    }
    if admissions > 0.0 {
        days / admissions
    } else {
        0.0
    }
}

/// A Poisson draw that accepts a zero mean.
#[inline]
pub fn poisson(mean: f64, rng: &mut StreamRng) -> u64 {
    if mean <= 0.0 {
        return 0;
    }
    if mean < 1e-9 {
        return (rng.random::<f64>() < mean) as u64;
    }
    Poisson::new(mean)
        .expect("finite positive mean")
        .sample(rng) as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::dims::n_exposure_cells;

    /// A year with its segments added up answers every question the accounts ask of it
    /// (by quintile, by setting) with the same integers, and is a seventh of the size.
    #[test]
    fn care_by_quintile_keeps_what_the_accounts_read() {
        let ns = 7;
        let n = N_SETTINGS * ns * N_IMD;
        let full = YearActivity {
            count: (0..n as u64).map(|i| i * 7919 % 1000).collect(),
            cost_pence: (0..n as i64).map(|i| i * 104_729 % 100_000 - 5).collect(),
        };
        let small = full.by_quintile();
        assert_eq!(small.count.len(), N_SETTINGS * N_IMD);
        for s in Setting::ALL {
            assert_eq!(small.count_of(s), full.count_of(s));
            assert_eq!(small.pence_of(s), full.pence_of(s));
            for q in 0..N_IMD {
                assert_eq!(small.in_quintile(s, q), full.in_quintile(s, q));
            }
        }
        assert_eq!(
            small.by_quintile(),
            small,
            "adding up again changes nothing"
        );
    }

    fn model() -> (Datasets, ActivityModel) {
        let d = Datasets::bundled().unwrap();
        let m = ActivityModel::new(&d);
        (d, m)
    }

    fn cell(band: usize, segment: usize, imd: usize) -> usize {
        Cell {
            band,
            sex: 1,
            imd,
            segment,
        }
        .exposure()
    }

    /// Issue 24, item 8: expected bed days of a group are Σ admissions(cell) x LOS(band,
    /// segment), worked by hand for a group of two cells (a child and a woman of 85-89, both
    /// frail, same quintile) from the datasets' files.
    #[test]
    fn bed_days_of_a_group_are_admissions_times_each_cells_stay() {
        let (d, m) = model();
        let ns = d.segments.len();
        let frail = d.segment_index("frailty").unwrap();
        let adm = Setting::EmergencyAdmissions;
        let mut exposure = vec![0.0; n_exposure_cells(ns)];
        let (child, old) = (cell(1, frail, 2), cell(17, frail, 2));
        exposure[child] = 100.0;
        exposure[old] = 50.0;
        let by_hand = |b: usize| {
            let w = |g: usize| d.prevalence[[b, g]] * d.activity_segment[[adm.index(), g]];
            let mean =
                (0..ns).map(|g| w(g) * d.los_segment[g]).sum::<f64>() / (0..ns).map(w).sum::<f64>();
            d.los_band[b] * d.los_segment[frail] / mean
        };
        let want = m.rate(adm, child) * 100.0 * by_hand(1) + m.rate(adm, old) * 50.0 * by_hand(17);
        let out = m.expected(&exposure);
        let ng = m.n_groups();
        let got = out[Setting::EmergencyBedDays.index() * ng + group(frail, 2)];
        assert!((got / want - 1.0).abs() < 1e-12, "{got} vs {want}");
        // The old and frail stay far longer than a child (with the same segment).
        assert!(
            by_hand(17) > 3.0 * by_hand(1),
            "{} {}",
            by_hand(17),
            by_hand(1)
        );
        assert!((m.los_of_cell(old) - by_hand(17)).abs() < 1e-12);
    }

    /// Avoiding an admission of an old frail person avoids more bed days than avoiding a
    /// child's: halving admissions in one cell removes that cell's stay per admission.
    #[test]
    fn avoiding_an_old_frail_admission_avoids_more_bed_days_than_a_childs() {
        let (d, m) = model();
        let ns = d.segments.len();
        let cells = n_exposure_cells(ns);
        let ng = m.n_groups();
        let (adm, bed) = (
            Setting::EmergencyAdmissions.index(),
            Setting::EmergencyBedDays.index(),
        );
        let frail = d.segment_index("frailty").unwrap();
        let healthy = d.segment_index("healthy").unwrap();
        let avoided_per_admission = |c: usize| {
            let mut exposure = vec![0.0; cells];
            exposure[c] = 1000.0;
            let mut mult = vec![1.0; N_SETTINGS * cells];
            mult[adm * cells + c] = 0.5;
            let los = vec![1.0; cells];
            let (mut before, mut after) = (vec![0.0; N_SETTINGS * ng], vec![0.0; N_SETTINGS * ng]);
            m.expected_into(&exposure, None, &mut before);
            m.expected_into(&exposure, Some((&mult, &los)), &mut after);
            let sum = |v: &[f64], s: usize| v[s * ng..(s + 1) * ng].iter().sum::<f64>();
            (sum(&before, bed) - sum(&after, bed)) / (sum(&before, adm) - sum(&after, adm))
        };
        let old_frail = avoided_per_admission(cell(17, frail, 0));
        let child = avoided_per_admission(cell(1, healthy, 0));
        assert!(old_frail > 8.0 && child < 1.5, "{old_frail} vs {child}");
    }

    /// Bed days grow with admissions: without it, the rates' trend made each admission's
    /// expected stay shrink year by year once the draw took the stay from the means.
    #[test]
    fn bed_days_follow_the_trend_of_admissions() {
        let (d, m) = model();
        let f = m.default_trends().factors(10);
        let (adm, bed) = (
            Setting::EmergencyAdmissions.index(),
            Setting::EmergencyBedDays.index(),
        );
        assert!(d.trends[adm] > 0.0 && d.trends[bed] == 0.0);
        assert!(f[adm] > 1.1 && f[bed] == f[adm], "{f:?}");
    }

    /// England's admission-weighted mean stay is the 4.5 days the model used for everyone
    /// before (datasets/README.md, length_of_stay.csv), so national bed days are kept.
    #[test]
    fn englands_mean_stay_is_kept() {
        let (_, m) = model();
        assert!((m.los_mean() - 4.5).abs() < 0.01, "{}", m.los_mean());
    }
}
