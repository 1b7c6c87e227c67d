//! Shared instruments (measure 9): the list of instruments with the
//! bookings one holds or decides, an instrument's day of slots, booking a
//! free slot, and the booking's approval, rejection, cancellation and
//! check-in. Institutions (and operators, administrators) list new
//! instruments here.
//!
//! Stable element ids: forms `instrument-form` and `book-HHMM` (one per
//! free slot); buttons `approve-ID`, `reject-ID`, `cancel-ID`,
//! `check-in-ID`; the result `booking-result` on an instrument's day; tables
//! `instruments` (links `instrument-ID`), `bookings` (rows `booking-ID`),
//! `slots` (rows `slot-HHMM` with `data-free`); the links `calendar-link`
//! and `my-calendar`.

use super::shared::{
    Options, Query_, Shown, action_button, action_done, answer, csrf, empty_notice, error_block,
    field_form, holder_label, num, page, result_notice, submit, unknown_action,
};
use crate::AppState;
use crate::extract::Viewer;
use crate::i18n::{Locale, t, tf};
use crate::pages::PageResult;
use crate::pages::flow::Posted;
use crate::pages::forms::{self, Field, Kind as F, Values, field, table_head};
use crate::pages::layout::page;
use axum::extract::{Path, Query, State};
use axum::response::IntoResponse;
use maud::{Markup, html};
use opcity_services::spaces::instruments::{
    BookingInput, BookingView, INSTRUMENT_KINDS, InstrumentInput, InstrumentView,
};
use opcity_services::spaces::shanghai_text;
use opcity_services::{Actor, FieldError, Services};
use std::collections::HashMap;

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

page!(
    /// The page `/instruments`.
    Instruments,
    "/instruments",
    render_instruments
);

/// A booking's buttons, each offered only to whom the services would allow
/// it: the instrument's manager decides; holder and manager cancel and
/// check in.
fn booking_actions(
    viewer: &Viewer,
    (s, actor): (&Services, &Actor),
    i: &InstrumentView,
    b: &BookingView,
) -> Markup {
    let l = viewer.locale;
    let base = format!("/bookings/{}", b.id);
    let acts = s.may_act_on_booking(actor, i, b);
    html! {
        @if b.status == "pending" && s.may_manage_instrument(actor, i) {
            (action_button(viewer, &base, "approve", b.id, t(l, "instrument.approve")))
            (action_button(viewer, &base, "reject", b.id, t(l, "instrument.reject")))
        }
        @if b.status == "confirmed" && acts {
            (action_button(viewer, &base, "check-in", b.id, t(l, "instrument.check_in")))
        }
        @if (b.status == "pending" || b.status == "confirmed") && acts {
            (action_button(viewer, &base, "cancel", b.id, t(l, "instrument.cancel")))
        }
    }
}

async fn render_instruments(state: &AppState, viewer: &Viewer, shown: Shown<'_>) -> PageResult {
    let Shown { q, errors, values } = shown;
    let actor = viewer.require()?;
    let l = viewer.locale;
    let s = &state.services;
    let (instruments, bookings) =
        tokio::try_join!(s.list_instruments(actor), s.list_bookings(actor, None))
            .map_err(|e| viewer.fail(e))?;
    let by_id: HashMap<i64, &InstrumentView> = instruments.iter().map(|i| (i.id, i)).collect();
    let today = opcity_domain::today_in_shanghai(s.now());
    let body = html! {
        h1 { (t(l, "instrument.title")) }
        (result_notice(l, q))
        (error_block(l, errors))
        table id="instruments" {
            (table_head(l, &["spaces.form.name", "spaces.form.kind", "spaces.form.institution", "instrument.hours", "spaces.form.quota_hours_week", "spaces.form.requires_approval"]))
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
                (table_head(l, &["#", "instrument.title", "spaces.holder", "spaces.period", "spaces.status", ""]))
                tbody {
                    @for b in &bookings {
                        tr id={ "booking-" (b.id) } data-status=(b.status) {
                            td { (b.id) } td { (by_id.get(&b.instrument_id).map(|i| i.name.as_str()).unwrap_or_default()) }
                            td { (holder_label(l, b.holder.as_deref(), Some(b.enterprise_id), None)) }
                            td { (b.start_local) " – " (&b.end_local[11..]) }
                            td { (t(l, &format!("instrument.status.{}", b.status))) @if b.late_cancel { " · " (t(l, "instrument.late_cancel")) } }
                            td { @if let Some(i) = by_id.get(&b.instrument_id) { (booking_actions(viewer, (s, actor), i, b)) } }
                        }
                    }
                }
            }
            (empty_notice(l, bookings.is_empty()))
        }
        @if s.may_list_instrument(actor) {
            (field_form(viewer, "instrument-form", "/instruments", t(l, "instrument.new_heading"), INSTRUMENT_FIELDS, (values, errors), &Options::new(), t(l, "form.save")))
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

pub(super) async fn add(p: Posted) -> PageResult {
    let (state, viewer, form) = p.parts();
    let actor = viewer.require()?.clone();
    let mut errors = Vec::new();
    let input = InstrumentInput {
        name: forms::text(form, "name"),
        kind: forms::text(form, "kind"),
        institution: forms::text(form, "institution"),
        district: forms::text(form, "district"),
        community_id: None,
        manager_account_id: None,
        description: None,
        slot_minutes: num(form, "slot_minutes", &mut errors) as i32,
        opens: forms::text(form, "opens"),
        closes: forms::text(form, "closes"),
        open_days: forms::text(form, "open_days"),
        quota_hours_week: forms::number(form, "quota_hours_week", &mut errors).map(|q| q as i32),
        requires_approval: forms::tri(form, "requires_approval").unwrap_or(false),
        cancel_notice_hours: num(form, "cancel_notice_hours", &mut errors) as i32,
        no_show_grace_minutes: num(form, "no_show_grace_minutes", &mut errors) as i32,
        active: None,
    };
    let s = &state.services;
    let run = async || s.create_instrument(&actor, &input).await.map(|v| v.id);
    answer::<Instruments>(state, viewer, form, form, "instrument", errors, run).await
}

/// An instrument's slots on a day (today unless `date` names one).
pub(super) async fn show_day(
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
    // The enterprises the viewer may book for: a slot's form is drawn only
    // when there is one.
    let bookable: Vec<(i64, String)> = crate::pages::own_enterprises(state, actor)
        .await
        .map_err(|e| viewer.fail(e))?
        .into_iter()
        .filter(|(e, _)| s.may_book_for(actor, i, *e))
        .collect();
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
                            @if slot.free && slot.start_at >= now && !bookable.is_empty() {
                                form.inline id={ "book-" (key) } method="post" action={ "/instruments/" (i.id) "/bookings" } {
                                    (csrf(viewer))
                                    input type="hidden" name="start" value=(slot.start_at.to_rfc3339());
                                    input type="hidden" name="end" value=(slot.end_at.to_rfc3339());
                                    input type="hidden" name="date" value=(date);
                                    select name="enterprise_id" aria-label=(t(l, "spaces.form.enterprise_id")) {
                                        @for (e, name) in &bookable { option value=(e) { (name) } }
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

pub(super) async fn book(Path(id): Path<i64>, p: Posted) -> PageResult {
    let (state, viewer, form) = p.parts();
    let actor = viewer.require()?.clone();
    let mut errors = Vec::new();
    let input = BookingInput {
        instrument_id: id,
        enterprise_id: num(form, "enterprise_id", &mut errors),
        start: forms::text(form, "start"),
        end: forms::text(form, "end"),
        purpose: forms::opt(form, "purpose"),
    };
    let date = forms::text(form, "date");
    let back = format!("/instruments/{id}?date={}", urlencoding::encode(&date));
    let q = Query_::from([("date".to_owned(), date.clone())]);
    let s = &state.services;
    let run = async || s.book_instrument(&actor, &input).await.map(|v| v.id);
    let again = async |e: Vec<FieldError>| render_instrument(state, viewer, id, &q, &e).await;
    submit(viewer, form, &back, "booking", errors, run, again).await
}

/// Approves, rejects, cancels or checks in a booking.
pub(super) async fn act_on_booking(
    Path((id, action)): Path<(i64, String)>,
    p: Posted,
) -> PageResult {
    let (state, viewer, form) = p.parts();
    let actor = viewer.require()?.clone();
    let s = &state.services;
    let run = async || {
        let booking = match action.as_str() {
            "approve" => s.decide_booking(&actor, id, true).await,
            "reject" => s.decide_booking(&actor, id, false).await,
            "cancel" => s.cancel_booking(&actor, id).await,
            "check-in" => s.check_in(&actor, id).await,
            _ => unknown_action(),
        }?;
        Ok(booking.id)
    };
    let what = action_done("booking", &action);
    answer::<Instruments>(state, viewer, form, &Values::new(), &what, Vec::new(), run).await
}
