"""Each pipeline is defined once (configs/_base_/vinbig_dataset.py); derived configs only change the image size."""
from pathlib import Path

import pytest
from mmengine.config import Config

ROOT = Path(__file__).resolve().parents[2]
LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')
# (derived config, the config it takes its pipelines from)
DERIVED = [
    ('configs/vinbig_faster_rcnn_demo.py', 'configs/vinbig_faster_rcnn.py'),
    ('tests/tools/tiny_r18.py', 'configs/vinbig_faster_rcnn_demo.py'),
    ('tests/tools/tiny_cascade_r18.py', 'configs/cascade-rcnn_r50_fpn_coco-pretrained_24e_vinbig.py'),
    ('tests/tools/tiny_tood_r18.py', 'configs/tood_r50_fpn_coco-pretrained_24e_vinbig.py'),
    ('configs/abnormality-classifier_r18_demo.py', 'configs/abnormality-classifier_r50_12e_vinbig.py'),
    ('tests/tools/tiny_classifier_r18.py', 'configs/abnormality-classifier_r18_demo.py'),
]


def load(rel):
    return Config.fromfile(str(ROOT / rel))


def without_scale(pipeline):
    return [{k: v for k, v in t.items() if not (t['type'] == 'Resize' and k == 'scale')} for t in pipeline]


def scales(pipeline):
    return [tuple(t['scale']) for t in pipeline if t['type'] == 'Resize']


@pytest.mark.parametrize('derived, parent', DERIVED, ids=[d.rsplit('/', 1)[1] for d, _ in DERIVED])
def test_derived_pipelines_equal_the_parents_except_the_scale(derived, parent):
    child, base = load(derived), load(parent)
    assert tuple(child.img_scale) != tuple(base.img_scale)
    for loader in LOADERS:
        mine, theirs = child[loader].dataset.pipeline, base[loader].dataset.pipeline
        assert without_scale(mine) == without_scale(theirs), loader
        assert scales(mine) == [tuple(child.img_scale)], loader  # every Resize at this config's size


def test_unlabelled_pipeline_is_the_test_pipeline_without_annotations():
    cfg = load('configs/_base_/vinbig_dataset.py')
    assert cfg.unlabelled_pipeline == [t for t in cfg.test_pipeline if t['type'] != 'LoadAnnotations']
    assert any(t['type'] == 'LoadAnnotations' for t in cfg.test_pipeline)
    assert cfg.test_dataloader.dataset.pipeline == cfg.unlabelled_pipeline
