"""Ensembling submissions with WBF, and the image-level 2-class filter."""
import numpy as np
import pytest

from tests.helpers import write_csv
from vinbig_mmdet.evaluation.ensemble import ensemble_submissions
from vinbig_mmdet.evaluation.submission import filter_submission, read_abnormal_probabilities, two_class_filter


def det(*items):
    boxes, scores, labels = zip(*items)
    return np.array(boxes, float), np.array(scores, float), np.array(labels)


def test_two_class_filter_three_regimes():
    d = det(([10, 10, 50, 50], 0.9, 3), ([0, 0, 1, 1], 0.1, 14))
    boxes, scores, labels = two_class_filter(d, 0.05)
    assert labels.tolist() == [14] and scores.tolist() == [1.0] and boxes.tolist() == [[0, 0, 1, 1]]
    boxes, scores, labels = two_class_filter(d, 0.6)
    assert labels.tolist() == [3, 14] and scores.tolist() == pytest.approx([0.9, 0.4])  # 14 replaced by 1 - p
    boxes, scores, labels = two_class_filter(d, 0.97)
    assert labels.tolist() == [3, 14] and scores.tolist() == pytest.approx([0.9, 0.1])  # untouched
    assert two_class_filter(d, 0.08)[2].tolist() == [3, 14]  # the low threshold itself keeps detections


def test_probabilities_csv(tmp_path):
    path = write_csv(tmp_path / 'p.csv', [('a', 0.2), ('b', 0.99)], ['image_id', 'prob'])
    assert read_abnormal_probabilities(path) == {'a': 0.2, 'b': 0.99}
    bad = write_csv(tmp_path / 'bad.csv', [('a', 0.2), ('b', 1.5)], ['image_id', 'prob'])
    with pytest.raises(ValueError, match=r'bad\.csv.*line\(s\) \[3\]'):
        read_abnormal_probabilities(bad)
    with pytest.raises(ValueError, match='no abnormality probability for 1 image'):
        filter_submission({'a': det(([1, 1, 2, 2], .5, 1)), 'c': det(([1, 1, 2, 2], .5, 1))},
                          read_abnormal_probabilities(path), where='p.csv')


def test_ensemble_fuses_agreeing_boxes_and_keeps_disagreeing_ones():
    a = {'img': det(([100, 100, 200, 200], 0.8, 3), ([0, 0, 1, 1], 0.2, 14))}
    b = {'img': det(([110, 100, 210, 200], 0.6, 3), ([500, 500, 550, 560], 0.5, 8), ([0, 0, 1, 1], 0.4, 14))}
    fused = ensemble_submissions([a, b], iou_thr=0.4, sizes={'img': (1000, 800)})
    boxes, scores, labels = fused['img']
    by_label = {int(lab): (b_, s) for b_, s, lab in zip(boxes, scores, labels)}
    np.testing.assert_allclose(by_label[3][0], [104.3, 100, 204.3, 200], atol=0.1)  # score-weighted mean
    assert by_label[3][1] == pytest.approx(0.7)   # mean score, both models found it
    assert by_label[8][1] == pytest.approx(0.25)  # one model of two: score halved
    np.testing.assert_allclose(by_label[14][0], [0, 0, 1, 1], atol=1e-6)
    # without sizes: normalised by the boxes' extent, same result
    again = ensemble_submissions([a, b], iou_thr=0.4)['img']
    np.testing.assert_allclose(np.sort(again[0], axis=0), np.sort(boxes, axis=0), atol=1e-6)


def test_ensemble_weights_and_missing_images():
    a = {'x': det(([10, 10, 20, 20], 1.0, 1))}
    b = {'y': det(([10, 10, 20, 20], 1.0, 1))}
    fused = ensemble_submissions([a, b], weights=[3, 1])
    assert set(fused) == {'x', 'y'}
    assert fused['x'][1][0] == pytest.approx(0.75) and fused['y'][1][0] == pytest.approx(0.25)
    with pytest.raises(ValueError, match='2 weights for 1'):
        ensemble_submissions([a], weights=[1, 2])


def test_fused_scores_stay_a_valid_submission():
    # one submission with several boxes in a cluster and a large weight: WBF alone gives 1.35
    a = {'x': det(([10, 10, 20, 20], 0.9, 1), ([10, 10, 20.5, 20], 0.9, 1), ([10, 10, 20.2, 20], 0.9, 1))}
    b = {'x': det(([100, 100, 200, 200], 0.5, 2))}
    boxes, scores, labels = ensemble_submissions([a, b], weights=[3, 1])['x']
    assert scores.max() == 1.0 and (scores >= 0).all()
    from vinbig_mmdet.evaluation.submission import format_prediction_string, parse_prediction_string
    parse_prediction_string(format_prediction_string(boxes, scores, labels))  # passes the checks


@pytest.mark.parametrize('kwargs, message', [
    (dict(iou_thr=4), r'iou_thr=4 is not a number in \(0, 1\]'),
    (dict(iou_thr=0), r'iou_thr=0 is not a number in \(0, 1\]'),
    (dict(skip_box_thr=1.0), r'skip_box_thr=1.0 is not a number in \[0, 1\)'),
    (dict(weights=[1, -1]), 'weights must be positive'),
])
def test_ensemble_options_are_checked(kwargs, message):
    from vinbig_mmdet.errors import InputError
    a = {'x': det(([10, 10, 20, 20], 1.0, 1))}
    with pytest.raises(InputError, match=message):
        ensemble_submissions([a, a], **kwargs)


def test_one_submission_is_not_fused_with_itself():
    """WBF of a single source would merge its own overlapping boxes: a model "ensembled" alone (a tuning trial
    with one non-zero weight, or fold files of one model) must score as that model."""
    a = {'x': det(([10, 10, 60, 60], 0.9, 3), ([12, 12, 62, 62], 0.8, 3), ([0, 0, 1, 1], 0.1, 14))}
    boxes, scores, labels = ensemble_submissions([a])['x']
    assert boxes.tolist() == a['x'][0].tolist() and labels.tolist() == [3, 3, 14]
    assert scores.tolist() == pytest.approx([0.9, 0.8, 0.1])
    assert len(ensemble_submissions([a, a])['x'][0]) == 2  # two sources: the overlapping pair is fused
