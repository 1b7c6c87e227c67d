//! The one way a page answers a posted form (post / redirect / get):
//! check the session's CSRF token, refuse what did not parse, run the
//! service call, and then either redirect to where the result shows or
//! render the page again with the refusal — the status of the problem, a
//! summary at the top whose items link to their fields, each message
//! beside its field, and what was typed kept in the form that was posted.
//! Other refusals (not signed in, forbidden, not found) are error pages.

use super::forms::Values;
use super::{PageError, PageResult};
use crate::AppState;
use crate::error::{WebError, field_message, status_of};
use crate::extract::Viewer;
use crate::i18n::{Locale, has, t, tf};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};
use opcity_services::{FieldError, ServiceError};

/// What a form's handler is given, in one extractor: the app's state, the
/// viewer and the posted fields (the body, so it comes after any path or
/// query extractor).
#[derive(axum::extract::FromRequest)]
#[from_request(state(AppState))]
pub struct Posted {
    #[from_request(via(axum::extract::State))]
    pub state: AppState,
    pub viewer: Viewer,
    #[from_request(via(axum::extract::Form))]
    pub form: Values,
}

impl Posted {
    /// The state, the viewer and the fields, borrowed for a handler's body.
    pub fn parts(&self) -> (&AppState, &Viewer, &Values) {
        (&self.state, &self.viewer, &self.form)
    }
}

/// The hidden field that names which form of a page was posted.
pub const FORM_ID: &str = "_form";

/// A refused form as the page shows it again: the status to answer with
/// and the messages by field; anything else fails the page.
pub fn refusal(
    viewer: &Viewer,
    err: ServiceError,
) -> Result<(StatusCode, Vec<FieldError>), PageError> {
    match err {
        ServiceError::Validation(_)
        | ServiceError::Conflict { .. }
        | ServiceError::Taken { .. } => {
            let problem = WebError::Service(err).problem();
            let mut fields = problem.fields;
            // A refusal about no one field (say, a conflict) still says why.
            if fields.is_empty() {
                fields.push(FieldError::new("", problem.code.as_str()));
            }
            Ok((status_of(problem.code), fields))
        }
        other => Err(viewer.fail(other)),
    }
}

/// Answers a posted `form`: with `parse_errors`, the page again (422)
/// without calling the service; else `run`, then `done` with its result
/// (a redirect), or the page again through `again` with the refusal.
pub async fn post<T>(
    viewer: &Viewer,
    form: &Values,
    parse_errors: Vec<FieldError>,
    run: impl AsyncFnOnce() -> opcity_services::Result<T>,
    done: impl FnOnce(T) -> Response,
    again: impl AsyncFnOnce(Vec<FieldError>) -> PageResult,
) -> PageResult {
    viewer.require()?;
    viewer.check_csrf(form.get("_csrf"))?;
    if !parse_errors.is_empty() {
        return with_status(StatusCode::UNPROCESSABLE_ENTITY, again(parse_errors).await);
    }
    match run().await {
        Ok(result) => Ok(done(result)),
        Err(err) => self::again(viewer, err, again).await,
    }
}

/// The page again (through `again`) with the refusal `err`, answered with
/// its status; an error that is no refusal is an error page.
pub async fn again(
    viewer: &Viewer,
    err: ServiceError,
    again: impl AsyncFnOnce(Vec<FieldError>) -> PageResult,
) -> PageResult {
    let (status, errors) = refusal(viewer, err)?;
    with_status(status, again(errors).await)
}

fn with_status(status: StatusCode, page: PageResult) -> PageResult {
    let mut page = page?;
    *page.status_mut() = status;
    Ok(page)
}

/// What a form shows: the values typed into it and its messages, when it
/// is the form that was posted (named by [`FORM_ID`]); else nothing.
pub fn posted<'a>(
    form_id: &str,
    values: &'a Values,
    errors: &'a [FieldError],
) -> (Option<&'a Values>, &'a [FieldError]) {
    if values.get(FORM_ID).is_some_and(|posted| posted == form_id) {
        (Some(values), errors)
    } else {
        (None, &[])
    }
}

/// The summary above a refused form: how many problems, and each message
/// after its field's label (`{labels}.{field}`), linking to the control
/// (`#{id_prefix}{field}`); a message about no one field stands alone.
pub fn error_summary(l: Locale, labels: &str, id_prefix: &str, errors: &[FieldError]) -> Markup {
    html! {
        @if !errors.is_empty() {
            div.notice.error role="alert" id="form-errors" tabindex="-1" {
                strong { (tf(l, "form.has_errors", [("n", errors.len().to_string().as_str())])) }
                ul {
                    @for e in errors {
                        // A service's `…_fen` field is typed as `…_yuan` on pages.
                        @let yuan = e.field.strip_suffix("_fen").map(|stem| format!("{stem}_yuan"));
                        @let field = yuan.filter(|y| has(l, &format!("{labels}.{y}"))).unwrap_or_else(|| e.field.clone());
                        @let key = format!("{labels}.{field}");
                        li data-code=(e.code) data-field=(e.field) {
                            @if !e.field.is_empty() && has(l, &key) {
                                a href={ "#" (id_prefix) (field) } { (t(l, &key)) } ": "
                            }
                            (field_message(l, e))
                        }
                    }
                }
            }
        }
    }
}
