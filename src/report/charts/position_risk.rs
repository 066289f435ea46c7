//! Chart 8: neighbourhood budget positions, systematic against chance, by population.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::*;
use crate::core::level::Level;

/// The chart's title, or why the data cannot support it.
pub fn title(d: &ReportData) -> std::result::Result<String, &'static str> {
    if d.risk.is_empty() {
        return Err("needs a risk table: a batch, or a run of more than one Monte Carlo run");
    }
    Ok(format!(
        "Neighbourhood budget positions, year {}: systematic and chance",
        d.last_year()
    ))
}

pub fn draw<DB: DrawingBackend>(
    d: &ReportData,
    root: &DrawingArea<DB, Shift>,
    k: f64,
) -> std::result::Result<(), String> {
    let f = d.formula().unwrap_or_default();
    let s = d.scenarios[0].clone();
    let last = d.last_year();
    let rows: Vec<&RiskRow> = d
        .risk
        .iter()
        .filter(|r| {
            r.scenario == s && r.year == last && r.level == Level::Neighbourhood && r.formula == f
        })
        .collect();
    let pct = |v: f64, b: f64| if b != 0.0 { 100.0 * v / b } else { 0.0 };
    let (xlo, xhi) = range(rows.iter().map(|r| r.population), false);
    let (ylo, yhi) = range(
        rows.iter()
            .flat_map(|r| [pct(r.systematic, r.budget), pct(r.chance_sd, r.budget)]),
        true,
    );
    let yhi = yhi + (yhi - ylo) * 0.25; // room for the legend above the data
                                        // With hundreds of neighbourhoods (England) the points shrink and turn translucent, so
                                        // the cloud reads as a distribution rather than a blot.
    let (size, alpha) = if rows.len() > 200 {
        (0.5, 0.35)
    } else {
        (1.0, 1.0)
    };
    let mut chart = plane(root, k, (xlo, xhi), (ylo, yhi))?;
    chart
        .configure_mesh()
        .x_label_formatter(&|x| count(*x))
        .y_label_formatter(&|y| format!("{y:.1}%"))
        .x_desc("neighbourhood population")
        .y_desc(format!("% of budget ({f} formula)"))
        .label_style(axis_font(k))
        .axis_desc_style(label_font(k))
        .draw()
        .map_err(err)?;
    chart
        .draw_series(rows.iter().map(|r| {
            Circle::new(
                (r.population, pct(r.systematic, r.budget)),
                sz(6.0 * size, k),
                PALETTE[5].mix(alpha).filled(),
            )
        }))
        .map_err(err)?
        .label("systematic: mean position relative to the system's")
        .legend(|(x, y)| Circle::new((x + 7, y), 5, PALETTE[5].filled()));
    chart
        .draw_series(rows.iter().map(|r| {
            TriangleMarker::new(
                (r.population, pct(r.chance_sd, r.budget)),
                sz(7.0 * size, k),
                PALETTE[0].mix(alpha).filled(),
            )
        }))
        .map_err(err)?
        .label("chance: standard deviation over runs")
        .legend(|(x, y)| TriangleMarker::new((x + 7, y), 5, PALETTE[0].filled()));
    legend(&mut chart, k, SeriesLabelPosition::UpperRight)
}
