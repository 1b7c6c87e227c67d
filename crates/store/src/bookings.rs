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
//! with the caller; these functions only guard and persist.

use crate::StoreError;
use crate::entity::{
    housing_lease, instrument_booking, space_agreement, space_request, space_unit,
};
use crate::intervals::Holdings;
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{Expr, OnConflict, PostgresQueryBuilder, SimpleExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction, DbBackend,
    EntityTrait, FromQueryResult, IntoActiveModel, PrimaryKeyTrait, QueryFilter, QueryOrder,
    QueryTrait, Set, Statement,
};

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

// ---------------------------------------------------------------------------
// Instrument bookings

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

// ---------------------------------------------------------------------------
// Space requests and agreements

/// A request for space about to join its waitlist.
#[derive(Debug, Clone)]
pub struct NewRequest {
    pub community_id: Option<i64>,
    pub district: String,
    pub kind: String,
    pub programme: String,
    pub enterprise_id: Option<i64>,
    pub person_id: Option<i64>,
    pub team_size: i32,
    pub wanted_from: NaiveDate,
    pub months: i32,
    pub note: String,
    pub requested_by: i64,
    pub at: DateTime<Utc>,
}

/// Inserts `request`, waiting. The caller holds the holder's turn
/// (`intervals::lock_key`) for its "one waiting request per queue" check.
pub async fn insert_request(
    tx: &DatabaseTransaction,
    request: NewRequest,
) -> Result<space_request::Model, StoreError> {
    Ok(space_request::ActiveModel {
        community_id: Set(request.community_id),
        district: Set(request.district),
        kind: Set(request.kind),
        programme: Set(request.programme),
        enterprise_id: Set(request.enterprise_id),
        person_id: Set(request.person_id),
        team_size: Set(request.team_size),
        wanted_from: Set(request.wanted_from),
        months: Set(request.months),
        note: Set(request.note),
        status: Set("waiting".to_owned()),
        requested_by: Set(request.requested_by),
        requested_at: Set(request.at),
        updated_at: Set(request.at),
        ..Default::default()
    }
    .insert(tx)
    .await?)
}

/// Moves a request from one of `from` to `to`; `None` when it was in
/// another state.
pub async fn move_request(
    tx: &DatabaseTransaction,
    id: i64,
    from: &[&str],
    to: &str,
    at: DateTime<Utc>,
) -> Result<Option<space_request::Model>, StoreError> {
    use space_request::Column as R;
    transition::<space_request::Entity, _>(
        tx,
        id,
        R::Id,
        R::Status,
        from,
        vec![
            (R::Status, Expr::value(to)),
            (R::UpdatedAt, Expr::value(at)),
        ],
    )
    .await
}

/// Sets the status of the request an offer answered (`fulfilled` when
/// accepted, `waiting` again when declined or withdrawn), whatever it was:
/// the offer's row, locked by the caller, orders the answers to it.
pub async fn follow_offer(
    tx: &DatabaseTransaction,
    request: space_request::Model,
    to: &str,
    at: DateTime<Utc>,
) -> Result<space_request::Model, StoreError> {
    let mut model = request.into_active_model();
    model.status = Set(to.to_owned());
    model.updated_at = Set(at);
    Ok(model.update(tx).await?)
}

/// An offer or agreement about to hold a unit.
#[derive(Debug, Clone)]
pub struct NewAgreement {
    pub unit_id: i64,
    pub request_id: Option<i64>,
    pub programme: String,
    pub enterprise_id: Option<i64>,
    pub person_id: Option<i64>,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub list_rent_fen: i64,
    pub monthly_rent_fen: i64,
    /// `offered` or `active`.
    pub status: &'static str,
    pub previous_id: Option<i64>,
    pub at: DateTime<Utc>,
}

/// Inserts `agreement`; the database refuses it ([`StoreError::Overlap`])
/// when it overlaps a holding of its unit.
pub async fn insert_agreement(
    tx: &DatabaseTransaction,
    agreement: NewAgreement,
) -> Result<space_agreement::Model, StoreError> {
    Ok(space_agreement::ActiveModel {
        unit_id: Set(agreement.unit_id),
        request_id: Set(agreement.request_id),
        programme: Set(agreement.programme),
        enterprise_id: Set(agreement.enterprise_id),
        person_id: Set(agreement.person_id),
        start_at: Set(agreement.start),
        end_at: Set(agreement.end),
        list_rent_fen: Set(agreement.list_rent_fen),
        monthly_rent_fen: Set(agreement.monthly_rent_fen),
        status: Set(agreement.status.to_owned()),
        previous_id: Set(agreement.previous_id),
        created_at: Set(agreement.at),
        updated_at: Set(agreement.at),
        ..Default::default()
    }
    .insert(tx)
    .await?)
}

/// An offer answered: `active` (accepted), `declined` or `withdrawn`;
/// `None` when it is no longer offered.
pub async fn answer_offer(
    tx: &DatabaseTransaction,
    id: i64,
    to: &str,
    at: DateTime<Utc>,
) -> Result<Option<space_agreement::Model>, StoreError> {
    use space_agreement::Column as A;
    transition::<space_agreement::Entity, _>(
        tx,
        id,
        A::Id,
        A::Status,
        &["offered"],
        vec![
            (A::Status, Expr::value(to)),
            (A::UpdatedAt, Expr::value(at)),
        ],
    )
    .await
}

/// An active agreement ended early: it holds its unit until `end`; `None`
/// when it is not active.
pub async fn end_agreement(
    tx: &DatabaseTransaction,
    id: i64,
    end: DateTime<Utc>,
    at: DateTime<Utc>,
) -> Result<Option<space_agreement::Model>, StoreError> {
    use space_agreement::Column as A;
    transition::<space_agreement::Entity, _>(
        tx,
        id,
        A::Id,
        A::Status,
        &["active"],
        vec![
            (A::EndAt, Expr::value(end)),
            (A::Status, Expr::value("ended")),
            (A::UpdatedAt, Expr::value(at)),
        ],
    )
    .await
}

// ---------------------------------------------------------------------------
// Housing leases

/// A lease about to reserve a housing unit.
#[derive(Debug, Clone)]
pub struct NewLease {
    pub housing_unit_id: i64,
    pub person_id: i64,
    pub enterprise_id: Option<i64>,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub months: i32,
    pub market_rent_fen: i64,
    pub rent_percent: i32,
    pub monthly_rent_fen: i64,
    pub at: DateTime<Utc>,
}

/// Inserts `lease`, reserved; the database refuses it
/// ([`StoreError::Overlap`]) when it overlaps a holding of its unit.
pub async fn insert_lease(
    tx: &DatabaseTransaction,
    lease: NewLease,
) -> Result<housing_lease::Model, StoreError> {
    Ok(housing_lease::ActiveModel {
        housing_unit_id: Set(lease.housing_unit_id),
        person_id: Set(lease.person_id),
        enterprise_id: Set(lease.enterprise_id),
        start_at: Set(lease.start),
        end_at: Set(lease.end),
        months: Set(lease.months),
        market_rent_fen: Set(lease.market_rent_fen),
        rent_percent: Set(lease.rent_percent),
        monthly_rent_fen: Set(lease.monthly_rent_fen),
        status: Set("reserved".to_owned()),
        moved_in_at: Set(None),
        moved_out_at: Set(None),
        created_at: Set(lease.at),
        updated_at: Set(lease.at),
        ..Default::default()
    }
    .insert(tx)
    .await?)
}

const CURRENT_LEASE: [&str; 2] = ["reserved", "active"];

async fn lease_transition(
    tx: &DatabaseTransaction,
    id: i64,
    from: &[&str],
    sets: Vec<(housing_lease::Column, SimpleExpr)>,
) -> Result<Option<housing_lease::Model>, StoreError> {
    transition::<housing_lease::Entity, _>(
        tx,
        id,
        housing_lease::Column::Id,
        housing_lease::Column::Status,
        from,
        sets,
    )
    .await
}

/// A reserved lease becomes active: the tenant moved in at `at`.
pub async fn move_in(
    tx: &DatabaseTransaction,
    id: i64,
    at: DateTime<Utc>,
) -> Result<Option<housing_lease::Model>, StoreError> {
    use housing_lease::Column as L;
    lease_transition(
        tx,
        id,
        &["reserved"],
        vec![
            (L::Status, Expr::value("active")),
            (L::MovedInAt, Expr::value(Some(at))),
            (L::UpdatedAt, Expr::value(at)),
        ],
    )
    .await
}

/// A current (reserved or active) lease now holds its unit until `end`,
/// `months` in all; the database refuses an extension that overlaps.
pub async fn extend_lease(
    tx: &DatabaseTransaction,
    id: i64,
    end: DateTime<Utc>,
    months: i32,
    at: DateTime<Utc>,
) -> Result<Option<housing_lease::Model>, StoreError> {
    use housing_lease::Column as L;
    lease_transition(
        tx,
        id,
        &CURRENT_LEASE,
        vec![
            (L::EndAt, Expr::value(end)),
            (L::Months, Expr::value(months)),
            (L::UpdatedAt, Expr::value(at)),
        ],
    )
    .await
}

/// A current lease ended: it holds its unit until `end` and counts `months`.
pub async fn end_lease(
    tx: &DatabaseTransaction,
    id: i64,
    end: DateTime<Utc>,
    months: i32,
    at: DateTime<Utc>,
) -> Result<Option<housing_lease::Model>, StoreError> {
    use housing_lease::Column as L;
    lease_transition(
        tx,
        id,
        &CURRENT_LEASE,
        vec![
            (L::Status, Expr::value("ended")),
            (L::EndAt, Expr::value(end)),
            (L::Months, Expr::value(months)),
            (L::MovedOutAt, Expr::value(Some(at))),
            (L::UpdatedAt, Expr::value(at)),
        ],
    )
    .await
}

// ---------------------------------------------------------------------------
// Reads that a write depends on (callers hold the turn named on each)

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

fn waiting(
    community_id: Option<i64>,
    district: &str,
    kind: &str,
) -> sea_orm::Select<space_request::Entity> {
    use space_request::Column as R;
    let q = space_request::Entity::find()
        .filter(R::Status.eq("waiting"))
        .filter(R::Kind.eq(kind))
        .filter(R::District.eq(district));
    let q = match community_id {
        Some(c) => q.filter(R::CommunityId.eq(c)),
        None => q.filter(R::CommunityId.is_null()),
    };
    q.order_by_asc(R::RequestedAt).order_by_asc(R::Id)
}

/// The waitlist of a site (a community, or the district outside them) for
/// a unit kind, in the order it is served. An offer reads it under the
/// queue's turn, so it sees every earlier offer.
pub async fn waiting_queue<C: ConnectionTrait>(
    db: &C,
    community_id: Option<i64>,
    district: &str,
    kind: &str,
) -> Result<Vec<space_request::Model>, StoreError> {
    Ok(waiting(community_id, district, kind).all(db).await?)
}

/// The waiting request of the enterprise (or else the person) in that
/// waitlist, if any; read under the holder's turn before a new request.
pub async fn waiting_request_of<C: ConnectionTrait>(
    db: &C,
    community_id: Option<i64>,
    district: &str,
    kind: &str,
    enterprise_id: Option<i64>,
    person_id: Option<i64>,
) -> Result<Option<space_request::Model>, StoreError> {
    let q = waiting(community_id, district, kind);
    let q = match (enterprise_id, person_id) {
        (Some(e), _) => q.filter(space_request::Column::EnterpriseId.eq(e)),
        (_, p) => q.filter(space_request::Column::PersonId.eq(p)),
    };
    Ok(q.one(db).await?)
}

/// The person's leases that were not cancelled (every month they count
/// against the pack's limit); read under the person's grants turn
/// (`grants::lock_subject`) when a lease depends on it.
pub async fn live_leases_of<C: ConnectionTrait>(
    db: &C,
    person_id: i64,
) -> Result<Vec<housing_lease::Model>, StoreError> {
    Ok(housing_lease::Entity::find()
        .filter(housing_lease::Column::PersonId.eq(person_id))
        .filter(housing_lease::Column::Status.ne("cancelled"))
        .all(db)
        .await?)
}

/// The area (m²) of the units the person holds under `programme` by offers
/// or active agreements overlapping `[start, end)`, each unit counted once;
/// read under the person's area turn (`intervals::lock_key`) when an offer
/// depends on it.
pub async fn area_held<C: ConnectionTrait>(
    db: &C,
    person_id: i64,
    programme: &str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Result<i64, StoreError> {
    use space_agreement::Column as A;
    let held = space_agreement::Entity::find()
        .filter(A::PersonId.eq(person_id))
        .filter(A::Programme.eq(programme))
        .filter(A::Status.is_in(["offered", "active"]))
        .filter(A::StartAt.lt(end))
        .filter(A::EndAt.gt(start))
        .all(db)
        .await?;
    let ids: Vec<i64> = held.iter().map(|a| a.unit_id).collect();
    Ok(space_unit::Entity::find()
        .filter(space_unit::Column::Id.is_in(ids))
        .all(db)
        .await?
        .iter()
        .map(|u| u.area_m2)
        .sum())
}
