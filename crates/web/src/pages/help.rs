//! Help and trust: help by role (the viewer's own first), contact, the
//! privacy notice, the accessibility statement, and feedback — a form
//! reached from the foot of every page, kept with the page it came from
//! and read by administrators and auditors.

use super::layout::page;
use super::{PageResult, flow};
use crate::AppState;
use crate::extract::Viewer;
use crate::i18n::{Locale, t};
use axum::Router;
use axum::extract::{Form, Query, State};
use axum::response::{IntoResponse, Redirect};
use axum::routing::get;
use maud::{Markup, html};
use opcity_domain::Role;
use opcity_services::FieldError;
use std::collections::HashMap;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/help", get(help))
        .route("/contact", get(contact))
        .route("/privacy", get(privacy))
        .route("/accessibility", get(accessibility))
        .route("/feedback", get(feedback_list).post(give_feedback))
}

/// The guides, each with how many steps it has, in the order shown to a
/// visitor.
const GUIDES: [(&str, usize); 7] = [
    ("founder", 5),
    ("reviewer", 5),
    ("operator", 3),
    ("provider", 3),
    ("admin", 3),
    ("auditor", 2),
    ("investor", 1),
];

fn guide_of(role: Role) -> &'static str {
    match role {
        Role::Founder => "founder",
        Role::DistrictReviewer => "reviewer",
        Role::CommunityOperator => "operator",
        Role::ServiceProvider => "provider",
        Role::MunicipalAdmin => "admin",
        Role::Auditor => "auditor",
        Role::Investor => "investor",
    }
}

fn guide(l: Locale, name: &str, steps: usize) -> Markup {
    html! {
        section.card id={ "guide-" (name) } {
            h2 { (t(l, &format!("help.{name}.title"))) }
            ol { @for i in 1..=steps { li { (t(l, &format!("help.{name}.s{i}"))) } } }
        }
    }
}

async fn help(viewer: Viewer) -> PageResult {
    let l = viewer.locale;
    let own = viewer.actor.as_ref().map(|a| guide_of(a.role));
    let body = html! {
        h1 { (t(l, "help.title")) }
        p.lead { (t(l, "help.lead")) }
        @if let Some((name, steps)) = own.and_then(|o| GUIDES.iter().find(|(n, _)| *n == o)) {
            h2.visually-hidden { (t(l, "help.yours")) }
            (guide(l, name, *steps))
            h2 { (t(l, "help.others")) }
        }
        @for (name, steps) in GUIDES.iter().filter(|(n, _)| Some(*n) != own) { (guide(l, name, *steps)) }
    };
    Ok(page(&viewer, t(l, "help.title"), body).into_response())
}

/// A statement of headed paragraphs from the texts `{key}.{part}_title`
/// and `{key}.{part}`.
fn statement(viewer: &Viewer, key: &str, parts: &[&str]) -> PageResult {
    let l = viewer.locale;
    let body = html! {
        h1 { (t(l, &format!("{key}.title"))) }
        p.lead { (t(l, &format!("{key}.lead"))) }
        @for part in parts {
            h2 { (t(l, &format!("{key}.{part}_title"))) }
            p id={ (key) "-" (part) } { (t(l, &format!("{key}.{part}"))) }
        }
    };
    Ok(page(viewer, t(l, &format!("{key}.title")), body).into_response())
}

async fn privacy(viewer: Viewer) -> PageResult {
    statement(
        &viewer,
        "privacy",
        &["what", "why", "how_long", "who", "rights"],
    )
}

async fn accessibility(viewer: Viewer) -> PageResult {
    statement(&viewer, "accessibility", &["works", "known", "report"])
}

fn render_contact(
    viewer: &Viewer,
    from: &str,
    typed: &str,
    errors: &[FieldError],
    thanks: bool,
) -> PageResult {
    let l = viewer.locale;
    let own: Vec<&FieldError> = errors.iter().filter(|e| e.field == "message").collect();
    let body = html! {
        (flow::error_summary(l, "contact", "f-", errors))
        h1 { (t(l, "contact.title")) }
        p.lead { (t(l, "contact.lead")) }
        p id="hotline" { (t(l, "contact.hotline")) }
        p { (t(l, "contact.cases")) }
        section.card id="feedback" {
            h2 { (t(l, "contact.feedback_title")) }
            @if thanks { p.notice.success role="status" id="feedback-thanks" { (t(l, "contact.thanks")) } }
            p.hint { (t(l, "contact.feedback_lead")) }
            form.stack method="post" action="/feedback" id="feedback-form" novalidate {
                input type="hidden" name="_csrf" value=(viewer.csrf.clone().unwrap_or_default());
                input type="hidden" name="page" value=(from);
                @if !from.is_empty() { p { (t(l, "contact.page")) ": " span.mono { (from) } } }
                div.field.invalid[!own.is_empty()] {
                    label for="f-message" { (t(l, "contact.message")) }
                    textarea id="f-message" name="message" rows="5" maxlength="2000" { (typed) }
                    (super::forms::messages(l, "f-message", own))
                }
                div { button type="submit" id="feedback-send" { (t(l, "contact.send")) } }
            }
        }
    };
    Ok(page(viewer, t(l, "contact.title"), body).into_response())
}

async fn contact(viewer: Viewer, Query(q): Query<HashMap<String, String>>) -> PageResult {
    let from = q.get("from").map_or("", String::as_str);
    render_contact(&viewer, from, "", &[], q.contains_key("thanks"))
}

/// Feedback is open to visitors too; a signed-in viewer's is kept with
/// their account. The session's CSRF token guards it when there is one.
async fn give_feedback(
    State(state): State<AppState>,
    viewer: Viewer,
    crate::extract::ClientAddress(from): crate::extract::ClientAddress,
    Form(form): Form<HashMap<String, String>>,
) -> PageResult {
    if viewer.actor.is_some() {
        viewer.check_csrf(form.get("_csrf"))?;
    }
    let page_path = form.get("page").cloned().unwrap_or_default();
    let message = form.get("message").cloned().unwrap_or_default();
    match state
        .services
        .give_feedback(
            (
                viewer.actor.as_ref(),
                from.map(|a| a.to_string()).as_deref(),
            ),
            &page_path,
            &message,
        )
        .await
    {
        Ok(()) => Ok(Redirect::to("/contact?thanks=1#feedback").into_response()),
        Err(e) => {
            let (status, errors) = flow::refusal(&viewer, e)?;
            let mut page = render_contact(&viewer, &page_path, &message, &errors, false)?;
            *page.status_mut() = status;
            Ok(page)
        }
    }
}

async fn feedback_list(State(state): State<AppState>, viewer: Viewer) -> PageResult {
    let actor = viewer.require()?;
    let l = viewer.locale;
    let list = state
        .services
        .feedback(actor, 0, 200)
        .await
        .map_err(|e| viewer.fail(e))?;
    let shanghai = opcity_domain::civil_date::shanghai();
    let body = html! {
        h1 { (t(l, "feedback.title")) }
        div.table-wrap { table id="feedback-list" {
            thead { tr { th { (t(l, "feedback.at")) } th { (t(l, "feedback.from")) } th { (t(l, "feedback.page")) } th { (t(l, "feedback.message")) } } }
            tbody { @for f in &list.items {
                tr { td { (f.created_at.with_timezone(&shanghai).format("%Y-%m-%d %H:%M")) }
                    td { (f.from.clone().unwrap_or_else(|| t(l, "feedback.anonymous").to_owned())) }
                    td.mono { (f.page) } td { (f.message) } }
            } }
        } }
        @if list.items.is_empty() { p.notice { (t(l, "list.empty")) } }
    };
    Ok(page(&viewer, t(l, "feedback.title"), body).into_response())
}
