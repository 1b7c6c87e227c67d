//! Application pages: a founder applies and follows their case (history,
//! what is missing, the offer to accept, payments); reviewers work their
//! queue with the engine's explanation beside the review form; administrators
//! see and create budgets.

use super::application_after as after;
use super::application_thread::{THREAD_FORM, thread};
use super::forms::{self, Values};
use super::home::grouped;
use super::layout::page;
use super::selfcheck::holds_mark;
use super::{PageResult, flow, workbench};
use crate::AppState;
use crate::extract::Viewer;
use crate::i18n::{Locale, t, tf};
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use maud::{Markup, html};
use opcity_domain::application::Event;
use opcity_domain::{Fen, Role};
use opcity_services::applications::budgets::BudgetInput;
use opcity_services::applications::{
    ApplicationDetail, ApplicationView, AssignInput, Decision, ReviewInput,
};
use opcity_services::{Actor, FieldError, ServiceError};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/applications", get(list).post(super::apply::create))
        .route("/applications/{id}", get(detail))
        .route("/applications/{id}/{action}", post(act))
        .route("/budgets", get(budgets).post(create_budget))
}

/// The document upload form's route, with the upload body limit.
pub fn upload_routes(body_limit: usize) -> Router<AppState> {
    Router::new().route(
        "/applications/{id}/documents",
        post(upload).layer(axum::extract::DefaultBodyLimit::max(body_limit)),
    )
}

pub(super) fn title_of(state: &AppState, l: Locale, programme: &str) -> String {
    state
        .services
        .programme(programme)
        .map(|(_, p)| {
            if l == Locale::Zh {
                p.title.zh
            } else {
                p.title.en
            }
        })
        .unwrap_or_else(|_| programme.to_owned())
}

pub(super) fn money(fen: Option<i64>) -> String {
    fen.map(|f| Fen(f).to_string())
        .unwrap_or_else(|| "—".to_owned())
}

fn state_badge(l: Locale, state: &str) -> Markup {
    badge(l, state, &format!("application.state.{state}"))
}

/// The label of `state`; while a benefit is delivered, what it is
/// delivered as (only cash is "paying").
fn state_key(state: &str, delivery: Option<&str>) -> String {
    match (state, delivery) {
        ("disbursing", Some(delivery)) => format!("application.delivering.{delivery}"),
        _ => format!("application.state.{state}"),
    }
}

/// Who took a step, in words: the platform's own steps by what they are,
/// an account by its name where the viewer may know it, else "a reviewer".
fn actor_label(l: Locale, label: &str, name: Option<&str>) -> String {
    match (label.strip_prefix("system:"), name) {
        (Some(job), _) => t(l, &format!("application.actor.system_{job}")).to_owned(),
        (None, Some(name)) => name.to_owned(),
        (None, None) => t(l, "application.actor.staff").to_owned(),
    }
}

fn badge(l: Locale, state: &str, key: &str) -> Markup {
    html! { span class={ "badge state-" (state) } data-state=(state) { (t(l, key)) } }
}

/// An application's state as its applicant reads it: while its benefit is
/// delivered, what it is delivered as (only cash is "paying").
pub(super) fn application_badge(state: &AppState, l: Locale, a: &ApplicationView) -> Markup {
    let delivery = state
        .services
        .programme(&a.programme)
        .map(|(_, p)| p.delivery);
    badge(l, &a.state, &state_key(&a.state, delivery.as_deref().ok()))
}

/// The applicant's own applications.
fn table(state: &AppState, l: Locale, rows: &[ApplicationView]) -> Markup {
    html! {
        table.cards id="applications" {
            thead { tr {
                th { "#" }
                th { (t(l, "application.programme")) } th { (t(l, "application.state_label")) }
                th.num { (t(l, "application.approved")) } th { (t(l, "application.next_step")) }
            } }
            tbody {
                @for a in rows {
                    tr data-id=(a.id) {
                        td data-label=(t(l, "workbench.reference")) { a href={ "/applications/" (a.id) } { (a.id) } }
                        td data-label=(t(l, "application.programme")) { (title_of(state, l, &a.programme)) }
                        td data-label=(t(l, "application.state_label")) { (application_badge(state, l, a)) }
                        td.num data-label=(t(l, "application.approved")) { (money(a.approved_fen)) }
                        td.next data-label=(t(l, "application.next_step")) { (next_step(l, a)) }
                    }
                }
            }
        }
        @if rows.is_empty() { p.notice { (t(l, "list.empty")) } }
    }
}

/// What the applicant does next, or waits for, in words.
fn next_step(l: Locale, a: &ApplicationView) -> Markup {
    let date = |d: Option<chrono::NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
    let key = format!("application.next.{}", a.state);
    html! {
        @match a.state.as_str() {
            "draft" => { a href={ "/applications/" (a.id) } { (t(l, &key)) } }
            "returned" => { a href={ "/applications/" (a.id) } { (tf(l, &key, [("date", date(a.return_deadline).as_str())])) } }
            "approved" => { a href={ "/applications/" (a.id) } { (t(l, &key)) } }
            _ if a.due_on.is_some() => { (tf(l, "application.next.decision_due", [("date", date(a.due_on).as_str())])) }
            _ => { (if crate::i18n::has(l, &key) { t(l, &key) } else { "—" }) }
        }
    }
}

/// Programmes the founder may apply for now (their eligible or
/// undetermined results from proactive matching), each leading to its
/// start page.
async fn apply_links(
    state: &AppState,
    viewer: &Viewer,
    actor: &Actor,
) -> Result<Markup, ServiceError> {
    let l = viewer.locale;
    let results = state.services.my_entitlements(actor).await?;
    let mut open: Vec<&str> = results
        .iter()
        .filter(|e| e.status != "ineligible")
        .map(|e| e.programme.as_str())
        .collect();
    open.sort_unstable();
    open.dedup();
    Ok(html! {
        h2 { (t(l, "application.apply")) }
        @if open.is_empty() { p { (t(l, "application.nothing_to_apply")) " " a href="/self-check" { (t(l, "benefits.try_self_check")) } } }
        ul.apply-list {
            @for programme in &open {
                li { a id={ "apply-" (programme) } href=(super::apply::apply_href(viewer, programme)) { (t(l, "application.apply_for")) " " (title_of(state, l, programme)) } }
            }
        }
    })
}

async fn list(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<Values>,
) -> PageResult {
    let actor = viewer.require()?;
    let l = viewer.locale;
    let reviewer = matches!(
        actor.role,
        Role::DistrictReviewer | Role::MunicipalAdmin | Role::Auditor
    );
    let body = if reviewer {
        workbench::queue(
            &state,
            &viewer,
            actor,
            &workbench::filter_of(&q),
            Vec::new(),
        )
        .await?
    } else {
        let rows = state
            .services
            .my_applications(actor)
            .await
            .map_err(|e| viewer.fail(e))?;
        let form = apply_links(&state, &viewer, actor)
            .await
            .map_err(|e| viewer.fail(e))?;
        html! { h1 { (t(l, "application.mine")) } (table(&state, l, &rows)) (form) }
    };
    Ok(page(&viewer, t(l, "nav.applications"), body).into_response())
}

fn explanation(l: Locale, d: &ApplicationDetail) -> Markup {
    let Some(e) = &d.application.explanation else {
        return html! {};
    };
    let r = &e.result;
    html! {
        section.card id="explanation" {
            h2 { (t(l, "application.precheck")) }
            p { (state_badge(l, r.status.name())) " "
                (tf(l, "selfcheck.pack", [("id", e.pack.id.as_str()), ("version", e.pack.version.as_str())])) }
            @if let Some(a) = r.amount_fen { p { (tf(l, "selfcheck.amount", [("amount", a.to_string().as_str())])) } }
            @if let Some(c) = r.ceiling_fen { p { (tf(l, "selfcheck.ceiling", [("amount", c.to_string().as_str())])) } }
            @if !r.missing_facts.is_empty() { p id="missing" { (t(l, "selfcheck.tell_us")) " " (r.missing_facts.iter().map(|f| t(l, f)).collect::<Vec<_>>().join("、")) } }
            ul.reasons {
                @for c in r.reasons() {
                    li { (holds_mark(c.holds)) " " (t(l, &format!("condition.{}", c.condition))) }
                }
            }
        }
    }
}

/// One score field per criterion of the programme's rubric.
fn rubric_inputs(state: &AppState, l: Locale, programme: &str) -> Markup {
    let Ok((_, p)) = state.services.programme(programme) else {
        return html! {};
    };
    html! {
        @if !p.rubric.is_empty() {
            fieldset id="rubric" {
                legend { (t(l, "application.rubric")) }
                @for c in &p.rubric {
                    div.field { label for={ "score-" (c.id) } { (bilingual(l, &c.title)) " (0–" (c.max) ")" }
                        input id={ "score-" (c.id) } name={ "score." (c.id) } type="number" min="0" max=(c.max); }
                }
            }
        }
    }
}

pub(super) fn bilingual(l: Locale, text: &opcity_services::policy::Bilingual) -> String {
    if l == Locale::Zh {
        text.zh.clone()
    } else {
        text.en.clone()
    }
}

/// The evidence the programme asks for: the applicant fills the fields and
/// uploads the documents while the application is a draft or returned;
/// everyone who may see the application sees what was supplied.
fn evidence(
    state: &AppState,
    viewer: &Viewer,
    d: &ApplicationDetail,
    (typed, errors): (Option<&Values>, &[FieldError]),
) -> Markup {
    let l = viewer.locale;
    let a = &d.application;
    let Ok((_, p)) = state.services.programme(&a.programme) else {
        return html! {};
    };
    if p.evidence.is_empty() {
        return html! {};
    }
    // The applicant's side is edited while the application may be
    // (re)submitted: the same states the state machine offers that in.
    let editable = d.actions.contains(&Event::Submit) || d.actions.contains(&Event::Resubmit);
    let csrf = viewer.csrf.clone().unwrap_or_default();
    let fields: Vec<_> = p.evidence.iter().filter(|e| e.kind == "field").collect();
    let documents: Vec<_> = p.evidence.iter().filter(|e| e.kind == "document").collect();
    html! {
        section.card id="evidence" {
            h2 { (t(l, "application.evidence")) }
            @if !d.missing.is_empty() {
                p.notice id="missing-evidence" { (t(l, "application.missing_evidence")) " "
                    (d.missing.iter().map(|m| bilingual(l, &m.title)).collect::<Vec<_>>().join("、")) }
            }
            @if editable && !fields.is_empty() {
                form.stack method="post" action={ "/applications/" (a.id) "/form" } id="form-fields" {
                    input type="hidden" name="_csrf" value=(csrf);
                    input type="hidden" name=(flow::FORM_ID) value=(FIELDS_FORM);
                    @for e in &fields {
                        @let name = format!("form.{}", e.id);
                        @let id = format!("form-{}", e.id);
                        @let stored = a.form.get(&e.id).and_then(|v| v.as_str()).unwrap_or_default();
                        div.field { label for=(id) { (bilingual(l, &e.title)) }
                            input id=(id) name=(name) type="text" maxlength="500"
                                value=(typed.and_then(|v| v.get(&name)).map_or(stored, String::as_str));
                            (forms::messages(l, &id, errors.iter().filter(|err| err.field == name))) }
                    }
                    div { button type="submit" id="form-fields-submit" { (t(l, "form.save")) } }
                }
            } @else if !fields.is_empty() {
                dl.facts id="form-values" {
                    @for e in &fields {
                        dt { (bilingual(l, &e.title)) }
                        dd { (a.form.get(&e.id).and_then(|v| v.as_str()).unwrap_or("—")) }
                    }
                }
            }
            @for e in &documents {
                div.document id={ "document-" (e.id) } {
                    h3 { (bilingual(l, &e.title)) }
                    @for doc in d.documents.iter().filter(|doc| doc.evidence_id == e.id) {
                        p data-current=(doc.current) {
                            a href={ "/api/v1/applications/" (a.id) "/documents/" (doc.id) } { (doc.file_name) }
                            " · " (doc.content_type) " · " (grouped(doc.size_bytes)) " B · SHA-256 "
                            span.mono title=(doc.sha256) { (&doc.sha256[..12.min(doc.sha256.len())]) "…" }
                            @if !doc.current { " · " (t(l, "application.document_replaced")) }
                        }
                    }
                    @if editable {
                        form.inline method="post" action={ "/applications/" (a.id) "/documents" } enctype="multipart/form-data" id={ "upload-" (e.id) } {
                            input type="hidden" name="_csrf" value=(csrf);
                            input type="hidden" name="evidence" value=(e.id);
                            input type="file" name="file" id={ "file-" (e.id) } accept=".pdf,.png,.jpg,.jpeg,application/pdf,image/png,image/jpeg" required;
                            button type="submit" id={ "upload-" (e.id) "-submit" } { (t(l, "application.upload")) }
                        }
                    }
                }
            }
            @if editable { p.hint { (tf(l, "application.upload_hint", [("mib", (state.services.document_limit() / (1024 * 1024)).to_string().as_str())])) } }
        }
    }
}

/// Reviews so far, for reviewers and auditors.
fn reviews(l: Locale, d: &ApplicationDetail) -> Markup {
    let shanghai = opcity_domain::civil_date::shanghai();
    html! {
        @if !d.reviews.is_empty() {
            h2 { (t(l, "application.reviews")) }
            table id="reviews" {
                thead { tr { th { (t(l, "audit.at")) } th { (t(l, "application.reviewer")) } th { (t(l, "application.decision")) } th.num { (t(l, "application.amount")) }
                    th.num { (t(l, "application.score")) } th { (t(l, "application.internal_note")) } } }
                tbody { @for r in &d.reviews {
                    tr { td.at { (r.at.with_timezone(&shanghai).format("%Y-%m-%d %H:%M")) } td { (r.reviewer) } td { (t(l, &format!("application.decide.{}", r.decision))) } td.num { (money(r.amount_fen)) }
                        td.num title=(r.scores.to_string()) { (r.score.map(|s| s.to_string()).unwrap_or_default()) }
                        td { (r.comment.clone().unwrap_or_default()) } }
                } }
            }
        }
    }
}

fn actions(
    state: &AppState,
    viewer: &Viewer,
    d: &ApplicationDetail,
    (typed, errors): (Option<&Values>, &[FieldError]),
) -> Markup {
    let l = viewer.locale;
    let a = &d.application;
    let typed = |name: &str| typed.and_then(|v| v.get(name)).map_or("", String::as_str);
    // Messages beside a control: those about any of `fields`.
    let beside = |id: &str, fields: &[&str]| {
        forms::messages(
            l,
            id,
            errors.iter().filter(|e| fields.contains(&e.field.as_str())),
        )
    };
    let may = |e: Event| d.actions.contains(&e);
    let csrf = viewer.csrf.clone().unwrap_or_default();
    let button = |action: &str, key: &str| {
        html! {
            form.inline method="post" action={ "/applications/" (a.id) "/" (action) } {
                input type="hidden" name="_csrf" value=(csrf);
                button type="submit" id={ "action-" (action) } { (t(l, key)) }
            }
        }
    };
    // The decisions a reviewer may take here, as the review form names them.
    let decisions: Vec<&str> = [
        (Event::Approve, "approve"),
        (Event::Return, "return"),
        (Event::Reject, "reject"),
        (Event::Forward, "forward"),
    ]
    .into_iter()
    .filter(|(e, _)| may(*e))
    .map(|(_, name)| name)
    .collect();
    html! {
        div.actions {
            // Sending goes through the answers first (`apply::check`).
            @if may(Event::Submit) || may(Event::Resubmit) { a.button href={ "/applications/" (a.id) "/check" } id="action-submit" { (t(l, "apply.check_and_send")) } }
            @if may(Event::AcceptOffer) { (button("accept", "application.do.accept")) }
            @if may(Event::Withdraw) || may(Event::DeclineOffer) { (button("withdraw", "application.do.withdraw")) }
            @if may(Event::Appeal) { (button("appeal", "application.do.appeal")) }
            @if may(Event::ReopenAppeal) { (button("reopen", "application.do.reopen")) }
            @if may(Event::DismissAppeal) { (button("dismiss", "application.do.dismiss")) }
            @if may(Event::ClawBack) { (button("claw-back", "application.do.claw_back")) }
        }
        @if !decisions.is_empty() {
            form.stack.card method="post" action={ "/applications/" (a.id) "/review" } id="review-form" {
                h2 { (t(l, "application.review")) }
                input type="hidden" name="_csrf" value=(csrf);
                input type="hidden" name=(flow::FORM_ID) value=(REVIEW_FORM);
                div.field { label for="decision" { (t(l, "application.decision")) }
                    select id="decision" name="decision" {
                        @for d in &decisions { option value=(d) selected[typed("decision") == *d] { (t(l, &format!("application.decide.{d}"))) } }
                    }
                    (beside("decision", &["decision"])) }
                div.field { label for="amount_yuan" { (t(l, "application.amount_yuan")) }
                    input id="amount_yuan" name="amount_yuan" type="text" inputmode="decimal" value=(typed("amount_yuan"));
                    (beside("amount_yuan", &["amount_yuan", "amount_fen"])) }
                @if let Some(first) = d.pending_approval.as_ref().filter(|_| decisions.contains(&"approve")) {
                    label { input type="checkbox" name="different_amount_confirmed" value="true" id="different_amount_confirmed" checked[typed("different_amount_confirmed") == "true"]; " " (tf(l, "application.different_amount", [("amount", money(first.amount_fen).as_str()), ("reviewer", first.reviewer.as_str())])) }
                }
                (rubric_inputs(state, l, &a.programme))
                div.field { label for="return_deadline" { (t(l, "application.return_deadline")) }
                    input id="return_deadline" name="return_deadline" type="date" value=(typed("return_deadline"));
                    (beside("return_deadline", &["return_deadline"])) }
                div.field { label for="applicant_reason" { (t(l, "application.applicant_reason")) }
                    p.hint id="applicant_reason-hint" { (t(l, "application.applicant_reason_hint")) }
                    textarea id="applicant_reason" name="applicant_reason" rows="3" aria-describedby="applicant_reason-hint" { (typed("applicant_reason")) }
                    (beside("applicant_reason", &["applicant_reason"])) }
                div.field { label for="comment" { (t(l, "application.internal_note")) }
                    input id="comment" name="comment" type="text" value=(typed("comment"));
                    (beside("comment", &["comment"])) }
                label { input type="checkbox" name="no_conflict_declared" value="true" id="no_conflict_declared" checked[typed("no_conflict_declared") == "true"]; " " (t(l, "application.no_conflict")) }
                (beside("no_conflict_declared", &["no_conflict_declared"]))
                div { button type="submit" id="review-submit" { (t(l, "application.do.review")) } }
            }
        }
    }
}

/// The application's page; after a refused form, `posted` holds what was
/// typed (kept in the form that was posted, see [`flow::posted`]) and
/// `errors` why it was refused.
async fn render_detail(
    state: &AppState,
    viewer: &Viewer,
    id: i64,
    posted: &Values,
    errors: &[FieldError],
) -> PageResult {
    let actor = viewer.require()?;
    let l = viewer.locale;
    let d = state
        .services
        .get_application(actor, id)
        .await
        .map_err(|e| viewer.fail(e))?;
    let workers = state
        .services
        .case_workers(actor, id)
        .await
        .map_err(|e| viewer.fail(e))?;
    let a = &d.application;
    let shanghai = opcity_domain::civil_date::shanghai();
    let body = html! {
        (flow::error_summary(l, "application", "", errors))
        h1 { (title_of(state, l, &a.programme)) " · #" (a.id) }
        p { (application_badge(state, l, a))
            @if let Some(days) = a.waiting_days { " · " (tf(l, "application.waited", [("days", days.to_string().as_str())])) }
            @if let Some(deadline) = a.return_deadline { " · " (tf(l, "application.deadline", [("date", deadline.to_string().as_str())])) } }
        @if let Some(first) = &d.pending_approval {
            p.notice id="second-review" {
                (tf(l, "application.awaiting_second_review", [
                    ("amount", money(first.amount_fen).as_str()),
                    ("reviewer", first.reviewer.as_str()),
                    ("at", first.at.with_timezone(&shanghai).format("%Y-%m-%d %H:%M").to_string().as_str()),
                ]))
            }
        }
        (after::outcome(state, l, &d))
        dl.facts {
            dt { (t(l, "application.approved")) } dd id="approved" { (money(a.approved_fen)) }
            @if let Some(name) = &a.applicant { dt { (t(l, "application.applicant")) } dd id="applicant" { (name) } }
            dt { (t(l, "list.district")) } dd { (a.district.parse().map(|d| forms::district_name(l, d)).unwrap_or(a.district.as_str())) }
        }
        // Materials first, the engine's pre-check under them; the decision
        // beside them on a wide screen (after them on a narrow one), so a
        // reviewer reads what was sent while deciding.
        div.case {
            div.case-materials {
                (evidence(state, viewer, &d, flow::posted(FIELDS_FORM, posted, errors)))
                (thread(viewer, &d, flow::posted(THREAD_FORM, posted, errors)))
                (explanation(l, &d))
            }
            aside.case-decision id="case-decision" {
                (workbench::assignment(viewer, &d, &workers))
                (actions(state, viewer, &d, flow::posted(REVIEW_FORM, posted, errors)))
            }
        }
        (after::delivery(l, &d))
        (after::flags(viewer, &d, flow::posted(after::FLAG_FORM, posted, errors)))
        (reviews(l, &d))
        @if !d.disbursements.is_empty() {
            h2 { (t(l, "application.payments")) }
            table id="payments" {
                thead { tr { th { "#" } th { (t(l, "application.due")) } th.num { (t(l, "application.amount")) } th { (t(l, "application.state_label")) } } }
                tbody { @for p in &d.disbursements {
                    tr data-status=(p.status) { td { (p.seq) } td { (p.due_on) } td.num { (Fen(p.amount_fen)) } td { (t(l, &format!("application.payment.{}", p.status))) } }
                } }
            }
        }
        h2 { (t(l, "application.history")) }
        table id="history" {
            thead { tr { th { (t(l, "audit.at")) } th { (t(l, "application.state_label")) } th { (t(l, "audit.actor")) } th { (t(l, "application.comment")) } } }
            tbody { @for e in &d.history {
                tr { td { (e.at.with_timezone(&shanghai).format("%Y-%m-%d %H:%M")) } td { (t(l, &state_key(&e.to_state, d.delivery.as_ref().map(|v| v.delivery.as_str())))) } td.actor { (actor_label(l, &e.actor, e.actor_name.as_deref())) } td { (e.comment.clone().unwrap_or_default()) } }
            } }
        }
    };
    Ok(page(viewer, &title_of(state, l, &a.programme), body).into_response())
}

async fn detail(State(state): State<AppState>, viewer: Viewer, Path(id): Path<i64>) -> PageResult {
    render_detail(&state, &viewer, id, &Values::new(), &[]).await
}

/// Yuan as typed ("30,000" or "12.5") to fen (`domain::money`'s one parser).
fn yuan_to_fen(text: &str) -> Option<i64> {
    Fen::parse_yuan(text).map(|fen| fen.0)
}

/// The review form as a [`ReviewInput`], or the first field that does not parse.
fn review_input(form: &Values) -> Result<ReviewInput, FieldError> {
    let decision = match form.get("decision").map(String::as_str) {
        Some("approve") => Decision::Approve,
        Some("reject") => Decision::Reject,
        Some("return") => Decision::Return,
        Some("forward") => Decision::Forward,
        _ => return Err(FieldError::new("decision", "required")),
    };
    let amount_fen = match form.get("amount_yuan").filter(|v| !v.trim().is_empty()) {
        Some(text) => {
            Some(yuan_to_fen(text).ok_or_else(|| FieldError::new("amount_yuan", "not_an_amount"))?)
        }
        None => None,
    };
    let mut scores = std::collections::BTreeMap::new();
    for (key, value) in form {
        let Some(criterion) = key.strip_prefix("score.") else {
            continue;
        };
        if value.trim().is_empty() {
            continue;
        }
        let points = value
            .trim()
            .parse()
            .map_err(|_| FieldError::new(format!("scores.{criterion}"), "not_a_number"))?;
        scores.insert(criterion.to_owned(), points);
    }
    Ok(ReviewInput {
        decision,
        amount_fen,
        scores,
        comment: form
            .get("comment")
            .filter(|c| !c.trim().is_empty())
            .cloned(),
        applicant_reason: form
            .get("applicant_reason")
            .filter(|c| !c.trim().is_empty())
            .cloned(),
        no_conflict_declared: form
            .get("no_conflict_declared")
            .is_some_and(|v| v == "true"),
        different_amount_confirmed: form
            .get("different_amount_confirmed")
            .is_some_and(|v| v == "true"),
        return_deadline: form
            .get("return_deadline")
            .filter(|d| !d.is_empty())
            .cloned(),
    })
}

/// The `_form` values of the application page's two forms with fields.
const REVIEW_FORM: &str = "review";
const FIELDS_FORM: &str = "fields";

async fn act(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, action)): Path<(i64, String)>,
    Form(form): Form<Values>,
) -> PageResult {
    let actor = viewer.require()?.clone();
    let (review, parse_errors) = match action.as_str() {
        "review" => match review_input(&form) {
            Ok(input) => (Some(input), Vec::new()),
            Err(e) => (None, vec![e]),
        },
        _ => (None, Vec::new()),
    };
    let comment = form.get("comment").map(String::as_str);
    let s = &state.services;
    flow::post(
        &viewer,
        &form,
        parse_errors,
        async || match (action.as_str(), review) {
            ("submit", _) => s.submit_application(&actor, id).await.map(drop),
            ("accept", _) => s.accept_offer(&actor, id).await.map(drop),
            ("withdraw", _) => s.withdraw_application(&actor, id).await.map(drop),
            ("appeal", _) => s.appeal_application(&actor, id, comment).await.map(drop),
            ("reopen", _) => s.decide_appeal(&actor, id, true, comment).await.map(drop),
            ("dismiss", _) => s.decide_appeal(&actor, id, false, comment).await.map(drop),
            ("claw-back", _) => s.claw_back(&actor, id, comment).await.map(drop),
            ("form", _) => s
                .update_form(&actor, id, &form_changes(&form))
                .await
                .map(drop),
            ("review", Some(input)) => s.review_application(&actor, id, &input).await.map(drop),
            ("assign", _) => s
                .assign_case(&actor, id, &assign_input(&form))
                .await
                .map(drop),
            ("flag-decision", _) => s
                .decide_flag(&actor, id, &after::decision_of(&form))
                .await
                .map(drop),
            ("ask", _) => s
                .ask_applicant(&actor, id, form.get("body").map_or("", String::as_str))
                .await
                .map(drop),
            ("answer", _) => s
                .answer_reviewer(&actor, id, form.get("body").map_or("", String::as_str))
                .await
                .map(drop),
            ("flag-response", _) => s
                .respond_to_flag(&actor, id, form.get("response").map_or("", String::as_str))
                .await
                .map(drop),
            _ => Err(ServiceError::NotFound { entity: "action" }),
        },
        |()| match action.as_str() {
            "submit" => Redirect::to(&format!("/applications/{id}/submitted")).into_response(),
            _ => back_to(id),
        },
        async |errors| render_detail(&state, &viewer, id, &form, &errors).await,
    )
    .await
}

/// Whom a case is given to, and whom the form saw it with (ids; blank is nobody).
fn assign_input(form: &Values) -> AssignInput {
    let id = |name: &str| form.get(name).and_then(|v| v.trim().parse().ok());
    AssignInput {
        assignee: id("assignee"),
        seen: id("seen"),
    }
}

/// The evidence fields as posted (`form.{id}`), by evidence id.
fn form_changes(form: &Values) -> serde_json::Map<String, serde_json::Value> {
    form.iter()
        .filter_map(|(k, v)| Some((k.strip_prefix("form.")?.to_owned(), v.clone().into())))
        .collect()
}

fn back_to(id: i64) -> axum::response::Response {
    Redirect::to(&format!("/applications/{id}")).into_response()
}

/// A document uploaded from the application's page (multipart form).
async fn upload(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    multipart: axum::extract::Multipart,
) -> PageResult {
    let actor = viewer.require()?.clone();
    let limit = state.services.document_limit();
    let again = async |errors: Vec<FieldError>| {
        render_detail(&state, &viewer, id, &Values::new(), &errors).await
    };
    let read = match crate::upload::read_upload(multipart, limit).await {
        Ok(read) => read,
        Err(crate::error::WebError::Service(e)) => return flow::again(&viewer, e, again).await,
        Err(other) => return Err(viewer.fail(other)),
    };
    viewer.check_csrf(read.fields.get("_csrf"))?;
    let outcome = match read.into_upload() {
        Ok(upload) => state.services.upload_document(&actor, id, &upload).await,
        Err(e) => Err(e),
    };
    match outcome {
        Ok(_) => Ok(back_to(id)),
        Err(e) => flow::again(&viewer, e, again).await,
    }
}

async fn budgets(State(state): State<AppState>, viewer: Viewer) -> PageResult {
    render_budgets(&state, &viewer, &Values::new(), &[]).await
}

/// The budgets page; after a refused form, with what was typed and why.
async fn render_budgets(
    state: &AppState,
    viewer: &Viewer,
    posted: &Values,
    errors: &[FieldError],
) -> PageResult {
    let actor = viewer.require()?;
    let l = viewer.locale;
    let rows = state
        .services
        .list_budgets(actor)
        .await
        .map_err(|e| viewer.fail(e))?;
    let year = opcity_domain::today_in_shanghai(state.services.now());
    let typed = |name: &str| posted.get(name).map(String::as_str);
    let beside = |name: &str| forms::messages(l, name, errors.iter().filter(|e| e.field == name));
    let body = html! {
        h1 { (t(l, "nav.budgets")) }
        @if state.services.may_read_policy_drafts(actor) {
            p { a href="/policy-drafts" id="policy-drafts-link" { (t(l, "policy_draft.link")) } }
        }
        (flow::error_summary(l, "budget", "", errors))
        table id="budgets" {
            thead { tr { th { (t(l, "application.programme")) } th { (t(l, "budget.year")) } th { (t(l, "budget.authority")) }
                th.num { (t(l, "budget.total")) } th.num { (t(l, "budget.reserved")) } th.num { (t(l, "budget.spent")) } th.num { (t(l, "budget.remaining")) } } }
            tbody { @for b in &rows {
                tr { td { (title_of(state, l, &b.programme)) } td { (b.year) } td { (b.authority) }
                    td.num { (Fen(b.total_fen)) } td.num { (Fen(b.reserved_fen)) } td.num { (Fen(b.spent_fen)) } td.num { (Fen(b.remaining_fen)) } }
            } }
        }
        @if actor.role == Role::MunicipalAdmin {
            form.stack.card method="post" action="/budgets" id="budget-form" {
                h2 { (t(l, "budget.new")) }
                input type="hidden" name="_csrf" value=(viewer.csrf.clone().unwrap_or_default());
                div.field { label for="programme" { (t(l, "application.programme")) }
                    select id="programme" name="programme" { @for p in state.services.catalogue().programmes {
                        option value=(p.id) selected[typed("programme") == Some(p.id.as_str())] { (if l == Locale::Zh { p.title.zh } else { p.title.en }) } } }
                    (beside("programme")) }
                div.field { label for="year" { (t(l, "budget.year")) }
                    input id="year" name="year" type="number" value=(typed("year").map_or_else(|| chrono::Datelike::year(&year).to_string(), str::to_owned));
                    (beside("year")) }
                div.field { label for="authority" { (t(l, "budget.authority")) }
                    input id="authority" name="authority" type="text" value=(typed("authority").unwrap_or("municipal"));
                    (beside("authority")) }
                div.field { label for="total_yuan" { (t(l, "budget.total_yuan")) }
                    input id="total_yuan" name="total_yuan" type="text" inputmode="decimal" value=(typed("total_yuan").unwrap_or_default());
                    (forms::messages(l, "total_yuan", errors.iter().filter(|e| e.field == "total_yuan" || e.field == "total_fen"))) }
                div { button type="submit" id="budget-submit" { (t(l, "form.save")) } }
            }
        }
        p.hint { (tf(l, "budget.count", [("n", grouped(rows.len() as i64).as_str())])) }
    };
    Ok(page(viewer, t(l, "nav.budgets"), body).into_response())
}

async fn create_budget(
    State(state): State<AppState>,
    viewer: Viewer,
    Form(form): Form<Values>,
) -> PageResult {
    let actor = viewer.require()?.clone();
    let total = form.get("total_yuan").and_then(|v| yuan_to_fen(v));
    let parse_errors = match total {
        Some(_) => Vec::new(),
        None => vec![FieldError::new("total_yuan", "not_a_number")],
    };
    let input = BudgetInput {
        programme: form.get("programme").cloned().unwrap_or_default(),
        year: form.get("year").and_then(|y| y.parse().ok()).unwrap_or(0),
        authority: form.get("authority").cloned().unwrap_or_default(),
        total_fen: total.unwrap_or(0),
    };
    flow::post(
        &viewer,
        &form,
        parse_errors,
        async || state.services.create_budget(&actor, &input).await,
        |_| Redirect::to("/budgets").into_response(),
        async |errors| render_budgets(&state, &viewer, &form, &errors).await,
    )
    .await
}
