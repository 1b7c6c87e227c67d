//! Pages for spaces, housing and instruments, one module a use case:
//! `agreements` (requesting space, offers, agreements: `/spaces`),
//! `inventory` (buildings, floors, units: `/spaces/inventory`), `housing`
//! (transitional housing's units and leases: `/housing`) and `instruments`
//! (shared instruments and their bookings: `/instruments`); `shared` holds
//! what they have in common. Founders request space, accept offers, see
//! their leases and book instruments by the slot; operators and district
//! reviewers keep inventory, serve waitlists, offer, move and end
//! agreements and allocate housing; institutions list instruments and
//! decide bookings. Every action is a plain form (CSRF token, no
//! JavaScript); the services decide who may do what, the pages only choose
//! which forms to show. Times are shown in Asia/Shanghai.
//!
//! Stable element ids (for browser tests), each module naming its own:
//! every form's submit button is `FORM-submit` and its controls `f-NAME`;
//! a success is `result` (with `data-done` and `data-id`), a refused form's
//! messages `form-errors`.

mod agreements;
mod housing;
mod instruments;
mod inventory;
mod shared;

use crate::AppState;
use axum::Router;
use axum::routing::{get, post};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/spaces", get(agreements::spaces_page))
        .route("/spaces/requests", post(agreements::post_request))
        .route(
            "/spaces/requests/{id}/withdraw",
            post(agreements::post_withdraw_request),
        )
        .route("/spaces/offers", post(agreements::post_offer))
        .route("/spaces/serve", post(agreements::post_serve))
        .route(
            "/spaces/agreements/{id}/{action}",
            post(agreements::post_agreement),
        )
        .route("/spaces/inventory", get(inventory::inventory_page))
        .route("/spaces/buildings", post(inventory::post_building))
        .route("/spaces/floors", post(inventory::post_floor))
        .route("/spaces/units", post(inventory::post_unit))
        .route("/housing", get(housing::housing_page))
        .route("/housing/units", post(housing::post_housing_unit))
        .route("/housing/leases", post(housing::post_lease))
        .route(
            "/housing/leases/{id}/{action}",
            post(housing::post_lease_action),
        )
        .route(
            "/instruments",
            get(instruments::instruments_page).post(instruments::post_instrument),
        )
        .route("/instruments/{id}", get(instruments::instrument_page))
        .route(
            "/instruments/{id}/bookings",
            post(instruments::post_booking),
        )
        .route(
            "/bookings/{id}/{action}",
            post(instruments::post_booking_action),
        )
}
