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

use crate::fixtures::{Founder, account, approval, founder_with_enterprise};
use crate::{TestDb, two_processes};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use opcity_domain::{District, Role};
use opcity_services::spaces::housing::{LeaseInput, RenewInput};
use opcity_services::spaces::instruments::BookingInput;
use opcity_services::{Actor, ErrorCode, ServiceError, Services};
use opcity_store::entity::{benefit_grant, instrument_booking, review};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use std::collections::{BTreeMap, BTreeSet};

mod check;

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
    let open = s
        .create_instrument(&lab, &crate::gpu_instrument(None, false))
        .await
        .unwrap()
        .id;
    let rationed = s
        .create_instrument(&lab, &crate::gpu_instrument(Some(QUOTA_HOURS), false))
        .await
        .unwrap()
        .id;
    let mut flats = Vec::new();
    for n in 0..FLATS {
        flats.push(crate::nanshan_flat(&s, &admin, &format!("W-{n}")).await);
    }
    // Room for half the applicants' full subsidies.
    let budget_total = (FOUNDERS as i64 / 2) * FULL_SUBSIDY;
    crate::nanshan_housing_budget(&s, &admin, budget_total).await;
    let mut founders = Vec::new();
    let mut applications = Vec::new();
    for n in 0..FOUNDERS {
        let f = founder_with_enterprise(&s, &admin, &format!("founder{n}"), 7_000 + n).await;
        let app = crate::housing_application(&s, &f.actor, "workload").await;
        s.submit_application(&f.actor, app).await.unwrap();
        founders.push(f);
        applications.push(app);
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
                request_id: None,
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
            let input = approval(amount);
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

/// `2030-05-06T09:00` as Shanghai time.
fn local(text: &str) -> DateTime<Utc> {
    let naive = chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M").expect("asked");
    naive.and_utc() - Duration::hours(8)
}
