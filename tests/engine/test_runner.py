"""Checkpoint safety pieces and the non-finite loss guard, in-process."""
import os
import zipfile

import pytest
import torch
from mmdet.structures import DetDataSample

from vinbig_mmdet.engine.runner import (NonFiniteLossHook, is_complete_checkpoint, newest_checkpoint,
                                        write_text_atomic)
from vinbig_mmdet.io.atomic import atomic_open, durable_replace


class FakeHub:
    def get_info(self, key, default=None):
        return 'work/epoch_3.pth' if key == 'last_ckpt' else default


class FakeRunner:
    iter, epoch, message_hub = 41, 2, FakeHub()


def test_non_finite_loss_names_iteration_and_images():
    hook = NonFiniteLossHook()
    samples = [DetDataSample(metainfo=dict(img_id='abc')), DetDataSample(metainfo=dict(img_id='def'))]
    hook.after_train_iter(FakeRunner(), 5, dict(data_samples=samples), dict(loss=torch.tensor(0.7)))  # fine
    for bad in (float('nan'), float('inf')):
        with pytest.raises(FloatingPointError, match=r"iteration 42 \(epoch 3.*\['abc', 'def'\].*epoch_3\.pth"):
            hook.after_train_iter(FakeRunner(), 5, dict(data_samples=samples), dict(loss=torch.tensor(bad)))


def test_complete_and_newest_checkpoints(tmp_path):
    for n in (1, 2, 10):
        torch.save({'n': n}, tmp_path / f'epoch_{n}.pth')
    data = (tmp_path / 'epoch_10.pth').read_bytes()
    (tmp_path / 'epoch_10.pth').write_bytes(data[:len(data) // 2])  # a half-written file
    torch.save({}, tmp_path / 'best_vinbig_mAP_epoch_2.pth')
    assert not is_complete_checkpoint(str(tmp_path / 'epoch_10.pth'))
    assert zipfile.is_zipfile(tmp_path / 'epoch_2.pth')
    assert newest_checkpoint(str(tmp_path)) == str(tmp_path / 'epoch_2.pth')
    assert newest_checkpoint(str(tmp_path / 'empty')) is None


def test_atomic_text_and_replace(tmp_path):
    write_text_atomic(str(tmp_path / 'last_checkpoint'), 'a/epoch_1.pth')
    write_text_atomic(str(tmp_path / 'last_checkpoint'), 'a/epoch_2.pth')
    assert (tmp_path / 'last_checkpoint').read_text() == 'a/epoch_2.pth'
    (tmp_path / 'x.tmp').write_bytes(b'123')
    durable_replace(str(tmp_path / 'x.tmp'), str(tmp_path / 'x'))
    assert sorted(os.listdir(tmp_path)) == ['last_checkpoint', 'x']
    with pytest.raises(RuntimeError):
        with atomic_open(str(tmp_path / 'x'), 'wb') as f:
            f.write(b'half')
            raise RuntimeError('killed')
    assert (tmp_path / 'x').read_bytes() == b'123'  # untouched, and no temporary file left
    assert sorted(os.listdir(tmp_path)) == ['last_checkpoint', 'x']
