//! Sign-in, sign-out and the language switch.

use super::layout::page;
use super::{PageError, PageResult};
use crate::AppState;
use crate::error::WebError;
use crate::extract::{
    ClientAddress, LANG_COOKIE, SESSION_COOKIE, Viewer, constant_time_eq, expired_session_cookie,
    session_cookie,
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
use opcity_services::ServiceError;
use opcity_services::accounts::{SESSION_TTL, random_token};
use std::collections::HashMap;

const LOGIN_CSRF_COOKIE: &str = "opcity_login_csrf";

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
fn safe_next(next: Option<&String>, fallback: &str) -> String {
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

fn render_login(
    viewer: &Viewer,
    csrf: &str,
    next: &str,
    username: &str,
    error: Option<&str>,
) -> maud::Markup {
    let l = viewer.locale;
    page(
        viewer,
        t(l, "login.title"),
        html! {
            section.card {
                h1 { (t(l, "login.title")) }
                @if let Some(message) = error {
                    div.notice.error role="alert" id="login-error" { (message) }
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
            }
        },
    )
}

fn login_csrf_cookie(value: String, secure: bool) -> Cookie<'static> {
    Cookie::build((LOGIN_CSRF_COOKIE, value))
        .path("/login")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure)
        .build()
}

async fn login_form(
    State(state): State<AppState>,
    viewer: Viewer,
    jar: CookieJar,
    Query(query): Query<HashMap<String, String>>,
) -> impl IntoResponse {
    let csrf = random_token(24);
    let next = safe_next(query.get("next"), "/home");
    let jar = jar.add(login_csrf_cookie(csrf.clone(), state.config.secure_cookies));
    (jar, render_login(&viewer, &csrf, &next, "", None))
}

async fn login(
    State(state): State<AppState>,
    ClientAddress(from): ClientAddress,
    viewer: Viewer,
    jar: CookieJar,
    Form(form): Form<HashMap<String, String>>,
) -> PageResult {
    let expected = jar.get(LOGIN_CSRF_COOKIE).map(|c| c.value().to_owned());
    let sent = form.get("_csrf");
    if !matches!((&expected, sent), (Some(e), Some(s)) if constant_time_eq(e, s)) {
        return Err(viewer.fail(WebError::CsrfFailed));
    }
    let username = form
        .get("username")
        .map(|u| u.trim().to_owned())
        .unwrap_or_default();
    let password = form.get("password").cloned().unwrap_or_default();
    let next = safe_next(form.get("next"), "/home");
    match state.services.sign_in(&username, &password, from).await {
        Ok(issued) => {
            let jar = jar
                .add(session_cookie(
                    issued.token,
                    SESSION_TTL.num_seconds(),
                    state.config.secure_cookies,
                ))
                .remove(Cookie::build(LOGIN_CSRF_COOKIE).path("/login"));
            Ok((jar, Redirect::to(&next)).into_response())
        }
        Err(err @ (ServiceError::BadCredentials | ServiceError::Throttled { .. })) => {
            let (status, key) = match err {
                ServiceError::Throttled { .. } => {
                    (StatusCode::TOO_MANY_REQUESTS, "login.throttled")
                }
                _ => (StatusCode::UNAUTHORIZED, "login.bad_credentials"),
            };
            let csrf = expected.unwrap_or_default();
            Ok((
                status,
                render_login(
                    &viewer,
                    &csrf,
                    &next,
                    &username,
                    Some(t(viewer.locale, key)),
                ),
            )
                .into_response())
        }
        Err(other) => Err(viewer.fail(other)),
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
