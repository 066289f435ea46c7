//! Chart 12: which option to fund. For each price of a QALY, each option's share of runs in
//! which it has the highest net monetary benefit (mutually exclusive options: the shares
//! add up to one), with the acceptability frontier marked: the option with the highest
//! *expected* net benefit, which a board funds at that price (`accounts::incremental`).

use plotters::coord::Shift;
use plotters::prelude::*;

use super::*;
use crate::accounts::incremental::CeafRow;

/// The options of the `ceaf` table, in its order.
pub fn options(d: &ReportData) -> Vec<String> {
    let mut v: Vec<String> = Vec::new();
    for r in &d.ceaf {
        if !v.contains(&r.option) {
            v.push(r.option.clone());
        }
    }
    v
}

/// The rows at the table's threshold nearest `lambda`.
pub fn at(d: &ReportData, lambda: f64) -> Vec<&CeafRow> {
    let Some(nearest) = d
        .ceaf
        .iter()
        .map(|r| r.threshold)
        .min_by(|a, b| (a - lambda).abs().total_cmp(&(b - lambda).abs()))
    else {
        return Vec::new();
    };
    d.ceaf.iter().filter(|r| r.threshold == nearest).collect()
}

/// The chart's title, or why the data cannot support it.
pub fn title(d: &ReportData) -> std::result::Result<String, &'static str> {
    if d.ceaf.is_empty() {
        return Err("needs the ceaf table of a batch, or of a run of several Monte Carlo runs");
    }
    if options(d).len() < 2 {
        return Err("needs an intervention scenario");
    }
    Ok("Which option to fund: chance each is best, and the acceptability frontier".into())
}

pub fn draw<DB: DrawingBackend>(
    d: &ReportData,
    root: &DrawingArea<DB, Shift>,
    k: f64,
) -> std::result::Result<(), String> {
    let names = options(d);
    let top = d.ceaf.iter().map(|r| r.threshold).fold(1.0, f64::max);
    // Room above 100% for the legend.
    let mut chart = share_by_price(
        root,
        k,
        (top, 1.5),
        "share of runs with the highest net benefit",
        d.qaly_threshold,
    )?;
    for (i, name) in names.iter().enumerate() {
        let colour = PALETTE[i % PALETTE.len()];
        chart
            .draw_series(LineSeries::new(
                d.ceaf
                    .iter()
                    .filter(|r| r.option == *name)
                    .map(|r| (r.threshold, r.option_prob_best)),
                colour.stroke_width(sz(2.5, k)),
            ))
            .map_err(err)?
            .label(short(name, 28))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 14, y)], colour.stroke_width(3))
            });
    }
    // The frontier: at each price, the share of runs in which the option with the highest
    // expected net benefit is best, as open squares in that option's colour, outlined.
    let frontier: Vec<(f64, f64, usize)> = d
        .ceaf
        .iter()
        .filter(|r| r.option == r.best_option)
        .enumerate()
        .filter(|(j, _)| j % 4 == 0)
        .map(|(_, r)| {
            let i = names.iter().position(|n| *n == r.option).unwrap_or(0);
            (r.threshold, r.prob_best, i)
        })
        .collect();
    let side = sz(5.0, k) as i32;
    chart
        .draw_series(frontier.iter().map(|(x, y, i)| {
            EmptyElement::at((*x, *y))
                + Rectangle::new(
                    [(-side, -side), (side, side)],
                    PALETTE[i % PALETTE.len()].stroke_width(sz(2.0, k)),
                )
        }))
        .map_err(err)?
        .label("frontier: highest expected net benefit")
        .legend(|(x, y)| Rectangle::new([(x + 2, y - 5), (x + 12, y + 5)], BLACK.stroke_width(2)));
    legend(&mut chart, k, SeriesLabelPosition::UpperRight)
}
