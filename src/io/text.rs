//! Text columns with few distinct values (area names, labels, metric names), built from
//! integer codes into a small dictionary. A national table has millions of rows but only
//! a few thousand distinct strings: a row costs a 4-byte code instead of a string copied
//! into the column, and the column is then gathered from the dictionary, which copies
//! each row's 16-byte view and shares the dictionary's bytes. The values, and so the
//! files written, are the same as from a column of strings.

use std::collections::HashMap;

use polars::prelude::*;

/// The text column `name` whose row `i` is `dict[codes[i]]`.
pub fn coded(name: &str, dict: &[&str], codes: &[IdxSize]) -> PolarsResult<Column> {
    let values = StringChunked::from_slice(name.into(), dict);
    Ok(values.take(codes)?.into_series().into_column())
}

/// A text column kept as codes into its dictionary until it is written: the Parquet
/// writer takes its dictionary straight from the codes (`io::tables`), and only a CSV
/// file, which needs each row's text, gathers it ([`Coded::column`]).
pub struct Coded<'a> {
    pub name: &'a str,
    pub dict: Vec<&'a str>,
    pub codes: Vec<IdxSize>,
}

impl Coded<'_> {
    /// The column of text, row `i` being `dict[codes[i]]`.
    pub fn column(&self) -> PolarsResult<Column> {
        coded(self.name, &self.dict, &self.codes)
    }
}

/// Codes of arbitrary text pushed row by row, with its dictionary in first-seen order.
#[derive(Default)]
pub struct Texts<'a> {
    dict: Vec<&'a str>,
    index: HashMap<&'a str, IdxSize>,
    codes: Vec<IdxSize>,
}

impl<'a> Texts<'a> {
    pub fn with_capacity(rows: usize) -> Self {
        Texts {
            codes: Vec::with_capacity(rows),
            ..Texts::default()
        }
    }

    pub fn push(&mut self, s: &'a str) {
        // Rows usually repeat the last value (rows come area by area): no hashing then.
        let code = match self.codes.last() {
            Some(c) if self.dict[*c as usize] == s => *c,
            _ => {
                let next = self.dict.len() as IdxSize;
                let dict = &mut self.dict;
                *self.index.entry(s).or_insert_with(|| {
                    dict.push(s);
                    next
                })
            }
        };
        self.codes.push(code);
    }

    pub fn column(&self, name: &str) -> PolarsResult<Column> {
        coded(name, &self.dict, &self.codes)
    }

    /// The codes as a column written from them.
    pub fn into_coded(self, name: &'a str) -> Coded<'a> {
        Coded {
            name,
            dict: self.dict,
            codes: self.codes,
        }
    }
}
