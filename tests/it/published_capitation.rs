//! `basis = "published"` capitation (issue 25, item 3): budgets shared by NHS England's
//! published weighted populations, whose place-in-ICB indices are NHS England's own.

use std::collections::BTreeMap;

use capsim::accounts::capitation::{allocate, published_place_indices, relative_index};
use capsim::core::care::Sector;
use capsim::data::datasets::Datasets;
use capsim::data::geography::{Geography, Preset};
use capsim::data::published::{Component, Practices};
use capsim::data::published_geography::RealEngland;

use crate::util::{capsim, capsim_ok};

/// The code in a name written `NAME (CODE)`.
fn code_of(name: &str) -> &str {
    let open = name.rfind('(').unwrap();
    &name[open + 1..name.len() - 1]
}

/// Fields of a CSV line, quotes removed (quoted fields may hold commas).
fn fields(line: &str) -> Vec<String> {
    let (mut out, mut cur, mut quoted) = (Vec::new(), String::new(), false);
    for ch in line.chars() {
        match ch {
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            _ => cur.push(ch),
        }
    }
    out.push(cur);
    out
}

#[test]
fn published_place_indices_are_nhs_englands_for_all_106_places() {
    let p = Practices::bundled().unwrap();
    let e = RealEngland::build(&p);
    let d = Datasets::bundled().unwrap();
    let g = Geography::real(&e, &d, None);
    assert!(g.has_published());
    assert_eq!(g.places.len(), 106);
    for component in [Component::Final, Component::GeneralAcute] {
        // Straight from the practice rows: each place's and ICB's (weighted, population).
        let mut place: BTreeMap<&str, (f64, f64)> = BTreeMap::new();
        let mut icb: BTreeMap<&str, (f64, f64)> = BTreeMap::new();
        for x in &p.practices {
            for (map, key) in [(&mut place, x.place_code.as_str()), (&mut icb, &x.icb_code)] {
                let v = map.entry(key).or_default();
                v.0 += x.weighted(component);
                v.1 += x.population;
            }
        }
        let icb_of: BTreeMap<&str, &str> = p
            .practices
            .iter()
            .map(|x| (x.place_code.as_str(), x.icb_code.as_str()))
            .collect();
        let expected = |code: &str| {
            let (pw, pn) = place[code];
            let (iw, ina) = icb[icb_of[code]];
            (pw / pn) / (iw / ina)
        };

        // From the geography's neighbourhoods.
        let index = published_place_indices(&g, component).unwrap();
        for (pl, got) in g.places.iter().zip(&index) {
            let want = expected(code_of(&pl.name));
            assert!(
                (got - want).abs() <= 1e-12 * want,
                "{}: {got} {want}",
                pl.name
            );
        }
        let spread = index
            .iter()
            .fold((f64::MAX, f64::MIN), |(lo, hi), x| (lo.min(*x), hi.max(*x)));
        assert!(
            spread.0 < 0.95 && spread.1 > 1.05,
            "{component:?}: {spread:?}"
        );

        // From the budgets: each ICB's envelope (£1,000 a head) shared by the formula's
        // weights, as `budgets` shares a sector, and the index each place's budget pays.
        for sys in 0..g.systems.len() {
            let members: Vec<usize> = (0..g.neighbourhoods.len())
                .filter(|k| g.system_of(*k) == sys)
                .collect();
            let pub_of = |k: &usize| g.neighbourhoods[*k].published.unwrap();
            let population: f64 = members.iter().map(|k| pub_of(k).population).sum();
            let envelope = (population * 100_000.0).round() as i64;
            let place_of: Vec<usize> = members.iter().map(|k| g.neighbourhoods[*k].place).collect();
            let shares: Vec<f64> = members
                .iter()
                .map(|k| pub_of(k).weighted(component))
                .collect();
            let budget = allocate(envelope, &place_of, &shares);
            assert_eq!(budget.iter().sum::<i64>(), envelope);
            let mut by_place: BTreeMap<usize, (i64, f64)> = BTreeMap::new();
            for (m, k) in members.iter().enumerate() {
                let v = by_place.entry(place_of[m]).or_default();
                v.0 += budget[m];
                v.1 += pub_of(k).population;
            }
            for (pl, (b, n)) in by_place {
                let got = relative_index(b as f64, n, envelope as f64, population);
                let want = expected(code_of(&g.places[pl].name));
                // Budgets are whole pence: a place's is within a penny of its share.
                assert!(
                    (got - want).abs() <= 1e-9 * want,
                    "{}: {got} {want}",
                    g.places[pl].name
                );
            }
        }
    }
}

#[test]
fn published_budgets_of_an_icb_follow_its_weighted_populations() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("s.toml"),
        r#"name = "s"
years = 1
runs = 1
[capitation]
formula = ["headcount", "published", { name = "ga", basis = "published", component = "general_and_acute" }]
"#,
    )
    .unwrap();
    capsim_ok(
        tmp.path(),
        &[
            "run",
            "s.toml",
            "--icb",
            "QJG",
            "--runs",
            "1",
            "--years",
            "1",
            "--out",
            "r",
            "--no-report",
        ],
    );
    let d = Datasets::bundled().unwrap();
    let icb = capsim::data::published::ICB_CODES
        .iter()
        .position(|c| *c == "QJG")
        .unwrap();
    let g = Geography::preset(&d, Preset::Icb(icb as u8)).unwrap();
    assert_eq!(g.places.len(), 3);
    let weighted = |name: &str, c: Component| {
        let nb = g.neighbourhoods.iter().find(|n| n.name == name).unwrap();
        nb.published.unwrap().weighted(c)
    };

    let csv = std::fs::read_to_string(tmp.path().join("r/budgets.csv")).unwrap();
    // (formula) -> system total; (formula, neighbourhood) -> total budget, in pence.
    let mut system: BTreeMap<String, i64> = BTreeMap::new();
    let mut nbs: BTreeMap<String, Vec<(String, i64)>> = BTreeMap::new();
    for line in csv.lines().skip(1) {
        let c = fields(line);
        if c[6] != "total" {
            continue;
        }
        let pence = (c[9].parse::<f64>().unwrap() * 100.0).round() as i64;
        match c[13].as_str() {
            "system" => {
                system.insert(c[7].clone(), pence);
            }
            "neighbourhood" => nbs
                .entry(c[7].clone())
                .or_default()
                .push((c[5].clone(), pence)),
            _ => {}
        }
    }
    let envelope = system["headcount"];
    assert!(envelope > 0);
    for (formula, component) in [
        ("published", Component::Final),
        ("ga", Component::GeneralAcute),
    ] {
        assert_eq!(system[formula], envelope, "{formula}: the same envelope");
        let rows = &nbs[formula];
        assert_eq!(rows.len(), g.neighbourhoods.len());
        assert_eq!(rows.iter().map(|r| r.1).sum::<i64>(), envelope, "{formula}");
        let total: f64 = rows.iter().map(|r| weighted(&r.0, component)).sum();
        for (name, budget) in rows {
            let exact = envelope as f64 * weighted(name, component) / total;
            // Each sector is split to places and then neighbourhoods by largest
            // remainder: under two pence from its exact share in each sector.
            assert!(
                (*budget as f64 - exact).abs() < 2.0 * Sector::COUNT as f64,
                "{formula} {name}: {budget} vs {exact}"
            );
        }
    }
    // The two components share differently.
    assert_ne!(nbs["published"], nbs["ga"]);
}

#[test]
fn published_basis_without_published_populations_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("s.toml"),
        "name = \"s\"\nyears = 1\nruns = 1\n[population]\npreset = \"invented\"\n[capitation]\nformula = \"published\"\n",
    )
    .unwrap();
    let out = capsim(tmp.path(), &["run", "s.toml", "--out", "r", "--no-report"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("s.toml, field `capitation.formula`"), "{err}");
    assert!(
        err.contains("population = \"england\"") && err.contains("--icb"),
        "{err}"
    );
    assert!(!tmp.path().join("r").exists());

    // A component goes with the published basis only, and is one of the list.
    std::fs::write(
        tmp.path().join("c.toml"),
        "name = \"c\"\n[capitation]\nformula = { basis = \"need\", component = \"final\" }\n",
    )
    .unwrap();
    let out = capsim(tmp.path(), &["run", "c.toml", "--icb", "QJG", "--out", "c"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("`component` goes with basis \"published\" only"),
        "{err}"
    );
    std::fs::write(
        tmp.path().join("u.toml"),
        "name = \"u\"\n[capitation]\nformula = { basis = \"published\", component = \"dental\" }\n",
    )
    .unwrap();
    let out = capsim(tmp.path(), &["run", "u.toml", "--icb", "QJG", "--out", "u"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("unknown variant `dental`") && err.contains("`final`"),
        "{err}"
    );
}
