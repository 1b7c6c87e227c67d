//! Sign-in throttling (issue 14, finding 5) on both backends: concurrent
//! wrong passwords are counted one by one, so no more are checked than the
//! limit; wrong passwords from one address never stop the owner signing in
//! from another; spraying many usernames from one address is slowed down;
//! a throttled attempt is told when to come back.

use opcity_domain::Role;
use opcity_services::ServiceError;
use opcity_services::accounts::SIGN_IN_THROTTLE;
use opcity_testkit::fixtures::PASSWORD;
use opcity_testkit::{account, each_backend, race};
use std::net::IpAddr;

fn ip(text: &str) -> Option<IpAddr> {
    Some(text.parse().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn wrong_passwords_are_counted_atomically_per_address_and_account() {
    each_backend(async |db| {
        let s = opcity_testkit::services(db);
        account(&s, "admin", Role::MunicipalAdmin, None).await;
        let attacker = ip("203.0.113.7");

        // 60 wrong passwords at once from one address: at most the free
        // ones are checked, every other one is refused unchecked.
        let outcomes = race(60, |_| {
            let s = s.clone();
            async move { s.sign_in("admin", "wrong password", attacker).await }
        })
        .await;
        let checked = outcomes
            .iter()
            .filter(|o| matches!(o, Err(ServiceError::BadCredentials)))
            .count();
        let throttled: Vec<u64> = outcomes
            .iter()
            .filter_map(|o| match o {
                Err(ServiceError::Throttled { retry_after_secs }) => Some(*retry_after_secs),
                _ => None,
            })
            .collect();
        assert_eq!(checked as u64, SIGN_IN_THROTTLE.per_account_and_address);
        assert_eq!(checked + throttled.len(), 60, "{outcomes:?}");
        let longest = SIGN_IN_THROTTLE.longest_wait.num_seconds() as u64;
        assert!(throttled.iter().all(|&w| (1..=longest).contains(&w)));

        // The owner, from elsewhere, with the right password: in.
        let session = s.sign_in("admin", PASSWORD, ip("198.51.100.20")).await;
        assert!(session.is_ok(), "{session:?}");
        // The attacker's address still waits, right password or not.
        assert!(matches!(
            s.sign_in("admin", PASSWORD, attacker).await,
            Err(ServiceError::Throttled { .. })
        ));

        // Spraying: one wrong password for each of many usernames from one
        // address stops being checked after the address's free failures.
        let sprayer = ip("192.0.2.99");
        let mut checked = 0;
        for n in 0..30 {
            match s.sign_in(&format!("user{n}"), "password12", sprayer).await {
                Err(ServiceError::BadCredentials) => checked += 1,
                Err(ServiceError::Throttled { .. }) => {}
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(checked, SIGN_IN_THROTTLE.per_address);
    })
    .await;
}
