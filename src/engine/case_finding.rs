//! Case finding: enrolling the people a risk score ranks highest, rather than a random
//! share of the target.
//!
//! Each person's true risk is their persistent gamma multiplier `r` (mean 1, shape `k`,
//! [`crate::engine::synthesis`]); within a cell of the model everyone has the same rate
//! otherwise, so a score can only sort people by `r`. The score is modelled with a Gaussian
//! copula: `S = rho Z + sqrt(1 - rho^2) e`, where `Z` is the normal score of the person's
//! rank in risk and `e` independent noise. `rho` is set so that the score's AUC for telling
//! a person who has an emergency admission within the year from one who has none, at the
//! target's admission rate, equals the scenario's `case_finding_auc` (the statistic that
//! risk-prediction tools publish). `rho = 1` is perfect knowledge of risk; even that has an
//! AUC below 1, because admissions are chance events; an AUC above that ceiling is treated
//! as perfect knowledge.
//!
//! Enrolling the top share `c` by score then gives the enrolled a share [`CaseFinding::share`]
//! of the target's expected use (random enrolment: `c`). The engine needs only that share
//! per year, so case finding costs no work per person and no draw: effects apply to what
//! the enrolled would really have used, in expectation.

use std::sync::Mutex;

use statrs::distribution::{ContinuousCDF, Gamma, Normal};

/// Risk bins of equal probability: enough for shares to 1e-3 at the skew of the bundled
/// risk shape, small enough that calibrating a score takes milliseconds.
const BINS: usize = 200;

/// Largest score correlation used: at 1 the noise vanishes and shares become a step.
const MAX_RHO: f64 = 0.9999;

/// The risk distribution in equal-probability bins, and a score's correlation with it.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseFinding {
    /// Mean risk within each bin, ascending (their mean is 1).
    risk: Vec<f64>,
    /// Normal score of each bin's middle rank.
    z: Vec<f64>,
    rho: f64,
}

fn std_normal() -> Normal {
    Normal::standard()
}

impl CaseFinding {
    /// The gamma(`shape`, mean 1) risk distribution with a score of correlation `rho`.
    pub fn with_rho(shape: f64, rho: f64) -> Self {
        let g = Gamma::new(shape, shape).expect("validated shape");
        // E[r; a < r < b] = F_{k+1}(b) - F_{k+1}(a) for a gamma of mean 1, so each bin's
        // mean is exact, tail included.
        let g1 = Gamma::new(shape + 1.0, shape).expect("validated shape");
        let n = std_normal();
        let edges: Vec<f64> = (0..=BINS)
            .map(|i| match i {
                0 => 0.0,
                i if i == BINS => f64::INFINITY,
                i => g.inverse_cdf(i as f64 / BINS as f64),
            })
            .collect();
        let mass = |x: f64| if x.is_infinite() { 1.0 } else { g1.cdf(x) };
        let risk = (0..BINS)
            .map(|i| (mass(edges[i + 1]) - mass(edges[i])) * BINS as f64)
            .collect();
        let z = (0..BINS)
            .map(|i| n.inverse_cdf((i as f64 + 0.5) / BINS as f64))
            .collect();
        CaseFinding {
            risk,
            z,
            rho: rho.clamp(0.0, MAX_RHO),
        }
    }

    /// The score whose AUC for an emergency admission within the year, at `rate`
    /// admissions per person-year of mean risk, is `auc` (0.5: no better than chance).
    ///
    /// Calibrating a score takes 41 AUCs of 40,000 normal probabilities each, and a batch
    /// asks for the same score again and again: each run draws one per case-finding
    /// intervention, and scenarios that share an intervention share its draws (common
    /// random numbers). So scores are remembered by their exact arguments
    /// ([`remembered`]): a pure function's value, the same bits whichever thread asks.
    pub fn with_auc(shape: f64, rate: f64, auc: f64) -> Self {
        static SCORES: Mutex<Vec<([u64; 3], CaseFinding)>> = Mutex::new(Vec::new());
        remembered(&SCORES, [shape, rate, auc], || {
            Self::calibrate(shape, rate, auc)
        })
    }

    /// [`CaseFinding::with_auc`], worked out.
    fn calibrate(shape: f64, rate: f64, auc: f64) -> Self {
        static BASES: Mutex<Vec<([u64; 3], CaseFinding)>> = Mutex::new(Vec::new());
        let mut cf = remembered(&BASES, [shape, 0.0, 0.0], || Self::with_rho(shape, 0.0));
        if auc <= 0.5 || rate <= 0.0 {
            return cf;
        }
        let (mut lo, mut hi) = (0.0, MAX_RHO);
        if cf.auc(rate, hi) <= auc {
            cf.rho = hi;
            return cf;
        }
        for _ in 0..40 {
            let mid = 0.5 * (lo + hi);
            if cf.auc(rate, mid) < auc {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        cf.rho = 0.5 * (lo + hi);
        cf
    }

    /// The score's correlation with the normal score of true risk.
    pub fn rho(&self) -> f64 {
        self.rho
    }

    /// AUC of a score of correlation `rho` for an emergency admission (Poisson at `rate`
    /// times risk) within the year: the chance that someone admitted scores above someone
    /// not admitted.
    pub fn auc(&self, rate: f64, rho: f64) -> f64 {
        let n = std_normal();
        let admitted: Vec<f64> = self.risk.iter().map(|r| 1.0 - (-rate * r).exp()).collect();
        let kappa = rho / (2.0 * (1.0 - rho * rho)).sqrt();
        let (mut num, mut den) = (0.0, 0.0);
        for (a, pa) in admitted.iter().enumerate() {
            for (b, pb) in admitted.iter().enumerate() {
                let w = pa * (1.0 - pb);
                num += w * n.cdf(kappa * (self.z[a] - self.z[b]));
                den += w;
            }
        }
        if den > 0.0 {
            num / den
        } else {
            0.5
        }
    }

    /// The share of the target's expected use held by the share `c` of its people whom the
    /// score ranks highest: `c` when the score knows nothing, more when it does.
    pub fn share(&self, c: f64) -> f64 {
        if c <= 0.0 {
            return 0.0;
        }
        if c >= 1.0 {
            return 1.0;
        }
        let n = std_normal();
        let t = n.inverse_cdf(1.0 - c);
        let sd = (1.0 - self.rho * self.rho).sqrt();
        let s: f64 = self
            .risk
            .iter()
            .zip(&self.z)
            .map(|(r, z)| r * (1.0 - n.cdf((t - self.rho * z) / sd)))
            .sum::<f64>()
            / BINS as f64;
        s.clamp(c, 1.0)
    }
}

/// Scores remembered at most: a batch's distinct draws of one run, many times over.
const REMEMBERED: usize = 64;

/// The value of `make` for `key`, from `memo` if it was made before (the newest
/// [`REMEMBERED`] are kept), else made and kept. Keys compare by their bits.
fn remembered(
    memo: &Mutex<Vec<([u64; 3], CaseFinding)>>,
    key: [f64; 3],
    make: impl FnOnce() -> CaseFinding,
) -> CaseFinding {
    let key = key.map(f64::to_bits);
    let lock = || memo.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, cf)) = lock().iter().find(|(k, _)| *k == key) {
        return cf.clone();
    }
    let cf = make();
    let mut kept = lock();
    if kept.len() == REMEMBERED {
        kept.remove(0);
    }
    kept.push((key, cf.clone()));
    cf
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_distr::{Distribution, Gamma as GammaDist, Poisson, StandardNormal};

    /// The bins keep the distribution's mean; a score that knows nothing enrols a share of
    /// use equal to its share of people.
    #[test]
    fn bins_have_mean_one_and_random_enrolment_is_proportional() {
        let cf = CaseFinding::with_rho(0.15, 0.0);
        let mean = cf.risk.iter().sum::<f64>() / BINS as f64;
        assert!((mean - 1.0).abs() < 1e-9, "{mean}");
        for c in [0.01, 0.1, 0.5] {
            assert!((cf.share(c) - c).abs() < 1e-9, "{c}");
        }
    }

    /// The analytic AUC and enrolled share against a per-person simulation of the same
    /// model: gamma risks, copula scores, Poisson admissions.
    #[test]
    fn a_remembered_score_is_the_score_worked_out() {
        let fresh = CaseFinding::calibrate(0.15, 0.3, 0.7);
        assert_eq!(CaseFinding::with_auc(0.15, 0.3, 0.7), fresh);
        assert_eq!(CaseFinding::with_auc(0.15, 0.3, 0.7), fresh, "remembered");
        assert!(CaseFinding::with_auc(0.15, 0.3, 0.72).rho() > fresh.rho());
        for k in 0..2 * REMEMBERED {
            CaseFinding::with_auc(0.15, 0.3, 0.6 + k as f64 * 1e-3);
        }
        assert_eq!(
            CaseFinding::with_auc(0.15, 0.3, 0.7),
            fresh,
            "forgotten, made again"
        );
    }

    #[test]
    fn auc_and_share_match_a_per_person_simulation() {
        let (shape, rate, auc) = (0.15, 0.3, 0.73);
        let cf = CaseFinding::with_auc(shape, rate, auc);
        assert!((cf.auc(rate, cf.rho()) - auc).abs() < 1e-6);
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(7);
        let g = GammaDist::new(shape, 1.0 / shape).unwrap();
        let n = 200_000;
        let risk: Vec<f64> = (0..n).map(|_| g.sample(&mut rng)).collect();
        // Normal scores of each person's rank in risk.
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|a, b| risk[*a].total_cmp(&risk[*b]));
        let norm = std_normal();
        let mut z = vec![0.0; n];
        for (rank, i) in order.iter().enumerate() {
            z[*i] = norm.inverse_cdf((rank as f64 + 0.5) / n as f64);
        }
        let rho = cf.rho();
        let score: Vec<f64> = (0..n)
            .map(|i| {
                let e: f64 = StandardNormal.sample(&mut rng);
                rho * z[i] + (1.0 - rho * rho).sqrt() * e
            })
            .collect();
        let admitted: Vec<bool> = risk
            .iter()
            .map(|r| {
                let m = rate * r;
                m > 0.0 && Poisson::new(m).unwrap().sample(&mut rng) > 0.0
            })
            .collect();
        // Empirical AUC by ranks (Mann-Whitney).
        let mut by_score: Vec<usize> = (0..n).collect();
        by_score.sort_by(|a, b| score[*a].total_cmp(&score[*b]));
        let (mut rank_sum, mut cases) = (0.0, 0.0);
        for (rank, i) in by_score.iter().enumerate() {
            if admitted[*i] {
                rank_sum += rank as f64 + 1.0;
                cases += 1.0;
            }
        }
        let controls = n as f64 - cases;
        let empirical = (rank_sum - cases * (cases + 1.0) / 2.0) / (cases * controls);
        assert!((empirical - auc).abs() < 0.01, "AUC {empirical} vs {auc}");
        // The top tenth by score holds this share of expected use.
        let top = n / 10;
        let total: f64 = risk.iter().sum();
        let held: f64 = by_score[n - top..].iter().map(|i| risk[*i]).sum();
        let want = cf.share(0.1);
        assert!(
            (held / total - want).abs() < 0.02,
            "share {} vs {want}",
            held / total
        );
        assert!(
            want > 0.2,
            "a useful score enrols far more than its share: {want}"
        );
    }

    /// Perfect knowledge enrols the riskiest: the share is the top of the risk
    /// distribution, and no stated AUC reaches beyond it.
    #[test]
    fn auc_beyond_the_ceiling_is_perfect_knowledge() {
        let cf = CaseFinding::with_auc(0.15, 0.3, 0.999);
        assert_eq!(cf.rho(), MAX_RHO);
        let none = CaseFinding::with_auc(0.15, 0.3, 0.5);
        assert_eq!(none.rho(), 0.0);
        assert!(cf.share(0.05) > CaseFinding::with_auc(0.15, 0.3, 0.7).share(0.05));
    }
}
