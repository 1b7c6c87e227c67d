//! Pages for spaces, housing and instruments, one module a use case:
//! `agreements` (requesting space, offers, agreements: `/spaces`),
//! `allocators` (who allocates each district's community housing, on
//! `/housing`),
//! `inventory` (buildings, floors, units: `/spaces/inventory`), `housing`
//! (transitional housing's units and leases: `/housing`) and `instruments`
//! (shared instruments and their bookings: `/instruments`); `shared` holds
//! what they have in common. Founders request space, accept offers, see
//! their leases and book instruments by the slot; operators and district
//! reviewers keep inventory, serve waitlists, offer, move and end
//! agreements and allocate housing; institutions list instruments and
//! decide bookings. Every action is a plain form (CSRF token, no
//! JavaScript); the services decide who may do what, and a page draws a
//! form or button only where the services' `may_*` answer (asked of
//! `authz` as the write asks it) says its post will be allowed. Times are
//! shown in Asia/Shanghai.
//!
//! Stable element ids (for browser tests), each module naming its own:
//! every form's submit button is `FORM-submit` and its controls `f-NAME`;
//! a success is `result` (with `data-done` and `data-id`), a refused form's
//! messages `form-errors`.

mod agreements;
mod allocators;
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
        .route("/spaces", get(shared::show::<agreements::Spaces>))
        .route("/spaces/requests", post(agreements::request))
        .route("/spaces/requests/{id}/withdraw", post(agreements::withdraw))
        .route("/spaces/proposals", post(agreements::propose))
        .route(
            "/spaces/proposals/{id}/{action}",
            post(agreements::answer_proposal),
        )
        .route("/spaces/offers", post(agreements::offer))
        .route("/spaces/serve", post(agreements::serve))
        .route("/spaces/agreements/{id}/{action}", post(agreements::act))
        .route(
            "/spaces/inventory",
            get(shared::show::<inventory::Inventory>),
        )
        .route("/spaces/buildings", post(inventory::add_building))
        .route("/spaces/floors", post(inventory::add_floor))
        .route("/spaces/units", post(inventory::add_unit))
        .route("/housing", get(shared::show::<housing::Housing>))
        .route("/housing/units", post(housing::add_unit))
        .route("/housing/leases", post(housing::allocate))
        .route("/housing/allocators/{district}", post(allocators::save))
        .route("/housing/leases/{id}/{action}", post(housing::act))
        .route(
            "/instruments",
            get(shared::show::<instruments::Instruments>),
        )
        .route("/instruments", post(instruments::add))
        .route("/instruments/{id}", get(instruments::show_day))
        .route("/instruments/{id}/bookings", post(instruments::book))
        .route("/bookings/{id}/{action}", post(instruments::act_on_booking))
}
