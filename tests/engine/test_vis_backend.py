"""tools/train.py --vis-backend: MMEngine's visualizer backends, and one message when the package is missing."""
import importlib.util

import pytest
from mmengine.config import Config

from tests.helpers import TINY, call_tool
from vinbig_mmdet.engine.config_utils import add_vis_backend
from vinbig_mmdet.errors import InputError


def visualizer():
    return Config(dict(visualizer=dict(type='DetLocalVisualizer', vis_backends=[dict(type='LocalVisBackend')])))


@pytest.mark.parametrize('name, backend', [('tensorboard', 'TensorboardVisBackend'), ('wandb', 'WandbVisBackend')])
def test_backend_added_once_next_to_the_local_files(name, backend, monkeypatch):
    monkeypatch.setattr(importlib.util, 'find_spec', lambda package: object())  # as if installed
    cfg = visualizer()
    add_vis_backend(cfg, name)
    add_vis_backend(cfg, name)
    assert [b['type'] for b in cfg.visualizer.vis_backends] == ['LocalVisBackend', backend]


def test_local_changes_nothing():
    cfg = visualizer()
    add_vis_backend(cfg, 'local')
    assert [b['type'] for b in cfg.visualizer.vis_backends] == ['LocalVisBackend']


def test_missing_package_names_the_extra(monkeypatch):
    monkeypatch.setattr(importlib.util, 'find_spec', lambda package: None)
    with pytest.raises(InputError, match=r"--vis-backend wandb: the wandb package is not installed.*"
                                         r"pip install 'vinbig-mmdet\[wandb\]'"):
        add_vis_backend(visualizer(), 'wandb')


@pytest.mark.skipif(importlib.util.find_spec('wandb') is not None, reason='wandb is installed here')
def test_train_refuses_a_backend_that_is_not_installed(tmp_path):
    proc = call_tool('tools/train.py', TINY, '--vis-backend', 'wandb', '--work-dir', tmp_path / 'w', check=False)
    assert proc.returncode == 1 and 'Traceback' not in proc.stderr
    assert "error: --vis-backend wandb: the wandb package is not installed; install it with pip install " \
           "'vinbig-mmdet[wandb]'" in proc.stderr
    assert not (tmp_path / 'w').exists()
