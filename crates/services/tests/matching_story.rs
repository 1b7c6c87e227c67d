//! Proactive matching on both backends: results follow fact changes in the
//! same transaction, newly eligible founders are notified, and a daily
//! refresh moves results with the date.

use opcity_domain::Role;
use opcity_services::Services;
use opcity_services::registry::enterprises::EnterpriseInput;
use opcity_services::registry::persons::PersonInput;
use opcity_testkit::{account, each_backend};

/// An administrator and a founder (a master's graduate working in AI,
/// born on `birth`, without Shenzhen hukou) with his person record and no
/// enterprise yet: (founder, person id).
async fn founder_with_person(s: &Services, birth: &str) -> (opcity_services::Actor, i64) {
    let admin = account(s, "admin", Role::MunicipalAdmin, None).await;
    let founder = account(s, "founder", Role::Founder, None).await;
    let person = s
        .create_person(
            &admin,
            &PersonInput {
                full_name: "林晨曦".into(),
                district: Some("nanshan".into()),
                birth_date: Some(birth.into()),
                highest_degree: Some("master".into()),
                degree_date: Some("2023-07-01".into()),
                has_shenzhen_hukou: Some(false),
                works_in_ai: Some(true),
                account_id: Some(founder.account_id),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    (s.system_actor(founder.account_id).await.unwrap(), person.id)
}

fn status(
    list: &[opcity_services::matching::Entitlement],
    subject: &str,
    programme: &str,
) -> String {
    list.iter()
        .find(|e| e.subject == subject && e.programme == programme)
        .map(|e| e.status.clone())
        .unwrap_or_else(|| "absent".into())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn results_follow_facts_and_notify() {
    each_backend(async |db| {
        let s = opcity_testkit::services(db);
        let (founder, person_id) = founder_with_person(&s, "1996-05-20").await;
        let me = format!("person:{person_id}");

        // Not (known to be) a founder yet: the housing subsidy waits for that fact.
        let list = s.my_entitlements(&founder).await.unwrap();
        assert_eq!(status(&list, &me, "sz.housing.subsidy"), "undetermined");
        let row = list
            .iter()
            .find(|e| e.programme == "sz.housing.subsidy")
            .unwrap();
        assert_eq!(row.missing_facts, vec!["person.is_founder".to_owned()]);
        assert!(
            s.notifications(&founder, 10)
                .await
                .unwrap()
                .iter()
                .all(|n| n.programme.as_deref() != Some("sz.housing.subsidy"))
        );

        // Registering a company makes them a founder: eligible, and told so.
        let enterprise = s
            .create_enterprise(
                &founder,
                &EnterpriseInput {
                    uscc: "91440300708461136T".into(),
                    name: "示例".into(),
                    district: "nanshan".into(),
                    size: Some("micro".into()),
                    ai_business: Some(true),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let founder = s.system_actor(founder.account_id).await.unwrap();
        let list = s.my_entitlements(&founder).await.unwrap();
        assert_eq!(status(&list, &me, "sz.housing.subsidy"), "eligible");
        let subsidy = list
            .iter()
            .find(|e| e.subject == me && e.programme == "sz.housing.subsidy")
            .unwrap();
        assert_eq!(subsidy.amount_fen, Some(3_000_000));
        assert!(subsidy.eligible_since.is_some());
        let company = format!("enterprise:{}", enterprise.id);
        assert_eq!(status(&list, &company, "sz.loan.enterprise"), "eligible");
        assert_eq!(status(&list, &company, "sz.voucher.model"), "eligible");
        let notes = s.notifications(&founder, 50).await.unwrap();
        assert!(notes.iter().any(
            |n| n.kind == "may_qualify" && n.programme.as_deref() == Some("sz.housing.subsidy")
        ));
        assert!(
            notes
                .iter()
                .any(|n| n.programme.as_deref() == Some("sz.loan.enterprise"))
        );
        let before = notes.len();

        // Re-evaluating without a change notifies nobody again.
        s.refresh_all_entitlements(opcity_domain::today_in_shanghai(s.now()))
            .await
            .unwrap();
        assert_eq!(s.notifications(&founder, 50).await.unwrap().len(), before);
        s.mark_notifications_read(&founder).await.unwrap();
        assert!(
            s.notifications(&founder, 50)
                .await
                .unwrap()
                .iter()
                .all(|n| n.read)
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daily_refresh_moves_results_with_the_date() {
    each_backend(async |db| {
        let s = opcity_testkit::services(db);
        // 36 on 2026-09-01.
        let (founder, person_id) = founder_with_person(&s, "1990-09-01").await;
        s.create_enterprise(
            &founder,
            &EnterpriseInput {
                uscc: "91440300708461136T".into(),
                name: "示例".into(),
                district: "nanshan".into(),
                ai_business: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let founder = s.system_actor(founder.account_id).await.unwrap();
        let me = format!("person:{person_id}");
        let d = |t: &str| t.parse().unwrap();
        s.refresh_all_entitlements(d("2026-08-31")).await.unwrap();
        assert_eq!(
            status(
                &s.my_entitlements(&founder).await.unwrap(),
                &me,
                "sz.housing.subsidy"
            ),
            "eligible"
        );
        let evaluated = s.refresh_all_entitlements(d("2026-09-01")).await.unwrap();
        assert_eq!(evaluated, 2, "one person and one enterprise");
        let list = s.my_entitlements(&founder).await.unwrap();
        assert_eq!(status(&list, &me, "sz.housing.subsidy"), "ineligible");
        assert!(
            list.iter()
                .find(|e| e.subject == me && e.programme == "sz.housing.subsidy")
                .unwrap()
                .eligible_since
                .is_none()
        );
        // After Shenzhen's plan ends none of its programmes is in effect;
        // Guangdong's, which it inherits, runs a year longer.
        s.refresh_all_entitlements(d("2028-01-01")).await.unwrap();
        let list = s.my_entitlements(&founder).await.unwrap();
        assert!(
            list.iter()
                .filter(|e| e.programme.starts_with("sz."))
                .all(|e| e.status == "ineligible")
        );
        assert!(
            list.iter()
                .any(|e| e.programme == "gd.voucher.compute" && e.status != "ineligible")
        );
        s.refresh_all_entitlements(d("2029-01-01")).await.unwrap();
        assert!(
            s.my_entitlements(&founder)
                .await
                .unwrap()
                .iter()
                .all(|e| e.status == "ineligible")
        );
    })
    .await;
}
