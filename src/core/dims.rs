//! The dimensions people are counted by (age, sex, deprivation, segment) and how their
//! cells are laid out in flat arrays. Every table of the model and every count of the
//! engine indexes by these, so they live below both.

/// Oldest single year of age; 100 stands for 100 and over.
pub const MAX_AGE: u8 = 100;
/// Number of single years of age, 0..=100.
pub const N_AGES: usize = MAX_AGE as usize + 1;
/// Number of five-year age bands (0-4 ... 85-89, 90+).
pub const N_BANDS: usize = 19;
/// Number of deprivation (IMD) quintiles; quintile 1 is the most deprived.
pub const N_IMD: usize = 5;
/// Number of sexes recorded.
pub const N_SEX: usize = 2;

/// Labels of the age bands, as they appear in datasets and outputs.
pub const BAND_LABELS: [&str; N_BANDS] = [
    "0-4", "5-9", "10-14", "15-19", "20-24", "25-29", "30-34", "35-39", "40-44", "45-49", "50-54",
    "55-59", "60-64", "65-69", "70-74", "75-79", "80-84", "85-89", "90+",
];

/// Labels of the sexes, indexed by the `u8` code.
pub const SEX_LABELS: [&str; N_SEX] = ["male", "female"];
pub const MALE: u8 = 0;
pub const FEMALE: u8 = 1;

/// The five-year band of a single year of age.
#[inline]
pub fn band_of(age: u8) -> usize {
    (age as usize / 5).min(N_BANDS - 1)
}

/// First and last single year of age in a band.
pub fn band_ages(band: usize) -> (u8, u8) {
    let lo = (band * 5) as u8;
    if band == N_BANDS - 1 {
        (lo, MAX_AGE)
    } else {
        (lo, lo + 4)
    }
}

/// Index of a census cell (age band, sex, deprivation quintile, segment) in a flat array.
#[inline]
pub fn cell(band: usize, sex: usize, imd: usize, segment: usize, n_segments: usize) -> usize {
    ((band * N_SEX + sex) * N_IMD + imd) * n_segments + segment
}

/// Number of census cells for a given number of segments.
pub fn n_cells(n_segments: usize) -> usize {
    N_BANDS * N_SEX * N_IMD * n_segments
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_cover_every_age_once() {
        let mut seen = [0; N_BANDS];
        for a in 0..=MAX_AGE {
            let b = band_of(a);
            let (lo, hi) = band_ages(b);
            assert!(lo <= a && a <= hi);
            seen[b] += 1;
        }
        assert!(seen.iter().all(|&n| n >= 5));
    }
}
