//! The holdings guard: the one place instrument bookings, space requests,
//! space agreements (offers included) and housing leases are written.
//!
//! Invariants, kept by the SQL here whichever service calls it:
//! - No resource is held twice over overlapping intervals: every insert and
//!   every change of an interval or status goes through the database's
//!   overlap guard ([`crate::intervals`]: PostgreSQL's exclusion constraint,
//!   SQLite's triggers), so a write that would overlap fails with
//!   [`StoreError::Overlap`] (or, on PostgreSQL, [`insert_free_bookings`]
//!   skips it).
//! - A state change happens only from the states it is allowed from: each
//!   transition is one conditional `UPDATE … WHERE id = ? AND status IN (…)`
//!   and answers `None` when the row was not (or no longer) in one of them.
//!   PostgreSQL runs READ COMMITTED, so a status read by the caller is only
//!   trusted by the write that repeats it; callers that also read other
//!   columns first lock the row ([`crate::rows::lock_by_id`]).
//!
//! Deciding whether a change is allowed (who may, which rule applies) stays
//! with the caller; these functions only guard and persist. They also answer
//! the reads such a decision depends on (weekly booked minutes, waitlists,
//! a person's leases and held area), each naming the turn it is read under.
//!
//! One module per kind of holding: `instruments`, `allocations` (space
//! requests and agreements), `amendments` (changes proposed to a waiting
//! request), `leases`; all re-exported here.

mod allocations;
mod amendments;
mod instruments;
mod leases;

pub use allocations::*;
pub use amendments::*;
pub use instruments::*;
pub use leases::*;

use crate::StoreError;
use sea_orm::sea_query::SimpleExpr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PrimaryKeyTrait, QueryFilter};

/// `UPDATE E SET sets WHERE id = id AND status IN from`, then the row as
/// written; `None` when no row matched (absent, or in another state).
pub(crate) async fn transition<E, C>(
    tx: &C,
    id: i64,
    id_column: E::Column,
    status_column: E::Column,
    from: &[&str],
    sets: Vec<(E::Column, SimpleExpr)>,
) -> Result<Option<E::Model>, StoreError>
where
    E: EntityTrait,
    C: ConnectionTrait,
    <E::PrimaryKey as PrimaryKeyTrait>::ValueType: From<i64>,
{
    let mut update = E::update_many()
        .filter(id_column.eq(id))
        .filter(status_column.is_in(from.iter().copied()));
    for (column, value) in sets {
        update = update.col_expr(column, value);
    }
    if update.exec(tx).await?.rows_affected == 0 {
        return Ok(None);
    }
    Ok(E::find_by_id(id).one(tx).await?)
}
