//! A founder without a personal record (an account made by sign-up) enters
//! their own, on both backends: it is linked to their account, so from the
//! next request they act as that person; they cannot enter a second one,
//! nor one for another account; staff still enter records for anyone.

use opcity_domain::Role;
use opcity_services::ServiceError;
use opcity_services::registry::persons::PersonInput;
use opcity_testkit::{account, each_backend};

fn record(name: &str) -> PersonInput {
    PersonInput {
        full_name: name.into(),
        district: Some("nanshan".into()),
        birth_date: Some("1998-04-01".into()),
        highest_degree: Some("master".into()),
        works_in_ai: Some(true),
        ..Default::default()
    }
}

#[tokio::test]
async fn a_founder_enters_their_own_record_once() {
    each_backend(async |db| {
        let s = opcity_testkit::services(db);
        let newbie = account(&s, "newbie", Role::Founder, None).await;
        let other = account(&s, "other", Role::Founder, None).await;
        assert!(s.may_create_person(&newbie));

        let e = s
            .create_person(
                &newbie,
                &PersonInput {
                    account_id: Some(other.account_id),
                    ..record("林新")
                },
            )
            .await
            .unwrap_err();
        assert!(matches!(e, ServiceError::Forbidden), "{e:?}");
        let mine = s.create_person(&newbie, &record("林新")).await.unwrap();
        assert_eq!(mine.account_id, Some(newbie.account_id));

        // From the next request the account acts as that person.
        let newbie = s.system_actor(newbie.account_id).await.unwrap();
        assert_eq!(newbie.person_id, Some(mine.id));
        assert!(!s.may_create_person(&newbie));
        let e = s
            .create_person(&newbie, &record("林新二"))
            .await
            .unwrap_err();
        assert!(matches!(e, ServiceError::Forbidden), "{e:?}");
        assert_eq!(
            s.get_person(&newbie, mine.id).await.unwrap().full_name,
            "林新"
        );
    })
    .await;
}
