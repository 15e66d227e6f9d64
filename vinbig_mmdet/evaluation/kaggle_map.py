"""The VinBigData competition metric: PASCAL VOC 2010 all-point AP per class at IoU > 0.4, averaged.

- Continuous coordinates: area = (x2 - x1) * (y2 - y1), no "+1 pixel".
- A detection is a true positive when its best-overlapping ground-truth box of the same class in the same image
  has IoU strictly greater than the threshold and was not matched before (VOC rules, highest score first).
- "No finding" is class 14: an image whose ground truth has no box gets one class-14 box (0, 0, 1, 1); predictions
  of class 14 (normally with that box) are scored against it like any class.
- The mean is over the classes that have ground truth.

This module is the one implementation, used by the registered metric, tools/test.py and
tools/evaluate_submission.py. It works on all images' boxes at once (linear in their number): per class, images
with one ground-truth box (the common case, and every "No finding" image) are matched with array operations,
images with several in a short loop; the result is exactly the greedy VOC matching.
"""
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from ..classes import COMPETITION_IOU_THR, DRAW_SCORE_THR, NO_FINDING_ID
from ..errors import InputError
from ..structures.boxes import box_iou, box_iou_pairs, empty_detections, greedy_match

#: The box that stands for "No finding" in ground truth and submissions.
NO_FINDING_BOX = (0.0, 0.0, 1.0, 1.0)

Boxes = np.ndarray  # (N, 4) x_min, y_min, x_max, y_max
GroundTruth = Mapping[str, Tuple[Boxes, np.ndarray]]  # image_id -> (boxes, labels)
Predictions = Mapping[str, Tuple[Boxes, np.ndarray, np.ndarray]]  # image_id -> (boxes, scores, labels)


def voc_ap(recall: np.ndarray, precision: np.ndarray) -> float:
    """Area under the interpolated precision-recall curve, all points (VOC 2010 onwards)."""
    mrec = np.concatenate([[0.0], recall, [1.0]])
    mpre = np.concatenate([[0.0], precision, [0.0]])
    mpre = np.maximum.accumulate(mpre[::-1])[::-1]  # precision envelope
    steps = np.nonzero(mrec[1:] != mrec[:-1])[0]
    return float(np.sum((mrec[steps + 1] - mrec[steps]) * mpre[steps + 1]))


def add_no_finding_gt(ground_truth: GroundTruth,
                      no_finding_id: int = NO_FINDING_ID) -> Dict[str, Tuple[Boxes, np.ndarray]]:
    """Give every image without boxes its "No finding" (class 14, or 22 with 22 classes) (0, 0, 1, 1) box."""
    out = {}
    for img_id, (boxes, labels) in ground_truth.items():
        boxes, labels = np.asarray(boxes, np.float64).reshape(-1, 4), np.asarray(labels, np.int64)
        abnormal = labels != no_finding_id
        boxes, labels = boxes[abnormal], labels[abnormal]
        if len(labels) == 0:
            boxes, labels = np.array([NO_FINDING_BOX]), np.array([no_finding_id])
        out[img_id] = (boxes, labels)
    return out


def _flatten(items: List[tuple], n_fields: int) -> Tuple[np.ndarray, List[np.ndarray]]:
    """Concatenate per-image ``(boxes, [scores,] labels)``: (image index per row, [boxes, (scores,) labels])."""
    sizes = np.fromiter((len(np.asarray(it[-1]).reshape(-1)) for it in items), dtype=np.int64, count=len(items))
    image = np.repeat(np.arange(len(items)), sizes)
    if not len(items):
        return image, [np.zeros((0, 4))] + [np.zeros(0)] * (n_fields - 1)
    fields = [np.concatenate([np.asarray(it[0], np.float64).reshape(-1, 4) for it in items])]
    fields += [np.concatenate([np.asarray(it[k]).reshape(-1) for it in items]) for k in range(1, n_fields)]
    return image, fields


def _match_sorted(img: np.ndarray, boxes: np.ndarray, gt_img: np.ndarray, gt_boxes: np.ndarray, n_images: int,
                  iou_thr: float) -> np.ndarray:
    """True-positive flags of one class's detections, given in VOC order (score descending); ``img`` and
    ``gt_img`` index images ``0..n_images - 1``."""
    tp = np.zeros(len(img), dtype=bool)
    n_gt = np.bincount(gt_img, minlength=n_images)
    first_gt = np.zeros(n_images, dtype=np.int64)
    first_gt[gt_img[::-1]] = np.arange(len(gt_img))[::-1]
    # one ground-truth box: the first detection (in score order) that overlaps it takes it
    single = n_gt[img] == 1
    rows = np.flatnonzero(single)
    hit = rows[box_iou_pairs(boxes[rows], gt_boxes[first_gt[img[rows]]]) > iou_thr]
    _, first = np.unique(img[hit], return_index=True)
    tp[hit[first]] = True
    # several: VOC's greedy rule, image by image (each detection takes its best-overlapping box if still free)
    for image in np.unique(img[n_gt[img] > 1]):
        rows = np.flatnonzero(img == image)
        tp[rows] = greedy_match(box_iou(boxes[rows], gt_boxes[gt_img == image]), iou_thr) >= 0
    return tp


def precision_recall(tp: np.ndarray, n_gt: int) -> Tuple[np.ndarray, np.ndarray]:
    ctp, cfp = np.cumsum(tp), np.cumsum(~tp)
    recall = ctp / max(n_gt, 1)
    precision = ctp / np.maximum(ctp + cfp, np.finfo(np.float64).eps)
    return precision, recall


def check_iou_thr(iou_thr, option: str = '--iou-thr') -> float:
    """An IoU threshold is a number in (0, 1]: 2 or nan would score every detection as a miss (mAP 0)."""
    try:
        value = float(iou_thr)
    except (TypeError, ValueError):
        value = float('nan')
    if not 0 < value <= 1:  # also false for nan
        raise InputError(f'{option} {iou_thr!r}: an IoU threshold is a number in (0, 1] (the competition scores at '
                         f'{COMPETITION_IOU_THR}); give one in that range')
    return value


def kaggle_map(predictions: Predictions, ground_truth: GroundTruth, iou_thr: float = COMPETITION_IOU_THR,
               num_classes: int = NO_FINDING_ID + 1) -> Dict[str, object]:
    """Score predictions (original pixels, class 14 included) against ground truth. With another class set,
    ``num_classes`` counts its classes plus "No finding", which is the last id (``num_classes - 1``).

    Ground truth images without boxes are "No finding" (class 14). Predictions for images that are not in the
    ground truth are ignored (scored images are those with ground truth). Returns
    ``{'mAP': float, 'AP': {class_id: AP or nan}, 'n_gt': {class_id: int}, 'pr': {class_id: (precision, recall)},
    'iou_thr': iou_thr}`` (the overlap it was scored at travels with it, to the plots' titles).
    """
    iou_thr = check_iou_thr(iou_thr, 'iou_thr (--iou-thr)')
    gt = add_no_finding_gt(ground_truth, num_classes - 1)
    index = {img_id: k for k, img_id in enumerate(gt)}
    scored = [img_id for img_id in predictions if img_id in index]  # VOC ties: the predictions' order
    gt_img, (gt_boxes, gt_labels) = _flatten(list(gt.values()), 2)
    img, (boxes, scores, labels) = _flatten([predictions[i] for i in scored], 3)
    img = np.array([index[i] for i in scored], dtype=np.int64)[img] if len(scored) else img
    scores, labels = scores.astype(np.float64), labels.astype(np.int64)
    order = np.argsort(-scores, kind='stable')  # VOC order; ties in the predictions' order (image, position)
    img, boxes, scores, labels = img[order], boxes[order], scores[order], labels[order]
    ap, n_gts, curves = {}, {}, {}
    for label in range(num_classes):
        mine, gt_mine = labels == label, gt_labels == label
        n_gt = int(gt_mine.sum())
        tp = _match_sorted(img[mine], boxes[mine], gt_img[gt_mine], gt_boxes[gt_mine], len(gt), iou_thr)
        precision, recall = precision_recall(tp, n_gt)
        n_gts[label] = n_gt
        ap[label] = voc_ap(recall, precision) if n_gt else float('nan')
        curves[label] = (precision, recall)
    valid = [v for k, v in ap.items() if n_gts[k] > 0]
    return dict(mAP=float(np.mean(valid)) if valid else float('nan'), AP=ap, n_gt=n_gts, pr=curves, iou_thr=iou_thr)


def no_finding_baseline(ground_truth: GroundTruth, iou_thr: float = COMPETITION_IOU_THR) -> float:
    """mAP of a submission that calls every image "No finding" (``14 1 0 0 1 1``): the chance level to beat."""
    nothing = {i: (np.array([NO_FINDING_BOX]), np.array([1.0]), np.array([NO_FINDING_ID])) for i in ground_truth}
    return kaggle_map(nothing, ground_truth, iou_thr)['mAP']


def confusion_summary(predictions: Predictions, ground_truth: GroundTruth, iou_thr: float = COMPETITION_IOU_THR,
                      score_thr: float = DRAW_SCORE_THR, names: Optional[Sequence[str]] = None
                      ) -> Dict[int, Dict[str, int]]:
    """What happened to each ground-truth box, per class, among predictions scored >= ``score_thr``:
    ``found`` (a prediction of its class overlaps it, IoU > ``iou_thr``), ``as <class>`` (only a prediction of
    another class does; the best-overlapping one is counted), or ``missed`` (nothing there)."""
    from ..classes import ALL_CLASSES
    names = tuple(names or ALL_CLASSES)  # the class set's names, "No finding" last
    gt = add_no_finding_gt(ground_truth, len(names) - 1)
    summary: Dict[int, Dict[str, int]] = {}
    for img_id, (gt_boxes, gt_labels) in gt.items():
        boxes, scores, labels = predictions[img_id] if img_id in predictions else empty_detections()
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
                outcome = f'as {names[int(labels[other])]}'
            else:
                outcome = 'missed'
            row[outcome] = row.get(outcome, 0) + 1
    return dict(sorted(summary.items()))
