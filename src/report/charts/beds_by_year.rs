//! Beds by year: the general and acute beds each scenario's emergency bed days need at the
//! target occupancy (median and 10th-90th centile), the counterfactual's without the
//! interventions, and the existing bed base when one is given.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::*;
use crate::accounts::metric::Metric;

/// A whole number with thousands separated: beds differ by tens in thousands, which
/// `count`'s one decimal of thousands would hide.
pub(crate) fn whole(x: f64) -> String {
    let n = x.round() as i64;
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

/// Scenarios with beds in the summary, with their series at the top level.
fn with_beds(d: &ReportData) -> Vec<(String, Vec<(i32, Stat)>)> {
    d.scenarios
        .iter()
        .map(|s| (s.clone(), d.system_series(s, &Metric::BedsRequired)))
        .filter(|(_, pts)| !pts.is_empty())
        .collect()
}

/// The chart's title, or why the data cannot support it.
pub fn title(d: &ReportData) -> std::result::Result<String, &'static str> {
    if with_beds(d).is_empty() {
        return Err("needs beds: a scenario with a [capacity] section");
    }
    Ok("General and acute beds for emergency care by year, at the target occupancy".into())
}

pub fn draw<DB: DrawingBackend>(
    d: &ReportData,
    root: &DrawingArea<DB, Shift>,
    k: f64,
) -> std::result::Result<(), String> {
    let series = with_beds(d);
    // Without interventions: the first scenario that has the counterfactual's beds.
    let cf = d
        .scenarios
        .iter()
        .map(|s| d.system_series(s, &Metric::CounterfactualBedsRequired))
        .find(|pts| !pts.is_empty())
        .unwrap_or_default();
    let base = d.scenarios.iter().find_map(|s| {
        d.system_series(s, &Metric::BedBase)
            .first()
            .map(|p| p.1.p50)
    });
    let (lo, hi) = range(
        series
            .iter()
            .flat_map(|(_, pts)| pts.iter().flat_map(|p| [p.1.p10, p.1.p90]))
            .chain(cf.iter().map(|p| p.1.p50))
            .chain(base),
        false,
    );
    let hi = hi + (hi - lo) * 0.25; // room for the legend
    let years = d.last_year();
    let mut chart = plane(root, k, (0.5, years as f64 + 0.5), (lo, hi))?;
    chart
        .configure_mesh()
        .x_labels(years as usize)
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| whole(*y))
        .x_desc("year")
        .y_desc("beds (median, 10th-90th centile band)")
        .label_style(axis_font(k))
        .axis_desc_style(label_font(k))
        .draw()
        .map_err(err)?;
    for (i, (name, pts)) in series.iter().enumerate() {
        let colour = PALETTE[i % (PALETTE.len() - 1)];
        let mut band: Vec<(f64, f64)> = pts.iter().map(|(y, s)| (*y as f64, s.p90)).collect();
        band.extend(pts.iter().rev().map(|(y, s)| (*y as f64, s.p10)));
        chart
            .draw_series([Polygon::new(band, colour.mix(0.2).filled())])
            .map_err(err)?;
        chart
            .draw_series(LineSeries::new(
                pts.iter().map(|(y, s)| (*y as f64, s.p50)),
                colour.stroke_width(sz(3.0, k)),
            ))
            .map_err(err)?
            .label(short(name, 30))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 14, y)], colour.stroke_width(3))
            });
    }
    if !cf.is_empty() {
        chart
            .draw_series(DashedLineSeries::new(
                cf.iter().map(|(y, s)| (*y as f64, s.p50)),
                sz(8.0, k),
                sz(5.0, k),
                BLACK.stroke_width(sz(2.0, k)),
            ))
            .map_err(err)?
            .label("without the interventions (median)")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 14, y)], BLACK.stroke_width(2)));
    }
    if let Some(b) = base {
        let red = PALETTE[5];
        chart
            .draw_series(LineSeries::new(
                [(0.5, b), (years as f64 + 0.5, b)],
                red.stroke_width(sz(2.0, k)),
            ))
            .map_err(err)?
            .label(format!("existing beds ({})", whole(b)))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 14, y)], red.stroke_width(2)));
    }
    legend(&mut chart, k, SeriesLabelPosition::UpperLeft)
}

#[cfg(test)]
mod tests {
    #[test]
    fn whole_numbers_read_with_separators() {
        assert_eq!(super::whole(2430.4), "2,430");
        assert_eq!(super::whole(999.0), "999");
        assert_eq!(super::whole(-1_234_567.0), "-1,234,567");
    }
}
