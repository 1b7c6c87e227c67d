//! Group commit for instrument bookings, as for submissions and the voucher
//! ledger (`opcity_store::group`): the bookings that arrive while one group
//! writes are written by the next in one transaction, and each is still
//! answered on its own.
//!
//! A group's transaction:
//! 1. on PostgreSQL, takes the turns of every instrument and quota it
//!    touches in one statement (`intervals::lock_keys`, in lock order, so
//!    groups never deadlock, nor inserts of overlapping intervals in the
//!    exclusion constraint's check);
//! 2. checks each booking under a weekly quota and inserts it, one at a
//!    time, so the next quota check counts it;
//! 3. inserts the other bookings: on PostgreSQL in rounds
//!    (`insert_in_rounds`), each one `INSERT … ON CONFLICT DO NOTHING
//!    RETURNING` of bookings pairwise disjoint that skips each one the
//!    exclusion constraint refuses, each row returned answering the request
//!    whose instrument, interval, enterprise and booker it carries (unique,
//!    as the rows are disjoint); on SQLite one
//!    at a time, its overlap trigger aborting only the refused statement
//!    (its single writer gains nothing from one statement, and RAISE would
//!    abort them all);
//! 4. names, for each refused booking, the holding that won (one of the
//!    same group included), writes the audit entries of all the bookings in
//!    one INSERT, and commits once.
//!
//! A refused booking (taken, over its quota) leaves nothing. When a group
//! fails as a whole, or the committers are gone, each booking is written
//! alone, the same way.

use super::instruments::{
    BookingView, NewBooking, booking_view, check_quota, insert_booking, insert_free,
};
use crate::ErrorCode;
use crate::error::{Result, ServiceError};
use crate::groups::GroupWork;
use crate::{Services, change};
use chrono::{DateTime, Utc};
use opcity_store::Backend;
use opcity_store::intervals::{Held, lock_keys};
use opcity_store::sea_orm::DatabaseTransaction;
use std::collections::{BTreeMap, BTreeSet};

/// At most this many bookings share one group.
const MAX_GROUP: usize = 256;
/// One committer: SQLite writes one transaction at a time anyway, and on
/// PostgreSQL a second made groups smaller and no faster (BENCHMARKS.md).
const COMMITTERS: usize = 1;

impl GroupWork for NewBooking {
    type Answer = BookingView;
    const COMMITTERS: usize = COMMITTERS;
    const MAX_GROUP: usize = MAX_GROUP;

    async fn work(
        services: &Services,
        group: &[Self],
        pass_turn: impl FnOnce() + Send,
    ) -> Result<Vec<Result<BookingView>>> {
        services.book_group(group, pass_turn).await
    }
}

/// A booking as its group wrote it, before refusals are explained.
enum Written {
    Booked(BookingView),
    /// The database refused its interval.
    Taken,
    Refused(ServiceError),
}

impl Services {
    /// One group in one transaction; the outer error means it failed as a
    /// whole and wrote nothing.
    async fn book_group(
        &self,
        bookings: &[NewBooking],
        pass_turn: impl FnOnce() + Send,
    ) -> Result<Vec<Result<BookingView>>> {
        let tx = self.store().begin().await?;
        let postgres = self.store().backend() == Backend::Postgres;
        let keys: BTreeSet<String> = bookings
            .iter()
            .flat_map(|b| {
                let quota = b.quota_hours_week.map(|_| b.quota_key());
                std::iter::once(b.claim().turn_key()).chain(quota)
            })
            .collect();
        lock_keys(&*tx, &keys).await?;
        let mut written = Vec::with_capacity(bookings.len());
        let mut together = Vec::new();
        for (i, booking) in bookings.iter().enumerate() {
            if postgres && booking.quota_hours_week.is_none() {
                together.push(i);
                // Until `insert_in_rounds` finds its row.
                written.push(Written::Taken);
                continue;
            }
            written.push(match check_quota(&tx, booking).await {
                Err(ServiceError::Validation(over)) => {
                    Written::Refused(ServiceError::Validation(over))
                }
                Err(failed) => return Err(failed),
                Ok(()) if postgres => insert_alone(&tx, booking).await?,
                Ok(()) => match insert_booking(&tx, booking).await {
                    Ok(view) => Written::Booked(view),
                    Err(ServiceError::Conflict {
                        code: ErrorCode::IntervalOverlap | ErrorCode::Contention,
                        ..
                    }) => Written::Taken,
                    Err(failed) => return Err(failed),
                },
            });
        }
        insert_in_rounds(&tx, bookings, together, &mut written).await?;
        let answers = explain(&tx, bookings, written).await?;
        let changes = bookings.iter().zip(&answers).filter_map(|(b, answer)| {
            let view = answer.as_ref().ok()?;
            let entry = change(&b.actor, "booking.create", view.id, None, Some(view));
            Some((b.at, entry))
        });
        opcity_store::audit::append_all(&tx, changes).await?;
        pass_turn();
        tx.commit().await?;
        Ok(answers)
    }
}

/// PostgreSQL: one booking, skipped rather than failing when it is taken.
async fn insert_alone(tx: &DatabaseTransaction, booking: &NewBooking) -> Result<Written> {
    Ok(match insert_free(tx, &[booking]).await?.first() {
        Some(row) => Written::Booked(booking_view(row)),
        None => Written::Taken,
    })
}

/// Whether two bookings hold overlapping intervals of one instrument.
fn overlaps(a: &NewBooking, b: &NewBooking) -> bool {
    a.instrument_id == b.instrument_id && a.start < b.end && b.start < a.end
}

/// PostgreSQL: the bookings at `pending`, in rounds of one INSERT each.
/// A round takes, in arrival order, each booking that overlaps none taken
/// before it in the round, so its rows are pairwise disjoint; a booking
/// that overlaps one this group has booked is taken; a booking that only
/// overlapped a row the database then skipped (it overlapped a holding of
/// another transaction) waits for the next round. A hot slot asked for
/// many times is decided in one round: the first booking wins it, and the
/// rest overlap a booked row.
async fn insert_in_rounds(
    tx: &DatabaseTransaction,
    bookings: &[NewBooking],
    mut pending: Vec<usize>,
    written: &mut [Written],
) -> Result<()> {
    let mut booked: Vec<usize> = Vec::new();
    while !pending.is_empty() {
        let mut round: Vec<usize> = Vec::new();
        let mut later = Vec::new();
        for i in pending {
            let beats = |&j: &usize| overlaps(&bookings[j], &bookings[i]);
            if booked.iter().any(beats) {
                continue;
            }
            if round.iter().any(beats) {
                later.push(i);
            } else {
                round.push(i);
            }
        }
        insert_together(tx, bookings, &round, written).await?;
        booked.extend(
            round
                .into_iter()
                .filter(|&i| matches!(written[i], Written::Booked(_))),
        );
        pending = later;
    }
    Ok(())
}

/// The identity of a booking row: what its request asked for. The bookings
/// of one INSERT are pairwise disjoint, so no two of them share it.
type RowKey = (i64, DateTime<Utc>, DateTime<Utc>, i64, i64);

fn key_of_request(b: &NewBooking) -> RowKey {
    (
        b.instrument_id,
        b.start,
        b.end,
        b.enterprise_id,
        b.booked_by,
    )
}

/// PostgreSQL: the bookings at `indices`, pairwise disjoint, in one INSERT.
/// Each row inserted answers the one request whose instrument, interval,
/// enterprise and booker it carries; a booking the database skipped
/// overlaps a holding of another transaction.
async fn insert_together(
    tx: &DatabaseTransaction,
    bookings: &[NewBooking],
    indices: &[usize],
    written: &mut [Written],
) -> Result<()> {
    if indices.is_empty() {
        return Ok(());
    }
    let rows: Vec<&NewBooking> = indices.iter().map(|&i| &bookings[i]).collect();
    let mut inserted: BTreeMap<RowKey, _> = BTreeMap::new();
    for row in insert_free(tx, &rows).await? {
        let key = (
            row.instrument_id,
            row.start_at,
            row.end_at,
            row.enterprise_id,
            row.booked_by,
        );
        if inserted.insert(key, row).is_some() {
            return Err(ServiceError::Internal(
                "two booked rows of one group share an interval".into(),
            ));
        }
    }
    for &i in indices {
        if let Some(row) = inserted.remove(&key_of_request(&bookings[i])) {
            written[i] = Written::Booked(booking_view(&row));
        }
    }
    if !inserted.is_empty() {
        // Never committed: a row no booking claims would be answered as
        // taken by itself.
        return Err(ServiceError::Internal(
            format!("{} booked rows match no booking", inserted.len()).into(),
        ));
    }
    Ok(())
}

/// Each refused booking told which holding won; bookings of one interval
/// share the answer (a hot slot is asked for many times at once).
async fn explain(
    tx: &DatabaseTransaction,
    bookings: &[NewBooking],
    written: Vec<Written>,
) -> Result<Vec<Result<BookingView>>> {
    let mut holders: BTreeMap<(i64, DateTime<Utc>, DateTime<Utc>), Option<Held>> = BTreeMap::new();
    let mut answers = Vec::with_capacity(written.len());
    for (booking, w) in bookings.iter().zip(written) {
        answers.push(match w {
            Written::Booked(view) => Ok(view),
            Written::Refused(refusal) => Err(refusal),
            Written::Taken => {
                let claim = booking.claim();
                let key = (claim.resource_id, claim.start, claim.end);
                let holder = match holders.get(&key) {
                    Some(known) => *known,
                    None => {
                        let found = claim.holder(tx).await?;
                        holders.insert(key, found);
                        found
                    }
                };
                Err(claim.refused_by(holder))
            }
        });
    }
    Ok(answers)
}
