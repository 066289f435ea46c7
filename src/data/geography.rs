//! System -> place -> neighbourhood, and the population presets built from the datasets.
//!
//! `england` is real England from NHS England's published practices (its ICBs, sub-ICB
//! locations and practices grouped into neighbourhoods: [`Geography::real`]), and an ICB
//! code (`QF7`) one of its ICBs; the bundled scenarios run [`DEFAULT_ICB`].
//! `invented` is an invented integrated care system (`datasets/default_system.csv`), a
//! fixture for tests. `england-invented` is all of England generated from the datasets
//! instead of the published practices: the national population split into `england_neighbourhoods` neighbourhoods of drawn size and archetype, grouped
//! into `england_systems` systems of `england_places_per_system` places. It uses a fixed
//! seed so that the preset is the same population whatever the run seed.
//!
//! A geography can also be a folder ([`Geography::from_dir`]), such as `capsim import
//! gp-lists` writes from NHS Digital's registered-patient lists: `neighbourhoods.csv`
//! (one row per neighbourhood: its system, place, list size and deprivation shares) and
//! `age_sex.csv` (its registered patients by single year of age and sex). Its
//! neighbourhoods carry their own single-year age structure, which synthesis draws from.

use rand::RngExt;
use rand_distr::{Distribution, LogNormal, Normal};

use std::path::Path;
use std::sync::Arc;

use crate::core::dims::{band_of, N_BANDS, N_IMD, N_SEX};
use crate::core::error::{CapsimError, Result};
use crate::core::money::largest_remainder;
use crate::core::rng::{Purpose, StreamKey};
use crate::data::datasets::{Datasets, Table};
use crate::data::published::Practices;
use crate::data::published_geography::{PlaceBy, Published, RealEngland};

/// A named population preset. Scenario files and `--population` name it by its id, or
/// name one real ICB by its code (`QF7`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Preset {
    /// Real England from NHS England's published practices: the 42 ICBs, their 106
    /// sub-ICB locations as places, 1,602 neighbourhoods, 62.15 million people.
    England,
    /// One ICB of real England, by its position in code order (`published::ICB_CODES`);
    /// `preset = "QF7"` or `capsim run --icb CODE` sets it. The bundled scenarios run
    /// [`DEFAULT_ICB`].
    Icb(u8),
    /// The invented ICS of `datasets/default_system.csv` (Northvale and Eastmoor, about 1.5
    /// million people): a small, fixed fixture for tests and examples whose place names
    /// do not change with NHS reorganisations.
    Invented,
    /// All of England invented from the datasets' archetypes (42 systems, about 1,250
    /// neighbourhoods, about 58 million people): the benchmark of the synthetic engine and
    /// the population `capsim calibrate` compares with national figures.
    EnglandInvented,
}

/// The ICB the bundled scenarios simulate: NHS South Yorkshire ICB (QF7), 1.49 million
/// registered people in four places (Barnsley, Doncaster, Rotherham, Sheffield) and 38
/// neighbourhoods, a system of the size the brief names with several places, each a local
/// authority, from Sheffield's city to former coalfield towns.
pub const DEFAULT_ICB: &str = "QF7";

impl Preset {
    /// The presets named on their own (an ICB is named by its code).
    pub const ALL: [Preset; 3] = [Preset::England, Preset::Invented, Preset::EnglandInvented];

    /// The preset of the bundled scenarios: [`DEFAULT_ICB`].
    pub fn default_icb() -> Preset {
        Preset::Icb(
            crate::data::published::ICB_CODES
                .iter()
                .position(|c| *c == DEFAULT_ICB)
                .expect("the default ICB is one of the codes") as u8,
        )
    }

    pub fn id(self) -> &'static str {
        match self {
            Preset::England => "england",
            Preset::Invented => "invented",
            Preset::EnglandInvented => "england-invented",
            Preset::Icb(i) => crate::data::published::ICB_CODES
                .get(i as usize)
                .copied()
                .unwrap_or("icb"),
        }
    }

    /// True for real England or one of its ICBs, whose people carry NHS England's
    /// published weighted populations.
    pub fn is_real(self) -> bool {
        matches!(self, Preset::England | Preset::Icb(_))
    }
}

impl std::str::FromStr for Preset {
    type Err = String;

    /// An id of [`Preset::ALL`] (`england-real`, the name real England had before it
    /// became `england`, is still read), or an ICB code in any case.
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        if s == "england-real" {
            return Ok(Preset::England);
        }
        if let Some(p) = Preset::ALL.into_iter().find(|p| p.id() == s) {
            return Ok(p);
        }
        match crate::data::published::ICB_CODES
            .iter()
            .position(|c| c.eq_ignore_ascii_case(s))
        {
            Some(i) => Ok(Preset::Icb(i as u8)),
            None => {
                let ids: Vec<&str> = Preset::ALL.iter().map(|p| p.id()).collect();
                Err(format!(
                    "`{s}` is not a population preset; use {}, or an ICB code such as {DEFAULT_ICB} \
                     (`capsim list icbs` lists them)",
                    ids.join(" or ")
                ))
            }
        }
    }
}

impl serde::Serialize for Preset {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.id())
    }
}

impl<'de> serde::Deserialize<'de> for Preset {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Place {
    pub name: String,
    pub system: usize,
    /// Its sub-ICB location code (`00L`) where the geography has one (real England, an
    /// imported folder with codes); `None` for the invented presets, whose places have
    /// only names. Output tables write it beside the name (`place_code`).
    pub code: Option<String>,
}

/// Where a neighbourhood is: the population-weighted centroid of its practices, in
/// degrees (WGS84), which the maps draw it at.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Location {
    pub latitude: f64,
    pub longitude: f64,
}

/// A neighbourhood (primary care network) and what its people are drawn from.
#[derive(Debug, Clone, PartialEq)]
pub struct Neighbourhood {
    /// Position in the full preset: random streams are keyed by it, so a neighbourhood
    /// draws the same numbers whether it is simulated alone or with all the others.
    pub id: u64,
    pub name: String,
    pub place: usize,
    /// The archetype it was drawn from; `None` for an imported neighbourhood, whose
    /// structure is its own.
    pub archetype: Option<usize>,
    pub population: u64,
    /// Share of the population in each age band and sex, `[band][sex]`, summing to 1.
    pub age_sex: [[f64; N_SEX]; N_BANDS],
    /// For an imported neighbourhood, the share at each single year of age (0 to 94, then
    /// 95 and over: [`LIST_AGES`]) and sex, summing to 1: the registered lists' own
    /// structure, finer than the bands, which synthesis draws ages from. `None` for the
    /// presets, whose ages are drawn within bands.
    pub ages: Option<Vec<[f64; N_SEX]>>,
    /// Share in each deprivation quintile.
    pub imd: [f64; N_IMD],
    /// For a neighbourhood of real England ([`Geography::real`]), its practices' published
    /// registered and weighted populations (the `published` capitation basis shares by
    /// them); `None` for the invented presets and imported lists, which have none.
    pub published: Option<Published>,
    /// For a neighbourhood of real England, its practices' population-weighted centroid;
    /// `None` for the invented presets and imported lists, which have no coordinates (the
    /// maps then say so instead of drawing).
    pub location: Option<Location>,
    /// For a neighbourhood of real England fitted to its practices' published need indices
    /// (`model::practice_fit`), its own starting segment prevalence, flat
    /// `[band][sex][quintile][segment]` (each row summing to 1): its people's segments
    /// carry its published health-inequalities index. `None` (the invented presets and
    /// imported lists) draws from the model's prevalence by band and quintile.
    pub segments: Option<Arc<[f64]>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Geography {
    pub systems: Vec<String>,
    /// Each system's ICB code (`QHM`), beside [`Geography::systems`]; `None` where the
    /// geography has none (the invented presets). Output tables write it as `system_code`.
    pub system_codes: Vec<Option<String>>,
    pub places: Vec<Place>,
    pub neighbourhoods: Vec<Neighbourhood>,
}

/// The neighbourhoods of a geography folder.
pub const NEIGHBOURHOODS_FILE: &str = "neighbourhoods.csv";
/// The registered patients of each neighbourhood by single year of age and sex.
pub const AGE_SEX_FILE: &str = "age_sex.csv";
/// Single years of age in registered lists: 0 to 94, then 95 and over, as NHS Digital
/// publishes them.
pub const LIST_AGES: usize = 96;

/// Labels of the list ages: `0` to `94`, then `95+`.
pub fn list_age_labels() -> Vec<String> {
    (0..LIST_AGES)
        .map(|a| {
            if a + 1 == LIST_AGES {
                format!("{a}+")
            } else {
                a.to_string()
            }
        })
        .collect()
}

/// Seed of the England preset's generation: a constant, so the preset never changes
/// with the run seed.
const ENGLAND_SEED: u64 = 20_231_231;

/// Where real England comes from: NHS England's practice file (the bundled 2024/25 one
/// unless a scenario or `--practices` names another, with the same columns) and what its
/// places are. The invented presets ignore it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct RealSource {
    pub practices: Option<std::path::PathBuf>,
    pub place_by: PlaceBy,
}

impl RealSource {
    /// Reads the practices.
    pub fn practices(&self) -> Result<Practices> {
        match &self.practices {
            Some(file) => Practices::from_file(file),
            None => Practices::bundled(),
        }
    }

    /// Reads the practices and builds real England's ICBs, places and neighbourhoods.
    pub fn england(&self) -> Result<RealEngland> {
        Ok(RealEngland::build_by(&self.practices()?, self.place_by))
    }
}

impl Geography {
    /// A preset, real England from the bundled practice file with sub-ICB places.
    pub fn preset(d: &Datasets, preset: Preset) -> Result<Self> {
        Self::preset_from(d, preset, &RealSource::default())
    }

    /// A preset, real England from `source`.
    pub fn preset_from(d: &Datasets, preset: Preset, source: &RealSource) -> Result<Self> {
        let mut g = match preset {
            Preset::Invented => Self::default_system(d),
            Preset::EnglandInvented => Self::england(d)?,
            Preset::England => Self::real(&source.england()?, d, None),
            // Ids are positions in the whole of real England, so an ICB draws the same
            // numbers alone as within England.
            Preset::Icb(_) => {
                let e = source.england()?;
                let Some(i) = e.find_icb(preset.id()) else {
                    return Err(CapsimError::InvalidSetting {
                        setting: "--icb".into(),
                        problem: format!(
                            "ICB {} has no practice in the practice file; it has {}",
                            preset.id(),
                            e.icbs
                                .iter()
                                .map(|i| i.code.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    });
                };
                return Ok(Self::real(&e, d, Some(i)));
            }
        };
        for (i, nb) in g.neighbourhoods.iter_mut().enumerate() {
            nb.id = i as u64;
        }
        Ok(g)
    }

    /// Only the neighbourhoods for which `keep(neighbourhood, place)` holds, with the
    /// places and systems they belong to.
    pub fn restricted(&self, keep: impl Fn(&str, &str) -> bool) -> Geography {
        let neighbourhoods: Vec<Neighbourhood> = self
            .neighbourhoods
            .iter()
            .filter(|nb| keep(&nb.name, &self.places[nb.place].name))
            .cloned()
            .collect();
        Geography {
            systems: self.systems.clone(),
            system_codes: self.system_codes.clone(),
            places: self.places.clone(),
            neighbourhoods,
        }
    }

    /// The bundled system, as listed in `default_system.csv`.
    pub fn default_system(d: &Datasets) -> Self {
        let mut g = Geography {
            systems: Vec::new(),
            system_codes: Vec::new(),
            places: Vec::new(),
            neighbourhoods: Vec::new(),
        };
        for row in &d.default_system {
            let s = index_of(&mut g.systems, &row.system);
            let p = match g
                .places
                .iter()
                .position(|p| p.name == row.place && p.system == s)
            {
                Some(p) => p,
                None => {
                    g.places.push(Place {
                        name: row.place.clone(),
                        system: s,
                        code: None,
                    });
                    g.places.len() - 1
                }
            };
            g.neighbourhoods.push(neighbourhood(
                d,
                row.neighbourhood.clone(),
                p,
                row.archetype,
                row.registered_population,
            ));
        }
        g.system_codes = vec![None; g.systems.len()];
        g
    }

    /// All of England, generated from the datasets.
    pub fn england(d: &Datasets) -> Result<Self> {
        let p = &d.parameters;
        let mut rng = StreamKey {
            seed: ENGLAND_SEED,
            run: 0,
            neighbourhood: 0,
            year: 0,
            purpose: Purpose::Geography,
        }
        .rng();
        let total_people = d.population.sum().round() as u64;
        let n = p.england_neighbourhoods;

        // Archetypes in their national shares, exactly, in a shuffled order.
        let shares: Vec<f64> = d.archetypes.iter().map(|a| a.england_share).collect();
        let counts = largest_remainder(&shares, n as u64);
        let mut archetypes: Vec<usize> = counts
            .iter()
            .enumerate()
            .flat_map(|(a, c)| std::iter::repeat_n(a, *c as usize))
            .collect();
        for i in (1..archetypes.len()).rev() {
            let j = rng.random_range(0..=i);
            archetypes.swap(i, j);
        }

        // Sizes drawn, clamped, then scaled so they sum to the national population exactly.
        let size =
            Normal::new(p.neighbourhood_size_mean, p.neighbourhood_size_sd).map_err(|e| {
                CapsimError::InvalidSetting {
                    setting: "parameters.csv: neighbourhood_size_sd".into(),
                    problem: e.to_string(),
                }
            })?;
        let raw: Vec<f64> = (0..n)
            .map(|_| {
                size.sample(&mut rng)
                    .clamp(p.neighbourhood_size_min, p.neighbourhood_size_max)
            })
            .collect();
        let sizes = largest_remainder(&raw, total_people);

        // Systems of varied size (0.5-3 million people): lognormal weights.
        let ns = p.england_systems;
        let per_system_min = p.england_places_per_system as u64;
        let weights: Vec<f64> = (0..ns)
            .map(|_| LogNormal::new(0.0, 0.45).expect("valid").sample(&mut rng))
            .collect();
        let spare = (n as u64).saturating_sub(per_system_min * ns as u64);
        let extra = largest_remainder(&weights, spare);

        let mut g = Geography {
            systems: Vec::with_capacity(ns),
            system_codes: Vec::with_capacity(ns),
            places: Vec::new(),
            neighbourhoods: Vec::with_capacity(n),
        };
        let mut k = 0;
        for (s, extra) in extra.iter().enumerate() {
            g.systems.push(format!("ICS {:02}", s + 1));
            g.system_codes.push(None);
            let count = (per_system_min + extra) as usize;
            let places = p.england_places_per_system.min(count);
            for j in 0..count {
                let place_in_system = j * places / count;
                if j == 0 || place_in_system != ((j - 1) * places / count) {
                    g.places.push(Place {
                        name: format!("ICS {:02} Place {}", s + 1, place_in_system + 1),
                        system: s,
                        code: None,
                    });
                }
                let place = g.places.len() - 1;
                g.neighbourhoods.push(neighbourhood(
                    d,
                    format!("ICS {:02} PCN {:03}", s + 1, j + 1),
                    place,
                    archetypes[k],
                    sizes[k],
                ));
                k += 1;
            }
        }
        Ok(g)
    }

    /// A geography folder (see the module docs and `datasets/README.md`). Every bad cell
    /// is an error naming the file, line and column. Neighbourhoods are numbered in file
    /// order, which keys their random streams.
    pub fn from_dir(dir: &Path) -> Result<Self> {
        let nbs = Table::read(&dir.join(NEIGHBOURHOODS_FILE))?;
        let cols = [
            "system",
            "place",
            "neighbourhood",
            "registered_population",
            "imd_1",
            "imd_2",
            "imd_3",
            "imd_4",
            "imd_5",
        ];
        let system = nbs.text("system", &cols)?;
        let place = nbs.text("place", &cols)?;
        let name = nbs.text("neighbourhood", &cols)?;
        let population = nbs.number_in(
            "registered_population",
            &cols,
            ("registered patients", 1.0, 1e8),
        )?;
        // Codes, where the folder has them (`capsim import gp-lists` writes them).
        let code_of = |c: &'static str| nbs.has(c).then(|| nbs.text(c, &[c])).transpose();
        let system_codes = code_of("system_code")?;
        let place_codes = code_of("place_code")?;
        let imd_cols = ["imd_1", "imd_2", "imd_3", "imd_4", "imd_5"];
        let imd: Vec<_> = imd_cols
            .iter()
            .map(|c| nbs.number_in(c, &cols, ("a share", 0.0, 1.0)))
            .collect::<Result<_>>()?;
        let mut g = Geography {
            systems: Vec::new(),
            system_codes: Vec::new(),
            places: Vec::new(),
            neighbourhoods: Vec::new(),
        };
        for r in 0..nbs.height() {
            if g.neighbourhoods.iter().any(|n| n.name == name.values[r]) {
                return Err(nbs.invalid("neighbourhood", r, &name.values[r], "a unique name"));
            }
            let people = population.values[r];
            if people.fract() != 0.0 {
                return Err(nbs.invalid(
                    "registered_population",
                    r,
                    &people.to_string(),
                    "a whole number of people",
                ));
            }
            let mut shares = [0.0; N_IMD];
            for (q, col) in imd.iter().enumerate() {
                shares[q] = col.values[r];
            }
            let sum: f64 = shares.iter().sum();
            if (sum - 1.0).abs() > 1e-6 {
                return Err(nbs.invalid(
                    "imd_5",
                    r,
                    &format!("{} (imd_1 to imd_5 sum to {sum})", shares[N_IMD - 1]),
                    "shares summing to 1",
                ));
            }
            shares.iter_mut().for_each(|x| *x /= sum);
            let s = index_of(&mut g.systems, &system.values[r]);
            if g.system_codes.len() < g.systems.len() {
                g.system_codes
                    .push(system_codes.as_ref().map(|c| c.values[r].clone()));
            }
            let p = match g
                .places
                .iter()
                .position(|p| p.name == place.values[r] && p.system == s)
            {
                Some(p) => p,
                None => {
                    if g.places.iter().any(|p| p.name == place.values[r]) {
                        return Err(nbs.invalid(
                            "place",
                            r,
                            &place.values[r],
                            "a place in one system only",
                        ));
                    }
                    g.places.push(Place {
                        name: place.values[r].clone(),
                        system: s,
                        code: place_codes.as_ref().map(|c| c.values[r].clone()),
                    });
                    g.places.len() - 1
                }
            };
            g.neighbourhoods.push(Neighbourhood {
                id: r as u64,
                name: name.values[r].clone(),
                place: p,
                archetype: None,
                population: people as u64,
                age_sex: [[0.0; N_SEX]; N_BANDS],
                ages: None,
                imd: shares,
                published: None,
                location: None,
                segments: None,
            });
        }
        if g.neighbourhoods.is_empty() {
            return Err(nbs.whole("neighbourhood", "at least one neighbourhood is needed"));
        }

        add_list_ages(dir, &nbs, &mut g)?;
        Ok(g)
    }

    /// Real England from NHS England's published practices (`data::published_geography`): every ICB, or only `icb` (an index into
    /// [`RealEngland::icbs`]). Systems are named `NAME (CODE)`, places `NAME (CODE)`,
    /// neighbourhoods `CODE N01`... by place code; neighbourhood ids are positions in the
    /// whole of England, so an ICB draws the same numbers alone as within England (and
    /// `model::practice_fit` finds each neighbourhood's practices by it). Its people have
    /// England's age-sex structure and their practices' quintiles by the inequalities index
    /// until `model::practice_fit` fits them to the published need indices, as every run
    /// does.
    pub fn real(e: &RealEngland, d: &Datasets, icb: Option<usize>) -> Geography {
        let age_sex = england_age_sex(d);
        let mut g = Geography {
            systems: Vec::new(),
            system_codes: Vec::new(),
            places: Vec::new(),
            neighbourhoods: Vec::new(),
        };
        let mut place_index = vec![usize::MAX; e.places.len()];
        let mut system_index = vec![usize::MAX; e.icbs.len()];
        let mut within_place = vec![0; e.places.len()];
        for (id, grp) in e.groups.iter().enumerate() {
            let place = &e.places[grp.place];
            within_place[grp.place] += 1;
            if icb.is_some_and(|i| i != place.icb) {
                continue;
            }
            if system_index[place.icb] == usize::MAX {
                let s = &e.icbs[place.icb];
                system_index[place.icb] = g.systems.len();
                g.systems.push(format!("{} ({})", s.name, s.code));
                g.system_codes.push(Some(s.code.clone()));
            }
            if place_index[grp.place] == usize::MAX {
                place_index[grp.place] = g.places.len();
                g.places.push(Place {
                    name: format!("{} ({})", place.name, place.code),
                    system: system_index[place.icb],
                    code: Some(place.code.clone()),
                });
            }
            let mut imd = [0.0; N_IMD];
            for &i in &grp.practices {
                imd[e.quintile[i]] += e.people[i] as f64;
            }
            let total: f64 = imd.iter().sum();
            imd.iter_mut().for_each(|x| *x /= total.max(1.0));
            g.neighbourhoods.push(Neighbourhood {
                id: id as u64,
                name: format!("{} N{:02}", place.code, within_place[grp.place]),
                place: place_index[grp.place],
                archetype: None,
                population: grp.population,
                age_sex,
                ages: None,
                imd,
                published: Some(grp.published),
                location: Some(Location {
                    latitude: grp.centre.0,
                    longitude: grp.centre.1,
                }),
                segments: None,
            });
        }
        g
    }

    /// True when every neighbourhood carries published weighted populations (real England
    /// or one of its ICBs), as the `published` capitation basis needs.
    pub fn has_published(&self) -> bool {
        !self.neighbourhoods.is_empty() && self.neighbourhoods.iter().all(|n| n.published.is_some())
    }

    pub fn total_population(&self) -> u64 {
        self.neighbourhoods.iter().map(|n| n.population).sum()
    }

    /// The system a neighbourhood belongs to.
    pub fn system_of(&self, neighbourhood: usize) -> usize {
        self.places[self.neighbourhoods[neighbourhood].place].system
    }
}

/// England's share of people in each age band and sex.
fn england_age_sex(d: &Datasets) -> [[f64; N_SEX]; N_BANDS] {
    let total = d.population.sum();
    let mut out = [[0.0; N_SEX]; N_BANDS];
    for (b, row) in out.iter_mut().enumerate() {
        for (s, x) in row.iter_mut().enumerate() {
            *x = d.population[[b, s]] / total;
        }
    }
    out
}

/// Reads an imported geography's registered patients by single year of age and sex
/// (`AGE_SEX_FILE`) into its neighbourhoods: every age once per neighbourhood, whole
/// people, summing to the neighbourhood's registered population (`nbs`, for the message).
fn add_list_ages(dir: &Path, nbs: &Table, g: &mut Geography) -> Result<()> {
    let ages = Table::read(&dir.join(AGE_SEX_FILE))?;
    let acols = ["neighbourhood", "age", "male", "female"];
    let names: Vec<&str> = g.neighbourhoods.iter().map(|n| n.name.as_str()).collect();
    let which = ages.choice("neighbourhood", &acols, &names)?;
    let labels = list_age_labels();
    let age = ages.choice("age", &acols, &labels)?;
    let counts = [
        ages.number_in("male", &acols, ("registered patients", 0.0, 1e8))?,
        ages.number_in("female", &acols, ("registered patients", 0.0, 1e8))?,
    ];
    let mut table = vec![vec![[0.0; N_SEX]; LIST_AGES]; g.neighbourhoods.len()];
    let mut seen = vec![[false; LIST_AGES]; g.neighbourhoods.len()];
    for r in 0..ages.height() {
        let (n, a) = (which.values[r], age.values[r]);
        if seen[n][a] {
            return Err(ages.invalid("age", r, &labels[a], "each age once per neighbourhood"));
        }
        seen[n][a] = true;
        for (sex, col) in counts.iter().enumerate() {
            let x = col.values[r];
            if x.fract() != 0.0 {
                return Err(ages.invalid(col.name, r, &x.to_string(), "a whole number of people"));
            }
            table[n][a][sex] = x;
        }
    }
    for (n, nb) in g.neighbourhoods.iter_mut().enumerate() {
        if let Some(a) = seen[n].iter().position(|s| !s) {
            return Err(ages.whole(
                "age",
                format!(
                    "neighbourhood `{}` has no row for age {}",
                    nb.name, labels[a]
                ),
            ));
        }
        let total: f64 = table[n].iter().flatten().sum();
        if total != nb.population as f64 {
            return Err(nbs.invalid(
                "registered_population",
                n,
                &nb.population.to_string(),
                &format!("the sum of its rows in {AGE_SEX_FILE}, {total}"),
            ));
        }
        let shares: Vec<[f64; N_SEX]> = table[n]
            .iter()
            .map(|row| [row[0] / total, row[1] / total])
            .collect();
        for (a, row) in shares.iter().enumerate() {
            for sex in 0..N_SEX {
                nb.age_sex[band_of(a as u8)][sex] += row[sex];
            }
        }
        nb.ages = Some(shares);
    }
    Ok(())
}

fn index_of(names: &mut Vec<String>, name: &str) -> usize {
    match names.iter().position(|n| n == name) {
        Some(i) => i,
        None => {
            names.push(name.to_string());
            names.len() - 1
        }
    }
}

/// A neighbourhood's age-sex structure: England's, tilted by its archetype.
fn neighbourhood(
    d: &Datasets,
    name: String,
    place: usize,
    archetype: usize,
    population: u64,
) -> Neighbourhood {
    let a = &d.archetypes[archetype];
    let mut age_sex = [[0.0; N_SEX]; N_BANDS];
    let mut total = 0.0;
    for (b, row) in age_sex.iter_mut().enumerate() {
        for (s, x) in row.iter_mut().enumerate() {
            *x = d.population[[b, s]] * a.age_weight[b];
            total += *x;
        }
    }
    age_sex.iter_mut().flatten().for_each(|x| *x /= total);
    Neighbourhood {
        id: 0,
        name,
        place,
        archetype: Some(archetype),
        population,
        age_sex,
        ages: None,
        imd: a.imd,
        published: None,
        location: None,
        segments: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn england_preset_has_the_national_shape() {
        let d = Datasets::bundled().unwrap();
        let g = Geography::england(&d).unwrap();
        assert_eq!(g.systems.len(), d.parameters.england_systems);
        assert_eq!(g.neighbourhoods.len(), d.parameters.england_neighbourhoods);
        assert_eq!(g.total_population(), d.population.sum().round() as u64);
        assert_eq!(g, Geography::england(&d).unwrap(), "the preset is fixed");
    }

    #[test]
    fn default_system_is_about_one_and_a_half_million() {
        let d = Datasets::bundled().unwrap();
        let g = Geography::default_system(&d);
        let total = g.total_population();
        assert!((1_200_000..=1_800_000).contains(&total), "{total}");
        assert!(g.places.len() >= 4);
    }
}
