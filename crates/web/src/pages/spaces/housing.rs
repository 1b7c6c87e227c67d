//! Transitional housing (measure 4): the housing units, the day's
//! occupancy for those who manage it, the leases one holds or manages, and
//! a lease's allocation, move-in, renewal and move-out. The limits (months,
//! share of the market rent) are the services' to apply; this page only
//! shows the rent they computed.
//!
//! Stable element ids: forms `housing-unit-form`, `lease-form`,
//! `renew-ID`, `move-out-ID`; the button `move-in-ID`; tables `occupancy`
//! (rows `housing-unit-ID` with `data-occupied`, summed up in
//! `occupancy-summary`), `housing-requests` (rows `housing-request-ID` with
//! `data-status`) and `leases` (rows `lease-ID` with `data-status`).

use super::shared::{
    Options, Query_, Shown, action_button, action_done, action_form, answer, empty_notice,
    error_block, field_form, holder_label, num, page, result_notice, unknown_action, yuan,
};
use crate::AppState;
use crate::extract::Viewer;
use crate::i18n::{t, tf};
use crate::pages::PageResult;
use crate::pages::flow::Posted;
use crate::pages::forms::{self, Field, Kind as F, Values, field, table_head};
use crate::pages::layout::page;
use axum::extract::Path;
use axum::response::IntoResponse;
use maud::{Markup, html};
use opcity_services::registry::picking::{self, Suggestion, suggestion};
use opcity_services::spaces::agreements::EndInput;
use opcity_services::spaces::housing::{HOUSING_KINDS, HousingUnitInput, LeaseInput, RenewInput};
use opcity_services::spaces::housing::{HousingRequestView, HousingUnitView, LeaseView};
use std::collections::HashSet;

const HOUSING_UNIT_FIELDS: &[Field] = &[
    field("district", F::District, true),
    field("address", F::Text, true),
    field("code", F::Text, true),
    field("kind", F::Choice(&HOUSING_KINDS), true),
    field("area_m2", F::Number, true),
    field("market_rent_yuan", F::Yuan, true),
];
const LEASE_FIELDS: &[Field] = &[
    field("housing_unit_id", F::Dynamic, true),
    field("request_id", F::Dynamic, false),
    field("person_id", F::Search, true),
    field("enterprise_id", F::Search, false),
    field("start", F::Date, true),
    field("months", F::Number, true),
];

page!(
    /// The page `/housing`.
    Housing,
    "/housing",
    render_housing
);

/// A lease's move-in, renewal and move-out, for whoever manages its unit
/// (`managed`: in [`Services::may_manage_housing_unit`]'s words).
///
/// [`Services::may_manage_housing_unit`]: opcity_services::Services::may_manage_housing_unit
fn lease_actions(viewer: &Viewer, managed: &HashSet<i64>, lease: &LeaseView) -> Markup {
    let l = viewer.locale;
    let base = format!("/housing/leases/{}", lease.id);
    let open = lease.status == "reserved" || lease.status == "active";
    html! {
        @if managed.contains(&lease.housing_unit_id) {
            @if lease.status == "reserved" {
                (action_button(viewer, &base, "move-in", lease.id, t(l, "housing.move_in")))
            }
            @if open {
                (action_form(viewer, (&base, "renew", lease.id), t(l, "housing.renew"), html! {
                    input type="text" inputmode="numeric" name="months" size="3" required aria-label=(t(l, "housing.months"));
                }))
                (action_form(viewer, (&base, "move-out", lease.id), t(l, "housing.move_out"), html! {
                    input type="date" name="on" required aria-label=(t(l, "spaces.form.on"));
                }))
            }
        }
    }
}

async fn render_housing(state: &AppState, viewer: &Viewer, shown: Shown<'_>) -> PageResult {
    let Shown { q, errors, values } = shown;
    let actor = viewer.require()?;
    let l = viewer.locale;
    let s = &state.services;
    let today = opcity_domain::today_in_shanghai(s.now());
    let (units, leases, occupancy, requests) = tokio::try_join!(
        s.list_housing_units(actor, None, None),
        s.list_leases(actor),
        s.housing_occupancy(actor, None, None, today),
        s.housing_requests(actor),
    )
    .map_err(|e| viewer.fail(e))?;
    let prefilled;
    let values = match serving(q, &requests) {
        Some(r) if values.is_empty() => {
            prefilled = prefill(r);
            &prefilled
        }
        _ => values,
    };
    // The units the viewer allocates and whose tenants they move: only
    // they are offered in the lease form, and their leases' actions.
    let managed: Vec<&HousingUnitView> = units
        .iter()
        .filter(|u| s.may_manage_housing_unit(actor, u))
        .collect();
    let managed_ids: HashSet<i64> = managed.iter().map(|u| u.id).collect();
    let mut options = Options::new();
    options.insert(
        "housing_unit_id",
        managed
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
    // The enterprises are suggested only where the lease form is drawn.
    if !managed.is_empty() {
        let firms = s
            .enterprise_suggestions(actor)
            .await
            .map_err(|e| viewer.fail(e))?;
        lease_options(l, &mut options, &requests, &firms);
    }
    // Who allocates community housing: for those who set it.
    let allocator_settings = if s.may_set_district_settings(actor) {
        Some(
            s.district_settings(actor)
                .await
                .map_err(|e| viewer.fail(e))?,
        )
    } else {
        None
    };
    let body = html! {
        h1 { (t(l, "housing.title")) }
        (result_notice(l, q))
        (error_block(l, errors))
        @if !managed.is_empty() {
            section.card {
                h2 { (tf(l, "housing.occupancy_on", [("date", today.to_string().as_str())])) }
                p id="occupancy-summary" {
                    @for k in &occupancy.by_kind { (t(l, &format!("housing.kind.{}", k.kind))) " " (k.occupied) "/" (k.units) "  " }
                }
                table id="occupancy" {
                    (table_head(l, &["spaces.form.code", "spaces.form.kind", "spaces.form.market_rent_yuan", "housing.tenant"]))
                    tbody {
                        @for row in &occupancy.units {
                            tr id={ "housing-unit-" (row.unit.id) } data-occupied=(row.lease.is_some()) {
                                td { (row.unit.code) } td { (t(l, &format!("housing.kind.{}", row.unit.kind))) } td { (yuan(row.unit.market_rent_fen)) }
                                td { @if let Some(lease) = &row.lease { (holder_label(l, lease.holder.as_deref(), None, Some(lease.person_id))) " · " (lease.start_date) " – " (lease.end_date) } @else { (t(l, "spaces.free")) } }
                            }
                        }
                    }
                }
            }
        }
        @if !requests.is_empty() {
            (request_queue(viewer, &requests, !managed.is_empty()))
        }
        section.card {
            h2 { (t(l, "housing.leases")) }
            table id="leases" {
                (table_head(l, &["#", "spaces.unit", "spaces.holder", "spaces.period", "housing.months", "spaces.rent", "spaces.status", ""]))
                tbody {
                    @for lease in &leases {
                        tr id={ "lease-" (lease.id) } data-status=(lease.status) {
                            td { (lease.id) } td { (lease.unit_code) " · " (t(l, &format!("housing.kind.{}", lease.unit_kind))) }
                            td { (holder_label(l, lease.holder.as_deref(), None, Some(lease.person_id))) } td { (lease.start_date) " – " (lease.end_date) } td { (lease.months) }
                            td { (yuan(lease.monthly_rent_fen)) " (" (lease.rent_percent) "% × " (yuan(lease.market_rent_fen)) ")" }
                            td { (t(l, &format!("housing.status.{}", lease.status))) }
                            td { (lease_actions(viewer, &managed_ids, lease)) }
                        }
                    }
                }
            }
            (empty_notice(l, leases.is_empty()))
        }
        @if !managed.is_empty() {
            (field_form(viewer, "lease-form", "/housing/leases", t(l, "housing.lease_heading"), LEASE_FIELDS, (values, errors), &options, t(l, "housing.allocate")))
        }
        @if let Some(settings) = &allocator_settings {
            (super::allocators::section(viewer, settings))
        }
        @if s.may_add_housing_unit(actor) {
            (field_form(viewer, "housing-unit-form", "/housing/units", t(l, "housing.unit_heading"), HOUSING_UNIT_FIELDS, (values, errors), &options, t(l, "form.save")))
        }
    };
    Ok(page(viewer, t(l, "housing.title"), body).into_response())
}

/// The request named by `?request=ID`, to serve with the lease form.
fn serving<'r>(q: &Query_, requests: &'r [HousingRequestView]) -> Option<&'r HousingRequestView> {
    let id: i64 = q.get("request")?.parse().ok()?;
    requests
        .iter()
        .find(|r| r.id == id && r.status == "waiting")
}

/// The lease form filled in from a request: its person and enterprise by
/// name, months and date.
fn prefill(r: &HousingRequestView) -> Values {
    let (person, firm) = parties(r);
    [
        (crate::pages::flow::FORM_ID, "lease-form".to_owned()),
        ("person_id", person.value),
        ("start", r.wanted_from.to_string()),
        ("months", r.months.to_string()),
        ("request_id", r.id.to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .chain(firm.map(|f| ("enterprise_id".to_owned(), f.value)))
    .collect()
}

/// A request's person and enterprise as the lease form's pickers name them.
fn parties(r: &HousingRequestView) -> (Suggestion, Option<Suggestion>) {
    let person = Suggestion {
        id: r.person_id,
        value: suggestion(&r.person_name, r.person_id),
    };
    let firm = r.enterprise_id.map(|id| Suggestion {
        id,
        value: r
            .enterprise_name
            .as_deref()
            .map_or_else(|| format!("#{id}"), |name| suggestion(name, id)),
    });
    (person, firm)
}

/// The lease form's choices: the waiting requests, their persons, and
/// their enterprises before the others the viewer may read.
fn lease_options(
    l: crate::i18n::Locale,
    options: &mut Options,
    requests: &[HousingRequestView],
    firms: &[Suggestion],
) {
    let waiting: Vec<&HousingRequestView> =
        requests.iter().filter(|r| r.status == "waiting").collect();
    let label = |r: &HousingRequestView| {
        tf(
            l,
            "housing.request_choice",
            [
                ("id", r.id.to_string().as_str()),
                ("person", r.person_name.as_str()),
                ("from", r.wanted_from.to_string().as_str()),
                ("months", r.months.to_string().as_str()),
            ],
        )
    };
    let pair = |s: Suggestion| (s.id.to_string(), s.value);
    options.insert(
        "request_id",
        waiting
            .iter()
            .map(|r| (r.id.to_string(), label(r)))
            .collect(),
    );
    let (persons, request_firms) = known_parties(&waiting);
    options.insert("person_id", persons.into_iter().map(pair).collect());
    let others = firms
        .iter()
        .filter(|f| !request_firms.iter().any(|r| r.id == f.id))
        .cloned()
        .collect::<Vec<_>>();
    options.insert(
        "enterprise_id",
        request_firms.into_iter().chain(others).map(pair).collect(),
    );
}

/// The persons and enterprises of `requests`, once each.
fn known_parties(requests: &[&HousingRequestView]) -> (Vec<Suggestion>, Vec<Suggestion>) {
    let (mut persons, mut firms): (Vec<Suggestion>, Vec<Suggestion>) = (Vec::new(), Vec::new());
    for r in requests {
        let (person, firm) = parties(r);
        if !persons.iter().any(|p| p.id == person.id) {
            persons.push(person);
        }
        if let Some(f) = firm.filter(|f| !firms.iter().any(|g| g.id == f.id)) {
            firms.push(f);
        }
    }
    (persons, firms)
}

/// Approved transitional housing waiting for a lease: the allocator's
/// queue (with a link that fills in the lease form), or a founder's own.
fn request_queue(viewer: &Viewer, requests: &[HousingRequestView], allocates: bool) -> Markup {
    let l = viewer.locale;
    html! {
        section.card {
            h2 { (t(l, "housing.requests")) }
            table id="housing-requests" {
                (table_head(l, &["#", "spaces.holder", "spaces.form.district", "housing.wanted_from", "housing.months", "spaces.status", ""]))
                tbody {
                    @for r in requests {
                        tr id={ "housing-request-" (r.id) } data-status=(r.status) {
                            td { (r.id) } td { (r.person_name) } td { (forms::district_name(l, r.district)) }
                            td { (r.wanted_from) } td { (r.months) } td { (t(l, &format!("housing.request_status.{}", r.status))) }
                            td { @if allocates && r.status == "waiting" { a href={ "/housing?request=" (r.id) "#lease-form" } { (t(l, "housing.serve")) } } }
                        }
                    }
                }
            }
        }
    }
}

pub(super) async fn add_unit(p: Posted) -> PageResult {
    let (state, viewer, form) = p.parts();
    let actor = viewer.require()?.clone();
    let mut errors = Vec::new();
    let input = HousingUnitInput {
        district: forms::text(form, "district"),
        community_id: None,
        address: forms::text(form, "address"),
        code: forms::text(form, "code"),
        kind: forms::text(form, "kind"),
        area_m2: num(form, "area_m2", &mut errors),
        market_rent_fen: forms::yuan(form, "market_rent_yuan", true, &mut errors).unwrap_or(0),
        active: None,
    };
    let s = &state.services;
    let run = async || s.create_housing_unit(&actor, &input).await.map(|v| v.id);
    answer::<Housing>(state, viewer, form, form, "housing_unit", errors, run).await
}

/// Allocates a lease. The person and the enterprise are picked by name:
/// among the waiting requests' the viewer was shown, else in the registry.
pub(super) async fn allocate(p: Posted) -> PageResult {
    let (state, viewer, form) = p.parts();
    let actor = viewer.require()?.clone();
    let s = &state.services;
    let mut errors = Vec::new();
    let housing_unit_id = num(form, "housing_unit_id", &mut errors);
    let (person_id, enterprise_id) = if manages(s, &actor, housing_unit_id).await {
        parties_picked(s, &actor, form, &mut errors)
            .await
            .map_err(|e| viewer.fail(e))?
    } else {
        // Names are looked up only for whoever may allocate the unit; the
        // others hear the service's refusal.
        (0, None)
    };
    let input = LeaseInput {
        housing_unit_id,
        person_id,
        enterprise_id,
        start: forms::text(form, "start"),
        months: num(form, "months", &mut errors) as i32,
        request_id: forms::number(form, "request_id", &mut errors),
    };
    let run = async || s.allocate_housing(&actor, &input).await.map(|v| v.id);
    answer::<Housing>(state, viewer, form, form, "lease", errors, run).await
}

/// Whether `actor` manages housing unit `id` (and so may allocate it).
async fn manages(s: &opcity_services::Services, actor: &opcity_services::Actor, id: i64) -> bool {
    s.list_housing_units(actor, None, None)
        .await
        .is_ok_and(|units| {
            units
                .iter()
                .any(|u| u.id == id && s.may_manage_housing_unit(actor, u))
        })
}

/// The lease form's tenant and enterprise, picked by name: among the
/// waiting requests' the viewer was shown, else in the registry. What
/// names no one goes to `errors`.
async fn parties_picked(
    s: &opcity_services::Services,
    actor: &opcity_services::Actor,
    form: &Values,
    errors: &mut Vec<opcity_services::FieldError>,
) -> opcity_services::Result<(i64, Option<i64>)> {
    let requests = s.housing_requests(actor).await?;
    let waiting: Vec<&HousingRequestView> = requests.iter().collect();
    let (persons, firms) = known_parties(&waiting);
    let person = pick(form, "person_id", &persons, errors, async |typed| {
        s.pick_person(actor, "person_id", typed).await
    })
    .await?;
    if person.is_none() && !errors.iter().any(|e| e.field == "person_id") {
        errors.push(opcity_services::FieldError::new("person_id", "required"));
    }
    let enterprise_id = pick(form, "enterprise_id", &firms, errors, async |typed| {
        s.pick_enterprise(actor, "enterprise_id", typed).await
    })
    .await?;
    Ok((person.unwrap_or(0), enterprise_id))
}

/// The record the picker `field` names: one of `known`, else what
/// `search` finds; its refusal goes to `errors`.
async fn pick(
    form: &Values,
    field: &'static str,
    known: &[Suggestion],
    errors: &mut Vec<opcity_services::FieldError>,
    search: impl AsyncFnOnce(&str) -> opcity_services::Result<Option<i64>>,
) -> opcity_services::Result<Option<i64>> {
    let typed = forms::text(form, field);
    if let Some(id) = picking::among(&typed, known) {
        return Ok(Some(id));
    }
    match search(&typed).await {
        Err(opcity_services::ServiceError::Validation(why)) => {
            errors.extend(why);
            Ok(None)
        }
        other => other,
    }
}

/// Moves a tenant in, renews a lease or moves the tenant out.
pub(super) async fn act(Path((id, action)): Path<(i64, String)>, p: Posted) -> PageResult {
    let (state, viewer, form) = p.parts();
    let actor = viewer.require()?.clone();
    let s = &state.services;
    let mut errors = Vec::new();
    let months = num(form, "months", &mut errors) as i32;
    let on = forms::text(form, "on");
    let run = async || {
        let lease = match action.as_str() {
            "move-in" => s.move_in(&actor, id).await,
            "renew" => s.renew_lease(&actor, id, &RenewInput { months }).await,
            "move-out" => s.move_out(&actor, id, &EndInput { on: on.clone() }).await,
            _ => unknown_action(),
        }?;
        Ok(lease.id)
    };
    let what = action_done("lease", &action);
    answer::<Housing>(state, viewer, form, &Values::new(), &what, errors, run).await
}
