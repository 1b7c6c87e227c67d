//! A founder's own account: `/sign-up` (the form), `/sign-up/sent` (what
//! happens next), `/verify-email` (the mailed link: a button that confirms
//! the address, so a mail scanner opening the link confirms nothing).
//! Ids: the form `sign-up-form`, each control `f-NAME`, the summary
//! `form-errors`, the confirm button `verify-submit`.

use super::guest::{self, Input};
use super::layout::page;
use super::{PageResult, flow};
use crate::AppState;
use crate::extract::{ClientAddress, Viewer};
use crate::i18n::{Locale, t};
use axum::Router;
use axum::extract::{Form, Query, State};
use axum::response::{IntoResponse, Redirect};
use axum::routing::get;
use axum_extra::extract::CookieJar;
use maud::{Markup, html};
use opcity_services::FieldError;
use opcity_services::sign_up::{Awaiting, SignUp};
use std::collections::HashMap;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/sign-up", get(show).post(send))
        .route("/sign-up/sent", get(sent))
        .route("/verify-email", get(verify_form).post(verify))
}

type Values = HashMap<String, String>;

const FIELDS: [Input<'static>; 5] = [
    Input {
        name: "display_name",
        kind: "text",
        autocomplete: "name",
        hint: None,
    },
    Input {
        name: "username",
        kind: "text",
        autocomplete: "username",
        hint: None,
    },
    Input {
        name: "email",
        kind: "email",
        autocomplete: "email",
        hint: None,
    },
    Input {
        name: "password",
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

fn hint(l: Locale, name: &str) -> Option<&'static str> {
    match name {
        "username" => Some(t(l, "sign_up.username_hint")),
        "email" => Some(t(l, "sign_up.email_hint")),
        "password" => Some(t(l, "sign_up.password_hint")),
        _ => None,
    }
}

fn render(
    state: &AppState,
    viewer: &Viewer,
    csrf: &str,
    values: &Values,
    errors: &[FieldError],
) -> Markup {
    let l = viewer.locale;
    let value = |name: &str| values.get(name).map_or("", String::as_str);
    let locale = values
        .get("locale")
        .map_or(if l == Locale::En { "en" } else { "zh-CN" }, String::as_str);
    let notify = values.get("notify").is_some_and(|v| v == "on");
    let body = html! {
        (flow::error_summary(l, "sign_up", "f-", errors))
        section.card {
            h1 { (t(l, "sign_up.title")) }
            p { (t(l, "sign_up.lead")) }
            p.hint {
                @if state.services.mail_enabled() { (t(l, "sign_up.by_email")) }
                @else { (t(l, "sign_up.by_operator")) }
            }
            form.stack method="post" action="/sign-up" id="sign-up-form" novalidate {
                input type="hidden" name="_csrf" value=(csrf);
                @for spec in &FIELDS {
                    @let spec = Input { hint: hint(l, spec.name), ..*spec };
                    (guest::input(l, "sign_up", &spec, value(spec.name), errors))
                }
                @let locale_errors: Vec<&FieldError> = errors.iter().filter(|e| e.field == "locale").collect();
                div.field.invalid[!locale_errors.is_empty()] {
                    label for="f-locale" { (t(l, "sign_up.locale")) }
                    select id="f-locale" name="locale" {
                        @for tag in ["zh-CN", "en"] {
                            option value=(tag) selected[locale == tag] { (t(l, &format!("settings.locale.{tag}"))) }
                        }
                    }
                    (super::forms::messages(l, "f-locale", locale_errors))
                }
                div.field {
                    label.inline {
                        input type="checkbox" name="notify" id="f-notify" checked[notify];
                        " " (t(l, "sign_up.notify"))
                    }
                }
                p.hint { (t(l, "sign_up.privacy")) " " a href="/privacy" { (t(l, "sign_up.privacy_link")) } }
                button type="submit" id="sign-up-submit" { (t(l, "sign_up.submit")) }
            }
            p { (t(l, "sign_up.have_account")) " " a href="/login" { (t(l, "login.title")) } }
        }
    };
    page(viewer, t(l, "sign_up.title"), body)
}

async fn show(State(state): State<AppState>, viewer: Viewer, jar: CookieJar) -> PageResult {
    if viewer.actor.is_some() {
        return Ok(Redirect::to("/home").into_response());
    }
    let (jar, csrf) = guest::token(&state, jar);
    Ok((jar, render(&state, &viewer, &csrf, &Values::new(), &[])).into_response())
}

async fn send(
    State(state): State<AppState>,
    ClientAddress(from): ClientAddress,
    viewer: Viewer,
    jar: CookieJar,
    Form(form): Form<Values>,
) -> PageResult {
    let csrf = guest::check(&viewer, &jar, &form)?;
    let field = |name: &str| form.get(name).cloned().unwrap_or_default();
    let input = SignUp {
        username: field("username").trim().to_owned(),
        display_name: field("display_name"),
        email: field("email"),
        password: field("password"),
        confirm_password: field("confirm_password"),
        locale: field("locale"),
        notify: form.get("notify").is_some_and(|v| v == "on"),
    };
    match state.services.sign_up(&input, from).await {
        Ok(done) => {
            let awaiting = done.awaiting.id();
            let mailed = u8::from(done.mailed);
            Ok(Redirect::to(&format!(
                "/sign-up/sent?awaiting={awaiting}&mailed={mailed}"
            ))
            .into_response())
        }
        Err(err) => {
            flow::again(&viewer, err, async |errors| {
                Ok(render(&state, &viewer, &csrf, &form, &errors).into_response())
            })
            .await
        }
    }
}

/// What happens next: the mail to open, or an administrator to wait for.
async fn sent(viewer: Viewer, Query(q): Query<Values>) -> PageResult {
    let l = viewer.locale;
    let awaiting = q.get("awaiting").and_then(|a| Awaiting::parse(a));
    let mailed = q.get("mailed").is_some_and(|m| m == "1");
    let (title, text) = match (awaiting, mailed) {
        (Some(Awaiting::Email), true) => ("sign_up.sent_title", "sign_up.sent_email"),
        (Some(Awaiting::Email), false) => ("sign_up.made_title", "sign_up.sent_failed"),
        _ => ("sign_up.made_title", "sign_up.sent_operator"),
    };
    let body = html! {
        section.card.notice.success role="status" id="sign-up-done" {
            h1 { (t(l, title)) }
            p { (t(l, text)) }
            p { a href="/login" { (t(l, "login.title")) } }
        }
    };
    Ok(page(&viewer, t(l, title), body).into_response())
}

fn render_verify(viewer: &Viewer, csrf: &str, secret: &str, expired: bool) -> PageResult {
    let l = viewer.locale;
    let body = html! {
        section.card {
            h1 { (t(l, "verify.title")) }
            @if expired {
                div.notice.error role="alert" id="verify-error" {
                    p { (t(l, "field.link_expired")) }
                    p { (t(l, "verify.expired_next")) }
                }
                p { a href="/login" { (t(l, "login.title")) } }
            } @else {
                p { (t(l, "verify.lead")) }
                form method="post" action="/verify-email" {
                    input type="hidden" name="_csrf" value=(csrf);
                    input type="hidden" name="k" value=(secret);
                    button type="submit" id="verify-submit" { (t(l, "verify.submit")) }
                }
            }
        }
    };
    guest::link_page(viewer, t(l, "verify.title"), expired, body)
}

async fn verify_form(
    State(state): State<AppState>,
    viewer: Viewer,
    jar: CookieJar,
    Query(q): Query<Values>,
) -> PageResult {
    let (jar, csrf) = guest::token(&state, jar);
    let secret = q.get("k").cloned().unwrap_or_default();
    let expired = match state.services.verify_link_works(&secret).await {
        Ok(()) => false,
        Err(opcity_services::ServiceError::Validation(_)) => true,
        Err(other) => return Err(viewer.fail(other)),
    };
    let page = render_verify(&viewer, &csrf, &secret, expired)?;
    Ok((jar, page).into_response())
}

async fn verify(
    State(state): State<AppState>,
    viewer: Viewer,
    jar: CookieJar,
    Form(form): Form<Values>,
) -> PageResult {
    let csrf = guest::check(&viewer, &jar, &form)?;
    let secret = form.get("k").cloned().unwrap_or_default();
    match state.services.confirm_email(&secret).await {
        Ok(_) => Ok(Redirect::to("/login?done=confirmed").into_response()),
        Err(opcity_services::ServiceError::Validation(_)) => {
            render_verify(&viewer, &csrf, "", true)
        }
        Err(other) => Err(viewer.fail(other)),
    }
}
