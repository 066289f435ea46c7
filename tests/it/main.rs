//! Integration tests, one binary with a module per topic.

// Struct-of-arrays code indexes several attribute vectors by one person index; an
// iterator over one of them would hide that.
#![allow(clippy::needless_range_loop)]

mod accounting;
mod architecture;
mod bad_datasets;
mod batches;
mod budgets;
mod calibration;
mod capacity;
mod counterfactual;
mod determinism;
mod economics;
mod england;
mod england_real;
mod fuzz_datasets;
mod import;
mod maps;
mod practice_fit;
mod published_capitation;
mod report;
mod scenarios;
mod statistics;
mod tornado;
mod util;
mod variation;
