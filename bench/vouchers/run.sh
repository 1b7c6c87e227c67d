#!/usr/bin/env bash
# Voucher ledger throughput; see README.md beside this file.
set -euo pipefail
cd "$(dirname "$0")/../.."
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
exec cargo run --release --locked -p opcity-bench --bin ledger_bench -- "$@"
