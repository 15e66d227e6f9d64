import numpy as np
import pytest

from vinbig_mmdet.structures.boxes import (
    BOX_COLUMNS,
    box_area,
    box_iou,
    box_iou_pairs,
    empty_detections,
    empty_ground_truth,
    greedy_match,
)

SQUARE = [0, 0, 10, 10]


def test_iou_of_known_boxes_in_continuous_coordinates():
    iou = box_iou([SQUARE], [[0, 0, 5, 10], [5, 5, 15, 15], [20, 20, 30, 30], SQUARE])
    assert iou.shape == (1, 4)
    assert iou[0].tolist() == pytest.approx([0.5, 25 / 175, 0.0, 1.0])  # +1 pixel convention would give 0.545


def test_pairwise_iou_equals_the_diagonal_of_the_matrix():
    rng = np.random.default_rng(0)
    xy = rng.uniform(0, 50, (20, 2))
    a = np.c_[xy, xy + rng.uniform(1, 30, (20, 2))]
    b = a[::-1] + rng.uniform(-5, 5, (20, 4))
    np.testing.assert_allclose(box_iou_pairs(a, b), np.diag(box_iou(a, b)))


def test_degenerate_and_empty_boxes():
    assert box_area([[5, 5, 3, 8]]).tolist() == [0.0]
    assert box_iou([[5, 5, 5, 5]], [[5, 5, 5, 5]]).tolist() == [[0.0]]  # no 0/0
    assert box_iou(np.zeros((0, 4)), [SQUARE]).shape == (0, 1)
    assert box_iou([SQUARE], []).shape == (1, 0)
    assert box_iou_pairs([], []).shape == (0,)


def test_greedy_match_rows_in_order_take_their_best_free_column():
    iou = np.array([[0.9, 0.5],   # first row takes column 0
                    [0.8, 0.7],   # its best (0) is taken: no fall back to column 1 (VOC)
                    [0.1, 0.6]])  # takes column 1
    assert greedy_match(iou, 0.4).tolist() == [0, -1, 1]
    assert greedy_match(iou[[1, 0, 2]], 0.4).tolist() == [0, -1, 1]  # order decides, not the IoU


def test_greedy_match_threshold_is_strict_and_ties_go_to_the_first_column():
    assert greedy_match(np.array([[0.4, 0.4]]), 0.4).tolist() == [-1]
    assert greedy_match(np.array([[0.6, 0.6], [0.6, 0.6]]), 0.4).tolist() == [0, -1]


def test_greedy_match_empty_inputs():
    assert greedy_match(np.zeros((0, 3)), 0.4).tolist() == []
    assert greedy_match(np.zeros((2, 0)), 0.4).tolist() == [-1, -1]


def test_empty_tuples_have_the_shapes_and_types_callers_concatenate():
    boxes, scores, labels = empty_detections()
    assert (boxes.shape, scores.shape, labels.dtype) == ((0, 4), (0,), np.int64)
    boxes, labels = empty_ground_truth()
    assert (boxes.shape, labels.dtype) == ((0, 4), np.int64)
    empty_detections()[0].resize((1, 4))  # each call is a fresh array: a caller cannot spoil the next one
    assert empty_detections()[0].shape == (0, 4)


def test_box_columns_are_kaggles():
    assert BOX_COLUMNS == ['x_min', 'y_min', 'x_max', 'y_max']
