# Shared by run.sh and whatif.sh (sourced, not run): paths and defaults, the virtualenv, and the
# timing helpers. The caller sets HERE to its own directory and SIZES_DEFAULT before sourcing.
#
# Environment (all optional):
#   OPENFISCA_VENV   virtualenv to create/use          (default bench/openfisca/.venv)
#   BENCH_DATA       populations and outputs           (default bench/openfisca/data)
#   CARGO_TARGET_DIR cargo's target directory          (default target/)
#   AS_OF            evaluation date                   (default 2026-06-01)
#   SEED             population seed                   (default 1)
#   OPENFISCA_CHUNK  cases per OpenFisca simulation    (default 100000)
#   REPEAT           runs of each opcity command; the best counts (default 3)

ROOT=$(cd "$HERE/../.." && pwd)
VENV=${OPENFISCA_VENV:-$HERE/.venv}
DATA=${BENCH_DATA:-$HERE/data}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
AS_OF=${AS_OF:-2026-06-01}
SEED=${SEED:-1}
CHUNK=${OPENFISCA_CHUNK:-100000}
REPEAT=${REPEAT:-3}
PACK=$ROOT/policies/shenzhen-2026
export CARGO_TARGET_DIR=$TARGET
mkdir -p "$DATA"

log() { printf '%s\n' "$*" >&2; }

# The virtualenv with requirements.txt installed (openfisca-core, pyarrow), made on first use.
if [ ! -x "$VENV/bin/python" ]; then
    log "creating $VENV (requirements.txt from PyPI)"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --upgrade pip
    "$VENV/bin/pip" install --quiet -r "$HERE/requirements.txt"
fi
"$VENV/bin/python" -c 'import openfisca_core, pyarrow' 2>/dev/null \
    || "$VENV/bin/pip" install --quiet -r "$HERE/requirements.txt"
PY=$VENV/bin/python
OPCITY=$TARGET/release/opcity

# Wall seconds and peak RSS (MiB) of a command, as "SECONDS MIB"; stdout goes to $OUT.
timed() {
    local stats=$DATA/.time
    /usr/bin/time -f '%e %M' -o "$stats" "$@" > "$OUT"
    awk '{ printf "%.2f %.0f\n", $1, $2 / 1024 }' "$stats"
}
best() { sort -n | head -1; }
