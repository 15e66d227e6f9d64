"""Running one step: its command (or operation), then its outputs renamed from their partial names, then its done
marker. The same function runs a step for the local executor and inside a SLURM job (``tools/pipeline.py RECIPE
--run-step NAME``); how a tool command runs is a parameter (a new process for users, ``tests.helpers.call_tool``
in the tests)."""
import os
import os.path as osp
import shutil
import signal
import subprocess
import sys
import time
import traceback
from typing import Callable, Dict, List, Optional

from .graph import Step, partial
from .recipe import Recipe
from .state import clear_marker, log_path, step_signature, write_marker

#: ``runner(argv, log_file, env) -> exit status``: runs a tool command (``argv`` as in :attr:`Step.argv`).
Runner = Callable[[List[str], str, Dict[str, str]], int]


def _die_with_parent() -> None:
    """Linux: the step's process ends when the pipeline is killed, so that a rerun never races an orphan still
    writing the same partial files."""
    try:
        import ctypes
        ctypes.CDLL('libc.so.6', use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def subprocess_runner(argv: List[str], log_file: str, env: Dict[str, str]) -> int:
    """A new process, as a user types the command; its output goes to ``log_file``."""
    cmd = list(argv) if argv[0] == 'bash' else [sys.executable, *argv]
    with open(log_file, 'a') as log:
        log.write(f'$ {" ".join(cmd)}\n')
        log.flush()
        return subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **env},
                              preexec_fn=_die_with_parent if sys.platform == 'linux' else None).returncode


def _remove(path: str) -> None:
    if osp.isdir(path) and not osp.islink(path):
        shutil.rmtree(path)
    elif osp.lexists(path):
        os.remove(path)


def _collect_checkpoint(work: str, out: str) -> Optional[str]:
    """Hard-link (or copy) the training's last checkpoint to ``out``; a problem's message, or None."""
    pointer = osp.join(work, 'last_checkpoint')
    if not osp.isfile(pointer):
        return f'{pointer} does not exist: the training wrote no checkpoint'
    ckpt = open(pointer).read().strip()
    if not osp.isabs(ckpt) and not osp.isfile(ckpt):
        ckpt = osp.join(work, osp.basename(ckpt))
    if not osp.isfile(ckpt):
        return f'{pointer} names {ckpt}, which does not exist'
    try:
        os.link(ckpt, out)
    except OSError:  # another file system, or no hard links there
        shutil.copyfile(ckpt, out)
    return None


def _own_work_dir(work: str, signature: Optional[str]) -> None:
    """A training resumes (``--resume``) only from checkpoints of the same step with the same inputs: a work dir
    left by other inputs (an edited config, other folds) is moved aside to ``WORK.previous``, not resumed from."""
    stamp = osp.join(work, 'pipeline_signature.txt')
    old = open(stamp).read().strip() if osp.isfile(stamp) else None
    if osp.isdir(work) and old != signature:
        _remove(work + '.previous')
        os.replace(work, work + '.previous')
    os.makedirs(work, exist_ok=True)
    with open(stamp, 'w') as f:
        f.write(f'{signature}\n')


def run_step(recipe: Recipe, step: Step, steps: List[Step], runner: Runner = subprocess_runner,
             env: Optional[Dict[str, str]] = None) -> bool:
    """Run ``step``; True when it finished and its outputs are under their final names."""
    from . import ops
    wd = recipe.work_dir
    log = log_path(wd, step)
    os.makedirs(osp.dirname(log), exist_ok=True)
    for out in step.outputs:  # what a killed run left is not trusted
        _remove(partial(out))
        os.makedirs(osp.dirname(out) or '.', exist_ok=True)
    clear_marker(wd, step, 'failed')
    signature = step_signature(step)
    start = time.time()
    with open(log, 'w') as f:
        f.write(f'# step {step.name}: {step.command()}\n')
    problem = None
    try:
        if step.checkpoint_from:
            _own_work_dir(step.checkpoint_from, signature)
        if step.op:
            with open(log, 'a') as f:
                f.write(ops.OPS[step.op](recipe, steps, **step.kwargs) + '\n')
        else:
            code = runner(step.argv, log, env or {})
            if code != 0:
                problem = f'exit status {code}'
        if problem is None and step.checkpoint_from:
            problem = _collect_checkpoint(step.checkpoint_from, partial(step.outputs[0]))
    except Exception:  # noqa: BLE001 - an operation's error is the step's failure, recorded with its log
        with open(log, 'a') as f:
            f.write(traceback.format_exc())
        problem = 'an error (traceback in the log)'
    missing = [partial(p) for p in step.outputs if not osp.exists(partial(p))]
    if problem is None and missing:
        problem = f'it did not write {missing}'
    wall = time.time() - start
    if problem is not None:  # what it wrote is not kept under any name that could be taken for a result
        for out in step.outputs:
            _remove(partial(out))
        write_marker(wd, step, 'failed', problem=problem, log=log, command=step.command(), wall_s=wall)
        return False
    for out in step.outputs:
        if osp.isdir(out) and osp.isdir(partial(out)):
            raise FileExistsError(f'{out} exists and was not written by step {step.name}: move it away, or set '
                                  f'data_root to it and leave out demo_data')
        os.replace(partial(out), out)
    write_marker(wd, step, 'done', signature=signature or step_signature(step), wall_s=round(wall, 2),
                 outputs=step.outputs, log=log, command=step.command())
    return True
