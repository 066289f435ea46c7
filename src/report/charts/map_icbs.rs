//! A map of England by ICB: each ICB at the population-weighted centroid of its
//! neighbourhoods, sized by population and coloured by its budget position in the last
//! year (headline formula, first scenario). Drawn when the run covers more than one ICB of
//! real England.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::geo::{draw_map, position_pct, Point, NO_BUDGETS, NO_COORDINATES, NO_GEOGRAPHY};
use super::*;
use crate::core::level::Level;

/// Each system with a location and a position, in the geography's order: its
/// neighbourhoods' centroid weighted by their people.
pub fn points(d: &ReportData) -> Vec<Point> {
    let Some(f) = d.formula() else {
        return Vec::new();
    };
    let mut systems: Vec<(&str, f64, f64, f64)> = Vec::new();
    for a in &d.areas {
        let Some((lat, lon)) = a.location else {
            continue;
        };
        let n = a.population as f64;
        match systems.iter_mut().find(|s| s.0 == a.system) {
            Some(s) => {
                s.1 += n * lat;
                s.2 += n * lon;
                s.3 += n;
            }
            None => systems.push((&a.system, n * lat, n * lon, n)),
        }
    }
    systems
        .into_iter()
        .filter(|s| s.3 > 0.0)
        .filter_map(|(name, lat, lon, n)| {
            Some(Point {
                latitude: lat / n,
                longitude: lon / n,
                population: n,
                position_pct: position_pct(d, Level::System, name, &f)?,
            })
        })
        .collect()
}

/// The chart's title, or why the data cannot support it.
pub fn title(d: &ReportData) -> std::result::Result<String, &'static str> {
    if d.areas.is_empty() {
        return Err(NO_GEOGRAPHY);
    }
    if d.areas.iter().any(|a| a.location.is_none()) {
        return Err(NO_COORDINATES);
    }
    let mut systems: Vec<&str> = d.areas.iter().map(|a| a.system.as_str()).collect();
    systems.dedup();
    if systems.len() < 2 {
        return Err(
            "needs more than one ICB (`--population england`); the neighbourhood map shows one",
        );
    }
    if points(d).is_empty() {
        return Err(NO_BUDGETS);
    }
    Ok(format!(
        "ICB budget positions across England, year {}",
        d.last_year()
    ))
}

pub fn draw<DB: DrawingBackend>(
    d: &ReportData,
    root: &DrawingArea<DB, Shift>,
    k: f64,
) -> std::result::Result<(), String> {
    draw_map(
        root,
        k,
        &points(d),
        22.0,
        "ICB",
        &d.formula().unwrap_or_default(),
    )
}
