#!/usr/bin/env bash
# How fast PostgreSQL alone runs the statements of one ledger group commit,
# with no application in the way: pgbench replays them (BEGIN; lock the
# accounts in id order; insert GROUP transfers; the guarded net UPDATE;
# COMMIT) between random pairs of 50 funded wallets, on the real schema.
# This is the ceiling for `ledger_bench`'s PostgreSQL spread scenario on the
# same machine: there the application and the load generator share it.
# The statements are copies of what `crates/store/src/ledger.rs` sends
# (`lock_accounts`, `write_batch`'s insert, `write_net_changes`): change
# them together.
#   bash bench/vouchers/sql_ceiling.sh [GROUP] [CLIENTS] [SECONDS]
# Prints transfers/s (tps × GROUP). Needs OPCITY_TEST_POSTGRES_URL's server
# and user (may create databases); builds the opcity CLI to migrate.
set -euo pipefail
export PGOPTIONS=--client-min-messages=warning
cd "$(dirname "$0")/../.."
group=${1:-10}
clients=${2:-2}
seconds=${3:-10}
url=${OPCITY_TEST_POSTGRES_URL:-postgres://opcity:opcity@127.0.0.1:5432/postgres}
db=opcity_sql_ceiling
psql -q "$url" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
trap 'psql -q "$url" -c "DROP DATABASE IF EXISTS $db"' EXIT
cargo run --release --locked -q -p opcity-cli -- migrate --database-url "${url%/*}/$db" >/dev/null 2>&1 || { echo "migration failed" >&2; exit 1; }
psql -q "${url%/*}/$db" <<'SQL'
INSERT INTO ledger_accounts (code, ledger, kind, debits_must_not_exceed_credits,
  credits_must_not_exceed_debits, debits_pending, debits_posted, credits_pending,
  credits_posted, created_at, updated_at)
SELECT 'wallet' || g, 'sz.voucher.model', 'wallet', true, false, 0, 0, 0,
  1000000000000, now(), now() FROM generate_series(1, 50) g;
CREATE SEQUENCE bench_transfer_ids;
SQL
script=$(mktemp)
{
  ids=() rows=() net=()
  for ((i = 0; i < group; i++)); do
    echo "\\set d$i random(1, 50)"
    echo "\\set c$i 1 + ((:d$i - 1 + random(1, 49)) % 50)"
    echo "\\set a$i random(1, 10000)"
    ids+=(":d$i" ":c$i")
    rows+=("('b' || nextval('bench_transfer_ids'), 'sz.voucher.model', :d$i, :c$i, :a$i, 'posted', 'spend', repeat('0', 64), 'bench', now())")
    net+=("(:d$i::bigint, 0::bigint, :a$i::bigint, 0::bigint, 0::bigint)" "(:c$i::bigint, 0::bigint, 0::bigint, 0::bigint, :a$i::bigint)")
  done
  join() { local IFS=,; echo "$*"; }
  echo "BEGIN;"
  echo "SELECT * FROM ledger_accounts WHERE id IN ($(join "${ids[@]}")) ORDER BY id FOR UPDATE;"
  echo "INSERT INTO ledger_transfers (id, ledger, debit_account_id, credit_account_id, amount_fen, phase, kind, body_hash, actor, created_at) VALUES $(join "${rows[@]}") RETURNING *;"
  echo "WITH net (account_id, d_pend, d_post, c_pend, c_post) AS (SELECT account_id, sum(d_pend), sum(d_post), sum(c_pend), sum(c_post) FROM (VALUES $(join "${net[@]}")) v (account_id, d_pend, d_post, c_pend, c_post) GROUP BY account_id) UPDATE ledger_accounts SET updated_at = now(), debits_pending = debits_pending + net.d_pend, debits_posted = debits_posted + net.d_post, credits_pending = credits_pending + net.c_pend, credits_posted = credits_posted + net.c_post FROM net WHERE ledger_accounts.id = net.account_id AND (NOT debits_must_not_exceed_credits OR debits_pending + net.d_pend + debits_posted + net.d_post <= credits_posted + net.c_post) AND (NOT credits_must_not_exceed_debits OR credits_pending + net.c_pend + credits_posted + net.c_post <= debits_posted + net.d_post);"
  echo "COMMIT;"
} >"$script"
tps=$(pgbench -n -M prepared -f "$script" -c "$clients" -j "$clients" -T "$seconds" "${url%/*}/$db" |
  sed -n 's/^tps = \([0-9.]*\).*/\1/p')
rm -f "$script"
awk -v t="$tps" -v g="$group" -v c="$clients" 'BEGIN { printf "groups of %d, %d clients: %.0f transfers/s (%.0f commits/s)\n", g, c, t * g, t }'
