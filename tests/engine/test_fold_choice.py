"""Every way of choosing the validation fold gives disjoint train/val images, or a refusal before training."""
from pathlib import Path

import pandas as pd
import pytest
from mmdet.registry import DATASETS

from vinbig_mmdet.engine.config_utils import load_config, use_val_split_for_test
from vinbig_mmdet.engine.hooks import TrainValOverlapHook, with_overlap_check
from vinbig_mmdet.engine.hooks.train_val_overlap import check_disjoint, dataset_image_ids
from vinbig_mmdet.errors import InputError

TINY = str(Path(__file__).resolve().parents[1] / 'tools' / 'tiny_r18.py')

# way -> (load_config keyword arguments or a child config's text, the validation fold expected; None: refused)
WAYS = {
    'the config file (fold = 0)': (dict(), 0),
    '--fold 2': (dict(fold=2), 2),
    '--cfg-options fold=2': (dict(cfg_options={'fold': 2}), 2),
    '--fold 1 beats --cfg-options fold=2': (dict(fold=1, cfg_options={'fold': 2}), 1),
    '--cfg-options on both loaders': (dict(cfg_options={'train_dataloader.dataset.fold': 1,
                                                        'val_dataloader.dataset.fold': 1}), 1),
    'child config: fold = 2': ('fold = 2\n', 2),
    'README example of old: train loader only': (dict(cfg_options={'train_dataloader.dataset.fold': 1}), None),
    '--cfg-options on the val loader only': (dict(cfg_options={'val_dataloader.dataset.fold': 1}), None),
    'val loader on the train split': (dict(cfg_options={'val_dataloader.dataset.split': 'train'}), None),
    'child config: train loader only': ('train_dataloader = dict(dataset=dict(fold=1))\n', None),
}


def configured(way, demo_root, tmp_path):
    kwargs, _ = WAYS[way]
    if isinstance(kwargs, str):  # a child config of the tiny config
        child = tmp_path / 'child.py'
        child.write_text(f'_base_ = [{TINY!r}]\n{kwargs}')
        return load_config(str(child), data_path=str(demo_root))
    return load_config(TINY, data_path=str(demo_root), **kwargs)


@pytest.mark.parametrize('way', list(WAYS))
def test_every_way_of_choosing_a_fold(way, demo_root, tmp_path):
    cfg = configured(way, demo_root, tmp_path)
    train = DATASETS.build(cfg.train_dataloader.dataset)
    val = DATASETS.build(cfg.val_dataloader.dataset)
    expected = WAYS[way][1]
    if expected is None:
        with pytest.raises(InputError, match=r'train_dataloader and val_dataloader share \d+ of the \d+ '
                                             r'validation images.*--fold K'):
            check_disjoint(train, val)
        return
    check_disjoint(train, val)
    folds = pd.read_csv(demo_root / 'folds.csv', dtype={'image_id': str})
    assert set(dataset_image_ids(val)) == set(folds.loc[folds['fold'] == expected, 'image_id'])
    train_ids = set(dataset_image_ids(train))  # the demo config leaves "No finding" images out of training
    assert train_ids and train_ids <= set(folds.loc[folds['fold'] != expected, 'image_id'])


def test_test_tool_scores_the_chosen_fold(demo_root):
    """tools/test.py --val --fold 2: the test loader becomes fold 2's validation images."""
    cfg = load_config(TINY, data_path=str(demo_root), fold=2)
    use_val_split_for_test(cfg)
    assert (cfg.test_dataloader.dataset.fold, cfg.test_dataloader.dataset.split) == (2, 'val')


def test_the_runner_always_adds_the_overlap_check():
    assert with_overlap_check(None) == [dict(type='TrainValOverlapHook')]
    hooks = [dict(type='NonFiniteLossHook'), TrainValOverlapHook()]
    assert with_overlap_check(hooks) == hooks
