//! Each kind of person (segment, quintile, sex, single year of age), with the cells of the
//! yearly tables they count in and their chance of giving birth, tabulated once.
//!
//! Why: the yearly loop (`engine::simulation::live_year`) visits every person every year.
//! Working out a person's census cell, exposure cell (in their own segment and, for a
//! mother, in maternity), transition row and fertility from their attributes took about a
//! third of its instructions; one lookup by [`Demography::row`], the index the year's
//! chances of leaving already use, gives them all.

use crate::core::dims::{Cell, N_AGES, N_IMD, N_SEX};
use crate::model::demography::Demography;
use crate::model::segments::SegmentModel;

/// Where one kind of person counts, and their chance of giving birth in a year.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Kind {
    /// Chance of giving birth in the year ([`Demography::birth_chance`]).
    pub birth: f64,
    /// Cell in the census layout ([`Cell::census`]).
    pub census: u16,
    /// Cell in the exposure layout in their own segment ([`Cell::exposure`]).
    pub exposure: u16,
    /// Cell in the exposure layout in the maternity (newborn) segment, where a mother's
    /// year counts.
    pub mother: u16,
    /// Row of the year's transition table ([`SegmentModel::rows`]): age class, quintile
    /// and segment.
    pub transition: u16,
}

/// Every kind of person, by [`Demography::row`].
#[derive(Debug, Clone, Default)]
pub struct Kinds(Vec<Kind>);

impl Kinds {
    pub fn new(demography: &Demography, segments: &SegmentModel) -> Self {
        let ns = segments.len();
        let mut kinds = Vec::with_capacity(ns * N_IMD * N_SEX * N_AGES);
        for segment in 0..ns as u8 {
            for imd in 0..N_IMD as u8 {
                for sex in 0..N_SEX as u8 {
                    for age in 0..N_AGES as u8 {
                        debug_assert_eq!(kinds.len(), Demography::row(segment, imd, sex, age));
                        let cell = Cell::of(age, sex, imd, segment);
                        let mother = Cell {
                            segment: segments.newborn() as usize,
                            ..cell
                        };
                        let row = (segments.class_of_age(age) * N_IMD + imd as usize) * ns
                            + segment as usize;
                        kinds.push(Kind {
                            birth: demography.birth_chance(sex, age),
                            census: narrow(cell.census(ns)),
                            exposure: narrow(cell.exposure()),
                            mother: narrow(mother.exposure()),
                            transition: narrow(row),
                        });
                    }
                }
            }
        }
        Kinds(kinds)
    }

    /// Every kind, by [`Demography::row`].
    #[inline]
    pub fn all(&self) -> &[Kind] {
        &self.0
    }
}

/// A table index as 16 bits: the tables have a few thousand cells at most.
fn narrow(i: usize) -> u16 {
    u16::try_from(i).expect("a cell index fits 16 bits")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::datasets::Datasets;
    use crate::model::Model;

    #[test]
    fn each_kind_is_its_cells() {
        let m = Model::new(&Datasets::bundled().unwrap()).unwrap();
        let ns = m.segments.len();
        for (segment, imd, sex, age) in [(0u8, 0u8, 0u8, 0u8), (3, 4, 1, 37), (6, 2, 0, 100)] {
            let k = m.kinds.all()[Demography::row(segment, imd, sex, age)];
            let cell = Cell::of(age, sex, imd, segment);
            assert_eq!(k.census as usize, cell.census(ns));
            assert_eq!(k.exposure as usize, cell.exposure());
            assert_eq!(
                k.mother as usize,
                Cell {
                    segment: m.segments.newborn() as usize,
                    ..cell
                }
                .exposure()
            );
            assert_eq!(k.birth, m.demography.birth_chance(sex, age));
        }
    }
}
