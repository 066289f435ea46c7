//! NHS Digital's "Patients Registered at a GP Practice" (monthly publication) read into a
//! geography: systems are integrated care boards (ICBs), places are sub-ICB locations,
//! neighbourhoods are primary care networks (PCNs).
//!
//! Three kinds of file are read, each recognised by its columns rather than its name, so
//! they may be given in any order and under any name:
//! - the single-year-of-age practice files (`gp-reg-pat-prac-sing-age-male.csv`, `-female`):
//!   one row per practice, sex and age (`0` to `94`, `95+`, and the total `ALL`);
//! - the practice mapping file (`gp-reg-pat-prac-map.csv`): practice to PCN, sub-ICB
//!   location (CCG before July 2022) and ICB (STP before July 2022);
//! - optionally, a practice deprivation file: a practice code and an IMD score or quintile.
//!
//! The first two have been published in several layouts over the years, each a row of
//! [`LAYOUTS`] naming the column of each role; a file's columns are found by name whatever
//! their order, and a file matching no layout is an error listing what it has and what
//! each layout needs.
//!
//! Every bad cell is an error naming the file, line and column: what is read here becomes
//! the population capsim simulates, so a silently dropped row would be a wrong budget.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use crate::core::dims::{N_IMD, N_SEX};
use crate::core::error::{CapsimError, Result};
use crate::data::datasets::Table;
use crate::data::geography::{list_age_labels, LIST_AGES};

/// The columns a single-year-of-age practice file is read by, whatever it calls them.
#[derive(Debug, Clone, Copy)]
pub struct AgeColumns {
    /// The practice's ODS code.
    pub practice: &'static str,
    /// `MALE` or `FEMALE`.
    pub sex: &'static str,
    /// `0` to `94`, `95+` or `ALL`.
    pub age: &'static str,
    pub patients: &'static str,
}

/// The columns a practice mapping file is read by: practice to neighbourhood (PCN), place
/// (sub-ICB location, or CCG before July 2022) and system (ICB, or STP before July 2022).
#[derive(Debug, Clone, Copy)]
pub struct MapColumns {
    pub practice: &'static str,
    pub pcn_code: &'static str,
    pub pcn_name: &'static str,
    pub place_code: &'static str,
    pub place_name: &'static str,
    pub system_code: &'static str,
    pub system_name: &'static str,
}

/// What a file holds, and the names of the columns read from it.
#[derive(Debug, Clone, Copy)]
pub enum Columns {
    Ages(AgeColumns),
    Map(MapColumns),
}

impl Columns {
    /// The columns read, in the order messages list them.
    pub fn names(&self) -> Vec<&'static str> {
        match self {
            Columns::Ages(c) => vec![c.practice, c.sex, c.age, c.patients],
            Columns::Map(c) => vec![
                c.practice,
                c.pcn_code,
                c.pcn_name,
                c.place_code,
                c.place_name,
                c.system_code,
                c.system_name,
            ],
        }
    }
}

/// A layout NHS Digital has published a file in: recognised when a file has all of its
/// columns (others are ignored, whatever their order).
#[derive(Debug, Clone, Copy)]
pub struct Layout {
    pub name: &'static str,
    /// The editions that use it.
    pub published: &'static str,
    pub columns: Columns,
}

impl Layout {
    /// The layout's columns absent from a header.
    fn missing(&self, header: &[String]) -> Vec<&'static str> {
        self.columns
            .names()
            .into_iter()
            .filter(|c| !header.iter().any(|h| h == c))
            .collect()
    }

    fn describe(&self) -> String {
        format!(
            "{} ({}): {}",
            self.name,
            self.published,
            self.columns.names().join(", ")
        )
    }
}

/// Every layout read, tried in this order; a file takes the first whose columns it has.
/// The single-year-of-age files have named the practice `ORG_CODE` (with `ORG_TYPE`, or
/// with the CCG's or sub-ICB location's codes beside it) and, from 2025-26, `CODE`; the
/// mapping file named CCGs and STPs until June 2022, then sub-ICB locations and ICBs.
pub const LAYOUTS: [Layout; 4] = [
    Layout {
        name: "single-year-of-age practice file, practice ORG_CODE",
        published: "2017 to 2024-25",
        columns: Columns::Ages(AgeColumns {
            practice: "ORG_CODE",
            sex: "SEX",
            age: "AGE",
            patients: "NUMBER_OF_PATIENTS",
        }),
    },
    Layout {
        name: "single-year-of-age practice file, practice CODE",
        published: "2025-26 on",
        columns: Columns::Ages(AgeColumns {
            practice: "CODE",
            sex: "SEX",
            age: "AGE",
            patients: "NUMBER_OF_PATIENTS",
        }),
    },
    Layout {
        name: "practice mapping file of sub-ICB locations and ICBs",
        published: "July 2022 on",
        columns: Columns::Map(MapColumns {
            practice: "PRACTICE_CODE",
            pcn_code: "PCN_CODE",
            pcn_name: "PCN_NAME",
            place_code: "SUB_ICB_LOCATION_CODE",
            place_name: "SUB_ICB_LOCATION_NAME",
            system_code: "ICB_CODE",
            system_name: "ICB_NAME",
        }),
    },
    Layout {
        name: "practice mapping file of CCGs and STPs",
        published: "with PCNs, 2019 to June 2022",
        columns: Columns::Map(MapColumns {
            practice: "PRACTICE_CODE",
            pcn_code: "PCN_CODE",
            pcn_name: "PCN_NAME",
            place_code: "CCG_CODE",
            place_name: "CCG_NAME",
            system_code: "STP_CODE",
            system_name: "STP_NAME",
        }),
    },
];

/// The layouts of one kind, described for messages.
fn expected(ages: bool) -> String {
    LAYOUTS
        .iter()
        .filter(|l| matches!(l.columns, Columns::Ages(_)) == ages)
        .map(Layout::describe)
        .collect::<Vec<_>>()
        .join("; ")
}

/// Names accepted for the practice code of a deprivation file.
const DEPRIVATION_CODE: [&str; 4] = ["PRACTICE_CODE", "ORG_CODE", "practice_code", "practice"];
/// Names accepted for a deprivation quintile (1 = most deprived) ...
const DEPRIVATION_QUINTILE: [&str; 2] = ["IMD_QUINTILE", "imd_quintile"];
/// ... or for an IMD score (higher = more deprived).
const DEPRIVATION_SCORE: [&str; 2] = ["IMD_SCORE", "imd_score"];

/// Deprivation shares of a practice absent from the deprivation file, or of every
/// practice without one: England's. IMD quintiles are fifths of England's small areas
/// (LSOAs), which hold about equal populations, so each quintile holds about a fifth of
/// the people (`datasets/README.md`).
pub const ENGLAND_IMD_SHARES: [f64; N_IMD] = [0.2; N_IMD];

/// Where a row was seen: its file and line, and the column that messages about it name
/// (as the file's layout names it).
#[derive(Debug, Clone)]
struct Seen {
    file: String,
    line: usize,
    column: &'static str,
}

/// One practice's registered patients, `[age][sex]` (ages as [`LIST_AGES`]).
#[derive(Debug, Clone)]
struct PracticeCounts {
    counts: Vec<[u64; N_SEX]>,
    seen: [Option<Vec<bool>>; N_SEX],
    first: Seen,
    /// Total rows (`ALL`) to check against the sum, with where they were.
    totals: Vec<(usize, u64, Seen)>,
}

/// A practice's row of the mapping file.
#[derive(Debug, Clone)]
struct MapRow {
    pcn_code: String,
    pcn_name: String,
    place_code: String,
    place_name: String,
    icb_code: String,
    icb_name: String,
}

/// An imported neighbourhood: a PCN, or a place's practices without one.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedNeighbourhood {
    pub system_code: String,
    pub system: String,
    pub place_code: String,
    pub place: String,
    /// The PCN code, or `unallocated` for a place's practices without a PCN.
    pub code: String,
    pub name: String,
    /// Practice codes, sorted.
    pub practices: Vec<String>,
    /// Registered patients `[age][sex]`, ages 0 to 94 then 95+.
    pub counts: Vec<[u64; N_SEX]>,
    /// Share of the patients in each IMD quintile (1 = most deprived first).
    pub imd: [f64; N_IMD],
}

impl ImportedNeighbourhood {
    pub fn population(&self) -> u64 {
        self.counts.iter().flatten().sum()
    }
}

/// One practice as imported, for the provenance file.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedPractice {
    pub code: String,
    pub neighbourhood: String,
    pub patients: u64,
    /// Its deprivation quintile (1-5), when the deprivation file gave one.
    pub imd_quintile: Option<usize>,
}

/// What an import produced.
#[derive(Debug, Clone, PartialEq)]
pub struct Imported {
    pub neighbourhoods: Vec<ImportedNeighbourhood>,
    pub practices: Vec<ImportedPractice>,
    /// Practices without a PCN, in the places' extra neighbourhoods.
    pub unallocated_practices: usize,
    /// Practices given England's deprivation shares (no deprivation file, or not in it).
    pub practices_without_deprivation: usize,
}

/// What to import.
#[derive(Debug, Clone, Default)]
pub struct GpListSources {
    /// Age files and mapping file, in any order.
    pub files: Vec<PathBuf>,
    /// ICB codes to keep; empty keeps all.
    pub icbs: Vec<String>,
    pub deprivation: Option<PathBuf>,
}

/// The files of an import, read and checked against each other: each practice's counts,
/// the mapping of practices, the ICBs to keep (upper case) and the practices' quintiles.
struct Sources {
    practices: BTreeMap<String, PracticeCounts>,
    map: HashMap<String, MapRow>,
    icbs: Vec<String>,
    deprivation: Option<HashMap<String, usize>>,
}

/// Reads every file by its layout, and checks there are age files and a mapping file,
/// that every practice is mapped and that every ICB asked for is in the mapping.
fn read_sources(src: &GpListSources) -> Result<Sources> {
    let mut practices: BTreeMap<String, PracticeCounts> = BTreeMap::new();
    let mut map: HashMap<String, MapRow> = HashMap::new();
    let mut age_files = 0;
    // The mapping files' columns for the practice and the system, for messages.
    let (mut practice_columns, mut system_columns): (Vec<&str>, Vec<&str>) = (vec![], vec![]);
    for path in &src.files {
        let t = Table::read(path)?;
        match layout_of(&t)?.columns {
            Columns::Ages(c) => {
                read_ages(&t, &c, &mut practices)?;
                age_files += 1;
            }
            Columns::Map(c) => {
                read_map(&t, &c, &mut map)?;
                for (seen, column) in [
                    (&mut practice_columns, c.practice),
                    (&mut system_columns, c.system_code),
                ] {
                    if !seen.contains(&column) {
                        seen.push(column);
                    }
                }
            }
        }
    }
    if age_files == 0 || system_columns.is_empty() {
        return Err(CapsimError::InvalidSetting {
            setting: "import gp-lists FILE...".into(),
            problem: format!(
                "needs the mapping file (one of: {}) and at least one single-year-of-age \
                 file (one of: {}); got {} and {age_files}",
                expected(false),
                expected(true),
                src.files.len() - age_files
            ),
        });
    }
    check_totals(&practices)?;
    for (code, p) in &practices {
        if !map.contains_key(code) {
            return Err(CapsimError::InvalidValue {
                file: p.first.file.clone(),
                line: p.first.line,
                column: p.first.column.into(),
                value: code.clone(),
                allowed: format!(
                    "a practice listed in the mapping file ({})",
                    practice_columns.join(" or ")
                ),
            });
        }
    }
    let icbs: Vec<String> = src.icbs.iter().map(|c| c.trim().to_uppercase()).collect();
    for icb in &icbs {
        if !map.values().any(|m| m.icb_code.eq_ignore_ascii_case(icb)) {
            return Err(CapsimError::InvalidSetting {
                setting: "--icb".into(),
                problem: format!(
                    "`{icb}` is no {} of the mapping file",
                    system_columns.join(" or ")
                ),
            });
        }
    }
    let deprivation = match &src.deprivation {
        Some(path) => Some(read_deprivation(&Table::read(path)?)?),
        None => None,
    };

    Ok(Sources {
        practices,
        map,
        icbs,
        deprivation,
    })
}

/// Reads the files and builds the neighbourhoods.
pub fn read_gp_lists(src: &GpListSources) -> Result<Imported> {
    let Sources {
        practices,
        map,
        icbs,
        deprivation,
    } = read_sources(src)?;

    // Neighbourhoods keyed by (ICB, place, PCN), in code order so the output does not
    // depend on the order of the files or their rows.
    type Key = (String, String, bool, String);
    let mut groups: BTreeMap<Key, ImportedNeighbourhood> = BTreeMap::new();
    let mut weighted_imd: BTreeMap<Key, [f64; N_IMD]> = BTreeMap::new();
    let mut out_practices = Vec::new();
    let (mut unallocated, mut without_deprivation) = (0, 0);
    for (code, p) in &practices {
        let m = &map[code];
        if !icbs.is_empty() && !icbs.iter().any(|c| m.icb_code.eq_ignore_ascii_case(c)) {
            continue;
        }
        let patients: u64 = p.counts.iter().flatten().sum();
        if patients == 0 {
            continue;
        }
        let no_pcn = is_unallocated(&m.pcn_code, &m.pcn_name);
        unallocated += no_pcn as usize;
        let key = (
            m.icb_code.clone(),
            m.place_code.clone(),
            no_pcn,
            if no_pcn {
                String::new()
            } else {
                m.pcn_code.clone()
            },
        );
        let nb = groups
            .entry(key.clone())
            .or_insert_with(|| ImportedNeighbourhood {
                system_code: m.icb_code.clone(),
                system: m.icb_name.clone(),
                place_code: m.place_code.clone(),
                place: m.place_name.clone(),
                code: if no_pcn {
                    "unallocated".into()
                } else {
                    m.pcn_code.clone()
                },
                name: if no_pcn {
                    format!("{} practices without a PCN", m.place_name)
                } else {
                    m.pcn_name.clone()
                },
                practices: Vec::new(),
                counts: vec![[0; N_SEX]; LIST_AGES],
                imd: [0.0; N_IMD],
            });
        nb.practices.push(code.clone());
        for (a, row) in p.counts.iter().enumerate() {
            for s in 0..N_SEX {
                nb.counts[a][s] += row[s];
            }
        }
        let quintile = deprivation.as_ref().and_then(|d| d.get(code).copied());
        let shares = match quintile {
            Some(q) => {
                let mut x = [0.0; N_IMD];
                x[q - 1] = 1.0;
                x
            }
            None => {
                without_deprivation += 1;
                ENGLAND_IMD_SHARES
            }
        };
        let w = weighted_imd.entry(key).or_insert([0.0; N_IMD]);
        for q in 0..N_IMD {
            w[q] += shares[q] * patients as f64;
        }
        out_practices.push((code.clone(), patients, quintile));
    }
    let mut neighbourhoods: Vec<ImportedNeighbourhood> = groups
        .into_iter()
        .map(|(key, mut nb)| {
            let w = weighted_imd[&key];
            let total: f64 = w.iter().sum();
            nb.imd = w.map(|x| x / total);
            nb
        })
        .collect();
    unique_names(&mut neighbourhoods);
    if neighbourhoods.is_empty() {
        return Err(CapsimError::InvalidSetting {
            setting: "import gp-lists".into(),
            problem: "no practice with registered patients is left to import".into(),
        });
    }
    let mut of_practice: HashMap<&str, &str> = HashMap::new();
    for nb in &neighbourhoods {
        for p in &nb.practices {
            of_practice.insert(p, &nb.name);
        }
    }
    let practices = out_practices
        .into_iter()
        .map(|(code, patients, imd_quintile)| ImportedPractice {
            neighbourhood: of_practice[code.as_str()].to_string(),
            code,
            patients,
            imd_quintile,
        })
        .collect();
    Ok(Imported {
        neighbourhoods,
        practices,
        unallocated_practices: unallocated,
        practices_without_deprivation: without_deprivation,
    })
}

/// A practice outside any PCN. PCN codes are ODS codes of a `U` and five digits (NHS
/// Digital, "Primary Care Networks: publication of ODS codes"), so a `U` alone does not
/// mark a practice out: its PCN code is blank or not of that form (such as `U` or
/// `UNALLOCATED`), or its PCN is named "Unallocated".
fn is_unallocated(pcn_code: &str, pcn_name: &str) -> bool {
    let b = pcn_code.as_bytes();
    let pcn_form =
        b.len() == 6 && b[0].eq_ignore_ascii_case(&b'U') && b[1..].iter().all(u8::is_ascii_digit);
    !pcn_form
        || pcn_name
            .trim()
            .to_ascii_lowercase()
            .starts_with("unallocated")
}

/// Names made unique: a name used by more than one neighbourhood (the same PCN split
/// over two places, or two PCNs of one name) gets its place code, then its PCN code.
fn unique_names(nbs: &mut [ImportedNeighbourhood]) {
    let dup = |nbs: &[ImportedNeighbourhood], i: usize| {
        nbs.iter()
            .enumerate()
            .any(|(j, n)| j != i && n.name == nbs[i].name)
    };
    let twice: Vec<usize> = (0..nbs.len()).filter(|i| dup(nbs, *i)).collect();
    for i in &twice {
        nbs[*i].name = format!("{} ({})", nbs[*i].name, nbs[*i].place_code);
    }
    let twice: Vec<usize> = (0..nbs.len()).filter(|i| dup(nbs, *i)).collect();
    for i in &twice {
        nbs[*i].name = format!("{} {}", nbs[*i].name, nbs[*i].code);
    }
}

/// The first layout whose columns a header has, or else the nearest: the one lacking the
/// fewest columns (the first of those).
fn recognise(header: &[String]) -> std::result::Result<&'static Layout, &'static Layout> {
    if let Some(l) = LAYOUTS.iter().find(|l| l.missing(header).is_empty()) {
        return Ok(l);
    }
    Err(LAYOUTS
        .iter()
        .min_by_key(|l| l.missing(header).len())
        .expect("layouts"))
}

/// The layout of a file, by its columns: the first of [`LAYOUTS`] whose columns it has.
/// A file with none is one error naming the columns found, the layout it is nearest (the
/// one with most of its columns) and what that one lacks, and every layout read.
fn layout_of(t: &Table) -> Result<&'static Layout> {
    let header = t.columns();
    let nearest = match recognise(&header) {
        Ok(layout) => return Ok(layout),
        Err(nearest) => nearest,
    };
    Err(CapsimError::InvalidValue {
        file: t.file.clone(),
        line: 1,
        column: "(header)".into(),
        value: header.join(","),
        allowed: format!(
            "the header of a layout NHS Digital has published; nearest is the {}, which \
             lacks {}. Layouts read: {}; {}",
            nearest.name,
            nearest.missing(&header).join(", "),
            expected(true),
            expected(false)
        ),
    })
}

fn read_ages(
    t: &Table,
    c: &AgeColumns,
    practices: &mut BTreeMap<String, PracticeCounts>,
) -> Result<()> {
    let names = Columns::Ages(*c).names();
    let code = t.text(c.practice, &names)?;
    let sex = t.text(c.sex, &names)?;
    let age = t.text(c.age, &names)?;
    let n = t.text(c.patients, &names)?;
    let labels = list_age_labels();
    for r in 0..t.height() {
        let s = match sex.values[r].to_ascii_uppercase().as_str() {
            "MALE" => 0,
            "FEMALE" => 1,
            _ => return Err(t.invalid(
                c.sex,
                r,
                &sex.values[r],
                "MALE or FEMALE (the -male and -female files; the -all file has no split by sex)",
            )),
        };
        let patients = match n.values[r].parse::<u64>() {
            Ok(x) => x,
            Err(_) => return Err(t.invalid(c.patients, r, &n.values[r], "a whole number >= 0")),
        };
        let here = Seen {
            file: t.file.clone(),
            line: r + 2,
            column: c.practice,
        };
        let p = practices
            .entry(code.values[r].clone())
            .or_insert_with(|| PracticeCounts {
                counts: vec![[0; N_SEX]; LIST_AGES],
                seen: [None, None],
                first: here.clone(),
                totals: Vec::new(),
            });
        if age.values[r].eq_ignore_ascii_case("ALL") {
            p.totals.push((
                s,
                patients,
                Seen {
                    column: c.patients,
                    ..here
                },
            ));
            continue;
        }
        let Some(a) = labels.iter().position(|l| *l == age.values[r]) else {
            return Err(t.invalid(c.age, r, &age.values[r], "0 to 94, 95+ or ALL"));
        };
        let seen = p.seen[s].get_or_insert_with(|| vec![false; LIST_AGES]);
        if seen[a] {
            return Err(t.invalid(
                c.age,
                r,
                &age.values[r],
                "each age once per practice and sex (this one is repeated)",
            ));
        }
        seen[a] = true;
        p.counts[a][s] = patients;
    }
    Ok(())
}

/// Each `ALL` row must equal the sum of its practice's ages for that sex.
fn check_totals(practices: &BTreeMap<String, PracticeCounts>) -> Result<()> {
    for p in practices.values() {
        for (s, total, at) in &p.totals {
            let sum: u64 = p.counts.iter().map(|row| row[*s]).sum();
            if sum != *total {
                return Err(CapsimError::InvalidValue {
                    file: at.file.clone(),
                    line: at.line,
                    column: at.column.into(),
                    value: total.to_string(),
                    allowed: format!("the sum of the practice's ages 0 to 95+, {sum}"),
                });
            }
        }
    }
    Ok(())
}

/// A mapping file's rows: a CCG is read as a place exactly as a sub-ICB location is, and
/// an STP as a system exactly as an ICB is.
fn read_map(t: &Table, c: &MapColumns, map: &mut HashMap<String, MapRow>) -> Result<()> {
    let names = Columns::Map(*c).names();
    let practice = t.text(c.practice, &names)?;
    let pcn_code = t.text_or_empty(c.pcn_code, &names)?;
    let pcn_name = t.text_or_empty(c.pcn_name, &names)?;
    let place_code = t.text(c.place_code, &names)?;
    let place_name = t.text(c.place_name, &names)?;
    let icb_code = t.text(c.system_code, &names)?;
    let icb_name = t.text(c.system_name, &names)?;
    for r in 0..t.height() {
        let code = &practice.values[r];
        if map.contains_key(code) {
            return Err(t.invalid(c.practice, r, code, "each practice once"));
        }
        let pcn = pcn_code.values[r].clone();
        if !is_unallocated(&pcn, &pcn_name.values[r]) && pcn_name.values[r].is_empty() {
            return Err(t.invalid(c.pcn_name, r, "", &format!("the name of PCN {pcn}")));
        }
        map.insert(
            code.clone(),
            MapRow {
                pcn_code: pcn,
                pcn_name: pcn_name.values[r].clone(),
                place_code: place_code.values[r].clone(),
                place_name: place_name.values[r].clone(),
                icb_code: icb_code.values[r].clone(),
                icb_name: icb_name.values[r].clone(),
            },
        );
    }
    Ok(())
}

/// Each practice's deprivation quintile (1 = most deprived). A score is turned into a
/// quintile by its rank among the file's practices (a file of all England's practices
/// gives England's practice quintiles).
fn read_deprivation(t: &Table) -> Result<HashMap<String, usize>> {
    let expected: Vec<&str> = DEPRIVATION_CODE
        .iter()
        .chain(&DEPRIVATION_QUINTILE)
        .chain(&DEPRIVATION_SCORE)
        .copied()
        .collect();
    let missing = |what: &[&str]| CapsimError::MissingColumn {
        file: t.file.clone(),
        column: what.join(" or "),
        expected: format!(
            "a practice code ({}) and an IMD quintile ({}) or score ({})",
            DEPRIVATION_CODE.join(", "),
            DEPRIVATION_QUINTILE.join(", "),
            DEPRIVATION_SCORE.join(", ")
        ),
    };
    let code_col = DEPRIVATION_CODE
        .iter()
        .find(|c| t.has(c))
        .ok_or_else(|| missing(&DEPRIVATION_CODE))?;
    let code = t.text(code_col, &expected)?;
    let mut out = HashMap::new();
    let add = |r: usize, q: usize, out: &mut HashMap<String, usize>| {
        if out.insert(code.values[r].clone(), q).is_some() {
            return Err(t.invalid(code_col, r, &code.values[r], "each practice once"));
        }
        Ok(())
    };
    if let Some(col) = DEPRIVATION_QUINTILE.iter().find(|c| t.has(c)) {
        let q = t.number_in(col, &expected, ("an IMD quintile", 1.0, N_IMD as f64))?;
        for r in 0..t.height() {
            if q.values[r].fract() != 0.0 {
                return Err(t.invalid(col, r, &q.values[r].to_string(), "1, 2, 3, 4 or 5"));
            }
            add(r, q.values[r] as usize, &mut out)?;
        }
    } else if let Some(col) = DEPRIVATION_SCORE.iter().find(|c| t.has(c)) {
        let score = t.number_in(col, &expected, ("an IMD score", 0.0, 100.0))?;
        let mut order: Vec<usize> = (0..t.height()).collect();
        // Most deprived first; ties by code, so the quintiles do not depend on row order.
        order.sort_by(|a, b| {
            score.values[*b]
                .total_cmp(&score.values[*a])
                .then_with(|| code.values[*a].cmp(&code.values[*b]))
        });
        let n = order.len();
        for (rank, r) in order.into_iter().enumerate() {
            add(r, rank * N_IMD / n + 1, &mut out)?;
        }
    } else {
        return Err(missing(
            &DEPRIVATION_QUINTILE
                .iter()
                .chain(&DEPRIVATION_SCORE)
                .copied()
                .collect::<Vec<_>>(),
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::{is_unallocated, recognise, Columns, LAYOUTS};

    fn header(columns: &[&str]) -> Vec<String> {
        columns.iter().map(|c| c.to_string()).collect()
    }

    /// Each layout is taken for a file of its columns, among others and in any order.
    #[test]
    fn each_layout_is_recognised_by_its_own_columns() {
        for layout in &LAYOUTS {
            let mut columns = layout.columns.names();
            columns.reverse();
            columns.insert(1, "PUBLICATION");
            columns.push("POSTCODE");
            let got = recognise(&header(&columns)).expect(layout.name);
            assert_eq!(got.name, layout.name);
        }
    }

    /// A layout whose columns all belong to an earlier one would never be taken.
    #[test]
    fn no_layout_is_hidden_by_an_earlier_one() {
        for (i, early) in LAYOUTS.iter().enumerate() {
            for late in &LAYOUTS[i + 1..] {
                let late_header = header(&late.columns.names());
                assert!(
                    !early.missing(&late_header).is_empty(),
                    "{} hides {}",
                    early.name,
                    late.name
                );
            }
        }
        let names: std::collections::BTreeSet<_> = LAYOUTS.iter().map(|l| l.name).collect();
        assert_eq!(names.len(), LAYOUTS.len());
    }

    /// Both kinds of file have a layout, and the mapping layouts name their place by a
    /// CCG or a sub-ICB location.
    #[test]
    fn layouts_cover_both_kinds_of_file() {
        let ages = LAYOUTS
            .iter()
            .filter(|l| matches!(l.columns, Columns::Ages(_)))
            .count();
        assert!(ages >= 2 && ages < LAYOUTS.len());
        let places: Vec<&str> = LAYOUTS
            .iter()
            .filter_map(|l| match l.columns {
                Columns::Map(c) => Some(c.place_code),
                Columns::Ages(_) => None,
            })
            .collect();
        assert_eq!(places, ["SUB_ICB_LOCATION_CODE", "CCG_CODE"]);
    }

    /// A header of no layout gives the one it is nearest.
    #[test]
    fn an_unknown_header_gives_the_nearest_layout() {
        let quinary = header(&[
            "ORG_TYPE",
            "ORG_CODE",
            "SEX",
            "AGE_GROUP_5",
            "NUMBER_OF_PATIENTS",
        ]);
        let nearest = recognise(&quinary).unwrap_err();
        assert_eq!(nearest.missing(&quinary), ["AGE"]);
        assert!(nearest.name.contains("ORG_CODE"), "{}", nearest.name);
        let before_pcns = header(&[
            "PRACTICE_CODE",
            "CCG_CODE",
            "CCG_NAME",
            "STP_CODE",
            "STP_NAME",
        ]);
        let nearest = recognise(&before_pcns).unwrap_err();
        assert_eq!(nearest.missing(&before_pcns), ["PCN_CODE", "PCN_NAME"]);
    }

    #[test]
    fn pcn_codes_are_u_and_five_digits_and_the_rest_is_unallocated() {
        assert!(!is_unallocated("U12345", "Riverside PCN"));
        assert!(!is_unallocated("u12345", "Riverside PCN"));
        for code in ["", "U", "UNALLOCATED", "U1234", "P12345"] {
            assert!(is_unallocated(code, "Riverside PCN"), "{code}");
        }
        assert!(is_unallocated("U99999", "Unallocated"));
        assert!(is_unallocated("U99999", " UNALLOCATED PCN "));
    }
}
