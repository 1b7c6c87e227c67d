//! The races a hostile tester found through the HTTP API, each on both
//! backends: a booking answered to another request of its group, the
//! housing subsidy and transitional housing held at once, lost updates of
//! concurrent lease renewals, and a four-eyes application left waiting
//! after two reviewers approved it at the same moment.

use opcity_domain::{District, Role};
use opcity_services::registry::enterprises::EnterpriseInput;
use opcity_services::spaces::housing::{LeaseInput, RenewInput};
use opcity_services::spaces::instruments::{BookingInput, BookingView};
use opcity_services::{Actor, ServiceError, Services};
use opcity_store::entity::{benefit_grant, review};
use opcity_store::sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use opcity_testkit::{
    Founder, account, approval, each_backend, founder_with_enterprise, race, uscc,
};

fn code(err: &ServiceError) -> String {
    match err {
        ServiceError::Validation(fields) => fields[0].code.to_string(),
        other => other.code().to_string(),
    }
}

/// `count` enterprises in Nanshan recorded by `admin`; their ids.
async fn enterprises(s: &Services, admin: &Actor, count: usize) -> Vec<i64> {
    let mut ids = Vec::with_capacity(count);
    for n in 0..count {
        let e = s
            .create_enterprise(
                admin,
                &EnterpriseInput {
                    uscc: uscc(1_000 + n),
                    name: format!("Firm {n}"),
                    district: "nanshan".into(),
                    ai_business: Some(true),
                    size: Some("micro".into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        ids.push(e.id);
    }
    ids
}

/// Issue 15 (1): in one group, bookings with one start and different ends
/// were matched back to their requests by instrument and start only, so a
/// request was answered with another's booking. Many bookings of an
/// instrument without a quota share starts and differ in their ends, from
/// two processes: every booking answered is the request's own (enterprise,
/// interval), the bookings held are pairwise disjoint and each was answered
/// to exactly one request, and every refusal names a holding that overlaps
/// the request.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bookings_that_share_a_start_are_each_answered_with_their_own() {
    each_backend(async |db| {
        let (s, other) = opcity_testkit::two_processes(db).await;
        let admin = account(&s, "admin", Role::MunicipalAdmin, None).await;
        let lab = account(&s, "lab", Role::ServiceProvider, None).await;
        let gpus = [
            s.create_instrument(&lab, &opcity_testkit::gpu_instrument(None, false))
                .await
                .unwrap()
                .id,
            s.create_instrument(&lab, &opcity_testkit::gpu_instrument(None, false))
                .await
                .unwrap()
                .id,
        ];
        let firms = enterprises(&s, &admin, 12).await;
        // 2030-05-06 is a Monday. Triples on two instruments, five days and
        // four blocks of three hours from S: [S+1, S+2), [S, S+2), [S, S+1).
        // Wherever a group holds them in that order, the long one is
        // skipped for the first, and the short one of the same start fits.
        // Three weeks, one race each.
        let request = |week: usize, i: usize| {
            let (triple, which) = (i / 3, i % 3);
            let day = 6 + 7 * week + (triple / 2) % 5;
            let (gpu, block) = (gpus[triple % 2], triple / 10);
            let s = 9 + 3 * block as u32;
            let (start, end) = [(s + 1, s + 2), (s, s + 2), (s, s + 1)][which];
            BookingInput {
                instrument_id: gpu,
                enterprise_id: firms[i % firms.len()],
                start: format!("2030-05-{day:02}T{start:02}:00"),
                end: format!("2030-05-{day:02}T{end:02}:00"),
                purpose: Some("训练".into()),
            }
        };
        let mut booked: Vec<BookingView> = Vec::new();
        for week in 0..3 {
            let outcomes = race(120, |i| {
                // A triple's bookings queue in one process, to share its group.
                let s = if (i / 3) % 2 == 0 {
                    s.clone()
                } else {
                    other.clone()
                };
                let (lab, input) = (lab.clone(), request(week, i));
                async move { s.book_instrument(&lab, &input).await }
            })
            .await;
            for (i, outcome) in outcomes.into_iter().enumerate() {
                let asked = request(week, i);
                match outcome {
                    Ok(view) => {
                        let echoed = (
                            view.enterprise_id,
                            view.start_at.to_rfc3339(),
                            view.end_at.to_rfc3339(),
                        );
                        let wanted = (
                            asked.enterprise_id,
                            shanghai(&asked.start).to_rfc3339(),
                            shanghai(&asked.end).to_rfc3339(),
                        );
                        assert_eq!(
                            echoed, wanted,
                            "week {week}: request {i} got another's booking"
                        );
                        booked.push(view);
                    }
                    Err(ServiceError::Taken {
                        held_id,
                        held_from,
                        held_until,
                        ..
                    }) => {
                        assert!(
                            held_from < shanghai(&asked.end) && shanghai(&asked.start) < held_until,
                            "request {i} refused by #{held_id}, which does not overlap it"
                        );
                    }
                    Err(other) => panic!("request {i}: {other:?}"),
                }
            }
        }
        let mut ids: Vec<i64> = booked.iter().map(|b| b.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), booked.len(), "one booking answered twice");
        let mut held = s.list_bookings(&admin, None).await.unwrap();
        held.sort_by_key(|b| (b.instrument_id, b.start_at));
        assert_eq!(held.len(), booked.len(), "every booking held was answered");
        for (a, b) in held.iter().zip(held.iter().skip(1)) {
            // Sorted by start: each ends before the next of its instrument.
            let apart = a.instrument_id != b.instrument_id || a.end_at <= b.start_at;
            assert!(apart, "#{} and #{} overlap", a.id, b.id);
        }
        // Each triple holds one or two bookings.
        assert!((120..=240).contains(&booked.len()), "{}", booked.len());
        assert!(s.verify_audit_log().await.unwrap().problems.is_empty());
    })
    .await;
}

/// `2030-05-06T09:00` read as Shanghai time.
fn shanghai(local: &str) -> chrono::DateTime<chrono::Utc> {
    let naive = chrono::NaiveDateTime::parse_from_str(local, "%Y-%m-%dT%H:%M").unwrap();
    naive.and_utc() - chrono::Duration::hours(8)
}

/// Everything a housing-subsidy story needs: an administrator, two
/// Nanshan reviewers, and a budget with room for `subsidies` full subsidies.
struct Housing {
    s: Services,
    admin: Actor,
    reviewers: [Actor; 2],
}

/// The full subsidy: 24 months of 1,250 yuan, above the second-review line.
const FULL_SUBSIDY: i64 = 3_000_000;

async fn housing(s: &Services, subsidies: i64) -> Housing {
    let admin = account(s, "admin", Role::MunicipalAdmin, None).await;
    let reviewers = [
        account(s, "rev.a", Role::DistrictReviewer, Some(District::Nanshan)).await,
        account(s, "rev.b", Role::DistrictReviewer, Some(District::Nanshan)).await,
    ];
    opcity_testkit::nanshan_housing_budget(s, &admin, subsidies * FULL_SUBSIDY).await;
    Housing {
        s: s.clone(),
        admin,
        reviewers,
    }
}

impl Housing {
    /// A founder numbered `n` with a submitted housing-subsidy application.
    async fn applicant(&self, n: usize) -> (Founder, i64) {
        let s = &self.s;
        let f = founder_with_enterprise(s, &self.admin, &format!("founder{n}"), n).await;
        let app = opcity_testkit::housing_application(s, &f.actor, "k").await;
        s.submit_application(&f.actor, app).await.unwrap();
        (f, app)
    }

    /// Both reviewers approve, one after the other: the offer stands.
    async fn offered(&self, n: usize) -> (Founder, i64) {
        let (f, id) = self.applicant(n).await;
        for r in &self.reviewers {
            self.s
                .review_application(r, id, &approval(FULL_SUBSIDY))
                .await
                .unwrap();
        }
        (f, id)
    }

    async fn flat(&self, code: &str) -> i64 {
        opcity_testkit::nanshan_flat(&self.s, &self.admin, code).await
    }

    async fn lease(&self, unit: i64, person: i64, months: i32) -> Result<i64, ServiceError> {
        self.s
            .allocate_housing(
                &self.admin,
                &LeaseInput {
                    housing_unit_id: unit,
                    person_id: person,
                    enterprise_id: None,
                    start: "2026-07-01".into(),
                    months,
                    request_id: None,
                },
            )
            .await
            .map(|l| l.id)
    }
}

/// The programmes granted to `subject`.
async fn granted(s: &Services, subject: String) -> Vec<String> {
    benefit_grant::Entity::find()
        .filter(benefit_grant::Column::Subject.eq(subject))
        .all(s.store().db())
        .await
        .unwrap()
        .into_iter()
        .map(|g| g.programme)
        .collect()
}

/// Issue 15 (2): accepting a housing-subsidy offer recorded its grant
/// without the exclusion check and the person's turn that every other grant
/// takes. A lease allocated first now refuses the acceptance; raced, at
/// most one of the two stands for each person.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_housing_subsidy_and_transitional_housing_never_stand_together() {
    each_backend(async |db| {
        let s = opcity_testkit::services(db);
        let h = housing(&s, 7).await;

        // One after the other: the lease first, then the acceptance.
        let (ana, offer) = h.offered(0).await;
        let flat = h.flat("A-100").await;
        h.lease(flat, ana.person_id, 12).await.unwrap();
        let refused = s.accept_offer(&ana.actor, offer).await.unwrap_err();
        assert_eq!(code(&refused), "excluded_by_grant", "{refused:?}");
        let detail = s.get_application(&ana.actor, offer).await.unwrap();
        assert_eq!(detail.application.state, "approved", "nothing moved");
        assert!(detail.disbursements.is_empty(), "nothing scheduled");
        assert_eq!(
            granted(&s, format!("person:{}", ana.person_id)).await,
            ["sz.housing.transitional"]
        );

        // Raced, person by person: exactly one of the two stands.
        let mut people = Vec::new();
        for n in 1..7 {
            let (f, offer) = h.offered(n).await;
            let flat = h.flat(&format!("B-{n}")).await;
            people.push((f, offer, flat));
        }
        let outcomes = race(people.len() * 2, |i| {
            let (f, offer, flat) = people[i / 2].clone();
            let (s, h_admin) = (s.clone(), h.admin.clone());
            async move {
                if i % 2 == 0 {
                    s.accept_offer(&f.actor, offer).await.map(|_| ())
                } else {
                    s.allocate_housing(
                        &h_admin,
                        &LeaseInput {
                            housing_unit_id: flat,
                            person_id: f.person_id,
                            enterprise_id: None,
                            start: "2026-07-01".into(),
                            months: 12,
                            request_id: None,
                        },
                    )
                    .await
                    .map(|_| ())
                }
            }
        })
        .await;
        for (n, pair) in outcomes.chunks(2).enumerate() {
            let stood = pair.iter().filter(|o| o.is_ok()).count();
            assert_eq!(stood, 1, "person {n}: {pair:?}");
            for refused in pair.iter().filter_map(|o| o.as_ref().err()) {
                assert_eq!(code(refused), "excluded_by_grant", "{refused:?}");
            }
            let person = people[n].0.person_id;
            assert_eq!(granted(&s, format!("person:{person}")).await.len(), 1);
        }
        assert!(s.verify_audit_log().await.unwrap().problems.is_empty());
    })
    .await;
}

/// Issue 15 (3): a renewal read its lease before taking any lock, so
/// concurrent renewals each extended the months they had read. Sixteen
/// "+10 months" renewals of a 12-month lease within the pack's 36: exactly
/// two pass (12 → 22 → 32), the rest are refused as too long.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_renewals_of_one_lease_lose_no_update() {
    each_backend(async |db| {
        let (s, other) = opcity_testkit::two_processes(db).await;
        let h = housing(&s, 1).await;
        let tenant = founder_with_enterprise(&s, &h.admin, "tenant", 1).await;
        let flat = h.flat("C-1").await;
        let lease = h.lease(flat, tenant.person_id, 12).await.unwrap();
        let outcomes = race(16, |i| {
            let s = if i % 2 == 0 { s.clone() } else { other.clone() };
            let admin = h.admin.clone();
            async move {
                s.renew_lease(&admin, lease, &RenewInput { months: 10 })
                    .await
            }
        })
        .await;
        let renewed: Vec<i32> = outcomes
            .iter()
            .filter_map(|o| o.as_ref().ok().map(|l| l.months))
            .collect();
        let mut sorted = renewed.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, [22, 32], "{outcomes:?}");
        for refused in outcomes.iter().filter_map(|o| o.as_ref().err()) {
            assert_eq!(code(refused), "lease_too_long", "{refused:?}");
        }
        let leases = s.list_leases(&h.admin).await.unwrap();
        assert_eq!(leases[0].months, 32);
        assert!(s.verify_audit_log().await.unwrap().problems.is_empty());
    })
    .await;
}

/// Issue 15 (4): two reviewers approving one four-eyes application at the
/// same moment each missed the other's approval, and the case waited for a
/// second reviewer with two approvals recorded. Now, whether their
/// approvals meet in one group or in two processes, each application is
/// approved with exactly the two approvals and reserved once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_reviewers_approving_at_once_complete_a_four_eyes_application() {
    each_backend(async |db| {
        let (s, other) = opcity_testkit::two_processes(db).await;
        let h = housing(&s, 6).await;
        let mut ids = Vec::new();
        for n in 0..6 {
            ids.push(h.applicant(n).await.1);
        }
        let outcomes = race(ids.len() * 2, |i| {
            // Even applications: both approvals through one process (one
            // group or consecutive ones); odd: one through each.
            let app = i / 2;
            let s = if app % 2 == 1 && i % 2 == 1 {
                other.clone()
            } else {
                s.clone()
            };
            let (reviewer, id) = (h.reviewers[i % 2].clone(), ids[app]);
            async move {
                s.review_application(&reviewer, id, &approval(FULL_SUBSIDY))
                    .await
            }
        })
        .await;
        for (n, pair) in outcomes.chunks(2).enumerate() {
            let [first, second] = pair else {
                unreachable!()
            };
            let (first, second) = (first.as_ref().unwrap(), second.as_ref().unwrap());
            let approved = [first, second]
                .iter()
                .filter(|v| v.state == "approved")
                .count();
            assert_eq!(approved, 1, "application {n}: {first:?} {second:?}");
            let detail = s.get_application(&h.admin, ids[n]).await.unwrap();
            assert_eq!(detail.application.state, "approved");
            let approvals = review::Entity::find()
                .filter(review::Column::ApplicationId.eq(ids[n]))
                .filter(review::Column::Decision.eq("approve"))
                .all(s.store().db())
                .await
                .unwrap();
            assert_eq!(approvals.len(), 2, "application {n}");
        }
        let budget = &s.list_budgets(&h.admin).await.unwrap()[0];
        assert_eq!(budget.reserved_fen, 6 * FULL_SUBSIDY);
        assert!(
            opcity_store::budget::reconcile(s.store().db())
                .await
                .unwrap()
                .is_empty()
        );
    })
    .await;
}
