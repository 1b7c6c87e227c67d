//! An application's requests for information, on its page: the reviewers'
//! questions and the applicant's answers, oldest first, with the form the
//! viewer may use — a reviewer's question, or the applicant's answer to
//! what is open (`services::applications::messages`).

use super::flow;
use super::forms::{self, Values};
use crate::extract::Viewer;
use crate::i18n::{Locale, t};
use maud::{Markup, html};
use opcity_services::FieldError;
use opcity_services::applications::{ApplicationDetail, MessageAction, MessageView};

/// The thread form's id (`_form`), for what was typed after a refusal.
pub(super) const THREAD_FORM: &str = "thread-form";

/// The thread, shown once it has a message or the viewer may start it.
pub(super) fn thread(
    viewer: &Viewer,
    d: &ApplicationDetail,
    (typed, errors): (Option<&Values>, &[FieldError]),
) -> Markup {
    if d.messages.is_empty() && d.message_action.is_none() {
        return html! {};
    }
    let l = viewer.locale;
    let typed = typed.and_then(|v| v.get("body")).map_or("", String::as_str);
    let (action, label, button) = match d.message_action {
        Some(MessageAction::Ask) => (
            "ask",
            "application.thread.ask",
            "application.thread.send_question",
        ),
        Some(MessageAction::Answer) => (
            "answer",
            "application.thread.answer",
            "application.thread.send_answer",
        ),
        None => ("", "", ""),
    };
    html! {
        section.card id="thread" aria-labelledby="thread-heading" {
            h2 id="thread-heading" { (t(l, "application.thread.heading")) }
            p.hint { (t(l, if viewer.actor.as_ref().is_some_and(|a| a.role == opcity_domain::Role::Founder) { "application.thread.hint" } else { "application.thread.hint_staff" })) }
            @if d.messages.is_empty() {
                p id="thread-empty" { (t(l, "application.thread.empty")) }
            } @else {
                ol.thread {
                    @for m in &d.messages { (message(l, m)) }
                }
            }
            @if d.message_action.is_some() {
                form.stack method="post" action={ "/applications/" (d.application.id) "/" (action) } id=(THREAD_FORM) {
                    input type="hidden" name="_csrf" value=(viewer.csrf.clone().unwrap_or_default());
                    input type="hidden" name=(flow::FORM_ID) value=(THREAD_FORM);
                    div.field { label for="body" { (t(l, label)) }
                        textarea id="body" name="body" rows="4" maxlength="2000" { (typed) }
                        (forms::messages(l, "body", errors.iter().filter(|e| e.field == "body"))) }
                    div { button type="submit" id={ "thread-" (action) } { (t(l, button)) } }
                }
            }
        }
    }
}

/// One message: who wrote it and when, what it says, and for a question
/// whether it is answered.
fn message(l: Locale, m: &MessageView) -> Markup {
    let shanghai = opcity_domain::civil_date::shanghai();
    let (side, who) = if m.from_applicant {
        ("applicant", "application.thread.from_applicant")
    } else {
        ("reviewer", "application.thread.from_reviewer")
    };
    let status = match (m.from_applicant, m.answered_at) {
        (true, _) => None,
        (false, Some(_)) => Some(("answered", "application.thread.answered")),
        (false, None) => Some(("open", "application.thread.open")),
    };
    html! {
        li.message data-from=(side) id={ "message-" (m.id) } {
            p.meta {
                strong { (m.author.clone().unwrap_or_else(|| t(l, who).to_owned())) }
                " · " time datetime=(m.at.to_rfc3339()) { (m.at.with_timezone(&shanghai).format("%Y-%m-%d %H:%M")) }
                @if let Some((status, key)) = status { " · " span.badge data-status=(status) { (t(l, key)) } }
            }
            p.body { (m.body) }
        }
    }
}
