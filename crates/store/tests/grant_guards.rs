//! The grants guard's per-beneficiary cap (`opcity_store::grants`), on
//! SQLite and PostgreSQL: grants of a capped programme are recorded while
//! the subject's total stays within the cap, whichever district grants
//! them; the one that would pass it is refused, naming what is held, and
//! writes nothing; concurrent grants for one subject never pass the cap
//! together; other subjects and grants without an amount are not counted.

use chrono::{NaiveDate, Utc};
use opcity_store::Store;
use opcity_store::grants::{self, Benefit, GrantError, NewGrant, Refusal, Rule};
use opcity_testkit::each_backend;

const CAP: i64 = 1_000;

fn rule() -> Rule<'static> {
    Rule {
        one_time: false,
        excluded_by: &[],
        cap_fen: Some(CAP),
    }
}

/// Grants `amount_fen` of `sz.capped` to `subject` from `district`.
async fn grant(
    store: &Store,
    subject: &str,
    source: &str,
    district: &str,
    amount_fen: Option<i64>,
) -> Result<(), GrantError> {
    let tx = store.begin().await.unwrap();
    let from = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
    let row = NewGrant {
        subject,
        programme: "sz.capped",
        from,
        to: None,
        source,
        at: Utc::now(),
        benefit: Benefit::Recorded,
        amount_fen,
        quantity: None,
        detail: "",
        district: Some(district),
    };
    grants::insert_guarded(&tx, row, rule()).await?;
    tx.commit().await.unwrap();
    Ok(())
}

#[tokio::test]
async fn a_subjects_total_stays_within_the_cap_across_districts() {
    each_backend(async |db| {
        let store = &db.store;
        grant(store, "person:1", "a", "nanshan", Some(600))
            .await
            .unwrap();
        grant(store, "person:1", "b", "futian", Some(400))
            .await
            .unwrap();
        let refused = grant(store, "person:1", "c", "futian", Some(1)).await;
        assert!(
            matches!(
                refused,
                Err(GrantError::Refused(Refusal::AboveCap {
                    held_fen: 1_000,
                    cap_fen: CAP
                }))
            ),
            "{refused:?}"
        );
        assert_eq!(
            grants::held_amount(store.db(), "person:1", "sz.capped")
                .await
                .unwrap(),
            1_000
        );
        // Without an amount nothing is counted; another subject has its own cap.
        grant(store, "person:1", "d", "futian", None).await.unwrap();
        grant(store, "person:2", "e", "futian", Some(CAP))
            .await
            .unwrap();
        // Many subjects at once, as a group of approvals reads them.
        let subjects = ["person:1", "person:2", "person:9"]
            .map(String::from)
            .into();
        let held = grants::held_amounts(store.db(), &subjects, &["sz.capped".into()].into())
            .await
            .unwrap();
        let capped = |s: &str| (s.to_owned(), "sz.capped".to_owned());
        assert_eq!(
            held,
            [(capped("person:1"), 1_000), (capped("person:2"), CAP)].into()
        );

        // Concurrent grants for one subject: at most the cap is recorded.
        let tasks: Vec<_> = (0..8)
            .map(|i| {
                let store = store.clone();
                tokio::spawn(async move {
                    grant(
                        &store,
                        "person:3",
                        &format!("race-{i}"),
                        "nanshan",
                        Some(300),
                    )
                    .await
                })
            })
            .collect();
        let mut granted = 0;
        for t in tasks {
            match t.await.unwrap() {
                Ok(()) => granted += 1,
                Err(GrantError::Refused(Refusal::AboveCap { .. })) => {}
                Err(other) => panic!("{other:?}"),
            }
        }
        assert_eq!(granted, 3, "3 × 300 fits under 1,000; a fourth does not");
        assert_eq!(
            grants::held_amount(store.db(), "person:3", "sz.capped")
                .await
                .unwrap(),
            900
        );
    })
    .await;
}
