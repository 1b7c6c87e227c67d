//! The account's own settings: e-mail address, e-mail notifications and
//! language. A plain form (no JavaScript) with the session's CSRF token;
//! refused values are shown beside their fields and nothing is saved.

use super::forms::Values;
use super::layout::page;
use super::{PageError, PageResult};
use crate::AppState;
use crate::error::field_message;
use crate::extract::Viewer;
use crate::i18n::{t, tf};
use axum::Router;
use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::get;
use maud::html;
use opcity_services::accounts::{AccountSettings, SettingsChange};
use opcity_services::{FieldError, ServiceError};
use std::collections::HashMap;

pub fn routes() -> Router<AppState> {
    Router::new().route("/settings", get(show).post(save))
}

const LOCALES: [&str; 2] = ["zh-CN", "en"];

fn values_of(settings: &AccountSettings) -> Values {
    let mut values = Values::new();
    values.insert("email".into(), settings.email.clone().unwrap_or_default());
    if settings.email_notifications {
        values.insert("email_notifications".into(), "on".into());
    }
    values.insert("locale".into(), settings.locale.clone());
    values
}

fn render(
    state: &AppState,
    viewer: &Viewer,
    values: &Values,
    errors: &[FieldError],
    (saved, password_changed): (bool, bool),
) -> axum::response::Response {
    let l = viewer.locale;
    let csrf = viewer.csrf.clone().unwrap_or_default();
    let value = |name: &str| values.get(name).cloned().unwrap_or_default();
    let errors_of =
        |name: &str| -> Vec<&FieldError> { errors.iter().filter(|e| e.field == name).collect() };
    let (email_errors, locale_errors) = (errors_of("email"), errors_of("locale"));
    let body = html! {
        h1 { (t(l, "settings.title")) }
        @if saved {
            section.notice.success id="settings-saved" role="status" { (t(l, "form.saved")) }
        }
        @if password_changed {
            section.notice.success id="password-changed" role="status" { (t(l, "password.changed")) }
        }
        @if !errors.is_empty() {
            div.notice.error role="alert" id="form-errors" {
                (tf(l, "form.has_errors", [("n", errors.len().to_string().as_str())]))
            }
        }
        h2 { (t(l, "settings.email_title")) }
        p.hint { (t(l, "settings.email_explain")) }
        @if !state.services.mail_enabled() {
            p.notice id="mail-off" { (t(l, "settings.mail_off")) }
        }
        form.stack method="post" action="/settings" id="settings-form" novalidate {
            input type="hidden" name="_csrf" value=(csrf);
            div.field.invalid[!email_errors.is_empty()] {
                label for="f-email" { (t(l, "settings.email")) }
                input id="f-email" name="email" type="email" autocomplete="email" value=(value("email"));
                @for e in &email_errors {
                    div.error id="f-email-error" role="alert" { (field_message(l, e)) }
                }
            }
            div.field {
                label.inline for="f-email_notifications" {
                    input id="f-email_notifications" name="email_notifications" type="checkbox" value="on"
                        checked[values.contains_key("email_notifications")];
                    " " (t(l, "settings.email_notifications"))
                }
            }
            div.field.invalid[!locale_errors.is_empty()] {
                label for="f-locale" { (t(l, "settings.language")) }
                select id="f-locale" name="locale" {
                    @for tag in LOCALES {
                        option value=(tag) selected[value("locale") == tag] { (t(l, &format!("settings.locale.{tag}"))) }
                    }
                }
                @for e in &locale_errors {
                    div.error id="f-locale-error" role="alert" { (field_message(l, e)) }
                }
            }
            button type="submit" id="settings-save" { (t(l, "form.save")) }
        }
        h2 { (t(l, "password.title")) }
        p { a href="/settings/password" id="change-password" { (t(l, "password.change")) } }
        h2 { (t(l, "tokens.title")) }
        p { (t(l, "tokens.settings_hint")) " " a href="/settings/tokens" id="api-access" { (t(l, "tokens.manage")) } }
        p { a href="/home" { (t(l, "nav.workspace")) } }
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    (status, page(viewer, t(l, "settings.title"), body)).into_response()
}

#[derive(Debug, serde::Deserialize)]
struct Shown {
    saved: Option<String>,
    password: Option<String>,
}

async fn show(State(state): State<AppState>, viewer: Viewer, Query(q): Query<Shown>) -> PageResult {
    let actor = viewer.require()?;
    let settings = state
        .services
        .account_settings(actor)
        .await
        .map_err(|e| viewer.fail(e))?;
    Ok(render(
        &state,
        &viewer,
        &values_of(&settings),
        &[],
        (q.saved.is_some(), q.password.is_some()),
    ))
}

async fn save(
    State(state): State<AppState>,
    viewer: Viewer,
    Form(form): Form<HashMap<String, String>>,
) -> PageResult {
    let actor = viewer.require()?;
    viewer.check_csrf(form.get("_csrf"))?;
    let change = SettingsChange {
        email: Some(super::forms::opt(&form, "email")),
        email_notifications: Some(form.contains_key("email_notifications")),
        locale: super::forms::opt(&form, "locale"),
    };
    match state.services.update_account_settings(actor, change).await {
        Ok(_) => Ok(Redirect::to("/settings?saved=1").into_response()),
        Err(ServiceError::Validation(errors)) => {
            Ok(render(&state, &viewer, &form, &errors, (false, false)))
        }
        Err(other) => Err::<_, PageError>(viewer.fail(other)),
    }
}
