//! Policy drafts (both backends): a bureau administrator drafts a change,
//! checked against the pack in force field by field; simulates it over the
//! registry (aggregates only, small counts withheld) and over a file (with
//! examples); sees its budget impact; edits on a stale revision are
//! refused, an impact older than the changes says so, a withdrawn draft
//! takes nothing; founders and reviewers may not, auditors only read; and
//! every step is in the audit log.

use chrono::{Datelike, Days};
use opcity_domain::{District, Role};
use opcity_services::Services;
use opcity_services::policy_drafts::{ChangeInput, DraftInput, DraftView, Population};
use opcity_services::{ErrorCode, ServiceError};
use opcity_testkit::{FounderSpec, account, each_backend, founder, nanshan_housing_budget};

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

fn details() -> DraftInput {
    DraftInput {
        title: "Housing subsidy to 1,500 yuan".into(),
        reason: "Rents in Nanshan rose 20 % this year.".into(),
        source_document: "深工信〔2026〕9号".into(),
    }
}

fn today(s: &Services) -> chrono::NaiveDate {
    opcity_domain::today_in_shanghai(s.now())
}

fn subsidy(s: &Services, value: i64) -> ChangeInput {
    ChangeInput {
        kind: "parameter".into(),
        effective_from: today(s).to_string(),
        parameter: Some("housing_subsidy_monthly_fen".into()),
        value: Some(value),
        ..Default::default()
    }
}

/// `n` young AI founders in Nanshan, each eligible for the housing subsidy.
async fn founders(s: &Services, admin: &opcity_services::Actor, n: usize) {
    for i in 0..n {
        founder(s, admin, FounderSpec::young_ai(&format!("founder{i}"), i)).await;
    }
}

#[tokio::test]
async fn a_draft_is_checked_simulated_over_the_registry_and_audited() {
    each_backend(async |db| {
        let s = opcity_testkit::services(db);
        let admin = account(&s, "admin", Role::MunicipalAdmin, None).await;
        let auditor = account(&s, "aud", Role::Auditor, None).await;
        let reviewer = account(&s, "rev", Role::DistrictReviewer, Some(District::Nanshan)).await;
        founders(&s, &admin, 6).await;
        nanshan_housing_budget(&s, &admin, 10_000_000).await;

        // Only the city's administrators write; auditors read.
        for who in [&reviewer, &auditor] {
            assert!(matches!(
                s.create_policy_draft(who, &details()).await,
                Err(ServiceError::Forbidden)
            ));
        }
        assert!(matches!(
            s.policy_drafts(&reviewer).await,
            Err(ServiceError::Forbidden)
        ));
        let blank = DraftInput::default();
        assert_eq!(
            codes(s.create_policy_draft(&admin, &blank).await.unwrap_err()),
            [
                ("title".into(), "required".into()),
                ("reason".into(), "required".into()),
                ("source_document".into(), "required".into())
            ]
        );
        let draft = s.create_policy_draft(&admin, &details()).await.unwrap();
        assert_eq!((draft.revision, draft.pack.as_str()), (1, "shenzhen-2026"));

        // Each field of a change is checked against the pack in force.
        let refused = |input: ChangeInput| {
            let s = s.clone();
            let admin = admin.clone();
            async move {
                codes(
                    s.add_policy_draft_change(&admin, draft.id, 1, &input)
                        .await
                        .unwrap_err(),
                )
            }
        };
        let yesterday = today(&s) - Days::new(1);
        for (input, expected) in [
            (
                ChangeInput {
                    parameter: Some("housing_subsidy_monthly".into()),
                    ..subsidy(&s, 1)
                },
                ("parameter", "not_a_parameter"),
            ),
            (subsidy(&s, -5), ("value", "out_of_range")),
            (
                ChangeInput {
                    value: None,
                    ..subsidy(&s, 1)
                },
                ("value", "required"),
            ),
            (
                ChangeInput {
                    effective_from: yesterday.to_string(),
                    ..subsidy(&s, 1)
                },
                ("effective_from", "date_in_past"),
            ),
            (
                ChangeInput {
                    effective_from: "2031-01-01".into(),
                    ..subsidy(&s, 1)
                },
                ("effective_from", "date_out_of_range"),
            ),
            (
                ChangeInput {
                    kind: "condition".into(),
                    effective_from: today(&s).to_string(),
                    programme: Some("sz.housing.subsidy".into()),
                    condition: Some("young".into()),
                    expression: Some("age(person.birth_date) <= param.nope".into()),
                    ..Default::default()
                },
                ("expression", "expression_invalid"),
            ),
            (
                ChangeInput {
                    kind: "condition".into(),
                    effective_from: today(&s).to_string(),
                    programme: Some("sz.housing.subsidy".into()),
                    condition: Some("in_effect".into()),
                    expression: Some("true".into()),
                    ..Default::default()
                },
                ("condition", "not_a_condition"),
            ),
        ] {
            assert_eq!(
                refused(input).await,
                [(expected.0.to_owned(), expected.1.to_owned())]
            );
        }
        let draft = s
            .add_policy_draft_change(&admin, draft.id, 1, &subsidy(&s, 150_000))
            .await
            .unwrap();
        assert_eq!(draft.revision, 2);
        let change = &draft.changes[0];
        assert_eq!(
            (change.value, change.value_before),
            (Some(150_000), Some(125_000))
        );
        // The same parameter on the same date again; an edit on a stale revision.
        assert_eq!(
            codes(
                s.add_policy_draft_change(&admin, draft.id, 2, &subsidy(&s, 160_000))
                    .await
                    .unwrap_err()
            ),
            [("parameter".into(), "already_in_draft".into())]
        );
        assert_eq!(
            codes(
                s.update_policy_draft(&admin, draft.id, 1, &details())
                    .await
                    .unwrap_err()
            ),
            [(String::new(), ErrorCode::DraftChanged.as_str().into())]
        );

        // Over the registry: six founders, each 250 yuan a month more for
        // 24 months, this year against Nanshan's budget.
        let simulated = s
            .simulate_policy_draft(&admin, draft.id, 2, Population::Registry)
            .await
            .unwrap();
        assert!(simulated.impact_current);
        let impact = simulated.impact.clone().unwrap();
        assert_eq!(impact.population.cases, 6);
        assert_eq!(impact.withheld_below, Some(5));
        let this_year = &impact.years[0];
        assert_eq!(this_year.year, today(&s).year());
        assert_eq!(this_year.as_of, today(&s));
        let housing = this_year
            .programmes
            .iter()
            .find(|p| p.programme == "sz.housing.subsidy")
            .unwrap();
        assert_eq!(housing.baseline.eligible, Some(6));
        assert_eq!(housing.delta.money_fen, Some(6 * 25_000 * 24));
        assert_eq!((housing.gainers, housing.losers), (Some(6), Some(0)));
        assert!(housing.examples.is_empty(), "the registry shows no one");
        let budget = this_year
            .budgets
            .iter()
            .find(|b| b.programme == "sz.housing.subsidy")
            .unwrap();
        assert!(budget.on_record);
        assert_eq!(budget.remaining_after_fen, Some(10_000_000 - 3_600_000));
        let nanshan = this_year
            .districts
            .iter()
            .find(|d| d.district == "nanshan")
            .unwrap();
        assert!(
            nanshan.programmes.iter().any(
                |c| c.programme == "sz.housing.subsidy" && c.delta.money_fen == Some(3_600_000)
            )
        );
        // Every year of the pack from the change on.
        let last = impact.years.last().unwrap();
        assert_eq!(last.year, 2027);

        // Edited after: the impact stays, marked older than the changes.
        let edited = s
            .update_policy_draft(&admin, draft.id, 2, &details())
            .await
            .unwrap();
        assert!(!edited.impact_current && edited.impact.is_some());
        assert_eq!(edited.impact_revision, Some(2));
        assert_eq!(
            codes(
                s.simulate_policy_draft(&admin, draft.id, 2, Population::Registry)
                    .await
                    .unwrap_err()
            ),
            [(String::new(), "draft_changed".into())]
        );

        // Auditors read it; the list says how many changes and whether the
        // impact is current.
        let read = s.policy_draft(&auditor, draft.id).await.unwrap();
        assert_eq!(read.changes.len(), 1);
        let list = s.policy_drafts(&auditor).await.unwrap();
        assert_eq!((list[0].changes, list[0].impact_current), (1, false));

        // Withdrawn, it takes nothing more.
        let gone = s.withdraw_policy_draft(&admin, draft.id, 3).await.unwrap();
        assert_eq!(gone.status, "withdrawn");
        assert_eq!(
            codes(
                s.add_policy_draft_change(&admin, draft.id, 4, &subsidy(&s, 1))
                    .await
                    .unwrap_err()
            ),
            [(String::new(), "draft_closed".into())]
        );

        let log = s.audit_entries(&auditor, 0, 50).await.unwrap();
        let actions: Vec<&str> = log
            .entries
            .iter()
            .filter(|e| e.entity == "policy_draft")
            .map(|e| e.action.as_str())
            .collect();
        assert_eq!(
            actions,
            [
                "policy_draft.withdraw",
                "policy_draft.update",
                "policy_draft.simulate",
                "policy_draft.change",
                "policy_draft.create"
            ]
        );
    })
    .await;
}

async fn simulated(
    s: &Services,
    admin: &opcity_services::Actor,
    population: Population,
) -> DraftView {
    let draft = s.create_policy_draft(admin, &details()).await.unwrap();
    let draft = s
        .add_policy_draft_change(admin, draft.id, 1, &subsidy(s, 150_000))
        .await
        .unwrap();
    s.simulate_policy_draft(admin, draft.id, draft.revision, population)
        .await
        .unwrap()
}

#[tokio::test]
async fn the_registry_withholds_small_counts_and_a_file_shows_examples() {
    each_backend(async |db| {
        let s = opcity_testkit::services(db);
        let admin = account(&s, "admin", Role::MunicipalAdmin, None).await;
        founders(&s, &admin, 3).await;

        // Three people: nothing that would tell who they are.
        let impact = simulated(&s, &admin, Population::Registry)
            .await
            .impact
            .unwrap();
        let housing = impact.years[0]
            .programmes
            .iter()
            .find(|p| p.programme == "sz.housing.subsidy")
            .unwrap();
        assert_eq!(housing.baseline.eligible, None);
        assert_eq!(housing.baseline.money_fen, None);
        assert_eq!(housing.delta.money_fen, None);
        assert_eq!(housing.gainers, None);
        assert_eq!(impact.years[0].changed_cases, None);
        // Without a budget on record, the impact says so.
        let budget = impact.years[0]
            .budgets
            .iter()
            .find(|b| b.programme == "sz.housing.subsidy")
            .unwrap();
        assert!(!budget.on_record);

        // A file: every count, and the first cases that gain, by line.
        let case = |id: &str| {
            format!(
                r#"{{"person":{{"id":"{id}","birth_date":"1996-05-20","is_founder":true,"works_in_ai":true}}}}"#
            )
        };
        let lines = [case("a"), "{not json".into(), case("b"), case("c")].join("\n");
        let file = Population::File {
            name: "cases.jsonl".into(),
            bytes: lines.into_bytes(),
        };
        let impact = simulated(&s, &admin, file).await.impact.unwrap();
        assert_eq!(impact.withheld_below, None);
        assert_eq!(
            (impact.population.cases, impact.population.bad_cases),
            (3, 1)
        );
        assert_eq!(impact.population.bad_lines, [2]);
        assert_eq!(impact.population.sha256.as_ref().map(String::len), Some(64));
        let housing = impact.years[0]
            .programmes
            .iter()
            .find(|p| p.programme == "sz.housing.subsidy")
            .unwrap();
        assert_eq!(housing.gainers, Some(3));
        let ids: Vec<(u64, Option<&str>)> = housing
            .examples
            .iter()
            .map(|e| (e.position, e.id.as_deref()))
            .collect();
        assert_eq!(ids, [(1, Some("a")), (3, Some("b")), (4, Some("c"))]);
        assert_eq!(housing.examples[0].money_after_fen, 150_000 * 24);

        // A file with no case it can read is refused by field.
        let empty = Population::File {
            name: "empty.jsonl".into(),
            bytes: b"\n\n".to_vec(),
        };
        let draft = s.create_policy_draft(&admin, &details()).await.unwrap();
        let draft = s
            .add_policy_draft_change(&admin, draft.id, 1, &subsidy(&s, 150_000))
            .await
            .unwrap();
        assert_eq!(
            codes(
                s.simulate_policy_draft(&admin, draft.id, 2, empty)
                    .await
                    .unwrap_err()
            ),
            [("file".into(), "no_cases".into())]
        );
        // Nor is an empty draft simulated.
        let bare = s.create_policy_draft(&admin, &details()).await.unwrap();
        assert_eq!(
            codes(
                s.simulate_policy_draft(&admin, bare.id, 1, Population::Registry)
                    .await
                    .unwrap_err()
            ),
            [(String::new(), "draft_empty".into())]
        );
    })
    .await;
}

#[tokio::test]
async fn a_second_administrator_publishes_a_version_that_comes_into_force() {
    each_backend(async |db| {
        let s = opcity_testkit::services(db);
        let author = account(&s, "author", Role::MunicipalAdmin, None).await;
        let second = account(&s, "second", Role::MunicipalAdmin, None).await;
        let auditor = account(&s, "aud", Role::Auditor, None).await;
        let base = s.pack().version().to_owned();
        let draft = s.create_policy_draft(&author, &details()).await.unwrap();
        let draft = s
            .add_policy_draft_change(&author, draft.id, 1, &subsidy(&s, 150_000))
            .await
            .unwrap();
        // Not simulated as it stands: not submitted.
        assert_eq!(
            codes(
                s.submit_policy_draft(&author, draft.id, 2)
                    .await
                    .unwrap_err()
            ),
            [(String::new(), "draft_not_simulated".into())]
        );
        s.simulate_policy_draft(&author, draft.id, 2, Population::Registry)
            .await
            .unwrap();
        let submitted = s.submit_policy_draft(&author, draft.id, 2).await.unwrap();
        assert_eq!(submitted.status, "submitted");
        // Submitted, it takes no edit; its author may not publish it.
        assert_eq!(
            codes(
                s.update_policy_draft(&author, draft.id, 2, &details())
                    .await
                    .unwrap_err()
            ),
            [(String::new(), "draft_closed".into())]
        );
        assert_eq!(
            codes(
                s.publish_policy_draft(&author, draft.id, 2)
                    .await
                    .unwrap_err()
            ),
            [(String::new(), "own_draft".into())]
        );
        assert!(matches!(
            s.publish_policy_draft(&auditor, draft.id, 2).await,
            Err(ServiceError::Forbidden)
        ));
        // Sent back with a note, resubmitted, published by the second.
        let back = s
            .send_back_policy_draft(&second, draft.id, 2, "Cite the notice's article.")
            .await
            .unwrap();
        assert_eq!(back.status, "draft");
        assert_eq!(
            back.decision_note.as_deref(),
            Some("Cite the notice's article.")
        );
        s.submit_policy_draft(&author, draft.id, 2).await.unwrap();
        let published = s.publish_policy_draft(&second, draft.id, 2).await.unwrap();
        assert_eq!(published.status, "published");
        assert_eq!(published.decided_by.as_deref(), Some("second"));

        // In force from today: the pack names the version, and holds the value.
        let version = format!("{base}+d{}", draft.id);
        let pack = s.pack();
        assert_eq!(pack.version(), version);
        let value = |p: &opcity_policy::Pack| {
            p.parameter("housing_subsidy_monthly_fen")
                .unwrap()
                .value_at(today(&s))
                .unwrap()
                .value
        };
        assert_eq!(value(&pack), Some(150_000));
        // Before its date it is not in force; the base is.
        s.apply_pack_versions(today(&s) - Days::new(1))
            .await
            .unwrap();
        assert_eq!(s.pack().version(), base);
        s.apply_pack_versions(today(&s)).await.unwrap();

        // The next version revises this one.
        let next = s.create_policy_draft(&author, &details()).await.unwrap();
        let change = ChangeInput {
            kind: "condition".into(),
            effective_from: today(&s).to_string(),
            programme: Some("sz.housing.subsidy".into()),
            condition: Some("founder".into()),
            expression: Some("true".into()),
            ..Default::default()
        };
        s.add_policy_draft_change(&author, next.id, 1, &change)
            .await
            .unwrap();
        s.simulate_policy_draft(&author, next.id, 2, Population::Registry)
            .await
            .unwrap();
        s.submit_policy_draft(&author, next.id, 2).await.unwrap();
        s.publish_policy_draft(&second, next.id, 2).await.unwrap();
        let pack = s.pack();
        assert_eq!(pack.version(), format!("{base}+d{}", next.id));
        assert_eq!(
            value(&pack),
            Some(150_000),
            "the first version's value stays"
        );
        let housing = pack.programme("sz.housing.subsidy").unwrap();
        assert!(
            housing
                .written_conditions()
                .any(|c| c == ("founder", "true"))
        );

        let log = s.audit_entries(&auditor, 0, 50).await.unwrap();
        let actions: Vec<&str> = log.entries.iter().map(|e| e.action.as_str()).collect();
        for action in [
            "policy_draft.submit",
            "policy_draft.send_back",
            "policy_draft.publish",
        ] {
            assert!(actions.contains(&action), "{action}: {actions:?}");
        }
    })
    .await;
}
