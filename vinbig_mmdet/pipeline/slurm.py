"""The SLURM executor: each step not done yet becomes one ``sbatch`` job that runs ``tools/pipeline.py RECIPE
--run-step NAME`` (the same :func:`.step.run_step` as locally), held by ``--dependency=afterok:`` on the jobs of
the steps it needs, so SLURM itself orders and starts them; a failed job cancels its dependents
(``--kill-on-invalid-dep=yes``). Steps already done are not submitted, and nothing waits on them."""
import json
import os
import re
import shlex
import subprocess
import sys
from typing import Callable, Dict, List, Sequence

from ..errors import InputError
from ..io.atomic import atomic_open
from .graph import Step
from .recipe import Recipe
from .state import log_path, pipeline_dir, status


def sbatch_argv(step: Step, wrap: str, log: str, dependencies: Sequence[str], sbatch: str = 'sbatch',
                extra: Sequence[str] = (), cwd: str = '.') -> List[str]:
    argv = [sbatch, '--parsable', f'--job-name=vinbig.{step.name}', f'--output={log}', f'--chdir={cwd}',
            '--nodes=1', '--ntasks=1']
    if step.gpus:
        argv.append(f'--gres=gpu:{step.gpus}')
    if dependencies:
        argv += [f'--dependency=afterok:{":".join(dependencies)}', '--kill-on-invalid-dep=yes']
    return argv + list(extra) + ['--wrap', wrap]


def submit_slurm(recipe: Recipe, steps: List[Step], step_command: Callable[[Step], str], sbatch: str = 'sbatch',
                 extra: Sequence[str] = (), echo: Callable[[str], None] = print) -> Dict[str, str]:
    """Submit the steps not done; returns step name -> SLURM job id (also written to .pipeline/slurm_jobs.json).
    ``step_command(step)``: the shell command a job runs."""
    jobs: Dict[str, str] = {}
    cwd = os.getcwd()
    for step in steps:
        if status(recipe.work_dir, step) == 'done':
            echo(f'{step.name}: done, not submitted')
            continue
        log = os.path.abspath(log_path(recipe.work_dir, step))
        os.makedirs(os.path.dirname(log), exist_ok=True)
        deps = [jobs[d] for d in step.deps if d in jobs]
        argv = sbatch_argv(step, step_command(step), log, deps, sbatch, extra, cwd)
        try:
            proc = subprocess.run(argv, capture_output=True, text=True)
        except FileNotFoundError as exc:
            raise InputError(f'{sbatch} not found: run on a SLURM login node, or give --sbatch PATH') from exc
        match = re.match(r'\s*(\d+)', proc.stdout)
        if proc.returncode != 0 or not match:
            raise InputError(f'sbatch refused step {step.name} (exit {proc.returncode}): '
                             f'{(proc.stderr or proc.stdout).strip()[:500]}\n  command: {shlex.join(argv)}\n'
                             f'  jobs submitted so far: {jobs}')
        jobs[step.name] = match.group(1)
        echo(f'{step.name}: job {jobs[step.name]}' + (f' after {",".join(deps)}' if deps else ''))
    path = pipeline_dir(recipe.work_dir, 'slurm_jobs.json')
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with atomic_open(path, 'w') as f:
        json.dump(jobs, f, indent=2)
    return jobs


def job_command(recipe_path: str, options: Sequence[str], step: Step) -> str:
    """What a SLURM job runs: this interpreter, the pipeline tool, one step."""
    return shlex.join([sys.executable, 'tools/pipeline.py', recipe_path, *options, '--run-step', step.name])
