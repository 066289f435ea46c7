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
        // Every per-run table, the summary, the need formula's weights and the
        // geography, each as Parquet and CSV.
        let tables = capsim::io::tables::RunTable::COUNT + 3;
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

/// The yearly loop's fused pass (`live_year`) is steps 1, 2 and 4 one at a time (`exits`,
/// keeping the survivors, `transitions`, `ageing`), bit for bit: the same survivors in the
/// same order with the same attributes, the same deaths, leavers and births, and the same
/// exposure, presence and risk of the dying to the last bit, with and without mortality
/// improvement and a path's factors on death and deterioration. It also counts everyone
/// present at the start into the census.
#[test]
fn fused_pass_is_the_steps_one_at_a_time() {
    use capsim::core::dims::{n_cells, n_demographic_cells, n_exposure_cells};
    use capsim::core::rng::{Purpose, StreamKey};
    use capsim::engine::population::count_into;
    use capsim::engine::simulation::{
        ageing, exits, live_year, transitions, Factors, PersonStreams, Transitions, YearTables,
    };

    let (_, m, g) = crate::util::bundled();
    let start = crate::util::people_of(&m, &g, 3, 7);
    let ns = m.segments.len();
    let key = |purpose| StreamKey {
        seed: 5,
        run: 1,
        neighbourhood: 2,
        year: 3,
        purpose,
    };
    let wobble = |k: usize| -> Vec<f64> {
        (0..n_demographic_cells(ns))
            .map(|c| 0.5 + ((c * k) % 13) as f64 / 8.0)
            .collect()
    };
    let (mortality, deterioration) = (wobble(7), wobble(5));
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    for factors in [
        None,
        Some(Factors {
            mortality: &mortality,
            deterioration: &deterioration,
        }),
    ] {
        for t in [0, 6] {
            let tables = || {
                let c = n_exposure_cells(ns);
                (vec![0.0; c], vec![0.0; c], vec![0.0; c])
            };
            // One step at a time.
            let mut a = start.clone();
            let (mut keep, mut mother) = (Vec::new(), Vec::new());
            let (mut ex_a, mut pr_a, mut dy_a) = tables();
            let e_a = exits(
                &m,
                &a,
                &mut keep,
                &mut mother,
                YearTables {
                    exposure: &mut ex_a,
                    presence: &mut pr_a,
                    dying: &mut dy_a,
                },
                key(Purpose::Exit).hash(),
                key(Purpose::Mothers).hash(),
                factors,
                t,
            );
            a.retain(&keep);
            let mut k = keep.iter();
            mother.retain(|_| *k.next().unwrap());
            transitions(
                &m,
                &mut a,
                &mother,
                &mut ex_a,
                &mut pr_a,
                key(Purpose::Transition).hash(),
                factors,
            );
            ageing(&mut a);
            // Fused.
            let mut b = start.clone();
            let (mut ex_b, mut pr_b, mut dy_b) = tables();
            let mut census = vec![0; n_cells(ns)];
            let (mut chances, mut rows) = (Vec::new(), Vec::new());
            m.demography
                .exit_chances(t, factors.map(|f| f.mortality), &mut chances);
            m.segments.rows(factors.map(|f| f.deterioration), &mut rows);
            let mut stay = Vec::new();
            m.segments.stay_bounds(&rows, &mut stay);
            let e_b = live_year(
                &m,
                &mut b,
                &mut census,
                YearTables {
                    exposure: &mut ex_b,
                    presence: &mut pr_b,
                    dying: &mut dy_b,
                },
                PersonStreams {
                    exit: key(Purpose::Exit).hash(),
                    mothers: key(Purpose::Mothers).hash(),
                    transition: key(Purpose::Transition).hash(),
                },
                &chances,
                Transitions {
                    rows: &rows,
                    stay: &stay,
                },
                &mut Vec::new(),
            );
            let case = format!("factors {}, improvement {t}", factors.is_some());
            assert!(e_a.out > 0 && e_a.born.iter().sum::<u64>() > 0, "{case}");
            assert_eq!(e_a, e_b, "{case}");
            assert_eq!(
                (&a.age, &a.sex, &a.imd, &a.segment, &a.id),
                (&b.age, &b.sex, &b.imd, &b.segment, &b.id),
                "{case}"
            );
            assert_eq!(
                a.risk.iter().map(|r| r.to_bits()).collect::<Vec<_>>(),
                b.risk.iter().map(|r| r.to_bits()).collect::<Vec<_>>(),
                "{case}"
            );
            assert_eq!(bits(&ex_a), bits(&ex_b), "{case}");
            assert_eq!(bits(&pr_a), bits(&pr_b), "{case}");
            assert_eq!(bits(&dy_a), bits(&dy_b), "{case}");
            let mut counted = vec![0; n_cells(ns)];
            count_into(&start, ns, &mut counted);
            assert_eq!(census, counted, "{case}");
        }
    }
}
