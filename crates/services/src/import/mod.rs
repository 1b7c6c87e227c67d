//! Bulk onboarding: a city starts with the records it already has. A CSV
//! or XLSX file of communities, persons or enterprises is read
//! ([`table`]), each row checked as the record's own form checks it (the
//! same validation, the same field error codes), each row's district
//! authorised as a single creation would be, and rows that repeat one
//! another or a record on file (same resident id number, credit code or
//! community name) reported. The preview ([`Services::preview_import`])
//! writes nothing; the import ([`Services::import_records`]) writes the
//! whole file in one transaction, and only when no row has a problem.
//!
//! Every problem names its spreadsheet row (the header is row 1), its
//! column (letter and field) and its reason, with the parameters the
//! translated message needs. A file's column headers are the field ids
//! (`full_name`) or their labels in either language (`locales/*/import.toml`),
//! in any order; columns that are not the kind's are refused by name.
//!
//! An import is one audit entry (`person.import`, …) naming the file's
//! SHA-256, its rows and the ids made; the results of the persons and
//! enterprises imported are computed in the same transaction, as an edit's
//! are (`Services::commit_fact_change`). Exports ([`export`]) write the
//! same columns, so an export is a template and a round trip; resident id
//! numbers are exported masked, never whole.

mod communities;
mod enterprises;
pub mod export;
mod persons;
mod staged;
mod table;

use crate::Services;
use crate::authz::Actor;
use crate::error::{FieldError, Result, ServiceError};
use crate::matching::Affected;
use crate::registry::Checker;
use chrono::{DateTime, NaiveDate, Utc};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::LazyLock;
use table::Table;
pub use table::{MAX_ROWS, column_letter};

/// The most problems a report lists (it counts them all).
pub const MAX_LISTED_PROBLEMS: usize = 1_000;

/// What a file holds.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    Communities,
    Persons,
    Enterprises,
}

impl RecordKind {
    /// In the order a city loads them: communities before the enterprises
    /// sited in them, persons before the enterprises they found.
    pub const ALL: [RecordKind; 3] = [
        RecordKind::Communities,
        RecordKind::Persons,
        RecordKind::Enterprises,
    ];

    pub fn id(self) -> &'static str {
        match self {
            RecordKind::Communities => "communities",
            RecordKind::Persons => "persons",
            RecordKind::Enterprises => "enterprises",
        }
    }

    /// The kind's columns, in the order exports write them.
    pub fn columns(self) -> &'static [Column] {
        match self {
            RecordKind::Communities => communities::COLUMNS,
            RecordKind::Persons => persons::COLUMNS,
            RecordKind::Enterprises => enterprises::COLUMNS,
        }
    }
}

impl std::str::FromStr for RecordKind {
    type Err = ServiceError;

    fn from_str(s: &str) -> Result<RecordKind> {
        RecordKind::ALL
            .into_iter()
            .find(|k| k.id() == s)
            .ok_or_else(|| {
                ServiceError::Validation(vec![
                    FieldError::new("kind", "not_one_of")
                        .with("allowed", RecordKind::ALL.map(RecordKind::id).join(", ")),
                ])
            })
    }
}

/// One column of a kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Column {
    /// The field id, as forms and the API name it.
    pub id: &'static str,
    /// Whether every row must fill it.
    pub required: bool,
}

const fn required(id: &'static str) -> Column {
    Column { id, required: true }
}

const fn optional(id: &'static str) -> Column {
    Column {
        id,
        required: false,
    }
}

/// An uploaded file.
#[derive(Debug, Clone)]
pub struct ImportFile {
    pub file_name: String,
    pub content: bytes::Bytes,
}

/// What a preview or an import found.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct ImportReport {
    pub kind: RecordKind,
    pub file_name: String,
    /// Lower-case hex SHA-256 of the file.
    pub sha256: String,
    /// Data rows read (empty rows are skipped).
    pub rows: usize,
    /// The file's columns, as field ids, in its order.
    pub columns: Vec<String>,
    /// The first [`MAX_LISTED_PROBLEMS`] problems, in row order.
    pub problems: Vec<RowProblem>,
    /// Every problem found.
    pub problem_count: usize,
    /// Rows that repeat another row or a record on file.
    pub duplicates: usize,
    /// Whether the records were written (an import with no problems).
    pub written: bool,
    /// The ids of the records written, in row order.
    pub created: Vec<i64>,
}

impl ImportReport {
    /// Whether the whole file may be written.
    pub fn accepted(&self) -> bool {
        self.problem_count == 0
    }
}

/// What is wrong with one cell, row or column of a file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct RowProblem {
    /// The spreadsheet row (the header is row 1 unless blank rows precede it).
    pub row: usize,
    /// The spreadsheet column letter, when the problem is in one column.
    pub column: Option<String>,
    /// The column's field id.
    pub field: Option<String>,
    /// A field error code (`locales/*/core.toml`, `[field]`).
    pub code: &'static str,
    #[schema(value_type = BTreeMap<String, String>)]
    pub params: BTreeMap<&'static str, String>,
}

/// The interface texts of both languages that name columns
/// (`import.column.*`) and options (`option.*`), as people write them.
static LABELS: LazyLock<crate::locale_files::Texts> = LazyLock::new(|| {
    let mut texts = crate::locale_files::Texts::new();
    for (name, source) in [
        (
            "en/import.toml",
            include_str!("../../../../locales/en/import.toml"),
        ),
        (
            "zh-CN/import.toml",
            include_str!("../../../../locales/zh-CN/import.toml"),
        ),
        (
            "en/core.toml",
            include_str!("../../../../locales/en/core.toml"),
        ),
        (
            "zh-CN/core.toml",
            include_str!("../../../../locales/zh-CN/core.toml"),
        ),
    ] {
        // Both languages share keys: each file's texts are collected apart.
        let mut one = crate::locale_files::Texts::new();
        crate::locale_files::read_into(name, source, &mut one);
        texts.extend(one.into_iter().map(|(k, v)| (format!("{name}:{k}"), v)));
    }
    texts
});

/// The labels of both languages under `prefix.ID`, each with its `ID`.
fn labels(prefix: &str) -> impl Iterator<Item = (&'static str, &'static String)> {
    let prefix = format!("{prefix}.");
    LABELS.iter().filter_map(move |(key, label)| {
        let (_, key) = key.split_once(':')?;
        Some((key.strip_prefix(prefix.as_str())?, label))
    })
}

/// Header texts by normalised form (field id, English or Chinese label).
static HEADERS: LazyLock<HashMap<String, &'static str>> = LazyLock::new(|| {
    let ids: Vec<&'static str> = RecordKind::ALL
        .into_iter()
        .flat_map(|k| k.columns().iter().map(|c| c.id))
        .collect();
    let mut out: HashMap<String, &'static str> =
        ids.iter().map(|id| (normalise(id), *id)).collect();
    for (key, label) in labels("import.column") {
        if let Some(id) = ids.iter().find(|id| **id == key) {
            // A field id is never taken over by another column's label.
            out.entry(normalise(label)).or_insert(id);
        }
    }
    out
});

/// An option's id from its id or its label in either language (`硕士`,
/// `Master's degree`); other text unchanged, for validation to refuse.
pub(crate) fn option_id(value: Option<&str>, group: &str) -> Option<String> {
    let value = value?;
    let wanted = normalise(value);
    let id = labels(&format!("option.{group}"))
        .find(|(_, label)| normalise(label) == wanted)
        .map(|(id, _)| id);
    Some(id.unwrap_or(value).to_owned())
}

/// A district's id from its id or its name in either language (`南山区`,
/// `南山`, `Nanshan`); other text unchanged, for validation to refuse.
pub(crate) fn district_id(value: Option<&str>) -> Option<String> {
    let value = value?;
    let wanted = normalise(value);
    let found = opcity_domain::District::ALL.into_iter().find(|d| {
        [d.id(), d.name_zh(), d.name_en()].into_iter().any(|name| {
            normalise(name) == wanted || normalise(name.trim_end_matches('区')) == wanted
        })
    });
    Some(found.map_or(value, |d| d.id()).to_owned())
}

/// A row's field errors: those gathered while reading its cells and those
/// of its record's validation, together.
pub(crate) fn checked<V>(
    c: Checker,
    validated: Result<V>,
) -> std::result::Result<V, Vec<FieldError>> {
    let mut errors = c.errors;
    match validated {
        Ok(v) if errors.is_empty() => Ok(v),
        Ok(_) => Err(errors),
        Err(ServiceError::Validation(more)) => {
            errors.extend(more);
            Err(errors)
        }
        Err(other) => {
            errors.push(FieldError::new("row", "invalid_value").with("reason", other));
            Err(errors)
        }
    }
}

/// The refusal of a row in a district the actor may not add records to.
pub(crate) fn not_yours() -> FieldError {
    FieldError::new("district", "district_not_yours")
}

/// A header as compared: without case, spaces, underscores, a required
/// marker (`*`) or full-width brackets' difference.
fn normalise(header: &str) -> String {
    header
        .trim()
        .trim_end_matches('*')
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '_')
        .map(|c| match c {
            '（' => '(',
            '）' => ')',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

/// The cells of one row, by field id.
pub(crate) struct Cells<'a> {
    values: &'a [String],
    index: &'a HashMap<&'static str, usize>,
}

impl Cells<'_> {
    /// The cell of column `field`, trimmed; empty when the file has no such column.
    pub fn text(&self, field: &str) -> &str {
        self.index
            .get(field)
            .and_then(|&i| self.values.get(i))
            .map_or("", |v| v.as_str())
    }

    /// The cell, or `None` when it is empty.
    pub fn get(&self, field: &str) -> Option<&str> {
        Some(self.text(field)).filter(|t| !t.is_empty())
    }

    /// An owned copy of a non-empty cell.
    pub fn owned(&self, field: &str) -> Option<String> {
        self.get(field).map(str::to_owned)
    }

    /// A whole number (thousands separators allowed).
    pub fn int(&self, c: &mut Checker, field: &str) -> Option<i64> {
        let text = self.get(field)?;
        let parsed = text.replace([',', '，'], "").parse().ok();
        if parsed.is_none() {
            c.push(FieldError::new(field, "not_a_number"));
        }
        parsed
    }

    /// Yes or no, as people write it in either language or a spreadsheet does.
    pub fn flag(&self, c: &mut Checker, field: &str) -> Option<bool> {
        let text = self.get(field)?;
        match text.to_lowercase().as_str() {
            "true" | "yes" | "y" | "1" | "是" | "有" => Some(true),
            "false" | "no" | "n" | "0" | "否" | "无" => Some(false),
            _ => {
                c.push(FieldError::new(field, "not_yes_no"));
                None
            }
        }
    }
}

/// A value that must not repeat: within the file, nor on file.
pub(crate) struct Key {
    pub field: &'static str,
    pub value: String,
}

/// One kind's import: how a row becomes a record, and how records are written.
pub(crate) trait Importer: Sized + Send + Sync {
    type Row: Send + Sync;
    const KIND: RecordKind;
    /// The audit entry's action (`person.import`).
    const ACTION: &'static str;

    /// Loads what the rows refer to (communities by name, persons by
    /// resident id), reading the referring columns of `rows`.
    fn prepare(s: &Services, rows: &[Cells<'_>]) -> impl Future<Output = Result<Self>> + Send;

    /// One row's record, or what is wrong with it; includes whether the
    /// actor may create it (its district).
    fn check(
        &self,
        s: &Services,
        actor: &Actor,
        cells: &Cells<'_>,
        today: NaiveDate,
    ) -> std::result::Result<Self::Row, Vec<FieldError>>;

    /// The row's value that no other row or record may share.
    fn key(&self, row: &Self::Row) -> Option<Key>;

    /// Of `keys`, those on file: key → the record holding it, as people name it.
    fn on_file(
        &self,
        s: &Services,
        keys: &[String],
    ) -> impl Future<Output = Result<HashMap<String, String>>> + Send;

    /// Writes the rows in `tx`; the ids made (in row order) and the records
    /// whose results must be computed.
    fn write(
        &self,
        s: &Services,
        tx: &opcity_store::WriteTx,
        rows: Vec<Self::Row>,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(Vec<i64>, Affected)>> + Send;
}

/// Who may import a kind: staff who may create such records somewhere
/// (each row is authorised for its own district).
impl Services {
    pub fn may_import(&self, actor: &Actor, kind: RecordKind) -> bool {
        actor.role != opcity_domain::Role::Founder
            && match kind {
                RecordKind::Communities => self.may_create_community(actor),
                RecordKind::Persons => self.may_create_person(actor),
                RecordKind::Enterprises => self.may_create_enterprise(actor),
            }
    }

    /// Reads and checks a file of `kind` without writing anything.
    pub async fn preview_import(
        &self,
        actor: &Actor,
        kind: RecordKind,
        file: &ImportFile,
    ) -> Result<ImportReport> {
        self.run_import(actor, kind, file, false).await
    }

    /// Reads, checks and, if no row has a problem, writes a file of `kind`
    /// in one transaction; the report says whether it was written.
    pub async fn import_records(
        &self,
        actor: &Actor,
        kind: RecordKind,
        file: &ImportFile,
    ) -> Result<ImportReport> {
        self.run_import(actor, kind, file, true).await
    }

    async fn run_import(
        &self,
        actor: &Actor,
        kind: RecordKind,
        file: &ImportFile,
        write: bool,
    ) -> Result<ImportReport> {
        if !self.may_import(actor, kind) {
            return Err(ServiceError::Forbidden);
        }
        let table = table::read(&file.content)?;
        match kind {
            RecordKind::Communities => {
                self.import_kind::<communities::Communities>(actor, &table, file, write)
                    .await
            }
            RecordKind::Persons => {
                self.import_kind::<persons::Persons>(actor, &table, file, write)
                    .await
            }
            RecordKind::Enterprises => {
                self.import_kind::<enterprises::Enterprises>(actor, &table, file, write)
                    .await
            }
        }
    }

    async fn import_kind<K: Importer>(
        &self,
        actor: &Actor,
        table: &Table,
        file: &ImportFile,
        write: bool,
    ) -> Result<ImportReport> {
        let mut report = ImportReport {
            kind: K::KIND,
            file_name: file.file_name.clone(),
            sha256: hex::encode(Sha256::digest(&file.content)),
            rows: table.rows.len(),
            columns: Vec::new(),
            problems: Vec::new(),
            problem_count: 0,
            duplicates: 0,
            written: false,
            created: Vec::new(),
        };
        let mut problems = Vec::new();
        let index = header_index(K::KIND, table, &mut problems);
        report.columns = table
            .headers
            .iter()
            .map(|h| HEADERS.get(&normalise(h)).copied().unwrap_or("").to_owned())
            .collect();
        if !problems.is_empty() {
            return Ok(finish(report, problems));
        }
        let cells: Vec<Cells<'_>> = table
            .rows
            .iter()
            .map(|(_, values)| Cells {
                values,
                index: &index,
            })
            .collect();
        let importer = K::prepare(self, &cells).await?;
        let today = opcity_domain::today_in_shanghai(self.now());
        let mut rows = Vec::with_capacity(cells.len());
        let mut keys: HashMap<String, usize> = HashMap::new();
        let mut keyed = Vec::new();
        for ((number, _), row) in table.rows.iter().zip(&cells) {
            match importer.check(self, actor, row, today) {
                Ok(record) => {
                    if let Some(key) = importer.key(&record) {
                        match keys.get(&key.value) {
                            Some(&first) => {
                                report.duplicates += 1;
                                problems.push(cell_problem(
                                    *number,
                                    &index,
                                    FieldError::new(key.field, "duplicate_in_file")
                                        .with("row", first),
                                ));
                            }
                            None => {
                                keys.insert(key.value.clone(), *number);
                                keyed.push((*number, key));
                            }
                        }
                    }
                    rows.push(record);
                }
                Err(errors) => {
                    problems.extend(errors.into_iter().map(|e| cell_problem(*number, &index, e)))
                }
            }
        }
        let values: Vec<String> = keyed.iter().map(|(_, k)| k.value.clone()).collect();
        let held = importer.on_file(self, &values).await?;
        for (number, key) in &keyed {
            if let Some(record) = held.get(&key.value) {
                report.duplicates += 1;
                problems.push(cell_problem(
                    *number,
                    &index,
                    FieldError::new(key.field, "already_registered").with("record", record),
                ));
            }
        }
        if !problems.is_empty() || !write {
            return Ok(finish(report, problems));
        }
        let now = self.now();
        let tx = self.store().begin().await?;
        let (created, affected) = importer.write(self, &tx, rows, now).await?;
        let summary = serde_json::json!({
            "file_name": report.file_name,
            "sha256": report.sha256,
            "rows": report.rows,
            "first_id": created.first(),
            "last_id": created.last(),
        });
        let label = actor.audit_label();
        let first = created.first().copied().unwrap_or_default();
        let change = crate::change(&label, K::ACTION, first, None, Some(&summary));
        self.commit_fact_change(tx, now, change, affected).await?;
        report.written = true;
        report.created = created;
        Ok(finish(report, problems))
    }
}

/// The field id of each column the file has, by position; a problem for
/// each column that is not the kind's, repeats another, or is missing.
fn header_index(
    kind: RecordKind,
    table: &Table,
    problems: &mut Vec<RowProblem>,
) -> HashMap<&'static str, usize> {
    let mut index = HashMap::new();
    let row = table.header_row;
    for (i, header) in table.headers.iter().enumerate() {
        if header.is_empty() {
            continue;
        }
        let known = HEADERS
            .get(&normalise(header))
            .copied()
            .filter(|id| kind.columns().iter().any(|c| c.id == *id));
        let problem = |code: &'static str, params: BTreeMap<&'static str, String>| RowProblem {
            row,
            column: Some(column_letter(i)),
            field: None,
            code,
            params,
        };
        match known {
            None => problems.push(problem(
                "unknown_column",
                BTreeMap::from([
                    ("value", header.clone()),
                    (
                        "allowed",
                        kind.columns()
                            .iter()
                            .map(|c| c.id)
                            .collect::<Vec<_>>()
                            .join(", "),
                    ),
                ]),
            )),
            Some(id) => {
                if let Some(first) = index.insert(id, i) {
                    index.insert(id, first);
                    problems.push(problem(
                        "repeated_column",
                        BTreeMap::from([("first", column_letter(first))]),
                    ));
                }
            }
        }
    }
    for column in kind.columns().iter().filter(|c| c.required) {
        if !index.contains_key(column.id) {
            problems.push(RowProblem {
                row,
                column: None,
                field: Some(column.id.to_owned()),
                code: "missing_column",
                params: BTreeMap::new(),
            });
        }
    }
    index
}

/// A row's field error, placed in its column when the file has it.
fn cell_problem(row: usize, index: &HashMap<&'static str, usize>, error: FieldError) -> RowProblem {
    RowProblem {
        row,
        column: index.get(error.field.as_str()).map(|&i| column_letter(i)),
        field: Some(error.field),
        code: error.code,
        params: error.params,
    }
}

fn finish(mut report: ImportReport, mut problems: Vec<RowProblem>) -> ImportReport {
    // Row by row, and within a row from left to right (A … Z, AA …).
    problems.sort_by(|a, b| {
        let place = |p: &RowProblem| {
            let column = p.column.as_deref().unwrap_or("");
            (p.row, column.len(), column.to_owned())
        };
        place(a).cmp(&place(b))
    });
    report.problem_count = problems.len();
    problems.truncate(MAX_LISTED_PROBLEMS);
    report.problems = problems;
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every column is found by its id and by its label in each language,
    /// and no label names another column.
    #[test]
    fn each_header_names_its_own_column() {
        for kind in RecordKind::ALL {
            for column in kind.columns() {
                assert_eq!(HEADERS.get(&normalise(column.id)), Some(&column.id));
                let labels: Vec<_> = labels("import.column")
                    .filter(|(id, _)| *id == column.id)
                    .map(|(_, label)| label)
                    .collect();
                assert_eq!(
                    labels.len(),
                    2,
                    "{} needs a label in each language",
                    column.id
                );
                for label in labels {
                    assert_eq!(HEADERS.get(&normalise(label)), Some(&column.id), "{label}");
                }
            }
        }
    }

    #[test]
    fn districts_and_options_are_read_as_people_write_them() {
        for text in ["nanshan", "南山区", "南山", "Nanshan", " NANSHAN "] {
            assert_eq!(
                district_id(Some(text)).as_deref(),
                Some("nanshan"),
                "{text}"
            );
        }
        assert_eq!(district_id(Some("Gotham")).as_deref(), Some("Gotham"));
        assert_eq!(
            option_id(Some("硕士"), "highest_degree").as_deref(),
            Some("master")
        );
        assert_eq!(option_id(Some("micro"), "size").as_deref(), Some("micro"));
    }
}
