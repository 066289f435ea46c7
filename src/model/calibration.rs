//! The statistics of calibrating to observed activity: an empirical-Bayes Poisson-gamma
//! model of each area's rate multiplier, growth beyond demography, and the predictive
//! distribution of a held-out year with the scores of a validation.
//!
//! **Why Poisson-gamma.** An area's observed count is Poisson around its expected count
//! (people x national rates, [`crate::engine::expected`]) times its true multiplier
//! `theta = mu m`: `mu` the setting's level over all areas, `m` the area's own (mean 1,
//! gamma with shape `alpha`, so the sd of true multipliers is `1/sqrt(alpha)`). Marginally
//! the counts are negative binomial; `mu` and `alpha` are fitted by maximum likelihood
//! (the likelihood profiled over `mu`), and each area's posterior is gamma. A practice's
//! 12 admissions move its multiplier only part of the way from the level `mu`; a place's
//! 40,000 almost all of it. With fewer than [`MIN_AREAS`] areas the spread cannot be
//! estimated, and each area gets the Jeffreys posterior of its own Poisson rate.

use rand_distr::{Distribution, Gamma as GammaDraw, Normal};
use statrs::distribution::{ContinuousCDF, Gamma, StudentsT};
use statrs::function::gamma::ln_gamma;

use crate::core::care::Setting;
use crate::core::rng::StreamRng;
use crate::data::observed::AreaLevel;
use crate::model::activity::poisson;

/// Fewest areas from which the spread between them is estimated.
pub const MIN_AREAS: usize = 3;
/// Largest gamma shape fitted: a spread of 0.1% (no variation beyond chance detected).
pub const ALPHA_MAX: f64 = 1e6;
/// Smallest gamma shape fitted: a spread of 316%.
const ALPHA_MIN: f64 = 0.1;
/// The interval every calibration states: 90%.
pub const INTERVAL: f64 = 0.90;

/// A fitted Poisson-gamma model of one setting at one level.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PoissonGamma {
    /// Level of the setting's rates over the areas, relative to national rates.
    pub mu: f64,
    /// Gamma shape of the areas' own multipliers; `None` with too few areas to tell.
    pub alpha: Option<f64>,
    /// Maximised negative-binomial log-likelihood (or Poisson's, without `alpha`).
    pub log_likelihood: f64,
    pub areas: usize,
    pub observed: f64,
    pub expected: f64,
    /// Pearson dispersion of the counts around `mu E` under Poisson alone (1 = chance
    /// only; above 1, areas differ beyond chance).
    pub dispersion: f64,
}

/// The gamma posterior of an area's multiplier on national rates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Posterior {
    pub shape: f64,
    pub rate: f64,
}

impl Posterior {
    pub fn mean(&self) -> f64 {
        self.shape / self.rate
    }

    /// The `p` quantile.
    pub fn quantile(&self, p: f64) -> f64 {
        match Gamma::new(self.shape, self.rate) {
            Ok(g) => g.inverse_cdf(p),
            Err(_) => f64::NAN,
        }
    }

    /// The central [`INTERVAL`].
    pub fn interval(&self) -> (f64, f64) {
        let tail = (1.0 - INTERVAL) / 2.0;
        (self.quantile(tail), self.quantile(1.0 - tail))
    }
}

impl PoissonGamma {
    /// Fits `mu` and `alpha` to observed counts `o` and expected counts `e` of the areas.
    pub fn fit(o: &[f64], e: &[f64]) -> Self {
        let (observed, expected) = (o.iter().sum::<f64>(), e.iter().sum::<f64>());
        let crude = observed / expected.max(f64::MIN_POSITIVE);
        let dispersion = pearson_dispersion(o, e, crude);
        let base = PoissonGamma {
            mu: crude,
            alpha: None,
            log_likelihood: poisson_log_likelihood(o, e, crude),
            areas: o.len(),
            observed,
            expected,
            dispersion,
        };
        if o.len() < MIN_AREAS || observed <= 0.0 {
            return base;
        }
        let profile = |log_alpha: f64| {
            let alpha = log_alpha.exp();
            let mu = mu_given_alpha(o, e, alpha, crude);
            (nb_log_likelihood(o, e, mu, alpha), mu)
        };
        let log_alpha = golden_max(|x| profile(x).0, ALPHA_MIN.ln(), ALPHA_MAX.ln());
        let (ll, mu) = profile(log_alpha);
        PoissonGamma {
            mu,
            alpha: Some(log_alpha.exp()),
            log_likelihood: ll,
            ..base
        }
    }

    /// The estimated sd of the areas' true multipliers relative to `mu`, `1/sqrt(alpha)`.
    pub fn spread(&self) -> Option<f64> {
        self.alpha.map(|a| 1.0 / a.sqrt())
    }

    /// The posterior of an area's multiplier on national rates from its observed count
    /// `o` and expected count `e`.
    pub fn posterior(&self, o: f64, e: f64) -> Posterior {
        match self.alpha {
            Some(alpha) if self.mu > 0.0 => Posterior {
                shape: alpha + o,
                rate: alpha / self.mu + e,
            },
            _ => Posterior {
                shape: o + 0.5,
                rate: e.max(f64::MIN_POSITIVE),
            },
        }
    }

    /// The weight of an area's own data in its posterior mean (0 = all shrunk to `mu`).
    pub fn own_weight(&self, e: f64) -> f64 {
        match self.alpha {
            Some(alpha) => self.mu * e / (alpha + self.mu * e),
            None => 1.0,
        }
    }
}

/// `mu` maximising the negative-binomial likelihood for a given `alpha`: the root of
/// `sum (o - mu e) / (alpha + mu e)`, which falls as `mu` rises.
fn mu_given_alpha(o: &[f64], e: &[f64], alpha: f64, crude: f64) -> f64 {
    let score = |mu: f64| -> f64 {
        o.iter()
            .zip(e)
            .map(|(o, e)| (o - mu * e) / (alpha + mu * e))
            .sum()
    };
    let (mut lo, mut hi) = ((crude / 1e3).ln(), (crude * 1e3).ln());
    for _ in 0..100 {
        let mid = 0.5 * (lo + hi);
        if score(mid.exp()) > 0.0 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    (0.5 * (lo + hi)).exp()
}

fn nb_log_likelihood(o: &[f64], e: &[f64], mu: f64, alpha: f64) -> f64 {
    o.iter()
        .zip(e)
        .map(|(&o, &e)| {
            let m = mu * e;
            ln_gamma(o + alpha) - ln_gamma(alpha) - ln_gamma(o + 1.0)
                + alpha * (alpha / (alpha + m)).ln()
                + if o > 0.0 {
                    o * (m / (alpha + m)).ln()
                } else {
                    0.0
                }
        })
        .sum()
}

fn poisson_log_likelihood(o: &[f64], e: &[f64], mu: f64) -> f64 {
    o.iter()
        .zip(e)
        .map(|(&o, &e)| {
            let m = mu * e;
            (if o > 0.0 { o * m.ln() } else { 0.0 }) - m - ln_gamma(o + 1.0)
        })
        .sum()
}

fn pearson_dispersion(o: &[f64], e: &[f64], mu: f64) -> f64 {
    if o.len() < 2 {
        return f64::NAN;
    }
    let chi2: f64 = o
        .iter()
        .zip(e)
        .map(|(o, e)| (o - mu * e).powi(2) / (mu * e).max(f64::MIN_POSITIVE))
        .sum();
    chi2 / (o.len() - 1) as f64
}

/// The maximum of a unimodal `f` on `[a, b]` by golden-section search.
fn golden_max(f: impl Fn(f64) -> f64, mut a: f64, mut b: f64) -> f64 {
    let r = (5f64.sqrt() - 1.0) / 2.0;
    let (mut c, mut d) = (b - r * (b - a), a + r * (b - a));
    let (mut fc, mut fd) = (f(c), f(d));
    for _ in 0..80 {
        if fc > fd {
            b = d;
            d = c;
            fd = fc;
            c = b - r * (b - a);
            fc = f(c);
        } else {
            a = c;
            c = d;
            fc = fd;
            d = a + r * (b - a);
            fd = f(d);
        }
    }
    0.5 * (a + b)
}

/// Growth of a setting's rates beyond demography: the yearly log-linear slope of observed
/// over expected counts (the simulator's demographic projection).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Growth {
    /// Slope of log(observed / expected) per year.
    pub log_slope: f64,
    /// Its standard error.
    pub se: f64,
    /// How many years it is fitted on.
    pub years: usize,
    /// The quantile of the interval's distribution (normal with two years, Student's t
    /// with the residual degrees of freedom beyond).
    pub z: f64,
}

impl Growth {
    /// Fits `(years since the first, observed, expected)` totals; `None` with fewer than
    /// two years or a year observed as nothing.
    pub fn fit(points: &[(f64, f64, f64)]) -> Option<Self> {
        if points.len() < 2 || points.iter().any(|p| p.1 <= 0.0 || p.2 <= 0.0) {
            return None;
        }
        let k = points.len() as f64;
        let y: Vec<f64> = points.iter().map(|p| (p.1 / p.2).ln()).collect();
        let tbar = points.iter().map(|p| p.0).sum::<f64>() / k;
        let ybar = y.iter().sum::<f64>() / k;
        let sxx: f64 = points.iter().map(|p| (p.0 - tbar).powi(2)).sum();
        if sxx <= 0.0 {
            return None;
        }
        let slope = points
            .iter()
            .zip(&y)
            .map(|(p, y)| (p.0 - tbar) * (y - ybar))
            .sum::<f64>()
            / sxx;
        // Chance alone: var(log o) = 1/o.
        let poisson_se = (points
            .iter()
            .map(|p| (p.0 - tbar).powi(2) / p.1)
            .sum::<f64>())
        .sqrt()
            / sxx;
        let tail = 1.0 - (1.0 - INTERVAL) / 2.0;
        let (se, z) = if points.len() == 2 {
            (poisson_se, normal_quantile(tail))
        } else {
            let resid: f64 = points
                .iter()
                .zip(&y)
                .map(|(p, y)| (y - ybar - slope * (p.0 - tbar)).powi(2))
                .sum();
            let df = k - 2.0;
            let se = (resid / df / sxx).sqrt().max(poisson_se);
            let t =
                StudentsT::new(0.0, 1.0, df).map_or(normal_quantile(tail), |t| t.inverse_cdf(tail));
            (se, t)
        };
        Some(Growth {
            log_slope: slope,
            se,
            years: points.len(),
            z,
        })
    }

    /// Yearly growth as a rate (0.02 = 2% a year), with its [`INTERVAL`].
    pub fn rate(&self) -> (f64, f64, f64) {
        (
            self.log_slope.exp() - 1.0,
            (self.log_slope - self.z * self.se).exp() - 1.0,
            (self.log_slope + self.z * self.se).exp() - 1.0,
        )
    }
}

fn normal_quantile(p: f64) -> f64 {
    statrs::distribution::Normal::new(0.0, 1.0)
        .map(|n| n.inverse_cdf(p))
        .unwrap_or(1.645)
}

/// The simulated distribution of one area's count in a held-out year.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Predicted {
    pub mean: f64,
    pub lo: f64,
    pub hi: f64,
}

/// Draws an area's count in a year `t` years after the first fitting year: its
/// multiplier from `posterior`, growth beyond demography from `growth` (none if `None`),
/// a year's wobble with log-scale sd `wobble_sd` (as the simulator draws it), then
/// Poisson around `expected` (that year's demographic expectation) times them; returns
/// the mean and central [`INTERVAL`] of `draws` draws.
pub fn predict(
    posterior: Posterior,
    expected: f64,
    growth: Option<Growth>,
    t: f64,
    wobble_sd: f64,
    draws: usize,
    rng: &mut StreamRng,
) -> Predicted {
    let theta = GammaDraw::new(posterior.shape, 1.0 / posterior.rate).ok();
    let normal = Normal::new(0.0, 1.0).expect("unit normal");
    let mut counts: Vec<f64> = (0..draws)
        .map(|_| {
            let m = theta.map_or(posterior.mean(), |g| g.sample(rng));
            let g = growth.map_or(0.0, |g| (g.log_slope + g.se * normal.sample(rng)) * t);
            let w = wobble_sd * normal.sample(rng) - 0.5 * wobble_sd * wobble_sd;
            poisson(expected * m * (g + w).exp(), rng) as f64
        })
        .collect();
    counts.sort_by(f64::total_cmp);
    let tail = (1.0 - INTERVAL) / 2.0;
    let at = |p: f64| counts[((p * draws as f64) as usize).min(draws - 1)];
    Predicted {
        mean: counts.iter().sum::<f64>() / draws as f64,
        lo: at(tail),
        hi: at(1.0 - tail),
    }
}

/// How well held-out counts were predicted.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scores {
    pub areas: usize,
    /// Mean absolute percentage error over areas observed above zero.
    pub mape: f64,
    /// (simulated - observed) / observed over all areas' totals.
    pub bias: f64,
    /// Share of areas whose observed count is inside the simulated [`INTERVAL`].
    pub coverage: f64,
}

/// Scores `(observed, predicted)` pairs.
pub fn score(pairs: &[(f64, Predicted)]) -> Scores {
    let positive: Vec<_> = pairs.iter().filter(|(o, _)| *o > 0.0).collect();
    let mape = positive
        .iter()
        .map(|(o, p)| (p.mean - o).abs() / o)
        .sum::<f64>()
        / positive.len().max(1) as f64;
    let (so, sp) = pairs
        .iter()
        .fold((0.0, 0.0), |(a, b), (o, p)| (a + o, b + p.mean));
    let inside = pairs
        .iter()
        .filter(|(o, p)| p.lo <= *o && *o <= p.hi)
        .count();
    Scores {
        areas: pairs.len(),
        mape,
        bias: if so > 0.0 { (sp - so) / so } else { f64::NAN },
        coverage: inside as f64 / pairs.len().max(1) as f64,
    }
}

/// The metadata of a calibration folder (`DIR/calibration.toml`), with its fit
/// statistics, growth beyond demography and validation scores; the tables beside it hold
/// the estimates area by area.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalibrationMeta {
    /// Version of this layout.
    pub format: u32,
    pub method: String,
    /// The observed file's name (not its path, which is the analyst's machine's).
    pub source_file: String,
    pub source_sha256: String,
    /// What was calibrated: a preset's id (`QF7`) or `geography NAME` for a folder.
    pub geography: String,
    /// SHA-256 of the geography's neighbourhoods (id, name, people), so that a
    /// calibration is refused for another geography.
    pub geography_sha256: String,
    pub neighbourhoods: usize,
    /// The observed year that is simulated year 1.
    pub first_year: i32,
    pub fit_years: Vec<i32>,
    pub validation_years: Vec<i32>,
    /// Seed and population paths of the demographic projection expected counts come from.
    pub seed: u64,
    pub projection_runs: u32,
    /// The table of multipliers a scenario's runs apply, by neighbourhood and setting.
    pub applied_table: String,
    /// What the runs do with it, and anything a reader should know.
    pub notes: Vec<String>,
    #[serde(default)]
    pub fit: Vec<FitRow>,
    #[serde(default)]
    pub growth: Vec<GrowthRow>,
    #[serde(default)]
    pub validation: Vec<ScoreRow>,
}

/// The fit of one setting at one level.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FitRow {
    pub setting: Setting,
    pub level: AreaLevel,
    pub areas: usize,
    pub observed: f64,
    /// Expected at national rates (with growth beyond demography where estimated),
    /// summed over the fitting years.
    pub expected: f64,
    /// The level of the setting's rates over the areas (`mu`).
    pub level_multiplier: f64,
    /// Estimated sd of the areas' true multipliers relative to the level,
    /// `1/sqrt(alpha)`; absent with too few areas to tell.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spread: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alpha: Option<f64>,
    pub log_likelihood: f64,
    /// Pearson dispersion under Poisson alone (1 = chance only).
    pub dispersion: f64,
    /// Estimated log-scale sd of an area's year-to-year wobble beyond chance (with
    /// several fitting years), used for held-out years.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub yearly_sd: Option<f64>,
}

/// Growth of a setting's rates beyond demography, yearly.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrowthRow {
    pub setting: Setting,
    pub level: AreaLevel,
    pub years: usize,
    pub growth: f64,
    pub growth_lo90: f64,
    pub growth_hi90: f64,
    /// The simulator's own trend beyond demography for the setting (`[trends]` default).
    pub simulator_trend: f64,
}

/// Out-of-sample scores of one setting at one level over the validation years.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScoreRow {
    pub setting: Setting,
    pub level: AreaLevel,
    /// Area-years scored.
    pub areas: usize,
    pub mape: f64,
    pub bias: f64,
    pub coverage90: f64,
    /// Set where coverage is further from 90% than chance explains.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// One area's estimated multiplier on national rates for one setting.
#[derive(Debug, Clone, PartialEq)]
pub struct AreaEstimate {
    pub setting: Setting,
    pub level: AreaLevel,
    pub area: String,
    pub observed: f64,
    pub expected: f64,
    pub multiplier: f64,
    pub lo90: f64,
    pub hi90: f64,
    /// Weight of the area's own data against the level (1 - shrinkage).
    pub own_weight: f64,
}

/// A multiplier a calibrated run applies to one neighbourhood's rates in one setting.
#[derive(Debug, Clone, PartialEq)]
pub struct Applied {
    pub neighbourhood_id: u64,
    pub neighbourhood: String,
    pub setting: Setting,
    pub multiplier: f64,
    /// The level it was estimated at.
    pub from: AreaLevel,
}

/// One held-out area-year: observed against the simulated distribution.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidationRow {
    pub setting: Setting,
    pub level: AreaLevel,
    pub area: String,
    pub year: i32,
    pub observed: f64,
    pub simulated: Predicted,
}

/// Whether a coverage over `n` area-years is further from [`INTERVAL`] than chance (two
/// binomial sds) and two points of rounding of discrete counts explain.
pub fn coverage_note(coverage: f64, n: usize) -> Option<String> {
    let sd = (INTERVAL * (1.0 - INTERVAL) / n.max(1) as f64).sqrt();
    if (coverage - INTERVAL).abs() <= 2.0 * sd + 0.02 {
        return None;
    }
    Some(if coverage < INTERVAL {
        format!(
            "coverage {:.0}% is below 90%: the observed counts vary more than the fitted model \
             (a change between years the growth and yearly wobble do not carry)",
            coverage * 100.0
        )
    } else {
        format!(
            "coverage {:.0}% is above 90%: the simulated intervals are wider than the observed \
             counts vary (uncertainty of growth or of the yearly wobble over-stated)",
            coverage * 100.0
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::rng::{Purpose, StreamKey};

    fn rng(k: u64) -> StreamRng {
        StreamKey {
            seed: k,
            run: 0,
            neighbourhood: 0,
            year: 0,
            purpose: Purpose::Calibration,
        }
        .rng()
    }

    /// Counts from known multipliers: the fit finds the level and the spread.
    #[test]
    fn poisson_gamma_recovers_level_and_spread() {
        let mut r = rng(1);
        let (alpha, mu) = (25.0, 1.3); // spread 0.2
        let g = GammaDraw::new(alpha, 1.0 / alpha).unwrap();
        let e: Vec<f64> = (0..2000).map(|i| 200.0 + (i % 7) as f64 * 300.0).collect();
        let o: Vec<f64> = e
            .iter()
            .map(|e| poisson(mu * g.sample(&mut r) * e, &mut r) as f64)
            .collect();
        let fit = PoissonGamma::fit(&o, &e);
        assert!((fit.mu - mu).abs() < 0.02, "{fit:?}");
        let spread = fit.spread().unwrap();
        assert!((spread - 0.2).abs() < 0.015, "{spread}");
        assert!(fit.dispersion > 2.0);
    }

    /// Without variation beyond chance the spread is estimated near zero.
    #[test]
    fn without_extra_variation_the_spread_is_near_zero() {
        let mut r = rng(2);
        let e = vec![500.0; 500];
        let o: Vec<f64> = e.iter().map(|e| poisson(*e, &mut r) as f64).collect();
        let fit = PoissonGamma::fit(&o, &e);
        assert!(fit.spread().unwrap() < 0.02, "{fit:?}");
        assert!((fit.mu - 1.0).abs() < 0.01);
    }

    /// A small area is shrunk towards the level, a large one hardly at all.
    #[test]
    fn small_areas_are_shrunk() {
        let fit = PoissonGamma {
            mu: 1.0,
            alpha: Some(25.0),
            log_likelihood: 0.0,
            areas: 10,
            observed: 0.0,
            expected: 0.0,
            dispersion: 1.0,
        };
        let small = fit.posterior(24.0, 12.0).mean();
        let large = fit.posterior(24_000.0, 12_000.0).mean();
        assert!(small < 1.5 && small > 1.0, "{small}");
        assert!((large - 2.0).abs() < 0.01, "{large}");
        let (lo, hi) = fit.posterior(24.0, 12.0).interval();
        assert!(lo < small && small < hi);
    }

    #[test]
    fn growth_of_two_and_more_years() {
        let g = Growth::fit(&[(0.0, 1000.0, 1000.0), (1.0, 1050.0, 1000.0)]).unwrap();
        assert!((g.log_slope - 1.05f64.ln()).abs() < 1e-12);
        assert!((g.se - (1.0f64 / 1000.0 + 1.0 / 1050.0).sqrt()).abs() < 1e-12);
        let pts: Vec<_> = (0..5)
            .map(|t| (t as f64, 1e6 * 1.03f64.powi(t), 1e6))
            .collect();
        let g = Growth::fit(&pts).unwrap();
        let (r, lo, hi) = g.rate();
        assert!((r - 0.03).abs() < 1e-9 && lo < r && r < hi);
        assert!(Growth::fit(&pts[..1]).is_none());
    }

    #[test]
    fn scores_of_perfect_and_biased_predictions() {
        let p = |m: f64| Predicted {
            mean: m,
            lo: m - 10.0,
            hi: m + 10.0,
        };
        let s = score(&[(100.0, p(100.0)), (200.0, p(200.0))]);
        assert_eq!((s.mape, s.bias, s.coverage), (0.0, 0.0, 1.0));
        let s = score(&[(100.0, p(110.0)), (200.0, p(220.0))]);
        assert!((s.mape - 0.1).abs() < 1e-12 && (s.bias - 0.1).abs() < 1e-12);
        assert_eq!(s.coverage, 0.5);
    }
}
