//! A forgotten password: `/password/forgot` asks for the username or the
//! address and mails a link (the page says the same whether or not an
//! account matched); `/password/reset?k=…` sets a new password through it.
//! Without e-mail the first page says whom to ask instead. Ids: the forms
//! `forgot-form` and `reset-form`, each control `f-NAME`, the notices
//! `forgot-sent` and `reset-error`.

use super::guest::{self, Input};
use super::layout::page;
use super::{PageResult, flow};
use crate::AppState;
use crate::extract::Viewer;
use crate::i18n::t;
use axum::Router;
use axum::extract::{Form, Query, State};
use axum::response::{IntoResponse, Redirect};
use axum::routing::get;
use axum_extra::extract::CookieJar;
use maud::html;
use opcity_services::{FieldError, ServiceError};
use std::collections::HashMap;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/password/forgot", get(forgot_form).post(forgot))
        .route("/password/reset", get(reset_form).post(reset))
}

type Values = HashMap<String, String>;

const WHO: Input<'static> = Input {
    name: "who",
    kind: "text",
    autocomplete: "username",
    hint: None,
};
const NEW_PASSWORD: [Input<'static>; 2] = [
    Input {
        name: "new_password",
        kind: "password",
        autocomplete: "new-password",
        hint: None,
    },
    Input {
        name: "confirm_password",
        kind: "password",
        autocomplete: "new-password",
        hint: None,
    },
];

fn render_forgot(
    state: &AppState,
    viewer: &Viewer,
    csrf: &str,
    (who, errors): (&str, &[FieldError]),
    sent: bool,
) -> PageResult {
    let l = viewer.locale;
    let body = html! {
        (flow::error_summary(l, "forgot", "f-", errors))
        section.card {
            h1 { (t(l, "forgot.title")) }
            @if !state.services.mail_enabled() {
                p id="forgot-without-mail" { (t(l, "login.forgot_without_mail")) }
            } @else if sent {
                div.notice.success role="status" id="forgot-sent" {
                    p { (t(l, "forgot.sent")) }
                }
                p { a href="/login" { (t(l, "login.title")) } }
            } @else {
                p { (t(l, "forgot.lead")) }
                form.stack method="post" action="/password/forgot" id="forgot-form" novalidate {
                    input type="hidden" name="_csrf" value=(csrf);
                    (guest::input(l, "forgot", &WHO, who, errors))
                    button type="submit" id="forgot-submit" { (t(l, "forgot.submit")) }
                }
            }
        }
    };
    Ok(page(viewer, t(l, "forgot.title"), body).into_response())
}

async fn forgot_form(
    State(state): State<AppState>,
    viewer: Viewer,
    jar: CookieJar,
    Query(q): Query<Values>,
) -> PageResult {
    let (jar, csrf) = guest::token(&state, jar);
    let sent = q.get("done").is_some_and(|d| d == "sent");
    let page = render_forgot(&state, &viewer, &csrf, ("", &[]), sent)?;
    Ok((jar, page).into_response())
}

async fn forgot(
    State(state): State<AppState>,
    viewer: Viewer,
    jar: CookieJar,
    Form(form): Form<Values>,
) -> PageResult {
    let csrf = guest::check(&viewer, &jar, &form)?;
    let who = form.get("who").cloned().unwrap_or_default();
    match state.services.request_password_reset(&who).await {
        Ok(()) => Ok(Redirect::to("/password/forgot?done=sent").into_response()),
        Err(err) => {
            flow::again(&viewer, err, async |errors| {
                render_forgot(&state, &viewer, &csrf, (&who, &errors), false)
            })
            .await
        }
    }
}

fn render_reset(viewer: &Viewer, csrf: &str, secret: &str, errors: &[FieldError]) -> PageResult {
    let l = viewer.locale;
    let expired = errors.iter().any(|e| e.code == "link_expired");
    let body = html! {
        section.card {
            h1 { (t(l, "reset.title")) }
            @if expired {
                div.notice.error role="alert" id="reset-error" {
                    p { (t(l, "field.link_expired")) }
                }
                p { a href="/password/forgot" id="reset-again" { (t(l, "reset.ask_again")) } }
            } @else {
                (flow::error_summary(l, "reset", "f-", errors))
                p.hint { (t(l, "password.explain")) }
                form.stack method="post" action="/password/reset" id="reset-form" novalidate {
                    input type="hidden" name="_csrf" value=(csrf);
                    input type="hidden" name="k" value=(secret);
                    @for spec in &NEW_PASSWORD {
                        (guest::input(l, "reset", spec, "", errors))
                    }
                    button type="submit" id="reset-submit" { (t(l, "reset.submit")) }
                }
            }
        }
    };
    guest::link_page(viewer, t(l, "reset.title"), expired, body)
}

async fn reset_form(
    State(state): State<AppState>,
    viewer: Viewer,
    jar: CookieJar,
    Query(q): Query<Values>,
) -> PageResult {
    let (jar, csrf) = guest::token(&state, jar);
    let secret = q.get("k").cloned().unwrap_or_default();
    let errors = match state.services.reset_link_works(&secret).await {
        Ok(()) => Vec::new(),
        Err(ServiceError::Validation(errors)) => errors,
        Err(other) => return Err(viewer.fail(other)),
    };
    let page = render_reset(&viewer, &csrf, &secret, &errors)?;
    Ok((jar, page).into_response())
}

async fn reset(
    State(state): State<AppState>,
    viewer: Viewer,
    jar: CookieJar,
    Form(form): Form<Values>,
) -> PageResult {
    let csrf = guest::check(&viewer, &jar, &form)?;
    let field = |name: &str| form.get(name).cloned().unwrap_or_default();
    let secret = field("k");
    let outcome = state
        .services
        .reset_password(&secret, &field("new_password"), &field("confirm_password"))
        .await;
    match outcome {
        Ok(()) => Ok(Redirect::to("/login?done=reset").into_response()),
        Err(err) => {
            flow::again(&viewer, err, async |errors| {
                render_reset(&viewer, &csrf, &secret, &errors)
            })
            .await
        }
    }
}
