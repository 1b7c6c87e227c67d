#!/usr/bin/env bash
# Instrument booking throughput and conflict handling on both backends.
# Usage: bench/spaces/run.sh [bookings] [workers] [cargo profile flag]
#   e.g. bench/spaces/run.sh 2000 16            (dev profile, as recorded)
#        bench/spaces/run.sh 20000 32 --release (optimised build)
# PostgreSQL runs when OPCITY_TEST_POSTGRES_URL names a server whose user
# may create databases (CI's: postgres://opcity:opcity@127.0.0.1:5432/postgres).
set -euo pipefail
cd "$(dirname "$0")/../.."
bookings="${1:-2000}"
workers="${2:-16}"
profile="${3:-}"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
cargo build -q -p opcity-bench --bin spaces_bench $profile
cargo run -q -p opcity-bench --bin spaces_bench $profile -- sqlite "$bookings" "$workers"
if [ -n "${OPCITY_TEST_POSTGRES_URL:-}" ]; then
  cargo run -q -p opcity-bench --bin spaces_bench $profile -- postgres "$bookings" "$workers" | tail -n 2
fi
