//! Errors of the library. Variants carry fields, not prose, so that callers (and tests) can
//! match on what went wrong; `Display` turns them into the one line the CLI prints.

use std::path::PathBuf;

/// Everything that can go wrong in capsim.
#[derive(Debug, thiserror::Error)]
pub enum CapsimError {
    /// A cell of a dataset file holds a value outside what is allowed.
    #[error("{file}: line {line}, column `{column}`: value `{value}` is not allowed; expected {allowed}")]
    InvalidValue {
        file: String,
        line: usize,
        column: String,
        value: String,
        allowed: String,
    },
    /// A dataset file lacks a column the model needs.
    #[error(
        "{file}: line 1 (header): missing column `{column}`; the file must have columns {expected}"
    )]
    MissingColumn {
        file: String,
        column: String,
        expected: String,
    },
    /// A dataset file is consistent cell by cell but wrong as a whole (a row missing, a
    /// transition row not summing to 1, ...).
    #[error("{file}: {column}: {problem}")]
    InvalidTable {
        file: String,
        column: String,
        problem: String,
    },
    /// A dataset file could not be parsed as CSV at all.
    #[error("{file}: cannot read as CSV: {reason}")]
    Unreadable { file: String, reason: String },
    /// A scenario or batch file is malformed or holds a value outside what is allowed.
    #[error("{file}{}, field `{field}`: {problem}", line.map_or(String::new(), |l| format!(", line {l}")))]
    Scenario {
        file: String,
        line: Option<usize>,
        field: String,
        problem: String,
    },
    /// Money too large to count in pence: the inputs (unit costs, rates, cost inflation over
    /// the years, population) imply costs no health system has.
    #[error("money out of range: {what} exceeds {limit} in one work unit; check unit costs, activity rates, cost_inflation, years and populations")]
    MoneyOutOfRange { what: String, limit: String },
    /// A command-line or configuration setting is out of range.
    #[error("{setting}: {problem}")]
    InvalidSetting { setting: String, problem: String },
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Writing a table failed inside polars.
    #[error("writing {path}: {reason}")]
    Write { path: PathBuf, reason: String },
}

impl CapsimError {
    /// True when the error is the user's input (datasets, settings): the CLI exits 2 for
    /// these, as ripgrep does, and 1 for failures of the machine (I/O).
    pub fn is_bad_input(&self) -> bool {
        !matches!(self, CapsimError::Io { .. } | CapsimError::Write { .. })
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        CapsimError::Io {
            path: path.into(),
            source,
        }
    }
}

pub type Result<T> = std::result::Result<T, CapsimError>;
