#!/usr/bin/env bash
# The CUDA check in one call, for a GPU machine without a package registry: install what it
# lacks from wheels in .whl/ (fetched beforehand with `make gpu-wheels`), run the CUDA tests,
# then the CUDA benchmarks suite by suite, and leave logs and results in $OUT.
#
#   OUT=gpu-out bash benchmarks/gpu_check.sh           # everything
#   STEPS="tests" bash benchmarks/gpu_check.sh         # only some steps: tests bench full
#   BENCH_SUITES="graph vision" SUITE_S_graph=300 bash benchmarks/gpu_check.sh
#
# Each step has its own time limit (seconds, overridable), so a slow step cannot take the
# results of the others with it.
set -u
OUT=${OUT:-gpu-out}
PY=${PYTHON:-python3}
STEPS=${STEPS:-"tests bench"}
BENCH_SUITES=${BENCH_SUITES:-"vision utilities graph loader imbalance"}
TESTS_S=${TESTS_S:-150}
SUITE_S=${SUITE_S:-150}
FULL_S=${FULL_S:-240}
BUDGET_S=${BUDGET_S:-2}
export PYTHONUNBUFFERED=1 OMP_WAIT_POLICY=PASSIVE
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
parts=$(mktemp -d)

{
  date -u
  nvidia-smi || echo "no nvidia-smi"
  $PY -c "import sys, torch; print(sys.version); print('torch', torch.__version__, 'cuda',
torch.version.cuda, 'available', torch.cuda.is_available()); print(torch.cuda.get_device_name())"
} >"$OUT/machine.txt" 2>&1

if [ -d .whl ] && ls .whl/*.whl >/dev/null 2>&1; then
  $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/augkit-site .whl/*.whl >>"$OUT/machine.txt" 2>&1 || echo "wheel install failed" >>"$OUT/machine.txt"
  export PYTHONPATH=/tmp/augkit-site${PYTHONPATH:+:$PYTHONPATH}
fi
$PY -m pip install -q --no-index --no-deps --no-build-isolation -e . >>"$OUT/machine.txt" 2>&1 \
  || echo "augkit install failed" >>"$OUT/machine.txt"
$PY -m pip list 2>/dev/null | grep -i -E "^(torch|torchvision|torch.geometric|numba|numpy|scikit-learn|imbalanced|kornia|albumentations|augkit) " >>"$OUT/machine.txt"

for step in $STEPS; do
  case $step in
    tests)
      # The CUDA tests (every test marked cuda: device agreement, properties on the device).
      timeout -k 10 "$TESTS_S" $PY -m pytest -q -p no:cacheprovider -m cuda -rfEs \
        >"$OUT/cuda-tests.log" 2>&1
      echo "cuda tests exit $?" >>"$OUT/cuda-tests.log"
      ;;
    bench)
      for suite in $BENCH_SUITES; do
        echo "== $suite $(date -u +%T)" >>"$OUT/bench.log"
        limit_var="SUITE_S_$suite"
        timeout -k 10 "${!limit_var:-$SUITE_S}" $PY -m augkit bench --device cuda --suite "$suite" --budget-s "$BUDGET_S" \
          --no-progress --out "$parts/$suite.json" >>"$OUT/bench.log" 2>&1
        echo "== $suite exit $?" >>"$OUT/bench.log"
      done
      files=""
      for suite in $BENCH_SUITES; do
        [ -f "$parts/$suite.json" ] && files="$files $parts/$suite.json"
      done
      if [ -n "$files" ]; then
        # shellcheck disable=SC2086
        $PY -m augkit bench --render $files --markdown "$OUT/RESULTS-cuda.md" \
          --out "$OUT/results-cuda.json" >/dev/null 2>>"$OUT/bench.log"
        tar -czf "$OUT/bench-parts.tgz" -C "$parts" . 2>>"$OUT/bench.log"
      fi
      ;;
    full)
      # The whole suite on this machine's packages, in parallel where pytest-xdist is there.
      xdist=""
      $PY -c "import xdist" 2>/dev/null && xdist="-n 8"
      # shellcheck disable=SC2086
      timeout -k 10 "$FULL_S" $PY -m pytest -q -p no:cacheprovider $xdist -x \
        >"$OUT/full-tests.log" 2>&1
      echo "full tests exit $?" >>"$OUT/full-tests.log"
      ;;
  esac
done
ls -la "$OUT"
