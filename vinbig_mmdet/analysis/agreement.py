"""How much radiologists agree, scored the way Kaggle scores a submission: one reader against the others.

Definition (``reader_vs_readers_map``):

- Images are taken in sorted ``image_id`` order; each image's readers (sorted ``rad_id``) are put in a random
  order with ``numpy.random.default_rng(seed)`` (one permutation per image, in that image order). Images with
  fewer than two readers cannot be scored and are counted as skipped.
- Round ``k`` (k = 0, 1, 2) scores, on every image, the reader at position ``k`` of its order (``k`` modulo the
  number of readers) against all the other readers of that image, **unfused**: every box of every other reader is
  a ground-truth box, and an image whose other readers report nothing is "No finding" (class 14). The scored
  reader's boxes are the predictions; a reader who reports "No finding" predicts ``14 1 0 0 1 1``. With three
  readers per image, the three rounds use every reader exactly once per image.
- AP per class with the competition's matching (``structures.boxes.greedy_match``: same class, IoU > 0.4, each
  ground-truth box matched once). A reader gives no confidences, so all of its boxes are one operating point and
  AP = precision x recall (the all-point AP of a single threshold; ranking tied boxes in some order would make
  the figure depend on that arbitrary order). mAP = mean over the classes with ground truth, "No finding"
  included, as in the competition.
- The result is the mean of the rounds' mAPs; the rounds' own values show the spread.

On the real ``train.csv`` a randomly chosen reader against the other two reaches about 0.23 (STACK.md).
"""
from typing import Dict, List

import numpy as np
import pandas as pd

from ..classes import COMPETITION_IOU_THR, NO_FINDING_ID
from ..evaluation.kaggle_map import NO_FINDING_BOX, add_no_finding_gt
from ..structures.boxes import BOX_COLUMNS, box_iou, greedy_match

ROUNDS = 3


def reader_orders(ann: pd.DataFrame, seed: int = 0) -> Dict[str, np.ndarray]:
    """image_id -> its readers in the random order the rounds follow (images with < 2 readers left out)."""
    rng = np.random.default_rng(seed)
    # unique() per group, sorted afterwards: pandas >= 2.2 refuses an agg() that returns an array
    readers = ann.assign(rad_id=ann['rad_id'].astype(str)).groupby('image_id', sort=True)['rad_id'].unique()
    return {img: rng.permutation(np.sort(r)) for img, r in readers.items() if len(r) >= 2}


def _round_split(ann: pd.DataFrame, orders: Dict[str, np.ndarray], k: int):
    """(predictions of each image's k-th reader, ground truth of the other readers), both per image."""
    chosen = pd.Series({img: order[k % len(order)] for img, order in orders.items()}, dtype=object)
    rows = ann[ann['image_id'].isin(chosen.index)]
    scored = rows['rad_id'].astype(str).to_numpy() == chosen.reindex(rows['image_id']).to_numpy()
    finding = (rows['class_id'] != NO_FINDING_ID).to_numpy()
    empty = (np.zeros((0, 4)), np.zeros(0, np.int64))
    predictions, truth = {}, {img: empty for img in chosen.index}
    for img, part in rows[scored & finding].groupby('image_id', sort=False):
        predictions[img] = (part[BOX_COLUMNS].to_numpy(np.float64), np.ones(len(part)),
                            part['class_id'].to_numpy(np.int64))
    normal = (np.array([NO_FINDING_BOX]), np.ones(1), np.array([NO_FINDING_ID]))
    for img in chosen.index.difference(list(predictions)):
        predictions[img] = normal
    for img, part in rows[~scored & finding].groupby('image_id', sort=False):
        truth[img] = (part[BOX_COLUMNS].to_numpy(np.float64), part['class_id'].to_numpy(np.int64))
    return predictions, truth


def single_threshold_map(predictions, ground_truth, iou_thr: float = COMPETITION_IOU_THR) -> Dict[str, object]:
    """mAP of predictions that all share one confidence (AP = precision x recall per class, "No finding" as
    class 14): ``{'mAP': float, 'AP': {class_id: AP or nan}}``. Images without ground truth are not scored, as
    in ``kaggle_map``; within an image, detections match in their given order (VOC's greedy rule)."""
    gt = add_no_finding_gt(ground_truth)
    n_classes = NO_FINDING_ID + 1
    tp, n_det, n_gt = np.zeros(n_classes), np.zeros(n_classes), np.zeros(n_classes)
    for gt_boxes, gt_labels in gt.values():
        n_gt += np.bincount(gt_labels, minlength=n_classes)
    for img, (boxes, _, labels) in predictions.items():
        if img not in gt:
            continue
        boxes, labels = np.asarray(boxes, np.float64).reshape(-1, 4), np.asarray(labels, np.int64)
        gt_boxes, gt_labels = gt[img]
        for label in np.unique(labels).tolist():
            mine, theirs = boxes[labels == label], gt_boxes[gt_labels == label]
            n_det[label] += len(mine)
            tp[label] += int((greedy_match(box_iou(mine, theirs), iou_thr) >= 0).sum()) if len(theirs) else 0
    ap = {label: float('nan') if n_gt[label] == 0 else
          float(tp[label] / n_det[label] * tp[label] / n_gt[label]) if n_det[label] else 0.0
          for label in range(n_classes)}
    valid = [v for v in ap.values() if not np.isnan(v)]
    return dict(mAP=float(np.mean(valid)) if valid else float('nan'), AP=ap)


def reader_vs_readers_map(ann: pd.DataFrame, iou_thr: float = COMPETITION_IOU_THR, seed: int = 0) -> Dict[str, object]:
    """One reader against the other readers of the same image, unfused, mAP@``iou_thr`` (module docstring).

    Returns ``{'mAP': mean over rounds, 'rounds': [mAP of round k], 'AP': {class_id: mean AP over rounds},
    'n_images': images scored, 'n_skipped': images with fewer than two readers}``.
    """
    orders = reader_orders(ann, seed)
    results = [single_threshold_map(*_round_split(ann, orders, k), iou_thr=iou_thr) for k in range(ROUNDS)]
    per_class: Dict[int, List[float]] = {c: [r['AP'][c] for r in results] for c in range(NO_FINDING_ID + 1)}
    return dict(mAP=float(np.mean([r['mAP'] for r in results])), rounds=[r['mAP'] for r in results],
                AP={c: float(np.nanmean(v)) if not np.all(np.isnan(v)) else float('nan')
                    for c, v in per_class.items()},
                n_images=len(orders), n_skipped=int(ann['image_id'].nunique()) - len(orders))


def format_reader_map(result: Dict[str, object], iou_thr: float = COMPETITION_IOU_THR) -> str:
    """The one line the tools print."""
    rounds = ', '.join(f'{v:.3f}' for v in result['rounds'])
    skipped = f'; {result["n_skipped"]} image(s) with < 2 readers skipped' if result['n_skipped'] else ''
    return (f'reader vs readers mAP@{iou_thr}: {result["mAP"]:.3f} (one reader per image against the other '
            f'readers, unfused; rounds {rounds}; {result["n_images"]} images{skipped}; real train.csv: about 0.23)')
