//! Policy drafts' guard. Invariants:
//! - **An edit applies to the draft its editor saw.** Every edit (details,
//!   adding or removing a change, withdrawing) moves the draft from the
//!   revision the editor read to the next in one conditional UPDATE, only
//!   while it is a draft ([`next_revision`]); the rest of the edit is
//!   written in the same transaction. Of two edits made on one revision one
//!   wins and the other writes nothing (`None`), whichever backend.
//! - **An impact says which changes it describes.** [`attach_impact`] is
//!   one conditional UPDATE on the revision that was simulated: if the
//!   draft was edited meanwhile, the impact is refused rather than shown
//!   beside changes it did not simulate. An impact attached earlier stays
//!   with its revision, so a reader sees it is older than the changes.
//! - A change is one parameter value a date, or one text a condition, per
//!   draft (unique indexes), and is of one kind (a CHECK).
//! - **A draft is submitted with an impact of its changes as they are**
//!   ([`submit`]: on its revision, only when the impact attached is of that
//!   revision), and then no longer edited.
//! - **Four eyes**: a submitted draft is published or sent back
//!   ([`publish`], [`send_back`]) only by someone who neither wrote nor
//!   submitted it (the conditional UPDATE, and a CHECK behind it).
//! - **Versions follow one another**: a version names the version it
//!   revises, and a pack's base version is revised once (a unique index),
//!   so of two publications on one version one is written.

use crate::StoreError;
use crate::entity::{pack_version, policy_draft, policy_draft_change};
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    QueryOrder, Set,
};

/// The status of a draft being worked on.
pub const DRAFT: &str = "draft";
/// The status of a draft its author gave up; it is kept, never deleted.
pub const WITHDRAWN: &str = "withdrawn";
/// The status of a draft waiting for a second administrator.
pub const SUBMITTED: &str = "submitted";
/// The status of a draft written as a version of its pack.
pub const PUBLISHED: &str = "published";

/// What a draft says about itself.
#[derive(Debug, Clone, Copy)]
pub struct Details<'a> {
    pub title: &'a str,
    pub reason: &'a str,
    pub source_document: &'a str,
}

/// One change, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A parameter's value in its unit from `effective_from`; `None` unsets
    /// it.
    Parameter {
        name: String,
        value: Option<i64>,
        effective_from: NaiveDate,
    },
    /// A programme's condition decided by `expression` from
    /// `effective_from`.
    Condition {
        programme: String,
        condition: String,
        expression: String,
        effective_from: NaiveDate,
    },
}

/// Writes a new draft at revision 1.
pub async fn create(
    tx: &DatabaseTransaction,
    pack: &str,
    details: Details<'_>,
    created_by: i64,
    at: DateTime<Utc>,
) -> Result<policy_draft::Model, StoreError> {
    let saved = policy_draft::ActiveModel {
        pack: Set(pack.to_owned()),
        title: Set(details.title.to_owned()),
        reason: Set(details.reason.to_owned()),
        source_document: Set(details.source_document.to_owned()),
        status: Set(DRAFT.to_owned()),
        revision: Set(1),
        created_by: Set(created_by),
        created_at: Set(at),
        updated_at: Set(at),
        ..Default::default()
    }
    .insert(tx)
    .await?;
    Ok(saved)
}

/// Moves draft `id` from `revision` to the next, while it is a draft: the
/// new revision, or `None` when the draft has moved on, was withdrawn or
/// does not exist (nothing written). `also` sets more columns in the same
/// statement.
async fn next_revision_with(
    tx: &DatabaseTransaction,
    id: i64,
    revision: i32,
    at: DateTime<Utc>,
    also: impl FnOnce(
        sea_orm::UpdateMany<policy_draft::Entity>,
    ) -> sea_orm::UpdateMany<policy_draft::Entity>,
) -> Result<Option<i32>, StoreError> {
    let update = policy_draft::Entity::update_many()
        .col_expr(
            policy_draft::Column::Revision,
            Expr::col(policy_draft::Column::Revision).add(1),
        )
        .col_expr(policy_draft::Column::UpdatedAt, Expr::value(at))
        .filter(policy_draft::Column::Id.eq(id))
        .filter(policy_draft::Column::Revision.eq(revision))
        .filter(policy_draft::Column::Status.eq(DRAFT));
    let done = also(update).exec(tx).await?;
    Ok((done.rows_affected == 1).then(|| revision + 1))
}

/// The guard every edit begins with (see the module's doc).
pub async fn next_revision(
    tx: &DatabaseTransaction,
    id: i64,
    revision: i32,
    at: DateTime<Utc>,
) -> Result<Option<i32>, StoreError> {
    next_revision_with(tx, id, revision, at, |u| u).await
}

/// Replaces the draft's details, on `revision`.
pub async fn set_details(
    tx: &DatabaseTransaction,
    id: i64,
    revision: i32,
    details: Details<'_>,
    at: DateTime<Utc>,
) -> Result<Option<i32>, StoreError> {
    next_revision_with(tx, id, revision, at, |u| {
        u.col_expr(policy_draft::Column::Title, Expr::value(details.title))
            .col_expr(policy_draft::Column::Reason, Expr::value(details.reason))
            .col_expr(
                policy_draft::Column::SourceDocument,
                Expr::value(details.source_document),
            )
    })
    .await
}

/// Adds `change` to the draft, on `revision`: the change's id and the new
/// revision. A parameter already given a value on that date, or a
/// condition already rewritten, is `StoreError::Unique`.
pub async fn add_change(
    tx: &DatabaseTransaction,
    id: i64,
    revision: i32,
    change: &Change,
    at: DateTime<Utc>,
) -> Result<Option<(i64, i32)>, StoreError> {
    let Some(next) = next_revision(tx, id, revision, at).await? else {
        return Ok(None);
    };
    let mut row = policy_draft_change::ActiveModel {
        draft_id: Set(id),
        ..Default::default()
    };
    match change {
        Change::Parameter {
            name,
            value,
            effective_from,
        } => {
            row.kind = Set("parameter".into());
            row.parameter = Set(Some(name.clone()));
            row.value = Set(*value);
            row.effective_from = Set(*effective_from);
        }
        Change::Condition {
            programme,
            condition,
            expression,
            effective_from,
        } => {
            row.kind = Set("condition".into());
            row.programme = Set(Some(programme.clone()));
            row.condition = Set(Some(condition.clone()));
            row.expression = Set(Some(expression.clone()));
            row.effective_from = Set(*effective_from);
        }
    }
    let saved = row.insert(tx).await?;
    Ok(Some((saved.id, next)))
}

/// Removes change `change_id` of the draft, on `revision`: the new
/// revision, or `None` when the draft moved on or holds no such change —
/// then the transaction must not be committed (the revision may have
/// moved in it).
pub async fn remove_change(
    tx: &DatabaseTransaction,
    id: i64,
    revision: i32,
    change_id: i64,
    at: DateTime<Utc>,
) -> Result<Option<i32>, StoreError> {
    let Some(next) = next_revision(tx, id, revision, at).await? else {
        return Ok(None);
    };
    let gone = policy_draft_change::Entity::delete_many()
        .filter(policy_draft_change::Column::Id.eq(change_id))
        .filter(policy_draft_change::Column::DraftId.eq(id))
        .exec(tx)
        .await?;
    Ok((gone.rows_affected == 1).then_some(next))
}

/// Withdraws the draft, on `revision`.
pub async fn withdraw(
    tx: &DatabaseTransaction,
    id: i64,
    revision: i32,
    at: DateTime<Utc>,
) -> Result<Option<i32>, StoreError> {
    next_revision_with(tx, id, revision, at, |u| {
        u.col_expr(policy_draft::Column::Status, Expr::value(WITHDRAWN))
    })
    .await
}

/// Keeps `impact` (JSON) as the draft's, simulated at `revision`; `false`
/// when the draft is at another revision or no longer a draft.
pub async fn attach_impact(
    tx: &DatabaseTransaction,
    id: i64,
    revision: i32,
    impact: &str,
    at: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let done = policy_draft::Entity::update_many()
        .col_expr(policy_draft::Column::Impact, Expr::value(impact))
        .col_expr(policy_draft::Column::ImpactRevision, Expr::value(revision))
        .col_expr(policy_draft::Column::ImpactAt, Expr::value(at))
        .filter(policy_draft::Column::Id.eq(id))
        .filter(policy_draft::Column::Revision.eq(revision))
        .filter(policy_draft::Column::Status.eq(DRAFT))
        .exec(tx)
        .await?;
    Ok(done.rows_affected == 1)
}

/// Submits the draft on `revision`, when its impact is of that revision;
/// whether it did.
pub async fn submit(
    tx: &DatabaseTransaction,
    id: i64,
    revision: i32,
    by: i64,
    at: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let done = policy_draft::Entity::update_many()
        .col_expr(policy_draft::Column::Status, Expr::value(SUBMITTED))
        .col_expr(policy_draft::Column::SubmittedBy, Expr::value(by))
        .col_expr(policy_draft::Column::SubmittedAt, Expr::value(at))
        .filter(policy_draft::Column::Id.eq(id))
        .filter(policy_draft::Column::Revision.eq(revision))
        .filter(policy_draft::Column::Status.eq(DRAFT))
        .filter(policy_draft::Column::ImpactRevision.eq(revision))
        .exec(tx)
        .await?;
    Ok(done.rows_affected == 1)
}

/// Decides submitted draft `id` on `revision`, by `by`, who must be
/// neither its author nor its submitter: to `status`, with `note`.
async fn decide(
    tx: &DatabaseTransaction,
    (id, revision): (i64, i32),
    (by, at): (i64, DateTime<Utc>),
    status: &str,
    note: Option<&str>,
) -> Result<bool, StoreError> {
    let done = policy_draft::Entity::update_many()
        .col_expr(policy_draft::Column::Status, Expr::value(status))
        .col_expr(policy_draft::Column::DecidedBy, Expr::value(by))
        .col_expr(policy_draft::Column::DecidedAt, Expr::value(at))
        .col_expr(policy_draft::Column::DecisionNote, Expr::value(note))
        .filter(policy_draft::Column::Id.eq(id))
        .filter(policy_draft::Column::Revision.eq(revision))
        .filter(policy_draft::Column::Status.eq(SUBMITTED))
        .filter(policy_draft::Column::CreatedBy.ne(by))
        .filter(policy_draft::Column::SubmittedBy.ne(by))
        .exec(tx)
        .await?;
    Ok(done.rows_affected == 1)
}

/// Sends submitted draft `id` back to its author with `note`: it is a
/// draft again. `false` when it is not submitted at `revision`, or `by`
/// wrote or submitted it.
pub async fn send_back(
    tx: &DatabaseTransaction,
    id: i64,
    revision: i32,
    (by, note): (i64, &str),
    at: DateTime<Utc>,
) -> Result<bool, StoreError> {
    decide(tx, (id, revision), (by, at), DRAFT, Some(note)).await
}

/// A version about to be published.
#[derive(Debug, Clone, Copy)]
pub struct NewVersion<'a> {
    pub pack: &'a str,
    pub base_version: &'a str,
    pub version: &'a str,
    pub effective_from: NaiveDate,
    /// The revision as JSON.
    pub revision: &'a str,
}

/// Publishes submitted draft `id` as `version`, by `by` (see [`decide`]):
/// `None` when the draft may not be published by them now. A version
/// already revising the same base is `StoreError::Unique`; the caller's
/// transaction then writes nothing.
pub async fn publish(
    tx: &DatabaseTransaction,
    id: i64,
    revision: i32,
    by: i64,
    version: NewVersion<'_>,
    at: DateTime<Utc>,
) -> Result<Option<pack_version::Model>, StoreError> {
    if !decide(tx, (id, revision), (by, at), PUBLISHED, None).await? {
        return Ok(None);
    }
    let saved = pack_version::ActiveModel {
        pack: Set(version.pack.to_owned()),
        base_version: Set(version.base_version.to_owned()),
        version: Set(version.version.to_owned()),
        effective_from: Set(version.effective_from),
        revision: Set(version.revision.to_owned()),
        draft_id: Set(id),
        published_by: Set(by),
        published_at: Set(at),
        ..Default::default()
    }
    .insert(tx)
    .await?;
    Ok(Some(saved))
}

/// The published versions of `pack`, in the order they were published.
pub async fn versions<C: ConnectionTrait>(
    db: &C,
    pack: &str,
) -> Result<Vec<pack_version::Model>, StoreError> {
    Ok(pack_version::Entity::find()
        .filter(pack_version::Column::Pack.eq(pack))
        .order_by_asc(pack_version::Column::Id)
        .all(db)
        .await?)
}

/// A draft and its changes (by date, then id).
pub async fn get<C: ConnectionTrait>(
    db: &C,
    id: i64,
) -> Result<Option<(policy_draft::Model, Vec<policy_draft_change::Model>)>, StoreError> {
    let Some(draft) = policy_draft::Entity::find_by_id(id).one(db).await? else {
        return Ok(None);
    };
    let changes = policy_draft_change::Entity::find()
        .filter(policy_draft_change::Column::DraftId.eq(id))
        .order_by_asc(policy_draft_change::Column::EffectiveFrom)
        .order_by_asc(policy_draft_change::Column::Id)
        .all(db)
        .await?;
    Ok(Some((draft, changes)))
}

/// The changes of drafts `ids`.
pub async fn changes_of<C: ConnectionTrait>(
    db: &C,
    ids: impl IntoIterator<Item = i64>,
) -> Result<Vec<policy_draft_change::Model>, StoreError> {
    Ok(policy_draft_change::Entity::find()
        .filter(policy_draft_change::Column::DraftId.is_in(ids))
        .all(db)
        .await?)
}

/// Every draft, newest first.
pub async fn list<C: ConnectionTrait>(db: &C) -> Result<Vec<policy_draft::Model>, StoreError> {
    Ok(policy_draft::Entity::find()
        .order_by_desc(policy_draft::Column::Id)
        .all(db)
        .await?)
}
