//! Layer 1, `core`: the vocabulary every other layer shares. Dimensions and their cell
//! layouts, settings and sectors, reporting levels, money splits, random streams and
//! errors. It imports nothing from the crate.

pub mod care;
pub mod dims;
pub mod error;
pub mod labelled;
pub mod level;
pub mod money;
pub mod rng;
