//! Apache Parquet in and out of `policy eval` and `policy whatif`, for
//! analysts who open cases and results in pandas or polars.
//!
//! Cases: one row per case, its columns the case's JSON shape: `person` and
//! `enterprise` structs with the spec's field names, and `granted`, a list
//! of `{programme, from, to}` structs; dates as `date32` or ISO text. A null
//! is a fact not known, as a key left out of JSON is (so a case that knows
//! the person has no Shenzhen hukou, a known null, is for JSON Lines).
//! Each batch of rows is written as JSON Lines by arrow-json and read by
//! the same case parser as JSON Lines input, so a case means the same in
//! either format and its errors name the same fields.
//!
//! Results (`--format parquet`, brief detail): one row per case, as the
//! JSON Lines output: `id`, `as_of` (`date32`), `results` (a list of
//! `{programme, status, kind, amount_fen, ceiling_fen, monthly_fen, months,
//! missing_facts, note}` structs), and `error` (`{field, problem}`) for a
//! case that could not be evaluated. In polars,
//! `df.explode("results").unnest("results")` gives one row per programme.

use arrow_array::RecordBatch;
use arrow_json::reader::Decoder;
use arrow_schema::{ArrowError, DataType, Field, Fields, Schema, SchemaRef};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use std::io::{self, Read, Write};
use std::path::Path;
use std::sync::Arc;

/// Rows read and written at a time.
const BATCH_ROWS: usize = 8192;

/// Whether `file` names a Parquet file (by its extension).
pub fn is_parquet(file: &str) -> bool {
    Path::new(file)
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("parquet"))
}

fn io_error(e: impl std::error::Error + Send + Sync + 'static) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e)
}

/// The cases of a Parquet file as JSON Lines, a batch of rows at a time.
pub struct CaseLines {
    batches: ParquetRecordBatchReader,
    buffer: Vec<u8>,
    read: usize,
}

impl CaseLines {
    pub fn open(path: &str) -> io::Result<CaseLines> {
        let file = std::fs::File::open(path)?;
        let batches = ParquetRecordBatchReaderBuilder::try_new(file)
            .map_err(io_error)?
            .with_batch_size(BATCH_ROWS)
            .build()
            .map_err(io_error)?;
        Ok(CaseLines {
            batches,
            buffer: Vec::new(),
            read: 0,
        })
    }

    /// Writes the next batch of rows as JSON Lines into the buffer; false
    /// at the end of the file.
    fn refill(&mut self) -> io::Result<bool> {
        let Some(batch) = self.batches.next() else {
            return Ok(false);
        };
        let batch = batch.map_err(io_error)?;
        self.buffer.clear();
        self.read = 0;
        let mut writer = arrow_json::LineDelimitedWriter::new(&mut self.buffer);
        writer.write(&batch).map_err(io_error)?;
        writer.finish().map_err(io_error)?;
        Ok(true)
    }
}

impl Read for CaseLines {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.read == self.buffer.len() {
            if !self.refill()? {
                return Ok(0);
            }
        }
        let n = out.len().min(self.buffer.len() - self.read);
        out[..n].copy_from_slice(&self.buffer[self.read..self.read + n]);
        self.read += n;
        Ok(n)
    }
}

/// The schema of the results written as Parquet: the brief JSON Lines
/// output's.
pub fn results_schema() -> SchemaRef {
    let result = Fields::from(vec![
        Field::new("programme", DataType::Utf8, false),
        Field::new("status", DataType::Utf8, false),
        Field::new("kind", DataType::Utf8, false),
        Field::new("amount_fen", DataType::Int64, true),
        Field::new("ceiling_fen", DataType::Int64, true),
        Field::new("monthly_fen", DataType::Int64, true),
        Field::new("months", DataType::Int64, true),
        Field::new(
            "missing_facts",
            DataType::List(Arc::new(Field::new("item", DataType::Utf8, false))),
            false,
        ),
        Field::new("note", DataType::Utf8, true),
    ]);
    let error = Fields::from(vec![
        Field::new("field", DataType::Utf8, false),
        Field::new("problem", DataType::Utf8, false),
    ]);
    Arc::new(Schema::new(vec![
        Field::new("id", DataType::Utf8, true),
        Field::new("as_of", DataType::Date32, true),
        Field::new(
            "results",
            DataType::List(Arc::new(Field::new(
                "item",
                DataType::Struct(result),
                false,
            ))),
            true,
        ),
        Field::new("error", DataType::Struct(error), true),
    ]))
}

/// Takes the brief JSON Lines output of an evaluation and writes it as
/// Parquet: complete lines are decoded into batches as they come.
pub struct ResultsWriter<W: Write + Send> {
    decoder: Decoder,
    writer: ArrowWriter<W>,
    /// Bytes of a line not yet complete.
    pending: Vec<u8>,
}

impl<W: Write + Send> ResultsWriter<W> {
    pub fn new(out: W) -> io::Result<ResultsWriter<W>> {
        let schema = results_schema();
        let decoder = arrow_json::ReaderBuilder::new(schema.clone())
            .with_batch_size(BATCH_ROWS)
            .build_decoder()
            .map_err(io_error)?;
        let properties = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .build();
        let writer = ArrowWriter::try_new(out, schema, Some(properties)).map_err(io_error)?;
        Ok(ResultsWriter {
            decoder,
            writer,
            pending: Vec::new(),
        })
    }

    fn decode(&mut self, mut bytes: &[u8]) -> Result<(), ArrowError> {
        while !bytes.is_empty() {
            let used = self.decoder.decode(bytes)?;
            bytes = &bytes[used..];
            // The decoder stops when its batch is full: write it, go on.
            match self.decoder.flush()? {
                Some(batch) => self.write_batch(&batch)?,
                None if used == 0 => {
                    return Err(ArrowError::JsonError(
                        "an output line does not decode".into(),
                    ));
                }
                None => {}
            }
        }
        Ok(())
    }

    fn write_batch(&mut self, batch: &RecordBatch) -> Result<(), ArrowError> {
        self.writer
            .write(batch)
            .map_err(|e| ArrowError::ExternalError(Box::new(e)))
    }

    /// Writes what is left and the file's footer.
    pub fn finish(mut self) -> io::Result<W> {
        let rest = std::mem::take(&mut self.pending);
        self.decode(&rest).map_err(io_error)?;
        self.writer.into_inner().map_err(io_error)
    }
}

impl<W: Write + Send> Write for ResultsWriter<W> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        // Only whole lines go to the decoder, so that a batch never ends
        // inside a case.
        match bytes.iter().rposition(|&b| b == b'\n') {
            None => self.pending.extend_from_slice(bytes),
            Some(end) => {
                let mut lines = std::mem::take(&mut self.pending);
                lines.extend_from_slice(&bytes[..=end]);
                self.decode(&lines).map_err(io_error)?;
                self.pending.extend_from_slice(&bytes[end + 1..]);
            }
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
