//! Chart 5: a tornado of what drives net cost.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::*;

/// The chart's title, or why the data cannot support it.
pub fn title(d: &ReportData) -> std::result::Result<String, &'static str> {
    if d.sensitivity.is_empty() {
        return Err("needs uncertain parameters and at least 3 runs of an intervention scenario");
    }
    Ok(format!("What drives net cost: {}", tornado_scenario(d)))
}

pub fn draw<DB: DrawingBackend>(
    d: &ReportData,
    root: &DrawingArea<DB, Shift>,
    k: f64,
) -> std::result::Result<(), String> {
    let s = tornado_scenario(d);
    let mut rows: Vec<&SensitivityRow> = d.sensitivity.iter().filter(|x| x.scenario == s).collect();
    rows.sort_by(|a, b| {
        (b.net_cost_high - b.net_cost_low)
            .abs()
            .total_cmp(&(a.net_cost_high - a.net_cost_low).abs())
    });
    rows.truncate(10);
    rows.reverse();
    let (lo, hi) = range(
        rows.iter().flat_map(|r| [r.net_cost_low, r.net_cost_high]),
        false,
    );
    let n = rows.len() as f64;
    let mut chart = ChartBuilder::on(root)
        .margin(sz(12.0, k))
        .x_label_area_size(sz(50.0, k))
        .y_label_area_size(sz(380.0, k))
        .build_cartesian_2d(lo..hi, -0.5..n - 0.5)
        .map_err(err)?;
    let names: Vec<String> = rows
        .iter()
        .map(|r| match r.parameter.split_once('/') {
            Some((iv, field)) => format!("{} ({})", short(field, 34), short(iv, 18)),
            None => short(&r.parameter, 50),
        })
        .collect();
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(rows.len())
        .y_label_formatter(&|y| names.get(y.round() as usize).cloned().unwrap_or_default())
        .x_label_formatter(&|x| money(*x))
        .x_desc("cumulative net cost when the parameter is in its lowest tenth (blue) or highest tenth (orange)")
        .label_style(axis_font(k))
        .axis_desc_style(label_font(k))
        .draw()
        .map_err(err)?;
    chart
        .draw_series(rows.iter().enumerate().map(|(i, r)| {
            Rectangle::new(
                [
                    (r.net_cost_low, i as f64 - 0.35),
                    ((r.net_cost_low + r.net_cost_high) / 2.0, i as f64 + 0.35),
                ],
                PALETTE[0].filled(),
            )
        }))
        .map_err(err)?;
    chart
        .draw_series(rows.iter().enumerate().map(|(i, r)| {
            Rectangle::new(
                [
                    ((r.net_cost_low + r.net_cost_high) / 2.0, i as f64 - 0.35),
                    (r.net_cost_high, i as f64 + 0.35),
                ],
                PALETTE[1].filled(),
            )
        }))
        .map_err(err)?;
    Ok(())
}

fn tornado_scenario(d: &ReportData) -> String {
    // The scenario with the most uncertain parameters.
    let mut best = (0, String::new());
    for s in &d.scenarios {
        let n = d.sensitivity.iter().filter(|x| x.scenario == *s).count();
        if n > best.0 {
            best = (n, s.clone());
        }
    }
    best.1
}
