//! A space request must fit what the site's units can hold (both
//! backends): a team larger than the site's largest unit of the kind is
//! refused, naming that size, and nothing waits; a request for a kind the
//! site has not entered yet waits for the inventory.

use opcity_domain::Role;
use opcity_services::ServiceError;
use opcity_services::spaces::agreements::SpaceRequestInput;
use opcity_testkit::{FounderSpec, account, each_backend, founder};

#[tokio::test]
async fn a_team_no_unit_can_hold_is_refused() {
    each_backend(async |db| {
        let s = opcity_testkit::services(db);
        let admin = account(&s, "admin", Role::MunicipalAdmin, None).await;
        let operator = account(&s, "operator", Role::CommunityOperator, None).await;
        let (community, _desk) = opcity_testkit::nanshan_desk(&s, &admin, &operator).await;
        let lin = founder(&s, &admin, FounderSpec::young_ai("lin", 0)).await;
        let ask = |kind: &str, team_size: i32| SpaceRequestInput {
            enterprise_id: Some(lin.enterprise_id),
            community_id: Some(community),
            kind: kind.into(),
            team_size,
            wanted_from: "2027-01-04".into(),
            months: 12,
            ..Default::default()
        };
        match s.request_space(&lin.actor, &ask("desk", 3)).await {
            Err(ServiceError::Validation(fields)) => {
                assert_eq!(fields.len(), 1);
                assert_eq!(
                    (fields[0].field.as_str(), fields[0].code),
                    ("team_size", "team_too_large")
                );
                assert_eq!(fields[0].params.get("max").map(String::as_str), Some("1"));
            }
            other => panic!("a team of three asks for a desk for one: {other:?}"),
        }
        let waiting = s
            .list_space_requests(&lin.actor, &Default::default())
            .await
            .unwrap();
        assert!(waiting.is_empty(), "nothing waits after a refusal");
        // One person fits the desk; an office the site has not entered yet waits.
        s.request_space(&lin.actor, &ask("desk", 1)).await.unwrap();
        let office = s
            .request_space(&lin.actor, &ask("office", 3))
            .await
            .unwrap();
        assert_eq!(office.status, "waiting");
    })
    .await;
}
