//! Administering accounts: everyone who may read accounts sees them by
//! name, role, district and state; administrators create accounts (for
//! staff, with the role and district they work in) and enable or disable
//! them, the forms drawn only for them. An administrator account another
//! administrator made waits for a second one, and says so.

use super::forms::{self, Values, district_name};
use super::layout::page;
use super::{PageResult, flow};
use crate::AppState;
use crate::extract::Viewer;
use crate::i18n::{Locale, t, tf};
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use maud::{Markup, html};
use opcity_domain::{District, Role};
use opcity_services::account_admin::RoleChange;
use opcity_services::accounts::{AccountView, NewAccount};
use opcity_services::sign_up::Awaiting;
use opcity_services::{FieldError, ServiceError};
use std::collections::HashMap;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/accounts", get(list).post(create))
        .route("/accounts/{id}/role", post(change_role))
        .route("/accounts/{id}/password", post(set_password))
        .route("/accounts/{id}/{action}", post(act))
}

const FORM: &str = "account-form";
const LOCALES: [&str; 2] = ["zh-CN", "en"];

fn status(l: Locale, a: &AccountView) -> Markup {
    let (key, class) = match (a.disabled, a.awaits_second_admin, a.awaiting) {
        (_, true, _) => ("accounts.status.awaits_second_admin", "state-submitted"),
        (_, _, Some(Awaiting::Email)) => ("accounts.status.awaiting_email", "state-submitted"),
        (_, _, Some(Awaiting::Operator)) => {
            ("accounts.status.awaiting_operator", "state-submitted")
        }
        (true, false, None) => ("accounts.status.disabled", "state-closed"),
        (false, false, None) => ("accounts.status.enabled", "state-approved"),
    };
    html! { span class={ "badge " (class) } { (t(l, key)) } }
}

/// The buttons an administrator may use on account `a`.
fn actions(viewer: &Viewer, a: &AccountView) -> Markup {
    let l = viewer.locale;
    let me = viewer.actor.as_ref().map(|x| x.account_id);
    let button = |action: &str, key: &str| {
        html! {
            form.inline method="post" action={ "/accounts/" (a.id) "/" (action) } {
                input type="hidden" name="_csrf" value=(viewer.csrf.clone().unwrap_or_default());
                button.secondary type="submit" id={ (action) "-" (a.id) }
                    aria-label=(tf(l, &format!("{key}_named"), [("name", a.display_name.as_str())])) { (t(l, key)) }
            }
        }
    };
    html! {
        @if a.awaiting.is_some() { (button("enable", "accounts.confirm")) }
        @else if a.disabled { (button("enable", "accounts.enable")) }
        @else if me != Some(a.id) { (button("disable", "accounts.disable")) }
        @if me != Some(a.id) && a.awaiting.is_none() && a.password_settable { (button("password", "accounts.password_set")) }
    }
}

/// The form `role-ID` that gives account `a` another role and district,
/// with `sent`'s choices and messages when it was the one refused.
fn role_form(
    viewer: &Viewer,
    a: &AccountView,
    (sent, errors): (Option<&Values>, &[FieldError]),
) -> Markup {
    let l = viewer.locale;
    let form_id = format!("role-{}", a.id);
    let role = sent
        .and_then(|v| v.get("role"))
        .map_or(a.role.id(), String::as_str);
    let district = sent
        .and_then(|v| v.get("district"))
        .map_or(a.district.map_or("", District::id), String::as_str);
    let name = [("name", a.display_name.as_str())];
    html! {
        form.inline id=(form_id) method="post" action={ "/accounts/" (a.id) "/role" } {
            input type="hidden" name="_csrf" value=(viewer.csrf.clone().unwrap_or_default());
            input type="hidden" name=(flow::FORM_ID) value=(form_id);
            input type="hidden" name="seen_role" value=(a.role.id());
            input type="hidden" name="seen_district" value=(a.district.map_or("", District::id));
            select id={ "role-" (a.id) "-role" } name="role" aria-label=(tf(l, "accounts.role_of", name)) {
                @for r in Role::ALL { option value=(r.id()) selected[role == r.id()] { (t(l, &format!("role.{}", r.id()))) } }
            }
            select id={ "role-" (a.id) "-district" } name="district" aria-label=(tf(l, "accounts.district_of", name)) {
                option value="" selected[district.is_empty()] { (t(l, "accounts.no_district")) }
                @for d in District::ALL { option value=(d.id()) selected[district == d.id()] { (district_name(l, d)) } }
            }
            button.secondary type="submit" id={ "change-role-" (a.id) } { (t(l, "accounts.change_role")) }
            (forms::messages(l, &format!("role-{}", a.id), errors))
        }
    }
}

fn create_form(viewer: &Viewer, typed: &Values, errors: &[FieldError]) -> Markup {
    let l = viewer.locale;
    let value = |name: &str| typed.get(name).cloned().unwrap_or_default();
    let field = |name: &str, control: Markup| {
        let id = format!("f-{name}");
        let own: Vec<&FieldError> = errors.iter().filter(|e| e.field == name).collect();
        html! {
            div.field.invalid[!own.is_empty()] {
                label for=(id) { (t(l, &format!("accounts.{name}"))) }
                (control)
                (forms::messages(l, &id, own))
            }
        }
    };
    html! {
        section.card {
            h2 { (t(l, "accounts.create")) }
            form.stack method="post" action="/accounts" id=(FORM) novalidate {
                input type="hidden" name="_csrf" value=(viewer.csrf.clone().unwrap_or_default());
                input type="hidden" name=(flow::FORM_ID) value=(FORM);
                (field("display_name", html! { input id="f-display_name" name="display_name" type="text" value=(value("display_name")) required; }))
                (field("username", html! { input id="f-username" name="username" type="text" autocomplete="off" value=(value("username")) required; }))
                (field("role", html! { select id="f-role" name="role" {
                    @for r in Role::ALL { option value=(r.id()) selected[value("role") == r.id()] { (t(l, &format!("role.{}", r.id()))) } }
                } }))
                (field("district", html! { select id="f-district" name="district" {
                    option value="" { (t(l, "accounts.no_district")) }
                    @for d in District::ALL { option value=(d.id()) selected[value("district") == d.id()] { (district_name(l, d)) } }
                } }))
                (field("locale", html! { select id="f-locale" name="locale" {
                    @for tag in LOCALES { option value=(tag) selected[value("locale") == tag] { (t(l, &format!("settings.locale.{tag}"))) } }
                } }))
                (field("password", html! { input id="f-password" name="password" type="password" autocomplete="new-password" required; }))
                p.hint { (t(l, "accounts.password_hint")) }
                div { button type="submit" id="account-create" { (t(l, "accounts.create")) } }
            }
        }
    }
}

/// What the accounts page says at its top after an action.
enum Said<'a> {
    /// `accounts.done.{key}`.
    Done(&'a str),
    /// A new password for the account named, shown this once.
    Password(&'a str, &'a str),
}

async fn render(
    state: &AppState,
    viewer: &Viewer,
    typed: &Values,
    errors: &[FieldError],
    said: Option<Said<'_>>,
) -> PageResult {
    let actor = viewer.require()?;
    let l = viewer.locale;
    let accounts = state
        .services
        .list_accounts(actor)
        .await
        .map_err(|e| viewer.fail(e))?;
    let manage = state.services.may_manage_accounts(actor);
    let posted = typed;
    let (typed, form_errors) = flow::posted(FORM, typed, errors);
    let body = html! {
        (flow::error_summary(l, "accounts", "f-", errors))
        h1 { (t(l, "accounts.title")) }
        @match said {
            Some(Said::Done(done)) => p.notice.success role="status" id="account-done" { (t(l, &format!("accounts.done.{done}"))) },
            Some(Said::Password(name, password)) => div.notice.success role="status" id="account-done" {
                p { (tf(l, "accounts.done.password", [("name", name)])) }
                p { code id="new-password" { (password) } }
            },
            None => {},
        }
        div.table-wrap { table id="accounts" {
            thead { tr {
                th { (t(l, "accounts.display_name")) } th { (t(l, "accounts.username")) } th { (t(l, "accounts.role")) }
                th { (t(l, "accounts.district")) } th { (t(l, "accounts.locale")) } th { (t(l, "accounts.state")) }
                @if manage { th { span.visually-hidden { (t(l, "accounts.actions")) } } }
            } }
            tbody { @for a in &accounts {
                tr id={ "account-" (a.id) } data-disabled=(a.disabled) {
                    td { (a.display_name) } td.mono { (a.username) } td { (t(l, &format!("role.{}", a.role.id()))) }
                    td { (a.district.map(|d| district_name(l, d)).unwrap_or("—")) }
                    td { (t(l, &format!("settings.locale.{}", a.locale))) }
                    td { (status(l, a)) }
                    @if manage { td {
                        (actions(viewer, a))
                        @if viewer.actor.as_ref().map(|x| x.account_id) != Some(a.id) {
                            (role_form(viewer, a, flow::posted(&format!("role-{}", a.id), posted, errors)))
                        }
                    } }
                }
            } }
        } }
        @if manage { (create_form(viewer, typed.unwrap_or(&Values::new()), form_errors)) }
    };
    Ok(page(viewer, t(l, "accounts.title"), body).into_response())
}

async fn list(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    let done = q
        .get("done")
        .map(String::as_str)
        .filter(|d| ["created", "enabled", "disabled", "role"].contains(d));
    render(&state, &viewer, &Values::new(), &[], done.map(Said::Done)).await
}

async fn create(
    State(state): State<AppState>,
    viewer: Viewer,
    Form(form): Form<Values>,
) -> PageResult {
    let actor = viewer.require()?.clone();
    let mut errors = Vec::new();
    let role = role_of(&form, "role", &mut errors);
    let district = district_of(&form, "district", &mut errors);
    let input = NewAccount {
        username: forms::text(&form, "username"),
        display_name: forms::text(&form, "display_name"),
        password: form.get("password").cloned().unwrap_or_default(),
        role,
        district,
        locale: forms::opt(&form, "locale").unwrap_or_else(|| "zh-CN".to_owned()),
    };
    flow::post(
        &viewer,
        &form,
        errors,
        async || state.services.create_account(Some(&actor), input).await,
        |_| Redirect::to("/accounts?done=created").into_response(),
        async |errors| render(&state, &viewer, &form, &errors, None).await,
    )
    .await
}

/// The district a form names (empty: none), or its field error.
fn district_of(
    form: &Values,
    name: &'static str,
    errors: &mut Vec<FieldError>,
) -> Option<District> {
    let d = forms::opt(form, name)?;
    d.parse::<District>()
        .map_err(|_| errors.push(FieldError::new(name, "unknown_district").with("value", d)))
        .ok()
}

/// The role a form names, or its field error.
fn role_of(form: &Values, name: &'static str, errors: &mut Vec<FieldError>) -> Role {
    forms::text(form, name).parse::<Role>().unwrap_or_else(|_| {
        errors.push(FieldError::new(name, "unknown_role"));
        Role::Founder
    })
}

async fn change_role(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(form): Form<Values>,
) -> PageResult {
    let actor = viewer.require()?.clone();
    let mut errors = Vec::new();
    let change = RoleChange {
        role: role_of(&form, "role", &mut errors),
        district: district_of(&form, "district", &mut errors),
        seen_role: role_of(&form, "seen_role", &mut errors),
        seen_district: district_of(&form, "seen_district", &mut errors),
    };
    flow::post(
        &viewer,
        &form,
        errors,
        async || {
            state
                .services
                .change_account_role(&actor, id, &change)
                .await
        },
        |_| Redirect::to("/accounts?done=role").into_response(),
        async |errors| render(&state, &viewer, &form, &errors, None).await,
    )
    .await
}

async fn act(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, action)): Path<(i64, String)>,
    Form(form): Form<Values>,
) -> PageResult {
    let actor = viewer.require()?.clone();
    flow::post(
        &viewer,
        &form,
        Vec::new(),
        async || match action.as_str() {
            "enable" => state.services.set_account_enabled(&actor, id, true).await,
            "disable" => state.services.set_account_enabled(&actor, id, false).await,
            _ => Err(ServiceError::NotFound { entity: "action" }),
        },
        |view| {
            let done = if view.disabled { "disabled" } else { "enabled" };
            Redirect::to(&format!("/accounts?done={done}")).into_response()
        },
        async |errors| render(&state, &viewer, &Values::new(), &errors, None).await,
    )
    .await
}

/// A new password for account `id`, shown on the page this once (never in
/// an address, where it would be logged).
async fn set_password(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(form): Form<Values>,
) -> PageResult {
    let actor = viewer.require()?.clone();
    viewer.check_csrf(form.get("_csrf"))?;
    match state.services.set_temporary_password(&actor, id).await {
        Ok(password) => {
            let accounts = state.services.list_accounts(&actor).await;
            let accounts = accounts.map_err(|e| viewer.fail(e))?;
            let name = accounts
                .iter()
                .find(|a| a.id == id)
                .map_or_else(String::new, |a| a.display_name.clone());
            let said = Said::Password(&name, &password);
            render(&state, &viewer, &Values::new(), &[], Some(said)).await
        }
        Err(err) => {
            flow::again(&viewer, err, async |errors| {
                render(&state, &viewer, &Values::new(), &errors, None).await
            })
            .await
        }
    }
}
