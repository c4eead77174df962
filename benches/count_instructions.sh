#!/usr/bin/env bash
# Instruction counts (callgrind) of the workloads the core's changes are
# judged by: binary-trees depth 16 on one thread (strata and strata-raw,
# whole program) and the one-thread bank transfer (instructions a
# transaction: the difference between a 1 s and a 3 s run, which cancels
# building the accounts and the harness's set-up). Built with one codegen
# unit, so that moving code between files does not move counts through the
# compiler's partitioning. The RSS sampler reads /proc every 5 ms, so whole-
# program counts vary by a few hundred thousand instructions with the
# machine's speed.
#
# usage: benches/count_instructions.sh [OUT_DIR]   (needs valgrind, python3)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-target/instruction-counts}
mkdir -p "$out"
CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1 cargo build -q --release -p strata-bench \
    --target-dir target/codegen-units-1
bin=target/codegen-units-1/release/strata-bench
count() { # name, args...
    local name=$1; shift
    valgrind --tool=callgrind --callgrind-out-file="$out/$name.callgrind" "$bin" "$@" \
        --threads 1 --json >"$out/$name.json" 2>"$out/$name.log"
}
count bt-strata binary-trees --depth 16 --runtime strata
count bt-strata-raw binary-trees --depth 16 --runtime strata-raw
for s in 1 3; do
    count "bank-$s" bank --accounts 1024 --read-every 0 --runtime strata --seconds "$s"
done
python3 - "$out" <<'PY'
import json, re, subprocess, sys
out = sys.argv[1]
def total(name, only=None):
    text = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--auto=no",
                           f"{out}/{name}.callgrind"], capture_output=True, text=True).stdout
    for line in text.splitlines():
        if (only or "PROGRAM TOTALS") in line:
            return int(line.split()[0].replace(",", ""))
    sys.exit(f"{name}: no line with {only!r}")
def commits(name):
    return json.loads(open(f"{out}/{name}.json").read().splitlines()[-1])["commits"]
for rt in ("strata", "strata-raw"):
    print(f"binary-trees depth 16, {rt}: {total('bt-' + rt):,} instructions")
worker = "pthread_create.c:start_thread"
per_tx = (total("bank-3", worker) - total("bank-1", worker)) / (commits("bank-3") - commits("bank-1"))
print(f"bank, one thread: {per_tx:.1f} instructions a transfer")
PY
