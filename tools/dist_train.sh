#!/usr/bin/env bash
# Distributed training with torchrun: bash tools/dist_train.sh CONFIG NGPUS [train.py args]
# Multi-node: NNODES, NODE_RANK, MASTER_ADDR, PORT (as in MMDetection). Without GPUs, NGPUS CPU processes (gloo).
# Python: PYTHON, else the active virtual environment, else the project's .venv (tools/launch_python.sh).
set -eo pipefail
if [ $# -lt 2 ]; then
  echo "usage: bash tools/dist_train.sh CONFIG NGPUS [tools/train.py arguments]" >&2
  exit 2
fi
source "$(dirname "$0")/launch_python.sh"
use_project_python dist_train.sh train.py
torchrun_tool "$2" train.py "$1" --launcher pytorch "${@:3}"
