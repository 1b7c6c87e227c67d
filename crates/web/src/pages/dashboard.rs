//! The plan dashboard: targets and per-district figures, with charts drawn
//! on the server as inline SVG (no scripts, no external assets).

use super::PageResult;
use super::forms::district_name;
use super::home::{grouped, target_tiles};
use super::layout::page;
use crate::AppState;
use crate::extract::Viewer;
use crate::i18n::{Locale, t};
use axum::Router;
use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::get;
use maud::{Markup, html};
use opcity_services::dashboard::{Dashboard, DistrictFigures};

pub fn routes() -> Router<AppState> {
    Router::new().route("/dashboard", get(dashboard))
}

/// The progress chart spans the page; the district charts sit two abreast,
/// so they are drawn narrower to keep their text legible when scaled.
const CHART_WIDTH: i64 = 640;
const BAR_CHART_WIDTH: i64 = 420;
const LABEL_WIDTH: i64 = 110;
const ROW_HEIGHT: i64 = 26;

/// A horizontal bar chart of one figure per district.
fn bar_chart(locale: Locale, id: &str, title: &str, rows: &[(String, i64)]) -> Markup {
    let max = rows.iter().map(|(_, v)| *v).max().unwrap_or(0).max(1);
    let bar_space = BAR_CHART_WIDTH - LABEL_WIDTH - 70;
    let height = ROW_HEIGHT * rows.len() as i64 + 36;
    html! {
        figure {
            svg.chart id=(id) viewBox={ "0 0 " (BAR_CHART_WIDTH) " " (height) } role="img" aria-label=(title) xmlns="http://www.w3.org/2000/svg" {
                title { (title) }
                text x="8" y="20" font-size="14" font-weight="600" fill="#1c2430" { (title) }
                @for (i, (label, value)) in rows.iter().enumerate() {
                    @let y = 32 + ROW_HEIGHT * i as i64;
                    @let width = (bar_space * value / max).max(if *value > 0 { 2 } else { 0 });
                    text x="8" y=(y + 15) font-size="12" fill="#5b6675" { (label) }
                    rect x=(LABEL_WIDTH) y=(y + 3) width=(width) height=(ROW_HEIGHT - 8) rx="3" fill="#b4232a" {}
                    text x=(LABEL_WIDTH + width + 6) y=(y + 15) font-size="12" fill="#1c2430" { (grouped(*value)) }
                }
            }
            figcaption.hint { (t(locale, "dashboard.by_district")) }
        }
    }
}

/// Progress towards each target: its name, then a bar with the share
/// reached and the percentage after it.
fn progress_chart(locale: Locale, dash: &Dashboard) -> Markup {
    const ROW: i64 = 48;
    let full = CHART_WIDTH - 16 - 64;
    let height = ROW * dash.targets.len() as i64 + 12;
    html! {
        svg.chart id="chart-targets" viewBox={ "0 0 " (CHART_WIDTH) " " (height) } role="img" aria-label=(t(locale, "dashboard.progress")) xmlns="http://www.w3.org/2000/svg" {
            title { (t(locale, "dashboard.progress")) }
            @for (i, target) in dash.targets.iter().enumerate() {
                @let y = 8 + ROW * i as i64;
                @let share = (target.value.min(target.exceeds) * full) / target.exceeds.max(1);
                text x="8" y=(y + 14) font-size="13" fill="#1c2430" { (t(locale, &format!("target.{}", target.id))) }
                rect x="8" y=(y + 22) width=(full) height="16" rx="3" fill="#e5e9ef" {}
                rect x="8" y=(y + 22) width=(share) height="16" rx="3" fill=(if target.met { "#1f7a4d" } else { "#a15c00" }) {}
                text x=(8 + full + 8) y=(y + 35) font-size="12" fill="#5b6675" {
                    (target.value * 100 / target.exceeds.max(1)) "%"
                }
            }
        }
    }
}

fn column(
    dash: &Dashboard,
    locale: Locale,
    pick: fn(&DistrictFigures) -> i64,
) -> Vec<(String, i64)> {
    dash.districts
        .iter()
        .map(|r| {
            (
                r.district.map_or_else(
                    || t(locale, "dashboard.unplaced").to_owned(),
                    |d| district_name(locale, d).to_owned(),
                ),
                pick(r),
            )
        })
        .collect()
}

async fn dashboard(State(state): State<AppState>, viewer: Viewer) -> PageResult {
    let actor = viewer.require()?;
    let l = viewer.locale;
    let dash = state
        .services
        .dashboard(actor)
        .await
        .map_err(|e| viewer.fail(e))?;
    let body = html! {
        h1 { (t(l, "nav.dashboard")) }
        p { (t(l, "dashboard.lead")) }
        (target_tiles(&viewer, &dash))
        (progress_chart(l, &dash))
        h2 { (t(l, "dashboard.districts")) }
        div.grid.charts {
            (bar_chart(l, "chart-area", t(l, "target.community_area_m2"), &column(&dash, l, |r| r.community_area_m2)))
            (bar_chart(l, "chart-startups", t(l, "target.ai_startups"), &column(&dash, l, |r| r.ai_startups)))
            (bar_chart(l, "chart-professionals", t(l, "target.ai_professionals"), &column(&dash, l, |r| r.ai_professionals)))
        }
        table id="district-table" {
            thead { tr {
                th { (t(l, "list.district")) }
                th.num { (t(l, "dashboard.communities")) }
                th.num { (t(l, "target.communities_at_area")) }
                th.num { (t(l, "target.community_area_m2")) }
                th.num { (t(l, "target.ai_startups")) }
                th.num { (t(l, "target.ai_professionals")) }
            } }
            tbody {
                @for r in &dash.districts {
                    tr {
                        td { (r.district.map_or_else(|| t(l, "dashboard.unplaced").to_owned(), |d| district_name(l, d).to_owned())) }
                        td.num { (r.communities) }
                        td.num { (r.communities_at_area) }
                        td.num { (grouped(r.community_area_m2)) }
                        td.num { (grouped(r.ai_startups)) }
                        td.num { (grouped(r.ai_professionals)) }
                    }
                }
            }
        }
        h2 { (t(l, "dashboard.benefits")) }
        @if dash.benefits.is_empty() {
            p { (t(l, "dashboard.no_benefits")) }
        } @else {
            @let titles = super::inbox::programme_titles(&state, l);
            table id="benefits-table" {
                thead { tr { th { (t(l, "benefits.programme")) } th.num { (t(l, "dashboard.holders")) } th.num { (t(l, "dashboard.amount_held")) } } }
                tbody { @for b in &dash.benefits {
                    tr data-programme=(b.programme) {
                        td { (titles.get(&b.programme).cloned().unwrap_or_else(|| b.programme.clone())) }
                        td.num { (grouped(b.holders)) }
                        td.num { (opcity_domain::Fen(b.amount_fen)) }
                    }
                } }
            }
        }
    };
    Ok(page(&viewer, t(l, "nav.dashboard"), body).into_response())
}
