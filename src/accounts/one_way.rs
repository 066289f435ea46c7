//! The one-way sensitivity analysis (the tornado): what each uncertain parameter does to a
//! scenario's outcome on its own.
//!
//! The base case sets every uncertain parameter at its median. Each parameter in turn is
//! then set at its 10th and at its 90th centile ([`LOW`], [`HIGH`]) with the others left
//! at the base case, and simulated from the same random numbers as the base case (those of
//! run 0), against the same counterfactual, so the only difference between a bar's end
//! and the base case is that one parameter. Each row of the table is one bar: the
//! outcome at the base case and at both ends, for each of [`OUTCOMES`] at the top level
//! (England when the run has several systems, else its system) in the last year.
//!
//! The Monte Carlo runs give the other view, every parameter varying at once: their rank
//! correlations are [`crate::accounts::summary::Collected::sensitivity`].

use crate::accounts::metric::Metric;
use crate::accounts::metrics::Metrics;
use crate::core::level::Level;

/// The centile of a bar's low end.
pub const LOW: f64 = 0.1;
/// The centile of a bar's high end.
pub const HIGH: f64 = 0.9;

/// The outcomes kept, each a bar of its own (the tornado chart draws the first).
pub const OUTCOMES: [Metric; 3] = [
    Metric::DiscountedCumulativeNetCost,
    Metric::DiscountedQalysGained,
    Metric::NetMonetaryBenefit,
];

/// One bar: a parameter at its low and high centiles, the others at the base case.
#[derive(Debug, Clone, PartialEq)]
pub struct OneWayRow {
    pub scenario: String,
    pub parameter: String,
    /// One of [`OUTCOMES`].
    pub outcome: Metric,
    /// The parameter's median, as clamped for the simulation.
    pub base_value: f64,
    /// Its 10th centile, as clamped.
    pub low_value: f64,
    /// Its 90th centile, as clamped.
    pub high_value: f64,
    /// The outcome at the base case: the same on every row of the scenario and outcome.
    pub outcome_base: f64,
    /// The outcome with the parameter at its 10th centile.
    pub outcome_low: f64,
    /// The outcome with the parameter at its 90th centile.
    pub outcome_high: f64,
}

impl OneWayRow {
    /// How far the outcome moves between the bar's ends: what the tornado ranks by.
    pub fn width(&self) -> f64 {
        (self.outcome_high - self.outcome_low).abs()
    }
}

/// One simulation of the analysis: the uncertain parameters' values (name, value, as the
/// levers record them) and the [`OUTCOMES`].
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    pub draws: Vec<(String, f64)>,
    pub outcomes: [f64; 3],
}

/// The [`OUTCOMES`] of one scenario-run at the top level in year `year`: England's row
/// when there is one (several systems), else the sum of the systems' rows (there is one).
/// NaN for an outcome the metrics lack.
pub fn outcomes(metrics: &Metrics, year: i32) -> [f64; 3] {
    let national = metrics.level.contains(&Level::England);
    let top = if national {
        Level::England
    } else {
        Level::System
    };
    OUTCOMES.map(|m| {
        let values: Vec<f64> = (0..metrics.len())
            .filter(|i| {
                metrics.year[*i] == year && metrics.level[*i] == top && *metrics.metric(*i) == m
            })
            .map(|i| metrics.value[i])
            .collect();
        if values.is_empty() {
            f64::NAN
        } else {
            values.iter().sum()
        }
    })
}

/// The rows of one scenario: `ends` holds, for each parameter of `base.draws` in order,
/// the simulations with it at its low and at its high centile. Rows come outcome by
/// outcome, each ranked by width, widest first (ties in file order).
pub fn rows(scenario: &str, base: &Point, ends: &[(Point, Point)]) -> Vec<OneWayRow> {
    assert_eq!(base.draws.len(), ends.len(), "two ends per parameter");
    let value = |p: &Point, name: &str| {
        p.draws
            .iter()
            .find(|(n, _)| n == name)
            .map_or(f64::NAN, |(_, v)| *v)
    };
    let mut out = Vec::new();
    for (k, outcome) in OUTCOMES.iter().enumerate() {
        let mut bars: Vec<OneWayRow> = base
            .draws
            .iter()
            .zip(ends)
            .map(|((name, base_value), (low, high))| OneWayRow {
                scenario: scenario.to_string(),
                parameter: name.clone(),
                outcome: outcome.clone(),
                base_value: *base_value,
                low_value: value(low, name),
                high_value: value(high, name),
                outcome_base: base.outcomes[k],
                outcome_low: low.outcomes[k],
                outcome_high: high.outcomes[k],
            })
            .collect();
        bars.sort_by(|a, b| b.width().total_cmp(&a.width()));
        out.extend(bars);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(draws: &[(&str, f64)], net: f64) -> Point {
        Point {
            draws: draws.iter().map(|(n, v)| (n.to_string(), *v)).collect(),
            outcomes: [net, 0.0, -net],
        }
    }

    #[test]
    fn bars_are_ranked_by_width_around_the_base_case() {
        let base = point(&[("a", 1.0), ("b", 10.0)], 100.0);
        let ends = [
            (
                point(&[("a", 0.5), ("b", 10.0)], 90.0),
                point(&[("a", 1.5), ("b", 10.0)], 110.0),
            ),
            (
                point(&[("a", 1.0), ("b", 5.0)], 150.0),
                point(&[("a", 1.0), ("b", 15.0)], 40.0),
            ),
        ];
        let r = rows("s", &base, &ends);
        assert_eq!(r.len(), 2 * OUTCOMES.len());
        // b's bar (150 - 40) is wider than a's (110 - 90): it comes first.
        assert_eq!(r[0].parameter, "b");
        assert_eq!(
            (r[0].low_value, r[0].base_value, r[0].high_value),
            (5.0, 10.0, 15.0)
        );
        assert_eq!(
            (r[0].outcome_low, r[0].outcome_base, r[0].outcome_high),
            (150.0, 100.0, 40.0)
        );
        assert_eq!(r[0].width(), 110.0);
        assert_eq!(r[1].parameter, "a");
        // The second outcome has zero-width bars, kept in file order.
        assert_eq!(r[2].outcome, OUTCOMES[1]);
        assert_eq!((r[2].parameter.as_str(), r[2].width()), ("a", 0.0));
    }

    #[test]
    fn outcomes_are_read_at_the_top_level_in_the_last_year() {
        let mut m = Metrics::default();
        m.push(
            2,
            Level::System,
            "S",
            Metric::DiscountedCumulativeNetCost,
            7.0,
        );
        m.push(
            3,
            Level::Place,
            "P",
            Metric::DiscountedCumulativeNetCost,
            1.0,
        );
        m.push(
            3,
            Level::System,
            "S",
            Metric::DiscountedCumulativeNetCost,
            5.0,
        );
        m.push(3, Level::System, "S", Metric::NetMonetaryBenefit, -5.0);
        let o = outcomes(&m, 3);
        assert_eq!((o[0], o[2]), (5.0, -5.0));
        assert!(o[1].is_nan());
        // With several systems, England's row is the outcome.
        m.push(
            3,
            Level::System,
            "T",
            Metric::DiscountedCumulativeNetCost,
            2.0,
        );
        m.push(
            3,
            Level::England,
            "England",
            Metric::DiscountedCumulativeNetCost,
            7.0,
        );
        assert_eq!(outcomes(&m, 3)[0], 7.0);
    }
}
