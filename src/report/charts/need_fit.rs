//! Chart 9: how well the capitation formula fits: each neighbourhood's actual spend per
//! head against what the formula predicts (its weighted share of the system's spend), in
//! year 1, with the line of perfect fit, a band of +-10% and R².

use plotters::coord::Shift;
use plotters::prelude::*;

use super::*;
use crate::accounts::metric::{FormulaMetric, Metric};
use crate::accounts::need_formula::r_squared;
use crate::core::level::Level;

/// The formula the chart checks: `need` when the scenario has it, else the headline one.
fn formula(d: &ReportData) -> Option<String> {
    let first = d.scenarios.first()?;
    let (level, sys) = d.top();
    let has = |f: &str| {
        d.get(
            first,
            1,
            level,
            &sys,
            &Metric::formula(FormulaMetric::WeightedPopulation, f),
        )
        .is_some()
    };
    if has("need") {
        Some("need".into())
    } else {
        d.formula().filter(|f| has(f))
    }
}

/// (neighbourhood, actual spend per head, predicted spend per head) in year 1 of the
/// first scenario, from the means over runs.
pub fn points(d: &ReportData, f: &str) -> Vec<(String, f64, f64)> {
    let s = &d.scenarios[0];
    let wanted = Metric::formula(FormulaMetric::WeightedPopulation, f);
    let rows: Vec<(String, f64, f64, f64)> = d
        .rows
        .iter()
        .filter(|r| {
            r.scenario == *s && r.year == 1 && r.level == Level::Neighbourhood && r.metric == wanted
        })
        .filter_map(|r| {
            let get = |m: Metric| {
                d.get(s, 1, Level::Neighbourhood, &r.area, &m)
                    .map(|x| x.mean)
            };
            Some((
                r.area.clone(),
                r.stat.mean,
                get(Metric::CareSpend)?,
                get(Metric::Population)?,
            ))
        })
        .collect();
    let (w, spend): (f64, f64) = rows.iter().fold((0.0, 0.0), |a, r| (a.0 + r.1, a.1 + r.2));
    if w <= 0.0 {
        return Vec::new();
    }
    rows.into_iter()
        .map(|(area, wk, sk, pk)| (area, sk / pk.max(1.0), spend * wk / w / pk.max(1.0)))
        .collect()
}

/// R² of actual against predicted spend per head across neighbourhoods, year 1.
pub fn neighbourhood_r2(d: &ReportData) -> Option<(String, f64)> {
    let f = formula(d)?;
    let pts = points(d, &f);
    (pts.len() >= 2).then(|| {
        let r2 = r_squared(&pts.iter().map(|p| (p.1, p.2)).collect::<Vec<_>>());
        (f, r2)
    })
}

/// The chart's title, or why the data cannot support it.
pub fn title(d: &ReportData) -> std::result::Result<String, &'static str> {
    formula(d).ok_or("needs capitation budgets in the summary")?;
    let (f, r2) = neighbourhood_r2(d).ok_or("needs at least two neighbourhoods")?;
    Ok(format!(
        "Fit of the {f} formula: actual against predicted spend per head, year 1 (R² = {r2:.2})"
    ))
}

pub fn draw<DB: DrawingBackend>(
    d: &ReportData,
    root: &DrawingArea<DB, Shift>,
    k: f64,
) -> std::result::Result<(), String> {
    let f = formula(d).unwrap_or_default();
    let pts = points(d, &f);
    let (lo, hi) = range(pts.iter().flat_map(|p| [p.1, p.2 * 0.9, p.2 * 1.1]), false);
    let hi = hi + (hi - lo) * 0.2; // room for the legend above the data
    let mut chart = plane(root, k, (lo, hi), (lo, hi))?;
    chart
        .configure_mesh()
        .x_label_formatter(&|x| money(*x))
        .y_label_formatter(&|y| money(*y))
        .x_desc(format!("predicted by the {f} formula, £ per head"))
        .y_desc("actual spend, £ per head (mean over runs)")
        .label_style(axis_font(k))
        .axis_desc_style(label_font(k))
        .draw()
        .map_err(err)?;
    for (factor, label, width) in [
        (1.0, "actual = predicted", 2.0),
        (1.1, "+-10%", 1.0),
        (0.9, "", 1.0),
    ] {
        let s = chart
            .draw_series(LineSeries::new(
                [(lo, lo * factor), (hi, hi * factor)],
                BLACK.mix(0.6).stroke_width(sz(width, k)),
            ))
            .map_err(err)?;
        if !label.is_empty() {
            s.label(label).legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 14, y)], BLACK.mix(0.6).stroke_width(2))
            });
        }
    }
    // Hundreds of neighbourhoods (England): smaller translucent points, a distribution.
    let (size, alpha) = if pts.len() > 200 {
        (0.5, 0.35)
    } else {
        (1.0, 1.0)
    };
    chart
        .draw_series(pts.iter().map(|p| {
            let off = (p.1 / p.2 - 1.0).abs() > 0.1;
            Circle::new(
                (p.2, p.1),
                sz(6.0 * size, k),
                if off { PALETTE[5] } else { PALETTE[0] }
                    .mix(alpha)
                    .filled(),
            )
        }))
        .map_err(err)?
        .label("neighbourhood (vermillion: more than 10% off)")
        .legend(|(x, y)| Circle::new((x + 7, y), 5, PALETTE[0].filled()));
    legend(&mut chart, k, SeriesLabelPosition::UpperLeft)
}
