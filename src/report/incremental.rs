//! Which option to fund, in words and a table: the efficiency frontier with its ICERs, and
//! at the threshold the option with the highest expected net benefit, how often it is
//! best, and what perfect information would be worth (`accounts::incremental`).

use crate::accounts::incremental::Status;
use crate::core::money::whole_pounds as pounds;
use crate::report::charts::{money, ReportData};

/// The frontier table's columns.
pub const COLUMNS: [&str; 7] = [
    "option",
    "discounted cost",
    "discounted QALYs",
    "incremental cost",
    "incremental QALYs",
    "ICER (£ per QALY)",
    "status",
];

/// The frontier table: each option's means over runs and where it stands, with the note
/// (what it is against, what dominates it, or why it is left out).
pub fn table(d: &ReportData) -> Vec<[String; 7]> {
    let or_dash = |v: Option<String>| v.unwrap_or_else(|| "-".into());
    d.frontier
        .iter()
        .map(|r| {
            let num = |x: f64, f: &dyn Fn(f64) -> String| or_dash(x.is_finite().then(|| f(x)));
            [
                r.option.clone(),
                num(r.mean_cost, &money),
                num(r.mean_qalys, &|q| format!("{q:.1}")),
                or_dash(r.incremental_cost.map(money)),
                or_dash(r.incremental_qalys.map(|q| format!("{q:.1}"))),
                or_dash(r.icer.map(pounds)),
                format!("{}: {}", r.status.id(), r.note),
            ]
        })
        .collect()
}

/// What the analysis says in words: at the report's threshold (and at £30,000) the option
/// with the highest expected net benefit, how often it is best, and the EVPI per person and
/// for the population over the horizon; then the frontier in order.
pub fn sentences(d: &ReportData) -> Vec<String> {
    let mut out = Vec::new();
    let years = d.last_year();
    let mut thresholds = vec![d.qaly_threshold];
    if (d.qaly_threshold - 30_000.0).abs() > 1.0 {
        thresholds.push(30_000.0);
    }
    for lambda in thresholds {
        let rows = crate::report::charts::acceptability_frontier::at(d, lambda);
        let Some(best) = rows.first() else {
            continue;
        };
        out.push(format!(
            "At {} per QALY the option with the highest expected net benefit is {} (best in {:.0}% of runs); the expected value of perfect information is £{:.2} per person, {} for the population over the {years}-year horizon (discounted): the most that removing all uncertainty could be worth at that price.",
            pounds(best.threshold),
            best.best_option,
            100.0 * best.prob_best,
            best.evpi_per_person,
            money(best.evpi_population),
        ));
    }
    let front: Vec<String> = d
        .frontier
        .iter()
        .filter(|r| r.on_frontier())
        .map(|r| match r.icer {
            Some(icer) => format!("{} (ICER {} per QALY)", r.option, pounds(icer)),
            None => r.option.clone(),
        })
        .collect();
    if !front.is_empty() {
        let off = |s: Status| -> Vec<&str> {
            d.frontier
                .iter()
                .filter(|r| r.status == s)
                .map(|r| r.option.as_str())
                .collect()
        };
        let mut s = format!("The efficiency frontier runs {}.", front.join(", then "));
        for (status, what) in [
            (Status::Dominated, "Dominated"),
            (Status::ExtendedDominated, "Extended dominated"),
            (Status::Excluded, "Not compared"),
        ] {
            let names = off(status);
            if !names.is_empty() {
                s.push_str(&format!(" {what}: {}.", names.join(", ")));
            }
        }
        out.push(s);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::incremental::{analyse, thresholds, RunOutcome, ScenarioRuns};

    /// The sentence names the best option at £20,000 with its share of runs and the EVPI.
    #[test]
    fn the_sentence_names_the_option_to_fund_and_the_value_of_information() {
        let run = |c: f64, e: f64| RunOutcome {
            cost: Some(c),
            qalys: Some(e),
            population: Some(1000.0),
        };
        let base = [RunOutcome {
            population: Some(1000.0),
            ..Default::default()
        }; 4];
        // x gains 1 QALY a run for 10,000, 30,000, 10,000, 10,000: mean 15,000.
        let x = [
            run(10_000.0, 1.0),
            run(30_000.0, 1.0),
            run(10_000.0, 1.0),
            run(10_000.0, 1.0),
        ];
        let inc = analyse(
            &[
                ScenarioRuns {
                    name: "base",
                    group: 0,
                    runs: &base,
                },
                ScenarioRuns {
                    name: "x",
                    group: 0,
                    runs: &x,
                },
            ],
            &thresholds(),
        );
        let d = ReportData {
            frontier: inc.frontier,
            ceaf: inc.ceaf,
            qaly_threshold: 20_000.0,
            ..Default::default()
        };
        let s = sentences(&d);
        // At £20,000: x's mean benefit 5,000 > 0, best in 3 of 4 runs; the best of each run
        // averages (10,000 x 3 + 0) / 4 = 7,500, so EVPI = 2,500, £2.50 a person.
        assert!(
            s[0].starts_with("At £20,000 per QALY the option with the highest expected net benefit is x (best in 75% of runs); the expected value of perfect information is £2.50 per person, £2,500 for the population"),
            "{}",
            s[0]
        );
        assert!(s[1].starts_with("At £30,000 per QALY"), "{}", s[1]);
        assert_eq!(
            s[2],
            "The efficiency frontier runs base, then x (ICER £15,000 per QALY)."
        );
        assert_eq!(table(&d)[1][5], "£15,000");
    }
}
