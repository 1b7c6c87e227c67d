//! The conflict-of-interest register (both backends): a reviewer declares a
//! tie to an applicant by name and from then on cannot decide their case,
//! is not offered it and cannot be given it; the same party twice is
//! refused; withdrawing ends the recusal and keeps the history; a party out
//! of the reviewer's reach cannot be named; auditors read everyone's
//! declarations, founders none.

use opcity_domain::{District, Role};
use opcity_services::applications::{AssignInput, Decision};
use opcity_services::interests::InterestInput;
use opcity_services::{ErrorCode, ServiceError};
use opcity_testkit::{FounderSpec, account, each_backend, founder};

fn codes(err: ServiceError) -> Vec<(String, String)> {
    match err {
        ServiceError::Validation(fields) => fields
            .into_iter()
            .map(|f| (f.field, f.code.to_owned()))
            .collect(),
        ServiceError::Conflict { code, field } => {
            vec![(field.unwrap_or("").to_owned(), code.as_str().to_owned())]
        }
        other => panic!("not a refusal: {other:?}"),
    }
}

fn returned() -> opcity_services::applications::ReviewInput {
    opcity_services::applications::ReviewInput {
        applicant_reason: Some("Please add your degree certificate.".into()),
        return_deadline: Some(
            (opcity_domain::today_in_shanghai(chrono::Utc::now()) + chrono::Days::new(14))
                .to_string(),
        ),
        ..opcity_testkit::review(Decision::Return, None)
    }
}

#[tokio::test]
async fn a_declared_tie_recuses_until_it_is_withdrawn() {
    each_backend(async |db| {
        let s = opcity_testkit::services(db);
        let admin = account(&s, "admin", Role::MunicipalAdmin, None).await;
        let reviewer = account(&s, "rev.n", Role::DistrictReviewer, Some(District::Nanshan)).await;
        let other = account(&s, "rev.o", Role::DistrictReviewer, Some(District::Nanshan)).await;
        let longgang = account(
            &s,
            "rev.l",
            Role::DistrictReviewer,
            Some(District::Longgang),
        )
        .await;
        let auditor = account(&s, "aud", Role::Auditor, None).await;
        let spec = FounderSpec::young_ai("founder0", 0).named("林晓", "晓智能");
        let lin = founder(&s, &admin, spec).await.actor;
        let id = opcity_testkit::housing_application(&s, &lin, "founder0").await;
        s.submit_application(&lin, id).await.unwrap();

        // Declared by name; the same person twice is refused.
        let tie = InterestInput {
            kind: "person".into(),
            party: "林晓".into(),
            relation: "family".into(),
            note: "My cousin.".into(),
        };
        let view = s.declare_interest(&reviewer, &tie).await.unwrap();
        assert_eq!((view.kind, view.party_name.as_str()), ("person", "林晓"));
        assert_eq!(
            codes(s.declare_interest(&reviewer, &tie).await.unwrap_err()),
            [(
                "party".to_owned(),
                ErrorCode::AlreadyDeclared.as_str().to_owned()
            )]
        );
        let blank = InterestInput {
            relation: String::new(),
            party: String::new(),
            ..tie.clone()
        };
        assert_eq!(
            codes(s.declare_interest(&reviewer, &blank).await.unwrap_err()),
            [
                ("relation".to_owned(), "required".to_owned()),
                ("party".to_owned(), "required".to_owned())
            ]
        );
        // Out of reach: a Longgang reviewer cannot name a Nanshan founder.
        let err = s.declare_interest(&longgang, &tie).await.unwrap_err();
        assert_eq!(codes(err), [("party".to_owned(), "no_match".to_owned())]);

        // From the next request on (a fresh actor), the case is not theirs.
        let recused = s.system_actor(reviewer.account_id).await.unwrap();
        assert!(matches!(
            s.review_application(&recused, id, &returned()).await,
            Err(ServiceError::Conflict {
                code: ErrorCode::ConflictOfInterest,
                ..
            })
        ));
        let workers = s.case_workers(&admin, id).await.unwrap();
        assert!(
            workers.iter().all(|w| w.id != reviewer.account_id),
            "{workers:?}"
        );
        assert!(workers.iter().any(|w| w.id == other.account_id));
        let give = AssignInput {
            assignee: Some(reviewer.account_id),
            seen: None,
        };
        assert_eq!(
            codes(s.assign_case(&admin, id, &give).await.unwrap_err()),
            [("assignee".to_owned(), "declared_interest".to_owned())]
        );

        // The register: the reviewer's own; auditors everyone's; founders none.
        let other_tie = InterestInput {
            kind: "enterprise".into(),
            party: "晓智能".into(),
            relation: "ownership".into(),
            note: String::new(),
        };
        s.declare_interest(&other, &other_tie).await.unwrap();
        assert_eq!(s.interest_register(&reviewer).await.unwrap().len(), 1);
        assert_eq!(s.interest_register(&auditor).await.unwrap().len(), 2);
        assert!(matches!(
            s.interest_register(&lin).await,
            Err(ServiceError::Forbidden)
        ));
        assert!(matches!(
            s.declare_interest(&auditor, &tie).await,
            Err(ServiceError::Forbidden)
        ));
        // Nobody withdraws another's declaration.
        assert!(matches!(
            s.withdraw_interest(&other, view.id).await,
            Err(ServiceError::NotFound { .. })
        ));

        // Withdrawn: the case may be decided again; the history stays.
        s.withdraw_interest(&reviewer, view.id).await.unwrap();
        assert!(s.withdraw_interest(&reviewer, view.id).await.is_err());
        let free = s.system_actor(reviewer.account_id).await.unwrap();
        s.review_application(&free, id, &returned()).await.unwrap();
        let mine = s.interest_register(&free).await.unwrap();
        assert_eq!(mine.len(), 1);
        assert!(mine[0].withdrawn_at.is_some());
    })
    .await;
}
