//! Chart 14: how well a calibrated system predicted years it had not seen. Each held-out
//! area-year of the run's calibration (`capsim calibrate --observed ... --validate-from`)
//! as its observed count over the simulated mean, against the simulated mean (log scale),
//! with the simulated 90% interval as a bar over the same mean: a point outside its bar
//! is an area the fitted model did not expect. Colours are settings.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::*;

/// The chart's title, or why the data cannot support it.
pub fn title(d: &ReportData) -> std::result::Result<String, &'static str> {
    let c = d
        .calibration
        .as_ref()
        .ok_or("needs a run on a calibrated system ([calibration] file)")?;
    let rows = &c.validation;
    if rows.is_empty() {
        return Err("needs a calibration with held-out years (--validate-from)");
    }
    let inside = rows
        .iter()
        .filter(|r| r.simulated.lo <= r.observed && r.observed <= r.simulated.hi)
        .count();
    Ok(format!(
        "Held-out years: observed over simulated, {} area-years, {:.0}% inside their simulated 90% interval",
        rows.len(),
        100.0 * inside as f64 / rows.len() as f64
    ))
}

pub fn draw<DB: DrawingBackend>(
    d: &ReportData,
    root: &DrawingArea<DB, Shift>,
    k: f64,
) -> std::result::Result<(), String> {
    let Some(c) = &d.calibration else {
        return Ok(());
    };
    let rows: Vec<_> = c
        .validation
        .iter()
        .filter(|r| r.simulated.mean > 0.0)
        .collect();
    let x = |m: f64| m.log10();
    let ratio = |v: f64, m: f64| v / m;
    let (xlo, xhi) = range(rows.iter().map(|r| x(r.simulated.mean)), false);
    let (ylo, yhi) = range(
        rows.iter().flat_map(|r| {
            let m = r.simulated.mean;
            [
                ratio(r.observed, m),
                ratio(r.simulated.lo, m),
                ratio(r.simulated.hi, m),
            ]
        }),
        false,
    );
    let yhi = yhi + (yhi - ylo) * 0.3; // room for the legend
    let mut chart = plane(root, k, (xlo, xhi), (ylo, yhi))?;
    chart
        .configure_mesh()
        .x_label_formatter(&|v| count(10f64.powf(*v)))
        .y_label_formatter(&|v| format!("{v:.2}"))
        .x_desc("simulated mean count of the area-year (log scale)")
        .y_desc("observed / simulated mean (bar: simulated 90%)")
        .label_style(axis_font(k))
        .axis_desc_style(label_font(k))
        .draw()
        .map_err(err)?;
    chart
        .draw_series(LineSeries::new(
            [(xlo, 1.0), (xhi, 1.0)],
            BLACK.mix(0.6).stroke_width(sz(1.5, k)),
        ))
        .map_err(err)?;
    let mut settings: Vec<_> = rows.iter().map(|r| r.setting).collect();
    settings.sort();
    settings.dedup();
    for (i, s) in settings.iter().enumerate() {
        let colour = PALETTE[i % PALETTE.len()];
        let mine: Vec<_> = rows.iter().filter(|r| r.setting == *s).collect();
        chart
            .draw_series(mine.iter().map(|r| {
                let m = r.simulated.mean;
                PathElement::new(
                    vec![
                        (x(m), ratio(r.simulated.lo, m)),
                        (x(m), ratio(r.simulated.hi, m)),
                    ],
                    colour.mix(0.35).stroke_width(sz(2.0, k)),
                )
            }))
            .map_err(err)?;
        chart
            .draw_series(mine.iter().map(|r| {
                let m = r.simulated.mean;
                Circle::new((x(m), ratio(r.observed, m)), sz(3.5, k), colour.filled())
            }))
            .map_err(err)?
            .label(s.id())
            .legend(move |(px, py)| Circle::new((px + 7, py), 5, colour.filled()));
    }
    legend(&mut chart, k, SeriesLabelPosition::UpperRight)
}
