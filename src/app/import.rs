//! `capsim import gp-lists`: NHS Digital's registered-patient lists turned into a
//! geography folder that `run`, `batch` and `budget` simulate (`--geography DIR`, or
//! `[population] geography` in a scenario). Reading and checking is `data::gp_lists`,
//! writing `io::geography`; this joins them and reports what was imported.

use std::path::PathBuf;
use std::time::Instant;

use crate::core::error::Result;
use crate::data::geography::Geography;
use crate::data::gp_lists::{read_gp_lists, GpListSources};
use crate::io::geography::write_geography;

/// Settings of one `capsim import gp-lists`.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    pub sources: GpListSources,
    pub out: PathBuf,
}

/// What an import wrote, for the terminal.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportReport {
    pub systems: usize,
    pub places: usize,
    pub neighbourhoods: usize,
    pub practices: usize,
    pub unallocated_practices: usize,
    pub practices_without_deprivation: usize,
    pub people: u64,
    pub wall_seconds: f64,
}

/// Imports the lists into `options.out`, then reads the folder back as capsim will, so
/// that a folder it cannot simulate is never reported as a success.
pub fn import_gp_lists(options: &ImportOptions) -> Result<ImportReport> {
    let start = Instant::now();
    let imported = read_gp_lists(&options.sources)?;
    write_geography(&options.out, &imported)?;
    let g = Geography::from_dir(&options.out)?;
    Ok(ImportReport {
        systems: g.systems.len(),
        places: g.places.len(),
        neighbourhoods: g.neighbourhoods.len(),
        practices: imported.practices.len(),
        unallocated_practices: imported.unallocated_practices,
        practices_without_deprivation: imported.practices_without_deprivation,
        people: g.total_population(),
        wall_seconds: start.elapsed().as_secs_f64(),
    })
}
