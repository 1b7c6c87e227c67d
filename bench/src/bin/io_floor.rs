//! The I/O floor of `opcity policy eval --format jsonl`: everything the batch engine does except
//! evaluating — read the JSON Lines input in chunks, parse and validate each case with the same
//! parser (`Pack::parse_case`), in parallel on the same rayon pool, and write one output line per
//! case of a fixed size (the mean size of the real output, given on the command line) — so that
//! `opcity time / floor time` says how much evaluating and serializing the results add. It uses
//! the batch engine's I/O scheme too: reused per-task buffers, and the previous chunk written and
//! the next read while the current one is parsed.
//!
//! ```text
//! cargo run --release -p opcity-bench --bin io_floor -- PACK_DIR IN.jsonl OUT.jsonl BYTES_PER_LINE
//! ```

use opcity_policy::Pack;
use rayon::prelude::*;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::time::Instant;

/// Same chunk and task sizes as `opcity_policy::batch`.
const CHUNK: usize = 4096;
const TASK: usize = 64;

/// Up to `CHUNK` non-blank lines in one reused string, as the batch engine
/// reads them: (start, end) of each line.
fn read_chunk(
    input: &mut impl BufRead,
    text: &mut String,
    lines: &mut Vec<(usize, usize)>,
) -> io::Result<()> {
    text.clear();
    lines.clear();
    while lines.len() < CHUNK {
        let start = text.len();
        if input.read_line(text)? == 0 {
            break;
        }
        if text[start..].trim().is_empty() {
            text.truncate(start);
        } else {
            lines.push((start, text.len()));
        }
    }
    Ok(())
}

/// One output line of exactly `bytes` bytes (newline included) naming the case.
fn write_line(out: &mut Vec<u8>, id: Option<&str>, bytes: usize) {
    let start = out.len();
    out.extend_from_slice(b"{\"id\":");
    serde_json::to_writer(&mut *out, &id).expect("writing to a Vec cannot fail");
    out.extend_from_slice(b",\"pad\":\"");
    let used = out.len() - start + 3; // closing `"}` and newline
    out.resize(out.len() + bytes.saturating_sub(used), b'x');
    out.extend_from_slice(b"\"}\n");
}

/// Parses a chunk's cases in parallel into the reused per-task buffers
/// (as the batch engine does); returns the bad cases.
fn process(pack: &Pack, lines: &[&str], bytes: usize, buffers: &mut Vec<Vec<u8>>) -> usize {
    let tasks = lines.len().div_ceil(TASK);
    buffers.resize_with(tasks, Vec::new);
    lines
        .par_chunks(TASK)
        .zip(buffers.par_iter_mut())
        .map(|(task, buf)| {
            buf.clear();
            buf.reserve(task.len() * bytes);
            let mut bad = 0;
            for line in task {
                match pack.parse_case(line) {
                    Ok(case) => write_line(buf, case.person.id.as_deref(), bytes),
                    Err(_) => {
                        bad += 1;
                        write_line(buf, None, bytes);
                    }
                }
            }
            bad
        })
        .sum()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [pack_dir, input, output, bytes] = args.as_slice() else {
        return Err("usage: io_floor PACK_DIR IN.jsonl OUT.jsonl BYTES_PER_LINE".into());
    };
    let bytes: usize = bytes.parse()?;
    let pack = Pack::load_dir(pack_dir).map_err(|e| format!("{e:?}"))?;
    let started = Instant::now();
    let mut input = BufReader::with_capacity(1 << 16, File::open(input)?);
    let mut output = BufWriter::with_capacity(1 << 16, File::create(output)?);
    let (mut cases, mut bad) = (0, 0);
    let (mut text, mut next_text) = (String::new(), String::new());
    let (mut lines, mut next_lines) = (Vec::new(), Vec::new());
    // Double-buffered like the batch engine: the previous chunk is written
    // and the next one read while the current one is parsed.
    let (mut parsed, mut done): (Vec<Vec<u8>>, Vec<Vec<u8>>) = (Vec::new(), Vec::new());
    read_chunk(&mut input, &mut text, &mut lines)?;
    while !lines.is_empty() {
        let cases_now: Vec<&str> = lines.iter().map(|&(s, e)| &text[s..e]).collect();
        let mut chunk_bad = 0;
        let (written, read) = rayon::in_place_scope(|scope| {
            scope.spawn(|_| chunk_bad = process(&pack, &cases_now, bytes, &mut parsed));
            let written = done.iter().try_for_each(|buf| output.write_all(buf));
            (
                written,
                read_chunk(&mut input, &mut next_text, &mut next_lines),
            )
        });
        written?;
        read?;
        cases += cases_now.len();
        bad += chunk_bad;
        drop(cases_now);
        std::mem::swap(&mut parsed, &mut done);
        std::mem::swap(&mut text, &mut next_text);
        std::mem::swap(&mut lines, &mut next_lines);
    }
    for buf in &done {
        output.write_all(buf)?;
    }
    output.flush()?;
    eprintln!(
        "io_floor: {cases} cases ({bad} bad) in {:.3}s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
