//! The reviewers' workbench: the queue with its filters, search, order and
//! pages; saved views; the queue as CSV or an Excel workbook; and who
//! works a case (on the case page, [`assignment`]).

use super::applications::{application_badge, money, title_of};
use super::forms::{self, Values, district_name};
use super::home::grouped;
use super::layout::page;
use super::{PageError, PageResult, flow};
use crate::AppState;
use crate::api::export::{ExportFormat, Report};
use crate::extract::Viewer;
use crate::i18n::{Locale, t, tf};
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use maud::{Markup, html};
use opcity_domain::District;
use opcity_domain::application::State as AppStatus;
use opcity_services::applications::{
    ApplicationDetail, ApplicationView, Assignee, QueueFilter, QueuePage, SavedView,
};
use opcity_services::sheet::{Cell, Sheet};
use opcity_services::{Actor, FieldError, ServiceError};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/applications/export", get(export))
        .route("/applications/views", post(save_view))
        .route("/applications/views/{id}/delete", post(delete_view))
}

/// The queue's filters as the page's query string gives them.
pub fn filter_of(q: &Values) -> QueueFilter {
    let text = |name: &str| {
        q.get(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    QueueFilter {
        district: text("district"),
        programme: text("programme"),
        state: text("state"),
        q: text("q"),
        assignee: text("assignee"),
        sort: text("sort"),
        // A page number that is no number is the first page.
        page: text("page").map(|p| p.parse().unwrap_or(1)),
        per_page: None,
    }
}

/// The queue page for staff: filters, saved views, the table, pages and
/// downloads; `errors` beside the filter or the save form they are about.
pub async fn queue(
    state: &AppState,
    viewer: &Viewer,
    actor: &Actor,
    filter: &QueueFilter,
    errors: Vec<FieldError>,
) -> Result<Markup, PageError> {
    let l = viewer.locale;
    let s = &state.services;
    let views = s.saved_views(actor).await.map_err(|e| viewer.fail(e))?;
    let (queue, mut errors) = match s.review_queue(actor, filter).await {
        Ok(queue) => (Some(queue), errors),
        Err(ServiceError::Validation(refused)) => (None, [errors, refused].concat()),
        Err(e) => return Err(viewer.fail(e)),
    };
    errors.sort_by(|a, b| a.field.cmp(&b.field));
    let query = filter.to_query();
    Ok(html! {
        h1 { (t(l, "application.queue")) }
        @if s.may_declare_interests(actor) {
            p { a href="/interests" id="interests-link" { (t(l, "interests.link")) } }
        }
        (flow::error_summary(l, "workbench", "filter-", &errors))
        (saved_views(viewer, &views))
        (filters(state, viewer, actor, filter, &errors))
        @if let Some(queue) = &queue {
            p.count {
                (tf(l, "workbench.count", [("n", grouped(queue.total as i64).as_str())]))
                " · " a href={ "/applications/export?format=csv&" (query) } id="export-csv" download { (t(l, "workbench.export_csv")) }
                " · " a href={ "/applications/export?format=xlsx&" (query) } id="export-xlsx" download { (t(l, "workbench.export_xlsx")) }
            }
            (table(state, l, &queue.items))
            (pager(l, queue, &query))
        }
        (save_form(viewer, &query, &errors))
    })
}

fn filters(
    state: &AppState,
    viewer: &Viewer,
    actor: &Actor,
    filter: &QueueFilter,
    errors: &[FieldError],
) -> Markup {
    let l = viewer.locale;
    let chosen = |v: &Option<String>| v.clone().unwrap_or_default();
    let status = chosen(&filter.state);
    let programme = chosen(&filter.programme);
    let district = chosen(&filter.district);
    let assignee = chosen(&filter.assignee);
    let sort = chosen(&filter.sort);
    let beside = |field: &str| {
        forms::messages(
            l,
            &format!("filter-{field}"),
            errors.iter().filter(|e| e.field == field),
        )
    };
    let programmes = state.services.catalogue().programmes;
    let groups = ["open", "decided", "all"];
    html! {
        form.filters method="get" action="/applications" id="queue-filters" {
            div.field {
                label for="filter-q" { (t(l, "workbench.q")) }
                input id="filter-q" name="q" type="search" value=(chosen(&filter.q));
                (beside("q"))
            }
            div.field {
                label for="filter-state" { (t(l, "workbench.state")) }
                select id="filter-state" name="state" {
                    @for g in groups { option value=(if g == "open" { "" } else { g }) selected[status == g || (g == "open" && status.is_empty())] { (t(l, &format!("workbench.group.{g}"))) } }
                    @for s in AppStatus::ALL { option value=(s.id()) selected[status == s.id()] { (t(l, &format!("application.state.{}", s.id()))) } }
                }
                (beside("state"))
            }
            div.field {
                label for="filter-programme" { (t(l, "workbench.programme")) }
                select id="filter-programme" name="programme" {
                    option value="" { (t(l, "workbench.any")) }
                    @for p in &programmes { option value=(p.id) selected[programme == p.id] { (if l == Locale::Zh { &p.title.zh } else { &p.title.en }) } }
                }
                (beside("programme"))
            }
            @if actor.district.is_none() {
                div.field {
                    label for="filter-district" { (t(l, "list.district")) }
                    select id="filter-district" name="district" {
                        option value="" { (t(l, "list.all_districts")) }
                        @for d in District::ALL { option value=(d.id()) selected[district == d.id()] { (district_name(l, d)) } }
                    }
                    (beside("district"))
                }
            }
            div.field {
                label for="filter-assignee" { (t(l, "workbench.assignee")) }
                select id="filter-assignee" name="assignee" {
                    @for a in ["", "me", "none"] { option value=(a) selected[assignee == a] { (t(l, &format!("workbench.assigned.{}", if a.is_empty() { "any" } else { a }))) } }
                }
                (beside("assignee"))
            }
            div.field {
                label for="filter-sort" { (t(l, "workbench.sort")) }
                select id="filter-sort" name="sort" {
                    @for o in ["oldest", "newest", "amount"] { option value=(o) selected[sort == o || (o == "oldest" && sort.is_empty())] { (t(l, &format!("workbench.order.{o}"))) } }
                }
                (beside("sort"))
            }
            button.secondary type="submit" id="filter-apply" { (t(l, "list.filter")) }
            " " a href="/applications" id="filter-clear" { (t(l, "workbench.clear")) }
        }
    }
}

/// The district's name in the viewer's language.
fn district_label(l: Locale, id: &str) -> String {
    id.parse::<District>()
        .map(|d| district_name(l, d).to_owned())
        .unwrap_or_else(|_| id.to_owned())
}

/// What the queue shows of an amount: approved, else asked for.
fn amount(a: &ApplicationView) -> Option<i64> {
    a.approved_fen.or(a.requested_fen)
}

fn overdue(a: &ApplicationView, today: chrono::NaiveDate) -> bool {
    a.due_on.is_some_and(|due| due < today)
}

fn table(state: &AppState, l: Locale, rows: &[ApplicationView]) -> Markup {
    let today = opcity_domain::today_in_shanghai(state.services.now());
    html! {
        div.table-wrap { table id="applications" {
            thead { tr {
                th { (t(l, "workbench.reference")) } th { (t(l, "application.applicant")) }
                th { (t(l, "application.programme")) } th { (t(l, "list.district")) }
                th { (t(l, "application.submitted")) } th.num { (t(l, "application.waiting_days")) }
                th { (t(l, "workbench.due")) } th { (t(l, "application.state_label")) }
                th.num { (t(l, "workbench.amount")) } th { (t(l, "workbench.assignee")) }
            } }
            tbody {
                @for a in rows {
                    tr data-id=(a.id) {
                        td { a href={ "/applications/" (a.id) } { "#" (a.id) } }
                        td.applicant { a href={ "/applications/" (a.id) } { (a.applicant.clone().unwrap_or_default()) } }
                        td { (title_of(state, l, &a.programme)) }
                        td { (district_label(l, &a.district)) }
                        td { (a.submitted_at.map(|at| opcity_domain::today_in_shanghai(at).to_string()).unwrap_or_default()) }
                        td.num { (a.waiting_days.map(|d| d.to_string()).unwrap_or_default()) }
                        td.due {
                            @if let Some(due) = a.due_on { (due) }
                            @if overdue(a, today) { " " span.badge.overdue { (t(l, "workbench.overdue")) } }
                        }
                        td { (application_badge(state, l, a))
                            @if a.open_questions > 0 { " " span.badge.waiting data-open-questions=(a.open_questions) { (t(l, "workbench.waiting_answer")) } } }
                        td.num { (money(amount(a))) }
                        td.assignee { (a.assignee.as_ref().map(|x| x.name.as_str()).unwrap_or("—")) }
                    }
                }
            }
        } }
        @if rows.is_empty() { p.notice { (t(l, "list.empty")) } }
    }
}

fn pager(l: Locale, queue: &QueuePage, query: &str) -> Markup {
    let pages = queue.total.div_ceil(u64::from(queue.per_page)).max(1);
    let page = u64::from(queue.page);
    let link = |p: u64| {
        if query.is_empty() {
            format!("/applications?page={p}")
        } else {
            format!("/applications?{query}&page={p}")
        }
    };
    html! {
        nav.pager aria-label=(t(l, "list.pages")) {
            @if page > 1 { a href=(link(page - 1)) rel="prev" { (t(l, "list.prev")) } }
            span { (tf(l, "list.page_of", [("page", page.to_string().as_str()), ("pages", pages.to_string().as_str())])) }
            @if page < pages { a href=(link(page + 1)) rel="next" { (t(l, "list.next")) } }
        }
    }
}

fn saved_views(viewer: &Viewer, views: &[SavedView]) -> Markup {
    let l = viewer.locale;
    let csrf = viewer.csrf.clone().unwrap_or_default();
    html! {
        @if !views.is_empty() {
            nav.saved-views aria-label=(t(l, "workbench.saved_views")) {
                h2 { (t(l, "workbench.saved_views")) }
                ul {
                    @for v in views {
                        li {
                            a href={ "/applications?" (v.query) } { (v.name) }
                            form.inline method="post" action={ "/applications/views/" (v.id) "/delete" } {
                                input type="hidden" name="_csrf" value=(csrf);
                                button.link type="submit" aria-label=(tf(l, "workbench.delete_view", [("name", v.name.as_str())])) { "×" }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn save_form(viewer: &Viewer, query: &str, errors: &[FieldError]) -> Markup {
    let l = viewer.locale;
    html! {
        form.inline.save-view method="post" action="/applications/views" {
            input type="hidden" name="_csrf" value=(viewer.csrf.clone().unwrap_or_default());
            input type="hidden" name="query" value=(query);
            div.field {
                label for="filter-name" { (t(l, "workbench.view_name")) }
                input id="filter-name" name="name" type="text" maxlength="60";
                (forms::messages(l, "filter-name", errors.iter().filter(|e| e.field == "name")))
            }
            button.secondary type="submit" id="save-view" { (t(l, "workbench.save_view")) }
        }
    }
}

async fn render(
    state: &AppState,
    viewer: &Viewer,
    filter: &QueueFilter,
    errors: Vec<FieldError>,
) -> PageResult {
    let actor = viewer.require()?;
    let body = queue(state, viewer, actor, filter, errors).await?;
    Ok(page(viewer, t(viewer.locale, "nav.applications"), body).into_response())
}

async fn save_view(
    State(state): State<AppState>,
    viewer: Viewer,
    Form(form): Form<Values>,
) -> PageResult {
    let actor = viewer.require()?.clone();
    let query = form.get("query").cloned().unwrap_or_default();
    // The page again shows the queue the form was posted from.
    let filter = serde_urlencoded::from_str(&query).unwrap_or_default();
    let name = form.get("name").cloned().unwrap_or_default();
    flow::post(
        &viewer,
        &form,
        Vec::new(),
        async || state.services.save_view(&actor, &name, &query).await,
        |_| Redirect::to(&format!("/applications?{query}")).into_response(),
        async |errors| render(&state, &viewer, &filter, errors).await,
    )
    .await
}

async fn delete_view(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(form): Form<Values>,
) -> PageResult {
    let actor = viewer.require()?.clone();
    flow::post(
        &viewer,
        &form,
        Vec::new(),
        async || state.services.delete_saved_view(&actor, id).await,
        |()| Redirect::to("/applications").into_response(),
        async |errors| render(&state, &viewer, &QueueFilter::default(), errors).await,
    )
    .await
}

/// The queue as a sheet in the viewer's language.
pub fn sheet(state: &AppState, l: Locale, rows: &[ApplicationView]) -> Sheet {
    let headers = [
        "workbench.reference",
        "application.applicant",
        "application.programme",
        "list.district",
        "application.state_label",
        "application.submitted",
        "application.waiting_days",
        "workbench.due",
        "workbench.requested",
        "application.approved",
        "workbench.assignee",
    ];
    Sheet {
        name: t(l, "workbench.sheet").to_owned(),
        headers: headers.iter().map(|h| t(l, h).to_owned()).collect(),
        rows: rows
            .iter()
            .map(|a| {
                vec![
                    Cell::Integer(a.id),
                    a.applicant.clone().into(),
                    title_of(state, l, &a.programme).into(),
                    district_label(l, &a.district).into(),
                    t(l, &format!("application.state.{}", a.state)).into(),
                    a.submitted_at.map(opcity_domain::today_in_shanghai).into(),
                    a.waiting_days.map_or(Cell::Empty, Cell::Integer),
                    a.due_on.into(),
                    a.requested_fen.map_or(Cell::Empty, Cell::Money),
                    a.approved_fen.map_or(Cell::Empty, Cell::Money),
                    a.assignee.as_ref().map(|x| x.name.clone()).into(),
                ]
            })
            .collect(),
    }
}

/// The queue the filters select, every page of it, as a download.
async fn export(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<Values>,
) -> PageResult {
    let actor = viewer.require()?;
    let format = q
        .get("format")
        .and_then(|f| f.parse::<ExportFormat>().ok())
        .ok_or_else(|| viewer.fail(crate::error::WebError::invalid_query("format")))?;
    let rows = state
        .services
        .export_queue(actor, &filter_of(&q))
        .await
        .map_err(|e| viewer.fail(e))?;
    let sheet = sheet(&state, viewer.locale, &rows);
    Report {
        name: format!(
            "applications-{}",
            opcity_domain::today_in_shanghai(state.services.now())
        ),
        json: &rows,
        csv: || sheet.to_csv(),
        xlsx: || sheet.to_xlsx(),
    }
    .respond(format)
    .map_err(|e| viewer.fail(e))
}

/// Who works the case, on its page: their name for staff who may read it,
/// and for those who may assign it a form to take it, give it or release it.
pub fn assignment(viewer: &Viewer, d: &ApplicationDetail, workers: &[Assignee]) -> Markup {
    let l = viewer.locale;
    let a = &d.application;
    let Some(actor) = viewer.actor.as_ref() else {
        return html! {};
    };
    if actor.role == opcity_domain::Role::Founder {
        return html! {};
    }
    let current = a.assignee.as_ref();
    let seen = current.map(|c| c.id.to_string()).unwrap_or_default();
    let csrf = viewer.csrf.clone().unwrap_or_default();
    let mine = current.is_some_and(|c| c.id == actor.account_id);
    html! {
        section.assignment id="assignment" {
            p { strong { (t(l, "workbench.assignee")) ": " } span id="assignee" { (current.map_or(t(l, "workbench.assigned.nobody"), |c| c.name.as_str())) } }
            @if !workers.is_empty() {
                @if !mine && workers.iter().any(|w| w.id == actor.account_id) {
                    form.inline method="post" action={ "/applications/" (a.id) "/assign" } {
                        input type="hidden" name="_csrf" value=(csrf);
                        input type="hidden" name="seen" value=(seen);
                        input type="hidden" name="assignee" value=(actor.account_id);
                        button type="submit" id="take-case" { (t(l, "workbench.take")) }
                    }
                }
                form.inline method="post" action={ "/applications/" (a.id) "/assign" } {
                    input type="hidden" name="_csrf" value=(csrf);
                    input type="hidden" name="seen" value=(seen);
                    label for="assign-to" { (t(l, "workbench.give_to")) }
                    " "
                    select id="assign-to" name="assignee" {
                        option value="" { (t(l, "workbench.assigned.nobody")) }
                        @for w in workers { option value=(w.id) selected[current.is_some_and(|c| c.id == w.id)] { (w.name) } }
                    }
                    " "
                    button.secondary type="submit" id="assign-case" { (t(l, "workbench.assign")) }
                }
            }
        }
    }
}
