//! Issue 25, item 2: real England's practices get people (age, sex, deprivation) that
//! reproduce their published need indices through the simulator's own need model
//! (`model::practice_fit`).

use std::time::Instant;

use capsim::data::datasets::Datasets;
use capsim::data::geography::Geography;
use capsim::data::published::{Component, Practices};
use capsim::data::published_geography::RealEngland;
use capsim::model::practice_fit::{PracticeFit, FITTED};
use capsim::model::Model;

/// Real England built with its fitted people, and how long the build took (file read,
/// grouping, fit and mixing).
fn fitted() -> (
    Datasets,
    Model,
    Practices,
    RealEngland,
    PracticeFit,
    Geography,
    f64,
) {
    let d = Datasets::bundled().unwrap();
    let m = Model::new(&d).unwrap();
    let started = Instant::now();
    let p = Practices::bundled().unwrap();
    let e = RealEngland::build(&p);
    let mut g = Geography::real(&e, &d, None);
    let fit = PracticeFit::fit(&m, &p, &e);
    fit.apply(&e, &mut g);
    let secs = started.elapsed().as_secs_f64();
    (d, m, p, e, fit, g, secs)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Each ICB's published index of component `k` and the index of its neighbourhoods'
/// fitted structures (age-sex and deprivation independent, as synthesis draws them).
fn icb_indices(
    p: &Practices,
    e: &RealEngland,
    fit: &PracticeFit,
    g: &Geography,
    k: usize,
) -> Vec<(String, f64, f64)> {
    let c: Component = FITTED[k];
    let pop: f64 = p.practices.iter().map(|x| x.population).sum();
    let england = p.practices.iter().map(|x| x.weighted(c)).sum::<f64>() / pop;
    e.icbs
        .iter()
        .enumerate()
        .map(|(i, icb)| {
            let of = |x: &&capsim::data::published::Practice| x.icb_code == icb.code;
            let wp: f64 = p.practices.iter().filter(of).map(|x| x.weighted(c)).sum();
            let pp: f64 = p.practices.iter().filter(of).map(|x| x.population).sum();
            let (mut num, mut den) = (0.0, 0.0);
            for nb in &g.neighbourhoods {
                if e.places[e.groups[nb.id as usize].place].icb == i {
                    let s = capsim::model::practice_fit::Structure {
                        age_sex: nb.age_sex,
                        imd: nb.imd,
                    };
                    num += nb.population as f64 * fit.indices(&s)[k];
                    den += nb.population as f64;
                }
            }
            (icb.code.clone(), wp / pp / england, num / den)
        })
        .collect()
}

#[test]
fn explore() {
    let (_d, _m, p, e, fit, g, secs) = fitted();
    println!(
        "built with fit in {secs:.3} s; fitted England {:?}; unreached {:?}; england {:?}",
        fit.fitted_england, fit.unreached, fit.england
    );
    println!("inequality by quintile {:?}", fit.need.inequality);
    let mut q = [0.0; 5];
    for nb in &g.neighbourhoods {
        for k in 0..5 {
            q[k] += nb.imd[k] * nb.population as f64 / 62_154_630.0;
        }
    }
    println!("England fitted quintile shares {q:?}");
    for k in 0..3 {
        let errs: Vec<f64> = (0..p.practices.len())
            .filter(|&i| p.practices[i].population > 0.0)
            .map(|i| (fit.indices(&fit.structures[i])[k] / fit.published[i][k] - 1.0).abs())
            .collect();
        let mut s = errs.clone();
        s.sort_by(f64::total_cmp);
        let n = s.len();
        println!(
            "{:?}: median {:.5} p90 {:.5} p99 {:.5} max {:.3}",
            FITTED[k],
            median(errs),
            s[n * 9 / 10],
            s[n * 99 / 100],
            s[n - 1]
        );
        let icbs = icb_indices(&p, &e, &fit, &g, k);
        let worst = icbs
            .iter()
            .map(|(c, a, b)| ((b / a - 1.0).abs(), c.clone(), *a, *b))
            .fold((0.0, String::new(), 0.0, 0.0), |m, x| {
                if x.0 > m.0 {
                    x
                } else {
                    m
                }
            });
        println!("   ICB worst {worst:?}");
    }
}

#[test]
fn explore_bad() {
    let (_d, _m, p, _e, fit, _g, _) = fitted();
    for i in 0..p.practices.len() {
        let got = fit.indices(&fit.structures[i]);
        if got[1] > 3.5 || !got[1].is_finite() {
            println!(
                "{} pop {} published {:?} got {:?}",
                p.practices[i].code, p.practices[i].population, fit.published[i], got
            );
        }
    }
}
