//! Layer 5, `engine`: people and the yearly cycle. Synthesis, the levers a scenario's
//! interventions pull, and the simulation of every neighbourhood in parallel.

pub mod case_finding;
pub mod expected;
pub mod exposure;
pub mod levers;
pub mod population;
pub mod simulation;
pub mod synthesis;
