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

mod apartments;
mod cells;
mod communities;
mod enterprises;
pub mod export;
mod instruments;
mod persons;
mod staged;
mod table;
mod units;

use crate::authz::Actor;
use crate::error::{FieldError, Result, ServiceError};
use crate::matching::Affected;
use crate::{ErrorCode, Services};
pub use cells::column_label_key;
pub(crate) use cells::{
    Cells, HEADERS, LABELS, checked, checked_renamed, district_id, normalise, not_yours, option_id,
    required_int, required_yuan,
};
use chrono::{DateTime, NaiveDate, Utc};
use opcity_store::bulk;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use table::Table;
use table::column_letter;

/// Records whose results are computed per query while an import is written.
const REFRESH_PAGE: usize = 500;

/// The most problems a report lists (it counts them all).
pub const MAX_LISTED_PROBLEMS: usize = 1_000;

/// What a file holds.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    Communities,
    /// Space units: desks, offices and floors, in buildings and floors.
    Units,
    /// Housing units: beds, rooms and apartments.
    Apartments,
    Instruments,
    Persons,
    Enterprises,
}

impl RecordKind {
    /// In the order a city loads them: communities before the enterprises
    /// sited in them, persons before the enterprises they found.
    pub const ALL: [RecordKind; 6] = [
        RecordKind::Communities,
        RecordKind::Units,
        RecordKind::Apartments,
        RecordKind::Instruments,
        RecordKind::Persons,
        RecordKind::Enterprises,
    ];

    /// The audited entity its records are (`person`, `space_unit`): an
    /// import is `ENTITY.import`, an export `ENTITY.export`.
    pub fn entity(self) -> &'static str {
        match self {
            RecordKind::Communities => "community",
            RecordKind::Units => "space_unit",
            RecordKind::Apartments => "housing_unit",
            RecordKind::Instruments => "instrument",
            RecordKind::Persons => "person",
            RecordKind::Enterprises => "enterprise",
        }
    }

    pub fn id(self) -> &'static str {
        match self {
            RecordKind::Communities => "communities",
            RecordKind::Units => "units",
            RecordKind::Apartments => "apartments",
            RecordKind::Instruments => "instruments",
            RecordKind::Persons => "persons",
            RecordKind::Enterprises => "enterprises",
        }
    }

    /// The kind's columns, in the order exports write them.
    pub fn columns(self) -> &'static [Column] {
        match self {
            RecordKind::Communities => communities::COLUMNS,
            RecordKind::Units => units::COLUMNS,
            RecordKind::Apartments => apartments::COLUMNS,
            RecordKind::Instruments => instruments::COLUMNS,
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
    /// The ids of the records written, ascending.
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

/// A value that must not repeat: within the file, nor on file.
pub(crate) struct Key {
    pub field: &'static str,
    pub value: String,
    /// The record on file holding it, when the importer knows already
    /// (else [`Importer::on_file`] is asked).
    pub held: Option<String>,
}

/// One kind's import: how a row becomes a record, and how records are written.
pub(crate) trait Importer: Sized + Send + Sync {
    type Row: Send + Sync;
    const KIND: RecordKind;

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

    /// Of `keys`, those on file: key → the record holding it, as people
    /// name it, or `None` when `actor` may not see that record.
    fn on_file(
        &self,
        s: &Services,
        actor: &Actor,
        keys: &[String],
    ) -> impl Future<Output = Result<HashMap<String, Option<String>>>> + Send;

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

/// The records on file among `keys` of the form `DISTRICT/VALUE`, as
/// `label` names them.
pub(crate) fn held_in(
    keys: &[String],
    label: impl Fn(&str, &str) -> Option<String>,
) -> HashMap<String, Option<String>> {
    keys.iter()
        .filter_map(|key| {
            let (district, value) = key.split_once('/')?;
            Some((key.clone(), Some(label(district, value)?)))
        })
        .collect()
}

/// Who may import a kind: staff who may create such records somewhere
/// (each row is authorised for its own district).
impl Services {
    pub fn may_import(&self, actor: &Actor, kind: RecordKind) -> bool {
        actor.role != opcity_domain::Role::Founder
            && match kind {
                RecordKind::Communities => self.may_create_community(actor),
                RecordKind::Units | RecordKind::Apartments => self.may_add_premises(actor),
                RecordKind::Instruments => self.may_list_instrument(actor),
                RecordKind::Persons => self.may_create_person(actor),
                RecordKind::Enterprises => self.may_create_enterprise(actor),
            }
    }

    /// Whether `actor` may add space or housing somewhere: a district's, or
    /// a community's they operate.
    fn may_add_premises(&self, actor: &Actor) -> bool {
        let sites = std::iter::once(None).chain(actor.community_ids.iter().copied().map(Some));
        sites
            .flat_map(|community_id| {
                opcity_domain::District::ALL
                    .into_iter()
                    .map(move |district| (community_id, district))
            })
            .any(|(community_id, district)| {
                crate::authz::permits(
                    actor,
                    crate::authz::Action::Create,
                    crate::authz::Resource::Premises {
                        community_id,
                        district,
                    },
                )
            })
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
            RecordKind::Units => {
                self.import_kind::<units::Units>(actor, &table, file, write)
                    .await
            }
            RecordKind::Apartments => {
                self.import_kind::<apartments::Apartments>(actor, &table, file, write)
                    .await
            }
            RecordKind::Instruments => {
                self.import_kind::<instruments::Instruments>(actor, &table, file, write)
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
            .map(|h| {
                HEADERS
                    .get(&(K::KIND, normalise(h)))
                    .copied()
                    .unwrap_or("")
                    .to_owned()
            })
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
                                if let Some(record) = &key.held {
                                    report.duplicates += 1;
                                    problems.push(cell_problem(
                                        *number,
                                        &index,
                                        FieldError::new(key.field, "already_registered")
                                            .with("record", record),
                                    ));
                                } else {
                                    keyed.push((*number, key));
                                }
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
        let held = importer.on_file(self, actor, &values).await?;
        for (number, key) in &keyed {
            let error = match held.get(&key.value) {
                None => continue,
                Some(Some(record)) => {
                    FieldError::new(key.field, "already_registered").with("record", record)
                }
                // On file where the importer may not look: said, not shown.
                Some(None) => FieldError::new(key.field, "already_on_file"),
            };
            report.duplicates += 1;
            problems.push(cell_problem(*number, &index, error));
        }
        if !problems.is_empty() || !write {
            return Ok(finish(report, problems));
        }
        let now = self.now();
        let tx = self.store().begin().await?;
        let (mut created, affected) = importer.write(self, &tx, rows, now).await?;
        created.sort_unstable();
        let label = actor.audit_label();
        let run = bulk::Run {
            kind: K::KIND.id(),
            sha256: &report.sha256,
            file_name: &report.file_name,
            rows: report.rows,
            created: &created,
            actor: &label,
        };
        let run_id = bulk::record_run(&tx, run, now)
            .await
            .map_err(|err| match err {
                err if err.is_unique_on("sha256") => ServiceError::Conflict {
                    code: ErrorCode::FileImported,
                    field: Some("file"),
                },
                err => err.into(),
            })?;
        let summary = serde_json::json!({
            "file_name": report.file_name,
            "sha256": report.sha256,
            "rows": report.rows,
            "created": bulk::id_ranges(&created),
        });
        let action = format!("{}.import", K::KIND.entity());
        let change = opcity_store::audit::Change {
            actor: &label,
            action: &action,
            entity: "import_run",
            entity_id: run_id.to_string(),
            before: None,
            after: Some(summary),
        };
        // The imported records' results, in the same transaction as an
        // edit's are, a page of records at a time (one query's worth of ids).
        opcity_store::audit::append(&tx, now, change).await?;
        let today = opcity_domain::today_in_shanghai(now);
        for page in affected.pages(REFRESH_PAGE) {
            self.refresh_entitlements(&tx, page, today).await?;
        }
        tx.commit().await?;
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
        let known = HEADERS.get(&(kind, normalise(header))).copied();
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
