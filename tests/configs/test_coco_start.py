"""The COCO-initialised detectors (Faster R-CNN, Cascade R-CNN, TOOD) and the image classifier's configs."""
import copy
import random
from pathlib import Path

import mmdet
import numpy as np
import pytest
import torch
from mmdet.registry import MODELS
from mmengine.config import Config
from mmengine.registry import RUNNERS

CONFIGS = Path(__file__).resolve().parents[2] / 'configs'
MMDET_CONFIGS = Path(mmdet.__file__).parent / '.mim' / 'configs'
DATASET = Config.fromfile(str(CONFIGS / '_base_' / 'vinbig_dataset.py'))

# config -> (MMDetection's model-zoo folder, the head layers that do not fit 14 classes)
COCO_START = {
    'faster-rcnn_r50_fpn_coco-pretrained_24e_vinbig.py': (
        'faster_rcnn', ['roi_head.bbox_head.fc_cls', 'roi_head.bbox_head.fc_reg']),
    'cascade-rcnn_r50_fpn_coco-pretrained_24e_vinbig.py': (
        'cascade_rcnn', [f'roi_head.bbox_head.{k}.fc_cls' for k in range(3)]),
    'tood_r50_fpn_coco-pretrained_24e_vinbig.py': ('tood', ['bbox_head.tood_cls']),
}


def with_coco_classes(model_cfg):
    """The same model with MMDetection's 80 COCO classes (81-wide classifier, 320-wide class-specific boxes)."""
    cfg = copy.deepcopy(model_cfg)
    heads = cfg.get('roi_head', {}).get('bbox_head') or cfg.get('bbox_head')
    for head in heads if isinstance(heads, list) else [heads]:
        head.num_classes = 80
    return cfg


@pytest.mark.parametrize('name', sorted(COCO_START))
def test_coco_start_recipe(name):
    cfg = Config.fromfile(str(CONFIGS / name))
    folder, _ = COCO_START[name]
    # load_from is a real checkpoint of MMDetection's model zoo, listed in the metafile the wheel ships
    assert cfg.load_from.startswith('https://download.openmmlab.com/mmdetection/')
    assert cfg.load_from in (MMDET_CONFIGS / folder / 'metafile.yml').read_text()
    assert cfg.model.backbone.init_cfg is None  # no ImageNet download: every backbone weight comes from COCO
    assert cfg.train_cfg.max_epochs == 24 and cfg.auto_scale_lr.base_batch_size == 16
    assert cfg.train_dataloader.batch_size == 4 and cfg.optim_wrapper.optimizer.lr == 0.01
    assert not cfg.train_dataloader.dataset.filter_cfg.filter_empty_gt
    # the dataset base's pipelines, with the augmentations inserted before packing, nothing else changed
    train = [t['type'] for t in cfg.train_dataloader.dataset.pipeline]
    assert train == [t['type'] for t in DATASET.train_pipeline[:-1]] + [
        'RandomApply', 'Brightness', 'Contrast', 'PackDetInputs']
    assert cfg.train_dataloader.dataset.pipeline[2] == DATASET.train_pipeline[2]  # Resize: 1024 px
    assert cfg.val_dataloader.dataset.pipeline == DATASET.test_pipeline
    assert cfg.test_dataloader.dataset.pipeline == DATASET.unlabelled_pipeline


def test_tood_base_is_mmdetections_model():
    """configs/_base_/models/tood_r50_fpn.py is MMDetection's TOOD model, which has no model-only base."""
    ours = Config.fromfile(str(CONFIGS / '_base_' / 'models' / 'tood_r50_fpn.py')).model
    theirs = Config.fromfile(str(MMDET_CONFIGS / 'tood' / 'tood_r50_fpn_1x_coco.py')).model
    assert ours.to_dict() == theirs.to_dict()


def test_augmented_pipeline_keeps_boxes_on_the_image(demo_root):
    """The training pipeline of the COCO-start configs on real demo images: boxes stay inside, labels intact."""
    from mmdet.utils import register_all_modules
    from mmengine.dataset import Compose

    from vinbig_mmdet.datasets import VinBigDataset
    register_all_modules()
    cfg = Config.fromfile(str(CONFIGS / 'faster-rcnn_r50_fpn_coco-pretrained_24e_vinbig.py'))
    pipeline = [dict(t, scale=(128, 128)) if t['type'] == 'Resize' else t for t in cfg.train_pipeline]
    ds = VinBigDataset(data_root=str(demo_root), ann_file='train.csv', data_prefix=dict(img='train/'),
                       pipeline=[])
    transform = Compose(pipeline)
    random.seed(0)
    np.random.seed(0)
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        out = transform(copy.deepcopy(info))
        boxes = out['data_samples'].gt_instances.bboxes.tensor
        assert out['inputs'].shape == (3, 128, 128)
        assert len(boxes) <= len(info['instances'])
        if len(boxes):
            assert float(boxes.min()) >= 0 and float(boxes.max()) <= 128


@pytest.mark.parametrize('name', sorted(COCO_START))
def test_coco_checkpoint_loads_except_the_class_head(name, tmp_path, capfd):
    """A checkpoint shaped like MMDetection's COCO model (80 classes) loads into the 14-class model through the
    runner (what tools/train.py does with load_from): the class head stays as initialised, the mismatch is
    logged, every other weight is the checkpoint's."""
    from mmdet.utils import register_all_modules
    register_all_modules()
    cfg = Config.fromfile(str(CONFIGS / name))
    _, head_layers = COCO_START[name]
    torch.manual_seed(1)
    coco = MODELS.build(with_coco_classes(cfg.model))
    coco.init_weights()
    coco_state = coco.state_dict()
    ckpt = tmp_path / 'coco.pth'
    torch.save(dict(meta=dict(CLASSES=tuple(f'c{k}' for k in range(80)), epoch=12), state_dict=coco_state), ckpt)

    cfg.load_from = str(ckpt)
    cfg.work_dir = str(tmp_path / 'work')
    torch.manual_seed(2)
    runner = RUNNERS.build(cfg)
    runner.load_or_resume()
    loaded = runner.model.state_dict()

    mismatched = {k for k in loaded if loaded[k].shape != coco_state[k].shape}
    assert mismatched == {f'{layer}.{p}' for layer in head_layers for p in ('weight', 'bias')}
    for key, value in loaded.items():
        if key not in mismatched:
            assert torch.equal(value, coco_state[key]), key
    for layer in head_layers:
        weight = loaded[f'{layer}.weight']
        assert weight.shape[0] < coco_state[f'{layer}.weight'].shape[0]  # the 14-class layer, as initialised
    # the runner logs which head weights were left as initialised (console; the log file may carry it too)
    log = capfd.readouterr().out + ''.join(p.read_text() for p in Path(cfg.work_dir).rglob('*.log'))
    replaced = [line for line in log.splitlines() if 'of another class count not loaded' in line]
    assert replaced, log[-2000:]
    for layer in head_layers:
        assert f'{layer}.weight' in replaced[0]
