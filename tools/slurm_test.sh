#!/usr/bin/env bash
# SLURM testing: bash tools/slurm_test.sh PARTITION JOB_NAME CONFIG CHECKPOINT [test.py args]
# Overridable: GPUS (8), GPUS_PER_NODE (8), CPUS_PER_TASK (5), SRUN_ARGS, PYTHON (else the active virtual
# environment, else the project's .venv: tools/launch_python.sh).
if [ $# -lt 4 ]; then
  echo "usage: bash tools/slurm_test.sh PARTITION JOB_NAME CONFIG CHECKPOINT [tools/test.py arguments]" >&2
  exit 2
fi
source "$(dirname "$0")/launch_python.sh"
use_project_python slurm_test.sh test.py
srun_tool "$1" "$2" test.py "$3" "$4" --launcher=slurm "${@:5}"
