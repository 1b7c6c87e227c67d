//! Housing allocated by the role the district configures, on both backends:
//! by default a district's reviewers allocate its flats, in OPC communities
//! too, and community operators do not; once the city leaves Nanshan's
//! community housing to the operators, the community's operator allocates
//! and moves tenants in there and the reviewers no longer do, while flats
//! outside communities stay the district's. What the services allow is
//! what `may_manage_housing_unit` (the page's test) says. Only the city
//! changes the setting, and the change is audited.

use opcity_domain::{District, HousingAllocator, Role};
use opcity_services::districts::DistrictSettingsInput;
use opcity_services::spaces::housing::{HousingUnitInput, HousingUnitView, LeaseInput};
use opcity_services::{Actor, ServiceError, Services};
use opcity_testkit::{FounderSpec, account, each_backend, founder};

fn flat(code: &str, community_id: Option<i64>) -> HousingUnitInput {
    HousingUnitInput {
        district: "nanshan".into(),
        community_id,
        address: "人才公寓1栋".into(),
        code: code.into(),
        kind: "room".into(),
        area_m2: 20,
        market_rent_fen: 200_000,
        active: None,
    }
}

fn lease(unit: i64, person: i64, start: &str) -> LeaseInput {
    LeaseInput {
        housing_unit_id: unit,
        person_id: person,
        enterprise_id: None,
        start: start.into(),
        months: 3,
        request_id: None,
    }
}

/// Whether the page would offer `who` the unit, and whether the services
/// let them allocate it: the two must agree.
async fn allocates(
    s: &Services,
    who: &Actor,
    unit: &HousingUnitView,
    person: i64,
    start: &str,
) -> bool {
    let offered = s.may_manage_housing_unit(who, unit);
    let done = match s
        .allocate_housing(who, &lease(unit.id, person, start))
        .await
    {
        Ok(_) => true,
        Err(ServiceError::Forbidden) => false,
        Err(other) => panic!("{other:?}"),
    };
    assert_eq!(offered, done, "the page offers exactly what is allowed");
    done
}

async fn unit(s: &Services, who: &Actor, id: i64) -> HousingUnitView {
    s.list_housing_units(who, None, None)
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.id == id)
        .expect("listed")
}

#[tokio::test]
async fn the_district_chooses_who_allocates_its_community_housing() {
    each_backend(async |db| {
        let s = opcity_testkit::services(db);
        let admin = account(&s, "admin", Role::MunicipalAdmin, None).await;
        let reviewer = account(&s, "rev", Role::DistrictReviewer, Some(District::Nanshan)).await;
        let operator = account(&s, "operator", Role::CommunityOperator, None).await;
        let (community, _) = opcity_testkit::nanshan_desk(&s, &admin, &operator).await;
        let operator = s.system_actor(operator.account_id).await.unwrap();
        let people: Vec<i64> = {
            let mut ids = Vec::new();
            for (i, name) in ["linyi", "wuer", "zhangsan", "lisi"]
                .into_iter()
                .enumerate()
            {
                ids.push(
                    founder(&s, &admin, FounderSpec::young_ai(name, i))
                        .await
                        .person_id,
                );
            }
            ids
        };
        let inside = s
            .create_housing_unit(&admin, &flat("C-101", Some(community)))
            .await
            .unwrap();
        let outside = s
            .create_housing_unit(&admin, &flat("T-101", None))
            .await
            .unwrap();

        // By default the district's reviewers allocate both.
        let view = unit(&s, &operator, inside.id).await;
        assert_eq!(view.allocated_by, HousingAllocator::DistrictReviewer);
        assert!(!allocates(&s, &operator, &view, people[0], "2026-07-01").await);
        assert!(allocates(&s, &reviewer, &view, people[0], "2026-07-01").await);

        // Only the city changes the setting; a wrong value changes nothing.
        let to = |a: &str| DistrictSettingsInput {
            housing_allocator: a.into(),
        };
        let e = s
            .set_district_settings(&reviewer, "nanshan", &to("community_operator"))
            .await
            .unwrap_err();
        assert!(matches!(e, ServiceError::Forbidden), "{e:?}");
        let e = s
            .set_district_settings(&admin, "nanshan", &to("anyone"))
            .await
            .unwrap_err();
        assert!(matches!(e, ServiceError::Validation(_)), "{e:?}");
        let e = s
            .set_district_settings(&admin, "atlantis", &to("community_operator"))
            .await
            .unwrap_err();
        assert!(matches!(e, ServiceError::NotFound { .. }), "{e:?}");
        let set = s
            .set_district_settings(&admin, "nanshan", &to("community_operator"))
            .await
            .unwrap();
        assert_eq!(set.housing_allocator, HousingAllocator::CommunityOperator);
        let settings = s.district_settings(&operator).await.unwrap();
        let futian = settings
            .iter()
            .find(|d| d.district == District::Futian)
            .unwrap();
        assert_eq!(futian.housing_allocator, HousingAllocator::DistrictReviewer);

        // Now the operator allocates in the community, the reviewers outside it.
        let view = unit(&s, &reviewer, inside.id).await;
        assert_eq!(view.allocated_by, HousingAllocator::CommunityOperator);
        assert!(!allocates(&s, &reviewer, &view, people[1], "2026-10-01").await);
        assert!(allocates(&s, &operator, &view, people[1], "2026-10-01").await);
        let elsewhere = unit(&s, &operator, outside.id).await;
        assert_eq!(elsewhere.allocated_by, HousingAllocator::DistrictReviewer);
        assert!(!allocates(&s, &operator, &elsewhere, people[2], "2026-07-01").await);
        assert!(allocates(&s, &reviewer, &elsewhere, people[2], "2026-07-01").await);
        // The tenancies follow: the operator moves the reserved tenant in; the
        // reviewer may not.
        let leases = s.list_leases(&admin).await.unwrap();
        let theirs = leases.iter().find(|l| l.person_id == people[1]).unwrap();
        let e = s.move_in(&reviewer, theirs.id).await.unwrap_err();
        assert!(matches!(e, ServiceError::Forbidden), "{e:?}");
        assert_eq!(
            s.move_in(&operator, theirs.id).await.unwrap().status,
            "active"
        );

        s.seal_audit_log().await.unwrap();
        let log = s.audit_entries(&admin, 0, 100).await.unwrap().entries;
        assert_eq!(
            log.iter()
                .filter(|e| e.action == "district.settings")
                .count(),
            1
        );
    })
    .await;
}
