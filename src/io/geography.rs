//! Writes an imported geography folder (`data::geography::Geography::from_dir` reads it
//! back): `neighbourhoods.csv`, `age_sex.csv` and, for provenance, `practices.csv`.
//!
//! The folder is written whole into a staging folder beside it and renamed into place,
//! so a failed import leaves either the old folder or the new one, never half of each.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::core::dims::N_IMD;
use crate::core::error::{CapsimError, Result};
use crate::data::geography::{list_age_labels, AGE_SEX_FILE, NEIGHBOURHOODS_FILE};
use crate::data::gp_lists::Imported;

/// Which practices make up each neighbourhood: not read by capsim, kept so an imported
/// geography can be traced back to the published lists.
pub const PRACTICES_FILE: &str = "practices.csv";

/// Writes `imported` as the geography folder `dir`, replacing an earlier geography folder
/// there. A folder that holds anything else is refused rather than overwritten.
pub fn write_geography(dir: &Path, imported: &Imported) -> Result<()> {
    if dir.exists() && !replaceable(dir) {
        return Err(CapsimError::InvalidSetting {
            setting: "--out".into(),
            problem: format!(
                "{} exists and is not a geography folder (no {NEIGHBOURHOODS_FILE}); \
                 choose a new folder",
                dir.display()
            ),
        });
    }
    let staging = beside(dir, "staging");
    if staging.exists() {
        std::fs::remove_dir_all(&staging).map_err(|e| CapsimError::io(&staging, e))?;
    }
    std::fs::create_dir_all(&staging).map_err(|e| CapsimError::io(&staging, e))?;
    let written = (|| {
        for (name, text) in [
            (NEIGHBOURHOODS_FILE, neighbourhoods_csv(imported)),
            (AGE_SEX_FILE, age_sex_csv(imported)),
            (PRACTICES_FILE, practices_csv(imported)),
        ] {
            let path = staging.join(name);
            std::fs::write(&path, text).map_err(|e| CapsimError::io(&path, e))?;
        }
        commit(&staging, dir)
    })();
    if written.is_err() {
        let _ = std::fs::remove_dir_all(&staging);
    }
    written
}

/// An empty folder, or one an earlier import wrote.
fn replaceable(dir: &Path) -> bool {
    dir.join(NEIGHBOURHOODS_FILE).is_file()
        || std::fs::read_dir(dir).is_ok_and(|mut d| d.next().is_none())
}

/// A hidden sibling of `dir` for this process.
fn beside(dir: &Path, what: &str) -> PathBuf {
    let name = dir
        .file_name()
        .map_or("geography".into(), |n| n.to_string_lossy());
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    parent.join(format!(".{name}.{what}-{}", std::process::id()))
}

/// Renames the staging folder into place; an old folder is moved aside first and removed
/// after.
fn commit(staging: &Path, dir: &Path) -> Result<()> {
    let old = beside(dir, "old");
    let had_old = dir.exists();
    if had_old {
        std::fs::rename(dir, &old).map_err(|e| CapsimError::io(dir, e))?;
    }
    if let Err(e) = std::fs::rename(staging, dir) {
        if had_old {
            let _ = std::fs::rename(&old, dir);
        }
        return Err(CapsimError::io(dir, e));
    }
    if had_old {
        std::fs::remove_dir_all(&old).map_err(|e| CapsimError::io(&old, e))?;
    }
    Ok(())
}

/// A CSV field, quoted when it holds a comma, quote or line break.
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn neighbourhoods_csv(imported: &Imported) -> String {
    let mut out = String::from("system,place,neighbourhood,registered_population");
    for q in 1..=N_IMD {
        let _ = write!(out, ",imd_{q}");
    }
    out.push_str(",system_code,place_code,neighbourhood_code,practices\n");
    for nb in &imported.neighbourhoods {
        let _ = write!(
            out,
            "{},{},{},{}",
            field(&nb.system),
            field(&nb.place),
            field(&nb.name),
            nb.population()
        );
        for share in nb.imd {
            // Twelve decimals: exact enough, and a fifth reads as 0.2.
            let _ = write!(out, ",{}", (share * 1e12).round() / 1e12);
        }
        let _ = writeln!(
            out,
            ",{},{},{},{}",
            field(&nb.system_code),
            field(&nb.place_code),
            field(&nb.code),
            nb.practices.len()
        );
    }
    out
}

fn age_sex_csv(imported: &Imported) -> String {
    let labels = list_age_labels();
    let mut out = String::from("neighbourhood,age,male,female\n");
    for nb in &imported.neighbourhoods {
        let name = field(&nb.name);
        for (label, [male, female]) in labels.iter().zip(&nb.counts) {
            let _ = writeln!(out, "{name},{label},{male},{female}");
        }
    }
    out
}

fn practices_csv(imported: &Imported) -> String {
    let mut out = String::from("practice,neighbourhood,patients,imd_quintile\n");
    for p in &imported.practices {
        let _ = writeln!(
            out,
            "{},{},{},{}",
            field(&p.code),
            field(&p.neighbourhood),
            p.patients,
            p.imd_quintile.map_or(String::new(), |q| q.to_string())
        );
    }
    out
}
