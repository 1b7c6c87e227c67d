//! JSON Lines input is bounded (issue 14, finding 6): a line longer than
//! `batch::MAX_LINE` stops the batch with an error naming it once that much
//! has been read, however long the line, and a batch's memory does not grow
//! with its input.

use chrono::NaiveDate;
use opcity_policy::{BatchError, Detail, Pack, batch};
use std::io::{BufReader, Read};
use std::path::PathBuf;

fn pack() -> Pack {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../policies/shenzhen-2026");
    Pack::load_dir(dir).expect("the Shenzhen pack loads")
}

/// `prefix`, then `b'a'` without end, failing the test once more than
/// `budget` bytes have been asked for.
struct Endless {
    prefix: Vec<u8>,
    given: usize,
    budget: usize,
}

impl Read for Endless {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        assert!(
            self.given <= self.budget,
            "read {} bytes of one line: the line is held whole",
            self.given
        );
        let n = buf.len().min(8192);
        for (i, b) in buf[..n].iter_mut().enumerate() {
            *b = self.prefix.get(self.given + i).copied().unwrap_or(b'a');
        }
        self.given += n;
        Ok(n)
    }
}

#[test]
fn an_endless_line_is_refused_naming_it() {
    let pack = pack();
    let at = pack.at(NaiveDate::from_ymd_opt(2026, 6, 1).unwrap());
    let first = br#"{"person":{"id":"p1"}}"#.to_vec();
    let input = Endless {
        prefix: [first.as_slice(), b"\n\n"].concat(),
        given: 0,
        budget: 4 * batch::MAX_LINE,
    };
    let mut out = Vec::new();
    let result = batch::evaluate_jsonl(
        &at,
        Detail::Brief,
        BufReader::new(input),
        &mut out,
        |_| {},
        |_| {},
    );
    match result {
        Err(BatchError::LineTooLong { line, max }) => {
            assert_eq!((line, max), (3, batch::MAX_LINE));
        }
        other => panic!("expected line_too_long, got {other:?}"),
    }
}

#[test]
fn lines_up_to_the_limit_are_read_and_one_past_it_is_not() {
    let pack = pack();
    let at = pack.at(NaiveDate::from_ymd_opt(2026, 6, 1).unwrap());
    let run = |line_len: usize| {
        // A case padded with spaces to `line_len` bytes, newline included.
        let case = r#"{"person":{"id":"p1"}}"#;
        let line = format!("{case}{}\n", " ".repeat(line_len - case.len() - 1));
        assert_eq!(line.len(), line_len);
        let mut out = Vec::new();
        batch::evaluate_jsonl(
            &at,
            Detail::Brief,
            line.as_bytes(),
            &mut out,
            |_| {},
            |_| {},
        )
        .map(|summary| summary.cases)
    };
    assert_eq!(run(batch::MAX_LINE).unwrap(), 1);
    assert!(matches!(
        run(batch::MAX_LINE + 1),
        Err(BatchError::LineTooLong { line: 1, .. })
    ));
}
