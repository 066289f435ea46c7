//! Peak memory of the England comparison: `capsim run --population england --runs 1
//! --no-report` (the five bundled scenarios over real England, 10 years, one run, with the
//! one-way sensitivity analysis), run in this process, then its peak resident set
//! (`VmHWM`, Linux) and CPU seconds, and bytes of peak memory per person at the start.
//! Issue 28 asks for under 1 GiB. Not a timed test: it prints what it measured. Its wall
//! time depends on the machine's load; the peak and the CPU seconds hardly do.
//! `CAPSIM_BENCH_POPULATION=england-invented` (or `invented`) measures another
//! population.

use std::time::Instant;

use capsim::app::batch::{run_batch, BatchOptions};
use capsim::app::run::bundled_comparison;
use capsim::config::scenario::Overrides;
use capsim::data::datasets::{DatasetSource, Datasets};
use capsim::data::geography::{Geography, Preset};

/// A field of `/proc/self/status` in kB (Linux only; `None` elsewhere).
fn status_kb(field: &str) -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = text.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// User and system CPU seconds of this process so far (Linux, at 100 ticks a second).
fn cpu_seconds() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command's closing parenthesis; utime and stime are the 14th and
    // 15th fields of the line, the 12th and 13th after it.
    let rest = &text[text.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / 100.0)
}

fn main() {
    // `cargo bench` passes `--bench`; nothing here takes arguments.
    let population = std::env::var("CAPSIM_BENCH_POPULATION").unwrap_or("england".into());
    let preset = *Preset::ALL
        .iter()
        .find(|p| p.id() == population)
        .unwrap_or_else(|| {
            panic!("population {population}: one of england, invented, england-invented")
        });
    let people = Geography::preset(&Datasets::bundled().unwrap(), preset)
        .unwrap()
        .total_population();
    let before_kb = status_kb("VmRSS:").unwrap_or(0);
    let batch = bundled_comparison(&Overrides {
        runs: Some(1),
        population: Some(preset),
        ..Overrides::default()
    })
    .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let cpu0 = cpu_seconds().unwrap_or(0.0);
    let report = run_batch(
        &batch,
        &BatchOptions {
            out: tmp.path().join("comparison"),
            threads: 0,
            shard: None,
            datasets: DatasetSource::Bundled,
        },
        &|_, _| {},
    )
    .unwrap();
    let wall = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds().unwrap_or(f64::NAN) - cpu0;
    let Some(peak_kb) = status_kb("VmHWM:") else {
        println!("peak memory: not measurable here (no /proc/self/status)");
        return;
    };
    let peak = peak_kb as f64 * 1024.0;
    println!(
        "{population} comparison (5 scenarios, 10 years, 1 run, one-way analysis): \
         {:.0} M people, {} work units, {:.1} M person-years stepped",
        people as f64 / 1e6,
        report.units_run,
        report.person_years as f64 / 1e6
    );
    println!(
        "peak RSS {:.2} GiB ({:.0} MB; {:.0} MB before the run: the geography built to count \
         people), {:.1} bytes per person; {cpu:.0} CPU-s, {wall:.0} s wall",
        peak / (1u64 << 30) as f64,
        peak / 1e6,
        before_kb as f64 * 1024.0 / 1e6,
        peak / people as f64,
    );
}
