//! People, stored as struct-of-arrays in compact types, and the counts taken of them.
//!
//! A person is 12 bytes: age, sex, deprivation quintile and segment as `u8`, a persistent
//! individual risk multiplier as `f32`, and an id. The id keys the person's own random draws,
//! so a person meets the same chance in every scenario even when scenarios change who else
//! is alive (common random numbers). The neighbourhood is implicit: each neighbourhood owns
//! its own `People`.

use crate::core::dims::Cell;

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

/// One person's attributes as synthesis, births and migration draw them; the id is
/// given on entry ([`People::extend_drawn`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Person {
    pub age: u8,
    pub sex: u8,
    pub imd: u8,
    pub segment: u8,
    pub risk: f32,
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

    /// Appends `n` people drawn one after another by `draw`, with the next ids.
    ///
    /// Each attribute is sized once and written in place: six pushes a person, each
    /// checking its own capacity and length, cost about as much as drawing the person's
    /// quintile (England synthesises 62 million people and adds 3 million a year).
    pub fn extend_drawn(&mut self, n: usize, mut draw: impl FnMut() -> Person) {
        let (start, end) = (self.len(), self.len() + n);
        self.age.resize(end, 0);
        self.sex.resize(end, 0);
        self.imd.resize(end, 0);
        self.segment.resize(end, 0);
        self.risk.resize(end, 0.0);
        let columns = self.age[start..]
            .iter_mut()
            .zip(&mut self.sex[start..])
            .zip(&mut self.imd[start..])
            .zip(&mut self.segment[start..])
            .zip(&mut self.risk[start..]);
        for ((((age, sex), imd), segment), risk) in columns {
            let p = draw();
            (*age, *sex, *imd, *segment, *risk) = (p.age, p.sex, p.imd, p.segment, p.risk);
        }
        self.take_ids(n);
    }

    /// Appends everyone in `other` (the year's entrants), in order, with the next ids.
    pub fn append(&mut self, other: &People) {
        self.age.extend_from_slice(&other.age);
        self.sex.extend_from_slice(&other.sex);
        self.imd.extend_from_slice(&other.imd);
        self.segment.extend_from_slice(&other.segment);
        self.risk.extend_from_slice(&other.risk);
        self.take_ids(other.len());
    }

    /// Gives the next `n` ids to people just added.
    fn take_ids(&mut self, n: usize) {
        let n = u32::try_from(n).expect("a neighbourhood holds fewer than 2^32 people");
        self.id.extend(self.next_id..self.next_id + n);
        self.next_id += n;
    }

    /// Keeps the first `n` people.
    pub fn truncate(&mut self, n: usize) {
        self.age.truncate(n);
        self.sex.truncate(n);
        self.imd.truncate(n);
        self.segment.truncate(n);
        self.risk.truncate(n);
        self.id.truncate(n);
    }

    /// Keeps the people for whom `keep` is true, in their order, without allocating.
    ///
    /// About one person in a hundred leaves a year, so the people kept come in long runs:
    /// each run is moved down in one block copy per attribute, rather than person by
    /// person with a branch that mispredicts at every leaver. The order, and so every
    /// later floating-point sum, is unchanged.
    pub fn retain(&mut self, keep: &[bool]) {
        let n = self.len();
        let keep = &keep[..n];
        let mut w = 0;
        let mut r = 0;
        while r < n {
            // The next run of people kept: [r, end).
            let end = keep[r..].iter().position(|k| !k).map_or(n, |i| r + i);
            if end > r {
                if w != r {
                    self.age.copy_within(r..end, w);
                    self.sex.copy_within(r..end, w);
                    self.imd.copy_within(r..end, w);
                    self.segment.copy_within(r..end, w);
                    self.risk.copy_within(r..end, w);
                    self.id.copy_within(r..end, w);
                }
                w += end - r;
            }
            r = end + 1;
        }
        self.truncate(w);
    }
}

/// Adds one count per person to `counts`, indexed by [`cell`].
pub fn count_into(people: &People, n_segments: usize, counts: &mut [u32]) {
    for i in 0..people.len() {
        let c = Cell::of(
            people.age[i],
            people.sex[i],
            people.imd[i],
            people.segment[i],
        )
        .census(n_segments);
        counts[c] += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retain_keeps_runs_in_order() {
        let mut p = People::default();
        for i in 0..10 {
            p.push(i, 0, 0, 0, i as f32);
        }
        let keep = [
            false, true, true, false, false, true, true, true, false, true,
        ];
        p.retain(&keep);
        assert_eq!(p.age, vec![1, 2, 5, 6, 7, 9]);
        assert_eq!(p.id, vec![1, 2, 5, 6, 7, 9]);
        p.retain(&[true; 6]);
        assert_eq!(p.len(), 6);
        p.retain(&[false; 6]);
        assert!(p.is_empty());
    }

    /// Drawn and appended people are the people pushed one by one, ids included.
    #[test]
    fn extend_drawn_and_append_are_pushes() {
        let person = |i: u8| Person {
            age: i,
            sex: i % 2,
            imd: i % 5,
            segment: i % 3,
            risk: i as f32 * 0.5,
        };
        let mut pushed = People::default();
        for i in 0..7 {
            let p = person(i);
            pushed.push(p.age, p.sex, p.imd, p.segment, p.risk);
        }
        let mut drawn = People::default();
        drawn.push(0, 0, 0, 0, 0.0);
        let mut i = 0;
        drawn.extend_drawn(3, || {
            i += 1;
            person(i)
        });
        let mut entrants = People::default();
        entrants.extend_drawn(3, || {
            i += 1;
            person(i)
        });
        drawn.append(&entrants);
        assert_eq!(drawn.age, pushed.age);
        assert_eq!(drawn.sex, pushed.sex);
        assert_eq!(drawn.imd, pushed.imd);
        assert_eq!(drawn.segment, pushed.segment);
        assert_eq!(drawn.risk, pushed.risk);
        assert_eq!(drawn.id, pushed.id);
        drawn.push(9, 1, 1, 1, 1.0);
        assert_eq!(drawn.id.last(), Some(&7));
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
