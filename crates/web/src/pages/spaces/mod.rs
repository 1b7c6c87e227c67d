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

use super::forms::{self, Field, Kind as F, Values, district_name, field, render_fields_as};
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
use opcity_services::spaces::inventory::UNIT_KINDS;
use opcity_services::{Actor, FieldError, ServiceError};
use std::collections::HashMap;

type Options = HashMap<&'static str, Vec<(String, String)>>;
type Query_ = HashMap<String, String>;

mod housing;
mod instruments;
mod inventory;

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
