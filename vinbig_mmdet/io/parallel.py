"""One function over many files in worker processes, for the converter and the image check.

- A file that raises is reported with its reason; the run goes on.
- A worker that dies (the out-of-memory killer, a decoder crash) breaks the whole pool in the standard library.
  Here the files that were in flight are retried one at a time, each alone in a fresh worker, so the file that
  kills its worker again is reported as failed and named; then the run goes on with a new pool.
- Stopping the main process stops its workers: SIGTERM and SIGINT end the run with the workers terminated, and
  on Linux a worker dies with its parent even when the parent is killed outright (SIGKILL).
"""
import ctypes
import signal
import threading
from collections import deque
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from typing import Callable, Deque, Iterable, Iterator, List, Optional, Tuple, TypeVar

T = TypeVar('T')
R = TypeVar('R')
Outcome = Tuple[T, Optional[R], Optional[str]]  # (item, result, reason it failed)

WORKER_DIED = ('the worker process died while reading this file (killed, e.g. by the out-of-memory killer, or a '
               'crash in a decoder)')
_PR_SET_PDEATHSIG = 1


def _worker_init() -> None:
    """Worker initializer: the parent decides when workers stop. SIGTERM ends a worker (a forked worker would
    otherwise inherit the parent's handler, raise, and carry on with the next file); Ctrl-C, which reaches the
    whole process group, is left to the parent; and on Linux the kernel kills the worker when its parent dies."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: SIGTERM/SIGINT are still handled by the parent
        pass


def _call(fn: Callable[[T], R], item: T) -> Tuple[Optional[R], Optional[str]]:
    try:
        return fn(item), None
    except Exception as exc:  # noqa: BLE001  (a bad file must never stop the run; the reason is reported)
        return None, f'{type(exc).__name__}: {exc}'


def _terminate(pool: ProcessPoolExecutor) -> None:
    """Stop the pool's workers now, mid-task (the standard shutdown waits for running tasks)."""
    processes = list((getattr(pool, '_processes', None) or {}).values())
    for process in processes:
        if process.is_alive():
            process.terminate()
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.join(timeout=5)


@contextmanager
def _sigterm_raises() -> Iterator[None]:
    """Turn SIGTERM into SystemExit (as SIGINT is KeyboardInterrupt), so clean-up code runs."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum, frame):
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _run_pool(fn, queue: Deque, workers: int, in_flight: int) -> Iterator[Tuple[Outcome, List]]:
    """Run ``queue`` on one pool. Yields ``(outcome, [])`` per finished item; if the pool breaks, a last
    ``(None, items in flight)``."""
    pool = ProcessPoolExecutor(workers, initializer=_worker_init)
    pending = {}
    finished = False
    try:
        while queue or pending:
            while queue and len(pending) < in_flight:
                item = queue.popleft()
                pending[pool.submit(_call, fn, item)] = item
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            lost = []
            for future in done:
                item = pending.pop(future)
                try:
                    result, reason = future.result()
                except BrokenProcessPool:
                    lost.append(item)
                    continue
                yield (item, result, reason), []
            if lost:
                yield None, lost + list(pending.values())
                return
        finished = True
    finally:
        if finished:
            pool.shutdown(wait=True)
        else:  # broken, stopped by a signal, or the caller stopped iterating
            _terminate(pool)


def map_files(fn: Callable[[T], R], items: Iterable[T], workers: int = 1,
              in_flight_per_worker: int = 2) -> Iterator[Outcome]:
    """Yield ``(item, fn(item), None)`` or ``(item, None, reason)`` for every item, in completion order.

    ``fn`` must be picklable (a module-level function). At most ``in_flight_per_worker`` items per worker are
    submitted at a time, so memory stays bounded by the number of workers.
    """
    queue = deque(items)
    with _sigterm_raises():
        while queue:
            suspects: List[T] = []
            for outcome, lost in _run_pool(fn, queue, workers, workers * in_flight_per_worker):
                if outcome is None:
                    suspects = lost
                else:
                    yield outcome
            for item in suspects:  # alone, so a worker that dies again names its file
                alone = [o for o, _ in _run_pool(fn, deque([item]), 1, 1)]
                yield alone[0] if alone and alone[0] is not None else (item, None, WORKER_DIED)
