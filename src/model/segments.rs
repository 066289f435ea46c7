//! Health segments (Bridges to Health style) and the yearly Markov transitions among them.
//!
//! Segments are defined in `datasets/segments.csv`; nothing here knows their names except
//! through the data. Deprivation enters by scaling every deteriorating transition (to a
//! segment of higher severity) by the quintile's relative morbidity, the remainder staying
//! on the diagonal; and by scaling the starting prevalence of every segment other than
//! `healthy` and the newborn segment.

use crate::core::dims::{band_of, Cell, N_AGES, N_BANDS, N_IMD};
use crate::core::error::{CapsimError, Result};
use crate::data::datasets::Datasets;

/// Transition and starting-prevalence tables, ready for the yearly loop.
#[derive(Debug, Clone)]
pub struct SegmentModel {
    n: usize,
    ids: Vec<String>,
    newborn: u8,
    /// Severity rank of each segment: a move to a higher rank is a deterioration.
    severity: Vec<i64>,
    group_of_age: [u8; N_AGES],
    /// Probabilities, flat `[group][imd][from][to]`.
    p: Vec<f64>,
    /// The same, cumulative along `to`, for drawing with one uniform.
    cum: Vec<f64>,
    /// Age classes: runs of ages in one transition age group and one five-year band, so a
    /// factor by band applies to whole rows of [`SegmentModel::rows`].
    class_of_age: [u8; N_AGES],
    /// The transition age group and the band of each class.
    classes: Vec<(u8, u8)>,
    /// Per row, the probability of a deteriorating move (summed in segment order, as
    /// [`SegmentModel::next_scaled`] did per person before).
    worse: Vec<f64>,
    /// Starting prevalence, flat `[band][imd][segment]`.
    initial: Vec<f64>,
    initial_cum: Vec<f64>,
    /// [`SegmentModel::rows`] and [`SegmentModel::stay_bounds`] without factors: the same
    /// every year for every path without interventions that change health, so made once.
    unchanged: (Vec<f64>, Vec<[f64; 2]>),
}

fn cumulate(p: &[f64], width: usize) -> Vec<f64> {
    let mut cum = Vec::with_capacity(p.len());
    for row in p.chunks(width) {
        let mut acc = 0.0;
        for x in row {
            acc += x;
            cum.push(acc);
        }
        // Guard rounding: the last entry is exactly 1 so a uniform in [0,1) always lands.
        *cum.last_mut().expect("non-empty row") = 1.0;
    }
    cum
}

impl SegmentModel {
    pub fn new(d: &Datasets) -> Result<Self> {
        let n = d.segments.len();
        let ids = d.segments.iter().map(|s| s.id.clone()).collect();
        let newborn = d
            .segments
            .iter()
            .position(|s| s.newborn)
            .expect("validated") as u8;
        let morb_mean: f64 = d
            .deprivation
            .iter()
            .map(|x| x.morbidity_multiplier)
            .sum::<f64>()
            / N_IMD as f64;
        let morb: Vec<f64> = d
            .deprivation
            .iter()
            .map(|x| x.morbidity_multiplier / morb_mean)
            .collect();

        let mut group_of_age = [0u8; N_AGES];
        for (g, tg) in d.transitions.iter().enumerate() {
            for a in tg.age_from..=tg.age_to {
                group_of_age[a as usize] = g as u8;
            }
        }
        let mut p = Vec::with_capacity(d.transitions.len() * N_IMD * n * n);
        for tg in &d.transitions {
            for (q, m) in morb.iter().enumerate() {
                for from in 0..n {
                    let mut row = vec![0.0; n];
                    for (to, x) in row.iter_mut().enumerate() {
                        let worse = d.segments[to].severity > d.segments[from].severity;
                        // The newborn (maternity) segment is entered only by birth: a baby
                        // is born into it and a mother is in it for the year of the birth
                        // (`engine::simulation::exits`). A transition into it would move
                        // men in too, so the file's probabilities into it stay put instead.
                        let by_birth_only = to == newborn as usize && from != to;
                        *x = if by_birth_only {
                            0.0
                        } else {
                            tg.p[[from, to]] * if worse { *m } else { 1.0 }
                        };
                    }
                    let off: f64 = (0..n).filter(|t| *t != from).map(|t| row[t]).sum();
                    row[from] = 1.0 - off;
                    if row[from] < 0.0 {
                        return Err(CapsimError::InvalidTable {
                            file: "segment_transitions.csv with deprivation.csv".into(),
                            column: "morbidity_multiplier".into(),
                            problem: format!(
                                "in IMD quintile {}, the scaled deterioration from `{}` at ages {}-{} exceeds 1; lower the multiplier or the probabilities",
                                q + 1,
                                d.segments[from].id,
                                tg.age_from,
                                tg.age_to
                            ),
                        });
                    }
                    p.extend(row);
                }
            }
        }
        let cum = cumulate(&p, n);
        let mut class_of_age = [0u8; N_AGES];
        let mut classes: Vec<(u8, u8)> = Vec::new();
        for age in 0..N_AGES {
            let class = (group_of_age[age], band_of(age as u8) as u8);
            if classes.last() != Some(&class) {
                classes.push(class);
            }
            class_of_age[age] = (classes.len() - 1) as u8;
        }
        let severity: Vec<i64> = d.segments.iter().map(|s| s.severity).collect();
        let worse = p
            .chunks(n)
            .enumerate()
            .map(|(r, row)| {
                let from = r % n;
                (0..n)
                    .filter(|t| severity[*t] > severity[from])
                    .map(|t| row[t])
                    .sum()
            })
            .collect();

        let healthy = d.segments.iter().position(|s| s.severity == 0);
        // At the start only children below the first band with births are in the newborn
        // segment (infancy); a band's share of it from that band on is given to `healthy`
        // (or spread over the rest), since mothers enter it only in the year of a birth.
        let first_fertile = (0..N_BANDS)
            .find(|b| d.fertility[*b] > 0.0)
            .unwrap_or(N_BANDS);
        let mut initial = Vec::with_capacity(N_BANDS * N_IMD * n);
        for b in 0..N_BANDS {
            for m in &morb {
                let mut row: Vec<f64> = (0..n)
                    .map(|g| {
                        let scaled = Some(g) != healthy && g != newborn as usize;
                        if g == newborn as usize && b >= first_fertile {
                            return 0.0;
                        }
                        d.prevalence[[b, g]] * if scaled { *m } else { 1.0 }
                    })
                    .collect();
                let total: f64 = row.iter().sum();
                match healthy {
                    Some(h) if total - row[h] <= 1.0 => row[h] = 1.0 - (total - row[h]),
                    _ => row.iter_mut().for_each(|x| *x /= total),
                }
                initial.extend(row);
            }
        }
        let initial_cum = cumulate(&initial, n);
        let mut m = SegmentModel {
            n,
            ids,
            newborn,
            severity,
            group_of_age,
            p,
            cum,
            class_of_age,
            classes,
            worse,
            initial,
            initial_cum,
            unchanged: Default::default(),
        };
        let (mut rows, mut stay) = (Vec::new(), Vec::new());
        m.rows(None, &mut rows);
        m.stay_bounds(&rows, &mut stay);
        m.unchanged = (rows, stay);
        Ok(m)
    }

    /// The transition rows and intervals of staying without factors
    /// ([`SegmentModel::rows`] and [`SegmentModel::stay_bounds`] of `None`).
    pub fn unchanged_rows(&self) -> (&[f64], &[[f64; 2]]) {
        (&self.unchanged.0, &self.unchanged.1)
    }

    pub fn len(&self) -> usize {
        self.n
    }

    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    pub fn ids(&self) -> &[String] {
        &self.ids
    }

    /// The segment births enter.
    pub fn newborn(&self) -> u8 {
        self.newborn
    }

    /// Index of the row of transitions from `from` at an age and quintile.
    #[inline]
    fn row_index(&self, age: u8, imd: u8, from: u8) -> usize {
        (self.group_of_age[age as usize] as usize * N_IMD + imd as usize) * self.n + from as usize
    }

    /// Offset of that row in the flat tables.
    #[inline]
    fn row(&self, age: u8, imd: u8, from: u8) -> usize {
        self.row_index(age, imd, from) * self.n
    }

    /// Probability of moving from `from` to `to` in a year, at an age and quintile.
    pub fn probability(&self, age: u8, imd: u8, from: u8, to: u8) -> f64 {
        self.p[self.row(age, imd, from) + to as usize]
    }

    /// The segment reached from `from` given a uniform draw `u` in [0, 1).
    #[inline]
    pub fn next(&self, age: u8, imd: u8, from: u8, u: f64) -> u8 {
        let start = self.row(age, imd, from);
        pick(&self.cum[start..start + self.n], u)
    }

    /// Like [`SegmentModel::next`], with every deteriorating transition's probability
    /// multiplied by `factor` and the difference taken up by staying put. A factor that
    /// would push the stay probability below zero is capped so it stays at zero.
    pub fn next_scaled(&self, age: u8, imd: u8, from: u8, u: f64, factor: f64) -> u8 {
        if factor == 1.0 {
            return self.next(age, imd, from, u);
        }
        let mut acc = 0.0;
        for (t, p) in self
            .scaled(self.row_index(age, imd, from), from, factor)
            .enumerate()
        {
            acc += p;
            if u < acc {
                return t as u8;
            }
        }
        (self.n - 1) as u8
    }

    /// The probabilities of row `r` (from `from`) with deteriorating moves multiplied by
    /// `factor` ([`SegmentModel::next_scaled`]).
    fn scaled(&self, r: usize, from: u8, factor: f64) -> impl Iterator<Item = f64> + '_ {
        let start = r * self.n;
        let row = &self.p[start..start + self.n];
        let sev = &self.severity;
        let worse = self.worse[r];
        let f = if worse > 0.0 {
            factor.min((row[from as usize] + worse) / worse)
        } else {
            1.0
        };
        (0..self.n).map(move |t| {
            if sev[t] > sev[from as usize] {
                row[t] * f
            } else if t == from as usize {
                row[t] + worse * (1.0 - f)
            } else {
                row[t]
            }
        })
    }

    /// The age class of an age: its row block in [`SegmentModel::rows`].
    #[inline]
    pub fn class_of_age(&self, age: u8) -> usize {
        self.class_of_age[age as usize] as usize
    }

    /// Fills `out` with the year's cumulative transition rows, flat
    /// `[age class][quintile][from][to]`, with deteriorating moves scaled by
    /// `deterioration` (by [`Cell::demographic`]) when a path's interventions change them.
    /// [`pick`] on a row with a uniform gives what [`SegmentModel::next_scaled`] gives, draw
    /// for draw: a scaled row is summed in the same order, and where rounding makes a
    /// running sum dip it keeps the highest sum so far, which changes no first crossing.
    /// The yearly loop then draws every transition the same way, from a row looked up
    /// once, instead of scaling a row per person.
    pub fn rows(&self, deterioration: Option<&[f64]>, out: &mut Vec<f64>) {
        out.clear();
        for &(group, band) in &self.classes {
            for imd in 0..N_IMD {
                for from in 0..self.n {
                    let r = (group as usize * N_IMD + imd) * self.n + from;
                    let factor = deterioration.map_or(1.0, |f| {
                        f[Cell {
                            band: band as usize,
                            sex: 0,
                            imd,
                            segment: from,
                        }
                        .demographic()]
                    });
                    if factor == 1.0 {
                        out.extend_from_slice(&self.cum[r * self.n..(r + 1) * self.n]);
                        continue;
                    }
                    let (mut acc, mut highest) = (0.0, f64::NEG_INFINITY);
                    for p in self.scaled(r, from as u8, factor) {
                        acc += p;
                        highest = f64::max(highest, acc);
                        out.push(highest);
                    }
                }
            }
        }
    }

    /// Fills `out`, one entry per row of `rows` (as [`SegmentModel::rows`] lays them out),
    /// with the interval of uniforms for which [`pick`] on that row gives the row's own
    /// segment: `[cum[from - 1], cum[from])`, open at the ends. Most people stay where they
    /// are each year, so the yearly loop tests this interval first and searches the row
    /// only for those who move: the same segment as `pick`, since a row's sums never fall.
    pub fn stay_bounds(&self, rows: &[f64], out: &mut Vec<[f64; 2]>) {
        out.clear();
        let n = self.n;
        out.extend(rows.chunks_exact(n).enumerate().map(|(r, row)| {
            let from = r % n;
            let lo = if from == 0 {
                f64::NEG_INFINITY
            } else {
                row[from - 1]
            };
            let hi = if from == n - 1 {
                f64::INFINITY
            } else {
                row[from]
            };
            [lo, hi]
        }));
    }

    /// Starting prevalence of a segment in an age band and quintile.
    pub fn initial_share(&self, band: usize, imd: u8, segment: u8) -> f64 {
        self.initial[(band * N_IMD + imd as usize) * self.n + segment as usize]
    }

    /// A starting segment given a uniform draw.
    #[inline]
    pub fn initial(&self, band: usize, imd: u8, u: f64) -> u8 {
        let start = (band * N_IMD + imd as usize) * self.n;
        pick(&self.initial_cum[start..start + self.n], u)
    }
}

/// The first index whose cumulative probability exceeds `u` (the last if none does).
///
/// `cum` is non-decreasing, so that index is the number of entries at or below `u`:
/// counting them takes no branch per entry, where a scan for the first entry above `u`
/// mispredicted its exit at nearly every draw (synthesis picks a quintile and a segment
/// for each of England's 58 million people).
#[inline]
pub fn pick(cum: &[f64], u: f64) -> u8 {
    let passed: usize = cum.iter().map(|c| (u >= *c) as usize).sum();
    passed.min(cum.len() - 1) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_distributions() {
        let d = Datasets::bundled().unwrap();
        let m = SegmentModel::new(&d).unwrap();
        for age in [0u8, 30, 70, 100] {
            for q in 0..5u8 {
                for from in 0..m.len() as u8 {
                    let s: f64 = (0..m.len() as u8)
                        .map(|to| m.probability(age, q, from, to))
                        .sum();
                    assert!((s - 1.0).abs() < 1e-9);
                    assert!((0..m.len() as u8).all(|to| m.probability(age, q, from, to) >= 0.0));
                }
            }
        }
    }

    #[test]
    fn deprivation_raises_deterioration() {
        let d = Datasets::bundled().unwrap();
        let m = SegmentModel::new(&d).unwrap();
        let ltc = d.segment_index("stable_ltc").unwrap() as u8;
        let complex = d.segment_index("complex_multimorbidity").unwrap() as u8;
        assert!(m.probability(70, 0, ltc, complex) > m.probability(70, 4, ltc, complex));
    }

    #[test]
    fn pick_follows_cumulative() {
        let cum = [0.2, 0.5, 1.0];
        assert_eq!(pick(&cum, 0.0), 0);
        assert_eq!(pick(&cum, 0.2), 1);
        assert_eq!(pick(&cum, 0.99), 2);
    }
}
