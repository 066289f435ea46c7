//! Layer 2, `data`: the parameter datasets (read with polars, validated cell by cell) and
//! the geography of systems, places and neighbourhoods built from them, or imported from
//! NHS Digital's registered-patient lists (`gp_lists`).

pub mod datasets;
pub mod geography;
pub mod gp_lists;
pub mod observed;
pub mod published;
pub mod published_geography;
