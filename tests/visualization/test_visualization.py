"""Drawing through DetLocalVisualizer: the --show-dir hook on a DICOM, and the pictures of infer/report/browse."""
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
import torch
from mmdet.registry import HOOKS
from mmdet.structures import DetDataSample
from mmdet.visualization import DetLocalVisualizer
from mmengine.structures import InstanceData

import vinbig_mmdet  # noqa: F401  (registers the hook)
from vinbig_mmdet.classes import METAINFO, PALETTE
from vinbig_mmdet.demo.dicom_writer import write_dicom
from vinbig_mmdet.visualization import draw_detections, draw_sample


def _sample(path, img_id, shape):
    sample = DetDataSample(metainfo=dict(img_path=str(path), img_id=img_id, ori_shape=shape, img_shape=shape))
    sample.pred_instances = InstanceData(bboxes=torch.tensor([[20., 30., 90., 100.], [5., 5., 10., 10.]]),
                                         scores=torch.tensor([0.9, 0.1]), labels=torch.tensor([3, 8]))
    return sample


@pytest.mark.parametrize('relative', [False, True])
def test_visualization_hook_writes_a_png_for_every_dicom(tmp_path, relative):
    pixels = np.tile(np.linspace(0, 4000, 160, dtype=np.uint16), (120, 1))  # 12-bit gradient, MONOCHROME2
    paths = [tmp_path / f'{name}.dicom' for name in ('a1', 'b2')]
    for path in paths:
        write_dicom(path, pixels)
    visualizer = DetLocalVisualizer.get_instance(f'test_vis_{relative}')
    visualizer.dataset_meta = METAINFO
    out_dir = 'show' if relative else str(tmp_path / 'show')
    hook = HOOKS.build(dict(type='RadiographVisualizationHook', draw=True, test_out_dir=out_dir))
    runner = SimpleNamespace(work_dir=str(tmp_path / 'work'), timestamp='20260101_000000')
    hook.before_test(runner)
    for k, path in enumerate(paths):
        hook.after_test_iter(runner, k, {}, [_sample(path, path.stem, (120, 160))])
    folder = tmp_path / 'work' / '20260101_000000' / 'show' if relative else tmp_path / 'show'
    assert sorted(p.name for p in folder.glob('*')) == ['a1.png', 'b2.png']
    img = cv2.imread(str(folder / 'a1.png'))
    assert img.shape == (120, 320, 3)  # MMDetection's layout: the image (ground truth: none), then predictions
    plain, img = img[:, :160], img[:, 160:]
    r, g, b = PALETTE[3]
    edge = img[30:100, 20:24].reshape(-1, 3).astype(int)  # left edge of the box scored 0.9: its class colour
    assert (np.abs(edge - [b, g, r]).sum(axis=1) < 100).any()  # (blended: the visualizer's alpha is 0.8)
    assert (np.ptp(plain[30:100, 20:24], axis=2) < 10).all()  # the same place undrawn: gray
    assert np.abs(img[5:11, 5:11].astype(int) - plain[5:11, 5:11]).max() < 10  # the box scored 0.1: not drawn


def test_draw_detections_scales_boxes_from_original_pixels():
    gray = np.full((100, 200), 60, np.uint8)
    det = [dict(class_id=0, class_name='Aortic enlargement', score=0.8, box=[400, 100, 800, 300])]
    img = draw_detections(gray, det, max_side=100, box_size=(1000, 500))  # image shown at 100 x 50
    assert img.shape == (50, 100, 3)
    r, g, b = PALETTE[0]
    column = img[15:25, 39:42].reshape(-1, 3).astype(int)  # the box's left edge: x = 400 / 10
    assert (np.abs(column - [b, g, r]).sum(axis=1) < 100).any()
    assert (np.abs(img[45, 5].astype(int) - 60) < 3).all()  # away from the box: the radiograph


def test_draw_sample_dashes_each_reader():
    image = np.zeros((96, 96, 3), np.uint8)
    meta = dict(scale_factor=(1.0, 1.0), img_shape=(96, 96))
    readers = [dict(rad_id='R8', bbox=[10, 10, 80, 80], bbox_label=3), dict(rad_id='R9', bbox=[20, 20, 70, 70],
                                                                            bbox_label=3)]
    img = draw_sample(image, meta, [dict(bbox=[30, 30, 60, 60], label=3)], readers)
    assert img.shape == (96, 96, 3)
    edge = img[12:78, 10].astype(int).sum(axis=1)  # a dashed reader box: drawn and gap pixels along its edge
    assert (edge > 100).any() and (edge < 30).any()
    solid = img[32:58, 30].astype(int).sum(axis=1)  # the fused box: drawn along the whole edge
    assert (solid > 100).all()
