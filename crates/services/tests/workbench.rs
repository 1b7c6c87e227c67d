//! The reviewers' workbench on both backends: the queue's filters, search,
//! order and pages against what was submitted; decided cases kept; the
//! export audited; who works a case (one assignee at a time, proven by
//! seeded rounds of concurrent changes of hands against a model); and
//! saved views that belong to their owner.

use opcity_domain::{District, Role};
use opcity_services::applications::{AssignInput, QueueFilter};
use opcity_services::{Actor, ErrorCode, ServiceError, Services};
use opcity_testkit::{FounderSpec, account, approval, each_backend, founder, race};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// The field codes of a refusal, sorted.
fn refused(e: ServiceError) -> Vec<(String, &'static str)> {
    match e {
        ServiceError::Validation(fields) => {
            let mut codes: Vec<_> = fields.into_iter().map(|f| (f.field, f.code)).collect();
            codes.sort();
            codes
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}

fn filter(edit: impl FnOnce(&mut QueueFilter)) -> QueueFilter {
    let mut f = QueueFilter::default();
    edit(&mut f);
    f
}

async fn ids(s: &Services, actor: &Actor, f: &QueueFilter) -> Vec<i64> {
    let page = s.review_queue(actor, f).await.unwrap();
    page.items.iter().map(|a| a.id).collect()
}

/// A Nanshan housing-subsidy application of founder `name`, submitted:
/// its id and its applicant.
async fn submitted(s: &Services, admin: &Actor, name: &str, n: usize) -> (i64, Actor) {
    let username = format!("founder{n}");
    let spec = FounderSpec::young_ai(&username, n).named(name, &format!("{name} AI"));
    let who = founder(s, admin, spec).await.actor;
    let id = opcity_testkit::housing_application(s, &who, &username).await;
    s.submit_application(&who, id).await.unwrap();
    (id, who)
}

#[tokio::test]
async fn the_queue_filters_searches_sorts_and_pages() {
    each_backend(async |db| {
        let s = opcity_testkit::services(db);
        let admin = account(&s, "admin", Role::MunicipalAdmin, None).await;
        let nanshan = account(&s, "rev.n", Role::DistrictReviewer, Some(District::Nanshan)).await;
        let longgang = account(
            &s,
            "rev.l",
            Role::DistrictReviewer,
            Some(District::Longgang),
        )
        .await;
        opcity_testkit::nanshan_housing_budget(&s, &admin, 100_000_000).await;
        let mut cases = Vec::new();
        for (n, name) in ["Lin Wei", "lin_na", "Zhou Yu", "Chen 100%"]
            .iter()
            .enumerate()
        {
            cases.push(submitted(&s, &admin, name, n).await.0);
        }
        // Oldest first by default, each with its applicant and due date.
        let open = s
            .review_queue(&nanshan, &QueueFilter::default())
            .await
            .unwrap();
        assert_eq!(open.total, 4);
        assert_eq!(open.items.iter().map(|a| a.id).collect::<Vec<_>>(), cases);
        assert_eq!(open.items[0].applicant.as_deref(), Some("Lin Wei"));
        let service_days = s.programme("sz.housing.subsidy").unwrap().1.service_days;
        assert_eq!(
            open.items[0].due_on.is_some(),
            service_days.is_some(),
            "a due date exactly where the programme has a service standard"
        );
        assert!(
            s.review_queue(&longgang, &QueueFilter::default())
                .await
                .unwrap()
                .items
                .is_empty()
        );

        // Pages: the second of two rows holds the third and fourth cases.
        let second = s
            .review_queue(
                &nanshan,
                &filter(|f| {
                    f.per_page = Some(2);
                    f.page = Some(2);
                }),
            )
            .await
            .unwrap();
        assert_eq!((second.total, second.page, second.per_page), (4, 2, 2));
        assert_eq!(
            second.items.iter().map(|a| a.id).collect::<Vec<_>>(),
            cases[2..]
        );
        let mut newest = cases.clone();
        newest.reverse();
        assert_eq!(
            ids(&s, &nanshan, &filter(|f| f.sort = Some("newest".into()))).await,
            newest
        );

        // Search: part of a name in any case; `%` and `_` are taken
        // literally; a reference with or without `#`.
        assert_eq!(
            ids(&s, &nanshan, &filter(|f| f.q = Some("LIN".into()))).await,
            cases[..2]
        );
        assert_eq!(
            ids(&s, &nanshan, &filter(|f| f.q = Some("n_n".into()))).await,
            [cases[1]]
        );
        assert_eq!(
            ids(&s, &nanshan, &filter(|f| f.q = Some("100%".into()))).await,
            [cases[3]]
        );
        assert_eq!(
            ids(&s, &nanshan, &filter(|f| f.q = Some("%".into()))).await,
            [cases[3]]
        );
        let reference = format!("#{}", cases[2]);
        assert_eq!(
            ids(&s, &nanshan, &filter(|f| f.q = Some(reference))).await,
            [cases[2]]
        );

        // A decision moves a case from the open queue to the decided list.
        s.review_application(&nanshan, cases[0], &approval(100_000))
            .await
            .unwrap();
        assert_eq!(ids(&s, &nanshan, &QueueFilter::default()).await, cases[1..]);
        let decided = filter(|f| f.state = Some("decided".into()));
        assert_eq!(ids(&s, &nanshan, &decided).await, [cases[0]]);
        assert_eq!(
            ids(&s, &nanshan, &filter(|f| f.state = Some("all".into()))).await,
            cases
        );
        assert_eq!(
            ids(&s, &nanshan, &filter(|f| f.sort = Some("amount".into()))).await[..],
            cases[1..],
            "equal (absent) amounts keep the reference order"
        );

        // The assignee filters.
        s.assign_case(
            &nanshan,
            cases[2],
            &AssignInput {
                assignee: Some(nanshan.account_id),
                seen: None,
            },
        )
        .await
        .unwrap();
        assert_eq!(
            ids(&s, &nanshan, &filter(|f| f.assignee = Some("me".into()))).await,
            [cases[2]]
        );
        assert_eq!(
            ids(&s, &nanshan, &filter(|f| f.assignee = Some("none".into()))).await,
            [cases[1], cases[3]]
        );
        let queue = s
            .review_queue(&nanshan, &QueueFilter::default())
            .await
            .unwrap();
        let assigned: Vec<_> = queue
            .items
            .iter()
            .map(|a| a.assignee.as_ref().map(|x| x.id))
            .collect();
        assert_eq!(assigned, [None, Some(nanshan.account_id), None]);

        // Every bad filter is named at once; nothing is read.
        let bad = filter(|f| {
            f.state = Some("pending".into());
            f.sort = Some("random".into());
            f.assignee = Some("someone".into());
            f.district = Some("atlantis".into());
            f.programme = Some("sz.none".into());
            f.page = Some(0);
            f.per_page = Some(501);
        });
        assert_eq!(
            refused(s.review_queue(&admin, &bad).await.unwrap_err()),
            [
                ("assignee".into(), "unknown_assignee"),
                ("district".into(), "unknown_district"),
                ("page".into(), "page_from_one"),
                ("per_page".into(), "per_page_range"),
                ("programme".into(), "unknown_programme"),
                ("sort".into(), "unknown_sort"),
                ("state".into(), "unknown_state"),
            ]
        );
        let (_, chen) = submitted(&s, &admin, "chen", 9).await;
        assert!(matches!(
            s.review_queue(&chen, &QueueFilter::default()).await,
            Err(ServiceError::Forbidden)
        ));
    })
    .await;
}

#[tokio::test]
async fn an_export_holds_every_page_and_is_audited() {
    each_backend(async |db| {
        let s = opcity_testkit::services(db);
        let admin = account(&s, "admin", Role::MunicipalAdmin, None).await;
        let nanshan = account(&s, "rev.n", Role::DistrictReviewer, Some(District::Nanshan)).await;
        for (n, name) in ["a", "b", "c"].iter().enumerate() {
            submitted(&s, &admin, name, n).await;
        }
        let one_a_page = filter(|f| f.per_page = Some(1));
        assert_eq!(
            s.review_queue(&nanshan, &one_a_page)
                .await
                .unwrap()
                .items
                .len(),
            1
        );
        let rows = s.export_queue(&nanshan, &one_a_page).await.unwrap();
        assert_eq!(rows.len(), 3);
        assert!(rows.iter().all(|r| r.applicant.is_some()));
        s.seal_audit_log().await.unwrap();
        let log = s.audit_entries(&admin, 0, 5).await.unwrap();
        let export = log
            .entries
            .iter()
            .find(|e| e.action == "application.export")
            .expect("the export is in the audit log");
        assert_eq!(export.actor, format!("account:{}", nanshan.account_id));
        assert_eq!(export.after.as_ref().unwrap()["rows"], 3);
    })
    .await;
}

#[tokio::test]
async fn a_case_goes_only_to_those_who_may_work_it() {
    each_backend(async |db| {
        let s = opcity_testkit::services(db);
        let admin = account(&s, "admin", Role::MunicipalAdmin, None).await;
        let nanshan = account(&s, "rev.n", Role::DistrictReviewer, Some(District::Nanshan)).await;
        let longgang = account(
            &s,
            "rev.l",
            Role::DistrictReviewer,
            Some(District::Longgang),
        )
        .await;
        let auditor = account(&s, "aud", Role::Auditor, None).await;
        let (id, lin) = submitted(&s, &admin, "lin", 0).await;
        let give = |to: i64| AssignInput {
            assignee: Some(to),
            seen: None,
        };
        for outsider in [&longgang, &auditor, &lin] {
            assert!(matches!(
                s.assign_case(outsider, id, &give(outsider.account_id))
                    .await,
                Err(ServiceError::Forbidden)
            ));
        }
        // A reviewer of another district cannot be given it.
        assert_eq!(
            refused(
                s.assign_case(&nanshan, id, &give(longgang.account_id))
                    .await
                    .unwrap_err()
            ),
            [("assignee".into(), "cannot_work_case")]
        );
        let workers = s.case_workers(&nanshan, id).await.unwrap();
        let names: Vec<_> = workers.iter().map(|w| w.name.as_str()).collect();
        assert_eq!(names, ["admin", "rev.n"]);
        assert!(s.case_workers(&lin, id).await.unwrap().is_empty());
        assert!(matches!(
            s.case_workers(&longgang, id).await,
            Err(ServiceError::Forbidden)
        ));

        // The administrator gives it to the reviewer, who sees it on the
        // case page and is told in the inbox.
        let told = |who: &opcity_services::Actor| {
            let (s, who) = (s.clone(), who.clone());
            async move {
                s.notifications(&who, 50)
                    .await
                    .unwrap()
                    .into_iter()
                    .filter(|n| n.kind == "case_assigned")
                    .count()
            }
        };
        assert_eq!(told(&nanshan).await, 0);
        let given = s
            .assign_case(&admin, id, &give(nanshan.account_id))
            .await
            .unwrap();
        assert_eq!(given.map(|a| a.id), Some(nanshan.account_id));
        assert_eq!(told(&nanshan).await, 1);
        assert_eq!(told(&admin).await, 0, "the one who gave it is not told");
        let page = s.get_application(&nanshan, id).await.unwrap();
        assert_eq!(
            page.application.assignee.map(|a| a.name),
            Some("rev.n".into())
        );
        assert!(
            s.get_application(&lin, id)
                .await
                .unwrap()
                .application
                .assignee
                .is_none()
        );
        // A stale form (it saw nobody) changes nothing.
        let stale = s
            .assign_case(&nanshan, id, &give(admin.account_id))
            .await
            .unwrap_err();
        assert!(matches!(
            stale,
            ServiceError::Conflict {
                code: ErrorCode::AssignmentChanged,
                ..
            }
        ));
        // So is a form that saw nobody asking for nobody; asking for what
        // is, as it is, changes nothing and is not audited.
        let none = AssignInput {
            assignee: None,
            seen: None,
        };
        assert!(matches!(
            s.assign_case(&admin, id, &none).await,
            Err(ServiceError::Conflict {
                code: ErrorCode::AssignmentChanged,
                ..
            })
        ));
        let same = AssignInput {
            assignee: Some(nanshan.account_id),
            seen: Some(nanshan.account_id),
        };
        let kept = s.assign_case(&nanshan, id, &same).await.unwrap();
        assert_eq!(kept.map(|a| a.id), Some(nanshan.account_id));
        s.assign_case(
            &nanshan,
            id,
            &AssignInput {
                assignee: None,
                seen: Some(nanshan.account_id),
            },
        )
        .await
        .unwrap();
        assert!(
            s.get_application(&admin, id)
                .await
                .unwrap()
                .application
                .assignee
                .is_none()
        );
        s.seal_audit_log().await.unwrap();
        let log = s.audit_entries(&admin, 0, 10).await.unwrap();
        assert_eq!(
            log.entries
                .iter()
                .filter(|e| e.action == "application.assign")
                .count(),
            2
        );
    })
    .await;
}

/// Rounds of concurrent changes of hands, each from two processes, every
/// one made against the assignee the model holds: exactly one wins a
/// round, it answers its own choice, and the case ends with it.
#[tokio::test]
async fn one_assignee_at_a_time_under_concurrent_changes() {
    let seed: u64 = std::env::var("OPCITY_STORM_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random);
    eprintln!("case assignment storm: OPCITY_STORM_SEED={seed}");
    each_backend(async |db| {
        let (s, other) = opcity_testkit::two_processes(db).await;
        let admin = account(&s, "admin", Role::MunicipalAdmin, None).await;
        let mut staff = vec![admin.clone()];
        for n in 0..4 {
            staff.push(
                account(
                    &s,
                    &format!("rev{n}"),
                    Role::DistrictReviewer,
                    Some(District::Nanshan),
                )
                .await,
            );
        }
        let (id, _) = submitted(&s, &admin, "lin", 0).await;
        let mut rng = StdRng::seed_from_u64(seed);
        let mut model: Option<i64> = None;
        for round in 0..12 {
            // Each attempt picks someone other than the present assignee
            // (or, when someone has it, sometimes nobody).
            let choices: Vec<Option<i64>> = (0..6)
                .map(|_| {
                    loop {
                        let pick = if model.is_some() && rng.random_bool(0.2) {
                            None
                        } else {
                            Some(staff[rng.random_range(0..staff.len())].account_id)
                        };
                        if pick != model {
                            break pick;
                        }
                    }
                })
                .collect();
            let outcomes = race(choices.len(), |i| {
                let s = if i % 2 == 0 { s.clone() } else { other.clone() };
                let actor = staff[i % staff.len()].clone();
                let input = AssignInput {
                    assignee: choices[i],
                    seen: model,
                };
                async move { s.assign_case(&actor, id, &input).await }
            })
            .await;
            let mut winners = Vec::new();
            for (i, outcome) in outcomes.into_iter().enumerate() {
                match outcome {
                    Ok(now) => {
                        assert_eq!(
                            now.map(|a| a.id),
                            choices[i],
                            "round {round}: answers its own choice"
                        );
                        winners.push(choices[i]);
                    }
                    Err(ServiceError::Conflict {
                        code: ErrorCode::AssignmentChanged,
                        ..
                    }) => {}
                    Err(e) => panic!("round {round}: {e:?}"),
                }
            }
            assert_eq!(
                winners.len(),
                1,
                "round {round}: exactly one change of hands wins"
            );
            model = winners[0];
            let stored = s
                .get_application(&admin, id)
                .await
                .unwrap()
                .application
                .assignee;
            assert_eq!(stored.map(|a| a.id), model, "round {round}");
        }
    })
    .await;
}

#[tokio::test]
async fn saved_views_belong_to_their_owner() {
    each_backend(async |db| {
        let s = opcity_testkit::services(db);
        let one = account(
            &s,
            "rev.one",
            Role::DistrictReviewer,
            Some(District::Nanshan),
        )
        .await;
        let two = account(
            &s,
            "rev.two",
            Role::DistrictReviewer,
            Some(District::Nanshan),
        )
        .await;
        let founder = account(&s, "lin", Role::Founder, None).await;
        let views = s
            .save_view(&one, " Overdue ", "state=decided&q=lin")
            .await
            .unwrap();
        assert_eq!(views.len(), 1);
        assert_eq!(views[0].name, "Overdue");
        assert_eq!(views[0].query, "state=decided&q=lin");
        // Saving under the name again replaces the view.
        let views = s.save_view(&one, "Overdue", "sort=newest").await.unwrap();
        assert_eq!((views.len(), views[0].query.as_str()), (1, "sort=newest"));
        assert!(s.saved_views(&two).await.unwrap().is_empty());
        assert!(matches!(
            s.delete_saved_view(&two, views[0].id).await,
            Err(ServiceError::NotFound { .. })
        ));
        for (name, query, field, code) in [
            ("", "state=all", "name", "required"),
            ("x\u{7}", "state=all", "name", "view_name_invalid"),
            ("bad", "colour=red", "query", "invalid_view"),
            ("bad", "state=pending", "state", "unknown_state"),
        ] {
            assert_eq!(
                refused(s.save_view(&one, name, query).await.unwrap_err()),
                [(field.to_owned(), code)],
                "{name:?} {query:?}"
            );
        }
        assert!(matches!(
            s.save_view(&founder, "mine", "").await,
            Err(ServiceError::Forbidden)
        ));
        s.delete_saved_view(&one, views[0].id).await.unwrap();
        assert!(s.saved_views(&one).await.unwrap().is_empty());
    })
    .await;
}
