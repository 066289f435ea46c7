//! Layer 8, `report`: the charts (the only user of plotters) and the HTML report.

pub mod capacity;
pub mod charts;
pub mod headline;
pub mod html;
pub mod incremental;
pub mod validation;
