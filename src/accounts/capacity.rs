//! Beds from bed days: the average at a target occupancy, and the peak.
//!
//! Boards plan beds for the busy days, not the average one. With emergency admissions
//! arriving as a Poisson process and each staying for a length of stay drawn from any
//! distribution, the number of beds occupied on a day is Poisson with mean (arrivals per
//! day x mean stay): the M/G/infinity result, which needs no assumption about the shape of
//! stays. A year's bed days already are admissions x stays, so the mean occupied on a day
//! of month `m` is (bed days / 365) x the month's factor of a seasonal profile. From that
//! follow the beds needed so that occupancy exceeds them on at most a share `alpha` of
//! days ([`Peak::beds_for_exceedance`]) and the expected days a year over a given bed base
//! ([`Peak::days_over`]). Stays are short against a month, so each month is treated as in
//! steady state (the tests check this against a day-by-day simulation).
//!
//! Limits: arrivals are taken as Poisson (more variable arrivals, e.g. clustered winter
//! outbreaks, need more beds); beds are one pool (no ward or specialty boundaries); only
//! emergency bed days are counted (elective stays are not simulated as bed days).

use statrs::function::gamma::gamma_lr;

/// Days in each month of a year of 365 days.
pub const MONTH_DAYS: [u32; 12] = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/// Days in the year beds are planned over.
pub const YEAR_DAYS: f64 = 365.0;

/// The default monthly profile of occupied emergency bed days, January to December, as
/// multipliers of the year's daily mean. assumption: December to March about 4% above
/// the mean and June to September about 4% below (plausible range of the winter excess 0
/// to 8%). NHS England's monthly emergency admissions per day varied within about 2%
/// between September 2024 and February 2025 (NHS England, A&E Attendances and Emergency
/// Admissions, monthly, as quoted in a secondary summary; not read in the source), so the
/// winter excess of occupied beds is mostly longer stays, assumed here. A scenario may give
/// its own (`[capacity] monthly_profile`).
pub const DEFAULT_PROFILE: [f64; 12] = [
    1.04, 1.04, 1.03, 1.00, 0.99, 0.96, 0.96, 0.96, 0.97, 1.00, 1.02, 1.04,
];

/// A seasonal profile of the daily mean, normalised so that its day-weighted mean is 1
/// (so a year's bed days are unchanged by it).
#[derive(Debug, Clone, PartialEq)]
pub struct Profile([f64; 12]);

impl Profile {
    /// Normalises `factors` (each > 0) to a day-weighted mean of 1.
    pub fn new(factors: [f64; 12]) -> Self {
        let total: f64 = factors
            .iter()
            .zip(MONTH_DAYS)
            .map(|(f, d)| f * d as f64)
            .sum();
        Profile(factors.map(|f| f * YEAR_DAYS / total))
    }

    /// No seasonality: every day alike.
    pub fn flat() -> Self {
        Profile([1.0; 12])
    }

    /// The factor of month `m` (0 = January).
    pub fn factor(&self, m: usize) -> f64 {
        self.0[m]
    }
}

impl Default for Profile {
    fn default() -> Self {
        Profile::new(DEFAULT_PROFILE)
    }
}

/// General and acute beds needed on average for `bed_days` a year at a target
/// `occupancy`: bed days / (365 x occupancy), the planning convention (e.g. the Strategy
/// Unit's demand model turns activity into beds this way).
pub fn beds_at_occupancy(bed_days: f64, occupancy: f64) -> f64 {
    bed_days / (YEAR_DAYS * occupancy)
}

/// P(N > b) for N ~ Poisson(mean): the regularised lower incomplete gamma function
/// P(b + 1, mean), exact for any mean (no normal approximation).
pub fn poisson_exceeds(mean: f64, b: u64) -> f64 {
    if mean <= 0.0 {
        0.0
    } else {
        gamma_lr(b as f64 + 1.0, mean)
    }
}

/// Beds occupied through one year: Poisson each day with a mean that follows the seasonal
/// profile.
#[derive(Debug, Clone, PartialEq)]
pub struct Peak {
    /// Mean beds occupied on a day of each month.
    month_mean: [f64; 12],
}

impl Peak {
    /// The year of `bed_days` (admissions x stays) spread over the months by `profile`.
    pub fn new(bed_days: f64, profile: &Profile) -> Self {
        let daily = bed_days.max(0.0) / YEAR_DAYS;
        Peak {
            month_mean: std::array::from_fn(|m| daily * profile.factor(m)),
        }
    }

    /// Mean beds occupied on a day of month `m` (0 = January).
    pub fn mean_in_month(&self, m: usize) -> f64 {
        self.month_mean[m]
    }

    /// The share of the year's days on which more than `beds` are occupied.
    pub fn share_of_days_over(&self, beds: u64) -> f64 {
        self.days_over(beds) / YEAR_DAYS
    }

    /// Expected days a year on which more than `beds` are occupied: over the months, days x
    /// P(Poisson(month mean) > beds).
    pub fn days_over(&self, beds: u64) -> f64 {
        self.month_mean
            .iter()
            .zip(MONTH_DAYS)
            .map(|(m, d)| d as f64 * poisson_exceeds(*m, beds))
            .sum()
    }

    /// The fewest beds such that more are occupied on at most a share `alpha` of days
    /// (0 < alpha < 1). The share falls as beds rise, so a bisection finds it; its bracket
    /// is found by steps out from the busiest month's mean plus two standard deviations,
    /// near the answer for any alpha in use, which takes about half the evaluations of
    /// bisecting from zero (each is twelve incomplete gamma functions, and the batch asks
    /// for two in every area-year of every scenario-run). The answer is the same: the
    /// fewest beds with the share at most `alpha`, capped as before far into the tail.
    pub fn beds_for_exceedance(&self, alpha: f64) -> u64 {
        let top = self.month_mean.iter().cloned().fold(0.0, f64::max);
        if top <= 0.0 {
            return 0;
        }
        // Far enough into the tail that the share is below any alpha in use.
        let cap = (top + 40.0 * top.sqrt() + 40.0).ceil() as u64;
        let within = |beds: u64| self.share_of_days_over(beds) <= alpha;
        if within(0) {
            return 0;
        }
        // lo is always outside (share above alpha), hi within or the cap.
        let mut step = (top.sqrt() / 2.0).ceil().max(1.0) as u64;
        let guess = ((top + 2.0 * top.sqrt()).ceil() as u64).clamp(1, cap);
        let (mut lo, mut hi) = if within(guess) {
            let mut hi = guess;
            loop {
                let next = hi.saturating_sub(step);
                if next == 0 || !within(next) {
                    break (next, hi);
                }
                hi = next;
                step *= 2;
            }
        } else {
            let mut lo = guess;
            loop {
                let next = (lo + step).min(cap);
                if next == cap || within(next) {
                    break (lo, next);
                }
                lo = next;
                step *= 2;
            }
        };
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if within(mid) {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        hi
    }
}

/// The first year (1-based) whose beds required exceed `base`; `None` when none does.
pub fn year_passing(beds_by_year: &[f64], base: f64) -> Option<u32> {
    beds_by_year
        .iter()
        .position(|b| *b > base)
        .map(|y| y as u32 + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_distr::{Distribution, Poisson};
    use rand_xoshiro::Xoshiro256PlusPlus;

    /// The bracketed search gives what bisecting from zero to the cap gave (the search
    /// before it), over means from under one bed to thousands, both profiles and the
    /// alphas in use and beyond.
    #[test]
    fn bracketed_search_is_the_bisection_from_zero() {
        fn from_zero(peak: &Peak, alpha: f64) -> u64 {
            let top = peak.month_mean.iter().cloned().fold(0.0, f64::max);
            if top <= 0.0 {
                return 0;
            }
            let (mut lo, mut hi) = (0u64, (top + 40.0 * top.sqrt() + 40.0).ceil() as u64);
            if peak.share_of_days_over(lo) <= alpha {
                return 0;
            }
            while hi - lo > 1 {
                let mid = lo + (hi - lo) / 2;
                if peak.share_of_days_over(mid) <= alpha {
                    hi = mid;
                } else {
                    lo = mid;
                }
            }
            hi
        }
        let mut checked = 0;
        for profile in [Profile::default(), Profile::flat()] {
            for i in 0..120 {
                let bed_days = 10f64.powf(i as f64 / 20.0) * 3.0;
                let peak = Peak::new(bed_days, &profile);
                for alpha in [0.001, 0.01, 0.05, 0.2, 0.5, 0.9] {
                    assert_eq!(
                        peak.beds_for_exceedance(alpha),
                        from_zero(&peak, alpha),
                        "{bed_days} bed days, alpha {alpha}"
                    );
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, 1440);
    }

    /// By hand: 32,850 bed days a year at 90% occupancy need 32,850 / (365 x 0.9) = 100
    /// beds; at 100% they need 90.
    #[test]
    fn beds_from_bed_days_by_hand() {
        assert!((beds_at_occupancy(32_850.0, 0.9) - 100.0).abs() < 1e-9);
        assert!((beds_at_occupancy(32_850.0, 1.0) - 90.0).abs() < 1e-9);
        assert_eq!(beds_at_occupancy(0.0, 0.85), 0.0);
    }

    /// The profile keeps the year's bed days: its day-weighted mean is 1.
    #[test]
    fn profile_keeps_the_year() {
        let p = Profile::default();
        let mean: f64 = (0..12).map(|m| p.factor(m) * MONTH_DAYS[m] as f64).sum();
        assert!((mean - YEAR_DAYS).abs() < 1e-9, "{mean}");
        assert!(p.factor(0) > p.factor(7), "winter above summer");
    }

    /// Poisson tails against hand values: P(N > 0) = 1 - e^-m; P(Poisson(2) > 3) =
    /// 1 - e^-2 (1 + 2 + 2 + 4/3) = 0.142877...
    #[test]
    fn poisson_tails_by_hand() {
        assert!((poisson_exceeds(1.5, 0) - (1.0 - (-1.5f64).exp())).abs() < 1e-12);
        let want = 1.0 - (-2.0f64).exp() * (1.0 + 2.0 + 2.0 + 4.0 / 3.0);
        assert!((poisson_exceeds(2.0, 3) - want).abs() < 1e-12);
        assert_eq!(poisson_exceeds(0.0, 0), 0.0);
        // A large mean: about half the days are above the mean.
        let p = poisson_exceeds(50_000.0, 50_000);
        assert!((p - 0.5).abs() < 0.01, "{p}");
    }

    /// Without seasonality the 95% bed requirement is the Poisson 95th centile: for a mean
    /// of 100, P(N > 117) = 0.04284 <= 0.05 < P(N > 116) = 0.05222 (summed by hand from
    /// the probability function), so 117 beds.
    #[test]
    fn flat_peak_is_the_poisson_centile() {
        let peak = Peak::new(100.0 * YEAR_DAYS, &Profile::flat());
        assert_eq!(peak.beds_for_exceedance(0.05), 117);
        let d = peak.days_over(117);
        assert!((d / YEAR_DAYS - 0.042845).abs() < 1e-5, "{d}");
        assert!((peak.share_of_days_over(116) - 0.052215).abs() < 1e-5);
        assert_eq!(
            Peak::new(0.0, &Profile::flat()).beds_for_exceedance(0.05),
            0
        );
        // Seasonality needs more beds for the same bed days.
        let winter = Peak::new(100.0 * YEAR_DAYS, &Profile::default());
        assert!(winter.beds_for_exceedance(0.05) > 117);
    }

    #[test]
    fn the_year_a_base_is_passed() {
        assert_eq!(year_passing(&[90.0, 99.0, 101.0, 120.0], 100.0), Some(3));
        assert_eq!(year_passing(&[90.0, 99.0], 100.0), None);
    }

    /// The M/G/infinity result against a day-by-day simulation: admissions arrive each day
    /// as Poisson with the month's rate and stay 1 + Poisson(4) days (mean 5, not
    /// exponential: the result does not depend on the shape), over 200 years with a
    /// strong seasonal profile. The share of days over the formula's 95% bed requirement,
    /// and the expected days over a base, match within sampling error. Days are
    /// correlated over about a stay, so the error uses days / (2 x mean stay) as the
    /// effective number of independent days.
    #[test]
    fn poisson_peak_matches_a_day_by_day_simulation() {
        let profile = Profile::new([
            1.15, 1.12, 1.05, 1.0, 0.95, 0.9, 0.88, 0.88, 0.92, 1.0, 1.05, 1.12,
        ]);
        let (daily_beds, stay_mean) = (60.0, 5.0);
        let peak = Peak::new(daily_beds * YEAR_DAYS, &profile);
        let beds95 = peak.beds_for_exceedance(0.05);
        let base = (daily_beds + 5.0) as u64;

        let mut rng = Xoshiro256PlusPlus::seed_from_u64(26);
        let extra = Poisson::new(stay_mean - 1.0).unwrap();
        let years = 200usize;
        let warm = 60usize;
        let days = years * 365;
        // Beds leaving at the end of each day ahead (a ring of departures).
        const RING: usize = 64;
        let mut leaving = [0u64; RING];
        let mut occupied = 0u64;
        let (mut over95, mut over_base, mut counted) = (0u64, 0u64, 0u64);
        let mut month_sum = [0.0f64; 12];
        let mut month_days = [0u64; 12];
        for day in 0..days + warm {
            let doy = day % 365;
            let month = month_of(doy);
            let rate = daily_beds * profile.factor(month) / stay_mean;
            let arrivals = Poisson::new(rate).unwrap().sample(&mut rng) as u64;
            for _ in 0..arrivals {
                let stay = 1 + extra.sample(&mut rng) as usize;
                leaving[(day + stay) % RING] += 1;
            }
            occupied += arrivals;
            occupied -= std::mem::take(&mut leaving[day % RING]);
            // The ring slot of today was cleared before today's arrivals could need it
            // again: stays are at least a day and shorter than the ring.
            if day >= warm {
                counted += 1;
                over95 += (occupied > beds95) as u64;
                over_base += (occupied > base) as u64;
                month_sum[month] += occupied as f64;
                month_days[month] += 1;
            }
        }
        let n_eff = counted as f64 / (2.0 * stay_mean);
        let check = |simulated: f64, expected: f64, what: &str| {
            let se = (expected * (1.0 - expected) / n_eff).sqrt();
            assert!(
                (simulated - expected).abs() < 4.0 * se,
                "{what}: simulated {simulated}, formula {expected} (se {se})"
            );
        };
        check(
            over95 as f64 / counted as f64,
            peak.share_of_days_over(beds95),
            "days over the 95% beds",
        );
        check(
            over_base as f64 / counted as f64,
            peak.days_over(base) / YEAR_DAYS,
            "days over the base",
        );
        // Monthly means: the lag of a 5-day stay behind a month's change is small.
        for m in 0..12 {
            let sim = month_sum[m] / month_days[m] as f64;
            let se = (peak.mean_in_month(m) / (month_days[m] as f64 / (2.0 * stay_mean))).sqrt();
            assert!(
                (sim - peak.mean_in_month(m)).abs() < 4.0 * se + 0.02 * peak.mean_in_month(m),
                "month {m}: {sim} vs {}",
                peak.mean_in_month(m)
            );
        }
    }

    fn month_of(day_of_year: usize) -> usize {
        let mut d = day_of_year;
        for (m, n) in MONTH_DAYS.iter().enumerate() {
            if d < *n as usize {
                return m;
            }
            d -= *n as usize;
        }
        11
    }
}
