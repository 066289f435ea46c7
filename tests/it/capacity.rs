//! Issue 26: beds, virtual-ward places and staff. Beds follow the bed days by hand at
//! every level, enrolment never exceeds a declared capacity, a capacity that never binds
//! leaves every other table byte for byte, the bed base gives the year demand passes it,
//! and bad capacity input is one clear line with exit code 2.

use std::collections::BTreeMap;
use std::path::Path;

use capsim::accounts::capacity::{Peak, Profile};

use crate::scenarios::{rejected, write};
use crate::util::capsim_ok;

/// Two neighbourhoods, three years, one run; an intervention with `capacity` (a TOML
/// inline table, or "" for none) and a `[capacity]` section `beds` ("" for none).
fn scenario(capacity: &str, beds: &str) -> String {
    let capacity = if capacity.is_empty() {
        String::new()
    } else {
        format!("capacity = {capacity}\n")
    };
    format!(
        r#"name = "small"
years = 3
seed = 7
runs = 1
[population]
preset = "invented"
neighbourhoods = ["Harbourside PCN", "Castlegate PCN"]
[[intervention]]
name = "Wards"
target = {{ segments = ["frailty"], age_min = 65 }}
coverage = {{ start = 0.2, target = 0.6, ramp_years = 2 }}
cost_per_enrolled = 300
effects.emergency_admissions = -0.2
{capacity}{beds}"#
    )
}

/// (year, level, area, metric) -> value, from a flat run's `metrics.csv`.
type Rows = BTreeMap<(u32, String, String, String), f64>;

fn metrics(dir: &Path) -> Rows {
    let text = std::fs::read_to_string(dir.join("metrics.csv")).unwrap();
    text.lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (
                (
                    f[0].parse().unwrap(),
                    f[1].to_string(),
                    f[2].to_string(),
                    f[3].to_string(),
                ),
                f[4].parse().unwrap(),
            )
        })
        .collect()
}

fn run(dir: &Path, name: &str, text: &str) -> Rows {
    write(dir, &format!("{name}.toml"), text);
    capsim_ok(
        dir,
        &["run", &format!("{name}.toml"), "--out", name, "--csv"],
    );
    metrics(&dir.join(name))
}

/// By hand at every level and year: beds required = bed days / (365 x 0.9); released =
/// the counterfactual's less the scenario's; the 95% requirement is the smallest count
/// whose days over it are at most 5% (checked against `Peak` directly).
#[test]
fn beds_follow_the_bed_days_by_hand() {
    let tmp = tempfile::tempdir().unwrap();
    let rows = run(
        tmp.path(),
        "beds",
        &scenario("", "[capacity]\ntarget_occupancy = 0.9\n"),
    );
    let mut checked = 0;
    for ((year, level, area, metric), v) in &rows {
        if metric != "beds_required" {
            continue;
        }
        let key = |m: &str| (*year, level.clone(), area.clone(), m.to_string());
        let bed_days = rows[&key("count.emergency_bed_days")];
        assert!(
            (v - bed_days / (365.0 * 0.9)).abs() < 1e-9 * v.max(1.0),
            "{area} {year}"
        );
        let cf = rows[&key("counterfactual_beds_required")];
        assert!((rows[&key("beds_released")] - (cf - v)).abs() < 1e-9);
        let p95 = rows[&key("beds_required_p95")];
        let peak = Peak::new(bed_days, &Profile::default());
        assert_eq!(p95, peak.beds_for_exceedance(0.05) as f64, "{area} {year}");
        if p95 > 0.0 {
            assert!(peak.share_of_days_over(p95 as u64) <= 0.05);
            assert!(peak.share_of_days_over(p95 as u64 - 1) > 0.05);
        }
        checked += 1;
    }
    // System, place, two neighbourhoods and five quintiles, three years.
    assert!(checked >= 3 * 9, "{checked}");
    // Without an intervention's capacity there are no service rows.
    assert!(!rows
        .keys()
        .any(|k| k.3 == "staff_wte" || k.3 == "places_used"));
}

/// Three virtual-ward places of 7-day stays at 0.3 episodes per enrolled person-year hold
/// 3 x 365 / 2.1 = 521.4 enrolled person-years: the coverage asks for more by year 3, and
/// enrolment stops at the capacity in total and in each neighbourhood's share; staff and
/// places follow.
#[test]
fn enrolment_never_exceeds_capacity() {
    let tmp = tempfile::tempdir().unwrap();
    let cap = "{ places = 3, length_of_stay_days = 7, episodes_per_enrolled = 0.3, \
               wte_per_place = 1.0, roles = { nurse = 0.6, therapist = 0.4 }, cost_per_wte = 40000 }";
    let rows = run(tmp.path(), "capped", &scenario(cap, ""));
    let held = 3.0 * 365.0 / (7.0 * 0.3);
    let get = |y: u32, level: &str, m: &str| {
        rows.iter()
            .find(|(k, _)| k.0 == y && k.1 == level && k.3 == m)
            .map(|(_, v)| *v)
    };
    let mut turned_away = 0.0f64;
    for y in 1..=3 {
        let enrolled = get(y, "system", "enrolled").unwrap();
        assert!(enrolled <= held + 1e-9, "year {y}: {enrolled} > {held}");
        let used = get(y, "system", "places_used").unwrap();
        assert!((used - enrolled / (365.0 / 2.1)).abs() < 1e-9);
        assert!(used <= 3.0 + 1e-9);
        let staff = get(y, "system", "staff_wte").unwrap();
        assert!((staff - used).abs() < 1e-9, "a WTE per place in use");
        let nurse = get(y, "system", "staff_wte.nurse").unwrap();
        assert!((nurse - 0.6 * staff).abs() < 1e-9);
        assert!((get(y, "system", "staff_cost").unwrap() - 40_000.0 * staff).abs() < 1e-6);
        turned_away = turned_away.max(get(y, "system", "turned_away_share").unwrap());
    }
    assert!(turned_away > 0.1, "the cap binds: {turned_away}");
    // At every level utilisation is at most 1 and nobody enrolled lacks a place.
    for ((_, _, area, metric), v) in &rows {
        if metric == "capacity_utilisation" {
            assert!(*v <= 1.0 + 1e-9 && *v > 0.0, "{area}: {v}");
        }
    }
    // Uncapped, the same coverage enrols more: the cap is what held it back.
    let free = run(tmp.path(), "free", &scenario("", ""));
    let key = (
        3,
        "system".to_string(),
        rows.keys().find(|k| k.1 == "system").unwrap().2.clone(),
        "enrolled".to_string(),
    );
    assert!(
        free[&key] > rows[&key] + 1.0,
        "{} vs {}",
        free[&key],
        rows[&key]
    );
}

/// A capacity that never binds, and beds asked for, add rows and change nothing else:
/// every other metric row has the same text, and the other tables the same bytes, as the
/// same scenario without capacity. (Scenarios that set no capacity run the code path
/// without any capacity arithmetic: enrolment is the coverage times 1.)
#[test]
fn capacity_that_never_binds_changes_no_other_output() {
    let tmp = tempfile::tempdir().unwrap();
    run(tmp.path(), "plain", &scenario("", ""));
    run(
        tmp.path(),
        "roomy",
        &scenario(
            "{ places = 1000000, wte_per_place = 0.5 }",
            "[capacity]\ntarget_occupancy = 0.85\n",
        ),
    );
    let lines = |dir: &str| -> Vec<String> {
        std::fs::read_to_string(tmp.path().join(dir).join("metrics.csv"))
            .unwrap()
            .lines()
            .map(String::from)
            .collect()
    };
    let capacity_metric = |l: &str| {
        let m = l.split(',').nth(3).unwrap_or("");
        m.contains("beds")
            || m.starts_with("bed_base")
            || m.starts_with("days_over")
            || m.starts_with("staff_")
            || m.starts_with("places_")
            || m == "capacity_utilisation"
            || m == "turned_away_share"
    };
    let plain = lines("plain");
    let roomy: Vec<String> = lines("roomy")
        .into_iter()
        .filter(|l| !capacity_metric(l))
        .collect();
    assert_eq!(plain.len(), roomy.len());
    assert!(plain == roomy, "metric rows differ");
    for table in ["activity", "budgets", "flows", "population", "parameters"] {
        let a = std::fs::read(tmp.path().join(format!("plain/{table}.parquet"))).unwrap();
        let b = std::fs::read(tmp.path().join(format!("roomy/{table}.parquet"))).unwrap();
        assert!(a == b, "{table}.parquet differs");
    }
}

/// A bed base between the first and last year's beds required is passed in the first year
/// above it; the days over it are the Poisson days over its whole beds.
#[test]
fn a_bed_base_is_passed_in_the_year_demand_exceeds_it() {
    let tmp = tempfile::tempdir().unwrap();
    let beds = "[capacity]\ntarget_occupancy = 0.9\n";
    let first = run(tmp.path(), "first", &scenario("", beds));
    let system = first.keys().find(|k| k.1 == "system").unwrap().2.clone();
    let key = |y: u32, m: &str| (y, "system".to_string(), system.clone(), m.to_string());
    let required: Vec<f64> = (1..=3).map(|y| first[&key(y, "beds_required")]).collect();
    assert!(
        required[2] > required[0] + 1.0,
        "demand grows: {required:?}"
    );
    let base = (required[0] + required[2]) / 2.0;
    write(
        tmp.path(),
        "beds.csv",
        &format!("area,beds\n{system},{base}\n"),
    );
    let rows = run(
        tmp.path(),
        "based",
        &scenario("", &format!("{beds}beds_file = \"beds.csv\"\n")),
    );
    let want = 1 + required.iter().position(|b| *b > base).unwrap() as u32;
    assert_eq!(rows[&key(3, "bed_base_passed_year")], want as f64);
    assert!(rows[&key(3, "counterfactual_bed_base_passed_year")] <= want as f64);
    for y in 1..=3 {
        assert_eq!(rows[&key(y, "bed_base")], base);
        let peak = Peak::new(
            rows[&key(y, "count.emergency_bed_days")],
            &Profile::default(),
        );
        let days = rows[&key(y, "days_over_bed_base")];
        assert!((days - peak.days_over(base.floor() as u64)).abs() < 1e-9);
    }
    // Only the area listed has a base.
    assert!(!rows
        .keys()
        .any(|k| k.1 == "neighbourhood" && k.3 == "bed_base"));
}

const BASE_INTERVENTION: &str = "extends = \"base.toml\"\n[[intervention]]\nname = \"A\"\ncoverage = { start = 0.1, target = 0.5 }\n";

#[test]
fn negative_places_are_rejected() {
    rejected(
        &format!("{BASE_INTERVENTION}capacity = {{ places = -5 }}\n"),
        5,
        "intervention[0].capacity",
        "-5 is not allowed; use 0 or more",
    );
}

#[test]
fn zero_places_with_enrolment_are_rejected() {
    rejected(
        &format!("{BASE_INTERVENTION}capacity = {{ places = [0, 4] }}\n"),
        2,
        "intervention[0].capacity",
        "places is 0 in year 1, when coverage is 0.5",
    );
}

#[test]
fn places_and_staff_together_are_rejected() {
    rejected(
        &format!(
            "{BASE_INTERVENTION}capacity = {{ places = 4, staff_wte = 2, caseload_per_wte = 30 }}\n"
        ),
        5,
        "intervention[0].capacity",
        "give `places` or `staff_wte`, not both",
    );
}

#[test]
fn a_bad_target_occupancy_is_rejected() {
    rejected(
        "extends = \"base.toml\"\n[capacity]\ntarget_occupancy = 1.2\n",
        3,
        "capacity.target_occupancy",
        "use 0.5 to 1",
    );
}

/// A bed base naming an area the geography lacks, or negative beds: one line naming the
/// file, its line and column, and what is allowed; exit 2; nothing written.
#[test]
fn a_bed_base_with_an_unknown_area_or_negative_beds_is_rejected() {
    for (csv, says) in [
        ("area,beds\nHarbourside PCN,40\nAtlantis,100\n", "Atlantis"),
        ("area,beds\nHarbourside PCN,-40\n", "-40"),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        write(tmp.path(), "beds.csv", csv);
        write(
            tmp.path(),
            "s.toml",
            &scenario("", "[capacity]\nbeds_file = \"beds.csv\"\n"),
        );
        for args in [
            vec!["validate", "s.toml"],
            vec!["run", "s.toml", "--out", "r"],
        ] {
            let out = crate::util::capsim(tmp.path(), &args);
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
            assert!(!err.contains("panicked"), "{err}");
            assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
            assert!(err.contains("beds.csv") && err.contains(says), "{err}");
            assert!(!tmp.path().join("r").exists(), "wrote nothing");
        }
    }
}

/// `cost = "provided"` pays `cost_per_enrolled` for every person-year the places could
/// hold, filled or not: 1,000 caseload places at £300 are £300,000 a year whatever the
/// enrolment; `"used"` (the default) pays for the enrolled only.
#[test]
fn costs_follow_capacity_provided_or_used() {
    let tmp = tempfile::tempdir().unwrap();
    let provided = run(
        tmp.path(),
        "provided",
        &scenario("{ places = 1000, cost = \"provided\" }", ""),
    );
    let used = run(tmp.path(), "used", &scenario("{ places = 1000 }", ""));
    for y in 1..=3 {
        let get = |rows: &Rows, m: &str| {
            rows.iter()
                .find(|(k, _)| k.0 == y && k.1 == "system" && k.3 == m)
                .map(|(_, v)| *v)
                .unwrap()
        };
        // Set-up is 0 here, so the programme cost is the running cost.
        let p = get(&provided, "programme_cost");
        assert!((p - 300_000.0).abs() < 1.0, "year {y}: {p}");
        let enrolled = get(&used, "enrolled");
        assert!(enrolled < 1000.0, "the places never fill: {enrolled}");
        assert!((get(&used, "programme_cost") - 300.0 * enrolled).abs() < 1.0);
        assert!((get(&used, "capacity_utilisation") - enrolled / 1000.0).abs() < 1e-9);
    }
}

/// An intervention that changes mortality may declare a capacity too: its mortality
/// effect then reaches only those the capacity lets in. A capacity that never binds leaves
/// the population as without one, byte for byte; a binding one keeps enrolment within
/// it and holds back part of the deaths avoided.
#[test]
fn capacity_caps_an_intervention_that_changes_mortality() {
    let tmp = tempfile::tempdir().unwrap();
    let with_mortality = |cap: &str| {
        scenario(cap, "").replace(
            "effects.emergency_admissions = -0.2\n",
            "effects.emergency_admissions = -0.2\neffects.mortality = -0.5\n",
        )
    };
    let free = run(tmp.path(), "free", &with_mortality(""));
    let roomy_cap = "{ places = 100000, length_of_stay_days = 7, episodes_per_enrolled = 0.3 }";
    run(tmp.path(), "roomy", &with_mortality(roomy_cap));
    for table in ["population", "flows"] {
        let read = |d: &str| std::fs::read(tmp.path().join(d).join(format!("{table}.parquet")));
        assert_eq!(read("free").unwrap(), read("roomy").unwrap(), "{table}");
    }
    let cap = "{ places = 3, length_of_stay_days = 7, episodes_per_enrolled = 0.3 }";
    let capped = run(tmp.path(), "capped", &with_mortality(cap));
    let held = 3.0 * 365.0 / (7.0 * 0.3);
    let system = |rows: &Rows, y: u32, m: &str| {
        rows.iter()
            .find(|(k, _)| k.0 == y && k.1 == "system" && k.3 == m)
            .map(|(_, v)| *v)
            .unwrap()
    };
    let (mut free_deaths, mut capped_deaths) = (0.0, 0.0);
    for y in 1..=3 {
        assert!(system(&capped, y, "enrolled") <= held + 1e-9);
        free_deaths += system(&free, y, "deaths");
        capped_deaths += system(&capped, y, "deaths");
    }
    assert!(
        capped_deaths > free_deaths,
        "the cap holds back deaths avoided: {capped_deaths} vs {free_deaths}"
    );
}
