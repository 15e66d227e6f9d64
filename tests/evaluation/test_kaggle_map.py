"""The competition metric on hand-computed cases."""
import numpy as np
import pytest

from vinbig_mmdet.evaluation import kaggle_map, voc_ap
from vinbig_mmdet.structures.boxes import box_iou

GT_BOX = [0, 0, 10, 10]


def det(*items):
    """(box, score, label) triples -> (boxes, scores, labels)."""
    if not items:
        return np.zeros((0, 4)), np.zeros(0), np.zeros(0, np.int64)
    boxes, scores, labels = zip(*items)
    return np.array(boxes, float), np.array(scores, float), np.array(labels)


def gt(*items):
    if not items:
        return np.zeros((0, 4)), np.zeros(0, np.int64)
    boxes, labels = zip(*items)
    return np.array(boxes, float), np.array(labels)


def test_iou_continuous_coordinates():
    assert box_iou([GT_BOX], [[0, 0, 5, 10]])[0, 0] == pytest.approx(0.5)  # +1 pixel convention: 0.545
    assert box_iou([GT_BOX], [[20, 20, 30, 30]])[0, 0] == 0


def test_perfect():
    truth = {'a': gt((GT_BOX, 0)), 'b': gt(([5, 5, 50, 60], 0), ([1, 1, 3, 3], 8))}
    preds = {'a': det((GT_BOX, 0.9, 0)), 'b': det(([5, 5, 50, 60], 0.8, 0), ([1, 1, 3, 3], 0.1, 8))}
    result = kaggle_map(preds, truth)
    assert result['mAP'] == pytest.approx(1.0)
    assert result['n_gt'][0] == 2 and result['n_gt'][8] == 1 and np.isnan(result['AP'][5])


@pytest.mark.parametrize('pred_box, expected', [
    ([0, 0, 5, 10], 1.0),    # IoU 0.5: above the threshold
    ([0, 0, 4, 10], 0.0),    # IoU exactly 0.4: not "> 0.4" (with +1 pixels it would be 0.45)
    ([0, 0, 3, 10], 0.0),    # IoU 0.3
])
def test_overlap_threshold_is_strict(pred_box, expected):
    result = kaggle_map({'a': det((pred_box, 0.9, 2))}, {'a': gt((GT_BOX, 2))})
    assert result['AP'][2] == pytest.approx(expected)


def test_wrong_class_does_not_match():
    assert kaggle_map({'a': det((GT_BOX, 0.9, 3))}, {'a': gt((GT_BOX, 2))})['mAP'] == 0


def test_duplicates_and_all_point_interpolation():
    # a: one GT, detected twice (0.9 TP, 0.8 FP duplicate); b: one GT detected at 0.7 (TP)
    # precision 1, 1/2, 2/3 at recall 1/2, 1/2, 1 -> all-point AP = 0.5 * 1 + 0.5 * 2/3
    # (11-point VOC 2007 would give 0.848)
    truth = {'a': gt((GT_BOX, 1)), 'b': gt((GT_BOX, 1))}
    preds = {'a': det((GT_BOX, 0.9, 1), ([1, 0, 10, 10], 0.8, 1)), 'b': det((GT_BOX, 0.7, 1))}
    assert kaggle_map(preds, truth)['AP'][1] == pytest.approx(0.5 + 0.5 * 2 / 3)


def test_misses_halve_the_recall():
    truth = {'a': gt((GT_BOX, 4), ([20, 20, 40, 40], 4))}
    assert kaggle_map({'a': det((GT_BOX, 0.9, 4))}, truth)['AP'][4] == pytest.approx(0.5)


def test_one_gt_cannot_be_matched_twice_and_best_overlap_wins():
    # the higher-scored box takes the GT; the second box's best overlap is that same GT -> FP (VOC rule)
    truth = {'a': gt((GT_BOX, 0), ([8, 0, 18, 10], 0))}
    preds = {'a': det(([0, 0, 9, 10], 0.9, 0), ([1, 0, 10, 10], 0.8, 0))}
    result = kaggle_map(preds, truth)
    assert result['AP'][0] == pytest.approx(0.5)


def test_no_finding_is_class_14_on_a_0_0_1_1_box():
    truth = {'n1': gt(), 'n2': gt(), 'ab': gt((GT_BOX, 0))}
    nf = [0, 0, 1, 1]
    preds = {'n1': det((nf, 0.9, 14)), 'ab': det((nf, 0.8, 14), (GT_BOX, 0.9, 0)), 'n2': det((nf, 0.6, 14))}
    result = kaggle_map(preds, truth)
    assert result['n_gt'][14] == 2
    assert result['AP'][14] == pytest.approx(0.5 + 0.5 * 2 / 3)
    assert result['AP'][0] == pytest.approx(1.0)
    assert result['mAP'] == pytest.approx((1.0 + 0.5 + 0.5 * 2 / 3) / 2)


def test_empty_predictions_score_zero():
    truth = {'a': gt((GT_BOX, 0)), 'b': gt()}
    result = kaggle_map({'a': det(), 'b': det()}, truth)
    assert result['mAP'] == 0 and result['AP'][0] == 0 and result['AP'][14] == 0


def test_images_without_ground_truth_are_ignored():
    truth = {'a': gt((GT_BOX, 0))}
    preds = {'a': det((GT_BOX, 0.5, 0)), 'other': det((GT_BOX, 0.9, 0))}
    assert kaggle_map(preds, truth)['mAP'] == pytest.approx(1.0)


def test_voc_ap_edges():
    assert voc_ap(np.array([]), np.array([])) == 0
    assert voc_ap(np.array([0.5, 1.0]), np.array([1.0, 1.0])) == pytest.approx(1.0)


def reference_ap(predictions, ground_truth, label, iou_thr=0.4):
    """VOC AP of one class the plain way: every detection in score order, greedy matching, no shortcuts."""
    from vinbig_mmdet.evaluation.kaggle_map import add_no_finding_gt, precision_recall
    gt = add_no_finding_gt(ground_truth)
    flat = [(img_id, b, s, k) for img_id, (boxes, scores, labels) in predictions.items() if img_id in gt
            for k, (b, s, lab) in enumerate(zip(boxes, scores, labels)) if lab == label]
    flat.sort(key=lambda d: -d[2])  # stable: ties keep the predictions' order
    taken = {img_id: np.zeros(len(b), bool) for img_id, (b, _) in gt.items()}
    tp = []
    for img_id, box, _, _ in flat:
        boxes, labels = gt[img_id]
        iou = np.where(labels == label, box_iou([box], boxes)[0], -1) if len(boxes) else np.zeros(0)
        j = int(iou.argmax()) if len(iou) else -1
        hit = j >= 0 and iou[j] > iou_thr and not taken[img_id][j]
        if hit:
            taken[img_id][j] = True
        tp.append(hit)
    n_gt = sum(int((lab == label).sum()) for _, lab in gt.values())
    precision, recall = precision_recall(np.array(tp, bool), n_gt)
    return voc_ap(recall, precision) if n_gt else float('nan')


def test_vectorised_matching_equals_the_plain_greedy_rule():
    rng = np.random.default_rng(5)
    for _ in range(20):
        truth, preds = {}, {}
        for i in range(int(rng.integers(1, 30))):
            k = int(rng.integers(0, 5))  # 0 (No finding), 1 (the fast path) or several boxes
            xy = rng.uniform(0, 100, (k, 2))
            boxes = np.concatenate([xy, xy + rng.uniform(5, 40, (k, 2))], axis=1)
            truth[f'i{i}'] = (boxes, rng.integers(0, 3, k))
            m = int(rng.integers(0, 6))
            near = np.repeat(boxes[:m], 2, axis=0)  # two detections per found box: one must be a false positive
            pred = np.concatenate([near + rng.normal(0, 4, near.shape),
                                   rng.uniform(0, 60, (max(m - k, 0), 4)) + [0, 0, 40, 40], [[0, 0, 1, 1]]])
            scores = np.round(rng.uniform(0, 1, len(pred)), 1)  # many ties
            labels = np.concatenate([rng.integers(0, 3, len(pred) - 1), [14]])
            preds[f'i{i}'] = (pred, scores, labels)
        result = kaggle_map(preds, truth)
        for label in (0, 1, 2, 14):
            expected = reference_ap(preds, truth, label)
            assert np.isnan(expected) == np.isnan(result['AP'][label])
            if not np.isnan(expected):
                assert result['AP'][label] == pytest.approx(expected, abs=1e-12)
