#!/usr/bin/env bash
# A longer soak of the seeded concurrent workload (crates/testkit/src/workload.rs)
# than CI's three seeds: many seeds, larger runs, both backends when
# OPCITY_TEST_POSTGRES_URL is set. A failure prints the seed that reproduces
# its operations; rerun it alone with OPCITY_WORKLOAD_SEEDS=<seed>. It builds
# the test profile CI builds (no release build: the soak is about correctness).
#
#   bench/workload/soak.sh [SEEDS] [OPERATIONS]
#   bench/workload/soak.sh 1-200 400
set -euo pipefail
cd "$(dirname "$0")/../.."
seeds=${1:-1-100}
operations=${2:-300}
start=$(date +%s)
OPCITY_WORKLOAD_SEEDS="$seeds" OPCITY_WORKLOAD_OPERATIONS="$operations" \
  cargo test --locked -p opcity-services --test all workload:: -- --nocapture 2>&1 |
  grep -E "workload seed|test result|panicked|FAILED"
echo "soak: seeds $seeds, $operations operations each, $(( $(date +%s) - start )) s"
