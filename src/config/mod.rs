//! Layer 3, `config`: scenario and batch files, parsed and checked into typed values, and
//! the uncertain numbers they may hold.

pub mod batch;
pub mod capacity;
pub mod located;
pub mod resolve;
pub mod scenario;
pub mod uncertainty;
