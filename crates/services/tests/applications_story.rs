//! From "apply" to "paid" on both backends: idempotent submission, the
//! engine's pre-check, two-reviewer approval against a budget, acceptance,
//! an idempotent and concurrency-safe payment job, exclusions at approval,
//! refusals that name the current state or the remaining budget.

use chrono::Datelike;
use opcity_domain::{District, Role};
use opcity_services::applications::budgets::BudgetInput;
use opcity_services::applications::{Decision, NewApplication, ReviewInput, Upload};
use opcity_services::registry::enterprises::EnterpriseInput;
use opcity_services::{Actor, ServiceError, Services};
use opcity_store::budget::reconcile;
use opcity_store::sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use opcity_testkit::each_backend;
use opcity_testkit::{FounderSpec, account, approval, founder, nanshan_housing_budget};
use std::collections::HashMap;

/// A founder for each enterprise code, each with a housing-subsidy
/// application supplied with its evidence and submitted; their ids.
async fn submitted_housing_applications(s: &Services, admin: &Actor, usccs: &[String]) -> Vec<i64> {
    let mut ids = Vec::new();
    for (n, uscc) in usccs.iter().enumerate() {
        let f = founder(
            s,
            admin,
            FounderSpec::young_ai(&format!("founder{n}"), 0).uscc(uscc),
        )
        .await
        .actor;
        let app = s
            .create_application(&f, &apply("sz.housing.subsidy", "k"))
            .await
            .unwrap();
        opcity_testkit::supply_evidence(s, &f, app.id).await;
        s.submit_application(&f, app.id).await.unwrap();
        ids.push(app.id);
    }
    ids
}

fn apply(programme: &str, key: &str) -> NewApplication {
    NewApplication {
        programme: programme.into(),
        idempotency_key: Some(key.into()),
        ..Default::default()
    }
}

fn code_of(err: ServiceError) -> (String, Vec<(String, String)>) {
    match err {
        ServiceError::Validation(f) => (
            "validation".into(),
            f.into_iter()
                .map(|e| {
                    (
                        e.field,
                        format!(
                            "{}{}",
                            e.code,
                            e.params
                                .iter()
                                .map(|(k, v)| format!(" {k}={v}"))
                                .collect::<String>()
                        ),
                    )
                })
                .collect(),
        ),
        other => (other.code().into(), vec![]),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn housing_subsidy_from_apply_to_paid() {
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
        let ana = founder(
            &s,
            &admin,
            FounderSpec::young_ai("ana", 0).uscc("91440300708461136T"),
        )
        .await
        .actor;
        let year = opcity_domain::today_in_shanghai(s.now()).year();
        let budget = s
            .create_budget(
                &admin,
                &BudgetInput {
                    programme: "sz.housing.subsidy".into(),
                    year,
                    authority: "nanshan".into(),
                    total_fen: 3_000_000,
                },
            )
            .await
            .unwrap();

        // A double submission with one key is one application.
        let first = s
            .create_application(&ana, &apply("sz.housing.subsidy", "k1"))
            .await
            .unwrap();
        let again = s
            .create_application(&ana, &apply("sz.housing.subsidy", "k1"))
            .await
            .unwrap();
        assert_eq!(first.id, again.id);
        let reused = s
            .create_application(&ana, &apply("sz.loan.personal", "k1"))
            .await
            .unwrap_err();
        assert_eq!(reused.code(), "idempotency_key_reused");

        // Nothing is submitted while evidence is missing, each item named.
        let (_, missing) = code_of(s.submit_application(&ana, first.id).await.unwrap_err());
        let named: Vec<&str> = missing.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(
            named,
            [
                "evidence.identity_card",
                "evidence.founder_proof",
                "evidence.bank_account"
            ]
        );
        opcity_testkit::supply_evidence(&s, &ana, first.id).await;
        // Each viewer is offered what the state machine lets them do now.
        use opcity_domain::application::Event;
        let actions = async |who: &Actor| s.get_application(who, first.id).await.unwrap().actions;
        assert_eq!(actions(&ana).await, [Event::Submit, Event::Withdraw]);
        let submitted = s.submit_application(&ana, first.id).await.unwrap();
        assert_eq!(actions(&ana).await, [Event::Withdraw]);
        assert_eq!(
            actions(&r1).await,
            [Event::Approve, Event::Forward, Event::Return, Event::Reject]
        );
        assert_eq!(
            actions(&admin).await,
            [],
            "not the municipal reviewer's turn"
        );
        assert_eq!(submitted.state, "district_review");
        let explanation = submitted.explanation.clone().unwrap();
        assert_eq!(explanation.result.status, opcity_policy::Status::Eligible);
        assert_eq!(
            explanation.result.monthly_fen,
            Some(opcity_domain::Fen(125_000))
        );
        assert!(!explanation.pack.version.is_empty());
        // Submission and pre-check are one state change: both steps in the
        // history and in the audit log (each by its own actor), one
        // notification of where the application now stands.
        let history: Vec<(String, String)> =
            opcity_store::entity::application_event::Entity::find()
                .filter(opcity_store::entity::application_event::Column::ApplicationId.eq(first.id))
                .order_by_asc(opcity_store::entity::application_event::Column::Id)
                .all(s.store().db())
                .await
                .unwrap()
                .into_iter()
                .map(|e| (e.event, e.to_state))
                .collect();
        assert_eq!(
            history[history.len() - 2..],
            [
                ("submit".to_owned(), "submitted".to_owned()),
                ("precheck_passed".to_owned(), "district_review".to_owned())
            ]
        );
        s.seal_audit_log().await.unwrap();
        let steps: Vec<(String, String)> = opcity_store::entity::audit_log::Entity::find()
            .filter(opcity_store::entity::audit_log::Column::Action.eq("application.transition"))
            .filter(opcity_store::entity::audit_log::Column::EntityId.eq(first.id.to_string()))
            .order_by_asc(opcity_store::entity::audit_log::Column::Seq)
            .all(s.store().db())
            .await
            .unwrap()
            .into_iter()
            .map(|e| {
                let after: serde_json::Value =
                    serde_json::from_str(e.after.as_deref().unwrap()).unwrap();
                (e.actor, after["state"].as_str().unwrap().to_owned())
            })
            .collect();
        assert_eq!(steps.len(), 2, "{steps:?}");
        assert_eq!(steps[0].1, "submitted");
        assert_eq!(
            steps[1],
            ("system:precheck".to_owned(), "district_review".to_owned())
        );
        let notified: Vec<String> = opcity_store::entity::notification::Entity::find()
            .filter(
                opcity_store::entity::notification::Column::Subject
                    .eq(format!("application:{}", first.id)),
            )
            .all(s.store().db())
            .await
            .unwrap()
            .into_iter()
            .map(|n| n.kind)
            .collect();
        assert_eq!(notified, ["application_district_review"]);

        // Illegal moves name the current state.
        let (_, fields) = code_of(s.accept_offer(&ana, first.id).await.unwrap_err());
        assert!(fields[0].1.contains("state=district_review"), "{fields:?}");
        // The applicant cannot review; a reviewer must declare no conflict.
        assert!(matches!(
            s.review_application(&ana, first.id, &approval(3_000_000))
                .await,
            Err(ServiceError::Forbidden)
        ));
        let undeclared = ReviewInput {
            no_conflict_declared: false,
            ..approval(3_000_000)
        };
        assert_eq!(
            code_of(
                s.review_application(&r1, first.id, &undeclared)
                    .await
                    .unwrap_err()
            )
            .1[0]
                .0,
            "no_conflict_declared"
        );
        // Above the programme's figure.
        let (_, fields) = code_of(
            s.review_application(&r1, first.id, &approval(3_000_001))
                .await
                .unwrap_err(),
        );
        assert_eq!(fields[0].0, "amount_fen");
        assert!(fields[0].1.starts_with("above_cap"), "{fields:?}");

        // 30,000 yuan is above the second-review threshold: one approval waits.
        let waiting = s
            .review_application(&r1, first.id, &approval(3_000_000))
            .await
            .unwrap();
        assert!(waiting.awaiting_second_review);
        assert_eq!(waiting.state, "district_review");
        let same = s
            .review_application(&r1, first.id, &approval(3_000_000))
            .await;
        assert_eq!(
            code_of(same.unwrap_err()).1[0].0,
            "decision",
            "the same reviewer twice is not two reviewers"
        );
        let approved = s
            .review_application(&r2, first.id, &approval(3_000_000))
            .await
            .unwrap();
        assert_eq!(approved.state, "approved");
        assert_eq!(approved.approved_fen, Some(3_000_000));
        let b = s
            .list_budgets(&admin)
            .await
            .unwrap()
            .into_iter()
            .find(|x| x.id == budget.id)
            .unwrap();
        assert_eq!((b.reserved_fen, b.remaining_fen), (3_000_000, 0));

        // A second founder: the budget is exhausted; the refusal names what is left.
        let ben = founder(
            &s,
            &admin,
            FounderSpec::young_ai("ben", 0).uscc("914403001922038216"),
        )
        .await
        .actor;
        let other = s
            .create_application(&ben, &apply("sz.housing.subsidy", "k2"))
            .await
            .unwrap();
        opcity_testkit::supply_evidence(&s, &ben, other.id).await;
        // A draft cannot be approved: refused (a draft is the applicant's
        // until submitted), not recorded as an approval waiting for a second
        // reviewer.
        assert!(matches!(
            s.review_application(&r1, other.id, &approval(3_000_000))
                .await,
            Err(ServiceError::Forbidden)
        ));
        let reviews = opcity_store::entity::review::Entity::find()
            .filter(opcity_store::entity::review::Column::ApplicationId.eq(other.id))
            .count(s.store().db())
            .await
            .unwrap();
        assert_eq!(reviews, 0);
        s.submit_application(&ben, other.id).await.unwrap();
        s.review_application(&r1, other.id, &approval(3_000_000))
            .await
            .unwrap();
        let (_, fields) = code_of(
            s.review_application(&r2, other.id, &approval(3_000_000))
                .await
                .unwrap_err(),
        );
        assert_eq!(
            fields[0],
            (
                "amount_fen".to_owned(),
                "budget_insufficient remaining_fen=0".to_owned()
            )
        );

        // Accepting starts 24 monthly instalments and records the grant.
        let disbursing = s.accept_offer(&ana, first.id).await.unwrap();
        assert_eq!(disbursing.state, "disbursing");
        let detail = s.get_application(&ana, first.id).await.unwrap();
        assert_eq!(detail.disbursements.len(), 24);
        assert!(detail.disbursements.iter().all(|d| d.amount_fen == 125_000));
        assert!(detail.history.len() >= 6);

        // The exclusion holds at application time now: transitional housing is out.
        let excluded = s
            .create_application(&ana, &apply("sz.housing.transitional", "k3"))
            .await
            .unwrap();
        opcity_testkit::supply_evidence(&s, &ana, excluded.id).await;
        assert_eq!(
            s.submit_application(&ana, excluded.id).await.unwrap().state,
            "rejected"
        );

        // The payment job: twice and concurrently, each instalment once.
        let today = opcity_domain::today_in_shanghai(s.now());
        let first_run = s.pay_due(today).await.unwrap();
        assert_eq!((first_run.paid, first_run.paid_fen), (1, 125_000));
        assert_eq!(s.pay_due(today).await.unwrap().paid, 0);
        let later = today.checked_add_months(chrono::Months::new(3)).unwrap();
        let (a, b2) = tokio::join!(s.pay_due(later), s.pay_due(later));
        let (a, b2) = (a.unwrap(), b2.unwrap());
        assert_eq!(
            a.paid + b2.paid,
            3,
            "instalments 2–4 paid once between two concurrent runs"
        );
        let bud = s
            .list_budgets(&admin)
            .await
            .unwrap()
            .into_iter()
            .find(|x| x.id == budget.id)
            .unwrap();
        assert_eq!((bud.spent_fen, bud.reserved_fen), (500_000, 2_500_000));
        assert!(reconcile(s.store().db()).await.unwrap().is_empty());
        assert!(s.verify_audit_log().await.unwrap().problems.is_empty());

        // The treasury lines: all for administrators, the district's own
        // for its reviewers, none of them for another district's.
        let far = account(
            &s,
            "rev.lg",
            Role::DistrictReviewer,
            Some(District::Longgang),
        )
        .await;
        let (from, to) = ("2000-01-01".parse().unwrap(), "2100-01-01".parse().unwrap());
        let lines = |a| s.payment_lines(a, from, to);
        assert_eq!(lines(&admin).await.unwrap().len(), 24);
        assert_eq!(lines(&r1).await.unwrap().len(), 24);
        assert!(lines(&far).await.unwrap().is_empty());
        assert!(matches!(lines(&ana).await, Err(ServiceError::Forbidden)));

        // Claw-back: the rest is cancelled and released.
        let clawed = s
            .claw_back(&admin, first.id, Some("false declaration"))
            .await
            .unwrap();
        assert_eq!(clawed.state, "clawed_back");
        let bud = s
            .list_budgets(&admin)
            .await
            .unwrap()
            .into_iter()
            .find(|x| x.id == budget.id)
            .unwrap();
        assert_eq!((bud.spent_fen, bud.reserved_fen), (500_000, 0));
        assert_eq!(
            s.pay_due(later.checked_add_months(chrono::Months::new(30)).unwrap())
                .await
                .unwrap()
                .paid,
            0
        );
        assert!(reconcile(s.store().db()).await.unwrap().is_empty());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_approvals_reserve_exactly_what_fits() {
    each_backend(async |db| {
        let s = opcity_testkit::services(db);
        let admin = account(&s, "admin", Role::MunicipalAdmin, None).await;
        let reviewers = [
            account(&s, "rev.a", Role::DistrictReviewer, Some(District::Nanshan)).await,
            account(&s, "rev.b", Role::DistrictReviewer, Some(District::Nanshan)).await,
        ];
        // 15,000-yuan approvals stay below the second-review line, so one reviewer decides each.
        nanshan_housing_budget(&s, &admin, 5_000_000).await;
        let usccs = [
            "91440300708461136T",
            "914403001922038216",
            "91440300MA5DC1Q12N",
            "91440300MA5FXX1J8M",
            "91440300MA5G0KTL6Y",
            "91440300MA5H1H4H2Q",
        ];
        let usccs = usccs.map(|code| {
            opcity_domain::Uscc::complete(&code[..16])
                .map(|u| u.to_string())
                .unwrap_or_else(|_| code.to_string())
        });
        let ids = submitted_housing_applications(&s, &admin, &usccs).await;
        // Six concurrent approvals of 1,500,000 fen against 5,000,000: exactly three fit.
        let tasks: Vec<_> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| {
                let (s, r, id) = (s.clone(), reviewers[i % 2].clone(), *id);
                tokio::spawn(
                    async move { s.review_application(&r, id, &approval(1_500_000)).await },
                )
            })
            .collect();
        let mut approved = 0;
        for t in tasks {
            match t.await.unwrap() {
                Ok(v) => {
                    assert_eq!(v.state, "approved");
                    approved += 1;
                }
                Err(e) => assert!(
                    code_of(e).1[0].1.starts_with("budget_insufficient"),
                    "unexpected refusal"
                ),
            }
        }
        assert_eq!(approved, 3);
        let b = &s.list_budgets(&admin).await.unwrap()[0];
        assert_eq!(b.reserved_fen, 4_500_000);
        assert!(reconcile(s.store().db()).await.unwrap().is_empty());
    })
    .await;
}

/// Two processes approve each of eight applications at once (their groups
/// interleave on one budget with room for five): exactly five are approved,
/// each once; every other attempt is refused (`state_changed`, an illegal
/// move, or `budget_insufficient`) and leaves nothing; the budget holds
/// exactly the five reservations and reconciles.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_approvals_from_two_processes_never_overspend() {
    each_backend(async |db| {
        let (one, other) = opcity_testkit::two_processes(db).await;
        let admin = account(&one, "admin", Role::MunicipalAdmin, None).await;
        let reviewers = [
            account(
                &one,
                "rev.a",
                Role::DistrictReviewer,
                Some(District::Nanshan),
            )
            .await,
            account(
                &one,
                "rev.b",
                Role::DistrictReviewer,
                Some(District::Nanshan),
            )
            .await,
        ];
        nanshan_housing_budget(&one, &admin, 5_000_000).await;
        let usccs: Vec<String> = (0..8)
            .map(|n| {
                opcity_domain::Uscc::complete(&format!("91440300MA5K{n:04}"))
                    .unwrap()
                    .to_string()
            })
            .collect();
        let ids = submitted_housing_applications(&one, &admin, &usccs).await;
        let tasks: Vec<_> = ids
            .iter()
            .flat_map(|&id| {
                [
                    (one.clone(), reviewers[0].clone(), id),
                    (other.clone(), reviewers[1].clone(), id),
                ]
            })
            .map(|(s, r, id)| {
                tokio::spawn(async move {
                    (id, s.review_application(&r, id, &approval(1_000_000)).await)
                })
            })
            .collect();
        let mut won: HashMap<i64, usize> = HashMap::new();
        for task in tasks {
            let (id, result) = task.await.unwrap();
            match result {
                Ok(view) => {
                    assert_eq!(
                        (view.state.as_str(), view.approved_fen),
                        ("approved", Some(1_000_000))
                    );
                    *won.entry(id).or_default() += 1;
                }
                Err(e) => {
                    let (code, fields) = code_of(e);
                    assert!(
                        code == "state_changed"
                            || fields.iter().any(|(_, c)| {
                                c.starts_with("illegal_transition")
                                    || c.starts_with("budget_insufficient")
                            }),
                        "{code} {fields:?}"
                    );
                }
            }
        }
        assert_eq!(won.len(), 5, "{won:?}");
        assert!(won.values().all(|n| *n == 1), "{won:?}");
        let b = &one.list_budgets(&admin).await.unwrap()[0];
        assert_eq!(b.reserved_fen, 5_000_000);
        assert!(reconcile(one.store().db()).await.unwrap().is_empty());
        let reviews = opcity_store::entity::review::Entity::find()
            .count(one.store().db())
            .await
            .unwrap();
        assert_eq!(reviews, 5, "refused approvals leave no review");
        for id in &ids {
            let approvals = opcity_store::entity::application_event::Entity::find()
                .filter(opcity_store::entity::application_event::Column::ApplicationId.eq(*id))
                .filter(opcity_store::entity::application_event::Column::Event.eq("approve"))
                .count(one.store().db())
                .await
                .unwrap();
            assert_eq!(
                approvals,
                u64::from(won.contains_key(id)),
                "application {id}"
            );
        }
        one.seal_audit_log().await.unwrap();
        assert!(one.verify_audit_log().await.unwrap().problems.is_empty());
    })
    .await;
}

/// Documents: the type read from the content, replacement, the applicant's
/// window (draft or returned), who may read them, and tampering detected.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn documents_are_checked_kept_and_verified() {
    each_backend(async |db| {
        let s = opcity_testkit::services(db);
        let admin = account(&s, "admin", Role::MunicipalAdmin, None).await;
        let reviewer = account(&s, "rev", Role::DistrictReviewer, Some(District::Nanshan)).await;
        let elsewhere = account(&s, "rev.ft", Role::DistrictReviewer, Some(District::Futian)).await;
        let ana = founder(
            &s,
            &admin,
            FounderSpec::young_ai("ana", 0).uscc("91440300708461136T"),
        )
        .await
        .actor;
        let ben = founder(
            &s,
            &admin,
            FounderSpec::young_ai("ben", 0).uscc("914403001922038216"),
        )
        .await
        .actor;
        let app = s
            .create_application(&ana, &apply("sz.housing.subsidy", "d1"))
            .await
            .unwrap();
        let upload = |item: &str, name: &str, content: &'static [u8]| Upload {
            evidence_id: item.into(),
            file_name: name.into(),
            content: bytes::Bytes::from_static(content),
        };
        let png: &'static [u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01";

        // Refusals name the field and store nothing.
        for (u, field, code) in [
            (upload("identity_card", "a.pdf", b""), "file", "empty_file"),
            (
                upload("identity_card", "a.pdf", b"<html>"),
                "file",
                "unsupported_type",
            ),
            (
                upload("bank_account", "a.pdf", opcity_testkit::TINY_PDF),
                "evidence",
                "not_a_document",
            ),
            (
                upload("passport", "a.pdf", opcity_testkit::TINY_PDF),
                "evidence",
                "unknown_evidence",
            ),
        ] {
            let (_, fields) = code_of(s.upload_document(&ana, app.id, &u).await.unwrap_err());
            assert_eq!(
                (fields[0].0.as_str(), fields[0].1.split(' ').next().unwrap()),
                (field, code)
            );
        }
        assert!(matches!(
            s.upload_document(
                &ben,
                app.id,
                &upload("identity_card", "x.pdf", opcity_testkit::TINY_PDF)
            )
            .await,
            Err(ServiceError::Forbidden)
        ));
        assert!(
            s.get_application(&ana, app.id)
                .await
                .unwrap()
                .documents
                .is_empty()
        );
        assert_eq!(
            std::fs::read_dir(db.documents.path()).unwrap().count(),
            0,
            "no file left behind"
        );

        // A second upload for an item replaces the first, which stays on record.
        let first = s
            .upload_document(
                &ana,
                app.id,
                &upload(
                    "identity_card",
                    "C:\\scans\\身份证.pdf",
                    opcity_testkit::TINY_PDF,
                ),
            )
            .await
            .unwrap();
        assert_eq!(first.file_name, "身份证.pdf");
        let second = s
            .upload_document(&ana, app.id, &upload("identity_card", "id.png", png))
            .await
            .unwrap();
        assert_eq!(second.content_type, "image/png");
        let detail = s.get_application(&ana, app.id).await.unwrap();
        let current: Vec<(i64, bool)> =
            detail.documents.iter().map(|d| (d.id, d.current)).collect();
        assert_eq!(current, [(first.id, false), (second.id, true)]);
        assert_eq!(
            detail
                .missing
                .iter()
                .map(|m| m.id.as_str())
                .collect::<Vec<_>>(),
            ["founder_proof", "bank_account"]
        );

        // A draft is the applicant's: no reviewer reads it yet.
        assert!(matches!(
            s.document_content(&reviewer, app.id, second.id).await,
            Err(ServiceError::Forbidden)
        ));

        // Once submitted, the evidence is closed to changes.
        opcity_testkit::supply_evidence(&s, &ana, app.id).await;
        s.submit_application(&ana, app.id).await.unwrap();
        // Submitted, the district's reviewer reads it; another district's may not.
        let (seen, content) = s
            .document_content(&reviewer, app.id, second.id)
            .await
            .unwrap();
        assert_eq!((content.as_ref(), seen.current), (png, true));
        assert!(matches!(
            s.document_content(&elsewhere, app.id, second.id).await,
            Err(ServiceError::Forbidden)
        ));

        let (_, fields) = code_of(
            s.upload_document(
                &ana,
                app.id,
                &upload("founder_proof", "late.pdf", opcity_testkit::TINY_PDF),
            )
            .await
            .unwrap_err(),
        );
        assert_eq!(
            fields[0],
            (
                "state".to_owned(),
                "not_editable state=district_review".to_owned()
            )
        );

        // Content changed behind the platform's back is refused, not served.
        let stored = walk(db.documents.path());
        assert_eq!(stored.len(), 3, "{stored:?}");
        for file in &stored {
            std::fs::write(file, b"%PDF-1.4 altered").unwrap();
        }
        assert_eq!(
            s.document_content(&reviewer, app.id, first.id)
                .await
                .unwrap_err()
                .code(),
            "internal"
        );
        // Every upload is in the audit log.
        s.seal_audit_log().await.unwrap();
        let audited = opcity_store::entity::audit_log::Entity::find()
            .filter(opcity_store::entity::audit_log::Column::Action.eq("application.document"))
            .count(s.store().db())
            .await
            .unwrap();
        assert_eq!(audited, 3);
    })
    .await;
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

/// A programme with a rubric: an approval scores every criterion within its
/// range; the review keeps each score and the total.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rubric_scores_are_checked_and_kept() {
    each_backend(async |db| {
        let s = opcity_testkit::services(db);
        let admin = account(&s, "admin", Role::MunicipalAdmin, None).await;
        let reviewer = account(&s, "rev", Role::DistrictReviewer, Some(District::Nanshan)).await;
        let ana = founder(
            &s,
            &admin,
            FounderSpec::young_ai("ana", 0).uscc("91440300708461136T"),
        )
        .await
        .actor;
        let year = opcity_domain::today_in_shanghai(s.now()).year();
        s.create_budget(
            &admin,
            &BudgetInput {
                programme: "sz.talent.open_source".into(),
                year,
                authority: "municipal".into(),
                total_fen: 10_000_000,
            },
        )
        .await
        .unwrap();
        let app = s
            .create_application(&ana, &apply("sz.talent.open_source", "r1"))
            .await
            .unwrap();
        opcity_testkit::supply_evidence(&s, &ana, app.id).await;
        s.submit_application(&ana, app.id).await.unwrap();
        let forward = opcity_testkit::review(Decision::Forward, None);
        s.review_application(&reviewer, app.id, &forward)
            .await
            .unwrap();

        let scored = |pairs: &[(&str, i32)]| ReviewInput {
            scores: pairs.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect(),
            ..approval(500_000)
        };
        let (_, fields) = code_of(
            s.review_application(
                &admin,
                app.id,
                &scored(&[("achievement", 41), ("charm", 5)]),
            )
            .await
            .unwrap_err(),
        );
        assert_eq!(
            fields,
            [
                (
                    "scores.achievement".to_owned(),
                    "out_of_range max=40 min=0".to_owned()
                ),
                ("scores.charm".to_owned(), "unknown_criterion".to_owned()),
                ("scores.influence".to_owned(), "score_required".to_owned()),
                ("scores.fit".to_owned(), "score_required".to_owned()),
            ]
        );
        let approved = s
            .review_application(
                &admin,
                app.id,
                &scored(&[("achievement", 35), ("influence", 20), ("fit", 25)]),
            )
            .await
            .unwrap();
        assert_eq!(approved.state, "approved");
        let detail = s.get_application(&admin, app.id).await.unwrap();
        let last = detail.reviews.last().unwrap();
        assert_eq!(last.score, Some(80));
        assert_eq!(
            last.scores,
            serde_json::json!({ "achievement": 35, "fit": 25, "influence": 20 })
        );
        // The applicant sees the decision, not the reviewers' scores.
        assert!(
            s.get_application(&ana, app.id)
                .await
                .unwrap()
                .reviews
                .is_empty()
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_submissions_are_each_written_once() {
    each_backend(async |db| {
        // Two processes on one database, each with its own group committer.
        let (one, other) = opcity_testkit::two_processes(db).await;
        let admin = account(&one, "admin", Role::MunicipalAdmin, None).await;
        let ana = founder(
            &one,
            &admin,
            FounderSpec::young_ai("ana", 0).uscc("91440300708461136T"),
        )
        .await
        .actor;
        let mut ids = Vec::new();
        for n in 0..12 {
            let app = one
                .create_application(&ana, &apply("sz.housing.subsidy", &format!("c{n}")))
                .await
                .unwrap();
            opcity_testkit::supply_evidence(&one, &ana, app.id).await;
            ids.push(app.id);
        }
        // One without its evidence goes in the same burst: refused alone.
        let bare = one
            .create_application(&ana, &apply("sz.housing.subsidy", "bare"))
            .await
            .unwrap()
            .id;
        let refused = {
            let (one, ana) = (one.clone(), ana.clone());
            tokio::spawn(async move { one.submit_application(&ana, bare).await })
        };
        // Every application submitted twice at once, once by each process.
        let tasks: Vec<_> = ids
            .iter()
            .flat_map(|&id| [(one.clone(), id), (other.clone(), id)])
            .map(|(s, id)| {
                let ana = ana.clone();
                tokio::spawn(async move { (id, s.submit_application(&ana, id).await) })
            })
            .collect();
        let mut won: HashMap<i64, usize> = HashMap::new();
        for task in tasks {
            let (id, result) = task.await.unwrap();
            match result {
                Ok(view) => {
                    assert_eq!(view.state, "district_review");
                    *won.entry(id).or_default() += 1;
                }
                // The loser read the draft before the winner committed
                // (its UPDATE finds the state changed) or after (an
                // illegal move from district review).
                Err(e) => {
                    let (code, fields) = code_of(e);
                    assert!(
                        code == "state_changed"
                            || fields
                                .iter()
                                .any(|(_, c)| c.starts_with("illegal_transition")),
                        "{code} {fields:?}"
                    );
                }
            }
        }
        assert!(ids.iter().all(|id| won.get(id) == Some(&1)), "{won:?}");
        let (_, missing) = code_of(refused.await.unwrap().unwrap_err());
        assert!(
            missing.iter().all(|(f, _)| f.starts_with("evidence.")) && !missing.is_empty(),
            "{missing:?}"
        );
        let bare_events = opcity_store::entity::application_event::Entity::find()
            .filter(opcity_store::entity::application_event::Column::ApplicationId.eq(bare))
            .filter(opcity_store::entity::application_event::Column::Event.ne("create"))
            .count(one.store().db())
            .await
            .unwrap();
        assert_eq!(bare_events, 0, "nothing of a refused submission is written");
        for id in &ids {
            let events = opcity_store::entity::application_event::Entity::find()
                .filter(opcity_store::entity::application_event::Column::ApplicationId.eq(*id))
                .filter(
                    opcity_store::entity::application_event::Column::Event
                        .is_in(["submit", "precheck_passed"]),
                )
                .count(one.store().db())
                .await
                .unwrap();
            assert_eq!(events, 2, "application {id}");
            let notices = opcity_store::entity::notification::Entity::find()
                .filter(
                    opcity_store::entity::notification::Column::Subject
                        .eq(format!("application:{id}")),
                )
                .count(one.store().db())
                .await
                .unwrap();
            assert_eq!(notices, 1, "application {id}");
        }
        one.seal_audit_log().await.unwrap();
        let transitions = opcity_store::entity::audit_log::Entity::find()
            .filter(opcity_store::entity::audit_log::Column::Action.eq("application.transition"))
            .count(one.store().db())
            .await
            .unwrap();
        assert_eq!(transitions, 2 * ids.len() as u64);
        assert!(one.verify_audit_log().await.unwrap().problems.is_empty());
    })
    .await;
}

/// The people of the issue 14 stories: an administrator, Nanshan's and
/// Longgang's reviewers, and two Nanshan founders (Ana and Ben) with an
/// enterprise each.
struct Issue14 {
    admin: Actor,
    nanshan: Actor,
    longgang: Actor,
    ana: Actor,
    ben: Actor,
}

async fn issue14(s: &Services) -> Issue14 {
    let admin = account(s, "admin", Role::MunicipalAdmin, None).await;
    let nanshan = account(s, "rev.ns", Role::DistrictReviewer, Some(District::Nanshan)).await;
    let longgang = account(
        s,
        "rev.lg",
        Role::DistrictReviewer,
        Some(District::Longgang),
    )
    .await;
    let ana = founder(
        s,
        &admin,
        FounderSpec::young_ai("ana", 0).uscc("91440300708461136T"),
    )
    .await
    .actor;
    let ben = founder(
        s,
        &admin,
        FounderSpec::young_ai("ben", 0).uscc("914403001922038216"),
    )
    .await
    .actor;
    Issue14 {
        admin,
        nanshan,
        longgang,
        ana,
        ben,
    }
}

/// Issue 14 (1): an application's subject is the caller or an enterprise
/// the caller represents or controls (the registry's founder link).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_founder_applies_only_for_their_own_subjects() {
    each_backend(async |db| {
        let s = opcity_testkit::services(db);
        let Issue14 { ana, ben, .. } = issue14(&s).await;
        let bens_firm = ben.enterprise_ids[0];

        // Ana names Ben's enterprise: refused, nothing written.
        let for_bens = NewApplication {
            programme: "sz.voucher.model".into(),
            enterprise_id: Some(bens_firm),
            ..Default::default()
        };
        let count = || async {
            opcity_store::entity::application::Entity::find()
                .count(s.store().db())
                .await
                .unwrap()
        };
        assert!(matches!(
            s.create_application(&ana, &for_bens).await,
            Err(ServiceError::Forbidden)
        ));
        assert_eq!(count().await, 0);
        // Ben applies for his own; Ana can neither read nor act on it.
        let bens = s.create_application(&ben, &for_bens).await.unwrap();
        assert_eq!(bens.enterprise_id, Some(bens_firm));
        assert!(matches!(
            s.get_application(&ana, bens.id).await,
            Err(ServiceError::Forbidden)
        ));
        assert!(matches!(
            s.withdraw_application(&ana, bens.id).await,
            Err(ServiceError::Forbidden)
        ));
    })
    .await;
}

/// Issue 14 (4, 9): a draft and its evidence are the applicant's; an
/// administrator may edit them on the applicant's behalf, audited as such;
/// reviewers neither read, list nor edit drafts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drafts_are_the_applicants_until_submitted() {
    each_backend(async |db| {
        let s = opcity_testkit::services(db);
        let Issue14 {
            admin,
            nanshan,
            longgang,
            ana,
            ..
        } = issue14(&s).await;
        // A draft: no reviewer reads it, lists it or edits its evidence,
        // in its district or another.
        let draft = s
            .create_application(&ana, &apply("sz.housing.subsidy", "draft"))
            .await
            .unwrap();
        let field = s
            .get_application(&ana, draft.id)
            .await
            .unwrap()
            .missing
            .into_iter()
            .find(|m| m.kind == "field")
            .expect("the housing subsidy asks for a form field")
            .id;
        let form: serde_json::Map<String, serde_json::Value> =
            [(field.clone(), "by someone".into())].into_iter().collect();
        let upload = Upload {
            evidence_id: "identity_card".into(),
            file_name: "id.pdf".into(),
            content: bytes::Bytes::from_static(opcity_testkit::TINY_PDF),
        };
        let drafts = opcity_services::applications::QueueFilter {
            state: Some("draft".into()),
            ..Default::default()
        };
        for reviewer in [&nanshan, &longgang] {
            assert!(matches!(
                s.update_form(reviewer, draft.id, &form).await,
                Err(ServiceError::Forbidden)
            ));
            assert!(matches!(
                s.upload_document(reviewer, draft.id, &upload).await,
                Err(ServiceError::Forbidden)
            ));
            assert!(matches!(
                s.get_application(reviewer, draft.id).await,
                Err(ServiceError::Forbidden)
            ));
            assert!(
                s.review_queue(reviewer, &drafts)
                    .await
                    .unwrap()
                    .items
                    .is_empty()
            );
        }
        assert!(
            s.get_application(&ana, draft.id)
                .await
                .unwrap()
                .documents
                .is_empty()
        );
        // An administrator edits it on the applicant's behalf, audited as such.
        assert_eq!(s.review_queue(&admin, &drafts).await.unwrap().total, 1);
        s.update_form(&admin, draft.id, &form).await.unwrap();
        s.upload_document(&admin, draft.id, &upload).await.unwrap();
        s.seal_audit_log().await.unwrap();
        let on_behalf: Vec<String> = opcity_store::entity::audit_log::Entity::find()
            .filter(opcity_store::entity::audit_log::Column::EntityId.eq(draft.id.to_string()))
            .filter(opcity_store::entity::audit_log::Column::Action.like("%on_behalf"))
            .order_by_asc(opcity_store::entity::audit_log::Column::Seq)
            .all(s.store().db())
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.action)
            .collect();
        assert_eq!(
            on_behalf,
            [
                "application.form_on_behalf",
                "application.document_on_behalf"
            ]
        );
        // Submitted, it is the district's to review, and only that district's.
        opcity_testkit::supply_evidence(&s, &ana, draft.id).await;
        s.submit_application(&ana, draft.id).await.unwrap();
        s.get_application(&nanshan, draft.id).await.unwrap();
        assert!(matches!(
            s.get_application(&longgang, draft.id).await,
            Err(ServiceError::Forbidden)
        ));
        let queued: Vec<i64> = s
            .review_queue(&nanshan, &Default::default())
            .await
            .unwrap()
            .items
            .into_iter()
            .map(|a| a.id)
            .collect();
        assert_eq!(queued, [draft.id]);
        assert!(
            s.review_queue(&longgang, &Default::default())
                .await
                .unwrap()
                .items
                .is_empty()
        );
    })
    .await;
}

/// Issue 14 (3): a grant is recorded by the subject's district only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grants_are_recorded_by_the_subjects_district() {
    each_backend(async |db| {
        let s = opcity_testkit::services(db);
        let Issue14 {
            admin,
            nanshan,
            longgang,
            ana,
            ben,
        } = issue14(&s).await;
        let bens_firm = ben.enterprise_ids[0];
        // A grant is recorded by the subject's district only.
        let far = s
            .create_enterprise(
                &admin,
                &EnterpriseInput {
                    uscc: "91440307MA5ABCDE53".into(),
                    name: "Longgang AI".into(),
                    district: "longgang".into(),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let grant = |subject: String| opcity_services::grants::GrantInput {
            subject,
            programme: "sz.voucher.model".into(),
            from: "2026-08-01".into(),
            to: None,
            source: "decision 14".into(),
        };
        let grants = || async {
            opcity_store::entity::benefit_grant::Entity::find()
                .count(s.store().db())
                .await
                .unwrap()
        };
        let before = grants().await;
        assert!(matches!(
            s.record_grant(&nanshan, &grant(format!("enterprise:{}", far.id)))
                .await,
            Err(ServiceError::Forbidden)
        ));
        assert!(matches!(
            s.record_grant(&longgang, &grant(format!("enterprise:{bens_firm}")))
                .await,
            Err(ServiceError::Forbidden)
        ));
        assert!(matches!(
            s.record_grant(&ana, &grant(format!("enterprise:{bens_firm}")))
                .await,
            Err(ServiceError::Forbidden)
        ));
        assert_eq!(grants().await, before);
        s.record_grant(&longgang, &grant(format!("enterprise:{}", far.id)))
            .await
            .unwrap();
        s.record_grant(&nanshan, &grant(format!("enterprise:{bens_firm}")))
            .await
            .unwrap();
    })
    .await;
}
