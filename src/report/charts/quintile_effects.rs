//! Chart 12: what each scenario does for each deprivation quintile: emergency admissions
//! avoided per 1,000 residents in the last year, quintile 1 (most deprived) to 5, so a
//! board sees at a glance whether a service narrows or widens the gap.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::*;
use crate::accounts::metric::Metric;
use crate::core::dims::N_IMD;
use crate::core::level::Level;

/// Per scenario and quintile: the median and 10th-90th centile of admissions avoided
/// per 1,000 residents (the centiles divided by the mean population, which barely varies
/// between runs).
fn points(d: &ReportData) -> Vec<(String, Vec<(usize, Stat)>)> {
    let last = d.last_year();
    d.with_interventions()
        .into_iter()
        .map(|s| {
            let per_q = (1..=N_IMD)
                .filter_map(|q| {
                    let area = q.to_string();
                    let a = d.get(
                        &s,
                        last,
                        Level::ImdQuintile,
                        &area,
                        &Metric::AvoidedAdmissions,
                    )?;
                    let p = d.get(&s, last, Level::ImdQuintile, &area, &Metric::Population)?;
                    let per = 1000.0 / p.mean.max(1.0);
                    let c = a.centiles().map(|v| v * per);
                    Some((q, Stat::from_centiles(a.mean * per, c)))
                })
                .collect();
            (s, per_q)
        })
        .filter(|(_, v): &(String, Vec<_>)| !v.is_empty())
        .collect()
}

/// The chart's title, or why the data cannot support it.
pub fn title(d: &ReportData) -> std::result::Result<String, &'static str> {
    if points(d).is_empty() {
        return Err("needs an intervention scenario with results by deprivation quintile");
    }
    Ok(format!(
        "Admissions avoided per 1,000 residents by deprivation quintile, year {}",
        d.last_year()
    ))
}

pub fn draw<DB: DrawingBackend>(
    d: &ReportData,
    root: &DrawingArea<DB, Shift>,
    k: f64,
) -> std::result::Result<(), String> {
    let pts = points(d);
    let (ylo, yhi) = range(
        pts.iter()
            .flat_map(|(_, v)| v.iter().flat_map(|(_, s)| [s.p10, s.p90])),
        true,
    );
    let yhi = yhi + (yhi - ylo) * 0.3; // room for the legend above the data
    let mut chart = plane(root, k, (0.5, N_IMD as f64 + 0.5), (ylo, yhi))?;
    chart
        .configure_mesh()
        .x_labels(N_IMD)
        .x_label_formatter(&|x| match x.round() as usize {
            1 => "1 most deprived".to_string(),
            q if q == N_IMD => format!("{q} least deprived"),
            q => q.to_string(),
        })
        .y_label_formatter(&|y| format!("{y:.1}"))
        .x_desc("deprivation quintile (IMD)")
        .y_desc("admissions avoided per 1,000 residents (median, 10th-90th)")
        .label_style(axis_font(k))
        .axis_desc_style(label_font(k))
        .draw()
        .map_err(err)?;
    let n = pts.len() as f64;
    for (i, (name, per_q)) in pts.iter().enumerate() {
        let colour = PALETTE[i % PALETTE.len()];
        // Scenarios side by side within each quintile.
        let dx = (i as f64 - (n - 1.0) / 2.0) * 0.6 / n.max(1.0);
        let style = colour.stroke_width(sz(2.0, k));
        chart
            .draw_series(per_q.iter().map(|(q, s)| {
                ErrorBar::new_vertical(*q as f64 + dx, s.p10, s.p50, s.p90, style, sz(8.0, k))
            }))
            .map_err(err)?
            .label(short(name, 30))
            .legend(move |(x, y)| Circle::new((x + 7, y), 5, colour.filled()));
        chart
            .draw_series(
                per_q.iter().map(|(q, s)| {
                    Circle::new((*q as f64 + dx, s.p50), sz(5.0, k), colour.filled())
                }),
            )
            .map_err(err)?;
    }
    legend(&mut chart, k, SeriesLabelPosition::UpperRight)
}
