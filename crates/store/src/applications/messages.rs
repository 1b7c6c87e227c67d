//! Requests for information: a reviewer's questions to an applicant and
//! the applicant's answers, one thread per application. Invariants:
//! - **An answer answers something.** [`answer`] first closes the
//!   application's open questions in one conditional UPDATE (`answered_at`
//!   still empty) and writes the answer only if it closed one: of two
//!   answers sent at once, the second finds nothing open (PostgreSQL's
//!   READ COMMITTED re-checks the condition against the first's commit)
//!   and writes nothing.
//! - **Only questions are answered** (a CHECK constraint: an answer never
//!   carries `answered_at`).
//! - Nothing edits or deletes a message: the thread is a record.

use crate::StoreError;
use crate::entity::application_message as message;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    QueryOrder, Set,
};
use std::collections::{BTreeMap, BTreeSet};

/// A message about to be written.
#[derive(Debug, Clone, Copy)]
pub struct NewMessage<'a> {
    pub application_id: i64,
    pub author_id: i64,
    pub body: &'a str,
    pub at: DateTime<Utc>,
}

fn insert<'a>(new: NewMessage<'a>, from_applicant: bool) -> message::ActiveModel {
    message::ActiveModel {
        application_id: Set(new.application_id),
        author_id: Set(new.author_id),
        from_applicant: Set(from_applicant),
        body: Set(new.body.to_owned()),
        at: Set(new.at),
        ..Default::default()
    }
}

/// Writes a reviewer's question; it stays open until the applicant answers.
pub async fn ask(
    tx: &DatabaseTransaction,
    new: NewMessage<'_>,
) -> Result<message::Model, StoreError> {
    Ok(insert(new, false).insert(tx).await?)
}

/// Writes the applicant's answer if a question of the application is
/// open, closing every open one: `Ok(None)` when none was (answered
/// already, or never asked). Returns the answer and whom it answers (the
/// authors of the questions it closed).
pub async fn answer(
    tx: &DatabaseTransaction,
    new: NewMessage<'_>,
) -> Result<Option<(message::Model, BTreeSet<i64>)>, StoreError> {
    let open = open_questions(tx, new.application_id).await?;
    if open.is_empty() {
        return Ok(None);
    }
    // Close exactly the questions read open; one closed meanwhile (by a
    // concurrent answer) makes the count fall short, and nothing is written.
    let closed = message::Entity::update_many()
        .col_expr(message::Column::AnsweredAt, Expr::value(new.at))
        .filter(message::Column::Id.is_in(open.iter().map(|q| q.id)))
        .filter(message::Column::AnsweredAt.is_null())
        .exec(tx)
        .await?
        .rows_affected;
    if closed != open.len() as u64 {
        return Ok(None);
    }
    let askers = open.iter().map(|q| q.author_id).collect();
    Ok(Some((insert(new, true).insert(tx).await?, askers)))
}

/// Closes the application's open questions without an answer (its
/// resubmission answered them); returns how many.
pub async fn close_questions(
    tx: &DatabaseTransaction,
    application_id: i64,
    at: DateTime<Utc>,
) -> Result<u64, StoreError> {
    Ok(message::Entity::update_many()
        .col_expr(message::Column::AnsweredAt, Expr::value(at))
        .filter(message::Column::ApplicationId.eq(application_id))
        .filter(message::Column::FromApplicant.eq(false))
        .filter(message::Column::AnsweredAt.is_null())
        .exec(tx)
        .await?
        .rows_affected)
}

/// The application's open questions, oldest first.
pub async fn open_questions<C: ConnectionTrait>(
    db: &C,
    application_id: i64,
) -> Result<Vec<message::Model>, StoreError> {
    Ok(message::Entity::find()
        .filter(message::Column::ApplicationId.eq(application_id))
        .filter(message::Column::FromApplicant.eq(false))
        .filter(message::Column::AnsweredAt.is_null())
        .order_by_asc(message::Column::Id)
        .all(db)
        .await?)
}

/// The application's thread, oldest first.
pub async fn thread<C: ConnectionTrait>(
    db: &C,
    application_id: i64,
) -> Result<Vec<message::Model>, StoreError> {
    threads(db, [application_id]).await
}

/// The threads of `applications`, by application then oldest first.
pub async fn threads<C: ConnectionTrait>(
    db: &C,
    applications: impl IntoIterator<Item = i64>,
) -> Result<Vec<message::Model>, StoreError> {
    Ok(message::Entity::find()
        .filter(message::Column::ApplicationId.is_in(applications))
        .order_by_asc(message::Column::ApplicationId)
        .order_by_asc(message::Column::Id)
        .all(db)
        .await?)
}

/// How many questions are open on each of `applications` (those with none
/// are left out), for the reviewers' queue.
pub async fn open_counts<C: ConnectionTrait>(
    db: &C,
    applications: impl IntoIterator<Item = i64>,
) -> Result<BTreeMap<i64, usize>, StoreError> {
    let rows = message::Entity::find()
        .filter(message::Column::ApplicationId.is_in(applications))
        .filter(message::Column::FromApplicant.eq(false))
        .filter(message::Column::AnsweredAt.is_null())
        .all(db)
        .await?;
    Ok(rows.iter().fold(BTreeMap::new(), |mut counts, q| {
        *counts.entry(q.application_id).or_default() += 1;
        counts
    }))
}
