//! Space requests and agreements (measure 3), the page `/spaces`: founders
//! request space (for their enterprise in an OPC community, for themselves
//! outside one), withdraw a waiting request, and accept or decline an
//! offer; operators and district reviewers offer a unit to a request or
//! serve a unit's waitlist in order, withdraw an offer, and end an
//! agreement or move it to another unit.
//!
//! Operators fit a request to what the site has: they propose new terms
//! (`propose-form`), which the holder accepts or declines, or offer a unit
//! of another kind with a note (an alternative).
//!
//! Stable element ids: forms `space-request-form`, `offer-form`,
//! `serve-form` (its controls `serve-f-NAME`, as it shares names with the
//! offer form), `propose-form` (controls `propose-f-NAME`, the request
//! `propose-f-for_request`), `end-ID`,
//! `move-ID`; buttons `accept-ID`, `decline-ID`, `withdraw-ID`,
//! `withdraw-request-ID`, and on a request's proposal `proposal-ID`
//! `accept-change-ID`, `decline-change-ID`, `withdraw-change-ID`; tables
//! `space-requests` (rows `request-ID` with `data-status`) and
//! `space-agreements` (rows `agreement-ID` with `data-status`).

use super::shared::{
    Options, Shown, action_button, action_done, action_form, answer, button, empty_notice,
    error_block, field_form, holder_label, num, page, result_notice, unknown_action, yuan,
};
use crate::AppState;
use crate::extract::Viewer;
use crate::i18n::{t, tf};
use crate::pages::PageResult;
use crate::pages::flow::Posted;
use crate::pages::forms::{self, Field, Kind as F, Values, district_name, field, table_head};
use crate::pages::layout::page;
use axum::extract::Path;
use axum::response::IntoResponse;
use maud::{Markup, html};
use opcity_services::registry::{ListFilter, Paging};
use opcity_services::spaces::agreements::{
    AgreementView, AllocationFilter, AmendmentInput, AmendmentView, EndInput, MoveInput,
    OfferInput, RequestView, ServeInput, SpaceRequestInput,
};
use opcity_services::spaces::inventory::UNIT_KINDS;
use opcity_services::{Actor, ServiceError, Services};
use std::collections::HashMap;

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
    field("unit_id", F::Dynamic, true),
    field("start", F::Date, true),
    field("end", F::Date, true),
    field("monthly_rent_yuan", F::Yuan, false),
    field("offer_note", F::Text, false),
];

const PROPOSE_FIELDS: &[Field] = &[
    field("for_request", F::Dynamic, true),
    field("kind", F::Choice(&UNIT_KINDS), true),
    field("team_size", F::Number, true),
    field("wanted_from", F::Date, true),
    field("months", F::Number, true),
    field("reason", F::Text, true),
];

const SERVE_FIELDS: &[Field] = &[
    field("unit_id", F::Dynamic, true),
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

page!(
    /// The page `/spaces`.
    Spaces,
    "/spaces",
    render_spaces
);

/// An agreement's buttons and forms, each offered only to whom the services
/// would allow it (its holder answers an offer; its site's manager
/// withdraws, ends and moves).
fn agreement_actions(
    viewer: &Viewer,
    s: &Services,
    actor: &Actor,
    a: &AgreementView,
    units: &[(String, String)],
) -> Markup {
    let l = viewer.locale;
    let base = format!("/spaces/agreements/{}", a.id);
    let manages = s.may_manage_agreement(actor, a);
    let date = |key: &str, name: &str| html! { label { (t(l, key)) " " input type="date" name=(name) required; } };
    html! {
        @if a.status == "offered" && s.may_answer_offer(actor, a) {
            (action_button(viewer, &base, "accept", a.id, t(l, "spaces.accept")))
            (action_button(viewer, &base, "decline", a.id, t(l, "spaces.decline")))
        }
        @if a.status == "offered" && manages {
            (action_button(viewer, &base, "withdraw", a.id, t(l, "spaces.withdraw")))
        }
        @if a.status == "active" && manages {
            (action_form(viewer, (&base, "end", a.id), t(l, "spaces.end"), date("spaces.form.on", "on")))
            (action_form(viewer, (&base, "move", a.id), t(l, "spaces.move"), html! {
                label { (t(l, "spaces.form.unit_id")) " "
                    select name="unit_id" required {
                        @for (id, label) in units.iter().filter(|(id, _)| *id != a.unit_id.to_string()) { option value=(id) { (label) } }
                    } }
                (date("spaces.form.on", "on"))
                (date("spaces.form.end", "end"))
            }))
        }
    }
}

/// A change proposed to a waiting request: the terms and the reason, with
/// the holder's answer buttons or the operator's withdrawal.
fn proposal(
    viewer: &Viewer,
    s: &Services,
    actor: &Actor,
    r: &RequestView,
    p: &AmendmentView,
) -> Markup {
    let l = viewer.locale;
    let base = "/spaces/proposals";
    html! {
        div.proposal id={ "proposal-" (p.id) } {
            p { strong { (t(l, "spaces.proposal.heading")) } " "
                (t(l, &format!("spaces.kind.{}", p.kind))) " · "
                (tf(l, "spaces.proposal.people", [("n", p.team_size.to_string().as_str())])) " · "
                (tf(l, "spaces.proposal.from", [("date", p.wanted_from.to_string().as_str()), ("months", p.months.to_string().as_str())])) }
            p { (t(l, "spaces.proposal.reason")) ": " (p.reason) }
            @if s.may_answer_proposal(actor, r) {
                (button(viewer, &format!("{base}/{}/accept", p.id), &format!("accept-change-{}", p.id), t(l, "spaces.proposal.accept")))
                (button(viewer, &format!("{base}/{}/decline", p.id), &format!("decline-change-{}", p.id), t(l, "spaces.proposal.decline")))
            }
            @if s.may_offer_to(actor, r) {
                (button(viewer, &format!("{base}/{}/withdraw", p.id), &format!("withdraw-change-{}", p.id), t(l, "spaces.proposal.withdraw")))
            }
        }
    }
}

async fn render_spaces(state: &AppState, viewer: &Viewer, shown: Shown<'_>) -> PageResult {
    let Shown { q, errors, values } = shown;
    let actor = viewer.require()?;
    let l = viewer.locale;
    let s = &state.services;
    let all = AllocationFilter::default();
    let (requests, agreements, communities, own, units) = tokio::try_join!(
        s.list_space_requests(actor, &all),
        s.list_agreements(actor, &all),
        community_options(state, actor),
        crate::pages::own_enterprises(state, actor),
        s.unit_choices(actor),
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
        own.iter()
            .map(|(id, name)| (id.to_string(), name.clone()))
            .collect(),
    );
    options.insert("community_id", communities.clone());
    // Units by where they are and what they hold, never by number.
    let unit_options: Vec<(String, String)> = units
        .iter()
        .map(|u| {
            let place = u
                .community_id
                .and_then(|c| names.get(&c.to_string()).cloned())
                .unwrap_or_default();
            (
                u.id.to_string(),
                format!(
                    "{place} {} {} · {} · {} · {}",
                    u.building,
                    u.floor,
                    u.code,
                    t(l, &format!("spaces.kind.{}", u.kind)),
                    tf(l, "spaces.seats", [("n", u.capacity.to_string().as_str())]),
                )
                .trim()
                .to_owned(),
            )
        })
        .collect();
    options.insert("unit_id", unit_options.clone());
    // The waiting requests the viewer may offer a unit to: the offer and
    // serve forms are drawn only when there is one.
    let offerable: Vec<&RequestView> = requests
        .iter()
        .filter(|r| r.status == "waiting" && s.may_offer_to(actor, r))
        .collect();
    let request_choice = |r: &&RequestView| {
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
    };
    options.insert("request_id", offerable.iter().map(request_choice).collect());
    // A change is proposed only where none is open.
    options.insert(
        "for_request",
        offerable
            .iter()
            .filter(|r| r.proposal.is_none())
            .map(request_choice)
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
                (table_head(l, &["#", "spaces.site", "spaces.form.kind", "spaces.holder", "spaces.form.team_size", "spaces.form.wanted_from", "spaces.status", "spaces.position", ""]))
                tbody {
                    @for r in &requests {
                        tr id={ "request-" (r.id) } data-status=(r.status) {
                            td { (r.id) } td { (site(r.community_id, r.district)) } td { (t(l, &format!("spaces.kind.{}", r.kind))) }
                            td { (holder_label(l, r.holder.as_deref(), r.enterprise_id, r.person_id)) } td { (r.team_size) } td { (r.wanted_from) }
                            td { (t(l, &format!("spaces.request_status.{}", r.status)))
                                @if let Some(p) = &r.proposal { (proposal(viewer, s, actor, r, p)) } }
                            td.position {
                                (r.position.map(|p| p.to_string()).unwrap_or_else(|| "—".into()))
                                @if r.priority { " " span.badge.priority title=(t(l, "spaces.priority_hint")) { (t(l, "spaces.priority")) } }
                            }
                            td { @if r.status == "waiting" && s.may_withdraw_request(actor, r) { (button(viewer, &format!("/spaces/requests/{}/withdraw", r.id), &format!("withdraw-request-{}", r.id), t(l, "spaces.withdraw"))) } }
                        }
                    }
                }
            }
            (empty_notice(l, requests.is_empty()))
        }
        section.card {
            h2 { (t(l, "spaces.agreements")) }
            table id="space-agreements" {
                (table_head(l, &["#", "spaces.unit", "spaces.site", "spaces.holder", "spaces.period", "spaces.rent", "spaces.status", ""]))
                tbody {
                    @for a in &agreements {
                        tr id={ "agreement-" (a.id) } data-status=(a.status) {
                            td { (a.id) }
                            td { (a.unit_code) " · " (t(l, &format!("spaces.kind.{}", a.unit_kind))) " · " (a.area_m2) " m²" }
                            td { (site(a.community_id, a.district))
                                @if let Some(note) = &a.offer_note { p.note { (t(l, "spaces.offer_note")) ": " (note) } } }
                            td { (holder_label(l, a.holder.as_deref(), a.enterprise_id, a.person_id)) }
                            td { (a.start_date) " – " (a.end_date) }
                            td { (yuan(a.monthly_rent_fen)) @if a.discount_fen > 0 { " (" (tf(l, "spaces.discount", [("amount", yuan(a.discount_fen).as_str())])) ")" } }
                            td { (t(l, &format!("spaces.agreement_status.{}", a.status))) }
                            td { (agreement_actions(viewer, s, actor, a, &unit_options)) }
                        }
                    }
                }
            }
            (empty_notice(l, agreements.is_empty()))
        }
        @if s.may_request_space(actor) {
            (field_form(viewer, "space-request-form", "/spaces/requests", t(l, "spaces.request_heading"), REQUEST_FIELDS, (values, errors), &options, t(l, "spaces.request_submit")))
        }
        @if !offerable.is_empty() {
            (field_form(viewer, "offer-form", "/spaces/offers", t(l, "spaces.offer_heading"), OFFER_FIELDS, (values, errors), &options, t(l, "spaces.offer_submit")))
            (field_form(viewer, "serve-form", "/spaces/serve", t(l, "spaces.serve_heading"), SERVE_FIELDS, (values, errors), &options, t(l, "spaces.serve_submit")))
        }
        @if offerable.iter().any(|r| r.proposal.is_none()) {
            (field_form(viewer, "propose-form", "/spaces/proposals", t(l, "spaces.propose_heading"), PROPOSE_FIELDS, (values, errors), &options, t(l, "spaces.propose_submit")))
        }
    };
    Ok(page(viewer, t(l, "spaces.title"), body).into_response())
}

pub(super) async fn request(p: Posted) -> PageResult {
    let (state, viewer, form) = p.parts();
    let actor = viewer.require()?.clone();
    let mut errors = Vec::new();
    let community_id = forms::number(form, "community_id", &mut errors);
    let enterprise_id = forms::number(form, "enterprise_id", &mut errors);
    // Outside communities the founder asks for themself, not an enterprise.
    let (enterprise_id, person_id) = match community_id {
        Some(_) => (enterprise_id, None),
        None => (None, actor.person_id),
    };
    let input = SpaceRequestInput {
        enterprise_id,
        person_id,
        community_id,
        district: forms::opt(form, "district"),
        kind: forms::text(form, "kind"),
        team_size: num(form, "team_size", &mut errors) as i32,
        wanted_from: forms::text(form, "wanted_from"),
        months: num(form, "months", &mut errors) as i32,
        note: forms::opt(form, "note"),
    };
    let s = &state.services;
    let run = async || s.request_space(&actor, &input).await.map(|v| v.id);
    answer::<Spaces>(state, viewer, form, form, "request", errors, run).await
}

/// Withdraws a waiting request (an offer is withdrawn through `act`).
pub(super) async fn withdraw(Path(id): Path<i64>, p: Posted) -> PageResult {
    let (state, viewer, form) = p.parts();
    let actor = viewer.require()?.clone();
    let s = &state.services;
    let run = async || s.withdraw_space_request(&actor, id).await.map(|v| v.id);
    answer::<Spaces>(
        state,
        viewer,
        form,
        &Values::new(),
        "withdrawn",
        Vec::new(),
        run,
    )
    .await
}

pub(super) async fn offer(p: Posted) -> PageResult {
    let (state, viewer, form) = p.parts();
    let actor = viewer.require()?.clone();
    let mut errors = Vec::new();
    let input = OfferInput {
        request_id: num(form, "request_id", &mut errors),
        unit_id: num(form, "unit_id", &mut errors),
        start: forms::text(form, "start"),
        end: forms::text(form, "end"),
        monthly_rent_fen: forms::yuan(form, "monthly_rent_yuan", false, &mut errors),
        note: forms::opt(form, "offer_note"),
    };
    let s = &state.services;
    // The page's note is `offer_note` (the request form has a `note`).
    let run = async || {
        s.offer_space(&actor, &input)
            .await
            .map(|v| v.id)
            .map_err(|e| e.renamed("note", "offer_note"))
    };
    answer::<Spaces>(state, viewer, form, form, "offer", errors, run).await
}

/// The operator proposes new terms for a waiting request.
pub(super) async fn propose(p: Posted) -> PageResult {
    let (state, viewer, form) = p.parts();
    let actor = viewer.require()?.clone();
    let mut errors = Vec::new();
    let request_id = num(form, "for_request", &mut errors);
    let input = AmendmentInput {
        kind: forms::text(form, "kind"),
        team_size: num(form, "team_size", &mut errors) as i32,
        wanted_from: forms::text(form, "wanted_from"),
        months: num(form, "months", &mut errors) as i32,
        reason: forms::text(form, "reason"),
    };
    let s = &state.services;
    let run = async || {
        s.propose_space_change(&actor, request_id, &input)
            .await
            .map(|v| v.request_id)
    };
    answer::<Spaces>(state, viewer, form, form, "proposed", errors, run).await
}

/// The holder accepts or declines a proposed change; its site withdraws it.
pub(super) async fn answer_proposal(
    Path((id, action)): Path<(i64, String)>,
    p: Posted,
) -> PageResult {
    let (state, viewer, form) = p.parts();
    let actor = viewer.require()?.clone();
    let s = &state.services;
    let run = async || match action.as_str() {
        "accept" => s.accept_space_change(&actor, id).await.map(|r| r.id),
        "decline" => s
            .decline_space_change(&actor, id)
            .await
            .map(|p| p.request_id),
        "withdraw" => s
            .withdraw_space_change(&actor, id)
            .await
            .map(|p| p.request_id),
        _ => unknown_action(),
    };
    let what = action_done("change", &action);
    answer::<Spaces>(state, viewer, form, &Values::new(), &what, Vec::new(), run).await
}

pub(super) async fn serve(p: Posted) -> PageResult {
    let (state, viewer, form) = p.parts();
    let actor = viewer.require()?.clone();
    let mut errors = Vec::new();
    let input = ServeInput {
        unit_id: num(form, "unit_id", &mut errors),
        start: forms::text(form, "start"),
        end: forms::text(form, "end"),
        monthly_rent_fen: None,
    };
    let s = &state.services;
    let run = async || s.serve_waitlist(&actor, &input).await.map(|v| v.id);
    answer::<Spaces>(state, viewer, form, form, "offer", errors, run).await
}

/// Accepts, declines or withdraws an offer, or ends or moves an agreement.
pub(super) async fn act(Path((id, action)): Path<(i64, String)>, p: Posted) -> PageResult {
    let (state, viewer, form) = p.parts();
    let actor = viewer.require()?.clone();
    let s = &state.services;
    let mut errors = Vec::new();
    let unit_id = num(form, "unit_id", &mut errors);
    let (on, end) = (forms::text(form, "on"), forms::text(form, "end"));
    let run = async || {
        let agreement = match action.as_str() {
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
            _ => unknown_action(),
        }?;
        Ok(agreement.id)
    };
    let what = action_done("agreement", &action);
    answer::<Spaces>(state, viewer, form, &Values::new(), &what, errors, run).await
}
