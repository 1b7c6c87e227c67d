//! What the founder sees of each decision, on both backends: the date the
//! service standard promises a decision by; a rejection and a return that
//! must say why (for the applicant, kept apart from the reviewer's internal
//! note) and change nothing when they do not; every decision in the inbox
//! with its reason, amount, what the benefit becomes, what a return asks
//! for and by when; and a decision letter with a reference number for each
//! approval and rejection, including the engine's own at submission.

use chrono::{Datelike, Days};
use opcity_domain::{District, Role};
use opcity_services::applications::budgets::BudgetInput;
use opcity_services::applications::{Decision, NewApplication, ReviewInput};
use opcity_services::{Actor, ServiceError, Services};
use opcity_testkit::{FounderSpec, account, each_backend, founder};

fn decide(decision: Decision, reason: Option<&str>) -> ReviewInput {
    ReviewInput {
        comment: Some("internal: checked the lease against the registry".into()),
        applicant_reason: reason.map(str::to_owned),
        ..opcity_testkit::review(decision, None)
    }
}

/// A submitted housing-subsidy application of `founder`'s (decided in
/// Nanshan; its service standard is 20 days).
async fn submitted(s: &Services, founder: &Actor, key: &str) -> i64 {
    let app = s
        .create_application(
            founder,
            &NewApplication {
                programme: "sz.housing.subsidy".into(),
                idempotency_key: Some(key.into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    opcity_testkit::supply_evidence(s, founder, app.id).await;
    s.submit_application(founder, app.id).await.unwrap();
    app.id
}

fn field_error(e: ServiceError) -> (String, String) {
    match e {
        ServiceError::Validation(errors) => (errors[0].field.clone(), errors[0].code.to_owned()),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_rejection_and_a_return_tell_the_applicant_why_and_by_when() {
    each_backend(async |db| {
        let s = opcity_testkit::services(db);
        let admin = account(&s, "admin", Role::MunicipalAdmin, None).await;
        let reviewer = account(&s, "rev", Role::DistrictReviewer, Some(District::Nanshan)).await;
        let ana = founder(&s, &admin, FounderSpec::young_ai("ana", 0))
            .await
            .actor;
        let id = submitted(&s, &ana, "a1").await;

        // Waiting: the service standard's date, 20 days from submission.
        let detail = s.get_application(&ana, id).await.unwrap();
        let today = opcity_domain::today_in_shanghai(s.now());
        assert_eq!(detail.application.state, "district_review");
        assert_eq!(
            detail.expected_decision_on,
            today.checked_add_days(Days::new(20))
        );
        assert!(detail.letters.is_empty());

        // A rejection without a reason for the applicant is refused, and
        // nothing moves.
        for blank in [None, Some("   ")] {
            let refused = s
                .review_application(&reviewer, id, &decide(Decision::Reject, blank))
                .await
                .unwrap_err();
            assert_eq!(
                field_error(refused),
                ("applicant_reason".into(), "required".into())
            );
        }
        let too_long = "x".repeat(2001);
        let refused = s
            .review_application(&reviewer, id, &decide(Decision::Reject, Some(&too_long)))
            .await
            .unwrap_err();
        assert_eq!(
            field_error(refused),
            ("applicant_reason".into(), "too_long".into())
        );
        let detail = s.get_application(&ana, id).await.unwrap();
        assert_eq!(detail.application.state, "district_review");

        // Returned: the applicant reads what is needed and by when.
        let due = today.checked_add_days(Days::new(10)).unwrap();
        let refused = s
            .review_application(&reviewer, id, &decide(Decision::Return, None))
            .await
            .unwrap_err();
        assert_eq!(field_error(refused).0, "applicant_reason");
        let mut ask = decide(Decision::Return, Some("Please upload the signed lease."));
        ask.return_deadline = Some(due.to_string());
        s.review_application(&reviewer, id, &ask).await.unwrap();
        let inbox = s.inbox(&ana, 50).await.unwrap();
        let returned = inbox
            .iter()
            .find(|i| i.kind == "application_returned")
            .expect("the return is in the inbox");
        assert_eq!(returned.application_id, Some(id));
        assert_eq!(returned.due_on, Some(due));
        assert_eq!(
            returned.message.as_deref(),
            Some("Please upload the signed lease.")
        );
        assert_eq!(returned.letter, None, "a return is not a decision");
        let detail = s.get_application(&ana, id).await.unwrap();
        assert_eq!(
            detail.expected_decision_on, None,
            "a return stops the clock"
        );

        // Resubmitted, then rejected with a reason: the applicant reads
        // the reason, never the reviewer's internal note.
        s.submit_application(&ana, id).await.unwrap();
        s.review_application(
            &reviewer,
            id,
            &decide(Decision::Reject, Some("The lease is not in Shenzhen.")),
        )
        .await
        .unwrap();
        let detail = s.get_application(&ana, id).await.unwrap();
        assert_eq!(detail.application.state, "rejected");
        let told: Vec<_> = detail
            .history
            .iter()
            .filter_map(|e| e.comment.as_deref())
            .collect();
        assert!(told.contains(&"The lease is not in Shenzhen."));
        assert!(
            told.iter().all(|c| !c.contains("internal")),
            "internal notes stay with the reviewers: {told:?}"
        );
        assert!(detail.reviews.is_empty());
        let staff = s.get_application(&reviewer, id).await.unwrap();
        assert!(staff.reviews.iter().all(|r| {
            r.comment
                .as_deref()
                .is_some_and(|c| c.starts_with("internal"))
        }));

        // One letter, for the rejection, with its reference number.
        assert_eq!(detail.letters.len(), 1);
        let letter = &detail.letters[0];
        let year = today.format("%Y").to_string();
        assert_eq!(letter.reference, format!("OPC-{year}-{id:06}-1"));
        assert_eq!(letter.decision, "rejected");
        assert_eq!(
            letter.reason.as_deref(),
            Some("The lease is not in Shenzhen.")
        );
        assert_eq!(letter.authority, "nanshan");
        assert_eq!(letter.applicant, "ana");
        assert!(letter.current);
        assert_eq!(s.decision_letters(&ana, id).await.unwrap(), detail.letters);
        let inbox = s.inbox(&ana, 50).await.unwrap();
        let rejected = inbox
            .iter()
            .find(|i| i.kind == "application_rejected")
            .expect("the rejection is in the inbox");
        assert_eq!(
            rejected.message.as_deref(),
            Some("The lease is not in Shenzhen.")
        );
        assert_eq!(rejected.letter.as_deref(), Some(letter.reference.as_str()));
        assert!(
            inbox
                .iter()
                .all(|i| i.message.as_deref().is_none_or(|m| !m.contains("internal")))
        );

        // Another founder may not read the letters.
        let bo = founder(&s, &admin, FounderSpec::young_ai("bobby", 1))
            .await
            .actor;
        assert!(matches!(
            s.decision_letters(&bo, id).await,
            Err(ServiceError::Forbidden | ServiceError::NotFound { .. })
        ));
        assert!(
            s.inbox(&bo, 50)
                .await
                .unwrap()
                .iter()
                .all(|i| i.application_id != Some(id))
        );
    })
    .await;
}

#[tokio::test]
async fn approvals_and_the_engines_rejections_have_letters() {
    each_backend(async |db| {
        let s = opcity_testkit::services(db);
        let admin = account(&s, "admin", Role::MunicipalAdmin, None).await;
        let reviewer = account(&s, "rev", Role::DistrictReviewer, Some(District::Nanshan)).await;
        let ana = founder(&s, &admin, FounderSpec::young_ai("ana", 0))
            .await
            .actor;
        let year = opcity_domain::today_in_shanghai(s.now()).year();
        let budget = BudgetInput {
            programme: "sz.housing.subsidy".into(),
            year,
            authority: "nanshan".into(),
            total_fen: 100_000_000,
        };
        s.create_budget(&admin, &budget).await.unwrap();

        // Approved with a note (by two, as the amount is above the
        // second-review line; the second's note is the applicant's): the
        // inbox says how much and what it becomes.
        let id = submitted(&s, &ana, "a1").await;
        s.review_application(&reviewer, id, &decide(Decision::Approve, None))
            .await
            .unwrap();
        assert!(
            s.decision_letters(&ana, id).await.unwrap().is_empty(),
            "one approval is not a decision"
        );
        let second = account(&s, "rev2", Role::DistrictReviewer, Some(District::Nanshan)).await;
        let approved = s
            .review_application(
                &second,
                id,
                &decide(Decision::Approve, Some("Welcome to Nanshan.")),
            )
            .await
            .unwrap();
        assert_eq!(approved.state, "approved");
        let inbox = s.inbox(&ana, 50).await.unwrap();
        let approved = inbox
            .iter()
            .find(|i| i.kind == "application_approved")
            .unwrap_or_else(|| panic!("the approval is in the inbox: {inbox:?}"));
        assert_eq!(approved.approved_fen, Some(3_000_000));
        assert_eq!(approved.delivery.as_deref(), Some("cash"));
        assert_eq!(approved.message.as_deref(), Some("Welcome to Nanshan."));
        let letters = s.decision_letters(&ana, id).await.unwrap();
        assert_eq!(letters.len(), 1);
        assert_eq!(letters[0].decision, "approved");
        assert_eq!(letters[0].approved_fen, Some(3_000_000));
        assert_eq!(letters[0].delivery.as_deref(), Some("cash"));
        assert_eq!(
            approved.letter.as_deref(),
            Some(letters[0].reference.as_str())
        );
        assert_eq!(
            s.get_application(&ana, id)
                .await
                .unwrap()
                .expected_decision_on,
            None,
            "decided"
        );

        // The engine rejects an older founder at submission: the letter
        // names the conditions not met.
        let mut older = FounderSpec::young_ai("old", 2);
        older.person.birth_date = Some("1970-01-01".into());
        let old = founder(&s, &admin, older).await.actor;
        let id = submitted(&s, &old, "o1").await;
        let letters = s.decision_letters(&old, id).await.unwrap();
        assert_eq!(letters.len(), 1);
        assert_eq!(letters[0].decision, "rejected");
        assert!(
            letters[0].unmet_conditions.iter().any(|c| c == "young"),
            "{:?}",
            letters[0].unmet_conditions
        );
        let inbox = s.inbox(&old, 50).await.unwrap();
        let rejected = inbox
            .iter()
            .find(|i| i.kind == "application_rejected")
            .unwrap();
        assert_eq!(rejected.unmet_conditions, letters[0].unmet_conditions);
    })
    .await;
}
