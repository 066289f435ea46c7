//! Tables out, atomically. With `datasets`, the only module that knows polars.
//!
//! Every file of a run is first written into a staging folder inside the output folder and
//! renamed into place only when all of them are complete, so a failed or interrupted run
//! leaves no partial table. Tables are written in batches of neighbourhoods, so memory
//! stays small even for all of England.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::accounts::capitation::Budgets;
use crate::accounts::metric::Metric;
use crate::accounts::metrics::Metrics;
use crate::core::care::Setting;
use crate::core::dims::{n_cells, Cell, BAND_LABELS, N_BANDS, N_IMD, N_SEX, SEX_LABELS};
use crate::core::error::{CapsimError, Result};
use crate::core::level::Level;
use crate::data::geography::Geography;
use crate::engine::simulation::NeighbourhoodResult;
use crate::io::summary::parameters_frame;
use crate::io::text::{Coded, Texts};

crate::labelled_enum! {
    /// The tables every scenario-run writes: flat as `NAME.parquet` and `NAME.csv`, or as
    /// one Hive partition of a batch. A new per-run table is a variant here and its arm in
    /// [`write_run`]; batches, merges and tests take the list from here.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum RunTable {
        Population => "population",
        Flows => "flows",
        Activity => "activity",
        Metrics => "metrics",
        Budgets => "budgets",
        Parameters => "parameters",
    }
}

/// One scenario-run's simulated results and drawn parameters: what its tables are made
/// from, with the metrics and budgets computed from them.
pub struct RunOutput<'a> {
    pub geography: &'a Geography,
    pub segments: &'a [String],
    pub results: &'a [NeighbourhoodResult],
    /// Drawn uncertain parameters (name, value).
    pub draws: &'a [(String, f64)],
    /// An earlier scenario-run of the same staging folder on the same population path:
    /// its population and flows tables are this run's too (the same people), so their
    /// files are copied instead of encoded again.
    pub same_people_as: Option<&'a Layout>,
}

/// Whether a table depends only on the population path (people and their flows), so
/// scenario-runs sharing a path share it byte for byte.
fn of_people(table: RunTable) -> bool {
    matches!(table, RunTable::Population | RunTable::Flows)
}

/// Whether a table is made from the simulated results alone (and can be written while
/// the metrics and budgets are computed).
fn from_results(table: RunTable) -> bool {
    match table {
        RunTable::Population | RunTable::Flows | RunTable::Activity => true,
        RunTable::Metrics | RunTable::Budgets | RunTable::Parameters => false,
    }
}

/// Writes every [`RunTable`] of one scenario-run in `layout`, and returns the metrics and
/// budgets `derive` computes. The tables made from the results alone are each written on
/// a thread of their own while `derive` runs on this one: the tables are independent
/// files, so their bytes do not depend on it, and a large run's writing, which had
/// followed the parallel simulation on one core, overlaps with itself and the accounts.
pub fn write_run(
    staging: &mut Staging,
    layout: &Layout,
    run: &RunOutput,
    derive: impl FnOnce() -> (Metrics, Budgets),
) -> Result<(Metrics, Budgets)> {
    let streamed = results_tables(staging, layout, run)?;
    std::thread::scope(|scope| {
        let writers: Vec<_> = streamed
            .into_iter()
            .map(|(table, paths)| scope.spawn(move || write_results_table(table, &paths, run)))
            .collect();
        let mut written = write_run_accounts(staging, layout, run, derive);
        for w in writers {
            let r = w.join().expect("table writers do not panic");
            written = written.and_then(|accounts| r.map(|_| accounts));
        }
        written
    })
}

/// Writes the tables of one scenario-run made from its results alone (population, flows,
/// activity), one after another, so that its care by segment, which only the activity
/// table reads, can be dropped before the accounts are computed ([`write_run_accounts`]):
/// for real England that is 100 MB less held while they are, and one table's batch being
/// encoded at a time rather than three, less again.
pub fn write_run_results(staging: &mut Staging, layout: &Layout, run: &RunOutput) -> Result<()> {
    results_tables(staging, layout, run)?
        .into_iter()
        .try_for_each(|(table, paths)| write_results_table(table, &paths, run))
}

/// Writes the other tables of a scenario-run whose results tables [`write_run_results`]
/// wrote, and returns the metrics and budgets `derive` computes.
pub fn write_run_accounts(
    staging: &mut Staging,
    layout: &Layout,
    run: &RunOutput,
    derive: impl FnOnce() -> (Metrics, Budgets),
) -> Result<(Metrics, Budgets)> {
    let (metrics, budgets) = derive();
    write_accounts(staging, layout, run, &metrics, &budgets)?;
    Ok((metrics, budgets))
}

/// The tables made from a run's results that are to be encoded, with their paths; those
/// of the same people as an earlier run are copied here.
fn results_tables(
    staging: &mut Staging,
    layout: &Layout,
    run: &RunOutput,
) -> Result<Vec<(RunTable, TablePaths)>> {
    let mut streamed = Vec::new();
    for table in RunTable::ALL.into_iter().filter(|t| from_results(*t)) {
        let source = run
            .same_people_as
            .filter(|_| of_people(table))
            .map(|earlier| staging.staged(earlier, table.id()));
        let paths = staging.table_paths(layout, table.id())?;
        match source {
            Some(from) => copy_table(&from, &paths)?,
            None => streamed.push((table, paths)),
        }
    }
    Ok(streamed)
}

/// Writes one table made from a run's results, a batch of neighbourhoods at a time.
fn write_results_table(table: RunTable, paths: &TablePaths, run: &RunOutput) -> Result<()> {
    let (g, segments, results) = (run.geography, run.segments, run.results);
    let n = results.len();
    match table {
        RunTable::Population => {
            write_streamed(paths, n, |r| population_frame(g, segments, results, r))
        }
        RunTable::Flows => write_streamed(paths, n, |r| flows_frame(g, results, r)),
        RunTable::Activity => write_streamed(paths, n, |r| activity_frame(g, segments, results, r)),
        _ => unreachable!("only tables made from results are streamed"),
    }
}

/// Writes the tables of a run's accounts: metrics, budgets and drawn parameters.
fn write_accounts(
    staging: &mut Staging,
    layout: &Layout,
    run: &RunOutput,
    metrics: &Metrics,
    budgets: &Budgets,
) -> Result<()> {
    for table in RunTable::ALL.into_iter().filter(|t| !from_results(*t)) {
        match table {
            RunTable::Metrics => {
                write_columns(staging, layout, table.id(), &MetricsColumns::new(metrics))?
            }
            RunTable::Budgets => write_table(
                staging,
                layout,
                table.id(),
                &budgets_frame(run.geography, budgets),
            )?,
            RunTable::Parameters => {
                write_frame(staging, layout, table.id(), &parameters_frame(run.draws)?)?
            }
            _ => unreachable!("tables made from results are streamed"),
        }
    }
    Ok(())
}

/// Copies a table's files written earlier into the paths of another.
fn copy_table(from: &TablePaths, to: &TablePaths) -> Result<()> {
    let copy = |a: &Path, b: &Path| std::fs::copy(a, b).map_err(|e| CapsimError::io(b, e));
    copy(&from.parquet, &to.parquet)?;
    if let (Some(a), Some(b)) = (&from.csv, &to.csv) {
        copy(a, b)?;
    }
    Ok(())
}

/// Neighbourhoods per written batch: bounds memory while keeping row groups large.
const BATCH: usize = 64;

/// Tables that a person opens in a spreadsheet: written as CSV beside their Parquet in the
/// flat layout. The big per-run tables (population, flows, activity, metrics) are read by
/// programs and by the report, and their CSV would dominate a large run's time and disk
/// (940 MB of `population.csv` for England over 10 years), so they are CSV only on request
/// ([`Staging::with_all_csv`], `--csv`).
pub const CSV_TABLES: [&str; 14] = [
    "summary",
    "sensitivity",
    "one_way",
    "risk",
    "budgets",
    "budget_table",
    "formula_weights",
    "parameters",
    "incremental",
    "ceaf",
    "geography",
    "published_icbs",
    "validation",
    "published_vs_estimated",
];

/// A folder that files are written into before being moved, all together, into place.
pub struct Staging {
    dir: PathBuf,
    target: PathBuf,
    files: Vec<String>,
    committed: bool,
    /// Every flat table also as CSV, not only [`CSV_TABLES`].
    all_csv: bool,
}

impl Staging {
    pub fn new(target: &Path) -> Result<Self> {
        Self::at(target, format!(".capsim-staging-{}", std::process::id()))
    }

    /// A staging folder with a name of its own (several may be open in one process).
    pub fn named(target: &Path, tag: &str) -> Result<Self> {
        Self::at(
            target,
            format!(".capsim-staging-{}-{tag}", std::process::id()),
        )
    }

    fn at(target: &Path, name: String) -> Result<Self> {
        std::fs::create_dir_all(target).map_err(|e| CapsimError::io(target, e))?;
        let dir = target.join(name);
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(|e| CapsimError::io(&dir, e))?;
        }
        std::fs::create_dir(&dir).map_err(|e| CapsimError::io(&dir, e))?;
        Ok(Staging {
            dir,
            target: target.to_path_buf(),
            files: Vec::new(),
            committed: false,
            all_csv: false,
        })
    }

    /// Asks for every flat table as CSV too (`--csv`), not only [`CSV_TABLES`].
    pub fn with_all_csv(mut self, all: bool) -> Self {
        self.all_csv = all;
        self
    }

    /// Registers the files of table `name` in `layout`: its Parquet path and, for the
    /// flat layout, its CSV path when that table is written as CSV.
    fn table_paths(&mut self, layout: &Layout, name: &str) -> Result<TablePaths> {
        let (pq, csv) = layout.files(name);
        Ok(TablePaths {
            parquet: self.path(&pq)?,
            csv: match csv.filter(|_| self.wants_csv(name)) {
                Some(c) => Some(self.path(&c)?),
                None => None,
            },
        })
    }

    /// The paths table `name` in `layout` was written to in this folder.
    fn staged(&self, layout: &Layout, name: &str) -> TablePaths {
        let (pq, csv) = layout.files(name);
        TablePaths {
            parquet: self.dir.join(pq),
            csv: csv
                .filter(|_| self.wants_csv(name))
                .map(|c| self.dir.join(c)),
        }
    }

    /// Whether flat table `name` is written as CSV too.
    fn wants_csv(&self, name: &str) -> bool {
        self.all_csv || CSV_TABLES.contains(&name)
    }

    /// A path in the staging folder for a file that will be moved to `target/name`;
    /// `name` may contain folders.
    pub fn path(&mut self, name: &str) -> Result<PathBuf> {
        self.files.push(name.to_string());
        let p = self.dir.join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).map_err(|e| CapsimError::io(parent, e))?;
        }
        Ok(p)
    }

    /// Moves every staged file into the target folder (each rename is atomic).
    pub fn commit(mut self) -> Result<()> {
        for name in &self.files {
            let to = self.target.join(name);
            if let Some(parent) = to.parent() {
                std::fs::create_dir_all(parent).map_err(|e| CapsimError::io(parent, e))?;
            }
            std::fs::rename(self.dir.join(name), &to).map_err(|e| CapsimError::io(&to, e))?;
        }
        self.committed = true;
        std::fs::remove_dir_all(&self.dir).map_err(|e| CapsimError::io(&self.dir, e))
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Writes one table as Parquet (and CSV when asked), batch by batch.
struct TableWriter {
    parquet: polars::io::parquet::write::BatchedWriter<BufWriter<File>>,
    /// Parquet's types, encodings and write options of each column, as polars'
    /// `ParquetWriter` sets them: row groups are encoded here (see [`dictionary_of`]).
    fields: Vec<polars_parquet::write::ParquetType>,
    encodings: Vec<Vec<polars_parquet::write::Encoding>>,
    options: polars_parquet::write::WriteOptions,
    csv: Option<CsvBatches>,
    path: PathBuf,
}

/// Where a run's tables go: flat (`NAME.parquet`, and `NAME.csv` for [`CSV_TABLES`] or when
/// asked) or one Hive partition of a batch (`NAME/scenario=S/run=K/part-0.parquet`,
/// Parquet only).
#[derive(Debug, Clone)]
pub enum Layout {
    Flat,
    Partition { scenario: String, run: u64 },
}

impl Layout {
    /// (Parquet file name, CSV file name if the layout can have one) of table `name`.
    pub fn files(&self, name: &str) -> (String, Option<String>) {
        match self {
            Layout::Flat => (format!("{name}.parquet"), Some(format!("{name}.csv"))),
            Layout::Partition { scenario, run } => (
                format!("{name}/scenario={scenario}/run={run}/part-0.parquet"),
                None,
            ),
        }
    }
}

fn write_err(path: &Path, e: PolarsError) -> CapsimError {
    CapsimError::Write {
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
}

/// Where one table's files go in a staging folder.
struct TablePaths {
    parquet: PathBuf,
    csv: Option<PathBuf>,
}

impl TableWriter {
    fn new(paths: &TablePaths, schema: &Schema) -> Result<Self> {
        let open = |p: &Path| {
            File::create(p)
                .map(BufWriter::new)
                .map_err(|e| CapsimError::io(p, e))
        };
        let csv = match &paths.csv {
            Some(p) => Some(
                CsvWriter::new(open(p)?)
                    .include_header(true)
                    .batched(schema)
                    .map_err(|e| write_err(p, e))?,
            ),
            None => None,
        };
        let pq = &paths.parquet;
        let mut parquet = ParquetWriter::new(open(pq)?)
            .batched(schema)
            .map_err(|e| write_err(pq, e))?;
        let arrow = schema.to_arrow(CompatLevel::newest());
        Ok(TableWriter {
            fields: parquet.parquet_schema().fields().to_vec(),
            encodings: get_encodings(&arrow).iter().cloned().collect(),
            // What `ParquetWriter::new` writes with.
            options: polars_parquet::write::WriteOptions {
                statistics: StatisticsOptions::default(),
                compression: ParquetCompression::default().into(),
                version: polars_parquet::write::Version::V1,
                data_page_size: None,
            },
            parquet,
            csv,
            path: pq.clone(),
        })
    }

    /// Writes `df` to the Parquet file and, on a thread of its own, to the CSV file: the two
    /// encodings share nothing, and for England's summary and budgets (100 MB of CSV each)
    /// doing them one after the other was a second of the run's serial tail.
    fn write(&mut self, df: &DataFrame) -> Result<()> {
        self.beside_csv(|w| w.write_parquet(df), |csv| csv.write_batch(df))
    }

    /// Writes the Parquet file with `parquet` on this thread while `csv` writes the CSV
    /// file, if any, on a thread of its own.
    fn beside_csv(
        &mut self,
        parquet: impl FnOnce(&mut Self) -> PolarsResult<()>,
        csv: impl FnOnce(&mut CsvBatches) -> PolarsResult<()> + Send,
    ) -> Result<()> {
        let mut writer = self.csv.take();
        let (parquet, csv_written) = std::thread::scope(|scope| {
            let csv = writer.as_mut().map(|w| scope.spawn(move || csv(w)));
            let parquet = parquet(self);
            let csv = csv.map(|c| c.join().expect("the CSV writer does not panic"));
            (parquet, csv)
        });
        self.csv = writer;
        parquet.map_err(|e| write_err(&self.path, e))?;
        csv_written
            .transpose()
            .map_err(|e| write_err(&self.path, e))?;
        Ok(())
    }

    /// Writes `table` like [`TableWriter::write`] writes its frame, with the dictionary of
    /// each coded column made from its codes ([`dictionary_from_codes`]). The CSV file,
    /// if any, is written from the frame with its text gathered.
    fn write_table(&mut self, table: &Table) -> Result<()> {
        let single = table.parts.iter().all(|p| match p {
            Part::Plain(c) => c.n_chunks() == 1,
            Part::Coded(_) => true,
        });
        if self.csv.is_some() || !single {
            return self.write(&table.frame()?);
        }
        if table.height == 0 {
            return Ok(());
        }
        let arrays = table
            .parts
            .iter()
            .map(Part::array)
            .collect::<PolarsResult<Vec<_>>>()
            .map_err(|e| write_err(&self.path, e))?;
        self.write_row_group(table.height, &arrays)
            .map_err(|e| write_err(&self.path, e))
    }

    /// Writes a [`Columns`] table with the bytes [`TableWriter::write`] writes for its
    /// frame in one chunk, without the frame: Parquet as one row group whose columns are
    /// each made, encoded and written before the next is made, and the CSV file, on a
    /// thread of its own, a block of rows at a time. So at most one column and one block
    /// are in memory (real England's summary frame was about 1 GB).
    fn write_columns(&mut self, table: &dyn Columns) -> Result<()> {
        self.beside_csv(
            |w| w.parquet_by_columns(table),
            |csv| csv_in_blocks(csv, table),
        )
    }

    /// One row group of every row of `table`, its columns made one at a time as the
    /// writer asks for them.
    fn parquet_by_columns(&mut self, table: &dyn Columns) -> PolarsResult<()> {
        use polars_parquet::write::DynIter;
        let rows = table.height();
        if rows == 0 {
            return Ok(());
        }
        let (fields, encodings, options) = (&self.fields, &self.encodings, self.options);
        let columns = (0..fields.len()).flat_map(move |i| {
            let pages = table
                .part(i, 0..rows)
                .and_then(|p| p.array())
                .and_then(|a| compressed_pages(a.as_ref(), &fields[i], options, &encodings[i]));
            match pages {
                Ok(pages) => pages.into_iter().map(Ok).collect(),
                Err(e) => vec![Err(e)],
            }
        });
        let mut writer = self.parquet.get_writer().lock().expect("not poisoned");
        writer.write(rows as u64, DynIter::new(columns))
    }

    /// Writes `df` as row groups, one per chunk, as `BatchedWriter::write_batch` does, but
    /// with each text column that is worth a dictionary handed over as one
    /// ([`dictionary_of`]), so the writer does not build it by hashing every row.
    fn write_parquet(&mut self, df: &DataFrame) -> PolarsResult<()> {
        for batch in df.iter_chunks(CompatLevel::newest(), false) {
            let rows = batch.len();
            if rows == 0 {
                continue;
            }
            let arrays: Vec<Box<dyn polars_arrow::array::Array>> = batch
                .columns()
                .iter()
                .map(|array| match dictionary_of(array.as_ref()) {
                    Some(d) => d.boxed(),
                    None => array.clone(),
                })
                .collect();
            self.write_row_group(rows, &arrays)?;
        }
        Ok(())
    }

    /// Encodes and compresses one row group's columns as polars' writer does, and writes it.
    fn write_row_group(
        &mut self,
        rows: usize,
        arrays: &[Box<dyn polars_arrow::array::Array>],
    ) -> PolarsResult<()> {
        use polars_parquet::write::DynIter;
        let mut columns = Vec::new();
        for ((array, field), encoding) in arrays.iter().zip(&self.fields).zip(&self.encodings) {
            columns.extend(compressed_pages(
                array.as_ref(),
                field,
                self.options,
                encoding,
            )?);
        }
        let mut writer = self.parquet.get_writer().lock().expect("not poisoned");
        writer.write(rows as u64, DynIter::new(columns.into_iter().map(Ok)))
    }

    fn finish(mut self) -> Result<()> {
        self.parquet
            .finish()
            .map_err(|e| write_err(&self.path, e))?;
        if let Some(csv) = &mut self.csv {
            csv.finish().map_err(|e| write_err(&self.path, e))?;
        }
        Ok(())
    }
}

/// A column's pages, encoded and compressed as polars' writer does, made as the file
/// writer takes them.
fn compressed_pages(
    array: &dyn polars_arrow::array::Array,
    field: &polars_parquet::write::ParquetType,
    options: polars_parquet::write::WriteOptions,
    encoding: &[polars_parquet::write::Encoding],
) -> PolarsResult<
    Vec<
        polars_parquet::write::DynStreamingIterator<
            'static,
            polars_parquet::write::CompressedPage,
            PolarsError,
        >,
    >,
> {
    use polars_parquet::write::{
        array_to_columns, Compressor, DynStreamingIterator, FallibleStreamingIterator,
    };
    Ok(array_to_columns(array, field.clone(), options, encoding)?
        .into_iter()
        .map(|pages| {
            let pages = pages.map(|page| {
                page.map_err(|e| {
                    polars_parquet::read::ParquetError::FeatureNotSupported(format!(
                        "reraised in polars: {e}"
                    ))
                })
            });
            DynStreamingIterator::new(
                Compressor::new_from_vec(pages, options.compression, vec![])
                    .map_err(PolarsError::from),
            )
        })
        .collect())
}

/// Rows of a CSV file a block at a time: [`TableWriter::write_columns`].
/// The CSV file's writer, fed a frame (a batch of rows) at a time.
type CsvBatches = polars::io::csv::write::BatchedWriter<BufWriter<File>>;

const CSV_BLOCK: usize = 1 << 16;

/// Writes every row of `table` to `csv`, a block of [`CSV_BLOCK`] rows at a time (the
/// header with the first; an empty table writes its header alone).
fn csv_in_blocks(csv: &mut CsvBatches, table: &dyn Columns) -> PolarsResult<()> {
    let (n, width) = (table.height(), table.width());
    let mut start = 0;
    loop {
        let rows = start..(start + CSV_BLOCK).min(n);
        let columns = (0..width)
            .map(|i| table.part(i, rows.clone())?.column())
            .collect::<PolarsResult<Vec<Column>>>()?;
        csv.write_batch(&DataFrame::new(rows.len(), columns)?)?;
        start = rows.end;
        if start >= n {
            return Ok(());
        }
    }
}

/// A text column as the dictionary polars' Parquet writer would make of it, or `None` to
/// leave the choice to the writer (other types, nulls, or many distinct values).
///
/// The writer dictionary-encodes a text column unless it estimates that more than three
/// quarters of its values are distinct, by casting it to a dictionary: keys in the order
/// values are first seen, found by hashing every row's string. Our text columns are
/// gathered from small dictionaries ([`crate::io::text`]), so equal values mostly share
/// one 16-byte view, and the same dictionary is found by hashing views, with a string
/// looked up only for a view not seen before. Only columns with at most half their values
/// distinct are handed over, where the writer's estimate (exact to a few percent) would
/// certainly choose a dictionary too: the pages written are the same.
fn dictionary_of(
    array: &dyn polars_arrow::array::Array,
) -> Option<polars_arrow::array::DictionaryArray<u32>> {
    use polars_arrow::array::{Array, Utf8ViewArray};
    let array = array.as_any().downcast_ref::<Utf8ViewArray>()?;
    let n = array.len();
    if n == 0 || array.null_count() > 0 {
        return None;
    }
    let mut by_view: std::collections::HashMap<u128, u32, ViewHash> = Default::default();
    let mut by_text: std::collections::HashMap<&str, u32> = Default::default();
    let mut values: Vec<&str> = Vec::new();
    let mut keys: Vec<u32> = Vec::with_capacity(n);
    let mut last: Option<(u128, u32)> = None;
    for (i, view) in array.views().iter().enumerate() {
        let bits = view.as_u128();
        let key = match last {
            Some((b, k)) if b == bits => k,
            _ => match by_view.get(&bits) {
                Some(k) => *k,
                None => {
                    let text = array.value(i);
                    let k = *by_text.entry(text).or_insert_with(|| {
                        values.push(text);
                        (values.len() - 1) as u32
                    });
                    by_view.insert(bits, k);
                    k
                }
            },
        };
        last = Some((bits, key));
        keys.push(key);
        if values.len() > n.div_ceil(2) && n > 128 {
            return None;
        }
    }
    if n > 128 && 2 * values.len() > n {
        return None;
    }
    text_dictionary(keys, &values)
}

/// A dictionary-encoded text array as the writer's own cast makes it.
fn text_dictionary(
    keys: Vec<u32>,
    values: &[&str],
) -> Option<polars_arrow::array::DictionaryArray<u32>> {
    use polars_arrow::array::{DictionaryArray, PrimitiveArray, Utf8ViewArray};
    use polars_arrow::datatypes::{ArrowDataType, IntegerType};
    DictionaryArray::try_new(
        ArrowDataType::Dictionary(
            IntegerType::UInt32,
            Box::new(ArrowDataType::Utf8View),
            false,
        ),
        PrimitiveArray::from_vec(keys),
        Utf8ViewArray::from_slice_values(values).boxed(),
    )
    .ok()
}

/// Hashes a string view (16 bytes) by folding and multiplying: views are keys of a small
/// table in [`dictionary_of`], where SipHash per row would cost more than the lookup.
#[derive(Default, Clone, Copy)]
struct ViewHash;

impl std::hash::BuildHasher for ViewHash {
    type Hasher = ViewHasher;
    fn build_hasher(&self) -> ViewHasher {
        ViewHasher(0)
    }
}

struct ViewHasher(u64);

impl std::hash::Hasher for ViewHasher {
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0.rotate_left(5) ^ *b as u64).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }

    fn write_u128(&mut self, v: u128) {
        let folded = (v as u64) ^ ((v >> 64) as u64).rotate_left(32);
        self.0 = (self.0 ^ folded).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }

    fn finish(&self) -> u64 {
        self.0 ^ (self.0 >> 29)
    }
}

/// Writes one whole frame as a table in `layout`.
pub fn write_frame(
    staging: &mut Staging,
    layout: &Layout,
    name: &str,
    df: &DataFrame,
) -> Result<()> {
    let mut w = TableWriter::new(&staging.table_paths(layout, name)?, df.schema())?;
    w.write(df)?;
    w.finish()
}

/// Writes one whole [`Table`] in `layout`.
fn write_table(staging: &mut Staging, layout: &Layout, name: &str, t: &Table) -> Result<()> {
    let mut w = TableWriter::new(&staging.table_paths(layout, name)?, &t.schema())?;
    w.write_table(t)?;
    w.finish()
}

/// A column of a [`Table`]: plain, or text kept as codes.
pub enum Part<'a> {
    Plain(Column),
    Coded(Coded<'a>),
}

impl Part<'_> {
    /// The column as written to Parquet: a text column worth a dictionary as the
    /// dictionary the writer would make ([`dictionary_of`], [`dictionary_from_codes`]).
    /// A plain column must be one chunk.
    fn array(&self) -> PolarsResult<Box<dyn polars_arrow::array::Array>> {
        Ok(match self {
            Part::Plain(c) => {
                let array = c
                    .as_materialized_series()
                    .to_arrow(0, CompatLevel::newest());
                match dictionary_of(array.as_ref()) {
                    Some(d) => d.boxed(),
                    None => array,
                }
            }
            Part::Coded(c) => match dictionary_from_codes(&c.dict, &c.codes) {
                Some(d) => d.boxed(),
                None => c
                    .column()?
                    .as_materialized_series()
                    .to_arrow(0, CompatLevel::newest()),
            },
        })
    }

    /// The column as a frame holds it, coded text gathered.
    fn column(&self) -> PolarsResult<Column> {
        match self {
            Part::Plain(c) => Ok(c.clone()),
            Part::Coded(c) => c.column(),
        }
    }
}

/// A table whose columns are made on demand for any range of its rows, written by
/// [`write_columns`] without ever being whole in memory.
pub trait Columns: Sync {
    /// Rows.
    fn height(&self) -> usize;
    /// The columns' names and types, in order.
    fn schema(&self) -> Schema;
    fn width(&self) -> usize {
        self.schema().len()
    }
    /// Column `i` over `rows`.
    fn part(&self, i: usize, rows: std::ops::Range<usize>) -> PolarsResult<Part<'_>>;
}

/// Writes a [`Columns`] table in `layout`: the same bytes as [`write_frame`] of its
/// frame, a column (Parquet) or a block of rows (CSV) at a time.
pub fn write_columns(
    staging: &mut Staging,
    layout: &Layout,
    name: &str,
    table: &dyn Columns,
) -> Result<()> {
    let mut w = TableWriter::new(&staging.table_paths(layout, name)?, &table.schema())?;
    w.write_columns(table)?;
    w.finish()
}

/// A table to write whose text columns built from codes stay codes: Parquet takes each
/// one's dictionary straight from its codes, so no row's text is gathered (16 bytes a row
/// a column) or hashed; only a CSV file gathers them. The population table of England has
/// 18 million rows and six text columns.
struct Table<'a> {
    parts: Vec<Part<'a>>,
    height: usize,
}

impl Table<'_> {
    fn schema(&self) -> Schema {
        self.parts
            .iter()
            .map(|p| match p {
                Part::Plain(c) => c.field().into_owned(),
                Part::Coded(c) => Field::new(c.name.into(), DataType::String),
            })
            .collect()
    }

    /// The table as a frame, its coded columns gathered into text.
    fn frame(&self) -> Result<DataFrame> {
        let err = |e| write_err(Path::new("(table)"), e);
        let columns = self
            .parts
            .iter()
            .map(Part::column)
            .collect::<PolarsResult<Vec<Column>>>()
            .map_err(err)?;
        DataFrame::new(self.height, columns).map_err(err)
    }
}

/// The dictionary polars' Parquet writer would make of a column that is `dict[codes[i]]`
/// at row `i` (see [`dictionary_of`]): values in the order first seen, equal texts one
/// value; `None` when more than half the rows are distinct.
fn dictionary_from_codes(
    dict: &[&str],
    codes: &[IdxSize],
) -> Option<polars_arrow::array::DictionaryArray<u32>> {
    let n = codes.len();
    if n == 0 {
        return None;
    }
    // Equal texts under two codes are one value, as when the writer hashes the text.
    let mut first_of: std::collections::HashMap<&str, usize> = Default::default();
    let same: Vec<usize> = dict
        .iter()
        .enumerate()
        .map(|(i, t)| *first_of.entry(t).or_insert(i))
        .collect();
    let mut key_of = vec![u32::MAX; dict.len()];
    let mut values: Vec<&str> = Vec::new();
    let mut keys: Vec<u32> = Vec::with_capacity(n);
    for c in codes {
        let c = same[*c as usize];
        if key_of[c] == u32::MAX {
            key_of[c] = values.len() as u32;
            values.push(dict[c]);
        }
        keys.push(key_of[c]);
    }
    if n > 128 && 2 * values.len() > n {
        return None;
    }
    text_dictionary(keys, &values)
}

/// The metrics of one scenario-run as a table written a column at a time
/// ([`write_columns`]), its text columns straight from the rows' codes:
/// no frame of real England's 1.3 million rows of text a scenario is ever made.
pub struct MetricsColumns<'a> {
    m: &'a Metrics,
    /// Each metric's name, by its code in `m`.
    names: Vec<String>,
}

impl<'a> MetricsColumns<'a> {
    pub fn new(m: &'a Metrics) -> Self {
        MetricsColumns {
            m,
            names: m.metrics().iter().map(Metric::name).collect(),
        }
    }
}

impl Columns for MetricsColumns<'_> {
    fn height(&self) -> usize {
        self.m.len()
    }

    fn schema(&self) -> Schema {
        [
            ("year", DataType::Int32),
            ("level", DataType::String),
            ("area", DataType::String),
            ("metric", DataType::String),
            ("value", DataType::Float64),
        ]
        .into_iter()
        .map(|(name, dtype)| Field::new(name.into(), dtype))
        .collect()
    }

    fn part(&self, i: usize, rows: std::ops::Range<usize>) -> PolarsResult<Part<'_>> {
        let m = self.m;
        let coded = |name, dict, codes| Part::Coded(Coded { name, dict, codes });
        Ok(match i {
            0 => Part::Plain(Column::new("year".into(), &m.year[rows])),
            1 => coded(
                "level",
                Level::ALL.iter().map(|l| l.id()).collect(),
                m.level[rows].iter().map(|l| l.index() as IdxSize).collect(),
            ),
            2 => coded(
                "area",
                m.areas().iter().map(String::as_str).collect(),
                rows.map(|i| m.area_code(i) as IdxSize).collect(),
            ),
            3 => coded(
                "metric",
                self.names.iter().map(String::as_str).collect(),
                rows.map(|i| m.metric_code(i) as IdxSize).collect(),
            ),
            _ => Part::Plain(Column::new("value".into(), &m.value[rows])),
        })
    }
}

/// Geography columns repeated on every row: which neighbourhood a row belongs to, as codes
/// into the geography's names (see [`crate::io::text`]). The code one past the last name is
/// the nation (`system`) or empty (`place`, `neighbourhood`), for rows of wider areas.
struct Area<'a> {
    g: &'a Geography,
    system: Vec<IdxSize>,
    place: Vec<IdxSize>,
    neighbourhood: Vec<IdxSize>,
}

impl<'a> Area<'a> {
    fn new(g: &'a Geography, rows: usize) -> Self {
        Area {
            g,
            system: Vec::with_capacity(rows),
            place: Vec::with_capacity(rows),
            neighbourhood: Vec::with_capacity(rows),
        }
    }

    /// `rows` rows of neighbourhood `k`.
    fn push_n(&mut self, k: usize, rows: usize) {
        let place = self.g.neighbourhoods[k].place;
        let system = self.g.places[place].system;
        self.push_codes(system, place, k, rows);
    }

    fn push(&mut self, k: usize) {
        self.push_n(k, 1);
    }

    /// The nation's code of `system`, or the empty code of `place` or `neighbourhood`.
    fn none(&self) -> (usize, usize, usize) {
        (
            self.g.systems.len(),
            self.g.places.len(),
            self.g.neighbourhoods.len(),
        )
    }

    fn push_codes(&mut self, system: usize, place: usize, neighbourhood: usize, rows: usize) {
        let n = self.system.len() + rows;
        self.system.resize(n, system as IdxSize);
        self.place.resize(n, place as IdxSize);
        self.neighbourhood.resize(n, neighbourhood as IdxSize);
    }

    /// The area columns: each name, and beside the system and place their codes (ICB and
    /// sub-ICB location codes of real England or an imported folder; empty where the
    /// geography has none, as the invented presets, and on the nation's rows). The code
    /// columns share the name columns' codes, so they cost no pass over the rows.
    fn parts(self) -> [Part<'a>; 5] {
        use crate::core::level::ENGLAND;
        let g = self.g;
        let mut systems: Vec<&str> = g.systems.iter().map(String::as_str).collect();
        systems.push(ENGLAND);
        let mut system_codes: Vec<&str> = (0..g.systems.len())
            .map(|s| {
                g.system_codes
                    .get(s)
                    .and_then(|c| c.as_deref())
                    .unwrap_or("")
            })
            .collect();
        system_codes.push("");
        let mut places: Vec<&str> = g.places.iter().map(|p| p.name.as_str()).collect();
        places.push("");
        let mut place_codes: Vec<&str> = g
            .places
            .iter()
            .map(|p| p.code.as_deref().unwrap_or(""))
            .collect();
        place_codes.push("");
        let mut nbs: Vec<&str> = g.neighbourhoods.iter().map(|n| n.name.as_str()).collect();
        nbs.push("");
        [
            labels("system", systems, self.system.clone()),
            labels("system_code", system_codes, self.system),
            labels("place", places, self.place.clone()),
            labels("place_code", place_codes, self.place),
            labels("neighbourhood", nbs, self.neighbourhood),
        ]
    }
}

fn frame<'a>(year: Vec<i32>, area: Area<'a>, rest: Vec<Part<'a>>) -> Table<'a> {
    let height = year.len();
    let mut parts = vec![Part::Plain(Column::new("year".into(), year))];
    parts.extend(area.parts());
    parts.extend(rest);
    Table { parts, height }
}

/// A text column of codes into `dict`, for the tables of this module.
fn labels<'a>(name: &'a str, dict: Vec<&'a str>, codes: Vec<IdxSize>) -> Part<'a> {
    Part::Coded(Coded { name, dict, codes })
}

/// Population at the start of each year by age band, sex, quintile and segment. Cells with
/// nobody in them are left out (a missing row means zero people).
fn population_frame<'a>(
    g: &'a Geography,
    segments: &'a [String],
    results: &[NeighbourhoodResult],
    range: std::ops::Range<usize>,
) -> Result<Table<'a>> {
    let ns = segments.len();
    let cells = n_cells(ns);
    // Rows counted first, so no column grows by copying itself.
    let rows: usize = results[range.clone()]
        .iter()
        .map(|r| r.census.iter().filter(|n| **n != 0).count())
        .sum();
    let (mut year, mut area) = (Vec::with_capacity(rows), Area::new(g, rows));
    let with = |n| Vec::<IdxSize>::with_capacity(n);
    let (mut band, mut sex, mut seg) = (with(rows), with(rows), with(rows));
    let (mut imd, mut people) = (Vec::with_capacity(rows), Vec::with_capacity(rows));
    for k in range {
        let census = &results[k].census;
        let before = year.len();
        for (y, snapshot) in census.chunks(cells).enumerate() {
            for b in 0..N_BANDS {
                for x in 0..N_SEX {
                    for q in 0..N_IMD {
                        for s in 0..ns {
                            let n = snapshot[Cell {
                                band: b,
                                sex: x,
                                imd: q,
                                segment: s,
                            }
                            .census(ns)];
                            if n == 0 {
                                continue;
                            }
                            year.push(y as i32 + 1);
                            band.push(b as IdxSize);
                            sex.push(x as IdxSize);
                            imd.push(q as i32 + 1);
                            seg.push(s as IdxSize);
                            people.push(n);
                        }
                    }
                }
            }
        }
        area.push_n(k, year.len() - before);
    }
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    Ok(frame(
        year,
        area,
        vec![
            labels("age_band", BAND_LABELS.to_vec(), band),
            labels("sex", SEX_LABELS.to_vec(), sex),
            Part::Plain(Column::new("imd_quintile".into(), imd)),
            labels("segment", segments, seg),
            Part::Plain(Column::new("people".into(), people)),
        ],
    ))
}

fn flows_frame<'a>(
    g: &'a Geography,
    results: &[NeighbourhoodResult],
    range: std::ops::Range<usize>,
) -> Result<Table<'a>> {
    let (mut year, mut area) = (Vec::new(), Area::new(g, 0));
    let mut cols: [Vec<u64>; 6] = Default::default();
    for k in range {
        for (y, f) in results[k].flows.iter().enumerate() {
            year.push(y as i32 + 1);
            area.push(k);
            let values = [
                f.start,
                f.births,
                f.deaths,
                f.migration_in,
                f.migration_out,
                f.end,
            ];
            for (c, v) in cols.iter_mut().zip(values) {
                c.push(v);
            }
        }
    }
    let names = [
        "start",
        "births",
        "deaths",
        "migration_in",
        "migration_out",
        "end",
    ];
    let rest = names
        .iter()
        .zip(cols)
        .map(|(n, c)| Part::Plain(Column::new((*n).into(), c)))
        .collect();
    Ok(frame(year, area, rest))
}

/// Activity counts and cost (pounds, from exact integer pence) by setting and segment.
fn activity_frame<'a>(
    g: &'a Geography,
    segments: &'a [String],
    results: &[NeighbourhoodResult],
    range: std::ops::Range<usize>,
) -> Result<Table<'a>> {
    let rows: usize = results[range.clone()]
        .iter()
        .map(|r| r.activity.len() * Setting::ALL.len() * segments.len())
        .sum();
    let (mut year, mut area) = (Vec::with_capacity(rows), Area::new(g, rows));
    let (mut setting, mut seg) = (Vec::with_capacity(rows), Vec::with_capacity(rows));
    let (mut count, mut cost) = (Vec::with_capacity(rows), Vec::with_capacity(rows));
    for k in range {
        let before = year.len();
        for (y, a) in results[k].activity.iter().enumerate() {
            for (i, s) in Setting::ALL.iter().enumerate() {
                for j in 0..segments.len() {
                    year.push(y as i32 + 1);
                    setting.push(i as IdxSize);
                    seg.push(j as IdxSize);
                    count.push(a.count_in_segment(*s, j));
                    cost.push(a.pence_in_segment(*s, j) as f64 / 100.0);
                }
            }
        }
        area.push_n(k, year.len() - before);
    }
    let settings: Vec<&str> = Setting::ALL.iter().map(|s| s.id()).collect();
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    Ok(frame(
        year,
        area,
        vec![
            labels("setting", settings, setting),
            labels("segment", segments, seg),
            Part::Plain(Column::new("count".into(), count)),
            Part::Plain(Column::new("cost".into(), cost)),
        ],
    ))
}

/// Writes a per-neighbourhood table in batches of neighbourhoods, so memory stays small
/// even for all of England: `build(range)` makes the rows of those neighbourhoods. (Building
/// the next batch while writing the last saved no time on two cores, and a population batch
/// of England holds about 150 MB while it is built.)
fn write_streamed<'a>(
    paths: &TablePaths,
    n: usize,
    build: impl Fn(std::ops::Range<usize>) -> Result<Table<'a>>,
) -> Result<()> {
    let first = build(0..BATCH.min(n))?;
    let mut writer = TableWriter::new(paths, &first.schema())?;
    writer.write_table(&first)?;
    drop(first);
    let mut start = BATCH;
    while start < n {
        writer.write_table(&build(start..(start + BATCH).min(n))?)?;
        start += BATCH;
    }
    writer.finish()
}

/// Writes `value` as pretty JSON into `staging`.
pub fn write_json(staging: &mut Staging, name: &str, value: &impl serde::Serialize) -> Result<()> {
    let path = staging.path(name)?;
    let mut f = File::create(&path).map_err(|e| CapsimError::io(&path, e))?;
    let text = serde_json::to_string_pretty(value).expect("serialisable");
    f.write_all(text.as_bytes())
        .and_then(|_| f.write_all(b"\n"))
        .map_err(|e| CapsimError::io(&path, e))
}

/// Writes `bytes` to `path` atomically: into a temporary file beside it, then renamed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| CapsimError::io(dir, e))?;
    let name = path
        .file_name()
        .map_or("file".into(), |n| n.to_string_lossy());
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    std::fs::write(&tmp, bytes).map_err(|e| CapsimError::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| CapsimError::io(path, e))
}

/// The budgets of one scenario-run as a frame (money in pounds, from exact pence).
fn budgets_frame<'a>(g: &'a Geography, b: &'a Budgets) -> Table<'a> {
    let mut area = Area::new(g, b.level.len());
    let (nation, no_place, no_nb) = area.none();
    for (level, k) in b.level.iter().zip(&b.area) {
        match level {
            Level::Neighbourhood => area.push(*k),
            Level::Place => area.push_codes(g.places[*k].system, *k, no_nb, 1),
            Level::System => area.push_codes(*k, no_place, no_nb, 1),
            Level::England => area.push_codes(nation, no_place, no_nb, 1),
            // A pool names the place or system it sits at.
            Level::Pool => {
                if b.pool_at == Some(Level::Place) {
                    area.push_codes(g.places[*k].system, *k, no_nb, 1);
                } else {
                    area.push_codes(*k, no_place, no_nb, 1);
                }
            }
            Level::ImdQuintile => unreachable!("budgets are set for areas, not quintiles"),
        }
    }
    let distance: Vec<i64> = b.budget.iter().zip(&b.target).map(|(b, t)| b - t).collect();
    let pounds = |v: &[i64]| -> Vec<f64> { v.iter().map(|p| *p as f64 / 100.0).collect() };
    let per_head = |v: &[i64]| -> Vec<f64> {
        v.iter()
            .zip(&b.people)
            .map(|(p, n)| *p as f64 / 100.0 / (*n).max(1) as f64)
            .collect()
    };
    let texts = |values: &mut dyn Iterator<Item = &'static str>| {
        let mut t = Texts::with_capacity(b.level.len());
        values.for_each(|v| t.push(v));
        t
    };
    let level = texts(&mut b.level.iter().map(|l| l.id()));
    let sector = texts(&mut b.sector.iter().map(|s| s.id()));
    let mut formula = Texts::with_capacity(b.formula.len());
    b.formula
        .iter()
        .for_each(|f| formula.push(&b.formulas[*f as usize]));
    let number = |name: &str, values: Vec<f64>| Part::Plain(Column::new(name.into(), values));
    frame(
        b.year.clone(),
        area,
        vec![
            Part::Coded(sector.into_coded("sector")),
            Part::Coded(formula.into_coded("formula")),
            Part::Plain(Column::new(
                "weighted_population".into(),
                &b.weighted_population,
            )),
            number("budget", pounds(&b.budget)),
            number("cash_cost", pounds(&b.spend)),
            number("position", pounds(&b.position)),
            number(
                "position_after_risk_share",
                pounds(&b.position_after_risk_share),
            ),
            Part::Coded(level.into_coded("level")),
            Part::Plain(Column::new("people".into(), &b.people)),
            number("budget_per_head", per_head(&b.budget)),
            number("cash_cost_per_head", per_head(&b.spend)),
            number("position_per_head", per_head(&b.position)),
            number("distance_from_target", pounds(&distance)),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [`TableWriter`] hands text columns to polars' Parquet writer as dictionaries it
    /// builds itself ([`dictionary_of`]); the files must be the bytes polars' own
    /// `ParquetWriter` writes, whatever the columns' cardinality (a few labels, more than
    /// half distinct, a short column, text gathered from codes). A polars upgrade that
    /// changes the writer's defaults or its dictionary rule fails here.
    #[test]
    fn parquet_is_the_bytes_polars_writes() {
        let n = 5_000;
        let words = ["0-4", "5-9", "male", "female", "healthy", "frailty", "90+"];
        let codes: Vec<IdxSize> = (0..n).map(|i| ((i * 7 + i / 3) % 7) as IdxSize).collect();
        let few: Vec<&str> = (0..n).map(|i| words[(i * 5 + i / 11) % 7]).collect();
        let many: Vec<String> = (0..n)
            .map(|i| format!("PCN {}", (i * 13) % 4_000))
            .collect();
        let half: Vec<String> = (0..n).map(|i| format!("area {}", i / 2)).collect();
        let frames = [
            DataFrame::new_infer_height(vec![
                Column::new("few".into(), &few),
                crate::io::text::coded("coded", &words, &codes).unwrap(),
                Column::new("many".into(), &many),
                Column::new("half".into(), &half),
                Column::new(
                    "value".into(),
                    (0..n).map(|i| i as f64 * 0.5).collect::<Vec<_>>(),
                ),
            ])
            .unwrap(),
            DataFrame::new_infer_height(vec![
                Column::new("short".into(), &few[..100]),
                Column::new("distinct".into(), &many[..100]),
            ])
            .unwrap(),
        ];
        let dir = tempfile::tempdir().unwrap();
        // Tables with coded columns: their dictionaries come from the codes.
        let dict = ["b", "a", "c", "a", ""];
        let names: Vec<String> = (0..4_000).map(|i| format!("PCN {i}")).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let table = |rows: usize| Table {
            parts: vec![
                labels(
                    "labels",
                    dict.to_vec(),
                    (0..rows)
                        .map(|i| ((i * 3 + i / 7) % 5) as IdxSize)
                        .collect(),
                ),
                labels(
                    "many",
                    names.clone(),
                    (0..rows).map(|i| ((i * 13) % 4_000) as IdxSize).collect(),
                ),
                labels(
                    "half",
                    names.clone(),
                    (0..rows).map(|i| (i / 2) as IdxSize).collect(),
                ),
                Part::Plain(Column::new("few".into(), &few[..rows])),
                Part::Plain(Column::new(
                    "value".into(),
                    (0..rows).map(|i| i as f64).collect::<Vec<_>>(),
                )),
            ],
            height: rows,
        };
        for (k, t) in [table(3_000), table(100)].iter().enumerate() {
            let ours = dir.path().join(format!("table-{k}.parquet"));
            let paths = TablePaths {
                parquet: ours.clone(),
                csv: None,
            };
            let mut w = TableWriter::new(&paths, &t.schema()).unwrap();
            w.write_table(t).unwrap();
            w.finish().unwrap();
            let theirs = dir.path().join(format!("frame-{k}.parquet"));
            ParquetWriter::new(File::create(&theirs).unwrap())
                .finish(&mut t.frame().unwrap())
                .unwrap();
            assert!(
                std::fs::read(&ours).unwrap() == std::fs::read(&theirs).unwrap(),
                "table {k}: our Parquet differs from polars' own"
            );
        }
        for (k, df) in frames.iter().enumerate() {
            let ours = dir.path().join(format!("ours-{k}.parquet"));
            let paths = TablePaths {
                parquet: ours.clone(),
                csv: None,
            };
            let mut w = TableWriter::new(&paths, df.schema()).unwrap();
            w.write(df).unwrap();
            w.finish().unwrap();
            let theirs = dir.path().join(format!("theirs-{k}.parquet"));
            ParquetWriter::new(File::create(&theirs).unwrap())
                .finish(&mut df.clone())
                .unwrap();
            assert!(
                std::fs::read(&ours).unwrap() == std::fs::read(&theirs).unwrap(),
                "frame {k}: our Parquet differs from polars' own"
            );
        }
    }

    /// A frame's columns sliced on demand, as a [`Columns`] table.
    struct Sliced<'a>(&'a DataFrame, Vec<&'a str>, Vec<IdxSize>);

    impl Columns for Sliced<'_> {
        fn height(&self) -> usize {
            self.0.height()
        }
        fn schema(&self) -> Schema {
            let mut schema = self.0.schema().as_ref().clone();
            schema
                .insert_at_index(0, "coded".into(), DataType::String)
                .unwrap();
            schema
        }
        fn part(&self, i: usize, rows: std::ops::Range<usize>) -> PolarsResult<Part<'_>> {
            if i == 0 {
                return Ok(labels("coded", self.1.clone(), self.2[rows].to_vec()));
            }
            let c = &self.0.columns()[i - 1];
            Ok(Part::Plain(
                c.slice(rows.start as i64, rows.len())
                    .as_materialized_series()
                    .rechunk()
                    .into_column(),
            ))
        }
    }

    /// A table written a column (Parquet) and a block of rows (CSV) at a time is the same
    /// bytes as its whole frame written at once, over more rows than a CSV block, and
    /// empty (a header alone).
    #[test]
    fn a_table_written_by_columns_is_the_bytes_of_its_frame() {
        let dir = tempfile::tempdir().unwrap();
        for (k, n) in [CSV_BLOCK * 2 + 17, 0].into_iter().enumerate() {
            let words = ["north", "south", "east", "", "west"];
            let codes: Vec<IdxSize> = (0..n).map(|i| ((i * 7 + i / 5) % 5) as IdxSize).collect();
            let df = DataFrame::new_infer_height(vec![
                Column::new(
                    "area".into(),
                    (0..n)
                        .map(|i| format!("PCN {}", i % 300))
                        .collect::<Vec<_>>(),
                ),
                Column::new(
                    "year".into(),
                    (0..n).map(|i| (i % 10) as i32).collect::<Vec<_>>(),
                ),
                Column::new(
                    "mean".into(),
                    (0..n).map(|i| (i as f64).sqrt() * 1e3).collect::<Vec<_>>(),
                ),
                Column::new("runs".into(), (0..n).map(|i| i as u32).collect::<Vec<_>>()),
            ])
            .unwrap();
            let table = Sliced(&df, words.to_vec(), codes);
            let mut whole = df.clone();
            whole
                .insert_column(
                    0,
                    crate::io::text::coded("coded", &words, &table.2).unwrap(),
                )
                .unwrap();
            let mut staging = Staging::named(dir.path(), &format!("s{k}"))
                .unwrap()
                .with_all_csv(true);
            write_columns(&mut staging, &Layout::Flat, "by_columns", &table).unwrap();
            write_frame(&mut staging, &Layout::Flat, "whole", &whole).unwrap();
            staging.commit().unwrap();
            for ext in ["parquet", "csv"] {
                let read =
                    |name: &str| std::fs::read(dir.path().join(format!("{name}.{ext}"))).unwrap();
                assert!(
                    read("by_columns") == read("whole"),
                    "{n} rows: {ext} differs"
                );
            }
        }
    }
}
