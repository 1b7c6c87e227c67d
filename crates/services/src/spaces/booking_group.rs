//! Group commit for instrument bookings on SQLite, as submissions and the
//! voucher ledger do (`opcity_store::group`). SQLite has one writer, so
//! concurrent booking transactions only wait for each other; instead, the
//! bookings that arrive while one group writes are written by the next in
//! one transaction: each one's quota check and INSERT, then the audit
//! entries of all of them in one INSERT, and one commit.
//!
//! Each booking is still answered on its own. The overlap triggers refuse
//! an INSERT that overlaps a holding (one written earlier in the same group
//! included) by aborting that statement only, so a refused booking leaves
//! nothing and is told which holding won; a booking over its quota is
//! refused the same way. When the group fails as a whole, or the committers
//! are gone, each booking is written alone, the same way.
//!
//! PostgreSQL keeps one transaction per booking (`book_instrument`): its
//! writers run side by side, and a refused INSERT there would abort the
//! whole transaction.

use super::instruments::{BookingView, NewBooking, insert_booking};
use crate::error::{CONTENTION, OVERLAP, Result, ServiceError};
use crate::{Services, change};
use opcity_store::group::GroupCommit;

/// At most this many bookings share one group.
const MAX_GROUP: usize = 256;
/// One committer: SQLite writes one transaction at a time anyway.
const COMMITTERS: usize = 1;

/// The committer's queue, kept by [`Services`].
pub(crate) type Queue = GroupCommit<NewBooking, Result<BookingView>>;

impl Services {
    /// Writes `booking` in the next group (see the module docs).
    pub(super) async fn book_in_group(&self, booking: NewBooking) -> Result<BookingView> {
        let queue = self.groups.bookings.get_or_init(|| {
            let services = self.for_committers();
            GroupCommit::start(COMMITTERS, MAX_GROUP, move |bookings| {
                let services = services.clone();
                async move { services.book_group(&bookings).await }
            })
        });
        if let Some(answer) = queue.submit(booking.clone()).await {
            return answer;
        }
        let mut answers = self.book_group(std::slice::from_ref(&booking)).await?;
        answers.pop().expect("one answer per booking")
    }

    /// One group in one transaction; the outer error means it failed as a
    /// whole and wrote nothing.
    async fn book_group(&self, bookings: &[NewBooking]) -> Result<Vec<Result<BookingView>>> {
        let tx = self.store().begin().await?;
        let mut answers = Vec::with_capacity(bookings.len());
        for booking in bookings {
            let answer = match self.check_quota(&tx, booking).await {
                Ok(()) => insert_booking(&tx, booking).await,
                Err(refused) => Err(refused),
            };
            answers.push(match answer {
                Err(ServiceError::Conflict {
                    code: OVERLAP | CONTENTION,
                    ..
                }) => Err(booking.claim().refusal(&*tx).await?),
                Err(ServiceError::Validation(errors)) => Err(ServiceError::Validation(errors)),
                Err(failed) => return Err(failed),
                Ok(view) => Ok(view),
            });
        }
        let changes = bookings.iter().zip(&answers).filter_map(|(b, answer)| {
            let view = answer.as_ref().ok()?;
            let entry = change(&b.actor, "booking.create", view.id, None, Some(view));
            Some((b.at, entry))
        });
        opcity_store::audit::append_all(&tx, changes).await?;
        tx.commit().await?;
        Ok(answers)
    }
}
