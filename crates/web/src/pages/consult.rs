//! The consultation page: ask a question in plain words, get the plan's
//! clauses quoted with their ids, or an abstention with a human adviser. A
//! GET form (bookmarkable, no JavaScript). A signed-in founder also sees the
//! engine's results for the cited programmes: the engine decides, the text
//! never does.

use super::PageResult;
use super::layout::page;
use super::selfcheck::{region_field, result_card};
use crate::AppState;
use crate::error::field_message;
use crate::extract::Viewer;
use crate::i18n::{Locale, t, tf};
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing;
use maud::{Markup, html};
use opcity_services::consult::{ConsultView, Lang};
use opcity_services::policy::ProgrammeInfo;
use opcity_services::{FieldError, ServiceError};
use std::collections::HashMap;

pub fn routes() -> Router<AppState> {
    Router::new().route("/consult", routing::get(consult))
}

#[derive(Debug, Default, serde::Deserialize)]
struct Params {
    q: Option<String>,
    region: Option<String>,
}

fn form(l: Locale, question: &str, error: Option<&FieldError>, region: Markup) -> Markup {
    html! {
        form.card method="get" action="/consult" id="consult-form" {
            div.field.invalid[error.is_some()] {
                label for="q" { (t(l, "consult.question")) }
                p.hint id="q-hint" { (t(l, "consult.hint")) }
                textarea id="q" name="q" rows="3" maxlength="500" required
                    aria-describedby={ "q-hint" @if error.is_some() { " q-error" } }
                    aria-invalid=[error.map(|_| "true")] { (question) }
                @if let Some(e) = error {
                    div.error id="q-error" role="alert" { (field_message(l, e)) }
                }
            }
            (region)
            div.actions { button type="submit" id="ask" { (t(l, "consult.submit")) } }
        }
    }
}

fn answer(l: Locale, view: &ConsultView, titles: &HashMap<&str, &ProgrammeInfo>) -> Markup {
    html! {
        section #answer aria-live="polite" {
            @if view.abstained {
                div.notice role="status" id="abstained" {
                    p { (view.answer) }
                }
            } @else {
                h2 { (t(l, "consult.answer")) }
                p.hint { (t(l, "consult.from_text")) }
                @for c in &view.citations {
                    article.card.citation id={ "clause-" (c.clause_id.replace('/', "-")) } {
                        h3 {
                            (c.title)
                        }
                        p.hint {
                            @if c.measure == 0 { (t(l, "consult.preamble")) } @else { (tf(l, "selfcheck.measure", [("n", c.measure.to_string().as_str())])) }
                            " · " code { (c.clause_id) }
                        }
                        blockquote { p { (c.quote) } }
                    }
                }
                @if !view.programmes.is_empty() {
                    h2 { (t(l, "consult.programmes")) }
                    ul {
                        @for id in &view.programmes {
                            @let title = titles.get(id.as_str()).map_or(id.clone(), |p| match l {
                                Locale::Zh => p.title.zh.clone(),
                                Locale::En => p.title.en.clone(),
                            });
                            li { a href={ "/self-check#result-" (id) } { (title) } }
                        }
                    }
                }
            }
            @if !view.eligibility.is_empty() {
                section #your-results {
                    h2 { (t(l, "consult.your_results")) }
                    p.hint { (t(l, "consult.engine_decides")) }
                    @for e in &view.eligibility {
                        @for r in &e.results { (result_card(l, r, titles.get(r.programme.as_str()).copied(), None)) }
                    }
                }
            }
            h2 { (t(l, "consult.next_steps")) }
            ul #next-steps { @for s in &view.next_steps { li { (s) } } }
        }
    }
}

async fn consult(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(params): Query<Params>,
) -> PageResult {
    let l = viewer.locale;
    let lang = match l {
        Locale::Zh => Lang::Zh,
        Locale::En => Lang::En,
    };
    // A first visit (no `q`) shows the form alone; a question sent empty is
    // refused like any other bad one.
    let asked = params.q.is_some();
    let question = params.q.unwrap_or_default();
    let region = params.region.as_deref().filter(|r| !r.is_empty());
    let catalogue = state
        .services
        .region_catalogue(region)
        .map_err(|e| viewer.fail(e))?;
    let chooser = region_field(l, &state.services.regions(), &catalogue.pack.id);
    let titles: HashMap<&str, &ProgrammeInfo> = catalogue
        .programmes
        .iter()
        .map(|p| (p.id.as_str(), p))
        .collect();
    let today = opcity_domain::today_in_shanghai(chrono::Utc::now());
    let (status, outcome, error) = if !asked {
        (StatusCode::OK, None, None)
    } else {
        match state
            .services
            .consult(viewer.actor.as_ref(), &question, lang, today, region)
            .await
        {
            Ok(view) => (StatusCode::OK, Some(view), None),
            Err(ServiceError::Refused { code, field }) => (
                StatusCode::BAD_REQUEST,
                None,
                Some(FieldError::new(field, code.as_str())),
            ),
            Err(other) => return Err(viewer.fail(other)),
        }
    };
    let body = html! {
        h1 { (t(l, "consult.title")) }
        p { (t(l, "consult.lead")) }
        (form(l, &question, error.as_ref(), chooser))
        @if let Some(view) = &outcome { (answer(l, view, &titles)) }
    };
    Ok((status, page(&viewer, t(l, "consult.title"), body)).into_response())
}
