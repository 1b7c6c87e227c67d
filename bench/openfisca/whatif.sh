#!/usr/bin/env bash
# What-if over a population, one parameter changed, aggregates only: `opcity policy whatif` from
# Parquet and from JSON Lines against an OpenFisca reform of the same change (whatif.py), with
# the aggregates checked equal. Heavy: not part of `cargo test`. See README.md.
#
#   bench/openfisca/whatif.sh [SIZE...]        (default size: 1000000)
#
# Environment: see common.sh.
# The change: opcity's housing_subsidy_monthly_fen (OpenFisca housing.subsidy_monthly_fen)
# from 125000 to 150000 fen, from AS_OF on.
# Exits non-zero when the two engines' aggregates differ, or opcity's from Parquet and from
# JSON Lines differ.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=common.sh
. "$HERE/common.sh"
SIZES=${*:-1000000}
SET_OPCITY=housing_subsidy_monthly_fen=150000
SET_OPENFISCA=housing.subsidy_monthly_fen=150000
RESULTS=$DATA/whatif-results.md
(cd "$ROOT" && cargo build --quiet --release -p opcity-cli)

runs() { awk 'NF { printf "%s%s s %s MiB", (n++ ? ", " : ""), $1, $2 }' <<< "$1"; }
WHATIF=("$OPCITY" policy whatif --pack "$PACK" --as-of "$AS_OF" --set "$SET_OPCITY")

# --- 2. per size ------------------------------------------------------------------------------
failures=0
SPLIT=$DATA/.whatif-split.md
{
    echo "| cases | opcity from Parquet s | opcity from JSONL s | OpenFisca reform s | OpenFisca / opcity Parquet | OpenFisca / opcity JSONL | peak RSS Parquet / JSONL / OpenFisca MiB | aggregates |"
    echo "|---:|---:|---:|---:|---:|---:|---:|---|"
} > "$RESULTS"
{
    echo "| cases | Parquet / JSONL MB | OpenFisca read / build / calculate / aggregate s | changed_cases |"
    echo "|---:|---:|---|---:|"
} > "$SPLIT"
for size in $SIZES; do
    raw=$DATA/pop-$size-seed$SEED.jsonl
    cases=$DATA/pop-$size-seed$SEED-nonull.jsonl
    parquet=$DATA/pop-$size-seed$SEED-nonull.parquet
    [ -s "$raw" ] || { log "generating $size cases"; "$PY" "$HERE/gen_population.py" --size "$size" --seed "$SEED" --as-of "$AS_OF" "$raw"; }
    if [ ! -s "$parquet" ] || [ "$parquet" -ot "$raw" ]; then
        log "[$size] known-null hukou left out; JSON Lines and Parquet"
        (cd "$HERE" && "$PY" to_parquet.py "$raw" "$cases" "$parquet") >&2
    fi
    ours_pq=$DATA/whatif-opcity-parquet-$size.json ours_js=$DATA/whatif-opcity-jsonl-$size.json
    theirs=$DATA/whatif-openfisca-$size.json

    log "[$size] opcity policy whatif --set $SET_OPCITY, Parquet and JSON Lines in turn (x$REPEAT)"
    runs_pq='' runs_js=''
    for _ in $(seq "$REPEAT"); do
        runs_pq+=$(OUT=$ours_pq timed "${WHATIF[@]}" "$parquet")$'\n'
        runs_js+=$(OUT=$ours_js timed "${WHATIF[@]}" "$cases")$'\n'
    done
    read -r t_pq m_pq <<< "$(best <<< "${runs_pq%$'\n'}")"
    read -r t_js m_js <<< "$(best <<< "${runs_js%$'\n'}")"
    log "  Parquet: $(runs "$runs_pq"); JSON Lines: $(runs "$runs_js")"

    log "[$size] OpenFisca reform --set $SET_OPENFISCA (chunks of $CHUNK cases)"
    read -r t_of m_of <<< "$(cd "$HERE" && OUT=$theirs timed "$PY" whatif.py --as-of "$AS_OF" \
        --set "$SET_OPENFISCA" --chunk "$CHUNK" "$cases" 2> "$DATA/whatif-openfisca-$size.log")"
    cat "$DATA/whatif-openfisca-$size.log" >&2

    log "[$size] comparing the aggregates"
    agree=yes
    if ! cmp -s "$ours_pq" "$ours_js"; then
        log "FAIL: opcity's what-if from Parquet and from JSON Lines differ"
        agree=no
    fi
    if ! (cd "$HERE" && "$PY" compare_whatif.py "$ours_pq" "$theirs") > "$DATA/whatif-compare-$size.txt"; then
        agree=no
    fi
    cat "$DATA/whatif-compare-$size.txt" >&2
    [ "$agree" = yes ] || failures=$(( failures + 1 ))
    changed=$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["changed_cases"])' "$ours_pq")

    awk -v n="$size" -v a="$t_pq" -v b="$t_js" -v c="$t_of" -v ma="$m_pq" -v mb="$m_js" \
        -v mc="$m_of" -v ok="$agree" 'BEGIN {
        printf "| %d | %.2f | %.2f | %.2f | %.1f× | %.1f× | %s / %s / %s | %s |\n",
               n, a, b, c, c / a, c / b, ma, mb, mc, (ok == "yes" ? "equal" : "DIFFER") }' >> "$RESULTS"
    phases=$(sed -E 's/.*read ([0-9.]+)s, build ([0-9.]+)s, calculate ([0-9.]+)s, aggregate ([0-9.]+)s.*/\1 \/ \2 \/ \3 \/ \4/' \
        "$DATA/whatif-openfisca-$size.log")
    awk -v n="$size" -v p="$(stat -c %s "$parquet")" -v j="$(stat -c %s "$cases")" -v s="$phases" \
        -v c="$changed" 'BEGIN { printf "| %d | %.1f / %.1f | %s | %d |\n", n, p / 1e6, j / 1e6, s, c }' >> "$SPLIT"
done

{ echo; echo "Inputs and where OpenFisca's time goes:"; echo; cat "$SPLIT"; } >> "$RESULTS"
rm -f "$SPLIT"
echo
cat "$RESULTS"
[ "$failures" -eq 0 ] || { log "FAIL: the what-if aggregates differ ($failures sizes)"; exit 1; }
