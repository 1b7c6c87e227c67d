//! A storm on one voucher pool, on both backends (seed printed; set
//! `OPCITY_STORM_SEED` to replay): founders' model-voucher applications of
//! random amounts are approved all at once against a pool that cannot hold
//! them all, then accepted, declined and clawed back at once in a random
//! mix. A reference model says what must follow:
//! - every approval answers for its own application, and those approved
//!   never hold more than the pool;
//! - each accepted voucher is issued once, for its approved amount, into
//!   its own enterprise's wallet, and each declined one leaves nothing;
//! - a claw-back takes back what was issued and unused;
//! - the budget's commitment equals the pool's ledger plus what approved
//!   applications still hold, and the ledger and the budget reconcile.

use chrono::Datelike;
use opcity_domain::{District, Role};
use opcity_services::applications::budgets::BudgetInput;
use opcity_services::applications::{Decision, NewApplication};
use opcity_services::{Actor, ServiceError, Services};
use opcity_testkit::{FounderSpec, account, each_backend, founder, review, supply_evidence};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::BTreeMap;

const FOUNDERS: usize = 16;
const KIND: &str = "sz.voucher.model";

fn seed() -> u64 {
    let seed = std::env::var("OPCITY_STORM_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random);
    eprintln!("voucher delivery storm: OPCITY_STORM_SEED={seed}");
    seed
}

/// What the founder does with an approved offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    Accept,
    Decline,
    /// Accept, then the city claws it back.
    AcceptThenClawBack,
}

struct Applicant {
    founder: Actor,
    enterprise: i64,
    application: i64,
    amount_fen: i64,
}

/// `FOUNDERS` founders, each with a model-voucher application forwarded to
/// the city for a random amount below the second-review line.
async fn applicants(s: &Services, admin: &Actor, rng: &mut StdRng) -> Vec<Applicant> {
    let reviewer = account(s, "rev", Role::DistrictReviewer, Some(District::Nanshan)).await;
    let mut out = Vec::new();
    for n in 0..FOUNDERS {
        let f = founder(
            s,
            admin,
            FounderSpec::young_ai(&format!("founder{n:02}"), n),
        )
        .await
        .actor;
        let enterprise = f.enterprise_ids[0];
        let app = s
            .create_application(
                &f,
                &NewApplication {
                    programme: KIND.into(),
                    enterprise_id: Some(enterprise),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        supply_evidence(s, &f, app.id).await;
        s.submit_application(&f, app.id).await.unwrap();
        s.review_application(&reviewer, app.id, &review(Decision::Forward, None))
            .await
            .unwrap();
        out.push(Applicant {
            founder: f,
            enterprise,
            application: app.id,
            // ¥10,000 to ¥900,000 in whole yuan.
            amount_fen: rng.random_range(10_000..=900_000) * 100,
        });
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_voucher_approvals_and_deliveries_never_overissue_the_pool() {
    each_backend(async |db| {
        let mut rng = StdRng::seed_from_u64(seed());
        let s = opcity_testkit::services(db);
        let admin = account(&s, "admin", Role::MunicipalAdmin, None).await;
        let people = applicants(&s, &admin, &mut rng).await;
        let asked: i64 = people.iter().map(|p| p.amount_fen).sum();
        // Room for about half of what is asked.
        let total = asked / 2;
        let year = opcity_domain::today_in_shanghai(s.now()).year();
        s.create_budget(
            &admin,
            &BudgetInput {
                programme: KIND.into(),
                year,
                authority: "municipal".into(),
                total_fen: total,
            },
        )
        .await
        .unwrap();

        // All approvals at once.
        let answers = opcity_testkit::race(people.len(), |i| {
            let (s, admin) = (s.clone(), admin.clone());
            let (id, amount) = (people[i].application, people[i].amount_fen);
            async move {
                s.review_application(&admin, id, &review(Decision::Approve, Some(amount)))
                    .await
            }
        })
        .await;
        let mut approved = BTreeMap::new();
        for (p, answer) in people.iter().zip(answers) {
            match answer {
                Ok(view) => {
                    assert_eq!(view.id, p.application, "an answer for another application");
                    assert_eq!(view.approved_fen, Some(p.amount_fen));
                    approved.insert(p.application, p);
                }
                Err(ServiceError::Validation(fields)) => {
                    assert_eq!(fields[0].code, "budget_insufficient", "{fields:?}");
                }
                Err(other) => panic!("unexpected refusal: {other:?}"),
            }
        }
        let held: i64 = approved.values().map(|p| p.amount_fen).sum();
        assert!(held <= total, "approved {held} of a {total} pool");
        assert!(!approved.is_empty());
        assert!(s.reconcile_vouchers_system().await.unwrap().clean);

        // All answers at once, in a random mix.
        let plan: Vec<(&Applicant, Answer)> = approved
            .values()
            .map(|p| {
                let answer = match rng.random_range(0..3) {
                    0 => Answer::Accept,
                    1 => Answer::Decline,
                    _ => Answer::AcceptThenClawBack,
                };
                (*p, answer)
            })
            .collect();
        let outcomes = opcity_testkit::race(plan.len(), |i| {
            let (s, admin) = (s.clone(), admin.clone());
            let (p, answer) = plan[i];
            let (founder, id) = (p.founder.clone(), p.application);
            async move {
                match answer {
                    Answer::Decline => s.withdraw_application(&founder, id).await,
                    Answer::Accept => s.accept_offer(&founder, id).await,
                    Answer::AcceptThenClawBack => {
                        s.accept_offer(&founder, id).await?;
                        s.claw_back(&admin, id, Some("storm")).await
                    }
                }
            }
        })
        .await;
        let mut issued = 0;
        for ((p, answer), outcome) in plan.iter().zip(outcomes) {
            let view = outcome.unwrap_or_else(|e| panic!("{answer:?} of {}: {e:?}", p.application));
            assert_eq!(view.id, p.application, "an answer for another application");
            let expected = match answer {
                Answer::Accept => "disbursing",
                Answer::Decline => "withdrawn",
                Answer::AcceptThenClawBack => "clawed_back",
            };
            assert_eq!(view.state, expected);
            let wallet = s.wallet(&p.founder, p.enterprise).await.unwrap();
            let available: i64 = wallet.wallets.iter().map(|w| w.available_fen).sum();
            let credited: i64 = wallet.wallets.iter().map(|w| w.credited_fen).sum();
            match answer {
                Answer::Accept => {
                    assert_eq!((credited, available), (p.amount_fen, p.amount_fen));
                    issued += p.amount_fen;
                }
                Answer::Decline => assert_eq!(credited, 0),
                Answer::AcceptThenClawBack => {
                    assert_eq!((credited, available), (p.amount_fen, 0));
                }
            }
        }

        // The pool's books: the budget's commitment is what wallets hold.
        let pools = s.voucher_pools(&admin).await.unwrap();
        let pool = pools.iter().find(|p| p.kind == KIND).unwrap();
        assert_eq!(pool.total_fen, total);
        assert_eq!(pool.reserved_fen, issued);
        assert_eq!(pool.issued_fen - pool.returned_fen, issued);
        let ledger = s.reconcile_vouchers_system().await.unwrap();
        assert!(ledger.clean, "{ledger:?}");
        let budgets = opcity_store::budget::reconcile(s.store().db())
            .await
            .unwrap();
        assert!(budgets.is_empty(), "{budgets:?}");
    })
    .await;
}
