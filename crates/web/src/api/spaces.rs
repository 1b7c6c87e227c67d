//! Spaces, housing and instruments: inventory, waitlists, offers and
//! agreements (with the growth path), transitional housing leases and
//! occupancy, instrument bookings and their iCalendar export, granted
//! benefits. Times in bodies are UTC (RFC 3339); the `*_local` fields and
//! dates are Asia/Shanghai.

use super::ApiPath;
use super::{ApiQuery, ProblemDoc};
use crate::AppState;
use crate::error::WebError;
use crate::extract::{ApiActor, ApiJson};
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, NaiveDate, Utc};
use opcity_domain::District;
use opcity_services::grants::{GrantInput, GrantView};
use opcity_services::spaces::agreements::{
    AgreementView, AllocationFilter, AmendmentInput, AmendmentView, EndInput, MoveInput,
    OfferInput, RequestView, ServeInput, SpaceRequestInput,
};
use opcity_services::spaces::housing::{
    HousingRequestView, HousingUnitInput, HousingUnitView, LeaseInput, LeaseView, OccupancyView,
    RenewInput,
};
use opcity_services::spaces::instruments::{
    BookingInput, BookingView, DayView, InstrumentInput, InstrumentView,
};
use opcity_services::spaces::inventory::{
    BuildingInput, BuildingView, FloorInput, FloorView, InventoryView, UnitInput, UnitView,
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/space/buildings", post(create_building))
        .route("/api/v1/space/floors", post(create_floor))
        .route("/api/v1/space/units", post(create_unit))
        .route("/api/v1/space/units/{id}", get(get_unit).put(update_unit))
        .route("/api/v1/space/inventory", get(inventory))
        .route(
            "/api/v1/space/requests",
            get(list_requests).post(request_space),
        )
        .route(
            "/api/v1/space/requests/{id}/withdraw",
            post(withdraw_request),
        )
        .route(
            "/api/v1/space/requests/{id}/proposals",
            post(propose_space_change),
        )
        .route(
            "/api/v1/space/proposals/{id}/accept",
            post(accept_space_change),
        )
        .route(
            "/api/v1/space/proposals/{id}/decline",
            post(decline_space_change),
        )
        .route(
            "/api/v1/space/proposals/{id}/withdraw",
            post(withdraw_space_change),
        )
        .route("/api/v1/space/offers", post(offer_space))
        .route("/api/v1/space/waitlist/serve", post(serve_waitlist))
        .route("/api/v1/space/agreements", get(list_agreements))
        .route("/api/v1/space/agreements/{id}", get(get_agreement))
        .route("/api/v1/space/agreements/{id}/accept", post(accept_offer))
        .route("/api/v1/space/agreements/{id}/decline", post(decline_offer))
        .route(
            "/api/v1/space/agreements/{id}/withdraw",
            post(withdraw_offer),
        )
        .route("/api/v1/space/agreements/{id}/end", post(end_agreement))
        .route("/api/v1/space/agreements/{id}/move", post(move_agreement))
        .route(
            "/api/v1/housing/units",
            get(list_housing_units).post(create_housing_unit),
        )
        .route(
            "/api/v1/housing/units/{id}",
            axum::routing::put(update_housing_unit),
        )
        .route(
            "/api/v1/housing/leases",
            get(list_leases).post(allocate_housing),
        )
        .route("/api/v1/housing/leases/{id}", get(get_lease))
        .route("/api/v1/housing/requests", get(list_housing_requests))
        .route("/api/v1/housing/leases/{id}/move-in", post(move_in))
        .route("/api/v1/housing/leases/{id}/renew", post(renew_lease))
        .route("/api/v1/housing/leases/{id}/move-out", post(move_out))
        .route("/api/v1/housing/occupancy", get(occupancy))
        .route(
            "/api/v1/instruments",
            get(list_instruments).post(create_instrument),
        )
        .route(
            "/api/v1/instruments/{id}",
            get(get_instrument).put(update_instrument),
        )
        .route("/api/v1/instruments/{id}/day", get(instrument_day))
        .route(
            "/api/v1/instruments/{id}/calendar.ics",
            get(instrument_calendar),
        )
        .route("/api/v1/bookings", get(list_bookings).post(book_instrument))
        .route("/api/v1/bookings/calendar.ics", get(my_calendar))
        .route("/api/v1/bookings/{id}", get(get_booking))
        .route("/api/v1/bookings/{id}/approve", post(approve_booking))
        .route("/api/v1/bookings/{id}/reject", post(reject_booking))
        .route("/api/v1/bookings/{id}/cancel", post(cancel_booking))
        .route("/api/v1/bookings/{id}/check-in", post(check_in))
        .route("/api/v1/grants", get(list_grants).post(record_grant))
}

fn created<T: serde::Serialize>(location: String, body: T) -> impl IntoResponse {
    (
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(body),
    )
}

fn district(text: Option<&str>) -> Result<Option<District>, WebError> {
    match text.filter(|d| !d.is_empty()) {
        Some(d) => d
            .parse()
            .map(Some)
            .map_err(|_| WebError::invalid_query("district")),
        None => Ok(None),
    }
}

fn calendar(body: String) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/calendar; charset=utf-8")],
        body,
    )
}

// ---- workspace inventory ----

#[utoipa::path(post, path = "/api/v1/space/buildings", tag = "spaces", request_body = BuildingInput,
    responses((status = 201, body = BuildingView), (status = 403, body = ProblemDoc), (status = 422, body = ProblemDoc)))]
pub async fn create_building(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(input): ApiJson<BuildingInput>,
) -> Result<impl IntoResponse, WebError> {
    let view = state.services.create_building(&actor, &input).await?;
    Ok(created(
        format!("/api/v1/space/buildings/{}", view.id),
        view,
    ))
}

#[utoipa::path(post, path = "/api/v1/space/floors", tag = "spaces", request_body = FloorInput,
    responses((status = 201, body = FloorView), (status = 403, body = ProblemDoc), (status = 409, body = ProblemDoc), (status = 422, body = ProblemDoc)))]
pub async fn create_floor(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(input): ApiJson<FloorInput>,
) -> Result<impl IntoResponse, WebError> {
    let view = state.services.create_floor(&actor, &input).await?;
    Ok(created(format!("/api/v1/space/floors/{}", view.id), view))
}

#[utoipa::path(post, path = "/api/v1/space/units", tag = "spaces", request_body = UnitInput,
    responses((status = 201, body = UnitView), (status = 403, body = ProblemDoc), (status = 409, body = ProblemDoc), (status = 422, body = ProblemDoc)))]
pub async fn create_unit(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(input): ApiJson<UnitInput>,
) -> Result<impl IntoResponse, WebError> {
    let view = state.services.create_unit(&actor, &input).await?;
    Ok(created(format!("/api/v1/space/units/{}", view.id), view))
}

#[utoipa::path(get, path = "/api/v1/space/units/{id}", tag = "spaces",
    responses((status = 200, body = UnitView), (status = 404, body = ProblemDoc)))]
pub async fn get_unit(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<UnitView>, WebError> {
    Ok(Json(state.services.get_unit(&actor, id).await?))
}

#[utoipa::path(put, path = "/api/v1/space/units/{id}", tag = "spaces", request_body = UnitInput,
    responses((status = 200, body = UnitView), (status = 403, body = ProblemDoc), (status = 409, body = ProblemDoc, description = "unit_code_taken: another unit of the floor has the code"), (status = 422, body = ProblemDoc)))]
pub async fn update_unit(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<UnitInput>,
) -> Result<Json<UnitView>, WebError> {
    Ok(Json(state.services.update_unit(&actor, id, &input).await?))
}

/// Which site's inventory.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct InventoryParams {
    /// The community; absent: `district`'s space outside communities.
    community_id: Option<i64>,
    district: Option<String>,
    /// Which units are held at this instant (RFC 3339; default now).
    at: Option<DateTime<Utc>>,
}

#[utoipa::path(get, path = "/api/v1/space/inventory", tag = "spaces", params(InventoryParams),
    responses((status = 200, body = InventoryView), (status = 404, body = ProblemDoc), (status = 422, body = ProblemDoc)))]
pub async fn inventory(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiQuery(p): ApiQuery<InventoryParams>,
) -> Result<Json<InventoryView>, WebError> {
    let at = p.at.unwrap_or_else(|| state.services.now());
    Ok(Json(
        state
            .services
            .inventory(&actor, p.community_id, district(p.district.as_deref())?, at)
            .await?,
    ))
}

// ---- requests, offers, agreements ----

/// Filters for requests and agreements.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AllocationParams {
    community_id: Option<i64>,
    district: Option<String>,
    /// `desk`, `office` or `floor`.
    kind: Option<String>,
    status: Option<String>,
}

impl AllocationParams {
    fn filter(self) -> Result<AllocationFilter, WebError> {
        Ok(AllocationFilter {
            community_id: self.community_id,
            district: district(self.district.as_deref())?,
            kind: self.kind.filter(|k| !k.is_empty()),
            status: self.status.filter(|s| !s.is_empty()),
        })
    }
}

#[utoipa::path(get, path = "/api/v1/space/requests", tag = "spaces", params(AllocationParams),
    responses((status = 200, body = Vec<RequestView>), (status = 401, body = ProblemDoc)))]
pub async fn list_requests(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiQuery(p): ApiQuery<AllocationParams>,
) -> Result<Json<Vec<RequestView>>, WebError> {
    Ok(Json(
        state
            .services
            .list_space_requests(&actor, &p.filter()?)
            .await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/space/requests", tag = "spaces", request_body = SpaceRequestInput,
    responses((status = 201, body = RequestView), (status = 403, body = ProblemDoc), (status = 409, body = ProblemDoc), (status = 422, body = ProblemDoc)))]
pub async fn request_space(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(input): ApiJson<SpaceRequestInput>,
) -> Result<impl IntoResponse, WebError> {
    let view = state.services.request_space(&actor, &input).await?;
    Ok(created(format!("/api/v1/space/requests/{}", view.id), view))
}

#[utoipa::path(post, path = "/api/v1/space/requests/{id}/withdraw", tag = "spaces",
    responses((status = 200, body = RequestView), (status = 403, body = ProblemDoc), (status = 409, body = ProblemDoc)))]
pub async fn withdraw_request(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<RequestView>, WebError> {
    Ok(Json(
        state.services.withdraw_space_request(&actor, id).await?,
    ))
}

/// The site's operator proposes new terms for a waiting request (another
/// kind of unit, team size, start or length) with the reason; the holder
/// is told and accepts or declines. One open proposal per request.
#[utoipa::path(post, path = "/api/v1/space/requests/{id}/proposals", tag = "spaces", request_body = AmendmentInput,
    responses((status = 201, body = AmendmentView), (status = 403, body = ProblemDoc),
        (status = 409, body = ProblemDoc, description = "the request no longer waits (`request_not_waiting`) or has an open proposal (`amendment_open`)"),
        (status = 422, body = ProblemDoc)))]
pub async fn propose_space_change(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<AmendmentInput>,
) -> Result<(StatusCode, Json<AmendmentView>), WebError> {
    let view = state
        .services
        .propose_space_change(&actor, id, &input)
        .await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// The holder accepts a proposed change: the request takes its terms and
/// waits in the queue of its (new) kind, keeping the time it was made.
#[utoipa::path(post, path = "/api/v1/space/proposals/{id}/accept", tag = "spaces",
    responses((status = 200, body = RequestView), (status = 403, body = ProblemDoc), (status = 404, body = ProblemDoc),
        (status = 409, body = ProblemDoc, description = "answered already (`amendment_answered`), the request no longer waits, or the holder waits in that queue already (`already_waiting`)")))]
pub async fn accept_space_change(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<RequestView>, WebError> {
    Ok(Json(state.services.accept_space_change(&actor, id).await?))
}

/// The holder declines a proposed change: the request stays as it was.
#[utoipa::path(post, path = "/api/v1/space/proposals/{id}/decline", tag = "spaces",
    responses((status = 200, body = AmendmentView), (status = 403, body = ProblemDoc), (status = 404, body = ProblemDoc), (status = 409, body = ProblemDoc)))]
pub async fn decline_space_change(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<AmendmentView>, WebError> {
    Ok(Json(state.services.decline_space_change(&actor, id).await?))
}

/// The site's operator withdraws a proposal not yet answered.
#[utoipa::path(post, path = "/api/v1/space/proposals/{id}/withdraw", tag = "spaces",
    responses((status = 200, body = AmendmentView), (status = 403, body = ProblemDoc), (status = 404, body = ProblemDoc), (status = 409, body = ProblemDoc)))]
pub async fn withdraw_space_change(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<AmendmentView>, WebError> {
    Ok(Json(
        state.services.withdraw_space_change(&actor, id).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/space/offers", tag = "spaces", request_body = OfferInput,
    responses((status = 201, body = AgreementView), (status = 403, body = ProblemDoc), (status = 409, body = ProblemDoc, description = "the unit is held (`space_unit_taken`, naming the interval) or someone earlier waits (`waitlist_order`)"), (status = 422, body = ProblemDoc)))]
pub async fn offer_space(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(input): ApiJson<OfferInput>,
) -> Result<impl IntoResponse, WebError> {
    let view = state.services.offer_space(&actor, &input).await?;
    Ok(created(
        format!("/api/v1/space/agreements/{}", view.id),
        view,
    ))
}

#[utoipa::path(post, path = "/api/v1/space/waitlist/serve", tag = "spaces", request_body = ServeInput,
    responses((status = 201, body = AgreementView), (status = 403, body = ProblemDoc), (status = 409, body = ProblemDoc), (status = 422, body = ProblemDoc)))]
pub async fn serve_waitlist(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(input): ApiJson<ServeInput>,
) -> Result<impl IntoResponse, WebError> {
    let view = state.services.serve_waitlist(&actor, &input).await?;
    Ok(created(
        format!("/api/v1/space/agreements/{}", view.id),
        view,
    ))
}

#[utoipa::path(get, path = "/api/v1/space/agreements", tag = "spaces", params(AllocationParams),
    responses((status = 200, body = Vec<AgreementView>), (status = 401, body = ProblemDoc)))]
pub async fn list_agreements(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiQuery(p): ApiQuery<AllocationParams>,
) -> Result<Json<Vec<AgreementView>>, WebError> {
    Ok(Json(
        state.services.list_agreements(&actor, &p.filter()?).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/space/agreements/{id}", tag = "spaces",
    responses((status = 200, body = AgreementView), (status = 403, body = ProblemDoc), (status = 404, body = ProblemDoc)))]
pub async fn get_agreement(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<AgreementView>, WebError> {
    Ok(Json(state.services.get_agreement(&actor, id).await?))
}

#[utoipa::path(post, path = "/api/v1/space/agreements/{id}/accept", operation_id = "accept_space_offer", tag = "spaces",
    responses((status = 200, body = AgreementView), (status = 403, body = ProblemDoc), (status = 409, body = ProblemDoc)))]
pub async fn accept_offer(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<AgreementView>, WebError> {
    Ok(Json(state.services.accept_space_offer(&actor, id).await?))
}

#[utoipa::path(post, path = "/api/v1/space/agreements/{id}/decline", tag = "spaces",
    responses((status = 200, body = AgreementView), (status = 403, body = ProblemDoc), (status = 409, body = ProblemDoc)))]
pub async fn decline_offer(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<AgreementView>, WebError> {
    Ok(Json(state.services.decline_offer(&actor, id).await?))
}

#[utoipa::path(post, path = "/api/v1/space/agreements/{id}/withdraw", tag = "spaces",
    responses((status = 200, body = AgreementView), (status = 403, body = ProblemDoc), (status = 409, body = ProblemDoc)))]
pub async fn withdraw_offer(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<AgreementView>, WebError> {
    Ok(Json(state.services.withdraw_offer(&actor, id).await?))
}

#[utoipa::path(post, path = "/api/v1/space/agreements/{id}/end", tag = "spaces", request_body = EndInput,
    responses((status = 200, body = AgreementView), (status = 403, body = ProblemDoc), (status = 409, body = ProblemDoc), (status = 422, body = ProblemDoc)))]
pub async fn end_agreement(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<EndInput>,
) -> Result<Json<AgreementView>, WebError> {
    Ok(Json(
        state.services.end_agreement(&actor, id, &input).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/space/agreements/{id}/move", tag = "spaces", request_body = MoveInput,
    responses((status = 201, body = AgreementView, description = "the new agreement; the old one ends when it starts"), (status = 403, body = ProblemDoc), (status = 409, body = ProblemDoc), (status = 422, body = ProblemDoc)))]
pub async fn move_agreement(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<MoveInput>,
) -> Result<impl IntoResponse, WebError> {
    let view = state.services.move_agreement(&actor, id, &input).await?;
    Ok(created(
        format!("/api/v1/space/agreements/{}", view.id),
        view,
    ))
}

// ---- housing ----

/// Which housing stock.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct HousingParams {
    district: Option<String>,
    community_id: Option<i64>,
    /// The day of the occupancy view (default today, Shanghai).
    on: Option<NaiveDate>,
}

#[utoipa::path(get, path = "/api/v1/housing/units", tag = "housing", params(HousingParams),
    responses((status = 200, body = Vec<HousingUnitView>), (status = 401, body = ProblemDoc)))]
pub async fn list_housing_units(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiQuery(p): ApiQuery<HousingParams>,
) -> Result<Json<Vec<HousingUnitView>>, WebError> {
    Ok(Json(
        state
            .services
            .list_housing_units(&actor, district(p.district.as_deref())?, p.community_id)
            .await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/housing/units", tag = "housing", request_body = HousingUnitInput,
    responses((status = 201, body = HousingUnitView), (status = 403, body = ProblemDoc), (status = 409, body = ProblemDoc), (status = 422, body = ProblemDoc)))]
pub async fn create_housing_unit(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(input): ApiJson<HousingUnitInput>,
) -> Result<impl IntoResponse, WebError> {
    let view = state.services.create_housing_unit(&actor, &input).await?;
    Ok(created(format!("/api/v1/housing/units/{}", view.id), view))
}

#[utoipa::path(put, path = "/api/v1/housing/units/{id}", tag = "housing", request_body = HousingUnitInput,
    responses((status = 200, body = HousingUnitView), (status = 403, body = ProblemDoc), (status = 409, body = ProblemDoc, description = "housing_code_taken: another unit of the district has the code"), (status = 422, body = ProblemDoc)))]
pub async fn update_housing_unit(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<HousingUnitInput>,
) -> Result<Json<HousingUnitView>, WebError> {
    Ok(Json(
        state
            .services
            .update_housing_unit(&actor, id, &input)
            .await?,
    ))
}

/// Approved transitional housing waiting for a lease: the requests the
/// caller may serve (a founder: their own). A lease naming `request_id`
/// serves one.
#[utoipa::path(get, path = "/api/v1/housing/requests", tag = "housing",
    responses((status = 200, body = Vec<HousingRequestView>), (status = 401, body = ProblemDoc)))]
pub async fn list_housing_requests(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
) -> Result<Json<Vec<HousingRequestView>>, WebError> {
    Ok(Json(state.services.housing_requests(&actor).await?))
}

#[utoipa::path(get, path = "/api/v1/housing/leases", tag = "housing",
    responses((status = 200, body = Vec<LeaseView>), (status = 401, body = ProblemDoc)))]
pub async fn list_leases(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
) -> Result<Json<Vec<LeaseView>>, WebError> {
    Ok(Json(state.services.list_leases(&actor).await?))
}

#[utoipa::path(post, path = "/api/v1/housing/leases", tag = "housing", request_body = LeaseInput,
    responses((status = 201, body = LeaseView), (status = 403, body = ProblemDoc), (status = 409, body = ProblemDoc, description = "the unit is held (`housing_unit_taken`)"), (status = 422, body = ProblemDoc, description = "`lease_too_long` (the pack's limit), `excluded_by_grant` (the housing subsidy)")))]
pub async fn allocate_housing(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(input): ApiJson<LeaseInput>,
) -> Result<impl IntoResponse, WebError> {
    let view = state.services.allocate_housing(&actor, &input).await?;
    Ok(created(format!("/api/v1/housing/leases/{}", view.id), view))
}

#[utoipa::path(get, path = "/api/v1/housing/leases/{id}", tag = "housing",
    responses((status = 200, body = LeaseView), (status = 403, body = ProblemDoc), (status = 404, body = ProblemDoc)))]
pub async fn get_lease(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<LeaseView>, WebError> {
    Ok(Json(state.services.get_lease(&actor, id).await?))
}

#[utoipa::path(post, path = "/api/v1/housing/leases/{id}/move-in", tag = "housing",
    responses((status = 200, body = LeaseView), (status = 403, body = ProblemDoc), (status = 409, body = ProblemDoc)))]
pub async fn move_in(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<LeaseView>, WebError> {
    Ok(Json(state.services.move_in(&actor, id).await?))
}

#[utoipa::path(post, path = "/api/v1/housing/leases/{id}/renew", tag = "housing", request_body = RenewInput,
    responses((status = 200, body = LeaseView), (status = 403, body = ProblemDoc), (status = 409, body = ProblemDoc), (status = 422, body = ProblemDoc)))]
pub async fn renew_lease(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<RenewInput>,
) -> Result<Json<LeaseView>, WebError> {
    Ok(Json(state.services.renew_lease(&actor, id, &input).await?))
}

#[utoipa::path(post, path = "/api/v1/housing/leases/{id}/move-out", tag = "housing", request_body = EndInput,
    responses((status = 200, body = LeaseView), (status = 403, body = ProblemDoc), (status = 409, body = ProblemDoc), (status = 422, body = ProblemDoc)))]
pub async fn move_out(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<EndInput>,
) -> Result<Json<LeaseView>, WebError> {
    Ok(Json(state.services.move_out(&actor, id, &input).await?))
}

#[utoipa::path(get, path = "/api/v1/housing/occupancy", tag = "housing", params(HousingParams),
    responses((status = 200, body = OccupancyView), (status = 401, body = ProblemDoc)))]
pub async fn occupancy(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiQuery(p): ApiQuery<HousingParams>,
) -> Result<Json<OccupancyView>, WebError> {
    let on =
        p.on.unwrap_or_else(|| opcity_domain::today_in_shanghai(state.services.now()));
    Ok(Json(
        state
            .services
            .housing_occupancy(&actor, district(p.district.as_deref())?, p.community_id, on)
            .await?,
    ))
}

// ---- instruments and bookings ----

#[utoipa::path(get, path = "/api/v1/instruments", tag = "instruments",
    responses((status = 200, body = Vec<InstrumentView>), (status = 401, body = ProblemDoc)))]
pub async fn list_instruments(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
) -> Result<Json<Vec<InstrumentView>>, WebError> {
    Ok(Json(state.services.list_instruments(&actor).await?))
}

#[utoipa::path(post, path = "/api/v1/instruments", tag = "instruments", request_body = InstrumentInput,
    responses((status = 201, body = InstrumentView), (status = 403, body = ProblemDoc), (status = 422, body = ProblemDoc)))]
pub async fn create_instrument(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(input): ApiJson<InstrumentInput>,
) -> Result<impl IntoResponse, WebError> {
    let view = state.services.create_instrument(&actor, &input).await?;
    Ok(created(format!("/api/v1/instruments/{}", view.id), view))
}

#[utoipa::path(get, path = "/api/v1/instruments/{id}", tag = "instruments",
    responses((status = 200, body = InstrumentView), (status = 404, body = ProblemDoc)))]
pub async fn get_instrument(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<InstrumentView>, WebError> {
    Ok(Json(state.services.get_instrument(&actor, id).await?))
}

#[utoipa::path(put, path = "/api/v1/instruments/{id}", tag = "instruments", request_body = InstrumentInput,
    responses((status = 200, body = InstrumentView), (status = 403, body = ProblemDoc), (status = 422, body = ProblemDoc)))]
pub async fn update_instrument(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<InstrumentInput>,
) -> Result<Json<InstrumentView>, WebError> {
    Ok(Json(
        state.services.update_instrument(&actor, id, &input).await?,
    ))
}

/// The day to show.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DayParams {
    /// `YYYY-MM-DD` (Shanghai).
    date: NaiveDate,
}

#[utoipa::path(get, path = "/api/v1/instruments/{id}/day", tag = "instruments", params(DayParams),
    responses((status = 200, body = DayView), (status = 404, body = ProblemDoc), (status = 422, body = ProblemDoc)))]
pub async fn instrument_day(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(p): ApiQuery<DayParams>,
) -> Result<Json<DayView>, WebError> {
    Ok(Json(
        state.services.instrument_day(&actor, id, p.date).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/instruments/{id}/calendar.ics", tag = "instruments",
    responses((status = 200, content_type = "text/calendar", body = String, description = "iCalendar (RFC 5545); others' bookings read \"booked\""), (status = 404, body = ProblemDoc)))]
pub async fn instrument_calendar(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> Result<impl IntoResponse, WebError> {
    Ok(calendar(
        state.services.instrument_calendar(&actor, id).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/bookings/calendar.ics", tag = "instruments",
    responses((status = 200, content_type = "text/calendar", body = String, description = "the caller's bookings as iCalendar"), (status = 401, body = ProblemDoc)))]
pub async fn my_calendar(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
) -> Result<impl IntoResponse, WebError> {
    Ok(calendar(state.services.bookings_calendar(&actor).await?))
}

/// Bookings of one instrument.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct BookingParams {
    instrument_id: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/bookings", tag = "instruments", params(BookingParams),
    responses((status = 200, body = Vec<BookingView>), (status = 401, body = ProblemDoc)))]
pub async fn list_bookings(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiQuery(p): ApiQuery<BookingParams>,
) -> Result<Json<Vec<BookingView>>, WebError> {
    Ok(Json(
        state
            .services
            .list_bookings(&actor, p.instrument_id)
            .await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/bookings", tag = "instruments", request_body = BookingInput,
    responses((status = 201, body = BookingView), (status = 403, body = ProblemDoc), (status = 409, body = ProblemDoc, description = "the slot is held (`instrument_slot_taken`, naming the interval)"), (status = 422, body = ProblemDoc, description = "`outside_opening_hours`, `not_on_slot_grid`, `over_quota`, `in_the_past`, `ends_before_start`")))]
pub async fn book_instrument(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(input): ApiJson<BookingInput>,
) -> Result<impl IntoResponse, WebError> {
    let view = state.services.book_instrument(&actor, &input).await?;
    Ok(created(format!("/api/v1/bookings/{}", view.id), view))
}

#[utoipa::path(get, path = "/api/v1/bookings/{id}", tag = "instruments",
    responses((status = 200, body = BookingView), (status = 403, body = ProblemDoc), (status = 404, body = ProblemDoc)))]
pub async fn get_booking(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<BookingView>, WebError> {
    Ok(Json(state.services.get_booking(&actor, id).await?))
}

#[utoipa::path(post, path = "/api/v1/bookings/{id}/approve", tag = "instruments",
    responses((status = 200, body = BookingView), (status = 403, body = ProblemDoc), (status = 409, body = ProblemDoc)))]
pub async fn approve_booking(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<BookingView>, WebError> {
    Ok(Json(state.services.decide_booking(&actor, id, true).await?))
}

#[utoipa::path(post, path = "/api/v1/bookings/{id}/reject", tag = "instruments",
    responses((status = 200, body = BookingView), (status = 403, body = ProblemDoc), (status = 409, body = ProblemDoc)))]
pub async fn reject_booking(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<BookingView>, WebError> {
    Ok(Json(
        state.services.decide_booking(&actor, id, false).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/bookings/{id}/cancel", tag = "instruments",
    responses((status = 200, body = BookingView), (status = 403, body = ProblemDoc), (status = 409, body = ProblemDoc)))]
pub async fn cancel_booking(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<BookingView>, WebError> {
    Ok(Json(state.services.cancel_booking(&actor, id).await?))
}

#[utoipa::path(post, path = "/api/v1/bookings/{id}/check-in", tag = "instruments",
    responses((status = 200, body = BookingView), (status = 403, body = ProblemDoc), (status = 409, body = ProblemDoc)))]
pub async fn check_in(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<BookingView>, WebError> {
    Ok(Json(state.services.check_in(&actor, id).await?))
}

// ---- granted benefits ----

/// Whose grants.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct GrantParams {
    /// `person:ID` or `enterprise:ID`.
    subject: String,
}

#[utoipa::path(get, path = "/api/v1/grants", tag = "housing", params(GrantParams),
    responses((status = 200, body = Vec<GrantView>), (status = 403, body = ProblemDoc), (status = 404, body = ProblemDoc)))]
pub async fn list_grants(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiQuery(p): ApiQuery<GrantParams>,
) -> Result<Json<Vec<GrantView>>, WebError> {
    Ok(Json(state.services.grants_of(&actor, &p.subject).await?))
}

#[utoipa::path(post, path = "/api/v1/grants", tag = "housing", request_body = GrantInput,
    responses((status = 201, body = GrantView), (status = 403, body = ProblemDoc), (status = 422, body = ProblemDoc, description = "`excluded_by_grant`, `already_granted`")))]
pub async fn record_grant(
    State(state): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(input): ApiJson<GrantInput>,
) -> Result<impl IntoResponse, WebError> {
    let view = state.services.record_grant(&actor, &input).await?;
    Ok(created(
        format!("/api/v1/grants?subject={}", view.subject),
        view,
    ))
}
