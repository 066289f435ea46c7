//! Chart 5: a one-way tornado of what drives net cost. Each bar is one uncertain
//! parameter at its 10th centile (one end) and its 90th (the other), every other
//! parameter at its base case (median), all from the same random numbers; the bars meet at
//! the base case's discounted cumulative net cost and are ranked by width, widest on top.
//! The report puts the Monte Carlo rank correlations (Spearman, PRCC) under it.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::*;
use crate::accounts::metric::Metric;
use crate::accounts::one_way::OneWayRow;

/// The outcome the bars show.
const OUTCOME: Metric = Metric::DiscountedCumulativeNetCost;
/// One end of a bar, read from its row.
type End = fn(&OneWayRow) -> f64;

/// Bars drawn at most.
const BARS: usize = 10;

/// The chart's title, or why the data cannot support it.
pub fn title(d: &ReportData) -> std::result::Result<String, &'static str> {
    let Some(rows) = &d.one_way else {
        return Err("needs the one-way table (one_way.parquet), which a batch writes; this folder has none (a single run, or written before the table existed)");
    };
    if !rows.iter().any(|r| r.outcome == OUTCOME) {
        return Err("needs an intervention scenario with uncertain parameters");
    }
    Ok(format!(
        "What drives net cost, one parameter at a time: {}",
        scenario(d).unwrap_or_default()
    ))
}

/// The scenario shown: the one with the most uncertain parameters in the one-way table,
/// or, without one, in the sensitivity table (the first in batch order on a tie).
pub fn scenario(d: &ReportData) -> Option<String> {
    let count = |s: &String| match &d.one_way {
        Some(rows) => rows
            .iter()
            .filter(|r| r.scenario == *s && r.outcome == OUTCOME)
            .count(),
        None => d.sensitivity.iter().filter(|r| r.scenario == *s).count(),
    };
    let mut best: Option<(usize, &String)> = None;
    for s in &d.scenarios {
        let n = count(s);
        if n > 0 && best.is_none_or(|(b, _)| n > b) {
            best = Some((n, s));
        }
    }
    best.map(|(_, s)| s.clone())
}

/// A parameter's value for a label: three significant figures or so.
fn value(v: f64) -> String {
    let a = v.abs();
    let s = if a >= 1000.0 {
        count(v)
    } else if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    };
    if s.contains('.') && !s.contains(|c: char| c.is_alphabetic()) {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

pub fn draw<DB: DrawingBackend>(
    d: &ReportData,
    root: &DrawingArea<DB, Shift>,
    k: f64,
) -> std::result::Result<(), String> {
    let s = scenario(d).unwrap_or_default();
    let mut rows: Vec<&OneWayRow> = d
        .one_way
        .iter()
        .flatten()
        .filter(|r| r.scenario == s && r.outcome == OUTCOME)
        .collect();
    rows.sort_by(|a, b| b.width().total_cmp(&a.width()));
    rows.truncate(BARS);
    // Widest on top: the last row is drawn highest.
    rows.reverse();
    let base = rows.first().map_or(0.0, |r| r.outcome_base);
    let (lo, hi) = range(
        rows.iter()
            .flat_map(|r| [r.outcome_low, r.outcome_high, r.outcome_base]),
        false,
    );
    // Room for the end labels either side, and for the legend under the bars.
    let pad = (hi - lo) * 0.22;
    let n = rows.len() as f64;
    let mut chart = ChartBuilder::on(root)
        .caption(
            "one-way: each parameter at its 10th and 90th centile, others at base case",
            label_font(k),
        )
        .margin(sz(12.0, k))
        .x_label_area_size(sz(50.0, k))
        .y_label_area_size(sz(330.0, k))
        .build_cartesian_2d(lo - pad..hi + pad, -1.6..n - 0.5)
        .map_err(err)?;
    // Each parameter with its base-case value.
    let names: Vec<String> = rows
        .iter()
        .map(|r| {
            let name = match r.parameter.split_once('/') {
                Some((iv, field)) => format!("{} ({})", short(field, 28), short(iv, 14)),
                None => short(&r.parameter, 42),
            };
            format!("{name} = {}", value(r.base_value))
        })
        .collect();
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(rows.len() + 2)
        .y_label_formatter(&|y| {
            let i = y.round();
            if (y - i).abs() < 0.01 && i >= 0.0 {
                names.get(i as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .x_label_formatter(&|x| money(*x))
        .x_desc("discounted cumulative net cost (£, last year of the horizon)")
        .label_style(axis_font(k))
        .axis_desc_style(label_font(k))
        .draw()
        .map_err(err)?;
    // The two halves of each bar: base case to the low end (p10), and to the high (p90).
    let ends: [(End, &str); 2] = [
        (|r| r.outcome_low, "parameter at its 10th centile (p10)"),
        (|r| r.outcome_high, "parameter at its 90th centile (p90)"),
    ];
    for (c, (end, label)) in ends.into_iter().enumerate() {
        let colour = PALETTE[c];
        chart
            .draw_series(rows.iter().enumerate().map(|(i, r)| {
                Rectangle::new(
                    [(base, i as f64 - 0.32), (end(r), i as f64 + 0.32)],
                    colour.filled(),
                )
            }))
            .map_err(err)?
            .label(label)
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], colour.filled()));
    }
    // The parameter's value at each end, outside the bar: the end further left is
    // labelled on its left.
    let left = axis_font(k).pos(Pos::new(HPos::Right, VPos::Center));
    let right = axis_font(k).pos(Pos::new(HPos::Left, VPos::Center));
    let gap = (hi - lo) * 0.01;
    chart
        .draw_series(rows.iter().enumerate().flat_map(|(i, r)| {
            let low = format!("p10 {}", value(r.low_value));
            let high = format!("p90 {}", value(r.high_value));
            let (l, h) = (r.outcome_low, r.outcome_high);
            let (west, east) = if l <= h {
                ((l, low), (h, high))
            } else {
                ((h, high), (l, low))
            };
            [
                Text::new(west.1, (west.0 - gap, i as f64), left.clone()),
                Text::new(east.1, (east.0 + gap, i as f64), right.clone()),
            ]
        }))
        .map_err(err)?;
    chart
        .draw_series(LineSeries::new(
            [(base, -0.6), (base, n - 0.5)],
            BLACK.stroke_width(sz(2.0, k)),
        ))
        .map_err(err)?
        .label(format!(
            "base case, every parameter at its median: {}",
            money(base)
        ))
        .legend(|(x, y)| {
            PathElement::new(vec![(x + 7, y - 6), (x + 7, y + 6)], BLACK.stroke_width(2))
        });
    legend(&mut chart, k, SeriesLabelPosition::LowerRight)
}
