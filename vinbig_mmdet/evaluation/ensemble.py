"""Ensembling submissions (folds, models) with weighted boxes fusion, image by image, class by class."""
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from ..classes import COMPETITION_IOU_THR
from ..datasets.fusion import check_fusion, fuse_boxes
from ..errors import InputError
from ..structures.boxes import empty_detections
from .submission import Detections


def ensemble_submissions(submissions: Sequence[Dict[str, Detections]], weights: Optional[List[float]] = None,
                         iou_thr: float = COMPETITION_IOU_THR, skip_box_thr: float = 0.0,
                         sizes: Optional[Dict[str, Tuple[int, int]]] = None) -> Dict[str, Detections]:
    """Fuse several submissions' detections per image with WBF; a single submission is returned as it is (its
    scores capped at 1).

    Boxes are normalised by each image's original ``(width, height)`` from ``sizes``; without it, by the extent of
    the image's boxes across all submissions, which gives the same result (IoU and weighted means do not change
    under per-axis scaling) as long as the boxes lie inside the image.

    Fused scores are capped at 1: with weights, WBF can exceed 1 when one submission puts several boxes in a
    cluster, and a submission's scores must lie in [0, 1].
    """
    check_fusion('wbf', iou_thr, skip_box_thr, where='ensemble (--iou-thr, --skip-box-thr)')
    if weights is not None and len(weights) != len(submissions):
        raise InputError(f'{len(weights)} weights for {len(submissions)} submissions: give one per submission')
    if weights is not None and not all(np.isfinite(w) and w > 0 for w in weights):
        raise InputError(f'weights must be positive numbers, got {list(weights)}')
    if len(submissions) == 1:  # nothing to fuse: WBF of one source would merge the model's own boxes
        return {i: (boxes, np.minimum(scores, 1.0), labels) for i, (boxes, scores, labels) in submissions[0].items()}
    image_ids = list(dict.fromkeys(i for sub in submissions for i in sub))
    empty = empty_detections()
    fused = {}
    for img_id in image_ids:
        dets = [sub.get(img_id, empty) for sub in submissions]
        if sizes is not None:
            if img_id not in sizes:
                raise InputError(f'no original size for image {img_id} in the sizes file (--meta)')
            w, h = sizes[img_id]
        else:
            extent = np.concatenate([np.asarray(d[0]).reshape(-1, 4) for d in dets] + [np.ones((1, 4))])
            w, h = float(extent[:, [0, 2]].max()), float(extent[:, [1, 3]].max())
        boxes, scores, labels = fuse_boxes([d[0] for d in dets], [d[1] for d in dets], [d[2] for d in dets], w, h,
                                           'wbf', iou_thr, skip_box_thr, weights)
        fused[img_id] = boxes, np.minimum(scores, 1.0), labels
    return fused
