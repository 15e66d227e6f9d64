"""Box fusion: the radiologists' boxes of one image (and, for ensembling, several models' predictions).

One function, ``fuse_boxes``, serves both uses. It works in normalised coordinates, as ensemble-boxes expects,
so every image is fused with its own original size.
"""
from typing import List, Optional, Sequence, Tuple

import numpy as np
from ensemble_boxes import nms, weighted_boxes_fusion

FUSION_METHODS = ('wbf', 'nms', 'none')


def fuse_boxes(boxes: Sequence[np.ndarray], scores: Sequence[np.ndarray], labels: Sequence[np.ndarray],
               width: float, height: float, method: str = 'wbf', iou_thr: float = 0.4,
               skip_box_thr: float = 0.0, weights: Optional[List[float]] = None,
               conf_type: str = 'avg') -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fuse boxes from several sources (readers or models) of one image, class by class.

    Args:
        boxes, scores, labels: one array per source; boxes are (N, 4) x_min, y_min, x_max, y_max in pixels.
        width, height: the image size the boxes refer to.
        method: 'wbf' (weighted boxes fusion), 'nms', or 'none' (concatenate).

    Returns:
        (boxes (M, 4) float64 in pixels, scores (M,), labels (M,) int64).
    """
    if method not in FUSION_METHODS:
        raise ValueError(f'unknown fusion method {method!r}; use one of {FUSION_METHODS}')
    if not any(len(b) for b in boxes):
        return np.zeros((0, 4)), np.zeros(0), np.zeros(0, dtype=np.int64)
    boxes = [np.asarray(b, np.float64).reshape(-1, 4) for b in boxes]
    if method == 'none':
        return (np.concatenate(boxes), np.concatenate([np.asarray(s, np.float64) for s in scores]),
                np.concatenate([np.asarray(lab, np.int64) for lab in labels]))
    # Sources without boxes stay in: with weights, WBF divides by the total weight of all sources.
    scale = np.array([width, height, width, height], dtype=np.float64)
    norm = [np.clip(b / scale, 0, 1) for b in boxes]
    src_scores = [np.asarray(s, np.float64) for s in scores]
    src_labels = [np.asarray(lab, np.int64) for lab in labels]
    src_weights = None if weights is None else list(weights)
    if method == 'wbf':
        fused, fused_scores, fused_labels = weighted_boxes_fusion(
            norm, src_scores, src_labels, weights=src_weights, iou_thr=iou_thr, skip_box_thr=skip_box_thr,
            conf_type=conf_type)
    else:
        fused, fused_scores, fused_labels = nms(norm, src_scores, src_labels, weights=src_weights,
                                                iou_thr=iou_thr)
    return (np.asarray(fused, np.float64).reshape(-1, 4) * scale, np.asarray(fused_scores, np.float64),
            np.asarray(fused_labels).astype(np.int64))


def fuse_readers(boxes: np.ndarray, labels: np.ndarray, readers: np.ndarray, width: float, height: float,
                 method: str = 'wbf', iou_thr: float = 0.4, skip_box_thr: float = 0.0
                 ) -> Tuple[np.ndarray, np.ndarray]:
    """Fuse the boxes of one image's radiologists (each reader is one source, every box has score 1).

    A class with a single box in the image fuses to that box (clipped to the image; an empty one dropped, as
    WBF and NMS do), so only the classes with two or more boxes go through ensemble-boxes, whose per-call cost
    dominates building a large dataset. The readers stay in the same source order, so ties break as before."""
    if len(boxes) == 0:
        return np.zeros((0, 4)), np.zeros(0, dtype=np.int64)
    classes, counts = np.unique(labels, return_counts=True)
    alone = np.isin(labels, classes[counts == 1]) if method != 'none' else np.zeros(len(labels), bool)
    single = np.clip(boxes[alone], 0, np.array([width, height, width, height], dtype=np.float64))
    single_ok = (single[:, 2] > single[:, 0]) & (single[:, 3] > single[:, 1])
    fused, fused_labels = np.zeros((0, 4)), np.zeros(0, dtype=np.int64)
    if not alone.all():
        rest_boxes, rest_labels, rest_readers = boxes[~alone], labels[~alone], readers[~alone]
        groups = [rest_readers == r for r in dict.fromkeys(readers.tolist())]
        fused, _, fused_labels = fuse_boxes([rest_boxes[g] for g in groups], [np.ones(int(g.sum())) for g in groups],
                                            [rest_labels[g] for g in groups], width, height, method, iou_thr,
                                            skip_box_thr)
    return (np.concatenate([single[single_ok], fused]),
            np.concatenate([labels[alone][single_ok], fused_labels]).astype(np.int64))
