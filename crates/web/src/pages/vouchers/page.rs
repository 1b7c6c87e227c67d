//! The one page `/vouchers`: the view the viewer's role sees, under the
//! notice of what was just done or why a form was refused; and how a
//! form's handler answers (`run_form`: the session and CSRF token checked,
//! the write run, then `answer`: back to the page with the notice named,
//! or, through `refused`, the page again with the errors or an error page;
//! a form that does not parse is refused the same way).
//!
//! Stable element ids: the notices `voucher-done` and `voucher-error`
//! (with `data-code`, its items `data-field`).

use super::admin::admin_view;
use super::enterprise::founder_view;
use super::provider::provider_view;
use super::shared::Values;
use crate::AppState;
use crate::error::field_message;
use crate::extract::Viewer;
use crate::i18n::{Locale, t};
use crate::pages::PageResult;
use crate::pages::flow;
use crate::pages::layout::page;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use opcity_domain::Role;
use opcity_services::{Actor, ErrorCode, FieldError, ServiceError, Services};

/// A notice above the page: a success key, or the errors of a refused form.
enum Notice {
    Done(&'static str),
    Failed {
        code: ErrorCode,
        fields: Vec<FieldError>,
    },
}

fn notice(l: Locale, n: &Option<Notice>) -> Markup {
    match n {
        None => html! {},
        Some(Notice::Done(key)) => html! {
            section.notice.success id="voucher-done" role="status" { (t(l, &format!("voucher.done.{key}"))) }
        },
        Some(Notice::Failed { code, fields }) => {
            let title_key = format!("problem.{code}");
            let title = if crate::i18n::has(l, &title_key) {
                t(l, &title_key)
            } else {
                t(l, "problem.generic")
            };
            html! {
                section.notice.error id="voucher-error" role="alert" data-code=(code) {
                    strong { (title) }
                    ul {
                        @for f in fields {
                            @let label = format!("voucher.field.{}", f.field);
                            li data-field=(f.field) data-code=(f.code) {
                                @if crate::i18n::has(l, &label) { (t(l, &label)) ": " }
                                (field_message(l, f))
                            }
                        }
                    }
                }
            }
        }
    }
}

pub(super) async fn show(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<Values>,
) -> PageResult {
    let done = q
        .get("done")
        .and_then(|k| DONE.iter().find(|d| *d == k).copied());
    let n = done.map(Notice::Done);
    render(&state, &viewer, (n, &Values::new()), StatusCode::OK).await
}

/// The success notices a redirect may name.
const DONE: [&str; 10] = [
    "issued",
    "funded",
    "jobs",
    "reviewed",
    "registered",
    "decided",
    "captured",
    "voided",
    "resolved",
    "held",
];

/// The page under the notice `n`; `sent` is the form just refused (empty
/// otherwise), which its view draws again with what was typed and each
/// message beside its field.
async fn render(
    state: &AppState,
    viewer: &Viewer,
    (n, sent): (Option<Notice>, &Values),
    status: StatusCode,
) -> PageResult {
    let actor = viewer.require()?;
    let l = viewer.locale;
    let errors = match &n {
        Some(Notice::Failed { fields, .. }) => fields.as_slice(),
        _ => &[],
    };
    let body = match actor.role {
        Role::Founder => founder_view(state, viewer, actor).await,
        Role::ServiceProvider => provider_view(state, viewer, actor, (sent, errors)).await,
        Role::MunicipalAdmin | Role::DistrictReviewer | Role::Auditor => {
            admin_view(state, viewer, actor, (sent, errors)).await
        }
        Role::CommunityOperator | Role::Investor => Err(ServiceError::Forbidden),
    }
    .map_err(|e| viewer.fail(e))?;
    let content = html! {
        h1 { (t(l, "voucher.title")) }
        p.hint { (t(l, "voucher.lead")) }
        (notice(l, &n))
        (body)
    };
    Ok((status, page(viewer, t(l, "voucher.title"), content)).into_response())
}

/// Re-renders the page with a refused form's errors (see
/// [`flow::refusal`]) and what was typed into it, or fails the page.
async fn refused(
    state: &AppState,
    viewer: &Viewer,
    err: ServiceError,
    form: &Values,
) -> PageResult {
    let code = err.code();
    let (status, fields) = flow::refusal(viewer, err)?;
    let n = Some(Notice::Failed { code, fields });
    render(state, viewer, (n, form), status).await
}

/// Answers a voucher form: once the viewer is signed in and the form's
/// CSRF token checked, runs `write` as the viewer and answers with its
/// outcome as [`answer`] does. Every voucher form's handler ends here.
pub(super) async fn run_form<T>(
    (state, viewer, form): (&AppState, &Viewer, &Values),
    key: &str,
    write: impl AsyncFnOnce(&Services, &Actor) -> opcity_services::Result<T>,
) -> PageResult {
    let actor = viewer.require()?;
    viewer.check_csrf(form.get("_csrf"))?;
    let outcome = write(&state.services, actor).await;
    answer((state, viewer, form), key, outcome).await
}

/// Answers a form with the service's outcome: back to the page with the
/// notice `key`, or the page again with the refusal.
async fn answer<T>(
    (state, viewer, form): (&AppState, &Viewer, &Values),
    key: &str,
    outcome: opcity_services::Result<T>,
) -> PageResult {
    match outcome {
        Ok(_) => Ok(done(key)),
        Err(e) => refused(state, viewer, e, form).await,
    }
}

fn done(key: &str) -> Response {
    Redirect::to(&format!("/vouchers?done={key}")).into_response()
}
