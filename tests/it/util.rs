//! Helpers shared by the integration tests.

use std::path::{Path, PathBuf};
use std::process::Output;

use capsim::core::rng::{Purpose, StreamKey};
use capsim::data::datasets::{Datasets, BUNDLED};
use capsim::data::geography::{Geography, Preset};
use capsim::engine::population::People;
use capsim::engine::synthesis::synthesise;
use capsim::model::Model;

/// Runs the capsim binary with `args` in `dir`.
pub fn capsim(dir: &Path, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_capsim"))
        .current_dir(dir)
        .args(args)
        .output()
        .expect("capsim runs")
}

/// Runs capsim like [`capsim`] and fails the test, with capsim's stderr, unless it
/// succeeds.
pub fn capsim_ok(dir: &Path, args: &[&str]) -> Output {
    let out = capsim(dir, args);
    assert!(
        out.status.success(),
        "capsim {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Writes the bundled datasets into `dir/datasets` and returns that folder.
pub fn copy_datasets(dir: &Path) -> PathBuf {
    let d = dir.join("datasets");
    std::fs::create_dir_all(&d).unwrap();
    for (name, text) in BUNDLED {
        std::fs::write(d.join(name), text).unwrap();
    }
    d
}

pub fn bundled() -> (Datasets, Model, Geography) {
    let d = Datasets::bundled().expect("bundled datasets");
    let m = Model::new(&d).expect("model");
    // Through `preset`, which numbers the neighbourhoods: random streams are keyed by it.
    let g = Geography::preset(&d, Preset::Invented).expect("default system");
    (d, m, g)
}

/// The starting people of the first `n` neighbourhoods of the default system, in one pool.
pub fn people_of(model: &Model, geography: &Geography, n: usize, seed: u64) -> People {
    let mut all = People::default();
    let mut one = People::default();
    for k in 0..n {
        let mut rng = StreamKey {
            seed,
            run: 0,
            neighbourhood: k as u64,
            year: 0,
            purpose: Purpose::Synthesis,
        }
        .rng();
        synthesise(model, &geography.neighbourhoods[k], &mut one, &mut rng);
        for i in 0..one.len() {
            all.push(
                one.age[i],
                one.sex[i],
                one.imd[i],
                one.segment[i],
                one.risk[i],
            );
        }
    }
    all
}

/// Asserts `observed` lies within `z` standard deviations of `expected`.
pub fn assert_close(what: &str, observed: f64, expected: f64, variance: f64, z: f64) {
    let sd = variance.sqrt();
    assert!(
        (observed - expected).abs() <= z * sd,
        "{what}: observed {observed}, expected {expected} +/- {z} x {sd:.2}"
    );
}

/// What step 1 of the yearly cycle (deaths, out-migration, mothers) did to `people`, with
/// no interventions and no mortality improvement, on the streams `key` gives.
pub struct StepOne {
    pub exits: capsim::engine::simulation::Exits,
    pub keep: Vec<bool>,
    pub mother: Vec<bool>,
    pub presence: Vec<f64>,
    pub dying: Vec<f64>,
}

pub fn step_one(
    model: &Model,
    people: &People,
    key: impl Fn(capsim::core::rng::Purpose) -> capsim::core::rng::StreamKey,
) -> StepOne {
    use capsim::core::rng::Purpose;
    use capsim::engine::simulation::{exits, YearTables};
    let cells = capsim::core::dims::n_exposure_cells(model.segments.len());
    let (mut keep, mut mother) = (Vec::new(), Vec::new());
    let (mut exposure, mut presence, mut dying) =
        (vec![0.0; cells], vec![0.0; cells], vec![0.0; cells]);
    let exits = exits(
        model,
        people,
        &mut keep,
        &mut mother,
        YearTables {
            exposure: &mut exposure,
            presence: &mut presence,
            dying: &mut dying,
        },
        key(Purpose::Exit).hash(),
        key(Purpose::Mothers).hash(),
        None,
        0,
    );
    StepOne {
        exits,
        keep,
        mother,
        presence,
        dying,
    }
}
