//! The incremental cost-effectiveness ratio of a scenario against its counterfactual: the
//! mean discounted incremental cost over the mean discounted QALYs gained, over all Monte
//! Carlo runs (a ratio of means, as health economists report it: Briggs, Claxton and
//! Sculpher, Decision Modelling for Health Economic Evaluation, 2006; `dampack`'s
//! `calculate_icers`), never the mean or median of per-run ratios, and never dropping
//! runs whose QALYs are not positive. Where the ratio means nothing it is named instead.

use std::fmt;

use rand::RngExt;

use crate::core::money::whole_pounds;
use crate::core::rng::{Purpose, StreamKey};

/// Where a scenario lies on the cost-effectiveness plane, from mean incremental cost and
/// mean incremental QALYs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Icer {
    /// More QALYs at more cost: pounds per QALY gained.
    PerQalyGained(f64),
    /// More QALYs at no more cost: better on both counts.
    Dominant,
    /// Fewer QALYs at more cost.
    Dominated,
    /// More costly, and no QALYs gained or lost.
    NoQalyGain,
    /// Less costly, with fewer QALYs: pounds saved per QALY lost.
    SavedPerQalyLost(f64),
    /// Neither cost nor QALYs change.
    NoChange,
}

impl Icer {
    /// The ICER of mean incremental cost `cost` (pounds) and mean QALYs gained `qalys`.
    pub fn of(cost: f64, qalys: f64) -> Icer {
        match (cost > 0.0, qalys > 0.0, qalys < 0.0) {
            (true, true, _) => Icer::PerQalyGained(cost / qalys),
            (false, true, _) => Icer::Dominant,
            (true, false, true) => Icer::Dominated,
            (true, false, false) => Icer::NoQalyGain,
            (false, false, true) if cost < 0.0 => Icer::SavedPerQalyLost(cost / qalys),
            (false, false, true) => Icer::Dominated,
            (false, false, false) => Icer::NoChange,
        }
    }

    /// The ICER of runs' incremental costs and QALYs: the ratio of their means.
    pub fn of_runs(cost: &[f64], qalys: &[f64]) -> Icer {
        Icer::of(mean(cost), mean(qalys))
    }

    /// The ratio for the summary's `cost_per_qaly` rows, where a ratio means something:
    /// pounds per QALY gained, or (south-west of the plane) pounds saved per QALY lost.
    pub fn ratio(&self) -> Option<f64> {
        match self {
            Icer::PerQalyGained(r) | Icer::SavedPerQalyLost(r) => Some(*r),
            _ => None,
        }
    }
}

impl fmt::Display for Icer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Icer::PerQalyGained(r) => write!(f, "{} per QALY gained", whole_pounds(*r)),
            Icer::Dominant => f.write_str("dominant (saves money and gains QALYs)"),
            Icer::Dominated => f.write_str("dominated (costs more, loses QALYs)"),
            Icer::NoQalyGain => f.write_str("more costly, no QALY gain"),
            Icer::SavedPerQalyLost(r) => write!(f, "saves {} per QALY lost", whole_pounds(-*r)),
            Icer::NoChange => f.write_str("no change in cost or QALYs"),
        }
    }
}

fn mean(x: &[f64]) -> f64 {
    x.iter().sum::<f64>() / x.len().max(1) as f64
}

/// Bootstrap resamples of the runs behind an ICER's interval.
pub const BOOTSTRAP: usize = 1000;

/// The ICERs of [`BOOTSTRAP`] resamples of the runs (with replacement, the pairs of cost
/// and QALYs kept together), each a ratio of its resample's means, sorted: their centiles
/// are the ICER's interval. A resample that gains no QALYs has no cost per QALY gained:
/// it counts as +infinity (worse than any ratio), and one that gains QALYs at no cost
/// has a negative ratio (better than any), so the order is the one a decision maker
/// would give the plane. `key` seeds the resampling, so the interval is the same bytes
/// however the batch was run.
pub fn bootstrap(cost: &[f64], qalys: &[f64], key: u64) -> Vec<f64> {
    let n = cost.len();
    if n == 0 {
        return Vec::new();
    }
    let mut rng = StreamKey {
        seed: key,
        run: 0,
        neighbourhood: 0,
        year: 0,
        purpose: Purpose::Bootstrap,
    }
    .rng();
    let mut ratios: Vec<f64> = (0..BOOTSTRAP)
        .map(|_| {
            let (mut c, mut q) = (0.0, 0.0);
            for _ in 0..n {
                let i = rng.random_range(0..n);
                c += cost[i];
                q += qalys[i];
            }
            if q > 0.0 {
                c / q
            } else {
                f64::INFINITY
            }
        })
        .collect();
    ratios.sort_by(f64::total_cmp);
    ratios
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The ratio of means, by hand, against the median of per-run ratios it replaces:
    /// runs (cost, QALYs) = (100, 1), (300, 1), (200, -0.5), (400, 2.5): mean cost 250,
    /// mean QALYs 1, ICER 250 a QALY; the per-run ratios 100, 300, 160 (run 3 dropped)
    /// had a median of 160.
    #[test]
    fn icer_is_the_ratio_of_means_over_all_runs() {
        let cost = [100.0, 300.0, 200.0, 400.0];
        let qalys = [1.0, 1.0, -0.5, 2.5];
        assert_eq!(Icer::of_runs(&cost, &qalys), Icer::PerQalyGained(250.0));
        assert_eq!(Icer::of_runs(&cost, &qalys).ratio(), Some(250.0));
    }

    /// Each quadrant of the plane is named.
    #[test]
    fn quadrants_are_named() {
        assert_eq!(Icer::of(-10.0, 2.0), Icer::Dominant);
        assert_eq!(Icer::of(0.0, 2.0), Icer::Dominant);
        assert_eq!(Icer::of(10.0, -2.0), Icer::Dominated);
        assert_eq!(Icer::of(10.0, 0.0), Icer::NoQalyGain);
        assert_eq!(Icer::of(-10.0, -2.0), Icer::SavedPerQalyLost(5.0));
        assert_eq!(Icer::of(0.0, 0.0), Icer::NoChange);
        assert_eq!(Icer::Dominant.ratio(), None);
        assert_eq!(
            Icer::of(25_000.0, 1.0).to_string(),
            "£25,000 per QALY gained"
        );
        assert_eq!(Icer::NoQalyGain.to_string(), "more costly, no QALY gain");
    }

    /// The bootstrap's ICERs bracket the ICER, are the same for the same key, and put
    /// resamples without a QALY gain at +infinity.
    #[test]
    fn bootstrap_brackets_the_ratio() {
        let cost: Vec<f64> = (0..40).map(|i| 1000.0 + 10.0 * i as f64).collect();
        let qalys: Vec<f64> = (0..40).map(|i| 0.05 + 0.001 * (i % 7) as f64).collect();
        let icer = Icer::of_runs(&cost, &qalys).ratio().unwrap();
        let b = bootstrap(&cost, &qalys, 7);
        assert_eq!(b.len(), BOOTSTRAP);
        assert!(b[50] < icer && icer < b[950], "{} {icer} {}", b[50], b[950]);
        assert!(b.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(b, bootstrap(&cost, &qalys, 7));
        let none = bootstrap(&[1.0, 2.0], &[0.0, -1.0], 7);
        assert!(none.iter().all(|x| *x == f64::INFINITY));
    }
}
