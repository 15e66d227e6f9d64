"""One training per work dir at a time: a lock file held for the run's life.

Two trainings writing into one work dir overwrite each other's checkpoints (each goes through a fixed temporary
name) and ``last_checkpoint``. The lock file ``<work_dir>/.train.lock`` holds the owner's pid, host, start time and
command; it is created atomically (``O_EXCL``) at the start of training and removed at any exit that runs Python's
clean-up (normal end, an error, Ctrl-C). A run killed outright (SIGKILL, a crash of the machine) leaves the file;
it is stale when its pid no longer runs on this host, and the next run then removes it and says so. A lock taken on
another host (a shared file system) cannot be checked from here: the message says how to remove it by hand.
"""
import contextlib
import glob
import json
import os
import os.path as osp
import socket
import sys
import time
from typing import Iterator, List, Optional

from ..errors import InputError

LOCK_NAME = '.train.lock'
_UNREADABLE_GRACE_S = 60  # a lock file caught between its creation and its first write


class WorkDirLockedError(InputError):
    """Another training holds the work dir."""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def _read(path: str) -> Optional[dict]:
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def stale_reason(path: str, holder: Optional[dict]) -> Optional[str]:
    """Why the lock at ``path`` is stale (its owner is gone), or None if it may still be held."""
    if holder is None:
        try:
            age = time.time() - os.path.getmtime(path)
        except OSError:
            return 'the lock file vanished'
        return f'unreadable lock file {age:.0f} s old' if age > _UNREADABLE_GRACE_S else None
    if holder.get('host') == socket.gethostname() and not _alive(int(holder.get('pid', 0) or 0)):
        return f'pid {holder.get("pid")} no longer runs on {holder.get("host")}'
    return None


def _describe(holder: Optional[dict]) -> str:
    if holder is None:
        return 'a run whose lock file is being written'
    return (f'pid {holder.get("pid")} on {holder.get("host")}, started {holder.get("started")} '
            f'({holder.get("command", "?")})')


def acquire(work_dir: str, log=print) -> str:
    """Take the lock of ``work_dir`` (created if needed); returns the lock file's path. Raises
    :class:`WorkDirLockedError` naming the run that holds it."""
    os.makedirs(work_dir, exist_ok=True)
    path = osp.join(work_dir, LOCK_NAME)
    me = dict(pid=os.getpid(), host=socket.gethostname(), started=time.strftime('%Y-%m-%d %H:%M:%S %z'),
              command=' '.join([osp.basename(sys.argv[0])] + sys.argv[1:]) if sys.argv else '?')
    for _ in range(3):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            holder = _read(path)
            reason = stale_reason(path, holder)
            if reason is None:
                raise WorkDirLockedError(
                    f'{work_dir} is in use by another training: {_describe(holder)} (lock file {path}). Wait for '
                    f'it to end, or train into another --work-dir; if that run is gone (e.g. its machine crashed), '
                    f'delete {path}') from None
            with contextlib.suppress(FileNotFoundError):
                os.remove(path)
            log(f'work dir lock: removed the stale lock {path} ({reason})')
            continue
        with os.fdopen(fd, 'w') as f:
            json.dump(me, f)
        return path
    raise WorkDirLockedError(f'{path}: could not take the work dir lock (other runs keep taking it); train into '
                             f'another --work-dir')


def release(path: str) -> None:
    """Remove the lock if this process still owns it."""
    holder = _read(path)
    if holder is not None and holder.get('pid') == os.getpid() and holder.get('host') == socket.gethostname():
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)


@contextlib.contextmanager
def work_dir_lock(work_dir: str, log=print) -> Iterator[str]:
    """Hold the lock of ``work_dir`` for the ``with`` block; released at its end, also after an error."""
    path = acquire(work_dir, log)
    try:
        yield path
    finally:
        release(path)


def remove_stale_temporaries(work_dir: str, log=print) -> List[str]:
    """Remove the hidden ``.<name>.pth.tmp`` files a killed checkpoint write left (the runner writes checkpoints
    under such a name, then renames them). Only call it while holding the lock: then no write is in progress."""
    stale = sorted(glob.glob(osp.join(glob.escape(work_dir), '.*.pth.tmp')))
    for path in stale:
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)
    if stale:
        log(f'work dir: removed {len(stale)} temporary checkpoint file(s) left by an interrupted write: '
            f'{", ".join(osp.basename(p) for p in stale[:5])}')
    return stale
