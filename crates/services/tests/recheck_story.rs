//! Continuous eligibility on both backends: a monthly housing subsidy is
//! being paid when its holder stops qualifying. The recheck flags it to the
//! reviewer with the engine's explanation (once, however often it runs),
//! the founder is told and answers, the instalments wait; the reviewer
//! lifts the flag and payment resumes; a later lapse is confirmed and the
//! benefit ends, its remaining money back in the budget. Nothing is
//! stopped silently, and the books and the audit log stay clean.

use chrono::{Duration, Months};
use opcity_domain::{District, Role};
use opcity_services::applications::{Decision, FlagDecision, NewApplication, ReviewInput};
use opcity_services::spaces::agreements::ServeInput;
use opcity_services::{Actor, ServiceError, Services};
use opcity_store::entity::disbursement;
use opcity_store::sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use opcity_testkit::{FounderSpec, account, approval, each_backend, founder, review};

async fn statuses(s: &Services, id: i64) -> Vec<String> {
    let mut rows = disbursement::Entity::find()
        .filter(disbursement::Column::ApplicationId.eq(id))
        .all(s.store().db())
        .await
        .unwrap();
    rows.sort_by_key(|d| d.seq);
    rows.into_iter().map(|d| d.status).collect()
}

async fn kinds(s: &Services, who: &Actor) -> Vec<String> {
    s.notifications(who, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|n| n.kind)
        .collect()
}

#[tokio::test]
async fn a_lapse_is_flagged_paused_lifted_and_confirmed() {
    each_backend(async |db| {
        let s = opcity_testkit::services(db);
        let admin = account(&s, "admin", Role::MunicipalAdmin, None).await;
        let reviewer = account(&s, "rev", Role::DistrictReviewer, Some(District::Nanshan)).await;
        let second = account(&s, "rev2", Role::DistrictReviewer, Some(District::Nanshan)).await;
        let spec = FounderSpec::young_ai("lin", 0);
        let mut older = spec.person.clone();
        let f = founder(&s, &admin, spec).await;
        let lin = f.actor;
        let person = lin.person_id.unwrap();
        opcity_testkit::nanshan_housing_budget(&s, &admin, 10_000_000).await;
        let id = opcity_testkit::housing_application(&s, &lin, "h").await;
        let submitted = s.submit_application(&lin, id).await.unwrap();
        // The engine's monthly schedule in full, so it is paid monthly; above
        // the programme's line, two reviewers approve.
        let result = submitted.explanation.unwrap().result;
        let (monthly, months) = (result.monthly_fen.unwrap().0, result.months.unwrap());
        let amount = monthly * months;
        for r in [&reviewer, &second] {
            s.review_application(r, id, &approval(amount))
                .await
                .unwrap();
        }
        s.accept_offer(&lin, id).await.unwrap();
        let today = opcity_domain::today_in_shanghai(s.now());
        assert_eq!(s.pay_due(today).await.unwrap().paid, 1);

        // Still qualifying: nothing flagged.
        let run = s.recheck_entitlements(today).await.unwrap();
        assert_eq!((run.checked, run.still_eligible, run.flagged), (1, 1, 0));

        // Too old for the programme now: flagged once, however often.
        older.birth_date = Some("1980-01-01".into());
        s.update_person(&admin, person, &older).await.unwrap();
        let run = s.recheck_entitlements(today).await.unwrap();
        assert_eq!((run.checked, run.flagged), (1, 1));
        let run = s.recheck_entitlements(today).await.unwrap();
        assert_eq!((run.flagged, run.already_flagged), (0, 1));
        let flags = s.application_flags(&lin, id).await.unwrap();
        assert_eq!(flags.len(), 1);
        let flag = &flags[0];
        assert_eq!(flag.status, "open");
        let why = flag.explanation.as_ref().expect("the engine's explanation");
        assert!(!why.result.is_eligible());
        assert!(
            why.result
                .reasons
                .iter()
                .flatten()
                .any(|r| r.condition == "young" && r.holds == Some(false)),
            "{why:?}"
        );
        assert!(
            kinds(&s, &lin)
                .await
                .contains(&"benefit_flagged".to_owned())
        );
        assert!(
            kinds(&s, &second)
                .await
                .contains(&"flag_to_review".to_owned())
        );

        // The instalments wait: nothing paid, nothing cancelled.
        let next_month = today.checked_add_months(Months::new(1)).unwrap();
        let run = s.pay_due(next_month).await.unwrap();
        assert_eq!((run.paid, run.paused), (0, 1));
        assert_eq!(statuses(&s, id).await[1], "scheduled");

        // The founder answers; only the founder may.
        let refused = s.respond_to_flag(&reviewer, id, "no").await.unwrap_err();
        assert!(matches!(refused, ServiceError::Forbidden), "{refused:?}");
        let answered = s
            .respond_to_flag(&lin, id, "My birth date was entered wrongly.")
            .await
            .unwrap();
        assert_eq!(
            answered.response.as_deref(),
            Some("My birth date was entered wrongly.")
        );

        // Lifted: payment resumes.
        let lift = FlagDecision {
            decision: "lift".into(),
            note: None,
        };
        assert!(matches!(
            s.decide_flag(&lin, id, &lift).await.unwrap_err(),
            ServiceError::Forbidden
        ));
        assert_eq!(
            s.decide_flag(&reviewer, id, &lift).await.unwrap().status,
            "lifted"
        );
        assert_eq!(s.pay_due(next_month).await.unwrap().paid, 1);
        let again = s.decide_flag(&reviewer, id, &lift).await.unwrap_err();
        assert_eq!(again.code().to_string(), "flag_decided");

        // The reviewer's decision stands for the same reasons on the same
        // facts; a different fact is a new lapse, confirmed: the benefit ends.
        let later = next_month + Duration::days(1);
        let run = s.recheck_entitlements(later).await.unwrap();
        assert_eq!((run.flagged, run.kept_by_reviewer), (0, 1));
        older.birth_date = Some("1975-03-01".into());
        s.update_person(&admin, person, &older).await.unwrap();
        assert_eq!(s.recheck_entitlements(later).await.unwrap().flagged, 1);
        let flags = s.application_flags(&admin, id).await.unwrap();
        let statuses_of_flags: Vec<&str> = flags.iter().map(|f| f.status.as_str()).collect();
        assert_eq!(statuses_of_flags, ["lifted", "open"]);
        let unexplained = FlagDecision {
            decision: "confirm".into(),
            note: None,
        };
        let refused = s
            .decide_flag(&reviewer, id, &unexplained)
            .await
            .unwrap_err();
        assert!(
            matches!(refused, ServiceError::Validation(_)),
            "{refused:?}"
        );
        let confirm = FlagDecision {
            decision: "confirm".into(),
            note: Some("Over the programme's age limit since the correction.".into()),
        };
        assert_eq!(
            s.decide_flag(&reviewer, id, &confirm).await.unwrap().status,
            "confirmed"
        );
        let detail = s.get_application(&lin, id).await.unwrap();
        assert_eq!(detail.application.state, "closed");
        let st = statuses(&s, id).await;
        assert_eq!(st.iter().filter(|s| *s == "paid").count(), 2);
        assert!(st[2..].iter().all(|s| s == "cancelled"), "{st:?}");
        let budget = &s.list_budgets(&admin).await.unwrap()[0];
        assert_eq!((budget.reserved_fen, budget.spent_fen), (0, 2 * monthly));
        assert!(kinds(&s, &lin).await.contains(&"benefit_ended".to_owned()));
        let grants = s
            .grants_of(&admin, &format!("person:{person}"))
            .await
            .unwrap();
        assert!(
            grants.iter().all(|g| g.to.is_some()),
            "the grant ended: {grants:?}"
        );

        assert!(
            opcity_store::budget::reconcile(s.store().db())
                .await
                .unwrap()
                .is_empty()
        );
        s.seal_audit_log().await.unwrap();
        assert!(s.verify_audit_log().await.unwrap().problems.is_empty());
    })
    .await;
}

/// A confirmed lapse of transitional housing already allocated ends after
/// the pack's notice period (30 days), not on the day; the lease's own
/// later end does not keep it longer.
#[tokio::test]
async fn an_allocated_flat_ends_after_the_notice_period() {
    each_backend(async |db| {
        let s = opcity_testkit::services(db);
        let admin = account(&s, "admin", Role::MunicipalAdmin, None).await;
        let reviewer = account(&s, "rev", Role::DistrictReviewer, Some(District::Nanshan)).await;
        let spec = FounderSpec::young_ai("hua", 0);
        let mut older = spec.person.clone();
        let lin = founder(&s, &admin, spec).await.actor;
        let person = lin.person_id.unwrap();
        let flat = opcity_testkit::nanshan_flat(&s, &admin, "A-101").await;
        let app = s
            .create_application(
                &lin,
                &opcity_services::applications::NewApplication {
                    programme: "sz.housing.transitional".into(),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        opcity_testkit::supply_evidence(&s, &lin, app.id).await;
        s.submit_application(&lin, app.id).await.unwrap();
        let approve = ReviewInput {
            amount_fen: None,
            ..review(Decision::Approve, None)
        };
        s.review_application(&reviewer, app.id, &approve)
            .await
            .unwrap();
        s.accept_offer(&lin, app.id).await.unwrap();
        let request = s
            .housing_requests(&reviewer)
            .await
            .unwrap()
            .into_iter()
            .find(|r| r.application_id == app.id)
            .expect("the district's request");
        let today = opcity_domain::today_in_shanghai(s.now());
        let lease = s
            .allocate_housing(
                &reviewer,
                &opcity_services::spaces::housing::LeaseInput {
                    housing_unit_id: flat,
                    person_id: person,
                    enterprise_id: None,
                    start: today.to_string(),
                    months: 12,
                    request_id: Some(request.id),
                },
            )
            .await
            .unwrap();

        older.birth_date = Some("1980-01-01".into());
        s.update_person(&admin, person, &older).await.unwrap();
        assert_eq!(s.recheck_entitlements(today).await.unwrap().flagged, 1);
        let confirm = FlagDecision {
            decision: "confirm".into(),
            note: Some("Over the age limit: please move out within 30 days.".into()),
        };
        s.decide_flag(&reviewer, app.id, &confirm).await.unwrap();
        let held: Vec<_> = s
            .grants_of(&admin, &format!("person:{person}"))
            .await
            .unwrap()
            .into_iter()
            .filter(|g| g.programme == "sz.housing.transitional")
            .collect();
        assert_eq!(held.len(), 1, "{held:?}");
        let last_day = today + Duration::days(30);
        assert_eq!(held[0].to, Some(last_day), "{held:?}");
        // The lease itself now ends after the notice period, and the
        // district's housing allocator is told which flat frees up when.
        let lease = s.get_lease(&reviewer, lease.id).await.unwrap();
        assert_eq!(
            (lease.status.as_str(), lease.end_date),
            ("ended", last_day + Duration::days(1)),
        );
        let told = s.inbox(&reviewer, 20).await.unwrap();
        let ending = told.iter().find(|i| i.kind == "lease_ends").expect("told");
        assert_eq!(
            (ending.unit.as_deref(), ending.ends_on),
            (Some("A-101"), Some(last_day))
        );
    })
    .await;
}

/// A confirmed lapse of an OPC workspace already allocated: the agreement
/// ends after the pack's notice period, its grant with it, and the
/// community's operator — who manages the desk — is told when it frees up.
#[tokio::test]
async fn an_allocated_desk_ends_after_the_notice_period_and_its_operator_is_told() {
    each_backend(async |db| {
        let s = opcity_testkit::services(db);
        let admin = account(&s, "admin", Role::MunicipalAdmin, None).await;
        let reviewer = account(&s, "rev", Role::DistrictReviewer, Some(District::Nanshan)).await;
        let operator = account(&s, "operator", Role::CommunityOperator, None).await;
        let (_, desk) = opcity_testkit::nanshan_desk(&s, &admin, &operator).await;
        let operator = s.system_actor(operator.account_id).await.unwrap();
        let spec = FounderSpec::young_ai("kai", 0);
        let mut no_longer_ai = spec.enterprise.clone();
        let kai = founder(&s, &admin, spec).await.actor;
        let enterprise = kai.enterprise_ids[0];
        let app = s
            .create_application(
                &kai,
                &NewApplication {
                    programme: "sz.space.opc_workspace".into(),
                    enterprise_id: Some(enterprise),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let form = [("community", "Bay"), ("team_size", "1")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), serde_json::Value::from(v)))
            .collect();
        s.update_form(&kai, app.id, &form).await.unwrap();
        opcity_testkit::supply_evidence(&s, &kai, app.id).await;
        s.submit_application(&kai, app.id).await.unwrap();
        let approve = ReviewInput {
            amount_fen: None,
            ..review(Decision::Approve, None)
        };
        s.review_application(&reviewer, app.id, &approve)
            .await
            .unwrap();
        s.accept_offer(&kai, app.id).await.unwrap();
        let today = opcity_domain::today_in_shanghai(s.now());
        let serve = ServeInput {
            unit_id: desk,
            start: today.to_string(),
            end: (today + Duration::days(365)).to_string(),
            monthly_rent_fen: None,
        };
        let offered = s.serve_waitlist(&operator, &serve).await.unwrap();
        s.accept_space_offer(&kai, offered.id).await.unwrap();

        no_longer_ai.ai_business = Some(false);
        s.update_enterprise(&admin, enterprise, &no_longer_ai)
            .await
            .unwrap();
        assert_eq!(s.recheck_entitlements(today).await.unwrap().flagged, 1);
        let confirm = FlagDecision {
            decision: "confirm".into(),
            note: Some("No longer an AI business.".into()),
        };
        s.decide_flag(&reviewer, app.id, &confirm).await.unwrap();

        let last_day = today + Duration::days(30);
        let agreement = s.get_agreement(&operator, offered.id).await.unwrap();
        assert_eq!(agreement.status, "ended");
        assert_eq!(
            agreement.end_at,
            opcity_services::spaces::day_start(last_day + Duration::days(1))
        );
        let held: Vec<_> = s
            .grants_of(&admin, &format!("enterprise:{enterprise}"))
            .await
            .unwrap()
            .into_iter()
            .filter(|g| g.programme == "sz.space.opc_workspace")
            .map(|g| g.to)
            .collect();
        assert_eq!(held, [Some(last_day)]);
        let told = s.inbox(&operator, 20).await.unwrap();
        let ending = told.iter().find(|i| i.kind == "space_ends").expect("told");
        assert_eq!(
            (ending.unit.as_deref(), ending.ends_on),
            (Some("D-01"), Some(last_day))
        );
        // Nobody else manages the desk: the district's reviewer is not told.
        let reviewer_told = s.inbox(&reviewer, 20).await.unwrap();
        assert!(reviewer_told.iter().all(|i| i.kind != "space_ends"));
    })
    .await;
}
