"""Configs are pure (no imports) and write the task's numbers as literals: they must equal the package's constants."""
from pathlib import Path

import pytest
from mmengine.config import Config

from vinbig_mmdet.classes import COMPETITION_IOU_THR, FILTER_HIGH, FILTER_LOW
from vinbig_mmdet.datasets.fusion import FUSION_DEFAULTS

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = sorted((ROOT / 'configs').glob('*.py')) + sorted((ROOT / 'tests' / 'tools').glob('tiny_*.py'))


def walk(node, path=''):
    """Every (path, dict) in a config, nested dicts and lists included."""
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            yield from walk(value, f'{path}.{key}' if path else str(key))
    elif isinstance(node, (list, tuple)):
        for k, value in enumerate(node):
            yield from walk(value, f'{path}[{k}]')


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: p.name)
def test_config_numbers_equal_the_task_constants(path):
    cfg = Config.fromfile(str(path)).to_dict()
    checked = 0
    for where, node in walk(cfg):
        if node.get('type') == 'VinBigMetric':
            assert node.get('iou_thr', COMPETITION_IOU_THR) == COMPETITION_IOU_THR, where
            checked += 1
        if where.endswith('fusion') and node.get('type') in ('wbf', 'nms'):
            assert node['iou_thr'] == COMPETITION_IOU_THR, where
            checked += 1
        if where.endswith('two_class_filter'):
            assert (node.get('low', FILTER_LOW), node.get('high', FILTER_HIGH)) == (FILTER_LOW, FILTER_HIGH), where
    if 'val_evaluator' in cfg and cfg['val_evaluator'].get('type') == 'VinBigMetric':
        assert checked >= 2, 'found neither the metric nor the fusion settings: has the config layout changed?'


def test_fusion_defaults_are_the_competition_overlap():
    assert FUSION_DEFAULTS['iou_thr'] == COMPETITION_IOU_THR
