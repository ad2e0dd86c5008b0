#!/usr/bin/env bash
# A short throughput run of `nbreview verify` for a machine with a GPU (it also runs on a CPU, with
# smaller defaults): images/s of the input pipeline and of training for nbreview-mini and
# EfficientNetB0, peak GPU memory, then the wall time of one real verification (3 experiments,
# 3 seeds, synthetic data). Numbers go to stdout and to $OUT (default: verify-bench/).
#
#   bash benchmarks/verify_gpu.sh                 # after scripts/test.sh (uses .venv)
#   PYTHON=python3 OUT=/tmp/vb bash benchmarks/verify_gpu.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
OUT=${OUT:-verify-bench}
mkdir -p "$OUT"
if command -v nvidia-smi >/dev/null 2>&1; then
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$OUT/gpu.txt"
  nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -lms 500 > "$OUT/gpu-memory.log" &
  SMI=$!
  trap 'kill $SMI 2>/dev/null || true' EXIT
else
  echo "no nvidia-smi: CPU run (GPU numbers are not measured)" | tee "$OUT/gpu.txt"
fi

for backbone in nbreview-mini EfficientNetB0; do
  echo "== training throughput: $backbone"
  "$PY" benchmarks/verify_throughput.py --backbone "$backbone" --json "$OUT/throughput-$backbone.json"
done

echo "== one verification: 3 experiments x 3 seeds, synthetic data"
start=$(date +%s)
"$PY" -m nbreview verify fixtures/example_student.ipynb --data synthetic --no-progress \
  --rules rescale-efficientnet,augmented-validation,checkpoint-save-best-only --output "$OUT/example.verify.json" \
  2> "$OUT/verify.log"
end=$(date +%s)
echo "verify wall time: $((end - start)) s (log: $OUT/verify.log)" | tee "$OUT/verify-time.txt"
grep "^✓" "$OUT/verify.log" || true
if [ -s "$OUT/gpu-memory.log" ]; then
  echo "peak GPU memory used (nvidia-smi, MiB): $(sort -n "$OUT/gpu-memory.log" | tail -1)" | tee -a "$OUT/gpu.txt"
fi
