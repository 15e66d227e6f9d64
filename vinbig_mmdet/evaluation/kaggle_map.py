"""The VinBigData competition metric: PASCAL VOC 2010 all-point AP per class at IoU > 0.4, averaged.

- Continuous coordinates: area = (x2 - x1) * (y2 - y1), no "+1 pixel".
- A detection is a true positive when its best-overlapping ground-truth box of the same class in the same image
  has IoU strictly greater than the threshold and was not matched before (VOC rules, highest score first).
- "No finding" is class 14: an image whose ground truth has no box gets one class-14 box (0, 0, 1, 1); predictions
  of class 14 (normally with that box) are scored against it like any class.
- The mean is over the classes that have ground truth.

This module is the one implementation, used by the registered metric, tools/test.py and
tools/evaluate_submission.py.
"""
from typing import Dict, Mapping, Tuple

import numpy as np

from ..classes import NO_FINDING_ID

#: The box that stands for "No finding" in ground truth and submissions.
NO_FINDING_BOX = (0.0, 0.0, 1.0, 1.0)

Boxes = np.ndarray  # (N, 4) x_min, y_min, x_max, y_max
GroundTruth = Mapping[str, Tuple[Boxes, np.ndarray]]  # image_id -> (boxes, labels)
Predictions = Mapping[str, Tuple[Boxes, np.ndarray, np.ndarray]]  # image_id -> (boxes, scores, labels)


def box_iou(a: Boxes, b: Boxes) -> np.ndarray:
    """IoU matrix (len(a), len(b)) in continuous coordinates."""
    a, b = np.asarray(a, np.float64).reshape(-1, 4), np.asarray(b, np.float64).reshape(-1, 4)
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(rb - lt, 0, None), axis=2)
    area_a = np.prod(np.clip(a[:, 2:] - a[:, :2], 0, None), axis=1)
    area_b = np.prod(np.clip(b[:, 2:] - b[:, :2], 0, None), axis=1)
    union = area_a[:, None] + area_b[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def voc_ap(recall: np.ndarray, precision: np.ndarray) -> float:
    """Area under the interpolated precision-recall curve, all points (VOC 2010 onwards)."""
    mrec = np.concatenate([[0.0], recall, [1.0]])
    mpre = np.concatenate([[0.0], precision, [0.0]])
    mpre = np.maximum.accumulate(mpre[::-1])[::-1]  # precision envelope
    steps = np.nonzero(mrec[1:] != mrec[:-1])[0]
    return float(np.sum((mrec[steps + 1] - mrec[steps]) * mpre[steps + 1]))


def add_no_finding_gt(ground_truth: GroundTruth) -> Dict[str, Tuple[Boxes, np.ndarray]]:
    """Give every image without boxes its class-14 (0, 0, 1, 1) ground truth box."""
    out = {}
    for img_id, (boxes, labels) in ground_truth.items():
        boxes, labels = np.asarray(boxes, np.float64).reshape(-1, 4), np.asarray(labels, np.int64)
        abnormal = labels != NO_FINDING_ID
        boxes, labels = boxes[abnormal], labels[abnormal]
        if len(labels) == 0:
            boxes, labels = np.array([NO_FINDING_BOX]), np.array([NO_FINDING_ID])
        out[img_id] = (boxes, labels)
    return out


def match_class(predictions: Predictions, ground_truth: Mapping[str, Tuple[Boxes, np.ndarray]], label: int,
                iou_thr: float) -> Tuple[np.ndarray, np.ndarray, int]:
    """VOC matching for one class: (scores sorted descending, true-positive flags, number of GT boxes)."""
    gt_boxes = {i: b[lab == label] for i, (b, lab) in ground_truth.items()}
    n_gt = sum(len(b) for b in gt_boxes.values())
    all_scores, all_tp = [], []
    for img_id, (boxes, scores, labels) in predictions.items():
        keep = np.asarray(labels) == label
        if not keep.any():
            continue
        boxes, scores = np.asarray(boxes, np.float64).reshape(-1, 4)[keep], np.asarray(scores, np.float64)[keep]
        order = np.argsort(-scores, kind='stable')
        boxes, scores = boxes[order], scores[order]
        tp = np.zeros(len(scores), dtype=bool)
        gts = gt_boxes.get(img_id)
        if gts is not None and len(gts):
            iou = box_iou(boxes, gts)
            best, best_iou = iou.argmax(axis=1), iou.max(axis=1)
            taken = np.zeros(len(gts), dtype=bool)
            # Within one image, the global score order equals the local one, so matching here is exact VOC.
            for k in range(len(scores)):
                if best_iou[k] > iou_thr and not taken[best[k]]:
                    tp[k] = taken[best[k]] = True
        all_scores.append(scores)
        all_tp.append(tp)
    if not all_scores:
        return np.zeros(0), np.zeros(0, dtype=bool), n_gt
    scores, tp = np.concatenate(all_scores), np.concatenate(all_tp)
    order = np.argsort(-scores, kind='stable')
    return scores[order], tp[order], n_gt


def precision_recall(tp: np.ndarray, n_gt: int) -> Tuple[np.ndarray, np.ndarray]:
    ctp, cfp = np.cumsum(tp), np.cumsum(~tp)
    recall = ctp / max(n_gt, 1)
    precision = ctp / np.maximum(ctp + cfp, np.finfo(np.float64).eps)
    return precision, recall


def kaggle_map(predictions: Predictions, ground_truth: GroundTruth, iou_thr: float = 0.4,
               num_classes: int = NO_FINDING_ID + 1) -> Dict[str, object]:
    """Score predictions (original pixels, class 14 included) against ground truth.

    Ground truth images without boxes are "No finding" (class 14). Predictions for images that are not in the
    ground truth are ignored (scored images are those with ground truth). Returns
    ``{'mAP': float, 'AP': {class_id: AP or nan}, 'n_gt': {class_id: int}, 'pr': {class_id: (precision, recall)}}``.
    """
    gt = add_no_finding_gt(ground_truth)
    preds = {k: v for k, v in predictions.items() if k in gt}
    ap, n_gts, curves = {}, {}, {}
    for label in range(num_classes):
        scores, tp, n_gt = match_class(preds, gt, label, iou_thr)
        precision, recall = precision_recall(tp, n_gt)
        n_gts[label] = n_gt
        ap[label] = voc_ap(recall, precision) if n_gt else float('nan')
        curves[label] = (precision, recall)
    valid = [v for k, v in ap.items() if n_gts[k] > 0]
    return dict(mAP=float(np.mean(valid)) if valid else float('nan'), AP=ap, n_gt=n_gts, pr=curves)


def no_finding_baseline(ground_truth: GroundTruth, iou_thr: float = 0.4) -> float:
    """mAP of a submission that calls every image "No finding" (``14 1 0 0 1 1``): the chance level to beat."""
    nothing = {i: (np.array([NO_FINDING_BOX]), np.array([1.0]), np.array([NO_FINDING_ID])) for i in ground_truth}
    return kaggle_map(nothing, ground_truth, iou_thr)['mAP']


def confusion_summary(predictions: Predictions, ground_truth: GroundTruth, iou_thr: float = 0.4,
                      score_thr: float = 0.3) -> Dict[int, Dict[str, int]]:
    """What happened to each ground-truth box, per class, among predictions scored >= ``score_thr``:
    ``found`` (a prediction of its class overlaps it, IoU > ``iou_thr``), ``as <class>`` (only a prediction of
    another class does; the best-overlapping one is counted), or ``missed`` (nothing there)."""
    from ..classes import ALL_CLASSES
    gt = add_no_finding_gt(ground_truth)
    summary: Dict[int, Dict[str, int]] = {}
    for img_id, (gt_boxes, gt_labels) in gt.items():
        boxes, scores, labels = predictions.get(img_id, (np.zeros((0, 4)), np.zeros(0), np.zeros(0)))
        keep = np.asarray(scores) >= score_thr
        boxes, labels = np.asarray(boxes).reshape(-1, 4)[keep], np.asarray(labels)[keep]
        iou = box_iou(gt_boxes, boxes)
        for k, label in enumerate(gt_labels.tolist()):
            row = summary.setdefault(label, {})
            hits = iou[k] > iou_thr
            if (hits & (labels == label)).any():
                outcome = 'found'
            elif hits.any():
                other = np.where(hits & (labels != label), iou[k], -1).argmax()
                outcome = f'as {ALL_CLASSES[int(labels[other])]}'
            else:
                outcome = 'missed'
            row[outcome] = row.get(outcome, 0) + 1
    return dict(sorted(summary.items()))
