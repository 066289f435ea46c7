//! Charts for board papers, drawn with plotters from a run or batch output folder, each
//! as PNG (print resolution) and SVG.
//!
//! Text is drawn with the embedded DejaVu Sans (`assets/fonts`, registered with plotters'
//! `ab_glyph` backend), so PNGs look the same on every machine and nothing asks fontconfig.
//! Colours are the Okabe-Ito palette, which stays distinguishable for the common forms of
//! colour blindness; no chart uses more than eight. Axis numbers read like a board paper:
//! £12.3m, 45k.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::FontStyle;

use crate::core::error::{CapsimError, Result};
use crate::io::tables::{floats, ints, read_parquet, strings};

/// Okabe-Ito colours (Okabe and Ito 2008), black last.
pub const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),   // blue
    RGBColor(230, 159, 0),   // orange
    RGBColor(0, 158, 115),   // bluish green
    RGBColor(204, 121, 167), // reddish purple
    RGBColor(86, 180, 233),  // sky blue
    RGBColor(213, 94, 0),    // vermillion
    RGBColor(240, 228, 66),  // yellow
    RGBColor(0, 0, 0),       // black
];

/// The family name charts ask for: the embedded font is registered under it, and the
/// HTML report defines it with `@font-face`, so SVG text renders with it too.
pub const FONT: &str = "DejaVu Sans";
/// PNG size: 16 x 10 cm at 300 dpi.
const PNG: (u32, u32) = (1890, 1181);
/// SVG size in CSS pixels.
const SVG: (u32, u32) = (960, 600);

static FONTS: Once = Once::new();

fn register_fonts() {
    FONTS.call_once(|| {
        let regular: &'static [u8] = FONT_BYTES;
        let bold: &'static [u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");
        plotters::style::register_font(FONT, FontStyle::Normal, regular)
            .unwrap_or_else(|_| panic!("embedded font is valid"));
        plotters::style::register_font(FONT, FontStyle::Bold, bold)
            .unwrap_or_else(|_| panic!("embedded font is valid"));
    });
}

/// £ with a scale suffix: £1.2bn, £12.3m, £450k, £12.
pub fn money(x: f64) -> String {
    let a = x.abs();
    let sign = if x < 0.0 { "-" } else { "" };
    if a >= 1e9 {
        format!("{sign}£{:.2}bn", a / 1e9)
    } else if a >= 1e6 {
        format!("{sign}£{:.1}m", a / 1e6)
    } else if a >= 1e5 {
        format!("{sign}£{:.0}k", a / 1e3)
    } else if a >= 1e4 {
        format!("{sign}£{:.1}k", a / 1e3)
    } else if a >= 1e3 {
        let n = a.round() as u64;
        format!("{sign}£{},{:03}", n / 1000, n % 1000)
    } else {
        format!("{sign}£{a:.0}")
    }
}

/// A count with a scale suffix: 1.2m, 45k, 950.
pub fn count(x: f64) -> String {
    let a = x.abs();
    let sign = if x < 0.0 { "-" } else { "" };
    if a >= 1e6 {
        format!("{sign}{:.1}m", a / 1e6)
    } else if a >= 1e4 {
        format!("{sign}{:.0}k", a / 1e3)
    } else if a >= 1e3 {
        format!("{sign}{:.1}k", a / 1e3)
    } else {
        format!("{sign}{a:.0}")
    }
}

/// Shortens a label to `n` characters, with an ellipsis.
fn short(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(n - 1).collect::<String>())
    }
}

/// Mean and centiles of one summary row.
#[derive(Debug, Clone, Copy, Default)]
pub struct Stat {
    pub mean: f64,
    pub p5: f64,
    pub p10: f64,
    pub p50: f64,
    pub p90: f64,
    pub p95: f64,
}

/// The first scenario's formula names, from `batch.json` or `run.json`.
fn formulas_of(dir: &Path) -> Vec<String> {
    let read = |name: &str| -> Option<serde_json::Value> {
        serde_json::from_str(&std::fs::read_to_string(dir.join(name)).ok()?).ok()
    };
    let scenario = read("batch.json")
        .map(|v| v["batch"]["scenarios"][0].clone())
        .or_else(|| read("run.json").map(|v| v["scenario"].clone()));
    scenario
        .and_then(|s| s["capitation"]["formula"].as_array().cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|f| {
            f["name"]
                .as_str()
                .or_else(|| f["basis"].as_str())
                .map(String::from)
        })
        .collect()
}

/// One row of `risk.parquet`.
#[derive(Debug, Clone)]
pub struct RiskRow {
    pub scenario: String,
    pub year: i32,
    pub level: String,
    pub area: String,
    pub formula: String,
    pub population: f64,
    pub budget: f64,
    pub systematic: f64,
    pub chance_sd: f64,
}

/// What the charts are drawn from: the summary, sensitivity and risk tables and a
/// population table of an output folder.
#[derive(Debug, Default)]
pub struct ReportData {
    /// Scenarios in output order.
    pub scenarios: Vec<String>,
    /// (scenario, year, level, area, metric) -> statistics.
    pub summary: BTreeMap<(String, i32, String, String, String), Stat>,
    /// (scenario, parameter, low, high).
    pub sensitivity: Vec<(String, String, f64, f64)>,
    pub risk: Vec<RiskRow>,
    /// (year, band, sex, segment, people) of the first scenario's first run, summed.
    pub population: Vec<(i32, String, String, String, f64)>,
    /// Capitation formulas of the first scenario, in configured order.
    pub formulas: Vec<String>,
}

impl ReportData {
    pub fn load(dir: &Path) -> Result<Self> {
        let path = dir.join("summary.parquet");
        let df = read_parquet(&path)?;
        let (sc, lv, ar, me) = (
            strings(&df, &path, "scenario")?,
            strings(&df, &path, "level")?,
            strings(&df, &path, "area")?,
            strings(&df, &path, "metric")?,
        );
        let year = ints(&df, &path, "year")?;
        let cols: Vec<Vec<f64>> = ["mean", "p5", "p10", "p50", "p90", "p95"]
            .iter()
            .map(|c| floats(&df, &path, c))
            .collect::<Result<_>>()?;
        let mut d = ReportData::default();
        for i in 0..sc.len() {
            if !d.scenarios.contains(&sc[i]) {
                d.scenarios.push(sc[i].clone());
            }
            d.summary.insert(
                (
                    sc[i].clone(),
                    year[i],
                    lv[i].clone(),
                    ar[i].clone(),
                    me[i].clone(),
                ),
                Stat {
                    mean: cols[0][i],
                    p5: cols[1][i],
                    p10: cols[2][i],
                    p50: cols[3][i],
                    p90: cols[4][i],
                    p95: cols[5][i],
                },
            );
        }
        let path = dir.join("sensitivity.parquet");
        if path.exists() {
            let df = read_parquet(&path)?;
            let (s, p) = (
                strings(&df, &path, "scenario")?,
                strings(&df, &path, "parameter")?,
            );
            let (lo, hi) = (
                floats(&df, &path, "net_cost_low")?,
                floats(&df, &path, "net_cost_high")?,
            );
            for i in 0..s.len() {
                d.sensitivity
                    .push((s[i].clone(), p[i].clone(), lo[i], hi[i]));
            }
        }
        let path = dir.join("risk.parquet");
        if path.exists() {
            let df = read_parquet(&path)?;
            let (s, l, a, f) = (
                strings(&df, &path, "scenario")?,
                strings(&df, &path, "level")?,
                strings(&df, &path, "area")?,
                strings(&df, &path, "formula")?,
            );
            let y = ints(&df, &path, "year")?;
            let n: Vec<Vec<f64>> = ["population", "budget", "systematic", "chance_sd"]
                .iter()
                .map(|c| floats(&df, &path, c))
                .collect::<Result<_>>()?;
            for i in 0..s.len() {
                d.risk.push(RiskRow {
                    scenario: s[i].clone(),
                    year: y[i],
                    level: l[i].clone(),
                    area: a[i].clone(),
                    formula: f[i].clone(),
                    population: n[0][i],
                    budget: n[1][i],
                    systematic: n[2][i],
                    chance_sd: n[3][i],
                });
            }
        }
        d.formulas = formulas_of(dir);
        let first = d.scenarios.first().cloned().unwrap_or_default();
        let flat = dir.join("population.parquet");
        let hive = dir.join(format!("population/scenario={first}/run=0/part-0.parquet"));
        let path = if flat.exists() { flat } else { hive };
        if path.exists() {
            let df = read_parquet(&path)?;
            let year = ints(&df, &path, "year")?;
            let (b, s, g) = (
                strings(&df, &path, "age_band")?,
                strings(&df, &path, "sex")?,
                strings(&df, &path, "segment")?,
            );
            let people: Vec<f64> = df
                .column("people")
                .and_then(|c| c.cast(&polars::prelude::DataType::Float64))
                .map_err(|e| CapsimError::Write {
                    path: path.clone(),
                    reason: e.to_string(),
                })?
                .f64()
                .map_err(|e| CapsimError::Write {
                    path: path.clone(),
                    reason: e.to_string(),
                })?
                .iter()
                .map(|x| x.unwrap_or(0.0))
                .collect();
            let mut sums: BTreeMap<(i32, String, String, String), f64> = BTreeMap::new();
            for i in 0..year.len() {
                *sums
                    .entry((year[i], b[i].clone(), s[i].clone(), g[i].clone()))
                    .or_default() += people[i];
            }
            d.population = sums
                .into_iter()
                .map(|((y, b, s, g), n)| (y, b, s, g, n))
                .collect();
        }
        Ok(d)
    }

    fn last_year(&self) -> i32 {
        self.summary.keys().map(|k| k.1).max().unwrap_or(1)
    }

    fn system(&self) -> String {
        self.summary
            .keys()
            .find(|k| k.2 == "system")
            .map(|k| k.3.clone())
            .unwrap_or_default()
    }

    fn get(
        &self,
        scenario: &str,
        year: i32,
        level: &str,
        area: &str,
        metric: &str,
    ) -> Option<Stat> {
        self.summary
            .get(&(
                scenario.to_string(),
                year,
                level.to_string(),
                area.to_string(),
                metric.to_string(),
            ))
            .copied()
    }

    /// A system-level metric over the years.
    fn system_series(&self, scenario: &str, metric: &str) -> Vec<(i32, Stat)> {
        let sys = self.system();
        (1..=self.last_year())
            .filter_map(|y| {
                self.get(scenario, y, "system", &sys, metric)
                    .map(|s| (y, s))
            })
            .collect()
    }

    /// The headline (first) formula's name.
    fn formula(&self) -> Option<String> {
        let first = self.scenarios.first()?;
        let sys = self.system();
        let has = |f: &str| {
            self.get(first, 1, "system", &sys, &format!("budget:{f}"))
                .is_some()
        };
        if let Some(f) = self.formulas.first().filter(|f| has(f)) {
            return Some(f.clone());
        }
        self.summary
            .keys()
            .filter(|k| k.0 == *first && k.1 == 1 && k.2 == "system")
            .find_map(|k| k.4.strip_prefix("budget:").map(String::from))
    }

    /// Scenarios with interventions (they have a net cost).
    fn with_interventions(&self) -> Vec<String> {
        self.scenarios
            .iter()
            .filter(|s| !self.system_series(s, "net_cost").is_empty())
            .cloned()
            .collect()
    }

    fn baseline(&self) -> Option<String> {
        let with = self.with_interventions();
        self.scenarios.iter().find(|s| !with.contains(s)).cloned()
    }
}

fn err<E: std::fmt::Debug>(e: E) -> String {
    format!("{e:?}")
}

/// The embedded regular font, for the report's `@font-face`.
pub const FONT_BYTES: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

/// Writes every chart of `data` as `NAME.png` and `NAME.svg` at the paths `path(file)`
/// gives; returns the charts drawn, in order, with their titles.
pub fn write_charts(
    data: &ReportData,
    mut path: impl FnMut(&str) -> Result<std::path::PathBuf>,
) -> Result<Vec<(String, String)>> {
    register_fonts();
    let mut done = Vec::new();
    for (name, title) in charts(data) {
        let svg_path = path(&format!("{name}.svg"))?;
        let png_path = path(&format!("{name}.png"))?;
        {
            let root = SVGBackend::new(&svg_path, SVG).into_drawing_area();
            draw_chart(name, &title, data, &root, 1.0).map_err(|e| chart_err(&svg_path, e))?;
            root.present().map_err(|e| chart_err(&svg_path, err(e)))?;
        }
        {
            let root = BitMapBackend::new(&png_path, PNG).into_drawing_area();
            draw_chart(name, &title, data, &root, PNG.0 as f64 / SVG.0 as f64)
                .map_err(|e| chart_err(&png_path, e))?;
            root.present().map_err(|e| chart_err(&png_path, err(e)))?;
        }
        done.push((name.to_string(), title));
    }
    Ok(done)
}

fn chart_err(path: &Path, e: String) -> CapsimError {
    CapsimError::Write {
        path: path.to_path_buf(),
        reason: format!("drawing chart: {e}"),
    }
}

/// The charts this data supports: (file stem, title).
pub fn charts(d: &ReportData) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    let last = d.last_year();
    if let Some(f) = d.formula() {
        out.push((
            "budget_vs_spend",
            format!("Budget and spend per head by neighbourhood, year {last} ({f} formula)"),
        ));
    }
    let with = d.with_interventions();
    if !with.is_empty() {
        out.push((
            "hospital_vs_community",
            format!(
                "Hospital and community spend by year: baseline and {}",
                with[0]
            ),
        ));
    }
    if d.formula().is_some() {
        out.push((
            "net_position_fan",
            format!(
                "System budget position by year, {}",
                d.scenarios.last().cloned().unwrap_or_default()
            ),
        ));
    }
    if !with.is_empty() {
        out.push((
            "waterfall",
            format!(
                "From year-1 spend to year-{last} spend with {}",
                with.last().cloned().unwrap_or_default()
            ),
        ));
    }
    if !d.sensitivity.is_empty() {
        out.push((
            "tornado",
            format!("What drives net cost: {}", tornado_scenario(d)),
        ));
    }
    if !d.population.is_empty() {
        out.push((
            "population_pyramid",
            format!(
                "Population by age, sex and segment: year 1 and year {}",
                last + 1
            ),
        ));
    }
    if !with.is_empty() {
        out.push((
            "scenario_comparison",
            format!("Net cost against admissions avoided, year {last}"),
        ));
    }
    if !d.risk.is_empty() {
        out.push((
            "position_risk",
            format!("Neighbourhood budget positions, year {last}: systematic and chance"),
        ));
    }
    out
}

fn tornado_scenario(d: &ReportData) -> String {
    // The scenario with the most uncertain parameters.
    let mut best = (0, String::new());
    for s in &d.scenarios {
        let n = d.sensitivity.iter().filter(|x| x.0 == *s).count();
        if n > best.0 {
            best = (n, s.clone());
        }
    }
    best.1
}

/// Font sizes scale with the output so PNG and SVG look alike.
fn sz(base: f64, k: f64) -> u32 {
    (base * k).round() as u32
}

fn draw_chart<DB: DrawingBackend>(
    name: &str,
    title: &str,
    d: &ReportData,
    root: &DrawingArea<DB, Shift>,
    k: f64,
) -> std::result::Result<(), String> {
    root.fill(&WHITE).map_err(err)?;
    let area = root
        .margin(sz(14.0, k), 0, 0, 0)
        .titled(
            title,
            (FONT, sz(20.0, k)).into_font().style(FontStyle::Bold),
        )
        .map_err(err)?;
    match name {
        "budget_vs_spend" => budget_vs_spend(d, &area, k),
        "hospital_vs_community" => hospital_vs_community(d, &area, k),
        "net_position_fan" => fan(d, &area, k),
        "waterfall" => waterfall(d, &area, k),
        "tornado" => tornado(d, &area, k),
        "population_pyramid" => pyramid(d, &area, k),
        "scenario_comparison" => comparison(d, &area, k),
        "position_risk" => position_risk(d, &area, k),
        _ => Ok(()),
    }
}

fn label_font(k: f64) -> TextStyle<'static> {
    (FONT, sz(14.0, k)).into_font().into()
}

fn axis_font(k: f64) -> TextStyle<'static> {
    (FONT, sz(12.0, k)).into_font().into()
}

fn range(values: impl IntoIterator<Item = f64>, zero: bool) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values {
        if v.is_finite() {
            lo = lo.min(v);
            hi = hi.max(v);
        }
    }
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    if zero {
        lo = lo.min(0.0);
        hi = hi.max(0.0);
    }
    let pad = ((hi - lo) * 0.08).max(1e-9);
    (lo - pad, hi + pad)
}

type Plane =
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>;

fn legend<'a, DB: DrawingBackend + 'a>(
    chart: &mut ChartContext<'a, DB, Plane>,
    k: f64,
    pos: SeriesLabelPosition,
) -> std::result::Result<(), String> {
    chart
        .configure_series_labels()
        .position(pos)
        .label_font(axis_font(k))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .draw()
        .map_err(err)
}

fn budget_vs_spend<DB: DrawingBackend>(
    d: &ReportData,
    root: &DrawingArea<DB, Shift>,
    k: f64,
) -> std::result::Result<(), String> {
    let f = d.formula().unwrap_or_default();
    let s = d.scenarios[0].clone();
    let last = d.last_year();
    let mut rows: Vec<(String, f64, f64)> = d
        .summary
        .iter()
        .filter(|(key, _)| {
            key.0 == s
                && key.1 == last
                && key.2 == "neighbourhood"
                && key.4 == format!("budget_per_head:{f}")
        })
        .map(|(key, st)| {
            let spend = d
                .get(&s, last, "neighbourhood", &key.3, "spend_per_head")
                .map_or(f64::NAN, |x| x.mean);
            (key.3.clone(), st.mean, spend)
        })
        .collect();
    rows.sort_by(|a, b| a.2.total_cmp(&b.2));
    let sys = d.system();
    let envelope = d
        .get(&s, last, "system", &sys, &format!("budget_per_head:{f}"))
        .map_or(f64::NAN, |x| x.mean);
    let (lo, hi) = range(
        rows.iter().flat_map(|r| [r.1, r.2]).chain([envelope]),
        false,
    );
    let hi = hi + (hi - lo) * 0.35; // room for the legend
    let n = rows.len() as f64;
    let mut chart = ChartBuilder::on(root)
        .margin(sz(12.0, k))
        .x_label_area_size(sz(50.0, k))
        .y_label_area_size(sz(150.0, k))
        .build_cartesian_2d(lo..hi, -0.5..n - 0.5)
        .map_err(err)?;
    let names: Vec<String> = rows.iter().map(|r| short(&r.0, 22)).collect();
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(rows.len())
        .y_label_formatter(&|y| names.get(y.round() as usize).cloned().unwrap_or_default())
        .x_label_formatter(&|x| money(*x))
        .x_desc("£ per resident (mean over runs); neighbourhoods sorted by spend per head")
        .label_style((FONT, sz(10.0, k)).into_font())
        .axis_desc_style(label_font(k))
        .draw()
        .map_err(err)?;
    chart
        .draw_series(rows.iter().enumerate().map(|(i, r)| {
            Rectangle::new(
                [(lo, i as f64 - 0.38), (r.2, i as f64 + 0.38)],
                PALETTE[4].filled(),
            )
        }))
        .map_err(err)?
        .label("spend per head")
        .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], PALETTE[4].filled()));
    chart
        .draw_series(rows.iter().enumerate().map(|(i, r)| {
            PathElement::new(
                vec![(r.1, i as f64 - 0.45), (r.1, i as f64 + 0.45)],
                ShapeStyle::from(PALETTE[5]).stroke_width(sz(4.0, k)),
            )
        }))
        .map_err(err)?
        .label("budget per head")
        .legend(|(x, y)| {
            PathElement::new(
                vec![(x + 7, y - 6), (x + 7, y + 6)],
                ShapeStyle::from(PALETTE[5]).stroke_width(3),
            )
        });
    chart
        .draw_series(LineSeries::new(
            [(envelope, -0.5), (envelope, n - 0.5)],
            ShapeStyle::from(BLACK).stroke_width(sz(2.0, k)),
        ))
        .map_err(err)?
        .label("system envelope per head")
        .legend(|(x, y)| {
            PathElement::new(vec![(x + 7, y - 6), (x + 7, y + 6)], BLACK.stroke_width(2))
        });
    legend(&mut chart, k, SeriesLabelPosition::LowerRight)
}

fn hospital_vs_community<DB: DrawingBackend>(
    d: &ReportData,
    root: &DrawingArea<DB, Shift>,
    k: f64,
) -> std::result::Result<(), String> {
    let with = d.with_interventions();
    let base = d.baseline().unwrap_or_else(|| d.scenarios[0].clone());
    let scen = with[0].clone();
    let panels = root.split_evenly((1, 2));
    for (panel, (sector, title)) in panels.iter().zip([
        ("acute", "hospital (acute) spend"),
        ("community", "community services spend"),
    ]) {
        let lines = [
            (
                base.clone(),
                d.system_series(&base, &format!("spend.{sector}")),
                PALETTE[0],
            ),
            (
                scen.clone(),
                d.system_series(&scen, &format!("spend.{sector}")),
                PALETTE[1],
            ),
        ];
        let (lo, hi) = range(
            lines
                .iter()
                .flat_map(|l| l.1.iter().flat_map(|p| [p.1.p10, p.1.p90])),
            false,
        );
        let mut chart = year_chart(
            panel,
            Some(title),
            d.last_year(),
            (lo, hi),
            "£ a year: mean, 10th-90th centile band",
            k,
        )?;
        for (name, pts, colour) in lines {
            let mut band: Vec<(f64, f64)> = pts.iter().map(|(y, s)| (*y as f64, s.p90)).collect();
            band.extend(pts.iter().rev().map(|(y, s)| (*y as f64, s.p10)));
            chart
                .draw_series([Polygon::new(band, colour.mix(0.2).filled())])
                .map_err(err)?;
            chart
                .draw_series(LineSeries::new(
                    pts.iter().map(|(y, s)| (*y as f64, s.mean)),
                    colour.stroke_width(sz(3.0, k)),
                ))
                .map_err(err)?
                .label(short(&name, 28))
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 14, y)], colour.stroke_width(3))
                });
        }
        legend(&mut chart, k, SeriesLabelPosition::UpperLeft)?;
    }
    Ok(())
}

/// A chart of money by simulation year, with its axes drawn.
fn year_chart<'a, DB: DrawingBackend + 'a>(
    area: &'a DrawingArea<DB, Shift>,
    caption: Option<&str>,
    years: i32,
    (lo, hi): (f64, f64),
    y_desc: &str,
    k: f64,
) -> std::result::Result<ChartContext<'a, DB, Plane>, String> {
    let mut builder = ChartBuilder::on(area);
    if let Some(c) = caption {
        builder.caption(c, label_font(k));
    }
    let mut chart = builder
        .margin(sz(12.0, k))
        .x_label_area_size(sz(50.0, k))
        .y_label_area_size(sz(80.0, k))
        .build_cartesian_2d(0.5..years as f64 + 0.5, lo..hi)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_labels(years as usize)
        .x_label_formatter(&|x| format!("{:.0}", x))
        .y_label_formatter(&|y| money(*y))
        .x_desc("year")
        .y_desc(y_desc)
        .label_style(axis_font(k))
        .axis_desc_style(label_font(k))
        .draw()
        .map_err(err)?;
    Ok(chart)
}

fn fan<DB: DrawingBackend>(
    d: &ReportData,
    root: &DrawingArea<DB, Shift>,
    k: f64,
) -> std::result::Result<(), String> {
    let f = d.formula().unwrap_or_default();
    let s = d.scenarios.last().cloned().unwrap_or_default();
    let pts = d.system_series(&s, &format!("position:{f}"));
    let last = d.last_year() as f64;
    let (lo, hi) = range(pts.iter().flat_map(|p| [p.1.p5, p.1.p95]), true);
    let mut chart = year_chart(
        root,
        None,
        d.last_year(),
        (lo, hi),
        "budget minus spend (surplus above zero)",
        k,
    )?;
    let band = |lo: fn(&Stat) -> f64, hi: fn(&Stat) -> f64| -> Vec<(f64, f64)> {
        let mut v: Vec<(f64, f64)> = pts.iter().map(|(y, s)| (*y as f64, hi(s))).collect();
        v.extend(pts.iter().rev().map(|(y, s)| (*y as f64, lo(s))));
        v
    };
    type Edge = fn(&Stat) -> f64;
    let bands: [(Edge, Edge, RGBAColor, &str); 2] = [
        (
            |s| s.p5,
            |s| s.p95,
            PALETTE[4].mix(0.35),
            "5th to 95th centile",
        ),
        (
            |s| s.p10,
            |s| s.p90,
            PALETTE[0].mix(0.45),
            "10th to 90th centile",
        ),
    ];
    for (lo, hi, colour, label) in bands {
        chart
            .draw_series([Polygon::new(band(lo, hi), colour.filled())])
            .map_err(err)?
            .label(label)
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], colour.filled()));
    }
    chart
        .draw_series(LineSeries::new(
            pts.iter().map(|(y, s)| (*y as f64, s.p50)),
            BLACK.stroke_width(sz(3.0, k)),
        ))
        .map_err(err)?
        .label("median")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 14, y)], BLACK.stroke_width(3)));
    chart
        .draw_series(LineSeries::new(
            [(0.5, 0.0), (last + 0.5, 0.0)],
            BLACK.mix(0.5).stroke_width(1),
        ))
        .map_err(err)?;
    legend(&mut chart, k, SeriesLabelPosition::LowerLeft)
}

fn waterfall<DB: DrawingBackend>(
    d: &ReportData,
    root: &DrawingArea<DB, Shift>,
    k: f64,
) -> std::result::Result<(), String> {
    let with = d.with_interventions();
    let scen = with.last().cloned().unwrap_or_default();
    let base = d.baseline().unwrap_or_else(|| d.scenarios[0].clone());
    let sys = d.system();
    let last = d.last_year();
    let m =
        |s: &str, y: i32, metric: &str| d.get(s, y, "system", &sys, metric).map_or(0.0, |x| x.mean);
    let spend1 = m(&base, 1, "spend");
    let pop1 = m(&base, 1, "population");
    let popn = m(&base, last, "population");
    let spendn = m(&base, last, "spend");
    let demography = (popn - pop1) * spend1 / pop1.max(1.0);
    let morbidity = spendn - spend1 - demography;
    let effect = m(&scen, last, "spend") - spendn;
    let cost = m(&scen, last, "intervention_cost");
    let shift = m(&scen, last, "funding_shift");
    let steps: Vec<(String, f64, bool)> = vec![
        ("year-1 spend".into(), spend1, true),
        ("demography".into(), demography, false),
        ("morbidity, ageing and prices".into(), morbidity, false),
        ("intervention effect".into(), effect, false),
        ("intervention cost".into(), cost, false),
        (format!("year-{last} total"), spendn + effect + cost, true),
        ("of which funding moved to community".into(), shift, true),
    ];
    let mut level = 0.0;
    let mut bars: Vec<(String, f64, f64, RGBColor)> = Vec::new();
    for (name, v, absolute) in &steps[..6] {
        if *absolute {
            bars.push((name.clone(), 0.0, *v, PALETTE[0]));
            level = *v;
        } else {
            let colour = if *v >= 0.0 { PALETTE[5] } else { PALETTE[2] };
            bars.push((name.clone(), level, level + v, colour));
            level += v;
        }
    }
    // The axis starts near the smallest running total, so that changes of a few per cent
    // show; the first and last bars are drawn from there (the axis is marked as cut).
    let tops: Vec<f64> = bars
        .iter()
        .flat_map(|b| [b.2, if b.1 == 0.0 { b.2 } else { b.1 }])
        .collect();
    let (lo, hi) = range(tops, false);
    let n = bars.len() as f64;
    let mut chart = ChartBuilder::on(root)
        .margin(sz(12.0, k))
        .x_label_area_size(sz(60.0, k))
        .y_label_area_size(sz(80.0, k))
        .build_cartesian_2d(-0.5..n - 0.5, lo..hi)
        .map_err(err)?;
    let names: Vec<String> = bars.iter().map(|b| short(&b.0, 26)).collect();
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(bars.len())
        .x_label_formatter(&|x| names.get(x.round() as usize).cloned().unwrap_or_default())
        .y_label_formatter(&|y| money(*y))
        .y_desc(format!("system spend, £ a year (axis cut; mean over runs; {scen})"))
        .x_desc(format!(
            "funding moved from hospital to community budgets in year {last}: {} (a transfer, not a cost)",
            money(shift)
        ))
        .label_style(axis_font(k))
        .axis_desc_style(label_font(k))
        .draw()
        .map_err(err)?;
    chart
        .draw_series(bars.iter().enumerate().map(|(i, b)| {
            let bottom = if b.1 == 0.0 { lo } else { b.1 };
            Rectangle::new(
                [(i as f64 - 0.35, bottom), (i as f64 + 0.35, b.2)],
                b.3.filled(),
            )
        }))
        .map_err(err)?;
    let text = axis_font(k).pos(Pos::new(HPos::Center, VPos::Bottom));
    chart
        .draw_series(bars.iter().enumerate().map(|(i, b)| {
            let v = if b.1 == 0.0 {
                money(b.2)
            } else {
                format!("{}{}", if b.2 >= b.1 { "+" } else { "" }, money(b.2 - b.1))
            };
            Text::new(v, (i as f64, b.1.max(b.2) + (hi - lo) * 0.01), text.clone())
        }))
        .map_err(err)?;
    Ok(())
}

fn tornado<DB: DrawingBackend>(
    d: &ReportData,
    root: &DrawingArea<DB, Shift>,
    k: f64,
) -> std::result::Result<(), String> {
    let s = tornado_scenario(d);
    let mut rows: Vec<&(String, String, f64, f64)> =
        d.sensitivity.iter().filter(|x| x.0 == s).collect();
    rows.sort_by(|a, b| (b.3 - b.2).abs().total_cmp(&(a.3 - a.2).abs()));
    rows.truncate(10);
    rows.reverse();
    let (lo, hi) = range(rows.iter().flat_map(|r| [r.2, r.3]), false);
    let n = rows.len() as f64;
    let mut chart = ChartBuilder::on(root)
        .margin(sz(12.0, k))
        .x_label_area_size(sz(50.0, k))
        .y_label_area_size(sz(380.0, k))
        .build_cartesian_2d(lo..hi, -0.5..n - 0.5)
        .map_err(err)?;
    let names: Vec<String> = rows
        .iter()
        .map(|r| match r.1.split_once('/') {
            Some((iv, field)) => format!("{} ({})", short(field, 34), short(iv, 18)),
            None => short(&r.1, 50),
        })
        .collect();
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(rows.len())
        .y_label_formatter(&|y| names.get(y.round() as usize).cloned().unwrap_or_default())
        .x_label_formatter(&|x| money(*x))
        .x_desc("cumulative net cost when the parameter is in its lowest tenth (blue) or highest tenth (orange)")
        .label_style(axis_font(k))
        .axis_desc_style(label_font(k))
        .draw()
        .map_err(err)?;
    chart
        .draw_series(rows.iter().enumerate().map(|(i, r)| {
            Rectangle::new(
                [(r.2, i as f64 - 0.35), ((r.2 + r.3) / 2.0, i as f64 + 0.35)],
                PALETTE[0].filled(),
            )
        }))
        .map_err(err)?;
    chart
        .draw_series(rows.iter().enumerate().map(|(i, r)| {
            Rectangle::new(
                [((r.2 + r.3) / 2.0, i as f64 - 0.35), (r.3, i as f64 + 0.35)],
                PALETTE[1].filled(),
            )
        }))
        .map_err(err)?;
    Ok(())
}

fn pyramid<DB: DrawingBackend>(
    d: &ReportData,
    root: &DrawingArea<DB, Shift>,
    k: f64,
) -> std::result::Result<(), String> {
    let years: Vec<i32> = {
        let mut v: Vec<i32> = d.population.iter().map(|p| p.0).collect();
        v.sort_unstable();
        v.dedup();
        vec![v[0], *v.last().unwrap_or(&v[0])]
    };
    let mut bands: Vec<String> = Vec::new();
    for p in &d.population {
        if !bands.contains(&p.1) {
            bands.push(p.1.clone());
        }
    }
    bands.sort_by_key(|b| {
        b.split(['-', '+'])
            .next()
            .and_then(|x| x.parse::<u32>().ok())
            .unwrap_or(0)
    });
    let mut segments: Vec<String> = Vec::new();
    for p in &d.population {
        if !segments.contains(&p.3) {
            segments.push(p.3.clone());
        }
    }
    // A key along the bottom, outside the plots, so it never hides a bar.
    let (top, key) = root.split_vertically(root.dim_in_pixel().1 as i32 - sz(40.0, k) as i32);
    // Entries laid out by the width of their text (about 0.6 em a character).
    let mut x = sz(20.0, k) as i32;
    for (si, seg) in segments.iter().enumerate() {
        let label = seg.replace('_', " ");
        let y = sz(12.0, k) as i32;
        let box_size = sz(14.0, k) as i32;
        key.draw(&Rectangle::new(
            [(x, y), (x + box_size, y + box_size)],
            PALETTE[si % PALETTE.len()].filled(),
        ))
        .map_err(err)?;
        key.draw(&Text::new(
            label.clone(),
            (x + box_size + sz(6.0, k) as i32, y),
            axis_font(k),
        ))
        .map_err(err)?;
        x += box_size + sz(6.0 + 12.0 * 0.62 * label.chars().count() as f64 + 24.0, k) as i32;
    }
    let panels = top.split_evenly((1, 2));
    let max = d
        .population
        .iter()
        .filter(|p| years.contains(&p.0))
        .fold(BTreeMap::<(i32, String, String), f64>::new(), |mut m, p| {
            *m.entry((p.0, p.1.clone(), p.2.clone())).or_default() += p.4;
            m
        })
        .values()
        .fold(0.0f64, |a, b| a.max(*b))
        * 1.05;
    for (panel, year) in panels.iter().zip(&years) {
        let mut chart = ChartBuilder::on(panel)
            .caption(
                format!("start of year {year}: men left, women right"),
                label_font(k),
            )
            .margin(sz(10.0, k))
            .x_label_area_size(sz(45.0, k))
            .y_label_area_size(sz(55.0, k))
            .build_cartesian_2d(-max..max, -0.5..bands.len() as f64 - 0.5)
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(bands.len())
            .y_label_formatter(&|y| bands.get(y.round() as usize).cloned().unwrap_or_default())
            .x_labels(5)
            .x_label_formatter(&|x| count(x.abs()))
            .x_desc("people")
            .label_style(axis_font(k))
            .axis_desc_style(label_font(k))
            .draw()
            .map_err(err)?;
        for (si, seg) in segments.iter().enumerate() {
            let colour = PALETTE[si % PALETTE.len()];
            let mut rects = Vec::new();
            for (bi, band) in bands.iter().enumerate() {
                for (sex, dir) in [("male", -1.0), ("female", 1.0)] {
                    let below: f64 = segments[..si]
                        .iter()
                        .map(|g| {
                            d.population
                                .iter()
                                .filter(|p| p.0 == *year && p.1 == *band && p.2 == sex && p.3 == *g)
                                .map(|p| p.4)
                                .sum::<f64>()
                        })
                        .sum();
                    let here: f64 = d
                        .population
                        .iter()
                        .filter(|p| p.0 == *year && p.1 == *band && p.2 == sex && p.3 == *seg)
                        .map(|p| p.4)
                        .sum();
                    rects.push(Rectangle::new(
                        [
                            (dir * below, bi as f64 - 0.4),
                            (dir * (below + here), bi as f64 + 0.4),
                        ],
                        colour.filled(),
                    ));
                }
            }
            chart.draw_series(rects).map_err(err)?;
        }
    }
    Ok(())
}

fn comparison<DB: DrawingBackend>(
    d: &ReportData,
    root: &DrawingArea<DB, Shift>,
    k: f64,
) -> std::result::Result<(), String> {
    let last = d.last_year();
    let sys = d.system();
    let pts: Vec<(String, Stat, Stat)> = d
        .with_interventions()
        .into_iter()
        .filter_map(|s| {
            let a = d.get(&s, last, "system", &sys, "avoided_admissions")?;
            let c = d.get(&s, last, "system", &sys, "cumulative_net_cost")?;
            Some((s, a, c))
        })
        .collect();
    let (xlo, xhi) = range(pts.iter().flat_map(|p| [p.1.p10, p.1.p90]), true);
    let (ylo, yhi) = range(pts.iter().flat_map(|p| [p.2.p10, p.2.p90]), true);
    let yhi = yhi + (yhi - ylo) * 0.3; // room for the legend above the data
    let mut chart = ChartBuilder::on(root)
        .margin(sz(12.0, k))
        .x_label_area_size(sz(50.0, k))
        .y_label_area_size(sz(80.0, k))
        .build_cartesian_2d(xlo..xhi, ylo..yhi)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_label_formatter(&|x| count(*x))
        .y_label_formatter(&|y| money(*y))
        .x_desc(format!(
            "emergency admissions avoided in year {last} (median, 10th-90th centile)"
        ))
        .y_desc("cumulative net cost (median, 10th-90th)")
        .label_style(axis_font(k))
        .axis_desc_style(label_font(k))
        .draw()
        .map_err(err)?;
    for (i, (name, a, c)) in pts.iter().enumerate() {
        let colour = PALETTE[i % PALETTE.len()];
        let style = colour.stroke_width(sz(2.0, k));
        chart
            .draw_series([ErrorBar::new_horizontal(
                c.p50,
                a.p10,
                a.p50,
                a.p90,
                style,
                sz(10.0, k),
            )])
            .map_err(err)?;
        chart
            .draw_series([ErrorBar::new_vertical(
                a.p50,
                c.p10,
                c.p50,
                c.p90,
                style,
                sz(10.0, k),
            )])
            .map_err(err)?
            .label(short(name, 30))
            .legend(move |(x, y)| Circle::new((x + 7, y), 5, colour.filled()));
        chart
            .draw_series([Circle::new((a.p50, c.p50), sz(6.0, k), colour.filled())])
            .map_err(err)?;
    }
    legend(&mut chart, k, SeriesLabelPosition::UpperRight)
}

fn position_risk<DB: DrawingBackend>(
    d: &ReportData,
    root: &DrawingArea<DB, Shift>,
    k: f64,
) -> std::result::Result<(), String> {
    let f = d.formula().unwrap_or_default();
    let s = d.scenarios[0].clone();
    let last = d.last_year();
    let rows: Vec<&RiskRow> = d
        .risk
        .iter()
        .filter(|r| {
            r.scenario == s && r.year == last && r.level == "neighbourhood" && r.formula == f
        })
        .collect();
    let pct = |v: f64, b: f64| if b != 0.0 { 100.0 * v / b } else { 0.0 };
    let (xlo, xhi) = range(rows.iter().map(|r| r.population), false);
    let (ylo, yhi) = range(
        rows.iter()
            .flat_map(|r| [pct(r.systematic, r.budget), pct(r.chance_sd, r.budget)]),
        true,
    );
    let yhi = yhi + (yhi - ylo) * 0.25; // room for the legend above the data
    let mut chart = ChartBuilder::on(root)
        .margin(sz(12.0, k))
        .x_label_area_size(sz(50.0, k))
        .y_label_area_size(sz(80.0, k))
        .build_cartesian_2d(xlo..xhi, ylo..yhi)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_label_formatter(&|x| count(*x))
        .y_label_formatter(&|y| format!("{y:.1}%"))
        .x_desc("neighbourhood population")
        .y_desc(format!("% of budget ({f} formula)"))
        .label_style(axis_font(k))
        .axis_desc_style(label_font(k))
        .draw()
        .map_err(err)?;
    chart
        .draw_series(rows.iter().map(|r| {
            Circle::new(
                (r.population, pct(r.systematic, r.budget)),
                sz(6.0, k),
                PALETTE[5].filled(),
            )
        }))
        .map_err(err)?
        .label("systematic: mean position relative to the system's")
        .legend(|(x, y)| Circle::new((x + 7, y), 5, PALETTE[5].filled()));
    chart
        .draw_series(rows.iter().map(|r| {
            TriangleMarker::new(
                (r.population, pct(r.chance_sd, r.budget)),
                sz(7.0, k),
                PALETTE[0].filled(),
            )
        }))
        .map_err(err)?
        .label("chance: standard deviation over runs")
        .legend(|(x, y)| TriangleMarker::new((x + 7, y), 5, PALETTE[0].filled()));
    legend(&mut chart, k, SeriesLabelPosition::UpperRight)
}
