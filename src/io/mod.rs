//! Layer 7, `io`: every output table and file, written atomically with polars, and read
//! back for summaries and reports.

pub mod areas;
pub mod calibration;
pub mod geography;
pub mod incremental;
pub mod read;
pub mod summary;
pub mod summary_table;
pub mod tables;
pub mod text;
