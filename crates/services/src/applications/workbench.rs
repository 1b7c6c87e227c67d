//! The reviewers' workbench: the queue within the scope `authz` gives
//! (filtered, searched, sorted and read a page at a time, decided cases
//! included on request), each case's days against its service standard,
//! who works each case, the views a reviewer saves, and the queue as a
//! file (`export`).

use super::queries::{decision_due, name_applicants};
use super::views::{ApplicationView, Assignee, view};
use crate::Services;
use crate::authz::{Action, Actor, Resource, application_scope, authorize, permits};
use crate::error::{FieldError, Result, ServiceError};
use crate::error_code::ErrorCode;
use opcity_domain::application::State;
use opcity_domain::{District, Role};
use opcity_store::applications::{self as store, QueueOrder, QueueQuery, Search};
use opcity_store::entity::{account, application};

/// Rows per page unless the caller asks for another number.
pub const PER_PAGE: u32 = 50;
/// The most rows one page may hold.
pub const MAX_PER_PAGE: u32 = 500;
/// The longest name of a saved view, in characters.
const VIEW_NAME_MAX: usize = 60;
/// The most views one account keeps.
const VIEWS_MAX: usize = 30;

/// Review queue filters, order and page.
#[derive(
    Debug, Clone, Default, PartialEq, serde::Deserialize, serde::Serialize, utoipa::IntoParams,
)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct QueueFilter {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub district: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub programme: Option<String>,
    /// A state's id, or `open` (waiting for a decision: the default),
    /// `decided` (approved, rejected and on from there) or `all`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// The reference number (`12` or `#12`), or part of the applicant's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    /// `me`, `none` (nobody works it yet) or an account id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
    /// `oldest` (longest waiting first: the default), `newest` or `amount`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort: Option<String>,
    /// From 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<u32>,
    /// 1 to 500; 50 by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_page: Option<u32>,
}

impl QueueFilter {
    /// The filter as a query string, without its page: what a saved view keeps.
    pub fn to_query(&self) -> String {
        let unpaged = QueueFilter {
            page: None,
            ..self.clone()
        };
        serde_urlencoded::to_string(unpaged).unwrap_or_default()
    }

    /// The filter a query string holds (a saved view's).
    fn from_query(query: &str) -> Result<QueueFilter> {
        serde_urlencoded::from_str(query)
            .map_err(|_| ServiceError::invalid("query", "invalid_view"))
    }

    /// Empty values are no filter (a form's "any").
    fn given(value: &Option<String>) -> Option<&str> {
        value.as_deref().map(str::trim).filter(|v| !v.is_empty())
    }
}

/// One page of a review queue.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct QueuePage {
    pub items: Vec<ApplicationView>,
    /// How many applications the filters select, on every page.
    pub total: u64,
    pub page: u32,
    pub per_page: u32,
}

/// A reviewer's saved queue filters.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct SavedView {
    pub id: i64,
    pub name: String,
    /// The filters as a query string (`state=open&q=…`).
    pub query: String,
}

/// Who is to work a case: an account, or nobody (`assignee: None`), given
/// the assignee the caller saw (`seen`), so that two people changing hands
/// at once cannot both succeed.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignInput {
    pub assignee: Option<i64>,
    pub seen: Option<i64>,
}

/// The filter, checked and made a store query for `actor`'s scope.
struct Checked<'a> {
    query: QueueQuery<'a>,
    page: u32,
    per_page: u32,
}

fn checked<'a>(s: &Services, actor: &Actor, filter: &'a QueueFilter) -> Result<Checked<'a>> {
    let scope = application_scope(actor).ok_or(ServiceError::Forbidden)?;
    let mut errors = Vec::new();
    let states = states_of(QueueFilter::given(&filter.state)).unwrap_or_else(|e| {
        errors.push(e);
        Vec::new()
    });
    let district = QueueFilter::given(&filter.district);
    if district.is_some_and(|d| d.parse::<District>().is_err()) {
        errors.push(
            FieldError::new("district", "unknown_district")
                .with("value", district.unwrap_or_default()),
        );
    }
    let programme = QueueFilter::given(&filter.programme);
    if programme.is_some_and(|p| s.pack().programme(p).is_none()) {
        errors.push(FieldError::new("programme", "unknown_programme"));
    }
    let assignee = match QueueFilter::given(&filter.assignee) {
        None => None,
        Some("me") => Some(Some(actor.account_id)),
        Some("none") => Some(None),
        Some(id) => match id.parse::<i64>() {
            Ok(id) => Some(Some(id)),
            Err(_) => {
                errors.push(FieldError::new("assignee", "unknown_assignee"));
                None
            }
        },
    };
    let order = match QueueFilter::given(&filter.sort) {
        None | Some("oldest") => QueueOrder::Oldest,
        Some("newest") => QueueOrder::Newest,
        Some("amount") => QueueOrder::Amount,
        Some(_) => {
            errors.push(FieldError::new("sort", "unknown_sort"));
            QueueOrder::Oldest
        }
    };
    let page = filter.page.unwrap_or(1);
    if page == 0 {
        errors.push(FieldError::new("page", "page_from_one"));
    }
    let per_page = filter.per_page.unwrap_or(PER_PAGE);
    if !(1..=MAX_PER_PAGE).contains(&per_page) {
        errors.push(FieldError::new("per_page", "per_page_range").with("max", MAX_PER_PAGE));
    }
    if !errors.is_empty() {
        return Err(ServiceError::Validation(errors));
    }
    Ok(Checked {
        query: QueueQuery {
            scope_district: scope.district.map(|d| d.id()),
            drafts: scope.drafts,
            states,
            district,
            programme,
            search: QueueFilter::given(&filter.q).map(search),
            assignee,
            order,
            limit: Some(u64::from(per_page)),
            offset: u64::from(page.max(1) - 1) * u64::from(per_page),
        },
        page,
        per_page,
    })
}

/// The states `state` names: one state, or a group of them.
fn states_of(state: Option<&str>) -> std::result::Result<Vec<&'static str>, FieldError> {
    let all = State::ALL.iter().copied();
    Ok(match state {
        None | Some("open") => all.filter(|s| s.awaits_review()).map(State::id).collect(),
        Some("decided") => all.filter(|s| s.is_decided()).map(State::id).collect(),
        Some("all") => all.map(State::id).collect(),
        Some(one) => vec![
            one.parse::<State>()
                .map_err(|_| FieldError::new("state", "unknown_state"))?
                .id(),
        ],
    })
}

/// A reference number (`12`, `#12`) or part of a name.
fn search(text: &str) -> Search<'_> {
    match text.trim_start_matches('#').parse::<i64>() {
        Ok(id) => Search::Reference(id),
        Err(_) => Search::Name(text),
    }
}

pub(super) async fn review_queue(
    s: &Services,
    actor: &Actor,
    filter: &QueueFilter,
) -> Result<QueuePage> {
    let checked = checked(s, actor, filter)?;
    let (rows, total) = store::queue(s.store().db(), &checked.query).await?;
    Ok(QueuePage {
        items: views_of(s, &rows).await?,
        total,
        page: checked.page,
        per_page: checked.per_page,
    })
}

/// Every application the filters select, whatever the page, for a file;
/// recorded in the audit log (it carries applicants' names out).
pub(super) async fn export_queue(
    s: &Services,
    actor: &Actor,
    filter: &QueueFilter,
) -> Result<Vec<ApplicationView>> {
    let mut checked = checked(s, actor, filter)?;
    checked.query.limit = None;
    checked.query.offset = 0;
    let db = s.store().db();
    let (rows, total) = store::queue(db, &checked.query).await?;
    let views = views_of(s, &rows).await?;
    let tx = s.store().begin().await?;
    opcity_store::audit::append(
        &tx,
        s.now(),
        opcity_store::audit::Change {
            actor: &actor.audit_label(),
            action: "application.export",
            entity: "application",
            entity_id: String::new(),
            before: None,
            after: Some(serde_json::json!({ "filter": filter.to_query(), "rows": total })),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(views)
}

/// The queue's rows as reviewers read them: applicant, due date, assignee,
/// questions waiting for the applicant (five queries for any number of rows).
async fn views_of(s: &Services, rows: &[application::Model]) -> Result<Vec<ApplicationView>> {
    let db = s.store().db();
    let now = s.now();
    let ids = || rows.iter().map(|a| a.id);
    let starts = store::workbench::clock_starts(db, ids()).await?;
    let assignments = store::workbench::assignments(db, ids()).await?;
    let open = store::messages::open_counts(db, ids()).await?;
    let names = crate::rows_by_id::<account::Entity, _>(
        db,
        account::Column::Id,
        assignments.values().map(|a| a.assignee_id),
        |a| a.id,
    )
    .await?;
    let mut views: Vec<ApplicationView> = rows
        .iter()
        .map(|a| {
            let mut v = view(a, now, false);
            v.due_on = decision_due(s, a, starts.get(&a.id).copied());
            v.open_questions = open.get(&a.id).copied().unwrap_or(0);
            v.assignee = assignments
                .get(&a.id)
                .and_then(|c| names.get(&c.assignee_id))
                .map(Assignee::from);
            v
        })
        .collect();
    name_applicants(db, &mut views).await?;
    Ok(views)
}

/// The rule of who works a case, for any account: what `authz` allows on
/// its district.
fn may_work(account: &account::Model, district: District) -> bool {
    let Ok(role) = account.role.parse::<Role>() else {
        return false;
    };
    let actor = Actor {
        account_id: account.id,
        username: account.username.clone(),
        display_name: account.display_name.clone(),
        role,
        district: account.district.as_deref().and_then(|d| d.parse().ok()),
        person_id: None,
        enterprise_ids: Vec::new(),
        community_ids: Vec::new(),
        locale: account.locale.clone(),
        via_token: None,
        declared: Default::default(),
    };
    !account.disabled && permits(&actor, Action::Update, Resource::Casework { district })
}

fn district_of(app: &application::Model) -> District {
    app.district
        .parse()
        .expect("district ids are constrained by a foreign key")
}

/// Who may be given application `id`: the enabled accounts `authz` lets
/// work it, by name. Empty for a viewer who may not assign it.
pub(super) async fn case_workers(s: &Services, actor: &Actor, id: i64) -> Result<Vec<Assignee>> {
    let app = super::moves::read(s, id).await?;
    authorize(actor, Action::Read, super::moves::resource(&app))?;
    let district = district_of(&app);
    if !permits(actor, Action::Update, Resource::Casework { district }) {
        return Ok(Vec::new());
    }
    let declaring =
        opcity_store::interests::declaring(s.store().db(), app.person_id, app.enterprise_id)
            .await?;
    let mut workers: Vec<Assignee> =
        opcity_store::accounts::staff_of_district(s.store().db(), district.id())
            .await?
            .iter()
            .filter(|a| may_work(a, district) && !declaring.contains(&a.id))
            .map(Assignee::from)
            .collect();
    workers.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(workers)
}

/// Gives application `id` to `input.assignee` (or to nobody) if it is
/// still with `input.seen`; audited. Answers who works it now.
pub(super) async fn assign(
    s: &Services,
    actor: &Actor,
    id: i64,
    input: &AssignInput,
) -> Result<Option<Assignee>> {
    let app = super::moves::read(s, id).await?;
    authorize(actor, Action::Read, super::moves::resource(&app))?;
    let district = district_of(&app);
    authorize(actor, Action::Update, Resource::Casework { district })?;
    let db = s.store().db();
    let assignee = match input.assignee {
        None => None,
        Some(to) => {
            let worker = opcity_store::accounts::account(db, to)
                .await?
                .filter(|a| may_work(a, district))
                .ok_or_else(|| ServiceError::invalid("assignee", "cannot_work_case"))?;
            // Only for someone who may work the case, so that the answer
            // tells nothing of anyone else's declarations.
            let declaring =
                opcity_store::interests::declaring(db, app.person_id, app.enterprise_id).await?;
            if declaring.contains(&to) {
                return Err(ServiceError::invalid("assignee", "declared_interest"));
            }
            Some(worker)
        }
    };
    let tx = s.store().begin().await?;
    let now_with = async || -> Result<Option<i64>> {
        let held = store::workbench::assignments(&*tx, [id]).await?;
        Ok(held.get(&id).map(|a| a.assignee_id))
    };
    // Asking for what already is changes nothing, if the form saw it so.
    let outcome = match (&assignee, input.seen) {
        (Some(to), seen) if seen == Some(to.id) => (now_with().await? == seen).then_some(false),
        (None, None) => now_with().await?.is_none().then_some(false),
        (Some(to), seen) => {
            store::workbench::assign(&*tx, id, seen, to.id, actor.account_id, s.now())
                .await?
                .then_some(true)
        }
        (None, Some(seen)) => store::workbench::unassign(&*tx, id, seen)
            .await?
            .then_some(true),
    };
    let Some(changed) = outcome else {
        return Err(ServiceError::Conflict {
            code: ErrorCode::AssignmentChanged,
            field: Some("assignee"),
        });
    };
    if changed {
        crate::record_change(
            &tx,
            s.now(),
            &actor.audit_label(),
            "application.assign",
            id,
            Some(&serde_json::json!({ "assignee": input.seen })),
            Some(&serde_json::json!({ "assignee": input.assignee })),
        )
        .await?;
        // Someone given a case by another is told (in the inbox, and by
        // e-mail when they opted in); taking a case oneself tells nobody.
        if let Some(to) = assignee.as_ref().filter(|to| to.id != actor.account_id) {
            let subject = format!("application:{id}");
            let notice = opcity_store::notifications::NewNotification {
                account_id: to.id,
                kind: "case_assigned",
                programme: Some(&app.programme),
                subject: Some(&subject),
                at: s.now(),
            };
            opcity_store::notifications::insert_all(&*tx, &[notice]).await?;
        }
    }
    tx.commit().await?;
    Ok(assignee.as_ref().map(Assignee::from))
}

/// Who works application `app` now, for the case page.
pub(super) async fn assignee_of<C: opcity_store::sea_orm::ConnectionTrait>(
    db: &C,
    app: i64,
) -> Result<Option<Assignee>> {
    let Some(a) = store::workbench::assignments(db, [app]).await?.remove(&app) else {
        return Ok(None);
    };
    Ok(opcity_store::accounts::account(db, a.assignee_id)
        .await?
        .as_ref()
        .map(Assignee::from))
}

/// Saved views belong to those who work a queue.
fn views_scope(actor: &Actor) -> Result<()> {
    application_scope(actor)
        .map(|_| ())
        .ok_or(ServiceError::Forbidden)
}

pub(super) async fn saved_views(s: &Services, actor: &Actor) -> Result<Vec<SavedView>> {
    views_scope(actor)?;
    Ok(
        store::workbench::saved_views(s.store().db(), actor.account_id)
            .await?
            .into_iter()
            .map(|v| SavedView {
                id: v.id,
                name: v.name,
                query: v.query,
            })
            .collect(),
    )
}

/// Saves the filters of `query` (a query string) as the actor's view
/// `name`, replacing one of that name.
pub(super) async fn save_view(
    s: &Services,
    actor: &Actor,
    name: &str,
    query: &str,
) -> Result<Vec<SavedView>> {
    views_scope(actor)?;
    let filter = QueueFilter::from_query(query)?;
    let name = name.trim();
    if name.is_empty() {
        return Err(ServiceError::invalid("name", "required"));
    }
    if name.chars().count() > VIEW_NAME_MAX || name.chars().any(char::is_control) {
        return Err(ServiceError::Validation(vec![
            FieldError::new("name", "view_name_invalid").with("max", VIEW_NAME_MAX),
        ]));
    }
    // The filter is checked as the queue would check it.
    checked(s, actor, &filter)?;
    let views = saved_views(s, actor).await?;
    if views.len() >= VIEWS_MAX && !views.iter().any(|v| v.name == name) {
        return Err(ServiceError::Validation(vec![
            FieldError::new("name", "too_many_views").with("max", VIEWS_MAX),
        ]));
    }
    let db = s.store().db();
    store::workbench::save_view(db, actor.account_id, name, &filter.to_query(), s.now()).await?;
    saved_views(s, actor).await
}

pub(super) async fn delete_view(s: &Services, actor: &Actor, id: i64) -> Result<()> {
    views_scope(actor)?;
    if store::workbench::delete_view(s.store().db(), actor.account_id, id).await? {
        Ok(())
    } else {
        Err(ServiceError::NotFound {
            entity: "saved view",
        })
    }
}
