//! Four eyes on both backends: above the programme's second-review line an
//! approval waits for a second reviewer; the same person never counts
//! twice; a second reviewer who approves another amount must say so; and
//! reviewers see whose approval is waiting, with its amount.

use opcity_domain::{District, Role};
use opcity_services::applications::ReviewInput;
use opcity_services::{ServiceError, Services};
use opcity_testkit::{FounderSpec, account, approval, each_backend, founder};

/// A field error as (field, code, params).
type Refusal = (String, &'static str, Vec<(&'static str, String)>);

/// The field errors of a refusal.
fn refused(e: ServiceError) -> Vec<Refusal> {
    match e {
        ServiceError::Validation(fields) => fields
            .into_iter()
            .map(|f| (f.field, f.code, f.params.into_iter().collect()))
            .collect(),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

async fn review_rows(s: &Services, id: i64) -> usize {
    opcity_store::applications::reviews(s.store().db(), id)
        .await
        .unwrap()
        .len()
}

#[tokio::test]
async fn each_person_counts_once_and_a_different_amount_is_said() {
    each_backend(async |db| {
        let s = opcity_testkit::services(db);
        let admin = account(&s, "admin", Role::MunicipalAdmin, None).await;
        let r1 = account(
            &s,
            "rev.one",
            Role::DistrictReviewer,
            Some(District::Nanshan),
        )
        .await;
        let r2 = account(
            &s,
            "rev.two",
            Role::DistrictReviewer,
            Some(District::Nanshan),
        )
        .await;
        opcity_testkit::nanshan_housing_budget(&s, &admin, 10_000_000).await;
        let lin = founder(&s, &admin, FounderSpec::young_ai("lin", 0))
            .await
            .actor;
        let id = opcity_testkit::housing_application(&s, &lin, "h").await;
        let submitted = s.submit_application(&lin, id).await.unwrap();
        let result = submitted.explanation.unwrap().result;
        // The engine's schedule in full: above the second-review line.
        let full = result.monthly_fen.unwrap().0 * result.months.unwrap();

        let first = s
            .review_application(&r1, id, &approval(full))
            .await
            .unwrap();
        assert!(first.awaiting_second_review);
        assert_eq!(first.state, "district_review");

        // The same reviewer again is refused, and nothing is written.
        let again = s.review_application(&r1, id, &approval(full)).await;
        assert_eq!(
            refused(again.unwrap_err()),
            [("decision".into(), "already_approved_by_you", vec![])]
        );
        assert_eq!(review_rows(&s, id).await, 1);

        // The second reviewer sees whose approval waits, and for how much;
        // the applicant does not see reviews.
        let seen = s.get_application(&r2, id).await.unwrap();
        let pending = seen.pending_approval.expect("an approval waits");
        assert_eq!(
            (
                pending.reviewer_id,
                pending.reviewer.as_str(),
                pending.amount_fen
            ),
            (r1.account_id, "rev.one", Some(full))
        );
        assert!(seen.application.awaiting_second_review);
        assert_eq!(seen.application.applicant.as_deref(), Some("lin"));
        let queue = s.review_queue(&r2, &Default::default()).await.unwrap();
        let queued: Vec<_> = queue
            .items
            .iter()
            .map(|a| (a.id, a.applicant.as_deref()))
            .collect();
        assert_eq!(queued, [(id, Some("lin"))]);
        let own = s.get_application(&lin, id).await.unwrap();
        assert!(own.pending_approval.is_none() && own.reviews.is_empty());

        // Another amount without saying so is refused, naming the first.
        let less = full - 100_000;
        let silent = s.review_application(&r2, id, &approval(less)).await;
        assert_eq!(
            refused(silent.unwrap_err()),
            [(
                "amount_fen".into(),
                "differs_from_first_approval",
                vec![("first_fen", full.to_string())]
            )]
        );
        assert_eq!(review_rows(&s, id).await, 1);
        // Said explicitly, the second reviewer's amount is the one approved.
        let said = ReviewInput {
            different_amount_confirmed: true,
            ..approval(less)
        };
        let approved = s.review_application(&r2, id, &said).await.unwrap();
        assert_eq!(
            (approved.state.as_str(), approved.approved_fen),
            ("approved", Some(less))
        );
        // The applicant's history names the applicant, not the reviewers;
        // reviewers see each other's names.
        let names = |d: &opcity_services::applications::ApplicationDetail| {
            d.history
                .iter()
                .filter(|e| e.actor.starts_with("account:"))
                .map(|e| e.actor_name.clone())
                .collect::<Vec<_>>()
        };
        let own = s.get_application(&lin, id).await.unwrap();
        let lin_name = Some("lin".to_owned());
        assert_eq!(names(&own), [lin_name.clone(), lin_name.clone(), None]);
        let decided = s.get_application(&r2, id).await.unwrap();
        assert_eq!(
            names(&decided),
            [lin_name.clone(), lin_name, Some("rev.two".to_owned())]
        );
        assert!(decided.pending_approval.is_none());
        assert!(!decided.application.awaiting_second_review);
    })
    .await;
}
