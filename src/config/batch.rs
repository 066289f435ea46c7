//! Batch files: the scenarios to run together, grid sweeps over one intervention, and how
//! the work divides into units (groups of scenarios sharing a population, one unit per
//! Monte Carlo run) and shards.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::config::scenario::{bundled_text, parse_toml, scenario_error, Overrides, Scenario};
use crate::config::uncertainty::Share;
use crate::core::error::Result;

/// A grid sweep: every combination of the listed values becomes a scenario.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Sweep {
    base: String,
    intervention: String,
    #[serde(default)]
    coverage_target: Vec<Share>,
    #[serde(default)]
    effect_scale: Vec<f64>,
    #[serde(default)]
    cost_scale: Vec<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BatchFile {
    name: Option<String>,
    #[serde(default)]
    scenarios: Vec<String>,
    #[serde(default)]
    sweep: Vec<Sweep>,
}

/// A batch: scenarios to run, each with its own Monte Carlo runs.
#[derive(Debug, Clone, Serialize)]
pub struct Batch {
    pub name: String,
    pub scenarios: Vec<Scenario>,
}

/// Which slice of the units this process runs: the `index`-th of `count` (0-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl std::str::FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let bad = || format!("`{s}` is not a shard; write I/N with 0 <= I < N, e.g. 0/10");
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count) = (
            i.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        );
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl Batch {
    /// Reads a batch file, its scenarios and its sweeps.
    pub fn load(file: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(file)
            .map_err(|e| scenario_error(file, None, "(file)", format!("cannot read: {e}")))?;
        let dir = file.parent().unwrap_or_else(|| Path::new("."));
        Self::parse(file, &text, &|s| Scenario::load(&dir.join(s)))
    }

    /// The bundled `scenarios/batch.toml` with its bundled scenarios: the shift-left
    /// comparison the first command runs.
    pub fn bundled() -> Result<Self> {
        let file = Path::new("scenarios/batch.toml (bundled)");
        Self::parse(file, &bundled_text(file)?, &Scenario::load_bundled)
    }

    fn parse(file: &Path, text: &str, load: &dyn Fn(&str) -> Result<Scenario>) -> Result<Self> {
        let b: BatchFile = parse_toml(file, text)?;
        let mut scenarios = Vec::new();
        for s in &b.scenarios {
            scenarios.push(load(s)?);
        }
        for (i, sw) in b.sweep.iter().enumerate() {
            scenarios.extend(expand(file, i, sw, &load(&sw.base)?)?);
        }
        if scenarios.is_empty() {
            return Err(scenario_error(
                file,
                None,
                "scenarios",
                "the batch lists no scenarios and no sweeps",
            ));
        }
        let batch = Batch {
            name: b.name.unwrap_or_else(|| {
                file.file_stem()
                    .map_or("batch".into(), |n| n.to_string_lossy().into_owned())
            }),
            scenarios,
        };
        batch.check_names(file)?;
        Ok(batch)
    }

    /// A batch of one scenario (what `capsim run` runs).
    pub fn single(scenario: Scenario) -> Self {
        Batch {
            name: scenario.name.clone(),
            scenarios: vec![scenario],
        }
    }

    fn check_names(&self, file: &Path) -> Result<()> {
        for (i, s) in self.scenarios.iter().enumerate() {
            if self.scenarios[..i].iter().any(|x| x.name == s.name) {
                return Err(scenario_error(
                    file,
                    None,
                    "scenarios",
                    format!("two scenarios are named `{}`; names must be unique", s.name),
                ));
            }
        }
        Ok(())
    }

    pub fn apply(&mut self, o: &Overrides) -> Result<()> {
        for s in &mut self.scenarios {
            s.apply(o)?;
        }
        Ok(())
    }

    /// Groups of scenarios that can share a work unit: same population, horizon, seed,
    /// variation, mortality and trends settings (the counterfactual they share is simulated with them).
    pub fn groups(&self) -> Vec<Vec<usize>> {
        groups_of(&self.scenarios)
    }

    /// Every work unit (group, run), in a fixed order.
    pub fn units(&self) -> Vec<(usize, u64)> {
        let mut units = Vec::new();
        for (g, members) in self.groups().iter().enumerate() {
            let runs = members
                .iter()
                .map(|s| self.scenarios[*s].runs)
                .max()
                .unwrap_or(0);
            units.extend((0..runs as u64).map(|k| (g, k)));
        }
        units
    }
}

/// Groups of scenarios that can share a work unit (see [`Batch::groups`]), by index.
pub fn groups_of(scenarios: &[Scenario]) -> Vec<Vec<usize>> {
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for (i, s) in scenarios.iter().enumerate() {
        let same = |j: &usize| {
            let t = &scenarios[*j];
            t.population == s.population
                && t.years == s.years
                && t.seed == s.seed
                && t.variation == s.variation
                && t.mortality == s.mortality
                && t.trends == s.trends
                && t.calibration == s.calibration
        };
        match groups.iter_mut().find(|g| same(&g[0])) {
            Some(g) => g.push(i),
            None => groups.push(vec![i]),
        }
    }
    groups
}

fn expand(file: &Path, i: usize, sw: &Sweep, base: &Scenario) -> Result<Vec<Scenario>> {
    let field = |f: &str| format!("sweep[{i}].{f}");
    let Some(k) = base
        .interventions
        .iter()
        .position(|x| x.name == sw.intervention)
    else {
        let names: Vec<&str> = base.interventions.iter().map(|x| x.name.as_str()).collect();
        return Err(scenario_error(
            file,
            None,
            &field("intervention"),
            format!(
                "`{}` is not an intervention of {}; allowed: {}",
                sw.intervention,
                sw.base,
                names.join(", ")
            ),
        ));
    };
    let opt = |v: &[f64]| -> Vec<Option<f64>> {
        if v.is_empty() {
            vec![None]
        } else {
            v.iter().copied().map(Some).collect()
        }
    };
    for (name, v) in [
        ("effect_scale", &sw.effect_scale),
        ("cost_scale", &sw.cost_scale),
    ] {
        if let Some(x) = v.iter().find(|x| !x.is_finite() || **x < 0.0) {
            return Err(scenario_error(
                file,
                None,
                &field(name),
                format!("{x} is not allowed; use a number >= 0"),
            ));
        }
    }
    let covs: Vec<Option<f64>> = opt(&sw.coverage_target.iter().map(|s| s.0).collect::<Vec<_>>());
    let mut out = Vec::new();
    for c in &covs {
        for e in opt(&sw.effect_scale) {
            for m in opt(&sw.cost_scale) {
                let mut s = base.clone();
                let mut parts: Vec<String> = Vec::new();
                let iv = &mut s.interventions[k];
                if let Some(c) = c {
                    iv.coverage.target = Share(*c);
                    parts.push(format!("cov{c}"));
                }
                if let Some(e) = e {
                    for slot in iv.effects.all_mut() {
                        slot.0 = slot.0.scaled(e);
                    }
                    parts.push(format!("eff{e}"));
                }
                if let Some(m) = m {
                    iv.cost_per_enrolled.0 = iv.cost_per_enrolled.0.scaled(m);
                    iv.setup_cost.0 = iv.setup_cost.0.scaled(m);
                    parts.push(format!("cost{m}"));
                }
                s.name = format!("{}--{}", s.name, parts.join("-"));
                out.push(s);
            }
        }
    }
    Ok(out)
}
