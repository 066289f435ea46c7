//! A map of the run's neighbourhoods at their practices' population-weighted centroids,
//! sized by population and coloured by budget position in the last year (headline
//! formula, first scenario). Real England only: the invented presets have no coordinates.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::geo::{draw_map, position_pct, Point, NO_BUDGETS, NO_COORDINATES, NO_GEOGRAPHY};
use super::*;
use crate::core::level::Level;

/// The neighbourhoods with a location and a position, in the geography's order.
pub fn points(d: &ReportData) -> Vec<Point> {
    let Some(f) = d.formula() else {
        return Vec::new();
    };
    d.areas
        .iter()
        .filter_map(|a| {
            let (latitude, longitude) = a.location?;
            let position_pct = position_pct(d, Level::Neighbourhood, &a.neighbourhood, &f)?;
            Some(Point {
                latitude,
                longitude,
                population: a.population as f64,
                position_pct,
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
    if d.formula().is_none() || points(d).is_empty() {
        return Err(NO_BUDGETS);
    }
    let (_, top) = d.top();
    Ok(format!(
        "Neighbourhood budget positions, year {}: {}",
        d.last_year(),
        if d.systems().len() > 1 {
            "England".to_string()
        } else {
            top
        }
    ))
}

pub fn draw<DB: DrawingBackend>(
    d: &ReportData,
    root: &DrawingArea<DB, Shift>,
    k: f64,
) -> std::result::Result<(), String> {
    let points = points(d);
    // Many neighbourhoods (England) get small circles so they overlap less.
    let radius = if points.len() > 200 { 6.0 } else { 14.0 };
    draw_map(
        root,
        k,
        &points,
        radius,
        "neighbourhood",
        &d.formula().unwrap_or_default(),
    )
}
