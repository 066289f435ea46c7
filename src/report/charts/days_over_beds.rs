//! Days over a bed count: for the last year, the expected days on which more beds are
//! occupied than each count on the x axis, with and without each scenario's
//! interventions. Occupied beds on a day are Poisson with the month's mean
//! (`accounts::capacity`), from the median run's emergency bed days; the 95% bed
//! requirement is where a curve crosses 5% of the year, and the existing bed base is
//! marked when one is given.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::beds_by_year::whole;
use super::*;
use crate::accounts::capacity::{Peak, Profile, YEAR_DAYS};
use crate::accounts::metric::Metric;
use crate::core::care::Setting;

/// (label, peak) curves: the counterfactual first (from the first scenario with
/// interventions and beds), then each scenario with beds.
fn curves(d: &ReportData) -> Vec<(String, Peak)> {
    let last = d.last_year();
    let (level, area) = d.top();
    let bed_days = Metric::Count(Setting::EmergencyBedDays);
    let mut out = Vec::new();
    for s in &d.scenarios {
        if d.get(s, last, level, &area, &Metric::BedsRequired)
            .is_none()
        {
            continue;
        }
        let Some(days) = d.get(s, last, level, &area, &bed_days) else {
            continue;
        };
        let profile = d
            .bed_profiles
            .get(s)
            .map_or_else(Profile::default, |m| Profile::new(*m));
        if out.is_empty() {
            if let Some(avoided) = d.get(s, last, level, &area, &Metric::AvoidedBedDays) {
                out.push((
                    "without the interventions".to_string(),
                    Peak::new(days.p50 + avoided.p50, &profile),
                ));
            }
        }
        out.push((short(s, 30), Peak::new(days.p50, &profile)));
    }
    out
}

/// The chart's title, or why the data cannot support it.
pub fn title(d: &ReportData) -> std::result::Result<String, &'static str> {
    if curves(d).is_empty() {
        return Err("needs beds: a scenario with a [capacity] section");
    }
    Ok(format!(
        "Days in year {} with more beds occupied than a given number (median run)",
        d.last_year()
    ))
}

pub fn draw<DB: DrawingBackend>(
    d: &ReportData,
    root: &DrawingArea<DB, Shift>,
    k: f64,
) -> std::result::Result<(), String> {
    let curves = curves(d);
    let means = curves
        .iter()
        .flat_map(|(_, p)| (0..12).map(|m| p.mean_in_month(m)))
        .collect::<Vec<_>>();
    let (mlo, mhi) = (
        means.iter().cloned().fold(f64::INFINITY, f64::min),
        means.iter().cloned().fold(0.0, f64::max),
    );
    let (xlo, xhi) = (
        (mlo - 3.0 * mlo.sqrt()).max(0.0).floor(),
        (mhi + 4.0 * mhi.sqrt() + 2.0).ceil(),
    );
    let base = d.scenarios.iter().find_map(|s| {
        let (level, area) = d.top();
        d.get(s, d.last_year(), level, &area, &Metric::BedBase)
            .map(|b| b.p50)
    });
    let xhi = base.map_or(xhi, |b| xhi.max(b + 1.0));
    let mut chart = plane(root, k, (xlo, xhi), (0.0, YEAR_DAYS * 1.25))?;
    chart
        .configure_mesh()
        .x_label_formatter(&|x| whole(*x))
        .y_label_formatter(&|y| format!("{y:.0}"))
        .x_desc("beds")
        .y_desc("expected days a year with more beds occupied")
        .label_style(axis_font(k))
        .axis_desc_style(label_font(k))
        .draw()
        .map_err(err)?;
    let step = ((xhi - xlo) / 300.0).max(1.0);
    for (i, (name, peak)) in curves.iter().enumerate() {
        let colour = if i == 0 && name.starts_with("without") {
            BLACK
        } else {
            PALETTE[i % (PALETTE.len() - 1)]
        };
        let pts: Vec<(f64, f64)> = (0..)
            .map(|j| xlo + j as f64 * step)
            .take_while(|x| *x <= xhi)
            .map(|x| (x, peak.days_over(x as u64)))
            .collect();
        chart
            .draw_series(LineSeries::new(pts, colour.stroke_width(sz(2.5, k))))
            .map_err(err)?
            .label(name.clone())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 14, y)], colour.stroke_width(3))
            });
    }
    let grey = BLACK.mix(0.5);
    chart
        .draw_series(LineSeries::new(
            [(xlo, 0.05 * YEAR_DAYS), (xhi, 0.05 * YEAR_DAYS)],
            grey.stroke_width(sz(1.0, k)),
        ))
        .map_err(err)?
        .label("5% of days (the 95% bed requirement)")
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 14, y)], grey.stroke_width(1)));
    if let Some(b) = base {
        let red = PALETTE[5];
        chart
            .draw_series(LineSeries::new(
                [(b, 0.0), (b, YEAR_DAYS)],
                red.stroke_width(sz(2.0, k)),
            ))
            .map_err(err)?
            .label(format!("existing beds ({})", whole(b)))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x + 7, y - 6), (x + 7, y + 6)], red.stroke_width(2))
            });
    }
    legend(&mut chart, k, SeriesLabelPosition::UpperRight)
}
