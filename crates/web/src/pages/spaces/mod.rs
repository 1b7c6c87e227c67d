//! Pages for spaces, housing and instruments: founders request space, accept
//! offers, see their leases and book instruments by the slot; operators and
//! district reviewers keep inventory, serve waitlists, offer, move and end
//! agreements and allocate housing; institutions list instruments and
//! decide bookings. Every action is a plain form (CSRF token, no
//! JavaScript); the services decide who may do what, the pages only choose
//! which forms to show. Times are shown in Asia/Shanghai.
//!
//! Stable element ids (for browser tests): forms `space-request-form`,
//! `offer-form`, `serve-form`, `building-form`, `floor-form`, `unit-form`,
//! `housing-unit-form`, `lease-form`, `instrument-form`, `book-HHMM`, each
//! with its submit button `FORM-submit` and controls `f-NAME` (the serve
//! form's `serve-f-NAME`, as it shares names with the offer form);
//! buttons `accept-ID`, `decline-ID`, `withdraw-ID`, `move-in-ID`,
//! `approve-ID`, `cancel-ID`, `check-in-ID`; results `result` (with
//! `data-id`), `booking-result` and `form-errors`; tables `space-requests`
//! (rows `request-ID`), `space-agreements` (rows `agreement-ID` with
//! `data-status`), `units` (rows `unit-ID`), `occupancy`, `leases`,
//! `instruments` (links `instrument-ID`), `bookings`, `slots` (rows
//! `slot-HHMM` with `data-free`); the link `calendar-link`.

use super::forms::{
    self, Field, Kind as F, Values, district_name, field, render_fields, render_fields_as,
};
use super::layout::page;
use super::{PageError, PageResult};
use crate::AppState;
use crate::error::{WebError, field_message, status_of};
use crate::extract::Viewer;
use crate::i18n::{Locale, t, tf};
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use maud::{Markup, html};
use opcity_domain::{Fen, Role};
use opcity_services::registry::{ListFilter, Paging};
use opcity_services::spaces::agreements::{
    AgreementView, AllocationFilter, EndInput, MoveInput, OfferInput, ServeInput, SpaceRequestInput,
};
use opcity_services::spaces::housing::{HOUSING_KINDS, HousingUnitInput, LeaseInput, RenewInput};
use opcity_services::spaces::instruments::{BookingInput, INSTRUMENT_KINDS, InstrumentInput};
use opcity_services::spaces::inventory::{BuildingInput, FloorInput, UNIT_KINDS, UnitInput};
use opcity_services::spaces::shanghai_text;
use opcity_services::{Actor, FieldError, ServiceError};
use std::collections::HashMap;

type Options = HashMap<&'static str, Vec<(String, String)>>;
type Query_ = HashMap<String, String>;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/spaces", get(spaces_page))
        .route("/spaces/requests", post(post_request))
        .route(
            "/spaces/requests/{id}/withdraw",
            post(post_withdraw_request),
        )
        .route("/spaces/offers", post(post_offer))
        .route("/spaces/serve", post(post_serve))
        .route("/spaces/agreements/{id}/{action}", post(post_agreement))
        .route("/spaces/inventory", get(inventory_page))
        .route("/spaces/buildings", post(post_building))
        .route("/spaces/floors", post(post_floor))
        .route("/spaces/units", post(post_unit))
        .route("/housing", get(housing_page))
        .route("/housing/units", post(post_housing_unit))
        .route("/housing/leases", post(post_lease))
        .route("/housing/leases/{id}/{action}", post(post_lease_action))
        .route("/instruments", get(instruments_page).post(post_instrument))
        .route("/instruments/{id}", get(instrument_page))
        .route("/instruments/{id}/bookings", post(post_booking))
        .route("/bookings/{id}/{action}", post(post_booking_action))
}

/// What a refused form shows: its field messages and the status to answer
/// with; other errors (forbidden, not found) become error pages.
fn refusal(viewer: &Viewer, err: ServiceError) -> Result<(StatusCode, Vec<FieldError>), PageError> {
    match err {
        ServiceError::Validation(_)
        | ServiceError::Conflict { .. }
        | ServiceError::Taken { .. } => {
            let problem = WebError::Service(err).problem();
            Ok((status_of(problem.code), problem.fields))
        }
        other => Err(viewer.fail(other)),
    }
}

/// Where a successful form goes: back to its page with the result named.
fn done(path: &str, what: &str, id: i64) -> Response {
    let sep = if path.contains('?') { '&' } else { '?' };
    Redirect::to(&format!("{path}{sep}done={what}&id={id}")).into_response()
}

fn result_notice(l: Locale, q: &Query_) -> Markup {
    match (q.get("done"), q.get("id")) {
        (Some(what), Some(id)) => html! {
            div.notice.success role="status" id="result" data-done=(what) data-id=(id) {
                (tf(l, &format!("spaces.done.{what}"), [("id", id.as_str())]))
            }
        },
        _ => html! {},
    }
}

fn error_block(l: Locale, errors: &[FieldError]) -> Markup {
    html! {
        @if !errors.is_empty() {
            div.notice.error role="alert" id="form-errors" {
                (tf(l, "form.has_errors", [("n", errors.len().to_string().as_str())]))
                ul {
                    @for e in errors {
                        li data-code=(e.code) data-field=(e.field) {
                            @if !e.field.is_empty() { (e.field) ": " }
                            (field_message(l, e))
                        }
                    }
                }
            }
        }
    }
}

fn csrf(viewer: &Viewer) -> Markup {
    html! { input type="hidden" name="_csrf" value=(viewer.csrf.clone().unwrap_or_default()); }
}

/// A one-button form posting to `action`.
fn button(viewer: &Viewer, action: &str, id: &str, label: &str) -> Markup {
    html! {
        form.inline method="post" action=(action) {
            (csrf(viewer))
            button.secondary type="submit" id=(id) { (label) }
        }
    }
}

/// A form of declared fields with a submit button.
#[allow(clippy::too_many_arguments)]
fn field_form(
    viewer: &Viewer,
    id: &str,
    action: &str,
    heading: &str,
    fields: &[Field],
    values: &Values,
    options: &Options,
    submit: &str,
) -> Markup {
    let l = viewer.locale;
    // The serve form repeats the offer form's field names on the same page;
    // its controls get their own ids so every id (and label) stays unique.
    let prefix = if id == "serve-form" { "serve-f-" } else { "f-" };
    html! {
        section.card {
            h2 { (heading) }
            form.stack id=(id) method="post" action=(action) novalidate {
                (csrf(viewer))
                (render_fields_as(l, "spaces.form", prefix, fields, values, &[], options))
                div.actions { button type="submit" id={ (id) "-submit" } { (submit) } }
            }
        }
    }
}

fn yuan(fen: i64) -> String {
    Fen(fen).to_string()
}

fn manages(actor: &Actor) -> bool {
    matches!(
        actor.role,
        Role::CommunityOperator | Role::DistrictReviewer | Role::MunicipalAdmin
    )
}

fn num(values: &Values, name: &'static str, errors: &mut Vec<FieldError>) -> i64 {
    forms::number(values, name, errors).unwrap_or(0)
}

/// Runs a form's service call (which returns the id of what it made or
/// changed): a redirect to `back` on success, else the
/// page again (via `again`) with the messages.
async fn submit(
    viewer: &Viewer,
    form: &Values,
    back: &str,
    what: &str,
    parse_errors: Vec<FieldError>,
    run: impl AsyncFnOnce() -> opcity_services::Result<i64>,
    again: impl AsyncFnOnce(Vec<FieldError>) -> PageResult,
) -> PageResult {
    viewer.require()?;
    viewer.check_csrf(form.get("_csrf"))?;
    if !parse_errors.is_empty() {
        let mut out = again(parse_errors).await?;
        *out.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        return Ok(out);
    }
    match run().await {
        Ok(id) => Ok(done(back, what, id)),
        Err(err) => {
            let (status, errors) = refusal(viewer, err)?;
            let mut out = again(errors).await?;
            *out.status_mut() = status;
            Ok(out)
        }
    }
}

// ---------------------------------------------------------------- spaces

const REQUEST_FIELDS: &[Field] = &[
    field("enterprise_id", F::Dynamic, false),
    field("community_id", F::Dynamic, false),
    field("district", F::District, false),
    field("kind", F::Choice(&UNIT_KINDS), true),
    field("team_size", F::Number, true),
    field("wanted_from", F::Date, true),
    field("months", F::Number, true),
    field("note", F::Text, false),
];

const OFFER_FIELDS: &[Field] = &[
    field("request_id", F::Dynamic, true),
    field("unit_id", F::Number, true),
    field("start", F::Date, true),
    field("end", F::Date, true),
    field("monthly_rent_fen", F::Number, false),
];

const SERVE_FIELDS: &[Field] = &[
    field("unit_id", F::Number, true),
    field("start", F::Date, true),
    field("end", F::Date, true),
];

async fn community_options(
    state: &AppState,
    actor: &Actor,
) -> Result<Vec<(String, String)>, ServiceError> {
    let list = state
        .services
        .list_communities(
            actor,
            &ListFilter::default(),
            Paging::new(Some(1), Some(Paging::MAX_PER_PAGE)),
        )
        .await?;
    Ok(list
        .items
        .iter()
        .map(|c| (c.id.to_string(), format!("{} ({})", c.name_zh, c.name_en)))
        .collect())
}

async fn spaces_page(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<Query_>,
) -> PageResult {
    render_spaces(&state, &viewer, &q, &[], &Values::new()).await
}

fn holder_label(l: Locale, enterprise: Option<i64>, person: Option<i64>) -> String {
    match (enterprise, person) {
        (Some(e), _) => tf(l, "spaces.enterprise_no", [("id", e.to_string().as_str())]),
        (_, Some(p)) => tf(l, "spaces.person_no", [("id", p.to_string().as_str())]),
        _ => "—".into(),
    }
}

fn agreement_actions(viewer: &Viewer, actor: &Actor, a: &AgreementView) -> Markup {
    let l = viewer.locale;
    let mine = a
        .enterprise_id
        .is_some_and(|e| actor.enterprise_ids.contains(&e))
        || (a.person_id.is_some() && a.person_id == actor.person_id);
    let base = format!("/spaces/agreements/{}", a.id);
    html! {
        @if a.status == "offered" && mine {
            (button(viewer, &format!("{base}/accept"), &format!("accept-{}", a.id), t(l, "spaces.accept")))
            (button(viewer, &format!("{base}/decline"), &format!("decline-{}", a.id), t(l, "spaces.decline")))
        }
        @if a.status == "offered" && manages(actor) {
            (button(viewer, &format!("{base}/withdraw"), &format!("withdraw-{}", a.id), t(l, "spaces.withdraw")))
        }
        @if a.status == "active" && manages(actor) {
            form.inline id={ "end-" (a.id) } method="post" action={ (base) "/end" } {
                (csrf(viewer))
                label { (t(l, "spaces.form.on")) " " input type="date" name="on" required; }
                button.secondary type="submit" { (t(l, "spaces.end")) }
            }
            form.inline id={ "move-" (a.id) } method="post" action={ (base) "/move" } {
                (csrf(viewer))
                label { (t(l, "spaces.form.unit_id")) " " input type="text" inputmode="numeric" name="unit_id" size="5" required; }
                label { (t(l, "spaces.form.on")) " " input type="date" name="on" required; }
                label { (t(l, "spaces.form.end")) " " input type="date" name="end" required; }
                button.secondary type="submit" { (t(l, "spaces.move")) }
            }
        }
    }
}

async fn render_spaces(
    state: &AppState,
    viewer: &Viewer,
    q: &Query_,
    errors: &[FieldError],
    values: &Values,
) -> PageResult {
    let actor = viewer.require()?;
    let l = viewer.locale;
    let s = &state.services;
    let all = AllocationFilter::default();
    let (requests, agreements, communities) = tokio::try_join!(
        s.list_space_requests(actor, &all),
        s.list_agreements(actor, &all),
        community_options(state, actor),
    )
    .map_err(|e| viewer.fail(e))?;
    let names: HashMap<String, String> = communities.iter().cloned().collect();
    let site = |community: Option<i64>, district: opcity_domain::District| match community {
        Some(c) => names
            .get(&c.to_string())
            .cloned()
            .unwrap_or_else(|| format!("#{c}")),
        None => format!(
            "{} · {}",
            district_name(l, district),
            t(l, "spaces.outside")
        ),
    };
    let mut options = Options::new();
    options.insert(
        "enterprise_id",
        actor
            .enterprise_ids
            .iter()
            .map(|e| (e.to_string(), format!("#{e}")))
            .collect(),
    );
    options.insert("community_id", communities.clone());
    options.insert(
        "request_id",
        requests
            .iter()
            .filter(|r| r.status == "waiting")
            .map(|r| {
                (
                    r.id.to_string(),
                    format!(
                        "#{} · {} · {} · {}",
                        r.id,
                        site(r.community_id, r.district),
                        t(l, &format!("spaces.kind.{}", r.kind)),
                        r.team_size
                    ),
                )
            })
            .collect(),
    );
    let body = html! {
        h1 { (t(l, "spaces.title")) }
        (result_notice(l, q))
        (error_block(l, errors))
        p {
            @for (id, name) in &communities {
                a.button.secondary href={ "/spaces/inventory?community_id=" (id) } { (t(l, "spaces.inventory")) " · " (name) } " "
            }
        }
        section.card {
            h2 { (t(l, "spaces.requests")) }
            table id="space-requests" {
                thead { tr {
                    th { "#" } th { (t(l, "spaces.site")) } th { (t(l, "spaces.form.kind")) } th { (t(l, "spaces.holder")) }
                    th { (t(l, "spaces.form.team_size")) } th { (t(l, "spaces.form.wanted_from")) } th { (t(l, "spaces.status")) } th { (t(l, "spaces.position")) } th {}
                } }
                tbody {
                    @for r in &requests {
                        tr id={ "request-" (r.id) } data-status=(r.status) {
                            td { (r.id) } td { (site(r.community_id, r.district)) } td { (t(l, &format!("spaces.kind.{}", r.kind))) }
                            td { (holder_label(l, r.enterprise_id, r.person_id)) } td { (r.team_size) } td { (r.wanted_from) }
                            td { (t(l, &format!("spaces.request_status.{}", r.status))) }
                            td.position { (r.position.map(|p| p.to_string()).unwrap_or_else(|| "—".into())) }
                            td { @if r.status == "waiting" { (button(viewer, &format!("/spaces/requests/{}/withdraw", r.id), &format!("withdraw-request-{}", r.id), t(l, "spaces.withdraw"))) } }
                        }
                    }
                }
            }
            @if requests.is_empty() { p.notice { (t(l, "list.empty")) } }
        }
        section.card {
            h2 { (t(l, "spaces.agreements")) }
            table id="space-agreements" {
                thead { tr {
                    th { "#" } th { (t(l, "spaces.unit")) } th { (t(l, "spaces.site")) } th { (t(l, "spaces.holder")) } th { (t(l, "spaces.period")) }
                    th { (t(l, "spaces.rent")) } th { (t(l, "spaces.status")) } th {}
                } }
                tbody {
                    @for a in &agreements {
                        tr id={ "agreement-" (a.id) } data-status=(a.status) {
                            td { (a.id) }
                            td { (a.unit_code) " · " (t(l, &format!("spaces.kind.{}", a.unit_kind))) " · " (a.area_m2) " m²" }
                            td { (site(a.community_id, a.district)) }
                            td { (holder_label(l, a.enterprise_id, a.person_id)) }
                            td { (a.start_date) " – " (a.end_date) }
                            td { (yuan(a.monthly_rent_fen)) @if a.discount_fen > 0 { " (" (tf(l, "spaces.discount", [("amount", yuan(a.discount_fen).as_str())])) ")" } }
                            td { (t(l, &format!("spaces.agreement_status.{}", a.status))) }
                            td { (agreement_actions(viewer, actor, a)) }
                        }
                    }
                }
            }
            @if agreements.is_empty() { p.notice { (t(l, "list.empty")) } }
        }
        @if actor.role == Role::Founder || actor.role == Role::MunicipalAdmin {
            (field_form(viewer, "space-request-form", "/spaces/requests", t(l, "spaces.request_heading"), REQUEST_FIELDS, values, &options, t(l, "spaces.request_submit")))
        }
        @if manages(actor) {
            (field_form(viewer, "offer-form", "/spaces/offers", t(l, "spaces.offer_heading"), OFFER_FIELDS, values, &options, t(l, "spaces.offer_submit")))
            (field_form(viewer, "serve-form", "/spaces/serve", t(l, "spaces.serve_heading"), SERVE_FIELDS, values, &options, t(l, "spaces.serve_submit")))
        }
    };
    Ok(page(viewer, t(l, "spaces.title"), body).into_response())
}

async fn post_request(
    State(state): State<AppState>,
    viewer: Viewer,
    Form(form): Form<Values>,
) -> PageResult {
    let actor = viewer.require()?.clone();
    let mut errors = Vec::new();
    let community_id = forms::number(&form, "community_id", &mut errors);
    let input = SpaceRequestInput {
        enterprise_id: forms::number(&form, "enterprise_id", &mut errors),
        // Outside communities the founder asks for themself.
        person_id: if community_id.is_none() {
            actor.person_id
        } else {
            None
        },
        community_id,
        district: forms::opt(&form, "district"),
        kind: forms::text(&form, "kind"),
        team_size: num(&form, "team_size", &mut errors) as i32,
        wanted_from: forms::text(&form, "wanted_from"),
        months: num(&form, "months", &mut errors) as i32,
        note: forms::opt(&form, "note"),
    };
    let input = if community_id.is_none() {
        SpaceRequestInput {
            enterprise_id: None,
            ..input
        }
    } else {
        input
    };
    let q = Query_::new();
    submit(
        &viewer,
        &form,
        "/spaces",
        "request",
        errors,
        async || {
            state
                .services
                .request_space(&actor, &input)
                .await
                .map(|v| v.id)
        },
        async |e| render_spaces(&state, &viewer, &q, &e, &form).await,
    )
    .await
}

async fn post_withdraw_request(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(form): Form<Values>,
) -> PageResult {
    let actor = viewer.require()?.clone();
    let q = Query_::new();
    submit(
        &viewer,
        &form,
        "/spaces",
        "withdrawn",
        Vec::new(),
        async || {
            state
                .services
                .withdraw_space_request(&actor, id)
                .await
                .map(|v| v.id)
        },
        async |e| render_spaces(&state, &viewer, &q, &e, &Values::new()).await,
    )
    .await
}

async fn post_offer(
    State(state): State<AppState>,
    viewer: Viewer,
    Form(form): Form<Values>,
) -> PageResult {
    let actor = viewer.require()?.clone();
    let mut errors = Vec::new();
    let input = OfferInput {
        request_id: num(&form, "request_id", &mut errors),
        unit_id: num(&form, "unit_id", &mut errors),
        start: forms::text(&form, "start"),
        end: forms::text(&form, "end"),
        monthly_rent_fen: forms::number(&form, "monthly_rent_fen", &mut errors),
    };
    let q = Query_::new();
    submit(
        &viewer,
        &form,
        "/spaces",
        "offer",
        errors,
        async || {
            state
                .services
                .offer_space(&actor, &input)
                .await
                .map(|v| v.id)
        },
        async |e| render_spaces(&state, &viewer, &q, &e, &form).await,
    )
    .await
}

async fn post_serve(
    State(state): State<AppState>,
    viewer: Viewer,
    Form(form): Form<Values>,
) -> PageResult {
    let actor = viewer.require()?.clone();
    let mut errors = Vec::new();
    let input = ServeInput {
        unit_id: num(&form, "unit_id", &mut errors),
        start: forms::text(&form, "start"),
        end: forms::text(&form, "end"),
        monthly_rent_fen: None,
    };
    let q = Query_::new();
    submit(
        &viewer,
        &form,
        "/spaces",
        "offer",
        errors,
        async || {
            state
                .services
                .serve_waitlist(&actor, &input)
                .await
                .map(|v| v.id)
        },
        async |e| render_spaces(&state, &viewer, &q, &e, &form).await,
    )
    .await
}

async fn post_agreement(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, action)): Path<(i64, String)>,
    Form(form): Form<Values>,
) -> PageResult {
    let actor = viewer.require()?.clone();
    let s = &state.services;
    let mut errors = Vec::new();
    let unit_id = forms::number(&form, "unit_id", &mut errors).unwrap_or(0);
    let (on, end) = (forms::text(&form, "on"), forms::text(&form, "end"));
    let q = Query_::new();
    let run = async || match action.as_str() {
        "accept" => s.accept_space_offer(&actor, id).await,
        "decline" => s.decline_offer(&actor, id).await,
        "withdraw" => s.withdraw_offer(&actor, id).await,
        "end" => {
            s.end_agreement(&actor, id, &EndInput { on: on.clone() })
                .await
        }
        "move" => {
            s.move_agreement(
                &actor,
                id,
                &MoveInput {
                    unit_id,
                    on: on.clone(),
                    end: end.clone(),
                    monthly_rent_fen: None,
                },
            )
            .await
        }
        _ => Err(ServiceError::NotFound { entity: "action" }),
    };
    let what = format!("agreement_{}", action.replace('-', "_"));
    submit(
        &viewer,
        &form,
        "/spaces",
        &what,
        errors,
        async || run().await.map(|v| v.id),
        async |e| render_spaces(&state, &viewer, &q, &e, &Values::new()).await,
    )
    .await
}

// ------------------------------------------------------------- inventory

const BUILDING_FIELDS: &[Field] = &[
    field("name", F::Text, true),
    field("address", F::Text, true),
];
const FLOOR_FIELDS: &[Field] = &[
    field("building_id", F::Dynamic, true),
    field("level", F::Number, true),
    field("label", F::Text, true),
];
const UNIT_FIELDS: &[Field] = &[
    field("floor_id", F::Dynamic, true),
    field("kind", F::Choice(&UNIT_KINDS), true),
    field("code", F::Text, true),
    field("area_m2", F::Number, true),
    field("capacity", F::Number, true),
    field("list_rent_fen", F::Number, true),
    field("discounted_rent_fen", F::Number, true),
];

fn site_path(q: &Query_) -> String {
    match (q.get("community_id"), q.get("district")) {
        (Some(c), _) => format!("/spaces/inventory?community_id={}", urlencoding::encode(c)),
        (_, Some(d)) => format!("/spaces/inventory?district={}", urlencoding::encode(d)),
        _ => "/spaces/inventory".into(),
    }
}

async fn inventory_page(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<Query_>,
) -> PageResult {
    render_inventory(&state, &viewer, &q, &[], &Values::new()).await
}

async fn render_inventory(
    state: &AppState,
    viewer: &Viewer,
    q: &Query_,
    errors: &[FieldError],
    values: &Values,
) -> PageResult {
    let actor = viewer.require()?;
    let l = viewer.locale;
    let community_id = q.get("community_id").and_then(|c| c.parse().ok());
    let district = q.get("district").and_then(|d| d.parse().ok());
    let inv = state
        .services
        .inventory(actor, community_id, district, state.services.now())
        .await
        .map_err(|e| viewer.fail(e))?;
    let mut options = Options::new();
    options.insert(
        "building_id",
        inv.buildings
            .iter()
            .map(|b| (b.building.id.to_string(), b.building.name.clone()))
            .collect(),
    );
    options.insert(
        "floor_id",
        inv.buildings
            .iter()
            .flat_map(|b| {
                b.floors.iter().map(move |f| {
                    (
                        f.floor.id.to_string(),
                        format!("{} · {}", b.building.name, f.floor.label),
                    )
                })
            })
            .collect(),
    );
    let here = site_path(q);
    let hidden_site = html! {
        @if let Some(c) = community_id { input type="hidden" name="community_id" value=(c); }
        input type="hidden" name="district" value=(inv.district.id());
    };
    let body = html! {
        h1 { (t(l, "spaces.inventory")) " · " (district_name(l, inv.district)) @if let Some(c) = community_id { " · #" (c) } }
        (result_notice(l, q))
        (error_block(l, errors))
        table id="inventory-totals" {
            thead { tr { th { (t(l, "spaces.form.kind")) } th { (t(l, "spaces.units_count")) } th { (t(l, "spaces.form.area_m2")) } th { (t(l, "spaces.form.capacity")) } th { (t(l, "spaces.held")) } } }
            tbody {
                @for k in &inv.totals {
                    tr data-kind=(k.kind) { td { (t(l, &format!("spaces.kind.{}", k.kind))) } td { (k.units) } td { (k.area_m2) } td { (k.capacity) } td { (k.held_units) " / " (k.held_area_m2) " m²" } }
                }
            }
        }
        p id="inventory-area" { (tf(l, "spaces.total_area", [("area", inv.area_m2.to_string().as_str())])) }
        table id="units" {
            thead { tr { th { "#" } th { (t(l, "spaces.place")) } th { (t(l, "spaces.form.code")) } th { (t(l, "spaces.form.kind")) } th { (t(l, "spaces.form.area_m2")) } th { (t(l, "spaces.form.capacity")) } th { (t(l, "spaces.form.list_rent_fen")) } th { (t(l, "spaces.form.discounted_rent_fen")) } th { (t(l, "spaces.status")) } } }
            tbody {
                @for b in &inv.buildings { @for f in &b.floors { @for u in &f.units {
                    tr id={ "unit-" (u.id) } {
                        td { (u.id) } td { (b.building.name) " · " (f.floor.label) } td { (u.code) } td { (t(l, &format!("spaces.kind.{}", u.kind))) }
                        td { (u.area_m2) } td { (u.capacity) } td { (yuan(u.list_rent_fen)) } td { (yuan(u.discounted_rent_fen)) " (−" (u.discount_percent) "%)" }
                        td { @if inv.held_unit_ids.contains(&u.id) { (t(l, "spaces.held")) } @else { (t(l, "spaces.free")) } }
                    }
                } } }
            }
        }
        @if manages(actor) {
            section.card {
                h2 { (t(l, "spaces.building_heading")) }
                form.stack id="building-form" method="post" action={ "/spaces/buildings?" (here.split('?').nth(1).unwrap_or("")) } novalidate {
                    (csrf(viewer)) (hidden_site)
                    (render_fields(l, "spaces.form", BUILDING_FIELDS, values, &[], &options))
                    div.actions { button type="submit" id="building-form-submit" { (t(l, "form.save")) } }
                }
            }
            (field_form(viewer, "floor-form", &format!("/spaces/floors?{}", here.split('?').nth(1).unwrap_or("")), t(l, "spaces.floor_heading"), FLOOR_FIELDS, values, &options, t(l, "form.save")))
            (field_form(viewer, "unit-form", &format!("/spaces/units?{}", here.split('?').nth(1).unwrap_or("")), t(l, "spaces.unit_heading"), UNIT_FIELDS, values, &options, t(l, "form.save")))
        }
    };
    Ok(page(viewer, t(l, "spaces.inventory"), body).into_response())
}

async fn post_building(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<Query_>,
    Form(form): Form<Values>,
) -> PageResult {
    let actor = viewer.require()?.clone();
    let mut errors = Vec::new();
    let input = BuildingInput {
        community_id: forms::number(&form, "community_id", &mut errors),
        district: forms::opt(&form, "district"),
        name: forms::text(&form, "name"),
        address: forms::text(&form, "address"),
    };
    let back = site_path(&q);
    submit(
        &viewer,
        &form,
        &back,
        "building",
        errors,
        async || {
            state
                .services
                .create_building(&actor, &input)
                .await
                .map(|v| v.id)
        },
        async |e| render_inventory(&state, &viewer, &q, &e, &form).await,
    )
    .await
}

async fn post_floor(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<Query_>,
    Form(form): Form<Values>,
) -> PageResult {
    let actor = viewer.require()?.clone();
    let mut errors = Vec::new();
    let input = FloorInput {
        building_id: num(&form, "building_id", &mut errors),
        level: num(&form, "level", &mut errors) as i32,
        label: forms::text(&form, "label"),
    };
    let back = site_path(&q);
    submit(
        &viewer,
        &form,
        &back,
        "floor",
        errors,
        async || {
            state
                .services
                .create_floor(&actor, &input)
                .await
                .map(|v| v.id)
        },
        async |e| render_inventory(&state, &viewer, &q, &e, &form).await,
    )
    .await
}

async fn post_unit(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<Query_>,
    Form(form): Form<Values>,
) -> PageResult {
    let actor = viewer.require()?.clone();
    let mut errors = Vec::new();
    let input = UnitInput {
        floor_id: num(&form, "floor_id", &mut errors),
        kind: forms::text(&form, "kind"),
        code: forms::text(&form, "code"),
        area_m2: num(&form, "area_m2", &mut errors),
        capacity: num(&form, "capacity", &mut errors) as i32,
        list_rent_fen: num(&form, "list_rent_fen", &mut errors),
        discounted_rent_fen: num(&form, "discounted_rent_fen", &mut errors),
        active: None,
    };
    let back = site_path(&q);
    submit(
        &viewer,
        &form,
        &back,
        "unit",
        errors,
        async || {
            state
                .services
                .create_unit(&actor, &input)
                .await
                .map(|v| v.id)
        },
        async |e| render_inventory(&state, &viewer, &q, &e, &form).await,
    )
    .await
}

// ---------------------------------------------------------------- housing

const HOUSING_UNIT_FIELDS: &[Field] = &[
    field("district", F::District, true),
    field("address", F::Text, true),
    field("code", F::Text, true),
    field("kind", F::Choice(&HOUSING_KINDS), true),
    field("area_m2", F::Number, true),
    field("market_rent_fen", F::Number, true),
];
const LEASE_FIELDS: &[Field] = &[
    field("housing_unit_id", F::Dynamic, true),
    field("person_id", F::Number, true),
    field("enterprise_id", F::Number, false),
    field("start", F::Date, true),
    field("months", F::Number, true),
];

async fn housing_page(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<Query_>,
) -> PageResult {
    render_housing(&state, &viewer, &q, &[], &Values::new()).await
}

async fn render_housing(
    state: &AppState,
    viewer: &Viewer,
    q: &Query_,
    errors: &[FieldError],
    values: &Values,
) -> PageResult {
    let actor = viewer.require()?;
    let l = viewer.locale;
    let s = &state.services;
    let today = opcity_domain::today_in_shanghai(s.now());
    let (units, leases, occupancy) = tokio::try_join!(
        s.list_housing_units(actor, None, None),
        s.list_leases(actor),
        s.housing_occupancy(actor, None, None, today),
    )
    .map_err(|e| viewer.fail(e))?;
    let mut options = Options::new();
    options.insert(
        "housing_unit_id",
        units
            .iter()
            .map(|u| {
                (
                    u.id.to_string(),
                    format!(
                        "{} · {} · {}",
                        u.code,
                        t(l, &format!("housing.kind.{}", u.kind)),
                        yuan(u.market_rent_fen)
                    ),
                )
            })
            .collect(),
    );
    let body = html! {
        h1 { (t(l, "housing.title")) }
        (result_notice(l, q))
        (error_block(l, errors))
        @if manages(actor) {
            section.card {
                h2 { (tf(l, "housing.occupancy_on", [("date", today.to_string().as_str())])) }
                p id="occupancy-summary" {
                    @for k in &occupancy.by_kind { (t(l, &format!("housing.kind.{}", k.kind))) " " (k.occupied) "/" (k.units) "  " }
                }
                table id="occupancy" {
                    thead { tr { th { (t(l, "spaces.form.code")) } th { (t(l, "spaces.form.kind")) } th { (t(l, "spaces.form.market_rent_fen")) } th { (t(l, "housing.tenant")) } } }
                    tbody {
                        @for row in &occupancy.units {
                            tr id={ "housing-unit-" (row.unit.id) } data-occupied=(row.lease.is_some()) {
                                td { (row.unit.code) } td { (t(l, &format!("housing.kind.{}", row.unit.kind))) } td { (yuan(row.unit.market_rent_fen)) }
                                td { @if let Some(lease) = &row.lease { (holder_label(l, None, Some(lease.person_id))) " · " (lease.start_date) " – " (lease.end_date) } @else { (t(l, "spaces.free")) } }
                            }
                        }
                    }
                }
            }
        }
        section.card {
            h2 { (t(l, "housing.leases")) }
            table id="leases" {
                thead { tr { th { "#" } th { (t(l, "spaces.unit")) } th { (t(l, "spaces.holder")) } th { (t(l, "spaces.period")) } th { (t(l, "housing.months")) } th { (t(l, "spaces.rent")) } th { (t(l, "spaces.status")) } th {} } }
                tbody {
                    @for lease in &leases {
                        tr id={ "lease-" (lease.id) } data-status=(lease.status) {
                            td { (lease.id) } td { (lease.unit_code) " · " (t(l, &format!("housing.kind.{}", lease.unit_kind))) }
                            td { (holder_label(l, None, Some(lease.person_id))) } td { (lease.start_date) " – " (lease.end_date) } td { (lease.months) }
                            td { (yuan(lease.monthly_rent_fen)) " (" (lease.rent_percent) "% × " (yuan(lease.market_rent_fen)) ")" }
                            td { (t(l, &format!("housing.status.{}", lease.status))) }
                            td {
                                @if manages(actor) && lease.status == "reserved" {
                                    (button(viewer, &format!("/housing/leases/{}/move-in", lease.id), &format!("move-in-{}", lease.id), t(l, "housing.move_in")))
                                }
                                @if manages(actor) && (lease.status == "reserved" || lease.status == "active") {
                                    form.inline id={ "renew-" (lease.id) } method="post" action={ "/housing/leases/" (lease.id) "/renew" } {
                                        (csrf(viewer))
                                        input type="text" inputmode="numeric" name="months" size="3" required aria-label=(t(l, "housing.months"));
                                        button.secondary type="submit" { (t(l, "housing.renew")) }
                                    }
                                    form.inline id={ "move-out-" (lease.id) } method="post" action={ "/housing/leases/" (lease.id) "/move-out" } {
                                        (csrf(viewer))
                                        input type="date" name="on" required aria-label=(t(l, "spaces.form.on"));
                                        button.secondary type="submit" { (t(l, "housing.move_out")) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            @if leases.is_empty() { p.notice { (t(l, "list.empty")) } }
        }
        @if manages(actor) {
            (field_form(viewer, "lease-form", "/housing/leases", t(l, "housing.lease_heading"), LEASE_FIELDS, values, &options, t(l, "housing.allocate")))
            (field_form(viewer, "housing-unit-form", "/housing/units", t(l, "housing.unit_heading"), HOUSING_UNIT_FIELDS, values, &options, t(l, "form.save")))
        }
    };
    Ok(page(viewer, t(l, "housing.title"), body).into_response())
}

async fn post_housing_unit(
    State(state): State<AppState>,
    viewer: Viewer,
    Form(form): Form<Values>,
) -> PageResult {
    let actor = viewer.require()?.clone();
    let mut errors = Vec::new();
    let input = HousingUnitInput {
        district: forms::text(&form, "district"),
        community_id: None,
        address: forms::text(&form, "address"),
        code: forms::text(&form, "code"),
        kind: forms::text(&form, "kind"),
        area_m2: num(&form, "area_m2", &mut errors),
        market_rent_fen: num(&form, "market_rent_fen", &mut errors),
        active: None,
    };
    let q = Query_::new();
    submit(
        &viewer,
        &form,
        "/housing",
        "housing_unit",
        errors,
        async || {
            state
                .services
                .create_housing_unit(&actor, &input)
                .await
                .map(|v| v.id)
        },
        async |e| render_housing(&state, &viewer, &q, &e, &form).await,
    )
    .await
}

async fn post_lease(
    State(state): State<AppState>,
    viewer: Viewer,
    Form(form): Form<Values>,
) -> PageResult {
    let actor = viewer.require()?.clone();
    let mut errors = Vec::new();
    let input = LeaseInput {
        housing_unit_id: num(&form, "housing_unit_id", &mut errors),
        person_id: num(&form, "person_id", &mut errors),
        enterprise_id: forms::number(&form, "enterprise_id", &mut errors),
        start: forms::text(&form, "start"),
        months: num(&form, "months", &mut errors) as i32,
    };
    let q = Query_::new();
    submit(
        &viewer,
        &form,
        "/housing",
        "lease",
        errors,
        async || {
            state
                .services
                .allocate_housing(&actor, &input)
                .await
                .map(|v| v.id)
        },
        async |e| render_housing(&state, &viewer, &q, &e, &form).await,
    )
    .await
}

async fn post_lease_action(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, action)): Path<(i64, String)>,
    Form(form): Form<Values>,
) -> PageResult {
    let actor = viewer.require()?.clone();
    let s = &state.services;
    let mut errors = Vec::new();
    let months = forms::number(&form, "months", &mut errors).unwrap_or(0) as i32;
    let on = forms::text(&form, "on");
    let run = async || match action.as_str() {
        "move-in" => s.move_in(&actor, id).await,
        "renew" => s.renew_lease(&actor, id, &RenewInput { months }).await,
        "move-out" => s.move_out(&actor, id, &EndInput { on: on.clone() }).await,
        _ => Err(ServiceError::NotFound { entity: "action" }),
    };
    let what = format!("lease_{}", action.replace('-', "_"));
    let q = Query_::new();
    submit(
        &viewer,
        &form,
        "/housing",
        &what,
        errors,
        async || run().await.map(|v| v.id),
        async |e| render_housing(&state, &viewer, &q, &e, &Values::new()).await,
    )
    .await
}

// ------------------------------------------------------------ instruments

const INSTRUMENT_FIELDS: &[Field] = &[
    field("name", F::Text, true),
    field("kind", F::Choice(&INSTRUMENT_KINDS), true),
    field("institution", F::Text, true),
    field("district", F::District, true),
    field("slot_minutes", F::Number, true),
    field("opens", F::Text, true),
    field("closes", F::Text, true),
    field("open_days", F::Text, true),
    field("quota_hours_week", F::Number, false),
    field("requires_approval", F::TriBool, false),
    field("cancel_notice_hours", F::Number, true),
    field("no_show_grace_minutes", F::Number, true),
];

async fn instruments_page(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<Query_>,
) -> PageResult {
    render_instruments(&state, &viewer, &q, &[], &Values::new()).await
}

fn booking_actions(
    viewer: &Viewer,
    actor: &Actor,
    b: &opcity_services::spaces::instruments::BookingView,
) -> Markup {
    let l = viewer.locale;
    let base = format!("/bookings/{}", b.id);
    let mine = actor.enterprise_ids.contains(&b.enterprise_id);
    let institution = !mine && actor.role != Role::Founder;
    html! {
        @if b.status == "pending" && institution {
            (button(viewer, &format!("{base}/approve"), &format!("approve-{}", b.id), t(l, "instrument.approve")))
            (button(viewer, &format!("{base}/reject"), &format!("reject-{}", b.id), t(l, "instrument.reject")))
        }
        @if b.status == "confirmed" && mine {
            (button(viewer, &format!("{base}/check-in"), &format!("check-in-{}", b.id), t(l, "instrument.check_in")))
        }
        @if b.status == "pending" || b.status == "confirmed" {
            (button(viewer, &format!("{base}/cancel"), &format!("cancel-{}", b.id), t(l, "instrument.cancel")))
        }
    }
}

async fn render_instruments(
    state: &AppState,
    viewer: &Viewer,
    q: &Query_,
    errors: &[FieldError],
    values: &Values,
) -> PageResult {
    let actor = viewer.require()?;
    let l = viewer.locale;
    let s = &state.services;
    let (instruments, bookings) =
        tokio::try_join!(s.list_instruments(actor), s.list_bookings(actor, None))
            .map_err(|e| viewer.fail(e))?;
    let names: HashMap<i64, String> = instruments.iter().map(|i| (i.id, i.name.clone())).collect();
    let today = opcity_domain::today_in_shanghai(s.now());
    let body = html! {
        h1 { (t(l, "instrument.title")) }
        (result_notice(l, q))
        (error_block(l, errors))
        table id="instruments" {
            thead { tr { th { (t(l, "spaces.form.name")) } th { (t(l, "spaces.form.kind")) } th { (t(l, "spaces.form.institution")) } th { (t(l, "instrument.hours")) } th { (t(l, "spaces.form.quota_hours_week")) } th { (t(l, "spaces.form.requires_approval")) } } }
            tbody {
                @for i in &instruments {
                    tr {
                        td { a id={ "instrument-" (i.id) } href={ "/instruments/" (i.id) "?date=" (today) } { (i.name) } }
                        td { (t(l, &format!("instrument.kind.{}", i.kind))) } td { (i.institution) }
                        td { (i.opens) "–" (i.closes) " · " (weekdays(l, &i.open_days)) " · " (tf(l, "instrument.slot", [("minutes", i.slot_minutes.to_string().as_str())])) }
                        td { (i.quota_hours_week.map(|q| q.to_string()).unwrap_or_else(|| "—".into())) }
                        td { (forms::tri_label(l, Some(i.requires_approval))) }
                    }
                }
            }
        }
        section.card {
            h2 { (t(l, "instrument.bookings")) " " a id="my-calendar" href="/api/v1/bookings/calendar.ics" { (t(l, "instrument.calendar")) } }
            table id="bookings" {
                thead { tr { th { "#" } th { (t(l, "instrument.title")) } th { (t(l, "spaces.holder")) } th { (t(l, "spaces.period")) } th { (t(l, "spaces.status")) } th {} } }
                tbody {
                    @for b in &bookings {
                        tr id={ "booking-" (b.id) } data-status=(b.status) {
                            td { (b.id) } td { (names.get(&b.instrument_id).cloned().unwrap_or_default()) }
                            td { (holder_label(l, Some(b.enterprise_id), None)) }
                            td { (b.start_local) " – " (&b.end_local[11..]) }
                            td { (t(l, &format!("instrument.status.{}", b.status))) @if b.late_cancel { " · " (t(l, "instrument.late_cancel")) } }
                            td { (booking_actions(viewer, actor, b)) }
                        }
                    }
                }
            }
            @if bookings.is_empty() { p.notice { (t(l, "list.empty")) } }
        }
        @if matches!(actor.role, Role::ServiceProvider | Role::MunicipalAdmin | Role::CommunityOperator) {
            (field_form(viewer, "instrument-form", "/instruments", t(l, "instrument.new_heading"), INSTRUMENT_FIELDS, values, &Options::new(), t(l, "form.save")))
        }
    };
    Ok(page(viewer, t(l, "instrument.title"), body).into_response())
}

fn weekdays(l: Locale, days: &str) -> String {
    days.chars()
        .map(|d| t(l, &format!("instrument.weekday.{d}")))
        .collect::<Vec<_>>()
        .join(" ")
}

async fn post_instrument(
    State(state): State<AppState>,
    viewer: Viewer,
    Form(form): Form<Values>,
) -> PageResult {
    let actor = viewer.require()?.clone();
    let mut errors = Vec::new();
    let input = InstrumentInput {
        name: forms::text(&form, "name"),
        kind: forms::text(&form, "kind"),
        institution: forms::text(&form, "institution"),
        district: forms::text(&form, "district"),
        community_id: None,
        manager_account_id: None,
        description: None,
        slot_minutes: num(&form, "slot_minutes", &mut errors) as i32,
        opens: forms::text(&form, "opens"),
        closes: forms::text(&form, "closes"),
        open_days: forms::text(&form, "open_days"),
        quota_hours_week: forms::number(&form, "quota_hours_week", &mut errors).map(|q| q as i32),
        requires_approval: forms::tri(&form, "requires_approval").unwrap_or(false),
        cancel_notice_hours: num(&form, "cancel_notice_hours", &mut errors) as i32,
        no_show_grace_minutes: num(&form, "no_show_grace_minutes", &mut errors) as i32,
        active: None,
    };
    let q = Query_::new();
    submit(
        &viewer,
        &form,
        "/instruments",
        "instrument",
        errors,
        async || {
            state
                .services
                .create_instrument(&actor, &input)
                .await
                .map(|v| v.id)
        },
        async |e| render_instruments(&state, &viewer, &q, &e, &form).await,
    )
    .await
}

async fn instrument_page(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    Query(q): Query<Query_>,
) -> PageResult {
    render_instrument(&state, &viewer, id, &q, &[]).await
}

async fn render_instrument(
    state: &AppState,
    viewer: &Viewer,
    id: i64,
    q: &Query_,
    errors: &[FieldError],
) -> PageResult {
    let actor = viewer.require()?;
    let l = viewer.locale;
    let s = &state.services;
    let date = q
        .get("date")
        .and_then(|d| d.parse().ok())
        .unwrap_or_else(|| opcity_domain::today_in_shanghai(s.now()));
    let day = s
        .instrument_day(actor, id, date)
        .await
        .map_err(|e| viewer.fail(e))?;
    let now = s.now();
    let i = &day.instrument;
    let body = html! {
        h1 { (i.name) }
        p { (i.institution) " · " (t(l, &format!("instrument.kind.{}", i.kind))) " · " (i.opens) "–" (i.closes) " " (weekdays(l, &i.open_days)) }
        p { a id="calendar-link" href={ "/api/v1/instruments/" (i.id) "/calendar.ics" } { (t(l, "instrument.calendar")) } }
        @if let (Some(what), Some(bid)) = (q.get("done"), q.get("id")) {
            div.notice.success role="status" id="booking-result" data-id=(bid) {
                (tf(l, &format!("spaces.done.{what}"), [("id", bid.as_str())]))
            }
        }
        (error_block(l, errors))
        form.filters id="day-form" method="get" action={ "/instruments/" (i.id) } {
            div.field { label for="day" { (t(l, "instrument.day")) } input id="day" type="date" name="date" value=(date); }
            button.secondary type="submit" { (t(l, "list.filter")) }
        }
        @if !day.open { p.notice id="closed" { (t(l, "instrument.closed")) } }
        table id="slots" {
            thead { tr { th { (t(l, "instrument.slot_time")) } th { (t(l, "spaces.status")) } th {} } }
            tbody {
                @for slot in &day.slots {
                    @let key = slot.label.replace(':', "");
                    tr id={ "slot-" (key) } data-free=(slot.free) {
                        td { (slot.label) "–" (shanghai_text(slot.end_at)[11..]) }
                        td { @if slot.free { (t(l, "spaces.free")) } @else { (t(l, "spaces.held")) } }
                        td {
                            @if slot.free && slot.start_at >= now && !actor.enterprise_ids.is_empty() {
                                form.inline id={ "book-" (key) } method="post" action={ "/instruments/" (i.id) "/bookings" } {
                                    (csrf(viewer))
                                    input type="hidden" name="start" value=(slot.start_at.to_rfc3339());
                                    input type="hidden" name="end" value=(slot.end_at.to_rfc3339());
                                    input type="hidden" name="date" value=(date);
                                    select name="enterprise_id" aria-label=(t(l, "spaces.form.enterprise_id")) {
                                        @for e in &actor.enterprise_ids { option value=(e) { "#" (e) } }
                                    }
                                    button type="submit" id={ "book-" (key) "-submit" } { (t(l, "instrument.book")) }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(page(viewer, &i.name, body).into_response())
}

async fn post_booking(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(form): Form<Values>,
) -> PageResult {
    let actor = viewer.require()?.clone();
    let mut errors = Vec::new();
    let input = BookingInput {
        instrument_id: id,
        enterprise_id: num(&form, "enterprise_id", &mut errors),
        start: forms::text(&form, "start"),
        end: forms::text(&form, "end"),
        purpose: forms::opt(&form, "purpose"),
    };
    let date = forms::text(&form, "date");
    let back = format!("/instruments/{id}?date={}", urlencoding::encode(&date));
    let q = Query_::from([("date".to_owned(), date.clone())]);
    submit(
        &viewer,
        &form,
        &back,
        "booking",
        errors,
        async || {
            state
                .services
                .book_instrument(&actor, &input)
                .await
                .map(|v| v.id)
        },
        async |e| render_instrument(&state, &viewer, id, &q, &e).await,
    )
    .await
}

async fn post_booking_action(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, action)): Path<(i64, String)>,
    Form(form): Form<Values>,
) -> PageResult {
    let actor = viewer.require()?.clone();
    let s = &state.services;
    let run = async || match action.as_str() {
        "approve" => s.decide_booking(&actor, id, true).await,
        "reject" => s.decide_booking(&actor, id, false).await,
        "cancel" => s.cancel_booking(&actor, id).await,
        "check-in" => s.check_in(&actor, id).await,
        _ => Err(ServiceError::NotFound { entity: "action" }),
    };
    let what = format!("booking_{}", action.replace('-', "_"));
    let q = Query_::new();
    submit(
        &viewer,
        &form,
        "/instruments",
        &what,
        Vec::new(),
        async || run().await.map(|v| v.id),
        async |e| render_instruments(&state, &viewer, &q, &e, &Values::new()).await,
    )
    .await
}
