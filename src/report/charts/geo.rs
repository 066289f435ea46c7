//! What the two maps share (`map_neighbourhoods`, `map_icbs`): points at their
//! coordinates on an equirectangular projection scaled by the cosine of the map's mean
//! latitude (so a degree east is as long on the page as on the ground there, and England
//! is not squashed), circles with area in proportion to population, coloured by budget
//! position on a diverging scale, and the legend. No boundary files: the shape of England
//! shows through its practices.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::*;
use crate::accounts::metric::{FormulaMetric, Metric};
use crate::core::level::Level;

/// One circle of a map.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    pub latitude: f64,
    pub longitude: f64,
    pub population: f64,
    /// Surplus (+) or deficit (-) as a percentage of budget: mean over runs.
    pub position_pct: f64,
}

/// Circles drawn in the legend besides the map's own (two population sizes), so a test
/// counting the SVG's circles knows how many are not areas.
pub const LEGEND_CIRCLES: usize = 2;

/// Why a map cannot be drawn, when the output lacks coordinates.
pub const NO_COORDINATES: &str = "needs coordinates, which only real England's practices carry (the invented presets and imported lists have none): run `--icb CODE` or `--population england`";
/// Why a map cannot be drawn, when the output has no geography table.
pub const NO_GEOGRAPHY: &str =
    "needs the geography table (geography.parquet), which runs write since this capsim";
/// Why a map cannot be drawn, without budgets.
pub const NO_BUDGETS: &str = "needs budgets: a capitation formula";

/// Mean position over runs as a percentage of mean budget: a ratio of means, as the
/// report's other positions.
pub fn position_pct(d: &ReportData, level: Level, area: &str, formula: &str) -> Option<f64> {
    let s = d.scenarios.first()?;
    let y = d.last_year();
    let get = |m| d.get(s, y, level, area, &Metric::formula(m, formula));
    let budget = get(FormulaMetric::Budget)?.mean;
    let position = get(FormulaMetric::Position)?.mean;
    (budget != 0.0).then(|| 100.0 * position / budget)
}

/// The colour of a position on a diverging scale (ColorBrewer RdBu, Brewer 2003, which
/// stays readable for the common colour blindnesses): deficits red, surpluses blue, white
/// at zero, full at `limit` percent either way.
pub fn colour(pct: f64, limit: f64) -> RGBColor {
    const DEFICIT: (f64, f64, f64) = (178.0, 24.0, 43.0);
    const MIDDLE: (f64, f64, f64) = (247.0, 247.0, 247.0);
    const SURPLUS: (f64, f64, f64) = (33.0, 102.0, 172.0);
    let t = (pct / limit.max(1e-9)).clamp(-1.0, 1.0);
    let end = if t < 0.0 { DEFICIT } else { SURPLUS };
    let a = t.abs();
    let mix = |m: f64, e: f64| (m + (e - m) * a).round() as u8;
    RGBColor(
        mix(MIDDLE.0, end.0),
        mix(MIDDLE.1, end.1),
        mix(MIDDLE.2, end.2),
    )
}

/// The colour scale's limit: the largest absolute position, rounded up to a readable
/// step (at least 0.5%), so the scale is symmetric and every point is inside it.
pub fn limit(points: &[Point]) -> f64 {
    let m = points
        .iter()
        .map(|p| p.position_pct.abs())
        .filter(|x| x.is_finite())
        .fold(0.0, f64::max);
    let steps = [0.5, 1.0, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 25.0, 50.0, 100.0];
    steps.into_iter().find(|s| m <= *s).unwrap_or(m.ceil())
}

/// (x, y) on the page's plane: longitude scaled by cos(mean latitude), and latitude.
fn project(p: &Point, cos0: f64) -> (f64, f64) {
    (p.longitude * cos0, p.latitude)
}

/// Draws `points` as a map on `root`: `max_radius` (pixels at SVG size) for the largest
/// population; `what` names the circles in the legend ("neighbourhood", "ICB").
pub fn draw_map<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    k: f64,
    points: &[Point],
    max_radius: f64,
    what: &str,
    formula: &str,
) -> std::result::Result<(), String> {
    let (w, _) = root.dim_in_pixel();
    let legend_width = sz(230.0, k);
    let (map, legend_area) = root.split_horizontally(w.saturating_sub(legend_width));
    let n = points.len().max(1) as f64;
    let lat0 = points.iter().map(|p| p.latitude).sum::<f64>() / n;
    let cos0 = lat0.to_radians().cos();
    let xy: Vec<(f64, f64)> = points.iter().map(|p| project(p, cos0)).collect();
    let ranges = equal_scale(&map, &xy, max_radius * k);
    let chart = ChartBuilder::on(&map)
        .margin(sz(10.0, k))
        .build_cartesian_2d(ranges.0 .0..ranges.0 .1, ranges.1 .0..ranges.1 .1)
        .map_err(err)?;
    let top = points.iter().map(|p| p.population).fold(0.0, f64::max);
    let radius = |pop: f64| {
        let r = max_radius * (pop / top.max(1.0)).sqrt();
        sz(r.max(1.5), k)
    };
    let lim = limit(points);
    // Largest first, so small circles stay visible on top of large ones.
    let mut order: Vec<usize> = (0..points.len()).collect();
    order.sort_by(|a, b| {
        points[*b]
            .population
            .total_cmp(&points[*a].population)
            .then(a.cmp(b))
    });
    let plot = chart.plotting_area();
    for i in order {
        let p = &points[i];
        plot.draw(&Circle::new(
            xy[i],
            radius(p.population),
            colour(p.position_pct, lim).mix(0.9).filled(),
        ))
        .map_err(err)?;
    }
    draw_legend(&legend_area, k, (lim, top, max_radius), what, formula)
}

/// Axis ranges holding every point (with room for the largest circle) at one scale in x
/// and y: the narrower span widened about its centre to the area's aspect.
fn equal_scale<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    xy: &[(f64, f64)],
    pad_px: f64,
) -> ((f64, f64), (f64, f64)) {
    let (pw, ph) = area.dim_in_pixel();
    let (pw, ph) = (pw as f64 - 2.0 * pad_px, ph as f64 - 2.0 * pad_px);
    let (mut xlo, mut xhi) = (f64::INFINITY, f64::NEG_INFINITY);
    let (mut ylo, mut yhi) = (f64::INFINITY, f64::NEG_INFINITY);
    for &(x, y) in xy {
        xlo = xlo.min(x);
        xhi = xhi.max(x);
        ylo = ylo.min(y);
        yhi = yhi.max(y);
    }
    if !xlo.is_finite() {
        return ((0.0, 1.0), (0.0, 1.0));
    }
    let (dx, dy) = ((xhi - xlo).max(0.01), (yhi - ylo).max(0.01));
    // Degrees per pixel: the larger need of the two directions.
    let per_px = (dx / pw.max(1.0)).max(dy / ph.max(1.0));
    let (half_w, half_h) = (
        per_px * (pw + 2.0 * pad_px) / 2.0,
        per_px * (ph + 2.0 * pad_px) / 2.0,
    );
    let (cx, cy) = ((xlo + xhi) / 2.0, (ylo + yhi) / 2.0);
    ((cx - half_w, cx + half_w), (cy - half_h, cy + half_h))
}

/// The colour bar (deficit to surplus, labelled) and two circles for population.
fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    k: f64,
    (lim, top, max_radius): (f64, f64, f64),
    what: &str,
    formula: &str,
) -> std::result::Result<(), String> {
    let font = axis_font(k);
    let x0 = sz(10.0, k) as i32;
    let mut y = sz(30.0, k) as i32;
    let line = sz(18.0, k) as i32;
    for text in [
        "Budget position, year end".to_string(),
        format!("({} formula,", short(formula, 18)),
        "% of budget; mean of runs)".to_string(),
    ] {
        area.draw_text(&text, &font, (x0, y)).map_err(err)?;
        y += line;
    }
    y += sz(6.0, k) as i32;
    let (bar_w, bar_h) = (sz(24.0, k) as i32, sz(180.0, k) as i32);
    let steps = 60;
    for s in 0..steps {
        // Top is the largest surplus, bottom the largest deficit.
        let t = 1.0 - 2.0 * (s as f64 + 0.5) / steps as f64;
        let (a, b) = (y + bar_h * s / steps, y + bar_h * (s + 1) / steps + 1);
        area.draw(&Rectangle::new(
            [(x0, a), (x0 + bar_w, b)],
            colour(t * lim, lim).filled(),
        ))
        .map_err(err)?;
    }
    area.draw(&Rectangle::new(
        [(x0, y), (x0 + bar_w, y + bar_h)],
        BLACK.mix(0.4),
    ))
    .map_err(err)?;
    let label = font.pos(Pos::new(HPos::Left, VPos::Center));
    for (t, text) in [
        (0.0, format!("+{lim}% surplus")),
        (0.5, "0% on budget".to_string()),
        (1.0, format!("-{lim}% deficit")),
    ] {
        let ty = y + (bar_h as f64 * t) as i32;
        area.draw_text(&text, &label, (x0 + bar_w + sz(8.0, k) as i32, ty))
            .map_err(err)?;
    }
    y += bar_h + sz(30.0, k) as i32;
    area.draw_text(&format!("Circle area: {what} population"), &font, (x0, y))
        .map_err(err)?;
    y += line + sz(8.0, k) as i32;
    for pop in [top, top / 4.0] {
        let r = sz(max_radius * (pop / top.max(1.0)).sqrt(), k) as i32;
        let cy = y + r;
        area.draw(&Circle::new(
            (x0 + sz(max_radius, k) as i32, cy),
            r,
            BLACK.mix(0.6),
        ))
        .map_err(err)?;
        area.draw_text(
            &count(pop),
            &label,
            (x0 + 2 * sz(max_radius, k) as i32 + sz(8.0, k) as i32, cy),
        )
        .map_err(err)?;
        y += 2 * r + sz(8.0, k) as i32;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scale_diverges_from_white_at_zero() {
        assert_eq!(colour(0.0, 5.0), RGBColor(247, 247, 247));
        assert_eq!(colour(-5.0, 5.0), RGBColor(178, 24, 43));
        assert_eq!(
            colour(9.0, 5.0),
            RGBColor(33, 102, 172),
            "clamped at the limit"
        );
        let p = |x| Point {
            latitude: 52.0,
            longitude: -1.0,
            population: 1.0,
            position_pct: x,
        };
        assert_eq!(limit(&[p(-0.3), p(0.2)]), 0.5);
        assert_eq!(limit(&[p(-3.2), p(1.0)]), 5.0);
    }

    /// A degree of longitude at 52°N is drawn cos(52°) as long as a degree of latitude.
    #[test]
    fn the_projection_keeps_distances_in_proportion() {
        let p = |lat, lon| Point {
            latitude: lat,
            longitude: lon,
            population: 1.0,
            position_pct: 0.0,
        };
        let c = 52f64.to_radians().cos();
        let (a, b) = (project(&p(52.0, -1.0), c), project(&p(52.0, 0.0), c));
        assert!(((b.0 - a.0) - c).abs() < 1e-12);
        let mut svg = String::new();
        let area = SVGBackend::with_string(&mut svg, (400, 200)).into_drawing_area();
        let ((xlo, xhi), (ylo, yhi)) = equal_scale(&area, &[(0.0, 0.0), (1.0, 1.0)], 0.0);
        // One degree per 200 pixels in both directions.
        assert!(((xhi - xlo) / 400.0 - (yhi - ylo) / 200.0).abs() < 1e-12);
    }
}
