"""Fusion options are checked in one place, for the dataset, the ground truth and ensembling alike."""
import numpy as np
import pytest

from tests.helpers import write_csv
from vinbig_mmdet.datasets.fusion import FUSION_DEFAULTS, fuse_boxes, fusion_options
from vinbig_mmdet.errors import InputError
from vinbig_mmdet.evaluation.ground_truth import ground_truth_from_csv


def test_defaults_partial_dicts_and_a_method_name():
    assert fusion_options(None) == FUSION_DEFAULTS
    assert fusion_options(dict(iou_thr=0.55)) == dict(FUSION_DEFAULTS, iou_thr=0.55)
    assert fusion_options('nms') == dict(FUSION_DEFAULTS, type='nms')  # fusion='nms' means dict(type='nms')


@pytest.mark.parametrize('fusion, message', [
    (dict(iou_thresh=0.9), r"unknown key\(s\) \['iou_thresh'\]; accepted keys: \['type', 'iou_thr', 'skip_box_thr'\]"),
    (dict(iou_thr=4), r'iou_thr=4 is not a number in \(0, 1\]'),
    (dict(iou_thr='0.4'), r"iou_thr='0.4' is not a number"),
    (dict(skip_box_thr=-0.1), r'skip_box_thr=-0.1 is not a number in \[0, 1\)'),
    (dict(type='mean'), r"unknown fusion type 'mean'; use one of \['wbf', 'nms', 'none'\]"),
    ('weighted', r"unknown fusion type 'weighted'"),
    (0.4, 'expected a dict'),
])
def test_what_the_fusion_cannot_do_is_refused(fusion, message):
    with pytest.raises(InputError, match=message):
        fusion_options(fusion)


def test_every_caller_goes_through_the_check(tmp_path):
    with pytest.raises(InputError, match='iou_thr=1.5'):
        fuse_boxes([np.array([[0, 0, 10, 10]])], [np.ones(1)], [np.zeros(1)], 100, 100, 'wbf', iou_thr=1.5)
    path = write_csv(tmp_path / 'gt.csv', [('a', 'ILD', 5, 'R1', 0, 0, 10, 10)])
    with pytest.raises(InputError, match="unknown fusion type 'mean'"):
        ground_truth_from_csv(path, fusion='mean')


def test_dataset_takes_a_method_name_and_refuses_unknown_keys(demo_root):
    from vinbig_mmdet.datasets import VinBigDataset
    kwargs = dict(data_root=str(demo_root), ann_file='train.csv', data_prefix=dict(img='train/'), pipeline=[])
    assert VinBigDataset(fusion='wbf', **kwargs).fusion == FUSION_DEFAULTS
    with pytest.raises(InputError, match=r"fusion: unknown key\(s\) \['iou_thresh'\]"):
        VinBigDataset(fusion=dict(type='wbf', iou_thresh=0.9), **kwargs)
