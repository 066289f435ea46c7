//! capsim: a population health and capitation budget simulator for integrated care systems.
//!
//! Data flow: `datasets` (validated CSV) -> `model` (hot-loop tables) -> `geography` (who
//! lives where) -> `synthesis` (people) -> `simulation` (yearly cycle per neighbourhood, in
//! parallel) -> `output` (tables, atomically). `run` ties them together for the CLI.

// Struct-of-arrays code indexes several attribute vectors by one person index; an
// iterator over one of them would hide that.
#![allow(clippy::needless_range_loop)]

pub mod activity;
pub mod batch;
pub mod capitation;
pub mod charts;
pub mod datasets;
pub mod demography;
pub mod error;
pub mod geography;
pub mod intervention;
pub mod metrics;
pub mod model;
pub mod output;
pub mod population;
pub mod report;
pub mod rng;
pub mod run;
pub mod scenario;
pub mod segments;
pub mod simulation;
pub mod summary;
pub mod synthesis;
pub mod uncertainty;

pub use error::{CapsimError, Result};
