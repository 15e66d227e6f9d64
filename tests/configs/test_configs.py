"""The configs: pure MMEngine configs that inherit MMDetection's and carry the reference recipe."""
from pathlib import Path

import pytest
import torch
from mmdet.registry import MODELS
from mmengine.config import Config

CONFIGS = Path(__file__).resolve().parents[2] / 'configs'
ALL_CONFIGS = sorted(p.name for p in CONFIGS.glob('*.py'))


def head_class_counts(model_cfg) -> list:
    """num_classes of every detection head in a model config (two-stage, cascade or one-stage)."""
    heads = model_cfg.get('roi_head', {}).get('bbox_head') or model_cfg.get('bbox_head')
    heads = heads if isinstance(heads, list) else [heads]
    return [h.num_classes for h in heads if h]


def n_classes(cfg: Config) -> int:
    from vinbig_mmdet.classes import class_set
    return len(class_set(cfg.get('class_set', 'kaggle14')))


def offline(cfg: Config) -> Config:
    """The documented offline overrides: no ImageNet download, no COCO checkpoint."""
    cfg.model.backbone.init_cfg = None
    cfg.load_from = None
    return cfg


@pytest.mark.parametrize('name', ALL_CONFIGS)
def test_every_config_parses(name):
    cfg = Config.fromfile(str(CONFIGS / name))
    assert cfg.custom_imports['imports'] == ['vinbig_mmdet']
    if cfg.model.type == 'AbnormalityClassifier':
        assert not cfg.train_dataloader.dataset.filter_cfg.filter_empty_gt  # "No finding" is the normal class
    else:
        # Kaggle's 14, or the class set the config chooses (configs/vinbig_faster_rcnn_22cls.py: 22)
        assert head_class_counts(cfg.model) and set(head_class_counts(cfg.model)) == {n_classes(cfg)}
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        assert cfg[key].dataset.type == 'VinBigDataset'
        assert cfg[key].dataset.data_root == cfg.data_root  # nothing inherited from COCO
        assert 'backend_args' not in cfg[key].dataset


@pytest.mark.parametrize('name', ALL_CONFIGS)
def test_every_config_builds_its_model_and_predicts(name):
    from mmdet.utils import register_all_modules
    register_all_modules()
    cfg = offline(Config.fromfile(str(CONFIGS / name)))
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.eval()
    from mmdet.structures import DetDataSample
    sample = DetDataSample(metainfo=dict(img_shape=(64, 64), ori_shape=(64, 64), scale_factor=(1.0, 1.0),
                                         img_id='x'))
    data = model.data_preprocessor(dict(inputs=[torch.randint(0, 255, (3, 64, 64), dtype=torch.uint8)],
                                        data_samples=[sample]), False)
    with torch.no_grad():
        result = model(**data, mode='predict')[0]
    if cfg.model.type == 'AbnormalityClassifier':
        assert 0 <= float(result.pred_score) <= 1
    else:
        assert result.pred_instances.bboxes.shape[1] == 4
        assert all(0 <= int(label) < n_classes(cfg) for label in result.pred_instances.labels)


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
    assert not cfg.get('load_from')


def test_demo_config_changes_only_what_the_cpu_demo_needs():
    main = Config.fromfile(str(CONFIGS / 'vinbig_faster_rcnn.py'))
    demo = Config.fromfile(str(CONFIGS / 'vinbig_faster_rcnn_demo.py'))
    assert demo.data_root == 'data/demo/' and demo.model.backbone.init_cfg is None
    assert demo.model.backbone.depth == main.model.backbone.depth == 50  # the same detector
    assert demo.model.roi_head == main.model.roi_head
