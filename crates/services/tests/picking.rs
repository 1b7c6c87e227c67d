//! Picking a person or an enterprise by what staff type (both backends):
//! part of a name, a credit code or a suggestion finds the one record the
//! viewer may read; several matches are counted, none is no match, and a
//! record outside the viewer's reach is no match too (whether it exists is
//! not told).

use opcity_domain::{District, Role};
use opcity_services::registry::picking::suggestion;
use opcity_services::{Actor, ServiceError, Services};
use opcity_testkit::{FounderSpec, account, each_backend, founder};

/// The field error of a refused pick: (field, code, count).
async fn refusal(
    s: &Services,
    actor: &Actor,
    typed: &str,
) -> (String, &'static str, Option<String>) {
    match s.pick_enterprise(actor, "enterprise_id", typed).await {
        Err(ServiceError::Validation(fields)) => {
            assert_eq!(fields.len(), 1, "{fields:?}");
            let f = &fields[0];
            assert_eq!(
                f.params.get("typed").map(String::as_str),
                Some(typed.trim())
            );
            (f.field.clone(), f.code, f.params.get("count").cloned())
        }
        other => panic!("{typed:?} should be refused: {other:?}"),
    }
}

#[tokio::test]
async fn staff_pick_by_name_within_what_they_may_read() {
    each_backend(async |db| {
        let s = opcity_testkit::services(db);
        let admin = account(&s, "admin", Role::MunicipalAdmin, None).await;
        let reviewer = account(&s, "rev", Role::DistrictReviewer, Some(District::Nanshan)).await;
        let deep = founder(
            &s,
            &admin,
            FounderSpec::young_ai("lin", 0).named("林晨曦", "深蓝智算科技有限公司"),
        )
        .await;
        let green = founder(
            &s,
            &admin,
            FounderSpec::young_ai("hua", 1).named("华小北", "深绿智算科技有限公司"),
        )
        .await;
        let mut far = FounderSpec::young_ai("gao", 2).named("高远", "龙岗远航科技有限公司");
        far.enterprise.district = "longgang".into();
        far.person.district = Some("longgang".into());
        let far = founder(&s, &admin, far).await;

        let pick = async |actor: &Actor, typed: &str| {
            s.pick_enterprise(actor, "enterprise_id", typed)
                .await
                .unwrap()
        };
        // Part of a name, a suggestion, a number written with its `#` (a bare
        // number is searched for in names and credit codes first).
        assert_eq!(pick(&reviewer, "深蓝").await, Some(deep.enterprise_id));
        assert_eq!(
            pick(
                &reviewer,
                &suggestion("深绿智算科技有限公司", green.enterprise_id)
            )
            .await,
            Some(green.enterprise_id)
        );
        assert_eq!(
            pick(&reviewer, &format!("#{}", deep.enterprise_id)).await,
            Some(deep.enterprise_id)
        );
        // The credit code, whole.
        let code = s
            .get_enterprise(&admin, green.enterprise_id)
            .await
            .unwrap()
            .uscc;
        assert_eq!(pick(&reviewer, &code).await, Some(green.enterprise_id));
        // Nothing typed is nothing picked.
        assert_eq!(pick(&reviewer, "  ").await, None);

        // Two match: counted, not guessed.
        assert_eq!(
            refusal(&s, &reviewer, "智算").await,
            ("enterprise_id".into(), "ambiguous", Some("2".into()))
        );
        // None match.
        assert_eq!(
            refusal(&s, &reviewer, "浅灰").await,
            ("enterprise_id".into(), "no_match", None)
        );
        // Longgang's enterprise is outside Nanshan's reviewer's reach, by
        // name and by number alike, and reads as no match; the city's
        // administrator finds it.
        assert_eq!(
            refusal(&s, &reviewer, "远航").await,
            ("enterprise_id".into(), "no_match", None)
        );
        assert_eq!(
            refusal(&s, &reviewer, &format!("#{}", far.enterprise_id)).await,
            ("enterprise_id".into(), "no_match", None)
        );
        assert_eq!(pick(&admin, "远航").await, Some(far.enterprise_id));

        // Persons by name, and the suggestions a picker offers.
        assert_eq!(
            s.pick_person(&reviewer, "person_id", "晨曦").await.unwrap(),
            Some(deep.person_id)
        );
        assert!(matches!(
            s.pick_person(&reviewer, "person_id", "高远").await,
            Err(ServiceError::Validation(f)) if f[0].code == "no_match" && f[0].field == "person_id"
        ));
        let offered: Vec<i64> = s
            .enterprise_suggestions(&reviewer)
            .await
            .unwrap()
            .iter()
            .map(|x| x.id)
            .collect();
        assert!(offered.contains(&deep.enterprise_id) && offered.contains(&green.enterprise_id));
        assert!(!offered.contains(&far.enterprise_id), "{offered:?}");
    })
    .await;
}
