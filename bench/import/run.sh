#!/usr/bin/env bash
# Bulk onboarding (#18): `opcity import` of N persons and M enterprises, then
# `opcity match` over them, on SQLite and (when OPCITY_TEST_POSTGRES_URL
# names a server whose user may create databases) PostgreSQL; beside each,
# the backend's own bulk loader (sqlite3 .import, psql \copy) reading the
# same CSV files into a bare table: the floor no checked import goes below.
# Usage: bench/import/run.sh [persons] [enterprises]   (default 100000 20000)
set -euo pipefail
cd "$(dirname "$0")/../.."
persons="${1:-100000}"
enterprises="${2:-20000}"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), commit $(git rev-parse --short HEAD)"
cargo build -q --release -p opcity-cli -p opcity-bench --bin opcity --bin import_population
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
target="${CARGO_TARGET_DIR:-target}"
"$target/release/import_population" "$work" "$persons" "$enterprises"
opcity="$target/release/opcity"

seconds() { # seconds LABEL COMMAND...
  local start end
  start=$(date +%s.%N)
  "${@:2}" > "$work/out.json"
  end=$(date +%s.%N)
  printf '%-44s %8.2f s\n' "$1" "$(echo "$end - $start" | bc)"
}

run_backend() { # run_backend NAME DATABASE_URL
  local name="$1" url="$2"
  export OPCITY_DATABASE_URL="$url" OPCITY_DATA_KEY_FILE="$work/$name.key"
  $opcity migrate > /dev/null
  seconds "$name: import $persons persons" $opcity import persons "$work/persons.csv"
  seconds "$name: import $enterprises enterprises" $opcity import enterprises "$work/enterprises.csv"
  seconds "$name: match (every person and enterprise)" $opcity match
}

run_backend sqlite "sqlite://$work/bench.db?mode=rwc"
floor_sqlite() {
  sqlite3 "$work/floor.db" <<SQL
.mode csv
.import $work/persons.csv persons
.import $work/enterprises.csv enterprises
SQL
}
seconds "sqlite: floor (sqlite3 .import, both files)" floor_sqlite

if [ -n "${OPCITY_TEST_POSTGRES_URL:-}" ]; then
  db="opcity_import_bench_$$"
  psql -q "$OPCITY_TEST_POSTGRES_URL" -c "CREATE DATABASE $db" > /dev/null
  pg_url="${OPCITY_TEST_POSTGRES_URL%/*}/$db"
  run_backend postgres "$pg_url"
  floor_postgres() {
    psql -q "$pg_url" <<SQL
CREATE TABLE floor_persons (full_name text, resident_id text, district text, highest_degree text,
  degree_date text, has_shenzhen_hukou text, works_in_ai text);
CREATE TABLE floor_enterprises (uscc text, name text, district text, registered_date text, size text,
  ai_business text, founder_resident_id text);
\copy floor_persons FROM '$work/persons.csv' CSV HEADER
\copy floor_enterprises FROM '$work/enterprises.csv' CSV HEADER
SQL
  }
  seconds "postgres: floor (psql \\copy, both files)" floor_postgres
  psql -q "$OPCITY_TEST_POSTGRES_URL" -c "DROP DATABASE $db" > /dev/null
fi
