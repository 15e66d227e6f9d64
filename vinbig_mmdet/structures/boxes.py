"""The one home for box operations (after MONAI detection's ``box_utils.py``): numpy arrays in, numpy arrays out.

Boxes are ``(N, 4)`` float arrays ``x_min, y_min, x_max, y_max`` in continuous coordinates: area is
``(x_max - x_min) * (y_max - y_min)``, no "+1 pixel" (the competition's convention).
"""
from typing import List, Tuple

import numpy as np

#: Box columns of Kaggle's train.csv (and of every CSV in its format), in box order.
BOX_COLUMNS: List[str] = ['x_min', 'y_min', 'x_max', 'y_max']


def as_boxes(boxes) -> np.ndarray:
    """``boxes`` as a float64 ``(N, 4)`` array (an empty input gives ``(0, 4)``)."""
    return np.asarray(boxes, np.float64).reshape(-1, 4)


def box_area(boxes) -> np.ndarray:
    """Area of each box; a box with x_max <= x_min or y_max <= y_min has area 0."""
    boxes = as_boxes(boxes)
    return np.prod(np.clip(boxes[:, 2:] - boxes[:, :2], 0, None), axis=1)


def _iou(inter: np.ndarray, area_a: np.ndarray, area_b: np.ndarray) -> np.ndarray:
    union = area_a + area_b - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def box_iou(a, b) -> np.ndarray:
    """IoU matrix ``(len(a), len(b))``; 0 where both boxes are empty."""
    a, b = as_boxes(a), as_boxes(b)
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(rb - lt, 0, None), axis=2)
    return _iou(inter, box_area(a)[:, None], box_area(b)[None, :])


def box_iou_pairs(a, b) -> np.ndarray:
    """IoU of ``a[k]`` with ``b[k]`` for every k (``a`` and ``b`` of the same length)."""
    a, b = as_boxes(a), as_boxes(b)
    inter = np.prod(np.clip(np.minimum(a[:, 2:], b[:, 2:]) - np.maximum(a[:, :2], b[:, :2]), 0, None), axis=1)
    return _iou(inter, box_area(a), box_area(b))


def greedy_match(iou: np.ndarray, iou_thr: float) -> np.ndarray:
    """PASCAL VOC's greedy matching: for each row (a detection, rows in score order), the column (ground-truth
    box) it overlaps most; the row matches it when that IoU is strictly above ``iou_thr`` and no earlier row took
    it. A row whose best column is taken stays unmatched (VOC does not fall back to the second best); ties in IoU
    go to the lowest column. Returns the matched column of each row, -1 for none."""
    iou = np.asarray(iou, np.float64)
    match = np.full(iou.shape[0], -1, dtype=np.int64)
    if iou.size == 0:
        return match
    best, best_iou = iou.argmax(axis=1), iou.max(axis=1)
    taken = np.zeros(iou.shape[1], dtype=bool)
    for row in np.flatnonzero(best_iou > iou_thr):
        if not taken[best[row]]:
            match[row], taken[best[row]] = best[row], True
    return match


def empty_ground_truth() -> Tuple[np.ndarray, np.ndarray]:
    """``(boxes, labels)`` of an image without boxes: ``(0, 4)`` float64 and ``(0,)`` int64."""
    return np.zeros((0, 4)), np.zeros(0, np.int64)


def empty_detections() -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(boxes, scores, labels)`` of an image without detections: ``(0, 4)``, ``(0,)`` float64, ``(0,)`` int64."""
    return np.zeros((0, 4)), np.zeros(0), np.zeros(0, np.int64)
