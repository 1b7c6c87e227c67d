//! Policy changes in the portal (`services::policy_drafts`) at
//! `/policy-drafts`: the city's administrators draft a change to the pack
//! in force (its figures and conditions, each from a date), simulate it
//! over the registry or a file of cases and read the impact; auditors read
//! them. Every form carries the revision it was drawn from, so an edit made
//! on an older page is refused (`draft_changed`). A simulated draft is
//! submitted (`draft-submit`) and then published or sent back with a note
//! (`draft-publish`, `draft-send-back`) by another administrator, who alone
//! is offered those forms. Ids: the list
//! `policy-drafts`, the forms `draft-new`, `draft-details`,
//! `draft-parameter`, `draft-condition`, `draft-simulate`, `draft-withdraw`
//! (controls `f-NAME`), the changes table `draft-changes` with each remove
//! button `remove-ID`, the impact `draft-impact`, the notice `draft-done`.

mod impact;

use super::flow::{self, Posted};
use super::forms::{self, Values};
use super::layout::page;
use super::{PageError, PageResult};
use crate::AppState;
use crate::extract::Viewer;
use crate::i18n::{Locale, t, tf};
use axum::Router;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use maud::{Markup, html};
use opcity_domain::Fen;
use opcity_services::policy_drafts::{
    ChangeInput, ChangeView, DraftInput, DraftView, MAX_FILE_BYTES, Population,
};
use opcity_services::{Actor, FieldError, Services};
use std::collections::HashMap;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/policy-drafts", get(list).post(create))
        .route("/policy-drafts/{id}", get(show))
        .route("/policy-drafts/{id}/details", post(update))
        .route("/policy-drafts/{id}/changes", post(add_change))
        .route(
            "/policy-drafts/{id}/changes/{change_id}/remove",
            post(remove_change),
        )
        .route("/policy-drafts/{id}/withdraw", post(withdraw))
        .route("/policy-drafts/{id}/submit", post(submit))
        .route("/policy-drafts/{id}/send-back", post(send_back))
        .route("/policy-drafts/{id}/publish", post(publish))
        .route(
            "/policy-drafts/{id}/simulate",
            post(simulate).layer(axum::extract::DefaultBodyLimit::max(
                crate::upload::body_limit(MAX_FILE_BYTES),
            )),
        )
}

const DONE: [&str; 9] = [
    "created",
    "saved",
    "added",
    "removed",
    "simulated",
    "withdrawn",
    "submitted",
    "sent_back",
    "published",
];

fn csrf(viewer: &Viewer) -> Markup {
    html! { input type="hidden" name="_csrf" value=(viewer.csrf.clone().unwrap_or_default()); }
}

/// A form's typed value and the messages beside a field.
struct FormState<'a> {
    l: Locale,
    sent: Option<&'a Values>,
    errors: &'a [FieldError],
}

impl FormState<'_> {
    fn value(&self, name: &str) -> String {
        self.sent
            .and_then(|v| v.get(name))
            .cloned()
            .unwrap_or_default()
    }

    fn beside(&self, names: &[&str], id: &str) -> Markup {
        let own = self
            .errors
            .iter()
            .filter(|e| names.contains(&e.field.as_str()));
        forms::messages(self.l, id, own)
    }

    /// Messages about no one field (a conflict), at the top of the form.
    fn general(&self) -> Markup {
        forms::messages(
            self.l,
            "form",
            self.errors.iter().filter(|e| e.field.is_empty()),
        )
    }
}

fn details_fields(f: &FormState, defaults: Option<&DraftView>) -> Markup {
    let l = f.l;
    let value = |name: &str, default: Option<&str>| match (f.sent, default) {
        (None, Some(d)) => d.to_owned(),
        _ => f.value(name),
    };
    html! {
        div.field {
            label for="f-title" { (t(l, "policy_draft.field_title")) " *" }
            input id="f-title" name="title" type="text" required value=(value("title", defaults.map(|d| d.title.as_str())));
            (f.beside(&["title"], "f-title"))
        }
        div.field {
            label for="f-reason" { (t(l, "policy_draft.reason")) " *" }
            textarea id="f-reason" name="reason" rows="3" required { (value("reason", defaults.map(|d| d.reason.as_str()))) }
            (f.beside(&["reason"], "f-reason"))
        }
        div.field {
            label for="f-source_document" { (t(l, "policy_draft.source_document")) " *" }
            p.hint id="source-hint" { (t(l, "policy_draft.source_document_hint")) }
            input id="f-source_document" name="source_document" type="text" required aria-describedby="source-hint"
                value=(value("source_document", defaults.map(|d| d.source_document.as_str())));
            (f.beside(&["source_document"], "f-source_document"))
        }
    }
}

fn draft_input(form: &Values) -> DraftInput {
    DraftInput {
        title: forms::text(form, "title"),
        reason: forms::text(form, "reason"),
        source_document: forms::text(form, "source_document"),
    }
}

fn status_label(l: Locale, status: &str) -> &'static str {
    t(l, &format!("policy_draft.status_{status}"))
}

async fn render_list(
    state: &AppState,
    viewer: &Viewer,
    typed: &Values,
    errors: &[FieldError],
) -> PageResult {
    let actor = viewer.require()?;
    let l = viewer.locale;
    let drafts = state
        .services
        .policy_drafts(actor)
        .await
        .map_err(|e| viewer.fail(e))?;
    let shanghai = opcity_domain::civil_date::shanghai();
    let (sent, errors) = flow::posted("draft-new", typed, errors);
    let f = FormState { l, sent, errors };
    let body = html! {
        (flow::error_summary(l, "policy_draft", "f-", errors))
        h1 { (t(l, "policy_draft.title")) }
        p { (t(l, "policy_draft.lead")) }
        @if drafts.is_empty() { p.hint id="policy-drafts" { (t(l, "policy_draft.none")) } }
        @else {
            div.table-wrap { table id="policy-drafts" {
                (forms::table_head(l, &["policy_draft.field_title", "policy_draft.status_draft", "policy_draft.changes_count",
                    "policy_draft.impact", "policy_draft.created_by", "policy_draft.updated_at"]))
                tbody { @for d in &drafts {
                    tr data-draft=(d.id) {
                        td { a href={ "/policy-drafts/" (d.id) } { (d.title) } }
                        td { (status_label(l, &d.status)) }
                        td.num { (d.changes) }
                        td { (t(l, if d.impact_current { "policy_draft.impact_current" } else { "policy_draft.impact_none" })) }
                        td { (d.created_by) }
                        td { (d.updated_at.with_timezone(&shanghai).format("%Y-%m-%d %H:%M")) }
                    }
                } }
            } }
        }
        @if state.services.may_draft_policy(actor) {
            section.card aria-labelledby="new-title" {
                h2 id="new-title" { (t(l, "policy_draft.new")) }
                p.hint { (t(l, "policy_draft.new_hint")) }
                form.stack method="post" action="/policy-drafts" id="draft-new" novalidate {
                    (csrf(viewer))
                    input type="hidden" name=(flow::FORM_ID) value="draft-new";
                    (f.general())
                    (details_fields(&f, None))
                    button type="submit" id="draft-create" { (t(l, "policy_draft.create")) }
                }
            }
        }
    };
    Ok(page(viewer, t(l, "policy_draft.title"), body).into_response())
}

async fn list(State(state): State<AppState>, viewer: Viewer) -> PageResult {
    render_list(&state, &viewer, &Values::new(), &[]).await
}

async fn create(p: Posted) -> PageResult {
    let (state, viewer, form) = p.parts();
    let actor = viewer.require()?.clone();
    let input = draft_input(form);
    flow::post(
        viewer,
        form,
        Vec::new(),
        async || state.services.create_policy_draft(&actor, &input).await,
        |d| Redirect::to(&format!("/policy-drafts/{}?done=created", d.id)).into_response(),
        async |errors| render_list(state, viewer, form, &errors).await,
    )
    .await
}

/// How a parameter's value reads: yuan for money, else the number and its
/// unit.
fn value_text(l: Locale, unit: Option<&str>, value: Option<i64>) -> String {
    match (unit, value) {
        (_, None) => t(l, "policy_draft.unset").to_owned(),
        (Some("fen"), Some(v)) => Fen(v).to_string(),
        (Some(unit), Some(v)) => format!("{v} {}", t(l, &format!("policy_draft.unit_{unit}"))),
        (None, Some(v)) => v.to_string(),
    }
}

fn change_row(viewer: &Viewer, draft: &DraftView, c: &ChangeView, open: bool) -> Markup {
    let l = viewer.locale;
    let what = match (&c.parameter, &c.programme) {
        (Some(p), _) => c
            .description
            .as_ref()
            .map_or_else(|| p.clone(), |d| impact::name(l, d).to_owned()),
        (_, Some(p)) => format!(
            "{} · {}",
            c.programme_title
                .as_ref()
                .map_or(p.as_str(), |t| impact::name(l, t)),
            c.condition.clone().unwrap_or_default()
        ),
        _ => String::new(),
    };
    let (before, after) = if c.kind == "parameter" {
        (
            value_text(l, c.unit.as_deref(), c.value_before),
            value_text(l, c.unit.as_deref(), c.value),
        )
    } else {
        let text = |e: &Option<String>| match e.as_deref() {
            Some("true") => t(l, "policy_draft.waived").to_owned(),
            other => other.unwrap_or_default().to_owned(),
        };
        (text(&c.expression_before), text(&c.expression))
    };
    html! {
        tr data-change=(c.id) {
            td { (what) br; span.hint { (c.parameter.as_deref().or(c.programme.as_deref()).unwrap_or_default()) } }
            td { (c.effective_from) }
            td { code { (before) } }
            td { code { (after) } }
            @if open {
                td {
                    form.inline method="post" action={ "/policy-drafts/" (draft.id) "/changes/" (c.id) "/remove" } {
                        (csrf(viewer))
                        input type="hidden" name="revision" value=(draft.revision);
                        button.secondary type="submit" id={ "remove-" (c.id) }
                            aria-label=(tf(l, "policy_draft.remove_label", [("what", what.as_str())])) { (t(l, "policy_draft.remove")) }
                    }
                }
            }
        }
    }
}

fn revision_field(draft: &DraftView) -> Markup {
    html! { input type="hidden" name="revision" value=(draft.revision); }
}

fn parameter_form(state: &AppState, viewer: &Viewer, draft: &DraftView, f: &FormState) -> Markup {
    let l = viewer.locale;
    let pack = state.services.pack();
    let chosen = f.value("parameter");
    let today = opcity_domain::today_in_shanghai(state.services.now()).to_string();
    let date = Some(f.value("effective_from"))
        .filter(|d| !d.is_empty())
        .unwrap_or(today);
    html! {
        section.card aria-labelledby="parameter-title" {
            h3 id="parameter-title" { (t(l, "policy_draft.add_parameter")) }
            p.hint { (t(l, "policy_draft.add_parameter_hint")) }
            form.stack method="post" action={ "/policy-drafts/" (draft.id) "/changes" } id="draft-parameter" novalidate {
                (csrf(viewer)) (revision_field(draft))
                input type="hidden" name=(flow::FORM_ID) value="draft-parameter";
                input type="hidden" name="kind" value="parameter";
                (f.general())
                div.field {
                    label for="f-parameter" { (t(l, "policy_draft.parameter")) " *" }
                    select id="f-parameter" name="parameter" {
                        option value="" selected[chosen.is_empty()] { (t(l, "form.choose")) }
                        @for p in pack.parameters() {
                            @let now = p.value_at(opcity_domain::today_in_shanghai(state.services.now())).and_then(|v| v.value);
                            option value=(p.name) selected[chosen == p.name] {
                                (match l { Locale::Zh => &p.description.zh, Locale::En => &p.description.en })
                                " (" (value_text(l, Some(p.unit.name()), now)) ")"
                            }
                        }
                    }
                    (f.beside(&["parameter"], "f-parameter"))
                }
                div.field {
                    label for="f-value" { (t(l, "policy_draft.value")) }
                    input id="f-value" name="value" type="text" inputmode="decimal" value=(f.value("value"));
                    (f.beside(&["value"], "f-value"))
                    label { input type="checkbox" name="unset" value="true" id="f-unset" checked[f.value("unset") == "true"]; " " (t(l, "policy_draft.unset_label")) }
                }
                div.field {
                    label for="f-effective_from" { (t(l, "policy_draft.effective_from")) " *" }
                    input id="f-effective_from" name="effective_from" type="date" required value=(date);
                    (f.beside(&["effective_from"], "f-effective_from"))
                }
                button type="submit" id="parameter-submit" { (t(l, "policy_draft.add_change")) }
            }
        }
    }
}

fn condition_form(state: &AppState, viewer: &Viewer, draft: &DraftView, f: &FormState) -> Markup {
    let l = viewer.locale;
    let pack = state.services.pack();
    let chosen = f.value("target");
    let today = opcity_domain::today_in_shanghai(state.services.now()).to_string();
    let date = Some(f.value("effective_from"))
        .filter(|d| !d.is_empty())
        .unwrap_or(today);
    html! {
        section.card aria-labelledby="condition-title" {
            h3 id="condition-title" { (t(l, "policy_draft.add_condition")) }
            p.hint { (t(l, "policy_draft.add_condition_hint")) }
            form.stack method="post" action={ "/policy-drafts/" (draft.id) "/changes" } id="draft-condition" novalidate {
                (csrf(viewer)) (revision_field(draft))
                input type="hidden" name=(flow::FORM_ID) value="draft-condition";
                input type="hidden" name="kind" value="condition";
                (f.general())
                div.field {
                    label for="f-target" { (t(l, "policy_draft.condition")) " *" }
                    select id="f-target" name="target" {
                        option value="" selected[chosen.is_empty()] { (t(l, "form.choose")) }
                        @for p in pack.programmes() {
                            optgroup label=(match l { Locale::Zh => &p.title.zh, Locale::En => &p.title.en }) {
                                @for (name, when) in p.written_conditions() {
                                    @let value = format!("{}:{name}", p.id);
                                    option value=(value) selected[chosen == value] { (name) ": " (when) }
                                }
                            }
                        }
                    }
                    (f.beside(&["programme", "condition"], "f-target"))
                }
                div.field {
                    label for="f-expression" { (t(l, "policy_draft.expression")) " *" }
                    textarea id="f-expression" name="expression" rows="2" { (f.value("expression")) }
                    (f.beside(&["expression"], "f-expression"))
                }
                div.field {
                    label for="f-effective_from-c" { (t(l, "policy_draft.effective_from")) " *" }
                    input id="f-effective_from-c" name="effective_from" type="date" required value=(date);
                    (f.beside(&["effective_from"], "f-effective_from-c"))
                }
                button type="submit" id="condition-submit" { (t(l, "policy_draft.add_change")) }
            }
        }
    }
}

fn simulate_form(viewer: &Viewer, draft: &DraftView, f: &FormState) -> Markup {
    let l = viewer.locale;
    let chosen = f.value("population");
    let file = chosen == "file";
    html! {
        section.card aria-labelledby="simulate-title" {
            h2 id="simulate-title" { (t(l, "policy_draft.simulate")) }
            p.hint { (t(l, "policy_draft.simulate_hint")) }
            form.stack method="post" action={ "/policy-drafts/" (draft.id) "/simulate" } id="draft-simulate" enctype="multipart/form-data" novalidate {
                (csrf(viewer)) (revision_field(draft))
                input type="hidden" name=(flow::FORM_ID) value="draft-simulate";
                (f.general())
                fieldset {
                    legend { (t(l, "policy_draft.population")) }
                    label { input type="radio" name="population" value="registry" id="f-population" checked[!file]; " " (t(l, "policy_draft.population_registry")) }
                    label { input type="radio" name="population" value="file" id="f-population-file" checked[file]; " " (t(l, "policy_draft.population_file")) }
                }
                div.field {
                    label for="f-file" { (t(l, "policy_draft.file")) }
                    input id="f-file" name="file" type="file" accept=".jsonl,.ndjson,application/x-ndjson,text/plain";
                    (f.beside(&["file"], "f-file"))
                }
                button type="submit" id="simulate-submit" { (t(l, "policy_draft.run")) }
            }
        }
    }
}

async fn render_draft(
    state: &AppState,
    viewer: &Viewer,
    id: i64,
    typed: &Values,
    errors: &[FieldError],
    done: Option<&str>,
) -> PageResult {
    let actor = viewer.require()?;
    let l = viewer.locale;
    let draft = state
        .services
        .policy_draft(actor, id)
        .await
        .map_err(|e| viewer.fail(e))?;
    let open = draft.status == "draft" && state.services.may_draft_policy(actor);
    let form = |form_id: &'static str| {
        let (sent, errors) = flow::posted(form_id, typed, errors);
        FormState { l, sent, errors }
    };
    let revision = draft.revision.to_string();
    let body = html! {
        (flow::error_summary(l, "policy_draft", "f-", errors))
        p { a href="/policy-drafts" { "← " (t(l, "policy_draft.back")) } }
        h1 { (draft.title) }
        p { span.badge { (status_label(l, &draft.status)) } " " (tf(l, "policy_draft.revision", [("n", revision.as_str())])) }
        @if let Some(done) = done { p.notice.success role="status" id="draft-done" { (t(l, &format!("policy_draft.done_{done}"))) } }
        section.card aria-labelledby="details-title" {
            h2 id="details-title" { (t(l, "policy_draft.details")) }
            @if open {
                @let f = form("draft-details");
                form.stack method="post" action={ "/policy-drafts/" (draft.id) "/details" } id="draft-details" novalidate {
                    (csrf(viewer)) (revision_field(&draft))
                    input type="hidden" name=(flow::FORM_ID) value="draft-details";
                    (f.general())
                    (details_fields(&f, Some(&draft)))
                    button type="submit" id="details-submit" { (t(l, "policy_draft.save_details")) }
                }
            } @else {
                dl.facts {
                    dt { (t(l, "policy_draft.reason")) } dd { (draft.reason) }
                    dt { (t(l, "policy_draft.source_document")) } dd { (draft.source_document) }
                    dt { (t(l, "policy_draft.created_by")) } dd { (draft.created_by) }
                }
            }
        }
        section.card aria-labelledby="changes-title" {
            h2 id="changes-title" { (t(l, "policy_draft.changes")) }
            @if draft.changes.is_empty() { p.hint id="draft-changes" { (t(l, "policy_draft.no_changes")) } }
            @else {
                div.table-wrap { table id="draft-changes" {
                    thead { tr {
                        th { (t(l, "policy_draft.change_what")) } th { (t(l, "policy_draft.change_from")) }
                        th { (t(l, "policy_draft.change_before")) } th { (t(l, "policy_draft.change_after")) }
                        @if open { th { span.visually-hidden { (t(l, "policy_draft.remove")) } } }
                    } }
                    tbody { @for c in &draft.changes { (change_row(viewer, &draft, c, open)) } }
                } }
            }
            @if open {
                (parameter_form(state, viewer, &draft, &form("draft-parameter")))
                (condition_form(state, viewer, &draft, &form("draft-condition")))
            }
        }
        @if open { (simulate_form(viewer, &draft, &form("draft-simulate"))) }
        @if let Some(impact) = &draft.impact { (impact::section(l, &draft, impact)) }
        (decision_section(viewer, &draft, open, &form("draft-send-back")))
        @if open {
            section.card aria-labelledby="withdraw-title" {
                h2 id="withdraw-title" { (t(l, "policy_draft.withdraw")) }
                p.hint { (t(l, "policy_draft.withdraw_hint")) }
                form method="post" action={ "/policy-drafts/" (draft.id) "/withdraw" } id="draft-withdraw" {
                    (csrf(viewer)) (revision_field(&draft))
                    input type="hidden" name=(flow::FORM_ID) value="draft-withdraw";
                    (form("draft-withdraw").general())
                    button.secondary type="submit" id="withdraw-submit" { (t(l, "policy_draft.withdraw")) }
                }
            }
        }
    };
    Ok(page(viewer, &draft.title, body).into_response())
}

/// Where the draft stands on its way to publication, and the forms the
/// viewer may use: submit (the author's side), publish or send back (a
/// second administrator's).
fn decision_section(viewer: &Viewer, draft: &DraftView, open: bool, f: &FormState) -> Markup {
    let l = viewer.locale;
    let submittable = open && draft.impact_current;
    let post = |action: &str| format!("/policy-drafts/{}/{action}", draft.id);
    let shown = open
        || draft.may_decide
        || (draft.status != "withdrawn"
            && (draft.submitted_by.is_some() || draft.decision_note.is_some()));
    html! {
        @if shown {
            section.card aria-labelledby="publication-title" id="draft-publication" {
                h2 id="publication-title" { (t(l, "policy_draft.publication")) }
                @if let Some(by) = &draft.submitted_by {
                    p { (tf(l, "policy_draft.submitted_by", [("name", by.as_str())])) }
                }
                @if let (Some(by), Some(note)) = (&draft.decided_by, &draft.decision_note) {
                    p.notice.warning id="sent-back-note" { (tf(l, "policy_draft.sent_back_by", [("name", by.as_str())])) " " (note) }
                }
                @if draft.status == "published" {
                    p.notice.success { (tf(l, "policy_draft.published_by", [("name", draft.decided_by.as_deref().unwrap_or_default())])) }
                }
                @if submittable {
                    p.hint { (t(l, "policy_draft.submit_hint")) }
                    form method="post" action=(post("submit")) id="draft-submit" {
                        (csrf(viewer)) (revision_field(draft))
                        button type="submit" id="submit-submit" { (t(l, "policy_draft.submit")) }
                    }
                } @else if open {
                    p.hint { (t(l, "policy_draft.simulate_first")) }
                }
                @if draft.may_decide {
                    p.hint { (t(l, "policy_draft.decide_hint")) }
                    form method="post" action=(post("publish")) id="draft-publish" {
                        (csrf(viewer)) (revision_field(draft))
                        button type="submit" id="publish-submit" { (t(l, "policy_draft.publish")) }
                    }
                    form.stack method="post" action=(post("send-back")) id="draft-send-back" novalidate {
                        (csrf(viewer)) (revision_field(draft))
                        input type="hidden" name=(flow::FORM_ID) value="draft-send-back";
                        (f.general())
                        div.field {
                            label for="f-note" { (t(l, "policy_draft.note")) " *" }
                            textarea id="f-note" name="note" rows="2" { (f.value("note")) }
                            (f.beside(&["note"], "f-note"))
                        }
                        button.secondary type="submit" id="send-back-submit" { (t(l, "policy_draft.send_back")) }
                    }
                }
            }
        }
    }
}

async fn show(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    let done = q
        .get("done")
        .map(String::as_str)
        .filter(|d| DONE.contains(d));
    render_draft(&state, &viewer, id, &Values::new(), &[], done).await
}

/// The revision a form was drawn from; a form without one was not drawn by
/// this page.
fn revision(viewer: &Viewer, form: &Values) -> Result<i32, PageError> {
    form.get("revision")
        .and_then(|r| r.parse().ok())
        .ok_or_else(|| {
            viewer.fail(opcity_services::ServiceError::invalid(
                "revision", "required",
            ))
        })
}

fn done(id: i64, what: &str) -> axum::response::Response {
    Redirect::to(&format!("/policy-drafts/{id}?done={what}")).into_response()
}

/// Answers a form posted on draft `id`: `run` with the revision the form
/// was drawn from, then the draft again (`?done=what`), or the page with the
/// refusal beside the form that was posted.
async fn edit<T>(
    p: &Posted,
    id: i64,
    (what, parse_errors): (&str, Vec<FieldError>),
    run: impl AsyncFnOnce(&Services, &Actor, i32) -> opcity_services::Result<T>,
) -> PageResult {
    let (state, viewer, form) = p.parts();
    let actor = viewer.require()?.clone();
    let revision = revision(viewer, form)?;
    flow::post(
        viewer,
        form,
        parse_errors,
        async || run(&state.services, &actor, revision).await,
        |_| done(id, what),
        async |errors| render_draft(state, viewer, id, form, &errors, None).await,
    )
    .await
}

async fn update(Path(id): Path<i64>, p: Posted) -> PageResult {
    let input = draft_input(&p.form);
    edit(&p, id, ("saved", Vec::new()), async |s, a, r| {
        s.update_policy_draft(a, id, r, &input).await
    })
    .await
}

/// The change a form describes: the value in the parameter's unit (yuan
/// typed for money), or the programme and condition picked.
fn change_input(state: &AppState, form: &Values, errors: &mut Vec<FieldError>) -> ChangeInput {
    let kind = forms::text(form, "kind");
    let mut input = ChangeInput {
        effective_from: forms::text(form, "effective_from"),
        unset: form.get("unset").is_some_and(|v| v == "true"),
        ..Default::default()
    };
    if kind == "parameter" {
        let name = forms::text(form, "parameter");
        let unit = state
            .services
            .pack()
            .parameter(&name)
            .map(|p| p.unit.name());
        input.value = match unit {
            Some("fen") => forms::yuan(form, "value", false, errors),
            _ => forms::number(form, "value", errors),
        };
        input.parameter = Some(name);
    } else {
        let target = forms::text(form, "target");
        let (programme, condition) = target.split_once(':').unwrap_or((target.as_str(), ""));
        input.programme = Some(programme.to_owned());
        input.condition = Some(condition.to_owned());
        input.expression = Some(forms::text(form, "expression"));
    }
    input.kind = kind;
    input
}

async fn add_change(Path(id): Path<i64>, p: Posted) -> PageResult {
    let mut parse_errors = Vec::new();
    let input = change_input(&p.state, &p.form, &mut parse_errors);
    edit(&p, id, ("added", parse_errors), async |s, a, r| {
        s.add_policy_draft_change(a, id, r, &input).await
    })
    .await
}

async fn remove_change(Path((id, change_id)): Path<(i64, i64)>, p: Posted) -> PageResult {
    edit(&p, id, ("removed", Vec::new()), async |s, a, r| {
        s.remove_policy_draft_change(a, id, r, change_id).await
    })
    .await
}

async fn withdraw(Path(id): Path<i64>, p: Posted) -> PageResult {
    edit(&p, id, ("withdrawn", Vec::new()), async |s, a, r| {
        s.withdraw_policy_draft(a, id, r).await
    })
    .await
}

async fn submit(Path(id): Path<i64>, p: Posted) -> PageResult {
    edit(&p, id, ("submitted", Vec::new()), async |s, a, r| {
        s.submit_policy_draft(a, id, r).await
    })
    .await
}

async fn send_back(Path(id): Path<i64>, p: Posted) -> PageResult {
    let note = forms::text(&p.form, "note");
    edit(&p, id, ("sent_back", Vec::new()), async |s, a, r| {
        s.send_back_policy_draft(a, id, r, &note).await
    })
    .await
}

async fn publish(Path(id): Path<i64>, p: Posted) -> PageResult {
    edit(&p, id, ("published", Vec::new()), async |s, a, r| {
        s.publish_policy_draft(a, id, r).await
    })
    .await
}

async fn simulate(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    multipart: Multipart,
) -> PageResult {
    let actor = viewer.require()?.clone();
    let refused = |fields: HashMap<String, String>, errors: Vec<FieldError>| {
        let state = state.clone();
        let viewer = viewer.clone();
        async move {
            let mut typed: Values = fields;
            typed.insert(flow::FORM_ID.into(), "draft-simulate".into());
            let page = render_draft(&state, &viewer, id, &typed, &errors, None).await?;
            Ok::<_, PageError>((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
    };
    let read = match crate::upload::read_upload(multipart, MAX_FILE_BYTES).await {
        Ok(read) => read,
        Err(crate::error::WebError::Service(opcity_services::ServiceError::Validation(errors))) => {
            return refused(HashMap::new(), errors).await;
        }
        Err(other) => return Err(viewer.fail(other)),
    };
    viewer.check_csrf(read.fields.get("_csrf"))?;
    let revision = revision(&viewer, &read.fields)?;
    let population = match read.fields.get("population").map(String::as_str) {
        Some("file") => match read.file.clone().filter(|(_, c)| !c.is_empty()) {
            Some((name, content)) => Population::File {
                name,
                bytes: content.to_vec(),
            },
            None => return refused(read.fields, vec![FieldError::new("file", "required")]).await,
        },
        _ => Population::Registry,
    };
    match state
        .services
        .simulate_policy_draft(&actor, id, revision, population)
        .await
    {
        Ok(_) => Ok(done(id, "simulated")),
        Err(err) => {
            let (status, errors) = flow::refusal(&viewer, err)?;
            let mut page = refused(read.fields, errors).await?;
            *page.status_mut() = status;
            Ok(page)
        }
    }
}
