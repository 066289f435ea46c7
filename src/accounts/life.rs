//! Period life expectancy at birth from simulated deaths and person-years: an abridged
//! life table on central death rates m = deaths / person-years by five-year age band (the
//! method ONS uses for local areas, with Chiang's conversion of m to q).
//!
//! **Which ages a band covers.** The engine counts deaths and person-years by age at the
//! start of the year, and people are on average half a year older than that while the
//! year runs, so band [x, x + 5) holds the mortality of exact ages [x + 0.5, x + 5.5).
//! The table therefore runs over [0, 5.5), [5.5, 10.5), ..., [85.5, 90.5) and an open
//! interval from 90.5; ignoring the shift would understate life expectancy by about half
//! a year. The first interval also holds the deaths of infancy (drawn at q(0) from age 0,
//! `model::demography`), and its deaths are taken to fall on average 1 year into it
//! (assumption; moving it by a year changes e0 by about 0.005 years). Elsewhere deaths
//! fall at the middle of their interval.

use crate::core::dims::N_BANDS;

/// Width of each closed interval, in years (see the module notes).
fn width(band: usize) -> f64 {
    if band == 0 {
        5.5
    } else {
        5.0
    }
}

/// Average years lived in an interval by those who die in it.
fn separation(band: usize) -> f64 {
    if band == 0 {
        1.0
    } else {
        2.5
    }
}

/// Life expectancy at birth from deaths and person-years by age band (the last band open).
/// `None` when it cannot be formed: no person-years at all, or no deaths or no
/// person-years in the open band (a small area in a quiet year). A closed band without
/// person-years is taken to have no deaths.
pub fn life_expectancy(deaths: &[f64; N_BANDS], person_years: &[f64; N_BANDS]) -> Option<f64> {
    let open = N_BANDS - 1;
    if person_years[open] <= 0.0 || deaths[open] <= 0.0 {
        return None;
    }
    let mut l = 1.0;
    let mut total = 0.0;
    for b in 0..open {
        let m = if person_years[b] > 0.0 {
            deaths[b] / person_years[b]
        } else {
            0.0
        };
        let (n, a) = (width(b), separation(b));
        let q = (n * m / (1.0 + (n - a) * m)).min(1.0);
        let d = l * q;
        total += n * (l - d) + a * d;
        l -= d;
    }
    total += l * person_years[open] / deaths[open];
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A constant hazard of 0.02 a year gives a life expectancy of 50 years.
    #[test]
    fn constant_hazard_gives_its_reciprocal() {
        let e = life_expectancy(&[0.02; N_BANDS], &[1.0; N_BANDS]).unwrap();
        assert!((e - 50.0).abs() < 0.05, "{e}");
    }

    /// A Gompertz hazard integrated exactly over the shifted intervals gives the exact
    /// life expectancy to within 0.15 years.
    #[test]
    fn gompertz_by_hand() {
        let (alpha, beta) = (3e-5f64, 0.1f64);
        let mu = |x: f64| alpha * (beta * x).exp();
        // Survival S(x) = exp(-alpha/beta (e^{beta x} - 1)); e0 = integral of S.
        let s = |x: f64| (-(alpha / beta) * ((beta * x).exp() - 1.0)).exp();
        let step = 0.001;
        let exact: f64 = (0..200_000)
            .map(|i| s((i as f64 + 0.5) * step) * step)
            .sum();
        // Deaths and person-years of a stationary population over each interval.
        let (mut deaths, mut py) = ([0.0; N_BANDS], [0.0; N_BANDS]);
        for i in 0..200_000 {
            let x = (i as f64 + 0.5) * step;
            let b = if x < 5.5 {
                0
            } else {
                (((x - 0.5) / 5.0) as usize).min(N_BANDS - 1)
            };
            py[b] += s(x) * step;
            deaths[b] += s(x) * mu(x) * step;
        }
        let e = life_expectancy(&deaths, &py).unwrap();
        assert!((e - exact).abs() < 0.15, "{e} vs {exact}");
    }

    #[test]
    fn no_deaths_in_the_open_band_gives_none() {
        let mut d = [0.01; N_BANDS];
        d[N_BANDS - 1] = 0.0;
        assert_eq!(life_expectancy(&d, &[1.0; N_BANDS]), None);
    }
}
