//! Chart 4: a waterfall of total cost (care, programme and set-up). From the baseline's
//! year-1 total cost, demography and morbidity take it to the baseline's last year; then
//! the scenario's net cost over the horizon (cumulative, undiscounted) in its parts:
//! activity avoided, activity added (substitution), programme running costs and set-up
//! costs, which sum to the cumulative net cost.

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
        "Total cost: baseline year 1 to year {last}, then {scenario}'s net cost over years 1-{last}"
    ))
}

/// The steps of the waterfall: (label, value, whether the bar is a level rather than a
/// change). The scenario's four steps sum to its cumulative net cost.
pub fn steps(d: &ReportData) -> Vec<(String, f64, bool)> {
    let with = d.with_interventions();
    let scen = with.last().cloned().unwrap_or_default();
    let base = d.baseline().unwrap_or_else(|| d.scenarios[0].clone());
    let (level, sys) = d.top();
    let last = d.last_year();
    let m =
        |s: &str, y: i32, metric: Metric| d.get(s, y, level, &sys, &metric).map_or(0.0, |x| x.mean);
    // Means add, so the sum of the years' means is the mean of the cumulative sum.
    let cumulative = |metric: Metric| (1..=last).map(|y| m(&scen, y, metric.clone())).sum::<f64>();
    let cost1 = m(&base, 1, Metric::TotalCost);
    let pop1 = m(&base, 1, Metric::Population);
    let popn = m(&base, last, Metric::Population);
    let costn = m(&base, last, Metric::TotalCost);
    let demography = (popn - pop1) * cost1 / pop1.max(1.0);
    let morbidity = costn - cost1 - demography;
    let setup = cumulative(Metric::SetupCost);
    let running = cumulative(Metric::ProgrammeCost) - setup;
    vec![
        ("baseline y1".into(), cost1, true),
        ("demography".into(), demography, false),
        ("morbidity, trends".into(), morbidity, false),
        (format!("baseline y{last}"), costn, true),
        (
            "care avoided".into(),
            -cumulative(Metric::GrossSavings),
            false,
        ),
        (
            "care added".into(),
            cumulative(Metric::AddedActivityCost),
            false,
        ),
        ("programme".into(), running, false),
        ("set-up".into(), setup, false),
    ]
}

pub fn draw<DB: DrawingBackend>(
    d: &ReportData,
    root: &DrawingArea<DB, Shift>,
    k: f64,
) -> std::result::Result<(), String> {
    let with = d.with_interventions();
    let scen = with.last().cloned().unwrap_or_default();
    let (level, sys) = d.top();
    let last = d.last_year();
    let shift: f64 = (1..=last)
        .map(|y| {
            d.get(&scen, y, level, &sys, &Metric::FundingShift)
                .map_or(0.0, |x| x.mean)
        })
        .sum();
    let steps = steps(d);
    let net: f64 = steps[4..].iter().map(|s| s.1).sum();
    let costn = steps[3].1;
    let mut level = 0.0;
    let mut bars: Vec<(String, f64, f64, RGBColor)> = Vec::new();
    for (name, v, absolute) in &steps {
        if *absolute {
            bars.push((name.clone(), 0.0, *v, PALETTE[0]));
            level = *v;
        } else {
            let colour = if *v >= 0.0 { PALETTE[5] } else { PALETTE[2] };
            bars.push((name.clone(), level, level + v, colour));
            level += v;
        }
    }
    bars.push((
        format!("net cost y1-{last}"),
        costn,
        costn + net,
        PALETTE[4],
    ));
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
        .y_desc("total cost, £ (axis cut; mean over runs; undiscounted)")
        .x_desc(format!(
            "{scen}, years 1-{last}: net cost {} = the four steps before it; funding moved {} (a transfer)",
            money(net),
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
