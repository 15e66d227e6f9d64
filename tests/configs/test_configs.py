"""The configs: pure MMEngine configs that inherit MMDetection's and carry the reference recipe."""
from pathlib import Path

import pytest
import torch
from mmengine.config import Config

from mmdet.registry import MODELS

CONFIGS = Path(__file__).resolve().parents[2] / 'configs'


@pytest.mark.parametrize('name', sorted(p.name for p in CONFIGS.glob('*.py')))
def test_every_config_parses(name):
    cfg = Config.fromfile(str(CONFIGS / name))
    assert cfg.custom_imports['imports'] == ['vinbig_mmdet']
    assert cfg.model.roi_head.bbox_head.num_classes == 14
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        assert cfg[key].dataset.type == 'VinBigDataset'
        assert cfg[key].dataset.data_root == cfg.data_root  # nothing inherited from COCO
        assert 'backend_args' not in cfg[key].dataset


def test_main_config_is_the_reference_recipe():
    cfg = Config.fromfile(str(CONFIGS / 'vinbig_faster_rcnn.py'))
    assert cfg.model.type == 'FasterRCNN' and cfg.model.backbone.depth == 50
    assert cfg.model.backbone.init_cfg == dict(type='Pretrained', checkpoint='torchvision://resnet50')
    opt = cfg.optim_wrapper.optimizer
    assert (opt.type, opt.lr, opt.momentum, opt.weight_decay) == ('SGD', 0.001, 0.9, 0.0001)
    assert cfg.train_cfg.max_epochs == 100
    step = [s for s in cfg.param_scheduler if s.type == 'MultiStepLR'][0]
    assert step.milestones == [30, 60, 90] and step.gamma == 0.1
    assert cfg.auto_scale_lr.base_batch_size == 32
    assert cfg.default_hooks.checkpoint.save_best == 'vinbig/mAP'
    assert cfg.val_evaluator.type == 'VinBigMetric' and cfg.val_evaluator.iou_thr == 0.4
    assert cfg.val_dataloader.dataset.split == 'val' and cfg.train_dataloader.dataset.split == 'train'
    resize = [t for t in cfg.train_pipeline if t.type == 'Resize'][0]
    assert resize.scale == (1024, 1024)


def test_main_model_builds_and_runs(monkeypatch):
    cfg = Config.fromfile(str(CONFIGS / 'vinbig_faster_rcnn.py'))
    cfg.model.backbone.init_cfg = None  # the documented offline override
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.eval()
    from mmdet.structures import DetDataSample
    sample = DetDataSample(metainfo=dict(img_shape=(128, 128), ori_shape=(128, 128), scale_factor=(1.0, 1.0)))
    data = model.data_preprocessor(dict(inputs=[torch.randint(0, 255, (3, 128, 128), dtype=torch.uint8)],
                                        data_samples=[sample]), False)
    with torch.no_grad():
        result = model(**data, mode='predict')[0]
    assert result.pred_instances.bboxes.shape[1] == 4
    assert all(0 <= int(label) < 14 for label in result.pred_instances.labels)


def test_demo_config_changes_only_what_the_cpu_demo_needs():
    main = Config.fromfile(str(CONFIGS / 'vinbig_faster_rcnn.py'))
    demo = Config.fromfile(str(CONFIGS / 'vinbig_faster_rcnn_demo.py'))
    assert demo.data_root == 'data/demo/' and demo.model.backbone.init_cfg is None
    assert demo.model.backbone.depth == main.model.backbone.depth == 50  # the same detector
    assert demo.model.roi_head == main.model.roi_head
