//! The capsim command line: parse, call the library, map errors to exit codes.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

use capsim::app::batch::{headlines, merge, run_batch, BatchOptions, BatchReport};
use capsim::app::calibrate_local::{calibrate_observed, summary_lines, LocalOptions};
use capsim::app::import::{import_gp_lists, ImportOptions};
use capsim::app::run::{run, RunOptions, RunOutcome, RunSummary};
use capsim::app::{Batch, DatasetSource, GpListSources, Overrides, Preset, Shard};
use capsim::CapsimError;

/// Prints a line on stdout. A closed stdout (`capsim ... | head`) is not an error of
/// ours: the reader has what it wanted, so capsim stops quietly with exit code 0. Results
/// are already committed atomically before anything is printed.
macro_rules! say {
    ($($arg:tt)*) => {
        say(format_args!($($arg)*))
    };
}

fn say(line: std::fmt::Arguments) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if let Err(e) = writeln!(out, "{line}").and_then(|_| out.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(Exit::Ok as i32);
        }
        eprintln!("capsim: error: writing to stdout: {e}");
        std::process::exit(Exit::Failure as i32);
    }
}

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

/// Settings that override every scenario, so that a batch can be tried small first.
#[derive(clap::Args, Clone)]
struct Common {
    /// Years to simulate (overrides the scenario files).
    #[arg(long)]
    years: Option<u32>,
    /// Monte Carlo runs (overrides the scenario files).
    #[arg(long)]
    runs: Option<u32>,
    /// Population: an ICB code (QF7), england (every real ICB, from NHS England's published
    /// practices), invented (a small invented ICS) or england-invented (overrides the
    /// scenario files).
    #[arg(long)]
    population: Option<Preset>,
    /// Simulate one real ICB (NHS England's published practices): its sub-ICB locations
    /// as places, its practices grouped into neighbourhoods. By code (QOP) or name
    /// (Greater Manchester); `capsim list icbs` lists them.
    #[arg(long, value_name = "CODE", value_parser = icb_preset, conflicts_with_all = ["population", "geography"])]
    icb: Option<Preset>,
    /// NHS England's practice file (the columns of the ICB allocation tool's data, plain or
    /// gzipped) to build real England from instead of the bundled 2024/25 one.
    #[arg(long, value_name = "FILE", conflicts_with = "geography")]
    practices: Option<PathBuf>,
    /// Geography folder to simulate instead of a preset (written by `capsim import`).
    #[arg(long, value_name = "DIR")]
    geography: Option<PathBuf>,
    /// Seed of every random stream (overrides the scenario files).
    #[arg(long)]
    seed: Option<u64>,
    /// Worker threads (0 = all cores). Results do not depend on it.
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Output folder.
    #[arg(long, default_value = "out", value_parser = output_folder)]
    out: PathBuf,
    /// Folder of datasets to use instead of the bundled copy.
    #[arg(long)]
    datasets: Option<PathBuf>,
    /// Do not draw charts and the HTML report.
    #[arg(long)]
    no_report: bool,
    /// Write every table of a single run as CSV too (by default only summary, budgets,
    /// risk, sensitivity, parameters and formula weights; Parquet always).
    #[arg(long)]
    csv: bool,
}

impl Common {
    fn report(&self) -> Result<(), CapsimError> {
        draw_report(&self.out, self.no_report)
    }

    fn overrides(&self) -> Overrides {
        Overrides {
            years: self.years,
            runs: self.runs,
            population: self.icb.or(self.population),
            geography: self.geography.clone(),
            seed: self.seed,
            practices: self.practices.clone(),
        }
    }

    fn run_options(&self, scenario: Option<PathBuf>) -> RunOptions {
        RunOptions {
            scenario,
            overrides: self.overrides(),
            threads: self.threads,
            datasets: self.datasets(),
            out: self.out.clone(),
            csv: self.csv,
        }
    }

    fn datasets(&self) -> DatasetSource {
        self.datasets
            .clone()
            .map_or(DatasetSource::Bundled, DatasetSource::Dir)
    }
}

#[derive(Subcommand)]
enum Command {
    /// Simulate one scenario. One run writes population, flows, activity, metrics and
    /// summary tables (Parquet; CSV for the tables a person opens, or all with --csv); more runs write the batch layout. With no file, run
    /// the bundled shift-left comparison (scenarios/batch.toml, 30 runs) with its report.
    Run {
        /// Scenario file (TOML).
        scenario: Option<PathBuf>,
        #[command(flatten)]
        common: Common,
    },
    /// Run a batch of scenarios with Monte Carlo runs; resumable and shardable.
    Batch {
        /// Batch file (TOML).
        batch: PathBuf,
        #[command(flatten)]
        common: Common,
        /// Run only the I-th of N slices of the work (0-based), e.g. 3/10.
        #[arg(long)]
        shard: Option<Shard>,
    },
    /// Simulate a scenario and print each place's and neighbourhood's capitated budget
    /// against its spend (last year, first formula); writes budget_table.{parquet,csv}.
    Budget {
        /// Scenario file (TOML); the bundled baseline by default.
        scenario: Option<PathBuf>,
        #[command(flatten)]
        common: Common,
    },
    /// Combine the output folders of a sharded batch.
    Merge {
        /// Shard output folders.
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// Folder to write the merged batch into.
        #[arg(long, value_parser = output_folder)]
        out: PathBuf,
        /// Do not draw charts and the HTML report.
        #[arg(long)]
        no_report: bool,
    },
    /// Turn published data into a geography folder that run, batch and budget simulate.
    Import {
        #[command(subcommand)]
        what: Import,
    },
    /// Draw the charts (PNG and SVG) and the HTML report of a run or batch output folder.
    Report { dir: PathBuf },
    /// Check a scenario or batch file without running it.
    Validate {
        file: PathBuf,
        /// Folder of datasets to check against instead of the bundled copy.
        #[arg(long)]
        datasets: Option<PathBuf>,
    },
    /// Write commented example scenarios and a batch into a folder.
    Init { dir: PathBuf },
    /// List what can be simulated.
    List {
        #[command(subcommand)]
        what: List,
    },
    /// Without --observed: simulate England's first year and print each published
    /// national figure beside the simulated value and their ratio. With --observed FILE
    /// --out DIR: calibrate to your own system (fitted multipliers by area and setting,
    /// growth beyond demography, validation on held-out years) into DIR/calibration.toml,
    /// which a scenario names with `[calibration] file = "..."`.
    Calibrate {
        /// Folder of datasets to use instead of the bundled copy.
        #[arg(long)]
        datasets: Option<PathBuf>,
        /// Observed activity: CSV or Parquet with columns year, level (practice,
        /// neighbourhood or pcn, place, system), area (a code or name of the geography),
        /// setting, count and optionally spend.
        #[arg(long, value_name = "FILE", requires = "out")]
        observed: Option<PathBuf>,
        /// Folder the calibration is written to (with --observed).
        #[arg(long, value_name = "DIR", requires = "observed")]
        out: Option<PathBuf>,
        /// The observed areas' population: an ICB code (QF7, the default), england,
        /// invented or england-invented.
        #[arg(long, requires = "observed")]
        population: Option<Preset>,
        /// The observed areas' ICB, by code or name.
        #[arg(long, value_name = "CODE", value_parser = icb_preset, conflicts_with_all = ["population", "geography"], requires = "observed")]
        icb: Option<Preset>,
        /// A geography folder (written by `capsim import`) instead of a preset.
        #[arg(
            long,
            value_name = "DIR",
            conflicts_with = "population",
            requires = "observed"
        )]
        geography: Option<PathBuf>,
        /// NHS England's practice file to build real England from instead of the bundled one.
        #[arg(
            long,
            value_name = "FILE",
            conflicts_with = "geography",
            requires = "observed"
        )]
        practices: Option<PathBuf>,
        /// Years from this one on are held out: predicted from the fit and scored.
        #[arg(long, value_name = "YEAR", requires = "observed")]
        validate_from: Option<i32>,
        /// Seed of the demographic projection and of the validation's draws.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Worker threads (0 = all cores). Results do not depend on it.
        #[arg(long, default_value_t = 0)]
        threads: usize,
    },
}

#[derive(Subcommand)]
enum List {
    /// Real England's 42 ICBs (NHS England's published practices, 2024/25): code, name,
    /// places (sub-ICB locations), neighbourhoods, practices and registered population.
    Icbs,
}

/// The `--icb` flag: an ICB code or name.
fn icb_preset(s: &str) -> Result<Preset, String> {
    capsim::app::list::icb_preset(s).map_err(|e| e.to_string())
}

#[derive(Subcommand)]
enum Import {
    /// NHS Digital's "Patients Registered at a GP Practice": the single-year-of-age
    /// practice files (male, female) and the practice mapping file, in any order. Systems
    /// are ICBs, places sub-ICB locations, neighbourhoods PCNs.
    GpLists {
        /// The files, recognised by their columns.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Geography folder to write.
        #[arg(long, value_parser = output_folder)]
        out: PathBuf,
        /// Keep only this ICB (ICB_CODE); repeat for more. All by default.
        #[arg(long, value_name = "CODE")]
        icb: Vec<String>,
        /// Practice deprivation: a practice code and an IMD score or quintile.
        #[arg(long, value_name = "FILE")]
        deprivation: Option<PathBuf>,
    },
}

/// Draws the charts and report when `out` has a summary, unless turned off.
fn draw_report(out: &std::path::Path, no_report: bool) -> Result<(), CapsimError> {
    if no_report || !out.join("summary.parquet").exists() {
        return Ok(());
    }
    let r = capsim::app::report(out)?;
    say!(
        "report: {} ({} charts)",
        out.join(capsim::app::REPORT).display(),
        r.drawn()
    );
    Ok(())
}

/// Process exit codes, in one place.
#[repr(u8)]
enum Exit {
    Ok = 0,
    Failure = 1,
    BadInput = 2,
}

/// An output folder: a path that is a folder or does not exist yet. An existing file is
/// refused as a bad argument (exit 2), like every other, before any work.
fn output_folder(s: &str) -> Result<PathBuf, String> {
    let p = PathBuf::from(s);
    if p.exists() && !p.is_dir() {
        return Err(format!("{s} is a file; give a folder (new or existing)"));
    }
    Ok(p)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        // No file: the bundled shift-left comparison, the README's first command.
        Command::Run {
            scenario: None,
            common,
        } => capsim::app::run::bundled_comparison(&common.overrides())
            .and_then(|b| {
                let options = BatchOptions {
                    out: common.out.clone(),
                    threads: common.threads,
                    shard: None,
                    datasets: common.datasets(),
                };
                with_progress("work units", |p| run_batch(&b, &options, p))
            })
            .and_then(|r| print_batch(&r, &common.out))
            .and_then(|_| common.report()),
        Command::Run { scenario, common } => {
            let options = common.run_options(scenario);
            with_progress("neighbourhoods", |p| run(&options, p))
                .and_then(|o| match o {
                    RunOutcome::Single(s) => {
                        print_summary(&s, &options);
                        Ok(())
                    }
                    RunOutcome::Batch(r) => print_batch(&r, &common.out),
                })
                .and_then(|_| common.report())
        }
        Command::Batch {
            batch,
            common,
            shard,
        } => Batch::load(&batch)
            .and_then(|mut b| {
                b.apply(&common.overrides())?;
                let options = BatchOptions {
                    out: common.out.clone(),
                    threads: common.threads,
                    shard,
                    datasets: common.datasets(),
                };
                with_progress("work units", |p| run_batch(&b, &options, p))
            })
            .and_then(|r| print_batch(&r, &common.out))
            .and_then(|_| common.report()),
        Command::Budget { scenario, common } => {
            let options = common.run_options(scenario);
            options.scenario().and_then(|s| {
                let formula = s.capitation.formula[0].name();
                with_progress("neighbourhoods", |p| run(&options, p))?;
                for line in capsim::app::batch::budget_table(&common.out, &formula)? {
                    say!("{line}");
                }
                common.report()
            })
        }
        Command::Merge {
            dirs,
            out,
            no_report,
        } => merge(&dirs, &out).and_then(|(n, summarised)| {
            say!("merged {n} work units into {}", out.display());
            if summarised {
                print_headlines(&out)?;
                draw_report(&out, no_report)
            } else {
                say!(
                    "some work units are still missing: the summary is written once all are merged"
                );
                Ok(())
            }
        }),
        Command::Import {
            what:
                Import::GpLists {
                    files,
                    out,
                    icb,
                    deprivation,
                },
        } => import(files, out, icb, deprivation),
        Command::Report { dir } => capsim::app::report(&dir).map(|r| {
            say!(
                "wrote {} and {} charts in {}",
                dir.join(capsim::app::REPORT).display(),
                r.drawn(),
                dir.join(capsim::app::CHARTS).display()
            )
        }),
        Command::Validate { file, datasets } => capsim::app::batch::validate(
            &file,
            &datasets.map_or(DatasetSource::Bundled, DatasetSource::Dir),
        )
        .map(|lines| lines.iter().for_each(|l| say!("{l}"))),
        Command::Calibrate {
            datasets,
            observed: Some(observed),
            out: Some(out),
            population,
            icb,
            geography,
            practices,
            validate_from,
            seed,
            threads,
        } => {
            let mut o = LocalOptions::new(observed, out);
            o.preset = icb.or(population).unwrap_or(o.preset);
            o.geography = geography;
            o.real.practices = practices;
            o.validate_from = validate_from;
            o.seed = seed;
            o.threads = threads;
            o.datasets = datasets.map_or(DatasetSource::Bundled, DatasetSource::Dir);
            calibrate_observed(&o)
                .map(|c| summary_lines(&c, &o.out).iter().for_each(|l| say!("{l}")))
        }
        Command::Calibrate { datasets, .. } => capsim::app::calibrate::calibrate(
            &datasets.map_or(DatasetSource::Bundled, DatasetSource::Dir),
        )
        .map(|c| say!("{c}")),
        Command::List { what: List::Icbs } => list_icbs(),
        Command::Init { dir } => capsim::app::init::init(&dir).map(|files| {
            for f in files {
                say!("wrote {}", f.display());
            }
        }),
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

/// `capsim import gp-lists`: a geography folder from NHS Digital's practice files.
fn import(
    files: Vec<PathBuf>,
    out: PathBuf,
    icbs: Vec<String>,
    deprivation: Option<PathBuf>,
) -> Result<(), CapsimError> {
    import_gp_lists(&ImportOptions {
        sources: GpListSources {
            files,
            icbs,
            deprivation,
        },
        out: out.clone(),
    })
    .map(|r| {
        say!(
            "imported {} practices ({} without a PCN, {} with England's deprivation shares): systems {}, places {}, neighbourhoods {}, people {}, in {:.2} s",
            r.practices,
            r.unallocated_practices,
            r.practices_without_deprivation,
            r.systems,
            r.places,
            r.neighbourhoods,
            r.people,
            r.wall_seconds
        );
        say!("geography in {}; simulate it with --geography {}", out.display(), out.display());
    })
}

/// `capsim list icbs`: England's real ICBs, tab-separated.
fn list_icbs() -> Result<(), CapsimError> {
    capsim::app::list::icbs().map(|rows| {
        say!("code\tname\tplaces\tneighbourhoods\tpractices\tpopulation");
        for r in rows {
            say!(
                "{}\t{}\t{}\t{}\t{}\t{}",
                r.code,
                r.name,
                r.places,
                r.neighbourhoods,
                r.practices,
                r.population
            );
        }
    })
}

/// Runs `f` with a progress bar on stderr (hidden when stderr is not a terminal).
fn with_progress<T>(
    what: &str,
    f: impl FnOnce(&(dyn Fn(usize, usize) + Sync)) -> Result<T, CapsimError>,
) -> Result<T, CapsimError> {
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template(&format!("{{bar:40}} {{pos}}/{{len}} {what} {{elapsed}}"))
            .expect("valid template"),
    );
    let result = f(&|total, done| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    });
    bar.finish_and_clear();
    result
}

fn print_batch(r: &BatchReport, out: &std::path::Path) -> Result<(), CapsimError> {
    say!(
        "{} of {} work units run, {} already complete; {:.0} million person-years in {:.1} s ({:.1} million person-years/s)",
        r.units_run,
        r.units_total,
        r.units_skipped,
        r.person_years as f64 / 1e6,
        r.wall_seconds,
        r.person_years as f64 / r.wall_seconds.max(1e-9) / 1e6
    );
    if r.summarised {
        print_headlines(out)
    } else {
        say!("this shard is done; when every shard is, combine them with `capsim merge`");
        Ok(())
    }
}

fn print_headlines(out: &std::path::Path) -> Result<(), CapsimError> {
    for line in headlines(out)? {
        say!("{line}");
    }
    say!("results in {}", out.display());
    Ok(())
}

fn print_summary(s: &RunSummary, options: &RunOptions) {
    let i = &s.info;
    let sc = &i.scenario;
    say!(
        "capsim {}: scenario {}, {}, {} neighbourhoods, {} years, seed {}",
        i.capsim_version,
        sc.name,
        sc.population.label(),
        i.neighbourhoods,
        sc.years,
        sc.seed
    );
    say!(
        "people: {} at start, {} at end; births {}, deaths {} over the horizon",
        i.people_at_start,
        s.people_at_end,
        s.births,
        s.deaths
    );
    say!("year 1 activity:");
    for (setting, count, cost) in &s.year_one {
        say!(
            "  {:<24} {:>14}  £{:>8.1}m",
            setting.id(),
            count,
            cost / 1e6
        );
    }
    say!(
        "{} person-years in {:.2} s ({:.1} million person-years/s, {} threads); tables in {}",
        i.person_years,
        i.wall_seconds,
        i.person_years_per_second / 1e6,
        i.threads,
        options.out.display()
    );
}
