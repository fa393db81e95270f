#!/usr/bin/env bash
# Rebuild the real-run corpus: train every missing run (skip-existing), then label.
#   RR_PY=/work/rr-venv/bin/python bash benchmarks/realruns/make_all.sh
# Then, with lossdoc's venv:  python benchmarks/realruns/check_read.py
set -euo pipefail
cd "$(dirname "$0")"
PY=${RR_PY:-/work/rr-venv/bin/python}
export KERAS_BACKEND=torch OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 TOKENIZERS_PARALLELISM=false
for t in sklearn xgboost tensorboard nanogpt keras lightning hf; do
  nice -n 5 "$PY" "train_$t.py"
done
"$PY" label.py
