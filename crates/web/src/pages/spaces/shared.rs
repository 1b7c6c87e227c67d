//! What the pages of spaces, housing and instruments share: a page's
//! showing and a form's round trip ([`Page`], `show`, `answer`, `submit`),
//! the notices above a page, the small parts they draw (one-button and
//! inline forms keyed by an action, the line under an empty list), and how
//! they show money and holders. Which forms a page offers is the services'
//! `may_*` answer, asked where the form is drawn.

use crate::AppState;
use crate::extract::Viewer;
use crate::i18n::{Locale, t, tf};
use crate::pages::PageResult;
use crate::pages::flow;
use crate::pages::forms::{self, Field, Values, render_fields_as};
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use opcity_domain::Fen;
use opcity_services::{FieldError, ServiceError};
use std::collections::HashMap;

/// The choices of a form's dynamic fields, by field name.
pub(super) type Options = HashMap<&'static str, Vec<(String, String)>>;
/// A page's query string.
pub(super) type Query_ = HashMap<String, String>;

/// Where a successful form goes: back to its page with the result named.
fn done(path: &str, what: &str, id: i64) -> Response {
    let sep = if path.contains('?') { '&' } else { '?' };
    Redirect::to(&format!("{path}{sep}done={what}&id={id}")).into_response()
}

/// The notice of a form's success, named in the query string by `done`.
pub(super) fn result_notice(l: Locale, q: &Query_) -> Markup {
    match (q.get("done"), q.get("id")) {
        (Some(what), Some(id)) => html! {
            div.notice.success role="status" id="result" data-done=(what) data-id=(id) {
                (tf(l, &format!("spaces.done.{what}"), [("id", id.as_str())]))
            }
        },
        _ => html! {},
    }
}

/// The summary of a refused form, its items linked to their fields.
pub(super) fn error_block(l: Locale, errors: &[FieldError]) -> Markup {
    flow::error_summary(l, "spaces.form", "f-", errors)
}

pub(super) fn csrf(viewer: &Viewer) -> Markup {
    html! { input type="hidden" name="_csrf" value=(viewer.csrf.clone().unwrap_or_default()); }
}

/// The line under a table that lists nothing.
pub(super) fn empty_notice(l: Locale, empty: bool) -> Markup {
    html! { @if empty { p.notice { (t(l, "list.empty")) } } }
}

/// The one-button form of `action` on the record at `base` (`{base}/{action}`),
/// its button `{action}-{id}`: how every row's actions are drawn.
pub(super) fn action_button(
    viewer: &Viewer,
    base: &str,
    action: &str,
    id: i64,
    label: &str,
) -> Markup {
    button(
        viewer,
        &format!("{base}/{action}"),
        &format!("{action}-{id}"),
        label,
    )
}

/// The inline form `{action}-{id}` of `action` on the record at `base`,
/// with its own `controls` before the submit button `label`.
pub(super) fn action_form(
    viewer: &Viewer,
    (base, action, id): (&str, &str, i64),
    label: &str,
    controls: Markup,
) -> Markup {
    html! {
        form.inline id={ (action) "-" (id) } method="post" action={ (base) "/" (action) } {
            (csrf(viewer))
            (controls)
            button.secondary type="submit" { (label) }
        }
    }
}

/// What a row's action posted to `…/{id}/{action}` answers with: the
/// notice `{prefix}_{action}` (dashes as underscores).
pub(super) fn action_done(prefix: &str, action: &str) -> String {
    format!("{prefix}_{}", action.replace('-', "_"))
}

/// The refusal of an action a page never offers.
pub(super) fn unknown_action<T>() -> opcity_services::Result<T> {
    Err(ServiceError::NotFound { entity: "action" })
}

/// A one-button form posting to `action`.
pub(super) fn button(viewer: &Viewer, action: &str, id: &str, label: &str) -> Markup {
    html! {
        form.inline method="post" action=(action) {
            (csrf(viewer))
            button.secondary type="submit" id=(id) { (label) }
        }
    }
}

/// A form of declared fields with a submit button. When it is the form
/// that was posted (see [`flow::posted`]), it shows what was typed and each
/// message beside its field; other forms on the page start empty.
#[allow(clippy::too_many_arguments)]
pub(super) fn field_form(
    viewer: &Viewer,
    id: &str,
    action: &str,
    heading: &str,
    fields: &[Field],
    shown: (&Values, &[FieldError]),
    options: &Options,
    submit: &str,
) -> Markup {
    let l = viewer.locale;
    // The serve and proposal forms repeat other forms' field names on the
    // same page; their controls get their own ids so every id (and label)
    // stays unique.
    let prefix = match id {
        "serve-form" => "serve-f-",
        "propose-form" => "propose-f-",
        _ => "f-",
    };
    let (values, errors) = flow::posted(id, shown.0, shown.1);
    let empty = Values::new();
    html! {
        section.card {
            h2 { (heading) }
            form.stack id=(id) method="post" action=(action) novalidate {
                (csrf(viewer))
                input type="hidden" name=(flow::FORM_ID) value=(id);
                (render_fields_as(l, "spaces.form", prefix, fields, values.unwrap_or(&empty), errors, options))
                div.actions { button type="submit" id={ (id) "-submit" } { (submit) } }
            }
        }
    }
}

pub(super) fn yuan(fen: i64) -> String {
    Fen(fen).to_string()
}

pub(super) fn num(values: &Values, name: &'static str, errors: &mut Vec<FieldError>) -> i64 {
    forms::number(values, name, errors).unwrap_or(0)
}

/// What a page draws besides its records: the query string it was asked
/// with, and a refused form's messages and what it had typed.
#[derive(Clone, Copy)]
pub(super) struct Shown<'a> {
    pub q: &'a Query_,
    pub errors: &'a [FieldError],
    pub values: &'a Values,
}

/// A page of this folder, drawn as [`Shown`] says: what [`show`] and
/// [`answer`] need to know of it. Declared with [`page!`].
pub(super) trait Page {
    /// Where the page is, and where its forms' successes go back to.
    const PATH: &'static str;

    fn render(
        state: &AppState,
        viewer: &Viewer,
        shown: Shown<'_>,
    ) -> impl Future<Output = PageResult> + Send;
}

/// Declares the [`Page`] `$name` at `$path`, drawn by `$render` (an
/// `async fn(&AppState, &Viewer, Shown<'_>) -> PageResult`), so that each
/// page says only what is its own.
macro_rules! page {
    ($(#[$doc:meta])* $name:ident, $path:literal, $render:ident) => {
        $(#[$doc])*
        pub(super) struct $name;

        impl super::shared::Page for $name {
            const PATH: &'static str = $path;

            fn render(
                state: &crate::AppState,
                viewer: &crate::extract::Viewer,
                shown: super::shared::Shown<'_>,
            ) -> impl std::future::Future<Output = crate::pages::PageResult> + Send {
                $render(state, viewer, shown)
            }
        }
    };
}
pub(super) use page;

/// Shows page `P` as its query string asks, its forms empty.
pub(super) async fn show<P: Page>(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<Query_>,
) -> PageResult {
    let values = Values::new();
    P::render(
        &state,
        &viewer,
        Shown {
            q: &q,
            errors: &[],
            values: &values,
        },
    )
    .await
}

/// Answers a form posted from page `P`: back to the page with the result
/// named, or the page again with the messages and `kept` in its forms.
pub(super) async fn answer<P: Page>(
    state: &AppState,
    viewer: &Viewer,
    form: &Values,
    kept: &Values,
    what: &str,
    errors: Vec<FieldError>,
    run: impl AsyncFnOnce() -> opcity_services::Result<i64>,
) -> PageResult {
    let q = Query_::new();
    let again = async |e: Vec<FieldError>| {
        P::render(
            state,
            viewer,
            Shown {
                q: &q,
                errors: &e,
                values: kept,
            },
        )
        .await
    };
    submit(viewer, form, P::PATH, what, errors, run, again).await
}

/// Runs a form's service call (which returns the id of what it made or
/// changed) through [`flow::post`]: a redirect to `back` naming the result
/// on success, else the page again (via `again`) with the messages.
pub(super) async fn submit(
    viewer: &Viewer,
    form: &Values,
    back: &str,
    what: &str,
    parse_errors: Vec<FieldError>,
    run: impl AsyncFnOnce() -> opcity_services::Result<i64>,
    again: impl AsyncFnOnce(Vec<FieldError>) -> PageResult,
) -> PageResult {
    flow::post(
        viewer,
        form,
        parse_errors,
        run,
        |id| done(back, what, id),
        again,
    )
    .await
}

/// Who holds a request, agreement, lease or booking (the enterprise, else
/// the person): its name where the services gave one, else its number.
pub(super) fn holder_label(
    l: Locale,
    name: Option<&str>,
    enterprise: Option<i64>,
    person: Option<i64>,
) -> String {
    if let Some(name) = name {
        return name.to_owned();
    }
    match (enterprise, person) {
        (Some(e), _) => tf(l, "spaces.enterprise_no", [("id", e.to_string().as_str())]),
        (_, Some(p)) => tf(l, "spaces.person_no", [("id", p.to_string().as_str())]),
        _ => "—".into(),
    }
}
