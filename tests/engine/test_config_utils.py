"""The original script's flags land in the right places of the MMEngine config."""
from argparse import Namespace
from pathlib import Path

import pytest
from mmengine.config import Config

from vinbig_mmdet.engine.config_utils import (
    apply_train_shortcuts,
    check_data_root,
    check_device,
    load_config,
    set_submission_file,
    set_work_dir,
    use_val_split_for_test,
)
from vinbig_mmdet.errors import InputError

MAIN = str(Path(__file__).resolve().parents[2] / 'configs' / 'vinbig_faster_rcnn.py')


def shortcuts(**kw):
    names = ['data_path', 'save_path', 'lr', 'momentum', 'n_epochs', 'batch_size', 'step_size', 'gamma',
             'n_workers', 'device', 'log_step']
    return Namespace(**{n: kw.get(n) for n in names})


def test_original_script_flags():
    cfg = load_config(MAIN, data_path='/data/vb')
    apply_train_shortcuts(cfg, shortcuts(save_path='/runs/a', lr=0.01, momentum=0.8, n_epochs=40, batch_size=8,
                                         step_size=10, gamma=0.5, n_workers=0, log_step=7))
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        assert cfg[key].dataset.data_root == '/data/vb'
        assert cfg[key].num_workers == 0 and cfg[key].persistent_workers is False
    assert cfg.work_dir == '/runs/a'
    assert cfg.optim_wrapper.optimizer.lr == 0.01 and cfg.optim_wrapper.optimizer.momentum == 0.8
    assert cfg.train_cfg.max_epochs == 40 and cfg.train_dataloader.batch_size == 8
    step = [s for s in cfg.param_scheduler if s.type == 'MultiStepLR'][0]
    assert step.milestones == [10, 20, 30] and step.gamma == 0.5 and step.end == 40
    assert cfg.default_hooks.logger.interval == 7


def test_no_flags_change_nothing():
    cfg, ref = Config.fromfile(MAIN), Config.fromfile(MAIN)
    apply_train_shortcuts(cfg, shortcuts())
    assert cfg.to_dict() == ref.to_dict()


def test_device_checks(monkeypatch):
    with pytest.raises(InputError, match='--device must be cpu, cuda or cuda:N'):
        check_device('tpu')
    monkeypatch.setenv('CUDA_VISIBLE_DEVICES', '')
    assert check_device('cpu') == 'cpu'
    with pytest.raises(InputError, match="--device cuda:1: no CUDA device is visible.*--device cpu"):
        check_device('cuda:1')
    with pytest.raises(InputError, match='CUDA_VISIBLE_DEVICES=2,3 bash tools/dist_train.sh'):
        check_device('cuda:1', launcher='pytorch')


@pytest.mark.parametrize('how', ['flag', 'cfg-option'])
def test_missing_data_root_message(tmp_path, how):
    def load(root):
        return load_config(MAIN, data_path=root) if how == 'flag' else load_config(MAIN, dict(data_root=root))
    cfg = load(str(tmp_path / 'none'))
    assert all(cfg[k].dataset.data_root == str(tmp_path / 'none') for k in ('train_dataloader', 'test_dataloader'))
    with pytest.raises(InputError, match=f"(?s){tmp_path / 'none'} does not exist.*make demo.*--data-path DIR"):
        check_data_root(cfg)
    check_data_root(load(str(tmp_path)))


def test_val_split_and_submission_file():
    cfg = Config.fromfile(MAIN)
    use_val_split_for_test(cfg)
    assert cfg.test_dataloader.dataset.split == 'val'
    set_submission_file(cfg, '/tmp/sub.csv')
    assert cfg.test_evaluator.submission_file == '/tmp/sub.csv'


def test_work_dir_order_is_mmdetections():
    """--work-dir, else the config's work_dir, else ./work_dirs/<config name> (train.py, test.py, predict_abnormal)."""
    cfg = Config(dict(work_dir='from_config'))
    set_work_dir(cfg, 'from_cli', MAIN)
    assert cfg.work_dir == 'from_cli'
    set_work_dir(cfg, None, MAIN)
    assert cfg.work_dir == 'from_cli'
    cfg = Config({})
    set_work_dir(cfg, None, MAIN)
    assert cfg.work_dir == './work_dirs/vinbig_faster_rcnn'
    # the original script's --save-path is --work-dir's alias; given both, --work-dir wins
    cfg = load_config(MAIN)
    set_work_dir(cfg, 'from_cli', MAIN)
    apply_train_shortcuts(cfg, Namespace(**vars(shortcuts(save_path='/runs/a')), work_dir='from_cli'))
    assert cfg.work_dir == 'from_cli'
