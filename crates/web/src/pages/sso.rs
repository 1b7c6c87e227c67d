//! Single sign-on's two legs (`services::sso`): `/login/oidc` sends the
//! browser to the identity provider, keeping the state, nonce and PKCE
//! verifier (and where to go on to) in an HttpOnly cookie scoped to these
//! paths for ten minutes; `/login/oidc/callback` takes the provider's answer
//! with that cookie, opens the session and goes on. A refusal (the person
//! declined at the provider, a stale or forged answer) shows the sign-in
//! page with what to do.

use super::auth::{Said, render_login, safe_next};
use super::guest;
use super::{PageError, PageResult};
use crate::AppState;
use crate::extract::{Viewer, session_cookie};
use crate::i18n::t;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::get;
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use opcity_services::accounts::SESSION_TTL;
use opcity_services::sso::SsoPending;
use std::collections::HashMap;

const SSO_COOKIE: &str = "opcity_sso";
const SSO_PATH: &str = "/login/oidc";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login/oidc", get(start))
        .route("/login/oidc/callback", get(callback))
}

async fn start(
    State(state): State<AppState>,
    viewer: Viewer,
    jar: CookieJar,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    let (url, pending) = state.services.sso_start().map_err(|e| viewer.fail(e))?;
    let next = safe_next(q.get("next"), "/home");
    let value = format!("{}~{}", pending.encode(), urlencoding::encode(&next));
    // Lax, not Strict: it must come along when the provider sends the
    // browser back (a top-level navigation from another site).
    let cookie = Cookie::build((SSO_COOKIE, value))
        .path(SSO_PATH)
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.config.secure_cookies)
        .max_age(cookie::time::Duration::minutes(10))
        .build();
    Ok((jar.add(cookie), Redirect::to(&url)).into_response())
}

/// The pending sign-on and where to go on to, as `start` kept them.
fn kept(jar: &CookieJar) -> Option<(SsoPending, String)> {
    let value = jar.get(SSO_COOKIE)?.value().to_owned();
    let (pending, next) = value.split_once('~')?;
    let next = urlencoding::decode(next).ok()?.into_owned();
    Some((
        SsoPending::decode(pending)?,
        safe_next(Some(&next), "/home"),
    ))
}

async fn callback(
    State(state): State<AppState>,
    viewer: Viewer,
    jar: CookieJar,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    let kept = kept(&jar);
    let jar = jar.remove(Cookie::build(SSO_COOKIE).path(SSO_PATH));
    let answer = q.get("state").zip(q.get("code"));
    let outcome = match (kept, answer) {
        (Some((pending, next)), Some((sent_state, code))) => state
            .services
            .sso_finish(&pending, sent_state, code)
            .await
            .map(|issued| (issued, next)),
        // Declined at the provider (`error=access_denied`), or no sign-on
        // was started in this browser.
        _ => Err(opcity_services::ServiceError::Refused {
            code: opcity_services::ErrorCode::SsoFailed,
            field: "sso",
        }),
    };
    match outcome {
        Ok((issued, next)) => {
            let jar = guest::forget(jar.add(session_cookie(
                issued.token,
                SESSION_TTL.num_seconds(),
                state.config.secure_cookies,
            )));
            Ok((jar, Redirect::to(&next)).into_response())
        }
        Err(opcity_services::ServiceError::Refused { .. }) => {
            refused(&state, &viewer, jar, "login.sso_failed")
        }
        Err(opcity_services::ServiceError::Forbidden) => {
            refused(&state, &viewer, jar, "login.sso_disabled")
        }
        Err(other) => Err(viewer.fail(other)),
    }
}

fn refused(
    state: &AppState,
    viewer: &Viewer,
    jar: CookieJar,
    key: &str,
) -> Result<axum::response::Response, PageError> {
    let (jar, csrf) = guest::token(state, jar);
    let page = render_login(
        state,
        viewer,
        &csrf,
        "/home",
        "",
        Said::Error(t(viewer.locale, key)),
    );
    // A disabled account is known and refused (403); an attempt that did
    // not complete signed nobody in (401).
    let status = if key == "login.sso_disabled" {
        StatusCode::FORBIDDEN
    } else {
        StatusCode::UNAUTHORIZED
    };
    Ok((status, jar, page).into_response())
}
