#!/usr/bin/env bash
# otto's NLU against the classic baseline, on the same files, in one run.
#
#   bench/nlu.sh            every data set in ../shared/data/nlu
#   bench/nlu.sh snips      only the named ones
#
# Needs python3 with scikit-learn and sklearn-crfsuite (installed on first use with pip).
# The baseline's training time is LinearSVC's fit plus, on data sets with entities,
# the CRF's fit: the classic pipeline that does what otto's training does.
# Timings on shared machines vary: compare the ratios printed in one run.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${OTTO_NLU_DATA:-../shared/data/nlu}
if ! python3 -c 'import sklearn, sklearn_crfsuite' 2>/dev/null; then
    echo "installing scikit-learn and sklearn-crfsuite for the baseline..." >&2
    python3 -m pip install --quiet scikit-learn sklearn-crfsuite
fi
cargo build --release --quiet -p otto
OTTO=${CARGO_TARGET_DIR:-target}/release/otto

runs=(
    "snips $DATA/snips/train.jsonl $DATA/snips/test.jsonl"
    "snips-small $DATA/snips/train_small.jsonl $DATA/snips/test.jsonl"
    "snips-goo $DATA/snips_goo/train.jsonl $DATA/snips_goo/test.jsonl"
    "banking77 $DATA/banking77/train.jsonl $DATA/banking77/test.jsonl"
)
printf '%-12s %-8s %9s %9s %9s %9s %11s\n' set engine intent slot_f1 train_s p50_us train_ratio
for run in "${runs[@]}"; do
    read -r name train test <<<"$run"
    if [ $# -gt 0 ] && [[ ! " $* " == *" ${name%%-*} "* && ! " $* " == *" $name "* ]]; then
        continue
    fi
    otto_json=$($OTTO nlu eval --train "$train" --test "$test" --json)
    sk_json=$(python3 bench/sklearn_baseline.py "$train" "$test")
    python3 - "$name" "$otto_json" "$sk_json" <<'PY'
import json, sys
name, otto, sk = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
pct = lambda v: "-" if v is None else f"{v*100:.2f}%"
print(f"{name:<12} {'otto':<8} {pct(otto['intent_accuracy']):>9} {pct(otto['slot_f1']):>9} "
      f"{otto['train_seconds']:>9.3f} {otto['parse_us_p50']:>9.1f} "
      f"{otto['train_seconds']/sk['fit_seconds']:>11.3f}")
print(f"{'':<12} {'sklearn':<8} {pct(sk['intent_accuracy']):>9} {pct(sk['slot_f1']):>9} "
      f"{sk['fit_seconds']:>9.3f} {sk['parse_us_p50']:>9.1f} {'1':>11}")
PY
done
