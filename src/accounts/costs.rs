//! Every pound a scenario costs in one run, each in one line: per neighbourhood, year and
//! deprivation quintile, the care used (by setting), the programme's running cost, its
//! set-up cost (in the year it is paid) and, for cash only, the fixed costs of avoided
//! activity that providers still pay.
//!
//! Two views follow from the lines, and are named apart everywhere they are reported:
//! - the **economic** cost, `total_cost` = care + programme + set-up, at full average unit
//!   costs: what the ICER and net monetary benefit use;
//! - the **cash** cost, `cash_cost` = total + the fixed costs of avoided activity that are
//!   not cashable: a bed day avoided releases only its variable share
//!   (`datasets/cashable_costs.csv`) until enough bed days are avoided in a system to
//!   close a whole ward (`ward_beds` at `bed_occupancy`, `datasets/parameters.csv`); the
//!   rest is released capacity that the provider still pays for. Budgets pay cash.
//!
//! With no interventions the two are equal. Retained fixed costs are found per system,
//! setting and year (a ward closes in a system, not in a neighbourhood) on the system's
//! net saving in the setting, then shared among its neighbourhoods and quintiles in
//! proportion to the saving each made, by largest remainder, so every level sums exactly.

use crate::core::care::{Sector, Setting, N_SECTORS, N_SETTINGS};
use crate::core::dims::N_IMD;
use crate::core::money::largest_remainder;
use crate::data::geography::Geography;
use crate::engine::levers::Levers;
use crate::engine::simulation::NeighbourhoodResult;
use crate::model::Model;

/// The cost lines of one neighbourhood-year-quintile (pence).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Lines {
    /// Care used, at full average unit costs, by setting.
    pub care: [i64; N_SETTINGS],
    /// The counterfactual's care, by setting (for savings).
    pub cf_care: [i64; N_SETTINGS],
    /// The interventions' running cost.
    pub programme: i64,
    /// The interventions' set-up cost, paid in year 1.
    pub setup: i64,
    /// Fixed costs of avoided activity that providers still pay, by setting (cash only).
    pub retained: [i64; N_SETTINGS],
}

impl Lines {
    /// Care at full average unit costs.
    pub fn care_spend(&self) -> i64 {
        self.care.iter().sum()
    }

    /// The programme: running and set-up costs.
    pub fn programme_cost(&self) -> i64 {
        self.programme + self.setup
    }

    /// The economic cost: care, programme and set-up.
    pub fn total_cost(&self) -> i64 {
        self.care_spend() + self.programme_cost()
    }

    /// Fixed costs of avoided activity still paid.
    pub fn retained_cost(&self) -> i64 {
        self.retained.iter().sum()
    }

    /// The cash cost: the economic cost plus fixed costs still paid.
    pub fn cash_cost(&self) -> i64 {
        self.total_cost() + self.retained_cost()
    }
}

/// The cost lines of one scenario-run, `[neighbourhood][year][quintile]`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Costs {
    pub lines: Vec<Vec<[Lines; N_IMD]>>,
}

impl Costs {
    /// The lines of a scenario's `results` against its `counterfactual` (the same run
    /// without interventions), with wards of `ward_beds` at `occupancy`.
    pub fn new(
        model: &Model,
        geography: &Geography,
        levers: &Levers,
        results: &[NeighbourhoodResult],
        counterfactual: &[NeighbourhoodResult],
        (ward_beds, occupancy): (f64, f64),
    ) -> Costs {
        let mut lines: Vec<Vec<[Lines; N_IMD]>> = results
            .iter()
            .zip(counterfactual)
            .map(|(r, cf)| {
                (0..r.activity.len())
                    .map(|y| {
                        std::array::from_fn(|q| {
                            let mut l = Lines::default();
                            for s in Setting::ALL {
                                l.care[s.index()] = r.activity[y].in_quintile(s, q).1;
                                l.cf_care[s.index()] = cf.activity[y].in_quintile(s, q).1;
                            }
                            l.programme = r.interventions[y].cost_pence.iter().map(|c| c[q]).sum();
                            l
                        })
                    })
                    .collect()
            })
            .collect();
        if !levers.interventions.is_empty() {
            add_setup(model, levers, results, &mut lines);
            for sys in 0..geography.systems.len() {
                let members: Vec<usize> = (0..results.len())
                    .filter(|k| geography.system_of(*k) == sys)
                    .collect();
                add_retained(
                    model,
                    &members,
                    results,
                    counterfactual,
                    (ward_beds, occupancy),
                    &mut lines,
                );
            }
        }
        Costs { lines }
    }

    /// Cash by neighbourhood, year and sector: what budget lines pay. Care and retained
    /// fixed costs fall in their setting's sector; programme and set-up costs in community
    /// services, where shift-left money goes.
    pub fn by_sector(&self, model: &Model) -> Vec<Vec<[i64; N_SECTORS]>> {
        self.lines
            .iter()
            .map(|years| {
                years
                    .iter()
                    .map(|by_q| {
                        let mut out = [0i64; N_SECTORS];
                        for l in by_q {
                            for s in Setting::ALL {
                                out[model.activity.sector(s) as usize] +=
                                    l.care[s.index()] + l.retained[s.index()];
                            }
                            out[Sector::Community as usize] += l.programme_cost();
                        }
                        out
                    })
                    .collect()
            })
            .collect()
    }
}

/// Set-up costs, once in year 1, shared by the neighbourhoods each intervention reaches,
/// and within them by quintile, in proportion to their people in its target.
fn add_setup(
    model: &Model,
    levers: &Levers,
    results: &[NeighbourhoodResult],
    lines: &mut [Vec<[Lines; N_IMD]>],
) {
    for (i, d) in levers.interventions.iter().enumerate() {
        let pence = (d.setup_cost * 100.0 * model.activity.cost_factor(1)).round();
        if pence <= 0.0 {
            continue;
        }
        let weights: Vec<f64> = results
            .iter()
            .flat_map(|r| r.interventions[0].target[i])
            .collect();
        if weights.iter().sum::<f64>() <= 0.0 {
            continue;
        }
        for (j, part) in largest_remainder(&weights, pence as u64)
            .into_iter()
            .enumerate()
        {
            lines[j / N_IMD][0][j % N_IMD].setup += part as i64;
        }
    }
}

/// The fixed costs of one system's avoided activity that are not released, per setting
/// and year, shared among its neighbourhood-quintiles in proportion to their saving.
fn add_retained(
    model: &Model,
    members: &[usize],
    results: &[NeighbourhoodResult],
    counterfactual: &[NeighbourhoodResult],
    (ward_beds, occupancy): (f64, f64),
    lines: &mut [Vec<[Lines; N_IMD]>],
) {
    let years = lines.first().map_or(0, |l| l.len());
    let bd = Setting::EmergencyBedDays;
    for y in 0..years {
        for s in Setting::ALL {
            let i = s.index();
            let saved: Vec<i64> = members
                .iter()
                .flat_map(|k| lines[*k][y].iter().map(move |l| l.cf_care[i] - l.care[i]))
                .collect();
            let wards = (s == bd).then(|| {
                let (mut avoided, mut cf_days, mut cf_pence) = (0i64, 0u64, 0i64);
                for k in members {
                    let (r, cf) = (&results[*k].activity[y], &counterfactual[*k].activity[y]);
                    avoided += cf.count_of(bd) as i64 - r.count_of(bd) as i64;
                    cf_days += cf.count_of(bd);
                    cf_pence += cf.pence_of(bd);
                }
                Wards {
                    avoided_days: avoided,
                    cf_days,
                    cf_pence,
                    ward_year: ward_beds * 365.0 * occupancy,
                }
            });
            for (j, part) in retained(&saved, model.activity.cashable(s), wards)
                .into_iter()
                .enumerate()
            {
                lines[members[j / N_IMD]][y][j % N_IMD].retained[i] += part;
            }
        }
    }
}

/// A system's emergency bed days in a year, for the wards its avoided bed days close.
#[derive(Debug, Clone, Copy)]
struct Wards {
    /// Counterfactual bed days minus the scenario's.
    avoided_days: i64,
    /// The counterfactual's bed days and their cost (pence).
    cf_days: u64,
    cf_pence: i64,
    /// Bed days a ward provides in a year: beds x 365 x occupancy.
    ward_year: f64,
}

/// The fixed costs still paid of one setting's avoided activity in a system-year, shared
/// among units in proportion to the saving each made (`saved`, pence; negative is added
/// activity, which costs in full and keeps nothing back).
///
/// The system's net saving keeps its fixed share `1 - cashable` as a cost. For bed days
/// (`wards` given), whole wards close once the bed days avoided fill a ward for a year,
/// and their fixed costs (at the counterfactual's mean cost a bed day) are released.
fn retained(saved: &[i64], cashable: f64, wards: Option<Wards>) -> Vec<i64> {
    let net: i64 = saved.iter().sum();
    let mut out = vec![0; saved.len()];
    if net <= 0 {
        return out;
    }
    let fixed = 1.0 - cashable;
    let mut keep = (net as f64 * fixed).round();
    if let Some(w) = wards {
        if w.avoided_days > 0 && w.cf_days > 0 && w.ward_year > 0.0 {
            let closed = (w.avoided_days as f64 / w.ward_year).floor();
            let per_day = w.cf_pence as f64 / w.cf_days as f64;
            keep -= (closed * w.ward_year * per_day * fixed).round();
        }
    }
    if keep <= 0.0 {
        return out;
    }
    let weights: Vec<f64> = saved.iter().map(|v| (*v).max(0) as f64).collect();
    for (o, part) in out.iter_mut().zip(largest_remainder(&weights, keep as u64)) {
        *o = part as i64;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hand-worked step-fixed release: 10,000 emergency bed days avoided at £400 (30%
    /// variable) with wards of 28 beds at 90% occupancy (9,198 bed days a year). Of the
    /// £4m avoided, the fixed 70% is kept, less the fixed 70% of one whole ward closed,
    /// 9,198 x £400 x 0.7; shared 3:1 between two units by what each saved.
    #[test]
    fn fixed_costs_are_released_in_whole_wards() {
        let pence_a_day = 40_000;
        let saved = [7_500 * pence_a_day, 2_500 * pence_a_day];
        let wards = Wards {
            avoided_days: 10_000,
            cf_days: 50_000,
            cf_pence: 50_000 * pence_a_day,
            ward_year: 28.0 * 365.0 * 0.9,
        };
        let kept = retained(&saved, 0.3, Some(wards));
        let want = (10_000.0 - 9_198.0) * 40_000.0 * 0.7;
        assert_eq!(kept.iter().sum::<i64>(), want as i64);
        assert_eq!(kept[0], 3 * kept[1]);
        // Fewer bed days than a ward: the whole fixed part is kept.
        let kept = retained(
            &[5_000 * pence_a_day],
            0.3,
            Some(Wards {
                avoided_days: 5_000,
                ..wards
            }),
        );
        assert_eq!(kept, vec![(5_000.0 * 40_000.0 * 0.7) as i64]);
        // Added activity keeps nothing; a unit that added activity gets no share.
        assert_eq!(retained(&[-100, 50], 0.3, None), vec![0, 0]);
        assert_eq!(retained(&[-100, 300], 0.5, None), vec![0, 100]);
    }

    /// The four views of one line, by hand.
    #[test]
    fn lines_add_up_by_hand() {
        let mut l = Lines {
            programme: 300,
            setup: 50,
            ..Default::default()
        };
        l.care[0] = 1_000;
        l.care[3] = 200;
        l.retained[3] = 70;
        assert_eq!(l.care_spend(), 1_200);
        assert_eq!(l.programme_cost(), 350);
        assert_eq!(l.total_cost(), 1_550);
        assert_eq!(l.cash_cost(), 1_620);
    }
}
