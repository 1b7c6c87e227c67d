//! The public landing page and each role's workspace.

use super::PageResult;
use super::layout::page;
use crate::AppState;
use crate::extract::Viewer;
use crate::i18n::{t, tf};
use axum::Router;
use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::get;
use maud::{Markup, html};
use opcity_domain::Role;
use opcity_services::dashboard::Dashboard;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(landing))
        .route("/home", get(workspace))
}

/// Thousands separators for figures.
pub fn grouped(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// The four target tiles, shared by the landing page and the dashboard.
pub fn target_tiles(viewer: &Viewer, dash: &Dashboard) -> Markup {
    let l = viewer.locale;
    html! {
        div.grid {
            @for target in &dash.targets {
                div.card.stat id={ "target-" (target.id) } {
                    div { (t(l, &format!("target.{}", target.id))) }
                    div.value { (grouped(target.value)) }
                    div.target class=(if target.met { "met" } else { "unmet" }) {
                        (tf(l, "target.exceeds", [("n", grouped(target.exceeds).as_str())]))
                        " · "
                        (if target.met { t(l, "target.met") } else { t(l, "target.not_met") })
                    }
                }
            }
        }
    }
}

async fn landing(State(state): State<AppState>, viewer: Viewer) -> PageResult {
    let l = viewer.locale;
    let figures = state
        .services
        .plan_figures()
        .await
        .map_err(|e| viewer.fail(e))?;
    let body = html! {
        section.hero {
            h1 { (t(l, "landing.title")) }
            p { (t(l, "landing.lead")) }
            p.actions {
                a.button.secondary href="/self-check" id="cta-self-check" { (t(l, "landing.self_check")) }
                @if viewer.actor.is_none() {
                    a.button.secondary href="/login" { (t(l, "nav.sign_in")) }
                }
            }
        }
        h2 { (t(l, "landing.progress")) }
        (target_tiles(&viewer, &figures))
        h2 { (t(l, "landing.measures")) }
        div.grid {
            @for key in ["talent", "space", "housing", "funding", "vouchers", "scenarios"] {
                div.card { strong { (t(l, &format!("landing.measure.{key}.title"))) } p { (t(l, &format!("landing.measure.{key}.text"))) } }
            }
        }
        p { a href="/api/v1/docs" { (t(l, "landing.api")) } }
    };
    Ok(page(&viewer, t(l, "landing.title"), body).into_response())
}

/// What each role finds on its workspace: (path, text key).
fn shortcuts(role: Role) -> &'static [(&'static str, &'static str)] {
    match role {
        Role::Founder => &[
            ("/persons", "home.my_profile"),
            ("/enterprises", "home.my_enterprises"),
            ("/enterprises/new", "home.register_enterprise"),
        ],
        Role::DistrictReviewer => &[
            ("/enterprises", "home.district_enterprises"),
            ("/persons", "home.district_persons"),
            ("/dashboard", "nav.dashboard"),
        ],
        Role::CommunityOperator => &[
            ("/communities", "home.my_communities"),
            ("/enterprises", "home.community_enterprises"),
        ],
        Role::MunicipalAdmin => &[
            ("/communities/new", "home.new_community"),
            ("/enterprises/new", "home.register_enterprise"),
            ("/persons/new", "home.new_person"),
            ("/accounts", "accounts.title"),
            ("/audit", "nav.audit"),
            ("/integrity", "integrity.card"),
            ("/feedback", "feedback.title"),
        ],
        Role::ServiceProvider => &[("/communities", "nav.communities")],
        Role::Investor => &[
            ("/enterprises", "nav.enterprises"),
            ("/dashboard", "nav.dashboard"),
        ],
        Role::Auditor => &[
            ("/accounts", "accounts.title"),
            ("/audit", "nav.audit"),
            ("/integrity", "integrity.card"),
            ("/dashboard", "nav.dashboard"),
        ],
    }
}

async fn workspace(State(state): State<AppState>, viewer: Viewer) -> PageResult {
    let actor = viewer.require()?;
    let l = viewer.locale;
    let benefits = super::benefits::section(&state, &viewer, actor)
        .await
        .map_err(|e| viewer.fail(e))?;
    let news = super::inbox::latest(&state, &viewer, actor).await?;
    let body = html! {
        h1 { (tf(l, "home.welcome", [("name", actor.display_name.as_str())])) }
        p.who { (t(l, &format!("role.{}", actor.role.id())))
            @if let Some(d) = actor.district { " · " (super::forms::district_name(l, d)) } }
        // A founder without a record (a new account) enters it first:
        // nothing can be checked or applied for without it.
        @if actor.role == Role::Founder && state.services.may_create_person(actor) {
            p.notice id="no-record" { (t(l, "home.no_record")) " "
                a href="/persons/new" id="enter-record" { (t(l, "home.enter_record")) } }
        }
        div.grid {
            @for (href, key) in shortcuts(actor.role) {
                a.card href=(href) { (t(l, key)) }
            }
            a.card href="/settings" id="settings-card" { (t(l, "settings.card")) }
        }
        (news)
        (benefits)
    };
    Ok(page(&viewer, t(l, "nav.workspace"), body).into_response())
}
