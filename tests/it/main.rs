//! Integration tests, one binary with a module per topic.

mod accounting;
mod bad_datasets;
mod determinism;
mod england;
mod statistics;
mod util;
