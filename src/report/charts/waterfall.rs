//! Chart 4: a waterfall from year-1 spend: demography, morbidity, intervention effect and cost, with the funding shift.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::*;
use crate::accounts::metric::Metric;

/// The chart's title, or why the data cannot support it.
pub fn title(d: &ReportData) -> std::result::Result<String, &'static str> {
    let with = d.with_interventions();
    let scenario = with.last().ok_or("needs an intervention scenario")?;
    let last = d.last_year();
    Ok(format!(
        "From year-1 spend to year-{last} spend with {scenario}"
    ))
}

pub fn draw<DB: DrawingBackend>(
    d: &ReportData,
    root: &DrawingArea<DB, Shift>,
    k: f64,
) -> std::result::Result<(), String> {
    let with = d.with_interventions();
    let scen = with.last().cloned().unwrap_or_default();
    let base = d.baseline().unwrap_or_else(|| d.scenarios[0].clone());
    let (level, sys) = d.top();
    let last = d.last_year();
    let m =
        |s: &str, y: i32, metric: Metric| d.get(s, y, level, &sys, &metric).map_or(0.0, |x| x.mean);
    let spend1 = m(&base, 1, Metric::Spend);
    let pop1 = m(&base, 1, Metric::Population);
    let popn = m(&base, last, Metric::Population);
    let spendn = m(&base, last, Metric::Spend);
    let demography = (popn - pop1) * spend1 / pop1.max(1.0);
    let morbidity = spendn - spend1 - demography;
    let effect = m(&scen, last, Metric::Spend) - spendn;
    let cost = m(&scen, last, Metric::InterventionCost);
    let shift = m(&scen, last, Metric::FundingShift);
    let steps: Vec<(String, f64, bool)> = vec![
        ("year-1 spend".into(), spend1, true),
        ("demography".into(), demography, false),
        ("morbidity, ageing and prices".into(), morbidity, false),
        ("intervention effect".into(), effect, false),
        ("intervention cost".into(), cost, false),
        (format!("year-{last} total"), spendn + effect + cost, true),
        ("of which funding moved to community".into(), shift, true),
    ];
    let mut level = 0.0;
    let mut bars: Vec<(String, f64, f64, RGBColor)> = Vec::new();
    for (name, v, absolute) in &steps[..6] {
        if *absolute {
            bars.push((name.clone(), 0.0, *v, PALETTE[0]));
            level = *v;
        } else {
            let colour = if *v >= 0.0 { PALETTE[5] } else { PALETTE[2] };
            bars.push((name.clone(), level, level + v, colour));
            level += v;
        }
    }
    // The axis starts near the smallest running total, so that changes of a few per cent
    // show; the first and last bars are drawn from there (the axis is marked as cut).
    let tops: Vec<f64> = bars
        .iter()
        .flat_map(|b| [b.2, if b.1 == 0.0 { b.2 } else { b.1 }])
        .collect();
    let (lo, hi) = range(tops, false);
    let n = bars.len() as f64;
    let mut chart = ChartBuilder::on(root)
        .margin(sz(12.0, k))
        .x_label_area_size(sz(60.0, k))
        .y_label_area_size(sz(80.0, k))
        .build_cartesian_2d(-0.5..n - 0.5, lo..hi)
        .map_err(err)?;
    let names: Vec<String> = bars.iter().map(|b| short(&b.0, 26)).collect();
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(bars.len())
        .x_label_formatter(&|x| names.get(x.round() as usize).cloned().unwrap_or_default())
        .y_label_formatter(&|y| money(*y))
        .y_desc(format!("system spend, £ a year (axis cut; mean over runs; {scen})"))
        .x_desc(format!(
            "funding moved from hospital to community budgets in year {last}: {} (a transfer, not a cost)",
            money(shift)
        ))
        .label_style(axis_font(k))
        .axis_desc_style(label_font(k))
        .draw()
        .map_err(err)?;
    chart
        .draw_series(bars.iter().enumerate().map(|(i, b)| {
            let bottom = if b.1 == 0.0 { lo } else { b.1 };
            Rectangle::new(
                [(i as f64 - 0.35, bottom), (i as f64 + 0.35, b.2)],
                b.3.filled(),
            )
        }))
        .map_err(err)?;
    let text = axis_font(k).pos(Pos::new(HPos::Center, VPos::Bottom));
    chart
        .draw_series(bars.iter().enumerate().map(|(i, b)| {
            let v = if b.1 == 0.0 {
                money(b.2)
            } else {
                format!("{}{}", if b.2 >= b.1 { "+" } else { "" }, money(b.2 - b.1))
            };
            Text::new(v, (i as f64, b.1.max(b.2) + (hi - lo) * 0.01), text.clone())
        }))
        .map_err(err)?;
    Ok(())
}
