//! An application around and after its decision, on its page: when a
//! decision is due and the letters of those made ([`outcome`]), what the
//! approval became and where it stands ([`delivery`]), and the eligibility
//! flags raised on it, with the form the viewer may use — the founder's
//! answer or the reviewer's decision ([`flags`]).

use super::flow;
use super::forms::{self, Values};
use crate::AppState;
use crate::extract::Viewer;
use crate::i18n::{Locale, t, tf};
use maud::{Markup, html};
use opcity_domain::Fen;
use opcity_services::FieldError;
use opcity_services::applications::{ApplicationDetail, FlagAction, FlagDecision, FlagView};

/// The flag form's id (`_form`), for what was typed after a refusal.
pub(super) const FLAG_FORM: &str = "flag-form";

/// The decisions a reviewer may take on a flag.
const DECISIONS: [&str; 3] = ["lift", "confirm", "confirm_and_claw_back"];

/// While a decision is awaited, the date the service standard promises it
/// by (and whether that date has passed); once decided, the letters.
pub(super) fn outcome(state: &AppState, l: Locale, d: &ApplicationDetail) -> Markup {
    let a = &d.application;
    let today = opcity_domain::today_in_shanghai(state.services.now());
    let days = state
        .services
        .programme(&a.programme)
        .ok()
        .and_then(|(_, p)| p.service_days);
    html! {
        @if let (Some(date), Some(days)) = (d.expected_decision_on, days) {
            @let date_text = date.to_string();
            @if date < today {
                p.notice.error id="expected-decision" data-overdue="true" { (tf(l, "application.overdue", [("date", date_text.as_str())])) }
            } @else {
                p.notice id="expected-decision" { (tf(l, "application.expected_decision", [("date", date_text.as_str()), ("days", days.to_string().as_str())])) }
            }
        }
        @if !d.letters.is_empty() {
            section id="letters" {
                h2 { (t(l, "application.letters")) }
                ul { @for letter in &d.letters {
                    li data-decision=(letter.decision) {
                        a href={ "/applications/" (a.id) "/letters/" (letter.number) } { (letter.reference) }
                        " · " (t(l, &format!("application.state.{}", letter.decision))) " · " (letter.issued_on)
                        " · " a href={ "/applications/" (a.id) "/letters/" (letter.number) "/pdf" } { "PDF" }
                    }
                } }
            }
        }
    }
}

/// What the accepted approval became, and where it stands.
pub(super) fn delivery(l: Locale, d: &ApplicationDetail) -> Markup {
    let Some(v) = &d.delivery else {
        return html! {};
    };
    let see = match v.delivery.as_str() {
        "voucher" => Some(("/vouchers", "application.delivery.see_wallet")),
        "space" => Some(("/spaces", "application.delivery.see_spaces")),
        "housing" => Some(("/housing", "application.delivery.see_housing")),
        _ => None,
    };
    html! {
        section.card id="delivery" data-delivery=(v.delivery) data-status=(v.status) {
            h2 { (t(l, "application.delivery.heading")) }
            dl.facts {
                dt { (t(l, "application.delivery.kind")) } dd { (t(l, &format!("application.delivery_kind.{}", v.delivery))) }
                dt { (t(l, "application.delivery.status")) } dd id="delivery-status" { (t(l, &format!("application.delivery_status.{}", v.status))) }
                @if let Some(amount) = v.amount_fen { dt { (t(l, "application.delivery.amount")) } dd { (Fen(amount)) } }
                @if let Some(until) = v.until { dt { (t(l, "application.delivery.until")) } dd { (until) } }
                @if let Some(partner) = &v.partner { dt { (t(l, "application.delivery.partner")) } dd { (t(l, &format!("application.partner.{partner}"))) } }
            }
            @if !v.support.is_empty() {
                h3 { (t(l, "application.delivery.support")) }
                ul id="support" { @for s in &v.support { li { (t(l, &format!("application.support.{s}"))) } } }
            }
            @if let Some((href, key)) = see { p { a href=(href) { (t(l, key)) } } }
        }
    }
}

/// A reviewer's decision as posted.
pub(super) fn decision_of(form: &Values) -> FlagDecision {
    FlagDecision {
        decision: forms::text(form, "decision"),
        note: form
            .get("note")
            .map(|n| n.trim().to_owned())
            .filter(|n| !n.is_empty()),
    }
}

/// The flags raised on the benefit: the open one with the engine's reasons
/// and the form the viewer may use, and the decided ones.
pub(super) fn flags(
    viewer: &Viewer,
    d: &ApplicationDetail,
    (typed, errors): (Option<&Values>, &[FieldError]),
) -> Markup {
    if d.flags.is_empty() {
        return html! {};
    }
    let l = viewer.locale;
    let typed = |name: &str| typed.and_then(|v| v.get(name)).map_or("", String::as_str);
    let beside = |id: &str| forms::messages(l, id, errors.iter().filter(|e| e.field == id));
    let action = |name: &str| format!("/applications/{}/{name}", d.application.id);
    html! {
        section.card id="flags" {
            h2 { (t(l, "application.flag.heading")) }
            @for f in &d.flags {
                div.flag data-status=(f.status) id={ "flag-" (f.id) } {
                    p { strong { (t(l, &format!("application.flag.status.{}", f.status))) } " · " (f.as_of) }
                    (reasons(l, f))
                    @if let Some(r) = &f.response { p { (t(l, "application.flag.response")) ": " (r) } }
                    @if let Some(n) = &f.decision_note { p { (t(l, "application.flag.note")) ": " (n) } }
                }
            }
            @match d.flag_action {
                Some(FlagAction::Respond) => {
                    form.stack method="post" action=(action("flag-response")) id=(FLAG_FORM) {
                        input type="hidden" name="_csrf" value=(viewer.csrf.clone().unwrap_or_default());
                        input type="hidden" name=(flow::FORM_ID) value=(FLAG_FORM);
                        div.field { label for="response" { (t(l, "application.flag.respond")) }
                            textarea id="response" name="response" rows="3" { (typed("response")) }
                            (beside("response")) }
                        div { button type="submit" id="flag-respond" { (t(l, "application.flag.send")) } }
                    }
                }
                Some(FlagAction::Decide) => {
                    form.stack method="post" action=(action("flag-decision")) id=(FLAG_FORM) {
                        input type="hidden" name="_csrf" value=(viewer.csrf.clone().unwrap_or_default());
                        input type="hidden" name=(flow::FORM_ID) value=(FLAG_FORM);
                        fieldset { legend { (t(l, "application.flag.decide")) }
                            @for decision in DECISIONS {
                                label { input type="radio" name="decision" value=(decision) checked[typed("decision") == decision]; " " (t(l, &format!("application.flag.decision.{decision}"))) }
                            }
                            (beside("decision")) }
                        div.field { label for="note" { (t(l, "application.flag.note")) }
                            textarea id="note" name="note" rows="3" { (typed("note")) }
                            (beside("note")) }
                        div { button type="submit" id="flag-decide" { (t(l, "application.flag.record")) } }
                    }
                }
                None => {}
            }
        }
    }
}

/// The conditions that no longer hold, as the engine said on the flag's
/// date.
fn reasons(l: Locale, f: &FlagView) -> Markup {
    let Some(e) = &f.explanation else {
        return html! {};
    };
    html! {
        ul.reasons {
            @for r in e.result.reasons.iter().flatten().filter(|r| r.holds != Some(true)) {
                li data-condition=(r.condition) {
                    (t(l, &format!("condition.{}", r.condition))) " — "
                    (t(l, if r.holds.is_none() { "application.flag.unknown" } else { "application.flag.not_met" }))
                    " (" (r.citation) ")"
                }
            }
        }
    }
}
