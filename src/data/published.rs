//! NHS England's practice-level weighted populations: the data of its ICB place-based
//! allocation tool (`nhsx/AIF_Allocation_Tool`, `data/2024_2025.csv`, Open Government
//! Licence v3), bundled as `datasets/practices_2024_25.csv.gz` (provenance and what was
//! kept: `datasets/README.md`).
//!
//! One row per practice: its code, name and coordinates, its sub-ICB location (a place),
//! ICB (a system), region and local authority, its registered population (fractional, as
//! the allocation formula uses it) and its weighted population by component. A user can
//! give a replacement file with the same column names (plain or gzipped CSV, such as next
//! year's publication); every cell is checked, and a bad one is an error naming the file,
//! line and column.

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::path::Path;

use crate::core::error::{CapsimError, Result};
use crate::data::datasets::Table;

/// The bundled file, as named in `datasets/`.
pub const PRACTICES_FILE: &str = "practices_2024_25.csv.gz";
static BUNDLED_PRACTICES: &[u8] = include_bytes!("../../datasets/practices_2024_25.csv.gz");

/// The 42 ICB codes of the bundled 2024/25 file (`ICS22`). A replacement file must use
/// these: a code outside them is a typo or a reorganisation capsim does not know.
pub const ICB_CODES: [&str; 42] = [
    "QE1", "QF7", "QGH", "QH8", "QHG", "QHL", "QHM", "QJ2", "QJG", "QJK", "QJM", "QK1", "QKK",
    "QKS", "QM7", "QMF", "QMJ", "QMM", "QNC", "QNQ", "QNX", "QOC", "QOP", "QOQ", "QOX", "QPM",
    "QR1", "QRL", "QRV", "QSL", "QT1", "QT6", "QU9", "QUA", "QUE", "QUY", "QVV", "QWE", "QWO",
    "QWU", "QXU", "QYG",
];

crate::labelled_enum! {
    /// A weighted population of the allocation formula. Scenario files name it by its id
    /// (`component = "general_acute"`; `"general_and_acute"` is also accepted).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum Component {
        #[serde(alias = "general_and_acute")]
        GeneralAcute => "general_acute",
        Community => "community",
        MentalHealth => "mental_health",
        Maternity => "maternity",
        HealthInequalities => "health_inequalities",
        Prescribing => "prescribing",
        Final => "final",
        PrimaryMedicalCare => "primary_medical_care",
        FinalPrimaryMedicalCare => "final_primary_medical_care",
    }
}

impl Component {
    /// The column of the published file.
    pub fn column(self) -> &'static str {
        match self {
            Component::GeneralAcute => "G&A WP",
            Component::Community => "CS WP",
            Component::MentalHealth => "MH WP",
            Component::Maternity => "Mat WP",
            Component::HealthInequalities => "Health Ineq WP",
            Component::Prescribing => "Prescr WP",
            Component::Final => "Final WP",
            Component::PrimaryMedicalCare => "Primary Medical Care WP",
            Component::FinalPrimaryMedicalCare => "Final PMC WP",
        }
    }
}

/// Text columns read (published names).
const CODE: &str = "Practice_Code";
const NAME: &str = "GP_Practice_Name";
const LATITUDE: &str = "Latitude";
const LONGITUDE: &str = "Longitude";
const PLACE_CODE: &str = "CCG21";
const PLACE_NAME: &str = "Former CCG";
const ICB_CODE: &str = "ICS22";
const ICB_NAME: &str = "ICS22name";
const REGION_CODE: &str = "R22";
const REGION_NAME: &str = "Region22";
const LA_CODE: &str = "LAD21";
const LA_NAME: &str = "LTLA21";
const POPULATION: &str = "pop 2022/23";

/// Every column read, for the message of a missing one.
pub fn columns() -> Vec<&'static str> {
    let mut c = vec![
        CODE,
        NAME,
        LATITUDE,
        LONGITUDE,
        PLACE_CODE,
        PLACE_NAME,
        ICB_CODE,
        ICB_NAME,
        REGION_CODE,
        REGION_NAME,
        LA_CODE,
        LA_NAME,
        POPULATION,
    ];
    c.extend(Component::ALL.iter().map(|w| w.column()));
    c
}

/// Plausible ranges: England's extent (the Isles of Scilly to Northumberland, with a
/// margin), and populations no practice comes near (the largest holds 109,320).
const LATITUDE_RANGE: (&str, f64, f64) = ("a latitude in England", 49.0, 56.5);
const LONGITUDE_RANGE: (&str, f64, f64) = ("a longitude in England", -7.0, 2.5);
const POPULATION_RANGE: (&str, f64, f64) = ("registered patients of a practice", 0.0, 500_000.0);
const WEIGHTED_RANGE: (&str, f64, f64) = ("a weighted population of a practice", 0.0, 1_000_000.0);

/// One practice as published.
#[derive(Debug, Clone, PartialEq)]
pub struct Practice {
    pub code: String,
    pub name: String,
    pub latitude: f64,
    pub longitude: f64,
    /// Sub-ICB location (former CCG) code and name: a place.
    pub place_code: String,
    pub place_name: String,
    /// ICB code and name: a system.
    pub icb_code: String,
    pub icb_name: String,
    pub region_code: String,
    pub region_name: String,
    /// Local authority district code and name.
    pub la_code: String,
    pub la_name: String,
    /// Registered population (`pop 2022/23`), fractional as published.
    pub population: f64,
    /// Weighted population by [`Component::index`].
    pub weighted: [f64; Component::COUNT],
}

impl Practice {
    pub fn weighted(&self, c: Component) -> f64 {
        self.weighted[c.index()]
    }
}

/// The practices of a file, in file order.
#[derive(Debug, Clone, PartialEq)]
pub struct Practices {
    /// The file as named in messages.
    pub file: String,
    pub practices: Vec<Practice>,
}

impl Practices {
    /// The bundled 2024/25 file.
    pub fn bundled() -> Result<Self> {
        Self::parse(
            format!("datasets/{PRACTICES_FILE} (bundled)"),
            BUNDLED_PRACTICES,
        )
    }

    /// A replacement file: a CSV with the published column names, plain or gzipped.
    pub fn from_file(path: &Path) -> Result<Self> {
        let file = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|e| CapsimError::Unreadable {
            file: file.clone(),
            reason: e.to_string(),
        })?;
        Self::parse(file, &bytes)
    }

    /// Parses and checks a file's bytes (gzipped or not); `file` names it in messages.
    pub fn parse(file: String, bytes: &[u8]) -> Result<Self> {
        let text = if bytes.starts_with(&[0x1f, 0x8b]) {
            let mut out = Vec::new();
            flate2::read::MultiGzDecoder::new(bytes)
                .read_to_end(&mut out)
                .map_err(|e| CapsimError::Unreadable {
                    file: file.clone(),
                    reason: format!("not a valid gzip file: {e}"),
                })?;
            out
        } else {
            bytes.to_vec()
        };
        let text = text.strip_prefix("\u{feff}".as_bytes()).unwrap_or(&text);
        let t = Table::parse("(not bundled)", file.clone(), text)?;
        let practices = read_rows(&t)?;
        Ok(Practices { file, practices })
    }

    /// The ICBs (code, name) in code order.
    pub fn icbs(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        for p in &self.practices {
            if !out.iter().any(|(c, _)| *c == p.icb_code) {
                out.push((p.icb_code.clone(), p.icb_name.clone()));
            }
        }
        out.sort();
        out
    }

    /// The sum of the registered populations, as published (fractional).
    pub fn population(&self) -> f64 {
        self.practices.iter().map(|p| p.population).sum()
    }
}

fn read_rows(t: &Table) -> Result<Vec<Practice>> {
    let expected = columns();
    // Every column first, so a missing one is reported before any cell.
    for c in &expected {
        if !t.has(c) {
            return Err(CapsimError::MissingColumn {
                file: t.file.clone(),
                column: c.to_string(),
                expected: expected.join(", "),
            });
        }
    }
    let text = |c: &'static str| t.text(c, &expected).map(|col| col.values);
    let code = text(CODE)?;
    let name = text(NAME)?;
    let place_code = text(PLACE_CODE)?;
    let place_name = text(PLACE_NAME)?;
    let icb_code = text(ICB_CODE)?;
    let icb_name = text(ICB_NAME)?;
    let region_code = text(REGION_CODE)?;
    let region_name = text(REGION_NAME)?;
    let la_code = text(LA_CODE)?;
    let la_name = text(LA_NAME)?;
    let number = |c: &'static str, range| t.number_in(c, &expected, range).map(|col| col.values);
    let latitude = number(LATITUDE, LATITUDE_RANGE)?;
    let longitude = number(LONGITUDE, LONGITUDE_RANGE)?;
    let population = number(POPULATION, POPULATION_RANGE)?;
    let weighted: Vec<Vec<f64>> = Component::ALL
        .iter()
        .map(|w| number(w.column(), WEIGHTED_RANGE))
        .collect::<Result<_>>()?;
    if t.height() == 0 {
        return Err(t.whole(CODE, "no practice in the file"));
    }

    let known: HashSet<&str> = ICB_CODES.iter().copied().collect();
    let mut seen: HashSet<&str> = HashSet::new();
    let mut icb_of_place: HashMap<&str, &str> = HashMap::new();
    let mut rows = Vec::with_capacity(t.height());
    for r in 0..t.height() {
        if !seen.insert(&code[r]) {
            return Err(t.invalid(
                CODE,
                r,
                &code[r],
                "each practice once (this code is repeated)",
            ));
        }
        if !known.contains(icb_code[r].as_str()) {
            return Err(t.invalid(
                ICB_CODE,
                r,
                &icb_code[r],
                &format!(
                    "one of the 42 ICB codes of 2024/25 ({})",
                    ICB_CODES.join(", ")
                ),
            ));
        }
        match icb_of_place.insert(&place_code[r], &icb_code[r]) {
            Some(other) if other != icb_code[r] => {
                return Err(t.invalid(
                    ICB_CODE,
                    r,
                    &icb_code[r],
                    &format!(
                        "{other}, the ICB of sub-ICB location {} on an earlier line \
                         (a place belongs to one ICB)",
                        place_code[r]
                    ),
                ))
            }
            _ => {}
        }
        let mut w = [0.0; Component::COUNT];
        for (c, col) in weighted.iter().enumerate() {
            w[c] = col[r];
        }
        rows.push(Practice {
            code: code[r].clone(),
            name: name[r].clone(),
            latitude: latitude[r],
            longitude: longitude[r],
            place_code: place_code[r].clone(),
            place_name: place_name[r].clone(),
            icb_code: icb_code[r].clone(),
            icb_name: icb_name[r].clone(),
            region_code: region_code[r].clone(),
            region_name: region_name[r].clone(),
            la_code: la_code[r].clone(),
            la_name: la_name[r].clone(),
            population: population[r],
            weighted: w,
        });
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> String {
        columns()
            .iter()
            .map(|c| c.to_string())
            .collect::<Vec<_>>()
            .join(",")
    }

    fn row(code: &str, icb: &str, place: &str, pop: &str) -> String {
        let mut cells = vec![
            code.to_string(),
            "A practice".into(),
            "52.5".into(),
            "-1.5".into(),
            place.into(),
            "NHS Somewhere CCG".into(),
            icb.into(),
            "NHS Somewhere ICB".into(),
            "Y60".into(),
            "Midlands".into(),
            "E06000001".into(),
            "Somewhere".into(),
            pop.into(),
        ];
        cells.extend(std::iter::repeat_n("1000.5".to_string(), Component::COUNT));
        cells.join(",")
    }

    fn parse(lines: &[String]) -> Result<Practices> {
        Practices::parse("test.csv".into(), lines.join("\n").as_bytes())
    }

    #[test]
    fn the_bundled_file_is_the_published_one() {
        let p = Practices::bundled().unwrap();
        assert_eq!(p.practices.len(), 6_553);
        assert_eq!(p.icbs().len(), 42);
        let codes: Vec<String> = p.icbs().into_iter().map(|(c, _)| c).collect();
        assert_eq!(codes, ICB_CODES);
        let places: HashSet<&str> = p.practices.iter().map(|x| x.place_code.as_str()).collect();
        assert_eq!(places.len(), 106);
        let las: HashSet<&str> = p.practices.iter().map(|x| x.la_code.as_str()).collect();
        assert_eq!(las.len(), 309);
        assert!(
            (p.population() - 62_154_630.308).abs() < 0.01,
            "{}",
            p.population()
        );
        // Each weighted population shares the registered total.
        for c in Component::ALL {
            let sum: f64 = p.practices.iter().map(|x| x.weighted(c)).sum();
            assert!((sum - p.population()).abs() < 1.0, "{c:?}: {sum}");
        }
        let above = p.practices.iter().filter(|x| x.population > 50_000.0);
        assert_eq!(above.count(), 16);
    }

    #[test]
    fn a_good_small_file_reads() {
        let p = parse(&[header(), row("A1", "QE1", "00L", "12.5")]).unwrap();
        assert_eq!(p.practices[0].population, 12.5);
        assert_eq!(p.practices[0].weighted(Component::Final), 1000.5);
    }

    fn line_and_column(e: CapsimError) -> (usize, String) {
        match e {
            CapsimError::InvalidValue {
                line, column, file, ..
            } => {
                assert_eq!(file, "test.csv");
                (line, column)
            }
            other => panic!("{other}"),
        }
    }

    #[test]
    fn bad_rows_name_their_line_and_column() {
        let good = row("A1", "QE1", "00L", "100");
        let cases = [
            (row("A2", "QE1", "00L", "-3"), POPULATION),
            (row("A2", "QE1", "00L", "many"), POPULATION),
            (row("A2", "QE1", "00L", ""), POPULATION),
            (row("A1", "QE1", "00L", "100"), CODE),
            (row("A2", "QZZ", "00L", "100"), ICB_CODE),
            (row("A2", "QF7", "00L", "100"), ICB_CODE),
        ];
        for (bad, column) in cases {
            let e = parse(&[header(), good.clone(), bad.clone()]).unwrap_err();
            assert!(e.is_bad_input());
            assert_eq!(line_and_column(e), (3, column.to_string()), "{bad}");
        }
    }

    #[test]
    fn a_missing_column_is_named() {
        let h = header().replace("Final WP", "Final");
        let e = parse(&[h, row("A1", "QE1", "00L", "100")]).unwrap_err();
        match e {
            CapsimError::MissingColumn { column, .. } => assert_eq!(column, "Final WP"),
            other => panic!("{other}"),
        }
    }

    #[test]
    fn a_gzipped_file_reads_like_the_plain_one() {
        use std::io::Write;
        let text = [header(), row("A1", "QE1", "00L", "7")].join("\n");
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(text.as_bytes()).unwrap();
        let zipped = Practices::parse("test.csv".into(), &gz.finish().unwrap()).unwrap();
        assert_eq!(
            zipped,
            Practices::parse("test.csv".into(), text.as_bytes()).unwrap()
        );
    }
}
