"""The runner's checkpoint safety pieces and its resume, in-process (its hooks: tests/engine/hooks)."""
import logging
import os
import zipfile

import pytest
import torch
from mmengine.runner import Runner

from vinbig_mmdet.engine.checkpoint import is_complete_checkpoint, newest_checkpoint
from vinbig_mmdet.engine.runner import VinBigRunner
from vinbig_mmdet.io.atomic import atomic_open, durable_replace


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


def write_text_atomic(path, text):
    with atomic_open(path, 'w') as f:
        f.write(text)


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


def resuming(work_dir, load_from=None):
    """A VinBigRunner asked to --resume (nothing built); MMEngine's own load_or_resume is not called."""
    runner = object.__new__(VinBigRunner)
    runner._has_loaded, runner._resume, runner._load_from = False, True, load_from
    runner._work_dir, runner.logger = str(work_dir), logging.getLogger('vinbig-resume-test')
    return runner


@pytest.fixture
def no_parent_resume(monkeypatch):
    monkeypatch.setattr(Runner, 'load_or_resume', lambda self: None)


def test_resume_says_which_checkpoint_and_skips_a_broken_one(tmp_path, no_parent_resume, caplog):
    torch.save({'n': 1}, tmp_path / 'epoch_1.pth')
    torch.save({'n': 2}, tmp_path / 'epoch_2.pth')
    (tmp_path / 'epoch_3.pth').write_bytes(b'half a zip')  # killed mid-write
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'epoch_3.pth'))
    runner = resuming(tmp_path)
    with caplog.at_level(logging.INFO, logger='vinbig-resume-test'):
        runner.load_or_resume()
    assert f'last_checkpoint names {tmp_path}/epoch_3.pth, which is missing or incomplete' in caplog.text
    assert f'--resume: resuming from {tmp_path}/epoch_2.pth' in caplog.text
    assert runner._load_from == str(tmp_path / 'epoch_2.pth') and runner._resume


def test_resume_without_a_checkpoint_says_it_starts_from_scratch(tmp_path, no_parent_resume, caplog):
    runner = resuming(tmp_path)
    with caplog.at_level(logging.INFO, logger='vinbig-resume-test'):
        runner.load_or_resume()
    assert f'--resume: no checkpoint in {tmp_path}; nothing to resume, training starts from scratch' in caplog.text
    assert not runner._resume


def test_resume_from_a_missing_file_names_it(tmp_path, no_parent_resume):
    with pytest.raises(FileNotFoundError, match=f'--resume {tmp_path}/nope.pth: no such checkpoint'):
        resuming(tmp_path, str(tmp_path / 'nope.pth')).load_or_resume()


@pytest.fixture
def runner(tmp_path, demo_root):
    """A VinBigRunner of the tests' ResNet-18 stand-in (nothing trained, nothing built but the model)."""
    from mmengine.config import Config

    from tests.helpers import TINY
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


def test_two_runners_in_one_process_log_to_their_own_folders(tmp_path, demo_root):
    """Folds trained in a loop in one notebook: MMDetection's visualizer is named 'visualizer', and MMEngine would
    hand the second runner the first one's, which writes into the first run's folder."""
    from mmengine.config import Config

    from tests.helpers import TINY
    from vinbig_mmdet.engine.config_utils import set_data_root
    folders = []
    for fold in (0, 1):
        cfg = Config.fromfile(TINY)
        set_data_root(cfg, str(demo_root))
        cfg.work_dir = str(tmp_path / f'fold{fold}')
        runner = VinBigRunner.from_cfg(cfg)
        folders.append(runner.visualizer._vis_backends['LocalVisBackend']._save_dir)
    assert [os.path.dirname(os.path.dirname(f)) for f in folders] == [str(tmp_path / 'fold0'), str(tmp_path / 'fold1')]
    assert os.path.isfile(os.path.join(folders[1], 'config.py'))
