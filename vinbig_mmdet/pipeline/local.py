"""The local executor: one machine, its GPUs. Steps run in the graph's order, each once its dependencies are done;
with several GPUs (``gpus=['0', '1', ...]``) that many single-GPU steps run side by side, each seeing one GPU
(CUDA_VISIBLE_DEVICES), or, with ``gpus_per_train`` N in the recipe, each training takes N of them through
tools/dist_train.sh. A failed step stops only the steps that need it."""
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Callable, Dict, List, Optional, Sequence

from .graph import Step
from .recipe import Recipe
from .state import log_path, read_marker, status
from .step import Runner, run_step, subprocess_runner


def run_local(recipe: Recipe, steps: List[Step], runner: Runner = subprocess_runner,
              gpus: Optional[Sequence[str]] = None, echo: Callable[[str], None] = print) -> Dict[str, List[str]]:
    """Run every step not done yet. Returns the step names by outcome: ran, done (already), failed, blocked."""
    outcome: Dict[str, List[str]] = {'ran': [], 'done': [], 'failed': [], 'blocked': []}
    finished: Dict[str, bool] = {}
    pending = list(steps)
    free = list(gpus) if gpus else []
    running: Dict[Future, tuple] = {}
    n = len(steps)
    # Several GPUs and one per training: steps side by side, one thread each waiting on its process.
    pool = ThreadPoolExecutor(len(free)) if len(free) > 1 and recipe.gpus_per_train == 1 else None

    def start(step: Step, ids: List[str]) -> bool:
        env = {} if not gpus else {'CUDA_VISIBLE_DEVICES': ','.join(ids) if step.gpus else ''}
        where = f' on GPU {",".join(ids)}' if gpus and step.gpus else ''
        echo(f'[{len(finished) + len(running) + 1}/{n}] {step.name}: running{where} '
             f'(log: {log_path(recipe.work_dir, step)})')
        if pool is None:
            return run_step(recipe, step, steps, runner, env)
        running[pool.submit(run_step, recipe, step, steps, runner, env)] = (step, ids, time.time())
        return True

    def report(step: Step, ok: bool) -> None:
        finished[step.name] = ok
        outcome['ran' if ok else 'failed'].append(step.name)
        marker = read_marker(recipe.work_dir, step, 'done' if ok else 'failed') or {}
        if ok:
            echo(f'    {step.name}: done in {marker.get("wall_s", 0):.0f} s')
        else:
            echo(f'    {step.name}: FAILED ({marker.get("problem")}); log: {marker.get("log")}')

    try:
        while pending or running:
            progressed = False
            for step in list(pending):
                if any(finished.get(d) is False or d in outcome['blocked'] for d in step.deps):
                    pending.remove(step)
                    outcome['blocked'].append(step.name)
                    progressed = True
                    continue
                if not all(finished.get(d) for d in step.deps):
                    continue
                if status(recipe.work_dir, step) == 'done':
                    pending.remove(step)
                    finished[step.name] = True
                    outcome['done'].append(step.name)
                    progressed = True
                    continue
                if pool is not None:
                    need = min(max(1, step.gpus), len(gpus))
                    if need > len(free):
                        continue  # waits for GPUs to come free
                    ids = [free.pop(0) for _ in range(need)]
                else:
                    ids = list(gpus or [])
                pending.remove(step)
                progressed = True
                if pool is None:
                    report(step, start(step, ids))
                else:
                    start(step, ids)
            if running:
                done, _ = wait(list(running), return_when=FIRST_COMPLETED)
                for future in done:
                    step, ids, _ = running.pop(future)
                    free.extend(ids)
                    report(step, future.result())
            elif not progressed and pending:  # cannot happen with a graph in order; guards a busy loop
                raise RuntimeError(f'steps {[s.name for s in pending]} cannot start')
    finally:
        if pool is not None:
            pool.shutdown(wait=True)
    return outcome
