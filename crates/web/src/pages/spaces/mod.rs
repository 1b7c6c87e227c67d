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

/// One line per entry point; a path with two methods takes two lines,
/// which axum merges into one route.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/spaces", get(agreements::show))
        .route("/spaces/requests", post(agreements::request))
        .route("/spaces/requests/{id}/withdraw", post(agreements::withdraw))
        .route("/spaces/offers", post(agreements::offer))
        .route("/spaces/serve", post(agreements::serve))
        .route("/spaces/agreements/{id}/{action}", post(agreements::act))
        .route("/spaces/inventory", get(inventory::show))
        .route("/spaces/buildings", post(inventory::add_building))
        .route("/spaces/floors", post(inventory::add_floor))
        .route("/spaces/units", post(inventory::add_unit))
        .route("/housing", get(housing::show))
        .route("/housing/units", post(housing::add_unit))
        .route("/housing/leases", post(housing::allocate))
        .route("/housing/leases/{id}/{action}", post(housing::act))
        .route("/instruments", get(instruments::show))
        .route("/instruments", post(instruments::add))
        .route("/instruments/{id}", get(instruments::show_day))
        .route("/instruments/{id}/bookings", post(instruments::book))
        .route("/bookings/{id}/{action}", post(instruments::act_on_booking))
}
