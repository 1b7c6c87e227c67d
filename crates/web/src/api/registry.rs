//! Registry endpoints: communities, persons, enterprises.

use super::ApiPath;
use super::{ApiQuery, ListParams, ProblemDoc};
use crate::AppState;
use crate::error::WebError;
use crate::extract::{ApiActor, ApiJson};
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use opcity_services::registry::Paged;
use opcity_services::registry::communities::{CommunityInput, CommunityView};
use opcity_services::registry::enterprises::{EnterpriseInput, EnterpriseView};
use opcity_services::registry::persons::{PersonInput, PersonView, RevealedResidentId};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/communities",
            get(list_communities).post(create_community),
        )
        .route(
            "/api/v1/communities/{id}",
            get(get_community).put(update_community),
        )
        .route("/api/v1/persons", get(list_persons).post(create_person))
        .route("/api/v1/persons/{id}", get(get_person).put(update_person))
        .route(
            "/api/v1/persons/{id}/resident-id/reveal",
            post(reveal_resident_id),
        )
        .route(
            "/api/v1/enterprises",
            get(list_enterprises).post(create_enterprise),
        )
        .route(
            "/api/v1/enterprises/{id}",
            get(get_enterprise).put(update_enterprise),
        )
}

/// `201 Created` with the new record's location.
fn created<T: serde::Serialize>(collection: &str, id: i64, body: T) -> impl IntoResponse {
    (
        StatusCode::CREATED,
        [(header::LOCATION, format!("/api/v1/{collection}/{id}"))],
        Json(body),
    )
}

#[utoipa::path(get, path = "/api/v1/communities", tag = "registry", params(ListParams),
    responses((status = 200, body = Paged<CommunityView>), (status = 401, body = ProblemDoc), (status = 422, body = ProblemDoc)))]
pub async fn list_communities(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<Json<Paged<CommunityView>>, WebError> {
    let (filter, paging) = params.into_parts()?;
    Ok(Json(
        state
            .services
            .list_communities(&actor, &filter, paging)
            .await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/communities/{id}", tag = "registry",
    responses((status = 200, body = CommunityView), (status = 404, body = ProblemDoc)))]
pub async fn get_community(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<CommunityView>, WebError> {
    Ok(Json(state.services.get_community(&actor, id).await?))
}

#[utoipa::path(post, path = "/api/v1/communities", tag = "registry", request_body = CommunityInput,
    responses((status = 201, body = CommunityView), (status = 403, body = ProblemDoc), (status = 422, body = ProblemDoc)))]
pub async fn create_community(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(input): ApiJson<CommunityInput>,
) -> Result<impl IntoResponse, WebError> {
    let view = state.services.create_community(&actor, &input).await?;
    Ok(created("communities", view.id, view))
}

#[utoipa::path(put, path = "/api/v1/communities/{id}", tag = "registry", request_body = CommunityInput,
    responses((status = 200, body = CommunityView), (status = 403, body = ProblemDoc), (status = 422, body = ProblemDoc)))]
pub async fn update_community(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<CommunityInput>,
) -> Result<Json<CommunityView>, WebError> {
    Ok(Json(
        state.services.update_community(&actor, id, &input).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/persons", tag = "registry", params(ListParams),
    responses((status = 200, body = Paged<PersonView>), (status = 401, body = ProblemDoc)))]
pub async fn list_persons(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<Json<Paged<PersonView>>, WebError> {
    let (filter, paging) = params.into_parts()?;
    Ok(Json(
        state.services.list_persons(&actor, &filter, paging).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/persons/{id}", tag = "registry",
    responses((status = 200, body = PersonView), (status = 403, body = ProblemDoc), (status = 404, body = ProblemDoc)))]
pub async fn get_person(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<PersonView>, WebError> {
    Ok(Json(state.services.get_person(&actor, id).await?))
}

/// Registers a person: administrators for anyone; a founder whose account
/// has no record yet enters their own (linked to their account).
#[utoipa::path(post, path = "/api/v1/persons", tag = "registry", request_body = PersonInput,
    responses((status = 201, body = PersonView), (status = 403, body = ProblemDoc), (status = 422, body = ProblemDoc)))]
pub async fn create_person(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(input): ApiJson<PersonInput>,
) -> Result<impl IntoResponse, WebError> {
    let view = state.services.create_person(&actor, &input).await?;
    Ok(created("persons", view.id, view))
}

#[utoipa::path(put, path = "/api/v1/persons/{id}", tag = "registry", request_body = PersonInput,
    responses((status = 200, body = PersonView), (status = 403, body = ProblemDoc), (status = 422, body = ProblemDoc)))]
pub async fn update_person(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<PersonInput>,
) -> Result<Json<PersonView>, WebError> {
    Ok(Json(
        state.services.update_person(&actor, id, &input).await?,
    ))
}

/// Reveals a person's whole resident id number to a reader who needs it
/// (the person, their district's reviewer, an administrator); every other
/// reader sees it masked to its first and last characters. The reveal is
/// written to the audit log (with the mask only) before the number is sent;
/// the answer is not to be stored (`Cache-Control: no-store`).
#[utoipa::path(post, path = "/api/v1/persons/{id}/resident-id/reveal", tag = "registry",
    params(("id" = i64, Path, description = "The person")),
    responses(
        (status = 200, body = RevealedResidentId, description = "The whole number; the reveal is audited (`person.reveal_resident_id`)"),
        (status = 401, body = ProblemDoc),
        (status = 403, body = ProblemDoc, description = "forbidden: the reader may not reveal this person's number"),
        (status = 404, body = ProblemDoc, description = "not_found: no such person, or no number on file"),
    ))]
pub async fn reveal_resident_id(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> Result<impl IntoResponse, WebError> {
    let revealed = state.services.reveal_resident_id(&actor, id).await?;
    Ok((
        [(header::CACHE_CONTROL, "private, no-store")],
        Json(revealed),
    ))
}

#[utoipa::path(get, path = "/api/v1/enterprises", tag = "registry", params(ListParams),
    responses((status = 200, body = Paged<EnterpriseView>), (status = 401, body = ProblemDoc)))]
pub async fn list_enterprises(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<Json<Paged<EnterpriseView>>, WebError> {
    let (filter, paging) = params.into_parts()?;
    Ok(Json(
        state
            .services
            .list_enterprises(&actor, &filter, paging)
            .await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/enterprises/{id}", tag = "registry",
    responses((status = 200, body = EnterpriseView), (status = 403, body = ProblemDoc), (status = 404, body = ProblemDoc)))]
pub async fn get_enterprise(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<EnterpriseView>, WebError> {
    Ok(Json(state.services.get_enterprise(&actor, id).await?))
}

#[utoipa::path(post, path = "/api/v1/enterprises", tag = "registry", request_body = EnterpriseInput,
    responses((status = 201, body = EnterpriseView), (status = 409, body = ProblemDoc), (status = 422, body = ProblemDoc)))]
pub async fn create_enterprise(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(input): ApiJson<EnterpriseInput>,
) -> Result<impl IntoResponse, WebError> {
    let view = state.services.create_enterprise(&actor, &input).await?;
    Ok(created("enterprises", view.id, view))
}

#[utoipa::path(put, path = "/api/v1/enterprises/{id}", tag = "registry", request_body = EnterpriseInput,
    responses((status = 200, body = EnterpriseView), (status = 403, body = ProblemDoc), (status = 409, body = ProblemDoc), (status = 422, body = ProblemDoc)))]
pub async fn update_enterprise(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<EnterpriseInput>,
) -> Result<Json<EnterpriseView>, WebError> {
    Ok(Json(
        state.services.update_enterprise(&actor, id, &input).await?,
    ))
}
