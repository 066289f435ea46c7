//! Layer 2, `data`: the parameter datasets (read with polars, validated cell by cell) and
//! the geography of systems, places and neighbourhoods built from them.

pub mod datasets;
pub mod geography;
