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


@pytest.fixture
def runner(tmp_path, demo_root):
    """A VinBigRunner of the tests' ResNet-18 stand-in (nothing trained, nothing built but the model)."""
    from mmengine.config import Config

    from tests.tools.test_train_e2e import TINY
    from vinbig_mmdet.engine.config_utils import set_data_root
    from vinbig_mmdet.engine.runner import VinBigRunner
    cfg = Config.fromfile(TINY)
    set_data_root(cfg, str(demo_root))
    cfg.work_dir = str(tmp_path / 'work')
    return VinBigRunner.from_cfg(cfg)


def checkpoint_like(runner, path, **shapes):
    """The runner's own weights, some replaced by zeros of another shape (``key=shape``)."""
    state = {k: v.clone() for k, v in runner.model.state_dict().items()}
    for key, shape in shapes.items():
        state[key.replace('__', '.')] = torch.zeros(shape)
    torch.save({'state_dict': state, 'meta': {}}, path)
    return str(path)


def test_load_from_may_replace_the_box_head_only(runner, tmp_path):
    from vinbig_mmdet.engine.checkpoint import CheckpointError
    coco = checkpoint_like(runner, tmp_path / 'coco.pth', roi_head__bbox_head__fc_cls__weight=(81, 1024),
                           roi_head__bbox_head__fc_cls__bias=(81, ), roi_head__bbox_head__fc_reg__weight=(320, 1024),
                           roi_head__bbox_head__fc_reg__bias=(320, ))
    head_before = runner.model.roi_head.bbox_head.fc_cls.weight.detach().clone()
    with torch.no_grad():
        runner.model.backbone.conv1.weight.add_(1.0)  # differs from the checkpoint until loaded
    runner.load_checkpoint(coco)  # training's load_from: the head of another class count is left out
    saved = torch.load(coco)['state_dict']
    assert torch.equal(runner.model.backbone.conv1.weight, saved['backbone.conv1.weight'])
    assert torch.equal(runner.model.roi_head.bbox_head.fc_cls.weight, head_before)

    other = checkpoint_like(runner, tmp_path / 'r50.pth', backbone__conv1__weight=(64, 3, 3, 3))
    with pytest.raises(CheckpointError, match=r'r50\.pth does not fit.*backbone\.conv1\.weight: checkpoint '
                                              r'\(64, 3, 3, 3\), model \(64, 3, 7, 7\).*allow_partial_checkpoint'):
        runner.load_checkpoint(other)
    runner.cfg.allow_partial_checkpoint = True
    runner.load_checkpoint(other)  # deliberate: what fits is loaded

    runner.cfg.allow_partial_checkpoint = False
    runner._checkpoint_use = 'test'  # tools/test.py: the checkpoint must be this model's, head included
    with pytest.raises(CheckpointError, match=r'coco\.pth does not fit.*fc_cls.*--allow-partial'):
        runner.load_checkpoint(coco)
