//! The seeded concurrent workload (`opcity_testkit::workload`) on both
//! backends: mixed bookings, cancellations, leases, renewals, four-eyes
//! approvals, acceptances and withdrawals from two processes at once, held
//! against the reference model after each run.
//!
//! CI runs a fixed budget of seeds. A longer soak sets
//! `OPCITY_WORKLOAD_SEEDS` (`1-200`, or `5,9,12`) and
//! `OPCITY_WORKLOAD_OPERATIONS`: `bench/workload/soak.sh`. A failure
//! prints the seed that reproduces its operations.

use opcity_testkit::each_backend;
use opcity_testkit::workload::{Size, run};

/// The seeds CI runs on each backend.
const CI_SEEDS: [u64; 3] = [1, 2, 3];

fn seeds() -> Vec<u64> {
    let Ok(spec) = std::env::var("OPCITY_WORKLOAD_SEEDS") else {
        return CI_SEEDS.to_vec();
    };
    spec.split(',')
        .flat_map(|part| match part.trim().split_once('-') {
            Some((from, to)) => {
                let (from, to): (u64, u64) = (from.parse().unwrap(), to.parse().unwrap());
                (from..=to).collect::<Vec<_>>()
            }
            None => vec![part.trim().parse().unwrap()],
        })
        .collect()
}

fn size() -> Size {
    let mut size = Size::default();
    if let Ok(ops) = std::env::var("OPCITY_WORKLOAD_OPERATIONS") {
        size.operations = ops.parse().expect("OPCITY_WORKLOAD_OPERATIONS: a number");
    }
    size
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn seeded_mixed_workloads_keep_every_invariant() {
    for seed in seeds() {
        each_backend(async |db| run(db, seed, size()).await.check().await).await;
    }
}
