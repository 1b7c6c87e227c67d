//! The conflict-of-interest register's guard. Invariants:
//! - **A declaration names exactly one party**, an enterprise or a person
//!   (a CHECK constraint).
//! - **A party is declared once at a time by one reviewer**: [`declare`]
//!   looks for the reviewer's active declaration of the party under the
//!   reviewer's turn and writes only when there is none.
//! - **A declaration is withdrawn once, by its reviewer**: [`withdraw`] is
//!   one conditional UPDATE (the reviewer's, not yet withdrawn); nothing
//!   deletes a declaration, so the register keeps its history.

use crate::StoreError;
use crate::entity::declared_interest;
use crate::intervals::lock_keys;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction, EntityTrait,
    QueryFilter, QueryOrder, Set,
};
use std::collections::BTreeSet;

/// The party of a declaration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Party {
    Enterprise(i64),
    Person(i64),
}

/// A declaration about to be written.
#[derive(Debug, Clone, Copy)]
pub struct NewInterest<'a> {
    pub account_id: i64,
    pub party: Party,
    pub relation: &'a str,
    pub note: &'a str,
    pub at: DateTime<Utc>,
}

fn of_party(party: Party) -> Condition {
    match party {
        Party::Enterprise(id) => {
            Condition::all().add(declared_interest::Column::EnterpriseId.eq(id))
        }
        Party::Person(id) => Condition::all().add(declared_interest::Column::PersonId.eq(id)),
    }
}

/// Writes `new` unless its reviewer already declared the party (and has not
/// withdrawn it): `Ok(None)` then.
pub async fn declare(
    tx: &DatabaseTransaction,
    new: NewInterest<'_>,
) -> Result<Option<declared_interest::Model>, StoreError> {
    lock_keys(
        tx,
        &BTreeSet::from([format!("interest:{}", new.account_id)]),
    )
    .await?;
    let existing = declared_interest::Entity::find()
        .filter(declared_interest::Column::AccountId.eq(new.account_id))
        .filter(declared_interest::Column::WithdrawnAt.is_null())
        .filter(of_party(new.party))
        .one(tx)
        .await?;
    if existing.is_some() {
        return Ok(None);
    }
    let (enterprise_id, person_id) = match new.party {
        Party::Enterprise(id) => (Some(id), None),
        Party::Person(id) => (None, Some(id)),
    };
    let saved = declared_interest::ActiveModel {
        account_id: Set(new.account_id),
        enterprise_id: Set(enterprise_id),
        person_id: Set(person_id),
        relation: Set(new.relation.to_owned()),
        note: Set(new.note.to_owned()),
        declared_at: Set(new.at),
        ..Default::default()
    }
    .insert(tx)
    .await?;
    Ok(Some(saved))
}

/// Withdraws declaration `id` of reviewer `account_id` at `at`; whether it
/// did (not theirs, or withdrawn already: no).
pub async fn withdraw(
    tx: &DatabaseTransaction,
    id: i64,
    account_id: i64,
    at: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let done = declared_interest::Entity::update_many()
        .col_expr(declared_interest::Column::WithdrawnAt, Expr::value(at))
        .filter(declared_interest::Column::Id.eq(id))
        .filter(declared_interest::Column::AccountId.eq(account_id))
        .filter(declared_interest::Column::WithdrawnAt.is_null())
        .exec(tx)
        .await?;
    Ok(done.rows_affected == 1)
}

/// The register, newest first: one reviewer's (`Some`) or everyone's.
pub async fn register<C: ConnectionTrait>(
    db: &C,
    account_id: Option<i64>,
) -> Result<Vec<declared_interest::Model>, StoreError> {
    let mut q = declared_interest::Entity::find().order_by_desc(declared_interest::Column::Id);
    if let Some(account) = account_id {
        q = q.filter(declared_interest::Column::AccountId.eq(account));
    }
    Ok(q.all(db).await?)
}

/// The parties reviewer `account_id` has declared and not withdrawn:
/// (persons, enterprises).
pub async fn declared_by<C: ConnectionTrait>(
    db: &C,
    account_id: i64,
) -> Result<(Vec<i64>, Vec<i64>), StoreError> {
    let active = declared_interest::Entity::find()
        .filter(declared_interest::Column::AccountId.eq(account_id))
        .filter(declared_interest::Column::WithdrawnAt.is_null())
        .all(db)
        .await?;
    Ok((
        active.iter().filter_map(|d| d.person_id).collect(),
        active.iter().filter_map(|d| d.enterprise_id).collect(),
    ))
}

/// The reviewers with an active declaration about the person `person_id`
/// or the enterprise `enterprise_id` (a case's applicant), who may not work
/// its case.
pub async fn declaring<C: ConnectionTrait>(
    db: &C,
    person_id: Option<i64>,
    enterprise_id: Option<i64>,
) -> Result<BTreeSet<i64>, StoreError> {
    let mut parties = Condition::any();
    if let Some(id) = person_id {
        parties = parties.add(declared_interest::Column::PersonId.eq(id));
    }
    if let Some(id) = enterprise_id {
        parties = parties.add(declared_interest::Column::EnterpriseId.eq(id));
    }
    if person_id.is_none() && enterprise_id.is_none() {
        return Ok(BTreeSet::new());
    }
    Ok(declared_interest::Entity::find()
        .filter(declared_interest::Column::WithdrawnAt.is_null())
        .filter(parties)
        .all(db)
        .await?
        .into_iter()
        .map(|d| d.account_id)
        .collect())
}
