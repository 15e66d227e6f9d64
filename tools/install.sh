#!/usr/bin/env bash
# Idempotent environment set-up for vinbig-mmdet (what `make install` runs).
#
#   bash tools/install.sh [--venv DIR] [--find-links DIR] [--python PY] [--torch VER --torchvision VER] [--isolated]
#
# - creates DIR (default .venv) with PY (default python3) and --system-site-packages, so a GPU machine's own torch
#   is kept (--isolated: without the system's packages);
# - installs torch 2.14.1 + torchvision 0.29.1 only when no torch is importable; with --torch/--torchvision,
#   exactly those versions (what `make test-compat` uses for its second stack);
# - installs mmcv 2.1.0 WITH its compiled ops (CUDA ops too when CUDA is present), from a prebuilt wheel in
#   --find-links if one fits this torch, else from the sdist, patched to C++20 for torch >= 2.14;
# - installs mmengine 0.10.7, mmdet 3.3.0 and this package (editable, with test extras);
# - ends by checking that mmcv.ops loads, and fails loudly with the fix if not.
set -euo pipefail

VENV=.venv
FIND_LINKS=()
BASE_PYTHON=python3
TORCH=
TORCHVISION=
SITE_PACKAGES=--system-site-packages
while (($#)); do
  case "$1" in
    --venv) VENV=$2; shift 2 ;;
    --find-links) [ -d "$2" ] && FIND_LINKS=(--find-links "$2"); shift 2 ;;
    --python) BASE_PYTHON=$2; shift 2 ;;
    --torch) TORCH=$2; shift 2 ;;
    --torchvision) TORCHVISION=$2; shift 2 ;;
    --isolated) SITE_PACKAGES=; shift ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

MMCV_VERSION=2.1.0
say() { echo "[install] $*"; }

if [[ -n "$TORCH" && -z "$TORCHVISION" || -z "$TORCH" && -n "$TORCHVISION" ]]; then
  echo "install.sh: --torch and --torchvision go together (a torchvision is built for one torch)" >&2; exit 2
fi
runs() { "$1" -c 'import sys' >/dev/null 2>&1; }
if [ ! -x "$VENV/bin/python" ]; then
  if ! runs "$BASE_PYTHON" && command -v pyenv >/dev/null 2>&1; then
    # pyenv's shim runs only the versions chosen with `pyenv global/local`: look in every installed version.
    for version in $(pyenv versions --bare 2>/dev/null); do
      candidate="$(pyenv root)/versions/$version/bin/$BASE_PYTHON"
      if runs "$candidate"; then BASE_PYTHON=$candidate; fi
    done
  fi
  if ! runs "$BASE_PYTHON"; then
    echo "[install] ERROR: $BASE_PYTHON not found. Install it (e.g. pyenv install 3.12, or your system's python3.12" \
      "package), or name another one: install.sh --python PATH (make test-compat COMPAT_PYTHON=PATH)." >&2
    exit 1
  fi
  if [ -n "$SITE_PACKAGES" ]; then
    say "creating virtual environment $VENV with $BASE_PYTHON (system site-packages visible, so an existing torch is reused)"
  else
    say "creating virtual environment $VENV with $BASE_PYTHON (isolated from the system's site-packages)"
  fi
  "$BASE_PYTHON" -m venv $SITE_PACKAGES "$VENV"
fi
PY="$VENV/bin/python"
PIP=("$PY" -m pip install --disable-pip-version-check -q)

# Build and run-time helpers first: mmcv's setup.py and mmengine's `mmdet::` lookup import pkg_resources.
"${PIP[@]}" "setuptools>=61,<80" wheel ninja "numpy>=1.24"

torch_is() {  # the venv's torch and torchvision are exactly --torch and --torchvision (any +local build tag)
  "$PY" -c "import sys, torch, torchvision as tv; v = lambda m: m.__version__.split('+')[0]; sys.exit((v(torch), v(tv)) != ('$TORCH', '$TORCHVISION'))" 2>/dev/null
}
if [ -n "$TORCH" ]; then
  if ! torch_is; then
    say "installing torch $TORCH + torchvision $TORCHVISION"
    "${PIP[@]}" "torch==$TORCH" "torchvision==$TORCHVISION"
  fi
elif ! "$PY" -c "import torch" 2>/dev/null; then
  say "no torch found: installing torch 2.14.1 + torchvision 0.29.1"
  "${PIP[@]}" torch==2.14.1 torchvision==0.29.1
elif ! "$PY" -c "import torchvision" 2>/dev/null; then
  FOUND=$("$PY" -c "import torch; print(torch.__version__.split('+')[0])")
  say "torch $FOUND found without torchvision: installing a torchvision that keeps it"
  "${PIP[@]}" torchvision "torch==$FOUND"
fi
"$PY" -c "import torch, torchvision; print('[install] torch', torch.__version__, 'torchvision', torchvision.__version__, 'cuda', torch.cuda.is_available())"

mmcv_ok() {
  "$PY" - <<PYEOF 2>/dev/null
import mmcv
assert mmcv.__version__ == "$MMCV_VERSION", mmcv.__version__
from mmcv.ops import nms, RoIAlign  # noqa: F401  (fails when built without ops or for another torch)
PYEOF
}

if mmcv_ok; then
  say "mmcv $MMCV_VERSION with ops already works"
else
  # mmcv's own run-time dependencies, so the no-deps installs below are complete.
  "${PIP[@]}" addict "mmengine==0.10.7" packaging Pillow pyyaml yapf opencv-python
  if ((${#FIND_LINKS[@]})); then
    say "trying a prebuilt mmcv wheel from ${FIND_LINKS[1]}"
    "$PY" -m pip install -q --no-deps --no-index --force-reinstall "${FIND_LINKS[@]}" "mmcv==$MMCV_VERSION" 2>/dev/null \
      || say "no usable wheel there"
    mmcv_ok || { say "that wheel does not fit this torch: building from source"; "$PY" -m pip uninstall -q -y mmcv || true; }
  fi
  if ! mmcv_ok; then
    say "building mmcv $MMCV_VERSION with compiled ops from source (10-20 min on 2 cores)"
    BUILD=$(mktemp -d)
    "$PY" -m pip download -q --no-deps --no-binary :all: --no-build-isolation -d "$BUILD" "mmcv==$MMCV_VERSION"
    tar -xzf "$BUILD"/mmcv-$MMCV_VERSION.tar.gz -C "$BUILD"
    # torch >= 2.14 headers refuse C++17, which mmcv 2.1.0's setup.py hard-codes (CFLAGS cannot override it).
    if "$PY" -c "import sys, torch; v = tuple(int(x) for x in torch.__version__.split('+')[0].split('.')[:2]); sys.exit(v < (2, 14))"; then
      sed -i 's/-std=c++17/-std=c++20/g' "$BUILD/mmcv-$MMCV_VERSION/setup.py"
    fi
    # --no-build-isolation: with isolation pip silently builds mmcv WITHOUT mmcv._ext.
    # --no-cache-dir: pip's wheel cache is keyed by the sdist only, not by torch.
    MMCV_WITH_OPS=1 MAX_JOBS="${MAX_JOBS:-$(nproc)}" "$PY" -m pip install --no-deps --no-build-isolation --no-cache-dir \
      "$BUILD/mmcv-$MMCV_VERSION"
    rm -rf "$BUILD"
  fi
fi

say "installing mmengine 0.10.7, mmdet 3.3.0 and vinbig-mmdet (editable, with test extras)"
"${PIP[@]}" "${FIND_LINKS[@]}" -e ".[tests]"

if ! mmcv_ok; then
  cat >&2 <<MSG
[install] ERROR: mmcv $MMCV_VERSION cannot load its compiled ops (from mmcv.ops import nms failed).
  Fix: $VENV/bin/pip uninstall -y mmcv && rm -f $VENV/.installed, then run the same make command again
  (mmcv must be built with MMCV_WITH_OPS=1 and --no-build-isolation against the torch in $VENV;
   see README.md, section Installation.)
MSG
  exit 1
fi
"$PY" -c "import mmcv, mmdet, mmengine, vinbig_mmdet; from mmcv.ops import nms, RoIAlign; print('[install] OK: mmcv', mmcv.__version__, 'mmdet', mmdet.__version__, 'mmengine', mmengine.__version__)"
