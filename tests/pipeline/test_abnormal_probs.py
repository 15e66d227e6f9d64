"""Several --abnormal-probs files (one per classifier fold) are averaged; files of other images are refused; the
ensemble's tuned weights are written and read back (--save-tuned / --tuned)."""
import json

import pandas as pd
import pytest

from tests.helpers import call_tool, refused
from vinbig_mmdet.errors import InputError
from vinbig_mmdet.evaluation import read_submission, write_submission
from vinbig_mmdet.evaluation.submission import average_abnormal_probabilities


def probs(path, rows):
    pd.DataFrame(rows, columns=['image_id', 'prob']).to_csv(path, index=False)
    return str(path)


def test_average_of_several_files(tmp_path):
    a = probs(tmp_path / 'a.csv', [('x', 0.2), ('y', 1.0)])
    b = probs(tmp_path / 'b.csv', [('y', 0.5), ('x', 0.4)])
    assert average_abnormal_probabilities([a, b]) == pytest.approx({'x': 0.3, 'y': 0.75})
    assert average_abnormal_probabilities(a) == {'x': 0.2, 'y': 1.0}


def test_files_of_other_images_are_named(tmp_path):
    a = probs(tmp_path / 'a.csv', [('x', 0.2), ('y', 1.0), ('z', 0.1)])
    b = probs(tmp_path / 'b.csv', [('x', 0.4)])
    with pytest.raises(InputError, match=r'b\.csv has no probability for 2 image\(s\).*\'y\', \'z\''):
        average_abnormal_probabilities([a, b])


def test_ensemble_filters_with_averaged_probs_and_tuned_weights(tmp_path):
    sub = str(tmp_path / 'sub.csv')
    write_submission(sub, [('x', '3 0.9 10 10 50 50'), ('y', '0 0.8 5 5 20 20')])
    truth = tmp_path / 'train.csv'
    pd.DataFrame([('x', 'Cardiomegaly', 3, 'R1', 10, 10, 50, 50), ('y', 'No finding', 14, 'R1', None, None, None,
                                                                    None)],
                 columns=['image_id', 'class_name', 'class_id', 'rad_id', 'x_min', 'y_min', 'x_max',
                          'y_max']).to_csv(truth, index=False)
    tuned = tmp_path / 'tuned.json'
    call_tool('tools/ensemble.py', sub, sub, '--tune', '--ground-truth', truth, '--tune-weights', 0, 1,
              '--save-tuned', tuned)
    saved = json.loads(tuned.read_text())
    assert set(saved) >= {'weights', 'iou_thr', 'oof_map'} and len(saved['weights']) == 2
    a = probs(tmp_path / 'a.csv', [('x', 0.99), ('y', 0.0)])
    b = probs(tmp_path / 'b.csv', [('x', 0.97), ('y', 0.1)])
    out = tmp_path / 'out.csv'
    call_tool('tools/ensemble.py', sub, sub, '--tuned', tuned, '--abnormal-probs', a, b, '--out', out)
    fused = read_submission(str(out))
    assert list(fused['y'][2]) == [14]  # mean 0.05 < FILTER_LOW: "No finding" only
    assert 3 in list(fused['x'][2])
    short = probs(tmp_path / 'short.csv', [('x', 0.5)])
    refused(call_tool('tools/ensemble.py', sub, '--out', out, '--abnormal-probs', a, short, check=False),
            'short.csv', "'y'")
    refused(call_tool('tools/ensemble.py', sub, '--out', out, '--tuned', tuned, check=False), '2 weights for 1')


def test_metric_of_tools_test_averages_several_files(tmp_path):
    """tools/test.py --abnormal-probs A B: VinBigMetric's filter reads the list and averages."""
    import numpy as np

    from vinbig_mmdet.evaluation import VinBigMetric
    a = probs(tmp_path / 'a.csv', [('x', 0.0), ('y', 1.0)])
    b = probs(tmp_path / 'b.csv', [('x', 0.1), ('y', 0.98)])
    out = tmp_path / 'sub.csv'
    metric = VinBigMetric(submission_file=str(out), two_class_filter=dict(probs=[a, b], low=0.08, high=0.95))
    det = (np.array([[1.0, 1, 5, 5]]), np.array([0.9]), np.array([3]))
    metric.compute_metrics([('x', det, None), ('y', det, None)])
    sub = read_submission(str(out))
    assert list(sub['x'][2]) == [14] and list(sub['y'][2]) == [3]  # x: mean 0.05 -> normal; y: 0.99 -> kept
    short = probs(tmp_path / 'short.csv', [('x', 0.5)])
    metric.two_class_filter = dict(probs=[a, short])
    with pytest.raises(InputError, match='short.csv'):
        metric.compute_metrics([('x', det, None), ('y', det, None)])
