//! The I/O floor of `opcity policy eval --format jsonl`: everything the batch engine does except
//! evaluating — read the JSON Lines input in chunks, parse and validate each case with the same
//! parser (`Pack::parse_case`), in parallel on the same rayon pool, and write one output line per
//! case of a fixed size (the mean size of the real output, given on the command line) — so that
//! `opcity time / floor time` says how much evaluating and serializing the results add.
//!
//! ```text
//! cargo run --release -p opcity-policy --example io_floor -- PACK_DIR IN.jsonl OUT.jsonl BYTES_PER_LINE
//! ```

use opcity_policy::Pack;
use rayon::prelude::*;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::time::Instant;

/// Same chunk and task sizes as `opcity_policy::batch`.
const CHUNK: usize = 4096;
const TASK: usize = 64;

fn read_chunk(input: &mut impl BufRead) -> io::Result<Vec<String>> {
    let mut chunk = Vec::with_capacity(CHUNK);
    while chunk.len() < CHUNK {
        let mut text = String::new();
        if input.read_line(&mut text)? == 0 {
            break;
        }
        if !text.trim().is_empty() {
            chunk.push(text);
        }
    }
    Ok(chunk)
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

fn process(pack: &Pack, lines: &[String], bytes: usize) -> (Vec<Vec<u8>>, usize) {
    let buffers: Vec<(Vec<u8>, usize)> = lines
        .par_chunks(TASK)
        .map(|task| {
            let mut buf = Vec::with_capacity(task.len() * bytes);
            let mut bad = 0;
            for line in task {
                match pack.parse_case(line) {
                    Ok(case) => write_line(&mut buf, case.person.id.as_deref(), bytes),
                    Err(_) => {
                        bad += 1;
                        write_line(&mut buf, None, bytes);
                    }
                }
            }
            (buf, bad)
        })
        .collect();
    let bad = buffers.iter().map(|(_, b)| b).sum();
    (buffers.into_iter().map(|(buf, _)| buf).collect(), bad)
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
    let mut current = read_chunk(&mut input)?;
    while !current.is_empty() {
        let (next, (buffers, chunk_bad)) = rayon::join(
            || read_chunk(&mut input),
            || process(&pack, &current, bytes),
        );
        for buf in buffers {
            output.write_all(&buf)?;
        }
        cases += current.len();
        bad += chunk_bad;
        current = next?;
    }
    output.flush()?;
    eprintln!(
        "io_floor: {cases} cases ({bad} bad) in {:.3}s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
