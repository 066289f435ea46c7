//! `capsim calibrate --observed FILE --out DIR`: calibrate to your own system. An
//! analyst's observed counts by practice, neighbourhood, place or system and setting are
//! set against the simulator's expected counts at national rates (its demography alone,
//! [`crate::engine::expected`]); each (setting, level) gets an empirical-Bayes
//! Poisson-gamma fit ([`crate::model::calibration`]), with growth beyond demography where
//! several years are given; years from `--validate-from` on are held out and predicted.
//! The steps: geography -> observed -> projection -> fits -> applied multipliers ->
//! validation -> metadata, then everything is written at once (`io::calibration`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use sha2::{Digest, Sha256};

use crate::config::scenario::Population;
use crate::core::care::{Setting, N_SETTINGS};
use crate::core::error::{CapsimError, Result};
use crate::core::rng::{Purpose, StreamKey};
use crate::data::datasets::{DatasetSource, Datasets};
use crate::data::geography::{Geography, Preset, RealSource};
use crate::data::observed::{AreaIndex, AreaLevel, Observed, ObservedRow, PracticeMember};
use crate::data::published::Practices;
use crate::data::published_geography::RealEngland;
use crate::engine::expected::{expected_activity, ExpectedActivity};
use crate::model::calibration::{
    coverage_note, predict, score, Applied, AreaEstimate, CalibrationMeta, FitRow, Growth,
    GrowthRow, PoissonGamma, Posterior, ScoreRow, ValidationRow,
};
use crate::model::Model;

/// Version of the calibration folder's layout.
pub const FORMAT: u32 = 1;
/// The metadata file of a calibration folder.
pub const CALIBRATION_FILE: &str = "calibration.toml";
/// The table of multipliers runs apply.
pub const APPLIED_TABLE: &str = "applied_multipliers";
/// Draws of each held-out area-year's predictive distribution.
const DRAWS: usize = 1000;

/// What to calibrate, from what.
#[derive(Debug, Clone)]
pub struct LocalOptions {
    pub observed: PathBuf,
    pub out: PathBuf,
    /// The geography: a preset (an ICB code, real England, the invented ones)...
    pub preset: Preset,
    /// ...or a geography folder instead.
    pub geography: Option<PathBuf>,
    /// Real England's practice file and places, for a real preset.
    pub real: RealSource,
    /// Years from this one on are held out for validation.
    pub validate_from: Option<i32>,
    pub seed: u64,
    /// Population paths averaged in the demographic projection.
    pub projection_runs: u32,
    pub threads: usize,
    pub datasets: DatasetSource,
}

impl LocalOptions {
    /// Calibrating `observed` into `out` on the bundled scenarios' ICB.
    pub fn new(observed: PathBuf, out: PathBuf) -> Self {
        LocalOptions {
            observed,
            out,
            preset: Preset::default_icb(),
            geography: None,
            real: RealSource::default(),
            validate_from: None,
            seed: 42,
            projection_runs: 2,
            threads: 0,
            datasets: DatasetSource::Bundled,
        }
    }
}

/// A calibration: its metadata and tables.
#[derive(Debug, Clone)]
pub struct LocalCalibration {
    pub meta: CalibrationMeta,
    pub estimates: Vec<AreaEstimate>,
    pub applied: Vec<Applied>,
    pub validation: Vec<ValidationRow>,
    pub wall_seconds: f64,
}

/// A geography with its practices (real England's; none otherwise) and its label.
pub struct Calibrated {
    pub geography: Geography,
    pub practices: Vec<PracticeMember>,
    pub label: String,
}

/// What a population is called in a calibration: a preset's id, or `geography NAME` for a
/// geography folder.
pub fn label_of(p: &Population) -> String {
    match &p.geography {
        Some(dir) => folder_label(dir),
        None => p.preset.id().to_string(),
    }
}

fn folder_label(dir: &Path) -> String {
    let name = dir
        .file_name()
        .map_or("geography".into(), |n| n.to_string_lossy().into_owned());
    format!("geography {name}")
}

/// Fits and writes a calibration into `o.out`: nothing is written if anything fails.
pub fn calibrate_observed(o: &LocalOptions) -> Result<LocalCalibration> {
    let d = Datasets::load(&o.datasets)?;
    let model = Model::new(&d)?;
    let target = geography_of(&d, o)?;
    let c = fit(&model, &target, o)?;
    crate::io::calibration::write(&o.out, &c.meta, &c.estimates, &c.applied, &c.validation)?;
    Ok(c)
}

/// The geography calibrated, with real England's practices.
pub fn geography_of(d: &Datasets, o: &LocalOptions) -> Result<Calibrated> {
    if let Some(dir) = &o.geography {
        return Ok(Calibrated {
            geography: Geography::from_dir(dir)?,
            practices: Vec::new(),
            label: folder_label(dir),
        });
    }
    if !o.preset.is_real() {
        return Ok(Calibrated {
            geography: Geography::preset(d, o.preset)?,
            practices: Vec::new(),
            label: o.preset.id().to_string(),
        });
    }
    let p = match &o.real.practices {
        Some(f) => Practices::from_file(f)?,
        None => Practices::bundled()?,
    };
    let e = RealEngland::build_by(&p, o.real.place_by);
    let geography = Geography::preset_from(d, o.preset, &o.real)?;
    let mut practices = Vec::new();
    for (id, grp) in e.groups.iter().enumerate() {
        for &i in &grp.practices {
            practices.push(PracticeMember {
                code: p.practices[i].code.clone(),
                neighbourhood_id: id as u64,
                quintile: e.quintile[i],
                people: e.people[i],
            });
        }
    }
    Ok(Calibrated {
        geography,
        practices,
        label: o.preset.id().to_string(),
    })
}

/// The fit, without writing: reads the observed file, projects, fits and validates.
pub fn fit(model: &Model, target: &Calibrated, o: &LocalOptions) -> Result<LocalCalibration> {
    fit_with(model, target, o, None)
}

/// [`fit`], with the demographic projection given when it covers the observed years (the
/// worked example's test fits several files against one projection).
pub fn fit_with(
    model: &Model,
    target: &Calibrated,
    o: &LocalOptions,
    projection: Option<&ExpectedActivity>,
) -> Result<LocalCalibration> {
    let start = Instant::now();
    let g = &target.geography;
    let index = AreaIndex::new(g, &target.practices);
    let observed = Observed::load(&o.observed, &index)?;
    let (first, fit_years, validation_years) = split_years(&observed, o.validate_from)?;
    let horizon = (observed.years().last().copied().unwrap_or(first) - first + 1) as u32;
    let computed;
    let expected = match projection {
        Some(p) if p.years >= horizon && p.neighbourhoods == g.neighbourhoods.len() => p,
        _ => {
            computed = expected_activity(model, g, o.seed, horizon, o.projection_runs, o.threads)?;
            &computed
        }
    };
    let ctx = Context {
        index: &index,
        expected,
        first,
    };
    let cells = cells_of(&observed);
    let mut fits = Vec::new();
    for ((setting, level), rows) in &cells {
        let fit_rows: Vec<&ObservedRow> = rows
            .iter()
            .copied()
            .filter(|r| fit_years.contains(&r.year))
            .collect();
        if !fit_rows.is_empty() {
            fits.push(fit_cell(&ctx, model, *setting, *level, &fit_rows));
        }
    }
    let applied = applied_multipliers(&ctx, g, &fits);
    let validation = validate(&ctx, model, o.seed, &fits, &cells, &validation_years);
    let meta = CalibrationMeta {
        format: FORMAT,
        method: "empirical-Bayes Poisson-gamma by (setting, level): mu and alpha by marginal \
                 maximum likelihood (negative binomial), gamma posterior means and 90% \
                 intervals; growth beyond demography by log-linear regression of observed \
                 over the simulator's demographic projection"
            .into(),
        source_file: o
            .observed
            .file_name()
            .map_or(String::new(), |n| n.to_string_lossy().into_owned()),
        source_sha256: sha256_of_file(&o.observed)?,
        geography: target.label.clone(),
        geography_sha256: geography_sha256(g),
        neighbourhoods: g.neighbourhoods.len(),
        first_year: first,
        fit_years,
        validation_years,
        seed: o.seed,
        projection_runs: o.projection_runs,
        applied_table: format!("{APPLIED_TABLE}.csv"),
        notes: notes(),
        fit: fits.iter().map(|f| f.row.clone()).collect(),
        growth: fits.iter().filter_map(|f| f.growth_row.clone()).collect(),
        validation: scores_of(&validation),
    };
    Ok(LocalCalibration {
        meta,
        estimates: fits.iter().flat_map(|f| f.estimates.clone()).collect(),
        applied,
        validation,
        wall_seconds: start.elapsed().as_secs_f64(),
    })
}

fn notes() -> Vec<String> {
    vec![
        "runs of a scenario with [calibration] file = this file apply the multipliers of \
         applied_multipliers in place of the random persistent multipliers between areas, \
         for the neighbourhoods and settings they cover (others keep theirs); the yearly \
         wobble still applies with [variation] between_areas"
            .into(),
        "a neighbourhood's multiplier comes from the finest level observed for the setting: \
         its practices (posterior means weighted by expected counts), then the neighbourhood, \
         its place, its system"
            .into(),
        "emergency_bed_days: runs give bed days the multiplier of emergency admissions \
         (length of stay does not vary by area); bed days' own fit is in the tables"
            .into(),
        "growth beyond demography is estimated and used in validation; runs take each \
         fitted setting's growth (the level with the narrowest interval) as their default \
         trend, which a scenario's [trends.growth] still overrides"
            .into(),
        "multipliers are on national rates in the first fitting year (simulated year 1); \
         spend, where given, is read but not fitted"
            .into(),
    ]
}

/// The first observed year (simulated year 1), the fitting years and the held-out years.
fn split_years(
    observed: &Observed,
    validate_from: Option<i32>,
) -> Result<(i32, Vec<i32>, Vec<i32>)> {
    let years = observed.years();
    let (fit, val): (Vec<i32>, Vec<i32>) = years
        .iter()
        .partition(|y| validate_from.is_none_or(|v| **y < v));
    if fit.is_empty() {
        return Err(CapsimError::InvalidSetting {
            setting: "--validate-from".into(),
            problem: format!(
                "{} leaves no year to fit; {} has years {}",
                validate_from.unwrap_or_default(),
                observed.file,
                years
                    .iter()
                    .map(|y| y.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        });
    }
    Ok((fit[0], fit, val))
}

/// Everything the steps read.
pub(crate) struct Context<'a> {
    pub index: &'a AreaIndex,
    pub expected: &'a ExpectedActivity,
    /// The observed year that is simulated year 1.
    pub first: i32,
}

impl Context<'_> {
    /// Simulated year of an observed year.
    fn sim_year(&self, year: i32) -> u32 {
        (year - self.first + 1) as u32
    }

    /// Expected count of `area` in observed `year` and setting `s`, at national rates.
    pub fn expected_of(&self, area: usize, year: i32, s: Setting) -> f64 {
        let t = self.sim_year(year);
        self.index.areas[area]
            .members
            .iter()
            .map(|(nb, w)| {
                self.expected
                    .quintiles(*nb, t, s)
                    .iter()
                    .zip(w)
                    .map(|(e, w)| e * w)
                    .sum::<f64>()
            })
            .sum()
    }
}

type Cells<'a> = BTreeMap<(Setting, AreaLevel), Vec<&'a ObservedRow>>;

fn cells_of(observed: &Observed) -> Cells<'_> {
    let mut cells: Cells = BTreeMap::new();
    for r in &observed.rows {
        cells.entry((r.setting, r.level)).or_default().push(r);
    }
    cells
}

/// The fit of one (setting, level).
struct CellFit {
    setting: Setting,
    level: AreaLevel,
    growth: Option<Growth>,
    /// Log-scale sd of an area's year-to-year wobble, estimated from the fitting years
    /// (`None` with one year: the simulator's is used).
    wobble: Option<f64>,
    row: FitRow,
    growth_row: Option<GrowthRow>,
    /// Posterior and pooled expected count of each fitted area.
    areas: BTreeMap<usize, (Posterior, f64)>,
    estimates: Vec<AreaEstimate>,
}

/// Growth from the yearly totals, then the Poisson-gamma fit of the areas' pooled counts
/// against their expected counts grown by it.
fn fit_cell(
    ctx: &Context,
    model: &Model,
    setting: Setting,
    level: AreaLevel,
    rows: &[&ObservedRow],
) -> CellFit {
    let mut by_year: BTreeMap<i32, (f64, f64)> = BTreeMap::new();
    for r in rows {
        let t = by_year.entry(r.year).or_default();
        t.0 += r.count;
        t.1 += ctx.expected_of(r.area, r.year, setting);
    }
    let points: Vec<(f64, f64, f64)> = by_year
        .iter()
        .map(|(y, (o, e))| ((y - ctx.first) as f64, *o, *e))
        .collect();
    let growth = Growth::fit(&points);
    let slope = growth.map_or(0.0, |g| g.log_slope);
    let mut pooled: BTreeMap<usize, (f64, f64)> = BTreeMap::new();
    for r in rows {
        let e =
            ctx.expected_of(r.area, r.year, setting) * (slope * (r.year - ctx.first) as f64).exp();
        let p = pooled.entry(r.area).or_default();
        p.0 += r.count;
        p.1 += e;
    }
    let (o, e): (Vec<f64>, Vec<f64>) = pooled.values().copied().unzip();
    let fit = PoissonGamma::fit(&o, &e);
    let mut areas = BTreeMap::new();
    let mut estimates = Vec::new();
    for (&a, &(o, e)) in &pooled {
        let post = fit.posterior(o, e);
        let (lo, hi) = post.interval();
        areas.insert(a, (post, e));
        estimates.push(AreaEstimate {
            setting,
            level,
            area: ctx.index.areas[a].name.clone(),
            observed: o,
            expected: e,
            multiplier: post.mean(),
            lo90: lo,
            hi90: hi,
            own_weight: fit.own_weight(e),
        });
    }
    let wobble = yearly_wobble(ctx, setting, rows, slope, &areas);
    let row = FitRow {
        setting,
        level,
        areas: fit.areas,
        observed: fit.observed,
        expected: fit.expected,
        level_multiplier: fit.mu,
        spread: fit.spread(),
        alpha: fit.alpha,
        log_likelihood: fit.log_likelihood,
        dispersion: fit.dispersion,
        yearly_sd: wobble,
    };
    let growth_row = growth.map(|g| {
        let (r, lo, hi) = g.rate();
        GrowthRow {
            setting,
            level,
            years: g.years,
            growth: r,
            growth_lo90: lo,
            growth_hi90: hi,
            simulator_trend: model.activity.default_trends().growth[setting.index()],
        }
    });
    CellFit {
        setting,
        level,
        growth,
        wobble,
        row,
        growth_row,
        areas,
        estimates,
    }
}

/// The sd of areas' year-to-year wobble beyond Poisson chance, by moments: the squared
/// deviations of each area-year's count from its fitted expectation, less their Poisson
/// variance, over the squared expectations, corrected for the one multiplier each area's
/// years share. `None` without at least two years of some area.
fn yearly_wobble(
    ctx: &Context,
    setting: Setting,
    rows: &[&ObservedRow],
    slope: f64,
    areas: &BTreeMap<usize, (Posterior, f64)>,
) -> Option<f64> {
    let (mut excess, mut squares) = (0.0, 0.0);
    for r in rows {
        let p = areas[&r.area].0.mean()
            * ctx.expected_of(r.area, r.year, setting)
            * (slope * (r.year - ctx.first) as f64).exp();
        excess += (r.count - p).powi(2) - p;
        squares += p * p;
    }
    let free = rows.len().saturating_sub(areas.len());
    if free == 0 || squares <= 0.0 {
        return None;
    }
    let var = excess / squares * rows.len() as f64 / free as f64;
    Some(var.max(0.0).sqrt())
}

/// Each neighbourhood's multiplier per setting from the finest level that covers it.
fn applied_multipliers(ctx: &Context, g: &Geography, fits: &[CellFit]) -> Vec<Applied> {
    let n = g.neighbourhoods.len();
    let mut chosen: Vec<[Option<(f64, AreaLevel)>; N_SETTINGS]> = vec![[None; N_SETTINGS]; n];
    for level in AreaLevel::ALL {
        for f in fits.iter().filter(|f| f.level == level) {
            // Sum of expected-weighted posterior means and of weights, per neighbourhood.
            let mut acc = vec![(0.0, 0.0); n];
            for (&a, (post, e)) in &f.areas {
                let members = &ctx.index.areas[a].members;
                for (nb, _) in members {
                    acc[*nb].0 += post.mean() * e.max(1e-9);
                    acc[*nb].1 += e.max(1e-9);
                }
            }
            for (nb, (m, w)) in acc.into_iter().enumerate() {
                let slot = &mut chosen[nb][f.setting.index()];
                if slot.is_none() && w > 0.0 {
                    *slot = Some((m / w, level));
                }
            }
        }
    }
    let mut out = Vec::new();
    for (k, by_setting) in chosen.iter().enumerate() {
        for s in Setting::ALL {
            if let Some((m, from)) = by_setting[s.index()] {
                out.push(Applied {
                    neighbourhood_id: g.neighbourhoods[k].id,
                    neighbourhood: g.neighbourhoods[k].name.clone(),
                    setting: s,
                    multiplier: m,
                    from,
                });
            }
        }
    }
    out
}

/// Predicts every held-out area-year of a fitted area from its posterior, the cell's
/// growth and its yearly wobble (the simulator's, with one fitting year).
fn validate(
    ctx: &Context,
    model: &Model,
    seed: u64,
    fits: &[CellFit],
    cells: &Cells,
    years: &[i32],
) -> Vec<ValidationRow> {
    let mut out = Vec::new();
    for f in fits {
        for r in &cells[&(f.setting, f.level)] {
            if !years.contains(&r.year) {
                continue;
            }
            let Some((post, _)) = f.areas.get(&r.area) else {
                continue;
            };
            let e = ctx.expected_of(r.area, r.year, f.setting);
            let mut rng = StreamKey {
                seed,
                run: r.year as u64,
                neighbourhood: r.area as u64,
                year: f.setting.index() as u64,
                purpose: Purpose::Calibration,
            }
            .rng();
            let simulated = predict(
                *post,
                e,
                f.growth,
                (r.year - ctx.first) as f64,
                f.wobble.unwrap_or(model.variation.yearly_sd()),
                DRAWS,
                &mut rng,
            );
            out.push(ValidationRow {
                setting: f.setting,
                level: f.level,
                area: ctx.index.areas[r.area].name.clone(),
                year: r.year,
                observed: r.count,
                simulated,
            });
        }
    }
    out
}

/// Scores by (setting, level) over the held-out years.
fn scores_of(rows: &[ValidationRow]) -> Vec<ScoreRow> {
    let mut by: BTreeMap<(Setting, AreaLevel), Vec<_>> = BTreeMap::new();
    for r in rows {
        by.entry((r.setting, r.level))
            .or_default()
            .push((r.observed, r.simulated));
    }
    by.into_iter()
        .map(|((setting, level), pairs)| {
            let s = score(&pairs);
            ScoreRow {
                setting,
                level,
                areas: s.areas,
                mape: s.mape,
                bias: s.bias,
                coverage90: s.coverage,
                note: coverage_note(s.coverage, s.areas),
            }
        })
        .collect()
}

/// SHA-256 of a file, hex.
pub fn sha256_of_file(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path).map_err(|e| CapsimError::io(path, e))?;
    Ok(hex(&Sha256::digest(&bytes)))
}

/// SHA-256 of a geography's neighbourhoods (id, name, people), hex: what a calibration is
/// for.
pub fn geography_sha256(g: &Geography) -> String {
    let mut h = Sha256::new();
    for nb in &g.neighbourhoods {
        h.update(format!("{}\t{}\t{}\n", nb.id, nb.name, nb.population).as_bytes());
    }
    hex(&h.finalize())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What `capsim calibrate --observed` prints: where it wrote, each fit, growth and score.
pub fn summary_lines(c: &LocalCalibration, out: &Path) -> Vec<String> {
    let m = &c.meta;
    let opt = |x: Option<f64>| x.map_or("-".into(), |x| format!("{x:.3}"));
    let mut lines = vec![
        format!(
            "calibrated {} ({} neighbourhoods) to {} (sha256 {}): fitted on {:?}, held out {:?}, in {:.2} s",
            m.geography,
            m.neighbourhoods,
            m.source_file,
            &m.source_sha256[..12],
            m.fit_years,
            m.validation_years,
            c.wall_seconds
        ),
        "setting\tlevel\tareas\tlevel_multiplier\tspread_sd\tdispersion".into(),
    ];
    for f in &m.fit {
        lines.push(format!(
            "{}\t{}\t{}\t{:.3}\t{}\t{:.2}",
            f.setting.id(),
            f.level.id(),
            f.areas,
            f.level_multiplier,
            opt(f.spread),
            f.dispersion
        ));
    }
    if !m.growth.is_empty() {
        lines.push(
            "growth beyond demography, a year (90% interval), and the simulator's trend:".into(),
        );
        for g in &m.growth {
            lines.push(format!(
                "{}\t{}\t{:+.2}% ({:+.2}% to {:+.2}%)\tsimulator {:+.2}%",
                g.setting.id(),
                g.level.id(),
                100.0 * g.growth,
                100.0 * g.growth_lo90,
                100.0 * g.growth_hi90,
                100.0 * g.simulator_trend
            ));
        }
    }
    if !m.validation.is_empty() {
        lines.push("held-out years: setting, level, area-years, MAPE, bias, 90% coverage".into());
        for v in &m.validation {
            lines.push(format!(
                "{}\t{}\t{}\t{:.1}%\t{:+.1}%\t{:.0}%{}",
                v.setting.id(),
                v.level.id(),
                v.areas,
                100.0 * v.mape,
                100.0 * v.bias,
                100.0 * v.coverage90,
                v.note
                    .as_ref()
                    .map_or(String::new(), |n| format!("  ({n})"))
            ));
        }
    }
    lines.push(format!(
        "wrote {}; use it with [calibration] file = \"{}\" in a scenario",
        out.join(CALIBRATION_FILE).display(),
        out.join(CALIBRATION_FILE).display()
    ));
    lines
}
