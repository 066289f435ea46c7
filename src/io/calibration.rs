//! A calibration folder (`capsim calibrate --observed FILE --out DIR`), written all at once
//! through a staging folder: `calibration.toml` (metadata, fit statistics, growth beyond
//! demography, validation scores), `multipliers` (every area's estimate with its 90%
//! interval), `applied_multipliers` (what a calibrated run applies, by neighbourhood and
//! setting) and `validation` (each held-out area-year, observed against simulated), each
//! as Parquet and CSV. And read back: the metadata and applied multipliers a scenario's
//! `[calibration] file` names, and the validation rows the report draws.

use std::path::Path;

use polars::prelude::*;

use crate::config::scenario::parse_toml;
use crate::core::care::{Setting, N_SETTINGS};
use crate::core::error::{CapsimError, Result};
use crate::data::observed::{split_csv_line, AreaLevel};
use crate::io::read::{floats, ints, strings};
use crate::io::tables::{write_frame, Layout, Staging};
use crate::model::calibration::{Applied, AreaEstimate, CalibrationMeta, Predicted, ValidationRow};
use crate::model::variation::CalibratedRates;

/// The metadata file of a calibration folder.
pub const META_FILE: &str = "calibration.toml";
/// The per-area estimates.
pub const MULTIPLIERS: &str = "multipliers";
/// What runs apply.
pub const APPLIED: &str = "applied_multipliers";
/// Held-out area-years.
pub const VALIDATION: &str = "validation";

fn frame_err(e: PolarsError) -> CapsimError {
    CapsimError::Write {
        path: "(calibration)".into(),
        reason: e.to_string(),
    }
}

/// Writes the calibration folder `out` atomically.
pub fn write(
    out: &Path,
    meta: &CalibrationMeta,
    estimates: &[AreaEstimate],
    applied: &[Applied],
    validation: &[ValidationRow],
) -> Result<()> {
    let mut staging = Staging::new(out)?.with_all_csv(true);
    let text = toml::to_string(meta).map_err(|e| CapsimError::Write {
        path: out.join(META_FILE),
        reason: e.to_string(),
    })?;
    let path = staging.path(META_FILE)?;
    std::fs::write(&path, text).map_err(|e| CapsimError::io(&path, e))?;
    write_frame(
        &mut staging,
        &Layout::Flat,
        MULTIPLIERS,
        &estimates_frame(estimates)?,
    )?;
    write_frame(
        &mut staging,
        &Layout::Flat,
        APPLIED,
        &applied_frame(applied)?,
    )?;
    write_frame(
        &mut staging,
        &Layout::Flat,
        VALIDATION,
        &validation_frame(validation)?,
    )?;
    staging.commit()
}

fn estimates_frame(rows: &[AreaEstimate]) -> Result<DataFrame> {
    let num = |f: fn(&AreaEstimate) -> f64| rows.iter().map(f).collect::<Vec<_>>();
    DataFrame::new_infer_height(vec![
        Column::new(
            "setting".into(),
            rows.iter().map(|r| r.setting.id()).collect::<Vec<_>>(),
        ),
        Column::new(
            "level".into(),
            rows.iter().map(|r| r.level.id()).collect::<Vec<_>>(),
        ),
        Column::new(
            "area".into(),
            rows.iter().map(|r| r.area.as_str()).collect::<Vec<_>>(),
        ),
        Column::new("observed".into(), num(|r| r.observed)),
        Column::new("expected".into(), num(|r| r.expected)),
        Column::new("multiplier".into(), num(|r| r.multiplier)),
        Column::new("multiplier_lo90".into(), num(|r| r.lo90)),
        Column::new("multiplier_hi90".into(), num(|r| r.hi90)),
        Column::new("own_weight".into(), num(|r| r.own_weight)),
    ])
    .map_err(frame_err)
}

fn applied_frame(rows: &[Applied]) -> Result<DataFrame> {
    DataFrame::new_infer_height(vec![
        Column::new(
            "neighbourhood_id".into(),
            rows.iter().map(|r| r.neighbourhood_id).collect::<Vec<_>>(),
        ),
        Column::new(
            "neighbourhood".into(),
            rows.iter()
                .map(|r| r.neighbourhood.as_str())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "setting".into(),
            rows.iter().map(|r| r.setting.id()).collect::<Vec<_>>(),
        ),
        Column::new(
            "multiplier".into(),
            rows.iter().map(|r| r.multiplier).collect::<Vec<_>>(),
        ),
        Column::new(
            "from_level".into(),
            rows.iter().map(|r| r.from.id()).collect::<Vec<_>>(),
        ),
    ])
    .map_err(frame_err)
}

fn validation_frame(rows: &[ValidationRow]) -> Result<DataFrame> {
    let num = |f: fn(&ValidationRow) -> f64| rows.iter().map(f).collect::<Vec<_>>();
    DataFrame::new_infer_height(vec![
        Column::new(
            "setting".into(),
            rows.iter().map(|r| r.setting.id()).collect::<Vec<_>>(),
        ),
        Column::new(
            "level".into(),
            rows.iter().map(|r| r.level.id()).collect::<Vec<_>>(),
        ),
        Column::new(
            "area".into(),
            rows.iter().map(|r| r.area.as_str()).collect::<Vec<_>>(),
        ),
        Column::new(
            "year".into(),
            rows.iter().map(|r| r.year).collect::<Vec<_>>(),
        ),
        Column::new("observed".into(), num(|r| r.observed)),
        Column::new("simulated_mean".into(), num(|r| r.simulated.mean)),
        Column::new("simulated_lo90".into(), num(|r| r.simulated.lo)),
        Column::new("simulated_hi90".into(), num(|r| r.simulated.hi)),
    ])
    .map_err(frame_err)
}

/// A calibration as a scenario uses it: its metadata and the multipliers runs apply.
#[derive(Debug, Clone, PartialEq)]
pub struct CalibrationFile {
    pub meta: CalibrationMeta,
    pub rates: CalibratedRates,
    /// Neighbourhood names by id, to check the geography a run simulates.
    pub names: std::collections::BTreeMap<u64, String>,
}

/// Reads `calibration.toml` and the applied multipliers beside it.
pub fn read(path: &Path) -> Result<CalibrationFile> {
    let text = std::fs::read_to_string(path).map_err(|e| CapsimError::io(path, e))?;
    let meta: CalibrationMeta = parse_toml(path, &text)?;
    let table = path
        .parent()
        .unwrap_or_else(|| Path::new("."))
        .join(&meta.applied_table);
    let file = table.display().to_string();
    let text = std::fs::read_to_string(&table).map_err(|e| CapsimError::io(&table, e))?;
    let mut rates = CalibratedRates::default();
    let mut names = std::collections::BTreeMap::new();
    let mut lines = text.lines();
    let header = split_csv_line(lines.next().unwrap_or(""));
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| CapsimError::MissingColumn {
                file: file.clone(),
                column: name.into(),
                expected: "neighbourhood_id, neighbourhood, setting, multiplier, from_level".into(),
            })
    };
    let (id_at, name_at, set_at, m_at) = (
        col("neighbourhood_id")?,
        col("neighbourhood")?,
        col("setting")?,
        col("multiplier")?,
    );
    for (k, line) in lines.enumerate() {
        let rec = split_csv_line(line);
        let cell = |c: usize| rec.get(c).map_or("", |s| s.as_str());
        let bad = |c: usize, allowed: &str| CapsimError::InvalidValue {
            file: file.clone(),
            line: k + 2,
            column: header[c].clone(),
            value: cell(c).into(),
            allowed: allowed.into(),
        };
        let id: u64 = cell(id_at)
            .parse()
            .map_err(|_| bad(id_at, "a neighbourhood id"))?;
        let setting = Setting::parse(cell(set_at)).ok_or_else(|| bad(set_at, "a setting id"))?;
        let m: f64 = cell(m_at)
            .parse()
            .ok()
            .filter(|m: &f64| m.is_finite() && *m >= 0.0)
            .ok_or_else(|| bad(m_at, "a non-negative number"))?;
        rates
            .by_neighbourhood
            .entry(id)
            .or_insert([None; N_SETTINGS])[setting.index()] = Some(m);
        names.insert(id, cell(name_at).to_string());
    }
    Ok(CalibrationFile { meta, rates, names })
}

/// The held-out rows of a calibration folder's `validation.parquet` (none if absent).
pub fn read_validation(dir: &Path) -> Result<Vec<ValidationRow>> {
    let path = dir.join(format!("{VALIDATION}.parquet"));
    if !path.exists() {
        return Ok(Vec::new());
    }
    let df = crate::io::read::read_parquet(&path)?;
    let s = |c: &str| strings(&df, &path, c);
    let f = |c: &str| floats(&df, &path, c);
    let (setting, level, area) = (s("setting")?, s("level")?, s("area")?);
    let (year, obs) = (ints(&df, &path, "year")?, f("observed")?);
    let (mean, lo, hi) = (
        f("simulated_mean")?,
        f("simulated_lo90")?,
        f("simulated_hi90")?,
    );
    let mut out = Vec::with_capacity(df.height());
    for i in 0..df.height() {
        let (Some(st), Some(lv)) = (Setting::parse(&setting[i]), AreaLevel::parse(&level[i]))
        else {
            return Err(CapsimError::Write {
                path: path.clone(),
                reason: format!("row {i}: unknown setting or level"),
            });
        };
        out.push(ValidationRow {
            setting: st,
            level: lv,
            area: area[i].clone(),
            year: year[i],
            observed: obs[i],
            simulated: Predicted {
                mean: mean[i],
                lo: lo[i],
                hi: hi[i],
            },
        });
    }
    Ok(out)
}
