import numpy as np
import pytest

from vinbig_mmdet.analysis.report import image_quality


def test_image_quality_matches_like_the_metric():
    gt = (np.array([[0, 0, 10, 10], [20, 20, 30, 30]], float), np.array([0, 0]))
    # the higher-scored box takes the first gt box; the lower-scored one overlaps only that box, so it is a
    # false positive (VOC: no second chance); a box of another class never matches
    det = (np.array([[1, 0, 10, 10], [0, 0, 10, 10], [20, 20, 30, 30]], float), np.array([0.5, 0.9, 0.8]),
           np.array([0, 0, 3]))
    tp, fp, fn = 1, 2, 1
    assert image_quality(gt, det) == pytest.approx(2 * tp / (2 * tp + fp + fn))
    assert image_quality(gt, det, score_thr=0.85) == pytest.approx(2 / 3)  # one box kept: tp 1, fn 1
    assert image_quality((np.zeros((0, 4)), np.zeros(0, np.int64)), det, score_thr=0.95) == 0
