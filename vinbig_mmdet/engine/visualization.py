"""tools/test.py --show-dir: predictions drawn over each test radiograph.

MMDetection's DetVisualizationHook re-reads images with mmcv, which cannot read DICOMs; this hook reads them
with the project's reader and draws like tools/infer.py."""
import os
import os.path as osp

import cv2
from mmdet.registry import HOOKS
from mmengine.hooks import Hook

from ..io import read_image
from .inference import detection_dicts, draw_detections


@HOOKS.register_module()
class RadiographVisualizationHook(Hook):
    """Write ``<out_dir>/<image_id>.png`` for every test image (boxes scored >= ``score_thr``)."""

    def __init__(self, out_dir: str, score_thr: float = 0.3, max_side: int = 1024) -> None:
        self.out_dir, self.score_thr, self.max_side = out_dir, score_thr, max_side

    def after_test_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        os.makedirs(self.out_dir, exist_ok=True)
        for sample in outputs or []:
            pred = sample.pred_instances  # in the loaded image's pixels: the file read here
            detections = detection_dicts(pred.bboxes, pred.scores, pred.labels, self.score_thr)
            picture = draw_detections(read_image(sample.img_path), detections, self.max_side)
            cv2.imwrite(osp.join(self.out_dir, f'{sample.img_id}.png'), picture)
