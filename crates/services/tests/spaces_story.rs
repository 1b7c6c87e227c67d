//! Spaces, housing and instruments on SQLite and PostgreSQL: inventory and
//! the dashboard's area, waitlists served in order, the growth path, the
//! young-talent ceiling, transitional housing within the pack's limits and
//! exclusive of the housing subsidy, instrument bookings with hours, quotas,
//! approval, cancellation and no-show release — and the invariant that no
//! resource is ever held twice, under 64 concurrent attempts.

use chrono::{DateTime, Duration, Utc};
use opcity_domain::Role;
use opcity_services::grants::GrantInput;
use opcity_services::registry::communities::CommunityInput;
use opcity_services::spaces::agreements::{
    AllocationFilter, EndInput, MoveInput, OfferInput, ServeInput, SpaceRequestInput,
};
use opcity_services::spaces::housing::{HousingUnitInput, LeaseInput, RenewInput};
use opcity_services::spaces::instruments::{BookingInput, InstrumentInput};
use opcity_services::spaces::inventory::{BuildingInput, FloorInput, UnitInput};
use opcity_services::{Actor, ServiceError, Services};
use opcity_store::entity::{enterprise, person};
use opcity_store::sea_orm::{ActiveModelTrait, EntityTrait, PaginatorTrait, Set};
use opcity_testkit::{TestDb, each_backend, gpu_instrument, uscc};

struct World {
    s: Services,
    admin: Actor,
    operator: Actor,
    other_operator: Actor,
    community: i64,
    other_community: i64,
}

/// An account of `role`; the story's reviewers review Nanshan.
async fn account(s: &Services, username: &str, role: Role) -> Actor {
    let district = (role == Role::DistrictReviewer).then_some(opcity_domain::District::Nanshan);
    opcity_testkit::account(s, username, role, district).await
}

fn community_input(operator: i64, name: &str) -> CommunityInput {
    CommunityInput {
        name_zh: format!("{name}社区"),
        name_en: name.into(),
        district: "nanshan".into(),
        address: "科技园1号".into(),
        area_m2: 12_000,
        operator_name: "运营方".into(),
        operator_account_id: Some(operator),
        opened_on: Some("2026-03-01".into()),
    }
}

async fn world(db: &TestDb) -> World {
    let s = opcity_testkit::services(db);
    let admin = account(&s, "admin", Role::MunicipalAdmin).await;
    let operator = account(&s, "operator", Role::CommunityOperator).await;
    let other = account(&s, "operator2", Role::CommunityOperator).await;
    let community = s
        .create_community(&admin, &community_input(operator.account_id, "Bay"))
        .await
        .unwrap()
        .id;
    let other_community = s
        .create_community(&admin, &community_input(other.account_id, "Hill"))
        .await
        .unwrap()
        .id;
    World {
        operator: s.system_actor(operator.account_id).await.unwrap(),
        other_operator: s.system_actor(other.account_id).await.unwrap(),
        s,
        admin,
        community,
        other_community,
    }
}

/// An enterprise row written directly (the registry's own tests cover its
/// validation); `n` makes the USCC unique.
async fn enterprise_row(s: &Services, n: usize) -> i64 {
    let now = Utc::now();
    enterprise::ActiveModel {
        uscc: Set(uscc(n)),
        name: Set(format!("企业{n}")),
        district: Set("nanshan".into()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(s.store().db())
    .await
    .unwrap()
    .id
}

/// `count` enterprises, numbered from 0.
async fn enterprise_rows(s: &Services, count: usize) -> Vec<i64> {
    let mut firms = Vec::with_capacity(count);
    for n in 0..count {
        firms.push(enterprise_row(s, n).await);
    }
    firms
}

async fn person_row(s: &Services, name: &str) -> i64 {
    let now = Utc::now();
    person::ActiveModel {
        full_name: Set(name.into()),
        district: Set(Some("nanshan".into())),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(s.store().db())
    .await
    .unwrap()
    .id
}

/// A founder with his person record and enterprise number `n`, made
/// through the services: (founder, person id, enterprise id).
async fn founder(w: &World, username: &str, n: usize) -> (Actor, i64, i64) {
    let f = opcity_testkit::founder_with_enterprise(&w.s, &w.admin, username, n).await;
    (f.actor, f.person_id, f.enterprise_id)
}

fn codes(err: ServiceError) -> Vec<(String, &'static str)> {
    match err {
        ServiceError::Validation(errors) => errors.into_iter().map(|e| (e.field, e.code)).collect(),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

async fn audit_len(s: &Services) -> i64 {
    s.verify_audit_log().await.unwrap().entries
}

/// A floor in a new building of `community` (or of Nanshan's other space).
async fn floor(w: &World, actor: &Actor, community: Option<i64>) -> i64 {
    let building =
        w.s.create_building(
            actor,
            &BuildingInput {
                community_id: community,
                district: Some("nanshan".into()),
                name: "A座".into(),
                address: "科技园1号".into(),
            },
        )
        .await
        .unwrap();
    w.s.create_floor(
        actor,
        &FloorInput {
            building_id: building.id,
            level: 3,
            label: "3F".into(),
        },
    )
    .await
    .unwrap()
    .id
}

fn unit(floor: i64, kind: &str, code: &str, area: i64, capacity: i32) -> UnitInput {
    UnitInput {
        floor_id: floor,
        kind: kind.into(),
        code: code.into(),
        area_m2: area,
        capacity,
        list_rent_fen: area * 12_000,
        discounted_rent_fen: area * 6_000,
        active: None,
    }
}

fn request(enterprise: i64, community: i64, kind: &str, team: i32) -> SpaceRequestInput {
    SpaceRequestInput {
        enterprise_id: Some(enterprise),
        community_id: Some(community),
        kind: kind.into(),
        team_size: team,
        wanted_from: "2026-07-01".into(),
        months: 12,
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inventory_feeds_the_dashboard_and_only_operators_manage_it() {
    each_backend(async |db| {
        let w = world(db).await;
        let s = &w.s;
        let before = s.plan_figures().await.unwrap();
        let area = |d: &opcity_services::dashboard::Dashboard| {
            d.targets
                .iter()
                .find(|t| t.id == "community_area_m2")
                .unwrap()
                .value
        };
        // Declared areas count until inventory is entered.
        assert_eq!(area(&before), 24_000);

        let f = floor(&w, &w.operator, Some(w.community)).await;
        s.create_unit(&w.operator, &unit(f, "desk", "D-01", 6, 1))
            .await
            .unwrap();
        let office = s
            .create_unit(&w.operator, &unit(f, "office", "O-01", 40, 6))
            .await
            .unwrap();
        assert_eq!(office.discount_percent, 50);
        s.create_unit(&w.operator, &unit(f, "floor", "F-03", 900, 80))
            .await
            .unwrap();
        let after = s.plan_figures().await.unwrap();
        assert_eq!(
            area(&after),
            12_000 + 946,
            "the community counts its inventory"
        );

        let inv = s
            .inventory(&w.operator, Some(w.community), None, Utc::now())
            .await
            .unwrap();
        assert_eq!(inv.area_m2, 946);
        let kinds: Vec<(String, i64)> = inv
            .totals
            .iter()
            .map(|t| (t.kind.clone(), t.area_m2))
            .collect();
        assert_eq!(
            kinds,
            [
                ("desk".into(), 6),
                ("office".into(), 40),
                ("floor".into(), 900)
            ]
        );

        // Another community's operator may read but not change it.
        let refused = s
            .create_unit(&w.other_operator, &unit(f, "desk", "D-02", 6, 1))
            .await;
        assert!(
            matches!(refused, Err(ServiceError::Forbidden)),
            "{refused:?}"
        );
        let founder_actor = founder(&w, "founder1", 1).await.0;
        assert!(
            s.inventory(&founder_actor, Some(w.community), None, Utc::now())
                .await
                .is_ok()
        );

        // Bad input names each field and writes nothing.
        let entries = audit_len(s).await;
        let mut bad = unit(f, "cubicle", "", 0, 0);
        bad.discounted_rent_fen = bad.list_rent_fen + 1;
        let err = s.create_unit(&w.operator, &bad).await.unwrap_err();
        let fields: Vec<&str> = codes(err).iter().map(|(_, c)| *c).collect::<Vec<_>>();
        assert_eq!(
            fields,
            [
                "not_one_of",
                "required",
                "out_of_range",
                "out_of_range",
                "above_list_rent"
            ]
        );
        let dup = s
            .create_unit(&w.operator, &unit(f, "desk", "D-01", 6, 1))
            .await
            .unwrap_err();
        assert_eq!(dup.code(), "unit_code_taken");
        assert_eq!(audit_len(s).await, entries);
        assert_eq!(
            opcity_store::entity::space_unit::Entity::find()
                .count(s.store().db())
                .await
                .unwrap(),
            3
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waitlist_is_served_in_order_and_the_growth_path_leaves_no_gap() {
    each_backend(async |db| {
        let w = world(db).await;
        let s = &w.s;
        let f = floor(&w, &w.operator, Some(w.community)).await;
        let desk = s
            .create_unit(&w.operator, &unit(f, "desk", "D-01", 6, 2))
            .await
            .unwrap();
        let office = s
            .create_unit(&w.operator, &unit(f, "office", "O-01", 40, 6))
            .await
            .unwrap();
        let (alice, _, alice_co) = founder(&w, "alice", 1).await;
        let (bob, _, bob_co) = founder(&w, "bob", 2).await;

        let first = s
            .request_space(&alice, &request(alice_co, w.community, "desk", 2))
            .await
            .unwrap();
        let second = s
            .request_space(&bob, &request(bob_co, w.community, "desk", 1))
            .await
            .unwrap();
        assert_eq!((first.position, second.position), (Some(1), Some(2)));
        let again = s
            .request_space(&alice, &request(alice_co, w.community, "desk", 2))
            .await;
        assert_eq!(again.unwrap_err().code(), "already_waiting");
        // A founder cannot ask in another enterprise's name.
        let foreign = s
            .request_space(&alice, &request(bob_co, w.community, "office", 1))
            .await;
        assert!(matches!(foreign, Err(ServiceError::Forbidden)));

        // Bob is second: offering him the desk first is refused.
        let offer = |request_id: i64, unit_id: i64| OfferInput {
            request_id,
            unit_id,
            start: "2026-07-01".into(),
            end: "2027-07-01".into(),
            monthly_rent_fen: None,
            note: None,
        };
        let out_of_order = s.offer_space(&w.operator, &offer(second.id, desk.id)).await;
        assert_eq!(out_of_order.unwrap_err().code(), "waitlist_order");
        // The other community's operator may not offer this unit.
        let foreign = s
            .offer_space(&w.other_operator, &offer(first.id, desk.id))
            .await;
        assert!(matches!(foreign, Err(ServiceError::Forbidden)));

        let offered = s
            .serve_waitlist(
                &w.operator,
                &ServeInput {
                    unit_id: desk.id,
                    start: "2026-07-01".into(),
                    end: "2027-07-01".into(),
                    monthly_rent_fen: None,
                },
            )
            .await
            .unwrap();
        assert_eq!(
            (offered.enterprise_id, offered.status.as_str()),
            (Some(alice_co), "offered")
        );
        assert_eq!(offered.monthly_rent_fen, desk.discounted_rent_fen);
        assert_eq!(
            offered.discount_fen,
            desk.list_rent_fen - desk.discounted_rent_fen
        );
        // Times are stored in UTC: the first Shanghai day starts at 16:00 UTC the day before.
        assert_eq!(offered.start_at.to_rfc3339(), "2026-06-30T16:00:00+00:00");
        assert_eq!(offered.start_date.to_string(), "2026-07-01");
        // Bob is next now, but the desk is held by the pending offer.
        let taken = s
            .offer_space(&w.operator, &offer(second.id, desk.id))
            .await
            .unwrap_err();
        match taken {
            ServiceError::Taken {
                code,
                held_id,
                held_from,
                held_until,
                ..
            } => {
                assert_eq!((code.as_str(), held_id), ("space_unit_taken", offered.id));
                assert_eq!((held_from, held_until), (offered.start_at, offered.end_at));
            }
            other => panic!("{other:?}"),
        }
        // Only the holder accepts.
        assert!(matches!(
            s.accept_space_offer(&bob, offered.id).await,
            Err(ServiceError::Forbidden)
        ));
        let active = s.accept_space_offer(&alice, offered.id).await.unwrap();
        assert_eq!(active.status, "active");
        // The agreement is a benefit held: one grant row, kept in step.
        let held = async || -> Vec<(String, String, Option<String>)> {
            s.grants_of(&w.admin, &format!("enterprise:{alice_co}"))
                .await
                .unwrap()
                .into_iter()
                .filter(|g| g.programme == "sz.space.opc_workspace")
                .map(|g| (g.benefit, g.from.to_string(), g.to.map(|d| d.to_string())))
                .collect()
        };
        let first_day = active
            .start_at
            .with_timezone(&opcity_domain::civil_date::shanghai())
            .date_naive();
        let last_day = active
            .end_at
            .with_timezone(&opcity_domain::civil_date::shanghai())
            .date_naive()
            .pred_opt()
            .unwrap();
        assert_eq!(
            held().await,
            [(
                "space_agreement".into(),
                first_day.to_string(),
                Some(last_day.to_string())
            )]
        );

        // Growth: desk → office from 2027-01-01, one transaction.
        let grown = s
            .move_agreement(
                &w.operator,
                active.id,
                &MoveInput {
                    unit_id: office.id,
                    on: "2027-01-01".into(),
                    end: "2028-01-01".into(),
                    monthly_rent_fen: None,
                },
            )
            .await
            .unwrap();
        let old = s.get_agreement(&alice, active.id).await.unwrap();
        assert_eq!(old.status, "ended");
        assert_eq!(
            held().await,
            [(
                "space_agreement".into(),
                first_day.to_string(),
                Some("2027-12-31".into())
            )],
            "the move continues the grant to the new agreement's last day"
        );
        assert_eq!(old.end_at, grown.start_at, "no gap, no overlap");
        assert_eq!(
            (grown.previous_id, grown.unit_kind.as_str()),
            (Some(active.id), "office")
        );
        // The desk is free from that day: Bob can have it, adjacent to Alice's end.
        let bobs = s
            .offer_space(
                &w.operator,
                &OfferInput {
                    request_id: second.id,
                    unit_id: desk.id,
                    start: "2027-01-01".into(),
                    end: "2027-07-01".into(),
                    monthly_rent_fen: Some(1),
                    note: None,
                },
            )
            .await
            .unwrap();
        assert_eq!(bobs.start_at, old.end_at);

        // Moving back down the path is refused, and nothing changes.
        let entries = audit_len(s).await;
        let down = s
            .move_agreement(
                &w.operator,
                grown.id,
                &MoveInput {
                    unit_id: desk.id,
                    on: "2027-06-01".into(),
                    end: "2027-12-01".into(),
                    monthly_rent_fen: None,
                },
            )
            .await
            .unwrap_err();
        assert_eq!(codes(down), [("unit_id".to_string(), "not_a_growth_step")]);
        let backwards = s
            .move_agreement(
                &w.operator,
                grown.id,
                &MoveInput {
                    unit_id: office.id,
                    on: "2027-06-01".into(),
                    end: "2027-05-01".into(),
                    monthly_rent_fen: None,
                },
            )
            .await
            .unwrap_err();
        assert_eq!(codes(backwards), [("end".to_string(), "ends_before_start")]);
        assert_eq!(audit_len(s).await, entries);
        assert_eq!(
            s.get_agreement(&alice, grown.id).await.unwrap().status,
            "active"
        );

        // Operators list their community's agreements; Bob sees only his.
        let all = s
            .list_agreements(&w.operator, &AllocationFilter::default())
            .await
            .unwrap();
        assert_eq!(all.len(), 3);
        let his = s
            .list_agreements(&bob, &AllocationFilter::default())
            .await
            .unwrap();
        assert_eq!(his.iter().map(|a| a.id).collect::<Vec<_>>(), [bobs.id]);
        assert!(
            s.list_agreements(&w.other_operator, &AllocationFilter::default())
                .await
                .unwrap()
                .is_empty()
        );

        // Ending early keeps the used part.
        let ended = s
            .end_agreement(
                &w.operator,
                grown.id,
                &EndInput {
                    on: "2027-03-01".into(),
                },
            )
            .await
            .unwrap();
        assert_eq!(
            (ended.status.as_str(), ended.end_date.to_string().as_str()),
            ("ended", "2027-03-01")
        );
        assert_eq!(
            held().await,
            [(
                "space_agreement".into(),
                first_day.to_string(),
                Some("2027-02-28".into())
            )],
            "ending early ends the grant"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn young_talent_space_outside_communities_stops_at_the_packs_ceiling() {
    each_backend(async |db| {
        let w = world(db).await;
        let s = &w.s;
        let reviewer = account(s, "reviewer", Role::DistrictReviewer).await;
        let f = floor(&w, &reviewer, None).await;
        let small = s
            .create_unit(&reviewer, &unit(f, "office", "Y-01", 30, 3))
            .await
            .unwrap();
        let second = s
            .create_unit(&reviewer, &unit(f, "office", "Y-02", 30, 3))
            .await
            .unwrap();
        let exact = s
            .create_unit(&reviewer, &unit(f, "office", "Y-03", 20, 3))
            .await
            .unwrap();
        let (young, person, _) = founder(&w, "young", 1).await;
        let ask = SpaceRequestInput {
            person_id: Some(person),
            district: Some("nanshan".into()),
            kind: "office".into(),
            team_size: 2,
            wanted_from: "2026-08-01".into(),
            months: 6,
            ..Default::default()
        };
        let r1 = s.request_space(&young, &ask).await.unwrap();
        assert_eq!(r1.programme, "sz.space.young_talent");
        let serve = |unit_id| ServeInput {
            unit_id,
            start: "2026-08-01".into(),
            end: "2027-02-01".into(),
            monthly_rent_fen: None,
        };
        let a1 = s.serve_waitlist(&reviewer, &serve(small.id)).await.unwrap();
        s.accept_space_offer(&young, a1.id).await.unwrap();
        // 30 m² held; another 30 m² would pass 50 m².
        let r2 = s.request_space(&young, &ask).await.unwrap();
        let entries = audit_len(s).await;
        let over = s
            .serve_waitlist(&reviewer, &serve(second.id))
            .await
            .unwrap_err();
        let ServiceError::Validation(errors) = over else {
            panic!("{over:?}")
        };
        assert_eq!(errors[0].code, "over_area_ceiling");
        assert_eq!(errors[0].params["max"], "50");
        assert_eq!(errors[0].params["held"], "30");
        assert_eq!(audit_len(s).await, entries, "nothing written");
        // 20 m² more reaches exactly 50 m²: allowed.
        let ok = s
            .offer_space(
                &reviewer,
                &OfferInput {
                    request_id: r2.id,
                    unit_id: exact.id,
                    start: "2026-08-01".into(),
                    end: "2027-02-01".into(),
                    monthly_rent_fen: None,
                    note: None,
                },
            )
            .await
            .unwrap();
        assert_eq!(ok.area_m2, 20);
        // Enterprises ask for community space only.
        let mut wrong = ask.clone();
        wrong.enterprise_id = Some(1);
        assert_eq!(
            codes(s.request_space(&young, &wrong).await.unwrap_err()),
            [("enterprise_id".to_string(), "only_in_communities")]
        );
    })
    .await;
}

fn housing_unit(code: &str, kind: &str, rent: i64) -> HousingUnitInput {
    HousingUnitInput {
        district: "nanshan".into(),
        community_id: None,
        address: "人才公寓1栋".into(),
        code: code.into(),
        kind: kind.into(),
        area_m2: 35,
        market_rent_fen: rent,
        active: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transitional_housing_keeps_the_packs_limits_and_excludes_the_subsidy() {
    each_backend(async |db| {
        let w = world(db).await;
        let s = &w.s;
        let reviewer = account(s, "reviewer", Role::DistrictReviewer).await;
        let flat = s
            .create_housing_unit(&reviewer, &housing_unit("A-101", "apartment", 300_000))
            .await
            .unwrap();
        let room = s
            .create_housing_unit(&reviewer, &housing_unit("A-102", "room", 150_000))
            .await
            .unwrap();
        let (tenant, person, _) = founder(&w, "tenant", 1).await;
        let lease = |unit: i64, start: &str, months: i32| LeaseInput {
            housing_unit_id: unit,
            person_id: person,
            enterprise_id: None,
            start: start.into(),
            months,
            request_id: None,
        };

        // Over the pack's 36 months: refused, nothing written.
        let entries = audit_len(s).await;
        let long = s
            .allocate_housing(&reviewer, &lease(flat.id, "2026-07-01", 37))
            .await
            .unwrap_err();
        let ServiceError::Validation(errors) = long else {
            panic!("{long:?}")
        };
        assert_eq!(
            (errors[0].code, errors[0].params["max"].as_str()),
            ("lease_too_long", "36")
        );
        assert_eq!(audit_len(s).await, entries);

        let first = s
            .allocate_housing(&reviewer, &lease(flat.id, "2026-07-01", 24))
            .await
            .unwrap();
        assert_eq!((first.rent_percent, first.monthly_rent_fen), (60, 180_000));
        assert_eq!(
            (first.status.as_str(), first.end_date.to_string().as_str()),
            ("reserved", "2028-07-01")
        );
        let grants = s
            .grants_of(&tenant, &format!("person:{person}"))
            .await
            .unwrap();
        assert_eq!(grants.len(), 1);
        assert_eq!(
            (
                grants[0].programme.as_str(),
                grants[0].to.map(|d| d.to_string())
            ),
            ("sz.housing.transitional", Some("2028-06-30".into()))
        );

        // Proactive matching sees the grant: the subsidy is no longer open.
        let results = s.my_entitlements(&tenant).await.unwrap();
        let subsidy_status = results
            .iter()
            .find(|e| {
                e.subject == format!("person:{person}") && e.programme == "sz.housing.subsidy"
            })
            .map(|e| e.status.as_str());
        assert_eq!(subsidy_status, Some("ineligible"));
        // The subsidy is excluded now.
        let subsidy = GrantInput {
            subject: format!("person:{person}"),
            programme: "sz.housing.subsidy".into(),
            from: "2026-08-01".into(),
            to: None,
            source: "决定书 2026-88".into(),
        };
        assert_eq!(
            codes(s.record_grant(&w.admin, &subsidy).await.unwrap_err()),
            [("person_id".to_string(), "excluded_by_grant")]
        );

        let moved_in = s.move_in(&reviewer, first.id).await.unwrap();
        assert_eq!(moved_in.status, "active");
        assert!(moved_in.moved_in_at.is_some());
        // Renewal within the limit: 24 + 12 = 36.
        let renewed = s
            .renew_lease(&reviewer, first.id, &RenewInput { months: 12 })
            .await
            .unwrap();
        assert_eq!(
            (renewed.months, renewed.end_date.to_string().as_str()),
            (36, "2029-07-01")
        );
        let over = s
            .renew_lease(&reviewer, first.id, &RenewInput { months: 1 })
            .await
            .unwrap_err();
        assert_eq!(codes(over), [("months".to_string(), "lease_too_long")]);
        // Another lease for the same person would also pass the limit.
        let more = s
            .allocate_housing(&reviewer, &lease(room.id, "2030-01-01", 1))
            .await
            .unwrap_err();
        assert_eq!(codes(more), [("months".to_string(), "lease_too_long")]);

        // Moving out early counts the months begun and frees the flat from that day.
        let out = s
            .move_out(
                &reviewer,
                first.id,
                &EndInput {
                    on: "2027-01-15".into(),
                },
            )
            .await
            .unwrap();
        assert_eq!((out.status.as_str(), out.months), ("ended", 7));
        let grants = s
            .grants_of(&tenant, &format!("person:{person}"))
            .await
            .unwrap();
        assert_eq!(
            grants[0].to.map(|d| d.to_string()),
            Some("2027-01-14".into())
        );
        let (_, other_person, _) = founder(&w, "other", 2).await;
        let next = s
            .allocate_housing(
                &reviewer,
                &LeaseInput {
                    housing_unit_id: flat.id,
                    person_id: other_person,
                    enterprise_id: None,
                    start: "2027-01-15".into(),
                    months: 6,
                    request_id: None,
                },
            )
            .await
            .unwrap();
        assert_eq!(next.start_at, out.end_at, "adjacent leases both hold");
        let occupancy = s
            .housing_occupancy(&reviewer, None, None, "2027-02-01".parse().unwrap())
            .await
            .unwrap();
        assert_eq!(
            occupancy.units.iter().filter(|r| r.lease.is_some()).count(),
            1
        );
        let apartments = occupancy
            .by_kind
            .iter()
            .find(|k| k.kind == "apartment")
            .unwrap();
        assert_eq!((apartments.units, apartments.occupied), (1, 1));

        // Someone with the housing subsidy is refused housing, with the reason.
        let (_, subsidised, _) = founder(&w, "subsidised", 3).await;
        s.record_grant(
            &w.admin,
            &GrantInput {
                subject: format!("person:{subsidised}"),
                ..subsidy.clone()
            },
        )
        .await
        .unwrap();
        let entries = audit_len(s).await;
        let refused = s
            .allocate_housing(
                &reviewer,
                &LeaseInput {
                    housing_unit_id: room.id,
                    person_id: subsidised,
                    enterprise_id: None,
                    start: "2026-09-01".into(),
                    months: 6,
                    request_id: None,
                },
            )
            .await
            .unwrap_err();
        let ServiceError::Validation(errors) = refused else {
            panic!("{refused:?}")
        };
        assert_eq!(
            (errors[0].field.as_str(), errors[0].code),
            ("person_id", "excluded_by_grant")
        );
        assert_eq!(errors[0].params["programme"], "sz.housing.subsidy");
        assert_eq!(audit_len(s).await, entries);
        // So is an enterprise holding it, named on the lease.
        let (_, founder_person, firm) = founder(&w, "firmowner", 4).await;
        s.record_grant(
            &w.admin,
            &GrantInput {
                subject: format!("enterprise:{firm}"),
                ..subsidy.clone()
            },
        )
        .await
        .unwrap();
        let refused = s
            .allocate_housing(
                &reviewer,
                &LeaseInput {
                    housing_unit_id: room.id,
                    person_id: founder_person,
                    enterprise_id: Some(firm),
                    start: "2026-09-01".into(),
                    months: 6,
                    request_id: None,
                },
            )
            .await
            .unwrap_err();
        assert_eq!(
            codes(refused),
            [("enterprise_id".to_string(), "excluded_by_grant")]
        );
        // An operator of a community does not manage the district's housing.
        assert!(matches!(
            s.allocate_housing(&w.operator, &lease(room.id, "2026-09-01", 1))
                .await,
            Err(ServiceError::Forbidden)
        ));
    })
    .await;
}

/// 2030-05-06 is a Monday.
fn booking(instrument: i64, enterprise: i64, from: &str, to: &str) -> BookingInput {
    BookingInput {
        instrument_id: instrument,
        enterprise_id: enterprise,
        start: format!("2030-05-06T{from}"),
        end: format!("2030-05-06T{to}"),
        purpose: Some("训练".into()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instrument_bookings_keep_hours_quotas_approval_and_release_no_shows() {
    each_backend(async |db| {
        let w = world(db).await;
        let s = &w.s;
        let lab = account(s, "lab", Role::ServiceProvider).await;
        let inst = s
            .create_instrument(&lab, &gpu_instrument(Some(3), false))
            .await
            .unwrap();
        assert_eq!(inst.manager_account_id, Some(lab.account_id));
        let (founder_actor, _, firm) = founder(&w, "booker", 1).await;

        let entries = audit_len(s).await;
        let fa = &founder_actor;
        let refused = |input: BookingInput| async move {
            codes(s.book_instrument(fa, &input).await.unwrap_err())
        };
        assert_eq!(
            refused(booking(inst.id, firm, "08:00", "09:00")).await[0].1,
            "outside_opening_hours"
        );
        assert_eq!(
            refused(booking(inst.id, firm, "20:00", "22:00")).await[0].1,
            "outside_opening_hours"
        );
        assert_eq!(
            refused(booking(inst.id, firm, "09:30", "10:30")).await[0].1,
            "not_on_slot_grid"
        );
        assert_eq!(
            refused(booking(inst.id, firm, "11:00", "10:00")).await[0],
            ("end".into(), "ends_before_start")
        );
        let mut saturday = booking(inst.id, firm, "10:00", "11:00");
        saturday.start = "2030-05-11T10:00".into();
        saturday.end = "2030-05-11T11:00".into();
        assert_eq!(refused(saturday).await[0].1, "outside_opening_hours");
        let mut past = booking(inst.id, firm, "10:00", "11:00");
        past.start = "2020-05-04T10:00".into();
        past.end = "2020-05-04T11:00".into();
        assert_eq!(refused(past).await[0].1, "in_the_past");
        assert_eq!(
            refused(booking(inst.id, firm, "09:00", "13:00")).await[0].1,
            "over_quota"
        );
        assert_eq!(audit_len(s).await, entries, "refusals write nothing");

        // [9,10) and [10,11) are adjacent: both succeed.
        let nine = s
            .book_instrument(&founder_actor, &booking(inst.id, firm, "09:00", "10:00"))
            .await
            .unwrap();
        let ten = s
            .book_instrument(&founder_actor, &booking(inst.id, firm, "10:00", "11:00"))
            .await
            .unwrap();
        assert_eq!(
            (nine.status.as_str(), ten.start_at),
            ("confirmed", nine.end_at)
        );
        assert_eq!(nine.start_local, "2030-05-06 09:00");
        assert_eq!(nine.start_at.to_rfc3339(), "2030-05-06T01:00:00+00:00");
        // An overlapping booking names the held interval.
        let (other_actor, _, other_firm) = founder(&w, "rival", 2).await;
        let clash = s
            .book_instrument(
                &other_actor,
                &BookingInput {
                    start: "2030-05-06T09:00:00+08:00".into(),
                    end: "2030-05-06T11:00:00+08:00".into(),
                    ..booking(inst.id, other_firm, "", "")
                },
            )
            .await
            .unwrap_err();
        assert!(
            matches!(clash, ServiceError::Taken { held_id, .. } if held_id == nine.id),
            "{clash:?}"
        );
        // Third hour fits the quota (3 h); a fourth does not.
        s.book_instrument(&founder_actor, &booking(inst.id, firm, "11:00", "12:00"))
            .await
            .unwrap();
        let fourth = refused(booking(inst.id, firm, "14:00", "15:00")).await;
        assert_eq!(fourth[0].1, "over_quota");
        // A cancellation in the notice period still counts against the quota.
        let cancelled = s.cancel_booking(&founder_actor, ten.id).await.unwrap();
        assert!(!cancelled.late_cancel, "years ahead is not late");
        s.book_instrument(&founder_actor, &booking(inst.id, firm, "14:00", "15:00"))
            .await
            .unwrap();
        // Others cannot cancel a booking that is not theirs.
        assert!(matches!(
            s.cancel_booking(&other_actor, nine.id).await,
            Err(ServiceError::Forbidden)
        ));

        // Approval: pending holds the slot until decided.
        let approved = s
            .create_instrument(
                &lab,
                &InstrumentInput {
                    name: "冷冻电镜".into(),
                    kind: "lab_equipment".into(),
                    ..gpu_instrument(None, true)
                },
            )
            .await
            .unwrap();
        let pending = s
            .book_instrument(
                &founder_actor,
                &booking(approved.id, firm, "09:00", "12:00"),
            )
            .await
            .unwrap();
        assert_eq!(pending.status, "pending");
        assert_eq!(
            s.book_instrument(
                &other_actor,
                &booking(approved.id, other_firm, "11:00", "12:00")
            )
            .await
            .unwrap_err()
            .code(),
            "instrument_slot_taken"
        );
        assert!(matches!(
            s.decide_booking(&founder_actor, pending.id, true).await,
            Err(ServiceError::Forbidden)
        ));
        let confirmed = s.decide_booking(&lab, pending.id, true).await.unwrap();
        assert_eq!(confirmed.status, "confirmed");

        // No-show: 15 minutes after the start the booking is released and the
        // rest of the slot can be booked again.
        let release_at: DateTime<Utc> = "2030-05-06T01:20:00Z".parse().unwrap();
        assert_eq!(
            s.release_no_shows(release_at).await.unwrap(),
            2,
            "both 9:00 bookings"
        );
        let released = s.get_booking(&founder_actor, pending.id).await.unwrap();
        assert_eq!(
            (released.status.as_str(), released.end_at),
            ("released", release_at)
        );
        let rebook = s
            .book_instrument(
                &other_actor,
                &booking(approved.id, other_firm, "10:00", "12:00"),
            )
            .await
            .unwrap();
        assert_eq!(rebook.status, "pending");
        assert_eq!(
            s.release_no_shows(release_at).await.unwrap(),
            0,
            "idempotent"
        );

        // Calendars: the institution sees holders, others see "booked".
        let ics = s.instrument_calendar(&lab, inst.id).await.unwrap();
        assert!(ics.contains("DTSTART:20300506T030000Z"), "{ics}");
        assert!(ics.contains(&format!("enterprise #{firm}")));
        let theirs = s.instrument_calendar(&other_actor, inst.id).await.unwrap();
        assert!(theirs.contains("booked") && !theirs.contains(&format!("enterprise #{firm}")));
        let mine = s.bookings_calendar(&founder_actor).await.unwrap();
        assert_eq!(mine.matches("BEGIN:VEVENT").count(), 2, "{mine}");
        // The day view marks held slots.
        let day = s
            .instrument_day(&other_actor, inst.id, "2030-05-06".parse().unwrap())
            .await
            .unwrap();
        let held: Vec<&str> = day
            .slots
            .iter()
            .filter(|sl| !sl.free)
            .map(|sl| sl.label.as_str())
            .collect();
        assert_eq!(
            held,
            ["09:00", "11:00", "14:00"],
            "9:00 is held until its release at 9:20; 10:00 was cancelled"
        );
        assert_eq!(day.slots.len(), 12);
    })
    .await;
}

/// Runs `n` attempts at once and returns their outcomes.
async fn race<T, F, Fut>(n: usize, attempt: F) -> Vec<Result<T, ServiceError>>
where
    T: Send + 'static,
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = Result<T, ServiceError>> + Send + 'static,
{
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(n));
    let mut tasks = Vec::new();
    for i in 0..n {
        let barrier = barrier.clone();
        let fut = attempt(i);
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            fut.await
        }));
    }
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

/// Exactly one success; every other attempt is a conflict naming the
/// winner's interval.
fn exactly_one_winner<T>(outcomes: Vec<Result<T, ServiceError>>, code: &str) -> T {
    exactly_one_winner_of(outcomes, code, 63)
}

/// One success and `losers` conflicts naming the winner's interval.
fn exactly_one_winner_of<T>(
    outcomes: Vec<Result<T, ServiceError>>,
    code: &str,
    losers_expected: usize,
) -> T {
    let mut winners = Vec::new();
    let mut losers = Vec::new();
    for o in outcomes {
        match o {
            Ok(v) => winners.push(v),
            Err(e) => losers.push(e),
        }
    }
    assert_eq!(winners.len(), 1, "winners; losers: {losers:?}");
    assert_eq!(losers.len(), losers_expected);
    for e in &losers {
        assert!(
            matches!(e, ServiceError::Taken { code: c, held_until, held_from, .. } if *c == code && held_from < held_until),
            "{e:?}"
        );
    }
    winners.pop().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_concurrent_bookings_of_one_slot_give_one_success() {
    each_backend(async |db| {
        let w = world(db).await;
        let s = w.s.clone();
        let lab = account(&s, "lab", Role::ServiceProvider).await;
        let inst = s
            .create_instrument(&lab, &gpu_instrument(None, false))
            .await
            .unwrap();
        let firms = enterprise_rows(&s, 64).await;
        let outcomes = race(64, |i| {
            let (s, lab, firm) = (s.clone(), lab.clone(), firms[i]);
            async move {
                s.book_instrument(&lab, &booking(inst.id, firm, "09:00", "10:00"))
                    .await
            }
        })
        .await;
        let won = exactly_one_winner(outcomes, "instrument_slot_taken");
        let held = s.list_bookings(&w.admin, Some(inst.id)).await.unwrap();
        assert_eq!(held.iter().map(|b| b.id).collect::<Vec<_>>(), [won.id]);
        // The adjacent slot is still free.
        s.book_instrument(&lab, &booking(inst.id, firms[0], "10:00", "11:00"))
            .await
            .unwrap();
        assert!(s.verify_audit_log().await.unwrap().problems.is_empty());
    })
    .await;
}

/// A burst of bookings of several kinds at once from two processes (their
/// group commits interleave): each is answered on its own. Distinct slots
/// are all booked, a quota admits exactly what fits, an overlap names its
/// winner, and only what was booked is written and audited.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_burst_of_bookings_is_answered_one_by_one() {
    each_backend(async |db| {
        let w = world(db).await;
        let s = w.s.clone();
        let lab = account(&s, "lab", Role::ServiceProvider).await;
        let open = s
            .create_instrument(&lab, &gpu_instrument(None, false))
            .await
            .unwrap();
        let rationed = s
            .create_instrument(&lab, &gpu_instrument(Some(2), false))
            .await
            .unwrap();
        let firms = enterprise_rows(&s, 12).await;
        let (_, other) = opcity_testkit::two_processes(db).await;
        let entries = audit_len(&s).await;
        let hour = |h: usize| format!("{h:02}:00");
        // 0..8: distinct hours of `open`; 8..12: four hours of `rationed`
        // for one firm with two hours a week; 12..20: eight firms at 18:00
        // on `open`, where only one can win.
        let outcomes = race(20, |i| {
            let s = if i % 2 == 0 { s.clone() } else { other.clone() };
            let lab = lab.clone();
            let input = match i {
                0..8 => booking(open.id, firms[i], &hour(9 + i), &hour(10 + i)),
                8..12 => booking(rationed.id, firms[0], &hour(i + 1), &hour(i + 2)),
                _ => booking(open.id, firms[i - 12], "18:00", "19:00"),
            };
            async move { s.book_instrument(&lab, &input).await }
        })
        .await;
        let mut outcomes = outcomes.into_iter();
        let distinct: Vec<_> = outcomes.by_ref().take(8).map(Result::unwrap).collect();
        let quota: Vec<_> = outcomes.by_ref().take(4).collect();
        let admitted = quota.iter().filter(|o| o.is_ok()).count();
        assert_eq!(admitted, 2, "{quota:?}");
        for refused in quota.into_iter().filter_map(Result::err) {
            assert_eq!(codes(refused)[0].1, "over_quota");
        }
        let evening = exactly_one_winner_of(outcomes.collect(), "instrument_slot_taken", 7);
        assert_eq!(evening.start_local, "2030-05-06 18:00");
        let booked = s.list_bookings(&w.admin, None).await.unwrap();
        assert_eq!(booked.len(), 8 + 2 + 1);
        assert!(distinct.iter().all(|d| booked.iter().any(|b| b.id == d.id)));
        assert_eq!(audit_len(&s).await, entries + 11, "one entry per booking");
        assert!(s.verify_audit_log().await.unwrap().problems.is_empty());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_concurrent_leases_of_one_apartment_give_one_success() {
    each_backend(async |db| {
        let w = world(db).await;
        let s = w.s.clone();
        let flat = s
            .create_housing_unit(&w.admin, &housing_unit("B-1", "apartment", 200_000))
            .await
            .unwrap();
        let mut people = Vec::new();
        for n in 0..64 {
            people.push(person_row(&s, &format!("p{n}")).await);
        }
        let admin = w.admin.clone();
        let outcomes = race(64, |i| {
            let (s, admin, person) = (s.clone(), admin.clone(), people[i]);
            async move {
                s.allocate_housing(
                    &admin,
                    &LeaseInput {
                        housing_unit_id: flat.id,
                        person_id: person,
                        enterprise_id: None,
                        start: "2026-09-01".into(),
                        months: 12,
                        request_id: None,
                    },
                )
                .await
            }
        })
        .await;
        let won = exactly_one_winner(outcomes, "housing_unit_taken");
        assert_eq!(s.list_leases(&w.admin).await.unwrap().len(), 1);
        // Only the winner was granted transitional housing.
        let grants = opcity_store::entity::benefit_grant::Entity::find()
            .all(s.store().db())
            .await
            .unwrap();
        assert_eq!(
            grants.iter().map(|g| g.subject.clone()).collect::<Vec<_>>(),
            [format!("person:{}", won.person_id)]
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_concurrent_moves_into_one_office_give_one_success() {
    each_backend(async |db| {
        let w = world(db).await;
        let s = w.s.clone();
        let f = floor(&w, &w.operator, Some(w.community)).await;
        let office = s
            .create_unit(&w.operator, &unit(f, "office", "O-1", 40, 8))
            .await
            .unwrap();
        let mut agreements = Vec::new();
        for n in 0..64 {
            let desk = s
                .create_unit(&w.operator, &unit(f, "desk", &format!("D-{n}"), 6, 1))
                .await
                .unwrap();
            let firm = enterprise_row(&s, n).await;
            let r = s
                .request_space(&w.admin, &request(firm, w.community, "desk", 1))
                .await
                .unwrap();
            let offer = s
                .offer_space(
                    &w.operator,
                    &OfferInput {
                        request_id: r.id,
                        unit_id: desk.id,
                        start: "2026-07-01".into(),
                        end: "2027-07-01".into(),
                        monthly_rent_fen: None,
                        note: None,
                    },
                )
                .await
                .unwrap();
            agreements.push(s.accept_space_offer(&w.admin, offer.id).await.unwrap().id);
        }
        let operator = w.operator.clone();
        let outcomes = race(64, |i| {
            let (s, operator, id) = (s.clone(), operator.clone(), agreements[i]);
            async move {
                s.move_agreement(
                    &operator,
                    id,
                    &MoveInput {
                        unit_id: office.id,
                        on: "2027-01-01".into(),
                        end: "2027-07-01".into(),
                        monthly_rent_fen: None,
                    },
                )
                .await
            }
        })
        .await;
        let won = exactly_one_winner(outcomes, "space_unit_taken");
        // The losers' desks were not given up: their moves rolled back whole.
        let ended = s
            .list_agreements(
                &w.admin,
                &AllocationFilter {
                    status: Some("ended".into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(
            ended.iter().map(|a| a.id).collect::<Vec<_>>(),
            [won.previous_id.unwrap()]
        );
        let _ = w.other_community;
        let _ = Duration::zero();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_data_has_inventory_housing_and_instruments() {
    each_backend(async |db| {
        let s = opcity_testkit::services(db);
        s.load_demo(2026).await.unwrap();
        let admin = s.system_actor(1).await.unwrap();
        let first = s
            .list_communities(&admin, &Default::default(), Default::default())
            .await
            .unwrap()
            .items[0]
            .id;
        let inv = s
            .inventory(&admin, Some(first), None, Utc::now())
            .await
            .unwrap();
        assert_eq!(
            inv.area_m2, 18_500,
            "the inventory covers the declared area"
        );
        let units: Vec<i64> = inv.totals.iter().map(|t| t.units).collect();
        assert_eq!(units, [40, 16, 4]);
        assert_eq!(
            s.list_housing_units(&admin, None, None)
                .await
                .unwrap()
                .len(),
            6
        );
        let instruments = s.list_instruments(&admin).await.unwrap();
        assert_eq!(instruments.len(), 2);
        assert!(instruments.iter().all(|i| i.manager_account_id.is_some()));
    })
    .await;
}

/// An edit that names no manager (an instrument PUT without
/// `manager_account_id`) keeps the instrument's manager.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instrument_edit_without_a_manager_keeps_it() {
    each_backend(async |db| {
        let w = world(db).await;
        let s = &w.s;
        let lab = account(s, "lab", Role::ServiceProvider).await;
        let listed = InstrumentInput {
            community_id: Some(w.community),
            manager_account_id: Some(lab.account_id),
            ..gpu_instrument(None, false)
        };
        let sited = s.create_instrument(&w.operator, &listed).await.unwrap();
        let edit = InstrumentInput {
            name: "H100 服务器".into(),
            manager_account_id: None,
            ..listed.clone()
        };
        let edited = s
            .update_instrument(&w.operator, sited.id, &edit)
            .await
            .unwrap();
        assert_eq!(edited.name, "H100 服务器");
        assert_eq!(edited.manager_account_id, Some(lab.account_id));
    })
    .await;
}

/// Issue 14: an institution lists instruments outside communities; siting
/// one in an OPC community (listing it there or moving it there) is for that
/// community's operator. A founder books, requests and reads only for
/// their own person or an enterprise they represent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instruments_are_sited_and_allocations_held_as_authz_allows() {
    each_backend(async |db| {
        let w = world(db).await;
        let s = &w.s;
        let lab = account(s, "lab", Role::ServiceProvider).await;
        let in_community = |community: i64| InstrumentInput {
            community_id: Some(community),
            manager_account_id: Some(lab.account_id),
            ..gpu_instrument(None, false)
        };
        let instruments = || async {
            opcity_store::entity::instrument::Entity::find()
                .count(s.store().db())
                .await
                .unwrap()
        };
        assert!(matches!(
            s.create_instrument(&lab, &in_community(w.community)).await,
            Err(ServiceError::Forbidden)
        ));
        assert!(matches!(
            s.create_instrument(&w.other_operator, &in_community(w.community))
                .await,
            Err(ServiceError::Forbidden)
        ));
        assert_eq!(instruments().await, 0);
        let own = s
            .create_instrument(&lab, &gpu_instrument(None, false))
            .await
            .unwrap();
        assert!(matches!(
            s.update_instrument(&lab, own.id, &in_community(w.community))
                .await,
            Err(ServiceError::Forbidden)
        ));
        // The operator sites one in its community, managed by the institution,
        // which then keeps it up to date there.
        let sited = s
            .create_instrument(&w.operator, &in_community(w.community))
            .await
            .unwrap();
        assert_eq!(sited.community_id, Some(w.community));
        let renamed = InstrumentInput {
            name: "H100 服务器".into(),
            ..in_community(w.community)
        };
        assert_eq!(
            s.update_instrument(&lab, sited.id, &renamed)
                .await
                .unwrap()
                .name,
            "H100 服务器"
        );
        assert!(matches!(
            s.update_instrument(&lab, sited.id, &in_community(w.other_community))
                .await,
            Err(ServiceError::Forbidden)
        ));

        // Another founder's enterprise or person: refused, nothing written.
        let (ana, ana_person, _) = founder(&w, "ana", 1).await;
        let (_, ben_person, bens_firm) = founder(&w, "ben", 2).await;
        let entries = audit_len(s).await;
        assert!(matches!(
            s.book_instrument(&ana, &booking(own.id, bens_firm, "09:00", "10:00"))
                .await,
            Err(ServiceError::Forbidden)
        ));
        assert!(matches!(
            s.request_space(&ana, &request(bens_firm, w.community, "desk", 1))
                .await,
            Err(ServiceError::Forbidden)
        ));
        let young_talent = |person: i64| SpaceRequestInput {
            person_id: Some(person),
            district: Some("nanshan".into()),
            kind: "desk".into(),
            team_size: 1,
            wanted_from: "2026-07-01".into(),
            months: 12,
            ..Default::default()
        };
        assert!(matches!(
            s.request_space(&ana, &young_talent(ben_person)).await,
            Err(ServiceError::Forbidden)
        ));
        assert!(matches!(
            s.grants_of(&ana, &format!("enterprise:{bens_firm}")).await,
            Err(ServiceError::Forbidden)
        ));
        assert!(matches!(
            s.grants_of(&ana, &format!("person:{ben_person}")).await,
            Err(ServiceError::Forbidden)
        ));
        assert_eq!(audit_len(s).await, entries);
        // Her own person: allowed.
        s.request_space(&ana, &young_talent(ana_person))
            .await
            .unwrap();
        s.grants_of(&ana, &format!("person:{ana_person}"))
            .await
            .unwrap();
    })
    .await;
}
