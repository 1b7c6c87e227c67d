//! Changing one's own password: the current one, the new one twice. The
//! passwords are never shown back after a refusal; every other session of
//! the account ends, this one stays.

use super::layout::page;
use super::{PageResult, flow};
use crate::AppState;
use crate::extract::{SESSION_COOKIE, Viewer};
use crate::i18n::t;
use axum::Router;
use axum::extract::{Form, State};
use axum::response::{IntoResponse, Redirect};
use axum::routing::get;
use axum_extra::extract::CookieJar;
use maud::html;
use opcity_services::FieldError;
use opcity_services::account_admin::PasswordChange;
use std::collections::HashMap;

pub fn routes() -> Router<AppState> {
    Router::new().route("/settings/password", get(show).post(change))
}

const FIELDS: [(&str, &str); 3] = [
    ("current_password", "current-password"),
    ("new_password", "new-password"),
    ("confirm_password", "new-password"),
];

fn render(viewer: &Viewer, errors: &[FieldError]) -> PageResult {
    viewer.require()?;
    let l = viewer.locale;
    let body = html! {
        (flow::error_summary(l, "password", "f-", errors))
        h1 { (t(l, "password.title")) }
        p.hint { (t(l, "password.explain")) }
        form.stack method="post" action="/settings/password" id="password-form" novalidate {
            input type="hidden" name="_csrf" value=(viewer.csrf.clone().unwrap_or_default());
            @for (name, autocomplete) in FIELDS {
                @let id = format!("f-{name}");
                @let own: Vec<&FieldError> = errors.iter().filter(|e| e.field == name).collect();
                div.field.invalid[!own.is_empty()] {
                    label for=(id) { (t(l, &format!("password.{name}"))) }
                    input id=(id) name=(name) type="password" autocomplete=(autocomplete) required;
                    (super::forms::messages(l, &id, own))
                }
            }
            button type="submit" id="password-save" { (t(l, "password.save")) }
        }
        p { a href="/settings" { (t(l, "settings.title")) } }
    };
    Ok(page(viewer, t(l, "password.title"), body).into_response())
}

async fn show(viewer: Viewer) -> PageResult {
    render(&viewer, &[])
}

async fn change(
    State(state): State<AppState>,
    viewer: Viewer,
    jar: CookieJar,
    Form(form): Form<HashMap<String, String>>,
) -> PageResult {
    let actor = viewer.require()?.clone();
    let field = |name: &str| form.get(name).cloned().unwrap_or_default();
    let input = PasswordChange {
        current_password: field("current_password"),
        new_password: field("new_password"),
        confirm_password: field("confirm_password"),
    };
    let session = jar.get(SESSION_COOKIE).map(|c| c.value().to_owned());
    flow::post(
        &viewer,
        &form,
        Vec::new(),
        async || {
            state
                .services
                .change_password(&actor, session.as_deref(), &input)
                .await
        },
        |()| Redirect::to("/settings?password=changed").into_response(),
        async |errors| render(&viewer, &errors),
    )
    .await
}
