#!/usr/bin/env bash
# The GPU check, one command, generated data only, under 8 minutes on one H100/H200 (budget enforced per section):
# mmcv.ops with CUDA; the main config and the short COCO-start config trained at 1024 px, fp32 and --amp (img/s,
# peak memory); tools/test.py with and without --tta (img/s); one table next to MMDetection's published Faster R-CNN
# R50-FPN figures. A failed section is recorded in the table and the next one runs.
#
#   bash benchmarks/gpu_check.sh [OUT_DIR [OPTION...]]  OUT_DIR: $GPU_CHECK_OUT, else $OUT, else work_dirs/gpu_check
#   bash benchmarks/gpu_check.sh "$OUT" --batch 2 4 32 --models main --n-train 160 --budget 480   (a batch sweep)
#   GPU_CHECK_DRY_RUN=1 bash benchmarks/gpu_check.sh OUT_DIR     CPU, 64 px, few images: checks that it all runs
#
# Run from anywhere; needs python3 that imports torch, mmcv (with ops), mmdet and the project's other dependencies,
# e.g. on the lent GPU machine, from the repository root:
#   python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .whl/*.whl
#   export PYTHONPATH=/tmp/site:$PWD && bash benchmarks/gpu_check.sh "$OUT"
# Writes table.md, results.json and sections.log to OUT_DIR; data and checkpoints go to $TMPDIR/vinbig_gpu_check.
# More options: python3 benchmarks/gpu_check.py --help
set -u
cd "$(dirname "$0")/.."
out="${1:-${GPU_CHECK_OUT:-${OUT:-work_dirs/gpu_check}}}"
shift $(( $# > 0 ? 1 : 0 ))
export PYTHONPATH="${PYTHONPATH:+$PYTHONPATH:}$PWD"
dry=()
# The script keeps its own budget (--budget: 420 s, dry run 900 s), section by section; this only ends a hang, just
# inside the device tool's 600 s per command (so a --budget above about 540 does not fit one device call).
limit=590
if [ -n "${GPU_CHECK_DRY_RUN:-}" ]; then dry=(--dry-run); limit=960; fi
exec timeout --kill-after=10 "$limit" python3 benchmarks/gpu_check.py --out "$out" "${dry[@]}" "$@"
