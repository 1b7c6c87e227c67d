//! Forms for people not signed in — sign-in, sign-up, confirming an
//! address, resetting a password. With no session there is no session
//! token, so their CSRF check is a double-submit cookie: [`token`] puts a
//! random token in an HttpOnly, SameSite=Strict cookie and the form carries
//! it too; [`check`] accepts a post only when both agree (another site can
//! neither read the cookie nor send it). One cookie serves every such form,
//! so forms open in several tabs stay valid.

use super::PageError;
use crate::AppState;
use crate::error::WebError;
use crate::extract::{Viewer, constant_time_eq};
use crate::i18n::Locale;
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use maud::{Markup, html};
use opcity_services::FieldError;
use opcity_services::accounts::random_token;
use std::collections::HashMap;

pub const CSRF_COOKIE: &str = "opcity_guest_csrf";
/// Shortest token [`token`] reuses (its own are 32 characters).
const MIN_TOKEN_LEN: usize = 24;

/// The guest token of this browser, made (and set on `jar`) when it has none.
pub fn token(state: &AppState, jar: CookieJar) -> (CookieJar, String) {
    if let Some(kept) = jar
        .get(CSRF_COOKIE)
        .map(|c| c.value().to_owned())
        .filter(|v| v.len() >= MIN_TOKEN_LEN)
    {
        return (jar, kept);
    }
    let token = random_token(24);
    let cookie = Cookie::build((CSRF_COOKIE, token.clone()))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(state.config.secure_cookies)
        .build();
    (jar.add(cookie), token)
}

/// The token when the posted `form` carries the cookie's; else the refusal.
pub fn check(
    viewer: &Viewer,
    jar: &CookieJar,
    form: &HashMap<String, String>,
) -> Result<String, PageError> {
    let expected = jar.get(CSRF_COOKIE).map(|c| c.value().to_owned());
    match (expected, form.get("_csrf")) {
        (Some(e), Some(s)) if constant_time_eq(&e, s) => Ok(e),
        _ => Err(viewer.fail(WebError::CsrfFailed)),
    }
}

/// `jar` without the guest cookie (once signed in, the session's token
/// takes over).
pub fn forget(jar: CookieJar) -> CookieJar {
    jar.remove(Cookie::build(CSRF_COOKIE).path("/"))
}

/// A text control of a guest form: its label (`{labels}.{name}`), an
/// optional hint, the value kept (never for passwords) and its messages.
pub struct Input<'a> {
    pub name: &'a str,
    pub kind: &'a str,
    pub autocomplete: &'a str,
    pub hint: Option<&'a str>,
}

pub fn input(
    l: Locale,
    labels: &str,
    spec: &Input<'_>,
    value: &str,
    errors: &[FieldError],
) -> Markup {
    let id = format!("f-{}", spec.name);
    let own: Vec<&FieldError> = errors.iter().filter(|e| e.field == spec.name).collect();
    let kept = if spec.kind == "password" { "" } else { value };
    let described = match (spec.hint.is_some(), own.is_empty()) {
        (true, true) => format!("{id}-hint"),
        (true, false) => format!("{id}-hint {id}-error"),
        (false, false) => format!("{id}-error"),
        (false, true) => String::new(),
    };
    html! {
        div.field.invalid[!own.is_empty()] {
            label for=(id) { (crate::i18n::t(l, &format!("{labels}.{}", spec.name))) }
            @if let Some(hint) = spec.hint { p.hint id={ (id) "-hint" } { (hint) } }
            input id=(id) name=(spec.name) type=(spec.kind) autocomplete=(spec.autocomplete)
                value=(kept) aria-describedby=[(!described.is_empty()).then_some(described)]
                aria-invalid=[(!own.is_empty()).then_some("true")] required;
            (super::forms::messages(l, &id, own))
        }
    }
}

/// A page reached by a mailed link: 410 Gone once the link no longer works
/// (used, replaced or expired), so the browser and any cache know it is over.
pub fn link_page(viewer: &Viewer, title: &str, expired: bool, body: Markup) -> super::PageResult {
    use axum::response::IntoResponse;
    let status = if expired {
        axum::http::StatusCode::GONE
    } else {
        axum::http::StatusCode::OK
    };
    Ok((status, super::layout::page(viewer, title, body)).into_response())
}
