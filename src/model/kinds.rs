//! Each kind of person (segment, quintile, sex, single year of age), with the cells of the
//! yearly tables they count in and their chance of giving birth, tabulated once.
//!
//! Why: the yearly loop (`engine::simulation::live_year`) visits every person every year.
//! Working out a person's census cell, exposure cell (in their own segment and, for a
//! mother, in maternity), transition row and fertility from their attributes took about a
//! third of its instructions; one lookup by [`Demography::row`], the index the year's
//! chances of leaving already use, gives them all.

use std::sync::OnceLock;

use crate::core::dims::{Cell, N_AGES, N_IMD, N_SEX};
use crate::model::demography::{Demography, MAX_IMPROVEMENT_YEARS};
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

/// One kind of person in one year: where they count ([`Kind`]), their chances of dying and
/// of dying or leaving ([`Demography::exit_chances`]) and the interval of uniforms that
/// keeps them in their segment ([`SegmentModel::stay_bounds`] of their transition row).
///
/// Why side by side: the yearly loop looked each person up in three tables (kinds,
/// chances, stay intervals) and was short of registers to keep where each one was; one
/// entry of 48 bytes is one lookup, in one cache line or two.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct KindYear {
    /// Chance of dying in the year.
    pub death: f64,
    /// Chance of dying or leaving in the year (at least `death`).
    pub leave: f64,
    /// Uniforms in `[stay[0], stay[1])` keep the person in their segment.
    pub stay: [f64; 2],
    pub kind: Kind,
}

/// Every kind of person, by [`Demography::row`], and their years without factors.
#[derive(Debug, Clone, Default)]
pub struct Kinds {
    kinds: Vec<Kind>,
    /// [`Kinds::year`] of the model's own chances, by year of improvement, made once.
    unchanged: Vec<OnceLock<Vec<KindYear>>>,
}

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
        Kinds {
            kinds,
            unchanged: (0..=MAX_IMPROVEMENT_YEARS)
                .map(|_| OnceLock::new())
                .collect(),
        }
    }

    /// Every kind, by [`Demography::row`].
    #[inline]
    pub fn all(&self) -> &[Kind] {
        &self.kinds
    }

    /// Every kind's year, by [`Demography::row`], into `out`: `chances` by the same row
    /// ([`Demography::exit_chances`]), `stay` by transition row
    /// ([`SegmentModel::stay_bounds`]).
    pub fn year(&self, chances: &[[f64; 2]], stay: &[[f64; 2]], out: &mut Vec<KindYear>) {
        debug_assert_eq!(chances.len(), self.kinds.len());
        out.clear();
        out.extend(
            self.kinds
                .iter()
                .zip(chances)
                .map(|(kind, [death, leave])| KindYear {
                    death: *death,
                    leave: *leave,
                    stay: stay[kind.transition as usize],
                    kind: *kind,
                }),
        );
    }

    /// [`Kinds::year`] after `t` years of improvement without factors: the model's own
    /// chances and transitions, made once for each `t` and kept.
    pub fn unchanged_year(
        &self,
        t: usize,
        demography: &Demography,
        segments: &SegmentModel,
    ) -> &[KindYear] {
        self.unchanged[t.min(MAX_IMPROVEMENT_YEARS)].get_or_init(|| {
            let mut out = Vec::new();
            let stay = segments.unchanged_rows().1;
            self.year(demography.unchanged_exit_chances(t), stay, &mut out);
            out
        })
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
