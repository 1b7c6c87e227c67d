//! The conflict-of-interest register (`services::interests`) at
//! `/interests`: a reviewer declares the enterprises and persons they are
//! tied to and withdraws a declaration; administrators and auditors read the
//! whole register. Ids: the form `interest-form` (controls `f-NAME`), the
//! table `interests`, each withdraw button `withdraw-ID`, the notice
//! `interest-done`.

use super::forms::{self, Values};
use super::layout::page;
use super::{PageResult, flow};
use crate::AppState;
use crate::extract::Viewer;
use crate::i18n::{t, tf};
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use maud::{Markup, html};
use opcity_services::FieldError;
use opcity_services::interests::{InterestInput, RELATIONS};
use std::collections::HashMap;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/interests", get(list).post(declare))
        .route("/interests/{id}/withdraw", post(withdraw))
}

const FORM: &str = "interest-form";

fn declare_form(
    viewer: &Viewer,
    suggestions: &[(String, String)],
    (sent, errors): (Option<&Values>, &[FieldError]),
) -> Markup {
    let l = viewer.locale;
    let value = |name: &str| sent.and_then(|v| v.get(name)).cloned().unwrap_or_default();
    let beside = |name: &str| {
        let own: Vec<&FieldError> = errors.iter().filter(|e| e.field == name).collect();
        forms::messages(l, &format!("f-{name}"), own)
    };
    let kind = value("kind");
    let relation = value("relation");
    html! {
        section.card {
            h2 { (t(l, "interests.declare")) }
            p.hint { (t(l, "interests.declare_hint")) }
            form.stack method="post" action="/interests" id=(FORM) novalidate {
                input type="hidden" name="_csrf" value=(viewer.csrf.clone().unwrap_or_default());
                input type="hidden" name=(flow::FORM_ID) value=(FORM);
                div.field {
                    label for="f-kind" { (t(l, "interests.kind")) " *" }
                    select id="f-kind" name="kind" {
                        @for k in ["enterprise", "person"] {
                            option value=(k) selected[kind == k] { (t(l, &format!("interests.kind_{k}"))) }
                        }
                    }
                    (beside("kind"))
                }
                div.field {
                    label for="f-party" { (t(l, "interests.party")) " *" }
                    (forms::search(l, ("party", "f-party", &value("party")), true, suggestions))
                    (beside("party"))
                }
                div.field {
                    label for="f-relation" { (t(l, "interests.relation")) " *" }
                    select id="f-relation" name="relation" {
                        option value="" selected[relation.is_empty()] { (t(l, "form.choose")) }
                        @for r in RELATIONS {
                            option value=(r) selected[relation == r] { (t(l, &format!("interests.relation_{r}"))) }
                        }
                    }
                    (beside("relation"))
                }
                div.field {
                    label for="f-note" { (t(l, "interests.note")) }
                    textarea id="f-note" name="note" rows="2" { (value("note")) }
                    (beside("note"))
                }
                button type="submit" id="interest-submit" { (t(l, "interests.submit")) }
            }
        }
    }
}

async fn render(
    state: &AppState,
    viewer: &Viewer,
    typed: &Values,
    errors: &[FieldError],
    done: Option<&str>,
) -> PageResult {
    let actor = viewer.require()?;
    let l = viewer.locale;
    let register = state
        .services
        .interest_register(actor)
        .await
        .map_err(|e| viewer.fail(e))?;
    let declares = state.services.may_declare_interests(actor);
    let suggestions: Vec<(String, String)> = if declares {
        let found = state.services.enterprise_suggestions(actor).await;
        found
            .map_err(|e| viewer.fail(e))?
            .into_iter()
            .map(|s| (s.id.to_string(), s.value))
            .collect()
    } else {
        Vec::new()
    };
    let shanghai = opcity_domain::civil_date::shanghai();
    let body = html! {
        (flow::error_summary(l, "interests", "f-", errors))
        h1 { (t(l, "interests.title")) }
        p { (t(l, "interests.lead")) }
        @if let Some(done) = done { p.notice.success role="status" id="interest-done" { (t(l, &format!("interests.done_{done}"))) } }
        @if declares { (declare_form(viewer, &suggestions, flow::posted(FORM, typed, errors))) }
        @if register.is_empty() { p.hint id="interests" { (t(l, "interests.none")) } }
        @else {
            div.table-wrap { table id="interests" {
                (forms::table_head(l, &["interests.reviewer", "interests.party", "interests.relation", "interests.note", "interests.declared_at", "interests.state"]))
                tbody { @for i in &register {
                    tr data-interest=(i.id) data-withdrawn=(i.withdrawn_at.is_some()) {
                        td { (i.reviewer) }
                        td { (i.party_name) " " span.hint { "(" (t(l, &format!("interests.kind_{}", i.kind))) " · #" (i.party_id) ")" } }
                        td { (t(l, &format!("interests.relation_{}", i.relation))) }
                        td { (i.note) }
                        td { (i.declared_at.with_timezone(&shanghai).format("%Y-%m-%d %H:%M")) }
                        td {
                            @match i.withdrawn_at {
                                Some(at) => span.badge.state-closed { (tf(l, "interests.withdrawn_on", [("date", at.with_timezone(&shanghai).format("%Y-%m-%d").to_string().as_str())])) },
                                None if declares && actor_owns(viewer, i.reviewer_id) => form.inline method="post" action={ "/interests/" (i.id) "/withdraw" } {
                                    input type="hidden" name="_csrf" value=(viewer.csrf.clone().unwrap_or_default());
                                    button.secondary type="submit" id={ "withdraw-" (i.id) } { (t(l, "interests.withdraw")) }
                                },
                                None => span.badge.state-approved { (t(l, "interests.active")) },
                            }
                        }
                    }
                } }
            } }
        }
    };
    Ok(page(viewer, t(l, "interests.title"), body).into_response())
}

fn actor_owns(viewer: &Viewer, reviewer_id: i64) -> bool {
    viewer
        .actor
        .as_ref()
        .is_some_and(|a| a.account_id == reviewer_id)
}

async fn list(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    let done = q
        .get("done")
        .map(String::as_str)
        .filter(|d| ["declared", "withdrawn"].contains(d));
    render(&state, &viewer, &Values::new(), &[], done).await
}

async fn declare(
    State(state): State<AppState>,
    viewer: Viewer,
    Form(form): Form<Values>,
) -> PageResult {
    let actor = viewer.require()?.clone();
    let input = InterestInput {
        kind: forms::text(&form, "kind"),
        party: forms::text(&form, "party"),
        relation: forms::text(&form, "relation"),
        note: forms::text(&form, "note"),
    };
    flow::post(
        &viewer,
        &form,
        Vec::new(),
        async || state.services.declare_interest(&actor, &input).await,
        |_| Redirect::to("/interests?done=declared").into_response(),
        async |errors| render(&state, &viewer, &form, &errors, None).await,
    )
    .await
}

async fn withdraw(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(form): Form<Values>,
) -> PageResult {
    let actor = viewer.require()?.clone();
    flow::post(
        &viewer,
        &form,
        Vec::new(),
        async || state.services.withdraw_interest(&actor, id).await,
        |()| Redirect::to("/interests?done=withdrawn").into_response(),
        async |errors| render(&state, &viewer, &Values::new(), &errors, None).await,
    )
    .await
}
