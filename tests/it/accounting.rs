//! People are accounted for exactly, year to year.

use capsim::engine::simulation::{simulate, SimConfig};

use crate::util::bundled;

#[test]
fn flows_balance_and_chain_exactly() {
    let (_, model, geography) = bundled();
    let config = SimConfig::new(7, 0, 5);
    let results = simulate(&model, &geography, &config, 2, &|| {}).unwrap();
    let cells = capsim::core::dims::n_cells(model.segments.len());
    for (k, r) in results.iter().enumerate() {
        assert_eq!(r.flows[0].start, geography.neighbourhoods[k].population);
        for (y, f) in r.flows.iter().enumerate() {
            assert_eq!(
                f.start + f.births + f.migration_in - f.deaths - f.migration_out,
                f.end,
                "neighbourhood {k} year {y}"
            );
            if let Some(next) = r.flows.get(y + 1) {
                assert_eq!(f.end, next.start);
            }
            let counted: u64 = r.census[y * cells..(y + 1) * cells]
                .iter()
                .map(|x| *x as u64)
                .sum();
            assert_eq!(
                counted, f.start,
                "census matches flows at the start of year {y}"
            );
        }
        let last: u64 = r.census[config.years as usize * cells..]
            .iter()
            .map(|x| *x as u64)
            .sum();
        assert_eq!(last, r.flows.last().unwrap().end);
        assert!(r.flows.iter().all(|f| f.deaths > 0 && f.births > 0));
    }
}

/// Mortality improvement leaves year 1 as it was and lowers deaths after it: with the same
/// random numbers, year 4's deaths are fewer by roughly the compounded rate.
#[test]
fn mortality_improvement_lowers_deaths_after_year_one() {
    use capsim::config::scenario::Mortality;
    let (_, model, geography) = bundled();
    let deaths = |mortality: Mortality| -> Vec<u64> {
        let config = SimConfig {
            seed: 3,
            run: 0,
            years: 4,
            variation: Default::default(),
            mortality,
            trends: Default::default(),
        };
        let r = simulate(&model, &geography, &config, 2, &|| {}).unwrap();
        (0..4)
            .map(|y| r.iter().map(|n| n.flows[y].deaths).sum())
            .collect()
    };
    let (on, off) = (deaths(Mortality::default()), deaths(Mortality::OFF));
    assert_eq!(on[0], off[0]);
    // Three years at up to 1.1% a year: about 3% fewer deaths in year 4.
    let ratio = on[3] as f64 / off[3] as f64;
    assert!((0.95..0.995).contains(&ratio), "{on:?} vs {off:?}");
}
