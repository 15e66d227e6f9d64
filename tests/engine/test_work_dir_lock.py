"""One training per work dir (issue 21): the lock file, its stale detection, its release, the clean-up of a killed
checkpoint write's temporary file, and train.py refusing a second run at its start."""
import json
import os
import socket

import pytest

from tests.helpers import TINY, call_tool, refused
from vinbig_mmdet.engine.work_dir_lock import (
    LOCK_NAME,
    WorkDirLockedError,
    acquire,
    remove_stale_temporaries,
    work_dir_lock,
)


def write_lock(work, pid, host=None):
    work.mkdir(exist_ok=True)
    (work / LOCK_NAME).write_text(json.dumps(dict(pid=pid, host=host or socket.gethostname(),
                                                  started='2026-12-05 01:00:00 +0000', command='train.py A.py')))


def test_a_second_run_is_refused_naming_the_first(tmp_path):
    work = tmp_path / 'work'
    with work_dir_lock(str(work)) as path:
        held = json.loads(open(path).read())
        assert held['pid'] == os.getpid() and held['host'] == socket.gethostname() and held['started']
        write_twice = pytest.raises(WorkDirLockedError, match=rf'in use by another training: pid {os.getpid()} on '
                                    rf'{socket.gethostname()}, started .*lock file .*{LOCK_NAME}.*another --work-dir')
        with write_twice:
            acquire(str(work))
    assert not (work / LOCK_NAME).exists()  # released


def test_released_on_an_error(tmp_path):
    work = tmp_path / 'work'
    with pytest.raises(RuntimeError):
        with work_dir_lock(str(work)):
            raise RuntimeError('training failed')
    assert not (work / LOCK_NAME).exists()


def test_a_stale_lock_is_removed_and_logged(tmp_path):
    work = tmp_path / 'work'
    write_lock(work, pid=2**30)  # no such process on this host
    said = []
    with work_dir_lock(str(work), said.append):
        assert json.loads((work / LOCK_NAME).read_text())['pid'] == os.getpid()
    assert 'removed the stale lock' in said[0] and f'pid {2**30} no longer runs' in said[0]


def test_a_lock_from_another_host_is_kept(tmp_path):
    work = tmp_path / 'work'
    write_lock(work, pid=2**30, host='gpu-node-7')
    with pytest.raises(WorkDirLockedError, match=r'pid 1073741824 on gpu-node-7.*if that run is gone.*delete'):
        acquire(str(work))


def test_temporaries_of_a_killed_checkpoint_write_are_removed_and_counted(tmp_path):
    (tmp_path / '.best_vinbig_mAP_epoch_3.pth.tmp').write_bytes(b'\0' * 1000)
    (tmp_path / 'epoch_3.pth').write_bytes(b'x')
    said = []
    assert len(remove_stale_temporaries(str(tmp_path), said.append)) == 1
    assert not (tmp_path / '.best_vinbig_mAP_epoch_3.pth.tmp').exists() and (tmp_path / 'epoch_3.pth').exists()
    assert 'removed 1 temporary checkpoint file(s)' in said[0] and '.best_vinbig_mAP_epoch_3.pth.tmp' in said[0]


def test_train_py_refuses_a_locked_work_dir_at_start(demo_root, tmp_path):
    work = tmp_path / 'work'
    write_lock(work, pid=os.getpid())  # a live run (this process)
    proc = call_tool('tools/train.py', TINY, '--data-path', demo_root, '--work-dir', work, '--n-epochs', 1,
                     check=False)
    refused(proc, 'is in use by another training', f'pid {os.getpid()}', LOCK_NAME)
    assert not list(work.glob('*.pth')) and (work / LOCK_NAME).exists()  # nothing trained, the lock kept
