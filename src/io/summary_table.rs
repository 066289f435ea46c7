//! The summary table written from [`SummaryTable`] a column (Parquet) or a block of rows
//! (CSV) at a time ([`crate::io::tables::write_columns`]), never whole as a frame: real
//! England's five scenarios over ten years have 6.7 million summary rows. Read back by
//! [`crate::io::summary::read_summary`].

use polars::prelude::*;

use crate::accounts::summary::{SummaryColumn, SummaryTable, SummaryValues};
use crate::core::error::Result;
use crate::io::tables::{write_columns, Columns, Layout, Part, Staging};
use crate::io::text::Coded;

/// The summary table (scenario, year, level, area, metric, mean, centiles, runs) as
/// columns made on demand, so that it is written without a frame of it ever being whole:
/// [`write_columns`].
struct SummaryColumns<'a>(&'a SummaryTable);

impl Columns for SummaryColumns<'_> {
    fn height(&self) -> usize {
        self.0.len()
    }

    fn schema(&self) -> Schema {
        SummaryColumn::ALL
            .iter()
            .map(|c| {
                let dtype = match c {
                    SummaryColumn::Year => DataType::Int32,
                    SummaryColumn::Stat(_) => DataType::Float64,
                    SummaryColumn::Runs => DataType::UInt32,
                    _ => DataType::String,
                };
                Field::new(c.name().into(), dtype)
            })
            .collect()
    }

    fn part(&self, i: usize, rows: std::ops::Range<usize>) -> PolarsResult<Part<'_>> {
        let c = SummaryColumn::ALL[i];
        let name = c.name();
        Ok(match self.0.column(c, rows) {
            SummaryValues::Text { names, codes } => Part::Coded(Coded {
                name,
                dict: names,
                codes,
            }),
            SummaryValues::Int(v) => Part::Plain(Column::new(name.into(), v)),
            SummaryValues::Float(v) => Part::Plain(Column::new(name.into(), v)),
            SummaryValues::Count(v) => Part::Plain(Column::new(name.into(), v)),
        })
    }
}

/// Writes the summary table `name` in `layout`, a column (Parquet) or a block of rows
/// (CSV) at a time.
pub fn write_summary_table(
    staging: &mut Staging,
    layout: &Layout,
    name: &str,
    table: &SummaryTable,
) -> Result<()> {
    write_columns(staging, layout, name, &SummaryColumns(table))
}
