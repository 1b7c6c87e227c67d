//! The inbox (`/inbox`): every notification of the signed-in account,
//! newest first, each saying what happened and what to do — a decision with
//! its amount, what the benefit becomes and its letter; a rejection's
//! reason; what a return asks for and by when; a flagged benefit's unmet
//! conditions and how to answer; for whoever manages premises, a space or
//! flat that ends because its benefit lapsed. The workspace shows the
//! latest few ([`latest`]).

use super::layout::page;
use super::{PageError, PageResult};
use crate::AppState;
use crate::extract::Viewer;
use crate::i18n::{Locale, t, tf};
use axum::Router;
use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::get;
use maud::{Markup, html};
use opcity_domain::Fen;
use opcity_services::Actor;
use opcity_services::applications::InboxItem;
use std::collections::HashMap;

/// Notifications the inbox shows.
const INBOX_SIZE: u64 = 100;
/// Notifications the workspace shows.
const LATEST: u64 = 3;

pub fn routes() -> Router<AppState> {
    Router::new().route("/inbox", get(inbox))
}

/// Programme ids → titles in the viewer's language.
pub(super) fn programme_titles(state: &AppState, l: Locale) -> HashMap<String, String> {
    state
        .services
        .catalogue()
        .programmes
        .into_iter()
        .map(|p| {
            let title = if l == Locale::Zh {
                p.title.zh
            } else {
                p.title.en
            };
            (p.id, title)
        })
        .collect()
}

/// One notification as a card.
fn card(l: Locale, titles: &HashMap<String, String>, item: &InboxItem) -> Markup {
    let shanghai = opcity_domain::civil_date::shanghai();
    let programme = item
        .programme
        .as_deref()
        .map(|p| titles.get(p).cloned().unwrap_or_else(|| p.to_owned()));
    let told_why = matches!(
        item.kind.as_str(),
        "application_rejected" | "application_returned"
    );
    html! {
        article.card.inbox-item data-kind=(item.kind) data-read=(item.read) id={ "notice-" (item.id) } {
            div.result-head {
                strong { (t(l, &format!("inbox.kind.{}", item.kind))) }
                span.hint {
                    @if !item.read { span.badge.state-submitted { (t(l, "inbox.unread")) } " " }
                    (item.at.with_timezone(&shanghai).format("%Y-%m-%d %H:%M"))
                }
            }
            @if let Some(p) = &programme {
                p { (p) @if let Some(id) = item.application_id { " · #" (id) } }
            }
            @if let Some(amount) = item.approved_fen {
                p.figure { (tf(l, "inbox.amount", [("amount", Fen(amount).to_string().as_str())])) }
            }
            @if let Some(kind) = &item.delivery {
                p { (tf(l, "inbox.delivery", [("kind", t(l, &format!("application.delivery_kind.{kind}")))])) }
            }
            @if let Some(due) = item.due_on {
                p { strong { (tf(l, "inbox.due", [("date", due.to_string().as_str())])) } }
            }
            @if let Some(message) = &item.message {
                blockquote.message { (tf(l, if told_why { "inbox.reason" } else { "inbox.message" }, [("reason", message.as_str())])) }
            }
            @if !item.unmet_conditions.is_empty() {
                p { (t(l, "inbox.unmet")) }
                ul.reasons { @for c in &item.unmet_conditions { li data-condition=(c) { (t(l, &format!("condition.{c}"))) } } }
            }
            @if item.kind == "benefit_flagged" { p { (t(l, "inbox.respond")) } }
            @if let (Some(unit), Some(last_day)) = (&item.unit, item.ends_on) {
                p.ending { strong { (tf(l, "inbox.ends", [("unit", unit.as_str()), ("date", last_day.to_string().as_str())])) } }
                p { a href=(if item.kind == "lease_ends" { "/housing" } else { "/spaces" }) { (t(l, &format!("inbox.manage.{}", item.kind))) } }
            }
            @if item.kind.starts_with("space_change_") {
                p { a href="/spaces" { (t(l, "inbox.manage.space_change")) } }
            }
            @if let Some(id) = item.application_id {
                p {
                    a href={ "/applications/" (id) } { (t(l, "inbox.open")) }
                    @if let (Some(reference), Some(n)) = (&item.letter, item.letter_number) {
                        " · " a.letter-link href={ "/applications/" (id) "/letters/" (n) } { (tf(l, "inbox.letter", [("reference", reference.as_str())])) }
                    }
                }
            }
        }
    }
}

/// The mark-all-read button, returning to `next`.
fn mark_read(viewer: &Viewer, next: &str) -> Markup {
    html! {
        form.inline method="post" action="/notifications/read" {
            input type="hidden" name="_csrf" value=(viewer.csrf.clone().unwrap_or_default());
            input type="hidden" name="next" value=(next);
            button.secondary type="submit" id="inbox-mark-read" { (t(viewer.locale, "inbox.mark_read")) }
        }
    }
}

async fn inbox(State(state): State<AppState>, viewer: Viewer) -> PageResult {
    let actor = viewer.require()?;
    let l = viewer.locale;
    let items = state
        .services
        .inbox(actor, INBOX_SIZE)
        .await
        .map_err(|e| viewer.fail(e))?;
    let titles = programme_titles(&state, l);
    let body = html! {
        h1 { (t(l, "inbox.title")) }
        @if items.is_empty() {
            p id="inbox-empty" { (t(l, "inbox.empty")) }
        } @else {
            @if items.iter().any(|i| !i.read) { (mark_read(&viewer, "/inbox")) }
            div id="inbox" { @for item in &items { (card(l, &titles, item)) } }
        }
    };
    Ok(page(&viewer, t(l, "inbox.title"), body).into_response())
}

/// The workspace's latest notifications, with a link to the inbox; nothing
/// when there are none.
pub(super) async fn latest(
    state: &AppState,
    viewer: &Viewer,
    actor: &Actor,
) -> Result<Markup, PageError> {
    let l = viewer.locale;
    let items = state
        .services
        .inbox(actor, LATEST)
        .await
        .map_err(|e| viewer.fail(e))?;
    if items.is_empty() {
        return Ok(html! {});
    }
    let titles = programme_titles(state, l);
    Ok(html! {
        section id="latest-news" {
            h2 { (t(l, "inbox.recent")) }
            @for item in &items { (card(l, &titles, item)) }
            p { a href="/inbox" { (t(l, "inbox.see_all")) } }
        }
    })
}
