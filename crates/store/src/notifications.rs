//! The notifications guard: in-app notifications and their e-mail outbox.
//!
//! A notification is written in the transaction of the change it reports
//! ([`insert_all`] for proactive matching; application moves write theirs
//! through [`crate::applications::record_moves`]). The e-mail sender of
//! `opcity-services` (`mail.rs`) decides what to send, when to retry and when
//! to give up; this module guards the outbox bookkeeping on each row
//! (`emailed_at`, `email_attempts`, `email_locked_until`, `email_error`).
//! Its invariants:
//! - **A notification is due** ([`due_mail`], [`claim`]) while it is not
//!   e-mailed, has had fewer attempts than the cap the caller gives, and is
//!   neither held by a sender nor waiting for a retry (`email_locked_until`
//!   empty or past).
//! - **One sender at a time.** [`claim`] is one conditional UPDATE: it counts
//!   an attempt and holds the notification until the lease the caller gives
//!   ends, only if it is still due. On PostgreSQL (READ COMMITTED) a second
//!   sender's UPDATE waits for the first and re-checks the condition against
//!   the committed row, so it claims nothing; on SQLite the write
//!   transaction is `IMMEDIATE`. Two senders, in one process or two, never
//!   hold one notification at once; after a lease runs out (a crashed
//!   sender) it is due again: sent at least once, never lost.
//! - **Sent is final.** [`mark_emailed`] sets `emailed_at` and clears the
//!   hold and the error; [`mark_failed`] changes only a notification not
//!   e-mailed, so a late failure never undoes a send. Giving up sets the
//!   attempts to the cap, so the notification is never due again.
//! - **Reading is per account.** [`mark_read`] marks only the account's
//!   unread notifications, keeping the first read time.

use crate::StoreError;
use crate::entity::{account, notification};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Order, Query, SimpleExpr};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QueryResult, QuerySelect,
    Set,
};

/// Longest kept cause of a failed attempt, in characters.
pub const ERROR_CHARS: usize = 500;

/// A notification about to be written.
#[derive(Debug, Clone, Copy)]
pub struct NewNotification<'a> {
    pub account_id: i64,
    /// e.g. `may_qualify`.
    pub kind: &'a str,
    pub programme: Option<&'a str>,
    pub subject: Option<&'a str>,
    pub at: DateTime<Utc>,
}

/// Writes `notifications` unread and not e-mailed, in order (ids ascending),
/// in one INSERT.
pub async fn insert_all<C: ConnectionTrait>(
    tx: &C,
    notifications: &[NewNotification<'_>],
) -> Result<(), StoreError> {
    if notifications.is_empty() {
        return Ok(());
    }
    let rows = notifications.iter().map(|n| notification::ActiveModel {
        account_id: Set(n.account_id),
        kind: Set(n.kind.to_owned()),
        programme: Set(n.programme.map(str::to_owned)),
        subject: Set(n.subject.map(str::to_owned)),
        created_at: Set(n.at),
        read_at: Set(None),
        ..Default::default()
    });
    notification::Entity::insert_many(rows)
        .exec_without_returning(tx)
        .await?;
    Ok(())
}

/// The account's notifications, newest first, at most `limit`.
pub async fn of_account<C: ConnectionTrait>(
    db: &C,
    account_id: i64,
    limit: u64,
) -> Result<Vec<notification::Model>, StoreError> {
    Ok(notification::Entity::find()
        .filter(notification::Column::AccountId.eq(account_id))
        .order_by_desc(notification::Column::Id)
        .limit(limit)
        .all(db)
        .await?)
}

/// Marks the account's unread notifications read at `at`.
pub async fn mark_read<C: ConnectionTrait>(
    tx: &C,
    account_id: i64,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    notification::Entity::update_many()
        .col_expr(notification::Column::ReadAt, Expr::value(at))
        .filter(notification::Column::AccountId.eq(account_id))
        .filter(notification::Column::ReadAt.is_null())
        .exec(tx)
        .await?;
    Ok(())
}

/// What makes a notification due for e-mail at `now`.
#[derive(Debug, Clone, Copy)]
pub struct Due {
    pub now: DateTime<Utc>,
    /// Attempts after which a notification is no longer tried.
    pub max_attempts: i32,
}

impl Due {
    fn condition(self) -> SimpleExpr {
        let n = |c: notification::Column| Expr::col((notification::Entity, c));
        n(notification::Column::EmailedAt)
            .is_null()
            .and(n(notification::Column::EmailAttempts).lt(self.max_attempts))
            .and(
                n(notification::Column::EmailLockedUntil)
                    .is_null()
                    .or(n(notification::Column::EmailLockedUntil).lte(self.now)),
            )
    }
}

/// A due notification, with what its e-mail needs of its account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueMail {
    pub id: i64,
    pub kind: String,
    pub programme: Option<String>,
    pub subject: Option<String>,
    pub created_at: DateTime<Utc>,
    /// Attempts before this one.
    pub attempts: i32,
    pub account_id: i64,
    pub email: String,
    pub display_name: String,
    pub locale: String,
}

impl DueMail {
    fn from_row(row: &QueryResult) -> Result<DueMail, sea_orm::DbErr> {
        Ok(DueMail {
            id: row.try_get("", "id")?,
            kind: row.try_get("", "kind")?,
            programme: row.try_get("", "programme")?,
            subject: row.try_get("", "subject")?,
            created_at: row.try_get("", "created_at")?,
            attempts: row.try_get("", "email_attempts")?,
            account_id: row.try_get("", "account_id")?,
            email: row.try_get("", "email")?,
            display_name: row.try_get("", "display_name")?,
            locale: row.try_get("", "locale")?,
        })
    }
}

/// At most `limit` notifications due, oldest first, of enabled accounts
/// that opted in with an address, created since they did. A read: a sender
/// still has to [`claim`] each.
pub async fn due_mail<C: ConnectionTrait>(
    db: &C,
    due: Due,
    limit: u64,
) -> Result<Vec<DueMail>, StoreError> {
    use account::Column as A;
    use notification::Column as N;
    let a = |c: A| Expr::col((account::Entity, c));
    let query = Query::select()
        .columns([
            (notification::Entity, N::Id),
            (notification::Entity, N::Kind),
            (notification::Entity, N::Programme),
            (notification::Entity, N::Subject),
            (notification::Entity, N::CreatedAt),
            (notification::Entity, N::EmailAttempts),
            (notification::Entity, N::AccountId),
        ])
        .columns([
            (account::Entity, A::Email),
            (account::Entity, A::DisplayName),
            (account::Entity, A::Locale),
        ])
        .from(notification::Entity)
        .inner_join(
            account::Entity,
            Expr::col((account::Entity, A::Id)).equals((notification::Entity, N::AccountId)),
        )
        .and_where(due.condition())
        .and_where(a(A::EmailNotifications).eq(true))
        .and_where(a(A::Disabled).eq(false))
        .and_where(a(A::Email).is_not_null())
        .and_where(
            Expr::col((notification::Entity, N::CreatedAt))
                .gte(Expr::col((account::Entity, A::EmailSince))),
        )
        .order_by((notification::Entity, N::Id), Order::Asc)
        .limit(limit)
        .take();
    let rows = db.query_all(&query).await?;
    Ok(rows
        .iter()
        .map(DueMail::from_row)
        .collect::<Result<_, _>>()?)
}

/// Claims notification `id` for one sender if it is still `due`: one attempt
/// counted, held until `until`. False when another sender holds it, it
/// waits for a retry, it is done or it does not exist.
pub async fn claim<C: ConnectionTrait>(
    tx: &C,
    id: i64,
    due: Due,
    until: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let update = Query::update()
        .table(notification::Entity)
        .value(
            notification::Column::EmailAttempts,
            Expr::col((notification::Entity, notification::Column::EmailAttempts)).add(1),
        )
        .value(notification::Column::EmailLockedUntil, until)
        .and_where(Expr::col((notification::Entity, notification::Column::Id)).eq(id))
        .and_where(due.condition())
        .take();
    Ok(tx.execute(&update).await?.rows_affected() == 1)
}

/// Records that the e-mail of notification `id` was accepted at `at`.
pub async fn mark_emailed<C: ConnectionTrait>(
    tx: &C,
    id: i64,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let update = Query::update()
        .table(notification::Entity)
        .value(notification::Column::EmailedAt, at)
        .value(
            notification::Column::EmailLockedUntil,
            Option::<DateTime<Utc>>::None,
        )
        .value(notification::Column::EmailError, Option::<String>::None)
        .and_where(Expr::col(notification::Column::Id).eq(id))
        .take();
    tx.execute(&update).await?;
    Ok(())
}

/// A failed attempt at mailing a notification.
#[derive(Debug, Clone, Copy)]
pub struct Failure<'a> {
    /// Not tried again before then.
    pub retry_at: DateTime<Utc>,
    /// Why (for operators); kept to [`ERROR_CHARS`].
    pub cause: &'a str,
    /// `Some(cap)` when the sender gives up: the attempts become the cap, so
    /// the notification is never due again.
    pub give_up_at: Option<i32>,
}

/// Records a failed attempt at notification `id`, unless it was e-mailed
/// meanwhile.
pub async fn mark_failed<C: ConnectionTrait>(
    tx: &C,
    id: i64,
    failure: Failure<'_>,
) -> Result<(), StoreError> {
    let mut update = Query::update()
        .table(notification::Entity)
        .value(notification::Column::EmailLockedUntil, failure.retry_at)
        .value(
            notification::Column::EmailError,
            failure.cause.chars().take(ERROR_CHARS).collect::<String>(),
        )
        .and_where(Expr::col(notification::Column::Id).eq(id))
        .and_where(Expr::col(notification::Column::EmailedAt).is_null())
        .take();
    if let Some(cap) = failure.give_up_at {
        update.value(notification::Column::EmailAttempts, cap);
    }
    tx.execute(&update).await?;
    Ok(())
}
