//! `capsim list icbs`: real England's ICBs from NHS England's published practices, and
//! the ICB a `--icb` flag names.

use crate::core::error::{CapsimError, Result};
use crate::data::geography::Preset;
use crate::data::published::Practices;
use crate::data::published_geography::RealEngland;

/// One ICB of real England.
#[derive(Debug, Clone, PartialEq)]
pub struct IcbRow {
    pub code: String,
    pub name: String,
    /// Sub-ICB locations.
    pub places: usize,
    pub neighbourhoods: usize,
    pub practices: usize,
    /// Registered people, whole (`data::published_geography`).
    pub population: u64,
}

/// The 42 ICBs in code order.
pub fn icbs() -> Result<Vec<IcbRow>> {
    let e = RealEngland::build(&Practices::bundled()?);
    Ok(e.icbs
        .iter()
        .enumerate()
        .map(|(i, icb)| {
            let groups = e.groups.iter().filter(|g| e.places[g.place].icb == i);
            let (mut neighbourhoods, mut practices, mut population) = (0, 0, 0);
            for g in groups {
                neighbourhoods += 1;
                practices += g.practices.len();
                population += g.population;
            }
            IcbRow {
                code: icb.code.clone(),
                name: icb.name.clone(),
                places: e.places.iter().filter(|p| p.icb == i).count(),
                neighbourhoods,
                practices,
                population,
            }
        })
        .collect())
}

/// The preset of the ICB `key` names: its code (`QOP`) or name (`NHS Greater Manchester
/// ICB`, or `Greater Manchester`), in any case.
pub fn icb_preset(key: &str) -> Result<Preset> {
    let e = RealEngland::build(&Practices::bundled()?);
    match e.find_icb(key) {
        Some(i) => Ok(Preset::Icb(i as u8)),
        None => Err(CapsimError::InvalidSetting {
            setting: "--icb".into(),
            problem: format!(
                "`{key}` is not an ICB code or name; `capsim list icbs` lists them ({})",
                e.icbs
                    .iter()
                    .map(|i| i.code.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }),
    }
}
