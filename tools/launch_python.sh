# Sourced by tools/dist_*.sh and tools/slurm_*.sh: choose the Python that runs the tools, say which, and stop with
# one message (naming that interpreter and the fix) when it lacks torch/mmcv/mmdet/mmengine, instead of a module
# traceback from every torchrun or srun task.
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
