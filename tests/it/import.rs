//! `capsim import gp-lists` on small files in NHS Digital's published layout
//! (`tests/fixtures/gp-lists/`): two ICBs, three sub-ICB locations, eight practices, one
//! of them with an unallocated PCN code and one with none, and a mapped practice with no
//! patients listed. Bad input names the file, line and column and exits 2 with nothing
//! written; the imported folder runs. Each layout NHS Digital has published (`layout_*`)
//! imports to the same bytes as the fixtures' own.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use capsim::core::dims::N_SEX;
use capsim::core::rng::{Purpose, StreamKey};
use capsim::data::geography::{Geography, LIST_AGES};
use capsim::engine::population::People;
use capsim::engine::synthesis::synthesise;

use crate::util::{assert_close, bundled, capsim};

const MALE: &str = "gp-reg-pat-prac-sing-age-male.csv";
const FEMALE: &str = "gp-reg-pat-prac-sing-age-female.csv";
const MAP: &str = "gp-reg-pat-prac-map.csv";
const DEPRIVATION: &str = "practice-deprivation.csv";

/// The fixtures copied into `dir`, so a test can spoil one.
fn fixtures(dir: &Path) -> PathBuf {
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/gp-lists");
    let to = dir.join("lists");
    std::fs::create_dir_all(&to).unwrap();
    for f in [MALE, FEMALE, MAP, DEPRIVATION] {
        std::fs::copy(from.join(f), to.join(f)).unwrap();
    }
    to
}

/// Runs `capsim import gp-lists` in `dir` on `files` (relative to `dir`) plus `extra`.
fn import(dir: &Path, files: &[&str], extra: &[&str]) -> std::process::Output {
    let mut args = vec!["import", "gp-lists"];
    args.extend_from_slice(files);
    args.extend_from_slice(&["--out", "geo"]);
    args.extend_from_slice(extra);
    capsim(dir, &args)
}

const ALL_FILES: [&str; 3] = [
    "lists/gp-reg-pat-prac-map.csv",
    "lists/gp-reg-pat-prac-sing-age-female.csv",
    "lists/gp-reg-pat-prac-sing-age-male.csv",
];

/// Each practice's patients by list age and sex, summed here from the published rows
/// (the `ALL` rows skipped), independently of capsim.
fn practice_counts(lists: &Path) -> BTreeMap<String, Vec<[u64; N_SEX]>> {
    let mut out: BTreeMap<String, Vec<[u64; N_SEX]>> = BTreeMap::new();
    for (sex, file) in [MALE, FEMALE].iter().enumerate() {
        let text = std::fs::read_to_string(lists.join(file)).unwrap();
        for line in text.lines().skip(1) {
            let c: Vec<&str> = line.split(',').collect();
            if c[6] == "ALL" {
                continue;
            }
            let age = c[6].trim_end_matches('+').parse::<usize>().unwrap();
            let row = out
                .entry(c[3].to_string())
                .or_insert_with(|| vec![[0; N_SEX]; LIST_AGES]);
            row[age][sex] += c[7].parse::<u64>().unwrap();
        }
    }
    out
}

/// Which practices make up each neighbourhood, as the mapping file says.
fn membership() -> Vec<(&'static str, &'static [&'static str])> {
    vec![
        ("Alpha North, Riverside PCN", &["A81001", "A81002"]),
        ("Alpha South PCN", &["A81003"]),
        ("NHS Alpha ICB - 00A practices without a PCN", &["A81004"]),
        ("Alpha Dales PCN", &["A81006"]),
        ("NHS Alpha ICB - 00B practices without a PCN", &["A81005"]),
        ("Beta Central PCN", &["B82001", "B82002"]),
    ]
}

fn ok(out: &std::process::Output) {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn import_gives_each_pcn_the_sum_of_its_practices() {
    let tmp = tempfile::tempdir().unwrap();
    let lists = fixtures(tmp.path());
    // The mapping file first: files are recognised by their columns, not their order.
    ok(&import(tmp.path(), &ALL_FILES, &[]));
    let g = Geography::from_dir(&tmp.path().join("geo")).unwrap();
    assert_eq!(
        g.systems,
        [
            "NHS Alpha Integrated Care Board",
            "NHS Beta Integrated Care Board"
        ]
    );
    let places: Vec<&str> = g.places.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        places,
        [
            "NHS Alpha ICB - 00A",
            "NHS Alpha ICB - 00B",
            "NHS Beta ICB - 01C"
        ]
    );
    // The folder's codes are the places' and systems' codes, as output tables write them.
    let codes: Vec<Option<&str>> = g.places.iter().map(|p| p.code.as_deref()).collect();
    assert_eq!(codes, [Some("00A"), Some("00B"), Some("01C")]);
    assert_eq!(
        g.system_codes,
        [Some("QAA".to_string()), Some("QBB".to_string())]
    );
    assert!(g.neighbourhoods.iter().all(|n| n.location.is_none()));
    let counts = practice_counts(&lists);
    let members = membership();
    assert_eq!(g.neighbourhoods.len(), members.len());
    for (name, practices) in members {
        let nb = g
            .neighbourhoods
            .iter()
            .find(|n| n.name == name)
            .unwrap_or_else(|| panic!("no neighbourhood {name}"));
        let mut expected = vec![[0u64; N_SEX]; LIST_AGES];
        for p in practices {
            for (a, row) in counts[*p].iter().enumerate() {
                for s in 0..N_SEX {
                    expected[a][s] += row[s];
                }
            }
        }
        let total: u64 = expected.iter().flatten().sum();
        assert_eq!(nb.population, total, "{name}");
        // The age-sex structure is the practices' own, single year by single year.
        let ages = nb.ages.as_ref().expect("imported ages");
        for a in 0..LIST_AGES {
            for s in 0..N_SEX {
                let got = ages[a][s] * total as f64;
                assert!((got - expected[a][s] as f64).abs() < 1e-6, "{name} age {a}");
            }
        }
        // Without a deprivation file, England's shares.
        assert_eq!(nb.imd, [0.2; 5], "{name}");
    }
    // The extra neighbourhood of each place holds its practices without a PCN (a blank
    // code, or an unallocated `U` code); the mapped practice with no patients is absent.
    let practices = std::fs::read_to_string(tmp.path().join("geo/practices.csv")).unwrap();
    assert!(practices.contains("A81004,NHS Alpha ICB - 00A practices without a PCN,"));
    assert!(practices.contains("A81005,NHS Alpha ICB - 00B practices without a PCN,"));
    assert!(!practices.contains("C83009"));
    // Importing again replaces the folder.
    ok(&import(tmp.path(), &ALL_FILES, &["--icb", "QBB"]));
}

#[test]
fn icb_filter_keeps_only_the_listed_icbs() {
    let tmp = tempfile::tempdir().unwrap();
    fixtures(tmp.path());
    ok(&import(tmp.path(), &ALL_FILES, &["--icb", "QBB"]));
    let g = Geography::from_dir(&tmp.path().join("geo")).unwrap();
    assert_eq!(g.systems, ["NHS Beta Integrated Care Board"]);
    assert_eq!(g.neighbourhoods.len(), 1);
    assert_eq!(g.neighbourhoods[0].name, "Beta Central PCN");
    ok(&import(
        tmp.path(),
        &ALL_FILES,
        &["--icb", "QBB", "--icb", "QAA"],
    ));
    assert_eq!(
        Geography::from_dir(&tmp.path().join("geo"))
            .unwrap()
            .neighbourhoods
            .len(),
        6
    );
    let out = import(tmp.path(), &ALL_FILES, &["--icb", "QZZ"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--icb: `QZZ`"));
}

#[test]
fn deprivation_comes_from_the_practice_file_by_rank_of_score() {
    let tmp = tempfile::tempdir().unwrap();
    fixtures(tmp.path());
    ok(&import(
        tmp.path(),
        &ALL_FILES,
        &["--deprivation", "lists/practice-deprivation.csv"],
    ));
    let g = Geography::from_dir(&tmp.path().join("geo")).unwrap();
    let imd = |name: &str| {
        g.neighbourhoods
            .iter()
            .find(|n| n.name == name)
            .unwrap()
            .imd
    };
    // Five practices scored: the highest score is quintile 1, the lowest quintile 5.
    assert_eq!(imd("Alpha South PCN"), [0.0, 0.0, 0.0, 1.0, 0.0]);
    assert_eq!(imd("Alpha Dales PCN"), [0.0, 0.0, 0.0, 0.0, 1.0]);
    // A PCN of two practices weighs their quintiles by list size.
    let north = imd("Alpha North, Riverside PCN");
    assert!(north[0] > 0.5 && north[1] > 0.3 && (north[0] + north[1] - 1.0).abs() < 1e-9);
    // Beta Central: B82001 scored (quintile 3), B82002 not (England's shares).
    let beta = imd("Beta Central PCN");
    assert!(beta[2] > 0.6 && beta[0] > 0.0 && beta[4] > 0.0, "{beta:?}");
    // Quintiles given directly.
    std::fs::write(
        tmp.path().join("q.csv"),
        "practice_code,imd_quintile\nA81003,2\n",
    )
    .unwrap();
    ok(&import(tmp.path(), &ALL_FILES, &["--deprivation", "q.csv"]));
    let g = Geography::from_dir(&tmp.path().join("geo")).unwrap();
    let south = g
        .neighbourhoods
        .iter()
        .find(|n| n.name == "Alpha South PCN")
        .unwrap();
    assert_eq!(south.imd, [0.0, 1.0, 0.0, 0.0, 0.0]);
}

/// Imports after `spoil` and checks the failure: exit 2, one line naming what
/// `must_mention` lists, no panic, and no folder written.
fn rejected(spoil: impl FnOnce(&Path), files: &[&str], extra: &[&str], must_mention: &[&str]) {
    let tmp = tempfile::tempdir().unwrap();
    let lists = fixtures(tmp.path());
    spoil(&lists);
    let out = import(tmp.path(), files, extra);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    for m in must_mention {
        assert!(err.contains(m), "`{m}` missing from: {err}");
    }
    assert!(!tmp.path().join("geo").exists());
    // No staging folder is left behind either.
    let left: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

/// Replaces the first occurrence of `from` on line `line` (1 = header) of a file.
fn edit_line(file: &Path, line: usize, from: &str, to: &str) {
    let text = std::fs::read_to_string(file).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    assert!(lines[line - 1].contains(from), "{}", lines[line - 1]);
    lines[line - 1] = lines[line - 1].replacen(from, to, 1);
    std::fs::write(file, lines.join("\n") + "\n").unwrap();
}

#[test]
fn a_missing_column_is_named_with_its_file() {
    rejected(
        |d| edit_line(&d.join(MAP), 1, ",ICB_NAME,", ",ICB_TITLE,"),
        &ALL_FILES,
        &[],
        &[
            MAP,
            "line 1",
            "ICB_TITLE",
            "nearest is the practice mapping file of sub-ICB locations and ICBs, which lacks ICB_NAME.",
        ],
    );
    rejected(
        |d| edit_line(&d.join(FEMALE), 1, "NUMBER_OF_PATIENTS", "PATIENTS"),
        &ALL_FILES,
        &[],
        &[
            FEMALE,
            "line 1",
            "practice ORG_CODE, which lacks NUMBER_OF_PATIENTS.",
        ],
    );
}

#[test]
fn a_negative_count_is_named_with_its_line() {
    // Line 5 of the female file is practice A81001, age 2.
    rejected(
        |d| edit_line(&d.join(FEMALE), 5, ",FEMALE,2,", ",FEMALE,2,-"),
        &ALL_FILES,
        &[],
        &[
            FEMALE,
            "line 5",
            "column `NUMBER_OF_PATIENTS`",
            "value `-",
            "a whole number >= 0",
        ],
    );
}

#[test]
fn a_practice_absent_from_the_map_is_named_with_its_line() {
    // Lines 99 to 195 of the male file are practice A81002 (its ALL row first).
    rejected(
        |d| {
            let f = d.join(MALE);
            for line in 99..=195 {
                edit_line(&f, line, "A81002", "Z99999");
            }
        },
        &ALL_FILES,
        &[],
        &[
            MALE,
            "line 99",
            "column `ORG_CODE`",
            "value `Z99999`",
            "mapping file",
        ],
    );
}

#[test]
fn a_total_that_is_not_the_sum_is_named_with_its_line() {
    rejected(
        |d| edit_line(&d.join(MALE), 2, ",ALL,", ",ALL,1"),
        &ALL_FILES,
        &[],
        &[
            MALE,
            "line 2",
            "column `NUMBER_OF_PATIENTS`",
            "the sum of the practice's ages",
        ],
    );
}

#[test]
fn a_file_that_is_none_of_these_is_named() {
    rejected(
        |d| std::fs::write(d.join("other.csv"), "code,value\nA81001,3\n").unwrap(),
        &[ALL_FILES[0], ALL_FILES[1], ALL_FILES[2], "lists/other.csv"],
        &[],
        &[
            "other.csv",
            "line 1",
            "column `(header)`",
            "single-year-of-age",
        ],
    );
    // The all-persons file has no split by sex.
    rejected(
        |d| edit_line(&d.join(MALE), 3, ",MALE,", ",ALL,"),
        &ALL_FILES,
        &[],
        &[MALE, "line 3", "column `SEX`", "MALE or FEMALE"],
    );
    // Without the mapping file there is nothing to build neighbourhoods from.
    rejected(|_| {}, &ALL_FILES[1..], &[], &["mapping file"]);
}

#[test]
fn a_run_simulates_the_imported_geography() {
    let tmp = tempfile::tempdir().unwrap();
    fixtures(tmp.path());
    ok(&import(tmp.path(), &ALL_FILES, &["--icb", "QAA"]));
    let people: u64 = Geography::from_dir(&tmp.path().join("geo"))
        .unwrap()
        .total_population();
    // On the command line, one run of a scenario that names no population.
    std::fs::write(tmp.path().join("plain.toml"), "name = \"plain\"\n").unwrap();
    let out = capsim(
        tmp.path(),
        &[
            "run",
            "plain.toml",
            "--geography",
            "geo",
            "--years",
            "2",
            "--runs",
            "1",
            "--out",
            "r",
            "--no-report",
        ],
    );
    ok(&out);
    let info: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(tmp.path().join("r/run.json")).unwrap())
            .unwrap();
    assert_eq!(info["neighbourhoods"], 5);
    assert_eq!(info["people_at_start"], people);
    // From a scenario in another folder, which names the geography relative to itself;
    // two runs go through the batch layout.
    std::fs::create_dir(tmp.path().join("scenarios")).unwrap();
    std::fs::write(
        tmp.path().join("scenarios/imported.toml"),
        "name = \"imported\"\nyears = 2\nruns = 2\n\n[population]\ngeography = \"../geo\"\nplaces = [\"NHS Alpha ICB - 00B\"]\n",
    )
    .unwrap();
    let out = capsim(
        tmp.path(),
        &[
            "run",
            "scenarios/imported.toml",
            "--out",
            "b",
            "--no-report",
        ],
    );
    ok(&out);
    assert!(tmp.path().join("b/summary.parquet").exists());
    let summary = std::fs::read_to_string(tmp.path().join("b/summary.csv")).unwrap();
    assert!(summary.contains("Alpha Dales PCN"));
    assert!(!summary.contains("Alpha South PCN"));
}

/// Synthesis draws each single year of age in the imported share (95+ spread over 95 to
/// 100), within binomial tolerance.
#[test]
fn synthesis_draws_the_imported_ages() {
    let tmp = tempfile::tempdir().unwrap();
    fixtures(tmp.path());
    ok(&import(tmp.path(), &ALL_FILES, &[]));
    let g = Geography::from_dir(&tmp.path().join("geo")).unwrap();
    let (_, model, _) = bundled();
    let nb = &g.neighbourhoods[0];
    let mut people = People::default();
    let mut rng = StreamKey {
        seed: 7,
        run: 0,
        neighbourhood: 0,
        year: 0,
        purpose: Purpose::Synthesis,
    }
    .rng();
    synthesise(&model, nb, &mut people, &mut rng);
    assert_eq!(people.len() as u64, nb.population);
    let ages = nb.ages.as_ref().unwrap();
    let n = nb.population as f64;
    for (a, sex) in [(0, 0), (30, 1), (50, 0), (80, 1), (95, 1)] {
        let observed = (0..people.len())
            .filter(|i| {
                let age = people.age[*i] as usize;
                (if a == 95 { age >= 95 } else { age == a }) && people.sex[*i] as usize == sex
            })
            .count() as f64;
        let p = ages[a][sex];
        assert_close(
            &format!("age {a} sex {sex}"),
            observed,
            n * p,
            n * p * (1.0 - p),
            4.0,
        );
    }
}

/// Summary rows of an output folder: (year, level, area, metric) -> mean, for one
/// scenario (area names may hold commas, so the Parquet table is read).
fn means(dir: &Path) -> BTreeMap<(String, String, String, String), f64> {
    capsim::io::summary::read_summary(&dir.join("summary.parquet"))
        .unwrap()
        .into_iter()
        .map(|r| {
            (
                (
                    r.year.to_string(),
                    r.level.id().to_string(),
                    r.area,
                    r.metric.name(),
                ),
                r.stat.mean,
            )
        })
        .collect()
}

/// With two ICBs the summary gains a national level, `england`, whose additive metrics
/// are the sums of the systems'; a scenario's places file sets market forces for imported
/// places and raises their local costs; a bad cell of it names file, line and column.
#[test]
fn two_systems_add_up_to_england_and_a_places_file_prices_imported_places() {
    let tmp = tempfile::tempdir().unwrap();
    fixtures(tmp.path());
    ok(&import(tmp.path(), &ALL_FILES, &[]));
    let scenario = |places: &str| {
        format!(
            "name = \"two\"\nyears = 2\nruns = 2\nseed = 3\n[population]\ngeography = \"geo\"\n{places}"
        )
    };
    std::fs::write(tmp.path().join("plain.toml"), scenario("")).unwrap();
    ok(&capsim(
        tmp.path(),
        &["run", "plain.toml", "--out", "plain", "--no-report"],
    ));
    let rows = means(&tmp.path().join("plain"));
    let systems: Vec<String> = rows
        .keys()
        .filter(|k| k.1 == "system")
        .map(|k| k.2.clone())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(systems.len(), 2, "{systems:?}");
    for year in ["1", "2"] {
        let budget = rows
            .keys()
            .find(|k| k.1 == "system" && k.3.starts_with("budget:"))
            .map(|k| k.3.clone())
            .expect("a formula's budget");
        for metric in [
            "population",
            "deaths",
            "care_spend",
            "count.emergency_admissions",
            budget.as_str(),
        ] {
            let key = |level: &str, area: &str| {
                (
                    year.to_string(),
                    level.to_string(),
                    area.to_string(),
                    metric.to_string(),
                )
            };
            let nation = rows[&key("england", "England")];
            let sum: f64 = systems.iter().map(|s| rows[&key("system", s)]).sum();
            assert!(
                (nation - sum).abs() <= 1e-6 * sum.max(1.0),
                "{metric} y{year}: {nation} vs {sum}"
            );
        }
    }
    // A places file: the first ICB's first place at a market forces factor of 1.3.
    let place = "NHS Alpha ICB - 00A";
    std::fs::write(
        tmp.path().join("places.csv"),
        format!("place,market_forces_factor,rurality_index\n{place},1.3,1.0\n"),
    )
    .unwrap();
    std::fs::write(
        tmp.path().join("priced.toml"),
        scenario("[capitation]\nplaces = \"places.csv\"\n"),
    )
    .unwrap();
    ok(&capsim(
        tmp.path(),
        &["run", "priced.toml", "--out", "priced", "--no-report"],
    ));
    let priced = means(&tmp.path().join("priced"));
    let spend = |r: &BTreeMap<(String, String, String, String), f64>, area: &str| {
        r[&(
            "1".to_string(),
            "place".to_string(),
            area.to_string(),
            "care_spend".to_string(),
        )]
    };
    let ratio = spend(&priced, place) / spend(&rows, place);
    assert!(ratio > 1.2 && ratio < 1.4, "{ratio}");
    let other = "NHS Alpha ICB - 00B";
    assert_eq!(spend(&priced, other), spend(&rows, other));
    // A bad cell.
    std::fs::write(
        tmp.path().join("places.csv"),
        format!("place,market_forces_factor,rurality_index\n{place},13,1.0\n"),
    )
    .unwrap();
    let out = capsim(
        tmp.path(),
        &["run", "priced.toml", "--out", "bad", "--no-report"],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("places.csv")
            && err.contains("line 2")
            && err.contains("market_forces_factor"),
        "{err}"
    );
    assert!(!tmp.path().join("bad").exists());
}

// Layouts. NHS Digital has published the files in several layouts; each test rewrites the
// fixtures into one (its columns in the published order, with the columns capsim does not
// read filled in) and checks the import writes the same geography, byte for byte, as from
// the fixtures' own layout.

/// The fields of a CSV line, quotes kept (the fixtures quote names holding commas).
fn fields(line: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut quoted = false;
    for ch in line.chars() {
        match ch {
            ',' if !quoted => out.push(String::new()),
            _ => {
                quoted ^= ch == '"';
                out.last_mut().unwrap().push(ch);
            }
        }
    }
    out
}

/// Rewrites `file` with the columns `header`, each `(name, source)`: the source is a column
/// of the file, or `=VALUE` for a column filled with VALUE.
fn relayout(file: &Path, header: &[(&str, &str)]) {
    let text = std::fs::read_to_string(file).unwrap();
    let mut lines = text.lines();
    let old = fields(lines.next().unwrap());
    let at = |name: &str| {
        old.iter()
            .position(|c| c == name)
            .unwrap_or_else(|| panic!("no column {name} in {}", file.display()))
    };
    let sources: Vec<Result<usize, &str>> = header
        .iter()
        .map(|(_, src)| src.strip_prefix('=').map_or_else(|| Ok(at(src)), Err))
        .collect();
    let mut out = header.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(",") + "\n";
    for line in lines {
        let row = fields(line);
        let cells: Vec<&str> = sources
            .iter()
            .map(|s| match s {
                Ok(i) => row[*i].as_str(),
                Err(v) => v,
            })
            .collect();
        out += &(cells.join(",") + "\n");
    }
    std::fs::write(file, out).unwrap();
}

/// Imports the fixtures as given into `base`, then rewrites them with `rewrite` and imports
/// them into `geo`; returns the folder for further checks after asserting every file of
/// `geo` is the same bytes as in `base`.
fn same_geography_after(rewrite: impl FnOnce(&Path)) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let lists = fixtures(tmp.path());
    let mut args = vec!["import", "gp-lists"];
    args.extend_from_slice(&ALL_FILES);
    args.extend_from_slice(&["--out", "base"]);
    ok(&capsim(tmp.path(), &args));
    rewrite(&lists);
    ok(&import(tmp.path(), &ALL_FILES, &[]));
    let mut names: Vec<_> = std::fs::read_dir(tmp.path().join("base"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    assert!(names.len() >= 3, "{names:?}");
    for name in &names {
        let base = std::fs::read(tmp.path().join("base").join(name)).unwrap();
        let geo = std::fs::read(tmp.path().join("geo").join(name)).unwrap();
        assert!(base == geo, "{name:?} differs");
    }
    tmp
}

/// The age files' columns in a published order: `practice` names the practice's column
/// and `extra` the geography columns beside it.
fn age_layout<'a>(before: &[(&'a str, &'a str)], practice: &'a str) -> Vec<(&'a str, &'a str)> {
    let mut h = vec![
        ("PUBLICATION", "PUBLICATION"),
        ("EXTRACT_DATE", "EXTRACT_DATE"),
    ];
    h.extend_from_slice(before);
    h.extend_from_slice(&[
        (practice, "ORG_CODE"),
        ("POSTCODE", "POSTCODE"),
        ("SEX", "SEX"),
        ("AGE", "AGE"),
        ("NUMBER_OF_PATIENTS", "NUMBER_OF_PATIENTS"),
    ]);
    h
}

/// Single-year-of-age files naming the practice ORG_CODE: beside ORG_TYPE as on NHS
/// Digital's metadata page (the fixtures), beside the CCG's codes (to June 2022), and
/// beside the sub-ICB location's codes (July 2022 to 2024-25).
#[test]
fn layout_age_files_naming_the_practice_org_code() {
    let ccg = age_layout(
        &[("CCG_CODE", "=00A"), ("ONS_CCG_CODE", "=E38000000")],
        "ORG_CODE",
    );
    let sub_icb = age_layout(
        &[
            ("SUB_ICB_LOCATION_CODE", "=00A"),
            ("ONS_SUB_ICB_LOCATION_CODE", "=E38000000"),
        ],
        "ORG_CODE",
    );
    for header in [ccg, sub_icb] {
        same_geography_after(|d| {
            for f in [MALE, FEMALE] {
                relayout(&d.join(f), &header);
            }
        });
    }
}

/// The 2025-26 single-year-of-age files name the practice CODE, beside TYPE and the
/// sub-ICB location's codes; a practice missing from the map is named by that column.
#[test]
fn layout_age_files_naming_the_practice_code_2025_26() {
    let header = age_layout(
        &[
            ("TYPE", "=GP"),
            ("SUB_ICB_LOCATION_CODE", "=00A"),
            ("ONS_SUB_ICB_LOCATION_CODE", "=E38000000"),
        ],
        "CODE",
    );
    same_geography_after(|d| {
        for f in [MALE, FEMALE] {
            relayout(&d.join(f), &header);
        }
    });
    // One file of each layout works too.
    same_geography_after(|d| relayout(&d.join(MALE), &header));
    rejected(
        |d| {
            relayout(&d.join(MALE), &header);
            let f = d.join(MALE);
            for line in 99..=195 {
                edit_line(&f, line, "A81002", "Z99999");
            }
        },
        &ALL_FILES,
        &[],
        &[MALE, "line 99", "column `CODE`", "value `Z99999`"],
    );
}

/// Mapping files naming sub-ICB locations and ICBs (July 2022 on), in the column order of
/// the July 2023 file (the fixtures have the order of May 2025).
#[test]
fn layout_mapping_files_naming_sub_icb_locations() {
    let same = |c: &'static str| (c, c);
    let header = [
        same("PUBLICATION"),
        same("EXTRACT_DATE"),
        same("PRACTICE_CODE"),
        same("PRACTICE_NAME"),
        same("PRACTICE_POSTCODE"),
        same("PCN_CODE"),
        same("PCN_NAME"),
        same("ONS_SUB_ICB_LOCATION_CODE"),
        same("SUB_ICB_LOCATION_CODE"),
        same("SUB_ICB_LOCATION_NAME"),
        same("ONS_ICB_CODE"),
        same("ICB_CODE"),
        same("ICB_NAME"),
        same("ONS_COMM_REGION_CODE"),
        same("COMM_REGION_CODE"),
        same("COMM_REGION_NAME"),
        same("SUPPLIER_NAME"),
    ];
    same_geography_after(|d| relayout(&d.join(MAP), &header));
}

/// The mapping file's columns before July 2022: CCGs (read as places, as sub-ICB locations
/// are) within STPs (read as systems, as ICBs are).
fn ccg_map_layout() -> Vec<(&'static str, &'static str)> {
    let same = |c: &'static str| (c, c);
    vec![
        same("PUBLICATION"),
        same("EXTRACT_DATE"),
        same("PRACTICE_CODE"),
        same("PRACTICE_NAME"),
        same("PRACTICE_POSTCODE"),
        same("PCN_CODE"),
        same("PCN_NAME"),
        ("ONS_CCG_CODE", "ONS_SUB_ICB_LOCATION_CODE"),
        ("CCG_CODE", "SUB_ICB_LOCATION_CODE"),
        ("CCG_NAME", "SUB_ICB_LOCATION_NAME"),
        ("ONS_STP_CODE", "ONS_ICB_CODE"),
        ("STP_CODE", "ICB_CODE"),
        ("STP_NAME", "ICB_NAME"),
        same("ONS_COMM_REGION_CODE"),
        same("COMM_REGION_CODE"),
        same("COMM_REGION_NAME"),
    ]
}

/// Mapping files before July 2022 name CCGs and STPs; `--icb` takes an STP code.
#[test]
fn layout_mapping_files_naming_ccgs_before_2022() {
    let tmp = same_geography_after(|d| relayout(&d.join(MAP), &ccg_map_layout()));
    ok(&import(tmp.path(), &ALL_FILES, &["--icb", "QBB"]));
    let g = Geography::from_dir(&tmp.path().join("geo")).unwrap();
    assert_eq!(g.systems, ["NHS Beta Integrated Care Board"]);
    let out = import(tmp.path(), &ALL_FILES, &["--icb", "QZZ"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("`QZZ` is no STP_CODE"));
}

/// Every layout at once: 2025-26 age files with a CCG mapping file.
#[test]
fn layouts_of_different_years_combine() {
    let header = age_layout(&[("TYPE", "=GP")], "CODE");
    same_geography_after(|d| {
        relayout(&d.join(FEMALE), &header);
        relayout(&d.join(MAP), &ccg_map_layout());
    });
}

/// A file of no known layout is one error naming it, its columns, the layout it is
/// nearest and what that lacks, and every layout read: a mapping file from before PCNs
/// (2017 to 2019) and the quinary-age practice file.
#[test]
fn layout_unknown_lists_the_columns_found_and_expected() {
    let every_layout = [
        "single-year-of-age practice file, practice ORG_CODE (2017 to 2024-25): ORG_CODE, SEX, AGE, NUMBER_OF_PATIENTS",
        "single-year-of-age practice file, practice CODE (2025-26 on): CODE, SEX, AGE, NUMBER_OF_PATIENTS",
        "practice mapping file of sub-ICB locations and ICBs (July 2022 on): PRACTICE_CODE, PCN_CODE, PCN_NAME, SUB_ICB_LOCATION_CODE, SUB_ICB_LOCATION_NAME, ICB_CODE, ICB_NAME",
        "practice mapping file of CCGs and STPs (with PCNs, 2019 to June 2022): PRACTICE_CODE, PCN_CODE, PCN_NAME, CCG_CODE, CCG_NAME, STP_CODE, STP_NAME",
    ];
    let before_pcns: Vec<_> = ccg_map_layout()
        .into_iter()
        .filter(|(c, _)| !c.starts_with("PCN_"))
        .collect();
    let mut must: Vec<&str> = vec![
        MAP,
        "line 1, column `(header)`",
        "value `PUBLICATION,EXTRACT_DATE,PRACTICE_CODE,PRACTICE_NAME,PRACTICE_POSTCODE,ONS_CCG_CODE,CCG_CODE,CCG_NAME,ONS_STP_CODE,STP_CODE,STP_NAME,",
        "nearest is the practice mapping file of CCGs and STPs, which lacks PCN_CODE, PCN_NAME.",
    ];
    must.extend_from_slice(&every_layout);
    rejected(
        |d| relayout(&d.join(MAP), &before_pcns),
        &ALL_FILES,
        &[],
        &must,
    );
    let mut must: Vec<&str> = vec![
        MALE,
        "value `PUBLICATION,EXTRACT_DATE,ORG_TYPE,ORG_CODE,POSTCODE,SEX,AGE_GROUP_5,NUMBER_OF_PATIENTS`",
        "nearest is the single-year-of-age practice file, practice ORG_CODE, which lacks AGE.",
    ];
    must.extend_from_slice(&every_layout);
    rejected(
        |d| edit_line(&d.join(MALE), 1, ",AGE,", ",AGE_GROUP_5,"),
        &ALL_FILES,
        &[],
        &must,
    );
}
