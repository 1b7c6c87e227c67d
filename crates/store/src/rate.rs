//! Rate limits counted in the database: a writer takes its sender's turn
//! ([`crate::intervals::lock_keys`]; SQLite has one writer), counts what the
//! sender wrote within the window and writes only under the limit, so however
//! many requests arrive at once, no more than the limit are kept. The guards
//! that use it: `feedback::insert_within`, `accounts::insert_sign_up_within`,
//! `account_links::issue_within`.

use chrono::{DateTime, Duration, Utc};

/// How many writes one sender may make within a window.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    pub per_sender: u64,
    pub window: Duration,
}

/// What a limited write did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kept<T> {
    Yes(T),
    /// The sender is at the limit; the oldest of their writes in the window
    /// leaves it after this long.
    Wait(Duration),
}

/// How long a write at `at` must wait, given the times of the sender's
/// writes since `at - limit.window`, oldest first; `None` when it may go.
pub(crate) fn wait(recent: &[DateTime<Utc>], limit: Limit, at: DateTime<Utc>) -> Option<Duration> {
    let n = recent.len() as u64;
    (n >= limit.per_sender).then(|| {
        let oldest = recent[(n - limit.per_sender) as usize];
        oldest + limit.window - at
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_for_the_oldest_write_that_counts() {
        let at = DateTime::<Utc>::from_timestamp(10_000, 0).unwrap();
        let limit = Limit {
            per_sender: 2,
            window: Duration::minutes(60),
        };
        let minute = |m: i64| at - Duration::minutes(m);
        assert_eq!(wait(&[minute(50)], limit, at), None);
        assert_eq!(
            wait(&[minute(50), minute(10)], limit, at),
            Some(Duration::minutes(10))
        );
        assert_eq!(
            wait(&[minute(55), minute(50), minute(10)], limit, at),
            Some(Duration::minutes(10))
        );
    }
}
