//! `capsim init`: the example scenarios, written into a folder.

use std::path::{Path, PathBuf};

use crate::config::scenario::EXAMPLES;
use crate::core::error::{CapsimError, Result};
use crate::io::tables::write_atomic;

/// Writes the example scenarios into `dir`, refusing to overwrite anything.
pub fn init(dir: &Path) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).map_err(|e| CapsimError::io(dir, e))?;
    for (name, _) in EXAMPLES {
        let p = dir.join(name);
        if p.exists() {
            return Err(CapsimError::InvalidSetting {
                setting: "init".into(),
                problem: format!("{} exists already; choose an empty folder", p.display()),
            });
        }
    }
    let mut written = Vec::new();
    for (name, text) in EXAMPLES {
        let p = dir.join(name);
        write_atomic(&p, text.as_bytes())?;
        written.push(p);
    }
    Ok(written)
}
