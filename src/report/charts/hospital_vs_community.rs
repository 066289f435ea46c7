//! Chart 2: hospital and community spend over the years, baseline against a scenario.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::*;
use crate::accounts::metric::Metric;

/// The chart's title, or why the data cannot support it.
pub fn title(d: &ReportData) -> std::result::Result<String, &'static str> {
    let with = d.with_interventions();
    let first = with.first().ok_or("needs an intervention scenario")?;
    Ok(format!(
        "Hospital and community care spend by year (care used; programme costs in chart 4): baseline and {first}"
    ))
}

pub fn draw<DB: DrawingBackend>(
    d: &ReportData,
    root: &DrawingArea<DB, Shift>,
    k: f64,
) -> std::result::Result<(), String> {
    let with = d.with_interventions();
    let base = d.baseline().unwrap_or_else(|| d.scenarios[0].clone());
    let scen = with[0].clone();
    let panels = root.split_evenly((1, 2));
    for (panel, (sector, title)) in panels.iter().zip([
        (Sector::Acute, "hospital (acute) care spend"),
        (Sector::Community, "community services care spend"),
    ]) {
        let lines = [
            (
                base.clone(),
                d.system_series(&base, &Metric::SectorSpend(sector)),
                PALETTE[0],
            ),
            (
                scen.clone(),
                d.system_series(&scen, &Metric::SectorSpend(sector)),
                PALETTE[1],
            ),
        ];
        let (lo, hi) = range(
            lines
                .iter()
                .flat_map(|l| l.1.iter().flat_map(|p| [p.1.p10, p.1.p90])),
            false,
        );
        let mut chart = year_chart(
            panel,
            Some(title),
            d.last_year(),
            (lo, hi),
            "£ a year: mean, 10th-90th centile band",
            k,
        )?;
        for (name, pts, colour) in lines {
            let mut band: Vec<(f64, f64)> = pts.iter().map(|(y, s)| (*y as f64, s.p90)).collect();
            band.extend(pts.iter().rev().map(|(y, s)| (*y as f64, s.p10)));
            chart
                .draw_series([Polygon::new(band, colour.mix(0.2).filled())])
                .map_err(err)?;
            chart
                .draw_series(LineSeries::new(
                    pts.iter().map(|(y, s)| (*y as f64, s.mean)),
                    colour.stroke_width(sz(3.0, k)),
                ))
                .map_err(err)?
                .label(short(&name, 28))
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 14, y)], colour.stroke_width(3))
                });
        }
        legend(&mut chart, k, SeriesLabelPosition::UpperLeft)?;
    }
    Ok(())
}
