//! The page shell: head, navigation by role, language switch, footer.

use crate::extract::Viewer;
use crate::i18n::t;
use maud::{DOCTYPE, Markup, PreEscaped, html};
use opcity_domain::Role;

/// The stylesheet, inline so that no page loads anything from elsewhere.
const CSS: &str = include_str!("app.css");

/// Navigation entries for a role: (path, text key).
fn nav_for(role: Option<Role>) -> Vec<(&'static str, &'static str)> {
    let public = [
        ("/self-check", "nav.self_check"),
        ("/consult", "nav.consult"),
    ];
    let Some(role) = role else {
        return [("/", "nav.home")].into_iter().chain(public).collect();
    };
    // Signed in, the workspace is home (the brand still leads to the
    // landing page); the self-check and consultation are the founders'.
    let mut items = vec![("/home", "nav.workspace")];
    if role == Role::Founder {
        items.extend(public);
    }
    items.push(("/dashboard", "nav.dashboard"));
    items.push(("/communities", "nav.communities"));
    if matches!(
        role,
        Role::MunicipalAdmin
            | Role::DistrictReviewer
            | Role::CommunityOperator
            | Role::Founder
            | Role::Investor
            | Role::Auditor
    ) {
        items.push(("/enterprises", "nav.enterprises"));
    }
    if matches!(
        role,
        Role::MunicipalAdmin | Role::DistrictReviewer | Role::Founder | Role::Auditor
    ) {
        items.push(("/persons", "nav.persons"));
    }
    if matches!(
        role,
        Role::Founder | Role::DistrictReviewer | Role::MunicipalAdmin | Role::Auditor
    ) {
        items.push(("/applications", "nav.applications"));
    }
    if matches!(
        role,
        Role::DistrictReviewer | Role::MunicipalAdmin | Role::Auditor
    ) {
        items.push(("/budgets", "nav.budgets"));
    }
    if !matches!(role, Role::CommunityOperator | Role::Investor) {
        items.push(("/vouchers", "voucher.nav"));
    }
    items.push(("/spaces", "spaces.nav"));
    items.push(("/housing", "housing.nav"));
    items.push(("/instruments", "instrument.nav"));
    if matches!(role, Role::MunicipalAdmin | Role::Auditor) {
        items.push(("/audit", "nav.audit"));
    }
    items
}

pub fn page(viewer: &Viewer, title: &str, content: Markup) -> Markup {
    let locale = viewer.locale;
    let role = viewer.actor.as_ref().map(|a| a.role);
    let switch_to = locale.other();
    let next = urlencoding::encode(&viewer.path).into_owned();
    html! {
        (DOCTYPE)
        html lang=(locale.tag()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · " (t(locale, "app.name")) }
                style { (PreEscaped(CSS)) }
            }
            body {
                header.top {
                    a.brand href="/" { (t(locale, "app.name")) }
                    // On a phone the navigation folds behind "Menu" (a
                    // checkbox and its label: no script needed).
                    input.menu-toggle type="checkbox" id="menu-toggle" aria-controls="site-nav";
                    label.menu-button for="menu-toggle" { (t(locale, "nav.menu")) }
                    nav id="site-nav" aria-label=(t(locale, "nav.label")) {
                        @for (href, key) in nav_for(role) {
                            @let current = viewer.path == href || (href != "/" && viewer.path.starts_with(href));
                            a href=(href) aria-current=[current.then_some("page")] { (t(locale, key)) }
                        }
                    }
                    div.session {
                        a.lang id="lang-switch" href={ "/lang/" (switch_to.tag()) "?next=" (next) } lang=(switch_to.tag()) {
                            (t(switch_to, "lang.self"))
                        }
                        @if let Some(actor) = &viewer.actor {
                            a id="inbox-link" href="/inbox" aria-current=[(viewer.path == "/inbox").then_some("page")] { (t(locale, "nav.inbox")) }
                            span.who { (actor.display_name) " · " (t(locale, &format!("role.{}", actor.role.id()))) }
                            form.inline method="post" action="/logout" {
                                input type="hidden" name="_csrf" value=(viewer.csrf.clone().unwrap_or_default());
                                button.link type="submit" id="logout" { (t(locale, "nav.sign_out")) }
                            }
                        } @else {
                            a id="sign-up" href="/sign-up" aria-current=[(viewer.path == "/sign-up").then_some("page")] { (t(locale, "nav.sign_up")) }
                            a.button href="/login" id="sign-in" { (t(locale, "nav.sign_in")) }
                        }
                    }
                }
                main { (content) }
                footer {
                    nav.footer-links aria-label=(t(locale, "footer.help")) {
                        a href="/help" { (t(locale, "footer.help")) }
                        a href="/contact" { (t(locale, "footer.contact")) }
                        a href="/privacy" { (t(locale, "footer.privacy")) }
                        a href="/accessibility" { (t(locale, "footer.accessibility")) }
                        a id="feedback-link" href={ "/contact?from=" (next) "#feedback" } { (t(locale, "footer.feedback")) }
                    }
                    p { (t(locale, "app.footer")) }
                }
            }
        }
    }
}
