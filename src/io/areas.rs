//! The `geography` table (one row per simulated neighbourhood: its system and place with
//! their codes, people, location and published populations) and the `published_icbs`
//! table (NHS England's published populations of every ICB of England), written once per
//! output folder and read back by the report's maps and validation table, so the report,
//! like the charts, is drawn from outputs.

use std::path::Path;

use polars::prelude::*;

use crate::core::error::{CapsimError, Result};
use crate::data::geography::Geography;
use crate::data::published::Component;
use crate::data::published_geography::Published;
use crate::io::read::{floats, read_parquet, strings};

/// The file stem of the per-neighbourhood geography table.
pub const GEOGRAPHY_TABLE: &str = "geography";
/// The file stem of the published figures of every ICB of England.
pub const PUBLISHED_ICBS_TABLE: &str = "published_icbs";

/// One simulated neighbourhood as the geography table holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct AreaRow {
    /// The first scenario of the group that simulates this geography.
    pub scenario: String,
    pub system: String,
    /// ICB code; empty where the geography has none (the invented presets).
    pub system_code: String,
    pub place: String,
    /// Sub-ICB location code; empty where the geography has none.
    pub place_code: String,
    pub neighbourhood: String,
    /// Registered people at the start (whole people).
    pub population: u64,
    /// (latitude, longitude) of its practices' population-weighted centroid.
    pub location: Option<(f64, f64)>,
    /// Its practices' published registered and weighted populations.
    pub published: Option<Published>,
}

/// One ICB's published figures (every ICB of England, simulated or not: the validation
/// table's shares of England are taken over them).
#[derive(Debug, Clone, PartialEq)]
pub struct PublishedIcb {
    pub code: String,
    pub name: String,
    pub published: Published,
}

fn err(what: &str, e: PolarsError) -> CapsimError {
    CapsimError::Write {
        path: what.into(),
        reason: e.to_string(),
    }
}

/// The column of a component's published weighted population.
pub fn weighted_column(c: Component) -> String {
    format!("published_weighted_{}", c.id())
}

/// The geography table of each (scenario, geography) group, in order.
pub fn geography_frame(groups: &[(String, &Geography)]) -> Result<DataFrame> {
    let mut text: [Vec<String>; 6] = Default::default();
    let mut population = Vec::new();
    let (mut lat, mut lon) = (Vec::new(), Vec::new());
    let mut published: Vec<Vec<Option<f64>>> = vec![Vec::new(); Component::COUNT + 1];
    for (scenario, g) in groups {
        for nb in &g.neighbourhoods {
            let place = &g.places[nb.place];
            let code = g.system_codes.get(place.system).cloned().flatten();
            let row = [
                scenario.clone(),
                g.systems[place.system].clone(),
                code.unwrap_or_default(),
                place.name.clone(),
                place.code.clone().unwrap_or_default(),
                nb.name.clone(),
            ];
            for (col, v) in text.iter_mut().zip(row) {
                col.push(v);
            }
            population.push(nb.population);
            lat.push(nb.location.map(|l| l.latitude));
            lon.push(nb.location.map(|l| l.longitude));
            published[0].push(nb.published.map(|p| p.population));
            for c in Component::ALL {
                published[c.index() + 1].push(nb.published.map(|p| p.weighted(c)));
            }
        }
    }
    let names = [
        "scenario",
        "system",
        "system_code",
        "place",
        "place_code",
        "neighbourhood",
    ];
    let mut cols: Vec<Column> = names
        .iter()
        .zip(text)
        .map(|(n, v)| Column::new((*n).into(), v))
        .collect();
    cols.push(Column::new("population".into(), population));
    cols.push(Column::new("latitude".into(), lat));
    cols.push(Column::new("longitude".into(), lon));
    cols.extend(published_columns(published));
    DataFrame::new_infer_height(cols).map_err(|e| err("(geography)", e))
}

/// `published_population`, then each component's weighted population, from `values`
/// (registered first, then by [`Component::index`]).
fn published_columns(values: Vec<Vec<Option<f64>>>) -> Vec<Column> {
    let mut names = vec!["published_population".to_string()];
    names.extend(Component::ALL.iter().map(|c| weighted_column(*c)));
    names
        .into_iter()
        .zip(values)
        .map(|(n, v)| Column::new(n.into(), v))
        .collect()
}

/// The published figures of every ICB.
pub fn published_icbs_frame(icbs: &[PublishedIcb]) -> Result<DataFrame> {
    let mut values: Vec<Vec<Option<f64>>> = vec![Vec::new(); Component::COUNT + 1];
    for i in icbs {
        values[0].push(Some(i.published.population));
        for c in Component::ALL {
            values[c.index() + 1].push(Some(i.published.weighted(c)));
        }
    }
    let mut cols = vec![
        Column::new(
            "icb_code".into(),
            icbs.iter().map(|i| i.code.as_str()).collect::<Vec<_>>(),
        ),
        Column::new(
            "icb".into(),
            icbs.iter().map(|i| i.name.as_str()).collect::<Vec<_>>(),
        ),
    ];
    cols.extend(published_columns(values));
    DataFrame::new_infer_height(cols).map_err(|e| err("(published icbs)", e))
}

/// The published columns of row `i`, if it has them (all or none are null).
fn published_at(cols: &[Vec<f64>], i: usize) -> Option<Published> {
    if cols.iter().any(|c| !c[i].is_finite()) {
        return None;
    }
    Some(Published {
        population: cols[0][i],
        weighted: std::array::from_fn(|k| cols[k + 1][i]),
    })
}

fn read_published(df: &DataFrame, path: &Path) -> Result<Vec<Vec<f64>>> {
    let mut names = vec!["published_population".to_string()];
    names.extend(Component::ALL.iter().map(|c| weighted_column(*c)));
    names.iter().map(|n| floats(df, path, n)).collect()
}

/// Reads a geography table back.
pub fn read_geography(path: &Path) -> Result<Vec<AreaRow>> {
    let df = read_parquet(path)?;
    let text = |n: &str| strings(&df, path, n);
    let (scenario, system, system_code) =
        (text("scenario")?, text("system")?, text("system_code")?);
    let (place, place_code, neighbourhood) =
        (text("place")?, text("place_code")?, text("neighbourhood")?);
    let population: Vec<u64> = df
        .column("population")
        .and_then(|c| c.u64().map(|c| c.iter().map(|x| x.unwrap_or(0)).collect()))
        .map_err(|e| CapsimError::Write {
            path: path.to_path_buf(),
            reason: format!("unexpected contents: {e}"),
        })?;
    let (lat, lon) = (
        floats(&df, path, "latitude")?,
        floats(&df, path, "longitude")?,
    );
    let published = read_published(&df, path)?;
    Ok((0..scenario.len())
        .map(|i| AreaRow {
            scenario: scenario[i].clone(),
            system: system[i].clone(),
            system_code: system_code[i].clone(),
            place: place[i].clone(),
            place_code: place_code[i].clone(),
            neighbourhood: neighbourhood[i].clone(),
            population: population[i],
            location: (lat[i].is_finite() && lon[i].is_finite()).then(|| (lat[i], lon[i])),
            published: published_at(&published, i),
        })
        .collect())
}

/// Reads the published figures of every ICB back.
pub fn read_published_icbs(path: &Path) -> Result<Vec<PublishedIcb>> {
    let df = read_parquet(path)?;
    let (code, name) = (strings(&df, path, "icb_code")?, strings(&df, path, "icb")?);
    let published = read_published(&df, path)?;
    Ok((0..code.len())
        .filter_map(|i| {
            published_at(&published, i).map(|p| PublishedIcb {
                code: code[i].clone(),
                name: name[i].clone(),
                published: p,
            })
        })
        .collect())
}

/// One comparison of the validation table: a published figure of an area beside capsim's
/// (see `report::validation` for what capsim's is for each measure).
#[derive(Debug, Clone, PartialEq)]
pub struct ValidationRow {
    /// `system` (an ICB) or `england` (every ICB of the run together).
    pub level: crate::core::level::Level,
    pub area: String,
    /// The ICB code; empty for England.
    pub code: String,
    /// What is compared: `registered_population`, `weighted_population.COMPONENT`,
    /// `share_of_england.registered_population` or `share_of_england.weighted_population`.
    pub measure: String,
    pub published: f64,
    /// capsim's figure; `None` where the run cannot say (a share of England needs all of
    /// England simulated).
    pub capsim: Option<f64>,
    /// The formula capsim's weighted figures come from (empty for people).
    pub capsim_formula: String,
}

/// The validation table.
pub fn validation_frame(rows: &[ValidationRow]) -> Result<DataFrame> {
    let text = |f: &dyn Fn(&ValidationRow) -> String| rows.iter().map(f).collect::<Vec<_>>();
    let capsim: Vec<Option<f64>> = rows.iter().map(|r| r.capsim).collect();
    let difference: Vec<Option<f64>> = rows
        .iter()
        .map(|r| r.capsim.map(|c| c - r.published))
        .collect();
    let pct: Vec<Option<f64>> = rows
        .iter()
        .map(|r| {
            r.capsim
                .filter(|_| r.published != 0.0)
                .map(|c| 100.0 * (c - r.published) / r.published)
        })
        .collect();
    // capsim's figures are the simulated year 1 (means over runs), as the column says.
    DataFrame::new_infer_height(vec![
        Column::new("year".into(), vec![1i32; rows.len()]),
        Column::new("level".into(), text(&|r| r.level.id().to_string())),
        Column::new("area".into(), text(&|r| r.area.clone())),
        Column::new("code".into(), text(&|r| r.code.clone())),
        Column::new("measure".into(), text(&|r| r.measure.clone())),
        Column::new(
            "published".into(),
            rows.iter().map(|r| r.published).collect::<Vec<_>>(),
        ),
        Column::new("capsim".into(), capsim),
        Column::new("difference".into(), difference),
        Column::new("difference_pct".into(), pct),
        Column::new("capsim_formula".into(), text(&|r| r.capsim_formula.clone())),
    ])
    .map_err(|e| err("(validation)", e))
}

/// One place's year-1 budget under the published and the estimated-need formula.
#[derive(Debug, Clone, PartialEq)]
pub struct Disagreement {
    pub place: String,
    /// Share of the envelope (0 to 1) under each formula.
    pub published_share: f64,
    pub estimated_share: f64,
    /// Budgets (pounds, mean over runs).
    pub published: f64,
    pub estimated: f64,
}

impl Disagreement {
    /// Published minus estimated, in pounds.
    pub fn difference(&self) -> f64 {
        self.published - self.estimated
    }

    /// The difference as a percentage of the estimated-need budget.
    pub fn difference_pct(&self) -> f64 {
        if self.estimated != 0.0 {
            100.0 * self.difference() / self.estimated
        } else {
            0.0
        }
    }
}

/// The published allocation against the estimated-need one, place by place, largest
/// difference first (`published_vs_estimated`): the formulas' names on every row.
pub fn disagreements_frame(
    published: &str,
    estimated: &str,
    rows: &[Disagreement],
) -> Result<DataFrame> {
    let n = rows.len();
    let num = |name: &str, f: &dyn Fn(&Disagreement) -> f64| {
        Column::new(name.into(), rows.iter().map(f).collect::<Vec<_>>())
    };
    // Year-1 budgets (means over runs), as the column says.
    DataFrame::new_infer_height(vec![
        Column::new("year".into(), vec![1i32; n]),
        Column::new(
            "place".into(),
            rows.iter().map(|r| r.place.as_str()).collect::<Vec<_>>(),
        ),
        Column::new("published_formula".into(), vec![published; n]),
        Column::new("estimated_formula".into(), vec![estimated; n]),
        num("published_share", &|r| r.published_share),
        num("estimated_share", &|r| r.estimated_share),
        num("published_budget", &|r| r.published),
        num("estimated_budget", &|r| r.estimated),
        num("difference", &Disagreement::difference),
        num("difference_pct", &Disagreement::difference_pct),
    ])
    .map_err(|e| err("(published vs estimated)", e))
}
