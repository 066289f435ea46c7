//! Chart 3: a fan chart of the system's budget position over the years (p5-p95, p10-p90, median).

use plotters::coord::Shift;
use plotters::prelude::*;

use super::*;
use crate::accounts::metric::{FormulaMetric, Metric};
use crate::core::level::Level;

/// The chart's title, or why the data cannot support it.
pub fn title(d: &ReportData) -> std::result::Result<String, &'static str> {
    d.formula()
        .ok_or("needs capitation budgets in the summary")?;
    // With several systems the fan is the nation's (their sum), never one system's.
    let whole = match d.top().0 {
        Level::England => "England",
        _ => "System",
    };
    Ok(format!(
        "{whole} budget position by year, {}",
        d.scenarios.last().cloned().unwrap_or_default()
    ))
}

pub fn draw<DB: DrawingBackend>(
    d: &ReportData,
    root: &DrawingArea<DB, Shift>,
    k: f64,
) -> std::result::Result<(), String> {
    let f = d.formula().unwrap_or_default();
    let s = d.scenarios.last().cloned().unwrap_or_default();
    let pts = d.system_series(&s, &Metric::formula(FormulaMetric::Position, &f));
    let last = d.last_year() as f64;
    let (lo, hi) = range(pts.iter().flat_map(|p| [p.1.p5, p.1.p95]), true);
    let mut chart = year_chart(
        root,
        None,
        d.last_year(),
        (lo, hi),
        "budget minus spend (surplus above zero)",
        k,
    )?;
    let band = |lo: fn(&Stat) -> f64, hi: fn(&Stat) -> f64| -> Vec<(f64, f64)> {
        let mut v: Vec<(f64, f64)> = pts.iter().map(|(y, s)| (*y as f64, hi(s))).collect();
        v.extend(pts.iter().rev().map(|(y, s)| (*y as f64, lo(s))));
        v
    };
    type Edge = fn(&Stat) -> f64;
    let bands: [(Edge, Edge, RGBAColor, &str); 2] = [
        (
            |s| s.p5,
            |s| s.p95,
            PALETTE[4].mix(0.35),
            "5th to 95th centile",
        ),
        (
            |s| s.p10,
            |s| s.p90,
            PALETTE[0].mix(0.45),
            "10th to 90th centile",
        ),
    ];
    for (lo, hi, colour, label) in bands {
        chart
            .draw_series([Polygon::new(band(lo, hi), colour.filled())])
            .map_err(err)?
            .label(label)
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], colour.filled()));
    }
    chart
        .draw_series(LineSeries::new(
            pts.iter().map(|(y, s)| (*y as f64, s.p50)),
            BLACK.stroke_width(sz(3.0, k)),
        ))
        .map_err(err)?
        .label("median")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 14, y)], BLACK.stroke_width(3)));
    chart
        .draw_series(LineSeries::new(
            [(0.5, 0.0), (last + 0.5, 0.0)],
            BLACK.mix(0.5).stroke_width(1),
        ))
        .map_err(err)?;
    legend(&mut chart, k, SeriesLabelPosition::LowerLeft)
}
