//! The reviewers' workbench over the API: the queue a page at a time, the
//! queue as a file, who works a case, and saved views.

use super::export::{ExportFormat, Report};
use super::{ApiPath, ApiQuery, ProblemDoc};
use crate::AppState;
use crate::error::WebError;
use crate::extract::{ApiActor, ApiJson};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, put};
use axum::{Json, Router};
use opcity_services::applications::{AssignInput, Assignee, QueueFilter, QueuePage, SavedView};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/applications/queue", get(review_queue))
        .route(
            "/api/v1/applications/queue/export/{format}",
            get(export_queue),
        )
        .route("/api/v1/applications/{id}/assignee", put(assign_case))
        .route("/api/v1/applications/{id}/case-workers", get(case_workers))
        .route(
            "/api/v1/applications/views",
            get(saved_views).post(save_view),
        )
        .route(
            "/api/v1/applications/views/{id}",
            axum::routing::delete(delete_view),
        )
}

/// A page of the reviewer's queue (their district; all for municipal
/// administrators and auditors): by default the cases waiting for a
/// decision, longest waiting first, 50 a page, each with its applicant,
/// days waiting, the date its service standard promises a decision by, and
/// who works it.
#[utoipa::path(get, path = "/api/v1/applications/queue", tag = "applications", params(QueueFilter),
    responses((status = 200, body = QueuePage), (status = 403, body = ProblemDoc), (status = 422, body = ProblemDoc)))]
pub async fn review_queue(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiQuery(filter): ApiQuery<QueueFilter>,
) -> Result<Json<QueuePage>, WebError> {
    Ok(Json(state.services.review_queue(&actor, &filter).await?))
}

/// Every case the filters select (all pages) as CSV, an Excel workbook or
/// JSON, with headers in the caller's language; recorded in the audit log.
#[utoipa::path(get, path = "/api/v1/applications/queue/export/{format}", tag = "applications",
    params(("format" = ExportFormat, Path, description = "csv, xlsx or json"), QueueFilter),
    responses((status = 200, description = "CSV, XLSX or JSON by `format`",
            content((String = "text/csv"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), (Vec<opcity_services::applications::ApplicationView> = "application/json"))),
        (status = 403, body = ProblemDoc), (status = 422, body = ProblemDoc)))]
pub async fn export_queue(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(format): ApiPath<ExportFormat>,
    ApiQuery(filter): ApiQuery<QueueFilter>,
) -> Result<axum::response::Response, WebError> {
    let rows = state.services.export_queue(&actor, &filter).await?;
    let locale = crate::i18n::Locale::from_tag(&actor.locale).unwrap_or_default();
    let sheet = crate::pages::queue_sheet(&state, locale, &rows);
    Report {
        name: "applications".to_owned(),
        json: &rows,
        csv: || sheet.to_csv(),
        xlsx: || sheet.to_xlsx(),
    }
    .respond(format)
}

/// Gives the case to an account (`assignee`), or to nobody (`null`), if it
/// is still with whom the caller saw (`seen`, `null` for nobody); answers
/// who works it now. A change meanwhile is `assignment_changed` (409).
#[utoipa::path(put, path = "/api/v1/applications/{id}/assignee", tag = "applications", request_body = AssignInput,
    responses((status = 200, body = Option<Assignee>), (status = 403, body = ProblemDoc), (status = 404, body = ProblemDoc),
        (status = 409, body = ProblemDoc), (status = 422, body = ProblemDoc)))]
pub async fn assign_case(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<AssignInput>,
) -> Result<Json<Option<Assignee>>, WebError> {
    Ok(Json(state.services.assign_case(&actor, id, &input).await?))
}

/// Whom the caller may give the case to, by name (empty when they may not assign it).
#[utoipa::path(get, path = "/api/v1/applications/{id}/case-workers", tag = "applications",
    responses((status = 200, body = Vec<Assignee>), (status = 403, body = ProblemDoc), (status = 404, body = ProblemDoc)))]
pub async fn case_workers(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Vec<Assignee>>, WebError> {
    Ok(Json(state.services.case_workers(&actor, id).await?))
}

/// The caller's saved queue views, by name.
#[utoipa::path(get, path = "/api/v1/applications/views", tag = "applications",
    responses((status = 200, body = Vec<SavedView>), (status = 403, body = ProblemDoc)))]
pub async fn saved_views(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
) -> Result<Json<Vec<SavedView>>, WebError> {
    Ok(Json(state.services.saved_views(&actor).await?))
}

/// A view to save: its name and the queue's filters as a query string.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewView {
    pub name: String,
    /// As `GET /api/v1/applications/queue` takes it (`state=decided&q=…`).
    pub query: String,
}

/// Saves filters under a name, replacing the caller's view of that name;
/// answers the caller's views.
#[utoipa::path(post, path = "/api/v1/applications/views", tag = "applications", request_body = NewView,
    responses((status = 200, body = Vec<SavedView>), (status = 403, body = ProblemDoc), (status = 422, body = ProblemDoc)))]
pub async fn save_view(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(view): ApiJson<NewView>,
) -> Result<Json<Vec<SavedView>>, WebError> {
    Ok(Json(
        state
            .services
            .save_view(&actor, &view.name, &view.query)
            .await?,
    ))
}

/// Deletes one of the caller's saved views.
#[utoipa::path(delete, path = "/api/v1/applications/views/{id}", tag = "applications",
    responses((status = 204), (status = 403, body = ProblemDoc), (status = 404, body = ProblemDoc)))]
pub async fn delete_view(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, WebError> {
    state.services.delete_saved_view(&actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
