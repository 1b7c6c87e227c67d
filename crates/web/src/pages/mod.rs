//! The portal: server-rendered pages in Chinese (default) and English that
//! work without JavaScript. Forms carry the session's CSRF token; forms of
//! people not signed in use a double-submit cookie (`guest`).

mod accounts;
mod application_after;
mod application_thread;
pub(crate) mod applications;
mod apply;
mod audit;
mod auth;
mod benefits;
mod consult;
mod dashboard;
mod flow;
mod forms;
mod guest;
mod help;
mod home;
pub mod imports;
mod inbox;
mod integrity;
mod interests;
mod layout;
mod letters;
mod password;
mod policy_drafts;
mod registry;
mod reset;
mod selfcheck;
mod settings;
mod sign_up;
mod spaces;
mod sso;
mod tokens;
mod vouchers;
mod workbench;

pub(crate) use workbench::sheet as queue_sheet;

use crate::AppState;
use crate::error::WebError;
use crate::extract::{Viewer, constant_time_eq};
use crate::i18n::{Locale, t};
use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use opcity_services::{Actor, ServiceError};

pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(home::routes())
        .merge(auth::routes())
        .merge(sign_up::routes())
        .merge(reset::routes())
        .merge(sso::routes())
        .merge(registry::routes())
        .merge(dashboard::routes())
        .merge(audit::routes())
        .merge(selfcheck::routes())
        .merge(consult::routes())
        .merge(benefits::routes())
        .merge(inbox::routes())
        .merge(integrity::routes())
        .merge(interests::routes())
        .merge(letters::routes())
        .merge(workbench::routes())
        .merge(apply::routes())
        .merge(applications::routes())
        .merge(vouchers::routes())
        .merge(spaces::routes())
        .merge(settings::routes())
        .merge(password::routes())
        .merge(tokens::routes())
        .merge(accounts::routes())
        .merge(help::routes())
        .merge(imports::routes())
        .merge(policy_drafts::routes())
}

/// The enterprises the founder represents or controls, by id and name
/// (for pickers that name them, never their numbers).
pub(crate) async fn own_enterprises(
    state: &AppState,
    actor: &Actor,
) -> Result<Vec<(i64, String)>, ServiceError> {
    let mut out = Vec::with_capacity(actor.enterprise_ids.len());
    for id in &actor.enterprise_ids {
        out.push((*id, state.services.get_enterprise(actor, *id).await?.name));
    }
    Ok(out)
}

/// A failure while serving a page, rendered as an HTML page in the viewer's
/// language (or a redirect to sign-in).
#[derive(Debug)]
pub struct PageError(Box<(Viewer, WebError)>);

pub type PageResult = Result<Response, PageError>;

impl Viewer {
    /// The signed-in actor, or a redirect to the sign-in page.
    pub fn require(&self) -> Result<&Actor, PageError> {
        self.actor
            .as_ref()
            .ok_or_else(|| self.fail(ServiceError::Unauthenticated))
    }

    pub fn fail(&self, error: impl Into<WebError>) -> PageError {
        PageError(Box::new((self.clone(), error.into())))
    }

    /// Refuses a form post whose `_csrf` field is not the session's token.
    pub fn check_csrf(&self, sent: Option<&String>) -> Result<(), PageError> {
        match (&self.csrf, sent) {
            (Some(expected), Some(sent)) if constant_time_eq(expected, sent) => Ok(()),
            _ => Err(self.fail(WebError::CsrfFailed)),
        }
    }

    pub fn t(&self, key: &str) -> &'static str {
        t(self.locale, key)
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (viewer, error) = *self.0;
        let locale: Locale = viewer.locale;
        let (status, key) = match &error {
            WebError::Service(ServiceError::Unauthenticated) => {
                let next = urlencoding::encode(&viewer.path).into_owned();
                return Redirect::to(&format!("/login?next={next}")).into_response();
            }
            WebError::Service(ServiceError::Forbidden) => (StatusCode::FORBIDDEN, "page.forbidden"),
            WebError::Service(ServiceError::NotFound { .. }) => {
                (StatusCode::NOT_FOUND, "page.not_found")
            }
            WebError::CsrfFailed => (StatusCode::FORBIDDEN, "page.csrf_failed"),
            WebError::Service(ServiceError::Internal(cause)) => {
                tracing::error!(error = %cause, "internal error on a page");
                (StatusCode::INTERNAL_SERVER_ERROR, "page.internal")
            }
            _ => (StatusCode::BAD_REQUEST, "page.bad_request"),
        };
        let body = layout::page(
            &viewer,
            t(locale, key),
            maud::html! {
                section.notice.error role="alert" {
                    h1 { (t(locale, key)) }
                    p { a href="/" { (t(locale, "nav.back_home")) } }
                }
            },
        );
        (status, body).into_response()
    }
}
