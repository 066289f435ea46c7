//! Reading tables back, column by column, into plain Rust values.

use std::fs::File;
use std::path::Path;

use polars::prelude::*;

use crate::core::error::{CapsimError, Result};

/// `read(k)` for every `k` in `0..count`, on `threads` plain threads (0 = all cores), each
/// taking every `threads`-th `k`; the results in order of `k`, or the first error in that
/// order. Plain threads, not rayon's: called from a rayon worker, polars' Parquet reader
/// holds far more memory than the rows asked for (a sliced read of England's population
/// took 814 MB, 400 small metrics files 600 MB).
pub fn read_on_threads<T: Send>(
    count: usize,
    threads: usize,
    read: impl Fn(usize) -> Result<T> + Sync,
) -> Result<Vec<T>> {
    let threads = match threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    let mut out: Vec<Option<Result<T>>> = (0..count).map(|_| None).collect();
    std::thread::scope(|scope| {
        let read = &read;
        let readers: Vec<_> = (0..threads.min(count))
            .map(|t| {
                scope.spawn(move || {
                    (t..count)
                        .step_by(threads)
                        .map(|k| (k, read(k)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for r in readers {
            for (k, v) in r.join().expect("readers do not panic") {
                out[k] = Some(v);
            }
        }
    });
    out.into_iter()
        .map(|v| v.expect("every k is read"))
        .collect()
}

/// Reads a Parquet file whole.
pub fn read_parquet(path: &Path) -> Result<DataFrame> {
    let f = File::open(path).map_err(|e| CapsimError::io(path, e))?;
    ParquetReader::new(f)
        .finish()
        .map_err(|e| CapsimError::Write {
            path: path.to_path_buf(),
            reason: format!("cannot read: {e}"),
        })
}

/// Reads only `columns` of a Parquet file, and with `slice` (offset, length) only those
/// rows: the report reads what it draws, a slice at a time, so a national output's
/// tables of millions of rows never sit in memory whole.
pub fn read_parquet_columns(
    path: &Path,
    columns: &[&str],
    slice: Option<(usize, usize)>,
) -> Result<DataFrame> {
    let f = File::open(path).map_err(|e| CapsimError::io(path, e))?;
    ParquetReader::new(f)
        .with_columns(Some(columns.iter().map(|c| c.to_string()).collect()))
        .with_slice(slice)
        .finish()
        .map_err(|e| CapsimError::Write {
            path: path.to_path_buf(),
            reason: format!("cannot read: {e}"),
        })
}

/// The names of a Parquet file's columns, in order (read as a frame of no rows).
pub fn column_names(path: &Path) -> Result<Vec<String>> {
    let f = File::open(path).map_err(|e| CapsimError::io(path, e))?;
    let df = ParquetReader::new(f)
        .with_slice(Some((0, 0)))
        .finish()
        .map_err(|e| unexpected(path, e))?;
    Ok(df
        .get_column_names()
        .iter()
        .map(|n| n.to_string())
        .collect())
}

/// The number of rows of a Parquet file, from its metadata.
pub fn parquet_rows(path: &Path) -> Result<usize> {
    let f = File::open(path).map_err(|e| CapsimError::io(path, e))?;
    ParquetReader::new(f)
        .num_rows()
        .map_err(|e| unexpected(path, e))
}

/// A string column, borrowed: for filtering rows before anything is copied.
pub fn str_column<'a>(df: &'a DataFrame, path: &Path, name: &str) -> Result<&'a StringChunked> {
    column(df, path, name)?
        .str()
        .map_err(|e| unexpected(path, e))
}

/// A column of a frame read from `path`, as owned values; nulls become defaults.
pub fn strings(df: &DataFrame, path: &Path, name: &str) -> Result<Vec<String>> {
    Ok(column(df, path, name)?
        .str()
        .map_err(|e| unexpected(path, e))?
        .iter()
        .map(|x| x.unwrap_or_default().to_string())
        .collect())
}

/// A float column of a frame read from `path`; nulls become NaN.
pub fn floats(df: &DataFrame, path: &Path, name: &str) -> Result<Vec<f64>> {
    Ok(column(df, path, name)?
        .f64()
        .map_err(|e| unexpected(path, e))?
        .iter()
        .map(|x| x.unwrap_or(f64::NAN))
        .collect())
}

/// An `i32` column of a frame read from `path`; nulls become 0.
pub fn ints(df: &DataFrame, path: &Path, name: &str) -> Result<Vec<i32>> {
    Ok(column(df, path, name)?
        .i32()
        .map_err(|e| unexpected(path, e))?
        .iter()
        .map(|x| x.unwrap_or(0))
        .collect())
}

fn column<'a>(df: &'a DataFrame, path: &Path, name: &str) -> Result<&'a Column> {
    df.column(name).map_err(|e| unexpected(path, e))
}

pub(crate) fn unexpected(path: &Path, e: impl std::fmt::Display) -> CapsimError {
    CapsimError::Write {
        path: path.to_path_buf(),
        reason: format!("unexpected contents: {e}"),
    }
}
