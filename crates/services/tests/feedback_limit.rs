//! Feedback's rate limit (both backends): five messages an hour a sender
//! — an account when signed in, else a client address — and a sixth is
//! refused beside the message, saying how long to wait, and kept nowhere;
//! other senders are not held up; however many arrive at once, no more
//! than five of one sender are kept.

use opcity_domain::Role;
use opcity_services::{ServiceError, Services};
use opcity_testkit::{account, each_backend};

async fn kept(s: &Services, admin: &opcity_services::Actor) -> u64 {
    s.feedback(admin, 0, 1).await.unwrap().total
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_an_hour_from_each_sender_however_they_arrive() {
    each_backend(async |db| {
        let s = opcity_testkit::services(db);
        let admin = account(&s, "admin", Role::MunicipalAdmin, None).await;
        let founder = account(&s, "lin", Role::Founder, None).await;
        let from = |address: &'static str| (None, Some(address));

        for n in 0..5 {
            let said = format!("message {n}");
            s.give_feedback(from("203.0.113.7"), "/self-check", &said)
                .await
                .unwrap();
        }
        match s
            .give_feedback(from("203.0.113.7"), "/self-check", "one more")
            .await
        {
            Err(ServiceError::Validation(fields)) => {
                assert_eq!(fields.len(), 1);
                assert_eq!(
                    (fields[0].field.as_str(), fields[0].code),
                    ("message", "feedback_too_often")
                );
                let minutes: i64 = fields[0].params["minutes"].parse().unwrap();
                assert!((1..=60).contains(&minutes), "{minutes}");
            }
            other => panic!("a sixth message within the hour: {other:?}"),
        }
        assert_eq!(kept(&s, &admin).await, 5, "the refused one is kept nowhere");

        // Another address, and a signed-in founder on the busy address,
        // are other senders.
        s.give_feedback(from("198.51.100.2"), "/", "hello")
            .await
            .unwrap();
        s.give_feedback((Some(&founder), Some("203.0.113.7")), "/home", "signed in")
            .await
            .unwrap();
        assert_eq!(kept(&s, &admin).await, 7);

        // Twelve at once from one new address: five kept, seven refused.
        let tasks: Vec<_> = (0..12)
            .map(|n| {
                let s = s.clone();
                tokio::spawn(async move {
                    let said = format!("burst {n}");
                    s.give_feedback((None, Some("192.0.2.44")), "/consult", &said)
                        .await
                })
            })
            .collect();
        let mut accepted = 0;
        for task in tasks {
            match task.await.unwrap() {
                Ok(()) => accepted += 1,
                Err(ServiceError::Validation(f)) if f[0].code == "feedback_too_often" => {}
                Err(other) => panic!("{other:?}"),
            }
        }
        assert_eq!(accepted, 5);
        assert_eq!(kept(&s, &admin).await, 12);
    })
    .await;
}
