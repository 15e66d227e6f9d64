"""Training killed at any moment (SIGKILL, also mid-checkpoint) resumes and finishes; NaN losses stop cleanly;
seeded runs repeat; two CPU processes (gloo) train and test like one."""
import errno
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import torch
from mmengine.fileio.backends.local_backend import LocalBackend

from tests.helpers import ROOT, TINY, call_tool, demo_checkout, on_demo, readme_command, scalars, typed

pytestmark = pytest.mark.e2e

SLOW_SAVE = str(Path(__file__).with_name('slow_checkpoint_train.py'))
_PUT = LocalBackend.put


def start(args, log):
    env = dict(os.environ, PYTHONUNBUFFERED='1', CUDA_VISIBLE_DEVICES='')
    return subprocess.Popen([sys.executable, *map(str, args)], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT)


def wait_for(predicate, proc, timeout=300):
    end = time.time() + timeout
    while time.time() < end:
        if predicate():
            return
        if proc.poll() is not None:
            raise AssertionError(f'process ended ({proc.returncode}) before the kill point')
        time.sleep(0.05)
    raise AssertionError('kill point never reached')


def sha(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def test_sigkill_anywhere_then_resume_finishes(demo_root, tmp_path):
    """Killed (a new process, SIGKILL) while training, then mid-checkpoint; resumed in this process each time."""
    work = tmp_path / 'work'
    common = [TINY, '--data-path', demo_root, '--work-dir', work, '--n-epochs', 1]
    with open(tmp_path / 'log1', 'w') as log:
        # 1. killed while training the first epoch: nothing to resume yet
        proc = start(['tools/train.py', *common], log)
        wait_for(lambda: 'Epoch(train)' in (tmp_path / 'log1').read_text(), proc)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    proc = call_tool('tools/train.py', *common, '--resume', check=False)
    log = proc.stdout + proc.stderr
    assert 'nothing to resume' in log and 'starts from scratch' in log
    assert proc.returncode == 0

    # 2. killed in the middle of writing a checkpoint (the writes of epoch 2's files are slowed down)
    work2 = tmp_path / 'work2'
    common2 = [TINY, '--data-path', demo_root, '--work-dir', work2, '--n-epochs', 2]
    with open(tmp_path / 'log2', 'w') as logf:
        proc = start([SLOW_SAVE, *common2], logf)
        wait_for(lambda: (work2 / 'epoch_1.pth').is_file() and (work2 / '.epoch_2.pth.tmp').is_file(), proc)
        time.sleep(0.5)  # well inside the write
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert not (work2 / 'epoch_2.pth').exists()  # no half file under the final name
    assert (work2 / 'last_checkpoint').read_text().strip().endswith('epoch_1.pth')
    torch.load(work2 / 'epoch_1.pth', map_location='cpu')  # the previous one is intact
    proc = call_tool('tools/train.py', *common2, '--resume')
    assert 'resumed epoch: 1' in proc.stdout + proc.stderr
    assert (work2 / 'last_checkpoint').read_text().strip().endswith('epoch_2.pth')
    assert [s['step'] for s in scalars(work2) if 'vinbig/mAP' in s][-1] == 2

    # 3. last_checkpoint lost: --resume still finds the newest complete checkpoint
    (work2 / 'last_checkpoint').unlink()
    proc = call_tool('tools/train.py', *common2[:-1], 3, '--resume')
    assert 'resuming from' in proc.stdout + proc.stderr and 'epoch_2.pth' in proc.stdout + proc.stderr
    proc = call_tool('tools/test.py', TINY, work2 / 'epoch_3.pth', '--data-path', demo_root, '--val',
                     '--work-dir', tmp_path / 't')
    assert 'VinBigData mAP@0.4' in proc.stdout + proc.stderr


def put_until_full(self, obj: bytes, filepath) -> None:
    """MMEngine's file write on a disk that fills up while epoch_2.pth is written: half the file, then ENOSPC."""
    if 'epoch_2' not in str(filepath):
        return _PUT(self, obj, filepath)
    with open(filepath, 'wb') as f:
        f.write(obj[:len(obj) // 2])
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(filepath))


def test_disk_full_during_a_checkpoint_write_leaves_no_partial_file(demo_root, tmp_path, monkeypatch):
    work = tmp_path / 'work'
    with monkeypatch.context() as patch:
        patch.setattr(LocalBackend, 'put', put_until_full)  # mmengine's save_checkpoint writes through put()
        proc = call_tool('tools/train.py', TINY, '--data-path', demo_root, '--work-dir', work, '--n-epochs', 2,
                         check=False)
    assert proc.returncode == 1 and 'Traceback' not in proc.stderr, proc.stderr[-3000:]
    assert f'{work / "epoch_2.pth"}: writing the checkpoint failed (No space left on device)' in proc.stderr
    assert not list(work.glob('.*.tmp')) and not (work / 'epoch_2.pth').exists()  # the 90 MB .tmp is gone
    assert (work / 'last_checkpoint').read_text().strip().endswith('epoch_1.pth')
    torch.load(work / 'epoch_1.pth', map_location='cpu')  # the earlier checkpoint is intact
    proc = call_tool('tools/train.py', TINY, '--data-path', demo_root, '--work-dir', work, '--n-epochs', 2,
                     '--resume')
    assert 'resumed epoch: 1' in proc.stdout + proc.stderr and (work / 'epoch_2.pth').is_file()


def test_non_finite_loss_stops_and_keeps_the_checkpoint(trained, demo_root, tmp_path):
    """A NaN loss while continuing a finished run (the shared trained model's copy): stopped, nothing replaced."""
    source, _, _ = trained
    work = tmp_path / 'work'
    work.mkdir()
    shutil.copy(source / 'epoch_1.pth', work / 'epoch_1.pth')
    (work / 'last_checkpoint').write_text(str(work / 'epoch_1.pth'))
    before = sha(work / 'epoch_1.pth'), (work / 'last_checkpoint').read_text()
    proc = call_tool('tools/train.py', TINY, '--data-path', demo_root, '--work-dir', work, '--n-epochs',
                     2, '--resume', '--cfg-options', 'model.rpn_head.loss_cls.loss_weight=nan', check=False)
    assert proc.returncode != 0
    assert 'non-finite loss' in proc.stderr and 'iteration' in proc.stderr
    assert (sha(work / 'epoch_1.pth'), (work / 'last_checkpoint').read_text()) == before
    assert not (work / 'epoch_2.pth').exists()


def test_seeded_deterministic_runs_repeat(demo_root, tmp_path):
    """Two seeded, deterministic runs with a loader worker (its seed matters too) log the same losses."""
    losses = []
    for k in range(2):
        work = tmp_path / f'w{k}'
        call_tool('tools/train.py', TINY, '--data-path', demo_root, '--work-dir', work, '--n-epochs', 1,
                  '--log-step', 1, '--n-workers', 1, '--cfg-options', 'randomness.seed=0',
                  'randomness.deterministic=True', 'train_cfg.val_interval=9')
        losses.append([s['loss'] for s in scalars(work) if 'loss' in s])
    assert len(losses[0]) >= 2
    assert losses[0] == losses[1]


@pytest.mark.slow
def test_two_cpu_processes_train_and_test_like_one(demo_root, tmp_path):
    """The README's dist_train.sh and dist_test.sh lines, typed in an activated shell on the demo (2 CPU processes,
    gloo): every rank exits cleanly (status 0, no abort at exit), and the submission equals one process's."""
    co = demo_checkout(demo_root, tmp_path, with_folds=True)
    dist_train = readme_command(lambda a: a[:2] == ['bash', 'tools/dist_train.sh'] and len(a) == 4)
    proc = typed(on_demo(dist_train, gpus=2), co)
    assert f'dist_train.sh: python: {sys.prefix}/bin/python (the active virtual environment' in proc.stderr
    assert 'terminate called' not in proc.stderr and 'ChildFailedError' not in proc.stderr
    work = co / 'work_dirs' / 'tiny_r18'
    assert (work / 'epoch_1.pth').is_file() and not (work / 'epoch_2.pth').exists()
    assert len(list(work.glob('*/*.log'))) == 1 and len(list(work.glob('*/vis_data/scalars.json'))) == 1
    assert not list(work.glob('.*.tmp'))

    one = tmp_path / 'one.csv'
    call_tool('tools/test.py', TINY, work / 'epoch_1.pth', '--data-path', demo_root, '--submission', one,
              '--work-dir', tmp_path / 't1')
    dist_test = readme_command(lambda a: a[:2] == ['bash', 'tools/dist_test.sh'])
    proc = typed(on_demo(dist_test, gpus=2, ckpt=work / 'epoch_1.pth'), co)
    assert 'terminate called' not in proc.stderr and 'ChildFailedError' not in proc.stderr
    a = pd.read_csv(one, dtype={'image_id': str}).set_index('image_id')
    b = pd.read_csv(co / dist_test[-1], dtype={'image_id': str}).set_index('image_id')
    assert b.index.is_unique and sorted(a.index) == sorted(b.index)  # every image exactly once
    assert a.loc[b.index].equals(b)
