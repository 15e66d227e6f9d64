"""What is done: a step is done when its marker (``WORK_DIR/.pipeline/done/STEP.json``) exists, records the
signature the step has now (its command and the content of its inputs), and all its outputs exist. A failed
step leaves ``.pipeline/failed/STEP.json`` (its log and the command to rerun it) instead; nothing is ever written
under an output's final name before the step has finished (:func:`.graph.partial`)."""
import hashlib
import json
import os
import os.path as osp
import time
from typing import Dict, Optional

from ..io.atomic import atomic_open
from .graph import Step

HASH_LIMIT = 64 << 20  # larger files (checkpoints) are known by size and modification time, not content


def pipeline_dir(work_dir: str, *parts: str) -> str:
    return osp.join(work_dir, '.pipeline', *parts)


def file_signature(path: str) -> Optional[str]:
    """Content hash of a file (size and mtime for a large file or a folder); None when it does not exist."""
    if osp.isdir(path):
        st = os.stat(path)
        return f'dir:{st.st_mtime_ns}'
    if not osp.isfile(path):
        return None
    st = os.stat(path)
    if st.st_size > HASH_LIMIT:
        return f'size:{st.st_size}:mtime:{st.st_mtime_ns}'
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            h.update(block)
    return 'sha256:' + h.hexdigest()


def step_signature(step: Step) -> Optional[str]:
    """A hash of what the step's result depends on; None while an input is missing (an earlier step must run)."""
    inputs = {}
    for path in step.inputs:
        sig = file_signature(path)
        if sig is None:
            return None
        inputs[path] = sig
    what = json.dumps({'argv': step.argv, 'op': step.op, 'kwargs': step.kwargs, 'outputs': step.outputs,
                       'inputs': inputs}, sort_keys=True, default=str)
    return hashlib.sha256(what.encode()).hexdigest()


def marker_path(work_dir: str, step: Step, kind: str = 'done') -> str:
    return pipeline_dir(work_dir, kind, step.name + '.json')


def log_path(work_dir: str, step: Step) -> str:
    return pipeline_dir(work_dir, 'logs', step.name + '.log')


def read_marker(work_dir: str, step: Step, kind: str = 'done') -> Optional[dict]:
    path = marker_path(work_dir, step, kind)
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):  # absent, or not JSON (written by something else): not done
        return None


def status(work_dir: str, step: Step) -> str:
    """'done', 'stale' (done once, but its command or inputs changed since), 'failed' (its last run) or 'todo'."""
    marker = read_marker(work_dir, step)
    if marker is not None and all(osp.exists(p) for p in step.outputs):
        if marker.get('signature') == step_signature(step):
            return 'done'
        return 'stale'
    if read_marker(work_dir, step, 'failed') is not None:
        return 'failed'
    return 'todo'


def write_marker(work_dir: str, step: Step, kind: str, **record) -> None:
    path = marker_path(work_dir, step, kind)
    os.makedirs(osp.dirname(path), exist_ok=True)
    with atomic_open(path, 'w') as f:
        json.dump(dict(step=step.name, time=time.strftime('%Y-%m-%d %H:%M:%S'), **record), f, indent=2)


def clear_marker(work_dir: str, step: Step, kind: str) -> None:
    try:
        os.remove(marker_path(work_dir, step, kind))
    except FileNotFoundError:
        pass


def wall_times(work_dir: str, steps) -> Dict[str, float]:
    """Seconds each done step took, from its marker."""
    out = {}
    for step in steps:
        marker = read_marker(work_dir, step)
        if marker and 'wall_s' in marker:
            out[step.name] = float(marker['wall_s'])
    return out
