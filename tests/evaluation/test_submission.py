"""Submission rows, rescaling to original pixels, and the registered metric."""
import os

import numpy as np
import pandas as pd
import pytest
import torch

from vinbig_mmdet.evaluation import (
    VinBigMetric,
    format_prediction_string,
    parse_prediction_string,
    read_submission,
    select_detections,
    to_original_pixels,
    write_submission,
)
from vinbig_mmdet.evaluation.submission import SubmissionError


def test_rescale_to_original_pixels():
    # a 50 x 60 (h x w) image that was resized from a 120 x 100 (w x h) DICOM
    out = to_original_pixels(np.array([[10, 25, 50, 40], [0, 0, 70, 70]]), (50, 60), (120, 100))
    np.testing.assert_allclose(out, [[20, 50, 100, 80], [0, 0, 120, 100]])  # second one clipped


def test_no_finding_rules():
    boxes, scores, labels = select_detections([[1, 2, 3, 4], [2, 2, 5, 5]], [0.3, 0.02], [5, 7],
                                              score_thr=0.05)
    assert labels.tolist() == [5, 14] and scores.tolist() == pytest.approx([0.3, 0.7])
    assert boxes[-1].tolist() == [0, 0, 1, 1]
    _, scores, labels = select_detections(np.zeros((0, 4)), [], [], no_finding='empty')
    assert labels.tolist() == [14] and scores.tolist() == [1.0]
    _, _, labels = select_detections([[1, 2, 3, 4]], [0.3], [5], no_finding='empty')
    assert labels.tolist() == [5]
    _, scores, _ = select_detections(np.tile([1, 2, 3, 4], (5, 1)), [.1, .5, .3, .9, .2], [1] * 5,
                                     max_per_img=2, no_finding='empty')
    assert scores.tolist() == [0.9, 0.5]


def test_prediction_string_round_trip():
    boxes, scores, labels = np.array([[10.2, 20, 30, 40.5], [0, 0, 1, 1]]), np.array([0.91234, 0.1]), [3, 14]
    text = format_prediction_string(boxes, scores, labels)
    assert text == '3 0.9123 10.2 20 30 40.5 14 0.1 0 0 1 1'
    b, s, lab = parse_prediction_string(text)
    np.testing.assert_allclose(b, boxes, atol=0.05)
    assert lab.tolist() == [3, 14]
    assert format_prediction_string(np.zeros((0, 4)), [], []) == '14 1 0 0 1 1'
    with pytest.raises(ValueError, match='line 3.*multiple of 6'):
        parse_prediction_string('3 0.5 1 2 3', 'sub.csv line 3')


@pytest.mark.parametrize('objects, problem', [
    ('3 nan 10 10 50 50', 'a value that is not a finite number'),
    ('3 0.5 10 10 inf 50', 'a value that is not a finite number'),
    ('3 1.5 10 10 50 50', r'score 1.5 is outside \[0, 1\]'),
    ('3 -0.1 10 10 50 50', r'score -0.1 is outside \[0, 1\]'),
    ('15 0.5 10 10 50 50', 'class 15 is not an integer in 0..14'),
    ('-1 0.5 10 10 50 50', 'class -1 is not an integer'),
    ('3.7 0.5 10 10 50 50', 'class 3.7 is not an integer'),
    ('3 0.5 50 10 10 50', 'x_min 50 >= x_max 10'),
    ('3 0.5 10 50 50 50', 'y_min 50 >= y_max 50'),
])
def test_every_value_is_checked_with_file_and_line(tmp_path, objects, problem):
    path = tmp_path / 'sub.csv'
    path.write_text(f'image_id,PredictionString\na,14 1 0 0 1 1\n\nb,3 0.9 1 2 3 4 {objects}\n')
    with pytest.raises(SubmissionError, match=rf'sub\.csv line 4: object 2 \(".*"\): {problem}'):
        read_submission(str(path))


def test_integral_float_class_and_empty_rows_are_accepted(tmp_path):
    path = tmp_path / 'sub.csv'
    path.write_text('image_id,PredictionString\na,3.0 0.5 10 10 50 50 14 0.5 0 0 1 1\nb,\n')
    rows = read_submission(str(path))
    assert rows['a'][2].tolist() == [3, 14] and len(rows['b'][0]) == 0
    with pytest.raises(SubmissionError, match=r'sub\.csv line 2: non-numeric'):
        parse_prediction_string('3 0.5 a b c d', 'sub.csv line 2')


def test_boxes_without_area_at_the_written_precision_are_not_written():
    boxes, _, labels = select_detections([[10, 10, 10.04, 50], [10, 10, 20, 50], [5, 5, 6, 5.01]],
                                         [0.9, 0.8, 0.7], [3, 4, 5])
    assert labels.tolist() == [4, 14]
    text = format_prediction_string(boxes, [0.8, 0.2], labels)
    assert len(parse_prediction_string(text)[0]) == 2  # what we write, we can read back


def test_write_is_atomic_and_readable(tmp_path):
    path = str(tmp_path / 'sub.csv')
    assert write_submission(path, [('a', '14 1 0 0 1 1'), ('b', '3 0.5 1 2 3 4')]) == 2
    assert set(read_submission(path)) == {'a', 'b'}

    def broken_rows():
        yield 'c', '14 1 0 0 1 1'
        raise KeyboardInterrupt  # killed half way
    with pytest.raises(KeyboardInterrupt):
        write_submission(path, broken_rows())
    assert set(read_submission(path)) == {'a', 'b'}  # the previous file is untouched
    assert os.listdir(tmp_path) == ['sub.csv']  # and no temporary file is left behind


def sample(img_id, pred, gt=None):
    boxes, scores, labels = pred
    s = dict(img_id=img_id, ori_shape=(50, 60), original_size=(120, 100),
             pred_instances=dict(bboxes=torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4),
                                 scores=torch.tensor(scores, dtype=torch.float32),
                                 labels=torch.tensor(labels)))
    if gt is not None:
        s['gt_instances'] = dict(bboxes=torch.tensor(gt[0], dtype=torch.float32).reshape(-1, 4),
                                 labels=torch.tensor(gt[1], dtype=torch.int64))
    return s


def test_metric_scores_in_original_pixels_and_writes_submission(tmp_path):
    path = str(tmp_path / 'sub.csv')
    metric = VinBigMetric(submission_file=path)
    metric.dataset_meta = dict(classes=tuple(str(i) for i in range(14)))
    metric.process({}, [sample('a', ([[10, 25, 50, 40]], [0.9], [3]), ([[10, 25, 50, 40]], [3])),
                        sample('b', ([[1, 1, 5, 5]], [0.2], [8]), ([], []))])
    result = metric.evaluate(2)
    # a: cardiomegaly found; b: normal, class 14 predicted with 1 - 0.2; a's class-14 row (0.1) is an FP below it
    assert result['vinbig/AP_Cardiomegaly'] == pytest.approx(1.0)
    assert result['vinbig/AP_No_finding'] == pytest.approx(1.0)
    assert result['vinbig/mAP'] == pytest.approx(1.0)
    rows = pd.read_csv(path).set_index('image_id')['PredictionString']
    assert rows['a'].startswith('3 0.9 20 50 100 80 ')  # original pixels
    assert rows['b'].endswith('14 0.8 0 0 1 1')


def test_metric_on_unlabelled_data_only_writes(tmp_path):
    path = str(tmp_path / 'sub.csv')
    metric = VinBigMetric(submission_file=path)
    metric.dataset_meta = {}
    metric.process({}, [sample('t1', ([], [], []))])
    assert metric.evaluate(1) == {}
    assert pd.read_csv(path)['PredictionString'].tolist() == ['14 1 0 0 1 1']
