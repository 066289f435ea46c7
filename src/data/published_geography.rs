//! Real England from the published practices (`data::published`): the 42 ICBs (systems)
//! -> their 106 sub-ICB locations (places) -> neighbourhoods, each a group of a place's
//! practices that lie near one another and hold 30,000-50,000 registered patients.
//!
//! **People, to the person.** Populations are published fractional (62,154,630.31 in
//! all). Each practice gets a whole number of people by the largest-remainder method over
//! all of England, to England's rounded total (62,154,630), so each practice holds its
//! published population rounded down or up, and every neighbourhood, place and ICB is the
//! sum of its practices.
//!
//! **Neighbourhoods** ([`group_practices`]). A practice above 50,000 is a neighbourhood
//! alone. The place's other practices are put in the order of a Hilbert curve through
//! their coordinates (so practices next in the order are near), and that order is cut into
//! runs of 30,000-50,000 patients by dynamic programming: first the fewest patients by
//! which runs miss that range (a run of 55,000 misses it by 5,000), then the least spread
//! (the patients' summed squared distance, in km², to their run's centre). Where the order
//! forces a run out of range (neighbours of 27,000 and 28,000), it stays near the range.
//! A place whose other practices hold under 60,000 (too few for two) is one neighbourhood. No practice is split. Deterministic: no randomness, ties broken
//! by file order.
//!
//! **What synthesis draws from.** The file has no age-sex or deprivation counts. Each
//! practice's deprivation quintile is its fifth of England's people by the health
//! inequalities index (`Health Ineq WP` / population): the practices are ranked by it over
//! England and cut into population fifths (the fifth with the highest index is quintile 1,
//! the most deprived). [`crate::data::geography::Geography::real`] gives every
//! neighbourhood England's age-sex structure and its people's shares in each fifth; a run
//! then replaces both, and gives each neighbourhood its own starting segment prevalence,
//! by the people fitted to the practices' published need indices through the simulator's
//! need model (`model::practice_fit`, applied by `app::pipeline::prepare`), which needs
//! the model and so lives above this layer.

use crate::core::dims::N_IMD;
use crate::core::money::largest_remainder;
use crate::data::published::{Component, Practices};

/// Patients of a neighbourhood, at least and at most.
pub const NEIGHBOURHOOD_MIN: u64 = 30_000;
pub const NEIGHBOURHOOD_MAX: u64 = 50_000;

crate::labelled_enum! {
    /// What real England's places are: sub-ICB locations (the former CCGs, NHS England's
    /// own unit of place-based allocation) or the local authority districts in which the
    /// practices lie (where health and social care budgets are pooled), each within its
    /// ICB. Scenario files name it as `[population] place_by`.
    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum PlaceBy {
        #[default]
        SubIcb => "sub_icb",
        LocalAuthority => "local_authority",
    }
}

/// An ICB: a system.
#[derive(Debug, Clone, PartialEq)]
pub struct Icb {
    pub code: String,
    pub name: String,
}

/// A place: a sub-ICB location, or a local authority district within an ICB
/// ([`PlaceBy`]).
#[derive(Debug, Clone, PartialEq)]
pub struct SubIcb {
    pub code: String,
    pub name: String,
    pub icb: usize,
}

/// A group of one place's practices.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    pub place: usize,
    /// Indices into the practices, in curve order.
    pub practices: Vec<usize>,
    pub population: u64,
    /// Its practices' published (fractional) registered population and weighted
    /// populations by [`Component::index`], summed in curve order.
    pub published: Published,
    /// (latitude, longitude) of its practices' centroid, each weighted by its people (an
    /// unweighted mean if they have none): where the maps draw the neighbourhood.
    pub centre: (f64, f64),
}

/// The centroid of `practices` weighted by `people`: (latitude, longitude).
fn centre_of(p: &Practices, practices: &[usize], people: &[u64]) -> (f64, f64) {
    let total: u64 = practices.iter().map(|&i| people[i]).sum();
    let weight = |i: usize| {
        if total > 0 {
            people[i] as f64 / total as f64
        } else {
            1.0 / practices.len().max(1) as f64
        }
    };
    practices.iter().fold((0.0, 0.0), |(lat, lon), &i| {
        let x = &p.practices[i];
        (lat + weight(i) * x.latitude, lon + weight(i) * x.longitude)
    })
}

/// The published populations of a group of practices: registered (fractional, as the
/// allocation formula uses it) and weighted by component, each the sum of its practices'.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Published {
    pub population: f64,
    pub weighted: [f64; Component::COUNT],
}

impl Published {
    /// The sum over `practices` (indices into `p`), in their order.
    pub fn of(p: &Practices, practices: &[usize]) -> Self {
        let mut out = Published {
            population: 0.0,
            weighted: [0.0; Component::COUNT],
        };
        for &i in practices {
            let x = &p.practices[i];
            out.population += x.population;
            for (w, v) in out.weighted.iter_mut().zip(&x.weighted) {
                *w += v;
            }
        }
        out
    }

    pub fn weighted(&self, c: Component) -> f64 {
        self.weighted[c.index()]
    }
}

/// How a neighbourhood's size came about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Size {
    /// 30,000-50,000 patients.
    InRange,
    /// One practice above 50,000.
    LargePractice,
    /// Outside the range because of its place (under 60,000 patients besides its large
    /// practices) or because no cut of the curve order fits.
    Forced,
}

/// England's ICBs, places and neighbourhoods from the published practices.
#[derive(Debug, Clone, PartialEq)]
pub struct RealEngland {
    pub icbs: Vec<Icb>,
    pub places: Vec<SubIcb>,
    /// In place order, then curve order within the place.
    pub groups: Vec<Group>,
    /// Whole people of each practice (file order), summing to England's rounded total.
    pub people: Vec<u64>,
    /// Each practice's deprivation quintile (0 = most deprived) by the health
    /// inequalities index.
    pub quintile: Vec<usize>,
}

impl RealEngland {
    /// Builds the geography with sub-ICB locations as places (pure and deterministic).
    pub fn build(p: &Practices) -> Self {
        Self::build_by(p, PlaceBy::SubIcb)
    }

    /// Builds the geography with places as `by` says (pure and deterministic). A local
    /// authority whose practices lie in two ICBs is a place in each.
    pub fn build_by(p: &Practices, by: PlaceBy) -> Self {
        let pops: Vec<f64> = p.practices.iter().map(|x| x.population).collect();
        let total = pops.iter().sum::<f64>().round() as u64;
        let people = largest_remainder(&pops, total);

        let mut icbs: Vec<Icb> = p
            .icbs()
            .into_iter()
            .map(|(code, name)| Icb { code, name })
            .collect();
        icbs.sort_by(|a, b| a.code.cmp(&b.code));
        let key = |x: &crate::data::published::Practice| match by {
            PlaceBy::SubIcb => (x.place_code.clone(), x.place_name.clone()),
            PlaceBy::LocalAuthority => (x.la_code.clone(), x.la_name.clone()),
        };
        let icb_of = |x: &crate::data::published::Practice| {
            icbs.iter()
                .position(|i| i.code == x.icb_code)
                .expect("listed")
        };
        let mut places: Vec<SubIcb> = Vec::new();
        for x in &p.practices {
            let (code, name) = key(x);
            let icb = icb_of(x);
            if !places.iter().any(|s| s.code == code && s.icb == icb) {
                places.push(SubIcb { code, name, icb });
            }
        }
        places.sort_by(|a, b| (a.icb, &a.code).cmp(&(b.icb, &b.code)));
        // Each practice's place, found once.
        let place_of: Vec<usize> = p
            .practices
            .iter()
            .map(|x| {
                let (code, _) = key(x);
                let icb = icb_of(x);
                places
                    .iter()
                    .position(|s| s.code == code && s.icb == icb)
                    .expect("listed")
            })
            .collect();

        let mut groups = Vec::new();
        for k in 0..places.len() {
            let members: Vec<usize> = (0..p.practices.len())
                .filter(|&i| place_of[i] == k)
                .collect();
            let points: Vec<(f64, f64)> = members
                .iter()
                .map(|&i| (p.practices[i].latitude, p.practices[i].longitude))
                .collect();
            let sizes: Vec<u64> = members.iter().map(|&i| people[i]).collect();
            for g in group_practices(&points, &sizes) {
                let practices: Vec<usize> = g.iter().map(|&j| members[j]).collect();
                let population = practices.iter().map(|&i| people[i]).sum();
                let published = Published::of(p, &practices);
                let centre = centre_of(p, &practices, &people);
                groups.push(Group {
                    place: k,
                    practices,
                    population,
                    published,
                    centre,
                });
            }
        }
        let quintile = inequality_quintiles(p);
        RealEngland {
            icbs,
            places,
            groups,
            people,
            quintile,
        }
    }

    /// How each group's size came about.
    pub fn size_of(&self, g: &Group) -> Size {
        size_kind(g.population, g.practices.len())
    }

    /// The index of an ICB given by code or name (either case; the name with or without
    /// `NHS ` and ` ICB`).
    pub fn find_icb(&self, key: &str) -> Option<usize> {
        let k = key.trim().to_lowercase();
        let bare = |n: &str| {
            let n = n.to_lowercase();
            let n = n.strip_prefix("nhs ").unwrap_or(&n).to_string();
            n.strip_suffix(" icb").unwrap_or(&n).to_string()
        };
        self.icbs
            .iter()
            .position(|i| i.code.to_lowercase() == k || i.name.to_lowercase() == k)
            .or_else(|| self.icbs.iter().position(|i| bare(&i.name) == bare(&k)))
    }
}

fn size_kind(population: u64, practices: usize) -> Size {
    if practices == 1 && population > NEIGHBOURHOOD_MAX {
        Size::LargePractice
    } else if (NEIGHBOURHOOD_MIN..=NEIGHBOURHOOD_MAX).contains(&population) {
        Size::InRange
    } else {
        Size::Forced
    }
}

/// Each practice's fifth of England's people by the health inequalities index (0 = the
/// highest index, most deprived); ties by file order. A practice of no people has index 1.
fn inequality_quintiles(p: &Practices) -> Vec<usize> {
    let index: Vec<f64> = p
        .practices
        .iter()
        .map(|x| {
            if x.population > 0.0 {
                x.weighted(Component::HealthInequalities) / x.population
            } else {
                1.0
            }
        })
        .collect();
    let mut order: Vec<usize> = (0..index.len()).collect();
    order.sort_by(|a, b| index[*b].total_cmp(&index[*a]).then(a.cmp(b)));
    let total = p.population().max(f64::MIN_POSITIVE);
    let mut out = vec![0; index.len()];
    let mut before = 0.0;
    for i in order {
        let pop = p.practices[i].population;
        let middle = (before + pop / 2.0) / total;
        out[i] = ((middle * N_IMD as f64) as usize).min(N_IMD - 1);
        before += pop;
    }
    out
}

/// Groups one place's practices (`points` as (latitude, longitude), `sizes` in people)
/// into neighbourhoods; returns the indices of each group (see the module docs). Every
/// practice is in exactly one group.
pub fn group_practices(points: &[(f64, f64)], sizes: &[u64]) -> Vec<Vec<usize>> {
    let (large, rest): (Vec<usize>, Vec<usize>) =
        (0..sizes.len()).partition(|&i| sizes[i] > NEIGHBOURHOOD_MAX);
    let mut groups: Vec<Vec<usize>> = large.into_iter().map(|i| vec![i]).collect();
    if rest.is_empty() {
        return groups;
    }
    let order = curve_order(points, &rest);
    let rest_total: u64 = order.iter().map(|&i| sizes[i]).sum();
    if rest_total < 2 * NEIGHBOURHOOD_MIN {
        groups.push(order);
        return groups;
    }
    for (a, b) in cuts(points, sizes, &order) {
        groups.push(order[a..b].to_vec());
    }
    groups
}

/// `idx` in the order of a Hilbert curve through their coordinates (km on a local flat
/// projection); ties by index.
fn curve_order(points: &[(f64, f64)], idx: &[usize]) -> Vec<usize> {
    let xy = local_km(points, idx);
    let (mut lo, mut hi) = ((f64::MAX, f64::MAX), (f64::MIN, f64::MIN));
    for &(x, y) in &xy {
        lo = (lo.0.min(x), lo.1.min(y));
        hi = (hi.0.max(x), hi.1.max(y));
    }
    let span = (hi.0 - lo.0).max(hi.1 - lo.1).max(1e-9);
    const SIDE: u32 = 1 << 16;
    let cell = |v: f64, l: f64| (((v - l) / span * (SIDE - 1) as f64).round() as u32).min(SIDE - 1);
    let mut keyed: Vec<(u64, usize)> = idx
        .iter()
        .zip(&xy)
        .map(|(&i, &(x, y))| (hilbert(SIDE, cell(x, lo.0), cell(y, lo.1)), i))
        .collect();
    keyed.sort();
    keyed.into_iter().map(|(_, i)| i).collect()
}

/// Coordinates of `idx` in km east and north of their mean.
fn local_km(points: &[(f64, f64)], idx: &[usize]) -> Vec<(f64, f64)> {
    let n = idx.len().max(1) as f64;
    let lat0 = idx.iter().map(|&i| points[i].0).sum::<f64>() / n;
    let lon0 = idx.iter().map(|&i| points[i].1).sum::<f64>() / n;
    let east = 111.32 * lat0.to_radians().cos();
    idx.iter()
        .map(|&i| ((points[i].1 - lon0) * east, (points[i].0 - lat0) * 110.57))
        .collect()
}

/// Position of cell (x, y) along the Hilbert curve filling a `side` x `side` grid.
fn hilbert(side: u32, mut x: u32, mut y: u32) -> u64 {
    let mut d: u64 = 0;
    let mut s = side / 2;
    while s > 0 {
        let rx = u32::from(x & s > 0);
        let ry = u32::from(y & s > 0);
        d += u64::from(s) * u64::from(s) * u64::from((3 * rx) ^ ry);
        if ry == 0 {
            if rx == 1 {
                x = side - 1 - x;
                y = side - 1 - y;
            }
            std::mem::swap(&mut x, &mut y);
        }
        s /= 2;
    }
    d
}

/// Cuts `order` into runs: the fewest patients outside 30,000-50,000 summed over the
/// runs (a run of 55,000 counts 5,000; so where the order forces a run out of range, it is
/// as near the range as can be), then the least spread. Returns (start, end) of each run.
fn cuts(points: &[(f64, f64)], sizes: &[u64], order: &[usize]) -> Vec<(usize, usize)> {
    let n = order.len();
    let xy = local_km(points, order);
    // Prefix sums of w, w x, w y, w (x² + y²) for the spread of any run in O(1).
    let mut pre = vec![[0.0f64; 4]; n + 1];
    let mut people = vec![0u64; n + 1];
    for (k, (&i, &(x, y))) in order.iter().zip(&xy).enumerate() {
        let w = sizes[i] as f64;
        let add = [w, w * x, w * y, w * (x * x + y * y)];
        for c in 0..4 {
            pre[k + 1][c] = pre[k][c] + add[c];
        }
        people[k + 1] = people[k] + sizes[i];
    }
    let spread = |a: usize, b: usize| {
        let s: Vec<f64> = (0..4).map(|c| pre[b][c] - pre[a][c]).collect();
        if s[0] <= 0.0 {
            0.0
        } else {
            (s[3] - (s[1] * s[1] + s[2] * s[2]) / s[0]).max(0.0)
        }
    };
    // best[b] = (patients outside the range, spread, start of the last run) for
    // order[..b].
    let mut best: Vec<(u64, f64, usize)> = vec![(u64::MAX, f64::INFINITY, 0); n + 1];
    best[0] = (0, 0.0, 0);
    for b in 1..=n {
        for a in 0..b {
            if best[a].0 == u64::MAX {
                continue;
            }
            let size = people[b] - people[a];
            let out =
                NEIGHBOURHOOD_MIN.saturating_sub(size) + size.saturating_sub(NEIGHBOURHOOD_MAX);
            let cand = (best[a].0 + out, best[a].1 + spread(a, b), a);
            if (cand.0, cand.1) < (best[b].0, best[b].1) {
                best[b] = cand;
            }
        }
    }
    let mut runs = Vec::new();
    let mut b = n;
    while b > 0 {
        let a = best[b].2;
        runs.push((a, b));
        b = a;
    }
    runs.reverse();
    runs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hilbert_visits_every_cell_once() {
        let mut seen = [false; 16];
        for x in 0..4 {
            for y in 0..4 {
                let d = hilbert(4, x, y) as usize;
                assert!(!seen[d]);
                seen[d] = true;
            }
        }
        // Consecutive cells along the curve are neighbours.
        let mut at = [(0, 0); 16];
        for x in 0..4 {
            for y in 0..4 {
                at[hilbert(4, x, y) as usize] = (x as i32, y as i32);
            }
        }
        for w in at.windows(2) {
            assert_eq!((w[0].0 - w[1].0).abs() + (w[0].1 - w[1].1).abs(), 1);
        }
    }

    #[test]
    fn a_small_place_is_one_neighbourhood_and_a_large_practice_is_alone() {
        let points = [(52.0, -1.0), (52.01, -1.0), (52.02, -1.0), (53.0, -1.0)];
        let groups = group_practices(&points, &[20_000, 15_000, 20_000, 70_000]);
        assert_eq!(groups, vec![vec![3], vec![0, 1, 2]]);
    }

    #[test]
    fn near_practices_are_grouped_in_range() {
        // Two towns far apart, each of four practices of 10,000: two neighbourhoods, one
        // per town.
        let mut points = Vec::new();
        for town in [(52.0, -1.0), (54.0, -2.0)] {
            for k in 0..4 {
                points.push((town.0 + 0.01 * k as f64, town.1));
            }
        }
        let order = [0, 4, 1, 5, 2, 6, 3, 7];
        let shuffled: Vec<(f64, f64)> = order.iter().map(|&i| points[i]).collect();
        let mut groups = group_practices(&shuffled, &[10_000; 8]);
        for g in &mut groups {
            g.sort();
        }
        groups.sort();
        assert_eq!(groups, vec![vec![0, 2, 4, 6], vec![1, 3, 5, 7]]);
    }
}
