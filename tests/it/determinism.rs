//! Same seed, same bytes, whatever the thread count.

use std::collections::BTreeMap;
use std::path::Path;

use capsim::app::run::{run, RunOptions};

fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "csv" || e == "parquet"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect()
}

#[test]
fn output_bytes_do_not_depend_on_threads() {
    let tmp = tempfile::tempdir().unwrap();
    let mut outputs = Vec::new();
    for threads in [1, 2, 7] {
        let out = tmp.path().join(format!("t{threads}"));
        let options = RunOptions {
            // Every table as CSV too, so every byte written is compared.
            csv: true,
            ..RunOptions::baseline(11, 2, threads, out.clone())
        };
        run(&options, &|_, _| {}).unwrap();
        let f = files(&out);
        // Every per-run table, the summary and the need formula's weights, each as
        // Parquet and CSV.
        let tables = capsim::io::tables::RunTable::COUNT + 2;
        assert_eq!(f.len(), 2 * tables, "{:?}", f.keys());
        outputs.push(f);
    }
    assert_eq!(outputs[0], outputs[1], "1 vs 2 threads");
    assert_eq!(outputs[0], outputs[2], "1 vs 7 threads");
}

#[test]
fn another_seed_gives_other_results() {
    let (_, model, geography) = crate::util::bundled();
    let a = capsim::engine::simulation::simulate_neighbourhood(
        &model,
        &geography,
        0,
        &capsim::engine::simulation::Plan::baseline(capsim::engine::simulation::SimConfig::new(
            1, 0, 1,
        )),
        &mut Default::default(),
    );
    let b = capsim::engine::simulation::simulate_neighbourhood(
        &model,
        &geography,
        0,
        &capsim::engine::simulation::Plan::baseline(capsim::engine::simulation::SimConfig::new(
            2, 0, 1,
        )),
        &mut Default::default(),
    );
    assert_ne!(a, b);
}
