#!/usr/bin/env bash
# Distributed testing with torchrun: bash tools/dist_test.sh CONFIG CHECKPOINT NGPUS [test.py args]
# Multi-node: NNODES, NODE_RANK, MASTER_ADDR, PORT. Without GPUs, NGPUS CPU processes (gloo).
# Python: PYTHON, else the active virtual environment, else the project's .venv (tools/launch_python.sh).
set -eo pipefail
if [ $# -lt 3 ]; then
  echo "usage: bash tools/dist_test.sh CONFIG CHECKPOINT NGPUS [tools/test.py arguments]" >&2
  exit 2
fi
source "$(dirname "$0")/launch_python.sh"
use_project_python dist_test.sh test.py
torchrun_tool "$3" test.py "$1" "$2" --launcher pytorch "${@:4}"
