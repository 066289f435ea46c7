//! Charts for board papers, drawn with plotters from a run or batch output folder, each
//! as PNG (print resolution) and SVG.
//!
//! Each chart is one file in this folder with two functions: `title`, which says whether
//! the data supports the chart (its title) or why not, and `draw`. The registry below
//! lists them in report order; adding a chart is a new file plus one line there, and the
//! report and CI read the count from it.
//!
//! Text is drawn with the embedded DejaVu Sans (`assets/fonts`, registered with plotters'
//! `ab_glyph` backend), so PNGs look the same on every machine and nothing asks fontconfig.
//! Colours are the Okabe-Ito palette, which stays distinguishable for the common forms of
//! colour blindness; no chart uses more than eight. Axis numbers read like a board paper:
//! £12.3m, 45k.

use std::path::Path;
use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::FontStyle;

use crate::core::error::{CapsimError, Result};

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
pub(crate) const PNG: (u32, u32) = (1890, 1181);
/// SVG size in CSS pixels.
pub(crate) const SVG: (u32, u32) = (960, 600);

static FONTS: Once = Once::new();

fn register_fonts() {
    FONTS.call_once(|| {
        let regular: &'static [u8] = FONT_BYTES;
        let bold: &'static [u8] = include_bytes!("../../../assets/fonts/DejaVuSans-Bold.ttf");
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
pub(crate) fn short(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(n - 1).collect::<String>())
    }
}

pub mod data;

mod acceptability;
pub mod acceptability_frontier;
pub mod beds_by_year;
mod budget_vs_spend;
mod calibration_validation;
pub mod ce_plane;
pub mod days_over_beds;
pub mod geo;
mod hospital_vs_community;
pub mod map_icbs;
pub mod map_neighbourhoods;
pub mod need_fit;
mod net_position_fan;
mod population_pyramid;
mod position_risk;
mod quintile_effects;
mod scenario_comparison;
pub mod tornado;
pub mod waterfall;

pub use data::ReportData;

pub(crate) use crate::accounts::summary::{RiskRow, Stat};
pub(crate) use crate::core::care::Sector;

/// Declares the charts, in report order: each name is a module of this folder.
macro_rules! registry {
    ($($chart:ident),* $(,)?) => {
        /// The file stems of every chart, in report order.
        pub const CHARTS: &[&str] = &[$(stringify!($chart)),*];

        /// A chart's title when the data supports it, or why it cannot be drawn.
        fn title_of(name: &str, d: &ReportData) -> std::result::Result<String, &'static str> {
            match name {
                $(stringify!($chart) => $chart::title(d),)*
                _ => Err("not a chart of this capsim"),
            }
        }

        fn draw_of<DB: DrawingBackend>(
            name: &str,
            d: &ReportData,
            area: &DrawingArea<DB, Shift>,
            k: f64,
        ) -> std::result::Result<(), String> {
            match name {
                $(stringify!($chart) => $chart::draw(d, area, k),)*
                _ => Err(format!("`{name}` is not a chart of this capsim")),
            }
        }
    };
}

registry!(
    budget_vs_spend,
    hospital_vs_community,
    net_position_fan,
    waterfall,
    tornado,
    population_pyramid,
    scenario_comparison,
    position_risk,
    need_fit,
    ce_plane,
    acceptability,
    acceptability_frontier,
    quintile_effects,
    map_neighbourhoods,
    map_icbs,
    beds_by_year,
    days_over_beds,
    calibration_validation,
);

/// Charts of an optional input (a calibration): a run without it is not missing them, so
/// they are left out of the report's count of charts to draw rather than "not drawn".
pub const OPTIONAL_INPUT: &[&str] = &["calibration_validation"];

/// What became of each chart of the registry for one output folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Drawn, with its title.
    Drawn(String),
    /// Not drawn, with the reason (e.g. "needs an intervention scenario").
    NotDrawn(&'static str),
    /// A chart of an optional input ([`OPTIONAL_INPUT`]) the run does not have, with what
    /// it needs.
    NotApplicable(&'static str),
}

/// Each registered chart with what the data allows: its title, or why it is not drawn.
pub fn plan(d: &ReportData) -> Vec<(&'static str, Outcome)> {
    CHARTS
        .iter()
        .map(|name| {
            let o = match title_of(name, d) {
                Ok(t) => Outcome::Drawn(t),
                Err(why) if OPTIONAL_INPUT.contains(name) => Outcome::NotApplicable(why),
                Err(why) => Outcome::NotDrawn(why),
            };
            (*name, o)
        })
        .collect()
}

fn err<E: std::fmt::Debug>(e: E) -> String {
    format!("{e:?}")
}

/// The embedded regular font, whole, for drawing PNGs (any label a scenario names).
pub const FONT_BYTES: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");

/// The same font subset to Latin-1 and the punctuation and signs the charts use
/// (`assets/fonts/README.md` says how it was made), for the report's `@font-face` and the
/// standalone SVGs: the whole font made the page over 1 MB, a thirtieth of it is enough,
/// and a character outside it falls back to the reader's sans-serif.
pub const PAGE_FONT_BYTES: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans-Subset.ttf");

/// Writes every chart the data supports as `NAME.png` and `NAME.svg` at the paths
/// `path(file)` gives; returns every registered chart with its outcome, in order.
pub fn write_charts(
    data: &ReportData,
    mut path: impl FnMut(&str) -> Result<std::path::PathBuf>,
) -> Result<Vec<(&'static str, Outcome)>> {
    register_fonts();
    let planned = plan(data);
    for (name, outcome) in &planned {
        let Outcome::Drawn(title) = outcome else {
            continue;
        };
        let svg_path = path(&format!("{name}.svg"))?;
        let png_path = path(&format!("{name}.png"))?;
        {
            let root = SVGBackend::new(&svg_path, SVG).into_drawing_area();
            draw_chart(name, title, data, &root, 1.0).map_err(|e| chart_err(&svg_path, e))?;
            root.present().map_err(|e| chart_err(&svg_path, err(e)))?;
        }
        {
            let root = BitMapBackend::new(&png_path, PNG).into_drawing_area();
            draw_chart(name, title, data, &root, PNG.0 as f64 / SVG.0 as f64)
                .map_err(|e| chart_err(&png_path, e))?;
            root.present().map_err(|e| chart_err(&png_path, err(e)))?;
        }
    }
    Ok(planned)
}

fn chart_err(path: &Path, e: String) -> CapsimError {
    CapsimError::Write {
        path: path.to_path_buf(),
        reason: format!("drawing chart: {e}"),
    }
}

/// Draws one chart with its title on a white page.
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
    draw_of(name, d, &area, k)
}

/// Font sizes scale with the output so PNG and SVG look alike.
pub(crate) fn sz(base: f64, k: f64) -> u32 {
    (base * k).round() as u32
}

pub(crate) fn label_font(k: f64) -> TextStyle<'static> {
    (FONT, sz(14.0, k)).into_font().into()
}

pub(crate) fn axis_font(k: f64) -> TextStyle<'static> {
    (FONT, sz(12.0, k)).into_font().into()
}

pub(crate) fn range(values: impl IntoIterator<Item = f64>, zero: bool) -> (f64, f64) {
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

pub(crate) type Plane =
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>;

pub(crate) fn legend<'a, DB: DrawingBackend + 'a>(
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

/// A plain x-y plot area with the charts' usual margins and label areas.
pub(crate) fn plane<'a, DB: DrawingBackend + 'a>(
    root: &'a DrawingArea<DB, Shift>,
    k: f64,
    (xlo, xhi): (f64, f64),
    (ylo, yhi): (f64, f64),
) -> std::result::Result<ChartContext<'a, DB, Plane>, String> {
    ChartBuilder::on(root)
        .margin(sz(12.0, k))
        .x_label_area_size(sz(50.0, k))
        .y_label_area_size(sz(80.0, k))
        .build_cartesian_2d(xlo..xhi, ylo..yhi)
        .map_err(err)
}

/// A chart of the share of runs (0 to 100%, with room above for the legend) against the
/// price of a QALY up to `top`, its axes drawn and the report's threshold marked: the
/// acceptability curve and frontier share it.
pub(crate) fn share_by_price<'a, DB: DrawingBackend + 'a>(
    root: &'a DrawingArea<DB, Shift>,
    k: f64,
    (top, room): (f64, f64),
    y_desc: &str,
    threshold: f64,
) -> std::result::Result<ChartContext<'a, DB, Plane>, String> {
    let mut chart = plane(root, k, (0.0, top), (0.0, room))?;
    chart
        .configure_mesh()
        .x_label_formatter(&|x| money(*x))
        .y_label_formatter(&|y| {
            if *y <= 1.0 {
                format!("{:.0}%", 100.0 * y)
            } else {
                String::new()
            }
        })
        .x_desc("price of a QALY (£)")
        .y_desc(y_desc)
        .label_style(axis_font(k))
        .axis_desc_style(label_font(k))
        .draw()
        .map_err(err)?;
    chart
        .draw_series(LineSeries::new(
            [(threshold, 0.0), (threshold, 1.0)],
            BLACK.mix(0.5).stroke_width(sz(1.0, k)),
        ))
        .map_err(err)?
        .label(format!("threshold {}", money(threshold)))
        .legend(|(x, y)| {
            PathElement::new(
                vec![(x + 7, y - 6), (x + 7, y + 6)],
                BLACK.mix(0.5).stroke_width(2),
            )
        });
    Ok(chart)
}

/// A chart of money by simulation year, with its axes drawn.
pub(crate) fn year_chart<'a, DB: DrawingBackend + 'a>(
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
