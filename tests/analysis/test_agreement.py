"""Reader-vs-readers mAP: one reader per image against the other readers, unfused, at one confidence."""
import numpy as np
import pytest

from tests.helpers import write_csv
from vinbig_mmdet.analysis.agreement import (
    format_reader_map,
    reader_orders,
    reader_vs_readers_map,
    single_threshold_map,
)
from vinbig_mmdet.datasets.annotations import read_annotations


def readers(image, *boxes_by_reader):
    """Rows of one image: (rad_id, class_id, box or None for "No finding")."""
    from vinbig_mmdet.classes import ALL_CLASSES
    return [(image, ALL_CLASSES[c], c, r, *(box if box is not None else (None,) * 4))
            for r, c, box in boxes_by_reader]


def test_unanimous_readers_score_half_per_finding_and_one_for_no_finding(tmp_path):
    box = (10, 10, 50, 50)
    rows = (readers('a', ('R1', 3, box), ('R2', 3, box), ('R3', 3, box))
            + readers('b', ('R1', 14, None), ('R2', 14, None), ('R3', 14, None)))
    result = reader_vs_readers_map(read_annotations(write_csv(tmp_path / 't.csv', rows)))
    # every round: the reader's one box matches one of the two others' boxes (precision 1, recall 1/2);
    # "No finding" on b is matched exactly (AP 1); the mean is over the classes with ground truth
    assert result['rounds'] == pytest.approx([0.75, 0.75, 0.75])
    assert result['AP'][3] == pytest.approx(0.5) and result['AP'][14] == 1.0
    assert np.isnan(result['AP'][0])
    assert result['n_images'] == 2 and result['n_skipped'] == 0


def test_each_round_scores_a_different_reader_of_every_image(tmp_path):
    # R1 alone draws a box elsewhere: the round that scores R1 gets 0 for that class, the other rounds
    # get precision 1/1, recall 1/2
    rows = readers('a', ('R1', 5, (100, 100, 150, 150)), ('R2', 5, (0, 0, 40, 40)), ('R3', 5, (0, 0, 40, 40)))
    ann = read_annotations(write_csv(tmp_path / 't.csv', rows))
    order = reader_orders(ann, seed=0)['a'].tolist()
    assert sorted(order) == ['R1', 'R2', 'R3']
    result = reader_vs_readers_map(ann, seed=0)
    expected = [0.0 if reader == 'R1' else 0.5 for reader in order]
    assert result['rounds'] == pytest.approx(expected)
    assert result['mAP'] == pytest.approx(1 / 3)
    again = reader_vs_readers_map(ann, seed=0)  # reproducible
    assert again['rounds'] == result['rounds'] and again['AP'][5] == result['AP'][5]


def test_class_disagreement_and_single_readers(tmp_path):
    box = (0, 0, 40, 40)
    rows = (readers('a', ('R1', 5, box), ('R2', 13, box), ('R3', 13, box))  # ILD vs Pulmonary fibrosis
            + readers('lonely', ('R4', 0, box)))
    result = reader_vs_readers_map(read_annotations(write_csv(tmp_path / 't.csv', rows)))
    assert result['n_images'] == 1 and result['n_skipped'] == 1
    assert 'skipped' in format_reader_map(result)
    # R1 scored: ILD has no ground truth, fibrosis 2 boxes unmatched -> 0. R2 or R3 scored: fibrosis 1 of 1
    # matched (P 1, R 1) but ILD's box unmatched (R 0): (1 + 0) / 2
    assert sorted(result['rounds']) == pytest.approx([0.0, 0.5, 0.5])


def test_single_threshold_map_does_not_depend_on_image_order():
    truth = {'a': (np.array([[0, 0, 10, 10.]]), np.array([2])), 'b': (np.array([[0, 0, 10, 10.]]), np.array([2])),
             'c': (np.zeros((0, 4)), np.zeros(0, np.int64))}
    hit = (np.array([[0, 0, 10, 10.]]), np.ones(1), np.array([2]))
    miss = (np.array([[50, 50, 60, 60.]]), np.ones(1), np.array([2]))
    preds = {'a': miss, 'b': hit, 'c': miss}
    result = single_threshold_map(preds, truth)
    assert result['AP'][2] == pytest.approx(1 / 3 * 1 / 2)  # precision 1/3, recall 1/2
    assert result['AP'][14] == 0.0  # "No finding" on c was not predicted
    reordered = single_threshold_map(dict(reversed(list(preds.items()))), truth)
    assert reordered['mAP'] == result['mAP'] and reordered['AP'][2] == result['AP'][2]
