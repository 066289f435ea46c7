//! Chart 1: budget against spend per head, by neighbourhood, with the envelope per head.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::*;
use crate::accounts::metric::{FormulaMetric, Metric};
use crate::core::level::Level;

/// The chart's title, or why the data cannot support it.
pub fn title(d: &ReportData) -> std::result::Result<String, &'static str> {
    let f = d
        .formula()
        .ok_or("needs capitation budgets in the summary")?;
    let last = d.last_year();
    Ok(format!(
        "Budget and spend per head by neighbourhood, year {last} ({f} formula)"
    ))
}

pub fn draw<DB: DrawingBackend>(
    d: &ReportData,
    root: &DrawingArea<DB, Shift>,
    k: f64,
) -> std::result::Result<(), String> {
    let f = d.formula().unwrap_or_default();
    let s = d.scenarios[0].clone();
    let last = d.last_year();
    let mut rows: Vec<(String, f64, f64)> = d
        .summary
        .iter()
        .filter(|(key, _)| {
            key.0 == s
                && key.1 == last
                && key.2 == Level::Neighbourhood
                && key.4 == Metric::formula(FormulaMetric::BudgetPerHead, &f)
        })
        .map(|(key, st)| {
            let spend = d
                .get(
                    &s,
                    last,
                    Level::Neighbourhood,
                    &key.3,
                    &Metric::SpendPerHead,
                )
                .map_or(f64::NAN, |x| x.mean);
            (key.3.clone(), st.mean, spend)
        })
        .collect();
    rows.sort_by(|a, b| a.2.total_cmp(&b.2));
    let sys = d.system();
    let envelope = d
        .get(
            &s,
            last,
            Level::System,
            &sys,
            &Metric::formula(FormulaMetric::BudgetPerHead, &f),
        )
        .map_or(f64::NAN, |x| x.mean);
    let (lo, hi) = range(
        rows.iter().flat_map(|r| [r.1, r.2]).chain([envelope]),
        false,
    );
    let hi = hi + (hi - lo) * 0.35; // room for the legend
    let n = rows.len() as f64;
    let mut chart = ChartBuilder::on(root)
        .margin(sz(12.0, k))
        .x_label_area_size(sz(50.0, k))
        .y_label_area_size(sz(150.0, k))
        .build_cartesian_2d(lo..hi, -0.5..n - 0.5)
        .map_err(err)?;
    let names: Vec<String> = rows.iter().map(|r| short(&r.0, 22)).collect();
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(rows.len())
        .y_label_formatter(&|y| names.get(y.round() as usize).cloned().unwrap_or_default())
        .x_label_formatter(&|x| money(*x))
        .x_desc("£ per resident (mean over runs); neighbourhoods sorted by spend per head")
        .label_style((FONT, sz(10.0, k)).into_font())
        .axis_desc_style(label_font(k))
        .draw()
        .map_err(err)?;
    chart
        .draw_series(rows.iter().enumerate().map(|(i, r)| {
            Rectangle::new(
                [(lo, i as f64 - 0.38), (r.2, i as f64 + 0.38)],
                PALETTE[4].filled(),
            )
        }))
        .map_err(err)?
        .label("spend per head")
        .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], PALETTE[4].filled()));
    chart
        .draw_series(rows.iter().enumerate().map(|(i, r)| {
            PathElement::new(
                vec![(r.1, i as f64 - 0.45), (r.1, i as f64 + 0.45)],
                ShapeStyle::from(PALETTE[5]).stroke_width(sz(4.0, k)),
            )
        }))
        .map_err(err)?
        .label("budget per head")
        .legend(|(x, y)| {
            PathElement::new(
                vec![(x + 7, y - 6), (x + 7, y + 6)],
                ShapeStyle::from(PALETTE[5]).stroke_width(3),
            )
        });
    chart
        .draw_series(LineSeries::new(
            [(envelope, -0.5), (envelope, n - 0.5)],
            ShapeStyle::from(BLACK).stroke_width(sz(2.0, k)),
        ))
        .map_err(err)?
        .label("system envelope per head")
        .legend(|(x, y)| {
            PathElement::new(vec![(x + 7, y - 6), (x + 7, y + 6)], BLACK.stroke_width(2))
        });
    legend(&mut chart, k, SeriesLabelPosition::LowerRight)
}
