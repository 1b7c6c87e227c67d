//! The oracle: the model the answers imply, and [`Run::check`] holding the
//! database against it (see the parent module).

use super::*;

/// What the answers say the database must hold.
#[derive(Default)]
struct Model {
    /// Booking id → (instrument, enterprise, start, end).
    bookings: BTreeMap<i64, (i64, i64, DateTime<Utc>, DateTime<Utc>)>,
    cancelled: BTreeSet<i64>,
    /// Lease id → (unit, person, start, months with acknowledged renewals).
    leases: BTreeMap<i64, (i64, i64, NaiveDate, i32)>,
    /// Application → acknowledged reviews.
    reviews: BTreeMap<i64, usize>,
    accepted: BTreeSet<i64>,
}

impl Run {
    /// Holds the database against the model built from the answers (see
    /// the module docs); panics naming the seed on the first violation.
    pub async fn check(&self) {
        let seed = self.seed;
        let model = self.model();
        self.check_bookings(&model).await;
        self.check_leases(&model).await;
        self.check_applications(&model).await;
        let w = &self.world;
        let audit = w.s.verify_audit_log().await.unwrap();
        assert!(audit.problems.is_empty(), "seed {seed}: audit {audit:?}");
        let budgets = opcity_store::budget::reconcile(w.s.store().db())
            .await
            .unwrap();
        assert!(budgets.is_empty(), "seed {seed}: budgets {budgets:?}");
        let ledger = w.s.reconcile_vouchers_system().await.unwrap();
        assert!(ledger.clean, "seed {seed}: ledger {ledger:?}");
    }

    /// The answers as a model, checking on the way that each answer is
    /// its own request's.
    fn model(&self) -> Model {
        let seed = self.seed;
        let mut m = Model::default();
        for (op, answer) in &self.answers {
            match answer {
                Answer::Booked {
                    asked,
                    id,
                    instrument_id,
                    enterprise_id,
                    start,
                    end,
                } => {
                    let wanted = (
                        asked.instrument_id,
                        asked.enterprise_id,
                        local(&asked.start),
                        local(&asked.end),
                    );
                    let got = (*instrument_id, *enterprise_id, *start, *end);
                    assert_eq!(got, wanted, "seed {seed}: {op:?} answered #{id}");
                    let first = m.bookings.insert(*id, got);
                    assert!(first.is_none(), "seed {seed}: #{id} answered twice");
                }
                Answer::Cancelled { id, status } => {
                    assert_eq!(status, "cancelled", "seed {seed}: {op:?}");
                    m.cancelled.insert(*id);
                }
                Answer::Leased {
                    asked,
                    id,
                    unit,
                    person,
                    start,
                    months,
                } => {
                    let wanted = (
                        asked.housing_unit_id,
                        asked.person_id,
                        asked.start.clone(),
                        asked.months,
                    );
                    let got = (*unit, *person, start.to_string(), *months);
                    assert_eq!(got, wanted, "seed {seed}: {op:?} answered lease #{id}");
                    m.leases.insert(*id, (*unit, *person, *start, *months));
                }
                Answer::Renewed { .. } => {}
                Answer::Reviewed {
                    application,
                    asked,
                    state,
                    awaiting,
                } => {
                    assert_eq!(application, asked, "seed {seed}: {op:?}");
                    let expected = if *awaiting {
                        "district_review"
                    } else {
                        "approved"
                    };
                    assert_eq!(state, expected, "seed {seed}: {op:?}");
                    *m.reviews.entry(*asked).or_default() += 1;
                }
                Answer::Accepted { application, asked } => {
                    assert_eq!(application, asked, "seed {seed}: {op:?}");
                    m.accepted.insert(*asked);
                }
                Answer::Withdrawn { application, asked } => {
                    assert_eq!(application, asked, "seed {seed}: {op:?}");
                }
                Answer::Skipped | Answer::Refused(_) => {}
            }
        }
        // Renewals after every lease is known: a task renews only leases
        // it made, but the answers of tasks are gathered task by task.
        for (op, answer) in &self.answers {
            if let Answer::Renewed {
                id,
                asked_id,
                months_added,
            } = answer
            {
                assert_eq!(id, asked_id, "seed {seed}: {op:?}");
                let lease = m.leases.get_mut(id).expect("a renewed lease was made");
                lease.3 += months_added;
            }
        }
        m
    }

    fn refusals(&self) -> impl Iterator<Item = (&Op, &ServiceError)> {
        self.answers.iter().filter_map(|(op, a)| match a {
            Answer::Refused(error) => Some((op, error)),
            _ => None,
        })
    }

    async fn check_bookings(&self, m: &Model) {
        let seed = self.seed;
        let db = self.world.s.store().db();
        let rows = instrument_booking::Entity::find().all(db).await.unwrap();
        let stored: BTreeSet<i64> = rows.iter().map(|r| r.id).collect();
        let answered: BTreeSet<i64> = m.bookings.keys().copied().collect();
        assert_eq!(stored, answered, "seed {seed}: bookings stored ≠ answered");
        let holding: Vec<_> = rows
            .iter()
            .filter(|r| r.status != "cancelled" && r.status != "rejected")
            .collect();
        for r in &rows {
            assert_eq!(
                r.status == "cancelled",
                m.cancelled.contains(&r.id),
                "seed {seed}: booking #{} is {}",
                r.id,
                r.status
            );
        }
        for (i, a) in holding.iter().enumerate() {
            for b in &holding[i + 1..] {
                let overlap = a.instrument_id == b.instrument_id
                    && a.start_at < b.end_at
                    && b.start_at < a.end_at;
                assert!(
                    !overlap,
                    "seed {seed}: bookings #{} and #{} overlap",
                    a.id, b.id
                );
            }
        }
        let mut quota_hours: BTreeMap<i64, i64> = BTreeMap::new();
        for r in holding
            .iter()
            .filter(|r| r.instrument_id == self.world.rationed)
        {
            *quota_hours.entry(r.enterprise_id).or_default() += (r.end_at - r.start_at).num_hours();
        }
        for (firm, hours) in &quota_hours {
            assert!(
                *hours <= i64::from(QUOTA_HOURS),
                "seed {seed}: enterprise {firm} holds {hours} h of a {QUOTA_HOURS} h quota"
            );
        }
        for (op, error) in self.refusals() {
            let Op::Book { .. } = op else { continue };
            match error {
                ServiceError::Taken {
                    held_id,
                    held_from,
                    held_until,
                    ..
                } => {
                    let row = rows.iter().find(|r| r.id == *held_id);
                    let row = row.unwrap_or_else(|| {
                        panic!("seed {seed}: {op:?} refused by #{held_id}, never stored")
                    });
                    assert_eq!((row.start_at, row.end_at), (*held_from, *held_until));
                }
                ServiceError::Validation(fields) if fields[0].code == "over_quota" => {}
                // The holding that refused it was cancelled before the
                // refusal could name it: the slot was taken when decided.
                ServiceError::Conflict {
                    code: ErrorCode::InstrumentSlotTaken,
                    ..
                } if self.cancelled_overlap(op, &rows) => {}
                other => panic!("seed {seed}: {op:?} refused with {other:?}"),
            }
        }
    }

    /// Whether a cancelled booking overlaps what `op` asked for.
    fn cancelled_overlap(&self, op: &Op, rows: &[instrument_booking::Model]) -> bool {
        let Op::Book {
            rationed,
            day,
            hour,
            hours,
            ..
        } = *op
        else {
            return false;
        };
        let date = monday() + Duration::days(i64::from(day));
        let start = local(&format!("{date}T{hour:02}:00"));
        let end = start + Duration::hours(i64::from(hours));
        let instrument = if rationed {
            self.world.rationed
        } else {
            self.world.open
        };
        rows.iter().any(|r| {
            r.status == "cancelled"
                && r.instrument_id == instrument
                && r.start_at < end
                && start < r.end_at
        })
    }

    async fn check_leases(&self, m: &Model) {
        let seed = self.seed;
        let w = &self.world;
        let leases = w.s.list_leases(&w.admin).await.unwrap();
        let stored: BTreeMap<i64, (i64, i64, NaiveDate, i32)> = leases
            .iter()
            .map(|l| {
                (
                    l.id,
                    (l.housing_unit_id, l.person_id, l.start_date, l.months),
                )
            })
            .collect();
        assert_eq!(
            stored, m.leases,
            "seed {seed}: leases stored ≠ answered (a lost renewal?)"
        );
        let mut months: BTreeMap<i64, i32> = BTreeMap::new();
        for l in &leases {
            *months.entry(l.person_id).or_default() += l.months;
        }
        for (i, a) in leases.iter().enumerate() {
            for b in &leases[i + 1..] {
                let overlap = a.housing_unit_id == b.housing_unit_id
                    && a.start_at < b.end_at
                    && b.start_at < a.end_at;
                assert!(
                    !overlap,
                    "seed {seed}: leases #{} and #{} overlap",
                    a.id, b.id
                );
            }
        }
        for (person, total) in &months {
            assert!(
                *total <= MAX_LEASE_MONTHS,
                "seed {seed}: person {person} has {total} months"
            );
        }
        let subsidised = self.granted("sz.housing.subsidy").await;
        let housed = self.granted("sz.housing.transitional").await;
        let both: Vec<_> = subsidised.intersection(&housed).collect();
        assert!(
            both.is_empty(),
            "seed {seed}: both housing benefits: {both:?}"
        );
        for person in months.keys() {
            assert!(
                housed.contains(&format!("person:{person}")),
                "seed {seed}: person {person} has a lease and no grant"
            );
        }
        for (op, error) in self.refusals() {
            let code = match error {
                ServiceError::Validation(fields) => fields[0].code,
                ServiceError::Taken { code, .. } => code.as_str(),
                other => other.code().as_str(),
            };
            match (op, code) {
                (
                    Op::Lease {
                        founder,
                        months: asked,
                        ..
                    },
                    "lease_too_long",
                ) => {
                    // Months held only grow in this workload: what was too
                    // long then is too long now.
                    let person = w.founders[*founder].person_id;
                    let total = months.get(&person).copied().unwrap_or(0);
                    assert!(
                        total + asked > MAX_LEASE_MONTHS,
                        "seed {seed}: {op:?} refused with {total} months held"
                    );
                }
                (Op::Renew { .. }, "lease_too_long") => {}
                (Op::Lease { founder, .. }, "excluded_by_grant") => {
                    let person = w.founders[*founder].person_id;
                    assert!(
                        subsidised.contains(&format!("person:{person}")),
                        "seed {seed}: {op:?} excluded without a subsidy"
                    );
                }
                (Op::Lease { .. } | Op::Renew { .. }, "housing_unit_taken") => {}
                (Op::Lease { .. } | Op::Renew { .. }, other) => {
                    panic!("seed {seed}: {op:?} refused with {other}: {error:?}")
                }
                _ => {}
            }
        }
    }

    async fn granted(&self, programme: &str) -> BTreeSet<String> {
        benefit_grant::Entity::find()
            .filter(benefit_grant::Column::Programme.eq(programme))
            .all(self.world.s.store().db())
            .await
            .unwrap()
            .into_iter()
            .map(|g| g.subject)
            .collect()
    }

    async fn check_applications(&self, m: &Model) {
        let seed = self.seed;
        let w = &self.world;
        let db = w.s.store().db();
        let mut reserved = 0;
        for (n, &id) in w.applications.iter().enumerate() {
            let detail = w.s.get_application(&w.admin, id).await.unwrap();
            let app = &detail.application;
            let reviews = review::Entity::find()
                .filter(review::Column::ApplicationId.eq(id))
                .all(db)
                .await
                .unwrap();
            assert_eq!(
                reviews.len(),
                m.reviews.get(&id).copied().unwrap_or(0),
                "seed {seed}: application {id}'s reviews ≠ those answered"
            );
            let approvals: Vec<&review::Model> = reviews
                .iter()
                .filter(|r| r.decision == "approve")
                .filter(|r| app.submitted_at.is_none_or(|s| r.at >= s))
                .collect();
            let approvers: BTreeSet<i64> = approvals.iter().map(|r| r.reviewer_id).collect();
            assert_eq!(
                approvers.len(),
                approvals.len(),
                "seed {seed}: application {id}: a reviewer counted twice"
            );
            // The workload never confirms a different amount: every approval
            // of one submission agrees.
            let amounts: BTreeSet<Option<i64>> = approvals.iter().map(|r| r.amount_fen).collect();
            assert!(
                amounts.len() <= 1,
                "seed {seed}: application {id} approved at {amounts:?}"
            );
            if app.approved_fen.is_some_and(|a| a > HALF_SUBSIDY) {
                assert!(
                    approvers.len() >= 2,
                    "seed {seed}: application {id} approved by {approvers:?} alone"
                );
            }
            if app.state == "district_review" {
                assert!(
                    approvers.len() < 2,
                    "seed {seed}: application {id} waits after two approvals"
                );
            }
            let person = format!("person:{}", w.founders[n].person_id);
            let subsidised = self.granted("sz.housing.subsidy").await;
            assert_eq!(
                m.accepted.contains(&id),
                subsidised.contains(&person),
                "seed {seed}: application {id} accepted ≠ granted"
            );
            if matches!(app.state.as_str(), "approved" | "disbursing") {
                reserved += app.approved_fen.unwrap_or(0);
            }
        }
        let budgets = w.s.list_budgets(&w.admin).await.unwrap();
        let budget = &budgets[0];
        assert!(budget.reserved_fen + budget.spent_fen <= w.budget_total);
        assert_eq!(
            budget.reserved_fen + budget.spent_fen,
            reserved,
            "seed {seed}: the budget holds what the approved applications hold"
        );
    }
}
