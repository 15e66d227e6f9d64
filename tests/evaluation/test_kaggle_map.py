"""The competition metric on hand-computed cases."""
import numpy as np
import pytest

from vinbig_mmdet.evaluation import box_iou, kaggle_map, voc_ap

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
