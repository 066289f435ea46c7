//! `capsim report`: charts and one self-contained HTML page from an output folder.
//!
//! The page inlines every chart as SVG, with the embedded font defined by `@font-face`, so
//! it opens offline and looks the same everywhere; it links each chart's PNG and SVG file
//! by relative path, and holds the headline table, the scenarios' settings and seeds, and
//! the capsim version. A small script marks on `<body>` how many charts rendered, which
//! the browser check in `.ci/run` reads.

use std::fmt::Write as _;
use std::path::Path;

use base64::Engine;

use crate::core::error::{CapsimError, Result};
use crate::io::areas::{disagreements_frame, validation_frame, ValidationRow};
use crate::io::tables::{write_frame, Layout, Staging};
use crate::report::charts::{tornado, write_charts, Outcome, ReportData, FONT, PAGE_FONT_BYTES};
use crate::report::headline::{findings, headlines, note, COLUMNS};

/// Folder of the charts inside an output folder.
pub const CHARTS: &str = "charts";
/// The font file written beside the charts, which standalone SVGs load.
pub const FONT_FILE: &str = "DejaVuSans.ttf";
/// The report's file name.
pub const REPORT: &str = "report.html";
/// The validation table's file stem, written beside the report for real England.
pub const VALIDATION: &str = "validation";
/// The published-against-estimated table's file stem, written beside the report when the
/// first scenario has both formulas.
pub const PUBLISHED_VS_ESTIMATED: &str = "published_vs_estimated";

/// What a report call wrote.
#[derive(Debug, Clone)]
pub struct Report {
    /// Every chart of the registry, with its title or why it was not drawn.
    pub charts: Vec<(&'static str, Outcome)>,
}

impl Report {
    /// The charts drawn.
    pub fn drawn(&self) -> usize {
        self.charts
            .iter()
            .filter(|(_, o)| matches!(o, Outcome::Drawn(_)))
            .count()
    }
}

/// Writes `charts/*.{png,svg}` and `report.html` into `dir`, atomically.
pub fn report(dir: &Path) -> Result<Report> {
    let data = ReportData::load(dir)?;
    let mut staging = Staging::named(dir, "report")?;
    let mut svgs = Vec::new();
    let charts = write_charts(&data, |file| {
        let p = staging.path(&format!("{CHARTS}/{file}"))?;
        if file.ends_with(".svg") {
            svgs.push(p.clone());
        }
        Ok(p)
    })?;
    // The font once beside the charts, for the standalone SVG files.
    let font = staging.path(&format!("{CHARTS}/{FONT_FILE}"))?;
    std::fs::write(&font, PAGE_FONT_BYTES).map_err(|e| CapsimError::io(&font, e))?;
    let mut inline = Vec::new();
    for p in &svgs {
        let text = std::fs::read_to_string(p).map_err(|e| CapsimError::io(p, e))?;
        // Inline copies use the page's @font-face; the XML declaration is dropped.
        let body = match text.find("<svg") {
            Some(i) => text[i..].to_string(),
            None => text.clone(),
        };
        // Standalone files load the font file beside them.
        if let Some(end) = body.find('>') {
            let standalone = format!(
                "{}<style>@font-face {{ font-family: \"{FONT}\"; src: url({FONT_FILE}); }}</style>{}",
                &body[..=end],
                &body[end + 1..]
            );
            std::fs::write(p, standalone).map_err(|e| CapsimError::io(p, e))?;
        }
        inline.push(body);
    }
    let checks = crate::report::validation::validation(&data);
    if !checks.is_empty() {
        write_frame(
            &mut staging,
            &Layout::Flat,
            VALIDATION,
            &validation_frame(&checks)?,
        )?;
    }
    if let Some((p, e, rows)) = crate::report::validation::disagreements(&data) {
        write_frame(
            &mut staging,
            &Layout::Flat,
            PUBLISHED_VS_ESTIMATED,
            &disagreements_frame(&p, &e, &rows)?,
        )?;
    }
    let html = page(dir, &data, &charts, &inline, &checks)?;
    let path = staging.path(REPORT)?;
    std::fs::write(&path, html).map_err(|e| CapsimError::io(&path, e))?;
    staging.commit()?;
    Ok(Report { charts })
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The scenarios' settings, from `batch.json` or `run.json`, without file paths.
fn settings(dir: &Path) -> Vec<[String; 7]> {
    let read = |name: &str| -> Option<serde_json::Value> {
        serde_json::from_str(&std::fs::read_to_string(dir.join(name)).ok()?).ok()
    };
    let scenarios: Vec<serde_json::Value> = if let Some(v) = read("batch.json") {
        v["batch"]["scenarios"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    } else if let Some(v) = read("run.json") {
        vec![v["scenario"].clone()]
    } else {
        Vec::new()
    };
    scenarios
        .iter()
        .map(|s| {
            let list = |v: &serde_json::Value, key: &str| -> String {
                v.as_array()
                    .map(|a| {
                        a.iter()
                            .map(|x| {
                                x[key]
                                    .as_str()
                                    .or_else(|| x["basis"].as_str())
                                    .unwrap_or("")
                                    .to_string()
                            })
                            .collect::<Vec<_>>()
                            .join(", ")
                    })
                    .unwrap_or_default()
            };
            [
                s["name"].as_str().unwrap_or("").to_string(),
                s["population"]["preset"].as_str().unwrap_or("").to_string(),
                s["years"].to_string(),
                s["runs"].to_string(),
                s["seed"].to_string(),
                list(&s["interventions"], "name"),
                list(&s["capitation"]["formula"], "name"),
            ]
        })
        .collect()
}

/// Under the tornado: the Monte Carlo runs' rank correlations of its scenario's
/// parameters with discounted net cost, strongest first, every parameter varying at once.
fn rank_correlations(h: &mut String, data: &ReportData) {
    let Some(scenario) = tornado::scenario(data) else {
        return;
    };
    let mut rows: Vec<_> = data
        .sensitivity
        .iter()
        .filter(|r| r.scenario == scenario)
        .collect();
    if rows.is_empty() {
        return;
    }
    rows.sort_by(|a, b| b.spearman.abs().total_cmp(&a.spearman.abs()));
    rows.truncate(10);
    let _ = writeln!(
        h,
        "<p>Over the Monte Carlo runs of {}, every parameter varying at once: each parameter's rank correlation with {} (Spearman), and its partial rank correlation given the other parameters (PRCC; blank with too few runs).</p>\n<table class=\"sensitivity\">\n<tr><th>parameter</th><th>Spearman</th><th>PRCC</th></tr>",
        escape(&scenario),
        escape(&rows[0].outcome.name().replace('_', " "))
    );
    let num = |v: f64| {
        if v.is_finite() {
            format!("{v:.2}")
        } else {
            String::new()
        }
    };
    for r in rows {
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&r.parameter),
            num(r.spearman),
            num(r.prcc)
        );
    }
    h.push_str("</table>\n");
}

/// One table: a header row, then the rows, every cell escaped.
fn table<const N: usize>(h: &mut String, class: &str, columns: &[String], rows: &[[String; N]]) {
    let _ = write!(h, "<table class=\"{class}\">\n<tr>");
    for c in columns {
        let _ = write!(h, "<th>{}</th>", escape(c));
    }
    h.push_str("</tr>\n");
    for row in rows {
        h.push_str("<tr>");
        for cell in row {
            let _ = write!(h, "<td>{}</td>", escape(cell));
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</table>\n");
}

/// Which calibration the runs used, its fits and growth, and how well it predicted the
/// years it held out (with the calibration chart).
fn calibration_section(h: &mut String, data: &ReportData) {
    let Some(c) = &data.calibration else {
        return;
    };
    let _ = writeln!(h, "<h2>Calibration</h2>");
    let Some(m) = &c.meta else {
        let _ = writeln!(
            h,
            "<p>The runs used the calibration <code>{}</code>, which could not be read when this report was drawn.</p>",
            escape(&c.file)
        );
        return;
    };
    let years = |y: &[i32]| {
        y.iter()
            .map(|y| y.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let _ = writeln!(
        h,
        "<p>The runs used the calibration <code>{}</code> of {}: fitted to <code>{}</code> (SHA-256 {}) in {} ({}), years held out: {}. Its multipliers replace the random persistent multipliers between areas for the neighbourhoods and settings it covers; multipliers are on national rates in {}.</p>",
        escape(&c.file),
        escape(&m.geography),
        escape(&m.source_file),
        escape(&m.source_sha256),
        years(&m.fit_years),
        escape(&m.method),
        if m.validation_years.is_empty() { "none".into() } else { years(&m.validation_years) },
        m.first_year
    );
    let opt = |x: Option<f64>| x.map_or("-".into(), |x| format!("{x:.3}"));
    h.push_str("<table class=\"calibration-fit\">\n<tr><th>setting</th><th>level</th><th>areas</th><th>level multiplier</th><th>spread of true multipliers (sd)</th><th>yearly wobble (sd)</th><th>growth beyond demography a year (90%)</th></tr>\n");
    for f in &m.fit {
        let growth = m
            .growth
            .iter()
            .find(|g| g.setting == f.setting && g.level == f.level)
            .map_or("-".into(), |g| {
                format!(
                    "{:+.2}% ({:+.2}% to {:+.2}%)",
                    100.0 * g.growth,
                    100.0 * g.growth_lo90,
                    100.0 * g.growth_hi90
                )
            });
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{:.3}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            f.setting.id(),
            f.level.id(),
            f.areas,
            f.level_multiplier,
            opt(f.spread),
            opt(f.yearly_sd),
            growth
        );
    }
    h.push_str("</table>\n");
    if m.validation.is_empty() {
        return;
    }
    h.push_str("<p>Out of sample, the held-out years simulated from the fitted model (the calibration chart):</p>\n<table class=\"calibration-validation\">\n<tr><th>setting</th><th>level</th><th>area-years</th><th>mean absolute % error</th><th>bias</th><th>inside simulated 90% interval</th><th>note</th></tr>\n");
    for v in &m.validation {
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{:.1}%</td><td>{:+.1}%</td><td>{:.0}%</td><td>{}</td></tr>",
            v.setting.id(),
            v.level.id(),
            v.areas,
            100.0 * v.mape,
            100.0 * v.bias,
            100.0 * v.coverage90,
            escape(v.note.as_deref().unwrap_or(""))
        );
    }
    h.push_str("</table>\n");
}

/// For real England: the validation against published figures, and the published
/// allocation against the estimated-need one by place (`report::validation`).
fn published_sections(h: &mut String, data: &ReportData, checks: &[ValidationRow]) {
    use crate::report::validation as v;
    if !checks.is_empty() {
        let _ = writeln!(
            h,
            "<h2>Against published figures</h2>\n<p>{}</p>",
            escape(&v::validation_note(data))
        );
        let columns: Vec<String> = v::VALIDATION_COLUMNS
            .iter()
            .map(|c| c.to_string())
            .collect();
        table(h, "validation", &columns, &v::validation_table(checks));
    }
    if let Some((p, e, rows)) = v::disagreements(data) {
        let _ = writeln!(
            h,
            "<h2>Published allocation against estimated need</h2>\n<p class=\"finding\">{}</p>",
            escape(&v::disagreement_sentence(&p, &e, &rows))
        );
        table(
            h,
            "disagreements",
            &v::disagreement_columns(&p, &e),
            &v::disagreement_table(&rows),
        );
        h.push_str("<p class=\"note\">Year 1, first scenario, means over runs; places sorted by the absolute difference. Both formulas share the same envelope.</p>\n");
    }
}

/// The headline table, its note and findings, the capacity sentences and which option to
/// fund.
fn headline_sections(h: &mut String, data: &ReportData) {
    let w = |h: &mut String, s: &str| h.push_str(s);
    w(h, "<h2>Headlines</h2>\n<table class=\"headlines\">\n<tr>");
    for c in COLUMNS {
        let _ = write!(h, "<th>{}</th>", escape(c));
    }
    w(h, "</tr>\n");
    for hl in headlines(&data.rows) {
        let _ = write!(
            h,
            "<tr><td>{} (y{})</td>",
            escape(&hl.scenario),
            hl.last_year
        );
        for cell in hl.cells.iter().chain([&hl.broken_even]) {
            let _ = write!(h, "<td>{}</td>", escape(cell));
        }
        w(h, "</tr>\n");
    }
    w(h, "</table>\n");
    let _ = writeln!(h, "<p class=\"note\">{}</p>", escape(&note(&data.context)));
    for s in findings(&data.rows, &data.context) {
        let _ = writeln!(h, "<p class=\"finding\">{}</p>", escape(&s));
    }
    let capacity = crate::report::capacity::capacity_sentences(&data.rows);
    if !capacity.is_empty() {
        w(h, "<h2>Beds, places and staff</h2>\n");
        for s in capacity {
            let _ = writeln!(h, "<p class=\"finding\">{}</p>", escape(&s));
        }
    }
    if !data.frontier.is_empty() {
        w(
            h,
            "<h2>Which option to fund</h2>\n<table class=\"frontier\">\n<tr>",
        );
        for c in crate::report::incremental::COLUMNS {
            let _ = write!(h, "<th>{}</th>", escape(c));
        }
        w(h, "</tr>\n");
        for row in crate::report::incremental::table(data) {
            w(h, "<tr>");
            for cell in row {
                let _ = write!(h, "<td>{}</td>", escape(&cell));
            }
            w(h, "</tr>\n");
        }
        w(h, "</table>\n<p class=\"note\">Means over Monte Carlo runs of discounted incremental cost and QALYs over the horizon against no intervention; ICERs against the frontier option before, as ratios of means.</p>\n");
        for s in crate::report::incremental::sentences(data) {
            let _ = writeln!(h, "<p class=\"finding\">{}</p>", escape(&s));
        }
    }
}

/// Each chart of the registry inline (or why it does not apply or was not drawn), the
/// tornado followed by its rank correlations.
fn chart_sections(
    h: &mut String,
    data: &ReportData,
    charts: &[(&'static str, Outcome)],
    inline: &[String],
) {
    h.push_str("<h2>Charts</h2>\n");
    let mut svgs = inline.iter();
    for (name, outcome) in charts {
        match outcome {
            Outcome::Drawn(title) => {
                let svg = svgs.next().map_or("", String::as_str);
                let _ = writeln!(
                    h,
                    "<figure id=\"{name}\" class=\"chart\">\n{svg}\n<figcaption>{} (<a href=\"{CHARTS}/{name}.png\">PNG</a>, <a href=\"{CHARTS}/{name}.svg\">SVG</a>)</figcaption>\n</figure>",
                    escape(title)
                );
            }
            Outcome::NotApplicable(why) => {
                let _ = writeln!(
                    h,
                    "<p class=\"not-applicable\" id=\"{name}\">Chart <code>{name}</code> does not apply: it {}.</p>",
                    escape(why)
                );
            }
            Outcome::NotDrawn(why) => {
                let _ = writeln!(
                    h,
                    "<p class=\"not-drawn\" id=\"{name}\">Chart <code>{name}</code> not drawn: {}.</p>",
                    escape(why)
                );
            }
        }
        if *name == "tornado" {
            rank_correlations(h, data);
        }
    }
}

fn page(
    dir: &Path,
    data: &ReportData,
    charts: &[(&'static str, Outcome)],
    inline: &[String],
    checks: &[ValidationRow],
) -> Result<String> {
    let font = base64::engine::general_purpose::STANDARD.encode(PAGE_FONT_BYTES);
    let mut h = String::new();
    let w = |h: &mut String, s: &str| h.push_str(s);
    w(
        &mut h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n",
    );
    let _ = writeln!(
        h,
        "<title>capsim report: {}</title>",
        escape(&data.scenarios.join(", "))
    );
    let _ = writeln!(
        h,
        "<style>@font-face {{ font-family: \"{FONT}\"; src: url(data:font/ttf;base64,{font}) format(\"truetype\"); }}\n\
body {{ font-family: \"{FONT}\", sans-serif; margin: 2em auto; max-width: 1000px; color: #222; }}\n\
figure {{ margin: 2em 0; }} figure svg {{ width: 100%; height: auto; }}\n\
table {{ border-collapse: collapse; font-size: 0.85em; }} td, th {{ border: 1px solid #ccc; padding: 0.2em 0.5em; text-align: left; }}\n\
pre {{ font-size: 0.8em; overflow-x: auto; }}\n\
@page {{ size: A4; margin: 15mm; }}\n\
@media print {{ body {{ margin: 0; max-width: none; font-size: 10pt; }} a {{ color: inherit; text-decoration: none; }}\n\
figure, table, tr, p.finding {{ break-inside: avoid; page-break-inside: avoid; }} h2 {{ break-after: avoid; page-break-after: avoid; }}\n\
figure {{ margin: 0 0 6mm; }} figure svg {{ max-height: 160mm; }} }}</style>"
    );
    let _ = writeln!(
        h,
        "</head>\n<body data-charts=\"pending\" data-registry=\"{}\">",
        charts
            .iter()
            .filter(|(_, o)| !matches!(o, Outcome::NotApplicable(_)))
            .count()
    );
    let _ = writeln!(
        h,
        "<h1>capsim results</h1>\n<p>capsim {}. Scenarios: {}. Money in pounds at the datasets' prices (by default real 2023/24 prices); intervals are centiles over Monte Carlo runs.</p>",
        env!("CARGO_PKG_VERSION"),
        escape(&data.scenarios.join(", "))
    );
    headline_sections(&mut h, data);
    if let Some((person, people)) = data.need_fit {
        let _ = writeln!(
            h,
            "<h2>Capitation formula</h2>\n<p>The <code>need</code> formula is estimated as commissioners could (person-based resource allocation): a regression of each person's cost on age, sex, deprivation and conditions as recorded (incomplete and a year late), fitted on a separate simulated year of {people} people. It explains {:.0}% of the variance of person cost (Dixon et al. 2011: 12% for English practices' patients).</p>",
            100.0 * person
        );
    }
    if let Some((f, r2)) = crate::report::charts::need_fit::neighbourhood_r2(data) {
        let _ = writeln!(
            h,
            "<p>Across neighbourhoods, the <code>{}</code> formula explains {:.0}% of the variance of year-1 spend per head (chart 9; Dixon et al. 2011: 77% for practices).</p>",
            escape(&f),
            100.0 * r2
        );
    }
    if let Some(share) = data.systematic_share() {
        let _ = writeln!(
            h,
            "<p>Of the spread of neighbourhood budget positions (relative to the system's), {:.0}% is systematic: the formula misjudges the same areas in every run. The other {:.0}% is chance, which risk sharing can pool.</p>",
            100.0 * share,
            100.0 * (1.0 - share)
        );
    }
    published_sections(&mut h, data, checks);
    w(&mut h, "<h2>Scenarios</h2>\n<table>\n<tr><th>scenario</th><th>population</th><th>years</th><th>runs</th><th>seed</th><th>interventions</th><th>capitation formulas</th></tr>\n");
    for row in settings(dir) {
        w(&mut h, "<tr>");
        for cell in row {
            let _ = write!(h, "<td>{}</td>", escape(&cell));
        }
        w(&mut h, "</tr>\n");
    }
    w(&mut h, "</table>\n");
    calibration_section(&mut h, data);
    chart_sections(&mut h, data, charts, inline);
    w(
        &mut h,
        "<script>\nwindow.addEventListener('load', function () {\n  var figs = document.querySelectorAll('figure.chart svg');\n  var ok = 0;\n  figs.forEach(function (s) { var b = s.getBoundingClientRect(); if (b.width > 0 && b.height > 0 && s.querySelector('text')) { ok++; } });\n  document.body.setAttribute('data-charts', ok + '/' + figs.length);\n});\n</script>\n</body>\n</html>\n",
    );
    Ok(h)
}
