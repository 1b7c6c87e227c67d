#!/usr/bin/env bash
# The single-case eligibility API at wire speed, side by side in one run:
# a JSON-echo axum server (the ceiling), opcity's /healthz (the middleware
# stack alone), and POST /api/v1/eligibility with full explanations and
# with detail=brief, each under CONNECTIONS keep-alive connections for
# SECONDS (bench/src/bin/http_load.rs). Prints one JSON line per
# measurement and a table of ratios to the echo server.
#
#   bash bench/eligibility/run.sh [CONNECTIONS] [SECONDS]    (default 64 10)
#
# Environment (optional):
#   COMPARE  "NAME=PATH ..." opcity binaries to compare, each measured in
#                turn in the same run (default: this checkout's, built here)
#   TOOLS_DIR    where http_load and json_echo are (default: built here)
#   CARGO_TARGET_DIR is honoured.
# The servers and the generator share the machine: the ratios, not the
# absolute figures, are the result.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CONNECTIONS=${1:-64}
SECONDS_EACH=${2:-10}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
if [ -z "${COMPARE:-}" ]; then
    (cd "$ROOT" && cargo build --quiet --release -p opcity-cli)
    COMPARE="this=$TARGET/release/opcity"
fi
if [ -z "${TOOLS_DIR:-}" ]; then
    (cd "$ROOT" && cargo build --quiet --release -p opcity-bench --bin http_load --bin json_echo)
    TOOLS_DIR=$TARGET/release
fi

WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
# The criterion bench's case: a founder with an enterprise and a grant.
cat > "$WORK/case.json" <<'JSON'
{"person":{"id":"p1","birth_date":"1995-03-01","highest_degree":"doctorate","degree_date":"2023-07-01","overseas_degree":true,"hukou_shenzhen_since":"2026-02-01","works_in_ai":true,"is_founder":true,"kunpeng_selected":true,"high_level_talent":false},"enterprise":{"uscc":"91440300708461136T","registered_date":"2026-03-01","district":"nanshan","in_opc_community":true,"ai_business":true,"size":"micro","gov_deployed_product":false},"granted":[{"programme":"sz.housing.transitional","from":"2026-03-01","to":null}]}
JSON

wait_for() {
    for _ in $(seq 1 300); do
        kill -0 "$2" 2>/dev/null || { echo "the server on port $1 did not start" >&2; return 1; }
        (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0
        sleep 0.1
    done
    echo "nothing listens on port $1" >&2
    return 1
}
load() {
    local name=$1
    shift
    "$TOOLS_DIR/http_load" "$@" | sed "s|^{|{\"name\":\"$name\",|" | tee -a "$WORK/results.jsonl"
}
echo_ceiling() {
    "$TOOLS_DIR/json_echo" 127.0.0.1:8091 &
    local pid=$!
    wait_for 8091 $pid
    load "JSON echo (axum, no middleware)" http://127.0.0.1:8091/echo POST "$CONNECTIONS" "$SECONDS_EACH" "$WORK/case.json"
    kill $pid
    wait $pid 2>/dev/null || true
}

for port in 8090 8091; do
    if (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null; then
        echo "port $port is in use: stop what listens there first" >&2
        exit 1
    fi
done
echo_ceiling
for entry in $COMPARE; do
    name=${entry%%=*}
    bin=${entry#*=}
    rm -f "$WORK/bench.db"*
    # exec: $! is the server itself, so that kill stops it. The server runs
    # on its defaults: no OPCITY_* of the caller's (a metrics token, say).
    (cd "$WORK" && unset $(compgen -e | grep '^OPCITY_') \
        && OPCITY_LOG_LEVEL=error exec "$bin" serve \
        --addr 127.0.0.1:8090 --database-url "sqlite://$WORK/bench.db" > /dev/null) &
    pid=$!
    wait_for 8090 $pid
    sleep 1
    load "$name: /healthz" http://127.0.0.1:8090/healthz GET "$CONNECTIONS" "$SECONDS_EACH"
    load "$name: eligibility, full" "http://127.0.0.1:8090/api/v1/eligibility?as_of=2026-06-01" POST "$CONNECTIONS" "$SECONDS_EACH" "$WORK/case.json"
    load "$name: eligibility, brief" "http://127.0.0.1:8090/api/v1/eligibility?as_of=2026-06-01&detail=brief" POST "$CONNECTIONS" "$SECONDS_EACH" "$WORK/case.json"
    kill $pid
    wait $pid 2>/dev/null || true
done
# The ceiling again: the machine's load may have moved meanwhile.
echo_ceiling

python3 - "$WORK/results.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
echoes = [r for r in rows if r["name"].startswith("JSON echo")]
ceiling = sum(r["rps"] for r in echoes) / len(echoes)
runs = ", ".join("{:,.0f}".format(r["rps"]) for r in echoes)
print(f"\nJSON-echo ceiling: {runs} req/s (mean {ceiling:,.0f})\n")
print("| target | req/s | of echo | p50 ms | p99 ms | response bytes |")
print("|---|---:|---:|---:|---:|---:|")
for r in rows:
    print("| {} | {:,.0f} | {:.0%} | {:.2f} | {:.2f} | {:,} |".format(
        r["name"], r["rps"], r["rps"] / ceiling, r["p50_ms"], r["p99_ms"], r["mean_response_bytes"]))
PY
