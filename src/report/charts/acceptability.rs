//! Chart 11: the cost-effectiveness acceptability curve: for each price of a QALY, the
//! share of runs in which a scenario's net monetary benefit is positive.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::*;

/// Prices of a QALY the curve is drawn at: 0 to 5 times the threshold, or to £100,000.
fn prices(d: &ReportData) -> Vec<f64> {
    let top = (5.0 * d.qaly_threshold).max(100_000.0);
    (0..=100).map(|i| top * i as f64 / 100.0).collect()
}

/// Share of runs with a positive net monetary benefit at `lambda` pounds per QALY.
pub fn acceptable(points: &[(f64, f64)], lambda: f64) -> f64 {
    let n = points.len().max(1) as f64;
    points.iter().filter(|(q, c)| lambda * q - c > 0.0).count() as f64 / n
}

/// The chart's title, or why the data cannot support it.
pub fn title(d: &ReportData) -> std::result::Result<String, &'static str> {
    if super::ce_plane::points(d).is_empty() {
        return Err("needs an intervention scenario with its per-run metrics");
    }
    Ok("Cost-effectiveness acceptability: chance the net monetary benefit is positive".into())
}

pub fn draw<DB: DrawingBackend>(
    d: &ReportData,
    root: &DrawingArea<DB, Shift>,
    k: f64,
) -> std::result::Result<(), String> {
    let pts = super::ce_plane::points(d);
    let xs = prices(d);
    let top = *xs.last().unwrap_or(&1.0);
    let mut chart = share_by_price(
        root,
        k,
        (top, 1.3),
        "share of runs cost-effective",
        d.qaly_threshold,
    )?;
    for (i, (name, p)) in pts.iter().enumerate() {
        let colour = PALETTE[i % PALETTE.len()];
        chart
            .draw_series(LineSeries::new(
                xs.iter().map(|l| (*l, acceptable(p, *l))),
                colour.stroke_width(sz(3.0, k)),
            ))
            .map_err(err)?
            .label(short(name, 28))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 14, y)], colour.stroke_width(3))
            });
    }
    legend(&mut chart, k, SeriesLabelPosition::UpperRight)
}
