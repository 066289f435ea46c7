//! Layer 9, `app`: the commands. One pipeline for run, batch, budget and merge, and
//! validate and init; `main.rs` is a clap layer over these.

pub mod batch;
pub mod calibrate;
pub mod calibrate_local;
pub mod calibration_example;
pub mod import;
pub mod init;
pub mod list;
pub mod one_way;
pub mod pipeline;
pub mod run;

// The command line's vocabulary, so that `main.rs` needs nothing but `app`.
pub use crate::config::batch::{Batch, Shard};
pub use crate::config::scenario::Overrides;
pub use crate::data::datasets::DatasetSource;
pub use crate::data::geography::Preset;
pub use crate::data::gp_lists::GpListSources;
pub use crate::report::html::{report, CHARTS, REPORT};
