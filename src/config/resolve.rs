//! Scenarios resolved against the datasets and a geography: every name a scenario file
//! gives (segments, places, neighbourhoods) becomes an index or a mask once, before
//! anything is simulated, so nothing later looks a name up. Unknown names are errors that
//! name the file and line where they were written, even through `extends`.

use std::path::Path;

use crate::config::located::Located;
use crate::config::scenario::{scenario_error, Scenario, Target};
use crate::core::dims::{N_BANDS, N_IMD};
use crate::core::error::{CapsimError, Result};
use crate::data::datasets::Datasets;
use crate::data::geography::Geography;
use crate::data::published_geography::PlaceBy;

/// Who an intervention reaches, as masks over the model's dimensions.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedTarget {
    /// By segment index in the datasets.
    pub segments: Vec<bool>,
    /// Age bands reached, an inclusive range of band indices.
    pub bands: (usize, usize),
    /// By deprivation quintile, index 0 = most deprived.
    pub quintiles: [bool; N_IMD],
    /// By position in the geography the scenario was resolved against.
    pub neighbourhoods: Vec<bool>,
    /// With declared capacity, each neighbourhood's share of it: its share of the target's
    /// people at the start (population x age-sex shares x quintile shares x the datasets'
    /// segment prevalence by age), so that enrolment capped neighbourhood by neighbourhood
    /// never exceeds the capacity in total. Empty without capacity.
    pub capacity_shares: Vec<f64>,
}

/// A scenario's interventions resolved against the datasets and the simulated geography:
/// one target per intervention, in the scenario's order.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    pub targets: Vec<ResolvedTarget>,
    /// The current beds of areas (system, place or neighbourhood names), from `[capacity]
    /// beds_file`; empty without one.
    pub bed_base: Vec<(String, f64)>,
}

/// Each neighbourhood's share of a target's people at the start (see
/// [`ResolvedTarget::capacity_shares`]); all zero when no neighbourhood holds any.
fn capacity_shares(t: &ResolvedTarget, datasets: &Datasets, geography: &Geography) -> Vec<f64> {
    let people: Vec<f64> = geography
        .neighbourhoods
        .iter()
        .zip(&t.neighbourhoods)
        .map(|(n, on)| {
            if !on {
                return 0.0;
            }
            let quintiles: f64 = (0..N_IMD)
                .filter(|q| t.quintiles[*q])
                .map(|q| n.imd[q])
                .sum();
            let ages: f64 = (t.bands.0..=t.bands.1)
                .map(|b| {
                    let segments: f64 = t
                        .segments
                        .iter()
                        .enumerate()
                        .filter(|(_, on)| **on)
                        .map(|(g, _)| datasets.prevalence[[b, g]])
                        .sum();
                    n.age_sex[b].iter().sum::<f64>() * segments
                })
                .sum();
            n.population as f64 * quintiles * ages
        })
        .collect();
    let total: f64 = people.iter().sum();
    if total > 0.0 {
        people.iter().map(|p| p / total).collect()
    } else {
        people
    }
}

/// Names allowed in a list, for error messages: the first 12 and a count.
fn allowed_text(allowed: &[&str]) -> String {
    let mut s: Vec<String> = allowed.iter().take(12).map(|x| x.to_string()).collect();
    if allowed.len() > 12 {
        s.push(format!("... ({} in all)", allowed.len()));
    }
    s.join(", ")
}

/// For each listed name, its position among `names`; unknown names are errors naming the
/// file and line that gave them (`fallback` when the value came from no file).
fn positions(
    fallback: &Path,
    field: &str,
    listed: &[Located<String>],
    names: &[&str],
) -> Result<Vec<usize>> {
    listed
        .iter()
        .map(|v| {
            names
                .iter()
                .position(|n| *n == v.as_str())
                .ok_or_else(|| unknown(fallback, field, v, names))
        })
        .collect()
}

fn unknown(fallback: &Path, field: &str, v: &Located<String>, names: &[&str]) -> CapsimError {
    let (file, line) = match v.origin() {
        Some(o) => (o.file.as_path(), Some(o.line)),
        None => (fallback, None),
    };
    scenario_error(
        file,
        line,
        field,
        format!(
            "`{}` does not exist; allowed: {}",
            v.as_str(),
            allowed_text(names)
        ),
    )
}

/// A mask over `names` of those equal to a listed name (all when none is listed).
fn mask_of_names(names: &[&str], listed: &[Located<String>]) -> Vec<bool> {
    names
        .iter()
        .map(|n| listed.is_empty() || listed.iter().any(|v| v.as_str() == *n))
        .collect()
}

/// A mask over `len` positions of the listed ones (all when none is listed).
fn mask_of(len: usize, listed: &[usize], none_listed: bool) -> Vec<bool> {
    let mut m = vec![none_listed; len];
    for i in listed {
        m[*i] = true;
    }
    m
}

/// Neighbourhoods of `g` in the listed places and among the listed neighbourhoods.
fn neighbourhood_mask(
    g: &Geography,
    fallback: &Path,
    field: &str,
    places: &[Located<String>],
    neighbourhoods: &[Located<String>],
) -> Result<Vec<bool>> {
    let place_names: Vec<&str> = g.places.iter().map(|p| p.name.as_str()).collect();
    let nb_names: Vec<&str> = g.neighbourhoods.iter().map(|n| n.name.as_str()).collect();
    let in_places = positions(fallback, &format!("{field}places"), places, &place_names)?;
    positions(
        fallback,
        &format!("{field}neighbourhoods"),
        neighbourhoods,
        &nb_names,
    )?;
    let place_mask = mask_of(g.places.len(), &in_places, places.is_empty());
    let nb_mask = mask_of_names(&nb_names, neighbourhoods);
    Ok(g.neighbourhoods
        .iter()
        .zip(nb_mask)
        .map(|(nb, listed)| listed && place_mask[nb.place])
        .collect())
}

/// Bands covered by a target's age limits, as an inclusive range.
fn target_bands(t: &Target) -> (usize, usize) {
    let lo = t.age_min.map_or(0, |a| a as usize / 5);
    let hi = t
        .age_max
        .map_or(N_BANDS - 1, |a| (a as usize / 5).min(N_BANDS - 1));
    (lo, hi)
}

/// Quintile mask of a target (all when none listed).
fn target_quintiles(t: &Target) -> [bool; N_IMD] {
    let mut m = [t.imd_quintiles.is_empty(); N_IMD];
    for q in &t.imd_quintiles {
        m[*q as usize - 1] = true;
    }
    m
}

impl Scenario {
    /// Resolves the scenario's names against the datasets and the geography it simulates:
    /// the population's places and neighbourhoods must be in `geography`, and so must every
    /// intervention's target.
    pub fn resolve(&self, datasets: &Datasets, geography: &Geography) -> Result<Resolved> {
        self.population_mask(geography)?;
        let segment_names: Vec<&str> = datasets.segments.iter().map(|s| s.id.as_str()).collect();
        let mut targets = Vec::with_capacity(self.interventions.len());
        for (k, i) in self.interventions.iter().enumerate() {
            let t = &i.target;
            let segments = positions(
                &i.file,
                &format!("intervention[{k}].target.segments"),
                &t.segments,
                &segment_names,
            )?;
            let neighbourhoods = neighbourhood_mask(
                geography,
                &i.file,
                &format!("intervention[{k}].target."),
                &t.places,
                &t.neighbourhoods,
            )?;
            let mut target = ResolvedTarget {
                segments: mask_of(segment_names.len(), &segments, t.segments.is_empty()),
                bands: target_bands(t),
                quintiles: target_quintiles(t),
                neighbourhoods,
                capacity_shares: Vec::new(),
            };
            if i.capacity.is_some() {
                target.capacity_shares = capacity_shares(&target, datasets, geography);
            }
            targets.push(target);
        }
        Ok(Resolved {
            targets,
            bed_base: self.bed_base(geography)?,
        })
    }

    /// The bed base of `[capacity] beds_file`, its areas checked against `geography`.
    fn bed_base(&self, geography: &Geography) -> Result<Vec<(String, f64)>> {
        let Some(path) = self.capacity.as_ref().and_then(|c| c.beds_file.as_ref()) else {
            return Ok(Vec::new());
        };
        let areas: Vec<&str> = geography
            .systems
            .iter()
            .map(String::as_str)
            .chain(geography.places.iter().map(|p| p.name.as_str()))
            .chain(geography.neighbourhoods.iter().map(|n| n.name.as_str()))
            .collect();
        crate::data::datasets::load_bed_base(path, &areas)
    }

    /// Checks names against the datasets and the geography.
    pub fn check(&self, datasets: &Datasets, geography: &Geography) -> Result<()> {
        self.resolve(datasets, geography).map(|_| ())
    }

    /// The neighbourhoods of `geography` the population keeps.
    fn population_mask(&self, geography: &Geography) -> Result<Vec<bool>> {
        neighbourhood_mask(
            geography,
            &self.file,
            "population.",
            &self.population.places,
            &self.population.neighbourhoods,
        )
    }

    /// The geography this scenario simulates: its geography folder or preset, narrowed to
    /// the listed places and neighbourhoods.
    pub fn geography(&self, datasets: &Datasets) -> Result<Geography> {
        let pop = &self.population;
        let real = pop.geography.is_none() && pop.preset.is_real();
        if !real && (pop.practices.is_some() || pop.place_by != PlaceBy::SubIcb) {
            let field = match pop.practices {
                Some(_) => "population.practices",
                None => "population.place_by",
            };
            return Err(scenario_error(
                &self.file,
                None,
                field,
                format!(
                    "it applies to real England only (preset = \"england\" or an ICB code \
                     such as \"QF7\"), not to {}",
                    pop.label()
                ),
            ));
        }
        let g = match &pop.geography {
            Some(dir) => Geography::from_dir(dir)?,
            None => Geography::preset_from(datasets, pop.preset, &pop.real_source())?,
        };
        self.check(datasets, &g)?;
        let keep = self.population_mask(&g)?;
        let Geography {
            systems,
            system_codes,
            places,
            neighbourhoods,
        } = g;
        Ok(Geography {
            systems,
            system_codes,
            places,
            neighbourhoods: neighbourhoods
                .into_iter()
                .zip(keep)
                .filter_map(|(nb, k)| k.then_some(nb))
                .collect(),
        })
    }
}
