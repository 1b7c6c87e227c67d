//! Drafts of policy changes and their simulated impact
//! (`services::policy_drafts`). Every change of a draft names the revision
//! its caller read (`?revision=N`); a draft edited since is a 409
//! `draft_changed`.

use super::{ApiPath, ApiQuery, ProblemDoc};
use crate::AppState;
use crate::error::WebError;
use crate::extract::{ApiActor, ApiJson};
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use opcity_services::policy_drafts::{
    ChangeInput, DraftInput, DraftSummary, DraftView, MAX_FILE_BYTES, Population,
};
use opcity_services::{FieldError, ServiceError};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/policy-drafts",
            get(list_policy_drafts).post(create_policy_draft),
        )
        .route(
            "/api/v1/policy-drafts/{id}",
            get(get_policy_draft).put(update_policy_draft),
        )
        .route(
            "/api/v1/policy-drafts/{id}/changes",
            post(add_policy_draft_change),
        )
        .route(
            "/api/v1/policy-drafts/{id}/changes/{change_id}",
            delete(remove_policy_draft_change),
        )
        .route(
            "/api/v1/policy-drafts/{id}/withdraw",
            post(withdraw_policy_draft),
        )
        .route(
            "/api/v1/policy-drafts/{id}/simulation",
            post(simulate_policy_draft),
        )
        .route(
            "/api/v1/policy-drafts/{id}/submit",
            post(submit_policy_draft),
        )
        .route(
            "/api/v1/policy-drafts/{id}/send-back",
            post(send_back_policy_draft),
        )
        .route(
            "/api/v1/policy-drafts/{id}/publish",
            post(publish_policy_draft),
        )
}

/// The revision of the draft the caller read.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RevisionParams {
    /// The draft's `revision` as the caller last read it.
    #[param(minimum = 1)]
    revision: i32,
}

/// Whom a draft is simulated over.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SimulationInput {
    /// `registry` (the platform's persons and enterprises, aggregates
    /// only) or `file` (the cases in `cases`).
    population: String,
    /// The file's name, for the record.
    #[serde(default)]
    file_name: Option<String>,
    /// Cases as `opcity policy eval` reads them, one JSON object a line.
    #[serde(default)]
    cases: Option<String>,
}

/// Drafts of policy changes, newest first (administrators and auditors).
#[utoipa::path(get, path = "/api/v1/policy-drafts", tag = "policy",
    responses((status = 200, body = Vec<DraftSummary>), (status = 403, body = ProblemDoc)))]
pub async fn list_policy_drafts(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
) -> Result<Json<Vec<DraftSummary>>, WebError> {
    Ok(Json(state.services.policy_drafts(&actor).await?))
}

/// Starts a draft against the pack in force (administrators); audited.
#[utoipa::path(post, path = "/api/v1/policy-drafts", tag = "policy", request_body = DraftInput,
    responses((status = 201, body = DraftView), (status = 403, body = ProblemDoc), (status = 422, body = ProblemDoc)))]
pub async fn create_policy_draft(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(input): ApiJson<DraftInput>,
) -> Result<impl IntoResponse, WebError> {
    let view = state.services.create_policy_draft(&actor, &input).await?;
    Ok((
        StatusCode::CREATED,
        [(
            header::LOCATION,
            format!("/api/v1/policy-drafts/{}", view.id),
        )],
        Json(view),
    ))
}

/// A draft with its changes, what each replaces, and its last impact.
#[utoipa::path(get, path = "/api/v1/policy-drafts/{id}", tag = "policy",
    responses((status = 200, body = DraftView), (status = 403, body = ProblemDoc), (status = 404, body = ProblemDoc)))]
pub async fn get_policy_draft(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<DraftView>, WebError> {
    Ok(Json(state.services.policy_draft(&actor, id).await?))
}

/// Replaces a draft's title, reason and source document.
#[utoipa::path(put, path = "/api/v1/policy-drafts/{id}", tag = "policy", params(RevisionParams), request_body = DraftInput,
    responses((status = 200, body = DraftView), (status = 403, body = ProblemDoc), (status = 404, body = ProblemDoc),
        (status = 409, body = ProblemDoc), (status = 422, body = ProblemDoc)))]
pub async fn update_policy_draft(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(seen): ApiQuery<RevisionParams>,
    ApiJson(input): ApiJson<DraftInput>,
) -> Result<Json<DraftView>, WebError> {
    let view = state
        .services
        .update_policy_draft(&actor, id, seen.revision, &input)
        .await?;
    Ok(Json(view))
}

/// Adds a change: a parameter's value (in its unit; fen for money) or a
/// programme's condition text, from a date.
#[utoipa::path(post, path = "/api/v1/policy-drafts/{id}/changes", tag = "policy", params(RevisionParams), request_body = ChangeInput,
    responses((status = 200, body = DraftView), (status = 403, body = ProblemDoc), (status = 404, body = ProblemDoc),
        (status = 409, body = ProblemDoc), (status = 422, body = ProblemDoc)))]
pub async fn add_policy_draft_change(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(seen): ApiQuery<RevisionParams>,
    ApiJson(input): ApiJson<ChangeInput>,
) -> Result<Json<DraftView>, WebError> {
    let view = state
        .services
        .add_policy_draft_change(&actor, id, seen.revision, &input)
        .await?;
    Ok(Json(view))
}

/// Removes a change of the draft.
#[utoipa::path(delete, path = "/api/v1/policy-drafts/{id}/changes/{change_id}", tag = "policy",
    params(("id" = i64, Path, description = "The draft"), ("change_id" = i64, Path, description = "The change"), RevisionParams),
    responses((status = 200, body = DraftView), (status = 403, body = ProblemDoc), (status = 404, body = ProblemDoc),
        (status = 409, body = ProblemDoc)))]
pub async fn remove_policy_draft_change(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath((id, change_id)): ApiPath<(i64, i64)>,
    ApiQuery(seen): ApiQuery<RevisionParams>,
) -> Result<Json<DraftView>, WebError> {
    let view = state
        .services
        .remove_policy_draft_change(&actor, id, seen.revision, change_id)
        .await?;
    Ok(Json(view))
}

/// Withdraws the draft (it is kept, and takes no more edits).
#[utoipa::path(post, path = "/api/v1/policy-drafts/{id}/withdraw", tag = "policy", params(RevisionParams),
    responses((status = 200, body = DraftView), (status = 403, body = ProblemDoc), (status = 404, body = ProblemDoc),
        (status = 409, body = ProblemDoc)))]
pub async fn withdraw_policy_draft(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(seen): ApiQuery<RevisionParams>,
) -> Result<Json<DraftView>, WebError> {
    let view = state
        .services
        .withdraw_policy_draft(&actor, id, seen.revision)
        .await?;
    Ok(Json(view))
}

/// Simulates the draft over the registry (aggregates only; counts under
/// five withheld) or over the cases sent, for each year of the pack from
/// its first change, and keeps the impact with the revision simulated.
#[utoipa::path(post, path = "/api/v1/policy-drafts/{id}/simulation", tag = "policy", params(RevisionParams), request_body = SimulationInput,
    responses((status = 200, body = DraftView), (status = 403, body = ProblemDoc), (status = 404, body = ProblemDoc),
        (status = 409, body = ProblemDoc), (status = 413, body = ProblemDoc), (status = 422, body = ProblemDoc)))]
pub async fn simulate_policy_draft(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(seen): ApiQuery<RevisionParams>,
    ApiJson(input): ApiJson<SimulationInput>,
) -> Result<Json<DraftView>, WebError> {
    // Who may not simulate learns nothing about what they sent.
    if !state.services.may_draft_policy(&actor) {
        return Err(ServiceError::Forbidden.into());
    }
    let population = match (input.population.as_str(), input.cases) {
        ("registry", None) => Population::Registry,
        ("file", Some(cases)) if cases.len() <= MAX_FILE_BYTES => Population::File {
            name: input.file_name.unwrap_or_else(|| "cases.jsonl".into()),
            bytes: cases.into_bytes(),
        },
        ("file", Some(_)) => return Err(refused("cases", "file_too_large")),
        ("file", None) => return Err(refused("cases", "required")),
        ("registry", Some(_)) => return Err(refused("cases", "not_allowed")),
        _ => {
            return Err(ServiceError::Validation(vec![
                FieldError::new("population", "not_one_of").with("allowed", "registry, file"),
            ])
            .into());
        }
    };
    let view = state
        .services
        .simulate_policy_draft(&actor, id, seen.revision, population)
        .await?;
    Ok(Json(view))
}

/// Submits the draft for publication: its impact must be of its changes
/// as they are; it then takes no edit.
#[utoipa::path(post, path = "/api/v1/policy-drafts/{id}/submit", tag = "policy", params(RevisionParams),
    responses((status = 200, body = DraftView), (status = 403, body = ProblemDoc), (status = 404, body = ProblemDoc),
        (status = 409, body = ProblemDoc), (status = 422, body = ProblemDoc)))]
pub async fn submit_policy_draft(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(seen): ApiQuery<RevisionParams>,
) -> Result<Json<DraftView>, WebError> {
    let view = state
        .services
        .submit_policy_draft(&actor, id, seen.revision)
        .await?;
    Ok(Json(view))
}

/// Why a submitted draft goes back to its author.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendBackInput {
    note: String,
}

/// Sends a submitted draft back to its author with a note (another
/// administrator than its author and submitter).
#[utoipa::path(post, path = "/api/v1/policy-drafts/{id}/send-back", tag = "policy", params(RevisionParams), request_body = SendBackInput,
    responses((status = 200, body = DraftView), (status = 403, body = ProblemDoc), (status = 404, body = ProblemDoc),
        (status = 409, body = ProblemDoc), (status = 422, body = ProblemDoc)))]
pub async fn send_back_policy_draft(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(seen): ApiQuery<RevisionParams>,
    ApiJson(input): ApiJson<SendBackInput>,
) -> Result<Json<DraftView>, WebError> {
    let view = state
        .services
        .send_back_policy_draft(&actor, id, seen.revision, &input.note)
        .await?;
    Ok(Json(view))
}

/// Publishes a submitted draft as a new version of the pack, in force from
/// its first date (another administrator than its author and submitter).
#[utoipa::path(post, path = "/api/v1/policy-drafts/{id}/publish", tag = "policy", params(RevisionParams),
    responses((status = 200, body = DraftView), (status = 403, body = ProblemDoc), (status = 404, body = ProblemDoc),
        (status = 409, body = ProblemDoc), (status = 422, body = ProblemDoc)))]
pub async fn publish_policy_draft(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(seen): ApiQuery<RevisionParams>,
) -> Result<Json<DraftView>, WebError> {
    let view = state
        .services
        .publish_policy_draft(&actor, id, seen.revision)
        .await?;
    Ok(Json(view))
}

fn refused(field: &str, code: &'static str) -> WebError {
    let mut error = FieldError::new(field, code);
    if code == "file_too_large" {
        error = error.with("max_mib", MAX_FILE_BYTES >> 20);
    }
    ServiceError::Validation(vec![error]).into()
}
