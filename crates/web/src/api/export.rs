//! Reports offered as JSON, CSV or an Excel workbook: one query parameter,
//! one way of answering with a download.

use crate::error::WebError;
use axum::Json;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use opcity_services::ServiceError;

/// The media type of an Excel workbook.
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The format a report is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    Json,
    /// UTF-8 with a byte-order mark, so that Excel reads Chinese text.
    Csv,
    Xlsx,
}

impl std::str::FromStr for ExportFormat {
    type Err = ();

    fn from_str(text: &str) -> Result<Self, ()> {
        match text {
            "json" => Ok(ExportFormat::Json),
            "csv" => Ok(ExportFormat::Csv),
            "xlsx" => Ok(ExportFormat::Xlsx),
            _ => Err(()),
        }
    }
}

/// One report in its three renderings; only the one asked for is built.
pub struct Report<'a, T, C, X> {
    /// The file name without extension, for the download.
    pub name: String,
    pub json: &'a T,
    pub csv: C,
    pub xlsx: X,
}

impl<T, C, X> Report<'_, T, C, X>
where
    T: serde::Serialize,
    C: FnOnce() -> String,
    X: FnOnce() -> Result<Vec<u8>, ServiceError>,
{
    /// The report in `format`: JSON inline, CSV and XLSX as attachments.
    pub fn respond(self, format: ExportFormat) -> Result<Response, WebError> {
        let attachment =
            |extension: &str| format!("attachment; filename=\"{}.{extension}\"", self.name);
        Ok(match format {
            ExportFormat::Json => Json(self.json).into_response(),
            ExportFormat::Csv => (
                [
                    (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                    (header::CONTENT_DISPOSITION, attachment("csv")),
                ],
                (self.csv)(),
            )
                .into_response(),
            ExportFormat::Xlsx => (
                [
                    (header::CONTENT_TYPE, XLSX.to_owned()),
                    (header::CONTENT_DISPOSITION, attachment("xlsx")),
                ],
                (self.xlsx)()?,
            )
                .into_response(),
        })
    }
}
