#!/usr/bin/env bash
# Property-based tests of /api/v1 against its own OpenAPI document:
# schemathesis (from PyPI) generates requests from the served document and
# fails on any 5xx, an undocumented status, a wrong content type or a body
# that does not match its schema. One run per authenticated role below,
# over a fresh SQLite database with the demo data, a bounded number of
# cases per operation and a fixed seed, so a failure can be replayed.
#
# Usage: bash .ci/schemathesis.sh [OPCITY_BINARY]   (default target/debug/opcity)
# Env:   SCHEMATHESIS_MAX_EXAMPLES (default 25), SCHEMATHESIS_SEED (default 1).
set -euo pipefail
cd "$(dirname "$0")/.."
binary="${1:-target/debug/opcity}"
max_examples="${SCHEMATHESIS_MAX_EXAMPLES:-25}"
seed="${SCHEMATHESIS_SEED:-1}"
# Pinned, so the checks do not change under us between runs.
version="4.32.5"

venv="target/schemathesis-venv"
if [ ! -x "$venv/bin/schemathesis" ] || ! "$venv/bin/schemathesis" --version | grep -q "$version"; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet "schemathesis==$version"
fi

work="$(mktemp -d)"
server=""
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

db="sqlite://$work/opcity.db"
export OPCITY_DATA_KEY_FILE="$work/opcity.key" OPCITY_DOCUMENTS_URL="$work/documents"
"$binary" demo --database-url "$db" > "$work/logins.txt"
password_of() { awk -v user="$1" '$1 == user { print $3 }' "$work/logins.txt"; }

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
"$binary" serve --addr "127.0.0.1:$port" --database-url "$db" > "$work/server.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do
  curl -fsS "$base/readyz" > /dev/null 2>&1 && break
  sleep 0.2
done
curl -fsS "$base/readyz" > /dev/null

# A bearer token for `user`, made through the API itself.
token_of() {
  local user="$1" jar="$work/$1.cookies" csrf
  csrf=$(curl -fsS -c "$jar" -H 'content-type: application/json' \
    -d "{\"username\":\"$user\",\"password\":\"$(password_of "$user")\"}" \
    "$base/api/v1/session" | python3 -c 'import json, sys; print(json.load(sys.stdin)["csrf_token"])')
  curl -fsS -b "$jar" -H "x-csrf-token: $csrf" -H 'content-type: application/json' \
    -d '{"name":"schemathesis"}' "$base/api/v1/tokens" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["secret"])'
}

status=0
for user in admin founder; do
  echo "--- schemathesis as $user ($max_examples cases an operation, seed $seed)"
  # Revoking tokens and ending sessions would sign the run itself out; the
  # batch endpoint takes JSON Lines, which schemathesis cannot generate
  # (crates/web/tests/policy_api.rs and crates/policy/tests cover it).
  "$venv/bin/schemathesis" run "$base/api/v1/openapi.json" \
    --header "Authorization: Bearer $(token_of "$user")" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
    --exclude-operation-id revoke_token --exclude-operation-id delete_session \
    --exclude-operation-id eligibility_batch \
    --max-examples "$max_examples" --seed "$seed" --workers 2 \
    --no-color || status=1
done
if [ "$status" -ne 0 ]; then
  echo "--- server log (last 50 lines)"
  tail -n 50 "$work/server.log"
fi
exit "$status"
