//! From approval to delivery on both backends: each kind of programme
//! arrives as its pack says once the founder accepts — a voucher in the
//! wallet from the pool (never a cash schedule), a space request in the
//! chosen community, a housing request for the district, a title with its
//! support (which puts its holder first in space waitlists), a referral for
//! a loan — each recorded once as a grant row, with
//! the voucher ledger reconciling and the audit log verifying at the end.

use chrono::Datelike;
use opcity_domain::{District, Role};
use opcity_services::applications::budgets::BudgetInput;
use opcity_services::applications::{Decision, NewApplication, ReviewInput};
use opcity_services::grants::GrantView;
use opcity_services::spaces::agreements::{
    AllocationFilter, OfferInput, RequestView, ServeInput, SpaceRequestInput,
};
use opcity_services::{Actor, Services};
use opcity_store::entity::{disbursement, housing_request, referral, space_request};
use opcity_store::sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use opcity_testkit::{FounderSpec, account, each_backend, founder, review};

fn scored(
    decision: Decision,
    amount_fen: Option<i64>,
    scores: std::collections::BTreeMap<String, i32>,
) -> ReviewInput {
    ReviewInput {
        scores,
        ..review(decision, amount_fen)
    }
}

/// The people of a story: the city's administrator (also the municipal
/// reviewer), a Nanshan reviewer and a young AI founder with an enterprise.
struct Cast {
    admin: Actor,
    reviewer: Actor,
    founder: Actor,
}

async fn cast(s: &Services, spec: FounderSpec) -> Cast {
    let admin = account(s, "admin", Role::MunicipalAdmin, None).await;
    let reviewer = account(s, "rev", Role::DistrictReviewer, Some(District::Nanshan)).await;
    let founder = founder(s, &admin, spec).await.actor;
    Cast {
        admin,
        reviewer,
        founder,
    }
}

async fn budget(s: &Services, admin: &Actor, programme: &str, authority: &str, total_fen: i64) {
    let year = opcity_domain::today_in_shanghai(s.now()).year();
    s.create_budget(
        admin,
        &BudgetInput {
            programme: programme.into(),
            year,
            authority: authority.into(),
            total_fen,
        },
    )
    .await
    .expect("create the budget");
}

/// Applies for `programme` with `form` (the rest of the evidence supplied
/// by the kit), submits, has it decided (forwarded to the city when the
/// city decides) for `amount_fen`, and accepts. Answers the application.
async fn approved_and_accepted(
    s: &Services,
    c: &Cast,
    programme: &str,
    form: &[(&str, &str)],
    amount_fen: Option<i64>,
) -> i64 {
    let (_, info) = s.programme(programme).unwrap();
    let app = s
        .create_application(
            &c.founder,
            &NewApplication {
                programme: programme.into(),
                enterprise_id: (info.beneficiary == "enterprise")
                    .then(|| c.founder.enterprise_ids[0]),
                idempotency_key: Some(format!("{programme}-1")),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    if !form.is_empty() {
        let fields = form
            .iter()
            .map(|(k, v)| ((*k).to_owned(), serde_json::Value::from(*v)))
            .collect();
        s.update_form(&c.founder, app.id, &fields).await.unwrap();
    }
    opcity_testkit::supply_evidence(s, &c.founder, app.id).await;
    s.submit_application(&c.founder, app.id).await.unwrap();
    let municipal = info.decided_by == "municipal";
    // Full marks on every criterion of the rubric, if any.
    let scores = info.rubric.iter().map(|r| (r.id.clone(), r.max)).collect();
    if municipal {
        s.review_application(&c.reviewer, app.id, &review(Decision::Forward, None))
            .await
            .unwrap();
    }
    let decider = if municipal { &c.admin } else { &c.reviewer };
    let approved = s
        .review_application(
            decider,
            app.id,
            &scored(Decision::Approve, amount_fen, scores),
        )
        .await
        .unwrap();
    assert_eq!(approved.state, "approved");
    s.accept_offer(&c.founder, app.id).await.unwrap();
    app.id
}

/// The grant rows delivered by application `id`, as (benefit, detail).
async fn delivered(s: &Services, c: &Cast, subject: &str, id: i64) -> Vec<GrantView> {
    s.grants_of(&c.admin, subject)
        .await
        .unwrap()
        .into_iter()
        .filter(|g| g.source == format!("application:{id}"))
        .collect()
}

async fn instalments(s: &Services, id: i64) -> usize {
    disbursement::Entity::find()
        .filter(disbursement::Column::ApplicationId.eq(id))
        .all(s.store().db())
        .await
        .unwrap()
        .len()
}

async fn assert_books_clean(s: &Services) {
    let ledger = s.reconcile_vouchers_system().await.unwrap();
    assert!(ledger.clean, "the voucher ledger reconciles: {ledger:?}");
    s.seal_audit_log().await.unwrap();
    let audit = s.verify_audit_log().await.unwrap();
    assert!(audit.problems.is_empty(), "{:?}", audit.problems);
}

#[tokio::test]
async fn an_approved_voucher_arrives_in_the_wallet_from_its_pool() {
    each_backend(async |db| {
        let s = opcity_testkit::services(db);
        let c = cast(&s, FounderSpec::young_ai("vera", 0)).await;
        let enterprise = c.founder.enterprise_ids[0];
        budget(&s, &c.admin, "sz.voucher.model", "municipal", 500_000_000).await;

        // Approved: the pool's budget holds the amount for the application,
        // and the ledger still reconciles (the hold is the application's).
        let app = s
            .create_application(
                &c.founder,
                &NewApplication {
                    programme: "sz.voucher.model".into(),
                    enterprise_id: Some(enterprise),
                    idempotency_key: Some("v1".into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        opcity_testkit::supply_evidence(&s, &c.founder, app.id).await;
        s.submit_application(&c.founder, app.id).await.unwrap();
        s.review_application(&c.reviewer, app.id, &review(Decision::Forward, None))
            .await
            .unwrap();
        s.review_application(
            &c.admin,
            app.id,
            &review(Decision::Approve, Some(90_000_000)),
        )
        .await
        .unwrap();
        assert!(s.reconcile_vouchers_system().await.unwrap().clean);

        // Accepted: issued into the wallet, valid to the programme's end,
        // with no cash schedule; the budget's commitment is unchanged.
        let accepted = s.accept_offer(&c.founder, app.id).await.unwrap();
        assert_eq!(accepted.state, "disbursing");
        assert_eq!(
            instalments(&s, app.id).await,
            0,
            "a voucher is not paid in cash"
        );
        let wallet = s.wallet(&c.founder, enterprise).await.unwrap();
        let model = wallet
            .wallets
            .iter()
            .find(|w| w.kind == "sz.voucher.model")
            .expect("a model-voucher wallet");
        assert_eq!(model.available_fen, 90_000_000);
        let window = s.programme("sz.voucher.model").unwrap().1.effective_to;
        assert_eq!(model.valid_until, Some(window));
        let pools = s.voucher_pools(&c.admin).await.unwrap();
        let pool = pools.iter().find(|p| p.kind == "sz.voucher.model").unwrap();
        assert_eq!(
            (pool.reserved_fen, pool.issued_fen),
            (90_000_000, 90_000_000)
        );
        let rows = delivered(&s, &c, &format!("enterprise:{enterprise}"), app.id).await;
        let kinds: Vec<(&str, Option<i64>, Option<chrono::NaiveDate>)> = rows
            .iter()
            .map(|g| (g.benefit.as_str(), g.amount_fen, g.to))
            .collect();
        assert_eq!(kinds, [("voucher", Some(90_000_000), Some(window))]);
        assert_books_clean(&s).await;

        // Clawed back: the unused money returns to the pool and the budget.
        s.claw_back(&c.admin, app.id, Some("false declaration"))
            .await
            .unwrap();
        let wallet = s.wallet(&c.founder, enterprise).await.unwrap();
        assert_eq!(wallet.wallets[0].available_fen, 0);
        let pool = s.voucher_pools(&c.admin).await.unwrap();
        let pool = pool.iter().find(|p| p.kind == "sz.voucher.model").unwrap();
        assert_eq!((pool.reserved_fen, pool.remaining_fen), (0, 500_000_000));
        let ended = delivered(&s, &c, &format!("enterprise:{enterprise}"), app.id).await;
        assert!(ended[0].to.is_some_and(|to| to <= window));
        assert_books_clean(&s).await;
    })
    .await;
}

#[tokio::test]
async fn in_kind_benefits_become_requests_for_those_who_allocate() {
    each_backend(async |db| {
        let s = opcity_testkit::services(db);
        let c = cast(&s, FounderSpec::young_ai("wang", 0)).await;
        let community = s
            .create_community(
                &c.admin,
                &opcity_services::registry::communities::CommunityInput {
                    name_zh: "南山测试OPC社区".into(),
                    name_en: "Nanshan Test OPC Community".into(),
                    district: "nanshan".into(),
                    address: "南山区".into(),
                    area_m2: 1_000,
                    operator_name: "运营方".into(),
                    operator_account_id: None,
                    opened_on: None,
                },
            )
            .await
            .unwrap();
        let enterprise = c.founder.enterprise_ids[0];
        let person = c.founder.person_id.unwrap();

        // A workspace: a request for an office in the chosen community.
        let workspace = approved_and_accepted(
            &s,
            &c,
            "sz.space.opc_workspace",
            &[
                ("community", "Nanshan Test OPC Community"),
                ("team_size", "3"),
            ],
            None,
        )
        .await;
        let request = space_request::Entity::find()
            .filter(space_request::Column::ApplicationId.eq(workspace))
            .one(s.store().db())
            .await
            .unwrap()
            .expect("a space request");
        assert_eq!(
            (
                request.community_id,
                request.kind.as_str(),
                request.team_size,
                request.status.as_str()
            ),
            (Some(community.id), "office", 3, "waiting")
        );
        assert_eq!(instalments(&s, workspace).await, 0);
        let rows = delivered(&s, &c, &format!("enterprise:{enterprise}"), workspace).await;
        assert_eq!(
            rows.iter()
                .map(|g| (g.benefit.as_str(), g.quantity))
                .collect::<Vec<_>>(),
            [("space_request", Some(3))]
        );

        // Transitional housing: a request for the district, for the months
        // the engine gave.
        let housing = approved_and_accepted(&s, &c, "sz.housing.transitional", &[], None).await;
        let request = housing_request::Entity::find()
            .filter(housing_request::Column::ApplicationId.eq(housing))
            .one(s.store().db())
            .await
            .unwrap()
            .expect("a housing request");
        assert_eq!(
            (
                request.person_id,
                request.district.as_str(),
                request.status.as_str()
            ),
            (person, "nanshan", "waiting")
        );
        assert!(request.months > 0);
        let rows = delivered(&s, &c, &format!("person:{person}"), housing).await;
        assert_eq!(rows[0].benefit, "housing_request");
        assert_eq!(rows[0].district.as_deref(), Some("nanshan"));

        // Clawed back: a request nobody served is withdrawn.
        s.claw_back(&c.admin, housing, Some("moved away"))
            .await
            .unwrap();
        let request = housing_request::Entity::find_by_id(request.id)
            .one(s.store().db())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(request.status, "withdrawn");
        assert_books_clean(&s).await;
    })
    .await;
}

#[tokio::test]
async fn a_workspace_names_a_community_of_its_district() {
    each_backend(async |db| {
        let s = opcity_testkit::services(db);
        let c = cast(&s, FounderSpec::young_ai("ning", 0)).await;
        let app = s
            .create_application(
                &c.founder,
                &NewApplication {
                    programme: "sz.space.opc_workspace".into(),
                    enterprise_id: Some(c.founder.enterprise_ids[0]),
                    idempotency_key: Some("w".into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let form = [("community".to_owned(), serde_json::Value::from("Nowhere"))]
            .into_iter()
            .collect();
        s.update_form(&c.founder, app.id, &form).await.unwrap();
        opcity_testkit::supply_evidence(&s, &c.founder, app.id).await;
        s.submit_application(&c.founder, app.id).await.unwrap();
        s.review_application(&c.reviewer, app.id, &review(Decision::Approve, None))
            .await
            .unwrap();
        let refused = s.accept_offer(&c.founder, app.id).await.unwrap_err();
        let opcity_services::ServiceError::Validation(fields) = refused else {
            panic!("a validation error, not {refused:?}");
        };
        assert_eq!(
            (fields[0].field.as_str(), fields[0].code),
            ("form.community", "unknown_community")
        );
        // Nothing was written: still approved, nothing requested or granted.
        let detail = s.get_application(&c.founder, app.id).await.unwrap();
        assert_eq!(detail.application.state, "approved");
        assert!(
            delivered(
                &s,
                &c,
                &format!("enterprise:{}", c.founder.enterprise_ids[0]),
                app.id
            )
            .await
            .is_empty()
        );
    })
    .await;
}

#[tokio::test]
async fn titles_carry_their_support_and_loans_become_referrals() {
    each_backend(async |db| {
        let mut spec = FounderSpec::young_ai("tian", 0);
        spec.person.high_level_talent = Some(true);
        let s = opcity_testkit::services(db);
        let c = cast(&s, spec).await;
        let person = c.founder.person_id.unwrap();
        let enterprise = c.founder.enterprise_ids[0];

        let title = approved_and_accepted(&s, &c, "sz.talent.high_level", &[], None).await;
        let end = s.programme("sz.talent.high_level").unwrap().1.effective_to;
        let rows = delivered(&s, &c, &format!("person:{person}"), title).await;
        let held: Vec<(&str, &str, Option<chrono::NaiveDate>)> = rows
            .iter()
            .map(|g| (g.benefit.as_str(), g.detail.as_str(), g.to))
            .collect();
        assert_eq!(
            held,
            [
                ("title", "", Some(end)),
                ("support", "mentorship", Some(end)),
                ("support", "investor_access", Some(end)),
                ("support", "priority_industrial_space", Some(end)),
                ("support", "innovation_resources", Some(end)),
                ("support", "scenario_access", Some(end)),
            ]
        );
        assert_eq!(instalments(&s, title).await, 0);

        budget(
            &s,
            &c.admin,
            "sz.loan.enterprise",
            "municipal",
            1_000_000_000,
        )
        .await;
        let loan = approved_and_accepted(&s, &c, "sz.loan.enterprise", &[], Some(50_000_000)).await;
        let referred = referral::Entity::find()
            .filter(referral::Column::ApplicationId.eq(loan))
            .one(s.store().db())
            .await
            .unwrap()
            .expect("a referral");
        assert_eq!(
            (
                referred.partner.as_str(),
                referred.amount_fen,
                referred.enterprise_id,
                referred.status.as_str()
            ),
            ("financing", Some(50_000_000), Some(enterprise), "open")
        );
        assert_eq!(instalments(&s, loan).await, 0);
        let rows = delivered(&s, &c, &format!("enterprise:{enterprise}"), loan).await;
        assert_eq!(rows[0].benefit, "referral");
        assert_books_clean(&s).await;
    })
    .await;
}

/// The model voucher's cap per enterprise (2 million yuan, the pack's
/// `beneficiary_cap`) holds across applications: an approval counts what is
/// granted and what is approved but not yet accepted, so the reviewer hears
/// of the cap at once and no offer is made that could not be accepted.
#[tokio::test]
async fn a_beneficiary_cap_holds_across_applications() {
    each_backend(async |db| {
        let s = opcity_testkit::services(db);
        let c = cast(&s, FounderSpec::young_ai("cap", 0)).await;
        let enterprise = c.founder.enterprise_ids[0];
        budget(&s, &c.admin, "sz.voucher.model", "municipal", 1_000_000_000).await;
        let mut ids = Vec::new();
        for key in ["m1", "m2", "m3"] {
            let app = s
                .create_application(
                    &c.founder,
                    &NewApplication {
                        programme: "sz.voucher.model".into(),
                        enterprise_id: Some(enterprise),
                        idempotency_key: Some(key.into()),
                        ..Default::default()
                    },
                )
                .await
                .unwrap();
            opcity_testkit::supply_evidence(&s, &c.founder, app.id).await;
            s.submit_application(&c.founder, app.id).await.unwrap();
            s.review_application(&c.reviewer, app.id, &review(Decision::Forward, None))
                .await
                .unwrap();
            ids.push(app.id);
        }
        let approve = async |id: i64, amount: i64| {
            s.review_application(&c.admin, id, &review(Decision::Approve, Some(amount)))
                .await
        };
        let above_cap = |refused: opcity_services::ServiceError| {
            let opcity_services::ServiceError::Validation(errors) = refused else {
                panic!("{refused:?}");
            };
            errors
                .into_iter()
                .find(|e| e.field == "amount_fen" && e.code == "above_beneficiary_cap")
                .map(|e| (e.params["held_fen"].clone(), e.params["cap_fen"].clone()))
        };
        // Two approvals below the second-review line, none accepted yet.
        approve(ids[0], 95_000_000).await.unwrap();
        approve(ids[1], 95_000_000).await.unwrap();
        // 1.9 million offered: 200,000 yuan more would pass the cap.
        let refused = approve(ids[2], 20_000_000).await.unwrap_err();
        assert_eq!(
            above_cap(refused),
            Some(("190000000".into(), "200000000".into()))
        );
        let third = s.get_application(&c.admin, ids[2]).await.unwrap();
        assert_eq!(third.application.state, "municipal_review", "nothing moved");
        // What is left of the cap may be approved, and all three accepted.
        approve(ids[2], 10_000_000).await.unwrap();
        s.accept_offer(&c.founder, ids[0]).await.unwrap();
        s.accept_offer(&c.founder, ids[1]).await.unwrap();
        s.accept_offer(&c.founder, ids[2]).await.unwrap();
        let wallet = s.wallet(&c.founder, enterprise).await.unwrap();
        let held: i64 = wallet
            .wallets
            .iter()
            .filter(|w| w.kind == "sz.voucher.model")
            .map(|w| w.available_fen)
            .sum();
        assert_eq!(held, 200_000_000, "the cap, and no more");
        assert_books_clean(&s).await;
    })
    .await;
}

/// A title's priority industrial space (measure (2)) puts its holder's
/// enterprise ahead in a community's waitlist from the day it is accepted:
/// the operator sees why, may not pass over it, and serving the unit offers
/// it to the title holder although the other founder asked first.
#[tokio::test]
async fn a_title_puts_its_holder_first_in_the_space_waitlist() {
    each_backend(async |db| {
        let mut spec = FounderSpec::young_ai("tian", 0);
        spec.person.high_level_talent = Some(true);
        let s = opcity_testkit::services(db);
        let c = cast(&s, spec).await;
        let tian_co = c.founder.enterprise_ids[0];
        let early = founder(&s, &c.admin, FounderSpec::young_ai("early", 1)).await;
        let early_co = early.actor.enterprise_ids[0];
        let operator = account(&s, "operator", Role::CommunityOperator, None).await;
        let (community, desk) = opcity_testkit::nanshan_desk(&s, &c.admin, &operator).await;
        let operator = s.system_actor(operator.account_id).await.unwrap();

        let ask = |enterprise: i64| SpaceRequestInput {
            enterprise_id: Some(enterprise),
            community_id: Some(community),
            kind: "desk".into(),
            team_size: 1,
            wanted_from: "2026-07-01".into(),
            months: 12,
            ..Default::default()
        };
        let first = s.request_space(&early.actor, &ask(early_co)).await.unwrap();
        let second = s.request_space(&c.founder, &ask(tian_co)).await.unwrap();
        assert_eq!(
            (second.position, second.priority),
            (Some(2), false),
            "no title yet: in order of arrival"
        );

        approved_and_accepted(&s, &c, "sz.talent.high_level", &[], None).await;
        let places = |requests: Vec<RequestView>| {
            requests
                .iter()
                .map(|r| (r.id, r.position, r.priority))
                .collect::<Vec<_>>()
        };
        let queue = s
            .list_space_requests(&operator, &AllocationFilter::default())
            .await
            .unwrap();
        assert_eq!(
            places(queue),
            [(first.id, Some(2), false), (second.id, Some(1), true)]
        );
        let dates = |request_id: i64| OfferInput {
            request_id,
            unit_id: desk,
            start: "2026-07-01".into(),
            end: "2027-07-01".into(),
            monthly_rent_fen: None,
            note: None,
        };
        let passed_over = s.offer_space(&operator, &dates(first.id)).await;
        assert_eq!(passed_over.unwrap_err().code(), "waitlist_order");
        let offered = s
            .serve_waitlist(
                &operator,
                &ServeInput {
                    unit_id: desk,
                    start: "2026-07-01".into(),
                    end: "2027-07-01".into(),
                    monthly_rent_fen: None,
                },
            )
            .await
            .unwrap();
        assert_eq!(offered.enterprise_id, Some(tian_co));
        let still = s
            .list_space_requests(&early.actor, &AllocationFilter::default())
            .await
            .unwrap();
        assert_eq!(places(still), [(first.id, Some(1), false)]);
    })
    .await;
}
