//! Issue 25, items 3, 5 and 6 on a real ICB: the geography table carries codes and
//! locations, every per-run table names the ICB and sub-ICB location codes beside the
//! names, the neighbourhood map draws one circle per neighbourhood (and declines, with
//! its reason, where there are no coordinates), the validation table sets the published
//! figures beside the simulated year, and the report sets the published allocation
//! beside the estimated-need one, place by place.

use std::collections::BTreeMap;

use capsim::data::datasets::Datasets;
use capsim::data::geography::{Geography, Preset};
use capsim::data::published::{Practices, ICB_CODES};
use capsim::report::charts::geo::{LEGEND_CIRCLES, NO_COORDINATES};

use crate::scenarios::write;
use crate::util::capsim_ok;

/// Rows of a CSV file written by capsim as maps from column name to cell (quoted cells
/// unquoted; capsim quotes only cells with commas).
fn csv_rows(path: &std::path::Path) -> Vec<BTreeMap<String, String>> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header = split(lines.next().unwrap());
    lines
        .map(|l| header.iter().cloned().zip(split(l)).collect())
        .collect()
}

fn split(line: &str) -> Vec<String> {
    let (mut out, mut cell, mut quoted) = (Vec::new(), String::new(), false);
    for ch in line.chars() {
        match ch {
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut cell)),
            _ => cell.push(ch),
        }
    }
    out.push(cell);
    out
}

const ICB: &str = "QJG";

#[test]
fn a_real_icb_is_mapped_coded_validated_and_compared() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        "s.toml",
        "name = \"s\"\nyears = 1\nruns = 1\n[capitation]\nformula = [\"need\", \"published\"]\n",
    );
    capsim_ok(tmp.path(), &["run", "s.toml", "--icb", ICB, "--out", "r"]);
    let dir = tmp.path().join("r");
    let d = Datasets::bundled().unwrap();
    let i = ICB_CODES.iter().position(|c| *c == ICB).unwrap();
    let g = Geography::preset(&d, Preset::Icb(i as u8)).unwrap();

    // The geography table: one row per neighbourhood, with codes and a location inside
    // the bounding box of its place's practices.
    let practices = Practices::bundled().unwrap();
    let areas = csv_rows(&dir.join("geography.csv"));
    assert_eq!(areas.len(), g.neighbourhoods.len());
    for a in &areas {
        assert_eq!(a["system_code"], ICB);
        assert!(
            a["place"].ends_with(&format!("({})", a["place_code"])),
            "{a:?}"
        );
        let (lat, lon): (f64, f64) = (
            a["latitude"].parse().unwrap(),
            a["longitude"].parse().unwrap(),
        );
        let of_place = practices
            .practices
            .iter()
            .filter(|p| p.place_code == a["place_code"]);
        let (mut lo, mut hi) = ((90.0f64, 180.0f64), (-90.0f64, -180.0f64));
        for p in of_place {
            lo = (lo.0.min(p.latitude), lo.1.min(p.longitude));
            hi = (hi.0.max(p.latitude), hi.1.max(p.longitude));
        }
        assert!(
            (lo.0..=hi.0).contains(&lat) && (lo.1..=hi.1).contains(&lon),
            "{a:?}"
        );
    }

    // Codes beside the names in the per-run tables, on every row.
    for table in ["budgets.csv"] {
        for r in csv_rows(&dir.join(table)) {
            assert_eq!(r["system_code"], ICB, "{table}");
            if !r["place"].is_empty() {
                assert!(
                    r["place"].ends_with(&format!("({})", r["place_code"])),
                    "{r:?}"
                );
            }
        }
    }

    // The neighbourhood map: one circle per neighbourhood, beside the legend's.
    let svg = std::fs::read_to_string(dir.join("charts/map_neighbourhoods.svg")).unwrap();
    assert!(svg.len() > 1_000);
    assert_eq!(
        svg.matches("<circle").count(),
        g.neighbourhoods.len() + LEGEND_CIRCLES
    );
    let png = std::fs::read(dir.join("charts/map_neighbourhoods.png")).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(html.contains("<figure id=\"map_neighbourhoods\""));
    assert!(html.contains("Chart <code>map_icbs</code> not drawn: needs more than one ICB"));

    // Validation: the simulated people are the published lists to the person (rounded);
    // the published share of England is the ICB's share of all 42 ICBs' people; with one
    // ICB there is no simulated share.
    let checks = csv_rows(&dir.join("validation.csv"));
    let row = |level: &str, measure: &str| {
        checks
            .iter()
            .find(|r| r["level"] == level && r["measure"] == measure)
            .unwrap_or_else(|| panic!("{level} {measure}"))
    };
    let people = row("system", "registered_population");
    let (published, simulated): (f64, f64) = (
        people["published"].parse().unwrap(),
        people["capsim"].parse().unwrap(),
    );
    let mine: f64 = practices
        .practices
        .iter()
        .filter(|p| p.icb_code == ICB)
        .map(|p| p.population)
        .sum();
    assert!((published - mine).abs() < 1e-6);
    assert!((simulated - published).abs() < 0.5 * g.neighbourhoods.len() as f64 + 1.0);
    let share = row("system", "share_of_england.registered_population");
    let expected = mine / practices.population();
    assert!((share["published"].parse::<f64>().unwrap() - expected).abs() < 1e-12);
    assert_eq!(share["capsim"], "");
    // Every component, for the ICB and each of its places.
    let weighted = checks
        .iter()
        .filter(|r| r["measure"].starts_with("weighted_population."))
        .count();
    assert_eq!(weighted, 9 * (1 + g.places.len()));
    assert!(html.contains("<h2>Against published figures</h2>"));

    // Published against estimated need, place by place, largest difference first.
    let i = html
        .find("<table class=\"disagreements\">")
        .expect("the comparison table");
    let table = &html[i..i + html[i..].find("</table>").unwrap()];
    assert_eq!(table.matches("<tr><td>").count(), g.places.len());
    assert!(html.contains("disagree most about"));
    // And as a table: every place once, shares of one envelope, largest first.
    let rows = csv_rows(&dir.join("published_vs_estimated.csv"));
    assert_eq!(rows.len(), g.places.len());
    let num = |r: &BTreeMap<String, String>, c: &str| r[c].parse::<f64>().unwrap();
    for share in ["published_share", "estimated_share"] {
        let sum: f64 = rows.iter().map(|r| num(r, share)).sum();
        assert!((sum - 1.0).abs() < 1e-9, "{share} sums to {sum}");
    }
    for w in rows.windows(2) {
        assert!(num(&w[0], "difference").abs() >= num(&w[1], "difference").abs());
    }
    for r in &rows {
        let d = num(r, "published_budget") - num(r, "estimated_budget");
        assert!((d - num(r, "difference")).abs() < 1e-6);
        assert_eq!(
            (
                r["published_formula"].as_str(),
                r["estimated_formula"].as_str()
            ),
            ("published", "need")
        );
    }
}

/// The invented system has neither codes nor coordinates: its code columns are empty,
/// the maps say why they are not drawn, and there is no validation.
#[test]
fn the_invented_system_has_no_codes_coordinates_or_validation() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        "s.toml",
        "name = \"s\"\nyears = 1\nruns = 1\n[population]\npreset = \"invented\"\nplaces = [\"Saltmouth\"]\n",
    );
    capsim_ok(tmp.path(), &["run", "s.toml", "--out", "r"]);
    let dir = tmp.path().join("r");
    for r in csv_rows(&dir.join("budgets.csv")) {
        assert_eq!(
            (r["system_code"].as_str(), r["place_code"].as_str()),
            ("", "")
        );
    }
    for a in csv_rows(&dir.join("geography.csv")) {
        assert_eq!(
            (a["latitude"].as_str(), a["published_population"].as_str()),
            ("", "")
        );
    }
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    for m in ["map_neighbourhoods", "map_icbs"] {
        assert!(
            html.contains(&format!(
                "Chart <code>{m}</code> not drawn: {NO_COORDINATES}."
            )),
            "{m}"
        );
    }
    assert!(!dir.join("validation.csv").exists());
    assert!(!dir.join("published_vs_estimated.csv").exists());
    assert!(!html.contains("Against published figures"));
}

/// All of real England: the England map has one circle per ICB, the neighbourhood map one
/// per neighbourhood, and the validation sets each ICB's simulated share of England beside
/// the published one (to rounding, for people: the simulated start is the published lists).
#[test]
fn england_is_mapped_by_icb_and_validated_as_a_whole() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        "s.toml",
        "name = \"s\"\nyears = 1\nruns = 1\n[capitation]\nformula = [\"need\", \"published\"]\n",
    );
    capsim_ok(
        tmp.path(),
        &["run", "s.toml", "--population", "england", "--out", "r"],
    );
    let dir = tmp.path().join("r");
    let circles = |chart: &str| {
        std::fs::read_to_string(dir.join(format!("charts/{chart}.svg")))
            .unwrap()
            .matches("<circle")
            .count()
    };
    assert_eq!(circles("map_icbs"), ICB_CODES.len() + LEGEND_CIRCLES);
    let areas = csv_rows(&dir.join("geography.csv"));
    assert_eq!(circles("map_neighbourhoods"), areas.len() + LEGEND_CIRCLES);
    let checks = csv_rows(&dir.join("validation.csv"));
    let shares: Vec<&BTreeMap<String, String>> = checks
        .iter()
        .filter(|r| r["measure"] == "share_of_england.registered_population")
        .collect();
    assert_eq!(shares.len(), ICB_CODES.len());
    for r in shares {
        let (p, c): (f64, f64) = (
            r["published"].parse().unwrap(),
            r["capsim"].parse().unwrap(),
        );
        assert!((p - c).abs() < 1e-6, "{r:?}");
    }
    let england = checks
        .iter()
        .find(|r| r["level"] == "england" && r["measure"] == "registered_population")
        .unwrap();
    assert_eq!(england["area"], "England");
    assert_eq!(england["capsim"].parse::<f64>().unwrap(), 62_154_630.0);
}
