//! Space inventory (measure 3): a site's buildings, floors and units (an OPC
//! community's, or a district's other industrial space), with the totals
//! per unit kind and which units are held today, and the forms with which
//! operators add to it. A form posted from a site's page carries the site
//! in its query string, so a refusal or success comes back to that page.
//!
//! Stable element ids: forms `building-form`, `floor-form`, `unit-form`;
//! tables `inventory-totals` (rows with `data-kind`) and `units` (rows
//! `unit-ID`); the total `inventory-area`.

use super::shared::{
    Options, Query_, Shown, csrf, error_block, field_form, num, page, result_notice, submit, yuan,
};
use crate::AppState;
use crate::extract::Viewer;
use crate::i18n::{t, tf};
use crate::pages::PageResult;
use crate::pages::flow::Posted;
use crate::pages::forms::{
    self, Field, Kind as F, Values, district_name, field, render_fields, table_head,
};
use crate::pages::layout::page;
use axum::extract::Query;
use axum::response::IntoResponse;
use maud::html;
use opcity_services::FieldError;
use opcity_services::spaces::inventory::{BuildingInput, FloorInput, UNIT_KINDS, UnitInput};

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
    field("list_rent_yuan", F::Yuan, true),
    field("discounted_rent_yuan", F::Yuan, true),
];

/// The site an inventory page shows, as a query string (empty when the
/// page names none): the page's forms post it back, so that their answer
/// shows the same site.
fn site_query(q: &Query_) -> String {
    match (q.get("community_id"), q.get("district")) {
        (Some(c), _) => format!("community_id={}", urlencoding::encode(c)),
        (_, Some(d)) => format!("district={}", urlencoding::encode(d)),
        _ => String::new(),
    }
}

fn site_path(q: &Query_) -> String {
    match site_query(q) {
        site if site.is_empty() => "/spaces/inventory".into(),
        site => format!("/spaces/inventory?{site}"),
    }
}

page!(
    /// The page `/spaces/inventory` (its site in the query string; its forms
    /// answer through [`answer`], which keeps the site).
    Inventory,
    "/spaces/inventory",
    render_inventory
);

async fn render_inventory(state: &AppState, viewer: &Viewer, shown: Shown<'_>) -> PageResult {
    let Shown { q, errors, values } = shown;
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
    let site = site_query(q);
    let hidden_site = html! {
        @if let Some(c) = community_id { input type="hidden" name="community_id" value=(c); }
        input type="hidden" name="district" value=(inv.district.id());
    };
    let body = html! {
        h1 { (t(l, "spaces.inventory")) " · " (district_name(l, inv.district)) @if let Some(c) = community_id { " · #" (c) } }
        (result_notice(l, q))
        (error_block(l, errors))
        table id="inventory-totals" {
            (table_head(l, &["spaces.form.kind", "spaces.units_count", "spaces.form.area_m2", "spaces.form.capacity", "spaces.held"]))
            tbody {
                @for k in &inv.totals {
                    tr data-kind=(k.kind) { td { (t(l, &format!("spaces.kind.{}", k.kind))) } td { (k.units) } td { (k.area_m2) } td { (k.capacity) } td { (k.held_units) " / " (k.held_area_m2) " m²" } }
                }
            }
        }
        p id="inventory-area" { (tf(l, "spaces.total_area", [("area", inv.area_m2.to_string().as_str())])) }
        table id="units" {
            (table_head(l, &["#", "spaces.place", "spaces.form.code", "spaces.form.kind", "spaces.form.area_m2", "spaces.form.capacity", "spaces.form.list_rent_yuan", "spaces.form.discounted_rent_yuan", "spaces.status"]))
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
        @if state.services.may_keep_inventory(actor, community_id, inv.district) {
            section.card {
                h2 { (t(l, "spaces.building_heading")) }
                form.stack id="building-form" method="post" action={ "/spaces/buildings?" (site) } novalidate {
                    (csrf(viewer)) (hidden_site)
                    (render_fields(l, "spaces.form", BUILDING_FIELDS, values, &[], &options))
                    div.actions { button type="submit" id="building-form-submit" { (t(l, "form.save")) } }
                }
            }
            (field_form(viewer, "floor-form", &format!("/spaces/floors?{site}"), t(l, "spaces.floor_heading"), FLOOR_FIELDS, (values, errors), &options, t(l, "form.save")))
            (field_form(viewer, "unit-form", &format!("/spaces/units?{site}"), t(l, "spaces.unit_heading"), UNIT_FIELDS, (values, errors), &options, t(l, "form.save")))
        }
    };
    Ok(page(viewer, t(l, "spaces.inventory"), body).into_response())
}

pub(super) async fn add_building(Query(q): Query<Query_>, p: Posted) -> PageResult {
    let (state, viewer, form) = p.parts();
    let actor = viewer.require()?.clone();
    let mut errors = Vec::new();
    let input = BuildingInput {
        community_id: forms::number(form, "community_id", &mut errors),
        district: forms::opt(form, "district"),
        name: forms::text(form, "name"),
        address: forms::text(form, "address"),
    };
    let s = &state.services;
    let run = async || s.create_building(&actor, &input).await.map(|v| v.id);
    answer(state, viewer, &q, form, "building", errors, run).await
}

pub(super) async fn add_floor(Query(q): Query<Query_>, p: Posted) -> PageResult {
    let (state, viewer, form) = p.parts();
    let actor = viewer.require()?.clone();
    let mut errors = Vec::new();
    let input = FloorInput {
        building_id: num(form, "building_id", &mut errors),
        level: num(form, "level", &mut errors) as i32,
        label: forms::text(form, "label"),
    };
    let s = &state.services;
    let run = async || s.create_floor(&actor, &input).await.map(|v| v.id);
    answer(state, viewer, &q, form, "floor", errors, run).await
}

pub(super) async fn add_unit(Query(q): Query<Query_>, p: Posted) -> PageResult {
    let (state, viewer, form) = p.parts();
    let actor = viewer.require()?.clone();
    let mut errors = Vec::new();
    let input = UnitInput {
        floor_id: num(form, "floor_id", &mut errors),
        kind: forms::text(form, "kind"),
        code: forms::text(form, "code"),
        area_m2: num(form, "area_m2", &mut errors),
        capacity: num(form, "capacity", &mut errors) as i32,
        list_rent_fen: forms::yuan(form, "list_rent_yuan", true, &mut errors).unwrap_or(0),
        discounted_rent_fen: forms::yuan(form, "discounted_rent_yuan", true, &mut errors)
            .unwrap_or(0),
        active: None,
    };
    let s = &state.services;
    let run = async || s.create_unit(&actor, &input).await.map(|v| v.id);
    answer(state, viewer, &q, form, "unit", errors, run).await
}

/// Answers a form posted from a site's inventory page: back to it with the
/// result named, or the page again with the messages and the form's values.
async fn answer(
    state: &AppState,
    viewer: &Viewer,
    q: &Query_,
    form: &Values,
    what: &str,
    errors: Vec<FieldError>,
    run: impl AsyncFnOnce() -> opcity_services::Result<i64>,
) -> PageResult {
    let again = async |e: Vec<FieldError>| {
        render_inventory(
            state,
            viewer,
            Shown {
                q,
                errors: &e,
                values: form,
            },
        )
        .await
    };
    submit(viewer, form, &site_path(q), what, errors, run, again).await
}
