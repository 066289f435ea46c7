//! Synthesis of a neighbourhood's starting population from its age-sex structure,
//! deprivation mix and the starting segment prevalence (its own where real England's fit
//! gives it one: `Neighbourhood::segments`, else the model's); and of the people who join
//! it (births and in-migrants).

use rand::distr::Open01;
use rand::RngExt;
use rand_distr::{Distribution, Exp1, Gamma, StandardNormal};

use crate::core::dims::{band_ages, band_of, MAX_AGE, N_BANDS, N_IMD, N_SEX};
use crate::core::rng::StreamRng;
use crate::data::geography::Neighbourhood;
use crate::engine::population::{People, Person};
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
    Small(MarsagliaTsang, f64),
    /// Shapes of 1 and more, as rand_distr draws them.
    Large(Gamma<f64>),
}

impl RiskDistribution {
    fn new(shape: f64) -> Self {
        let scale = 1.0 / shape;
        if shape < 1.0 {
            // Validated shapes are at least 0.01, so k + 1 is above 1.
            RiskDistribution::Small(MarsagliaTsang::new(shape + 1.0, scale), 1.0 / shape)
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

/// A gamma distribution of shape above 1 drawn by Marsaglia and Tsang's method ("A simple
/// method for generating gamma variables", 2000), operation for operation as rand_distr's
/// `Gamma` draws it for such shapes (`GammaLargeShape`): the same draws from the stream
/// and the same bits. Written out here so that it is inlined into each person's draws:
/// behind rand_distr's `Gamma` it was a call through its choice of method, for every one
/// of England's 62 million people and every newcomer
/// (`synthesis_and_newcomers_are_value_stable` pins the values).
#[derive(Debug, Clone, Copy)]
struct MarsagliaTsang {
    c: f64,
    d: f64,
    scale: f64,
}

impl MarsagliaTsang {
    fn new(shape: f64, scale: f64) -> Self {
        debug_assert!(shape > 1.0);
        let d = shape - 1. / 3.;
        MarsagliaTsang {
            c: 1.0 / (9.0 * d).sqrt(),
            d,
            scale,
        }
    }

    #[inline]
    fn sample(&self, rng: &mut StreamRng) -> f64 {
        loop {
            let x: f64 = rng.sample(StandardNormal);
            let v_cbrt = 1.0 + self.c * x;
            if v_cbrt <= 0.0 {
                continue;
            }
            let v = v_cbrt * v_cbrt * v_cbrt;
            let u: f64 = rng.sample(Open01);
            let x_sqr = x * x;
            if u < 1.0 - 0.0331 * x_sqr * x_sqr
                || u.ln() < 0.5 * x_sqr + self.d * (1.0 - v + v.ln())
            {
                return v * (self.d * self.scale);
            }
        }
    }
}

/// Segments a starting-segment row is padded to: a row of this fixed width is compared
/// with a draw in one unrolled pass, where the model's rows, as long as its segments,
/// took a loop with a remainder per person (a third of drawing a newcomer).
const PADDED_SEGMENTS: usize = 8;

/// A padded row's entries past the model's segments: above every uniform draw, so they
/// are never counted and a pick is the same as from the unpadded row.
const PAST_LAST: f64 = 2.0;

/// Draws of the attributes of a new person, shared by synthesis and migration.
pub struct Newcomers {
    risk: RiskDistribution,
    imd_cum: [f64; N_IMD],
    /// The model's cumulative starting-segment shares per (band, quintile), padded to
    /// [`PADDED_SEGMENTS`]; `None` for a model with more segments, drawn from the model.
    initial: Option<Vec<[f64; PADDED_SEGMENTS]>>,
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
            initial: padded_initial(model),
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
            None => self.initial_segment(model, band, imd, u),
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

    /// A starting segment at an age band and quintile given a uniform draw: the model's
    /// [`crate::model::segments::SegmentModel::initial`], from the padded rows.
    #[inline]
    fn initial_segment(&self, model: &Model, band: usize, imd: u8, u: f64) -> u8 {
        match &self.initial {
            Some(rows) => {
                let row = &rows[band * N_IMD + imd as usize];
                let passed: usize = row.iter().map(|c| (u >= *c) as usize).sum();
                passed.min(model.segments.len() - 1) as u8
            }
            None => model.segments.initial(band, imd, u),
        }
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

    /// A person of a given band and sex with drawn age, quintile, segment and risk.
    #[inline]
    pub fn person(&self, model: &Model, band: usize, sex: u8, rng: &mut StreamRng) -> Person {
        let age = self.age_in_band(band, rng);
        self.person_aged(model, age, sex, rng)
    }

    /// A person of a given age and sex with drawn quintile, segment and risk (drawn in
    /// that order).
    #[inline]
    pub fn person_aged(&self, model: &Model, age: u8, sex: u8, rng: &mut StreamRng) -> Person {
        let band = band_of(age);
        let imd = self.imd(rng);
        let segment = self.segment(model, band, sex, imd, rng.random::<f64>());
        let risk = self.risk(rng);
        Person {
            age,
            sex,
            imd,
            segment,
            risk,
        }
    }
}

/// The model's starting-segment rows padded to [`PADDED_SEGMENTS`] with [`PAST_LAST`], or
/// `None` when the model has more segments than that.
fn padded_initial(model: &Model) -> Option<Vec<[f64; PADDED_SEGMENTS]>> {
    if model.segments.len() > PADDED_SEGMENTS {
        return None;
    }
    let mut rows = Vec::with_capacity(N_BANDS * N_IMD);
    for band in 0..N_BANDS {
        for q in 0..N_IMD as u8 {
            let mut row = [PAST_LAST; PADDED_SEGMENTS];
            let cum = model.segments.initial_cum(band, q);
            row[..cum.len()].copy_from_slice(cum);
            rows.push(row);
        }
    }
    Some(rows)
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
    let cells = StartingCells::of(neighbourhood);
    people.extend_drawn(neighbourhood.population as usize, || {
        cells.person(model, &newcomers, rng)
    });
}

/// Entries of a [`StartingCells`] guide table: a power of two, so that a draw times it is
/// exact, and wide enough that few entries hold a cell boundary.
const GUIDE: usize = 1024;

/// The age-sex cells a neighbourhood's people are drawn from (an imported
/// neighbourhood's single years of age, or a preset's bands), with a guide table.
///
/// A cell is the first whose cumulative share exceeds a uniform draw. A binary search
/// over the 38 cells (or 192 single years) was a chain of dependent loads, most of
/// synthesis' own time; the guide table gives, for each of [`GUIDE`] equal slices of
/// [0, 1), the cells at or below the slice's start, from which a draw's cell is a step or
/// two on (Devroye 1986, "Non-Uniform Random Variate Generation", the guide table
/// method): the same cell from the same draw.
struct StartingCells {
    cum: Vec<f64>,
    guide: Vec<u32>,
    /// Single years of age (imported lists), else bands.
    single_years: bool,
    /// The last single year's index: the open-ended top of the lists' ages.
    top: usize,
}

impl StartingCells {
    fn of(neighbourhood: &Neighbourhood) -> Self {
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
        let guide = (0..GUIDE)
            .map(|j| count_at_or_below(&cum, j as f64 / GUIDE as f64) as u32)
            .collect();
        StartingCells {
            guide,
            single_years: neighbourhood.ages.is_some(),
            top: cells.len() / N_SEX - 1,
            cum,
        }
    }

    /// The cell of a uniform draw `u` in [0, 1): the number of cumulative shares at or
    /// below it (the last cell if all are), as `count_at_or_below` counts them.
    #[inline]
    fn pick(&self, u: f64) -> usize {
        // u < 1 and GUIDE a power of two: the slice is exact, and its start at or below u.
        let mut k = self.guide[(u * GUIDE as f64) as usize] as usize;
        while k < self.cum.len() && self.cum[k] <= u {
            k += 1;
        }
        k.min(self.cum.len() - 1)
    }

    /// One person: a cell, then an age within it, then the rest ([`Newcomers`]).
    #[inline]
    fn person(&self, model: &Model, newcomers: &Newcomers, rng: &mut StreamRng) -> Person {
        let k = self.pick(rng.random::<f64>());
        let sex = (k % N_SEX) as u8;
        if self.single_years {
            let at = k / N_SEX;
            let age = if at == self.top {
                Newcomers::age_from(at as u8, rng)
            } else {
                at as u8
            };
            newcomers.person_aged(model, age, sex, rng)
        } else {
            newcomers.person(model, k / N_SEX, sex, rng)
        }
    }
}

/// The number of entries of the non-decreasing `cum` at or below `u`.
fn count_at_or_below(cum: &[f64], u: f64) -> usize {
    cum.partition_point(|c| *c <= u)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::rng::{Purpose, StreamKey};
    use crate::data::datasets::Datasets;
    use crate::data::geography::Geography;

    const PINNED: u64 = 0xf897_1e1f_ebf9_f197;

    /// The guide table picks the cell a binary search over the cumulative shares picks,
    /// at every slice boundary, just either side of every share, and at random draws.
    #[test]
    fn guide_table_picks_the_binary_searchs_cell() {
        let d = Datasets::bundled().unwrap();
        let g = Geography::default_system(&d);
        let searched = |cells: &StartingCells, u: f64| {
            count_at_or_below(&cells.cum, u).min(cells.cum.len() - 1)
        };
        let mut uneven = g.neighbourhoods[0].clone();
        // Empty cells, and a share that ends exactly on a slice boundary.
        uneven.age_sex[0] = [0.0, 0.0];
        uneven.age_sex[1] = [0.25, 0.0];
        let rest: f64 = uneven.age_sex[2..].iter().flatten().sum();
        for c in uneven.age_sex[2..].iter_mut().flatten() {
            *c *= 0.75 / rest;
        }
        let mut rng = StreamKey {
            seed: 1,
            run: 0,
            neighbourhood: 0,
            year: 0,
            purpose: Purpose::Synthesis,
        }
        .rng();
        for nb in [&g.neighbourhoods[0], &uneven] {
            let cells = StartingCells::of(nb);
            let mut draws: Vec<f64> = (0..GUIDE).map(|j| j as f64 / GUIDE as f64).collect();
            for c in &cells.cum {
                draws.extend(
                    [c.next_down(), *c, c.next_up()]
                        .iter()
                        .filter(|u| **u < 1.0),
                );
            }
            draws.extend((0..100_000).map(|_| rng.random::<f64>()));
            draws.push(1.0f64.next_down());
            for u in draws.into_iter().filter(|u| *u >= 0.0) {
                assert_eq!(cells.pick(u), searched(&cells, u), "draw {u}");
            }
        }
    }

    /// A hash of every attribute of `people`, in order.
    fn fingerprint(people: &People) -> u64 {
        let mut h = 0xcbf2_9ce4_8422_2325u64;
        for i in 0..people.len() {
            let p = &people;
            for x in [
                p.age[i] as u64,
                p.sex[i] as u64,
                p.imd[i] as u64,
                p.segment[i] as u64,
                p.risk[i].to_bits() as u64,
                p.id[i] as u64,
            ] {
                h = (h ^ x).wrapping_mul(0x0100_0000_01b3);
            }
        }
        h
    }

    /// Synthesis and newcomers draw the same people from the same stream: the values pinned
    /// when the guide table, padded rows and in-place writes came in (checked then to give
    /// byte-identical batch and England outputs). A change here changes every result.
    #[test]
    fn synthesis_and_newcomers_are_value_stable() {
        let d = Datasets::bundled().unwrap();
        let m = Model::new(&d).unwrap();
        let g = Geography::default_system(&d);
        let nb = &g.neighbourhoods[0];
        let mut rng = StreamKey {
            seed: 7,
            run: 0,
            neighbourhood: nb.id,
            year: 0,
            purpose: Purpose::Synthesis,
        }
        .rng();
        let mut people = People::default();
        synthesise(&m, nb, &mut people, &mut rng);
        let newcomers = Newcomers::new(&m, nb);
        for band in 0..N_BANDS {
            people.extend_drawn(3, || newcomers.person(&m, band, (band % 2) as u8, &mut rng));
        }
        assert_eq!(people.len() as u64, nb.population + 3 * N_BANDS as u64);
        assert_eq!(fingerprint(&people), PINNED, "{:#x}", fingerprint(&people));
    }

    /// The written-out Marsaglia-Tsang draws rand_distr's gamma to the bit, from the same
    /// stream positions, at shapes either side of the bundled risk shape's k + 1.
    #[test]
    fn marsaglia_tsang_is_rand_distrs_gamma() {
        for shape in [1.01, 1.15, 1.5, 3.0, 101.0] {
            let scale = 1.0 / (shape - 1.0);
            let ours = MarsagliaTsang::new(shape, scale);
            let theirs = Gamma::new(shape, scale).unwrap();
            let key = StreamKey {
                seed: 3,
                run: 1,
                neighbourhood: 2,
                year: 0,
                purpose: Purpose::Synthesis,
            };
            let (mut a, mut b) = (key.rng(), key.rng());
            for _ in 0..20_000 {
                assert_eq!(
                    ours.sample(&mut a).to_bits(),
                    theirs.sample(&mut b).to_bits()
                );
            }
            assert_eq!(a.random::<u64>(), b.random::<u64>());
        }
    }

    /// The padded rows pick the model's starting segment for every band, quintile and
    /// draw either side of each share.
    #[test]
    fn padded_rows_pick_the_models_segment() {
        let d = Datasets::bundled().unwrap();
        let m = Model::new(&d).unwrap();
        let g = Geography::default_system(&d);
        let n = Newcomers::new(&m, &g.neighbourhoods[0]);
        assert!(n.initial.is_some());
        for band in 0..N_BANDS {
            for q in 0..N_IMD as u8 {
                for c in m.segments.initial_cum(band, q) {
                    for u in [0.0, c.next_down(), *c, c.next_up(), 1.0f64.next_down()] {
                        if u < 1.0 {
                            assert_eq!(
                                n.initial_segment(&m, band, q, u),
                                m.segments.initial(band, q, u)
                            );
                        }
                    }
                }
            }
        }
    }
}
