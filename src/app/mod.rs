//! Layer 9, `app`: the commands. One pipeline for run, batch, budget and merge, and
//! validate and init; `main.rs` is a clap layer over these.

pub mod batch;
pub mod init;
pub mod run;
