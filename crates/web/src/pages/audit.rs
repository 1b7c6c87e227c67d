//! The audit log for administrators and auditors, with chain verification.

use super::PageResult;
use super::layout::page;
use crate::AppState;
use crate::extract::Viewer;
use crate::i18n::{Locale, has, t, tf};
use axum::Router;
use axum::extract::{Query, State};
use axum::response::IntoResponse;
use axum::routing::get;
use maud::html;
use std::collections::HashMap;

pub fn routes() -> Router<AppState> {
    Router::new().route("/audit", get(audit))
}

const PER_PAGE: u64 = 50;

async fn audit(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    let actor = viewer.require()?;
    let l = viewer.locale;
    let page_no = q
        .get("page")
        .and_then(|p| p.parse::<u64>().ok())
        .unwrap_or(1)
        .clamp(1, crate::extract::MAX_PAGE);
    let entries = state
        .services
        .audit_entries(actor, (page_no - 1) * PER_PAGE, PER_PAGE)
        .await
        .map_err(|e| viewer.fail(e))?;
    let verification = state
        .services
        .verify_audit_log_for(actor)
        .await
        .map_err(|e| viewer.fail(e))?;
    let shanghai = opcity_domain::civil_date::shanghai();
    let body = html! {
        h1 { (t(l, "nav.audit")) }
        @if verification.problems.is_empty() {
            div.notice.success id="audit-status" { (tf(l, "audit.intact", [("n", verification.entries.to_string().as_str())])) }
        } @else {
            div.notice.error id="audit-status" role="alert" {
                (t(l, "audit.broken"))
                ul { @for p in &verification.problems { li.mono { (serde_json::to_string(p).unwrap_or_default()) } } }
            }
        }
        table {
            thead { tr { th { "#" } th { (t(l, "audit.at")) } th { (t(l, "audit.actor")) } th { (t(l, "audit.action")) } th { (t(l, "audit.record")) } th { (t(l, "audit.hash")) } } }
            tbody {
                @for e in &entries.entries {
                    tr {
                        td { (e.seq) }
                        td { (e.at.with_timezone(&shanghai).format("%Y-%m-%d %H:%M:%S")) }
                        td.actor { (e.actor_name.clone().unwrap_or_else(|| e.actor.clone())) }
                        td.action data-action=(e.action) title=(e.action) { (action_label(l, &e.action)) }
                        td { (record_label(l, &e.entity)) @if !e.entity_id.is_empty() { " #" (e.entity_id) } }
                        td.mono { (&e.hash[..12]) "…" }
                    }
                }
            }
        }
        nav.pager {
            @if page_no > 1 { a href={ "/audit?page=" (page_no - 1) } { (t(l, "list.prev")) } }
            @if page_no * PER_PAGE < entries.total { a href={ "/audit?page=" (page_no + 1) } { (t(l, "list.next")) } }
        }
    };
    Ok(page(&viewer, t(l, "nav.audit"), body).into_response())
}

/// What an audited action did, in words; a code without a translation (a
/// new one) is shown as it is rather than hidden.
fn action_label(l: Locale, action: &str) -> String {
    let key = format!("audit.do.{action}");
    if has(l, &key) {
        t(l, &key).to_owned()
    } else {
        action.to_owned()
    }
}

/// The kind of record an entry is about, in words.
fn record_label(l: Locale, entity: &str) -> String {
    let key = format!("audit.entity.{entity}");
    if has(l, &key) {
        t(l, &key).to_owned()
    } else {
        entity.to_owned()
    }
}
