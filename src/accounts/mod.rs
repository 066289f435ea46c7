//! Layer 6, `accounts`: money and results. Capitated budgets, per-run metrics and their
//! Monte Carlo summaries, all as typed values (no polars here).

pub mod capacity;
pub mod capacity_metrics;
pub mod capitation;
pub mod costs;
pub mod icer;
pub mod incremental;
pub mod life;
pub mod metric;
pub mod metrics;
pub mod need_formula;
pub mod one_way;
pub mod summary;
