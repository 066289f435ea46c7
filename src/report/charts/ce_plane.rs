//! Chart 10: the cost-effectiveness plane: each run's discounted QALYs gained against its
//! discounted cumulative net cost, by scenario, with the threshold line (points below it
//! are cost-effective at that price of a QALY).

use plotters::coord::Shift;
use plotters::prelude::*;

use super::*;

/// (scenario, [(QALYs, net cost)]) of the scenarios with interventions, one point per run.
pub fn points(d: &ReportData) -> Vec<(String, Vec<(f64, f64)>)> {
    d.with_interventions()
        .into_iter()
        .map(|s| {
            let pts = d
                .runs
                .iter()
                .filter(|r| r.0 == s && r.2.iter().all(|v| v.is_finite()))
                .map(|r| (r.2[1], r.2[0]))
                .collect();
            (s, pts)
        })
        .filter(|(_, p): &(String, Vec<(f64, f64)>)| !p.is_empty())
        .collect()
}

/// The chart's title, or why the data cannot support it.
pub fn title(d: &ReportData) -> std::result::Result<String, &'static str> {
    if points(d).is_empty() {
        return Err("needs an intervention scenario with its per-run metrics");
    }
    Ok(format!(
        "Cost-effectiveness plane: net cost against QALYs gained by year {}, one point per run (discounted)",
        d.last_year()
    ))
}

pub fn draw<DB: DrawingBackend>(
    d: &ReportData,
    root: &DrawingArea<DB, Shift>,
    k: f64,
) -> std::result::Result<(), String> {
    let pts = points(d);
    let (xlo, xhi) = range(pts.iter().flat_map(|p| p.1.iter().map(|x| x.0)), true);
    let (ylo, yhi) = range(pts.iter().flat_map(|p| p.1.iter().map(|x| x.1)), true);
    let yhi = yhi + (yhi - ylo) * 0.3; // room for the legend above the data
    let mut chart = plane(root, k, (xlo, xhi), (ylo, yhi))?;
    chart
        .configure_mesh()
        .x_label_formatter(&|x| count(*x))
        .y_label_formatter(&|y| money(*y))
        .x_desc("QALYs gained (discounted, cumulative)")
        .y_desc("net cost (discounted, cumulative)")
        .label_style(axis_font(k))
        .axis_desc_style(label_font(k))
        .draw()
        .map_err(err)?;
    let lambda = d.qaly_threshold;
    chart
        .draw_series(LineSeries::new(
            [(xlo, lambda * xlo), (xhi, lambda * xhi)],
            BLACK.mix(0.6).stroke_width(sz(2.0, k)),
        ))
        .map_err(err)?
        .label(format!("{} per QALY", money(lambda)))
        .legend(|(x, y)| {
            PathElement::new(vec![(x, y), (x + 14, y)], BLACK.mix(0.6).stroke_width(2))
        });
    for (i, (name, p)) in pts.iter().enumerate() {
        let colour = PALETTE[i % PALETTE.len()];
        chart
            .draw_series(
                p.iter()
                    .map(|(x, y)| Circle::new((*x, *y), sz(4.0, k), colour.mix(0.7).filled())),
            )
            .map_err(err)?
            .label(short(name, 28))
            .legend(move |(x, y)| Circle::new((x + 7, y), 5, colour.filled()));
    }
    legend(&mut chart, k, SeriesLabelPosition::UpperLeft)
}
