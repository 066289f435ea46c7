//! Chart 7: net cost against admissions avoided, by scenario, with intervals.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::*;
use crate::accounts::metric::Metric;

/// The chart's title, or why the data cannot support it.
pub fn title(d: &ReportData) -> std::result::Result<String, &'static str> {
    if d.with_interventions().is_empty() {
        return Err("needs an intervention scenario");
    }
    Ok(format!(
        "Net cost against admissions avoided, year {}",
        d.last_year()
    ))
}

pub fn draw<DB: DrawingBackend>(
    d: &ReportData,
    root: &DrawingArea<DB, Shift>,
    k: f64,
) -> std::result::Result<(), String> {
    let last = d.last_year();
    let (level, sys) = d.top();
    let pts: Vec<(String, Stat, Stat)> = d
        .with_interventions()
        .into_iter()
        .filter_map(|s| {
            let a = d.get(&s, last, level, &sys, &Metric::AvoidedAdmissions)?;
            let c = d.get(&s, last, level, &sys, &Metric::CumulativeNetCost)?;
            Some((s, a, c))
        })
        .collect();
    let (xlo, xhi) = range(pts.iter().flat_map(|p| [p.1.p10, p.1.p90]), true);
    let (ylo, yhi) = range(pts.iter().flat_map(|p| [p.2.p10, p.2.p90]), true);
    let yhi = yhi + (yhi - ylo) * 0.3; // room for the legend above the data
    let mut chart = plane(root, k, (xlo, xhi), (ylo, yhi))?;
    chart
        .configure_mesh()
        .x_label_formatter(&|x| count(*x))
        .y_label_formatter(&|y| money(*y))
        .x_desc(format!(
            "emergency admissions avoided in year {last} (median, 10th-90th centile)"
        ))
        .y_desc("cumulative net cost (median, 10th-90th)")
        .label_style(axis_font(k))
        .axis_desc_style(label_font(k))
        .draw()
        .map_err(err)?;
    for (i, (name, a, c)) in pts.iter().enumerate() {
        let colour = PALETTE[i % PALETTE.len()];
        let style = colour.stroke_width(sz(2.0, k));
        chart
            .draw_series([ErrorBar::new_horizontal(
                c.p50,
                a.p10,
                a.p50,
                a.p90,
                style,
                sz(10.0, k),
            )])
            .map_err(err)?;
        chart
            .draw_series([ErrorBar::new_vertical(
                a.p50,
                c.p10,
                c.p50,
                c.p90,
                style,
                sz(10.0, k),
            )])
            .map_err(err)?
            .label(short(name, 30))
            .legend(move |(x, y)| Circle::new((x + 7, y), 5, colour.filled()));
        chart
            .draw_series([Circle::new((a.p50, c.p50), sz(6.0, k), colour.filled())])
            .map_err(err)?;
    }
    legend(&mut chart, k, SeriesLabelPosition::UpperRight)
}
