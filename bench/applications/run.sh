#!/usr/bin/env bash
# Submissions/s and approvals/s against one hot budget, on SQLite and
# PostgreSQL. Usage: bench/applications/run.sh [CLIENTS] [COUNT] [PROGRAMME]
# e.g. bench/applications/run.sh 32 3000 (the figures in BENCHMARKS.md,
# session 5, are for 16 and 32 clients), or
# bench/applications/run.sh 16 2000 sz.voucher.model (a voucher pool: the
# approvals, then the acceptances that issue the vouchers; session 13).
# PROGRAMME defaults to sz.housing.subsidy.
# PostgreSQL: set BENCH_POSTGRES_ADMIN_URL (default: the CI superuser).
set -euo pipefail
cd "$(dirname "$0")/../.."
clients=${1:-16}
count=${2:-2000}
programme=${3:-sz.housing.subsidy}
admin=${BENCH_POSTGRES_ADMIN_URL:-postgres://opcity:opcity@127.0.0.1:5432/postgres}
cargo build --release -q -p opcity-bench --bin application_load
bin=${CARGO_TARGET_DIR:-target}/release/application_load
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "== SQLite ($clients clients, $count applications, $programme)"
"$bin" "sqlite://$tmp/load.db" "$clients" "$count" "$programme"
if command -v psql >/dev/null && psql "$admin" -qc 'SELECT 1' >/dev/null 2>&1; then
  db=opcity_bench_$$
  psql "$admin" -qc "CREATE DATABASE $db"
  echo "== PostgreSQL ($clients clients, $count applications, $programme)"
  "$bin" "${admin%/*}/$db" "$clients" "$count" "$programme" || true
  psql "$admin" -qc "DROP DATABASE $db WITH (FORCE)"
fi
