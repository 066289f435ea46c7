//! Layer 4, `model`: every parameter table the yearly loop needs, built once from the
//! datasets: demography, segment transitions, activity rates with unit costs, and the
//! variation between areas.

pub mod activity;
pub mod calibration;
pub mod demography;
pub mod kinds;
pub mod practice_fit;
pub mod segments;
pub mod variation;
pub mod year_one;

use crate::core::dims::{N_BANDS, N_SEX};
use crate::core::error::Result;
use crate::data::datasets::Datasets;
use crate::model::activity::ActivityModel;
use crate::model::demography::Demography;
use crate::model::kinds::Kinds;
use crate::model::segments::SegmentModel;
use crate::model::variation::AreaVariation;

#[derive(Debug, Clone)]
pub struct Model {
    pub segments: SegmentModel,
    pub demography: Demography,
    pub activity: ActivityModel,
    /// Unexplained variation between areas and local cost factors.
    pub variation: AreaVariation,
    /// Gamma shape of the persistent individual risk multiplier (mean 1, variance 1/shape).
    pub risk_shape: f64,
    /// England's population share of each age band and sex, `[band][sex]`: weights for
    /// averages over a target's cells that do not depend on one simulated area.
    pub population_share: [[f64; N_SEX]; N_BANDS],
    /// Each kind of person's cells and fertility, for the yearly loop.
    pub kinds: Kinds,
}

impl Model {
    pub fn new(d: &Datasets) -> Result<Self> {
        let (segments, demography) = (SegmentModel::new(d)?, Demography::new(d));
        Ok(Model {
            kinds: Kinds::new(&demography, &segments),
            segments,
            demography,
            activity: ActivityModel::new(d),
            variation: AreaVariation::new(d),
            risk_shape: d.parameters.risk_shape,
            population_share: {
                let total = d.population.sum();
                std::array::from_fn(|b| std::array::from_fn(|x| d.population[[b, x]] / total))
            },
        })
    }
}
