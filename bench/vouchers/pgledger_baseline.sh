#!/usr/bin/env bash
# The baseline the ledger target is quoted against: pgledger
# (github.com/pgr0ss/pgledger), whose README reports 10,637 transfers/s on a
# laptop, run on this machine with its own load shape: 20 clients, each
# calling pgledger_create_transfer between two random accounts, one at a
# time. pgbench is the client, so nearly all of the CPU is PostgreSQL's.
#
# pgledger's code is not part of this repository: pass its pgledger.sql.
#   bash bench/vouchers/pgledger_baseline.sh PATH/TO/pgledger.sql [ACCOUNTS] [SECONDS]
# Two changes are made to it on load, both in pgledger's favour or neutral:
# ids come from gen_random_uuid() instead of its vendored ULID extension,
# and MONEY columns are NUMERIC (PostgreSQL 15 cannot compare MONEY with 0).
# Needs OPCITY_TEST_POSTGRES_URL's server and user (may create databases).
set -euo pipefail
export PGOPTIONS=--client-min-messages=warning
sql=${1:?path to pgledger.sql}
accounts=${2:-50}
seconds=${3:-10}
url=${OPCITY_TEST_POSTGRES_URL:-postgres://opcity:opcity@127.0.0.1:5432/postgres}
db=pgledger_baseline
base=${url%/*}
psql -q "$url" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
trap 'psql -q "$url" -c "DROP DATABASE IF EXISTS $db"' EXIT
{
  echo "CREATE FUNCTION pgledger_generate_id(prefix TEXT) RETURNS TEXT"
  echo "AS \$\$ SELECT prefix || '_' || gen_random_uuid()::text \$\$ LANGUAGE sql VOLATILE;"
  # Its own id functions (uuidv7, ULID) are replaced by the one above.
  sed -e '/^CREATE FUNCTION pgledger_uuidv7_exists/,/^CREATE TABLE pgledger_accounts/{/^CREATE TABLE pgledger_accounts/!d}' \
      -e 's/\bMONEY\b/NUMERIC/g' "$sql"
} | psql -q -v ON_ERROR_STOP=1 "$base/$db" >/dev/null
psql -q "$base/$db" -c "INSERT INTO pgledger_accounts (id, name, currency, allow_negative_balance,
  allow_positive_balance, created_at, updated_at)
  SELECT 'a' || g, 'acct', 'USD', true, true, now(), now() FROM generate_series(1, $accounts) g"
script=$(mktemp)
cat >"$script" <<'SQL'
\set f random(1, :accounts)
\set t 1 + ((:f - 1 + random(1, :accounts - 1)) % :accounts)
\set amount random(1, 4294967295)
SELECT id FROM pgledger_create_transfer('a' || :f, 'a' || :t, :amount::numeric);
SQL
echo "pgledger, 20 clients, $accounts accounts, ${seconds}s:"
pgbench -n -M prepared -D accounts="$accounts" -f "$script" -c 20 -j 2 -T "$seconds" "$base/$db" |
  grep -E '^(tps|number of failed|latency average)'
rm -f "$script"
