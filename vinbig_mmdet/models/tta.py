"""Test-time augmentation merged with weighted boxes fusion (MMDetection's DetTTAModel merges with NMS)."""
from typing import List

import numpy as np
import torch
from mmdet.models.test_time_augs import DetTTAModel
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample
from mmengine.structures import InstanceData

from ..datasets.fusion import fuse_boxes


@MODELS.register_module()
class VinBigTTAModel(DetTTAModel):
    """Merge the views of one image (flips, scales) with WBF, class by class, in the image's own frame.

    Configured by a config's ``tta_model`` (configs/_base_/vinbig_tta.py), ``tools/test.py --tta`` wraps the model in
    it: ``tta_cfg=dict(iou_thr=0.55, skip_box_thr=0.0, max_per_img=100)``.
    """

    def _merge_single_sample(self, data_samples: List[DetDataSample]) -> DetDataSample:
        boxes, scores, labels = [], [], []
        for sample in data_samples:
            pred = sample.pred_instances
            restored = self.merge_aug_bboxes([pred.bboxes], None, [sample.metainfo])  # undo the flip
            boxes.append(restored.detach().cpu().numpy())
            scores.append(pred.scores.detach().cpu().numpy())
            labels.append(pred.labels.detach().cpu().numpy())
        h, w = data_samples[0].metainfo['ori_shape'][:2]
        cfg = self.tta_cfg
        fused, fused_scores, fused_labels = fuse_boxes(
            boxes, scores, labels, w, h, 'wbf', cfg.get('iou_thr', 0.55), cfg.get('skip_box_thr', 0.0))
        order = np.argsort(-fused_scores, kind='stable')[:cfg.get('max_per_img', 100)]
        merged = data_samples[0]
        device = data_samples[0].pred_instances.bboxes.device
        merged.pred_instances = InstanceData(
            bboxes=torch.as_tensor(fused[order], dtype=torch.float32, device=device),
            scores=torch.as_tensor(fused_scores[order], dtype=torch.float32, device=device),
            labels=torch.as_tensor(fused_labels[order], dtype=torch.int64, device=device))
        return merged
