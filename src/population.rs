//! People, stored as struct-of-arrays in compact types, and the counts taken of them.
//!
//! A person is 12 bytes: age, sex, deprivation quintile and segment as `u8`, a persistent
//! individual risk multiplier as `f32`, and an id. The id keys the person's own random draws,
//! so a person meets the same chance in every scenario even when scenarios change who else
//! is alive (common random numbers). The neighbourhood is implicit: each neighbourhood owns
//! its own `People`.

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

/// The people of one neighbourhood, one `Vec` per attribute.
#[derive(Debug, Clone, Default)]
pub struct People {
    pub age: Vec<u8>,
    pub sex: Vec<u8>,
    pub imd: Vec<u8>,
    pub segment: Vec<u8>,
    pub risk: Vec<f32>,
    /// Ids in order of arrival in this neighbourhood (synthesis first, then entrants).
    pub id: Vec<u32>,
    next_id: u32,
}

/// Bytes held per person (the sum of the attribute sizes).
pub const BYTES_PER_PERSON: usize = 4 + std::mem::size_of::<f32>() + std::mem::size_of::<u32>();

impl People {
    pub fn with_capacity(n: usize) -> Self {
        People {
            age: Vec::with_capacity(n),
            sex: Vec::with_capacity(n),
            imd: Vec::with_capacity(n),
            segment: Vec::with_capacity(n),
            risk: Vec::with_capacity(n),
            id: Vec::with_capacity(n),
            next_id: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.age.len()
    }

    pub fn is_empty(&self) -> bool {
        self.age.is_empty()
    }

    pub fn clear(&mut self) {
        self.age.clear();
        self.sex.clear();
        self.imd.clear();
        self.segment.clear();
        self.risk.clear();
        self.id.clear();
        self.next_id = 0;
    }

    /// Makes `self` a copy of `other` without allocating once capacity is there.
    pub fn copy_from(&mut self, other: &People) {
        self.clear();
        self.age.extend_from_slice(&other.age);
        self.sex.extend_from_slice(&other.sex);
        self.imd.extend_from_slice(&other.imd);
        self.segment.extend_from_slice(&other.segment);
        self.risk.extend_from_slice(&other.risk);
        self.id.extend_from_slice(&other.id);
        self.next_id = other.next_id;
    }

    /// Adds a person with the next id.
    pub fn push(&mut self, age: u8, sex: u8, imd: u8, segment: u8, risk: f32) {
        self.id.push(self.next_id);
        self.next_id += 1;
        self.age.push(age);
        self.sex.push(sex);
        self.imd.push(imd);
        self.segment.push(segment);
        self.risk.push(risk);
    }

    /// Keeps the people for whom `keep` is true, in their order, without allocating.
    pub fn retain(&mut self, keep: &[bool]) {
        let mut w = 0;
        for r in 0..self.len() {
            if keep[r] {
                self.age[w] = self.age[r];
                self.sex[w] = self.sex[r];
                self.imd[w] = self.imd[r];
                self.segment[w] = self.segment[r];
                self.risk[w] = self.risk[r];
                self.id[w] = self.id[r];
                w += 1;
            }
        }
        self.age.truncate(w);
        self.sex.truncate(w);
        self.imd.truncate(w);
        self.segment.truncate(w);
        self.risk.truncate(w);
        self.id.truncate(w);
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

/// Adds one count per person to `counts`, indexed by [`cell`].
pub fn count_into(people: &People, n_segments: usize, counts: &mut [u32]) {
    for i in 0..people.len() {
        let c = cell(
            band_of(people.age[i]),
            people.sex[i] as usize,
            people.imd[i] as usize,
            people.segment[i] as usize,
            n_segments,
        );
        counts[c] += 1;
    }
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

    #[test]
    fn retain_keeps_order() {
        let mut p = People::default();
        for i in 0..5 {
            p.push(i, 0, 0, 0, i as f32);
        }
        p.retain(&[true, false, true, false, true]);
        assert_eq!(p.age, vec![0, 2, 4]);
        assert_eq!(p.risk, vec![0.0, 2.0, 4.0]);
    }
}
