//! The capsim command line: parse, call the library, map errors to exit codes.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

use capsim::datasets::DatasetSource;
use capsim::geography::Preset;
use capsim::run::{run, RunOptions, RunSummary};
use capsim::CapsimError;

#[derive(Parser)]
#[command(
    name = "capsim",
    version,
    about = "Population health and capitation budget simulator for integrated care systems"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Synthesise a population and simulate it year by year; write population, flows and
    /// activity tables (Parquet and CSV) and run.json.
    Run {
        /// Years to simulate.
        #[arg(long, default_value_t = 10)]
        years: u32,
        /// Seed of every random stream.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Worker threads (0 = all cores). Results do not depend on it.
        #[arg(long, default_value_t = 0)]
        threads: usize,
        /// Output folder.
        #[arg(long, default_value = "out")]
        out: PathBuf,
        /// Population preset.
        #[arg(long, value_enum, default_value_t = Preset::Default)]
        population: Preset,
        /// Folder of datasets to use instead of the bundled copy.
        #[arg(long)]
        datasets: Option<PathBuf>,
    },
}

/// Process exit codes, in one place.
#[repr(u8)]
enum Exit {
    Ok = 0,
    Failure = 1,
    BadInput = 2,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run {
            years,
            seed,
            threads,
            out,
            population,
            datasets,
        } => {
            let options = RunOptions {
                seed,
                years,
                threads,
                population,
                datasets: datasets.map_or(DatasetSource::Bundled, DatasetSource::Dir),
                out,
            };
            run_with_progress(&options).map(|s| print_summary(&s, &options))
        }
    };
    match result {
        Ok(()) => ExitCode::from(Exit::Ok as u8),
        Err(e) => {
            eprintln!("capsim: error: {e}");
            ExitCode::from(if e.is_bad_input() {
                Exit::BadInput
            } else {
                Exit::Failure
            } as u8)
        }
    }
}

fn run_with_progress(options: &RunOptions) -> Result<RunSummary, CapsimError> {
    // Hidden automatically when stderr is not a terminal.
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} neighbourhoods {elapsed}")
            .expect("valid template"),
    );
    let result = run(options, &|n| {
        if n > 0 {
            bar.set_length(n as u64)
        } else {
            bar.inc(1)
        }
    });
    bar.finish_and_clear();
    result
}

fn print_summary(s: &RunSummary, options: &RunOptions) {
    let i = &s.info;
    println!(
        "capsim {}: {} population, {} neighbourhoods, {} years, seed {}",
        i.capsim_version,
        i.population.id(),
        i.neighbourhoods,
        i.years,
        i.seed
    );
    println!(
        "people: {} at start, {} at end; births {}, deaths {} over the horizon",
        i.people_at_start, s.people_at_end, s.births, s.deaths
    );
    println!("year 1 activity:");
    for (setting, count, cost) in &s.year_one {
        println!(
            "  {:<24} {:>14}  £{:>8.1}m",
            setting.id(),
            count,
            cost / 1e6
        );
    }
    println!(
        "{} person-years in {:.2} s ({:.1} million person-years/s, {} threads); tables in {}",
        i.person_years,
        i.wall_seconds,
        i.person_years_per_second / 1e6,
        i.threads,
        options.out.display()
    );
}
