//! Real England against what NHS England publishes (issue 25, items 3 and 6), from the
//! output's geography, published_icbs and summary tables.
//!
//! **Validation** ([`validation`]): per ICB of the run (and England, all the run's ICBs
//! together, when there are several), the published registered population beside the
//! simulated year-1 population; each component's published weighted population beside
//! capsim's; and the ICB's share of England, published beside simulated; then the same
//! per place of each ICB.
//!
//! *capsim's weighted population.* capsim's capitation formulas share each system's own
//! envelope, so their weighted populations are scaled to each system's people and say
//! nothing of one ICB against another. Between ICBs, capsim's measure of need is the cost
//! it simulates: an ICB's weighted population is its share of the run's year-1 care spend
//! times the run's population (NHS England scales its weighted populations to England's
//! population in the same way), so with every ICB simulated the two compare directly, and
//! for one ICB alone capsim's equals its population by construction. Within an ICB,
//! capsim's is its estimated-need formula's (the first formula of basis `need`, else the
//! first not of basis `published`, whose weights would be the published ones and so
//! trivially equal) year-1 weighted population of each place, beside the published one
//! scaled to the ICB's published population the same way.
//!
//! **Published against estimated** ([`disagreements`]): when the first scenario has both a
//! `published` formula and an estimated-need one, each place's share of the year-1
//! envelope under each, and the difference in pounds and per cent, largest first.

use crate::accounts::metric::{FormulaMetric, Metric};
use crate::core::level::{Level, ENGLAND};
use crate::data::published::Component;
use crate::data::published_geography::Published;
use crate::io::areas::{Disagreement, ValidationRow};
use crate::report::charts::{money, ReportData};

/// The formula capsim's weighted populations come from: the first of basis `need`, else
/// the first not of basis `published`.
pub fn estimated_formula(d: &ReportData) -> Option<String> {
    d.bases
        .iter()
        .find(|(_, b)| b == "need")
        .or_else(|| d.bases.iter().find(|(_, b)| b != "published"))
        .map(|(n, _)| n.clone())
}

/// The first `published` formula.
pub fn published_formula(d: &ReportData) -> Option<String> {
    d.bases
        .iter()
        .find(|(_, b)| b == "published")
        .map(|(n, _)| n.clone())
}

/// A year-1 mean of the first scenario.
fn year_one(d: &ReportData, level: Level, area: &str, m: &Metric) -> Option<f64> {
    let s = d.scenarios.first()?;
    d.get(s, 1, level, area, m).map(|x| x.mean)
}

/// What capsim's ICB figures are named by in the table: its simulated cost.
pub const SIMULATED_COST: &str = "simulated care spend";

/// Sums the published figures of `areas` grouped by `key`, in first-seen order:
/// (name, code, published).
fn grouped<'a>(
    areas: impl Iterator<Item = &'a crate::io::areas::AreaRow>,
    key: impl Fn(&crate::io::areas::AreaRow) -> (String, String),
) -> Vec<(String, String, Published)> {
    let mut out: Vec<(String, String, Published)> = Vec::new();
    for a in areas {
        let Some(p) = a.published else { continue };
        let (name, code) = key(a);
        let at = match out.iter().position(|x| x.0 == name) {
            Some(i) => i,
            None => {
                out.push((name, code, Published::default()));
                out.len() - 1
            }
        };
        add(&mut out[at].2, &p);
    }
    out
}

fn add(sum: &mut Published, p: &Published) {
    sum.population += p.population;
    for (w, v) in sum.weighted.iter_mut().zip(p.weighted) {
        *w += v;
    }
}

/// The validation rows (see the module docs); empty unless the run is of real England.
pub fn validation(d: &ReportData) -> Vec<ValidationRow> {
    let icbs = grouped(d.areas.iter(), |a| {
        (a.system.clone(), a.system_code.clone())
    });
    if icbs.is_empty() || d.published_icbs.is_empty() {
        return Vec::new();
    }
    let at = |name: &str, m: &Metric| year_one(d, Level::System, name, m);
    let people: Vec<Option<f64>> = icbs.iter().map(|i| at(&i.0, &Metric::Population)).collect();
    let spend: Vec<Option<f64>> = icbs.iter().map(|i| at(&i.0, &Metric::CareSpend)).collect();
    let total_people: Option<f64> = people.iter().copied().sum();
    let total_spend: Option<f64> = spend.iter().copied().sum();
    let cost_weighted: Vec<Option<f64>> = spend
        .iter()
        .map(|s| Some(s.as_ref()? / total_spend? * total_people?))
        .collect();
    let england = d
        .published_icbs
        .iter()
        .fold(Published::default(), |mut acc, i| {
            add(&mut acc, &i.published);
            acc
        });
    // A share of England is simulated only when every ICB of England is in the run.
    let whole = d
        .published_icbs
        .iter()
        .all(|p| icbs.iter().any(|i| i.1 == p.code));
    let share = |x: Option<f64>, total: Option<f64>| Some(x? / total?).filter(|_| whole);
    let mut rows = Vec::new();
    for (k, (name, code, p)) in icbs.iter().enumerate() {
        let row = |measure: String, published: f64, capsim: Option<f64>, f: &str| ValidationRow {
            level: Level::System,
            area: name.clone(),
            code: code.clone(),
            measure,
            published,
            capsim,
            capsim_formula: f.to_string(),
        };
        rows.push(row(
            "registered_population".into(),
            p.population,
            people[k],
            "",
        ));
        for c in Component::ALL {
            let m = format!("weighted_population.{}", c.id());
            rows.push(row(m, p.weighted(c), cost_weighted[k], SIMULATED_COST));
        }
        rows.push(row(
            "share_of_england.registered_population".into(),
            p.population / england.population,
            share(people[k], total_people),
            "",
        ));
        rows.push(row(
            "share_of_england.weighted_population".into(),
            p.weighted(Component::Final) / england.weighted(Component::Final),
            share(spend[k], total_spend),
            SIMULATED_COST,
        ));
    }
    if icbs.len() > 1 {
        rows.extend(england_rows(d, &icbs, total_people));
    }
    rows.extend(place_rows(d, &icbs));
    rows
}

/// Each place's registered and weighted populations; weighted ones within its ICB (see
/// the module docs).
fn place_rows(d: &ReportData, icbs: &[(String, String, Published)]) -> Vec<ValidationRow> {
    let formula = estimated_formula(d).unwrap_or_default();
    let wp = Metric::formula(FormulaMetric::WeightedPopulation, &formula);
    let places = grouped(d.areas.iter(), |a| (a.place.clone(), a.place_code.clone()));
    let mut rows = Vec::new();
    for (name, code, p) in &places {
        let Some(icb) = d
            .areas
            .iter()
            .find(|a| a.place == *name)
            .and_then(|a| icbs.iter().find(|i| i.0 == a.system))
        else {
            continue;
        };
        let row = |measure: String, published: f64, capsim: Option<f64>, f: &str| ValidationRow {
            level: Level::Place,
            area: name.clone(),
            code: code.clone(),
            measure,
            published,
            capsim,
            capsim_formula: f.to_string(),
        };
        let people = year_one(d, Level::Place, name, &Metric::Population);
        rows.push(row(
            "registered_population".into(),
            p.population,
            people,
            "",
        ));
        let capsim = year_one(d, Level::Place, name, &wp);
        for c in Component::ALL {
            let within =
                p.weighted(c) * icb.2.population / icb.2.weighted(c).max(f64::MIN_POSITIVE);
            let m = format!("weighted_population.{}", c.id());
            rows.push(row(m, within, capsim, &formula));
        }
    }
    rows
}

/// England's rows: the run's ICBs together (all of England when all 42 run).
fn england_rows(
    d: &ReportData,
    icbs: &[(String, String, Published)],
    people: Option<f64>,
) -> Vec<ValidationRow> {
    let area = if icbs.len() == d.published_icbs.len() {
        ENGLAND.to_string()
    } else {
        format!("{} ICBs of the run", icbs.len())
    };
    let published: f64 = icbs.iter().map(|i| i.2.population).sum();
    let mut rows = vec![ValidationRow {
        level: Level::England,
        area: area.clone(),
        code: String::new(),
        measure: "registered_population".into(),
        published,
        capsim: people,
        capsim_formula: String::new(),
    }];
    for c in Component::ALL {
        rows.push(ValidationRow {
            level: Level::England,
            area: area.clone(),
            code: String::new(),
            measure: format!("weighted_population.{}", c.id()),
            published: icbs.iter().map(|i| i.2.weighted(c)).sum(),
            capsim: people,
            capsim_formula: SIMULATED_COST.to_string(),
        });
    }
    rows
}

/// Each place's year-1 budget under the `published` formula beside the estimated-need
/// one, the largest absolute difference first; `None` without both formulas. Returns the
/// two formulas' names too.
pub fn disagreements(d: &ReportData) -> Option<(String, String, Vec<Disagreement>)> {
    let (p, e) = (published_formula(d)?, estimated_formula(d)?);
    let s = d.scenarios.first()?;
    let mut places: Vec<&str> = Vec::new();
    for k in d.summary.keys() {
        if k.0 == *s && k.1 == 1 && k.2 == Level::Place && !places.contains(&k.3.as_str()) {
            places.push(&k.3);
        }
    }
    let budget = |place: &str, f: &str| {
        year_one(
            d,
            Level::Place,
            place,
            &Metric::formula(FormulaMetric::Budget, f),
        )
    };
    let mut rows: Vec<Disagreement> = places
        .iter()
        .filter_map(|place| {
            Some(Disagreement {
                place: place.to_string(),
                published_share: 0.0,
                estimated_share: 0.0,
                published: budget(place, &p)?,
                estimated: budget(place, &e)?,
            })
        })
        .collect();
    if rows.is_empty() {
        return None;
    }
    let (tp, te): (f64, f64) = rows
        .iter()
        .fold((0.0, 0.0), |a, r| (a.0 + r.published, a.1 + r.estimated));
    for r in &mut rows {
        r.published_share = r.published / tp.max(f64::MIN_POSITIVE);
        r.estimated_share = r.estimated / te.max(f64::MIN_POSITIVE);
    }
    rows.sort_by(|a, b| {
        b.difference()
            .abs()
            .total_cmp(&a.difference().abs())
            .then(a.place.cmp(&b.place))
    });
    Some((p, e, rows))
}

/// The sentence naming the largest disagreements (up to three places).
pub fn disagreement_sentence(published: &str, estimated: &str, rows: &[Disagreement]) -> String {
    let named: Vec<String> = rows
        .iter()
        .take(3)
        .map(|r| {
            format!(
                "{} ({} {}, {:+.1}%)",
                r.place,
                if r.difference() >= 0.0 {
                    "gets"
                } else {
                    "loses"
                },
                money(r.difference().abs()),
                r.difference_pct()
            )
        })
        .collect();
    format!(
        "The published allocation (formula `{published}`) and capsim's estimated need (formula `{estimated}`) disagree most about {}: the difference is what the published formula gives the place in year 1 beyond (or short of) the estimated-need budget, out of the same envelope.",
        named.join("; ")
    )
}

/// Whether a validation row is shown in the report: every row for one ICB; for several,
/// England's rows and each ICB's people, final weighted population and shares (every
/// component of every ICB and place is in `validation.csv`).
fn shown(r: &ValidationRow, icbs: usize) -> bool {
    icbs == 1
        || r.level == Level::England
        || (r.level == Level::System
            && (matches!(
                r.measure.as_str(),
                "registered_population" | "weighted_population.final"
            ) || r.measure.starts_with("share_of_england")))
}

/// A figure of the validation table: shares as percentages, people as whole numbers.
fn figure(measure: &str, x: f64) -> String {
    if measure.starts_with("share_of_england") {
        format!("{:.3}%", 100.0 * x)
    } else {
        let n = x.round() as i64;
        let s = n.abs().to_string();
        let mut out = String::new();
        for (i, ch) in s.chars().enumerate() {
            if i > 0 && (s.len() - i).is_multiple_of(3) {
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
}

/// The validation table's columns in the report.
pub const VALIDATION_COLUMNS: [&str; 6] = [
    "area",
    "code",
    "measure",
    "published",
    "capsim",
    "difference",
];

/// What the validation table compares, for the paragraph above it.
pub fn validation_note(d: &ReportData) -> String {
    format!(
        "NHS England's published 2024/25 practice figures (registered and weighted populations, summed over the practices of each ICB and place) beside the simulated year 1 (means over runs). capsim shares each ICB's own envelope, so between ICBs its measure of need is the care it simulates: an ICB's weighted population is its share of the run's year-1 care spend times the run's population, scaled as NHS England scales its own to England's population. With every ICB simulated the two compare directly; for one ICB alone capsim's equals its population by construction, and a share of England is simulated only when all of England runs. Within an ICB, each place's published weighted population (scaled to the ICB's published population) stands beside the `{}` formula's. Every component of every ICB and place: validation.csv.",
        estimated_formula(d).unwrap_or_default()
    )
}

/// The report's rows of the validation table (see [`shown`]), as text.
pub fn validation_table(checks: &[ValidationRow]) -> Vec<[String; 6]> {
    let icbs = checks
        .iter()
        .filter(|r| r.level == Level::System && r.measure == "registered_population")
        .count();
    checks
        .iter()
        .filter(|r| shown(r, icbs))
        .map(|r| {
            let (capsim, diff) = match r.capsim {
                Some(c) if r.published != 0.0 => (
                    figure(&r.measure, c),
                    format!("{:+.1}%", 100.0 * (c - r.published) / r.published),
                ),
                Some(c) => (figure(&r.measure, c), String::new()),
                None => ("not simulated".to_string(), String::new()),
            };
            [
                r.area.clone(),
                r.code.clone(),
                r.measure.replace('_', " "),
                figure(&r.measure, r.published),
                capsim,
                diff,
            ]
        })
        .collect()
}

/// The columns of the published-against-estimated table.
pub fn disagreement_columns(published: &str, estimated: &str) -> [String; 7] {
    [
        "place".into(),
        format!("share of envelope, {published}"),
        format!("share of envelope, {estimated}"),
        "budget, published".into(),
        "budget, estimated need".into(),
        "difference (£)".into(),
        "difference (%)".into(),
    ]
}

/// The published-against-estimated table's rows, as text.
pub fn disagreement_table(rows: &[Disagreement]) -> Vec<[String; 7]> {
    rows.iter()
        .map(|r| {
            [
                r.place.clone(),
                format!("{:.2}%", 100.0 * r.published_share),
                format!("{:.2}%", 100.0 * r.estimated_share),
                money(r.published),
                money(r.estimated),
                money(r.difference()),
                format!("{:+.1}%", r.difference_pct()),
            ]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::summary::Stat;
    use crate::io::areas::{AreaRow, PublishedIcb};

    fn put(d: &mut ReportData, level: Level, area: &str, m: Metric, v: f64) {
        d.summary.insert(
            ("s".into(), 1, level, area.into(), m),
            Stat::from_centiles(v, [v; 5]),
        );
    }

    fn published(population: f64, final_wp: f64) -> Published {
        let mut p = Published {
            population,
            weighted: [population; Component::COUNT],
        };
        p.weighted[Component::Final.index()] = final_wp;
        p
    }

    /// Two ICBs of one place each, every ICB of "England" simulated: shares of England
    /// are simulated, capsim's cost-weighted populations sum to the simulated people, and
    /// the places' published weighted populations are scaled to their ICB.
    fn two_icbs() -> ReportData {
        let mut d = ReportData {
            scenarios: vec!["s".into()],
            bases: vec![
                ("need".into(), "need".into()),
                ("pub".into(), "published".into()),
            ],
            ..Default::default()
        };
        for (sys, code, place, people, spend, fin) in [
            ("A (QA1)", "QA1", "a (00A)", 100.0, 300.0, 120.0),
            ("B (QB1)", "QB1", "b (00B)", 300.0, 300.0, 280.0),
        ] {
            d.areas.push(AreaRow {
                scenario: "s".into(),
                system: sys.into(),
                system_code: code.into(),
                place: place.into(),
                place_code: place[3..6].into(),
                neighbourhood: format!("{code} N01"),
                population: people as u64,
                location: None,
                published: Some(published(people, fin)),
            });
            d.published_icbs.push(PublishedIcb {
                code: code.into(),
                name: sys.into(),
                published: published(people, fin),
            });
            put(&mut d, Level::System, sys, Metric::Population, people);
            put(&mut d, Level::System, sys, Metric::CareSpend, spend);
            put(&mut d, Level::Place, place, Metric::Population, people);
            for (f, budget) in [("need", spend), ("pub", fin)] {
                put(
                    &mut d,
                    Level::Place,
                    place,
                    Metric::formula(FormulaMetric::Budget, f),
                    budget,
                );
            }
        }
        d
    }

    #[test]
    fn icbs_compare_shares_of_england_and_cost_weighted_need() {
        let d = two_icbs();
        let rows = validation(&d);
        let get = |area: &str, measure: &str| {
            rows.iter()
                .find(|r| r.area == area && r.measure == measure)
                .unwrap_or_else(|| panic!("{area} {measure}"))
        };
        let share = get("A (QA1)", "share_of_england.registered_population");
        assert_eq!((share.published, share.capsim), (0.25, Some(0.25)));
        // Equal spend: capsim's need puts half of the 400 people in each ICB.
        let w = get("A (QA1)", "weighted_population.final");
        assert_eq!((w.published, w.capsim), (120.0, Some(200.0)));
        let s = get("B (QB1)", "share_of_england.weighted_population");
        assert_eq!((s.published, s.capsim), (0.7, Some(0.5)));
        // England: both ICBs together.
        let e = get(ENGLAND, "registered_population");
        assert_eq!((e.published, e.capsim), (400.0, Some(400.0)));
        // A place, the whole of its ICB: its published weighted population scaled to the
        // ICB's people is the ICB's people.
        let p = get("a (00A)", "weighted_population.final");
        assert!((p.published - 100.0).abs() < 1e-9);

        // Without the other ICB, no share of England is simulated.
        let mut one = two_icbs();
        one.areas.retain(|a| a.system_code == "QA1");
        let rows = validation(&one);
        let share = rows
            .iter()
            .find(|r| r.measure == "share_of_england.registered_population")
            .unwrap();
        assert_eq!((share.published, share.capsim), (0.25, None));
        assert!(rows.iter().all(|r| r.level != Level::England));
    }

    #[test]
    fn disagreements_are_sorted_by_their_size_and_shares_sum_to_one() {
        let d = two_icbs();
        let (p, e, rows) = disagreements(&d).unwrap();
        assert_eq!((p.as_str(), e.as_str()), ("pub", "need"));
        // a: 120 published against 300 estimated (-180); b: 280 against 300 (-20).
        assert_eq!(rows[0].place, "a (00A)");
        assert_eq!(rows[0].difference(), -180.0);
        assert!((rows[0].difference_pct() + 60.0).abs() < 1e-9);
        let sum = |f: fn(&Disagreement) -> f64| rows.iter().map(f).sum::<f64>();
        assert!((sum(|r| r.published_share) - 1.0).abs() < 1e-12);
        assert!((sum(|r| r.estimated_share) - 1.0).abs() < 1e-12);
        let sentence = disagreement_sentence(&p, &e, &rows);
        assert!(
            sentence.contains("a (00A) (loses £180, -60.0%)"),
            "{sentence}"
        );
        // Without a published formula there is nothing to compare.
        let mut none = two_icbs();
        none.bases.retain(|b| b.1 != "published");
        assert!(disagreements(&none).is_none());
    }
}
