//! Regenerates the worked example of calibration: `observed.csv` (counts drawn from a
//! known "true" NHS South Yorkshire, `capsim::app::calibration_example::TRUTH`) and
//! `truth.csv` (every true multiplier) in this folder.
//!
//! ```sh
//! cargo run --release --example calibration            # seed 1, into examples/calibration
//! cargo run --release --example calibration -- DIR 7   # another folder and seed
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use capsim::app::calibrate_local::{geography_of, LocalOptions};
use capsim::app::calibration_example::{write_example, YEARS};
use capsim::data::datasets::Datasets;
use capsim::engine::expected::expected_activity;
use capsim::model::Model;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().unwrap_or_else(|| "examples/calibration".into()));
    let seed: u64 = match args.next().map(|s| s.parse()) {
        None => 1,
        Some(Ok(s)) => s,
        Some(Err(_)) => {
            eprintln!("usage: calibration [DIR] [SEED]; the seed is a whole number");
            return ExitCode::from(2);
        }
    };
    let run = || -> capsim::Result<()> {
        let d = Datasets::bundled()?;
        let model = Model::new(&d)?;
        let o = LocalOptions::new(dir.join("observed.csv"), dir.clone());
        let target = geography_of(&d, &o)?;
        let expected = expected_activity(
            &model,
            &target.geography,
            o.seed,
            YEARS.len() as u32,
            o.projection_runs,
            0,
        )?;
        write_example(&target, &expected, seed, &dir)
    };
    match run() {
        Ok(()) => {
            println!(
                "wrote {}/observed.csv and truth.csv (seed {seed})",
                dir.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("calibration example: {e}");
            ExitCode::from(if e.is_bad_input() { 2 } else { 1 })
        }
    }
}
