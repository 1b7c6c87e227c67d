//! A seeded, randomized, concurrent workload over the real services, with a
//! reference model as its oracle (in the spirit of TigerBeetle's VOPR and
//! Jepsen's checkers).
//!
//! A seed decides the operations: instrument bookings with and without a
//! weekly quota and their cancellations, transitional-housing leases and
//! their renewals, approvals of housing-subsidy applications by one or two
//! reviewers (four eyes above the programme's line), acceptances of the
//! offers and withdrawals. Several tasks run them at once through two
//! processes' worth of services (their group commits interleave), so the
//! order in which they take effect is not the seed's; the oracle judges
//! whatever happened.
//!
//! After a run, [`Run::check`] holds the database against a model built from
//! the answers alone:
//! - each answer belongs to its own request (the booking, lease, renewal or
//!   application it names echoes what was asked);
//! - what is stored is exactly what was acknowledged: the bookings and
//!   leases answered are the rows held, each lease's months are its first
//!   months plus its acknowledged renewals (no lost update), each
//!   application has one review per acknowledged review;
//! - every invariant holds: no two holdings of one instrument or apartment
//!   overlap, no quota is exceeded, no person has more than the pack's 36
//!   months of housing, nobody holds both the housing subsidy and
//!   transitional housing, an approval above the line has two reviewers
//!   and an application two reviewers approved is not left waiting, no
//!   budget is overspent and every budget reconciles, the voucher ledger
//!   reconciles and the audit chain verifies;
//! - every refusal is explained by the final state (a slot taken names an
//!   overlapping holding, a lease refused as too long would still be).
//!
//! Each run prints its seed first, so a failure names the seed that
//! reproduces its operations.

use crate::fixtures::{Founder, account, founder_with_enterprise};
use crate::{TestDb, two_processes};
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use opcity_domain::{District, Role};
use opcity_services::applications::budgets::BudgetInput;
use opcity_services::applications::{Decision, NewApplication, ReviewInput};
use opcity_services::spaces::housing::{HousingUnitInput, LeaseInput, RenewInput};
use opcity_services::spaces::instruments::{BookingInput, InstrumentInput};
use opcity_services::{Actor, ErrorCode, ServiceError, Services};
use opcity_store::entity::{benefit_grant, instrument_booking, review};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use std::collections::{BTreeMap, BTreeSet};

/// The housing subsidy in full (24 × 1,250 yuan): above the programme's
/// second-review line, so two reviewers must approve it.
const FULL_SUBSIDY: i64 = 3_000_000;
/// Half of it, below the line: one reviewer decides.
const HALF_SUBSIDY: i64 = 1_500_000;
/// The pack's limit on a person's transitional housing.
const MAX_LEASE_MONTHS: i32 = 36;
/// The rationed instrument's weekly quota, in hours.
const QUOTA_HOURS: i32 = 3;
const FOUNDERS: usize = 6;
const FLATS: usize = 3;

/// How big a run is.
#[derive(Debug, Clone, Copy)]
pub struct Size {
    pub operations: usize,
    pub tasks: usize,
}

impl Default for Size {
    fn default() -> Self {
        Size {
            operations: 120,
            tasks: 8,
        }
    }
}

/// One operation as the seed chose it.
#[derive(Debug, Clone)]
enum Op {
    Book {
        rationed: bool,
        firm: usize,
        day: u32,
        hour: u32,
        hours: u32,
    },
    /// Cancel the `nth` booking this task holds, if any.
    Cancel {
        nth: usize,
    },
    Lease {
        flat: usize,
        founder: usize,
        start_month: u32,
        months: i32,
    },
    /// Renew the `nth` lease this task made, if any.
    Renew {
        nth: usize,
        months: i32,
    },
    Approve {
        founder: usize,
        reviewer: usize,
        amount: i64,
    },
    Accept {
        founder: usize,
    },
    Withdraw {
        founder: usize,
    },
}

impl Op {
    fn random(rng: &mut StdRng) -> Op {
        match rng.random_range(0..100) {
            0..30 => Op::Book {
                rationed: rng.random_bool(0.4),
                firm: rng.random_range(0..FOUNDERS),
                day: rng.random_range(0..2),
                hour: rng.random_range(9..18),
                hours: rng.random_range(1..4),
            },
            30..36 => Op::Cancel {
                nth: rng.random_range(0..4),
            },
            36..52 => Op::Lease {
                flat: rng.random_range(0..FLATS),
                founder: rng.random_range(0..FOUNDERS),
                start_month: rng.random_range(0..36),
                months: rng.random_range(6..25),
            },
            52..62 => Op::Renew {
                nth: rng.random_range(0..3),
                months: rng.random_range(1..13),
            },
            62..86 => Op::Approve {
                founder: rng.random_range(0..FOUNDERS),
                reviewer: rng.random_range(0..2),
                amount: if rng.random_bool(0.7) {
                    FULL_SUBSIDY
                } else {
                    HALF_SUBSIDY
                },
            },
            86..98 => Op::Accept {
                founder: rng.random_range(0..FOUNDERS),
            },
            _ => Op::Withdraw {
                founder: rng.random_range(0..FOUNDERS),
            },
        }
    }
}

/// What an operation was answered, in the terms the oracle checks.
#[derive(Debug)]
enum Answer {
    /// Nothing to act on (no booking or lease held by the task yet).
    Skipped,
    Booked {
        asked: BookingInput,
        id: i64,
        instrument_id: i64,
        enterprise_id: i64,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    },
    Cancelled {
        id: i64,
        status: String,
    },
    Leased {
        asked: LeaseInput,
        id: i64,
        unit: i64,
        person: i64,
        start: NaiveDate,
        months: i32,
    },
    Renewed {
        id: i64,
        asked_id: i64,
        months_added: i32,
    },
    Reviewed {
        application: i64,
        asked: i64,
        state: String,
        awaiting: bool,
    },
    Accepted {
        application: i64,
        asked: i64,
    },
    Withdrawn {
        application: i64,
        asked: i64,
    },
    Refused(ServiceError),
}

/// The fixed part of a run: who acts and on what.
struct World {
    s: Services,
    other: Services,
    admin: Actor,
    lab: Actor,
    reviewers: [Actor; 2],
    open: i64,
    rationed: i64,
    flats: Vec<i64>,
    founders: Vec<Founder>,
    /// Each founder's housing-subsidy application, submitted.
    applications: Vec<i64>,
    budget_total: i64,
}

/// A finished run: its answers and the world they were given in.
pub struct Run {
    seed: u64,
    world: World,
    answers: Vec<(Op, Answer)>,
}

/// Runs the workload of `seed` on `db`.
pub async fn run(db: &TestDb, seed: u64, size: Size) -> Run {
    eprintln!("workload seed {seed} ({size:?}) on {:?}", db.backend());
    let world = world(db).await;
    let mut rng = StdRng::seed_from_u64(seed);
    let mut per_task: Vec<Vec<Op>> = vec![Vec::new(); size.tasks];
    for i in 0..size.operations {
        per_task[i % size.tasks].push(Op::random(&mut rng));
    }
    let world = std::sync::Arc::new(world);
    let tasks: Vec<_> = per_task
        .into_iter()
        .enumerate()
        .map(|(t, ops)| {
            let world = world.clone();
            tokio::spawn(async move { run_task(&world, t, ops).await })
        })
        .collect();
    let mut answers = Vec::new();
    for task in tasks {
        answers.extend(task.await.expect("a workload task panicked"));
    }
    let world = std::sync::Arc::into_inner(world).expect("the tasks are done");
    eprintln!("workload seed {seed}: {}", tally(&answers));
    Run {
        seed,
        world,
        answers,
    }
}

/// How many operations got each kind of answer, for the log: a run whose
/// operations were all refused would prove little.
fn tally(answers: &[(Op, Answer)]) -> String {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for (_, answer) in answers {
        let kind = match answer {
            Answer::Refused(e) => match e {
                ServiceError::Validation(fields) => format!("refused {}", fields[0].code),
                other => format!("refused {}", other.code()),
            },
            other => format!("{other:?}")
                .split([' ', '{', '('])
                .next()
                .unwrap_or_default()
                .to_owned(),
        };
        *counts.entry(kind).or_default() += 1;
    }
    counts
        .iter()
        .map(|(kind, n)| format!("{kind} {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

async fn world(db: &TestDb) -> World {
    let (s, other) = two_processes(db).await;
    let admin = account(&s, "admin", Role::MunicipalAdmin, None).await;
    let lab = account(&s, "lab", Role::ServiceProvider, None).await;
    let reviewers = [
        account(&s, "rev.a", Role::DistrictReviewer, Some(District::Nanshan)).await,
        account(&s, "rev.b", Role::DistrictReviewer, Some(District::Nanshan)).await,
    ];
    let instrument = |quota| InstrumentInput {
        name: "A100".into(),
        kind: "gpu_server".into(),
        institution: "深圳大学算力中心".into(),
        district: "nanshan".into(),
        slot_minutes: 60,
        opens: "09:00".into(),
        closes: "21:00".into(),
        open_days: "12345".into(),
        quota_hours_week: quota,
        requires_approval: false,
        cancel_notice_hours: 24,
        no_show_grace_minutes: 15,
        ..Default::default()
    };
    let open = s
        .create_instrument(&lab, &instrument(None))
        .await
        .unwrap()
        .id;
    let rationed = s
        .create_instrument(&lab, &instrument(Some(QUOTA_HOURS)))
        .await
        .unwrap()
        .id;
    let mut flats = Vec::new();
    for n in 0..FLATS {
        let unit = HousingUnitInput {
            district: "nanshan".into(),
            community_id: None,
            address: "人才公寓1栋".into(),
            code: format!("W-{n}"),
            kind: "apartment".into(),
            area_m2: 35,
            market_rent_fen: 300_000,
            active: None,
        };
        flats.push(s.create_housing_unit(&admin, &unit).await.unwrap().id);
    }
    // Room for half the applicants' full subsidies.
    let budget_total = (FOUNDERS as i64 / 2) * FULL_SUBSIDY;
    s.create_budget(
        &admin,
        &BudgetInput {
            programme: "sz.housing.subsidy".into(),
            year: opcity_domain::today_in_shanghai(s.now()).year(),
            authority: "nanshan".into(),
            total_fen: budget_total,
        },
    )
    .await
    .unwrap();
    let mut founders = Vec::new();
    let mut applications = Vec::new();
    for n in 0..FOUNDERS {
        let f = founder_with_enterprise(&s, &admin, &format!("founder{n}"), 7_000 + n).await;
        let app = s
            .create_application(
                &f.actor,
                &NewApplication {
                    programme: "sz.housing.subsidy".into(),
                    idempotency_key: Some("workload".into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        crate::supply_evidence(&s, &f.actor, app.id).await;
        s.submit_application(&f.actor, app.id).await.unwrap();
        founders.push(f);
        applications.push(app.id);
    }
    World {
        s,
        other,
        admin,
        lab,
        reviewers,
        open,
        rationed,
        flats,
        founders,
        applications,
        budget_total,
    }
}

/// A Monday far enough ahead that no booking is late or in the past.
fn monday() -> NaiveDate {
    NaiveDate::from_ymd_opt(2030, 5, 6).expect("a date")
}

async fn run_task(w: &World, task: usize, ops: Vec<Op>) -> Vec<(Op, Answer)> {
    let mut booked: Vec<i64> = Vec::new();
    let mut leased: Vec<i64> = Vec::new();
    let mut answers = Vec::with_capacity(ops.len());
    for (i, op) in ops.into_iter().enumerate() {
        // Alternate the two processes, so groups of both interleave.
        let s = if (task + i).is_multiple_of(2) {
            &w.s
        } else {
            &w.other
        };
        let answer = perform(w, s, &op, &booked, &leased).await;
        match &answer {
            Answer::Booked { id, .. } => booked.push(*id),
            Answer::Cancelled { id, .. } => booked.retain(|b| b != id),
            Answer::Leased { id, .. } => leased.push(*id),
            _ => {}
        }
        answers.push((op, answer));
    }
    answers
}

async fn perform(w: &World, s: &Services, op: &Op, booked: &[i64], leased: &[i64]) -> Answer {
    match *op {
        Op::Book {
            rationed,
            firm,
            day,
            hour,
            hours,
        } => {
            let date = monday() + Duration::days(i64::from(day));
            let asked = BookingInput {
                instrument_id: if rationed { w.rationed } else { w.open },
                enterprise_id: w.founders[firm].enterprise_id,
                start: format!("{date}T{hour:02}:00"),
                end: format!("{date}T{:02}:00", hour + hours),
                purpose: Some("workload".into()),
            };
            match s.book_instrument(&w.lab, &asked).await {
                Ok(v) => Answer::Booked {
                    asked,
                    id: v.id,
                    instrument_id: v.instrument_id,
                    enterprise_id: v.enterprise_id,
                    start: v.start_at,
                    end: v.end_at,
                },
                Err(e) => Answer::Refused(e),
            }
        }
        Op::Cancel { nth } => {
            let Some(&id) = booked.get(nth % booked.len().max(1)) else {
                return Answer::Skipped;
            };
            match s.cancel_booking(&w.lab, id).await {
                Ok(v) => Answer::Cancelled {
                    id: v.id,
                    status: v.status,
                },
                Err(e) => Answer::Refused(e),
            }
        }
        Op::Lease {
            flat,
            founder,
            start_month,
            months,
        } => {
            let start = NaiveDate::from_ymd_opt(2026, 7, 1)
                .and_then(|d| d.checked_add_months(chrono::Months::new(start_month)))
                .expect("a date");
            let asked = LeaseInput {
                housing_unit_id: w.flats[flat],
                person_id: w.founders[founder].person_id,
                enterprise_id: None,
                start: start.to_string(),
                months,
            };
            match s.allocate_housing(&w.admin, &asked).await {
                Ok(v) => Answer::Leased {
                    asked,
                    id: v.id,
                    unit: v.housing_unit_id,
                    person: v.person_id,
                    start: v.start_date,
                    months: v.months,
                },
                Err(e) => Answer::Refused(e),
            }
        }
        Op::Renew { nth, months } => {
            let Some(&id) = leased.get(nth % leased.len().max(1)) else {
                return Answer::Skipped;
            };
            match s.renew_lease(&w.admin, id, &RenewInput { months }).await {
                Ok(v) => Answer::Renewed {
                    id: v.id,
                    asked_id: id,
                    months_added: months,
                },
                Err(e) => Answer::Refused(e),
            }
        }
        Op::Approve {
            founder,
            reviewer,
            amount,
        } => {
            let asked = w.applications[founder];
            let input = ReviewInput {
                decision: Decision::Approve,
                amount_fen: Some(amount),
                scores: Default::default(),
                comment: None,
                no_conflict_declared: true,
                return_deadline: None,
            };
            match s
                .review_application(&w.reviewers[reviewer], asked, &input)
                .await
            {
                Ok(v) => Answer::Reviewed {
                    application: v.id,
                    asked,
                    state: v.state,
                    awaiting: v.awaiting_second_review,
                },
                Err(e) => Answer::Refused(e),
            }
        }
        Op::Accept { founder } => {
            let (f, asked) = (&w.founders[founder], w.applications[founder]);
            match s.accept_offer(&f.actor, asked).await {
                Ok(v) => Answer::Accepted {
                    application: v.id,
                    asked,
                },
                Err(e) => Answer::Refused(e),
            }
        }
        Op::Withdraw { founder } => {
            let (f, asked) = (&w.founders[founder], w.applications[founder]);
            match s.withdraw_application(&f.actor, asked).await {
                Ok(v) => Answer::Withdrawn {
                    application: v.id,
                    asked,
                },
                Err(e) => Answer::Refused(e),
            }
        }
    }
}

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
            let approvers: BTreeSet<i64> = reviews
                .iter()
                .filter(|r| r.decision == "approve")
                .filter(|r| app.submitted_at.is_none_or(|s| r.at >= s))
                .map(|r| r.reviewer_id)
                .collect();
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

/// `2030-05-06T09:00` as Shanghai time.
fn local(text: &str) -> DateTime<Utc> {
    let naive = chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M").expect("asked");
    naive.and_utc() - Duration::hours(8)
}
