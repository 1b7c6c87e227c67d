//! Voucher ledger throughput (see `bench/vouchers/README.md`).
//!
//! Scenarios, on SQLite and (when `OPCITY_TEST_POSTGRES_URL` is set)
//! PostgreSQL, each on a fresh database:
//! - `spread`: 20 concurrent clients, one transfer at a time each
//!   (`ledger::submit`, which group-commits concurrent transfers), between
//!   random pairs of 50 wallets (low contention);
//! - `hot`: 20 concurrent clients, one transfer at a time each, every transfer
//!   debiting the same wallet;
//! - `batch`: one client, many transfers per commit (`ledger::submit_batch`)
//!   between random pairs of the 50 wallets.
//!
//! Every transfer goes through the real guard (conditional UPDATEs, CHECK
//! constraints, immutable rows, idempotency lookup). After each scenario the
//! ledger is reconciled, so a fast but wrong run cannot pass unnoticed.
//!
//! `cargo run --release -p opcity-bench --bin ledger_bench [-- TRANSFERS_PER_CLIENT BATCH_SIZE BATCHES]`
//! (`LEDGER_BENCH_ONLY=postgres-spread`, say, runs only the runs whose
//! backend-scenario name contains it).

// The allocator the server runs with (see crates/cli/src/main.rs).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use chrono::Utc;
use opcity_store::Store;
use opcity_store::ledger::{self, NewAccount, NewTransfer, Op};
use opcity_testkit::TestDb;
use std::time::Instant;

const LEDGER: &str = "sz.voucher.model";
const WALLETS: usize = 50;
const CLIENTS: usize = 20;

fn lcg(seed: &mut u64) -> u64 {
    *seed = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    *seed >> 33
}

/// A pool and 50 funded wallets (wallets may not overdraw).
async fn accounts(store: &Store) -> Vec<i64> {
    let tx = store.begin().await.unwrap();
    let new = |code: String, kind: &'static str, guarded: bool| NewAccount {
        code,
        ledger: LEDGER.into(),
        kind,
        enterprise_id: None,
        provider_id: None,
        budget_id: None,
        valid_until: None,
        debits_must_not_exceed_credits: guarded,
        credits_must_not_exceed_debits: false,
        at: Utc::now(),
    };
    let pool = ledger::open_account(&tx, new("pool".into(), "pool", false))
        .await
        .unwrap()
        .id;
    let mut wallets = Vec::new();
    for i in 0..WALLETS {
        wallets.push(
            ledger::open_account(&tx, new(format!("wallet{i}"), "wallet", true))
                .await
                .unwrap()
                .id,
        );
    }
    tx.commit().await.unwrap();
    let funding: Vec<NewTransfer> = wallets
        .iter()
        .map(|w| transfer(format!("fund{w}"), pool, *w, 1_000_000_000_000))
        .collect();
    ledger::submit_batch(store, &funding).await.unwrap();
    wallets
}

fn transfer(id: String, debit: i64, credit: i64, amount_fen: i64) -> NewTransfer {
    NewTransfer {
        body_hash: ledger::hash_body(&(debit, credit, amount_fen)),
        id,
        op: Op::Posted {
            ledger: LEDGER.into(),
            debit,
            credit,
            amount_fen,
            credit_limit: None,
        },
        kind: "spend".into(),
        reference: None,
        contract_amount_fen: None,
        use_kind: None,
        actor: "bench".into(),
        at: Utc::now(),
    }
}

/// `CLIENTS` clients each committing `per_client` single transfers; `hot`
/// makes every transfer debit the first wallet.
async fn concurrent(store: &Store, wallets: &[i64], per_client: usize, hot: bool) -> f64 {
    let started = Instant::now();
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let (store, wallets) = (store.clone(), wallets.to_vec());
            tokio::spawn(async move {
                let mut seed = 0xbe7c_0000 + c as u64;
                for n in 0..per_client {
                    let d = if hot {
                        0
                    } else {
                        lcg(&mut seed) as usize % wallets.len()
                    };
                    let mut cr = lcg(&mut seed) as usize % wallets.len();
                    if cr == d {
                        cr = (cr + 1) % wallets.len();
                    }
                    let amount = 1 + (lcg(&mut seed) % 10_000) as i64;
                    let t = transfer(format!("{hot}-{c}-{n}"), wallets[d], wallets[cr], amount);
                    ledger::submit(&store, &t).await.expect("transfer");
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    (CLIENTS * per_client) as f64 / started.elapsed().as_secs_f64()
}

async fn batches(store: &Store, wallets: &[i64], size: usize, count: usize) -> f64 {
    let mut seed = 0xba7c_0000;
    let all: Vec<Vec<NewTransfer>> = (0..count)
        .map(|b| {
            (0..size)
                .map(|n| {
                    let d = lcg(&mut seed) as usize % wallets.len();
                    let cr =
                        (d + 1 + lcg(&mut seed) as usize % (wallets.len() - 1)) % wallets.len();
                    let amount = 1 + (lcg(&mut seed) % 10_000) as i64;
                    transfer(format!("batch-{b}-{n}"), wallets[d], wallets[cr], amount)
                })
                .collect()
        })
        .collect();
    let started = Instant::now();
    for batch in &all {
        ledger::submit_batch(store, batch).await.expect("batch");
    }
    (size * count) as f64 / started.elapsed().as_secs_f64()
}

async fn scenario(db: &TestDb, name: &str, run: impl AsyncFnOnce(&Store, &[i64]) -> f64) {
    let wallets = accounts(&db.store).await;
    let rate = run(&db.store, &wallets).await;
    let rec = ledger::reconcile(db.store.db()).await.unwrap();
    assert!(rec.is_clean(), "{name}: {rec:?}");
    println!(
        "{:<9} {:<8} {:>10.0} transfers/s   (reconciled: {} transfers)",
        format!("{:?}", db.backend()),
        name,
        rate,
        rec.transfers
    );
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let per_client = args.first().copied().unwrap_or(500);
    let batch_size = args.get(1).copied().unwrap_or(5_000);
    let batch_count = args.get(2).copied().unwrap_or(20);
    println!(
        "{CLIENTS} clients x {per_client} transfers; batches of {batch_size} x {batch_count}; {WALLETS} wallets"
    );
    let mut backends = vec![None];
    if let Some(url) = opcity_testkit::postgres_url() {
        backends.push(Some(url));
    }
    // e.g. LEDGER_BENCH_ONLY=postgres-spread: the runs whose name contains it.
    let only = std::env::var("LEDGER_BENCH_ONLY").unwrap_or_default();
    for pg in backends {
        for name in ["spread", "hot", "batch"] {
            let backend = if pg.is_some() { "postgres" } else { "sqlite" };
            if !format!("{backend}-{name}").contains(&only) {
                continue;
            }
            let db = match &pg {
                None => TestDb::sqlite().await,
                Some(url) => TestDb::postgres(url).await,
            };
            match name {
                "spread" => {
                    scenario(&db, name, async |s, w| {
                        concurrent(s, w, per_client, false).await
                    })
                    .await
                }
                "hot" => {
                    scenario(&db, name, async |s, w| {
                        concurrent(s, w, per_client, true).await
                    })
                    .await
                }
                _ => {
                    scenario(&db, name, async |s, w| {
                        batches(s, w, batch_size, batch_count).await
                    })
                    .await
                }
            }
            db.cleanup().await;
        }
    }
}
