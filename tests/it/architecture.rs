//! Keeps the layering of ARCHITECTURE.md true. It reads `src/` as text and fails on:
//! - an import from a later layer (the layers import one way only);
//! - a cycle between modules, inside a layer or across layers;
//! - polars outside `data` (reading) and `io` (writing), plotters outside `report`, and
//!   clap outside `main.rs`;
//! - a `main.rs` that reaches past `app` (and the error type) into the library.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layers in order: each may import only from those before it (and itself).
const LAYERS: [&str; 9] = [
    "core", "data", "config", "model", "engine", "accounts", "io", "report", "app",
];

/// External crates confined to some layers.
const CONFINED: [(&str, &[&str]); 3] = [
    ("polars", &["data", "io"]),
    ("plotters", &["report"]),
    ("clap", &[]),
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The file's code without comments (doc links name modules without importing them).
fn code(text: &str) -> String {
    text.lines()
        .map(|l| match l.find("//") {
            Some(i) if !l[..i].contains('"') => &l[..i],
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The module a file defines, as `layer::name` (`layer` for a `mod.rs`).
fn module_of(rel: &Path) -> String {
    let parts: Vec<String> = rel
        .with_extension("")
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    match parts.as_slice() {
        [layer, m] if m == "mod" => layer.clone(),
        [layer, m, ..] => format!("{layer}::{m}"),
        [m] => m.clone(),
        [] => String::new(),
    }
}

/// Every `crate::a::b` path in `code`, as the module it names (`a::b` when `a` is a layer
/// and `b` a module of it, else `a`).
fn references(code: &str, modules: &BTreeSet<String>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        let path: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':' || *c == '{')
            .collect();
        let mut parts = path.split("::");
        let layer = parts.next().unwrap_or_default().trim_matches('{');
        let second = parts.next().unwrap_or_default().trim_start_matches('{');
        let both = format!("{layer}::{second}");
        if modules.contains(&both) {
            out.insert(both);
        } else if modules.contains(layer) {
            out.insert(layer.to_string());
        }
        // A grouped import `crate::layer::{a::X, b::Y}` names several modules.
        if let Some(j) = rest.find('{').filter(|j| *j <= layer.len() + 2) {
            let end = rest[j..].find('}').map_or(rest.len(), |k| j + k);
            for item in rest[j + 1..end].split(',') {
                let m = format!("{layer}::{}", item.trim().split("::").next().unwrap_or(""));
                if modules.contains(&m) {
                    out.insert(m);
                }
            }
        }
    }
    out
}

/// Every import cycle among `edges`, found by depth-first search.
fn cycles(edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
    fn visit(
        m: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
        found: &mut Vec<String>,
    ) {
        state.insert(m.to_string(), 1);
        stack.push(m.to_string());
        for n in edges.get(m).into_iter().flatten() {
            match state.get(n.as_str()).copied().unwrap_or(0) {
                0 => visit(n, edges, state, stack, found),
                1 => {
                    let from = stack.iter().position(|s| s == n).unwrap();
                    found.push(format!(
                        "import cycle: {} -> {n}",
                        stack[from..].join(" -> ")
                    ));
                }
                _ => {}
            }
        }
        stack.pop();
        state.insert(m.to_string(), 2);
    }
    let mut state = BTreeMap::new();
    let mut found = Vec::new();
    for m in edges.keys() {
        if !state.contains_key(m.as_str()) {
            visit(m, edges, &mut state, &mut Vec::new(), &mut found);
        }
    }
    found
}

fn layer_of(module: &str) -> Option<usize> {
    LAYERS
        .iter()
        .position(|l| module.split("::").next() == Some(l))
}

#[test]
fn layers_import_one_way_without_cycles() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut modules: BTreeMap<String, String> = BTreeMap::new();
    for f in &files {
        let rel = f.strip_prefix(&src).unwrap();
        let m = module_of(rel);
        let text = code(&std::fs::read_to_string(f).unwrap());
        modules.entry(m).or_default().push_str(&text);
    }
    let names: BTreeSet<String> = modules.keys().cloned().collect();
    let mut problems = Vec::new();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (m, text) in &modules {
        if m == "main" || m == "lib" {
            continue;
        }
        let Some(own) = layer_of(m) else {
            problems.push(format!("src/{m}: not inside a layer folder ({LAYERS:?})"));
            continue;
        };
        for r in references(text, &names) {
            if r == *m || m.starts_with(&format!("{r}::")) {
                continue;
            }
            match layer_of(&r) {
                Some(l) if l > own => problems.push(format!(
                    "{m} (layer {}) imports {r} (layer {}): layers import only from earlier ones",
                    LAYERS[own], LAYERS[l]
                )),
                _ => {}
            }
            edges.entry(m.clone()).or_default().insert(r);
        }
        for (krate, allowed) in CONFINED {
            let uses =
                text.contains(&format!("{krate}::")) || text.contains(&format!("use {krate}"));
            if uses && !allowed.contains(&LAYERS[own]) {
                problems.push(format!(
                    "{m} uses {krate}, which belongs only in {allowed:?} (clap: main.rs)"
                ));
            }
        }
    }
    // main.rs: the command line over `app` (and the error type), nothing else.
    let main = &modules["main"];
    let mut rest = main.as_str();
    while let Some(i) = rest.find("capsim::") {
        rest = &rest[i + "capsim::".len()..];
        let next: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if !["app", "CapsimError", "Result"].contains(&next.as_str()) {
            problems.push(format!(
                "main.rs reaches into capsim::{next}; go through app"
            ));
        }
    }
    problems.extend(cycles(&edges));
    assert!(
        problems.is_empty(),
        "architecture rules broken:\n{}",
        problems.join("\n")
    );
}

/// The checker itself must catch what it is for: a backward import, a cycle and a stray
/// polars use in a made-up tree.
#[test]
fn the_checker_sees_violations() {
    let names: BTreeSet<String> = ["core::dims", "engine::people", "io::tables", "core"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let r = references(
        "use crate::io::tables::write;\nuse crate::core::{dims::N, error::E};",
        &names,
    );
    assert!(
        r.contains("io::tables") && r.contains("core::dims"),
        "{r:?}"
    );
    assert_eq!(layer_of("io::tables"), Some(6));
    assert!(layer_of("io::tables") > layer_of("engine::people"));
    assert_eq!(code("let x = 1; // crate::io::tables"), "let x = 1; ");
    assert_eq!(module_of(Path::new("engine/mod.rs")), "engine");
    assert_eq!(module_of(Path::new("engine/people.rs")), "engine::people");
    let edges = |pairs: &[(&str, &str)]| {
        let mut e: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (a, b) in pairs {
            e.entry(a.to_string()).or_default().insert(b.to_string());
        }
        e
    };
    let found = cycles(&edges(&[
        ("a::x", "a::y"),
        ("a::y", "a::z"),
        ("a::z", "a::x"),
    ]));
    assert_eq!(found, vec!["import cycle: a::x -> a::y -> a::z -> a::x"]);
    assert!(cycles(&edges(&[
        ("a::x", "a::y"),
        ("a::x", "a::z"),
        ("a::y", "a::z")
    ]))
    .is_empty());
}
