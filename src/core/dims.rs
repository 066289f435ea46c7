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

/// One cell of the model's dimensions: age band, sex, deprivation quintile (0 = most
/// deprived) and segment. Tables lay cells out in three orders, each named here, so no
/// caller passes the four indices in an order of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cell {
    pub band: usize,
    pub sex: usize,
    pub imd: usize,
    pub segment: usize,
}

impl Cell {
    /// The cell of a person.
    #[inline]
    pub fn of(age: u8, sex: u8, imd: u8, segment: u8) -> Cell {
        Cell {
            band: band_of(age),
            sex: sex as usize,
            imd: imd as usize,
            segment: segment as usize,
        }
    }

    /// Every cell, in census order (band, sex, quintile, segment).
    pub fn all(n_segments: usize) -> impl Iterator<Item = Cell> {
        (0..n_cells(n_segments)).map(move |c| Cell::from_census(c, n_segments))
    }

    /// The cell at a census index.
    #[inline]
    pub fn from_census(c: usize, n_segments: usize) -> Cell {
        Cell {
            band: c / n_segments / N_IMD / N_SEX,
            sex: (c / n_segments / N_IMD) % N_SEX,
            imd: (c / n_segments) % N_IMD,
            segment: c % n_segments,
        }
    }

    /// Census layout (band, sex, quintile, segment): the row order of population tables.
    #[inline]
    pub fn census(self, n_segments: usize) -> usize {
        ((self.band * N_SEX + self.sex) * N_IMD + self.imd) * n_segments + self.segment
    }

    /// Exposure layout (segment, band, sex, quintile): segment-major, so each segment's
    /// cells are contiguous for its Poisson totals.
    #[inline]
    pub fn exposure(self) -> usize {
        ((self.segment * N_BANDS + self.band) * N_SEX + self.sex) * N_IMD + self.imd
    }

    /// Layout of demographic factors (segment, band, quintile), which do not vary by sex.
    #[inline]
    pub fn demographic(self) -> usize {
        (self.segment * N_BANDS + self.band) * N_IMD + self.imd
    }
}

/// Number of census cells for a given number of segments.
pub fn n_cells(n_segments: usize) -> usize {
    N_BANDS * N_SEX * N_IMD * n_segments
}

/// Number of exposure cells for a given number of segments (the same cells, in exposure
/// layout).
pub fn n_exposure_cells(n_segments: usize) -> usize {
    n_segments * N_BANDS * N_SEX * N_IMD
}

/// Number of demographic factor cells for a given number of segments.
pub fn n_demographic_cells(n_segments: usize) -> usize {
    n_segments * N_BANDS * N_IMD
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

    /// Each layout is a bijection onto `0..n`.
    #[test]
    fn layouts_cover_every_cell_once() {
        let ns = 3;
        let (mut census, mut exposure) = (vec![0; n_cells(ns)], vec![0; n_exposure_cells(ns)]);
        let mut demographic = vec![0; n_demographic_cells(ns)];
        for band in 0..N_BANDS {
            for sex in 0..N_SEX {
                for imd in 0..N_IMD {
                    for segment in 0..ns {
                        let c = Cell {
                            band,
                            sex,
                            imd,
                            segment,
                        };
                        census[c.census(ns)] += 1;
                        exposure[c.exposure()] += 1;
                        demographic[c.demographic()] += 1;
                    }
                }
            }
        }
        assert!(census.iter().chain(&exposure).all(|n| *n == 1));
        for (i, c) in Cell::all(ns).enumerate() {
            assert_eq!(c.census(ns), i);
        }
        assert!(demographic.iter().all(|n| *n == N_SEX));
    }
}
