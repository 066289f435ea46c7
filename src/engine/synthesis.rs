//! Synthesis of a neighbourhood's starting population from its age-sex structure,
//! deprivation mix and the starting segment prevalence (its own where real England's fit
//! gives it one: `Neighbourhood::segments`, else the model's); and of the people who join
//! it (births and in-migrants).

use rand::RngExt;
use rand_distr::{Distribution, Exp1, Gamma};

use crate::core::dims::{band_ages, band_of, MAX_AGE, N_BANDS, N_IMD, N_SEX};
use crate::core::rng::StreamRng;
use crate::data::geography::Neighbourhood;
use crate::engine::population::People;
use crate::model::demography::OLDEST_CONTINUE;
use crate::model::segments::{cumulate, pick};
use crate::model::Model;

/// The gamma distribution of individual risk, with mean 1.
///
/// Risk is very skewed (shape k = 0.15, `datasets/parameters.csv`). For a shape below 1
/// `rand_distr` draws Gamma(k + 1) and multiplies it by U^(1/k) (Stuart 1962), calling
/// `powf`: about 27 ns of its 55 ns a draw, 6% of an England run, where every one of 58
/// million people and every newcomer draws a risk. Here U^(1/k) is drawn as exp(-E/k)
/// with E exponential (-ln U is exponential, and rand_distr's ziggurat draws it in a few
/// ns): the same distribution, exactly, from other draws.
#[derive(Debug, Clone, Copy)]
enum RiskDistribution {
    /// Gamma(k + 1) with scale 1/k, and 1/k.
    Small(Gamma<f64>, f64),
    /// Shapes of 1 and more, as rand_distr draws them.
    Large(Gamma<f64>),
}

impl RiskDistribution {
    fn new(shape: f64) -> Self {
        let scale = 1.0 / shape;
        if shape < 1.0 {
            let g = Gamma::new(shape + 1.0, scale).expect("validated shape");
            RiskDistribution::Small(g, 1.0 / shape)
        } else {
            RiskDistribution::Large(Gamma::new(shape, scale).expect("validated shape"))
        }
    }

    #[inline]
    fn sample(&self, rng: &mut StreamRng) -> f64 {
        match self {
            RiskDistribution::Small(g, inv_shape) => {
                let e: f64 = rng.sample(Exp1);
                g.sample(rng) * (-e * inv_shape).exp()
            }
            RiskDistribution::Large(g) => g.sample(rng),
        }
    }
}

/// Draws of the attributes of a new person, shared by synthesis and migration.
pub struct Newcomers {
    risk: RiskDistribution,
    imd_cum: [f64; N_IMD],
    /// The neighbourhood's own starting segment prevalence (`Neighbourhood::segments`),
    /// cumulative along segments, flat `[band][sex][quintile][segment]`; `None` draws from
    /// the model's.
    segment_cum: Option<Vec<f64>>,
}

impl Newcomers {
    pub fn new(model: &Model, neighbourhood: &Neighbourhood) -> Self {
        let mut acc = 0.0;
        let mut imd_cum = [0.0; N_IMD];
        for (q, share) in neighbourhood.imd.iter().enumerate() {
            acc += share;
            imd_cum[q] = acc;
        }
        imd_cum[N_IMD - 1] = 1.0;
        Newcomers {
            risk: RiskDistribution::new(model.risk_shape),
            imd_cum,
            segment_cum: neighbourhood
                .segments
                .as_ref()
                .map(|shares| cumulate(shares, model.segments.len())),
        }
    }

    /// A starting segment of a person of a band, sex and quintile, from one uniform: the
    /// neighbourhood's own prevalence where it has one, else the model's.
    #[inline]
    fn segment(&self, model: &Model, band: usize, sex: u8, imd: u8, u: f64) -> u8 {
        match &self.segment_cum {
            None => model.segments.initial(band, imd, u),
            Some(cum) => {
                let n = model.segments.len();
                let start = ((band * N_SEX + sex as usize) * N_IMD + imd as usize) * n;
                pick(&cum[start..start + n], u)
            }
        }
    }

    /// A persistent individual risk multiplier, gamma with mean 1.
    #[inline]
    pub fn risk(&self, rng: &mut StreamRng) -> f32 {
        self.risk.sample(rng) as f32
    }

    #[inline]
    pub fn imd(&self, rng: &mut StreamRng) -> u8 {
        pick(&self.imd_cum, rng.random::<f64>())
    }

    /// A single year of age within a band: uniform, except 90+ where survivorship thins the
    /// older years (geometric, mean about 2.5 years above 90, about 3% at 100+).
    #[inline]
    pub fn age_in_band(&self, band: usize, rng: &mut StreamRng) -> u8 {
        let (lo, hi) = band_ages(band);
        if band == N_BANDS - 1 {
            Self::age_from(lo, rng)
        } else {
            rng.random_range(lo..=hi)
        }
    }

    /// An age of `lo` or over in the open-ended top of the age range: each further year
    /// with probability [`OLDEST_CONTINUE`], up to [`MAX_AGE`].
    #[inline]
    fn age_from(lo: u8, rng: &mut StreamRng) -> u8 {
        let mut a = lo;
        while a < MAX_AGE && rng.random::<f64>() < OLDEST_CONTINUE {
            a += 1;
        }
        a
    }

    /// Adds one person of a given band and sex with drawn age, quintile, segment and risk.
    pub fn push(
        &self,
        model: &Model,
        band: usize,
        sex: u8,
        people: &mut People,
        rng: &mut StreamRng,
    ) {
        let age = self.age_in_band(band, rng);
        self.push_aged(model, age, sex, people, rng);
    }

    /// Adds one person of a given age and sex with drawn quintile, segment and risk.
    pub fn push_aged(
        &self,
        model: &Model,
        age: u8,
        sex: u8,
        people: &mut People,
        rng: &mut StreamRng,
    ) {
        let band = band_of(age);
        let imd = self.imd(rng);
        let segment = self.segment(model, band, sex, imd, rng.random::<f64>());
        let risk = self.risk(rng);
        people.push(age, sex, imd, segment, risk);
    }
}

/// Synthesises the neighbourhood's starting population into `people` (cleared first).
pub fn synthesise(
    model: &Model,
    neighbourhood: &Neighbourhood,
    people: &mut People,
    rng: &mut StreamRng,
) {
    people.clear();
    let newcomers = Newcomers::new(model, neighbourhood);
    // An imported neighbourhood's own single years of age, or the bands of a preset.
    let cells: Vec<f64> = match &neighbourhood.ages {
        Some(ages) => ages.iter().flatten().copied().collect(),
        None => neighbourhood.age_sex.iter().flatten().copied().collect(),
    };
    let mut cum = Vec::with_capacity(cells.len());
    let mut acc = 0.0;
    for x in &cells {
        acc += x;
        cum.push(acc);
    }
    *cum.last_mut().expect("cells") = 1.0;
    let top = cells.len() / N_SEX - 1;
    for _ in 0..neighbourhood.population {
        let k = pick_wide(&cum, rng.random::<f64>());
        let sex = (k % N_SEX) as u8;
        if neighbourhood.ages.is_some() {
            let at = k / N_SEX;
            let age = if at == top {
                Newcomers::age_from(at as u8, rng)
            } else {
                at as u8
            };
            newcomers.push_aged(model, age, sex, people, rng);
        } else {
            newcomers.push(model, k / N_SEX, sex, people, rng);
        }
    }
}

/// Like `pick`, for tables wider than 255 entries' worth of index.
fn pick_wide(cum: &[f64], u: f64) -> usize {
    cum.partition_point(|c| *c <= u).min(cum.len() - 1)
}
