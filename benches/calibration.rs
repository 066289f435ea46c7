//! Calibration to observed activity (issue 27): fitting NHS South Yorkshire (QF7, 1.49
//! million people, 175 practices) from the worked example's practice-level file (four
//! years of six settings, 2,968 rows, the last year held out), whole (reading the file,
//! the demographic projection of every neighbourhood, the fits, the validation's draws)
//! and given the projection (the statistics alone). Throughput is people calibrated.
//!
//! `cargo bench --bench calibration`.

use std::path::Path;

use criterion::{Criterion, Throughput};

use capsim::app::calibrate_local::{fit, fit_with, geography_of, LocalOptions};
use capsim::app::calibration_example::{VALIDATE_FROM, YEARS};
use capsim::data::datasets::Datasets;
use capsim::engine::expected::expected_activity;
use capsim::model::Model;

fn benches(c: &mut Criterion) {
    let d = Datasets::bundled().unwrap();
    let model = Model::new(&d).unwrap();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/calibration");
    let mut o = LocalOptions::new(dir.join("observed.csv"), dir.join("unused"));
    o.validate_from = Some(VALIDATE_FROM);
    let target = geography_of(&d, &o).unwrap();
    let people = target.geography.total_population();
    eprintln!(
        "calibrating {} people in {} neighbourhoods",
        people,
        target.geography.neighbourhoods.len()
    );
    let mut group = c.benchmark_group("calibration");
    group.sample_size(10);
    group.throughput(Throughput::Elements(people));
    group.bench_function("qf7_practices_whole", |b| {
        b.iter(|| fit(&model, &target, &o).unwrap())
    });
    let projection = expected_activity(
        &model,
        &target.geography,
        o.seed,
        YEARS.len() as u32,
        o.projection_runs,
        0,
    )
    .unwrap();
    group.bench_function("qf7_practices_given_projection", |b| {
        b.iter(|| fit_with(&model, &target, &o, Some(&projection)).unwrap())
    });
    group.finish();
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    benches(&mut c);
    c.final_summary();
}
