#!/usr/bin/env bash
# What one turn costs otto, measured so that two builds can be compared on a
# shared, noisy machine (docs/performance.md, "Comparing two builds").
#
#   bench/turn-cost.sh cpu [RATE] [SECONDS] [ROUNDS] [OTTO...]
#       otto's CPU time (user + system, from /proc) per turn over an open-loop
#       run at RATE turns/s (default 3000) on a fresh SQLite database, one line
#       per run; with several binaries, their runs alternate ROUNDS times
#       (default 3), so that the machine's load falls on each alike.
#   bench/turn-cost.sh callgrind [RATE] [SECONDS] [ROUNDS] [OTTO...]
#       instructions per turn in user space, counted by valgrind's callgrind
#       over RATE turns/s (default 100: every turn commits alone) after a
#       warm-up; about ±1 % between runs whatever else the machine does, but
#       blind to system calls and cache misses (compare with `cpu`).
#
# Without OTTO arguments it measures this tree's release build. The load
# client is this tree's `otto-load`; the demo assistant's conversations.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
source bench/lib.sh

mode="${1:-cpu}"
case "$mode" in
    cpu) default_rate=3000 ;;
    callgrind) default_rate=100 ;;
    *)
        echo "usage: bench/turn-cost.sh cpu|callgrind [RATE] [SECONDS] [ROUNDS] [OTTO...]" >&2
        exit 2
        ;;
esac
rate="${2:-$default_rate}"
seconds="${3:-5}"
rounds="${4:-3}"
shift $(($# < 4 ? $# : 4))
target="${CARGO_TARGET_DIR:-target}"
cargo build --release -q -p otto -p otto-load
load="$target/release/otto-load"
binaries=("$@")
if [ ${#binaries[@]} -eq 0 ]; then
    binaries=("$target/release/otto")
fi
if [ "$mode" = callgrind ] && ! command -v valgrind >/dev/null; then
    echo "valgrind is not installed: bench/turn-cost.sh callgrind needs it (apt install valgrind)" >&2
    exit 1
fi

export OTTO_ACCOUNT_SID=AC0000000000000000000000000000be0c
export OTTO_AUTH_TOKEN=bench-token
export RUST_LOG=warn
work="$(mktemp -d)"
pid=""
cleanup() {
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

# start OTTO PORT [WRAPPER...]: otto serve on a fresh database, waits until it answers.
start() {
    local otto="$1" port="$2"
    shift 2
    rm -rf "$work/db" && mkdir -p "$work/db"
    "$@" "$otto" serve --listen "127.0.0.1:$port" --db "sqlite://$work/db/otto.db" \
        >"$work/db/log" 2>&1 &
    pid=$!
    # Under valgrind otto starts tens of times slower.
    wait_for_otto "$pid" "$port" "$work/db/log" 600
}

stop() {
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    pid=""
}

# drive PORT SECONDS: an open-loop run; prints the number of turns counted.
drive() {
    "$load" run --url "http://127.0.0.1:$1" --no-baseline --rate "$rate" \
        --duration "$2" --warmup 0 --json |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["fixed_rate"]["turns"])'
}

cpu_ticks() {
    awk '{print $14 + $15}' "/proc/$1/stat"
}

measure_cpu() {
    local otto="$1"
    start "$otto" 18410
    drive 18410 2 >/dev/null # warm-up
    local before after turns
    before=$(cpu_ticks "$pid")
    turns=$(drive 18410 "$seconds")
    after=$(cpu_ticks "$pid")
    stop
    python3 -c "import os, sys; t = int(sys.argv[2]); ticks = int(sys.argv[1]); \
print(f'{sys.argv[3]}: {t} turns, {ticks / os.sysconf(\"SC_CLK_TCK\") / t * 1e6:.1f} us of CPU a turn')" \
        "$((after - before))" "$turns" "$otto"
}

measure_instructions() {
    local otto="$1" out="$work/callgrind.out"
    rm -f "$out"*
    start "$otto" 18411 valgrind --tool=callgrind "--callgrind-out-file=$out" --dump-instr=no
    drive 18411 3 >/dev/null # warm-up
    callgrind_control -z "$pid" >/dev/null 2>&1
    local turns
    turns=$(drive 18411 "$seconds")
    callgrind_control -d "$pid" >/dev/null 2>&1
    sleep 1
    stop
    local total
    total=$(callgrind_annotate "$out.1" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1; exit}')
    python3 -c "import sys; print(f'{sys.argv[3]}: {sys.argv[2]} turns, {int(sys.argv[1]) / int(sys.argv[2]) / 1e3:.1f}k instructions a turn')" \
        "$total" "$turns" "$otto"
}

echo "$mode at $rate turns/s, $seconds s a run, $rounds round(s), load average $(cut -d' ' -f1-3 /proc/loadavg)"
for _ in $(seq 1 "$rounds"); do
    for otto in "${binaries[@]}"; do
        if [ "$mode" = cpu ]; then measure_cpu "$otto"; else measure_instructions "$otto"; fi
    done
done
