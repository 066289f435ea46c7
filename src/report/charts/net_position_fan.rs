//! Chart 3: fan charts of the system's budget position over the years (p5-p95, p10-p90,
//! median), one panel per scenario on the same y axis, so scenarios compare at a glance.

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
    Ok(match d.scenarios.as_slice() {
        [one] => format!("{whole} budget position by year, {one}"),
        _ => format!("{whole} budget position by year, by scenario"),
    })
}

/// Panels in rows and columns for `n` scenarios: one row up to three, then two or more.
fn grid(n: usize) -> (usize, usize) {
    let cols = match n {
        0..=3 => n.max(1),
        4 => 2,
        _ => 3,
    };
    (n.div_ceil(cols).max(1), cols)
}

pub fn draw<DB: DrawingBackend>(
    d: &ReportData,
    root: &DrawingArea<DB, Shift>,
    k: f64,
) -> std::result::Result<(), String> {
    let f = d.formula().unwrap_or_default();
    let metric = Metric::formula(FormulaMetric::Position, &f);
    let series: Vec<(&String, Vec<(i32, Stat)>)> = d
        .scenarios
        .iter()
        .map(|s| (s, d.system_series(s, &metric)))
        .collect();
    // One y axis for every panel.
    let (lo, hi) = range(
        series
            .iter()
            .flat_map(|(_, pts)| pts.iter().flat_map(|p| [p.1.p5, p.1.p95])),
        true,
    );
    let (rows, cols) = grid(series.len());
    let panels = root.split_evenly((rows, cols));
    let several = series.len() > 1;
    for (i, ((name, pts), panel)) in series.iter().zip(&panels).enumerate() {
        let caption = several.then(|| short(name, 34));
        fan(d, panel, caption.as_deref(), pts, (lo, hi), i == 0, k)?;
    }
    Ok(())
}

/// One scenario's fan in one panel, with the legend when asked.
fn fan<DB: DrawingBackend>(
    d: &ReportData,
    area: &DrawingArea<DB, Shift>,
    caption: Option<&str>,
    pts: &[(i32, Stat)],
    (lo, hi): (f64, f64),
    with_legend: bool,
    k: f64,
) -> std::result::Result<(), String> {
    let last = d.last_year() as f64;
    let y_desc = match caption {
        None => "budget minus spend (surplus above zero)",
        Some(_) => "budget minus spend",
    };
    let mut chart = year_chart(area, caption, d.last_year(), (lo, hi), y_desc, k)?;
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
    if with_legend {
        legend(&mut chart, k, SeriesLabelPosition::LowerLeft)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::grid;

    #[test]
    fn panels_fill_a_grid() {
        assert_eq!(grid(1), (1, 1));
        assert_eq!(grid(2), (1, 2));
        assert_eq!(grid(4), (2, 2));
        assert_eq!(grid(5), (2, 3));
        assert_eq!(grid(7), (3, 3));
    }
}
