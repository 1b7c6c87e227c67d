//! Instrument bookings: inserted (one, or many skipping overlaps), then
//! decided, cancelled, checked into, released or expired.

use super::transition;
use crate::StoreError;
use crate::entity::instrument_booking;
use crate::intervals::Holdings;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict, PostgresQueryBuilder, SimpleExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction, DbBackend,
    EntityTrait, FromQueryResult, QueryFilter, QueryTrait, Set, Statement,
};

/// A booking about to be written.
#[derive(Debug, Clone)]
pub struct NewBooking {
    pub instrument_id: i64,
    pub enterprise_id: i64,
    pub booked_by: i64,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// Pending until approved (it holds its slot meanwhile), else confirmed.
    pub pending: bool,
    pub purpose: String,
    pub at: DateTime<Utc>,
}

impl NewBooking {
    fn row(&self) -> instrument_booking::ActiveModel {
        let status = if self.pending { "pending" } else { "confirmed" };
        instrument_booking::ActiveModel {
            instrument_id: Set(self.instrument_id),
            enterprise_id: Set(self.enterprise_id),
            booked_by: Set(self.booked_by),
            start_at: Set(self.start),
            end_at: Set(self.end),
            status: Set(status.to_owned()),
            late_cancel: Set(false),
            purpose: Set(self.purpose.clone()),
            created_at: Set(self.at),
            decided_at: Set(None),
            checked_in_at: Set(None),
            cancelled_at: Set(None),
            ..Default::default()
        }
    }
}

/// Inserts `booking`; the database refuses it ([`StoreError::Overlap`])
/// when it overlaps a holding of its instrument.
pub async fn insert_booking(
    tx: &DatabaseTransaction,
    booking: &NewBooking,
) -> Result<instrument_booking::Model, StoreError> {
    Ok(booking.row().insert(tx).await?)
}

/// Inserts `bookings`, skipping each one that overlaps a holding (a row
/// inserted before it by the same call included), and returns the rows
/// inserted. On PostgreSQL one `INSERT … ON CONFLICT DO NOTHING RETURNING`
/// whose arbiter is the exclusion constraint; on SQLite one row at a time,
/// the overlap trigger aborting only the refused statement (its `RAISE`
/// would abort a multi-row statement whole).
pub async fn insert_free_bookings(
    tx: &DatabaseTransaction,
    bookings: &[&NewBooking],
) -> Result<Vec<instrument_booking::Model>, StoreError> {
    if bookings.is_empty() {
        return Ok(Vec::new());
    }
    if tx.get_database_backend() != DbBackend::Postgres {
        let mut rows = Vec::with_capacity(bookings.len());
        for b in bookings {
            match insert_booking(tx, b).await {
                Ok(row) => rows.push(row),
                Err(StoreError::Overlap(_)) => {}
                Err(other) => return Err(other),
            }
        }
        return Ok(rows);
    }
    let mut insert =
        instrument_booking::Entity::insert_many(bookings.iter().map(|b| b.row())).into_query();
    insert
        .on_conflict(OnConflict::new().do_nothing().to_owned())
        .returning_all();
    let (sql, values) = insert.build(PostgresQueryBuilder);
    let rows = tx
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            sql,
            values.0,
        ))
        .await?;
    Ok(rows
        .iter()
        .map(|row| instrument_booking::Model::from_query_result(row, ""))
        .collect::<Result<_, _>>()?)
}

async fn booking_transition(
    tx: &DatabaseTransaction,
    id: i64,
    from: &[&str],
    sets: Vec<(instrument_booking::Column, SimpleExpr)>,
) -> Result<Option<instrument_booking::Model>, StoreError> {
    transition::<instrument_booking::Entity, _>(
        tx,
        id,
        instrument_booking::Column::Id,
        instrument_booking::Column::Status,
        from,
        sets,
    )
    .await
}

/// A pending booking approved (`confirmed`) or rejected at `at`.
pub async fn decide_booking(
    tx: &DatabaseTransaction,
    id: i64,
    approve: bool,
    at: DateTime<Utc>,
) -> Result<Option<instrument_booking::Model>, StoreError> {
    use instrument_booking::Column as B;
    let status = if approve { "confirmed" } else { "rejected" };
    booking_transition(
        tx,
        id,
        &["pending"],
        vec![
            (B::Status, Expr::value(status)),
            (B::DecidedAt, Expr::value(Some(at))),
        ],
    )
    .await
}

/// A pending or confirmed booking cancelled at `at`; `late` counts its hours
/// against the quota still.
pub async fn cancel_booking(
    tx: &DatabaseTransaction,
    id: i64,
    late: bool,
    at: DateTime<Utc>,
) -> Result<Option<instrument_booking::Model>, StoreError> {
    use instrument_booking::Column as B;
    booking_transition(
        tx,
        id,
        &["pending", "confirmed"],
        vec![
            (B::Status, Expr::value("cancelled")),
            (B::LateCancel, Expr::value(late)),
            (B::CancelledAt, Expr::value(Some(at))),
        ],
    )
    .await
}

/// A confirmed booking checked into at `at`.
pub async fn check_in_booking(
    tx: &DatabaseTransaction,
    id: i64,
    at: DateTime<Utc>,
) -> Result<Option<instrument_booking::Model>, StoreError> {
    use instrument_booking::Column as B;
    booking_transition(
        tx,
        id,
        &["confirmed"],
        vec![
            (B::Status, Expr::value("checked_in")),
            (B::CheckedInAt, Expr::value(Some(at))),
        ],
    )
    .await
}

/// A confirmed booking nobody checked into, released: it holds its slot
/// only until `end` (the rest can be booked again).
pub async fn release_booking(
    tx: &DatabaseTransaction,
    id: i64,
    end: DateTime<Utc>,
) -> Result<Option<instrument_booking::Model>, StoreError> {
    use instrument_booking::Column as B;
    booking_transition(
        tx,
        id,
        &["confirmed"],
        vec![
            (B::Status, Expr::value("released")),
            (B::EndAt, Expr::value(end)),
        ],
    )
    .await
}

/// A pending booking whose start passed unapproved, rejected at `at`.
pub async fn expire_booking(
    tx: &DatabaseTransaction,
    id: i64,
    at: DateTime<Utc>,
) -> Result<Option<instrument_booking::Model>, StoreError> {
    decide_booking(tx, id, false, at).await
}

/// Minutes `enterprise_id` holds on `instrument_id` in bookings starting in
/// `[from, to)`, late cancellations included (they still count against a
/// quota). A booking checked against a quota reads this under the quota's
/// turn (`intervals::lock_key`), so two bookings cannot both fit the last
/// hours.
pub async fn booked_minutes<C: ConnectionTrait>(
    db: &C,
    instrument_id: i64,
    enterprise_id: i64,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<i64, StoreError> {
    use instrument_booking::Column as B;
    let rows = instrument_booking::Entity::find()
        .filter(B::InstrumentId.eq(instrument_id))
        .filter(B::EnterpriseId.eq(enterprise_id))
        .filter(B::StartAt.gte(from))
        .filter(B::StartAt.lt(to))
        .filter(
            Condition::any()
                .add(
                    B::Status.is_in(
                        Holdings::InstrumentBookings
                            .holding_statuses()
                            .iter()
                            .copied(),
                    ),
                )
                .add(B::LateCancel.eq(true)),
        )
        .all(db)
        .await?;
    Ok(rows
        .iter()
        .map(|b| (b.end_at - b.start_at).num_minutes())
        .sum())
}
