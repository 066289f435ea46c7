//! Real England from NHS England's published practices (issue 25): 42 ICBs, 106 places,
//! the registered population to the person, and neighbourhoods of 30,000-50,000 patients
//! except single practices above 50,000 and those a place forces.

use std::collections::HashSet;

use capsim::data::datasets::Datasets;
use capsim::data::geography::{Geography, Preset};
use capsim::data::published::Practices;
use capsim::data::published_geography::{RealEngland, Size};

use crate::util::{capsim, capsim_ok};

#[test]
fn england_real_has_every_icb_place_and_person() {
    let started = std::time::Instant::now();
    let p = Practices::bundled().unwrap();
    let read = started.elapsed();
    let e = RealEngland::build(&p);
    let built = started.elapsed() - read;
    assert_eq!(e.icbs.len(), 42);
    assert_eq!(e.places.len(), 106);
    // 62,154,630.31 published, rounded to the person, at every level.
    assert_eq!(e.people.iter().sum::<u64>(), 62_154_630);
    assert_eq!(
        e.groups.iter().map(|g| g.population).sum::<u64>(),
        62_154_630
    );
    for (i, x) in p.practices.iter().enumerate() {
        assert!(
            (e.people[i] as f64 - x.population).abs() < 1.0,
            "{}",
            x.code
        );
    }
    // Every practice in exactly one neighbourhood of its own place.
    let mut seen = HashSet::new();
    for g in &e.groups {
        for &i in &g.practices {
            assert!(seen.insert(i));
            assert_eq!(p.practices[i].place_code, e.places[g.place].code);
        }
        let sum: u64 = g.practices.iter().map(|&i| e.people[i]).sum();
        assert_eq!(sum, g.population);
    }
    assert_eq!(seen.len(), p.practices.len());
    let count = |s: Size| e.groups.iter().filter(|g| e.size_of(g) == s).count();
    let (in_range, large, forced) = (
        count(Size::InRange),
        count(Size::LargePractice),
        count(Size::Forced),
    );
    println!(
        "real England: {} ICBs, {} places, {} neighbourhoods ({in_range} of 30-50k, \
         {large} single practices above 50k, {forced} forced), {} people; file read in {read:?}, built in {built:?}",
        e.icbs.len(),
        e.places.len(),
        e.groups.len(),
        e.people.iter().sum::<u64>()
    );
    let forced_sizes: Vec<(String, u64, usize)> = e
        .groups
        .iter()
        .filter(|g| e.size_of(g) == Size::Forced)
        .map(|g| {
            (
                e.places[g.place].code.clone(),
                g.population,
                g.practices.len(),
            )
        })
        .collect();
    println!("forced (place, patients, practices): {forced_sizes:?}");
    assert_eq!(large, 16);
    // The curve order forces a few runs out of range (17 in 2024/25), and each stays near
    // it: no neighbourhood of several practices is above 55,000 or below 15,000.
    assert!(
        forced * 50 <= e.groups.len(),
        "{forced} forced of {}",
        e.groups.len()
    );
    for g in &e.groups {
        if e.size_of(g) == Size::Forced && g.practices.len() > 1 {
            assert!(
                (15_000..=55_000).contains(&g.population),
                "{}",
                g.population
            );
        }
    }
    assert_eq!(e, RealEngland::build(&p), "the build is deterministic");

    let d = Datasets::bundled().unwrap();
    let g = Geography::real(&e, &d, None);
    assert_eq!(g.systems.len(), 42);
    assert_eq!(g.places.len(), 106);
    assert_eq!(g.total_population(), 62_154_630);
    let names: HashSet<&str> = g.neighbourhoods.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names.len(), g.neighbourhoods.len(), "unique names");
    for nb in &g.neighbourhoods {
        assert!((nb.imd.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        assert!((nb.age_sex.iter().flatten().sum::<f64>() - 1.0).abs() < 1e-9);
    }
    // Deprivation by fifths of England's people.
    for q in 0..5 {
        let share: f64 = g
            .neighbourhoods
            .iter()
            .map(|n| n.imd[q] * n.population as f64)
            .sum::<f64>()
            / 62_154_630.0;
        assert!((share - 0.2).abs() < 0.01, "quintile {}: {share}", q + 1);
    }
}

#[test]
fn england_real_one_icb_keeps_its_places_codes_and_ids() {
    let p = Practices::bundled().unwrap();
    let e = RealEngland::build(&p);
    let d = Datasets::bundled().unwrap();
    let whole = Geography::real(&e, &d, None);
    let gm = e.find_icb("QOP").unwrap();
    assert_eq!(e.find_icb("Greater Manchester"), Some(gm));
    assert_eq!(e.find_icb("nhs greater manchester icb"), Some(gm));
    let g = Geography::real(&e, &d, Some(gm));
    assert_eq!(g, Geography::preset(&d, Preset::Icb(gm as u8)).unwrap());
    assert_eq!(
        g.systems,
        vec!["NHS Greater Manchester ICB (QOP)".to_string()]
    );
    let places = e.places.iter().filter(|s| s.icb == gm).count();
    assert_eq!(g.places.len(), places);
    for pl in &g.places {
        assert!(pl.name.ends_with(')'), "{}", pl.name);
    }
    let pop: f64 = p
        .practices
        .iter()
        .filter(|x| x.icb_code == "QOP")
        .map(|x| x.population)
        .sum();
    assert!((g.total_population() as f64 - pop).abs() < 50.0);
    for nb in &g.neighbourhoods {
        assert_eq!(whole.neighbourhoods[nb.id as usize].name, nb.name);
    }
}

#[test]
fn england_real_list_icbs_and_run_one_by_name() {
    let tmp = tempfile::tempdir().unwrap();
    let out = capsim_ok(tmp.path(), &["list", "icbs"]);
    let text = String::from_utf8(out.stdout).unwrap();
    let rows: Vec<Vec<&str>> = text
        .lines()
        .skip(1)
        .map(|l| l.split('\t').collect())
        .collect();
    assert_eq!(rows.len(), 42);
    let places: usize = rows.iter().map(|r| r[2].parse::<usize>().unwrap()).sum();
    let people: u64 = rows.iter().map(|r| r[5].parse::<u64>().unwrap()).sum();
    assert_eq!((places, people), (106, 62_154_630));
    assert!(
        text.contains("QOP\tNHS Greater Manchester ICB\t10\t"),
        "{text}"
    );

    let scenario = tmp.path().join("s.toml");
    std::fs::write(&scenario, "name = \"s\"\nyears = 1\nruns = 1\n").unwrap();
    capsim_ok(
        tmp.path(),
        &[
            "run",
            "s.toml",
            "--icb",
            "shropshire, telford and wrekin",
            "--out",
            "r",
            "--no-report",
        ],
    );
    let budgets = std::fs::read_to_string(tmp.path().join("r/budgets.csv")).unwrap();
    assert!(budgets.contains("NHS Shropshire, Telford and Wrekin ICB (QOC)"));
    assert!(budgets.contains("(M2L0M)"));

    let bad = capsim(tmp.path(), &["run", "s.toml", "--icb", "QZZ", "--out", "x"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("`QZZ` is not an ICB code or name"));
    assert!(!tmp.path().join("x").exists());
}

/// Issue 25's outputs: the bundled baseline on real England writes NHS England's own
/// allocation (`published`) to the budgets table beside capsim's estimated-need formulas,
/// at every level, and the system rows of each formula share the same envelope.
#[test]
fn the_bundled_baseline_on_real_england_carries_the_published_formula() {
    let tmp = tempfile::tempdir().unwrap();
    let baseline = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/baseline.toml");
    capsim_ok(
        tmp.path(),
        &[
            "run",
            baseline.to_str().unwrap(),
            "--population",
            "england",
            "--runs",
            "1",
            "--years",
            "1",
            "--out",
            "r",
            "--no-report",
        ],
    );
    let path = tmp.path().join("r/budgets.parquet");
    let df = capsim::io::read::read_parquet(&path).unwrap();
    let strings = |c: &str| capsim::io::read::strings(&df, &path, c).unwrap();
    let (formula, level, sector) = (strings("formula"), strings("level"), strings("sector"));
    let budget = capsim::io::read::floats(&df, &path, "budget").unwrap();
    let mut england: std::collections::BTreeMap<String, f64> = Default::default();
    let mut levels: std::collections::BTreeMap<String, HashSet<String>> = Default::default();
    for k in 0..formula.len() {
        levels
            .entry(formula[k].clone())
            .or_default()
            .insert(level[k].clone());
        if level[k] == "england" && sector[k] == "total" {
            england.insert(formula[k].clone(), budget[k]);
        }
    }
    let names: Vec<&String> = england.keys().collect();
    assert!(names.iter().any(|n| *n == "published"), "{names:?}");
    assert!(names.iter().any(|n| *n == "need_adjusted"), "{names:?}");
    for l in ["neighbourhood", "place", "system", "england"] {
        assert!(levels["published"].contains(l), "published lacks {l}");
    }
    // One envelope, shared differently.
    let p = england["published"];
    assert!((england["need_adjusted"] - p).abs() <= 1.0, "{england:?}");
}

/// Places may be local authority districts instead of sub-ICB locations: one place per
/// (ICB, district) in the file, every neighbourhood within one, nobody lost.
#[test]
fn real_england_places_can_be_local_authorities() {
    use capsim::data::published_geography::PlaceBy;
    let p = Practices::bundled().unwrap();
    let e = RealEngland::build_by(&p, PlaceBy::LocalAuthority);
    let pairs: HashSet<(&str, &str)> = p
        .practices
        .iter()
        .map(|x| (x.icb_code.as_str(), x.la_code.as_str()))
        .collect();
    assert_eq!(e.places.len(), pairs.len());
    assert!(e.places.len() > 300, "{}", e.places.len());
    for g in &e.groups {
        let place = &e.places[g.place];
        for &i in &g.practices {
            assert_eq!(p.practices[i].la_code, place.code);
            assert_eq!(p.practices[i].icb_code, e.icbs[place.icb].code);
        }
    }
    let people: u64 = e.groups.iter().map(|g| g.population).sum();
    assert_eq!(people, 62_154_630);

    // Through a scenario: Greater Manchester's ten boroughs.
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("s.toml"),
        "name = \"s\"\nyears = 1\nruns = 1\n[population]\npreset = \"QOP\"\nplace_by = \"local_authority\"\n",
    )
    .unwrap();
    capsim_ok(tmp.path(), &["run", "s.toml", "--out", "r", "--no-report"]);
    let budgets = std::fs::read_to_string(tmp.path().join("r/budgets.csv")).unwrap();
    assert!(
        budgets.contains("Bolton (E08000001)"),
        "{}",
        &budgets[..400]
    );

    // Only for real England.
    std::fs::write(
        tmp.path().join("bad.toml"),
        "name = \"s\"\n[population]\npreset = \"invented\"\nplace_by = \"local_authority\"\n",
    )
    .unwrap();
    let out = capsim(tmp.path(), &["run", "bad.toml", "--out", "x"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.toml, field `population.place_by`") && err.contains("real England"),
        "{err}"
    );
    assert!(!tmp.path().join("x").exists());
}

/// `--practices FILE` builds real England from another file of the published columns: here
/// South Yorkshire's rows alone, plain CSV. An ICB it lacks is a clear error.
#[test]
fn real_england_from_another_practice_file() {
    use std::io::Read;
    let tmp = tempfile::tempdir().unwrap();
    let mut text = String::new();
    flate2::read::GzDecoder::new(
        &std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("datasets/practices_2024_25.csv.gz"),
        )
        .unwrap()[..],
    )
    .read_to_string(&mut text)
    .unwrap();
    let mut lines = text.lines();
    let mut subset = vec![lines.next().unwrap()];
    subset.extend(lines.filter(|l| l.contains(",QF7,")));
    assert!(subset.len() > 100);
    std::fs::write(tmp.path().join("sy.csv"), subset.join("\n") + "\n").unwrap();
    let p = Practices::from_file(&tmp.path().join("sy.csv")).unwrap();
    let published = p.population().round() as u64;

    std::fs::write(
        tmp.path().join("s.toml"),
        "name = \"s\"\nyears = 1\nruns = 1\n",
    )
    .unwrap();
    let args = |icb: &'static str| {
        [
            "run",
            "s.toml",
            "--icb",
            icb,
            "--practices",
            "sy.csv",
            "--out",
            "r",
            "--no-report",
        ]
    };
    let out = capsim_ok(tmp.path(), &args("QF7"));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains(&format!("{published} person-years")),
        "{said}"
    );

    let out = capsim(
        tmp.path(),
        &args("QOP").map(|a| if a == "r" { "x" } else { a }),
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("QOP has no practice in the practice file"),
        "{err}"
    );
    assert!(!tmp.path().join("x").exists());
}
