//! A founder's benefits on their workspace: what they hold (every grant
//! row: instalments, vouchers, requests, titles, referrals), "you may now
//! qualify for …" notices from proactive matching, and their current
//! results.

use crate::AppState;
use crate::extract::Viewer;
use crate::i18n::{Locale, t, tf};
use axum::Router;
use axum::extract::{Form, State};
use axum::response::Redirect;
use axum::routing::post;
use maud::{Markup, html};
use opcity_domain::Fen;
use opcity_services::grants::GrantView;
use opcity_services::matching::Entitlement;
use opcity_services::{Actor, Result};
use std::collections::HashMap;

pub fn routes() -> Router<AppState> {
    Router::new().route("/notifications/read", post(mark_read))
}

pub(super) fn figure(l: Locale, e: &Entitlement) -> String {
    let yuan = |f: i64| Fen(f).to_string();
    match (e.monthly_fen, e.months, e.amount_fen, e.ceiling_fen) {
        (Some(m), Some(n), _, _) => tf(
            l,
            "selfcheck.monthly",
            [
                ("monthly", yuan(m).as_str()),
                ("months", n.to_string().as_str()),
            ],
        ),
        (_, _, Some(a), _) => tf(l, "selfcheck.amount", [("amount", yuan(a).as_str())]),
        (_, _, _, Some(c)) => tf(l, "selfcheck.ceiling", [("amount", yuan(c).as_str())]),
        (_, Some(n), _, _) => tf(l, "selfcheck.months", [("months", n.to_string().as_str())]),
        _ => String::new(),
    }
}

/// A held benefit's programme, linked to the application it came from.
fn held_source(g: &GrantView, title: &str) -> Markup {
    match g.source.strip_prefix("application:") {
        Some(id) => html! { a href={ "/applications/" (id) } { (title) } },
        None => html! { (title) },
    }
}

/// What a held benefit is: the kind, and for a title's support its item.
fn held_what(l: Locale, g: &GrantView) -> String {
    let kind = t(l, &format!("benefits.benefit.{}", g.benefit));
    if g.benefit == "support" {
        format!(
            "{kind}: {}",
            t(l, &format!("application.support.{}", g.detail))
        )
    } else {
        kind.to_owned()
    }
}

fn held_figure(g: &GrantView) -> String {
    match (g.amount_fen, g.quantity) {
        (Some(a), _) => Fen(a).to_string(),
        (None, Some(q)) => q.to_string(),
        (None, None) => String::new(),
    }
}

/// The section, or nothing for accounts without a person or enterprise.
pub async fn section(state: &AppState, viewer: &Viewer, actor: &Actor) -> Result<Markup> {
    if actor.person_id.is_none() && actor.enterprise_ids.is_empty() {
        return Ok(html! {});
    }
    let l = viewer.locale;
    let offered = super::apply::offers_apply(state, viewer);
    let (results, notes, holdings) = tokio::try_join!(
        state.services.my_entitlements(actor),
        state.services.notifications(actor, 50),
        state.services.my_holdings(actor),
    )?;
    let titles = super::inbox::programme_titles(state, l);
    let title = |id: &str| titles.get(id).cloned().unwrap_or_else(|| id.to_owned());
    let unread: Vec<_> = notes
        .iter()
        .filter(|n| !n.read && n.kind == "may_qualify")
        .collect();
    let open: Vec<&Entitlement> = results
        .iter()
        .filter(|e| e.status != "ineligible")
        .collect();
    Ok(html! {
        @if !unread.is_empty() {
            section.notice.success id="may-qualify" role="status" {
                strong { (t(l, "benefits.may_qualify")) }
                ul { @for n in &unread { li { (title(n.programme.as_deref().unwrap_or(""))) } } }
                form.inline method="post" action="/notifications/read" {
                    input type="hidden" name="_csrf" value=(viewer.csrf.clone().unwrap_or_default());
                    button.secondary type="submit" { (t(l, "benefits.mark_read")) }
                }
            }
        }
        @if !holdings.is_empty() {
            h2 { (t(l, "benefits.held")) }
            table.cards id="my-holdings" {
                thead { tr { th { (t(l, "benefits.programme")) } th { (t(l, "benefits.what")) } th { (t(l, "benefits.figure")) } th { (t(l, "benefits.period")) } } }
                tbody {
                    @for g in &holdings {
                        tr data-programme=(g.programme) data-benefit=(g.benefit) {
                            td data-label=(t(l, "benefits.programme")) { (held_source(g, &title(&g.programme))) }
                            td data-label=(t(l, "benefits.what")) { (held_what(l, g)) }
                            td data-label=(t(l, "benefits.figure")) { (held_figure(g)) }
                            td data-label=(t(l, "benefits.period")) { (g.from) " – " @if let Some(to) = g.to { (to) } @else { (t(l, "benefits.open_ended")) } }
                        }
                    }
                }
            }
        }
        h2 { (t(l, "benefits.title")) }
        p.hint { (t(l, "benefits.explain")) }
        table.cards id="my-benefits" {
            thead { tr { th { (t(l, "benefits.programme")) } th { (t(l, "benefits.status")) } th { (t(l, "benefits.figure")) } th { (t(l, "benefits.missing")) } th { span.visually-hidden { (t(l, "apply.apply")) } } } }
            tbody {
                @for e in &open {
                    tr data-programme=(e.programme) data-status=(e.status) {
                        td data-label=(t(l, "benefits.programme")) { (title(&e.programme)) }
                        td data-label=(t(l, "benefits.status")) { span class={ "badge " (e.status) } { (t(l, &format!("status.{}", e.status))) } }
                        td data-label=(t(l, "benefits.figure")) { (figure(l, e)) }
                        td data-label=(t(l, "benefits.missing")) { (e.missing_facts.iter().map(|f| t(l, f)).collect::<Vec<_>>().join("、")) }
                        td { (super::apply::apply_link(viewer, &e.programme, offered)) }
                    }
                }
            }
        }
        p { a href="/self-check" { (t(l, "benefits.try_self_check")) } }
    })
}

async fn mark_read(
    State(state): State<AppState>,
    viewer: Viewer,
    Form(form): Form<HashMap<String, String>>,
) -> std::result::Result<Redirect, super::PageError> {
    let actor = viewer.require()?;
    viewer.check_csrf(form.get("_csrf"))?;
    state
        .services
        .mark_notifications_read(actor)
        .await
        .map_err(|e| viewer.fail(e))?;
    // Back where the button was: the inbox, or the workspace.
    let next = match form.get("next").map(String::as_str) {
        Some("/inbox") => "/inbox",
        _ => "/home",
    };
    Ok(Redirect::to(next))
}
