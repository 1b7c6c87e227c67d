//! Batch evaluation: many cases evaluated in parallel (rayon), written in
//! input order, with memory bounded by the chunk size.
//!
//! Output is written straight from the result structs into per-task byte
//! buffers by the hand-written JSON writer in `write.rs` (the same bytes as
//! serde's serialization); no `serde_json::Value` tree is built on the way.
//! Buffers are reused from chunk to chunk, and writing one chunk and reading
//! the next overlap with evaluating the current one.
//!
//! JSON Lines are read into one reused string per chunk, at most [`CHUNK`]
//! cases and 16 MiB. A line longer than [`MAX_LINE`] (64 KiB) stops the
//! batch with [`BatchError::LineTooLong`] as soon as that much of it is read
//! (a `Take` over the reader's own buffer), so memory is bounded whatever the
//! input. Each chunk's cases are evaluated in parallel (rayon) into per-task
//! buffers, inside `rayon::in_place_scope`, so input and output stay on the
//! calling thread. Cases are read by the hand-written reader of `case/fast.rs`
//! for well-formed input and by serde otherwise, so errors stay serde's.
//! `Detail::Brief` leaves out `reasons` and the explanation-only fields (see
//! `docs/policy-pack.md`, "Results"). The results' own `Serialize` impls stay
//! the reference, and are what the API uses.

use crate::case::{Case, CaseError, parse_case};
use crate::error::without_position;
use crate::eval::{Detail, PackAt};
use crate::write;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::io::{self, BufRead, Read, Write};

/// Cases read, evaluated and written per step.
pub const CHUNK: usize = 4096;

/// The longest line of JSON Lines accepted, its newline included: a case is
/// a few KB, so this is far beyond any real one. A longer line stops the
/// batch with [`BatchError::LineTooLong`] as soon as this much of it has
/// been read; it is never held whole.
pub const MAX_LINE: usize = 64 * 1024;

/// Input bytes one chunk holds at most, besides its last line: with
/// [`MAX_LINE`] this bounds memory whatever the input (two chunks are held,
/// the one evaluated and the one read meanwhile). Real cases fill
/// [`CHUNK`] cases long before this.
const CHUNK_BYTES: usize = 16 * 1024 * 1024;

/// Cases one rayon task serializes into a single buffer: large enough to
/// amortise the task, small enough to balance two cores.
const TASK: usize = 64;

/// Why a batch could not run at all (bad cases do not stop it).
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    #[error("{0}")]
    Io(#[from] io::Error),
    #[error("not JSON: {message} at line {line} column {column}")]
    NotJson {
        line: usize,
        column: usize,
        message: String,
    },
    /// Line `line` (1-based) is longer than `max` bytes.
    #[error("line {line} is longer than {max} bytes")]
    LineTooLong { line: usize, max: usize },
}

impl BatchError {
    pub fn code(&self) -> &'static str {
        match self {
            BatchError::Io(_) => "io",
            BatchError::NotJson { .. } => "not_json",
            BatchError::LineTooLong { .. } => "line_too_long",
        }
    }
}

/// A case that could not be evaluated; its error object is in the output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseFailure {
    /// 1-based position among the cases.
    pub position: usize,
    /// 1-based input line, for JSON Lines.
    pub line: Option<usize>,
    pub id: Option<String>,
    pub error: CaseError,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BatchSummary {
    pub cases: usize,
    pub failed: usize,
}

#[derive(Serialize)]
struct ErrorOutput<'a> {
    id: Option<&'a str>,
    error: &'a CaseError,
}

/// Just enough of a case to echo its id when the rest is bad.
#[derive(Deserialize)]
struct IdProbe {
    person: Option<PersonIdProbe>,
}

#[derive(Deserialize)]
struct PersonIdProbe {
    id: Option<String>,
}

pub(crate) fn probe_id(json: &str) -> Option<String> {
    serde_json::from_str::<IdProbe>(json).ok()?.person?.id
}

/// Evaluates one case given as JSON and appends its output object (results
/// or error) to `out`. Returns the error and the case's id when it was bad.
pub fn evaluate_json(
    at: &PackAt,
    detail: Detail,
    json: &str,
    out: &mut Vec<u8>,
) -> Result<(), (Option<String>, CaseError)> {
    let parsed = parse_case(json).and_then(|case| case.validate(at.pack()).map(|()| case));
    match parsed {
        Ok(case) => {
            write::case_start(out, case.person.id.as_deref(), at.as_of());
            at.each_result(&case, detail, |i, r| {
                write::case_result(out, at.pack(), i, r);
            });
            write::case_end(out);
            Ok(())
        }
        Err(error) => {
            let id = probe_id(json);
            let output = ErrorOutput {
                id: id.as_deref(),
                error: &error,
            };
            serde_json::to_writer(out, &output)
                .expect("serializing these types into a Vec cannot fail");
            Err((id, error))
        }
    }
}

/// Writes one case's evaluation as a single-case answer — exactly the bytes
/// `serde_json` writes for the [`crate::CaseEvaluation`] of the same results
/// (`{"pack","id","as_of","results"}`) — without building it: the API's
/// one-case answer at the batch path's speed.
pub fn write_evaluation(at: &PackAt, case: &Case, detail: Detail, out: &mut Vec<u8>) {
    write::evaluation_start(out, at.pack(), case.person.id.as_deref(), at.as_of());
    at.each_result(case, detail, |i, r| {
        write::case_result(out, at.pack(), i, r)
    });
    write::case_end(out);
}

/// How output objects are laid out.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Framing {
    /// One object a line.
    Lines,
    /// Elements of one JSON array, one a line.
    Array,
}

/// One task's output: its cases' bytes and failures. Kept from chunk to
/// chunk, so that the buffers keep their capacity (fresh multi-megabyte
/// buffers cost a page fault every 4 KiB).
#[derive(Default)]
struct TaskOutput {
    buf: Vec<u8>,
    failures: Vec<CaseFailure>,
}

/// The outputs of one chunk's tasks, in order; `used` of them are current.
#[derive(Default)]
struct ChunkOutput {
    tasks: Vec<TaskOutput>,
    used: usize,
}

/// The mean output size of a case so far, to size the task buffers.
struct LineSize {
    bytes: usize,
    cases: usize,
    guess: usize,
}

impl LineSize {
    fn new(detail: Detail) -> Self {
        let guess = match detail {
            Detail::Full => 16 * 1024,
            Detail::Brief => 4 * 1024,
        };
        LineSize {
            bytes: 0,
            cases: 0,
            guess,
        }
    }

    fn mean(&self) -> usize {
        match self.cases {
            0 => self.guess,
            n => self.bytes / n + 64,
        }
    }
}

/// Evaluates a slice of cases in parallel into `out`: one buffer per task,
/// in order, each holding its cases' output, plus the failures.
fn evaluate_chunk(
    at: &PackAt,
    detail: Detail,
    cases: &[(usize, Option<usize>, &str)],
    framing: Framing,
    line_size: usize,
    out: &mut ChunkOutput,
) {
    let tasks = cases.len().div_ceil(TASK);
    if out.tasks.len() < tasks {
        out.tasks.resize_with(tasks, TaskOutput::default);
    }
    out.used = tasks;
    cases
        .par_chunks(TASK)
        .zip(out.tasks[..tasks].par_iter_mut())
        .for_each(|(task, output)| {
            let TaskOutput { buf, failures } = output;
            buf.clear();
            failures.clear();
            buf.reserve(task.len() * line_size);
            for &(position, line, json) in task {
                if framing == Framing::Array {
                    // The position says whether a comma is due, so tasks
                    // need not know about each other.
                    buf.extend_from_slice(if position == 1 { b"\n" } else { b",\n" });
                }
                if let Err((id, error)) = evaluate_json(at, detail, json, buf) {
                    failures.push(CaseFailure {
                        position,
                        line,
                        id,
                        error,
                    });
                }
                if framing == Framing::Lines {
                    buf.push(b'\n');
                }
            }
        });
}

/// Writes an evaluated chunk in order and reports its failures.
fn write_chunk<W: Write>(
    output: &mut W,
    chunk: &mut ChunkOutput,
    summary: &mut BatchSummary,
    line_size: &mut LineSize,
    on_failure: &mut impl FnMut(&CaseFailure),
) -> io::Result<()> {
    for task in &chunk.tasks[..chunk.used] {
        output.write_all(&task.buf)?;
        line_size.bytes += task.buf.len();
        summary.failed += task.failures.len();
        task.failures.iter().for_each(&mut *on_failure);
    }
    chunk.used = 0;
    Ok(())
}

/// Evaluates `cases` into `evaluated` on the rayon pool while this thread
/// writes the previous chunk (`done`) and runs `meanwhile` (reading the next
/// one): output and input stay on the calling thread, so neither needs to
/// be `Send`.
#[allow(clippy::too_many_arguments)]
fn overlapped<W: Write, T>(
    at: &PackAt,
    detail: Detail,
    cases: &[(usize, Option<usize>, &str)],
    framing: Framing,
    evaluated: &mut ChunkOutput,
    done: &mut ChunkOutput,
    output: &mut W,
    summary: &mut BatchSummary,
    line_size: &mut LineSize,
    on_failure: &mut impl FnMut(&CaseFailure),
    meanwhile: impl FnOnce() -> T,
) -> (io::Result<()>, T) {
    let mean = line_size.mean();
    // The closure runs here; only the spawned evaluation goes to the pool,
    // and the scope waits for it before returning (panics propagate).
    rayon::in_place_scope(|scope| {
        scope.spawn(|_| evaluate_chunk(at, detail, cases, framing, mean, evaluated));
        let written = write_chunk(output, done, summary, line_size, on_failure);
        (written, meanwhile())
    })
}

/// Reads JSON Lines (one case a line; blank lines are skipped) and writes one
/// output object a line, in input order. Reading the next chunk and writing
/// the previous one overlap with evaluating the current one.
pub fn evaluate_jsonl<R: BufRead + Send, W: Write>(
    at: &PackAt,
    detail: Detail,
    mut input: R,
    mut output: W,
    mut progress: impl FnMut(usize),
    mut on_failure: impl FnMut(&CaseFailure),
) -> Result<BatchSummary, BatchError> {
    let mut summary = BatchSummary::default();
    let mut line_size = LineSize::new(detail);
    let mut reader = LineReader::default();
    let (mut current, mut next) = (Lines::default(), Lines::default());
    let (mut evaluated, mut done) = (ChunkOutput::default(), ChunkOutput::default());
    reader.fill(&mut input, &mut current)?;
    while !current.cases.is_empty() {
        let cases = current.cases();
        let (written, read) = overlapped(
            at,
            detail,
            &cases,
            Framing::Lines,
            &mut evaluated,
            &mut done,
            &mut output,
            &mut summary,
            &mut line_size,
            &mut on_failure,
            || reader.fill(&mut input, &mut next),
        );
        written?;
        summary.cases += cases.len();
        line_size.cases = summary.cases;
        drop(cases);
        std::mem::swap(&mut evaluated, &mut done);
        std::mem::swap(&mut current, &mut next);
        if let Err(e) = read {
            // What was evaluated before the bad read is still written.
            write_chunk(
                &mut output,
                &mut done,
                &mut summary,
                &mut line_size,
                &mut on_failure,
            )?;
            progress(summary.cases);
            return Err(e);
        }
        progress(summary.cases);
    }
    write_chunk(
        &mut output,
        &mut done,
        &mut summary,
        &mut line_size,
        &mut on_failure,
    )?;
    output.flush()?;
    Ok(summary)
}

/// Up to [`CHUNK`] cases of JSON Lines in one reused string.
#[derive(Default)]
pub(crate) struct Lines {
    text: String,
    /// (case position, line number, start, end) of each case in `text`.
    pub(crate) cases: Vec<(usize, usize, usize, usize)>,
}

impl Lines {
    pub(crate) fn cases(&self) -> Vec<(usize, Option<usize>, &str)> {
        self.cases
            .iter()
            .map(|&(position, line, start, end)| (position, Some(line), &self.text[start..end]))
            .collect()
    }
}

/// Numbers lines and cases across chunks.
#[derive(Default)]
pub(crate) struct LineReader {
    line: usize,
    cases: usize,
}

impl LineReader {
    /// Refills `lines` with up to [`CHUNK`] non-blank lines (fewer when
    /// they pass [`CHUNK_BYTES`]), each at most [`MAX_LINE`] bytes.
    pub(crate) fn fill(
        &mut self,
        input: &mut impl BufRead,
        lines: &mut Lines,
    ) -> Result<(), BatchError> {
        lines.text.clear();
        lines.cases.clear();
        while lines.cases.len() < CHUNK && lines.text.len() < CHUNK_BYTES {
            let start = lines.text.len();
            // Reads through the input's own buffer, stopping one byte past
            // the limit: the check costs no copy and no more memory.
            let mut bounded = input.by_ref().take(MAX_LINE as u64 + 1);
            let read = bounded.read_line(&mut lines.text);
            if bounded.limit() == 0 {
                lines.text.truncate(start);
                return Err(BatchError::LineTooLong {
                    line: self.line + 1,
                    max: MAX_LINE,
                });
            }
            if read? == 0 {
                break;
            }
            self.line += 1;
            if lines.text[start..].trim().is_empty() {
                lines.text.truncate(start);
                continue;
            }
            self.cases += 1;
            lines
                .cases
                .push((self.cases, self.line, start, lines.text.len()));
        }
        Ok(())
    }
}

/// Evaluates a JSON document — an array of cases or a single case — and
/// writes a JSON array of output objects, one a line, in input order.
pub fn evaluate_document<W: Write>(
    at: &PackAt,
    detail: Detail,
    text: &str,
    mut output: W,
    mut progress: impl FnMut(usize),
    mut on_failure: impl FnMut(&CaseFailure),
) -> Result<BatchSummary, BatchError> {
    let not_json = |e: serde_json::Error| BatchError::NotJson {
        line: e.line(),
        column: e.column(),
        message: without_position(&e.to_string()).to_owned(),
    };
    let document: &RawValue = serde_json::from_str(text).map_err(not_json)?;
    let items: Vec<&RawValue> = if document.get().starts_with('[') {
        serde_json::from_str(document.get()).map_err(not_json)?
    } else {
        vec![document]
    };
    let mut summary = BatchSummary::default();
    let mut line_size = LineSize::new(detail);
    let (mut evaluated, mut done) = (ChunkOutput::default(), ChunkOutput::default());
    output.write_all(b"[")?;
    for (chunk_index, chunk) in items.chunks(CHUNK).enumerate() {
        let first = chunk_index * CHUNK;
        let cases: Vec<_> = chunk
            .iter()
            .enumerate()
            .map(|(i, raw)| (first + i + 1, None, raw.get()))
            .collect();
        let (written, ()) = overlapped(
            at,
            detail,
            &cases,
            Framing::Array,
            &mut evaluated,
            &mut done,
            &mut output,
            &mut summary,
            &mut line_size,
            &mut on_failure,
            || {},
        );
        written?;
        summary.cases += cases.len();
        line_size.cases = summary.cases;
        std::mem::swap(&mut evaluated, &mut done);
        progress(summary.cases);
    }
    write_chunk(
        &mut output,
        &mut done,
        &mut summary,
        &mut line_size,
        &mut on_failure,
    )?;
    output.write_all(b"\n]\n")?;
    output.flush()?;
    Ok(summary)
}
