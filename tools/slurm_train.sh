#!/usr/bin/env bash
# SLURM training: bash tools/slurm_train.sh PARTITION JOB_NAME CONFIG WORK_DIR [train.py args]
# Overridable: GPUS (8), GPUS_PER_NODE (8), CPUS_PER_TASK (5), SRUN_ARGS, PYTHON (else the active virtual
# environment, else the project's .venv: tools/launch_python.sh).
if [ $# -lt 4 ]; then
  echo "usage: bash tools/slurm_train.sh PARTITION JOB_NAME CONFIG WORK_DIR [tools/train.py arguments]" >&2
  exit 2
fi
source "$(dirname "$0")/launch_python.sh"
use_project_python slurm_train.sh train.py
srun_tool "$1" "$2" train.py "$3" --work-dir="$4" --launcher=slurm "${@:5}"
