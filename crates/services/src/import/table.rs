//! Reading an uploaded table: CSV (UTF-8, with or without a byte-order
//! mark, RFC 4180 quoting, by the `csv` crate) or the first worksheet of an
//! XLSX workbook (by `calamine`), into text cells numbered as the
//! spreadsheet numbers them (row 1 is the header, column A the first).

use crate::error::{FieldError, Result, ServiceError};
use calamine::{Data, Reader, Xlsx};
use std::io::Cursor;

/// The most data rows one file may hold.
pub const MAX_ROWS: usize = 200_000;

/// The most columns a file may have (the widest kind has 16): a workbook
/// whose cells span more is refused before anything is allocated for it.
pub const MAX_COLUMNS: usize = 100;

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

fn too_many_rows() -> ServiceError {
    ServiceError::Validation(vec![
        FieldError::new("file", "too_many_rows").with("max", MAX_ROWS),
    ])
}

fn too_many_columns() -> ServiceError {
    ServiceError::Validation(vec![
        FieldError::new("file", "too_many_columns").with("max", MAX_COLUMNS),
    ])
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
        return Err(too_many_rows());
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
    let mut record = csv::StringRecord::new();
    // Rows are numbered as a spreadsheet shows the file: one per record
    // (a quoted field may span lines) and one per blank line (which the
    // reader skips): the line breaks between one record's last byte and
    // the next one's first. The reader's own offsets may point at the
    // breaks before a record, hence the trimming.
    let (mut row, mut previous_end) = (0, 0);
    loop {
        if !reader.read_record(&mut record).map_err(unreadable)? {
            break;
        }
        let mut start = record
            .position()
            .map_or(previous_end, |p| p.byte() as usize)
            .max(previous_end);
        while content
            .get(start)
            .is_some_and(|b| matches!(b, b'\r' | b'\n'))
        {
            start += 1;
        }
        let breaks = content[previous_end..start.min(content.len())]
            .iter()
            .filter(|b| **b == b'\n')
            .count();
        row = if row == 0 { 1 + breaks } else { row + breaks };
        let mut end = (reader.position().byte() as usize).min(content.len());
        while end > start && matches!(content[end - 1], b'\r' | b'\n') {
            end -= 1;
        }
        previous_end = end.max(start);
        if record.len() > MAX_COLUMNS {
            return Err(too_many_columns());
        }
        if rows.len() > MAX_ROWS {
            return Err(too_many_rows());
        }
        rows.push((row, record.iter().map(csv_cell).collect()));
    }
    Ok(rows)
}

/// A CSV cell as typed: trimmed, and without the apostrophe an export puts
/// before a leading `=`, `+`, `-` or `@` so that no spreadsheet runs it.
fn csv_cell(cell: &str) -> String {
    let cell = cell.trim();
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@']) => rest.to_owned(),
        _ => cell.to_owned(),
    }
}

fn xlsx_rows(content: &[u8]) -> Result<Vec<(usize, Vec<String>)>> {
    let mut book = Xlsx::new(Cursor::new(content)).map_err(unreadable)?;
    let Some(first) = book.sheet_names().into_iter().next() else {
        return Err(ServiceError::invalid("file", "empty_file"));
    };
    // Cells are read one at a time (never as the rectangle they span,
    // which a two-cell workbook can make astronomically large) into rows,
    // refusing a file past the limits as soon as it passes them.
    let mut cells = book.worksheet_cells_reader(&first).map_err(unreadable)?;
    let mut rows: std::collections::BTreeMap<u32, Vec<String>> = Default::default();
    while let Some(cell) = cells.next_cell().map_err(unreadable)? {
        let (row, column) = cell.get_position();
        let column = column as usize;
        if column >= MAX_COLUMNS {
            return Err(too_many_columns());
        }
        let text = cell_text(&Data::from(cell.get_value().clone()));
        if text.is_empty() {
            continue;
        }
        if !rows.contains_key(&row) && rows.len() > MAX_ROWS {
            return Err(too_many_rows());
        }
        let cells = rows.entry(row).or_default();
        if cells.len() <= column {
            cells.resize(column + 1, String::new());
        }
        cells[column] = text;
    }
    Ok(rows
        .into_iter()
        .map(|(row, cells)| (row as usize + 1, cells))
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
        // A time of day alone (`09:00`) is a fraction of a day.
        Data::DateTime(dt) if dt.as_f64() < 1.0 => match dt.as_datetime() {
            Some(at) => at.time().format("%H:%M").to_string(),
            None => dt.as_f64().to_string(),
        },
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
        // A record spanning two lines is one row, as a spreadsheet shows it.
        assert_eq!(lines, [(3, "x, y"), (4, "multi\nline"), (5, "z")]);
        assert_eq!(t.rows[0].1[1], "2");
    }

    #[test]
    fn an_exported_formula_guard_is_taken_off() {
        let t = read(b"a,b\n'=1+1,'plain\n").unwrap();
        assert_eq!(t.rows[0].1, ["=1+1", "'plain"]);
    }

    #[test]
    fn too_wide_a_file_is_refused() {
        let wide = format!(
            "{}\n{}\n",
            "h,".repeat(MAX_COLUMNS),
            "v,".repeat(MAX_COLUMNS)
        );
        let err = read(wide.as_bytes()).unwrap_err();
        assert!(format!("{err:?}").contains("too_many_columns"), "{err:?}");
    }

    /// A workbook with text cells at `(row, column)`, as a program writes it.
    fn workbook(cells: &[(u32, u16, &str)]) -> Vec<u8> {
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        for (row, column, text) in cells {
            sheet.write_string(*row, *column, *text).unwrap();
        }
        book.save_to_buffer().unwrap()
    }

    #[test]
    fn a_workbook_spanning_the_whole_sheet_is_refused_without_allocating_it() {
        // Two cells at opposite corners: a rectangle of 17 billion cells.
        let far = workbook(&[(0, 0, "name"), (1_048_575, 16_383, "x")]);
        let err = read(&far).unwrap_err();
        assert!(format!("{err:?}").contains("too_many_columns"), "{err:?}");
        // Far down the first column is only two rows.
        let tall = workbook(&[(0, 0, "name"), (1_048_575, 0, "x")]);
        let t = read(&tall).unwrap();
        assert_eq!(t.rows, [(1_048_576, vec!["x".to_owned()])]);
    }

    #[test]
    fn a_time_of_day_reads_as_typed() {
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        sheet.write_string(0, 0, "opens").unwrap();
        let nine = rust_xlsxwriter::ExcelDateTime::from_hms(9, 0, 0).unwrap();
        let format = rust_xlsxwriter::Format::new().set_num_format("hh:mm");
        sheet
            .write_datetime_with_format(1, 0, &nine, &format)
            .unwrap();
        let t = read(&book.save_to_buffer().unwrap()).unwrap();
        assert_eq!(t.rows[0].1, ["09:00"]);
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
