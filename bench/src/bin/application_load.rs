//! Load generator for applications, with p50/p99 latency: preparing
//! applications (a draft, two document uploads and the form), submitting
//! them (evidence check, the engine's pre-check with its explanation kept,
//! state change, history, notification, audit), and approving them against
//! one hot budget row that holds exactly half of them. The run fails unless
//! exactly half are approved, the rest refused for the budget, and the budget
//! reconciles with its movements.
//!
//! `cargo run --release -p opcity-bench --bin application_load -- URL CLIENTS COUNT [PROGRAMME]`
//! (URL: `sqlite://FILE` or `postgres://…/DB` of an empty database;
//! PROGRAMME defaults to `sz.housing.subsidy`).
//!
//! Each client applies for a founder of its own (CLIENTS young AI founders,
//! each with a Nanshan AI enterprise). PROGRAMME may be any programme of
//! the pack without a rubric whose conditions they meet, and whose amount
//! the reviewer may set (a fixed amount or a ceiling): the application is
//! the founder's, or the enterprise's when the programme is for
//! enterprises. A programme the city decides is first forwarded by the
//! district reviewer (timed too) and approved by a municipal administrator
//! against the municipal budget. A voucher programme (say
//! `sz.voucher.model`) is also accepted, every approved offer: acceptance
//! is what issues the voucher from the pool into the enterprise's wallet,
//! so it is timed as a phase of its own; the run then fails unless the pool
//! issued exactly the budget, the wallets hold it, and the voucher ledger
//! reconciles (`opcity vouchers reconcile`).

// The allocator the server runs with (see crates/cli/src/main.rs).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use chrono::Datelike;
use opcity_domain::{District, Role, Uscc};
use opcity_policy::{Beneficiary, DecidedBy, Delivery, EvidenceKind};
use opcity_services::accounts::NewAccount;
use opcity_services::applications::budgets::BudgetInput;
use opcity_services::applications::{Decision, NewApplication};
use opcity_services::crypto::DataKey;
use opcity_services::registry::enterprises::EnterpriseInput;
use opcity_services::registry::persons::PersonInput;
use opcity_services::{Actor, ServiceError, Services};
use opcity_store::Store;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The default: a district-decided programme with a fixed amount, two
/// documents and a form field.
const PROGRAMME: &str = "sz.housing.subsidy";

async fn account(s: &Services, name: &str, role: Role, district: Option<District>) -> Actor {
    let v = s
        .create_account(
            None,
            NewAccount {
                username: name.into(),
                display_name: name.into(),
                password: "load test password".into(),
                role,
                district,
                locale: "en".into(),
            },
        )
        .await
        .expect("account");
    s.system_actor(v.id).await.expect("actor")
}

/// A valid credit code for enterprise `n`.
fn uscc(n: usize) -> String {
    (0..)
        .find_map(|k| Uscc::complete(&format!("91440300{:08}", n * 10 + k)).ok())
        .expect("some suffix completes")
        .to_string()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn report(what: &str, mut latencies: Vec<Duration>, elapsed: Duration) {
    latencies.sort();
    println!(
        "{what}: {} in {:.2} s = {:.0}/s, p50 {:.1} ms, p99 {:.1} ms",
        latencies.len(),
        elapsed.as_secs_f64(),
        latencies.len() as f64 / elapsed.as_secs_f64(),
        percentile(&latencies, 0.50).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3
    );
}

/// Runs `work(i)` for i in 0..count on `clients` concurrent tasks.
async fn drive<F, Fut>(clients: usize, count: usize, work: F) -> (Vec<Duration>, Duration)
where
    F: Fn(usize) -> Fut + Send + Sync + Clone + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let start = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|c| {
            let work = work.clone();
            tokio::spawn(async move {
                let mut lat = Vec::new();
                let mut i = c;
                while i < count {
                    let t = Instant::now();
                    work(i).await;
                    lat.push(t.elapsed());
                    i += clients;
                }
                lat
            })
        })
        .collect();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("task"));
    }
    (all, start.elapsed())
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let url = args.get(1).expect("database URL").clone();
    let clients: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(16);
    let count: usize = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(2_000);
    let programme_id = args.get(4).map_or(PROGRAMME, String::as_str).to_owned();
    let pack = opcity_policy::Pack::load_dir(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../policies/shenzhen-2026"
    ))
    .expect("pack");
    let programme = pack
        .programme(&programme_id)
        .unwrap_or_else(|| panic!("no programme {programme_id} in the pack"));
    assert!(
        programme.rubric.is_empty(),
        "{programme_id} has a rubric: the benchmark does not score"
    );
    let for_enterprise = programme.beneficiary == Beneficiary::Enterprise;
    let municipal = programme.decided_by == DecidedBy::Municipal;
    let voucher = programme.delivery == Delivery::Voucher;
    let uploads = programme
        .evidence
        .iter()
        .filter(|e| e.kind == EvidenceKind::Document)
        .count();
    let prepared = if programme.evidence.len() > uploads {
        format!("prepared (draft + {uploads} uploads + form)")
    } else {
        format!("prepared (draft + {uploads} uploads)")
    };
    println!(
        "programme {programme_id}: decided by the {}, delivered as {}",
        if municipal { "city" } else { "district" },
        programme.delivery.name()
    );
    let store = Store::open(&url).await.expect("database");
    let documents = tempfile::tempdir().expect("documents directory");
    let s = Services::new(
        store,
        DataKey::from_base64(&DataKey::generate_base64()).expect("key"),
        pack,
    )
    .with_documents(
        opcity_services::applications::DocumentStore::local(
            documents.path(),
            opcity_services::applications::evidence::DEFAULT_MAX_BYTES,
        )
        .expect("document store"),
    );
    let admin = account(&s, "admin", Role::MunicipalAdmin, None).await;
    let reviewer = account(
        &s,
        "reviewer",
        Role::DistrictReviewer,
        Some(District::Nanshan),
    )
    .await;
    // One founder and their enterprise per client: client c applies for
    // founder c, so no applicant's history (its grants, its wallet) holds
    // more than COUNT / CLIENTS applications.
    let mut founders = Vec::new();
    for c in 0..clients {
        let name = format!("founder{c}");
        let founder = account(&s, &name, Role::Founder, None).await;
        s.create_person(
            &admin,
            &PersonInput {
                full_name: name.clone(),
                district: Some("nanshan".into()),
                birth_date: Some("1996-05-20".into()),
                works_in_ai: Some(true),
                account_id: Some(founder.account_id),
                ..Default::default()
            },
        )
        .await
        .expect("person");
        let me = s.system_actor(founder.account_id).await.expect("actor");
        // Founding a company makes the person a founder (the programme's condition).
        let enterprise = s
            .create_enterprise(
                &me,
                &EnterpriseInput {
                    uscc: uscc(c),
                    name: format!("Load AI {c}"),
                    district: "nanshan".into(),
                    ai_business: Some(true),
                    ..Default::default()
                },
            )
            .await
            .expect("enterprise")
            .id;
        let founder = s.system_actor(founder.account_id).await.expect("actor");
        founders.push((founder, enterprise));
    }
    let founders = Arc::new(founders);
    // Who approves: the district's reviewer, or the city's administrator.
    let approver = if municipal {
        admin.clone()
    } else {
        reviewer.clone()
    };
    let year = opcity_domain::today_in_shanghai(s.now()).year();
    // Room for exactly half the approvals: the rest must be refused, never overspent.
    let amount = 100_000i64;
    s.create_budget(
        &admin,
        &BudgetInput {
            programme: programme_id.clone(),
            year,
            authority: if municipal { "municipal" } else { "nanshan" }.into(),
            total_fen: amount * (count as i64 / 2),
        },
    )
    .await
    .expect("budget");

    // Each application with the founder it is for: (application, founder).
    let ids: Arc<Mutex<Vec<(i64, usize)>>> = Arc::default();
    let (s1, f1, ids1) = (s.clone(), founders.clone(), ids.clone());
    let programme1 = programme_id.clone();
    let (lat, elapsed) = drive(clients, count, move |i| {
        let (s, founders, ids, programme) =
            (s1.clone(), f1.clone(), ids1.clone(), programme1.clone());
        async move {
            let (f, enterprise) = &founders[i % clients];
            let input = NewApplication {
                programme,
                enterprise_id: for_enterprise.then_some(*enterprise),
                idempotency_key: Some(format!("load-{i}")),
                ..Default::default()
            };
            let app = s.create_application(f, &input).await.expect("create");
            opcity_testkit::supply_evidence(&s, f, app.id).await;
            ids.lock().expect("ids").push((app.id, i % clients));
        }
    })
    .await;
    report(&prepared, lat, elapsed);

    let ids = Arc::new(std::mem::take(&mut *ids.lock().expect("ids")));
    let (s1, f1, ids1) = (s.clone(), founders.clone(), ids.clone());
    let (lat, elapsed) = drive(clients, count, move |i| {
        let (s, founders, ids) = (s1.clone(), f1.clone(), ids1.clone());
        async move {
            let (id, f) = ids[i];
            let submitted = s
                .submit_application(&founders[f].0, id)
                .await
                .expect("submit");
            assert_eq!(submitted.state, "district_review");
        }
    })
    .await;
    report("submissions", lat, elapsed);

    if municipal {
        let (s1, r1, ids1) = (s.clone(), reviewer.clone(), ids.clone());
        let (lat, elapsed) = drive(clients, count, move |i| {
            let (s, r, ids) = (s1.clone(), r1.clone(), ids1.clone());
            async move {
                let forward = opcity_testkit::review(Decision::Forward, None);
                let v = s
                    .review_application(&r, ids[i].0, &forward)
                    .await
                    .expect("forward");
                assert_eq!(v.state, "municipal_review");
            }
        })
        .await;
        report("forwards to the city", lat, elapsed);
    }

    let approved = Arc::new(AtomicUsize::new(0));
    let approved_ids: Arc<Mutex<Vec<(i64, usize)>>> = Arc::default();
    let (s2, r2, approved2, approved_ids2) = (
        s.clone(),
        approver.clone(),
        approved.clone(),
        approved_ids.clone(),
    );
    let (lat, elapsed) = drive(clients, count, move |i| {
        let (s, r, ids, approved, approved_ids) = (
            s2.clone(),
            r2.clone(),
            ids.clone(),
            approved2.clone(),
            approved_ids2.clone(),
        );
        async move {
            let review = opcity_testkit::approval(amount);
            match s.review_application(&r, ids[i].0, &review).await {
                Ok(v) => {
                    assert_eq!(v.state, "approved");
                    approved.fetch_add(1, Ordering::Relaxed);
                    approved_ids.lock().expect("ids").push(ids[i]);
                }
                Err(ServiceError::Validation(f)) if f[0].code == "budget_insufficient" => {}
                Err(other) => panic!("approval {i}: {other:?}"),
            }
        }
    })
    .await;
    report("approvals against one hot budget", lat, elapsed);
    let approved = approved.load(Ordering::Relaxed);
    assert_eq!(approved, count / 2, "exactly the budget's worth approved");
    let budget = &s.list_budgets(&admin).await.expect("budgets")[0];
    assert_eq!(
        budget.reserved_fen, budget.total_fen,
        "every fen reserved, none over"
    );
    if voucher {
        // The pool holds the approvals until the offers are accepted.
        let ledger = s.reconcile_vouchers_system().await.expect("reconcile");
        assert!(ledger.clean, "voucher ledger before acceptance: {ledger:?}");
        let accepted = Arc::new(std::mem::take(&mut *approved_ids.lock().expect("ids")));
        let (s3, f3, accepted3) = (s.clone(), founders.clone(), accepted.clone());
        let (lat, elapsed) = drive(clients, accepted.len(), move |i| {
            let (s, founders, accepted) = (s3.clone(), f3.clone(), accepted3.clone());
            async move {
                let (id, f) = accepted[i];
                let v = s.accept_offer(&founders[f].0, id).await.expect("accept");
                assert_eq!(v.state, "disbursing");
            }
        })
        .await;
        report(
            "acceptances (voucher issued from the pool into a wallet)",
            lat,
            elapsed,
        );
    }
    let budget = &s.list_budgets(&admin).await.expect("budgets")[0];
    assert_eq!(
        budget.reserved_fen, budget.total_fen,
        "the budget's commitment stays whole"
    );
    let problems = opcity_store::budget::reconcile(s.store().db())
        .await
        .expect("reconcile");
    assert!(problems.is_empty(), "budget reconciliation: {problems:?}");
    println!(
        "budget: total {} reserved {}; {approved} approved, {} refused for the budget; reconciled",
        budget.total_fen,
        budget.reserved_fen,
        count - approved
    );
    if voucher {
        let pools = s.voucher_pools(&admin).await.expect("pools");
        let pool = pools
            .iter()
            .find(|p| p.kind == programme_id)
            .expect("the pool");
        assert_eq!(
            (pool.issued_fen, pool.returned_fen, pool.reserved_fen),
            (budget.total_fen, 0, budget.total_fen),
            "the pool issued exactly its budget"
        );
        let (mut credited, mut available) = (0, 0);
        for (f, enterprise) in founders.iter() {
            let wallet = s.wallet(f, *enterprise).await.expect("wallet");
            credited += wallet.wallets.iter().map(|w| w.credited_fen).sum::<i64>();
            available += wallet.wallets.iter().map(|w| w.available_fen).sum::<i64>();
        }
        assert_eq!(
            (credited, available),
            (budget.total_fen, budget.total_fen),
            "the wallets hold what was issued"
        );
        let ledger = s.reconcile_vouchers_system().await.expect("reconcile");
        assert!(ledger.clean, "voucher ledger: {ledger:?}");
        println!(
            "vouchers: {} issued into the wallets from the pool; {} ledger accounts, {} transfers; reconciled",
            pool.issued_fen, ledger.accounts, ledger.transfers
        );
    }
}
