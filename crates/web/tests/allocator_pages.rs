//! Who allocates community housing, on the housing page (both backends):
//! the city's administrator sees one form per district and saves a choice
//! (a value outside the two is refused and changes nothing); nobody else
//! is offered the forms; the community's operator is offered the lease
//! form for the community's flats only once the district leaves them to
//! the operators.

use opcity_domain::{HousingAllocator, Role};
use opcity_services::spaces::housing::HousingUnitInput;
use opcity_testkit::{TestApp, each_backend};
use reqwest::StatusCode;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_administrator_leaves_community_housing_to_the_operators() {
    each_backend(async |db| {
        let app = TestApp::spawn(db).await;
        let s = &app.services;
        let admin = app.account("admin", Role::MunicipalAdmin, None).await;
        let operator = app.account("operator", Role::CommunityOperator, None).await;
        let (community, _) = opcity_testkit::nanshan_desk(s, &admin, &operator).await;
        s.create_housing_unit(
            &admin,
            &HousingUnitInput {
                district: "nanshan".into(),
                community_id: Some(community),
                address: "社区公寓".into(),
                code: "C-101".into(),
                kind: "room".into(),
                area_m2: 20,
                market_rent_fen: 200_000,
                active: None,
            },
        )
        .await
        .unwrap();

        let op = app.sign_in("operator").await.in_language("en");
        let page = op.text("/housing").await;
        assert!(!page.contains("id=\"housing-allocators\""), "{page}");
        assert!(
            !page.contains("id=\"lease-form\""),
            "not theirs yet: {page}"
        );

        let city = app.sign_in("admin").await.in_language("en");
        let page = city.text("/housing").await;
        assert!(page.contains("id=\"allocator-nanshan\""), "{page}");
        assert!(page.contains("Each community's operator"), "{page}");
        let refused = city
            .post_form(
                "/housing/allocators/nanshan",
                &[
                    ("_csrf", city.csrf.as_str()),
                    ("housing_allocator", "anyone"),
                ],
            )
            .await;
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let settings = s.district_settings(&admin).await.unwrap();
        assert!(
            settings
                .iter()
                .all(|d| d.housing_allocator == HousingAllocator::DistrictReviewer)
        );
        let saved = city
            .post_form(
                "/housing/allocators/nanshan",
                &[
                    ("_csrf", city.csrf.as_str()),
                    ("housing_allocator", "community_operator"),
                ],
            )
            .await;
        assert_eq!(saved.status(), StatusCode::SEE_OTHER);

        let page = op.text("/housing").await;
        assert!(page.contains("id=\"lease-form\""), "now theirs: {page}");
        assert!(page.contains("C-101"), "{page}");
        // The operator may not change the setting back.
        let denied = op
            .post_form(
                "/housing/allocators/nanshan",
                &[
                    ("_csrf", op.csrf.as_str()),
                    ("housing_allocator", "district_reviewer"),
                ],
            )
            .await;
        assert_eq!(denied.status(), StatusCode::FORBIDDEN);
    })
    .await;
}
