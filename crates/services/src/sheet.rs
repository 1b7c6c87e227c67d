//! A table for people to open in a spreadsheet: CSV (UTF-8 with a
//! byte-order mark, so that Excel reads Chinese text) or an XLSX workbook,
//! built from one list of headers and typed cells.
//!
//! Text from the data is made inert in CSV (a leading `=`, `+`, `-` or `@`
//! is quoted away) so that no spreadsheet runs it as a formula; XLSX cells
//! are typed, so text stays text there.

use crate::error::{Result, ServiceError};
use chrono::NaiveDate;

/// One cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    Text(String),
    Integer(i64),
    /// An amount in fen, shown in yuan with two decimals.
    Money(i64),
    Date(NaiveDate),
    Empty,
}

impl<T: Into<Cell>> From<Option<T>> for Cell {
    fn from(value: Option<T>) -> Cell {
        value.map_or(Cell::Empty, Into::into)
    }
}

impl From<String> for Cell {
    fn from(text: String) -> Cell {
        Cell::Text(text)
    }
}

impl From<&str> for Cell {
    fn from(text: &str) -> Cell {
        Cell::Text(text.to_owned())
    }
}

impl From<NaiveDate> for Cell {
    fn from(date: NaiveDate) -> Cell {
        Cell::Date(date)
    }
}

/// A sheet: its name (the workbook's tab), headers and rows.
#[derive(Debug, Clone, Default)]
pub struct Sheet {
    pub name: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

/// A CSV field: quoted when needed, and a leading formula character made
/// inert so a spreadsheet does not execute text from the data.
pub fn csv_field(value: &str) -> String {
    let inert = if value.starts_with(['=', '+', '-', '@']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if inert.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", inert.replace('"', "\"\""))
    } else {
        inert
    }
}

impl Cell {
    fn csv(&self) -> String {
        match self {
            Cell::Text(text) => csv_field(text),
            Cell::Integer(n) => n.to_string(),
            Cell::Money(fen) => opcity_domain::Fen(*fen).decimal_yuan(),
            Cell::Date(date) => date.to_string(),
            Cell::Empty => String::new(),
        }
    }
}

impl Sheet {
    /// The sheet as CSV, lines ended by CRLF.
    pub fn to_csv(&self) -> String {
        let mut out = String::from("\u{feff}");
        let line = |cells: Vec<String>| cells.join(",") + "\r\n";
        out.push_str(&line(self.headers.iter().map(|h| csv_field(h)).collect()));
        for row in &self.rows {
            out.push_str(&line(row.iter().map(Cell::csv).collect()));
        }
        out
    }

    /// The sheet as an XLSX workbook: a bold header row that stays in view,
    /// money as numbers in yuan with thousands separators (exact for every
    /// amount below 2^53 fen), dates as dates.
    pub fn to_xlsx(&self) -> Result<Vec<u8>> {
        use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
        let err = |e: rust_xlsxwriter::XlsxError| ServiceError::Internal(Box::new(e));
        let mut book = Workbook::new();
        let sheet = book.add_worksheet();
        sheet.set_name(&self.name).map_err(err)?;
        let bold = Format::new().set_bold();
        let money = Format::new().set_num_format("#,##0.00");
        let date = Format::new().set_num_format("yyyy-mm-dd");
        for (col, h) in self.headers.iter().enumerate() {
            sheet
                .write_string_with_format(0, col as u16, h, &bold)
                .map_err(err)?;
        }
        sheet.set_freeze_panes(1, 0).map_err(err)?;
        for (i, cells) in self.rows.iter().enumerate() {
            let row = i as u32 + 1;
            for (col, cell) in cells.iter().enumerate() {
                let col = col as u16;
                match cell {
                    Cell::Text(text) => sheet.write_string(row, col, text),
                    Cell::Integer(n) => sheet.write_number(row, col, *n as f64),
                    Cell::Money(fen) => {
                        sheet.write_number_with_format(row, col, *fen as f64 / 100.0, &money)
                    }
                    Cell::Date(d) => {
                        let day = ExcelDateTime::parse_from_str(&d.to_string()).map_err(err)?;
                        sheet.write_datetime_with_format(row, col, day, &date)
                    }
                    Cell::Empty => continue,
                }
                .map_err(err)?;
            }
        }
        sheet.autofit();
        book.save_to_buffer().map_err(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Sheet {
        Sheet {
            name: "queue".into(),
            headers: vec!["申请人".into(), "amount".into(), "due".into()],
            rows: vec![vec![
                Cell::Text("=HYPERLINK(\"x\"), \"深圳\"".into()),
                Cell::Money(150_000_000),
                NaiveDate::from_ymd_opt(2026, 12, 24).into(),
            ]],
        }
    }

    #[test]
    fn csv_quotes_makes_formulas_inert_and_writes_yuan() {
        let csv = sample().to_csv();
        assert_eq!(
            csv,
            "\u{feff}申请人,amount,due\r\n\"'=HYPERLINK(\"\"x\"\"), \"\"深圳\"\"\",1500000.00,2026-12-24\r\n"
        );
    }

    #[test]
    fn xlsx_is_a_zip_workbook() {
        let bytes = sample().to_xlsx().unwrap();
        assert_eq!(&bytes[..2], b"PK");
    }
}
