//! The reviewers' workbench: the queue read a page at a time, searched and
//! sorted in the database; who works each case; the views a reviewer saves.
//!
//! Invariants:
//! - **One assignee per case.** `case_assignments` is keyed by the
//!   application, and every change of hands ([`assign`], [`unassign`]) is
//!   conditional on the assignee the caller saw: of two reviewers taking
//!   the same case, or reassigning it, one wins and the other's write
//!   changes nothing (PostgreSQL re-checks the condition against the latest
//!   committed row under READ COMMITTED; the INSERT of a first assignment
//!   meets the primary key).
//! - **A saved view belongs to its account**: read, replaced and deleted
//!   only through the account that saved it.

use crate::StoreError;
use crate::entity::{
    application, application_event, case_assignment, enterprise, person, saved_view,
};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Func, IntoIden, LikeExpr, OnConflict, Query};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Select, Set,
};
use std::collections::BTreeMap;

/// What a review queue shows: the scope the caller may see, then the
/// caller's own filters, order and page.
#[derive(Debug, Clone, Default)]
pub struct QueueQuery<'a> {
    /// Only this district's applications (a district reviewer's scope).
    pub scope_district: Option<&'a str>,
    /// Drafts are in scope (else left out whatever `states` says).
    pub drafts: bool,
    /// Only applications in one of these states.
    pub states: Vec<&'a str>,
    pub district: Option<&'a str>,
    pub programme: Option<&'a str>,
    pub search: Option<Search<'a>>,
    /// Only the cases of this assignee (`Some(None)`: only those nobody has).
    pub assignee: Option<Option<i64>>,
    pub order: QueueOrder,
    /// At most this many rows, after skipping `offset` (all rows when `None`).
    pub limit: Option<u64>,
    pub offset: u64,
}

/// What a reviewer searches the queue for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Search<'a> {
    /// The application's reference number.
    Reference(i64),
    /// Part of the applicant's name: the enterprise's, or for a person's
    /// own application the person's; any case, `%` and `_` taken literally.
    Name(&'a str),
}

/// The queue's order. Every order ends on the id, so pages never overlap.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum QueueOrder {
    /// Longest waiting first (earliest submission).
    #[default]
    Oldest,
    Newest,
    /// The largest amount asked or approved first.
    Amount,
}

/// The applications `query` selects, in its order, with how many there are
/// in all (before the page is cut).
pub async fn queue<C: ConnectionTrait>(
    db: &C,
    query: &QueueQuery<'_>,
) -> Result<(Vec<application::Model>, u64), StoreError> {
    let select = selection(query);
    let total = select.clone().count(db).await?;
    let mut page = ordered(select, query.order);
    // SQLite knows OFFSET only after a LIMIT.
    if let Some(limit) = query.limit {
        page = page.limit(limit).offset(query.offset);
    }
    Ok((page.all(db).await?, total))
}

fn selection(query: &QueueQuery<'_>) -> Select<application::Entity> {
    use application::Column as A;
    let mut select = application::Entity::find();
    if let Some(d) = query.scope_district {
        select = select.filter(A::District.eq(d));
    }
    if !query.drafts {
        select = select.filter(A::State.ne(opcity_domain::application::State::Draft.id()));
    }
    select = select.filter(A::State.is_in(query.states.iter().copied()));
    if let Some(d) = query.district {
        select = select.filter(A::District.eq(d));
    }
    if let Some(p) = query.programme {
        select = select.filter(A::Programme.eq(p));
    }
    if let Some(search) = query.search {
        select = select.filter(searched(search));
    }
    if let Some(assignee) = query.assignee {
        let assigned = Query::select()
            .column(case_assignment::Column::ApplicationId)
            .from(case_assignment::Entity)
            .and_where_option(assignee.map(|a| case_assignment::Column::AssigneeId.eq(a)))
            .take();
        select = select.filter(match assignee {
            Some(_) => A::Id.in_subquery(assigned),
            None => A::Id.not_in_subquery(assigned),
        });
    }
    select
}

/// The condition a search puts on applications.
fn searched(search: Search<'_>) -> Condition {
    use application::Column as A;
    match search {
        Search::Reference(id) => Condition::all().add(A::Id.eq(id)),
        Search::Name(text) => {
            let pattern = like_pattern(text);
            let named = |table, id, name| {
                Query::select()
                    .column(id)
                    .from(table)
                    .and_where(
                        Expr::expr(Func::lower(Expr::col(name)))
                            .like(LikeExpr::new(pattern.clone()).escape('\\')),
                    )
                    .take()
            };
            Condition::any()
                .add(A::EnterpriseId.in_subquery(named(
                    enterprise::Entity.into_iden(),
                    enterprise::Column::Id.into_iden(),
                    enterprise::Column::Name.into_iden(),
                )))
                .add(
                    Condition::all()
                        .add(A::EnterpriseId.is_null())
                        .add(A::PersonId.in_subquery(named(
                            person::Entity.into_iden(),
                            person::Column::Id.into_iden(),
                            person::Column::FullName.into_iden(),
                        ))),
                )
        }
    }
}

/// `%text%` in lower case, with the pattern characters of `text` escaped.
fn like_pattern(text: &str) -> String {
    let mut pattern = String::from("%");
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

fn ordered(select: Select<application::Entity>, order: QueueOrder) -> Select<application::Entity> {
    use application::Column as A;
    match order {
        QueueOrder::Oldest => select.order_by_asc(A::SubmittedAt).order_by_asc(A::Id),
        QueueOrder::Newest => select.order_by_desc(A::SubmittedAt).order_by_desc(A::Id),
        QueueOrder::Amount => select
            .order_by_desc(Expr::expr(Func::coalesce([
                Expr::col(A::ApprovedFen),
                Expr::col(A::RequestedFen),
                Expr::val(0i64),
            ])))
            .order_by_asc(A::Id),
    }
}

/// When each of the applications `ids` last entered review (submitted or
/// appealed): where its service standard's clock starts.
pub async fn clock_starts<C: ConnectionTrait>(
    db: &C,
    ids: impl IntoIterator<Item = i64>,
) -> Result<BTreeMap<i64, DateTime<Utc>>, StoreError> {
    use application_event::Column as E;
    let rows: Vec<(i64, DateTime<Utc>)> = application_event::Entity::find()
        .select_only()
        .column(E::ApplicationId)
        .column_as(E::At.max(), "started")
        .filter(E::ApplicationId.is_in(ids))
        .filter(E::ToState.is_in(["submitted", "appealed"]))
        .group_by(E::ApplicationId)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().collect())
}

/// Who works each of the applications `ids` that someone works.
pub async fn assignments<C: ConnectionTrait>(
    db: &C,
    ids: impl IntoIterator<Item = i64>,
) -> Result<BTreeMap<i64, case_assignment::Model>, StoreError> {
    Ok(case_assignment::Entity::find()
        .filter(case_assignment::Column::ApplicationId.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|a| (a.application_id, a))
        .collect())
}

/// Gives application `id` to `assignee` if it is still with `seen` (`None`:
/// nobody); whether it did. The guard of "one assignee per case".
pub async fn assign<C: ConnectionTrait>(
    db: &C,
    id: i64,
    seen: Option<i64>,
    assignee: i64,
    by: i64,
    at: DateTime<Utc>,
) -> Result<bool, StoreError> {
    use case_assignment::Column as C;
    let changed = match seen {
        None => {
            case_assignment::Entity::insert(case_assignment::ActiveModel {
                application_id: Set(id),
                assignee_id: Set(assignee),
                assigned_by: Set(by),
                assigned_at: Set(at),
            })
            .on_conflict(OnConflict::column(C::ApplicationId).do_nothing().to_owned())
            .exec_without_returning(db)
            .await?
        }
        Some(seen) => {
            case_assignment::Entity::update_many()
                .col_expr(C::AssigneeId, Expr::value(assignee))
                .col_expr(C::AssignedBy, Expr::value(by))
                .col_expr(C::AssignedAt, Expr::value(at))
                .filter(C::ApplicationId.eq(id))
                .filter(C::AssigneeId.eq(seen))
                .exec(db)
                .await?
                .rows_affected
        }
    };
    Ok(changed == 1)
}

/// Takes application `id` from `seen`, leaving it to nobody; whether it did.
pub async fn unassign<C: ConnectionTrait>(db: &C, id: i64, seen: i64) -> Result<bool, StoreError> {
    use case_assignment::Column as C;
    let done = case_assignment::Entity::delete_many()
        .filter(C::ApplicationId.eq(id))
        .filter(C::AssigneeId.eq(seen))
        .exec(db)
        .await?;
    Ok(done.rows_affected == 1)
}

/// The views `account` saved, by name.
pub async fn saved_views<C: ConnectionTrait>(
    db: &C,
    account: i64,
) -> Result<Vec<saved_view::Model>, StoreError> {
    Ok(saved_view::Entity::find()
        .filter(saved_view::Column::AccountId.eq(account))
        .order_by_asc(saved_view::Column::Name)
        .all(db)
        .await?)
}

/// Saves `query` as `account`'s view `name`, replacing one of that name.
pub async fn save_view<C: ConnectionTrait>(
    db: &C,
    account: i64,
    name: &str,
    query: &str,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    use saved_view::Column as V;
    saved_view::Entity::insert(saved_view::ActiveModel {
        account_id: Set(account),
        name: Set(name.to_owned()),
        query: Set(query.to_owned()),
        created_at: Set(at),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::columns([V::AccountId, V::Name])
            .update_columns([V::Query, V::CreatedAt])
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// Deletes `account`'s view `id`; whether there was one.
pub async fn delete_view<C: ConnectionTrait>(
    db: &C,
    account: i64,
    id: i64,
) -> Result<bool, StoreError> {
    let done = saved_view::Entity::delete_many()
        .filter(saved_view::Column::Id.eq(id))
        .filter(saved_view::Column::AccountId.eq(account))
        .exec(db)
        .await?;
    Ok(done.rows_affected == 1)
}
