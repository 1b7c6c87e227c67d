//! The founder's path from "you may qualify" to a case under review, after
//! GOV.UK's pattern: a start page for the programme (what it gives, what
//! the engine says of the founder today, what will be asked, how long a
//! decision takes) → the application's form and documents → check your
//! answers (every answer with a link to change it; nothing is sent while
//! something is missing) → a confirmation with the reference number and
//! the date a decision is due.

use super::applications::{bilingual, title_of};
use super::benefits::figure;
use super::layout::page;
use super::{PageResult, flow};
use crate::AppState;
use crate::extract::Viewer;
use crate::i18n::{Locale, t, tf};
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use axum::routing::get;
use maud::{Markup, html};
use opcity_domain::application::{Event, State as Status};
use opcity_services::applications::{ApplicationDetail, NewApplication};
use opcity_services::matching::Entitlement;
use opcity_services::policy::ProgrammeInfo;
use opcity_services::{Actor, FieldError, ServiceError};
use std::collections::HashMap;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/applications/new", get(start))
        .route("/applications/{id}/check", get(check))
        .route("/applications/{id}/submitted", get(submitted))
}

/// Where "apply for `programme`" leads: the start page, through sign-in
/// for a visitor.
pub fn apply_href(viewer: &Viewer, programme: &str) -> String {
    let start = format!(
        "/applications/new?programme={}",
        urlencoding::encode(programme)
    );
    match viewer.actor {
        Some(_) => start,
        None => format!("/login?next={}", urlencoding::encode(&start)),
    }
}

/// Whether the viewer is offered "Apply": visitors (who sign in first),
/// and whoever the services say may apply for themself.
pub fn offers_apply(state: &AppState, viewer: &Viewer) -> bool {
    viewer
        .actor
        .as_ref()
        .is_none_or(|a| state.services.may_apply_for_self(a))
}

/// The link to apply for `programme`, when `offered` ([`offers_apply`]).
pub fn apply_link(viewer: &Viewer, programme: &str, offered: bool) -> Markup {
    html! {
        @if offered {
            a.button id={ "apply-" (programme) } href=(apply_href(viewer, programme)) { (t(viewer.locale, "apply.apply")) }
        }
    }
}

/// Whose application it would be: the founder's own enterprises for an
/// enterprise's programme (by name), else the founder.
async fn applicants(
    state: &AppState,
    actor: &Actor,
    programme: &ProgrammeInfo,
) -> Result<Vec<(Option<i64>, String)>, ServiceError> {
    if programme.beneficiary != "enterprise" {
        return Ok(match actor.person_id {
            Some(_) => vec![(None, actor.display_name.clone())],
            None => Vec::new(),
        });
    }
    Ok(super::own_enterprises(state, actor)
        .await?
        .into_iter()
        .map(|(id, name)| (Some(id), name))
        .collect())
}

/// The engine's result for the founder (or the enterprise) on this programme.
fn result_of<'a>(results: &'a [Entitlement], programme: &str) -> Option<&'a Entitlement> {
    results.iter().find(|e| e.programme == programme)
}

fn what_you_get(l: Locale, result: Option<&Entitlement>) -> Markup {
    html! {
        @match result {
            Some(e) if e.status == "eligible" => {
                p.notice.success id="your-result" data-status="eligible" { (t(l, "apply.eligible")) " " strong { (figure(l, e)) } }
            }
            Some(e) if e.status == "undetermined" => {
                p.notice id="your-result" data-status="undetermined" { (t(l, "apply.undetermined")) " "
                    (e.missing_facts.iter().map(|f| t(l, f)).collect::<Vec<_>>().join("、")) }
            }
            Some(_) => { p.notice.error id="your-result" data-status="ineligible" { (t(l, "apply.ineligible")) } }
            None => { p.notice id="your-result" { (t(l, "apply.not_evaluated")) } }
        }
    }
}

/// The start page for one programme.
async fn start(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    let id = q.get("programme").map_or("", String::as_str);
    render_start(&state, &viewer, id, &[]).await
}

/// The start page of programme `id`; after a refused start, with why.
async fn render_start(
    state: &AppState,
    viewer: &Viewer,
    id: &str,
    errors: &[FieldError],
) -> PageResult {
    let actor = viewer.require()?;
    let l = viewer.locale;
    let (_, programme) = state.services.programme(id).map_err(|e| viewer.fail(e))?;
    let fail = |e| viewer.fail(e);
    let results = state.services.my_entitlements(actor).await.map_err(fail)?;
    let mine = state.services.my_applications(actor).await.map_err(fail)?;
    let who = applicants(state, actor, &programme).await.map_err(fail)?;
    let open = mine.iter().find(|a| {
        a.programme == id
            && a.state.parse::<Status>().is_ok_and(|s| {
                !matches!(
                    s,
                    Status::Rejected | Status::Withdrawn | Status::Closed | Status::ClawedBack
                )
            })
    });
    let title = title_of(state, l, id);
    let key = opcity_services::accounts::random_token(12);
    let body = html! {
        (flow::error_summary(l, "apply", "", errors))
        h1 { (tf(l, "apply.title", [("programme", title.as_str())])) }
        p.lead { (bilingual(l, &programme.description)) }
        p.hint { (tf(l, "selfcheck.measure", [("n", programme.measure.to_string().as_str())])) " · " (programme.citation) }
        (what_you_get(l, result_of(&results, id)))
        h2 { (t(l, "apply.you_will_need")) }
        ul id="you-will-need" {
            @for e in &programme.evidence {
                li { (bilingual(l, &e.title)) @if e.kind == "document" { " " span.hint { (t(l, "apply.a_document")) } } }
            }
            @if programme.evidence.is_empty() { li { (t(l, "apply.nothing_to_supply")) } }
        }
        @if let Some(days) = programme.service_days {
            p id="service-standard" { (tf(l, "apply.service_standard", [("days", days.to_string().as_str())])) }
        }
        @if let Some(a) = open {
            p.notice id="in-progress" { (tf(l, "apply.in_progress", [("id", a.id.to_string().as_str())])) " "
                a href={ "/applications/" (a.id) } { (t(l, "apply.continue")) } }
        } @else if who.is_empty() {
            p.notice id="no-applicant" {
                @if programme.beneficiary == "enterprise" { (t(l, "apply.no_enterprise")) " " a href="/enterprises/new" { (t(l, "apply.register_enterprise")) } }
                @else {
                    (t(l, "field.no_person_record"))
                    @if state.services.may_create_person(actor) { " " a href="/persons/new" { (t(l, "home.enter_record")) } }
                }
            }
        } @else {
            form.stack method="post" action="/applications" id="start-form" {
                input type="hidden" name="_csrf" value=(viewer.csrf.clone().unwrap_or_default());
                input type="hidden" name="programme" value=(id);
                input type="hidden" name="idempotency_key" value={ (key) "-" (id) };
                @if programme.beneficiary == "enterprise" && who.len() > 1 {
                    div.field { label for="enterprise_id" { (t(l, "apply.for_enterprise")) }
                        select id="enterprise_id" name="enterprise_id" {
                            @for (e, name) in &who { option value=(e.unwrap_or_default()) { (name) } }
                        } }
                } @else if let Some((enterprise, name)) = who.first() {
                    @if let Some(e) = enterprise { input type="hidden" name="enterprise_id" value=(e); }
                    p id="applicant" { (tf(l, "apply.as", [("name", name.as_str())])) }
                }
                div { button type="submit" id="start-application" { (t(l, "apply.start")) } }
            }
        }
    };
    Ok(page(viewer, &title, body).into_response())
}

/// Starts a draft (a retry with the same key finds the first) and opens
/// it: its form, or with nothing to supply its answers to check.
pub async fn create(
    State(state): State<AppState>,
    viewer: Viewer,
    Form(form): Form<HashMap<String, String>>,
) -> PageResult {
    let actor = viewer.require()?.clone();
    let input = NewApplication {
        programme: form.get("programme").cloned().unwrap_or_default(),
        enterprise_id: form.get("enterprise_id").and_then(|e| e.parse().ok()),
        requested_fen: None,
        form: serde_json::Map::new(),
        idempotency_key: form.get("idempotency_key").cloned(),
    };
    flow::post(
        &viewer,
        &form,
        Vec::new(),
        async || state.services.create_application(&actor, &input).await,
        |created| {
            let evidence = state
                .services
                .programme(&created.programme)
                .map(|(_, p)| p.evidence.len())
                .unwrap_or_default();
            let next = if evidence == 0 { "/check" } else { "" };
            Redirect::to(&format!("/applications/{}{next}", created.id)).into_response()
        },
        async |errors| render_start(&state, &viewer, &input.programme, &errors).await,
    )
    .await
}

/// Application `id` as the viewer may see it (or the page's error).
async fn application(
    state: &AppState,
    viewer: &Viewer,
    id: i64,
) -> Result<ApplicationDetail, super::PageError> {
    let actor = viewer.require()?;
    state
        .services
        .get_application(actor, id)
        .await
        .map_err(|e| viewer.fail(e))
}

/// Whether the founder may send the application now.
fn sendable(d: &ApplicationDetail) -> bool {
    d.actions.contains(&Event::Submit) || d.actions.contains(&Event::Resubmit)
}

/// Check your answers: every answer with a link to change it.
async fn check(State(state): State<AppState>, viewer: Viewer, Path(id): Path<i64>) -> PageResult {
    let l = viewer.locale;
    let d = application(&state, &viewer, id).await?;
    if !sendable(&d) {
        return Ok(Redirect::to(&format!("/applications/{id}")).into_response());
    }
    let a = &d.application;
    let (_, programme) = state
        .services
        .programme(&a.programme)
        .map_err(|e| viewer.fail(e))?;
    let change = |item: &str, kind: &str| {
        let anchor = if kind == "document" {
            "document-"
        } else {
            "form-"
        };
        format!("/applications/{id}#{anchor}{item}")
    };
    let title = title_of(&state, l, &a.programme);
    let body = html! {
        @if !d.missing.is_empty() {
            div.notice.error role="alert" id="form-errors" tabindex="-1" {
                strong { (t(l, "apply.missing")) }
                ul { @for m in &d.missing { li { a href=(change(&m.id, &m.kind)) { (bilingual(l, &m.title)) } } } }
            }
        }
        h1 { (t(l, "apply.check_title")) }
        dl.summary id="answers" {
            div { dt { (t(l, "application.programme")) } dd { (title) } dd {} }
            div { dt { (t(l, "application.applicant")) } dd id="check-applicant" { (a.applicant.clone().unwrap_or_default()) } dd {} }
            @for e in &programme.evidence {
                div data-item=(e.id) {
                    dt { (bilingual(l, &e.title)) }
                    dd {
                        @if e.kind == "document" {
                            @let files: Vec<&str> = d.documents.iter().filter(|doc| doc.evidence_id == e.id && doc.current).map(|doc| doc.file_name.as_str()).collect();
                            @if files.is_empty() { span.missing { (t(l, "apply.not_given")) } } @else { (files.join("、")) }
                        } @else {
                            @match a.form.get(&e.id).and_then(|v| v.as_str()).filter(|v| !v.is_empty()) {
                                Some(value) => { (value) }
                                None => { span.missing { (t(l, "apply.not_given")) } }
                            }
                        }
                    }
                    dd { a href=(change(&e.id, &e.kind)) { (t(l, "apply.change")) span.visually-hidden { " " (bilingual(l, &e.title)) } } }
                }
            }
        }
        @if d.missing.is_empty() {
            h2 { (t(l, "apply.send_title")) }
            p id="declaration" { (t(l, "apply.declaration")) }
            form method="post" action={ "/applications/" (id) "/submit" } {
                input type="hidden" name="_csrf" value=(viewer.csrf.clone().unwrap_or_default());
                button type="submit" id="send-application" { (t(l, "apply.send")) }
            }
        }
        p { a href={ "/applications/" (id) } { (t(l, "apply.back_to_form")) } }
    };
    Ok(page(&viewer, t(l, "apply.check_title"), body).into_response())
}

/// The confirmation after sending: the reference, the due date, what next.
async fn submitted(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
) -> PageResult {
    let l = viewer.locale;
    let d = application(&state, &viewer, id).await?;
    let a = &d.application;
    let status: Status = a.state.parse().unwrap_or(Status::Draft);
    if matches!(status, Status::Draft | Status::Returned) {
        return Ok(Redirect::to(&format!("/applications/{id}/check")).into_response());
    }
    let title = title_of(&state, l, &a.programme);
    let refused = status == Status::Rejected;
    let body = html! {
        div.panel.confirmation id="confirmation" data-state=(a.state) {
            h1 { @if refused { (t(l, "apply.sent_refused")) } @else { (t(l, "apply.sent")) } }
            p { (t(l, "apply.reference")) br; strong id="reference" { "#" (a.id) } }
        }
        p { (title) " · " (a.applicant.clone().unwrap_or_default()) }
        @if refused {
            p id="what-next" { (t(l, "apply.refused_next")) " " a href={ "/applications/" (id) } { (t(l, "apply.see_reasons")) } }
        } @else {
            @if let Some(due) = d.expected_decision_on {
                p id="decision-due" { (tf(l, "apply.decision_due", [("date", due.to_string().as_str())])) }
            }
            h2 { (t(l, "apply.what_next")) }
            ol id="what-next" {
                li { (t(l, "apply.next_review")) }
                li { (t(l, "apply.next_told")) }
                li { (t(l, "apply.next_offer")) }
            }
        }
        p { a href={ "/applications/" (id) } { (t(l, "apply.follow")) } " · " a href="/applications" { (t(l, "application.mine")) } }
    };
    Ok(page(&viewer, t(l, "apply.sent"), body).into_response())
}
