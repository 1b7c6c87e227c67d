//! The sign-in throttle guard: at most a policy's number of password checks
//! get through for one scope, however many arrive at once.
//!
//! An attempt is claimed before its password is checked ([`claim`]): in one
//! write transaction it takes the turns of its three scopes (the username
//! from this address, the address across usernames, the username across
//! addresses), counts the failures of each within the window and, when every
//! scope allows it, records the attempt as a failure and commits. Only then
//! is the password checked; a right one clears the failures of its username
//! from its address ([`succeeded`]). Concurrent wrong passwords are counted
//! one by one, so no more get checked than the policy allows.
//!
//! A scope past its free failures is not locked out: each further attempt
//! waits a back-off that doubles with every failure, up to a ceiling, from
//! the scope's last failure. The scopes are counted apart, so wrong
//! passwords from one address slow that address down and never stop the
//! owner signing in from another.

use crate::StoreError;
use crate::entity::login_failure;
use crate::intervals::lock_keys;
use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, DatabaseTransaction, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use std::collections::BTreeSet;

/// How many failures each scope is allowed before it waits, and how long.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// Failures older than this are forgotten.
    pub window: Duration,
    /// Free failures of one username from one address.
    pub per_account_and_address: u64,
    /// Free failures from one address, across usernames (spraying).
    pub per_address: u64,
    /// Free failures of one username, across addresses (a distributed
    /// guess); higher than the others, so one address alone never reaches it.
    pub per_account: u64,
    /// The first wait past the free failures; it doubles with each failure.
    pub first_wait: Duration,
    pub longest_wait: Duration,
}

/// A sign-in about to be checked.
#[derive(Debug, Clone, Copy)]
pub struct Attempt<'a> {
    pub username: &'a str,
    /// The client's address, when known.
    pub address: Option<&'a str>,
    pub at: DateTime<Utc>,
}

/// What [`claim`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// Check the password; the attempt is recorded as a failure meanwhile.
    Check { attempt_id: i64 },
    /// Refused unchecked: try again after this long.
    Wait { retry_after: Duration },
}

/// Claims a password check for `attempt` under `policy`.
pub async fn claim(
    tx: &DatabaseTransaction,
    attempt: Attempt<'_>,
    policy: &Policy,
) -> Result<Claim, StoreError> {
    let user = Condition::all().add(login_failure::Column::Username.eq(attempt.username));
    let mut keys = BTreeSet::from([format!("login:user:{}", attempt.username)]);
    let scopes = match attempt.address {
        Some(address) => {
            keys.insert(format!("login:address:{address}"));
            let from = login_failure::Column::Address.eq(address);
            vec![
                (user.clone(), policy.per_account),
                (user.add(from.clone()), policy.per_account_and_address),
                (Condition::all().add(from), policy.per_address),
            ]
        }
        // Nothing tells one client from another: the username is the scope.
        None => vec![(user, policy.per_account_and_address)],
    };
    lock_keys(tx, &keys).await?;
    let since = attempt.at - policy.window;
    let mut retry_after = Duration::zero();
    for (scope, free) in scopes {
        let times: Vec<DateTime<Utc>> = login_failure::Entity::find()
            .select_only()
            .column(login_failure::Column::At)
            .filter(scope)
            .filter(login_failure::Column::At.gt(since))
            .order_by_desc(login_failure::Column::At)
            .into_tuple()
            .all(tx)
            .await?;
        let (Some(&last), failures) = (times.first(), times.len() as u64) else {
            continue;
        };
        if failures >= free {
            let wait = back_off(policy, failures - free);
            retry_after = retry_after.max(last + wait - attempt.at);
        }
    }
    if retry_after > Duration::zero() {
        return Ok(Claim::Wait { retry_after });
    }
    let saved = login_failure::ActiveModel {
        username: Set(attempt.username.to_owned()),
        address: Set(attempt.address.map(str::to_owned)),
        at: Set(attempt.at),
        ..Default::default()
    }
    .insert(tx)
    .await?;
    Ok(Claim::Check {
        attempt_id: saved.id,
    })
}

/// The wait after `over` failures past a scope's free ones.
fn back_off(policy: &Policy, over: u64) -> Duration {
    let doublings = over.min(30) as u32;
    let wait = policy.first_wait * 2_i32.pow(doublings.min(20));
    wait.min(policy.longest_wait)
}

/// A right password: the claimed attempt and the earlier failures of its
/// username from its address are forgotten (those from elsewhere stay).
pub async fn succeeded(
    tx: &DatabaseTransaction,
    attempt_id: i64,
    attempt: Attempt<'_>,
) -> Result<(), StoreError> {
    let from = match attempt.address {
        Some(address) => login_failure::Column::Address.eq(address),
        None => login_failure::Column::Address.is_null(),
    };
    login_failure::Entity::delete_many()
        .filter(
            Condition::any()
                .add(login_failure::Column::Id.eq(attempt_id))
                .add(
                    Condition::all()
                        .add(login_failure::Column::Username.eq(attempt.username))
                        .add(from),
                ),
        )
        .exec(tx)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_doubles_up_to_its_ceiling() {
        let policy = Policy {
            window: Duration::minutes(15),
            per_account_and_address: 5,
            per_address: 20,
            per_account: 50,
            first_wait: Duration::seconds(2),
            longest_wait: Duration::minutes(15),
        };
        let waits: Vec<i64> = (0..5).map(|n| back_off(&policy, n).num_seconds()).collect();
        assert_eq!(waits, [2, 4, 8, 16, 32]);
        assert_eq!(back_off(&policy, 40), Duration::minutes(15));
    }
}
