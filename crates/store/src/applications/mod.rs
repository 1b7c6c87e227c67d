//! The applications guard: the one place an application, its history, its
//! reviews, its documents and its instalments are written.
//!
//! `opcity-services` decides (who may act, which move the state machine
//! of `opcity_domain::application` allows, what the policy grants); this
//! module guards and persists. Its invariants:
//! - **A move applies only to the application as it was read.** Every
//!   change of state ([`move_one`], [`move_submitted`], [`move_decided`])
//!   is one UPDATE conditional on the state *and* the form the caller
//!   decided on (the form is the one thing that changes without a move),
//!   and it returns what it moved: a row changed meanwhile is left alone
//!   and its move answers nothing, so two reviewers cannot both act on one
//!   application (PostgreSQL runs READ COMMITTED: the UPDATE re-checks its
//!   condition against the latest committed row).
//! - **The applicant's side changes only while it is open.** The form
//!   ([`update_form_if_editable`]) changes only in `draft` or `returned`
//!   and only if unchanged since read; the caller holds the row lock
//!   ([`lock`]) across the read and the write, so a racing submission either
//!   moves it first or waits.
//! - **A group's approvals see each other.** [`lock_unchanged`] locks the
//!   group's rows in id order before [`approvers_since`] reads the approvals
//!   already given, so a four-eyes approval is never decided twice alone.
//! - **Instalments are paid once.** [`pay`] moves one instalment
//!   `scheduled` → `paid` conditionally; a second or concurrent run finds
//!   nothing to pay. [`stop_payments`] cancels what is scheduled, releases
//!   what the application still holds in its budget (through
//!   [`crate::budget`]) and ends its grant.
//!
//! - **An answer answers an open question.** See [`messages`].
//!
//! History rows, notifications and audit entries of moves are written by
//! [`record_moves`], one INSERT per table for any number of moves.

pub mod budgets;
pub mod messages;
mod moves;
mod payments;
mod records;
pub mod workbench;

pub use moves::{
    DecidedMove, HistoryRow, Move, MoveSets, Notice, SubmittedMove, approvers_since,
    lock_unchanged, move_decided, move_one, move_submitted, record_moves,
};
pub use payments::{
    cancel_scheduled, due, held_by, held_by_applications, instalments, instalments_between, pay,
    release_held, schedule, scheduled_left, stop_payments,
};
pub use records::{
    Draft, NewDocument, NewReview, create, document, documents, documents_of, insert_document,
    insert_reviews, update_form_if_editable,
};
pub use workbench::{QueueOrder, QueueQuery, Search, queue};

use crate::StoreError;
use crate::entity::{application, application_event, enterprise, person, review};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use std::collections::{BTreeMap, BTreeSet};

/// The application `id`.
pub async fn find<C: ConnectionTrait>(
    db: &C,
    id: i64,
) -> Result<Option<application::Model>, StoreError> {
    Ok(application::Entity::find_by_id(id).one(db).await?)
}

/// The applications of `ids` that exist, by id.
pub async fn find_many<C: ConnectionTrait>(
    db: &C,
    ids: impl IntoIterator<Item = i64>,
) -> Result<BTreeMap<i64, application::Model>, StoreError> {
    Ok(application::Entity::find()
        .filter(application::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|a| (a.id, a))
        .collect())
}

/// The application `id`, locked until the transaction ends
/// ([`crate::rows::lock_by_id`]): for a change outside a guarded move (its
/// form, its documents) that depends on what was read.
pub async fn lock(
    tx: &DatabaseTransaction,
    id: i64,
) -> Result<Option<application::Model>, StoreError> {
    crate::rows::lock_by_id::<application::Entity>(tx, id).await
}

/// The application `account_id` created with idempotency key `key`.
pub async fn by_idempotency_key<C: ConnectionTrait>(
    db: &C,
    account_id: i64,
    key: &str,
) -> Result<Option<application::Model>, StoreError> {
    Ok(application::Entity::find()
        .filter(application::Column::CreatedBy.eq(account_id))
        .filter(application::Column::IdempotencyKey.eq(key))
        .one(db)
        .await?)
}

/// The applications `account_id` created, newest first.
pub async fn of_creator<C: ConnectionTrait>(
    db: &C,
    account_id: i64,
) -> Result<Vec<application::Model>, StoreError> {
    Ok(application::Entity::find()
        .filter(application::Column::CreatedBy.eq(account_id))
        .order_by_desc(application::Column::Id)
        .all(db)
        .await?)
}

/// Up to `limit` applications in `state` with ids above `after`, by id: a
/// page of a walk over every application in that state.
pub async fn in_state_after<C: ConnectionTrait>(
    db: &C,
    state: &str,
    after: i64,
    limit: u64,
) -> Result<Vec<application::Model>, StoreError> {
    Ok(application::Entity::find()
        .filter(application::Column::State.eq(state))
        .filter(application::Column::Id.gt(after))
        .order_by_asc(application::Column::Id)
        .limit(limit)
        .all(db)
        .await?)
}

/// Applications of `programmes` approved and not yet accepted, of the
/// `enterprises`, or (for a person's own application) of the `persons`:
/// offers that will count against a per-beneficiary cap once accepted.
pub async fn offers_awaiting_acceptance<C: ConnectionTrait>(
    db: &C,
    programmes: &BTreeSet<String>,
    enterprises: &BTreeSet<i64>,
    persons: &BTreeSet<i64>,
) -> Result<Vec<application::Model>, StoreError> {
    use application::Column as A;
    let own = Condition::all()
        .add(A::EnterpriseId.is_null())
        .add(A::PersonId.is_in(persons.iter().copied()));
    Ok(application::Entity::find()
        .filter(A::State.eq("approved"))
        .filter(A::Programme.is_in(programmes))
        .filter(
            Condition::any()
                .add(A::EnterpriseId.is_in(enterprises.iter().copied()))
                .add(own),
        )
        .all(db)
        .await?)
}

/// The history of application `id`, oldest first.
pub async fn history<C: ConnectionTrait>(
    db: &C,
    id: i64,
) -> Result<Vec<application_event::Model>, StoreError> {
    Ok(application_event::Entity::find()
        .filter(application_event::Column::ApplicationId.eq(id))
        .order_by_asc(application_event::Column::Id)
        .all(db)
        .await?)
}

/// The histories of the applications `ids`, oldest step first.
pub async fn histories<C: ConnectionTrait>(
    db: &C,
    ids: impl IntoIterator<Item = i64>,
) -> Result<Vec<application_event::Model>, StoreError> {
    Ok(application_event::Entity::find()
        .filter(application_event::Column::ApplicationId.is_in(ids))
        .order_by_asc(application_event::Column::Id)
        .all(db)
        .await?)
}

/// The reviews of application `id`, oldest first.
pub async fn reviews<C: ConnectionTrait>(
    db: &C,
    id: i64,
) -> Result<Vec<review::Model>, StoreError> {
    Ok(review::Entity::find()
        .filter(review::Column::ApplicationId.eq(id))
        .order_by_asc(review::Column::Id)
        .all(db)
        .await?)
}

/// The person `id`, as an application for them reads it (its district).
pub async fn person<C: ConnectionTrait>(
    db: &C,
    id: i64,
) -> Result<Option<person::Model>, StoreError> {
    Ok(person::Entity::find_by_id(id).one(db).await?)
}

/// The enterprise `id`, as an application for it reads it (its district).
pub async fn enterprise<C: ConnectionTrait>(
    db: &C,
    id: i64,
) -> Result<Option<enterprise::Model>, StoreError> {
    Ok(enterprise::Entity::find_by_id(id).one(db).await?)
}
