//! Uncertain parameters: the distributions a scenario may give for an effect, a cost or a
//! rate, and how each Monte Carlo run draws them.
//!
//! A value in a scenario file is either a plain number (known exactly) or a table naming a
//! distribution, e.g. `{ dist = "interval80", p10 = -0.2, p90 = 0.0 }`, which is how
//! published effect sizes are usually reported. Checks that need no other file (p10 above
//! p90, a negative standard deviation...) happen while parsing, so the error points at the
//! line. Each run draws every parameter once from its own stream, keyed by the parameter's
//! name rather than its position, so the same intervention draws the same value in every
//! scenario of a run (common random numbers) and adding a parameter shifts no other draw.
//!
//! The one-way sensitivity analysis reads each distribution's centiles instead
//! ([`Dist::quantile`]): its base case is every parameter at its median.

use rand_distr::{Beta, Distribution, LogNormal, Normal, Triangular};
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use statrs::distribution::ContinuousCDF;

use crate::core::rng::{Purpose, StreamKey};

/// z for the 90th centile of a standard normal: an 80% interval spans 2 x 1.2816 sd.
const Z90: f64 = 1.281_551_565_544_600_5;

/// A distribution of one uncertain value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "dist", rename_all = "lowercase", deny_unknown_fields)]
pub enum Dist {
    /// Known exactly.
    Fixed {
        value: f64,
    },
    Uniform {
        min: f64,
        max: f64,
    },
    Triangular {
        min: f64,
        mode: f64,
        max: f64,
    },
    Normal {
        mean: f64,
        sd: f64,
    },
    /// Log-normal by its median and the standard deviation of its logarithm.
    Lognormal {
        median: f64,
        sigma: f64,
    },
    /// Beta(alpha, beta), rescaled from [0, 1] to [min, max].
    Beta {
        alpha: f64,
        beta: f64,
        #[serde(default)]
        min: f64,
        #[serde(default = "one")]
        max: f64,
    },
    /// A normal distribution given by its 10th and 90th centiles, as effect sizes are
    /// often published.
    Interval80 {
        p10: f64,
        p90: f64,
    },
}

fn one() -> f64 {
    1.0
}

impl Dist {
    /// Checks the parameters make a distribution; returns what is wrong.
    pub fn check(&self) -> Result<(), String> {
        let finite = |xs: &[f64]| xs.iter().all(|x| x.is_finite());
        let problem = match *self {
            Dist::Fixed { value } if !finite(&[value]) => Some("value must be a finite number"),
            Dist::Uniform { min, max } if !finite(&[min, max]) || min > max => {
                Some("uniform needs finite min <= max")
            }
            Dist::Triangular { min, mode, max }
                if !(finite(&[min, mode, max]) && min <= mode && mode <= max) || min == max =>
            {
                Some("triangular needs min <= mode <= max with min < max")
            }
            Dist::Normal { mean, sd } if !finite(&[mean, sd]) || sd < 0.0 => {
                Some("normal needs a finite mean and sd >= 0")
            }
            Dist::Lognormal { median, sigma }
                if !finite(&[median, sigma]) || median <= 0.0 || sigma < 0.0 =>
            {
                Some("lognormal needs median > 0 and sigma >= 0")
            }
            Dist::Beta {
                alpha,
                beta,
                min,
                max,
            } if !finite(&[alpha, beta, min, max]) || alpha <= 0.0 || beta <= 0.0 || min >= max => {
                Some("beta needs alpha > 0, beta > 0 and min < max")
            }
            Dist::Interval80 { p10, p90 } if !finite(&[p10, p90]) || p10 > p90 => {
                Some("interval80 needs p10 <= p90")
            }
            _ => None,
        };
        problem.map_or(Ok(()), |p| Err(p.to_string()))
    }

    /// The smallest and largest values the distribution can take.
    pub fn support(&self) -> (f64, f64) {
        match *self {
            Dist::Fixed { value } => (value, value),
            Dist::Uniform { min, max } | Dist::Triangular { min, max, .. } => (min, max),
            Dist::Beta { min, max, .. } => (min, max),
            Dist::Normal { sd: 0.0, mean } => (mean, mean),
            Dist::Interval80 { p10, p90 } if p10 == p90 => (p10, p10),
            Dist::Normal { .. } | Dist::Interval80 { .. } => (f64::NEG_INFINITY, f64::INFINITY),
            Dist::Lognormal { .. } => (0.0, f64::INFINITY),
        }
    }

    /// True when the value is known exactly.
    pub fn is_fixed(&self) -> bool {
        let (lo, hi) = self.support();
        lo == hi
    }

    /// The mean, for reports and analytic checks.
    pub fn mean(&self) -> f64 {
        match *self {
            Dist::Fixed { value } => value,
            Dist::Uniform { min, max } => (min + max) / 2.0,
            Dist::Triangular { min, mode, max } => (min + mode + max) / 3.0,
            Dist::Normal { mean, .. } => mean,
            Dist::Lognormal { median, sigma } => median * (sigma * sigma / 2.0).exp(),
            Dist::Beta {
                alpha,
                beta,
                min,
                max,
            } => min + (max - min) * alpha / (alpha + beta),
            Dist::Interval80 { p10, p90 } => (p10 + p90) / 2.0,
        }
    }

    /// The `p`-quantile (0 < p < 1): the value below which a share `p` of draws fall.
    /// An interval80 gives exactly its `p10` and `p90` at 0.1 and 0.9; a normal with no
    /// spread, its mean. Callers clamp as they clamp draws (an effect at -1...).
    pub fn quantile(&self, p: f64) -> f64 {
        let z = |p: f64| statrs::distribution::Normal::standard().inverse_cdf(p);
        match *self {
            Dist::Fixed { value } => value,
            Dist::Uniform { min, max } => min + p * (max - min),
            Dist::Triangular { min, mode, max } => {
                // Inverse of the piecewise-quadratic distribution function.
                if p < (mode - min) / (max - min) {
                    min + (p * (max - min) * (mode - min)).sqrt()
                } else {
                    max - ((1.0 - p) * (max - min) * (max - mode)).sqrt()
                }
            }
            Dist::Normal { mean, sd: 0.0 } => mean,
            Dist::Normal { mean, sd } => mean + sd * z(p),
            Dist::Lognormal { median, sigma: 0.0 } => median,
            Dist::Lognormal { median, sigma } => median * (sigma * z(p)).exp(),
            Dist::Beta {
                alpha,
                beta,
                min,
                max,
            } => {
                let b = statrs::distribution::Beta::new(alpha, beta).expect("checked");
                min + (max - min) * b.inverse_cdf(p)
            }
            Dist::Interval80 { p10, .. } if p == 0.1 => p10,
            Dist::Interval80 { p90, .. } if p == 0.9 => p90,
            Dist::Interval80 { p10, p90 } if p10 == p90 => p10,
            Dist::Interval80 { p10, p90 } => (p10 + p90) / 2.0 + (p90 - p10) / (2.0 * Z90) * z(p),
        }
    }

    /// The median: the base case of the one-way sensitivity analysis.
    pub fn median(&self) -> f64 {
        self.quantile(0.5)
    }

    /// Multiplies every value of the distribution by `k` (used by grid sweeps).
    pub fn scaled(&self, k: f64) -> Dist {
        match *self {
            Dist::Fixed { value } => Dist::Fixed { value: value * k },
            Dist::Uniform { min, max } => {
                sorted2(min * k, max * k, |a, b| Dist::Uniform { min: a, max: b })
            }
            Dist::Triangular { min, mode, max } => {
                let (a, b) = (min * k, max * k);
                let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
                Dist::Triangular {
                    min: lo,
                    mode: mode * k,
                    max: hi,
                }
            }
            Dist::Normal { mean, sd } => Dist::Normal {
                mean: mean * k,
                sd: sd * k.abs(),
            },
            Dist::Lognormal { median, sigma } if k > 0.0 => Dist::Lognormal {
                median: median * k,
                sigma,
            },
            Dist::Lognormal { .. } => Dist::Fixed { value: 0.0 },
            Dist::Beta {
                alpha,
                beta,
                min,
                max,
            } if k > 0.0 => Dist::Beta {
                alpha,
                beta,
                min: min * k,
                max: max * k,
            },
            Dist::Beta { .. } => Dist::Fixed {
                value: self.mean() * k,
            },
            Dist::Interval80 { p10, p90 } => {
                sorted2(p10 * k, p90 * k, |a, b| Dist::Interval80 { p10: a, p90: b })
            }
        }
    }

    /// One draw. Distributions checked by [`Dist::check`] never fail to build.
    pub fn sample(&self, rng: &mut crate::core::rng::StreamRng) -> f64 {
        match *self {
            Dist::Fixed { value } => value,
            Dist::Uniform { min, max } => min + (max - min) * rand::RngExt::random::<f64>(rng),
            Dist::Triangular { min, mode, max } => Triangular::new(min, max, mode)
                .expect("checked")
                .sample(rng),
            Dist::Normal { mean, sd } => Normal::new(mean, sd).expect("checked").sample(rng),
            Dist::Lognormal { median, sigma } => LogNormal::new(median.ln(), sigma)
                .expect("checked")
                .sample(rng),
            Dist::Beta {
                alpha,
                beta,
                min,
                max,
            } => min + (max - min) * Beta::new(alpha, beta).expect("checked").sample(rng),
            Dist::Interval80 { p10, p90 } => {
                Normal::new((p10 + p90) / 2.0, (p90 - p10) / (2.0 * Z90))
                    .expect("checked")
                    .sample(rng)
            }
        }
    }
}

fn sorted2(a: f64, b: f64, make: impl Fn(f64, f64) -> Dist) -> Dist {
    if a <= b {
        make(a, b)
    } else {
        make(b, a)
    }
}

/// An uncertain value: a plain number in a file means `{ dist = "fixed", value = ... }`.
/// Deserialising checks the distribution, so errors carry the line they were found on.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub struct Param(pub Dist);

impl Param {
    pub fn fixed(value: f64) -> Self {
        Param(Dist::Fixed { value })
    }
}

impl<'de> Deserialize<'de> for Param {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Param;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(
                    "a number or a table { dist = \"fixed\" | \"uniform\" | \"triangular\" | \"normal\" | \"lognormal\" | \"beta\" | \"interval80\", ... }",
                )
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Param, E> {
                let p = Param::fixed(v);
                p.0.check().map_err(E::custom)?;
                Ok(p)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Param, E> {
                Ok(Param::fixed(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Param, E> {
                Ok(Param::fixed(v as f64))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Param, A::Error> {
                let dist = Dist::deserialize(de::value::MapAccessDeserializer::new(map))?;
                dist.check().map_err(de::Error::custom)?;
                Ok(Param(dist))
            }
        }
        d.deserialize_any(V)
    }
}

/// A relative change (-0.2 = 20% fewer). Values below -1 are impossible: a distribution
/// bounded below -1 is refused, and draws of unbounded ones are clamped at -1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "Param")]
pub struct Effect(pub Dist);

impl TryFrom<Param> for Effect {
    type Error = String;
    fn try_from(p: Param) -> Result<Self, String> {
        if p.0.support().0 < -1.0 && !matches!(p.0, Dist::Normal { .. } | Dist::Interval80 { .. }) {
            return Err(format!(
                "a relative change cannot fall below -1 (-100%), but this distribution reaches {}",
                p.0.support().0
            ));
        }
        Ok(Effect(p.0))
    }
}

/// An amount that cannot be negative (money, activity per person). Distributions bounded
/// below zero are refused; draws of unbounded ones are clamped at zero.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "Param")]
pub struct Amount(pub Dist);

impl TryFrom<Param> for Amount {
    type Error = String;
    fn try_from(p: Param) -> Result<Self, String> {
        if p.0.support().0 < 0.0 && !matches!(p.0, Dist::Normal { .. } | Dist::Interval80 { .. }) {
            return Err(format!(
                "an amount cannot be negative, but this distribution reaches {}",
                p.0.support().0
            ));
        }
        Ok(Amount(p.0))
    }
}

impl Amount {
    pub fn zero() -> Self {
        Amount(Dist::Fixed { value: 0.0 })
    }
}

/// A duration in years, 0 to 50 (a time to effect). Distributions reaching below zero or
/// above 50 are refused; draws of unbounded ones are clamped to that range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "Param")]
pub struct EffectYears(pub Dist);

/// Longest time to effect accepted, in years: longer than any evaluated service.
pub const MAX_YEARS: f64 = 50.0;

/// A distribution whose support lies within `[min, max]`, or why not (`what` names the
/// quantity). Unbounded distributions (normal, interval80) pass: their draws are clamped.
fn bounded(p: Param, min: f64, max: f64, what: &str) -> Result<Dist, String> {
    let (lo, hi) = p.0.support();
    let unbounded = matches!(p.0, Dist::Normal { .. } | Dist::Interval80 { .. });
    if !unbounded && (lo < min || hi > max) {
        return Err(format!(
            "{what} from {min} to {max} is needed, but this distribution spans {lo} to {hi}"
        ));
    }
    Ok(p.0)
}

impl TryFrom<Param> for EffectYears {
    type Error = String;
    fn try_from(p: Param) -> Result<Self, String> {
        bounded(p, 0.0, MAX_YEARS, "a number of years").map(EffectYears)
    }
}

impl EffectYears {
    pub fn zero() -> Self {
        EffectYears(Dist::Fixed { value: 0.0 })
    }

    fn is_zero(&self) -> bool {
        self.0 == Dist::Fixed { value: 0.0 }
    }
}

/// For `skip_serializing_if`: a time to effect of zero (today's behaviour) is not written.
pub fn no_years(y: &EffectYears) -> bool {
    y.is_zero()
}

/// The discrimination (AUC, 0.5 to 1) of a case-finding risk score for an emergency
/// admission within the year. Distributions reaching outside that range are refused;
/// draws of unbounded ones are clamped to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "Param")]
pub struct Auc(pub Dist);

impl TryFrom<Param> for Auc {
    type Error = String;
    fn try_from(p: Param) -> Result<Self, String> {
        bounded(p, 0.5, 1.0, "an AUC (0.5 is chance, 1 perfect)").map(Auc)
    }
}

impl Auc {
    /// 0.73: the C statistic of the best of six risk-stratification tools (Adjusted
    /// Clinical Groups) for predicting hospitalisation in the next year, Haas et al.,
    /// "Risk-stratification methods for identifying patients for care coordination", Am J
    /// Manag Care 2013 (the tools ranged from 0.67 to 0.73).
    pub fn published() -> Self {
        Auc(Dist::Fixed { value: 0.73 })
    }
}

/// For `skip_serializing_if`: the published default is not written.
pub fn default_auc(a: &Auc) -> bool {
    *a == Auc::published()
}

/// A share in [0, 1].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "f64")]
pub struct Share(pub f64);

impl Share {
    pub fn zero() -> Self {
        Share(0.0)
    }
}

impl TryFrom<f64> for Share {
    type Error = String;
    fn try_from(x: f64) -> Result<Self, String> {
        if (0.0..=1.0).contains(&x) {
            Ok(Share(x))
        } else {
            Err(format!("{x} is not a share; use a number from 0 to 1"))
        }
    }
}

/// Draws the value of the parameter called `name` (e.g. "Frailty virtual wards/effects.
/// emergency_admissions") for run `run`: the same name, seed and run give the same value in
/// every scenario.
pub fn draw(dist: &Dist, name: &str, seed: u64, run: u64) -> f64 {
    let mut rng = StreamKey {
        seed,
        run,
        neighbourhood: name_hash(name),
        year: 0,
        purpose: Purpose::Parameter,
    }
    .rng();
    dist.sample(&mut rng)
}

/// A stable 64-bit hash of a name (FNV-1a): stream keys must not depend on the Rust
/// version, which rules out `std`'s hasher.
pub fn name_hash(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_mean(d: &Dist, n: u64) -> f64 {
        (0..n).map(|r| draw(d, "x", 1, r)).sum::<f64>() / n as f64
    }

    #[test]
    fn draws_have_the_stated_mean() {
        let dists = [
            Dist::Uniform { min: 1.0, max: 3.0 },
            Dist::Triangular {
                min: 900.0,
                mode: 1200.0,
                max: 1600.0,
            },
            Dist::Normal { mean: 5.0, sd: 2.0 },
            Dist::Lognormal {
                median: 2.0,
                sigma: 0.5,
            },
            Dist::Beta {
                alpha: 2.0,
                beta: 5.0,
                min: 0.0,
                max: 1.0,
            },
            Dist::Interval80 {
                p10: -0.2,
                p90: 0.0,
            },
        ];
        for d in dists {
            let m = sample_mean(&d, 20_000);
            let tol = 0.03 * d.mean().abs().max(0.1);
            assert!((m - d.mean()).abs() < tol, "{d:?}: {m} vs {}", d.mean());
        }
    }

    #[test]
    fn interval80_puts_ten_percent_in_each_tail() {
        let d = Dist::Interval80 {
            p10: -0.2,
            p90: 0.0,
        };
        let n = 20_000;
        let below = (0..n).filter(|r| draw(&d, "y", 3, *r) < -0.2).count() as f64 / n as f64;
        assert!((below - 0.10).abs() < 0.01, "{below}");
    }

    #[test]
    fn same_name_same_draw_other_name_other_draw() {
        let d = Dist::Uniform { min: 0.0, max: 1.0 };
        assert_eq!(draw(&d, "a", 1, 4), draw(&d, "a", 1, 4));
        assert_ne!(draw(&d, "a", 1, 4), draw(&d, "b", 1, 4));
        assert_ne!(draw(&d, "a", 1, 4), draw(&d, "a", 1, 5));
    }

    /// Centiles against values worked by hand or from tables.
    #[test]
    fn quantiles_match_known_values() {
        let close = |a: f64, b: f64| assert!((a - b).abs() < 1e-9, "{a} vs {b}");
        close(Dist::Fixed { value: 3.0 }.quantile(0.1), 3.0);
        close(
            Dist::Uniform {
                min: 200.0,
                max: 400.0,
            }
            .quantile(0.1),
            220.0,
        );
        close(
            Dist::Uniform {
                min: 200.0,
                max: 400.0,
            }
            .median(),
            300.0,
        );
        // Triangular(0, 1, 4): F(1) = 1/4; below it x = sqrt(4p), above 4 - sqrt(12(1-p)).
        let t = Dist::Triangular {
            min: 0.0,
            mode: 1.0,
            max: 4.0,
        };
        close(t.quantile(0.1), 0.4_f64.sqrt() * 1.0);
        close(t.median(), 4.0 - 6.0_f64.sqrt());
        close(t.quantile(0.25), 1.0);
        // The standard normal's 90th centile is 1.2815515655446004.
        let n = Dist::Normal { mean: 5.0, sd: 2.0 };
        close(n.quantile(0.9), 5.0 + 2.0 * 1.281_551_565_544_600_4);
        close(n.quantile(0.1), 5.0 - 2.0 * 1.281_551_565_544_600_4);
        close(n.median(), 5.0);
        close(Dist::Normal { mean: 1.0, sd: 0.0 }.quantile(0.1), 1.0);
        let l = Dist::Lognormal {
            median: 2.0,
            sigma: 0.5,
        };
        close(l.median(), 2.0);
        close(
            l.quantile(0.9),
            2.0 * (0.5 * 1.281_551_565_544_600_4_f64).exp(),
        );
        // Beta(2, 1) has F(x) = x^2, so its p-quantile is sqrt(p); rescaled to [10, 20].
        let b = Dist::Beta {
            alpha: 2.0,
            beta: 1.0,
            min: 10.0,
            max: 20.0,
        };
        close(b.quantile(0.1), 10.0 + 10.0 * 0.1_f64.sqrt());
        close(
            Dist::Beta {
                alpha: 3.0,
                beta: 3.0,
                min: 0.0,
                max: 1.0,
            }
            .median(),
            0.5,
        );
        // An interval80 is given by its 10th and 90th centiles, and they come back exactly.
        let i = Dist::Interval80 {
            p10: -0.3,
            p90: 0.0,
        };
        assert_eq!((i.quantile(0.1), i.quantile(0.9)), (-0.3, 0.0));
        close(i.median(), -0.15);
        close(
            i.quantile(0.05),
            -0.15 - 0.15 / Z90 * 1.644_853_626_951_472_2,
        );
        let same = Dist::Interval80 { p10: 0.2, p90: 0.2 };
        assert_eq!(
            (same.quantile(0.1), same.median(), same.quantile(0.9)),
            (0.2, 0.2, 0.2)
        );
    }

    /// Each quantile splits draws in its proportion: the centiles are those of the
    /// distribution that runs sample.
    #[test]
    fn quantiles_are_the_centiles_of_the_draws() {
        for d in [
            Dist::Triangular {
                min: 900.0,
                mode: 1200.0,
                max: 1600.0,
            },
            Dist::Lognormal {
                median: 2.0,
                sigma: 0.5,
            },
            Dist::Beta {
                alpha: 2.0,
                beta: 5.0,
                min: 0.0,
                max: 3.0,
            },
            Dist::Interval80 {
                p10: -0.2,
                p90: 0.0,
            },
        ] {
            let n = 20_000;
            for p in [0.1, 0.5, 0.9] {
                let q = d.quantile(p);
                let below = (0..n).filter(|r| draw(&d, "q", 5, *r) < q).count() as f64 / n as f64;
                assert!((below - p).abs() < 0.01, "{d:?} at {p}: {below}");
            }
        }
    }

    #[test]
    fn bad_distributions_are_refused() {
        assert!(Dist::Interval80 { p10: 0.1, p90: 0.0 }.check().is_err());
        assert!(Dist::Normal {
            mean: 0.0,
            sd: -1.0
        }
        .check()
        .is_err());
        assert!(Dist::Triangular {
            min: 1.0,
            mode: 0.0,
            max: 2.0
        }
        .check()
        .is_err());
    }
}
