//! Bulk onboarding in the portal (`services::import`): upload a CSV or
//! XLSX file, read the preview (every problem by row, column and reason,
//! in the viewer's language), then confirm; the file confirmed is the file
//! previewed, kept for its uploader only. Exports in the same columns are
//! the templates. Offered only to those who may import a kind
//! (`Services::may_import`). Stable ids: `import-form`, `import-kind`,
//! `import-file`, `import-report`, `import-problems`, `import-confirm`,
//! `import-done`, `export-KIND-csv`, `export-KIND-xlsx`.

use super::PageResult;
use super::layout::page;
use crate::AppState;
use crate::api::export::XLSX;
use crate::error::field_message;
use crate::extract::Viewer;
use crate::i18n::{Locale, t, tf};
use crate::pages::flow::Posted;
use axum::Router;
use axum::extract::{Multipart, Path, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use maud::{Markup, html};
use opcity_services::import::export::Lang;
use opcity_services::import::{ImportFile, ImportReport, RecordKind, RowProblem};
use opcity_services::{FieldError, ServiceError};

/// The largest file the portal takes (the command line has no limit).
const MAX_FILE_BYTES: usize = 32 * 1024 * 1024;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/imports", get(start))
        .route(
            "/imports/preview",
            post(preview).layer(axum::extract::DefaultBodyLimit::max(
                crate::upload::body_limit(MAX_FILE_BYTES),
            )),
        )
        .route("/imports/confirm", post(confirm))
        .route("/imports/{kind}/export.{format}", get(export))
}

fn kinds(state: &AppState, viewer: &Viewer) -> Vec<RecordKind> {
    viewer.actor.as_ref().map_or_else(Vec::new, |actor| {
        RecordKind::ALL
            .into_iter()
            .filter(|k| state.services.may_import(actor, *k))
            .collect()
    })
}

fn kind_name(l: Locale, kind: RecordKind) -> &'static str {
    t(l, &format!("import.kind.{}", kind.id()))
}

fn column_name(l: Locale, kind: RecordKind, id: &str) -> &'static str {
    t(l, &opcity_services::import::column_label_key(kind, id))
}

/// What each kind's file holds, and its exports (the templates).
fn guide(l: Locale, kinds: &[RecordKind]) -> Markup {
    html! {
        p.hint { (t(l, "import.kinds_note")) }
        @for kind in kinds {
            @let (required, optional): (Vec<_>, Vec<_>) = kind.columns().iter().partition(|c| c.required);
            @let names = |cols: Vec<&opcity_services::import::Column>| cols.iter().map(|c| column_name(l, *kind, c.id)).collect::<Vec<_>>().join(l_sep(l));
            section.card id={ "import-guide-" (kind.id()) } {
                h2 { (kind_name(l, *kind)) }
                p { (tf(l, "import.required_columns", [("columns", names(required).as_str())])) }
                p { (tf(l, "import.optional_columns", [("columns", names(optional).as_str())])) }
                p {
                    (t(l, "import.export")) ": "
                    a id={ "export-" (kind.id()) "-csv" } href={ "/imports/" (kind.id()) "/export.csv" } { (t(l, "import.export_csv")) }
                    " · "
                    a id={ "export-" (kind.id()) "-xlsx" } href={ "/imports/" (kind.id()) "/export.xlsx" } { (t(l, "import.export_xlsx")) }
                }
            }
        }
        p.hint { (t(l, "import.help")) }
    }
}

fn l_sep(l: Locale) -> &'static str {
    match l {
        Locale::Zh => "、",
        Locale::En => ", ",
    }
}

/// The upload form; `chosen` keeps the kind after a refusal.
fn form(
    viewer: &Viewer,
    kinds: &[RecordKind],
    chosen: Option<RecordKind>,
    errors: &[FieldError],
) -> Markup {
    let l = viewer.locale;
    let error_of = |field: &str| errors.iter().find(|e| e.field == field);
    html! {
        form.card id="import-form" method="post" action="/imports/preview" enctype="multipart/form-data" {
            input type="hidden" name="_csrf" value=(viewer.csrf.clone().unwrap_or_default());
            div.field.invalid[error_of("kind").is_some()] {
                label for="import-kind" { (t(l, "import.kind_label")) }
                select id="import-kind" name="kind" {
                    @for kind in kinds {
                        option value=(kind.id()) selected[chosen == Some(*kind)] { (kind_name(l, *kind)) }
                    }
                }
                @if let Some(e) = error_of("kind") { div.error id="import-kind-error" role="alert" { (field_message(l, e)) } }
            }
            div.field.invalid[error_of("file").is_some()] {
                label for="import-file" { (t(l, "import.file")) }
                p.hint id="import-file-hint" { (t(l, "import.file_hint")) }
                input id="import-file" type="file" name="file" required
                    accept=".csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
                    aria-describedby="import-file-hint"
                    aria-invalid=[error_of("file").map(|_| "true")];
                @if let Some(e) = error_of("file") { div.error id="import-file-error" role="alert" { (field_message(l, e)) } }
            }
            div.actions { button type="submit" id="import-preview" { (t(l, "import.preview")) } }
        }
    }
}

fn render(viewer: &Viewer, status: StatusCode, content: Markup) -> PageResult {
    let l = viewer.locale;
    let body = html! {
        h1 { (t(l, "import.title")) }
        p { (t(l, "import.lead")) }
        (content)
    };
    Ok((status, page(viewer, t(l, "import.title"), body)).into_response())
}

async fn start(State(state): State<AppState>, viewer: Viewer) -> PageResult {
    viewer.require()?;
    let kinds = kinds(&state, &viewer);
    if kinds.is_empty() {
        return Err(viewer.fail(ServiceError::Forbidden));
    }
    let content = html! { (form(&viewer, &kinds, None, &[])) (guide(viewer.locale, &kinds)) };
    render(&viewer, StatusCode::OK, content)
}

/// A problem's message in the viewer's language, its column by name.
fn problem_rows(l: Locale, kind: RecordKind, problems: &[RowProblem]) -> Markup {
    html! {
        table id="import-problems" {
            thead { tr {
                th scope="col" { (t(l, "import.row_label")) }
                th scope="col" { (t(l, "import.column_label")) }
                th scope="col" { (t(l, "import.problem_label")) }
            } }
            tbody {
                @for p in problems {
                    @let error = FieldError { field: p.field.clone().unwrap_or_default(), code: p.code, params: p.params.clone() };
                    tr {
                        td { (p.row) }
                        td {
                            @if let Some(letter) = &p.column { (letter) }
                            @if let Some(field) = &p.field { @if p.column.is_some() { " · " } (column_name(l, kind, field)) }
                        }
                        td { (field_message(l, &error)) }
                    }
                }
            }
        }
    }
}

fn report_section(viewer: &Viewer, kind: RecordKind, report: &ImportReport) -> Markup {
    let l = viewer.locale;
    let n = |v: usize| v.to_string();
    html! {
        section.card id="import-report" {
            h2 { (tf(l, "import.report_title", [("file", report.file_name.as_str())])) }
            p { (kind_name(l, kind)) " · " (tf(l, "import.summary", [("rows", n(report.rows).as_str()), ("problems", n(report.problem_count).as_str()), ("duplicates", n(report.duplicates).as_str())])) }
            @if report.accepted() {
                p.notice role="status" { (tf(l, "import.ready", [("rows", n(report.rows).as_str())])) }
                form id="import-confirm" method="post" action="/imports/confirm" {
                    input type="hidden" name="_csrf" value=(viewer.csrf.clone().unwrap_or_default());
                    input type="hidden" name="kind" value=(kind.id());
                    input type="hidden" name="sha256" value=(report.sha256);
                    button type="submit" id="import-confirm-button" { (tf(l, "import.confirm", [("rows", n(report.rows).as_str())])) }
                }
            } @else {
                p.notice.error role="alert" { (t(l, "import.not_written")) }
                @if report.problem_count > report.problems.len() {
                    p.hint { (tf(l, "import.more_problems", [("shown", n(report.problems.len()).as_str()), ("total", n(report.problem_count).as_str())])) }
                }
                (problem_rows(l, kind, &report.problems))
            }
        }
    }
}

async fn preview(
    State(state): State<AppState>,
    viewer: Viewer,
    multipart: Multipart,
) -> PageResult {
    let actor = viewer.require()?.clone();
    let kinds = kinds(&state, &viewer);
    if kinds.is_empty() {
        return Err(viewer.fail(ServiceError::Forbidden));
    }
    let read = match crate::upload::read_upload(multipart, MAX_FILE_BYTES).await {
        Ok(read) => read,
        Err(crate::error::WebError::Service(ServiceError::Validation(errors))) => {
            let content =
                html! { (form(&viewer, &kinds, None, &errors)) (guide(viewer.locale, &kinds)) };
            return render(&viewer, StatusCode::UNPROCESSABLE_ENTITY, content);
        }
        Err(other) => return Err(viewer.fail(other)),
    };
    viewer.check_csrf(read.fields.get("_csrf"))?;
    let chosen = read
        .fields
        .get("kind")
        .and_then(|k| k.parse::<RecordKind>().ok());
    let refused = |errors: Vec<FieldError>| {
        let content =
            html! { (form(&viewer, &kinds, chosen, &errors)) (guide(viewer.locale, &kinds)) };
        render(&viewer, StatusCode::UNPROCESSABLE_ENTITY, content)
    };
    let Some(kind) = chosen else {
        return refused(vec![FieldError::new("kind", "required")]);
    };
    let Some((file_name, content)) = read.file.filter(|(_, c)| !c.is_empty()) else {
        return refused(vec![FieldError::new("file", "required")]);
    };
    let file = ImportFile { file_name, content };
    match state.services.stage_import(&actor, kind, &file).await {
        Ok(report) => {
            let status = if report.accepted() {
                StatusCode::OK
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            let content = html! {
                (report_section(&viewer, kind, &report))
                @if !report.accepted() { (form(&viewer, &kinds, Some(kind), &[])) }
            };
            render(&viewer, status, content)
        }
        Err(ServiceError::Validation(errors)) => refused(errors),
        Err(other) => Err(viewer.fail(other)),
    }
}

async fn confirm(p: Posted) -> PageResult {
    let (state, viewer, form_values) = p.parts();
    let actor = viewer.require()?.clone();
    viewer.check_csrf(form_values.get("_csrf"))?;
    let kinds = kinds(state, viewer);
    let kind = form_values
        .get("kind")
        .and_then(|k| k.parse::<RecordKind>().ok())
        .ok_or_else(|| viewer.fail(ServiceError::NotFound { entity: "import" }))?;
    let sha256 = form_values.get("sha256").map_or("", String::as_str);
    let l = viewer.locale;
    match state.services.import_staged(&actor, kind, sha256).await {
        Ok(report) if report.written => {
            let first = report
                .created
                .first()
                .map_or(String::new(), ToString::to_string);
            let last = report
                .created
                .last()
                .map_or(String::new(), ToString::to_string);
            let rows = report.created.len().to_string();
            let content = html! {
                p.notice id="import-done" role="status" {
                    (tf(l, "import.written", [("rows", rows.as_str()), ("first", first.as_str()), ("last", last.as_str())]))
                }
                (form(viewer, &kinds, Some(kind), &[]))
            };
            render(viewer, StatusCode::OK, content)
        }
        // The records changed since the preview: the file is shown again
        // with what is wrong now.
        Ok(report) => {
            let content = html! { (report_section(viewer, kind, &report)) (form(viewer, &kinds, Some(kind), &[])) };
            render(viewer, StatusCode::UNPROCESSABLE_ENTITY, content)
        }
        Err(ServiceError::NotFound { .. }) => {
            let content = html! {
                p.notice.error role="alert" id="import-expired" { (t(l, "import.expired")) }
                (form(viewer, &kinds, Some(kind), &[]))
            };
            render(viewer, StatusCode::NOT_FOUND, content)
        }
        Err(ServiceError::Conflict { code, .. }) => {
            let content = html! {
                p.notice.error role="alert" { (field_message(l, &FieldError::new("", code.as_str()))) }
                (form(viewer, &kinds, Some(kind), &[]))
            };
            render(viewer, StatusCode::CONFLICT, content)
        }
        Err(other) => Err(viewer.fail(other)),
    }
}

async fn export(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((kind, format)): Path<(String, String)>,
) -> PageResult {
    let actor = viewer.require()?;
    let not_found = || viewer.fail(ServiceError::NotFound { entity: "export" });
    let kind: RecordKind = kind.parse().map_err(|_| not_found())?;
    // The format is known before anything is read (or audited).
    let xlsx = match format.as_str() {
        "csv" => false,
        "xlsx" => true,
        _ => return Err(not_found()),
    };
    let lang = match viewer.locale {
        Locale::Zh => Lang::Zh,
        Locale::En => Lang::En,
    };
    let sheet = state
        .services
        .export_records(actor, kind, lang)
        .await
        .map_err(|e| viewer.fail(e))?;
    let attachment = |ext: &str| format!("attachment; filename=\"{}.{ext}\"", kind.id());
    Ok(if xlsx {
        let body = sheet.to_xlsx().map_err(|e| viewer.fail(e))?;
        let headers = [
            (header::CONTENT_TYPE, XLSX.to_owned()),
            (header::CONTENT_DISPOSITION, attachment("xlsx")),
        ];
        (headers, body).into_response()
    } else {
        let headers = [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, attachment("csv")),
        ];
        (headers, sheet.to_csv()).into_response()
    })
}
