#!/usr/bin/env bash
# Load figures for docs/performance.md: otto on SQLite (one instance), on
# PostgreSQL (one and three instances), each run with the bare axum handler
# measured in the same run by the same client.
#
#   bench/load.sh [sqlite|pg1|pg3|all] [SECONDS] [CONCURRENCY]
#
# Builds release binaries, starts `otto serve` processes on fresh databases
# (a temporary SQLite file; PostgreSQL database `otto_bench` on
# 127.0.0.1:5432, recreated, or OTTO_BENCH_POSTGRES_URL's server), runs
# `otto-load run` against them and stops them. Logging is at warn, as a
# production server under load would be set. Before each setup it prints how
# often the machine stopped a spinning thread (`otto-load stalls`): on a
# shared or virtual machine those stalls, not otto, can set the p99.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
source bench/lib.sh

what="${1:-all}"
seconds="${2:-10}"
concurrency="${3:-16}"
target="${CARGO_TARGET_DIR:-target}"
cargo build --release -q -p otto -p otto-load
otto="$target/release/otto"
load="$target/release/otto-load"

export OTTO_ACCOUNT_SID=AC0000000000000000000000000000be0c
export OTTO_AUTH_TOKEN=bench-token
export RUST_LOG=warn
work="$(mktemp -d)"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

# start_otto DB PORT: starts an instance and waits until it answers turns.
start_otto() {
    "$otto" serve --listen "127.0.0.1:$2" --db "$1" >"$work/otto-$2.log" 2>&1 &
    pids+=($!)
    wait_for_otto "${pids[-1]}" "$2" "$work/otto-$2.log"
}

stop_all() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    pids=()
}

fresh_postgres() {
    local base="${OTTO_BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
    psql -q "$base" -c "DROP DATABASE IF EXISTS otto_bench" -c "CREATE DATABASE otto_bench" >/dev/null
    echo "${base%/*}/otto_bench"
}

run() {
    echo "== $1"
    shift
    # What the machine itself does to a running thread just before (other
    # processes, a virtual machine's host): stalls of several ms set a p99.
    echo "machine: $("$load" stalls --seconds 3)"
    "$load" run --duration "$seconds" --concurrency "$concurrency" "$@" || true
    echo
}

if [[ "$what" == sqlite || "$what" == all ]]; then
    db="sqlite://$work/otto.db"
    start_otto "$db" 18101
    run "SQLite, one instance" --url http://127.0.0.1:18101 --db "$db"
    stop_all
fi
if [[ "$what" == pg1 || "$what" == all ]]; then
    db="$(fresh_postgres)"
    start_otto "$db" 18111
    run "PostgreSQL, one instance" --url http://127.0.0.1:18111 --db "$db"
    stop_all
fi
if [[ "$what" == pg3 || "$what" == all ]]; then
    db="$(fresh_postgres)"
    start_otto "$db" 18121
    start_otto "$db" 18122
    start_otto "$db" 18123
    run "PostgreSQL, three instances (round-robin)" --url http://127.0.0.1:18121 \
        --url http://127.0.0.1:18122 --url http://127.0.0.1:18123 --db "$db"
    stop_all
fi
