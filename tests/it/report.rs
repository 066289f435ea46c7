//! Charts and the HTML report render from a small batch, carry their titles and axis
//! labels, and the report is self-contained: it names every chart file it links, and holds
//! no absolute paths.

use crate::scenarios::write;
use crate::util::capsim;

const BASE: &str = r#"
name = "base"
years = 3
seed = 3
runs = 4
[population]
preset = "invented"
places = ["Saltmouth"]
[capitation]
formula = ["need", "headcount"]
"#;

const WARDS: &str = r#"
name = "wards"
extends = "base.toml"
[[intervention]]
name = "Wards"
target = { segments = ["frailty"], age_min = 65 }
coverage = { start = 0.2, target = 0.5, ramp_years = 1 }
cost_per_enrolled = { dist = "uniform", min = 200, max = 400 }
effects.emergency_admissions = { dist = "interval80", p10 = -0.3, p90 = 0.0 }
funding_shift = { from = "acute", to = "community", share_of_savings = 0.5 }
[intervention.capacity]
places = 30
length_of_stay_days = 7
episodes_per_enrolled = 0.3
wte_per_place = 0.8
[capacity]
target_occupancy = 0.9
"#;

/// The registry: tests read the charts from it rather than a copy of its list.
use capsim::report::charts::{CHARTS, OPTIONAL_INPUT};

/// The maps, which need real England's coordinates: the invented presets' reports name
/// them with the reason instead of drawing them.
pub const MAPS: [&str; 2] = ["map_neighbourhoods", "map_icbs"];

/// The charts a report names as not drawn.
pub fn not_drawn(html: &str) -> Vec<String> {
    html.match_indices("<p class=\"not-drawn\" id=\"")
        .map(|(i, m)| {
            let rest = &html[i + m.len()..];
            rest[..rest.find('"').unwrap()].to_string()
        })
        .collect()
}

/// Every chart is drawn but the maps, which say why: the invented presets have no
/// coordinates.
fn every_chart_but_the_maps(html: &str) {
    assert_eq!(not_drawn(html), MAPS, "only the maps are not drawn");
    let why = capsim::report::charts::geo::NO_COORDINATES;
    for m in MAPS {
        assert!(
            html.contains(&format!("Chart <code>{m}</code> not drawn: {why}.")),
            "{m}"
        );
    }
}

#[test]
fn a_batch_draws_every_chart_and_a_self_contained_report() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "base.toml", BASE);
    write(tmp.path(), "wards.toml", WARDS);
    write(
        tmp.path(),
        "batch.toml",
        "scenarios = [\"base.toml\", \"wards.toml\"]\n",
    );
    let out = capsim(tmp.path(), &["batch", "batch.toml", "--out", "results"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dir = tmp.path().join("results");
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(html.contains(&format!(
        "data-registry=\"{}\"",
        CHARTS.len() - OPTIONAL_INPUT.len()
    )));
    every_chart_but_the_maps(&html);
    // The headline table is a table, and the findings say what was found, in words.
    assert!(html.contains("<table class=\"headlines\">"));
    assert!(
        html.contains("wards: by year 3, on the discounted basis, it costs more than it saves in"),
        "a sentence per intervention scenario"
    );
    assert!(html.contains("QALYs (discounted, cumulative"));
    // Capacity in words (issue 26): beds freed with an interval, places and staff.
    assert!(
        html.contains("wards: frees ") && html.contains("general and acute beds (90% interval"),
        "a capacity sentence"
    );
    assert!(html.contains("places in use on an average day") && html.contains("staff (whole-time"));
    assert!(html.contains("ICER"));
    // Which option to fund: the frontier table and the sentence at the threshold, with
    // the two options (the comparator and one intervention scenario).
    assert!(html.contains("<h2>Which option to fund</h2>"));
    assert!(html.contains("<td>base</td>") && html.contains("reference: "));
    assert!(
        html.contains("At £20,000 per QALY the option with the highest expected net benefit is "),
        "the frontier's sentence"
    );
    assert!(html.contains("for the population over the 3-year horizon (discounted)"));
    let ceaf = std::fs::read_to_string(dir.join("ceaf.csv")).unwrap();
    assert!(ceaf.starts_with("threshold,best_option,prob_best,evpi_per_person,evpi_population,option,option_prob_best,option_mean_nmb,runs"));
    assert_eq!(
        ceaf.lines().count(),
        1 + 101 * 2,
        "two options at 101 thresholds"
    );
    // The Monte Carlo rank correlations sit under the one-way tornado.
    let table = html
        .find("<table class=\"sensitivity\">")
        .expect("rank correlations");
    assert!(html.find("id=\"tornado\"").unwrap() < table);
    assert!(html[table..].contains("Wards/cost_per_enrolled"));
    // Charts of an optional input (a calibration) do not apply to this batch.
    for name in CHARTS
        .iter()
        .filter(|c| !MAPS.contains(c) && !OPTIONAL_INPUT.contains(c))
    {
        let png = std::fs::read(dir.join(format!("charts/{name}.png"))).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "{name}.png is a PNG");
        assert!(png.len() > 20_000, "{name}.png has content");
        let svg = std::fs::read_to_string(dir.join(format!("charts/{name}.svg"))).unwrap();
        assert!(svg.contains("<svg"), "{name}.svg");
        // The report links both files, by relative path, and inlines the chart.
        assert!(
            html.contains(&format!("href=\"charts/{name}.png\"")),
            "{name}"
        );
        assert!(
            html.contains(&format!("href=\"charts/{name}.svg\"")),
            "{name}"
        );
        assert!(html.contains(&format!("id=\"{name}\"")), "{name}");
    }
    // Titles and axis labels are text in the SVGs (so they read and scale).
    let svg = |n: &str| std::fs::read_to_string(dir.join(format!("charts/{n}.svg"))).unwrap();
    for (name, texts) in [
        (
            "budget_vs_spend",
            vec![
                "Budget and cash cost per head",
                "£ per resident",
                "need formula",
            ],
        ),
        (
            "net_position_fan",
            vec!["System budget position", "year", "10th to 90th centile"],
        ),
        (
            "tornado",
            vec![
                "What drives net cost",
                "discounted cumulative net cost",
                "one-way: each parameter at its 10th and 90th centile, others at base case",
                "p10",
                "p90",
                "base case",
            ],
        ),
        (
            "population_pyramid",
            vec!["Population by age, sex and segment", "people", "frailty"],
        ),
        (
            "scenario_comparison",
            vec![
                "Net cost against admissions avoided",
                "emergency admissions avoided",
            ],
        ),
        (
            "position_risk",
            vec!["systematic", "chance", "neighbourhood population"],
        ),
        (
            "waterfall",
            vec![
                "demography",
                "care avoided",
                "care added",
                "programme",
                "set-up",
                "net cost",
            ],
        ),
        (
            "hospital_vs_community",
            vec!["community services care spend", "year"],
        ),
    ] {
        let s = svg(name);
        for t in texts {
            assert!(s.contains(t), "{name}.svg lacks `{t}`");
        }
        // Axis numbers are formatted for a board paper.
        assert!(
            !s.contains("e+") && !s.contains("0000000"),
            "{name}: raw numbers"
        );
    }
    // The waterfall's steps for the scenario sum to its cumulative net cost.
    let d = capsim::report::charts::ReportData::load(&dir).unwrap();
    let steps = capsim::report::charts::waterfall::steps(&d);
    let parts: f64 = steps[4..].iter().map(|s| s.1).sum();
    let (level, sys) = d.top();
    let net = d
        .get(
            "wards",
            d.last_year(),
            level,
            &sys,
            &capsim::accounts::metric::Metric::CumulativeNetCost,
        )
        .unwrap()
        .mean;
    assert!(
        (parts - net).abs() < 1e-6 * net.abs().max(1.0),
        "{parts} vs {net}"
    );
    assert!(steps[4].1 < 0.0 && steps[6].1 > 0.0, "{steps:?}");
    let bvs = svg("budget_vs_spend");
    let thousands = bvs.split('£').skip(1).any(|t| {
        let b = t.as_bytes();
        b.len() > 4
            && b[0].is_ascii_digit()
            && b[1] == b','
            && b[2..5].iter().all(u8::is_ascii_digit)
    });
    assert!(thousands, "money per head as £1,234");
    // Self-contained and relocatable: the font is embedded, no absolute path appears.
    assert!(html.contains("@font-face") && html.contains("base64,"));
    // Standalone SVGs load the font file shipped beside them.
    assert!(dir.join("charts/DejaVuSans.ttf").is_file());
    assert!(svg("tornado").contains("url(DejaVuSans.ttf)"));
    let root = tmp.path().to_string_lossy().to_string();
    assert!(!html.contains(&root), "absolute path in report");
    assert!(!html.contains("file://") && !html.contains("src=\"/"));
    assert!(html.contains(env!("CARGO_PKG_VERSION")));
    assert!(
        html.contains("<td>wards</td>") && html.contains("<td>3</td>"),
        "settings table"
    );
    // `--no-report` leaves them out; `capsim report` draws them again, identically.
    let again = capsim(tmp.path(), &["report", "results"]);
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("report.html")).unwrap(),
        html
    );
    let plain = capsim(
        tmp.path(),
        &[
            "run",
            "base.toml",
            "--runs",
            "1",
            "--out",
            "plain",
            "--no-report",
        ],
    );
    assert!(plain.status.success());
    assert!(!tmp.path().join("plain/report.html").exists());
}

/// A chart the data cannot support is named in the report with the reason, not dropped.
#[test]
fn charts_a_run_cannot_support_are_named_with_the_reason() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "base.toml", BASE);
    let out = capsim(
        tmp.path(),
        &["run", "base.toml", "--runs", "2", "--out", "r"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let html = std::fs::read_to_string(tmp.path().join("r/report.html")).unwrap();
    for name in [
        "hospital_vs_community",
        "waterfall",
        "scenario_comparison",
        "acceptability_frontier",
    ] {
        assert!(
            html.contains(&format!(
                "Chart <code>{name}</code> not drawn: needs an intervention scenario."
            )),
            "{name}"
        );
        assert!(!tmp.path().join(format!("r/charts/{name}.svg")).exists());
    }
    for name in ["budget_vs_spend", "net_position_fan", "population_pyramid"] {
        assert!(html.contains(&format!("<figure id=\"{name}\"")), "{name}");
    }
    // Every chart of the registry is accounted for: drawn or named.
    for name in CHARTS {
        assert!(html.contains(&format!("id=\"{name}\"")), "{name}");
    }
    assert!(html.contains(
        "Chart <code>tornado</code> not drawn: needs an intervention scenario with uncertain parameters."
    ));
    // A folder written before the one-way table existed still has a report, which says why
    // there is no tornado.
    std::fs::remove_file(tmp.path().join("r/one_way.parquet")).unwrap();
    let again = capsim(tmp.path(), &["report", "r"]);
    assert!(again.status.success());
    let html = std::fs::read_to_string(tmp.path().join("r/report.html")).unwrap();
    assert!(
        html.contains("Chart <code>tornado</code> not drawn: needs the one-way table"),
        "{html}"
    );
}

/// `capsim merge` draws the report as `batch` does once the shards are all merged (and
/// not with `--no-report`), so a sharded batch ends with the same report.
#[test]
fn merge_draws_the_report_like_batch() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        "base.toml",
        &BASE.replace("runs = 4", "runs = 2"),
    );
    write(tmp.path(), "batch.toml", "scenarios = [\"base.toml\"]\n");
    let ok = |args: &[&str]| {
        let out = capsim(tmp.path(), args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    for shard in ["0/2", "1/2"] {
        let dir = format!("s{}", &shard[..1]);
        ok(&["batch", "batch.toml", "--shard", shard, "--out", &dir]);
        assert!(!tmp.path().join(&dir).join("report.html").exists());
    }
    ok(&["merge", "s0", "s1", "--out", "merged"]);
    let html = std::fs::read_to_string(tmp.path().join("merged/report.html")).unwrap();
    assert!(html.contains(&format!(
        "data-registry=\"{}\"",
        CHARTS.len() - OPTIONAL_INPUT.len()
    )));
    ok(&["merge", "s0", "s1", "--out", "quiet", "--no-report"]);
    assert!(tmp.path().join("quiet/summary.parquet").exists());
    assert!(!tmp.path().join("quiet/report.html").exists());
}

/// The README's first command (`capsim run`, no file) runs the bundled shift-left
/// comparison, five scenarios, and its report draws every chart of the registry.
#[test]
fn the_first_command_runs_the_bundled_comparison_with_every_chart() {
    let tmp = tempfile::tempdir().unwrap();
    let out = capsim(
        tmp.path(),
        &["run", "--runs", "4", "--years", "3", "--out", "out"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    // The bundled scenarios run one real ICB: every chart is drawn, its neighbourhoods
    // mapped, but the map of England by ICB, which needs more than one.
    assert!(
        stdout.contains(&format!(
            "({} charts)",
            CHARTS.len() - 1 - OPTIONAL_INPUT.len()
        )),
        "{stdout}"
    );
    let html = std::fs::read_to_string(tmp.path().join("out/report.html")).unwrap();
    assert_eq!(not_drawn(&html), ["map_icbs"]);
    assert!(html.contains("<figure id=\"map_neighbourhoods\""));
    for s in [
        "baseline",
        "frailty-virtual-wards",
        "proactive-complex-care",
        "prevention-stable-ltc",
        "all-of-the-above",
    ] {
        assert!(stdout.contains(s), "{s} in the headlines: {stdout}");
    }
    // The subset font keeps the page small enough to e-mail with a board paper.
    assert!(
        html.len() < 1_200_000,
        "report.html is {} bytes",
        html.len()
    );
    assert!(html.contains("@media print") && html.contains("size: A4"));
}
