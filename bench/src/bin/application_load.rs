//! Load generator for applications, with p50/p99 latency: preparing
//! applications (a draft, two document uploads and the form), submitting
//! them (evidence check, the engine's pre-check with its explanation kept,
//! state change, history, notification, audit), and approving them against
//! one hot budget row that holds exactly half of them. The run fails unless
//! exactly half are approved, the rest refused for the budget, and the budget
//! reconciles with its movements.
//!
//! `cargo run --release -p opcity-bench --bin application_load -- URL CLIENTS COUNT`
//! (URL: `sqlite://FILE` or `postgres://…/DB` of an empty database).

// The allocator the server runs with (see crates/cli/src/main.rs).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use chrono::Datelike;
use opcity_domain::{District, Role};
use opcity_services::accounts::NewAccount;
use opcity_services::applications::budgets::BudgetInput;
use opcity_services::applications::{Decision, NewApplication, ReviewInput};
use opcity_services::crypto::DataKey;
use opcity_services::registry::enterprises::EnterpriseInput;
use opcity_services::registry::persons::PersonInput;
use opcity_services::{Actor, ServiceError, Services};
use opcity_store::Store;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A district-decided programme with a fixed amount, two documents and a
/// form field.
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
    let pack = opcity_policy::Pack::load_dir(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../policies/shenzhen-2026"
    ))
    .expect("pack");
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
    let founder = account(&s, "founder", Role::Founder, None).await;
    s.create_person(
        &admin,
        &PersonInput {
            full_name: "load".into(),
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
    s.create_enterprise(
        &me,
        &EnterpriseInput {
            uscc: "91440300708461136T".into(),
            name: "Load AI".into(),
            district: "nanshan".into(),
            ai_business: Some(true),
            ..Default::default()
        },
    )
    .await
    .expect("enterprise");
    let founder = s.system_actor(founder.account_id).await.expect("actor");
    let year = opcity_domain::today_in_shanghai(s.now()).year();
    // Room for exactly half the approvals: the rest must be refused, never overspent.
    let amount = 100_000i64;
    s.create_budget(
        &admin,
        &BudgetInput {
            programme: PROGRAMME.into(),
            year,
            authority: "nanshan".into(),
            total_fen: amount * (count as i64 / 2),
        },
    )
    .await
    .expect("budget");

    let ids: Arc<Mutex<Vec<i64>>> = Arc::default();
    let (s1, f1, ids1) = (s.clone(), founder.clone(), ids.clone());
    let (lat, elapsed) = drive(clients, count, move |i| {
        let (s, f, ids) = (s1.clone(), f1.clone(), ids1.clone());
        async move {
            let input = NewApplication {
                programme: PROGRAMME.into(),
                idempotency_key: Some(format!("load-{i}")),
                ..Default::default()
            };
            let app = s.create_application(&f, &input).await.expect("create");
            opcity_testkit::supply_evidence(&s, &f, app.id).await;
            ids.lock().expect("ids").push(app.id);
        }
    })
    .await;
    report("prepared (draft + 2 uploads + form)", lat, elapsed);

    let ids = Arc::new(std::mem::take(&mut *ids.lock().expect("ids")));
    let (s1, f1, ids1) = (s.clone(), founder.clone(), ids.clone());
    let (lat, elapsed) = drive(clients, count, move |i| {
        let (s, f, ids) = (s1.clone(), f1.clone(), ids1.clone());
        async move {
            let submitted = s.submit_application(&f, ids[i]).await.expect("submit");
            assert_eq!(submitted.state, "district_review");
        }
    })
    .await;
    report("submissions", lat, elapsed);

    let approved = Arc::new(AtomicUsize::new(0));
    let (s2, r2, approved2) = (s.clone(), reviewer.clone(), approved.clone());
    let (lat, elapsed) = drive(clients, count, move |i| {
        let (s, r, ids, approved) = (s2.clone(), r2.clone(), ids.clone(), approved2.clone());
        async move {
            let review = ReviewInput {
                decision: Decision::Approve,
                amount_fen: Some(amount),
                scores: Default::default(),
                comment: None,
                no_conflict_declared: true,
                return_deadline: None,
                applicant_reason: None,
            };
            match s.review_application(&r, ids[i], &review).await {
                Ok(v) => {
                    assert_eq!(v.state, "approved");
                    approved.fetch_add(1, Ordering::Relaxed);
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
}
