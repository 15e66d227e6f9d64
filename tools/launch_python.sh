# Sourced by tools/dist_*.sh and tools/slurm_*.sh: choose the Python that runs the tools, say which, and stop with
# one message (naming that interpreter and the fix) when it lacks torch/mmcv/mmdet/mmengine, instead of a module
# traceback from every torchrun or srun task; then launch the tool (torchrun_tool / srun_tool, below) the same way
# for every script.
#
# The choice, first that applies: $PYTHON; the active virtual environment ($VIRTUAL_ENV, after
# `source .venv/bin/activate`); the project's .venv (made by `make install`, `make demo`, `make test`); python3.
#
#   use_project_python SCRIPT_NAME TOOL     sets PYTHON, or exits 1

use_project_python() {
  local script=$1 tool=$2 root origin fix report
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  local install="run \`make install\` in $root (it creates .venv, which this script then uses)"
  local other="or set PYTHON to a Python that has them: PYTHON=/path/to/bin/python bash tools/$script ..."
  if [ -n "${PYTHON:-}" ]; then
    origin='from PYTHON' fix="unset PYTHON and $install, $other"
  elif [ -n "${VIRTUAL_ENV:-}" ] && [ -x "$VIRTUAL_ENV/bin/python" ]; then
    PYTHON=$VIRTUAL_ENV/bin/python origin='the active virtual environment'
    fix="deactivate it and $install, or activate one that has them, $other"
  elif [ -x "$root/.venv/bin/python" ]; then
    PYTHON=$root/.venv/bin/python origin="the project's .venv"
    fix="finish the install: rm -f $root/.venv/.installed && make install (in $root), $other"
  else
    PYTHON=python3 origin='found on PATH' fix="$install, $other"
  fi
  if ! command -v "$PYTHON" >/dev/null 2>&1; then
    printf '%s: error: no Python at %s (%s).\n  Fix: %s\n' "$script" "$PYTHON" "$origin" "$fix" >&2
    exit 1
  fi
  # find_spec, not import: cheap, and it runs on a login node without GPUs too.
  if ! report=$("$PYTHON" - <<'PYEOF' 2>&1
import importlib.util, sys
from importlib import metadata
names = ('torch', 'mmcv', 'mmdet', 'mmengine')
missing = [n for n in names if importlib.util.find_spec(n) is None]
if missing:
    print(', '.join(missing))
    sys.exit(1)
def version(name):
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return '?'
print(f'Python {sys.version.split()[0]}; ' + ', '.join(f'{n} {version(n)}' for n in names))
PYEOF
  ); then
    printf '%s: error: %s (%s) has no %s, which tools/%s needs.\n  Fix: %s\n' \
      "$script" "$PYTHON" "$origin" "${report//$'\n'/ }" "$tool" "$fix" >&2
    exit 1
  fi
  echo "$script: python: $PYTHON ($origin; $report)" >&2
}

# The launch itself, after use_project_python: tools/TOOL (next to this file, from any working folder) with ARGS
# passed on unchanged, each one word. ARGS must name the launcher (--launcher pytorch / --launcher=slurm) before the
# user's own flags, as MMDetection's scripts do: the dist_*.sh and slurm_*.sh put it after their positional ones.
#
#   torchrun_tool NGPUS TOOL ARGS...                 torchrun on this node (multi-node: NNODES, NODE_RANK,
#                                                    MASTER_ADDR, PORT)
#   srun_tool PARTITION JOB_NAME TOOL ARGS...        srun (GPUS, GPUS_PER_NODE, CPUS_PER_TASK, SRUN_ARGS), echoed

torchrun_tool() {
  local gpus=$1 tool=$2 tools_dir
  shift 2
  tools_dir=$(dirname "${BASH_SOURCE[0]}")
  PYTHONPATH="$tools_dir/..":$PYTHONPATH \
  "$PYTHON" -m torch.distributed.run \
      --nnodes="${NNODES:-1}" \
      --node_rank="${NODE_RANK:-0}" \
      --master_addr="${MASTER_ADDR:-127.0.0.1}" \
      --nproc_per_node="$gpus" \
      --master_port="${PORT:-29500}" \
      "$tools_dir/$tool" "$@"
}

srun_tool() {
  local partition=$1 job_name=$2 tool=$3 gpus_per_node=${GPUS_PER_NODE:-8} tools_dir
  shift 3
  tools_dir=$(dirname "${BASH_SOURCE[0]}")
  set -x
  # SRUN_ARGS is a list of srun options in one variable: split on purpose
  # shellcheck disable=SC2086
  PYTHONPATH="$tools_dir/..":$PYTHONPATH \
  srun -p "$partition" \
      --job-name="$job_name" \
      --gres=gpu:"$gpus_per_node" \
      --ntasks="${GPUS:-8}" \
      --ntasks-per-node="$gpus_per_node" \
      --cpus-per-task="${CPUS_PER_TASK:-5}" \
      --kill-on-bad-exit=1 \
      ${SRUN_ARGS:-} \
      "$PYTHON" -u "$tools_dir/$tool" "$@"
}
