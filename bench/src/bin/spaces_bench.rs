//! Instrument booking throughput and latency (see `bench/spaces/run.sh`).
//!
//! `distinct`: bookings of distinct (instrument, slot) pairs by concurrent
//! workers — the common case, no conflicts. `hot`: rounds of 64 concurrent
//! attempts at one slot — exactly one wins, 63 are refused naming the
//! holder; reports attempts per second and their latency.
//!
//! Usage: `cargo run -p opcity-bench --bin spaces_bench -- [sqlite|postgres] [bookings] [workers]`
//! (PostgreSQL: `OPCITY_TEST_POSTGRES_URL` names a server whose user may
//! create databases).

// The allocator the server runs with (see crates/cli/src/main.rs).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use chrono::{Duration, TimeZone, Utc};
use opcity_domain::Role;
use opcity_services::ServiceError;
use opcity_services::accounts::NewAccount;
use opcity_services::spaces::instruments::{BookingInput, InstrumentInput};
use opcity_testkit::TestDb;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

const INSTRUMENTS: usize = 50;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

/// The `n`-th distinct slot: instruments round-robin, then hours from 2031.
fn slot(n: usize) -> (usize, String, String) {
    let base = Utc
        .with_ymd_and_hms(2031, 1, 1, 0, 0, 0)
        .single()
        .expect("valid");
    let start = base + Duration::hours((n / INSTRUMENTS) as i64);
    let end = start + Duration::hours(1);
    (n % INSTRUMENTS, start.to_rfc3339(), end.to_rfc3339())
}

fn report(label: &str, backend: &str, latencies: &mut [f64], elapsed: f64, extra: &str) {
    latencies.sort_by(|a, b| a.total_cmp(b));
    println!(
        "| {backend} | {label} | {} | {:.0}/s | {:.1} ms | {:.1} ms | {extra} |",
        latencies.len(),
        latencies.len() as f64 / elapsed,
        percentile(latencies, 0.5),
        percentile(latencies, 0.99),
    );
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let backend = args.get(1).map_or("sqlite", String::as_str).to_owned();
    let bookings: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(2_000);
    let workers: usize = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(16);
    let db = match backend.as_str() {
        "postgres" => {
            let url = opcity_testkit::postgres_url().expect("set OPCITY_TEST_POSTGRES_URL");
            TestDb::postgres(&url).await
        }
        _ => TestDb::sqlite().await,
    };
    let s = opcity_testkit::services(&db);
    let lab = s
        .create_account(
            None,
            NewAccount {
                username: "lab".into(),
                display_name: "lab".into(),
                password: "correct horse battery".into(),
                role: Role::ServiceProvider,
                district: None,
                locale: "en".into(),
            },
        )
        .await
        .expect("account");
    let lab = s.system_actor(lab.id).await.expect("actor");
    let firm = opcity_store::sea_orm::ActiveModelTrait::insert(
        opcity_store::entity::enterprise::ActiveModel {
            uscc: opcity_store::sea_orm::Set("914403000000000001".into()),
            name: opcity_store::sea_orm::Set("bench".into()),
            district: opcity_store::sea_orm::Set("nanshan".into()),
            created_at: opcity_store::sea_orm::Set(Utc::now()),
            updated_at: opcity_store::sea_orm::Set(Utc::now()),
            ..Default::default()
        },
        s.store().db(),
    )
    .await
    .expect("enterprise")
    .id;
    let mut instruments = Vec::new();
    for n in 0..INSTRUMENTS {
        let i = s
            .create_instrument(
                &lab,
                &InstrumentInput {
                    name: format!("GPU {n}"),
                    kind: "gpu_server".into(),
                    institution: "bench".into(),
                    district: "nanshan".into(),
                    slot_minutes: 60,
                    opens: "00:00".into(),
                    closes: "24:00".into(),
                    open_days: "1234567".into(),
                    cancel_notice_hours: 0,
                    no_show_grace_minutes: 15,
                    ..Default::default()
                },
            )
            .await
            .expect("instrument");
        instruments.push(i.id);
    }
    let instruments = Arc::new(instruments);
    println!("| backend | scenario | attempts | rate | p50 | p99 | outcome |");
    println!("|---|---|---|---|---|---|---|");

    // Distinct resources: `workers` tasks take the next slot until done.
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..workers {
        let (s, lab, next, instruments) =
            (s.clone(), lab.clone(), next.clone(), instruments.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= bookings {
                    return lat;
                }
                let (i, start, end) = slot(n);
                let t = Instant::now();
                s.book_instrument(
                    &lab,
                    &BookingInput {
                        instrument_id: instruments[i],
                        enterprise_id: firm,
                        start,
                        end,
                        purpose: None,
                    },
                )
                .await
                .expect("distinct slots never conflict");
                lat.push(t.elapsed().as_secs_f64() * 1000.0);
            }
        }));
    }
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await.expect("task"));
    }
    let elapsed = started.elapsed().as_secs_f64();
    report(
        "distinct slots",
        &backend,
        &mut latencies,
        elapsed,
        &format!("{workers} workers, all booked"),
    );

    // One hot slot per round, 64 concurrent attempts each.
    let rounds = 10;
    let mut latencies = Vec::new();
    let (mut won, mut refused) = (0, 0);
    let started = Instant::now();
    for round in 0..rounds {
        let (i, start, end) = slot(bookings + round * INSTRUMENTS);
        let barrier = Arc::new(tokio::sync::Barrier::new(64));
        let mut tasks = Vec::new();
        for _ in 0..64 {
            let (s, lab, barrier, instruments) =
                (s.clone(), lab.clone(), barrier.clone(), instruments.clone());
            let (start, end) = (start.clone(), end.clone());
            tasks.push(tokio::spawn(async move {
                barrier.wait().await;
                let t = Instant::now();
                let outcome = s
                    .book_instrument(
                        &lab,
                        &BookingInput {
                            instrument_id: instruments[i],
                            enterprise_id: firm,
                            start,
                            end,
                            purpose: None,
                        },
                    )
                    .await;
                (outcome, t.elapsed().as_secs_f64() * 1000.0)
            }));
        }
        for t in tasks {
            let (outcome, ms) = t.await.expect("task");
            latencies.push(ms);
            match outcome {
                Ok(_) => won += 1,
                Err(ServiceError::Taken { .. }) => refused += 1,
                Err(other) => panic!("unexpected: {other:?}"),
            }
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    assert_eq!(
        (won, refused),
        (rounds, rounds * 63),
        "exactly one winner per round"
    );
    report(
        "hot slot (64 at once)",
        &backend,
        &mut latencies,
        elapsed,
        &format!("{rounds} rounds: {won} won, {refused} refused"),
    );
    drop(s);
    db.cleanup().await;
}
