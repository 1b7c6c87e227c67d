//! The integrity view over the one entitlement record, on both backends:
//! an enterprise holding one programme twice through different paths, and
//! a founder whose two enterprises each hold the same per-enterprise
//! programme, are listed — with names, the grants and their periods — and
//! nothing else is; a grant ended before the date is not held; only the
//! city's administrators and auditors read the view.

use chrono::Days;
use opcity_domain::{District, Role};
use opcity_services::grants::GrantInput;
use opcity_services::registry::enterprises::EnterpriseInput;
use opcity_services::{ServiceError, Services};
use opcity_testkit::{Founder, FounderSpec, account, each_backend, founder};

async fn grant(
    s: &Services,
    admin: &opcity_services::Actor,
    subject: String,
    programme: &str,
    source: &str,
    to: Option<String>,
) {
    let today = opcity_domain::today_in_shanghai(s.now());
    s.record_grant(
        admin,
        &GrantInput {
            subject,
            programme: programme.into(),
            from: today.checked_sub_days(Days::new(30)).unwrap().to_string(),
            to,
            source: source.into(),
        },
    )
    .await
    .unwrap();
}

/// A second enterprise of `f`'s, registered by himself.
async fn second_enterprise(s: &Services, f: &Founder, n: usize) -> i64 {
    s.create_enterprise(
        &f.actor,
        &EnterpriseInput {
            uscc: opcity_testkit::uscc(n),
            name: "Second Venture".into(),
            district: "futian".into(),
            ai_business: Some(true),
            size: Some("micro".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .id
}

#[tokio::test]
async fn the_integrity_view_lists_double_holdings_and_shared_founders() {
    each_backend(async |db| {
        let s = opcity_testkit::services(db);
        let admin = account(&s, "admin", Role::MunicipalAdmin, None).await;
        let auditor = account(&s, "audit", Role::Auditor, None).await;
        let reviewer = account(&s, "rev", Role::DistrictReviewer, Some(District::Nanshan)).await;
        let today = opcity_domain::today_in_shanghai(s.now());
        let clean = s.integrity_report(&admin, today).await.unwrap();
        assert!(clean.duplicate_holdings.is_empty() && clean.shared_founders.is_empty());

        // An enterprise holding the model voucher twice, through two paths.
        let ana = founder(
            &s,
            &admin,
            FounderSpec::young_ai("ana", 0).named("Ana Li", "Ana AI"),
        )
        .await;
        let ana_e = format!("enterprise:{}", ana.enterprise_id);
        grant(
            &s,
            &admin,
            ana_e.clone(),
            "sz.voucher.model",
            "decision SZ-1",
            None,
        )
        .await;
        grant(
            &s,
            &admin,
            ana_e.clone(),
            "sz.voucher.model",
            "decision SZ-2",
            None,
        )
        .await;
        // A grant ended before the date is not held.
        let ended = today.checked_sub_days(Days::new(1)).unwrap().to_string();
        grant(
            &s,
            &admin,
            ana_e.clone(),
            "sz.voucher.data",
            "decision SZ-3",
            Some(ended.clone()),
        )
        .await;
        grant(
            &s,
            &admin,
            ana_e.clone(),
            "sz.voucher.data",
            "decision SZ-4",
            None,
        )
        .await;

        // A founder behind two enterprises each holding the data voucher.
        let bo = founder(
            &s,
            &admin,
            FounderSpec::young_ai("bobby", 1).named("Bo Wang", "Bo AI"),
        )
        .await;
        let second = second_enterprise(&s, &bo, 2).await;
        grant(
            &s,
            &admin,
            format!("enterprise:{}", bo.enterprise_id),
            "sz.voucher.data",
            "decision SZ-5",
            None,
        )
        .await;
        grant(
            &s,
            &admin,
            format!("enterprise:{second}"),
            "sz.voucher.data",
            "decision SZ-6",
            None,
        )
        .await;
        // … and one per-person programme on his own, which is no finding.
        grant(
            &s,
            &admin,
            format!("person:{}", bo.person_id),
            "sz.talent.open_source",
            "decision SZ-7",
            None,
        )
        .await;

        let report = s.integrity_report(&auditor, today).await.unwrap();
        assert_eq!(report.grants_held, 6, "the ended grant is not held");
        let duplicates: Vec<(&str, &str, &str, usize)> = report
            .duplicate_holdings
            .iter()
            .map(|d| {
                (
                    d.subject.as_str(),
                    d.name.as_str(),
                    d.programme.as_str(),
                    d.grants.len(),
                )
            })
            .collect();
        assert_eq!(
            duplicates,
            [(ana_e.as_str(), "Ana AI", "sz.voucher.model", 2)]
        );
        assert_eq!(report.duplicate_holdings[0].districts, ["nanshan"]);
        assert_eq!(
            report.shared_founders.len(),
            1,
            "{:?}",
            report.shared_founders
        );
        let shared = &report.shared_founders[0];
        assert_eq!(
            (shared.person_id, shared.person_name.as_str()),
            (bo.person_id, "Bo Wang")
        );
        assert_eq!(shared.programme, "sz.voucher.data");
        let names: Vec<&str> = shared.enterprises.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["Bo AI", "Second Venture"]);
        assert_eq!(shared.grants.len(), 2);

        // Before the second voucher began, nothing was doubled.
        let before = today.checked_sub_days(Days::new(40)).unwrap();
        let then = s.integrity_report(&admin, before).await.unwrap();
        assert_eq!((then.grants_held, then.duplicate_holdings.len()), (0, 0));

        // Only the city's administrators and auditors read it.
        for who in [&reviewer, &ana.actor] {
            assert!(matches!(
                s.integrity_report(who, today).await,
                Err(ServiceError::Forbidden)
            ));
        }
    })
    .await;
}
