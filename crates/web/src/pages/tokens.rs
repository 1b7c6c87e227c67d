//! API access, under Settings (`/settings/tokens`): one's own tokens for
//! systems that call the open API (a provider's till, a community's
//! booking system, a founder's own tools), kept off the workspace where
//! most people never need them. A token's secret is shown once, on the
//! page that answers its creation; only its hash is kept.
//!
//! Stable element ids: the table `tokens` (rows `token-ID` with
//! `data-status`), the form `token-form` (field `f-name`), the secret
//! `token-secret`, the notice `token-done`.

use super::layout::page;
use super::{PageResult, flow};
use crate::AppState;
use crate::extract::Viewer;
use crate::i18n::t;
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use maud::html;
use opcity_services::{FieldError, ServiceError};
use std::collections::HashMap;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/settings/tokens", get(show))
        .route("/tokens", post(create))
        .route("/tokens/{id}/revoke", post(revoke))
}

type Values = HashMap<String, String>;

/// The page: the viewer's tokens and the form for a new one, with `typed`
/// and `errors` when a creation was refused.
async fn render(
    state: &AppState,
    viewer: &Viewer,
    (typed, errors): (&str, &[FieldError]),
    revoked: bool,
) -> PageResult {
    let actor = viewer.require()?;
    let l = viewer.locale;
    let tokens = state
        .services
        .list_api_tokens(actor)
        .await
        .map_err(|e| viewer.fail(e))?;
    let csrf = viewer.csrf.clone().unwrap_or_default();
    let shanghai = opcity_domain::civil_date::shanghai();
    let own: Vec<&FieldError> = errors.iter().filter(|e| e.field == "name").collect();
    let body = html! {
        (flow::error_summary(l, "tokens", "f-", errors))
        h1 { (t(l, "tokens.title")) }
        p.hint { (t(l, "tokens.explain")) }
        @if revoked { section.notice.success id="token-done" role="status" { (t(l, "tokens.revoked_notice")) } }
        @if tokens.is_empty() {
            p id="no-tokens" { (t(l, "tokens.none")) }
        } @else {
            table id="tokens" {
                thead { tr { th { (t(l, "tokens.name")) } th { (t(l, "tokens.prefix")) } th { (t(l, "tokens.created")) } th { (t(l, "tokens.status")) } th {} } }
                tbody {
                    @for token in &tokens {
                        @let status = if token.revoked_at.is_some() { "revoked" } else { "active" };
                        tr id={ "token-" (token.id) } data-status=(status) {
                            td { (token.name) }
                            td.mono { (token.prefix) "…" }
                            td { (token.created_at.with_timezone(&shanghai).format("%Y-%m-%d %H:%M")) }
                            td { (t(l, &format!("tokens.{status}"))) }
                            td {
                                @if token.revoked_at.is_none() {
                                    form.inline method="post" action={ "/tokens/" (token.id) "/revoke" } {
                                        input type="hidden" name="_csrf" value=(csrf);
                                        button.secondary type="submit" id={ "revoke-" (token.id) } { (t(l, "tokens.revoke")) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        section.card {
            h2 { (t(l, "tokens.new")) }
            form.stack method="post" action="/tokens" id="token-form" novalidate {
                input type="hidden" name="_csrf" value=(csrf);
                div.field.invalid[!own.is_empty()] {
                    label for="f-name" { (t(l, "tokens.name")) }
                    p.hint id="f-name-hint" { (t(l, "tokens.name_hint")) }
                    input id="f-name" name="name" type="text" maxlength="100" aria-describedby="f-name-hint" value=(typed) required;
                    (super::forms::messages(l, "f-name", own))
                }
                button type="submit" id="token-create" { (t(l, "tokens.create")) }
            }
        }
        p { a href="/settings" { (t(l, "settings.title")) } }
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((status, page(viewer, t(l, "tokens.title"), body)).into_response())
}

async fn show(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<Values>,
) -> PageResult {
    let revoked = q.get("done").is_some_and(|d| d == "revoked");
    render(&state, &viewer, ("", &[]), revoked).await
}

/// Creates a token and shows its secret once; a name that is refused is
/// named beside the field, as typed.
async fn create(
    State(state): State<AppState>,
    viewer: Viewer,
    Form(form): Form<Values>,
) -> PageResult {
    let actor = viewer.require()?;
    viewer.check_csrf(form.get("_csrf"))?;
    let l = viewer.locale;
    let name = form.get("name").cloned().unwrap_or_default();
    let (token, secret) = match state.services.create_api_token(actor, &name).await {
        Ok(created) => created,
        Err(ServiceError::Validation(errors)) => {
            return render(&state, &viewer, (&name, &errors), false).await;
        }
        Err(e) => return Err(viewer.fail(e)),
    };
    let body = html! {
        section.card {
            h1 { (t(l, "tokens.created_title")) }
            p { (t(l, "tokens.copy_now")) }
            p { strong { (token.name) } }
            pre.mono id="token-secret" { (secret) }
            a.button href="/settings/tokens" { (t(l, "tokens.title")) }
        }
    };
    Ok(page(&viewer, t(l, "tokens.created_title"), body).into_response())
}

async fn revoke(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(form): Form<Values>,
) -> PageResult {
    let actor = viewer.require()?;
    viewer.check_csrf(form.get("_csrf"))?;
    state
        .services
        .revoke_api_token(actor, id)
        .await
        .map_err(|e| viewer.fail(e))?;
    Ok(Redirect::to("/settings/tokens?done=revoked").into_response())
}
