//! Reading an uploaded table: CSV (UTF-8, with or without a byte-order
//! mark, RFC 4180 quoting, by the `csv` crate) or the first worksheet of an
//! XLSX workbook (by `calamine`), into text cells numbered as the
//! spreadsheet numbers them (row 1 is the header, column A the first).

use crate::error::{FieldError, Result, ServiceError};
use calamine::{Data, Reader, Xlsx};
use std::io::Cursor;

/// The most data rows one file may hold.
pub const MAX_ROWS: usize = 200_000;

/// A table as read: its header cells and its non-empty rows.
#[derive(Debug, Default)]
pub(crate) struct Table {
    /// The spreadsheet row number of the header.
    pub header_row: usize,
    pub headers: Vec<String>,
    /// Each row's spreadsheet number and cells (trimmed).
    pub rows: Vec<(usize, Vec<String>)>,
}

/// `A` … `Z`, `AA` … for a 0-based column index.
pub fn column_letter(index: usize) -> String {
    let mut n = index + 1;
    let mut letters = Vec::new();
    while n > 0 {
        let rem = (n - 1) % 26;
        letters.push(char::from(b'A' + rem as u8));
        n = (n - 1) / 26;
    }
    letters.iter().rev().collect()
}

fn unreadable(reason: impl ToString) -> ServiceError {
    ServiceError::Validation(vec![
        FieldError::new("file", "unreadable_file").with("reason", reason),
    ])
}

/// Reads `content`: an XLSX workbook (a ZIP file, whatever its name says)
/// or CSV text.
pub(crate) fn read(content: &[u8]) -> Result<Table> {
    let rows = if content.starts_with(b"PK\x03\x04") {
        xlsx_rows(content)?
    } else {
        csv_rows(content)?
    };
    let mut rows = rows
        .into_iter()
        .filter(|(_, cells)| cells.iter().any(|c| !c.is_empty()));
    let Some((header_row, headers)) = rows.next() else {
        return Err(ServiceError::invalid("file", "empty_file"));
    };
    let rows: Vec<_> = rows.collect();
    if rows.is_empty() {
        return Err(ServiceError::invalid("file", "no_rows"));
    }
    if rows.len() > MAX_ROWS {
        return Err(ServiceError::Validation(vec![
            FieldError::new("file", "too_many_rows").with("max", MAX_ROWS),
        ]));
    }
    Ok(Table {
        header_row,
        headers,
        rows,
    })
}

fn csv_rows(content: &[u8]) -> Result<Vec<(usize, Vec<String>)>> {
    let content = content.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(content);
    if let Err(err) = std::str::from_utf8(content) {
        // Excel's plain "CSV" saves in the system code page (GBK in China).
        let line = content[..err.valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1;
        return Err(ServiceError::Validation(vec![
            FieldError::new("file", "not_utf8").with("line", line),
        ]));
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(content);
    let mut rows = Vec::new();
    // Line numbers are counted here: the reader's own count goes wrong
    // after blank CRLF lines, and its record offsets may point at the
    // terminator before the record.
    let (mut counted_to, mut line) = (0, 1);
    for record in reader.records() {
        let record = record.map_err(unreadable)?;
        let mut start = record.position().map_or(counted_to, |p| p.byte() as usize);
        while content
            .get(start)
            .is_some_and(|b| *b == b'\r' || *b == b'\n')
        {
            start += 1;
        }
        let start = start.max(counted_to);
        line += content[counted_to..start]
            .iter()
            .filter(|b| **b == b'\n')
            .count();
        counted_to = start;
        rows.push((line, record.iter().map(|c| c.trim().to_owned()).collect()));
    }
    Ok(rows)
}

fn xlsx_rows(content: &[u8]) -> Result<Vec<(usize, Vec<String>)>> {
    let mut book = Xlsx::new(Cursor::new(content)).map_err(unreadable)?;
    let range = match book.worksheet_range_at(0) {
        Some(range) => range.map_err(unreadable)?,
        None => return Err(ServiceError::invalid("file", "empty_file")),
    };
    let Some((first_row, first_column)) = range.start() else {
        return Ok(Vec::new());
    };
    // Cells left of the used range are empty: the table's columns are
    // numbered from A, as the spreadsheet shows them.
    let pad = first_column as usize;
    Ok(range
        .rows()
        .enumerate()
        .map(|(i, cells)| {
            let mut row = vec![String::new(); pad];
            row.extend(cells.iter().map(cell_text));
            (first_row as usize + i + 1, row)
        })
        .collect())
}

/// A workbook cell as the text a person would type into it.
fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.trim().to_owned(),
        Data::Int(i) => i.to_string(),
        // Whole numbers typed into a cell are stored as floats.
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(dt) => match dt.as_datetime() {
            Some(at) if at.time() == chrono::NaiveTime::MIN => at.date().to_string(),
            Some(at) => at.to_string(),
            None => dt.as_f64().to_string(),
        },
        Data::Error(e) => format!("#{e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters_run_past_z() {
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(25), "Z");
        assert_eq!(column_letter(26), "AA");
        assert_eq!(column_letter(701), "ZZ");
        assert_eq!(column_letter(702), "AAA");
    }

    #[test]
    fn csv_with_bom_quotes_and_blank_lines() {
        let text = "\u{feff}a,b\r\n\r\n\"x, y\", 2 \n\"multi\nline\",3\nz,4\n";
        let t = read(text.as_bytes()).unwrap();
        assert_eq!(t.headers, ["a", "b"]);
        let lines: Vec<_> = t
            .rows
            .iter()
            .map(|(n, cells)| (*n, cells[0].as_str()))
            .collect();
        assert_eq!(lines, [(3, "x, y"), (4, "multi\nline"), (6, "z")]);
        assert_eq!(t.rows[0].1[1], "2");
    }

    #[test]
    fn gbk_csv_is_named_not_garbled() {
        let err = read(b"name\n\xd5\xc5\xc8\xfd\n").unwrap_err();
        assert!(format!("{err:?}").contains("not_utf8"), "{err:?}");
    }

    #[test]
    fn header_without_rows_is_refused() {
        let err = read(b"a,b\n").unwrap_err();
        assert!(format!("{err:?}").contains("no_rows"), "{err:?}");
    }
}
