#!/usr/bin/env bash
# The single-case eligibility API at wire speed, side by side in one run:
# a JSON-echo axum server (the ceiling), opcity's /healthz (the middleware
# stack alone), and POST /api/v1/eligibility with full explanations and
# with detail=brief, each under CONNECTIONS keep-alive connections for
# SECONDS (bench/src/bin/http_load.rs). Prints one JSON line per target and
# a table of ratios to the echo server.
#
#   bash bench/eligibility/run.sh [CONNECTIONS] [SECONDS]    (default 64 10)
#
# CARGO_TARGET_DIR is honoured. The servers and the generator share the
# machine: the ratios, not the absolute figures, are the result.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CONNECTIONS=${1:-64}
SECONDS_EACH=${2:-10}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
(cd "$ROOT" && cargo build --quiet --release -p opcity-cli \
    && cargo build --quiet --release -p opcity-bench --bin http_load --bin json_echo)

WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
# The criterion bench's case: a founder with an enterprise and a grant.
cat > "$WORK/case.json" <<'JSON'
{"person":{"id":"p1","birth_date":"1995-03-01","highest_degree":"doctorate","degree_date":"2023-07-01","overseas_degree":true,"hukou_shenzhen_since":"2026-02-01","works_in_ai":true,"is_founder":true,"kunpeng_selected":true,"high_level_talent":false},"enterprise":{"uscc":"91440300708461136T","registered_date":"2026-03-01","district":"nanshan","in_opc_community":true,"ai_business":true,"size":"micro","gov_deployed_product":false},"granted":[{"programme":"sz.housing.transitional","from":"2026-03-01","to":null}]}
JSON

(cd "$WORK" && OPCITY_LOG_LEVEL=warn "$TARGET/release/opcity" serve \
    --addr 127.0.0.1:8090 --database-url "sqlite://$WORK/bench.db" > /dev/null) &
"$TARGET/release/json_echo" 127.0.0.1:8091 &
for port in 8090 8091; do
    for _ in $(seq 1 300); do
        (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break
        sleep 0.1
    done
done
sleep 1

load() { "$TARGET/release/http_load" "$@" | tee -a "$WORK/results.jsonl"; }
load http://127.0.0.1:8091/echo POST "$CONNECTIONS" "$SECONDS_EACH" "$WORK/case.json"
load http://127.0.0.1:8090/healthz GET "$CONNECTIONS" "$SECONDS_EACH"
load "http://127.0.0.1:8090/api/v1/eligibility?as_of=2026-06-01" POST "$CONNECTIONS" "$SECONDS_EACH" "$WORK/case.json"
load "http://127.0.0.1:8090/api/v1/eligibility?as_of=2026-06-01&detail=brief" POST "$CONNECTIONS" "$SECONDS_EACH" "$WORK/case.json"

python3 - "$WORK/results.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
ceiling = rows[0]["rps"]
names = ["JSON echo (axum, no middleware)", "opcity /healthz", "eligibility, full", "eligibility, brief"]
print("\n| target | req/s | of echo | p50 ms | p99 ms | response bytes |")
print("|---|---:|---:|---:|---:|---:|")
for name, r in zip(names, rows):
    print(f"| {name} | {r['rps']:,.0f} | {r['rps'] / ceiling:.0%} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['mean_response_bytes']:,} |")
PY
