//! An analyst's observed activity (`capsim calibrate --observed FILE`): a tidy table of
//! `year, level, area, setting, count` and optionally `spend`, by practice, neighbourhood
//! (PCN), place or system of the geography in use, read and checked cell by cell before
//! anything is fitted, so a bad file names its line and column and nothing is written.
//!
//! Areas are matched to the geography by [`area_matches`]: by the name as the geography
//! writes it, or by the code inside its trailing parentheses (`03N` for
//! `NHS Sheffield CCG (03N)`). Every area is a set of neighbourhoods with weights by
//! deprivation quintile ([`Area::members`]): a place or system is all its neighbourhoods
//! whole; a practice is its share of its neighbourhood's people in its own quintile, so
//! its expected activity is that of its own kind of people.

use std::collections::HashMap;
use std::path::Path;

use crate::core::care::Setting;
use crate::core::dims::N_IMD;
use crate::core::error::{CapsimError, Result};
use crate::data::geography::Geography;

crate::labelled_enum! {
    /// The level of an observed area, finest first.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum AreaLevel {
        Practice => "practice",
        Neighbourhood => "neighbourhood",
        Place => "place",
        System => "system",
    }
}

impl AreaLevel {
    /// The level named in a file: an id, or `pcn` for a neighbourhood.
    pub fn read(s: &str) -> Option<Self> {
        let s = s.trim().to_ascii_lowercase();
        if s == "pcn" {
            return Some(AreaLevel::Neighbourhood);
        }
        Self::parse(&s)
    }
}

/// Whether `written` (from an observed file) names the area the geography calls `name`:
/// the whole name, or the code in its trailing parentheses, in any case. The one place
/// areas are matched, so that it can switch to typed codes when the geography has them.
pub fn area_matches(name: &str, written: &str) -> bool {
    let w = written.trim();
    if name.eq_ignore_ascii_case(w) {
        return true;
    }
    code_of(name).is_some_and(|c| c.eq_ignore_ascii_case(w))
}

/// The code in the trailing parentheses of a name, if any.
fn code_of(name: &str) -> Option<&str> {
    let n = name.trim_end();
    let inner = n.strip_suffix(')')?;
    let open = inner.rfind('(')?;
    Some(inner[open + 1..].trim())
}

/// A practice of real England placed in its neighbourhood: what an observed practice row
/// is matched against.
#[derive(Debug, Clone, PartialEq)]
pub struct PracticeMember {
    pub code: String,
    /// The id of its neighbourhood ([`crate::data::geography::Neighbourhood::id`]).
    pub neighbourhood_id: u64,
    /// Its deprivation quintile (0 = most deprived).
    pub quintile: usize,
    /// Its whole people.
    pub people: u64,
}

/// An observable area: a set of neighbourhoods (positions in the geography) with a weight
/// per deprivation quintile on each one's expected activity.
#[derive(Debug, Clone, PartialEq)]
pub struct Area {
    pub level: AreaLevel,
    /// The name as the geography writes it (a practice: its code).
    pub name: String,
    pub members: Vec<(usize, [f64; N_IMD])>,
}

/// Every area of a geography that an observed row may name, by level.
#[derive(Debug, Clone, PartialEq)]
pub struct AreaIndex {
    pub areas: Vec<Area>,
    /// Where each level's areas start and end in `areas`.
    ranges: [(usize, usize); AreaLevel::COUNT],
    /// Practice codes (upper case) to positions in `areas`.
    practices: HashMap<String, usize>,
}

impl AreaIndex {
    /// The areas of `g`, with `practices` (real England's, or none) as the practice level.
    pub fn new(g: &Geography, practices: &[PracticeMember]) -> Self {
        let mut areas = Vec::new();
        let mut ranges = [(0, 0); AreaLevel::COUNT];
        let whole = [1.0; N_IMD];
        let position: HashMap<u64, usize> = g
            .neighbourhoods
            .iter()
            .enumerate()
            .map(|(i, nb)| (nb.id, i))
            .collect();
        // People of each neighbourhood by quintile, from its practices.
        let mut by_quintile: HashMap<usize, [f64; N_IMD]> = HashMap::new();
        for p in practices {
            if let Some(&i) = position.get(&p.neighbourhood_id) {
                by_quintile.entry(i).or_insert([0.0; N_IMD])[p.quintile] += p.people as f64;
            }
        }
        let mut codes = HashMap::new();
        for p in practices {
            let Some(&i) = position.get(&p.neighbourhood_id) else {
                continue;
            };
            let total = by_quintile[&i][p.quintile];
            let mut w = [0.0; N_IMD];
            w[p.quintile] = if total > 0.0 {
                p.people as f64 / total
            } else {
                0.0
            };
            codes.insert(p.code.to_ascii_uppercase(), areas.len());
            areas.push(Area {
                level: AreaLevel::Practice,
                name: p.code.clone(),
                members: vec![(i, w)],
            });
        }
        ranges[AreaLevel::Practice.index()] = (0, areas.len());
        let start = areas.len();
        for (i, nb) in g.neighbourhoods.iter().enumerate() {
            areas.push(Area {
                level: AreaLevel::Neighbourhood,
                name: nb.name.clone(),
                members: vec![(i, whole)],
            });
        }
        ranges[AreaLevel::Neighbourhood.index()] = (start, areas.len());
        let start = areas.len();
        for (p, place) in g.places.iter().enumerate() {
            let members: Vec<_> = (0..g.neighbourhoods.len())
                .filter(|i| g.neighbourhoods[*i].place == p)
                .map(|i| (i, whole))
                .collect();
            if !members.is_empty() {
                areas.push(Area {
                    level: AreaLevel::Place,
                    name: place.name.clone(),
                    members,
                });
            }
        }
        ranges[AreaLevel::Place.index()] = (start, areas.len());
        let start = areas.len();
        for (s, system) in g.systems.iter().enumerate() {
            let members: Vec<_> = (0..g.neighbourhoods.len())
                .filter(|i| g.system_of(*i) == s)
                .map(|i| (i, whole))
                .collect();
            if !members.is_empty() {
                areas.push(Area {
                    level: AreaLevel::System,
                    name: system.clone(),
                    members,
                });
            }
        }
        ranges[AreaLevel::System.index()] = (start, areas.len());
        AreaIndex {
            areas,
            ranges,
            practices: codes,
        }
    }

    /// The position of the area of `level` that `written` names.
    pub fn find(&self, level: AreaLevel, written: &str) -> Option<usize> {
        if level == AreaLevel::Practice {
            return self
                .practices
                .get(&written.trim().to_ascii_uppercase())
                .copied();
        }
        let (a, b) = self.ranges[level.index()];
        (a..b).find(|&i| area_matches(&self.areas[i].name, written))
    }

    /// How many areas there are at `level`.
    pub fn count(&self, level: AreaLevel) -> usize {
        let (a, b) = self.ranges[level.index()];
        b - a
    }

    /// A few names of `level`'s areas, for messages.
    fn examples(&self, level: AreaLevel) -> String {
        let (a, b) = self.ranges[level.index()];
        if a == b {
            return format!("this geography has no {} areas", level.id());
        }
        let names: Vec<String> = (a..b.min(a + 3))
            .map(|i| format!("`{}`", self.areas[i].name))
            .collect();
        format!(
            "a {} of this geography ({} of them), such as {}",
            level.id(),
            b - a,
            names.join(", ")
        )
    }
}

/// One observed row: a count (and spend) of one area, setting and year.
#[derive(Debug, Clone, PartialEq)]
pub struct ObservedRow {
    pub year: i32,
    /// Position in [`AreaIndex::areas`].
    pub area: usize,
    pub level: AreaLevel,
    pub setting: Setting,
    pub count: f64,
    /// Spend in pounds, when the file has it.
    pub spend: Option<f64>,
    /// Line in the file (1 = header).
    pub line: usize,
}

/// The observed file, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Observed {
    pub file: String,
    pub rows: Vec<ObservedRow>,
}

/// The columns an observed file must have; `spend` may be added.
pub const OBSERVED_COLUMNS: [&str; 5] = ["year", "level", "area", "setting", "count"];

impl Observed {
    /// Reads a CSV or Parquet (by extension) observed file against `index`.
    pub fn load(path: &Path, index: &AreaIndex) -> Result<Self> {
        let file = path.display().to_string();
        let records = if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("parquet"))
        {
            parquet_records(path)?
        } else {
            let text = std::fs::read_to_string(path).map_err(|e| CapsimError::InvalidSetting {
                setting: "--observed".into(),
                problem: format!("cannot read {}: {e}", path.display()),
            })?;
            text.lines().map(split_csv_line).collect()
        };
        Self::parse(file, &records, index)
    }

    /// Checks the records (header first) cell by cell.
    pub fn parse(file: String, records: &[Vec<String>], index: &AreaIndex) -> Result<Self> {
        let Some(header) = records.first() else {
            return Err(missing(&file, "year"));
        };
        let col = |name: &str| header.iter().position(|h| h.trim() == name);
        let mut at = [0; 5];
        for (k, name) in OBSERVED_COLUMNS.iter().enumerate() {
            at[k] = col(name).ok_or_else(|| missing(&file, name))?;
        }
        let spend_at = col("spend");
        let mut rows = Vec::new();
        let mut seen: HashMap<(i32, usize, Setting), usize> = HashMap::new();
        for (k, rec) in records.iter().enumerate().skip(1) {
            let line = k + 1;
            if rec.iter().all(|c| c.trim().is_empty()) {
                continue;
            }
            let cell = |c: usize| rec.get(c).map_or("", |s| s.trim());
            let bad = |c: usize, allowed: String| CapsimError::InvalidValue {
                file: file.clone(),
                line,
                column: header[c].trim().to_string(),
                value: cell(c).to_string(),
                allowed,
            };
            let year: i32 = cell(at[0])
                .parse()
                .ok()
                .filter(|y| (1900..=2200).contains(y))
                .ok_or_else(|| bad(at[0], "a year such as 2023".into()))?;
            let level = AreaLevel::read(cell(at[1])).ok_or_else(|| {
                bad(
                    at[1],
                    "one of practice, neighbourhood (or pcn), place, system".into(),
                )
            })?;
            let area = index
                .find(level, cell(at[2]))
                .ok_or_else(|| bad(at[2], index.examples(level)))?;
            let setting = Setting::parse(cell(at[3])).ok_or_else(|| {
                let ids: Vec<&str> = Setting::ALL.iter().map(|s| s.id()).collect();
                bad(at[3], format!("one of {}", ids.join(", ")))
            })?;
            let number = |c: usize| -> Result<f64> {
                cell(c)
                    .parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite() && *x >= 0.0)
                    .ok_or_else(|| bad(c, "a non-negative number".into()))
            };
            let count = number(at[4])?;
            let spend = match spend_at {
                Some(c) if !cell(c).is_empty() => Some(number(c)?),
                _ => None,
            };
            if let Some(first) = seen.insert((year, area, setting), line) {
                return Err(bad(
                    at[2],
                    format!(
                        "one row per year, area and setting; line {first} already gives {} {} in {year}",
                        index.areas[area].name,
                        setting.id()
                    ),
                ));
            }
            rows.push(ObservedRow {
                year,
                area,
                level,
                setting,
                count,
                spend,
                line,
            });
        }
        if rows.is_empty() {
            return Err(CapsimError::InvalidTable {
                file,
                column: "count".into(),
                problem: "the file has no rows".into(),
            });
        }
        Ok(Observed { file, rows })
    }

    /// The years present, in order.
    pub fn years(&self) -> Vec<i32> {
        let mut y: Vec<i32> = self.rows.iter().map(|r| r.year).collect();
        y.sort_unstable();
        y.dedup();
        y
    }
}

fn missing(file: &str, column: &str) -> CapsimError {
    CapsimError::MissingColumn {
        file: file.to_string(),
        column: column.to_string(),
        expected: format!("{} (and optionally spend)", OBSERVED_COLUMNS.join(", ")),
    }
}

/// Splits one CSV line into cells, honouring double quotes (`""` inside quotes is a quote).
pub fn split_csv_line(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.trim_end_matches('\r').chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out
}

/// A Parquet file's cells as text, header first, so that it is checked as a CSV is.
fn parquet_records(path: &Path) -> Result<Vec<Vec<String>>> {
    use polars::prelude::*;
    let unreadable = |e: PolarsError| CapsimError::Unreadable {
        file: path.display().to_string(),
        reason: e.to_string(),
    };
    let f = std::fs::File::open(path).map_err(|e| CapsimError::InvalidSetting {
        setting: "--observed".into(),
        problem: format!("cannot read {}: {e}", path.display()),
    })?;
    let df = ParquetReader::new(f).finish().map_err(unreadable)?;
    let mut records = vec![df
        .get_column_names()
        .iter()
        .map(|n| n.to_string())
        .collect::<Vec<_>>()];
    let mut cols = Vec::new();
    for c in df.columns() {
        let s = c
            .as_materialized_series()
            .cast(&DataType::String)
            .map_err(unreadable)?;
        let s = s.str().map_err(unreadable)?.clone();
        cols.push(s);
    }
    for i in 0..df.height() {
        records.push(
            cols.iter()
                .map(|c| c.get(i).unwrap_or("").to_string())
                .collect(),
        );
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn areas_match_by_name_or_trailing_code() {
        assert!(area_matches("NHS Sheffield CCG (03N)", "03N"));
        assert!(area_matches(
            "NHS Sheffield CCG (03N)",
            "nhs sheffield ccg (03n)"
        ));
        assert!(area_matches("03N N01", "03n n01"));
        assert!(!area_matches("NHS Sheffield CCG (03N)", "03"));
        assert!(!area_matches("Northvale", "Eastmoor"));
    }

    #[test]
    fn csv_lines_split_with_quotes() {
        assert_eq!(
            split_csv_line("2023,place,\"Sheffield, City (03N)\",gp_appointments,5"),
            vec![
                "2023",
                "place",
                "Sheffield, City (03N)",
                "gp_appointments",
                "5"
            ]
        );
        assert_eq!(
            split_csv_line("a,\"b \"\"c\"\"\",d\r"),
            vec!["a", "b \"c\"", "d"]
        );
    }
}
