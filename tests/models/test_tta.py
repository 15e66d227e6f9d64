"""VinBigTTAModel and the TTA settings of the configs (configs/_base_/vinbig_tta.py)."""
from pathlib import Path

import pytest
import torch
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample
from mmdet.structures.bbox import bbox_flip
from mmengine.config import Config, ConfigDict
from mmengine.model import BaseModel
from mmengine.structures import InstanceData

from vinbig_mmdet.engine.config_utils import check_tta, match_annotations, set_tta_scales
from vinbig_mmdet.errors import InputError

ROOT = Path(__file__).resolve().parents[2]
DETECTOR_CONFIGS = sorted(p for p in (ROOT / 'configs').glob('*.py') if 'classifier' not in p.name) + \
    sorted(p for p in (ROOT / 'tests/tools').glob('tiny_*.py') if 'classifier' not in p.name)


class _Detector(BaseModel):  # the merge needs no network: only a module that has test_step
    def forward(self, *args, **kwargs):
        raise NotImplementedError


def _view(boxes, flip, shape=(200, 300)):
    sample = DetDataSample(metainfo=dict(ori_shape=shape, img_shape=shape, flip=flip, flip_direction='horizontal',
                                         img_id='a'))
    if flip:
        boxes = bbox_flip(boxes, shape, 'horizontal')
    sample.pred_instances = InstanceData(bboxes=boxes, scores=torch.tensor([0.9, 0.6]),
                                         labels=torch.tensor([3, 8]))
    return sample


def test_flip_unflip_and_wbf_merge_give_the_original_boxes():
    import vinbig_mmdet  # noqa: F401  (registers VinBigTTAModel)
    model = MODELS.build(dict(type='VinBigTTAModel', module=_Detector(),
                              tta_cfg=dict(iou_thr=0.55, skip_box_thr=0.0, max_per_img=100)))
    boxes = torch.tensor([[10., 20., 110., 90.], [200., 50., 260., 120.]])
    merged = model.merge_preds([[_view(boxes.clone(), False), _view(boxes.clone(), True)]])[0].pred_instances
    assert torch.allclose(merged.bboxes, boxes, atol=1e-4)
    assert merged.labels.tolist() == [3, 8]
    assert torch.allclose(merged.scores, torch.tensor([0.9, 0.6]))


def test_the_merge_iou_is_a_config_value():
    import vinbig_mmdet  # noqa: F401
    shifted = torch.tensor([[10., 20., 110., 90.], [200., 50., 260., 120.]])
    views = [_view(shifted.clone(), False), _view(shifted + torch.tensor([30., 0., 30., 0.]), False)]
    kept = {}
    for iou in (0.3, 0.9):  # the views overlap at IoU ~0.5 (first box): fused below it, kept apart above
        model = MODELS.build(dict(type='VinBigTTAModel', module=_Detector(), tta_cfg=dict(iou_thr=iou)))
        kept[iou] = len(model.merge_preds([[DetDataSample(metainfo=v.metainfo, pred_instances=v.pred_instances)
                                            for v in views]])[0].pred_instances)
    assert kept[0.3] < kept[0.9]


@pytest.mark.parametrize('path', DETECTOR_CONFIGS, ids=lambda p: p.name)
def test_every_detector_config_has_tta_at_its_own_scale(path):
    cfg = Config.fromfile(str(path))
    check_tta(cfg, str(path))
    assert cfg.tta_model.type == 'VinBigTTAModel' and 'iou_thr' in cfg.tta_model.tta_cfg
    test_resize = [t for t in cfg.test_dataloader.dataset.pipeline if t['type'] == 'Resize']
    tta_resize = [t for t in cfg.tta_pipeline if t['type'] == 'Resize']
    assert [tuple(t['scale']) for t in tta_resize] == [tuple(t['scale']) for t in test_resize]
    assert not any(t['type'] == 'LoadAnnotations' for t in cfg.tta_pipeline)  # the test images are unlabelled


def test_tta_without_settings_is_refused():
    cfg = Config.fromfile(str(ROOT / 'configs/abnormality-classifier_r18_demo.py'))
    with pytest.raises(InputError, match='abnormality-classifier_r18_demo.py has no tta_model or tta_pipeline'):
        check_tta(cfg, 'configs/abnormality-classifier_r18_demo.py')


def _stages(pipeline):
    return [[t['type'] for t in stage] for stage in next(t for t in pipeline if t['type'] == 'TestTimeAug').transforms]


def test_annotations_loaded_after_the_flip_only_for_labelled_data():
    pipeline = Config.fromfile(str(ROOT / 'configs/vinbig_faster_rcnn.py')).tta_pipeline
    assert _stages(match_annotations(pipeline, True)) == [
        ['RandomFlip', 'RandomFlip'], ['LoadAnnotations'], ['PackDetInputs']]
    labelled_by_the_user = match_annotations(pipeline, True)  # a config that loads them anyway, on test images
    assert _stages(match_annotations(labelled_by_the_user, False)) == [['RandomFlip', 'RandomFlip'],
                                                                       ['PackDetInputs']]
    assert _stages(pipeline) == [['RandomFlip', 'RandomFlip'], ['PackDetInputs']]  # the config is left as it was


def test_tta_scales_add_sizes_to_the_configs_resize():
    pipeline = Config.fromfile(str(ROOT / 'configs/vinbig_faster_rcnn.py')).tta_pipeline
    scaled = set_tta_scales(pipeline, [896, 1152])
    assert [t['type'] for t in scaled] == ['LoadDicomFromFile', 'TestTimeAug']
    resize = next(t for t in scaled if t['type'] == 'TestTimeAug').transforms[0]
    assert [tuple(t['scale']) for t in resize] == [(1024, 1024), (896, 896), (1152, 1152)]
    assert all(t['keep_ratio'] is False for t in resize)
    again = set_tta_scales(scaled, [512])  # a Resize stage already there gets the size too
    assert len(next(t for t in again if t['type'] == 'TestTimeAug').transforms[0]) == 4
    with pytest.raises(InputError, match='TestTimeAug'):
        set_tta_scales([ConfigDict(type='Resize', scale=(8, 8))], [16])


def test_tta_on_a_config_without_tta_settings_is_one_clear_error(tmp_path):
    from tests.helpers import call_tool
    config = 'tests/tools/tiny_classifier_r18.py'
    proc = call_tool('tools/test.py', config, tmp_path / 'any.pth', '--tta', check=False)
    assert proc.returncode == 1 and 'Traceback' not in proc.stderr
    assert f'error: {config} has no tta_model or tta_pipeline' in proc.stderr
