//! capsim: a population health and capitation budget simulator for integrated care systems.
//!
//! The code is in layers, each a folder, and a module imports only from the layers before
//! its own (checked by `tests/it/architecture.rs`; see ARCHITECTURE.md):
//! `core` -> `data` -> `config` -> `model` -> `engine` -> `accounts` -> `io` -> `report`
//! -> `app`. `main.rs` is the command line over `app`.

// Struct-of-arrays code indexes several attribute vectors by one person index; an
// iterator over one of them would hide that.
#![allow(clippy::needless_range_loop)]

pub mod accounts;
pub mod app;
pub mod config;
pub mod core;
pub mod data;
pub mod engine;
pub mod io;
pub mod model;
pub mod report;

pub use crate::core::error::{CapsimError, Result};
