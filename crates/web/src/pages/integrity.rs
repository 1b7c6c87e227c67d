//! The integrity view (`/integrity`, for the city's administrators and
//! auditors): subjects holding one programme twice, and persons behind
//! several enterprises holding the same per-enterprise programme, on a
//! date (`?as_of=YYYY-MM-DD`, default today in Shanghai).

use super::PageResult;
use super::forms::district_name;
use super::layout::page;
use crate::AppState;
use crate::extract::Viewer;
use crate::i18n::{Locale, t, tf};
use axum::Router;
use axum::extract::{Query, State};
use axum::response::IntoResponse;
use axum::routing::get;
use chrono::NaiveDate;
use maud::{Markup, html};
use opcity_domain::{District, Fen};
use opcity_services::grants::GrantView;
use std::collections::HashMap;

pub fn routes() -> Router<AppState> {
    Router::new().route("/integrity", get(integrity))
}

/// A granting district's name, or the city's.
fn granted_by(l: Locale, district: Option<&str>) -> String {
    match district.and_then(|d| d.parse::<District>().ok()) {
        Some(d) => district_name(l, d).to_owned(),
        None => t(l, "integrity.municipal").to_owned(),
    }
}

/// Where a grant came from: its application (linked), or its path.
fn source(l: Locale, g: &GrantView) -> Markup {
    match g.source.strip_prefix("application:") {
        Some(id) => {
            html! { a href={ "/applications/" (id) } { (tf(l, "integrity.application", [("id", id)])) } }
        }
        None => html! { span.mono { (g.source) } },
    }
}

fn grants_table(l: Locale, grants: &[GrantView]) -> Markup {
    html! {
        table.compact {
            thead { tr { th { (t(l, "integrity.source")) } th { (t(l, "benefits.what")) } th { (t(l, "integrity.granted_by")) } th.num { (t(l, "benefits.figure")) } th { (t(l, "benefits.period")) } } }
            tbody { @for g in grants {
                tr {
                    td { (source(l, g)) }
                    td { (t(l, &format!("benefits.benefit.{}", g.benefit))) }
                    td { (granted_by(l, g.district.as_deref())) }
                    td.num { @if let Some(a) = g.amount_fen { (Fen(a)) } }
                    td { (g.from) " – " @if let Some(to) = g.to { (to) } @else { (t(l, "benefits.open_ended")) } }
                }
            } }
        }
    }
}

async fn integrity(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    let actor = viewer.require()?;
    let l = viewer.locale;
    let today = opcity_domain::today_in_shanghai(state.services.now());
    let as_of = q
        .get("as_of")
        .and_then(|d| d.parse::<NaiveDate>().ok())
        .unwrap_or(today);
    let report = state
        .services
        .integrity_report(actor, as_of)
        .await
        .map_err(|e| viewer.fail(e))?;
    let titles = super::inbox::programme_titles(&state, l);
    let title = |id: &str| titles.get(id).cloned().unwrap_or_else(|| id.to_owned());
    let body = html! {
        h1 { (t(l, "integrity.title")) }
        p.hint { (t(l, "integrity.explain")) }
        form.filters method="get" action="/integrity" {
            div.field { label for="as_of" { (t(l, "integrity.as_of")) }
                input id="as_of" name="as_of" type="date" value=(report.as_of); }
            button type="submit" { (t(l, "integrity.show")) }
        }
        p id="grants-held" { (tf(l, "integrity.held", [("n", report.grants_held.to_string().as_str()), ("date", report.as_of.to_string().as_str())])) }
        h2 { (t(l, "integrity.duplicates")) }
        @if report.duplicate_holdings.is_empty() {
            p id="no-duplicates" { (t(l, "integrity.none")) }
        }
        @for d in &report.duplicate_holdings {
            section.card.finding data-kind="duplicate" data-subject=(d.subject) data-programme=(d.programme) {
                h3 { (d.name) " · " (title(&d.programme)) }
                p { (tf(l, "integrity.duplicate", [("n", d.grants.len().to_string().as_str())]))
                    " " (d.districts.iter().map(|x| granted_by(l, (x != "municipal").then_some(x.as_str()))).collect::<Vec<_>>().join("、")) }
                (grants_table(l, &d.grants))
            }
        }
        h2 { (t(l, "integrity.shared")) }
        @if report.shared_founders.is_empty() {
            p id="no-shared" { (t(l, "integrity.none")) }
        }
        @for f in &report.shared_founders {
            section.card.finding data-kind="shared" data-person=(f.person_id) data-programme=(f.programme) {
                h3 { a href={ "/persons/" (f.person_id) } { (f.person_name) } " · " (title(&f.programme)) }
                p { (t(l, "integrity.shared_explain")) " "
                    @for (i, e) in f.enterprises.iter().enumerate() {
                        @if i > 0 { "、" }
                        a href={ "/enterprises/" (e.id) } { (e.name) }
                    }
                }
                (grants_table(l, &f.grants))
            }
        }
    };
    Ok(page(&viewer, t(l, "integrity.title"), body).into_response())
}
