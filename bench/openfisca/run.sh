#!/usr/bin/env bash
# Policy engine vs OpenFisca: equality case by case, end-to-end time at each size, the I/O
# floor of opcity, and single-case latency. Heavy: not part of `cargo test`. See README.md.
#
#   bench/openfisca/run.sh [SIZE...]        (default sizes: 10000 100000 1000000)
#
# Environment: see common.sh; besides,
#   LATENCY          0 skips the single-case latencies (default 1)
#   KEEP             1 keeps the result files (several GB at 10^6)
# Exits non-zero when the two engines disagree on any case.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=common.sh
. "$HERE/common.sh"
SIZES=${*:-10000 100000 1000000}
RESULTS=$DATA/results.md
(cd "$ROOT" && cargo build --quiet --release -p opcity-cli \
    && cargo build --quiet --release -p opcity-bench --bin io_floor)
FLOOR=$TARGET/release/io_floor

# --- 2. per size: equality and end-to-end time ------------------------------------------------
mismatches=0
SPLIT=$DATA/.split.md
{
    echo "| cases | opcity s | OpenFisca s | OpenFisca / opcity | I/O floor s | opcity / floor | peak RSS opcity / OpenFisca MiB | mismatching cases |"
    echo "|---:|---:|---:|---:|---:|---:|---:|---:|"
} > "$RESULTS"
{
    echo "| cases | opcity → /dev/null s | floor → /dev/null s | opcity / floor | OpenFisca read / build / calculate / write s |"
    echo "|---:|---:|---:|---:|---|"
} > "$SPLIT"
for size in $SIZES; do
    cases=$DATA/pop-$size-seed$SEED.jsonl
    [ -s "$cases" ] || { log "generating $size cases"; "$PY" "$HERE/gen_population.py" --size "$size" --seed "$SEED" --as-of "$AS_OF" "$cases"; }
    ours=$DATA/opcity-$size.jsonl theirs=$DATA/openfisca-$size.jsonl floor=$DATA/floor-$size.jsonl

    log "[$size] opcity policy eval --format jsonl --detail brief (x$REPEAT)"
    runs=$(for _ in $(seq "$REPEAT"); do
        OUT=$ours timed "$OPCITY" policy eval --pack "$PACK" --as-of "$AS_OF" \
            --format jsonl --detail brief "$cases"
    done)
    read -r t_ours m_ours <<< "$(best <<< "$runs")"
    line_bytes=$(( $(stat -c %s "$ours") / size ))

    log "[$size] I/O floor: read + parse + write $line_bytes bytes a case (x$REPEAT)"
    runs=$(for _ in $(seq "$REPEAT"); do
        OUT=/dev/null timed "$FLOOR" "$PACK" "$cases" "$floor" "$line_bytes" 2>/dev/null
    done)
    read -r t_floor _ <<< "$(best <<< "$runs")"
    rm -f "$floor"

    log "[$size] the same two with output to /dev/null (no disk writes)"
    runs=$(for _ in $(seq "$REPEAT"); do
        OUT=/dev/null timed "$OPCITY" policy eval --pack "$PACK" --as-of "$AS_OF" \
            --format jsonl --detail brief "$cases"
    done)
    read -r n_ours _ <<< "$(best <<< "$runs")"
    runs=$(for _ in $(seq "$REPEAT"); do
        OUT=/dev/null timed "$FLOOR" "$PACK" "$cases" /dev/null "$line_bytes" 2>/dev/null
    done)
    read -r n_floor _ <<< "$(best <<< "$runs")"

    log "[$size] OpenFisca (chunks of $CHUNK cases)"
    read -r t_theirs m_theirs <<< "$(cd "$HERE" && OUT=/dev/null timed "$PY" evaluate.py \
        --as-of "$AS_OF" --chunk "$CHUNK" "$cases" "$theirs" 2> "$DATA/openfisca-$size.log")"
    cat "$DATA/openfisca-$size.log" >&2

    log "[$size] comparing case by case"
    if (cd "$HERE" && "$PY" compare.py "$cases" "$ours" "$theirs" > "$DATA/compare-$size.txt"); then
        bad=0
    else
        bad=$(tail -1 "$DATA/compare-$size.txt" | sed -E 's/.*: ([0-9]+) mismatching.*/\1/')
        mismatches=$(( mismatches + bad ))
        cat "$DATA/compare-$size.txt" >&2
    fi
    tail -1 "$DATA/compare-$size.txt" >&2
    [ "${KEEP:-0}" = 1 ] || rm -f "$ours" "$theirs"

    awk -v n="$size" -v a="$t_ours" -v b="$t_theirs" -v f="$t_floor" -v ma="$m_ours" \
        -v mb="$m_theirs" -v bad="$bad" 'BEGIN {
        printf "| %d | %.2f | %.2f | %.1f× | %.2f | %.2f× | %s / %s | %s |\n",
               n, a, b, b / a, f, a / f, ma, mb, bad }' >> "$RESULTS"
    phases=$(sed -E 's/.*read ([0-9.]+)s, build ([0-9.]+)s, calculate ([0-9.]+)s, write ([0-9.]+)s.*/\1 \/ \2 \/ \3 \/ \4/' \
        "$DATA/openfisca-$size.log")
    awk -v n="$size" -v a="$n_ours" -v f="$n_floor" -v p="$phases" 'BEGIN {
        printf "| %d | %.2f | %.2f | %.2f× | %s |\n", n, a, f, a / f, p }' >> "$SPLIT"
done

# --- 3. other evaluation dates, on the smallest size: window edges, parameters unset ----------
first=$(set -- $SIZES; echo "$1")
cases=$DATA/pop-$first-seed$SEED.jsonl
: > "$DATA/dates.txt"
for day in 2025-12-31 2026-01-01 2027-12-31 2028-01-01 2028-02-29; do
    "$OPCITY" policy eval --pack "$PACK" --as-of "$day" --format jsonl --detail brief "$cases" \
        > "$DATA/opcity-$day.jsonl"
    (cd "$HERE" && "$PY" evaluate.py --as-of "$day" "$cases" "$DATA/openfisca-$day.jsonl" 2>/dev/null)
    if ! (cd "$HERE" && "$PY" compare.py "$cases" "$DATA/opcity-$day.jsonl" \
            "$DATA/openfisca-$day.jsonl" > "$DATA/compare-$day.txt"); then
        cat "$DATA/compare-$day.txt" >&2
        mismatches=$(( mismatches + 1 ))
    fi
    echo "as of $day: $(tail -1 "$DATA/compare-$day.txt")" | tee -a "$DATA/dates.txt" >&2
    rm -f "$DATA/opcity-$day.jsonl" "$DATA/openfisca-$day.jsonl"
done

# --- 4. single-case latency, in process -------------------------------------------------------
if [ "${LATENCY:-1}" = 1 ]; then
    log "single case: OpenFisca (timeit)"
    (cd "$HERE" && "$PY" latency.py) | tee "$DATA/latency-openfisca.txt" >&2
    log "single case: opcity (criterion)"
    (cd "$ROOT" && cargo bench --quiet -p opcity-bench --bench eval -- "one case" 2>/dev/null) \
        | grep -E '^(evaluate|parse)|time:' | tee "$DATA/latency-opcity.txt" >&2
fi

{ echo; echo "Where the time goes:"; echo; cat "$SPLIT"; } >> "$RESULTS"
rm -f "$SPLIT"
echo
cat "$RESULTS"
[ "$mismatches" -eq 0 ] || { log "FAIL: the engines disagree ($mismatches)"; exit 1; }
