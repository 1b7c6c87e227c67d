//! Sign-in, sign-out and the language switch.

use super::guest;
use super::layout::page;
use super::{PageError, PageResult};
use crate::AppState;
use crate::extract::{
    ClientAddress, LANG_COOKIE, SESSION_COOKIE, Viewer, expired_session_cookie, session_cookie,
};
use crate::i18n::{Locale, t};
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use maud::html;
use opcity_services::accounts::SESSION_TTL;
use opcity_services::{ErrorCode, ServiceError};
use std::collections::HashMap;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_form).post(login))
        .route("/logout", post(logout))
        .route("/lang/{tag}", get(switch_language))
}

/// Where to go on to, if it is a path on this site: `/x`, but never
/// `//host`, `https://…`, `/\host` (browsers read `\` as `/`), nor anything
/// with control characters (browsers drop tabs and newlines from URLs, so
/// `/<TAB>/host` becomes `//host`, and a `Location` header cannot carry a
/// newline at all). Anything else gives `fallback`.
pub(super) fn safe_next(next: Option<&String>, fallback: &str) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.contains('\\')
                && !n.chars().any(char::is_control) =>
        {
            n.clone()
        }
        _ => fallback.to_owned(),
    }
}

/// What the sign-in page says above its form.
pub(super) enum Said<'a> {
    Nothing,
    /// A refusal (`login-error`).
    Error(&'a str),
    /// What was just done elsewhere (`login-done`): an address confirmed,
    /// a password reset.
    Done(&'a str),
}

pub(super) fn render_login(
    state: &AppState,
    viewer: &Viewer,
    csrf: &str,
    next: &str,
    username: &str,
    said: Said<'_>,
) -> maud::Markup {
    let l = viewer.locale;
    page(
        viewer,
        t(l, "login.title"),
        html! {
            section.card {
                h1 { (t(l, "login.title")) }
                @match said {
                    Said::Error(message) => div.notice.error role="alert" id="login-error" { (message) },
                    Said::Done(message) => div.notice.success role="status" id="login-done" { (message) },
                    Said::Nothing => {},
                }
                form.stack method="post" action="/login" {
                    input type="hidden" name="_csrf" value=(csrf);
                    input type="hidden" name="next" value=(next);
                    div.field {
                        label for="username" { (t(l, "login.username")) }
                        input id="username" name="username" type="text" autocomplete="username" value=(username) required;
                    }
                    div.field {
                        label for="password" { (t(l, "login.password")) }
                        input id="password" name="password" type="password" autocomplete="current-password" required;
                    }
                    div { button type="submit" id="login-submit" { (t(l, "login.submit")) } }
                }
                @if state.services.sso_enabled() {
                    p { a.button.secondary href={ "/login/oidc?next=" (urlencoding::encode(next)) } id="sso-link" { (t(l, "login.sso")) } }
                }
                ul.links {
                    li { a href="/password/forgot" id="forgot-link" { (t(l, "login.forgot")) } }
                    li { a href="/sign-up" id="sign-up-link" { (t(l, "login.sign_up")) } }
                }
                @if !state.services.mail_enabled() { p.hint { (t(l, "login.forgot_without_mail")) } }
            }
        },
    )
}

async fn login_form(
    State(state): State<AppState>,
    viewer: Viewer,
    jar: CookieJar,
    Query(query): Query<HashMap<String, String>>,
) -> impl IntoResponse {
    let (jar, csrf) = guest::token(&state, jar);
    let next = safe_next(query.get("next"), "/home");
    let said = match query.get("done").map(String::as_str) {
        Some(done @ ("confirmed" | "reset")) => {
            Said::Done(t(viewer.locale, &format!("login.done_{done}")))
        }
        _ => Said::Nothing,
    };
    (jar, render_login(&state, &viewer, &csrf, &next, "", said))
}

async fn login(
    State(state): State<AppState>,
    ClientAddress(from): ClientAddress,
    viewer: Viewer,
    jar: CookieJar,
    Form(form): Form<HashMap<String, String>>,
) -> PageResult {
    let csrf = guest::check(&viewer, &jar, &form)?;
    let username = form
        .get("username")
        .map(|u| u.trim().to_owned())
        .unwrap_or_default();
    let password = form.get("password").cloned().unwrap_or_default();
    let next = safe_next(form.get("next"), "/home");
    match state.services.sign_in(&username, &password, from).await {
        Ok(issued) => {
            let jar = guest::forget(jar.add(session_cookie(
                issued.token,
                SESSION_TTL.num_seconds(),
                state.config.secure_cookies,
            )));
            Ok((jar, Redirect::to(&next)).into_response())
        }
        Err(err) => {
            let (status, key) = match err {
                ServiceError::Throttled { .. } => {
                    (StatusCode::TOO_MANY_REQUESTS, "login.throttled")
                }
                ServiceError::BadCredentials => (StatusCode::UNAUTHORIZED, "login.bad_credentials"),
                ServiceError::Refused {
                    code: ErrorCode::AwaitingEmail,
                    ..
                } => (StatusCode::FORBIDDEN, "login.awaiting_email"),
                ServiceError::Refused {
                    code: ErrorCode::AwaitingConfirmation,
                    ..
                } => (StatusCode::FORBIDDEN, "login.awaiting_confirmation"),
                other => return Err(viewer.fail(other)),
            };
            let said = Said::Error(t(viewer.locale, key));
            Ok((
                status,
                render_login(&state, &viewer, &csrf, &next, &username, said),
            )
                .into_response())
        }
    }
}

async fn logout(
    State(state): State<AppState>,
    viewer: Viewer,
    jar: CookieJar,
    Form(form): Form<HashMap<String, String>>,
) -> Result<impl IntoResponse, PageError> {
    if let Some(cookie) = jar.get(SESSION_COOKIE) {
        viewer.check_csrf(form.get("_csrf"))?;
        state
            .services
            .sign_out(cookie.value())
            .await
            .map_err(|e| viewer.fail(e))?;
    }
    Ok((
        jar.add(expired_session_cookie(state.config.secure_cookies)),
        Redirect::to("/"),
    ))
}

/// Sets the language cookie and returns to the page the link was on.
async fn switch_language(
    State(state): State<AppState>,
    Path(tag): Path<String>,
    jar: CookieJar,
    Query(query): Query<HashMap<String, String>>,
) -> impl IntoResponse {
    let locale = Locale::from_tag(&tag).unwrap_or_default();
    let cookie = Cookie::build((LANG_COOKIE, locale.tag()))
        .path("/")
        .same_site(SameSite::Lax)
        .secure(state.config.secure_cookies)
        .max_age(cookie::time::Duration::days(365))
        .build();
    let next = safe_next(query.get("next"), "/");
    (jar.add(cookie), Redirect::to(&next))
}
