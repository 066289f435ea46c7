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
        "Budget and cash cost per head by neighbourhood, year {last} ({f} formula)"
    ))
}

/// Each neighbourhood's (name, budget per head, cash cost per head) in the last year under
/// the first formula, sorted by budget minus cost, and the system's envelope per head.
fn per_head(d: &ReportData) -> (Vec<(String, f64, f64)>, f64) {
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
                    &Metric::CashCostPerHead,
                )
                .map_or(f64::NAN, |x| x.mean);
            (key.3.clone(), st.mean, spend)
        })
        .collect();
    rows.sort_by(|a, b| (a.1 - a.2).total_cmp(&(b.1 - b.2)));
    let (level, sys) = d.top();
    let envelope = d
        .get(
            &s,
            last,
            level,
            &sys,
            &Metric::formula(FormulaMetric::BudgetPerHead, &f),
        )
        .map_or(f64::NAN, |x| x.mean);
    (rows, envelope)
}

pub fn draw<DB: DrawingBackend>(
    d: &ReportData,
    root: &DrawingArea<DB, Shift>,
    k: f64,
) -> std::result::Result<(), String> {
    let (rows, envelope) = per_head(d);
    // With many areas (the England preset's 1,250), a row each would not read: the
    // chart keeps the areas furthest over and under budget per head, and one row
    // summarises the rest as the range of their spend per head, with its median.
    let (rows, others) = extremes(rows);
    let (lo, hi) = range(
        rows.iter()
            .flat_map(|r| [r.1, r.2])
            .chain(others.iter().flat_map(|o| [o.1, o.3]))
            .chain([envelope]),
        false,
    );
    let hi = hi + (hi - lo) * 0.35; // room for the legend
    let mut names: Vec<String> = rows.iter().map(|r| short(&r.0, 22)).collect();
    // The summary row sits between the areas under budget and those over it.
    let at_others = others.as_ref().map(|o| {
        names.insert(EACH_END, format!("{} others", o.0));
        EACH_END
    });
    let n = names.len() as f64;
    // Rows at or above the summary row sit one place lower.
    let y_of = |i: usize| match at_others {
        Some(a) if i >= a => (i + 1) as f64,
        _ => i as f64,
    };
    let mut chart = ChartBuilder::on(root)
        .margin(sz(12.0, k))
        .x_label_area_size(sz(50.0, k))
        .y_label_area_size(sz(150.0, k))
        .build_cartesian_2d(lo..hi, -0.5..n - 0.5)
        .map_err(err)?;
    let desc = if others.is_some() {
        "£ per resident (mean over runs); the areas furthest under and over budget, sorted"
    } else {
        "£ per resident (mean over runs); neighbourhoods sorted by budget minus spend"
    };
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(names.len())
        .y_label_formatter(&|y| names.get(y.round() as usize).cloned().unwrap_or_default())
        .x_label_formatter(&|x| money(*x))
        .x_desc(desc)
        .label_style((FONT, sz(10.0, k)).into_font())
        .axis_desc_style(label_font(k))
        .draw()
        .map_err(err)?;
    // A thin line joins each area's spend and budget, so the gap reads as the position;
    // dots, not bars, because the axis does not start at zero.
    chart
        .draw_series(rows.iter().enumerate().map(|(i, r)| {
            PathElement::new(
                vec![(r.1, y_of(i)), (r.2, y_of(i))],
                BLACK.mix(0.35).stroke_width(sz(1.5, k)),
            )
        }))
        .map_err(err)?;
    chart
        .draw_series(
            rows.iter()
                .enumerate()
                .map(|(i, r)| Circle::new((r.2, y_of(i)), sz(5.0, k), PALETTE[0].filled())),
        )
        .map_err(err)?
        .label("cash cost per head (care, programme, fixed costs still paid)")
        .legend(|(x, y)| Circle::new((x + 7, y), 5, PALETTE[0].filled()));
    chart
        .draw_series(rows.iter().enumerate().map(|(i, r)| {
            PathElement::new(
                vec![(r.1, y_of(i) - 0.4), (r.1, y_of(i) + 0.4)],
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
    if let (Some(o), Some(a)) = (&others, at_others) {
        let y = a as f64;
        chart
            .draw_series([PathElement::new(
                vec![(o.1, y), (o.3, y)],
                PALETTE[0].mix(0.6).stroke_width(sz(6.0, k)),
            )])
            .map_err(err)?
            .label("others: range of cash cost per head")
            .legend(|(x, y)| {
                PathElement::new(
                    vec![(x, y), (x + 14, y)],
                    PALETTE[0].mix(0.6).stroke_width(6),
                )
            });
        chart
            .draw_series([Circle::new((o.2, y), sz(5.0, k), BLACK.filled())])
            .map_err(err)?
            .label("others: median")
            .legend(|(x, y)| Circle::new((x + 7, y), 5, BLACK.filled()));
    }
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

/// Areas beyond which the chart keeps only the extremes.
const MAX_ROWS: usize = 40;
/// Extremes kept at each end when there are more areas than [`MAX_ROWS`].
const EACH_END: usize = 12;

/// The rest of the areas: (how many, lowest, median and highest spend per head).
type Others = (usize, f64, f64, f64);

/// All the rows when there are few; else the [`EACH_END`] furthest under and over budget
/// per head (rows sorted by budget minus spend) and a summary of the others.
fn extremes(rows: Vec<(String, f64, f64)>) -> (Vec<(String, f64, f64)>, Option<Others>) {
    if rows.len() <= MAX_ROWS {
        return (rows, None);
    }
    let n = rows.len();
    let mut middle: Vec<f64> = rows[EACH_END..n - EACH_END].iter().map(|r| r.2).collect();
    middle.sort_by(f64::total_cmp);
    let others = (
        middle.len(),
        middle[0],
        middle[middle.len() / 2],
        middle[middle.len() - 1],
    );
    let mut kept: Vec<_> = rows[..EACH_END].to_vec();
    kept.extend_from_slice(&rows[n - EACH_END..]);
    (kept, Some(others))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn many_areas_keep_the_extremes_and_summarise_the_rest() {
        let rows: Vec<(String, f64, f64)> = (0..100)
            .map(|i| (format!("n{i}"), 1000.0 + i as f64, 1000.0))
            .collect();
        let (kept, others) = extremes(rows.clone());
        assert_eq!(kept.len(), 2 * EACH_END);
        assert_eq!(kept[0].0, "n0");
        assert_eq!(kept.last().unwrap().0, "n99");
        assert_eq!(others.unwrap().0, 100 - 2 * EACH_END);
        let (few, none) = extremes(rows[..10].to_vec());
        assert_eq!(few.len(), 10);
        assert!(none.is_none());
    }
}
